#include "explaincharts.h"
#include "explain/explanation.h"

#include "charts.h"
#include "theme.h"

#include <QtCharts/QAreaSeries>
#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QCategoryAxis>
#include <QtCharts/QChart>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QHorizontalBarSeries>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QValueAxis>

#include <QContextMenuEvent>
#include <QCoreApplication>
#include <QDateTime>
#include <QFileDialog>
#include <QFileInfo>
#include <QGraphicsScene>
#include <QImage>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QRegularExpression>
#include <QSvgGenerator>
#include <QToolButton>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace keel::ui {

namespace {

/// Axis labels are rich text: shorten and escape ("<=50K" would vanish as a tag).
QString axisText(const QString &s, int max = 30)
{
    const QString shortened = s.size() <= max ? s : s.left(max - 1) + QStringLiteral("\u2026");
    return shortened.toHtmlEscaped();
}

/// Three significant digits without exponents for everyday magnitudes ("0.0149", "595", "1990").
QString shortNumber(double v)
{
    const double a = std::abs(v);
    if (a >= 1000 && a < 1e9)
        return QLocale::c().toString(v, 'f', 0);
    return QLocale::c().toString(v, 'g', 3);
}

QString signedNumber(double v)
{
    const QString n = shortNumber(std::abs(v));
    return (v < 0 ? QStringLiteral("\u2212") : QStringLiteral("+")) + n;
}

QString number(double v, int digits = 3)
{
    if (!std::isfinite(v))
        return QStringLiteral("\u2013");
    return QLocale::c().toString(v, 'g', digits);
}

QChart *newChart(const QString &title, const QPalette &palette)
{
    auto *chart = new QChart;
    chart->setTitle(title.toHtmlEscaped());
    chart->setMargins(QMargins(6, 6, 10, 6));
    chart->setAnimationOptions(QChart::NoAnimation);
    applyPalette(chart, palette);
    return chart;
}

void hideFromLegend(QChart *chart, QAbstractSeries *series)
{
    const QList<QLegendMarker *> markers = chart->legend()->markers(series);
    for (QLegendMarker *m : markers)
        m->setVisible(false);
}

/// Round tick values (1, 2 or 5 times a power of ten) and labels with just the decimals they need.
void niceAxis(QValueAxis *axis)
{
    // The smallest step of 1, 2 or 5 times a power of ten that covers the range with at most 6 ticks (their labels
    // must fit a chart a third of the window wide).
    const double lo = axis->min(), hi = axis->max();
    if (std::isfinite(lo) && std::isfinite(hi) && hi > lo) {
        const double base = std::pow(10.0, std::floor(std::log10((hi - lo) / 6)));
        for (const double m : {1.0, 2.0, 5.0, 10.0, 20.0, 50.0}) {
            const double step = m * base;
            const double a = std::floor(lo / step + 1e-9) * step, b = std::ceil(hi / step - 1e-9) * step;
            const int ticks = int(std::lround((b - a) / step)) + 1;
            if (ticks <= 6) {
                axis->setRange(a, b);
                axis->setTickCount(ticks);
                break;
            }
        }
    }
    const double interval = (axis->max() - axis->min()) / std::max(1, axis->tickCount() - 1);
    const double magnitude = std::max(std::abs(axis->min()), std::abs(axis->max()));
    if (magnitude >= 1e6 || !(interval > 0)) {
        axis->setLabelFormat(QStringLiteral("%.3g"));
        return;
    }
    const int decimals = std::clamp(int(std::ceil(-std::log10(interval) - 1e-9)), 0, 8);
    axis->setLabelFormat(QStringLiteral("%.") + QString::number(decimals) + QStringLiteral("f"));
}

/// An axis for probabilities and rates: [lo, hi] widened to round steps (0.01 ... 0.2) inside [0, 1], at most 7 ticks.
QValueAxis *probabilityAxis(double lo, double hi)
{
    if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo) {
        lo = 0;
        hi = 1;
    }
    lo = std::clamp(lo, 0.0, 1.0);
    hi = std::clamp(hi, 0.0, 1.0);
    double a = 0, b = 1, step = 0.2;
    for (const double candidate : {0.01, 0.02, 0.05, 0.1, 0.2}) {
        a = std::max(0.0, std::floor(lo / candidate + 1e-9) * candidate);
        b = std::min(1.0, std::ceil(hi / candidate - 1e-9) * candidate);
        if (b - a < candidate / 2)
            b = std::min(1.0, a + candidate), a = b - candidate;
        step = candidate;
        if ((b - a) / candidate <= 6.01)
            break;
    }
    auto *axis = new QValueAxis;
    axis->setRange(a, b);
    axis->setTickCount(int(std::lround((b - a) / step)) + 1);
    axis->setLabelFormat(step < 0.1 ? QStringLiteral("%.2f") : QStringLiteral("%.1f"));
    return axis;
}

