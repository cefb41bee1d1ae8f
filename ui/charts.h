#pragma once
// Chart builders for profiles and diffs (QtCharts). Colours come from the palette passed in (background, text,
// grid, the accent for a single series), so charts read well in light and dark themes.

#include "data/profile.h"
#include "data/distribution.h"

#include <QPalette>
#include <QString>
#include <QStringList>

#include <vector>

QT_BEGIN_NAMESPACE
class QAbstractAxis;
class QAbstractSeries;
class QChart;
QT_END_NAMESPACE

namespace keel::ui {

/// Background, plot area, title, legend, axis labels and grid lines of `chart` from `palette`.
void applyPalette(QChart *chart, const QPalette &palette);
/// Colour of data series `i` (0: the palette's highlight; then orange, green, purple, red, brown, teal, repeating).
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

/// Draws the labels of the category axis `axis` on the left of `chart` itself: a QBarCategoryAxis (categories at
/// 0..n-1) or a QCategoryAxis with centred labels. QtCharts replaces a label taller than its row with "..." and
/// elides one wider than 40% of the chart, which on a real display hides every feature name of a dense chart.
/// Here each label is drawn in full beside its row, in a font shrunk to the row height when rows are dense (never
/// below 7 px; rows denser still label every k-th row), in space reserved on the left for the longest label; the
/// axis title moves beside them. Call once the axis is added and attached to `series`; follows resizes.
void drawCategoryLabels(QChart *chart, QAbstractAxis *axis, QAbstractSeries *series);

/// Text QtCharts drew shortened because it did not fit: axis labels (it elides one that is too wide and replaces
/// one too tall for its row with "..."), axis and chart titles, legend entries. Returns the drawn text of each;
/// empty when everything shows as given. Labels we shorten ourselves are given that way and do not count.
QStringList truncatedAxisLabels(const QChart *chart);

/// Short number text for axes and labels ("1.2k", "3.4M", "0.25").
QString compactNumber(double v);

} // namespace keel::ui
