#include "runview.h"

#include "catalogmodel.h"
#include "charts.h"
#include "emptystate.h"
#include "runcharts.h"
#include "runtablemodel.h"
#include "trainingprocess.h"

#include <QtCharts/QChart>
#include <QtCharts/QChartView>

#include <QComboBox>
#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSlider>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace keel::ui {

namespace {

QTableWidget *makeTable(const QStringList &headers, QWidget *parent, const QString &name)
{
    auto *t = new QTableWidget(0, int(headers.size()), parent);
    t->setObjectName(name);
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 6);
    t->horizontalHeader()->setStretchLastSection(true);
    t->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setAlternatingRowColors(true);
    t->setWordWrap(false);
    return t;
}

void fillTable(QTableWidget *t, const std::vector<QStringList> &rows, const std::vector<int> &rightAligned = {})
{
    t->setRowCount(int(rows.size()));
    for (int r = 0; r < int(rows.size()); ++r) {
        for (int c = 0; c < int(rows[size_t(r)].size()) && c < t->columnCount(); ++c) {
            auto *item = new QTableWidgetItem(rows[size_t(r)][c]);
            item->setToolTip(rows[size_t(r)][c]);
            if (std::find(rightAligned.begin(), rightAligned.end(), c) != rightAligned.end())
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            t->setItem(r, c, item);
        }
    }
    t->resizeColumnToContents(0);
    t->setColumnWidth(0, std::min(t->columnWidth(0) + 12, 260));
}

QLabel *sectionLabel(const QString &text, QWidget *parent)
{
    auto *l = new QLabel(QStringLiteral("<b>%1</b>").arg(text), parent);
    l->setContentsMargins(0, 4, 0, 0);
    return l;
}

QChartView *makeChartView(QWidget *parent)
{
    auto *v = new QChartView(parent);
    v->setRenderHint(QPainter::Antialiasing);
    v->setFrameShape(QFrame::NoFrame);
    v->setMinimumSize(260, 220);
    return v;
}

void replaceChart(QChartView *view, QChart *chart)
{
    QChart *old = view->chart();
    view->setChart(chart);
    delete old;
}

/// ("train", "logloss") from "train.logloss".
/// "curve.validation.logloss" -> ("validation", "logloss").
std::pair<QString, QString> splitCurveKey(const QString &key)
{
    const QString name = tracking::curveName(key);
    const qsizetype dot = name.indexOf(QLatin1Char('.'));
    return {name.left(dot), name.mid(dot + 1)};
}

QString runLabel(const RunSet *runs, const QString &id)
{
    if (runs)
        if (const tracking::RunSummary *s = runs->find(id); s && !s->run.name.isEmpty())
            return s->run.name + QStringLiteral(" (") + id.left(8) + QLatin1Char(')');
    return id.left(8);
}

} // namespace

