// keel train CONFIG, keel runs list, keel runs show RUN.
#include "commands.h"

#include "ml/training.h"
#include "tracking/trackingstore.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QLocale>

#include <map>

namespace keel::cli {

namespace {

QString num(double v) { return QString::number(v, 'g', 6); }

QString formatDuration(const tracking::RunRecord &r)
{
    if (!r.start.isValid() || !r.end.isValid())
        return QStringLiteral("-");
    const qint64 ms = r.start.msecsTo(r.end);
    if (ms < 60'000)
        return QString::number(double(ms) / 1000.0, 'f', 1) + QStringLiteral("s");
    const qint64 s = ms / 1000;
    if (s < 3600)
        return QStringLiteral("%1m%2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1h%2m").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
}

QString timeText(const QDateTime &t)
{
    return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QString();
}

QString isoText(const QDateTime &t) { return t.isValid() ? t.toUTC().toString(Qt::ISODateWithMs) : QString(); }

/// The run's headline metric: test accuracy for classifiers, test RMSE for regressors.
std::optional<std::pair<QString, double>> headline(tracking::TrackingStore &ts, const QString &runId)
{
    for (const QString &key : {QStringLiteral("test.accuracy"), QStringLiteral("test.rmse")}) {
        auto m = ts.metrics(runId, key);
        if (m && !m->empty())
            return std::pair(key, m->back().value);
    }
    return std::nullopt;
}

Expected<tracking::TrackingStore *> trackingOf(Context &ctx)
{
    workspace::Workspace *ws = ctx.workspace();
    if (!ws)
        return makeError(QString());
    return ws->tracking();
}

int cmdTrain(Context &ctx)
{
    workspace::Workspace *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto result = ml::runTraining(*ws, ctx.args().at(0), ctx.feedback());
    ctx.endProgress();
    if (!result)
        return ctx.fail(result.error());
    if (ctx.json()) {
        QJsonObject metrics;
        for (auto it = result->metrics.cbegin(); it != result->metrics.cend(); ++it)
            metrics.insert(it.key(), it.value().toDouble());
        ctx.printJson(QJsonObject{{QStringLiteral("run"), result->runId},
                                  {QStringLiteral("experiment"), result->experiment},
                                  {QStringLiteral("model_kind"), result->modelKind},
                                  {QStringLiteral("model"), result->modelObjectId},
                                  {QStringLiteral("recipe"), result->recipeObjectId},
                                  {QStringLiteral("predictions"), result->predictionsObjectId},
                                  {QStringLiteral("rounds"), result->rounds},
                                  {QStringLiteral("train_rows"), result->trainRows},
                                  {QStringLiteral("validation_rows"), result->validationRows},
                                  {QStringLiteral("evaluation_rows"), result->evaluationRows},
                                  {QStringLiteral("metrics"), metrics}});
        return 0;
    }
    ctx.out << "run " << result->runId << " (experiment " << result->experiment << ") finished\n";
    ctx.out << "rows: train " << result->trainRows << ", validation " << result->validationRows << ", evaluation "
            << result->evaluationRows << "; rounds " << result->rounds << '\n';
    std::vector<QStringList> rows;
    for (auto it = result->metrics.cbegin(); it != result->metrics.cend(); ++it)
        rows.push_back({it.key(), num(it.value().toDouble())});
    ctx.out << formatTable({QStringLiteral("metric"), QStringLiteral("value")}, rows, {1});
    ctx.out << "model (" << result->modelKind << "): " << result->modelObjectId << '\n';
    return 0;
}

int cmdRunsList(Context &ctx)
{
    auto ts = trackingOf(ctx);
    if (!ts)
        return ts.error().message.isEmpty() ? 1 : ctx.fail(ts.error());
    if (auto killed = (*ts)->markDeadRunsKilled(); !killed)
        return ctx.fail(killed.error());
    auto runs = (*ts)->runs(ctx.parser.value(QStringLiteral("experiment")));
    if (!runs)
        return ctx.fail(runs.error());
    QJsonArray arr;
    std::vector<QStringList> rows;
    for (const tracking::RunRecord &r : *runs) {
        const auto h = headline(**ts, r.id);
        if (ctx.json()) {
            QJsonObject o{{QStringLiteral("id"), r.id},
                          {QStringLiteral("experiment"), r.experiment},
                          {QStringLiteral("name"), r.name},
                          {QStringLiteral("status"), tracking::runStatusName(r.status)},
                          {QStringLiteral("start"), isoText(r.start)},
                          {QStringLiteral("end"), isoText(r.end)}};
            if (h)
                o.insert(QStringLiteral("headline"), QJsonObject{{QStringLiteral("key"), h->first},
                                                                 {QStringLiteral("value"), h->second}});
            arr.append(o);
        } else {
            rows.push_back({r.id.left(8), r.experiment, r.name, tracking::runStatusName(r.status), timeText(r.start),
                            formatDuration(r), h ? QString(h->first.mid(5) + QLatin1Char('=') + num(h->second)) : QString()});
        }
    }
    if (ctx.json()) {
        ctx.printJson(arr);
        return 0;
    }
    if (rows.empty()) {
        ctx.out << "no runs\n";
        return 0;
    }
    ctx.out << formatTable({QStringLiteral("id"), QStringLiteral("experiment"), QStringLiteral("name"),
                            QStringLiteral("status"), QStringLiteral("start"), QStringLiteral("duration"),
                            QStringLiteral("metric")},
                           rows, {5});
    return 0;
}

int cmdRunsShow(Context &ctx)
{
    auto ts = trackingOf(ctx);
    if (!ts)
        return ts.error().message.isEmpty() ? 1 : ctx.fail(ts.error());
    auto all = (*ts)->runs();
    if (!all)
        return ctx.fail(all.error());
    const QString prefix = ctx.args().at(0);
    std::vector<const tracking::RunRecord *> matches;
    for (const tracking::RunRecord &r : *all)
        if (r.id.startsWith(prefix, Qt::CaseInsensitive))
            matches.push_back(&r);
    if (matches.empty())
        return ctx.fail(QStringLiteral("no run with id starting '%1'").arg(prefix));
    if (matches.size() > 1)
        return ctx.fail(QStringLiteral("'%1' matches %2 runs; give more of the id").arg(prefix).arg(matches.size()));
    const tracking::RunRecord &run = *matches.front();
    auto params = (*ts)->params(run.id);
    auto metrics = (*ts)->metrics(run.id);
    auto tags = (*ts)->tags(run.id);
    auto artifacts = (*ts)->artifacts(run.id);
    auto lineage = (*ts)->lineage(QStringLiteral("run"), run.id);
    for (const Status &s : {params.status(), metrics.status(), tags.status(), artifacts.status(), lineage.status()})
        if (!s)
            return ctx.fail(s.error());
    // Final metrics: the last point per key; series (more than one point) also report their length.
    std::map<QString, std::pair<double, qint64>> finals;
    for (const tracking::MetricPoint &p : *metrics) {
        auto &e = finals[p.key];
        e.first = p.value;
        ++e.second;
    }
    if (ctx.json()) {
        QJsonObject o{{QStringLiteral("id"), run.id},
                      {QStringLiteral("experiment"), run.experiment},
                      {QStringLiteral("name"), run.name},
                      {QStringLiteral("status"), tracking::runStatusName(run.status)},
                      {QStringLiteral("user"), run.user},
                      {QStringLiteral("host"), run.host},
                      {QStringLiteral("start"), isoText(run.start)},
                      {QStringLiteral("end"), isoText(run.end)},
                      {QStringLiteral("config"), run.config}};
        QJsonObject p, t, m;
        for (const auto &[k, v] : *params)
            p.insert(k, v);
        for (const auto &[k, v] : *tags)
            t.insert(k, v);
        for (const auto &[k, v] : finals)
            m.insert(k, QJsonObject{{QStringLiteral("last"), v.first}, {QStringLiteral("points"), v.second}});
        QJsonArray a, l;
        for (const tracking::ArtifactRecord &r : *artifacts)
            a.append(QJsonObject{{QStringLiteral("name"), r.name}, {QStringLiteral("object"), r.objectId},
                                 {QStringLiteral("size"), r.size}, {QStringLiteral("kind"), r.kind}});
        for (const tracking::LineageEdge &e : *lineage)
            l.append(QJsonObject{{QStringLiteral("src_kind"), e.srcKind}, {QStringLiteral("src"), e.srcId},
                                 {QStringLiteral("dst_kind"), e.dstKind}, {QStringLiteral("dst"), e.dstId},
                                 {QStringLiteral("relation"), e.relation}});
        o.insert(QStringLiteral("params"), p);
        o.insert(QStringLiteral("tags"), t);
        o.insert(QStringLiteral("metrics"), m);
        o.insert(QStringLiteral("artifacts"), a);
        o.insert(QStringLiteral("lineage"), l);
        ctx.printJson(o);
        return 0;
    }
    ctx.out << "run " << run.id << '\n'
            << "experiment " << run.experiment << ", name " << run.name << ", status "
            << tracking::runStatusName(run.status) << '\n'
            << "started " << timeText(run.start) << " by " << run.user << '@' << run.host << ", duration "
            << formatDuration(run) << "\n\n";
    std::vector<QStringList> rows;
    for (const auto &[k, v] : *params)
        rows.push_back({k, v});
    ctx.out << formatTable({QStringLiteral("param"), QStringLiteral("value")}, rows) << '\n';
    rows.clear();
    for (const auto &[k, v] : finals)
        rows.push_back({k, num(v.first), v.second > 1 ? QString(QString::number(v.second) + QStringLiteral(" points")) : QString()});
    ctx.out << formatTable({QStringLiteral("metric"), QStringLiteral("value"), QStringLiteral("series")}, rows, {1}) << '\n';
    rows.clear();
    for (const tracking::ArtifactRecord &r : *artifacts)
        rows.push_back({r.name, r.kind, formatBytes(r.size), r.objectId});
    ctx.out << formatTable({QStringLiteral("artifact"), QStringLiteral("kind"), QStringLiteral("size"), QStringLiteral("object")},
                           rows, {2})
            << '\n';
    rows.clear();
    for (const tracking::LineageEdge &e : *lineage)
        rows.push_back({e.srcKind + QLatin1Char(':') + e.srcId.left(12), e.relation, e.dstKind + QLatin1Char(':') + e.dstId.left(12)});
    ctx.out << formatTable({QStringLiteral("source"), QStringLiteral("relation"), QStringLiteral("target")}, rows) << '\n';
    rows.clear();
    for (const auto &[k, v] : *tags)
        rows.push_back({k, v});
    ctx.out << formatTable({QStringLiteral("tag"), QStringLiteral("value")}, rows);
    return 0;
}

} // namespace

std::vector<Command> trainCommands()
{
    std::vector<Command> v;
    v.push_back({{QStringLiteral("train")}, QStringLiteral("CONFIG"),
                 QStringLiteral("Train a model from a YAML training config and track the run"),
                 QStringLiteral("Resolves the config's dataset version(s), fits the preprocessing recipe and the learner on the\n"
                                "training part of the split (early stopping on the validation part), evaluates on the\n"
                                "'evaluate' dataset or the held-out part, and records the run: params, curves, final\n"
                                "metrics, the model, fitted recipe and predictions as artifacts, lineage and tags.\n"
                                "Config errors name the file, line and field. See resources/examples/configs/."),
                 1, 1, {}, cmdTrain});
    v.push_back({{QStringLiteral("runs"), QStringLiteral("list")}, QString(), QStringLiteral("List tracked runs"),
                 QStringLiteral("Lists runs, oldest first, with status, start, duration and headline metric (test accuracy\n"
                                "or RMSE). Runs whose process died are marked killed first."),
                 0, 0,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("experiment"), QStringLiteral("Only runs of this experiment."),
                                  QStringLiteral("name")});
                 },
                 cmdRunsList});
    v.push_back({{QStringLiteral("runs"), QStringLiteral("show")}, QStringLiteral("RUN"),
                 QStringLiteral("Show a run's params, metrics, artifacts, lineage and tags"),
                 QStringLiteral("RUN is a run id or a unique prefix of one."), 1, 1, {}, cmdRunsShow});
    return v;
}

} // namespace keel::cli