/// A value axis over [lo, hi], padded by `pad` of the span on both sides, with readable labels.
QValueAxis *valueAxis(double lo, double hi, double pad = 0.05)
{
    if (!std::isfinite(lo) || !std::isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (hi <= lo) {
        const double d = std::max(std::abs(lo) * 0.1, 0.5);
        lo -= d;
        hi += d;
    }
    const double span = hi - lo;
    auto *axis = new QValueAxis;
    axis->setRange(lo - pad * span, hi + pad * span);
    axis->setTickCount(6);
    niceAxis(axis);
    return axis;
}

/// A vertical axis of category rows 0..n-1 (row 0 at the bottom) labelled with `labels`.
QCategoryAxis *rowAxis(const QStringList &labels)
{
    auto *axis = new QCategoryAxis;
    axis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionCenter);
    axis->setMin(-0.5);
    axis->setStartValue(-0.5);
    for (qsizetype i = 0; i < labels.size(); ++i)
        axis->append(labels[i], double(i) + 0.5);
    axis->setRange(-0.5, double(labels.size()) - 0.5);
    axis->setGridLineVisible(false);
    return axis;
}

QColor translucent(QColor c, int alpha)
{
    c.setAlpha(alpha);
    return c;
}

/// A straight line series from (x0, y0) to (x1, y1) (more points for error bars and caps).
QLineSeries *polyline(const std::vector<QPointF> &points, const QPen &pen)
{
    auto *s = new QLineSeries;
    for (const QPointF &p : points)
        s->append(p);
    s->setPen(pen);
    return s;
}

/// Error bar points around `center` on the cross axis from `lo` to `hi` on the value axis, with caps of half-width
/// `cap`; `horizontal` means the value axis is x.
std::vector<QPointF> errorBar(double center, double lo, double hi, double cap, bool horizontal)
{
    const auto pt = [horizontal](double v, double c) { return horizontal ? QPointF(v, c) : QPointF(c, v); };
    return {pt(lo, center - cap), pt(lo, center + cap), pt(lo, center), pt(hi, center), pt(hi, center + cap),
            pt(hi, center - cap)};
}

void attach(QChart *chart, QAbstractSeries *series, QAbstractAxis *x, QAbstractAxis *y)
{
    chart->addSeries(series);
    series->attachAxis(x);
    series->attachAxis(y);
}

/// Indices of the `top` largest finite values (largest first; ties keep order), NaN never chosen.
std::vector<int> topIndices(const std::vector<double> &values, int top)
{
    std::vector<int> order;
    for (size_t i = 0; i < values.size(); ++i)
        if (std::isfinite(values[i]))
            order.push_back(int(i));
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return values[size_t(a)] > values[size_t(b)]; });
    if (int(order.size()) > top)
        order.resize(size_t(top));
    return order;
}

/// Scatter series for the colour bins, named "low" ... "high" (the middle bins unnamed), plus "missing".
std::vector<QScatterSeries *> colourBinSeries(const QString &lowName, const QString &highName, double markerSize)
{
    std::vector<QScatterSeries *> bins;
    for (int b = 0; b <= kColourBins; ++b) {
        auto *s = new QScatterSeries;
        const QColor c = b < kColourBins ? valueRampColor((b + 0.5) / kColourBins) : valueRampColor(std::nan(""));
        s->setColor(translucent(c, 210));
        s->setBorderColor(translucent(c, 210));
        s->setMarkerSize(markerSize);
        s->setMarkerShape(QScatterSeries::MarkerShapeCircle);
        s->setName(b == 0 ? lowName : b == kColourBins - 1 ? highName : b == kColourBins ? QStringLiteral("missing") : QString());
        bins.push_back(s);
    }
    return bins;
}

int colourBin(double t)
{
    if (!std::isfinite(t))
        return kColourBins;
    return std::clamp(int(t * kColourBins), 0, kColourBins - 1);
}

/// Deterministic jitter in [-0.5, 0.5) for point `i`.
double jitter(qint64 i)
{
    const quint64 h = (quint64(i) + 1) * 0x9E3779B97F4A7C15ull;
    return double((h >> 11) % 100000) / 100000.0 - 0.5;
}

const explain::ShapSummary::Feature *findFeature(const explain::ShapSummary &s, const QString &name)
{
    for (const auto &f : s.features)
        if (f.name == name)
            return &f;
    return nullptr;
}

} // namespace

QColor valueRampColor(double t)
{
    if (!std::isfinite(t))
        return QColor(0x9a, 0x9a, 0x9a);
    t = std::clamp(t, 0.0, 1.0);
    // SHAP's colour scale: blue (#1E88E5) through purple to red (#FF0D57).
    const QColor lo(0x1e, 0x88, 0xe5), hi(0xff, 0x0d, 0x57);
    const auto mix = [t](int a, int b) { return int(std::lround(a + (b - a) * t)); };
    return QColor(mix(lo.red(), hi.red()), mix(lo.green(), hi.green()), mix(lo.blue(), hi.blue()));
}

QColor groupColor(const QPalette &palette, int i)
{
    static const QColor hues[] = {QColor(0xe8, 0x87, 0x1e), QColor(0x2e, 0xa0, 0x5a), QColor(0x9b, 0x59, 0xd0),
                                  QColor(0xd6, 0x3c, 0x3c), QColor(0x1a, 0xa5, 0xa5), QColor(0xa0, 0x6a, 0x3c),
                                  QColor(0xd9, 0x5f, 0xa8)};
    if (i == 0)
        return palette.color(QPalette::Highlight);
    return hues[size_t(i - 1) % std::size(hues)];
}

