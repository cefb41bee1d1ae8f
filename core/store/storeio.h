#pragma once
// Small POSIX file helpers shared by the object store's files (internal to core/store).

#include "util/result.h"

#include <QByteArrayView>
#include <QString>
#include <QStringList>

namespace keel::store {

/// strerror(errno) as a QString.
QString errnoText();
/// "<pid>-<16 random hex digits>": unique names for temporary files of concurrent processes.
QString randomSuffix();
/// Reads exactly `len` bytes at `offset`; a short read is reported as a truncated file naming `path`.
Status preadFully(int fd, char *dst, qint64 len, qint64 offset, const QString &path);
/// Writes `bytes` to a new file in `tmpDir`, fsyncs it, renames it to `path` (creating its folder) and syncs the
/// folder: `path` never exists half-written. Replaces an existing file.
Status writeDurably(const QString &tmpDir, const QString &path, QByteArrayView bytes);
/// Regular files (hidden ones included) directly in `dir`, sorted by name.
QStringList filesIn(const QString &dir);
/// Size of a file, 0 if missing.
qint64 fileSize(const QString &path);
/// unlink(); true if the file was removed.
bool removeFile(const QString &path);

} // namespace keel::store
