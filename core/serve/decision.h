#pragma once
// "Why did the model decide this, back then?" A served prediction, found by its id in the deployments' prediction
// logs, with everything a reviewer needs: the inputs as received, the output as returned, the model version that
// answered and its lineage (run, dataset versions, who registered and approved it), the deployment revision that was
// live (who deployed it, when, why), the feedback label if one arrived, and the explanation computed now with that
// exact model version (its bundle verified by hash) — byte for byte the record /explain returned, because both are
// written by ModelRuntime::appendRecord from the same bundle and the same inputs.

#include "registry/registry.h"
#include "deploy/deployment.h"
#include "util/result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace keel::workspace { class Workspace; }

namespace keel::serve {

struct Decision {
    /// "served" (a prediction keel serve logged) or "batch" (row ROW of `keel predict RUN --data NAME@vN`, named
    /// RUN@NAME@vN#ROW: a dataset version never changes, so the decision is recomputed from the run's stored model).
    QString kind = QStringLiteral("served");
    QString id;
    QString deployment;
    QDateTime time;
    int revision = 0;
    QJsonObject inputs;              ///< the record as received
    QJsonObject output;              ///< as logged
    QJsonObject feedback;            ///< label and time, empty when none arrived
    QJsonObject shadow;              ///< the shadow's output for the same request, empty when none
    registry::ModelVersion model;    ///< the version that answered, with its lineage and approvals
    std::optional<deploy::Deployment> live;   ///< the deployment revision that was live (from git history)
    QByteArray explanation;          ///< the /explain record for this prediction, recomputed with that version
                                     ///< (batch: the same fields, built from the CSV line below)
    QByteArray batchHeader, batchLine;   ///< batch: the header and the row's line `keel predict --explain` writes
    QString runId;                   ///< batch: the run whose model scored the row
    QString data;                    ///< batch: the dataset version (NAME@vN)
    qint64 row = 0;                  ///< batch: 1-based row of that version
    bool registered = true;          ///< batch: whether the run was registered (`model` is then that version)
    bool reproduced = false;         ///< served: the recomputed output equals the logged one; batch: always true

    /// Everything above as JSON (the explanation as an object).
    QJsonObject toJson() const;
};

/// Finds the prediction `id` in the workspace's prediction logs and explains it, or, for an id RUN@NAME@vN#ROW, the
/// batch decision of that run's model on that row. NotFound when no log holds it.
Expected<Decision> explainDecision(workspace::Workspace &ws, const QString &id);

} // namespace keel::serve
