#include "util/directwriter.h"

#include "util/fileutil.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace keel {

namespace {

constexpr qint64 kBufferSize = 8LL << 20;
constexpr size_t kMaxBuffers = 3;   // one being filled, two queued or in flight
constexpr qint64 kAlign = 4096;     // O_DIRECT: buffer address, file offset and length

// pwrite all of [data, data+len) at `offset`; drops O_DIRECT on the fd if the file system rejects it.
QString writeAt(int fd, const char *data, qint64 len, qint64 offset)
{
    while (len > 0) {
        const ssize_t n = ::pwrite(fd, data, size_t(len), off_t(offset));
        if (n < 0) {
            const int err = errno;
            if (err == EINTR)
                continue;
            const int flags = ::fcntl(fd, F_GETFL);
            if (err == EINVAL && flags >= 0 && (flags & O_DIRECT) && ::fcntl(fd, F_SETFL, flags & ~O_DIRECT) == 0)
                continue;
            return QString::fromLocal8Bit(strerror(err));
        }
        if (n == 0)
            return QStringLiteral("write returned 0 bytes");
        data += n;
        offset += n;
        len -= n;
    }
    return {};
}

} // namespace

DirectWriter::DirectWriter() = default;

DirectWriter::~DirectWriter()
{
    abort();
    if (m_thread.joinable()) {
        {
            std::lock_guard lock(m_mutex);
            m_quit = true;
        }
        m_cond.notify_all();
        m_thread.join();
    }
}

void DirectWriter::ioLoop()
{
    for (;;) {
        Buffer b;
        bool skip = false;
        {
            std::unique_lock lock(m_mutex);
            m_cond.wait(lock, [this] { return m_quit || !m_queue.empty(); });
            if (m_queue.empty())
                return;
            b = m_queue.front();
            m_queue.pop_front();
            m_busy = true;
            skip = !m_ioError.isEmpty();
        }
        QString err;
        if (!skip) {
            err = writeAt(b.fd, b.data, b.used, b.fileOffset);
            const int flags = ::fcntl(b.fd, F_GETFL);
            if (err.isEmpty() && flags >= 0 && !(flags & O_DIRECT))
                ::sync_file_range(b.fd, off_t(b.fileOffset), off_t(b.used), SYNC_FILE_RANGE_WRITE);
        }
        {
            std::lock_guard lock(m_mutex);
            if (!err.isEmpty() && m_ioError.isEmpty())
                m_ioError = err;
            b.used = 0;
            if (!b.borrowed)
                m_free.push_back(b);
            m_busy = false;
        }
        m_cond.notify_all();
    }
}

Status DirectWriter::takeFreeBuffer()
{
    std::unique_lock lock(m_mutex);
    if (m_free.empty() && m_allocations.size() < kMaxBuffers) {
        void *mem = std::aligned_alloc(size_t(kAlign), size_t(kBufferSize));
        if (!mem)
            return makeError(QStringLiteral("out of memory for write buffers"), m_path);
        m_allocations.emplace_back(static_cast<char *>(mem), &std::free);
        m_current = Buffer{-1, static_cast<char *>(mem), 0, 0};
        return {};
    }
    m_cond.wait(lock, [this] { return !m_free.empty(); });
    m_current = m_free.back();
    m_free.pop_back();
    m_current.used = 0;
    return {};
}

Status DirectWriter::submitCurrent()
{
    m_current.fd = m_fd;
    m_current.fileOffset = m_submitted;
    m_submitted += m_current.used;
    {
        std::lock_guard lock(m_mutex);
        if (!m_ioError.isEmpty())
            return makeError(QStringLiteral("write failed: %1").arg(m_ioError), m_path);
        m_queue.push_back(m_current);
        if (!m_thread.joinable())
            m_thread = std::thread(&DirectWriter::ioLoop, this);
    }
    m_cond.notify_all();
    m_current = Buffer{};
    return takeFreeBuffer();
}

Status DirectWriter::waitIdle()
{
    std::unique_lock lock(m_mutex);
    m_cond.wait(lock, [this] { return m_queue.empty() && !m_busy; });
    if (!m_ioError.isEmpty())
        return makeError(QStringLiteral("write failed: %1").arg(m_ioError), m_path);
    return {};
}

Status DirectWriter::open(const QString &path)
{
    abort();
    const QByteArray native = QFile::encodeName(path);
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
    m_fd = ::open(native.constData(), flags | O_DIRECT, 0644);
    if (m_fd < 0 && errno == EINVAL)
        m_fd = ::open(native.constData(), flags, 0644);
    if (m_fd < 0)
        return makeError(QStringLiteral("cannot create: %1").arg(QString::fromLocal8Bit(strerror(errno))), path);
    m_path = path;
    m_size = 0;
    m_submitted = 0;
    if (!m_current.data)
        return takeFreeBuffer();
    m_current.used = 0;
    return {};
}

