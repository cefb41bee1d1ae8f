// JSON Lines reader: typing, union of keys, nulls, nested values, escapes, errors with line numbers,
// and parallel parsing equal to single-threaded parsing.

#include "data/reader.h"

#include <QDateTime>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTimeZone>
#include <QtTest>

using namespace keel;
using namespace keel::data;

namespace {

const QString kNull = QStringLiteral("<NA>");

Expected<Table> parse(const QByteArray &text, ReadOptions options = {}, ReadInfo *info = nullptr)
{
    options.format = FileFormat::Jsonl;
    return readTableFromBytes(text, options, nullptr, info, QStringLiteral("test.jsonl"));
}

QStringList columnCells(const Column &c)
{
    QStringList out;
    for (qint64 r = 0; r < c.size(); ++r)
        out << (c.isNull(r) ? kNull : c.displayAt(r));
    return out;
}

const Column &col(const Table &t, const char *name) { return t.column(t.indexOf(QString::fromUtf8(name))); }

} // namespace

class TestJsonl : public QObject {
    Q_OBJECT

private slots:
    void types_data();
    void types();
    void unionOfKeys();
    void nullsAndMissing();
    void nestedValues();
    void stringEscapes();
    void errors_data();
    void errors();
    void maxRows();
    void overrides();
    void readFromPath();
    void multiThreadEqualsSingleThread();
};

void TestJsonl::types_data()
{
    QTest::addColumn<QByteArray>("values"); // one JSON value per row for key "v"
    QTest::addColumn<QString>("type");
    QTest::addColumn<QStringList>("display");
    QTest::newRow("int") << QByteArray("1\n-2\n0") << QStringLiteral("int64")
                         << QStringList{QStringLiteral("1"), QStringLiteral("-2"), QStringLiteral("0")};
    QTest::newRow("int and float") << QByteArray("1\n2.5\n1e2") << QStringLiteral("float64")
                                   << QStringList{QStringLiteral("1"), QStringLiteral("2.5"), QStringLiteral("100")};
    QTest::newRow("1.0 is float") << QByteArray("1.0\n2.0") << QStringLiteral("float64")
                                  << QStringList{QStringLiteral("1"), QStringLiteral("2")};
    QTest::newRow("big int -> string") << QByteArray("1\n18446744073709551616") << QStringLiteral("string")
                                       << QStringList{QStringLiteral("1"), QStringLiteral("18446744073709551616")};
    QTest::newRow("int64 max exact") << QByteArray("9223372036854775807\n1") << QStringLiteral("int64")
                                     << QStringList{QStringLiteral("9223372036854775807"), QStringLiteral("1")};
    QTest::newRow("bool") << QByteArray("true\nfalse\ntrue") << QStringLiteral("bool")
                          << QStringList{QStringLiteral("true"), QStringLiteral("false"), QStringLiteral("true")};
    QTest::newRow("date strings") << QByteArray("\"2020-01-02\"\n\"2021-12-31T10:00:00Z\"") << QStringLiteral("datetime")
                                  << QStringList{QStringLiteral("2020-01-02"), QStringLiteral("2021-12-31T10:00:00")};
    QTest::newRow("dd/mm/yy strings") << QByteArray("\"01/01/11\"\n\"31/12/12\"") << QStringLiteral("datetime")
                                      << QStringList{QStringLiteral("2011-01-01"), QStringLiteral("2012-12-31")};
    QTest::newRow("categorical strings") << QByteArray("\"a\"\n\"b\"\n\"a\"\n\"b\"") << QStringLiteral("categorical")
                                         << QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("a"),
                                                        QStringLiteral("b")};
    QTest::newRow("unique strings") << QByteArray("\"a\"\n\"b\"\n\"c\"") << QStringLiteral("string")
                                    << QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")};
    QTest::newRow("string keeps spaces") << QByteArray("\" x \"\n\"y\"") << QStringLiteral("string")
                                         << QStringList{QStringLiteral(" x "), QStringLiteral("y")};
    QTest::newRow("number and string -> text") << QByteArray("1\n\"x\"\n2") << QStringLiteral("string")
                                               << QStringList{QStringLiteral("1"), QStringLiteral("x"), QStringLiteral("2")};
    QTest::newRow("bool and number -> text") << QByteArray("true\n1") << QStringLiteral("string")
                                             << QStringList{QStringLiteral("true"), QStringLiteral("1")};
}

