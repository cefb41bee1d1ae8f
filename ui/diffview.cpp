#include "diffview.h"

#include "charts.h"
#include "taskmanager.h"

#include <QtCharts/QChart>
#include <QtCharts/QChartView>

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>

namespace keel::ui {

using data::ColumnDiff;

namespace {

QString driftText(double v)
{
    if (v != 0 && std::abs(v) < 0.001)
        return QLocale::c().toString(v, 'e', 1);
    return QLocale::c().toString(v, 'f', 4);
}

QString pValueText(double p)
{
    if (p < 1e-4)
        return QStringLiteral("< 0.0001");
    return QLocale::c().toString(p, 'f', 4);
}

std::optional<double> pValueOf(const ColumnDiff &c)
{
    if (c.ksPValue)
        return c.ksPValue;
    return c.chi2PValue;
}

QString typeText(const ColumnDiff &c)
{
    const QString a = c.typeA ? data::columnTypeName(*c.typeA) : QString();
    const QString b = c.typeB ? data::columnTypeName(*c.typeB) : QString();
    if (!c.typeA)
        return b;
    if (!c.typeB || a == b)
        return a;
    return a + QStringLiteral(" \u2192 ") + b;
}

} // namespace

DriftModel::DriftModel(QObject *parent) : QAbstractTableModel(parent) {}

void DriftModel::setReport(data::DiffReport report)
{
    beginResetModel();
    m_report = std::move(report);
    endResetModel();
}

int DriftModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : int(m_report.columns.size()); }

int DriftModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant DriftModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ColumnDiff &c = m_report.columns[size_t(index.row())];
    const QString stat = c.driftStatistic();
    const bool comparable = !stat.isEmpty() && (c.psi || c.jensenShannonDistance);
    const auto missing = [](const std::optional<data::ColumnProfile> &p) -> QVariant {
        if (!p)
            return {};
        return p->missingShare();
    };
    if (role == RawRole) {
        switch (index.column()) {
        case NameColumn: return c.name;
        case ChangeColumn: return data::changeName(c.change);
        case TypeColumn: return typeText(c);
        case DriftColumn: return comparable ? c.driftScore() : -1.0;
        case MeasureColumn: return stat;
        case PValueColumn: {
            const auto p = pValueOf(c);
            return p ? QVariant(*p) : QVariant(2.0);
        }
        case MissingAColumn: return missing(c.a);
        case MissingBColumn: return missing(c.b);
        }
        return {};
    }
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case NameColumn: return c.name;
        case ChangeColumn: return data::changeName(c.change);
        case TypeColumn: return typeText(c);
        case DriftColumn:
            return comparable ? QStringLiteral("%1  %2").arg(driftText(c.driftScore()),
                                                             data::driftLevel(c.driftScore(), stat))
                              : QStringLiteral("\u2014");
        case MeasureColumn:
            return stat == u"psi" ? QStringLiteral("PSI") : stat == u"js_distance" ? QStringLiteral("Jensen-Shannon distance") : QString();
        case PValueColumn: {
            const auto p = pValueOf(c);
            if (!p)
                return QString();
            return QString((c.ksPValue ? QStringLiteral("KS ") : QStringLiteral("\u03c7\u00b2 ")) + pValueText(*p));
        }
        case MissingAColumn:
        case MissingBColumn: {
            const auto &p = index.column() == MissingAColumn ? c.a : c.b;
            if (!p)
                return QString();
            return QString(QLocale::c().toString(100.0 * p->missingShare(), 'f', 1) + QLatin1Char('%'));
        }
        }
        return {};
    }
    if (role == Qt::TextAlignmentRole) {
        if (index.column() >= DriftColumn && index.column() != MeasureColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    }
    if (role == Qt::FontRole && index.column() == DriftColumn && comparable
        && data::driftLevel(c.driftScore(), stat) == u"large") {
        QFont f;
        f.setBold(true);
        return f;
    }
    if (role == Qt::ToolTipRole) {
        QStringList lines;
        lines << QStringLiteral("%1: %2").arg(c.name, data::changeName(c.change));
        if (c.psi)
            lines << QStringLiteral("PSI %1").arg(*c.psi, 0, 'g', 4);
        if (c.ks)
            lines << QStringLiteral("KS D %1, p %2").arg(*c.ks, 0, 'g', 4).arg(pValueText(c.ksPValue.value_or(1)));
        if (c.wasserstein)
            lines << QStringLiteral("Wasserstein %1").arg(*c.wasserstein, 0, 'g', 4);
        if (c.chi2)
            lines << QStringLiteral("\u03c7\u00b2 %1, p %2").arg(*c.chi2, 0, 'g', 4).arg(pValueText(c.chi2PValue.value_or(1)));
        if (c.jensenShannonDistance)
            lines << QStringLiteral("Jensen-Shannon distance %1").arg(*c.jensenShannonDistance, 0, 'g', 4);
        return lines.join(QLatin1Char('\n'));
    }
    return {};
}

