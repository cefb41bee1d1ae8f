#include "datatablewidget.h"

#include "tablemodel.h"
#include "taskmanager.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QPushButton>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>

namespace keel::ui {

namespace {

const RowFilter::Op kOps[] = {RowFilter::Op::Contains,    RowFilter::Op::Equals,         RowFilter::Op::NotEquals,
                              RowFilter::Op::Less,        RowFilter::Op::LessOrEqual,    RowFilter::Op::Greater,
                              RowFilter::Op::GreaterOrEqual, RowFilter::Op::IsMissing,  RowFilter::Op::IsPresent};

QString sanitizeCell(QString s)
{
    for (QChar &ch : s)
        if (ch == QLatin1Char('\t') || ch == QLatin1Char('\n') || ch == QLatin1Char('\r'))
            ch = QLatin1Char(' ');
    return s;
}

} // namespace

DataTableWidget::DataTableWidget(TaskManager *tasks, QWidget *parent)
    : QWidget(parent), m_tasks(tasks), m_model(new TableModel(this)), m_view(new QTableView(this))
{
    m_view->setObjectName(QStringLiteral("dataTable"));
    m_view->setModel(m_model);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_view->setVerticalScrollMode(QAbstractItemView::ScrollPerItem);
    QHeaderView *vh = m_view->verticalHeader();
    vh->setSectionResizeMode(QHeaderView::Fixed);
    vh->setDefaultSectionSize(fontMetrics().height() + 6);
    vh->setDefaultAlignment(Qt::AlignRight | Qt::AlignVCenter);
    QHeaderView *hh = m_view->horizontalHeader();
    hh->setSectionsClickable(true);
    hh->setSortIndicatorShown(true);
    hh->setSortIndicator(-1, Qt::AscendingOrder);
    hh->setHighlightSections(true);
    hh->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(hh, &QHeaderView::sortIndicatorChanged, this, &DataTableWidget::onSortIndicatorChanged);
    connect(hh, &QHeaderView::customContextMenuRequested, this, [this, hh](const QPoint &pos) {
        const int column = hh->logicalIndexAt(pos);
        QMenu menu(this);
        if (column >= 0) {
            menu.addAction(QStringLiteral("Sort ascending"), this, [this, column] { sortByColumn(column, Qt::AscendingOrder); });
            menu.addAction(QStringLiteral("Sort descending"), this, [this, column] { sortByColumn(column, Qt::DescendingOrder); });
        }
        menu.addAction(QStringLiteral("Table order"), this, [this] { sortByColumn(-1, Qt::AscendingOrder); });
        menu.exec(hh->mapToGlobal(pos));
    });

    auto *copy = new QAction(QStringLiteral("Copy"), m_view);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(copy, &QAction::triggered, this, &DataTableWidget::copySelection);
    m_view->addAction(copy);

    // Filter bar.
    m_filterBar = new QWidget(this);
    m_filterColumn = new QComboBox(m_filterBar);
    m_filterColumn->setObjectName(QStringLiteral("filterColumn"));
    m_filterColumn->setMinimumContentsLength(12);
    m_filterColumn->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_filterOp = new QComboBox(m_filterBar);
    for (RowFilter::Op op : kOps)
        m_filterOp->addItem(filterOpLabel(op), int(op));
    m_filterValue = new QLineEdit(m_filterBar);
    m_filterValue->setPlaceholderText(QStringLiteral("value"));
    m_filterValue->setClearButtonEnabled(true);
    m_filterValue->setMinimumWidth(140);
    auto *apply = new QPushButton(QStringLiteral("Filter"), m_filterBar);
    auto *clearFilter = new QPushButton(QStringLiteral("Show all"), m_filterBar);
    connect(apply, &QPushButton::clicked, this, &DataTableWidget::applyFilterFromBar);
    connect(m_filterValue, &QLineEdit::returnPressed, this, &DataTableWidget::applyFilterFromBar);
    connect(clearFilter, &QPushButton::clicked, this, [this] { setFilter(std::nullopt); });
    connect(m_filterOp, &QComboBox::currentIndexChanged, this, [this] {
        const auto op = RowFilter::Op(m_filterOp->currentData().toInt());
        m_filterValue->setEnabled(op != RowFilter::Op::IsMissing && op != RowFilter::Op::IsPresent);
    });
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("tableSummary"));
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setForegroundRole(QPalette::PlaceholderText);
    auto *fl = new QHBoxLayout(m_filterBar);
    fl->setContentsMargins(0, 0, 0, 0);
    fl->addWidget(new QLabel(QStringLiteral("Where"), m_filterBar));
    fl->addWidget(m_filterColumn);
    fl->addWidget(m_filterOp);
    fl->addWidget(m_filterValue, 1);
    fl->addWidget(apply);
    fl->addWidget(clearFilter);

