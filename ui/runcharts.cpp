#include "runcharts.h"

#include "charts.h"

#include "ml/metrics.h"

#include <QtCharts/QChart>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QValueAxis>

#include <QHelpEvent>
#include <QLocale>
#include <QToolTip>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace keel::ui {

namespace {

QChart *newRunChart(const QString &title)
{
    auto *chart = new QChart;
    chart->setTitle(title);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->setAlignment(Qt::AlignTop);
    return chart;
}

QValueAxis *unitAxis(const QString &title)
{
    auto *axis = new QValueAxis;
    axis->setRange(0, 1);
    axis->setTickCount(6);
    axis->setLabelFormat(QStringLiteral("%.1f"));
    axis->setTitleText(title);
    return axis;
}

QLineSeries *line(const std::vector<double> &x, const std::vector<double> &y, const QString &name, const QColor &colour,
                  Qt::PenStyle style = Qt::SolidLine, qreal width = 2)
{
    auto *s = new QLineSeries;
    s->setName(name);
    QList<QPointF> points;
    points.reserve(qsizetype(std::min(x.size(), y.size())));
    for (size_t i = 0; i < x.size() && i < y.size(); ++i)
        if (std::isfinite(x[i]) && std::isfinite(y[i]))
            points.append(QPointF(x[i], y[i]));
    s->replace(points);
    QPen pen(colour, width);
    pen.setStyle(style);
    s->setPen(pen);
    return s;
}

/// A chart over the unit square with `series` attached to both axes; colours from `palette`.
QChart *unitChart(const QString &title, const QString &xTitle, const QString &yTitle, const std::vector<QAbstractSeries *> &series,
                  const QPalette &palette)
{
    QChart *chart = newRunChart(title);
    QValueAxis *x = unitAxis(xTitle);
    QValueAxis *y = unitAxis(yTitle);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (QAbstractSeries *s : series) {
        chart->addSeries(s);
        s->attachAxis(x);
        s->attachAxis(y);
    }
    applyPalette(chart, palette);
    return chart;
}

QColor referenceColour(const QPalette &palette)
{
    QColor c = palette.color(QPalette::Text);
    c.setAlpha(140);
    return c;
}

/// A range around [lo, hi] on multiples of a 1-2-2.5-5 step giving about `ticks` ticks, at least `minStep` apart.
void niceRange(QValueAxis *axis, double lo, double hi, int ticks, double minStep)
{
    const double raw = std::max((hi - lo) / double(ticks - 1), minStep);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / magnitude;
    const double step = std::max(minStep, (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * magnitude);
    const double niceLo = std::floor(lo / step + 1e-9) * step;
    const double niceHi = std::ceil(hi / step - 1e-9) * step;
    axis->setRange(niceLo, std::max(niceHi, niceLo + step));
    axis->setTickCount(int(std::lround((std::max(niceHi, niceLo + step) - niceLo) / step)) + 1);
}

} // namespace

QString aucTitle(const QString &base, const QString &label, std::optional<double> auc)
{
    if (!auc || std::isnan(*auc))
        return base;
    return QStringLiteral("%1 \u2014 %2 %3").arg(base, label, QLocale::c().toString(*auc, 'f', 3));
}

QColor runSeriesColor(const QPalette &palette, int i)
{
    static const QColor hues[] = {QColor(0xe8, 0x87, 0x1e), QColor(0x3c, 0xa8, 0x5b), QColor(0x9b, 0x6b, 0xd6),
                                  QColor(0xdb, 0x4f, 0x5a), QColor(0x1f, 0xa7, 0xa8), QColor(0xb0, 0x7d, 0x3f),
                                  QColor(0xd6, 0x5c, 0xa4)};
    constexpr int n = int(sizeof(hues) / sizeof(hues[0]));
    if (i % (n + 1) == 0)
        return palette.color(QPalette::Highlight);
    return hues[(i % (n + 1)) - 1];
}

// ---- CurvePlot ----

CurvePlot::CurvePlot(const QString &title, const QPalette &palette, const QString &xTitle)
    : m_chart(newRunChart(title)), m_x(new QValueAxis), m_y(new QValueAxis), m_palette(palette)
{
    m_x->setTitleText(xTitle);
    m_x->setLabelFormat(QStringLiteral("%.0f"));
    m_x->setTickCount(6);
    m_y->setLabelFormat(QStringLiteral("%.3g"));
    m_y->setTickCount(6);
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_y, Qt::AlignLeft);
    applyPalette(m_chart, palette);
    fit();
}

