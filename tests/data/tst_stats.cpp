#include "data/stats.h"
#include "stats/recipesample.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>

using namespace keel::data;

namespace {

// Independent reference: the plain alternating series, summed far past convergence.
double seriesQ(double lambda)
{
    double sum = 0;
    for (int k = 1; k <= 2000; ++k)
        sum += (k % 2 ? 1.0 : -1.0) * std::exp(-2.0 * k * k * lambda * lambda);
    return 2.0 * sum;
}

std::vector<double> vec(std::initializer_list<double> v) { return std::vector<double>(v); }

/// Brute-force exact two-sample KS p-value for small continuous samples: over every way of choosing which n of the
/// n+m pooled positions belong to the first sample, the share whose D reaches the observed one.
double bruteForceKsP(int n, int m, double observed)
{
    qint64 total = 0, extreme = 0;
    std::vector<int> pick(size_t(n + m), 0);
    std::fill(pick.begin(), pick.begin() + n, 1);
    std::sort(pick.begin(), pick.end());
    do {
        int i = 0, j = 0;
        double d = 0;
        for (int v : pick) {
            (v ? i : j) += 1;
            d = std::max(d, std::abs(double(i) / n - double(j) / m));
        }
        ++total;
        extreme += d >= observed - 1e-12 ? 1 : 0;
    } while (std::next_permutation(pick.begin(), pick.end()));
    return double(extreme) / double(total);
}

QJsonObject reference()
{
    QFile f(QStringLiteral(KEEL_TEST_DATA_DIR "/stats/scipy_reference.json"));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read the SciPy reference values");
    return QJsonDocument::fromJson(f.readAll()).object();
}

/// |got - want| within `rel` of max(|want|, tiny): p-values far in the tail are compared relatively.
bool close(double got, double want, double rel, double tiny = 1e-300)
{
    return std::abs(got - want) <= rel * std::max(std::abs(want), tiny);
}

} // namespace

class TstStats : public QObject {
    Q_OBJECT
private slots:
    void quantiles_data()
    {
        QTest::addColumn<double>("p");
        QTest::addColumn<double>("expected");
        // numpy.percentile([1, 2, 3, 4], 100 * p)
        QTest::newRow("min") << 0.0 << 1.0;
        QTest::newRow("p25") << 0.25 << 1.75;
        QTest::newRow("median") << 0.5 << 2.5;
        QTest::newRow("p90") << 0.9 << 3.7;
        QTest::newRow("max") << 1.0 << 4.0;
    }
    void quantiles()
    {
        QFETCH(double, p);
        QFETCH(double, expected);
        const auto v = vec({1, 2, 3, 4});
        QVERIFY(std::abs(quantileSorted(v, p) - expected) < 1e-12);
    }
    void quantileEmpty() { QVERIFY(std::isnan(quantileSorted({}, 0.5))); }

    // Published critical values of the Kolmogorov distribution: P(K > λ_α) = α.
    void kolmogorovPublished_data()
    {
        QTest::addColumn<double>("lambda");
        QTest::addColumn<double>("alpha");
        QTest::newRow("median") << 0.8276 << 0.5;
        QTest::newRow("0.20") << 1.0727 << 0.20;
        QTest::newRow("0.10") << 1.2238 << 0.10;
        QTest::newRow("0.05") << 1.3581 << 0.05;
        QTest::newRow("0.025") << 1.4802 << 0.025;
        QTest::newRow("0.01") << 1.6276 << 0.01;
        QTest::newRow("0.001") << 1.9495 << 0.001;
    }
    void kolmogorovPublished()
    {
        QFETCH(double, lambda);
        QFETCH(double, alpha);
        const double q = kolmogorovSurvival(lambda);
        QVERIFY2(std::abs(q - alpha) < 1e-4, qPrintable(QString::number(q, 'g', 10)));
    }

    void kolmogorovBothBranches()
    {
        // Both the theta form (λ < 1.18) and the alternating series must agree with the long series.
        for (double lambda = 0.3; lambda < 3.0; lambda += 0.05)
            QVERIFY2(std::abs(kolmogorovSurvival(lambda) - seriesQ(lambda)) < 1e-12, qPrintable(QString::number(lambda)));
        QCOMPARE(kolmogorovSurvival(0.0), 1.0);
        QVERIFY(kolmogorovSurvival(0.05) > 0.999999);
        QVERIFY(kolmogorovSurvival(10.0) < 1e-80);
    }

