#include "compareview.h"

#include "charts.h"
#include "runcharts.h"
#include "runtablemodel.h"

#include <QtCharts/QChart>
#include <QtCharts/QChartView>

#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSet>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>
#include <map>
#include <set>

namespace keel::ui {

namespace {

QTableWidget *makeCompareTable(const QString &name, QWidget *parent)
{
    auto *t = new QTableWidget(parent);
    t->setObjectName(name);
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 6);
    t->verticalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setAlternatingRowColors(true);
    t->setWordWrap(false);
    t->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    return t;
}

QColor tint(const QPalette &palette, int alpha)
{
    QColor c = palette.color(QPalette::Highlight);
    c.setAlpha(alpha);
    return c;
}

} // namespace

bool lowerIsBetter(const QString &metric)
{
    const QString m = metric.toLower();
    if (m.endsWith(QLatin1String(".std")))
        return true;
    for (const char *word : {"loss", "error", "rmse", "mae", "mape", "mse", "brier"})
        if (m.contains(QLatin1String(word)))
            return true;
    return false;
}

CompareView::CompareView(QWidget *parent)
    : QWidget(parent), m_title(new QLabel(this)), m_onlyDiff(new QCheckBox(QStringLiteral("Only parameters that differ"), this)),
      m_table(makeCompareTable(QStringLiteral("compareTable"), this)), m_curve(new QComboBox(this)),
      m_curveNote(new QLabel(this)), m_chartView(new QChartView(this))
{
    setObjectName(QStringLiteral("compareView"));
    m_title->setTextFormat(Qt::RichText);
    m_onlyDiff->setChecked(true);
    m_onlyDiff->setObjectName(QStringLiteral("onlyDifferences"));
    connect(m_onlyDiff, &QCheckBox::toggled, this, [this] { fillTable(); });
    m_curve->setObjectName(QStringLiteral("compareCurve"));
    m_curve->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_curve, &QComboBox::currentIndexChanged, this, [this] { rebuildCurve(); });
    m_curveNote->setForegroundRole(QPalette::PlaceholderText);
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setFrameShape(QFrame::NoFrame);
    m_chartView->setMinimumHeight(220);
    m_table->verticalHeader()->setMaximumSectionSize(240);

    auto *top = new QHBoxLayout;
    top->addWidget(m_title, 1);
    top->addWidget(m_onlyDiff);

    auto *curveBox = new QWidget(this);
    auto *curveLayout = new QVBoxLayout(curveBox);
    curveLayout->setContentsMargins(0, 0, 0, 0);
    auto *curveBar = new QHBoxLayout;
    curveBar->addWidget(new QLabel(QStringLiteral("<b>Curve</b>"), curveBox));
    curveBar->addWidget(m_curve);
    curveBar->addWidget(m_curveNote, 1);
    curveLayout->addLayout(curveBar);
    curveLayout->addWidget(m_chartView, 1);

    auto *split = new QSplitter(Qt::Vertical, this);
    split->setObjectName(QStringLiteral("compareSplitter"));
    split->addWidget(m_table);
    split->addWidget(curveBox);
    split->setSizes({340, 320});

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 0);
    layout->addLayout(top);
    layout->addWidget(split, 1);
}

CompareView::~CompareView()
{
    // The plot draws on the view's chart: drop it before the view goes.
    m_plot.reset();
}

QStringList CompareView::columnTitles() const
{
    QStringList names;
    for (const RunDetails &d : m_runs)
        names << (d.run.name.isEmpty() ? d.run.id.left(8) : d.run.name);
    QStringList out;
    for (qsizetype i = 0; i < names.size(); ++i)
        out << (names.count(names[i]) > 1 ? QStringLiteral("%1 (%2)").arg(names[i], m_runs[size_t(i)].run.id.left(6)) : names[i]);
    return out;
}

