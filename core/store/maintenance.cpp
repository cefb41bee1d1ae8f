#include "store/objectstore.h"

#include "store/objectstore_p.h"
#include "store/storeio.h"
#include "util/fileutil.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <atomic>
#include <set>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace keel::store {

namespace {

constexpr qint64 kCopyBatch = 64LL << 20;   // copies commit packs of at most this size
constexpr qint64 kSmallPack = 16LL << 20;   // gc merges intact packs smaller than this

} // namespace

qint64 ObjectStore::Private::removeLeftovers(qint64 *files) const
{
    qint64 freed = 0, removed = 0;
    for (const QString &f : filesIn(packsDir())) {
        if (!f.startsWith(QLatin1String("pack-")) || !f.endsWith(QLatin1String(".pack")))
            continue;
        const QString name = f.mid(5, f.size() - 10);
        const QString path = packsDir() + QLatin1Char('/') + f;
        if (!QFileInfo::exists(packsDir() + QLatin1Char('/') + indexFileName(name))) {
            const qint64 size = fileSize(path);
            if (removeFile(path)) {
                freed += size;
                ++removed;
            }
        }
    }
    for (const QString &f : filesIn(tmpDir())) {
        const QString path = tmpDir() + QLatin1Char('/') + f;
        const qint64 size = fileSize(path);
        if (removeFile(path)) {
            freed += size;
            ++removed;
        }
    }
    if (files)
        *files = removed;
    return freed;
}

