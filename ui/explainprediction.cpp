#include "explainprediction.h"

#include "datatablewidget.h"
#include "tablemodel.h"
#include "taskmanager.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>

namespace keel::ui {

namespace {

constexpr double kHugeNumber = 1e15;

QString num(double v, int digits = 3)
{
    return std::isfinite(v) ? QLocale::c().toString(v, 'g', digits) : QStringLiteral("\u2013");
}

QString valueText(const QVariant &v)
{
    if (!v.isValid() || v.isNull())
        return QStringLiteral("(missing)");
    if (v.metaType().id() == QMetaType::QDateTime)
        return v.toDateTime().toUTC().toString(Qt::ISODate);
    if (v.metaType().id() == QMetaType::Double)
        return QLocale::c().toString(v.toDouble(), 'g', 8);
    return v.toString();
}

/// Fewest decimals (at most 6) that show every sampled value exactly.
int decimalsFor(const std::vector<double> &values)
{
    int decimals = 0;
    const size_t step = std::max<size_t>(1, values.size() / 2000);
    for (size_t i = 0; i < values.size(); i += step) {
        const double v = values[i];
        if (!std::isfinite(v))
            continue;
        while (decimals < 6) {
            const double scaled = v * std::pow(10.0, decimals);
            if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, std::abs(scaled)))
                break;
            ++decimals;
        }
    }
    return decimals;
}

/// A round step (1, 2 or 5 times a power of ten) near a hundredth of `span`.
double niceStep(double span, int decimals)
{
    const double minimum = std::pow(10.0, -decimals);
    if (!(span > 0))
        return std::max(minimum, 1.0);
    const double raw = span / 100;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    const double m = raw / p;
    const double nice = (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
    return std::max(nice, minimum);
}

} // namespace

