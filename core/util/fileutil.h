#pragma once
// File helpers that never leave a half-written file visible.

#include "util/result.h"

#include <QByteArray>
#include <QString>

namespace keel {

/// Writes `data` to `path` atomically: temp file in the same folder, fsync, rename,
/// fsync of the folder. Creates missing parent folders.
Status writeFileAtomic(const QString &path, QByteArrayView data);

/// Reads a whole file; the error names the file. Refuses what checkInputFile() refuses.
Expected<QByteArray> readFile(const QString &path);

/// Checks that `path` names a regular file that can be read without blocking: the error says exactly what it is
/// otherwise (missing, a folder, a FIFO, a device, a socket, a dangling symbolic link, a symbolic link loop).
Status checkInputFile(const QString &path);

/// How a command may write a file that the user named (`-o PATH`).
struct OutputPolicy {
    bool overwrite = false;   ///< replace an existing regular file (--force)
};
/// Checks that `path` may be written under `policy`: never over a device, FIFO, socket, folder or symbolic link,
/// never inside a `.git` or `.keel` folder (a workspace's history, object store or tracking database), and not over
/// an existing file unless policy.overwrite. The error (kind InvalidInput or Conflict) names the path and why.
Status checkOutputPath(const QString &path, const OutputPolicy &policy);
/// Writes `data` to a user-named path: checkOutputPath(), then writeFileAtomic().
Status writeUserFile(const QString &path, QByteArrayView data, const OutputPolicy &policy);

/// fsync on a folder so a rename inside it is durable.
void syncDirectory(const QString &dir);

/// Memory-maps a whole file read-only. The mapping lives as long as any copy of the returned pointer.
struct MappedFile {
    const char *data = nullptr;
    qint64 size = 0;
    std::shared_ptr<void> owner;   ///< keeps the mapping (and file) alive
};
Expected<MappedFile> mapFile(const QString &path);

} // namespace keel
