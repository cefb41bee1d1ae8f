// keel run PIPELINE, keel pipelines list: parses, calls core/pipeline, prints.
#include "commands.h"

#include "pipeline/ci.h"
#include "pipeline/pipeline.h"
#include "util/fileutil.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>

namespace keel::cli {

namespace {

QString outputsText(const QJsonObject &o)
{
    QStringList parts;
    for (const char *key : {"data", "run", "version", "alias", "revision", "value", "artifact"}) {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isString())
            parts << QStringLiteral("%1 %2").arg(QLatin1String(key), key == std::string_view("run") ? v.toString().left(8) : v.toString());
        else if (v.isDouble())
            parts << QStringLiteral("%1 %2").arg(QLatin1String(key)).arg(v.toDouble(), 0, 'g', 6);
    }
    return parts.join(QStringLiteral(", "));
}

int cmdRun(Context &ctx)
{
    pipeline::RunRequest r;
    r.pipeline = ctx.args().at(0);
    r.dryRun = ctx.parser.isSet(QStringLiteral("dry-run"));
    r.force = ctx.parser.values(QStringLiteral("force"));
    r.from = ctx.parser.value(QStringLiteral("from"));
    r.without = ctx.parser.values(QStringLiteral("without"));
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const bool text = !ctx.json();
    auto report = pipeline::runPipeline(*ws, r, ctx.feedback(), [&](const pipeline::StageResult &s) {
        if (!text || s.status == u"running")
            return;
        ctx.endProgress();
        ctx.out << QStringLiteral("%1  %2  %3").arg(s.stage, -12).arg(s.status, -10).arg(s.status == u"ran" || s.status == u"failed"
                                                                                           ? QStringLiteral("%1 s").arg(double(s.ms) / 1000.0, 0, 'f', 1)
                                                                                           : QString(),
                                                                                       -7)
                << s.reason;
        if (const QString outputs = outputsText(s.outputs); !outputs.isEmpty())
            ctx.out << " · " << outputs;
        ctx.out << '\n';
        if (!s.error.isEmpty())
            ctx.out << "              " << s.error << '\n';
        ctx.out.flush();
    });
    ctx.endProgress();
    if (!report)
        return ctx.fail(report.error());
    if (ctx.json()) {
        ctx.printJson(report->toJson());
    } else if (!r.dryRun) {
        int ran = 0, cached = 0;
        for (const pipeline::StageResult &s : report->stages) {
            ran += s.status == u"ran" ? 1 : 0;
            cached += s.status == u"cached" ? 1 : 0;
        }
        ctx.out << r.pipeline << ": " << ran << " ran, " << cached << " skipped (same inputs as before)"
                << (report->ok() ? QString() : QStringLiteral(", some failed")) << "; recorded as run " << report->runId.left(8)
                << " of experiment pipeline:" << r.pipeline << '\n';
    }
    return report->ok() ? 0 : 1;
}

int cmdList(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    QJsonArray all;
    std::vector<QStringList> rows;
    for (const QString &name : pipeline::listPipelines(*ws)) {
        auto p = pipeline::loadPipeline(*ws, name);
        if (!p)
            return ctx.fail(p.error());
        auto states = pipeline::lastStageStates(*ws, name);
        if (!states)
            return ctx.fail(states.error());
        QStringList stages;
        QJsonArray js;
        for (const pipeline::Stage &s : p->stages) {
            const auto it = states->find(s.name);
            const QString last = it == states->end() ? QStringLiteral("never ran") : it->second.status;
            stages << QStringLiteral("%1 (%2)").arg(s.name, last);
            js.append(QJsonObject{{QStringLiteral("stage"), s.name}, {QStringLiteral("kind"), s.kind},
                                  {QStringLiteral("needs"), QJsonArray::fromStringList(s.needs)}, {QStringLiteral("last"), last}});
        }
        rows.push_back({name, stages.join(QStringLiteral(" → "))});
        all.append(QJsonObject{{QStringLiteral("pipeline"), name}, {QStringLiteral("stages"), js}});
    }
    if (ctx.json()) {
        ctx.printJson(QJsonObject{{QStringLiteral("pipelines"), all}});
        return 0;
    }
    if (rows.empty()) {
        ctx.out << "no pipelines yet (write pipelines/NAME.yaml; keel run --help shows the format)\n";
        return 0;
    }
    ctx.out << formatTable({QStringLiteral("pipeline"), QStringLiteral("stages in order (last status)")}, rows, {});
    return 0;
}

int cmdCiInit(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto t = pipeline::ciTemplate(*ws, ctx.args().at(0));
    if (!t)
        return ctx.fail(t.error());
    const QString path = ws->root() + QLatin1Char('/') + t->path;
    if (QFileInfo::exists(path) && !ctx.parser.isSet(QStringLiteral("force")))
        return ctx.fail(makeError(ErrorKind::Conflict, QStringLiteral("exists already (--force replaces it)"), path));
    QDir().mkpath(QFileInfo(path).absolutePath());
    if (Status s = writeFileAtomic(path, t->text); !s)
        return ctx.fail(s.error());
    if (ctx.json()) {
        QJsonArray jobs;
        for (const pipeline::CiJob &j : t->jobs)
            jobs.append(QJsonObject{{QStringLiteral("job"), j.name}, {QStringLiteral("manual"), j.manual},
                                    {QStringLiteral("commands"), QJsonArray::fromStringList(j.commands)}});
        ctx.printJson(QJsonObject{{QStringLiteral("path"), t->path}, {QStringLiteral("jobs"), jobs}});
        return 0;
    }
    ctx.out << "wrote " << t->path << '\n';
    for (const pipeline::CiJob &j : t->jobs) {
        ctx.out << '\n' << j.name << (j.manual ? " (after approval)" : "") << ":\n";
        for (const QString &c : j.commands)
            ctx.out << "  " << c << '\n';
    }
    return 0;
}

} // namespace

