// Row orders, filters, search and distribution comparisons for the table and diff views, checked against
// brute-force references on generated tables.
#include "data/distribution.h"
#include "tableorder.h"

#include <QDateTime>
#include <QtTest>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>

using namespace keel;
using namespace keel::data;
using namespace keel::ui;

namespace {

/// A column of `n` random values of `type`; about `nullShare` of them missing (and some NaN for float64).
Column randomColumn(ColumnType type, qint64 n, double nullShare, uint32_t seed, int distinct = 50)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::uniform_int_distribution<int> pick(0, distinct - 1);
    ColumnBuilder b(type);
    for (qint64 i = 0; i < n; ++i) {
        if (u(rng) < nullShare) {
            b.appendNull();
            continue;
        }
        switch (type) {
        case ColumnType::Int64: b.appendInt64(int64_t(pick(rng)) * 1000003 - 25000000); break;
        case ColumnType::Float64: {
            const double r = u(rng);
            if (r < 0.02)
                b.appendFloat64(std::numeric_limits<double>::quiet_NaN());
            else if (r < 0.03)
                b.appendFloat64(-std::numeric_limits<double>::infinity());
            else
                b.appendFloat64(double(pick(rng)) * 0.37 - 9.0);
            break;
        }
        case ColumnType::Bool: b.appendBool(pick(rng) % 2 == 0); break;
        case ColumnType::Datetime: b.appendDatetime(int64_t(pick(rng)) * 3600000 * 7 - 86400000LL * 400); break;
        case ColumnType::Categorical:
        case ColumnType::String: {
            static const char *words[] = {"apple", "Banana", "cherry", "\xc3\xa9" "clair", "date", "Zebra", "", "a b", "\xe2\x82\xac" "uro", "fig"};
            const std::string s = std::string(words[pick(rng) % 10]) + std::to_string(pick(rng) % 7);
            b.appendString(s);
            break;
        }
        }
    }
    return b.finish(columnTypeName(type));
}

bool refMissing(const Column &c, qint64 r) { return c.isNull(r); }
bool refNan(const Column &c, qint64 r) { return c.type() == ColumnType::Float64 && !c.isNull(r) && std::isnan(c.float64At(r)); }

/// Independent reference: rank groups (values, NaN, missing), then values by the typed accessor.
RowIndex referenceSort(const Column &c, Qt::SortOrder order)
{
    RowIndex idx(size_t(c.size()));
    for (qint64 i = 0; i < c.size(); ++i)
        idx[size_t(i)] = i;
    const auto group = [&](qint64 r) { return refMissing(c, r) ? 2 : refNan(c, r) ? 1 : 0; };
    const auto lessValue = [&](qint64 a, qint64 b) -> bool {
        switch (c.type()) {
        case ColumnType::Int64: return c.int64At(a) < c.int64At(b);
        case ColumnType::Float64: return c.float64At(a) < c.float64At(b);
        case ColumnType::Bool: return int(c.boolAt(a)) < int(c.boolAt(b));
        case ColumnType::Datetime: return c.datetimeAt(a) < c.datetimeAt(b);
        case ColumnType::Categorical:
        case ColumnType::String: return c.stringAt(a) < c.stringAt(b);
        }
        return false;
    };
    std::stable_sort(idx.begin(), idx.end(), [&](qint64 a, qint64 b) {
        const int ga = group(a), gb = group(b);
        if (ga != gb)
            return ga < gb;
        if (ga != 0)
            return false;
        return order == Qt::AscendingOrder ? lessValue(a, b) : lessValue(b, a);
    });
    return idx;
}

Table tableOf(std::vector<Column> cols) { return Table(std::move(cols)); }

} // namespace

class TestTableOrder : public QObject {
    Q_OBJECT
private slots:
    void sortMatchesReference_data();
    void sortMatchesReference();
    void sortLargeText();
    void sortEdgeCases();
    void sortCancelled();
    void filterMatchesReference_data();
    void filterMatchesReference();
    void filterErrors();
    void filterKeepsOrder();
    void findMatchesReference_data();
    void findMatchesReference();
    void distributionNumeric();
    void distributionCategories();
    void distributionOneSided();
};

