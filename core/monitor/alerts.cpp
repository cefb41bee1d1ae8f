#include "monitor/alerts.h"

#include "deploy/deployment.h"
#include "monitor/drift.h"
#include "monitor/performance.h"
#include "monitor/windows.h"
#include "serve/predictionlog.h"
#include "util/fileutil.h"
#include "util/yaml.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTimer>
#include <QUrl>

#include <algorithm>
#include <cmath>
#include <map>

namespace keel::monitor {

namespace {

const QStringList kDriftMetrics{QStringLiteral("drift"), QStringLiteral("psi"), QStringLiteral("js_distance"),
                                QStringLiteral("ks"), QStringLiteral("wasserstein"), QStringLiteral("chi2_pvalue"),
                                QStringLiteral("velocity"), QStringLiteral("missing_share"), QStringLiteral("unseen_categories"),
                                QStringLiteral("out_of_rules")};
const QStringList kRealisedMetrics{QStringLiteral("accuracy"), QStringLiteral("roc_auc"), QStringLiteral("log_loss"),
                                   QStringLiteral("rmse"), QStringLiteral("mae")};
const QStringList kExpectedMetrics{QStringLiteral("expected_accuracy"), QStringLiteral("expected_roc_auc")};
const QStringList kServingMetrics{QStringLiteral("predictions"), QStringLiteral("latency_p50_ms"), QStringLiteral("latency_p99_ms")};
const QString kErrorRate = QStringLiteral("error_rate");

QString monitorPath(const QString &name) { return QStringLiteral("monitors/") + name + QStringLiteral(".yaml"); }
QString stateDir(workspace::Workspace &ws) { return ws.keelDir() + QStringLiteral("/monitor"); }
QString alertsPath(workspace::Workspace &ws) { return stateDir(ws) + QStringLiteral("/alerts.json"); }

QString fmt(double v)
{
    if (!std::isfinite(v))
        return QStringLiteral("-");
    return std::abs(v) >= 100 || v == std::floor(v) ? QString::number(v, 'f', v == std::floor(v) ? 0 : 1) : QString::number(v, 'g', 4);
}

Expected<QJsonObject> readJsonFile(const QString &path, const QJsonObject &absent)
{
    if (!QFileInfo::exists(path))
        return absent;
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(*bytes, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(ErrorKind::Corrupt, QStringLiteral("is not a JSON object: %1").arg(err.errorString()), path);
    return doc.object();
}

Status writeJsonFile(const QString &path, const QJsonObject &o)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    return writeFileAtomic(path, QJsonDocument(o).toJson(QJsonDocument::Indented));
}

/// Keeps the worst feature's value for "any": the highest for `above`, the lowest for `below`.
void pick(WindowValue &best, bool &have, double v, const QString &feature, const Rule &rule)
{
    if (!std::isfinite(v))
        return;
    const bool better = !have || (rule.below && !rule.above ? v < best.value : v > best.value);
    if (better) {
        best.value = v;
        best.feature = feature;
        have = true;
    }
}

bool holdsFor(const Rule &rule, double v)
{
    if (!std::isfinite(v))
        return false;
    return (rule.above && v > *rule.above) || (rule.below && v < *rule.below);
}

std::optional<double> driftValue(const FeatureDrift &f, const QString &metric)
{
    const data::ColumnDiff &d = f.diff;
    if (metric == u"drift")
        return f.score;
    if (metric == u"psi")
        return d.psi;
    if (metric == u"js_distance")
        return d.jensenShannonDistance;
    if (metric == u"ks")
        return d.ks;
    if (metric == u"wasserstein")
        return d.wasserstein;
    if (metric == u"chi2_pvalue")
        return d.chi2PValue;
    if (metric == u"velocity")
        return f.velocity;
    if (metric == u"missing_share")
        return f.missingShare;
    if (metric == u"unseen_categories")
        return double(f.unseenCategories);
    if (metric == u"out_of_rules")
        return double(f.outOfRules);
    return std::nullopt;
}

QJsonObject valueJson(const WindowValue &v)
{
    QJsonObject o{{QStringLiteral("window"), v.window}, {QStringLiteral("value"), v.value}, {QStringLiteral("holds"), v.holds}};
    if (!v.feature.isEmpty())
        o.insert(QStringLiteral("feature"), v.feature);
    return o;
}

QJsonObject actionJson(const ActionOutcome &a)
{
    return QJsonObject{{QStringLiteral("action"), a.kind}, {QStringLiteral("target"), a.target}, {QStringLiteral("ok"), a.ok},
                       {QStringLiteral("detail"), a.detail}};
}

ActionOutcome runCommand(const RuleAction &a, const QJsonObject &alert)
{
    ActionOutcome out{a.kind, a.target, false, {}};
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("KEEL_MONITOR"), alert.value(QStringLiteral("monitor")).toString());
    env.insert(QStringLiteral("KEEL_DEPLOYMENT"), alert.value(QStringLiteral("deployment")).toString());
    env.insert(QStringLiteral("KEEL_RULE"), alert.value(QStringLiteral("rule")).toString());
    env.insert(QStringLiteral("KEEL_ALERT"), QString::fromUtf8(QJsonDocument(alert).toJson(QJsonDocument::Compact)));
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), a.target});
    if (!p.waitForStarted(10000)) {
        out.detail = QStringLiteral("did not start: ") + p.errorString();
        return out;
    }
    p.closeWriteChannel();
    if (!p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished(5000);
        out.detail = QStringLiteral("killed after 60 s");
        return out;
    }
    const QByteArray output = p.readAll().trimmed().right(500);
    out.ok = p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    out.detail = QStringLiteral("exit %1").arg(p.exitCode()) + (output.isEmpty() ? QString() : QStringLiteral(": ") + QString::fromUtf8(output));
    return out;
}

