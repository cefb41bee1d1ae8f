#pragma once
// Training in a child `keel` process (crash isolation, as DESIGN.md asks): `keel -C ROOT train CONFIG --events
// [--parent RUN]` streams JSON Lines on stdout (started, progress, metric, finished, failed); Cancel sends SIGTERM
// (the runner stops cleanly and records the run as killed) and kills the child if it has not exited a few seconds
// later. A child that dies without reporting an end gets its run's status recorded here.

#include "taskmanager.h"
#include "tracking/trackingstore.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QByteArrayView>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QVariantMap>

#include <functional>
#include <memory>
#include <vector>

namespace keel::ui {

/// One line of `keel train --events`, parsed. Plain value.
struct TrainingEvent {
    enum class Kind { Started, Progress, Metric, Finished, Failed };
    Kind kind = Kind::Progress;
    QString runId;          ///< started, finished, failed
    QString experiment;     ///< started
    QString name;           ///< started (run name, when the runner sends it)
    QString stage;          ///< progress: "load", "recipe", "train", "evaluate"...
    qint64 done = 0;        ///< progress
    qint64 total = 0;       ///< progress (0 when unknown)
    QString key;            ///< metric, e.g. "validation.logloss"
    qint64 step = 0;        ///< metric
    double value = 0;       ///< metric
    QVariantMap metrics;    ///< finished: final metrics by key (doubles)
    QString message;        ///< failed: the error text, "cancelled" when the run was stopped
};

/// Parses one line of the event stream. Errors for a line that is not a JSON object with a known "event" or that
/// lacks a field the event needs (run, key, value...). Pure function.
Expected<TrainingEvent> parseTrainingEvent(QByteArrayView line);

/// What to train.
struct TrainingRequest {
    QString root;           ///< workspace root (the child runs with -C ROOT)
    QString configPath;     ///< the YAML training config
    QString parentRunId;    ///< recorded as the new run's parent (--parent); empty for a fresh run
    QString keelBinary;     ///< the runner; empty: locateKeelBinary()
};

/// How a child run ended. Plain value.
struct TrainingOutcome {
    QString runId;          ///< empty when the child failed before it created a run (e.g. a config error)
    tracking::RunStatus status = tracking::RunStatus::Failed;   ///< Finished, Failed or Killed
    QString message;        ///< why it failed; "cancelled" for a stopped run; empty when finished
    QVariantMap metrics;    ///< final metrics of a finished run
    int exitCode = -1;      ///< the child's exit code; -1 when it crashed or was killed
};

/// The `keel` runner: $KEEL_BINARY when set, else `keel` next to this executable, else `keel` on PATH. Empty when
/// none of them exists. Thread-safe.
QString locateKeelBinary();

/// Runs the child and blocks until it has exited. Each event goes to `onEvent` (may be empty) on the calling thread
/// as it arrives; progress events are also reported to `feedback`. Cancel through `feedback` sends SIGTERM and kills
/// the child when it is still running `graceMs` later. When the child ends without a finished/failed event (a crash,
/// a kill) and its run is still recorded as running, this records it: killed when cancelled, failed otherwise, with
/// the reason in tag "error". Errors only when the runner cannot be found or started. Any thread (the child belongs
/// to the calling thread; the tracking store is opened on it).
Expected<TrainingOutcome> runTrainingProcess(const TrainingRequest &request, Feedback *feedback,
                                             const std::function<void(const TrainingEvent &)> &onEvent,
                                             int graceMs = 5000);

/// One training run started from the workbench: runTrainingProcess as a TaskManager task (the task dock shows its
/// progress and its Cancel stops the child), with the events re-emitted on the UI thread. Each running training holds
/// one of the task pool's threads. UI thread only; `tasks` must outlive it. Destroying it cancels the run.
class TrainingProcess : public QObject {
    Q_OBJECT
public:
    TrainingProcess(TaskManager *tasks, TrainingRequest request, QObject *parent = nullptr);
    ~TrainingProcess() override;

    /// Starts the child as a task titled `title` (once). Returns the task id.
    quint64 start(const QString &title);
    /// Stops the child (SIGTERM, then kill); ended() follows.
    void cancel();
    /// Started and not ended yet.
    bool isActive() const { return m_taskId != 0 && !m_ended; }
    bool hasEnded() const { return m_ended; }
    quint64 taskId() const { return m_taskId; }
    const TrainingRequest &request() const { return m_request; }
    /// The run id once the child reported "started"; empty before.
    QString runId() const { return m_runId; }
    /// Every metric point received so far, in arrival order (the live curves).
    const std::vector<tracking::MetricPoint> &points() const { return m_points; }
    /// The latest progress report.
    QString stage() const { return m_stage; }
    qint64 done() const { return m_done; }
    qint64 total() const { return m_total; }
    /// How the run ended; meaningful once hasEnded().
    const TrainingOutcome &outcome() const { return m_outcome; }

signals:
    void started(const QString &runId, const QString &experiment);
    void progressed(const QString &stage, qint64 done, qint64 total);
    void metricReceived(const QString &runId, const QString &key, qint64 step, double value);
    /// The child has exited and its status is recorded.
    void ended(const keel::ui::TrainingOutcome &outcome);

private:
    struct Shared;
    void drain();
    void onTaskEnded(quint64 id);

    TaskManager *m_tasks;
    TrainingRequest m_request;
    std::shared_ptr<Shared> m_shared;
    QTimer m_poll;
    quint64 m_taskId = 0;
    bool m_ended = false;
    QString m_runId;
    std::vector<tracking::MetricPoint> m_points;
    QString m_stage;
    qint64 m_done = 0, m_total = 0;
    TrainingOutcome m_outcome;
};

} // namespace keel::ui
