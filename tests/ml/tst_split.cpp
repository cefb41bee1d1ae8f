#include "ml/split.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

using namespace keel;
using namespace keel::ml;

namespace {

// A classification target whose classes appear in a scrambled order with the given counts.
Target classTarget(const std::vector<qint64> &counts)
{
    Target t;
    t.task = counts.size() > 2 ? Task::MulticlassClassification : Task::BinaryClassification;
    for (size_t c = 0; c < counts.size(); ++c) {
        t.classes.append(QString::number(c));
        for (qint64 i = 0; i < counts[c]; ++i)
            t.values.push_back(double(c));
    }
    // deterministic scramble independent of the code under test: multiply-by-coprime permutation
    const size_t n = t.values.size();
    size_t step = 7919;
    while (std::gcd(step, n) != 1)
        ++step;
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i)
        v[(i * step) % n] = t.values[i];
    t.values = v;
    return t;
}

void checkPartition(const Split &s, qint64 rows)
{
    QVERIFY(std::is_sorted(s.train.begin(), s.train.end()));
    QVERIFY(std::is_sorted(s.test.begin(), s.test.end()));
    std::vector<int> seen(size_t(rows), 0);
    for (qint64 r : s.train)
        ++seen[size_t(r)];
    for (qint64 r : s.test)
        ++seen[size_t(r)];
    for (qint64 r = 0; r < rows; ++r)
        QCOMPARE(seen[size_t(r)], 1);
}

data::Table timeTable(const std::vector<int64_t> &ms)
{
    data::ColumnBuilder b(data::ColumnType::Datetime);
    data::ColumnBuilder x(data::ColumnType::Int64);
    for (size_t i = 0; i < ms.size(); ++i) {
        b.appendDatetime(ms[i]);
        x.appendInt64(int64_t(i));
    }
    return data::Table({b.finish(QStringLiteral("when")), x.finish(QStringLiteral("x"))});
}

} // namespace

class TstSplit : public QObject {
    Q_OBJECT
private slots:
    void randomness()
    {
        // mt19937_64 is fully specified: the 10000th output of the default seed is fixed by the standard.
        std::mt19937_64 std0;
        std0.discard(9999);
        QCOMPARE(quint64(std0()), quint64(9981545732273789042ULL));
        // Fisher-Yates gives every permutation of 3 items equally often (6 outcomes, 60000 draws).
        std::mt19937_64 rng(123);
        std::map<std::vector<qint64>, int> counts;
        for (int i = 0; i < 60000; ++i) {
            std::vector<qint64> v{0, 1, 2};
            shuffleIndices(v, rng);
            ++counts[v];
        }
        QCOMPARE(int(counts.size()), 6);
        for (const auto &[perm, n] : counts)
            QVERIFY2(std::abs(n - 10000) < 500, qPrintable(QString::number(n)));
        for (int i = 0; i < 1000; ++i)
            QVERIFY(uniformBelow(rng, 7) < 7);
    }

    void holdout_data()
    {
        QTest::addColumn<qint64>("rows");
        QTest::addColumn<double>("fraction");
        QTest::newRow("1000 x .2") << qint64(1000) << 0.2;
        QTest::newRow("7 x .3") << qint64(7) << 0.3;
        QTest::newRow("2 x .5") << qint64(2) << 0.5;
        QTest::newRow("333 x .01") << qint64(333) << 0.01;
        QTest::newRow("50 x .99") << qint64(50) << 0.99;
    }
    void holdout()
    {
        QFETCH(qint64, rows);
        QFETCH(double, fraction);
        auto s = holdoutSplit(rows, fraction, 42);
        QVERIFY2(s, qPrintable(s.message()));
        checkPartition(*s, rows);
        const qint64 expected = std::clamp<qint64>(std::llround(double(rows) * fraction), 1, rows - 1);
        QCOMPARE(qint64(s->test.size()), expected);
        QCOMPARE(qint64(s->train.size()), rows - expected);
    }