int CurvePlot::addSeries(const QString &name, const std::vector<QPointF> &points, int colourIndex, bool dashed, bool dots)
{
    auto *s = new QLineSeries;
    s->setName(name);
    QPen pen(runSeriesColor(m_palette, colourIndex), 2);
    if (dashed)
        pen.setStyle(Qt::DashLine);
    s->setPen(pen);
    QList<QPointF> list;
    list.reserve(qsizetype(points.size()));
    for (const QPointF &p : points) {
        if (!std::isfinite(p.x()) || !std::isfinite(p.y()))
            continue;
        list.append(p);
        if (m_empty) {
            m_minX = m_maxX = p.x();
            m_minY = m_maxY = p.y();
            m_empty = false;
        }
        m_minX = std::min(m_minX, p.x());
        m_maxX = std::max(m_maxX, p.x());
        m_minY = std::min(m_minY, p.y());
        m_maxY = std::max(m_maxY, p.y());
    }
    s->replace(list);
    // A lone point draws no line: show it as a dot.
    s->setPointsVisible(dots || list.size() == 1);
    m_chart->addSeries(s);
    s->attachAxis(m_x);
    s->attachAxis(m_y);
    m_chart->legend()->setLabelColor(m_palette.color(QPalette::Text));
    m_series.push_back(s);
    fit();
    return int(m_series.size()) - 1;
}

void CurvePlot::addMarker(double x, const QString &name)
{
    if (!std::isfinite(x))
        return;
    auto *s = new QLineSeries;
    s->setName(name);
    QColor c = m_palette.color(QPalette::Text);
    c.setAlpha(150);
    QPen pen(c, 1);
    pen.setStyle(Qt::DashLine);
    s->setPen(pen);
    s->append(x, m_y->min());
    s->append(x, m_y->max());
    m_chart->addSeries(s);
    s->attachAxis(m_x);
    s->attachAxis(m_y);
    m_chart->legend()->setLabelColor(m_palette.color(QPalette::Text));
}

void CurvePlot::append(int series, QPointF p)
{
    if (series < 0 || series >= int(m_series.size()) || !std::isfinite(p.x()) || !std::isfinite(p.y()))
        return;
    m_series[size_t(series)]->append(p);
    if (m_empty) {
        m_minX = m_maxX = p.x();
        m_minY = m_maxY = p.y();
        m_empty = false;
    }
    const bool grows = p.x() < m_minX || p.x() > m_maxX || p.y() < m_minY || p.y() > m_maxY;
    m_minX = std::min(m_minX, p.x());
    m_maxX = std::max(m_maxX, p.x());
    m_minY = std::min(m_minY, p.y());
    m_maxY = std::max(m_maxY, p.y());
    if (grows)
        fit();
}

int CurvePlot::pointCount(int series) const
{
    return series >= 0 && series < int(m_series.size()) ? int(m_series[size_t(series)]->count()) : 0;
}

void CurvePlot::fit()
{
    niceRange(m_x, std::min(0.0, m_minX), std::max(m_maxX, m_minX + 1), 6, 1.0);
    double lo = m_minY, hi = m_maxY;
    if (hi - lo < 1e-12) {
        const double pad = std::max(1e-3, std::abs(lo) * 0.05);
        lo -= pad;
        hi += pad;
    } else {
        const double pad = (hi - lo) * 0.05;
        lo -= pad;
        hi += pad;
    }
    niceRange(m_y, lo, hi, 6, 0.0);
}

// ---- evaluation charts ----

QChart *makeRocChart(const CurveSet &c, const QString &name, const QString &title, const QPalette &palette,
                     const CurveSet *average, const QString &averageName)
{
    if (c.rocFpr.empty())
        return makeMessageChart(QStringLiteral("No ROC curve: the evaluated rows hold only one of the two sides"), palette);
    std::vector<QAbstractSeries *> series{line(c.rocFpr, c.rocTpr, name, runSeriesColor(palette, 0))};
    if (average && !average->rocFpr.empty())
        series.push_back(line(average->rocFpr, average->rocTpr, averageName, runSeriesColor(palette, 1), Qt::DashLine, 1.5));
    series.push_back(line({0, 1}, {0, 1}, QStringLiteral("chance"), referenceColour(palette), Qt::DotLine, 1));
    return unitChart(title, QStringLiteral("false positive rate (FPR)"), QStringLiteral("TPR"), series, palette);
}

