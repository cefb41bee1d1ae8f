#include "ml/training.h"

#include "ml/learners.h"
#include "ml/metrics.h"
#include "store/objectstore.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/gitrepo.h"
#include "workspace/workspace.h"

#include <QDateTime>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QSet>
#include <QSysInfo>
#include <QThread>

#include <yaml-cpp/yaml.h>

#include <cmath>

namespace keel::ml {

namespace {

QString fromStd(const std::string &s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }

QString num(double v) { return QString::number(v, 'g', QLocale::FloatingPointShortest); }

/// Config YAML as JSON (scalars as strings), with the 1-based line of every dotted key path.
struct YamlDoc {
    QJsonObject root;
    QHash<QString, qint64> lines;
};

QJsonValue toJson(const YAML::Node &n, const QString &path, QHash<QString, qint64> &lines)
{
    if (n.Mark().line >= 0 && !lines.contains(path))
        lines.insert(path, qint64(n.Mark().line) + 1);
    switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return QJsonValue(QJsonValue::Null);
    case YAML::NodeType::Scalar: return fromStd(n.Scalar());
    case YAML::NodeType::Sequence: {
        QJsonArray a;
        int i = 0;
        for (const YAML::Node &item : n)
            a.append(toJson(item, path + QLatin1Char('.') + QString::number(i++), lines));
        return a;
    }
    case YAML::NodeType::Map: {
        QJsonObject o;
        for (const auto &kv : n) {
            const QString key = fromStd(kv.first.as<std::string>());
            const QString sub = path.isEmpty() ? key : path + QLatin1Char('.') + key;
            if (kv.first.Mark().line >= 0)
                lines.insert(sub, qint64(kv.first.Mark().line) + 1);
            o.insert(key, toJson(kv.second, sub, lines));
        }
        return o;
    }
    }
    return QJsonValue(QJsonValue::Null);
}

class ConfigParser {
public:
    ConfigParser(const YamlDoc &doc, QString source) : m_doc(doc), m_source(std::move(source)) {}

    Error error(const QString &field, const QString &message) const
    {
        QString path = field;
        while (!path.isEmpty() && !m_doc.lines.contains(path)) {
            const qsizetype dot = path.lastIndexOf(QLatin1Char('.'));
            path = dot < 0 ? QString() : path.left(dot);
        }
        return makeError(message, m_source, path.isEmpty() ? -1 : m_doc.lines.value(path, -1), field);
    }

    Expected<QString> string(const QJsonObject &o, const QString &key, const QString &path, bool required) const
    {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull()) {
            if (required)
                return error(path, QStringLiteral("is required"));
            return QString();
        }
        if (!v.isString())
            return error(path, QStringLiteral("expected a single value"));
        return v.toString();
    }

