#pragma once
// Logistic regression with an L2 penalty: binary (sigmoid) and multinomial (softmax over K classes),
// fitted by Newton's method or L-BFGS, both written on Eigen.

#include "ml/model.h"

#include <memory>
#include <vector>

namespace keel::ml {

/// A fitted logistic regression. Binary: one weight vector, margin = log-odds of class 1.
/// Multinomial: K weight vectors (full K x p parametrisation), intercepts centred to sum to zero.
/// Immutable; predict() is safe from any thread.
class LogisticModel final : public Model {
public:
    /// `weights` is row-major K' x p (K' = 1 for binary, K for multinomial); `intercepts` has K' entries.
    LogisticModel(Task task, QStringList classes, QStringList columnNames, std::vector<double> weights,
                  std::vector<double> intercepts, QVariantMap diagnostics);

    /// Restores a model from serialize() output; errors name the JSON field at fault.
    static Expected<std::unique_ptr<LogisticModel>> fromJson(const QByteArray &bytes);

    const std::vector<double> &weights() const { return m_weights; }       ///< row-major K' x p
    const std::vector<double> &intercepts() const { return m_intercepts; } ///< K'
    const QStringList &classes() const { return m_classes; }
    const QStringList &columnNames() const { return m_columnNames; }

    QString kind() const override { return QStringLiteral("logistic"); }
    Task task() const override { return m_task; }
    int numClasses() const override { return int(m_classes.size()); }
    /// Missing (NaN) inputs are an error naming the column.
    Expected<std::vector<double>> predict(const DesignMatrix &x) const override;
    Expected<std::vector<double>> predictMargin(const DesignMatrix &x) const override;
    /// JSON: {"format":"keel-logistic","version":1,"task","classes","columns","weights":[[..]..],"intercepts",..}.
    QByteArray serialize() const override;
    /// solver, iterations, gradient_norm (max-abs gradient of the mean objective), converged, objective, C.
    QVariantMap diagnostics() const override { return m_diagnostics; }

private:
    Task m_task;
    QStringList m_classes;
    QStringList m_columnNames;
    std::vector<double> m_weights;
    std::vector<double> m_intercepts;
    QVariantMap m_diagnostics;
};

/// Logistic regression learner ("logistic"). Minimises, like scikit-learn,
///   (1/n) sum_i logloss_i + ||W||^2 / (2 C n)          (intercepts unpenalised)
/// Params: C (Double > 0, default 1: inverse regularisation strength, scikit-learn's C),
/// solver (Choice newton | lbfgs, default lbfgs), max_iter (Int, default 200), tol (Double, default 1e-6:
/// converged when the max-abs gradient of the objective above is <= tol), lbfgs_memory (Int, default 10).
/// Binary targets use the sigmoid, multiclass targets the softmax. Every iteration's objective is reported
/// through `onIteration` ("train", "objective"); validation log loss once at the end. Cancel is checked each
/// iteration. Newton builds the full Hessian ((p+1)K square): meant for small p; L-BFGS scales.
/// Stateless; fit() is safe from several threads at once.
class LogisticLearner final : public Learner {
public:
    QString name() const override { return QStringLiteral("logistic"); }
    QString description() const override;
    bool supports(Task task) const override { return task != Task::Regression; }
    std::vector<ParamSpec> params() const override;
    Expected<std::unique_ptr<Model>> fit(const DesignMatrix &x, const Target &y, const Params &params,
                                         const DesignMatrix *validationX, const Target *validationY,
                                         const IterationCallback &onIteration, Feedback *feedback) const override;
};

} // namespace keel::ml