ExplainPredictionView::ExplainPredictionView(TaskManager *tasks, const QString &taskGroup, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_group(taskGroup), m_rowSpin(new QSpinBox(this)), m_classPicker(new QComboBox(this)),
      m_classLabel(new QLabel(QStringLiteral("Explain:"), this)), m_search(new QLineEdit(this)),
      m_searchCount(new QLabel(this)), m_rowTable(new QTableView(this)), m_rowModel(new TableModel(this)),
      m_prediction(new QLabel(this)), m_otherValues(new QLabel(this)), m_waterfallChart(new ExplainChartView(this)),
      m_editorBox(new QWidget), m_editorForm(new QFormLayout), m_resetButton(new QPushButton(QStringLiteral("Reset edits"))),
      m_cfButton(new QPushButton(QStringLiteral("Find counterfactual"))), m_cfApply(new QPushButton(QStringLiteral("Apply to what-if"))),
      m_cfResult(new QLabel)
{
    m_rowSpin->setRange(0, 0);
    m_rowSpin->setToolTip(QStringLiteral("Row number as the dataset table shows it (counted from 1)"));
    m_rowSpin->setKeyboardTracking(false);
    m_search->setPlaceholderText(QStringLiteral("Find rows whose values contain\u2026 (e.g. Female Doctorate)"));
    m_search->setClearButtonEnabled(true);
    m_searchCount->setForegroundRole(QPalette::PlaceholderText);

    m_rowTable->setModel(m_rowModel);
    m_rowTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_rowTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_rowTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_rowTable->verticalHeader()->setDefaultSectionSize(m_rowTable->fontMetrics().height() + 6);
    m_rowTable->horizontalHeader()->setDefaultSectionSize(96);
    m_rowTable->setMinimumHeight(90);

    m_prediction->setWordWrap(true);
    m_prediction->setTextFormat(Qt::RichText);
    m_prediction->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_otherValues->setWordWrap(true);
    m_otherValues->setForegroundRole(QPalette::PlaceholderText);
    m_otherValues->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(QStringLiteral("Row:")));
    bar->addWidget(m_rowSpin);
    bar->addSpacing(12);
    m_classPicker->setObjectName(QStringLiteral("predictionClass"));
    m_classPicker->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_classPicker->setToolTip(QStringLiteral("The class whose probability the waterfall explains (case matters in class labels)"));
    bar->addWidget(m_classLabel);
    bar->addWidget(m_classPicker);
    bar->addSpacing(12);
    connect(m_classPicker, &QComboBox::currentIndexChanged, this, [this] {
        if (m_filling || !m_local || !m_session)
            return;
        m_local->selectOutput(shownOutput(*m_local));
        if (m_whatIf)
            runWhatIf();
        else
            showLocal();
    });
    bar->addWidget(new QLabel(QStringLiteral("Search:")));
    bar->addWidget(m_search, 1);
    bar->addWidget(m_searchCount);

    auto *left = new QWidget;
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_prediction);
    leftLayout->addWidget(m_otherValues);
    leftLayout->addWidget(m_waterfallChart, 1);

    auto *editorHeader = new QLabel(QStringLiteral("<b>What-if</b> \u2014 edit the row's values; ticked features may change "
                                                   "in the counterfactual search"));
    editorHeader->setWordWrap(true);
    m_editorForm->setLabelAlignment(Qt::AlignLeft);
    m_editorForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    m_editorForm->setVerticalSpacing(3);
    auto *editorLayout = new QVBoxLayout(m_editorBox);
    editorLayout->setContentsMargins(6, 4, 6, 4);
    editorLayout->addWidget(editorHeader);
    editorLayout->addLayout(m_editorForm);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_resetButton);
    buttons->addWidget(m_cfButton);
    buttons->addStretch();
    editorLayout->addLayout(buttons);
    m_cfResult->setWordWrap(true);
    m_cfResult->setTextFormat(Qt::RichText);
    m_cfResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    editorLayout->addWidget(m_cfResult);
    auto *applyRow = new QHBoxLayout;
    applyRow->addWidget(m_cfApply);
    applyRow->addStretch();
    editorLayout->addLayout(applyRow);
    editorLayout->addStretch();
    m_cfApply->setVisible(false);
    auto *scroll = new QScrollArea;
    scroll->setWidget(m_editorBox);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setMinimumWidth(330);

    auto *lower = new QSplitter(Qt::Horizontal);
    lower->addWidget(left);
    lower->addWidget(scroll);
    lower->setStretchFactor(0, 3);
    lower->setStretchFactor(1, 1);
    lower->setChildrenCollapsible(false);
    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(m_rowTable);
    split->addWidget(lower);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 4);
    split->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(split, 1);

    m_whatIfTimer.setSingleShot(true);
    m_whatIfTimer.setInterval(kWhatIfDelayMs);
    connect(&m_whatIfTimer, &QTimer::timeout, this, &ExplainPredictionView::runWhatIf);
    m_searchTimer.setSingleShot(true);
    m_searchTimer.setInterval(300);
    connect(&m_searchTimer, &QTimer::timeout, this, [this] { search(m_search->text()); });
    connect(m_search, &QLineEdit::textChanged, this, [this] { m_searchTimer.start(); });
    connect(m_search, &QLineEdit::returnPressed, this, [this] {
        m_searchTimer.stop();
        search(m_search->text());
    });
    connect(m_rowSpin, &QSpinBox::valueChanged, this, [this](int v) {
        if (!m_filling && v > 0)
            pickRow(qint64(v) - 1);
    });
    connect(m_rowTable->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex &current) {
        if (!m_filling && current.isValid())
            pickRow(m_rowModel->sourceRow(current.row()));
    });
    connect(m_resetButton, &QPushButton::clicked, this, &ExplainPredictionView::resetEdits);
    connect(m_cfButton, &QPushButton::clicked, this, &ExplainPredictionView::findCounterfactual);
    connect(m_cfApply, &QPushButton::clicked, this, &ExplainPredictionView::applyCounterfactual);
    connect(m_tasks, &TaskManager::taskEnded, this, [this](quint64 id, TaskState state) {
        if (state != TaskState::Cancelled || id == 0)
            return;
        if (id == m_rowTask) {
            m_rowTask = 0;
            m_prediction->setText(QStringLiteral("Cancelled; pick the row again to explain it."));
            m_waterfallChart->setMessage(QStringLiteral("Cancelled"));
        } else if (id == m_whatIfTask) {
            m_whatIfTask = 0;
            m_prediction->setText(m_prediction->text() + QStringLiteral("<br>What-if cancelled."));
        } else if (id == m_cfTask) {
            m_cfTask = 0;
            m_cfResult->setText(QStringLiteral("Counterfactual search cancelled."));
        }
    });
    setSession(nullptr);
}

ExplainPredictionView::~ExplainPredictionView() = default;

void LocalExplanation::selectOutput(int k)
{
    if (!attribution || k < 0 || k >= attribution->outputs)
        return;
    output = k;
    contributions.clear();
    for (int f = 0; f < attribution->featureCount(); ++f)
        contributions.push_back(attribution->value(0, k, f));
    base = attribution->base[size_t(k)];
    margin = size_t(k) < margins.size() ? margins[size_t(k)] : std::nan("");
    residual = attribution->residual.empty() ? std::nan("") : attribution->residual[size_t(k)];
}

int ExplainPredictionView::shownOutput(const LocalExplanation &e) const
{
    const int picked = m_classPicker->currentData().toInt();
    if (picked >= 0 && e.attribution && picked < e.attribution->outputs)
        return picked;
    return m_session ? explain::explainedOutput(m_session->model.ctx.task(), e.prediction) : 0;
}

