#include "ml/sweeprun.h"

#include "ml/learners.h"
#include "ml/slurm.h"
#include "ml/training.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonObject>
#include <QRegularExpression>
#include <QThread>
#include <QUuid>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace keel::ml {

std::vector<int> SweepResult::ranking() const
{
    std::vector<int> order(trials.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = int(i);
    std::stable_sort(order.begin(), order.end(), [this](int a, int b) {
        const auto &x = trials[size_t(a)].value, &y = trials[size_t(b)].value;
        if (x.has_value() != y.has_value())
            return x.has_value();
        if (!x)
            return false;
        return maximize ? *x > *y : *x < *y;
    });
    return order;
}

bool SweepResult::allFinished() const
{
    return std::all_of(trials.begin(), trials.end(), [](const SweepTrial &t) { return t.status == u"finished"; });
}

QJsonObject SweepResult::toJson() const
{
    QJsonArray arr;
    for (int i : ranking()) {
        const SweepTrial &t = trials[size_t(i)];
        QJsonObject params;
        for (const QString &o : t.overrides)
            params.insert(o.section(QLatin1Char('='), 0, 0).mid(7), o.section(QLatin1Char('='), 1));
        QJsonObject o{{QStringLiteral("trial"), t.index + 1}, {QStringLiteral("run"), t.runId},
                      {QStringLiteral("status"), t.status}, {QStringLiteral("params"), params}};
        o.insert(QStringLiteral("value"), t.value ? QJsonValue(*t.value) : QJsonValue());
        if (!t.message.isEmpty())
            o.insert(QStringLiteral("message"), t.message);
        arr.append(o);
    }
    QJsonObject out{{QStringLiteral("sweep"), sweepId}, {QStringLiteral("metric"), metric},
                    {QStringLiteral("goal"), maximize ? QStringLiteral("maximize") : QStringLiteral("minimize")},
                    {QStringLiteral("status"), tracking::runStatusName(status)}, {QStringLiteral("trials"), arr}};
    if (best) {
        const SweepTrial &b = trials[size_t(*best)];
        out.insert(QStringLiteral("best"), QJsonObject{{QStringLiteral("run"), b.runId}, {QStringLiteral("value"), *b.value},
                                                        {QStringLiteral("trial"), b.index + 1}});
    }
    return out;
}

QString shortOverrides(const QStringList &overrides)
{
    QStringList parts;
    for (const QString &o : overrides)
        parts << (o.startsWith(u"params.") ? o.mid(7) : o);
    return parts.join(QLatin1Char(' '));
}

namespace {

using TrialEnd = std::function<void(const SweepTrial &, int done, int total)>;

/// Runs the trials as child processes here, `result.parallel` at a time.
Status runLocalTrials(workspace::Workspace &ws, const SweepRequest &request, SweepResult &result, Feedback *feedback,
                      const TrialEnd &onTrialEnd)
{
    // Run: `parallel` workers take the next trial and supervise its child; the calling thread hears of each end.
    std::mutex mutex;
    std::condition_variable ended;
    std::deque<int> finishedQueue;
    std::atomic<size_t> next{0};
    const auto worker = [&] {
        for (;;) {
            if (isCancelled(feedback))
                return;
            const size_t i = next.fetch_add(1);
            if (i >= result.trials.size())
                return;
            SweepTrial &t = result.trials[i];   // this worker alone touches trial i until it is queued
            t.status = QStringLiteral("running");
            Feedback trialFeedback;
            trialFeedback.setParent(feedback);
            TrainingRequest tr{ws.root(), t.configPath, result.sweepId, request.keelBinary, result.sweepId};
            auto outcome = runTrainingProcess(tr, &trialFeedback, [&t](const TrainingEvent &e) {
                if (e.kind == TrainingEvent::Kind::Started)
                    t.runId = e.runId;
            });
            if (!outcome) {
                t.status = QStringLiteral("failed");
                t.message = outcome.error().toString();
            } else {
                t.runId = outcome->runId.isEmpty() ? t.runId : outcome->runId;
                t.status = tracking::runStatusName(outcome->status);
                t.message = outcome->message;
                const QVariant v = outcome->metrics.value(result.metric);
                if (outcome->status == tracking::RunStatus::Finished && v.isValid() && !std::isnan(v.toDouble()))
                    t.value = v.toDouble();
            }
            {
                std::lock_guard lock(mutex);
                finishedQueue.push_back(int(i));
            }
            ended.notify_one();
        }
    };
    std::vector<std::thread> workers;
    for (int w = 0; w < result.parallel; ++w)
        workers.emplace_back(worker);
    const int total = int(result.trials.size());
    int done = 0;
    int started = 0;
    for (;;) {
        int index = -1;
        {
            std::unique_lock lock(mutex);
            ended.wait_for(lock, std::chrono::milliseconds(200), [&] { return !finishedQueue.empty(); });
            if (!finishedQueue.empty()) {
                index = finishedQueue.front();
                finishedQueue.pop_front();
            }
        }
        if (index >= 0) {
            ++done;
            reportProgress(feedback, done, total, QStringLiteral("sweep"));
            if (onTrialEnd)
                onTrialEnd(result.trials[size_t(index)], done, total);
        }
        started = int(std::min(next.load(), result.trials.size()));
        if (done >= started && (started >= total || isCancelled(feedback))) {
            // Every trial that was taken has ended; nothing more will start.
            std::lock_guard lock(mutex);
            if (finishedQueue.empty())
                break;
        }
    }
    for (std::thread &w : workers)
        w.join();
    return {};
}

/// Runs the trials as one Slurm job array and reads each task's outcome from its log (the same event stream a local
/// child writes). A task that never created its run still leaves a failed run behind, carrying its Slurm log.
Status runSlurmTrials(workspace::Workspace &ws, const SweepRequest &request, tracking::TrackingStore &ts, SweepResult &result,
                      const QString &dir, int threadsPerTrial, const QString &configName, const QString &experiment,
                      Feedback *feedback,
                      const TrialEnd &onTrialEnd)
{
    SlurmArray job;
    job.root = ws.root();
    job.keelBinary = request.keelBinary;
    for (const SweepTrial &t : result.trials)
        job.configPaths << t.configPath;
    job.parentRunId = result.sweepId;
    job.sweepId = result.sweepId;
    job.jobName = configName + QStringLiteral("-sweep");
    job.dir = dir;
    job.parallel = request.parallel;   // 0: as many at once as the cluster gives (not this machine's cores)
    job.cpusPerTask = threadsPerTrial;
    job.sbatchArgs = request.sbatchArgs;
    auto jobId = submitSlurmArray(job);
    if (!jobId)
        return jobId.error();
    if (Status s = ts.setTag(result.sweepId, QStringLiteral("slurm.job"), *jobId); !s)
        return s;
    const int total = int(result.trials.size());
    int done = 0;
    Status recorded;
    Status waited = waitForSlurmArray(job, *jobId, feedback, [&](const SlurmTaskEnd &end) {
        SweepTrial &t = result.trials[size_t(end.task - 1)];
        const TrainingOutcome outcome = trainingOutcomeFromLog(ws.root(), end.logPath, end.exitCode, isCancelled(feedback));
        t.runId = outcome.runId;
        t.status = tracking::runStatusName(outcome.status);
        t.message = outcome.message;
        const QVariant v = outcome.metrics.value(result.metric);
        if (outcome.status == tracking::RunStatus::Finished && v.isValid() && !std::isnan(v.toDouble()))
            t.value = v.toDouble();
        if (t.runId.isEmpty()) {   // the task failed before its run existed (a bad node, a config error)
            tracking::RunRecord failed;
            failed.experiment = experiment;
            failed.name = QStringLiteral("%1-trial-%2").arg(configName).arg(end.task);
            failed.parentRunId = result.sweepId;
            failed.sweepId = result.sweepId;
            failed.status = tracking::RunStatus::Failed;
            auto created = ts.createRun(failed);
            if (created) {
                t.runId = *created;
                if (Status s = ts.setTag(t.runId, QStringLiteral("error"), t.message); !s && recorded)
                    recorded = s;
                if (Status s = ts.finishRun(t.runId, outcome.status == tracking::RunStatus::Killed
                                                         ? tracking::RunStatus::Killed : tracking::RunStatus::Failed);
                    !s && recorded)
                    recorded = s;
            } else if (recorded) {
                recorded = created.status();
            }
        }
        if (!t.runId.isEmpty()) {
            for (const auto &[k, v] : {std::pair{QStringLiteral("slurm.job"), QString(*jobId + QLatin1Char('_') + QString::number(end.task))},
                                       std::pair{QStringLiteral("slurm.log"), end.logPath}})
                if (Status s = ts.setTag(t.runId, k, v); !s && recorded)
                    recorded = s;
        }
        ++done;
        if (onTrialEnd)
            onTrialEnd(t, done, total);
    });
    if (!waited)
        return waited;
    return recorded;
}

} // namespace

Expected<SweepResult> runSweep(workspace::Workspace &ws, const SweepRequest &request, Feedback *feedback,
                               const std::function<void(const SweepResult &)> &onStart,
                               const std::function<void(const SweepTrial &, int done, int total)> &onTrialEnd)
{
    const QString source = request.sourceName.isEmpty() ? request.configPath : request.sourceName;
    auto bytes = readFile(request.configPath);
    if (!bytes)
        return bytes.error();
    const QString text = QString::fromUtf8(*bytes);
    auto config = TrainingConfig::fromYaml(text, source);
    if (!config)
        return config.error();
    auto spec = SweepSpec::fromConfig(text, source);
    if (!spec)
        return spec.error();
    SweepResult result;
    result.grid = request.grid;
    result.metric = request.metric.isEmpty() ? spec->metric : request.metric;
    if (!request.metric.isEmpty()) {
        if (Status s = checkSweepMetric(result.metric, spec->kfold); !s)
            return s.error();
    }
    result.maximize = request.maximize.value_or(request.metric.isEmpty() ? spec->maximize : metricIsMaximized(result.metric));

    // Plan.
    std::vector<QStringList> overrides;
    if (request.grid) {
        auto g = gridTrials(*spec);
        if (!g)
            return makeError(g.error().kind, g.error().message, source, -1, g.error().field);
        overrides = std::move(*g);
    } else {
        if (request.random < 1 || request.random > 10000)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("a random sweep needs a trial count from 1 to 10000"));
        overrides = randomTrials(*spec, request.random, request.seed);
    }
    if (overrides.empty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("the sweep has no trials"), source);
    if (overrides.size() > 10000)
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("the grid has %1 trials; more than 10000 is refused (use a random sweep)").arg(overrides.size()),
                         source);
    const bool slurm = request.executor == u"slurm";
    if (!slurm && request.executor != u"local")
        return makeError(ErrorKind::InvalidInput, QStringLiteral("unknown executor '%1' (local or slurm)").arg(request.executor),
                         {}, -1, QStringLiteral("executor"));
    if (slurm) {
        if (const QString why = slurmUnavailableReason(); !why.isEmpty())
            return makeError(ErrorKind::NotFound, why);
    }
    const int cores = std::max(1, QThread::idealThreadCount());
    if (request.parallel < 0 || (!slurm && request.parallel > cores))
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("%1 trials at a time is more than this machine's %2 cores").arg(request.parallel).arg(cores));
    result.parallel = std::min<int>(request.parallel > 0 ? request.parallel : cores, int(overrides.size()));
    // Share the cores between trials unless the config fixes the thread count itself.
    const Learner *learner = findLearner(config->learner);
    const std::vector<ParamSpec> learnerParams = learner ? learner->params() : std::vector<ParamSpec>();
    const bool hasThreads = std::any_of(learnerParams.begin(), learnerParams.end(),
                                        [](const ParamSpec &p) { return p.name == u"threads"; });
    const bool userThreads = text.contains(QRegularExpression(QStringLiteral("\\bthreads\\s*:")));
    const int threadsPerTrial = std::max(1, cores / result.parallel);
    std::vector<QString> trialTexts;
    for (size_t i = 0; i < overrides.size(); ++i) {
        QStringList all = overrides[i];
        all << QStringLiteral("name=%1-trial-%2").arg(config->name).arg(i + 1);
        if (hasThreads && !userThreads)
            all << QStringLiteral("params.threads=%1").arg(threadsPerTrial);
        auto trialText = applyConfigOverrides(text, all, source);
        if (!trialText)
            return trialText.error();
        if (auto check = TrainingConfig::fromYaml(*trialText, source); !check)
            return makeError(check.error().kind,
                             QStringLiteral("trial %1 (%2): %3").arg(i + 1).arg(shortOverrides(overrides[i]), check.error().message),
                             source, -1, check.error().field);
        trialTexts.push_back(*trialText);
    }

    // The parent run, and each trial's config beside the workspace's private state (also stored with its run).
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    tracking::RunRecord sweepRun;
    sweepRun.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    sweepRun.sweepId = sweepRun.id;
    sweepRun.experiment = config->experiment;
    sweepRun.name = config->name + QStringLiteral("-sweep");
    sweepRun.config = text;
    auto sweepId = (*ts)->createRun(sweepRun);
    if (!sweepId)
        return sweepId.error();
    result.sweepId = *sweepId;
    // From here on a failure is recorded on the parent run before it is returned.
    auto fail = [&](const Error &e) -> Expected<SweepResult> {
        if ((*ts)->setTag(result.sweepId, QStringLiteral("error"), e.toString()))
            if (!(*ts)->finishRun(result.sweepId, tracking::RunStatus::Failed)) {
                // The database refused twice; the error returned says what went wrong first.
            }
        return e;
    };
    const std::vector<std::pair<QString, QString>> sweepParams = {
        {QStringLiteral("sweep.mode"), request.grid ? QStringLiteral("grid") : QStringLiteral("random")},
        {QStringLiteral("sweep.trials"), QString::number(overrides.size())},
        {QStringLiteral("sweep.metric"), result.metric},
        {QStringLiteral("sweep.goal"), result.maximize ? QStringLiteral("maximize") : QStringLiteral("minimize")},
        {QStringLiteral("sweep.parallel"), QString::number(result.parallel)},
        {QStringLiteral("sweep.seed"), QString::number(request.seed)},
        {QStringLiteral("learner"), config->learner},
        {QStringLiteral("data"), config->data},
    };
    if (Status s = (*ts)->setParams(result.sweepId, sweepParams); !s)
        return fail(s.error());
    const QString dir = ws.keelDir() + QStringLiteral("/sweeps/") + result.sweepId;
    if (!QDir().mkpath(dir))
        return fail(makeError(ErrorKind::Io, QStringLiteral("cannot create folder"), dir));
    for (size_t i = 0; i < overrides.size(); ++i) {
        SweepTrial t;
        t.index = int(i);
        t.overrides = overrides[i];
        t.configPath = dir + QStringLiteral("/trial-%1.yaml").arg(i + 1, 4, 10, QLatin1Char('0'));
        if (Status s = writeFileAtomic(t.configPath, trialTexts[i].toUtf8()); !s)
            return fail(s.error());
        result.trials.push_back(std::move(t));
    }
    if (onStart)
        onStart(result);

    if (slurm) {
        if (Status s = runSlurmTrials(ws, request, **ts, result, dir, threadsPerTrial, config->name, config->experiment, feedback,
                                  onTrialEnd); !s)
            return fail(s.error());
    } else {
        if (Status s = runLocalTrials(ws, request, result, feedback, onTrialEnd); !s)
            return fail(s.error());
    }
    const bool cancelled = isCancelled(feedback);

    // Results on the parent run: the metric of every trial (step = trial number) and the best one.
    std::vector<tracking::MetricPoint> points;
    int finished = 0;
    for (const SweepTrial &t : result.trials) {
        finished += t.status == u"finished" ? 1 : 0;
        if (!t.value)
            continue;
        points.push_back({result.metric, t.index + 1, *t.value, {}});
        if (!result.best || (result.maximize ? *t.value > *result.trials[size_t(*result.best)].value
                                             : *t.value < *result.trials[size_t(*result.best)].value))
            result.best = t.index;
    }
    if (Status s = (*ts)->logMetrics(result.sweepId, points); !s)
        return fail(s.error());
    if (result.best) {
        const SweepTrial &b = result.trials[size_t(*result.best)];
        for (const auto &[k, v] : {std::pair{QStringLiteral("best.run"), b.runId},
                                   std::pair{QStringLiteral("best.value"), QString::number(*b.value, 'g', 17)},
                                   std::pair{QStringLiteral("best.params"), shortOverrides(b.overrides)}})
            if (Status s = (*ts)->setTag(result.sweepId, k, v); !s)
                return fail(s.error());
        if (Status s = (*ts)->logMetrics(result.sweepId, {{QStringLiteral("best.") + result.metric, 0, *b.value, {}}}); !s)
            return fail(s.error());
    }
    if (Status s = (*ts)->setTag(result.sweepId, QStringLiteral("trials.finished"), QString::number(finished)); !s)
        return fail(s.error());
    result.status = cancelled      ? tracking::RunStatus::Killed
                    : finished == 0 ? tracking::RunStatus::Failed
                                    : tracking::RunStatus::Finished;
    if (Status s = (*ts)->finishRun(result.sweepId, result.status); !s)
        return s.error();
    // One audit event for the sweep as a whole (each trial's training has its own), whichever door started it.
    QJsonObject detail{{QStringLiteral("experiment"), config->experiment},
                       {QStringLiteral("metric"), result.metric},
                       {QStringLiteral("goal"), result.maximize ? QStringLiteral("maximize") : QStringLiteral("minimize")},
                       {QStringLiteral("trials"), int(result.trials.size())},
                       {QStringLiteral("finished"), finished},
                       {QStringLiteral("status"), tracking::runStatusName(result.status)},
                       {QStringLiteral("executor"), request.executor}};
    if (result.best) {
        detail.insert(QStringLiteral("best_run"), result.trials[size_t(*result.best)].runId);
        detail.insert(QStringLiteral("best_value"), *result.trials[size_t(*result.best)].value);
    }
    if (Status s = ws.audit(QStringLiteral("sweep"), QStringLiteral("run:") + result.sweepId, detail); !s)
        return s.error();
    return result;
}

} // namespace keel::ml