FsckReport ObjectStore::fsck(Feedback *feedback) const
{
    FsckReport report;
    std::mutex reportMutex;
    auto problem = [&](const QString &object, const QString &where, const QString &message) {
        std::lock_guard guard(reportMutex);
        report.problems.push_back(FsckProblem{object, where, message});
    };
    StoreLock lock;
    Status st = lock.acquire(d->root, false);
    if (!st.isOk()) {
        problem(QString(), QStringLiteral("lock"), st.message());
        return report;
    }

    // A write that runs alongside (it holds the store shared, as this check does) has its files in tmp/ and, for a
    // moment, a pack without its idx: asked before and after they are counted.
    const bool writingBefore = StoreLock::writerActive(d->root);

    // Packs: read every idx afresh (not the cached index), check each pack file against it.
    const QString packsDir = d->packsDir();
    std::set<QString> idxNames, packNames;
    for (const QString &f : filesIn(packsDir)) {
        const bool isIdx = f.endsWith(QLatin1String(".idx")), isPack = f.endsWith(QLatin1String(".pack"));
        const QString name = f.mid(5, f.size() - 5 - (isIdx ? 4 : 5));
        if (f.startsWith(QLatin1String("pack-")) && (isIdx || isPack) && isHexId(name))
            (isIdx ? idxNames : packNames).insert(name);
        else
            problem(f, QStringLiteral("packs/") + f, QStringLiteral("unexpected file"));
    }
    struct Item {
        size_t pack;
        PackEntry entry;
    };
    std::vector<std::shared_ptr<LoadedPack>> packs;
    std::vector<Item> items;
    qint64 totalBytes = 0;
    for (const QString &name : idxNames) {
        const QString idxWhere = QStringLiteral("packs/") + indexFileName(name);
        Expected<QByteArray> bytes = readFile(packsDir + QLatin1Char('/') + indexFileName(name));
        if (!bytes) {
            problem(name, idxWhere, bytes.error().message);
            continue;
        }
        Expected<PackIndex> idx = decodePackIndex(*bytes, idxWhere, name);
        if (!idx) {
            problem(name, idxWhere, idx.error().message);
            continue;
        }
        auto pack = std::make_shared<LoadedPack>();
        pack->name = name;
        pack->path = packsDir + QLatin1Char('/') + packFileName(name);
        pack->index = std::move(*idx);
        const QString packWhere = QStringLiteral("packs/") + packFileName(name);
        const QFileInfo fi(pack->path);
        if (!fi.exists()) {
            problem(name, packWhere,
                    QStringLiteral("pack file is missing (%1 chunks lost)").arg(pack->index.entries.size()));
            continue;
        }
        const qint64 actual = fi.size();
        QFile pf(pack->path);
        if (!pf.open(QIODevice::ReadOnly) || pf.read(kPackHeaderSize) != packHeader())
            problem(name, packWhere, QStringLiteral("bad pack header"));
        if (actual < pack->index.packSize)
            problem(name, packWhere,
                    QStringLiteral("pack is truncated: %1 of %2 bytes").arg(actual).arg(pack->index.packSize));
        else if (actual > pack->index.packSize)
            problem(name, packWhere,
                    QStringLiteral("pack has %1 unexpected trailing bytes").arg(actual - pack->index.packSize));
        for (const PackEntry &e : pack->index.entries) {
            if (e.offset + e.length > actual) {
                problem(toHex(e.id), packWhere + QLatin1Char('@') + QString::number(e.offset),
                        QStringLiteral("chunk lies beyond the end of the truncated pack"));
                continue;
            }
            items.push_back(Item{packs.size(), e});
            totalBytes += e.length;
        }
        packs.push_back(std::move(pack));
    }
    for (const QString &name : packNames)
        if (!idxNames.count(name))
            report.staleTempFiles += 1;   // a pack whose idx was never written: an interrupted add
    report.staleTempFiles += filesIn(d->tmpDir()).size();
    report.writeInProgress = writingBefore || StoreLock::writerActive(d->root);

    std::sort(items.begin(), items.end(), [](const Item &a, const Item &b) {
        return a.pack != b.pack ? a.pack < b.pack : a.entry.offset < b.entry.offset;
    });
    ChunkSet good;
    std::atomic<qint64> bytesDone{0};
    PackFiles files;
    st = parallelFor(qint64(items.size()), workerCount(), [&](qint64 i) -> Status {
        if (isCancelled(feedback))
            return cancelledError();
        const Item &item = items[size_t(i)];
        const LoadedPack &pack = *packs[item.pack];
        const QString where = QStringLiteral("packs/") + packFileName(pack.name) + QLatin1Char('@')
                              + QString::number(item.entry.offset);
        thread_local std::vector<char> buffer;
        buffer.resize(size_t(item.entry.length));
        Expected<int> fd = files.fd(pack.path);
        Status rd = fd ? preadFully(*fd, buffer.data(), item.entry.length, item.entry.offset, pack.path) : fd.status();
        if (!rd.isOk()) {
            problem(toHex(item.entry.id), where, rd.error().message);
        } else if (sha256(buffer.data(), buffer.size()) != item.entry.id) {
            problem(toHex(item.entry.id), where, QStringLiteral("hash mismatch"));
        } else {
            std::lock_guard guard(reportMutex);
            good.insert(item.entry.id);
        }
        const qint64 done = bytesDone.fetch_add(item.entry.length) + item.entry.length;
        {
            std::lock_guard guard(reportMutex);
            report.chunksChecked += 1;
            report.bytesChecked += item.entry.length;
        }
        if (i % 64 == 0)
            reportProgress(feedback, done, totalBytes, QStringLiteral("fsck"));
        return {};
    });
    if (!st.isOk()) {
        problem(QString(), QString(), QStringLiteral("fsck cancelled before it finished"));
        return report;
    }

    // Manifests: name = hash of content, syntax, every chunk present and intact.
    const QDir top(d->manifestsDir());
    for (const QString &f : top.entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                                          QDir::Name)) {
        const QString sub = top.filePath(f);
        if (f.size() != 2 || !QFileInfo(sub).isDir()) {
            problem(f, QStringLiteral("manifests/") + f, QStringLiteral("unexpected file"));
            continue;
        }
        for (const QString &g : filesIn(sub)) {
            const QString id = f + g;
            const QString where = QStringLiteral("manifests/") + f + QLatin1Char('/') + g;
            if (!isHexId(id)) {
                problem(g, where, QStringLiteral("unexpected file"));
                continue;
            }
            report.manifestsChecked += 1;
            Expected<QByteArray> bytes = readFile(sub + QLatin1Char('/') + g);
            if (!bytes) {
                problem(id, where, bytes.error().message);
                continue;
            }
            if (toHex(sha256(*bytes)) != id) {
                problem(id, where, QStringLiteral("manifest hash mismatch"));
                continue;
            }
            Expected<Manifest> m = decodeManifest(*bytes, where);
            if (!m) {
                problem(id, where, QStringLiteral("line %1: %2").arg(m.error().line).arg(m.error().message));
                continue;
            }
            qint64 missing = 0;
            QString firstMissing;
            for (const ManifestChunk &c : m->chunks) {
                if (good.count(c.id))
                    continue;
                if (missing++ == 0)
                    firstMissing = toHex(c.id);
            }
            if (missing > 0)
                problem(id, where,
                        QStringLiteral("references %1 missing or corrupt chunks (first %2)").arg(missing).arg(firstMissing));
        }
    }
    reportProgress(feedback, totalBytes, totalBytes, QStringLiteral("fsck"));
    std::sort(report.problems.begin(), report.problems.end(), [](const FsckProblem &a, const FsckProblem &b) {
        return a.where != b.where ? a.where < b.where : a.object < b.object;
    });
    return report;
}