void TestTableOrder::sortMatchesReference_data()
{
    QTest::addColumn<int>("type");
    QTest::addColumn<qint64>("rows");
    QTest::addColumn<double>("nullShare");
    QTest::addColumn<int>("order");
    const std::pair<const char *, ColumnType> types[] = {
        {"int64", ColumnType::Int64},     {"float64", ColumnType::Float64},         {"bool", ColumnType::Bool},
        {"datetime", ColumnType::Datetime}, {"categorical", ColumnType::Categorical}, {"string", ColumnType::String}};
    for (const auto &[name, type] : types) {
        for (int order : {int(Qt::AscendingOrder), int(Qt::DescendingOrder)}) {
            const char *dir = order == Qt::AscendingOrder ? "asc" : "desc";
            QTest::addRow("%s-%s-3000", name, dir) << int(type) << qint64(3000) << 0.1 << order;
            QTest::addRow("%s-%s-nonull", name, dir) << int(type) << qint64(500) << 0.0 << order;
            QTest::addRow("%s-%s-allnull", name, dir) << int(type) << qint64(40) << 1.0 << order;
            QTest::addRow("%s-%s-empty", name, dir) << int(type) << qint64(0) << 0.0 << order;
            QTest::addRow("%s-%s-one", name, dir) << int(type) << qint64(1) << 0.0 << order;
        }
    }
}

void TestTableOrder::sortMatchesReference()
{
    QFETCH(int, type);
    QFETCH(qint64, rows);
    QFETCH(double, nullShare);
    QFETCH(int, order);
    const Column c = randomColumn(ColumnType(type), rows, nullShare, 1234u + uint32_t(type));
    const Table t = tableOf({c});
    auto sorted = sortRows(t, 0, Qt::SortOrder(order));
    QVERIFY2(sorted, qPrintable(sorted.message()));
    const RowIndex expected = referenceSort(c, Qt::SortOrder(order));
    QCOMPARE(sorted->size(), expected.size());
    QCOMPARE(*sorted, expected);
}

void TestTableOrder::sortLargeText()
{
    // More rows than one chunk of the text sort: exercises the chunk merge.
    const Column c = randomColumn(ColumnType::String, 150000, 0.05, 99u, 5000);
    const Table t = tableOf({c});
    int progressCalls = 0;
    Feedback fb;
    fb.setCallback([&](qint64, qint64, const QString &stage) {
        QCOMPARE(stage, QStringLiteral("sort"));
        ++progressCalls;
    });
    auto sorted = sortRows(t, 0, Qt::DescendingOrder, &fb);
    QVERIFY(sorted);
    QCOMPARE(*sorted, referenceSort(c, Qt::DescendingOrder));
    QVERIFY(progressCalls > 2);
}

void TestTableOrder::sortEdgeCases()
{
    ColumnBuilder b(ColumnType::Int64);
    const int64_t values[] = {std::numeric_limits<int64_t>::max(), -1, std::numeric_limits<int64_t>::min(), 0, 1,
                              std::numeric_limits<int64_t>::min() + 1, -1};
    for (int64_t v : values)
        b.appendInt64(v);
    const Table t = tableOf({b.finish(QStringLiteral("x"))});
    auto asc = sortRows(t, 0, Qt::AscendingOrder);
    QVERIFY(asc);
    QCOMPARE(*asc, (RowIndex{2, 5, 1, 6, 3, 4, 0}));
    auto desc = sortRows(t, 0, Qt::DescendingOrder);
    QVERIFY(desc);
    QCOMPARE(*desc, (RowIndex{0, 4, 3, 1, 6, 5, 2})); // ties (-1 at rows 1 and 6) keep table order
    QVERIFY(!sortRows(t, 1, Qt::AscendingOrder));
    QVERIFY(!sortRows(t, -1, Qt::AscendingOrder));
}

void TestTableOrder::sortCancelled()
{
    const Table t = tableOf({randomColumn(ColumnType::Float64, 100000, 0.0, 7u)});
    Feedback fb;
    fb.cancel();
    auto sorted = sortRows(t, 0, Qt::AscendingOrder, &fb);
    QVERIFY(!sorted);
    QVERIFY(sorted.error().is(keel::ErrorKind::Cancelled));
    auto filtered = filterRows(t, nullptr, RowFilter{0, RowFilter::Op::Greater, QStringLiteral("0")}, &fb);
    QVERIFY(!filtered);
    QVERIFY(filtered.error().is(keel::ErrorKind::Cancelled));
}

