#pragma once
// Two registered versions side by side: what registry::compareVersions finds (metrics with bootstrap intervals, the
// paired tests in words, the decisions that change, the importance shift and the lineage that differs), computed as a
// task and shown in tables and a chart.

#include "registry/compare.h"

#include <QWidget>

#include <optional>

class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace keel::ui {

class ExplainChartView;
class TaskManager;

class ModelCompareView : public QWidget {
    Q_OBJECT
public:
    explicit ModelCompareView(TaskManager *tasks, QWidget *parent = nullptr);

    void setWorkspaceRoot(const QString &root);
    /// The versions offered in the A and B pickers (NAME@vN), and the dataset versions for "score on".
    void setChoices(const QStringList &versions, const QStringList &datasets);
    /// Compares `a` with `b` on `data` (empty: the newer version's test rows); a task.
    void compare(const QString &a, const QString &b, const QString &data = {});
    const std::optional<registry::Comparison> &comparison() const { return m_comparison; }
    bool isBusy() const { return m_busy; }

    QTableWidget *metricsTable() const { return m_metrics; }
    QTableWidget *changedTable() const { return m_changed; }
    QTableWidget *lineageTable() const { return m_lineage; }
    QLabel *testsLabel() const { return m_tests; }
    ExplainChartView *importanceChart() const { return m_importance; }

signals:
    void compared(bool ok);

private:
    void display(const registry::Comparison &c);

    TaskManager *m_tasks;
    QString m_root;
    std::optional<registry::Comparison> m_comparison;
    bool m_busy = false;
    QComboBox *m_a, *m_b, *m_data;
    QSpinBox *m_bootstrap;
    QPushButton *m_run;
    QLabel *m_header, *m_tests;
    QTableWidget *m_metrics, *m_changed, *m_lineage;
    ExplainChartView *m_importance;
};

} // namespace keel::ui
