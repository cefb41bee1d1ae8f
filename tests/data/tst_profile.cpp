#include "data/profile.h"
#include "data/radixsort.h"
#include "data/reader.h"

#include <QFile>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTest>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>

using namespace keel;
using namespace keel::data;

namespace {

// A generated column plus the raw values it was built from, for brute-force references.
struct Sample {
    Column column;
    std::vector<std::optional<double>> numbers;      // numeric types (NaN included as a value)
    std::vector<std::optional<std::string>> texts;   // categorical / string / bool ("true"/"false")
    std::vector<std::string> exact;                   // exact text of each present numeric value (distinct)
};

Sample generate(const QString &kind, quint32 seed)
{
    QRandomGenerator rng(seed);
    Sample s;
    auto chance = [&rng](double p) { return rng.generateDouble() < p; };
    if (kind == u"int64 small" || kind == u"int64 huge" || kind == u"constant") {
        ColumnBuilder b(ColumnType::Int64);
        const int n = kind == u"constant" ? 3000 : 5000;
        for (int i = 0; i < n; ++i) {
            if (kind != u"constant" && chance(0.1)) {
                b.appendNull();
                s.numbers.push_back(std::nullopt);
                continue;
            }
            int64_t v = 5;
            if (kind == u"int64 small")
                v = 17 + int64_t(rng.bounded(74));
            else if (kind == u"int64 huge")
                v = (int64_t(1) << 60) + int64_t(rng.bounded(50)); // distinct in int64, not in double
            b.appendInt64(v);
            s.numbers.push_back(double(v));
            s.exact.push_back(std::to_string(v));
        }
        s.column = b.finish(QStringLiteral("x"));
    } else if (kind == u"float64" || kind == u"float64 tiny") {
        ColumnBuilder b(ColumnType::Float64);
        const int n = kind == u"float64" ? 3000 : 7;
        for (int i = 0; i < n; ++i) {
            if (i % 11 == 3 || chance(0.05)) {
                b.appendNull();
                s.numbers.push_back(std::nullopt);
                continue;
            }
            double v = (rng.generateDouble() - 0.3) * 1000.0;
            if (i % 17 == 1)
                v = std::nan("");
            else if (i % 23 == 2)
                v = -0.0;
            else if (i % 23 == 5)
                v = 0.0;
            b.appendFloat64(v);
            s.numbers.push_back(v);
            if (!std::isnan(v))
                s.exact.push_back(QString::number(v == 0 ? 0.0 : v, 'g', 17).toStdString());
        }
        s.column = b.finish(QStringLiteral("x"));
    } else if (kind.startsWith(u"float64 ")) {
        // "few": enough rows for the profile to count distinct values instead of sorting (at most one in 16); "just
        // too many": 2000 distinct values in 20,000 rows, so counting gives up part way and sorts after all. Decimal
        // text as a CSV writes it, parsed to the nearest double: cents from -50.00 to 49.99 (few units for the rows:
        // counted by units), one to four places mixed (ten-thousandths), three places over 10^7 units (sorted as units).
        ColumnBuilder b(ColumnType::Float64);
        auto decimal = [](double v, int places) {
            return std::strtod(QString::number(v, 'f', places).toLatin1().constData(), nullptr);
        };
        const int n = kind == u"float64 wide decimals" ? 30000 : 20000;
        for (int i = 0; i < n; ++i) {
            if (i % 13 == 3) {
                b.appendNull();
                s.numbers.push_back(std::nullopt);
                continue;
            }
            double v = 0;
            if (kind == u"float64 few" || kind == u"float64 just too many")
                v = (double(rng.bounded(kind == u"float64 few" ? 300 : 2000)) - 100.0) / 8.0;
            else if (kind == u"float64 cents")
                v = decimal((int(rng.bounded(10000)) - 5000) / 100.0, 2);
            else if (kind == u"float64 places")
                v = decimal(double(int(rng.bounded(20000)) - 10000) / 10000.0, 1 + i % 4);
            else
                v = decimal(double(rng.bounded(10000000)) / 1000.0, 3);
            if (i % 29 == 1)
                v = std::nan("");
            else if (i % 31 == 2)
                v = -0.0;
            b.appendFloat64(v);
            s.numbers.push_back(v);
            if (!std::isnan(v))
                s.exact.push_back(QString::number(v == 0 ? 0.0 : v, 'g', 17).toStdString());
        }
        s.column = b.finish(QStringLiteral("x"));
    } else if (kind == u"datetime days") {
        // Dates without a time (midnight UTC), before and after 1970: counted in days.
        ColumnBuilder b(ColumnType::Datetime);
        for (int i = 0; i < 6000; ++i) {
            if (chance(0.05)) {
                b.appendNull();
                s.numbers.push_back(std::nullopt);
                continue;
            }
            const int64_t v = (int64_t(rng.bounded(3000)) - 1000) * 86400000;
            b.appendDatetime(v);
            s.numbers.push_back(double(v));
            s.exact.push_back(std::to_string(v));
        }
        s.column = b.finish(QStringLiteral("x"));
    } else if (kind == u"int64 halves") {
        // 0 and 1, 4096 rows each: the median falls between the last 0 and the first 1 (a run boundary when counted).
        ColumnBuilder b(ColumnType::Int64);
        for (int i = 0; i < 8192; ++i) {
            b.appendInt64(i % 2);
            s.numbers.push_back(double(i % 2));
            s.exact.push_back(std::to_string(i % 2));
        }
        s.column = b.finish(QStringLiteral("x"));
    } else if (kind == u"int64 extremes") {
        // The smallest int64 has the all-zero sort key, which the counting table keeps on the side.
        ColumnBuilder b(ColumnType::Int64);
        const int64_t pick[] = {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), -1, 0, 1,
                                int64_t(1) << 53, -(int64_t(1) << 53)};
        for (int i = 0; i < 9000; ++i) {
            const int64_t v = pick[rng.bounded(7)];
            b.appendInt64(v);
            s.numbers.push_back(double(v));
            s.exact.push_back(std::to_string(v));
        }
        s.column = b.finish(QStringLiteral("x"));
    } else if (kind == u"bool") {
        ColumnBuilder b(ColumnType::Bool);
        for (int i = 0; i < 2500; ++i) {
            if (chance(0.08)) {
                b.appendNull();
                s.numbers.push_back(std::nullopt);
                s.texts.push_back(std::nullopt);
                continue;
            }
            const bool v = chance(0.3);
            b.appendBool(v);
            s.numbers.push_back(v ? 1.0 : 0.0);
            s.texts.push_back(v ? "true" : "false");
            s.exact.push_back(v ? "1" : "0");
        }
        s.column = b.finish(QStringLiteral("x"));
    } else if (kind == u"datetime") {
        ColumnBuilder b(ColumnType::Datetime);
        const int64_t start = 1293840000000; // 2011-01-01
        for (int i = 0; i < 4000; ++i) {
            if (chance(0.07)) {
                b.appendNull();
                s.numbers.push_back(std::nullopt);
                continue;
            }
            const int64_t v = start + int64_t(rng.bounded(17520)) * 3600000 + (i % 3 == 0 ? 1234 : 0);
            b.appendDatetime(v);
            s.numbers.push_back(double(v));
            s.exact.push_back(std::to_string(v));
        }
        s.column = b.finish(QStringLiteral("x"));
    } else if (kind == u"categorical" || kind == u"string" || kind == u"ties") {
        const bool categorical = kind != u"string";
        ColumnBuilder b(categorical ? ColumnType::Categorical : ColumnType::String);
        static const char *words[] = {"Private", "Self-emp", "Local-gov", "State-gov", "Federal-gov", "Without-pay",
                                      "Never-worked", "a", "b", "c", "d", "e", "f", "g", "h", "", "Zoë"};
        const int n = kind == u"ties" ? 12 * 4 : 6000;
        for (int i = 0; i < n; ++i) {
            if (kind == u"ties") {
                // 12 values, 4 rows each: the top 10 is decided by value order alone.
                const std::string v = "v" + std::to_string(11 - (i % 12));
                b.appendString(v);
                s.texts.push_back(v);
                continue;
            }
            if (chance(0.06)) {
                b.appendNull();
                s.texts.push_back(std::nullopt);
                continue;
            }
            const double u = rng.generateDouble();
            const size_t idx = size_t(u * u * 17.0); // skewed towards the first words
            std::string v = words[std::min<size_t>(idx, 16)];
            if (!categorical && chance(0.2))
                v = "id-" + std::to_string(i);
            b.appendString(v);
            s.texts.push_back(v);
        }
        s.column = b.finish(QStringLiteral("x"));
    } else if (kind == u"all missing") {
        ColumnBuilder b(ColumnType::Float64);
        for (int i = 0; i < 10; ++i) {
            b.appendNull();
            s.numbers.push_back(std::nullopt);
        }
        s.column = b.finish(QStringLiteral("x"));
    } else if (kind == u"empty") {
        ColumnBuilder b(ColumnType::Int64);
        s.column = b.finish(QStringLiteral("x"));
    }
    return s;
}

