#pragma once
// Linear regression: ordinary least squares and ridge (L2, intercept unpenalised), solved on Eigen.

#include "ml/model.h"

#include <memory>
#include <vector>

namespace keel::ml {

/// A fitted linear regression y = intercept + x . coefficients. Immutable value; predict() is safe from any thread.
class LinearModel final : public Model {
public:
    LinearModel(std::vector<double> coefficients, double intercept, QStringList columnNames, QVariantMap diagnostics);

    /// Restores a model from serialize() output; errors name the JSON field at fault.
    static Expected<std::unique_ptr<LinearModel>> fromJson(const QByteArray &bytes);

    const std::vector<double> &coefficients() const { return m_coefficients; }
    double intercept() const { return m_intercept; }
    const QStringList &columnNames() const { return m_columnNames; }

    QString kind() const override { return QStringLiteral("linear"); }
    Task task() const override { return Task::Regression; }
    int numClasses() const override { return 0; }
    /// Missing (NaN) inputs are an error naming the column; the design matrix must have columnNames().size() columns.
    Expected<std::vector<double>> predict(const DesignMatrix &x) const override;
    Expected<std::vector<double>> predictMargin(const DesignMatrix &x) const override { return predict(x); }
    /// JSON: {"format":"keel-linear","version":1,"intercept":..,"coefficients":[..],"columns":[..],"diagnostics":{..}}.
    QByteArray serialize() const override;
    /// rows, cols, alpha, rank, solver.
    QVariantMap diagnostics() const override { return m_diagnostics; }

private:
    std::vector<double> m_coefficients;
    double m_intercept = 0;
    QStringList m_columnNames;
    QVariantMap m_diagnostics;
};

/// Least-squares learner. Variant::Ols ("linear") solves the normal equations of the centred data with a
/// rank-revealing complete orthogonal decomposition (minimum-norm solution when columns are collinear);
/// Variant::Ridge ("ridge") adds alpha * ||coefficients||^2 (intercept unpenalised) and solves with LDLT.
/// Params: fit_intercept (Bool, true); ridge only: alpha (Double >= 0, default 1). Regression only.
/// Stateless; fit() is safe from several threads at once.
class LinearLearner final : public Learner {
public:
    enum class Variant { Ols, Ridge };
    explicit LinearLearner(Variant variant = Variant::Ols) : m_variant(variant) {}

    QString name() const override;
    QString description() const override;
    bool supports(Task task) const override { return task == Task::Regression; }
    std::vector<ParamSpec> params() const override;
    /// The validation set is ignored except for reporting its RMSE through `onIteration` (iteration 0).
    Expected<std::unique_ptr<Model>> fit(const DesignMatrix &x, const Target &y, const Params &params,
                                         const DesignMatrix *validationX, const Target *validationY,
                                         const IterationCallback &onIteration, Feedback *feedback) const override;

private:
    Variant m_variant;
};

} // namespace keel::ml
