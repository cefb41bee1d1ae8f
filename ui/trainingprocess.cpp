#include "trainingprocess.h"

#include <mutex>
#include <optional>

namespace keel::ui {

namespace {

constexpr int kPollMs = 50;

} // namespace

// ---------------------------------------------------------------------------------------------------------------

/// What the worker hands to the UI thread: queued events and, once the child has exited, the outcome.
struct TrainingProcess::Shared {
    std::mutex mutex;
    std::vector<TrainingEvent> events;
    std::optional<TrainingOutcome> outcome;
};

TrainingProcess::TrainingProcess(TaskManager *tasks, TrainingRequest request, QObject *parent)
    : QObject(parent), m_tasks(tasks), m_request(std::move(request)), m_shared(std::make_shared<Shared>())
{
    m_poll.setInterval(kPollMs);
    connect(&m_poll, &QTimer::timeout, this, &TrainingProcess::drain);
    connect(m_tasks, &TaskManager::taskEnded, this, &TrainingProcess::onTaskEnded);
}

TrainingProcess::~TrainingProcess()
{
    if (isActive())
        m_tasks->cancel(m_taskId);
}

quint64 TrainingProcess::start(const QString &title)
{
    if (m_taskId != 0)
        return m_taskId;
    const TrainingRequest request = m_request;
    const std::shared_ptr<Shared> shared = m_shared;
    m_taskId = m_tasks->start<TrainingOutcome>(
        title, QString(),
        [request, shared](Feedback &fb) -> Expected<TrainingOutcome> {
            auto result = runTrainingProcess(request, &fb, [shared](const TrainingEvent &e) {
                std::lock_guard lock(shared->mutex);
                shared->events.push_back(e);
            });
            std::lock_guard lock(shared->mutex);
            if (result) {
                shared->outcome = *result;
            } else {
                TrainingOutcome failed;
                failed.message = result.error().toString();
                shared->outcome = failed;
            }
            return result;
        },
        this, [](Expected<TrainingOutcome> &&) {});
    m_poll.start();
    return m_taskId;
}

void TrainingProcess::cancel()
{
    if (isActive())
        m_tasks->cancel(m_taskId);
}

void TrainingProcess::drain()
{
    std::vector<TrainingEvent> events;
    {
        std::lock_guard lock(m_shared->mutex);
        events.swap(m_shared->events);
    }
    for (const TrainingEvent &e : events) {
        switch (e.kind) {
        case TrainingEvent::Kind::Started:
            m_runId = e.runId;
            emit started(e.runId, e.experiment);
            break;
        case TrainingEvent::Kind::Progress:
            m_stage = e.stage;
            m_done = e.done;
            m_total = e.total;
            emit progressed(e.stage, e.done, e.total);
            break;
        case TrainingEvent::Kind::Metric:
            m_points.push_back({e.key, e.step, e.value, {}});
            emit metricReceived(m_runId, e.key, e.step, e.value);
            break;
        case TrainingEvent::Kind::Finished:
        case TrainingEvent::Kind::Failed:
            if (m_runId.isEmpty())
                m_runId = e.runId;
            break;
        }
    }
}

void TrainingProcess::onTaskEnded(quint64 id)
{
    if (id != m_taskId || m_ended)
        return;
    drain();
    m_poll.stop();
    m_ended = true;
    {
        std::lock_guard lock(m_shared->mutex);
        if (m_shared->outcome) {
            m_outcome = *m_shared->outcome;
        } else {
            m_outcome = TrainingOutcome{};
            m_outcome.message = QStringLiteral("the training task ended without a result");
        }
    }
    if (m_outcome.runId.isEmpty())
        m_outcome.runId = m_runId;
    emit ended(m_outcome);
}

} // namespace keel::ui
