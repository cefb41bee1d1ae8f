#include "experimentsarea.h"

#include "compareview.h"
#include "emptystate.h"
#include "newrundialog.h"
#include "registry/registry.h"
#include "registryview.h"
#include "rundetails.h"
#include "runview.h"
#include "taskmanager.h"
#include "trainingprocess.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QThread>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

namespace keel::ui {

namespace {

/// A run set with the table layout computed for it in the same job.
struct LoadedRuns {
    std::shared_ptr<const RunSet> runs;
    std::shared_ptr<const RunLayout> layout;
};

int columnWidth(const RunColumn &c)
{
    switch (c.kind) {
    case RunColumn::Kind::Name: return 200;
    case RunColumn::Kind::Status: return 92;
    case RunColumn::Kind::Started: return 128;
    case RunColumn::Kind::Duration: return 82;
    case RunColumn::Kind::User: return 90;
    case RunColumn::Kind::Id: return 270;
    case RunColumn::Kind::Param: return c.key == u"data" ? 124 : 90;
    case RunColumn::Kind::Metric: return 100;
    }
    return 100;
}

} // namespace

ExperimentsArea::ExperimentsArea(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_model(new RunTableModel(this)), m_stack(new QStackedWidget(this)),
      m_noWorkspace(new EmptyState(QStringLiteral("No workspace open"),
                                   QStringLiteral("Training runs live in a workspace's tracking store. Open or create a "
                                                  "workspace to see its runs."),
                                   this)),
      m_noRuns(new EmptyState(QStringLiteral("No runs yet"), QString(), this)), m_view(new QTreeView(this)),
      m_filter(new QLineEdit(this)), m_count(new QLabel(this)), m_newRun(new QPushButton(QStringLiteral("New Run\u2026"), this)),
      m_compareButton(new QPushButton(QStringLiteral("Compare"), this)), m_columnsButton(new QToolButton(this)),
      m_detailStack(new QStackedWidget(this)), m_runView(new RunView(this)), m_compare(new CompareView(this))
{
    setObjectName(QStringLiteral("experimentsArea"));
    m_noRuns->setText(QStringLiteral("This workspace has no training runs yet. Start one with New Run (a form over the "
                                     "datasets and learners of this workspace), or run <code>keel train CONFIG</code>; "
                                     "every run, its parameters, curves and evaluation appear here."));
    connect(m_noRuns->addButton(QStringLiteral("New Run\u2026")), &QPushButton::clicked, this, [this] { showNewRunDialog(); });

    // Toolbar over the table.
    auto *title = new QLabel(QStringLiteral("<b>Runs</b>"), this);
    m_filter->setObjectName(QStringLiteral("runFilter"));
    m_filter->setPlaceholderText(QStringLiteral("Filter: text, or e.g. test.accuracy > 0.85, learner = gbdt, status = failed"));
    m_filter->setClearButtonEnabled(true);
    m_filterTimer.setSingleShot(true);
    m_filterTimer.setInterval(250);
    connect(m_filter, &QLineEdit::textChanged, this, [this] { m_filterTimer.start(); });
    connect(&m_filterTimer, &QTimer::timeout, this, [this] {
        m_activeFilter.text = m_filter->text();
        startLayout();
    });
    m_newRun->setObjectName(QStringLiteral("newRunButton"));
    m_newRun->setToolTip(QStringLiteral("Train a model in a child keel process from a form over this workspace's datasets"));
    connect(m_newRun, &QPushButton::clicked, this, [this] { showNewRunDialog(); });
    m_compareButton->setObjectName(QStringLiteral("compareButton"));
    m_compareButton->setToolTip(QStringLiteral("Compare the selected runs (select two or more with Ctrl or Shift)"));
    m_compareButton->setEnabled(false);
    connect(m_compareButton, &QPushButton::clicked, this, [this] { showSelection(); });
    m_columnsButton->setText(QStringLiteral("Columns"));
    m_columnsButton->setObjectName(QStringLiteral("columnsButton"));
    m_columnsButton->setToolTip(QStringLiteral("Choose the run fields, parameters and metrics shown as columns"));
    m_columnsButton->setPopupMode(QToolButton::InstantPopup);
    auto *columnsMenu = new QMenu(m_columnsButton);
    m_columnsButton->setMenu(columnsMenu);
    connect(columnsMenu, &QMenu::aboutToShow, this, &ExperimentsArea::buildColumnsMenu);
    auto *refreshButton = new QToolButton(this);
    refreshButton->setText(QStringLiteral("Refresh"));
    connect(refreshButton, &QToolButton::clicked, this, &ExperimentsArea::refresh);
    auto *bar = new QHBoxLayout;
    bar->addWidget(title);
    bar->addWidget(m_filter, 1);
    bar->addWidget(m_columnsButton);
    bar->addWidget(refreshButton);
    auto *bar2 = new QHBoxLayout;
    bar2->addWidget(m_newRun);
    bar2->addWidget(m_compareButton);
    bar2->addStretch(1);
    m_count->setObjectName(QStringLiteral("runCount"));
    m_count->setForegroundRole(QPalette::PlaceholderText);
    bar2->addWidget(m_count);

    m_view->setObjectName(QStringLiteral("runTable"));
    m_model->setRowHeight(fontMetrics().height() + 6);
    m_view->setModel(m_model);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setAllColumnsShowFocus(true);
    m_view->setSortingEnabled(false);
    m_view->header()->setSectionsClickable(true);
    m_view->header()->setSortIndicatorShown(true);
    m_view->header()->setStretchLastSection(false);
    m_view->header()->setSectionsMovable(false);
    connect(m_view->header(), &QHeaderView::sectionClicked, this, [this](int section) {
        const auto &columns = m_model->columns();
        if (section < 0 || section >= int(columns.size()))
            return;
        const RunColumn &c = columns[size_t(section)];
        const Qt::SortOrder order = c == m_sortColumn && m_sortOrder == Qt::DescendingOrder ? Qt::AscendingOrder
                                    : c == m_sortColumn                                    ? Qt::DescendingOrder
                                    : c.kind == RunColumn::Kind::Name || c.kind == RunColumn::Kind::Param
                                        ? Qt::AscendingOrder
                                        : Qt::DescendingOrder;
        sortBy(c.id(), order);
    });
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &ExperimentsArea::onSelectionChanged);
    connect(m_view, &QTreeView::collapsed, this, [this](const QModelIndex &index) {
        const int kind = index.data(RunTableModel::NodeKindRole).toInt();
        if (kind == int(RunNode::Kind::Experiment))
            m_collapsedExperiments.insert(index.data(RunTableModel::ExperimentRole).toString());
        else
            m_expandedSweeps.remove(index.data(RunTableModel::RunIdRole).toString());
    });
    connect(m_view, &QTreeView::expanded, this, [this](const QModelIndex &index) {
        const int kind = index.data(RunTableModel::NodeKindRole).toInt();
        if (kind == int(RunNode::Kind::Experiment))
            m_collapsedExperiments.remove(index.data(RunTableModel::ExperimentRole).toString());
        else
            m_expandedSweeps.insert(index.data(RunTableModel::RunIdRole).toString());
    });
    m_selectionTimer.setSingleShot(true);
    m_selectionTimer.setInterval(120);
    connect(&m_selectionTimer, &QTimer::timeout, this, &ExperimentsArea::showSelection);

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(6, 6, 0, 6);
    leftLayout->addLayout(bar);
    leftLayout->addLayout(bar2);
    leftLayout->addWidget(m_view, 1);

    m_detailStack->addWidget(m_runView);
    m_detailStack->addWidget(m_compare);
    connect(m_runView, &RunView::branchRequested, this, &ExperimentsArea::branchFrom);
    connect(m_runView, &RunView::registerRequested, this, &ExperimentsArea::registerRun);
    connect(m_runView, &RunView::cancelRequested, this, [this](const QString &runId) {
        if (TrainingProcess *p = trainingOf(runId))
            p->cancel();
    });
    connect(m_runView, &RunView::openDatasetRequested, this, &ExperimentsArea::openDatasetRequested);
    connect(m_runView, &RunView::openRunRequested, this, [this](const QString &id) { selectRun(id); });
    connect(m_compare, &CompareView::openRunRequested, this, [this](const QString &id) { selectRun(id); });

    auto *split = new QSplitter(this);
    split->setObjectName(QStringLiteral("experimentsSplitter"));
    split->addWidget(left);
    split->addWidget(m_detailStack);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setSizes({600, 680});

    m_stack->addWidget(m_noWorkspace);
    m_stack->addWidget(m_noRuns);
    m_stack->addWidget(split);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);
}

