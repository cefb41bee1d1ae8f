#pragma once
// Charts of training runs (QtCharts): per-iteration curves that grow while a run trains, ROC, precision-recall and
// calibration curves, and a confusion-matrix heat map. Colours come from the palette passed in (or the widget's),
// so everything reads in light and dark themes.

#include "rundetails.h"

#include <QPalette>
#include <QPointF>
#include <QString>
#include <QWidget>

#include <map>
#include <optional>
#include <vector>

QT_BEGIN_NAMESPACE
class QChart;
class QLineSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace keel::ui {

/// Colour of series `i` of overlaid curves: the palette's highlight, then hues that read on light and dark
/// backgrounds (orange, green, purple, red, teal, brown, pink), repeating.
QColor runSeriesColor(const QPalette &palette, int i);

/// One chart of per-iteration curves (e.g. "logloss": a train and a validation line), kept open for new points:
/// the axes follow the data. The QChart is handed to a QChartView, which owns it; use this object only while that
/// chart lives. UI thread only.
class CurvePlot {
public:
    /// A chart titled `title` whose x axis is titled `xTitle`.
    CurvePlot(const QString &title, const QPalette &palette, const QString &xTitle = QStringLiteral("iteration"));
    /// Adds a line named `name` (colour `colourIndex`, dashed when `dashed`, with a dot per point when `dots`) with
    /// `points`; returns its index.
    int addSeries(const QString &name, const std::vector<QPointF> &points, int colourIndex, bool dashed = false,
                  bool dots = false);
    /// Appends a point to series `series` and widens the axes to fit it.
    void append(int series, QPointF point);
    /// A dashed vertical line at iteration `x` across the current y range, named `name` (e.g. the best iteration).
    /// Add it after the data: it does not follow later points.
    void addMarker(double x, const QString &name);
    QChart *chart() const { return m_chart; }
    int seriesCount() const { return int(m_series.size()); }
    /// Points of series `series` (tests).
    int pointCount(int series) const;

private:
    void fit();

    QChart *m_chart;
    QValueAxis *m_x;
    QValueAxis *m_y;
    QPalette m_palette;
    std::vector<QLineSeries *> m_series;
    double m_minX = 0, m_maxX = 1, m_minY = 0, m_maxY = 1;
    bool m_empty = true;
};

/// The ROC curve (false positive rate vs true positive rate) with the chance diagonal; `auc` in the title when
/// given. Caller owns the chart.
QChart *makeRocChart(const EvaluationCurves &curves, std::optional<double> auc, const QPalette &palette);
/// Precision against recall; `auc` (PR AUC) in the title when given. Caller owns the chart.
QChart *makePrChart(const EvaluationCurves &curves, std::optional<double> auc, const QPalette &palette);
/// Observed share of positives against mean predicted probability per bin, with the diagonal of a perfectly
/// calibrated model. Caller owns the chart.
QChart *makeCalibrationChart(const EvaluationCurves &curves, const QPalette &palette);

/// A confusion matrix as a heat map: rows are actual classes, columns predicted ones; each cell shows its count and
/// its share of the row, shaded by that share. Colours follow the widget's palette. UI thread only.
class ConfusionMatrixWidget : public QWidget {
    Q_OBJECT
public:
    explicit ConfusionMatrixWidget(QWidget *parent = nullptr);
    void setMatrix(const QStringList &classes, const std::vector<std::vector<qint64>> &matrix);
    const std::vector<std::vector<qint64>> &matrix() const { return m_matrix; }
    QStringList classes() const { return m_classes; }
    /// The text drawn in cell (actual, predicted): "count\nshare%".
    QString cellText(int actual, int predicted) const;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    QStringList m_classes;
    std::vector<std::vector<qint64>> m_matrix;
};

} // namespace keel::ui
