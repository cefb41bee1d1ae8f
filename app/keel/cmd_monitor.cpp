// keel monitor drift: a deployment's traffic, window by window, against the served version's training rows
// (core/monitor). Parses, calls core, prints.
#include "commands.h"

#include "monitor/alerts.h"
#include "monitor/drift.h"
#include "monitor/replay.h"
#include "monitor/performance.h"
#include "workspace/workspace.h"

#include <QJsonArray>

#include <QJsonObject>

#include <algorithm>
#include <cmath>

namespace keel::cli {

namespace {

QString num(double v) { return std::isfinite(v) ? QString::number(v, 'f', 3) : QStringLiteral("-"); }
QString signedNum(double v) { return std::isfinite(v) ? (v >= 0 ? QStringLiteral("+") : QString()) + QString::number(v, 'f', 3) : QStringLiteral("-"); }

/// --window and --since, shared by the monitor commands; false after printing the usage error.
bool windowOptions(Context &ctx, QString &window, QDateTime &since)
{
    if (ctx.parser.isSet(QStringLiteral("window")))
        window = ctx.parser.value(QStringLiteral("window"));
    if (ctx.parser.isSet(QStringLiteral("since"))) {
        since = QDateTime::fromString(ctx.parser.value(QStringLiteral("since")), Qt::ISODateWithMs);
        if (!since.isValid()) {
            ctx.usage(QStringLiteral("--since must be an ISO 8601 time such as 2026-12-01T12:00:00Z"));
            return false;
        }
    }
    return true;
}

void addWindowOptions(QCommandLineParser &p)
{
    p.addOption({QStringLiteral("window"), QStringLiteral("hour, day, week or a number of predictions."), QStringLiteral("w")});
    p.addOption({QStringLiteral("since"), QStringLiteral("Only predictions from this time (ISO 8601)."), QStringLiteral("time")});
}

int cmdDrift(Context &ctx)
{
    monitor::DriftRequest r;
    r.deployment = ctx.args().at(0);
    if (!windowOptions(ctx, r.window, r.since))
        return 2;
    if (ctx.parser.isSet(QStringLiteral("smoothing"))) {
        bool ok = false;
        r.smoothing = ctx.parser.value(QStringLiteral("smoothing")).toDouble(&ok);
        if (!ok)
            return ctx.usage(QStringLiteral("--smoothing must be a number in (0, 1]"));
    }
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto report = monitor::driftReport(*ws, r, ctx.feedback());
    ctx.endProgress();
    if (!report)
        return ctx.fail(report.error());
    if (ctx.json()) {
        ctx.printJson(report->toJson());
        return 0;
    }
    ctx.out << r.deployment << " against " << report->reference << '\n';
    if (report->windows.empty()) {
        ctx.out << "no predictions logged yet (keel serve logs every scored record)\n";
        return 0;
    }
    std::vector<QStringList> rows;
    for (const monitor::DriftWindow &w : report->windows) {
        std::vector<const monitor::FeatureDrift *> order;
        for (const monitor::FeatureDrift &f : w.features)
            order.push_back(&f);
        std::stable_sort(order.begin(), order.end(), [](auto *a, auto *b) { return a->score > b->score; });
        QStringList top;
        for (size_t i = 0; i < std::min<size_t>(3, order.size()); ++i)
            top << QStringLiteral("%1 %2 (%3, %4)").arg(order[i]->feature, num(order[i]->score), order[i]->level, signedNum(order[i]->velocity));
        rows.push_back({w.label, QString::number(w.predictions), w.versions.join(QLatin1Char(' ')), top.join(QStringLiteral("; "))});
    }
    ctx.out << formatTable({QStringLiteral("window"), QStringLiteral("predictions"), QStringLiteral("model"),
                            QStringLiteral("largest drift: score (level, velocity)")},
                           rows, {1});
    const monitor::DriftWindow &last = report->windows.back();
    ctx.out << "\nlast window (" << last.label << "):\n";
    std::vector<QStringList> features;
    for (const monitor::FeatureDrift &f : last.features)
        features.push_back({f.feature, f.diff.driftStatistic(), num(f.score), f.level, signedNum(f.velocity),
                            QString::number(100 * f.missingShare, 'f', 1) + QLatin1Char('%'), QString::number(f.unseenCategories),
                            report->rules.isEmpty() ? QStringLiteral("-") : QString::number(f.outOfRules)});
    ctx.out << formatTable({QStringLiteral("feature"), QStringLiteral("statistic"), QStringLiteral("score"), QStringLiteral("level"),
                            QStringLiteral("velocity"), QStringLiteral("missing"), QStringLiteral("unseen"), QStringLiteral("out of rules")},
                           features, {2, 4, 5, 6, 7});
    if (!report->rules.isEmpty())
        ctx.out << "out of rules: values outside " << report->rules << " (min, max, allowed, regex)\n";
    return 0;
}

int cmdPerformance(Context &ctx)
{
    monitor::PerformanceRequest r;
    r.deployment = ctx.args().at(0);
    if (!windowOptions(ctx, r.window, r.since))
        return 2;
    if (ctx.parser.isSet(QStringLiteral("bootstrap"))) {
        bool ok = false;
        r.bootstrap = ctx.parser.value(QStringLiteral("bootstrap")).toInt(&ok);
        if (!ok)
            return ctx.usage(QStringLiteral("--bootstrap must be a whole number"));
    }
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto report = monitor::performanceReport(*ws, r, ctx.feedback());
    ctx.endProgress();
    if (!report)
        return ctx.fail(report.error());
    if (ctx.json()) {
        ctx.printJson(report->toJson());
        return 0;
    }
    if (report->windows.empty()) {
        ctx.out << "no predictions logged yet (keel serve logs every scored record)\n";
        return 0;
    }
    std::vector<QStringList> rows;
    for (const monitor::PerformanceWindow &w : report->windows) {
        QStringList realised, expected;
        for (const monitor::MetricValue &m : w.realised)
            realised << (std::isfinite(m.low) ? QStringLiteral("%1 %2 [%3, %4]").arg(m.metric, num(m.value), num(m.low), num(m.high))
                                              : QStringLiteral("%1 %2").arg(m.metric, num(m.value)));
        for (const monitor::MetricValue &m : w.expected)
            expected << QStringLiteral("%1 %2").arg(m.metric, num(m.value));
        rows.push_back({w.label, QString::number(w.predictions), QString::number(w.labelled),
                        w.complete ? QStringLiteral("yes") : QStringLiteral("no"), realised.join(QStringLiteral("; ")),
                        expected.join(QStringLiteral("; "))});
    }
    ctx.out << formatTable({QStringLiteral("window"), QStringLiteral("predictions"), QStringLiteral("labelled"), QStringLiteral("complete"),
                            QStringLiteral("realised (95% bootstrap)"), QStringLiteral("expected before labels (CBPE)")},
                           rows, {1, 2});
    // The shadow challenger on the same labelled requests, window by window.
    for (const monitor::PerformanceWindow &w : report->windows) {
        if (!w.shadow)
            continue;
        QStringList served, shadow;
        for (const monitor::MetricValue &m : w.shadow->served)
            served << QStringLiteral("%1 %2").arg(m.metric, num(m.value));
        for (const monitor::MetricValue &m : w.shadow->shadow)
            shadow << QStringLiteral("%1 %2").arg(m.metric, num(m.value));
        ctx.out << '\n' << w.label << ": served " << served.join(QStringLiteral(", ")) << " vs shadow " << w.shadow->version << ' '
                << shadow.join(QStringLiteral(", ")) << " on " << w.shadow->paired << " labelled requests\n";
        for (const auto &t : w.shadow->tests)
            ctx.out << "  " << t.test << ": " << t.sentence << '\n';
    }
    return 0;
}

int cmdCheck(Context &ctx)
{
    monitor::CheckOptions options;
    options.act = !ctx.parser.isSet(QStringLiteral("dry-run"));
    if (ctx.parser.isSet(QStringLiteral("error-rate"))) {
        bool ok = false;
        const double v = ctx.parser.value(QStringLiteral("error-rate")).toDouble(&ok);
        if (!ok || !(v >= 0 && v <= 1))
            return ctx.usage(QStringLiteral("--error-rate must be a share from 0 to 1"));
        options.live.errorRate = v;
    }
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    QStringList names = ctx.args();
    if (names.isEmpty()) {
        auto all = monitor::listMonitors(*ws);
        if (!all)
            return ctx.fail(all.error());
        if (all->isEmpty()) {
            ctx.out << "no monitors yet (write monitors/NAME.yaml; keel monitor check --help shows the format)\n";
            return 0;
        }
        names = *all;
    }
    QJsonArray reports;
    int firing = 0;
    for (const QString &name : names) {
        auto report = monitor::checkMonitor(*ws, name, options, ctx.feedback());
        ctx.endProgress();
        if (!report)
            return ctx.fail(report.error());
        reports.append(report->toJson());
        for (const monitor::RuleOutcome &r : report->rules)
            firing += r.holds ? 1 : 0;
        if (ctx.json())
            continue;
        ctx.out << name << " (" << report->deployment << ")" << (options.act ? "" : " — dry run: nothing recorded, no action run") << '\n';
        for (const monitor::RuleOutcome &r : report->rules) {
            ctx.out << "  " << (r.fired ? "FIRED  " : r.holds ? "firing " : "ok     ") << r.rule.name << '\n';
            ctx.out << "         " << r.sentence << '\n';
            for (const monitor::ActionOutcome &a : r.actions)
                ctx.out << "         " << a.kind << (a.target.isEmpty() ? QString() : QStringLiteral(" ") + a.target) << ": "
                        << (a.ok ? "" : "FAILED ") << a.detail << '\n';
        }
    }
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("monitors"), reports}, {QStringLiteral("firing"), firing}});
    // For cron and CI: exit 3 while a rule holds.
    return firing > 0 ? 3 : 0;
}

