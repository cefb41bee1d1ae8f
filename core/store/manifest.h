#pragma once
// A manifest lists the chunks of one stored file, in order. Its bytes are an object of their own: the SHA-256 of
// the encoded manifest is the file version's content id. The encoding is plain text, one chunk per line:
//   keel-manifest 1
//   size <file bytes>
//   chunks <count>
//   <64 hex chunk id> <length>      (count lines)

#include "util/hash.h"
#include "util/result.h"

#include <QByteArray>
#include <QString>

#include <vector>

namespace keel::store {

/// One chunk reference of a manifest.
struct ManifestChunk {
    Sha256 id{};
    qint64 length = 0;
};

/// A decoded manifest: the logical file size and its chunks in file order (lengths sum to size).
struct Manifest {
    qint64 size = 0;
    std::vector<ManifestChunk> chunks;
};

/// Encodes a manifest canonically (the same manifest always gives the same bytes).
QByteArray encodeManifest(const Manifest &manifest);
/// Decodes and validates a manifest (strict syntax, chunk count, lengths summing to the size); errors name `path`
/// and the 1-based line at fault.
Expected<Manifest> decodeManifest(QByteArrayView bytes, const QString &path);

} // namespace keel::store