Status DirectWriter::write(const char *data, qint64 length)
{
    m_size += length;
    while (length > 0) {
        const qint64 n = std::min(length, kBufferSize - m_current.used);
        std::memcpy(m_current.data + m_current.used, data, size_t(n));
        m_current.used += n;
        data += n;
        length -= n;
        if (m_current.used == kBufferSize) {
            Status st = submitCurrent();
            if (!st.isOk())
                return st;
        }
    }
    return {};
}

qint64 DirectWriter::gapToPageOffset(const char *data, qint64 fileOffset)
{
    const qint64 address = qint64(reinterpret_cast<quintptr>(data) % quintptr(kAlign));
    return ((address - fileOffset % kAlign) % kAlign + kAlign) % kAlign;
}

Status DirectWriter::writeZeros(qint64 length)
{
    static const char zeros[kAlign] = {};
    for (Status st; length > 0; length -= std::min(length, kAlign))
        if (st = write(zeros, std::min(length, kAlign)); !st.isOk())
            return st;
    return {};
}

Status DirectWriter::writeInPlace(const char *data, qint64 length)
{
    // The file offset of data[0] is m_size; O_DIRECT needs the address and the offset aligned alike.
    const qint64 skew = qint64(reinterpret_cast<quintptr>(data) % quintptr(kAlign));
    const qint64 head = (kAlign - skew) % kAlign;
    if (length - head < kInPlaceMinimum || (m_size + head) % kAlign != 0)
        return write(data, length);
    if (Status st = write(data, head); !st.isOk())
        return st;
    data += head;
    length -= head;
    const qint64 body = length / kAlign * kAlign;
    // The current buffer now ends on a 4 KiB boundary of the file: it goes first, then the caller's bytes.
    if (m_current.used > 0) {
        if (Status st = submitCurrent(); !st.isOk())
            return st;
    }
    {
        std::lock_guard lock(m_mutex);
        if (!m_ioError.isEmpty())
            return makeError(QStringLiteral("write failed: %1").arg(m_ioError), m_path);
        m_queue.push_back(Buffer{m_fd, const_cast<char *>(data), body, m_submitted, true});
        if (!m_thread.joinable())
            m_thread = std::thread(&DirectWriter::ioLoop, this);
    }
    m_cond.notify_all();
    m_submitted += body;
    m_size += body;
    return write(data + body, length - body);
}

Status DirectWriter::close()
{
    auto failed = [this](const QString &what) {
        const Error e = makeError(what, m_path);
        abort();
        return Status(e);
    };
    Status st = waitIdle();
    if (!st.isOk())
        return failed(st.error().message);
    if (m_current.used > 0) {
        // The last buffer is padded to the O_DIRECT alignment and the file cut back to its real size.
        const qint64 padded = (m_current.used + kAlign - 1) / kAlign * kAlign;
        std::memset(m_current.data + m_current.used, 0, size_t(padded - m_current.used));
        const QString err = writeAt(m_fd, m_current.data, padded, m_submitted);
        if (!err.isEmpty())
            return failed(QStringLiteral("write failed: %1").arg(err));
        m_current.used = 0;
    }
    if (::ftruncate(m_fd, off_t(m_size)) != 0 || ::fsync(m_fd) != 0)
        return failed(QStringLiteral("cannot sync: %1").arg(QString::fromLocal8Bit(strerror(errno))));
    ::close(m_fd);
    m_fd = -1;
    return {};
}

void DirectWriter::abort()
{
    {
        std::unique_lock lock(m_mutex);
        m_cond.wait(lock, [this] { return m_queue.empty() && !m_busy; });
        m_ioError.clear();
    }
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
        ::unlink(QFile::encodeName(m_path).constData());
    }
    m_current.used = 0;
}

Status writeFileAtomically(const QString &path, const std::function<Status(DirectWriter &)> &fill)
{
    const QFileInfo info(path);
    const QString dir = info.absolutePath();
    if (!QDir().mkpath(dir))
        return makeError(ErrorKind::Io, QStringLiteral("cannot create folder %1").arg(dir), path);
    DirectWriter out;
    Status st;
    for (int attempt = 0; attempt < 4; ++attempt) {
        st = out.open(dir + QStringLiteral("/.") + info.fileName() + QStringLiteral(".keel-")
                      + QString::number(QRandomGenerator::global()->generate64(), 36) + QStringLiteral(".tmp"));
        if (st.isOk())
            break;
    }
    if (!st.isOk())
        return st;
    if (st = fill(out); !st.isOk()) {
        out.abort();
        return st;
    }
    if (st = out.close(); !st.isOk())
        return st;
    if (::rename(QFile::encodeName(out.path()).constData(), QFile::encodeName(path).constData()) != 0) {
        const QString err = QString::fromLocal8Bit(strerror(errno));
        ::unlink(QFile::encodeName(out.path()).constData());
        return makeError(QStringLiteral("cannot rename into place: %1").arg(err), path);
    }
    syncDirectory(dir);
    return {};
}

} // namespace keel
