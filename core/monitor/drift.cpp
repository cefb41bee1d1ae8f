#include "monitor/drift.h"

#include "data/rules.h"

#include "monitor/windows.h"

#include "deploy/deployment.h"
#include "registry/registry.h"
#include "serve/endpoint.h"
#include "serve/predictionlog.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

#include <cmath>
#include <map>

namespace keel::monitor {

namespace {

/// A prediction column: P(class 1) for binary models, the value for regression, the label for multiclass.
data::Column predictionColumn(const serve::ModelRuntime &rt, const std::vector<double> &p, qint64 rows)
{
    const ml::Task task = rt.version().task;
    if (task == ml::Task::MulticlassClassification) {
        data::ColumnBuilder b(data::ColumnType::Categorical);
        for (qint64 r = 0; r < rows; ++r)
            b.appendString(rt.version().classes.value(rt.predictedClass(p, r)).toStdString());
        return b.finish(QStringLiteral("prediction"));
    }
    data::ColumnBuilder b(data::ColumnType::Float64);
    for (qint64 r = 0; r < rows; ++r)
        b.appendFloat64(p[size_t(r)]);
    return b.finish(QStringLiteral("prediction"));
}

data::Column loggedPredictions(const serve::ModelRuntime &rt, const std::vector<const serve::LoggedPrediction *> &window)
{
    const ml::Task task = rt.version().task;
    data::ColumnBuilder b(task == ml::Task::MulticlassClassification ? data::ColumnType::Categorical : data::ColumnType::Float64);
    for (const serve::LoggedPrediction *p : window) {
        const QJsonObject out = p->prediction.value(QStringLiteral("output")).toObject();
        if (task == ml::Task::MulticlassClassification) {
            b.appendString(out.value(QStringLiteral("label")).toString().toStdString());
        } else if (task == ml::Task::BinaryClassification) {
            const QJsonValue v = out.value(QStringLiteral("probabilities")).toObject().value(rt.version().classes.value(1));
            v.isDouble() ? b.appendFloat64(v.toDouble()) : b.appendNull();
        } else {
            const QJsonValue v = out.value(QStringLiteral("value"));
            v.isDouble() ? b.appendFloat64(v.toDouble()) : b.appendNull();
        }
    }
    return b.finish(QStringLiteral("prediction"));
}

/// The reference of a served version: the rows it trained on (its inputs) and its predictions on them.
struct Reference {
    data::Table table;
    workspace::DatasetVersion dataset;
};

Expected<Reference> loadReference(workspace::Workspace &ws, const serve::ModelRuntime &rt, Feedback *feedback)
{
    const registry::ModelVersion &v = rt.version();
    auto loaded = registry::loadVersion(ws, v);
    if (!loaded)
        return loaded.error();
    reportProgress(feedback, 0, 3, QStringLiteral("reference"));
    auto dataset = workspace::resolveDataset(ws, v.data.train);
    if (!dataset)
        return dataset.error();
    auto full = workspace::loadDataset(ws, *dataset, feedback);
    if (!full)
        return full.error();
    std::vector<qint64> trainRows;
    for (const QJsonValue &r : loaded->split.value(QStringLiteral("train")).toArray())
        trainRows.push_back(r.toInteger() - 1);
    if (trainRows.empty())
        for (qint64 r = 0; r < full->rowCount(); ++r)
            trainRows.push_back(r);
    auto rows = data::selectRows(*full, trainRows);
    if (!rows)
        return rows.error();
    std::vector<data::Column> refColumns;
    for (const registry::FeatureSchema &f : v.schema) {
        const int c = rows->indexOf(f.name);
        if (c < 0)
            return makeError(ErrorKind::Corrupt, QStringLiteral("the training data has no column '%1'").arg(f.name), dataset->ref());
        refColumns.push_back(rows->column(c));
    }
    data::Table refInputs(refColumns);
    auto refPredictions = rt.predict(refInputs);
    if (!refPredictions)
        return refPredictions.error();
    refColumns.push_back(predictionColumn(rt, *refPredictions, refInputs.rowCount()));
    return Reference{data::Table(std::move(refColumns)), *dataset};
}

/// A window's inputs in the served schema plus its logged predictions: a feature a record lacks is missing; values are
/// checked as when they were served. `missing`/`unseen` count, per schema feature, missing values and categories the
/// model never saw.
Expected<data::Table> windowTable(const serve::ModelRuntime &rt, const std::vector<const serve::LoggedPrediction *> &predictions,
                                  std::vector<qint64> *missing, std::vector<qint64> *unseen)
{
    const registry::ModelVersion &v = rt.version();
    QJsonArray records;
    missing->assign(v.schema.size(), 0);
    unseen->assign(v.schema.size(), 0);
    for (const serve::LoggedPrediction *p : predictions) {
        const QJsonObject in = p->prediction.value(QStringLiteral("inputs")).toObject();
        QJsonObject rec;
        for (size_t i = 0; i < v.schema.size(); ++i) {
            const registry::FeatureSchema &f = v.schema[i];
            const QJsonValue value = in.value(f.name);
            rec.insert(f.name, value.isUndefined() ? QJsonValue(QJsonValue::Null) : value);
            if (value.isNull() || value.isUndefined())
                ++(*missing)[i];
            else if (value.isString() && !f.categories.isEmpty() && !f.categories.contains(value.toString()))
                ++(*unseen)[i];
        }
        records.append(rec);
    }
    auto inputs = rt.toTable(records);
    if (!inputs)
        return inputs.error();
    std::vector<data::Column> columns = inputs->columns();
    columns.push_back(loggedPredictions(rt, predictions));
    return data::Table(std::move(columns));
}

QJsonObject statsJson(const data::ColumnDiff &d)
{
    QJsonObject o;
    const auto put = [&o](const char *key, const std::optional<double> &v) {
        if (v && std::isfinite(*v))
            o.insert(QLatin1String(key), *v);
    };
    put("psi", d.psi);
    put("ks", d.ks);
    put("ks_pvalue", d.ksPValue);
    put("wasserstein", d.wasserstein);
    put("chi2", d.chi2);
    put("chi2_pvalue", d.chi2PValue);
    put("js_distance", d.jensenShannonDistance);
    return o;
}

data::ColumnDiff statsFromJson(const QString &name, const QJsonObject &o)
{
    data::ColumnDiff d;
    d.name = name;
    d.change = data::ColumnDiff::Change::Changed;
    const auto get = [&o](const char *key) -> std::optional<double> {
        const QJsonValue v = o.value(QLatin1String(key));
        return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
    };
    d.psi = get("psi");
    d.ks = get("ks");
    d.ksPValue = get("ks_pvalue");
    d.wasserstein = get("wasserstein");
    d.chi2 = get("chi2");
    d.chi2PValue = get("chi2_pvalue");
    d.jensenShannonDistance = get("js_distance");
    return d;
}

/// What identifies a closed window's comparison: the version compared with, the binning, and the window's contents
/// (label, size, first and last prediction id). A window that is still filling is never cached.
QString cacheKey(const QString &version, int bins, const LogWindow &w)
{
    const auto id = [](const serve::LoggedPrediction *p) { return p->prediction.value(QStringLiteral("id")).toString(); };
    return QStringLiteral("%1|%2|%3|%4|%5|%6").arg(version).arg(bins).arg(w.label).arg(w.predictions.size())
        .arg(w.predictions.empty() ? QString() : id(w.predictions.front()), w.predictions.empty() ? QString() : id(w.predictions.back()));
}

} // namespace

QJsonObject DriftReport::toJson() const
{
    QJsonArray ws;
    for (const DriftWindow &w : windows) {
        QJsonArray fs;
        for (const FeatureDrift &f : w.features) {
            QJsonObject o{{QStringLiteral("feature"), f.feature}, {QStringLiteral("score"), f.score},
                          {QStringLiteral("statistic"), f.diff.driftStatistic()}, {QStringLiteral("level"), f.level},
                          {QStringLiteral("velocity"), f.velocity}, {QStringLiteral("missing_share"), f.missingShare},
                          {QStringLiteral("unseen_categories"), f.unseenCategories}, {QStringLiteral("out_of_rules"), f.outOfRules}};
            const QJsonObject stats = statsJson(f.diff);
            for (auto it = stats.begin(); it != stats.end(); ++it)
                o.insert(it.key(), it.value());
            fs.append(o);
        }
        ws.append(QJsonObject{{QStringLiteral("label"), w.label}, {QStringLiteral("start"), w.start.toString(Qt::ISODateWithMs)},
                              {QStringLiteral("end"), w.end.toString(Qt::ISODateWithMs)}, {QStringLiteral("predictions"), w.predictions},
                              {QStringLiteral("versions"), QJsonArray::fromStringList(w.versions)}, {QStringLiteral("features"), fs}});
    }
    return QJsonObject{{QStringLiteral("deployment"), deployment}, {QStringLiteral("version"), version},
                       {QStringLiteral("reference"), reference}, {QStringLiteral("reference_rows"), referenceRows},
                       {QStringLiteral("rules"), rules},
                       {QStringLiteral("windows"), ws}};
}

Expected<DriftReport> driftReport(workspace::Workspace &ws, const DriftRequest &request, Feedback *feedback)
{
    if (auto check = windowLog({}, request.window); !check)
        return check.error();
    if (!(request.smoothing > 0 && request.smoothing <= 1))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("must be in (0, 1]"), {}, -1, QStringLiteral("smoothing"));
    auto deployment = deploy::loadDeployment(ws, request.deployment);
    if (!deployment)
        return deployment.error();
    auto rt = serve::ModelRuntime::load(ws, deployment->model.version);
    if (!rt)
        return rt.error();
    const registry::ModelVersion &v = (*rt)->version();
    auto ref = loadReference(ws, **rt, feedback);
    if (!ref)
        return ref.error();
    const data::Table &reference = ref->table;
    const auto &dataset = ref->dataset;

