// The paired tests behind `keel models compare`, against values statsmodels, SciPy and a pair-by-pair DeLong in
// numpy computed (tests/data/stats/make_paired_reference.py), against brute force on small data, and the bootstrap's
// promises (reproducible by seed whatever the thread count, intervals that cover, p-values that react).
#include "ml/pairedtests.h"

#include "../data/stats/recipesample.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <cmath>
#include <numeric>
#include <random>

using namespace keel;
using namespace keel::ml;

namespace {

QJsonObject reference()
{
    QFile f(QStringLiteral(KEEL_TEST_DATA_DIR "/stats/paired_reference.json"));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read the paired-test reference values");
    return QJsonDocument::fromJson(f.readAll()).object();
}

bool close(double got, double want, double rel)
{
    return std::abs(got - want) <= rel * std::max(std::abs(want), 1e-300);
}

/// DeLong by its definition, pair by pair, for the brute-force check.
DelongResult delongByPairs(const std::vector<double> &y, const std::vector<double> &a, const std::vector<double> &b)
{
    std::vector<size_t> pos, neg;
    for (size_t i = 0; i < y.size(); ++i)
        (y[i] == 1 ? pos : neg).push_back(i);
    const double m = double(pos.size()), n = double(neg.size());
    auto psi = [](double x, double w) { return x > w ? 1.0 : x == w ? 0.5 : 0.0; };
    std::vector<double> v10[2], v01[2];
    double auc[2];
    const std::vector<double> *s[2] = {&a, &b};
    for (int k = 0; k < 2; ++k) {
        v10[k].assign(pos.size(), 0);
        v01[k].assign(neg.size(), 0);
        double total = 0;
        for (size_t i = 0; i < pos.size(); ++i)
            for (size_t j = 0; j < neg.size(); ++j) {
                const double p = psi((*s[k])[pos[i]], (*s[k])[neg[j]]);
                v10[k][i] += p / n;
                v01[k][j] += p / m;
                total += p;
            }
        auc[k] = total / (m * n);
    }
    auto cov = [](const std::vector<double> &u, const std::vector<double> &v) {
        const double mu = std::accumulate(u.begin(), u.end(), 0.0) / double(u.size());
        const double mv = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
        double c = 0;
        for (size_t i = 0; i < u.size(); ++i)
            c += (u[i] - mu) * (v[i] - mv);
        return c / double(u.size() - 1);
    };
    DelongResult r;
    r.aucA = auc[0];
    r.aucB = auc[1];
    r.varA = cov(v10[0], v10[0]) / m + cov(v01[0], v01[0]) / n;
    r.varB = cov(v10[1], v10[1]) / m + cov(v01[1], v01[1]) / n;
    r.covariance = cov(v10[0], v10[1]) / m + cov(v01[0], v01[1]) / n;
    return r;
}

} // namespace

class TestPairedTests : public QObject {
    Q_OBJECT

private slots:
    void mcnemarAgainstStatsmodels()
    {
        for (const QJsonValue &v : reference().value(QStringLiteral("mcnemar")).toArray()) {
            const QJsonObject c = v.toObject();
            const TestResult r = mcnemar(c.value(QStringLiteral("b")).toInteger(), c.value(QStringLiteral("c")).toInteger());
            const QString where = QStringLiteral("b=%1 c=%2").arg(c.value(QStringLiteral("b")).toInteger()).arg(c.value(QStringLiteral("c")).toInteger());
            QVERIFY2(close(r.statistic, c.value(QStringLiteral("statistic")).toDouble(), 1e-12), qPrintable(where));
            QVERIFY2(close(r.pvalue, c.value(QStringLiteral("pvalue")).toDouble(), 1e-9), qPrintable(where));
            QCOMPARE(r.method.contains(QStringLiteral("exact")), c.value(QStringLiteral("exact")).toBool());
        }
    }

    void wilcoxonAgainstScipy()
    {
        for (const QJsonValue &v : reference().value(QStringLiteral("wilcoxon")).toArray()) {
            const QJsonObject c = v.toObject();
            const std::vector<double> a = sampleOf(c.value(QStringLiteral("a")).toObject());
            const std::vector<double> b = sampleOf(c.value(QStringLiteral("b")).toObject());
            std::vector<double> d(a.size());
            for (size_t i = 0; i < a.size(); ++i)
                d[i] = a[i] - b[i];
            const TestResult r = wilcoxonSignedRank(d);
            const QString where = QStringLiteral("n=%1: T %2 vs %3, p %4 vs %5")
                                      .arg(a.size())
                                      .arg(r.statistic)
                                      .arg(c.value(QStringLiteral("statistic")).toDouble())
                                      .arg(r.pvalue)
                                      .arg(c.value(QStringLiteral("pvalue")).toDouble());
            QVERIFY2(close(r.statistic, c.value(QStringLiteral("statistic")).toDouble(), 1e-12), qPrintable(where));
            QVERIFY2(close(r.pvalue, c.value(QStringLiteral("pvalue")).toDouble(), 1e-9), qPrintable(where));
            QCOMPARE(r.method.contains(QStringLiteral("exact")), c.value(QStringLiteral("exact")).toBool());
        }
        QVERIFY(std::isnan(wilcoxonSignedRank(std::vector<double>{0, 0, 0}).pvalue));
    }

