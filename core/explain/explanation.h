#pragma once
// The explanation document as a typed value with one JSON form (the "keel-explanation" artifact a run stores), and
// how an explanation is presented: which model output a row's explanation shows, what the prediction reads as, the
// name of the margin, and the top contributions with the rest folded into "other". `keel explain`, the workbench
// and `keel serve` present explanations through these, so they say the same thing.

#include "explain/attribution.h"
#include "explain/fairness.h"
#include "explain/global.h"
#include "ml/model.h"
#include "util/result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>
#include <span>
#include <vector>

namespace keel::explain {

/// SHAP interaction values of explained rows among the k strongest design columns (tree models). Plain value.
struct InteractionValues {
    QString method;
    QStringList features;        ///< the k design columns
    int outputs = 1;
    std::vector<double> values;  ///< rows x outputs x k x k, index (((r * outputs) + o) * k + i) * k + j
    std::vector<double> rest;    ///< rows x outputs x k

    int k() const { return int(features.size()); }
    /// The interaction of features i and j (i != j) in row r, output o: both symmetric halves added.
    double pair(qint64 r, int o, int i, int j) const;
    QJsonObject toJson() const;
    static Expected<InteractionValues> fromJson(const QJsonObject &json);
};

/// One pair of features and their interaction in one row.
struct InteractionPair {
    QString first, second;
    double value = 0;
};
/// The `n` strongest pairs (by |value|) of row r, output o.
std::vector<InteractionPair> strongestInteractions(const InteractionValues &in, qint64 r, int o, int n);

/// Per-row explanations of the requested rows. Plain value.
struct LocalExplanations {
    std::vector<qint64> rows;           ///< 1-based data rows of the version
    Attribution attribution;            ///< over the recipe's features, on the margin; row i = rows[i]
    std::vector<double> prediction;     ///< rows x width, as Model::predict gives it
    std::vector<double> margin;         ///< rows x outputs
    std::vector<QStringList> values;    ///< per row, each feature's raw value as the user sees it
    QStringList actual;                 ///< the target's value per row; empty when the data has no target column
    std::optional<InteractionValues> interactions;

    qint64 count() const { return qint64(rows.size()); }
    /// Row i's prediction (one number for regression and binary, one probability per class for multiclass).
    std::span<const double> predictionOf(qint64 i) const;
};

struct FeatureImportance {
    QString feature;
    double meanAbsShap = 0;
};

/// The global views on a seeded sample of the population. Plain value.
struct GlobalExplanation {
    qint64 rows = 0;                            ///< sampled rows behind importance, beeswarm and dependence
    int output = 0;                             ///< the explained output (multiclass: the class index)
    double base = 0;                            ///< base value of the explained output
    double maxAbsResidual = 0;
    std::vector<FeatureImportance> importance;  ///< most important first
    ShapSummary summary;
    std::optional<PermutationImportance> permutation;
    std::optional<PartialDependence> pdp;
    std::optional<ShapDependence> dependence;

    QStringList order() const;                  ///< the features, most important first
};

/// A stored explanation. Plain value; toJson()/fromJson() are the one JSON form (format "keel-explanation").
struct ExplanationReport {
    static constexpr int kVersion = 2;
    int version = kVersion;
    QString runId, runName;
    QString modelId, modelKind, recipeId;
    ml::Task task = ml::Task::Regression;
    QStringList classes;                 ///< class labels in output order (empty for regression)
    QStringList features;                ///< the recipe's input features
    QString data;                        ///< NAME@vN
    QString dataContentId;
    qint64 dataRows = 0;
    bool testRows = false;               ///< the global views and fairness looked at the run's test rows only
    qint64 populationRows = 0;
    QString method;                      ///< "tree", "linear" or "kernel"
    QJsonObject request;                 ///< the ExplainRequest it answers (ExplainRequest::toJson)
    QDateTime created;
    QString keelVersion;
    std::optional<LocalExplanations> local;
    std::optional<GlobalExplanation> global;
    std::optional<FairnessReport> fairness;

    /// "the run's test rows" or "all rows".
    QString populationText() const;
    QJsonObject toJson() const;
    /// Errors name the field at fault; a document of another format or a newer version is refused.
    static Expected<ExplanationReport> fromJson(const QJsonObject &json);
};

// ---- presentation -----------------------------------------------------------------------------------------------

/// The model output a row's explanation shows: the predicted class (highest probability) of a multiclass model,
/// else 0 (the one margin of a binary or regression model).
int explainedOutput(ml::Task task, std::span<const double> prediction);

/// What a prediction reads as. Plain value.
struct PredictionText {
    ml::Task task = ml::Task::Regression;
    int output = 0;             ///< explainedOutput(), or the class asked for
    QString quantity;           ///< "P(>50K)", "P(setosa)" or "prediction"
    double value = 0;           ///< the probability or the predicted value
    QString predictedLabel;     ///< the predicted class; empty for regression
    bool predictedShown = true; ///< multiclass: `quantity` is the predicted class's probability
    /// "P(>50K) = 0.83 → >50K", "P(setosa) = 0.91 (the predicted class)", "prediction = 12.5".
    QString text() const;
};
/// `shownClass` (multiclass only): explain this class's probability instead of the predicted class's; -1 = the
/// predicted class. The text then reads "P(hId) = 0.12 (predicted: hid)".
PredictionText describePrediction(ml::Task task, const QStringList &classes, std::span<const double> prediction,
                                  int shownClass = -1);

/// The index of class `name` among `classes`, compared exactly (labels that differ only in case are different
/// classes). A name that matches no class is an error listing the classes; when it matches some only when case is
/// ignored, the error names those.
Expected<int> classIndex(const QStringList &classes, const QString &name);

/// The margin output k is on: "log-odds of >50K", "score of setosa" or "prediction".
QString marginName(ml::Task task, const QStringList &classes, int k);
/// The margin's unit in a chart axis: "log-odds", "class score" or "prediction".
QString marginUnit(ml::Task task);

/// One line of a row's explanation: a feature and its contribution, or the remaining features summed ("other").
struct ContributionLine {
    QString feature;            ///< empty for "other"
    QString value;              ///< the raw value (empty when missing)
    double contribution = 0;
    int features = 1;           ///< features summed into the line ("other": how many)
    bool isOther() const { return feature.isEmpty(); }
};
/// How many features a row's explanation shows on their own before folding the rest into "other".
inline constexpr int kTopContributions = 10;

/// The `top` features by |contribution| (ties keep feature order), then one "other" line summing the rest (left out
/// when there is none). `values` may be shorter than `features`.
std::vector<ContributionLine> topContributions(const QStringList &features, std::span<const double> contributions,
                                               const QStringList &values, int top);

} // namespace keel::explain