ExperimentsArea::~ExperimentsArea()
{
    for (const char *g : {"load", "layout", "details", "branch"})
        m_tasks->cancelGroup(taskGroup(g));
    for (TrainingProcess *p : m_trainings)
        p->cancel();
}

QString ExperimentsArea::taskGroup(const char *what) const
{
    return QStringLiteral("runs-%1-%2").arg(QLatin1String(what)).arg(quintptr(this), 0, 16);
}

bool ExperimentsArea::isBusy() const { return m_loading || m_pendingLayouts > 0 || m_pendingDetails > 0; }

void ExperimentsArea::setWorkspace(const QString &root, const std::vector<DatasetHistory> &datasets)
{
    const bool same = root == m_root;
    m_root = root;
    m_datasets = datasets;
    if (!same) {
        for (const char *g : {"load", "layout", "details", "branch"})
            m_tasks->cancelGroup(taskGroup(g));
        m_loading = false;
        m_pendingLayouts = 0;
        m_pendingDetails = 0;
        m_model->setRuns({}, {});
        m_runView->clear();
        m_shownIds.clear();
        m_collapsedExperiments.clear();
        m_expandedSweeps.clear();
        if (m_dialog)
            m_dialog->close();
    }
    m_stack->setCurrentIndex(root.isEmpty() ? 0 : m_model->runSet() && !m_model->runSet()->runs.empty() ? 2 : 1);
    if (!root.isEmpty())
        refresh();
}

