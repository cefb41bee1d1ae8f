#pragma once
// Running a hyperparameter sweep: trials as child `keel train` processes (ml/trainingevents.h) under one parent run,
// a few at a time, the best trial chosen on the sweep's validation metric and recorded on the parent run. The one
// place that schedules trials and picks the best: `keel sweep` and the workbench both call runSweep().

#include "ml/sweep.h"
#include "ml/trainingevents.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>
#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::ml {

/// What to search.
struct SweepRequest {
    QString configPath;             ///< a training config with a `sweep:` section
    QString sourceName;             ///< how errors name it (default: configPath)
    bool grid = true;               ///< every combination; false: `random` draws
    int random = 0;
    quint64 seed = 0;               ///< random draws
    int parallel = 0;               ///< trials at a time; 0 = the number of cores (the maximum)
    QString metric;                 ///< overrides sweep.metric (checked by checkSweepMetric)
    std::optional<bool> maximize;   ///< overrides the goal
    QString keelBinary;             ///< the runner for the trials; empty: locateKeelBinary()
    /// "local" (child processes here) or "slurm" (one `sbatch --array` job running the same `keel train` per trial;
    /// ml/slurm.h). With Slurm, `parallel` caps the tasks running at once and is not limited by this machine's cores.
    QString executor = QStringLiteral("local");
    QStringList sbatchArgs;         ///< extra sbatch arguments (slurm only), e.g. --partition=batch
};

/// One trial and how it ended. Plain value.
struct SweepTrial {
    int index = 0;                  ///< 0-based
    QStringList overrides;          ///< "params.NAME=VALUE"
    QString configPath;             ///< the trial's config (under .keel/sweeps/<sweep>/)
    QString runId;
    QString status = QStringLiteral("pending");   ///< pending, running, finished, failed, killed
    QString message;
    std::optional<double> value;    ///< the sweep metric, when the run reported it
};

/// The sweep's outcome. Plain value.
struct SweepResult {
    QString sweepId;                ///< the parent run
    QString metric;
    bool maximize = true;
    bool grid = true;
    int parallel = 1;
    tracking::RunStatus status = tracking::RunStatus::Failed;   ///< finished when any trial finished
    std::vector<SweepTrial> trials; ///< in trial order
    std::optional<int> best;        ///< index into trials of the best value
    /// Trials ranked: best first, those without a value last.
    std::vector<int> ranking() const;
    /// True when every trial finished.
    bool allFinished() const;
    /// The result as `keel sweep --json` prints it: sweep, metric, goal, status, trials (ranked, each with trial,
    /// run, status, params, value and any message) and best {run, value, trial}.
    QJsonObject toJson() const;
};

/// "max_depth=4 learning_rate=0.1" from "params.max_depth=4" overrides.
QString shortOverrides(const QStringList &overrides);

/// Plans the trials (grid or random), creates the parent run (params sweep.*), writes each trial's config (its name
/// "<name>-trial-N", the cores shared among parallel trials unless the config sets `threads`), runs the trials as
/// children of the parent run `parallel` at a time, then logs every trial's metric on the parent (step = trial
/// number), tags and logs the best ("best.run", "best.value", "best.params", metric "best.<metric>") and finishes
/// the parent run (killed when cancelled, failed when no trial finished). `onStart` is called once the parent run
/// exists, `onTrialEnd` after each trial, both from the calling thread. Cancel through `feedback` stops the running
/// trials (recorded as killed) and starts no more (with Slurm: `scancel` on the job). A Slurm task that fails is a
/// failed trial run whatever the reason, tagged with its Slurm log ("slurm.log") and job ("slurm.job"). Errors for a bad config or request (nothing is created then).
Expected<SweepResult> runSweep(workspace::Workspace &ws, const SweepRequest &request, Feedback *feedback,
                               const std::function<void(const SweepResult &)> &onStart = {},
                               const std::function<void(const SweepTrial &, int done, int total)> &onTrialEnd = {});

} // namespace keel::ml
