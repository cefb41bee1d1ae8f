#pragma once
// Charts of the registry views: where each alias pointed over time, and the shift in global importance between two
// versions. Colours come from the palette passed in.

#include "registry/registry.h"

#include <QPalette>

QT_BEGIN_NAMESPACE
class QChart;
QT_END_NAMESPACE

namespace keel::ui {

/// One step line per alias: the version it pointed at (y) over time (x), from its first move to `now` (or to its
/// removal), with a marker at every move. An empty history gives a message chart. Caller owns the chart.
QChart *makeAliasTimelineChart(const std::vector<registry::AliasMove> &moves, int versions, const QDateTime &now,
                               const QPalette &palette);

/// Mean |SHAP| of the `top` most important features of either version, as paired horizontal bars (A and B), the
/// most important on top. Caller owns the chart.
QChart *makeImportanceShiftChart(const std::vector<registry::FeatureWeight> &a, const std::vector<registry::FeatureWeight> &b,
                                 const QString &labelA, const QString &labelB, const QPalette &palette, int top = 12);

} // namespace keel::ui