QVariant DriftModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole && section == DriftColumn)
        return QStringLiteral("PSI for numbers (0.1 moderate, 0.25 large); Jensen-Shannon divergence for categories");
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return QStringLiteral("Column");
    case ChangeColumn: return QStringLiteral("Change");
    case TypeColumn: return QStringLiteral("Type");
    case DriftColumn: return QStringLiteral("Drift");
    case MeasureColumn: return QStringLiteral("Measure");
    case PValueColumn: return QStringLiteral("Test p-value");
    case MissingAColumn: return QStringLiteral("Missing A");
    case MissingBColumn: return QStringLiteral("Missing B");
    }
    return {};
}

// ---------------------------------------------------------------------------------------------------------------

DiffView::DiffView(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_versionA(new QComboBox(this)), m_versionB(new QComboBox(this)),
      m_key(new QComboBox(this)), m_summary(new QLabel(this)), m_view(new QTableView(this)),
      m_model(new DriftModel(this)), m_sorted(new QSortFilterProxyModel(this)), m_chartView(new QChartView(this)),
      m_split(new QSplitter(Qt::Vertical, this))
{
    for (QComboBox *box : {m_versionA, m_versionB}) {
        box->setMinimumContentsLength(18);
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    }
    m_key->setMinimumContentsLength(12);
    m_key->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_key->setToolTip(QStringLiteral("A column identifying rows, to count rows added, removed and changed"));
    auto *run = new QPushButton(QStringLiteral("Compare"), this);
    connect(run, &QPushButton::clicked, this, [this] {
        if (m_versionA->currentIndex() >= 0 && m_versionB->currentIndex() >= 0)
            compare(m_versionA->currentData().toString(), m_versionB->currentData().toString());
    });
    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(QStringLiteral("A"), this));
    bar->addWidget(m_versionA);
    bar->addWidget(new QLabel(QStringLiteral("B"), this));
    bar->addWidget(m_versionB);
    bar->addWidget(new QLabel(QStringLiteral("Key"), this));
    bar->addWidget(m_key);
    bar->addWidget(run);
    bar->addStretch();

    m_summary->setObjectName(QStringLiteral("diffSummary"));
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setText(QStringLiteral("<i>Pick two versions and press Compare.</i>"));

    m_sorted->setSourceModel(m_model);
    m_sorted->setSortRole(DriftModel::RawRole);
    m_view->setObjectName(QStringLiteral("driftTable"));
    m_view->setModel(m_sorted);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(DriftModel::DriftColumn, Qt::DescendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(true);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex &current) {
        if (current.isValid())
            showColumn(m_sorted->index(current.row(), DriftModel::NameColumn).data().toString());
    });

    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setMinimumHeight(220);
    m_chartView->setFrameShape(QFrame::NoFrame);
    QChart *empty = makeMessageChart(QStringLiteral("Select a column to compare its distributions"), palette());
    m_chartView->setChart(empty);

    m_split->setObjectName(QStringLiteral("diffSplitter"));
    m_split->addWidget(m_view);
    m_split->addWidget(m_chartView);
    m_split->setStretchFactor(0, 1);
    m_split->setStretchFactor(1, 1);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(bar);
    layout->addWidget(m_summary);
    layout->addWidget(m_split, 1);
}

DiffView::~DiffView()
{
    m_tasks->cancelGroup(group("diff"));
    m_tasks->cancelGroup(group("overlay"));
}

QString DiffView::group(const char *what) const
{
    return QStringLiteral("diff-%1-%2").arg(QLatin1String(what)).arg(quintptr(this), 0, 16);
}