QChart *makePrChart(const CurveSet &c, const QString &name, const QString &title, const QPalette &palette,
                    const CurveSet *average, const QString &averageName)
{
    if (c.prRecall.empty())
        return makeMessageChart(QStringLiteral("No precision-recall curve: the evaluated rows hold no positive"), palette);
    std::vector<QAbstractSeries *> series{line(c.prRecall, c.prPrecision, name, runSeriesColor(palette, 0))};
    if (average && !average->prRecall.empty())
        series.push_back(line(average->prRecall, average->prPrecision, averageName, runSeriesColor(palette, 1), Qt::DashLine, 1.5));
    return unitChart(title, QStringLiteral("recall"), QStringLiteral("precision"), series, palette);
}

QChart *makeCalibrationChart(const CurveSet &c, const QString &title, const QPalette &palette)
{
    if (c.calibrationPredicted.empty())
        return makeMessageChart(QStringLiteral("No calibration curve was recorded"), palette);
    auto *curve = line(c.calibrationPredicted, c.calibrationObserved, QStringLiteral("model"), runSeriesColor(palette, 0));
    auto *points = new QScatterSeries;
    points->setName(QStringLiteral("bins"));
    points->setMarkerSize(8);
    points->setColor(runSeriesColor(palette, 0));
    points->setBorderColor(palette.color(QPalette::Base));
    for (size_t i = 0; i < c.calibrationPredicted.size() && i < c.calibrationObserved.size(); ++i)
        if (std::isfinite(c.calibrationPredicted[i]) && std::isfinite(c.calibrationObserved[i]))
            points->append(c.calibrationPredicted[i], c.calibrationObserved[i]);
    auto *ideal = line({0, 1}, {0, 1}, QStringLiteral("perfectly calibrated"), referenceColour(palette), Qt::DashLine, 1);
    QChart *chart = unitChart(title, QStringLiteral("mean predicted probability"),
                              QStringLiteral("observed"), {curve, points, ideal}, palette);
    // The scatter repeats the line's points; one legend entry for the model is enough.
    const auto markers = chart->legend()->markers(points);
    for (auto *m : markers)
        m->setVisible(false);
    return chart;
}

// ---- confusion matrix ----

namespace {
constexpr int kMinZoom = 8, kMaxZoom = 96, kMargin = 4;
}

ConfusionMatrixWidget::ConfusionMatrixWidget(QWidget *parent) : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setBackgroundRole(QPalette::Base);
    setAutoFillBackground(true);
    setMouseTracking(true);
}

void ConfusionMatrixWidget::setMatrix(const QStringList &classes, const std::vector<std::vector<qint64>> &matrix)
{
    m_classes = classes;
    m_matrix = matrix;
    while (m_classes.size() < qsizetype(m_matrix.size()))
        m_classes << QStringLiteral("class %1").arg(m_classes.size());
    m_maxCell = 0;
    for (const auto &row : m_matrix)
        for (qint64 v : row)
            m_maxCell = std::max(m_maxCell, v);
    updateGeometry();
    update();
}

void ConfusionMatrixWidget::setMode(Mode mode)
{
    m_mode = mode;
    update();
}

void ConfusionMatrixWidget::setZoom(int cellPixels)
{
    m_zoom = std::clamp(cellPixels, kMinZoom, kMaxZoom);
    updateGeometry();
    update();
}

qint64 ConfusionMatrixWidget::rowTotal(int actual) const
{
    qint64 total = 0;
    for (qint64 v : m_matrix[size_t(actual)])
        total += v;
    return total;
}

ConfusionMatrixWidget::Layout ConfusionMatrixWidget::layoutFor(QSize size) const
{
    Layout l;
    const QFontMetrics fm(font());
    const int lineH = fm.height();
    const int k = std::max<int>(1, int(m_matrix.size()));
    int labelW = 0;
    for (const QString &c : m_classes)
        labelW = std::max(labelW, fm.horizontalAdvance(c));
    l.labelW = std::min(labelW, 16 * fm.averageCharWidth()) + 14;
    const int top0 = kMargin + lineH + 6 + lineH + 4;            // title, "predicted"
    const int left = kMargin + lineH + 6 + l.labelW;               // rotated "actual", row labels
    // Column labels run horizontally while the widest fits a cell at the minimum zoom, else they are rotated.
    const int fillCell = std::min((size.width() - left - kMargin) / k, (size.height() - top0 - lineH - kMargin) / k);
    l.cell = std::clamp(std::max(m_zoom, fillCell), m_zoom, std::max(m_zoom, 140));
    l.rotated = labelW + 4 > l.cell;
    l.colLabelH = l.rotated ? l.labelW : lineH + 2;
    if (l.rotated) {
        const int fill = std::min((size.width() - left - kMargin) / k, (size.height() - top0 - l.colLabelH - kMargin) / k);
        l.cell = std::clamp(std::max(m_zoom, fill), m_zoom, std::max(m_zoom, 140));
    }
    l.left = left;
    l.top = top0 + l.colLabelH + 4;
    return l;
}

