#include "explainglobal.h"

#include "explaincharts.h"
#include "taskmanager.h"

#include <QComboBox>
#include <QHeaderView>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLocale>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>

namespace keel::ui {

namespace {

QString num(double v, int digits = 3)
{
    return std::isfinite(v) ? QLocale::c().toString(v, 'g', digits) : QStringLiteral("\u2013");
}

} // namespace

ExplainGlobalView::ExplainGlobalView(TaskManager *tasks, const QString &taskGroup, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_group(taskGroup), m_info(new QLabel(this)), m_featurePicker(new QComboBox(this)),
      m_colourPicker(new QComboBox(this)), m_classPicker(new QComboBox(this)),
      m_classLabel(new QLabel(QStringLiteral("Class:"), this)), m_featureTable(new QTableWidget(this)),
      m_importanceTabs(new QTabWidget(this)), m_importanceChart(new ExplainChartView(this)),
      m_beeswarmChart(new ExplainChartView(this)), m_dependenceChart(new ExplainChartView(this)),
      m_pdpChart(new ExplainChartView(this)), m_permutationChart(new ExplainChartView(this))
{
    m_info->setWordWrap(true);
    m_info->setTextFormat(Qt::RichText);
    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_featurePicker->setMinimumContentsLength(16);
    m_featurePicker->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_featurePicker->setToolTip(QStringLiteral("Feature shown by the dependence and partial dependence plots"));
    m_colourPicker->setMinimumContentsLength(16);
    m_colourPicker->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_colourPicker->setToolTip(QStringLiteral("Feature whose value colours the dependence plot"));

    m_classPicker->setObjectName(QStringLiteral("globalClass"));
    m_classPicker->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_classPicker->setToolTip(QStringLiteral("The class whose score the global views explain (case matters in class labels)"));
    m_featureTable->setObjectName(QStringLiteral("globalFeatureTable"));
    m_featureTable->setColumnCount(4);
    m_featureTable->setHorizontalHeaderLabels({QStringLiteral("#"), QStringLiteral("Feature"), QStringLiteral("Mean |SHAP|"),
                                               QStringLiteral("Permutation drop")});
    m_featureTable->verticalHeader()->hide();
    m_featureTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_featureTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_featureTable->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_featureTable->setSortingEnabled(false);
    connect(m_featureTable, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (QTableWidgetItem *item = m_featureTable->item(row, 1))
            showFeature(item->text());
    });
    m_importanceTabs->setObjectName(QStringLiteral("importanceTabs"));
    m_importanceTabs->setDocumentMode(true);
    m_importanceTabs->addTab(m_importanceChart, QStringLiteral("Top features"));
    m_importanceTabs->addTab(m_featureTable, QStringLiteral("All features"));
    auto *top = new QSplitter(Qt::Horizontal);
    top->addWidget(m_importanceTabs);
    top->addWidget(m_beeswarmChart);
    top->setStretchFactor(0, 2);
    top->setStretchFactor(1, 3);
    top->setChildrenCollapsible(false);

    auto *pickers = new QHBoxLayout;
    pickers->setContentsMargins(4, 0, 4, 0);
    pickers->addWidget(new QLabel(QStringLiteral("Feature:")));
    pickers->addWidget(m_featurePicker);
    pickers->addSpacing(12);
    pickers->addWidget(new QLabel(QStringLiteral("Colour by:")));
    pickers->addWidget(m_colourPicker);
    pickers->addSpacing(12);
    pickers->addWidget(m_classLabel);
    pickers->addWidget(m_classPicker);
    pickers->addStretch();
    auto *charts = new QSplitter(Qt::Horizontal);
    charts->addWidget(m_dependenceChart);
    charts->addWidget(m_pdpChart);
    charts->addWidget(m_permutationChart);
    charts->setChildrenCollapsible(false);
    auto *bottom = new QWidget;
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    bottomLayout->setSpacing(2);
    bottomLayout->addLayout(pickers);
    bottomLayout->addWidget(charts, 1);

    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(bottom);
    split->setChildrenCollapsible(false);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_info);
    layout->addWidget(split, 1);