void ExplainPredictionView::setSession(std::shared_ptr<const ExplainSession> session)
{
    for (const char *g : {"row", "whatif", "counterfactual", "search"})
        m_tasks->cancelGroup(m_group + QLatin1String(g));
    m_session = std::move(session);
    ++m_generation;
    m_rowTask = m_whatIfTask = m_cfTask = 0;
    m_row = -1;
    m_started = false;
    m_local.reset();
    m_whatIf.reset();
    m_whatIfAttribution.reset();
    m_counterfactual.reset();
    m_waterfall = {};
    m_whatIfTimer.stop();
    m_filling = true;
    m_search->clear();
    m_searchCount->clear();
    m_rowModel->setTable(m_session ? m_session->table : data::Table{});
    if (m_session)
        fitColumnWidths(m_rowTable, m_session->table);
    m_rowSpin->setRange(m_session && m_session->table.rowCount() > 0 ? 1 : 0,
                        m_session ? int(std::min<qint64>(m_session->table.rowCount(), INT_MAX)) : 0);
    m_classPicker->clear();
    const bool multiclass = m_session && m_session->model.ctx.task() == ml::Task::MulticlassClassification;
    if (multiclass) {
        m_classPicker->addItem(QStringLiteral("the predicted class"), -1);
        const QStringList classes = m_session->model.ctx.classes();
        for (qsizetype i = 0; i < classes.size(); ++i)
            m_classPicker->addItem(QStringLiteral("P(%1)").arg(classes[i]), int(i));
    }
    m_classPicker->setVisible(multiclass);
    m_classLabel->setVisible(multiclass);
    m_filling = false;
    m_cfResult->clear();
    m_cfApply->setVisible(false);
    m_otherValues->clear();
    buildEditors();
    const bool classifier = m_session && m_session->model.ctx.task() != ml::Task::Regression;
    m_cfButton->setEnabled(classifier);
    m_cfButton->setToolTip(classifier ? QStringLiteral("Search for the smallest change of the ticked features that changes "
                                                       "the predicted class")
                                      : QStringLiteral("Counterfactuals need a classifier"));
    m_resetButton->setEnabled(bool(m_session));
    if (!m_session) {
        m_prediction->setText(QStringLiteral("No model selected"));
        m_waterfallChart->setMessage(QStringLiteral("No model selected"));
        return;
    }
    m_prediction->setText(QStringLiteral("Pick a row from the table, by number or by search."));
    m_waterfallChart->setMessage(QStringLiteral("No row picked"));
    if (isVisible())
        pickRow(0);
}

void ExplainPredictionView::setMessage(const QString &message)
{
    m_prediction->setText(message.toHtmlEscaped());
    m_waterfallChart->setMessage(message);
}

void ExplainPredictionView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_session && m_row < 0 && !m_started)
        pickRow(0);
}

bool ExplainPredictionView::pickRow(qint64 row)
{
    if (!m_session || row < 0 || row >= m_session->table.rowCount())
        return false;
    m_started = true;
    if (row == m_row && (m_local || m_rowTask))
        return true;
    m_row = row;
    ++m_generation;
    m_local.reset();
    m_whatIf.reset();
    m_whatIfAttribution.reset();
    m_counterfactual.reset();
    m_whatIfTimer.stop();
    m_tasks->cancelGroup(m_group + QStringLiteral("whatif"));
    m_tasks->cancelGroup(m_group + QStringLiteral("counterfactual"));
    m_cfResult->clear();
    m_cfApply->setVisible(false);

    m_filling = true;
    m_rowSpin->setValue(int(row + 1));
    m_filling = false;
    selectInTable(row);

    fillEditors();
    QStringList others;
    const explain::ModelContext &ctx = m_session->model.ctx;
    for (const data::Column &c : m_session->table.columns())
        if (!ctx.isInputFeature(c.name()))
            others << QStringLiteral("%1 = %2").arg(c.name(), TableModel::cellText(c, row));
    m_otherValues->setText(others.isEmpty() ? QString() : QStringLiteral("Not used by the model: ") + others.join(QStringLiteral(" \u00b7 ")));
    explainRow(row);
    return true;
}

void ExplainPredictionView::selectInTable(qint64 row)
{
    qint64 viewRow = -1;
    if (const auto index = m_rowModel->rowIndex()) {
        const auto it = std::find(index->begin(), index->end(), row);
        if (it != index->end())
            viewRow = qint64(it - index->begin());
    } else {
        viewRow = row;
    }
    m_filling = true;
    if (viewRow >= 0 && viewRow < m_rowModel->rowCount()) {
        const QModelIndex idx = m_rowModel->index(int(viewRow), 0);
        m_rowTable->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        m_rowTable->scrollTo(idx);
    } else {
        m_rowTable->selectionModel()->clearSelection();
    }
    m_filling = false;
}

