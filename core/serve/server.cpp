#include "serve/server.h"

#include "monitor/alerts.h"
#include "data/calendar.h"

#include "deploy/deployment.h"
#include "util/fileutil.h"
#include "util/hash.h"
#include "workspace/workspace.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QJsonDocument>
#include <QLocale>
#include <QFileInfo>
#include <QPointer>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QtConcurrent/QtConcurrentRun>
#include <QSet>

#include <openssl/crypto.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmath>

namespace keel::serve {

namespace {

using Status_ = QHttpServerResponse::StatusCode;

/// Latency histogram bucket bounds (seconds).
constexpr double kBuckets[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
constexpr size_t kBucketCount = sizeof(kBuckets) / sizeof(kBuckets[0]);

QString tokensPath(const QString &root) { return root + QStringLiteral("/.keel/serve/tokens"); }

QByteArray sha256Hex(const QByteArray &bytes) { return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex(); }

QHttpServerResponse errorResponse(Status_ status, const QString &message, const QString &field = {})
{
    QJsonObject o{{QStringLiteral("error"), message}};
    if (!field.isEmpty())
        o.insert(QStringLiteral("field"), field);
    return QHttpServerResponse(o, status);
}

QHttpServerResponse errorResponse(const Error &e)
{
    Status_ status = Status_::InternalServerError;
    switch (e.kind) {
    case ErrorKind::InvalidInput: status = Status_::BadRequest; break;
    case ErrorKind::NotFound: status = Status_::NotFound; break;
    case ErrorKind::Conflict: status = Status_::Conflict; break;
    default: break;
    }
    return errorResponse(status, e.message, e.field);
}

/// Makes the calling thread yield the CPU to the request thread when both want it (nice 5 on Linux): the log is
/// written in bursts, and a burst competing on equal terms for a core showed up as the 99th-percentile latency.
/// Still enough weight to keep up with the requests it logs. (Qt's thread priorities do not change a normal thread's
/// share on Linux.)
constexpr int kLogThreadNice = 5;
void lowerThisThreadsPriority()
{
    static thread_local bool lowered = false;
    if (!lowered) {
        lowered = true;
        setpriority(PRIO_PROCESS, pid_t(syscall(SYS_gettid)), kLogThreadNice);
    }
}

/// The current UTC time as Qt::ISODateWithMs writes it, formatted without QDateTime on the scoring path.
QString utcNow()
{
    const qint64 ms = QDateTime::currentMSecsSinceEpoch();
    char text[24];
    if (!data::formatUtcMillis(ms, text))
        return QDateTime::fromMSecsSinceEpoch(ms).toUTC().toString(Qt::ISODateWithMs);
    return QString::fromLatin1(text, 24);
}

QString labelValue(const QString &v) { return QString(v).replace(QLatin1Char('\\'), QStringLiteral("\\\\")).replace(QLatin1Char('"'), QStringLiteral("\\\"")); }

} // namespace

Expected<QString> createAdminToken(const QString &workspaceRoot)
{
    QByteArray raw(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), raw.size() / 4);
    const QString token = QString::fromLatin1(raw.toHex());
    const QString path = tokensPath(workspaceRoot);
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return makeError(ErrorKind::Io, QStringLiteral("cannot create the folder"), QFileInfo(path).absolutePath());
    QByteArray existing;
    if (QFile::exists(path)) {
        auto bytes = readFile(path);
        if (!bytes)
            return bytes.error();
        existing = *bytes;
    }
    existing += sha256Hex(token.toLatin1()) + ' ' + QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toLatin1() + '\n';
    if (Status s = writeFileAtomic(path, existing); !s)
        return s.error();
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return token;
}

bool checkAdminToken(const QString &workspaceRoot, const QString &token)
{
    if (token.isEmpty())
        return false;
    auto bytes = readFile(tokensPath(workspaceRoot));
    if (!bytes)
        return false;
    const QByteArray want = sha256Hex(token.toUtf8());
    bool found = false;
    for (const QByteArray &line : bytes->split('\n')) {
        const QByteArray hash = line.left(64);
        if (hash.size() == want.size() && CRYPTO_memcmp(hash.constData(), want.constData(), size_t(want.size())) == 0)
            found = true;
    }
    return found;
}

QMap<QString, DeploymentMetrics> parseMetricsText(const QByteArray &text)
{
    QMap<QString, DeploymentMetrics> out;
    static const QRegularExpression line(QStringLiteral("^(\\w+)\\{([^}]*)\\} (\\S+)$"));
    static const QRegularExpression label(QStringLiteral("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\""));
    for (const QByteArray &raw : text.split('\n')) {
        const auto m = line.match(QString::fromUtf8(raw));
        if (!m.hasMatch())
            continue;
        QMap<QString, QString> labels;
        for (auto it = label.globalMatch(m.captured(2)); it.hasNext();) {
            const auto l = it.next();
            labels.insert(l.captured(1), l.captured(2));
        }
        const QString deployment = labels.value(QStringLiteral("deployment"));
        if (deployment.isEmpty())
            continue;
        DeploymentMetrics &d = out[deployment];
        const QString name = m.captured(1);
        const double value = m.captured(3).toDouble();
        if (name == u"keel_requests_total") {
            d.requests += qint64(value);
            if (labels.value(QStringLiteral("status")).toInt() >= 400)
                d.errors += qint64(value);
        } else if (name == u"keel_request_duration_seconds_sum") {
            d.latencySum = value;
        } else if (name == u"keel_records_scored_total") {
            d.records = qint64(value);
        } else if (name == u"keel_unseen_categories_total") {
            d.unseenCategories = qint64(value);
        } else if (name == u"keel_shadow_comparisons_total") {
            d.shadowCompared = qint64(value);
        } else if (name == u"keel_shadow_disagreements_total") {
            d.shadowDisagreed = qint64(value);
        } else if (name == u"keel_feedback_total") {
            d.feedback = qint64(value);
        } else if (name == u"keel_deployment_revision") {
            d.revision = int(value);
            d.version = labels.value(QStringLiteral("version"));
        }
    }
    return out;
}

Server::Server(const ServerOptions &options) : m_options(options) {}

QString serverInfoPath(const QString &workspaceRoot) { return workspaceRoot + QStringLiteral("/.keel/serve/server.json"); }

Server::~Server()
{
    if (m_port != 0)
        QFile::remove(serverInfoPath(m_options.root));
    m_monitorTimer.stop();
    m_monitoring.waitForFinished();
    m_flushTimer.stop();
    m_flushing.waitForFinished();
    if (Status s = flushLogs(); !s)
        qWarning("keel serve: %s", qPrintable(s.message()));
}

Expected<std::unique_ptr<Server>> Server::start(const ServerOptions &options)
{
    std::unique_ptr<Server> s(new Server(options));
    auto ws = workspace::Workspace::open(options.root);
    if (!ws)
        return ws.error();
    s->m_ws = std::move(*ws);
    s->m_options.root = s->m_ws->root();
    s->m_idPrefix = QString::number(QRandomGenerator::system()->generate64() & 0xffffffffffull, 36);
    if (Status st = s->reload(); !st)
        return st.error();
    s->m_http = std::make_unique<QHttpServer>();
    s->addRoutes();
    s->m_port = s->m_http->listen(options.host, options.port);
    if (s->m_port == 0)
        return makeError(ErrorKind::Io, QStringLiteral("cannot listen on %1:%2 (in use, or not an address of this machine)")
                                            .arg(options.host.toString())
                                            .arg(options.port));
    s->m_flushTimer.setInterval(std::max(10, options.flushMs));
    s->m_logPool.setMaxThreadCount(1);
    // The log is written off the request thread; one flush at a time (a slow disk skips ticks, not requests).
    connect(&s->m_flushTimer, &QTimer::timeout, s.get(), [srv = s.get()] {
        if (srv->m_flushing.isRunning())
            return;
        std::vector<PredictionLog *> logs;
        for (auto &[name, log] : srv->m_logs)
            logs.push_back(log.get());
        srv->m_flushing = QtConcurrent::run(&srv->m_logPool, [logs] {
            lowerThisThreadsPriority();
            for (PredictionLog *log : logs)
                if (Status st = log->flush(); !st)
                    qWarning("keel serve: %s", qPrintable(st.message()));
        });
    });
    s->m_flushTimer.start();
    s->m_reloadTimer.setSingleShot(true);
    s->m_reloadTimer.setInterval(100);
    connect(&s->m_reloadTimer, &QTimer::timeout, s.get(), [srv = s.get()] {
        if (Status st = srv->reload(); !st)
            qWarning("keel serve: keeping the deployments as they were: %s", qPrintable(st.message()));
    });
    s->watch();
    s->m_uptime.start();
    // Where the workbench finds a running server (removed when it stops; a stale file names a dead process).
    const QJsonObject info{{QStringLiteral("pid"), qint64(QCoreApplication::applicationPid())},
                           {QStringLiteral("url"), QStringLiteral("http://%1:%2").arg(options.host.protocol() == QAbstractSocket::IPv6Protocol
                                                                                          ? QStringLiteral("[%1]").arg(options.host.toString())
                                                                                          : options.host.toString()).arg(s->m_port)},
                           {QStringLiteral("started"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs)}};
    QDir().mkpath(serverInfoPath(s->m_options.root).section(QLatin1Char('/'), 0, -2));
    if (Status st = writeFileAtomic(serverInfoPath(s->m_options.root), QJsonDocument(info).toJson(QJsonDocument::Compact)); !st)
        qWarning("keel serve: %s", qPrintable(st.message()));
    if (options.monitorMs > 0) {
        s->m_monitorTimer.setInterval(options.monitorMs);
        connect(&s->m_monitorTimer, &QTimer::timeout, s.get(), &Server::checkMonitors);
        s->m_monitorTimer.start();
    }
    return s;
}

void Server::checkMonitors()
{
    if (m_monitoring.isRunning())
        return;
    // The error rate of each deployment since the previous check, from the request counters.
    std::map<QString, std::optional<double>> errorRates;
    for (const auto &[name, c] : m_counters) {
        qint64 requests = 0, errors = 0;
        for (const auto &[key, n] : c.requests) {
            requests += n;
            errors += key.second >= 400 ? n : 0;
        }
        const auto [lastRequests, lastErrors] = m_checkedCounts[name];
        if (requests > lastRequests)
            errorRates[name] = double(errors - lastErrors) / double(requests - lastRequests);
        m_checkedCounts[name] = {requests, errors};
    }
    // Nothing new since the last check (no prediction logged, no monitor or deployment changed, no request counted):
    // the same answers again, so skip it rather than recompute on an idle server.
    QStringList parts;
    const auto add = [&parts](const QString &dir) {
        for (const QFileInfo &f : QDir(dir).entryInfoList(QDir::Files, QDir::Name))
            parts << f.filePath() + QLatin1Char(':') + QString::number(f.size()) + QLatin1Char(':') + QString::number(f.lastModified().toMSecsSinceEpoch());
    };
    for (const QString &name : m_deployments.keys())
        add(predictionLogDir(m_options.root, name));
    add(m_options.root + QStringLiteral("/monitors"));
    add(m_options.root + QStringLiteral("/deployments"));
    const QString signature = parts.join(QLatin1Char('|'));
    if (signature == m_monitorSignature && errorRates.empty())
        return;
    m_monitorSignature = signature;
    const QString root = m_options.root;
    QPointer<Server> self(this);
    m_monitoring = QtConcurrent::run([root, errorRates, self] {
        auto ws = workspace::Workspace::open(root);
        if (!ws) {
            qWarning("keel serve: monitors not checked: %s", qPrintable(ws.error().toString()));
            return;
        }
        auto names = monitor::listMonitors(**ws);
        if (!names)
            return;
        std::map<QString, MonitorSnapshot> snapshots;
        int fired = 0;
        for (const QString &name : *names) {
            monitor::CheckOptions options;
            options.gauges = true;
            options.actor = QStringLiteral("keel serve");
            auto spec = monitor::loadMonitor(**ws, name);
            if (spec) {
                const auto rate = errorRates.find(spec->deployment);
                if (rate != errorRates.end())
                    options.live.errorRate = rate->second;
            }
            auto report = monitor::checkMonitor(**ws, name, options);
            if (!report) {
                qWarning("keel serve: monitor %s: %s", qPrintable(name), qPrintable(report.error().toString()));
                continue;
            }
            MonitorSnapshot snap;
            snap.deployment = report->deployment;
            snap.driftWindow = report->driftWindow;
            snap.performanceWindow = report->performanceWindow;
            for (const monitor::RuleOutcome &r : report->rules) {
                snap.rules.push_back({r.rule.name, r.holds});
                if (r.fired) {
                    ++fired;
                    qInfo("keel serve: monitor %s: rule \"%s\" fired: %s", qPrintable(name), qPrintable(r.rule.name), qPrintable(r.sentence));
                }
            }
            for (const monitor::FeatureDrift &f : report->drift)
                snap.drift.emplace_back(f.feature, f.diff.driftStatistic(), f.score, f.velocity);
            for (const monitor::MetricValue &m : report->realised)
                snap.performance.emplace_back(m.metric, QStringLiteral("realised"), m.value);
            for (const monitor::MetricValue &m : report->expected)
                snap.performance.emplace_back(m.metric, QStringLiteral("expected"), m.value);
            snapshots[name] = std::move(snap);
        }
        QMetaObject::invokeMethod(
            self.data(),
            [self, snapshots = std::move(snapshots), fired] {
                if (!self)
                    return;
                self->m_monitors = snapshots;
                emit self->monitorsChecked(fired);
            },
            Qt::QueuedConnection);
    });
}

void Server::watch()
{
    const QString dir = m_options.root + QStringLiteral("/deployments");
    QDir().mkpath(dir);
    m_watcher.addPath(dir);
    for (const QString &f : QDir(dir).entryList({QStringLiteral("*.yaml")}, QDir::Files))
        m_watcher.addPath(QDir(dir).filePath(f));
    connect(&m_watcher, &QFileSystemWatcher::directoryChanged, this, [this] { m_reloadTimer.start(); });
    connect(&m_watcher, &QFileSystemWatcher::fileChanged, this, [this](const QString &path) {
        if (QFile::exists(path) && !m_watcher.files().contains(path))
            m_watcher.addPath(path);   // an atomic replace drops the watch
        m_reloadTimer.start();
    });
}

Status Server::reload(const QString &name)
{
    auto list = deploy::listDeployments(*m_ws);
    if (!list)
        return list.error();
    QMap<QString, std::shared_ptr<const DeploymentRuntime>> next = m_deployments;
    QSet<QString> present;
    for (const deploy::Deployment &d : *list) {
        present.insert(d.name);
        if (!name.isEmpty() && d.name != name)
            continue;
        const auto it = m_deployments.constFind(d.name);
        if (it != m_deployments.constEnd() && (*it)->spec.revision == d.revision && (*it)->spec.model.bundle == d.model.bundle)
            continue;
        auto rt = DeploymentRuntime::load(*m_ws, d);
        if (!rt)
            return Error(rt.error()).withKind(rt.error().kind);
        next.insert(d.name, *rt);
        if (!m_logs.count(d.name)) {
            auto log = PredictionLog::open(predictionLogDir(m_options.root, d.name));
            if (!log)
                return log.error();
            m_logs[d.name] = std::move(*log);
        }
        if (!m_counters.count(d.name))
            m_counters[d.name].buckets.assign(kBucketCount, 0);
    }
    for (const QString &n : next.keys())
        if (!present.contains(n))
            next.remove(n);
    QStringList changed;
    for (auto it = next.constBegin(); it != next.constEnd(); ++it)
        if (!m_deployments.contains(it.key()) || m_deployments.value(it.key()) != it.value())
            changed << it.key();
    for (const QString &n : m_deployments.keys())
        if (!next.contains(n))
            changed << n;
    m_deployments = std::move(next);
    for (const QString &n : changed)
        emit deploymentChanged(n, m_deployments.contains(n) ? m_deployments.value(n)->spec.revision : 0);
    return Status::ok();
}

Status Server::flushLogs()
{
    for (auto &[name, log] : m_logs)
        if (Status s = log->flush(); !s)
            return s;
    return Status::ok();
}

void Server::addRoutes()
{
    using Method = QHttpServerRequest::Method;
    m_http->route(QStringLiteral("/healthz"), Method::Get, [] { return QHttpServerResponse(QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}}); });
    m_http->route(QStringLiteral("/readyz"), Method::Get, [this] {
        if (m_deployments.isEmpty())
            return errorResponse(Status_::ServiceUnavailable, QStringLiteral("no deployment to serve (keel deploy NAME --model MODEL@ALIAS)"));
        return QHttpServerResponse(QJsonObject{{QStringLiteral("status"), QStringLiteral("ready")},
                                               {QStringLiteral("deployments"), QJsonArray::fromStringList(m_deployments.keys())}});
    });
    m_http->route(QStringLiteral("/metrics"), Method::Get,
                  [this] { return QHttpServerResponse(QByteArrayLiteral("text/plain; version=0.0.4"), metricsText()); });
    m_http->route(QStringLiteral("/v1/deployments"), Method::Get, [this] { return list(); });
    m_http->route(QStringLiteral("/v1/deployments/<arg>/predict"), Method::Post,
                  [this](const QString &name, const QHttpServerRequest &r) { return score(name, r, false); });
    m_http->route(QStringLiteral("/v1/deployments/<arg>/explain"), Method::Post,
                  [this](const QString &name, const QHttpServerRequest &r) { return score(name, r, true); });
    m_http->route(QStringLiteral("/v1/deployments/<arg>/feedback"), Method::Post,
                  [this](const QString &name, const QHttpServerRequest &r) { return feedback(name, r); });
    for (const QString &action : {QStringLiteral("reload"), QStringLiteral("deploy"), QStringLiteral("rollback")})
        m_http->route(QStringLiteral("/v1/deployments/<arg>/") + action, Method::Post,
                      [this, action](const QString &name, const QHttpServerRequest &r) { return admin(name, action, r); });
}