    void seeds()
    {
        auto a = holdoutSplit(500, 0.25, 1);
        auto b = holdoutSplit(500, 0.25, 1);
        auto c = holdoutSplit(500, 0.25, 2);
        QVERIFY(a && b && c);
        QCOMPARE(a->test, b->test);
        QVERIFY(a->test != c->test);
        auto k1 = kFoldSplits(100, 5, 9);
        auto k2 = kFoldSplits(100, 5, 9);
        auto k3 = kFoldSplits(100, 5, 10);
        QVERIFY(k1 && k2 && k3);
        for (size_t f = 0; f < 5; ++f)
            QCOMPARE((*k1)[f].test, (*k2)[f].test);
        QVERIFY((*k1)[0].test != (*k3)[0].test);
    }

    void stratified_data()
    {
        QTest::addColumn<std::vector<qint64>>("counts");
        QTest::addColumn<double>("fraction");
        QTest::newRow("imbalanced 3") << std::vector<qint64>{700, 250, 50} << 0.2;
        QTest::newRow("tiny class") << std::vector<qint64>{97, 3} << 0.3;
        QTest::newRow("odd") << std::vector<qint64>{13, 17, 19, 23} << 0.37;
    }
    void stratified()
    {
        QFETCH(std::vector<qint64>, counts);
        QFETCH(double, fraction);
        const Target t = classTarget(counts);
        const qint64 rows = qint64(t.values.size());
        auto s = holdoutSplit(rows, fraction, 5, &t);
        QVERIFY2(s, qPrintable(s.message()));
        checkPartition(*s, rows);
        QCOMPARE(qint64(s->test.size()), std::llround(double(rows) * fraction));
        std::vector<qint64> perClass(counts.size(), 0);
        for (qint64 r : s->test)
            ++perClass[size_t(t.values[size_t(r)])];
        for (size_t c = 0; c < counts.size(); ++c)
            QVERIFY2(std::fabs(double(perClass[c]) - double(counts[c]) * fraction) <= 1.0,
                     qPrintable(QStringLiteral("class %1: %2 of %3").arg(c).arg(perClass[c]).arg(counts[c])));
    }

    void kfold_data()
    {
        QTest::addColumn<qint64>("rows");
        QTest::addColumn<int>("folds");
        QTest::addColumn<bool>("stratify");
        QTest::newRow("100/5") << qint64(100) << 5 << false;
        QTest::newRow("103/4") << qint64(103) << 4 << false;
        QTest::newRow("10/10") << qint64(10) << 10 << false;
        QTest::newRow("stratified 1000/5") << qint64(1000) << 5 << true;
        QTest::newRow("stratified 1000/3") << qint64(1000) << 3 << true;
    }
    void kfold()
    {
        QFETCH(qint64, rows);
        QFETCH(int, folds);
        QFETCH(bool, stratify);
        const Target t = classTarget({qint64(rows * 0.7), rows - qint64(rows * 0.7) - qint64(rows * 0.05), qint64(rows * 0.05)});
        QCOMPARE(qint64(t.values.size()), rows);
        auto k = kFoldSplits(rows, folds, 3, stratify ? &t : nullptr);
        QVERIFY2(k, qPrintable(k.message()));
        QCOMPARE(int(k->size()), folds);
        std::vector<int> inTest(size_t(rows), 0);
        qint64 minSize = rows, maxSize = 0;
        for (const Split &s : *k) {
            checkPartition(s, rows);
            for (qint64 r : s.test)
                ++inTest[size_t(r)];
            minSize = std::min<qint64>(minSize, qint64(s.test.size()));
            maxSize = std::max<qint64>(maxSize, qint64(s.test.size()));
            if (stratify) {
                for (int c = 0; c < 3; ++c) {
                    const qint64 total = std::count(t.values.begin(), t.values.end(), double(c));
                    const qint64 here = std::count_if(s.test.begin(), s.test.end(),
                                                      [&](qint64 r) { return t.values[size_t(r)] == c; });
                    QVERIFY(std::fabs(double(here) - double(total) / folds) <= 1.0);
                }
            }
        }
        for (qint64 r = 0; r < rows; ++r)
            QCOMPARE(inTest[size_t(r)], 1); // the test folds partition the rows
        QVERIFY(maxSize - minSize <= 1);
    }