RunView::RunView(QWidget *parent)
    : QWidget(parent), m_stack(new QStackedWidget(this)),
      m_empty(new EmptyState(QStringLiteral("No run selected"),
                             QStringLiteral("Pick a run in the table to see its parameters, metrics, curves and lineage, "
                                            "or select two or more runs to compare them."),
                             this)),
      m_title(new QLabel(this)), m_subtitle(new QLabel(this)), m_error(new QLabel(this)), m_progress(new QProgressBar(this)),
      m_branch(new QPushButton(QStringLiteral("Branch from This Run\u2026"), this)),
      m_register(new QPushButton(QStringLiteral("Register as Model\u2026"), this)),
      m_cancel(new QPushButton(QStringLiteral("Cancel Run"), this)), m_tabs(new QTabWidget(this)),
      m_params(makeTable({QStringLiteral("Parameter"), QStringLiteral("Value")}, this, QStringLiteral("runParams"))),
      m_metrics(makeTable({QStringLiteral("Final metric"), QStringLiteral("Value")}, this, QStringLiteral("runMetrics"))),
      m_tags(makeTable({QStringLiteral("Tag"), QStringLiteral("Value")}, this, QStringLiteral("runTags"))),
      m_lineage(new QLabel(this)), m_curvesStack(new QStackedWidget(this)),
      m_noCurves(new EmptyState(QStringLiteral("No training curves"), QString(), this)), m_curvesPage(new QWidget(this)),
      m_curvesGrid(new QGridLayout(m_curvesPage)), m_evaluationStack(new QStackedWidget(this)),
      m_noEvaluation(new EmptyState(QStringLiteral("No evaluation curves"), QString(), this)),
      m_confusion(new ConfusionMatrixWidget(this)), m_confusionMode(new QComboBox(this)),
      m_zoom(new QSlider(Qt::Horizontal, this)), m_confusions(new QLabel(this)), m_classBar(new QWidget(this)),
      m_classPicker(new QComboBox(this)), m_ovrSummary(new QLabel(this)), m_roc(makeChartView(this)), m_pr(makeChartView(this)),
      m_calibration(makeChartView(this)), m_config(new QPlainTextEdit(this)),
      m_artifacts(makeTable({QStringLiteral("Artifact"), QStringLiteral("Kind"), QStringLiteral("Size"), QStringLiteral("Object")},
                            this, QStringLiteral("runArtifacts")))
{
    setObjectName(QStringLiteral("runView"));
    m_title->setObjectName(QStringLiteral("runTitle"));
    m_title->setTextFormat(Qt::RichText);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_subtitle->setWordWrap(true);
    m_subtitle->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_subtitle->setForegroundRole(QPalette::PlaceholderText);
    m_error->setWordWrap(true);
    m_error->setObjectName(QStringLiteral("runError"));
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->hide();
    m_progress->setObjectName(QStringLiteral("runProgress"));
    m_progress->hide();
    m_branch->setObjectName(QStringLiteral("branchButton"));
    m_branch->setToolTip(QStringLiteral("Open the New Run dialog filled in from this run's config; the new run records this one as its parent"));
    m_cancel->setObjectName(QStringLiteral("cancelRunButton"));
    m_cancel->setToolTip(QStringLiteral("Stop the training process; the run is recorded as killed"));
    m_cancel->hide();
    connect(m_branch, &QPushButton::clicked, this, [this] {
        if (m_details)
            emit branchRequested(m_details->run.id);
    });
    m_register->setObjectName(QStringLiteral("registerButton"));
    m_register->setToolTip(QStringLiteral("Register this finished run as the next version of a model in the registry"));
    connect(m_register, &QPushButton::clicked, this, [this] {
        if (m_details)
            emit registerRequested(m_details->run.id);
    });
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_details)
            emit cancelRequested(m_details->run.id);
    });

    auto *titleRow = new QHBoxLayout;
    titleRow->addWidget(m_title, 1);
    titleRow->addWidget(m_cancel);
    titleRow->addWidget(m_register);
    titleRow->addWidget(m_branch);

    // Overview: params on the left; final metrics, lineage and tags on the right.
    m_lineage->setObjectName(QStringLiteral("runLineage"));
    m_lineage->setTextFormat(Qt::RichText);
    m_lineage->setWordWrap(true);
    m_lineage->setTextInteractionFlags(Qt::TextBrowserInteraction);
    m_lineage->setOpenExternalLinks(false);
    m_lineage->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    connect(m_lineage, &QLabel::linkActivated, this, &RunView::onLinkActivated);
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(sectionLabel(QStringLiteral("Parameters"), left));
    leftLayout->addWidget(m_params, 1);
    auto *right = new QWidget(this);
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(sectionLabel(QStringLiteral("Final metrics"), right));
    rightLayout->addWidget(m_metrics, 3);
    rightLayout->addWidget(sectionLabel(QStringLiteral("Lineage"), right));
    rightLayout->addWidget(m_lineage);
    rightLayout->addWidget(sectionLabel(QStringLiteral("Tags"), right));
    rightLayout->addWidget(m_tags, 2);
    auto *overview = new QSplitter(this);
    overview->setObjectName(QStringLiteral("runOverviewSplitter"));
    overview->addWidget(left);
    overview->addWidget(right);
    overview->setSizes({380, 420});

    // Curves: one chart per metric, train and validation lines.
    m_curvesGrid->setContentsMargins(0, 0, 0, 0);
    auto *curvesScroll = new QScrollArea(this);
    curvesScroll->setWidget(m_curvesPage);
    curvesScroll->setWidgetResizable(true);
    curvesScroll->setFrameShape(QFrame::NoFrame);
    m_curvesStack->addWidget(m_noCurves);
    m_curvesStack->addWidget(curvesScroll);

    // Evaluation: confusion matrix, ROC, precision-recall and calibration.
    m_confusion->setObjectName(QStringLiteral("confusionMatrix"));
    m_confusionMode->setObjectName(QStringLiteral("confusionMode"));
    m_confusionMode->addItem(QStringLiteral("Share of actual class"));
    m_confusionMode->addItem(QStringLiteral("Counts"));
    m_confusionMode->setToolTip(QStringLiteral("Shade and label cells by their share of the actual class's rows, or by count"));
    m_zoom->setObjectName(QStringLiteral("confusionZoom"));
    m_zoom->setRange(8, 96);
    m_zoom->setValue(m_confusion->zoom());
    m_zoom->setMaximumWidth(140);
    m_zoom->setToolTip(QStringLiteral("Smallest cell size: larger cells show their numbers, the matrix scrolls"));
    m_confusions->setObjectName(QStringLiteral("largestConfusions"));
    m_confusions->setWordWrap(true);
    m_confusions->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *confusionScroll = new QScrollArea(this);
    confusionScroll->setWidget(m_confusion);
    confusionScroll->setWidgetResizable(true);
    confusionScroll->setFrameShape(QFrame::NoFrame);
    auto *confusionPanel = new QWidget(this);
    auto *confusionLayout = new QVBoxLayout(confusionPanel);
    confusionLayout->setContentsMargins(0, 0, 0, 0);
    auto *confusionBar = new QHBoxLayout;
    confusionBar->addWidget(m_confusionMode);
    confusionBar->addStretch(1);
    confusionBar->addWidget(new QLabel(QStringLiteral("Zoom"), this));
    confusionBar->addWidget(m_zoom);
    confusionLayout->addLayout(confusionBar);
    confusionLayout->addWidget(confusionScroll, 1);
    confusionLayout->addWidget(m_confusions);
    confusionPanel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
    for (QChartView *v : {m_roc, m_pr, m_calibration})
        v->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
    connect(m_confusionMode, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_confusion->setMode(i == 1 ? ConfusionMatrixWidget::Mode::Counts : ConfusionMatrixWidget::Mode::RowShare);
    });
    connect(m_zoom, &QSlider::valueChanged, m_confusion, &ConfusionMatrixWidget::setZoom);

    m_classPicker->setObjectName(QStringLiteral("evaluationClass"));
    m_classPicker->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_classPicker->setToolTip(QStringLiteral("The class whose one-vs-rest ROC, precision-recall and calibration curves are shown"));
    m_ovrSummary->setObjectName(QStringLiteral("ovrSummary"));
    m_ovrSummary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *classLayout = new QHBoxLayout(m_classBar);
    classLayout->setContentsMargins(0, 0, 0, 0);
    classLayout->addWidget(new QLabel(QStringLiteral("Class (one vs rest):"), this));
    classLayout->addWidget(m_classPicker);
    classLayout->addWidget(m_ovrSummary, 1);
    connect(m_classPicker, &QComboBox::currentIndexChanged, this, [this] { rebuildClassCharts(); });

    // Matrix and ROC above, precision-recall and calibration below, in splitters the user can drag; the halves
    // start equal whatever the matrix's size.
    auto *evaluation = new QWidget(this);
    auto *evalLayout = new QVBoxLayout(evaluation);
    evalLayout->setContentsMargins(0, 0, 0, 0);
    evalLayout->addWidget(m_classBar);
    auto *upper = new QSplitter(Qt::Horizontal, this);
    upper->addWidget(confusionPanel);
    upper->addWidget(m_roc);
    auto *lower = new QSplitter(Qt::Horizontal, this);
    lower->addWidget(m_pr);
    lower->addWidget(m_calibration);
    auto *halves = new QSplitter(Qt::Vertical, this);
    halves->addWidget(upper);
    halves->addWidget(lower);
    for (QSplitter *sp : {upper, lower, halves}) {
        sp->setChildrenCollapsible(false);
        sp->setStretchFactor(0, 1);
        sp->setStretchFactor(1, 1);
        sp->setSizes({1000, 1000});
    }
    evalLayout->addWidget(halves, 1);
    m_evaluationStack->addWidget(m_noEvaluation);
    m_evaluationStack->addWidget(evaluation);

    // Config and artifacts.
    m_config->setReadOnly(true);
    m_config->setObjectName(QStringLiteral("runConfig"));
    m_config->setLineWrapMode(QPlainTextEdit::NoWrap);
    QFont mono(QStringLiteral("monospace"));
    mono.setStyleHint(QFont::Monospace);
    m_config->setFont(mono);
    auto *configPage = new QSplitter(Qt::Vertical, this);
    configPage->setObjectName(QStringLiteral("runConfigSplitter"));
    configPage->addWidget(m_config);
    configPage->addWidget(m_artifacts);
    configPage->setSizes({420, 160});

    m_tabs->setObjectName(QStringLiteral("runTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(overview, QStringLiteral("Overview"));
    m_tabs->addTab(m_curvesStack, QStringLiteral("Curves"));
    m_tabs->addTab(m_evaluationStack, QStringLiteral("Evaluation"));
    m_tabs->addTab(configPage, QStringLiteral("Config"));

    auto *content = new QWidget(this);
    auto *contentLayout = new QVBoxLayout(content);
    contentLayout->setContentsMargins(8, 6, 8, 0);
    contentLayout->addLayout(titleRow);
    contentLayout->addWidget(m_subtitle);
    contentLayout->addWidget(m_error);
    contentLayout->addWidget(m_progress);
    contentLayout->addWidget(m_tabs, 1);
    m_stack->addWidget(m_empty);
    m_stack->addWidget(content);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);
}

