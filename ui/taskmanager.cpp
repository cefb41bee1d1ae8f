#include "taskmanager.h"

#include <QCoreApplication>
#include <QHash>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <exception>

namespace keel::ui {

namespace {
constexpr int kPollMs = 100;
constexpr size_t kMaxEndedTasks = 100;
} // namespace

QString taskStateName(TaskState state)
{
    switch (state) {
    case TaskState::Queued: return QStringLiteral("queued");
    case TaskState::Running: return QStringLiteral("running");
    case TaskState::Cancelling: return QStringLiteral("cancelling");
    case TaskState::Finished: return QStringLiteral("done");
    case TaskState::Failed: return QStringLiteral("failed");
    case TaskState::Cancelled: return QStringLiteral("cancelled");
    case TaskState::Superseded: return QStringLiteral("superseded");
    }
    return {};
}

bool isTaskActive(TaskState state)
{
    return state == TaskState::Queued || state == TaskState::Running || state == TaskState::Cancelling;
}

QString formatDuration(qint64 ms)
{
    const qint64 s = std::max<qint64>(0, (ms + 500) / 1000);
    const qint64 h = s / 3600, m = (s / 60) % 60, sec = s % 60;
    if (h > 0)
        return QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, QLatin1Char('0')).arg(sec, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(m).arg(sec, 2, 10, QLatin1Char('0'));
}

/// Why a task's result is not wanted any more.
enum class StopReason { None, Cancelled, Superseded };

struct TaskManager::Task {
    quint64 id = 0;
    quint64 generation = 0;
    QString title;
    QString group;
    QPointer<QObject> receiver;
    bool hasReceiver = false;
    Feedback feedback;
    QElapsedTimer clock;

    std::atomic<bool> started{false};
    // Written by the worker through the feedback callback, read by the UI thread's poll.
    mutable std::mutex progressMutex;
    qint64 done = 0;
    qint64 total = 0;
    StageEta eta;   // on `clock`; also the stage's name