void ExplainPredictionView::explainRow(qint64 row)
{
    m_prediction->setText(QStringLiteral("Row %1: explaining\u2026").arg(row + 1));
    m_waterfallChart->setMessage(QStringLiteral("Explaining row %1\u2026").arg(row + 1));
    std::shared_ptr<const ExplainSession> session = m_session;
    const quint64 generation = m_generation;
    explain::ExplainRequest request;
    request.rows = {row};
    m_rowTask = m_tasks->start<explain::ExplainResult>(
        QStringLiteral("Explain row %1 of %2").arg(row + 1).arg(session->dataRef), m_group + QStringLiteral("row"),
        [session, request](Feedback &fb) { return runExplainRequest(*session, request, &fb); }, this,
        [this, session, generation, row](Expected<explain::ExplainResult> &&result) {
            if (session != m_session || generation != m_generation)
                return;
            m_rowTask = 0;
            if (!result) {
                m_prediction->setText(QStringLiteral("Row %1 could not be explained: %2").arg(row + 1).arg(result.error().toString().toHtmlEscaped()));
                m_waterfallChart->setMessage(QStringLiteral("No explanation"));
                emit rowExplained(row);
                return;
            }
            if (!result->report.local || result->report.local->count() < 1) {
                m_prediction->setText(QStringLiteral("The explanation of row %1 has no row in it").arg(row + 1));
                emit rowExplained(row);
                return;
            }
            const explain::LocalExplanations &local = *result->report.local;
            const explain::Attribution &a = local.attribution;
            LocalExplanation e;
            e.row = row;
            e.method = a.method;
            e.features = a.features;
            const auto prediction = local.predictionOf(0);
            e.prediction.assign(prediction.begin(), prediction.end());
            e.values = local.values.front();
            e.actual = local.actual.value(0);
            e.attribution = std::make_shared<const explain::Attribution>(a);
            e.margins.assign(local.margin.begin(), local.margin.begin() + std::min<qsizetype>(qsizetype(local.margin.size()), a.outputs));
            e.selectOutput(shownOutput(e));
            m_local = std::move(e);
            if (edits().isEmpty()) {
                showLocal();
            } else {
                updatePredictionLabel();
                runWhatIf();
            }
            emit rowExplained(row);
        });
    emit taskStarted(m_rowTask);
}

QString ExplainPredictionView::probabilityText(const std::vector<double> &prediction) const
{
    if (!m_session || prediction.empty())
        return QString();
    const explain::ModelContext &ctx = m_session->model.ctx;
    const explain::PredictionText t =
        explain::describePrediction(ctx.task(), ctx.classes(), prediction, m_classPicker->currentData().toInt());
    if (t.predictedLabel.isEmpty())
        return QStringLiteral("%1 = <b>%2</b>").arg(t.quantity.toHtmlEscaped(), num(t.value, 5));
    // The same words as explain::PredictionText::text(), with the number in bold.
    const QString plain = t.text();
    const QString number = num(t.value);
    return plain.toHtmlEscaped().replace(QStringLiteral("= ") + number, QStringLiteral("= <b>%1</b>").arg(number));
}

QString ExplainPredictionView::outputName(int output) const
{
    if (!m_session)
        return QString();
    return explain::marginName(m_session->model.ctx.task(), m_session->model.ctx.classes(), output);
}

void ExplainPredictionView::showLocal()
{
    if (!m_local || !m_session)
        return;
    Waterfall w = makeWaterfall(m_local->features, m_local->contributions, m_local->values, m_local->base);
    w.title = QStringLiteral("Row %1: %2 contributions to the %3").arg(m_local->row + 1).arg(m_local->method, outputName(m_local->output));
    w.axisTitle = outputName(m_local->output);
    showWaterfall(w);
    updatePredictionLabel();
}

void ExplainPredictionView::showWaterfall(const Waterfall &w)
{
    m_waterfall = w;
    m_waterfallChart->setBuilder([w](const QPalette &p) { return makeWaterfallChart(w, p); });
}

