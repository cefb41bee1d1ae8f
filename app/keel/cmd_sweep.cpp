// keel sweep CONFIG --grid | --random N: hyperparameter search as child `keel train` processes under one parent run.
#include "commands.h"

#include "ml/learners.h"
#include "ml/sweep.h"
#include "ml/training.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "workspace/workspace.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QProcess>
#include <QRegularExpression>
#include <QThread>
#include <QTimer>
#include <QUuid>

#include <algorithm>
#include <cmath>
#include <memory>

namespace keel::cli {

namespace {

QString num(double v) { return QString::number(v, 'g', 6); }

/// One trial of a sweep and what its child process reported.
struct Trial {
    int index = 0;
    QStringList overrides;          ///< "params.NAME=VALUE"
    QString configPath;
    QString runId;
    QString status = QStringLiteral("pending");  ///< pending, running, finished, failed, killed
    QString message;
    std::optional<double> value;    ///< the sweep metric, when the run reported it
    QByteArray pending;             ///< partial stdout line
    QByteArray stderrText;
};

QString shortOverrides(const QStringList &overrides)
{
    QStringList parts;
    for (const QString &o : overrides)
        parts << (o.startsWith(u"params.") ? o.mid(7) : o);
    return parts.join(QLatin1Char(' '));
}

int cmdSweep(Context &ctx)
{
    workspace::Workspace *ws = ctx.workspace();
    if (!ws)
        return 1;
    const bool grid = ctx.parser.isSet(QStringLiteral("grid"));
    const bool random = ctx.parser.isSet(QStringLiteral("random"));
    if (grid == random)
        return ctx.usage(QStringLiteral("give --grid or --random N (one of them)"));
    const QString path = ctx.args().at(0);
    auto bytes = readFile(ctx.path(path));
    if (!bytes)
        return ctx.fail(bytes.error());
    const QString text = QString::fromUtf8(*bytes);
    auto config = ml::TrainingConfig::fromYaml(text, path);
    if (!config)
        return ctx.fail(config.error());
    auto spec = ml::SweepSpec::fromConfig(text, path);
    if (!spec)
        return ctx.fail(spec.error());
    if (ctx.parser.isSet(QStringLiteral("metric"))) {
        spec->metric = ctx.parser.value(QStringLiteral("metric"));
        if (Status s = ml::checkSweepMetric(spec->metric, spec->kfold); !s)
            return ctx.usage(s.error().toString());
        spec->maximize = ml::metricIsMaximized(spec->metric);
    }
    if (ctx.parser.isSet(QStringLiteral("goal"))) {
        const QString g = ctx.parser.value(QStringLiteral("goal"));
        if (g != u"maximize" && g != u"minimize")
            return ctx.usage(QStringLiteral("--goal must be maximize or minimize"));
        spec->maximize = g == u"maximize";
    }
    bool ok = true;
    const quint64 seed = ctx.parser.isSet(QStringLiteral("seed")) ? ctx.parser.value(QStringLiteral("seed")).toULongLong(&ok) : 0;
    if (!ok)
        return ctx.usage(QStringLiteral("--seed must be a non-negative integer"));
    std::vector<QStringList> trialOverrides;
    if (grid) {
        auto g = ml::gridTrials(*spec);
        if (!g)
            return ctx.fail(makeError(g.error().message, path, -1, g.error().field));
        trialOverrides = std::move(*g);
    } else {
        const int n = ctx.parser.value(QStringLiteral("random")).toInt(&ok);
        if (!ok || n < 1 || n > 10000)
            return ctx.usage(QStringLiteral("--random needs a trial count from 1 to 10000"));
        trialOverrides = ml::randomTrials(*spec, n, seed);
    }
    if (trialOverrides.size() > 10000)
        return ctx.fail(QStringLiteral("the grid has %1 trials; more than 10000 is refused (use --random N)").arg(trialOverrides.size()));
    const int cores = std::max(1, QThread::idealThreadCount());
    int parallel = cores;
    if (ctx.parser.isSet(QStringLiteral("parallel"))) {
        parallel = ctx.parser.value(QStringLiteral("parallel")).toInt(&ok);
        if (!ok || parallel < 1)
            return ctx.usage(QStringLiteral("--parallel must be a positive integer"));
        if (parallel > cores)
            return ctx.usage(QStringLiteral("--parallel %1 exceeds this machine's %2 cores").arg(parallel).arg(cores));
    }
    parallel = std::min<int>(parallel, int(trialOverrides.size()));
    // Share the cores between trials unless the config fixes the thread count itself.
    const ml::Learner *learner = ml::findLearner(config->learner);
    const std::vector<ml::ParamSpec> learnerParams = learner ? learner->params() : std::vector<ml::ParamSpec>();
    const bool hasThreads = std::any_of(learnerParams.begin(), learnerParams.end(),
                                        [](const ml::ParamSpec &p) { return p.name == u"threads"; });
    const bool userThreads = text.contains(QRegularExpression(QStringLiteral("\\bthreads\\s*:")));
    const int threadsPerTrial = std::max(1, cores / parallel);

    auto ts = ws->tracking();
    if (!ts)
        return ctx.fail(ts.error());
    tracking::RunRecord sweepRun;
    sweepRun.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    sweepRun.sweepId = sweepRun.id;
    sweepRun.experiment = config->experiment;
    sweepRun.name = config->name + QStringLiteral("-sweep");
    sweepRun.config = text;
    auto sweepId = (*ts)->createRun(sweepRun);
    if (!sweepId)
        return ctx.fail(sweepId.error());
    const std::vector<std::pair<QString, QString>> sweepParams = {
        {QStringLiteral("sweep.mode"), grid ? QStringLiteral("grid") : QStringLiteral("random")},
        {QStringLiteral("sweep.trials"), QString::number(trialOverrides.size())},
        {QStringLiteral("sweep.metric"), spec->metric},
        {QStringLiteral("sweep.goal"), spec->maximize ? QStringLiteral("maximize") : QStringLiteral("minimize")},
        {QStringLiteral("sweep.parallel"), QString::number(parallel)},
        {QStringLiteral("sweep.seed"), QString::number(seed)},
        {QStringLiteral("learner"), config->learner},
        {QStringLiteral("data"), config->data},
    };
    if (Status s = (*ts)->setParams(*sweepId, sweepParams); !s)
        return ctx.fail(s.error());

    // Trial configs live beside the workspace's private state; each is also stored verbatim with its run.
    const QString dir = ws->keelDir() + QStringLiteral("/sweeps/") + *sweepId;
    if (!QDir().mkpath(dir))
        return ctx.fail(makeError(QStringLiteral("cannot create folder"), dir));
    std::vector<std::unique_ptr<Trial>> trials;
    for (size_t i = 0; i < trialOverrides.size(); ++i) {
        auto t = std::make_unique<Trial>();
        t->index = int(i);
        t->overrides = trialOverrides[i];
        QStringList all = t->overrides;
        all << QStringLiteral("name=%1-trial-%2").arg(config->name).arg(i + 1);
        if (hasThreads && !userThreads)
            all << QStringLiteral("params.threads=%1").arg(threadsPerTrial);
        auto trialText = ml::applyConfigOverrides(text, all, path);
        if (!trialText)
            return ctx.fail(trialText.error());
        if (auto check = ml::TrainingConfig::fromYaml(*trialText, path); !check)
            return ctx.fail(makeError(QStringLiteral("trial %1 (%2): %3").arg(i + 1).arg(shortOverrides(t->overrides), check.error().message),
                                      path, -1, check.error().field));
        t->configPath = dir + QStringLiteral("/trial-%1.yaml").arg(i + 1, 4, 10, QLatin1Char('0'));
        if (Status s = writeFileAtomic(t->configPath, trialText->toUtf8()); !s)
            return ctx.fail(s.error());
        trials.push_back(std::move(t));
    }
    if (!ctx.json())
        ctx.out << "sweep " << *sweepId << ": " << trials.size() << " trials (" << (grid ? "grid" : "random") << "), "
                << parallel << " at a time, best by " << spec->metric << " (" << (spec->maximize ? "max" : "min") << ")\n";
    ctx.out.flush();

    Feedback *feedback = ctx.feedback();
    cancelOnSignals(feedback);
    QEventLoop loop;
    size_t next = 0, done = 0;
    int running = 0;
    std::vector<QProcess *> processes;
    const QString program = QCoreApplication::applicationFilePath();
    std::function<void()> startMore;
    auto handleLine = [&](Trial &t, const QByteArray &line) {
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        const QString event = o.value(QStringLiteral("event")).toString();
        if (event == u"started") {
            t.runId = o.value(QStringLiteral("run")).toString();
        } else if (event == u"finished") {
            t.status = QStringLiteral("finished");
            const QJsonValue v = o.value(QStringLiteral("metrics")).toObject().value(spec->metric);
            if (v.isDouble())
                t.value = v.toDouble();
        } else if (event == u"failed") {
            const QString m = o.value(QStringLiteral("message")).toString();
            t.status = m == u"cancelled" ? QStringLiteral("killed") : QStringLiteral("failed");
            t.message = m;
        }
    };
    startMore = [&] {
        while (running < parallel && next < trials.size() && !feedback->isCancelled()) {
            Trial &t = *trials[next++];
            auto *p = new QProcess(&loop);
            processes.push_back(p);
            t.status = QStringLiteral("running");
            ++running;
            QObject::connect(p, &QProcess::readyReadStandardOutput, &loop, [&t, p, &handleLine] {
                t.pending += p->readAllStandardOutput();
                qsizetype nl;
                while ((nl = t.pending.indexOf('\n')) >= 0) {
                    handleLine(t, t.pending.left(nl));
                    t.pending.remove(0, nl + 1);
                }
            });
            QObject::connect(p, &QProcess::readyReadStandardError, &loop, [&t, p] { t.stderrText += p->readAllStandardError(); });
            QObject::connect(p, &QProcess::finished, &loop, [&, p, tp = &t](int code, QProcess::ExitStatus status) {
                Trial &trial = *tp;
                trial.pending += p->readAllStandardOutput();
                if (!trial.pending.isEmpty())
                    handleLine(trial, trial.pending);
                trial.stderrText += p->readAllStandardError();
                if (trial.status == u"running") {
                    trial.status = QStringLiteral("failed");
                    trial.message = status == QProcess::CrashExit ? QStringLiteral("the trial process crashed")
                                                                  : QStringLiteral("exit code %1").arg(code);
                    const QString err = QString::fromUtf8(trial.stderrText).trimmed();
                    if (!err.isEmpty())
                        trial.message += QStringLiteral(": ") + err.section(QLatin1Char('\n'), -1);
                }
                --running;
                ++done;
                if (!ctx.json()) {
                    ctx.out << '[' << done << '/' << trials.size() << "] trial " << (trial.index + 1) << ' '
                            << (trial.runId.isEmpty() ? QStringLiteral("-") : trial.runId.left(8)) << ' ' << trial.status;
                    if (trial.value)
                        ctx.out << ' ' << spec->metric << '=' << num(*trial.value);
                    else if (!trial.message.isEmpty() && trial.status != u"killed")
                        ctx.out << " (" << trial.message << ')';
                    ctx.out << "  " << shortOverrides(trial.overrides) << '\n';
                    ctx.out.flush();
                }
                reportProgress(feedback, qint64(done), qint64(trials.size()), QStringLiteral("sweep"));
                startMore();
                if (running == 0 && (next >= trials.size() || feedback->isCancelled()))
                    loop.quit();
            });
            p->start(program, {QStringLiteral("-C"), ws->root(), QStringLiteral("train"), t.configPath,
                               QStringLiteral("--events"), QStringLiteral("--parent"), *sweepId,
                               QStringLiteral("--sweep-id"), *sweepId});
        }
    };
    QTimer cancelPoll;
    bool stopping = false;
    QObject::connect(&cancelPoll, &QTimer::timeout, &loop, [&] {
        if (!feedback->isCancelled() || stopping)
            return;
        stopping = true;
        for (QProcess *p : processes)
            if (p->state() != QProcess::NotRunning)
                p->terminate();
        if (running == 0)
            loop.quit();
    });
    cancelPoll.start(200);
    QTimer::singleShot(0, &loop, [&] { startMore(); });
    loop.exec();
    cancelPoll.stop();
    for (QProcess *p : processes)
        p->waitForFinished(10000);
    const bool cancelled = feedback->isCancelled();

    // Results: the parent run gets the metric per trial (step = trial number) and the best trial.
    std::vector<tracking::MetricPoint> points;
    const Trial *best = nullptr;
    int finished = 0;
    for (const auto &t : trials) {
        if (t->status == u"finished")
            ++finished;
        if (!t->value || std::isnan(*t->value))
            continue;
        points.push_back({spec->metric, t->index + 1, *t->value, {}});
        if (!best || (spec->maximize ? *t->value > *best->value : *t->value < *best->value))
            best = t.get();
    }
    if (Status s = (*ts)->logMetrics(*sweepId, points); !s)
        return ctx.fail(s.error());
    if (best) {
        (void)(*ts)->setTag(*sweepId, QStringLiteral("best.run"), best->runId);
        (void)(*ts)->setTag(*sweepId, QStringLiteral("best.value"), QString::number(*best->value, 'g', 17));
        (void)(*ts)->setTag(*sweepId, QStringLiteral("best.params"), shortOverrides(best->overrides));
        (void)(*ts)->logMetrics(*sweepId, {{QStringLiteral("best.") + spec->metric, 0, *best->value, {}}});
    }
    (void)(*ts)->setTag(*sweepId, QStringLiteral("trials.finished"), QString::number(finished));
    const tracking::RunStatus status = cancelled       ? tracking::RunStatus::Killed
                                       : finished == 0 ? tracking::RunStatus::Failed
                                                       : tracking::RunStatus::Finished;
    if (Status s = (*ts)->finishRun(*sweepId, status); !s)
        return ctx.fail(s.error());

    std::vector<const Trial *> order;
    for (const auto &t : trials)
        order.push_back(t.get());
    std::stable_sort(order.begin(), order.end(), [&](const Trial *a, const Trial *b) {
        if (a->value.has_value() != b->value.has_value())
            return a->value.has_value();
        if (!a->value)
            return false;
        return spec->maximize ? *a->value > *b->value : *a->value < *b->value;
    });
    if (ctx.json()) {
        QJsonArray arr;
        for (const Trial *t : order) {
            QJsonObject params;
            for (const QString &o : t->overrides)
                params.insert(o.section(QLatin1Char('='), 0, 0).mid(7), o.section(QLatin1Char('='), 1));
            QJsonObject o{{QStringLiteral("trial"), t->index + 1}, {QStringLiteral("run"), t->runId},
                          {QStringLiteral("status"), t->status}, {QStringLiteral("params"), params}};
            o.insert(QStringLiteral("value"), t->value ? QJsonValue(*t->value) : QJsonValue());
            if (!t->message.isEmpty())
                o.insert(QStringLiteral("message"), t->message);
            arr.append(o);
        }
        QJsonObject result{{QStringLiteral("sweep"), *sweepId}, {QStringLiteral("metric"), spec->metric},
                           {QStringLiteral("goal"), spec->maximize ? QStringLiteral("maximize") : QStringLiteral("minimize")},
                           {QStringLiteral("status"), tracking::runStatusName(status)}, {QStringLiteral("trials"), arr}};
        if (best)
            result.insert(QStringLiteral("best"), QJsonObject{{QStringLiteral("run"), best->runId},
                                                              {QStringLiteral("value"), *best->value},
                                                              {QStringLiteral("trial"), best->index + 1}});
        ctx.printJson(result);
    } else {
        std::vector<QStringList> rows;
        int rank = 0;
        for (const Trial *t : order)
            rows.push_back({t->value ? QString::number(++rank) : QStringLiteral("-"), QString::number(t->index + 1),
                            t->runId.left(8), t->status, t->value ? num(*t->value) : QStringLiteral("-"),
                            shortOverrides(t->overrides)});
        ctx.out << '\n'
                << formatTable({QStringLiteral("rank"), QStringLiteral("trial"), QStringLiteral("run"), QStringLiteral("status"),
                                spec->metric, QStringLiteral("params")},
                               rows, {0, 1, 4});
        if (best)
            ctx.out << "best: run " << best->runId << " (trial " << (best->index + 1) << "), " << spec->metric << " = "
                    << num(*best->value) << ", " << shortOverrides(best->overrides) << '\n';
        else
            ctx.out << "no trial reported " << spec->metric << '\n';
        ctx.out << "sweep run " << *sweepId << ' ' << tracking::runStatusName(status) << '\n';
    }
    if (cancelled)
        return 130;
    return finished == int(trials.size()) ? 0 : 1;
}

} // namespace

std::vector<Command> sweepCommands()
{
    std::vector<Command> v;
    v.push_back({{QStringLiteral("sweep")}, QStringLiteral("CONFIG"),
                 QStringLiteral("Hyperparameter search: grid or random trials of a training config"),
                 QStringLiteral("Reads the config's 'sweep:' section (metric, goal, params: lists of values or ranges\n"
                                "{min, max, log, steps}), and runs every trial as its own `keel train` process, several at\n"
                                "a time (bounded by the cores; each trial gets cores/parallel threads unless the config sets\n"
                                "threads). Each trial is a run whose parent is the sweep's own run; the sweep run records\n"
                                "the metric of every trial and the best one. Exit code 0 when every trial finished, 1 when\n"
                                "some failed, 130 when cancelled (Ctrl-C stops the running trials, recorded as killed)."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("grid"), QStringLiteral("Every combination of the listed values / range steps.")});
                     p.addOption({QStringLiteral("random"), QStringLiteral("N trials drawn at random (seeded)."), QStringLiteral("n")});
                     p.addOption({QStringLiteral("seed"), QStringLiteral("Seed for --random (default 0)."), QStringLiteral("seed")});
                     p.addOption({QStringLiteral("parallel"), QStringLiteral("Trials at once (default: the number of cores)."),
                                  QStringLiteral("n")});
                     p.addOption({QStringLiteral("metric"), QStringLiteral("Metric that picks the best trial (overrides sweep.metric)."),
                                  QStringLiteral("key")});
                     p.addOption({QStringLiteral("goal"), QStringLiteral("maximize or minimize (default from the metric's name)."),
                                  QStringLiteral("goal")});
                 },
                 cmdSweep});
    return v;
}

} // namespace keel::cli
