// keel deploy, keel deployments list|history, keel rollback: which registered model version each deployment serves,
// switched through gates (core/deploy).
#include "commands.h"

#include "deploy/deployment.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonObject>

namespace keel::cli {

namespace {

QString when(const QDateTime &t) { return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QString(); }

QString gateState(const deploy::GateResult &g)
{
    return g.skipped ? QStringLiteral("skipped") : g.passed ? QStringLiteral("passed") : QStringLiteral("FAILED");
}

QJsonObject gateJson(const deploy::GateResult &g)
{
    return QJsonObject{{QStringLiteral("gate"), g.gate}, {QStringLiteral("passed"), g.passed}, {QStringLiteral("skipped"), g.skipped},
                       {QStringLiteral("detail"), g.detail}};
}

QJsonObject deploymentJson(const deploy::Deployment &d)
{
    auto served = [](const deploy::ServedModel &m) {
        return QJsonObject{{QStringLiteral("requested"), m.requested}, {QStringLiteral("version"), m.version},
                           {QStringLiteral("bundle"), m.bundle}};
    };
    QJsonObject o{{QStringLiteral("name"), d.name}, {QStringLiteral("revision"), d.revision}, {QStringLiteral("model"), served(d.model)},
                  {QStringLiteral("message"), d.message}};
    if (d.shadow.isSet())
        o.insert(QStringLiteral("shadow"), served(d.shadow));
    if (d.canary.isSet()) {
        QJsonObject c = served(d.canary);
        c.insert(QStringLiteral("share"), d.canaryShare);
        o.insert(QStringLiteral("canary"), c);
    }
    if (d.rolledBackTo)
        o.insert(QStringLiteral("rolled_back_to"), *d.rolledBackTo);
    if (!d.author.isEmpty())
        o.insert(QStringLiteral("author"), d.author);
    if (d.time.isValid())
        o.insert(QStringLiteral("time"), d.time.toUTC().toString(Qt::ISODateWithMs));
    if (!d.commit.isEmpty())
        o.insert(QStringLiteral("commit"), d.commit);
    QJsonArray gates;
    for (const deploy::GateResult &g : d.gates)
        gates.append(gateJson(g));
    o.insert(QStringLiteral("gates"), gates);
    return o;
}

QString servedText(const deploy::Deployment &d)
{
    QString s = d.model.version;
    if (d.model.requested != d.model.version)
        s += QStringLiteral(" (%1)").arg(d.model.requested);
    if (d.shadow.isSet())
        s += QStringLiteral(", shadow %1").arg(d.shadow.version);
    if (d.canary.isSet())
        s += QStringLiteral(", canary %1 at %2%").arg(d.canary.version).arg(100 * d.canaryShare);
    return s;
}

int printOutcome(Context &ctx, const deploy::DeployOutcome &out, const QString &verb)
{
    if (ctx.json()) {
        QJsonArray gates;
        for (const deploy::GateResult &g : out.gates)
            gates.append(gateJson(g));
        ctx.printJson(QJsonObject{{QStringLiteral("deployed"), out.deployed}, {QStringLiteral("unchanged"), out.unchanged},
                                  {QStringLiteral("gates"), gates}, {QStringLiteral("commit"), out.commit},
                                  {QStringLiteral("deployment"), deploymentJson(out.deployment)}});
        return out.deployed || out.unchanged || out.gatesPassed() ? 0 : 1;
    }
    if (out.unchanged) {
        ctx.out << out.deployment.name << " already serves " << servedText(out.deployment) << " (revision "
                << out.deployment.revision << "); nothing committed\n";
        return 0;
    }
    // One line per gate, its detail in full (a table would cut it).
    for (const deploy::GateResult &g : out.gates)
        ctx.out << QStringLiteral("%1 %2 %3\n").arg(g.gate, -12).arg(gateState(g), -8).arg(g.detail);
    if (!out.deployed && out.gatesPassed()) {
        ctx.out << "dry run: every gate passes; nothing switched\n";
        return 0;
    }
    if (!out.deployed) {
        ctx.err << "keel: error: a gate failed; " << out.deployment.name
                << (out.deployment.revision > 0 ? QStringLiteral(" still serves %1").arg(servedText(out.deployment))
                                                : QStringLiteral(" was not deployed"))
                << "\n";
        return 1;
    }
    ctx.out << verb << ' ' << out.deployment.name << ": now serves " << servedText(out.deployment) << " (revision "
            << out.deployment.revision << ", commit " << out.commit.left(10) << ")\n";
    return 0;
}

bool parseShare(Context &ctx, const QString &option, double &out)
{
    if (!ctx.parser.isSet(option))
        return true;
    bool ok = false;
    out = ctx.parser.value(option).toDouble(&ok);
    if (!ok) {
        ctx.usage(QStringLiteral("--%1 must be a number").arg(option));
        return false;
    }
    return true;
}

int cmdDeploy(Context &ctx)
{
    if (!ctx.parser.isSet(QStringLiteral("model")))
        return ctx.usage(QStringLiteral("name the model to serve: --model NAME@ALIAS or NAME@vN"));
    deploy::DeployRequest r;
    r.name = ctx.args().at(0);
    r.model = ctx.parser.value(QStringLiteral("model"));
    r.shadow = ctx.parser.value(QStringLiteral("shadow"));
    r.canary = ctx.parser.value(QStringLiteral("canary"));
    r.data = ctx.parser.value(QStringLiteral("data"));
    if (ctx.parser.isSet(QStringLiteral("rules")))
        r.rules = ctx.path(ctx.parser.value(QStringLiteral("rules")));
    r.message = ctx.parser.value(QStringLiteral("m"));
    r.dryRun = ctx.parser.isSet(QStringLiteral("dry-run"));
    if (!parseShare(ctx, QStringLiteral("canary-share"), r.canaryShare) || !parseShare(ctx, QStringLiteral("tolerance"), r.tolerance))
        return 2;
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    Feedback *feedback = ctx.feedback();
    auto out = deploy::deployModel(*ws, r, feedback);
    ctx.endProgress();
    if (!out)
        return ctx.fail(out.error());
    return printOutcome(ctx, *out, QStringLiteral("deployed"));
}

int cmdRollback(Context &ctx)
{
    std::optional<int> to;
    if (ctx.parser.isSet(QStringLiteral("to"))) {
        bool ok = false;
        const int n = ctx.parser.value(QStringLiteral("to")).toInt(&ok);
        if (!ok || n < 1)
            return ctx.usage(QStringLiteral("--to must be a revision number (see keel deployments history NAME)"));
        to = n;
    }
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto out = deploy::rollback(*ws, ctx.args().at(0), to, ctx.parser.value(QStringLiteral("m")));
    if (!out)
        return ctx.fail(out.error());
    return printOutcome(ctx, *out, QStringLiteral("rolled back"));
}

int cmdList(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto list = deploy::listDeployments(*ws);
    if (!list)
        return ctx.fail(list.error());
    if (ctx.json()) {
        QJsonArray arr;
        for (const deploy::Deployment &d : *list)
            arr.append(deploymentJson(d));
        ctx.printJson(arr);
        return 0;
    }
    if (list->empty()) {
        ctx.out << "no deployments (keel deploy NAME --model MODEL@ALIAS)\n";
        return 0;
    }
    std::vector<QStringList> rows;
    for (const deploy::Deployment &d : *list)
        rows.push_back({d.name, QString::number(d.revision), servedText(d), d.message});
    ctx.out << formatTable({QStringLiteral("deployment"), QStringLiteral("revision"), QStringLiteral("serves"), QStringLiteral("why")},
                           rows, {1});
    return 0;
}

int cmdHistory(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto history = deploy::deploymentHistory(*ws, ctx.args().at(0));
    if (!history)
        return ctx.fail(history.error());
    if (ctx.json()) {
        QJsonArray arr;
        for (const deploy::Deployment &d : *history)
            arr.append(deploymentJson(d));
        ctx.printJson(arr);
        return 0;
    }
    std::vector<QStringList> rows;
    for (const deploy::Deployment &d : *history)
        rows.push_back({QString::number(d.revision), when(d.time), servedText(d),
                        d.rolledBackTo ? QStringLiteral("rollback to %1").arg(*d.rolledBackTo) : QStringLiteral("deploy"),
                        d.author.section(QLatin1Char('<'), 0, 0).trimmed(), d.message});
    ctx.out << formatTable({QStringLiteral("revision"), QStringLiteral("when"), QStringLiteral("serves"), QStringLiteral("action"),
                            QStringLiteral("who"), QStringLiteral("why")},
                           rows, {0});
    return 0;
}

} // namespace

std::vector<Command> deployCommands()
{
    std::vector<Command> v;
    v.push_back({{QStringLiteral("deploy")}, QStringLiteral("NAME"), QStringLiteral("Point a deployment at a registered model, through gates"),
                 QStringLiteral("Makes deployment NAME serve --model (NAME@ALIAS, NAME@vN or NAME for the latest version), with an\n"
                                "optional --shadow (scored on every request, logged, never returned) and --canary with\n"
                                "--canary-share (a share of the traffic). The switch happens only when every gate passes:\n"
                                "  bundle       every served bundle verifies against its SHA-256 manifest\n"
                                "  schema       every input the candidate reads is served now, with the same type\n"
                                "  performance  the candidate is not worse than the served model beyond --tolerance (default\n"
                                "               0.005; ROC AUC for binary, accuracy for multiclass, relative RMSE for regression)\n"
                                "               on --data NAME@REF (default: the candidate's test rows), by keel models compare\n"
                                "  data rules   the reference data passes --rules FILE (default rules/DATASET.yaml if present)\n"
                                "Each gate's result is printed; a failed gate changes nothing (exit 1). A switch writes\n"
                                "deployments/NAME.yaml as the next revision: one commit (-m says why) and an audit event."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("model"), QStringLiteral("The model to serve."), QStringLiteral("ref")});
                     p.addOption({QStringLiteral("shadow"), QStringLiteral("A model scored beside it, never returned."), QStringLiteral("ref")});
                     p.addOption({QStringLiteral("canary"), QStringLiteral("A model answering --canary-share of requests."), QStringLiteral("ref")});
                     p.addOption({QStringLiteral("canary-share"), QStringLiteral("Share of traffic for the canary (0 to 1)."), QStringLiteral("share")});
                     p.addOption({QStringLiteral("data"), QStringLiteral("Reference dataset for the performance gate."), QStringLiteral("NAME@REF")});
                     p.addOption({QStringLiteral("rules"), QStringLiteral("Validation rules for the reference data."), QStringLiteral("file")});
                     p.addOption({QStringLiteral("tolerance"), QStringLiteral("How much worse the candidate may be (default 0.005)."),
                                  QStringLiteral("x")});
                     p.addOption({QStringLiteral("m"), QStringLiteral("Why (recorded in the commit)."), QStringLiteral("message")});
                     p.addOption({QStringLiteral("dry-run"), QStringLiteral("Check the gates only; switch nothing.")});
                 },
                 cmdDeploy});
    v.push_back({{QStringLiteral("rollback")}, QStringLiteral("NAME"), QStringLiteral("Return a deployment to an earlier revision"),
                 QStringLiteral("Serves what revision --to N served (default: the revision before the current one) again, as a new\n"
                                "revision, after verifying its bundles: one commit (-m says why) and an audit event."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("to"), QStringLiteral("The revision to return to."), QStringLiteral("N")});
                     p.addOption({QStringLiteral("m"), QStringLiteral("Why (recorded in the commit)."), QStringLiteral("message")});
                 },
                 cmdRollback});
    v.push_back({{QStringLiteral("deployments"), QStringLiteral("list")}, QString(), QStringLiteral("Deployments and what each serves"),
                 QStringLiteral("One line per deployment: its revision, the model version it serves (and the alias asked for), its\n"
                                "shadow and canary, and why it was last switched."),
                 0, 0, {}, cmdList});
    v.push_back({{QStringLiteral("deployments"), QStringLiteral("history")}, QStringLiteral("NAME"),
                 QStringLiteral("Every revision of a deployment: when, what, who and why"),
                 QStringLiteral("The deployment's revisions from git history, oldest first (deploys and rollbacks)."), 1, 1, {},
                 cmdHistory});
    return v;
}

} // namespace keel::cli
