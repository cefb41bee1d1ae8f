#pragma once
// Drift of a deployment's traffic: the prediction log cut into windows (by time or by count), each window's inputs and
// predictions compared with the served version's training rows by the same statistics as `keel data diff` (PSI,
// Kolmogorov-Smirnov, Wasserstein for numbers; chi-square and Jensen-Shannon distance for categories), with data
// quality (missing share, categories the model never saw) and drift velocity.
//
// Incremental: a closed window (every window but the newest) is compared once; its statistics are kept in
// .keel/monitor/cache/DEPLOYMENT.drift.json, keyed by the served version, the binning and the window's contents, so a
// later report computes only the windows that are new or still filling.
//
// Drift velocity of a feature: how fast its drift score (PSI for numbers, Jensen-Shannon distance for categories)
// changes from one window to the next — the first difference d_t = s_t - s_(t-1), smoothed as an exponentially
// weighted moving average v_t = a d_t + (1 - a) v_(t-1) (a = 0.5 by default, v of the first window 0). Its sign says
// whether drift grows or recedes; a slow creep gives a small steady positive velocity, a sudden jump one large value.

#include "data/diff.h"
#include "data/distribution.h"
#include "serve/predictionlog.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QString>

#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::monitor {

struct DriftRequest {
    QString deployment;
    QString window = QStringLiteral("day");   ///< hour, day, week, or a whole number of predictions per window
    QDateTime since;                          ///< only predictions from here (invalid: all)
    double smoothing = 0.5;                   ///< the velocity's EWMA weight a, in (0, 1]
    int bins = 10;                            ///< PSI bins (as data diff)
    /// The deployment's log when the caller has read it already (`since` is then the caller's business); null: read.
    const std::vector<serve::LoggedPrediction> *log = nullptr;
};

/// One feature (or "prediction") in one window.
struct FeatureDrift {
    QString feature;
    data::ColumnDiff diff;                    ///< reference (A) against the window (B); the statistics only (no
                                              ///< profiles) for a closed window read from the cache
    double score = 0;                         ///< diff.driftScore()
    QString level;                            ///< data::driftLevel(): small, moderate, large
    double velocity = 0;                      ///< smoothed first difference of `score` (0 in the first window)
    double missingShare = 0;                  ///< share of the window's records without a value
    qint64 unseenCategories = 0;              ///< values of a categorical input the model never saw
    qint64 outOfRules = 0;                    ///< values outside the training dataset's rules (min, max, allowed, regex)
};

struct DriftWindow {
    QDateTime start, end;                     ///< first and last prediction's time
    QString label;                            ///< e.g. "2026-12-01" (day), "2026-12-01 14:00" (hour), "#3" (count)
    qint64 predictions = 0;
    QStringList versions;                     ///< model versions that answered in the window
    std::vector<FeatureDrift> features;       ///< every input in the schema's order, then "prediction"
};

struct DriftReport {
    QString deployment, version;              ///< the version whose reference is used (the one served now)
    QString reference;                        ///< e.g. "the 23,443 training rows of adult_train@v2"
    qint64 referenceRows = 0;
    QString rules;                            ///< the rule file values were checked against (rules/DATASET.yaml), if any
    std::vector<DriftWindow> windows;

    QJsonObject toJson() const;
};

/// Builds the report from the deployment's prediction log. Errors: unknown deployment, a bad window, a log that
/// does not parse (naming file and line), the reference data gone from the store.
Expected<DriftReport> driftReport(workspace::Workspace &ws, const DriftRequest &request, Feedback *feedback = nullptr);

/// The reference's and one window's values of `feature` (an input or "prediction") over common bins, for an overlay
/// chart: the served version's training rows against the window called `windowLabel` of `request`'s windowing.
Expected<data::DistributionComparison> windowDistribution(workspace::Workspace &ws, const DriftRequest &request,
                                                          const QString &windowLabel, const QString &feature,
                                                          Feedback *feedback = nullptr);

} // namespace keel::monitor
