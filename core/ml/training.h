#pragma once
// Headless training runs: a YAML training config (data, recipe, split, learner, params) is parsed, the model
// is fitted and evaluated, and everything the run used and produced is recorded in the workspace's tracking
// store (run, params, metric series, final metrics, artifacts in the object store, lineage, tags).
//
// Config keys (see resources/examples/configs/*.yaml for commented examples):
//   experiment, name, data, evaluate, target, task, label_map, recipe, split, learner, params

#include "data/table.h"
#include "ml/model.h"
#include "ml/recipe.h"
#include "ml/split.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QHash>
#include <QString>
#include <QJsonObject>
#include <QVariantMap>

#include <functional>

namespace keel::workspace { class Workspace; }

namespace keel::ml {

/// A parsed and validated training config. Plain value.
struct TrainingConfig {
    QString experiment = QStringLiteral("default");
    QString name;                 ///< run name; defaults to the config file's base name
    QString data;                 ///< dataset ref to train on (NAME, NAME@vN, NAME@commit, NAME@tag)
    QString evaluate;             ///< optional dataset ref to evaluate on; empty: the split's held-out part
    QString idColumn;             ///< optional column copied into the predictions (joins a prediction to its input)
    bool dropMissingTarget = true;///< rows whose target is missing are dropped and counted (false: they are an error)
    RecipeSpec recipe;            ///< with target, task and label_map from the top level merged in
    SplitSpec split;              ///< validation split of the training data (holdout or time)
    QString learner;              ///< a name findLearner() knows
    Params params;                ///< validated against the learner's specs, defaults filled in
    QString text;                 ///< the config text as written (stored verbatim with the run)
    QString sourceName;           ///< file name used in error messages
    QString parentRunId;          ///< not from YAML: the run this one branches from (or its sweep), recorded as parent
    QString sweepId;              ///< not from YAML: the sweep this run is a trial of
    QHash<QString, qint64> lines; ///< 1-based line of every dotted key path in the YAML (e.g. "recipe.exclude")

    /// An error found after parsing (fitting the recipe, reading the data) placed in this config: a recipe field
    /// ("exclude") becomes its config path ("recipe.exclude"), and the file and line are filled in.
    Error locate(Error e) const;