    // Find bar (hidden until Ctrl+F).
    m_findBar = new QWidget(this);
    m_findText = new QLineEdit(m_findBar);
    m_findText->setObjectName(QStringLiteral("findText"));
    m_findText->setPlaceholderText(QStringLiteral("Find value"));
    m_findText->setClearButtonEnabled(true);
    m_findColumn = new QComboBox(m_findBar);
    m_findColumn->setMinimumContentsLength(12);
    m_findColumn->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    auto *next = new QPushButton(QStringLiteral("Find next"), m_findBar);
    auto *close = new QToolButton(m_findBar);
    close->setText(QStringLiteral("\u00d7"));
    close->setToolTip(QStringLiteral("Close the find bar (Esc)"));
    close->setAutoRaise(true);
    const auto doFind = [this] { findNext(m_findText->text(), m_findColumn->currentIndex() - 1); };
    connect(next, &QPushButton::clicked, this, doFind);
    connect(m_findText, &QLineEdit::returnPressed, this, doFind);
    connect(close, &QToolButton::clicked, m_findBar, &QWidget::hide);
    auto *findLayout = new QHBoxLayout(m_findBar);
    findLayout->setContentsMargins(0, 0, 0, 0);
    findLayout->addWidget(new QLabel(QStringLiteral("Find"), m_findBar));
    findLayout->addWidget(m_findText, 1);
    findLayout->addWidget(new QLabel(QStringLiteral("in"), m_findBar));
    findLayout->addWidget(m_findColumn);
    findLayout->addWidget(next);
    findLayout->addWidget(close);
    m_findBar->hide();

    auto *findAction = new QAction(QStringLiteral("Find"), this);
    findAction->setShortcut(QKeySequence::Find);
    findAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(findAction, &QAction::triggered, this, &DataTableWidget::showFind);
    addAction(findAction);
    auto *findNextAction = new QAction(QStringLiteral("Find next"), this);
    findNextAction->setShortcut(QKeySequence::FindNext);
    findNextAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(findNextAction, &QAction::triggered, this, doFind);
    addAction(findNextAction);
    auto *escape = new QAction(this);
    escape->setShortcut(QKeySequence::Cancel);
    escape->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(escape, &QAction::triggered, m_findBar, &QWidget::hide);
    m_findBar->addAction(escape);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(m_filterBar);
    layout->addWidget(m_findBar);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_summary);

    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex &current) {
                const int column = current.isValid() ? current.column() : -1;
                if (column != m_lastColumn && column >= 0) {
                    m_lastColumn = column;
                    emit currentColumnChanged(column);
                }
            });
    connect(m_tasks, &TaskManager::taskEnded, this, [this](quint64 id, TaskState state, const QString &) {
        const auto info = m_tasks->info(id);
        if (state == TaskState::Cancelled && info && info->group == group("order")) {
            // A cancelled sort/filter leaves the shown order in place; make the controls say so.
            m_requestedSortColumn = m_sortColumn;
            m_requestedSortOrder = m_sortOrder;
            m_requestedFilter = m_filter;
            updateSortIndicator();
        }
    });
    updateSummary();
}

DataTableWidget::~DataTableWidget()
{
    m_tasks->cancelGroup(group("order"));
    m_tasks->cancelGroup(group("find"));
    m_tasks->cancelGroup(group("copy"));
}

QString DataTableWidget::group(const char *what) const
{
    return QStringLiteral("table-%1-%2").arg(QLatin1String(what)).arg(quintptr(this), 0, 16);
}

void DataTableWidget::setTable(data::Table table, const QString &label)
{
    m_tasks->cancelGroup(group("order"));
    m_tasks->cancelGroup(group("find"));
    m_label = label;
    m_sortColumn = m_requestedSortColumn = -1;
    m_sortOrder = m_requestedSortOrder = Qt::AscendingOrder;
    m_sorted.reset();
    m_filter.reset();
    m_requestedFilter.reset();
    m_lastColumn = -1;
    m_model->setTable(std::move(table));
    setColumnChoices();
    fitColumnWidths(m_view, m_model->table());
    updateSortIndicator();
    updateSummary();
    emit rowIndexChanged();
}

