#include "tablemodel.h"

#include <QApplication>
#include <QDateTime>
#include <QFont>
#include <QLocale>
#include <QPalette>

#include <climits>
#include <cmath>

namespace keel::ui {

using data::ColumnType;

TableModel::TableModel(QObject *parent) : QAbstractTableModel(parent) {}

void TableModel::setTable(data::Table table, std::shared_ptr<const RowIndex> rows)
{
    beginResetModel();
    m_table = std::move(table);
    m_rows = std::move(rows);
    endResetModel();
}

void TableModel::setRowIndex(std::shared_ptr<const RowIndex> rows)
{
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
}

int TableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(std::min<qint64>(viewRowCount(), INT_MAX));
}

int TableModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : m_table.columnCount(); }

Qt::ItemFlags TableModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsSelectable | Qt::ItemIsEnabled | Qt::ItemNeverHasChildren;
}

QString TableModel::cellText(const data::Column &column, qint64 row)
{
    if (column.isNull(row))
        return QStringLiteral("missing");
    if (column.type() == ColumnType::Datetime) {
        QString s = column.displayAt(row);
        const qsizetype t = s.indexOf(QLatin1Char('T'));
        if (t > 0)
            s[t] = QLatin1Char(' ');
        return s;
    }
    return column.displayAt(row);
}

QString TableModel::copyText(const data::Column &column, qint64 row)
{
    return column.isNull(row) ? QString() : column.displayAt(row);
}

QVariant TableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.model() != this || index.parent().isValid() || index.row() >= rowCount()
        || index.column() >= columnCount())
        return {};
    const data::Column &c = m_table.column(index.column());
    const qint64 row = sourceRow(index.row());
    switch (role) {
    case Qt::DisplayRole: return cellText(c, row);
    case Qt::TextAlignmentRole:
        if (c.type() == ColumnType::Int64 || c.type() == ColumnType::Float64)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::FontRole:
        if (c.isNull(row)) {
            QFont f;
            f.setItalic(true);
            return f;
        }
        return {};
    case Qt::ForegroundRole:
        if (c.isNull(row))
            return QApplication::palette().brush(QPalette::PlaceholderText);
        return {};
    case Qt::ToolTipRole:
        if (c.isNull(row))
            return QStringLiteral("%1: missing value").arg(c.name());
        if (c.type() == ColumnType::String && c.stringAt(row).size() > 60)
            return c.displayAt(row);
        return {};
    case MissingRole: return c.isNull(row);
    case SourceRowRole: return QVariant::fromValue(row);
    case ColumnTypeRole: return int(c.type());
    case ValueRole:
        if (c.isNull(row))
            return {};
        switch (c.type()) {
        case ColumnType::Int64: return QVariant::fromValue(qint64(c.int64At(row)));
        case ColumnType::Float64: return c.float64At(row);
        case ColumnType::Bool: return c.boolAt(row);
        case ColumnType::Datetime: return QDateTime::fromMSecsSinceEpoch(c.datetimeAt(row), Qt::UTC);
        case ColumnType::Categorical:
        case ColumnType::String: return c.displayAt(row);
        }
        return {};
    default: return {};
    }
}

QVariant TableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Vertical) {
        if (section < 0 || section >= rowCount())
            return {};
        if (role == Qt::DisplayRole)
            return QString::number(sourceRow(section) + 1);
        if (role == Qt::TextAlignmentRole)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        if (role == SourceRowRole)
            return QVariant::fromValue(sourceRow(section));
        return {};
    }
    if (section < 0 || section >= columnCount())
        return {};
    const data::Column &c = m_table.column(section);
    switch (role) {
    case Qt::DisplayRole: return c.name();
    case ColumnTypeRole: return int(c.type());
    case Qt::ToolTipRole: {
        const qint64 rows = c.size();
        const double share = rows ? 100.0 * double(c.nullCount()) / double(rows) : 0.0;
        const QLocale loc;
        return QStringLiteral("<b>%1</b><br>type: %2<br>missing: %3% (%4 of %5 rows)")
            .arg(c.name().toHtmlEscaped(), data::columnTypeName(c.type()),
                 QLocale::c().toString(share, 'f', share > 0 && share < 0.1 ? 3 : 1), loc.toString(c.nullCount()),
                 loc.toString(rows));
    }
    default: return {};
    }
}

} // namespace keel::ui
