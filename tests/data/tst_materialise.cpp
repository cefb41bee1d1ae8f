// Binary columnar materialisation: exact round trips of every type with nulls, zero-copy mapping,
// and clean errors for truncated, corrupted and foreign files.

#include "data/materialise.h"
#include "data/reader.h"
#include "util/directwriter.h"
#include "util/hash.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

using namespace keel;
using namespace keel::data;

namespace {

/// A table with every column type, nulls in most columns, and awkward values.
Table sampleTable()
{
    const qint64 rows = 37; // not a multiple of 8: the last validity byte is partial
    ColumnBuilder i64(ColumnType::Int64), f64(ColumnType::Float64), b(ColumnType::Bool), dt(ColumnType::Datetime),
        cat(ColumnType::Categorical), str(ColumnType::String), dense(ColumnType::Int64);
    static const char *cats[] = {"red", "green", "", "blue \xE2\x82\xAC"};
    for (qint64 r = 0; r < rows; ++r) {
        if (r % 5 == 1)
            i64.appendNull();
        else
            i64.appendInt64(r == 0 ? std::numeric_limits<int64_t>::min() : r * 1000003 - 7);
        if (r % 7 == 2)
            f64.appendNull();
        else if (r == 3)
            f64.appendFloat64(std::nan(""));
        else if (r == 4)
            f64.appendFloat64(-std::numeric_limits<double>::infinity());
        else
            f64.appendFloat64(double(r) / 3.0);
        if (r % 4 == 3)
            b.appendNull();
        else
            b.appendBool(r % 3 == 0);
        if (r % 6 == 5)
            dt.appendNull();
        else
            dt.appendDatetime((r - 10) * 86400000LL + r);
        if (r % 9 == 8)
            cat.appendNull();
        else
            cat.appendString(cats[r % 4]);
        if (r % 8 == 7)
            str.appendNull();
        else
            str.appendString(std::string(size_t(r % 11), char('a' + r % 26)) + (r % 3 ? "" : "\n\"x\""));
        dense.appendInt64(-r);
    }
    return Table({i64.finish(QStringLiteral("i64")), f64.finish(QStringLiteral("f64")), b.finish(QStringLiteral("flag")),
                  dt.finish(QStringLiteral("when")), cat.finish(QStringLiteral("cat \xC3\xA9")),
                  str.finish(QStringLiteral("text")), dense.finish(QStringLiteral("dense"))});
}

/// Every name, type, null and value equal; floats compared bit for bit (NaN included).
void compareExact(const Table &a, const Table &b)
{
    QCOMPARE(b.columnNames(), a.columnNames());
    QCOMPARE(b.rowCount(), a.rowCount());
    for (int c = 0; c < a.columnCount(); ++c) {
        const Column &x = a.column(c);
        const Column &y = b.column(c);
        QCOMPARE(y.type(), x.type());
        QCOMPARE(y.nullCount(), x.nullCount());
        QCOMPARE(y.dictionarySize(), x.dictionarySize());
        for (qint64 code = 0; code < x.dictionarySize(); ++code)
            QVERIFY(x.dictionaryAt(code) == y.dictionaryAt(code));
        for (qint64 r = 0; r < x.size(); ++r) {
            QCOMPARE(y.isNull(r), x.isNull(r));
            if (x.isNull(r))
                continue;
            switch (x.type()) {
            case ColumnType::Int64: QCOMPARE(y.int64At(r), x.int64At(r)); break;
            case ColumnType::Datetime: QCOMPARE(y.datetimeAt(r), x.datetimeAt(r)); break;
            case ColumnType::Float64: {
                const double u = x.float64At(r), v = y.float64At(r);
                QVERIFY(std::memcmp(&u, &v, sizeof u) == 0);
                break;
            }
            case ColumnType::Bool: QCOMPARE(y.boolAt(r), x.boolAt(r)); break;
            case ColumnType::Categorical:
                QCOMPARE(y.codeAt(r), x.codeAt(r));
                QVERIFY(y.stringAt(r) == x.stringAt(r));
                break;
            case ColumnType::String: QVERIFY(y.stringAt(r) == x.stringAt(r)); break;
            }
        }
    }
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

/// The sample table's cache file at `path`, and the length of its header (the preamble's last 4 bytes).
std::pair<QByteArray, quint32> writtenSample(const QString &path)
{
    if (!writeMaterialisation(sampleTable(), path))
        return {};
    const QByteArray bytes = readAll(path);
    quint32 headerLen = 0;
    if (bytes.size() >= 16)
        std::memcpy(&headerLen, bytes.constData() + 12, 4);
    return {bytes, headerLen};
}

bool writeAll(const QString &path, const QByteArray &data)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    return f.write(data) == data.size();
}

} // namespace

