// keel models ...: the model registry (register, list, show, alias, approve, history, compare, export, import) and
// keel keys create (Ed25519 keys for signed bundles).
#include "commands.h"

#include "registry/bundle.h"
#include "registry/compare.h"
#include "registry/registry.h"
#include "tracking/metrickeys.h"
#include "util/fileutil.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QLocale>

#include <cmath>

namespace keel::cli {

namespace {

QString num(double v, int digits = 4) { return std::isnan(v) ? QStringLiteral("-") : QString::number(v, 'g', digits); }
QString when(const QDateTime &t) { return t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")); }

QJsonObject versionJson(const registry::ModelVersion &v, const registry::RegisteredModel *model = nullptr)
{
    QJsonObject o = v.cardJson();
    o.insert(QStringLiteral("ref"), v.ref());
    o.insert(QStringLiteral("bundle"), v.bundle);
    o.insert(QStringLiteral("bundle_sha256"), v.bundleSha256);
    QJsonArray approvals;
    for (const registry::Approval &a : v.approvals)
        approvals.append(QJsonObject{{QStringLiteral("by"), a.by}, {QStringLiteral("at"), a.at.toUTC().toString(Qt::ISODateWithMs)},
                                     {QStringLiteral("message"), a.message}});
    o.insert(QStringLiteral("approvals"), approvals);
    if (model)
        o.insert(QStringLiteral("aliases"), QJsonArray::fromStringList(model->aliasesOf(v.version)));
    return o;
}

QString headline(const registry::ModelVersion &v)
{
    QStringList parts;
    for (const QString &key : tracking::summaryMetricKeys())
        if (auto m = v.metric(key))
            parts << QStringLiteral("%1 %2").arg(key, num(*m));
    return parts.join(QStringLiteral(", "));
}

int cmdRegister(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const QString name = ctx.parser.value(QStringLiteral("name"));
    if (name.isEmpty())
        return ctx.usage(QStringLiteral("give the model's name: --name NAME"));
    Feedback *feedback = ctx.feedback();
    auto v = registry::registerRun(*ws, ctx.args().at(0), name, ctx.parser.value(QStringLiteral("m")), feedback);
    ctx.endProgress();
    if (!v)
        return ctx.fail(v.error());
    if (ctx.json())
        ctx.printJson(versionJson(*v));
    else
        ctx.out << "registered " << v->ref() << " from run " << v->runId.left(8) << " (" << v->runName << "): "
                << headline(*v) << "\nbundle " << v->bundle.left(16) << " (sha256 " << v->bundleSha256.left(16) << ")\n";
    return 0;
}

int cmdList(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto names = registry::listModels(*ws);
    if (!names)
        return ctx.fail(names.error());
    QJsonArray arr;
    std::vector<QStringList> rows;
    for (const QString &n : *names) {
        auto m = registry::loadModel(*ws, n);
        if (!m)
            return ctx.fail(m.error());
        QStringList aliases;
        for (auto it = m->aliases.begin(); it != m->aliases.end(); ++it)
            aliases << QStringLiteral("%1=v%2").arg(it.key()).arg(it.value());
        const registry::ModelVersion *latest = m->latest();
        rows.push_back({n, QString::number(m->versions.size()), aliases.join(QLatin1Char(' ')),
                        latest ? when(latest->registered) : QString(), latest ? headline(*latest) : QString()});
        QJsonObject al;
        for (auto it = m->aliases.begin(); it != m->aliases.end(); ++it)
            al.insert(it.key(), it.value());
        arr.append(QJsonObject{{QStringLiteral("name"), n}, {QStringLiteral("versions"), int(m->versions.size())}, {QStringLiteral("aliases"), al}});
    }
    if (ctx.json()) {
        ctx.printJson(arr);
        return 0;
    }
    if (rows.empty()) {
        ctx.out << "no registered models (keel models register RUN --name NAME)\n";
        return 0;
    }
    ctx.out << formatTable({QStringLiteral("model"), QStringLiteral("versions"), QStringLiteral("aliases"), QStringLiteral("latest"),
                            QStringLiteral("latest metrics")},
                           rows, {1});
    return 0;
}

int cmdShow(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const QString ref = ctx.args().at(0);
    auto v = registry::resolveVersion(*ws, ref);
    if (!v)
        return ctx.fail(v.error());
    auto m = registry::loadModel(*ws, v->name);
    if (!m)
        return ctx.fail(m.error());
    if (ctx.json()) {
        ctx.printJson(versionJson(*v, &*m));
        return 0;
    }
    const QStringList aliases = m->aliasesOf(v->version);
    ctx.out << v->ref() << (aliases.isEmpty() ? QString() : QStringLiteral("  [") + aliases.join(QStringLiteral(", ")) + QLatin1Char(']'))
            << "\nregistered " << when(v->registered) << " by " << v->by << (v->message.isEmpty() ? QString() : QStringLiteral(": ") + v->message)
            << "\nrun        " << v->runId << " (" << v->runName << ", experiment " << v->experiment << ")"
            << "\nmodel      " << v->modelKind << ", " << ml::taskName(v->task)
            << (v->classes.isEmpty() ? QString() : QStringLiteral(" (") + v->classes.join(QStringLiteral(", ")) + QLatin1Char(')'))
            << "\ntrained on " << v->data.train << " (" << v->data.trainContentId.left(12) << ")";
    if (!v->data.evaluate.isEmpty())
        ctx.out << "\ntested on  " << v->data.evaluate << " (" << v->data.evaluateContentId.left(12) << ")";
    ctx.out << "\nbundle     " << v->bundle << "\n";
    if (!v->importedFrom.isEmpty())
        ctx.out << "imported   from " << v->importedFrom.value(QStringLiteral("name")).toString() << "@v"
                << v->importedFrom.value(QStringLiteral("version")).toInt() << " (sha256 "
                << v->importedFrom.value(QStringLiteral("bundle_sha256")).toString().left(16) << ")\n";
    for (const registry::Approval &a : v->approvals)
        ctx.out << "approved   " << when(a.at) << " by " << a.by << ": " << a.message << '\n';
    std::vector<QStringList> metrics;
    for (const auto &[k, val] : v->metrics)
        metrics.push_back({k, num(val, 6)});
    ctx.out << '\n' << formatTable({QStringLiteral("metric"), QStringLiteral("value")}, metrics, {1});
    std::vector<QStringList> schema;
    for (const registry::FeatureSchema &f : v->schema)
        schema.push_back({f.name, f.type, f.kind,
                          f.categories.isEmpty() ? (f.min && f.max ? QStringLiteral("%1 .. %2").arg(num(*f.min), num(*f.max)) : QString())
                                                 : QStringLiteral("%1 categories").arg(f.categories.size()),
                          QString::number(f.missingShare * 100, 'f', 1) + QLatin1Char('%')});
    ctx.out << "\ninput schema\n"
            << formatTable({QStringLiteral("column"), QStringLiteral("type"), QStringLiteral("read as"), QStringLiteral("range"),
                            QStringLiteral("missing")},
                           schema, {4});
    std::vector<QStringList> importance;
    for (size_t i = 0; i < std::min<size_t>(v->importance.size(), 10); ++i)
        importance.push_back({QString::number(i + 1), v->importance[i].feature, num(v->importance[i].meanAbsShap)});
    ctx.out << "\nglobal importance (mean |SHAP| on the test rows)\n"
            << formatTable({QStringLiteral("#"), QStringLiteral("feature"), QStringLiteral("mean |SHAP|")}, importance, {0, 2});
    return 0;
}

int cmdAlias(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const QString ref = ctx.args().at(0), alias = ctx.args().at(1), message = ctx.parser.value(QStringLiteral("m"));
    Expected<QString> commit = ctx.parser.isSet(QStringLiteral("remove"))
                                   ? registry::removeAlias(*ws, ref.section(QLatin1Char('@'), 0, 0), alias, message)
                                   : registry::moveAlias(*ws, ref, alias, message);
    if (!commit)
        return ctx.fail(commit.error());
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("alias"), alias}, {QStringLiteral("commit"), *commit}});
    else if (ctx.parser.isSet(QStringLiteral("remove")))
        ctx.out << "removed alias " << alias << " of " << ref.section(QLatin1Char('@'), 0, 0) << " (commit " << commit->left(10) << ")\n";
    else
        ctx.out << alias << " -> " << ref << " (commit " << commit->left(10) << ")\n";
    return 0;
}

