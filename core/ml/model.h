#pragma once
// Shared vocabulary of core/ml: the design matrix a preprocessing recipe produces, targets, tasks,
// learner parameter declarations and the Model / Learner interfaces every learner implements.

#include "util/feedback.h"
#include "util/result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVariant>

#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace keel::ml {

/// Dense design matrix, row-major float32 (what XGBoost consumes without a copy); NaN marks a missing value.
struct DesignMatrix {
    qint64 rows = 0;
    int cols = 0;
    std::vector<float> values;          ///< rows * cols, row-major
    QStringList columnNames;            ///< one per column, e.g. "age", "workclass=Private"
    std::vector<int> sourceFeature;     ///< per column: index of the original feature it came from (for one-hot sums)
    QStringList sourceFeatureNames;     ///< original feature names, indexed by sourceFeature

    float at(qint64 r, int c) const { return values[size_t(r) * size_t(cols) + size_t(c)]; }
    float &at(qint64 r, int c) { return values[size_t(r) * size_t(cols) + size_t(c)]; }
};

/// A design-matrix column name as exported models and `keel predict --features-only` write it: XGBoost refuses
/// names with '[', ']' or '<', so those become '(', ')' and "lt"; everything else is kept.
QString exportedFeatureName(const QString &name);

enum class Task { Regression, BinaryClassification, MulticlassClassification };
QString taskName(Task t);
/// Inverse of taskName(): "regression", "binary" or "multiclass"; anything else is nullopt.
std::optional<Task> taskFromName(QStringView name);

/// Target values: for regression the values themselves; for classification class indices 0..K-1 into `classes`.
struct Target {
    Task task = Task::Regression;
    std::vector<double> values;
    QStringList classes;                ///< classification only; index = class id
    int numClasses() const { return int(classes.size()); }
};

/// Declaration of one learner parameter: the GUI's form and the config file's validation come from it.
struct ParamSpec {
    enum class Type { Int, Double, Bool, Choice };
    QString name;
    Type type = Type::Double;
    QVariant defaultValue;
    double min = -INFINITY;             ///< inclusive bounds for Int/Double
    double max = INFINITY;
    QStringList choices;                ///< Choice only
    QString help;
    bool logScale = false;              ///< hint for random search (sample log-uniformly)
};

using Params = QVariantMap;

/// Checks `params` against `specs`: unknown names, wrong types, out-of-range values are errors naming the parameter.
/// Missing parameters get their defaults in the returned map.
Expected<Params> validateParams(const std::vector<ParamSpec> &specs, const Params &params);

/// Parses a serialized Keel model: a JSON object whose "format" is `format` (e.g. "keel-linear") and whose
/// "version" is `version`. Errors name the field at fault.
Expected<QJsonObject> parseModelJson(const QByteArray &bytes, const QString &format, int version);

/// One point of a training curve, reported while fitting.
struct IterationMetrics {
    int iteration = 0;
    QString dataset;                    ///< "train" or "validation"
    QString metric;                     ///< e.g. "logloss", "rmse"
    double value = 0;
};
using IterationCallback = std::function<void(const IterationMetrics &)>;

/// A fitted model. Immutable and safe to use from several threads for prediction.
class Model {
public:
    virtual ~Model() = default;
    virtual QString kind() const = 0;   ///< "linear", "logistic", "xgboost-gbdt", "xgboost-rf"
    virtual Task task() const = 0;
    virtual int numClasses() const = 0; ///< 0 for regression
    /// Regression: predicted value per row. Binary: P(class 1) per row. Multiclass: row-major rows x K probabilities.
    virtual Expected<std::vector<double>> predict(const DesignMatrix &x) const = 0;
    /// Raw margin (link scale): regression value, binary log-odds, multiclass row-major rows x K scores.
    virtual Expected<std::vector<double>> predictMargin(const DesignMatrix &x) const = 0;
    /// Portable serialization (XGBoost: its standard JSON model; linear models: JSON of coefficients).
    virtual QByteArray serialize() const = 0;
    /// Fit diagnostics for the run record (iterations, convergence, best iteration...).
    virtual QVariantMap diagnostics() const = 0;
};

/// A learning algorithm with declared parameters.
class Learner {
public:
    virtual ~Learner() = default;
    virtual QString name() const = 0;                    ///< config name, e.g. "gbdt", "logistic"
    virtual QString description() const = 0;
    virtual bool supports(Task task) const = 0;
    virtual std::vector<ParamSpec> params() const = 0;
    /// Fits on (x, y). `validation` (may be null) is used for early stopping and curves. `params` must be validated.
    virtual Expected<std::unique_ptr<Model>> fit(const DesignMatrix &x, const Target &y, const Params &params,
                                                 const DesignMatrix *validationX, const Target *validationY,
                                                 const IterationCallback &onIteration, Feedback *feedback) const = 0;
};

} // namespace keel::ml
