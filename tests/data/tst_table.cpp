// Tests for the columnar Table, Column and ColumnBuilder (core/data/table.h): every type, validity bitmaps, display
// formatting, dictionaries, schemas and concatenation, checked against hand-computed values or a brute-force
// reference kept beside the column.
#include "data/calendar.h"
#include "data/table.h"
#include "data/typeinfer.h"

#include <QDateTime>
#include <QRandomGenerator>
#include <QTimeZone>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

using namespace keel::data;

Q_DECLARE_METATYPE(keel::data::ColumnType)

namespace {

QString fromView(std::string_view v) { return QString::fromUtf8(v.data(), qsizetype(v.size())); }

/// One optional value of a reference column: nullopt is a missing value.
using RefColumn = std::vector<std::optional<std::string>>;

Column buildCategorical(const RefColumn &values, const QString &name = QStringLiteral("c"))
{
    ColumnBuilder b(ColumnType::Categorical);
    for (const auto &v : values) {
        if (v)
            b.appendString(*v);
        else
            b.appendNull();
    }
    return b.finish(name);
}

Column buildString(const RefColumn &values, const QString &name = QStringLiteral("s"))
{
    ColumnBuilder b(ColumnType::String);
    for (const auto &v : values) {
        if (v)
            b.appendString(*v);
        else
            b.appendNull();
    }
    return b.finish(name);
}

/// A small mixed table: id int64, score float64, ok bool, day datetime, colour categorical, note string.
Table sampleTable()
{
    ColumnBuilder id(ColumnType::Int64), score(ColumnType::Float64), ok(ColumnType::Bool), day(ColumnType::Datetime),
        colour(ColumnType::Categorical), note(ColumnType::String);
    for (int i = 0; i < 4; ++i) {
        id.appendInt64(10 * (i + 1));
        score.appendFloat64(i + 0.5);
        ok.appendBool(i % 2 == 0);
        day.appendDatetime(int64_t(i) * 86400000);
        colour.appendString(i % 2 ? "blue" : "red");
        note.appendString(std::string(size_t(i), 'x'));
    }
    return Table({id.finish(QStringLiteral("id")), score.finish(QStringLiteral("score")),
                  ok.finish(QStringLiteral("ok")), day.finish(QStringLiteral("day")),
                  colour.finish(QStringLiteral("colour")), note.finish(QStringLiteral("note"))});
}

} // namespace

class TstTable : public QObject {
    Q_OBJECT
private slots:
    void textDictionaryAgainstAMap()
    {
        // The CSV reader's dictionary (hash slots with a tag, words compared by overlapping loads) against
        // std::unordered_map: codes in first-seen order, on strings of every length 0..40 that differ in one byte
        // only, at every position, so a load that skipped a byte would merge two of them.
        keel::data::detail::TextDict dict;
        std::unordered_map<std::string, int32_t> reference;
        QRandomGenerator rng(17);
        std::vector<std::string> inputs;
        for (size_t n = 0; n <= 40; ++n) {
            std::string base(n, 'a');
            for (size_t i = 0; i < n; ++i)
                base[i] = char('a' + rng.bounded(3));
            inputs.push_back(base);
            for (size_t at = 0; at < n; ++at) {
                std::string other = base;
                other[at] = char(other[at] ^ 0x20);
                inputs.push_back(other);
            }
        }
        for (int i = 0; i < 200000; ++i)   // repeats in random order; the table grows several times
            inputs.push_back(inputs[size_t(rng.bounded(int(inputs.size())))]);
        for (const std::string &text : inputs) {
            const auto [it, added] = reference.emplace(text, int32_t(reference.size()));
            const int32_t code = dict.findOrInsert(text);
            QCOMPARE(code, it->second);
            QCOMPARE(dict.at(code), std::string_view(text));
        }
        QCOMPARE(size_t(dict.size()), reference.size());
    }

    void categoricalBuilderAcrossItsScanLimit()
    {
        // Dictionaries are scanned while small and hashed once they grow: values, codes and first-seen order must be
        // the same on both sides of the switch.
        keel::data::ColumnBuilder b(keel::data::ColumnType::Categorical);
        std::vector<std::string> sent;
        for (int i = 0; i < 400; ++i) {
            const int v = (i * 7919) % 40;
            if (i % 50 == 3) {
                b.appendNull();
                sent.emplace_back();
                continue;
            }
            sent.push_back("level-" + std::to_string(v));
            b.appendString(sent.back());
        }
        const keel::data::Column c = b.finish(QStringLiteral("c"));
        QCOMPARE(c.size(), qint64(sent.size()));
        QCOMPARE(c.dictionarySize(), qint64(40));
        std::vector<std::string> order;
        for (const std::string &v : sent)
            if (!v.empty() && std::find(order.begin(), order.end(), v) == order.end())
                order.push_back(v);
        for (qint64 k = 0; k < c.dictionarySize(); ++k)
            QCOMPARE(std::string(c.dictionaryAt(k)), order[size_t(k)]);
        for (qint64 r = 0; r < c.size(); ++r) {
            QCOMPARE(c.isNull(r), sent[size_t(r)].empty());
            if (!c.isNull(r))
                QCOMPARE(std::string(c.stringAt(r)), sent[size_t(r)]);
        }
    }

