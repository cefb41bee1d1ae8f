#include "registrycharts.h"

#include "charts.h"

#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSet>
#include <QtCharts/QChart>
#include <QtCharts/QDateTimeAxis>
#include <QtCharts/QHorizontalBarSeries>
#include <QtCharts/QLegend>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <algorithm>
#include <map>

namespace keel::ui {

QChart *makeAliasTimelineChart(const std::vector<registry::AliasMove> &moves, int versions, const QDateTime &now,
                               const QPalette &palette)
{
    if (moves.empty())
        return makeMessageChart(QStringLiteral("No alias has been set yet"), palette);
    auto *chart = new QChart;
    chart->setTitle(QStringLiteral("Aliases over time"));
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setMargins(QMargins(6, 6, 10, 6));
    chart->legend()->setAlignment(Qt::AlignTop);
    QDateTime first = moves.front().time, last = std::max(now, moves.back().time);
    if (first.secsTo(last) < 60)
        first = last.addSecs(-60);
    auto *x = new QDateTimeAxis;
    const qint64 span = first.secsTo(last);
    x->setFormat(span >= 2 * 86400 ? QStringLiteral("yyyy-MM-dd") : span >= 3600 ? QStringLiteral("MM-dd HH:mm") : QStringLiteral("HH:mm:ss"));
    x->setTickCount(5);
    const qint64 pad = std::max<qint64>(first.msecsTo(last) / 30, 1000);
    x->setRange(first.addMSecs(-pad), last.addMSecs(pad));
    auto *y = new QValueAxis;
    y->setRange(0.5, std::max(versions, 1) + 0.5);
    y->setTickCount(std::max(versions, 1) + 1);
    y->setTickType(QValueAxis::TicksDynamic);
    y->setTickAnchor(1);
    y->setTickInterval(1);
    y->setLabelFormat(QStringLiteral("v%d"));
    y->setTitleText(QStringLiteral("version"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    std::map<QString, QLineSeries *> series;
    std::map<QString, std::pair<QDateTime, int>> state;   // alias -> (since, version)
    int colour = 0;
    auto seriesFor = [&](const QString &alias) {
        QLineSeries *&s = series[alias];
        if (!s) {
            s = new QLineSeries;
            s->setName(alias);
            QPen pen(seriesColor(palette, colour++), 2.5);
            s->setPen(pen);
            s->setPointsVisible(true);
            chart->addSeries(s);
            s->attachAxis(x);
            s->attachAxis(y);
        }
        return s;
    };
    for (const registry::AliasMove &m : moves) {
        QLineSeries *s = seriesFor(m.alias);
        const qreal t = qreal(m.time.toMSecsSinceEpoch());
        if (m.from > 0)
            s->append(t, m.from);   // the old version up to the move
        if (m.to > 0)
            s->append(t, m.to);
        state[m.alias] = {m.time, m.to};
    }
    for (const auto &[alias, st] : state)
        if (st.second > 0)
            series[alias]->append(qreal(last.toMSecsSinceEpoch()), st.second);
    applyPalette(chart, palette);
    return chart;
}

QChart *makeImportanceShiftChart(const std::vector<registry::FeatureWeight> &a, const std::vector<registry::FeatureWeight> &b,
                                 const QString &labelA, const QString &labelB, const QPalette &palette, int top)
{
    std::map<QString, std::pair<double, double>> weights;
    for (const registry::FeatureWeight &w : a)
        weights[w.feature].first = w.meanAbsShap;
    for (const registry::FeatureWeight &w : b)
        weights[w.feature].second = w.meanAbsShap;
    if (weights.empty())
        return makeMessageChart(QStringLiteral("Neither version records its importance"), palette);
    std::vector<std::pair<QString, std::pair<double, double>>> rows(weights.begin(), weights.end());
    std::stable_sort(rows.begin(), rows.end(), [](const auto &p, const auto &q) {
        return std::max(p.second.first, p.second.second) > std::max(q.second.first, q.second.second);
    });
    if (int(rows.size()) > top)
        rows.resize(size_t(top));
    auto *chart = new QChart;
    chart->setTitle(QStringLiteral("Global importance: mean |SHAP| (top %1)").arg(rows.size()));
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setMargins(QMargins(6, 6, 10, 6));
    chart->legend()->setAlignment(Qt::AlignTop);
    auto *setA = new QBarSet(labelA), *setB = new QBarSet(labelB);
    setA->setColor(seriesColor(palette, 0));
    setB->setColor(seriesColor(palette, 1));
    QStringList labels;
    double maxValue = 0;
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {   // bottom-up: the most important on top
        *setA << it->second.first;
        *setB << it->second.second;
        labels << it->first.toHtmlEscaped();
        maxValue = std::max({maxValue, it->second.first, it->second.second});
    }
    auto *series = new QHorizontalBarSeries;
    series->append(setA);
    series->append(setB);
    series->setBarWidth(0.8);
    chart->addSeries(series);
    auto *y = new QBarCategoryAxis;
    y->append(labels);
    y->setGridLineVisible(false);
    auto *x = new QValueAxis;
    x->setRange(0, maxValue > 0 ? maxValue * 1.1 : 1);
    x->setTickCount(5);
    x->setLabelFormat(QStringLiteral("%.2g"));
    x->setTitleText(QStringLiteral("mean |SHAP value|"));
    chart->addAxis(y, Qt::AlignLeft);
    chart->addAxis(x, Qt::AlignBottom);
    series->attachAxis(y);
    series->attachAxis(x);
    drawCategoryLabels(chart, y, series);
    applyPalette(chart, palette);
    return chart;
}

} // namespace keel::ui
