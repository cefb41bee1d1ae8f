#include "store/chunker.h"
#include "util/hash.h"

#include <QByteArray>
#include <QSet>
#include <QTest>

#include <map>
#include <mutex>
#include <set>

using namespace keel;
using namespace keel::store;

namespace {

uint64_t nextRandom(uint64_t &s)
{
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

QByteArray randomBytes(qint64 size, uint64_t seed)
{
    QByteArray out(size, Qt::Uninitialized);
    qint64 i = 0;
    for (; i + 8 <= size; i += 8) {
        const uint64_t v = nextRandom(seed);
        std::memcpy(out.data() + i, &v, 8);
    }
    for (; i < size; ++i)
        out[i] = char(nextRandom(seed));
    return out;
}

// CSV-like text: low entropy, many repeated byte patterns.
QByteArray textBytes(qint64 size, uint64_t seed)
{
    static const char *words[] = {"alpha", "beta", "gamma", "delta", "Private", "Self-emp", "Bachelors", "HS-grad",
                                  "Married", "Never-married", "United-States", "<=50K", ">50K"};
    QByteArray out;
    out.reserve(size + 256);
    while (out.size() < size) {
        out += QByteArray::number(qint64(nextRandom(seed) % 90 + 17));
        out += ',';
        out += words[nextRandom(seed) % 13];
        out += ',';
        out += QByteArray::number(double(nextRandom(seed) % 100000) / 100.0, 'f', 2);
        out += ',';
        out += words[nextRandom(seed) % 13];
        out += '\n';
    }
    out.truncate(size);
    return out;
}

QByteArray makeData(const QString &kind, qint64 size, uint64_t seed)
{
    if (kind == QLatin1String("random"))
        return randomBytes(size, seed);
    if (kind == QLatin1String("text"))
        return textBytes(size, seed);
    if (kind == QLatin1String("zeros"))
        return QByteArray(size, '\0');
    // "periodic": a 1000-byte random block repeated
    const QByteArray block = randomBytes(1000, seed);
    QByteArray out;
    out.reserve(size + 1000);
    while (out.size() < size)
        out += block;
    out.truncate(size);
    return out;
}

// Sequential chunking: the definition the parallel version must reproduce.
std::vector<qint64> sequentialCuts(const QByteArray &data)
{
    std::vector<qint64> cuts;
    qint64 pos = 0;
    while (pos < data.size()) {
        pos += nextChunkLength(data.constData() + pos, data.size() - pos);
        cuts.push_back(pos);
    }
    return cuts;
}

// Byte-at-a-time FastCDC, written from the documented definition (independent of the 4-byte scan).
qint64 referenceChunkLength(const char *data, qint64 available)
{
    if (available <= kMinChunk)
        return available;
    const qint64 end = std::min(available, kMaxChunk);
    const qint64 normal = std::min(end, kAvgChunk);
    const auto &gear = gearTable();
    uint64_t h = 0;
    for (qint64 i = kMinChunk; i < end; ++i) {
        h = (h << 1) + gear[uint8_t(data[i])];
        if (!(h & (i < normal ? kMaskSmall : kMaskLarge)))
            return i + 1;
    }
    return end;
}

QSet<QByteArray> chunkHashes(const QByteArray &data, int threads)
{
    QSet<QByteArray> out;
    qint64 start = 0;
    for (qint64 end : chunkBoundaries(data.constData(), data.size(), threads)) {
        const Sha256 h = sha256(data.constData() + start, size_t(end - start));
        out.insert(QByteArray(reinterpret_cast<const char *>(h.data()), 32));
        start = end;
    }
    return out;
}

} // namespace

class TstChunker : public QObject {
    Q_OBJECT
private slots:
    void gearTableFixed()
    {
        // splitmix64 from the fixed seed: the table is part of the on-disk format (chunk ids depend on it).
        uint64_t s = 0x6b65656c2d636463ULL;
        for (int i = 0; i < 256; ++i)
            QCOMPARE(gearTable()[size_t(i)], nextRandom(s));
        QCOMPARE(qPopulationCount(quint64(kMaskSmall)), 18u);
        QCOMPARE(qPopulationCount(quint64(kMaskLarge)), 14u);
    }