    void delongAgainstReference()
    {
        for (const QJsonValue &v : reference().value(QStringLiteral("delong")).toArray()) {
            const QJsonObject c = v.toObject();
            const std::vector<double> u = sampleOf(c.value(QStringLiteral("labels")).toObject());
            const std::vector<double> na = sampleOf(c.value(QStringLiteral("noise_a")).toObject());
            const std::vector<double> nb = sampleOf(c.value(QStringLiteral("noise_b")).toObject());
            const double threshold = c.value(QStringLiteral("threshold")).toDouble();
            std::vector<double> y(u.size()), a(u.size()), b(u.size());
            for (size_t i = 0; i < u.size(); ++i) {
                y[i] = u[i] < threshold ? 1.0 : 0.0;
                a[i] = y[i] * c.value(QStringLiteral("signal_a")).toDouble() + na[i];
                b[i] = y[i] * c.value(QStringLiteral("signal_b")).toDouble() + nb[i];
            }
            auto r = delong(y, a, b);
            QVERIFY2(r, qPrintable(r.message()));
            QVERIFY(close(r->aucA, c.value(QStringLiteral("auc_a")).toDouble(), 1e-12));
            QVERIFY(close(r->aucB, c.value(QStringLiteral("auc_b")).toDouble(), 1e-12));
            QVERIFY(close(r->varA, c.value(QStringLiteral("var_a")).toDouble(), 1e-9));
            QVERIFY(close(r->varB, c.value(QStringLiteral("var_b")).toDouble(), 1e-9));
            QVERIFY(close(r->covariance, c.value(QStringLiteral("covariance")).toDouble(), 1e-9));
            QVERIFY(close(r->z, c.value(QStringLiteral("z")).toDouble(), 1e-9));
            QVERIFY(close(r->pvalue, c.value(QStringLiteral("pvalue")).toDouble(), 1e-9));
        }
    }

    void delongMatchesPairsAndBootstrap()
    {
        std::mt19937_64 rng(4);
        std::normal_distribution<double> noise(0, 1);
        for (int trial = 0; trial < 20; ++trial) {
            const int n = 20 + trial * 7;
            std::vector<double> y(static_cast<size_t>(n)), a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
            for (int i = 0; i < n; ++i) {
                y[size_t(i)] = i % 3 == 0 ? 1.0 : 0.0;
                const double shared = noise(rng);
                a[size_t(i)] = std::round((y[size_t(i)] + shared + 0.5 * noise(rng)) * 4) / 4;   // ties
                b[size_t(i)] = 0.7 * y[size_t(i)] + shared + 0.8 * noise(rng);
            }
            const DelongResult want = delongByPairs(y, a, b);
            auto got = delong(y, a, b);
            QVERIFY(got);
            QVERIFY(close(got->aucA, want.aucA, 1e-12) && close(got->aucB, want.aucB, 1e-12));
            QVERIFY(close(got->varA, want.varA, 1e-9) && close(got->varB, want.varB, 1e-9));
            QVERIFY(close(got->covariance, want.covariance, 1e-9));
        }
        // The variance of the AUC difference against a brute-force bootstrap of the rows.
        const int n = 400;
        std::vector<double> y(n), a(n), b(n);
        for (int i = 0; i < n; ++i) {
            y[size_t(i)] = i % 2;
            const double shared = noise(rng);
            a[size_t(i)] = y[size_t(i)] * 0.9 + shared + noise(rng);
            b[size_t(i)] = y[size_t(i)] * 0.6 + shared + noise(rng);
        }
        auto d = delong(y, a, b);
        QVERIFY(d);
        const double delongVar = d->varA + d->varB - 2 * d->covariance;
        std::vector<double> diffs;
        std::uniform_int_distribution<int> pick(0, n - 1);
        for (int r = 0; r < 2000; ++r) {
            std::vector<double> yy(n), aa(n), bb(n);
            for (int i = 0; i < n; ++i) {
                const int k = pick(rng);
                yy[size_t(i)] = y[size_t(k)];
                aa[size_t(i)] = a[size_t(k)];
                bb[size_t(i)] = b[size_t(k)];
            }
            auto rr = delong(yy, aa, bb);
            QVERIFY(rr);
            diffs.push_back(rr->aucA - rr->aucB);
        }
        const double mean = std::accumulate(diffs.begin(), diffs.end(), 0.0) / double(diffs.size());
        double var = 0;
        for (double x : diffs)
            var += (x - mean) * (x - mean) / double(diffs.size() - 1);
        QVERIFY2(std::abs(var / delongVar - 1) < 0.15, qPrintable(QStringLiteral("bootstrap %1, DeLong %2").arg(var).arg(delongVar)));
    }

