#pragma once
// Progress and cancellation passed into long core calls (the QgsFeedback pattern):
// the GUI, the CLI and tests all hand the same object to the same core code.

#include <QDebug>
#include <QString>

#include <atomic>
#include <functional>
#include <mutex>

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
