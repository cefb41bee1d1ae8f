#pragma once
// Evaluation metrics for classification and regression. Free, pure functions: safe from any thread.
//
// Conventions: class labels are class indices 0..K-1 stored as doubles; binary scores are P(class 1);
// multiclass probabilities are row-major rows x K. Input spans must have matching lengths (asserted).
// Degenerate inputs (empty input, a single class present where two are needed, constant y_true for R²)
// give NaN rather than an error, so a metric table can still be shown.

#include "ml/model.h"

#include <QVariantMap>

#include <cmath>
#include <span>
#include <vector>

namespace keel::ml {

/// Share of rows where yPred == yTrue.
double accuracy(std::span<const double> yTrue, std::span<const double> yPred);

/// Mean recall over the classes present in yTrue (as scikit-learn's balanced_accuracy_score).
double balancedAccuracy(std::span<const double> yTrue, std::span<const double> yPred, int numClasses);

/// Per-class precision, recall, F1 and support, plus their unweighted (macro) means over all K classes.
/// A zero denominator gives 0 for that class (scikit-learn's zero_division=0).
struct ClassificationReport {
    std::vector<double> precision, recall, f1;
    std::vector<qint64> support;           ///< true rows per class
    double macroPrecision = 0, macroRecall = 0, macroF1 = 0;
};
ClassificationReport precisionRecallF1(std::span<const double> yTrue, std::span<const double> yPred, int numClasses);

/// K x K counts: matrix[trueClass][predictedClass].
std::vector<std::vector<qint64>> confusionMatrix(std::span<const double> yTrue, std::span<const double> yPred,
                                                 int numClasses);

/// Points of a curve with the score threshold that produced each point (thresholds descending).
struct Curve {
    std::vector<double> x, y, thresholds;
};

/// ROC curve (x = false positive rate, y = true positive rate), one point per distinct score plus (0, 0).
/// yTrue: non-zero = positive. Empty curve when only one class is present.
Curve rocCurve(std::span<const double> yTrue, std::span<const double> scores);

/// Area under the ROC curve: trapezoid rule over the ROC curve with tied scores grouped (scikit-learn's
/// roc_auc_score); equals the Mann-Whitney U statistic / (P * N). NaN when only one class is present.
double rocAuc(std::span<const double> yTrue, std::span<const double> scores);

/// Macro one-vs-rest ROC AUC over row-major rows x K probabilities. Classes absent from yTrue (or present
/// in every row) are skipped; NaN when no class can be scored.
double rocAucOvr(std::span<const double> yTrue, std::span<const double> probabilities, int numClasses);

/// Precision-recall curve (x = recall, y = precision), one point per distinct score (thresholds descending),
/// starting with (recall 0, precision 1). Empty when there are no positives.
Curve prCurve(std::span<const double> yTrue, std::span<const double> scores);

/// Average precision, as scikit-learn's average_precision_score: sum over distinct thresholds (descending)
/// of (R_n - R_{n-1}) * P_n. NaN when there are no positives.
double prAuc(std::span<const double> yTrue, std::span<const double> scores);

/// Cross-entropy with probabilities clipped to [1e-15, 1 - 1e-15]. Binary (numClasses == 2): one P(class 1)
/// per row; multiclass: row-major rows x K.
double logLoss(std::span<const double> yTrue, std::span<const double> probabilities, int numClasses);

/// Brier score. Binary: mean (p - y)^2 with p = P(class 1). Multiclass: mean over rows of
/// sum_k (p_k - [y == k])^2 (Brier's original multi-category score).
double brier(std::span<const double> yTrue, std::span<const double> probabilities, int numClasses);

/// Reliability diagram for a binary classifier with `bins` uniform bins on [0, 1]; a probability p falls in
/// bin min(floor(p * bins), bins - 1). Only non-empty bins are returned, in increasing order.
struct CalibrationCurve {
    std::vector<double> meanPredicted;     ///< mean probability in the bin
    std::vector<double> fractionPositive;  ///< share of positives in the bin
    std::vector<qint64> counts;            ///< rows in the bin
};
CalibrationCurve calibrationCurve(std::span<const double> yTrue, std::span<const double> probabilities, int bins = 10);

/// An off-diagonal cell of a confusion matrix: rows of class `actual` predicted as `predicted`.
struct Confusion {
    int actual = 0, predicted = 0;
    qint64 count = 0;
    double shareOfActual = 0;           ///< count / rows of class `actual`
};
/// The `n` largest off-diagonal cells of `matrix` ([actual][predicted]), largest count first (ties: by actual, then
/// predicted class); empty cells are left out.
std::vector<Confusion> largestConfusions(const std::vector<std::vector<qint64>> &matrix, int n);

/// One class of a multiclass model read one-vs-rest: the class against every other, scored by its probability.
struct OneVsRestClass {
    int cls = 0;
    qint64 support = 0;                 ///< rows of this class
    double rocAuc = std::nan("");       ///< NaN when the class is absent or in every row
    double averagePrecision = std::nan(""); ///< NaN when the class is absent
    Curve roc, pr;
    CalibrationCurve calibration;       ///< reliability of this class's probability (10 bins)
};
/// Every class one-vs-rest, with the averages scikit-learn reports: macro = unweighted mean over the classes that
/// can be scored (roc_auc_score(multi_class="ovr") when every class is present; average_precision_score(
/// average="macro") over present classes); micro = one curve over all rows x classes flattened (label_binarize(y)
/// .ravel() against the probabilities .ravel()). Plain value.
struct OneVsRest {
    std::vector<OneVsRestClass> classes;   ///< one per class, in class order
    double rocAucMacro = std::nan(""), rocAucMicro = std::nan("");
    double averagePrecisionMacro = std::nan(""), averagePrecisionMicro = std::nan("");
    Curve rocMicro, prMicro;
};
/// `probabilities` row-major rows x numClasses.
OneVsRest oneVsRest(std::span<const double> yTrue, std::span<const double> probabilities, int numClasses);

/// Root mean squared error.
double rmse(std::span<const double> yTrue, std::span<const double> yPred);
/// Mean absolute error.
double mae(std::span<const double> yTrue, std::span<const double> yPred);
/// Coefficient of determination 1 - SS_res / SS_tot; NaN when yTrue is constant.
double r2(std::span<const double> yTrue, std::span<const double> yPred);
/// Mean absolute percentage error as a fraction (not percent): mean |y - p| / max(|y|, 2.22e-16), as scikit-learn.
double mape(std::span<const double> yTrue, std::span<const double> yPred);

/// Standard metric set for a task. `predictions` follow Model::predict: regression values; binary P(class 1)
/// per row; multiclass row-major rows x numClasses. Keys: regression "rmse", "mae", "r2", "mape";
/// classification "accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "log_loss",
/// "brier", "roc_auc" (binary; one-vs-rest macro for multiclass), binary also "pr_auc", "precision", "recall",
/// "f1" (of class 1, threshold 0.5); classification also "confusion_matrix" (QVariantList of QVariantList).
/// Predicted labels: binary P >= 0.5 -> class 1; multiclass argmax (first on ties).
QVariantMap evaluate(Task task, const Target &target, const std::vector<double> &predictions, int numClasses);

} // namespace keel::ml
