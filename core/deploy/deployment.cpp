#include "deploy/deployment.h"

#include "data/rules.h"
#include "registry/compare.h"
#include "registry/registry.h"
#include "util/fileutil.h"
#include "util/yaml.h"
#include "workspace/datasets.h"
#include "workspace/gitrepo.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QLocale>
#include <QMap>

#include <cmath>

namespace keel::deploy {

namespace {

QString filePath(const QString &name) { return QStringLiteral("deployments/") + name + QStringLiteral(".yaml"); }

QJsonObject servedJson(const ServedModel &m)
{
    return QJsonObject{{QStringLiteral("requested"), m.requested}, {QStringLiteral("version"), m.version},
                       {QStringLiteral("bundle"), m.bundle}};
}

Expected<ServedModel> servedFromJson(const QJsonValue &v, const QString &field, const QString &source)
{
    ServedModel m;
    if (v.isUndefined() || v.isNull())
        return m;
    const QJsonObject o = v.toObject();
    m.requested = o.value(QStringLiteral("requested")).toString();
    m.version = o.value(QStringLiteral("version")).toString();
    m.bundle = o.value(QStringLiteral("bundle")).toString();
    if (m.version.isEmpty() || m.bundle.isEmpty())
        return makeError(ErrorKind::Corrupt, QStringLiteral("needs a version and a bundle"), source, -1, field);
    return m;
}

QString num(double v) { return std::isfinite(v) ? QString::number(v, 'g', 4) : QStringLiteral("-"); }

/// The gate that loads every served model's bundle: its hash and every member's hash must verify.
GateResult bundleGate(workspace::Workspace &ws, const std::vector<const ServedModel *> &models)
{
    GateResult g{QStringLiteral("bundle"), true, false, {}};
    QStringList checked;
    for (const ServedModel *m : models) {
        if (!m->isSet())
            continue;
        auto v = registry::resolveVersion(ws, m->version);
        if (!v) {
            g.passed = false;
            g.detail = v.error().toString();
            return g;
        }
        if (v->bundle != m->bundle) {
            g.passed = false;
            g.detail = QStringLiteral("%1's bundle is %2, not the recorded %3").arg(m->version, v->bundle.left(12), m->bundle.left(12));
            return g;
        }
        auto loaded = registry::loadVersion(ws, *v);
        if (!loaded) {
            g.passed = false;
            g.detail = QStringLiteral("%1: %2").arg(m->version, loaded.error().toString());
            return g;
        }
        checked << m->version;
    }
    g.detail = QStringLiteral("%1: every member's SHA-256 matches its manifest").arg(checked.join(QStringLiteral(", ")));
    return g;
}

/// Requests sent to the deployed model must still score: every input the candidate reads is an input the deployed
/// one read, of the same column type.
GateResult schemaGate(const registry::ModelVersion &candidate, const registry::ModelVersion *current)
{
    GateResult g{QStringLiteral("schema"), true, false, {}};
    if (!current) {
        g.skipped = true;
        g.detail = QStringLiteral("first deployment: no served schema to stay compatible with");
        return g;
    }
    QMap<QString, const registry::FeatureSchema *> served;
    for (const registry::FeatureSchema &f : current->schema)
        served.insert(f.name, &f);
    QStringList missing, retyped, newCategories;
    for (const registry::FeatureSchema &f : candidate.schema) {
        const auto it = served.find(f.name);
        if (it == served.end()) {
            missing << f.name;
        } else if ((*it)->type != f.type) {
            retyped << QStringLiteral("%1 (%2, was %3)").arg(f.name, f.type, (*it)->type);
        } else {
            for (const QString &c : (*it)->categories)
                if (!f.categories.contains(c)) {
                    newCategories << QStringLiteral("%1=%2").arg(f.name, c);
                    break;
                }
        }
    }
    if (!missing.isEmpty() || !retyped.isEmpty()) {
        g.passed = false;
        QStringList parts;
        if (!missing.isEmpty())
            parts << QStringLiteral("inputs %1 serves without: %2").arg(current->ref(), missing.join(QStringLiteral(", ")));
        if (!retyped.isEmpty())
            parts << QStringLiteral("inputs of another type: %1").arg(retyped.join(QStringLiteral(", ")));
        g.detail = parts.join(QStringLiteral("; "));
        return g;
    }
    g.detail = QStringLiteral("%1 inputs, all served by %2 with the same types").arg(candidate.schema.size()).arg(current->ref());
    if (!newCategories.isEmpty())
        g.detail += QStringLiteral(" (categories %1 did not see in training are scored as unseen: %2)")
                        .arg(candidate.ref(), newCategories.join(QStringLiteral(", ")));
    return g;
}

/// The metric a performance gate compares: ROC AUC (binary), accuracy (multiclass), RMSE (regression).
QString gateMetric(ml::Task task)
{
    switch (task) {
    case ml::Task::BinaryClassification: return QStringLiteral("roc_auc");
    case ml::Task::MulticlassClassification: return QStringLiteral("accuracy");
    case ml::Task::Regression: break;
    }
    return QStringLiteral("rmse");
}

GateResult performanceGate(workspace::Workspace &ws, const registry::ModelVersion &candidate,
                           const registry::ModelVersion *current, const DeployRequest &request, QString *dataUsed,
                           Feedback *feedback)
{
    GateResult g{QStringLiteral("performance"), true, false, {}};
    if (!current || current->ref() == candidate.ref()) {
        g.skipped = true;
        g.detail = current ? QStringLiteral("%1 is already served").arg(candidate.ref())
                           : QStringLiteral("first deployment: no served model to compare with");
        return g;
    }
    registry::CompareRequest cr;
    cr.a = current->ref();
    cr.b = candidate.ref();
    cr.data = request.data;
    cr.bootstrap = request.bootstrap;
    auto c = registry::compareVersions(ws, cr, feedback);
    if (!c) {
        g.passed = false;
        g.detail = QStringLiteral("cannot compare with %1: %2").arg(current->ref(), c.error().toString());
        return g;
    }
    *dataUsed = c->data;
    const QString metric = gateMetric(candidate.task);
    for (const registry::MetricComparison &m : c->metrics) {
        if (m.metric != metric)
            continue;
        // How much worse the candidate is (positive = worse), and the allowance.
        const double worse = m.higherIsBetter ? m.a - m.b : m.b - m.a;
        const double allowed = m.higherIsBetter ? request.tolerance : request.tolerance * std::abs(m.a);
        g.passed = !(worse > allowed);
        g.detail = QStringLiteral("%1 on %2: %3 %4, %5 %6 (%7 %8; allowed %9 worse)")
                       .arg(metric, c->rowsDescription, current->ref(), num(m.a), candidate.ref(), num(m.b),
                            worse > 0 ? QStringLiteral("worse by") : QStringLiteral("better by"), num(std::abs(worse)),
                            m.higherIsBetter ? num(allowed) : QStringLiteral("%1%").arg(num(100 * request.tolerance)));
        return g;
    }
    g.passed = false;
    g.detail = QStringLiteral("the comparison has no %1").arg(metric);
    return g;
}

GateResult rulesGate(workspace::Workspace &ws, const registry::ModelVersion &candidate, const DeployRequest &request,
                     const QString &dataUsed, Feedback *feedback)
{
    GateResult g{QStringLiteral("data rules"), true, false, {}};
    QString ref = !request.data.isEmpty() ? request.data : dataUsed;
    if (ref.isEmpty())
        ref = !candidate.data.evaluate.isEmpty() ? candidate.data.evaluate : candidate.data.train;
    const QString dataset = ref.section(QLatin1Char('@'), 0, 0);
    QString rulesPath = request.rules;
    if (rulesPath.isEmpty()) {
        const QString fallback = ws.root() + QStringLiteral("/rules/") + dataset + QStringLiteral(".yaml");
        if (!QFileInfo::exists(fallback)) {
            g.skipped = true;
            g.detail = QStringLiteral("no rules for %1 (give --rules FILE or keep them in rules/%2.yaml)").arg(ref, dataset);
            return g;
        }
        rulesPath = fallback;
    }
    auto rules = data::loadRules(rulesPath);
    if (!rules) {
        g.passed = false;
        g.detail = rules.error().toString();
        return g;
    }
    auto version = workspace::resolveDataset(ws, ref);
    if (!version) {
        g.passed = false;
        g.detail = version.error().toString();
        return g;
    }
    auto table = workspace::loadDataset(ws, *version, feedback);
    if (!table) {
        g.passed = false;
        g.detail = table.error().toString();
        return g;
    }
    auto report = workspace::validateDataset(ws, *version, *table, *rules, feedback);
    if (!report) {
        g.passed = false;
        g.detail = report.error().toString();
        return g;
    }
    g.passed = report->ok();
    g.detail = QStringLiteral("%1 against %2: %3 of %4 rules fail")
                   .arg(version->ref(), QDir(ws.root()).relativeFilePath(rulesPath))
                   .arg(report->rulesFailed)
                   .arg(report->rulesChecked);
    return g;
}

Expected<ServedModel> resolveServed(workspace::Workspace &ws, const QString &ref, registry::ModelVersion *out = nullptr)
{
    ServedModel m;
    if (ref.isEmpty())
        return m;
    auto v = registry::resolveVersion(ws, ref);
    if (!v)
        return v.error();
    m.requested = ref;
    m.version = v->ref();
    m.bundle = v->bundle;
    if (out)
        *out = *v;
    return m;
}

bool sameServing(const Deployment &a, const Deployment &b)
{
    return a.model.version == b.model.version && a.shadow.version == b.shadow.version && a.canary.version == b.canary.version
           && a.canaryShare == b.canaryShare;
}

/// Writes `next` as the deployment's next revision (one commit and an audit event) and records the switch in `out`.
Status commitRevision(workspace::Workspace &ws, Deployment &next, const QString &action, const QString &message, DeployOutcome &out)
{
    if (auto who = ws.git().signature(); who)
        next.author = *who;
    next.time = QDateTime::currentDateTimeUtc();
    QJsonObject detail{{QStringLiteral("revision"), next.revision}, {QStringLiteral("model"), next.model.version},
                       {QStringLiteral("bundle"), next.model.bundle}};
    if (next.shadow.isSet())
        detail.insert(QStringLiteral("shadow"), next.shadow.version);
    if (next.canary.isSet())
        detail.insert(QStringLiteral("canary"), QJsonObject{{QStringLiteral("version"), next.canary.version},
                                                            {QStringLiteral("share"), next.canaryShare}});
    if (next.rolledBackTo)
        detail.insert(QStringLiteral("rolled_back_to"), *next.rolledBackTo);
    if (!next.message.isEmpty())
        detail.insert(QStringLiteral("message"), next.message);
    auto commit = ws.commitAndAudit({{filePath(next.name), next.toYaml()}}, message, action, QStringLiteral("deployment:") + next.name, detail);
    if (!commit)
        return commit.error();
    out.deployed = true;
    out.commit = *commit;
    next.commit = *commit;
    out.deployment = next;
    return Status::ok();
}

} // namespace

bool DeployOutcome::gatesPassed() const
{
    for (const GateResult &g : gates)
        if (!g.passed)
            return false;
    return true;
}

QByteArray Deployment::toYaml() const
{
    QJsonObject o{{QStringLiteral("name"), name}, {QStringLiteral("revision"), revision}, {QStringLiteral("model"), servedJson(model)}};
    if (shadow.isSet())
        o.insert(QStringLiteral("shadow"), servedJson(shadow));
    if (canary.isSet()) {
        QJsonObject c = servedJson(canary);
        c.insert(QStringLiteral("share"), canaryShare);
        o.insert(QStringLiteral("canary"), c);
    }
    QJsonArray g;
    for (const GateResult &r : gates)
        g.append(QJsonObject{{QStringLiteral("gate"), r.gate},
                             {QStringLiteral("result"), r.skipped ? QStringLiteral("skipped") : r.passed ? QStringLiteral("passed")
                                                                                                           : QStringLiteral("failed")},
                             {QStringLiteral("detail"), r.detail}});
    o.insert(QStringLiteral("gates"), g);
    if (rolledBackTo)
        o.insert(QStringLiteral("rolled_back_to"), *rolledBackTo);
    o.insert(QStringLiteral("message"), message);
    return "# Keel deployment: the model version this endpoint serves. Written by keel deploy / keel rollback.\n"
           + yaml::emitJson(o);
}

Expected<Deployment> Deployment::fromYaml(const QByteArray &yaml, const QString &source)
{
    auto doc = yaml::parseAsJson(yaml, source);
    if (!doc)
        return doc.error();
    const QJsonObject o = doc->root.toObject();
    Deployment d;
    d.name = o.value(QStringLiteral("name")).toString();
    bool ok = false;
    d.revision = o.value(QStringLiteral("revision")).toString().toInt(&ok);
    if (!ok || d.revision < 1)
        return makeError(ErrorKind::Corrupt, QStringLiteral("must be a whole number from 1"), source,
                         yaml::lineOfField(doc->lines, QStringLiteral("revision")), QStringLiteral("revision"));
    auto model = servedFromJson(o.value(QStringLiteral("model")), QStringLiteral("model"), source);
    if (!model)
        return model.error();
    if (!model->isSet())
        return makeError(ErrorKind::Corrupt, QStringLiteral("is missing"), source, -1, QStringLiteral("model"));
    d.model = *model;
    auto shadow = servedFromJson(o.value(QStringLiteral("shadow")), QStringLiteral("shadow"), source);
    if (!shadow)
        return shadow.error();
    d.shadow = *shadow;
    auto canary = servedFromJson(o.value(QStringLiteral("canary")), QStringLiteral("canary"), source);
    if (!canary)
        return canary.error();
    d.canary = *canary;
    if (d.canary.isSet()) {
        d.canaryShare = o.value(QStringLiteral("canary")).toObject().value(QStringLiteral("share")).toString().toDouble(&ok);
        if (!ok || !(d.canaryShare > 0 && d.canaryShare < 1))
            return makeError(ErrorKind::Corrupt, QStringLiteral("must be a share between 0 and 1"), source, -1,
                             QStringLiteral("canary.share"));
    }
    for (const QJsonValue &v : o.value(QStringLiteral("gates")).toArray()) {
        const QJsonObject g = v.toObject();
        const QString result = g.value(QStringLiteral("result")).toString();
        d.gates.push_back({g.value(QStringLiteral("gate")).toString(), result != u"failed", result == u"skipped",
                           g.value(QStringLiteral("detail")).toString()});
    }
    if (o.contains(QStringLiteral("rolled_back_to")))
        d.rolledBackTo = o.value(QStringLiteral("rolled_back_to")).toString().toInt();
    d.message = o.value(QStringLiteral("message")).toString();
    return d;
}

Expected<Deployment> loadDeployment(workspace::Workspace &ws, const QString &name)
{
    if (Status s = workspace::validateName(name, QStringLiteral("deployment"), QStringLiteral("NAME")); !s)
        return s.error();
    const QString path = ws.root() + QLatin1Char('/') + filePath(name);
    if (!QFileInfo::exists(path))
        return makeError(ErrorKind::NotFound, QStringLiteral("no deployment named '%1' (see keel deployments list)").arg(name));
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    auto d = Deployment::fromYaml(*bytes, path);
    if (!d)
        return d.error();
    if (d->name != name)
        return makeError(ErrorKind::Corrupt, QStringLiteral("the file calls the deployment '%1'").arg(d->name), path, -1,
                         QStringLiteral("name"));
    return d;
}

Expected<std::vector<Deployment>> listDeployments(workspace::Workspace &ws)
{
    std::vector<Deployment> out;
    const QDir dir(ws.root() + QStringLiteral("/deployments"));
    for (const QString &file : dir.entryList({QStringLiteral("*.yaml")}, QDir::Files, QDir::Name)) {
        auto d = loadDeployment(ws, file.chopped(5));
        if (!d)
            return d.error();
        out.push_back(std::move(*d));
    }
    return out;
}

Expected<std::vector<Deployment>> deploymentHistory(workspace::Workspace &ws, const QString &name)
{
    if (Status s = workspace::validateName(name, QStringLiteral("deployment"), QStringLiteral("NAME")); !s)
        return s.error();
    auto commits = ws.git().historyOf(filePath(name));
    if (!commits)
        return commits.error();
    std::vector<Deployment> out;
    for (const workspace::CommitInfo &c : *commits) {
        auto bytes = ws.git().readFileAt(c.id, filePath(name));
        if (!bytes)
            return bytes.error();
        if (!*bytes)
            continue;   // deleted in this commit
        auto d = Deployment::fromYaml(**bytes, filePath(name) + QLatin1Char('@') + c.id.left(10));
        if (!d)
            return d.error();
        d->author = c.author;
        d->time = c.time;
        d->commit = c.id;
        out.push_back(std::move(*d));
    }
    if (out.empty())
        return makeError(ErrorKind::NotFound, QStringLiteral("no deployment named '%1' in the history").arg(name));
    return out;
}

Expected<DeployOutcome> deployModel(workspace::Workspace &ws, const DeployRequest &request, Feedback *feedback)
{
    if (Status s = workspace::validateName(request.name, QStringLiteral("deployment"), QStringLiteral("NAME")); !s)
        return s.error();
    if (request.model.isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("name the model to deploy"), {}, -1, QStringLiteral("model"));
    if (request.canary.isEmpty() != !(request.canaryShare > 0))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("a canary needs a model and a share, and a share a canary model"),
                         {}, -1, QStringLiteral("canary"));
    if (!request.canary.isEmpty() && !(request.canaryShare > 0 && request.canaryShare < 1))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("the canary share must be between 0 and 1"), {}, -1,
                         QStringLiteral("canary-share"));
    if (!(request.tolerance >= 0) || !std::isfinite(request.tolerance))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("the tolerance must not be negative"), {}, -1, QStringLiteral("tolerance"));
    auto lock = ws.lock();
    if (!lock)
        return lock.error();

    DeployOutcome out;
    Deployment next;
    next.name = request.name;
    next.message = request.message;
    registry::ModelVersion candidate;
    auto model = resolveServed(ws, request.model, &candidate);
    if (!model)
        return model.error();
    next.model = *model;
    auto shadow = resolveServed(ws, request.shadow);
    if (!shadow)
        return shadow.error();
    next.shadow = *shadow;
    auto canary = resolveServed(ws, request.canary);
    if (!canary)
        return canary.error();
    next.canary = *canary;
    next.canaryShare = next.canary.isSet() ? request.canaryShare : 0;

    std::optional<Deployment> current;
    if (auto d = loadDeployment(ws, request.name); d)
        current = std::move(*d);
    else if (!d.is(ErrorKind::NotFound))
        return d.error();
    std::optional<registry::ModelVersion> served;
    if (current) {
        auto v = registry::resolveVersion(ws, current->model.version);
        if (!v)
            return v.error();
        served = std::move(*v);
    }
    next.revision = current ? current->revision + 1 : 1;
    if (current && sameServing(*current, next)) {
        out.unchanged = true;
        out.deployment = *current;
        return out;
    }

    // The gates, in order; every one runs so that the user sees them all.
    reportProgress(feedback, 0, 4, QStringLiteral("bundle"));
    out.gates.push_back(bundleGate(ws, {&next.model, &next.shadow, &next.canary}));
    reportProgress(feedback, 1, 4, QStringLiteral("schema"));
    out.gates.push_back(schemaGate(candidate, served ? &*served : nullptr));
    for (const ServedModel *extra : {&next.shadow, &next.canary}) {
        if (!extra->isSet())
            continue;
        auto v = registry::resolveVersion(ws, extra->version);
        if (!v)
            return v.error();
        if (v->task != candidate.task || v->classes != candidate.classes)
            out.gates.push_back({QStringLiteral("schema"), false, false,
                                 QStringLiteral("%1 answers another task or other classes than %2").arg(v->ref(), candidate.ref())});
    }
    reportProgress(feedback, 2, 4, QStringLiteral("performance"));
    QString dataUsed;
    out.gates.push_back(performanceGate(ws, candidate, served ? &*served : nullptr, request, &dataUsed, feedback));
    if (isCancelled(feedback))
        return cancelledError();
    reportProgress(feedback, 3, 4, QStringLiteral("data rules"));
    out.gates.push_back(rulesGate(ws, candidate, request, dataUsed, feedback));
    if (isCancelled(feedback))
        return cancelledError();
    reportProgress(feedback, 4, 4, QStringLiteral("gates"));
    next.gates = out.gates;
    if (!out.gatesPassed() || request.dryRun) {
        if (current)
            out.deployment = *current;
        else if (request.dryRun)
            out.deployment = next;
        return out;
    }
    const QString message = request.message.isEmpty()
                                ? QStringLiteral("Deploy %1 to %2 (revision %3)").arg(next.model.version, next.name).arg(next.revision)
                                : QStringLiteral("Deploy %1 to %2 (revision %3): %4").arg(next.model.version, next.name).arg(next.revision).arg(request.message);
    if (Status s = commitRevision(ws, next, QStringLiteral("deploy"), message, out); !s)
        return s.error();
    return out;
}