void DataTableWidget::clear() { setTable(data::Table(), QString()); }

void DataTableWidget::setColumnChoices()
{
    const QString filterCol = m_filterColumn->currentText();
    m_filterColumn->clear();
    m_findColumn->clear();
    m_findColumn->addItem(QStringLiteral("all columns"));
    const data::Table &t = m_model->table();
    for (int c = 0; c < t.columnCount(); ++c) {
        m_filterColumn->addItem(t.column(c).name());
        m_findColumn->addItem(t.column(c).name());
    }
    const int keep = m_filterColumn->findText(filterCol);
    if (keep >= 0)
        m_filterColumn->setCurrentIndex(keep);
}

void fitColumnWidths(QTableView *view, const data::Table &t, qint64 sampleRows)
{
    const QFontMetrics fm = view->fontMetrics();
    const QFontMetrics hfm = view->horizontalHeader()->fontMetrics();
    const qint64 sample = std::min<qint64>(t.rowCount(), sampleRows);
    for (int c = 0; c < t.columnCount(); ++c) {
        int w = hfm.horizontalAdvance(t.column(c).name()) + 34;
        for (qint64 r = 0; r < sample; ++r)
            w = std::max(w, fm.horizontalAdvance(TableModel::cellText(t.column(c), r)) + 14);
        view->setColumnWidth(c, std::clamp(w, 56, 320));
    }
}

void DataTableWidget::onSortIndicatorChanged(int column, Qt::SortOrder order)
{
    if (m_settingIndicator)
        return;
    sortByColumn(column, order);
}

void DataTableWidget::sortByColumn(int column, Qt::SortOrder order)
{
    if (column >= m_model->columnCount())
        column = -1;
    m_requestedSortColumn = column;
    m_requestedSortOrder = order;
    updateSortIndicator();
    startOrderTask();
}

void DataTableWidget::setFilter(std::optional<RowFilter> filter)
{
    m_requestedFilter = std::move(filter);
    startOrderTask();
}

void DataTableWidget::applyFilterFromBar()
{
    if (m_filterColumn->currentIndex() < 0)
        return;
    setFilter(RowFilter{m_filterColumn->currentIndex(), RowFilter::Op(m_filterOp->currentData().toInt()),
                        m_filterValue->text()});
}

void DataTableWidget::startOrderTask()
{
    m_tasks->cancelGroup(group("find"));
    const data::Table table = m_model->table();
    const int column = m_requestedSortColumn;
    const Qt::SortOrder order = m_requestedSortOrder;
    const std::optional<RowFilter> filter = m_requestedFilter;
    std::shared_ptr<const RowIndex> cached =
        (column >= 0 && column == m_sortColumn && order == m_sortOrder) ? m_sorted : nullptr;

    QStringList what;
    if (column >= 0)
        what << QStringLiteral("sort by %1").arg(table.column(column).name());
    if (filter)
        what << QStringLiteral("filter %1").arg(table.column(filter->column).name());
    if (what.isEmpty())
        what << QStringLiteral("table order");
    const QString title = m_label + QStringLiteral(": ") + what.join(QStringLiteral(", "));

    m_tasks->start<OrderResult>(
        title, group("order"),
        [table, column, order, filter, cached](Feedback &fb) -> Expected<OrderResult> {
            OrderResult r;
            if (column >= 0) {
                if (cached) {
                    r.sorted = cached;
                } else {
                    auto sorted = sortRows(table, column, order, &fb);
                    if (!sorted)
                        return sorted.error();
                    r.sorted = std::make_shared<const RowIndex>(std::move(*sorted));
                }
            }
            if (filter) {
                auto rows = filterRows(table, r.sorted.get(), *filter, &fb);
                if (!rows)
                    return rows.error();
                r.visible = std::make_shared<const RowIndex>(std::move(*rows));
            } else {
                r.visible = r.sorted;
            }
            return r;
        },
        this,
        [this, column, order, filter](Expected<OrderResult> &&result) {
            if (!result) {
                m_requestedSortColumn = m_sortColumn;
                m_requestedSortOrder = m_sortOrder;
                m_requestedFilter = m_filter;
                updateSortIndicator();
                emit statusMessage(result.error().toString());
                return;
            }
            m_sortColumn = column;
            m_sortOrder = order;
            m_sorted = result->sorted;
            m_filter = filter;
            m_model->setRowIndex(result->visible);
            updateSortIndicator();
            updateSummary();
            emit rowIndexChanged();
        });
}