double numpyQuantile(const std::vector<double> &sorted, double p)
{
    const double h = (double(sorted.size()) - 1.0) * p;
    const size_t lo = size_t(std::floor(h));
    if (lo + 1 >= sorted.size())
        return sorted[lo];
    return sorted[lo] + (h - double(lo)) * (sorted[lo + 1] - sorted[lo]);
}

bool close(double a, double b, double rel = 1e-12)
{
    return std::abs(a - b) <= rel * std::max({1.0, std::abs(a), std::abs(b)});
}

void compareProfiles(const ColumnProfile &a, const ColumnProfile &b)
{
    QCOMPARE(a.name, b.name);
    QCOMPARE(a.type, b.type);
    QCOMPARE(a.count, b.count);
    QCOMPARE(a.missing, b.missing);
    QCOMPARE(a.distinct, b.distinct);
    QCOMPARE(a.min, b.min);
    QCOMPARE(a.max, b.max);
    QCOMPARE(a.mean, b.mean);
    QCOMPARE(a.std, b.std);
    QCOMPARE(a.quantiles.size(), b.quantiles.size());
    for (size_t i = 0; i < a.quantiles.size(); ++i) {
        QCOMPARE(a.quantiles[i].p, b.quantiles[i].p);
        QCOMPARE(a.quantiles[i].value, b.quantiles[i].value);
    }
    QCOMPARE(a.topCategories.size(), b.topCategories.size());
    for (size_t i = 0; i < a.topCategories.size(); ++i) {
        QCOMPARE(a.topCategories[i].value, b.topCategories[i].value);
        QCOMPARE(a.topCategories[i].count, b.topCategories[i].count);
    }
    QCOMPARE(a.histogram.edges, b.histogram.edges);
    QCOMPARE(a.histogram.counts, b.histogram.counts);
}

