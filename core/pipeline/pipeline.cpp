#include "pipeline/pipeline.h"

#include "data/rules.h"
#include "deploy/deployment.h"
#include "explain/report.h"
#include "ml/slurm.h"
#include "ml/trainingevents.h"
#include "ml/training.h"
#include "registry/registry.h"
#include "ml/sweep.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "util/hash.h"
#include "util/yaml.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QUuid>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QProcessEnvironment>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace keel::pipeline {

namespace {

/// Fields of each kind: required, then optional. Every kind also takes `kind` and `after`.
struct KindFields {
    const char *kind;
    QStringList required, optional;
};

const std::vector<KindFields> &kinds()
{
    static const std::vector<KindFields> k{
        {"validate", {QStringLiteral("data"), QStringLiteral("rules")}, {}},
        {"train", {QStringLiteral("config")}, {}},
        {"gate", {QStringLiteral("run"), QStringLiteral("metric")},
         {QStringLiteral("above"), QStringLiteral("below"), QStringLiteral("not_worse_than"), QStringLiteral("tolerance")}},
        {"register", {QStringLiteral("run"), QStringLiteral("model")}, {QStringLiteral("alias"), QStringLiteral("message")}},
        {"deploy", {QStringLiteral("model"), QStringLiteral("deployment")}, {QStringLiteral("shadow"), QStringLiteral("tolerance"), QStringLiteral("message")}},
        {"explain", {QStringLiteral("run")}, {}},
        {"command", {QStringLiteral("command")}, {}},
    };
    return k;
}

const KindFields *kindOf(const QString &kind)
{
    for (const KindFields &k : kinds())
        if (kind == QLatin1String(k.kind))
            return &k;
    return nullptr;
}

/// The stage a field refers to, for the fields that may name one: run (a train stage), model of deploy (a register
/// stage). Empty when the field holds something else (a model reference).
QString referencedStage(const Stage &s, const QString &field)
{
    if (field == u"run")
        return s.spec.value(field).toString();
    if (field == u"model" && s.kind == u"deploy")
        return s.spec.value(field).toString();
    return {};
}

QString pipelinePath(const QString &name) { return QStringLiteral("pipelines/") + name + QStringLiteral(".yaml"); }
QString experimentOf(const QString &pipeline) { return QStringLiteral("pipeline:") + pipeline; }

QString hashBytes(const QByteArray &bytes) { return toHex(sha256(bytes)); }

/// Reads a workspace-relative file for a stage; errors name the stage and field.
Expected<QByteArray> stageFile(workspace::Workspace &ws, const Stage &s, const QString &field)
{
    const QString rel = s.spec.value(field).toString();
    const QString path = QDir::isAbsolutePath(rel) ? rel : ws.root() + QLatin1Char('/') + rel;
    auto bytes = readFile(path);
    if (!bytes)
        return makeError(ErrorKind::NotFound, QStringLiteral("stage %1: %2").arg(s.name, bytes.error().message), path, -1, field);
    return bytes;
}

QString numText(double v) { return QString::number(v, 'g', 6); }

} // namespace

QStringList stageKinds()
{
    QStringList out;
    for (const KindFields &k : kinds())
        out << QLatin1String(k.kind);
    return out;
}

const Stage *Pipeline::find(const QString &name) const
{
    for (const Stage &s : stages)
        if (s.name == name)
            return &s;
    return nullptr;
}