ActionOutcome postWebhook(const RuleAction &a, const QJsonObject &alert)
{
    ActionOutcome out{a.kind, a.target, false, {}};
    QNetworkAccessManager nam;
    QNetworkRequest request{QUrl(a.target)};
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    request.setTransferTimeout(10000);
    QNetworkReply *reply = nam.post(request, QJsonDocument(alert).toJson(QJsonDocument::Compact));
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->error() != QNetworkReply::NoError && status == 0)
        out.detail = reply->errorString();
    else
        out.detail = QStringLiteral("HTTP %1").arg(status);
    out.ok = status >= 200 && status < 300;
    reply->deleteLater();
    return out;
}

/// Read-modify-write of the alert file under the workspace lock.
template <class F>
Status updateAlerts(workspace::Workspace &ws, F &&change)
{
    auto lock = ws.lock();
    if (!lock)
        return lock.error();
    auto doc = readJsonFile(alertsPath(ws), {});
    if (!doc)
        return doc.error();
    change(*doc);
    return writeJsonFile(alertsPath(ws), *doc);
}

} // namespace

QString Rule::condition() const
{
    QString what = metric;
    if (kDriftMetrics.contains(metric))
        what += feature == u"any" ? QStringLiteral(" of any feature") : QStringLiteral(" of ") + feature;
    QStringList parts;
    if (above)
        parts << QStringLiteral("> ") + fmt(*above);
    if (below)
        parts << QStringLiteral("< ") + fmt(*below);
    return what + QLatin1Char(' ') + parts.join(QStringLiteral(" or ")) +
           (windows > 1 ? QStringLiteral(" in %1 windows running").arg(windows) : QString());
}

QStringList ruleMetrics()
{
    return kDriftMetrics + kRealisedMetrics + kExpectedMetrics + kServingMetrics + QStringList{kErrorRate};
}

