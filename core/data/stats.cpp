#include "data/stats.h"

#include <boost/math/distributions/chi_squared.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace keel::data {

namespace {

std::vector<double> sortedFinite(std::span<const double> values)
{
    std::vector<double> out;
    out.reserve(values.size());
    for (double v : values)
        if (!std::isnan(v))
            out.push_back(v);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<double> binShares(std::span<const double> values, const std::vector<double> &cuts)
{
    std::vector<qint64> counts(cuts.size() + 1, 0);
    qint64 total = 0;
    for (double v : values) {
        if (std::isnan(v))
            continue;
        const auto bin = std::upper_bound(cuts.begin(), cuts.end(), v) - cuts.begin();
        ++counts[size_t(bin)];
        ++total;
    }
    std::vector<double> shares(counts.size(), 0.0);
    for (size_t i = 0; i < counts.size(); ++i)
        shares[i] = total ? double(counts[i]) / double(total) : 0.0;
    return shares;
}

} // namespace

double quantileSorted(std::span<const double> sorted, double p)
{
    if (sorted.empty())
        return std::nan("");
    p = std::clamp(p, 0.0, 1.0);
    const double h = double(sorted.size() - 1) * p;
    const double lo = std::floor(h);
    const size_t i = size_t(lo);
    if (i + 1 >= sorted.size())
        return sorted.back();
    const double frac = h - lo;
    if (frac == 0.0)
        return sorted[i];
    return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

double populationStabilityIndex(std::span<const double> reference, std::span<const double> current, int bins)
{
    const std::vector<double> ref = sortedFinite(reference);
    bool anyCurrent = false;
    for (double v : current)
        if (!std::isnan(v)) {
            anyCurrent = true;
            break;
        }
    if (ref.empty() || !anyCurrent)
        return std::nan("");
    bins = std::max(bins, 1);
    std::vector<double> cuts;
    for (int i = 1; i < bins; ++i) {
        const double c = quantileSorted(ref, double(i) / double(bins));
        if (cuts.empty() || c > cuts.back())
            cuts.push_back(c);
    }
    const std::vector<double> r = binShares(ref, cuts);
    const std::vector<double> c = binShares(current, cuts);
    constexpr double epsilon = 1e-4;
    double psi = 0;
    for (size_t i = 0; i < r.size(); ++i) {
        const double ri = r[i] > 0 ? r[i] : epsilon;
        const double ci = c[i] > 0 ? c[i] : epsilon;
        psi += (ci - ri) * std::log(ci / ri);
    }
    return psi;
}

double kolmogorovSurvival(double lambda)
{
    if (!(lambda > 0))
        return 1.0;
    if (lambda < 1.18) {
        // P(K <= λ) = √(2π)/λ Σ_{k≥1} exp(-(2k-1)² π² / (8λ²))
        const double base = -std::numbers::pi * std::numbers::pi / (8.0 * lambda * lambda);
        double sum = 0;
        for (int k = 1; k < 100; ++k) {
            const double odd = double(2 * k - 1);
            const double term = std::exp(base * odd * odd);
            sum += term;
            if (term < 1e-17 * sum || term == 0.0)
                break;
        }
        const double cdf = std::sqrt(2.0 * std::numbers::pi) / lambda * sum;
        return std::clamp(1.0 - cdf, 0.0, 1.0);
    }
    double sum = 0;
    for (int k = 1; k < 100; ++k) {
        const double term = std::exp(-2.0 * double(k) * double(k) * lambda * lambda);
        sum += (k % 2 ? 1.0 : -1.0) * term;
        if (term < 1e-17)
            break;
    }
    return std::clamp(2.0 * sum, 0.0, 1.0);
}

TestResult kolmogorovSmirnov(std::span<const double> a, std::span<const double> b)
{
    const std::vector<double> x = sortedFinite(a);
    const std::vector<double> y = sortedFinite(b);
    if (x.empty() || y.empty())
        return {};
    const double n = double(x.size()), m = double(y.size());
    size_t i = 0, j = 0;
    double d = 0;
    while (i < x.size() && j < y.size()) {
        const double v = std::min(x[i], y[j]);
        while (i < x.size() && x[i] == v)
            ++i;
        while (j < y.size() && y[j] == v)
            ++j;
        d = std::max(d, std::abs(double(i) / n - double(j) / m));
    }
    const double ne = n * m / (n + m);
    const double sq = std::sqrt(ne);
    const double lambda = (sq + 0.12 + 0.11 / sq) * d;
    return {d, kolmogorovSurvival(lambda)};
}

TestResult chiSquare(const std::vector<qint64> &countsA, const std::vector<qint64> &countsB)
{
    const size_t k = std::max(countsA.size(), countsB.size());
    std::vector<double> a, b;
    for (size_t i = 0; i < k; ++i) {
        const double ai = i < countsA.size() ? double(countsA[i]) : 0.0;
        const double bi = i < countsB.size() ? double(countsB[i]) : 0.0;
        if (ai + bi > 0) {
            a.push_back(ai);
            b.push_back(bi);
        }
    }
    double totalA = 0, totalB = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        totalA += a[i];
        totalB += b[i];
    }
    if (a.size() < 2 || totalA <= 0 || totalB <= 0)
        return {};
    const double total = totalA + totalB;
    double stat = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double col = a[i] + b[i];
        const double ea = totalA * col / total;
        const double eb = totalB * col / total;
        stat += (a[i] - ea) * (a[i] - ea) / ea + (b[i] - eb) * (b[i] - eb) / eb;
    }
    const double dof = double(a.size() - 1);
    double p = 0;
    if (std::isfinite(stat)) {
        try {
            const boost::math::chi_squared dist(dof);
            p = boost::math::cdf(boost::math::complement(dist, stat));
        } catch (const std::exception &) {
            p = stat > dof ? 0.0 : 1.0;
        }
    }
    return {stat, std::clamp(p, 0.0, 1.0)};
}

double jensenShannon(const std::vector<qint64> &countsA, const std::vector<qint64> &countsB)
{
    double totalA = 0, totalB = 0;
    for (qint64 c : countsA)
        totalA += double(c);
    for (qint64 c : countsB)
        totalB += double(c);
    if (totalA <= 0 || totalB <= 0)
        return std::nan("");
    const size_t k = std::max(countsA.size(), countsB.size());
    double js = 0;
    for (size_t i = 0; i < k; ++i) {
        const double p = i < countsA.size() ? double(countsA[i]) / totalA : 0.0;
        const double q = i < countsB.size() ? double(countsB[i]) / totalB : 0.0;
        const double mid = 0.5 * (p + q);
        if (p > 0)
            js += 0.5 * p * std::log2(p / mid);
        if (q > 0)
            js += 0.5 * q * std::log2(q / mid);
    }
    return std::clamp(js, 0.0, 1.0);
}

} // namespace keel::data