Expected<GcReport> ObjectStore::gc(const QSet<QString> &live, Feedback *feedback)
{
    std::lock_guard addLock(d->addMutex);
    StoreLock lock;
    Status st = lock.acquire(d->root, true);
    if (!st.isOk())
        return st.error();
    d->syncIndex();
    GcReport report;
    qint64 deletedBytes = 0, writtenBytes = 0;

    // 1. Live chunks. A live manifest that cannot be read stops gc before anything is deleted.
    ChunkSet liveChunks;
    QStringList dead;
    for (const QString &id : d->listManifests()) {
        if (!live.contains(id)) {
            dead.append(id);
            continue;
        }
        Expected<Manifest> m = d->readManifest(id);
        if (!m)
            return makeError(QStringLiteral("gc stopped, cannot read live object %1: %2").arg(id, m.error().toString()));
        for (const ManifestChunk &c : m->chunks)
            liveChunks.insert(c.id);
    }

    // 2. Plan: each live chunk is kept once, preferring packs that stay as they are.
    std::vector<std::shared_ptr<const LoadedPack>> packs;
    {
        std::shared_lock guard(d->indexMutex);
        for (const auto &[name, pack] : d->packs)
            packs.push_back(pack);
    }
    std::map<const LoadedPack *, qint64> liveCount;
    for (const auto &pack : packs)
        for (const PackEntry &e : pack->index.entries)
            liveCount[pack.get()] += liveChunks.count(e.id);
    std::stable_sort(packs.begin(), packs.end(), [&](const auto &a, const auto &b) {
        const double fa = double(liveCount[a.get()]) / double(std::max<size_t>(1, a->index.entries.size()));
        const double fb = double(liveCount[b.get()]) / double(std::max<size_t>(1, b->index.entries.size()));
        return fa > fb;
    });
    struct Plan {
        std::shared_ptr<const LoadedPack> pack;
        std::vector<PackEntry> keep;
    };
    // A live chunk stored more than once is kept where its copy verifies; if none does, every copy stays.
    PackFiles files;
    std::vector<char> buffer;
    std::unordered_map<Sha256, std::vector<std::pair<std::shared_ptr<const LoadedPack>, PackEntry>>, Sha256Hasher> copies;
    for (const auto &pack : packs)
        for (const PackEntry &e : pack->index.entries)
            if (liveChunks.count(e.id))
                copies[e.id].emplace_back(pack, e);
    std::unordered_map<Sha256, const LoadedPack *, Sha256Hasher> home;
    ChunkSet unsafe;   // chunks whose packs must not be deleted (no verified copy to keep)
    for (const auto &[id, list] : copies) {
        if (list.size() == 1) {
            home.emplace(id, list.front().first.get());
            continue;
        }
        const LoadedPack *chosen = nullptr;
        for (const auto &[pack, e] : list) {
            buffer.resize(size_t(e.length));
            if (d->readChunk(files, ChunkRef{pack, e.offset, e.length}, id, buffer.data()).isOk()) {
                chosen = pack.get();
                break;
            }
        }
        if (!chosen)
            unsafe.insert(id);
        home.emplace(id, chosen ? chosen : list.front().first.get());
    }
    std::vector<Plan> drop, rewrite, small;
    qint64 rewriteBytes = 0;
    for (const auto &pack : packs) {
        Plan plan{pack, {}};
        for (const PackEntry &e : pack->index.entries) {
            const auto it = home.find(e.id);
            if (it != home.end() && it->second == pack.get())
                plan.keep.push_back(e);
        }
        const bool fileExists = QFileInfo::exists(pack->path);
        if (plan.keep.empty())
            drop.push_back(std::move(plan));
        else if (!fileExists)
            continue;   // live chunks whose pack is gone: leave for fsck to report
        else if (plan.keep.size() < pack->index.entries.size())
            rewrite.push_back(std::move(plan));
        else if (pack->index.packSize < kSmallPack)
            small.push_back(std::move(plan));
    }
    // Small intact packs are merged when there are several, or when a new pack is being written anyway.
    if (small.size() >= 2 || (!rewrite.empty() && !small.empty()))
        for (Plan &p : small)
            rewrite.push_back(std::move(p));
    for (const Plan &p : rewrite)
        for (const PackEntry &e : p.keep)
            rewriteBytes += e.length;

    // 3. Dead manifests.
    for (const QString &id : dead) {
        const QString path = d->manifestPath(id);
        const qint64 size = fileSize(path);
        if (removeFile(path)) {
            report.manifestsRemoved += 1;
            deletedBytes += size;
        }
    }

    // 4. Copy the kept chunks of rewritten packs into new packs (verified), commit them, then delete the old ones.
    PackWriter writer(d->root, d->packSizeLimit);
    std::vector<const Plan *> rewritten;
    qint64 copied = 0;
    for (const Plan &p : rewrite) {
        if (isCancelled(feedback))
            return cancelledError();
        std::vector<PackEntry> keep = p.keep;
        std::sort(keep.begin(), keep.end(), [](const PackEntry &a, const PackEntry &b) { return a.offset < b.offset; });
        bool ok = true;
        for (const PackEntry &e : keep) {
            buffer.resize(size_t(e.length));
            if (!d->readChunk(files, ChunkRef{p.pack, e.offset, e.length}, e.id, buffer.data()).isOk()) {
                ok = false;   // keep this pack as it is; its readable chunks may now exist twice
                break;
            }
            st = writer.append(e.id, buffer.data(), e.length);
            if (!st.isOk())
                return st.error();
            copied += e.length;
            reportProgress(feedback, copied, rewriteBytes, QStringLiteral("gc"));
        }
        if (ok) {
            rewritten.push_back(&p);
        } else {
            for (const PackEntry &e : p.keep)
                unsafe.insert(e.id);   // this pack stays; so do other copies of its chunks
        }
    }
    st = writer.finish();
    if (!st.isOk())
        return st.error();
    std::vector<PackIndex> committed = writer.takeCommitted();
    for (const PackIndex &idx : committed)
        writtenBytes += idx.packSize + fileSize(d->packsDir() + QLatin1Char('/') + indexFileName(idx.name));
    d->insertPacks(std::move(committed));

    auto removePack = [&](const LoadedPack &pack) {
        for (const PackEntry &e : pack.index.entries)
            if (unsafe.count(e.id))
                return false;
        const QString idxPath = d->packsDir() + QLatin1Char('/') + indexFileName(pack.name);
        const qint64 idxSize = fileSize(idxPath), packSize = fileSize(pack.path);
        if (!removeFile(idxPath))   // idx first: a pack without idx is invisible
            return false;
        deletedBytes += idxSize;
        if (removeFile(pack.path))
            deletedBytes += packSize;
        return true;
    };
    for (const Plan &p : drop)
        if (removePack(*p.pack))
            report.chunksRemoved += qint64(p.pack->index.entries.size());
    for (const Plan *p : rewritten) {
        if (removePack(*p->pack)) {
            report.chunksRemoved += qint64(p->pack->index.entries.size() - p->keep.size());
            report.packsRewritten += 1;
        }
    }
    syncDirectory(d->packsDir());

    // 5. Leftovers of interrupted writes: packs without idx, tmp files; empty manifest folders.
    deletedBytes += d->removeLeftovers(&report.leftoversRemoved);
    const QDir top(d->manifestsDir());
    for (const QString &sub : top.entryList(QDir::Dirs | QDir::NoDotAndDotDot))
        top.rmdir(sub);   // fails (as intended) unless empty

    d->syncIndex();
    report.bytesFreed = deletedBytes - writtenBytes;
    return report;
}