Expected<Monitor> Monitor::fromYaml(const QByteArray &yaml, const QString &source)
{
    auto doc = yaml::parseAsJson(yaml, source);
    if (!doc)
        return doc.error();
    const auto fail = [&](const QString &field, const QString &what) {
        return makeError(ErrorKind::InvalidInput, what, source, yaml::lineOfField(doc->lines, field), field);
    };
    if (!doc->root.isObject())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("must be a mapping with deployment, window and rules"), source);
    const QJsonObject o = doc->root.toObject();
    for (auto it = o.begin(); it != o.end(); ++it)
        if (!QStringList{QStringLiteral("deployment"), QStringLiteral("window"), QStringLiteral("min_predictions"), QStringLiteral("rules")}.contains(it.key()))
            return fail(it.key(), QStringLiteral("is not a monitor setting (deployment, window, min_predictions, rules)"));
    Monitor m;
    m.deployment = o.value(QStringLiteral("deployment")).toString();
    if (Status s = workspace::validateName(m.deployment, QStringLiteral("deployment"), QStringLiteral("deployment")); !s)
        return fail(QStringLiteral("deployment"), s.error().message);
    if (o.contains(QStringLiteral("window")))
        m.window = o.value(QStringLiteral("window")).toString();
    if (auto check = windowLog({}, m.window); !check)
        return fail(QStringLiteral("window"), check.error().message);
    if (o.contains(QStringLiteral("min_predictions"))) {
        bool ok = false;
        m.minPredictions = o.value(QStringLiteral("min_predictions")).toString().toLongLong(&ok);
        if (!ok || m.minPredictions < 1)
            return fail(QStringLiteral("min_predictions"), QStringLiteral("must be a whole number from 1"));
    }
    const QJsonArray rules = o.value(QStringLiteral("rules")).toArray();
    if (rules.isEmpty())
        return fail(QStringLiteral("rules"), QStringLiteral("must list at least one rule"));
    for (qsizetype i = 0; i < rules.size(); ++i) {
        const QString at = QStringLiteral("rules.%1").arg(i);
        const QJsonObject r = rules.at(i).toObject();
        if (r.isEmpty())
            return fail(at, QStringLiteral("must be a mapping with metric, above or below, and actions"));
        for (auto it = r.begin(); it != r.end(); ++it)
            if (!QStringList{QStringLiteral("name"), QStringLiteral("metric"), QStringLiteral("feature"), QStringLiteral("above"),
                             QStringLiteral("below"), QStringLiteral("windows"), QStringLiteral("actions")}.contains(it.key()))
                return fail(at + QLatin1Char('.') + it.key(),
                            QStringLiteral("is not a rule setting (name, metric, feature, above, below, windows, actions)"));
        Rule rule;
        rule.metric = r.value(QStringLiteral("metric")).toString();
        if (!ruleMetrics().contains(rule.metric))
            return fail(at + QStringLiteral(".metric"), QStringLiteral("'%1' is not a monitored value (one of: %2)")
                                                            .arg(rule.metric, ruleMetrics().join(QStringLiteral(", "))));
        if (r.contains(QStringLiteral("feature"))) {
            if (!kDriftMetrics.contains(rule.metric))
                return fail(at + QStringLiteral(".feature"), QStringLiteral("only drift metrics are per feature"));
            rule.feature = r.value(QStringLiteral("feature")).toString();
        }
        for (const char *bound : {"above", "below"}) {
            const QString key = QString::fromLatin1(bound);
            if (!r.contains(key))
                continue;
            bool ok = false;
            const double v = r.value(key).toString().toDouble(&ok);
            if (!ok || !std::isfinite(v))
                return fail(at + QLatin1Char('.') + key, QStringLiteral("must be a number"));
            (key == u"above" ? rule.above : rule.below) = v;
        }
        if (!rule.above && !rule.below)
            return fail(at, QStringLiteral("needs a threshold: above or below"));
        if (r.contains(QStringLiteral("windows"))) {
            bool ok = false;
            rule.windows = r.value(QStringLiteral("windows")).toString().toInt(&ok);
            if (!ok || rule.windows < 1 || rule.windows > 1000)
                return fail(at + QStringLiteral(".windows"), QStringLiteral("must be a whole number from 1 to 1000"));
        }
        if (rule.metric == kErrorRate && rule.windows != 1)
            return fail(at + QStringLiteral(".windows"), QStringLiteral("error_rate is judged once per check (windows: 1)"));
        rule.name = r.contains(QStringLiteral("name")) ? r.value(QStringLiteral("name")).toString() : rule.condition();
        const QJsonArray actions = r.value(QStringLiteral("actions")).toArray();
        for (qsizetype j = 0; j < actions.size(); ++j) {
            const QString aat = at + QStringLiteral(".actions.%1").arg(j);
            const QJsonValue a = actions.at(j);
            if (a.isString() && (a.toString() == u"alert" || a.toString() == u"rollback")) {
                rule.actions.push_back({a.toString(), {}});
                continue;
            }
            const QJsonObject ao = a.toObject();
            if (ao.size() == 1 && ao.contains(QStringLiteral("command")) && !ao.value(QStringLiteral("command")).toString().trimmed().isEmpty()) {
                rule.actions.push_back({QStringLiteral("command"), ao.value(QStringLiteral("command")).toString()});
                continue;
            }
            if (ao.size() == 1 && ao.contains(QStringLiteral("webhook"))) {
                const QUrl url(ao.value(QStringLiteral("webhook")).toString(), QUrl::StrictMode);
                if (!url.isValid() || (url.scheme() != u"http" && url.scheme() != u"https") || url.host().isEmpty())
                    return fail(aat + QStringLiteral(".webhook"), QStringLiteral("must be an http:// or https:// URL"));
                rule.actions.push_back({QStringLiteral("webhook"), url.toString()});
                continue;
            }
            return fail(aat, QStringLiteral("must be alert, rollback, {command: \"...\"} or {webhook: URL}"));
        }
        for (const Rule &other : m.rules)
            if (other.name == rule.name)
                return fail(at + QStringLiteral(".name"), QStringLiteral("another rule is called '%1'").arg(rule.name));
        m.rules.push_back(std::move(rule));
    }
    return m;
}

