#include "datasetsarea.h"

#include "datatablewidget.h"
#include "diffview.h"
#include "emptystate.h"
#include "profilepanel.h"
#include "tablemodel.h"
#include "taskmanager.h"
#include "validationview.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableView>
#include <QTreeView>
#include <QVBoxLayout>

namespace keel::ui {

DatasetsArea::DatasetsArea(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_stack(new QStackedWidget(this)),
      m_noWorkspace(new EmptyState(QStringLiteral("No workspace open"),
                                   QStringLiteral("A workspace is a folder that versions datasets with git and a "
                                                  "content-addressed store. Open one, create an empty one, or create one "
                                                  "holding the bundled example datasets."),
                                   this)),
      m_catalog(new DatasetCatalogModel(this)), m_tree(new QTreeView(this)), m_rightStack(new QStackedWidget(this)),
      m_noVersion(new EmptyState(QStringLiteral("No dataset open"), QString(), this)), m_header(new QLabel(this)),
      m_tabs(new QTabWidget(this)), m_table(new DataTableWidget(tasks, this)), m_profile(new ProfilePanel(this)),
      m_summaryModel(new ColumnSummaryModel(this)), m_summarySorted(new QSortFilterProxyModel(this)),
      m_summaryView(new QTableView(this)), m_columnsProfile(new ProfilePanel(this)), m_diff(new DiffView(tasks, this)),
      m_validation(new ValidationView(tasks, this))
{
    connect(m_noWorkspace->addButton(QStringLiteral("Open workspace\u2026")), &QPushButton::clicked, this,
            &DatasetsArea::openWorkspaceRequested);
    connect(m_noWorkspace->addButton(QStringLiteral("New workspace\u2026")), &QPushButton::clicked, this,
            &DatasetsArea::newWorkspaceRequested);
    connect(m_noWorkspace->addButton(QStringLiteral("New example workspace\u2026")), &QPushButton::clicked, this,
            &DatasetsArea::exampleWorkspaceRequested);
    connect(m_noVersion->addButton(QStringLiteral("Import a file\u2026")), &QPushButton::clicked, this,
            &DatasetsArea::importRequested);

    // Left: the catalog.
    auto *importButton = new QPushButton(QStringLiteral("Import\u2026"), this);
    auto *refreshButton = new QPushButton(QStringLiteral("Refresh"), this);
    connect(importButton, &QPushButton::clicked, this, &DatasetsArea::importRequested);
    connect(refreshButton, &QPushButton::clicked, this, [this] { refresh(); });
    auto *leftBar = new QHBoxLayout;
    auto *title = new QLabel(QStringLiteral("<b>Datasets</b>"), this);
    leftBar->addWidget(title);
    leftBar->addStretch();
    leftBar->addWidget(importButton);
    leftBar->addWidget(refreshButton);
    m_tree->setObjectName(QStringLiteral("catalogTree"));
    m_tree->setModel(m_catalog);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->header()->setStretchLastSection(true);
    m_tree->header()->resizeSection(DatasetCatalogModel::NameColumn, 150);
    m_tree->header()->resizeSection(DatasetCatalogModel::RowsColumn, 70);
    m_tree->header()->resizeSection(DatasetCatalogModel::SizeColumn, 70);
    m_tree->header()->resizeSection(DatasetCatalogModel::DateColumn, 120);
    m_tree->header()->resizeSection(DatasetCatalogModel::AuthorColumn, 90);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, &DatasetsArea::onCatalogSelection);
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(6, 6, 0, 6);
    leftLayout->addLayout(leftBar);
    leftLayout->addWidget(m_tree, 1);

    // Right: the open version.
    auto *tableSplit = new QSplitter(this);
    tableSplit->setObjectName(QStringLiteral("tableProfileSplitter"));
    tableSplit->addWidget(m_table);
    tableSplit->addWidget(m_profile);
    tableSplit->setStretchFactor(0, 3);
    tableSplit->setStretchFactor(1, 1);
    tableSplit->setSizes({760, 340});
    connect(m_table, &DataTableWidget::currentColumnChanged, this, &DatasetsArea::showColumnProfile);
    connect(m_table, &DataTableWidget::statusMessage, this, &DatasetsArea::statusMessage);

    m_summarySorted->setSourceModel(m_summaryModel);
    m_summarySorted->setSortRole(ColumnSummaryModel::RawRole);
    m_summaryView->setObjectName(QStringLiteral("columnSummary"));
    m_summaryView->setModel(m_summarySorted);
    m_summaryView->setSortingEnabled(true);
    m_summaryView->sortByColumn(-1, Qt::AscendingOrder);
    m_summaryView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_summaryView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_summaryView->setAlternatingRowColors(true);
    m_summaryView->verticalHeader()->hide();
    m_summaryView->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_summaryView->horizontalHeader()->setStretchLastSection(true);
    m_summaryView->setWordWrap(false);
    connect(m_summaryView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (!current.isValid() || !m_version)
                    return;
                const QString name = m_summarySorted->index(current.row(), ColumnSummaryModel::NameColumn).data().toString();
                const data::ColumnProfile *p = m_version->record.profile.find(name);
                m_columnsProfile->setProfile(p ? std::optional<data::ColumnProfile>(*p) : std::nullopt);
            });
    auto *columnsSplit = new QSplitter(this);
    columnsSplit->setObjectName(QStringLiteral("columnsSplitter"));
    columnsSplit->addWidget(m_summaryView);
    columnsSplit->addWidget(m_columnsProfile);
    columnsSplit->setStretchFactor(0, 3);
    columnsSplit->setStretchFactor(1, 2);
    columnsSplit->setSizes({680, 420});

