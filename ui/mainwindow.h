#pragma once
// The workbench's main window: a navigator over the product's areas (Datasets, Experiments, Models,
// Pipelines, Deployments, Monitoring, Audit), the task dock, menus with standard shortcuts, recent workspaces, drag and drop
// of data files, and window/dock/splitter state kept across restarts.

#include "theme.h"

#include <QHash>
#include <QMainWindow>
#include <QPointer>

class QActionGroup;
class QDockWidget;
class QLabel;
class QListWidget;
class QMenu;
class QSplitter;
class QStackedWidget;

namespace keel::ui {

class AuditView;
class DeploymentsArea;
class MonitoringArea;
class PipelinesArea;
class DatasetsArea;
class ExplainArea;
class ModelsArea;
class EmptyState;
class ExperimentsArea;
class ImportDialog;
class TaskDockWidget;
class TaskManager;

/// The main window. UI thread only.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    enum Area { Datasets, Experiments, Models, Pipelines, Deployments, Monitoring, Audit, AreaCount };

    /// With `useSettings` false the window neither restores nor saves QSettings (screenshots, tests).
    explicit MainWindow(bool useSettings = true, QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Opens the workspace containing `dir` (a task); emits workspaceOpened or workspaceFailed.
    void openWorkspace(const QString &dir);
    /// Creates an empty workspace in `dir` and opens it.
    void createWorkspace(const QString &dir);
    /// Creates a workspace with the bundled example datasets in `dir` and opens it.
    void createExampleWorkspace(const QString &dir);
    void closeWorkspace();
    QString workspaceRoot() const { return m_root; }

    /// Opens the (non-modal) import dialog, preset to `file` when given. Accepting it starts the import task.
    ImportDialog *showImportDialog(const QString &file = {});
    /// Pushes to / pulls from a remote (empty: the only or "origin" remote) as a task.
    void pushTo(const QString &remote = {});
    void pullFrom(const QString &remote = {});

    void showArea(Area area);
    Area currentArea() const;
    void setTheme(Theme theme);

    TaskManager *tasks() const { return m_tasks; }
    DatasetsArea *datasets() const { return m_datasets; }
    ExperimentsArea *experiments() const { return m_experiments; }
    /// The Models area: explanations of trained models (global, per prediction, fairness).
    ExplainArea *explain() const;
    /// The Models area: registry, comparison and explanations.
    ModelsArea *models() const { return m_models; }
    AuditView *audit() const { return m_audit; }
    DeploymentsArea *deployments() const { return m_deployments; }
    MonitoringArea *monitoring() const { return m_monitoring; }
    PipelinesArea *pipelines() const { return m_pipelines; }
    QDockWidget *taskDock() const { return m_taskDock; }
    /// The empty-state page of an area that later releases fill (nullptr for Datasets, Experiments and Audit).
    EmptyState *emptyState(Area area) const;
    QStringList recentWorkspaces() const { return m_recent; }

    /// What the About box says: Keel, Qt, libgit2, SQLite and XGBoost versions, one per line.
    static QString aboutText();

signals:
    void workspaceOpened(const QString &root);
    void workspaceFailed(const QString &error);

protected:
    void closeEvent(QCloseEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void buildMenus();
    void buildAreas();
    void restoreSettings();
    void saveSettings();
    void addRecent(const QString &root);
    void updateRecentMenu();
    void updateTitle();
    void showError(const QString &title, const QString &text);
    void chooseAndOpen();
    void chooseAndCreate(bool example);
    void runRemote(bool push, const QString &remote);
    void onActiveTasks(int count);

    bool m_useSettings;
    bool m_saved = false;
    QString m_root;
    QStringList m_recent;
    TaskManager *m_tasks;
    QListWidget *m_nav;
    QStackedWidget *m_areas;
    DatasetsArea *m_datasets;
    ExperimentsArea *m_experiments;
    ModelsArea *m_models;
    AuditView *m_audit;
    DeploymentsArea *m_deployments;
    MonitoringArea *m_monitoring;
    PipelinesArea *m_pipelines;
    EmptyState *m_empty[AreaCount] = {};
    QDockWidget *m_taskDock;
    TaskDockWidget *m_taskWidget;
    QLabel *m_taskCount;
    QLabel *m_workspaceLabel;
    QMenu *m_recentMenu = nullptr;
    QActionGroup *m_themeGroup = nullptr;
    QList<QAction *> m_workspaceActions;
    QPointer<ImportDialog> m_importDialog;
    QHash<QSplitter *, QByteArray> m_pendingSplitters; ///< saved states waiting for the splitter's first show
};

} // namespace keel::ui
