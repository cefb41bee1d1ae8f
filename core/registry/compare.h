#pragma once
// "Is the challenger really better?": two registered versions scored on the same rows, every metric with a bootstrap
// interval for each model and for their difference, paired tests (McNemar on correctness, DeLong on ROC AUC, a paired
// bootstrap and the Wilcoxon signed-rank test on per-row loss), the decisions that change, the shift in global
// importance and the lineage that differs. What `keel models compare` prints and the workbench's compare view shows.

#include "registry/registry.h"

#include <QJsonObject>

namespace keel::registry {

struct CompareRequest {
    QString a, b;                 ///< version references (NAME@vN, NAME@ALIAS, NAME)
    QString data;                 ///< dataset version NAME@REF to score on; empty = the newer version's test rows
    int bootstrap = 1000;         ///< resamples behind every interval and the paired bootstrap
    quint64 seed = 1;
    double level = 0.95;          ///< interval coverage
    int threads = 0;              ///< 0 = all cores
    int examples = 5;             ///< changed decisions listed
};

/// One metric of both models on the same rows, with percentile bootstrap intervals (same resamples for A and B, so
/// the difference's interval is paired).
struct MetricComparison {
    QString metric;               ///< accuracy, log_loss, roc_auc (binary), rmse, mae
    bool higherIsBetter = true;
    double a = 0, b = 0, diff = 0;              ///< diff = b - a
    double aLow = 0, aHigh = 0, bLow = 0, bHigh = 0, diffLow = 0, diffHigh = 0;
};

/// One paired test, and what it says in words.
struct PairedTestOutcome {
    QString test;                 ///< "McNemar", "DeLong", "paired bootstrap", "Wilcoxon signed-rank"
    QString metric;               ///< what it tests: accuracy, roc_auc, log_loss per row, squared error per row
    double statistic = 0;
    double pvalue = 0;
    QString method;               ///< the exact variant used (e.g. "McNemar exact (binomial)")
    QString sentence;             ///< e.g. "B's roc_auc is higher by 0.0041 (p = 0.031, DeLong)"
};

struct ChangedDecision {
    qint64 row = 0;               ///< 1-based row of the data version
    QString a, b;                 ///< the two predictions as shown (class, or value for regression)
    QString actual;
};

struct ImportanceMove {
    QString feature;
    int rankA = 0, rankB = 0;     ///< 1-based; 0 = the model does not use the feature
    double a = 0, b = 0;          ///< mean |SHAP| in each model's card
};

struct LineageChange {
    QString what;                 ///< e.g. "data.train", "params.max_depth", "recipe.exclude"
    QString a, b;
};

struct Comparison {
    ModelVersion a, b;
    QString data;                 ///< NAME@vN scored
    QString rowsDescription;      ///< e.g. "the 16,281 test rows of adult_test@v1 (from credit@v2's split)"
    qint64 rows = 0;
    ml::Task task = ml::Task::Regression;
    int resamples = 0;
    double level = 0.95;
    std::vector<MetricComparison> metrics;
    std::vector<PairedTestOutcome> tests;
    qint64 changed = 0;           ///< classification: rows whose predicted class differs
    double changedShare = 0;
    double meanAbsChange = 0, maxAbsChange = 0;  ///< regression: |prediction B - prediction A|
    std::vector<ChangedDecision> changedExamples;
    double importanceSpearman = std::nan("");    ///< rank correlation of the two importance lists
    std::vector<ImportanceMove> importanceMovers; ///< biggest rank changes first
    std::vector<LineageChange> lineage;
    QStringList warnings;         ///< e.g. rows one model trained on

    QJsonObject toJson() const;
};

/// Scores both versions (bundles verified by hash) on the requested rows (rows whose target is missing are left
/// out) and compares them. Errors: versions of different tasks or classes, data without the models' columns or the
/// target, no test rows to fall back on (k-fold versions need --data). Cancel gives an error; progress by stage.
Expected<Comparison> compareVersions(workspace::Workspace &ws, const CompareRequest &request, Feedback *feedback = nullptr);

/// The paired tests of two models' outputs on the same labelled rows, without resampling: McNemar on correctness
/// (classification), DeLong on ROC AUC (binary), Wilcoxon signed-rank on per-row loss (log loss; squared error for
/// regression) — what compare() runs besides its paired bootstrap. `y`: class indices or values; `pa`, `pb`:
/// Model::predict layout (binary: P(class 1); multiclass: rows x classes). A is the reference, B the other.
std::vector<PairedTestOutcome> pairedTests(ml::Task task, int classes, const std::vector<double> &y, const std::vector<double> &pa,
                                           const std::vector<double> &pb, QStringList *warnings = nullptr);

} // namespace keel::registry
