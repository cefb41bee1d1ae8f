#include "serve/decision.h"

#include "serve/endpoint.h"
#include "serve/predictionlog.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>

namespace keel::serve {

namespace {

QString isoText(const QDateTime &t) { return t.isValid() ? t.toUTC().toString(Qt::ISODateWithMs) : QString(); }

QJsonObject versionJson(const registry::ModelVersion &v)
{
    QJsonArray approvals;
    for (const registry::Approval &a : v.approvals)
        approvals.append(QJsonObject{{QStringLiteral("by"), a.by}, {QStringLiteral("at"), isoText(a.at)},
                                     {QStringLiteral("message"), a.message}});
    QJsonObject data{{QStringLiteral("train"), v.data.train}, {QStringLiteral("train_content_id"), v.data.trainContentId}};
    if (!v.data.evaluate.isEmpty()) {
        data.insert(QStringLiteral("evaluate"), v.data.evaluate);
        data.insert(QStringLiteral("evaluate_content_id"), v.data.evaluateContentId);
    }
    return QJsonObject{{QStringLiteral("ref"), v.ref()},
                       {QStringLiteral("kind"), v.modelKind},
                       {QStringLiteral("run"), v.runId},
                       {QStringLiteral("run_name"), v.runName},
                       {QStringLiteral("experiment"), v.experiment},
                       {QStringLiteral("registered"), isoText(v.registered)},
                       {QStringLiteral("registered_by"), v.by},
                       {QStringLiteral("message"), v.message},
                       {QStringLiteral("bundle_sha256"), v.bundleSha256},
                       {QStringLiteral("data"), data},
                       {QStringLiteral("approvals"), approvals}};
}

} // namespace

QJsonObject Decision::toJson() const
{
    QJsonObject o{{QStringLiteral("id"), id},
                  {QStringLiteral("deployment"), deployment},
                  {QStringLiteral("time"), isoText(time)},
                  {QStringLiteral("revision"), revision},
                  {QStringLiteral("inputs"), inputs},
                  {QStringLiteral("output"), output},
                  {QStringLiteral("model"), versionJson(model)},
                  {QStringLiteral("explanation"), QJsonDocument::fromJson(explanation).object()},
                  {QStringLiteral("reproduced"), reproduced}};
    if (!feedback.isEmpty())
        o.insert(QStringLiteral("feedback"), feedback);
    if (!shadow.isEmpty())
        o.insert(QStringLiteral("shadow"), shadow);
    if (live)
        o.insert(QStringLiteral("live"), QJsonObject{{QStringLiteral("revision"), live->revision},
                                                     {QStringLiteral("model"), live->model.requested},
                                                     {QStringLiteral("deployed_by"), live->author},
                                                     {QStringLiteral("deployed_at"), isoText(live->time)},
                                                     {QStringLiteral("message"), live->message},
                                                     {QStringLiteral("commit"), live->commit}});
    return o;
}

Expected<Decision> explainDecision(workspace::Workspace &ws, const QString &id)
{
    if (id.trimmed().isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("no prediction id given"));
    const QDir serveDir(ws.keelDir() + QStringLiteral("/serve"));
    std::optional<LoggedPrediction> found;
    QString deployment;
    for (const QString &name : serveDir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        auto log = readPredictionLog(predictionLogDir(ws.root(), name));
        if (!log)
            return log.error();
        for (LoggedPrediction &p : *log)
            if (p.prediction.value(QStringLiteral("id")).toString() == id) {
                found = std::move(p);
                deployment = name;
                break;
            }
        if (found)
            break;
    }
    if (!found)
        return makeError(ErrorKind::NotFound,
                         QStringLiteral("no served prediction has the id '%1' (prediction logs under %2)").arg(id, serveDir.path()));

    Decision d;
    d.id = id;
    d.deployment = deployment;
    d.time = QDateTime::fromString(found->prediction.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs);
    d.revision = found->prediction.value(QStringLiteral("revision")).toInt();
    d.inputs = found->prediction.value(QStringLiteral("inputs")).toObject();
    d.output = found->prediction.value(QStringLiteral("output")).toObject();
    d.feedback = found->feedback;
    d.shadow = found->shadow;
    const QString versionRef = found->prediction.value(QStringLiteral("version")).toString();
    auto version = registry::resolveVersion(ws, versionRef);
    if (!version)
        return version.error();
    d.model = std::move(*version);
    auto history = deploy::deploymentHistory(ws, deployment);
    if (history) {
        for (const deploy::Deployment &rev : *history)
            if (rev.revision == d.revision)
                d.live = rev;
    }

    // The same bundle (verified by hash as it loads), the same inputs, the same writer as /explain.
    auto runtime = ModelRuntime::load(ws, versionRef);
    if (!runtime)
        return runtime.error();
    auto table = (*runtime)->toTable(QJsonArray{d.inputs});
    if (!table)
        return table.error();
    auto predictions = (*runtime)->predict(*table);
    if (!predictions)
        return predictions.error();
    auto attribution = (*runtime)->explain(*table);
    if (!attribution)
        return attribution.error();
    (*runtime)->appendRecord(d.explanation, id, *predictions, 0, &*attribution);
    d.reproduced = (*runtime)->outputJson(*predictions, 0) == d.output;
    return d;
}

} // namespace keel::serve