QColor raiseColor() { return QColor(0x2e, 0xa0, 0x4f); }
QColor lowerColor() { return QColor(0xdb, 0x3b, 0x3b); }

// ---------------------------------------------------------------------------------------------------------------
// Bars

QChart *makeImportanceChart(const QStringList &features, const std::vector<double> &values, const QString &title,
                            const QString &axisTitle, const QPalette &palette, int top)
{
    // More features than bars: the top - 1 largest, and the rest summed into one "other" bar at the bottom (for
    // importances, which are not negative).
    const bool fold = top > 1 && values.size() > size_t(top)
                      && std::all_of(values.begin(), values.end(), [](double v) { return !(v < 0); });
    const std::vector<int> order = topIndices(values, fold ? top - 1 : top);
    if (order.empty() || features.size() != qsizetype(values.size()))
        return makeMessageChart(QStringLiteral("No importance to draw"), palette);
    QChart *chart = newChart(title, palette);
    chart->legend()->hide();
    auto *set = new QBarSet(QStringLiteral("importance"));
    set->setColor(seriesColor(palette, 0));
    set->setBorderColor(seriesColor(palette, 0));
    set->setLabelColor(palette.color(QPalette::Text));
    QStringList labels;
    double maxValue = 0, minValue = 0;
    if (fold) {
        std::vector<bool> shown(values.size(), false);
        for (int i : order)
            shown[size_t(i)] = true;
        double rest = 0;
        for (size_t i = 0; i < values.size(); ++i)
            if (!shown[i] && std::isfinite(values[i]))
                rest += values[i];
        *set << rest;
        labels << QStringLiteral("other (%1 features)").arg(values.size() - order.size());
        maxValue = rest;
        QColor muted = palette.color(QPalette::Text);
        muted.setAlpha(110);
        set->setSelectedColor(muted);
        set->selectBar(0);
    }
    // Horizontal bars are drawn bottom-up: the largest goes last so it is on top.
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        const double v = values[size_t(*it)];
        *set << v;
        labels << axisText(features[*it]);
        maxValue = std::max(maxValue, v);
        minValue = std::min(minValue, v);
    }
    auto *series = new QHorizontalBarSeries;
    series->append(set);
    series->setBarWidth(0.7);
    series->setLabelsVisible(true);
    series->setLabelsPosition(QAbstractBarSeries::LabelsOutsideEnd);
    series->setLabelsPrecision(std::max(3, maxValue > 0 ? int(std::floor(std::log10(maxValue))) + 1 : 3));
    chart->addSeries(series);
    auto *y = new QBarCategoryAxis;
    y->append(labels);
    y->setGridLineVisible(false);
    auto *x = new QValueAxis;
    x->setRange(minValue < 0 ? minValue * 1.15 : 0, maxValue > 0 ? maxValue * 1.15 : 1);
    x->setTickCount(6);
    niceAxis(x);
    x->setTitleText(axisTitle);
    chart->addAxis(y, Qt::AlignLeft);
    chart->addAxis(x, Qt::AlignBottom);
    series->attachAxis(y);
    series->attachAxis(x);
    drawCategoryLabels(chart, y, series);
    applyPalette(chart, palette);
    return chart;
}

QChart *makePermutationChart(const explain::PermutationImportance &p, const QPalette &palette, int top)
{
    const std::vector<int> order = topIndices(p.mean, top);
    if (order.empty() || p.features.size() != qsizetype(p.mean.size()) || p.std.size() != p.mean.size())
        return makeMessageChart(QStringLiteral("No permutation importance to draw"), palette);
    const bool accuracy = p.metric == u"accuracy";
    const QString metric = p.metric == u"log_loss" ? QStringLiteral("log loss") : p.metric;
    QChart *chart = newChart(QStringLiteral("Permutation importance (%1 repeats)").arg(p.repeats), palette);
    chart->legend()->hide();
    auto *set = new QBarSet(QStringLiteral("mean"));
    const QColor bar = groupColor(palette, 1);
    set->setColor(translucent(bar, 190));
    set->setBorderColor(bar);
    QStringList labels;
    double lo = 0, hi = 0;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        const size_t f = size_t(*it);
        *set << p.mean[f];
        labels << axisText(p.features[*it]);
        lo = std::min(lo, p.mean[f] - p.std[f]);
        hi = std::max(hi, p.mean[f] + p.std[f]);
    }
    auto *series = new QHorizontalBarSeries;
    series->append(set);
    series->setBarWidth(0.65);
    chart->addSeries(series);
    auto *y = new QBarCategoryAxis;
    y->append(labels);
    y->setGridLineVisible(false);
    QValueAxis *x = valueAxis(lo, hi, 0.04);
    x->setTitleText(QStringLiteral("%1 %2 when shuffled")
                        .arg(metric, accuracy ? QStringLiteral("drop") : QStringLiteral("increase")));
    chart->addAxis(y, Qt::AlignLeft);
    chart->addAxis(x, Qt::AlignBottom);
    series->attachAxis(y);
    series->attachAxis(x);
    const QPen whiskerPen(palette.color(QPalette::Text), 1.5);
    int row = 0;
    for (auto it = order.rbegin(); it != order.rend(); ++it, ++row) {
        const size_t f = size_t(*it);
        QLineSeries *w = polyline(errorBar(row, p.mean[f] - p.std[f], p.mean[f] + p.std[f], 0.15, true), whiskerPen);
        w->setName(QStringLiteral("\u00b1 std"));
        attach(chart, w, x, y);
    }
    drawCategoryLabels(chart, y, series);
    applyPalette(chart, palette);
    return chart;
}