    DriftReport report;
    report.deployment = request.deployment;
    report.version = v.ref();
    report.referenceRows = reference.rowCount();
    report.reference = QStringLiteral("the %1 training rows of %2 (%3)").arg(QLocale().toString(reference.rowCount()), dataset.ref(), v.ref());
    // The training dataset's rules, when the workspace keeps them where the deploy gate looks (rules/DATASET.yaml).
    std::optional<data::RuleSet> rules;
    if (const QString path = ws.root() + QStringLiteral("/rules/") + dataset.record.name + QStringLiteral(".yaml"); QFileInfo::exists(path)) {
        auto loaded = data::loadRules(path);
        if (!loaded)
            return loaded.error();
        for (data::ColumnRules &c : loaded->columns)
            c.required = false;   // a column the model does not read is not the traffic's fault
        rules = std::move(*loaded);
        report.rules = QStringLiteral("rules/") + dataset.record.name + QStringLiteral(".yaml");
    }
    const QString rulesStamp = rules ? QString::number(QFileInfo(ws.root() + QLatin1Char('/') + report.rules).lastModified().toMSecsSinceEpoch())
                                     : QString();

    // The windows.
    reportProgress(feedback, 1, 3, QStringLiteral("log"));
    std::vector<serve::LoggedPrediction> owned;
    auto log = reportLog(ws.root(), request.deployment, request.since, request.log, owned);
    if (!log)
        return log.error();
    auto windows = windowLog(**log, request.window);
    if (!windows)
        return windows.error();

