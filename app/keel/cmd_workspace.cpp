// keel init, remote, push, pull, clone, tag, audit.
#include "commands.h"

#include "serve/decision.h"
#include "store/objectstore.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "workspace/audittrail.h"
#include "workspace/datasets.h"
#include "workspace/gitrepo.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace keel::cli {

namespace {

int cmdInit(Context &ctx)
{
    const QString dir = ctx.args().isEmpty() ? ctx.directory() : ctx.path(ctx.args().front());
    QJsonArray added;
    QString root;
    if (ctx.parser.isSet(QStringLiteral("example"))) {
        auto example = workspace::createExampleWorkspace(dir, ctx.feedback());
        ctx.endProgress();
        if (!example)
            return ctx.fail(example.error());
        for (const workspace::DatasetVersion &v : example->versions) {
            if (!ctx.json())
                ctx.out << "added " << v.ref() << "  " << v.record.rows << " rows from " << v.record.source << '\n';
            added.append(v.ref());
        }
        if (!ctx.json())
            ctx.out << "added " << example->configs.size() << " training configs in configs/\n";
        root = example->workspace->root();
    } else {
        auto ws = workspace::Workspace::init(dir);
        if (!ws)
            return ctx.fail(ws.error());
        root = (*ws)->root();
    }
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("workspace"), root}, {QStringLiteral("datasets"), added}});
    else
        ctx.out << "Created Keel workspace in " << root << '\n';
    return 0;
}

int cmdRemoteAdd(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const QString given = ctx.args().at(1);
    const QString path = given.startsWith(QLatin1String("s3://")) ? given : ctx.path(given);
    if (Status s = ws->addRemote(ctx.args().at(0), path, ctx.parser.value(QStringLiteral("endpoint")),
                                 ctx.parser.value(QStringLiteral("region")));
        !s)
        return ctx.fail(s.error());
    if (!ctx.json())
        ctx.out << "remote " << ctx.args().at(0) << " -> " << path << '\n';
    else
        ctx.printJson(QJsonObject{{QStringLiteral("name"), ctx.args().at(0)}, {QStringLiteral("path"), path}});
    return 0;
}

int cmdRemoteList(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto remotes = ws->remotes();
    if (!remotes)
        return ctx.fail(remotes.error());
    if (ctx.json()) {
        QJsonArray a;
        for (const auto &r : *remotes)
            a.append(QJsonObject{{QStringLiteral("name"), r.name}, {QStringLiteral("path"), r.path},
                                 {QStringLiteral("endpoint"), r.endpoint}, {QStringLiteral("region"), r.region}});
        ctx.printJson(a);
    } else if (remotes->empty()) {
        ctx.out << "No remotes. Add one with: keel remote add NAME PATH\n";
    } else {
        for (const auto &r : *remotes)
            ctx.out << r.name << '\t' << r.path << (r.endpoint.isEmpty() ? QString() : QStringLiteral(" (") + r.endpoint + QLatin1Char(')'))
                    << '\n';
    }
    return 0;
}

int cmdPush(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const QString name = ctx.args().value(0);
    if (Status s = workspace::pushWorkspace(*ws, name, ctx.feedback()); !s)
        return ctx.fail(s.error());
    ctx.endProgress();
    auto remote = ws->remote(name);
    auto head = ws->git().headCommit();
    if (!head)
        return ctx.fail(head.error());
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("remote"), remote ? remote->name : name},
                                  {QStringLiteral("commit"), *head}});
    else
        ctx.out << "pushed " << head->left(10) << " to " << (remote ? remote->name : name) << '\n';
    return 0;
}

int cmdPull(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto result = workspace::pullWorkspace(*ws, ctx.args().value(0), ctx.feedback());
    if (!result)
        return ctx.fail(result.error());
    ctx.endProgress();
    auto head = ws->git().headCommit();
    if (!head)
        return ctx.fail(head.error());
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("result"), *result}, {QStringLiteral("commit"), *head}});
    else
        ctx.out << "pull: " << *result << " (now at " << head->left(10) << ")\n";
    return 0;
}

