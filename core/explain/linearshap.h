#pragma once
// Exact SHAP values of linear models on their margin (linear and ridge regression: the prediction; logistic
// regression: the log-odds, or each class's score for a multinomial model), with features treated as independent.

#include "explain/attribution.h"
#include "ml/model.h"
#include "util/feedback.h"
#include "util/result.h"

#include <vector>

namespace keel::explain {

/// SHAP values of every row of `x` for a LinearModel or LogisticModel (other models are an error naming their
/// kind): phi(r, k, i) = w_ki (x_ri - mean_i), base[k] = intercept_k + sum_i w_ki mean_i, where mean_i is the
/// mean of column i over `background` (typically the training design matrix). These are the exact Shapley values
/// of v(S) = mean over background rows z of margin(x_S, z_rest), the interventional definition.
/// residual(r, k) is the model's own predictMargin() minus base + sum of values.
/// Missing (NaN) values in `x` or `background` are errors naming the column and row. Method "linear_shap";
/// parameters hold background_rows and model_kind. Progress counts rows; cancel gives an Error "cancelled".
/// Thread-safe (the model is only read).
Expected<Attribution> linearShap(const ml::Model &model, const ml::DesignMatrix &x,
                                 const ml::DesignMatrix &background, Feedback *feedback = nullptr);

/// Same with the background column means given directly (one per column of `x`).
Expected<Attribution> linearShapWithMeans(const ml::Model &model, const ml::DesignMatrix &x,
                                          const std::vector<double> &means, Feedback *feedback = nullptr);

} // namespace keel::explain