void DiffView::setCatalog(const QString &root, const std::vector<DatasetHistory> &datasets)
{
    if (root != m_root) {
        m_diff.reset();
        m_comparison.reset();
        m_model->setReport({});
        m_summary->setText(QStringLiteral("<i>Pick two versions and press Compare.</i>"));
        redrawChart();
    }
    m_root = root;
    m_datasets = datasets;
    fillVersions();
}

void DiffView::fillVersions()
{
    const QString a = m_versionA->currentData().toString(), b = m_versionB->currentData().toString();
    m_versionA->clear();
    m_versionB->clear();
    for (const DatasetHistory &d : m_datasets) {
        for (auto it = d.versions.rbegin(); it != d.versions.rend(); ++it) {
            const QString tip = QStringLiteral("%1 \u00b7 %2").arg(it->commit.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")),
                                                                  it->commit.message.section(QLatin1Char('\n'), 0, 0));
            m_versionA->addItem(it->ref(), it->ref());
            m_versionA->setItemData(m_versionA->count() - 1, tip, Qt::ToolTipRole);
            m_versionB->addItem(it->ref(), it->ref());
            m_versionB->setItemData(m_versionB->count() - 1, tip, Qt::ToolTipRole);
        }
    }
    m_versionA->setCurrentIndex(std::max(0, m_versionA->findData(a)));
    m_versionB->setCurrentIndex(std::max(0, m_versionB->findData(b)));
}

void DiffView::suggestPair(const QString &ref)
{
    const int b = m_versionB->findData(ref);
    if (b < 0)
        return;
    m_versionB->setCurrentIndex(b);
    // Versions are listed newest first per dataset: the next entry of the same dataset is the previous version.
    const QString name = ref.section(QLatin1Char('@'), 0, 0);
    const int next = b + 1;
    if (next < m_versionA->count() && m_versionA->itemData(next).toString().section(QLatin1Char('@'), 0, 0) == name)
        m_versionA->setCurrentIndex(next);
    else
        m_versionA->setCurrentIndex(b);
    // Key choices: the columns of B.
    const QString keep = m_key->currentData().toString();
    m_key->clear();
    m_key->addItem(QStringLiteral("(no key)"), QString());
    for (const DatasetHistory &d : m_datasets)
        for (const auto &v : d.versions)
            if (v.ref() == ref)
                for (const auto &f : v.record.schema)
                    m_key->addItem(f.name, f.name);
    m_key->setCurrentIndex(std::max(0, m_key->findData(keep)));
}

void DiffView::compare(const QString &refA, const QString &refB)
{
    if (m_root.isEmpty())
        return;
    m_versionA->setCurrentIndex(std::max(0, m_versionA->findData(refA)));
    m_versionB->setCurrentIndex(std::max(0, m_versionB->findData(refB)));
    data::DiffOptions options;
    options.key = m_key->currentData().toString();
    m_tasks->cancelGroup(group("overlay"));
    m_summary->setText(QStringLiteral("<i>Comparing %1 with %2\u2026</i>").arg(refA.toHtmlEscaped(), refB.toHtmlEscaped()));
    const QString root = m_root;
    m_tasks->start<jobs::VersionDiff>(
        QStringLiteral("Diff %1 \u2192 %2").arg(refA, refB), group("diff"),
        [root, refA, refB, options](Feedback &fb) { return jobs::diffVersions(root, refA, refB, options, &fb); }, this,
        [this](Expected<jobs::VersionDiff> &&d) {
            if (!d) {
                m_summary->setText(QStringLiteral("<b>\u26a0 %1</b>").arg(d.error().toString().toHtmlEscaped()));
                emit statusMessage(d.error().toString());
                emit diffFinished(false);
                return;
            }
            m_diff = std::move(*d);
            m_comparison.reset();
            m_column.clear();
            m_model->setReport(m_diff->report);
            m_view->sortByColumn(m_view->horizontalHeader()->sortIndicatorSection(),
                                 m_view->horizontalHeader()->sortIndicatorOrder());
            m_view->resizeColumnsToContents();
            showSummary();
            redrawChart();
            emit diffFinished(true);
            if (m_sorted->rowCount() > 0)
                m_view->selectRow(0);
        });
}