class TestMaterialise : public QObject {
    Q_OBJECT

private slots:
    void roundTripEveryType();
    void columnsBorrowTheMapping();
    void emptyTables();
    void realDataset();
    void truncated_data();
    void truncated();
    void flippedHeaderByte_data();
    void flippedHeaderByte();
    void wrongMagicAndVersion();
    void missingFile();
    void writerInPlaceMatchesCopy();
    void largeColumnsWrittenFromWhereTheyAre();
    void misalignedBufferRefused();
    void paddingLongerThanAPage();
};

void TestMaterialise::roundTripEveryType()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("sub/t.keeltab"));
    const Table t = sampleTable();
    const Status st = writeMaterialisation(t, path);
    QVERIFY2(st, qPrintable(st.message()));
    const auto back = openMaterialisation(path);
    QVERIFY2(back, qPrintable(back.message()));
    compareExact(t, *back);
    QCOMPARE(back->column(back->indexOf(u"dense")).nullCount(), qint64(0));
    QVERIFY(back->column(back->indexOf(u"dense")).storage().validity.empty());

    // Writing what was opened gives the same bytes.
    const QString again = dir.filePath(QStringLiteral("again.keeltab"));
    const Status st2 = writeMaterialisation(*back, again);
    QVERIFY2(st2, qPrintable(st2.message()));
    QCOMPARE(readAll(again), readAll(path));
}

void TestMaterialise::columnsBorrowTheMapping()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("t.keeltab"));
    QVERIFY(writeMaterialisation(sampleTable(), path));
    Column kept;
    {
        const auto back = openMaterialisation(path);
        QVERIFY2(back, qPrintable(back.message()));
        for (const Column &c : back->columns()) {
            const ColumnStorage &s = c.storage();
            for (const void *p : {static_cast<const void *>(s.i64.view.data()), static_cast<const void *>(s.f64.view.data()),
                                  static_cast<const void *>(s.u8.view.data()), static_cast<const void *>(s.codes.view.data()),
                                  static_cast<const void *>(s.offsets.view.data()), static_cast<const void *>(s.bytes.view.data())}) {
                if (p)
                    QCOMPARE(reinterpret_cast<quintptr>(p) % 64, quintptr(0)); // aligned spans of the mapping
            }
        }
        // All columns share one owner: the mapping.
        const auto owner = back->column(0).storage().i64.owner;
        for (const Column &c : back->columns())
            QVERIFY(c.storage().offsets.owner == owner || c.storage().i64.owner == owner
                    || c.storage().f64.owner == owner || c.storage().u8.owner == owner);
        kept = back->column(back->indexOf(u"text"));
    }
    // The column keeps the mapping alive after the table is gone.
    QCOMPARE(kept.size(), qint64(37));
    QVERIFY(kept.stringAt(3) == std::string_view("ddd\n\"x\""));
}

void TestMaterialise::emptyTables()
{
    QTemporaryDir dir;
    const QString none = dir.filePath(QStringLiteral("none.keeltab"));
    QVERIFY(writeMaterialisation(Table(), none));
    auto back = openMaterialisation(none);
    QVERIFY2(back, qPrintable(back.message()));
    QCOMPARE(back->columnCount(), 0);
    QCOMPARE(back->rowCount(), qint64(0));

    std::vector<Column> cols;
    for (ColumnType t : {ColumnType::Int64, ColumnType::Float64, ColumnType::Bool, ColumnType::Datetime,
                         ColumnType::Categorical, ColumnType::String})
        cols.push_back(ColumnBuilder(t).finish(columnTypeName(t)));
    const Table zeroRows(cols);
    const QString zero = dir.filePath(QStringLiteral("zero.keeltab"));
    QVERIFY(writeMaterialisation(zeroRows, zero));
    back = openMaterialisation(zero);
    QVERIFY2(back, qPrintable(back.message()));
    QCOMPARE(back->columnCount(), 6);
    QCOMPARE(back->rowCount(), qint64(0));
    compareExact(zeroRows, *back);
}

void TestMaterialise::realDataset()
{
    const auto t = readTable(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_train.csv"));
    QVERIFY2(t, qPrintable(t.message()));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("adult.keeltab"));
    QVERIFY(writeMaterialisation(*t, path));
    const auto back = openMaterialisation(path);
    QVERIFY2(back, qPrintable(back.message()));
    compareExact(*t, *back);
}