    Expected<QJsonObject> object(const QJsonObject &o, const QString &key, const QString &path) const
    {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull())
            return QJsonObject();
        if (!v.isObject())
            return error(path, QStringLiteral("expected a mapping"));
        return v.toObject();
    }

    Expected<SplitSpec> split(const QJsonObject &o) const
    {
        static const QStringList known = {QStringLiteral("kind"), QStringLiteral("test_fraction"),
                                          QStringLiteral("stratify"), QStringLiteral("seed"),
                                          QStringLiteral("time_column"), QStringLiteral("cutoff")};
        SplitSpec s;
        for (auto it = o.begin(); it != o.end(); ++it)
            if (!known.contains(it.key()))
                return error(QStringLiteral("split.") + it.key(),
                             QStringLiteral("unknown key (known: %1)").arg(known.join(QStringLiteral(", "))));
        auto field = [&](const char *key) { return string(o, QLatin1String(key), QStringLiteral("split.") + QLatin1String(key), false); };
        auto kind = field("kind");
        if (!kind)
            return kind.error();
        if (kind->isEmpty() || *kind == u"holdout")
            s.kind = SplitKind::Holdout;
        else if (*kind == u"time")
            s.kind = SplitKind::Time;
        else
            return error(QStringLiteral("split.kind"),
                         QStringLiteral("'%1' is not a training split (holdout or time)").arg(*kind));
        auto frac = field("test_fraction");
        if (!frac)
            return frac.error();
        if (!frac->isEmpty()) {
            bool ok = false;
            s.testFraction = frac->toDouble(&ok);
            if (!ok || !(s.testFraction > 0 && s.testFraction < 1))
                return error(QStringLiteral("split.test_fraction"),
                             QStringLiteral("expected a number between 0 and 1 (exclusive), got '%1'").arg(*frac));
        }
        auto strat = field("stratify");
        if (!strat)
            return strat.error();
        if (!strat->isEmpty()) {
            const QString b = strat->toLower();
            if (b == u"true" || b == u"yes")
                s.stratify = true;
            else if (b == u"false" || b == u"no")
                s.stratify = false;
            else
                return error(QStringLiteral("split.stratify"), QStringLiteral("expected true or false, got '%1'").arg(*strat));
        }
        auto seed = field("seed");
        if (!seed)
            return seed.error();
        if (!seed->isEmpty()) {
            bool ok = false;
            s.seed = seed->toULongLong(&ok);
            if (!ok)
                return error(QStringLiteral("split.seed"), QStringLiteral("expected a non-negative integer, got '%1'").arg(*seed));
        }
        auto col = field("time_column");
        if (!col)
            return col.error();
        s.timeColumn = *col;
        auto cutoff = field("cutoff");
        if (!cutoff)
            return cutoff.error();
        if (!cutoff->isEmpty()) {
            bool ok = false;
            const qint64 n = cutoff->toLongLong(&ok);
            if (ok) {
                s.cutoff = n;
            } else {
                QDateTime dt = QDateTime::fromString(*cutoff, Qt::ISODateWithMs);
                if (!dt.isValid())
                    return error(QStringLiteral("split.cutoff"),
                                 QStringLiteral("expected an ISO 8601 date/time or a number, got '%1'").arg(*cutoff));
                if (dt.timeSpec() == Qt::LocalTime)
                    dt.setTimeSpec(Qt::UTC);
                s.cutoff = dt.toMSecsSinceEpoch();
            }
        }
        if (s.kind == SplitKind::Time && s.timeColumn.isEmpty())
            return error(QStringLiteral("split.time_column"), QStringLiteral("is required for a time split"));
        return s;
    }

private:
    const YamlDoc &m_doc;
    QString m_source;
};

/// Rows `rows` of `t`, in that order, as a new table.
data::Table takeRows(const data::Table &t, const std::vector<qint64> &rows)
{
    std::vector<data::Column> cols;
    cols.reserve(size_t(t.columnCount()));
    for (const data::Column &c : t.columns()) {
        data::ColumnBuilder b(c.type());
        for (qint64 r : rows) {
            if (c.isNull(r)) {
                b.appendNull();
                continue;
            }
            switch (c.type()) {
            case data::ColumnType::Int64: b.appendInt64(c.int64At(r)); break;
            case data::ColumnType::Float64: b.appendFloat64(c.float64At(r)); break;
            case data::ColumnType::Bool: b.appendBool(c.boolAt(r)); break;
            case data::ColumnType::Datetime: b.appendDatetime(c.datetimeAt(r)); break;
            case data::ColumnType::Categorical:
            case data::ColumnType::String: b.appendString(c.stringAt(r)); break;
            }
        }
        cols.push_back(b.finish(c.name()));
    }
    return data::Table(std::move(cols));
}

QString csvField(const QString &s)
{
    if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) && !s.contains(QLatin1Char('\n'))
        && !s.contains(QLatin1Char('\r')))
        return s;
    QString q = s;
    q.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

QString paramText(const QVariant &v)
{
    if (v.typeId() == QMetaType::Double)
        return num(v.toDouble());
    if (v.typeId() == QMetaType::Bool)
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    return v.toString();
}

} // namespace

