#pragma once
// The version diff view: pick two versions, see schema changes, row counts and per-column drift sorted by size,
// and for a chosen column both distributions overlaid in one chart (histograms over the same bins, or category
// shares side by side). The diff and each overlay run as tasks.

#include "catalogmodel.h"
#include "data/diff.h"
#include "data/distribution.h"
#include "workspacejobs.h"

#include <QAbstractTableModel>
#include <QWidget>

#include <optional>

class QChartView;
class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QSplitter;
class QTableView;

namespace keel::ui {

class TaskManager;

/// One row per column of a DiffReport: Column, Change, Type, Drift, Measure, p-value, Missing A, Missing B.
/// Qt::UserRole gives raw values (drift as double) for sorting. UI thread only.
class DriftModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { NameColumn, ChangeColumn, TypeColumn, DriftColumn, MeasureColumn, PValueColumn, MissingAColumn,
                  MissingBColumn, ColumnCount };
    static constexpr int RawRole = Qt::UserRole;

    explicit DriftModel(QObject *parent = nullptr);
    void setReport(data::DiffReport report);
    const data::DiffReport &report() const { return m_report; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    data::DiffReport m_report;
};


/// Diff of two dataset versions. UI thread only; `tasks` must outlive the view.
class DiffView : public QWidget {
    Q_OBJECT
public:
    explicit DiffView(TaskManager *tasks, QWidget *parent = nullptr);
    ~DiffView() override;

    /// The workspace and its datasets (for the version pickers).
    void setCatalog(const QString &root, const std::vector<DatasetHistory> &datasets);
    /// Preselects `ref` as B and the version before it as A (no diff is run).
    void suggestPair(const QString &ref);
    /// Runs the diff of two version references.
    void compare(const QString &refA, const QString &refB);
    /// Shows the overlay of one column of the current diff (by name).
    void showColumn(const QString &column);

    /// The current diff, when one has arrived.
    const std::optional<jobs::VersionDiff> &currentDiff() const { return m_diff; }
    /// The last overlay computed (column name and comparison).
    const std::optional<data::DistributionComparison> &currentComparison() const { return m_comparison; }
    QString currentColumn() const { return m_column; }
    DriftModel *driftModel() const { return m_model; }
    QSortFilterProxyModel *sortedModel() const { return m_sorted; }
    QTableView *driftView() const { return m_view; }
    QChartView *chartView() const { return m_chartView; }

signals:
    void diffFinished(bool ok);
    void comparisonFinished();
    void statusMessage(const QString &text);

protected:
    void changeEvent(QEvent *event) override;

private:
    void fillVersions();
    void showSummary();
    void redrawChart();
    QString group(const char *what) const;

    TaskManager *m_tasks;
    QString m_root;
    std::vector<DatasetHistory> m_datasets;
    QComboBox *m_versionA;
    QComboBox *m_versionB;
    QComboBox *m_key;
    QLabel *m_summary;
    QTableView *m_view;
    DriftModel *m_model;
    QSortFilterProxyModel *m_sorted;
    QChartView *m_chartView;
    QSplitter *m_split;
    std::optional<jobs::VersionDiff> m_diff;
    std::optional<data::DistributionComparison> m_comparison;
    QString m_column;
};

} // namespace keel::ui