void ExplainPredictionView::updatePredictionLabel()
{
    if (!m_local || !m_session)
        return;
    QString text = QStringLiteral("<b>Row %1</b>").arg(m_local->row + 1);
    if (!m_local->actual.isEmpty())
        text += QStringLiteral(" \u00b7 actual %1").arg(m_local->actual.toHtmlEscaped());
    text += QStringLiteral(" \u00b7 ") + probabilityText(m_local->prediction);
    const bool regression = m_session->model.ctx.task() == ml::Task::Regression;
    text += regression ? QStringLiteral(" \u00b7 base value %1").arg(num(m_local->base, 4))
                       : QStringLiteral(" \u00b7 %1 %2 (base value %3)").arg(outputName(m_local->output), num(m_local->margin, 4),
                                                                          num(m_local->base, 4));
    if (m_whatIf) {
        QStringList changed = m_whatIf->edits.keys();
        text += QStringLiteral("<br><b>What-if</b> (%1): ").arg(changed.join(QStringLiteral(", ")).toHtmlEscaped()) +
                probabilityText(m_whatIf->editedPrediction);
        const int picked = m_classPicker->currentData().toInt();
        const int k = picked >= 0 ? picked : explain::explainedOutput(m_session->model.ctx.task(), m_whatIf->editedPrediction);
        if (!regression && size_t(k) < m_whatIf->editedMargin.size())
            text += QStringLiteral(" \u00b7 %1 %2").arg(outputName(k), num(m_whatIf->editedMargin[size_t(k)], 4));
    }
    m_prediction->setText(text);
}

// ---------------------------------------------------------------------------------------------------------------
// What-if editor

void ExplainPredictionView::buildEditors()
{
    while (m_editorForm->rowCount() > 0)
        m_editorForm->removeRow(0);
    m_editors.clear();
    if (!m_session)
        return;
    const data::Table &table = m_session->table;
    for (const explain::FeatureValues &f : m_session->inputs) {
        Editor e;
        e.feature = f.name;
        e.column = table.indexOf(f.name);
        if (e.column < 0)
            continue;
        e.type = table.column(e.column).type();
        e.changeable = new QCheckBox(f.name);
        e.changeable->setChecked(true);
        e.changeable->setToolTip(QStringLiteral("Ticked: the counterfactual search may change %1").arg(f.name));
        switch (e.type) {
        case data::ColumnType::Categorical:
        case data::ColumnType::String:
        case data::ColumnType::Bool: {
            auto *combo = new QComboBox;
            combo->addItems(e.type == data::ColumnType::Bool ? QStringList{QStringLiteral("false"), QStringLiteral("true")}
                                                             : f.categories);
            combo->addItem(QStringLiteral("(missing)"));
            combo->setMaxVisibleItems(20);
            combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
            combo->setMinimumContentsLength(10);
            connect(combo, &QComboBox::currentIndexChanged, this, &ExplainPredictionView::onEdited);
            e.widget = combo;
            break;
        }
        case data::ColumnType::Datetime: {
            auto *edit = new QDateTimeEdit;
            edit->setTimeSpec(Qt::UTC);
            edit->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
            edit->setMinimumDateTime(QDateTime(QDate(1000, 1, 1), QTime(0, 0), Qt::UTC));
            edit->setSpecialValueText(QStringLiteral("(missing)"));
            connect(edit, &QDateTimeEdit::dateTimeChanged, this, &ExplainPredictionView::onEdited);
            e.widget = edit;
            break;
        }
        case data::ColumnType::Int64:
        case data::ColumnType::Float64: {
            auto *spin = new QDoubleSpinBox;
            e.decimals = e.type == data::ColumnType::Int64 ? 0 : decimalsFor(f.numbers);
            spin->setDecimals(e.decimals);
            spin->setRange(-kHugeNumber, kHugeNumber);
            spin->setSpecialValueText(QStringLiteral("(missing)"));
            double lo = INFINITY, hi = -INFINITY;
            for (double v : f.numbers)
                if (std::isfinite(v)) {
                    lo = std::min(lo, v);
                    hi = std::max(hi, v);
                }
            spin->setSingleStep(e.type == data::ColumnType::Int64 && hi - lo <= 200 ? 1.0 : niceStep(hi - lo, e.decimals));
            spin->setToolTip(std::isfinite(lo) ? QStringLiteral("Observed range %1 \u2013 %2").arg(num(lo, 8), num(hi, 8))
                                               : QString());
            spin->setKeyboardTracking(true);
            spin->setMinimumWidth(110);
            spin->setMaximumWidth(220);
            connect(spin, &QDoubleSpinBox::valueChanged, this, &ExplainPredictionView::onEdited);
            e.widget = spin;
            break;
        }
        }
        m_editorForm->addRow(e.changeable, e.widget);
        m_editors.push_back(e);
    }
}

QWidget *ExplainPredictionView::editor(const QString &feature) const
{
    for (const Editor &e : m_editors)
        if (e.feature == feature)
            return e.widget;
    return nullptr;
}

void ExplainPredictionView::fillEditors()
{
    if (!m_session || m_row < 0)
        return;
    m_filling = true;
    for (const Editor &e : m_editors)
        setEditorValue(e, explain::rawValue(m_session->table.column(e.column), m_row));
    m_filling = false;
    updateEditedMarks();
}

