#pragma once
// Charts of model explanations (QtCharts): global importance bars, the SHAP beeswarm, SHAP dependence, partial
// dependence with ICE curves, permutation importance with error bars, the per-prediction waterfall and group
// fairness metrics with intervals. Every builder takes the palette to draw with, so one chart reads in light and dark
// themes; ExplainChartView rebuilds its chart when the palette changes and exports it to PNG or SVG (in the light
// palette, as exported images should be).

#include "explain/explanation.h"
#include "explain/fairness.h"
#include "explain/global.h"
#include "util/result.h"

#include <QtCharts/QChartView>

#include <QPalette>
#include <QString>
#include <QStringList>

#include <cmath>
#include <functional>
#include <span>
#include <vector>

class QMenu;
class QToolButton;

namespace keel::ui {

/// Builds a chart with the given palette; the caller owns the chart. Must be callable again (rebuilds, export).
using ChartBuilder = std::function<QChart *(const QPalette &)>;

/// Colour of position `t` in [0, 1] on the feature-value scale of beeswarm and dependence plots (blue = low,
/// through purple, red = high); NaN gives grey (missing).
QColor valueRampColor(double t);
/// Colour of group or series `i` in grouped charts (hues that read on light and dark backgrounds).
QColor groupColor(const QPalette &palette, int i);
/// Colours of waterfall steps that raise (green) and lower (red) the output.
QColor raiseColor();
QColor lowerColor();

/// Horizontal bars of `values` (one per feature), the `top` largest, the largest on top; `axisTitle` labels the
/// value axis. With more than `top` non-negative values, the `top - 1` largest are drawn and the rest are summed into
/// a muted "other (N features)" bar at the bottom. Caller owns the chart.
QChart *makeImportanceChart(const QStringList &features, const std::vector<double> &values, const QString &title,
                            const QString &axisTitle, const QPalette &palette, int top = 15);

/// Permutation importance: horizontal bars of the mean drop per feature (the `top` largest, largest on top) with
/// mean ± std error bars drawn as line series (one per feature). Caller owns the chart.
QChart *makePermutationChart(const explain::PermutationImportance &importance, const QPalette &palette, int top = 15);

/// Number of colour bins of beeswarm and dependence plots.
constexpr int kColourBins = 8;

/// SHAP beeswarm: one row per feature (the `top` by mean |SHAP|, largest on top), one point per explained row at its
/// SHAP value, jittered vertically by local density, coloured by the feature's value in kColourBins scatter series
/// from blue (low) to red (high) plus a grey series for missing values. `outputName` names what SHAP values add up to
/// ("log-odds", "prediction"). Caller owns the chart.
QChart *makeBeeswarmChart(const explain::ShapSummary &summary, const QString &outputName, const QPalette &palette,
                          int top = 15);

/// SHAP dependence of `feature`: its raw value against its SHAP value, coloured by `colourFeature`'s value (per
/// category when it has at most kColourBins categories). Numeric features run along x with SHAP on y; a categorical
/// feature gets one row per category on y (points spread around the row) with SHAP on x. Both features are taken
/// from `summary`. Caller owns the chart.
QChart *makeDependenceChart(const explain::ShapSummary &summary, const QString &feature, const QString &colourFeature,
                            const QPalette &palette);

/// Partial dependence (thick line, named "PDP (N rows)", the last series) over ICE curves (thin
/// translucent lines, the first named "M ICE", the rest hidden from the legend). Numeric and date features run along x with
/// the output on y; a categorical feature gets one row per category on y with the output on x. Caller owns the chart.
QChart *makePdpChart(const explain::PartialDependence &pd, const QPalette &palette);

/// Group fairness: grouped bars of selection rate, TPR and FPR (one bar set per group) with the bootstrap
/// intervals drawn as error bars (one line series per bar with an interval). Caller owns the chart.
QChart *makeFairnessChart(const explain::FairnessReport &report, const QPalette &palette);

/// One step of a waterfall: a contribution that moves the margin from `start` to `start + delta`. Plain value.
struct WaterfallStep {
    QString feature;     ///< feature name, or "other" for the remaining features summed
    QString value;       ///< the raw value as the user sees it (empty when missing; null for "other")
    double delta = 0;
    double start = 0;
    int features = 1;    ///< features summed into the step ("other": how many)
    double end() const { return start + delta; }
    /// "feature = value  (+0.53)", or "other (7 features)  (−0.02)".
    QString label() const;
};

/// A waterfall from the base value through contributions to the margin. Plain value.
struct Waterfall {
    QString title;
    QString axisTitle;
    double base = 0;
    std::vector<WaterfallStep> steps; ///< drawing order, bottom first: "other", then by increasing |delta|
    double reference = std::nan("");  ///< an output to compare with (e.g. the row before what-if edits), NaN: none
    QString referenceLabel;
    /// base + the sum of every step's delta (the model's margin, up to the attribution's residual).
    double total() const;
};

/// The waterfall of one row: the `top` features by |contribution| as steps of their own, the rest summed into
/// "other" (left out when there is none). `values` are the features' raw values (may be empty).
Waterfall makeWaterfall(const QStringList &features, std::span<const double> contributions, const QStringList &values,
                        double base, int top = explain::kTopContributions);

/// Horizontal waterfall bars (one QAreaSeries rectangle per step, green up and red down, labelled "feature = value"
/// on the left axis) with dotted connectors and vertical lines at the base value, the output and the reference (when
/// set). Caller owns the chart.
QChart *makeWaterfallChart(const Waterfall &waterfall, const QPalette &palette);

/// Renders the chart `builder` makes with the light palette at `size` into `path`: SVG when the name ends in ".svg",
/// PNG otherwise. Errors name the file. UI thread only (creates a hidden chart view).
Status exportChart(const ChartBuilder &builder, QSize size, const QString &path);

/// A chart view for explanation charts: shows what its builder makes with the widget's palette, rebuilds it when
/// the palette changes, and offers "Export PNG…" and "Export SVG…" in its context menu and in a corner button.
/// Owns its chart. UI thread only.
class ExplainChartView : public QChartView {
    Q_OBJECT
public:
    explicit ExplainChartView(QWidget *parent = nullptr);

    /// Shows the chart `builder` makes (and remembers the builder for rebuilds and export).
    void setBuilder(ChartBuilder builder);
    /// Shows a message chart saying why there is nothing to draw (export is disabled).
    void setMessage(const QString &message);
    /// Whether a data chart (not a message) is shown.
    bool hasData() const { return bool(m_builder); }
    /// The message shown instead of a chart (empty when a chart is shown).
    QString message() const { return m_message; }
    /// Exports the current chart at the view's size (at least 640x400) to `path` (see exportChart()).
    Status exportTo(const QString &path) const;
    /// The corner button with the export menu.
    QToolButton *exportButton() const { return m_exportButton; }
    /// How many labelled rows (bars, beeswarm rows) fit the view's height at its font, at least `minimum` and at
    /// most `maximum`. Builders of row charts read it, and the view rebuilds when a resize changes it.
    int rowsThatFit(int minimum, int maximum) const;

signals:
    /// The chart was (re)built; series pointers taken before are gone.
    void chartRebuilt();

protected:
    void changeEvent(QEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void rebuild();
    void exportInteractive(bool svg);
    QMenu *exportMenu();

    ChartBuilder m_builder;
    int m_fitRows = -1;                 ///< rowsThatFit(1, 1000) when the chart was last built
    QString m_message;
    QToolButton *m_exportButton;
    QMenu *m_menu = nullptr;
    bool m_rebuilding = false;
};

} // namespace keel::ui
