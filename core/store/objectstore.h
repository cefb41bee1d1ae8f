#pragma once
// The content-addressed object store behind `.keel/objects` and its remotes. Files are cut by content-defined
// chunking, each chunk is named by its SHA-256 and stored once in pack files; a manifest (itself content-addressed)
// lists a file's chunks and its id is the file version's content id.
//
// Layout under the root:
//   packs/pack-<hex>.pack, packs/pack-<hex>.idx   chunk data and its sorted, checksummed index
//   manifests/<2 hex>/<62 hex>                   manifest objects
//   tmp/                                         writes in progress (a crash leaves files here only)
//   lock                                         flock: adds, copies and reads share it, gc takes it exclusively
// Every write goes to tmp/, is fsynced and renamed into place; packs become visible with their idx, manifests are
// written after the chunks they list, so no crash leaves a partial object or a manifest with missing chunks.

#include "store/manifest.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QByteArrayView>
#include <QSet>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace keel::store {

/// What addFile / addBytes stored.
struct AddResult {
    QString id;              ///< manifest id (64 hex digits): the content id of the file
    qint64 size = 0;         ///< file bytes
    qint64 chunks = 0;       ///< chunks in the manifest
    qint64 newChunks = 0;    ///< chunks written by this add (not already in the store)
    qint64 newBytes = 0;     ///< chunk bytes written by this add
};

/// One thing fsck found wrong.
struct FsckProblem {
    QString object;    ///< chunk id, manifest id or pack name
    QString where;     ///< e.g. "packs/pack-ab….pack@1234" or "manifests/ab/cd…"
    QString message;   ///< e.g. "hash mismatch"
};

/// Result of fsck: what was checked and the problems found.
struct FsckReport {
    qint64 chunksChecked = 0;
    qint64 manifestsChecked = 0;
    qint64 bytesChecked = 0;
    qint64 staleTempFiles = 0;   ///< leftovers of interrupted writes (tmp/ files, packs without idx); not problems
    bool writeInProgress = false;   ///< a write ran during the check: some or all of those files may be its own
    std::vector<FsckProblem> problems;
    bool ok() const { return problems.empty(); }
};

/// Result of gc.
struct GcReport {
    qint64 manifestsRemoved = 0;
    qint64 chunksRemoved = 0;     ///< unreferenced chunks and duplicate copies dropped from packs
    qint64 bytesFreed = 0;        ///< bytes of files deleted minus bytes of packs written
    qint64 packsRewritten = 0;
    qint64 leftoversRemoved = 0;  ///< files of interrupted writes (a killed add's staged packs, packs without idx)
};

/// Size of the store.
struct StoreStats {
    qint64 manifests = 0;
    qint64 chunks = 0;        ///< distinct chunks
    qint64 packs = 0;
    qint64 storedBytes = 0;   ///< chunk payload bytes on disk
    qint64 diskBytes = 0;     ///< all files incl. idx and manifests
};

/// A content-addressed store rooted at one folder. Thread-safe for concurrent reads; one add at a time per object
/// (further adds on the same object wait), any number of processes (or objects) may add concurrently.
class ObjectStore {
public:
    ~ObjectStore();
    ObjectStore(const ObjectStore &) = delete;
    ObjectStore &operator=(const ObjectStore &) = delete;

    /// Opens (and with create=true creates) the store at `root`. Error if missing and !create.
    static Expected<std::unique_ptr<ObjectStore>> open(const QString &root, bool create);
    QString root() const;

    /// New packs written by this object (adds, gc, copies into it) roll over past this size; default 256 MiB.
    /// Copies into this store commit batches of at most min(limit, 64 MiB). Call before sharing the object.
    void setPackSizeLimit(qint64 bytes);

    /// Chunks, hashes and stores a file (memory-mapped; it must not shrink during the call); returns its manifest
    /// id (content id). Stores only chunks not yet present. Uses all cores; progress in bytes.
    Expected<AddResult> addFile(const QString &path, Feedback *feedback = nullptr);
    /// Same for bytes in memory (small artifacts, metadata).
    Expected<AddResult> addBytes(QByteArrayView bytes, Feedback *feedback = nullptr);

