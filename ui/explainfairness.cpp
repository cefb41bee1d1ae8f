#include "explainfairness.h"

#include "explaincharts.h"
#include "taskmanager.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonObject>
#include <QLabel>
#include <QLocale>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>

namespace keel::ui {

namespace {

QString num(double v) { return std::isfinite(v) ? QLocale::c().toString(v, 'f', 3) : QStringLiteral("\u2013"); }

const explain::Estimate *estimateOf(const explain::GroupFairness &g, int column)
{
    switch (column) {
    case FairnessTableModel::SelectionRateColumn: return &g.selectionRate;
    case FairnessTableModel::TprColumn: return &g.truePositiveRate;
    case FairnessTableModel::FprColumn: return &g.falsePositiveRate;
    case FairnessTableModel::PrecisionColumn: return &g.precision;
    case FairnessTableModel::CalibrationGapColumn: return &g.calibrationGap;
    default: return nullptr;
    }
}

} // namespace

// ---------------------------------------------------------------------------------------------------------------
// FairnessTableModel

FairnessTableModel::FairnessTableModel(QObject *parent) : QAbstractTableModel(parent) {}

void FairnessTableModel::setReport(const explain::FairnessReport &report)
{
    beginResetModel();
    m_report = report;
    endResetModel();
}

void FairnessTableModel::clear() { setReport({}); }

int FairnessTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_report.groups.size());
}

int FairnessTableModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString FairnessTableModel::estimateText(const explain::Estimate &e)
{
    if (!std::isfinite(e.value))
        return QStringLiteral("\u2013");
    if (!std::isfinite(e.low) || !std::isfinite(e.high))
        return num(e.value);
    return QStringLiteral("%1 [%2, %3]").arg(num(e.value), num(e.low), num(e.high));
}

QVariant FairnessTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount)
        return {};
    const explain::GroupFairness &g = m_report.groups[size_t(index.row())];
    const int c = index.column();
    const explain::Estimate *e = estimateOf(g, c);
    switch (role) {
    case Qt::DisplayRole:
        if (c == GroupColumn)
            return g.group;
        if (c == RowsColumn)
            return QLocale().toString(g.count);
        if (c == PositivesColumn)
            return QLocale().toString(g.positives);
        return e ? estimateText(*e) : QVariant();
    case ValueRole:
        if (c == GroupColumn)
            return g.group;
        if (c == RowsColumn)
            return g.count;
        if (c == PositivesColumn)
            return g.positives;
        return e ? QVariant(e->value) : QVariant();
    case LowRole: return e ? QVariant(e->low) : QVariant();
    case HighRole: return e ? QVariant(e->high) : QVariant();
    case Qt::TextAlignmentRole:
        return c == GroupColumn ? int(Qt::AlignLeft | Qt::AlignVCenter) : int(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ToolTipRole:
        if (c == CalibrationGapColumn)
            return QStringLiteral("mean predicted %1 vs observed %2").arg(num(g.meanPredicted.value), num(g.observedRate.value));
        if (c == SelectionRateColumn)
            return QStringLiteral("%1 of %2 rows predicted positive").arg(g.predictedPositives).arg(g.count);
        return {};
    default: return {};
    }
}

QVariant FairnessTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case GroupColumn: return m_report.sensitive.isEmpty() ? QStringLiteral("group") : m_report.sensitive;
    case RowsColumn: return QStringLiteral("rows");
    case PositivesColumn: return QStringLiteral("actual positives");
    case SelectionRateColumn: return QStringLiteral("selection rate");
    case TprColumn: return QStringLiteral("TPR");
    case FprColumn: return QStringLiteral("FPR");
    case PrecisionColumn: return QStringLiteral("precision");
    case CalibrationGapColumn: return QStringLiteral("calibration gap");
    default: return {};
    }
}

// ---------------------------------------------------------------------------------------------------------------
// ExplainFairnessView