int cmdAlerts(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    if (ctx.parser.isSet(QStringLiteral("ack"))) {
        if (Status s = monitor::acknowledgeAlert(*ws, ctx.parser.value(QStringLiteral("ack"))); !s)
            return ctx.fail(s.error());
        if (!ctx.json())
            ctx.out << "acknowledged " << ctx.parser.value(QStringLiteral("ack")) << '\n';
        else
            ctx.printJson(QJsonObject{{QStringLiteral("acknowledged"), ctx.parser.value(QStringLiteral("ack"))}});
        return 0;
    }
    auto alerts = monitor::listAlerts(*ws, ctx.args().value(0));
    if (!alerts)
        return ctx.fail(alerts.error());
    if (ctx.json()) {
        QJsonArray a;
        for (const monitor::Alert &x : *alerts)
            a.append(x.toJson());
        ctx.printJson(QJsonObject{{QStringLiteral("alerts"), a}});
        return 0;
    }
    if (alerts->empty()) {
        ctx.out << "no alerts\n";
        return 0;
    }
    std::vector<QStringList> rows;
    for (const monitor::Alert &a : *alerts) {
        QStringList actions;
        for (const QJsonValue &v : a.actions) {
            const QJsonObject o = v.toObject();
            if (o.value(QStringLiteral("action")).toString() != u"alert")
                actions << o.value(QStringLiteral("action")).toString() + (o.value(QStringLiteral("ok")).toBool() ? QString() : QStringLiteral(" (failed)"));
        }
        rows.push_back({a.id, a.time.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")), a.monitor, a.rule,
                        actions.join(QStringLiteral(", ")),
                        a.acknowledged.isValid() ? QStringLiteral("by ") + a.acknowledgedBy : QStringLiteral("no")});
    }
    ctx.out << formatTable({QStringLiteral("alert"), QStringLiteral("time (UTC)"), QStringLiteral("monitor"), QStringLiteral("rule"),
                            QStringLiteral("actions"), QStringLiteral("acknowledged")},
                           rows, {});
    return 0;
}

