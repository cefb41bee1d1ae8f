#include "store/chunker.h"
#include "store/manifest.h"
#include "store/objectstore.h"
#include "store/pack.h"
#include "util/fileutil.h"
#include "util/hash.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <future>
#include <numeric>
#include <random>
#include <thread>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace keel;
using namespace keel::store;

namespace {

QByteArray randomBytes(qint64 size, uint64_t seed)
{
    QByteArray out(size, Qt::Uninitialized);
    for (qint64 i = 0; i < size; ++i) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        out[i] = char(z ^ (z >> 31));
    }
    return out;
}

std::unique_ptr<ObjectStore> openStore(const QString &root)
{
    Expected<std::unique_ptr<ObjectStore>> s = ObjectStore::open(root, true);
    if (!s)
        qFatal("cannot open store: %s", qPrintable(s.message()));
    return std::move(s.value());
}

QString writeTemp(const QTemporaryDir &dir, const QString &name, const QByteArray &bytes)
{
    const QString path = dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        qFatal("cannot write test file");
    return path;
}

QByteArray readBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QStringList packFiles(const QString &root, const QString &suffix)
{
    return QDir(root + QStringLiteral("/packs")).entryList({QStringLiteral("*") + suffix}, QDir::Files);
}

// The pack and offset holding a chunk, read from the idx files (independently of the store's in-memory index).
bool locateChunk(const QString &root, const Sha256 &id, QString *packPath, qint64 *offset)
{
    for (const QString &f : packFiles(root, QStringLiteral(".idx"))) {
        const QString path = root + QStringLiteral("/packs/") + f;
        Expected<PackIndex> idx = decodePackIndex(readFile(path).value(), path);
        if (!idx)
            continue;
        for (const PackEntry &e : idx->entries) {
            if (e.id == id) {
                *packPath = root + QStringLiteral("/packs/") + packFileName(idx->name);
                *offset = e.offset;
                return true;
            }
        }
    }
    return false;
}

Manifest manifestOf(const ObjectStore &store, const QString &id)
{
    const QString path = store.root() + QStringLiteral("/manifests/") + id.left(2) + QLatin1Char('/') + id.mid(2);
    return decodeManifest(readFile(path).value(), path).value();
}

void flipByte(const QString &path, qint64 offset)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadWrite) || !f.seek(offset))
        qFatal("cannot open %s", qPrintable(path));
    char c = 0;
    f.getChar(&c);
    f.seek(offset);
    f.putChar(char(c ^ 0x40));
}

bool hasProblem(const FsckReport &r, const QString &object, const QString &messagePart)
{
    for (const FsckProblem &p : r.problems)
        if ((object.isEmpty() || p.object == object) && p.message.contains(messagePart))
            return true;
    return false;
}

QString describe(const FsckReport &r)
{
    QStringList lines;
    for (const FsckProblem &p : r.problems)
        lines << p.object + QStringLiteral(" | ") + p.where + QStringLiteral(" | ") + p.message;
    return lines.join(QLatin1Char('\n'));
}

} // namespace

