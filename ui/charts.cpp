#include "charts.h"

#include <QtCharts/QAreaSeries>
#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSet>
#include <QtCharts/QCategoryAxis>
#include <QtCharts/QChart>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QHorizontalBarSeries>
#include <QtCharts/QLegend>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <QDateTime>
#include <QFontMetricsF>
#include <QGraphicsSimpleTextItem>
#include <QGraphicsTextItem>
#include <QSet>
#include <QLocale>

#include <algorithm>
#include <cmath>

namespace keel::ui {

namespace {

constexpr double kDayMs = 86400000.0;

/// Shortens a category label; axis labels are rich text, so "<=50K" must be escaped or it vanishes as a tag.
QString elide(const QString &s, int max = 28)
{
    const QString shortened = s.size() <= max ? s : s.left(max - 1) + QStringLiteral("\u2026");
    return shortened.toHtmlEscaped();
}

void styleAxis(QAbstractAxis *axis, const QPalette &palette)
{
    axis->setLabelsBrush(palette.brush(QPalette::Text));
    axis->setTitleBrush(palette.brush(QPalette::Text));
    QColor grid = palette.color(QPalette::Text);
    grid.setAlpha(40);
    axis->setGridLinePen(QPen(grid, 1));
    QColor line = palette.color(QPalette::Text);
    line.setAlpha(110);
    axis->setLinePen(QPen(line, 1));
    QFont f = axis->labelsFont();
    f.setPointSizeF(std::max(7.0, QFont().pointSizeF() - 1));
    axis->setLabelsFont(f);
}

QAbstractAxis *makeXAxis(double lo, double hi, bool datetime)
{
    if (datetime) {
        auto *axis = new QDateTimeAxis;
        const double span = hi - lo;
        axis->setFormat(span > 730 * kDayMs ? QStringLiteral("yyyy-MM")
                        : span > 2 * kDayMs ? QStringLiteral("yyyy-MM-dd")
                                            : QStringLiteral("MM-dd HH:mm"));
        axis->setRange(QDateTime::fromMSecsSinceEpoch(qint64(lo), Qt::UTC), QDateTime::fromMSecsSinceEpoch(qint64(hi), Qt::UTC));
        axis->setTickCount(5);
        return axis;
    }
    auto *axis = new QValueAxis;
    axis->setRange(lo, hi);
    axis->setTickCount(5);
    const double m = std::max(std::abs(lo), std::abs(hi));
    const double span = hi - lo;
    axis->setLabelFormat(m >= 1e9 ? QStringLiteral("%.3g")
                         : span >= 20 ? QStringLiteral("%.0f")
                         : span >= 2  ? QStringLiteral("%.1f")
                                      : QStringLiteral("%.3g"));
    return axis;
}

QValueAxis *makeCountAxis(double max, bool percent)
{
    auto *axis = new QValueAxis;
    axis->setRange(0, max > 0 ? max * 1.08 : 1);
    axis->setTickCount(5);
    axis->applyNiceNumbers();
    const double top = axis->max();
    axis->setLabelFormat(percent ? (top < 5 ? QStringLiteral("%.1f%%") : QStringLiteral("%.0f%%"))
                                 : (top < 10 ? QStringLiteral("%.1f") : QStringLiteral("%.0f")));
    return axis;
}

/// The range a histogram spans, widened when all values are equal so the bar has a width.
std::pair<double, double> histogramRange(const std::vector<double> &edges, bool datetime)
{
    double lo = edges.front(), hi = edges.back();
    if (hi <= lo) {
        const double pad = datetime ? kDayMs / 2 : std::max(0.5, std::abs(lo) * 0.05);
        lo -= pad;
        hi += pad;
    }
    return {lo, hi};
}

QChart *newChart(const QString &title, const QPalette &palette)
{
    auto *chart = new QChart;
    chart->setTitle(title);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setAnimationOptions(QChart::NoAnimation);
    applyPalette(chart, palette);
    return chart;
}

} // namespace

QString compactNumber(double v)
{
    const double a = std::abs(v);
    const QLocale c = QLocale::c();
    if (a >= 1e9)
        return c.toString(v / 1e9, 'g', 3) + QLatin1Char('G');
    if (a >= 1e6)
        return c.toString(v / 1e6, 'g', 3) + QLatin1Char('M');
    if (a >= 1e4)
        return c.toString(v / 1e3, 'g', 3) + QLatin1Char('k');
    return c.toString(v, 'g', 4);
}

void applyPalette(QChart *chart, const QPalette &palette)
{
    chart->setBackgroundBrush(palette.brush(QPalette::Base));
    chart->setBackgroundPen(Qt::NoPen);
    chart->setBackgroundRoundness(0);
    chart->setPlotAreaBackgroundVisible(false);
    chart->setTitleBrush(palette.brush(QPalette::Text));
    QFont title = chart->titleFont();
    title.setBold(true);
    chart->setTitleFont(title);
    chart->legend()->setLabelColor(palette.color(QPalette::Text));
    chart->legend()->setBrush(Qt::NoBrush);
    chart->legend()->setPen(Qt::NoPen);
    for (QAbstractAxis *axis : chart->axes())
        styleAxis(axis, palette);
}

QColor seriesColor(const QPalette &palette, int i)
{
    if (i == 0)
        return palette.color(QPalette::Highlight);
    // Then a qualitative set that reads on light and dark backgrounds: orange, green, purple, red, brown, teal.
    static const QColor others[] = {QColor(0xe8, 0x87, 0x1e), QColor(0x2c, 0xa0, 0x2c), QColor(0x94, 0x67, 0xbd),
                                    QColor(0xd6, 0x27, 0x28), QColor(0x8c, 0x56, 0x4b), QColor(0x17, 0xbe, 0xcf)};
    return others[(i - 1) % 6];
}

QChart *makeMessageChart(const QString &message, const QPalette &palette)
{
    QChart *chart = newChart(message, palette);
    chart->legend()->hide();
    QFont f = chart->titleFont();
    f.setBold(false);
    f.setItalic(true);
    chart->setTitleFont(f);
    chart->setTitleBrush(palette.brush(QPalette::PlaceholderText));
    return chart;
}

QChart *makeHistogramChart(const data::Histogram &histogram, bool datetime, const QString &title, const QPalette &palette)
{
    if (histogram.counts.empty() || histogram.edges.size() != histogram.counts.size() + 1)
        return makeMessageChart(QStringLiteral("No values to draw"), palette);
    QChart *chart = newChart(title, palette);
    chart->legend()->hide();
    const auto [lo, hi] = histogramRange(histogram.edges, datetime);
    auto *upper = new QLineSeries;
    qint64 maxCount = 0;
    const size_t n = histogram.counts.size();
    for (size_t i = 0; i < n; ++i) {
        const double x0 = n == 1 ? lo : histogram.edges[i];
        const double x1 = n == 1 ? hi : histogram.edges[i + 1];
        const double c = double(histogram.counts[i]);
        upper->append(x0, 0);
        upper->append(x0, c);
        upper->append(x1, c);
        upper->append(x1, 0);
        maxCount = std::max(maxCount, histogram.counts[i]);
    }
    auto *area = new QAreaSeries(upper);
    upper->setParent(area);
    area->setBrush(seriesColor(palette, 0));
    area->setPen(QPen(palette.color(QPalette::Base), 1));
    area->setName(QStringLiteral("rows"));
    chart->addSeries(area);
    QAbstractAxis *x = makeXAxis(lo, hi, datetime);
    QValueAxis *y = makeCountAxis(double(maxCount), false);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    area->attachAxis(x);
    area->attachAxis(y);
    applyPalette(chart, palette);
    return chart;
}

QChart *makeCategoryChart(const std::vector<data::CategoryCount> &categories, qint64 rows, const QString &title,
                          const QPalette &palette)
{
    if (categories.empty())
        return makeMessageChart(QStringLiteral("No values to draw"), palette);
    QChart *chart = newChart(title, palette);
    chart->legend()->hide();
    auto *set = new QBarSet(QStringLiteral("rows"));
    set->setColor(seriesColor(palette, 0));
    set->setBorderColor(seriesColor(palette, 0));
    QStringList labels;
    qint64 maxCount = 0;
    // Horizontal bars are drawn bottom-up: add the least frequent first so the most frequent is on top.
    for (auto it = categories.rbegin(); it != categories.rend(); ++it) {
        *set << double(it->count);
        const double share = rows ? 100.0 * double(it->count) / double(rows) : 0.0;
        labels << QStringLiteral("%1  %2%").arg(elide(it->value), QLocale::c().toString(share, 'f', 1));
        maxCount = std::max(maxCount, it->count);
    }
    auto *series = new QHorizontalBarSeries;
    series->append(set);
    series->setBarWidth(0.75);
    chart->addSeries(series);
    auto *y = new QBarCategoryAxis;
    y->append(labels);
    QValueAxis *x = makeCountAxis(double(maxCount), false);
    chart->addAxis(y, Qt::AlignLeft);
    chart->addAxis(x, Qt::AlignBottom);
    series->attachAxis(y);
    series->attachAxis(x);
    drawCategoryLabels(chart, y, series);
    applyPalette(chart, palette);
    return chart;
}

QChart *makeComparisonChart(const data::DistributionComparison &cmp, const QString &labelA, const QString &labelB,
                            const QString &title, const QPalette &palette)
{
    if (cmp.countsA.empty() || (cmp.valuesA == 0 && cmp.valuesB == 0))
        return makeMessageChart(QStringLiteral("No values to compare"), palette);
    QChart *chart = newChart(title, palette);
    chart->legend()->setAlignment(Qt::AlignTop);
    const auto share = [](qint64 count, qint64 total) { return total ? 100.0 * double(count) / double(total) : 0.0; };
    double maxShare = 0;

    if (cmp.numeric) {
        const auto [lo, hi] = histogramRange(cmp.edges, cmp.datetime);
        QAbstractAxis *x = makeXAxis(lo, hi, cmp.datetime);
        chart->addAxis(x, Qt::AlignBottom);
        std::vector<QAreaSeries *> areas;
        for (int side = 0; side < 2; ++side) {
            const auto &counts = side == 0 ? cmp.countsA : cmp.countsB;
            const qint64 total = side == 0 ? cmp.valuesA : cmp.valuesB;
            auto *upper = new QLineSeries;
            const size_t n = counts.size();
            upper->append(n == 1 ? lo : cmp.edges[0], 0);
            for (size_t i = 0; i < n; ++i) {
                const double s = share(counts[i], total);
                upper->append(n == 1 ? lo : cmp.edges[i], s);
                upper->append(n == 1 ? hi : cmp.edges[i + 1], s);
                maxShare = std::max(maxShare, s);
            }
            upper->append(n == 1 ? hi : cmp.edges[n], 0);
            auto *area = new QAreaSeries(upper);
            upper->setParent(area);
            QColor fill = seriesColor(palette, side);
            area->setPen(QPen(fill, 2));
            fill.setAlpha(side == 0 ? 110 : 90);
            area->setBrush(fill);
            area->setName(side == 0 ? labelA : labelB);
            chart->addSeries(area);
            area->attachAxis(x);
            areas.push_back(area);
        }
        QValueAxis *y = makeCountAxis(maxShare, true);
        y->setTitleText(QStringLiteral("share of values"));
        chart->addAxis(y, Qt::AlignLeft);
        for (QAreaSeries *a : areas)
            a->attachAxis(y);
    } else {
        auto *series = new QHorizontalBarSeries;
        QStringList labels;
        for (int side = 0; side < 2; ++side) {
            const auto &counts = side == 0 ? cmp.countsA : cmp.countsB;
            const qint64 total = side == 0 ? cmp.valuesA : cmp.valuesB;
            auto *set = new QBarSet(side == 0 ? labelA : labelB);
            set->setColor(seriesColor(palette, side));
            set->setBorderColor(seriesColor(palette, side));
            for (size_t i = counts.size(); i-- > 0;) {
                const double s = share(counts[i], total);
                *set << s;
                maxShare = std::max(maxShare, s);
            }
            series->append(set);
        }
        for (qsizetype i = cmp.categories.size(); i-- > 0;)
            labels << elide(cmp.categories[i]);
        series->setBarWidth(0.8);
        chart->addSeries(series);
        auto *y = new QBarCategoryAxis;
        y->append(labels);
        QValueAxis *x = makeCountAxis(maxShare, true);
        x->setTitleText(QStringLiteral("share of values"));
        chart->addAxis(y, Qt::AlignLeft);
        chart->addAxis(x, Qt::AlignBottom);
        series->attachAxis(y);
        series->attachAxis(x);
        drawCategoryLabels(chart, y, series);
    }
    applyPalette(chart, palette);
    return chart;
}

namespace {

/// The labels of one category axis, drawn by us (see drawCategoryLabels). Child of the chart.
class CategoryLabels : public QObject {
public:
    CategoryLabels(QChart *chart, QAbstractAxis *axis, QAbstractSeries *series, QStringList labels,
                   std::vector<double> centres, QString title)
        : QObject(chart), m_chart(chart), m_axis(axis), m_series(series), m_centres(std::move(centres)), m_title(std::move(title))
    {
        for (const QString &l : labels) {
            auto *item = new QGraphicsSimpleTextItem(l, chart);
            item->setZValue(10);
            m_items.push_back(item);
        }
        if (!m_title.isEmpty()) {
            m_titleItem = new QGraphicsSimpleTextItem(m_title, chart);
            m_titleItem->setRotation(-90);
            m_titleItem->setZValue(10);
        }
        // Room for the longest label (and the title) in the axis' label font.
        const QFontMetricsF fm(axis->labelsFont());
        qreal widest = 0;
        for (const QString &l : labels)
            widest = std::max(widest, fm.horizontalAdvance(l));
        m_reserved = int(std::ceil(widest)) + kGap + (m_titleItem ? int(std::ceil(QFontMetricsF(axis->titleFont()).height())) + kGap : 0);
        QMargins m = chart->margins();
        m.setLeft(m.left() + m_reserved);
        chart->setMargins(m);
        connect(chart, &QChart::plotAreaChanged, this, &CategoryLabels::layout);
    }

private:
    static constexpr int kGap = 8;

