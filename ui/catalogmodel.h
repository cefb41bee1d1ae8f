#pragma once
// The dataset list of a workspace as a tree: each dataset, and under it its versions newest first with author,
// date, message, rows and size.

#include "workspace/datasets.h"

#include <QAbstractItemModel>

#include <vector>

namespace keel::ui {

/// One dataset and its versions, oldest first (as datasetLog returns them). Plain value.
struct DatasetHistory {
    QString name;
    std::vector<workspace::DatasetVersion> versions;
};

/// Tree model: datasets at the top level, versions (newest first) as their children. UI thread only.
class DatasetCatalogModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column { NameColumn, RowsColumn, SizeColumn, DateColumn, AuthorColumn, MessageColumn, ColumnCount };
    enum Role {
        RefRole = Qt::UserRole + 1, ///< "name@vN" for versions, the dataset name for datasets
        DatasetRole,                ///< dataset name
        VersionRole,                ///< 1-based version number, 0 for dataset rows
    };

    explicit DatasetCatalogModel(QObject *parent = nullptr);

    void setDatasets(std::vector<DatasetHistory> datasets);
    const std::vector<DatasetHistory> &datasets() const { return m_datasets; }
    /// The version behind a version row, or nullptr (dataset rows, invalid indexes).
    const workspace::DatasetVersion *version(const QModelIndex &index) const;
    /// The versions of a dataset (oldest first), or nullptr.
    const DatasetHistory *dataset(const QString &name) const;
    /// Index (column 0) of the row for "name@vN" or "name"; invalid when absent.
    QModelIndex indexOfRef(const QString &ref) const;

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<DatasetHistory> m_datasets;
};

/// "3.9 MB", "512 B": sizes in decimal units.
QString formatBytes(qint64 bytes);

} // namespace keel::ui