    /// Parses and validates YAML; errors name `sourceName`, the 1-based line and the field
    /// (e.g. "params.max_depth", "split.test_fraction"). Never throws.
    static Expected<TrainingConfig> fromYaml(const QString &yaml, const QString &sourceName);
    /// Reads `path` and parses it with fromYaml().
    static Expected<TrainingConfig> fromFile(const QString &path);
};

/// What a form edits of a training config (the workbench's New Run dialog); writeTrainingConfig() turns it into
/// YAML that TrainingConfig::fromYaml() reads back to the same values. Parsing and writing the schema both live here.
struct TrainingConfigDraft {
    QString experiment, name, data, evaluate, target;
    QString task;                   ///< empty: detected from the target
    SplitSpec split;                ///< test_fraction is written only where it applies (no evaluate, not k-fold)
    QString learner;
    std::vector<std::pair<QString, QString>> params;   ///< name -> value text, in the order to write
    QString baseYaml;               ///< a config whose label_map and recipe sections are kept verbatim (a branch)
    QStringList headerComments;     ///< written first, one "# " line each
};
/// The YAML of a draft. Errors only when `baseYaml` does not parse.
Expected<QString> writeTrainingConfig(const TrainingConfigDraft &draft);

/// Watches a run as it happens; every member is optional and is called on the thread running the training.
struct TrainingObserver {
    std::function<void(const QString &runId, const QString &experiment)> started; ///< run created
    std::function<void(const QString &key, qint64 step, double value)> metric;    ///< each metric point logged
};

/// Where a run's config comes from: a file, or a past run's recorded config (branching), then dotted `overrides`
/// ("params.max_depth=4"; values are YAML).
struct TrainingSource {
    QString configPath;             ///< a YAML file; or
    QString fromRun;                ///< a run id or unique prefix whose recorded config is the start (its name is kept)
    QString sourceName;             ///< how errors name the file (default: configPath)
    QStringList overrides;
    QString parentRun;              ///< id or prefix recorded as the parent (default: fromRun)
    QString sweepId;                ///< the sweep this run is a trial of
};
/// The config a TrainingSource describes, checked, with parent and sweep filled in. Errors name the file, line and
/// field (or the override at fault); an unknown run is an error saying so.
Expected<TrainingConfig> resolveTrainingConfig(workspace::Workspace &ws, const TrainingSource &source);

/// What a finished run produced.
struct TrainingResult {
    QString runId;
    QString experiment;
    QString modelKind;            ///< Model::kind(), needed by loadModel()
    QString modelObjectId;        ///< object-store id of the serialized model (artifact "model")
    QString recipeObjectId;       ///< fitted recipe JSON (artifact "recipe")
    QString predictionsObjectId;  ///< predictions CSV on the evaluation data (artifact "predictions")
    QString curvesObjectId;       ///< classification: confusion matrix, ROC, PR and calibration JSON (artifact "curves")
    QString splitObjectId;        ///< the rows of each part (artifact "split", JSON)
    qint64 droppedMissingTarget = 0;  ///< training-data rows dropped because their target is missing
    QVariantMap metrics;          ///< final scalar metrics, keys "test.<metric>" (as logged at step 0)
    int rounds = 0;               ///< training iterations reported by the learner
    qint64 trainRows = 0, validationRows = 0, evaluationRows = 0;
};

/// What reproducing a run found.
struct ReproduceResult {
    QString originalRunId;
    TrainingResult run;             ///< the new run (its parent is the original)
    bool identical = false;         ///< the predictions artifacts are byte-identical
    bool sameModel = false;         ///< the model artifacts are the same object
    qint64 rows = 0;                ///< prediction rows compared
    qint64 rowsDiffering = 0;
    double maxAbsDifference = 0;    ///< largest difference between numeric fields of differing rows
    QStringList notes;              ///< what differs in the environment (Keel version, thread count)
};

/// Retrains a finished run from its recorded config on the exact dataset versions it used (their content ids are
/// checked first: a version whose content changed is an error), as a new run whose parent is the original (tag
/// "reproduces", lineage "reproduced_by"), and compares the predictions byte for byte.
Expected<ReproduceResult> reproduceRun(workspace::Workspace &ws, const QString &runIdOrPrefix, Feedback *feedback = nullptr);

/// Runs the config in `ws`: resolves and loads the dataset version(s), drops rows whose target is missing (counted
/// in TrainingResult and tag "data.dropped_missing_target"; an error without drop_missing_target), plans the split
/// with planSplits() — train, validation (early stopping and curves) and test parts that never overlap — fits the
/// recipe and the learner on the training part, and records the run. Metrics: "validation.<metric>" on the
/// validation part and "test.<metric>" on the test part (the `evaluate` dataset when given), both at step 0; curve
/// series "curve.<train|validation>.<metric>" with the iteration as step. Artifacts: model, recipe, predictions
/// (predictionsCsv), split (source row numbers of every part) and, for classification, curves.
/// On error the run (if created) is marked failed with the message in tag "error"; on cancel it is marked killed
/// and the error is of kind Cancelled. Progress: stages "load", "recipe", "train" (rounds done of total),
/// "evaluate". Use from one thread.
/// K-fold splits: each fold's model is fitted on the other folds (early stopping on an inner validation part of
/// those rows, never on the fold itself), its metrics are logged as "cv.<metric>" with the fold as step, and
/// "cv.<metric>.mean" / ".std" summarise them; the predictions artifact and test.* metrics then come from the
/// out-of-fold predictions (or from `evaluate` when given, scored by a final model fitted on all rows with the
/// folds' mean best round count). `observer` may be null.
Expected<TrainingResult> runTraining(workspace::Workspace &ws, const TrainingConfig &config, Feedback *feedback,
                                     const TrainingObserver *observer = nullptr);
/// Same, reading the config from `configPath`.
Expected<TrainingResult> runTraining(workspace::Workspace &ws, const QString &configPath, Feedback *feedback,
                                     const TrainingObserver *observer = nullptr);

/// The "curves" artifact of a classification run as JSON: classes, confusion_matrix, and for binary tasks roc {fpr, tpr},
/// pr {recall, precision} (each thinned to at most `maxPoints` points, keeping the ends) and calibration {predicted,
/// observed, count} over 10 bins. Multiclass tasks get "one_vs_rest" (ml::oneVsRest): roc_auc_macro, roc_auc_micro,
/// pr_auc_macro, pr_auc_micro (null when undefined), micro {roc, pr}, and classes[] in class order, each with support,
/// roc_auc, pr_auc, roc, pr and calibration.
QJsonObject curvesJson(const Target &actual, const std::vector<double> &predictions, int numClasses, int maxPoints = 200);

/// The rows a predictions file describes.
struct PredictionRows {
    std::vector<qint64> rows;   ///< 1-based data row numbers in the dataset version (or file) scored
    QString idColumn;           ///< the config's id_column, or empty
    QStringList ids;            ///< with idColumn: its value (display text) on each row
};

/// Predictions CSV, as in the "predictions" artifact and `keel predict`: header
/// "row[,<id_column>][,actual],predicted[,p_<class>...]", one line per row. `predicted` is the label (classification,
/// the most probable class; binary at p >= 0.5) or the value (regression); classification adds one probability per
/// class. `actual` (omitted when null) is the label or value, empty where missing. Numbers are shortest round-trip
/// decimals, so parsing them gives exactly Model::predict's doubles.
QByteArray predictionsCsv(const PredictionRows &rows, Task task, const QStringList &classes,
                          const std::vector<double> &predictions, const Target *actual);

} // namespace keel::ml
