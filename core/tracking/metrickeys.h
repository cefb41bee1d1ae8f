#pragma once
// What a metric key means — the one definition of "curve" and "final metric" that the runner, the workbench and
// the tracking store's bulk summaries share — and how runs' params compare.
//
//   curve.<train|validation>.<metric>   a series, one point per training iteration (step = iteration)
//   cv.<metric>                         a series, one point per k-fold fold (step = fold)
//   test.<metric>                       final: on the test part (never seen by any training step)
//   validation.<metric>                 final: on the validation part (what sweeps select on)
//   cv.<metric>.mean, cv.<metric>.std   final: summaries of the folds
//   best.<metric>                       final: a sweep's best trial
// A final metric is logged once, at step 0; when it was logged more than once, the last point counts.

#include "tracking/trackingstore.h"

#include <QString>
#include <QStringList>
#include <QStringView>

#include <optional>
#include <utility>
#include <vector>

namespace keel::tracking {

/// "curve.train.logloss" and the like.
bool isCurveKey(QStringView key);
/// The curve a key draws without its "curve." prefix ("validation.logloss"), or empty for other keys.
QString curveName(QStringView key);
/// test.*, validation.*, cv.*.mean / cv.*.std and best.*.
bool isFinalMetricKey(QStringView key);
/// Prefixes of the final metric keys, for queries ("test.", "validation.", "cv.", "best.").
const QStringList &finalMetricPrefixes();
/// The final metrics that summarize a model where there is room for a few (model lists, registry cards), in the
/// order they are shown: test ROC AUC, accuracy, RMSE, log loss; a model shows those it has.
const QStringList &summaryMetricKeys();
/// The one number a run list shows for a run: test accuracy for classifiers, test RMSE for regressors (the first
/// of the two among `finals`, final metrics as finalMetrics() gives them); nothing when it has neither.
std::optional<std::pair<QString, double>> headlineMetric(const std::vector<std::pair<QString, double>> &finals);
/// The keys headlineMetric() looks for, in order of preference.
const QStringList &headlineMetricKeys();
/// The final metrics among `points`: the last step-0 point of every final key, sorted by key.
std::vector<std::pair<QString, double>> finalMetrics(const std::vector<MetricPoint> &points);

/// Params of several runs side by side: every key any run has, sorted, and whether it differs (a run lacking a key
/// differs from one that has it).
struct ParamComparison {
    std::vector<std::pair<QString, bool>> keys;   ///< key -> differs
    QStringList differing() const;
    int sameCount() const;
};
ParamComparison compareParams(const std::vector<std::vector<std::pair<QString, QString>>> &paramsPerRun);

} // namespace keel::tracking
