#pragma once
// Deployments: which registered model version a named endpoint serves, kept as deployments/NAME.yaml in the
// workspace's git history (one commit per switch, with an audit event). A switch passes gates first — the bundle
// verifies, the input schema is compatible with the deployed one, the candidate is not worse than the deployed model
// beyond a tolerance on a reference dataset version (the registry's paired comparison), and the reference data passes
// the dataset's validation rules. Rollback returns to an earlier revision at once (its bundle is verified again).
// `keel deploy`, `keel deployments`, `keel rollback` and (later) `keel serve` and the workbench call these.

#include "util/feedback.h"
#include "util/result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QString>

#include <optional>
#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::deploy {

/// One gate a switch passes (or not), with what was checked in words.
struct GateResult {
    QString gate;                ///< "bundle", "schema", "performance", "data rules"
    bool passed = false;
    bool skipped = false;        ///< nothing to check (no deployed model yet, no rules file); counts as passed
    QString detail;
};

/// A model a deployment serves: the reference asked for (credit@champion) and the version it resolved to.
struct ServedModel {
    QString requested;           ///< as given: NAME@ALIAS, NAME@vN or NAME
    QString version;             ///< NAME@vN
    QString bundle;              ///< the bundle's object id
    bool isSet() const { return !version.isEmpty(); }
};

/// deployments/NAME.yaml at one revision. Plain value; toYaml()/fromYaml() are its one file form.
struct Deployment {
    QString name;
    int revision = 0;            ///< 1 for the first deploy, +1 per switch (a rollback is a switch too)
    ServedModel model;           ///< answers every request (outside the canary share)
    ServedModel shadow;          ///< scored on every request off the response path, logged, never returned
    ServedModel canary;          ///< answers `canaryShare` of the traffic, split by a stable hash of a request key
    double canaryShare = 0;
    std::vector<GateResult> gates;
    QString message;             ///< why (-m)
    std::optional<int> rolledBackTo;  ///< set when this revision restored an earlier one
    QString author;              ///< from the commit (history) or the signature (new revisions)
    QDateTime time;
    QString commit;              ///< the commit that wrote this revision (history only)

    QByteArray toYaml() const;
    static Expected<Deployment> fromYaml(const QByteArray &yaml, const QString &source);
};

/// What `keel deploy` asks for. Plain value.
struct DeployRequest {
    QString name;                ///< the deployment (letters, digits, '.', '_', '-')
    QString model;               ///< NAME@ALIAS, NAME@vN or NAME (latest)
    QString shadow;              ///< optional
    QString canary;              ///< optional, with canaryShare in (0, 1)
    double canaryShare = 0;
    QString data;                ///< reference dataset NAME@REF for the performance gate; empty = the candidate's test rows
    QString rules;               ///< rules file for the data gate; empty = rules/DATASET.yaml when it exists
    double tolerance = 0.005;    ///< how much worse the candidate may be (absolute for AUC and accuracy, relative for RMSE)
    int bootstrap = 200;         ///< resamples behind the comparison's intervals
    QString message;
    bool dryRun = false;         ///< check the gates only; never switch (the workbench shows them before asking)
};

/// The result of a deploy or rollback: every gate, and the new revision when they all passed.
struct DeployOutcome {
    std::vector<GateResult> gates;
    bool deployed = false;
    bool unchanged = false;      ///< the deployment already serves exactly this: nothing committed
    Deployment deployment;       ///< the new revision (or the current one when not deployed)
    QString commit;

    bool gatesPassed() const;
};

/// Checks the gates and, when all pass, writes deployments/NAME.yaml as the next revision (one commit and a
/// "deploy" audit event). A failed gate is not an error: the outcome says which and nothing changes. Errors: an
/// invalid name, an unknown model or version, a bad canary share, I/O.
Expected<DeployOutcome> deployModel(workspace::Workspace &ws, const DeployRequest &request, Feedback *feedback = nullptr);

/// Returns to revision `toRevision` (default: the one before the current), as a new revision: its models' bundles
/// are verified again (the only gate), then one commit and a "rollback" audit event.
Expected<DeployOutcome> rollback(workspace::Workspace &ws, const QString &name, std::optional<int> toRevision,
                                 const QString &message);

/// The current revision of every deployment, by name.
Expected<std::vector<Deployment>> listDeployments(workspace::Workspace &ws);
/// The current revision of one deployment (NotFound when there is none).
Expected<Deployment> loadDeployment(workspace::Workspace &ws, const QString &name);
/// Every revision of a deployment from git history, oldest first, each with its commit's author and time.
Expected<std::vector<Deployment>> deploymentHistory(workspace::Workspace &ws, const QString &name);

} // namespace keel::deploy
