#include "store/objectstore.h"

#include "store/chunker.h"
#include "util/directwriter.h"
#include "store/objectstore_p.h"
#include "store/storeio.h"
#include "util/fileutil.h"
#include "util/sha256many.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <set>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace keel::store {

int workerCount() { return std::max(1, QThread::idealThreadCount()); }

namespace {

/// Appends the ids of a batch of visited chunks to `ids`, hashing the batch side by side.
void hashVisits(const char *data, std::span<const ChunkVisit> batch, std::vector<Sha256> &ids)
{
    std::vector<ByteSpan> inputs(batch.size());
    for (size_t i = 0; i < batch.size(); ++i)
        inputs[i] = ByteSpan{data + batch[i].offset, size_t(batch[i].length)};
    const size_t first = ids.size();
    ids.resize(first + batch.size());
    sha256Many(inputs.data(), inputs.size(), ids.data() + first);
}

} // namespace


Status parallelFor(qint64 n, int threads, const std::function<Status(qint64)> &fn)
{
    std::atomic<qint64> next{0};
    std::atomic<bool> stop{false};
    std::mutex errorMutex;
    std::optional<Error> firstError;
    auto work = [&] {
        while (!stop.load(std::memory_order_relaxed)) {
            const qint64 i = next.fetch_add(1);
            if (i >= n)
                return;
            Status st = fn(i);
            if (!st.isOk()) {
                std::lock_guard lock(errorMutex);
                if (!firstError)
                    firstError = st.error();
                stop.store(true);
                return;
            }
        }
    };
    const int count = int(std::clamp<qint64>(n, 1, std::max(1, threads)));
    std::vector<std::thread> pool;
    for (int t = 1; t < count; ++t)
        pool.emplace_back(work);
    work();
    for (std::thread &th : pool)
        th.join();
    if (firstError)
        return *firstError;
    return {};
}

StoreLock::~StoreLock()
{
    if (m_writerFd >= 0)
        ::close(m_writerFd);
    if (m_fd >= 0)
        ::close(m_fd);
}