int cmdClone(Context &ctx)
{
    const QString given = ctx.args().at(0);
    const QString source = given.startsWith(QLatin1String("s3://")) ? given : ctx.path(given);
    const QString dest = ctx.path(ctx.args().at(1));
    auto ws = workspace::cloneWorkspace(source, dest, ctx.feedback(), ctx.parser.value(QStringLiteral("endpoint")),
                                        ctx.parser.value(QStringLiteral("region")));
    if (!ws)
        return ctx.fail(ws.error());
    ctx.endProgress();
    auto names = workspace::listDatasets(**ws);
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("workspace"), (*ws)->root()},
                                  {QStringLiteral("datasets"), QJsonArray::fromStringList(names ? *names : QStringList())}});
    else
        ctx.out << "Cloned " << source << " into " << (*ws)->root() << " (" << (names ? names->size() : 0)
                << " datasets)\n";
    return 0;
}

int cmdTag(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const QString name = ctx.args().at(0);
    const QString message = ctx.parser.isSet(QStringLiteral("m")) ? ctx.parser.value(QStringLiteral("m")) : name;
    auto commit = ws->tagHead(name, message);
    if (!commit)
        return ctx.fail(commit.error());
    if (!ctx.json())
        ctx.out << "tagged " << commit->left(10) << " as " << name << '\n';
    else
        ctx.printJson(QJsonObject{{QStringLiteral("tag"), name}, {QStringLiteral("commit"), *commit}});
    return 0;
}

int cmdAuditVerify(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto v = workspace::verifyAudit(*ws);
    if (!v)
        return ctx.fail(v.error());
    if (ctx.json()) {
        ctx.printJson(QJsonObject{{QStringLiteral("ok"), v->ok}, {QStringLiteral("events"), v->events}, {QStringLiteral("unsealed"), v->unsealed},
                                  {QStringLiteral("anchors"), v->anchors}, {QStringLiteral("foreign_anchors"), v->foreignAnchors},
                                  {QStringLiteral("broken_event"), v->brokenEvent}, {QStringLiteral("broken_commit"), v->brokenCommit},
                                  {QStringLiteral("problem"), v->problem}});
    } else if (v->ok) {
        ctx.out << "audit trail intact: " << v->events << " events in an unbroken hash chain, matching the heads recorded in "
                << v->anchors << " commits";
        if (v->foreignAnchors)
            ctx.out << " (" << v->foreignAnchors << " heads from another workspace's trail not checked)";
        if (v->unsealed)
            ctx.out << "; " << v->unsealed << " newest events not sealed yet (the next write seals them)";
        ctx.out << '\n';
    } else {
        ctx.err << "keel: audit trail BROKEN: " << v->problem << '\n';
    }
    return v->ok ? 0 : 1;
}

int cmdAuditExport(Context &ctx)
{
    const QString out = ctx.parser.value(QStringLiteral("o"));
    if (out.isEmpty())
        return ctx.usage(QStringLiteral("give -o FILE (or -o - for standard output)"));
    QDateTime since;
    if (ctx.parser.isSet(QStringLiteral("since"))) {
        since = QDateTime::fromString(ctx.parser.value(QStringLiteral("since")), Qt::ISODateWithMs);
        if (!since.isValid())
            return ctx.usage(QStringLiteral("--since must be an ISO 8601 time such as 2026-12-01T00:00:00Z"));
    }
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto bytes = workspace::exportAudit(*ws, since);
    if (!bytes)
        return ctx.fail(bytes.error());
    if (out == u"-") {
        ctx.out.flush();
        std::fwrite(bytes->constData(), 1, size_t(bytes->size()), stdout);
        return 0;
    }
    OutputPolicy policy;
    policy.overwrite = ctx.parser.isSet(QStringLiteral("force"));
    if (Status s = writeUserFile(ctx.path(out), *bytes, policy); !s)
        return ctx.fail(s.error());
    ctx.err << "keel: wrote " << bytes->count('\n') << " events to " << out << '\n';
    return 0;
}

