#pragma once
// Column profiles in the dataset view: a panel for one column (summary numbers and a histogram or top-categories
// chart) and a table model summarising every column of a version. Both read the version's stored TableProfile.

#include "data/profile.h"

#include <QAbstractTableModel>
#include <QMap>
#include <QWidget>

#include <optional>

class QChartView;
class QGridLayout;
class QLabel;

namespace keel::ui {

/// Text for a profile number of a column of `type`: datetimes ISO, integers of int64 columns without decimals,
/// other numbers with up to 6 significant digits.
QString statText(double value, data::ColumnType type);

/// Shows one ColumnProfile. UI thread only.
class ProfilePanel : public QWidget {
    Q_OBJECT
public:
    explicit ProfilePanel(QWidget *parent = nullptr);

    /// Shows `profile` (copied); nullopt shows a hint to pick a column.
    void setProfile(std::optional<data::ColumnProfile> profile);
    const std::optional<data::ColumnProfile> &profile() const { return m_profile; }

    /// The text shown for a statistic: "type", "rows", "missing", "distinct", "min", "max", "mean", "std",
    /// "p1", "p5", "p25", "p50", "p75", "p95", "p99"; empty when not shown.
    QString valueText(const QString &key) const;
    QChartView *chartView() const { return m_chartView; }

protected:
    void changeEvent(QEvent *event) override;

private:
    void rebuild();
    void addRow(const QString &key, const QString &label, const QString &value);

    std::optional<data::ColumnProfile> m_profile;
    QLabel *m_title;
    QWidget *m_stats;
    QGridLayout *m_grid;
    QChartView *m_chartView;
    QMap<QString, QString> m_values;
    int m_row = 0;
};

/// One row per column of a TableProfile: Column, Type, Missing, Distinct, Min, Max, Mean, Std, Most frequent.
/// Qt::UserRole gives the raw value (numbers as double) for sorting and tests. UI thread only.
class ColumnSummaryModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { NameColumn, TypeColumn, MissingColumn, DistinctColumn, MinColumn, MaxColumn, MeanColumn, StdColumn,
                  TopColumn, ColumnCount };
    static constexpr int RawRole = Qt::UserRole;

    explicit ColumnSummaryModel(QObject *parent = nullptr);
    void setProfile(data::TableProfile profile);
    const data::TableProfile &profile() const { return m_profile; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    data::TableProfile m_profile;
};

} // namespace keel::ui