Expected<TrainingConfig> TrainingConfig::fromYaml(const QString &yaml, const QString &sourceName)
{
    YamlDoc doc;
    try {
        const QByteArray utf8 = yaml.toUtf8();
        const YAML::Node node = YAML::Load(std::string(utf8.constData(), size_t(utf8.size())));
        if (!node.IsMap())
            return makeError(QStringLiteral("a training config must be a mapping (data, target, learner, ...)"),
                             sourceName, node.Mark().line >= 0 ? qint64(node.Mark().line) + 1 : 1);
        doc.root = toJson(node, {}, doc.lines).toObject();
    } catch (const YAML::Exception &e) {
        return makeError(QStringLiteral("YAML syntax error: ") + fromStd(e.msg), sourceName,
                         e.mark.line >= 0 ? qint64(e.mark.line) + 1 : -1);
    }
    const ConfigParser p(doc, sourceName);
    const QJsonObject &o = doc.root;
    static const QStringList known = {QStringLiteral("experiment"), QStringLiteral("name"), QStringLiteral("data"),
                                      QStringLiteral("evaluate"), QStringLiteral("target"), QStringLiteral("task"),
                                      QStringLiteral("label_map"), QStringLiteral("recipe"), QStringLiteral("split"),
                                      QStringLiteral("learner"), QStringLiteral("params")};
    for (auto it = o.begin(); it != o.end(); ++it)
        if (!known.contains(it.key()))
            return p.error(it.key(), QStringLiteral("unknown key (known: %1)").arg(known.join(QStringLiteral(", "))));

    TrainingConfig c;
    c.text = yaml;
    c.sourceName = sourceName;
    auto str = [&](const char *key, bool required) {
        return p.string(o, QLatin1String(key), QLatin1String(key), required);
    };
    auto experiment = str("experiment", false);
    if (!experiment)
        return experiment.error();
    if (!experiment->isEmpty())
        c.experiment = *experiment;
    auto name = str("name", false);
    if (!name)
        return name.error();
    c.name = name->isEmpty() ? QFileInfo(sourceName).completeBaseName() : *name;
    auto data = str("data", true);
    if (!data)
        return data.error();
    c.data = *data;
    auto evaluate = str("evaluate", false);
    if (!evaluate)
        return evaluate.error();
    c.evaluate = *evaluate;

    // Recipe: the `recipe` mapping plus target / task / label_map from the top level.
    auto recipe = p.object(o, QStringLiteral("recipe"), QStringLiteral("recipe"));
    if (!recipe)
        return recipe.error();
    QJsonObject r = *recipe;
    for (const char *key : {"target", "task", "label_map"}) {
        const QLatin1String k(key);
        if (!o.contains(k))
            continue;
        if (r.contains(k))
            return p.error(QStringLiteral("recipe.") + k,
                           QStringLiteral("is also given at the top level; give it once"));
        r.insert(k, o.value(k));
    }
    if (!r.contains(QLatin1String("target")))
        return p.error(QStringLiteral("target"), QStringLiteral("is required"));
    auto spec = RecipeSpec::fromJson(r);
    if (!spec) {
        const Error &e = spec.error();
        const QString top = e.field.section(QLatin1Char('.'), 0, 0);
        const bool atTop = top == u"target" || top == u"task" || top == u"label_map";
        const QString field = e.field.isEmpty() ? QStringLiteral("recipe")
                              : atTop           ? e.field
                                                : QString(QStringLiteral("recipe.") + e.field);
        return p.error(field, e.message);
    }
    c.recipe = *spec;

    auto split = p.object(o, QStringLiteral("split"), QStringLiteral("split"));
    if (!split)
        return split.error();
    auto s = p.split(*split);
    if (!s)
        return s.error();
    c.split = *s;

    auto learner = str("learner", true);
    if (!learner)
        return learner.error();
    const Learner *l = findLearner(*learner);
    if (!l) {
        QStringList names;
        for (const Learner *x : allLearners())
            names << x->name();
        return p.error(QStringLiteral("learner"), QStringLiteral("unknown learner '%1' (known: %2)")
                                                      .arg(*learner, names.join(QStringLiteral(", "))));
    }
    c.learner = *learner;
    auto params = p.object(o, QStringLiteral("params"), QStringLiteral("params"));
    if (!params)
        return params.error();
    Params raw;
    for (auto it = params->begin(); it != params->end(); ++it) {
        if (!it.value().isString())
            return p.error(QStringLiteral("params.") + it.key(), QStringLiteral("expected a single value"));
        raw.insert(it.key(), it.value().toString());
    }
    auto validated = validateParams(l->params(), raw);
    if (!validated)
        return p.error(QStringLiteral("params.") + validated.error().field, validated.error().message);
    c.params = *validated;
    return c;
}