void DataTableWidget::updateSortIndicator()
{
    m_settingIndicator = true;
    m_view->horizontalHeader()->setSortIndicator(m_requestedSortColumn, m_requestedSortOrder);
    m_settingIndicator = false;
}

void DataTableWidget::updateSummary()
{
    const QLocale loc;
    const data::Table &t = m_model->table();
    if (t.columnCount() == 0) {
        m_summary->clear();
        return;
    }
    QString text = m_filter ? QStringLiteral("%1 of %2 rows").arg(loc.toString(m_model->viewRowCount()), loc.toString(t.rowCount()))
                            : QStringLiteral("%1 rows").arg(loc.toString(t.rowCount()));
    if (m_sortColumn >= 0)
        text += QStringLiteral(" \u00b7 sorted by %1 %2")
                    .arg(t.column(m_sortColumn).name(),
                         m_sortOrder == Qt::AscendingOrder ? QStringLiteral("\u2191") : QStringLiteral("\u2193"));
    if (m_filter)
        text += QStringLiteral(" \u00b7 where %1 %2 %3")
                    .arg(t.column(m_filter->column).name(), filterOpLabel(m_filter->op), m_filter->value);
    m_summary->setText(text);
}

void DataTableWidget::showFind()
{
    m_findBar->show();
    m_findText->setFocus();
    m_findText->selectAll();
}

void DataTableWidget::findNext(const QString &text, int column)
{
    if (text.isEmpty() || m_model->columnCount() == 0)
        return;
    const data::Table table = m_model->table();
    const std::shared_ptr<const RowIndex> rows = m_model->rowIndex();
    const QModelIndex current = m_view->currentIndex();
    qint64 from = 0;
    int fromColumn = 0;
    if (current.isValid()) {
        from = current.row();
        fromColumn = current.column() + 1;
    }
    // Cells right of the current one in the current row come first; then the search goes on from the next row.
    std::optional<FoundCell> inRow;
    if (current.isValid()) {
        for (int c = fromColumn; c < table.columnCount() && !inRow; ++c) {
            if (column >= 0 && c != column)
                continue;
            const qint64 r = m_model->sourceRow(from);
            if (!table.column(c).isNull(r) && table.column(c).displayAt(r).contains(text, Qt::CaseInsensitive))
                inRow = FoundCell{from, c};
        }
        from += 1;
    }
    if (inRow) {
        const QModelIndex idx = m_model->index(int(inRow->position), inRow->column);
        m_view->setCurrentIndex(idx);
        m_view->scrollTo(idx);
        emit findFinished(true);
        return;
    }
    const qint64 n = m_model->viewRowCount();
    if (from >= n)
        from = 0;
    m_tasks->start<std::optional<FoundCell>>(
        QStringLiteral("%1: find \u201c%2\u201d").arg(m_label, text), group("find"),
        [table, rows, from, column, text](Feedback &fb) { return findValue(table, rows.get(), from, column, text, &fb); },
        this,
        [this, rows, text](Expected<std::optional<FoundCell>> &&found) {
            if (m_model->rowIndex() != rows)
                return; // the order changed meanwhile: the position is stale
            if (!found) {
                emit statusMessage(found.error().toString());
                emit findFinished(false);
                return;
            }
            if (!*found) {
                emit statusMessage(QStringLiteral("\u201c%1\u201d not found").arg(text));
                emit findFinished(false);
                return;
            }
            const QModelIndex idx = m_model->index(int((*found)->position), (*found)->column);
            m_view->setCurrentIndex(idx);
            m_view->scrollTo(idx, QAbstractItemView::PositionAtCenter);
            emit findFinished(true);
        });
}