void ExperimentsArea::setDatasets(const std::vector<DatasetHistory> &datasets) { m_datasets = datasets; }

void ExperimentsArea::refresh()
{
    if (m_root.isEmpty())
        return;
    startLoad();
}

void ExperimentsArea::startLoad()
{
    const QString root = m_root;
    const RunColumn sortColumn = m_sortColumn;
    const Qt::SortOrder order = m_sortOrder;
    const RunFilter filter = m_activeFilter;
    m_loading = true;
    m_tasks->start<LoadedRuns>(
        QStringLiteral("Read runs"), taskGroup("load"),
        [root, sortColumn, order, filter](Feedback &fb) -> Expected<LoadedRuns> {
            auto runs = loadRunSet(root, &fb);
            if (!runs)
                return runs.error();
            auto layout = layoutRuns(**runs, sortColumn, order, filter, &fb);
            if (!layout)
                return layout.error();
            return LoadedRuns{*runs, *layout};
        },
        this, [this, sortColumn, order, filter](Expected<LoadedRuns> &&loaded) {
            m_loading = false;
            if (!loaded) {
                emit statusMessage(QStringLiteral("Cannot read the runs: ") + loaded.error().toString());
                emit runsShown();
                return;
            }
            applyLayout(loaded->runs, loaded->layout);
            // The sort or filter changed while the runs were read: lay them out again.
            if (!(sortColumn == m_sortColumn) || order != m_sortOrder || filter.text != m_activeFilter.text)
                startLayout();
        });
}

