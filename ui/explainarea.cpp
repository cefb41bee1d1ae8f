#include "explainarea.h"

#include "emptystate.h"
#include "explainfairness.h"
#include "explainglobal.h"
#include "explainprediction.h"
#include "taskmanager.h"
#include "workspace/workspace.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QStackedWidget>
#include <QTabWidget>
#include <QVBoxLayout>

namespace keel::ui {

ExplainArea::ExplainArea(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_stack(new QStackedWidget(this)),
      m_empty(new EmptyState(QStringLiteral("No workspace open"),
                             QStringLiteral("Open or create a workspace. Every trained model can then be explained here: "
                                            "which features matter, why one prediction came out as it did, what would "
                                            "change it, and how it treats groups."))),
      m_main(new QWidget), m_modelPicker(new QComboBox), m_dataPicker(new QComboBox), m_progressLabel(new QLabel),
      m_progress(new QProgressBar), m_cancel(new QPushButton(QStringLiteral("Cancel"))), m_tabs(new QTabWidget),
      m_global(new ExplainGlobalView(tasks, group(""))), m_prediction(new ExplainPredictionView(tasks, group(""))),
      m_fairness(new ExplainFairnessView(tasks, group("")))
{
    m_modelPicker->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_modelPicker->setMinimumContentsLength(40);
    m_modelPicker->setToolTip(QStringLiteral("Finished runs with a model: name, experiment, model kind, run id"));
    m_dataPicker->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_dataPicker->setMinimumContentsLength(16);
    m_dataPicker->setToolTip(QStringLiteral("Dataset version to explain the model on (default: the run's evaluation data, "
                                            "else its training data)"));
    m_progress->setMaximumWidth(180);
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_progressLabel->setForegroundRole(QPalette::PlaceholderText);
    m_cancel->hide();

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(6, 6, 6, 2);
    bar->addWidget(new QLabel(QStringLiteral("Model:")));
    bar->addWidget(m_modelPicker, 3);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(QStringLiteral("Data:")));
    bar->addWidget(m_dataPicker, 1);
    bar->addSpacing(12);
    bar->addWidget(m_progressLabel);
    bar->addWidget(m_progress);
    bar->addWidget(m_cancel);
    bar->addStretch();

    m_tabs->addTab(m_global, QStringLiteral("Global"));
    m_tabs->addTab(m_prediction, QStringLiteral("Prediction"));
    m_tabs->addTab(m_fairness, QStringLiteral("Fairness"));
    m_tabs->setDocumentMode(true);
    auto *mainLayout = new QVBoxLayout(m_main);
    mainLayout->setContentsMargins(0, 0, 0, 0);
    mainLayout->setSpacing(2);
    mainLayout->addLayout(bar);
    mainLayout->addWidget(m_tabs, 1);

    m_stack->addWidget(m_empty);
    m_stack->addWidget(m_main);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);

    connect(m_modelPicker, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (m_updatingPickers || index < 0)
            return;
        m_wantSession = true;
        loadSession(m_modelPicker->itemData(index).toString(), {});
    });
    connect(m_dataPicker, &QComboBox::currentTextChanged, this, [this](const QString &ref) {
        if (!m_updatingPickers && !ref.isEmpty())
            setDataRef(ref);
    });
    connect(m_cancel, &QPushButton::clicked, this, &ExplainArea::cancelTracked);
    connect(m_tasks, &TaskManager::tasksChanged, this, &ExplainArea::updateProgress);
    connect(m_global, &ExplainGlobalView::statusMessage, this, &ExplainArea::statusMessage);
    connect(m_prediction, &ExplainPredictionView::statusMessage, this, &ExplainArea::statusMessage);
    connect(m_fairness, &ExplainFairnessView::statusMessage, this, &ExplainArea::statusMessage);
    connect(m_global, &ExplainGlobalView::taskStarted, this, &ExplainArea::track);
    connect(m_prediction, &ExplainPredictionView::taskStarted, this, &ExplainArea::track);
    connect(m_fairness, &ExplainFairnessView::taskStarted, this, &ExplainArea::track);
    setWorkspace(nullptr);
}

ExplainArea::~ExplainArea()
{
    // Results of our tasks must not arrive at half-destroyed views.
    cancelTracked();
}

QString ExplainArea::group(const char *what) const
{
    return QStringLiteral("explain-%1-%2").arg(quintptr(this), 0, 16).arg(QLatin1String(what));
}

void ExplainArea::setWorkspace(workspace::Workspace *ws)
{
    setWorkspaceRoot(ws ? ws->root() : QString());
}