bool DataTableWidget::goToRow(qint64 tableRow)
{
    qint64 position = -1;
    if (const auto rows = m_model->rowIndex()) {
        const auto it = std::find(rows->begin(), rows->end(), tableRow);
        if (it != rows->end())
            position = it - rows->begin();
    } else if (tableRow >= 0 && tableRow < m_model->viewRowCount()) {
        position = tableRow;
    }
    if (position < 0 || position >= m_model->rowCount()) {
        emit statusMessage(QStringLiteral("Row %1 is hidden by the filter").arg(tableRow + 1));
        return false;
    }
    const int column = std::max(0, m_view->currentIndex().column());
    const QModelIndex idx = m_model->index(int(position), column);
    m_view->setCurrentIndex(idx);
    m_view->scrollTo(idx, QAbstractItemView::PositionAtCenter);
    return true;
}

std::vector<QRect> DataTableWidget::selectionRects() const
{
    std::vector<QRect> rects;
    const QItemSelection selection = m_view->selectionModel()->selection();
    for (const QItemSelectionRange &r : selection)
        rects.push_back(QRect(QPoint(r.left(), r.top()), QPoint(r.right(), r.bottom())));
    return rects;
}

Expected<QString> cellsText(const data::Table &t, const RowIndex *rows, const std::vector<QRect> &ranges, qint64 maxCells,
                            bool *truncated, Feedback *feedback)
{
    if (truncated)
        *truncated = false;
    if (ranges.empty())
        return QString();
    QRect box = ranges.front();
    for (const QRect &r : ranges)
        box = box.united(r);
    const qint64 columns = box.width();
    qint64 rowCount = box.height();
    if (rowCount * columns > maxCells) {
        rowCount = std::max<qint64>(1, maxCells / columns);
        if (truncated)
            *truncated = true;
    }
    const bool single = ranges.size() == 1;
    QString out;
    for (qint64 k = 0; k < rowCount; ++k) {
        if ((k & 0xfff) == 0) {
            if (isCancelled(feedback))
                return cancelledError();
            reportProgress(feedback, k, rowCount, QStringLiteral("copy"));
        }
        const int vr = box.top() + int(k);
        const qint64 r = rows ? (*rows)[size_t(vr)] : vr;
        for (int c = box.left(); c <= box.right(); ++c) {
            if (c > box.left())
                out += QLatin1Char('\t');
            bool inside = single;
            for (size_t i = 0; !inside && i < ranges.size(); ++i)
                inside = ranges[i].contains(c, vr);
            if (inside)
                out += sanitizeCell(TableModel::copyText(t.column(c), r));
        }
        out += QLatin1Char('\n');
    }
    return out;
}

QString DataTableWidget::selectionText(qint64 maxCells, bool *truncated) const
{
    auto text = cellsText(m_model->table(), m_model->rowIndex().get(), selectionRects(), maxCells, truncated);
    return text ? *text : QString();
}

void DataTableWidget::copySelection()
{
    constexpr qint64 kMaxCells = 2'000'000;
    constexpr qint64 kInlineCells = 100'000;
    const std::vector<QRect> rects = selectionRects();
    if (rects.empty())
        return;
    QRect box = rects.front();
    for (const QRect &r : rects)
        box = box.united(r);
    const qint64 cells = qint64(box.width()) * box.height();
    const auto done = [this](const QString &text, bool truncated, qint64 n) {
        QApplication::clipboard()->setText(text);
        emit statusMessage(truncated ? QStringLiteral("Copied the first %1 cells of the selection").arg(QLocale().toString(n))
                                     : QStringLiteral("Copied %1 cells").arg(QLocale().toString(n)));
        emit copied(n);
    };
    if (cells <= kInlineCells) {
        bool truncated = false;
        auto text = cellsText(m_model->table(), m_model->rowIndex().get(), rects, kMaxCells, &truncated);
        if (text)
            done(*text, truncated, cells);
        return;
    }
    const data::Table table = m_model->table();
    const std::shared_ptr<const RowIndex> rows = m_model->rowIndex();
    const qint64 copiedCells = std::min(cells, kMaxCells);
    struct Copied {
        QString text;
        bool truncated = false;
    };
    m_tasks->start<Copied>(
        QStringLiteral("Copy %1 cells").arg(QLocale().toString(copiedCells)), group("copy"),
        [table, rows, rects](Feedback &fb) -> Expected<Copied> {
            Copied c;
            auto text = cellsText(table, rows.get(), rects, kMaxCells, &c.truncated, &fb);
            if (!text)
                return text.error();
            c.text = std::move(*text);
            return c;
        },
        this, [done, copiedCells](Expected<Copied> &&c) {
            if (c)
                done(c->text, c->truncated, copiedCells);
        });
}

} // namespace keel::ui