RunView::~RunView() = default;

QString RunView::runId() const { return m_details ? m_details->run.id : QString(); }

void RunView::clear(const QString &message)
{
    connectProcess(nullptr);
    m_details.reset();
    if (!message.isEmpty())
        m_empty->setText(message);
    m_stack->setCurrentIndex(0);
}

void RunView::setDetails(RunDetails details, std::shared_ptr<const RunSet> runs, TrainingProcess *process)
{
    const bool sameRun = m_details && m_details->run.id == details.run.id;
    m_details = std::move(details);
    m_runs = std::move(runs);
    connectProcess(process && process->runId() == m_details->run.id ? process : nullptr);
    if (!sameRun)
        m_tabs->setCurrentIndex(OverviewTab);
    rebuild();
    m_stack->setCurrentIndex(1);
}

void RunView::attachProcess(TrainingProcess *process)
{
    connectProcess(process);
    if (m_details)
        rebuild();
}

void RunView::connectProcess(TrainingProcess *process)
{
    for (const auto &c : m_processConnections)
        disconnect(c);
    m_processConnections.clear();
    m_process = process;
    if (process) {
        m_processConnections.push_back(connect(process, &TrainingProcess::metricReceived, this,
                                               [this](const QString &runId, const QString &key, qint64 step, double value) {
                                                   if (runId == this->runId())
                                                       addCurvePoint(key, step, value);
                                               }));
        m_processConnections.push_back(connect(process, &TrainingProcess::progressed, this, [this] { updateHeader(); }));
        m_processConnections.push_back(connect(process, &TrainingProcess::ended, this, [this] { updateHeader(); }));
    }
}