    void utcMillisMatchQDateTime()
    {
        // The scoring path's time stamps against QDateTime's own ISODateWithMs, on edges and 20,000 random instants
        // from year 1 to 9999 (negative times, leap days and century years included).
        QRandomGenerator rng(7);
        const qint64 first = QDateTime(QDate(1, 1, 1), QTime(0, 0), QTimeZone::utc()).toMSecsSinceEpoch();
        const qint64 last = QDateTime(QDate(9999, 12, 31), QTime(23, 59, 59, 999), QTimeZone::utc()).toMSecsSinceEpoch();
        std::vector<qint64> instants{0, -1, 1, 951782400000, 951868799999, 4107542399999, first, last, -62135596800000};
        for (int i = 0; i < 20000; ++i)
            instants.push_back(first + qint64(rng.generate64() % quint64(last - first + 1)));
        for (const qint64 ms : instants) {
            char text[24];
            QVERIFY(keel::data::formatUtcMillis(ms, text));
            QCOMPARE(QString::fromLatin1(text, 24), QDateTime::fromMSecsSinceEpoch(ms).toUTC().toString(Qt::ISODateWithMs));
            // And back: the parser is the formatter's inverse.
            QCOMPARE(keel::data::parseUtcMillis(std::string_view(text, 24)), std::optional<int64_t>(ms));
        }
        // Anything but that exact form, or an impossible date or time, is not parsed (callers fall back to Qt).
        for (const char *bad : {"2026-02-29T00:00:00.000Z", "2024-13-01T00:00:00.000Z", "2024-04-31T00:00:00.000Z",
                                "2024-01-01T24:00:00.000Z", "2024-01-01T00:60:00.000Z", "2024-01-01T00:00:60.000Z",
                                "2024-01-01T00:00:00.000", "2024-01-01 00:00:00.000Z", "2024-01-01T00:00:00.00xZ",
                                "0000-01-01T00:00:00.000Z", "1900-02-29T00:00:00.000Z", "2024-00-10T00:00:00.000Z", "2024-01-00T00:00:00.000Z",
                                "2024-01-01T00:00:00.000+00:00", ""})
            QVERIFY2(!keel::data::parseUtcMillis(bad), bad);
        QCOMPARE(keel::data::parseUtcMillis("2024-02-29T23:59:59.999Z"),
                 std::optional<int64_t>(QDateTime(QDate(2024, 2, 29), QTime(23, 59, 59, 999), Qt::UTC).toMSecsSinceEpoch()));
        QCOMPARE(keel::data::parseUtcMillis("2000-02-29T00:00:00.000Z"), std::optional<int64_t>(951782400000));
        char text[24];
        QVERIFY(!keel::data::formatUtcMillis(last + 1, text));
        QVERIFY(!keel::data::formatUtcMillis(first - 1, text));
    }

    void builderRoundTrip()
    {
        ColumnBuilder b(ColumnType::Categorical);
        b.appendString("a"); b.appendNull(); b.appendString("b"); b.appendString("a");
        Column c = b.finish(QStringLiteral("x"));
        QCOMPARE(c.size(), 4);
        QCOMPARE(c.nullCount(), 1);
        QVERIFY(c.isNull(1));
        QCOMPARE(c.dictionarySize(), 2);
        QCOMPARE(c.displayAt(3), QStringLiteral("a"));
        ColumnBuilder b2(ColumnType::Categorical);
        b2.appendString("c"); b2.appendString("a");
        Column c2 = b2.finish(QStringLiteral("x"));
        Column all = concatColumns({c, c2});
        QCOMPARE(all.size(), 6);
        QCOMPARE(all.dictionarySize(), 3);
        QCOMPARE(all.displayAt(4), QStringLiteral("c"));
        QCOMPARE(all.displayAt(5), QStringLiteral("a"));
        QVERIFY(all.isNull(1));
        QVERIFY(!all.isNull(5));
    }

    // --- type names ------------------------------------------------------------------------------------------

    void typeNames_data()
    {
        QTest::addColumn<ColumnType>("type");
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("numeric");
        QTest::newRow("int64") << ColumnType::Int64 << QStringLiteral("int64") << true;
        QTest::newRow("float64") << ColumnType::Float64 << QStringLiteral("float64") << true;
        QTest::newRow("bool") << ColumnType::Bool << QStringLiteral("bool") << true;
        QTest::newRow("datetime") << ColumnType::Datetime << QStringLiteral("datetime") << true;
        QTest::newRow("categorical") << ColumnType::Categorical << QStringLiteral("categorical") << false;
        QTest::newRow("string") << ColumnType::String << QStringLiteral("string") << false;
    }
    void typeNames()
    {
        QFETCH(ColumnType, type);
        QFETCH(QString, name);
        QFETCH(bool, numeric);
        QCOMPARE(columnTypeName(type), name);
        QVERIFY(columnTypeFromName(name) == type);
        QVERIFY(columnTypeFromName(name.toUpper()) == type);
        QCOMPARE(isNumericType(type), numeric);
    }

