#pragma once
// File helpers that never leave a half-written file visible.

#include "util/result.h"

#include <QByteArray>
#include <QString>

namespace keel {

/// Writes `data` to `path` atomically: temp file in the same folder, fsync, rename,
/// fsync of the folder. Creates missing parent folders.
Status writeFileAtomic(const QString &path, QByteArrayView data);

/// Reads a whole file; the error names the file.
Expected<QByteArray> readFile(const QString &path);

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