Table mixedTable()
{
    std::vector<Column> cols;
    const QStringList kinds = {QStringLiteral("int64 small"), QStringLiteral("float64"), QStringLiteral("bool"),
                               QStringLiteral("datetime"), QStringLiteral("categorical"), QStringLiteral("string"),
                               QStringLiteral("int64 huge")};
    // Equal lengths: take the first 2500 rows of each generated column.
    quint32 seed = 7;
    for (const QString &k : kinds) {
        const Column c = generate(k, seed++).column;
        ColumnBuilder b(c.type());
        for (qint64 r = 0; r < 2500; ++r) {
            if (c.isNull(r)) {
                b.appendNull();
                continue;
            }
            switch (c.type()) {
            case ColumnType::Int64: b.appendInt64(c.int64At(r)); break;
            case ColumnType::Float64: b.appendFloat64(c.float64At(r)); break;
            case ColumnType::Bool: b.appendBool(c.boolAt(r)); break;
            case ColumnType::Datetime: b.appendDatetime(c.datetimeAt(r)); break;
            default: b.appendString(c.stringAt(r)); break;
            }
        }
        QString name = k;
        name.replace(QLatin1Char(' '), QLatin1Char('_'));
        cols.push_back(b.finish(name));
    }
    return Table(std::move(cols));
}

QString adultPath() { return QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_train.csv"); }

// The raw adult file split by hand: it has no embedded commas or quotes inside fields.
std::vector<QStringList> adultRawRows()
{
    QFile f(adultPath());
    if (!f.open(QIODevice::ReadOnly))
        return {};
    std::vector<QStringList> rows;
    bool header = true;
    while (!f.atEnd()) {
        const QString line = QString::fromUtf8(f.readLine()).trimmed();
        if (line.isEmpty())
            continue;
        if (header) {
            header = false;
            continue;
        }
        rows.push_back(line.split(QLatin1Char(',')));
    }
    return rows;
}

} // namespace

class TstProfile : public QObject {
    Q_OBJECT
private slots:
    void radixSortAgainstStdSort()
    {
        // The profile's and the drift statistics' sort against std::sort: random keys, keys whose high digits are all
        // equal (passes skipped), sorted and reversed input, all equal, and the float keys' order (-inf < -1 < -0 =
        // +0 < 1 < inf), lognormal floats (uneven digits), and keys crowded into one narrow range, with duplicates.
        QRandomGenerator rng(5);
        std::vector<keel::data::KeyBuffer> inputs(8);
        std::lognormal_distribution<double> lognormal(3.0, 2.0);
        std::mt19937_64 engine(9);
        for (int i = 0; i < 200000; ++i)
            inputs[6].push_back(keel::data::floatKey(std::round(lognormal(engine) * 1000) / 1000));
        for (int i = 0; i < 100000; ++i)
            inputs[7].push_back(i % 10 == 0 ? rng.generate64() : (uint64_t(1) << 40) + rng.bounded(1 << 20));
        for (int i = 0; i < 100000; ++i) {
            inputs[0].push_back(rng.generate64());
            inputs[1].push_back(uint64_t(rng.bounded(5000)) << 13 | 0x7700000000000000ULL);
            inputs[2].push_back(uint64_t(i) * 3);
            inputs[3].push_back(uint64_t(100000 - i) * 7);
            inputs[4].push_back(42);
        }
        inputs[2][50000] = 1;   // sorted but for one key
        for (double v : {1.0, -0.0, 0.0, -1.0, std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                         1e-300, -1e300, 0.5})
            for (int i = 0; i < 500; ++i)
                inputs[5].push_back(keel::data::floatKey(v * (1 + i * 1e-9)));
        for (keel::data::KeyBuffer &keys : inputs) {
            keel::data::KeyBuffer want = keys;
            std::sort(want.begin(), want.end());
            QVERIFY(keel::data::radixSort(keys));
            QVERIFY(keys == want);
        }
        std::vector<double> back;
        for (uint64_t k : inputs[5])
            back.push_back(keel::data::floatFromKey(k));
        QVERIFY(std::is_sorted(back.begin(), back.end()));
        QCOMPARE(back.front(), -std::numeric_limits<double>::infinity());
        QCOMPARE(back.back(), std::numeric_limits<double>::infinity());
    }