void CompareView::setRuns(std::vector<RunDetails> runs)
{
    m_runs = std::move(runs);
    m_title->setText(QStringLiteral("<span style='font-size:large; font-weight:600'>Comparing %1 runs</span>").arg(m_runs.size()));
    fillTable();

    // Curve keys of any run: validation curves first (what early stopping watched), then train.
    std::set<QString> keys;
    for (const RunDetails &d : m_runs)
        for (const tracking::MetricPoint &p : d.metrics)
            if (isCurveKey(p.key))
                keys.insert(p.key);
    QStringList ordered;
    for (const QString &k : keys)
        if (tracking::curveName(k).startsWith(QLatin1String("validation.")))
            ordered << k;
    for (const QString &k : keys)
        if (!tracking::curveName(k).startsWith(QLatin1String("validation.")))
            ordered << k;
    const QString keep = m_curve->currentText();
    {
        QSignalBlocker block(m_curve);
        m_curve->clear();
        m_curve->addItems(ordered);
        const int i = m_curve->findText(keep);
        m_curve->setCurrentIndex(i >= 0 ? i : (ordered.isEmpty() ? -1 : 0));
    }
    rebuildCurve();
}

void CompareView::setOnlyDifferences(bool only) { m_onlyDiff->setChecked(only); }

bool CompareView::showCurve(const QString &key)
{
    const int i = m_curve->findText(key);
    if (i < 0)
        return false;
    m_curve->setCurrentIndex(i);
    return true;
}

QString CompareView::currentCurve() const { return m_curve->currentText(); }

int CompareView::rowOf(const QString &key) const { return key.isEmpty() ? -1 : int(m_rowKeys.indexOf(key)); }

int CompareView::bestRun(const QString &metric) const
{
    const bool lower = lowerIsBetter(metric);
    int best = -1;
    double bestValue = 0;
    bool allEqual = true;
    std::optional<double> first;
    for (int i = 0; i < int(m_runs.size()); ++i) {
        for (const auto &[k, v] : m_runs[size_t(i)].finalMetrics()) {
            if (k != metric || std::isnan(v))
                continue;
            if (first && *first != v)
                allEqual = false;
            if (!first)
                first = v;
            if (best < 0 || (lower ? v < bestValue : v > bestValue)) {
                best = i;
                bestValue = v;
            }
        }
    }
    return allEqual ? -1 : best;
}