ConfusionMatrixWidget::Layout ConfusionMatrixWidget::layout() const { return layoutFor(size()); }

int ConfusionMatrixWidget::cellSize() const { return layout().cell; }

QPoint ConfusionMatrixWidget::cellAt(QPoint pos) const
{
    const Layout l = layout();
    const int k = int(m_matrix.size());
    if (k == 0 || pos.x() < l.left || pos.y() < l.top)
        return {-1, -1};
    const int c = (pos.x() - l.left) / l.cell, a = (pos.y() - l.top) / l.cell;
    if (a >= k || c >= k)
        return {-1, -1};
    return {a, c};
}

QString ConfusionMatrixWidget::cellDescription(int actual, int predicted) const
{
    if (actual < 0 || actual >= int(m_matrix.size()) || predicted < 0 || predicted >= int(m_matrix[size_t(actual)].size()))
        return {};
    const qint64 count = m_matrix[size_t(actual)][size_t(predicted)];
    const qint64 total = rowTotal(actual);
    const double share = total > 0 ? 100.0 * double(count) / double(total) : 0.0;
    return QStringLiteral("actual %1, predicted %2: %3 of %4 rows (%5%)%6")
        .arg(m_classes.value(actual), m_classes.value(predicted), QLocale().toString(count), QLocale().toString(total),
             QLocale::c().toString(share, 'f', 1), actual == predicted ? QStringLiteral(", correct") : QString());
}

QString ConfusionMatrixWidget::cellText(int actual, int predicted) const
{
    if (actual < 0 || actual >= int(m_matrix.size()) || predicted < 0 || predicted >= int(m_matrix[size_t(actual)].size()))
        return {};
    const qint64 count = m_matrix[size_t(actual)][size_t(predicted)];
    const qint64 total = rowTotal(actual);
    const double share = total > 0 ? 100.0 * double(count) / double(total) : 0.0;
    const QString countText = QLocale().toString(count);
    const QString shareText = QLocale::c().toString(share, 'f', share > 0 && share < 10 ? 1 : 0) + QLatin1Char('%');
    const QFontMetrics fm(font());
    const int cell = cellSize() - 4;
    const bool countFits = fm.horizontalAdvance(countText) <= cell && fm.height() <= cell;
    const bool shareFits = fm.horizontalAdvance(shareText) <= cell && fm.height() <= cell;
    if (countFits && shareFits && 2 * fm.height() <= cell)
        return m_mode == Mode::Counts ? countText + QLatin1Char('\n') + shareText : shareText + QLatin1Char('\n') + countText;
    if (m_mode == Mode::Counts)
        return countFits ? countText : QString();
    return shareFits ? shareText : QString();
}

QSize ConfusionMatrixWidget::sizeHint() const
{
    const Layout l = layoutFor(QSize(0, 0));
    const int k = std::max<int>(1, int(m_matrix.size()));
    return QSize(std::max(360, l.left + k * std::max(m_zoom, 28) + kMargin), std::max(300, l.top + k * std::max(m_zoom, 28) + kMargin));
}

QSize ConfusionMatrixWidget::minimumSizeHint() const
{
    const Layout l = layoutFor(QSize(0, 0));
    const int k = std::max<int>(1, int(m_matrix.size()));
    return QSize(l.left + k * m_zoom + kMargin, l.top + k * m_zoom + kMargin);
}