void TestMaterialise::truncated_data()
{
    QTest::addColumn<int>("keep"); // bytes kept; negative = size minus that many
    QTest::newRow("zero") << 0;
    QTest::newRow("magic only") << 8;
    QTest::newRow("preamble") << 16;
    QTest::newRow("mid header") << 60;
    QTest::newRow("before checksum end") << -1000000; // replaced below by header end - 1
    QTest::newRow("one byte short") << -1;
    QTest::newRow("half") << -2;
}

void TestMaterialise::truncated()
{
    QFETCH(int, keep);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("t.keeltab"));
    const auto [full, headerLen] = writtenSample(path);
    QVERIFY(!full.isEmpty());
    qsizetype n = keep;
    if (keep == -1000000)
        n = 16 + qsizetype(headerLen) + 31;
    else if (keep == -2)
        n = full.size() / 2;
    else if (keep < 0)
        n = full.size() + keep;
    QVERIFY(n < full.size());
    QVERIFY(writeAll(path, full.left(n)));
    const auto back = openMaterialisation(path);
    QVERIFY(!back);
    QCOMPARE(back.error().file, path);
    QVERIFY2(back.error().message.startsWith(QStringLiteral("not a valid table cache")), qPrintable(back.message()));
}

void TestMaterialise::flippedHeaderByte_data()
{
    QTest::addColumn<int>("offset"); // relative to the start of the header; -1 = inside the checksum
    QTest::newRow("column count") << 0;
    QTest::newRow("row count") << 5;
    QTest::newRow("first name") << 14;
    QTest::newRow("a buffer offset") << 40;
    QTest::newRow("checksum") << -1;
}

void TestMaterialise::flippedHeaderByte()
{
    QFETCH(int, offset);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("t.keeltab"));
    auto [bytes, headerLen] = writtenSample(path);
    QVERIFY(!bytes.isEmpty());
    const qsizetype at = offset >= 0 ? 16 + offset : 16 + qsizetype(headerLen) + 3;
    bytes[at] = char(bytes[at] ^ 0x20);
    QVERIFY(writeAll(path, bytes));
    const auto back = openMaterialisation(path);
    QVERIFY(!back);
    QCOMPARE(back.error().message, QStringLiteral("not a valid table cache: header checksum mismatch"));
}

void TestMaterialise::wrongMagicAndVersion()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("t.keeltab"));
    QVERIFY(writeMaterialisation(sampleTable(), path));
    const QByteArray good = readAll(path);

    QByteArray bad = good;
    bad[7] = '2';
    QVERIFY(writeAll(path, bad));
    auto back = openMaterialisation(path);
    QVERIFY(!back);
    QCOMPARE(back.error().message, QStringLiteral("not a valid table cache: wrong magic"));

    bad = good;
    bad[8] = char(kMaterialisationVersion + 1);
    QVERIFY(writeAll(path, bad));
    back = openMaterialisation(path);
    QVERIFY(!back);
    QCOMPARE(back.error().message, QStringLiteral("not a valid table cache: format version 2, expected 1"));

    // A CSV file is not a table cache.
    back = openMaterialisation(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/diamonds.csv"));
    QVERIFY(!back);
    QCOMPARE(back.error().message, QStringLiteral("not a valid table cache: wrong magic"));
}

void TestMaterialise::missingFile()
{
    QTemporaryDir dir;
    const auto back = openMaterialisation(dir.filePath(QStringLiteral("nope.keeltab")));
    QVERIFY(!back);
    QCOMPARE(back.error().message, QStringLiteral("file not found"));
}