QHttpServerResponse Server::list() const
{
    QJsonArray arr;
    for (auto it = m_deployments.constBegin(); it != m_deployments.constEnd(); ++it) {
        const deploy::Deployment &d = it.value()->spec;
        QJsonObject o{{QStringLiteral("name"), d.name}, {QStringLiteral("revision"), d.revision},
                      {QStringLiteral("model"), d.model.version}, {QStringLiteral("requested"), d.model.requested},
                      {QStringLiteral("scoring"), it.value()->model->compiledTrees() ? QStringLiteral("compiled trees")
                                                                                      : QStringLiteral("model library")}};
        if (d.shadow.isSet())
            o.insert(QStringLiteral("shadow"), d.shadow.version);
        if (d.canary.isSet())
            o.insert(QStringLiteral("canary"), QJsonObject{{QStringLiteral("model"), d.canary.version}, {QStringLiteral("share"), d.canaryShare}});
        arr.append(o);
    }
    return QHttpServerResponse(QJsonObject{{QStringLiteral("deployments"), arr}});
}

void Server::count(const QString &deployment, const QString &version, int status, double seconds)
{
    auto it = m_counters.find(deployment);
    if (it == m_counters.end())
        return;
    Counters &c = it->second;
    ++c.requests[{version, status}];
    for (size_t b = 0; b < kBucketCount; ++b)
        if (seconds <= kBuckets[b]) {
            ++c.buckets[b];
            break;
        }
    c.latencySum += seconds;
    ++c.latencyCount;
}