int cmdApprove(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto commit = registry::approveVersion(*ws, ctx.args().at(0), ctx.parser.value(QStringLiteral("m")));
    if (!commit)
        return ctx.fail(commit.error());
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("approved"), ctx.args().at(0)}, {QStringLiteral("commit"), *commit}});
    else
        ctx.out << "approved " << ctx.args().at(0) << " (commit " << commit->left(10) << ")\n";
    return 0;
}

int cmdHistory(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const QString name = ctx.args().at(0);
    if (ctx.parser.isSet(QStringLiteral("at"))) {
        const QString text = ctx.parser.value(QStringLiteral("at"));
        QDateTime at = QDateTime::fromString(text, Qt::ISODateWithMs);
        if (!at.isValid())
            at = QDateTime::fromString(text, Qt::ISODate);
        if (!at.isValid())
            return ctx.usage(QStringLiteral("--at needs a time such as 2026-11-30T12:00 or 2026-11-30T12:00:00Z"));
        auto aliases = registry::aliasesAt(*ws, name, at);
        if (!aliases)
            return ctx.fail(aliases.error());
        const QString alias = ctx.parser.value(QStringLiteral("alias"));
        QJsonObject o;
        for (auto it = aliases->begin(); it != aliases->end(); ++it)
            if (alias.isEmpty() || it.key() == alias)
                o.insert(it.key(), it.value());
        if (ctx.json()) {
            ctx.printJson(QJsonObject{{QStringLiteral("at"), at.toUTC().toString(Qt::ISODate)}, {QStringLiteral("aliases"), o}});
            return 0;
        }
        if (o.isEmpty())
            ctx.out << (alias.isEmpty() ? QStringLiteral("no alias of %1 was set").arg(name)
                                        : QStringLiteral("%1 of %2 was not set").arg(alias, name))
                    << " at " << at.toString(Qt::ISODate) << '\n';
        for (auto it = o.begin(); it != o.end(); ++it)
            ctx.out << it.key() << " of " << name << " at " << at.toString(Qt::ISODate) << ": " << name << "@v"
                    << it.value().toInt() << '\n';
        return 0;
    }
    auto moves = registry::aliasHistory(*ws, name, ctx.parser.value(QStringLiteral("alias")));
    if (!moves)
        return ctx.fail(moves.error());
    if (ctx.json()) {
        QJsonArray arr;
        for (const registry::AliasMove &m : *moves)
            arr.append(QJsonObject{{QStringLiteral("alias"), m.alias},
                                   {QStringLiteral("from"), m.from},
                                   {QStringLiteral("to"), m.to},
                                   {QStringLiteral("time"), m.time.toUTC().toString(Qt::ISODate)},
                                   {QStringLiteral("author"), m.author},
                                   {QStringLiteral("message"), m.message},
                                   {QStringLiteral("commit"), m.commit}});
        ctx.printJson(arr);
        return 0;
    }
    std::vector<QStringList> rows;
    for (const registry::AliasMove &m : *moves)
        rows.push_back({when(m.time), m.alias, m.from ? QStringLiteral("v%1").arg(m.from) : QStringLiteral("-"),
                        m.to ? QStringLiteral("v%1").arg(m.to) : QStringLiteral("(removed)"), m.author, m.message.section(QLatin1Char('\n'), 0, 0),
                        m.commit.left(10)});
    if (rows.empty()) {
        ctx.out << "no alias of " << name << " has moved\n";
        return 0;
    }
    ctx.out << formatTable({QStringLiteral("when"), QStringLiteral("alias"), QStringLiteral("from"), QStringLiteral("to"),
                            QStringLiteral("who"), QStringLiteral("why"), QStringLiteral("commit")},
                           rows);
    return 0;
}

