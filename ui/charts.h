#pragma once
// Chart builders for profiles and diffs (QtCharts). Colours come from the palette passed in (background, text,
// grid, the accent for a single series), so charts read well in light and dark themes.

#include "data/profile.h"
#include "data/distribution.h"

#include <QPalette>
#include <QString>

#include <vector>

QT_BEGIN_NAMESPACE
class QChart;
QT_END_NAMESPACE

namespace keel::ui {

/// Background, plot area, title, legend, axis labels and grid lines of `chart` from `palette`.
void applyPalette(QChart *chart, const QPalette &palette);
/// Colour of data series `i` (0: the palette's highlight; 1: an orange that reads on light and dark backgrounds).
QColor seriesColor(const QPalette &palette, int i);

/// A histogram as adjacent bars over a numeric (or, with `datetime`, a date) axis. Caller owns the chart.
QChart *makeHistogramChart(const data::Histogram &histogram, bool datetime, const QString &title, const QPalette &palette);
/// The most frequent categories as horizontal bars (most frequent on top), with the share of all rows in the
/// labels; `rows` is the column's row count. Caller owns the chart.
QChart *makeCategoryChart(const std::vector<data::CategoryCount> &categories, qint64 rows, const QString &title,
                          const QPalette &palette);
/// Two distributions as shares of their non-missing values: overlaid outlines over the same bins (numeric) or
/// side-by-side horizontal bars per category. Caller owns the chart.
QChart *makeComparisonChart(const data::DistributionComparison &comparison, const QString &labelA, const QString &labelB,
                            const QString &title, const QPalette &palette);
/// An empty chart carrying a title that says why there is nothing to draw. Caller owns the chart.
QChart *makeMessageChart(const QString &message, const QPalette &palette);

/// Short number text for axes and labels ("1.2k", "3.4M", "0.25").
QString compactNumber(double v);

} // namespace keel::ui
