#pragma once
// The compare view for two or more runs: one table with a column per run, first their final metrics with the best
// value of each marked, then their params (only the ones that differ, by default); below, one training curve
// overlaid for all runs.

#include "rundetails.h"

#include <QWidget>

#include <memory>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QTableWidget;

QT_BEGIN_NAMESPACE
class QChartView;
QT_END_NAMESPACE

namespace keel::ui {

class CurvePlot;

/// True when a lower value of this metric is better (losses, errors, RMSE, MAE, MAPE, Brier, spreads ".std").
bool lowerIsBetter(const QString &metric);

/// Compares runs. UI thread only.
class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(QWidget *parent = nullptr);
    ~CompareView() override;

    /// Shows `runs` (two or more), in the order given: column i and curve colour i are run i.
    void setRuns(std::vector<RunDetails> runs);
    const std::vector<RunDetails> &runs() const { return m_runs; }

    /// Only params whose values differ between the runs (default on).
    void setOnlyDifferences(bool only);
    /// Overlays the curve `key` ("validation.logloss"); false when no run has it.
    bool showCurve(const QString &key);
    QString currentCurve() const;

    /// The comparison table: a column per run; section rows "Final metrics" and "Parameters" head their rows.
    QTableWidget *table() const { return m_table; }
    /// The row of a param or final metric key, or -1 when it is not shown.
    int rowOf(const QString &key) const;
    QCheckBox *onlyDifferencesBox() const { return m_onlyDiff; }
    QComboBox *curveSelector() const { return m_curve; }
    /// The overlaid curves, or null when no run has curves.
    CurvePlot *curvePlot() const { return m_plot.get(); }
    /// Rows of the params table that are differences (the row's key differs between runs).
    QStringList differingParams() const { return m_differing; }
    /// Index of the run with the best value of a final metric, or -1 (no values, or all equal).
    int bestRun(const QString &metric) const;

signals:
    void openRunRequested(const QString &runId);

protected:
    void changeEvent(QEvent *event) override;

private:
    void fillTable();
    void rebuildCurve();
    QStringList columnTitles() const;

    std::vector<RunDetails> m_runs;
    QStringList m_differing;
    QLabel *m_title;
    QCheckBox *m_onlyDiff;
    QTableWidget *m_table;
    QStringList m_rowKeys;      ///< per table row: the param or metric key; empty for section rows
    QComboBox *m_curve;
    QLabel *m_curveNote;
    QChartView *m_chartView;
    std::unique_ptr<CurvePlot> m_plot;
};

} // namespace keel::ui
