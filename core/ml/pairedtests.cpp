#include "ml/pairedtests.h"

#include "util/random.h"

#include "data/typeinfer.h"   // runTasks, ProgressCounter

#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>

#include <QThread>

#include <algorithm>
#include <numeric>

namespace keel::ml {

namespace {

double normalTwoSided(double z)
{
    if (!std::isfinite(z))
        return std::isnan(z) ? std::nan("") : 0.0;
    const boost::math::normal n;
    return std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(n, std::abs(z))));
}

/// Midranks (1-based, ties get the mean of their ranks) of `v`.
std::vector<double> midranks(std::span<const double> v)
{
    const size_t n = v.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> r(n);
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j + 1 < n && v[order[j + 1]] == v[order[i]])
            ++j;
        const double mid = 0.5 * double(i + j) + 1.0;
        for (size_t k = i; k <= j; ++k)
            r[order[k]] = mid;
        i = j + 1;
    }
    return r;
}

} // namespace

TestResult mcnemar(qint64 b, qint64 c)
{
    TestResult r;
    const qint64 n = b + c;
    if (n < 25) {
        r.method = QStringLiteral("McNemar exact (binomial)");
        r.statistic = double(std::min(b, c));
        if (n == 0) {
            r.pvalue = 1.0;
            return r;
        }
        const boost::math::binomial dist(double(n), 0.5);
        r.pvalue = std::min(1.0, 2.0 * boost::math::cdf(dist, r.statistic));
        return r;
    }
    r.method = QStringLiteral("McNemar chi-square with continuity correction");
    const double d = std::abs(double(b - c)) - 1.0;
    r.statistic = d * d / double(n);
    const boost::math::chi_squared dist(1.0);
    r.pvalue = boost::math::cdf(boost::math::complement(dist, r.statistic));
    return r;
}

Expected<DelongResult> delong(std::span<const double> y, std::span<const double> scoresA, std::span<const double> scoresB)
{
    if (scoresA.size() != y.size() || scoresB.size() != y.size())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("DeLong's test needs one score per row from each model"));
    std::vector<size_t> pos, neg;
    for (size_t i = 0; i < y.size(); ++i) {
        if (y[i] == 1.0)
            pos.push_back(i);
        else if (y[i] == 0.0)
            neg.push_back(i);
        else
            return makeError(ErrorKind::InvalidInput, QStringLiteral("DeLong's test needs labels 0 and 1 (row %1 has %2)")
                                                          .arg(i + 1)
                                                          .arg(y[i]));
    }
    if (pos.empty() || neg.empty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("DeLong's test needs both classes among the rows"));
    const double m = double(pos.size()), n = double(neg.size());
    // Placement values of each model: v01 per positive (share of negatives it outranks), v10 per negative.
    auto placements = [&](std::span<const double> s, double &auc, std::vector<double> &v01, std::vector<double> &v10) {
        std::vector<double> x(pos.size()), z(pos.size() + neg.size()), w(neg.size());
        for (size_t i = 0; i < pos.size(); ++i)
            x[i] = z[i] = s[pos[i]];
        for (size_t j = 0; j < neg.size(); ++j)
            w[j] = z[pos.size() + j] = s[neg[j]];
        const std::vector<double> tx = midranks(x), ty = midranks(w), tz = midranks(z);
        double sumPos = 0;
        v01.resize(pos.size());
        v10.resize(neg.size());
        for (size_t i = 0; i < pos.size(); ++i) {
            sumPos += tz[i];
            v01[i] = (tz[i] - tx[i]) / n;
        }
        for (size_t j = 0; j < neg.size(); ++j)
            v10[j] = 1.0 - (tz[pos.size() + j] - ty[j]) / m;
        auc = (sumPos - m * (m + 1) / 2) / (m * n);
    };
    DelongResult r;
    std::vector<double> a01, a10, b01, b10;
    placements(scoresA, r.aucA, a01, a10);
    placements(scoresB, r.aucB, b01, b10);
    auto cov = [](const std::vector<double> &u, const std::vector<double> &v) {
        const size_t k = u.size();
        if (k < 2)
            return 0.0;
        const double mu = std::accumulate(u.begin(), u.end(), 0.0) / double(k);
        const double mv = std::accumulate(v.begin(), v.end(), 0.0) / double(k);
        double s = 0;
        for (size_t i = 0; i < k; ++i)
            s += (u[i] - mu) * (v[i] - mv);
        return s / double(k - 1);
    };
    r.varA = cov(a01, a01) / m + cov(a10, a10) / n;
    r.varB = cov(b01, b01) / m + cov(b10, b10) / n;
    r.covariance = cov(a01, b01) / m + cov(a10, b10) / n;
    const double var = r.varA + r.varB - 2 * r.covariance;
    if (r.aucA == r.aucB) {
        r.z = 0;
        r.pvalue = 1;
    } else if (var > 0) {
        r.z = (r.aucA - r.aucB) / std::sqrt(var);
        r.pvalue = normalTwoSided(r.z);
    }
    return r;
}