bool ConfusionMatrixWidget::event(QEvent *e)
{
    if (e->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(e);
        const QPoint cell = cellAt(help->pos());
        if (cell.x() >= 0)
            QToolTip::showText(help->globalPos(), cellDescription(cell.x(), cell.y()), this);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(e);
}

void ConfusionMatrixWidget::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::Text);
    QColor muted = text;
    muted.setAlpha(170);
    const int k = int(m_matrix.size());
    QFont titleFont = font();
    titleFont.setBold(true);
    p.setFont(titleFont);
    p.setPen(text);
    const QFontMetrics fm(font());
    const int lineH = fm.height();
    const Layout l = layout();
    const int gridW = l.cell * std::max(k, 1);
    p.drawText(QRect(l.left, kMargin, std::max(gridW, width() - l.left), lineH + 2), Qt::AlignLeft, QStringLiteral("Confusion matrix"));
    if (k == 0) {
        p.setFont(font());
        p.setPen(muted);
        p.drawText(rect(), Qt::AlignCenter, QStringLiteral("No confusion matrix recorded for this run"));
        return;
    }

    p.setFont(font());
    p.setPen(muted);
    p.drawText(QRect(l.left, kMargin + lineH + 6, gridW, lineH + 2), Qt::AlignHCenter, QStringLiteral("predicted"));
    p.save();
    p.translate(kMargin + lineH, l.top + gridW / 2);
    p.rotate(-90);
    p.drawText(QRect(-gridW / 2, -lineH, gridW, lineH + 2), Qt::AlignHCenter, QStringLiteral("actual"));
    p.restore();

    // Labels: every class while the font fits a cell, else every n-th (the hover names every cell).
    const int every = std::max(1, (lineH + l.cell - 1) / l.cell);
    p.setPen(text);
    for (int c = 0; c < k; c += every) {
        const QString rowLabel = fm.elidedText(m_classes.value(c), Qt::ElideRight, l.labelW - 8);
        p.drawText(QRect(l.left - l.labelW, l.top + c * l.cell, l.labelW - 6, l.cell), Qt::AlignRight | Qt::AlignVCenter, rowLabel);
        if (l.rotated) {
            const QString label = fm.elidedText(m_classes.value(c), Qt::ElideRight, l.colLabelH - 4);
            p.save();
            p.translate(l.left + c * l.cell + l.cell / 2 + lineH / 2 - 2, l.top - 4);
            p.rotate(-90);
            p.drawText(QRect(0, -lineH, l.colLabelH, lineH + 2), Qt::AlignLeft | Qt::AlignVCenter, label);
            p.restore();
        } else {
            p.drawText(QRect(l.left + c * l.cell, l.top - l.colLabelH - 4, l.cell, l.colLabelH), Qt::AlignHCenter | Qt::AlignBottom,
                       m_classes.value(c));
        }
    }

    const QColor base = pal.color(QPalette::Base);
    const QColor accent = pal.color(QPalette::Highlight);
    QFont bold = font();
    bold.setBold(true);
    for (int a = 0; a < k; ++a) {
        const qint64 total = rowTotal(a);
        for (int c = 0; c < k && c < int(m_matrix[size_t(a)].size()); ++c) {
            const qint64 count = m_matrix[size_t(a)][size_t(c)];
            const double share = m_mode == Mode::Counts ? (m_maxCell > 0 ? double(count) / double(m_maxCell) : 0.0)
                                                        : (total > 0 ? double(count) / double(total) : 0.0);
            const double t = share > 0 ? 0.12 + 0.88 * share : 0.0;
            const QColor fill = QColor::fromRgbF(float(base.redF() + (accent.redF() - base.redF()) * t),
                                                 float(base.greenF() + (accent.greenF() - base.greenF()) * t),
                                                 float(base.blueF() + (accent.blueF() - base.blueF()) * t));
            const QRect r(l.left + c * l.cell, l.top + a * l.cell, l.cell, l.cell);
            const int inset = l.cell >= 16 ? 1 : 0;
            p.fillRect(r.adjusted(inset, inset, -inset, -inset), fill);
            if (a == c || l.cell >= 16) {
                QColor edge = text;
                edge.setAlpha(a == c ? 160 : 40);
                p.setPen(QPen(edge, 1));
                p.setBrush(Qt::NoBrush);
                p.drawRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5));
            }
            const QString cellLabel = cellText(a, c);
            if (!cellLabel.isEmpty()) {
                p.setPen(qGray(fill.rgb()) > 140 ? QColor(0x1a, 0x1a, 0x1a) : QColor(0xf5, 0xf5, 0xf5));
                p.setFont(a == c ? bold : font());
                p.drawText(r, Qt::AlignCenter, cellLabel);
                p.setFont(font());
            }
        }
    }
}

QStringList describeConfusions(const QStringList &classes, const std::vector<std::vector<qint64>> &matrix, int n)
{
    QStringList out;
    for (const ml::Confusion &c : ml::largestConfusions(matrix, n)) {
        qint64 total = 0;
        for (qint64 v : matrix[size_t(c.actual)])
            total += v;
        out << QStringLiteral("%1 of %2 actual %3 (%4%) predicted as %5")
                   .arg(QLocale().toString(c.count), QLocale().toString(total), classes.value(c.actual),
                        QLocale::c().toString(100.0 * c.shareOfActual, 'f', 1), classes.value(c.predicted));
    }
    return out;
}

} // namespace keel::ui