int cmdAuditDecision(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto d = serve::explainDecision(*ws, ctx.args().at(0));
    if (!d)
        return ctx.fail(d.error());
    if (ctx.json()) {
        ctx.printJson(d->toJson());
        return d->reproduced ? 0 : 1;
    }
    const auto when = [](const QDateTime &t) { return t.isValid() ? t.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'")) : QStringLiteral("?"); };
    const registry::ModelVersion &m = d->model;
    if (d->kind == u"batch")
        ctx.out << "prediction " << d->id << ": row " << d->row << " of " << d->data << " scored by run " << d->runId.left(8)
                << " (as keel predict --explain scores it)\n";
    else
        ctx.out << "prediction " << d->id << ", served " << when(d->time) << " by deployment " << d->deployment << " (revision "
                << d->revision << ")\n";
    ctx.out << "model      " << m.ref() << " (" << m.modelKind << "), run " << m.runId.left(8) << " (" << m.runName << ", experiment "
            << m.experiment << ")\n";
    ctx.out << "           registered " << when(m.registered) << " by " << m.by << (m.message.isEmpty() ? QString() : QString(QStringLiteral(": ") + m.message))
            << '\n';
    ctx.out << "data       trained on " << m.data.train << " (content " << m.data.trainContentId.left(12) << ")";
    if (!m.data.evaluate.isEmpty())
        ctx.out << ", tested on " << m.data.evaluate << " (content " << m.data.evaluateContentId.left(12) << ")";
    ctx.out << '\n';
    if (m.approvals.empty() && (d->kind != u"batch" || d->registered))
        ctx.out << "approvals  none\n";
    for (const registry::Approval &a : m.approvals)
        ctx.out << "approved   by " << a.by << ", " << when(a.at) << ": " << a.message << '\n';
    if (d->live)
        ctx.out << "deployed   by " << d->live->author << ", " << when(d->live->time) << " as " << d->live->model.requested
                << (d->live->message.isEmpty() ? QString() : QString(QStringLiteral(": ") + d->live->message)) << " (commit "
                << d->live->commit.left(10) << ")\n";
    QStringList inputs;
    for (auto it = d->inputs.begin(); it != d->inputs.end(); ++it)
        inputs << it.key() + QLatin1Char('=') + (it.value().isString() ? it.value().toString() : it.value().toVariant().toString());
    ctx.out << "inputs     " << inputs.join(QStringLiteral(", ")) << '\n';
    ctx.out << "output     " << QString::fromUtf8(QJsonDocument(d->output).toJson(QJsonDocument::Compact)) << '\n';
    if (d->feedback.isEmpty())
        ctx.out << "feedback   none yet\n";
    else
        ctx.out << "feedback   label " << d->feedback.value(QStringLiteral("label")).toVariant().toString() << ", "
                << d->feedback.value(QStringLiteral("time")).toString() << '\n';
    const QJsonObject e = QJsonDocument::fromJson(d->explanation).object();
    std::vector<std::pair<QString, double>> parts;
    const QJsonObject contributions = e.value(QStringLiteral("contributions")).toObject();
    for (auto it = contributions.begin(); it != contributions.end(); ++it)
        parts.emplace_back(it.key(), it.value().toDouble());
    std::stable_sort(parts.begin(), parts.end(), [](const auto &a, const auto &b) { return std::abs(a.second) > std::abs(b.second); });
    ctx.out << "why        " << e.value(QStringLiteral("explained")).toString() << " = base "
            << QString::number(e.value(QStringLiteral("base_value")).toDouble(), 'g', 6) << " + the contributions below ("
            << (d->kind == u"batch" ? QStringLiteral("exact SHAP, as keel predict --explain writes it")
                                    : m.ref() + QStringLiteral("'s exact SHAP, as /explain returned it"))
            << ")\n";
    for (size_t i = 0; i < std::min<size_t>(parts.size(), 10); ++i)
        ctx.out << "           " << QString(parts[i].first).leftJustified(28) << (parts[i].second >= 0 ? "+" : "")
                << QString::number(parts[i].second, 'g', 4) << '\n';
    if (parts.size() > 10)
        ctx.out << "           (" << parts.size() - 10 << " smaller contributions in --json)\n";
    if (d->kind == u"batch")
        ctx.out << "checked    recomputed with run " << d->runId.left(8) << "'s model (artifacts verified by hash); "
                << (d->registered ? QStringLiteral("registered as ") + m.ref() : QStringLiteral("the run is not registered"))
                << "\n           keel predict --explain writes for this row: " << QString::fromUtf8(d->batchLine.left(160))
                << (d->batchLine.size() > 160 ? "..." : "") << '\n';
    else if (d->reproduced)
        ctx.out << "checked    " << m.ref() << " (bundle verified by hash) gives the logged output again for these inputs\n";
    else
        ctx.err << "keel: " << m.ref() << " does NOT reproduce the logged output for these inputs\n";
    return d->reproduced ? 0 : 1;
}

int cmdAudit(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto t = ws->tracking();
    if (!t)
        return ctx.fail(t.error());
    const int limit = ctx.parser.isSet(QStringLiteral("n")) ? ctx.parser.value(QStringLiteral("n")).toInt() : 50;
    auto events = (*t)->auditEvents(ctx.args().value(0), limit);
    if (!events)
        return ctx.fail(events.error());
    if (ctx.json()) {
        QJsonArray a;
        for (const auto &e : *events)
            a.append(QJsonObject{{QStringLiteral("time"), e.time.toString(Qt::ISODateWithMs)},
                                 {QStringLiteral("user"), e.user},
                                 {QStringLiteral("action"), e.action},
                                 {QStringLiteral("subject"), e.subject},
                                 {QStringLiteral("commit"), e.commit},
                                 {QStringLiteral("detail"), e.detail}});
        ctx.printJson(a);
        return 0;
    }
    if (events->empty()) {
        ctx.out << "No audit events yet.\n";
        return 0;
    }
    std::vector<QStringList> rows;
    for (const auto &e : *events)
        rows.push_back({e.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")), e.user, e.action, e.subject,
                        e.commit.left(10)});
    ctx.out << formatTable({QStringLiteral("time"), QStringLiteral("user"), QStringLiteral("action"),
                            QStringLiteral("subject"), QStringLiteral("commit")},
                           rows);
    return 0;
}

} // namespace

