#include "store/objectstore.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <sys/resource.h>

using namespace keel;
using namespace keel::store;

namespace {

constexpr qint64 kRows = 400000;
constexpr qint64 kOnePercent = kRows / 100;

uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct Rng {
    uint64_t s;
    uint64_t next() { return s = mix(s); }
    qint64 below(qint64 n) { return qint64(next() % uint64_t(n)); }
};

const char *pick(Rng &r, std::initializer_list<const char *> words)
{
    return *(words.begin() + r.below(qint64(words.size())));
}

void appendFixed(QByteArray &out, double v, int decimals) { out += QByteArray::number(v, 'f', decimals); }

// One CSV row of 20 mixed columns; a row depends only on (row number, variant), so versions share their rows.
void appendRow(QByteArray &out, qint64 row, uint64_t variant)
{
    Rng r{mix(uint64_t(row) * 0x100000001b3ULL + variant * 0x9e37ULL)};
    out += QByteArray::number(row + 1);
    out += ',';
    const qint64 day = row / 300;
    out += QByteArray::number(2015 + day / 360) + '-' + QByteArray::number(day / 30 % 12 + 101).mid(1) + '-'
           + QByteArray::number(day % 30 + 101).mid(1);
    out += ',';
    out += QByteArray::number(r.below(24) + 100).mid(1) + ':' + QByteArray::number(r.below(60) + 100).mid(1) + ':'
           + QByteArray::number(r.below(60) + 100).mid(1);
    out += ',';
    out += pick(r, {"Private", "Self-emp-not-inc", "Local-gov", "State-gov", "Federal-gov", "Without-pay"});
    out += ',';
    out += pick(r, {"CA", "NY", "TX", "WA", "OR", "FL", "IL", "MA", "CO", "NV", "AZ", "GA"});
    out += ',';
    out += QByteArray::number(17 + r.below(70));
    out += ',';
    out += QByteArray::number(r.below(200000));
    out += ',';
    appendFixed(out, double(r.below(100000000)) / 1e8, 4);
    out += ',';
    out += r.below(2) ? "true" : "false";
    out += ',';
    out += QByteArray::number(r.below(1000));
    out += ',';
    appendFixed(out, double(r.below(1000000)) / 1e4, 3);
    out += ',';
    QByteArray name;
    const qint64 len = 5 + r.below(6);
    for (qint64 i = 0; i < len; ++i)
        name += char((i == 0 ? 'A' : 'a') + r.below(26));
    out += name;
    out += ',';
    out += pick(r, {"A", "B", "C", "D", "E"});
    out += ',';
    out += QByteArray::number(10000 + r.below(90000));
    out += ',';
    out += char('A' + r.below(26));
    out += char('A' + r.below(26));
    out += '-' + QByteArray::number(1000 + r.below(9000));
    out += ',';
    out += QByteArray::number(1 + r.below(50));
    out += ',';
    appendFixed(out, double(r.below(500000)) / 100.0, 2);
    out += ',';
    appendFixed(out, double(r.below(50)) / 100.0, 2);
    out += ',';
    out += pick(r, {"shipped", "pending", "returned", "cancelled", "delivered"});
    out += ',';
    const qint64 words = r.below(4);
    if (words > 0) {
        out += '"';
        for (qint64 i = 0; i < words; ++i) {
            if (i)
                out += ' ';
            out += pick(r, {"fast", "slow", "great", "broken", "again", "thanks", "late", "ok", "box", "blue"});
        }
        out += '"';
    }
    out += '\n';
}

QByteArray header()
{
    return "id,date,time,workclass,state,age,income,score,flag,count,ratio,name,segment,zip,product,quantity,price,"
           "discount,status,comment\n";
}

QByteArray rows(qint64 from, qint64 to, uint64_t variant)
{
    QByteArray out;
    out.reserve((to - from) * 130);
    for (qint64 i = from; i < to; ++i)
        appendRow(out, i, variant);
    return out;
}

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &bytes)
{
    const QString path = dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

} // namespace

class TstDedup : public QObject {
    Q_OBJECT
private:
    QByteArray m_base;

private slots:
    void initTestCase()
    {
        m_base = header() + rows(0, kRows, 0);
        qInfo("base CSV: %lld bytes, %lld rows, 20 columns", qint64(m_base.size()), kRows);
        QVERIFY(m_base.size() > 45'000'000 && m_base.size() < 60'000'000);
    }

    void newVersionStoresLittle_data()
    {
        QTest::addColumn<QString>("edit");
        QTest::newRow("append 1% rows") << QStringLiteral("append");
        QTest::newRow("edit contiguous 1% block") << QStringLiteral("edit");
        QTest::newRow("insert 1% rows in the middle") << QStringLiteral("insert");
    }
    void newVersionStoresLittle()
    {
        QFETCH(QString, edit);
        QByteArray next;
        const qint64 mid = kRows / 2;
        if (edit == QLatin1String("append"))
            next = m_base + rows(kRows, kRows + kOnePercent, 0);
        else if (edit == QLatin1String("edit"))
            next = header() + rows(0, mid, 0) + rows(mid, mid + kOnePercent, 1) + rows(mid + kOnePercent, kRows, 0);
        else
            next = header() + rows(0, mid, 0) + rows(mid, mid + kOnePercent, 2) + rows(mid, kRows, 0);
        QVERIFY(next != m_base);

        QTemporaryDir dir;
        auto store = std::move(ObjectStore::open(dir.filePath(QStringLiteral("objects")), true).value());
        Expected<AddResult> first = store->addFile(writeFile(dir, QStringLiteral("v1.csv"), m_base));
        QVERIFY2(first.hasValue(), qPrintable(first.message()));
        QCOMPARE(first->newBytes, qint64(m_base.size()));
        Expected<AddResult> second = store->addFile(writeFile(dir, QStringLiteral("v2.csv"), next));
        QVERIFY2(second.hasValue(), qPrintable(second.message()));
        QVERIFY(second->id != first->id);

        // The changed rows themselves are 1% of the file; everything else should be found in the store.
        const double pct = 100.0 * double(second->newBytes) / double(next.size());
        qInfo("%s: new version %lld bytes, stored %lld new bytes in %lld of %lld chunks = %.2f%%",
              qPrintable(edit), qint64(next.size()), second->newBytes, second->newChunks, second->chunks, pct);
        QVERIFY2(pct <= 5.0, qPrintable(QStringLiteral("stored %1% new bytes").arg(pct)));
        QVERIFY(pct >= 0.9);   // the edit itself is new data: a result below 1% would mean a counting error

        QCOMPARE(store->readAll(second->id).value(), next);
        QCOMPARE(store->readAll(first->id).value(), m_base);
    }