QHttpServerResponse Server::score(const QString &name, const QHttpServerRequest &request, bool explain)
{
    QElapsedTimer timer;
    timer.start();
    const auto it = m_deployments.constFind(name);
    if (it == m_deployments.constEnd())
        return errorResponse(Status_::NotFound, QStringLiteral("no deployment named '%1' is served (deployments: %2)")
                                                    .arg(name, m_deployments.keys().join(QStringLiteral(", "))));
    const std::shared_ptr<const DeploymentRuntime> d = *it;   // this request keeps its models, whatever switches
    const auto finish = [&](QHttpServerResponse response, const QString &version) {
        count(name, version, int(response.statusCode()), double(timer.nsecsElapsed()) / 1e9);
        return response;
    };
    const QByteArray body = request.body();
    if (body.size() > m_options.maxBodyBytes)
        return finish(errorResponse(Status_::PayloadTooLarge, QStringLiteral("the body has %1 bytes; the limit is %2")
                                                                   .arg(body.size())
                                                                   .arg(m_options.maxBodyBytes)),
                      d->model->ref());
    auto parsed = RequestRecords::parse(body);
    if (!parsed)
        return finish(errorResponse(parsed.error()), d->model->ref());
    // Shared with the log writer and the shadow, which run after the response.
    const auto records = std::make_shared<const RequestRecords>(std::move(*parsed));
    if (records->size() > m_options.maxRecords)
        return finish(errorResponse(Status_::PayloadTooLarge, QStringLiteral("%1 records; at most %2 per request")
                                                                   .arg(records->size())
                                                                   .arg(m_options.maxRecords),
                                    QStringLiteral("records")),
                      d->model->ref());
    const QString firstId = m_idPrefix + QLatin1Char('-') + QString::number(m_nextId, 36);
    const QString key = records->key().value_or(firstId);
    const ModelRuntime &model = d->answering(key);
    ModelRuntime::InputNotes notes;
    auto table = model.toTable(*records, &notes);
    if (!table)
        return finish(errorResponse(table.error()), model.ref());
    auto predictions = model.predict(*table);
    if (!predictions)
        return finish(errorResponse(predictions.error()), model.ref());
    std::optional<explain::Attribution> attribution;
    if (explain) {
        auto a = model.explain(*table);
        if (!a)
            return finish(errorResponse(a.error()), model.ref());
        attribution = std::move(*a);
    }
    Counters &counters = m_counters[name];
    counters.records += records->size();
    counters.unseenCategories += notes.unseenCategories;
    const QString now = utcNow();
    const double latencyMs = double(timer.nsecsElapsed()) / 1e6;
    // The response is written straight to bytes; the log lines are serialized later, on the flushing thread.
    const qint64 firstNumber = qint64(m_nextId);
    m_nextId += quint64(records->size());
    const auto idOf = [prefix = m_idPrefix](qint64 n) -> QString { return prefix + QLatin1Char('-') + QString::number(n, 36); };
    QByteArray out;
    out.reserve(records->size() * 160 + 128);
    out += "{\"deployment\":";
    appendJson(out, name);
    out += ",\"predictions\":[";
    std::vector<std::pair<qsizetype, qsizetype>> outputSpans(size_t(records->size()));
    for (qsizetype r = 0; r < records->size(); ++r) {
        if (r)
            out += ',';
        model.appendRecord(out, idOf(firstNumber + r), *predictions, r, attribution ? &*attribution : nullptr, &outputSpans[size_t(r)]);
    }
    out += "],\"revision\":" + QByteArray::number(d->spec.revision);
    if (notes.unseenCategories > 0)
        out += ",\"unseen_categories\":" + QByteArray::number(notes.unseenCategories);
    out += '}';

    // The log lines, from the pieces the response already formatted: the record's text as received and its output.
    {
        QByteArray head = "{\"deployment\":";
        appendJson(head, name);
        head += ",\"id\":";
        QByteArray tail = ",\"revision\":" + QByteArray::number(d->spec.revision) + ",\"time\":";
        appendJson(tail, now);
        tail += ",\"version\":";
        appendJson(tail, model.ref());
        tail += "}\n";
        const QByteArray latency = QByteArray::number(latencyMs / double(records->size()), 'g', QLocale::FloatingPointShortest);
        QByteArray lines;
        lines.reserve(records->size() * (head.size() + tail.size() + 400));
        for (qsizetype r = 0; r < records->size(); ++r) {
            lines += head;
            appendJson(lines, idOf(firstNumber + r));
            lines += ",\"inputs\":";
            records->appendRecordJson(lines, r);
            lines += ",\"latency_ms\":" + latency + ",\"output\":{";
            lines += QByteArrayView(out).sliced(outputSpans[size_t(r)].first, outputSpans[size_t(r)].second);
            lines += '}';
            lines += tail;
        }
        m_logs.at(name)->appendLines(lines, records->size());
    }
    if (d->shadow) {
        auto shared = std::make_shared<const std::vector<double>>(std::move(*predictions));
        std::shared_ptr<const ModelRuntime> answering = &model == d->model.get() ? d->model : d->canary;
        // After this response is written: the shadow never delays or changes the answer.
        QMetaObject::invokeMethod(this, [this, d, records, firstNumber, idOf, shared, answering] {
            QStringList ids;
            std::vector<int> classes;
            std::vector<double> values;
            for (qsizetype r = 0; r < records->size(); ++r) {
                ids << idOf(firstNumber + r);
                classes.push_back(answering->predictedClass(*shared, r));
                values.push_back(answering->version().task == ml::Task::Regression ? (*shared)[size_t(r)] : 0.0);
            }
            scoreShadow(d, records, ids, classes, values);
        }, Qt::QueuedConnection);
    }
    return finish(QHttpServerResponse(QByteArrayLiteral("application/json"), std::move(out)), model.ref());
}

