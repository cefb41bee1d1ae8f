#pragma once
// The Fairness tab of the explanation area: the user picks a sensitive column; the group metrics (selection rate,
// true and false positive rates, precision, calibration gap, each with its bootstrap interval) come from the
// explanation report explainRun() stores for the run, shown as a table, a chart with error bars and the differences
// between groups (demographic parity, equalized odds).

#include "explain/fairness.h"
#include "explainsession.h"

#include <QAbstractTableModel>
#include <QWidget>

#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QTableView;

namespace keel::ui {

class ExplainChartView;
class TaskManager;

/// One row per group of a FairnessReport. Estimates show as "value [low, high]". UI thread only.
class FairnessTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        GroupColumn,
        RowsColumn,
        PositivesColumn,       ///< rows whose true class is the positive class
        SelectionRateColumn,
        TprColumn,
        FprColumn,
        PrecisionColumn,
        CalibrationGapColumn,
        ColumnCount
    };
    enum Role {
        ValueRole = Qt::UserRole + 1, ///< double estimate, or qint64 for the count columns, QString for the group
        LowRole,                      ///< double interval bounds (NaN when there is no interval)
        HighRole,
    };

    explicit FairnessTableModel(QObject *parent = nullptr);
    void setReport(const explain::FairnessReport &report);
    void clear();
    const explain::FairnessReport &report() const { return m_report; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// "0.231 [0.220, 0.243]"; "–" for NaN values; the value alone without an interval.
    static QString estimateText(const explain::Estimate &e);

private:
    explain::FairnessReport m_report;
};

/// The Fairness tab. UI thread only; `tasks` must outlive it.
class ExplainFairnessView : public QWidget {
    Q_OBJECT
public:
    /// Bootstrap resamples behind the intervals.
    static constexpr int kBootstrap = 500;

    ExplainFairnessView(TaskManager *tasks, const QString &taskGroup, QWidget *parent = nullptr);

    /// Works on `session` (null: nothing); the report is computed once the view is shown or a column is chosen.
    void setSession(std::shared_ptr<const ExplainSession> session);
    /// Computes (a task; instant when stored before) and shows the report for sensitive column `column`.
    /// False when the column is not a candidate.
    bool setSensitiveColumn(const QString &column);
    QString sensitiveColumn() const;
    /// The report on screen (nullopt while computing or without one).
    const std::optional<explain::FairnessReport> &report() const { return m_report; }
    bool isComputing() const { return m_computing; }
    /// Shows `message` instead of a report (loading, errors).
    void setMessage(const QString &message);

    QComboBox *columnPicker() const { return m_picker; }
    QTableView *groupTable() const { return m_table; }
    FairnessTableModel *groupModel() const { return m_model; }
    ExplainChartView *chart() const { return m_chart; }
    QLabel *differencesLabel() const { return m_differences; }
    QLabel *infoLabel() const { return m_info; }

signals:
    /// The report for `column` arrived and is shown (or its error is).
    void reportShown(const QString &column);
    void taskStarted(quint64 id);
    void statusMessage(const QString &text);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void start(const QString &column);
    void showReport(const explain::FairnessReport &report);

    TaskManager *m_tasks;
    QString m_group;
    std::shared_ptr<const ExplainSession> m_session;
    std::optional<explain::FairnessReport> m_report;
    QString m_column;
    bool m_computing = false;
    bool m_updatingPicker = false;
    quint64 m_taskId = 0;

    QComboBox *m_picker;
    QLabel *m_info;
    QTableView *m_table;
    FairnessTableModel *m_model;
    ExplainChartView *m_chart;
    QLabel *m_differences;
};

} // namespace keel::ui