int cmdReplay(Context &ctx)
{
    monitor::ReplayRequest r;
    r.deployment = ctx.args().at(0);
    r.data = ctx.parser.value(QStringLiteral("data"));
    r.timeColumn = ctx.parser.value(QStringLiteral("time-column"));
    if (r.data.isEmpty() || r.timeColumn.isEmpty())
        return ctx.usage(QStringLiteral("--data NAME@REF and --time-column C are required"));
    r.from = ctx.parser.value(QStringLiteral("from"));
    r.target = ctx.parser.value(QStringLiteral("target"));
    bool ok = true;
    if (ctx.parser.isSet(QStringLiteral("speed")))
        r.speed = ctx.parser.value(QStringLiteral("speed")).toDouble(&ok);
    if (!ok)
        return ctx.usage(QStringLiteral("--speed must be a number (0: as fast as possible)"));
    if (ctx.parser.isSet(QStringLiteral("batch")))
        r.batch = ctx.parser.value(QStringLiteral("batch")).toInt(&ok);
    if (!ok)
        return ctx.usage(QStringLiteral("--batch must be a whole number"));
    if (ctx.parser.isSet(QStringLiteral("limit")))
        r.limit = ctx.parser.value(QStringLiteral("limit")).toLongLong(&ok);
    if (!ok)
        return ctx.usage(QStringLiteral("--limit must be a whole number"));
    if (ctx.parser.isSet(QStringLiteral("server"))) {
        r.server = QUrl(ctx.parser.value(QStringLiteral("server")), QUrl::StrictMode);
        if (!r.server.isValid() || r.server.scheme() != u"http")
            return ctx.usage(QStringLiteral("--server must be an http:// URL such as http://127.0.0.1:8080"));
    }
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    r.labelsAfter = ctx.parser.value(QStringLiteral("labels-after"));
    auto result = monitor::replay(*ws, r, ctx.feedback());
    ctx.endProgress();
    if (!result)
        return ctx.fail(result.error());
    if (ctx.json()) {
        ctx.printJson(QJsonObject{{QStringLiteral("rows"), result->rows}, {QStringLiteral("predicted"), result->predicted},
                                  {QStringLiteral("labelled"), result->labelled}, {QStringLiteral("seconds"), result->seconds},
                                  {QStringLiteral("first_version"), result->firstVersion}, {QStringLiteral("last_version"), result->lastVersion}});
        return 0;
    }
    ctx.out << "replayed " << result->rows << " rows of " << r.data << " through " << r.deployment << " in "
            << QString::number(result->seconds, 'f', 1) << " s: " << result->predicted << " predictions, " << result->labelled
            << " labels sent as feedback\n";
    if (result->firstVersion != result->lastVersion)
        ctx.out << "the answering model changed from " << result->firstVersion << " to " << result->lastVersion << '\n';
    return 0;
}

} // namespace