void CompareView::fillTable()
{
    const int n = int(m_runs.size());
    m_table->clear();
    m_table->setColumnCount(n);
    const QStringList titles = columnTitles();
    for (int c = 0; c < n; ++c) {
        auto *h = new QTableWidgetItem(titles[c]);
        h->setToolTip(QStringLiteral("run %1").arg(m_runs[size_t(c)].run.id));
        h->setForeground(runSeriesColor(palette(), c));
        m_table->setHorizontalHeaderItem(c, h);
    }

    // Params: which differ is core's decision (tracking::compareParams).
    std::vector<std::vector<std::pair<QString, QString>>> paramLists;
    for (const RunDetails &d : m_runs)
        paramLists.push_back(d.params);
    const tracking::ParamComparison comparison = tracking::compareParams(paramLists);
    m_differing = comparison.differing();
    std::vector<std::pair<QString, bool>> params;
    for (const auto &[k, differs] : comparison.keys)
        if (differs || !m_onlyDiff->isChecked())
            params.emplace_back(k, differs);
    std::set<QString> metricKeys;
    std::vector<std::map<QString, double>> metricValues;
    for (const RunDetails &d : m_runs) {
        std::map<QString, double> m;
        for (const auto &[k, v] : d.finalMetrics()) {
            metricKeys.insert(k);
            m[k] = v;
        }
        metricValues.push_back(std::move(m));
    }

    m_rowKeys.clear();
    QStringList labels;
    QFont bold = font();
    bold.setBold(true);
    const QColor diffMark = tint(palette(), 45);
    const QColor bestMark = tint(palette(), 70);
    const int rows = 2 + int(params.size()) + int(metricKeys.size()) + (params.empty() ? 1 : 0);
    // Final metrics first (what the runs achieved), then the parameters behind them.
    m_table->setRowCount(rows);
    int r = 0;
    const auto section = [&](const QString &title, const QString &note) {
        labels << title;
        m_rowKeys << QString();
        auto *item = new QTableWidgetItem(note);
        item->setFont(bold);
        item->setFlags(Qt::ItemIsEnabled);
        m_table->setItem(r, 0, item);
        if (n > 1)
            m_table->setSpan(r, 0, 1, n);
        ++r;
    };
    section(QStringLiteral("Final metrics"), QStringLiteral("best in bold"));
    for (const QString &k : metricKeys) {
        labels << QStringLiteral("%1 %2").arg(k, lowerIsBetter(k) ? QStringLiteral("\u2193") : QStringLiteral("\u2191"));
        m_rowKeys << k;
        const int best = bestRun(k);
        for (int c = 0; c < n; ++c) {
            const auto it = metricValues[size_t(c)].find(k);
            const bool has = it != metricValues[size_t(c)].end();
            auto *item = new QTableWidgetItem(has ? formatMetric(it->second) : QStringLiteral("\u2014"));
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (has)
                item->setToolTip(QString::number(it->second, 'g', 17));
            if (c == best) {
                item->setFont(bold);
                item->setBackground(bestMark);
            }
            m_table->setItem(r, c, item);
        }
        ++r;
    }
    section(QStringLiteral("Parameters"),
            m_onlyDiff->isChecked() ? QStringLiteral("%1 of %2 differ").arg(m_differing.size()).arg(qsizetype(comparison.keys.size()))
                                    : QStringLiteral("%1 parameters, %2 differ (shaded)").arg(qsizetype(comparison.keys.size())).arg(m_differing.size()));
    for (const auto &[key, differs] : params) {
        labels << key;
        m_rowKeys << key;
        for (int c = 0; c < n; ++c) {
            const QString v = m_runs[size_t(c)].param(key);
            auto *item = new QTableWidgetItem(v.isNull() ? QStringLiteral("\u2014") : v);
            item->setToolTip(QStringLiteral("%1 = %2").arg(key, v.isNull() ? QStringLiteral("(not set)") : v));
            if (differs)
                item->setBackground(diffMark);
            m_table->setItem(r, c, item);
        }
        ++r;
    }
    if (params.empty()) {
        labels << QString();
        m_rowKeys << QString();
        auto *item = new QTableWidgetItem(QStringLiteral("All %1 runs have the same parameters.").arg(n));
        item->setForeground(palette().brush(QPalette::PlaceholderText));
        m_table->setItem(r, 0, item);
        if (n > 1)
            m_table->setSpan(r, 0, 1, n);
        ++r;
    }
    m_table->setVerticalHeaderLabels(labels);
    for (int i = 0; i < m_table->rowCount(); ++i)
        if (m_rowKeys.value(i).isEmpty() && !labels.value(i).isEmpty())
            m_table->verticalHeaderItem(i)->setFont(bold);
    for (int c = 0; c < n; ++c)
        m_table->setColumnWidth(c, std::clamp(m_table->fontMetrics().horizontalAdvance(titles[c]) + 24, 110, 180));
}

void CompareView::rebuildCurve()
{
    const QString key = m_curve->currentText();
    m_plot.reset();
    if (key.isEmpty()) {
        QChart *old = m_chartView->chart();
        m_chartView->setChart(makeMessageChart(QStringLiteral("None of these runs recorded per-iteration curves"), palette()));
        delete old;
        m_curveNote->clear();
        return;
    }
    auto plot = std::make_unique<CurvePlot>(key, palette());
    const QStringList titles = columnTitles();
    int without = 0;
    for (int i = 0; i < int(m_runs.size()); ++i) {
        std::vector<QPointF> points;
        for (const tracking::MetricPoint &p : m_runs[size_t(i)].metrics)
            if (p.key == key)
                points.emplace_back(double(p.step), p.value);
        if (points.empty())
            ++without;
        plot->addSeries(titles[i], points, i);
    }
    QChart *old = m_chartView->chart();
    m_chartView->setChart(plot->chart());
    delete old;
    m_plot = std::move(plot);
    m_curveNote->setText(without > 0 ? QStringLiteral("%1 of the runs did not record %2").arg(without).arg(key) : QString());
}

void CompareView::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && !m_runs.empty()) {
        std::vector<RunDetails> runs = m_runs;
        setRuns(std::move(runs));
    }
}

} // namespace keel::ui