Expected<Monitor> loadMonitor(workspace::Workspace &ws, const QString &name)
{
    if (Status s = workspace::validateName(name, QStringLiteral("monitor"), QStringLiteral("NAME")); !s)
        return s.error();
    const QString path = ws.root() + QLatin1Char('/') + monitorPath(name);
    if (!QFileInfo::exists(path))
        return makeError(ErrorKind::NotFound, QStringLiteral("no monitor called '%1' (write %2)").arg(name, monitorPath(name)), path);
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    auto m = Monitor::fromYaml(*bytes, path);
    if (!m)
        return m.error();
    m->name = name;
    return m;
}

Expected<QStringList> listMonitors(workspace::Workspace &ws)
{
    QStringList out;
    for (const QString &f : QDir(ws.root() + QStringLiteral("/monitors")).entryList({QStringLiteral("*.yaml")}, QDir::Files, QDir::Name))
        out << f.chopped(5);
    return out;
}

QJsonObject CheckReport::toJson() const
{
    QJsonArray rs;
    for (const RuleOutcome &r : rules) {
        QJsonArray values, actions;
        for (const WindowValue &v : r.values)
            values.append(valueJson(v));
        for (const ActionOutcome &a : r.actions)
            actions.append(actionJson(a));
        QJsonObject o{{QStringLiteral("rule"), r.rule.name}, {QStringLiteral("condition"), r.rule.condition()},
                      {QStringLiteral("holds"), r.holds}, {QStringLiteral("fired"), r.fired},
                      {QStringLiteral("sentence"), r.sentence}, {QStringLiteral("values"), values}, {QStringLiteral("actions"), actions}};
        if (!r.alertId.isEmpty())
            o.insert(QStringLiteral("alert"), r.alertId);
        rs.append(o);
    }
    return QJsonObject{{QStringLiteral("monitor"), monitor}, {QStringLiteral("deployment"), deployment},
                       {QStringLiteral("time"), time.toString(Qt::ISODateWithMs)}, {QStringLiteral("rules"), rs}};
}

QJsonObject Alert::toJson() const
{
    QJsonObject o{{QStringLiteral("id"), id}, {QStringLiteral("time"), time.toString(Qt::ISODateWithMs)},
                  {QStringLiteral("monitor"), monitor}, {QStringLiteral("deployment"), deployment}, {QStringLiteral("rule"), rule},
                  {QStringLiteral("sentence"), sentence}, {QStringLiteral("values"), values}, {QStringLiteral("actions"), actions}};
    if (acknowledged.isValid()) {
        o.insert(QStringLiteral("acknowledged"), acknowledged.toString(Qt::ISODateWithMs));
        o.insert(QStringLiteral("acknowledged_by"), acknowledgedBy);
    }
    return o;
}

