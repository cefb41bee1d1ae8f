#pragma once
// Group fairness of a classifier over a sensitive column (e.g. `sex` or `race` in Adult): per group count,
// selection rate, true and false positive rates, precision and calibration (mean predicted probability against the
// observed rate), the demographic parity difference and ratio and the equalized odds difference between groups,
// each with a seeded percentile bootstrap confidence interval.
//
// Definitions (one positive class; "predicted positive" = P(positive) >= threshold):
//   selection rate = predicted positives / count; TPR = TP / (TP + FN); FPR = FP / (FP + TN);
//   precision = TP / (TP + FP); a zero denominator gives NaN (the group is skipped in the differences).
//   demographic parity difference = max - min selection rate over groups; ratio = min / max (NaN when max is 0);
//   TPR (FPR) difference = max - min TPR (FPR); equalized odds difference = max(TPR difference, FPR difference)
//   (fairlearn's definitions).
// Bootstrap: B resamples, each drawing every group's rows with replacement within that group (group sizes stay
// fixed, so small groups never vanish); intervals are the (1 - confidence)/2 and (1 + confidence)/2 percentiles
// (linear interpolation) of the replicates where the metric is defined.

#include "explain/explainer.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <cmath>
#include <span>
#include <vector>

namespace keel::explain {

struct FairnessOptions {
    QString sensitive;                 ///< column whose values define the groups (need not be a model feature)
    QString positiveClass;             ///< favourable class label; empty = the second class of a binary model
    double threshold = 0.5;            ///< predicted positive when P(positive class) >= threshold
    int bootstrap = 500;               ///< resamples B; 0 = no intervals (low and high NaN)
    double confidence = 0.95;
    quint64 seed = 1;                  ///< replicate b uses stream b: independent of threads
    int threads = 0;                   ///< 0 = QThread::idealThreadCount()
};

/// A metric's value on the data with its bootstrap percentile interval. Plain value.
struct Estimate {
    double value = std::nan("");
    double low = std::nan("");
    double high = std::nan("");
    QJsonObject toJson() const;
    static Estimate fromJson(const QJsonObject &json);
};

/// Metrics of one group. Plain value.
struct GroupFairness {
    QString group;                     ///< the sensitive column's value ("(missing)" for missing values)
    qint64 count = 0;
    qint64 positives = 0;              ///< rows whose true class is the positive class
    qint64 predictedPositives = 0;
    Estimate selectionRate;
    Estimate truePositiveRate;
    Estimate falsePositiveRate;
    Estimate precision;
    Estimate meanPredicted;            ///< mean P(positive class)
    Estimate observedRate;             ///< share of rows whose true class is positive
    Estimate calibrationGap;           ///< meanPredicted - observedRate
};

/// Fairness report over one sensitive column. Plain value.
struct FairnessReport {
    QString sensitive;
    QString positiveClass;
    double threshold = 0.5;
    int bootstrap = 0;
    double confidence = 0.95;
    quint64 seed = 0;
    qint64 rows = 0;
    std::vector<GroupFairness> groups; ///< in text order of the group value, "(missing)" last
    Estimate demographicParityDifference;
    Estimate demographicParityRatio;
    Estimate truePositiveRateDifference;
    Estimate falsePositiveRateDifference;
    Estimate equalizedOddsDifference;

    QJsonObject toJson() const;
    static Expected<FairnessReport> fromJson(const QJsonObject &json);
};

/// The report from per-row data: `positive` 1/0 for the true class, `probability` P(positive class), `group` an
/// index into `groupNames`. Spans must have equal lengths. Cancel gives "cancelled".
Expected<FairnessReport> fairnessReport(std::span<const double> positive, std::span<const double> probability,
                                        std::span<const int> group, const QStringList &groupNames,
                                        const FairnessOptions &options, Feedback *feedback = nullptr);

/// The report for a classifier on raw rows `rows` holding the target and the sensitive column.
Expected<FairnessReport> fairness(const ModelContext &ctx, const data::Table &rows, const FairnessOptions &options,
                                  Feedback *feedback = nullptr);

} // namespace keel::explain
