// CSV reader: RFC 4180 details, detection, type inference, overrides, errors, parallel equality,
// and the bundled real datasets.

#include "data/reader.h"
#include "data/typeinfer.h"

#include <QDateTime>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTimeZone>
#include <QtTest>

#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include <sys/mman.h>
#include <unistd.h>

using namespace keel;
using namespace keel::data;

namespace {

const QString kNull = QStringLiteral("<NA>");

Expected<Table> parse(const QByteArray &text, const ReadOptions &options = {}, ReadInfo *info = nullptr)
{
    return readTableFromBytes(text, options, nullptr, info, QStringLiteral("test.csv"));
}

QString cell(const Column &c, qint64 row) { return c.isNull(row) ? kNull : c.displayAt(row); }

/// Each row as "a|b|c" with <NA> for missing cells.
QStringList rowsOf(const Table &t)
{
    QStringList out;
    for (qint64 r = 0; r < t.rowCount(); ++r) {
        QStringList cells;
        for (const Column &c : t.columns())
            cells << cell(c, r);
        out << cells.join(QLatin1Char('|'));
    }
    return out;
}

QStringList columnCells(const Column &c)
{
    QStringList out;
    for (qint64 r = 0; r < c.size(); ++r)
        out << cell(c, r);
    return out;
}

qint64 utcMs(int y, int m, int d, int hh = 0, int mi = 0, int ss = 0, int ms = 0)
{
    return QDateTime(QDate(y, m, d), QTime(hh, mi, ss, ms), QTimeZone::utc()).toMSecsSinceEpoch();
}

/// Every name, type, null flag and value equal (floats compared bit-exactly through shortest form).
void compareTables(const Table &a, const Table &b)
{
    QCOMPARE(a.columnNames(), b.columnNames());
    QCOMPARE(a.rowCount(), b.rowCount());
    for (int c = 0; c < a.columnCount(); ++c) {
        const Column &x = a.column(c);
        const Column &y = b.column(c);
        QCOMPARE(columnTypeName(x.type()), columnTypeName(y.type()));
        QCOMPARE(x.nullCount(), y.nullCount());
        for (qint64 r = 0; r < x.size(); ++r) {
            if (x.isNull(r) != y.isNull(r) || x.displayAt(r) != y.displayAt(r))
                QFAIL(qPrintable(QStringLiteral("column %1 row %2: '%3' vs '%4'")
                                     .arg(x.name())
                                     .arg(r)
                                     .arg(cell(x, r), cell(y, r))));
        }
    }
}

/// Deterministic CSV with quoted fields holding delimiters, newlines (LF and CRLF) and doubled
/// quotes everywhere, plus columns whose type only resolves late in the file.
struct Generated {
    QByteArray csv;
    QStringList qtext;   // expected values of column "qtext"
    QStringList dmy;     // expected ISO dates of column "dmy"
    QStringList mixed;   // expected text of column "mixed"
    QStringList num;     // expected display of "num" (or <NA>)
};

Generated generateCsv(int rows, quint32 seed)
{
    QRandomGenerator rng(seed);
    Generated g;
    g.csv = "id,qtext,num,cat,date,flag,mixed,late,dmy,intfloat\r\n";
    static const char *pool[] = {"alpha", "beta, with comma", "gamma \"quoted\"", "delta\nnewline", "eps"};
    const int lateStart = rows * 4 / 5;
    const int mixedStart = rows * 7 / 10;
    for (int i = 0; i < rows; ++i) {
        QByteArray line = QByteArray::number(i) + ',';
        // qtext: random pieces joined, always quoted
        QByteArray text;
        const int parts = int(rng.bounded(1, 4));
        for (int k = 0; k < parts; ++k) {
            switch (rng.bounded(6)) {
            case 0: text += "a,b"; break;
            case 1: text += "line\nbreak"; break;
            case 2: text += "cr\r\nlf"; break;
            case 3: text += "say \"hi\""; break;
            case 4: text += QByteArray::number(rng.bounded(100000)); break;
            default: text += "plain"; break;
            }
        }
        if (rng.bounded(15) == 0) {
            g.qtext << kNull;
            line += "NA,";
        } else {
            g.qtext << QString::fromUtf8(text);
            QByteArray escaped = text;
            escaped.replace("\"", "\"\"");
            line += '"' + escaped + "\",";
        }
        // num: quarters, some missing
        if (rng.bounded(10) == 0) {
            line += "NA,";
            g.num << kNull;
        } else {
            const double v = double(int(rng.bounded(400000)) - 200000) / 4.0;
            line += QByteArray::number(v, 'f', 2) + ',';
            g.num << QString::number(v, 'g', QLocale::FloatingPointShortest);
        }
        // cat: small pool, sometimes quoted
        const char *c = pool[rng.bounded(5)];
        QByteArray cq(c);
        cq.replace("\"", "\"\"");
        line += '"' + cq + "\",";
        // date: ISO, some missing
        if (rng.bounded(20) == 0)
            line += ",";
        else
            line += QDate(2000, 1, 1).addDays(rng.bounded(9000)).toString(Qt::ISODate).toUtf8() + ',';
        line += (rng.bounded(2) ? "true," : "FALSE,");
        // mixed: ints, then sometimes text
        if (i >= mixedStart && rng.bounded(3) == 0) {
            line += "x" + QByteArray::number(i % 7) + ',';
            g.mixed << QStringLiteral("x") + QString::number(i % 7);
        } else {
            const int v = int(rng.bounded(1000));
            line += QByteArray::number(v) + ',';
            g.mixed << QString::number(v);
        }
        // late: missing until late, then floats
        line += i >= lateStart ? QByteArray::number(i) + ".5," : QByteArray(",");
        // dmy: ambiguous days <= 12 until the last rows, which have a second part > 12 (month-first)
        QDate d(2015 + int(rng.bounded(5)), int(rng.bounded(1, 13)), int(rng.bounded(1, 13)));
        if (i == rows - 3)
            d = QDate(2019, 5, 13);
        line += QStringLiteral("%1/%2/%3")
                    .arg(d.month(), 2, 10, QLatin1Char('0'))
                    .arg(d.day(), 2, 10, QLatin1Char('0'))
                    .arg(d.year())
                    .toUtf8()
                + ',';
        g.dmy << d.toString(Qt::ISODate);
        // intfloat: ints with one float in the middle
        line += i == rows / 2 ? QByteArray("2.5") : QByteArray::number(i * 3);
        line += (i % 3 == 0) ? "\r\n" : "\n";
        if (i % 1000 == 999)
            line += "\n"; // blank lines are skipped
        g.csv += line;
    }
    return g;
}

} // namespace

class TestCsv : public QObject {
    Q_OBJECT

private slots:
    void formatForPathCases_data();
    void formatForPathCases();
    void rfc4180_data();
    void rfc4180();
    void delimiters_data();
    void delimiters();
    void headerDetection_data();
    void headerDetection();
    void headerNames();
    void missingTokens_data();
    void missingTokens();
    void types_data();
    void types();
    void datetimeValues();
    void floatsMatchFromChars();
    void decimalsAgainstFromCharsAtAPageEnd();
    void dateOrderOption();
    void categoricalThreshold_data();
    void categoricalThreshold();
    void overrides_data();
    void overrides();
    void errors_data();
    void errors();
    void fileErrors();
    void maxRows_data();
    void maxRows();
    void previewOfLargeInput();
    void nulInALargeInput();
    void multiThreadEqualsSingleThread();
    void separatorIndexMatchesTokenizer();
    void surveyMatchesAScalarReading();
    void missingTokensAgainstASet();
    void boolsAgainstALowercaseCompare();
    void dictionaryCodesAgainstAMap();
    void integersAgainstFromChars();
    void strayQuotesFallBack();
    void parallelReadAdoptsChunkValues();
    void countsTheParseContradicts();
    void replaysIntoWindows();
    void longFieldsAgainstAReference();
    void lateContradictionsAcrossChunks();
    void overrideErrorDeepInFile();
    void cancelAndProgress();
    void tsvPath();
    void adultTrain();
    void diamonds();
    void bikeHour();
};

void TestCsv::formatForPathCases_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("jsonl");
    QTest::newRow("csv") << QStringLiteral("a/b.csv") << false;
    QTest::newRow("jsonl") << QStringLiteral("x.jsonl") << true;
    QTest::newRow("ndjson upper") << QStringLiteral("X.NDJSON") << true;
    QTest::newRow("tsv") << QStringLiteral("x.tsv") << false;
    QTest::newRow("none") << QStringLiteral("data") << false;
}

void TestCsv::formatForPathCases()
{
    QFETCH(QString, path);
    QFETCH(bool, jsonl);
    QCOMPARE(formatForPath(path) == FileFormat::Jsonl, jsonl);
}

void TestCsv::rfc4180_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QStringList>("names");
    QTest::addColumn<QStringList>("rows");
    const QStringList ab = {QStringLiteral("a"), QStringLiteral("b")};

    QTest::newRow("embedded delimiter") << QByteArray("a,b\n\"x,y\",1\nz,2\n") << ab
                                        << QStringList{QStringLiteral("x,y|1"), QStringLiteral("z|2")};
    QTest::newRow("doubled quote") << QByteArray("a,b\n\"say \"\"hi\"\"\",1\n\"\"\"\",2\n") << ab
                                   << QStringList{QStringLiteral("say \"hi\"|1"), QStringLiteral("\"|2")};
    QTest::newRow("LF inside quotes") << QByteArray("a,b\n\"l1\nl2\",1\nz,2\n") << ab
                                      << QStringList{QStringLiteral("l1\nl2|1"), QStringLiteral("z|2")};
    QTest::newRow("CRLF inside quotes kept") << QByteArray("a,b\r\n\"l1\r\nl2\",1\r\nz,2\r\n") << ab
                                             << QStringList{QStringLiteral("l1\r\nl2|1"), QStringLiteral("z|2")};
    QTest::newRow("CRLF file") << QByteArray("a,b\r\nx,1\r\ny,2\r\n") << ab
                               << QStringList{QStringLiteral("x|1"), QStringLiteral("y|2")};
    QTest::newRow("BOM") << QByteArray("\xEF\xBB\xBF" "a,b\nx,1\ny,2\n") << ab
                         << QStringList{QStringLiteral("x|1"), QStringLiteral("y|2")};
    QTest::newRow("no trailing newline") << QByteArray("a,b\nx,1\ny,2") << ab
                                         << QStringList{QStringLiteral("x|1"), QStringLiteral("y|2")};
    QTest::newRow("no trailing newline, quoted last") << QByteArray("a,b\n1,\"x\"\n2,\"y\"") << ab
                                                      << QStringList{QStringLiteral("1|x"), QStringLiteral("2|y")};
    QTest::newRow("blank lines skipped") << QByteArray("\n\na,b\n\nx,1\r\n\r\ny,2\n\n\n") << ab
                                         << QStringList{QStringLiteral("x|1"), QStringLiteral("y|2")};
    QTest::newRow("empty last field") << QByteArray("a,b\n1,\n2,x\n") << ab
                                      << QStringList{QStringLiteral("1|<NA>"), QStringLiteral("2|x")};
    QTest::newRow("quoted delimiter at end") << QByteArray("a,b\n1,\",\"\n2,\",\"\n") << ab
                                             << QStringList{QStringLiteral("1|,"), QStringLiteral("2|,")};
    QTest::newRow("strings keep spaces") << QByteArray("a,b\n x ,1\ny  ,2\n") << ab
                                         << QStringList{QStringLiteral(" x |1"), QStringLiteral("y  |2")};
    QTest::newRow("text after closing quote") << QByteArray("a,b\n\"ab\"cd,1\ne,2\n") << ab
                                              << QStringList{QStringLiteral("abcd|1"), QStringLiteral("e|2")};
    QTest::newRow("quote inside unquoted field is literal") << QByteArray("a,b\n5'10\",1\ne,2\n") << ab
                                                            << QStringList{QStringLiteral("5'10\"|1"), QStringLiteral("e|2")};
    QTest::newRow("utf-8 text") << QByteArray("a,b\nh\xC3\xA9llo,1\n\xE2\x82\xAC,2\n") << ab
                                << QStringList{QStringLiteral("h\u00e9llo|1"), QStringLiteral("\u20ac|2")};
    QTest::newRow("single column") << QByteArray("a\n1\n2\n") << QStringList{QStringLiteral("a")}
                                   << QStringList{QStringLiteral("1"), QStringLiteral("2")};
}