Expected<TrainingConfig> TrainingConfig::fromFile(const QString &path)
{
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error().withFile(path);
    return fromYaml(QString::fromUtf8(*bytes), path);
}

QByteArray predictionsCsv(const Target &actual, const std::vector<double> &predictions, int numClasses)
{
    const qint64 rows = qint64(actual.values.size());
    QString out = QStringLiteral("row,actual,predicted");
    const bool regression = actual.task == Task::Regression;
    if (!regression) {
        if (numClasses == 2)
            out += QStringLiteral(",") + csvField(QStringLiteral("p_") + actual.classes.value(1));
        else
            for (const QString &c : actual.classes)
                out += QStringLiteral(",") + csvField(QStringLiteral("p_") + c);
    }
    out += QLatin1Char('\n');
    for (qint64 r = 0; r < rows; ++r) {
        out += QString::number(r) + QLatin1Char(',');
        if (regression) {
            out += num(actual.values[size_t(r)]) + QLatin1Char(',') + num(predictions[size_t(r)]);
        } else {
            out += csvField(actual.classes.value(int(actual.values[size_t(r)]))) + QLatin1Char(',');
            if (numClasses == 2) {
                const double p = predictions[size_t(r)];
                out += csvField(actual.classes.value(p >= 0.5 ? 1 : 0)) + QLatin1Char(',') + num(p);
            } else {
                const size_t base = size_t(r) * size_t(numClasses);
                int best = 0;
                for (int k = 1; k < numClasses; ++k)
                    if (predictions[base + size_t(k)] > predictions[base + size_t(best)])
                        best = k;
                out += csvField(actual.classes.value(best));
                for (int k = 0; k < numClasses; ++k)
                    out += QLatin1Char(',') + num(predictions[base + size_t(k)]);
            }
        }
        out += QLatin1Char('\n');
    }
    return out.toUtf8();
}

namespace {

/// The body of a run once it exists in the tracking store; any error marks the run failed.
class RunExecutor {
public:
    RunExecutor(workspace::Workspace &ws, tracking::TrackingStore &ts, const TrainingConfig &c, QString runId,
                Feedback *feedback)
        : m_ws(ws), m_ts(ts), m_c(c), m_runId(std::move(runId)), m_feedback(feedback)
    {
    }

    Expected<TrainingResult> run();

private:
    Status storeArtifact(const QString &name, const QString &kind, const QByteArray &bytes, QString &objectId);
    Status flushMetrics();