TestResult wilcoxonSignedRank(std::span<const double> d)
{
    TestResult r;
    const size_t total = d.size();
    std::vector<double> nz;
    nz.reserve(total);
    for (double v : d)
        if (v != 0.0 && !std::isnan(v))
            nz.push_back(v);
    if (nz.empty())
        return r;
    std::vector<double> absd(nz.size());
    for (size_t i = 0; i < nz.size(); ++i)
        absd[i] = std::abs(nz[i]);
    const std::vector<double> ranks = midranks(absd);
    double rPlus = 0, rMinus = 0;
    for (size_t i = 0; i < nz.size(); ++i)
        (nz[i] > 0 ? rPlus : rMinus) += ranks[i];
    r.statistic = std::min(rPlus, rMinus);
    // Tie groups of |d|: sizes of runs of equal midranks.
    std::vector<double> sorted = ranks;
    std::sort(sorted.begin(), sorted.end());
    double tieTerm = 0;
    bool ties = false;
    for (size_t i = 0; i < sorted.size();) {
        size_t j = i;
        while (j < sorted.size() && sorted[j] == sorted[i])
            ++j;
        const double t = double(j - i);
        if (t > 1) {
            ties = true;
            tieTerm += t * (t * t - 1);
        }
        i = j;
    }
    const bool zeros = nz.size() < total;
    const size_t count = nz.size();
    if (total <= 50 && !zeros && !ties) {
        r.method = QStringLiteral("Wilcoxon signed-rank, exact");
        // Number of subsets of {1..n} with each rank sum: the null distribution of R+.
        const size_t maxSum = count * (count + 1) / 2;
        std::vector<double> ways(maxSum + 1, 0.0);
        ways[0] = 1;
        for (size_t k = 1; k <= count; ++k)
            for (size_t s = maxSum; s >= k; --s)
                ways[s] += ways[s - k];
        const double all = std::ldexp(1.0, int(count));
        const size_t rp = size_t(std::llround(rPlus));
        if (rp == maxSum / 2) {   // the centre, as SciPy tests it (integer division)
            r.pvalue = 1.0;
        } else {
            double less = 0, greater = 0;
            for (size_t s = 0; s <= rp; ++s)
                less += ways[s];
            for (size_t s = rp; s <= maxSum; ++s)
                greater += ways[s];
            r.pvalue = std::clamp(2 * std::min(less, greater) / all, 0.0, 1.0);
        }
        return r;
    }
    r.method = QStringLiteral("Wilcoxon signed-rank, normal approximation");
    const double c = double(count);
    const double mean = c * (c + 1) * 0.25;
    const double se = std::sqrt((c * (c + 1) * (2 * c + 1) - 0.5 * tieTerm) / 24.0);
    r.pvalue = se > 0 ? normalTwoSided((r.statistic - mean) / se) : std::nan("");
    return r;
}

Status bootstrapResamples(qint64 n, int resamples, quint64 seed, int threads,
                          const std::function<void(int r, const std::vector<quint8> &counts)> &body, Feedback *feedback)
{
    if (n <= 0 || resamples <= 0)
        return {};
    if (n > qint64(std::numeric_limits<quint32>::max()))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("too many rows to resample (%1)").arg(n));
    const int workers = threads > 0 ? threads : std::max(1, QThread::idealThreadCount());
    data::detail::ProgressCounter progress;
    progress.total = resamples;
    std::atomic<bool> stopped{false};
    std::atomic<bool> overflow{false};
    Status s = data::detail::runTasks(
        resamples, workers,
        [&](int r) {
            if (stopped.load(std::memory_order_relaxed) || isCancelled(feedback)) {
                stopped = true;
                return;
            }
            thread_local std::vector<quint8> counts;
            counts.assign(size_t(n), 0);
            Rng rng(seed ^ (quint64(r) * 0xd1342543de82ef95ULL));   // seeded through SplitMix64
            quint8 *c = counts.data();
            for (qint64 i = 0; i < n; ++i) {
                quint8 &slot = c[rng.below32(quint32(n))];
                if (slot == 255) {
                    overflow = true;
                    stopped = true;
                    return;
                }
                ++slot;
            }
            body(r, counts);
            progress.done.fetch_add(1, std::memory_order_relaxed);
        },
        feedback, &progress, QStringLiteral("bootstrap"));
    if (!s)
        return s;
    if (overflow)
        return makeError(QStringLiteral("a bootstrap resample drew one row 256 times (this should never happen)"));
    if (stopped || isCancelled(feedback))
        return cancelledError();
    return {};
}

std::pair<double, double> percentileInterval(std::vector<double> values, double level)
{
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }), values.end());
    if (values.empty())
        return {std::nan(""), std::nan("")};
    std::sort(values.begin(), values.end());
    auto at = [&](double q) {
        const double h = double(values.size() - 1) * q;
        const size_t lo = size_t(std::floor(h));
        const size_t hi = std::min(lo + 1, values.size() - 1);
        return values[lo] + (h - double(lo)) * (values[hi] - values[lo]);
    };
    return {at((1 - level) / 2), at((1 + level) / 2)};
}

Expected<PairedBootstrap> pairedBootstrap(std::span<const double> d, int resamples, quint64 seed, double level, int threads,
                                          Feedback *feedback)
{
    PairedBootstrap out;
    out.resamples = resamples;
    if (d.empty())
        return out;
    out.mean = std::accumulate(d.begin(), d.end(), 0.0) / double(d.size());
    std::vector<double> means(size_t(std::max(resamples, 0)), std::nan(""));
    Status s = bootstrapResamples(qint64(d.size()), resamples, seed, threads,
                                  [&](int r, const std::vector<quint8> &counts) {
                                      double sum = 0;
                                      for (size_t i = 0; i < d.size(); ++i)
                                          sum += double(counts[i]) * d[i];
                                      means[size_t(r)] = sum / double(d.size());
                                  },
                                  feedback);
    if (!s)
        return s.error();
    const auto [lo, hi] = percentileInterval(means, level);
    out.low = lo;
    out.high = hi;
    const double atMostZero = double(std::count_if(means.begin(), means.end(), [](double m) { return m <= 0; }));
    const double atLeastZero = double(std::count_if(means.begin(), means.end(), [](double m) { return m >= 0; }));
    out.pvalue = resamples > 0 ? std::min(1.0, 2 * std::min(atMostZero, atLeastZero) / double(resamples)) : std::nan("");
    return out;
}

} // namespace keel::ml
