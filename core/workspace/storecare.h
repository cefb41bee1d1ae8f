#pragma once
// Care of a workspace's object store as a whole: which objects the workspace still needs (every dataset version in
// history and every object the tracking store records), checking that all of them are present and intact, and
// collecting the rest. The object store itself knows nothing of workspaces; this is where "live" is decided.

#include "store/objectstore.h"
#include "util/feedback.h"
#include "util/fileutil.h"
#include "util/result.h"

#include <QSet>
#include <QString>
#include <QStringList>

#include <vector>

namespace keel::tracking {
class TrackingStore;
struct ArtifactRecord;
} // namespace keel::tracking

namespace keel::workspace {

class Workspace;

/// Every object the workspace references, and who references it.
struct LiveObjects {
    QSet<QString> datasetObjects;    ///< content ids of dataset versions in any reachable commit
    QSet<QString> trackedObjects;    ///< objects of run artifacts (models, recipes, predictions, explanations, ...)
    QSet<QString> registryObjects;   ///< bundles of registered model versions, in any reachable commit of models/
    QSet<QString> all() const { return datasetObjects | trackedObjects | registryObjects; }
};

/// Reads every kind of reference. An unreadable tracking database is an error, never "no references".
Expected<LiveObjects> liveObjects(Workspace &ws);

/// A reference to an object the store lacks (or holds damaged).
struct MissingObject {
    QString objectId;
    QString referencedBy;   ///< "dataset version" or "run <id> artifact <name>"
};

/// What `store fsck` reports: the store's own check plus references it cannot satisfy.
struct StoreCheck {
    store::FsckReport store;
    std::vector<MissingObject> missing;
    bool ok() const { return store.ok() && missing.empty(); }
};

/// Re-hashes every object and checks every dataset version and run artifact against the store. Read-only.
Expected<StoreCheck> checkStore(Workspace &ws, Feedback *feedback = nullptr);

/// Stores `bytes` as an object and records it as artifact `name` of run `runId`, holding the gc guard from the
/// object write until the artifact row is committed (so a concurrent `store gc` cannot collect it in between).
Expected<tracking::ArtifactRecord> storeRunArtifact(Workspace &ws, tracking::TrackingStore &ts, const QString &runId,
                                                   const QString &name, const QString &kind, QByteArrayView bytes);

/// The artifacts of run `runIdOrPrefix` (a full id or a unique prefix), sorted by name, and the run's full id.
Expected<std::pair<QString, std::vector<tracking::ArtifactRecord>>> runArtifacts(Workspace &ws, const QString &runIdOrPrefix);
/// Writes artifact `name` of a run to `outPath` under the user-named-output `policy`, every chunk verified by hash
/// (written beside the target and renamed into place); `outPath` "-" streams to `fd` instead. Returns the record.
Expected<tracking::ArtifactRecord> exportRunArtifact(Workspace &ws, const QString &runIdOrPrefix, const QString &name,
                                                     const QString &outPath, const OutputPolicy &policy, int fd = 1,
                                                     Feedback *feedback = nullptr);

/// Deletes objects that nothing references. Waits (reporting the stage "waiting") while any writer holds
/// Workspace::guardObjectWrites(), so objects whose references are not yet committed are never collected.
/// Records an audit event.
Expected<store::GcReport> collectGarbage(Workspace &ws, Feedback *feedback = nullptr);

} // namespace keel::workspace