Expected<Pipeline> Pipeline::fromYaml(const QByteArray &yaml, const QString &source)
{
    auto doc = yaml::parseAsJson(yaml, source);
    if (!doc)
        return doc.error();
    const auto fail = [&](const QString &field, const QString &what) {
        return makeError(ErrorKind::InvalidInput, what, source, yaml::lineOfField(doc->lines, field), field);
    };
    const QJsonObject root = doc->root.toObject();
    for (auto it = root.begin(); it != root.end(); ++it)
        if (it.key() != u"stages")
            return fail(it.key(), QStringLiteral("is not a pipeline setting (stages)"));
    const QJsonObject stages = root.value(QStringLiteral("stages")).toObject();
    if (stages.isEmpty())
        return fail(QStringLiteral("stages"), QStringLiteral("must map stage names to stages (kind: validate, train, gate, register, deploy, explain or command)"));
    // As written: by line (JSON objects sort their keys).
    QStringList names = stages.keys();
    std::stable_sort(names.begin(), names.end(), [&](const QString &a, const QString &b) {
        return yaml::lineOfField(doc->lines, QStringLiteral("stages.") + a) < yaml::lineOfField(doc->lines, QStringLiteral("stages.") + b);
    });
    Pipeline p;
    std::vector<Stage> written;
    for (const QString &name : names) {
        const QString at = QStringLiteral("stages.") + name;
        if (Status s = workspace::validateName(name, QStringLiteral("stage"), at); !s)
            return fail(at, s.error().message);
        const QJsonObject o = stages.value(name).toObject();
        Stage st;
        st.name = name;
        st.line = yaml::lineOfField(doc->lines, at);
        st.kind = o.value(QStringLiteral("kind")).toString();
        const KindFields *k = kindOf(st.kind);
        if (!k)
            return fail(at + QStringLiteral(".kind"), QStringLiteral("'%1' is not a stage kind (%2)").arg(st.kind, stageKinds().join(QStringLiteral(", "))));
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (it.key() == u"kind" || it.key() == u"after")
                continue;
            if (it.key() == u"executor") {
                st.executor = it.value().toString();
                if (st.executor != u"local" && st.executor != u"slurm")
                    return fail(at + QStringLiteral(".executor"), QStringLiteral("must be local or slurm"));
                if (st.executor == u"slurm" && st.kind != u"train")
                    return fail(at + QStringLiteral(".executor"), QStringLiteral("only train stages run on Slurm"));
                continue;
            }
            if (!k->required.contains(it.key()) && !k->optional.contains(it.key()))
                return fail(at + QLatin1Char('.') + it.key(), QStringLiteral("is not a field of a %1 stage (%2)")
                                                                   .arg(st.kind, (k->required + k->optional).join(QStringLiteral(", "))));
            if (!it.value().isString())
                return fail(at + QLatin1Char('.') + it.key(), QStringLiteral("must be a single value"));
            st.spec.insert(it.key(), it.value());
        }
        for (const QString &f : k->required)
            if (st.spec.value(f).toString().trimmed().isEmpty())
                return fail(at, QStringLiteral("a %1 stage needs %2").arg(st.kind, f));
        for (const char *number : {"above", "below", "tolerance"}) {
            const QString f = QString::fromLatin1(number);
            if (!st.spec.contains(f))
                continue;
            bool ok = false;
            const double v = st.spec.value(f).toString().toDouble(&ok);
            if (!ok || !std::isfinite(v))
                return fail(at + QLatin1Char('.') + f, QStringLiteral("must be a number"));
        }
        if (st.kind == u"gate" && !st.spec.contains(QStringLiteral("above")) && !st.spec.contains(QStringLiteral("below"))
            && !st.spec.contains(QStringLiteral("not_worse_than")))
            return fail(at, QStringLiteral("a gate needs above, below or not_worse_than"));
        const QJsonValue after = o.value(QStringLiteral("after"));
        if (!after.isUndefined()) {
            const QJsonArray list = after.isArray() ? after.toArray() : QJsonArray{after};
            for (const QJsonValue &v : list)
                st.needs << v.toString();
        }
        written.push_back(std::move(st));
    }
    // References: a field naming a stage makes it a dependency (and must name one of the right kind).
    const auto stageNamed = [&](const QString &n) -> const Stage * {
        for (const Stage &s : written)
            if (s.name == n)
                return &s;
        return nullptr;
    };
    for (Stage &s : written) {
        const QString at = QStringLiteral("stages.") + s.name;
        for (const QString &n : s.needs)
            if (!stageNamed(n))
                return fail(at + QStringLiteral(".after"), QStringLiteral("no stage called '%1'").arg(n));
        for (const QString &field : {QStringLiteral("run"), QStringLiteral("model")}) {
            const QString ref = referencedStage(s, field);
            if (ref.isEmpty())
                continue;
            const Stage *target = stageNamed(ref);
            if (field == u"run" && (!target || target->kind != u"train"))
                return fail(at + QStringLiteral(".run"), target ? QStringLiteral("'%1' is a %2 stage, not a train stage").arg(ref, target->kind)
                                                                : QStringLiteral("no train stage called '%1'").arg(ref));
            if (field == u"model" && target) {
                if (target->kind != u"register")
                    return fail(at + QStringLiteral(".model"), QStringLiteral("'%1' is a %2 stage, not a register stage").arg(ref, target->kind));
            } else if (field == u"model") {
                continue;   // a model reference such as credit@champion
            }
            if (!s.needs.contains(ref))
                s.needs << ref;
        }
        if (s.needs.contains(s.name))
            return fail(at + QStringLiteral(".after"), QStringLiteral("a stage cannot depend on itself"));
    }
    // Order: repeatedly take the first stage (as written) whose needs are all placed.
    std::set<QString> placed;
    while (p.stages.size() < written.size()) {
        bool progressed = false;
        for (const Stage &s : written) {
            if (placed.count(s.name) || !std::all_of(s.needs.begin(), s.needs.end(), [&](const QString &n) { return placed.count(n) > 0; }))
                continue;
            p.stages.push_back(s);
            placed.insert(s.name);
            progressed = true;
            break;
        }
        if (!progressed) {
            QStringList cycle;
            for (const Stage &s : written)
                if (!placed.count(s.name))
                    cycle << s.name;
            return fail(QStringLiteral("stages.") + cycle.front(), QStringLiteral("the stages %1 depend on each other in a cycle").arg(cycle.join(QStringLiteral(", "))));
        }
    }
    return p;
}

