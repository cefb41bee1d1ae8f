#include "util/fileutil.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace keel {

void syncDirectory(const QString &dir)
{
    const QByteArray native = QFile::encodeName(dir);
    const int fd = ::open(native.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

Status writeFileAtomic(const QString &path, QByteArrayView data)
{
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        return makeError(QStringLiteral("cannot create folder %1").arg(info.absolutePath()), path);
    // QSaveFile writes to a temporary file and renames it on commit(); it fsyncs before the rename.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return makeError(QStringLiteral("cannot write: %1").arg(file.errorString()), path);
    if (file.write(data.data(), data.size()) != data.size()) {
        file.cancelWriting();
        return makeError(QStringLiteral("write failed: %1").arg(file.errorString()), path);
    }
    if (!file.commit())
        return makeError(QStringLiteral("cannot commit write: %1").arg(file.errorString()), path);
    syncDirectory(info.absolutePath());
    return {};
}

Expected<QByteArray> readFile(const QString &path)
{
    QFile file(path);
    if (!file.exists())
        return makeError(QStringLiteral("no such file"), path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(QStringLiteral("cannot read: %1").arg(file.errorString()), path);
    return file.readAll();
}

Expected<MappedFile> mapFile(const QString &path)
{
    const QByteArray native = QFile::encodeName(path);
    const int fd = ::open(native.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return makeError(QStringLiteral("cannot open: %1").arg(QString::fromLocal8Bit(strerror(errno))), path);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        ::close(fd);
        return makeError(QStringLiteral("not a regular file"), path);
    }
    MappedFile out;
    out.size = st.st_size;
    if (st.st_size == 0) {
        ::close(fd);
        static const char empty = 0;
        out.data = &empty;
        return out;
    }
    void *p = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED)
        return makeError(QStringLiteral("cannot map file: %1").arg(QString::fromLocal8Bit(strerror(errno))), path);
    ::madvise(p, size_t(st.st_size), MADV_SEQUENTIAL);
    const size_t len = size_t(st.st_size);
    out.data = static_cast<const char *>(p);
    out.owner = std::shared_ptr<void>(p, [len](void *q) { ::munmap(q, len); });
    return out;
}

} // namespace keel