QChart *makeFairnessChart(const explain::FairnessReport &r, const QPalette &palette)
{
    if (r.groups.empty())
        return makeMessageChart(QStringLiteral("No groups to compare"), palette);
    using Getter = const explain::Estimate &(*)(const explain::GroupFairness &);
    static const Getter getters[] = {[](const explain::GroupFairness &g) -> const explain::Estimate & { return g.selectionRate; },
                                     [](const explain::GroupFairness &g) -> const explain::Estimate & { return g.truePositiveRate; },
                                     [](const explain::GroupFairness &g) -> const explain::Estimate & { return g.falsePositiveRate; }};
    const QStringList metrics = {QStringLiteral("selection rate"), QStringLiteral("true positive rate"),
                                 QStringLiteral("false positive rate")};
    QChart *chart = newChart(QStringLiteral("Rates by %1 (%2% intervals)").arg(r.sensitive).arg(r.confidence * 100, 0, 'g', 3),
                             palette);
    chart->legend()->setAlignment(Qt::AlignTop);
    auto *series = new QBarSeries;
    const double barWidth = 0.8;
    series->setBarWidth(barWidth);
    double top = 0;
    for (size_t j = 0; j < r.groups.size(); ++j) {
        const explain::GroupFairness &g = r.groups[j];
        auto *set = new QBarSet(QStringLiteral("%1 (%2)").arg(g.group).arg(g.count));
        set->setColor(translucent(groupColor(palette, int(j)), 200));
        set->setBorderColor(groupColor(palette, int(j)));
        for (const Getter get : getters) {
            const explain::Estimate &e = get(g);
            *set << (std::isfinite(e.value) ? e.value : 0.0);
            for (double v : {e.value, e.high})
                if (std::isfinite(v))
                    top = std::max(top, v);
        }
        series->append(set);
    }
    chart->addSeries(series);
    auto *x = new QBarCategoryAxis;
    x->append(metrics);
    x->setGridLineVisible(false);
    QValueAxis *y = probabilityAxis(0, std::max(top, 0.01));
    y->setTitleText(QStringLiteral("rate"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    const double n = double(r.groups.size());
    const QPen whiskerPen(palette.color(QPalette::Text), 1.5);
    for (size_t i = 0; i < std::size(getters); ++i) {
        for (size_t j = 0; j < r.groups.size(); ++j) {
            const explain::Estimate &e = getters[i](r.groups[j]);
            if (!std::isfinite(e.low) || !std::isfinite(e.high))
                continue;
            const double center = double(i) - barWidth / 2 + (double(j) + 0.5) * barWidth / n;
            QLineSeries *w = polyline(errorBar(center, e.low, e.high, 0.22 * barWidth / n, false), whiskerPen);
            attach(chart, w, x, y);
            hideFromLegend(chart, w);
        }
    }
    applyPalette(chart, palette);
    return chart;
}

// ---------------------------------------------------------------------------------------------------------------
// SHAP summary and dependence

QChart *makeBeeswarmChart(const explain::ShapSummary &summary, const QString &outputName, const QPalette &palette, int top)
{
    const int n = std::min(int(summary.features.size()), top);
    if (n == 0 || summary.rows == 0)
        return makeMessageChart(QStringLiteral("No SHAP values to draw"), palette);
    QChart *chart = newChart(int(summary.features.size()) > n
                                 ? QStringLiteral("SHAP values of %1 rows, top %2 of %3 features (colour: value)")
                                       .arg(summary.rows).arg(n).arg(summary.features.size())
                                 : QStringLiteral("SHAP values of %1 rows (colour: the feature's value)").arg(summary.rows),
                             palette);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->legend()->setMarkerShape(QLegend::MarkerShapeFromSeries);

    double lo = 0, hi = 0;
    for (int i = 0; i < n; ++i)
        for (double v : summary.features[size_t(i)].shap)
            if (std::isfinite(v)) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
    constexpr int kBins = 70;
    const double binWidth = hi > lo ? (hi - lo) / kBins : 1.0;
    std::vector<QScatterSeries *> bins = colourBinSeries(QStringLiteral("feature value: low"), QStringLiteral("high"), 4.5);
    QStringList labels;
    for (int i = n - 1; i >= 0; --i)
        labels << axisText(summary.features[size_t(i)].name);

    std::vector<QList<QPointF>> points(bins.size());
    for (int i = 0; i < n; ++i) {
        const auto &f = summary.features[size_t(i)];
        const double row = double(n - 1 - i);
        std::vector<int> bin(f.shap.size(), -1);
        std::vector<int> counts(kBins, 0);
        for (size_t r = 0; r < f.shap.size(); ++r)
            if (std::isfinite(f.shap[r])) {
                bin[r] = std::clamp(int((f.shap[r] - lo) / binWidth), 0, kBins - 1);
                ++counts[size_t(bin[r])];
            }
        const int maxCount = std::max(1, *std::max_element(counts.begin(), counts.end()));
        const double step = std::min(0.8 / maxCount, 0.07);
        std::vector<int> placed(kBins, 0);
        for (size_t r = 0; r < f.shap.size(); ++r) {
            if (bin[r] < 0)
                continue;
            const int k = placed[size_t(bin[r])]++;
            const double offset = (k % 2 == 1 ? 1 : -1) * ((k + 1) / 2) * step;
            const double t = r < f.colour.size() ? f.colour[r] : std::nan("");
            points[size_t(colourBin(t))].append(QPointF(f.shap[r], row + offset));
        }
    }
    QValueAxis *x = valueAxis(lo, hi, 0.04);
    x->setTitleText(QStringLiteral("SHAP value (impact on the %1)").arg(outputName.toHtmlEscaped()));
    QCategoryAxis *y = rowAxis(labels);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    QColor zero = palette.color(QPalette::Text);
    zero.setAlpha(90);
    QLineSeries *zeroLine = polyline({QPointF(0, -0.5), QPointF(0, n - 0.5)}, QPen(zero, 1));
    attach(chart, zeroLine, x, y);
    hideFromLegend(chart, zeroLine);
    for (size_t b = 0; b < bins.size(); ++b) {
        bins[b]->replace(points[b]);
        attach(chart, bins[b], x, y);
        if (points[b].isEmpty() && b == size_t(kColourBins))
            hideFromLegend(chart, bins[b]);
    }
    drawCategoryLabels(chart, y, zeroLine);
    applyPalette(chart, palette);
    return chart;
}

QChart *makeDependenceChart(const explain::ShapSummary &summary, const QString &feature, const QString &colourFeature,
                            const QPalette &palette)
{
    const explain::ShapSummary::Feature *f = findFeature(summary, feature);
    if (!f || f->shap.empty())
        return makeMessageChart(QStringLiteral("No SHAP values for %1").arg(feature), palette);
    const explain::ShapSummary::Feature *c = findFeature(summary, colourFeature);
    const bool perCategory = c && c->categorical && c->categories.size() <= kColourBins && !c->categories.isEmpty();
    // Categories go on the vertical axis (one row each, like the beeswarm), where their names have room.
    const bool rows = f->categorical;
    // The feature is named on its axis and in the view's picker; the title stays short enough for a narrow chart.
    QChart *chart = newChart(c ? QStringLiteral("SHAP dependence (colour: %1)").arg(c->name) : QStringLiteral("SHAP dependence"),
                             palette);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->legend()->setMarkerShape(QLegend::MarkerShapeFromSeries);

    std::vector<QScatterSeries *> series;
    if (perCategory) {
        const qsizetype k = c->categories.size();
        for (qsizetype i = 0; i <= k; ++i) {
            auto *s = new QScatterSeries;
            const QColor col = i < k ? valueRampColor(k > 1 ? double(i) / double(k - 1) : 0.5) : valueRampColor(std::nan(""));
            s->setColor(translucent(col, 200));
            s->setBorderColor(translucent(col, 200));
            s->setMarkerSize(6);
            s->setName(i < k ? axisText(c->categories[i], 20) : QStringLiteral("missing"));
            series.push_back(s);
        }
    } else {
        series = colourBinSeries(QStringLiteral("low"), QStringLiteral("high"), 6);
    }
    std::vector<QList<QPointF>> points(series.size());
    double vlo = INFINITY, vhi = -INFINITY, slo = INFINITY, shi = -INFINITY;
    qint64 missing = 0;
    for (size_t r = 0; r < f->shap.size(); ++r) {
        double value = r < f->value.size() ? f->value[r] : std::nan("");
        const double shap = f->shap[r];
        if (!std::isfinite(value) || !std::isfinite(shap)) {
            ++missing;
            continue;
        }
        if (rows)
            value += 0.6 * jitter(qint64(r));
        size_t s = size_t(colourBin(0.5));
        if (c && perCategory) {
            const double code = r < c->value.size() ? c->value[r] : std::nan("");
            s = std::isfinite(code) ? size_t(std::clamp(qsizetype(code), qsizetype(0), c->categories.size() - 1)) : series.size() - 1;
        } else if (c) {
            s = size_t(colourBin(r < c->colour.size() ? c->colour[r] : std::nan("")));
        }
        points[s].append(rows ? QPointF(shap, value) : QPointF(value, shap));
        vlo = std::min(vlo, value);
        vhi = std::max(vhi, value);
        slo = std::min(slo, shap);
        shi = std::max(shi, shap);
    }
    if (!std::isfinite(vlo)) {
        delete chart;
        for (QScatterSeries *s : series)
            delete s;
        return makeMessageChart(QStringLiteral("%1 has no values to draw").arg(feature), palette);
    }
    const QString valueTitle = missing ? QStringLiteral("%1 (%2 missing not shown)").arg(feature.toHtmlEscaped()).arg(missing)
                                       : feature.toHtmlEscaped();
    QValueAxis *shapAxis = valueAxis(slo, shi, 0.06);
    shapAxis->setTitleText(QStringLiteral("SHAP"));
    QValueAxis *valueAx = nullptr;
    if (rows) {
        QStringList labels;
        for (const QString &cat : f->categories)
            labels << axisText(cat, 24);
        valueAx = rowAxis(labels);
    } else {
        valueAx = valueAxis(vlo, vhi, 0.03);
    }
    valueAx->setTitleText(valueTitle);
    QValueAxis *x = rows ? shapAxis : valueAx;
    QValueAxis *y = rows ? valueAx : shapAxis;
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    for (size_t s = 0; s < series.size(); ++s) {
        series[s]->replace(points[s]);
        attach(chart, series[s], x, y);
        if (points[s].isEmpty() && (perCategory || s == series.size() - 1))
            hideFromLegend(chart, series[s]);
    }
    if (!c)
        chart->legend()->hide();
    if (rows && !series.empty())
        drawCategoryLabels(chart, y, series.front());
    applyPalette(chart, palette);
    return chart;
}

// ---------------------------------------------------------------------------------------------------------------
// Partial dependence

QChart *makePdpChart(const explain::PartialDependence &pd, const QPalette &palette)
{
    const size_t n = pd.grid.size();
    if (n == 0 || pd.average.size() != n)
        return makeMessageChart(QStringLiteral("No partial dependence to draw"), palette);
    const bool prediction = pd.scale == u"prediction";
    const QString outputTitle = !prediction             ? QStringLiteral("margin")
                                : pd.className.isEmpty() ? QStringLiteral("prediction")
                                                         : QStringLiteral("P(%1)").arg(pd.className);
    QChart *chart = newChart(QStringLiteral("Partial dependence"), palette);
    chart->legend()->setAlignment(Qt::AlignTop);
    // Categories go on the vertical axis (one row each), where their names have room; the output runs along x.
    const bool rows = pd.categorical;
    const auto point = [&](size_t i, double v) {
        return rows ? QPointF(v, double(i)) : QPointF(pd.grid[i], v);
    };
    double lo = INFINITY, hi = -INFINITY;
    const auto widen = [&](double v) {
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    };
    for (double v : pd.average)
        widen(v);
    for (const auto &curve : pd.ice)
        for (double v : curve)
            widen(v);
    const bool probability = prediction && !pd.className.isEmpty();
    QValueAxis *outputAxis = probability ? probabilityAxis(lo, hi) : valueAxis(lo, hi, 0.03);
    outputAxis->setTitleText(outputTitle.toHtmlEscaped());
    QAbstractAxis *featureAxis = nullptr;
    if (rows) {
        QStringList labels;
        for (const QString &l : pd.gridLabels)
            labels << axisText(l, 24);
        QCategoryAxis *cy = rowAxis(labels);
        cy->setTitleText(pd.feature.toHtmlEscaped());
        featureAxis = cy;
    } else if (pd.datetime) {
        auto *dx = new QDateTimeAxis;
        dx->setRange(QDateTime::fromMSecsSinceEpoch(qint64(pd.grid.front()), Qt::UTC),
                     QDateTime::fromMSecsSinceEpoch(qint64(pd.grid.back()), Qt::UTC));
        dx->setFormat(QStringLiteral("yyyy-MM-dd"));
        dx->setTickCount(5);
        dx->setTitleText(pd.feature.toHtmlEscaped());
        featureAxis = dx;
    } else {
        QValueAxis *vx = valueAxis(pd.grid.front(), pd.grid.back(), 0.02);
        vx->setTitleText(pd.feature.toHtmlEscaped());
        featureAxis = vx;
    }
    QAbstractAxis *x = rows ? static_cast<QAbstractAxis *>(outputAxis) : featureAxis;
    QAbstractAxis *y = rows ? featureAxis : static_cast<QAbstractAxis *>(outputAxis);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    const QPen icePen(translucent(palette.color(QPalette::Text), 45), 1);
    bool first = true;
    for (const auto &curve : pd.ice) {
        if (curve.size() != n)
            continue;
        auto *s = new QLineSeries;
        for (size_t i = 0; i < n; ++i)
            if (std::isfinite(curve[i]))
                s->append(point(i, curve[i]));
        s->setPen(icePen);
        s->setName(QStringLiteral("%1 ICE").arg(pd.ice.size()));
        attach(chart, s, x, y);
        if (!first)
            hideFromLegend(chart, s);
        first = false;
    }
    auto *avg = new QLineSeries;
    for (size_t i = 0; i < n; ++i)
        if (std::isfinite(pd.average[i]))
            avg->append(point(i, pd.average[i]));
    avg->setPen(QPen(groupColor(palette, 1), 3.5));
    avg->setPointsVisible(rows || n <= 3);
    avg->setName(QStringLiteral("PDP (%1 rows)").arg(pd.rows));
    attach(chart, avg, x, y);
    if (rows)
        drawCategoryLabels(chart, y, avg);
    applyPalette(chart, palette);
    return chart;
}

// ---------------------------------------------------------------------------------------------------------------
// Waterfall

QString WaterfallStep::label() const
{
    if (value.isNull())
        return QStringLiteral("other (%1 feature%2)  %3")
            .arg(features)
            .arg(features == 1 ? QString() : QStringLiteral("s"), signedNumber(delta));
    const QString shown = value.isEmpty() ? QStringLiteral("(missing)")
                          : value.size() > 22 ? value.left(21) + QStringLiteral("\u2026")
                                              : value;
    return QStringLiteral("%1 = %2  %3").arg(feature, shown, signedNumber(delta));
}

double Waterfall::total() const
{
    double t = base;
    for (const WaterfallStep &s : steps)
        t += s.delta;
    return t;
}

Waterfall makeWaterfall(const QStringList &features, std::span<const double> contributions, const QStringList &values,
                        double base, int top)
{
    Waterfall w;
    w.base = base;
    // The folding is core's (the CLI lists the same lines); drawing order is bottom first: "other", then the
    // shown features by increasing |contribution|.
    const std::vector<explain::ContributionLine> lines = explain::topContributions(features, contributions, values, top);
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        WaterfallStep s;
        if (it->isOther()) {
            s.feature = QStringLiteral("other");
            s.features = it->features;
        } else {
            s.feature = it->feature;
            s.value = it->value.isNull() ? QStringLiteral("") : it->value;
        }
        s.delta = it->contribution;
        w.steps.push_back(s);
    }
    double at = base;
    for (WaterfallStep &s : w.steps) {
        s.start = at;
        at += s.delta;
    }
    return w;
}

QChart *makeWaterfallChart(const Waterfall &w, const QPalette &palette)
{
    if (w.steps.empty())
        return makeMessageChart(QStringLiteral("No contributions to draw"), palette);
    QChart *chart = newChart(w.title, palette);
    chart->legend()->setAlignment(Qt::AlignTop);
    const int n = int(w.steps.size());
    double lo = w.base, hi = w.base;
    if (std::isfinite(w.reference)) {
        lo = std::min(lo, w.reference);
        hi = std::max(hi, w.reference);
    }
    QStringList labels;
    for (const WaterfallStep &s : w.steps) {
        lo = std::min({lo, s.start, s.end()});
        hi = std::max({hi, s.start, s.end()});
        labels << axisText(s.label(), 48);
    }
    QValueAxis *x = valueAxis(lo, hi, 0.05);
    x->setTitleText(w.axisTitle.toHtmlEscaped());
    QCategoryAxis *y = rowAxis(labels);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);

    const double h = 0.36;
    QColor guide = palette.color(QPalette::Text);
    guide.setAlpha(120);
    QPen connectorPen(guide, 1, Qt::DotLine);
    for (int i = 0; i < n; ++i) {
        const WaterfallStep &s = w.steps[size_t(i)];
        auto *upper = new QLineSeries;
        auto *lower = new QLineSeries;
        upper->append(s.start, i + h);
        upper->append(s.end(), i + h);
        lower->append(s.start, i - h);
        lower->append(s.end(), i - h);
        auto *area = new QAreaSeries(upper, lower);
        upper->setParent(area);
        lower->setParent(area);
        const QColor c = s.delta >= 0 ? raiseColor() : lowerColor();
        area->setBrush(c);
        area->setPen(QPen(c.darker(115), 1));
        area->setName(s.feature);
        attach(chart, area, x, y);
        hideFromLegend(chart, area);
        if (i + 1 < n) {
            QLineSeries *connector = polyline({QPointF(s.end(), i + h), QPointF(s.end(), i + 1 - h)}, connectorPen);
            attach(chart, connector, x, y);
            hideFromLegend(chart, connector);
        }
    }
    QLineSeries *baseLine = polyline({QPointF(w.base, -0.5), QPointF(w.base, n - 0.5)}, QPen(guide, 1.5, Qt::DashLine));
    baseLine->setName(QStringLiteral("base value %1").arg(number(w.base, 4)));
    attach(chart, baseLine, x, y);
    const double total = w.total();
    QLineSeries *outLine = polyline({QPointF(total, -0.5), QPointF(total, n - 0.5)},
                                    QPen(palette.color(QPalette::Text), 1.5));
    outLine->setName(QStringLiteral("output %1").arg(number(total, 4)));
    attach(chart, outLine, x, y);
    if (std::isfinite(w.reference)) {
        QLineSeries *ref = polyline({QPointF(w.reference, -0.5), QPointF(w.reference, n - 0.5)},
                                    QPen(groupColor(palette, 1), 1.5, Qt::DotLine));
        ref->setName(QStringLiteral("%1 %2").arg(w.referenceLabel.toHtmlEscaped(), number(w.reference, 4)));
        attach(chart, ref, x, y);
    }
    drawCategoryLabels(chart, y, baseLine);
    applyPalette(chart, palette);
    return chart;
}

