// keel monitor drift: a deployment's traffic, window by window, against the served version's training rows
// (core/monitor). Parses, calls core, prints.
#include "commands.h"

#include "monitor/drift.h"
#include "monitor/performance.h"
#include "workspace/workspace.h"

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
                            QString::number(100 * f.missingShare, 'f', 1) + QLatin1Char('%'), QString::number(f.unseenCategories)});
    ctx.out << formatTable({QStringLiteral("feature"), QStringLiteral("statistic"), QStringLiteral("score"), QStringLiteral("level"),
                            QStringLiteral("velocity"), QStringLiteral("missing"), QStringLiteral("unseen")},
                           features, {2, 4, 5, 6});
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
    return v;
}

} // namespace keel::cli