std::vector<Command> pipelineCommands()
{
    std::vector<Command> v;
    v.push_back({{QStringLiteral("run")}, QStringLiteral("PIPELINE"), QStringLiteral("Run a pipeline's stages, skipping those whose inputs did not change"),
                 QStringLiteral("Runs pipelines/PIPELINE.yaml: stages in the order their inputs need, each skipped when it already\n"
                                "ran on the same inputs (content ids of data, config and rule files, upstream outputs, its own\n"
                                "definition and Keel's version). A failed stage blocks the stages that need it. Exit 1 when a\n"
                                "stage failed. The file:\n\n"
                                "  stages:\n"
                                "    validate: {kind: validate, data: adult_train, rules: rules/adult_train.yaml}\n"
                                "    train:    {kind: train, config: configs/adult-logistic.yaml, after: [validate]}\n"
                                "    gate:     {kind: gate, run: train, metric: test.roc_auc, above: 0.85}\n"
                                "                # or not_worse_than: MODEL@ALIAS (its recorded metric), tolerance: 0.005\n"
                                "    register: {kind: register, run: train, model: credit, alias: challenger, after: [gate]}\n"
                                "    deploy:   {kind: deploy, model: register, deployment: credit}\n"
                                "    explain:  {kind: explain, run: train}\n"
                                "    notify:   {kind: command, command: \"echo $KEEL_REGISTER_VERSION\", after: [deploy]}\n\n"
                                "Each run is recorded in the tracking store (experiment pipeline:PIPELINE) and the audit trail."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("dry-run"), QStringLiteral("Print what would run and why; run and record nothing.")});
                     p.addOption({QStringLiteral("force"), QStringLiteral("Run this stage even when cached (repeatable)."), QStringLiteral("STAGE")});
                     p.addOption({QStringLiteral("from"), QStringLiteral("Run this stage and everything after it."), QStringLiteral("STAGE")});
                     p.addOption({QStringLiteral("without"), QStringLiteral("Leave out this stage or kind (e.g. deploy) and what needs it (repeatable)."),
                                  QStringLiteral("STAGE|KIND")});
                 },
                 cmdRun});
    v.push_back({{QStringLiteral("pipelines"), QStringLiteral("list")}, QString(), QStringLiteral("Pipelines and the last status of each stage"),
                 QStringLiteral("Lists pipelines/*.yaml with their stages in order and each stage's last recorded status."), 0, 0, {}, cmdList});
    v.push_back({{QStringLiteral("ci"), QStringLiteral("init")}, QStringLiteral("github|gitlab"), QStringLiteral("Write a CI workflow that runs the pipelines"),
                 QStringLiteral("Writes .github/workflows/keel.yml (github) or .gitlab-ci.yml (gitlab): a check job that pulls the\n"
                                "data, validates every dataset that has rules/NAME.yaml, runs each pipeline without its deploy\n"
                                "stages and compares each candidate alias with its model's champion; and a deploy job that runs\n"
                                "the pipelines in full only after a person approves (GitHub: the production environment's\n"
                                "reviewers; GitLab: a manual job). Prints the steps. --force replaces an existing file."),
                 1, 1, [](QCommandLineParser &p) { p.addOption({QStringLiteral("force"), QStringLiteral("Replace an existing workflow file.")}); },
                 cmdCiInit});
    return v;
}

} // namespace keel::cli