// ---------------------------------------------------------------------------------------------------------------
// Export and the chart view

Status exportChart(const ChartBuilder &builder, QSize size, const QString &path)
{
    if (!builder)
        return makeError(QStringLiteral("there is no chart to export"), path);
    QChartView view(builder(lightPalette()));
    view.setAttribute(Qt::WA_DontShowOnScreen);
    view.setRenderHint(QPainter::Antialiasing);
    view.setFrameShape(QFrame::NoFrame);
    view.resize(size);
    view.show();
    for (int i = 0; i < 3; ++i)
        QCoreApplication::processEvents();
    QGraphicsScene *scene = view.scene();
    const QRectF rect(QPointF(0, 0), QSizeF(size));
    if (path.endsWith(QStringLiteral(".svg"), Qt::CaseInsensitive)) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(view.chart()->title());
        svg.setDescription(QStringLiteral("Keel explanation chart"));
        QPainter painter;
        if (!painter.begin(&svg))
            return makeError(QStringLiteral("cannot write the SVG file"), path);
        painter.setRenderHint(QPainter::Antialiasing);
        scene->render(&painter, rect, rect);
        painter.end();
        if (!QFileInfo(path).exists() || QFileInfo(path).size() == 0)
            return makeError(QStringLiteral("cannot write the SVG file"), path);
        return Status::ok();
    }
    QImage image(size * 2, QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(2);
    image.fill(lightPalette().color(QPalette::Base));
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setRenderHint(QPainter::TextAntialiasing);
    scene->render(&painter, rect, rect);
    painter.end();
    if (!image.save(path, "PNG"))
        return makeError(QStringLiteral("cannot write the PNG file"), path);
    return Status::ok();
}