void Server::scoreShadow(std::shared_ptr<const DeploymentRuntime> d, std::shared_ptr<const RequestRecords> records, QStringList ids,
                         std::vector<int> mainClasses, std::vector<double> mainValues)
{
    const ModelRuntime &shadow = *d->shadow;
    auto table = shadow.toTable(*records);
    if (!table)
        return;
    auto predictions = shadow.predict(*table);
    if (!predictions)
        return;
    Counters &c = m_counters[d->spec.name];
    PredictionLog *log = m_logs.at(d->spec.name).get();
    for (qsizetype r = 0; r < records->size(); ++r) {
        ++c.shadowCompared;
        const bool differs = shadow.version().task == ml::Task::Regression
                                 ? std::abs((*predictions)[size_t(r)] - mainValues[size_t(r)]) > 1e-9 * std::max(1.0, std::abs(mainValues[size_t(r)]))
                                 : shadow.predictedClass(*predictions, r) != mainClasses[size_t(r)];
        c.shadowDisagreed += differs ? 1 : 0;
        log->append(QJsonObject{{QStringLiteral("id"), QString(ids[r] + QStringLiteral(".shadow"))}, {QStringLiteral("shadow_of"), ids[r]},
                                {QStringLiteral("version"), shadow.ref()}, {QStringLiteral("output"), shadow.outputJson(*predictions, r)},
                                {QStringLiteral("agrees"), !differs}});
    }
}