int cmdCompare(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    registry::CompareRequest request;
    request.a = ctx.args().at(0);
    request.b = ctx.args().at(1);
    request.data = ctx.parser.value(QStringLiteral("data"));
    bool ok = true;
    if (ctx.parser.isSet(QStringLiteral("bootstrap"))) {
        request.bootstrap = ctx.parser.value(QStringLiteral("bootstrap")).toInt(&ok);
        if (!ok || request.bootstrap < 0 || request.bootstrap > 100000)
            return ctx.usage(QStringLiteral("--bootstrap must be a whole number from 0 to 100000"));
    }
    if (ctx.parser.isSet(QStringLiteral("seed"))) {
        request.seed = ctx.parser.value(QStringLiteral("seed")).toULongLong(&ok);
        if (!ok)
            return ctx.usage(QStringLiteral("--seed must be a non-negative integer"));
    }
    if (ctx.parser.isSet(QStringLiteral("threads"))) {
        request.threads = ctx.parser.value(QStringLiteral("threads")).toInt(&ok);
        if (!ok || request.threads < 0)
            return ctx.usage(QStringLiteral("--threads must be a non-negative integer"));
    }
    Feedback *feedback = ctx.feedback();
    auto c = registry::compareVersions(*ws, request, feedback);
    ctx.endProgress();
    if (!c)
        return ctx.fail(c.error());
    if (ctx.json()) {
        ctx.printJson(c->toJson());
        return 0;
    }
    ctx.out << "A = " << c->a.ref() << " (run " << c->a.runId.left(8) << "), B = " << c->b.ref() << " (run " << c->b.runId.left(8)
            << ")\non " << c->rowsDescription << "; " << qRound(c->level * 100) << "% intervals from " << c->resamples
            << " bootstrap resamples of the rows (the same for A and B)\n\n";
    std::vector<QStringList> rows;
    auto iv = [](double lo, double hi) { return QStringLiteral("[%1, %2]").arg(num(lo), num(hi)); };
    for (const registry::MetricComparison &m : c->metrics)
        rows.push_back({m.metric, num(m.a), iv(m.aLow, m.aHigh), num(m.b), iv(m.bLow, m.bHigh),
                        (m.diff >= 0 ? QStringLiteral("+") : QString()) + num(m.diff), iv(m.diffLow, m.diffHigh)});
    ctx.out << formatTable({QStringLiteral("metric"), QStringLiteral("A"), QStringLiteral("interval"), QStringLiteral("B"),
                            QStringLiteral("interval"), QStringLiteral("B - A"), QStringLiteral("interval")},
                           rows, {1, 3, 5})
            << '\n';
    for (const registry::PairedTestOutcome &t : c->tests)
        ctx.out << "- " << t.sentence << '\n';
    ctx.out << '\n';
    if (c->task == ml::Task::Regression)
        ctx.out << "predictions move by " << num(c->meanAbsChange) << " on average (at most " << num(c->maxAbsChange) << ")";
    else
        ctx.out << "decisions that change: " << QLocale::c().toString(c->changed) << " of " << QLocale::c().toString(c->rows)
                << " rows (" << QString::number(c->changedShare * 100, 'f', 2) << "%)";
    ctx.out << (c->changedExamples.empty() ? QStringLiteral("\n") : QStringLiteral(", for example:\n"));
    std::vector<QStringList> ex;
    for (const registry::ChangedDecision &d : c->changedExamples)
        ex.push_back({QString::number(d.row), d.a, d.b, d.actual});
    if (!ex.empty())
        ctx.out << formatTable({QStringLiteral("row"), QStringLiteral("A"), QStringLiteral("B"), QStringLiteral("actual")}, ex, {0});
    ctx.out << "\nglobal importance: rank correlation " << num(c->importanceSpearman, 3);
    if (c->importanceMovers.empty())
        ctx.out << ", no feature changed rank\n";
    else {
        ctx.out << "; biggest moves:";
        for (const registry::ImportanceMove &m : c->importanceMovers)
            ctx.out << "  " << m.feature << ' ' << (m.rankA ? QString::number(m.rankA) : QStringLiteral("-")) << "->"
                    << (m.rankB ? QString::number(m.rankB) : QStringLiteral("-"));
        ctx.out << '\n';
    }
    if (!c->lineage.empty()) {
        std::vector<QStringList> lin;
        for (const registry::LineageChange &l : c->lineage)
            lin.push_back({l.what, l.a.left(60), l.b.left(60)});
        ctx.out << "\nlineage that differs\n" << formatTable({QStringLiteral("what"), QStringLiteral("A"), QStringLiteral("B")}, lin);
    }
    for (const QString &w : c->warnings)
        ctx.out << "note: " << w << '\n';
    return 0;
}