Alert Alert::fromJson(const QJsonObject &o)
{
    Alert a;
    a.id = o.value(QStringLiteral("id")).toString();
    a.time = QDateTime::fromString(o.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs);
    a.monitor = o.value(QStringLiteral("monitor")).toString();
    a.deployment = o.value(QStringLiteral("deployment")).toString();
    a.rule = o.value(QStringLiteral("rule")).toString();
    a.sentence = o.value(QStringLiteral("sentence")).toString();
    a.values = o.value(QStringLiteral("values")).toArray();
    a.actions = o.value(QStringLiteral("actions")).toArray();
    a.acknowledged = QDateTime::fromString(o.value(QStringLiteral("acknowledged")).toString(), Qt::ISODateWithMs);
    a.acknowledgedBy = o.value(QStringLiteral("acknowledged_by")).toString();
    return a;
}

Expected<std::vector<Alert>> listAlerts(workspace::Workspace &ws, const QString &monitor)
{
    auto doc = readJsonFile(alertsPath(ws), {});
    if (!doc)
        return doc.error();
    std::vector<Alert> out;
    for (const QJsonValue &v : doc->value(QStringLiteral("alerts")).toArray()) {
        Alert a = Alert::fromJson(v.toObject());
        if (monitor.isEmpty() || a.monitor == monitor)
            out.push_back(std::move(a));
    }
    return out;
}