StoreStats ObjectStore::stats() const
{
    StoreStats s;
    StoreLock lock;
    if (lock.acquire(d->root, false).isOk())
        d->syncIndex();
    {
        std::shared_lock guard(d->indexMutex);
        s.packs = qint64(d->packs.size());
        s.chunks = qint64(d->chunks.size());
        for (const auto &[name, pack] : d->packs)
            for (const PackEntry &e : pack->index.entries)
                s.storedBytes += e.length;
    }
    s.manifests = d->listManifests().size();
    QDirIterator it(d->root, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        s.diskBytes += it.fileInfo().size();
    }
    return s;
}

Status ObjectStore::copyObjects(const ObjectStore &from, ObjectStore &to, const QStringList &ids, Feedback *feedback)
{
    std::lock_guard addLock(to.d->addMutex);
    StoreLock toLock, fromLock;
    Status st = toLock.acquireForWrite(to.d->root, [&to] { to.d->removeLeftovers(); });
    if (!st.isOk())
        return st;
    st = fromLock.acquire(from.d->root, false);
    if (!st.isOk())
        return st;
    from.d->syncIndex();
    to.d->syncIndex();

    // Plan: the chunks `to` lacks, in manifest order; each manifest waits for the last chunk it needs.
    struct Job {
        QString id;
        QByteArray bytes;
        qint64 needs = -1;   // index into `copy` of the last chunk this manifest waits for
        bool written = false;
    };
    struct CopyItem {
        Sha256 id;
        ChunkRef ref;
    };
    std::vector<Job> jobs;
    std::vector<CopyItem> copy;
    std::unordered_map<Sha256, qint64, Sha256Hasher> planned;
    QSet<QString> seen;
    qint64 total = 0;
    for (const QString &id : ids) {
        if (seen.contains(id))
            continue;
        seen.insert(id);
        Expected<QByteArray> bytes = from.d->readManifestBytes(id);
        if (!bytes)
            return bytes.status();
        Expected<Manifest> m = decodeManifest(*bytes, from.d->manifestPath(id));
        if (!m)
            return m.status();
        Job job{id, *bytes};
        for (const ManifestChunk &c : m->chunks) {
            if (to.d->has(c.id))
                continue;
            const auto it = planned.find(c.id);
            if (it != planned.end()) {
                job.needs = std::max(job.needs, it->second);
                continue;
            }
            std::optional<ChunkRef> ref = from.d->find(c.id);
            if (!ref)
                return makeError(QStringLiteral("object %1 is missing chunk %2").arg(id, toHex(c.id)), from.d->root);
            job.needs = qint64(copy.size());
            planned.emplace(c.id, job.needs);
            total += ref->length;
            copy.push_back(CopyItem{c.id, std::move(*ref)});
        }
        jobs.push_back(std::move(job));
    }

    qint64 committedChunks = 0;
    auto writeReady = [&]() -> Status {
        for (Job &job : jobs) {
            if (job.written || job.needs >= committedChunks)
                continue;
            Status s = to.d->writeManifest(job.id, job.bytes);
            if (!s.isOk())
                return s;
            job.written = true;
        }
        return {};
    };
    reportProgress(feedback, 0, total, QStringLiteral("copy"));
    st = writeReady();
    if (!st.isOk())
        return st;

    PackWriter writer(to.d->root, std::min(to.d->packSizeLimit, kCopyBatch));
    PackFiles files;
    std::vector<char> buffer;
    qint64 appended = 0, doneBytes = 0, appendedBytes = 0;
    size_t first = 0;
    while (first < copy.size()) {
        size_t count = 0;
        qint64 bytes = 0;
        while (first + count < copy.size() && (count == 0 || bytes + copy[first + count].ref.length <= kReadBatch))
            bytes += copy[first + count++].ref.length;
        if (qint64(buffer.size()) < bytes)
            buffer.resize(size_t(bytes));
        std::vector<qint64> offsets(count + 1, 0);
        for (size_t i = 0; i < count; ++i)
            offsets[i + 1] = offsets[i] + copy[first + i].ref.length;
        st = parallelFor(qint64(count), workerCount(), [&](qint64 i) {
            const CopyItem &item = copy[first + size_t(i)];
            return from.d->readChunk(files, item.ref, item.id, buffer.data() + offsets[size_t(i)]);
        });
        if (!st.isOk())
            return st;
        for (size_t i = 0; i < count; ++i) {
            const CopyItem &item = copy[first + i];
            st = writer.append(item.id, buffer.data() + offsets[i], item.ref.length);
            if (!st.isOk())
                return st;
            appended += 1;
            appendedBytes += item.ref.length;
            std::vector<PackIndex> committed = writer.takeCommitted();
            if (committed.empty())
                continue;
            // A batch is durable: record it, write the manifests it completes, then honour cancel.
            to.d->insertPacks(std::move(committed));
            committedChunks = appended;
            doneBytes = appendedBytes;
            st = writeReady();
            if (!st.isOk())
                return st;
            reportProgress(feedback, doneBytes, total, QStringLiteral("copy"));
            if (isCancelled(feedback))
                return cancelledError();
        }
        first += count;
    }
    st = writer.finish();
    if (!st.isOk())
        return st;
    to.d->insertPacks(writer.takeCommitted());
    committedChunks = appended;
    st = writeReady();
    if (!st.isOk())
        return st;
    reportProgress(feedback, total, total, QStringLiteral("copy"));
    return {};
}

} // namespace keel::store

