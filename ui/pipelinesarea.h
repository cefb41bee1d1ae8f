#pragma once
// The Pipelines area: every pipeline of the workspace, its stages drawn as a graph (each box with the stage's kind,
// its last recorded status, and whether it is current — would be skipped — or would run now, from a dry run through
// core/pipeline), Run and Dry Run through the task dock (Cancel there stops between stages and inside a training),
// and the stages of the last run in a table.

#include "pipeline/pipeline.h"

#include <QWidget>

#include <map>
#include <optional>

QT_BEGIN_NAMESPACE
class QLabel;
class QListWidget;
class QPushButton;
class QTableWidget;
QT_END_NAMESPACE

namespace keel::ui {

class EmptyState;
class TaskManager;

/// What the area shows of one pipeline, read off the UI thread. Plain value.
struct PipelineSnapshot {
    QStringList pipelines;
    QString name;
    std::optional<pipeline::Pipeline> pipeline;
    QString error;                                   ///< the pipeline file does not parse
    std::map<QString, pipeline::StageState> last;    ///< last recorded status per stage
    std::map<QString, QString> plan;                 ///< dry run: "would run" / "would skip" per stage, with reasons below
    std::map<QString, QString> planReason;
};
Expected<PipelineSnapshot> readPipeline(const QString &root, const QString &name, Feedback *feedback = nullptr);

/// The stages as boxes in columns by depth (a stage is one column right of the deepest stage it needs), with arrows.
class PipelineGraph : public QWidget {
    Q_OBJECT
public:
    explicit PipelineGraph(QWidget *parent = nullptr);
    void setSnapshot(const PipelineSnapshot &snapshot);
    /// A stage's status shown live while a run goes on ("running", "ran", ...).
    void setLive(const QString &stage, const QString &status);
    QString statusShown(const QString &stage) const;
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    PipelineSnapshot m_snapshot;
    std::map<QString, QString> m_live;
};

class PipelinesArea : public QWidget {
    Q_OBJECT
public:
    explicit PipelinesArea(TaskManager *tasks, QWidget *parent = nullptr);
    void setWorkspaceRoot(const QString &root);
    void refresh();
    /// Runs (or dry-runs) the selected pipeline as a task.
    void run(bool dryRun);
    const PipelineSnapshot &snapshot() const { return m_snapshot; }
    bool isBusy() const { return m_busy; }
    PipelineGraph *graph() const { return m_graph; }
    QTableWidget *stageTable() const { return m_table; }
    QListWidget *pipelineList() const { return m_list; }
    QPushButton *runButton() const { return m_run; }

signals:
    void loaded();
    void runFinished(bool ok);
    void statusMessage(const QString &text);

private:
    void rebuild();
    void showReport(const pipeline::RunReport &report);

    TaskManager *m_tasks;
    QString m_root;
    PipelineSnapshot m_snapshot;
    bool m_busy = false;
    EmptyState *m_empty;
    QListWidget *m_list;
    QLabel *m_title;
    PipelineGraph *m_graph;
    QTableWidget *m_table;
    QPushButton *m_run, *m_dry;
};

} // namespace keel::ui