QVariant ExplainPredictionView::editorValue(const Editor &e) const
{
    if (auto *combo = qobject_cast<QComboBox *>(e.widget)) {
        if (combo->currentIndex() < 0 || combo->currentIndex() == combo->count() - 1)
            return {};
        if (e.type == data::ColumnType::Bool)
            return combo->currentIndex() == 1;
        return combo->currentText();
    }
    if (auto *spin = qobject_cast<QDoubleSpinBox *>(e.widget)) {
        if (spin->value() <= spin->minimum())
            return {};
        if (e.type == data::ColumnType::Int64)
            return qlonglong(std::llround(spin->value()));
        return spin->value();
    }
    if (auto *edit = qobject_cast<QDateTimeEdit *>(e.widget)) {
        if (edit->dateTime() <= edit->minimumDateTime())
            return {};
        return edit->dateTime().toUTC();
    }
    return {};
}

bool ExplainPredictionView::setEditorValue(const Editor &e, const QVariant &value)
{
    const bool missing = !value.isValid() || value.isNull();
    if (auto *combo = qobject_cast<QComboBox *>(e.widget)) {
        int index = combo->count() - 1;
        if (!missing) {
            if (e.type == data::ColumnType::Bool) {
                const QString t = value.toString().toLower();
                index = (value.metaType().id() == QMetaType::Bool ? value.toBool() : t == u"true" || t == u"1") ? 1 : 0;
            } else {
                index = combo->findText(value.toString());
                if (index < 0) {
                    // A value of the row that the category list lacks (e.g. a new category): offer it.
                    combo->insertItem(combo->count() - 1, value.toString());
                    index = combo->count() - 2;
                }
            }
        }
        combo->setCurrentIndex(index);
        return true;
    }
    if (auto *spin = qobject_cast<QDoubleSpinBox *>(e.widget)) {
        if (missing) {
            spin->setValue(spin->minimum());
            return true;
        }
        bool ok = false;
        const double v = value.toDouble(&ok);
        if (!ok || !std::isfinite(v) || std::abs(v) >= kHugeNumber)
            return false;
        spin->setValue(v);
        return true;
    }
    if (auto *edit = qobject_cast<QDateTimeEdit *>(e.widget)) {
        if (missing) {
            edit->setDateTime(edit->minimumDateTime());
            return true;
        }
        QDateTime dt = value.metaType().id() == QMetaType::QDateTime ? value.toDateTime()
                                                                     : QDateTime::fromString(value.toString(), Qt::ISODateWithMs);
        if (!dt.isValid())
            return false;
        edit->setDateTime(dt.toUTC());
        return true;
    }
    return false;
}

bool ExplainPredictionView::sameValue(const Editor &e, const QVariant &a, const QVariant &b) const
{
    const bool ma = !a.isValid() || a.isNull(), mb = !b.isValid() || b.isNull();
    if (ma || mb)
        return ma == mb;
    switch (e.type) {
    case data::ColumnType::Int64:
    case data::ColumnType::Float64:
        return QString::number(a.toDouble(), 'f', e.decimals) == QString::number(b.toDouble(), 'f', e.decimals);
    case data::ColumnType::Datetime:
        return a.toDateTime().toMSecsSinceEpoch() / 1000 == b.toDateTime().toMSecsSinceEpoch() / 1000;
    case data::ColumnType::Bool:
        return a.toBool() == b.toBool();
    case data::ColumnType::Categorical:
    case data::ColumnType::String:
        break;
    }
    return a.toString() == b.toString();
}

QVariantMap ExplainPredictionView::edits() const
{
    QVariantMap out;
    if (!m_session || m_row < 0)
        return out;
    for (const Editor &e : m_editors) {
        const QVariant current = editorValue(e);
        if (!sameValue(e, current, explain::rawValue(m_session->table.column(e.column), m_row)))
            out.insert(e.feature, current);
    }
    return out;
}

bool ExplainPredictionView::setEdit(const QString &feature, const QVariant &value)
{
    for (const Editor &e : m_editors)
        if (e.feature == feature)
            return setEditorValue(e, value);
    return false;
}

void ExplainPredictionView::resetEdits()
{
    fillEditors();
    onEdited();
}

void ExplainPredictionView::setChangeable(const QString &feature, bool changeable)
{
    for (const Editor &e : m_editors)
        if (e.feature == feature)
            e.changeable->setChecked(changeable);
}

QStringList ExplainPredictionView::changeableFeatures() const
{
    QStringList out;
    for (const Editor &e : m_editors)
        if (e.changeable->isChecked())
            out << e.feature;
    return out;
}

