#pragma once
// Training in a child `keel` process (crash isolation, as DESIGN.md asks), as a task of the workbench: core's
// runTrainingProcess (ml/trainingevents.h) supervises the child; this re-emits its events on the UI thread.

#include "ml/trainingevents.h"
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

// The protocol, the request and outcome types and the supervisor live in core (ml/trainingevents.h).
using ml::TrainingEvent;
using ml::TrainingOutcome;
using ml::TrainingRequest;
using ml::locateKeelBinary;
using ml::parseTrainingEvent;
using ml::runTrainingProcess;

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
    void ended(const keel::ml::TrainingOutcome &outcome);

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