    // Throughput of addFile on a 1 GiB file next to md5sum and sha256sum (set KEEL_STORE_BENCH=1 to run).
    void benchmarkOneGiB()
    {
        if (qEnvironmentVariableIntValue("KEEL_STORE_BENCH") != 1)
            QSKIP("set KEEL_STORE_BENCH=1 to run the 1 GiB throughput comparison");
        QTemporaryDir dir(QStringLiteral("/tmp/keel-store-bench-XXXXXX"));
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("big.bin"));
        const qint64 size = 1LL << 30;
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QByteArray block(64 << 20, Qt::Uninitialized);
            uint64_t s = 1;
            for (qint64 written = 0; written < size; written += block.size()) {
                for (qsizetype i = 0; i + 8 <= block.size(); i += 8) {
                    s = mix(s);
                    std::memcpy(block.data() + i, &s, 8);
                }
                QCOMPARE(f.write(block), qint64(block.size()));
            }
        }
        auto seconds = [](const QElapsedTimer &t) { return double(t.nsecsElapsed()) / 1e9; };
        // CPU seconds (user + system) of this process or of finished children: less disturbed by other load.
        auto cpu = [](int who) {
            rusage u{};
            getrusage(who, &u);
            return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
        };
        auto timeTool = [&](const QString &tool) -> double {
            if (QStandardPaths::findExecutable(tool).isEmpty())
                return -1;
            QElapsedTimer t;
            t.start();
            QProcess p;
            p.start(tool, {path});
            p.waitForFinished(-1);
            return seconds(t);
        };
        timeTool(QStringLiteral("md5sum"));   // warm the page cache

        // Interleaved rounds, best of each: the machine is shared, so the minimum is the least disturbed run.
        double md5 = 1e9, sha = 1e9, firstAdd = 1e9, reAdd = 1e9, checkout = 1e9;
        double md5Cpu = 1e9, firstAddCpu = 1e9, reAddCpu = 1e9;
        for (int round = 0; round < 3; ++round) {
            double c = cpu(RUSAGE_CHILDREN);
            md5 = std::min(md5, timeTool(QStringLiteral("md5sum")));
            md5Cpu = std::min(md5Cpu, cpu(RUSAGE_CHILDREN) - c);
            sha = std::min(sha, timeTool(QStringLiteral("sha256sum")));
            const QString root = dir.filePath(QStringLiteral("objects%1").arg(round));
            auto store = std::move(ObjectStore::open(root, true).value());
            QElapsedTimer t;
            t.start();
            double c0 = cpu(RUSAGE_SELF);
            Expected<AddResult> r = store->addFile(path);
            firstAdd = std::min(firstAdd, seconds(t));
            firstAddCpu = std::min(firstAddCpu, cpu(RUSAGE_SELF) - c0);
            QVERIFY2(r.hasValue(), qPrintable(r.message()));
            QCOMPARE(r->newBytes, size);
            t.restart();
            c0 = cpu(RUSAGE_SELF);
            Expected<AddResult> again = store->addFile(path);
            reAdd = std::min(reAdd, seconds(t));
            reAddCpu = std::min(reAddCpu, cpu(RUSAGE_SELF) - c0);
            QVERIFY(again.hasValue());
            QCOMPARE(again->newBytes, qint64(0));
            const QString out = dir.filePath(QStringLiteral("out.bin"));
            t.restart();
            QVERIFY(store->checkout(r->id, out).isOk());
            checkout = std::min(checkout, seconds(t));
            QFile::remove(out);
            store.reset();
            QDir(root).removeRecursively();
        }

        const double gb = double(size) / 1e9;
        qInfo("1 GiB random file, %d threads, best of 3 interleaved rounds:", QThread::idealThreadCount());
        qInfo("  md5sum            %.2f s  %.2f GB/s  (%.2f CPU s)", md5, gb / md5, md5Cpu);
        qInfo("  sha256sum         %.2f s  %.2f GB/s", sha, gb / sha);
        qInfo("  addFile (new)     %.2f s  %.2f GB/s  = %.2fx md5sum  (%.2f CPU s)", firstAdd, gb / firstAdd,
              md5 / firstAdd, firstAddCpu);
        qInfo("  addFile (re-add)  %.2f s  %.2f GB/s  = %.2fx md5sum  (%.2f CPU s)", reAdd, gb / reAdd, md5 / reAdd,
              reAddCpu);
        qInfo("  checkout          %.2f s  %.2f GB/s", checkout, gb / checkout);
    }
};

QTEST_GUILESS_MAIN(TstDedup)
#include "tst_dedup.moc"
