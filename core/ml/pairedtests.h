#pragma once
// Tests of two models scored on the same rows, for "is the challenger really better?": McNemar on paired
// correctness, DeLong on two correlated ROC AUCs, the Wilcoxon signed-rank test and a paired bootstrap on per-row
// losses, and bootstrap resampling shared by every interval. Each follows a named reference implementation (stated
// per function) and is tested against values it computed.

#include "util/feedback.h"
#include "util/result.h"

#include <QString>

#include <cmath>
#include <functional>
#include <span>
#include <vector>

namespace keel::ml {

/// A test statistic and its two-sided p-value, with the method that produced them.
struct TestResult {
    double statistic = std::nan("");
    double pvalue = std::nan("");
    QString method;
};

/// McNemar's test on paired correctness: `b` rows that only model A gets right, `c` rows that only model B gets right.
/// Exact two-sided binomial test (statistic min(b, c), p = min(1, 2 P[X <= min(b, c)]) with X ~ Bin(b + c, 1/2)) when
/// b + c < 25, otherwise the chi-square statistic with continuity correction (|b - c| - 1)^2 / (b + c) on one degree
/// of freedom: statsmodels' mcnemar(exact=True) and mcnemar(exact=False, correction=True). p = 1 when b = c = 0.
TestResult mcnemar(qint64 b, qint64 c);

/// DeLong's test of two correlated ROC AUCs (DeLong, DeLong & Clarke-Pearson 1988), computed with midranks (Sun &
/// Xu 2014). `y` holds 0 and 1; both score vectors rank the same rows.
struct DelongResult {
    double aucA = std::nan(""), aucB = std::nan("");
    double varA = std::nan(""), varB = std::nan(""), covariance = std::nan("");
    double z = std::nan("");        ///< (aucA - aucB) / sqrt(varA + varB - 2 cov)
    double pvalue = std::nan("");   ///< two-sided, standard normal
};
/// Errors: sizes differ, a label other than 0/1, or only one class present.
Expected<DelongResult> delong(std::span<const double> y, std::span<const double> scoresA, std::span<const double> scoresB);

/// The Wilcoxon signed-rank test of paired differences `d`, two-sided, as scipy.stats.wilcoxon(d) computes it with
/// its defaults (zero_method "wilcox", no continuity correction, method "auto"): statistic min(R+, R-); the exact
/// null distribution when there are at most 50 differences, none zero and none tied; otherwise the normal
/// approximation with zero differences dropped and the tie correction of the variance. (For n <= 50 with ties SciPy
/// truncates R+ to an integer and uses the exact table; Keel uses the normal approximation there.)
/// NaN when every difference is zero.
TestResult wilcoxonSignedRank(std::span<const double> d);

/// Bootstrap resampling of n rows: resample r gets multinomial counts (n draws with replacement), seeded by
/// (seed, r) so every resample is reproducible whatever the number of threads. Counts are bytes (one row drawn 256
/// times in one resample has a probability far below 1e-300 for any n; it would be reported as an error), so the
/// counts of a million rows stay in a core's cache. `body(r, counts)` runs for r in
/// [0, resamples) on up to `threads` threads (0 = all cores); it must be safe to call concurrently. Cancel gives an
/// error; progress counts resamples (stage "bootstrap").
Status bootstrapResamples(qint64 n, int resamples, quint64 seed, int threads,
                          const std::function<void(int r, const std::vector<quint8> &counts)> &body,
                          Feedback *feedback = nullptr);

/// The (1 - level) / 2 and (1 + level) / 2 percentiles of `values` (NaNs ignored; linear interpolation as
/// numpy.percentile). Both NaN when no value is finite.
std::pair<double, double> percentileInterval(std::vector<double> values, double level = 0.95);

/// A paired bootstrap of the mean of `d` (per-row differences): the mean, the percentile interval of the resampled
/// means, and a two-sided p-value 2 min(P[mean* <= 0], P[mean* >= 0]) (capped at 1), from `resamples` resamples.
struct PairedBootstrap {
    double mean = std::nan("");
    double low = std::nan(""), high = std::nan("");
    double pvalue = std::nan("");
    int resamples = 0;
};
Expected<PairedBootstrap> pairedBootstrap(std::span<const double> d, int resamples, quint64 seed, double level = 0.95,
                                          int threads = 0, Feedback *feedback = nullptr);

} // namespace keel::ml