void ExplainArea::setWorkspaceRoot(const QString &root)
{
    cancelTracked();
    m_root = root;
    m_catalog = {};
    m_session.reset();
    m_pendingRun.clear();
    m_pendingRow = -1;
    m_loadingSession = false;
    m_wantSession = isVisible();
    m_updatingPickers = true;
    m_modelPicker->clear();
    m_dataPicker->clear();
    m_updatingPickers = false;
    setViewsSession(nullptr);
    if (m_root.isEmpty()) {
        m_empty->setTitle(QStringLiteral("No workspace open"));
        m_empty->setText(QStringLiteral("Open or create a workspace. Every trained model can then be explained here: which "
                                        "features matter, why one prediction came out as it did, what would change it, "
                                        "and how it treats groups."));
        m_stack->setCurrentWidget(m_empty);
        return;
    }
    loadCatalog();
}

void ExplainArea::refresh()
{
    if (!m_root.isEmpty())
        loadCatalog();
}

void ExplainArea::loadCatalog()
{
    m_loadingCatalog = true;
    const QString root = m_root;
    const quint64 id = m_tasks->start<ExplainCatalog>(
        QStringLiteral("Read explainable runs"), group("catalog"),
        [root](Feedback &fb) { return readExplainCatalog(root, &fb); }, this,
        [this, root](Expected<ExplainCatalog> &&catalog) {
            if (root != m_root)
                return;
            m_loadingCatalog = false;
            if (!catalog) {
                m_empty->setTitle(QStringLiteral("Runs could not be read"));
                m_empty->setText(catalog.error().toString().toHtmlEscaped());
                m_stack->setCurrentWidget(m_empty);
                emit catalogShown();
                return;
            }
            applyCatalog(std::move(*catalog));
            emit catalogShown();
        });
    track(id);
}

int ExplainArea::runIndex(const QString &runId) const
{
    for (size_t i = 0; i < m_catalog.runs.size(); ++i)
        if (m_catalog.runs[i].id == runId)
            return int(i);
    return -1;
}

void ExplainArea::applyCatalog(ExplainCatalog catalog)
{
    const QString previous = currentRunId();
    m_catalog = std::move(catalog);
    if (m_catalog.runs.empty()) {
        m_empty->setTitle(QStringLiteral("No trained models yet"));
        m_empty->setText(QStringLiteral("Train a model in Experiments. Every finished run with a model can be explained "
                                        "here: global feature importance, single predictions with a what-if editor and "
                                        "counterfactuals, and group fairness metrics."));
        m_stack->setCurrentWidget(m_empty);
        return;
    }
    m_stack->setCurrentWidget(m_main);
    m_updatingPickers = true;
    m_modelPicker->clear();
    for (const ExplainableRun &r : m_catalog.runs)
        m_modelPicker->addItem(r.label(), r.id);
    m_dataPicker->clear();
    m_dataPicker->addItems(m_catalog.dataRefs);
    QString select = !m_pendingRun.isEmpty() && runIndex(m_pendingRun) >= 0 ? m_pendingRun
                     : runIndex(previous) >= 0                             ? previous
                                                                            : m_catalog.runs.front().id;
    m_modelPicker->setCurrentIndex(runIndex(select));
    if (m_session && m_session->model.runId == select)
        m_dataPicker->setCurrentText(m_session->dataRef);
    else
        m_dataPicker->setCurrentText(m_catalog.runs[size_t(runIndex(select))].defaultData());
    m_updatingPickers = false;
    if (!m_pendingRun.isEmpty())
        m_wantSession = true;
    m_pendingRun.clear();
    if (m_wantSession && (!m_session || m_session->model.runId != select))
        loadSession(select, {});
}

void ExplainArea::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_wantSession)
        return;
    m_wantSession = true;
    if (!m_session && !m_loadingSession && !currentRunId().isEmpty())
        loadSession(currentRunId(), {});
}

void ExplainArea::showRun(const QString &runId)
{
    m_wantSession = true;
    if (m_loadingCatalog || runIndex(runId) < 0) {
        m_pendingRun = runId;
        if (!m_loadingCatalog && !m_root.isEmpty())
            loadCatalog();
        return;
    }
    m_updatingPickers = true;
    m_modelPicker->setCurrentIndex(runIndex(runId));
    m_updatingPickers = false;
    if (!m_session || m_session->model.runId != runId)
        loadSession(runId, {});
}

bool ExplainArea::setDataRef(const QString &ref)
{
    const QString run = currentRunId();
    if (run.isEmpty() || !m_catalog.dataRefs.contains(ref))
        return false;
    m_updatingPickers = true;
    m_dataPicker->setCurrentText(ref);
    m_updatingPickers = false;
    if (m_session && m_session->model.runId == run && m_session->dataRef == ref)
        return true;
    m_wantSession = true;
    loadSession(run, ref);
    return true;
}