    void typeAliases_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("type");   // -1: not a type name
        QTest::newRow("int") << QStringLiteral("int") << int(ColumnType::Int64);
        QTest::newRow("Integer") << QStringLiteral("Integer") << int(ColumnType::Int64);
        QTest::newRow("padded float") << QStringLiteral("  float ") << int(ColumnType::Float64);
        QTest::newRow("double") << QStringLiteral("double") << int(ColumnType::Float64);
        QTest::newRow("number") << QStringLiteral("number") << int(ColumnType::Float64);
        QTest::newRow("boolean") << QStringLiteral("BOOLEAN") << int(ColumnType::Bool);
        QTest::newRow("date") << QStringLiteral("date") << int(ColumnType::Datetime);
        QTest::newRow("category") << QStringLiteral("category") << int(ColumnType::Categorical);
        QTest::newRow("text") << QStringLiteral("Text") << int(ColumnType::String);
        QTest::newRow("int32") << QStringLiteral("int32") << -1;
        QTest::newRow("empty") << QString() << -1;
        QTest::newRow("inner space") << QStringLiteral("float 64") << -1;
    }
    void typeAliases()
    {
        QFETCH(QString, text);
        QFETCH(int, type);
        const auto parsed = columnTypeFromName(text);
        if (type < 0) {
            QVERIFY(!parsed.has_value());
        } else {
            QVERIFY(parsed.has_value());
            QCOMPARE(int(*parsed), type);
        }
    }

    // --- one type at a time ----------------------------------------------------------------------------------

    void int64Column()
    {
        const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
        ColumnBuilder b(ColumnType::Int64);
        b.appendInt64(0);
        b.appendInt64(-42);
        b.appendNull();
        b.appendInt64(lo);
        b.appendInt64(hi);
        QCOMPARE(b.size(), 5);
        const Column c = b.finish(QStringLiteral("n"));
        QCOMPARE(c.name(), QStringLiteral("n"));
        QCOMPARE(c.type(), ColumnType::Int64);
        QCOMPARE(c.size(), 5);
        QCOMPARE(c.nullCount(), 1);
        QCOMPARE(c.int64At(1), int64_t(-42));
        QCOMPARE(c.int64At(3), lo);
        QCOMPARE(c.int64At(4), hi);
        QCOMPARE(c.int64At(2), int64_t(0));   // missing values hold 0 by convention
        QCOMPARE(c.numberAt(1), -42.0);
        QCOMPARE(c.displayAt(0), QStringLiteral("0"));
        QCOMPARE(c.displayAt(1), QStringLiteral("-42"));
        QCOMPARE(c.displayAt(2), QString());
        QCOMPARE(c.displayAt(3), QStringLiteral("-9223372036854775808"));
        QCOMPARE(c.displayAt(4), QStringLiteral("9223372036854775807"));
        QVERIFY(c.isNull(2) && !c.isValid(2));
        QVERIFY(c.isValid(0) && c.isValid(3) && c.isValid(4));
        QCOMPARE(c.dictionarySize(), 0);   // only categorical columns have a dictionary
    }

    void float64Display_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << 0.0 << QStringLiteral("0");
        // QString::number drops the sign of zero; -0.0 == 0.0, so "0" still reads back as an equal value.
        QTest::newRow("negative zero") << -0.0 << QStringLiteral("0");
        QTest::newRow("integral") << 3.0 << QStringLiteral("3");
        QTest::newRow("one tenth") << 0.1 << QStringLiteral("0.1");
        QTest::newRow("0.1+0.2") << 0.1 + 0.2 << QStringLiteral("0.30000000000000004");
        QTest::newRow("one third") << 1.0 / 3.0 << QStringLiteral("0.3333333333333333");
        QTest::newRow("negative") << -2.5 << QStringLiteral("-2.5");
        QTest::newRow("large") << 1e20 << QStringLiteral("1e+20");
        QTest::newRow("small") << 1.5e-7 << QStringLiteral("1.5e-07");
        QTest::newRow("max") << std::numeric_limits<double>::max() << QStringLiteral("1.7976931348623157e+308");
        QTest::newRow("infinity") << std::numeric_limits<double>::infinity() << QStringLiteral("inf");
        QTest::newRow("-infinity") << -std::numeric_limits<double>::infinity() << QStringLiteral("-inf");
        QTest::newRow("nan") << std::numeric_limits<double>::quiet_NaN() << QStringLiteral("nan");
    }
    void float64Display()
    {
        QFETCH(double, value);
        QFETCH(QString, text);
        ColumnBuilder b(ColumnType::Float64);
        b.appendFloat64(value);
        const Column c = b.finish(QStringLiteral("f"));
        // NaN is a value: only appendNull() makes a missing one.
        QCOMPARE(c.nullCount(), 0);
        QVERIFY(c.isValid(0));
        QCOMPARE(c.displayAt(0), text);
        if (std::isfinite(value)) {
            // Shortest round-trip form: reading the text back gives the very same double.
            bool ok = false;
            QCOMPARE(c.displayAt(0).toDouble(&ok), value);
            QVERIFY(ok);
            QCOMPARE(std::signbit(c.float64At(0)), std::signbit(value));   // the stored value keeps its sign
        } else if (std::isnan(value)) {
            QVERIFY(std::isnan(c.float64At(0)));
            QVERIFY(std::isnan(c.numberAt(0)));
        }
    }

    void float64ShortestRoundTrip()
    {
        // Brute force over awkward doubles: the display text parses back to the same bits, and no shorter text
        // with one significant digit less would (so it really is the shortest).
        std::vector<double> values;
        double x = 1.0;
        for (int i = 0; i < 200; ++i) {
            x = std::fmod(x * 7.3 + 0.123456789, 1000.0);
            values.push_back(x);
            values.push_back(x * 1e-9);
            values.push_back(-x * 1e12);
        }
        ColumnBuilder b(ColumnType::Float64);
        for (double v : values)
            b.appendFloat64(v);
        const Column c = b.finish(QStringLiteral("f"));
        QCOMPARE(c.size(), qint64(values.size()));
        for (qint64 i = 0; i < c.size(); ++i) {
            const QString t = c.displayAt(i);
            QCOMPARE(t.toDouble(), values[size_t(i)]);
            // Significant digits of the mantissa: no leading zeros, and no trailing zeros of a whole number.
            QString mantissa = t.section(QLatin1Char('e'), 0, 0);
            if (!mantissa.contains(QLatin1Char('.'))) {
                while (mantissa.endsWith(QLatin1Char('0')))
                    mantissa.chop(1);
            }
            int significant = 0;
            bool started = false;
            for (QChar ch : mantissa) {
                if (!ch.isDigit())
                    continue;
                if (ch != QLatin1Char('0'))
                    started = true;
                if (started)
                    ++significant;
            }
            if (significant > 1) {
                const QString shorter = QString::number(values[size_t(i)], 'g', significant - 1);
                QVERIFY2(shorter.toDouble() != values[size_t(i)], qPrintable(t + QStringLiteral(" vs ") + shorter));
            }
        }
    }

    void boolColumn()
    {
        ColumnBuilder b(ColumnType::Bool);
        b.appendBool(true);
        b.appendBool(false);
        b.appendNull();
        b.appendBool(true);
        const Column c = b.finish(QStringLiteral("flag"));
        QCOMPARE(c.type(), ColumnType::Bool);
        QCOMPARE(c.size(), 4);
        QCOMPARE(c.nullCount(), 1);
        QCOMPARE(c.boolAt(0), true);
        QCOMPARE(c.boolAt(1), false);
        QCOMPARE(c.boolAt(3), true);
        QCOMPARE(c.numberAt(0), 1.0);
        QCOMPARE(c.numberAt(1), 0.0);
        QCOMPARE(c.displayAt(0), QStringLiteral("true"));
        QCOMPARE(c.displayAt(1), QStringLiteral("false"));
        QCOMPARE(c.displayAt(2), QString());
        QVERIFY(c.isNull(2));
        // One byte per row, 0 or 1.
        QCOMPARE(c.storage().u8.size(), size_t(4));
        QCOMPARE(int(c.storage().u8[0]), 1);
        QCOMPARE(int(c.storage().u8[1]), 0);
    }

    void datetimeDisplay_data()
    {
        QTest::addColumn<qint64>("ms");
        QTest::addColumn<QString>("text");
        // Epoch values computed by hand: days since 1970-01-01 times 86,400,000.
        QTest::newRow("epoch") << qint64(0) << QStringLiteral("1970-01-01");
        QTest::newRow("2011-01-01") << qint64(14975) * 86400000 << QStringLiteral("2011-01-01");
        QTest::newRow("2011-01-01 05:00") << qint64(14975) * 86400000 + 5 * 3600000
                                           << QStringLiteral("2011-01-01T05:00:00");
        QTest::newRow("leap day 2000") << qint64(11016) * 86400000 << QStringLiteral("2000-02-29");
        QTest::newRow("one ms") << qint64(1) << QStringLiteral("1970-01-01T00:00:00.001");
        QTest::newRow("last second of 1999") << qint64(10957) * 86400000 - 1000
                                              << QStringLiteral("1999-12-31T23:59:59");
        QTest::newRow("before epoch") << qint64(-1500) << QStringLiteral("1969-12-31T23:59:58.500");
        QTest::newRow("day before epoch") << qint64(-86400000) << QStringLiteral("1969-12-31");
        QTest::newRow("1900-01-01") << qint64(-25567) * 86400000 << QStringLiteral("1900-01-01");
    }
    void datetimeDisplay()
    {
        QFETCH(qint64, ms);
        QFETCH(QString, text);
        QCOMPARE(formatDatetime(ms), text);
        ColumnBuilder b(ColumnType::Datetime);
        b.appendNull();
        b.appendDatetime(ms);
        const Column c = b.finish(QStringLiteral("when"));
        QCOMPARE(c.type(), ColumnType::Datetime);
        QCOMPARE(c.datetimeAt(1), int64_t(ms));
        QCOMPARE(c.numberAt(1), double(ms));
        QCOMPARE(c.displayAt(1), text);
        QCOMPARE(c.displayAt(0), QString());
        QVERIFY(c.isNull(0));
        // Independent check through QDateTime.
        const QDateTime dt = QDateTime::fromString(text.size() == 10 ? text + QStringLiteral("T00:00:00Z")
                                                                     : text + QStringLiteral("Z"),
                                                   Qt::ISODateWithMs);
        QVERIFY(dt.isValid());
        QCOMPARE(dt.toMSecsSinceEpoch(), ms);
    }

    void categoricalDictionary()
    {
        const RefColumn values = {std::string("red"), std::string("green"), std::nullopt, std::string("red"),
                                  std::string(""), std::string("Zürich"), std::string("green"), std::string("東京")};
        const Column c = buildCategorical(values);
        QCOMPARE(c.type(), ColumnType::Categorical);
        QCOMPARE(c.size(), 8);
        QCOMPARE(c.nullCount(), 1);
        // Dictionary in order of first appearance; "" is a value, not a missing one.
        QCOMPARE(c.dictionarySize(), 5);
        const QStringList dict = {QStringLiteral("red"), QStringLiteral("green"), QString(),
                                  QString::fromUtf8("Zürich"), QString::fromUtf8("東京")};
        for (int i = 0; i < dict.size(); ++i)
            QCOMPARE(fromView(c.dictionaryAt(i)), dict[i]);
        QVERIFY(c.dictionaryAt(5).empty());
        QVERIFY(c.dictionaryAt(-1).empty());
        const std::vector<int32_t> codes = {0, 1, 0, 0, 2, 3, 1, 4};
        for (qint64 row = 0; row < c.size(); ++row) {
            if (row != 2)
                QCOMPARE(c.codeAt(row), codes[size_t(row)]);
            QCOMPARE(c.isNull(row), !values[size_t(row)].has_value());
            const QString expected = values[size_t(row)] ? QString::fromStdString(*values[size_t(row)]) : QString();
            QCOMPARE(c.displayAt(row), expected);
            if (values[size_t(row)])
                QCOMPARE(fromView(c.stringAt(row)), expected);
        }
        QVERIFY(c.isValid(4));   // the empty string
        QVERIFY(std::isnan(c.numberAt(0)));
        QVERIFY(!isNumericType(c.type()));
    }

    void categoricalAllMissing()
    {
        const Column c = buildCategorical({std::nullopt, std::nullopt, std::nullopt});
        QCOMPARE(c.size(), 3);
        QCOMPARE(c.nullCount(), 3);
        QCOMPARE(c.dictionarySize(), 0);
        for (qint64 row = 0; row < 3; ++row) {
            QVERIFY(c.isNull(row));
            QCOMPARE(c.displayAt(row), QString());
        }
    }

    void stringColumn()
    {
        const RefColumn values = {std::string("alpha"), std::nullopt, std::string(""), std::string("a,b \"c\""),
                                  std::string("naïve"), std::nullopt, std::string(300, 'z')};
        const Column c = buildString(values);
        QCOMPARE(c.type(), ColumnType::String);
        QCOMPARE(c.size(), qint64(values.size()));
        QCOMPARE(c.nullCount(), 2);
        QCOMPARE(c.dictionarySize(), 0);
        for (qint64 row = 0; row < c.size(); ++row) {
            const auto &v = values[size_t(row)];
            QCOMPARE(c.isNull(row), !v.has_value());
            if (v) {
                QCOMPARE(fromView(c.stringAt(row)), QString::fromStdString(*v));
                QCOMPARE(c.displayAt(row), QString::fromStdString(*v));
            } else {
                QCOMPARE(c.displayAt(row), QString());
                QVERIFY(c.stringAt(row).empty());   // a missing string takes no bytes
            }
        }
        // rows + 1 offsets into the concatenated bytes.
        QCOMPARE(c.storage().offsets.size(), values.size() + 1);
        size_t bytes = 0;
        for (const auto &v : values)
            bytes += v ? v->size() : 0;
        QCOMPARE(c.storage().bytes.size(), bytes);
    }

    // --- validity --------------------------------------------------------------------------------------------

    void validityExhaustive()
    {
        // Every missing/present pattern of up to 11 rows (crossing a byte boundary of the bitmap), checked
        // against the pattern itself.
        for (int n = 1; n <= 11; ++n) {
            for (uint32_t mask = 0; mask < (1u << n); ++mask) {
                ColumnBuilder b(ColumnType::Int64);
                qint64 nulls = 0;
                for (int i = 0; i < n; ++i) {
                    if (mask & (1u << i)) {
                        b.appendNull();
                        ++nulls;
                    } else {
                        b.appendInt64(i + 100);
                    }
                }
                const Column c = b.finish(QStringLiteral("v"));
                QCOMPARE(c.size(), qint64(n));
                QCOMPARE(c.nullCount(), nulls);
                // No bitmap without missing values; otherwise one bit per row, rounded up to whole bytes.
                QCOMPARE(c.storage().validity.size(), nulls ? size_t((n + 7) / 8) : size_t(0));
                for (int i = 0; i < n; ++i) {
                    const bool missing = mask & (1u << i);
                    if (c.isNull(i) != missing)
                        QFAIL(qPrintable(QStringLiteral("n=%1 mask=%2 row=%3").arg(n).arg(mask).arg(i)));
                    if (!missing && c.int64At(i) != i + 100)
                        QFAIL(qPrintable(QStringLiteral("value n=%1 mask=%2 row=%3").arg(n).arg(mask).arg(i)));
                }
            }
        }
    }

    void validityEveryType_data()
    {
        QTest::addColumn<ColumnType>("type");
        QTest::newRow("int64") << ColumnType::Int64;
        QTest::newRow("float64") << ColumnType::Float64;
        QTest::newRow("bool") << ColumnType::Bool;
        QTest::newRow("datetime") << ColumnType::Datetime;
        QTest::newRow("categorical") << ColumnType::Categorical;
        QTest::newRow("string") << ColumnType::String;
    }
    void validityEveryType()
    {
        QFETCH(ColumnType, type);
        // Rows 0..19; every row divisible by 3 or equal to 8 is missing. Present rows hold i (as text for text types).
        ColumnBuilder b(type);
        std::vector<bool> missing;
        for (int i = 0; i < 20; ++i) {
            const bool m = i % 3 == 0 || i == 8;
            missing.push_back(m);
            if (m) {
                b.appendNull();
                continue;
            }
            switch (type) {
            case ColumnType::Int64: b.appendInt64(i); break;
            case ColumnType::Float64: b.appendFloat64(i); break;
            case ColumnType::Bool: b.appendBool(i % 2); break;
            case ColumnType::Datetime: b.appendDatetime(int64_t(i) * 86400000); break;
            case ColumnType::Categorical:
            case ColumnType::String: b.appendString(std::to_string(i)); break;
            }
        }
        const Column c = b.finish(QStringLiteral("x"));
        QCOMPARE(c.size(), 20);
        QCOMPARE(c.nullCount(), 8);   // 0 3 6 8 9 12 15 18
        for (int i = 0; i < 20; ++i) {
            QCOMPARE(c.isNull(i), bool(missing[size_t(i)]));
            QString expected;
            if (!missing[size_t(i)]) {
                switch (type) {
                case ColumnType::Bool: expected = i % 2 ? QStringLiteral("true") : QStringLiteral("false"); break;
                case ColumnType::Datetime:
                    expected = QStringLiteral("1970-01-%1").arg(i + 1, 2, 10, QLatin1Char('0'));
                    break;
                default: expected = QString::number(i); break;
                }
            }
            QCOMPARE(c.displayAt(i), expected);
        }
    }

    void builderFinishResets()
    {
        ColumnBuilder b(ColumnType::Categorical);
        b.appendString("a");
        b.appendNull();
        b.appendString("b");
        const Column first = b.finish(QStringLiteral("first"));
        QCOMPARE(b.size(), 0);
        QCOMPARE(b.type(), ColumnType::Categorical);
        // The builder starts over: a new dictionary, no leftover missing values.
        b.appendString("c");
        b.appendString("a");
        const Column second = b.finish(QStringLiteral("second"));
        QCOMPARE(second.size(), 2);
        QCOMPARE(second.nullCount(), 0);
        QVERIFY(second.storage().validity.empty());
        QCOMPARE(second.dictionarySize(), 2);
        QCOMPARE(fromView(second.dictionaryAt(0)), QStringLiteral("c"));
        QCOMPARE(second.codeAt(1), 1);
        // The first column is untouched by the reuse.
        QCOMPARE(first.size(), 3);
        QCOMPARE(first.displayAt(0), QStringLiteral("a"));
        QVERIFY(first.isNull(1));
        QCOMPARE(first.displayAt(2), QStringLiteral("b"));

        ColumnBuilder empty(ColumnType::String);
        const Column none = empty.finish(QStringLiteral("none"));
        QCOMPARE(none.size(), 0);
        QCOMPARE(none.nullCount(), 0);
    }

    void columnCopiesShareBuffers()
    {
        Column copy;
        const int64_t *data = nullptr;
        {
            ColumnBuilder b(ColumnType::Int64);
            for (int i = 0; i < 1000; ++i)
                b.appendInt64(int64_t(i) * i);
            const Column original = b.finish(QStringLiteral("sq"));
            data = original.storage().i64.view.data();
            copy = original;
            QCOMPARE(copy.storage().i64.view.data(), data);   // no copy of the values
        }
        // The buffer outlives the original column and its builder.
        QCOMPARE(copy.storage().i64.view.data(), data);
        QCOMPARE(copy.size(), 1000);
        for (int i = 0; i < 1000; i += 97)
            QCOMPARE(copy.int64At(i), int64_t(i) * i);
    }

    // --- tables ----------------------------------------------------------------------------------------------

    void tableBasics()
    {
        const Table t = sampleTable();
        QCOMPARE(t.rowCount(), 4);
        QCOMPARE(t.columnCount(), 6);
        QCOMPARE(t.columnNames(), (QStringList{QStringLiteral("id"), QStringLiteral("score"), QStringLiteral("ok"),
                                                QStringLiteral("day"), QStringLiteral("colour"), QStringLiteral("note")}));
        QCOMPARE(t.column(0).int64At(3), int64_t(40));
        QCOMPARE(t.column(1).displayAt(2), QStringLiteral("2.5"));
        QCOMPARE(t.column(2).displayAt(1), QStringLiteral("false"));
        QCOMPARE(t.column(3).displayAt(3), QStringLiteral("1970-01-04"));
        QCOMPARE(t.column(4).displayAt(3), QStringLiteral("blue"));
        QCOMPARE(t.column(4).dictionarySize(), 2);
        QCOMPARE(t.column(5).displayAt(3), QStringLiteral("xxx"));
        QCOMPARE(t.column(5).displayAt(0), QString());
        QVERIFY(t.column(5).isValid(0));   // "" is a value
        QCOMPARE(int(t.columns().size()), 6);

        const Table empty;
        QCOMPARE(empty.rowCount(), 0);
        QCOMPARE(empty.columnCount(), 0);
        QVERIFY(empty.schema().empty());
        QVERIFY(empty.columnNames().isEmpty());
        QCOMPARE(empty.indexOf(u"id"), -1);
    }

    void indexOf_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("index");
        QTest::newRow("first") << QStringLiteral("id") << 0;
        QTest::newRow("middle") << QStringLiteral("day") << 3;
        QTest::newRow("last") << QStringLiteral("note") << 5;
        QTest::newRow("case matters") << QStringLiteral("ID") << -1;
        QTest::newRow("prefix") << QStringLiteral("col") << -1;
        QTest::newRow("trailing space") << QStringLiteral("id ") << -1;
        QTest::newRow("empty") << QString() << -1;
    }
    void indexOf()
    {
        QFETCH(QString, name);
        QFETCH(int, index);
        const Table t = sampleTable();
        QCOMPARE(t.indexOf(name), index);
        if (index >= 0)
            QCOMPARE(t.column(index).name(), name);
    }

    void indexOfDuplicateNames()
    {
        ColumnBuilder a(ColumnType::Int64), b(ColumnType::Int64);
        a.appendInt64(1);
        b.appendInt64(2);
        const Table t({a.finish(QStringLiteral("x")), b.finish(QStringLiteral("x"))});
        QCOMPARE(t.indexOf(u"x"), 0);   // the first column of that name
    }

    void schema()
    {
        const Table t = sampleTable();
        const std::vector<Field> expected = {{QStringLiteral("id"), ColumnType::Int64},
                                             {QStringLiteral("score"), ColumnType::Float64},
                                             {QStringLiteral("ok"), ColumnType::Bool},
                                             {QStringLiteral("day"), ColumnType::Datetime},
                                             {QStringLiteral("colour"), ColumnType::Categorical},
                                             {QStringLiteral("note"), ColumnType::String}};
        QVERIFY(t.schema() == expected);

        // Same names and types, other values and row count: the same schema.
        ColumnBuilder id(ColumnType::Int64), score(ColumnType::Float64), ok(ColumnType::Bool),
            day(ColumnType::Datetime), colour(ColumnType::Categorical), note(ColumnType::String);
        id.appendNull();
        score.appendFloat64(-1);
        ok.appendNull();
        day.appendNull();
        colour.appendString("green");
        note.appendNull();
        const Table other({id.finish(QStringLiteral("id")), score.finish(QStringLiteral("score")),
                           ok.finish(QStringLiteral("ok")), day.finish(QStringLiteral("day")),
                           colour.finish(QStringLiteral("colour")), note.finish(QStringLiteral("note"))});
        QCOMPARE(other.rowCount(), 1);
        QVERIFY(other.schema() == t.schema());

        // A different type, a different name or a different order is a different schema.
        std::vector<Field> retyped = expected;
        retyped[4].type = ColumnType::String;
        QVERIFY(!(t.schema() == retyped));
        std::vector<Field> renamed = expected;
        renamed[0].name = QStringLiteral("Id");
        QVERIFY(!(t.schema() == renamed));
        std::vector<Field> swapped = expected;
        std::swap(swapped[0], swapped[1]);
        QVERIFY(!(t.schema() == swapped));
        std::vector<Field> shorter(expected.begin(), expected.end() - 1);
        QVERIFY(!(t.schema() == shorter));

        QVERIFY((Field{QStringLiteral("a"), ColumnType::Int64}) == (Field{QStringLiteral("a"), ColumnType::Int64}));
        QVERIFY(!((Field{QStringLiteral("a"), ColumnType::Int64}) == (Field{QStringLiteral("a"), ColumnType::Float64})));
    }

    // --- concatenation ---------------------------------------------------------------------------------------

    void concatText_data()
    {
        QTest::addColumn<ColumnType>("type");
        QTest::addColumn<int>("seed");
        for (int seed = 1; seed <= 6; ++seed) {
            QTest::addRow("categorical %d", seed) << ColumnType::Categorical << seed;
            QTest::addRow("string %d", seed) << ColumnType::String << seed;
        }
    }
    void concatText()
    {
        QFETCH(ColumnType, type);
        QFETCH(int, seed);
        // Parts of varying length drawing values from overlapping pools, some parts all missing, some without
        // any missing value; the concatenation must read exactly like the parts one after the other.
        uint32_t state = uint32_t(seed) * 2654435761u;
        auto next = [&state] {
            state = state * 1664525u + 1013904223u;
            return state >> 8;
        };
        std::vector<Column> parts;
        RefColumn reference;
        const int partCount = 1 + int(next() % 5);
        for (int p = 0; p < partCount; ++p) {
            RefColumn values;
            const int rows = int(next() % 13);
            const int missingEvery = int(next() % 4);   // 0: none missing, 1: all missing
            for (int r = 0; r < rows; ++r) {
                if (missingEvery && r % missingEvery == 0)
                    values.push_back(std::nullopt);
                else
                    values.push_back("v" + std::to_string((next() % 6) + 2 * p));
            }
            parts.push_back(type == ColumnType::Categorical ? buildCategorical(values, QStringLiteral("x"))
                                                            : buildString(values, QStringLiteral("x")));
            reference.insert(reference.end(), values.begin(), values.end());
        }
        const Column all = concatColumns(parts);
        QCOMPARE(all.type(), type);
        QCOMPARE(all.name(), QStringLiteral("x"));
        QCOMPARE(all.size(), qint64(reference.size()));
        qint64 nulls = 0;
        std::vector<std::string> distinct;
        for (size_t i = 0; i < reference.size(); ++i) {
            const auto &v = reference[i];
            QCOMPARE(all.isNull(qint64(i)), !v.has_value());
            QCOMPARE(all.displayAt(qint64(i)), v ? QString::fromStdString(*v) : QString());
            if (!v)
                ++nulls;
            else if (std::find(distinct.begin(), distinct.end(), *v) == distinct.end())
                distinct.push_back(*v);
        }
        QCOMPARE(all.nullCount(), nulls);
        if (type == ColumnType::Categorical && partCount > 1) {
            // The merged dictionary holds each value once.
            QCOMPARE(all.dictionarySize(), qint64(distinct.size()));
        }
    }

    void concatNumbers()
    {
        // A part without a bitmap followed by one with missing values, and back.
        ColumnBuilder a(ColumnType::Float64), b(ColumnType::Float64), c(ColumnType::Float64);
        a.appendFloat64(1.5);
        a.appendFloat64(2.5);
        b.appendNull();
        b.appendFloat64(-3);
        c.appendFloat64(4);
        const Column all = concatColumns({a.finish(QStringLiteral("f")), b.finish(QStringLiteral("f")),
                                          c.finish(QStringLiteral("f"))});
        QCOMPARE(all.size(), 5);
        QCOMPARE(all.nullCount(), 1);
        const QStringList expected = {QStringLiteral("1.5"), QStringLiteral("2.5"), QString(), QStringLiteral("-3"),
                                      QStringLiteral("4")};
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(all.displayAt(i), expected[i]);
            QCOMPARE(all.isNull(i), i == 2);
        }

        ColumnBuilder x(ColumnType::Int64), y(ColumnType::Int64);
        x.appendInt64(7);
        y.appendInt64(8);
        const Column ints = concatColumns({x.finish(QStringLiteral("i")), y.finish(QStringLiteral("i"))});
        QCOMPARE(ints.nullCount(), 0);
        QVERIFY(ints.storage().validity.empty());
        QCOMPARE(ints.int64At(0), int64_t(7));
        QCOMPARE(ints.int64At(1), int64_t(8));

        QCOMPARE(concatColumns({}).size(), 0);
    }
};

QTEST_GUILESS_MAIN(TstTable)
#include "tst_table.moc"
