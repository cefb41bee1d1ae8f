// Equal-width binning, the one rule behind profile histograms and the diff view's distribution overlay: bins
// checked against a linear scan, and a profile's histogram equal to the comparison's counts on the same column.
#include "data/distribution.h"
#include "data/profile.h"

#include <QTest>

#include <cmath>
#include <random>

using namespace keel;
using namespace keel::data;

class TestDistribution : public QObject {
    Q_OBJECT

private slots:
    void binOfMatchesLinearScan()
    {
        std::mt19937_64 rng(3);
        std::uniform_real_distribution<double> u(-10, 10);
        for (int trial = 0; trial < 500; ++trial) {
            const double a = u(rng), b = u(rng);
            const int bins = 1 + int(rng() % 40);
            const auto edges = equalWidthEdges(std::min(a, b), std::max(a, b), bins);
            QCOMPARE(int(edges.size()), bins + 1);
            QCOMPARE(edges.back(), std::max(a, b));
            for (int k = 0; k < 50; ++k) {
                // Values inside, outside and exactly on edges.
                const double v = k % 5 == 0 ? edges[size_t(rng() % edges.size())] : u(rng);
                int expected = 0;   // the last edge at or below v, clamped to the bins
                for (int i = 0; i < bins; ++i)
                    if (v >= edges[size_t(i)])
                        expected = i;
                QCOMPARE(binOf(edges, v), expected);
            }
        }
        const auto single = equalWidthEdges(2.0, 2.0, 20);
        QCOMPARE(single, (std::vector<double>{2.0, 2.0}));
        QCOMPARE(binOf(single, 2.0), 0);
    }

    void profileHistogramEqualsComparisonCounts()
    {
        std::mt19937_64 rng(8);
        std::normal_distribution<double> n(3, 2);
        ColumnBuilder b(ColumnType::Float64);
        for (int i = 0; i < 5000; ++i)
            b.appendFloat64(i % 97 == 0 ? std::nan("") : std::round(n(rng) * 8) / 8);   // ties on bin edges
        const Column c = b.finish(QStringLiteral("x"));
        auto profile = profileColumn(c);
        QVERIFY(profile);
        auto cmp = compareDistributions(&c, nullptr, kProfileHistogramBins);
        QVERIFY(cmp);
        QCOMPARE(cmp->edges, profile->histogram.edges);
        QCOMPARE(cmp->countsA, profile->histogram.counts);
    }
};

QTEST_GUILESS_MAIN(TestDistribution)
#include "tst_distribution.moc"