void ExplainPredictionView::updateEditedMarks()
{
    const QVariantMap current = edits();
    for (const Editor &e : m_editors) {
        QFont f = e.changeable->font();
        f.setBold(current.contains(e.feature));
        e.changeable->setFont(f);
        const QVariant original = m_session && m_row >= 0 ? explain::rawValue(m_session->table.column(e.column), m_row) : QVariant();
        e.widget->setToolTip(current.contains(e.feature) ? QStringLiteral("Edited; the row has %1").arg(valueText(original))
                                                         : QString());
    }
}

void ExplainPredictionView::onEdited()
{
    if (m_filling || !m_session || m_row < 0)
        return;
    updateEditedMarks();
    m_whatIfTimer.start();
}

void ExplainPredictionView::runWhatIf()
{
    if (!m_session || m_row < 0)
        return;
    const QVariantMap edits = this->edits();
    if (edits.isEmpty()) {
        m_tasks->cancelGroup(m_group + QStringLiteral("whatif"));
        m_whatIf.reset();
        m_whatIfAttribution.reset();
        if (m_local)
            showLocal();
        emit whatIfShown();
        return;
    }
    std::shared_ptr<const ExplainSession> session = m_session;
    const quint64 generation = m_generation;
    const qint64 row = m_row;
    m_whatIfTask = m_tasks->start<WhatIfOutcome>(
        QStringLiteral("What-if on row %1").arg(row + 1), m_group + QStringLiteral("whatif"),
        [session, row, edits](Feedback &fb) -> Expected<WhatIfOutcome> {
            const explain::ModelContext &ctx = session->model.ctx;
            auto result = explain::whatIf(ctx, session->table, row, edits, nullptr, {}, 0.5, &fb);
            if (!result)
                return result.error();
            auto edited = explain::editedRow(session->table, row, edits);
            if (!edited)
                return edited.error();
            auto attribution = attributeRows(*session, *edited, &fb);
            if (!attribution)
                return attribution.error();
            auto values = ctx.featureValues(*edited);
            if (!values)
                return values.error();
            WhatIfOutcome out{std::move(*result), std::move(*attribution), {}};
            for (const QString &f : out.attribution.features) {
                QString shown;
                for (const explain::FeatureValues &v : *values)
                    if (v.name == f)
                        shown = v.display(0);
                out.values << shown;
            }
            return out;
        },
        this,
        [this, session, generation, edits](Expected<WhatIfOutcome> &&outcome) {
            if (session != m_session || generation != m_generation || edits != this->edits())
                return;
            m_whatIfTask = 0;
            if (!outcome) {
                m_whatIf.reset();
                m_whatIfAttribution.reset();
                m_prediction->setText(QStringLiteral("What-if failed: ") + outcome.error().toString().toHtmlEscaped());
                emit whatIfShown();
                return;
            }
            m_whatIf = outcome->result;
            m_whatIfAttribution = outcome->attribution;
            const explain::Attribution &a = outcome->attribution;
            const int picked = m_classPicker->currentData().toInt();
            const int k = picked >= 0 && picked < a.outputs ? picked
                                                           : explain::explainedOutput(session->model.ctx.task(), outcome->result.editedPrediction);
            std::vector<double> contributions;
            for (int f = 0; f < a.featureCount(); ++f)
                contributions.push_back(a.value(0, k, f));
            Waterfall w = makeWaterfall(a.features, contributions, outcome->values, a.base[size_t(k)]);
            w.title = QStringLiteral("Row %1 with %2 edited: %3 contributions").arg(m_row + 1).arg(edits.keys().join(QStringLiteral(", ")), a.method);
            w.axisTitle = outputName(k);
            if (m_local && m_local->output == k) {
                w.reference = m_local->margin;
                w.referenceLabel = QStringLiteral("before edits");
            }
            showWaterfall(w);
            updatePredictionLabel();
            emit whatIfShown();
        });
    emit taskStarted(m_whatIfTask);
}

// ---------------------------------------------------------------------------------------------------------------
// Counterfactual