void ExperimentsArea::startLayout()
{
    const std::shared_ptr<const RunSet> runs = m_model->runSet();
    if (!runs)
        return;
    const RunColumn sortColumn = m_sortColumn;
    const Qt::SortOrder order = m_sortOrder;
    const RunFilter filter = m_activeFilter;
    ++m_pendingLayouts;
    const quint64 id = m_tasks->start<std::shared_ptr<const RunLayout>>(
        QStringLiteral("Sort and filter runs"), taskGroup("layout"),
        [runs, sortColumn, order, filter](Feedback &fb) { return layoutRuns(*runs, sortColumn, order, filter, &fb); }, this,
        [this, runs](Expected<std::shared_ptr<const RunLayout>> &&layout) {
            if (!layout) {
                emit statusMessage(layout.error().toString());
                return;
            }
            if (m_model->runSet() == runs)
                applyLayout(runs, *layout);
        });
    // Every layout task ends (delivered, superseded or cancelled); only then is the table settled.
    auto *guard = new QObject(this);
    connect(m_tasks, &TaskManager::taskEnded, guard, [this, id, guard](quint64 ended) {
        if (ended != id)
            return;
        --m_pendingLayouts;
        guard->deleteLater();
        if (m_pendingLayouts == 0)
            emit runsShown();
    });
}

void ExperimentsArea::applyLayout(std::shared_ptr<const RunSet> runs, std::shared_ptr<const RunLayout> layout)
{
    const QStringList selected = selectedRunIds();
    const QModelIndex current = m_view->currentIndex();
    const QString currentId = current.isValid() ? current.data(RunTableModel::RunIdRole).toString() : QString();
    const bool newSet = m_model->runSet() != runs;
    {
        QSignalBlocker block(m_view->selectionModel());
        if (newSet) {
            if (!m_userColumns && (m_model->columns().empty() || !runs->runs.empty()))
                m_model->setColumns(defaultRunColumns(*runs));
            m_model->setRuns(runs, layout);
        } else {
            m_model->setLayout(layout);
        }
        resizeColumns();
        restoreTreeState(m_pendingSelect.isEmpty() ? selected : QStringList{m_pendingSelect},
                         m_pendingSelect.isEmpty() ? currentId : m_pendingSelect);
    }
    const auto &cols = m_model->columns();
    for (int i = 0; i < int(cols.size()); ++i)
        if (cols[size_t(i)] == m_sortColumn) {
            QSignalBlocker block(m_view->header());
            m_view->header()->setSortIndicator(i, m_sortOrder);
        }

    const int total = layout->totalRuns;
    const int shown = layout->shownRuns;
    const QLocale loc;
    if (total == 0)
        m_count->setText(QStringLiteral("no runs"));
    else if (shown == total)
        m_count->setText(QStringLiteral("%1 %2 in %3 %4")
                             .arg(loc.toString(total), total == 1 ? QStringLiteral("run") : QStringLiteral("runs"),
                                  loc.toString(runs->experiments.size()),
                                  runs->experiments.size() == 1 ? QStringLiteral("experiment") : QStringLiteral("experiments")));
    else if (shown == 0)
        m_count->setText(QStringLiteral("no run of %1 matches the filter").arg(loc.toString(total)));
    else
        m_count->setText(QStringLiteral("%1 of %2 runs match").arg(loc.toString(shown), loc.toString(total)));
    m_stack->setCurrentIndex(m_root.isEmpty() ? 0 : total == 0 ? 1 : 2);

    // The details side follows the (restored) selection; a run picked for showing (a new training) opens now.
    const QStringList now = selectedRunIds();
    const bool pending = !m_pendingSelect.isEmpty();
    m_pendingSelect.clear();
    if (pending || now != m_shownIds)
        showSelection();
    else if (newSet && !m_shownIds.isEmpty())
        loadDetails(m_shownIds, m_shownIds.size() > 1);
    m_compareButton->setEnabled(now.size() >= 2);
    if (newSet)
        emit runsShown();
}

void ExperimentsArea::resizeColumns()
{
    const auto &cols = m_model->columns();
    for (int i = 0; i < int(cols.size()); ++i)
        m_view->header()->resizeSection(i, columnWidth(cols[size_t(i)]));
}

