#pragma once
// Drift statistics between two samples: population stability index, two-sample Kolmogorov-Smirnov,
// chi-square test of homogeneity and Jensen-Shannon divergence. Pure functions on value spans;
// safe to call from any thread.

#include <QtGlobal>

#include <span>
#include <vector>

namespace keel::data {

/// Quantile of already sorted values by linear interpolation between order statistics
/// (numpy's default "linear" method): h = (n-1)p, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
/// NaN for an empty span; p is clamped to [0, 1].
double quantileSorted(std::span<const double> sorted, double p);

/// Population stability index of `current` against `reference`: Σ (c - r) ln(c / r) over bins whose cut points
/// are the reference quantiles at 1/bins, 2/bins, ... (duplicate cut points merged). Bins are left-closed
/// [cut_i, cut_i+1), as numpy.digitize; a bin share of 0 is replaced by 1e-4. NaN values are ignored;
/// NaN when either sample has no values.
double populationStabilityIndex(std::span<const double> reference, std::span<const double> current, int bins = 10);

/// A test statistic and its p-value.
struct TestResult {
    double statistic = 0;
    double pValue = 1;
};

/// Survival function of the Kolmogorov distribution, Q(λ) = P(K > λ) = 2 Σ_{k≥1} (-1)^{k-1} e^{-2k²λ²}
/// (for λ < 1.18 the equivalent Jacobi-theta form 1 - √(2π)/λ Σ e^{-(2k-1)²π²/(8λ²)} is used; it converges faster).
double kolmogorovSurvival(double lambda);

/// Two-sample Kolmogorov-Smirnov test: D = sup |F_a - F_b|, p-value asymptotic Q_KS(λ) with
/// λ = (√n_e + 0.12 + 0.11/√n_e)·D and n_e = n·m/(n+m). NaN values are ignored; {0, 1} when a sample is empty.
TestResult kolmogorovSmirnov(std::span<const double> a, std::span<const double> b);

/// Chi-square test of homogeneity on the 2 x k contingency table formed by two count vectors over the same
/// categories (the shorter one is padded with zeros). Categories empty in both are dropped; degrees of freedom
/// k' - 1. {0, 1} when either row is empty or fewer than two categories remain.
TestResult chiSquare(const std::vector<qint64> &countsA, const std::vector<qint64> &countsB);

/// Jensen-Shannon divergence (base 2, in [0, 1]) between the distributions given by two count vectors over the
/// same categories (the shorter one is padded with zeros). NaN when either vector sums to zero.
double jensenShannon(const std::vector<qint64> &countsA, const std::vector<qint64> &countsB);

} // namespace keel::data