ExplainFairnessView::ExplainFairnessView(TaskManager *tasks, const QString &taskGroup, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_group(taskGroup), m_picker(new QComboBox(this)), m_info(new QLabel(this)),
      m_table(new QTableView(this)), m_model(new FairnessTableModel(this)), m_chart(new ExplainChartView(this)),
      m_differences(new QLabel(this))
{
    m_picker->setMinimumContentsLength(14);
    m_picker->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_picker->setToolTip(QStringLiteral("Column whose values define the groups (it need not be a model feature)"));
    m_info->setWordWrap(true);
    m_info->setForegroundRole(QPalette::PlaceholderText);
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->setMinimumHeight(100);
    m_differences->setTextFormat(Qt::RichText);
    m_differences->setWordWrap(true);
    m_differences->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_differences->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_differences->setMinimumWidth(300);

    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(QStringLiteral("Sensitive column:")));
    bar->addWidget(m_picker);
    bar->addSpacing(12);
    bar->addWidget(m_info, 1);

    auto *lower = new QSplitter(Qt::Horizontal);
    lower->addWidget(m_chart);
    lower->addWidget(m_differences);
    lower->setStretchFactor(0, 3);
    lower->setStretchFactor(1, 1);
    lower->setChildrenCollapsible(false);
    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(m_table);
    split->addWidget(lower);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 4);
    split->setSizes({150, 650});
    split->setChildrenCollapsible(false);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(split, 1);

    connect(m_picker, &QComboBox::currentTextChanged, this, [this](const QString &column) {
        if (!m_updatingPicker && !column.isEmpty())
            setSensitiveColumn(column);
    });
    connect(m_tasks, &TaskManager::taskEnded, this, [this](quint64 id, TaskState state) {
        if (id != 0 && id == m_taskId && state == TaskState::Cancelled) {
            m_taskId = 0;
            m_computing = false;
            setMessage(QStringLiteral("Cancelled (choose the column again to compute)"));
        }
    });
    setSession(nullptr);
}

void ExplainFairnessView::setMessage(const QString &message)
{
    m_model->clear();
    m_chart->setMessage(message);
    m_differences->clear();
}

void ExplainFairnessView::setSession(std::shared_ptr<const ExplainSession> session)
{
    m_tasks->cancelGroup(m_group + QStringLiteral("fairness"));
    m_session = std::move(session);
    m_report.reset();
    m_column.clear();
    m_computing = false;
    m_taskId = 0;
    m_updatingPicker = true;
    m_picker->clear();
    if (m_session)
        m_picker->addItems(m_session->sensitiveCandidates);
    m_picker->setCurrentIndex(-1);
    m_updatingPicker = false;
    m_info->clear();
    if (!m_session) {
        m_picker->setEnabled(false);
        setMessage(QStringLiteral("No model selected"));
        return;
    }
    if (m_session->model.ctx.task() == ml::Task::Regression) {
        m_picker->setEnabled(false);
        setMessage(QStringLiteral("Group fairness metrics need a classifier; this model is a regression"));
        return;
    }
    if (m_session->sensitiveCandidates.isEmpty()) {
        m_picker->setEnabled(false);
        setMessage(QStringLiteral("%1 has no categorical column to group by").arg(m_session->dataRef));
        return;
    }
    m_picker->setEnabled(true);
    setMessage(QStringLiteral("Choose a sensitive column"));
    if (isVisible())
        showEvent(nullptr);
}

void ExplainFairnessView::showEvent(QShowEvent *event)
{
    if (event)
        QWidget::showEvent(event);
    if (!m_session || !m_picker->isEnabled() || m_computing || m_report)
        return;
    if (!m_column.isEmpty()) {
        start(m_column);
        return;
    }
    // A column people usually audit first, else the first candidate.
    QString column = m_session->sensitiveCandidates.front();
    for (const QString &name : {QStringLiteral("sex"), QStringLiteral("gender"), QStringLiteral("race"), QStringLiteral("ethnicity")}) {
        const auto it = std::find_if(m_session->sensitiveCandidates.begin(), m_session->sensitiveCandidates.end(),
                                     [&](const QString &c) { return c.compare(name, Qt::CaseInsensitive) == 0; });
        if (it != m_session->sensitiveCandidates.end()) {
            column = *it;
            break;
        }
    }
    setSensitiveColumn(column);
}

