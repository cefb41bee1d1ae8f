#pragma once
// The run view: one run's header (status, data, learner, times), its params, final metrics and tags, lineage with
// links to the dataset versions it used and to related runs, per-iteration training and validation curves (live while
// the run trains in a child process), the evaluation of a classification run (confusion matrix, ROC, precision-recall,
// calibration) and its recorded config and artifacts. "Branch from this run" and "Cancel" are requests to the area.

#include "rundetails.h"

#include <QPointer>
#include <QWidget>

#include <map>
#include <memory>
#include <optional>

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QScrollArea;
class QStackedWidget;
class QTabWidget;
class QTableWidget;
class QGridLayout;

QT_BEGIN_NAMESPACE
class QComboBox;
class QSlider;
class QChart;
class QChartView;
QT_END_NAMESPACE

namespace keel::ui {

class ConfusionMatrixWidget;
class CurvePlot;
class EmptyState;
class TrainingProcess;
struct RunSet;

/// Shows one run. UI thread only.
class RunView : public QWidget {
    Q_OBJECT
public:
    enum Tab { OverviewTab, CurvesTab, EvaluationTab, ConfigTab };

    explicit RunView(QWidget *parent = nullptr);
    ~RunView() override;

    /// Shows `details`; `runs` (may be null) names the parent, sweep and child runs in the lineage; `process`
    /// (may be null) is the training child of this run to follow (see attachProcess).
    void setDetails(RunDetails details, std::shared_ptr<const RunSet> runs = {}, TrainingProcess *process = nullptr);
    /// Follows a training child of this run: its metric points extend the curves as they arrive, its progress shows
    /// in the header and Cancel stops it. Null detaches.
    void attachProcess(TrainingProcess *process);
    /// Shows nothing (with an empty-state text).
    void clear(const QString &message = {});

    bool hasRun() const { return m_details.has_value(); }
    QString runId() const;
    const RunDetails *details() const { return m_details ? &*m_details : nullptr; }
    TrainingProcess *process() const { return m_process; }

    QTabWidget *tabs() const { return m_tabs; }
    QTableWidget *paramsTable() const { return m_params; }
    QTableWidget *metricsTable() const { return m_metrics; }
    QTableWidget *artifactsTable() const { return m_artifacts; }
    QLabel *headerLabel() const { return m_title; }
    QLabel *lineageLabel() const { return m_lineage; }
    QPushButton *branchButton() const { return m_branch; }
    QPushButton *registerButton() const { return m_register; }
    QPushButton *cancelButton() const { return m_cancel; }
    ConfusionMatrixWidget *confusionMatrix() const { return m_confusion; }
    /// Counts or share-of-row shading of the confusion matrix.
    QComboBox *confusionModeBox() const { return m_confusionMode; }
    /// The largest confusions in words, under the matrix.
    QLabel *confusionsLabel() const { return m_confusions; }
    /// Multiclass runs: the class whose one-vs-rest ROC, PR and calibration curves are shown (hidden otherwise).
    QComboBox *classPicker() const { return m_classPicker; }
    /// Metric names with a curve chart ("logloss", "rmse"...), in display order.
    QStringList curveMetrics() const;
    /// The curves of one metric, or null.
    CurvePlot *curvePlot(const QString &metric) const;
    /// Evaluation charts (null until a classification run is shown).
    QChart *rocChart() const;
    QChart *prChart() const;
    QChart *calibrationChart() const;

signals:
    void branchRequested(const QString &runId);
    /// "Register as Model…" on a finished run.
    void registerRequested(const QString &runId);
    void cancelRequested(const QString &runId);
    void openDatasetRequested(const QString &ref);
    void openRunRequested(const QString &runId);

protected:
    void changeEvent(QEvent *event) override;

private:
    struct CurveChart {
        CurvePlot *plot = nullptr;      ///< owned here; its QChart is owned by `view`
        QChartView *view = nullptr;
        std::map<QString, int> series;  ///< dataset ("train", "validation") -> series index
    };

    void connectProcess(TrainingProcess *process);
    void rebuild();
    void updateHeader();
    void fillOverview();
    void rebuildCurves();
    void addCurvePoint(const QString &key, qint64 step, double value);
    CurveChart &curveChart(const QString &metric);
    void rebuildEvaluation();
    /// Redraws ROC, PR and calibration for the picked class (multiclass) or class 1 (binary).
    void rebuildClassCharts();
    void onLinkActivated(const QString &link);

    std::optional<RunDetails> m_details;
    std::shared_ptr<const RunSet> m_runs;
    QPointer<TrainingProcess> m_process;
    std::vector<QMetaObject::Connection> m_processConnections;

    QStackedWidget *m_stack;
    EmptyState *m_empty;
    QLabel *m_title;
    QLabel *m_subtitle;
    QLabel *m_error;
    QProgressBar *m_progress;
    QPushButton *m_branch;
    QPushButton *m_register;
    QPushButton *m_cancel;
    QTabWidget *m_tabs;
    QTableWidget *m_params;
    QTableWidget *m_metrics;
    QTableWidget *m_tags;
    QLabel *m_lineage;
    QStackedWidget *m_curvesStack;
    EmptyState *m_noCurves;
    QWidget *m_curvesPage;
    QGridLayout *m_curvesGrid;
    std::map<QString, CurveChart> m_curves;
    std::vector<std::unique_ptr<CurvePlot>> m_plots;
    QStackedWidget *m_evaluationStack;
    EmptyState *m_noEvaluation;
    ConfusionMatrixWidget *m_confusion;
    QComboBox *m_confusionMode;
    QSlider *m_zoom;
    QLabel *m_confusions;
    QWidget *m_classBar;
    QComboBox *m_classPicker;
    QLabel *m_ovrSummary;
    QChartView *m_roc;
    QChartView *m_pr;
    QChartView *m_calibration;
    QPlainTextEdit *m_config;
    QTableWidget *m_artifacts;
};

} // namespace keel::ui