std::vector<Command> monitorCommands()
{
    std::vector<Command> v;
    v.push_back({{QStringLiteral("monitor"), QStringLiteral("drift")}, QStringLiteral("NAME"),
                 QStringLiteral("Drift of a deployment's inputs and predictions, window by window"),
                 QStringLiteral("Cuts the prediction log of deployment NAME into --window windows (hour, day (default), week, or a\n"
                                "number of predictions) and compares each with the rows the served version trained on, as\n"
                                "keel data diff does: PSI, KS and Wasserstein for numbers, chi-square and Jensen-Shannon distance\n"
                                "for categories, for every input and for the prediction; with the share of missing values and\n"
                                "of categories the model never saw. Drift velocity: the first difference of a feature's drift\n"
                                "score from window to window, smoothed (v = a d + (1 - a) v_prev, a = --smoothing, default 0.5)."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     addWindowOptions(p);
                     p.addOption({QStringLiteral("smoothing"), QStringLiteral("Velocity smoothing weight in (0, 1] (default 0.5)."), QStringLiteral("a")});
                 },
                 cmdDrift});
    v.push_back({{QStringLiteral("monitor"), QStringLiteral("performance")}, QStringLiteral("NAME"),
                 QStringLiteral("Realised and expected performance of a deployment, window by window"),
                 QStringLiteral("Per --window (as monitor drift): the metrics on the predictions whose feedback label arrived\n"
                                "(accuracy, ROC AUC, log loss; RMSE, MAE for regression) with 95% bootstrap intervals\n"
                                "(--bootstrap, default 200), whether the window is complete (95% of its labels arrived), and for\n"
                                "binary classifiers the accuracy and ROC AUC expected from the probabilities before any label\n"
                                "arrives (confidence-based performance estimation; meaningful for calibrated models)."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     addWindowOptions(p);
                     p.addOption({QStringLiteral("bootstrap"), QStringLiteral("Resamples per interval (default 200)."), QStringLiteral("n")});
                 },
                 cmdPerformance});
    v.push_back({{QStringLiteral("monitor"), QStringLiteral("check")}, QStringLiteral("[MONITOR...]"),
                 QStringLiteral("Evaluate monitor rules once; fire alerts, commands, webhooks and rollbacks"),
                 QStringLiteral("Evaluates the rules of monitors/MONITOR.yaml (every monitor when none is named) on the\n"
                                "deployment's prediction log. A rule that starts to hold fires once: it is recorded as an alert\n"
                                "(keel monitor alerts) with an audit event and runs its actions (command, webhook, rollback).\n"
                                "Exit status 3 while any rule holds (for cron and CI). The file:\n\n"
                                "  deployment: bikes\n"
                                "  window: 500                 # hour, day, week or a number of predictions\n"
                                "  min_predictions: 100        # smaller windows (or fewer labels) are not judged\n"
                                "  rules:\n"
                                "    - name: demand drift\n"
                                "      metric: psi             # drift psi js_distance ks wasserstein chi2_pvalue velocity\n"
                                "                              # missing_share unseen_categories out_of_rules accuracy roc_auc\n"
                                "                              # log_loss rmse mae expected_accuracy expected_roc_auc\n"
                                "                              # predictions"
                                " latency_p50_ms latency_p99_ms error_rate\n"
                                "      feature: any            # drift metrics: a feature, prediction, or any\n"
                                "      above: 0.25             # or below:\n"
                                "      windows: 2              # in the newest 2 judged windows\n"
                                "      actions: [alert, rollback, {command: \"...\"}, {webhook: \"http://...\"}]"),
                 0, -1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("dry-run"), QStringLiteral("Evaluate and print only: record nothing, run no action.")});
                     p.addOption({QStringLiteral("error-rate"), QStringLiteral("The error rate measured elsewhere (error_rate rules)."), QStringLiteral("share")});
                 },
                 cmdCheck});
    v.push_back({{QStringLiteral("monitor"), QStringLiteral("alerts")}, QStringLiteral("[MONITOR]"),
                 QStringLiteral("Alerts the monitors recorded; acknowledge one"),
                 QStringLiteral("Lists every alert (of MONITOR), oldest first, with the actions it ran and who acknowledged it.\n"
                                "--ack ID acknowledges an alert (an audit event)."),
                 0, 1,
                 [](QCommandLineParser &p) { p.addOption({QStringLiteral("ack"), QStringLiteral("Acknowledge this alert."), QStringLiteral("ID")}); },
                 cmdAlerts});
    v.push_back({{QStringLiteral("monitor"), QStringLiteral("replay")}, QStringLiteral("DEPLOYMENT"),
                 QStringLiteral("Send a dataset's rows through a running server in time order, labels later"),
                 QStringLiteral("Sends the rows of --data NAME@REF to keel serve (--server, default http://127.0.0.1:8080) as\n"
                                "predict requests, in the order of --time-column, and each row's true label (the served model's\n"
                                "target, or --target) as feedback once --labels-after of data time has passed (90s, 30m, 2h, 1d,\n"
                                "1w for dates; a number in the column's units otherwise). --speed N plays N units of data time per\n"
                                "wall unit (dates: N data seconds per second); 0 (default) sends as fast as the server answers.\n"
                                "--from T starts at time T; --batch K sends up to K rows of the same time per request."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("data"), QStringLiteral("Dataset version to replay."), QStringLiteral("NAME@REF")});
                     p.addOption({QStringLiteral("time-column"), QStringLiteral("Column giving each row's time."), QStringLiteral("C")});
                     p.addOption({QStringLiteral("from"), QStringLiteral("Only rows at or after this time."), QStringLiteral("T")});
                     p.addOption({QStringLiteral("speed"), QStringLiteral("Data time per wall time (0: as fast as possible)."), QStringLiteral("N")});
                     p.addOption({QStringLiteral("labels-after"), QStringLiteral("Delay before each label is sent as feedback."), QStringLiteral("DURATION")});
                     p.addOption({QStringLiteral("target"), QStringLiteral("Label column (default: the model's target)."), QStringLiteral("C")});
                     p.addOption({QStringLiteral("server"), QStringLiteral("Server URL (default http://127.0.0.1:8080)."), QStringLiteral("URL")});
                     p.addOption({QStringLiteral("batch"), QStringLiteral("Rows per request (default 1)."), QStringLiteral("K")});
                     p.addOption({QStringLiteral("limit"), QStringLiteral("Replay at most this many rows."), QStringLiteral("N")});
                 },
                 cmdReplay});
    return v;
}

} // namespace keel::cli