    workspace::Workspace &m_ws;
    tracking::TrackingStore &m_ts;
    const TrainingConfig &m_c;
    QString m_runId;
    Feedback *m_feedback;
    std::vector<tracking::MetricPoint> m_pending;
};

Status RunExecutor::storeArtifact(const QString &name, const QString &kind, const QByteArray &bytes, QString &objectId)
{
    auto added = m_ws.store().addBytes(bytes);
    if (!added)
        return added.error();
    objectId = added->id;
    return m_ts.addArtifact({m_runId, name, added->id, added->size, kind});
}

Status RunExecutor::flushMetrics()
{
    if (m_pending.empty())
        return {};
    Status s = m_ts.logMetrics(m_runId, m_pending);
    m_pending.clear();
    return s;
}

Expected<TrainingResult> RunExecutor::run()
{
    TrainingResult result;
    result.runId = m_runId;
    result.experiment = m_c.experiment;
    const Learner *learner = findLearner(m_c.learner);
    if (!learner)
        return makeError(QStringLiteral("unknown learner '%1'").arg(m_c.learner), m_c.sourceName, -1,
                         QStringLiteral("learner"));

    // Data.
    reportProgress(m_feedback, 0, 1, QStringLiteral("load"));
    auto trainVersion = workspace::resolveDataset(m_ws, m_c.data);
    if (!trainVersion)
        return trainVersion.error();
    std::optional<workspace::DatasetVersion> evalVersion;
    if (!m_c.evaluate.isEmpty()) {
        auto v = workspace::resolveDataset(m_ws, m_c.evaluate);
        if (!v)
            return v.error();
        evalVersion = *v;
    }
    std::vector<std::pair<QString, QString>> params;
    for (auto it = m_c.params.cbegin(); it != m_c.params.cend(); ++it)
        params.emplace_back(QStringLiteral("params.") + it.key(), paramText(it.value()));
    params.emplace_back(QStringLiteral("learner"), m_c.learner);
    params.emplace_back(QStringLiteral("data"), trainVersion->ref());
    params.emplace_back(QStringLiteral("data.content_id"), trainVersion->record.contentId);
    if (evalVersion) {
        params.emplace_back(QStringLiteral("evaluate"), evalVersion->ref());
        params.emplace_back(QStringLiteral("evaluate.content_id"), evalVersion->record.contentId);
    }
    params.emplace_back(QStringLiteral("split.kind"), splitKindName(m_c.split.kind));
    params.emplace_back(QStringLiteral("split.test_fraction"), num(m_c.split.testFraction));
    params.emplace_back(QStringLiteral("split.stratify"),
                        m_c.split.stratify ? QStringLiteral("true") : QStringLiteral("false"));
    params.emplace_back(QStringLiteral("split.seed"), QString::number(m_c.split.seed));
    if (m_c.split.kind == SplitKind::Time) {
        params.emplace_back(QStringLiteral("split.time_column"), m_c.split.timeColumn);
        if (m_c.split.cutoff)
            params.emplace_back(QStringLiteral("split.cutoff"), QString::number(*m_c.split.cutoff));
    }
    params.emplace_back(QStringLiteral("target"), m_c.recipe.target);
    if (Status s = m_ts.setParams(m_runId, params); !s)
        return s.error();
    if (Status s = m_ts.addLineage({QStringLiteral("dataset"), trainVersion->record.contentId, QStringLiteral("run"),
                                    m_runId, QStringLiteral("trained_on"), {}});
        !s)
        return s.error();
    if (evalVersion) {
        if (Status s = m_ts.addLineage({QStringLiteral("dataset"), evalVersion->record.contentId, QStringLiteral("run"),
                                        m_runId, QStringLiteral("evaluated_on"), {}});
            !s)
            return s.error();
    }

    auto table = workspace::loadDataset(m_ws, *trainVersion, nullptr);
    if (!table)
        return table.error();
    if (isCancelled(m_feedback))
        return makeError(QStringLiteral("cancelled"));

    // Split (stratified on the target as the recipe will encode it).
    std::optional<Task> task;
    if (m_c.recipe.task == u"regression")
        task = Task::Regression;
    else if (m_c.recipe.task == u"binary")
        task = Task::BinaryClassification;
    else if (m_c.recipe.task == u"multiclass")
        task = Task::MulticlassClassification;
    auto fullTarget = makeTarget(*table, m_c.recipe.target, task, m_c.recipe.classes, m_c.recipe.labelMap);
    if (!fullTarget)
        return fullTarget.error();
    if (task == std::nullopt && m_c.recipe.task == u"classification"
        && fullTarget->task == Task::Regression)
        return makeError(QStringLiteral("target is not categorical"), m_c.sourceName, -1, QStringLiteral("task"));
    auto splits = makeSplits(m_c.split, *table, m_c.split.stratify ? &*fullTarget : nullptr);
    if (!splits)
        return splits.error();
    const Split &split = splits->front();
    const data::Table trainTable = takeRows(*table, split.train);
    const data::Table validTable = takeRows(*table, split.test);

    reportProgress(m_feedback, 0, 1, QStringLiteral("recipe"));
    auto recipe = Recipe::fit(trainTable, m_c.recipe, m_feedback);
    if (!recipe)
        return recipe.error();
    auto xTrain = recipe->transform(trainTable, m_feedback);
    if (!xTrain)
        return xTrain.error();
    auto yTrain = recipe->target(trainTable);
    if (!yTrain)
        return yTrain.error();
    auto xValid = recipe->transform(validTable, m_feedback);
    if (!xValid)
        return xValid.error();
    auto yValid = recipe->target(validTable);
    if (!yValid)
        return yValid.error();
    result.trainRows = xTrain->rows;
    result.validationRows = xValid->rows;
    if (!learner->supports(recipe->task()))
        return makeError(QStringLiteral("learner '%1' does not support %2 targets").arg(m_c.learner, taskName(recipe->task())),
                         m_c.sourceName, -1, QStringLiteral("learner"));

    // Fit: curves batched into the store every 10 rounds, progress as "train".
    const QVariant roundsParam = m_c.params.value(QStringLiteral("n_estimators"));
    const qint64 totalRounds = roundsParam.isValid() ? roundsParam.toLongLong()
                               : m_c.params.contains(QStringLiteral("max_iter"))
                                   ? m_c.params.value(QStringLiteral("max_iter")).toLongLong()
                                   : 0;
    Feedback inner;
    inner.setCallback([this, &inner](qint64, qint64, const QString &) {
        if (isCancelled(m_feedback))
            inner.cancel();
    });
    Status logStatus;
    int lastIteration = -1;
    const IterationCallback onIteration = [&](const IterationMetrics &m) {
        m_pending.push_back({m.dataset + QLatin1Char('.') + m.metric, m.iteration, m.value, {}});
        if (m.iteration != lastIteration) {
            lastIteration = m.iteration;
            result.rounds = m.iteration + 1;
            reportProgress(m_feedback, result.rounds, std::max<qint64>(totalRounds, result.rounds),
                           QStringLiteral("train"));
            if (isCancelled(m_feedback))
                inner.cancel();
            if (m.iteration % 10 == 9 && logStatus.isOk()) {
                logStatus = flushMetrics();
                if (!logStatus)
                    inner.cancel();
            }
        }
    };
    auto model = learner->fit(*xTrain, *yTrain, m_c.params, &*xValid, &*yValid, onIteration, &inner);
    if (!logStatus)
        return logStatus.error();
    if (!model)
        return isCancelled(m_feedback) ? makeError(QStringLiteral("cancelled")) : model.error();
    if (Status s = flushMetrics(); !s)
        return s.error();
    result.modelKind = (*model)->kind();

    // Evaluate.
    reportProgress(m_feedback, 0, 1, QStringLiteral("evaluate"));
    data::Table evalTable;
    if (evalVersion) {
        auto t = workspace::loadDataset(m_ws, *evalVersion, nullptr);
        if (!t)
            return t.error();
        evalTable = std::move(*t);
    } else {
        evalTable = validTable;
    }
    auto xEval = recipe->transform(evalTable, m_feedback);
    if (!xEval)
        return xEval.error();
    auto yEval = recipe->target(evalTable);
    if (!yEval)
        return yEval.error();
    result.evaluationRows = xEval->rows;
    auto predictions = (*model)->predict(*xEval);
    if (!predictions)
        return predictions.error();
    const int numClasses = (*model)->numClasses();
    const QVariantMap metrics = evaluate(recipe->task(), *yEval, *predictions, numClasses);
    std::vector<tracking::MetricPoint> finals;
    for (auto it = metrics.cbegin(); it != metrics.cend(); ++it) {
        const QString key = QStringLiteral("test.") + it.key();
        if (it.value().typeId() == QMetaType::QVariantList) {
            const QJsonDocument doc(QJsonArray::fromVariantList(it.value().toList()));
            if (Status s = m_ts.setTag(m_runId, key, QString::fromUtf8(doc.toJson(QJsonDocument::Compact))); !s)
                return s.error();
            continue;
        }
        bool ok = false;
        const double v = it.value().toDouble(&ok);
        if (!ok)
            continue;
        finals.push_back({key, 0, v, {}});
        result.metrics.insert(key, v);
    }
    if (Status s = m_ts.logMetrics(m_runId, finals); !s)
        return s.error();

    // Artifacts.
    if (Status s = storeArtifact(QStringLiteral("model"), result.modelKind, (*model)->serialize(), result.modelObjectId); !s)
        return s.error();
    const QByteArray recipeJson = QJsonDocument(recipe->toJson()).toJson(QJsonDocument::Compact);
    if (Status s = storeArtifact(QStringLiteral("recipe"), QStringLiteral("recipe-json"), recipeJson, result.recipeObjectId); !s)
        return s.error();
    if (Status s = storeArtifact(QStringLiteral("predictions"), QStringLiteral("csv"),
                                 predictionsCsv(*yEval, *predictions, numClasses), result.predictionsObjectId);
        !s)
        return s.error();
    const QVariantMap diag = (*model)->diagnostics();
    for (auto it = diag.cbegin(); it != diag.cend(); ++it)
        if (Status s = m_ts.setTag(m_runId, QStringLiteral("model.") + it.key(), paramText(it.value())); !s)
            return s.error();
    return result;
}

} // namespace