int cmdExport(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const QString out = ctx.parser.value(QStringLiteral("o"));
    if (out.isEmpty())
        return ctx.usage(QStringLiteral("give the bundle file: -o FILE"));
    QByteArray key;
    if (ctx.parser.isSet(QStringLiteral("sign"))) {
        auto k = readFile(ctx.path(ctx.parser.value(QStringLiteral("sign"))));
        if (!k)
            return ctx.fail(k.error());
        key = *k;
    }
    if (Status s = registry::exportVersion(*ws, ctx.args().at(0), ctx.path(out), ctx.parser.isSet(QStringLiteral("force")), key); !s)
        return ctx.fail(s.error());
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("exported"), ctx.args().at(0)}, {QStringLiteral("file"), ctx.path(out)},
                                  {QStringLiteral("signed"), !key.isEmpty()}});
    else
        ctx.out << "exported " << ctx.args().at(0) << " to " << out << (key.isEmpty() ? "" : " (signed)") << '\n';
    return 0;
}

int cmdImport(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    QByteArray trusted;
    if (ctx.parser.isSet(QStringLiteral("require-signature"))) {
        auto k = readFile(ctx.path(ctx.parser.value(QStringLiteral("require-signature"))));
        if (!k)
            return ctx.fail(k.error());
        trusted = *k;
    }
    auto v = registry::importBundle(*ws, ctx.path(ctx.args().at(0)), ctx.parser.value(QStringLiteral("name")),
                                    ctx.parser.value(QStringLiteral("m")), trusted);
    if (!v)
        return ctx.fail(v.error());
    if (ctx.json())
        ctx.printJson(versionJson(*v));
    else
        ctx.out << "imported " << ctx.args().at(0) << " as " << v->ref() << " (originally "
                << v->importedFrom.value(QStringLiteral("name")).toString() << "@v" << v->importedFrom.value(QStringLiteral("version")).toInt()
                << ", run " << v->runId.left(8) << "; every member verified"
                << (v->importedFrom.value(QStringLiteral("signed")).toBool() ? QStringLiteral(", signature checked") : QString()) << ")\n";
    return 0;
}

