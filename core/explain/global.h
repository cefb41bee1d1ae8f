#pragma once
// Global, model-agnostic explanations over many rows: permutation importance, partial dependence with ICE curves,
// and the data behind SHAP summary (beeswarm) and SHAP dependence plots. Features are the recipe's features; a
// feature is perturbed by moving all of its design columns together (see explainer.h).

#include "explain/attribution.h"
#include "explain/explainer.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace keel::explain {

/// Distinct observed values of `values` (NaN skipped) at `points` evenly spaced quantile positions
/// q_i = i / (points - 1), each the "lower" order statistic sorted[floor(q_i (n - 1))], so the minimum and maximum
/// are always included; ascending. Empty when there is no finite value.
std::vector<double> quantileGrid(std::vector<double> values, int points);

/// Values of `f` scaled to [0, 1] for a colour scale: numeric values clipped to their 5th..95th percentiles (linear
/// interpolation; the full range if those coincide) and scaled; a constant feature gives 0.5; categorical values
/// by category index / (categories - 1). Missing values give NaN.
std::vector<double> colourScale(const FeatureValues &f);

// ---------------------------------------------------------------------------------------------------------------
// Permutation importance

/// The metric whose drop permutation importance reports.
enum class ImportanceMetric {
    Auto,     ///< log loss for classification, RMSE for regression
    LogLoss,  ///< classification only
    Accuracy, ///< classification only (binary: P(class 1) >= 0.5)
    Rmse      ///< regression only
};
/// "auto", "log_loss", "accuracy", "rmse".
QString importanceMetricName(ImportanceMetric m);
std::optional<ImportanceMetric> importanceMetricFromName(QStringView name);

struct PermutationOptions {
    ImportanceMetric metric = ImportanceMetric::Auto;
    int repeats = 5;
    quint64 seed = 1;          ///< permutation of feature f, repeat r uses stream (f, r): independent of threads
    QStringList features;      ///< features to score; empty = every recipe feature
    qint64 maxRows = 0;        ///< 0 = every row; otherwise a seeded sample of that many rows
    int threads = 0;           ///< 0 = QThread::idealThreadCount()
};

/// Permutation importance: per feature, how much worse the metric gets when that feature's values are shuffled
/// across rows (drop = permuted - baseline for losses, baseline - permuted for accuracy; positive = the model
/// relies on the feature). Plain value.
struct PermutationImportance {
    QString metric;                              ///< "log_loss", "accuracy" or "rmse"
    double baseline = 0;                         ///< metric on the rows as they are
    qint64 rows = 0;
    int repeats = 0;
    quint64 seed = 0;
    QStringList features;                        ///< in recipe order
    std::vector<double> mean;                    ///< per feature: mean drop over repeats
    std::vector<double> std;                     ///< per feature: population standard deviation of the drop
    std::vector<std::vector<double>> drops;      ///< per feature, per repeat

    QJsonObject toJson() const;
    static Expected<PermutationImportance> fromJson(const QJsonObject &json);
};

/// Scores `rows` (raw rows with the target column) as they are and with each feature permuted. Cancel gives
/// "cancelled"; progress counts (feature, repeat) pairs. A metric that does not fit the task is an error.
Expected<PermutationImportance> permutationImportance(const ModelContext &ctx, const data::Table &rows,
                                                      const PermutationOptions &options = {},
                                                      Feedback *feedback = nullptr);

// ---------------------------------------------------------------------------------------------------------------
// Partial dependence and ICE

/// Which model output curves and SHAP plots show.
enum class OutputScale {
    Margin,    ///< the raw margin (log-odds for binary classification)
    Prediction ///< predicted value (regression) or probability of the chosen class
};

