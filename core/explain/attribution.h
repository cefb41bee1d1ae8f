#pragma once
// Shared vocabulary of core/explain: additive per-row attributions on the model's margin (SHAP values and
// friends), and their aggregation from design-matrix columns back to the user's original features.

#include "ml/model.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <vector>

namespace keel::explain {

/// Additive attributions of `rows` rows for `outputs` model outputs (1, or K for multiclass margins) over
/// `features.size()` features: base[k] + sum_f value(r, k, f) equals the model's margin for output k of row r,
/// up to residual(r, k), which is reported rather than hidden. Plain value.
struct Attribution {
    QString method;                     ///< e.g. "tree_shap", "linear_shap", "kernel_shap"
    QStringList features;               ///< one name per attributed feature
    int outputs = 1;
    qint64 rows = 0;
    std::vector<double> base;           ///< per output: expected margin (the base value)
    std::vector<double> values;         ///< rows x outputs x features, index ((r * outputs) + k) * F + f
    std::vector<double> residual;       ///< rows x outputs: margin - (base + sum of values); NaN if unknown
    QJsonObject parameters;             ///< method parameters (background size, sample budget, ...)

    int featureCount() const { return int(features.size()); }
    double value(qint64 r, int k, int f) const
    {
        return values[size_t((r * outputs + k) * featureCount() + f)];
    }
    double &value(qint64 r, int k, int f) { return values[size_t((r * outputs + k) * featureCount() + f)]; }
    /// Largest |residual| over all rows and outputs (0 for an empty attribution; NaN residuals are skipped).
    double maxAbsResidual() const;
};

/// Sums design-column attributions into the original features they came from (`x.sourceFeature`,
/// `x.sourceFeatureNames`): the contributions of the one-hot columns of a categorical become one number for
/// that categorical. `a.features` must equal `x.columnNames`; otherwise an error names the first mismatch.
/// Base values and residuals are unchanged (the sum of contributions per row is preserved).
Expected<Attribution> aggregateToSourceFeatures(const Attribution &a, const ml::DesignMatrix &x);

/// Mean |value| per feature for one output, over all rows (global importance). Empty when rows == 0.
std::vector<double> meanAbsImportance(const Attribution &a, int output = 0);

} // namespace keel::explain