// writeInPlace() sends runs that start at a page offset equal to the file offset's straight to the disk; everything
// else is copied. Mixed with write() at every skew, the file must hold exactly the bytes given, in order.
void TestMaterialise::writerInPlaceMatchesCopy()
{
    QTemporaryDir dir;
    const qint64 pool = 24LL << 20;
    std::unique_ptr<char, void (*)(void *)> mem(static_cast<char *>(std::aligned_alloc(4096, size_t(pool))), &std::free);
    QVERIFY(mem);
    std::mt19937_64 rng(17);
    for (qint64 i = 0; i < pool; i += 8) {
        const uint64_t v = rng();
        std::memcpy(mem.get() + i, &v, 8);
    }
    // (length, how the data's page offset relates to the file offset's, in place?). Lengths just below and above
    // the in-place minimum and tails that are not whole pages; offsets that agree (sent from where they are),
    // disagree by 64 bytes or by one (copied).
    const qint64 m = DirectWriter::kInPlaceMinimum;
    enum Skew { Agrees, Off64, Off1 };
    const std::vector<std::tuple<qint64, Skew, bool>> pieces = {
        {100, Agrees, false},    {3 * m + 5, Agrees, true}, {m + 4096, Off64, true}, {2 * m, Agrees, true},
        {m - 1, Agrees, true},   {4 * m + 1, Off1, true},   {13, Agrees, false},     {5 * m, Agrees, true},
        {4096, Agrees, true},    {2 * m + 4095, Agrees, true}, {m + 3, Off64, false}, {m + 100, Agrees, true},
    };
    QByteArray expected;
    DirectWriter out;
    const QString path = dir.filePath(QStringLiteral("mixed.bin"));
    QVERIFY(out.open(path));
    qint64 next = 0;   // each piece reads fresh bytes of the pool
    for (const auto &[len, skew, inPlace] : pieces) {
        qint64 at = next + ((expected.size() - next) % 4096 + 4096) % 4096;
        at += skew == Off64 ? 64 : skew == Off1 ? 1 : 0;
        next = at + len;
        QVERIFY(next <= pool);
        const Status st = inPlace ? out.writeInPlace(mem.get() + at, len) : out.write(mem.get() + at, len);
        QVERIFY2(st, qPrintable(st.message()));
        expected.append(mem.get() + at, len);
        QCOMPARE(out.size(), expected.size());
    }
    const Status closed = out.close();
    QVERIFY2(closed, qPrintable(closed.message()));
    const QByteArray got = readAll(path);
    QCOMPARE(got.size(), expected.size());
    QVERIFY(got == expected);
}

// Large columns are written without a copy, at a file offset on the same place in a 4 KiB page as their memory (the
// parser's page-aligned value regions, from the second row on when the file has a header); the cache reads back
// exactly, and each buffer keeps its page offset.
void TestMaterialise::largeColumnsWrittenFromWhereTheyAre()
{
    QTemporaryDir dir;
    const qint64 rows = 300'001;   // 2.4 MB of int64 values: above the in-place minimum
    const size_t bytes = size_t(rows) * 8 + 8192;
    std::vector<std::shared_ptr<const void>> blocks;
    std::mt19937_64 rng(5);
    std::vector<Column> columns;
    // Skews: a page start, 192 bytes in, 4032 bytes in and 8 bytes in (a region's second int64 row).
    for (size_t skew : {size_t(0), size_t(192), size_t(4032), size_t(8)}) {
        blocks.push_back(std::shared_ptr<const void>(std::aligned_alloc(4096, bytes), &std::free));
        QVERIFY(blocks.back());
        char *base = const_cast<char *>(static_cast<const char *>(blocks.back().get())) + skew;
        ColumnStorage s;
        s.rows = rows;
        if (skew % 16 == 0) {
            auto *v = reinterpret_cast<int64_t *>(base);
            for (qint64 r = 0; r < rows; ++r)
                v[r] = int64_t(rng());
            s.i64 = Buffer<int64_t>::borrow(std::span<const int64_t>(v, size_t(rows)), blocks.back());
            columns.emplace_back(QStringLiteral("i%1").arg(skew), ColumnType::Int64, std::move(s));
        } else {
            auto *v = reinterpret_cast<double *>(base);
            for (qint64 r = 0; r < rows; ++r)
                v[r] = double(rng() % 1000003) / 7.0;
            s.f64 = Buffer<double>::borrow(std::span<const double>(v, size_t(rows)), blocks.back());
            columns.emplace_back(QStringLiteral("f%1").arg(skew), ColumnType::Float64, std::move(s));
        }
    }
    const Table t(std::move(columns));
    const QString path = dir.filePath(QStringLiteral("big.keeltab"));
    const Status st = writeMaterialisation(t, path);
    QVERIFY2(st, qPrintable(st.message()));
    const auto back = openMaterialisation(path);
    QVERIFY2(back, qPrintable(back.message()));
    compareExact(t, *back);
    // The mapping is page-aligned: a buffer written in place has the page offset it had in memory.
    for (int c = 0; c < 4; ++c) {
        const auto *was = t.column(c).type() == ColumnType::Int64
                              ? static_cast<const void *>(t.column(c).storage().i64.view.data())
                              : static_cast<const void *>(t.column(c).storage().f64.view.data());
        const auto *now = back->column(c).type() == ColumnType::Int64
                              ? static_cast<const void *>(back->column(c).storage().i64.view.data())
                              : static_cast<const void *>(back->column(c).storage().f64.view.data());
        QCOMPARE(reinterpret_cast<quintptr>(now) % 4096, reinterpret_cast<quintptr>(was) % 4096);
    }
}