QHttpServerResponse Server::feedback(const QString &name, const QHttpServerRequest &request)
{
    const auto it = m_deployments.constFind(name);
    if (it == m_deployments.constEnd())
        return errorResponse(Status_::NotFound, QStringLiteral("no deployment named '%1' is served").arg(name));
    const QByteArray body = request.body();
    if (body.size() > m_options.maxBodyBytes)
        return errorResponse(Status_::PayloadTooLarge, QStringLiteral("the body is over the limit"));
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return errorResponse(Status_::BadRequest, QStringLiteral("the body is not a JSON object"));
    // One label ({"prediction_id", "label"}) or many ({"feedback": [{...}, ...]}): all are checked before any is kept.
    const QJsonObject object = doc.object();
    const bool many = object.contains(QStringLiteral("feedback"));
    if (many && object.size() != 1)
        return errorResponse(Status_::BadRequest, QStringLiteral("a batch holds only \"feedback\": [...]"), QStringLiteral("feedback"));
    const QJsonArray items = many ? object.value(QStringLiteral("feedback")).toArray() : QJsonArray{object};
    if (many && (items.isEmpty() || items.size() > m_options.maxRecords))
        return errorResponse(items.isEmpty() ? Status_::BadRequest : Status_::PayloadTooLarge,
                             QStringLiteral("expected 1 to %1 labels").arg(m_options.maxRecords), QStringLiteral("feedback"));
    const registry::ModelVersion &v = (*it)->model->version();
    for (qsizetype i = 0; i < items.size(); ++i) {
        const QString at = many ? QStringLiteral("feedback[%1].").arg(i) : QString();
        const QJsonObject o = items.at(i).toObject();
        if (o.value(QStringLiteral("prediction_id")).toString().isEmpty())
            return errorResponse(Status_::BadRequest, QStringLiteral("expected the id a prediction returned"), at + QStringLiteral("prediction_id"));
        const QJsonValue label = o.value(QStringLiteral("label"));
        if (v.task == ml::Task::Regression) {
            if (!label.isDouble() || !std::isfinite(label.toDouble()))
                return errorResponse(Status_::BadRequest, QStringLiteral("expected the true value, a number"), at + QStringLiteral("label"));
        } else if (!label.isString() || !v.classes.contains(label.toString())) {
            return errorResponse(Status_::BadRequest,
                                 QStringLiteral("expected one of the classes %1 (case matters)").arg(v.classes.join(QStringLiteral(", "))),
                                 at + QStringLiteral("label"));
        }
        for (auto k = o.begin(); k != o.end(); ++k)
            if (k.key() != u"prediction_id" && k.key() != u"label")
                return errorResponse(Status_::BadRequest, QStringLiteral("unknown field (expected prediction_id and label)"), at + k.key());
    }
    const QString now = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
    for (const QJsonValue &item : items) {
        const QJsonObject o = item.toObject();
        m_logs.at(name)->appendFeedback(QJsonObject{{QStringLiteral("prediction_id"), o.value(QStringLiteral("prediction_id"))},
                                                    {QStringLiteral("label"), o.value(QStringLiteral("label"))}, {QStringLiteral("time"), now}});
        ++m_counters[name].feedback;
    }
    if (many)
        return QHttpServerResponse(QJsonObject{{QStringLiteral("accepted"), items.size()}}, Status_::Accepted);
    const QString id = object.value(QStringLiteral("prediction_id")).toString();
    return QHttpServerResponse(QJsonObject{{QStringLiteral("accepted"), true}, {QStringLiteral("prediction_id"), id}},
                               Status_::Accepted);
}