    void matchesByteReference_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("random") << QStringLiteral("random");
        QTest::newRow("text") << QStringLiteral("text");
        QTest::newRow("periodic") << QStringLiteral("periodic");
        QTest::newRow("zeros") << QStringLiteral("zeros");
    }
    void matchesByteReference()
    {
        QFETCH(QString, kind);
        const QByteArray data = makeData(kind, 6 << 20, 11);
        qint64 pos = 0;
        int chunks = 0;
        while (pos < data.size()) {
            const qint64 a = nextChunkLength(data.constData() + pos, data.size() - pos);
            const qint64 b = referenceChunkLength(data.constData() + pos, data.size() - pos);
            QCOMPARE(a, b);
            pos += a;
            ++chunks;
        }
        QVERIFY(chunks > 10);
    }

    void parallelEqualsSequential_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<qint64>("size");
        const qint64 sizes[] = {0, 1, kMinChunk - 1, kMinChunk, kMinChunk + 1, kMaxChunk, kMaxChunk + 1,
                                (1 << 20) - 1, 1 << 20, (2 << 20) + 1, (3 << 20) + 12345, (8 << 20) + 7, 20 << 20};
        const QStringList kinds = {QStringLiteral("random"), QStringLiteral("text"), QStringLiteral("periodic"),
                                   QStringLiteral("zeros")};
        for (const QString &kind : kinds)
            for (qint64 size : sizes) {
                const QByteArray name = kind.toLatin1() + '-' + QByteArray::number(size);
                QTest::newRow(name.constData()) << kind << size;
            }
    }
    void parallelEqualsSequential()
    {
        QFETCH(QString, kind);
        QFETCH(qint64, size);
        const QByteArray data = makeData(kind, size, uint64_t(size) * 31 + 7);
        const std::vector<qint64> expected = sequentialCuts(data);
        for (int threads = 1; threads <= 4; ++threads) {
            const std::vector<qint64> got = chunkBoundaries(data.constData(), data.size(), threads);
            QVERIFY2(got == expected, qPrintable(QStringLiteral("threads %1: %2 vs %3 cuts")
                                                     .arg(threads)
                                                     .arg(got.size())
                                                     .arg(expected.size())));
        }
    }

    // Segment starts that fall exactly on a sequential cut, or just before / after one.
    void segmentJoinOnCut_data()
    {
        QTest::addColumn<qint64>("shift");
        QTest::newRow("on cut") << qint64(0);
        QTest::newRow("one before") << qint64(-1);
        QTest::newRow("one after") << qint64(1);
        QTest::newRow("min after") << kMinChunk;
    }
    void segmentJoinOnCut()
    {
        QFETCH(qint64, shift);
        const QByteArray big = randomBytes(12 << 20, 99);
        const std::vector<qint64> cuts = sequentialCuts(big);
        // a cut near 3 MiB: with 2 threads and size 2*c the second segment starts exactly at c (+shift)
        const qint64 c = *std::lower_bound(cuts.begin(), cuts.end(), qint64(3 << 20)) + shift;
        for (int threads : {2, 3, 4}) {
            const QByteArray data = big.left(c * threads);
            const std::vector<qint64> got = chunkBoundaries(data.constData(), data.size(), threads);
            QVERIFY(got == sequentialCuts(data));
            if (shift == 0)
                QVERIFY(std::binary_search(got.begin(), got.end(), c));
        }
    }

    void visitsAndOrigins()
    {
        const QByteArray data = randomBytes(9 << 20, 5);
        std::mutex m;
        std::map<std::pair<int, qint64>, ChunkVisit> visits;
        const ChunkVisitor visit = [&](std::span<const ChunkVisit> batch) -> Status {
            std::lock_guard lock(m);
            [&] { QVERIFY(!batch.empty() && batch.size() <= kVisitBatch); }();
            for (const ChunkVisit &v : batch)
                visits[{v.segment, v.index}] = v;
            return {};
        };
        Expected<ChunkList> list = chunkParallel(data.constData(), data.size(), 3, visit);
        QVERIFY(list.hasValue());
        QVERIFY(list->ends == sequentialCuts(data));
        QCOMPARE(list->origins.size(), list->ends.size());
        qint64 start = 0, fromVisits = 0;
        std::set<std::pair<int, qint64>> used;
        for (size_t k = 0; k < list->ends.size(); ++k) {
            const ChunkOrigin o = list->origins[k];
            if (o.segment >= 0) {
                const auto it = visits.find({o.segment, o.index});
                QVERIFY(it != visits.end());
                QCOMPARE(it->second.offset, start);
                QCOMPARE(it->second.length, list->ends[k] - start);
                used.insert({o.segment, o.index});
                ++fromVisits;
            }
            start = list->ends[k];
        }
        // Nearly every chunk comes from a worker, and every settled visit is a sequential chunk.
        QVERIFY(fromVisits >= qint64(list->ends.size()) - 10);
        for (const auto &[key, v] : visits)
            if (v.settled)
                QVERIFY2(used.count(key), "a settled visit is not a sequential chunk");
    }

    void chunkSizesWithinLimits_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("random") << QStringLiteral("random");
        QTest::newRow("text") << QStringLiteral("text");
        QTest::newRow("zeros") << QStringLiteral("zeros");
    }
    void chunkSizesWithinLimits()
    {
        QFETCH(QString, kind);
        const QByteArray data = makeData(kind, (16 << 20) + 333, 17);
        const std::vector<qint64> cuts = chunkBoundaries(data.constData(), data.size(), 2);
        QCOMPARE(cuts.back(), qint64(data.size()));
        qint64 start = 0;
        for (size_t i = 0; i < cuts.size(); ++i) {
            const qint64 len = cuts[i] - start;
            QVERIFY(len > 0 && len <= kMaxChunk);
            if (i + 1 < cuts.size())
                QVERIFY2(len >= kMinChunk, qPrintable(QStringLiteral("chunk %1 has %2 bytes").arg(i).arg(len)));
            start = cuts[i];
        }
        if (kind == QLatin1String("random")) {
            const double avg = double(data.size()) / double(cuts.size());
            qInfo("average chunk on random data: %.0f bytes", avg);
            QVERIFY(avg > 0.6 * kAvgChunk && avg < 1.6 * kAvgChunk);
        }
    }

    void shiftResistance_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<qint64>("at");
        QTest::addColumn<qint64>("inserted");   // negative: bytes removed
        QTest::newRow("random insert 100 early") << QStringLiteral("random") << qint64(1000) << qint64(100);
        QTest::newRow("random insert 1 middle") << QStringLiteral("random") << qint64(5 << 20) << qint64(1);
        QTest::newRow("random delete 5000") << QStringLiteral("random") << qint64(70000) << qint64(-5000);
        QTest::newRow("text insert 37 early") << QStringLiteral("text") << qint64(200) << qint64(37);
        QTest::newRow("text delete 1 middle") << QStringLiteral("text") << qint64(4 << 20) << qint64(-1);
    }
    void shiftResistance()
    {
        QFETCH(QString, kind);
        QFETCH(qint64, at);
        QFETCH(qint64, inserted);
        const QByteArray original = makeData(kind, 10 << 20, 23);
        QByteArray edited = original;
        if (inserted > 0)
            edited.insert(at, randomBytes(inserted, 77));
        else
            edited.remove(at, -inserted);
        const QSet<QByteArray> before = chunkHashes(original, 2);
        const QSet<QByteArray> after = chunkHashes(edited, 2);
        const qint64 kept = (before & after).size();
        // Only the chunks around the edit change (a handful); everything later re-synchronises.
        QVERIFY2(before.size() - kept <= 4, qPrintable(QStringLiteral("%1 of %2 chunks changed")
                                                           .arg(before.size() - kept)
                                                           .arg(before.size())));
    }

    void cancel()
    {
        const QByteArray data = randomBytes(4 << 20, 3);
        Feedback feedback;
        feedback.cancel();
        Expected<ChunkList> list = chunkParallel(data.constData(), data.size(), 2, ChunkVisitor(), &feedback);
        QVERIFY(!list.hasValue());
        QVERIFY(list.error().is(keel::ErrorKind::Cancelled));
    }

    void visitorErrorStops()
    {
        const QByteArray data = randomBytes(4 << 20, 3);
        const ChunkVisitor visit = [](std::span<const ChunkVisit> batch) -> Status {
            for (const ChunkVisit &v : batch)
                if (v.offset > (1 << 20))
                    return makeError(QStringLiteral("disk full"));
            return {};
        };
        Expected<ChunkList> list = chunkParallel(data.constData(), data.size(), 2, visit);
        QVERIFY(!list.hasValue());
        QCOMPARE(list.error().message, QStringLiteral("disk full"));
    }
};

QTEST_GUILESS_MAIN(TstChunker)
#include "tst_chunker.moc"