    void timeCutoff()
    {
        // times deliberately out of order, with duplicates
        const std::vector<int64_t> ms{500, 100, 300, 300, 900, 200, 700, 300, 800, 0};
        const data::Table t = timeTable(ms);
        auto s = timeSplit(t, QStringLiteral("when"), 300, 0.2);
        QVERIFY2(s, qPrintable(s.message()));
        checkPartition(*s, t.rowCount());
        for (qint64 r : s->train)
            QVERIFY(ms[size_t(r)] < 300);
        for (qint64 r : s->test)
            QVERIFY(ms[size_t(r)] >= 300);
        QCOMPARE(s->train.size(), size_t(3)); // 100, 200, 0
    }

    void timeFraction_data()
    {
        QTest::addColumn<double>("fraction");
        QTest::addColumn<int>("expectedTest");
        // sorted: 0 100 200 300 300 300 500 700 800 900
        QTest::newRow(".2 -> 800, 900") << 0.2 << 2;
        QTest::newRow(".5 -> 300s stay together") << 0.5 << 7; // boundary 300 pulls all three 300s into test
        QTest::newRow(".3 -> 700 and above") << 0.3 << 3;
    }
    void timeFraction()
    {
        QFETCH(double, fraction);
        QFETCH(int, expectedTest);
        const std::vector<int64_t> ms{500, 100, 300, 300, 900, 200, 700, 300, 800, 0};
        const data::Table t = timeTable(ms);
        auto s = timeSplit(t, QStringLiteral("when"), std::nullopt, fraction);
        QVERIFY2(s, qPrintable(s.message()));
        checkPartition(*s, t.rowCount());
        QCOMPARE(int(s->test.size()), expectedTest);
        int64_t maxTrain = INT64_MIN, minTest = INT64_MAX;
        for (qint64 r : s->train)
            maxTrain = std::max(maxTrain, ms[size_t(r)]);
        for (qint64 r : s->test)
            minTest = std::min(minTest, ms[size_t(r)]);
        QVERIFY(maxTrain < minTest);
    }

    void makeSplitsDispatch()
    {
        const data::Table t = timeTable({5, 4, 3, 2, 1, 0, 6, 7, 8, 9});
        SplitSpec spec;
        spec.kind = SplitKind::KFold;
        spec.folds = 5;
        auto k = makeSplits(spec, t, nullptr);
        QVERIFY(k);
        QCOMPARE(k->size(), size_t(5));
        spec.kind = SplitKind::Time;
        spec.timeColumn = QStringLiteral("when");
        spec.testFraction = 0.3;
        auto ts = makeSplits(spec, t, nullptr);
        QVERIFY(ts);
        QCOMPARE(ts->front().test, (std::vector<qint64>{7, 8, 9}));
    }

    void errors()
    {
        QVERIFY(!holdoutSplit(10, 0.0, 1));
        QVERIFY(!holdoutSplit(10, 1.0, 1));
        QVERIFY(!holdoutSplit(1, 0.5, 1));
        QVERIFY(!kFoldSplits(10, 1, 1));
        QVERIFY(!kFoldSplits(3, 4, 1));
        Target wrong;
        wrong.task = Task::BinaryClassification;
        wrong.values = {0, 1};
        QVERIFY(!holdoutSplit(10, 0.2, 1, &wrong));
        const data::Table t = timeTable({1, 2, 3});
        auto missingColumn = timeSplit(t, QStringLiteral("nope"), std::nullopt, 0.3);
        QVERIFY(!missingColumn);
        QCOMPARE(missingColumn.error().field, QStringLiteral("nope"));
        QVERIFY(!timeSplit(t, QStringLiteral("when"), 100, 0.3)); // everything before the cutoff: empty test
        data::ColumnBuilder b(data::ColumnType::Datetime);
        b.appendDatetime(1);
        b.appendNull();
        b.appendDatetime(3);
        const data::Table withNull({b.finish(QStringLiteral("when"))});
        auto nullTime = timeSplit(withNull, QStringLiteral("when"), std::nullopt, 0.3);
        QVERIFY(!nullTime);
        QVERIFY(nullTime.error().message.contains(QStringLiteral("row 2")));
    }
};

QTEST_GUILESS_MAIN(TstSplit)
#include "tst_split.moc"