    // Closed windows already compared are read from the cache: only new windows are computed.
    const QString cachePath = ws.keelDir() + QStringLiteral("/monitor/cache/") + request.deployment + QStringLiteral(".drift.json");
    QJsonObject cache, nextCache;
    if (auto bytes = readFile(cachePath); bytes)
        cache = QJsonDocument::fromJson(*bytes).object();   // a damaged cache is only recomputed

    reportProgress(feedback, 2, 3, QStringLiteral("compare"));
    std::map<QString, std::pair<double, double>> previous;   // feature -> (score, velocity) of the last window
    for (size_t wi = 0; wi < windows->size(); ++wi) {
        const LogWindow &slice = (*windows)[wi];
        if (isCancelled(feedback))
            return cancelledError();
        const std::vector<const serve::LoggedPrediction *> &predictions = slice.predictions;
        DriftWindow window;
        window.label = slice.label;
        window.start = slice.start;
        window.end = slice.end;
        window.versions = slice.versions;
        window.predictions = qint64(predictions.size());
        const bool closed = wi + 1 < windows->size();
        const QString key = cacheKey(v.ref(), request.bins, slice) + (rules ? QStringLiteral("|rules:") + rulesStamp : QString());
        const auto velocityOf = [&](FeatureDrift &f) {
            const auto it = previous.find(f.feature);
            if (it != previous.end())
                f.velocity = request.smoothing * (f.score - it->second.first) + (1 - request.smoothing) * it->second.second;
            previous[f.feature] = {f.score, f.velocity};
        };
        if (const QJsonArray cached = cache.value(key).toArray(); closed && !cached.isEmpty()) {
            for (const QJsonValue &value : cached) {
                const QJsonObject o = value.toObject();
                FeatureDrift f;
                f.feature = o.value(QStringLiteral("feature")).toString();
                f.diff = statsFromJson(f.feature, o);
                f.score = f.diff.driftScore();
                f.level = data::driftLevel(f.score, f.diff.driftStatistic());
                f.missingShare = o.value(QStringLiteral("missing_share")).toDouble();
                f.unseenCategories = o.value(QStringLiteral("unseen_categories")).toInteger();
                f.outOfRules = o.value(QStringLiteral("out_of_rules")).toInteger();
                velocityOf(f);
                window.features.push_back(std::move(f));
            }
            nextCache.insert(key, cached);
            report.windows.push_back(std::move(window));
            continue;
        }
        std::vector<qint64> missing, unseen;
        auto current = windowTable(**rt, predictions, &missing, &unseen);
        if (!current)
            return makeError(ErrorKind::Corrupt, QStringLiteral("window %1: %2").arg(window.label, current.error().toString()));
        auto diff = data::diffTables(reference, *current, {QString(), request.bins}, feedback);
        if (!diff)
            return diff.error();
        std::map<QString, qint64> outOfRules;
        if (rules)
            for (const data::Violation &violation : data::validateTable(*current, *rules).violations)
                if (violation.rule == u"min" || violation.rule == u"max" || violation.rule == u"allowed" || violation.rule == u"regex")
                    outOfRules[violation.column] += violation.count;
        for (const data::ColumnDiff &c : diff->columns) {
            FeatureDrift f;
            f.feature = c.name;
            f.diff = c;
            f.score = c.driftScore();
            f.level = data::driftLevel(f.score, c.driftStatistic());
            for (size_t i = 0; i < v.schema.size(); ++i)
                if (v.schema[i].name == c.name) {
                    f.missingShare = predictions.empty() ? 0.0 : double(missing[i]) / double(predictions.size());
                    f.unseenCategories = unseen[i];
                }
            if (const auto it = outOfRules.find(c.name); it != outOfRules.end())
                f.outOfRules = it->second;
            velocityOf(f);
            window.features.push_back(std::move(f));
        }
        if (closed) {
            QJsonArray entry;
            for (const FeatureDrift &f : window.features) {
                QJsonObject o = statsJson(f.diff);
                o.insert(QStringLiteral("feature"), f.feature);
                o.insert(QStringLiteral("missing_share"), f.missingShare);
                o.insert(QStringLiteral("unseen_categories"), f.unseenCategories);
                o.insert(QStringLiteral("out_of_rules"), f.outOfRules);
                entry.append(o);
            }
            nextCache.insert(key, entry);
        }
        report.windows.push_back(std::move(window));
    }
    if (nextCache != cache) {
        QDir().mkpath(QFileInfo(cachePath).absolutePath());
        if (Status s = writeFileAtomic(cachePath, QJsonDocument(nextCache).toJson(QJsonDocument::Compact)); !s)
            if (feedback)
                feedback->warn(QStringLiteral("the drift cache was not written: ") + s.error().toString());
    }
    reportProgress(feedback, 3, 3, QStringLiteral("compare"));
    return report;
}

