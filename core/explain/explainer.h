#pragma once
// The explanation context shared by core/explain's model-agnostic methods: a fitted model with the fitted recipe
// that feeds it, predictions for raw table rows, feature values in the user's terms, edited copies of rows, and the
// small helpers (seeded random numbers, a block-parallel loop, JSON for numbers and attributions) they all use.
//
// Features are the recipe's features (Recipe::featureNames(): input columns, then derived columns). Model-agnostic
// explanations move a feature by moving all the design columns it produces together (a categorical's one-hot
// columns switch together); a derived column is a feature of its own. Edits of raw rows (what-if, counterfactuals)
// go through the recipe again, so derived columns follow the input columns they read.

#include "data/table.h"
#include "explain/attribution.h"
#include "ml/model.h"
#include "ml/recipe.h"
#include "util/feedback.h"
#include "util/random.h"
#include "util/result.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <QVariant>
#include <QVariantMap>

#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace keel::explain {

using keel::Rng;   // util/random.h

/// Raw values of one recipe feature over the rows of a table, in the user's terms (before any recipe step).
/// Plain value.
struct FeatureValues {
    QString name;
    bool categorical = false;    ///< a categorical or string column: values are categories
    bool derived = false;        ///< a derived column, computed from the input columns it reads
    bool datetime = false;       ///< numbers are milliseconds since 1970-01-01T00:00:00Z
    bool integer = false;        ///< the source column is int64 or bool
    std::vector<double> numbers; ///< numeric and datetime features: value per row, NaN = missing
    std::vector<int> codes;      ///< categorical features: index into `categories` per row, -1 = missing
    QStringList categories;      ///< categorical features: distinct values present, in text order

    qint64 size() const { return qint64(categorical ? codes.size() : numbers.size()); }
    bool isMissing(qint64 r) const;
    /// Number of a numeric feature, or category index of a categorical one (NaN when missing).
    double numberOrCode(qint64 r) const;
    /// The value as the user sees it: the category, the number in shortest form, an ISO 8601 date; empty if missing.
    QString display(qint64 r) const;
};

/// A fitted model with its fitted recipe: everything needed to go from raw table rows to model outputs. Both
/// pointers are shared and immutable, so a context is cheap to copy and safe to use from several threads.
struct ModelContext {
    std::shared_ptr<const ml::Model> model;
    std::shared_ptr<const ml::Recipe> recipe;

    /// Restores a context from a run's artifacts: ml::loadModel(kind, modelBytes) and Recipe::fromJson(recipeJson).
    static Expected<ModelContext> fromArtifacts(const QString &kind, const QByteArray &modelBytes,
                                                const QJsonObject &recipeJson);

    /// Both parts present and of the same task; otherwise an error saying what is missing.
    Status check() const;
    ml::Task task() const { return model->task(); }
    /// Margin outputs per row: the number of classes for multiclass models, else 1.
    int outputs() const;
    /// Class labels (classification; empty for regression).
    QStringList classes() const { return recipe->classes(); }
    /// Recipe feature names (input columns, then derived columns).
    QStringList features() const { return recipe->featureNames(); }
    /// Index of `feature` in features(), or -1.
    int featureIndex(const QString &feature) const { return int(features().indexOf(feature)); }
    /// Whether `feature` is an input column (not a derived column) of the recipe.
    bool isInputFeature(const QString &feature) const;

    /// Rows of `rows` through the recipe.
    Expected<ml::DesignMatrix> design(const data::Table &rows, Feedback *feedback = nullptr) const;
    /// Model::predictMargin / Model::predict of a design matrix (rows x outputs(), row-major).
    Expected<std::vector<double>> margin(const ml::DesignMatrix &x) const;
    Expected<std::vector<double>> predict(const ml::DesignMatrix &x) const;
    /// The same for raw table rows (transformed through the recipe first).
    Expected<std::vector<double>> margin(const data::Table &rows, Feedback *feedback = nullptr) const;
    Expected<std::vector<double>> predict(const data::Table &rows, Feedback *feedback = nullptr) const;
    /// The target column of `rows`, encoded as at training time.
    Expected<ml::Target> target(const data::Table &rows) const { return recipe->target(rows); }

    /// Raw values of every recipe feature over `rows` (derived columns evaluated from their input columns).
    Expected<std::vector<FeatureValues>> featureValues(const data::Table &rows) const;
    /// Raw values of one feature; an unknown feature is an error naming it.
    Expected<FeatureValues> featureValues(const data::Table &rows, const QString &feature) const;
};

/// Design-column indices of each source feature of `x` (grouped by x.sourceFeature), indexed like
/// x.sourceFeatureNames.
std::vector<std::vector<int>> featureColumns(const ml::DesignMatrix &x);

/// Predicted class of each row from Model::predict output: binary P(class 1) >= threshold gives 1; multiclass the
/// argmax (first on ties). Empty for regression.
std::vector<int> predictedClasses(ml::Task task, int numClasses, std::span<const double> prediction,
                                  double threshold = 0.5);

/// The value of row `row` of `c` as a QVariant: int64 as qlonglong, float64 as double, bool as bool, datetime as
/// a UTC QDateTime, categorical and string as QString; an invalid QVariant when missing.
QVariant rawValue(const data::Column &c, qint64 row);

using data::selectRows;   // rows of a table by index (data/table.h)

/// One copy of row `row` of `t` per entry of `edits`, each with that entry's raw values replaced (column name ->
/// value; an invalid or null QVariant makes the value missing). Values convert to the column's type: numbers or
/// numeric text for int64/float64 (an int64 column becomes float64 when some edit is not a whole number), bool,
/// 0/1 or "true"/"false" for bool, QDateTime, ISO 8601 text or milliseconds for datetime, any text for categorical
/// and string columns. Unknown columns and values that do not convert are errors naming the column.
Expected<data::Table> editedRows(const data::Table &t, qint64 row, const std::vector<QVariantMap> &edits);
/// editedRows() with one entry: a one-row table.
Expected<data::Table> editedRow(const data::Table &t, qint64 row, const QVariantMap &edits);

/// Runs body(begin, end) over contiguous blocks of [0, n) of at most `block` items on up to `threads` threads
/// (0 = QThread::idealThreadCount()); the calling thread takes part. Stops handing out blocks after the first
/// failure and returns the failure of the lowest block that failed. `body` must be safe to call concurrently.
Status parallelFor(qint64 n, qint64 block, int threads, const std::function<Status(qint64, qint64)> &body);

/// A double as JSON: finite numbers as numbers, NaN as null, infinities as the strings "inf" / "-inf".
QJsonValue jsonNumber(double v);
/// Inverse of jsonNumber(); anything else reads as NaN.
double numberFromJson(const QJsonValue &v);
QJsonArray jsonNumbers(std::span<const double> v);
std::vector<double> numbersFromJson(const QJsonArray &a);

/// Attribution as JSON: {"method","features","outputs","rows","base","values","residual","parameters"}
/// (values flat in Attribution's index order).
QJsonObject attributionToJson(const Attribution &a);
/// Inverse of attributionToJson(); sizes that do not agree are errors naming the field.
Expected<Attribution> attributionFromJson(const QJsonObject &json);

/// Turns an attribution over design columns (features == the recipe's column names) into one over the recipe's
/// features with aggregateToSourceFeatures(); an attribution already over the recipe's features is returned as is.
/// Anything else is an error naming the first unknown feature.
Expected<Attribution> toSourceFeatures(const Attribution &a, const ModelContext &ctx);

} // namespace keel::explain