void ExperimentsArea::restoreTreeState(const QStringList &selected, const QString &current)
{
    for (int r = 0; r < m_model->rowCount(); ++r) {
        const QModelIndex e = m_model->index(r, 0);
        if (!m_collapsedExperiments.contains(e.data(RunTableModel::ExperimentRole).toString()))
            m_view->expand(e);
    }
    for (const QString &sweep : std::as_const(m_expandedSweeps)) {
        const QModelIndex s = m_model->indexOfRun(sweep);
        if (s.isValid())
            m_view->expand(s);
    }
    QItemSelection selection;
    for (const QString &id : selected) {
        const QModelIndex idx = m_model->indexOfRun(id);
        if (!idx.isValid())
            continue;
        // A selected trial's sweep opens so the selection is visible.
        if (idx.parent().isValid() && idx.parent().data(RunTableModel::NodeKindRole).toInt() != int(RunNode::Kind::Experiment))
            m_view->expand(idx.parent());
        selection.select(idx, idx.siblingAtColumn(m_model->columnCount() - 1));
    }
    m_view->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
    const QModelIndex cur = m_model->indexOfRun(current);
    if (cur.isValid()) {
        m_view->selectionModel()->setCurrentIndex(cur, QItemSelectionModel::NoUpdate);
        m_view->scrollTo(cur);
    }
}

QStringList ExperimentsArea::selectedRunIds() const
{
    QStringList ids;
    const QModelIndexList rows = m_view->selectionModel()->selectedRows(0);
    for (const QModelIndex &i : rows) {
        const QString id = i.data(RunTableModel::RunIdRole).toString();
        if (!id.isEmpty())
            ids << id;
    }
    // Table order, so the compare view's columns follow the rows.
    std::sort(ids.begin(), ids.end(), [this](const QString &a, const QString &b) {
        const QModelIndex ia = m_model->indexOfRun(a), ib = m_model->indexOfRun(b);
        const QRect ra = m_view->visualRect(ia), rb = m_view->visualRect(ib);
        return ra.top() != rb.top() ? ra.top() < rb.top() : a < b;
    });
    return ids;
}

void ExperimentsArea::onSelectionChanged()
{
    m_compareButton->setEnabled(selectedRunIds().size() >= 2);
    m_selectionTimer.start();
}

void ExperimentsArea::showSelection()
{
    m_selectionTimer.stop();
    const QStringList ids = selectedRunIds();
    if (ids.isEmpty()) {
        m_shownIds.clear();
        m_runView->clear();
        m_detailStack->setCurrentWidget(m_runView);
        return;
    }
    if (ids.size() > kMaxCompared) {
        m_shownIds.clear();
        m_runView->clear(QStringLiteral("%1 runs are selected; the compare view takes at most %2. Narrow the selection "
                                        "or filter the table.")
                             .arg(ids.size())
                             .arg(kMaxCompared));
        m_detailStack->setCurrentWidget(m_runView);
        return;
    }
    loadDetails(ids, ids.size() > 1);
}

void ExperimentsArea::loadDetails(const QStringList &ids, bool compare)
{
    m_shownIds = ids;
    const QString root = m_root;
    ++m_pendingDetails;
    const quint64 id = m_tasks->start<std::vector<RunDetails>>(
        compare ? QStringLiteral("Read %1 runs").arg(ids.size()) : QStringLiteral("Read run %1").arg(ids.front().left(8)),
        taskGroup("details"), [root, ids](Feedback &fb) { return loadRunDetailsList(root, ids, &fb); }, this,
        [this, ids, compare](Expected<std::vector<RunDetails>> &&details) {
            if (ids != m_shownIds)
                return;
            if (!details) {
                emit statusMessage(details.error().toString());
                m_runView->clear(QStringLiteral("The run could not be read: ") + details.error().toString());
                m_detailStack->setCurrentWidget(m_runView);
                return;
            }
            showDetails(std::move(*details), compare);
        });
    auto *guard = new QObject(this);
    connect(m_tasks, &TaskManager::taskEnded, guard, [this, id, guard](quint64 ended) {
        if (ended != id)
            return;
        --m_pendingDetails;
        guard->deleteLater();
        if (m_pendingDetails == 0)
            emit detailsShown();
    });
}

