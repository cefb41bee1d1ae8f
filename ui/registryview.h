#pragma once
// The Models area's registry: registered models and their versions, a version's card (lineage with links to its run
// and dataset versions, metrics, schema, importance, approvals), the aliases on a timeline from git history, and the
// Move Alias… and Approve… dialogs. Every read and change is a core registry call run as a task; the view only shows.

#include "registry/registry.h"

#include <QDialog>
#include <QWidget>

#include <map>
#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QTextBrowser;
class QTreeWidget;

namespace keel::ui {

class ExplainChartView;
class TaskManager;

/// Everything the registry view shows, read in one task.
struct RegistrySnapshot {
    std::vector<registry::RegisteredModel> models;
    std::map<QString, std::vector<registry::AliasMove>> history;   ///< per model, oldest first
    QStringList datasetRefs;                                       ///< every dataset version, NAME@vN
    /// Every version, newest model version first within each model.
    QStringList versionRefs() const;
};
/// Reads every model card and its alias history from the workspace at `root`. Safe from any thread.
Expected<RegistrySnapshot> readRegistry(const QString &root, Feedback *feedback = nullptr);

/// Asks for the model name (existing ones offered, a new one allowed) and why, to register a run. UI thread only.
class RegisterDialog : public QDialog {
    Q_OBJECT
public:
    RegisterDialog(const QString &runLabel, const QStringList &models, QWidget *parent = nullptr);
    QString name() const;
    QString message() const;
    QComboBox *nameBox() const { return m_name; }
    QLineEdit *messageEdit() const { return m_message; }

private:
    QComboBox *m_name;
    QLineEdit *m_message;
};

/// Asks for an alias (existing ones offered, any new name allowed) and why. UI thread only.
class MoveAliasDialog : public QDialog {
    Q_OBJECT
public:
    MoveAliasDialog(const QString &versionRef, const QStringList &aliases, QWidget *parent = nullptr);
    QString alias() const;
    QString message() const;
    QComboBox *aliasBox() const { return m_alias; }
    QLineEdit *messageEdit() const { return m_message; }

private:
    QComboBox *m_alias;
    QLineEdit *m_message;
};

/// Asks what was reviewed (required). UI thread only.
class ApproveDialog : public QDialog {
    Q_OBJECT
public:
    explicit ApproveDialog(const QString &versionRef, QWidget *parent = nullptr);
    QString message() const;
    QPlainTextEdit *messageEdit() const { return m_message; }

private:
    QPlainTextEdit *m_message;
    QPushButton *m_ok;
};

/// The registry page. UI thread only; `tasks` must outlive it.
class RegistryView : public QWidget {
    Q_OBJECT
public:
    explicit RegistryView(TaskManager *tasks, QWidget *parent = nullptr);

    /// Shows the registry of the workspace at `root` (empty: the empty state).
    void setWorkspaceRoot(const QString &root);
    void refresh();
    /// Selects NAME@vN (once loaded).
    bool selectVersion(const QString &ref);
    const RegistrySnapshot &snapshot() const { return m_snapshot; }
    /// The selected version, if a version (not a model) is selected.
    std::optional<registry::ModelVersion> currentVersion() const;
    bool isBusy() const { return m_busy; }

    /// The changes the dialogs make, callable directly (a task each; refreshes when done).
    void moveAlias(const QString &versionRef, const QString &alias, const QString &message);
    void approve(const QString &versionRef, const QString &message);
    /// Opens the dialogs for the selected version (returns the dialog, which deletes itself when closed).
    MoveAliasDialog *showMoveAliasDialog();
    ApproveDialog *showApproveDialog();

    QTreeWidget *tree() const { return m_tree; }
    QTextBrowser *details() const { return m_details; }
    QTableWidget *timelineTable() const { return m_timeline; }
    ExplainChartView *timelineChart() const { return m_timelineChart; }

signals:
    void loaded();
    /// A change finished: ok, and what happened (or the error).
    void changeFinished(bool ok, const QString &message);
    /// The user asked to compare the selected version with another.
    void compareRequested(const QString &a, const QString &b);
    void runLinkActivated(const QString &runId);
    void statusMessage(const QString &text);

private:
    void rebuild();
    void showSelection();

    TaskManager *m_tasks;
    QString m_root;
    RegistrySnapshot m_snapshot;
    bool m_busy = false;
    QString m_pendingSelection;
    QLabel *m_summary;
    QTreeWidget *m_tree;
    QTextBrowser *m_details;
    QTableWidget *m_timeline;
    ExplainChartView *m_timelineChart;
    QPushButton *m_alias, *m_approve, *m_compare;
};

} // namespace keel::ui
