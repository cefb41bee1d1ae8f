#pragma once
// Explanations of a tracked run's model, as the runner (`keel explain`) and the workbench produce them: the model
// and recipe are loaded from the run's artifacts (verified by hash in the object store), explained on a dataset
// version, and the result is stored as a JSON artifact of the run, keyed by model, recipe, data content and request,
// so asking again returns exactly what was shown the first time.

#include "explain/explainer.h"
#include "explain/explanation.h"
#include "explain/kernelshap.h"
#include "explain/treeshap.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QJsonObject>
#include <QString>

#include <memory>
#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::explain {

/// A run's fitted model and recipe, with the identities an explanation is keyed by. Plain value.
struct RunModel {
    QString runId;
    QString runName;
    QString modelKind;            ///< Model::kind(), e.g. "xgboost-gbdt"
    QString modelObjectId;        ///< object-store id of the model artifact
    QString recipeObjectId;
    QString trainedOn;            ///< the run's "data" param (NAME@vN)
    QString evaluatedOn;          ///< the run's "evaluate" param, if any
    QByteArray modelBytes;        ///< the serialized model (TreeSHAP reads the trees from it)
    ModelContext ctx;
};

/// Loads the model of run `runIdOrPrefix` (a full id or a unique prefix). Errors: unknown or ambiguous run, a run
/// without model or recipe artifact, artifacts that fail their hash check or do not parse.
Expected<RunModel> loadRunModel(workspace::Workspace &ws, const QString &runIdOrPrefix);

/// What to explain. Plain value; every field is part of the cache key.
struct ExplainRequest {
    QString data;                 ///< dataset ref NAME@REF; empty = defaultExplainData() (the run's test rows)
    /// The global views and fairness look only at the run's test rows of `data` (set for the default data; with an
    /// explicit `data` it must be the version the test rows come from).
    bool testRows = false;
    std::vector<qint64> rows;     ///< rows to explain one by one (0-based indices into the dataset version)
    bool global = false;          ///< importance, beeswarm data, permutation importance, PDP/ICE and dependence
    qint64 globalRows = 1000;     ///< rows (seeded sample) behind the global views
    QString fairness;             ///< sensitive column for the fairness report; empty = none
    QString method = QStringLiteral("auto"); ///< auto (tree for XGBoost, linear for linear models), tree, linear, kernel
    int background = 50;          ///< KernelSHAP / linear SHAP background rows (k-means summary)
    int kernelSamples = 0;        ///< KernelSHAP coalitions per row; 0 = automatic
    QString pdpFeature;           ///< feature for PDP/ICE and dependence; empty = the most important one
    int permutationRepeats = 5;
    int bootstrap = 500;          ///< fairness bootstrap resamples
    /// Margin output for the global views (multiclass: class index); -1 = the default, for multiclass models the
    /// most frequent class of the population's target (defaultGlobalClass()), else the one output.
    int output = -1;
    int interactions = 0;         ///< tree models: SHAP interaction values of the rows among this many top features
    quint64 seed = 1;
    int threads = 0;              ///< 0 = all cores (not part of the key: results do not depend on it)

    QJsonObject toJson() const;
};

/// Attributions of raw rows on the recipe's features by one method, prepared once for a population of rows: the
/// trees of a tree ensemble, the design-column means of the population for a linear model, or a k-means background
/// of the population for KernelSHAP. The one place that chooses and runs the attribution method, for explainRun()
/// and the workbench's what-if. Plain value; explain() is safe from several threads.
class RowAttributor {
public:
    /// `method`: auto (tree for XGBoost, linear for linear and logistic models, kernel otherwise), tree, linear or
    /// kernel; a method the model cannot use is an error naming it. Background size, KernelSHAP samples, seed and
    /// threads come from `options`.
    static Expected<RowAttributor> prepare(const RunModel &model, const QString &method, const data::Table &population,
                                           const ExplainRequest &options, Feedback *feedback = nullptr);
    /// "tree", "linear" or "kernel".
    QString method() const { return m_method; }
    /// Base value, contributions and residual of every row of `rows` (raw rows), per recipe feature.
    Expected<Attribution> explain(const data::Table &rows, Feedback *feedback = nullptr) const;
    /// Tree models only: SHAP interaction values of every row of `rows` among the `topK` strongest design columns.
    Expected<InteractionValues> interactions(const data::Table &rows, int topK, Feedback *feedback = nullptr) const;

private:
    ModelContext m_ctx;
    QString m_method;
    int m_kernelSamples = 0;
    quint64 m_seed = 1;
    int m_threads = 0;
    std::shared_ptr<const TreeEnsemble> m_ensemble;
    std::shared_ptr<const Background> m_background;
    std::vector<double> m_means;
};

/// An explanation document (see explainRun) and where it is stored.
struct ExplainResult {
    ExplanationReport report;     ///< stored as ExplanationReport::toJson()
    QString objectId;             ///< its object-store id
    QString artifactName;         ///< the run artifact that indexes it ("explanation-<key>")
    bool cached = false;          ///< true when an identical request had been answered before
};

/// Explains the run's model. The report holds: run, model and recipe ids, model kind, task, classes, data ref and
/// content id, the request, the attribution method; "local": per requested row the prediction, margin, base value,
/// per-feature contributions in the user's terms (one-hot columns summed back to their feature) with the raw
/// values, and the additivity residual; "global": mean |SHAP| importance, beeswarm data (ShapSummary), permutation
/// importance, partial dependence with ICE, and SHAP dependence; "fairness": the FairnessReport. Progress by stage;
/// cancel gives an Error "cancelled" and stores nothing.
Expected<ExplainResult> explainRun(workspace::Workspace &ws, const RunModel &model, const ExplainRequest &request,
                                   Feedback *feedback = nullptr);

/// The class the global views explain by default: for a multiclass model the most frequent actual class of
/// `population` (the most frequent predicted class when it has no target column; the first class on ties), else 0.
Expected<int> defaultGlobalClass(const ModelContext &ctx, const data::Table &population, Feedback *feedback = nullptr);

/// Parses a row list such as "1-100,120" — data row numbers, 1-based as everywhere users see rows (the CLI, the
/// workbench, reports, predictions) — against a table of `rowCount` rows; returns 0-based indices. Errors name the
/// part at fault. Duplicates are kept once, in first-seen order.
Expected<std::vector<qint64>> parseRowList(const QString &text, qint64 rowCount);

/// The data explanations look at when the user names none: the run's test rows (the `evaluate` dataset's rows, or
/// the test part of the training data, from the run's split artifact). Runs trained before splits were recorded
/// fall back to all rows of the evaluate (else training) version.
struct ExplainData {
    QString ref;                  ///< NAME@vN
    std::vector<qint64> rows;     ///< 0-based indices of the test rows; empty = every row
    bool testRows = false;        ///< rows are the run's test rows
    QString description;          ///< e.g. "the run's 6,513 test rows of adult_train@v1"
};
Expected<ExplainData> defaultExplainData(workspace::Workspace &ws, const RunModel &model);

} // namespace keel::explain