void ExperimentsArea::showDetails(std::vector<RunDetails> details, bool compare)
{
    if (compare) {
        m_compare->setRuns(std::move(details));
        m_detailStack->setCurrentWidget(m_compare);
        return;
    }
    const QString id = details.front().run.id;
    m_runView->setDetails(std::move(details.front()), m_model->runSet(), trainingOf(id));
    m_detailStack->setCurrentWidget(m_runView);
}

bool ExperimentsArea::selectRun(const QString &runId)
{
    QModelIndex idx = m_model->indexOfRun(runId);
    if (!idx.isValid() && m_model->runSet() && m_model->runSet()->find(runId) && !m_filter->text().isEmpty()) {
        // Hidden by the filter: clear it; the run is selected once the new layout arrives.
        m_pendingSelect = runId;
        m_filter->clear();
        m_filterTimer.stop();
        m_activeFilter.text.clear();
        startLayout();
        return true;
    }
    if (!idx.isValid())
        return false;
    if (idx.parent().isValid())
        m_view->expand(idx.parent());
    m_view->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_view->scrollTo(idx);
    showSelection();
    return true;
}

bool ExperimentsArea::compareRuns(const QStringList &runIds)
{
    QItemSelection selection;
    for (const QString &id : runIds) {
        const QModelIndex idx = m_model->indexOfRun(id);
        if (!idx.isValid())
            return false;
        selection.select(idx, idx.siblingAtColumn(m_model->columnCount() - 1));
    }
    m_view->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
    showSelection();
    return true;
}

void ExperimentsArea::sortBy(const QString &columnId, Qt::SortOrder order)
{
    const auto column = RunColumn::fromId(columnId);
    if (!column)
        return;
    m_sortColumn = *column;
    m_sortOrder = order;
    const auto &cols = m_model->columns();
    for (int i = 0; i < int(cols.size()); ++i)
        if (cols[size_t(i)] == *column) {
            QSignalBlocker block(m_view->header());
            m_view->header()->setSortIndicator(i, order);
        }
    startLayout();
}

void ExperimentsArea::setFilterText(const QString &text)
{
    {
        QSignalBlocker block(m_filter);
        m_filter->setText(text);
    }
    m_filterTimer.stop();
    m_activeFilter.text = text;
    startLayout();
}

QStringList ExperimentsArea::columnIds() const
{
    QStringList ids;
    for (const RunColumn &c : m_model->columns())
        ids << c.id();
    return ids;
}

void ExperimentsArea::setColumnIds(const QStringList &ids)
{
    std::vector<RunColumn> columns = {RunColumn{RunColumn::Kind::Name, {}}};
    for (const QString &id : ids)
        if (const auto c = RunColumn::fromId(id); c && c->kind != RunColumn::Kind::Name
            && std::find(columns.begin(), columns.end(), *c) == columns.end())
            columns.push_back(*c);
    m_userColumns = true;
    applyColumns(std::move(columns));
}

void ExperimentsArea::applyColumns(std::vector<RunColumn> columns)
{
    const QStringList selected = selectedRunIds();
    const QModelIndex current = m_view->currentIndex();
    const QString currentId = current.isValid() ? current.data(RunTableModel::RunIdRole).toString() : QString();
    {
        QSignalBlocker block(m_view->selectionModel());
        m_model->setColumns(std::move(columns));
        resizeColumns();
        restoreTreeState(selected, currentId);
    }
    const auto &cols = m_model->columns();
    for (int i = 0; i < int(cols.size()); ++i)
        if (cols[size_t(i)] == m_sortColumn) {
            QSignalBlocker block(m_view->header());
            m_view->header()->setSortIndicator(i, m_sortOrder);
        }
    emit columnsChanged();
}

void ExperimentsArea::toggleColumn(const RunColumn &column, bool on)
{
    std::vector<RunColumn> columns = m_model->columns();
    const auto it = std::find(columns.begin(), columns.end(), column);
    if (on && it == columns.end())
        columns.push_back(column);
    else if (!on && it != columns.end() && column.kind != RunColumn::Kind::Name)
        columns.erase(it);
    m_userColumns = true;
    applyColumns(std::move(columns));
}

