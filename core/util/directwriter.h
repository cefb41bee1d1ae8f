#pragma once
// Sequential writing of a new file at disk speed with little CPU: data is copied into 4 KiB-aligned buffers that a
// background thread writes with O_DIRECT (no page-cache copy, no dirty-page flush at fsync), falling back to
// ordinary writes plus early write-back where the file system refuses O_DIRECT. Bytes that stay put until the file
// is closed can skip the copy (writeInPlace).

#include "util/result.h"

#include <QString>

#include <condition_variable>
#include <deque>
#include <memory>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace keel {

/// Writes one new file at a time, front to back. Used by one thread at a time (plus its own I/O thread).
/// Destroying the writer with a file open removes that file.
class DirectWriter {
public:
    DirectWriter();
    ~DirectWriter();
    DirectWriter(const DirectWriter &) = delete;
    DirectWriter &operator=(const DirectWriter &) = delete;

    /// Creates `path` (which must not exist) for writing.
    Status open(const QString &path);
    bool isOpen() const { return m_fd >= 0; }
    QString path() const { return m_path; }
    /// Bytes written so far.
    qint64 size() const { return m_size; }

    /// Appends bytes; returns an error from an earlier background write, if any.
    Status write(const char *data, qint64 length);
    /// Appends bytes that stay valid and unchanged until close() or abort() returns. Where the data's address and
    /// the file offset agree modulo 4 KiB, the aligned middle goes to the disk straight from `data`, without a
    /// copy; the rest, and any other data, is copied as by write().
    Status writeInPlace(const char *data, qint64 length);
    /// The smallest run writeInPlace() writes without a copy.
    static constexpr qint64 kInPlaceMinimum = 1LL << 20;
    /// Bytes to add to `fileOffset` (0 to 4095) for it to have the page offset `data` has in memory: where
    /// writeInPlace() can send `data` without a copy.
    static qint64 gapToPageOffset(const char *data, qint64 fileOffset);
    /// Appends `length` zero bytes (padding).
    Status writeZeros(qint64 length);
    /// Writes out everything, fsyncs and closes. The file stays at path(); on error it is removed.
    Status close();
    /// Closes and removes the file.
    void abort();

private:
    struct Buffer {
        int fd = -1;
        char *data = nullptr;
        qint64 used = 0;
        qint64 fileOffset = 0;
        bool borrowed = false;   // the caller's bytes (writeInPlace): written, never reused as a buffer
    };

    Status submitCurrent();
    Status takeFreeBuffer();
    Status waitIdle();
    void ioLoop();

    QString m_path;
    int m_fd = -1;
    qint64 m_size = 0;
    qint64 m_submitted = 0;   // file offset where the current buffer lands
    Buffer m_current;
    std::vector<std::unique_ptr<char, void (*)(void *)>> m_allocations;

    std::mutex m_mutex;
    std::condition_variable m_cond;
    std::deque<Buffer> m_queue;
    std::vector<Buffer> m_free;
    bool m_busy = false;
    bool m_quit = false;
    QString m_ioError;
    std::thread m_thread;
};

/// Writes a whole new file at `path` through a DirectWriter: `fill` writes the bytes into a temporary file beside it
/// (same file system), which is fsynced and renamed over `path`, its folder synced, only if `fill` succeeds. No
/// partial file is ever visible at `path`, and a file already there stays until the new one replaces it. The folder
/// is created if missing.
Status writeFileAtomically(const QString &path, const std::function<Status(DirectWriter &)> &fill);

} // namespace keel
