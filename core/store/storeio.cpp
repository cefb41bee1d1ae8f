#include "store/storeio.h"

#include "util/fileutil.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace keel::store {

QString errnoText() { return QString::fromLocal8Bit(strerror(errno)); }

QString randomSuffix()
{
    return QStringLiteral("%1-%2").arg(::getpid()).arg(QRandomGenerator::global()->generate64(), 16, 16,
                                                         QLatin1Char('0'));
}

Status preadFully(int fd, char *dst, qint64 len, qint64 offset, const QString &path)
{
    while (len > 0) {
        const ssize_t n = ::pread(fd, dst, size_t(len), off_t(offset));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return makeError(QStringLiteral("cannot read at offset %1: %2").arg(offset).arg(errnoText()), path);
        }
        if (n == 0)
            return makeError(QStringLiteral("file is truncated: nothing to read at offset %1").arg(offset), path);
        dst += n;
        offset += n;
        len -= n;
    }
    return {};
}

Status writeDurably(const QString &tmpDir, const QString &path, QByteArrayView bytes)
{
    const QString tmp = tmpDir + QStringLiteral("/obj-") + randomSuffix() + QStringLiteral(".tmp");
    const QByteArray nativeTmp = QFile::encodeName(tmp);
    const int fd = ::open(nativeTmp.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return makeError(QStringLiteral("cannot create temporary file: %1").arg(errnoText()), tmp);
    const char *p = bytes.data();
    qint64 left = bytes.size();
    QString err;
    while (left > 0) {
        const ssize_t n = ::write(fd, p, size_t(left));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? errnoText() : QStringLiteral("write returned 0 bytes");
            break;
        }
        p += n;
        left -= n;
    }
    if (err.isEmpty() && ::fsync(fd) != 0)
        err = errnoText();
    ::close(fd);
    if (err.isEmpty()) {
        const QString dir = QFileInfo(path).absolutePath();
        const bool existed = QFileInfo::exists(dir);
        if (!existed && !QDir().mkpath(dir))
            err = QStringLiteral("cannot create folder %1").arg(dir);
        else if (::rename(nativeTmp.constData(), QFile::encodeName(path).constData()) != 0)
            err = errnoText();
        if (err.isEmpty()) {
            syncDirectory(dir);
            if (!existed)
                syncDirectory(QFileInfo(dir).absolutePath());
            return {};
        }
    }
    ::unlink(nativeTmp.constData());
    return makeError(QStringLiteral("cannot write: %1").arg(err), path);
}

QStringList filesIn(const QString &dir)
{
    return QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::System, QDir::Name);
}

qint64 fileSize(const QString &path) { return QFileInfo(path).size(); }

bool removeFile(const QString &path) { return ::unlink(QFile::encodeName(path).constData()) == 0; }

} // namespace keel::store