void TestJsonl::types()
{
    QFETCH(QByteArray, values);
    QFETCH(QString, type);
    QFETCH(QStringList, display);
    QByteArray text;
    for (const QByteArray &v : values.split('\n'))
        text += "{\"v\": " + v + "}\n";
    const auto t = parse(text);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(t->columnNames(), QStringList{QStringLiteral("v")});
    QCOMPARE(columnTypeName(t->column(0).type()), type);
    QCOMPARE(columnCells(t->column(0)), display);
}

void TestJsonl::unionOfKeys()
{
    const QByteArray text = "{\"a\": 1}\n"
                            "{\"b\": \"x\", \"a\": 2}\n"
                            "\n"
                            "{\"c\": true}\n"
                            "{\"b\": \"y\", \"c\": false, \"a\": 3}\r\n";
    ReadInfo info;
    const auto t = parse(text, {}, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(info.format, FileFormat::Jsonl);
    QCOMPARE(info.rows, qint64(4));
    QCOMPARE(t->columnNames(), (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
    QCOMPARE(columnCells(col(*t, "a")), (QStringList{QStringLiteral("1"), QStringLiteral("2"), kNull, QStringLiteral("3")}));
    QCOMPARE(columnCells(col(*t, "b")), (QStringList{kNull, QStringLiteral("x"), kNull, QStringLiteral("y")}));
    QCOMPARE(columnCells(col(*t, "c")), (QStringList{kNull, kNull, QStringLiteral("true"), QStringLiteral("false")}));
    QCOMPARE(col(*t, "a").type(), ColumnType::Int64);
    QCOMPARE(col(*t, "c").type(), ColumnType::Bool);
}

void TestJsonl::nullsAndMissing()
{
    const QByteArray text = "{\"a\": null, \"b\": \"NA\", \"e\": {}}\n"
                            "{\"a\": 5, \"b\": \"\", \"e\": {}}\n"
                            "{\"a\": null, \"b\": \"z\", \"e\": {}}\n"
                            "{}\n";
    const auto t = parse(text);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(t->rowCount(), qint64(4));
    QCOMPARE(columnCells(col(*t, "a")), (QStringList{kNull, QStringLiteral("5"), kNull, kNull}));
    QCOMPARE(col(*t, "a").nullCount(), qint64(3));
    QCOMPARE(col(*t, "a").type(), ColumnType::Int64);
    QCOMPARE(columnCells(col(*t, "b")), (QStringList{kNull, kNull, QStringLiteral("z"), kNull}));
    QCOMPARE(columnCells(col(*t, "e")), (QStringList{QStringLiteral("{}"), QStringLiteral("{}"), QStringLiteral("{}"), kNull}));

    // A key that is only ever null is a string column of missing values.
    const auto n = parse("{\"x\": null, \"y\": 1}\n{\"x\": null, \"y\": 2}\n");
    QVERIFY2(n, qPrintable(n.message()));
    QCOMPARE(col(*n, "x").type(), ColumnType::String);
    QCOMPARE(col(*n, "x").nullCount(), qint64(2));
}

void TestJsonl::nestedValues()
{
    const QByteArray text = "{\"n\": {\"x\": [1, 2, {\"y\": \"a b\"}]}, \"k\": 1}\n"
                            "{\"n\": [ ], \"k\": 2}\n"
                            "{\"n\": 7, \"k\": 3}\n"
                            "{\"n\": \"s p\\\"q\", \"k\": 4}\n";
    const auto t = parse(text);
    QVERIFY2(t, qPrintable(t.message()));
    const Column &n = col(*t, "n");
    QCOMPARE(n.type(), ColumnType::String);
    QCOMPARE(columnCells(n), (QStringList{QStringLiteral("{\"x\":[1,2,{\"y\":\"a b\"}]}"), QStringLiteral("[]"),
                                          QStringLiteral("7"), QStringLiteral("s p\"q")}));
    QCOMPARE(col(*t, "k").type(), ColumnType::Int64);
}

void TestJsonl::stringEscapes()
{
    const QByteArray text = "{\"s\": \"caf\\u00e9\", \"k\": 1}\n"
                            "{\"s\": \"tab\\tnew\\nline\\\\\\/\", \"k\": 2}\n"
                            "{\"s\": \"\\ud83d\\ude00 raw \xC3\xA9\", \"k\": 3}\n"
                            "{\"k\": 4, \"s\": \"\\\"q\\\"\"}\n";
    const auto t = parse(text);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(columnCells(col(*t, "s")),
             (QStringList{QStringLiteral("caf\u00e9"), QStringLiteral("tab\tnew\nline\\/"),
                          QString::fromUtf8("\xF0\x9F\x98\x80 raw \xC3\xA9"), QStringLiteral("\"q\"")}));
    // Keys with escapes are unescaped too.
    const auto k = parse("{\"a\\u0062\": 1}\n");
    QVERIFY2(k, qPrintable(k.message()));
    QCOMPARE(k->columnNames(), QStringList{QStringLiteral("ab")});
}

void TestJsonl::errors_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("messageStart");
    QTest::newRow("empty") << QByteArray("") << -1 << QStringLiteral("file is empty");
    QTest::newRow("blank only") << QByteArray("\n  \n\t\n") << -1 << QStringLiteral("file is empty");
    QTest::newRow("missing colon") << QByteArray("{\"a\": 1}\n\n{\"a\" 2}\n") << 3
                                   << QStringLiteral("invalid JSON at column 6: expected ':' after a key");
    QTest::newRow("trailing comma") << QByteArray("{\"a\": 1}\n{\"a\": 1,}\n") << 2
                                    << QStringLiteral("invalid JSON at column 9: expected a string key");
    QTest::newRow("not an object") << QByteArray("{\"a\": 1}\n[1, 2]\n") << 2
                                   << QStringLiteral("invalid JSON at column 1: expected a JSON object");
    QTest::newRow("truncated line") << QByteArray("{\"a\": 1}\n{\"a\": \"x") << 2
                                    << QStringLiteral("invalid JSON at column 7: unterminated string");
    QTest::newRow("text after object") << QByteArray("{\"a\": 1} x\n") << 1
                                       << QStringLiteral("invalid JSON at column 10: unexpected text after the object");
    QTest::newRow("bad number") << QByteArray("{\"a\": 01}\n") << 1
                                << QStringLiteral("invalid JSON at column 8: expected ',' or '}'");
    QTest::newRow("bad literal") << QByteArray("{\"a\": tru}\n") << 1
                                 << QStringLiteral("invalid JSON at column 7: invalid literal");
    QTest::newRow("bad escape") << QByteArray("{\"a\": \"\\q\"}\n") << 1
                                << QStringLiteral("invalid JSON at column 9: invalid escape in a string");
    QTest::newRow("lone surrogate") << QByteArray("{\"a\": \"\\udc00\"}\n") << 1
                                    << QStringLiteral("invalid JSON at column 8: unpaired surrogate in \\u escape");
    QTest::newRow("nested error") << QByteArray("{\"a\": 1}\n{\"a\": 2}\n{\"a\": [1, }\n") << 3
                                  << QStringLiteral("invalid JSON at column 11: unexpected character");
    QTest::newRow("duplicate key") << QByteArray("{\"a\": 1}\n{\"a\": 1, \"a\": 2}\n") << 2
                                   << QStringLiteral("duplicate key in one object");
    QTest::newRow("invalid utf-8") << QByteArray("{\"a\": \"x\"}\n{\"a\": \"\xff\"}\n") << 2
                                   << QStringLiteral("invalid UTF-8 at byte offset 18");
}

void TestJsonl::errors()
{
    QFETCH(QByteArray, input);
    QFETCH(int, line);
    QFETCH(QString, messageStart);
    for (int threads : {1, 4}) {
        ReadOptions o;
        o.threads = threads;
        const auto t = parse(input, o);
        QVERIFY(!t);
        QCOMPARE(t.error().message, messageStart);
        QCOMPARE(t.error().line, qint64(line));
        QCOMPARE(t.error().file, QStringLiteral("test.jsonl"));
    }
}

void TestJsonl::maxRows()
{
    QByteArray text;
    for (int i = 0; i < 10; ++i)
        text += "{\"i\": " + QByteArray::number(i) + (i == 7 ? ", \"late\": 1" : "") + "}\n";
    ReadOptions o;
    o.maxRows = 4;
    ReadInfo info;
    auto t = parse(text, o, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(t->rowCount(), qint64(4));
    QVERIFY(info.truncated);
    QCOMPARE(t->columnNames(), QStringList{QStringLiteral("i")}); // "late" was not reached
    o.maxRows = 10;
    t = parse(text, o, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(t->rowCount(), qint64(10));
    QVERIFY(!info.truncated);
}

void TestJsonl::overrides()
{
    const QByteArray text = "{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2, \"b\": \"y\"}\n{\"a\": 3, \"b\": \"zz\"}\n";
    ReadOptions o;
    o.typeOverrides.insert(QStringLiteral("a"), ColumnType::String);
    auto t = parse(text, o);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(col(*t, "a").type(), ColumnType::String);
    QCOMPARE(columnCells(col(*t, "a")), (QStringList{QStringLiteral("1"), QStringLiteral("2"), QStringLiteral("3")}));

    o.typeOverrides.clear();
    o.typeOverrides.insert(QStringLiteral("b"), ColumnType::Int64);
    t = parse(text, o);
    QVERIFY(!t);
    QCOMPARE(t.error().line, qint64(1));
    QCOMPARE(t.error().field, QStringLiteral("b"));
    QCOMPARE(t.error().message, QStringLiteral("value 'x' is not int64"));
}

void TestJsonl::readFromPath()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("d.ndjson"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("{\"when\": \"2020-03-04T05:06:07+01:00\", \"x\": 1.5}\n{\"when\": \"2020-03-05\", \"x\": 2}");
    f.close();
    ReadInfo info;
    const auto t = readTable(path, {}, nullptr, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(info.format, FileFormat::Jsonl);
    QCOMPARE(t->rowCount(), qint64(2));
    QCOMPARE(col(*t, "when").type(), ColumnType::Datetime);
    QCOMPARE(col(*t, "when").datetimeAt(0),
             QDateTime(QDate(2020, 3, 4), QTime(4, 6, 7), QTimeZone::utc()).toMSecsSinceEpoch());
    QCOMPARE(col(*t, "x").type(), ColumnType::Float64);
}

void TestJsonl::multiThreadEqualsSingleThread()
{
    // Keys appear in varying order and some only late, so each chunk sees different key sets.
    QRandomGenerator rng(99);
    QByteArray text;
    QStringList expectedS;
    const int rows = 30000;
    for (int i = 0; i < rows; ++i) {
        QList<QByteArray> members;
        members << "\"id\": " + QByteArray::number(i);
        const QByteArray s = "w" + QByteArray::number(rng.bounded(50)) + (rng.bounded(4) == 0 ? "\\\"q" : "");
        members << "\"s\": \"" + s + "\"";
        expectedS << QString::fromUtf8(QByteArray(s).replace("\\\"", "\""));
        if (rng.bounded(3))
            members << "\"f\": " + QByteArray::number(rng.bounded(1000) / 8.0);
        if (i > rows * 3 / 4)
            members << "\"late\": {\"k\": [" + QByteArray::number(i) + "]}";
        if (i > rows / 2 && rng.bounded(10) == 0)
            members << "\"mixed\": \"t" + QByteArray::number(i % 5) + "\"";
        else
            members << "\"mixed\": " + QByteArray::number(i % 100);
        members << "\"d\": \"" + QDate(2010, 1, 1).addDays(i % 3000).toString(Qt::ISODate).toUtf8() + "\"";
        for (int k = int(rng.bounded(members.size())); k > 0; --k)
            members.swapItemsAt(int(rng.bounded(members.size())), int(rng.bounded(members.size())));
        text += "{" + members.join(", ") + "}\n";
        if (i % 997 == 0)
            text += "\n";
    }
    QVERIFY(text.size() > 1'500'000);
    ReadOptions one;
    one.threads = 1;
    ReadOptions four;
    four.threads = 4;
    const auto a = parse(text, one);
    QVERIFY2(a, qPrintable(a.message()));
    const auto b = parse(text, four);
    QVERIFY2(b, qPrintable(b.message()));
    QCOMPARE(a->columnNames(), b->columnNames());
    QCOMPARE(a->rowCount(), qint64(rows));
    QCOMPARE(b->rowCount(), qint64(rows));
    for (int c = 0; c < a->columnCount(); ++c) {
        QCOMPARE(a->column(c).type(), b->column(c).type());
        QCOMPARE(columnCells(a->column(c)), columnCells(b->column(c)));
    }
    QCOMPARE(col(*b, "id").type(), ColumnType::Int64);
    for (qint64 r = 0; r < rows; ++r)
        QCOMPARE(col(*b, "id").int64At(r), r);
    QCOMPARE(col(*b, "s").type(), ColumnType::Categorical);
    QCOMPARE(columnCells(col(*b, "s")), expectedS);
    QCOMPARE(col(*b, "f").type(), ColumnType::Float64);
    QCOMPARE(col(*b, "late").type(), ColumnType::String);
    QCOMPARE(col(*b, "late").nullCount(), qint64(rows * 3 / 4 + 1));
    QCOMPARE(col(*b, "late").displayAt(rows - 1), QStringLiteral("{\"k\":[%1]}").arg(rows - 1));
    QCOMPARE(col(*b, "mixed").type(), ColumnType::Categorical);
    QCOMPARE(col(*b, "d").type(), ColumnType::Datetime);
}

QTEST_GUILESS_MAIN(TestJsonl)
#include "tst_jsonl.moc"
