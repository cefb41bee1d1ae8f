#pragma once
// Pipelines: named stages that validate data, train, gate, register, deploy, explain or run a command, in the order
// their inputs require, each skipped when it has already run on exactly the same inputs (the DVC idea, keyed by the
// content ids Keel's store already has). pipelines/NAME.yaml (versioned with the workspace):
//
//   stages:
//     validate: {kind: validate, data: adult_train, rules: rules/adult_train.yaml}
//     train:    {kind: train, config: configs/adult-logistic.yaml, after: [validate]}
//     gate:     {kind: gate, run: train, metric: test.roc_auc, above: 0.85, not_worse_than: credit@champion}
//     register: {kind: register, run: train, model: credit, alias: challenger, after: [gate]}
//     deploy:   {kind: deploy, model: register, deployment: credit}
//     explain:  {kind: explain, run: train}
//     notify:   {kind: command, command: "echo trained $KEEL_TRAIN_RUN", after: [deploy]}
//
// A field that names another stage (run: train, model: register) takes that stage's output and makes it a
// dependency; `after` adds ordering without data. A stage's cache key is the SHA-256 of its kind, its definition, Keel's
// version and the content ids of its inputs (dataset versions, the bytes of config and rule files, upstream outputs);
// a stage whose key matches a finished execution is skipped and its outputs reused. Every execution is recorded in
// the tracking store as a run of experiment "pipeline:NAME" (a parent run per pipeline run, a child per stage, with
// the stage's key, status, times and outputs), and the pipeline run as one audit event.

#include "util/feedback.h"
#include "util/result.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::pipeline {

struct Stage {
    QString name;
    QString kind;                  ///< validate, train, gate, register, deploy, explain, command
    QJsonObject spec;              ///< the stage's fields as written (scalars as strings)
    QStringList needs;             ///< stages it depends on: named in its fields, or in `after`
    qint64 line = -1;
    /// Where a train stage runs: "local" (default) or "slurm" (one Slurm job running the same `keel train`; ml/slurm.h).
    /// Not part of the cache key: the result is the same either way.
    QString executor = QStringLiteral("local");
};

struct Pipeline {
    QString name;
    std::vector<Stage> stages;     ///< in an order that respects every dependency (ties: as written)

    /// Parses pipelines/NAME.yaml. Errors name the file, line and field: an unknown kind or field, a missing field,
    /// a reference to no stage, a cycle.
    static Expected<Pipeline> fromYaml(const QByteArray &yaml, const QString &source);
    const Stage *find(const QString &name) const;
};

/// Every stage kind, with the fields it takes.
QStringList stageKinds();

/// pipelines/NAME.yaml of the workspace (NotFound when absent).
Expected<Pipeline> loadPipeline(workspace::Workspace &ws, const QString &name);
/// Names of the workspace's pipelines, sorted.
QStringList listPipelines(workspace::Workspace &ws);

struct RunRequest {
    QString pipeline;
    bool dryRun = false;           ///< say what would run and why; run nothing, record nothing
    QStringList force;             ///< stages to run even when cached
    QString from;                  ///< run this stage and everything after it even when cached
    QStringList without;           ///< stages (or kinds, e.g. "deploy") to leave out, with everything that needs them
};

struct StageResult {
    QString stage, kind;
    /// ran, cached, failed, blocked (an upstream stage failed), left out (--without); with dryRun: would run, would skip
    QString status;
    QString reason;                ///< why it ran or was skipped, e.g. "no earlier run on these inputs", "forced"
    QString key;                   ///< cache key (empty when it cannot be known before an upstream stage runs)
    QJsonObject outputs;           ///< e.g. {"run": id}, {"version": "credit@v3"}, {"passed": true, "value": 0.91}
    QString runId;                 ///< the tracking run that recorded this execution (or the cached one)
    qint64 ms = 0;
    QString error;
};

struct RunReport {
    QString pipeline;
    QString runId;                 ///< the parent tracking run (empty for a dry run)
    bool dryRun = false;
    std::vector<StageResult> stages;
    bool ok() const;
    QJsonObject toJson() const;
};

/// Runs (or, with dryRun, plans) the pipeline. A failed stage does not stop independent stages; those that depend
/// on it are blocked. `onStage` is called as each stage starts (status "running") and ends. Errors: an unknown
/// pipeline or stage name, a malformed file, cancel.
Expected<RunReport> runPipeline(workspace::Workspace &ws, const RunRequest &request, Feedback *feedback = nullptr,
                                const std::function<void(const StageResult &)> &onStage = {});

/// The last recorded result of every stage of `pipeline` (for the workbench's DAG): status and when, by stage name.
struct StageState {
    QString status;                ///< ran, cached, failed, blocked; empty: never ran
    QDateTime when;
    QString key;
};
Expected<std::map<QString, StageState>> lastStageStates(workspace::Workspace &ws, const QString &pipeline);

} // namespace keel::pipeline
