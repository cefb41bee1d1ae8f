#pragma once
// Performance of a deployment from its prediction log: per window, the metrics realised on the predictions whose
// feedback label has arrived (with percentile bootstrap intervals), whether the window is complete (its labels have
// arrived), and — for binary classifiers, before labels arrive — confidence-based performance estimation (CBPE):
// the accuracy and ROC AUC expected if the model's probabilities are calibrated.
//
// Expected accuracy: the mean over rows of P(the predicted class) = max(p, 1 - p) at the 0.5 threshold.
// Expected ROC AUC: the AUC's expectation over labels drawn from the probabilities, as a ratio of expectations,
//   sum_{i != j} p_i (1 - p_j) [s_i > s_j] (ties 1/2) / sum_{i != j} p_i (1 - p_j), with s the score (= p).

#include "registry/compare.h"
#include "serve/predictionlog.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QString>

#include <optional>
#include <span>
#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::monitor {

struct PerformanceRequest {
    QString deployment;
    QString window = QStringLiteral("day");   ///< hour, day, week, or a number of predictions per window
    QDateTime since;
    int bootstrap = 200;                      ///< resamples behind each interval (0: none)
    quint64 seed = 1;
    double complete = 0.95;                   ///< a window is complete when this share of its predictions has a label
    /// The deployment's log when the caller has read it already (`since` is then the caller's business); null: read.
    const std::vector<serve::LoggedPrediction> *log = nullptr;
};

struct MetricValue {
    QString metric;                           ///< accuracy, roc_auc, log_loss, rmse, mae
    double value = 0, low = 0, high = 0;      ///< low/high: 95% percentile bootstrap interval (NaN without)
};

/// The shadow challenger against the served model on the same labelled requests of a window.
struct ShadowComparison {
    QString version;                          ///< the shadow's model version
    qint64 paired = 0;                        ///< labelled predictions both models scored
    std::vector<MetricValue> served, shadow;  ///< the same metrics on those requests (no intervals)
    std::vector<registry::PairedTestOutcome> tests;   ///< registry::pairedTests (A: served, B: shadow)
};

struct PerformanceWindow {
    QString label;
    QDateTime start, end;
    qint64 predictions = 0, labelled = 0;
    bool complete = false;
    std::vector<MetricValue> realised;        ///< on the labelled predictions
    std::vector<MetricValue> expected;        ///< CBPE (binary classifiers): accuracy, roc_auc on every prediction
    std::optional<ShadowComparison> shadow;   ///< when a shadow scored labelled requests of the window
};

struct PerformanceReport {
    QString deployment, task;
    std::vector<PerformanceWindow> windows;
    QJsonObject toJson() const;
};

Expected<PerformanceReport> performanceReport(workspace::Workspace &ws, const PerformanceRequest &request,
                                              Feedback *feedback = nullptr);

/// CBPE for calibrated binary probabilities `p` (P(class 1)): expected accuracy at the 0.5 threshold.
double expectedAccuracy(std::span<const double> p);
/// CBPE expected ROC AUC (see above); O(n log n). NaN for fewer than two rows.
double expectedRocAuc(std::span<const double> p);

} // namespace keel::monitor
