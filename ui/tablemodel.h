#pragma once
// The lazy table model behind the dataset view: reads a keel::data::Table directly (nothing is copied into Qt
// types up front; a cell becomes a QString only when a view asks for it) and maps view rows through an optional
// row index (a sort permutation and/or filter result computed off the UI thread).

#include "data/table.h"
#include "tableorder.h"

#include <QAbstractTableModel>

#include <memory>

namespace keel::ui {

/// Read-only model of a Table. The table's buffers are shared, so holding a copy here is cheap. UI thread only.
class TableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Role {
        ValueRole = Qt::UserRole + 1, ///< the typed value (qint64, double, bool, QDateTime UTC, QString) or an invalid QVariant when missing
        MissingRole,                  ///< bool: the cell is missing
        SourceRowRole,                ///< qint64: the table row shown in this view row
        ColumnTypeRole,               ///< int(ColumnType) of the cell's column (also on the horizontal header)
    };

    explicit TableModel(QObject *parent = nullptr);

    /// Shows `table` in table order (or through `rows`, view row -> table row).
    void setTable(data::Table table, std::shared_ptr<const RowIndex> rows = {});
    /// Shows the same table through a new row index (null: all rows in table order).
    void setRowIndex(std::shared_ptr<const RowIndex> rows);
    const data::Table &table() const { return m_table; }
    std::shared_ptr<const RowIndex> rowIndex() const { return m_rows; }
    /// Table row behind a view row.
    qint64 sourceRow(qint64 viewRow) const { return m_rows ? (*m_rows)[size_t(viewRow)] : viewRow; }
    /// Rows shown (may exceed rowCount() for tables of more than INT_MAX rows, which views cannot address).
    qint64 viewRowCount() const { return m_rows ? qint64(m_rows->size()) : m_table.rowCount(); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;

    /// The text a cell shows: displayAt() with datetimes as "yyyy-MM-dd HH:mm:ss", missing cells as "missing".
    static QString cellText(const data::Column &column, qint64 row);
    /// The text copied for a cell: like cellText but empty for missing cells.
    static QString copyText(const data::Column &column, qint64 row);

private:
    data::Table m_table;
    std::shared_ptr<const RowIndex> m_rows;
};

} // namespace keel::ui
