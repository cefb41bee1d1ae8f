#pragma once
// `keel serve`: the deployments of a workspace over HTTP (Qt HttpServer), on loopback unless told otherwise.
//
//   POST /v1/deployments/NAME/predict    {"records": [{feature: value, ...}, ...], "key": "optional canary key"}
//   POST /v1/deployments/NAME/explain    the same, plus per-feature contributions
//   POST /v1/deployments/NAME/feedback   {"prediction_id": "...", "label": ...}
//   GET  /v1/deployments, /healthz, /readyz, /metrics (Prometheus text format)
//   POST /v1/deployments/NAME/reload|deploy|rollback   admin: "Authorization: Bearer TOKEN" (keel serve token create)
//
// Every scored record goes to the deployment's prediction log (serve/predictionlog.h), flushed in batches off the
// response path; a shadow model is scored after the response is written. A change of deployments/NAME.yaml (a deploy
// or rollback from any door) is picked up live: requests are answered one at a time on the server's thread, so each
// is answered wholly by the old or wholly by the new model and none fails during a switch.

#include "serve/endpoint.h"
#include "serve/predictionlog.h"
#include "util/result.h"

#include <QElapsedTimer>
#include <QFileSystemWatcher>
#include <QFuture>
#include <QHostAddress>
#include <QMap>
#include <QObject>
#include <QThreadPool>
#include <QTimer>

#include <map>
#include <tuple>
#include <memory>

QT_BEGIN_NAMESPACE
class QHttpServer;
class QHttpServerRequest;
class QHttpServerResponse;
QT_END_NAMESPACE

namespace keel::workspace { class Workspace; }

namespace keel::serve {

struct ServerOptions {
    QString root;                               ///< the workspace
    QHostAddress host = QHostAddress::LocalHost;
    quint16 port = 8080;                        ///< 0: any free port (see Server::port())
    int flushMs = 200;                          ///< prediction log flush interval
    qint64 maxBodyBytes = 16ll << 20;           ///< larger bodies get 413
    int maxRecords = 10000;                     ///< more records in one request get 413
    int monitorMs = 60000;                      ///< how often every monitor (monitors/*.yaml) is checked; 0: never
};

/// Creates an admin token for the workspace's server: returns it (shown once) and stores only its SHA-256 in
/// .keel/serve/tokens.
Expected<QString> createAdminToken(const QString &workspaceRoot);
/// Whether `token` is one of the workspace's admin tokens (constant-time comparison of hashes).
bool checkAdminToken(const QString &workspaceRoot, const QString &token);

/// .keel/serve/server.json: {"pid", "url", "started"} of the server running on the workspace (absent when none).
QString serverInfoPath(const QString &workspaceRoot);

/// What a running server's /metrics page says about one deployment (the counters Server::metricsText() writes).
struct DeploymentMetrics {
    qint64 requests = 0, errors = 0;            ///< scoring requests; those answered with a 4xx or 5xx
    double latencySum = 0;                      ///< seconds, over `requests`
    qint64 records = 0, unseenCategories = 0, shadowCompared = 0, shadowDisagreed = 0, feedback = 0;
    int revision = 0;
    QString version;
};
/// Parses a /metrics page of keel serve, by deployment. Lines it does not know are skipped.
QMap<QString, DeploymentMetrics> parseMetricsText(const QByteArray &text);

class Server : public QObject {
    Q_OBJECT
public:
    /// Opens the workspace, loads every deployment (bundles verified) and listens. Errors: no workspace, a
    /// deployment that does not load, the address in use.
    static Expected<std::unique_ptr<Server>> start(const ServerOptions &options);
    ~Server() override;

    quint16 port() const { return m_port; }
    QStringList deployments() const { return m_deployments.keys(); }
    /// Re-reads deployments/NAME.yaml (all when `name` is empty) and switches to what they say.
    Status reload(const QString &name = {});
    /// Writes every queued log line now.
    Status flushLogs();
    /// The /metrics page.
    QByteArray metricsText() const;
    /// Checks every monitor now (off the request thread); monitorsChecked() follows.
    void checkMonitors();

signals:
    /// A deployment switched to another revision (or appeared, or went away).
    void deploymentChanged(const QString &name, int revision);
    /// A monitor check finished; `fired` rules started to hold (their actions ran).
    void monitorsChecked(int fired);

private:
    explicit Server(const ServerOptions &options);
    void addRoutes();
    QHttpServerResponse score(const QString &name, const QHttpServerRequest &request, bool explain);
    QHttpServerResponse feedback(const QString &name, const QHttpServerRequest &request);
    QHttpServerResponse admin(const QString &name, const QString &action, const QHttpServerRequest &request);
    QHttpServerResponse list() const;
    void scoreShadow(std::shared_ptr<const DeploymentRuntime> d, std::shared_ptr<const RequestRecords> records, QStringList ids,
                     std::vector<int> mainClasses, std::vector<double> mainValues);
    void count(const QString &deployment, const QString &version, int status, double seconds);
    void watch();

    struct Counters {
        std::map<std::pair<QString, int>, qint64> requests;   ///< (version, status) -> count
        std::vector<qint64> buckets;                           ///< latency histogram, cumulative at render
        double latencySum = 0;
        qint64 latencyCount = 0;
        qint64 records = 0, unseenCategories = 0, shadowCompared = 0, shadowDisagreed = 0, feedback = 0;
    };

    /// The newest check of each monitor: rule states and drift and performance gauges for /metrics.
    struct MonitorSnapshot {
        QString deployment, driftWindow, performanceWindow;
        std::vector<std::pair<QString, bool>> rules;                        ///< rule -> holds
        std::vector<std::tuple<QString, QString, double, double>> drift;   ///< feature, statistic, score, velocity
        std::vector<std::tuple<QString, QString, double>> performance;     ///< metric, kind (realised, expected), value
    };

    ServerOptions m_options;
    std::unique_ptr<workspace::Workspace> m_ws;
    std::unique_ptr<QHttpServer> m_http;
    quint16 m_port = 0;
    QMap<QString, std::shared_ptr<const DeploymentRuntime>> m_deployments;
    std::map<QString, std::unique_ptr<PredictionLog>> m_logs;
    std::map<QString, Counters> m_counters;
    QTimer m_flushTimer;
    QThreadPool m_logPool;              ///< one thread, at a lower priority, that writes the prediction logs
    QFuture<void> m_flushing;           ///< the log flush running on m_logPool, if any
    QTimer m_reloadTimer;
    QFileSystemWatcher m_watcher;
    QString m_idPrefix;
    quint64 m_nextId = 0;
    QElapsedTimer m_uptime;
    QTimer m_monitorTimer;
    QFuture<void> m_monitoring;                 ///< the monitor check running on the thread pool, if any
    std::map<QString, MonitorSnapshot> m_monitors;   ///< by monitor name
    std::map<QString, std::pair<qint64, qint64>> m_checkedCounts;   ///< deployment -> (requests, errors) at the last check
    QString m_monitorSignature;                 ///< the files a check reads, as of the last check (skip when unchanged)
};

} // namespace keel::serve