void TestCsv::rfc4180()
{
    QFETCH(QByteArray, input);
    QFETCH(QStringList, names);
    QFETCH(QStringList, rows);
    ReadOptions o;
    o.header = true;
    for (int threads : {1, 3}) {
        o.threads = threads;
        const auto t = parse(input, o);
        QVERIFY2(t, qPrintable(t.message()));
        QCOMPARE(t->columnNames(), names);
        QCOMPARE(rowsOf(*t), rows);
    }
}

void TestCsv::delimiters_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("forced"); // 0 = detect
    QTest::addColumn<int>("expected");
    QTest::addColumn<int>("columns");
    QTest::newRow("comma") << QByteArray("a,b,c\n1,2,3\n4,5,6\n") << 0 << int(',') << 3;
    QTest::newRow("semicolon") << QByteArray("a;b;c\n1;2,5;3\n4;5,5;6\n") << 0 << int(';') << 3;
    QTest::newRow("pipe") << QByteArray("a|b\n1|x, y\n4|z\n") << 0 << int('|') << 2;
    QTest::newRow("tab") << QByteArray("a\tb\tc\n1\t2\t3\n") << 0 << int('\t') << 3;
    QTest::newRow("tab with commas in text") << QByteArray("a\tb\nx,y\t1\np,q,r\t2\n") << 0 << int('\t') << 2;
    QTest::newRow("quoted commas ignored") << QByteArray("a;b\n\"1,2,3\";4\n\"5,6\";7\n") << 0 << int(';') << 2;
    QTest::newRow("forced semicolon") << QByteArray("a;b,c\n1;2,3\n") << int(';') << int(';') << 2;
    QTest::newRow("forced comma") << QByteArray("a;b,c\n1;2,3\n") << int(',') << int(',') << 2;
    QTest::newRow("forced tab") << QByteArray("a,b\tc\n1,2\t3\n") << int('\t') << int('\t') << 2;
    QTest::newRow("single column") << QByteArray("a\n1\n2\n") << 0 << int(',') << 1;
}

void TestCsv::delimiters()
{
    QFETCH(QByteArray, input);
    QFETCH(int, forced);
    QFETCH(int, expected);
    QFETCH(int, columns);
    ReadOptions o;
    if (forced)
        o.delimiter = char(forced);
    ReadInfo info;
    const auto t = parse(input, o, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(int(info.delimiter), expected);
    QCOMPARE(t->columnCount(), columns);
}

void TestCsv::headerDetection_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("forced"); // -1 detect, 0 no, 1 yes
    QTest::addColumn<bool>("header");
    QTest::addColumn<QStringList>("names");
    QTest::addColumn<int>("rows");
    const QStringList c12 = {QStringLiteral("column_1"), QStringLiteral("column_2")};
    QTest::newRow("text over typed") << QByteArray("name,age\nbob,3\nann,4\n") << -1 << true
                                     << QStringList{QStringLiteral("name"), QStringLiteral("age")} << 2;
    QTest::newRow("numbers only") << QByteArray("1,2\n3,4\n") << -1 << false << c12 << 2;
    // All text everywhere: nothing tells the rows apart, so the first row is taken as the header (as pandas does).
    QTest::newRow("all text") << QByteArray("a,b\nc,d\n") << -1 << true
                              << QStringList{QStringLiteral("a"), QStringLiteral("b")} << 1;
    QTest::newRow("all text, forced no header") << QByteArray("a,b\nc,d\n") << 0 << false << c12 << 2;
    QTest::newRow("first row fails types below") << QByteArray("id,2019\n1,5\n2,6\n") << -1 << true
                                                 << QStringList{QStringLiteral("id"), QStringLiteral("2019")} << 2;
    QTest::newRow("dates below") << QByteArray("when,x\n2020-01-01,a\n2020-02-01,b\n") << -1 << true
                                 << QStringList{QStringLiteral("when"), QStringLiteral("x")} << 2;
    QTest::newRow("header only") << QByteArray("x,y\n") << -1 << true
                                 << QStringList{QStringLiteral("x"), QStringLiteral("y")} << 0;
    QTest::newRow("one numeric row") << QByteArray("1,2\n") << -1 << false << c12 << 1;
    QTest::newRow("forced off") << QByteArray("x,y\n1,2\n") << 0 << false << c12 << 2;
    QTest::newRow("forced on") << QByteArray("1,2\n3,4\n") << 1 << true
                               << QStringList{QStringLiteral("1"), QStringLiteral("2")} << 1;
}

void TestCsv::headerDetection()
{
    QFETCH(QByteArray, input);
    QFETCH(int, forced);
    QFETCH(bool, header);
    QFETCH(QStringList, names);
    QFETCH(int, rows);
    ReadOptions o;
    if (forced >= 0)
        o.header = forced == 1;
    ReadInfo info;
    const auto t = parse(input, o, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(info.header, header);
    QCOMPARE(t->columnNames(), names);
    QCOMPARE(t->rowCount(), qint64(rows));
    QCOMPARE(info.rows, qint64(rows));
}

void TestCsv::headerNames()
{
    const auto t = parse("a,a,,b,a,\"\"\n1,2,3,4,5,6\n");
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(t->columnNames(), (QStringList{QStringLiteral("a"), QStringLiteral("a_2"), QStringLiteral("column_3"),
                                            QStringLiteral("b"), QStringLiteral("a_3"), QStringLiteral("column_6")}));
}

void TestCsv::missingTokens_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QStringList>("tokens"); // empty list = defaults
    QTest::addColumn<bool>("missing");
    for (const char *tok : {"", "NA", "N/A", "NaN", "null", "NULL", "?"})
        QTest::newRow(tok[0] ? tok : "empty") << QByteArray(tok) << QStringList() << true;
    QTest::newRow("NA with spaces") << QByteArray("  NA ") << QStringList() << true;
    QTest::newRow("quoted NA") << QByteArray("\"NA\"") << QStringList() << true;
    QTest::newRow("quoted empty") << QByteArray("\"\"") << QStringList() << true;
    QTest::newRow("quoted NA with spaces is text") << QByteArray("\" NA \"") << QStringList() << false;
    QTest::newRow("na lowercase is text") << QByteArray("na") << QStringList() << false;
    QTest::newRow("custom token") << QByteArray("-") << QStringList{QStringLiteral("-")} << true;
    QTest::newRow("NA not in custom list") << QByteArray("NA") << QStringList{QStringLiteral("-")} << false;
}

void TestCsv::missingTokens()
{
    QFETCH(QByteArray, value);
    QFETCH(QStringList, tokens);
    QFETCH(bool, missing);
    ReadOptions o;
    if (!tokens.isEmpty())
        o.missingTokens = tokens;
    const auto t = parse("x,y\n1,1\n" + value + ",2\n3,3\n", o);
    QVERIFY2(t, qPrintable(t.message()));
    const Column &x = t->column(0);
    QCOMPARE(x.isNull(1), missing);
    QCOMPARE(x.nullCount(), missing ? 1 : 0);
    QCOMPARE(x.type(), missing ? ColumnType::Int64 : ColumnType::String);
    if (missing)
        QCOMPARE(columnCells(x), (QStringList{QStringLiteral("1"), kNull, QStringLiteral("3")}));
}