    /// True if the manifest is present and intact and all its chunks are in the store.
    bool contains(const QString &id) const;
    /// Logical file size from the manifest.
    Expected<qint64> sizeOf(const QString &id) const;
    /// Writes the file back byte-identical (verifying every chunk hash) to outPath, atomically: on any error no
    /// file (and no partial file) is left at outPath and an existing file there is unchanged.
    Status checkout(const QString &id, const QString &outPath, Feedback *feedback = nullptr) const;
    /// Streams the file to an open descriptor (e.g. stdout), every chunk verified before it is written.
    Status writeTo(const QString &id, int fd, Feedback *feedback = nullptr) const;
    /// The whole file in memory, every chunk verified.
    Expected<QByteArray> readAll(const QString &id) const;
    /// All manifest ids present, sorted.
    QStringList manifestIds() const;

    /// Re-reads and re-hashes every chunk and manifest. Never modifies the store.
    FsckReport fsck(Feedback *feedback = nullptr) const;
    /// Removes manifests not in `live` and chunks no live manifest references (repacking packs that mix live and
    /// dead chunks, and merging small packs; crash-safe: new pack first, then delete old), packs without idx and
    /// stale tmp files. Fails without deleting anything if a live manifest cannot be read.
    Expected<GcReport> gc(const QSet<QString> &live, Feedback *feedback = nullptr);
    StoreStats stats() const;

    /// Copies the given manifests and the chunks they need from `from` into `to`, skipping whatever `to` already
    /// has, verifying every chunk hash. Writes in batches (packs of at most 64 MiB), each committed atomically, and
    /// writes each manifest once its chunks are committed, so an interrupted copy resumes where it stopped.
    /// Progress in bytes copied (reported per batch); cancel honoured between batches.
    static Status copyObjects(const ObjectStore &from, ObjectStore &to, const QStringList &ids,
                              Feedback *feedback = nullptr);

    // ---- an add that may still be refused: write while something else works on the same bytes ----

    /// Decides, once every new chunk of an add is written and fsynced (but not yet visible), whether it may land.
    using PublishGate = std::function<Status()>;
    /// Like addBytes over `size` bytes at `data` (which must not change during the call), but before anything
    /// becomes visible it calls `gate` (on the calling thread): an error there removes everything this add wrote
    /// and is returned. Lets `data add` store the bytes while it parses them and still leave nothing behind when the
    /// parse refuses the file. The store's shared write lock is held from the start to the end of the call, gate
    /// included, so a gc (exclusive) waits for the gate; the gate must not itself add to or gc this store.
    Expected<AddResult> addGated(const char *data, qint64 size, const PublishGate &gate, Feedback *feedback = nullptr);

    // ---- transfers to and from stores of another kind (an S3 remote) ----

    /// An object's manifest: its encoded bytes (the id is their SHA-256) and the chunks it lists.
    Expected<std::pair<QByteArray, Manifest>> manifest(const QString &id) const;
    /// Which of these chunks the store holds.
    std::vector<bool> hasChunks(const std::vector<Sha256> &ids) const;
    /// Reads chunks, each verified against its id, in the given order, handing each to `sink`.
    Status readChunks(const std::vector<Sha256> &ids, const std::function<Status(const Sha256 &, QByteArrayView)> &sink) const;
    /// Adds chunks that arrived from elsewhere: each is hashed and must match its id (else nothing of this call is
    /// kept); chunks already present are skipped. Committed as one pack, durably, before returning.
    Status addChunks(const std::vector<std::pair<Sha256, QByteArrayView>> &chunks);
    /// Adds a manifest that arrived from elsewhere: its SHA-256 must be `id`, it must decode, and every chunk it
    /// lists must already be in the store (add them first), so no object is visible before all its bytes are.
    Status addManifest(const QString &id, const QByteArray &bytes);

private:
    struct Private;
    Status streamTo(const QString &id, const std::function<Status(const char *, qint64)> &sink, Feedback *feedback) const;
    explicit ObjectStore(std::unique_ptr<Private> d);
    Expected<AddResult> addData(const char *data, qint64 size, Feedback *feedback, const PublishGate &gate = {});
    std::unique_ptr<Private> d;
};

} // namespace keel::store