Expected<DeployOutcome> rollback(workspace::Workspace &ws, const QString &name, std::optional<int> toRevision,
                                 const QString &message)
{
    auto lock = ws.lock();
    if (!lock)
        return lock.error();
    auto current = loadDeployment(ws, name);
    if (!current)
        return current.error();
    auto history = deploymentHistory(ws, name);
    if (!history)
        return history.error();
    const int target = toRevision.value_or(current->revision - 1);
    const Deployment *earlier = nullptr;
    QStringList known;
    for (const Deployment &d : *history) {
        known << QString::number(d.revision);
        if (d.revision == target)
            earlier = &d;
    }
    if (target >= current->revision || !earlier)
        return makeError(ErrorKind::InvalidInput,
                         current->revision == 1 && !toRevision
                             ? QStringLiteral("%1 has only one revision: there is nothing to roll back to").arg(name)
                             : QStringLiteral("no earlier revision %1 of %2 (revisions: %3; current %4)")
                                   .arg(target)
                                   .arg(name, known.join(QStringLiteral(", ")))
                                   .arg(current->revision),
                         {}, -1, QStringLiteral("to"));
    Deployment next = *earlier;
    next.revision = current->revision + 1;
    next.rolledBackTo = target;
    next.message = message;
    next.commit.clear();
    DeployOutcome out;
    out.gates.push_back(bundleGate(ws, {&next.model, &next.shadow, &next.canary}));
    next.gates = out.gates;
    if (!out.gatesPassed()) {
        out.deployment = *current;
        return out;
    }
    const QString text = QStringLiteral("Roll %1 back to revision %2 (%3)").arg(name).arg(target).arg(next.model.version)
                         + (message.isEmpty() ? QString() : QStringLiteral(": ") + message);
    if (Status s = commitRevision(ws, next, QStringLiteral("rollback"), text, out); !s)
        return s.error();
    return out;
}

} // namespace keel::deploy