void TestTableOrder::filterMatchesReference_data()
{
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("op");
    QTest::addColumn<QString>("value");
    using Op = RowFilter::Op;
    const auto add = [](const char *name, ColumnType t, Op op, const QString &v) {
        QTest::newRow(name) << int(t) << int(op) << v;
    };
    add("int-eq", ColumnType::Int64, Op::Equals, QStringLiteral("-22999994"));
    add("int-ne", ColumnType::Int64, Op::NotEquals, QStringLiteral("-22999994"));
    add("int-lt", ColumnType::Int64, Op::Less, QStringLiteral("1000"));
    add("int-le-float", ColumnType::Int64, Op::LessOrEqual, QStringLiteral("-20999993.5"));
    add("int-gt", ColumnType::Int64, Op::Greater, QStringLiteral("0"));
    add("int-ge", ColumnType::Int64, Op::GreaterOrEqual, QStringLiteral("0"));
    add("int-contains", ColumnType::Int64, Op::Contains, QStringLiteral("99"));
    add("int-missing", ColumnType::Int64, Op::IsMissing, QString());
    add("int-present", ColumnType::Int64, Op::IsPresent, QString());
    add("float-gt", ColumnType::Float64, Op::Greater, QStringLiteral("1.5"));
    add("float-le", ColumnType::Float64, Op::LessOrEqual, QStringLiteral("-3"));
    add("float-missing-nan", ColumnType::Float64, Op::IsMissing, QString());
    add("bool-eq", ColumnType::Bool, Op::Equals, QStringLiteral("true"));
    add("date-ge", ColumnType::Datetime, Op::GreaterOrEqual, QStringLiteral("1968-12-04"));
    add("cat-eq", ColumnType::Categorical, Op::Equals, QStringLiteral("apple3"));
    add("cat-contains-ci", ColumnType::Categorical, Op::Contains, QStringLiteral("BANANA"));
    add("cat-lt", ColumnType::Categorical, Op::Less, QStringLiteral("cherry"));
    add("str-contains-ascii", ColumnType::String, Op::Contains, QStringLiteral("ZeB"));
    add("str-contains-unicode", ColumnType::String, Op::Contains, QStringLiteral("\u00c9CL"));
    add("str-ne", ColumnType::String, Op::NotEquals, QStringLiteral("fig1"));
    add("str-gt", ColumnType::String, Op::Greater, QStringLiteral("date"));
    add("str-contains-empty", ColumnType::String, Op::Contains, QString());
}

void TestTableOrder::filterMatchesReference()
{
    QFETCH(int, type);
    QFETCH(int, op);
    QFETCH(QString, value);
    const Column c = randomColumn(ColumnType(type), 4000, 0.1, 555u + uint32_t(type));
    const Table t = tableOf({c});
    const RowFilter f{0, RowFilter::Op(op), value};
    auto rows = filterRows(t, nullptr, f);
    QVERIFY2(rows, qPrintable(rows.message()));

    // Reference: per row, on the typed value (text through QString, case-insensitive where documented).
    RowIndex expected;
    for (qint64 r = 0; r < c.size(); ++r) {
        const bool missing = c.isNull(r) || refNan(c, r);
        bool keep = false;
        using Op = RowFilter::Op;
        if (f.op == Op::IsMissing) {
            keep = missing;
        } else if (f.op == Op::IsPresent) {
            keep = !missing;
        } else if (!missing) {
            if (f.op == Op::Contains) {
                keep = c.displayAt(r).contains(value, Qt::CaseInsensitive);
            } else if (c.type() == ColumnType::Categorical || c.type() == ColumnType::String) {
                const QByteArray a(c.stringAt(r).data(), qsizetype(c.stringAt(r).size()));
                const QByteArray b = value.toUtf8();
                const int cmp = a < b ? -1 : (a == b ? 0 : 1);
                keep = (f.op == Op::Equals && cmp == 0) || (f.op == Op::NotEquals && cmp != 0) || (f.op == Op::Less && cmp < 0)
                    || (f.op == Op::LessOrEqual && cmp <= 0) || (f.op == Op::Greater && cmp > 0)
                    || (f.op == Op::GreaterOrEqual && cmp >= 0);
            } else {
                double v = 0;
                if (c.type() == ColumnType::Bool)
                    v = value == u"true" ? 1 : 0;
                else if (c.type() == ColumnType::Datetime)
                    v = double(QDateTime(QDate::fromString(value, Qt::ISODate), QTime(0, 0), Qt::UTC).toMSecsSinceEpoch());
                else
                    v = value.toDouble();
                const double x = c.numberAt(r);
                keep = (f.op == Op::Equals && x == v) || (f.op == Op::NotEquals && x != v) || (f.op == Op::Less && x < v)
                    || (f.op == Op::LessOrEqual && x <= v) || (f.op == Op::Greater && x > v)
                    || (f.op == Op::GreaterOrEqual && x >= v);
            }
        }
        if (keep)
            expected.push_back(r);
    }
    QCOMPARE(*rows, expected);
    QVERIFY(!expected.empty() || f.op == RowFilter::Op::Equals);
}

