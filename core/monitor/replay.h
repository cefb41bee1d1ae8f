#pragma once
// Replay: the rows of a dataset version sent through a running `keel serve` in the order of a time column, with their
// true labels sent as feedback once `labelsAfter` of the data's own time has passed — a past period played back as
// live traffic, so drift, label delay, performance, alerts and rollbacks can be watched (and tested) end to end.
//
// Time: the time column's values (milliseconds for dates and times, the column's own units for numbers). --speed N
// plays N units of data time per wall-clock unit (for dates: N data seconds per second); 0 sends as fast as the server
// answers. Labels still pending when the rows run out are sent at the end.

#include "util/feedback.h"
#include "util/result.h"

#include <QString>
#include <QUrl>

#include <optional>

namespace keel::workspace { class Workspace; }

namespace keel::monitor {

struct ReplayRequest {
    QString deployment;
    QString data;                          ///< NAME@REF
    QString timeColumn;
    QString from;                          ///< optional: only rows whose time is at or after this (a number or ISO date)
    double speed = 0;                      ///< data time per wall time; 0 = as fast as possible
    QString labelsAfter;                   ///< delay of the labels: "2h", "1d" for dates, a number in the column's units; empty: no feedback
    QString target;                        ///< the label column; empty: the served model's target
    QUrl server = QUrl(QStringLiteral("http://127.0.0.1:8080"));
    int batch = 1;                         ///< records per predict request (rows of the same time only)
    qint64 limit = 0;                      ///< 0: every row
};

struct ReplayResult {
    qint64 rows = 0, predicted = 0, labelled = 0;
    double seconds = 0;
    QString firstVersion, lastVersion;     ///< the model versions that answered the first and the last row
};

/// Parses "90s", "30m", "2h", "1d", "1w" into milliseconds, or a plain number as is. Errors name "labels-after".
Expected<double> parseDuration(const QString &text, bool dates);

/// Runs the replay. Errors: an unknown deployment or dataset, a missing time or label column, the server not
/// answering, a request the server refuses (with its message).
Expected<ReplayResult> replay(workspace::Workspace &ws, const ReplayRequest &request, Feedback *feedback = nullptr);

} // namespace keel::monitor
