#pragma once
// The Experiments area: every training run of the workspace in a table grouped by experiment and sweep (columns
// chosen by the user, filtered and sorted off the UI thread), the run view of the selected run, the compare view of
// several selected runs, the New Run dialog and "branch from this run". Runs started here train in child `keel`
// processes (TrainingProcess) whose progress and curves stream into the views.

#include "catalogmodel.h"
#include "runtablemodel.h"

#include <QSet>
#include <QTimer>
#include <QWidget>

#include <memory>
#include <vector>

class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;
class QToolButton;
class QTreeView;

namespace keel::ui {

class RegisterDialog;

class CompareView;
class EmptyState;
class NewRunDialog;
class RunView;
class TaskManager;
class TrainingProcess;
struct NewRunRequest;
struct RunDetails;

/// The Experiments area. UI thread only; `tasks` must outlive it.
class ExperimentsArea : public QWidget {
    Q_OBJECT
public:
    /// Most runs the compare view takes at once.
    static constexpr int kMaxCompared = 12;

    explicit ExperimentsArea(TaskManager *tasks, QWidget *parent = nullptr);
    ~ExperimentsArea() override;

    /// Shows the runs of the workspace at `root` (empty: no workspace) with `datasets` for the New Run dialog.
    void setWorkspace(const QString &root, const std::vector<DatasetHistory> &datasets);
    /// Updates the datasets the New Run dialog offers (after an import or a pull).
    void setDatasets(const std::vector<DatasetHistory> &datasets);
    /// Re-reads every run (a task); the selection is kept.
    void refresh();
    QString root() const { return m_root; }

    /// Opens the New Run dialog (non-modal); null without a workspace. Accepting it starts the run.
    NewRunDialog *showNewRunDialog();
    /// Opens the New Run dialog pre-filled from run `runId` (its details are read first, as a task).
    void branchFrom(const QString &runId);
    /// Asks for a model name (RegisterDialog) and registers finished run `runId` as its next version (a task).
    RegisterDialog *registerRun(const QString &runId);
    /// Registers without asking (what the dialog's OK does).
    void registerRunAs(const QString &runId, const QString &model, const QString &message);
    /// Starts the child for an accepted dialog's request; null (with a status message) when too many runs train.
    TrainingProcess *startTraining(const NewRunRequest &request);
    /// Trainings started here that have not ended.
    std::vector<TrainingProcess *> activeTrainings() const;
    /// The training started here for `runId`, or null.
    TrainingProcess *trainingOf(const QString &runId) const;
    /// Most trainings that may run at once (each holds a task-pool thread; the rest of the pool stays free).
    static int maxConcurrentTrainings();

    /// Selects a run in the table (clearing the filter when it hides the run) and opens its view.
    bool selectRun(const QString &runId);
    /// Selects several runs and opens the compare view.
    bool compareRuns(const QStringList &runIds);
    /// Sorts the table by a column id ("started", "metric:test.accuracy"...), off the UI thread.
    void sortBy(const QString &columnId, Qt::SortOrder order);
    /// Filters the table (see RunFilter), off the UI thread.
    void setFilterText(const QString &text);
    /// The shown columns as ids (RunColumn::id); setting them makes them the user's choice.
    QStringList columnIds() const;
    void setColumnIds(const QStringList &ids);
    /// True once the user picked columns (or setColumnIds was called); false while the defaults are shown.
    bool hasUserColumns() const { return m_userColumns; }

    RunTableModel *model() const { return m_model; }
    QTreeView *view() const { return m_view; }
    RunView *runView() const { return m_runView; }
    CompareView *compareView() const { return m_compare; }
    QLineEdit *filterEdit() const { return m_filter; }
    QLabel *countLabel() const { return m_count; }
    EmptyState *emptyState() const { return m_noRuns; }
    NewRunDialog *newRunDialog() const { return m_dialog; }
    /// True while the run set, a layout or run details are being read.
    bool isBusy() const;

signals:
    /// Every load or layout of the table ends here.
    void runsShown();
    /// The run view or the compare view shows what was asked for.
    void detailsShown();
    void statusMessage(const QString &text);
    void openDatasetRequested(const QString &ref);
    /// A run was registered as `ref` (NAME@vN), or registering it failed (`ref` empty, `message` says why).
    void modelRegistered(const QString &ref, const QString &message);
    void columnsChanged();

private:
    void startLoad();
    void startLayout();
    void applyLayout(std::shared_ptr<const RunSet> runs, std::shared_ptr<const RunLayout> layout);
    void onSelectionChanged();
    void showSelection();
    void loadDetails(const QStringList &ids, bool compare);
    void showDetails(std::vector<RunDetails> details, bool compare);
    void buildColumnsMenu();
    void toggleColumn(const RunColumn &column, bool on);
    void applyColumns(std::vector<RunColumn> columns);
    void resizeColumns();
    void restoreTreeState(const QStringList &selected, const QString &current);
    QStringList selectedRunIds() const;
    void onTrainingStarted(TrainingProcess *process, const QString &runId);
    void onTrainingEnded(TrainingProcess *process);
    QString taskGroup(const char *what) const;

    TaskManager *m_tasks;
    QString m_root;
    std::vector<DatasetHistory> m_datasets;

    RunTableModel *m_model;
    QStackedWidget *m_stack;
    EmptyState *m_noWorkspace;
    EmptyState *m_noRuns;
    QTreeView *m_view;
    QLineEdit *m_filter;
    QLabel *m_count;
    QPushButton *m_newRun;
    QPushButton *m_compareButton;
    QToolButton *m_columnsButton;
    QStackedWidget *m_detailStack;
    RunView *m_runView;
    CompareView *m_compare;
    QTimer m_filterTimer;
    QTimer m_selectionTimer;
    NewRunDialog *m_dialog = nullptr;

    RunColumn m_sortColumn{RunColumn::Kind::Started, {}};
    Qt::SortOrder m_sortOrder = Qt::DescendingOrder;
    RunFilter m_activeFilter;
    bool m_userColumns = false;
    bool m_loading = false;
    int m_pendingLayouts = 0;
    int m_pendingDetails = 0;
    QString m_pendingSelect;
    QSet<QString> m_collapsedExperiments;
    QSet<QString> m_expandedSweeps;
    QStringList m_shownIds;     ///< runs the detail side shows (one: run view; several: compare view)
    std::vector<TrainingProcess *> m_trainings;
};

} // namespace keel::ui