    void layout()
    {
        const QRectF plot = m_chart->plotArea();
        if (plot.isEmpty() || m_items.empty())
            return;
        QFont font = m_axis->labelsFont();
        const QBrush brush = m_axis->labelsBrush();
        std::vector<qreal> y(m_centres.size());
        for (size_t i = 0; i < m_centres.size(); ++i)
            y[i] = m_chart->mapToPosition(QPointF(0, m_centres[i]), m_series).y();
        qreal spacing = plot.height();
        for (size_t i = 1; i < y.size(); ++i)
            spacing = std::min(spacing, std::abs(y[i] - y[i - 1]));
        const qreal natural = QFontMetricsF(font).height();
        int every = 1;
        if (spacing < natural) {
            const int px = int(std::floor(spacing * 0.95));
            font.setPixelSize(std::max(7, px));
            if (px < 7)
                every = int(std::ceil(8.0 / std::max<qreal>(spacing, 0.5)));
        }
        const QFontMetricsF fm(font);
        const qreal right = plot.left() - kGap;
        for (size_t i = 0; i < m_items.size(); ++i) {
            QGraphicsSimpleTextItem *item = m_items[i];
            // Rows denser than the smallest font: every k-th label, counted from the top (the most important).
            const bool shown = (m_items.size() - 1 - i) % size_t(every) == 0 && i < y.size();
            item->setVisible(shown);
            if (!shown)
                continue;
            item->setFont(font);
            item->setBrush(brush);
            const qreal w = fm.horizontalAdvance(item->text());
            item->setPos(right - w, y[i] - fm.height() / 2);
        }
        if (m_titleItem) {
            m_titleItem->setFont(m_axis->titleFont());
            m_titleItem->setBrush(m_axis->titleBrush());
            const QFontMetricsF tf(m_axis->titleFont());
            const qreal w = tf.horizontalAdvance(m_title);
            m_titleItem->setPos(right - m_reserved + kGap, plot.center().y() + w / 2);
        }
    }

