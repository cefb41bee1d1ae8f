#pragma once
// Gradient-boosted trees and random forests through XGBoost's C API. This file pair is the one place
// that talks to XGBoost and converts its error codes (via XGBGetLastError) into keel::Error.

#include "ml/model.h"

#include <memory>
#include <mutex>
#include <vector>

namespace keel::ml {

/// Which ensemble an XGBoost learner or model is: boosted rounds, or one round of parallel trees.
enum class XgbMode { Gbdt, RandomForest };

/// A fitted XGBoost booster. Owns the booster handle. predict(), predictMargin() and serialize() are
/// safe from several threads (calls into the booster are serialised by an internal mutex).
/// When early stopping picked a best iteration, predictions use trees up to and including it; the
/// iteration is stored in the booster's standard "best_iteration" attribute, so a saved and loaded
/// model (also from Python) predicts the same.
class XgbModel final : public Model {
public:
    ~XgbModel() override;
    XgbModel(const XgbModel &) = delete;
    XgbModel &operator=(const XgbModel &) = delete;

    /// Loads a model saved by serialize() (or by any XGBoost >= 1.0 in JSON or UBJSON form).
    /// Task and class count come from the model's objective and num_class; errors carry XGBoost's message.
    static Expected<std::unique_ptr<XgbModel>> fromJson(const QByteArray &bytes, XgbMode mode);

    /// 0-based best boosting round, or -1 when all rounds are used.
    int bestIteration() const { return m_bestIteration; }
    /// Boosting rounds held by the booster (random forest: 1).
    int boostedRounds() const;

    QString kind() const override;
    Task task() const override { return m_task; }
    int numClasses() const override { return m_numClasses; }
    /// Rows with NaN are treated as missing values (XGBoost's default direction).
    Expected<std::vector<double>> predict(const DesignMatrix &x) const override;
    Expected<std::vector<double>> predictMargin(const DesignMatrix &x) const override;
    /// XGBoost's own exact TreeSHAP values on the margin (pred_contribs), using the same trees as predict():
    /// row-major rows x outputs x (cols + 1) (outputs = 1, or K for multiclass); the last entry of each
    /// row and output is the base value (expected margin). Computed in float by XGBoost.
    Expected<std::vector<double>> predictContributions(const DesignMatrix &x) const;
    /// XGBoost's standard JSON model (XGBoosterSaveModelToBuffer {"format":"json"}); empty on failure.
    QByteArray serialize() const override;
    /// rounds, best_iteration, best_score, early_stopped, objective, eval_metric, threads (fit-time values).
    QVariantMap diagnostics() const override { return m_diagnostics; }

private:
    friend class XgbLearner;
    XgbModel(void *booster, XgbMode mode, Task task, int numClasses, int bestIteration, int threads,
             QVariantMap diagnostics);
    /// type: XGBoost prediction type (0 value, 1 margin, 2 contributions); `perRow` values per row and output.
    Expected<std::vector<double>> run(const DesignMatrix &x, int type, size_t perRow) const;

    void *m_booster = nullptr; ///< BoosterHandle, owned
    XgbMode m_mode;
    Task m_task;
    int m_numClasses;
    int m_bestIteration;
    int m_threads;
    QVariantMap m_diagnostics;
    mutable std::mutex m_mutex;
};

/// XGBoost learner: "gbdt" (gradient boosting, hist method, early stopping on the validation set) or
/// "random_forest" (XGBoost's RF mode: one round of n_estimators parallel trees, learning rate 1,
/// row and per-node column subsampling). Objectives: reg:squarederror (rmse), binary:logistic (logloss),
/// multi:softprob (mlogloss). Every round's train and validation metric goes to `onIteration` (when set).
/// Feedback cancel is honoured between rounds. Stateless; fit() may run on several threads at once.
class XgbLearner final : public Learner {
public:
    using Mode = XgbMode;
    explicit XgbLearner(Mode mode = Mode::Gbdt) : m_mode(mode) {}

    QString name() const override;
    QString description() const override;
    bool supports(Task) const override { return true; }
    /// gbdt: n_estimators, learning_rate, max_depth, min_child_weight, subsample, colsample_bytree, reg_lambda,
    /// reg_alpha, early_stopping_rounds (0 = off; needs a validation set), max_bin, threads, seed.
    /// random_forest: n_estimators, max_depth, min_child_weight, subsample, colsample_bynode, reg_lambda,
    /// max_bin, threads, seed.
    std::vector<ParamSpec> params() const override;
    Expected<std::unique_ptr<Model>> fit(const DesignMatrix &x, const Target &y, const Params &params,
                                         const DesignMatrix *validationX, const Target *validationY,
                                         const IterationCallback &onIteration, Feedback *feedback) const override;

private:
    Mode m_mode;
};

} // namespace keel::ml