void DiffView::showSummary()
{
    const data::DiffReport &r = m_diff->report;
    const QLocale loc;
    int added = 0, removed = 0, retyped = 0, changed = 0, unchanged = 0, large = 0;
    QStringList schema;
    for (const ColumnDiff &c : r.columns) {
        switch (c.change) {
        case ColumnDiff::Change::Added: ++added; schema << QStringLiteral("+%1").arg(c.name); break;
        case ColumnDiff::Change::Removed: ++removed; schema << QStringLiteral("\u2212%1").arg(c.name); break;
        case ColumnDiff::Change::Retyped: ++retyped; schema << QStringLiteral("%1: %2").arg(c.name, typeText(c)); break;
        case ColumnDiff::Change::Changed: ++changed; break;
        case ColumnDiff::Change::Unchanged: ++unchanged; break;
        }
        if (!c.driftStatistic().isEmpty() && data::driftLevel(c.driftScore(), c.driftStatistic()) == u"large")
            ++large;
    }
    const qint64 delta = r.rowsB - r.rowsA;
    QString text = QStringLiteral("<b>%1</b> %2 rows &rarr; <b>%3</b> %4 rows (%5%6)")
                       .arg(m_diff->a.ref().toHtmlEscaped(), loc.toString(r.rowsA), m_diff->b.ref().toHtmlEscaped(),
                            loc.toString(r.rowsB), delta >= 0 ? QStringLiteral("+") : QString(), loc.toString(delta));
    text += QStringLiteral("<br>Columns: %1 changed, %2 unchanged, %3 added, %4 removed, %5 retyped; %6 with large drift")
                .arg(changed).arg(unchanged).arg(added).arg(removed).arg(retyped).arg(large);
    if (!schema.isEmpty())
        text += QStringLiteral("<br>Schema: ") + schema.join(QStringLiteral(", ")).toHtmlEscaped();
    if (r.keyDiff) {
        const data::KeyDiff &k = *r.keyDiff;
        text += QStringLiteral("<br>Rows by key <b>%1</b>: %2 added, %3 removed, %4 changed, %5 unchanged")
                    .arg(k.key.toHtmlEscaped(), loc.toString(k.added), loc.toString(k.removed), loc.toString(k.changed),
                         loc.toString(k.unchanged));
        if (k.duplicateKeysA || k.duplicateKeysB)
            text += QStringLiteral(" (duplicate keys: %1 in A, %2 in B)").arg(loc.toString(k.duplicateKeysA), loc.toString(k.duplicateKeysB));
    }
    m_summary->setText(text);
}

void DiffView::showColumn(const QString &column)
{
    if (!m_diff)
        return;
    const int ia = m_diff->tableA.indexOf(column), ib = m_diff->tableB.indexOf(column);
    if (ia < 0 && ib < 0)
        return;
    const data::Table ta = m_diff->tableA, tb = m_diff->tableB;
    m_tasks->start<data::DistributionComparison>(
        QStringLiteral("Compare distributions of %1").arg(column), group("overlay"),
        [ta, tb, ia, ib](Feedback &fb) {
            return data::compareDistributions(ia >= 0 ? &ta.column(ia) : nullptr, ib >= 0 ? &tb.column(ib) : nullptr, 30, 12, &fb);
        },
        this,
        [this, column](Expected<data::DistributionComparison> &&cmp) {
            if (!cmp) {
                emit statusMessage(cmp.error().toString());
                return;
            }
            m_column = column;
            m_comparison = std::move(*cmp);
            redrawChart();
            emit comparisonFinished();
        });
}

void DiffView::redrawChart()
{
    QChart *chart = nullptr;
    if (!m_diff || !m_comparison)
        chart = makeMessageChart(m_diff ? QStringLiteral("Select a column to compare its distributions")
                                        : QStringLiteral("No diff yet"),
                                 palette());
    else
        chart = makeComparisonChart(*m_comparison, QStringLiteral("A: ") + m_diff->a.ref(), QStringLiteral("B: ") + m_diff->b.ref(),
                                    QStringLiteral("%1: %2").arg(m_column, m_comparison->numeric ? QStringLiteral("distribution over the same bins")
                                                                                                : QStringLiteral("category shares")),
                                    palette());
    QChart *old = m_chartView->chart();
    m_chartView->setChart(chart);
    delete old;
    m_chartView->setBackgroundBrush(palette().brush(QPalette::Base));
}

void DiffView::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        redrawChart();
}

} // namespace keel::ui
