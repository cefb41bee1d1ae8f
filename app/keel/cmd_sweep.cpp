// keel sweep CONFIG --grid | --random N: hyperparameter search as child `keel train` processes under one parent run.
#include "commands.h"

#include "ml/sweeprun.h"
#include "tracking/trackingstore.h"
#include "workspace/workspace.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonObject>

#include <algorithm>

namespace keel::cli {

namespace {

QString num(double v) { return QString::number(v, 'g', 6); }

int cmdSweep(Context &ctx)
{
    workspace::Workspace *ws = ctx.workspace();
    if (!ws)
        return 1;
    const bool grid = ctx.parser.isSet(QStringLiteral("grid"));
    const bool random = ctx.parser.isSet(QStringLiteral("random"));
    if (grid == random)
        return ctx.usage(QStringLiteral("give --grid or --random N (one of them)"));
    ml::SweepRequest request;
    request.configPath = ctx.path(ctx.args().at(0));
    request.sourceName = ctx.args().at(0);
    request.grid = grid;
    bool ok = true;
    if (random) {
        request.random = ctx.parser.value(QStringLiteral("random")).toInt(&ok);
        if (!ok || request.random < 1 || request.random > 10000)
            return ctx.usage(QStringLiteral("--random needs a trial count from 1 to 10000"));
    }
    if (ctx.parser.isSet(QStringLiteral("seed"))) {
        request.seed = ctx.parser.value(QStringLiteral("seed")).toULongLong(&ok);
        if (!ok)
            return ctx.usage(QStringLiteral("--seed must be a non-negative integer"));
    }
    if (ctx.parser.isSet(QStringLiteral("parallel"))) {
        request.parallel = ctx.parser.value(QStringLiteral("parallel")).toInt(&ok);
        if (!ok || request.parallel < 1)
            return ctx.usage(QStringLiteral("--parallel must be a positive integer"));
    }
    if (ctx.parser.isSet(QStringLiteral("metric"))) {
        request.metric = ctx.parser.value(QStringLiteral("metric"));
        if (Status s = ml::checkSweepMetric(request.metric, false); !s && request.metric.startsWith(u"test."))
            return ctx.usage(s.error().toString());
    }
    if (ctx.parser.isSet(QStringLiteral("goal"))) {
        const QString g = ctx.parser.value(QStringLiteral("goal"));
        if (g != u"maximize" && g != u"minimize")
            return ctx.usage(QStringLiteral("--goal must be maximize or minimize"));
        request.maximize = g == u"maximize";
    }
    request.keelBinary = QCoreApplication::applicationFilePath();
    request.executor = ctx.parser.isSet(QStringLiteral("executor")) ? ctx.parser.value(QStringLiteral("executor"))
                                                                     : QStringLiteral("local");
    if (request.executor != u"local" && request.executor != u"slurm")
        return ctx.usage(QStringLiteral("--executor must be local or slurm"));
    request.sbatchArgs = ctx.parser.values(QStringLiteral("sbatch-arg"));
    if (!request.sbatchArgs.isEmpty() && request.executor != u"slurm")
        return ctx.usage(QStringLiteral("--sbatch-arg needs --executor slurm"));

    Feedback *feedback = ctx.feedback();
    const bool json = ctx.json();
    auto result = ml::runSweep(
        *ws, request, feedback,
        [&](const ml::SweepResult &r) {
            if (json)
                return;
            ctx.out << "sweep " << r.sweepId << ": " << r.trials.size() << " trials (" << (r.grid ? "grid" : "random")
                    << "), " << r.parallel << " at a time, best by " << r.metric << " (" << (r.maximize ? "max" : "min")
                    << ")\n";
            ctx.out.flush();
        },
        [&](const ml::SweepTrial &t, int done, int total) {
            if (json)
                return;
            ctx.endProgress();
            ctx.out << '[' << done << '/' << total << "] trial " << (t.index + 1) << ' '
                    << (t.runId.isEmpty() ? QStringLiteral("-") : t.runId.left(8)) << ' ' << t.status;
            if (t.value)
                ctx.out << ' ' << num(*t.value);
            else if (!t.message.isEmpty() && t.status != u"killed")
                ctx.out << " (" << t.message << ')';
            ctx.out << "  " << ml::shortOverrides(t.overrides) << '\n';
            ctx.out.flush();
        });
    ctx.endProgress();
    if (!result)
        return ctx.fail(result.error());
    const std::vector<int> order = result->ranking();
    if (json) {
        ctx.printJson(result->toJson());
    } else {
        std::vector<QStringList> rows;
        int rank = 0;
        for (int i : order) {
            const ml::SweepTrial &t = result->trials[size_t(i)];
            rows.push_back({t.value ? QString::number(++rank) : QStringLiteral("-"), QString::number(t.index + 1),
                            t.runId.left(8), t.status, t.value ? num(*t.value) : QStringLiteral("-"),
                            ml::shortOverrides(t.overrides)});
        }
        ctx.out << '\n'
                << formatTable({QStringLiteral("rank"), QStringLiteral("trial"), QStringLiteral("run"), QStringLiteral("status"),
                                result->metric, QStringLiteral("params")},
                               rows, {0, 1, 4});
        if (result->best) {
            const ml::SweepTrial &b = result->trials[size_t(*result->best)];
            ctx.out << "best: run " << b.runId << " (trial " << (b.index + 1) << "), " << result->metric << " = "
                    << num(*b.value) << ", " << ml::shortOverrides(b.overrides) << '\n';
        } else {
            ctx.out << "no trial reported " << result->metric << '\n';
        }
        ctx.out << "sweep run " << result->sweepId << ' ' << tracking::runStatusName(result->status) << '\n';
    }
    if (result->status == tracking::RunStatus::Killed)
        return 130;
    return result->allFinished() ? 0 : 1;
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
                                "some failed, 130 when cancelled (Ctrl-C stops the running trials, recorded as killed).\n"
                                "With --executor slurm the trials are one `sbatch --array` job on a Slurm cluster, each task\n"
                                "running the same `keel train` (so metrics and model bytes match a local run); --parallel\n"
                                "caps the tasks at once, Ctrl-C runs scancel, and each trial run is tagged with its Slurm job\n"
                                "and log. The workspace must be at the same path on the nodes (a shared file system)."),
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
                     p.addOption({QStringLiteral("executor"), QStringLiteral("local (default) or slurm."), QStringLiteral("name")});
                     p.addOption({QStringLiteral("sbatch-arg"),
                                  QStringLiteral("Extra sbatch argument, repeatable (e.g. --sbatch-arg=--partition=batch)."),
                                  QStringLiteral("arg")});
                 },
                 cmdSweep});
    return v;
}

} // namespace keel::cli