void TestCsv::types_data()
{
    QTest::addColumn<QByteArray>("values"); // newline-separated values below header "v"
    QTest::addColumn<QString>("type");
    QTest::addColumn<QStringList>("display");

    QTest::newRow("int64") << QByteArray("1\n-2\n+3\n 4 \n0\n-0") << QStringLiteral("int64")
                           << QStringList{QStringLiteral("1"), QStringLiteral("-2"), QStringLiteral("3"),
                                          QStringLiteral("4"), QStringLiteral("0"), QStringLiteral("0")};
    // Zip codes and account ids keep their digits: a leading zero makes the column text.
    QTest::newRow("leading zeros -> string") << QByteArray("08123\n0042\n12345") << QStringLiteral("string")
                                             << QStringList{QStringLiteral("08123"), QStringLiteral("0042"),
                                                            QStringLiteral("12345")};
    QTest::newRow("leading zero after ints -> string") << QByteArray("12\n34\n007") << QStringLiteral("string")
                                                       << QStringList{QStringLiteral("12"), QStringLiteral("34"),
                                                                      QStringLiteral("007")};
    QTest::newRow("int64 limits") << QByteArray("9223372036854775807\n-9223372036854775808") << QStringLiteral("int64")
                                  << QStringList{QStringLiteral("9223372036854775807"),
                                                 QStringLiteral("-9223372036854775808")};
    // Past the int64 limits integers are identifiers: as text every digit survives (as float64, the limits +-1
    // would round onto each other).
    QTest::newRow("int overflow -> string") << QByteArray("9223372036854775807\n9223372036854775808\n-9223372036854775809")
                                            << QStringLiteral("string")
                                            << QStringList{QStringLiteral("9223372036854775807"),
                                                           QStringLiteral("9223372036854775808"),
                                                           QStringLiteral("-9223372036854775809")};
    // 1e400 is not infinity: beyond the float64 range the column keeps the text; tiny values round to zero.
    QTest::newRow("float overflow -> string") << QByteArray("1.5\n1e400\n-1e309") << QStringLiteral("string")
                                              << QStringList{QStringLiteral("1.5"), QStringLiteral("1e400"),
                                                             QStringLiteral("-1e309")};
    QTest::newRow("float underflow -> zero") << QByteArray("1.5\n1e-400") << QStringLiteral("float64")
                                             << QStringList{QStringLiteral("1.5"), QStringLiteral("0")};
    QTest::newRow("mixed int/float") << QByteArray("1\n2.5\n3") << QStringLiteral("float64")
                                     << QStringList{QStringLiteral("1"), QStringLiteral("2.5"), QStringLiteral("3")};
    QTest::newRow("float forms") << QByteArray("1e3\n-.5\n+2.25\n-inf\n1E-2") << QStringLiteral("float64")
                                 << QStringList{QStringLiteral("1000"), QStringLiteral("-0.5"), QStringLiteral("2.25"),
                                                QStringLiteral("-inf"), QStringLiteral("0.01")};
    QTest::newRow("bool") << QByteArray("true\nFALSE\nTrue") << QStringLiteral("bool")
                          << QStringList{QStringLiteral("true"), QStringLiteral("false"), QStringLiteral("true")};
    QTest::newRow("bool and int -> text") << QByteArray("true\n1\n2\n3") << QStringLiteral("string")
                                          << QStringList{QStringLiteral("true"), QStringLiteral("1"),
                                                         QStringLiteral("2"), QStringLiteral("3")};
    QTest::newRow("iso date") << QByteArray("2011-01-01\n2012-12-31\n2000-02-29") << QStringLiteral("datetime")
                              << QStringList{QStringLiteral("2011-01-01"), QStringLiteral("2012-12-31"),
                                             QStringLiteral("2000-02-29")};
    QTest::newRow("iso datetime with zones")
        << QByteArray("2020-01-01T10:00:00+02:00\n2020-01-01 10:30Z\n2020-01-01T23:59:59.5\n2020-06-30T00:00:00-05:30")
        << QStringLiteral("datetime")
        << QStringList{QStringLiteral("2020-01-01T08:00:00"), QStringLiteral("2020-01-01T10:30:00"),
                       QStringLiteral("2020-01-01T23:59:59.500"), QStringLiteral("2020-06-30T05:30:00")};
    QTest::newRow("dd/mm/yy") << QByteArray("01/01/11\n31/12/12\n15/06/69") << QStringLiteral("datetime")
                              << QStringList{QStringLiteral("2011-01-01"), QStringLiteral("2012-12-31"),
                                             QStringLiteral("1969-06-15")};
    QTest::newRow("two-digit year 68") << QByteArray("01/02/68\n13/02/00") << QStringLiteral("datetime")
                                       << QStringList{QStringLiteral("2068-02-01"), QStringLiteral("2000-02-13")};
    QTest::newRow("mm/dd/yyyy") << QByteArray("12/31/2020\n01/02/2020\n2/3/2021") << QStringLiteral("datetime")
                                << QStringList{QStringLiteral("2020-12-31"), QStringLiteral("2020-01-02"),
                                               QStringLiteral("2021-02-03")};
    QTest::newRow("dd.mm.yyyy") << QByteArray("31.12.2020\n01.02.2020") << QStringLiteral("datetime")
                                << QStringList{QStringLiteral("2020-12-31"), QStringLiteral("2020-02-01")};
    QTest::newRow("dd-mm-yyyy") << QByteArray("31-12-2020\n01-02-2020") << QStringLiteral("datetime")
                                << QStringList{QStringLiteral("2020-12-31"), QStringLiteral("2020-02-01")};
    QTest::newRow("ambiguous -> day-first") << QByteArray("01/02/2020\n03/04/2020") << QStringLiteral("datetime")
                                            << QStringList{QStringLiteral("2020-02-01"), QStringLiteral("2020-04-03")};
    QTest::newRow("contradictory -> text") << QByteArray("13/01/2020\n01/13/2020") << QStringLiteral("string")
                                           << QStringList{QStringLiteral("13/01/2020"), QStringLiteral("01/13/2020")};
    QTest::newRow("impossible date -> text") << QByteArray("31/02/2020\n01/01/2020") << QStringLiteral("string")
                                             << QStringList{QStringLiteral("31/02/2020"), QStringLiteral("01/01/2020")};
    QTest::newRow("date and number -> text") << QByteArray("2020-01-01\n5") << QStringLiteral("string")
                                             << QStringList{QStringLiteral("2020-01-01"), QStringLiteral("5")};
    QTest::newRow("dates with missing") << QByteArray("2020-01-01\nNA\n\n2020-01-03") << QStringLiteral("datetime")
                                        << QStringList{QStringLiteral("2020-01-01"), kNull, kNull,
                                                       QStringLiteral("2020-01-03")};
    QTest::newRow("all missing -> string") << QByteArray("NA\n\n?") << QStringLiteral("string")
                                           << QStringList{kNull, kNull, kNull};
    QTest::newRow("text") << QByteArray("abc\n12") << QStringLiteral("string")
                          << QStringList{QStringLiteral("abc"), QStringLiteral("12")};
    QTest::newRow("quoted numbers are numbers") << QByteArray("\"1\"\n\"2\"") << QStringLiteral("int64")
                                                << QStringList{QStringLiteral("1"), QStringLiteral("2")};
}

void TestCsv::types()
{
    QFETCH(QByteArray, values);
    QFETCH(QString, type);
    QFETCH(QStringList, display);
    // A second, always-integer column keeps the header detectable whatever "v" holds.
    QByteArray text = "v,k\n";
    const QList<QByteArray> lines = values.split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i)
        text += lines[i] + ',' + QByteArray::number(i) + '\n';
    const auto t = parse(text);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(t->columnNames(), (QStringList{QStringLiteral("v"), QStringLiteral("k")}));
    QCOMPARE(columnTypeName(t->column(0).type()), type);
    QCOMPARE(columnCells(t->column(0)), display);
}

void TestCsv::datetimeValues()
{
    // Stored values are ms since the epoch in UTC, checked against QDateTime.
    const auto t = parse("v,k\n2011-01-01,1\n1969-12-31T23:59:59.250Z,2\n2020-03-01T12:00:00+01:00,3\n29/02/2024,4\n");
    QVERIFY2(t, qPrintable(t.message()));
    const Column &v = t->column(0);
    QCOMPARE(v.type(), ColumnType::Datetime);
    QCOMPARE(v.datetimeAt(0), utcMs(2011, 1, 1));
    QCOMPARE(v.datetimeAt(1), utcMs(1969, 12, 31, 23, 59, 59, 250));
    QCOMPARE(v.datetimeAt(2), utcMs(2020, 3, 1, 11));
    QCOMPARE(v.datetimeAt(3), utcMs(2024, 2, 29));
}

void TestCsv::floatsMatchFromChars()
{
    // The reader's fast decimal path must give the correctly rounded double, as std::from_chars does.
    QRandomGenerator rng(4242);
    QByteArray text = "v,k\n";
    std::vector<double> expected;
    for (int i = 0; i < 20000; ++i) {
        QByteArray s;
        if (rng.bounded(3) == 0)
            s += '-';
        const int intDigits = int(rng.bounded(0, 12));
        for (int k = 0; k < intDigits; ++k)
            s += char('0' + rng.bounded(10));
        const int fracDigits = int(rng.bounded(intDigits == 0 ? 1 : 0, 12));
        if (fracDigits > 0 || rng.bounded(2)) {
            s += '.';
            for (int k = 0; k < std::max(fracDigits, intDigits == 0 ? 1 : 0); ++k)
                s += char('0' + rng.bounded(10));
        }
        if (rng.bounded(3) == 0)
            s += 'e' + QByteArray::number(int(rng.bounded(-30, 31)));
        if (s == "-" || s.isEmpty())
            s = "1.5";
        double v = 0;
        const auto r = std::from_chars(s.constData(), s.constData() + s.size(), v);
        QVERIFY2(r.ptr == s.constData() + s.size(), s.constData());
        expected.push_back(v);
        text += s + ',' + QByteArray::number(i) + '\n';
    }
    const auto t = parse(text);
    QVERIFY2(t, qPrintable(t.message()));
    const Column &v = t->column(0);
    QCOMPARE(v.type(), ColumnType::Float64);
    for (size_t i = 0; i < expected.size(); ++i) {
        const double got = v.float64At(qint64(i));
        if (std::memcmp(&got, &expected[i], sizeof got) != 0)
            QFAIL(qPrintable(QStringLiteral("row %1: %2 vs %3").arg(i).arg(got, 0, 'g', 17).arg(expected[i], 0, 'g', 17)));
    }
}

