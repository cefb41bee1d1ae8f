#include "modelcompareview.h"

#include "explaincharts.h"
#include "registrycharts.h"
#include "taskmanager.h"
#include "workspace/workspace.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace keel::ui {

namespace {

QString num(double v) { return std::isfinite(v) ? QLocale::c().toString(v, 'g', 4) : QStringLiteral("\u2013"); }
QString interval(double lo, double hi) { return QStringLiteral("[%1, %2]").arg(num(lo), num(hi)); }

QTableWidget *makeTable(const QStringList &headers, QWidget *parent)
{
    auto *t = new QTableWidget(parent);
    t->setColumnCount(int(headers.size()));
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

void fill(QTableWidget *t, const std::vector<QStringList> &rows, const QList<int> &right = {})
{
    t->setRowCount(int(rows.size()));
    for (int r = 0; r < int(rows.size()); ++r)
        for (int c = 0; c < rows[size_t(r)].size(); ++c) {
            auto *item = new QTableWidgetItem(rows[size_t(r)][c]);
            if (right.contains(c))
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            t->setItem(r, c, item);
        }
    t->resizeColumnsToContents();
}

} // namespace

ModelCompareView::ModelCompareView(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_a(new QComboBox(this)), m_b(new QComboBox(this)), m_data(new QComboBox(this)),
      m_bootstrap(new QSpinBox(this)), m_run(new QPushButton(QStringLiteral("Compare"), this)), m_header(new QLabel(this)),
      m_tests(new QLabel(this)),
      m_metrics(makeTable({QStringLiteral("Metric"), QStringLiteral("A"), QStringLiteral("A interval"), QStringLiteral("B"),
                           QStringLiteral("B interval"), QStringLiteral("B \u2212 A"), QStringLiteral("B \u2212 A interval")},
                          this)),
      m_changed(makeTable({QStringLiteral("Row"), QStringLiteral("A says"), QStringLiteral("B says"), QStringLiteral("Actual")}, this)),
      m_lineage(makeTable({QStringLiteral("What differs"), QStringLiteral("A"), QStringLiteral("B")}, this)),
      m_importance(new ExplainChartView(this))
{
    setObjectName(QStringLiteral("modelCompareView"));
    m_bootstrap->setRange(0, 100000);
    m_bootstrap->setValue(1000);
    m_bootstrap->setSuffix(QStringLiteral(" resamples"));
    m_data->setToolTip(QStringLiteral("The rows both versions are scored on"));
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_header->setText(QStringLiteral("Pick two registered versions and Compare: every metric with a bootstrap interval for A, B "
                                     "and B \u2212 A, and paired tests on the same rows."));
    m_tests->setWordWrap(true);
    m_tests->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_tests->setTextFormat(Qt::RichText);
    m_importance->setMessage(QStringLiteral("No comparison yet"));
    connect(m_run, &QPushButton::clicked, this, [this] {
        compare(m_a->currentText(), m_b->currentText(), m_data->currentData().toString());
    });
    auto *pick = new QHBoxLayout;
    pick->addWidget(new QLabel(QStringLiteral("A:"), this));
    pick->addWidget(m_a, 1);
    pick->addWidget(new QLabel(QStringLiteral("B:"), this));
    pick->addWidget(m_b, 1);
    pick->addWidget(new QLabel(QStringLiteral("Score on:"), this));
    pick->addWidget(m_data, 1);
    pick->addWidget(m_bootstrap);
    pick->addWidget(m_run);
    auto *lower = new QSplitter(Qt::Horizontal, this);
    auto *tables = new QWidget(this);
    auto *tl = new QVBoxLayout(tables);
    tl->setContentsMargins(0, 0, 0, 0);
    tl->addWidget(new QLabel(QStringLiteral("<b>Decisions that change</b>"), this));
    tl->addWidget(m_changed, 1);
    tl->addWidget(new QLabel(QStringLiteral("<b>Lineage that differs</b>"), this));
    tl->addWidget(m_lineage, 1);
    lower->addWidget(tables);
    lower->addWidget(m_importance);
    lower->setStretchFactor(0, 1);
    lower->setStretchFactor(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(pick);
    layout->addWidget(m_header);
    layout->addWidget(m_metrics);
    layout->addWidget(m_tests);
    layout->addWidget(lower, 1);
    m_metrics->setMaximumHeight(m_metrics->verticalHeader()->defaultSectionSize() * 5 + 8);
}

void ModelCompareView::setWorkspaceRoot(const QString &root)
{
    m_root = root;
    m_comparison.reset();
    m_metrics->setRowCount(0);
    m_changed->setRowCount(0);
    m_lineage->setRowCount(0);
    m_tests->clear();
    m_importance->setMessage(QStringLiteral("No comparison yet"));
}

void ModelCompareView::setChoices(const QStringList &versions, const QStringList &datasets)
{
    const QString a = m_a->currentText(), b = m_b->currentText(), d = m_data->currentData().toString();
    m_a->clear();
    m_b->clear();
    m_a->addItems(versions);
    m_b->addItems(versions);
    if (versions.size() >= 2) {
        m_a->setCurrentIndex(1);
        m_b->setCurrentIndex(0);
    }
    if (!a.isEmpty() && versions.contains(a))
        m_a->setCurrentText(a);
    if (!b.isEmpty() && versions.contains(b))
        m_b->setCurrentText(b);
    m_data->clear();
    m_data->addItem(QStringLiteral("the newer version's test rows"), QString());
    for (const QString &ref : datasets)
        m_data->addItem(ref, ref);
    if (const int i = m_data->findData(d); i >= 0)
        m_data->setCurrentIndex(i);
    m_run->setEnabled(versions.size() >= 1);
}

void ModelCompareView::compare(const QString &a, const QString &b, const QString &data)
{
    if (m_root.isEmpty() || a.isEmpty() || b.isEmpty())
        return;
    if (m_a->findText(a) < 0)
        m_a->addItem(a);
    if (m_b->findText(b) < 0)
        m_b->addItem(b);
    m_a->setCurrentText(a);
    m_b->setCurrentText(b);
    registry::CompareRequest request;
    request.a = a;
    request.b = b;
    request.data = data;
    request.bootstrap = m_bootstrap->value();
    const QString root = m_root;
    m_busy = true;
    m_run->setEnabled(false);
    m_header->setText(QStringLiteral("Comparing %1 with %2\u2026").arg(a.toHtmlEscaped(), b.toHtmlEscaped()));
    m_tasks->start<registry::Comparison>(
        QStringLiteral("Compare %1 with %2").arg(a, b), QStringLiteral("model-compare"),
        [root, request](Feedback &fb) -> Expected<registry::Comparison> {
            auto ws = workspace::Workspace::open(root);
            if (!ws)
                return ws.error();
            return registry::compareVersions(**ws, request, &fb);
        },
        this,
        [this, root](Expected<registry::Comparison> &&c) {
            if (root != m_root)
                return;
            m_busy = false;
            m_run->setEnabled(true);
            if (!c) {
                m_header->setText(QStringLiteral("The comparison failed: %1").arg(c.error().toString().toHtmlEscaped()));
                emit compared(false);
                return;
            }
            m_comparison = std::move(*c);
            display(*m_comparison);
            emit compared(true);
        });
}

void ModelCompareView::display(const registry::Comparison &c)
{
    m_header->setText(QStringLiteral("<b>A</b> = %1 (run %2) \u00b7 <b>B</b> = %3 (run %4) \u00b7 on %5 \u00b7 %6% intervals from %7 bootstrap "
                                     "resamples of the rows, the same for A and B")
                          .arg(c.a.ref().toHtmlEscaped(), c.a.runId.left(8), c.b.ref().toHtmlEscaped(), c.b.runId.left(8),
                               c.rowsDescription.toHtmlEscaped())
                          .arg(qRound(c.level * 100))
                          .arg(c.resamples));
    std::vector<QStringList> rows;
    for (const registry::MetricComparison &m : c.metrics)
        rows.push_back({m.metric + (m.higherIsBetter ? QStringLiteral(" \u2191") : QStringLiteral(" \u2193")), num(m.a),
                        interval(m.aLow, m.aHigh), num(m.b), interval(m.bLow, m.bHigh),
                        (m.diff >= 0 ? QStringLiteral("+") : QString()) + num(m.diff), interval(m.diffLow, m.diffHigh)});
    fill(m_metrics, rows, {1, 3, 5});
    QStringList sentences;
    for (const registry::PairedTestOutcome &t : c.tests)
        sentences << QStringLiteral("\u2022 ") + t.sentence.toHtmlEscaped();
    if (c.task == ml::Task::Regression)
        sentences << QStringLiteral("\u2022 predictions move by %1 on average (at most %2)").arg(num(c.meanAbsChange), num(c.maxAbsChange));
    else
        sentences << QStringLiteral("\u2022 %1 of %2 decisions change (%3%)")
                         .arg(QLocale::c().toString(c.changed), QLocale::c().toString(c.rows))
                         .arg(QString::number(c.changedShare * 100, 'f', 2));
    sentences << QStringLiteral("\u2022 global importance: rank correlation %1").arg(num(c.importanceSpearman));
    for (const QString &w : c.warnings)
        sentences << QStringLiteral("\u2022 <i>note: %1</i>").arg(w.toHtmlEscaped());
    m_tests->setText(sentences.join(QStringLiteral("<br>")));
    std::vector<QStringList> changed;
    for (const registry::ChangedDecision &d : c.changedExamples)
        changed.push_back({QString::number(d.row), d.a, d.b, d.actual});
    fill(m_changed, changed, {0});
    std::vector<QStringList> lineage;
    for (const registry::LineageChange &l : c.lineage)
        lineage.push_back({l.what, l.what == u"run" ? l.a.left(8) : l.a, l.what == u"run" ? l.b.left(8) : l.b});
    fill(m_lineage, lineage);
    m_lineage->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_lineage->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_lineage->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    const auto a = c.a.importance, b = c.b.importance;
    const QString la = QStringLiteral("A: ") + c.a.ref(), lb = QStringLiteral("B: ") + c.b.ref();
    m_importance->setBuilder([a, b, la, lb](const QPalette &p) { return makeImportanceShiftChart(a, b, la, lb, p); });
}

} // namespace keel::ui
