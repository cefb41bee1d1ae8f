#include "serve/decision.h"

#include "serve/endpoint.h"
#include "serve/predictionlog.h"
#include "serve/scoring.h"
#include "data/table.h"
#include "tracking/trackingstore.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

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
    QJsonObject o{{QStringLiteral("kind"), kind},
                  {QStringLiteral("id"), id},
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
    if (kind == u"batch") {
        o.insert(QStringLiteral("run"), runId);
        o.insert(QStringLiteral("data"), data);
        o.insert(QStringLiteral("row"), row);
        o.insert(QStringLiteral("registered"), registered);
        o.insert(QStringLiteral("csv_header"), QString::fromUtf8(batchHeader));
        o.insert(QStringLiteral("csv_line"), QString::fromUtf8(batchLine));
    }
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

namespace {

/// RUN@NAME@vN#ROW: the run's model on one row of a dataset version, recomputed exactly as `keel predict --explain`.
Expected<Decision> explainBatchDecision(workspace::Workspace &ws, const QString &id)
{
    static const QRegularExpression form(QRegularExpression::anchoredPattern(QStringLiteral("([0-9A-Fa-f-]{4,36})@(.+)#([0-9]+)")));
    const QRegularExpressionMatch m = form.match(id);
    if (!m.hasMatch())
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("'%1' is not a prediction id: a served prediction's id, or RUN@NAME@vN#ROW for a row "
                                        "of a keel predict batch").arg(id));
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    auto run = (*ts)->findRun(m.captured(1));
    if (!run)
        return run.error();
    auto version = workspace::resolveDataset(ws, m.captured(2));
    if (!version)
        return version.error();
    Decision d;
    d.kind = QStringLiteral("batch");
    d.id = id;
    d.runId = run->id;
    d.data = version->ref();
    d.row = m.captured(3).toLongLong();
    d.time = run->end;
    BatchRequest request;
    request.run = run->id;
    request.data = version->ref();
    request.rows = {d.row};
    request.explain = true;
    auto batch = predictBatch(ws, request);
    if (!batch)
        return batch.error();
    const QList<QByteArray> lines = batch->csv.split('\n');
    if (lines.size() < 2 || lines[1].isEmpty())
        return makeError(ErrorKind::Failed, QStringLiteral("scoring row %1 of %2 gave no line").arg(d.row).arg(d.data));
    d.batchHeader = lines[0];
    d.batchLine = lines[1];
    // The same fields as a served /explain record, from the CSV's columns (the values as the CSV writes them).
    const QList<QByteArray> names = lines[0].split(',');
    const QList<QByteArray> values = lines[1].split(',');
    QJsonObject contributions, probabilities;
    QStringList classOrder;   // the p_ columns as written (for a binary model the second is the class explained)
    QJsonObject explanation{{QStringLiteral("id"), id}, {QStringLiteral("model"), QString(QStringLiteral("run:") + run->id)}};
    for (qsizetype i = 0; i < names.size() && i < values.size(); ++i) {
        const QString name = QString::fromUtf8(names[i]);
        const QString value = QString::fromUtf8(values[i]);
        if (name == u"shap_base")
            explanation.insert(QStringLiteral("base_value"), value.toDouble());
        else if (name.startsWith(QLatin1String("shap_")))
            contributions.insert(name.mid(5), value.toDouble());
        else if (name.startsWith(QLatin1String("p_"))) {
            probabilities.insert(name.mid(2), value.toDouble());
            classOrder << name.mid(2);
        }
        else if (name == u"predicted")
            d.output.insert(QStringLiteral("label"), value);
        else if (name == u"prediction")
            d.output.insert(QStringLiteral("value"), value.toDouble());
        else if (name == u"actual" && !value.isEmpty())
            d.feedback = QJsonObject{{QStringLiteral("label"), value}, {QStringLiteral("time"), QStringLiteral("in the data")}};
    }
    if (!probabilities.isEmpty())
        d.output.insert(QStringLiteral("probabilities"), probabilities);
    explanation.insert(QStringLiteral("contributions"), contributions);
    explanation.insert(QStringLiteral("explained"), classOrder.isEmpty() ? QStringLiteral("prediction")
                                                    : classOrder.size() == 2 ? QStringLiteral("log-odds of %1").arg(classOrder[1])
                                                                             : QStringLiteral("score of %1").arg(d.output.value(QStringLiteral("label")).toString()));
    d.explanation = QJsonDocument(explanation).toJson(QJsonDocument::Compact);
    // The row as the dataset holds it.
    auto table = workspace::loadDataset(ws, *version);
    if (!table)
        return table.error();
    if (d.row < 1 || d.row > table->rowCount())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("%1 has %2 rows, not %3").arg(d.data).arg(table->rowCount()).arg(d.row));
    for (int c = 0; c < table->columnCount(); ++c) {
        const data::Column &col = table->column(c);
        const qint64 r = d.row - 1;
        d.inputs.insert(col.name(), col.isNull(r) ? QJsonValue(QJsonValue::Null)
                                    : data::isNumericType(col.type()) ? QJsonValue(col.numberAt(r))
                                                                      : QJsonValue(col.displayAt(r)));
    }
    // Its lineage: the registered version made from this run, if any; else the run itself.
    d.registered = false;
    auto models = registry::listModels(ws);
    if (models) {
        for (const QString &name : *models) {
            auto model = registry::loadModel(ws, name);
            if (!model)
                continue;
            for (const registry::ModelVersion &v : model->versions)
                if (v.runId == run->id && !d.registered) {
                    d.model = v;
                    d.registered = true;
                }
        }
    }
    if (!d.registered) {
        d.model.name = QStringLiteral("run:") + run->id.left(8);
        d.model.runId = run->id;
        d.model.runName = run->name;
        d.model.experiment = run->experiment;
        d.model.registered = run->end;
        d.model.by = run->user;
        auto params = (*ts)->params(run->id);
        if (params)
            for (const auto &[k, v] : *params) {
                if (k == u"data") d.model.data.train = v;
                else if (k == u"data.content_id") d.model.data.trainContentId = v;
                else if (k == u"evaluate") d.model.data.evaluate = v;
                else if (k == u"evaluate.content_id") d.model.data.evaluateContentId = v;
                else if (k == u"learner") d.model.modelKind = v;
            }
    }
    d.reproduced = true;   // recomputed from the run's model, its artifacts verified by hash as they load
    return d;
}

} // namespace

Expected<Decision> explainDecision(workspace::Workspace &ws, const QString &id)
{
    if (id.trimmed().isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("no prediction id given"));
    if (id.contains(QLatin1Char('#')))
        return explainBatchDecision(ws, id);
    const QDir serveDir(ws.keelDir() + QStringLiteral("/serve"));
    std::optional<LoggedPrediction> found;
    QString deployment;
    for (const QString &name : serveDir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        auto log = readPredictionLog(predictionLogDir(ws.root(), name), {}, id);
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
