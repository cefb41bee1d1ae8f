// keel train CONFIG, keel runs list, keel runs show RUN.
#include "commands.h"

#include "ml/sweep.h"
#include "ml/training.h"
#include "ml/trainingevents.h"
#include "tracking/metrickeys.h"
#include "tracking/trackingstore.h"
#include "store/objectstore.h"
#include "data/calendar.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QDateTime>
#include <QHash>
#include <QJsonDocument>
#include <QLocale>
#include <QRegularExpression>
#include <QThread>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>


namespace keel::cli {

namespace {

QString num(double v) { return QString::number(v, 'g', 6); }

/// A run's duration as "12.3s", "4m05s" or "2h07m" (tenths of a second rounded half up from whole milliseconds);
/// "-" while it runs. Returns the text's length in `out`.
int durationText(std::optional<qint64> startMs, std::optional<qint64> endMs, char (&out)[32])
{
    if (!startMs || !endMs)
        return std::snprintf(out, sizeof out, "-");
    const qint64 ms = *endMs - *startMs;
    const qint64 tenths = (ms + (ms < 0 ? -50 : 50)) / 100;
    if (tenths < 600)   // under a minute once rounded (59.96 s is 1m00s, not 60.0s)
        return std::snprintf(out, sizeof out, "%s%lld.%llds", tenths < 0 ? "-" : "", std::llabs(tenths) / 10, std::llabs(tenths) % 10);
    const qint64 s = std::max<qint64>(60, ms / 1000);
    if (s < 3600)
        return std::snprintf(out, sizeof out, "%lldm%02llds", s / 60, s % 60);
    return std::snprintf(out, sizeof out, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
}

QString formatDuration(const tracking::RunRecord &r)
{
    char text[32];
    const auto ms = [](const QDateTime &t) { return t.isValid() ? std::optional<qint64>(t.toMSecsSinceEpoch()) : std::nullopt; };
    return QString::fromLatin1(text, durationText(ms(r.start), ms(r.end), text));
}

/// An instant as "YYYY-MM-DD HH:MM:SS" in local time; returns the text's length (19) in `out`, or 0 for a year
/// outside 0 to 9999.
int localTimeText(qint64 ms, char (&out)[32])
{
    // A run table formats a time per run: the local offset is looked up once per quarter hour of UTC time (zone
    // transitions fall on quarter hours, Newfoundland's included), and the text is built without QLocale.
    // The runner formats on one thread.
    static QHash<qint64, int> offsetByQuarter;
    const qint64 secs = ms >= 0 ? ms / 1000 : -((999 - ms) / 1000);
    const qint64 quarter = secs >= 0 ? secs / 900 : -((899 - secs) / 900);
    auto it = offsetByQuarter.constFind(quarter);
    if (it == offsetByQuarter.constEnd())
        it = offsetByQuarter.insert(quarter, QDateTime::fromSecsSinceEpoch(secs).offsetFromUtc());
    const qint64 local = secs + *it;
    const qint64 days = local >= 0 ? local / 86400 : -((86399 - local) / 86400);
    const qint64 rest = local - days * 86400;
    const data::CivilDate d = data::civilFromDays(days);
    if (d.year < 0 || d.year > 9999)
        return 0;
    return std::snprintf(out, sizeof out, "%04d-%02d-%02d %02d:%02d:%02d", int(d.year), d.month, d.day, int(rest / 3600),
                         int(rest % 3600 / 60), int(rest % 60));
}

QString timeText(const QDateTime &t)
{
    if (!t.isValid())
        return {};
    char text[32];
    return QString::fromLatin1(text, localTimeText(t.toMSecsSinceEpoch(), text));
}

QString isoText(const QDateTime &t) { return t.isValid() ? t.toUTC().toString(Qt::ISODateWithMs) : QString(); }

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
    const bool events = ctx.parser.isSet(QStringLiteral("events"));
    const QString from = ctx.parser.value(QStringLiteral("from"));
    if (ctx.args().isEmpty() == from.isEmpty())
        return ctx.usage(QStringLiteral("give a CONFIG file or --from RUN (one of them)"));
    ml::TrainingSource source;
    if (from.isEmpty()) {
        source.configPath = ctx.path(ctx.args().at(0));
        source.sourceName = ctx.args().at(0);
    }
    source.fromRun = from;
    source.overrides = ctx.parser.values(QStringLiteral("set"));
    source.parentRun = ctx.parser.value(QStringLiteral("parent"));
    source.sweepId = ctx.parser.value(QStringLiteral("sweep-id"));
    auto config = ml::resolveTrainingConfig(*ws, source);
    if (!config)
        return ctx.fail(config.error());

    Feedback *feedback = ctx.feedback();
    if (events) {
        // The event stream a workbench, a sweep or a script reads: one JSON object per line, flushed as it happens.
        auto result = ml::runTrainingWithEvents(*ws, *config, feedback, [&ctx](const ml::TrainingEvent &e) {
            ctx.out << QString::fromUtf8(ml::trainingEventLine(e));
            ctx.out.flush();
        });
        if (result)
            return 0;
        if (result.is(ErrorKind::Cancelled))
            return 130;
        ctx.fail(result.error());
        return 1;
    }
    QString runId;
    ml::TrainingObserver observer;
    observer.started = [&runId](const QString &id, const QString &) { runId = id; };
    auto result = ml::runTraining(*ws, *config, feedback, &observer);
    ctx.endProgress();
    const bool cancelled = result.is(ErrorKind::Cancelled);
    if (!result) {
        if (cancelled) {
            ctx.err << "keel: run " << runId << " cancelled; recorded as killed\n";
            return 130;
        }
        if (!runId.isEmpty())
            ctx.err << "keel: run " << runId << " failed\n";
        return ctx.fail(result.error());
    }
    if (ctx.json()) {
        QJsonObject metrics;
        for (auto it = result->metrics.cbegin(); it != result->metrics.cend(); ++it)
            metrics.insert(it.key(), it.value().toDouble());
        ctx.printJson(QJsonObject{{QStringLiteral("run"), result->runId},
                                  {QStringLiteral("experiment"), result->experiment},
                                  {QStringLiteral("parent"), config->parentRunId},
                                  {QStringLiteral("model_kind"), result->modelKind},
                                  {QStringLiteral("model"), result->modelObjectId},
                                  {QStringLiteral("recipe"), result->recipeObjectId},
                                  {QStringLiteral("predictions"), result->predictionsObjectId},
                                  {QStringLiteral("split"), result->splitObjectId},
                                  {QStringLiteral("dropped_missing_target"), result->droppedMissingTarget},
                                  {QStringLiteral("rounds"), result->rounds},
                                  {QStringLiteral("train_rows"), result->trainRows},
                                  {QStringLiteral("validation_rows"), result->validationRows},
                                  {QStringLiteral("evaluation_rows"), result->evaluationRows},
                                  {QStringLiteral("metrics"), metrics}});
        return 0;
    }
    ctx.out << "run " << result->runId << " (experiment " << result->experiment << ") finished\n";
    if (!config->parentRunId.isEmpty())
        ctx.out << "branched from run " << config->parentRunId << '\n';
    ctx.out << "rows: train " << result->trainRows << ", validation " << result->validationRows << ", test "
            << result->evaluationRows << "; rounds " << result->rounds << '\n';
    if (result->droppedMissingTarget > 0)
        ctx.out << "dropped " << result->droppedMissingTarget << " rows whose target is missing\n";
    std::vector<QStringList> rows;
    for (auto it = result->metrics.cbegin(); it != result->metrics.cend(); ++it)
        rows.push_back({it.key(), num(it.value().toDouble())});
    ctx.out << formatTable({QStringLiteral("metric"), QStringLiteral("value")}, rows, {1});
    ctx.out << "model (" << result->modelKind << "): " << result->modelObjectId << '\n';
    return 0;
}

/// The final metrics of a run (tracking/metrickeys.h).
Expected<std::map<QString, double>> finalMetrics(tracking::TrackingStore &ts, const QString &runId)
{
    auto points = ts.metrics(runId);
    if (!points)
        return points.error();
    const auto finals = tracking::finalMetrics(*points);
    return std::map<QString, double>(finals.begin(), finals.end());
}

int cmdRunsCompare(Context &ctx)
{
    auto ts = trackingOf(ctx);
    if (!ts)
        return ts.error().message.isEmpty() ? 1 : ctx.fail(ts.error());
    std::vector<tracking::RunRecord> runs;
    std::vector<std::map<QString, QString>> params;
    std::vector<std::map<QString, double>> metrics;
    for (const QString &prefix : ctx.args()) {
        auto run = (*ts)->findRun(prefix);
        if (!run)
            return ctx.fail(run.error());
        auto p = (*ts)->params(run->id);
        if (!p)
            return ctx.fail(p.error());
        auto m = finalMetrics(**ts, run->id);
        if (!m)
            return ctx.fail(m.error());
        runs.push_back(*run);
        params.emplace_back(p->begin(), p->end());
        metrics.push_back(*m);
    }
    const bool all = ctx.parser.isSet(QStringLiteral("all"));
    std::set<QString> metricKeys;
    for (const auto &m : metrics)
        for (const auto &[k, v] : m)
            metricKeys.insert(k);
    std::vector<std::vector<std::pair<QString, QString>>> paramLists;
    for (const auto &p : params)
        paramLists.emplace_back(p.begin(), p.end());
    const tracking::ParamComparison comparison = tracking::compareParams(paramLists);
    std::vector<QString> shownParams;
    for (const auto &[k, differs] : comparison.keys)
        if (differs || all)
            shownParams.push_back(k);
    const int same = comparison.sameCount();
    if (ctx.json()) {
        QJsonArray arr;
        for (size_t i = 0; i < runs.size(); ++i) {
            QJsonObject p, m;
            for (const QString &k : shownParams)
                p.insert(k, params[i].count(k) ? QJsonValue(params[i].at(k)) : QJsonValue());
            for (const auto &[k, v] : metrics[i])
                m.insert(k, v);
            arr.append(QJsonObject{{QStringLiteral("id"), runs[i].id}, {QStringLiteral("name"), runs[i].name},
                                   {QStringLiteral("status"), tracking::runStatusName(runs[i].status)},
                                   {QStringLiteral("params"), p}, {QStringLiteral("metrics"), m}});
        }
        ctx.printJson(QJsonObject{{QStringLiteral("runs"), arr}, {QStringLiteral("same_params"), same},
                                  {QStringLiteral("all_params"), all}});
        return 0;
    }
    QStringList header{QString()};
    for (const tracking::RunRecord &r : runs)
        header << r.id.left(8) + QLatin1Char(' ') + r.name;
    std::vector<QStringList> rows;
    for (const QString &k : shownParams) {
        QStringList row{k};
        for (const auto &p : params)
            row << (p.count(k) ? p.at(k) : QStringLiteral("-"));
        rows.push_back(row);
    }
    ctx.out << (all ? "params\n" : "params that differ\n");
    if (rows.empty())
        ctx.out << "  (none: every param is the same)\n";
    else
        ctx.out << formatTable(header, rows);
    if (!all && same > 0)
        ctx.out << same << " params are the same in every run (show them with --all)\n";
    ctx.out << "\nmetrics (final values)\n";
    rows.clear();
    QList<int> right;
    for (int i = 1; i <= int(runs.size()); ++i)
        right << i;
    for (const QString &k : metricKeys) {
        QStringList row{k};
        for (const auto &m : metrics)
            row << (m.count(k) ? num(m.at(k)) : QStringLiteral("-"));
        rows.push_back(row);
    }
    if (rows.empty())
        ctx.out << "  (no metrics recorded)\n";
    else
        ctx.out << formatTable(header, rows, right);
    return 0;
}

int cmdRunsReproduce(Context &ctx)
{
    workspace::Workspace *ws = ctx.workspace();
    if (!ws)
        return 1;
    Feedback *feedback = ctx.feedback();
    auto r = ml::reproduceRun(*ws, ctx.args().at(0), feedback);
    ctx.endProgress();
    if (!r)
        return ctx.fail(r.error());
    const QString &originalId = r->originalRunId;
    const QString &newId = r->run.runId;
    const QStringList &notes = r->notes;
    const bool identical = r->identical, sameModel = r->sameModel;
    const qint64 rowsTotal = r->rows, rowsDiffering = r->rowsDiffering;
    const double maxDiff = r->maxAbsDifference;
    if (ctx.json()) {
        QJsonArray n;
        for (const QString &s : notes)
            n.append(s);
        ctx.printJson(QJsonObject{{QStringLiteral("original"), originalId}, {QStringLiteral("run"), newId},
                                  {QStringLiteral("identical"), identical}, {QStringLiteral("same_model"), sameModel},
                                  {QStringLiteral("rows"), rowsTotal}, {QStringLiteral("rows_differing"), rowsDiffering},
                                  {QStringLiteral("max_abs_difference"), maxDiff}, {QStringLiteral("notes"), n}});
        return identical ? 0 : 3;
    }
    ctx.out << "reproduced run " << originalId << " as run " << newId << '\n';
    for (const QString &s : notes)
        ctx.out << "note: " << s << '\n';
    if (identical) {
        ctx.out << "predictions match exactly (" << rowsTotal << " rows)" << (sameModel ? "; the model is byte-identical" : "") << '\n';
        return 0;
    }
    ctx.out << "predictions DIFFER: " << rowsDiffering << " of " << rowsTotal << " rows, largest difference "
            << num(maxDiff) << '\n';
    return 3;
}

int cmdRunsList(Context &ctx)
{
    auto ts = trackingOf(ctx);
    if (!ts)
        return ts.error().message.isEmpty() ? 1 : ctx.fail(ts.error());
    if (auto killed = (*ts)->markDeadRunsKilled(); !killed)
        return ctx.fail(killed.error());
    const QString experiment = ctx.parser.value(QStringLiteral("experiment"));
    const auto utf8 = [](QUtf8StringView v) { return QString::fromUtf8(v.data(), v.size()); };
    if (ctx.json()) {
        QJsonArray arr;
        const auto iso = [](std::optional<qint64> ms) {
            char text[24];
            if (ms && data::formatUtcMillis(*ms, text))   // what isoText() gives, without a QDateTime per run
                return QString::fromLatin1(text, 24);
            return ms ? isoText(QDateTime::fromMSecsSinceEpoch(*ms, Qt::UTC)) : QString();
        };
        Status listed = (*ts)->forEachRunLine(experiment, nullptr, [&](const tracking::RunLine &r) {
            QJsonObject o{{QStringLiteral("id"), utf8(r.id)},
                          {QStringLiteral("experiment"), utf8(r.experiment)},
                          {QStringLiteral("name"), utf8(r.name)},
                          {QStringLiteral("status"), tracking::runStatusName(r.status)},
                          {QStringLiteral("parent"), utf8(r.parentRunId)},
                          {QStringLiteral("sweep"), utf8(r.sweepId)},
                          {QStringLiteral("start"), iso(r.startMs)},
                          {QStringLiteral("end"), iso(r.endMs)}};
            if (!r.headlineKey.isEmpty())
                o.insert(QStringLiteral("headline"), QJsonObject{{QStringLiteral("key"), r.headlineKey.toString()},
                                                                 {QStringLiteral("value"), r.headlineValue}});
            arr.append(o);
        });
        if (!listed)
            return ctx.fail(listed.error());
        ctx.printJson(arr);
        return 0;
    }
    // Streamed into one UTF-8 table: no record, string or list per run.
    TextTable table({QStringLiteral("id"), QStringLiteral("experiment"), QStringLiteral("name"), QStringLiteral("status"),
                     QStringLiteral("start"), QStringLiteral("duration"), QStringLiteral("metric")},
                    {5});
    std::map<tracking::RunStatus, QByteArray> statusText;
    qint64 count = 0;
    QByteArray metric;
    Status listed = (*ts)->forEachRunLine(experiment, nullptr, [&](const tracking::RunLine &r) {
        ++count;
        table.add(r.id.first(std::min<qsizetype>(8, r.id.size())));
        table.add(r.experiment);
        table.add(r.name);
        auto status = statusText.find(r.status);
        if (status == statusText.end())
            status = statusText.emplace(r.status, tracking::runStatusName(r.status).toUtf8()).first;
        table.add(QUtf8StringView(status->second.constData(), status->second.size()));
        char text[32];
        table.add(QUtf8StringView(text, r.startMs ? localTimeText(*r.startMs, text) : 0));
        table.add(QUtf8StringView(text, durationText(r.startMs, r.endMs, text)));
        metric.clear();
        if (!r.headlineKey.isEmpty())   // "accuracy=0.91" for test.accuracy
            metric += r.headlineKey.mid(r.headlineKey.indexOf(QLatin1Char('.')) + 1).toUtf8() + '=' +
                      QByteArray::number(r.headlineValue, 'g', 6);
        table.add(QUtf8StringView(metric.constData(), metric.size()));
        table.endRow();
    });
    if (!listed)
        return ctx.fail(listed.error());
    if (count == 0) {
        ctx.out << "no runs\n";
        return 0;
    }
    ctx.write(table.toUtf8());
    return 0;
}

int cmdRunsShow(Context &ctx)
{
    auto ts = trackingOf(ctx);
    if (!ts)
        return ts.error().message.isEmpty() ? 1 : ctx.fail(ts.error());
    auto found = (*ts)->findRun(ctx.args().at(0));
    if (!found)
        return ctx.fail(found.error());
    const tracking::RunRecord &run = *found;
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
                      {QStringLiteral("parent"), run.parentRunId},
                      {QStringLiteral("sweep"), run.sweepId},
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
            << formatDuration(run) << '\n';
    if (!run.parentRunId.isEmpty())
        ctx.out << (run.sweepId == run.parentRunId ? "trial of sweep " : "branched from run ") << run.parentRunId << '\n';
    else if (run.sweepId == run.id)
        ctx.out << "sweep (its trials are the runs whose parent is this run)\n";
    ctx.out << '\n';
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
                                "metrics, the model, fitted recipe, predictions and curves as artifacts, lineage and tags.\n"
                                "Config errors name the file, line and field. See resources/examples/configs/.\n"
                                "Branch from a past run with --from RUN (its recorded config) and --set KEY=VALUE changes;\n"
                                "the new run records the old one as its parent. Ctrl-C or SIGTERM stops the run cleanly\n"
                                "and records it as killed (exit code 130)."),
                 0, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("from"), QStringLiteral("Start from this run's recorded config (branch)."),
                                  QStringLiteral("run")});
                     p.addOption({QStringLiteral("set"),
                                  QStringLiteral("Change one config value, e.g. params.max_depth=4 (repeatable)."),
                                  QStringLiteral("key=value")});
                     p.addOption({QStringLiteral("parent"), QStringLiteral("Record this run as the new run's parent."),
                                  QStringLiteral("run")});
                     p.addOption({QStringLiteral("events"),
                                  QStringLiteral("Stream JSON Lines on stdout: started, progress, metric, finished/failed.")});
                     QCommandLineOption sweep(QStringLiteral("sweep-id"), QStringLiteral("Sweep this run is a trial of."),
                                              QStringLiteral("id"));
                     sweep.setFlags(QCommandLineOption::HiddenFromHelp);
                     p.addOption(sweep);
                 },
                 cmdTrain});
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
    v.push_back({{QStringLiteral("runs"), QStringLiteral("compare")}, QStringLiteral("RUN RUN..."),
                 QStringLiteral("Compare runs: differing params and all final metrics side by side"),
                 QStringLiteral("Shows the params whose values differ between the runs (all of them with --all) and the\n"
                                "final value of every metric of each run in one table."),
                 2, -1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("all"), QStringLiteral("Show every param, not only the differing ones.")});
                 },
                 cmdRunsCompare});
    v.push_back({{QStringLiteral("runs"), QStringLiteral("reproduce")}, QStringLiteral("RUN"),
                 QStringLiteral("Retrain a run from its recorded lineage and check the predictions match"),
                 QStringLiteral("Re-runs the recorded config on the exact dataset versions the run used (their content ids\n"
                                "are checked), as a new run whose parent is the original, then compares the predictions\n"
                                "byte for byte. Exit code 0 when they match exactly, 3 when they differ (the number of\n"
                                "differing rows and the largest difference are printed)."),
                 1, 1, {}, cmdRunsReproduce});
    return v;
}

} // namespace keel::cli