namespace keel::store {

Expected<std::pair<QByteArray, Manifest>> ObjectStore::manifest(const QString &id) const
{
    StoreLock lock;
    if (Status st = lock.acquire(d->root, false); !st.isOk())
        return st.error();
    Expected<QByteArray> bytes = d->readManifestBytes(id);
    if (!bytes)
        return bytes.error();
    Expected<Manifest> m = decodeManifest(*bytes, d->manifestPath(id));
    if (!m)
        return m.error();
    return std::make_pair(std::move(*bytes), std::move(*m));
}

std::vector<bool> ObjectStore::hasChunks(const std::vector<Sha256> &ids) const
{
    std::vector<bool> out(ids.size(), false);
    StoreLock lock;
    if (!lock.acquire(d->root, false).isOk())
        return out;
    d->syncIndex();
    for (size_t i = 0; i < ids.size(); ++i)
        out[i] = d->has(ids[i]);
    return out;
}

Status ObjectStore::readChunks(const std::vector<Sha256> &ids,
                               const std::function<Status(const Sha256 &, QByteArrayView)> &sink) const
{
    StoreLock lock;
    if (Status st = lock.acquire(d->root, false); !st.isOk())
        return st;
    d->syncIndex();
    PackFiles files;
    std::vector<char> buffer;
    for (const Sha256 &id : ids) {
        std::optional<ChunkRef> ref = d->find(id);
        if (!ref)
            return makeError(ErrorKind::NotFound, QStringLiteral("the store lacks chunk %1").arg(toHex(id)), d->root);
        buffer.resize(size_t(ref->length));
        if (Status st = d->readChunk(files, *ref, id, buffer.data()); !st.isOk())
            return st;
        if (Status st = sink(id, QByteArrayView(buffer.data(), ref->length)); !st.isOk())
            return st;
    }
    return {};
}

Status ObjectStore::addChunks(const std::vector<std::pair<Sha256, QByteArrayView>> &chunks)
{
    for (const auto &[id, bytes] : chunks)
        if (sha256(bytes) != id)
            return makeError(ErrorKind::Corrupt,
                             QStringLiteral("chunk %1 does not match its id (its bytes hash to %2); nothing was added")
                                 .arg(toHex(id), toHex(sha256(bytes))),
                             d->root);
    std::lock_guard addLock(d->addMutex);
    StoreLock lock;
    if (Status st = lock.acquireForWrite(d->root, [this] { d->removeLeftovers(); }); !st.isOk())
        return st;
    d->syncIndex();
    PackWriter writer(d->root, d->packSizeLimit);
    std::unordered_set<Sha256, Sha256Hasher> written;
    for (const auto &[id, bytes] : chunks) {
        if (d->has(id) || !written.insert(id).second)
            continue;
        if (Status st = writer.append(id, bytes.data(), bytes.size()); !st.isOk())
            return st;
        d->insertPacks(writer.takeCommitted());
    }
    if (Status st = writer.finish(); !st.isOk())
        return st;
    d->insertPacks(writer.takeCommitted());
    return {};
}

Status ObjectStore::addManifest(const QString &id, const QByteArray &bytes)
{
    if (toHex(sha256(bytes)) != id)
        return makeError(ErrorKind::Corrupt, QStringLiteral("the manifest received for object %1 does not match its id").arg(id),
                         d->root);
    Expected<Manifest> m = decodeManifest(bytes, id);
    if (!m)
        return m.status();
    std::lock_guard addLock(d->addMutex);
    StoreLock lock;
    if (Status st = lock.acquireForWrite(d->root, [this] { d->removeLeftovers(); }); !st.isOk())
        return st;
    d->syncIndex();
    std::vector<ChunkRef> refs;
    if (Status st = d->resolve(id, *m, refs); !st.isOk())
        return st;
    return d->writeManifest(id, bytes);
}

} // namespace keel::store