    void ks_data()
    {
        QTest::addColumn<std::vector<double>>("a");
        QTest::addColumn<std::vector<double>>("b");
        QTest::addColumn<double>("d");
        // Hand-computed sup |F_a - F_b|.
        QTest::newRow("separated") << vec({1, 2, 3, 4, 5}) << vec({6, 7, 8}) << 1.0;
        QTest::newRow("ties") << vec({1, 2, 3, 4}) << vec({3, 4, 5, 6}) << 0.5;
        QTest::newRow("interleaved") << vec({0.9, 0.1, 0.5}) << vec({0.2, 0.6, 0.4, 0.3}) << 5.0 / 12.0;
        QTest::newRow("identical") << vec({3, 1, 2, 2}) << vec({2, 2, 1, 3}) << 0.0;
        QTest::newRow("nan ignored") << vec({1, 2, std::nan("")}) << vec({1, 2}) << 0.0;
    }
    void ks()
    {
        QFETCH(std::vector<double>, a);
        QFETCH(std::vector<double>, b);
        QFETCH(double, d);
        const TestResult r = kolmogorovSmirnov(a, b);
        QVERIFY2(std::abs(r.statistic - d) < 1e-12, qPrintable(QString::number(r.statistic)));
    }
    void ksSeparatedHandValue()
    {
        // n = 5, m = 3, D = 1: only the two arrangements that put all of one sample first reach it, of C(8,3) = 56.
        const TestResult r = kolmogorovSmirnov(vec({1, 2, 3, 4, 5}), vec({6, 7, 8}));
        QVERIFY2(std::abs(r.pValue - 2.0 / 56.0) < 1e-15, qPrintable(QString::number(r.pValue, 'g', 17)));
    }
    void ksExactAgainstBruteForce()
    {
        // Every p-value the exact method can give for small samples, against enumeration of all arrangements.
        for (const auto &[n, m] : {std::pair{3, 4}, std::pair{5, 5}, std::pair{4, 9}, std::pair{6, 7}, std::pair{8, 8}}) {
            const qint64 g = std::gcd(qint64(n), qint64(m)), lcm = qint64(n) / g * qint64(m);
            for (qint64 h = 1; h <= lcm; ++h) {
                const double want = bruteForceKsP(n, m, double(h) / double(lcm));
                const double got = kolmogorovSmirnovExact(n, m, h);
                QVERIFY2(std::abs(got - want) < 1e-12,
                         qPrintable(QStringLiteral("n=%1 m=%2 h=%3: %4 vs %5").arg(n).arg(m).arg(h).arg(got).arg(want)));
            }
        }
    }
    void ksAgainstScipy()
    {
        // scipy.stats.ks_2samp(method='auto') on 15 pairs of samples: exact below 10,000 values, the finite-n
        // Kolmogorov distribution above (tests/data/stats/make_reference.py).
        for (const QJsonValue &v : reference().value(QStringLiteral("ks")).toArray()) {
            const QJsonObject c = v.toObject();
            const std::vector<double> a = sampleOf(c.value(QStringLiteral("a")).toObject());
            const std::vector<double> b = sampleOf(c.value(QStringLiteral("b")).toObject());
            const TestResult r = kolmogorovSmirnov(a, b);
            const double d = c.value(QStringLiteral("statistic")).toDouble(), p = c.value(QStringLiteral("pvalue")).toDouble();
            const QString what = QStringLiteral("n=%1 m=%2: D %3 vs %4, p %5 vs %6")
                                     .arg(a.size()).arg(b.size()).arg(r.statistic, 0, 'g', 17).arg(d, 0, 'g', 17)
                                     .arg(r.pValue, 0, 'g', 17).arg(p, 0, 'g', 17);
            QVERIFY2(std::abs(r.statistic - d) < 1e-14, qPrintable(what));
            QVERIFY2(close(r.pValue, p, 1e-9, 1e-12), qPrintable(what));
        }
    }
    void kolmogorovFiniteNAgainstScipy()
    {
        // scipy.stats.kstwo.sf(d, n) over every region of Simard and L'Ecuyer's algorithm, and scipy.special.smirnov.
        const QJsonObject ref = reference();
        for (const QJsonValue &v : ref.value(QStringLiteral("kstwo")).toArray()) {
            const QJsonObject c = v.toObject();
            const qint64 n = c.value(QStringLiteral("n")).toInteger();
            const double d = c.value(QStringLiteral("d")).toDouble(), want = c.value(QStringLiteral("sf")).toDouble();
            const double got = kolmogorovSurvivalN(n, d);
            QVERIFY2(close(got, want, 1e-9, 1e-14),
                     qPrintable(QStringLiteral("kstwo n=%1 d=%2: %3 vs %4").arg(n).arg(d).arg(got, 0, 'g', 17).arg(want, 0, 'g', 17)));
        }
        for (const QJsonValue &v : ref.value(QStringLiteral("smirnov")).toArray()) {
            const QJsonObject c = v.toObject();
            const qint64 n = c.value(QStringLiteral("n")).toInteger();
            const double d = c.value(QStringLiteral("d")).toDouble(), want = c.value(QStringLiteral("sf")).toDouble();
            const double got = smirnovSurvival(n, d);
            QVERIFY2(close(got, want, 1e-9, 1e-14),
                     qPrintable(QStringLiteral("smirnov n=%1 d=%2: %3 vs %4").arg(n).arg(d).arg(got, 0, 'g', 17).arg(want, 0, 'g', 17)));
        }
    }
    void wassersteinAgainstScipy()
    {
        for (const QJsonValue &v : reference().value(QStringLiteral("wasserstein")).toArray()) {
            const QJsonObject c = v.toObject();
            const double got = wasserstein(sampleOf(c.value(QStringLiteral("a")).toObject()),
                                           sampleOf(c.value(QStringLiteral("b")).toObject()));
            const double want = c.value(QStringLiteral("distance")).toDouble();
            QVERIFY2(close(got, want, 1e-12), qPrintable(QStringLiteral("%1 vs %2").arg(got, 0, 'g', 17).arg(want, 0, 'g', 17)));
        }
        // By hand: moving every value of {0, 1} by 3 costs 3; {0} vs {1, 2} costs (1 + 2) / 2.
        QVERIFY(std::abs(wasserstein(vec({0, 1}), vec({3, 4})) - 3.0) < 1e-15);
        QVERIFY(std::abs(wasserstein(vec({0}), vec({1, 2})) - 1.5) < 1e-15);
        QVERIFY(std::isnan(wasserstein({}, vec({1}))));
    }
    void categoricalAgainstScipy()
    {
        const QJsonObject ref = reference();
        auto counts = [](const QJsonValue &v) {
            std::vector<qint64> out;
            for (const QJsonValue &x : v.toArray())
                out.push_back(x.toInteger());
            return out;
        };
        for (const QJsonValue &v : ref.value(QStringLiteral("js")).toArray()) {
            const QJsonObject c = v.toObject();
            const double got = jensenShannonDistance(counts(c.value(QStringLiteral("a"))), counts(c.value(QStringLiteral("b"))));
            QVERIFY2(std::abs(got - c.value(QStringLiteral("distance")).toDouble()) < 1e-12, qPrintable(QString::number(got)));
        }
        for (const QJsonValue &v : ref.value(QStringLiteral("chi2")).toArray()) {
            const QJsonObject c = v.toObject();
            const TestResult r = chiSquare(counts(c.value(QStringLiteral("a"))), counts(c.value(QStringLiteral("b"))));
            QVERIFY(close(r.statistic, c.value(QStringLiteral("statistic")).toDouble(), 1e-12, 1e-12));
            QVERIFY(close(r.pValue, c.value(QStringLiteral("pvalue")).toDouble(), 1e-10, 1e-14));
        }
    }
    void psiAgainstReference()
    {
        // PSI is not in SciPy: numpy computes it from the README's definition in make_reference.py.
        for (const QJsonValue &v : reference().value(QStringLiteral("psi")).toArray()) {
            const QJsonObject c = v.toObject();
            const double got = populationStabilityIndex(sampleOf(c.value(QStringLiteral("a")).toObject()),
                                                        sampleOf(c.value(QStringLiteral("b")).toObject()));
            const double want = c.value(QStringLiteral("psi")).toDouble();
            QVERIFY2(close(got, want, 1e-12, 1e-12), qPrintable(c.value(QStringLiteral("name")).toString()));
        }
    }
    void psiSeesATotalShift()
    {
        // A column that moves entirely out of the reference range (year 2010 -> 2011) is a large shift, not 0.
        const std::vector<double> y2010(500, 2010.0), y2011(400, 2011.0);
        QVERIFY(populationStabilityIndex(y2010, y2011) >= 0.25);
        std::vector<double> spread, moved;
        for (int i = 0; i < 1000; ++i) {
            spread.push_back(2000 + i % 11);
            moved.push_back(2011 + i % 3);
        }
        QVERIFY(populationStabilityIndex(spread, moved) >= 0.25);
    }
    void ksEmpty()
    {
        const TestResult r = kolmogorovSmirnov({}, vec({1}));
        QCOMPARE(r.statistic, 0.0);
        QCOMPARE(r.pValue, 1.0);
    }

