#pragma once
// Equal-width binning (the one rule behind profile histograms and distribution comparisons), and two columns'
// distributions over common bins for the diff view's overlay chart: equal-width histogram bins over the joint range
// of two numeric columns, or category counts over the union of two columns' values.

#include "data/table.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QStringList>

#include <vector>

namespace keel::data {

/// `bins` equal-width bins over [lo, hi]: bins + 1 edges, the last exactly `hi`; one bin [lo, hi] when lo == hi.
/// Datetime edges (ms since the epoch) are rounded to whole milliseconds.
std::vector<double> equalWidthEdges(double lo, double hi, int bins, bool datetime = false);
/// The bin of `v` among `edges` (bin i is [edges[i], edges[i+1]), the last also holds edges.back()); values
/// outside the range go to the outer bins. `edges` must have at least two entries.
int binOf(const std::vector<double> &edges, double v);

/// Counts of A and B over the same bins (numeric) or categories (text). Plain value.
struct DistributionComparison {
    bool numeric = false;              ///< bins over edges; otherwise categories
    bool datetime = false;             ///< numeric values are ms since the epoch
    std::vector<double> edges;         ///< numeric: bins + 1 edges; bin i is [edges[i], edges[i+1]), the last also holds the maximum
    QStringList categories;            ///< text: most frequent first (by A + B), then "(other)" when some were folded
    std::vector<qint64> countsA, countsB; ///< one per bin or category
    qint64 valuesA = 0, valuesB = 0;   ///< non-missing values counted
    qint64 missingA = 0, missingB = 0; ///< missing values (and NaN) left out
    bool hasOther = false;             ///< the last category is "(other)"
};

/// Compares the values of `a` and `b` (either may be null: a column only one side has). Both numeric (int64,
/// float64, datetime; not mixed datetime/number): `bins` equal-width bins over the joint [min, max] of finite values
/// (one bin when min == max). Otherwise each value's displayed text is a category; the `maxCategories` most
/// frequent (by A + B, ties by text) are kept and the rest summed into "(other)". Progress stage "distribution";
/// cancel gives "cancelled". Reads the columns only; safe from any thread.
Expected<DistributionComparison> compareDistributions(const Column *a, const Column *b, int bins = 30,
                                                      int maxCategories = 12, Feedback *feedback = nullptr);

} // namespace keel::data