Expected<data::DistributionComparison> windowDistribution(workspace::Workspace &ws, const DriftRequest &request,
                                                          const QString &windowLabel, const QString &feature, Feedback *feedback)
{
    auto deployment = deploy::loadDeployment(ws, request.deployment);
    if (!deployment)
        return deployment.error();
    auto rt = serve::ModelRuntime::load(ws, deployment->model.version);
    if (!rt)
        return rt.error();
    std::vector<serve::LoggedPrediction> owned;
    auto log = reportLog(ws.root(), request.deployment, request.since, request.log, owned);
    if (!log)
        return log.error();
    auto windows = windowLog(**log, request.window);
    if (!windows)
        return windows.error();
    const auto w = std::find_if(windows->begin(), windows->end(), [&](const LogWindow &x) { return x.label == windowLabel; });
    if (w == windows->end())
        return makeError(ErrorKind::NotFound, QStringLiteral("no window '%1' in the log of %2").arg(windowLabel, request.deployment), {}, -1,
                         QStringLiteral("window"));
    auto ref = loadReference(ws, **rt, feedback);
    if (!ref)
        return ref.error();
    std::vector<qint64> missing, unseen;
    auto current = windowTable(**rt, w->predictions, &missing, &unseen);
    if (!current)
        return current.error();
    const int a = ref->table.indexOf(feature), b = current->indexOf(feature);
    if (a < 0 || b < 0)
        return makeError(ErrorKind::NotFound, QStringLiteral("%1 has no input '%2'").arg(deployment->model.version, feature), {}, -1,
                         QStringLiteral("feature"));
    return data::compareDistributions(&ref->table.column(a), &current->column(b), 30, 12, feedback);
}

} // namespace keel::monitor