void TestCsv::decimalsAgainstFromCharsAtAPageEnd()
{
    // parseFloat64 (its vector path for short decimals included) accepts exactly what std::from_chars reads whole, with
    // the same double, bit for bit. Every text is read twice: flush against a page that cannot be read after it, and
    // against one before it. A parser that reads outside the field crashes the test.
    const long page = sysconf(_SC_PAGESIZE);
    void *mem = mmap(nullptr, size_t(3 * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    QVERIFY(mem != MAP_FAILED);
    QVERIFY(mprotect(mem, size_t(page), PROT_NONE) == 0);
    QVERIFY(mprotect(static_cast<char *>(mem) + 2 * page, size_t(page), PROT_NONE) == 0);
    const auto unmap = qScopeGuard([&] { munmap(mem, size_t(3 * page)); });
    char *const readable = static_cast<char *>(mem) + page;
    qint64 accepted = 0, sse41 = 0;
    auto check = [&](const std::string &text) {
        char *atEnd = readable + page - text.size();
        std::memcpy(atEnd, text.data(), text.size());
        double got = 0;
        const bool ok = detail::parseFloat64(std::string_view(atEnd, text.size()), got);
        std::memcpy(readable, text.data(), text.size());
        double gotAtStart = 0;
        const bool okAtStart = detail::parseFloat64(std::string_view(readable, text.size()), gotAtStart);
        QCOMPARE(okAtStart, ok);
        QVERIFY(!ok || std::memcmp(&got, &gotAtStart, sizeof got) == 0);
        const char *b = text.data() + (!text.empty() && text[0] == '+' && (text.size() == 1 || text[1] != '-') ? 1 : 0);
        double want = 0;
        const auto r = std::from_chars(b, text.data() + text.size(), want);
        const bool wantOk = !text.empty() && text != "+" && r.ec == std::errc() && r.ptr == text.data() + text.size();
        accepted += ok;
        // The SSE4.1 path (what CPUs without AVX-512 take) on its own: where it answers, the same double.
        for (const char *at : {static_cast<const char *>(atEnd), static_cast<const char *>(readable)}) {
            double fast = 0;
            if (detail::parseShortDecimalSse41(std::string_view(at, text.size()), fast)) {
                sse41 += at == atEnd;
                if (!wantOk || std::memcmp(&fast, &want, sizeof fast) != 0)
                    QFAIL(qPrintable(QStringLiteral("SSE4.1 '%1': %2, expected %3 %4")
                                         .arg(QString::fromStdString(text)).arg(fast, 0, 'g', 17).arg(wantOk)
                                         .arg(want, 0, 'g', 17)));
            }
        }
        if (ok != wantOk || (ok && std::memcmp(&got, &want, sizeof got) != 0))
            QFAIL(qPrintable(QStringLiteral("'%1': %2 %3, expected %4 %5")
                                 .arg(QString::fromStdString(text)).arg(ok).arg(got, 0, 'g', 17).arg(wantOk)
                                 .arg(want, 0, 'g', 17)));
    };
    const char *edges[] = {"0", "-0", "-0.0", ".5", "5.", "-.5", ".", "-.", "-", "+", "", "1..2", "1.2.3", "12-3",
                           "9007199254740993", "9007199254740992", "900719925474099.3", "9999999999999999",
                           "99999999999999999", "0.000000000000001", "1234567890123456", "123456789012345.6",
                           "12345678901234567", "91399620.84340797" /* m above 2^53: rounding m first would be wrong */, "1e5", "1.5e-3", "+1.25", "+-1", "1,5", "1 5", "0x10", "inf"};
    for (const char *e : edges) {
        check(e);
        if (QTest::currentTestFailed())
            return;
    }
    QRandomGenerator rng(20261203);
    const char others[] = ".e-+ ,/:a";
    for (int i = 0; i < 400000; ++i) {
        std::string s;
        if (rng.bounded(4) == 0)
            s += rng.bounded(3) ? '-' : '+';
        const int digits = int(rng.bounded(0, 19));
        for (int k = 0; k < digits; ++k)
            s += char('0' + rng.bounded(10));
        if (rng.bounded(5) != 0)
            s.insert(s.begin() + qsizetype(rng.bounded(int(s.size()) + 1)), '.');
        if (rng.bounded(25) == 0)
            s.insert(s.begin() + qsizetype(rng.bounded(int(s.size()) + 1)), others[rng.bounded(int(sizeof others - 1))]);
        check(s);
        if (QTest::currentTestFailed())
            return;
    }
    QVERIFY(accepted > 300000);
    QVERIFY(sse41 > 250000);
}

void TestCsv::dateOrderOption()
{
    const QByteArray text = "v,k\n01/02/11,1\n03/04/11,2\n";
    ReadInfo info;
    auto t = parse(text, {}, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(info.dateOrder, DateOrder::DayFirst);
    QCOMPARE(t->column(0).datetimeAt(0), utcMs(2011, 2, 1));

    ReadOptions o;
    o.dateOrder = DateOrder::MonthFirst;
    t = parse(text, o, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(info.dateOrder, DateOrder::MonthFirst);
    QCOMPARE(t->column(0).datetimeAt(0), utcMs(2011, 1, 2));

    t = parse("v,k\n01/02/2011,1\n01/13/2011,2\n", {}, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(info.dateOrder, DateOrder::MonthFirst);
    QCOMPARE(t->column(0).datetimeAt(0), utcMs(2011, 1, 2));

    // Forcing day-first on month-first data makes it text.
    o.dateOrder = DateOrder::DayFirst;
    t = parse("v,k\n01/02/2011,1\n01/13/2011,2\n", o, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(t->column(0).type(), ColumnType::String);

    t = parse("v,k\n2011-01-02,1\n", {}, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(info.dateOrder, DateOrder::Auto); // no d/m/y column
}

void TestCsv::categoricalThreshold_data()
{
    QTest::addColumn<QByteArray>("values");
    QTest::addColumn<int>("maxDistinct");
    QTest::addColumn<QString>("type");
    QTest::addColumn<int>("dictionary");
    QTest::newRow("repeats") << QByteArray("a\nb\na\nb") << 10000 << QStringLiteral("categorical") << 2;
    QTest::newRow("too few repeats") << QByteArray("a\nb\nc\na") << 10000 << QStringLiteral("string") << 0;
    QTest::newRow("exactly half") << QByteArray("a\nb\na\nc\nb\nc") << 10000 << QStringLiteral("categorical") << 3;
    QTest::newRow("over max distinct") << QByteArray("a\nb\na\nb\nc\nc") << 2 << QStringLiteral("string") << 0;
    QTest::newRow("at max distinct") << QByteArray("a\nb\na\nb") << 2 << QStringLiteral("categorical") << 2;
    QTest::newRow("missing not counted") << QByteArray("a\nNA\nNA\nNA\nb") << 10000 << QStringLiteral("string") << 0;
    QTest::newRow("zero max") << QByteArray("a\na\na") << 0 << QStringLiteral("string") << 0;
}

void TestCsv::categoricalThreshold()
{
    QFETCH(QByteArray, values);
    QFETCH(int, maxDistinct);
    QFETCH(QString, type);
    QFETCH(int, dictionary);
    QByteArray text = "v,k\n";
    int i = 0;
    for (const QByteArray &v : values.split('\n'))
        text += v + ',' + QByteArray::number(i++) + '\n';
    ReadOptions o;
    o.categoricalMaxDistinct = maxDistinct;
    const auto t = parse(text, o);
    QVERIFY2(t, qPrintable(t.message()));
    const Column &c = t->column(0);
    QCOMPARE(columnTypeName(c.type()), type);
    QCOMPARE(c.dictionarySize(), qint64(dictionary));
    // Values read back the same either way.
    QStringList expected;
    for (const QByteArray &v : values.split('\n'))
        expected << (v == "NA" ? kNull : QString::fromUtf8(v));
    QCOMPARE(columnCells(c), expected);
}

void TestCsv::overrides_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("column");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QStringList>("display"); // of that column, when it works
    QTest::addColumn<int>("errorLine");       // 0 = no error
    QTest::addColumn<QString>("errorText");

    // Column k is always an integer so the header is detected whatever x and y hold.
    const QByteArray ints = "x,y,k\n1,a,1\n2,b,2\nNA,c,3\n";
    QTest::newRow("int as string") << ints << QStringLiteral("x") << QStringLiteral("string")
                                   << QStringList{QStringLiteral("1"), QStringLiteral("2"), kNull} << 0 << QString();
    QTest::newRow("int as categorical") << ints << QStringLiteral("x") << QStringLiteral("categorical")
                                        << QStringList{QStringLiteral("1"), QStringLiteral("2"), kNull} << 0 << QString();
    QTest::newRow("int as float") << ints << QStringLiteral("x") << QStringLiteral("float64")
                                  << QStringList{QStringLiteral("1"), QStringLiteral("2"), kNull} << 0 << QString();
    QTest::newRow("text as categorical") << ints << QStringLiteral("y") << QStringLiteral("categorical")
                                         << QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}
                                         << 0 << QString();
    QTest::newRow("string keeps spaces") << QByteArray("x,y,k\n 1 ,a,1\n2,b,2\n") << QStringLiteral("x")
                                         << QStringLiteral("string")
                                         << QStringList{QStringLiteral(" 1 "), QStringLiteral("2")} << 0 << QString();
    QTest::newRow("date strings as datetime") << QByteArray("x,y,k\n2020-01-02,a,1\n2020-01-03,b,2\n")
                                              << QStringLiteral("x") << QStringLiteral("datetime")
                                              << QStringList{QStringLiteral("2020-01-02"), QStringLiteral("2020-01-03")}
                                              << 0 << QString();
    QTest::newRow("int fails") << QByteArray("x,y,k\n1,5,1\n2,6,2\nabc,7,3\n") << QStringLiteral("x")
                               << QStringLiteral("int64") << QStringList() << 4
                               << QStringLiteral("value 'abc' is not int64");
    QTest::newRow("int fails on float") << QByteArray("x,y,k\n1,5,1\n2.5,6,2\n") << QStringLiteral("x")
                                        << QStringLiteral("int64") << QStringList() << 3
                                        << QStringLiteral("value '2.5' is not int64");
    QTest::newRow("bool fails") << QByteArray("x,y,k\ntrue,5,1\n\"multi\nline\",6,2\nmaybe,7,3\n")
                                << QStringLiteral("x") << QStringLiteral("bool") << QStringList() << 3
                                << QStringLiteral("value 'multi\nline' is not bool");
    QTest::newRow("datetime fails after multiline") << QByteArray("x,y,k\n2020-01-01,\"a\nb\",1\nsoon,6,2\n")
                                                    << QStringLiteral("x") << QStringLiteral("datetime")
                                                    << QStringList() << 4 << QStringLiteral("value 'soon' is not datetime");
    QTest::newRow("float fails") << QByteArray("x,y,k\n1.5,a,1\n2,b,2\nx1,c,3\n") << QStringLiteral("x")
                                 << QStringLiteral("float64") << QStringList() << 4
                                 << QStringLiteral("value 'x1' is not float64");
    QTest::newRow("unknown column") << ints << QStringLiteral("nope") << QStringLiteral("int64") << QStringList() << -1
                                    << QStringLiteral("type override names a column that does not exist");
}

void TestCsv::overrides()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, column);
    QFETCH(QString, type);
    QFETCH(QStringList, display);
    QFETCH(int, errorLine);
    QFETCH(QString, errorText);
    ReadOptions o;
    o.typeOverrides.insert(column, *columnTypeFromName(type));
    const auto t = parse(input, o);
    if (errorLine == 0) {
        QVERIFY2(t, qPrintable(t.message()));
        const Column &c = t->column(t->indexOf(column));
        QCOMPARE(columnTypeName(c.type()), type);
        QCOMPARE(columnCells(c), display);
    } else {
        QVERIFY(!t);
        QCOMPARE(t.error().message, errorText);
        QCOMPARE(t.error().line, qint64(errorLine));
        QCOMPARE(t.error().field, column);
        QCOMPARE(t.error().file, QStringLiteral("test.csv"));
    }
}

void TestCsv::errors_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("message");
    QTest::newRow("empty") << QByteArray("") << -1 << QStringLiteral("file is empty");
    QTest::newRow("only blank lines") << QByteArray("\n\r\n\n") << -1 << QStringLiteral("file is empty");
    QTest::newRow("BOM only") << QByteArray("\xEF\xBB\xBF") << -1 << QStringLiteral("file is empty");
    QTest::newRow("ragged short") << QByteArray("a,b\n1,2\n3\n4,5\n") << 3 << QStringLiteral("expected 2 fields, found 1");
    QTest::newRow("ragged long") << QByteArray("a,b\n1,2\n3,4,5\n") << 3 << QStringLiteral("expected 2 fields, found 3");
    QTest::newRow("ragged after multiline field") << QByteArray("a,b\n\"x\ny\",2\n\n3,4,5\n") << 5
                                                  << QStringLiteral("expected 2 fields, found 3");
    QTest::newRow("unterminated quote") << QByteArray("a,b\n1,2\n3,\"abc\n4,5\n") << 3
                                        << QStringLiteral("unterminated quoted field (the quote opens here)");
    QTest::newRow("unterminated quote in header") << QByteArray("\"a,b\n1,2\n") << 1
                                                  << QStringLiteral("unterminated quoted field (the quote opens here)");
    QTest::newRow("invalid utf-8") << QByteArray("a,b\n1,2\n3,\xff\n") << 3
                                   << QStringLiteral("invalid UTF-8 at byte offset 10");
    QTest::newRow("truncated utf-8 sequence") << QByteArray("a,b\n1,\xC3\n") << 2
                                              << QStringLiteral("invalid UTF-8 at byte offset 6");
    QTest::newRow("overlong utf-8") << QByteArray("a,b\n1,x\n2,\xC0\xAF\n") << 3
                                    << QStringLiteral("invalid UTF-8 at byte offset 10");
}

void TestCsv::errors()
{
    QFETCH(QByteArray, input);
    QFETCH(int, line);
    QFETCH(QString, message);
    for (int threads : {1, 4}) {
        ReadOptions o;
        o.threads = threads;
        const auto t = parse(input, o);
        QVERIFY(!t);
        QCOMPARE(t.error().message, message);
        QCOMPARE(t.error().line, qint64(line));
        QCOMPARE(t.error().file, QStringLiteral("test.csv"));
    }
}

void TestCsv::fileErrors()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    auto t = readTable(dir.filePath(QStringLiteral("missing.csv")));
    QVERIFY(!t);
    QCOMPARE(t.error().file, dir.filePath(QStringLiteral("missing.csv")));
    QCOMPARE(t.error().message, QStringLiteral("no such file"));
    QVERIFY(t.error().is(ErrorKind::NotFound));

    const QString empty = dir.filePath(QStringLiteral("empty.csv"));
    QFile f(empty);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    t = readTable(empty);
    QVERIFY(!t);
    QCOMPARE(t.error().message, QStringLiteral("file is empty"));
    QCOMPARE(t.error().file, empty);

    // A ragged row deep in a multi-chunk file reports its own line whatever the thread count.
    QByteArray big = "a,b,c\n";
    for (int i = 0; i < 60000; ++i)
        big += QByteArray::number(i) + ",\"t,\n" + QByteArray::number(i % 9) + "\",x\n";
    big += "1,2\n";
    const qint64 expectedLine = 1 + 60000 * 2 + 1;
    for (int i = 0; i < 100; ++i)
        big += "1,2,3\n";
    const QString path = dir.filePath(QStringLiteral("ragged.csv"));
    QFile out(path);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(big);
    out.close();
    for (int threads : {1, 4}) {
        ReadOptions o;
        o.threads = threads;
        t = readTable(path, o);
        QVERIFY(!t);
        QCOMPARE(t.error().line, expectedLine);
        QCOMPARE(t.error().message, QStringLiteral("expected 3 fields, found 2"));
    }
}

void TestCsv::maxRows_data()
{
    QTest::addColumn<bool>("header");
    QTest::addColumn<int>("maxRows");
    QTest::addColumn<int>("rows");
    QTest::addColumn<bool>("truncated");
    QTest::newRow("header 3") << true << 3 << 3 << true;
    QTest::newRow("header all") << true << 10 << 10 << false;
    QTest::newRow("header more") << true << 20 << 10 << false;
    QTest::newRow("header 0") << true << 0 << 0 << true;
    QTest::newRow("header -1") << true << -1 << 10 << false;
    QTest::newRow("no header 3") << false << 3 << 3 << true;
    QTest::newRow("no header 1") << false << 1 << 1 << true;
    QTest::newRow("no header 10") << false << 10 << 10 << false;
    QTest::newRow("no header 0") << false << 0 << 0 << true;
}

void TestCsv::maxRows()
{
    QFETCH(bool, header);
    QFETCH(int, maxRows);
    QFETCH(int, rows);
    QFETCH(bool, truncated);
    QByteArray text = header ? "n,s\n" : "";
    for (int i = 0; i < 10; ++i)
        text += QByteArray::number(i) + ",v" + QByteArray::number(i) + "\n";
    text += "\n\n"; // trailing blank lines are not more data
    ReadOptions o;
    o.maxRows = maxRows;
    ReadInfo info;
    const auto t = parse(text, o, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(t->rowCount(), qint64(rows));
    QCOMPARE(info.truncated, truncated);
    QCOMPARE(info.header, header);
    for (int r = 0; r < rows; ++r)
        QCOMPARE(t->column(0).displayAt(r), QString::number(r));
}

void TestCsv::previewOfLargeInput()
{
    // Over 8 MiB, the first rows are read from a prefix of the input: the same table as a full read of exactly those
    // rows, and a NUL byte past them (which a full read refuses) is not looked at, while one inside them still is.
    QByteArray text = "id,x,name,note\n";
    std::vector<qsizetype> rowEnd{text.size()};
    const int total = 250000;
    for (int i = 0; i < total; ++i) {
        text += QByteArray::number(i) + "," + QByteArray::number(i * 0.25) + ",n" + QByteArray::number(i % 97)
                + ",\"a, \"\"quoted\"\"\nnote " + QByteArray::number(i) + "\"\n";
        rowEnd.push_back(text.size());
    }
    QVERIFY(text.size() > 8 << 20);
    for (int n : {1, 200, 50000, total - 1, total, total + 1}) {
        ReadOptions o;
        o.maxRows = n;
        ReadInfo info;
        const auto t = parse(text, o, &info);
        QVERIFY2(t, qPrintable(t.message()));
        const auto reference = parse(text.left(rowEnd[size_t(std::min(n, total))]));
        QVERIFY2(reference, qPrintable(reference.message()));
        compareTables(*t, *reference);
        QCOMPARE(info.truncated, n < total);
        QCOMPARE(info.bytes, qint64(text.size()));
    }
    QByteArray nulLate = text;
    nulLate[nulLate.size() - 10] = '\0';
    QVERIFY(!parse(nulLate));
    ReadOptions o;
    o.maxRows = 200;
    QVERIFY(parse(nulLate, o));
    QByteArray nulEarly = text;
    nulEarly[nulEarly.indexOf("\n5,") + 2] = '\0';
    const auto early = parse(nulEarly, o);
    QVERIFY(!early);
    QVERIFY2(early.error().message.contains(QStringLiteral("NUL")), qPrintable(early.error().message));
}

void TestCsv::nulInALargeInput()
{
    // Over 64 MiB the NUL check is split across threads: the first NUL of the whole input is the one reported.
    QByteArray text = "a,b\n";
    const QByteArray line = "12345,67890\n";   // 12 bytes: line k (1-based, header = 1) starts at 4 + 12 (k - 2)
    text += line.repeated(6'000'000);
    QVERIFY(text.size() > 64 << 20);
    auto offsetOfLine = [](qsizetype k) { return 4 + 12 * (k - 2); };
    for (const auto &[lines, reported] : std::vector<std::pair<std::vector<qsizetype>, qsizetype>>{
             {{100}, 100}, {{5'900'000}, 5'900'000}, {{5'000'000, 200}, 200}, {{4'000'000, 5'500'000}, 4'000'000}}) {
        QByteArray bad = text;
        for (qsizetype k : lines)
            bad[offsetOfLine(k) + 2] = '\0';
        ReadOptions o;
        o.threads = 2;
        const auto t = parse(bad, o);
        QVERIFY(!t);
        QVERIFY2(t.error().message.contains(QStringLiteral("byte offset %1").arg(offsetOfLine(reported) + 2)),
                 qPrintable(t.error().message));
        QCOMPARE(t.error().line, qint64(reported));
    }
}

void TestCsv::multiThreadEqualsSingleThread()
{
    const int rows = 36000;
    const Generated g = generateCsv(rows, 20240611u);
    QVERIFY(g.csv.size() > 2'000'000);
    ReadOptions one;
    one.threads = 1;
    ReadOptions four;
    four.threads = 4;
    ReadInfo info1, info4;
    const auto a = parse(g.csv, one, &info1);
    QVERIFY2(a, qPrintable(a.message()));
    const auto b = parse(g.csv, four, &info4);
    QVERIFY2(b, qPrintable(b.message()));
    compareTables(*a, *b);
    QCOMPARE(info1.rows, qint64(rows));
    QCOMPARE(info4.rows, qint64(rows));

    // And both match what the generator wrote.
    const Table &t = *b;
    QCOMPARE(t.rowCount(), qint64(rows));
    QCOMPARE(t.column(t.indexOf(u"id")).type(), ColumnType::Int64);
    QCOMPARE(t.column(t.indexOf(u"qtext")).type(), ColumnType::String);
    QVERIFY(t.column(t.indexOf(u"qtext")).nullCount() > 0);
    QCOMPARE(t.column(t.indexOf(u"num")).type(), ColumnType::Float64);
    QCOMPARE(t.column(t.indexOf(u"cat")).type(), ColumnType::Categorical);
    QCOMPARE(t.column(t.indexOf(u"cat")).dictionarySize(), qint64(5));
    QCOMPARE(t.column(t.indexOf(u"date")).type(), ColumnType::Datetime);
    QCOMPARE(t.column(t.indexOf(u"flag")).type(), ColumnType::Bool);
    QCOMPARE(t.column(t.indexOf(u"late")).type(), ColumnType::Float64);
    QCOMPARE(t.column(t.indexOf(u"late")).nullCount(), qint64(rows * 4 / 5));
    QCOMPARE(t.column(t.indexOf(u"dmy")).type(), ColumnType::Datetime);
    QCOMPARE(info4.dateOrder, DateOrder::MonthFirst);
    QCOMPARE(t.column(t.indexOf(u"intfloat")).type(), ColumnType::Float64);
    QVERIFY(t.column(t.indexOf(u"mixed")).type() == ColumnType::Categorical);
    QCOMPARE(columnCells(t.column(t.indexOf(u"qtext"))), g.qtext);
    QCOMPARE(columnCells(t.column(t.indexOf(u"dmy"))), g.dmy);
    QCOMPARE(columnCells(t.column(t.indexOf(u"mixed"))), g.mixed);
    QCOMPARE(columnCells(t.column(t.indexOf(u"num"))), g.num);
    for (qint64 r = 0; r < rows; ++r)
        QCOMPARE(t.column(0).int64At(r), r);
}

/// A CSV-like text built from pieces that stress the reader: quoted fields holding delimiters, line feeds, CRLF and
/// doubled quotes, CRLF and blank lines, empty and missing fields, and now and then what the separator index must
/// leave to the tokenizer (a stray quote in an unquoted field, text after a closing quote, a record with another field
/// count, invalid UTF-8, an unterminated quote, a lone carriage return).
QByteArray trickyCsv(QRandomGenerator &rng, int rows, int columns, int rareOneIn)
{
    static const char *plain[] = {"7", "-3.25", "abc", "", "NA", " x ", "2024-02-29", "true", "x\ry", "\xC3\xA9t\xC3\xA9"};
    static const char *quoted[] = {"\"a,b\"", "\"line\nbreak\"", "\"crlf\r\nin\"", "\"say \"\"hi\"\"\"", "\"\"",
                                   "\"\"\"\"", "\"12\"", "\"\r\""};
    static const char *rare[] = {"ab\"c", "\"ab\"cd", "\"x\"y\"z\"", "\xFF", "\"open", "\r"};
    QByteArray t;
    for (int c = 0; c < columns; ++c)
        t += (c ? "," : "") + QByteArray("c") + QByteArray::number(c);
    t += '\n';
    for (int r = 0; r < rows; ++r) {
        const int fields = rng.bounded(rareOneIn) == 0 ? columns + (rng.bounded(2) ? 1 : -1) : columns;
        for (int c = 0; c < fields; ++c) {
            if (c)
                t += ',';
            const quint32 pick = rng.bounded(100);
            if (pick < 60)
                t += plain[rng.bounded(int(std::size(plain)))];
            else if (pick < 90)
                t += QByteArray::number(rng.bounded(100000));
            else
                t += quoted[rng.bounded(int(std::size(quoted)))];
            if (rng.bounded(rareOneIn) == 0)
                t += rare[rng.bounded(int(std::size(rare)))];
        }
        const quint32 end = rng.bounded(20);
        t += end == 0 ? "\r\n" : end == 1 ? "\n\n" : end == 2 ? "\n\r\n" : "\n";
    }
    if (rng.bounded(2))
        t.chop(1);   // no line end after the last record (sometimes leaving its \r)
    return t;
}

void TestCsv::boolsAgainstALowercaseCompare()
{
    // parseBool reads "true" and "false" in any case by setting bit 5 of every byte: it must agree with a plain
    // lower-casing compare on every string of 0 to 6 bytes drawn from the letters, their other cases, the bytes that
    // differ from them in bit 5 only when they are not letters ('@', 0x14 and the like), and random bytes.
    QRandomGenerator rng(1701);
    const std::string letters = "truefalsTRUEFALS";
    auto reference = [](const std::string &s, bool &v) {
        std::string lower = s;
        for (char &c : lower)
            if (c >= 'A' && c <= 'Z')
                c = char(c - 'A' + 'a');
        if (lower == "true" || lower == "false") {
            v = lower == "true";
            return true;
        }
        return false;
    };
    const std::string edges[] = {"true", "TRUE", "True", "false", "FALSE", "fAlSe", "falsx", "fals", "falsee", "fals@",
                                 "trux", "tru", "truee", "4RuE", "TRU\x05", "FALS\x05", std::string("true\0", 5), "", "t"};
    for (int i = -int(std::size(edges)); i < 400000; ++i) {
        std::string s(size_t(rng.bounded(7)), 'x');
        for (char &c : s) {
            const int kind = int(rng.bounded(10));
            const char l = letters[size_t(rng.bounded(int(letters.size())))];
            c = kind < 7 ? l : kind < 9 ? char(l ^ 0x20 ^ 0x40) : char(rng.bounded(256));
        }
        if (i < 0)
            s = edges[size_t(i + int(std::size(edges)))];
        if (i >= 0 && rng.bounded(4) == 0)
            s = rng.bounded(2) ? "tRuE" : "FaLsE";
        bool got = false, want = false;
        const bool ok = detail::parseBool(s, got), wantOk = reference(s, want);
        if (ok != wantOk || (ok && got != want))
            QFAIL(qPrintable(QStringLiteral("'%1': %2 %3, expected %4 %5").arg(QString::fromLatin1(s.data(), qsizetype(s.size())))
                                 .arg(ok).arg(got).arg(wantOk).arg(want)));
    }
}

void TestCsv::missingTokensAgainstASet()
{
    // MissingTokens answers by first byte and length before comparing: the answers must be a set's, for token lists
    // with and without the empty token, tokens of 63, 64 and 70 bytes (the length bit saturates at 63), UTF-8 first
    // bytes, and fields that share a first byte and a length with a token without being one.
    QRandomGenerator rng(5150);
    const char alphabet[] = "NnaA/-?\xC3\xA9x ";
    auto randomText = [&](int maxLength) {
        std::string t(size_t(rng.bounded(maxLength + 1)), 'x');
        for (char &c : t)
            c = alphabet[rng.bounded(int(sizeof alphabet - 1))];
        return t;
    };
    for (int list = 0; list < 200; ++list) {
        std::set<std::string> set;
        QStringList tokens;
        const int count = int(rng.bounded(0, 8));
        for (int i = 0; i < count; ++i) {
            std::string t = rng.bounded(6) == 0 ? std::string(size_t(63 + rng.bounded(8)), 'N') : randomText(5);
            if (rng.bounded(10) == 0)
                t.clear();
            const QString q = QString::fromUtf8(t.data(), qsizetype(t.size()));
            if (q.toUtf8() != QByteArray(t.data(), qsizetype(t.size())))
                continue;   // a cut UTF-8 sequence: not a token a user can give
            tokens << q;
            set.insert(t);
        }
        const detail::MissingTokens missing(tokens);
        for (int i = 0; i < 3000; ++i) {
            std::string field = rng.bounded(3) == 0 && !set.empty() ? *std::next(set.begin(), rng.bounded(int(set.size())))
                                                                    : randomText(6);
            if (rng.bounded(20) == 0)
                field = std::string(size_t(62 + rng.bounded(10)), 'N');
            if (missing.matches(field) != (set.count(field) == 1))
                QFAIL(qPrintable(QStringLiteral("list %1, field '%2' (%3 bytes): %4")
                                     .arg(list).arg(QString::fromStdString(field)).arg(field.size())
                                     .arg(missing.matches(field))));
        }
    }
}

void TestCsv::surveyMatchesAScalarReading()
{
    // surveyCsv reads the data once, in stretches on several threads, for the record starts where parallel chunks
    // begin, each chunk's record count and the first NUL byte. Checked against a byte-at-a-time reading of the same rules
    // (RFC 4180 quoting, blank lines and lines of just "\r" not counted, a last line without a line end counted) on
    // generated inputs full of quotes, blank lines, CRs and splits that land on them; AVX-512 and SSE2; 1 and 3 threads.
    struct Reference {
        std::vector<const char *> bounds;
        std::vector<qint64> records;
        qint64 nul = -1;
    };
    auto reference = [](const char *b, const char *e, int chunks) {
        const qint64 len = e - b;
        // Which bytes end a record (a line end outside quotes whose line is not blank), and the quote state before each.
        std::vector<char> inside(size_t(len) + 1, 0), lineEnd(size_t(len), 0), recordEnd(size_t(len), 0);
        bool q = false;
        for (qint64 i = 0; i < len; ++i) {
            inside[size_t(i)] = q;
            if (b[i] == '"')
                q = !q;
            else if (b[i] == '\n' && !q) {
                lineEnd[size_t(i)] = 1;
                const bool endBefore = i == 0 || lineEnd[size_t(i) - 1];
                const bool crBefore = i >= 1 && b[i - 1] == '\r' && !inside[size_t(i) - 1];
                const bool endTwoBefore = i == 1 || (i >= 2 && lineEnd[size_t(i) - 2]);
                recordEnd[size_t(i)] = !(endBefore || (crBefore && endTwoBefore));
            }
        }
        inside[size_t(len)] = q;
        const bool lastLineOpen = len > 0 && !lineEnd[size_t(len) - 1] && !q;
        Reference r;
        r.bounds.push_back(b);
        for (int i = 1; i < chunks; ++i) {
            const char *x = b + len * i / chunks;
            bool in = inside[size_t(x - b)];
            const bool atStart = !in && (x == b || x[-1] == '\n');
            if (!atStart) {
                for (; x < e; ++x) {
                    if (*x == '"') {
                        in = !in;
                    } else if (*x == '\n' && !in) {
                        ++x;
                        break;
                    }
                }
            }
            if (x > r.bounds.back() && x < e)
                r.bounds.push_back(x);
        }
        for (size_t k = 0; k < r.bounds.size(); ++k) {
            const char *from = r.bounds[k], *to = k + 1 < r.bounds.size() ? r.bounds[k + 1] : e;
            qint64 n = 0;
            for (const char *x = from; x < to; ++x)
                n += recordEnd[size_t(x - b)];
            if (k + 1 == r.bounds.size() && lastLineOpen)
                ++n;
            r.records.push_back(n);
        }
        if (const void *z = std::memchr(b, '\0', size_t(len)))
            r.nul = static_cast<const char *>(z) - b;
        return r;
    };

    const char *pieces[] = {"ab", "c", ",", ",", "\n", "\n", "\r\n", "\r", "\"", "\"x,\ny\"", "\"\"", "\n\n", "\r\n\r\n", "123"};
    QRandomGenerator rng(777);
    const auto restore = qScopeGuard([] { detail::setSeparatorScan(detail::SeparatorScan::Vector); });
    int cases = 0;
    for (int n = 0; n < 600; ++n) {
        std::string text;
        const int length = int(rng.bounded(1, n % 10 == 0 ? 20000 : 400));
        while (int(text.size()) < length)
            text += pieces[rng.bounded(int(std::size(pieces)))];
        if (n % 7 == 0)
            text[size_t(rng.bounded(int(text.size())))] = '\0';
        if (n % 3 == 0 && text.back() != '\n')
            text += '\n';
        const char *b = text.data(), *e = b + text.size();
        for (const int chunks : {1, 2, 3, 7, 16, 61}) {
            const Reference want = reference(b, e, chunks);
            for (const auto scan : {detail::SeparatorScan::Vector, detail::SeparatorScan::Avx2, detail::SeparatorScan::Sse2}) {
                detail::setSeparatorScan(scan);
                for (const int threads : {1, 3}) {
                    const detail::CsvLayout got = detail::surveyCsv(b, e, chunks, threads);
                    const QString what = QStringLiteral("input %1 (%2 bytes), %3 chunks, %4, %5 threads")
                                             .arg(n).arg(text.size()).arg(chunks)
                                             .arg(scan == detail::SeparatorScan::Sse2 ? u"SSE2"
                                                  : scan == detail::SeparatorScan::Avx2 ? u"AVX2" : u"widest vectors")
                                             .arg(threads);
                    QVERIFY2(got.bounds == want.bounds, qPrintable(what));
                    QVERIFY2(got.records == want.records, qPrintable(what));
                    QVERIFY2(got.nul == want.nul, qPrintable(what));
                    ++cases;
                }
            }
        }
    }
    QCOMPARE(cases, 600 * 6 * 3 * 2);
}

void TestCsv::separatorIndexMatchesTokenizer()
{
    // The separator index stands in for the tokenizer wherever it can read the records the same way: every read, on one
    // thread and on four, with AVX-512 and AVX2 (where the CPU has them) and with SSE2, must give the tokenizer's table
    // or its error (message, line and field), whatever the input holds.
    QRandomGenerator rng(20261203u);
    struct Restore {
        ~Restore() { detail::setSeparatorScan(detail::SeparatorScan::Vector); }
    } restore;
    // First some inputs written out: short records whose line ends could pass for a long record's delimiters.
    // And a record longer than the index ever takes (5 MiB of quoted text) amid short ones.
    QByteArray longRecord = "a,b\n";
    for (int i = 0; i < 3000; ++i)
        longRecord += QByteArray::number(i) + ",x\n";
    longRecord += "7,\"" + QByteArray(5 << 20, 'y') + "\"\n";
    for (int i = 0; i < 3000; ++i)
        longRecord += QByteArray::number(i) + ",\"z\"\n";
    const QList<QByteArray> fixed = {"a,b\n1\n2\n3,4\n", "a,b,c\n1,2\n3\n4,5,6\n", "a,b\n1,2\n\"x\ny\"\n3,4\n",
                                     "a,b\n1,2\r\n3\r\n\r\n4\n", longRecord};
    int tables = 0, errors = 0;
    for (int i = 0; i < 160 + fixed.size(); ++i) {
        const bool large = i % 10 == 0;   // past one index window (128 KiB) and into several parallel chunks
        const int rows = large ? int(rng.bounded(20000, 60000)) : int(rng.bounded(1, 60));
        const int columns = int(rng.bounded(1, 6));
        const int rareOneIn = large ? int(rng.bounded(20000, 400000)) : int(rng.bounded(3, 200));
        const QByteArray text = i < fixed.size() ? fixed[i] : trickyCsv(rng, rows, columns, rareOneIn);
        for (int run = 0; run < 6; ++run) {
            const int threads = run % 2 ? 4 : 1;
            const auto scan = run < 2 ? detail::SeparatorScan::Vector
                              : run < 4 ? detail::SeparatorScan::Avx2 : detail::SeparatorScan::Sse2;
            ReadOptions options;
            options.threads = threads;
            ReadInfo infoTok, infoIdx;
            detail::setSeparatorScan(detail::SeparatorScan::Tokenizer);
            const auto tok = parse(text, options, &infoTok);
            detail::setSeparatorScan(scan);
            const auto idx = parse(text, options, &infoIdx);
            const QByteArray what = "input " + QByteArray::number(i) + ", " + QByteArray::number(threads) + " thread(s)"
                                    + (scan == detail::SeparatorScan::Sse2   ? ", SSE2"
                                       : scan == detail::SeparatorScan::Avx2 ? ", AVX2"
                                                                             : "");
            QVERIFY2(bool(tok) == bool(idx), QByteArray(what + ": " + (tok ? idx : tok).message().toUtf8()).constData());
            if (tok) {
                compareTables(*tok, *idx);
                if (QTest::currentTestFailed())
                    QFAIL(what.constData());
                QCOMPARE(infoIdx.rows, infoTok.rows);
                QCOMPARE(infoIdx.header, infoTok.header);
                ++tables;
            } else {
                QCOMPARE(idx.error().message, tok.error().message);
                QCOMPARE(idx.error().line, tok.error().line);
                QCOMPARE(idx.error().field, tok.error().field);
                ++errors;
            }
        }
    }
    // Both outcomes were exercised.
    QVERIFY2(tables > 120 && errors > 120, qPrintable(QStringLiteral("%1 tables, %2 errors").arg(tables).arg(errors)));
}

void TestCsv::dictionaryCodesAgainstAMap()
{
    // Codes are given in order of first appearance, the same string always getting the same code: checked against a
    // std::map on strings that differ only in their length, their middle, their first or last eight bytes, or past
    // sixteen bytes (where the recent-strings cache stops and the hash table alone answers).
    QRandomGenerator rng(77);
    detail::TextDict dict;
    std::map<std::string, int32_t> reference;
    for (int i = 0; i < 200000; ++i) {
        const int length = int(rng.bounded(0, 21));
        std::string s(size_t(length), 'a');
        for (char &c : s)
            c = rng.bounded(8) == 0 ? char('a' + rng.bounded(3)) : 'a';   // mostly 'a': many near-identical strings
        const auto [it, inserted] = reference.emplace(s, int32_t(reference.size()));
        const int32_t code = dict.findOrInsert(s);
        if (code != it->second)
            QFAIL(qPrintable(QStringLiteral("'%1': code %2, expected %3").arg(QString::fromStdString(s)).arg(code).arg(it->second)));
        QCOMPARE(dict.at(code), std::string_view(s));
        Q_UNUSED(inserted);
    }
    QCOMPARE(dict.size(), int32_t(reference.size()));
    QVERIFY(reference.size() > 5000);
}

void TestCsv::integersAgainstFromChars()
{
    // parseInt64 accepts exactly what std::from_chars reads whole as an int64 (with '+' allowed): every length up to
    // 22 characters, signs, leading zeros, the int64 limits and a non-digit anywhere.
    QRandomGenerator rng(31337);
    const char *edges[] = {"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
                           "+0", "-0", "0000000000000000000000001", "99999999", "999999999", "9999999999999999",
                           "99999999999999999", "12345678/", "/12345678", "1234567:", "+", "-", ""};
    auto check = [](const std::string &text) {
        int64_t got = 0;
        const bool ok = detail::parseInt64(text, got);
        const char *b = text.data() + (text.size() > 1 && text[0] == '+' && text[1] != '-' ? 1 : 0);
        int64_t want = 0;
        const auto r = std::from_chars(b, text.data() + text.size(), want);
        const bool wantOk = !text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size();
        if (ok != wantOk || (ok && got != want))
            QFAIL(qPrintable(QStringLiteral("'%1': %2 %3, expected %4 %5")
                                 .arg(QString::fromStdString(text)).arg(ok).arg(got).arg(wantOk).arg(want)));
    };
    for (const char *e : edges) {
        check(e);
        if (QTest::currentTestFailed())
            return;
    }
    const char alphabet[] = "0123456789012345678901234567890123456789/:.e -+a";
    for (int i = 0; i < 300000; ++i) {
        std::string s;
        const int length = int(rng.bounded(0, 23));
        if (rng.bounded(4) == 0)
            s += rng.bounded(2) ? '-' : '+';
        for (int k = 0; k < length; ++k)
            s += rng.bounded(30) == 0 ? alphabet[40 + rng.bounded(8)] : char('0' + rng.bounded(10));
        check(s);
        if (QTest::currentTestFailed())
            return;
    }
}

void TestCsv::strayQuotesFallBack()
{
    // A quote inside an unquoted field is literal; it breaks quote-parity chunking, which must
    // notice and fall back to finding record starts sequentially.
    QByteArray text = "h,note,n\n";
    QStringList notes;
    for (int i = 0; i < 40000; ++i) {
        const QByteArray note = (i % 5 == 0) ? QByteArray(QByteArray("5'1") + QByteArray::number(i % 10) + "\"")
                                               : QByteArray("\"q,\nx\"");
        text += QByteArray::number(i) + ',' + note + ',' + QByteArray::number(i * 2) + '\n';
        notes << (i % 5 == 0 ? QString::fromUtf8(note) : QStringLiteral("q,\nx"));
    }
    ReadOptions one;
    one.threads = 1;
    ReadOptions four;
    four.threads = 4;
    const auto a = parse(text, one);
    QVERIFY2(a, qPrintable(a.message()));
    const auto b = parse(text, four);
    QVERIFY2(b, qPrintable(b.message()));
    compareTables(*a, *b);
    QCOMPARE(b->rowCount(), qint64(40000));
    QCOMPARE(columnCells(b->column(1)), notes);
}

/// The read of `text` on four threads, once it has been checked equal to the read on one (nothing, with the test
/// failed, when either read fails or they differ).
std::optional<Table> fourThreadsLikeOne(const QByteArray &text, ReadOptions options = {})
{
    options.threads = 1;
    const auto a = parse(text, options);
    options.threads = 4;
    auto b = parse(text, options);
    if (!a || !b) {
        QTest::qFail(qPrintable((!a ? a : b).message()), __FILE__, __LINE__);
        return std::nullopt;
    }
    compareTables(*a, *b);
    if (QTest::currentTestFailed())
        return std::nullopt;
    return std::move(*b);
}

/// Byte offset of a column's first value within its memory page.
uintptr_t pageOffset(const void *p) { return reinterpret_cast<uintptr_t>(p) % 4096; }

void TestCsv::parallelReadAdoptsChunkValues()
{
    // A parallel read writes each chunk's fixed-width values into its rows of one region per column (an area per
    // value width, each page-aligned), so the table adopts them without a copy; row 0 is kept for a first record that
    // is data. So with a header the first value sits one value into a page (8, 4 or 1 bytes), and without one at the
    // page start; a copy made by malloc would sit 16 bytes in. Cells are checked against a one-thread read and the
    // generator.
    QByteArray body;
    QStringList ints, floats, cats, flags;
    for (int i = 0; i < 120000; ++i) {
        const QByteArray cat = QByteArray("c") + QByteArray::number((i * 7919) % 13);   // first seen in other orders per chunk
        body += QByteArray::number(i * 3 - 1000) + ',' + QByteArray::number(i) + ".5," + cat + ','
                + (i % 3 ? "true" : "false") + ",\n";   // and an empty fifth column
        ints << QString::number(i * 3 - 1000);
        floats << QString::number(i) + QStringLiteral(".5");
        cats << QString::fromLatin1(cat);
        flags << (i % 3 ? QStringLiteral("true") : QStringLiteral("false"));
    }
    QVERIFY(body.size() > 2 << 20);
    for (const bool header : {true, false}) {
        const auto b = fourThreadsLikeOne(header ? "n,x,cat,flag,empty\n" + body : body);
        QVERIFY(b);
        QCOMPARE(b->rowCount(), qint64(120000));
        QCOMPARE(columnCells(b->column(0)), ints);
        QCOMPARE(columnCells(b->column(1)), floats);
        QCOMPARE(columnCells(b->column(2)), cats);
        QCOMPARE(columnCells(b->column(3)), flags);
        QCOMPARE(b->column(2).type(), ColumnType::Categorical);
        const uintptr_t want = header ? 8 : 0;
        QCOMPARE(pageOffset(b->column(0).storage().i64.view.data()), want);
        QCOMPARE(pageOffset(b->column(1).storage().f64.view.data()), want);
        QCOMPARE(pageOffset(b->column(2).storage().codes.view.data()), want / 2);
        QCOMPARE(pageOffset(b->column(3).storage().u8.view.data()), want / 8);
        // A column with no values: missing everywhere, no text, every offset 0 (kept as zero pages, not written).
        const Column &empty = b->column(4);
        QCOMPARE(empty.type(), ColumnType::String);
        QCOMPARE(empty.nullCount(), qint64(120000));
        QCOMPARE(empty.storage().offsets.size(), size_t(120001));
        QVERIFY(std::all_of(empty.storage().offsets.view.begin(), empty.storage().offsets.view.end(),
                            [](int64_t o) { return o == 0; }));
        QVERIFY(empty.storage().bytes.empty());
    }
}

void TestCsv::countsTheParseContradicts()
{
    // Rows are counted before the parse the RFC 4180 way, where any quote toggles quoting. Here a quote inside an
    // unquoted field (literal to the parser) pairs with one on the next line, so the count sees one record where the
    // parse finds two. The chunks then outgrow their windows; the values must come out the same as on one thread.
    QByteArray text = "id,note,n\n";
    QStringList notes;
    for (int i = 0; i < 60000; ++i) {
        const QByteArray note = i % 2 ? QByteArray("d\"e") : QByteArray("ab\"c");
        text += QByteArray::number(i) + ',' + note + ',' + QByteArray::number(i % 97) + '\n';
        notes << QString::fromLatin1(note);
    }
    const auto b = fourThreadsLikeOne(text);
    QVERIFY(b);
    QCOMPARE(b->rowCount(), qint64(60000));
    QCOMPARE(columnCells(b->column(1)), notes);
    for (qint64 r = 0; r < 60000; ++r) {
        QCOMPARE(b->column(0).int64At(r), r);
        QCOMPARE(b->column(2).int64At(r), r % 97);
    }
}

void TestCsv::replaysIntoWindows()
{
    // Columns whose chunks guessed a type the whole file does not have are parsed again into their windows: "code" is
    // integers until text at the very end (categorical), "when" is a d/m/y date read month-first only because of its
    // last rows, "amount" is integers until one decimal at the end, and overrides force "n" to float64 and "flag" to
    // string. Every cell is checked against a one-thread read and the generator.
    QByteArray text = "code,when,amount,n,flag\n";
    const int rows = 150000;
    QStringList codes;
    for (int i = 0; i < rows; ++i) {
        const bool last = i >= rows - 10;
        const QByteArray code = last ? QByteArray("X") + QByteArray::number(i % 3) : QByteArray::number(i % 7);
        const int day = 1 + i % 12, month = 1 + i % 12;
        const QByteArray when = last ? QByteArray("12/25/2024")   // only month-first fits this one
                                     : QByteArray::number(day).rightJustified(2, '0') + '/'
                                           + QByteArray::number(month).rightJustified(2, '0') + "/2024";
        const QByteArray amount = i == rows - 1 ? QByteArray("2.5") : QByteArray::number(i);
        text += code + ',' + when + ',' + amount + ',' + QByteArray::number(i % 11) + ',' + (i % 2 ? "true" : "false")
                + '\n';
        codes << QString::fromLatin1(code);
    }
    ReadOptions forced;
    forced.typeOverrides.insert(QStringLiteral("n"), ColumnType::Float64);
    forced.typeOverrides.insert(QStringLiteral("flag"), ColumnType::String);
    const auto b = fourThreadsLikeOne(text, forced);
    QVERIFY(b);
    QCOMPARE(b->column(0).type(), ColumnType::Categorical);
    QCOMPARE(columnCells(b->column(0)), codes);
    QCOMPARE(b->column(1).type(), ColumnType::Datetime);
    QCOMPARE(b->column(1).displayAt(0), QStringLiteral("2024-01-01"));
    QCOMPARE(b->column(1).displayAt(4), QStringLiteral("2024-05-05"));
    QCOMPARE(b->column(1).displayAt(rows - 1), QStringLiteral("2024-12-25"));
    QCOMPARE(b->column(2).type(), ColumnType::Float64);
    QCOMPARE(b->column(3).type(), ColumnType::Float64);
    QCOMPARE(b->column(4).type(), ColumnType::String);
    for (qint64 r = 0; r < rows; ++r) {
        QCOMPARE(b->column(2).float64At(r), r == rows - 1 ? 2.5 : double(r));
        QCOMPARE(b->column(3).float64At(r), double(r % 11));
        QCOMPARE(b->column(4).stringAt(r), std::string_view(r % 2 ? "true" : "false"));
    }
}

void TestCsv::longFieldsAgainstAReference()
{
    // Fields of 1 to 150 bytes, so that fields and records cross the tokenizer's 64-byte blocks at every offset;
    // quoted fields holding delimiters, newlines and doubled quotes; CRLF and LF line ends; blank lines. The cells
    // are checked against what the generator wrote, on one thread and on four.
    QRandomGenerator rng(31);
    const int columns = 5;
    QByteArray text = "a,b,c,d,e\n";
    std::vector<QStringList> want(columns);
    for (int row = 0; row < 8000; ++row) {   // about 1 MB: several parallel chunks
        for (int c = 0; c < columns; ++c) {
            const int length = 1 + int(rng.bounded(rng.bounded(4) == 0 ? 150 : 12));
            QByteArray value = "x";
            for (int i = 1; i < length; ++i)
                value += char('a' + rng.bounded(26));
            const bool quoted = rng.bounded(4) == 0;
            if (quoted) {
                for (const char special : {',', '\n', '"'})
                    if (rng.bounded(2) == 0)
                        value.insert(1 + rng.bounded(int(value.size())), special);
                QByteArray escaped = value;
                escaped.replace("\"", "\"\"");
                text += '"' + escaped + '"';
            } else {
                text += value;
            }
            want[size_t(c)] << QString::fromLatin1(value);
            if (c + 1 < columns)
                text += ',';
        }
        text += rng.bounded(3) == 0 ? "\r\n" : "\n";
        if (rng.bounded(50) == 0)
            text += "\n";   // a blank line
    }
    for (int threads : {1, 4}) {
        ReadOptions options;
        options.threads = threads;
        options.categoricalMaxDistinct = 0;   // plain strings: the cells as written
        const auto t = parse(text, options);
        QVERIFY2(t, qPrintable(t.message()));
        QCOMPARE(t->rowCount(), qint64(8000));
        for (int c = 0; c < columns; ++c)
            QCOMPARE(columnCells(t->column(c)), want[size_t(c)]);
    }
}

void TestCsv::lateContradictionsAcrossChunks()
{
    // Early chunks see day-first dates and integers, late chunks month-first dates and text:
    // every chunk must be re-read as text, keeping the original spelling.
    QByteArray text = "d,v,k\n";
    QStringList dates, values;
    const int rows = 50000;
    for (int i = 0; i < rows; ++i) {
        const QByteArray d = i < rows - 10 ? QByteArray("13/01/2020") : QByteArray("01/13/2020");
        const QByteArray v = i == rows - 5 ? QByteArray("n/a") : QByteArray::number(i % 50);
        text += d + ',' + v + ',' + QByteArray::number(i) + '\n';
        dates << QString::fromUtf8(d);
        values << QString::fromUtf8(v);
    }
    for (int threads : {1, 4}) {
        ReadOptions o;
        o.threads = threads;
        ReadInfo info;
        const auto t = parse(text, o, &info);
        QVERIFY2(t, qPrintable(t.message()));
        QCOMPARE(t->column(0).type(), ColumnType::Categorical);
        QCOMPARE(columnCells(t->column(0)), dates);
        QCOMPARE(t->column(1).type(), ColumnType::Categorical);
        QCOMPARE(columnCells(t->column(1)), values);
        QCOMPARE(t->column(2).type(), ColumnType::Int64);
        QCOMPARE(info.dateOrder, DateOrder::Auto);
    }
}

void TestCsv::overrideErrorDeepInFile()
{
    QByteArray text = "a,b\n";
    const int rows = 60000;
    for (int i = 0; i < rows; ++i)
        text += (i == rows - 100 ? QByteArray("oops") : QByteArray::number(i)) + ",\"x\ny\"\n";
    const qint64 expectedLine = 1 + qint64(rows - 100) * 2 + 1;
    for (int threads : {1, 4}) {
        ReadOptions o;
        o.threads = threads;
        o.header = true; // every column reads as text, so the header is not detectable
        o.typeOverrides.insert(QStringLiteral("a"), ColumnType::Int64);
        const auto t = parse(text, o);
        QVERIFY(!t);
        QCOMPARE(t.error().line, expectedLine);
        QCOMPARE(t.error().field, QStringLiteral("a"));
        QCOMPARE(t.error().message, QStringLiteral("value 'oops' is not int64"));
    }
}

void TestCsv::cancelAndProgress()
{
    QByteArray text = "a,b\n";
    for (int i = 0; i < 200000; ++i)
        text += QByteArray::number(i) + ",x" + QByteArray::number(i % 3) + "\n";

    Feedback cancelled;
    cancelled.cancel();
    ReadOptions o;
    o.threads = 2;
    auto t = readTableFromBytes(text, o, &cancelled, nullptr, QStringLiteral("c.csv"));
    QVERIFY(!t);
    QVERIFY(t.error().is(keel::ErrorKind::Cancelled));

    Feedback fb;
    qint64 lastDone = -1, lastTotal = -1;
    QString stage;
    fb.setCallback([&](qint64 done, qint64 total, const QString &s) {
        lastDone = done;
        lastTotal = total;
        stage = s;
    });
    t = readTableFromBytes(text, o, &fb, nullptr, QStringLiteral("c.csv"));
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(stage, QStringLiteral("parse"));
    QCOMPARE(lastTotal, qint64(text.size()));
    QCOMPARE(lastDone, lastTotal);
}

void TestCsv::tsvPath()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("t.tsv"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("a,b\tc\n1,2\t3\n");
    f.close();
    ReadInfo info;
    const auto t = readTable(path, {}, nullptr, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(info.delimiter, '\t');
    QCOMPARE(t->columnNames(), (QStringList{QStringLiteral("a,b"), QStringLiteral("c")}));
    QCOMPARE(info.bytes, qint64(12));
}

void TestCsv::adultTrain()
{
    const QString path = QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_train.csv");
    QFile raw(path);
    QVERIFY(raw.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = raw.readAll().split('\n');
    qint64 bareNa = 0, dataLines = 0;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        if (lines[i].trimmed().isEmpty())
            continue;
        ++dataLines;
        if (lines[i].split(',').value(1) == "NA")
            ++bareNa;
    }
    QVERIFY(bareNa > 0);

    ReadInfo info;
    const auto t = readTable(path, {}, nullptr, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(t->rowCount(), qint64(32561));
    QCOMPARE(dataLines, qint64(32561));
    QCOMPARE(t->columnCount(), 15);
    QVERIFY(info.header);
    QCOMPARE(info.delimiter, ',');
    const Column &age = t->column(t->indexOf(u"age"));
    QCOMPARE(age.type(), ColumnType::Int64);
    QCOMPARE(age.int64At(0), 39);
    const Column &wc = t->column(t->indexOf(u"workclass"));
    QCOMPARE(wc.type(), ColumnType::Categorical);
    QCOMPARE(wc.nullCount(), bareNa);
    const Column &cls = t->column(t->indexOf(u"class"));
    QSet<QString> classes;
    for (qint64 r = 0; r < cls.size(); ++r)
        classes.insert(cls.displayAt(r));
    QCOMPARE(classes, (QSet<QString>{QStringLiteral("<=50K"), QStringLiteral(">50K")}));

    ReadOptions one;
    one.threads = 1;
    const auto single = readTable(path, one);
    QVERIFY2(single, qPrintable(single.message()));
    compareTables(*single, *t);
}

void TestCsv::diamonds()
{
    const auto t = readTable(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/diamonds.csv"));
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(t->rowCount(), qint64(53940));
    const Column &carat = t->column(t->indexOf(u"carat"));
    QCOMPARE(carat.type(), ColumnType::Float64);
    QCOMPARE(carat.float64At(0), 0.23);
    const Column &price = t->column(t->indexOf(u"price"));
    QCOMPARE(price.type(), ColumnType::Int64);
    QCOMPARE(price.int64At(0), 326);
    const Column &cut = t->column(t->indexOf(u"cut"));
    QCOMPARE(cut.type(), ColumnType::Categorical);
    QCOMPARE(cut.dictionarySize(), qint64(5));
    QCOMPARE(cut.displayAt(0), QStringLiteral("Ideal"));
}

void TestCsv::bikeHour()
{
    ReadInfo info;
    const auto t = readTable(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/bike_hour.csv"), {}, nullptr, &info);
    QVERIFY2(t, qPrintable(t.message()));
    QCOMPARE(t->rowCount(), qint64(17379));
    const Column &d = t->column(t->indexOf(u"dteday"));
    QCOMPARE(d.type(), ColumnType::Datetime);
    QCOMPARE(d.datetimeAt(0), utcMs(2011, 1, 1));
    QCOMPARE(d.datetimeAt(d.size() - 1), utcMs(2012, 12, 31));
    QCOMPARE(d.displayAt(0), QStringLiteral("2011-01-01"));
    QCOMPARE(info.dateOrder, DateOrder::DayFirst);
    QCOMPARE(t->column(t->indexOf(u"cnt")).type(), ColumnType::Int64);
    QCOMPARE(t->column(t->indexOf(u"temp")).type(), ColumnType::Float64);
}

QTEST_GUILESS_MAIN(TestCsv)
#include "tst_csv.moc"