struct PartialDependenceOptions {
    QString feature;
    int gridPoints = 20;       ///< numeric features: quantileGrid() of the raw column; categorical: every category
    qint64 maxRows = 1000;     ///< rows averaged; a seeded sample when the table has more
    int iceRows = 50;          ///< rows (out of the averaged ones) whose individual curves are returned
    quint64 seed = 1;
    OutputScale scale = OutputScale::Prediction;
    int classIndex = -1;       ///< class shown for classifiers; -1 = class 1 for binary, class 0 for multiclass
    int threads = 0;           ///< 0 = QThread::idealThreadCount()
};

/// Partial dependence of the model's output on one feature, with individual conditional expectation curves.
/// Grid value g is set by copying feature's design columns from a row whose raw value is g (so every grid
/// value is an observed value and goes through the recipe exactly). Plain value.
struct PartialDependence {
    QString feature;
    bool categorical = false;
    bool datetime = false;
    QString scale;                               ///< "margin" or "prediction"
    int classIndex = -1;                         ///< class shown (-1 for regression)
    QString className;
    std::vector<double> grid;                    ///< raw grid values (categorical: category index)
    QStringList gridLabels;                      ///< grid values as the user sees them
    std::vector<double> average;                 ///< partial dependence per grid point
    std::vector<qint64> iceRows;                 ///< table row of each ICE curve
    std::vector<std::vector<double>> ice;        ///< per ICE row, per grid point
    qint64 rows = 0;                             ///< rows averaged
    quint64 seed = 0;

    QJsonObject toJson() const;
    static Expected<PartialDependence> fromJson(const QJsonObject &json);
};

Expected<PartialDependence> partialDependence(const ModelContext &ctx, const data::Table &rows,
                                              const PartialDependenceOptions &options, Feedback *feedback = nullptr);

// ---------------------------------------------------------------------------------------------------------------
// SHAP summary and dependence data (from any Attribution: KernelSHAP, TreeSHAP, linear SHAP)

/// Data for a SHAP beeswarm: per feature, per row the SHAP value and the feature's raw value. Plain value.
struct ShapSummary {
    struct Feature {
        QString name;
        bool categorical = false;
        QStringList categories;                  ///< categorical: category of each index
        std::vector<double> shap;                ///< per row
        std::vector<double> value;               ///< raw value per row (categorical: category index); NaN = missing
        std::vector<double> colour;              ///< colourScale() of the raw values
        double meanAbs = 0;                      ///< mean |SHAP| (the feature's global importance)
    };
    QString method;                              ///< the attribution's method
    int output = 0;                              ///< attribution output shown
    qint64 rows = 0;
    std::vector<Feature> features;               ///< by mean |SHAP|, largest first (ties: recipe order)

    QJsonObject toJson() const;
    static Expected<ShapSummary> fromJson(const QJsonObject &json);
};

/// Summary of attribution `a` over `rows` (the rows it explains, in order). `a` may be over design columns (it is
/// aggregated to features first) or over the recipe's features.
Expected<ShapSummary> shapSummary(const Attribution &a, const ModelContext &ctx, const data::Table &rows, int output = 0);

/// Data for a SHAP dependence plot: x = raw value of `feature`, y = its SHAP value, colour = raw value of
/// `colourFeature`. Plain value.
struct ShapDependence {
    QString feature;
    QString colourFeature;
    int output = 0;
    bool categorical = false;
    QStringList categories;
    std::vector<double> x;                       ///< raw value of `feature` per row (categorical: index); NaN = missing
    std::vector<double> shap;                    ///< SHAP value of `feature` per row
    bool colourCategorical = false;
    QStringList colourCategories;
    std::vector<double> colourValue;             ///< raw value of `colourFeature` (categorical: index); NaN = missing
    std::vector<double> colour;                  ///< colourScale() of colourValue

    QJsonObject toJson() const;
    static Expected<ShapDependence> fromJson(const QJsonObject &json);
};

Expected<ShapDependence> shapDependence(const Attribution &a, const ModelContext &ctx, const data::Table &rows,
                                        const QString &feature, const QString &colourFeature, int output = 0);

} // namespace keel::explain
