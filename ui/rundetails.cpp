#include "rundetails.h"

#include "store/objectstore.h"
#include "tracking/metrickeys.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <limits>

namespace keel::ui {

namespace {

Error fieldError(const QString &message, const QString &field)
{
    return makeError(message, QStringLiteral("curves"), -1, field);
}

Expected<std::vector<double>> numbers(const QJsonObject &o, const QString &group, const QString &key)
{
    const QJsonValue v = o.value(group).toObject().value(key);
    const QString field = group + QLatin1Char('.') + key;
    if (!v.isArray())
        return fieldError(QStringLiteral("expected an array of numbers"), field);
    std::vector<double> out;
    for (const QJsonValue &x : v.toArray()) {
        if (x.isDouble())
            out.push_back(x.toDouble());
        else if (x.isNull())
            out.push_back(std::numeric_limits<double>::quiet_NaN());
        else
            return fieldError(QStringLiteral("expected an array of numbers"), field);
    }
    return out;
}

Expected<std::vector<std::vector<qint64>>> matrixFromJson(const QJsonValue &v, const QString &field)
{
    if (!v.isArray())
        return fieldError(QStringLiteral("expected an array of arrays"), field);
    std::vector<std::vector<qint64>> out;
    for (const QJsonValue &row : v.toArray()) {
        if (!row.isArray())
            return fieldError(QStringLiteral("expected an array of arrays"), field);
        std::vector<qint64> r;
        for (const QJsonValue &x : row.toArray()) {
            if (!x.isDouble() || x.toDouble() < 0 || std::floor(x.toDouble()) != x.toDouble())
                return fieldError(QStringLiteral("expected non-negative integer counts"), field);
            r.push_back(qint64(x.toDouble()));
        }
        out.push_back(std::move(r));
    }
    for (const auto &r : out)
        if (r.size() != out.size())
            return fieldError(QStringLiteral("the matrix is not square (%1 rows, a row of %2)").arg(out.size()).arg(r.size()),
                              field);
    return out;
}

Error cancelled() { return cancelledError(); }

Expected<RunDetails> loadOne(tracking::TrackingStore &ts, const store::ObjectStore *objects, const QString &runId)
{
    RunDetails d;
    auto run = ts.run(runId);
    if (!run)
        return run.error();
    d.run = std::move(*run);
    auto params = ts.params(runId);
    if (!params)
        return params.error();
    d.params = std::move(*params);
    auto tags = ts.tags(runId);
    if (!tags)
        return tags.error();
    d.tags = std::move(*tags);
    auto metrics = ts.metrics(runId);
    if (!metrics)
        return metrics.error();
    d.metrics = std::move(*metrics);
    auto artifacts = ts.artifacts(runId);
    if (!artifacts)
        return artifacts.error();
    d.artifacts = std::move(*artifacts);
    auto lineage = ts.lineage(QStringLiteral("run"), runId);
    if (!lineage)
        return lineage.error();
    d.lineage = std::move(*lineage);

    // Dataset versions: lineage names content ids; the params name the versions that were resolved for them.
    for (const tracking::LineageEdge &e : d.lineage) {
        if (e.srcKind != u"dataset" || e.dstKind != u"run" || e.dstId != runId)
            continue;
        RunDatasetLink link{e.relation, e.srcId, {}};
        for (const char *p : {"data", "evaluate"}) {
            const QString key = QLatin1String(p);
            if (d.param(key + QStringLiteral(".content_id")) == e.srcId)
                link.ref = d.param(key);
        }
        d.datasets.push_back(link);
    }

    const auto curves = std::find_if(d.artifacts.begin(), d.artifacts.end(),
                                     [](const tracking::ArtifactRecord &a) { return a.name == u"curves"; });
    if (curves != d.artifacts.end()) {
        if (!objects) {
            d.evaluationError = QStringLiteral("the workspace's object store is missing");
        } else if (auto bytes = objects->readAll(curves->objectId); !bytes) {
            d.evaluationError = bytes.error().toString();
        } else if (auto parsed = parseEvaluationCurves(*bytes); !parsed) {
            d.evaluationError = parsed.error().toString();
        } else {
            d.evaluation = std::move(*parsed);
        }
    } else if (const QString cm = d.tag(QStringLiteral("test.confusion_matrix")); !cm.isNull()) {
        if (auto m = parseConfusionMatrix(cm); m) {
            EvaluationCurves e;
            e.confusion = std::move(*m);
            for (size_t i = 0; i < e.confusion.size(); ++i)
                e.classes << QStringLiteral("class %1").arg(i);
            d.evaluation = std::move(e);
        } else {
            d.evaluationError = m.error().toString();
        }
    }
    return d;
}

} // namespace

Expected<EvaluationCurves> parseEvaluationCurves(const QByteArray &json)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(QStringLiteral("not a JSON object: ") + parseError.errorString(), QStringLiteral("curves"));
    const QJsonObject o = doc.object();
    EvaluationCurves c;
    for (const QJsonValue &v : o.value(QStringLiteral("classes")).toArray())
        c.classes << v.toString();
    auto cm = matrixFromJson(o.value(QStringLiteral("confusion_matrix")), QStringLiteral("confusion_matrix"));
    if (!cm)
        return cm.error();
    c.confusion = std::move(*cm);
    if (c.classes.size() != qsizetype(c.confusion.size()))
        return fieldError(QStringLiteral("%1 classes but a %2 x %2 confusion matrix").arg(c.classes.size()).arg(c.confusion.size()),
                          QStringLiteral("classes"));
    // ROC, PR and (when `withCalibration`) calibration of one score, from the object `from`; fields named under `path`.
    const auto curveSet = [](const QJsonObject &from, const QString &path, bool withCalibration, CurveSet &out) -> Status {
        const auto pair = [&](const char *group, const char *a, const char *b, std::vector<double> &x,
                              std::vector<double> &y) -> Status {
            const QString where = path + QLatin1String(group);
            auto xs = numbers(from, QLatin1String(group), QLatin1String(a));
            if (!xs)
                return fieldError(xs.error().message, path + xs.error().field);
            auto ys = numbers(from, QLatin1String(group), QLatin1String(b));
            if (!ys)
                return fieldError(ys.error().message, path + ys.error().field);
            if (xs->size() != ys->size())
                return fieldError(QStringLiteral("%1 and %2 differ in length").arg(QLatin1String(a), QLatin1String(b)), where);
            x = std::move(*xs);
            y = std::move(*ys);
            return Status::ok();
        };
        if (Status s = pair("roc", "fpr", "tpr", out.rocFpr, out.rocTpr); !s)
            return s;
        if (Status s = pair("pr", "recall", "precision", out.prRecall, out.prPrecision); !s)
            return s;
        if (!withCalibration)
            return Status::ok();
        if (Status s = pair("calibration", "predicted", "observed", out.calibrationPredicted, out.calibrationObserved); !s)
            return s;
        for (const QJsonValue &v : from.value(QStringLiteral("calibration")).toObject().value(QStringLiteral("count")).toArray())
            out.calibrationCount.push_back(qint64(v.toDouble()));
        return Status::ok();
    };
    const auto number = [](const QJsonValue &v) { return v.isDouble() ? v.toDouble() : std::nan(""); };
    if (o.contains(QStringLiteral("one_vs_rest"))) {
        const QJsonObject ovr = o.value(QStringLiteral("one_vs_rest")).toObject();
        const QJsonArray perClass = ovr.value(QStringLiteral("classes")).toArray();
        if (perClass.size() != c.classes.size())
            return fieldError(QStringLiteral("%1 classes but %2 one-vs-rest entries").arg(c.classes.size()).arg(perClass.size()),
                              QStringLiteral("one_vs_rest.classes"));
        c.rocAucMacro = number(ovr.value(QStringLiteral("roc_auc_macro")));
        c.rocAucMicro = number(ovr.value(QStringLiteral("roc_auc_micro")));
        c.prAucMacro = number(ovr.value(QStringLiteral("pr_auc_macro")));
        c.prAucMicro = number(ovr.value(QStringLiteral("pr_auc_micro")));
        if (Status s = curveSet(ovr.value(QStringLiteral("micro")).toObject(), QStringLiteral("one_vs_rest.micro."), false, c.micro); !s)
            return s.error();
        for (qsizetype i = 0; i < perClass.size(); ++i) {
            const QJsonObject one = perClass[i].toObject();
            ClassCurves cc;
            cc.support = qint64(one.value(QStringLiteral("support")).toDouble());
            cc.rocAuc = number(one.value(QStringLiteral("roc_auc")));
            cc.prAuc = number(one.value(QStringLiteral("pr_auc")));
            if (Status s = curveSet(one, QStringLiteral("one_vs_rest.classes[%1].").arg(i), true, cc); !s)
                return s.error();
            c.perClass.push_back(std::move(cc));
        }
        return c;
    }
    if (!o.contains(QStringLiteral("roc")))
        return c;
    if (Status s = curveSet(o, QString(), true, c); !s)
        return s.error();
    return c;
}