Expected<TrainingResult> runTraining(workspace::Workspace &ws, const TrainingConfig &config, Feedback *feedback)
{
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    tracking::RunRecord record;
    record.experiment = config.experiment;
    record.name = config.name;
    record.config = config.text;
    auto runId = (*ts)->createRun(record);
    if (!runId)
        return runId.error();
    const QVariant threads = config.params.value(QStringLiteral("threads"));
    const std::vector<std::pair<QString, QString>> tags = {
        {QStringLiteral("git.commit"), ws.git().headCommit()},
        {QStringLiteral("keel.version"), QStringLiteral(KEEL_VERSION_STRING)},
        {QStringLiteral("threads"), QString::number(threads.isValid() ? threads.toInt() : QThread::idealThreadCount())},
        {QStringLiteral("platform"), QSysInfo::prettyProductName()},
        {QStringLiteral("config.file"), config.sourceName},
    };
    Status tagged;
    for (const auto &[k, v] : tags) {
        tagged = (*ts)->setTag(*runId, k, v);
        if (!tagged)
            break;
    }
    Expected<TrainingResult> result = tagged ? RunExecutor(ws, **ts, config, *runId, feedback).run()
                                             : Expected<TrainingResult>(tagged.error());
    if (!result) {
        const bool cancelled = result.error().message == u"cancelled";
        (void)(*ts)->setTag(*runId, QStringLiteral("error"), result.error().toString());
        (void)(*ts)->finishRun(*runId, cancelled ? tracking::RunStatus::Killed : tracking::RunStatus::Failed);
        return result;
    }
    if (Status s = (*ts)->finishRun(*runId, tracking::RunStatus::Finished); !s)
        return s.error();
    return result;
}

Expected<TrainingResult> runTraining(workspace::Workspace &ws, const QString &configPath, Feedback *feedback)
{
    auto config = TrainingConfig::fromFile(configPath);
    if (!config)
        return config.error();
    return runTraining(ws, *config, feedback);
}

} // namespace keel::ml