Status acknowledgeAlert(workspace::Workspace &ws, const QString &id)
{
    auto lock = ws.lock();
    if (!lock)
        return lock.error();
    auto doc = readJsonFile(alertsPath(ws), {});
    if (!doc)
        return doc.error();
    QJsonArray alerts = doc->value(QStringLiteral("alerts")).toArray();
    for (qsizetype i = 0; i < alerts.size(); ++i) {
        QJsonObject a = alerts.at(i).toObject();
        if (a.value(QStringLiteral("id")).toString() != id)
            continue;
        if (a.contains(QStringLiteral("acknowledged")))
            return Status();
        const QString who = qEnvironmentVariable("USER", QStringLiteral("unknown"));
        a.insert(QStringLiteral("acknowledged"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
        a.insert(QStringLiteral("acknowledged_by"), who);
        alerts.replace(i, a);
        QJsonObject next = *doc;
        next.insert(QStringLiteral("alerts"), alerts);
        if (Status s = writeJsonFile(alertsPath(ws), next); !s)
            return s;
        return ws.audit(QStringLiteral("monitor.acknowledge"), QStringLiteral("deployment:") + a.value(QStringLiteral("deployment")).toString(),
                        QJsonObject{{QStringLiteral("alert"), id}, {QStringLiteral("rule"), a.value(QStringLiteral("rule"))},
                                    {QStringLiteral("monitor"), a.value(QStringLiteral("monitor"))}});
    }
    return makeError(ErrorKind::NotFound, QStringLiteral("no alert '%1' (keel monitor alerts lists them)").arg(id), {}, -1, QStringLiteral("ALERT"));
}

Expected<CheckReport> checkMonitor(workspace::Workspace &ws, const QString &name, const CheckOptions &options, Feedback *feedback)
{
    auto monitor = loadMonitor(ws, name);
    if (!monitor)
        return monitor.error();
    auto deployment = deploy::loadDeployment(ws, monitor->deployment);
    if (!deployment)
        return deployment.error();

    bool needDrift = options.gauges, needPerformance = options.gauges;
    for (const Rule &r : monitor->rules) {
        needDrift |= kDriftMetrics.contains(r.metric);
        needPerformance |= kRealisedMetrics.contains(r.metric) || kExpectedMetrics.contains(r.metric);
    }
    std::optional<DriftReport> drift;
    if (needDrift) {
        DriftRequest request;
        request.deployment = monitor->deployment;
        request.window = monitor->window;
        auto report = driftReport(ws, request, feedback);
        if (!report)
            return report.error();
        drift = std::move(*report);
    }
    std::optional<PerformanceReport> performance;
    if (needPerformance) {
        PerformanceRequest request;
        request.deployment = monitor->deployment;
        request.window = monitor->window;
        request.bootstrap = 0;
        auto report = performanceReport(ws, request, feedback);
        if (!report)
            return report.error();
        performance = std::move(*report);
    }
    std::vector<LogWindow> servingWindows;
    std::vector<serve::LoggedPrediction> log;
    if (std::any_of(monitor->rules.begin(), monitor->rules.end(), [](const Rule &r) { return kServingMetrics.contains(r.metric); })) {
        auto read = serve::readPredictionLog(serve::predictionLogDir(ws.root(), monitor->deployment));
        if (!read)
            return read.error();
        log = std::move(*read);
        auto windows = windowLog(log, monitor->window);
        if (!windows)
            return windows.error();
        servingWindows = std::move(*windows);
    }

    CheckReport report;
    report.monitor = name;
    report.deployment = monitor->deployment;
    report.time = QDateTime::currentDateTimeUtc();
    const QString statePath = stateDir(ws) + QLatin1Char('/') + name + QStringLiteral(".state.json");
    auto state = readJsonFile(statePath, {});
    if (!state)
        return state.error();
    if (drift)
        for (auto w = drift->windows.rbegin(); w != drift->windows.rend(); ++w)
            if (w->predictions >= monitor->minPredictions) {
                report.driftWindow = w->label;
                report.drift = w->features;
                break;
            }
    if (performance)
        for (auto w = performance->windows.rbegin(); w != performance->windows.rend(); ++w) {
            if (w->predictions >= monitor->minPredictions && report.expected.empty() && !w->expected.empty())
                report.expected = w->expected;
            if (w->labelled >= monitor->minPredictions && report.realised.empty()) {
                report.performanceWindow = w->label;
                report.realised = w->realised;
            }
        }
    QJsonObject nextState;
    for (const Rule &rule : monitor->rules) {
        RuleOutcome out;
        out.rule = rule;
        if (kDriftMetrics.contains(rule.metric)) {
            for (const DriftWindow &w : drift->windows) {
                if (w.predictions < monitor->minPredictions)
                    continue;
                WindowValue v{w.label, std::nan(""), {}, false};
                bool have = false;
                for (const FeatureDrift &f : w.features) {
                    if (rule.feature != u"any" ? f.feature != rule.feature : f.feature == u"prediction")
                        continue;
                    if (const auto value = driftValue(f, rule.metric))
                        pick(v, have, *value, f.feature, rule);
                }
                if (have)
                    out.values.push_back(v);
            }
        } else if (kRealisedMetrics.contains(rule.metric) || kExpectedMetrics.contains(rule.metric)) {
            const bool expected = kExpectedMetrics.contains(rule.metric);
            const QString metric = expected ? rule.metric.mid(9) : rule.metric;
            for (const PerformanceWindow &w : performance->windows) {
                if ((expected ? w.predictions : w.labelled) < monitor->minPredictions)
                    continue;
                for (const MetricValue &m : expected ? w.expected : w.realised)
                    if (m.metric == metric && std::isfinite(m.value))
                        out.values.push_back({w.label, m.value, {}, false});
            }
        } else if (kServingMetrics.contains(rule.metric)) {
            for (const LogWindow &w : servingWindows) {
                if (qint64(w.predictions.size()) < monitor->minPredictions)
                    continue;
                const double v = rule.metric == u"predictions" ? double(w.predictions.size())
                                                               : latencyQuantile(w, rule.metric == u"latency_p50_ms" ? 0.5 : 0.99);
                if (std::isfinite(v))
                    out.values.push_back({w.label, v, {}, false});
            }
        } else if (options.live.errorRate) {
            out.values.push_back({QStringLiteral("since the last check"), *options.live.errorRate, {}, false});
        }
        for (WindowValue &v : out.values)
            v.holds = holdsFor(rule, v.value);
        const size_t n = size_t(rule.windows);
        out.holds = out.values.size() >= n &&
                    std::all_of(out.values.end() - qsizetype(n), out.values.end(), [](const WindowValue &v) { return v.holds; });
        QStringList shown;
        for (size_t i = out.values.size() >= n ? out.values.size() - n : 0; i < out.values.size(); ++i)
            shown << (out.values[i].feature.isEmpty() ? QString() : out.values[i].feature + QLatin1Char(' ')) + fmt(out.values[i].value) +
                         QStringLiteral(" (") + out.values[i].window + QLatin1Char(')');
        if (out.values.empty())
            out.sentence = rule.metric == kErrorRate ? QStringLiteral("no value: error_rate is measured by a running keel serve")
                                                     : QStringLiteral("no window with at least %1 %2 yet")
                                                           .arg(monitor->minPredictions)
                                                           .arg(kRealisedMetrics.contains(rule.metric) ? QStringLiteral("labelled predictions")
                                                                                                       : QStringLiteral("predictions"));
        else
            out.sentence = QStringLiteral("%1: %2 — %3").arg(rule.condition(), shown.join(QStringLiteral(", ")),
                                                            out.holds ? QStringLiteral("holds") : QStringLiteral("does not hold"));
        const bool wasFiring = state->value(rule.name).toObject().value(QStringLiteral("firing")).toBool();
        out.fired = out.holds && !wasFiring;
        QJsonObject ruleState{{QStringLiteral("firing"), out.holds}};
        if (!out.values.empty())
            ruleState.insert(QStringLiteral("last_window"), out.values.back().window);
        nextState.insert(rule.name, ruleState);
        report.rules.push_back(std::move(out));
    }
    if (!options.act)
        return report;

    // Fire: record the alert, run the actions, save the state (so a rule that fired does not fire again while it holds).
    for (RuleOutcome &out : report.rules) {
        if (!out.fired)
            continue;
        if (isCancelled(feedback))
            return cancelledError();
        Alert alert;
        alert.time = report.time;
        alert.monitor = name;
        alert.deployment = monitor->deployment;
        alert.rule = out.rule.name;
        alert.sentence = out.sentence;
        for (size_t i = out.values.size() - size_t(out.rule.windows); i < out.values.size(); ++i)
            alert.values.append(valueJson(out.values[i]));
        // The alert is recorded (with its id) before the actions run, and completed with their outcomes after; the
        // workspace lock is held only around each update of the alert file (a rollback takes it itself).
        if (Status s = updateAlerts(ws, [&](QJsonObject &doc) {
                const int sequence = doc.value(QStringLiteral("next")).toInt(1);
                alert.id = QStringLiteral("a%1").arg(sequence);
                QJsonArray list = doc.value(QStringLiteral("alerts")).toArray();
                list.append(alert.toJson());
                doc.insert(QStringLiteral("next"), sequence + 1);
                doc.insert(QStringLiteral("alerts"), list);
            });
            !s)
            return s.error();
        out.alertId = alert.id;
        const QJsonObject payload = alert.toJson();
        out.actions.push_back({QStringLiteral("alert"), {}, true, QStringLiteral("recorded as ") + alert.id});
        for (const RuleAction &a : out.rule.actions) {
            if (a.kind == u"alert")
                continue;
            if (a.kind == u"command") {
                out.actions.push_back(runCommand(a, payload));
            } else if (a.kind == u"webhook") {
                out.actions.push_back(postWebhook(a, payload));
            } else {
                ActionOutcome r{a.kind, {}, false, {}};
                const QString message = QStringLiteral("monitor %1, rule \"%2\": %3").arg(name, out.rule.name, out.sentence);
                auto rolled = deploy::rollback(ws, monitor->deployment, std::nullopt, message);
                if (!rolled) {
                    r.detail = rolled.error().message;
                } else if (!rolled->gatesPassed()) {
                    r.detail = QStringLiteral("refused: a gate failed");
                } else {
                    r.ok = true;
                    r.detail = QStringLiteral("rolled back to revision %1 (%2)")
                                   .arg(rolled->deployment.rolledBackTo.value_or(0))
                                   .arg(rolled->deployment.model.version);
                }
                out.actions.push_back(r);
            }
        }
        for (const ActionOutcome &a : out.actions)
            alert.actions.append(actionJson(a));
        if (Status s = updateAlerts(ws, [&](QJsonObject &doc) {
                QJsonArray list = doc.value(QStringLiteral("alerts")).toArray();
                for (qsizetype i = 0; i < list.size(); ++i)
                    if (list.at(i).toObject().value(QStringLiteral("id")).toString() == alert.id)
                        list.replace(i, alert.toJson());
                doc.insert(QStringLiteral("alerts"), list);
            });
            !s)
            return s.error();
        QJsonObject detail = alert.toJson();
        if (!options.actor.isEmpty())
            detail.insert(QStringLiteral("by"), options.actor);
        if (Status s = ws.audit(QStringLiteral("monitor.alert"), QStringLiteral("deployment:") + monitor->deployment, detail); !s)
            return s.error();
    }
    if (Status s = writeJsonFile(statePath, nextState); !s)
        return s.error();
    return report;
}

} // namespace keel::monitor
