#include "data/stats.h"

#include "data/radixsort.h"

#include <boost/math/distributions/chi_squared.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>

namespace keel::data {

namespace {

std::vector<double> sortedFinite(std::span<const double> values) { return sortedNumbers(values); }

/// Shares of sorted `values` in the bins (-inf, cuts[0]), [cuts[0], cuts[1]), ..., [cuts.back(), inf).
std::vector<double> binSharesSorted(std::span<const double> sorted, const std::vector<double> &cuts)
{
    std::vector<double> shares(cuts.size() + 1, 0.0);
    if (sorted.empty())
        return shares;
    size_t previous = 0;
    for (size_t i = 0; i < cuts.size(); ++i) {
        const size_t at = size_t(std::lower_bound(sorted.begin(), sorted.end(), cuts[i]) - sorted.begin());
        shares[i] = double(at - previous) / double(sorted.size());
        previous = at;
    }
    shares[cuts.size()] = double(sorted.size() - previous) / double(sorted.size());
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

namespace {

/// PSI of sorted, NaN-free samples (see populationStabilityIndex).
double psiSorted(std::span<const double> ref, std::span<const double> cur, int bins)
{
    if (ref.empty() || cur.empty())
        return std::nan("");
    bins = std::max(bins, 1);
    // Cut points: the reference minimum (below it: an open outer bin), the inner quantiles, and just above the
    // reference maximum (above it: the other open outer bin).
    // A value that several quantiles share (a mass point, e.g. 90% zeros) gets a bin of its own, [v, next double
    // above v): otherwise the merged cut would put it in one bin with the values above it, and a shift from the
    // mass point to those values would go unseen.
    std::vector<double> cuts{ref.front()};
    double previous = ref.front();
    for (int i = 1; i < bins; ++i) {
        const double c = quantileSorted(ref, double(i) / double(bins));
        if (c > cuts.back()) {
            cuts.push_back(c);
        } else if (c == previous) {
            const double next = std::nextafter(c, std::numeric_limits<double>::infinity());
            if (next > cuts.back())
                cuts.push_back(next);
        }
        previous = c;
    }
    const double above = std::nextafter(ref.back(), std::numeric_limits<double>::infinity());
    if (above > cuts.back())
        cuts.push_back(above);
    const std::vector<double> r = binSharesSorted(ref, cuts);
    const std::vector<double> c = binSharesSorted(cur, cuts);
    constexpr double epsilon = 1e-4;
    double psi = 0;
    for (size_t i = 0; i < r.size(); ++i) {
        const double ri = r[i] > 0 ? r[i] : epsilon;
        const double ci = c[i] > 0 ? c[i] : epsilon;
        psi += (ci - ri) * std::log(ci / ri);
    }
    return psi;
}

TestResult ksSorted(std::span<const double> x, std::span<const double> y);
double wassersteinSorted(std::span<const double> x, std::span<const double> y);

} // namespace

double populationStabilityIndex(std::span<const double> reference, std::span<const double> current, int bins)
{
    return psiSorted(sortedFinite(reference), sortedFinite(current), bins);
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

double kolmogorovSmirnovExact(qint64 n, qint64 m, qint64 h)
{
    // Lattice paths from (0,0) to (m,n), one step right (a value of the larger sample) or up at a time; D < h/lcm
    // exactly when the path stays strictly inside the band |x·n/g - y·m/g| < h. O(x,y) is the share of the paths to
    // (x,y) that have left the band: 1 outside it, and inside it O(x,y) = (x·O(x-1,y) + y·O(x,y-1)) / (x+y), since
    // x/(x+y) and y/(x+y) of the paths arrive from the left and from below. P(D >= h/lcm) = O(m,n). Every O is a
    // probability, so nothing overflows (Viehmann 2021's "1 - p" form of Hodges' inside method).
    if (n <= 0 || m <= 0)
        return std::nan("");
    if (h <= 0)
        return 1.0;
    if (m < n)
        std::swap(m, n);
    const qint64 g = std::gcd(m, n);
    const qint64 mg = m / g, ng = n / g;
    // Cells of column x inside the band: bandLo(x) <= y < bandHi(x).
    auto bandLo = [&](qint64 x) {
        // smallest y with x·ng - y·mg < h, i.e. y > (x·ng - h)/mg
        const qint64 t = x * ng - h;
        if (t < 0)
            return qint64(0);
        return std::min<qint64>(t / mg + 1, n + 1);
    };
    auto bandHi = [&](qint64 x) {
        // one past the largest y with y·mg - x·ng < h, i.e. y < (x·ng + h)/mg
        const qint64 t = x * ng + h;
        return std::min<qint64>((t + mg - 1) / mg, n + 1);
    };
    std::vector<double> o(size_t(n) + 1, 1.0);
    qint64 prevLo = bandLo(0), prevHi = bandHi(0);
    for (qint64 y = prevLo; y < prevHi; ++y)
        o[size_t(y)] = 0.0;   // straight up the y axis: inside as long as y·mg < h
    for (qint64 x = 1; x <= m; ++x) {
        const qint64 l = bandLo(x), u = bandHi(x);
        if (u <= l)
            return 1.0;   // the band closed: every path has left it
        double below = 1.0;   // O(x, l-1): outside the band (or, for l == 0, unused)
        for (qint64 y = l; y < u; ++y) {
            const double left = o[size_t(y)];   // O(x-1, y): 1 when that cell was outside column x-1's band
            const double v = y == 0 ? left : (double(x) * left + double(y) * below) / double(x + y);
            o[size_t(y)] = v;
            below = v;
        }
        // Cells of column x below its band are outside: those that were inside before must read as 1 next time.
        for (qint64 y = prevLo; y < std::min(l, prevHi); ++y)
            o[size_t(y)] = 1.0;
        prevLo = l;
        prevHi = u;
    }
    return std::clamp(o[size_t(n)], 0.0, 1.0);
}

namespace {

double logChoose(qint64 n, qint64 k)
{
    return std::lgamma(double(n) + 1) - std::lgamma(double(k) + 1) - std::lgamma(double(n - k) + 1);
}

/// Pr(D_n <= d) by the Durbin matrix, computed as Marsaglia, Tsang and Wang (2003) describe: with d = (k - h)/n,
/// k an integer and 0 <= h < 1, it is n!/n^n times the (k,k) entry of H^n for an (2k-1) x (2k-1) matrix H, the power
/// taken by repeated squaring with the exponent kept apart to avoid overflow.
double durbinMatrixCdf(qint64 n, double d)
{
    const double nd = double(n) * d;
    if (nd <= 0.5)
        return 0.0;
    if (d >= 1.0)
        return 1.0;
    const int k = int(std::ceil(nd));
    const double h = double(k) - nd;
    const int m = 2 * k - 1;
    using Matrix = std::vector<double>;   // row-major m x m
    auto at = [m](Matrix &a, int r, int c) -> double & { return a[size_t(r) * size_t(m) + size_t(c)]; };
    Matrix H(size_t(m) * size_t(m), 0.0);
    // First column and last row: (1 - h^(i+1)) / (i+1)!, the corner (1 - 2h^m + max(0, 2h-1)^m) / m!.
    std::vector<double> v(static_cast<size_t>(m)), w(static_cast<size_t>(m));
    double fact = 1.0;
    for (int i = 0; i < m; ++i) {
        w[size_t(i)] = fact;              // 1 / i!
        fact /= double(i + 1);            // 1 / (i+1)!
        v[size_t(i)] = (1.0 - std::pow(h, i + 1)) * fact;
    }
    v[size_t(m - 1)] = (1.0 - 2.0 * std::pow(h, m) + std::pow(std::max(2.0 * h - 1.0, 0.0), m)) * fact;
    for (int c = 1; c < m; ++c)
        for (int r = c - 1; r < m; ++r)
            at(H, r, c) = w[size_t(r - c + 1)];
    for (int r = 0; r < m; ++r)
        at(H, r, 0) = v[size_t(r)];
    for (int c = 0; c < m; ++c)
        at(H, m - 1, c) = v[size_t(m - 1 - c)];

    auto multiply = [m](const Matrix &a, const Matrix &b) {
        Matrix out(size_t(m) * size_t(m), 0.0);
        for (int r = 0; r < m; ++r)
            for (int t = 0; t < m; ++t) {
                const double art = a[size_t(r) * size_t(m) + size_t(t)];
                if (art == 0.0)
                    continue;
                const double *brow = &b[size_t(t) * size_t(m)];
                double *orow = &out[size_t(r) * size_t(m)];
                for (int c = 0; c < m; ++c)
                    orow[c] += art * brow[c];
            }
        return out;
    };
    constexpr int kScale = 128;
    const double big = std::ldexp(1.0, kScale);
    Matrix power(size_t(m) * size_t(m), 0.0);
    for (int i = 0; i < m; ++i)
        at(power, i, i) = 1.0;
    qint64 exponent = 0, hExponent = 0;
    for (qint64 e = n; e > 0; e /= 2) {
        if (e % 2) {
            power = multiply(power, H);
            exponent += hExponent;
        }
        H = multiply(H, H);
        hExponent *= 2;
        if (std::abs(at(H, k - 1, k - 1)) > big) {
            for (double &x : H)
                x /= big;
            hExponent += kScale;
        }
    }
    double p = at(power, k - 1, k - 1);
    for (qint64 i = 1; i <= n; ++i) {   // times n!/n^n
        p = double(i) * p / double(n);
        if (std::abs(p) < 1.0 / big) {
            p *= big;
            exponent -= kScale;
        }
    }
    return std::ldexp(p, int(exponent));
}

/// Pr(D_n <= d) from the Pelz-Good (1976) expansion in 1/√n of the Li-Chien/Korolyuk series, each term rewritten with
/// Jacobi's theta transformation so it converges fast for small z = d√n.
double pelzGoodCdf(qint64 n, double d)
{
    constexpr double pi = std::numbers::pi, pi2 = pi * pi, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
    const double sqrt2pi = std::sqrt(2.0 * pi);
    if (d <= 0.0)
        return 0.0;
    if (d >= 1.0)
        return 1.0;
    const double z = std::sqrt(double(n)) * d;
    const double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2, z8 = z4 * z4;
    const double logq = -pi2 / (8.0 * z2);
    if (logq < -708)
        return 0.0;
    const double q = std::exp(logq);
    // Sums over odd m = 2k - 1 of c_i(m) q^(m^2), i = 0..3, evaluated as a polynomial in q^8 (Horner).
    double K[4] = {0, 0, 0, 0};
    const int maxk = int(std::ceil(16.0 * z / pi));
    for (int k = maxk; k >= 1; --k) {
        const double mo = double(2 * k - 1), m2 = mo * mo, m4 = m2 * m2, m6 = m4 * m2;
        const double qk = std::pow(q, 8.0 * k);
        const double c[4] = {1.0,
                             -z2 + pi2 / 4.0 * m2,
                             6.0 * z6 + 2.0 * z4 + (2.0 * z4 - 5.0 * z2) * pi2 / 4.0 * m2 + pi4 * (1.0 - 2.0 * z2) / 16.0 * m4,
                             -30.0 * z6 - 90.0 * z8 + pi2 * (135.0 * z4 - 96.0 * z6) / 4.0 * m2
                                 + pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0 * m4 + pi6 * (5.0 - 30.0 * z2) / 64.0 * m6};
        for (int i = 0; i < 4; ++i)
            K[i] = K[i] * qk + c[i];
    }
    const double denominators[4] = {z, 6.0 * z4, 72.0 * std::pow(z, 7), 6480.0 * std::pow(z, 10)};
    for (int i = 0; i < 4; ++i)
        K[i] = K[i] * q * sqrt2pi / denominators[i];
    // The remaining sums run over all integers k: π²k² q'^(k²) and (3z² - π²k²) π²k² q'^(k²), q' = e^(-π²/(2z²)).
    const double qq = std::exp(-pi2 / (2.0 * z2));
    double extra2 = 0, extra3 = 0;
    for (int k = maxk; k >= 1; --k) {
        const double k2 = double(k) * double(k);
        const double w = std::pow(qq, k2);
        extra2 += k2 * w;
        extra3 += (3.0 * z2 - pi2 * k2) * k2 * w;
    }
    K[2] += extra2 * pi2 * sqrt2pi / (-36.0 * z3);
    K[3] += extra3 * pi2 * sqrt2pi / (216.0 * z6);
    double sum = 0;
    for (int i = 0; i < 4; ++i)
        sum += K[i] / std::pow(double(n), i / 2.0);
    return sum;
}

} // namespace

double smirnovSurvival(qint64 n, double d)
{
    // Birnbaum and Tingey (1951): P(D+_n >= d) = d Σ_{j=0}^{⌊n(1-d)⌋} C(n,j) (1-d-j/n)^(n-j) (d+j/n)^(j-1),
    // each term in logarithms; the terms are positive and, past their peak, fall fast.
    if (n <= 0 || std::isnan(d))
        return std::nan("");
    if (d <= 0.0)
        return 1.0;
    if (d >= 1.0)
        return 0.0;
    const double nn = double(n);
    const qint64 last = qint64(std::floor(nn * (1.0 - d) + 1e-12));
    double sum = 0.0, peak = 0.0;
    for (qint64 j = 0; j <= last; ++j) {
        const double a = 1.0 - d - double(j) / nn;
        const double b = d + double(j) / nn;
        double logTerm = logChoose(n, j) + double(j - 1) * std::log(b);
        if (n - j > 0) {
            if (a <= 0.0)
                continue;
            logTerm += double(n - j) * std::log(a);
        }
        const double term = std::exp(logTerm);
        sum += term;
        peak = std::max(peak, term);
        if (term < peak * 1e-18 && j > 0)
            break;   // past the peak, the rest cannot change the sum
    }
    return std::clamp(d * sum, 0.0, 1.0);
}

double kolmogorovSurvivalN(qint64 n, double d)
{
    // Simard and L'Ecuyer (2011), as SciPy's kstwo.sf: the cheapest method that is accurate in each region.
    if (n <= 0 || std::isnan(d))
        return std::nan("");
    if (d >= 1.0)
        return 0.0;
    if (d <= 0.0)
        return 1.0;
    const double nn = double(n);
    const double t = nn * d;
    if (t <= 1.0) {   // Ruben-Gambino: P(D_n <= d) = n!/n^n (2t - 1)^n for 1/2n <= d <= 1/n
        if (t <= 0.5)
            return 1.0;
        const double logCdf = std::lgamma(nn + 1.0) - nn * std::log(nn) + nn * std::log(2.0 * t - 1.0);
        return std::clamp(1.0 - std::exp(logCdf), 0.0, 1.0);
    }
    if (t >= nn - 1.0)   // Ruben-Gambino, the upper end
        return std::clamp(2.0 * std::pow(1.0 - d, nn), 0.0, 1.0);
    if (d >= 0.5)        // the two one-sided tails cannot both be exceeded
        return std::clamp(2.0 * smirnovSurvival(n, d), 0.0, 1.0);
    const double nd2 = t * d;
    if (n <= 140) {
        if (nd2 <= 4.0)   // Simard-L'Ecuyer use Pomeranz above 0.754693; the Durbin matrix is exact there too
            return std::clamp(1.0 - durbinMatrixCdf(n, d), 0.0, 1.0);
        return std::clamp(2.0 * smirnovSurvival(n, d), 0.0, 1.0);
    }
    if (nd2 >= 370.0)
        return 0.0;
    if (nd2 >= 2.2)
        return std::clamp(2.0 * smirnovSurvival(n, d), 0.0, 1.0);
    const double cdf = n <= 100000 && nn * std::pow(d, 1.5) <= 1.4 ? durbinMatrixCdf(n, d) : pelzGoodCdf(n, d);
    return std::clamp(1.0 - cdf, 0.0, 1.0);
}

TestResult kolmogorovSmirnov(std::span<const double> a, std::span<const double> b)
{
    return ksSorted(sortedFinite(a), sortedFinite(b));
}

namespace {

/// One walk over the distinct values of both sorted samples: the KS numerator max |i·m - j·n| and the Wasserstein
/// integral Σ |F_x - F_y| · gap.
struct MergedWalk {
    qint64 ksCount = 0;
    double wasserstein = 0;
};

MergedWalk mergedWalk(std::span<const double> x, std::span<const double> y)
{
    const qint64 n = qint64(x.size()), m = qint64(y.size());
    const double nx = double(n), ny = double(m);
    MergedWalk out;
    size_t i = 0, j = 0;
    double prev = std::min(x.front(), y.front());
    while (i < x.size() || j < y.size()) {
        const double v = j >= y.size() || (i < x.size() && x[i] <= y[j]) ? x[i] : y[j];
        // Between consecutive distinct values of the pooled sample both empirical CDFs are constant.
        out.wasserstein += std::abs(double(i) / nx - double(j) / ny) * (v - prev);
        while (i < x.size() && x[i] == v)
            ++i;
        while (j < y.size() && y[j] == v)
            ++j;
        // Once a sample is used up the difference only shrinks, so the maximum is the same as over the common part.
        out.ksCount = std::max<qint64>(out.ksCount, std::abs(qint64(i) * m - qint64(j) * n));
        prev = v;
    }
    return out;
}

/// The KS test from the walk's count: D = best / (n·m) and its p-value.
TestResult ksFromCount(qint64 n, qint64 m, qint64 best);

TestResult ksSorted(std::span<const double> x, std::span<const double> y)
{
    if (x.empty() || y.empty())
        return {};
    return ksFromCount(qint64(x.size()), qint64(y.size()), mergedWalk(x, y).ksCount);
}

TestResult ksFromCount(qint64 n, qint64 m, qint64 best)
{
    const double d = double(best) / (double(n) * double(m));
    if (std::max(n, m) <= 10000) {
        // Exact: D = h / lcm(n, m) with h an integer.
        const qint64 g = std::gcd(n, m);
        const qint64 h = best / g;   // best / (n·m) = h / lcm with lcm = n·m/g
        const double p = kolmogorovSmirnovExact(n, m, h);
        if (!std::isnan(p))
            return {d, p};
    }
    const double en = double(n) * double(m) / double(n + m);
    return {d, kolmogorovSurvivalN(std::llround(en), d)};
}

double wassersteinSorted(std::span<const double> x, std::span<const double> y)
{
    if (x.empty() || y.empty())
        return std::nan("");
    return mergedWalk(x, y).wasserstein;
}

} // namespace

double wasserstein(std::span<const double> a, std::span<const double> b)
{
    return wassersteinSorted(sortedFinite(a), sortedFinite(b));
}

NumericDrift numericDrift(std::span<const double> a, std::span<const double> b, int bins)
{
    return numericDriftSorted(sortedFinite(a), sortedFinite(b), bins);
}

NumericDrift numericDriftSorted(std::span<const double> x, std::span<const double> y, int bins)
{
    NumericDrift out;
    if (x.empty() || y.empty())
        return out;
    out.psi = psiSorted(x, y, bins);
    const MergedWalk walk = mergedWalk(x, y);
    out.ks = ksFromCount(qint64(x.size()), qint64(y.size()), walk.ksCount);
    out.wasserstein = walk.wasserstein;
    return out;
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

double jensenShannonDistance(const std::vector<qint64> &countsA, const std::vector<qint64> &countsB)
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
    return std::sqrt(std::clamp(js, 0.0, 1.0));
}

} // namespace keel::data