QString ExplainFairnessView::sensitiveColumn() const { return m_column; }

bool ExplainFairnessView::setSensitiveColumn(const QString &column)
{
    if (!m_session || !m_session->sensitiveCandidates.contains(column) || m_session->model.ctx.task() == ml::Task::Regression)
        return false;
    m_updatingPicker = true;
    m_picker->setCurrentText(column);
    m_updatingPicker = false;
    if (column == m_column && (m_report || m_computing))
        return true;
    m_column = column;
    start(column);
    return true;
}

void ExplainFairnessView::start(const QString &column)
{
    m_computing = true;
    m_report.reset();
    setMessage(QStringLiteral("Computing group metrics by %1\u2026").arg(column));
    m_info->clear();
    std::shared_ptr<const ExplainSession> session = m_session;
    explain::ExplainRequest request;
    request.fairness = column;
    request.bootstrap = kBootstrap;
    m_taskId = m_tasks->start<explain::ExplainResult>(
        QStringLiteral("Fairness of %1 by %2").arg(session->model.runName, column), m_group + QStringLiteral("fairness"),
        [session, request](Feedback &fb) { return runExplainRequest(*session, request, &fb); }, this,
        [this, session, column](Expected<explain::ExplainResult> &&result) {
            if (session != m_session || column != m_column)
                return;
            m_computing = false;
            m_taskId = 0;
            if (!result) {
                setMessage(QStringLiteral("Fairness report failed: ") + result.error().toString());
                emit reportShown(column);
                return;
            }
            const std::optional<explain::FairnessReport> &report = result->report.fairness;
            if (!report) {
                setMessage(QStringLiteral("The explanation has no fairness report"));
                emit reportShown(column);
                return;
            }
            showReport(*report);
            emit statusMessage(QStringLiteral("Fairness by %1 %2 (%3)")
                                   .arg(column, result->cached ? QStringLiteral("read from the stored explanation")
                                                               : QStringLiteral("computed and stored"),
                                        result->artifactName));
            emit reportShown(column);
        });
    emit taskStarted(m_taskId);
}

void ExplainFairnessView::showReport(const explain::FairnessReport &report)
{
    m_report = report;
    m_model->setReport(report);
    m_chart->setBuilder([report](const QPalette &p) { return makeFairnessChart(report, p); });
    m_info->setText(QStringLiteral("Positive class %1 (predicted when P \u2265 %2) \u00b7 %3 rows of %4 \u00b7 %5% bootstrap "
                                   "intervals from %6 resamples within each group")
                        .arg(report.positiveClass, QLocale::c().toString(report.threshold))
                        .arg(report.rows)
                        .arg(m_session ? m_session->dataRef : QString())
                        .arg(report.confidence * 100, 0, 'g', 3)
                        .arg(report.bootstrap));
    const auto row = [](const QString &name, const explain::Estimate &e, const QString &help) {
        return QStringLiteral("<tr><td><b>%1</b><br><span style=\"font-size:small\">%2</span></td><td align=\"right\">%3</td></tr>")
            .arg(name.toHtmlEscaped(), help.toHtmlEscaped(), FairnessTableModel::estimateText(e).toHtmlEscaped());
    };
    QString html = QStringLiteral("<p><b>Differences between groups</b></p><table cellspacing=\"6\">");
    html += row(QStringLiteral("Demographic parity difference"), report.demographicParityDifference,
                QStringLiteral("max \u2212 min selection rate"));
    html += row(QStringLiteral("Demographic parity ratio"), report.demographicParityRatio,
                QStringLiteral("min / max selection rate"));
    html += row(QStringLiteral("TPR difference"), report.truePositiveRateDifference, QStringLiteral("max \u2212 min TPR"));
    html += row(QStringLiteral("FPR difference"), report.falsePositiveRateDifference, QStringLiteral("max \u2212 min FPR"));
    html += row(QStringLiteral("Equalized odds difference"), report.equalizedOddsDifference,
                QStringLiteral("larger of the TPR and FPR differences"));
    html += QStringLiteral("</table>");
    m_differences->setText(html);
}

} // namespace keel::ui
