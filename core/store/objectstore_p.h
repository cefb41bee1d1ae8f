#pragma once
// Internals of ObjectStore shared by objectstore.cpp (open, add, read) and maintenance.cpp (fsck, gc, stats,
// copy). Not a public header.

#include "store/manifest.h"
#include "store/objectstore.h"
#include "store/pack.h"
#include "util/hash.h"

#include <QSet>

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace keel::store {

inline constexpr qint64 kReadBatch = 32LL << 20;   ///< chunks read and verified in parallel per step

using ChunkSet = std::unordered_set<Sha256, Sha256Hasher>;

/// A pack whose idx is loaded. Immutable once built; shared by the index and readers.
struct LoadedPack {
    QString name;
    QString path;   ///< the .pack file
    PackIndex index;
};

/// Where a chunk's bytes are.
struct ChunkRef {
    std::shared_ptr<const LoadedPack> pack;
    qint64 offset = 0;
    qint64 length = 0;
};

/// Worker threads for parallel loops (all cores).
int workerCount();
/// Runs fn(i) for i in [0, n) on up to `threads` threads (the caller is one); stops at the first failure.
Status parallelFor(qint64 n, int threads, const std::function<Status(qint64)> &fn);

/// flock on <root>/lock for the duration of one operation (shared: add, copy, read, fsck; exclusive: gc).
/// Closing the descriptor releases it.
class StoreLock {
public:
    StoreLock() = default;
    StoreLock(const StoreLock &) = delete;
    StoreLock &operator=(const StoreLock &) = delete;
    ~StoreLock();
    Status acquire(const QString &root, bool exclusive);
    /// Shared, for a writer. When no other process holds the lock at all, `whenAlone` runs first under an exclusive
    /// hold: the moment to remove leftovers of writers killed earlier, which no live writer can still be using.
    /// A writer also holds `writers` shared, so readers can tell whether a write is running (writerActive).
    Status acquireForWrite(const QString &root, const std::function<void()> &whenAlone);
    /// Whether a writer (in this process or another) holds the store now: its files in tmp/ are then live.
    static bool writerActive(const QString &root);

private:
    int m_fd = -1;
    int m_writerFd = -1;
};

/// Pack files opened for one operation; the descriptors are shared by worker threads (pread). Thread-safe.
class PackFiles {
public:
    PackFiles() = default;
    PackFiles(const PackFiles &) = delete;
    PackFiles &operator=(const PackFiles &) = delete;
    ~PackFiles();
    Expected<int> fd(const QString &path);

private:
    std::mutex m_mutex;
    std::map<QString, int> m_fds;
};

/// The in-memory index (chunk id -> pack entry, rebuilt from the idx files) and the store's paths.
struct ObjectStore::Private {
    struct Slot {
        std::shared_ptr<const LoadedPack> pack;
        quint32 entry = 0;
    };

    QString root;
    qint64 packSizeLimit = kDefaultPackSize;
    std::mutex addMutex;   // one add, copy-into or gc at a time through this object
    mutable std::shared_mutex indexMutex;
    mutable std::map<QString, std::shared_ptr<const LoadedPack>> packs;
    mutable std::unordered_map<Sha256, Slot, Sha256Hasher> chunks;
    mutable QSet<QString> badIndexes;   // idx files that failed to load (fsck reports them)

    QString packsDir() const { return root + QStringLiteral("/packs"); }
    QString manifestsDir() const { return root + QStringLiteral("/manifests"); }
    QString tmpDir() const { return root + QStringLiteral("/tmp"); }
    QString manifestPath(const QString &id) const
    {
        return manifestsDir() + QLatin1Char('/') + id.left(2) + QLatin1Char('/') + id.mid(2);
    }

    /// Removes leftovers of interrupted writes (tmp/ files, packs without idx); only under an exclusive store lock.
    /// Returns the bytes freed.
    /// Removes packs without idx and files in tmp/ (only safe when no other writer is running); returns the bytes
    /// freed and, with `files`, counts the files removed.
    qint64 removeLeftovers(qint64 *files = nullptr) const;
    /// Brings the index in line with packs/: loads new idx files, drops packs whose idx is gone (another
    /// process's gc). Called at the start of every operation, under the store lock.
    void syncIndex() const;
    /// Adds freshly committed packs to the index.
    void insertPacks(std::vector<PackIndex> &&list) const;
    void rebuildChunksLocked() const;
    std::optional<ChunkRef> find(const Sha256 &id) const;
    bool has(const Sha256 &id) const;
    /// Manifest ids on disk, sorted.
    QStringList listManifests() const;
    /// A manifest's bytes, verified against its id.
    Expected<QByteArray> readManifestBytes(const QString &id) const;
    Expected<Manifest> readManifest(const QString &id) const;
    /// Writes a manifest durably unless an identical one is already there.
    Status writeManifest(const QString &id, const QByteArray &bytes) const;
    /// Locates every chunk of a manifest; an error names the first missing one.
    Status resolve(const QString &id, const Manifest &m, std::vector<ChunkRef> &refs) const;
    /// Reads one chunk into dst and verifies its hash.
    Status readChunk(PackFiles &files, const ChunkRef &ref, const Sha256 &id, char *dst) const;
    /// Reads chunks [first, first + count) of a manifest back to back into dst, verified, on all cores.
    Status readChunks(PackFiles &files, const Manifest &m, const std::vector<ChunkRef> &refs, size_t first,
                      size_t count, char *dst) const;
};

} // namespace keel::store