std::vector<Command> workspaceCommands()
{
    std::vector<Command> v;
    v.push_back({{QStringLiteral("init")}, QStringLiteral("[DIR]"), QStringLiteral("Create a workspace (a git repository with keel.yaml)"),
                 QStringLiteral("Creates a Keel workspace in DIR (default: the current folder): a git repository with keel.yaml,\n"
                                "datasets/, models/, pipelines/ and a local .keel/ folder (object store, cache, tracking database)\n"
                                "that git ignores. With --example, adds the bundled example datasets adult_train, adult_test,\n"
                                "diamonds and bike, a second version of adult_train (a refresh: 1,000 rows leave, 2,000 arrive)\n"
                                "and training configs in configs/ - the same workspace the workbench's New Example Workspace makes."),
                 0, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("example"), QStringLiteral("Add the bundled example datasets.")});
                 },
                 cmdInit});
    const auto s3Options = [](QCommandLineParser &p) {
        p.addOption({QStringLiteral("endpoint"), QStringLiteral("S3-compatible server address, e.g. http://127.0.0.1:9000."),
                     QStringLiteral("URL")});
        p.addOption({QStringLiteral("region"), QStringLiteral("S3 region (default: AWS_REGION, else us-east-1)."),
                     QStringLiteral("REGION")});
    };
    v.push_back({{QStringLiteral("remote"), QStringLiteral("add")}, QStringLiteral("NAME PATH"),
                 QStringLiteral("Add a remote folder or S3 bucket to push to and pull from"),
                 QStringLiteral("Records a remote in keel.yaml (committed). PATH is a folder, e.g. on a shared or network drive;\n"
                                "it receives git/ (a bare repository) and objects/ (the object store) on the first push.\n"
                                "PATH may instead be s3://BUCKET/PREFIX on S3-compatible storage (AWS S3, MinIO, Ceph RGW):\n"
                                "give --endpoint for a server other than AWS. Credentials come from AWS_ACCESS_KEY_ID and\n"
                                "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), else from ~/.aws/credentials (profile\n"
                                "AWS_PROFILE or default); requests are signed with AWS Signature Version 4 by libcurl."),
                 2, 2, s3Options, cmdRemoteAdd});
    v.push_back({{QStringLiteral("remote"), QStringLiteral("list")}, QString(), QStringLiteral("List remotes"),
                 QStringLiteral("Lists the remotes recorded in keel.yaml."), 0, 0, {}, cmdRemoteList});
    v.push_back({{QStringLiteral("push")}, QStringLiteral("[REMOTE]"), QStringLiteral("Send versions and their bytes to a remote"),
                 QStringLiteral("Copies the objects of every version that the remote lacks (only the missing chunks), then\n"
                                "pushes the workspace history. Objects go first, so the remote never lists a version whose\n"
                                "bytes it lacks; an interrupted push resumes where it stopped. REMOTE defaults to origin."),
                 0, 1, {}, cmdPush});
    v.push_back({{QStringLiteral("pull")}, QStringLiteral("[REMOTE]"), QStringLiteral("Fetch versions and their bytes from a remote"),
                 QStringLiteral("Fetches the remote's history, copies the objects it needs, then fast-forwards or merges\n"
                                "(a merge that would change the same file both ways is refused and nothing changes)."),
                 0, 1, {}, cmdPull});
    v.push_back({{QStringLiteral("clone")}, QStringLiteral("PATH DIR"), QStringLiteral("Make a new workspace from a remote"),
                 QStringLiteral("Creates workspace DIR from the remote folder (or s3://BUCKET/PREFIX) PATH, with every\n"
                                "version's bytes verified, and records PATH as remote 'origin'."),
                 2, 2, s3Options, cmdClone});
    v.push_back({{QStringLiteral("tag")}, QStringLiteral("NAME"), QStringLiteral("Tag the current workspace state"),
                 QStringLiteral("Creates an annotated git tag on the current commit; versions can then be named NAME@TAG."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("m"), QStringLiteral("Tag message."), QStringLiteral("message")});
                 },
                 cmdTag});
    v.push_back({{QStringLiteral("audit")}, QStringLiteral("[SUBJECT]"), QStringLiteral("Show the audit trail"),
                 QStringLiteral("Lists audit events (newest first): who added, checked out, pushed or pulled what, and when."),
                 0, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("n"), QStringLiteral("Show at most <count> events (default 50)."),
                                  QStringLiteral("count")});
                 },
                 cmdAudit});
    v.push_back({{QStringLiteral("audit"), QStringLiteral("verify")}, QString(), QStringLiteral("Check that no audit event was edited, deleted or reordered"),
                 QStringLiteral("Recomputes the audit trail's hash chain (each event's SHA-256 covers its content and the previous\n"
                                "event's hash) and checks it against the chain head every commit recorded in audit/CHAIN.head. Names the\n"
                                "first broken link; exit 1 when the trail was altered."),
                 0, 0, {}, cmdAuditVerify});
    v.push_back({{QStringLiteral("audit"), QStringLiteral("export")}, QString(), QStringLiteral("Write the audit trail as JSON Lines, with hashes"),
                 QStringLiteral("Writes every audit event (from --since) oldest first, one JSON object per line: id, time, user, action,\n"
                                "subject, detail, commit, prev_hash, hash — for a records system, which can recompute the chain."),
                 0, 0,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("o"), QStringLiteral("Output file, or - for standard output."), QStringLiteral("FILE")});
                     p.addOption({QStringLiteral("since"), QStringLiteral("Only events at or after this time (ISO 8601)."), QStringLiteral("time")});
                     p.addOption({QStringLiteral("force"), QStringLiteral("Replace an existing file.")});
                 },
                 cmdAuditExport});
    v.push_back({{QStringLiteral("audit"), QStringLiteral("decision")}, QStringLiteral("PREDICTION_ID"),
                 QStringLiteral("Explain a past served decision from its prediction id"),
                 QStringLiteral("Finds the prediction in the deployments' logs (or, for RUN@NAME@vN#ROW, row ROW of that dataset\n"
                                "version as `keel predict RUN --data NAME@vN --explain` scores it) and shows the model version that made it and its\n"
                                "lineage (run, dataset versions, who registered, approved and deployed it), the inputs as received,\n"
                                "the output, the feedback label if one arrived, and the explanation recomputed with that exact\n"
                                "model version: byte for byte what /explain returned. Exit 1 if the model no longer reproduces\n"
                                "the logged output."),
                 1, 1, {}, cmdAuditDecision});
    return v;
}

} // namespace keel::cli