    // The published worked example: Hanley & McNeil (1982), Radiology 143:29-36, Table 1 — a radiologist's 5-point
    // ratings of 109 CT images, 58 normal and 51 abnormal. The paper reports the area as 0.893 and its standard error
    // as 0.032 from its exponential approximation; DeLong's nonparametric variance (structural components, each
    // with n-1) of the same ratings is 0.030724 (by hand: the variance of the 51 and 58 placement values). The test
    // also checks a model against itself: zero difference, zero variance of the difference.
    void delongOnHanleyMcNeil()
    {
        std::vector<double> y, ratings;
        const int normal[5] = {33, 6, 6, 11, 2}, abnormal[5] = {3, 2, 2, 11, 33};
        for (int r = 0; r < 5; ++r) {
            for (int i = 0; i < normal[r]; ++i) { y.push_back(0); ratings.push_back(r + 1); }
            for (int i = 0; i < abnormal[r]; ++i) { y.push_back(1); ratings.push_back(r + 1); }
        }
        QCOMPARE(y.size(), size_t(109));
        std::vector<double> reversed(ratings.rbegin(), ratings.rend());
        std::vector<double> yr(y.rbegin(), y.rend());
        auto d = delong(y, ratings, ratings);
        QVERIFY(d);
        QCOMPARE(QString::number(d->aucA, 'f', 3), QStringLiteral("0.893"));
        QVERIFY(std::abs(d->aucA - 2642.0 / 2958.0) < 1e-12);                  // (U + ties/2) / (51 * 58), exact
        QVERIFY(std::abs(std::sqrt(d->varA) - 0.030724408) < 1e-8);
        QVERIFY(std::abs(std::sqrt(d->varA) - 0.032) < 0.0025);                // close to the published approximation
        QVERIFY(std::abs(d->varA + d->varB - 2 * d->covariance) < 1e-15);
        QCOMPARE(d->aucA, d->aucB);
        // Row order does not matter.
        auto dr = delong(yr, reversed, reversed);
        QVERIFY(dr);
        QVERIFY(std::abs(dr->varA - d->varA) < 1e-15);
    }

    void delongErrors()
    {
        QVERIFY(!delong(std::vector<double>{1, 1}, std::vector<double>{0.1, 0.2}, std::vector<double>{0.3, 0.4}));
        QVERIFY(!delong(std::vector<double>{1, 2}, std::vector<double>{0.1, 0.2}, std::vector<double>{0.3, 0.4}));
        QVERIFY(!delong(std::vector<double>{1, 0}, std::vector<double>{0.1}, std::vector<double>{0.3, 0.4}));
    }

    void percentilesAsNumpy()
    {
        // numpy.percentile([1..10], [2.5, 97.5]) = [1.225, 9.775]
        std::vector<double> v(10);
        std::iota(v.begin(), v.end(), 1.0);
        const auto [lo, hi] = percentileInterval(v, 0.95);
        QVERIFY(close(lo, 1.225, 1e-12));
        QVERIFY(close(hi, 9.775, 1e-12));
    }

    void pairedBootstrapBehaves()
    {
        std::mt19937_64 rng(9);
        std::normal_distribution<double> noise(0, 1);
        std::vector<double> centred(3000), shifted(3000);
        for (size_t i = 0; i < centred.size(); ++i) {
            centred[i] = noise(rng);
            shifted[i] = noise(rng) + 0.2;
        }
        auto one = pairedBootstrap(shifted, 500, 7, 0.95, 1);
        auto two = pairedBootstrap(shifted, 500, 7, 0.95, 2);
        QVERIFY(one && two);
        // Reproducible by seed whatever the number of threads.
        QCOMPARE(one->low, two->low);
        QCOMPARE(one->high, two->high);
        QCOMPARE(one->pvalue, two->pvalue);
        // A true shift of 0.2 (10 standard errors): the interval excludes 0 and covers the mean; p is 0.
        QVERIFY(one->low > 0 && one->low < one->mean && one->mean < one->high);
        QCOMPARE(one->pvalue, 0.0);
        // Interval width close to 2 x 1.96 x the standard error.
        QVERIFY(std::abs((one->high - one->low) / (2 * 1.96 / std::sqrt(3000.0)) - 1) < 0.15);
        auto null = pairedBootstrap(centred, 500, 7);
        QVERIFY(null);
        QVERIFY(null->pvalue > 0.01);
        QVERIFY(null->low < 0 && null->high > 0);
        Feedback cancelled;
        cancelled.cancel();
        QVERIFY(pairedBootstrap(shifted, 500, 7, 0.95, 1, &cancelled).is(ErrorKind::Cancelled));
    }
};

QTEST_GUILESS_MAIN(TestPairedTests)
#include "tst_pairedtests.moc"