Expected<Pipeline> loadPipeline(workspace::Workspace &ws, const QString &name)
{
    if (Status s = workspace::validateName(name, QStringLiteral("pipeline"), QStringLiteral("PIPELINE")); !s)
        return s.error();
    const QString path = ws.root() + QLatin1Char('/') + pipelinePath(name);
    if (!QFileInfo::exists(path))
        return makeError(ErrorKind::NotFound, QStringLiteral("no pipeline called '%1' (write %2)").arg(name, pipelinePath(name)), path);
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    auto p = Pipeline::fromYaml(*bytes, path);
    if (!p)
        return p.error();
    p->name = name;
    return p;
}

QStringList listPipelines(workspace::Workspace &ws)
{
    QStringList out;
    for (const QString &f : QDir(ws.root() + QStringLiteral("/pipelines")).entryList({QStringLiteral("*.yaml")}, QDir::Files, QDir::Name))
        out << f.chopped(5);
    return out;
}

bool RunReport::ok() const
{
    return std::none_of(stages.begin(), stages.end(), [](const StageResult &s) { return s.status == u"failed" || s.status == u"blocked"; });
}

QJsonObject RunReport::toJson() const
{
    QJsonArray a;
    for (const StageResult &s : stages) {
        QJsonObject o{{QStringLiteral("stage"), s.stage}, {QStringLiteral("kind"), s.kind}, {QStringLiteral("status"), s.status},
                      {QStringLiteral("reason"), s.reason}, {QStringLiteral("key"), s.key}, {QStringLiteral("outputs"), s.outputs},
                      {QStringLiteral("ms"), s.ms}};
        if (!s.runId.isEmpty())
            o.insert(QStringLiteral("run"), s.runId);
        if (!s.error.isEmpty())
            o.insert(QStringLiteral("error"), s.error);
        a.append(o);
    }
    return QJsonObject{{QStringLiteral("pipeline"), pipeline}, {QStringLiteral("run"), runId}, {QStringLiteral("dry_run"), dryRun},
                       {QStringLiteral("ok"), ok()}, {QStringLiteral("stages"), a}};
}

namespace {

/// What a stage reads, as content ids and upstream outputs: the part of its cache key that is not its definition.
Expected<QJsonObject> stageInputs(workspace::Workspace &ws, const Stage &s, const std::map<QString, QJsonObject> &outputs)
{
    QJsonObject in;
    for (const QString &n : s.needs) {
        const auto it = outputs.find(n);
        if (it != outputs.end())
            in.insert(QStringLiteral("upstream.") + n, it->second);
    }
    if (s.kind == u"validate") {
        auto version = workspace::resolveDataset(ws, s.spec.value(QStringLiteral("data")).toString());
        if (!version)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("stage %1: %2").arg(s.name, version.error().message), {}, -1, QStringLiteral("data"));
        in.insert(QStringLiteral("data"), version->ref());
        in.insert(QStringLiteral("content"), version->record.contentId);
        auto rules = stageFile(ws, s, QStringLiteral("rules"));
        if (!rules)
            return rules.error();
        in.insert(QStringLiteral("rules"), hashBytes(*rules));
    } else if (s.kind == u"train") {
        auto text = stageFile(ws, s, QStringLiteral("config"));
        if (!text)
            return text.error();
        in.insert(QStringLiteral("config"), hashBytes(*text));
        const QString rel = s.spec.value(QStringLiteral("config")).toString();
        auto config = ml::TrainingConfig::fromYaml(QString::fromUtf8(*text), rel);
        if (!config)
            return config.error();
        for (const QString &field : {QStringLiteral("data"), QStringLiteral("evaluate")}) {
            const QString ref = field == u"data" ? config->data : config->evaluate;
            if (ref.isEmpty())
                continue;
            auto version = workspace::resolveDataset(ws, ref);
            if (!version)
                return makeError(ErrorKind::InvalidInput, QStringLiteral("stage %1: %2").arg(s.name, version.error().message), rel, -1, field);
            in.insert(field, version->record.contentId);
        }
    } else if (s.kind == u"gate" && s.spec.contains(QStringLiteral("not_worse_than"))) {
        auto champion = registry::resolveVersion(ws, s.spec.value(QStringLiteral("not_worse_than")).toString());
        if (!champion)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("stage %1: %2").arg(s.name, champion.error().message), {}, -1,
                             QStringLiteral("not_worse_than"));
        in.insert(QStringLiteral("champion"), champion->ref());
    } else if (s.kind == u"deploy" && !s.needs.contains(s.spec.value(QStringLiteral("model")).toString())) {
        auto version = registry::resolveVersion(ws, s.spec.value(QStringLiteral("model")).toString());
        if (!version)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("stage %1: %2").arg(s.name, version.error().message), {}, -1, QStringLiteral("model"));
        in.insert(QStringLiteral("version"), version->ref());
    }
    return in;
}