    void bruteForce_data()
    {
        QTest::addColumn<QString>("kind");
        for (const char *k : {"int64 small", "int64 huge", "int64 extremes", "int64 halves", "constant", "float64", "float64 tiny",
                              "float64 few", "float64 just too many", "float64 cents", "float64 places", "float64 wide decimals", "bool",
                              "datetime", "datetime days", "categorical", "string", "ties",
                              "all missing", "empty"})
            QTest::newRow(k) << QString::fromLatin1(k);
    }
    void bruteForce()
    {
        QFETCH(QString, kind);
        const Sample s = generate(kind, 42);
        auto got = profileColumn(s.column);
        QVERIFY2(got.hasValue(), qPrintable(got.message()));
        const ColumnProfile &p = *got;
        QCOMPARE(p.name, QStringLiteral("x"));
        QCOMPARE(p.type, s.column.type());
        QCOMPARE(p.count, s.column.size());

        if (isNumericType(s.column.type())) {
            std::vector<double> v;
            for (const auto &x : s.numbers)
                if (x && !std::isnan(*x))
                    v.push_back(*x);
            std::sort(v.begin(), v.end());
            QCOMPARE(p.missing, qint64(s.numbers.size() - v.size()));
            QCOMPARE(p.distinct, qint64(std::set<std::string>(s.exact.begin(), s.exact.end()).size()));
            if (v.empty()) {
                QVERIFY(!p.min && !p.max && !p.mean && !p.std);
                QVERIFY(p.quantiles.empty());
                QVERIFY(p.histogram.counts.empty());
                return;
            }
            const bool dt = s.column.type() == ColumnType::Datetime;
            QCOMPARE(*p.min, v.front());
            QCOMPARE(*p.max, v.back());
            double sum = 0;
            for (double x : v)
                sum += x;
            const double mean = sum / double(v.size());
            QVERIFY2(close(*p.mean, dt ? std::round(mean) : mean), qPrintable(QString::number(*p.mean, 'g', 17)));
            double ss = 0;
            for (double x : v)
                ss += (x - mean) * (x - mean);
            if (v.size() >= 2)
                QVERIFY2(close(*p.std, std::sqrt(ss / double(v.size() - 1)), 1e-9), qPrintable(QString::number(*p.std)));
            const double levels[] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};
            QCOMPARE(p.quantiles.size(), size_t(7));
            for (size_t i = 0; i < 7; ++i) {
                QCOMPARE(p.quantiles[i].p, levels[i]);
                const double q = numpyQuantile(v, levels[i]);
                QVERIFY2(close(p.quantiles[i].value, dt ? std::round(q) : q), qPrintable(QString::number(levels[i])));
            }
            // Histogram: edges lo + i (hi - lo) / 20, bin i = [e_i, e_i+1), the last bin closed.
            if (v.front() == v.back()) {
                QCOMPARE(p.histogram.edges, (std::vector<double>{v.front(), v.back()}));
                QCOMPARE(p.histogram.counts, (std::vector<qint64>{qint64(v.size())}));
            } else {
                QCOMPARE(p.histogram.edges.size(), size_t(21));
                QCOMPARE(p.histogram.counts.size(), size_t(20));
                std::vector<qint64> counts(20, 0);
                const auto &e = p.histogram.edges;
                for (int i = 0; i < 20; ++i) {
                    const double expectEdge = v.front() + (v.back() - v.front()) / 20.0 * i;
                    QVERIFY(std::abs(e[size_t(i)] - (dt ? std::round(expectEdge) : expectEdge)) < 1e-9 * (1 + std::abs(expectEdge)));
                }
                QCOMPARE(e.back(), v.back());
                for (double x : v) {
                    int bin = 19;
                    for (int i = 0; i < 20; ++i)
                        if (x >= e[size_t(i)] && x < e[size_t(i) + 1]) {
                            bin = i;
                            break;
                        }
                    ++counts[size_t(bin)];
                }
                QCOMPARE(p.histogram.counts, counts);
            }
        } else {
            QVERIFY(!p.min && !p.mean);
        }