void TestTableOrder::filterErrors()
{
    const Table t = tableOf({randomColumn(ColumnType::Int64, 10, 0, 1u), randomColumn(ColumnType::Datetime, 10, 0, 2u)});
    auto r = filterRows(t, nullptr, RowFilter{0, RowFilter::Op::Less, QStringLiteral("ten")});
    QVERIFY(!r);
    QCOMPARE(r.error().field, QStringLiteral("int64"));
    auto d = filterRows(t, nullptr, RowFilter{1, RowFilter::Op::Less, QStringLiteral("yesterday")});
    QVERIFY(!d);
    QCOMPARE(d.error().field, QStringLiteral("datetime"));
    QVERIFY(!filterRows(t, nullptr, RowFilter{5, RowFilter::Op::IsMissing, {}}));
}

void TestTableOrder::filterKeepsOrder()
{
    const Column c = randomColumn(ColumnType::Float64, 2000, 0.1, 77u);
    const Table t = tableOf({c});
    auto sorted = sortRows(t, 0, Qt::DescendingOrder);
    QVERIFY(sorted);
    auto rows = filterRows(t, &*sorted, RowFilter{0, RowFilter::Op::Greater, QStringLiteral("0")});
    QVERIFY(rows);
    RowIndex expected;
    for (qint64 r : *sorted)
        if (!c.isNull(r) && !std::isnan(c.float64At(r)) && c.float64At(r) > 0)
            expected.push_back(r);
    QCOMPARE(*rows, expected);
    for (size_t i = 1; i < rows->size(); ++i)
        QVERIFY(c.float64At((*rows)[i - 1]) >= c.float64At((*rows)[i]));
}

void TestTableOrder::findMatchesReference_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("column");
    QTest::addColumn<qint64>("from");
    QTest::newRow("word-all") << QStringLiteral("cherry") << -1 << qint64(0);
    QTest::newRow("word-wrap") << QStringLiteral("ZEBRA") << -1 << qint64(2900);
    QTest::newRow("number") << QStringLiteral("-8.63") << -1 << qint64(10);
    QTest::newRow("one-column") << QStringLiteral("1") << 1 << qint64(5);
    QTest::newRow("absent") << QStringLiteral("no such value") << -1 << qint64(0);
    QTest::newRow("empty") << QString() << -1 << qint64(0);
}

void TestTableOrder::findMatchesReference()
{
    QFETCH(QString, text);
    QFETCH(int, column);
    QFETCH(qint64, from);
    const Table t = tableOf({randomColumn(ColumnType::Float64, 3000, 0.1, 11u), randomColumn(ColumnType::Int64, 3000, 0.1, 12u),
                             randomColumn(ColumnType::String, 3000, 0.1, 13u)});
    auto order = sortRows(t, 2, Qt::AscendingOrder);
    QVERIFY(order);
    auto found = findValue(t, &*order, from, column, text);
    QVERIFY(found);
    std::optional<FoundCell> expected;
    const qint64 n = qint64(order->size());
    for (qint64 k = 0; k < n && !expected && !text.isEmpty(); ++k) {
        const qint64 p = (from + k) % n;
        for (int c = 0; c < t.columnCount() && !expected; ++c) {
            if (column >= 0 && c != column)
                continue;
            const Column &col = t.column(c);
            const qint64 r = (*order)[size_t(p)];
            if (!col.isNull(r) && !(col.type() == ColumnType::Float64 && std::isnan(col.float64At(r)))
                && col.displayAt(r).contains(text, Qt::CaseInsensitive))
                expected = FoundCell{p, c};
        }
    }
    QCOMPARE(found->has_value(), expected.has_value());
    if (expected) {
        QCOMPARE((*found)->position, expected->position);
        QCOMPARE((*found)->column, expected->column);
    }
}