class TstObjectStore : public QObject {
    Q_OBJECT
private slots:
    void openMissing()
    {
        QTemporaryDir dir;
        Expected<std::unique_ptr<ObjectStore>> s = ObjectStore::open(dir.filePath(QStringLiteral("nope")), false);
        QVERIFY(!s.hasValue());
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("nope"))));
        Expected<std::unique_ptr<ObjectStore>> c = ObjectStore::open(dir.filePath(QStringLiteral("nope")), true);
        QVERIFY(c.hasValue());
        QVERIFY(ObjectStore::open(dir.filePath(QStringLiteral("nope")), false).hasValue());
    }

    void manifestRoundTrip_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<int>("line");
        const QByteArray id = QByteArray(64, 'a');
        QTest::newRow("empty file") << QByteArray("keel-manifest 1\nsize 0\nchunks 0\n") << true << -1;
        QTest::newRow("one chunk") << QByteArray("keel-manifest 1\nsize 5\nchunks 1\n" + id + " 5\n") << true << -1;
        QTest::newRow("bad magic") << QByteArray("keel-manifest 2\nsize 0\nchunks 0\n") << false << 1;
        QTest::newRow("no newline at end") << QByteArray("keel-manifest 1\nsize 5\nchunks 1\n" + id + " 5") << false << 4;
        QTest::newRow("sum mismatch") << QByteArray("keel-manifest 1\nsize 6\nchunks 1\n" + id + " 5\n") << false << -1;
        QTest::newRow("uppercase hex") << QByteArray("keel-manifest 1\nsize 5\nchunks 1\n" + QByteArray(64, 'A') + " 5\n")
                                       << false << 4;
        QTest::newRow("bad size") << QByteArray("keel-manifest 1\nsize x\nchunks 0\n") << false << 2;
        QTest::newRow("trailing data") << QByteArray("keel-manifest 1\nsize 0\nchunks 0\nmore\n") << false << 4;
        QTest::newRow("leading zero") << QByteArray("keel-manifest 1\nsize 05\nchunks 1\n" + id + " 5\n") << false << 2;
    }
    void manifestRoundTrip()
    {
        QFETCH(QByteArray, text);
        QFETCH(bool, valid);
        QFETCH(int, line);
        Expected<Manifest> m = decodeManifest(text, QStringLiteral("m"));
        QCOMPARE(m.hasValue(), valid);
        if (valid) {
            QCOMPARE(encodeManifest(*m), text);
        } else {
            QCOMPARE(m.error().file, QStringLiteral("m"));
            QCOMPARE(m.error().line, qint64(line));
        }
    }

    void roundTrip_data()
    {
        QTest::addColumn<qint64>("size");
        const qint64 sizes[] = {0, 1, kMinChunk - 1, kMinChunk, kMinChunk + 1, kAvgChunk, kMaxChunk - 1, kMaxChunk,
                                kMaxChunk + 1, 2 * kMaxChunk, (1 << 20) + 17, (3 << 20) + 5};
        for (qint64 s : sizes)
            QTest::addRow("%lld", s) << s;
    }
    void roundTrip()
    {
        QFETCH(qint64, size);
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("objects")));
        const QByteArray data = randomBytes(size, uint64_t(size) + 1);
        const QString in = writeTemp(dir, QStringLiteral("in.bin"), data);
        Expected<AddResult> r = store->addFile(in);
        QVERIFY2(r.hasValue(), qPrintable(r.message()));
        QCOMPARE(r->size, size);
        QCOMPARE(r->newBytes, size);
        QVERIFY(isHexId(r->id));
        QVERIFY(store->contains(r->id));
        QCOMPARE(store->sizeOf(r->id).value(), size);
        // The content id is the SHA-256 of the manifest, whose chunks concatenate to the file.
        const Manifest m = manifestOf(*store, r->id);
        QCOMPARE(qint64(m.chunks.size()), r->chunks);
        QCOMPARE(toHex(sha256(encodeManifest(m))), r->id);
        const QString out = dir.filePath(QStringLiteral("sub/out.bin"));
        Status st = store->checkout(r->id, out);
        QVERIFY2(st.isOk(), qPrintable(st.message()));
        QCOMPARE(readBytes(out), data);
        QCOMPARE(store->readAll(r->id).value(), data);
        QVERIFY(store->fsck().ok());
    }

    void addBytesAndDedupe()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("objects")));
        const QByteArray data = randomBytes(3 << 20, 42);
        Expected<AddResult> a = store->addBytes(data);
        QVERIFY(a.hasValue());
        QCOMPARE(a->newBytes, qint64(data.size()));
        const StoreStats s1 = store->stats();
        // Same content again, through the file path: same id, nothing new on disk.
        Expected<AddResult> b = store->addFile(writeTemp(dir, QStringLiteral("f"), data));
        QVERIFY(b.hasValue());
        QCOMPARE(b->id, a->id);
        QCOMPARE(b->newBytes, qint64(0));
        QCOMPARE(b->newChunks, qint64(0));
        const StoreStats s2 = store->stats();
        QCOMPARE(s2.diskBytes, s1.diskBytes);
        QCOMPARE(s2.packs, s1.packs);
        QCOMPARE(store->readAll(a->id).value(), data);
        // A small metadata object, and one that repeats a chunk many times (stored once).
        Expected<AddResult> small = store->addBytes(QByteArrayView("hello"));
        QVERIFY(small.hasValue());
        QCOMPARE(store->readAll(small->id).value(), QByteArray("hello"));
        const QByteArray block = randomBytes(kMaxChunk, 9);
        QByteArray repeated;
        for (int i = 0; i < 8; ++i)
            repeated += block;   // with no cut inside a block, every block is the same max-size chunk
        Expected<AddResult> rep = store->addBytes(repeated);
        QVERIFY(rep.hasValue());
        QVERIFY(rep->newChunks < rep->chunks);
        QCOMPARE(store->readAll(rep->id).value(), repeated);
        QCOMPARE(store->manifestIds().size(), 3);
        QVERIFY(store->fsck().ok());
    }

    void gatedAddMatchesOnePassAdd()
    {
        // A gated add (write everything, then ask whether it may land) gives the ids, chunks and bytes the one-pass
        // add gives; at the gate nothing is visible yet; a refusal leaves no file behind, even with several packs
        // already full; a repeated block is written once; a second add writes nothing new.
        QTemporaryDir dir;
        auto onePass = openStore(dir.filePath(QStringLiteral("a")));
        const QString root = dir.filePath(QStringLiteral("b"));
        auto gated = openStore(root);
        gated->setPackSizeLimit(2 << 20);   // several packs sealed before the gate
        QByteArray data = randomBytes(9 << 20, 5);
        const QByteArray block = randomBytes(kMaxChunk, 6);
        for (int i = 0; i < 4; ++i)
            data += block;
        Expected<AddResult> a = onePass->addBytes(data);
        QVERIFY(a.hasValue());
        auto filesUnder = [&](const QString &sub) {
            return QDir(root + QLatin1Char('/') + sub).entryList(QDir::Files).size();
        };

        int calls = 0;
        Expected<AddResult> refused = gated->addGated(data.constData(), data.size(), [&] {
            ++calls;
            [&] {
                QVERIFY(filesUnder(QStringLiteral("tmp")) >= 3);   // the sealed packs, waiting
                QCOMPARE(filesUnder(QStringLiteral("packs")), qsizetype(0));
                QCOMPARE(gated->stats().packs, qint64(0));
                QVERIFY(!gated->contains(a->id));
            }();
            return Status(makeError(QStringLiteral("the parse refused the file")));
        });
        QCOMPARE(calls, 1);
        QVERIFY(!refused.hasValue());
        QCOMPARE(refused.error().message, QStringLiteral("the parse refused the file"));
        QCOMPARE(filesUnder(QStringLiteral("tmp")), qsizetype(0));
        QCOMPARE(filesUnder(QStringLiteral("packs")), qsizetype(0));
        QCOMPARE(gated->manifestIds().size(), qsizetype(0));

        Expected<AddResult> b = gated->addGated(data.constData(), data.size(), [] { return Status(); });
        QVERIFY(b.hasValue());
        QCOMPARE(b->id, a->id);
        QCOMPARE(b->chunks, a->chunks);
        QCOMPARE(b->newChunks, a->newChunks);
        QCOMPARE(b->newBytes, a->newBytes);
        QCOMPARE(gated->readAll(b->id).value(), data);
        QCOMPARE(filesUnder(QStringLiteral("tmp")), qsizetype(0));
        Expected<AddResult> again = gated->addGated(data.constData(), data.size(), [] { return Status(); });
        QVERIFY(again.hasValue());
        QCOMPARE(again->newBytes, qint64(0));
        // A second version with 1% changed in one place stores about that much.
        QByteArray edited = data;
        const QByteArray patch = randomBytes(data.size() / 100, 7);
        std::memcpy(edited.data() + data.size() / 3, patch.constData(), size_t(patch.size()));
        Expected<AddResult> c = gated->addGated(edited.constData(), edited.size(), [] { return Status(); });
        QVERIFY(c.hasValue());
        QVERIFY2(c->newBytes < edited.size() / 20, qPrintable(QString::number(c->newBytes)));
        QCOMPARE(gated->readAll(c->id).value(), edited);
        QVERIFY(gated->fsck().ok());
    }

    void stats()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("objects")));
        const StoreStats empty = store->stats();
        QCOMPARE(empty.chunks, qint64(0));
        QCOMPARE(empty.storedBytes, qint64(0));
        const QByteArray data = randomBytes(2 << 20, 1);
        Expected<AddResult> r = store->addBytes(data);
        QVERIFY(r.hasValue());
        const StoreStats s = store->stats();
        QCOMPARE(s.manifests, qint64(1));
        QCOMPARE(s.chunks, r->chunks);
        QCOMPARE(s.storedBytes, qint64(data.size()));
        QVERIFY(s.packs >= 1);
        QVERIFY(s.diskBytes > s.storedBytes);
    }

    void fsckFlippedByte()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        const QByteArray data = randomBytes(1 << 20, 7);
        Expected<AddResult> r = store->addBytes(data);
        QVERIFY(r.hasValue());
        const Manifest m = manifestOf(*store, r->id);
        const Sha256 victim = m.chunks[m.chunks.size() / 2].id;
        QString pack;
        qint64 offset = 0;
        QVERIFY(locateChunk(root, victim, &pack, &offset));
        flipByte(pack, offset + 100);
        const FsckReport rep = store->fsck();
        QVERIFY(!rep.ok());
        QVERIFY2(hasProblem(rep, toHex(victim), QStringLiteral("hash mismatch")), qPrintable(describe(rep)));
        QVERIFY(hasProblem(rep, r->id, QStringLiteral("missing or corrupt")));
        QCOMPARE(rep.chunksChecked, qint64(m.chunks.size()));
        QCOMPARE(rep.bytesChecked, qint64(data.size()));

        // Checkout of the corrupt object fails, names the chunk, and leaves no output file.
        const QString out = dir.filePath(QStringLiteral("out.bin"));
        Status st = store->checkout(r->id, out);
        QVERIFY(!st.isOk());
        QVERIFY(st.message().contains(toHex(victim)));
        QVERIFY(!QFileInfo::exists(out));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 0);
        QVERIFY(!store->readAll(r->id).hasValue());
        // An existing file at the target is left untouched.
        writeTemp(dir, QStringLiteral("out.bin"), "old");
        QVERIFY(!store->checkout(r->id, out).isOk());
        QCOMPARE(readBytes(out), QByteArray("old"));
    }

    void fsckTruncatedPack()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        Expected<AddResult> r = store->addBytes(randomBytes(1 << 20, 8));
        QVERIFY(r.hasValue());
        const QStringList packs = packFiles(root, QStringLiteral(".pack"));
        QCOMPARE(packs.size(), 1);
        QFile f(root + QStringLiteral("/packs/") + packs.first());
        QVERIFY(f.resize(f.size() - 1000));
        const FsckReport rep = store->fsck();
        QVERIFY(!rep.ok());
        QVERIFY2(hasProblem(rep, QString(), QStringLiteral("truncated")), qPrintable(describe(rep)));
        QVERIFY(hasProblem(rep, r->id, QStringLiteral("missing or corrupt")));
        QVERIFY(!store->checkout(r->id, dir.filePath(QStringLiteral("out"))).isOk());
        QVERIFY(!QFileInfo::exists(dir.filePath(QStringLiteral("out"))));
    }

    void fsckMissingPack()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        Expected<AddResult> r = store->addBytes(randomBytes(1 << 20, 9));
        QVERIFY(r.hasValue());
        const QStringList packs = packFiles(root, QStringLiteral(".pack"));
        QCOMPARE(packs.size(), 1);
        QVERIFY(QFile::remove(root + QStringLiteral("/packs/") + packs.first()));
        const FsckReport rep = store->fsck();
        QVERIFY2(hasProblem(rep, QString(), QStringLiteral("pack file is missing")), qPrintable(describe(rep)));
        QVERIFY(hasProblem(rep, r->id, QStringLiteral("missing or corrupt")));
        QVERIFY(!store->readAll(r->id).hasValue());
    }

    void fsckCorruptManifestAndIndex()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        Expected<AddResult> a = store->addBytes(randomBytes(100000, 10));
        Expected<AddResult> b = store->addBytes(randomBytes(100000, 11));
        QVERIFY(a.hasValue() && b.hasValue());
        const QString mpath = root + QStringLiteral("/manifests/") + a->id.left(2) + QLatin1Char('/') + a->id.mid(2);
        QFile mf(mpath);
        QVERIFY(mf.open(QIODevice::Append));
        mf.write("x");
        mf.close();
        FsckReport rep = store->fsck();
        QCOMPARE(rep.problems.size(), size_t(1));
        QCOMPARE(rep.problems[0].object, a->id);
        QCOMPARE(rep.problems[0].message, QStringLiteral("manifest hash mismatch"));
        QCOMPARE(rep.manifestsChecked, qint64(2));
        QVERIFY(!store->contains(a->id));
        QVERIFY(store->contains(b->id));
        QVERIFY(!store->readAll(a->id).hasValue());

        // A damaged idx is reported too (and its pack's chunks are then unavailable).
        const QStringList idx = packFiles(root, QStringLiteral(".idx"));
        QVERIFY(!idx.isEmpty());
        flipByte(root + QStringLiteral("/packs/") + idx.first(), 30);
        rep = store->fsck();
        QVERIFY2(hasProblem(rep, QString(), QStringLiteral("checksum")), qPrintable(describe(rep)));
    }

    void gcKeepsLiveRemovesDead()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        // The live file is a prefix of a dead one plus a new tail, so the dead file's packs mix live and dead
        // chunks and must be rewritten.
        const QByteArray deadData = randomBytes(4 << 20, 12);
        const QByteArray liveData = deadData.left(3 << 20) + randomBytes(300000, 13);
        Expected<AddResult> dead = store->addBytes(deadData);
        Expected<AddResult> live = store->addBytes(liveData);
        Expected<AddResult> dead2 = store->addBytes(randomBytes(1 << 20, 15));
        QVERIFY(live.hasValue() && dead.hasValue() && dead2.hasValue());
        QVERIFY(live->newBytes < 600000);
        const StoreStats before = store->stats();
        Expected<GcReport> g = store->gc({live->id});
        QVERIFY2(g.hasValue(), qPrintable(g.message()));
        QCOMPARE(g->manifestsRemoved, qint64(2));
        QVERIFY(g->chunksRemoved > 0);
        QVERIFY(g->packsRewritten > 0);
        QVERIFY(g->bytesFreed > 0);
        const StoreStats after = store->stats();
        QCOMPARE(after.manifests, qint64(1));
        QCOMPARE(after.storedBytes, qint64(liveData.size()));   // exactly the live file's chunks remain
        QVERIFY(after.diskBytes < before.diskBytes);
        QCOMPARE(before.diskBytes - after.diskBytes, g->bytesFreed);
        QVERIFY(!store->contains(dead->id));
        QVERIFY(store->contains(live->id));
        QCOMPARE(store->readAll(live->id).value(), liveData);
        const QString out = dir.filePath(QStringLiteral("live.bin"));
        QVERIFY(store->checkout(live->id, out).isOk());
        QCOMPARE(readBytes(out), liveData);
        QVERIFY(store->fsck().ok());
        // A second store object that opened before gc still reads correctly (it re-syncs its index).
        auto other = openStore(root);
        QCOMPARE(other->readAll(live->id).value(), liveData);
        // gc again: nothing left to do
        Expected<GcReport> g2 = store->gc({live->id});
        QVERIFY(g2.hasValue());
        QCOMPARE(g2->chunksRemoved, qint64(0));
        QCOMPARE(g2->manifestsRemoved, qint64(0));
        QCOMPARE(g2->packsRewritten, qint64(0));
    }

    // appendInPlace collects chunks adjacent in memory into runs and sends runs of a megabyte or more to the disk
    // without a copy, after padding that gives the run its page offset in memory. Mixed with copied appends, gaps
    // and a pack limit that runs cross, every entry must read back as its bytes, and fsck must find nothing wrong.
    void packRunsWrittenInPlace()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        const QByteArray data = randomBytes(14 << 20, 91);
        const qint64 m = DirectWriter::kInPlaceMinimum;
        // (start, length, in place?); a start other than the previous end breaks the run.
        const std::vector<std::tuple<qint64, qint64, bool>> chunks = {
            {0, 100, true},          {100, m / 2, true},      {100 + m / 2, m, true},   {3 * m, 5000, false},
            {3 * m + 7, m + 1, true}, {4 * m + 8, 2 * m, true}, {7 * m, 64, true},        {7 * m + 64, m - 64, true},
            {8 * m + 4096, m / 4, true}, {8 * m + 4096 + m / 4, 3 * m, true}, {12 * m, 300, false},
            {12 * m + 300, m + 13, true},
        };
        std::vector<std::pair<Sha256, QByteArray>> expected;
        {
            PackWriter w(root, 3 * m);   // runs cross the pack limit
            for (const auto &[at, len, inPlace] : chunks) {
                QVERIFY(at + len <= data.size());
                const QByteArray bytes = data.mid(at, len);
                const Sha256 id = sha256(bytes.constData(), size_t(bytes.size()));
                const Status st = inPlace ? w.appendInPlace(id, data.constData() + at, len)
                                          : w.append(id, data.constData() + at, len);
                QVERIFY2(st.isOk(), qPrintable(st.message()));
                expected.emplace_back(id, bytes);
            }
            QVERIFY(w.finish().isOk());
            QCOMPARE(w.bytesWritten(), std::accumulate(chunks.begin(), chunks.end(), qint64(0),
                                                       [](qint64 a, const auto &c) { return a + std::get<1>(c); }));
        }
        QVERIFY(packFiles(root, QStringLiteral(".idx")).size() >= 3);
        for (const auto &[id, bytes] : expected) {
            QString pack;
            qint64 offset = 0;
            QVERIFY(locateChunk(root, id, &pack, &offset));
            QCOMPARE(readBytes(pack).mid(offset, bytes.size()), bytes);
        }
        auto reopened = openStore(root);
        const FsckReport rep = reopened->fsck();
        QVERIFY2(rep.problems.empty(), rep.problems.empty() ? "" : qPrintable(rep.problems[0].message));
        QCOMPARE(reopened->stats().storedBytes, std::accumulate(expected.begin(), expected.end(), qint64(0),
                                                                [](qint64 a, const auto &e) { return a + e.second.size(); }));
    }

    // A run longer than 16 MiB goes to the disk in parts while chunks keep coming. Each part continues where the
    // last ended in memory, so after the first padding (the mapping starts off a page boundary here) the pack holds
    // the bytes back to back, and every chunk reads back from where its entry says.
    void longRunsWrittenInParts()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        const QByteArray data = randomBytes(40 << 20, 93);
        std::mt19937 engine(5);
        std::vector<std::pair<Sha256, QByteArray>> expected;
        qint64 total = 0;
        {
            PackWriter w(root, 64 << 20);   // one pack: the parts come from the run, not from the size limit
            for (qint64 at = 7; at + 300000 < data.size();) {
                const qint64 len = 20000 + qint64(engine() % 280000);
                const QByteArray bytes = data.mid(at, len);
                const Sha256 id = sha256(bytes.constData(), size_t(bytes.size()));
                const Status st = w.appendInPlace(id, data.constData() + at, len);
                QVERIFY2(st.isOk(), qPrintable(st.message()));
                expected.emplace_back(id, bytes);
                total += len;
                at += len;
            }
            QVERIFY(w.finish().isOk());
        }
        QVERIFY(total > 2 * (16 << 20));
        const QStringList packs = packFiles(root, QStringLiteral(".pack"));
        QCOMPARE(packs.size(), 1);
        const QString packPath = root + QStringLiteral("/packs/") + packs.front();
        const qint64 packSize = QFileInfo(packPath).size();
        QVERIFY2(packSize >= kPackHeaderSize + total && packSize < kPackHeaderSize + total + 4096,
                 qPrintable(QStringLiteral("pack of %1 bytes for %2 of chunks").arg(packSize).arg(total)));
        const QByteArray pack = readBytes(packPath);
        for (const auto &[id, bytes] : expected) {
            QString where;
            qint64 offset = 0;
            QVERIFY(locateChunk(root, id, &where, &offset));
            QCOMPARE(pack.mid(offset, bytes.size()), bytes);
        }
    }

    // Duplicate chunk copies (as concurrent adds can leave): gc keeps one copy that verifies and drops the rest.
    void gcKeepsTheGoodDuplicate()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        const QByteArray data = randomBytes(1 << 20, 70);
        Expected<AddResult> r = store->addBytes(data);
        QVERIFY(r.hasValue());
        const Manifest m = manifestOf(*store, r->id);
        QString firstPack;
        qint64 offset = 0;
        const Sha256 victim = m.chunks[1].id;
        QVERIFY(locateChunk(root, victim, &firstPack, &offset));
        {
            PackWriter w(root);
            qint64 pos = 0;
            for (const ManifestChunk &c : m.chunks) {
                QVERIFY(w.append(c.id, data.constData() + pos, c.length).isOk());
                pos += c.length;
            }
            const QByteArray extra = randomBytes(20000, 71);
            QVERIFY(w.append(sha256(extra), extra.constData(), extra.size()).isOk());
            QVERIFY(w.finish().isOk());
        }
        QCOMPARE(packFiles(root, QStringLiteral(".idx")).size(), 2);
        flipByte(firstPack, offset + 10);
        const FsckReport rep = store->fsck();
        QCOMPARE(rep.problems.size(), size_t(1));   // the bad copy; the manifest is fine thanks to the good one
        QCOMPARE(rep.problems[0].object, toHex(victim));

        Expected<GcReport> g = store->gc({r->id});
        QVERIFY2(g.hasValue(), qPrintable(g.message()));
        QVERIFY(!QFileInfo::exists(firstPack));
        QCOMPARE(store->readAll(r->id).value(), data);
        QVERIFY(store->fsck().ok());
        const StoreStats s = store->stats();
        QCOMPARE(s.packs, qint64(1));
        QCOMPARE(s.storedBytes, qint64(data.size()));
    }

    void gcStopsOnUnreadableLiveManifest()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        Expected<AddResult> a = store->addBytes(randomBytes(50000, 1));
        Expected<AddResult> b = store->addBytes(randomBytes(50000, 2));
        QVERIFY(a.hasValue() && b.hasValue());
        flipByte(root + QStringLiteral("/manifests/") + a->id.left(2) + QLatin1Char('/') + a->id.mid(2), 20);
        const StoreStats before = store->stats();
        QVERIFY(!store->gc({a->id}).hasValue());
        QCOMPARE(store->stats().diskBytes, before.diskBytes);   // nothing deleted
        QVERIFY(store->contains(b->id));
    }

    void staleTempFiles()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        Expected<AddResult> r = store->addBytes(randomBytes(300000, 3));
        QVERIFY(r.hasValue());
        // Simulate crashes: a half-written pack in tmp/, a pack renamed without its idx, a manifest in tmp/.
        QVERIFY(writeFileAtomic(root + QStringLiteral("/tmp/pack-1-abc.tmp"), randomBytes(5000, 4)).isOk());
        QVERIFY(writeFileAtomic(root + QStringLiteral("/tmp/obj-1-abc.tmp"), QByteArray("keel-manifest 1\n")).isOk());
        const QString orphan = root + QStringLiteral("/packs/") + packFileName(QString(64, QLatin1Char('e')));
        QVERIFY(writeFileAtomic(orphan, QByteArray(packHeader() + randomBytes(7000, 5))).isOk());
        const FsckReport rep = store->fsck();
        QVERIFY2(rep.ok(), qPrintable(describe(rep)));
        QCOMPARE(rep.staleTempFiles, qint64(3));
        QCOMPARE(store->readAll(r->id).value().size(), 300000);
        Expected<GcReport> g = store->gc({r->id});
        QVERIFY(g.hasValue());
        QVERIFY(g->bytesFreed >= 5000 + 7000);
        QCOMPARE(QDir(root + QStringLiteral("/tmp")).entryList(QDir::Files | QDir::Hidden).size(), 0);
        QVERIFY(!QFileInfo::exists(orphan));
        const FsckReport after = store->fsck();
        QVERIFY(after.ok());
        QCOMPARE(after.staleTempFiles, qint64(0));
        QVERIFY(store->contains(r->id));
    }

    // A check that runs while an add waits at its gate sees the add's sealed packs in tmp/ and says a write is
    // running, instead of calling them leftovers; once the add has landed there is nothing left and no write.
    void fsckDuringAWrite()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto writer = openStore(root);
        auto checker = openStore(root);
        QVERIFY(!checker->fsck().writeInProgress);
        const QByteArray data = randomBytes(3 << 20, 77);
        std::promise<void> atGate;
        std::promise<void> release;
        std::shared_future<void> released = release.get_future().share();
        Expected<AddResult> added = makeError(QStringLiteral("not run"));
        std::thread add([&] {
            added = writer->addGated(data.constData(), data.size(), [&] {
                atGate.set_value();
                released.wait();
                return Status();
            });
        });
        atGate.get_future().wait();
        const FsckReport during = checker->fsck();
        release.set_value();
        add.join();
        QVERIFY2(added.hasValue(), qPrintable(added.message()));
        QVERIFY2(during.ok(), qPrintable(describe(during)));
        QVERIFY(during.writeInProgress);
        QVERIFY(during.staleTempFiles > 0);   // the sealed packs, waiting for the gate
        const FsckReport after = checker->fsck();
        QVERIFY(after.ok());
        QVERIFY(!after.writeInProgress);
        QCOMPARE(after.staleTempFiles, qint64(0));
    }

    void copyObjects()
    {
        QTemporaryDir dir;
        auto from = openStore(dir.filePath(QStringLiteral("a")));
        auto to = openStore(dir.filePath(QStringLiteral("b")));
        const QByteArray d1 = randomBytes(3 << 20, 20);
        const QByteArray d2 = d1.left(2 << 20) + randomBytes(1 << 20, 21);   // shares chunks with d1
        Expected<AddResult> r1 = from->addBytes(d1);
        Expected<AddResult> r2 = from->addBytes(d2);
        Expected<AddResult> r3 = from->addBytes(randomBytes(1000, 22));   // not copied
        QVERIFY(r1.hasValue() && r2.hasValue() && r3.hasValue());

        Feedback fb;
        qint64 lastDone = -1, lastTotal = -1;
        fb.setCallback([&](qint64 done, qint64 total, const QString &) { lastDone = done; lastTotal = total; });
        Status st = ObjectStore::copyObjects(*from, *to, {r1->id, r2->id}, &fb);
        QVERIFY2(st.isOk(), qPrintable(st.message()));
        // Shared chunks are copied once: total = distinct chunk bytes of the two files.
        const StoreStats fromStats = from->stats();
        QCOMPARE(lastTotal, fromStats.storedBytes - 1000);
        QCOMPARE(lastDone, lastTotal);
        QCOMPARE(to->readAll(r1->id).value(), d1);
        QCOMPARE(to->readAll(r2->id).value(), d2);
        QVERIFY(!to->contains(r3->id));
        QVERIFY(to->fsck().ok());
        const StoreStats s1 = to->stats();
        QCOMPARE(s1.storedBytes, lastTotal);

        // Again: nothing to copy.
        st = ObjectStore::copyObjects(*from, *to, {r1->id, r2->id}, &fb);
        QVERIFY(st.isOk());
        QCOMPARE(lastTotal, qint64(0));
        QCOMPARE(to->stats().diskBytes, s1.diskBytes);

        // Unknown id: an error naming it.
        const QString unknown(64, QLatin1Char('0'));
        st = ObjectStore::copyObjects(*from, *to, {unknown}, nullptr);
        QVERIFY(!st.isOk());
        QVERIFY(st.message().contains(unknown));
    }

    void copyInterruptedResumes()
    {
        QTemporaryDir dir;
        auto from = openStore(dir.filePath(QStringLiteral("a")));
        auto to = openStore(dir.filePath(QStringLiteral("b")));
        to->setPackSizeLimit(1 << 20);   // 1 MiB batches
        const QByteArray data = randomBytes(6 << 20, 30);
        Expected<AddResult> r = from->addBytes(data);
        QVERIFY(r.hasValue());

        Feedback cancelAfterFirst;
        qint64 firstTotal = 0;
        cancelAfterFirst.setCallback([&](qint64 done, qint64 total, const QString &) {
            firstTotal = total;
            if (done > 0)
                cancelAfterFirst.cancel();
        });
        Status st = ObjectStore::copyObjects(*from, *to, {r->id}, &cancelAfterFirst);
        QVERIFY(!st.isOk());
        QVERIFY(st.error().is(keel::ErrorKind::Cancelled));
        QCOMPARE(firstTotal, qint64(data.size()));
        QVERIFY(!to->contains(r->id));   // the manifest waits for all its chunks
        const StoreStats partial = to->stats();
        QVERIFY(partial.storedBytes > 0 && partial.storedBytes < data.size());
        QVERIFY(to->fsck().ok());

        Feedback fb;
        qint64 secondTotal = -1;
        fb.setCallback([&](qint64, qint64 total, const QString &) { secondTotal = total; });
        st = ObjectStore::copyObjects(*from, *to, {r->id}, &fb);
        QVERIFY2(st.isOk(), qPrintable(st.message()));
        QCOMPARE(secondTotal, qint64(data.size()) - partial.storedBytes);   // resumed, not restarted
        const QString out = dir.filePath(QStringLiteral("out"));
        QVERIFY(to->checkout(r->id, out).isOk());
        QCOMPARE(readBytes(out), data);
        QCOMPARE(to->stats().storedBytes, qint64(data.size()));
        QVERIFY(to->fsck().ok());
    }

    void concurrentAdds()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        openStore(root);
        // Two store objects on one root in two threads: as two processes would (separate lock descriptors).
        const QByteArray common = randomBytes(1 << 20, 40);
        const QByteArray d1 = common + randomBytes(4 << 20, 41);
        const QByteArray d2 = common + randomBytes(4 << 20, 42);
        Expected<AddResult> r1 = makeError(QStringLiteral("not run"));
        Expected<AddResult> r2 = makeError(QStringLiteral("not run"));
        std::thread t1([&] { auto s = openStore(root); r1 = s->addBytes(d1); });
        std::thread t2([&] { auto s = openStore(root); r2 = s->addBytes(d2); });
        t1.join();
        t2.join();
        QVERIFY2(r1.hasValue(), qPrintable(r1.message()));
        QVERIFY2(r2.hasValue(), qPrintable(r2.message()));
        auto store = openStore(root);
        const FsckReport rep = store->fsck();
        QVERIFY2(rep.ok(), qPrintable(describe(rep)));
        QCOMPARE(store->readAll(r1->id).value(), d1);
        QCOMPARE(store->readAll(r2->id).value(), d2);
        // One object shared by two threads: adds queue up, reads run alongside.
        const QByteArray d3 = randomBytes(2 << 20, 43), d4 = randomBytes(2 << 20, 44);
        Expected<AddResult> r3 = makeError(QStringLiteral("not run"));
        Expected<AddResult> r4 = makeError(QStringLiteral("not run"));
        QByteArray read1;
        std::thread t3([&] { r3 = store->addBytes(d3); });
        std::thread t4([&] { r4 = store->addBytes(d4); read1 = store->readAll(r1->id).value(); });
        t3.join();
        t4.join();
        QVERIFY(r3.hasValue() && r4.hasValue());
        QCOMPARE(read1, d1);
        QCOMPARE(store->readAll(r3->id).value(), d3);
        QCOMPARE(store->readAll(r4->id).value(), d4);
        QVERIFY(store->fsck().ok());
    }

    void concurrentProcesses()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        openStore(root);
        // Each process adds three files; all six share a common prefix, so both write the same chunks at once.
        const QByteArray common = randomBytes(2 << 20, 80);
        auto content = [&](int i) { return QByteArray(common + randomBytes((1 << 20) + i, uint64_t(81 + i))); };
        std::vector<pid_t> children;
        for (int p = 0; p < 2; ++p) {
            const pid_t child = ::fork();
            QVERIFY(child >= 0);
            if (child == 0) {
                auto store = openStore(root);
                bool ok = true;
                for (int i = 0; i < 3; ++i)
                    ok = store->addBytes(content(p * 3 + i)).hasValue() && ok;
                ::_exit(ok ? 0 : 1);
            }
            children.push_back(child);
        }
        for (pid_t child : children) {
            int status = 0;
            QCOMPARE(::waitpid(child, &status, 0), child);
            QVERIFY(WIFEXITED(status));
            QCOMPARE(WEXITSTATUS(status), 0);
        }
        auto store = openStore(root);
        const FsckReport rep = store->fsck();
        QVERIFY2(rep.ok(), qPrintable(describe(rep)));
        const QStringList ids = store->manifestIds();
        QCOMPARE(ids.size(), 6);
        QSet<qint64> sizes;
        for (const QString &id : ids) {
            const QByteArray bytes = store->readAll(id).value();
            const int i = int(bytes.size() - common.size() - (1 << 20));
            QVERIFY(i >= 0 && i < 6);
            QCOMPARE(bytes, content(i));
            sizes.insert(bytes.size());
        }
        QCOMPARE(sizes.size(), 6);
    }

    void cancelledCheckoutLeavesNothing()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("objects")));
        Expected<AddResult> r = store->addBytes(randomBytes(2 << 20, 90));
        QVERIFY(r.hasValue());
        Feedback fb;
        fb.setCallback([&](qint64 done, qint64, const QString &) {
            if (done > 0)
                fb.cancel();
        });
        const QString out = dir.filePath(QStringLiteral("out.bin"));
        Status st = store->checkout(r->id, out, &fb);
        QVERIFY(!st.isOk());
        QVERIFY(st.error().is(keel::ErrorKind::Cancelled));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 0);
    }

    void cancelledAddLeavesNothing()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        Feedback fb;
        fb.cancel();
        Expected<AddResult> r = store->addBytes(randomBytes(3 << 20, 50), &fb);
        QVERIFY(!r.hasValue());
        QVERIFY(r.error().is(keel::ErrorKind::Cancelled));
        QCOMPARE(store->manifestIds().size(), 0);
        QCOMPARE(QDir(root + QStringLiteral("/tmp")).entryList(QDir::Files | QDir::Hidden).size(), 0);
        QVERIFY(store->fsck().ok());
    }

    // kill -9 during adds and gcs: whatever is visible afterwards is complete and verifies.
    void crashAtAnyPoint_data()
    {
        QTest::addColumn<int>("delayMs");
        for (int ms : {3, 10, 25, 50, 80, 130, 200, 320})
            QTest::addRow("%d ms", ms) << ms;
    }
    void crashAtAnyPoint()
    {
        QFETCH(int, delayMs);
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        openStore(root);
        const pid_t child = ::fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            auto store = openStore(root);
            QSet<QString> live;
            for (int i = 0;; ++i) {
                Expected<AddResult> r = store->addBytes(randomBytes(3 << 20, uint64_t(1000 + i)));
                if (r && i % 2 == 0)
                    live.insert(r->id);
                if (i % 3 == 2)
                    (void)store->gc(live);
            }
        }
        QThread::msleep(ulong(delayMs));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        QVERIFY(WIFSIGNALED(status));

        auto store = openStore(root);
        const FsckReport rep = store->fsck();
        QVERIFY2(rep.ok(), qPrintable(describe(rep)));
        const QStringList ids = store->manifestIds();
        qInfo("killed after %d ms: %lld objects, %lld stale temporary files", delayMs, qint64(ids.size()),
              rep.staleTempFiles);
        for (const QString &id : ids) {
            Expected<QByteArray> bytes = store->readAll(id);
            QVERIFY2(bytes.hasValue(), qPrintable(bytes.message()));
            QCOMPARE(bytes->size(), 3 << 20);
        }
        const QSet<QString> all(ids.begin(), ids.end());
        QVERIFY(store->gc(all).hasValue());
        const FsckReport after = store->fsck();
        QVERIFY(after.ok());
        QCOMPARE(after.staleTempFiles, qint64(0));
    }

    void gcMergesSmallPacks()
    {
        QTemporaryDir dir;
        const QString root = dir.filePath(QStringLiteral("objects"));
        auto store = openStore(root);
        QSet<QString> live;
        QList<QByteArray> contents;
        QStringList ids;
        for (int i = 0; i < 5; ++i) {
            contents << randomBytes(1000 + i, uint64_t(60 + i));
            ids << store->addBytes(contents.last()).value().id;
            live.insert(ids.last());
        }
        QCOMPARE(store->stats().packs, qint64(5));
        Expected<GcReport> g = store->gc(live);
        QVERIFY(g.hasValue());
        QCOMPARE(g->packsRewritten, qint64(5));
        QCOMPARE(g->chunksRemoved, qint64(0));
        QCOMPARE(store->stats().packs, qint64(1));
        for (int i = 0; i < 5; ++i)
            QCOMPARE(store->readAll(ids[i]).value(), contents[i]);
        QVERIFY(store->fsck().ok());
    }
};

QTEST_GUILESS_MAIN(TstObjectStore)
#include "tst_objectstore.moc"
