#pragma once
// Preprocessing recipe: what the user writes (RecipeSpec, YAML or JSON) and its fitted form (Recipe), which is
// fitted on the training split, stored with the model and applied identically at training and prediction time.
//
// Per input feature, in this order:
//   numeric (int64, float64, bool; derived columns): clip(min, max) -> log1p (values <= -1 become missing) ->
//     impute (statistic fitted on the clipped/logged training values) -> standard scaling (mean and population
//     standard deviation of the imputed training values; a zero deviation scales by 1)
//   categorical (categorical, string): impute -> encode.
//     onehot: the `max_categories` most frequent training categories (ties: text order) become columns
//     "col=value" in text order; if any category was left out, one more column "col=(other)" collects them.
//     A value not seen in training maps to "(other)" when that column exists, else to all zeros.
//     Still-missing values (impute: none) give all zeros.
//     ordinal: the index of the value in the text-sorted training categories; unseen values map to -1 and
//     still-missing values stay NaN.
//   datetime: date parts (default year, month, day, weekday) as numeric columns "col.part" (UTC; weekday
//     Monday = 0 .. Sunday = 6; dayofyear 1..366), each then imputed and scaled as numeric (clip/log ignored).
// A missing indicator column "col.missing" (1 = the raw value was missing) may be added for any feature.
// Derived columns "name = expression" (see expression.h) read the raw numeric value of input columns.

#include "data/table.h"
#include "ml/expression.h"
#include "ml/model.h"
#include "util/feedback.h"
#include "util/result.h"
#include "util/textmap.h"

#include <QHash>
#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>
#include <string_view>
#include <vector>

namespace keel::ml {

enum class ImputeKind { None, Mean, Median, MostFrequent, Constant };
enum class EncodeKind { OneHot, Ordinal };
enum class ScaleKind { None, Standard };
enum class DatePart { Year, Month, Day, Weekday, Hour, DayOfYear };

/// Step settings for one column (or the defaults); unset fields fall back to the defaults, then to built-ins
/// (impute: median for numeric, most_frequent for categorical; no indicator; onehot with 50 categories;
/// scale none; no log; no clip; date parts year, month, day, weekday). A column's clip (min and/or max) replaces
/// the default clip as a whole.
struct StepSpec {
    std::optional<ImputeKind> impute;
    QString imputeConstant;                  ///< text after "constant:" (a number for numeric columns)
    std::optional<bool> missingIndicator;
    std::optional<EncodeKind> encode;
    std::optional<int> maxCategories;
    std::optional<ScaleKind> scale;
    std::optional<bool> log;
    std::optional<double> clipMin, clipMax;
    std::optional<std::vector<DatePart>> dateParts;
    bool operator==(const StepSpec &) const = default;
};

/// A derived column "name = expression".
struct DerivedSpec {
    QString name;
    QString expression;
    bool operator==(const DerivedSpec &) const = default;
};

/// What the user writes in a training config. YAML form:
///   target: class
///   task: auto                 # auto | regression | classification | binary | multiclass
///   classes: [a, b]            # optional, explicit class list (labels outside it are an error)
///   features: [age, workclass] # optional; default: every column but the target (and excluded ones)
///   exclude: [fnlwgt]
///   label_map: {">50K.": ">50K"}
///   defaults: {impute: median, missing_indicator: false, encode: onehot, max_categories: 50, scale: standard}
///   columns:
///     age: {clip: {min: 0, max: 90}, log: true, impute: "constant:0"}
///     when: {date_parts: [year, month, weekday, hour]}
///   derived:
///     - ratio = capital_gain / (hours_per_week + 1)
/// Plain value.
struct RecipeSpec {
    QString target;
    QString task = QStringLiteral("auto");
    QStringList classes;
    QStringList features;
    QStringList exclude;
    QMap<QString, QString> labelMap;
    StepSpec defaults;
    QMap<QString, StepSpec> columns;
    std::vector<DerivedSpec> derived;

    /// Parses YAML; errors name `sourceName`, the 1-based line and the field. Never throws.
    static Expected<RecipeSpec> fromYaml(const QString &yaml, const QString &sourceName = QStringLiteral("<recipe>"));
    /// YAML text that fromYaml() reads back to an equal spec.
    QString toYaml() const;
    /// Same structure as the YAML form.
    QJsonObject toJson() const;
    static Expected<RecipeSpec> fromJson(const QJsonObject &json);
    bool operator==(const RecipeSpec &) const = default;
};

/// A fitted recipe. Immutable after fit()/fromJson(); transform() is safe from several threads at once.
class Recipe {
public:
    /// Fits every step on `train` (the target column is left out of the features). Errors name the column.
    static Expected<Recipe> fit(const data::Table &train, const RecipeSpec &spec, Feedback *feedback = nullptr);