void ExperimentsArea::buildColumnsMenu()
{
    QMenu *menu = m_columnsButton->menu();
    menu->clear();
    const auto &shown = m_model->columns();
    const auto addColumn = [&](QMenu *into, const RunColumn &c, const QString &label) {
        QAction *a = into->addAction(label);
        a->setCheckable(true);
        a->setChecked(std::find(shown.begin(), shown.end(), c) != shown.end());
        a->setEnabled(c.kind != RunColumn::Kind::Name);
        connect(a, &QAction::toggled, this, [this, c](bool on) { toggleColumn(c, on); });
    };
    for (const RunColumn &c : runFieldColumns())
        addColumn(menu, c, c.title());
    const std::shared_ptr<const RunSet> runs = m_model->runSet();
    QMenu *params = menu->addMenu(QStringLiteral("Parameters"));
    QMenu *metrics = menu->addMenu(QStringLiteral("Metrics"));
    if (runs) {
        for (const QString &k : runs->paramKeys)
            addColumn(params, RunColumn{RunColumn::Kind::Param, k}, k);
        for (const QString &k : runs->metricKeys)
            addColumn(metrics, RunColumn{RunColumn::Kind::Metric, k}, k);
    }
    params->setEnabled(!params->isEmpty());
    metrics->setEnabled(!metrics->isEmpty());
    menu->addSeparator();
    menu->addAction(QStringLiteral("Reset to Default Columns"), this, [this] {
        m_userColumns = false;
        if (const auto runs = m_model->runSet())
            applyColumns(defaultRunColumns(*runs));
    });
}

// ---- training ----

int ExperimentsArea::maxConcurrentTrainings()
{
    // TaskManager's pool has max(4, cores) threads; leave two for loading, sorting and reading runs.
    return std::max(4, QThread::idealThreadCount()) - 2;
}

std::vector<TrainingProcess *> ExperimentsArea::activeTrainings() const
{
    std::vector<TrainingProcess *> out;
    for (TrainingProcess *p : m_trainings)
        if (p->isActive())
            out.push_back(p);
    return out;
}

TrainingProcess *ExperimentsArea::trainingOf(const QString &runId) const
{
    if (runId.isEmpty())
        return nullptr;
    for (TrainingProcess *p : m_trainings)
        if (p->runId() == runId)
            return p;
    return nullptr;
}

NewRunDialog *ExperimentsArea::showNewRunDialog()
{
    if (m_root.isEmpty())
        return nullptr;
    if (m_dialog) {
        m_dialog->raise();
        m_dialog->activateWindow();
        return m_dialog;
    }
    const std::shared_ptr<const RunSet> runs = m_model->runSet();
    m_dialog = new NewRunDialog(m_root, m_datasets, runs ? runs->experiments : QStringList(), this);
    m_dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_dialog, &QObject::destroyed, this, [this] { m_dialog = nullptr; });
    connect(m_dialog, &QDialog::accepted, this, [this] {
        if (m_dialog)
            startTraining(m_dialog->request());
    });
    m_dialog->show();
    return m_dialog;
}

RegisterDialog *ExperimentsArea::registerRun(const QString &runId)
{
    if (m_root.isEmpty())
        return nullptr;
    QStringList models;
    if (auto ws = workspace::Workspace::open(m_root))
        if (auto names = registry::listModels(**ws))
            models = *names;
    QString label = runId.left(8);
    if (const auto runs = m_model->runSet())
        if (const tracking::RunSummary *s = runs->find(runId))
            label = QStringLiteral("%1 (%2, experiment %3)").arg(runId.left(8), s->run.name, s->run.experiment);
    auto *dialog = new RegisterDialog(label, models, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, runId] { registerRunAs(runId, dialog->name(), dialog->message()); });
    dialog->open();
    return dialog;
}