QString cacheKey(const Stage &s, const QJsonObject &inputs)
{
    const QJsonObject all{{QStringLiteral("kind"), s.kind}, {QStringLiteral("spec"), s.spec}, {QStringLiteral("needs"), QJsonArray::fromStringList(s.needs)},
                          {QStringLiteral("keel"), QStringLiteral(KEEL_VERSION_STRING)}, {QStringLiteral("inputs"), inputs}};
    return hashBytes(QJsonDocument(all).toJson(QJsonDocument::Compact));
}

/// The upstream output `field` of stage `s` names (run id of a train stage, version of a register stage).
QString upstream(const Stage &s, const QString &field, const std::map<QString, QJsonObject> &outputs, const char *key)
{
    const QString ref = s.spec.value(field).toString();
    const auto it = outputs.find(ref);
    return it != outputs.end() ? it->second.value(QLatin1String(key)).toString() : ref;
}

/// Runs one stage; its outputs, or an error saying why it failed.
Expected<QJsonObject> execute(workspace::Workspace &ws, const Pipeline &p, const Stage &s, const std::map<QString, QJsonObject> &outputs,
                              Feedback *feedback)
{
    const QJsonObject &spec = s.spec;
    if (s.kind == u"validate") {
        auto version = workspace::resolveDataset(ws, spec.value(QStringLiteral("data")).toString());
        if (!version)
            return version.error();
        const QString rulesRel = spec.value(QStringLiteral("rules")).toString();
        auto rules = data::loadRules(QDir::isAbsolutePath(rulesRel) ? rulesRel : ws.root() + QLatin1Char('/') + rulesRel);
        if (!rules)
            return rules.error();
        auto table = workspace::loadDataset(ws, *version, feedback);
        if (!table)
            return table.error();
        auto report = workspace::validateDataset(ws, *version, *table, *rules, feedback);
        if (!report)
            return report.error();
        if (!report->ok()) {
            QStringList what;
            for (const data::Violation &v : report->violations)
                what << QStringLiteral("%1 %2").arg(v.column, v.rule);
            return makeError(ErrorKind::Failed, QStringLiteral("%1 breaks %2 of %3 rules: %4")
                                                    .arg(version->ref())
                                                    .arg(report->rulesFailed)
                                                    .arg(report->rulesChecked)
                                                    .arg(what.mid(0, 5).join(QStringLiteral(", "))));
        }
        return QJsonObject{{QStringLiteral("data"), version->ref()}, {QStringLiteral("rules_checked"), report->rulesChecked}};
    }
    if (s.kind == u"train" && s.executor == u"slurm") {
        const QString rel = spec.value(QStringLiteral("config")).toString();
        ml::SlurmArray job;
        job.root = ws.root();
        job.configPaths << (QDir::isAbsolutePath(rel) ? rel : ws.root() + QLatin1Char('/') + rel);
        job.jobName = p.name + QLatin1Char('-') + s.name;
        job.dir = ws.keelDir() + QStringLiteral("/slurm/") + QUuid::createUuid().toString(QUuid::WithoutBraces);
        auto jobId = ml::submitSlurmArray(job);
        if (!jobId)
            return jobId.error();
        ml::TrainingOutcome outcome;
        Status waited = ml::waitForSlurmArray(job, *jobId, feedback, [&](const ml::SlurmTaskEnd &end) {
            outcome = ml::trainingOutcomeFromLog(ws.root(), end.logPath, end.exitCode, isCancelled(feedback));
        });
        if (!waited)
            return waited.error();
        const QString log = ml::slurmTaskLog(job, *jobId, 1);
        if (outcome.status != tracking::RunStatus::Finished)
            return makeError(ErrorKind::Failed, QStringLiteral("Slurm job %1: %2 (log: %3)").arg(*jobId, outcome.message, log));
        QJsonObject metrics;
        for (auto it = outcome.metrics.begin(); it != outcome.metrics.end(); ++it)
            metrics.insert(it.key(), it.value().toDouble());
        return QJsonObject{{QStringLiteral("run"), outcome.runId}, {QStringLiteral("metrics"), metrics},
                           {QStringLiteral("slurm_job"), *jobId}};
    }
    if (s.kind == u"train") {
        const QString rel = spec.value(QStringLiteral("config")).toString();
        auto result = ml::runTraining(ws, QDir::isAbsolutePath(rel) ? rel : ws.root() + QLatin1Char('/') + rel, feedback);
        if (!result)
            return result.error();
        QJsonObject metrics;
        for (auto it = result->metrics.begin(); it != result->metrics.end(); ++it)
            metrics.insert(it.key(), it.value().toDouble());
        return QJsonObject{{QStringLiteral("run"), result->runId}, {QStringLiteral("metrics"), metrics}};
    }
    if (s.kind == u"gate") {
        // The metrics the train stage recorded (its outputs, also when it was cached).
        const QString ref = spec.value(QStringLiteral("run")).toString();
        const QString runId = upstream(s, QStringLiteral("run"), outputs, "run");
        const QString metric = spec.value(QStringLiteral("metric")).toString();
        const auto it = outputs.find(ref);
        const QJsonValue recorded = it != outputs.end() ? it->second.value(QStringLiteral("metrics")).toObject().value(metric) : QJsonValue();
        if (!recorded.isDouble())
            return makeError(ErrorKind::InvalidInput, QStringLiteral("run %1 has no metric %2").arg(runId.left(8), metric), {}, -1, QStringLiteral("metric"));
        const std::optional<double> value = recorded.toDouble();
        QStringList failed;
        if (spec.contains(QStringLiteral("above")) && !(*value > spec.value(QStringLiteral("above")).toString().toDouble()))
            failed << QStringLiteral("%1 %2 is not above %3").arg(metric, numText(*value), spec.value(QStringLiteral("above")).toString());
        if (spec.contains(QStringLiteral("below")) && !(*value < spec.value(QStringLiteral("below")).toString().toDouble()))
            failed << QStringLiteral("%1 %2 is not below %3").arg(metric, numText(*value), spec.value(QStringLiteral("below")).toString());
        QJsonObject out{{QStringLiteral("metric"), metric}, {QStringLiteral("value"), *value}};
        if (spec.contains(QStringLiteral("not_worse_than"))) {
            auto champion = registry::resolveVersion(ws, spec.value(QStringLiteral("not_worse_than")).toString());
            if (!champion)
                return champion.error();
            const auto theirs = champion->metric(metric);
            if (!theirs)
                return makeError(ErrorKind::InvalidInput, QStringLiteral("%1 has no metric %2").arg(champion->ref(), metric), {}, -1, QStringLiteral("not_worse_than"));
            const double tolerance = spec.contains(QStringLiteral("tolerance")) ? spec.value(QStringLiteral("tolerance")).toString().toDouble() : 0.005;
            const bool higher = ml::metricIsMaximized(metric);
            const bool worse = higher ? *value < *theirs - tolerance : *value > *theirs + tolerance;
            out.insert(QStringLiteral("champion"), champion->ref());
            out.insert(QStringLiteral("champion_value"), *theirs);
            if (worse)
                failed << QStringLiteral("%1 %2 is worse than %3's %4 beyond the tolerance %5")
                              .arg(metric, numText(*value), champion->ref(), numText(*theirs), numText(tolerance));
        }
        if (!failed.isEmpty())
            return makeError(ErrorKind::Failed, QStringLiteral("the gate is closed: ") + failed.join(QStringLiteral("; ")));
        out.insert(QStringLiteral("passed"), true);
        return out;
    }
    if (s.kind == u"register") {
        const QString runId = upstream(s, QStringLiteral("run"), outputs, "run");
        auto version = registry::registerRun(ws, runId, spec.value(QStringLiteral("model")).toString(),
                                             spec.value(QStringLiteral("message")).toString(QStringLiteral("pipeline %1, stage %2").arg(p.name, s.name)), feedback);
        if (!version)
            return version.error();
        QJsonObject out{{QStringLiteral("version"), version->ref()}, {QStringLiteral("run"), runId}};
        if (const QString alias = spec.value(QStringLiteral("alias")).toString(); !alias.isEmpty()) {
            auto moved = registry::moveAlias(ws, version->ref(), alias, QStringLiteral("pipeline %1, stage %2").arg(p.name, s.name));
            if (!moved)
                return moved.error();
            out.insert(QStringLiteral("alias"), alias);
        }
        return out;
    }
    if (s.kind == u"deploy") {
        deploy::DeployRequest r;
        r.name = spec.value(QStringLiteral("deployment")).toString();
        r.model = upstream(s, QStringLiteral("model"), outputs, "version");
        r.shadow = spec.value(QStringLiteral("shadow")).toString();
        if (spec.contains(QStringLiteral("tolerance")))
            r.tolerance = spec.value(QStringLiteral("tolerance")).toString().toDouble();
        r.message = spec.value(QStringLiteral("message")).toString(QStringLiteral("pipeline %1, stage %2").arg(p.name, s.name));
        auto outcome = deploy::deployModel(ws, r, feedback);
        if (!outcome)
            return outcome.error();
        if (!outcome->gatesPassed()) {
            QStringList failed;
            for (const deploy::GateResult &g : outcome->gates)
                if (!g.passed)
                    failed << g.gate + QStringLiteral(": ") + g.detail;
            return makeError(ErrorKind::Failed, QStringLiteral("a deploy gate failed: ") + failed.join(QStringLiteral("; ")));
        }
        return QJsonObject{{QStringLiteral("deployment"), r.name}, {QStringLiteral("version"), outcome->deployment.model.version},
                           {QStringLiteral("revision"), outcome->deployment.revision}};
    }
    if (s.kind == u"explain") {
        const QString runId = upstream(s, QStringLiteral("run"), outputs, "run");
        auto model = explain::loadRunModel(ws, runId);
        if (!model)
            return model.error();
        explain::ExplainRequest request;
        request.global = true;
        auto result = explain::explainRun(ws, *model, request, feedback);
        if (!result)
            return result.error();
        return QJsonObject{{QStringLiteral("run"), runId}, {QStringLiteral("artifact"), result->artifactName}};
    }
    // command: through /bin/sh in the workspace, with every upstream output in the environment.
    QProcess proc;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("KEEL_PIPELINE"), p.name);
    env.insert(QStringLiteral("KEEL_STAGE"), s.name);
    for (const QString &n : s.needs) {
        const auto it = outputs.find(n);
        if (it == outputs.end())
            continue;
        for (auto o = it->second.begin(); o != it->second.end(); ++o)
            if (o.value().isString() || o.value().isDouble())
                env.insert(QStringLiteral("KEEL_%1_%2").arg(n.toUpper().replace(QLatin1Char('-'), QLatin1Char('_')), o.key().toUpper()),
                           o.value().isString() ? o.value().toString() : QString::number(o.value().toDouble(), 'g', 17));
    }
    proc.setProcessEnvironment(env);
    proc.setWorkingDirectory(ws.root());
    proc.setProcessChannelMode(QProcess::MergedChannels);
    proc.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), spec.value(QStringLiteral("command")).toString()});
    if (!proc.waitForStarted(10000))
        return makeError(ErrorKind::Failed, QStringLiteral("the command did not start: ") + proc.errorString());
    proc.closeWriteChannel();
    QByteArray output;
    while (!proc.waitForFinished(200)) {
        output += proc.readAll();
        if (isCancelled(feedback)) {
            proc.kill();
            proc.waitForFinished(5000);
            return cancelledError();
        }
    }
    output += proc.readAll();
    if (proc.exitStatus() != QProcess::NormalExit || proc.exitCode() != 0)
        return makeError(ErrorKind::Failed, QStringLiteral("the command exited with %1: %2").arg(proc.exitCode()).arg(QString::fromUtf8(output.right(500)).trimmed()));
    return QJsonObject{{QStringLiteral("exit"), 0}, {QStringLiteral("output"), QString::fromUtf8(output.right(2000))}};
}

