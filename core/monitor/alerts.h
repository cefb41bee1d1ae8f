#pragma once
// Monitors: rules on what core/monitor measures, and what to do when one holds. monitors/NAME.yaml (versioned with the
// workspace) names a deployment, a window and rules:
//
//   deployment: bikes
//   window: 500                 # hour, day, week or a number of predictions (as keel monitor drift)
//   min_predictions: 100        # windows with fewer predictions (or, for realised metrics, labels) are not judged
//   rules:
//     - name: demand drift
//       metric: psi             # see Rule::metric
//       feature: any            # a feature, "prediction", or any (the worst feature)
//       above: 0.25             # or below:
//       windows: 2              # holds in the newest 2 judged windows
//       actions: [alert, rollback, {command: "notify-send drift"}, {webhook: "http://127.0.0.1:9000/hook"}]
//
// A rule *fires* when it starts to hold (it held in fewer than `windows` windows at the previous check): every firing is
// recorded as an alert (.keel/monitor/alerts.json, with an audit event) and runs the rule's actions once; the rule
// fires again only after it has stopped holding. `rollback` is deploy::rollback() to the previous revision, its audit
// event naming the monitor, the rule and the values. The state between checks is .keel/monitor/NAME.state.json.
// `keel monitor check` evaluates once; `keel serve` evaluates every monitor continuously.

#include "monitor/drift.h"
#include "monitor/performance.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace keel::workspace { class Workspace; }

namespace keel::monitor {

struct RuleAction {
    QString kind;                 ///< alert, rollback, command, webhook
    QString target;               ///< the shell command or the webhook URL
};

struct Rule {
    QString name;
    /// Drift, per feature (and "prediction"): drift (PSI for numbers, Jensen-Shannon distance for categories), psi,
    /// js_distance, ks, wasserstein, chi2_pvalue, velocity, missing_share, unseen_categories, out_of_rules.
    /// Performance from feedback: accuracy, roc_auc, log_loss, rmse, mae; before labels (binary): expected_accuracy,
    /// expected_roc_auc. Serving, per window from the log: predictions, latency_p50_ms, latency_p99_ms; from a running
    /// server only: error_rate (scoring requests answered with a 4xx or 5xx, since the previous check).
    QString metric;
    QString feature = QStringLiteral("any");
    std::optional<double> above, below;
    int windows = 1;
    std::vector<RuleAction> actions;   ///< alert is implied

    /// e.g. "psi of any feature > 0.25 in 2 windows"
    QString condition() const;
};

struct Monitor {
    QString name, deployment;
    QString window = QStringLiteral("day");
    qint64 minPredictions = 30;
    std::vector<Rule> rules;

    /// Parses monitors/NAME.yaml; errors name the file, line and field.
    static Expected<Monitor> fromYaml(const QByteArray &yaml, const QString &source);
};

/// Every metric a rule may name.
QStringList ruleMetrics();

/// monitors/NAME.yaml of the workspace (NotFound when absent).
Expected<Monitor> loadMonitor(workspace::Workspace &ws, const QString &name);
/// Names of the workspace's monitors, sorted.
Expected<QStringList> listMonitors(workspace::Workspace &ws);

/// Values measured outside the prediction log, by a running server.
struct LiveValues {
    std::optional<double> errorRate;     ///< since the previous check
};

struct CheckOptions {
    bool act = true;                     ///< false: evaluate and report, record nothing and run no action
    bool gauges = false;                 ///< also report the newest judged window's drift and performance (for /metrics)
    LiveValues live;
    QString actor;                       ///< who acts (audit), e.g. "keel serve"; empty: the workspace user
};

struct WindowValue {
    QString window;                      ///< the window's label
    double value = 0;
    QString feature;                     ///< for per-feature metrics: which feature gave the value
    bool holds = false;
};

struct ActionOutcome {
    QString kind, target;
    bool ok = false;
    QString detail;                      ///< e.g. "rolled back to revision 1 (bikes@v1)", "HTTP 200", "exit 0"
};

struct RuleOutcome {
    Rule rule;
    std::vector<WindowValue> values;     ///< the judged windows, oldest first (the newest `windows` decide)
    bool holds = false;                  ///< holds now
    bool fired = false;                  ///< started to hold at this check: actions ran
    QString sentence;                    ///< e.g. "psi of temp 0.412, 0.388 > 0.25 in the newest 2 windows"
    QString alertId;                     ///< when it fired
    std::vector<ActionOutcome> actions;
};

struct CheckReport {
    QString monitor, deployment;
    QDateTime time;
    std::vector<RuleOutcome> rules;
    /// With CheckOptions::gauges: the newest window with min_predictions predictions (labels, for realised metrics).
    QString driftWindow, performanceWindow;
    std::vector<FeatureDrift> drift;
    std::vector<MetricValue> realised, expected;
    QJsonObject toJson() const;
};

/// Evaluates every rule of monitor `name` on the deployment's prediction log (and `options.live`), fires the rules
/// that start to hold and saves the state. Errors: an unknown monitor or deployment, a log that does not parse.
/// A failed action is not an error: its outcome says so (and the alert records it).
Expected<CheckReport> checkMonitor(workspace::Workspace &ws, const QString &name, const CheckOptions &options = {},
                                   Feedback *feedback = nullptr);

struct Alert {
    QString id;                          ///< "a" + a sequence number
    QDateTime time;
    QString monitor, deployment, rule, sentence;
    QJsonArray values;                   ///< the WindowValues that decided
    QJsonArray actions;                  ///< ActionOutcomes
    QDateTime acknowledged;              ///< invalid until acknowledged
    QString acknowledgedBy;

    QJsonObject toJson() const;
    static Alert fromJson(const QJsonObject &o);
};

/// Every recorded alert, oldest first (of one monitor when `monitor` is set).
Expected<std::vector<Alert>> listAlerts(workspace::Workspace &ws, const QString &monitor = {});
/// Marks alert `id` acknowledged by the workspace user (an audit event). NotFound for an unknown id.
Status acknowledgeAlert(workspace::Workspace &ws, const QString &id);

} // namespace keel::monitor
