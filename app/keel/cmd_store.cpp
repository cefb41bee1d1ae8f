// keel store fsck | gc | stats.
#include "commands.h"

#include "store/objectstore.h"
#include "workspace/datasets.h"
#include "workspace/storecare.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonObject>

namespace keel::cli {

namespace {

int cmdFsck(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto check = workspace::checkStore(*ws, ctx.feedback());
    ctx.endProgress();
    if (!check)
        return ctx.fail(check.error());
    const store::FsckReport &report = check->store;
    if (ctx.json()) {
        QJsonArray problems, missing;
        for (const auto &p : report.problems)
            problems.append(QJsonObject{{QStringLiteral("object"), p.object}, {QStringLiteral("where"), p.where},
                                        {QStringLiteral("message"), p.message}});
        for (const auto &m : check->missing)
            missing.append(QJsonObject{{QStringLiteral("object"), m.objectId}, {QStringLiteral("referenced_by"), m.referencedBy}});
        ctx.printJson(QJsonObject{{QStringLiteral("ok"), check->ok()},
                                  {QStringLiteral("chunks_checked"), report.chunksChecked},
                                  {QStringLiteral("manifests_checked"), report.manifestsChecked},
                                  {QStringLiteral("bytes_checked"), report.bytesChecked},
                                  {QStringLiteral("stale_temp_files"), report.staleTempFiles},
                                  {QStringLiteral("write_in_progress"), report.writeInProgress},
                                  {QStringLiteral("problems"), problems},
                                  {QStringLiteral("missing"), missing}});
    } else {
        ctx.out << "checked " << report.manifestsChecked << " files, " << report.chunksChecked << " chunks, "
                << formatBytes(report.bytesChecked) << '\n';
        if (report.staleTempFiles > 0 && report.writeInProgress)
            ctx.out << report.staleTempFiles << " temporary files: a write is running, and they may be its own "
                    << "(once no write runs, 'keel store gc' removes any left by interrupted writes)\n";
        else if (report.staleTempFiles > 0)
            ctx.out << report.staleTempFiles << " leftover temporary files from interrupted writes (harmless; 'keel store gc' removes them)\n";
        for (const auto &p : report.problems)
            ctx.out << "BAD " << p.object << " at " << p.where << ": " << p.message << '\n';
        for (const auto &m : check->missing)
            ctx.out << "MISSING " << m.objectId << " (" << m.referencedBy
                    << "): referenced but not in the store (pull it from a remote, or restore the store from a backup)\n";
        ctx.out << (check->ok() ? "store is clean\n" : "store has problems\n");
    }
    return check->ok() ? 0 : 1;
}

int cmdGc(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    Feedback *feedback = ctx.feedback();
    bool told = false;
    Feedback waiting;
    waiting.setCallback([&](qint64 done, qint64 total, const QString &stage) {
        if (stage == u"waiting" && !told) {
            told = true;
            ctx.err << "keel: waiting for running writes (data add, training, pull) to commit before collecting\n";
            ctx.err.flush();
        } else if (stage != u"waiting") {
            feedback->setProgress(done, total, stage);
        }
    });
    auto report = workspace::collectGarbage(*ws, &waiting);
    ctx.endProgress();
    if (!report)
        return ctx.fail(report.error());
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("manifests_removed"), report->manifestsRemoved},
                                  {QStringLiteral("chunks_removed"), report->chunksRemoved},
                                  {QStringLiteral("bytes_freed"), report->bytesFreed},
                                  {QStringLiteral("packs_rewritten"), report->packsRewritten},
                                  {QStringLiteral("leftovers_removed"), report->leftoversRemoved}});
    else {
        ctx.out << "removed " << report->manifestsRemoved << " unreferenced files and " << report->chunksRemoved
                << " chunks";
        if (report->leftoversRemoved > 0)
            ctx.out << ", and " << report->leftoversRemoved << " leftover files of interrupted writes";
        ctx.out << "; freed " << formatBytes(report->bytesFreed) << " (" << report->packsRewritten
                << " packs rewritten)\n";
    }
    return 0;
}

int cmdStats(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto ids = workspace::referencedObjects(*ws);
    if (!ids)
        return ctx.fail(ids.error());
    qint64 logical = 0;
    for (const QString &id : *ids)
        if (auto size = ws->store().sizeOf(id))
            logical += *size;
    const store::StoreStats s = ws->store().stats();
    const double ratio = s.storedBytes > 0 ? double(logical) / double(s.storedBytes) : 0.0;
    if (ctx.json()) {
        ctx.printJson(QJsonObject{{QStringLiteral("versions"), int(ids->size())},
                                  {QStringLiteral("logical_bytes"), logical},
                                  {QStringLiteral("stored_bytes"), s.storedBytes},
                                  {QStringLiteral("disk_bytes"), s.diskBytes},
                                  {QStringLiteral("chunks"), s.chunks},
                                  {QStringLiteral("packs"), s.packs},
                                  {QStringLiteral("files"), s.manifests},
                                  {QStringLiteral("dedup_ratio"), ratio}});
        return 0;
    }
    ctx.out << "versions referenced  " << ids->size() << '\n'
            << "logical size         " << formatBytes(logical) << "  (sum of every version's file size)\n"
            << "stored chunk bytes   " << formatBytes(s.storedBytes) << "  (" << s.chunks << " chunks in " << s.packs << " packs)\n"
            << "on disk              " << formatBytes(s.diskBytes) << "  (with indexes and manifests)\n"
            << "dedup ratio          " << QString::number(ratio, 'f', 2) << "x\n";
    return 0;
}

} // namespace

std::vector<Command> storeCommands()
{
    std::vector<Command> v;
    v.push_back({{QStringLiteral("store"), QStringLiteral("fsck")}, QString(), QStringLiteral("Re-hash every object and report damage"),
                 QStringLiteral("Re-hashes every chunk and file manifest in .keel/objects and checks that every dataset version in\n"
                                "history and every run artifact (models, recipes, predictions, explanations) has its bytes.\n"
                                "Exit code 1 when anything is wrong."),
                 0, 0, {}, cmdFsck});
    v.push_back({{QStringLiteral("store"), QStringLiteral("gc")}, QString(), QStringLiteral("Delete objects nothing references"),
                 QStringLiteral("Deletes files and chunks that nothing references - no dataset version in any commit of the\n"
                                "history and no run artifact in the tracking store - and leftovers of interrupted writes.\n"
                                "Waits for running writes (data add, training, explain, pull) to record their references first."),
                 0, 0, {}, cmdGc});
    v.push_back({{QStringLiteral("store"), QStringLiteral("stats")}, QString(), QStringLiteral("Logical vs stored bytes (dedup ratio)"),
                 QStringLiteral("Compares the total size of all versions with the bytes actually stored."), 0, 0, {}, cmdStats});
    return v;
}

} // namespace keel::cli