    connect(m_featurePicker, &QComboBox::currentTextChanged, this, [this](const QString &f) {
        if (!m_updatingPickers && !f.isEmpty())
            showFeature(f);
    });
    connect(m_colourPicker, &QComboBox::currentTextChanged, this, [this](const QString &f) {
        if (!m_updatingPickers && !f.isEmpty())
            setColourFeature(f);
    });
    connect(m_classPicker, &QComboBox::currentIndexChanged, this, [this](int) {
        if (m_updatingPickers || !m_session)
            return;
        m_requestedClass = m_classPicker->currentData().toInt();
        m_summary.reset();
        m_pdpCache.clear();
        m_pdp.reset();
        m_tasks->cancelGroup(m_group + QStringLiteral("global"));
        m_tasks->cancelGroup(m_group + QStringLiteral("pdp"));
        start();
    });
    connect(m_tasks, &TaskManager::taskEnded, this, [this](quint64 id, TaskState state) {
        if (id == m_taskId && state == TaskState::Cancelled) {
            m_taskId = 0;
            m_computing = false;
            setMessage(QStringLiteral("Cancelled (show this tab again to compute)"));
        }
    });
    setMessage(QStringLiteral("No model selected"));
}

void ExplainGlobalView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_session && !m_computing && !m_summary)
        start();
}

void ExplainGlobalView::setMessage(const QString &message)
{
    for (ExplainChartView *v : {m_importanceChart, m_beeswarmChart, m_dependenceChart, m_pdpChart, m_permutationChart})
        v->setMessage(message);
    m_info->setText(QString());
    m_featurePicker->setEnabled(false);
    m_colourPicker->setEnabled(false);
}

void ExplainGlobalView::setSession(std::shared_ptr<const ExplainSession> session)
{
    m_session = std::move(session);
    m_report = {};
    m_order.clear();
    m_importance.clear();
    m_summary.reset();
    m_permutation.reset();
    m_pdp.reset();
    m_pdpCache.clear();
    m_feature.clear();
    m_colourFeature.clear();
    m_computing = false;
    m_taskId = 0;
    m_requestedClass = -1;
    m_tasks->cancelGroup(m_group + QStringLiteral("global"));
    m_tasks->cancelGroup(m_group + QStringLiteral("pdp"));
    m_updatingPickers = true;
    m_classPicker->clear();
    const bool multiclass = m_session && m_session->model.ctx.task() == ml::Task::MulticlassClassification;
    if (multiclass) {
        const QStringList classes = m_session->model.ctx.classes();
        for (qsizetype i = 0; i < classes.size(); ++i)
            m_classPicker->addItem(classes[i], int(i));
    }
    m_updatingPickers = false;
    m_classPicker->setVisible(multiclass);
    m_classLabel->setVisible(multiclass);
    if (!m_session) {
        setMessage(QStringLiteral("No model selected"));
        return;
    }
    start();
}

void ExplainGlobalView::start()
{
    m_computing = true;
    setMessage(QStringLiteral("Computing global explanations\u2026"));
    std::shared_ptr<const ExplainSession> session = m_session;
    explain::ExplainRequest request;
    request.global = true;
    request.globalRows = kGlobalRows;
    request.output = m_requestedClass;
    m_taskId = m_tasks->start<explain::ExplainResult>(
        QStringLiteral("Explain %1 on %2").arg(session->model.runName, session->dataRef), m_group + QStringLiteral("global"),
        [session, request](Feedback &fb) { return runExplainRequest(*session, request, &fb); }, this,
        [this, session](Expected<explain::ExplainResult> &&result) {
            if (session != m_session)
                return;
            m_computing = false;
            m_taskId = 0;
            if (!result) {
                setMessage(QStringLiteral("Global explanation failed: ") + result.error().toString());
                emit statusMessage(result.error().toString());
                return;
            }
            if (Status s = showReport(result->report); !s) {
                setMessage(QStringLiteral("The explanation report does not parse: ") + s.message());
                return;
            }
            emit statusMessage(result->cached ? QStringLiteral("Global explanation of %1 read from its stored artifact %2")
                                                    .arg(session->model.runName, result->artifactName)
                                              : QStringLiteral("Global explanation of %1 computed and stored as %2")
                                                    .arg(session->model.runName, result->artifactName));
        });
    emit taskStarted(m_taskId);
}