int cmdKeysCreate(Context &ctx)
{
    const QString name = ctx.args().at(0);
    const QString dir = ctx.path(ctx.parser.isSet(QStringLiteral("o")) ? ctx.parser.value(QStringLiteral("o")) : QStringLiteral("."));
    auto key = registry::createSigningKey();
    if (!key)
        return ctx.fail(key.error());
    const QString priv = QDir(dir).filePath(name + QStringLiteral(".key")), pub = QDir(dir).filePath(name + QStringLiteral(".pub"));
    OutputPolicy policy;
    if (Status s = writeUserFile(priv, key->privatePem, policy); !s)
        return ctx.fail(s.error());
    QFile::setPermissions(priv, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    if (Status s = writeUserFile(pub, key->publicPem, policy); !s)
        return ctx.fail(s.error());
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("private"), priv}, {QStringLiteral("public"), pub}});
    else
        ctx.out << "wrote " << priv << " (private, keep it secret; sign with --sign) and " << pub
                << " (public, give it to whoever imports: --require-signature)\n";
    return 0;
}

} // namespace

std::vector<Command> modelCommands()
{
    std::vector<Command> v;
    const auto msg = [](QCommandLineParser &p) { p.addOption({QStringLiteral("m"), QStringLiteral("Why (recorded in the commit)."), QStringLiteral("message")}); };
    v.push_back({{QStringLiteral("models"), QStringLiteral("register")}, QStringLiteral("RUN"),
                 QStringLiteral("Register a finished run as the next version of a model"),
                 QStringLiteral("Makes version N of --name NAME from RUN (an id or unique prefix): the run's model, recipe and split,\n"
                                "checked against their hashes, with the input schema (from the training data's profile), the\n"
                                "test metrics, the data lineage, a background sample of 200 training rows and the global\n"
                                "importance (mean |SHAP| on up to 1,000 test rows), packed into a verified bundle in the object\n"
                                "store. Writes models/NAME.yaml (one commit) and an audit event."),
                 1, 1,
                 [msg](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("name"), QStringLiteral("The model's name."), QStringLiteral("name")});
                     msg(p);
                 },
                 cmdRegister});
    v.push_back({{QStringLiteral("models"), QStringLiteral("list")}, QString(), QStringLiteral("Registered models, their versions and aliases"),
                 QStringLiteral("One line per model: how many versions, where its aliases point, the latest version's metrics."), 0, 0,
                 {}, cmdList});
    v.push_back({{QStringLiteral("models"), QStringLiteral("show")}, QStringLiteral("NAME[@vN|@ALIAS]"),
                 QStringLiteral("One version: lineage, metrics, schema, importance, approvals"),
                 QStringLiteral("Shows a registered version (NAME alone: the latest): who registered it and why, its run, the data\n"
                                "it was trained and tested on, its bundle, approvals, final metrics, input schema and importance."),
                 1, 1, {}, cmdShow});
    v.push_back({{QStringLiteral("models"), QStringLiteral("alias")}, QStringLiteral("NAME@vN ALIAS"),
                 QStringLiteral("Point an alias (champion, challenger, ...) at a version"),
                 QStringLiteral("Moves ALIAS of the model to the version (one commit, -m says why, and an audit event). With\n"
                                "--remove, removes ALIAS instead. keel.yaml may require an approval first:\n"
                                "  registry:\n    require_approval: [champion]"),
                 2, 2,
                 [msg](QCommandLineParser &p) {
                     msg(p);
                     p.addOption({QStringLiteral("remove"), QStringLiteral("Remove the alias.")});
                 },
                 cmdAlias});
    v.push_back({{QStringLiteral("models"), QStringLiteral("approve")}, QStringLiteral("NAME@vN"),
                 QStringLiteral("Record your approval of a version"),
                 QStringLiteral("Records the reviewer (your git identity), the time and what was reviewed (-m, required)."), 1, 1, msg,
                 cmdApprove});
    v.push_back({{QStringLiteral("models"), QStringLiteral("history")}, QStringLiteral("NAME"),
                 QStringLiteral("Who moved which alias, when and why; or the aliases at a time"),
                 QStringLiteral("Every move of the model's aliases from git history (--alias A: only that one). With --at TIME\n"
                                "(ISO 8601, local time unless it ends in Z or an offset), where each alias pointed then."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("alias"), QStringLiteral("Only this alias."), QStringLiteral("alias")});
                     p.addOption({QStringLiteral("at"), QStringLiteral("The aliases at this time."), QStringLiteral("time")});
                 },
                 cmdHistory});
    v.push_back({{QStringLiteral("models"), QStringLiteral("compare")}, QStringLiteral("A B"),
                 QStringLiteral("Is B really better than A? Metrics with intervals and paired tests"),
                 QStringLiteral("Scores both versions on the same rows (default: the newer version's test rows; --data NAME@REF)\n"
                                "and prints every metric with a bootstrap interval for A, B and B - A, McNemar's test on accuracy,\n"
                                "DeLong's test on ROC AUC (binary), a paired bootstrap and the Wilcoxon signed-rank test on the\n"
                                "per-row loss, the decisions that change, the shift in global importance and the lineage that\n"
                                "differs. Notes rows a model trained on."),
                 2, 2,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("data"), QStringLiteral("Dataset version to score on."), QStringLiteral("ref")});
                     p.addOption({QStringLiteral("bootstrap"), QStringLiteral("Resamples (default 1000)."), QStringLiteral("n")});
                     p.addOption({QStringLiteral("seed"), QStringLiteral("Seed of the resamples (default 1)."), QStringLiteral("seed")});
                     p.addOption({QStringLiteral("threads"), QStringLiteral("Threads (default: all cores)."), QStringLiteral("n")});
                 },
                 cmdCompare});
    v.push_back({{QStringLiteral("models"), QStringLiteral("export")}, QStringLiteral("NAME@vN"),
                 QStringLiteral("Write a version's bundle to a file"),
                 QStringLiteral("Writes the bundle (a tar file: model, recipe, split, background, card and a manifest with the\n"
                                "SHA-256 of each) to -o FILE, verified first; --sign KEY adds an Ed25519 signature (keel keys create)."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("o"), QStringLiteral("The bundle file to write."), QStringLiteral("file")});
                     p.addOption({QStringLiteral("force"), QStringLiteral("Replace an existing file.")});
                     p.addOption({QStringLiteral("sign"), QStringLiteral("Private key to sign with."), QStringLiteral("key")});
                 },
                 cmdExport});
    v.push_back({{QStringLiteral("models"), QStringLiteral("import")}, QStringLiteral("FILE"),
                 QStringLiteral("Verify a bundle and register it with its lineage"),
                 QStringLiteral("Checks every member of the bundle against the manifest (a changed member is refused, named), and\n"
                                "a signature when there is one, then registers it as the next version of --name (default: its\n"
                                "original name), keeping its lineage and recording where it came from. --require-signature PUB\n"
                                "refuses a bundle not signed by that key."),
                 1, 1,
                 [msg](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("name"), QStringLiteral("Register under this name."), QStringLiteral("name")});
                     p.addOption({QStringLiteral("require-signature"), QStringLiteral("Public key that must have signed it."),
                                  QStringLiteral("key")});
                     msg(p);
                 },
                 cmdImport});
    v.push_back({{QStringLiteral("keys"), QStringLiteral("create")}, QStringLiteral("NAME"),
                 QStringLiteral("Create an Ed25519 key pair for signing bundles"),
                 QStringLiteral("Writes NAME.key (private, mode 0600) and NAME.pub into -o DIR (default: the current folder);\n"
                                "never over existing files."),
                 1, 1, [](QCommandLineParser &p) { p.addOption({QStringLiteral("o"), QStringLiteral("Folder."), QStringLiteral("dir")}); },
                 cmdKeysCreate});
    return v;
}

} // namespace keel::cli
