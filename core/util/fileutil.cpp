#include "util/fileutil.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <cerrno>
#include <cstring>

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

namespace {

QString fileKind(mode_t mode)
{
    if (S_ISDIR(mode))
        return QStringLiteral("a folder");
    if (S_ISFIFO(mode))
        return QStringLiteral("a FIFO (named pipe)");
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return QStringLiteral("a device");
    if (S_ISSOCK(mode))
        return QStringLiteral("a socket");
    if (S_ISLNK(mode))
        return QStringLiteral("a symbolic link");
    return QStringLiteral("not a regular file");
}

QString errnoString(int e) { return QString::fromLocal8Bit(::strerror(e)); }

} // namespace

Status checkInputFile(const QString &path)
{
    const QByteArray native = QFile::encodeName(path);
    struct stat st {};
    if (::stat(native.constData(), &st) != 0) {
        const int e = errno;
        struct stat lst {};
        if (e == ELOOP)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("a symbolic link loop, not a file"), path);
        if (e == ENOENT && ::lstat(native.constData(), &lst) == 0 && S_ISLNK(lst.st_mode))
            return makeError(ErrorKind::NotFound, QStringLiteral("a symbolic link to a file that does not exist"), path);
        if (e == ENOENT || e == ENOTDIR)
            return makeError(ErrorKind::NotFound, QStringLiteral("no such file"), path);
        return makeError(ErrorKind::Io, QStringLiteral("cannot read: %1").arg(errnoString(e)), path);
    }
    if (!S_ISREG(st.st_mode))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("%1, not a regular file").arg(fileKind(st.st_mode)), path);
    return {};
}

Status checkOutputPath(const QString &path, const OutputPolicy &policy)
{
    if (path.isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("no output path given"));
    const QFileInfo info(path);
    // The folder as the kernel will see it (symbolic links resolved), then the name in it.
    const QString dir = info.absolutePath();
    const QString canonicalDir = QFileInfo(dir).canonicalFilePath();
    const QString resolved = (canonicalDir.isEmpty() ? QDir::cleanPath(dir) : canonicalDir) + QLatin1Char('/') + info.fileName();
    for (const QString &part : resolved.split(QLatin1Char('/'), Qt::SkipEmptyParts))
        if (part == u".git" || part == u".keel")
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("refusing to write inside a %1 folder (a workspace's history, object store "
                                            "or tracking database lives there)").arg(part),
                             path);
    const QByteArray native = QFile::encodeName(path);
    struct stat st {};
    if (::lstat(native.constData(), &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("%1 is there; Keel only writes regular files and never replaces anything else")
                                 .arg(fileKind(st.st_mode)),
                             path);
        if (!policy.overwrite)
            return makeError(ErrorKind::Conflict, QStringLiteral("the file exists (use --force to replace it)"), path);
    }
    return {};
}

Status writeUserFile(const QString &path, QByteArrayView data, const OutputPolicy &policy)
{
    if (Status s = checkOutputPath(path, policy); !s)
        return s;
    return writeFileAtomic(path, data);
}

Expected<QByteArray> readFile(const QString &path)
{
    if (Status s = checkInputFile(path); !s)
        return s.error();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(QStringLiteral("cannot read: %1").arg(file.errorString()), path);
    return file.readAll();
}

Expected<MappedFile> mapFile(const QString &path)
{
    if (Status s = checkInputFile(path); !s)
        return s.error();
    const QByteArray native = QFile::encodeName(path);
    const int fd = ::open(native.constData(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