QHttpServerResponse Server::admin(const QString &name, const QString &action, const QHttpServerRequest &request)
{
    const QByteArray auth = request.value("Authorization");
    if (!auth.startsWith("Bearer ") || !checkAdminToken(m_options.root, QString::fromUtf8(auth.mid(7).trimmed())))
        return errorResponse(Status_::Unauthorized, QStringLiteral("admin calls need \"Authorization: Bearer TOKEN\" (keel serve token create)"));
    QJsonObject o;
    if (!request.body().trimmed().isEmpty()) {
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(request.body(), &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject())
            return errorResponse(Status_::BadRequest, QStringLiteral("the body is not a JSON object"));
        o = doc.object();
    }
    if (action == u"reload") {
        if (Status s = reload(name); !s)
            return errorResponse(s.error());
        if (Status s = m_ws->audit(QStringLiteral("serve.reload"), QStringLiteral("deployment:") + name,
                                   QJsonObject{{QStringLiteral("by"), QStringLiteral("keel serve admin call")}});
            !s)
            return errorResponse(s.error());
        return list();
    }
    Expected<deploy::DeployOutcome> outcome = makeError(QStringLiteral("unknown action"));
    if (action == u"deploy") {
        deploy::DeployRequest r;
        r.name = name;
        r.model = o.value(QStringLiteral("model")).toString();
        r.shadow = o.value(QStringLiteral("shadow")).toString();
        r.message = o.value(QStringLiteral("message")).toString();
        if (o.contains(QStringLiteral("tolerance")))
            r.tolerance = o.value(QStringLiteral("tolerance")).toDouble(-1);
        outcome = deploy::deployModel(*m_ws, r);
    } else {
        std::optional<int> to;
        if (o.contains(QStringLiteral("to")))
            to = o.value(QStringLiteral("to")).toInt();
        outcome = deploy::rollback(*m_ws, name, to, o.value(QStringLiteral("message")).toString());
    }
    if (!outcome)
        return errorResponse(outcome.error());
    QJsonArray gates;
    for (const deploy::GateResult &g : outcome->gates)
        gates.append(QJsonObject{{QStringLiteral("gate"), g.gate}, {QStringLiteral("passed"), g.passed},
                                 {QStringLiteral("skipped"), g.skipped}, {QStringLiteral("detail"), g.detail}});
    if (outcome->deployed)
        if (Status s = reload(name); !s)
            return errorResponse(s.error());
    return QHttpServerResponse(QJsonObject{{QStringLiteral("switched"), outcome->deployed}, {QStringLiteral("revision"), outcome->deployment.revision},
                                           {QStringLiteral("model"), outcome->deployment.model.version}, {QStringLiteral("gates"), gates}},
                               outcome->deployed || outcome->unchanged ? Status_::Ok : Status_::Conflict);
}

