#pragma once
// The Datasets area: the dataset list with each dataset's version history on the left; on the right the open
// version as a table with a column profile beside it, a summary of all columns, the diff view and the
// validation view. Loading the catalog, opening versions and importing run as tasks.

#include "catalogmodel.h"
#include "workspacejobs.h"

#include <QWidget>

#include <optional>

class QLabel;
class QSortFilterProxyModel;
class QSplitter;
class QStackedWidget;
class QTabWidget;
class QTableView;
class QTreeView;

namespace keel::ui {

class ColumnSummaryModel;
class DataTableWidget;
class DiffView;
class EmptyState;
class ProfilePanel;
class TaskManager;
class ValidationView;

/// The dataset browser. UI thread only; `tasks` must outlive it.
class DatasetsArea : public QWidget {
    Q_OBJECT
public:
    enum Tab { TableTab, ColumnsTab, DiffTab, ValidationTab };

    explicit DatasetsArea(TaskManager *tasks, QWidget *parent = nullptr);
    ~DatasetsArea() override;

    /// Shows the workspace whose catalog was just loaded (empty root: no workspace).
    void setCatalog(const jobs::Catalog &catalog);
    /// Reloads the catalog of the current workspace, then selects `selectRef` when given.
    void refresh(const QString &selectRef = {});
    /// Opens a version ("name@vN") as a task; the table, profile and validation views follow it.
    void openVersion(const QString &ref);
    /// Imports a file as a new version (a task); on success refreshes and opens the new version.
    quint64 startImport(const jobs::ImportRequest &request);

    QString root() const { return m_root; }
    const std::vector<workspace::RemoteInfo> &remotes() const { return m_remotes; }
    /// The open version, if any.
    const std::optional<workspace::DatasetVersion> &currentVersion() const { return m_version; }

    DatasetCatalogModel *catalogModel() const { return m_catalog; }
    QTreeView *catalogView() const { return m_tree; }
    DataTableWidget *tableWidget() const { return m_table; }
    ProfilePanel *profilePanel() const { return m_profile; }
    ProfilePanel *columnsProfilePanel() const { return m_columnsProfile; }
    ColumnSummaryModel *columnSummaryModel() const { return m_summaryModel; }
    QTableView *columnSummaryView() const { return m_summaryView; }
    DiffView *diffView() const { return m_diff; }
    ValidationView *validationView() const { return m_validation; }
    QTabWidget *tabs() const { return m_tabs; }

    /// Shows the profile of a column of the open version in both profile panels.
    void showColumnProfile(int column);

signals:
    void catalogLoaded();
    void versionOpened(const QString &ref);
    /// An import ended: ok, and the version ref or the error text.
    void importFinished(bool ok, const QString &message);
    void statusMessage(const QString &text);
    void importRequested();
    void openWorkspaceRequested();
    void newWorkspaceRequested();
    void exampleWorkspaceRequested();

private:
    void onCatalogSelection();
    void showVersionHeader();

    TaskManager *m_tasks;
    QString m_root;
    std::vector<workspace::RemoteInfo> m_remotes;
    std::optional<workspace::DatasetVersion> m_version;
    QString m_pendingSelect;

    QStackedWidget *m_stack;
    EmptyState *m_noWorkspace;
    DatasetCatalogModel *m_catalog;
    QTreeView *m_tree;
    QStackedWidget *m_rightStack;
    EmptyState *m_noVersion;
    QLabel *m_header;
    QTabWidget *m_tabs;
    DataTableWidget *m_table;
    ProfilePanel *m_profile;
    ColumnSummaryModel *m_summaryModel;
    QSortFilterProxyModel *m_summarySorted;
    QTableView *m_summaryView;
    ProfilePanel *m_columnsProfile;
    DiffView *m_diff;
    ValidationView *m_validation;
};

} // namespace keel::ui