        if (!s.texts.empty() || s.column.type() == ColumnType::Categorical || s.column.type() == ColumnType::String) {
            std::map<std::string, qint64> counts;
            qint64 missing = 0;
            for (const auto &t : s.texts) {
                if (t)
                    ++counts[*t];
                else
                    ++missing;
            }
            QCOMPARE(p.missing, missing);
            QCOMPARE(p.distinct, qint64(counts.size()));
            std::vector<std::pair<std::string, qint64>> sorted(counts.begin(), counts.end());
            std::stable_sort(sorted.begin(), sorted.end(),
                             [](const auto &a, const auto &b) { return a.second > b.second; });
            QCOMPARE(p.topCategories.size(), std::min<size_t>(10, sorted.size()));
            for (size_t i = 0; i < p.topCategories.size(); ++i) {
                QCOMPARE(p.topCategories[i].value, QString::fromStdString(sorted[i].first));
                QCOMPARE(p.topCategories[i].count, sorted[i].second);
            }
        } else {
            QVERIFY(p.topCategories.empty());
        }
    }

    void tiesByValue()
    {
        const ColumnProfile p = *profileColumn(generate(QStringLiteral("ties"), 1).column);
        QCOMPARE(p.topCategories.size(), size_t(10));
        QCOMPARE(p.topCategories.front().value, QStringLiteral("v0"));
        QCOMPARE(p.topCategories[1].value, QStringLiteral("v1"));
        QCOMPARE(p.topCategories[2].value, QStringLiteral("v10")); // byte order: "v1" < "v10" < "v11" < "v2"
        QCOMPARE(p.topCategories.back().value, QStringLiteral("v7"));
    }

    // Integers in a narrow range are counted by value, other numbers hashed or sorted: the same values as int64 (and
    // 0/1 as bool) and as float64 must give the same statistics, bit for bit. Spans on both sides of the limits
    // (2^20 values, one per row), negative values, int64's extremes, and missing values.
    void narrowIntegersCountedLikeSorted_data()
    {
        QTest::addColumn<qint64>("rows");
        QTest::addColumn<qint64>("low");
        QTest::addColumn<qint64>("span");
        QTest::newRow("weekdays") << qint64(50000) << qint64(0) << qint64(7);
        QTest::newRow("negative") << qint64(50000) << qint64(-700) << qint64(1500);
        QTest::newRow("span just under rows") << qint64(3000) << qint64(10) << qint64(2999);
        QTest::newRow("span of rows") << qint64(3000) << qint64(10) << qint64(3000);
        QTest::newRow("span 2^20") << qint64(3000000) << qint64(-5) << (qint64(1) << 20);
        QTest::newRow("span 2^20 + 1") << qint64(3000000) << qint64(-5) << (qint64(1) << 20) + 1;
        QTest::newRow("near -2^53") << qint64(5000) << -(qint64(1) << 53) << qint64(40);
    }
    void narrowIntegersCountedLikeSorted()
    {
        QFETCH(qint64, rows);
        QFETCH(qint64, low);
        QFETCH(qint64, span);
        std::mt19937_64 engine(uint64_t(rows + span));
        ColumnBuilder ints(ColumnType::Int64), floats(ColumnType::Float64), flags(ColumnType::Bool),
            flagFloats(ColumnType::Float64);
        for (qint64 r = 0; r < rows; ++r) {
            if (engine() % 13 == 0) {
                ints.appendNull();
                floats.appendNull();
                flags.appendNull();
                flagFloats.appendNull();
                continue;
            }
            // Both ends of the span appear; the rest is uniform inside it.
            const qint64 off = r == 0 ? 0 : r == 1 ? span - 1 : qint64(engine() % uint64_t(span));
            const qint64 v = qint64(uint64_t(low) + uint64_t(off));
            ints.appendInt64(v);
            floats.appendFloat64(double(v));
            const bool bit = (engine() & 3) == 0;
            flags.appendBool(bit);
            flagFloats.appendFloat64(bit ? 1.0 : 0.0);
        }
        const Column asInt = ints.finish(QStringLiteral("x")), asFloat = floats.finish(QStringLiteral("x"));
        auto a = profileColumn(asInt), b = profileColumn(asFloat);
        QVERIFY(a && b);
        QCOMPARE(a->missing, b->missing);
        QCOMPARE(a->distinct, b->distinct);
        QCOMPARE(*a->min, *b->min);
        QCOMPARE(*a->max, *b->max);
        QCOMPARE(*a->mean, *b->mean);
        QCOMPARE(*a->std, *b->std);
        QCOMPARE(a->quantiles.size(), b->quantiles.size());
        for (size_t i = 0; i < a->quantiles.size(); ++i)
            QCOMPARE(a->quantiles[i].value, b->quantiles[i].value);
        QCOMPARE(a->histogram.edges, b->histogram.edges);
        QCOMPARE(a->histogram.counts, b->histogram.counts);
        auto f = profileColumn(flags.finish(QStringLiteral("f"))), g = profileColumn(flagFloats.finish(QStringLiteral("f")));
        QVERIFY(f && g);
        QCOMPARE(f->distinct, g->distinct);
        QCOMPARE(*f->mean, *g->mean);
        QCOMPARE(*f->std, *g->std);
        for (size_t i = 0; i < f->quantiles.size(); ++i)
            QCOMPARE(f->quantiles[i].value, g->quantiles[i].value);
        QCOMPARE(f->histogram.counts, g->histogram.counts);
    }

    // Counted keys add value x copies at once: on integers the mean is exact and the standard deviation is within an
    // ulp or two of the exact one (computed here in 128-bit integers), where adding the copies one by one drifted.
    void countedMomentsExact()
    {
        std::mt19937_64 engine(3);
        ColumnBuilder ints(ColumnType::Int64);
        const qint64 rows = 2'000'000;
        __int128 s1 = 0, s2 = 0;
        for (qint64 r = 0; r < rows; ++r) {
            const qint64 v = qint64(engine() % 7) * 1000 + 3;
            ints.appendInt64(v);
            s1 += v;
            s2 += __int128(v) * v;
        }
        auto p = profileColumn(ints.finish(QStringLiteral("x")));
        QVERIFY(p);
        QCOMPARE(p->distinct, qint64(7));
        const long double mean = (long double)s1 / (long double)rows;
        QCOMPARE(*p->mean, double(mean));
        const __int128 num = __int128(rows) * s2 - s1 * s1;   // exact: n^2 * (n-1)/n * variance
        const long double variance = (long double)num / ((long double)rows * (long double)(rows - 1));
        const double exact = double(std::sqrt(variance));
        QVERIFY2(std::abs(*p->std - exact) <= 2 * std::abs(std::nextafter(exact, 0.0) - exact),
                 qPrintable(QStringLiteral("%1 vs %2").arg(*p->std, 0, 'g', 17).arg(exact, 0, 'g', 17)));
    }

    // Decimals are counted by units when there are few units for the rows, and sorted as units otherwise. The same
    // distinct values must give the same profile both ways, bit for bit: 50,000 distinct cents over 400,000 units,
    // sorted; then with 400,000 NaN rows added, which makes the units few enough to count.
    void decimalsCountedLikeSorted()
    {
        std::mt19937_64 engine(11);
        std::set<int64_t> picked;
        while (picked.size() < 50000)
            picked.insert(int64_t(engine() % 400000) - 200000);
        std::vector<int64_t> cents(picked.begin(), picked.end());
        std::shuffle(cents.begin(), cents.end(), engine);
        ColumnBuilder sortedUnits(ColumnType::Float64), countedUnits(ColumnType::Float64);
        for (int64_t c : cents) {
            const double v = std::strtod(QString::number(double(c) / 100.0, 'f', 2).toLatin1().constData(), nullptr);
            sortedUnits.appendFloat64(v);
            countedUnits.appendFloat64(v);
        }
        for (int i = 0; i < 400000; ++i)   // rows beyond the span of units: counted
            countedUnits.appendFloat64(std::nan(""));
        auto a = profileColumn(sortedUnits.finish(QStringLiteral("x")));
        auto b = profileColumn(countedUnits.finish(QStringLiteral("x")));
        QVERIFY(a && b);
        QCOMPARE(a->missing, qint64(0));
        QCOMPARE(b->missing, qint64(400000));
        b->missing = a->missing;
        b->count = a->count;
        compareProfiles(*a, *b);
        QCOMPARE(a->distinct, qint64(50000));
        QCOMPARE(*a->min, double(*picked.begin()) / 100.0);
        QCOMPARE(*a->max, double(*picked.rbegin()) / 100.0);
    }

    // Sorting with the bits the keys differ in (what the profile passes for integers and decimal units) against
    // std::sort: keys that share every bit above the hint, hints on and off a digit boundary.
    void radixSortWithDifferingBits()
    {
        std::mt19937_64 engine(17);
        for (int bits : {1, 12, 13, 14, 26, 27, 39, 52, 64}) {
            keel::data::KeyBuffer keys;
            const uint64_t high = bits == 64 ? 0 : (engine() >> bits) << bits;   // the same in every key
            const uint64_t low = bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
            for (int i = 0; i < 60000; ++i)
                keys.push_back(high | (engine() & low));
            uint64_t lo = *std::min_element(keys.begin(), keys.end()), hi = *std::max_element(keys.begin(), keys.end());
            keel::data::KeyBuffer want = keys;
            std::sort(want.begin(), want.end());
            QVERIFY(keel::data::radixSort(keys, nullptr, nullptr, std::bit_width(lo ^ hi)));
            QVERIFY2(keys == want, qPrintable(QString::number(bits)));
        }
    }

    // Buckets of the leading digit that are too big for the cache are split again by their next digit: keys crowded
    // into a sliver of their range (nine in ten under 2^20 of a 40-bit span), powers of a uniform number (every
    // bucket size at once), a leading digit every key shares, and sizes on either side of the in-cache run. Each
    // against std::sort, with one scratch buffer reused from input to input as the profile does.
    void radixSortSkewedBuckets()
    {
        std::mt19937_64 engine(23);
        std::vector<std::pair<int, keel::data::KeyBuffer>> inputs;
        auto add = [&](int bits, size_t n, auto gen) {
            keel::data::KeyBuffer keys;
            for (size_t i = 0; i < n; ++i)
                keys.push_back(gen());
            inputs.emplace_back(bits, std::move(keys));
        };
        add(40, 400000, [&] { return engine() % 10 ? engine() & ((1u << 20) - 1) : engine() & ((uint64_t(1) << 40) - 1); });
        add(40, 300000, [&] {
            const double u = double(engine() >> 11) * 0x1p-53;
            return uint64_t(std::pow(u, 8) * double(uint64_t(1) << 40));
        });
        add(64, 300000, [&] { return 0xabc0000000000000ULL | (engine() & 0xffffffffffULL); });
        for (size_t n : {size_t(2048), size_t(4095), size_t(4096), size_t(4097), size_t(9000)})
            add(64, n, [&] { return engine(); });
        add(30, 200000, [&] { return engine() % 3; });   // three values: every run past the first digits is constant
        keel::data::KeyBuffer scratch;
        for (auto &[bits, keys] : inputs) {
            keel::data::KeyBuffer want = keys;
            std::sort(want.begin(), want.end());
            QVERIFY(keel::data::radixSort(keys, nullptr, &scratch, bits));
            QVERIFY2(keys == want, qPrintable(QStringLiteral("%1 keys").arg(want.size())));
        }
    }

    // A narrow span at the bottom of int64 (the span computed without overflow); doubles cannot tell these apart, so
    // the check is against the known values.
    void narrowAtInt64Minimum()
    {
        constexpr qint64 lowest = std::numeric_limits<qint64>::min();
        ColumnBuilder ints(ColumnType::Int64);
        for (int r = 0; r < 9000; ++r)
            r % 10 == 9 ? ints.appendNull() : ints.appendInt64(lowest + r % 3);
        auto p = profileColumn(ints.finish(QStringLiteral("x")));
        QVERIFY(p);
        QCOMPARE(p->missing, qint64(900));
        QCOMPARE(p->distinct, qint64(3));
        QCOMPARE(*p->min, double(lowest));
        QCOMPARE(*p->max, double(lowest + 2));
    }

    void tableProfileMatchesColumns()
    {
        const Table t = mixedTable();
        auto tp = profileTable(t);
        QVERIFY2(tp.hasValue(), qPrintable(tp.message()));
        QCOMPARE(tp->rows, qint64(2500));
        QCOMPARE(tp->columns.size(), size_t(t.columnCount()));
        for (int i = 0; i < t.columnCount(); ++i)
            compareProfiles(tp->columns[size_t(i)], *profileColumn(t.column(i)));
        QVERIFY(tp->find(u"bool") != nullptr);
        QCOMPARE(tp->find(u"bool")->type, ColumnType::Bool);
        QVERIFY(tp->find(u"nope") == nullptr);
    }

    void yamlRoundTrip()
    {
        const Table t = mixedTable();
        const TableProfile tp = *profileTable(t);
        const QByteArray yaml = profileToYaml(tp);
        const QString text = QString::fromUtf8(yaml);
        QVERIFY2(text.contains(QStringLiteral("min: 2011-01-01")), "datetimes written as ISO text");
        QVERIFY(text.contains(QStringLiteral("name: \"categorical\"")));
        auto back = profileFromYaml(yaml, tp.rows);
        QVERIFY2(back.hasValue(), qPrintable(back.message()));
        QCOMPARE(back->rows, tp.rows);
        QCOMPARE(back->columns.size(), tp.columns.size());
        for (size_t i = 0; i < tp.columns.size(); ++i)
            compareProfiles(back->columns[i], tp.columns[i]);
    }

    void yamlRoundTripAwkwardValues()
    {
        ColumnBuilder b(ColumnType::Categorical);
        for (const char *v : {"null", "true", "~", "", "a: b", "- x", "'q'", "\"dq\"", "#c", "1.5", "NA"})
            b.appendString(v);
        ColumnBuilder f(ColumnType::Float64);
        for (double v : {-std::numeric_limits<double>::infinity(), 0.1, 1e-300, 12345678.125, 2.0,
                         std::numeric_limits<double>::infinity(), 3.0, 4.0, 5.0, 6.0, 7.0})
            f.appendFloat64(v);
        const Table t({b.finish(QStringLiteral("odd: name")), f.finish(QStringLiteral("null"))});
        const TableProfile tp = *profileTable(t);
        QCOMPARE(*tp.columns[1].min, -std::numeric_limits<double>::infinity());
        QCOMPARE(tp.columns[1].histogram.edges.front(), 1e-300); // finite range, infinities in the outer bins
        QCOMPARE(tp.columns[1].histogram.counts.front() + tp.columns[1].histogram.counts.back() >= 2, true);
        auto back = profileFromYaml(profileToYaml(tp), tp.rows);
        QVERIFY2(back.hasValue(), qPrintable(back.message()));
        for (size_t i = 0; i < tp.columns.size(); ++i) {
            const ColumnProfile &a = back->columns[i], &e = tp.columns[i];
            QCOMPARE(a.name, e.name);
            QCOMPARE(a.topCategories.size(), e.topCategories.size());
            for (size_t k = 0; k < a.topCategories.size(); ++k)
                QCOMPARE(a.topCategories[k].value, e.topCategories[k].value);
            QCOMPARE(a.min, e.min);
            QCOMPARE(a.max, e.max);
            QCOMPARE(a.histogram.edges, e.histogram.edges);
            QCOMPARE(a.quantiles.size(), e.quantiles.size());
            for (size_t k = 0; k < a.quantiles.size(); ++k)
                QCOMPARE(a.quantiles[k].value, e.quantiles[k].value);
        }
    }

    void yamlErrors_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<qint64>("line");
        QTest::addColumn<QString>("field");
        QTest::newRow("bad type") << QByteArray("- name: a\n  type: int64\n- name: b\n  type: complex\n") << qint64(4)
                                  << QStringLiteral("b.type");
        QTest::newRow("bad count") << QByteArray("- name: a\n  type: int64\n  count: many\n") << qint64(3)
                                   << QStringLiteral("a.count");
        QTest::newRow("bad min") << QByteArray("- name: a\n  type: float64\n  count: 3\n  min: low\n") << qint64(4)
                                 << QStringLiteral("a.min");
        QTest::newRow("not a list") << QByteArray("name: a\n") << qint64(1) << QStringLiteral("profile");
        QTest::newRow("histogram shape")
            << QByteArray("- name: a\n  type: float64\n  histogram:\n    edges: [1, 2]\n    counts: [1, 2]\n") << qint64(4)
            << QStringLiteral("a.histogram");
    }
    void yamlErrors()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(qint64, line);
        QFETCH(QString, field);
        auto r = profileFromYaml(yaml, 3, QStringLiteral("p.yaml"));
        QVERIFY(!r.hasValue());
        QCOMPARE(r.error().line, line);
        QCOMPARE(r.error().field, field);
        QCOMPARE(r.error().file, QStringLiteral("p.yaml"));
    }

    void jsonRoundTrip()
    {
        const TableProfile tp = *profileTable(mixedTable());
        const QByteArray text = QJsonDocument(profileToJson(tp)).toJson();
        const QJsonArray arr = QJsonDocument::fromJson(text).array();
        QCOMPARE(arr.size(), qsizetype(tp.columns.size()));
        QCOMPARE(arr.at(3).toObject().value(QStringLiteral("min")).toString().left(5), QStringLiteral("2011-"));
        QCOMPARE(arr.at(0).toObject().value(QStringLiteral("missing")).toInteger(), tp.columns[0].missing);
        auto back = profileFromJson(arr, tp.rows);
        QVERIFY2(back.hasValue(), qPrintable(back.message()));
        for (size_t i = 0; i < tp.columns.size(); ++i)
            compareProfiles(back->columns[i], tp.columns[i]);
    }

    void text()
    {
        const TableProfile tp = *profileTable(mixedTable());
        const QString t = profileToText(tp);
        const QStringList lines = t.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2 + int(tp.columns.size()));
        QCOMPARE(lines.front(), QStringLiteral("2500 rows, 7 columns"));
        const ColumnProfile *cat = tp.find(u"categorical");
        QVERIFY(t.contains(cat->topCategories.front().value + QLatin1Char(' ') + QString::number(cat->topCategories.front().count)));
        const ColumnProfile *ints = tp.find(u"int64_small");
        QVERIFY(lines[2].startsWith(QStringLiteral("int64_small")));
        QVERIFY(lines[2].contains(QStringLiteral("min %1").arg(qint64(*ints->min))));
    }

    void cancel()
    {
        Feedback fb;
        fb.cancel();
        auto r = profileTable(mixedTable(), &fb);
        QVERIFY(!r.hasValue());
        QVERIFY(r.error().is(keel::ErrorKind::Cancelled));
    }

    void progress()
    {
        Feedback fb;
        std::atomic<qint64> last{0}, calls{0};
        fb.setCallback([&](qint64 done, qint64 total, const QString &) {
            ++calls;
            QCOMPARE(total, qint64(7));
            last = std::max<qint64>(last, done);
        });
        QVERIFY(profileTable(mixedTable(), &fb).hasValue());
        QCOMPARE(calls.load(), qint64(7));
        QCOMPARE(last.load(), qint64(7));
    }

    void isoDatetimes_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("ms");
        QTest::newRow("date") << QStringLiteral("2011-01-01") << qint64(1293840000000);
        QTest::newRow("seconds") << QStringLiteral("2011-01-01T05:00:00") << qint64(1293858000000);
        QTest::newRow("space") << QStringLiteral("2011-01-01 05:00:00") << qint64(1293858000000);
        QTest::newRow("millis") << QStringLiteral("2011-01-01T05:00:00.250") << qint64(1293858000250);
        QTest::newRow("zulu") << QStringLiteral("2011-01-01T05:00:00Z") << qint64(1293858000000);
        QTest::newRow("offset") << QStringLiteral("2011-01-01T06:00:00+01:00") << qint64(1293858000000);
        QTest::newRow("before epoch") << QStringLiteral("1969-12-31") << qint64(-86400000);
    }
    void isoDatetimes()
    {
        QFETCH(QString, text);
        QFETCH(qint64, ms);
        QCOMPARE(parseIsoDatetime(text), std::optional<int64_t>(ms));
        QVERIFY(!parseIsoDatetime(QStringLiteral("2011-13-01")));
        QVERIFY(!parseIsoDatetime(QStringLiteral("17")));
    }

    void adultReal()
    {
        const std::vector<QStringList> raw = adultRawRows();
        QVERIFY(raw.size() > 30000);
        auto table = readTable(adultPath());
        QVERIFY2(table.hasValue(), qPrintable(table.message()));
        auto tp = profileTable(*table);
        QVERIFY2(tp.hasValue(), qPrintable(tp.message()));
        QCOMPARE(tp->rows, qint64(raw.size()));

        // age: mean, sample std and median from the raw text.
        std::vector<double> ages;
        for (const QStringList &r : raw)
            ages.push_back(r[0].toDouble());
        double sum = 0;
        for (double a : ages)
            sum += a;
        const double mean = sum / double(ages.size());
        double ss = 0;
        for (double a : ages)
            ss += (a - mean) * (a - mean);
        std::sort(ages.begin(), ages.end());
        const size_t n = ages.size();
        const double median = n % 2 ? ages[n / 2] : 0.5 * (ages[n / 2 - 1] + ages[n / 2]);
        const ColumnProfile *age = tp->find(u"age");
        QVERIFY(age);
        QCOMPARE(age->type, ColumnType::Int64);
        QCOMPARE(age->missing, qint64(0));
        QVERIFY(close(*age->mean, mean));
        QVERIFY(close(*age->std, std::sqrt(ss / double(n - 1)), 1e-10));
        QCOMPARE(age->quantiles[3].p, 0.5);
        QCOMPARE(age->quantiles[3].value, median);
        QCOMPARE(*age->min, ages.front());
        QCOMPARE(*age->max, ages.back());

        // workclass: missing count (bare NA) and most frequent category.
        qint64 missing = 0;
        std::map<QString, qint64> counts;
        for (const QStringList &r : raw) {
            if (r[1] == u"NA")
                ++missing;
            else
                ++counts[QString(r[1]).remove(QLatin1Char('"'))];
        }
        const auto top = std::max_element(counts.begin(), counts.end(),
                                          [](const auto &a, const auto &b) { return a.second < b.second; });
        const ColumnProfile *wc = tp->find(u"workclass");
        QVERIFY(wc);
        QCOMPARE(wc->missing, missing);
        QVERIFY(missing > 0);
        QCOMPARE(wc->distinct, qint64(counts.size()));
        QCOMPARE(wc->topCategories.front().value, top->first);
        QCOMPARE(wc->topCategories.front().count, top->second);
    }
};

QTEST_GUILESS_MAIN(TstProfile)
#include "tst_profile.moc"
