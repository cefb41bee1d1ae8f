#pragma once
// Pack files: many chunks concatenated in one file (`packs/pack-<name>.pack`) plus a sorted index
// (`packs/pack-<name>.idx`) that lists each chunk's id, offset and length and ends with its own SHA-256; the pack's
// name is that checksum in hex. A pack becomes visible only when its idx is renamed into place, so a crash leaves
// at most an orphan pack (no idx) or files in tmp/, both ignored by readers and removed by gc.

#include "util/directwriter.h"
#include "util/hash.h"
#include "util/result.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <vector>

namespace keel::store {

inline constexpr qint64 kPackHeaderSize = 16;               ///< "KEELPACK", uint32 version 1, uint32 zero
inline constexpr qint64 kDefaultPackSize = 256LL << 20;      ///< new packs roll over past this size

/// One chunk inside a pack.
struct PackEntry {
    Sha256 id{};
    qint64 offset = 0;   ///< byte offset in the .pack file
    qint64 length = 0;
};

/// A decoded .idx file: entries sorted by id (unique), the expected .pack size and the pack name (64 hex digits).
struct PackIndex {
    QString name;
    qint64 packSize = 0;
    std::vector<PackEntry> entries;
};

/// The 16-byte header every pack file starts with.
QByteArray packHeader();
/// Encodes an idx for `entries` (sorted here by id) of a pack of `packSize` bytes; its last 32 bytes are the
/// SHA-256 of everything before them. Returns the bytes and sets `name` to that checksum in hex.
QByteArray encodePackIndex(std::vector<PackEntry> entries, qint64 packSize, QString *name);
/// Decodes and validates an idx (magic, size, checksum, sorted unique ids, entries inside the pack). `path` names
/// the file in errors. When `expectedName` is not empty the checksum must equal it.
Expected<PackIndex> decodePackIndex(QByteArrayView bytes, const QString &path, const QString &expectedName = {});

/// "pack-<name>.pack" / "pack-<name>.idx".
QString packFileName(const QString &name);
QString indexFileName(const QString &name);

/// Writes chunks into new packs under `<root>/tmp`, committing each into `<root>/packs` when it passes the size
/// limit and on finish(): pack fsync + rename first, then the idx (written, fsynced, renamed), with folder syncs
/// between. Pack data goes through a DirectWriter, so the disk writes while the caller keeps hashing.
/// A staged writer only seals its full packs (written and fsynced, still in tmp/, invisible to every reader and
/// writer) until publish() commits them all, so an add can write while its caller decides whether it may land.
/// One writer is used by one thread at a time. Destroying a writer discards its uncommitted packs.
class PackWriter {
public:
    enum class Mode { Commit, Stage };
    PackWriter(const QString &root, qint64 packSizeLimit = kDefaultPackSize, Mode mode = Mode::Commit);
    ~PackWriter();
    PackWriter(const PackWriter &) = delete;
    PackWriter &operator=(const PackWriter &) = delete;

    /// Appends one chunk (the caller ensures ids are unique within the writer). May commit a full pack.
    Status append(const Sha256 &id, const char *data, qint64 length);
    /// As append(), for bytes that stay valid and unchanged until finish() or discard() returns (a mapped file
    /// being added). Chunks that follow each other in memory are collected into one run, and a run of a
    /// megabyte or more goes to the disk from where it is, without a copy: it starts at the file offset that
    /// has its page offset in memory, after up to 4095 bytes of padding no entry covers. Runs are handed to the
    /// disk every 16 MiB, so it writes while the caller hashes the next chunks.
    Status appendInPlace(const Sha256 &id, const char *data, qint64 length);
    /// Commits the pack in progress, if it holds any chunk (a staged writer seals it).
    Status finish();
    /// A staged writer: commits the packs sealed so far, in order.
    Status publish();
    /// Discards the pack in progress (packs already committed stay).
    void discard();
    /// Packs committed since the last call, in commit order.
    std::vector<PackIndex> takeCommitted();

    qint64 chunksWritten() const { return m_chunksWritten; }
    qint64 bytesWritten() const { return m_bytesWritten; }   ///< chunk payload bytes appended

private:
    struct Sealed {
        QString tmpPath;
        qint64 size = 0;
        std::vector<PackEntry> entries;
    };
    Status commitPack();
    Status publishPack(Sealed sealed);
    Status openPack();
    Status flushRun();

    QString m_root;
    qint64 m_limit;
    Mode m_mode;
    std::vector<Sealed> m_sealed;
    DirectWriter m_file;
    std::vector<PackEntry> m_entries;
    static constexpr qint64 kRunFlush = 16LL << 20;   // appendInPlace hands runs this long to m_file at once
    const char *m_runData = nullptr;   // appendInPlace: chunks collected, not yet handed to m_file
    qint64 m_runLength = 0;
    size_t m_runEntries = 0;   // the last entries of m_entries, whose offsets assume no padding before the run
    std::vector<PackIndex> m_committed;
    qint64 m_chunksWritten = 0;
    qint64 m_bytesWritten = 0;
};

} // namespace keel::store