ExplainChartView::ExplainChartView(QWidget *parent) : QChartView(parent), m_exportButton(new QToolButton(this))
{
    setRenderHint(QPainter::Antialiasing);
    setFrameShape(QFrame::NoFrame);
    setMinimumSize(280, 200);
    m_exportButton->setText(QStringLiteral("Export"));
    m_exportButton->setToolTip(QStringLiteral("Export this chart as PNG or SVG"));
    m_exportButton->setAutoRaise(true);
    m_exportButton->setPopupMode(QToolButton::InstantPopup);
    m_exportButton->setMenu(exportMenu());
    m_exportButton->setEnabled(false);
    m_exportButton->adjustSize();
    QChart *old = chart();
    setChart(makeMessageChart(QString(), palette()));
    delete old;
}

QMenu *ExplainChartView::exportMenu()
{
    if (!m_menu) {
        m_menu = new QMenu(this);
        m_menu->addAction(QStringLiteral("Export PNG\u2026"), this, [this] { exportInteractive(false); });
        m_menu->addAction(QStringLiteral("Export SVG\u2026"), this, [this] { exportInteractive(true); });
    }
    return m_menu;
}

void ExplainChartView::setBuilder(ChartBuilder builder)
{
    m_builder = std::move(builder);
    m_message.clear();
    m_exportButton->setEnabled(bool(m_builder));
    rebuild();
}

