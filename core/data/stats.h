#pragma once
// Drift statistics between two samples: population stability index, two-sample Kolmogorov-Smirnov (with SciPy's
// ks_2samp p-value: exact for samples up to 10,000, the finite-n Kolmogorov distribution above), the 1-D Wasserstein
// distance, the chi-square test of homogeneity and the Jensen-Shannon distance. Pure functions on value spans; safe
// to call from any thread. The README's "Drift statistics" table gives each definition and its reference.

#include <QtGlobal>

#include <cmath>
#include <span>
#include <vector>

namespace keel::data {

/// Quantile of already sorted values by linear interpolation between order statistics
/// (numpy's default "linear" method): h = (n-1)p, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
/// NaN for an empty span; p is clamped to [0, 1].
double quantileSorted(std::span<const double> sorted, double p);

/// Population stability index of `current` against `reference`: Σ (c - r) ln(c / r) over bins that cover both
/// samples: the reference quantiles at 1/bins, 2/bins, ... cut the reference range (duplicate cut points merged, and
/// a value two quantiles share gets a bin of its own, [v, next double above v); bins are left-closed
/// [cut_i, cut_i+1), as numpy.digitize), and two open outer bins hold what lies below the
/// reference minimum or above its maximum, so a sample that moves out of the reference range entirely scores high
/// instead of piling into the edge bins. A bin share of 0 is replaced by 1e-4. NaN values are ignored; NaN when
/// either sample has no values.
double populationStabilityIndex(std::span<const double> reference, std::span<const double> current, int bins = 10);

/// A test statistic and its p-value.
struct TestResult {
    double statistic = 0;
    double pValue = 1;
};

/// Survival function of the Kolmogorov distribution, Q(λ) = P(K > λ) = 2 Σ_{k≥1} (-1)^{k-1} e^{-2k²λ²}
/// (for λ < 1.18 the equivalent Jacobi-theta form 1 - √(2π)/λ Σ e^{-(2k-1)²π²/(8λ²)} is used; it converges faster).
double kolmogorovSurvival(double lambda);

/// Two-sample Kolmogorov-Smirnov test, as scipy.stats.ks_2samp(a, b, method='auto'): D = sup |F_a - F_b|; when
/// both samples have at most 10,000 values the exact p-value P(D_{n,m} >= D) from lattice-path counting (Hodges
/// 1958; the 1 - p recursion of Viehmann 2021), otherwise the survival function of the finite-n one-sample
/// Kolmogorov distribution at n = round(n·m/(n+m)) (kolmogorovSurvivalN). NaN values are ignored; {0, 1} when a
/// sample is empty.
TestResult kolmogorovSmirnov(std::span<const double> a, std::span<const double> b);

/// P(D_{n,m} >= h / lcm(n, m)) for the two-sided two-sample KS statistic, exactly (lattice paths); NaN when the
/// computation cannot be carried out in double precision.
double kolmogorovSmirnovExact(qint64 n, qint64 m, qint64 h);

/// P(D_n >= d) for the two-sided one-sample KS statistic with n values (scipy.stats.kstwo.sf), following Simard and
/// L'Ecuyer (2011): Ruben-Gambino bounds, the exact one-sided Smirnov formula (Birnbaum-Tingey) where the two tails
/// do not interact, the Durbin matrix (Marsaglia-Tsang-Wang 2003) and the Pelz-Good (1976) expansion elsewhere.
double kolmogorovSurvivalN(qint64 n, double d);

/// P(D+_n >= d) for the one-sided one-sample KS statistic (scipy.special.smirnov), Birnbaum-Tingey (1951).
double smirnovSurvival(qint64 n, double d);

/// 1-D Wasserstein (earth mover's) distance between the empirical distributions of `a` and `b`:
/// ∫ |F_a(x) - F_b(x)| dx, as scipy.stats.wasserstein_distance. NaN values are ignored; NaN when a side is empty.
double wasserstein(std::span<const double> a, std::span<const double> b);

/// PSI (against `a` as the reference), KS and Wasserstein of two samples at once: each sample is sorted once
/// (what comparing two numeric columns needs). The same values as the three functions above; NaN (KS {0, 1}) when
/// a side has no values.
struct NumericDrift {
    double psi = std::nan("");
    TestResult ks;
    double wasserstein = std::nan("");
};
NumericDrift numericDrift(std::span<const double> a, std::span<const double> b, int bins = 10);
/// The same for samples already sorted ascending without NaN.
NumericDrift numericDriftSorted(std::span<const double> a, std::span<const double> b, int bins = 10);

/// Chi-square test of homogeneity on the 2 x k contingency table formed by two count vectors over the same
/// categories (the shorter one is padded with zeros). Categories empty in both are dropped; degrees of freedom
/// k' - 1. {0, 1} when either row is empty or fewer than two categories remain.
TestResult chiSquare(const std::vector<qint64> &countsA, const std::vector<qint64> &countsB);

/// Jensen-Shannon distance between the distributions given by two count vectors over the same categories (the
/// shorter one is padded with zeros): the square root of the base-2 Jensen-Shannon divergence, in [0, 1], as
/// scipy.spatial.distance.jensenshannon(p, q, base=2). NaN when either vector sums to zero.
double jensenShannonDistance(const std::vector<qint64> &countsA, const std::vector<qint64> &countsB);

} // namespace keel::data