    // UI thread only.
    bool returned = false;
    bool ok = false;
    StopReason stop = StopReason::None;
    qint64 endedMs = 0;
    QString error;
};

TaskManager::TaskManager(QObject *parent) : QObject(parent), m_model(new TaskModel(this))
{
    m_pool.setMaxThreadCount(std::max(4, QThread::idealThreadCount()));
    m_poll.setInterval(kPollMs);
    connect(&m_poll, &QTimer::timeout, this, &TaskManager::pollProgress);
}

TaskManager::~TaskManager()
{
    for (const auto &t : m_tasks)
        t->feedback.cancel();
    m_pool.waitForDone();
}

quint64 TaskManager::startErased(const QString &title, const QString &group, std::function<Outcome(Feedback &)> work,
                                 QObject *receiver)
{
    auto task = std::make_shared<Task>();
    task->id = m_nextId++;
    task->title = title;
    task->group = group;
    task->receiver = receiver;
    task->hasReceiver = receiver != nullptr;
    task->clock.start();
    if (!group.isEmpty()) {
        for (const auto &t : m_tasks) {
            if (t->group == group && !t->returned && t->stop == StopReason::None) {
                t->stop = StopReason::Superseded;
                t->feedback.cancel();
            }
            if (t->group == group)
                task->generation = std::max(task->generation, t->generation + 1);
        }
    }
    Task *raw = task.get();
    task->feedback.setCallback([raw](qint64 done, qint64 total, const QString &stage) {
        std::lock_guard lock(raw->progressMutex);
        raw->done = done;
        raw->total = total;
        raw->eta.report(raw->clock.elapsed(), done, total, stage);
    });
    m_tasks.push_back(task);

    m_pool.start([this, task, work = std::move(work)]() {
        task->started.store(true);
        Outcome outcome;
        try {
            outcome = work(task->feedback);
        } catch (const std::exception &e) {
            outcome = Outcome{false, QStringLiteral("internal error: %1").arg(QString::fromLocal8Bit(e.what())), {}};
        } catch (...) {
            outcome = Outcome{false, QStringLiteral("internal error"), {}};
        }
        QMetaObject::invokeMethod(
            this, [this, task, outcome]() mutable { finishTask(task, std::move(outcome)); }, Qt::QueuedConnection);
    });
    if (!m_poll.isActive())
        m_poll.start();
    publish();
    return task->id;
}

void TaskManager::finishTask(const std::shared_ptr<Task> &task, Outcome outcome)
{
    task->returned = true;
    task->endedMs = task->clock.elapsed();
    task->ok = outcome.ok;
    task->error = outcome.error;
    quint64 latest = task->generation;
    for (const auto &t : m_tasks)
        if (!task->group.isEmpty() && t->group == task->group)
            latest = std::max(latest, t->generation);
    if (task->stop == StopReason::None && latest != task->generation)
        task->stop = StopReason::Superseded;
    const bool wanted = task->stop == StopReason::None && (!task->hasReceiver || task->receiver);
    if (wanted && outcome.deliver)
        outcome.deliver();
    outcome.deliver = nullptr; // release the result here, on the UI thread
    const TaskInfo info = snapshot(*task);

    // Keep the list bounded: drop the oldest ended tasks.
    size_t ended = size_t(std::count_if(m_tasks.begin(), m_tasks.end(), [](const auto &t) { return t->returned; }));
    for (auto it = m_tasks.begin(); ended > kMaxEndedTasks && it != m_tasks.end();) {
        if ((*it)->returned && *it != task) {
            it = m_tasks.erase(it);
            --ended;
        } else {
            ++it;
        }
    }
    publish();
    emit taskEnded(info.id, info.state, info.error);
}

void TaskManager::cancel(quint64 id)
{
    auto t = find(id);
    if (!t || t->returned || t->stop != StopReason::None)
        return;
    t->stop = StopReason::Cancelled;
    t->feedback.cancel();
    publish();
}

void TaskManager::cancelGroup(const QString &group)
{
    for (const auto &t : m_tasks) {
        if (t->group == group && !t->returned && t->stop == StopReason::None) {
            t->stop = StopReason::Cancelled;
            t->feedback.cancel();
        }
    }
    publish();
}

void TaskManager::cancelAll()
{
    for (const auto &t : m_tasks) {
        if (!t->returned && t->stop == StopReason::None) {
            t->stop = StopReason::Cancelled;
            t->feedback.cancel();
        }
    }
    publish();
}

int TaskManager::activeCount() const
{
    return int(std::count_if(m_tasks.begin(), m_tasks.end(), [](const auto &t) { return !t->returned; }));
}

std::shared_ptr<TaskManager::Task> TaskManager::find(quint64 id) const
{
    for (const auto &t : m_tasks)
        if (t->id == id)
            return t;
    return nullptr;
}

TaskInfo TaskManager::snapshot(const Task &t) const
{
    TaskInfo i;
    i.id = t.id;
    i.title = t.title;
    i.group = t.group;
    i.elapsedMs = t.returned ? t.endedMs : t.clock.elapsed();
    std::optional<qint64> eta;
    {
        std::lock_guard lock(t.progressMutex);
        i.done = t.done;
        i.total = t.total;
        i.stage = t.eta.stage();
        eta = t.eta.remainingMs(i.elapsedMs);
    }
    if (!t.returned) {
        if (t.stop != StopReason::None)
            i.state = TaskState::Cancelling;
        else
            i.state = t.started.load() ? TaskState::Running : TaskState::Queued;
        if (i.state == TaskState::Running)
            i.etaMs = eta;
    } else if (t.stop == StopReason::Cancelled) {
        i.state = TaskState::Cancelled;
    } else if (t.stop == StopReason::Superseded) {
        i.state = TaskState::Superseded;
    } else {
        i.state = t.ok ? TaskState::Finished : TaskState::Failed;
        i.error = t.error;
    }
    return i;
}

std::optional<TaskInfo> TaskManager::info(quint64 id) const
{
    if (auto t = find(id))
        return snapshot(*t);
    return std::nullopt;
}

std::vector<TaskInfo> TaskManager::tasks() const
{
    std::vector<TaskInfo> out;
    out.reserve(m_tasks.size());
    for (const auto &t : m_tasks)
        out.push_back(snapshot(*t));
    return out;
}

void TaskManager::clearEnded()
{
    std::erase_if(m_tasks, [](const auto &t) { return t->returned; });
    publish();
}

void TaskManager::pollProgress()
{
    if (activeCount() == 0)
        m_poll.stop();
    publish();
}

void TaskManager::publish()
{
    m_model->setTasks(tasks());
    emit tasksChanged();
    const int active = activeCount();
    if (active != m_lastActive) {
        m_lastActive = active;
        emit activeCountChanged(active);
    }
}

bool TaskManager::waitForIdle(int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    while (activeCount() > 0 && clock.elapsed() < timeoutMs)
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    QCoreApplication::processEvents();
    return activeCount() == 0;
}

// ---------------------------------------------------------------------------------------------------------------

TaskModel::TaskModel(QObject *parent) : QAbstractTableModel(parent) {}

int TaskModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_tasks.size()); }

int TaskModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant TaskModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const TaskInfo &t = m_tasks[size_t(index.row())];
    const bool active = isTaskActive(t.state);
    switch (role) {
    case IdRole: return QVariant::fromValue(t.id);
    case ActiveRole: return active;
    case StateRole: return int(t.state);
    case FractionRole:
        if (t.state == TaskState::Finished)
            return 1.0;
        return t.total > 0 ? std::clamp(double(t.done) / double(t.total), 0.0, 1.0) : -1.0;
    case Qt::DisplayRole:
        switch (index.column()) {
        case TitleColumn: return t.title;
        case ProgressColumn:
            if (t.state == TaskState::Finished)
                return QStringLiteral("100%");
            if (t.total > 0)
                return QStringLiteral("%1%").arg(int(100.0 * double(t.done) / double(t.total)));
            return t.stage;
        case TimeColumn:
            if (active && t.etaMs)
                return QStringLiteral("ETA %1").arg(formatDuration(*t.etaMs));
            return formatDuration(t.elapsedMs);
        case StateColumn: return taskStateName(t.state);
        case CancelColumn: return active && t.state != TaskState::Cancelling ? QStringLiteral("Cancel") : QString();
        }
        return {};
    case Qt::ToolTipRole:
        if (index.column() == TitleColumn || index.column() == StateColumn) {
            QString tip = t.title;
            if (!t.stage.isEmpty())
                tip += QStringLiteral("\nstage: ") + t.stage;
            if (!t.error.isEmpty())
                tip += QStringLiteral("\n") + t.error;
            return tip;
        }
        if (index.column() == CancelColumn && active)
            return QStringLiteral("Stop this task; its result is discarded");
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == TimeColumn || index.column() == ProgressColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    default: return {};
    }
}

QVariant TaskModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TitleColumn: return QStringLiteral("Task");
    case ProgressColumn: return QStringLiteral("Progress");
    case TimeColumn: return QStringLiteral("Time");
    case StateColumn: return QStringLiteral("State");
    case CancelColumn: return QString();
    }
    return {};
}

void TaskModel::setTasks(std::vector<TaskInfo> tasks)
{
    const auto sameIds = [&](size_t n) {
        for (size_t i = 0; i < n; ++i)
            if (m_tasks[i].id != tasks[i].id)
                return false;
        return true;
    };
    if (tasks.size() >= m_tasks.size() && sameIds(m_tasks.size())) {
        const size_t old = m_tasks.size();
        if (old > 0) {
            for (size_t i = 0; i < old; ++i)
                m_tasks[i] = tasks[i];
            emit dataChanged(index(0, 0), index(int(old) - 1, ColumnCount - 1));
        }
        if (tasks.size() > old) {
            beginInsertRows({}, int(old), int(tasks.size()) - 1);
            for (size_t i = old; i < tasks.size(); ++i)
                m_tasks.push_back(tasks[i]);
            endInsertRows();
        }
        return;
    }
    beginResetModel();
    m_tasks = std::move(tasks);
    endResetModel();
}

} // namespace keel::ui
