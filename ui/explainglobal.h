#pragma once
// The Global tab of the explanation area: mean |SHAP| importance, the SHAP beeswarm, SHAP dependence and partial
// dependence with ICE curves for a picked feature, and permutation importance with its spread, all from the
// explanation report explainRun() stores for the run (computed in a task, cached by the core).

#include "explain/explanation.h"
#include "explain/global.h"
#include "explainsession.h"

#include <QJsonObject>
#include <QWidget>

#include <map>
#include <memory>
#include <optional>

class QComboBox;
class QTableWidget;
class QTabWidget;
class QLabel;

namespace keel::ui {

class ExplainChartView;
class TaskManager;

/// The Global tab. UI thread only; `tasks` must outlive it.
class ExplainGlobalView : public QWidget {
    Q_OBJECT
public:
    /// Rows (a seeded sample of the data version) behind the global views.
    static constexpr qint64 kGlobalRows = 1000;

    ExplainGlobalView(TaskManager *tasks, const QString &taskGroup, QWidget *parent = nullptr);

    /// Explains `session` (null: nothing) globally: starts the explainRun() task (instant when cached).
    void setSession(std::shared_ptr<const ExplainSession> session);
    /// Shows a message in every chart (no model, loading failed).
    void setMessage(const QString &message);
    /// Shows the report's global part; a report without one is an error.
    Status showReport(const explain::ExplanationReport &report);
    /// Shows SHAP dependence and partial dependence of `feature` (PDP/ICE of a feature other than the report's is
    /// computed in a task). False for unknown features.
    bool showFeature(const QString &feature);
    /// Colours the dependence plot by `feature`.
    bool setColourFeature(const QString &feature);
    /// Features shown by the importance and beeswarm charts; the importance chart sums the rest into one "other" bar.
    static constexpr int kTopFeatures = 15;

    /// The report shown (empty before one arrived).
    const std::optional<explain::ExplanationReport> &report() const { return m_report; }
    /// Features by mean |SHAP| as the report lists them, largest first.
    QStringList importanceOrder() const { return m_order; }
    std::vector<double> importanceValues() const { return m_importance; }
    const std::optional<explain::ShapSummary> &summary() const { return m_summary; }
    const std::optional<explain::PermutationImportance> &permutation() const { return m_permutation; }
    /// Partial dependence currently drawn.
    const std::optional<explain::PartialDependence> &partialDependence() const { return m_pdp; }
    QString currentFeature() const { return m_feature; }
    QString colourFeature() const { return m_colourFeature; }
    bool isComputing() const { return m_computing; }

    ExplainChartView *importanceChart() const { return m_importanceChart; }
    ExplainChartView *beeswarmChart() const { return m_beeswarmChart; }
    ExplainChartView *dependenceChart() const { return m_dependenceChart; }
    ExplainChartView *pdpChart() const { return m_pdpChart; }
    ExplainChartView *permutationChart() const { return m_permutationChart; }
    QComboBox *featurePicker() const { return m_featurePicker; }
    QComboBox *colourPicker() const { return m_colourPicker; }
    /// Multiclass: the class whose score the global views explain (hidden for other tasks).
    QComboBox *classPicker() const { return m_classPicker; }
    /// Every feature with its mean |SHAP| and permutation importance (the charts show the top 15).
    QTableWidget *featureTable() const { return m_featureTable; }
    /// The class index the shown report explains (0 for binary and regression).
    int explainedClass() const { return m_report && m_report->global ? m_report->global->output : -1; }
    QLabel *infoLabel() const { return m_info; }

signals:
    /// A report arrived and every chart shows it.
    void reportShown();
    /// The dependence and PDP charts show `feature`.
    void featureShown(const QString &feature);
    /// A task of this view started (the area shows its progress).
    void taskStarted(quint64 id);
    void statusMessage(const QString &text);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void fillFeatureTable(const explain::GlobalExplanation &global);
    void start();
    void updateDependence();
    void showPdp(const explain::PartialDependence &pd);

    TaskManager *m_tasks;
    QString m_group;
    std::shared_ptr<const ExplainSession> m_session;
    bool m_computing = false;
    std::optional<explain::ExplanationReport> m_report;
    QStringList m_order;
    std::vector<double> m_importance;
    std::optional<explain::ShapSummary> m_summary;
    std::optional<explain::PermutationImportance> m_permutation;
    std::optional<explain::PartialDependence> m_pdp;
    std::map<QString, explain::PartialDependence> m_pdpCache;
    QString m_feature;
    QString m_colourFeature;
    bool m_updatingPickers = false;
    quint64 m_taskId = 0;        ///< the running global explanation

    QLabel *m_info;
    QComboBox *m_featurePicker;
    QComboBox *m_colourPicker;
    QComboBox *m_classPicker;
    QLabel *m_classLabel;
    QTableWidget *m_featureTable;
    QTabWidget *m_importanceTabs;
    int m_requestedClass = -1;          ///< -1: the default class (the most frequent one)
    ExplainChartView *m_importanceChart;
    ExplainChartView *m_beeswarmChart;
    ExplainChartView *m_dependenceChart;
    ExplainChartView *m_pdpChart;
    ExplainChartView *m_permutationChart;
};

} // namespace keel::ui