void ExplainArea::showRow(qint64 row)
{
    m_tabs->setCurrentIndex(PredictionTab);
    if (m_session && !m_loadingSession)
        m_prediction->pickRow(row);
    else
        m_pendingRow = row;
}

QString ExplainArea::currentRunId() const
{
    const int i = m_modelPicker->currentIndex();
    return i >= 0 ? m_modelPicker->itemData(i).toString() : QString();
}

QString ExplainArea::currentDataRef() const { return m_session ? m_session->dataRef : QString(); }

void ExplainArea::loadSession(const QString &runId, const QString &dataRef)
{
    if (runId.isEmpty() || m_root.isEmpty())
        return;
    m_loadingSession = true;
    m_session.reset();
    setViewsSession(nullptr);
    const int index = runIndex(runId);
    const QString name = index >= 0 ? m_catalog.runs[size_t(index)].name : runId.left(8);
    // Shown in the picker: the explicit choice, else the run's data; loaded: an explicit choice as it is (every
    // row), else the default the core chooses (the run's test rows, as `keel explain` does).
    const QString ref = !dataRef.isEmpty() ? dataRef : index >= 0 ? m_catalog.runs[size_t(index)].defaultData() : QString();
    if (!ref.isEmpty()) {
        m_updatingPickers = true;
        m_dataPicker->setCurrentText(ref);
        m_updatingPickers = false;
    }
    const QString load = dataRef;
    setViewsMessage(QStringLiteral("Loading the model of %1\u2026").arg(name));
    const QString root = m_root;
    const quint64 id = m_tasks->start<std::shared_ptr<const ExplainSession>>(
        QStringLiteral("Load model %1 with %2").arg(name, ref.isEmpty() ? QStringLiteral("its data") : ref), group("session"),
        [root, runId, load](Feedback &fb) { return loadExplainSession(root, runId, load, &fb); }, this,
        [this, root, runId](Expected<std::shared_ptr<const ExplainSession>> &&session) {
            if (root != m_root || runId != currentRunId())
                return;
            m_loadingSession = false;
            if (!session) {
                setViewsMessage(QStringLiteral("The model could not be loaded: ") + session.error().toString());
                emit statusMessage(session.error().toString());
                return;
            }
            m_session = *session;
            m_updatingPickers = true;
            if (m_dataPicker->findText(m_session->dataRef) < 0)
                m_dataPicker->addItem(m_session->dataRef);
            m_dataPicker->setCurrentText(m_session->dataRef);
            m_updatingPickers = false;
            setViewsSession(m_session);
            if (m_pendingRow >= 0) {
                m_prediction->pickRow(m_pendingRow);
                m_pendingRow = -1;
            }
            emit sessionLoaded(runId);
        });
    track(id);
}

void ExplainArea::setViewsSession(std::shared_ptr<const ExplainSession> session)
{
    m_global->setSession(session);
    m_prediction->setSession(session);
    m_fairness->setSession(session);
}

void ExplainArea::setViewsMessage(const QString &message)
{
    m_global->setMessage(message);
    m_prediction->setMessage(message);
    m_fairness->setMessage(message);
}

void ExplainArea::track(quint64 taskId)
{
    m_taskIds.insert(taskId);
    updateProgress();
}

void ExplainArea::updateProgress()
{
    std::optional<TaskInfo> shown;
    int active = 0;
    for (auto it = m_taskIds.begin(); it != m_taskIds.end();) {
        const std::optional<TaskInfo> info = m_tasks->info(*it);
        if (!info || !isTaskActive(info->state)) {
            it = m_taskIds.erase(it);
            continue;
        }
        ++active;
        if (!shown)
            shown = info;
        ++it;
    }
    if (!shown) {
        m_progress->hide();
        m_cancel->hide();
        m_progressLabel->clear();
        return;
    }
    m_progress->show();
    m_cancel->show();
    if (shown->total > 0) {
        m_progress->setRange(0, 1000);
        m_progress->setValue(int(1000.0 * double(shown->done) / double(shown->total)));
    } else {
        m_progress->setRange(0, 0);
    }
    QString text = shown->title;
    if (!shown->stage.isEmpty())
        text += QStringLiteral(": ") + shown->stage;
    if (active > 1)
        text += QStringLiteral(" (+%1 more)").arg(active - 1);
    m_progressLabel->setText(text);
}

void ExplainArea::cancelTracked()
{
    for (quint64 id : m_taskIds)
        m_tasks->cancel(id);
    updateProgress();
}

} // namespace keel::ui