QByteArray Server::metricsText() const
{
    QByteArray out;
    auto line = [&out](const QString &s) { out += s.toUtf8() + '\n'; };
    line(QStringLiteral("# HELP keel_requests_total Scoring requests by deployment, answering model version and HTTP status."));
    line(QStringLiteral("# TYPE keel_requests_total counter"));
    for (const auto &[name, c] : m_counters)
        for (const auto &[key, n] : c.requests)
            line(QStringLiteral("keel_requests_total{deployment=\"%1\",version=\"%2\",status=\"%3\"} %4")
                     .arg(labelValue(name), labelValue(key.first))
                     .arg(key.second)
                     .arg(n));
    line(QStringLiteral("# HELP keel_request_duration_seconds Time to answer a scoring request."));
    line(QStringLiteral("# TYPE keel_request_duration_seconds histogram"));
    for (const auto &[name, c] : m_counters) {
        qint64 cumulative = 0;
        for (size_t b = 0; b < kBucketCount; ++b) {
            cumulative += c.buckets[b];
            line(QStringLiteral("keel_request_duration_seconds_bucket{deployment=\"%1\",le=\"%2\"} %3")
                     .arg(labelValue(name), QString::number(kBuckets[b]))
                     .arg(cumulative));
        }
        line(QStringLiteral("keel_request_duration_seconds_bucket{deployment=\"%1\",le=\"+Inf\"} %2").arg(labelValue(name)).arg(c.latencyCount));
        line(QStringLiteral("keel_request_duration_seconds_sum{deployment=\"%1\"} %2").arg(labelValue(name)).arg(c.latencySum, 0, 'g', 12));
        line(QStringLiteral("keel_request_duration_seconds_count{deployment=\"%1\"} %2").arg(labelValue(name)).arg(c.latencyCount));
    }
    const auto counter = [&](const char *metric, const char *help, qint64 Counters::*field) {
        line(QStringLiteral("# HELP %1 %2").arg(QLatin1String(metric), QLatin1String(help)));
        line(QStringLiteral("# TYPE %1 counter").arg(QLatin1String(metric)));
        for (const auto &[name, c] : m_counters)
            line(QStringLiteral("%1{deployment=\"%2\"} %3").arg(QLatin1String(metric), labelValue(name)).arg(c.*field));
    };
    counter("keel_records_scored_total", "Records scored (a request may hold many).", &Counters::records);
    counter("keel_unseen_categories_total", "Categorical values the model did not see in training (scored as its recipe says).",
            &Counters::unseenCategories);
    counter("keel_shadow_comparisons_total", "Records scored by a shadow model.", &Counters::shadowCompared);
    counter("keel_shadow_disagreements_total", "Records where the shadow's decision differs from the served one.", &Counters::shadowDisagreed);
    counter("keel_feedback_total", "Feedback labels received.", &Counters::feedback);
    line(QStringLiteral("# HELP keel_deployment_revision The deployment revision being served."));
    line(QStringLiteral("# TYPE keel_deployment_revision gauge"));
    for (auto it = m_deployments.constBegin(); it != m_deployments.constEnd(); ++it)
        line(QStringLiteral("keel_deployment_revision{deployment=\"%1\",version=\"%2\"} %3")
                 .arg(labelValue(it.key()), labelValue(it.value()->spec.model.version))
                 .arg(it.value()->spec.revision));
    if (m_monitors.empty())
        return out;
    line(QStringLiteral("# HELP keel_drift_score Drift of each input and of the prediction in the newest judged window (PSI for numbers, Jensen-Shannon distance for categories)."));
    line(QStringLiteral("# TYPE keel_drift_score gauge"));
    for (const auto &[name, m] : m_monitors)
        for (const auto &[feature, statistic, score, velocity] : m.drift)
            if (std::isfinite(score))
                line(QStringLiteral("keel_drift_score{deployment=\"%1\",feature=\"%2\",statistic=\"%3\"} %4")
                         .arg(labelValue(m.deployment), labelValue(feature), labelValue(statistic))
                         .arg(score, 0, 'g', 10));
    line(QStringLiteral("# HELP keel_drift_velocity Smoothed change of the drift score per window (positive: drift grows)."));
    line(QStringLiteral("# TYPE keel_drift_velocity gauge"));
    for (const auto &[name, m] : m_monitors)
        for (const auto &[feature, statistic, score, velocity] : m.drift)
            if (std::isfinite(velocity))
                line(QStringLiteral("keel_drift_velocity{deployment=\"%1\",feature=\"%2\"} %3")
                         .arg(labelValue(m.deployment), labelValue(feature))
                         .arg(velocity, 0, 'g', 10));
    line(QStringLiteral("# HELP keel_model_performance Performance in the newest judged window: realised from feedback, or expected before labels (CBPE)."));
    line(QStringLiteral("# TYPE keel_model_performance gauge"));
    for (const auto &[name, m] : m_monitors)
        for (const auto &[metric, kind, value] : m.performance)
            if (std::isfinite(value))
                line(QStringLiteral("keel_model_performance{deployment=\"%1\",metric=\"%2\",kind=\"%3\"} %4")
                         .arg(labelValue(m.deployment), labelValue(metric), labelValue(kind))
                         .arg(value, 0, 'g', 10));
    line(QStringLiteral("# HELP keel_monitor_rule_firing Whether a monitor rule holds (1) at the newest check."));
    line(QStringLiteral("# TYPE keel_monitor_rule_firing gauge"));
    for (const auto &[name, m] : m_monitors)
        for (const auto &[rule, holds] : m.rules)
            line(QStringLiteral("keel_monitor_rule_firing{monitor=\"%1\",deployment=\"%2\",rule=\"%3\"} %4")
                     .arg(labelValue(name), labelValue(m.deployment), labelValue(rule))
                     .arg(holds ? 1 : 0));
    return out;
}

} // namespace keel::serve
