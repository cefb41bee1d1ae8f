#pragma once
// Progress and cancellation passed into long core calls (the QgsFeedback pattern):
// the GUI, the CLI and tests all hand the same object to the same core code.

#include <QDebug>
#include <QString>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>

namespace keel {

/// Thread-safe progress sink plus cancel token. Core code calls setProgress()
/// and polls isCancelled(); the owner installs a callback and may call cancel()
/// from any thread. The callback runs on whichever thread reports progress.
class Feedback {
public:
    using ProgressCallback = std::function<void(qint64 done, qint64 total, const QString &stage)>;
    using WarningCallback = std::function<void(const QString &message)>;

    void setCallback(ProgressCallback cb) { std::lock_guard lock(m_mutex); m_callback = std::move(cb); }
    void setWarningCallback(WarningCallback cb) { std::lock_guard lock(m_mutex); m_warning = std::move(cb); }

    /// Something went wrong that does not fail the call (a rebuildable cache not written, a cleanup that
    /// failed after the real error): it goes to the warning callback, else to the parent's, else to qWarning.
    void warn(const QString &message) const
    {
        {
            std::lock_guard lock(m_mutex);
            if (m_warning) {
                m_warning(message);
                return;
            }
        }
        if (m_parent)
            m_parent->warn(message);
        else
            qWarning().noquote() << message;
    }

    /// Report `done` of `total` units (bytes, rows...) for the named stage.
    void setProgress(qint64 done, qint64 total, const QString &stage = {})
    {
        std::lock_guard lock(m_mutex);
        if (m_callback)
            m_callback(done, total, stage);
    }

    void cancel() { m_cancelled.store(true, std::memory_order_relaxed); }
    /// Cancelled itself, or its parent is (a job that wraps another's progress in its own keeps the cancel).
    bool isCancelled() const
    {
        return m_cancelled.load(std::memory_order_relaxed) || (m_parent && m_parent->isCancelled());
    }
    /// Follow `parent`'s cancel too. Set before sharing the object; `parent` must outlive it.
    void setParent(const Feedback *parent) { m_parent = parent; }

private:
    std::atomic<bool> m_cancelled{false};
    const Feedback *m_parent = nullptr;
    mutable std::mutex m_mutex;
    ProgressCallback m_callback;
    WarningCallback m_warning;
};

/// The time a long job's current stage has left, for a progress display: the rate is the stage's own, from when it
/// began and how far along it was then, so a profile that follows a long parse is not estimated at the parse's pace.
/// The first stage begins with the job. Fed the job's progress reports in order; one owner (not thread-safe).
class StageEta {
public:
    explicit StageEta(qint64 jobStartMs = 0) : m_startMs(jobStartMs) {}
    /// One progress report at `nowMs` (the same steady clock as the start). A new stage name, or progress that went
    /// back (a stage that starts over), begins a new stage; an empty name continues the current one.
    void report(qint64 nowMs, qint64 done, qint64 total, const QString &stage = {})
    {
        const double fraction = total > 0 ? std::clamp(double(done) / double(total), 0.0, 1.0) : 0.0;
        if ((!stage.isEmpty() && !m_stage.isEmpty() && stage != m_stage) || fraction < m_fraction) {
            m_startMs = nowMs;
            m_startFraction = fraction;
        }
        if (!stage.isEmpty())
            m_stage = stage;   // the first name names the stage that began with the job
        m_fraction = fraction;
        m_known = total > 0;
    }
    /// Milliseconds the stage still needs at `nowMs`, at its pace so far; nothing until 300 ms and 1% of it have
    /// passed, and nothing once it is complete or when its total is unknown.
    std::optional<qint64> remainingMs(qint64 nowMs) const
    {
        const qint64 elapsed = nowMs - m_startMs;
        const double progressed = m_fraction - m_startFraction;
        if (!m_known || m_fraction >= 1.0 || elapsed < 300 || progressed < 0.01)
            return std::nullopt;
        return qint64(double(elapsed) * (1.0 - m_fraction) / progressed);
    }
    const QString &stage() const { return m_stage; }

private:
    QString m_stage;
    qint64 m_startMs = 0;
    double m_startFraction = 0;
    double m_fraction = 0;
    bool m_known = false;
};

inline bool isCancelled(const Feedback *f) { return f && f->isCancelled(); }
inline void reportWarning(const Feedback *f, const QString &message)
{
    if (f)
        f->warn(message);
    else
        qWarning().noquote() << message;
}
inline void reportProgress(Feedback *f, qint64 done, qint64 total, const QString &stage = {})
{
    if (f)
        f->setProgress(done, total, stage);
}

} // namespace keel
