#pragma once
// Slurm as an executor: trainings run as one batch job array through Slurm's own commands (sbatch, squeue, scancel),
// each task running the very `keel train` command a local run would, so a trial's metrics and model bytes are the
// same wherever it ran. The workspace (and its tracking store: PostgreSQL on a real cluster) must be reachable from
// the compute nodes at the same path. Each task's script writes its exit code beside its Slurm log, so the outcome is
// known without Slurm's accounting database.

#include "util/feedback.h"
#include "util/result.h"

#include <QHash>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace keel::ml {

/// Why Slurm cannot be used from this machine (its commands are not on PATH), or empty.
QString slurmUnavailableReason();

/// One job array: task i (1-based) trains configPaths[i - 1].
struct SlurmArray {
    QString root;              ///< the workspace root
    QString keelBinary;        ///< the runner on the nodes; empty: locateKeelBinary()
    QStringList configPaths;
    QString parentRunId;       ///< --parent for every task (a sweep's parent run), may be empty
    QString sweepId;           ///< --sweep-id for every task, may be empty
    QString jobName;
    QString dir;               ///< where the batch script, the logs (slurm-JOB_TASK.log) and exit files go
    int parallel = 0;          ///< tasks at a time (the %N of --array), 0: as many as Slurm allows
    int cpusPerTask = 1;
    QStringList sbatchArgs;    ///< extra sbatch arguments, e.g. --partition=batch
};

/// How one task ended.
struct SlurmTaskEnd {
    int task = 0;                  ///< 1-based
    std::optional<int> exitCode;   ///< empty when the task never ran to the end of its script (cancelled, killed)
    QString logPath;
};

/// Writes the batch script and submits it with `sbatch --array`; returns the job id.
Expected<QString> submitSlurmArray(const SlurmArray &job);
/// Task `task`'s Slurm log.
QString slurmTaskLog(const SlurmArray &job, const QString &jobId, int task);
/// The last `maxBytes` of a log, for error messages.
QString slurmLogTail(const QString &logPath, qint64 maxBytes = 2000);

/// Waits for every task of the job: each end is reported once to `onEnd` (from the calling thread) as soon as it is
/// known (its exit file appears, or Slurm no longer lists it). Cancel through `feedback` runs `scancel` on the job and
/// then waits for the tasks to leave. Returns an error only when Slurm cannot be asked.
Status waitForSlurmArray(const SlurmArray &job, const QString &jobId, Feedback *feedback,
                         const std::function<void(const SlurmTaskEnd &)> &onEnd, int pollMs = 500);

/// `scancel JOB`.
Status cancelSlurmJob(const QString &jobId);

} // namespace keel::ml