    void psi_data()
    {
        QTest::addColumn<std::vector<double>>("reference");
        QTest::addColumn<std::vector<double>>("current");
        QTest::addColumn<int>("bins");
        QTest::addColumn<double>("expected");
        const auto ref10 = vec({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        // Cut at the median 5.5, plus the open bins below 1 and above 10: reference 0 / 0.5 / 0.5 / 0, current
        // 0 / 0.3 / 0.5 / 0.2 (11 and 12 lie above the reference range).
        QTest::newRow("two bins") << ref10 << vec({1, 2, 3, 6, 7, 8, 9, 10, 11, 12}) << 2
                                  << (-0.2) * std::log(0.3 / 0.5) + (0.2 - 1e-4) * std::log(0.2 / 1e-4);
        // Empty current bin replaced by 1e-4.
        QTest::newRow("epsilon") << ref10 << vec({6, 7, 8}) << 2
                                 << (1e-4 - 0.5) * std::log(1e-4 / 0.5) + 0.5 * std::log(1.0 / 0.5);
        // Cuts at p = .2 .4 .6 .8 are 0 0 0 0.2 -> merged {0, 0.2}; bins (<0) [0,0.2) [0.2,inf):
        // reference 0 / 0.8 / 0.2, current 0 / 0.25 / 0.75.
        QTest::newRow("duplicate cuts") << vec({0, 0, 0, 0, 0, 0, 0, 0, 1, 2}) << vec({0, 1, 1, 2}) << 5
                                        << (0.25 - 0.8) * std::log(0.25 / 0.8) + (0.75 - 0.2) * std::log(0.75 / 0.2);
        // A mass point: nine zeros take the quantiles .1 to .8, so 0 gets the bin [0, next double) and values just
        // above it ([tiny, 0.5)) are told apart from it. Reference 0 / 0.9 / 0 / 0.1 / 0, current 0 / 0 / 1 / 0 / 0
        // (merging the cuts alone would put 0.2 in the zeros' bin and see almost no drift).
        QTest::newRow("mass point") << vec({0, 0, 0, 0, 0, 0, 0, 0, 0, 5}) << vec({0.2, 0.2, 0.2, 0.2}) << 10
                                    << (1e-4 - 0.9) * std::log(1e-4 / 0.9) + (1 - 1e-4) * std::log(1 / 1e-4)
                                           + (1e-4 - 0.1) * std::log(1e-4 / 0.1);
        QTest::newRow("identical") << ref10 << ref10 << 10 << 0.0;
    }
    void psi()
    {
        QFETCH(std::vector<double>, reference);
        QFETCH(std::vector<double>, current);
        QFETCH(int, bins);
        QFETCH(double, expected);
        const double got = populationStabilityIndex(reference, current, bins);
        QVERIFY2(std::abs(got - expected) < 1e-12, qPrintable(QString::number(got, 'g', 12)));
    }
    void psiDefaultBins()
    {
        // 100 values, ten deciles; shifting the current sample by one decile width moves ~10% of the mass
        // per bin boundary: brute force the same bins here.
        std::vector<double> ref, cur;
        for (int i = 1; i <= 100; ++i) {
            ref.push_back(i);
            cur.push_back(i + 30);
        }
        // Cuts: the minimum, the nine inner deciles, just above the maximum: twelve bins.
        std::vector<double> cuts{1.0};
        for (int i = 1; i < 10; ++i) {
            const double h = 99.0 * i / 10.0;
            const int lo = int(std::floor(h));
            cuts.push_back(ref[size_t(lo)] + (h - lo) * (ref[size_t(lo) + 1] - ref[size_t(lo)]));
        }
        cuts.push_back(std::nextafter(100.0, 1e9));
        auto shares = [&](const std::vector<double> &v) {
            std::vector<double> s(12, 0.0);
            for (double x : v) {
                int bin = 0;
                while (bin < 11 && x >= cuts[size_t(bin)])
                    ++bin;
                s[size_t(bin)] += 1.0 / double(v.size());
            }
            return s;
        };
        const auto r = shares(ref), c = shares(cur);
        double expected = 0;
        for (int i = 0; i < 12; ++i) {
            const double ri = r[size_t(i)] > 0 ? r[size_t(i)] : 1e-4, ci = c[size_t(i)] > 0 ? c[size_t(i)] : 1e-4;
            expected += (ci - ri) * std::log(ci / ri);
        }
        QVERIFY(expected > 1.0);
        QVERIFY(std::abs(populationStabilityIndex(ref, cur) - expected) < 1e-12);
        QVERIFY(std::isnan(populationStabilityIndex({}, cur)));
    }

    void chi2_data()
    {
        QTest::addColumn<std::vector<qint64>>("a");
        QTest::addColumn<std::vector<qint64>>("b");
        QTest::addColumn<double>("statistic");
        QTest::addColumn<double>("pValue");
        // 2x3: totals 60/60, columns 30/40/50, expected 15/20/25 per row: stat = 2 (25/15 + 0 + 25/25) = 16/3,
        // two degrees of freedom: p = exp(-stat/2).
        QTest::newRow("2x3") << std::vector<qint64>{10, 20, 30} << std::vector<qint64>{20, 20, 20} << 16.0 / 3.0
                             << std::exp(-8.0 / 3.0);
        // 2x2: expected 15 everywhere, stat = 4 * 25 / 15; one degree of freedom: p = erfc(sqrt(stat / 2)).
        QTest::newRow("2x2") << std::vector<qint64>{10, 20} << std::vector<qint64>{20, 10} << 20.0 / 3.0
                             << std::erfc(std::sqrt(10.0 / 3.0));
        QTest::newRow("empty category dropped") << std::vector<qint64>{10, 0, 20} << std::vector<qint64>{20, 0, 10}
                                                << 20.0 / 3.0 << std::erfc(std::sqrt(10.0 / 3.0));
        QTest::newRow("padded") << std::vector<qint64>{10, 20, 30} << std::vector<qint64>{20, 20, 20, 0} << 16.0 / 3.0
                                << std::exp(-8.0 / 3.0);
        QTest::newRow("proportional") << std::vector<qint64>{1, 2, 3} << std::vector<qint64>{2, 4, 6} << 0.0 << 1.0;
        QTest::newRow("one category") << std::vector<qint64>{5} << std::vector<qint64>{7} << 0.0 << 1.0;
        QTest::newRow("empty row") << std::vector<qint64>{0, 0} << std::vector<qint64>{3, 4} << 0.0 << 1.0;
    }
    void chi2()
    {
        QFETCH(std::vector<qint64>, a);
        QFETCH(std::vector<qint64>, b);
        QFETCH(double, statistic);
        QFETCH(double, pValue);
        const TestResult r = chiSquare(a, b);
        QVERIFY2(std::abs(r.statistic - statistic) < 1e-12, qPrintable(QString::number(r.statistic, 'g', 12)));
        QVERIFY2(std::abs(r.pValue - pValue) < 1e-12, qPrintable(QString::number(r.pValue, 'g', 12)));
    }

    void js_data()
    {
        QTest::addColumn<std::vector<qint64>>("a");
        QTest::addColumn<std::vector<qint64>>("b");
        QTest::addColumn<double>("expected");
        QTest::newRow("identical shares") << std::vector<qint64>{1, 2, 3} << std::vector<qint64>{2, 4, 6} << 0.0;
        QTest::newRow("disjoint") << std::vector<qint64>{1, 0} << std::vector<qint64>{0, 5} << 1.0;
        QTest::newRow("disjoint padded") << std::vector<qint64>{4} << std::vector<qint64>{0, 5} << 1.0;
        // P = (1/2, 1/2), Q = (1, 0), M = (3/4, 1/4):
        // JS = 1/2 [1/2 log2(2/3) + 1/2 log2(2)] + 1/2 [log2(4/3)].
        // The distance is the square root of that divergence.
        QTest::newRow("hand") << std::vector<qint64>{1, 1} << std::vector<qint64>{1, 0}
                              << std::sqrt(0.25 * std::log2(2.0 / 3.0) + 0.25 + 0.5 * std::log2(4.0 / 3.0));
    }
    void js()
    {
        QFETCH(std::vector<qint64>, a);
        QFETCH(std::vector<qint64>, b);
        QFETCH(double, expected);
        const double got = jensenShannonDistance(a, b);
        QVERIFY2(std::abs(got - expected) < 1e-12, qPrintable(QString::number(got, 'g', 12)));
        QVERIFY2(std::abs(jensenShannonDistance(b, a) - expected) < 1e-12, "symmetric");
    }
    void jsEmpty() { QVERIFY(std::isnan(jensenShannonDistance({0, 0}, {1, 2}))); }
};

QTEST_GUILESS_MAIN(TstStats)
#include "tst_stats.moc"