Status ExplainGlobalView::showReport(const explain::ExplanationReport &report)
{
    if (!report.global)
        return makeError(QStringLiteral("the report has no global explanation"), {}, -1, QStringLiteral("global"));
    const explain::GlobalExplanation &global = *report.global;
    if (!global.permutation)
        return makeError(QStringLiteral("the report has no permutation importance"), {}, -1, QStringLiteral("global.permutation"));
    const QStringList order = global.order();
    std::vector<double> importance;
    for (const explain::FeatureImportance &f : global.importance)
        importance.push_back(f.meanAbsShap);

    m_report = report;
    m_order = order;
    m_importance = importance;
    m_summary = global.summary;
    m_permutation = *global.permutation;
    m_pdpCache.clear();
    if (global.pdp)
        m_pdpCache[global.pdp->feature] = *global.pdp;

    const bool multiclass = report.task == ml::Task::MulticlassClassification;
    // The margin the SHAP values add up to, naming the class for multiclass models ("score of hid").
    const QString marginWord = multiclass ? explain::marginName(report.task, report.classes, global.output)
                                          : explain::marginUnit(report.task);
    m_info->setText(QStringLiteral("<b>%1</b> of <b>%2</b> on <b>%3</b> (%4 rows; %5 sampled) \u00b7 base value %6 (%7) "
                                   "\u00b7 largest additivity residual %8 \u00b7 permutation metric %9")
                        .arg(m_summary->method.toHtmlEscaped(), report.runName.toHtmlEscaped(), report.data.toHtmlEscaped(),
                             QString::number(report.populationRows), QString::number(global.rows), num(global.base, 4),
                             marginWord.toHtmlEscaped(), num(global.maxAbsResidual, 2), m_permutation->metric)
                    + (multiclass && m_requestedClass < 0 ? QStringLiteral(" \u00b7 the most frequent class by default") : QString()));
    m_updatingPickers = true;
    m_classPicker->setCurrentIndex(m_classPicker->findData(global.output));
    m_updatingPickers = false;

    // Bars and beeswarm rows: as many of the top features as the charts' height holds (at most kTopFeatures); the
    // importance chart sums the rest into "other", and the All features tab lists every one.
    const QStringList features = order;
    ExplainChartView *importanceView = m_importanceChart;
    m_importanceChart->setBuilder([features, importance, marginWord, importanceView](const QPalette &p) {
        const int top = importanceView->rowsThatFit(5, kTopFeatures);
        const QString title = features.size() > top ? QStringLiteral("Mean |SHAP value| (top %1 of %2)").arg(top - 1).arg(features.size())
                                                    : QStringLiteral("Mean |SHAP value|");
        return makeImportanceChart(features, importance, title, QStringLiteral("mean |SHAP value| (%1)").arg(marginWord), p, top);
    });
    m_importanceTabs->setTabText(0, QStringLiteral("Top features"));
    m_importanceTabs->setTabText(1, QStringLiteral("All %1 features").arg(features.size()));
    fillFeatureTable(global);
    auto sharedSummary = std::make_shared<const explain::ShapSummary>(*m_summary);
    ExplainChartView *beeswarmView = m_beeswarmChart;
    m_beeswarmChart->setBuilder([sharedSummary, marginWord, beeswarmView](const QPalette &p) {
        return makeBeeswarmChart(*sharedSummary, marginWord, p, beeswarmView->rowsThatFit(5, kTopFeatures));
    });
    const explain::PermutationImportance perm = *m_permutation;
    ExplainChartView *permutationView = m_permutationChart;
    m_permutationChart->setBuilder(
        [perm, permutationView](const QPalette &p) { return makePermutationChart(perm, p, permutationView->rowsThatFit(5, kTopFeatures)); });

    const QString colour = global.dependence ? global.dependence->colourFeature : QString();
    const QString feature = global.pdp ? global.pdp->feature : order.front();
    m_updatingPickers = true;
    m_featurePicker->clear();
    m_featurePicker->addItems(order);
    m_colourPicker->clear();
    m_colourPicker->addItems(order);
    m_updatingPickers = false;
    m_featurePicker->setEnabled(true);
    m_colourPicker->setEnabled(true);
    m_colourFeature = order.contains(colour) ? colour : QString();
    showFeature(feature);
    emit reportShown();
    return Status::ok();
}

