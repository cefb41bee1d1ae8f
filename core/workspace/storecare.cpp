#include "workspace/storecare.h"

#include "tracking/trackingstore.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QJsonObject>

#include <algorithm>

namespace keel::workspace {

Expected<LiveObjects> liveObjects(Workspace &ws)
{
    LiveObjects live;
    auto registry = registryObjects(ws);
    if (!registry)
        return registry.error();
    live.registryObjects = std::move(*registry);
    auto datasets = referencedObjects(ws);
    if (!datasets)
        return datasets.error();
    live.datasetObjects = std::move(*datasets);
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    auto tracked = (*ts)->allArtifactObjects();
    if (!tracked)
        return tracked.error();
    for (const QString &id : *tracked)
        live.trackedObjects.insert(id);
    return live;
}

Expected<StoreCheck> checkStore(Workspace &ws, Feedback *feedback)
{
    StoreCheck check;
    check.store = ws.store().fsck(feedback);
    if (isCancelled(feedback))
        return cancelledError();
    auto datasets = referencedObjects(ws);
    if (!datasets)
        return datasets.error();
    QStringList ids(datasets->begin(), datasets->end());
    ids.sort();
    for (const QString &id : ids)
        if (!ws.store().contains(id))
            check.missing.push_back({id, QStringLiteral("dataset version")});
    auto registry = registryObjects(ws);
    if (!registry)
        return registry.error();
    QStringList bundles(registry->begin(), registry->end());
    bundles.sort();
    for (const QString &id : bundles)
        if (!ws.store().contains(id))
            check.missing.push_back({id, QStringLiteral("registered model bundle")});
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    auto artifacts = (*ts)->allArtifacts();
    if (!artifacts)
        return artifacts.error();
    for (const tracking::ArtifactRecord &a : *artifacts)
        if (!ws.store().contains(a.objectId))
            check.missing.push_back({a.objectId, QStringLiteral("run %1 artifact %2").arg(a.runId.left(8), a.name)});
    return check;
}

Expected<tracking::ArtifactRecord> storeRunArtifact(Workspace &ws, tracking::TrackingStore &ts, const QString &runId,
                                                   const QString &name, const QString &kind, QByteArrayView bytes)
{
    auto guard = ws.guardObjectWrites();
    if (!guard)
        return guard.error();
    auto added = ws.store().addBytes(bytes);
    if (!added)
        return added.error();
    tracking::ArtifactRecord record{runId, name, added->id, added->size, kind};
    if (Status s = ts.addArtifact(record); !s)
        return s.error();
    return record;
}

Expected<std::pair<QString, std::vector<tracking::ArtifactRecord>>> runArtifacts(Workspace &ws, const QString &runIdOrPrefix)
{
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    auto run = (*ts)->findRun(runIdOrPrefix);
    if (!run)
        return run.error();
    auto artifacts = (*ts)->artifacts(run->id);
    if (!artifacts)
        return artifacts.error();
    return std::make_pair(run->id, std::move(*artifacts));
}

Expected<tracking::ArtifactRecord> exportRunArtifact(Workspace &ws, const QString &runIdOrPrefix, const QString &name,
                                                     const QString &outPath, const OutputPolicy &policy, int fd,
                                                     Feedback *feedback)
{
    auto found = runArtifacts(ws, runIdOrPrefix);
    if (!found)
        return found.error();
    QStringList names;
    for (const tracking::ArtifactRecord &a : found->second) {
        if (a.name != name) {
            names << a.name;
            continue;
        }
        if (outPath == u"-") {
            if (Status s = ws.store().writeTo(a.objectId, fd, feedback); !s)
                return s.error();
            return a;
        }
        if (Status s = checkOutputPath(outPath, policy); !s)
            return s.error();
        if (Status s = ws.store().checkout(a.objectId, outPath, feedback); !s)
            return s.error();
        return a;
    }
    return makeError(ErrorKind::NotFound,
                     QStringLiteral("run %1 has no artifact '%2' (it has: %3)").arg(found->first.left(8), name, names.join(QStringLiteral(", "))),
                     {}, -1, QStringLiteral("name"));
}

Expected<store::GcReport> collectGarbage(Workspace &ws, Feedback *feedback)
{
    // Order: the gc hold, then the workspace lock (writers take them in the same order).
    auto gcLock = ws.lockForGc([feedback] { reportProgress(feedback, 0, 0, QStringLiteral("waiting")); });
    if (!gcLock)
        return gcLock.error();
    auto lock = ws.lock();
    if (!lock)
        return lock.error();
    auto live = liveObjects(ws);
    if (!live)
        return live.error();
    auto report = ws.store().gc(live->all(), feedback);
    if (!report)
        return report.error();
    if (Status s = ws.audit(QStringLiteral("store.gc"), ws.root(),
                            QJsonObject{{QStringLiteral("bytes_freed"), report->bytesFreed},
                                        {QStringLiteral("manifests_removed"), report->manifestsRemoved},
                                        {QStringLiteral("chunks_removed"), report->chunksRemoved},
                                        {QStringLiteral("leftovers_removed"), report->leftoversRemoved},
                                        {QStringLiteral("live_objects"), int(live->all().size())}});
        !s)
        return s.error();
    return report;
}

} // namespace keel::workspace