void RunView::rebuild()
{
    if (!m_details)
        return;
    updateHeader();
    fillOverview();
    rebuildCurves();
    rebuildEvaluation();
    m_config->setPlainText(m_details->run.config.isEmpty() ? QStringLiteral("# This run recorded no config text.")
                                                           : m_details->run.config);
    std::vector<QStringList> artifacts;
    for (const tracking::ArtifactRecord &a : m_details->artifacts)
        artifacts.push_back({a.name, a.kind, formatBytes(a.size), a.objectId});
    fillTable(m_artifacts, artifacts, {2});
}

void RunView::updateHeader()
{
    if (!m_details)
        return;
    const tracking::RunRecord &r = m_details->run;
    const bool live = m_process && m_process->isActive();
    tracking::RunStatus status = r.status;
    if (m_process && m_process->hasEnded())
        status = m_process->outcome().status;
    const QColor colour = runStatusColor(live ? tracking::RunStatus::Running : status);
    const QString name = r.name.isEmpty() ? r.id.left(8) : r.name;
    m_title->setText(QStringLiteral("<span style='font-size:x-large; font-weight:600'>%1</span>&nbsp;&nbsp;"
                                    "<span style='color:%2'>\u25cf</span> %3")
                         .arg(name.toHtmlEscaped(), colour.name(), live ? QStringLiteral("running") : tracking::runStatusName(status)));

    QStringList parts;
    parts << QStringLiteral("run %1").arg(r.id) << QStringLiteral("experiment %1").arg(r.experiment);
    const QString learner = m_details->param(QStringLiteral("learner"));
    const QString data = m_details->param(QStringLiteral("data"));
    if (!learner.isEmpty() || !data.isEmpty())
        parts << QStringLiteral("%1 on %2").arg(learner.isEmpty() ? QStringLiteral("?") : learner,
                                                data.isEmpty() ? QStringLiteral("?") : data);
    if (const QString eval = m_details->param(QStringLiteral("evaluate")); !eval.isEmpty())
        parts << QStringLiteral("evaluated on %1").arg(eval);
    if (r.start.isValid())
        parts << QStringLiteral("started %1").arg(r.start.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")));
    if (const QString d = formatRunDuration(r); !d.isEmpty())
        parts << d;
    parts << QStringLiteral("%1@%2").arg(r.user, r.host);
    m_subtitle->setText(parts.join(QStringLiteral(" \u00b7 ")));

    QString error = m_details->tag(QStringLiteral("error"));
    if (m_process && m_process->hasEnded() && m_process->outcome().status != tracking::RunStatus::Finished && error.isEmpty())
        error = m_process->outcome().message;
    const bool showError = !live && status != tracking::RunStatus::Finished && status != tracking::RunStatus::Running
                           && !error.isEmpty();
    if (showError) {
        const QColor red = palette().color(QPalette::Window).lightness() < 128 ? QColor(0xff, 0x7b, 0x7b) : QColor(0xc6, 0x28, 0x28);
        m_error->setText(QStringLiteral("<span style='color:%1'>%2: %3</span>")
                             .arg(red.name(), status == tracking::RunStatus::Killed ? QStringLiteral("Stopped")
                                                                                    : QStringLiteral("Failed"),
                                  error.toHtmlEscaped()));
    }
    m_error->setVisible(showError);

    m_cancel->setVisible(live);
    m_register->setEnabled(status == tracking::RunStatus::Finished && !live);
    m_progress->setVisible(live);
    if (live) {
        const qint64 total = m_process->total();
        m_progress->setRange(0, total > 0 ? 1000 : 0);
        if (total > 0)
            m_progress->setValue(int(1000.0 * double(std::min(m_process->done(), total)) / double(total)));
        m_progress->setFormat(QStringLiteral("%1 %p%").arg(m_process->stage().isEmpty() ? QStringLiteral("starting")
                                                                                        : m_process->stage()));
        m_progress->setTextVisible(true);
    }
}

void RunView::fillOverview()
{
    std::vector<QStringList> params;
    for (const auto &[k, v] : m_details->params)
        params.push_back({k, v});
    fillTable(m_params, params);
    std::vector<QStringList> metrics;
    for (const auto &[k, v] : m_details->finalMetrics())
        metrics.push_back({k, formatMetric(v)});
    if (metrics.empty() && m_details->run.status == tracking::RunStatus::Running)
        metrics.push_back({QStringLiteral("(final metrics appear when the run finishes)"), QString()});
    fillTable(m_metrics, metrics, {1});
    std::vector<QStringList> tags;
    for (const auto &[k, v] : m_details->tags)
        if (k != u"test.confusion_matrix")
            tags.push_back({k, v});
    fillTable(m_tags, tags);

    // Lineage: the dataset versions behind the run, and the runs it is related to.
    const tracking::RunRecord &r = m_details->run;
    QStringList lines;
    for (const RunDatasetLink &d : m_details->datasets) {
        const QString what = d.relation == u"trained_on"     ? QStringLiteral("Trained on")
                             : d.relation == u"evaluated_on" ? QStringLiteral("Evaluated on")
                                                             : d.relation;
        const QString target = d.ref.isEmpty() ? QStringLiteral("a dataset version no longer named in the workspace")
                                               : QStringLiteral("<a href='dataset:%1'>%2</a>").arg(d.ref.toHtmlEscaped(), d.ref.toHtmlEscaped());
        lines << QStringLiteral("%1 %2 <span style='color:%3'>(content %4\u2026)</span>")
                     .arg(what, target, palette().color(QPalette::PlaceholderText).name(), d.contentId.left(12));
    }
    const RunSet *runs = m_runs.get();
    if (!r.sweepId.isEmpty() && r.sweepId != r.id)
        lines << QStringLiteral("Trial of sweep <a href='run:%1'>%2</a>").arg(r.sweepId, runLabel(runs, r.sweepId).toHtmlEscaped());
    else if (!r.parentRunId.isEmpty())
        lines << QStringLiteral("Branched from run <a href='run:%1'>%2</a>").arg(r.parentRunId, runLabel(runs, r.parentRunId).toHtmlEscaped());
    if (runs) {
        const auto it = runs->childrenOf.constFind(r.id);
        if (it != runs->childrenOf.constEnd() && !it->empty()) {
            QStringList children;
            for (int i : *it) {
                const QString id = runs->runs[size_t(i)].run.id;
                if (children.size() == 12) {
                    children << QStringLiteral("\u2026 %1 more").arg(it->size() - 12);
                    break;
                }
                children << QStringLiteral("<a href='run:%1'>%2</a>").arg(id, runLabel(runs, id).toHtmlEscaped());
            }
            lines << QStringLiteral("%1: %2")
                         .arg(r.sweepId == r.id ? QStringLiteral("Trials") : QStringLiteral("Branched into"),
                              children.join(QStringLiteral(", ")));
        }
    }
    for (const tracking::ArtifactRecord &a : m_details->artifacts)
        if (a.name == u"model")
            lines << QStringLiteral("Produced model <span style='color:%1'>%2 (object %3\u2026)</span>")
                         .arg(palette().color(QPalette::PlaceholderText).name(), a.kind.toHtmlEscaped(), a.objectId.left(12));
    if (lines.isEmpty())
        lines << QStringLiteral("<i>No lineage recorded for this run.</i>");
    m_lineage->setText(lines.join(QStringLiteral("<br>")));
}

QStringList RunView::curveMetrics() const
{
    QStringList out;
    for (const auto &[metric, chart] : m_curves)
        out << metric;
    return out;
}

CurvePlot *RunView::curvePlot(const QString &metric) const
{
    const auto it = m_curves.find(metric);
    return it == m_curves.end() ? nullptr : it->second.plot;
}

RunView::CurveChart &RunView::curveChart(const QString &metric)
{
    auto it = m_curves.find(metric);
    if (it != m_curves.end())
        return it->second;
    CurveChart c;
    m_plots.push_back(std::make_unique<CurvePlot>(metric, palette()));
    c.plot = m_plots.back().get();
    c.view = makeChartView(m_curvesPage);
    c.view->setMinimumHeight(260);
    c.view->setChart(c.plot->chart());
    const int index = int(m_curves.size());
    m_curvesGrid->addWidget(c.view, index / 2, index % 2);
    m_curvesStack->setCurrentIndex(1);
    return m_curves.emplace(metric, c).first->second;
}

void RunView::addCurvePoint(const QString &key, qint64 step, double value)
{
    if (!isCurveKey(key))
        return;
    const auto [dataset, metric] = splitCurveKey(key);
    CurveChart &c = curveChart(metric);
    auto s = c.series.find(dataset);
    if (s == c.series.end()) {
        const bool train = dataset == u"train";
        const int index = c.plot->addSeries(dataset, {}, train ? 1 : 0, train);
        s = c.series.emplace(dataset, index).first;
    }
    c.plot->append(s->second, QPointF(double(step), value));
}

void RunView::rebuildCurves()
{
    for (auto &[metric, c] : m_curves) {
        m_curvesGrid->removeWidget(c.view);
        delete c.view;   // deletes the chart the plot drew on
    }
    m_curves.clear();
    m_plots.clear();

    // A run this view follows live: the child's points (complete since it started) are the curves.
    std::map<QString, std::vector<QPointF>> series;
    if (m_process && m_process->runId() == m_details->run.id) {
        for (const tracking::MetricPoint &p : m_process->points())
            if (isCurveKey(p.key))
                series[p.key].emplace_back(double(p.step), p.value);
        // Finished in the meantime: the stored curves are the same points, written in batches.
        if (series.empty())
            series = m_details->series();
    } else {
        series = m_details->series();
    }
    // Validation first in each chart so it takes the first colour; train dashed.
    std::map<QString, std::vector<std::pair<QString, const std::vector<QPointF> *>>> byMetric;
    for (const auto &[key, points] : series) {
        const auto [dataset, metric] = splitCurveKey(key);
        byMetric[metric].emplace_back(dataset, &points);
    }
    for (auto &[metric, lines] : byMetric) {
        std::sort(lines.begin(), lines.end(), [](const auto &a, const auto &b) {
            return std::pair(a.first != u"validation", a.first) < std::pair(b.first != u"validation", b.first);
        });
        CurveChart &c = curveChart(metric);
        for (const auto &[dataset, points] : lines) {
            const bool train = dataset == u"train";
            c.series[dataset] = c.plot->addSeries(dataset, *points, train ? 1 : 0, train);
        }
    }
    // A sweep's run: each result it collected, by trial.
    const tracking::RunRecord &r = m_details->run;
    if (!r.sweepId.isEmpty() && r.sweepId == r.id) {
        std::map<QString, std::vector<QPointF>> byTrial;
        for (const tracking::MetricPoint &p : m_details->metrics)
            if (p.step > 0 && !isCurveKey(p.key) && !p.key.startsWith(QLatin1String("best.")))
                byTrial[p.key].emplace_back(double(p.step), p.value);
        for (const auto &[key, points] : byTrial) {
            m_plots.push_back(std::make_unique<CurvePlot>(key + QStringLiteral(" by trial"), palette(), QStringLiteral("trial")));
            CurveChart c;
            c.plot = m_plots.back().get();
            c.plot->addSeries(QStringLiteral("trials"), points, 0, false, true);
            c.view = makeChartView(m_curvesPage);
            c.view->setMinimumHeight(260);
            c.view->setChart(c.plot->chart());
            const int index = int(m_curves.size());
            m_curvesGrid->addWidget(c.view, index / 2, index % 2);
            m_curves.emplace(key + QStringLiteral(" by trial"), c);
        }
    }
    // Where early stopping settled: the iteration the model predicts with.
    bool bestOk = false;
    const double best = m_details->tag(QStringLiteral("model.best_iteration")).toDouble(&bestOk);
    const bool following = m_process && m_process->isActive();
    if (bestOk && !following)
        for (auto &[metric, c] : m_curves)
            c.plot->addMarker(best, QStringLiteral("best iteration %1").arg(best));
    if (m_curves.empty()) {
        const bool live = m_process && m_process->isActive();
        m_noCurves->setText(live ? QStringLiteral("Curves appear here as the learner reports each iteration.")
                                 : QStringLiteral("This run recorded no per-iteration metrics. Iterative learners "
                                                  "(gbdt, random_forest, logistic) log train and validation curves; "
                                                  "closed-form ones (linear, ridge) do not."));
        m_curvesStack->setCurrentIndex(0);
    } else {
        m_curvesStack->setCurrentIndex(1);
    }
}

QChart *RunView::rocChart() const { return m_evaluationStack->currentIndex() == 1 ? m_roc->chart() : nullptr; }
QChart *RunView::prChart() const { return m_evaluationStack->currentIndex() == 1 ? m_pr->chart() : nullptr; }
QChart *RunView::calibrationChart() const
{
    return m_evaluationStack->currentIndex() == 1 ? m_calibration->chart() : nullptr;
}

void RunView::rebuildEvaluation()
{
    const RunDetails &d = *m_details;
    if (!d.evaluation) {
        const bool regression = !d.param(QStringLiteral("target")).isEmpty()
            && std::any_of(d.metrics.begin(), d.metrics.end(), [](const tracking::MetricPoint &p) { return p.key == u"test.rmse"; });
        QString text;
        if (!d.evaluationError.isEmpty())
            text = QStringLiteral("The evaluation curves could not be read: ") + d.evaluationError;
        else if (regression)
            text = QStringLiteral("This is a regression run: it has no confusion matrix or ROC curve. Its error metrics "
                                  "(RMSE, MAE, R\u00b2) are on the Overview tab.");
        else if (d.run.status == tracking::RunStatus::Running)
            text = QStringLiteral("The confusion matrix and the ROC, precision-recall and calibration curves appear "
                                  "when the run has been evaluated.");
        else
            text = QStringLiteral("This run recorded no evaluation curves.");
        m_noEvaluation->setText(text);
        m_evaluationStack->setCurrentIndex(0);
        return;
    }
    const EvaluationCurves &e = *d.evaluation;
    m_confusion->setMatrix(e.classes, e.confusion);
    // The three largest confusions in words under the matrix, the ten largest in its tooltip.
    const QStringList words = describeConfusions(e.classes, e.confusion, 10);
    m_confusions->setText(words.isEmpty() ? QStringLiteral("No row was confused with another class.")
                                          : QStringLiteral("Largest confusions: ") + words.mid(0, 3).join(QStringLiteral("; ")) + QLatin1Char('.'));
    m_confusions->setToolTip(words.join(QLatin1Char('\n')));
    // The class picker keeps the picked class across runs with the same labels; by default the most frequent class.
    const QString picked = m_classPicker->currentData().toString();
    {
        const QSignalBlocker block(m_classPicker);
        m_classPicker->clear();
        int best = 0;
        for (size_t i = 0; i < e.perClass.size(); ++i) {
            const ClassCurves &c = e.perClass[i];
            m_classPicker->addItem(e.classes.value(int(i)), e.classes.value(int(i)));
            if (c.support > e.perClass[size_t(best)].support)
                best = int(i);
        }
        const int keep = m_classPicker->findData(picked);
        m_classPicker->setCurrentIndex(keep >= 0 ? keep : best);
    }
    m_classBar->setVisible(e.isMulticlass());
    rebuildClassCharts();
    m_evaluationStack->setCurrentIndex(1);
}

void RunView::rebuildClassCharts()
{
    if (!m_details || !m_details->evaluation)
        return;
    const RunDetails &d = *m_details;
    const EvaluationCurves &e = *d.evaluation;
    const QPalette pal = palette();
    if (e.isMulticlass()) {
        const int k = std::clamp(m_classPicker->currentIndex(), 0, int(e.perClass.size()) - 1);
        const ClassCurves &c = e.perClass[size_t(k)];
        const QString name = e.classes.value(k) + QStringLiteral(" vs rest");
        auto num = [](double v) { return std::isnan(v) ? QStringLiteral("\u2013") : QLocale::c().toString(v, 'f', 3); };
        m_ovrSummary->setText(QStringLiteral("%1 test rows \u00b7 all classes: ROC AUC macro %2, micro %3 \u00b7 average precision "
                                             "macro %4, micro %5")
                                  .arg(QLocale().toString(c.support), num(e.rocAucMacro), num(e.rocAucMicro), num(e.prAucMacro),
                                       num(e.prAucMicro)));
        replaceChart(m_roc, makeRocChart(c, name, aucTitle(QStringLiteral("ROC: ") + name, QStringLiteral("AUC"), c.rocAuc), pal,
                                         &e.micro, QStringLiteral("micro-average (%1)").arg(QLocale::c().toString(e.rocAucMicro, 'f', 3))));
        replaceChart(m_pr, makePrChart(c, name, aucTitle(QStringLiteral("Precision-recall: ") + name, QStringLiteral("AP"), c.prAuc), pal,
                                       &e.micro, QStringLiteral("micro-average (%1)").arg(QLocale::c().toString(e.prAucMicro, 'f', 3))));
        replaceChart(m_calibration, makeCalibrationChart(c, QStringLiteral("Calibration of P(%1)").arg(e.classes.value(k)), pal));
        return;
    }
    std::optional<double> rocAuc, prAuc;
    for (const auto &[key, v] : d.finalMetrics()) {
        if (key == u"test.roc_auc")
            rocAuc = v;
        else if (key == u"test.pr_auc")
            prAuc = v;
    }
    const QString positive = e.classes.value(1, QStringLiteral("class 1"));
    replaceChart(m_roc, makeRocChart(e, QStringLiteral("P(%1)").arg(positive), aucTitle(QStringLiteral("ROC curve"), QStringLiteral("AUC"), rocAuc), pal));
    replaceChart(m_pr, makePrChart(e, QStringLiteral("P(%1)").arg(positive), aucTitle(QStringLiteral("Precision-recall"), QStringLiteral("PR AUC"), prAuc), pal));
    replaceChart(m_calibration, makeCalibrationChart(e, QStringLiteral("Calibration of P(%1)").arg(positive), pal));
}

void RunView::onLinkActivated(const QString &link)
{
    if (link.startsWith(QLatin1String("dataset:")))
        emit openDatasetRequested(link.mid(8));
    else if (link.startsWith(QLatin1String("run:")))
        emit openRunRequested(link.mid(4));
}

void RunView::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && m_details)
        rebuild();
}

} // namespace keel::ui
