#pragma once
// The training event protocol: what `keel train --events` writes on stdout, one JSON object per line, and what
// every front door that supervises a training child reads back (the workbench, `keel sweep`, later pipelines and
// Slurm). One type, one writer, one reader; and one supervisor that runs the child, so crash isolation, cancel and
// recording the end of a run that could not record it itself are written once.
//
//   {"event":"started","run":ID,"experiment":E,"name":N[,"parent":P]}
//   {"event":"progress","stage":S,"done":D,"total":T}
//   {"event":"metric","key":K,"step":I,"value":V}        V is null for NaN
//   {"event":"finished","run":ID,"metrics":{K:V,...}}
//   {"event":"failed","run":ID,"message":M,"cancelled":B}

#include "tracking/trackingstore.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QVariantMap>

#include <functional>
#include <optional>

namespace keel::workspace { class Workspace; }

namespace keel::ml {

struct TrainingConfig;
struct TrainingResult;

/// One event of the stream. Plain value.
struct TrainingEvent {
    enum class Kind { Started, Progress, Metric, Finished, Failed };
    Kind kind = Kind::Progress;
    QString runId;          ///< started, finished, failed (failed: empty when no run was created)
    QString experiment;     ///< started
    QString name;           ///< started: the run name
    QString parentRunId;    ///< started, when the run has a parent
    QString stage;          ///< progress: "load", "recipe", "train", "evaluate"...
    qint64 done = 0;        ///< progress
    qint64 total = 0;       ///< progress (0 when unknown)
    QString key;            ///< metric, e.g. "curve.validation.logloss"
    qint64 step = 0;        ///< metric
    double value = 0;       ///< metric (NaN allowed)
    QVariantMap metrics;    ///< finished: final metrics by key (doubles)
    QString message;        ///< failed: the error text
    bool cancelled = false; ///< failed: the run was stopped (it is recorded as killed)
};

/// The event as one line of the stream (compact JSON and a newline).
QByteArray trainingEventLine(const TrainingEvent &event);
/// Parses one line. Errors for a line that is not a JSON object with a known "event", or that lacks a field the event
/// needs (run, key, value...). Pure function.
Expected<TrainingEvent> parseTrainingEvent(QByteArrayView line);

/// Trains `config` (ml::runTraining) and reports it as events, the writer side of the protocol: started, progress
/// (throttled to one per 100 ms per stage), every metric point, then finished or failed. `sink` runs on the calling
/// thread. Returns what runTraining returns.
Expected<TrainingResult> runTrainingWithEvents(workspace::Workspace &ws, const TrainingConfig &config, Feedback *feedback,
                                               const std::function<void(const TrainingEvent &)> &sink);

/// What to train in a child process.
struct TrainingRequest {
    QString root;           ///< workspace root (the child runs with -C ROOT)
    QString configPath;     ///< the YAML training config
    QString parentRunId;    ///< recorded as the new run's parent (--parent); empty for a fresh run
    QString keelBinary;     ///< the runner; empty: locateKeelBinary()
    QString sweepId;        ///< the sweep the run is a trial of (--sweep-id); empty otherwise
};

/// How a child run ended. Plain value.
struct TrainingOutcome {
    QString runId;          ///< empty when the child failed before it created a run (e.g. a config error)
    tracking::RunStatus status = tracking::RunStatus::Failed;   ///< Finished, Failed or Killed
    QString message;        ///< why it failed; empty when finished
    QVariantMap metrics;    ///< final metrics of a finished run
    int exitCode = -1;      ///< the child's exit code; -1 when it crashed or was killed
};

/// The `keel` runner: $KEEL_BINARY when set, else `keel` next to this executable, else `keel` on PATH. Empty when
/// none of them exists. Thread-safe.
QString locateKeelBinary();

/// Runs `keel -C ROOT train CONFIG --events` and blocks until it has exited. Each event goes to `onEvent` (may be
/// empty) on the calling thread as it arrives; progress events are also reported to `feedback`. Cancel through
/// `feedback` sends SIGTERM (the runner stops cleanly and records the run as killed) and kills the child when it is
/// still running `graceMs` later. When the child ends without a finished/failed event (a crash, a kill -9) and its
/// run is still recorded as running, this records it: killed when cancelled, failed otherwise, with the reason in tag
/// "error" — and reports a failed event. Errors only when the runner cannot be found or started. Any thread.
Expected<TrainingOutcome> runTrainingProcess(const TrainingRequest &request, Feedback *feedback,
                                             const std::function<void(const TrainingEvent &)> &onEvent,
                                             int graceMs = 5000);

/// The outcome of a `keel train --events` that ran elsewhere (a Slurm task) and wrote its events, among other output,
/// to the log at `logPath`: as runTrainingProcess would have reported it. A run that started but never reported its
/// end is recorded in the store (under `root`) as killed when `cancelled`, else failed, with the log's last lines.
TrainingOutcome trainingOutcomeFromLog(const QString &root, const QString &logPath, std::optional<int> exitCode,
                                       bool cancelled);

} // namespace keel::ml
