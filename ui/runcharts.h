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

/// The ROC curve (false positive rate vs true positive rate) of `curves`, named `name`, with the chance diagonal;
/// `title` ("ROC curve", "ROC: hid vs rest · macro 0.95") in the chart title. An `average` curve (e.g. the micro
/// average of a multiclass run) is drawn dashed beside it. Caller owns the chart.
QChart *makeRocChart(const CurveSet &curves, const QString &name, const QString &title, const QPalette &palette,
                     const CurveSet *average = nullptr, const QString &averageName = {});
/// Precision against recall; otherwise as makeRocChart. Caller owns the chart.
QChart *makePrChart(const CurveSet &curves, const QString &name, const QString &title, const QPalette &palette,
                    const CurveSet *average = nullptr, const QString &averageName = {});
/// Observed share of positives against mean predicted probability per bin, with the diagonal of a perfectly
/// calibrated model. Caller owns the chart.
QChart *makeCalibrationChart(const CurveSet &curves, const QString &title, const QPalette &palette);
/// "ROC curve · AUC 0.912" (`auc` NaN or absent: just the title).
QString aucTitle(const QString &title, const QString &what, std::optional<double> auc);

/// A confusion matrix as a heat map that stays readable from 2 to 50 classes: rows are actual classes, columns
/// predicted ones. In Counts mode a cell is shaded by its count against the largest cell and shows the count; in
/// Share mode it is shaded by its share of the actual row and shows the share. Text is drawn only while it fits the
/// cell; hovering a cell shows everything about it. Cells are at least zoom() pixels wide: put the widget in a
/// QScrollArea (widgetResizable) and it fills the space when the matrix is small and scrolls when it is large. Class
/// labels are shown exactly (case matters: "hid" and "hId" are two classes). UI thread only.
class ConfusionMatrixWidget : public QWidget {
    Q_OBJECT
public:
    enum class Mode { Counts, RowShare };
    explicit ConfusionMatrixWidget(QWidget *parent = nullptr);
    void setMatrix(const QStringList &classes, const std::vector<std::vector<qint64>> &matrix);
    const std::vector<std::vector<qint64>> &matrix() const { return m_matrix; }
    QStringList classes() const { return m_classes; }
    void setMode(Mode mode);
    Mode mode() const { return m_mode; }
    /// The smallest cell edge in pixels (8 to 96).
    void setZoom(int cellPixels);
    int zoom() const { return m_zoom; }
    /// The cell edge used at the current size.
    int cellSize() const;
    /// Everything about cell (actual, predicted), as the hover shows it: "actual hid, predicted hId: 12 rows, 13.3%
    /// of actual hid".
    QString cellDescription(int actual, int predicted) const;
    /// The text drawn in cell (actual, predicted) when it fits: "count\nshare%" when both fit, else the mode's
    /// number, else nothing.
    QString cellText(int actual, int predicted) const;
    /// The cell under `pos` (widget coordinates) as (actual, predicted); (-1, -1) outside the grid.
    QPoint cellAt(QPoint pos) const;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;
    bool event(QEvent *event) override;

private:
    struct Layout {
        int left = 0, top = 0, cell = 0, labelW = 0, colLabelH = 0;
        bool rotated = false;
    };
    Layout layout() const;
    Layout layoutFor(QSize size) const;
    qint64 rowTotal(int actual) const;

    QStringList m_classes;
    std::vector<std::vector<qint64>> m_matrix;
    Mode m_mode = Mode::RowShare;
    int m_zoom = 8;
    qint64 m_maxCell = 0;
};

/// The largest confusions of `matrix` in words, one per line: "24 of 90 actual hid (26.7%) predicted as hId".
QStringList describeConfusions(const QStringList &classes, const std::vector<std::vector<qint64>> &matrix, int n);

} // namespace keel::ui