void ExplainGlobalView::fillFeatureTable(const explain::GlobalExplanation &global)
{
    std::map<QString, std::pair<double, double>> permutation;   // feature -> (mean drop, std)
    if (global.permutation)
        for (size_t i = 0; i < size_t(global.permutation->features.size()); ++i)
            permutation[global.permutation->features[qsizetype(i)]] = {global.permutation->mean[i], global.permutation->std[i]};
    m_featureTable->setRowCount(int(global.importance.size()));
    for (size_t i = 0; i < global.importance.size(); ++i) {
        const explain::FeatureImportance &f = global.importance[i];
        auto *rank = new QTableWidgetItem(QString::number(i + 1));
        rank->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        auto *value = new QTableWidgetItem(num(f.meanAbsShap, 4));
        value->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        const auto it = permutation.find(f.feature);
        auto *drop = new QTableWidgetItem(it == permutation.end() ? QStringLiteral("\u2013")
                                                                  : QStringLiteral("%1 \u00b1 %2").arg(num(it->second.first, 3),
                                                                                                        num(it->second.second, 2)));
        drop->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        m_featureTable->setItem(int(i), 0, rank);
        m_featureTable->setItem(int(i), 1, new QTableWidgetItem(f.feature));
        m_featureTable->setItem(int(i), 2, value);
        m_featureTable->setItem(int(i), 3, drop);
    }
    m_featureTable->resizeColumnToContents(0);
    m_featureTable->resizeColumnToContents(2);
    m_featureTable->resizeColumnToContents(3);
}

bool ExplainGlobalView::showFeature(const QString &feature)
{
    if (!m_summary || !m_order.contains(feature))
        return false;
    m_feature = feature;
    if (m_colourFeature.isEmpty() || m_colourFeature == feature) {
        m_colourFeature.clear();
        for (const QString &f : std::as_const(m_order))
            if (f != feature) {
                m_colourFeature = f;
                break;
            }
    }
    m_updatingPickers = true;
    m_featurePicker->setCurrentText(feature);
    m_colourPicker->setCurrentText(m_colourFeature);
    m_updatingPickers = false;
    updateDependence();

    if (auto it = m_pdpCache.find(feature); it != m_pdpCache.end()) {
        showPdp(it->second);
        return true;
    }
    if (!m_session)
        return true;
    m_pdp.reset();
    m_pdpChart->setMessage(QStringLiteral("Computing partial dependence on %1\u2026").arg(feature));
    std::shared_ptr<const ExplainSession> session = m_session;
    explain::PartialDependenceOptions options;
    options.feature = feature;
    options.maxRows = kGlobalRows;
    options.seed = 1;
    if (session->model.ctx.task() == ml::Task::MulticlassClassification)
        options.classIndex = std::max(0, explainedClass());
    const quint64 id = m_tasks->start<explain::PartialDependence>(
        QStringLiteral("Partial dependence on %1").arg(feature), m_group + QStringLiteral("pdp"),
        [session, options](Feedback &fb) { return explain::partialDependence(session->model.ctx, session->table, options, &fb); },
        this, [this, session, feature](Expected<explain::PartialDependence> &&pd) {
            if (session != m_session)
                return;
            if (!pd) {
                if (m_feature == feature)
                    m_pdpChart->setMessage(QStringLiteral("Partial dependence failed: ") + pd.error().toString());
                return;
            }
            m_pdpCache[feature] = *pd;
            if (m_feature == feature)
                showPdp(*pd);
        });
    emit taskStarted(id);
    return true;
}

bool ExplainGlobalView::setColourFeature(const QString &feature)
{
    if (!m_summary || !m_order.contains(feature))
        return false;
    m_colourFeature = feature;
    m_updatingPickers = true;
    m_colourPicker->setCurrentText(feature);
    m_updatingPickers = false;
    updateDependence();
    return true;
}

void ExplainGlobalView::updateDependence()
{
    if (!m_summary)
        return;
    auto summary = std::make_shared<const explain::ShapSummary>(*m_summary);
    const QString feature = m_feature, colour = m_colourFeature;
    m_dependenceChart->setBuilder(
        [summary, feature, colour](const QPalette &p) { return makeDependenceChart(*summary, feature, colour, p); });
}

void ExplainGlobalView::showPdp(const explain::PartialDependence &pd)
{
    m_pdp = pd;
    m_pdpChart->setBuilder([pd](const QPalette &p) { return makePdpChart(pd, p); });
    emit featureShown(pd.feature);
}

} // namespace keel::ui