void ExperimentsArea::registerRunAs(const QString &runId, const QString &model, const QString &message)
{
    const QString root = m_root;
    m_tasks->start<registry::ModelVersion>(
        QStringLiteral("Register run %1 as %2").arg(runId.left(8), model), taskGroup("register"),
        [root, runId, model, message](Feedback &fb) -> Expected<registry::ModelVersion> {
            auto ws = workspace::Workspace::open(root);
            if (!ws)
                return ws.error();
            return registry::registerRun(**ws, runId, model, message, &fb);
        },
        this,
        [this](Expected<registry::ModelVersion> &&v) {
            const QString text = v ? QStringLiteral("Registered %1 from run %2").arg(v->ref(), v->runId.left(8)) : v.error().toString();
            emit statusMessage(text);
            emit modelRegistered(v ? v->ref() : QString(), text);
        });
}

void ExperimentsArea::branchFrom(const QString &runId)
{
    if (m_root.isEmpty())
        return;
    const auto open = [this](const RunDetails &details) {
        NewRunDialog *dialog = showNewRunDialog();
        if (!dialog)
            return;
        if (Status s = dialog->branchFrom(details); !s)
            emit statusMessage(s.error().toString());
    };
    if (m_runView->details() && m_runView->runId() == runId) {
        open(*m_runView->details());
        return;
    }
    const QString root = m_root;
    m_tasks->start<RunDetails>(
        QStringLiteral("Read run %1").arg(runId.left(8)), taskGroup("branch"),
        [root, runId](Feedback &fb) { return loadRunDetails(root, runId, &fb); }, this,
        [this, open](Expected<RunDetails> &&details) {
            if (!details) {
                emit statusMessage(details.error().toString());
                return;
            }
            open(*details);
        });
}

TrainingProcess *ExperimentsArea::startTraining(const NewRunRequest &request)
{
    if (m_root.isEmpty())
        return nullptr;
    if (int(activeTrainings().size()) >= maxConcurrentTrainings()) {
        emit statusMessage(QStringLiteral("%1 runs are training already; %2 was saved but not started. Start it when one "
                                          "ends (or run keel train %2).")
                               .arg(activeTrainings().size())
                               .arg(QFileInfo(request.configPath).fileName()));
        return nullptr;
    }
    auto *process = new TrainingProcess(m_tasks, TrainingRequest{m_root, request.configPath, request.parentRunId, {}}, this);
    m_trainings.push_back(process);
    connect(process, &TrainingProcess::started, this, [this, process](const QString &runId) { onTrainingStarted(process, runId); });
    connect(process, &TrainingProcess::ended, this, [this, process] { onTrainingEnded(process); });
    process->start(QStringLiteral("Train %1").arg(request.runName.isEmpty() ? QFileInfo(request.configPath).completeBaseName()
                                                                            : request.runName));
    emit statusMessage(QStringLiteral("Training %1 in a keel process (config %2)")
                           .arg(request.runName, QDir::toNativeSeparators(request.configPath)));
    return process;
}

void ExperimentsArea::onTrainingStarted(TrainingProcess *, const QString &runId)
{
    // The new run shows in the table and opens in the run view, where its curves grow.
    m_pendingSelect = runId;
    startLoad();
}

void ExperimentsArea::onTrainingEnded(TrainingProcess *process)
{
    const TrainingOutcome &o = process->outcome();
    switch (o.status) {
    case tracking::RunStatus::Finished:
        emit statusMessage(QStringLiteral("Run %1 finished").arg(o.runId.left(8)));
        break;
    case tracking::RunStatus::Killed:
        emit statusMessage(QStringLiteral("Run %1 was cancelled; it is recorded as killed").arg(o.runId.left(8)));
        break;
    default:
        emit statusMessage(QStringLiteral("Run %1 failed: %2").arg(o.runId.isEmpty() ? QStringLiteral("(not created)") : o.runId.left(8), o.message));
        break;
    }
    // Re-read the table (status, duration, final metrics) and the open run; the selection is kept.
    startLoad();
}

} // namespace keel::ui