/// A stage's recorded executions: finished runs of the pipeline's experiment with param cache_key = key, newest first.
struct Recorded {
    QString runId;
    QDateTime when;
    QJsonObject outputs;
};

} // namespace

Expected<RunReport> runPipeline(workspace::Workspace &ws, const RunRequest &request, Feedback *feedback,
                                const std::function<void(const StageResult &)> &onStage)
{
    auto p = loadPipeline(ws, request.pipeline);
    if (!p)
        return p.error();
    for (const QString &f : request.force)
        if (!p->find(f))
            return makeError(ErrorKind::InvalidInput, QStringLiteral("no stage called '%1' in %2").arg(f, request.pipeline), {}, -1, QStringLiteral("force"));
    if (!request.from.isEmpty() && !p->find(request.from))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("no stage called '%1' in %2").arg(request.from, request.pipeline), {}, -1, QStringLiteral("from"));
    // --from: that stage and everything downstream of it (stages are in dependency order).
    std::set<QString> downstream;
    if (!request.from.isEmpty()) {
        downstream.insert(request.from);
        for (const Stage &s : p->stages)
            if (std::any_of(s.needs.begin(), s.needs.end(), [&](const QString &n) { return downstream.count(n) > 0; }))
                downstream.insert(s.name);
    }
    std::set<QString> forced(request.force.begin(), request.force.end());
    forced.insert(downstream.begin(), downstream.end());
    // --without: stages named (or of a kind named) and everything that needs them.
    std::set<QString> leftOut;
    for (const QString &w : request.without)
        if (!p->find(w) && !stageKinds().contains(w))
            return makeError(ErrorKind::InvalidInput, QStringLiteral("'%1' is neither a stage of %2 nor a stage kind").arg(w, request.pipeline), {}, -1,
                             QStringLiteral("without"));
    for (const Stage &s : p->stages)
        if (request.without.contains(s.name) || request.without.contains(s.kind)
            || std::any_of(s.needs.begin(), s.needs.end(), [&](const QString &n) { return leftOut.count(n) > 0; }))
            leftOut.insert(s.name);
    auto store = ws.tracking();
    if (!store)
        return store.error();
    // Finished executions by cache key.
    std::map<QString, Recorded> cache;
    {
        auto summaries = (*store)->runSummaries(experimentOf(p->name));
        if (!summaries)
            return summaries.error();
        for (const tracking::RunSummary &r : *summaries) {
            if (r.run.status != tracking::RunStatus::Finished)
                continue;
            QString key, outputs, stageStatus;
            for (const auto &[k, v] : r.params) {
                if (k == u"cache_key")
                    key = v;
                else if (k == u"outputs")
                    outputs = v;
                else if (k == u"stage_status")
                    stageStatus = v;
            }
            if (key.isEmpty() || stageStatus != u"ran")   // a skip points at the execution that really ran
                continue;
            Recorded rec{r.run.id, r.run.start, QJsonDocument::fromJson(outputs.toUtf8()).object()};
            auto it = cache.find(key);
            if (it == cache.end() || it->second.when < rec.when)
                cache[key] = rec;
        }
    }

    RunReport report;
    report.pipeline = p->name;
    report.dryRun = request.dryRun;
    QByteArray text;
    if (auto bytes = readFile(ws.root() + QLatin1Char('/') + pipelinePath(p->name)))
        text = *bytes;
    if (!request.dryRun) {
        tracking::RunRecord parent;
        parent.experiment = experimentOf(p->name);
        parent.name = p->name;
        parent.config = QString::fromUtf8(text);
        auto id = (*store)->createRun(parent);
        if (!id)
            return id.error();
        report.runId = *id;
    }
    // A cancelled pipeline run is recorded as killed (a failure to record it is reported, the cancel still wins).
    const auto markKilled = [&] {
        if (report.runId.isEmpty())
            return;
        if (Status st = (*store)->finishRun(report.runId, tracking::RunStatus::Killed); !st && feedback)
            feedback->warn(st.error().toString());
    };
    std::map<QString, QJsonObject> outputs;      // known outputs by stage
    std::map<QString, QString> status;           // by stage
    int index = 0;
    for (const Stage &s : p->stages) {
        if (isCancelled(feedback)) {
            markKilled();
            return cancelledError();
        }
        reportProgress(feedback, index++, qint64(p->stages.size()), s.name);
        StageResult r;
        r.stage = s.name;
        r.kind = s.kind;
        // Blocked by a failed upstream stage, or (dry run) waiting for one that would run.
        QString blocker, pendingUpstream;
        for (const QString &n : s.needs) {
            if (status[n] == u"failed" || status[n] == u"blocked")
                blocker = n;
            else if (status[n] == u"would run")
                pendingUpstream = n;
        }
        if (leftOut.count(s.name)) {
            r.status = QStringLiteral("left out");
            r.reason = request.without.contains(s.name) || request.without.contains(s.kind) ? QStringLiteral("--without") : QStringLiteral("it needs a stage left out");
        } else if (!blocker.isEmpty()) {
            r.status = QStringLiteral("blocked");
            r.reason = QStringLiteral("%1 did not succeed").arg(blocker);
        } else if (!pendingUpstream.isEmpty()) {
            r.status = QStringLiteral("would run");
            r.reason = QStringLiteral("an input comes from %1, which would run").arg(pendingUpstream);
        } else {
            auto inputs = stageInputs(ws, s, outputs);
            if (!inputs) {
                r.status = request.dryRun ? QStringLiteral("would run") : QStringLiteral("failed");
                r.error = inputs.error().toString();
                r.reason = QStringLiteral("its inputs cannot be read");
            } else {
                r.key = cacheKey(s, *inputs);
                const auto hit = cache.find(r.key);
                bool valid = hit != cache.end();
                // A deploy is current only while the deployment still serves what it deployed.
                if (valid && s.kind == u"deploy") {
                    auto current = deploy::loadDeployment(ws, s.spec.value(QStringLiteral("deployment")).toString());
                    valid = current && current->model.version == hit->second.outputs.value(QStringLiteral("version")).toString();
                }
                if (forced.count(s.name)) {
                    r.status = request.dryRun ? QStringLiteral("would run") : QString();
                    r.reason = request.force.contains(s.name) ? QStringLiteral("forced (--force)") : QStringLiteral("forced (--from %1)").arg(request.from);
                } else if (valid) {
                    r.status = request.dryRun ? QStringLiteral("would skip") : QStringLiteral("cached");
                    r.reason = QStringLiteral("ran on these inputs at %1 (run %2)").arg(hit->second.when.toString(Qt::ISODate), hit->second.runId.left(8));
                    r.outputs = hit->second.outputs;
                    r.runId = hit->second.runId;
                } else {
                    r.status = request.dryRun ? QStringLiteral("would run") : QString();
                    r.reason = hit != cache.end() ? QStringLiteral("the deployment serves something else now") : QStringLiteral("no earlier run on these inputs");
                }
            }
        }
        if (r.status.isEmpty()) {
            // Run it.
            StageResult running = r;
            running.status = QStringLiteral("running");
            if (onStage)
                onStage(running);
            QElapsedTimer clock;
            clock.start();
            auto out = execute(ws, *p, s, outputs, feedback);
            r.ms = clock.elapsed();
            if (!out && out.error().kind == ErrorKind::Cancelled) {
                markKilled();
                return out.error();
            }
            r.status = out ? QStringLiteral("ran") : QStringLiteral("failed");
            if (out)
                r.outputs = *out;
            else
                r.error = out.error().toString();
        }
        if (!request.dryRun && (r.status == u"ran" || r.status == u"failed" || r.status == u"cached" || r.status == u"blocked")) {
            tracking::RunRecord child;
            child.experiment = experimentOf(p->name);
            child.name = s.name;
            child.parentRunId = report.runId;
            auto id = (*store)->createRun(child);
            if (!id)
                return id.error();
            std::vector<std::pair<QString, QString>> params{{QStringLiteral("stage"), s.name}, {QStringLiteral("kind"), s.kind},
                                                            {QStringLiteral("stage_status"), r.status}, {QStringLiteral("reason"), r.reason},
                                                            {QStringLiteral("ms"), QString::number(r.ms)}};
            if (!r.key.isEmpty() && (r.status == u"ran" || r.status == u"cached"))
                params.push_back({QStringLiteral("cache_key"), r.key});
            params.push_back({QStringLiteral("outputs"), QString::fromUtf8(QJsonDocument(r.outputs).toJson(QJsonDocument::Compact))});
            if (!r.error.isEmpty())
                params.push_back({QStringLiteral("error"), r.error});
            if (r.status == u"cached")
                params.push_back({QStringLiteral("cached_from"), r.runId});
            if (Status st = (*store)->setParams(*id, params); !st)
                return st.error();
            if (Status st = (*store)->finishRun(*id, r.status == u"ran" || r.status == u"cached" ? tracking::RunStatus::Finished : tracking::RunStatus::Failed); !st)
                return st.error();
            if (r.status == u"ran") {
                r.runId = *id;
                cache[r.key] = Recorded{*id, QDateTime::currentDateTimeUtc(), r.outputs};
            }
        }
        status[s.name] = r.status;
        if (r.status == u"ran" || r.status == u"cached" || r.status == u"would skip")
            outputs[s.name] = r.outputs;
        if (onStage)
            onStage(r);
        report.stages.push_back(std::move(r));
    }
    reportProgress(feedback, qint64(p->stages.size()), qint64(p->stages.size()), QStringLiteral("done"));
    if (!request.dryRun) {
        if (Status st = (*store)->finishRun(report.runId, report.ok() ? tracking::RunStatus::Finished : tracking::RunStatus::Failed); !st)
            return st.error();
        QJsonArray stages;
        for (const StageResult &r : report.stages)
            stages.append(QJsonObject{{QStringLiteral("stage"), r.stage}, {QStringLiteral("status"), r.status}, {QStringLiteral("outputs"), r.outputs}});
        if (Status st = ws.audit(QStringLiteral("pipeline.run"), QStringLiteral("pipeline:") + p->name,
                                 QJsonObject{{QStringLiteral("run"), report.runId}, {QStringLiteral("ok"), report.ok()}, {QStringLiteral("stages"), stages}});
            !st)
            return st.error();
    }
    return report;
}

Expected<std::map<QString, StageState>> lastStageStates(workspace::Workspace &ws, const QString &pipeline)
{
    auto store = ws.tracking();
    if (!store)
        return store.error();
    auto summaries = (*store)->runSummaries(experimentOf(pipeline));
    if (!summaries)
        return summaries.error();
    std::map<QString, StageState> out;
    for (const tracking::RunSummary &r : *summaries) {
        if (r.run.parentRunId.isEmpty())
            continue;
        StageState st;
        st.when = r.run.start;
        for (const auto &[k, v] : r.params) {
            if (k == u"stage_status")
                st.status = v;
            else if (k == u"cache_key")
                st.key = v;
        }
        auto &slot = out[r.run.name];
        if (!slot.when.isValid() || slot.when <= st.when)
            slot = st;
    }
    return out;
}

} // namespace keel::pipeline