    m_tabs->setObjectName(QStringLiteral("datasetTabs"));
    m_tabs->addTab(tableSplit, QStringLiteral("Table"));
    m_tabs->addTab(columnsSplit, QStringLiteral("Columns"));
    m_tabs->addTab(m_diff, QStringLiteral("Diff"));
    m_tabs->addTab(m_validation, QStringLiteral("Validation"));
    m_tabs->setDocumentMode(true);
    connect(m_diff, &DiffView::statusMessage, this, &DatasetsArea::statusMessage);
    connect(m_validation, &ValidationView::statusMessage, this, &DatasetsArea::statusMessage);
    connect(m_validation, &ValidationView::showRowRequested, this, [this](qint64 row) {
        m_tabs->setCurrentIndex(TableTab);
        m_table->goToRow(row);
    });

    m_header->setObjectName(QStringLiteral("versionHeader"));
    m_header->setTextFormat(Qt::RichText);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *content = new QWidget(this);
    auto *contentLayout = new QVBoxLayout(content);
    contentLayout->setContentsMargins(6, 6, 6, 0);
    contentLayout->addWidget(m_header);
    contentLayout->addWidget(m_tabs, 1);
    m_rightStack->addWidget(m_noVersion);
    m_rightStack->addWidget(content);

    auto *split = new QSplitter(this);
    split->setObjectName(QStringLiteral("datasetsSplitter"));
    split->addWidget(left);
    split->addWidget(m_rightStack);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setSizes({340, 1000});

    m_stack->addWidget(m_noWorkspace);
    m_stack->addWidget(split);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);
}

DatasetsArea::~DatasetsArea()
{
    m_tasks->cancelGroup(QStringLiteral("catalog"));
    m_tasks->cancelGroup(QStringLiteral("open-version"));
}

void DatasetsArea::setCatalog(const jobs::Catalog &catalog)
{
    const bool sameWorkspace = catalog.root == m_root;
    const QString keep = m_version && sameWorkspace ? m_version->ref() : QString();
    m_root = catalog.root;
    m_remotes = catalog.remotes;
    if (!sameWorkspace) {
        m_version.reset();
        m_table->clear();
        m_profile->setProfile(std::nullopt);
        m_columnsProfile->setProfile(std::nullopt);
        m_summaryModel->setProfile({});
        m_validation->clear();
    }
    m_catalog->setDatasets(catalog.datasets);
    m_tree->expandAll();
    m_diff->setCatalog(m_root, catalog.datasets);
    m_stack->setCurrentIndex(m_root.isEmpty() ? 0 : 1);
    m_noVersion->setText(catalog.datasets.empty()
                             ? QStringLiteral("This workspace has no datasets yet. Import a CSV, TSV or JSON Lines file "
                                              "with File \u25b8 Import, or drop one on the window: it becomes the first "
                                              "version of a new dataset.")
                             : QStringLiteral("Pick a dataset or one of its versions on the left. Dropping a file on the "
                                              "window adds it as a new version."));
    if (!m_version)
        m_rightStack->setCurrentIndex(0);
    const QString select = !m_pendingSelect.isEmpty() ? m_pendingSelect : keep;
    m_pendingSelect.clear();
    if (!select.isEmpty()) {
        const QModelIndex idx = m_catalog->indexOfRef(select);
        if (idx.isValid())
            m_tree->setCurrentIndex(idx);
    }
    emit catalogLoaded();
}

void DatasetsArea::refresh(const QString &selectRef)
{
    if (m_root.isEmpty())
        return;
    m_pendingSelect = selectRef;
    const QString root = m_root;
    m_tasks->start<jobs::Catalog>(
        QStringLiteral("List datasets"), QStringLiteral("catalog"),
        [root](Feedback &fb) { return jobs::loadCatalog(root, &fb); }, this, [this](Expected<jobs::Catalog> &&c) {
            if (!c) {
                emit statusMessage(c.error().toString());
                return;
            }
            setCatalog(*c);
        });
}