    QChart *m_chart;
    QAbstractAxis *m_axis;
    QAbstractSeries *m_series;
    std::vector<double> m_centres;
    QString m_title;
    std::vector<QGraphicsSimpleTextItem *> m_items;
    QGraphicsSimpleTextItem *m_titleItem = nullptr;
    int m_reserved = 0;
};

QString plainText(const QString &html)
{
    QString t = html;
    t.replace(QStringLiteral("&lt;"), QStringLiteral("<")).replace(QStringLiteral("&gt;"), QStringLiteral(">"));
    t.replace(QStringLiteral("&quot;"), QStringLiteral("\"")).replace(QStringLiteral("&amp;"), QStringLiteral("&"));
    return t;
}

} // namespace

void drawCategoryLabels(QChart *chart, QAbstractAxis *axis, QAbstractSeries *series)
{
    QStringList labels;
    std::vector<double> centres;
    if (auto *bars = qobject_cast<QBarCategoryAxis *>(axis)) {
        const QStringList c = bars->categories();
        for (qsizetype i = 0; i < c.size(); ++i) {
            labels << plainText(c[i]);
            centres.push_back(double(i));
        }
    } else if (auto *cats = qobject_cast<QCategoryAxis *>(axis)) {
        double start = cats->startValue();
        for (const QString &l : cats->categoriesLabels()) {
            const double end = cats->endValue(l);
            labels << plainText(l);
            centres.push_back((start + end) / 2);
            start = end;
        }
    } else {
        return;
    }
    const QString title = plainText(axis->titleText());
    axis->setLabelsVisible(false);
    axis->setTitleVisible(false);
    new CategoryLabels(chart, axis, series, labels, std::move(centres), title);
}

QStringList truncatedAxisLabels(const QChart *chart)
{
    QStringList out;
    if (!chart)
        return out;
    QSet<QString> given;
    for (const QAbstractAxis *axis : chart->axes()) {
        if (auto *bars = qobject_cast<QBarCategoryAxis *>(const_cast<QAbstractAxis *>(axis)))   // categories() is not const
            for (const QString &c : bars->categories())
                given.insert(plainText(c));
        if (auto *cats = qobject_cast<QCategoryAxis *>(const_cast<QAbstractAxis *>(axis)))
            for (const QString &c : cats->categoriesLabels())
                given.insert(plainText(c));
        given.insert(plainText(axis->titleText()));
    }
    const QList<QGraphicsItem *> top = chart->childItems();
    std::vector<const QGraphicsItem *> stack(top.begin(), top.end());
    while (!stack.empty()) {
        const QGraphicsItem *item = stack.back();
        stack.pop_back();
        if (!item->isVisible())
            continue;
        for (const QGraphicsItem *child : item->childItems())
            stack.push_back(child);
        const auto *text = dynamic_cast<const QGraphicsTextItem *>(item);
        if (!text)
            continue;
        const QString shown = text->toPlainText();
        if (given.contains(shown))
            continue;
        if (shown.contains(QStringLiteral("...")) || shown.contains(QChar(0x2026)))
            out << shown;
    }
    return out;
}

} // namespace keel::ui