Status StoreLock::acquire(const QString &root, bool exclusive)
{
    const QString path = root + QStringLiteral("/lock");
    const QByteArray native = QFile::encodeName(path);
    m_fd = ::open(native.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0)
        m_fd = ::open(native.constData(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0)
        return makeError(QStringLiteral("cannot open lock file: %1").arg(errnoText()), path);
    while (::flock(m_fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
        if (errno != EINTR)
            return makeError(QStringLiteral("cannot lock store: %1").arg(errnoText()), path);
    }
    return {};
}

Status StoreLock::acquireForWrite(const QString &root, const std::function<void()> &whenAlone)
{
    const QString path = root + QStringLiteral("/lock");
    m_fd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0)
        return makeError(ErrorKind::Io, QStringLiteral("cannot open lock file: %1").arg(errnoText()), path);
    if (::flock(m_fd, LOCK_EX | LOCK_NB) == 0) {
        whenAlone();
        // Converting to shared is not atomic: a gc may take the lock between; the writer then waits for it.
    }
    while (::flock(m_fd, LOCK_SH) != 0) {
        if (errno != EINTR)
            return makeError(ErrorKind::Io, QStringLiteral("cannot lock store: %1").arg(errnoText()), path);
    }
    // The mark that a write runs; without it (a read-only store) a check only cannot tell live files from leftovers.
    m_writerFd = ::open(QFile::encodeName(root + QStringLiteral("/writers")).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_writerFd >= 0)
        while (::flock(m_writerFd, LOCK_SH) != 0 && errno == EINTR) {
        }
    return {};
}

bool StoreLock::writerActive(const QString &root)
{
    const int fd = ::open(QFile::encodeName(root + QStringLiteral("/writers")).constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;   // no writer has run since the store was made
    int rc = 0;
    while ((rc = ::flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR) {
    }
    const bool busy = rc != 0 && errno == EWOULDBLOCK;
    ::close(fd);   // releases the probe's hold, if it got one
    return busy;
}

PackFiles::~PackFiles()
{
    for (const auto &[path, fd] : m_fds)
        ::close(fd);
}

Expected<int> PackFiles::fd(const QString &path)
{
    std::lock_guard lock(m_mutex);
    const auto it = m_fds.find(path);
    if (it != m_fds.end())
        return it->second;
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return makeError(QStringLiteral("cannot open pack: %1").arg(errnoText()), path);
    m_fds.emplace(path, fd);
    return fd;
}

void ObjectStore::Private::syncIndex() const
{
    std::set<QString> onDisk;
    for (const QString &f : QDir(packsDir()).entryList({QStringLiteral("pack-*.idx")}, QDir::Files)) {
        const QString name = f.mid(5, f.size() - 9);
        if (isHexId(name))
            onDisk.insert(name);
    }
    std::vector<QString> toLoad;
    bool removed = false;
    {
        std::shared_lock lock(indexMutex);
        for (const QString &name : onDisk)
            if (!packs.count(name) && !badIndexes.contains(name))
                toLoad.push_back(name);
        for (const auto &[name, pack] : packs)
            removed = removed || !onDisk.count(name);
    }
    if (toLoad.empty() && !removed)
        return;
    std::vector<PackIndex> loaded;
    QStringList bad;
    for (const QString &name : toLoad) {
        const QString path = packsDir() + QLatin1Char('/') + indexFileName(name);
        Expected<QByteArray> bytes = readFile(path);
        if (!bytes) {
            if (QFileInfo::exists(path))
                bad.append(name);
            continue;
        }
        Expected<PackIndex> idx = decodePackIndex(*bytes, path, name);
        if (idx)
            loaded.push_back(std::move(*idx));
        else
            bad.append(name);
    }
    if (removed) {
        std::unique_lock lock(indexMutex);
        bool changed = false;
        for (auto it = packs.begin(); it != packs.end();) {
            // The listing may predate a pack committed meanwhile: drop only what is really gone.
            if (!onDisk.count(it->first) && !QFileInfo::exists(packsDir() + QLatin1Char('/') + indexFileName(it->first))) {
                it = packs.erase(it);
                changed = true;
            } else {
                ++it;
            }
        }
        if (changed)
            rebuildChunksLocked();
    }
    {
        std::unique_lock lock(indexMutex);
        for (const QString &name : bad)
            badIndexes.insert(name);
    }
    insertPacks(std::move(loaded));
}

void ObjectStore::Private::rebuildChunksLocked() const
{
    chunks.clear();
    for (const auto &[name, pack] : packs)
        for (size_t i = 0; i < pack->index.entries.size(); ++i)
            chunks.try_emplace(pack->index.entries[i].id, Slot{pack, quint32(i)});
}

void ObjectStore::Private::insertPacks(std::vector<PackIndex> &&list) const
{
    if (list.empty())
        return;
    std::unique_lock lock(indexMutex);
    for (PackIndex &idx : list) {
        if (packs.count(idx.name))
            continue;
        auto pack = std::make_shared<LoadedPack>();
        pack->name = idx.name;
        pack->path = packsDir() + QLatin1Char('/') + packFileName(idx.name);
        pack->index = std::move(idx);
        packs.emplace(pack->name, pack);
        for (size_t i = 0; i < pack->index.entries.size(); ++i)
            chunks.try_emplace(pack->index.entries[i].id, Slot{pack, quint32(i)});
    }
}

std::optional<ChunkRef> ObjectStore::Private::find(const Sha256 &id) const
{
    std::shared_lock lock(indexMutex);
    const auto it = chunks.find(id);
    if (it == chunks.end())
        return std::nullopt;
    const PackEntry &e = it->second.pack->index.entries[it->second.entry];
    return ChunkRef{it->second.pack, e.offset, e.length};
}

bool ObjectStore::Private::has(const Sha256 &id) const
{
    std::shared_lock lock(indexMutex);
    return chunks.count(id) != 0;
}

QStringList ObjectStore::Private::listManifests() const
{
    QStringList ids;
    const QDir top(manifestsDir());
    for (const QString &sub : top.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        if (sub.size() != 2)
            continue;
        for (const QString &f : filesIn(top.filePath(sub))) {
            const QString id = sub + f;
            if (isHexId(id))
                ids.append(id);
        }
    }
    return ids;
}

Expected<QByteArray> ObjectStore::Private::readManifestBytes(const QString &id) const
{
    if (!isHexId(id))
        return makeError(QStringLiteral("not an object id: '%1'").arg(id));
    const QString path = manifestPath(id);
    if (!QFileInfo::exists(path))
        return makeError(QStringLiteral("object %1 not found in %2").arg(id, root));
    Expected<QByteArray> bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    if (toHex(sha256(*bytes)) != id)
        return makeError(QStringLiteral("manifest is corrupt (hash mismatch)"), path);
    return bytes;
}

Expected<Manifest> ObjectStore::Private::readManifest(const QString &id) const
{
    Expected<QByteArray> bytes = readManifestBytes(id);
    if (!bytes)
        return bytes.error();
    return decodeManifest(*bytes, manifestPath(id));
}

Status ObjectStore::Private::writeManifest(const QString &id, const QByteArray &bytes) const
{
    const QString path = manifestPath(id);
    if (QFileInfo::exists(path)) {
        Expected<QByteArray> existing = readFile(path);
        if (existing && *existing == bytes)
            return {};
    }
    return writeDurably(tmpDir(), path, bytes);
}

Status ObjectStore::Private::resolve(const QString &id, const Manifest &m, std::vector<ChunkRef> &refs) const
{
    refs.clear();
    refs.reserve(m.chunks.size());
    for (const ManifestChunk &c : m.chunks) {
        std::optional<ChunkRef> ref = find(c.id);
        if (!ref)
            return makeError(QStringLiteral("object %1 is missing chunk %2").arg(id, toHex(c.id)), root);
        if (ref->length != c.length)
            return makeError(QStringLiteral("object %1: chunk %2 has length %3 in the store, %4 in the manifest")
                                 .arg(id, toHex(c.id))
                                 .arg(ref->length)
                                 .arg(c.length),
                             ref->pack->path);
        refs.push_back(std::move(*ref));
    }
    return {};
}

Status ObjectStore::Private::readChunk(PackFiles &files, const ChunkRef &ref, const Sha256 &id, char *dst) const
{
    Expected<int> fd = files.fd(ref.pack->path);
    if (!fd)
        return fd.error();
    Status st = preadFully(*fd, dst, ref.length, ref.offset, ref.pack->path);
    if (!st.isOk())
        return st;
    if (sha256(dst, size_t(ref.length)) != id)
        return makeError(QStringLiteral("chunk %1 at offset %2 is corrupt (hash mismatch)").arg(toHex(id)).arg(ref.offset),
                         ref.pack->path);
    return {};
}

// Reads chunks [first, first+count) of `m` into dst, back to back, verifying each, on all cores.
Status ObjectStore::Private::readChunks(PackFiles &files, const Manifest &m, const std::vector<ChunkRef> &refs,
                                        size_t first, size_t count, char *dst) const
{
    std::vector<qint64> offsets(count + 1, 0);
    for (size_t i = 0; i < count; ++i)
        offsets[i + 1] = offsets[i] + m.chunks[first + i].length;
    return parallelFor(qint64(count), workerCount(), [&](qint64 i) {
        return readChunk(files, refs[first + size_t(i)], m.chunks[first + size_t(i)].id, dst + offsets[size_t(i)]);
    });
}

ObjectStore::ObjectStore(std::unique_ptr<Private> priv) : d(std::move(priv)) {}

ObjectStore::~ObjectStore() = default;

Expected<std::unique_ptr<ObjectStore>> ObjectStore::open(const QString &root, bool create)
{
    const QString abs = QFileInfo(root).absoluteFilePath();
    auto priv = std::make_unique<Private>();
    priv->root = QDir::cleanPath(abs);
    const QStringList subdirs{priv->packsDir(), priv->manifestsDir(), priv->tmpDir()};
    const bool exists = QFileInfo(priv->packsDir()).isDir() && QFileInfo(priv->manifestsDir()).isDir();
    if (!exists) {
        if (!create) {
            if (QFileInfo::exists(priv->root))
                return makeError(QStringLiteral("not an object store (no packs/ and manifests/ folders)"), priv->root);
            return makeError(QStringLiteral("no object store here"), priv->root);
        }
        for (const QString &dir : subdirs)
            if (!QDir().mkpath(dir))
                return makeError(QStringLiteral("cannot create folder"), dir);
        syncDirectory(priv->root);
    } else if (!QFileInfo(priv->tmpDir()).isDir() && !QDir().mkpath(priv->tmpDir())) {
        return makeError(QStringLiteral("cannot create folder"), priv->tmpDir());
    }
    StoreLock lock;
    Status st = lock.acquire(priv->root, false);
    if (!st.isOk())
        return st.error();
    priv->syncIndex();
    return std::unique_ptr<ObjectStore>(new ObjectStore(std::move(priv)));
}

QString ObjectStore::root() const { return d->root; }

void ObjectStore::setPackSizeLimit(qint64 bytes) { d->packSizeLimit = std::max<qint64>(bytes, 64 * 1024); }

Expected<AddResult> ObjectStore::addFile(const QString &path, Feedback *feedback)
{
    Expected<MappedFile> file = mapFile(path);
    if (!file)
        return file.error();
    Expected<AddResult> r = addData(file->data, file->size, feedback);
    if (!r)
        return r.error().withFile(path);
    return r;
}

Expected<AddResult> ObjectStore::addBytes(QByteArrayView bytes, Feedback *feedback)
{
    return addData(bytes.data(), bytes.size(), feedback);
}

Expected<AddResult> ObjectStore::addGated(const char *data, qint64 size, const PublishGate &gate, Feedback *feedback)
{
    return addData(data, size, feedback, gate);
}

Expected<AddResult> ObjectStore::addData(const char *data, qint64 size, Feedback *feedback, const PublishGate &gate)
{
    std::lock_guard addLock(d->addMutex);
    StoreLock lock;
    Status st = lock.acquireForWrite(d->root, [this] { d->removeLeftovers(); });
    if (!st.isOk())
        return st.error();
    d->syncIndex();

    // Workers hash each chunk while it is hot in cache and store the settled ones at once; stitching then fixes
    // up the few chunks near segment starts on this thread.
    struct Segment {
        std::vector<Sha256> ids;
        std::vector<uint8_t> handled;
        std::unique_ptr<PackWriter> writer;
    };
    const int threads = workerCount();
    std::vector<Segment> segments(static_cast<size_t>(threads));
    std::mutex claimMutex;
    ChunkSet claimed;
    auto storeIfNew = [&](Segment &seg, const Sha256 &id, const char *p, qint64 len) -> Status {
        if (d->has(id))
            return {};
        {
            std::lock_guard guard(claimMutex);
            if (!claimed.insert(id).second)
                return {};
        }
        if (!seg.writer)   // staged: nothing this add writes is visible until every chunk is written (and gated)
            seg.writer = std::make_unique<PackWriter>(d->root, d->packSizeLimit, PackWriter::Mode::Stage);
        return seg.writer->appendInPlace(id, p, len);   // `data` outlives the writers: they finish below
    };
    const ChunkVisitor visit = [&](std::span<const ChunkVisit> batch) -> Status {
        Segment &seg = segments[size_t(batch.front().segment)];
        const size_t first = seg.ids.size();
        hashVisits(data, batch, seg.ids);
        for (size_t i = 0; i < batch.size(); ++i) {
            const ChunkVisit &v = batch[i];
            seg.handled.push_back(v.settled ? 1 : 0);
            if (v.settled)
                if (Status st = storeIfNew(seg, seg.ids[first + i], data + v.offset, v.length); !st)
                    return st;
        }
        return {};
    };
    Expected<ChunkList> list = chunkParallel(data, size, threads, visit, feedback);
    if (!list)
        return list.error();

    Manifest manifest;
    manifest.size = size;
    manifest.chunks.reserve(list->ends.size());
    qint64 start = 0;
    for (size_t k = 0; k < list->ends.size(); ++k) {
        const qint64 len = list->ends[k] - start;
        const ChunkOrigin o = list->origins[k];
        Sha256 id;
        bool handled = false;
        if (o.segment >= 0) {
            id = segments[size_t(o.segment)].ids[size_t(o.index)];
            handled = segments[size_t(o.segment)].handled[size_t(o.index)] != 0;
        } else {
            id = sha256(data + start, size_t(len));
        }
        if (!handled) {
            st = storeIfNew(segments[0], id, data + start, len);
            if (!st.isOk())
                return st.error();
        }
        manifest.chunks.push_back(ManifestChunk{id, len});
        start = list->ends[k];
    }
    if (isCancelled(feedback))
        return cancelledError();

    for (Segment &seg : segments) {
        if (seg.writer)
            if (st = seg.writer->finish(); !st.isOk())
                return st.error();
    }
    if (gate)   // an error here returns, and the writers' destructors remove their sealed packs
        if (st = gate(); !st.isOk())
            return st.error();

    AddResult result;
    std::vector<PackIndex> committed;
    for (Segment &seg : segments) {
        if (!seg.writer)
            continue;
        st = seg.writer->publish();
        if (!st.isOk())
            return st.error();
        result.newChunks += seg.writer->chunksWritten();
        result.newBytes += seg.writer->bytesWritten();
        for (PackIndex &p : seg.writer->takeCommitted())
            committed.push_back(std::move(p));
    }
    d->insertPacks(std::move(committed));

    const QByteArray bytes = encodeManifest(manifest);
    result.id = toHex(sha256(bytes));
    st = d->writeManifest(result.id, bytes);
    if (!st.isOk())
        return st.error();
    result.size = size;
    result.chunks = qint64(manifest.chunks.size());
    reportProgress(feedback, size, size, QStringLiteral("stored"));
    return result;
}

bool ObjectStore::contains(const QString &id) const
{
    StoreLock lock;
    if (!lock.acquire(d->root, false).isOk())
        return false;
    d->syncIndex();
    Expected<Manifest> m = d->readManifest(id);
    if (!m)
        return false;
    return std::all_of(m->chunks.begin(), m->chunks.end(), [this](const ManifestChunk &c) { return d->has(c.id); });
}

Expected<qint64> ObjectStore::sizeOf(const QString &id) const
{
    Expected<Manifest> m = d->readManifest(id);
    if (!m)
        return m.error();
    return m->size;
}

Status ObjectStore::streamTo(const QString &id, const std::function<Status(const char *, qint64)> &sink,
                             Feedback *feedback) const
{
    StoreLock lock;
    Status st = lock.acquire(d->root, false);
    if (!st.isOk())
        return st;
    d->syncIndex();
    Expected<Manifest> m = d->readManifest(id);
    if (!m)
        return m.status();
    std::vector<ChunkRef> refs;
    st = d->resolve(id, *m, refs);
    if (!st.isOk())
        return st;
    PackFiles files;
    std::vector<char> buffer;
    qint64 done = 0;
    size_t first = 0;
    while (first < m->chunks.size()) {
        size_t count = 0;
        qint64 bytes = 0;
        while (first + count < m->chunks.size() && (count == 0 || bytes + m->chunks[first + count].length <= kReadBatch))
            bytes += m->chunks[first + count++].length;
        if (qint64(buffer.size()) < bytes)
            buffer.resize(size_t(bytes));
        st = d->readChunks(files, *m, refs, first, count, buffer.data());
        if (st.isOk())
            st = sink(buffer.data(), bytes);   // the disk writes this batch while the next one is verified
        if (!st.isOk())
            return st;
        first += count;
        done += bytes;
        reportProgress(feedback, done, m->size, QStringLiteral("checkout"));
        if (isCancelled(feedback))
            return cancelledError();
    }
    return {};
}

Status ObjectStore::writeTo(const QString &id, int fd, Feedback *feedback) const
{
    return streamTo(id, [fd](const char *data, qint64 size) -> Status {
        while (size > 0) {
            const ssize_t n = ::write(fd, data, size_t(size));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return makeError(ErrorKind::Io, QStringLiteral("write failed: %1").arg(errnoText()));
            data += n;
            size -= n;
        }
        return {};
    }, feedback);
}

Status ObjectStore::checkout(const QString &id, const QString &outPath, Feedback *feedback) const
{
    // Written next to the target (same file system), then renamed over it: no partial file is ever visible.
    return writeFileAtomically(outPath, [&](DirectWriter &out) {
        return streamTo(id, [&out](const char *data, qint64 size) { return out.write(data, size); }, feedback);
    });
}

Expected<QByteArray> ObjectStore::readAll(const QString &id) const
{
    StoreLock lock;
    Status st = lock.acquire(d->root, false);
    if (!st.isOk())
        return st.error();
    d->syncIndex();
    Expected<Manifest> m = d->readManifest(id);
    if (!m)
        return m.error();
    std::vector<ChunkRef> refs;
    st = d->resolve(id, *m, refs);
    if (!st.isOk())
        return st.error();
    QByteArray out(m->size, Qt::Uninitialized);
    PackFiles files;
    st = d->readChunks(files, *m, refs, 0, m->chunks.size(), out.data());
    if (!st.isOk())
        return st.error();
    return out;
}

QStringList ObjectStore::manifestIds() const { return d->listManifests(); }

} // namespace keel::store