void TestTableOrder::distributionNumeric()
{
    const Column a = randomColumn(ColumnType::Float64, 5000, 0.1, 21u);
    const Column b = randomColumn(ColumnType::Int64, 3000, 0.05, 22u);
    auto cmp = data::compareDistributions(&a, &b, 17);
    QVERIFY(cmp);
    QVERIFY(cmp->numeric);
    QCOMPARE(cmp->edges.size(), size_t(18));
    // Brute force: joint finite range, equal-width bins, last bin closed.
    double lo = INFINITY, hi = -INFINITY;
    for (const Column *c : {&a, &b})
        for (qint64 r = 0; r < c->size(); ++r)
            if (!c->isNull(r) && std::isfinite(c->numberAt(r))) {
                lo = std::min(lo, c->numberAt(r));
                hi = std::max(hi, c->numberAt(r));
            }
    QCOMPARE(cmp->edges.front(), lo);
    QCOMPARE(cmp->edges.back(), hi);
    for (int side = 0; side < 2; ++side) {
        const Column &c = side == 0 ? a : b;
        std::vector<qint64> counts(17, 0);
        qint64 values = 0, missing = 0;
        for (qint64 r = 0; r < c.size(); ++r) {
            if (c.isNull(r) || !std::isfinite(c.numberAt(r))) {
                ++missing;
                continue;
            }
            const double v = c.numberAt(r);
            int bin = 16;
            for (int i = 0; i < 17; ++i)
                if (v < cmp->edges[size_t(i) + 1]) {
                    bin = i;
                    break;
                }
            ++counts[size_t(bin)];
            ++values;
        }
        QCOMPARE(side == 0 ? cmp->countsA : cmp->countsB, counts);
        QCOMPARE(side == 0 ? cmp->valuesA : cmp->valuesB, values);
        QCOMPARE(side == 0 ? cmp->missingA : cmp->missingB, missing);
    }
}

void TestTableOrder::distributionCategories()
{
    const Column a = randomColumn(ColumnType::Categorical, 4000, 0.1, 31u);
    const Column b = randomColumn(ColumnType::String, 2000, 0.2, 32u);
    auto cmp = data::compareDistributions(&a, &b, 30, 8);
    QVERIFY(cmp);
    QVERIFY(!cmp->numeric);
    QHash<QString, std::pair<qint64, qint64>> ref;
    for (qint64 r = 0; r < a.size(); ++r)
        if (!a.isNull(r))
            ++ref[a.displayAt(r)].first;
    for (qint64 r = 0; r < b.size(); ++r)
        if (!b.isNull(r))
            ++ref[b.displayAt(r)].second;
    QVERIFY(ref.size() > 8);
    QCOMPARE(cmp->categories.size(), 9);
    QVERIFY(cmp->hasOther);
    qint64 sumA = 0, sumB = 0;
    for (int i = 0; i < 8; ++i) {
        const auto &p = ref.value(cmp->categories[i]);
        QCOMPARE(cmp->countsA[size_t(i)], p.first);
        QCOMPARE(cmp->countsB[size_t(i)], p.second);
        if (i > 0)
            QVERIFY(cmp->countsA[size_t(i - 1)] + cmp->countsB[size_t(i - 1)] >= p.first + p.second);
    }
    for (size_t i = 0; i < cmp->countsA.size(); ++i) {
        sumA += cmp->countsA[i];
        sumB += cmp->countsB[i];
    }
    QCOMPARE(sumA, a.size() - a.nullCount());
    QCOMPARE(sumB, b.size() - b.nullCount());
}

void TestTableOrder::distributionOneSided()
{
    const Column a = randomColumn(ColumnType::Int64, 100, 0.0, 41u);
    auto cmp = data::compareDistributions(&a, nullptr, 10);
    QVERIFY(cmp);
    QCOMPARE(cmp->valuesA, qint64(100));
    QCOMPARE(cmp->valuesB, qint64(0));
    QCOMPARE(std::accumulate(cmp->countsB.begin(), cmp->countsB.end(), qint64(0)), qint64(0));
    ColumnBuilder same(ColumnType::Float64);
    for (int i = 0; i < 5; ++i)
        same.appendFloat64(2.5);
    const Column s = same.finish(QStringLiteral("s"));
    auto one = data::compareDistributions(&s, &s, 10);
    QVERIFY(one);
    QCOMPARE(one->countsA, std::vector<qint64>{5});
}

QTEST_GUILESS_MAIN(TestTableOrder)
#include "tst_tableorder.moc"