// A header that passes its checksum but puts the int64 values 4 bytes off their alignment is refused by name, and one
// 8 bytes off (aligned, wrong values) is read: the check is the values' alignment, nothing stricter.
void TestMaterialise::misalignedBufferRefused()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("t.keeltab"));
    const auto [original, headerLen] = writtenSample(path);
    QVERIFY(!original.isEmpty());
    // Preamble 16, column count 4, rows 8; the first column: name length 4, "i64", type 1, null count 8; then
    // its first buffer's offset.
    const qsizetype offsetAt = 16 + 4 + 8 + 4 + 3 + 1 + 8;
    for (const quint64 shift : {quint64(4), quint64(8)}) {
        QByteArray bytes = original;
        quint64 off = 0;
        std::memcpy(&off, bytes.constData() + offsetAt, 8);
        off -= shift;
        std::memcpy(bytes.data() + offsetAt, &off, 8);
        const Sha256 digest = sha256(bytes.constData() + 16, size_t(headerLen));
        std::memcpy(bytes.data() + 16 + headerLen, digest.data(), digest.size());
        QVERIFY(writeAll(path, bytes));
        const auto back = openMaterialisation(path);
        if (shift == 4) {
            QVERIFY(!back);
            QCOMPARE(back.error().message, QStringLiteral("not a valid table cache: buffer is not aligned to its values"));
            QCOMPARE(back.error().field, QStringLiteral("i64"));
        } else {
            QVERIFY2(back, qPrintable(back.message()));
        }
    }
}

// The padding before a buffer written in place can exceed a page: up to 63 bytes to the 64-byte boundary, then up to
// 4040 more to an 8-byte-aligned page offset. A small bool column whose length ends one byte past a 64-byte boundary
// is followed by an int64 column at the page offset that needs the most; the file must read back exactly.
void TestMaterialise::paddingLongerThanAPage()
{
    QTemporaryDir dir;
    const qint64 rows = 131'137;   // 1 more than a multiple of 64; 8 bytes a row is over the in-place minimum
    std::shared_ptr<const void> block(std::aligned_alloc(4096, size_t(rows) * 8 + 8192), &std::free);
    QVERIFY(block);
    auto table = [&](size_t skew) {
        ColumnBuilder flags(ColumnType::Bool);
        for (qint64 r = 0; r < rows; ++r)
            flags.appendBool(r % 3 == 0);
        auto *v = reinterpret_cast<int64_t *>(const_cast<char *>(static_cast<const char *>(block.get())) + skew);
        for (qint64 r = 0; r < rows; ++r)
            v[r] = r * 7919 - 5;
        ColumnStorage s;
        s.rows = rows;
        s.i64 = Buffer<int64_t>::borrow(std::span<const int64_t>(v, size_t(rows)), block);
        return Table({flags.finish(QStringLiteral("b")), Column(QStringLiteral("i"), ColumnType::Int64, std::move(s))});
    };
    const QString path = dir.filePath(QStringLiteral("pad.keeltab"));
    QVERIFY(writeMaterialisation(table(8), path));
    // The bool buffer's offset: preamble 16, count 4, rows 8, then "b": name length 4, name 1, type 1, nulls 8, and
    // two (offset, length) pairs before u8's.
    const QByteArray first = readAll(path);
    quint64 boolAt = 0;
    std::memcpy(&boolAt, first.constData() + 16 + 4 + 8 + 4 + 1 + 1 + 8 + 2 * 16, 8);
    const quint64 next = (boolAt + quint64(rows) + 63) / 64 * 64;
    QCOMPARE(next - (boolAt + quint64(rows)), quint64(63));
    const size_t skew = size_t((next % 4096 + 4040) % 4096);   // 4040 bytes past the 64-byte boundary
    QCOMPARE(skew % 64, size_t(8));
    const Table t = table(skew);
    QVERIFY(writeMaterialisation(t, path));
    const auto back = openMaterialisation(path);
    QVERIFY2(back, qPrintable(back.message()));
    compareExact(t, *back);
    QCOMPARE(reinterpret_cast<quintptr>(back->column(1).storage().i64.view.data()) % 4096, quintptr(skew));
}

QTEST_GUILESS_MAIN(TestMaterialise)
#include "tst_materialise.moc"