    /// Transforms every row of `t` (which must hold every input column, target optional). Missing columns and
    /// incompatible types are errors naming the column. Cancelling gives an Error "cancelled".
    Expected<DesignMatrix> transform(const data::Table &t, Feedback *feedback = nullptr) const;
    /// Transforms one row of `t`: the same numbers as row `row` of transform(t), bit for bit.
    Expected<std::vector<float>> transformRow(const data::Table &t, qint64 row) const;

    /// The target of `t` encoded as at fit time (label_map applied; classes fixed by the training data or
    /// the spec's explicit classes).
    Expected<Target> target(const data::Table &t) const;

    const RecipeSpec &spec() const { return m_spec; }
    Task task() const { return m_task; }
    const QStringList &classes() const { return m_classes; }
    /// Output column names, one per design-matrix column.
    const QStringList &columnNames() const { return m_columnNames; }
    /// Input feature names (input columns, then derived columns), as in DesignMatrix::sourceFeatureNames.
    QStringList featureNames() const;

    /// Complete fitted state; doubles are written as shortest round-trip numbers (non-finite as "nan",
    /// "inf", "-inf" strings), so fromJson(toJson()) transforms bit-identically.
    QJsonObject toJson() const;
    static Expected<Recipe> fromJson(const QJsonObject &json);

    /// Fitted state of one input feature (input column or derived column). Exposed for serialization and
    /// inspection; treat as read-only.
    struct NumericOutput {
        std::optional<DatePart> part;        ///< datetime features: which part this output is
        std::optional<double> clipMin, clipMax;
        bool log = false;
        bool hasFill = false;                ///< impute missing values with `fill`
        double fill = 0;
        bool scale = false;
        double mean = 0, scaleBy = 1;        ///< standard scaling: (x - mean) / scaleBy
    };
    struct Feature {
        enum class Kind { Numeric, Categorical, Datetime };
        QString name;
        Kind kind = Kind::Numeric;
        int derived = -1;                    ///< index into spec().derived, or -1 for an input column
        bool indicator = false;              ///< emit "name.missing"
        std::vector<NumericOutput> numeric;  ///< Numeric: one output; Datetime: one per date part
        EncodeKind encode = EncodeKind::OneHot;
        QStringList categories;              ///< onehot: kept categories; ordinal: all, text order
        bool other = false;                  ///< onehot: "(other)" column present
        bool hasFill = false;                ///< categorical imputation with `fillCategory`
        QString fillCategory;
        /// UTF-8 category -> position in `categories` (derived from it); looked up by the column's own bytes.
        TextMap<int> index;
        int slotOf(std::string_view utf8) const
        {
            const auto it = index.find(utf8);
            return it == index.end() ? -1 : it->second;
        }
    };
    const std::vector<Feature> &features() const { return m_features; }

private:
    Status transformInto(const data::Table &t, qint64 begin, qint64 end, float *out, Feedback *feedback) const;
    void rebuildColumnNames();

    RecipeSpec m_spec;
    Task m_task = Task::Regression;
    QStringList m_classes;
    std::vector<Feature> m_features;
    std::vector<Expression> m_expressions;    ///< one per spec.derived entry
    QStringList m_columnNames;
    std::vector<int> m_sourceFeature;
};

/// Target from `column`. `task` nullopt auto-detects: categorical, bool or string columns, or integer-valued
/// columns with at most 20 distinct values, are classification (binary for 2 classes, multiclass above);
/// everything else regression. Classes are sorted (numerically for numeric columns, by text otherwise) unless
/// `classes` is given, in which case labels outside it are an error naming the value and row. `labelMap`
/// rewrites labels before lookup. Missing target values are an error naming the row.
Expected<Target> makeTarget(const data::Table &t, const QString &column, std::optional<Task> task = std::nullopt,
                            const QStringList &classes = {}, const QMap<QString, QString> &labelMap = {});

/// "year", "month", "day", "weekday", "hour", "dayofyear".
QString datePartName(DatePart p);

} // namespace keel::ml