void DatasetsArea::onCatalogSelection()
{
    const QModelIndex current = m_tree->currentIndex();
    if (!current.isValid())
        return;
    QString ref;
    if (const workspace::DatasetVersion *v = m_catalog->version(current)) {
        ref = v->ref();
    } else {
        const DatasetHistory *d = m_catalog->dataset(current.data(DatasetCatalogModel::DatasetRole).toString());
        if (!d || d->versions.empty())
            return;
        ref = d->versions.back().ref();
    }
    if (m_version && m_version->ref() == ref)
        return;
    openVersion(ref);
}

void DatasetsArea::openVersion(const QString &ref)
{
    if (m_root.isEmpty())
        return;
    const QString root = m_root;
    m_tasks->start<jobs::OpenedVersion>(
        QStringLiteral("Open %1").arg(ref), QStringLiteral("open-version"),
        [root, ref](Feedback &fb) { return jobs::openVersion(root, ref, &fb); }, this,
        [this](Expected<jobs::OpenedVersion> &&opened) {
            if (!opened) {
                emit statusMessage(opened.error().toString());
                return;
            }
            m_version = opened->version;
            const QString ref = m_version->ref();
            m_table->setTable(opened->table, ref);
            m_summaryModel->setProfile(m_version->record.profile);
            m_summaryView->resizeColumnsToContents();
            m_validation->setVersion(m_root, *m_version, opened->table);
            m_diff->suggestPair(ref);
            showVersionHeader();
            showColumnProfile(0);
            m_columnsProfile->setProfile(m_version->record.profile.columns.empty()
                                             ? std::nullopt
                                             : std::optional<data::ColumnProfile>(m_version->record.profile.columns.front()));
            m_rightStack->setCurrentIndex(1);
            const QModelIndex idx = m_catalog->indexOfRef(ref);
            if (idx.isValid() && m_tree->currentIndex() != idx) {
                QSignalBlocker block(m_tree->selectionModel());
                m_tree->setCurrentIndex(idx);
            }
            emit versionOpened(ref);
        });
}

void DatasetsArea::showVersionHeader()
{
    const workspace::DatasetVersion &v = *m_version;
    const QLocale loc;
    QString author = v.commit.author;
    if (const qsizetype lt = author.indexOf(QLatin1Char('<')); lt > 0)
        author = author.left(lt).trimmed();
    m_header->setText(QStringLiteral("<b style='font-size:large'>%1</b> &nbsp; %2 rows \u00d7 %3 columns \u00b7 %4 %5 from "
                                     "%6<br><span>%7 \u00b7 %8 \u00b7 commit %9</span>")
                          .arg(v.ref().toHtmlEscaped(),
                               v.record.parsed ? loc.toString(v.record.rows) : QStringLiteral("(not parsed yet)"),
                               v.record.parsed ? QString::number(v.record.schema.size()) : QStringLiteral("?"),
                               formatBytes(v.record.size), v.record.format.toHtmlEscaped(),
                               QFileInfo(v.record.source).fileName().toHtmlEscaped(),
                               v.commit.message.section(QLatin1Char('\n'), 0, 0).toHtmlEscaped(),
                               QString(author + QStringLiteral(", ") + v.commit.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))).toHtmlEscaped(),
                               v.commit.id.left(10)));
}

void DatasetsArea::showColumnProfile(int column)
{
    if (!m_version)
        return;
    const data::TableProfile &profile = m_version->record.profile;
    const data::Table &t = m_table->model()->table();
    const data::ColumnProfile *p = nullptr;
    if (column >= 0 && column < t.columnCount())
        p = profile.find(t.column(column).name());
    m_profile->setProfile(p ? std::optional<data::ColumnProfile>(*p) : std::nullopt);
}

quint64 DatasetsArea::startImport(const jobs::ImportRequest &request)
{
    const QString root = m_root;
    return m_tasks->start<workspace::AddOutcome>(
        QStringLiteral("Import %1 as %2").arg(QFileInfo(request.file).fileName(), request.name), QString(),
        [root, request](Feedback &fb) { return jobs::importDataset(root, request, &fb); }, this,
        [this](Expected<workspace::AddOutcome> &&outcome) {
            if (!outcome) {
                emit statusMessage(QStringLiteral("Import failed: ") + outcome.error().toString());
                emit importFinished(false, outcome.error().toString());
                return;
            }
            const QString ref = outcome->version.ref();
            if (outcome->unchanged)
                emit statusMessage(QStringLiteral("%1 is unchanged: these bytes are already %2; nothing committed")
                                       .arg(outcome->version.record.name, ref));
            else
                emit statusMessage(QStringLiteral("Added %1: %2 rows, %3 new in the store")
                                       .arg(ref, QLocale().toString(outcome->version.record.rows), formatBytes(outcome->newBytes)));
            refresh(ref);
            emit importFinished(true, ref);
        });
}

} // namespace keel::ui