Expected<std::vector<std::vector<qint64>>> parseConfusionMatrix(const QString &json)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json.toUtf8(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isArray())
        return fieldError(QStringLiteral("not a JSON array"), QStringLiteral("test.confusion_matrix"));
    return matrixFromJson(doc.array(), QStringLiteral("test.confusion_matrix"));
}

QString RunDetails::param(const QString &key) const
{
    for (const auto &[k, v] : params)
        if (k == key)
            return v;
    return {};
}

QString RunDetails::tag(const QString &key) const
{
    for (const auto &[k, v] : tags)
        if (k == key)
            return v;
    return {};
}

std::vector<std::pair<QString, double>> RunDetails::finalMetrics() const
{
    return tracking::finalMetrics(metrics);
}

std::map<QString, std::vector<QPointF>> RunDetails::series() const
{
    std::map<QString, std::vector<QPointF>> out;
    for (const tracking::MetricPoint &p : metrics)
        if (tracking::isCurveKey(p.key))
            out[p.key].emplace_back(double(p.step), p.value);
    return out;
}

Expected<RunDetails> loadRunDetails(const QString &root, const QString &runId, Feedback *feedback)
{
    auto list = loadRunDetailsList(root, {runId}, feedback);
    if (!list)
        return list.error();
    return std::move(list->front());
}

Expected<std::vector<RunDetails>> loadRunDetailsList(const QString &root, const QStringList &runIds, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    auto ts = (*ws)->tracking();
    if (!ts)
        return ts.error();
    store::ObjectStore *objects = &(*ws)->store();
    std::vector<RunDetails> out;
    for (qsizetype i = 0; i < runIds.size(); ++i) {
        if (isCancelled(feedback))
            return cancelled();
        reportProgress(feedback, i, runIds.size(), QStringLiteral("read runs"));
        auto d = loadOne(**ts, objects, runIds[i]);
        if (!d)
            return d.error();
        out.push_back(std::move(*d));
    }
    reportProgress(feedback, runIds.size(), runIds.size(), QStringLiteral("read runs"));
    return out;
}

} // namespace keel::ui