void ExplainPredictionView::findCounterfactual()
{
    if (!m_session || m_row < 0 || m_session->model.ctx.task() == ml::Task::Regression)
        return;
    std::shared_ptr<const ExplainSession> session = m_session;
    const quint64 generation = m_generation;
    const qint64 row = m_row;
    explain::CounterfactualOptions options;
    options.features = changeableFeatures();
    if (options.features.isEmpty()) {
        m_counterfactual.reset();
        m_cfResult->setText(QStringLiteral("Tick at least one feature that may change."));
        emit counterfactualShown();
        return;
    }
    m_cfResult->setText(QStringLiteral("Searching among %1 features\u2026").arg(options.features.size()));
    m_cfApply->setVisible(false);
    m_cfTask = m_tasks->start<explain::Counterfactual>(
        QStringLiteral("Counterfactual for row %1").arg(row + 1), m_group + QStringLiteral("counterfactual"),
        [session, row, options](Feedback &fb) {
            return explain::findCounterfactual(session->model.ctx, session->table, row, session->reference, options, &fb);
        },
        this, [this, session, generation](Expected<explain::Counterfactual> &&cf) {
            if (session != m_session || generation != m_generation)
                return;
            m_cfTask = 0;
            if (!cf) {
                m_counterfactual.reset();
                m_cfResult->setText(QStringLiteral("Counterfactual search failed: ") + cf.error().toString().toHtmlEscaped());
                m_cfApply->setVisible(false);
                emit counterfactualShown();
                return;
            }
            m_counterfactual = std::move(*cf);
            showCounterfactual();
            emit counterfactualShown();
        });
    emit taskStarted(m_cfTask);
}

void ExplainPredictionView::showCounterfactual()
{
    if (!m_counterfactual || !m_session)
        return;
    const explain::Counterfactual &cf = *m_counterfactual;
    const QStringList classes = cf.classes;
    if (!cf.found) {
        m_cfResult->setText(QStringLiteral("<b>No counterfactual found within limits</b> (%1 candidates scored; best "
                                           "probability of another class reached: %2).")
                                .arg(cf.evaluated)
                                .arg(num(cf.newProbability)));
        m_cfApply->setVisible(false);
        return;
    }
    QString text = QStringLiteral("<b>Counterfactual</b>: %1 \u2192 <b>%2</b><ul style=\"margin-left:12px\">")
                       .arg(classes.value(cf.originalClass).toHtmlEscaped(), classes.value(cf.newClass).toHtmlEscaped());
    for (const explain::CounterfactualChange &c : cf.changes)
        text += QStringLiteral("<li>%1: %2 \u2192 <b>%3</b></li>")
                    .arg(c.feature.toHtmlEscaped(), valueText(c.from).toHtmlEscaped(), valueText(c.to).toHtmlEscaped());
    text += QStringLiteral("</ul>P(%1): %2 \u2192 <b>%3</b> \u00b7 distance %4 \u00b7 %5 candidates scored")
                .arg(classes.value(cf.newClass).toHtmlEscaped(), num(cf.originalProbability), num(cf.newProbability),
                     num(cf.distance))
                .arg(cf.evaluated);
    m_cfResult->setText(text);
    m_cfApply->setVisible(true);
}

void ExplainPredictionView::applyCounterfactual()
{
    if (!m_counterfactual || !m_counterfactual->found)
        return;
    const QVariantMap edits = m_counterfactual->edits();
    for (auto it = edits.begin(); it != edits.end(); ++it)
        setEdit(it.key(), it.value());
}

// ---------------------------------------------------------------------------------------------------------------
// Search

void ExplainPredictionView::search(const QString &text)
{
    if (!m_session)
        return;
    m_tasks->cancelGroup(m_group + QStringLiteral("search"));
    if (text.trimmed().isEmpty()) {
        m_rowModel->setRowIndex({});
        m_searchCount->clear();
        emit searchFinished(m_session->table.rowCount());
        return;
    }
    std::shared_ptr<const ExplainSession> session = m_session;
    m_searchCount->setText(QStringLiteral("searching\u2026"));
    const quint64 id = m_tasks->start<std::vector<qint64>>(
        QStringLiteral("Find rows containing \u201c%1\u201d").arg(text), m_group + QStringLiteral("search"),
        [session, text](Feedback &fb) { return searchRows(session->table, text, kSearchLimit, &fb); }, this,
        [this, session](Expected<std::vector<qint64>> &&rows) {
            if (session != m_session)
                return;
            if (!rows) {
                m_searchCount->setText(rows.error().toString());
                emit searchFinished(0);
                return;
            }
            const qint64 n = qint64(rows->size());
            const bool hasCurrent = std::find(rows->begin(), rows->end(), m_row) != rows->end();
            const qint64 first = n ? rows->front() : -1;
            m_rowModel->setRowIndex(std::make_shared<const RowIndex>(std::move(*rows)));
            m_searchCount->setText(n == 0 ? QStringLiteral("no rows match")
                                   : n >= kSearchLimit ? QStringLiteral("first %1 matching rows").arg(n)
                                                       : QStringLiteral("%1 matching row%2").arg(n).arg(n == 1 ? QString() : QStringLiteral("s")));
            if (n > 0 && !hasCurrent)
                pickRow(first);
            else if (hasCurrent)
                selectInTable(m_row);
            emit searchFinished(n);
        });
    emit taskStarted(id);
}

} // namespace keel::ui
