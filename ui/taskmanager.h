#pragma once
// Long operations of the workbench (import, load, profile, sort, diff, validate, push/pull) run as tasks on a
// thread pool. Each task gets a keel::Feedback for progress and cancel; its result comes back to the UI thread
// through a queued call and is dropped when the task was cancelled, superseded by a newer task of the same
// group (generation ids, as Hotspot's job tracker does) or its receiver was destroyed in the meantime.

#include "util/feedback.h"
#include "util/result.h"

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QThreadPool>
#include <QTimer>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace keel::ui {

/// Life-cycle of a task as the task dock shows it.
enum class TaskState { Queued, Running, Cancelling, Finished, Failed, Cancelled, Superseded };

/// "queued", "running", "cancelling", "done", "failed", "cancelled", "superseded".
QString taskStateName(TaskState state);
/// True while the task's work has not returned (Queued, Running, Cancelling).
bool isTaskActive(TaskState state);

/// A snapshot of one task, as the task model shows it. Plain value.
struct TaskInfo {
    quint64 id = 0;
    QString title;
    QString group;                 ///< tasks of one non-empty group supersede each other
    TaskState state = TaskState::Queued;
    qint64 done = 0;               ///< progress units done (stage-defined: bytes, rows, columns)
    qint64 total = 0;              ///< 0 when unknown
    QString stage;
    qint64 elapsedMs = 0;
    std::optional<qint64> etaMs;   ///< remaining time, when it can be estimated
    QString error;                 ///< Failed: the error text
};

class TaskModel;

/// Runs tasks and tracks them. Lives on the UI thread; start(), cancel() and the queries must be called there.
/// Work functions run on the manager's own thread pool and must only touch what they captured (open their own
/// Workspace, never a widget). The destructor cancels everything and waits for the workers.
class TaskManager : public QObject {
    Q_OBJECT
public:
    explicit TaskManager(QObject *parent = nullptr);
    ~TaskManager() override;

    /// Starts `work` on the pool. When it returns on time (not cancelled, not superseded, `receiver` alive),
    /// `onDone` runs on the UI thread with the result, errors included. A non-empty `group` cancels and
    /// supersedes the group's earlier tasks. Returns the task id.
    template <class T>
    quint64 start(const QString &title, const QString &group, std::function<Expected<T>(Feedback &)> work,
                  QObject *receiver, std::function<void(Expected<T> &&)> onDone)
    {
        auto erased = [work = std::move(work), onDone = std::move(onDone)](Feedback &fb) -> Outcome {
            auto result = std::make_shared<Expected<T>>(work(fb));
            Outcome o;
            o.ok = result->hasValue();
            if (!o.ok)
                o.error = result->error().toString();
            o.deliver = [onDone, result]() mutable { onDone(std::move(*result)); };
            return o;
        };
        return startErased(title, group, std::move(erased), receiver);
    }

    /// Asks the task to stop; its result will be dropped. No-op for tasks that already ended.
    void cancel(quint64 id);
    /// Cancels every active task of `group`.
    void cancelGroup(const QString &group);
    /// Cancels every active task.
    void cancelAll();

    /// Tasks whose work has not returned yet.
    int activeCount() const;
    /// Snapshot of a task, or nullopt for unknown (or cleared) ids.
    std::optional<TaskInfo> info(quint64 id) const;
    /// Snapshots of all listed tasks, oldest first.
    std::vector<TaskInfo> tasks() const;
    /// Removes ended tasks from the list.
    void clearEnded();

    /// The item model behind the task dock. Owned by the manager.
    TaskModel *model() const { return m_model; }

    /// Processes events until no task is active or `timeoutMs` passed; true when idle (tests, shutdown).
    bool waitForIdle(int timeoutMs);

signals:
    void activeCountChanged(int count);
    /// Emitted on the UI thread when a task ends, after its result (if any) was delivered.
    void taskEnded(quint64 id, keel::ui::TaskState state, const QString &error);
    /// Emitted whenever some task's snapshot changed (progress polling, state changes).
    void tasksChanged();

private:
    struct Outcome {
        bool ok = false;
        QString error;
        std::function<void()> deliver;
    };
    struct Task;

    quint64 startErased(const QString &title, const QString &group, std::function<Outcome(Feedback &)> work,
                        QObject *receiver);
    void finishTask(const std::shared_ptr<Task> &task, Outcome outcome);
    void pollProgress();
    std::shared_ptr<Task> find(quint64 id) const;
    TaskInfo snapshot(const Task &task) const;
    void publish();

    QThreadPool m_pool;
    QTimer m_poll;
    TaskModel *m_model = nullptr;
    std::vector<std::shared_ptr<Task>> m_tasks;
    quint64 m_nextId = 1;
    int m_lastActive = 0;
};

/// Table model over the manager's tasks: one row per task, columns Task, Progress, Time, State, Cancel.
/// Owned by its TaskManager; UI thread only.
class TaskModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { TitleColumn, ProgressColumn, TimeColumn, StateColumn, CancelColumn, ColumnCount };
    enum Role {
        IdRole = Qt::UserRole + 1, ///< quint64 task id
        FractionRole,              ///< double 0..1, or -1 when indeterminate
        ActiveRole,                ///< bool: work still running
        StateRole,                 ///< int(TaskState)
    };

    explicit TaskModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// Replaces the rows with `tasks` (same ids in the same order update in place).
    void setTasks(std::vector<TaskInfo> tasks);
    const TaskInfo &taskAt(int row) const { return m_tasks[size_t(row)]; }

private:
    std::vector<TaskInfo> m_tasks;
};

/// "0:42", "1:05:00": a duration for ETA and elapsed columns.
QString formatDuration(qint64 ms);

} // namespace keel::ui
