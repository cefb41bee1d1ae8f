#pragma once
// The dataset table: a QTableView over TableModel with sort (header click), a filter bar, find (Ctrl+F, F3) and
// copy (Ctrl+C, tab-separated). Sorting, filtering and finding run as tasks; their row index is swapped into the
// model when it arrives, and a newer request supersedes an older one.

#include "data/table.h"
#include "tableorder.h"

#include <QRect>
#include <QWidget>

#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;
class QToolButton;

namespace keel::ui {

class TableModel;
class TaskManager;

/// A table view with sort, filter, find and copy. UI thread only; `tasks` must outlive the widget.
class DataTableWidget : public QWidget {
    Q_OBJECT
public:
    explicit DataTableWidget(TaskManager *tasks, QWidget *parent = nullptr);
    ~DataTableWidget() override;

    /// Shows a new table (cancels running sort/filter/find tasks, clears sort and filter). `label` names it in
    /// task titles ("adult_train@v2").
    void setTable(data::Table table, const QString &label);
    /// Shows nothing.
    void clear();

    TableModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }

    /// Starts sorting by `column` (-1: table order). The order shows when the task finishes.
    void sortByColumn(int column, Qt::SortOrder order);
    /// Starts filtering (nullopt: no filter), applied after the current sort.
    void setFilter(std::optional<RowFilter> filter);
    /// Starts a search for `text` after the current cell (only in `column` when >= 0); selects what it finds.
    void findNext(const QString &text, int column = -1);

    int sortColumn() const { return m_sortColumn; }
    Qt::SortOrder sortOrder() const { return m_sortOrder; }
    const std::optional<RowFilter> &filter() const { return m_filter; }

    /// The selected cells as tab-separated text (rows in view order, the selection's bounding columns).
    /// At most `maxCells` cells; `truncated` says whether the selection was larger.
    QString selectionText(qint64 maxCells = 2'000'000, bool *truncated = nullptr) const;
    /// Puts the selected cells on the clipboard as tab-separated text; large selections are gathered in a task.
    void copySelection();
    /// Shows the find bar and focuses it.
    void showFind();
    /// Selects and scrolls to a table row (0-based); false when the current filter hides it.
    bool goToRow(qint64 tableRow);

signals:
    /// The current cell moved to another column (-1 when none).
    void currentColumnChanged(int column);
    /// A new row order/filter was swapped in.
    void rowIndexChanged();
    /// A search finished; `found` tells whether a cell was selected.
    void findFinished(bool found);
    /// The selection was put on the clipboard.
    void copied(qint64 cells);
    /// Something to show in the status bar.
    void statusMessage(const QString &text);

private:
    struct OrderResult {
        std::shared_ptr<const RowIndex> sorted;   ///< sort permutation (null: table order)
        std::shared_ptr<const RowIndex> visible;  ///< what the model shows (null: table order)
    };
    void startOrderTask();
    void onSortIndicatorChanged(int column, Qt::SortOrder order);
    void applyFilterFromBar();
    void updateSummary();
    void updateSortIndicator();
    void setColumnChoices();
    QString group(const char *what) const;
    std::vector<QRect> selectionRects() const;

    TaskManager *m_tasks;
    TableModel *m_model;
    QTableView *m_view;
    QWidget *m_filterBar;
    QComboBox *m_filterColumn;
    QComboBox *m_filterOp;
    QLineEdit *m_filterValue;
    QWidget *m_findBar;
    QLineEdit *m_findText;
    QComboBox *m_findColumn;
    QLabel *m_summary;
    QString m_label;

    int m_sortColumn = -1;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
    std::shared_ptr<const RowIndex> m_sorted;
    std::optional<RowFilter> m_filter;
    int m_requestedSortColumn = -1;
    Qt::SortOrder m_requestedSortOrder = Qt::AscendingOrder;
    std::optional<RowFilter> m_requestedFilter;
    bool m_settingIndicator = false;
    int m_lastColumn = -1;
};

/// Tab-separated text of the cells in `ranges` (view rows and columns; rows mapped through `rows` when not null):
/// one line per view row of the ranges' bounding box, cells outside every range left empty, missing cells empty,
/// tabs and line breaks inside values replaced by spaces. At most `maxCells` cells (whole rows); `truncated` says
/// whether more were selected. Cancel gives "cancelled". Reads the table only; safe from any thread.
Expected<QString> cellsText(const data::Table &table, const RowIndex *rows, const std::vector<QRect> &ranges,
                            qint64 maxCells, bool *truncated = nullptr, Feedback *feedback = nullptr);

/// Sets each column's width from its header and the text of the first `sampleRows` rows (never scans the whole
/// table), between 56 and 320 pixels.
void fitColumnWidths(QTableView *view, const data::Table &table, qint64 sampleRows = 64);

} // namespace keel::ui