void ExplainChartView::setMessage(const QString &message)
{
    m_builder = {};
    m_message = message;
    m_exportButton->setEnabled(false);
    QChart *old = chart();
    setChart(makeMessageChart(message, palette()));
    delete old;
    emit chartRebuilt();
}

void ExplainChartView::rebuild()
{
    if (!m_builder || m_rebuilding)
        return;
    m_rebuilding = true;
    m_fitRows = rowsThatFit(1, 1000);
    QChart *old = chart();
    setChart(m_builder(palette()));
    delete old;
    m_rebuilding = false;
    emit chartRebuilt();
}

Status ExplainChartView::exportTo(const QString &path) const
{
    if (!m_builder)
        return makeError(QStringLiteral("there is no chart to export") + (m_message.isEmpty() ? QString() : QStringLiteral(": ") + m_message), path);
    return exportChart(m_builder, size().expandedTo(QSize(640, 400)), path);
}

void ExplainChartView::exportInteractive(bool svg)
{
    if (!m_builder)
        return;
    QString base = chart() ? chart()->title() : QString();
    base.replace(QRegularExpression(QStringLiteral("&[a-z]+;|[^A-Za-z0-9_.-]+")), QStringLiteral("-"));
    base = base.left(60);
    if (base.isEmpty() || base == u"-")
        base = QStringLiteral("chart");
    const QString suffix = svg ? QStringLiteral(".svg") : QStringLiteral(".png");
    const QString path = QFileDialog::getSaveFileName(this, svg ? QStringLiteral("Export SVG") : QStringLiteral("Export PNG"),
                                                      base + suffix,
                                                      svg ? QStringLiteral("SVG images (*.svg)") : QStringLiteral("PNG images (*.png)"));
    if (path.isEmpty())
        return;
    const QString target = path.endsWith(suffix, Qt::CaseInsensitive) ? path : path + suffix;
    if (Status s = exportTo(target); !s)
        QMessageBox::warning(this, QStringLiteral("Export failed"), s.error().toString());
}

void ExplainChartView::changeEvent(QEvent *event)
{
    QChartView::changeEvent(event);
    if (event->type() != QEvent::PaletteChange || m_rebuilding)
        return;
    if (m_builder)
        rebuild();
    else
        setMessage(m_message);
}

void ExplainChartView::contextMenuEvent(QContextMenuEvent *event)
{
    const QList<QAction *> actions = exportMenu()->actions();
    for (QAction *a : actions)
        a->setEnabled(bool(m_builder));
    exportMenu()->exec(event->globalPos());
    event->accept();
}

int ExplainChartView::rowsThatFit(int minimum, int maximum) const
{
    // Title, legend and value axis take about six lines; each row needs a line of the axis font.
    const int line = fontMetrics().height() + 2;
    return std::clamp((height() - 6 * line) / line, minimum, maximum);
}

void ExplainChartView::resizeEvent(QResizeEvent *event)
{
    QChartView::resizeEvent(event);
    m_exportButton->move(width() - m_exportButton->width() - 4, 2);
    m_exportButton->raise();
    if (m_builder && rowsThatFit(1, 1000) != m_fitRows)
        QMetaObject::invokeMethod(this, [this] { rebuild(); }, Qt::QueuedConnection);
}

} // namespace keel::ui
