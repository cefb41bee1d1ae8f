#pragma once
// Windows over a prediction log: by time (hour, day or week, in UTC) or by a count of predictions. The one place that
// decides what a monitoring window is, for drift and performance alike.

#include "serve/predictionlog.h"
#include "util/result.h"

#include <QDateTime>
#include <QString>
#include <QStringList>

#include <vector>

namespace keel::monitor {

/// One window: its predictions, in log order.
struct LogWindow {
    QString label;                            ///< "2026-12-01" (day), "2026-12-01 14:00" (hour), "week of 2026-11-30", "#3"
    QDateTime start, end;                     ///< first and last prediction's time
    QStringList versions;                     ///< model versions that answered
    std::vector<const serve::LoggedPrediction *> predictions;
};

/// Cuts `log` into windows of kind `window`: hour, day, week, or a whole number (from 10) of predictions. Errors name
/// the field "window". The windows point into `log`.
Expected<std::vector<LogWindow>> windowLog(const std::vector<serve::LoggedPrediction> &log, const QString &window);

/// The log a report reads: `given` when its caller has read it already (the workbench reads a deployment's log once
/// for all its reports), else read here from `deployment`'s folder from `since` into `owned`. Never null on success.
Expected<const std::vector<serve::LoggedPrediction> *> reportLog(const QString &workspaceRoot, const QString &deployment,
                                                                 const QDateTime &since,
                                                                 const std::vector<serve::LoggedPrediction> *given,
                                                                 std::vector<serve::LoggedPrediction> &owned);

/// The `q` quantile (0..1, linear interpolation) of the logged per-record latency (latency_ms: the request's time shared
/// among its records) of a window's predictions; NaN when none has one.
double latencyQuantile(const LogWindow &window, double q);

} // namespace keel::monitor
