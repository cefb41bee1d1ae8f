#pragma once
// The explanation area of the workbench (placed in MainWindow's "Models" area): a model picker over the finished runs
// that have a model, a dataset-version picker, and three tabs — Global (importance, beeswarm, dependence, PDP/ICE,
// permutation importance), Prediction (row picker, waterfall, what-if editor, counterfactual) and Fairness (group
// metrics with intervals for a chosen sensitive column). All computation runs as TaskManager tasks through
// explainRun() (results are stored as run artifacts, so reopening is instant); the area shows their progress and
// can cancel them.

#include "explainsession.h"

#include <QStringList>
#include <QWidget>

#include <memory>
#include <set>

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QTabWidget;

namespace keel::workspace { class Workspace; }

namespace keel::ui {

class EmptyState;
class ExplainFairnessView;
class ExplainGlobalView;
class ExplainPredictionView;
class TaskManager;

/// The explanation area. UI thread only; `tasks` must outlive it. It keeps only the workspace's root folder:
/// its tasks open their own Workspace objects.
class ExplainArea : public QWidget {
    Q_OBJECT
public:
    enum Tab { GlobalTab, PredictionTab, FairnessTab };

    explicit ExplainArea(TaskManager *tasks, QWidget *parent = nullptr);
    ~ExplainArea() override;

    /// Shows the explainable runs of `ws` (null: the empty state). Nothing is computed until the area is shown
    /// or showRun() is called.
    void setWorkspace(workspace::Workspace *ws);
    /// The same by the workspace's root folder (empty: the empty state).
    void setWorkspaceRoot(const QString &root);
    /// Re-reads the runs and dataset versions (after a training finished or a pull); the selection is kept.
    void refresh();
    /// Selects run `runId` and explains it on its default data version (once the run list is read).
    void showRun(const QString &runId);
    /// Explains the current run on dataset version `ref` (NAME@vN). False for an unknown version or without a run.
    bool setDataRef(const QString &ref);
    /// Switches to the Prediction tab and picks table row `row` (0-based) once the model is loaded.
    void showRow(qint64 row);

    QString root() const { return m_root; }
    /// The selected run's id (empty when none).
    QString currentRunId() const;
    /// The data version the loaded session explains (empty before one is loaded).
    QString currentDataRef() const;
    /// The loaded model and data (null while loading or without a run).
    std::shared_ptr<const ExplainSession> session() const { return m_session; }
    const ExplainCatalog &catalog() const { return m_catalog; }
    /// True while the run list or a session is being read.
    bool isLoading() const { return m_loadingCatalog || m_loadingSession; }

    QComboBox *modelPicker() const { return m_modelPicker; }
    QComboBox *dataPicker() const { return m_dataPicker; }
    QTabWidget *tabs() const { return m_tabs; }
    ExplainGlobalView *globalView() const { return m_global; }
    ExplainPredictionView *predictionView() const { return m_prediction; }
    ExplainFairnessView *fairnessView() const { return m_fairness; }
    EmptyState *emptyState() const { return m_empty; }
    QProgressBar *progressBar() const { return m_progress; }
    QPushButton *cancelButton() const { return m_cancel; }

signals:
    /// The run list was read and the pickers filled.
    void catalogShown();
    /// The model of `runId` and its data version are loaded and handed to the tabs.
    void sessionLoaded(const QString &runId);
    void statusMessage(const QString &text);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void loadCatalog();
    void applyCatalog(ExplainCatalog catalog);
    void loadSession(const QString &runId, const QString &dataRef);
    void setViewsSession(std::shared_ptr<const ExplainSession> session);
    void setViewsMessage(const QString &message);
    void track(quint64 taskId);
    void updateProgress();
    void cancelTracked();
    QString group(const char *what) const;
    int runIndex(const QString &runId) const;

    TaskManager *m_tasks;
    QString m_root;
    ExplainCatalog m_catalog;
    std::shared_ptr<const ExplainSession> m_session;
    QString m_pendingRun;          ///< asked for before the run list arrived
    qint64 m_pendingRow = -1;
    bool m_loadingCatalog = false;
    bool m_loadingSession = false;
    bool m_updatingPickers = false;
    bool m_wantSession = false;    ///< explain as soon as a run is selected (shown, or showRun called)
    std::set<quint64> m_taskIds;

    QStackedWidget *m_stack;
    EmptyState *m_empty;
    QWidget *m_main;
    QComboBox *m_modelPicker;
    QComboBox *m_dataPicker;
    QLabel *m_progressLabel;
    QProgressBar *m_progress;
    QPushButton *m_cancel;
    QTabWidget *m_tabs;
    ExplainGlobalView *m_global;
    ExplainPredictionView *m_prediction;
    ExplainFairnessView *m_fairness;
};

} // namespace keel::ui
