#include "catalogmodel.h"

#include <QFont>
#include <QLocale>

namespace keel::ui {

QString formatBytes(qint64 bytes)
{
    const char *units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1000.0 && u < 4) {
        v /= 1000.0;
        ++u;
    }
    if (u == 0)
        return QStringLiteral("%1 B").arg(bytes);
    return QStringLiteral("%1 %2").arg(QLocale::c().toString(v, 'f', v < 10 ? 1 : 0), QLatin1String(units[u]));
}

DatasetCatalogModel::DatasetCatalogModel(QObject *parent) : QAbstractItemModel(parent) {}

void DatasetCatalogModel::setDatasets(std::vector<DatasetHistory> datasets)
{
    beginResetModel();
    m_datasets = std::move(datasets);
    endResetModel();
}

const workspace::DatasetVersion *DatasetCatalogModel::version(const QModelIndex &index) const
{
    if (!index.isValid() || index.model() != this || index.internalId() == 0)
        return nullptr;
    const auto &d = m_datasets[size_t(index.internalId() - 1)];
    // Children are listed newest first.
    return &d.versions[d.versions.size() - 1 - size_t(index.row())];
}

const DatasetHistory *DatasetCatalogModel::dataset(const QString &name) const
{
    for (const auto &d : m_datasets)
        if (d.name == name)
            return &d;
    return nullptr;
}

QModelIndex DatasetCatalogModel::indexOfRef(const QString &ref) const
{
    const qsizetype at = ref.indexOf(QLatin1Char('@'));
    const QString name = at < 0 ? ref : ref.left(at);
    for (size_t i = 0; i < m_datasets.size(); ++i) {
        const auto &d = m_datasets[i];
        if (d.name != name)
            continue;
        const QModelIndex top = index(int(i), 0);
        if (at < 0)
            return top;
        for (size_t k = 0; k < d.versions.size(); ++k)
            if (d.versions[k].ref() == ref)
                return index(int(d.versions.size() - 1 - k), 0, top);
        return {};
    }
    return {};
}

QModelIndex DatasetCatalogModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!hasIndex(row, column, parent))
        return {};
    if (!parent.isValid())
        return createIndex(row, column, quintptr(0));
    return createIndex(row, column, quintptr(parent.row() + 1));
}

QModelIndex DatasetCatalogModel::parent(const QModelIndex &child) const
{
    if (!child.isValid() || child.internalId() == 0)
        return {};
    return createIndex(int(child.internalId() - 1), 0, quintptr(0));
}

int DatasetCatalogModel::rowCount(const QModelIndex &parent) const
{
    if (!parent.isValid())
        return int(m_datasets.size());
    if (parent.internalId() != 0 || parent.column() != 0)
        return 0;
    return int(m_datasets[size_t(parent.row())].versions.size());
}

int DatasetCatalogModel::columnCount(const QModelIndex &) const { return ColumnCount; }

QVariant DatasetCatalogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const QLocale loc;
    const workspace::DatasetVersion *v = version(index);
    const bool isDataset = v == nullptr;
    const DatasetHistory &d = m_datasets[size_t(isDataset ? index.row() : int(index.internalId() - 1))];
    if (isDataset && !d.versions.empty())
        v = &d.versions.back();
    switch (role) {
    case RefRole: return isDataset ? d.name : v->ref();
    case DatasetRole: return d.name;
    case VersionRole: return isDataset ? 0 : v->version;
    case Qt::DisplayRole:
        switch (index.column()) {
        case NameColumn:
            return isDataset ? d.name : QStringLiteral("v%1").arg(v->version);
        case RowsColumn: return v ? (v->record.parsed ? loc.toString(v->record.rows) : QStringLiteral("not parsed")) : QString();
        case SizeColumn: return v ? formatBytes(v->record.size) : QString();
        case DateColumn: return v ? v->commit.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")) : QString();
        case AuthorColumn: {
            if (!v)
                return QString();
            QString a = v->commit.author;
            const qsizetype lt = a.indexOf(QLatin1Char('<'));
            return lt > 0 ? a.left(lt).trimmed() : a;
        }
        case MessageColumn:
            if (isDataset)
                return d.versions.size() == 1 ? QStringLiteral("1 version") : QStringLiteral("%1 versions").arg(d.versions.size());
            return v->commit.message.section(QLatin1Char('\n'), 0, 0);
        }
        return {};
    case Qt::ToolTipRole:
        if (!v)
            return {};
        return QStringLiteral("<b>%1</b><br>%2<br>%3 \u00b7 %4<br>commit %5<br>%6 rows, %7 columns, %8 (%9)")
            .arg(v->ref().toHtmlEscaped(), v->commit.message.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>")),
                 v->commit.author.toHtmlEscaped(), v->commit.time.toLocalTime().toString(Qt::ISODate), v->commit.id.left(12),
                 v->record.parsed ? loc.toString(v->record.rows) : QStringLiteral("not yet parsed:"),
                 v->record.parsed ? QString::number(v->record.schema.size()) : QStringLiteral("unknown"), formatBytes(v->record.size),
                 v->record.source.toHtmlEscaped());
    case Qt::TextAlignmentRole:
        if (index.column() == RowsColumn || index.column() == SizeColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::FontRole:
        if (isDataset && index.column() == NameColumn) {
            QFont f;
            f.setBold(true);
            return f;
        }
        return {};
    default: return {};
    }
}

QVariant DatasetCatalogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return QStringLiteral("Dataset");
    case RowsColumn: return QStringLiteral("Rows");
    case SizeColumn: return QStringLiteral("Size");
    case DateColumn: return QStringLiteral("Date");
    case AuthorColumn: return QStringLiteral("Author");
    case MessageColumn: return QStringLiteral("Message");
    }
    return {};
}

} // namespace keel::ui
