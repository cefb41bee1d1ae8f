// Sweeps and pipeline stages on a live one-node Slurm cluster (Debian slurm-wlm and munge, started here with their own
// key, ports and state, stopped by process id): a sweep submitted as one `sbatch --array` gives the same metrics and
// the same model bytes as the same sweep run locally; a failing task is a failed run carrying its Slurm log; cancel
// maps to scancel and leaves nothing queued; a pipeline's train stage with `executor: slurm` records the same run a
// local training does. Skipped, saying why, only when Slurm or munge is not installed.
#include "../cli/clitest.h"
#include "../support/liveservers.h"

#include "ml/sweeprun.h"
#include "tracking/trackingstore.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QtConcurrent/QtConcurrent>

using namespace clitest;
namespace kw = keel::workspace;
namespace ml = keel::ml;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }

const QByteArray kSweep = "experiment: diamonds\n"
                          "name: dgb\n"
                          "data: diamonds\n"
                          "target: price\n"
                          "task: regression\n"
                          "split: {kind: holdout, test_fraction: 0.2, validation_fraction: 0.1, seed: 42}\n"
                          "learner: gbdt\n"
                          "params: {n_estimators: 30, learning_rate: 0.2, max_depth: 4}\n"
                          "sweep:\n"
                          "  metric: validation.rmse\n"
                          "  params:\n"
                          "    max_depth: [3, 5]\n";

/// Trial params text -> (value, model object id, run id), from a sweep's JSON and the tracking store.
struct TrialView {
    double value = 0;
    QString model, run, status;
};

QMap<QString, TrialView> trialsOf(const QJsonObject &sweep, const QString &root)
{
    QMap<QString, TrialView> out;
    auto ws = kw::Workspace::open(root);
    if (!ws)
        return out;
    auto ts = (*ws)->tracking();
    for (const QJsonValue &v : sweep.value(S("trials")).toArray()) {
        const QJsonObject t = v.toObject();
        TrialView view;
        view.value = t.value(S("value")).toDouble();
        view.run = t.value(S("run")).toString();
        view.status = t.value(S("status")).toString();
        if (ts)
            if (auto artifacts = (*ts)->artifacts(view.run))
                for (const auto &a : *artifacts)
                    if (a.name.startsWith(S("model")))
                        view.model += a.name + QLatin1Char('=') + a.objectId + QLatin1Char(' ');
        out.insert(QString::fromUtf8(QJsonDocument(t.value(S("params")).toObject()).toJson(QJsonDocument::Compact)), view);
    }
    return out;
}

QString tagOf(const QString &root, const QString &run, const QString &key)
{
    auto ws = kw::Workspace::open(root);
    if (!ws)
        return {};
    auto ts = (*ws)->tracking();
    if (!ts)
        return {};
    auto tags = (*ts)->tags(run);
    if (!tags)
        return {};
    for (const auto &[k, v] : *tags)
        if (k == key)
            return v;
    return {};
}

int queuedJobs()
{
    const liveservers::Output q = liveservers::run(S("squeue"), {S("-h")});
    return q.code == 0 ? int(q.text.trimmed().isEmpty() ? 0 : q.text.trimmed().split('\n').size()) : -1;
}
} // namespace

class TstSlurm : public QObject {
    Q_OBJECT
    liveservers::Slurm m_cluster;
    QTemporaryDir m_dir;
    QString m_ws;

private slots:
    void initTestCase()
    {
        if (const QString why = liveservers::Slurm::missing(); !why.isEmpty())
            QSKIP(qPrintable(why));
        QString error;
        QVERIFY2(m_cluster.start(&error), qPrintable(error));
        m_ws = m_dir.filePath(S("ws"));
        RUN_OK(clitest::keel({S("init"), S("--example"), m_ws}, m_dir.path()));
        writeFile(m_ws + S("/configs/sweep.yaml"), kSweep);
    }

    void cleanupTestCase() { m_cluster.stop(); }

    void sweepMatchesLocalRun()
    {
        const Result local = clitest::keel({S("--json"), S("sweep"), S("configs/sweep.yaml"), S("--grid"), S("--parallel"), S("2")}, m_ws);
        RUN_OK(local);
        const Result slurm = clitest::keel({S("--json"), S("sweep"), S("configs/sweep.yaml"), S("--grid"), S("--parallel"), S("2"),
                                            S("--executor"), S("slurm")},
                                           m_ws);
        QVERIFY2(slurm.code == 0, QByteArray(slurm.err + m_cluster.log().toUtf8()).constData());
        const QMap<QString, TrialView> a = trialsOf(QJsonDocument::fromJson(local.out).object(), m_ws);
        const QMap<QString, TrialView> b = trialsOf(QJsonDocument::fromJson(slurm.out).object(), m_ws);
        QCOMPARE(a.size(), 2);
        QCOMPARE(a.keys(), b.keys());
        for (const QString &params : a.keys()) {
            QCOMPARE(b[params].status, S("finished"));
            QCOMPARE(b[params].value, a[params].value);   // bit for bit
            QVERIFY2(!a[params].model.isEmpty(), "the trial stored a model");
            QCOMPARE(b[params].model, a[params].model);   // the same model bytes (content-addressed ids)
            QVERIFY(a[params].run != b[params].run);
            const QString log = tagOf(m_ws, b[params].run, S("slurm.log"));
            QVERIFY2(QFileInfo::exists(log), qPrintable(log));
            QVERIFY(!tagOf(m_ws, b[params].run, S("slurm.job")).isEmpty());
        }
        QCOMPARE(queuedJobs(), 0);
    }

    void failedTaskIsAFailedRunWithItsLog()
    {
        // The runner on the "nodes" fails for the second trial only, as a broken node or a crash would.
        const QString wrapper = m_dir.filePath(S("flaky-keel.sh"));
        writeFile(wrapper, QByteArray("#!/bin/sh\ncase \"$*\" in *trial-0002*) echo 'node lost its scratch disk' >&2; exit 7;; esac\nexec ") +
                               KEEL_BINARY + " \"$@\"\n");
        QFile::setPermissions(wrapper, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
        auto ws = kw::Workspace::open(m_ws);
        QVERIFY(ws);
        ml::SweepRequest request;
        request.configPath = m_ws + S("/configs/sweep.yaml");
        request.parallel = 2;
        request.executor = S("slurm");
        request.keelBinary = wrapper;
        auto result = ml::runSweep(**ws, request, nullptr);
        QVERIFY2(result, result ? "" : qPrintable(result.error().message));
        QCOMPARE(result->trials.size(), size_t(2));
        QCOMPARE(result->trials[0].status, S("finished"));
        const ml::SweepTrial &bad = result->trials[1];
        QCOMPARE(bad.status, S("failed"));
        QVERIFY2(bad.message.contains(S("scratch disk")), qPrintable(bad.message));
        QVERIFY2(!bad.runId.isEmpty(), "a failed task is still a run");
        auto ts = (*ws)->tracking();
        auto run = (*ts)->run(bad.runId);
        QVERIFY(run);
        QCOMPARE(run->status, keel::tracking::RunStatus::Failed);
        QCOMPARE(run->parentRunId, result->sweepId);
        const QString log = tagOf(m_ws, bad.runId, S("slurm.log"));
        QFile f(log);
        QVERIFY2(f.open(QIODevice::ReadOnly) && f.readAll().contains("scratch disk"), qPrintable(log));
        QVERIFY(tagOf(m_ws, bad.runId, S("error")).contains(S("scratch disk")));
        QCOMPARE(result->status, keel::tracking::RunStatus::Finished);   // one trial finished
    }

    void cancelRunsScancel()
    {
        // Slow trials; cancel once one runs on the cluster: scancel, nothing left queued, the trials recorded killed.
        const QString wrapper = m_dir.filePath(S("slow-keel.sh"));
        writeFile(wrapper, QByteArray("#!/bin/sh\nsleep 300\nexec ") + KEEL_BINARY + " \"$@\"\n");
        QFile::setPermissions(wrapper, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
        keel::Feedback feedback;
        QAtomicInt started = 0;
        QFuture<keel::Expected<ml::SweepResult>> future = QtConcurrent::run([&]() {
            auto ws = kw::Workspace::open(m_ws);
            if (!ws)
                return keel::Expected<ml::SweepResult>(ws.error());
            ml::SweepRequest request;
            request.configPath = m_ws + S("/configs/sweep.yaml");
            request.parallel = 2;
            request.executor = S("slurm");
            request.keelBinary = wrapper;
            return ml::runSweep(**ws, request, &feedback, [&](const ml::SweepResult &) { started = 1; });
        });
        QElapsedTimer t;
        t.start();
        bool running = false;
        while (!running && t.elapsed() < 60000) {
            const liveservers::Output q = liveservers::run(S("squeue"), {S("-h"), S("-o"), S("%T")});
            running = q.text.contains("RUNNING");
            QThread::msleep(200);
        }
        QVERIFY2(running, "a task started on the cluster");
        feedback.cancel();
        future.waitForFinished();
        auto result = future.result();
        QVERIFY2(result, result ? "" : qPrintable(result.error().message));
        QCOMPARE(result->status, keel::tracking::RunStatus::Killed);
        for (const ml::SweepTrial &trial : result->trials)
            QVERIFY2(trial.status == u"killed", qPrintable(trial.status + S(": ") + trial.message));
        QCOMPARE(queuedJobs(), 0);
        QVERIFY(started.loadRelaxed() == 1);
    }

    void pipelineStageOnSlurm()
    {
        // The same config trained locally and as a Slurm pipeline stage: the same metrics, the same model bytes.
        writeFile(m_ws + S("/configs/ridge.yaml"),
                  "experiment: diamonds\nname: ridge-stage\ndata: diamonds\ntarget: price\ntask: regression\n"
                  "split: {kind: holdout, test_fraction: 0.2, validation_fraction: 0.1, seed: 42}\n"
                  "learner: ridge\nparams: {alpha: 2.0}\n");
        writeFile(m_ws + S("/pipelines/cluster.yaml"),
                  "stages:\n  fit:\n    kind: train\n    config: configs/ridge.yaml\n    executor: slurm\n");
        const Result local = clitest::keel({S("--json"), S("train"), S("configs/ridge.yaml")}, m_ws);
        RUN_OK(local);
        const Result run = clitest::keel({S("--json"), S("run"), S("cluster")}, m_ws);
        QVERIFY2(run.code == 0, QByteArray(run.out + run.err).constData());
        const QJsonObject report = QJsonDocument::fromJson(run.out).object();
        const QJsonObject stage = report.value(S("stages")).toArray().at(0).toObject();
        QCOMPARE(stage.value(S("status")).toString(), S("ran"));
        const QJsonObject outputs = stage.value(S("outputs")).toObject();
        QVERIFY(!outputs.value(S("slurm_job")).toString().isEmpty());
        const QString slurmRun = outputs.value(S("run")).toString();
        const QString localRun = QJsonDocument::fromJson(local.out).object().value(S("run")).toString();
        QVERIFY2(!localRun.isEmpty() && !slurmRun.isEmpty() && localRun != slurmRun, local.out.constData());
        auto ws = kw::Workspace::open(m_ws);
        auto ts = (*ws)->tracking();
        auto ma = (*ts)->metrics(localRun, S("test.rmse"));
        auto mb = (*ts)->metrics(slurmRun, S("test.rmse"));
        QVERIFY(ma && mb && !ma->empty() && !mb->empty());
        QCOMPARE(mb->front().value, ma->front().value);
        auto aa = (*ts)->artifacts(localRun);
        auto ab = (*ts)->artifacts(slurmRun);
        QVERIFY(aa && ab && !aa->empty());
        QCOMPARE(aa->size(), ab->size());
        for (size_t i = 0; i < aa->size(); ++i)
            if ((*aa)[i].name.startsWith(S("model")))
                QCOMPARE((*ab)[i].objectId, (*aa)[i].objectId);
    }
};

QTEST_GUILESS_MAIN(TstSlurm)
#include "tst_slurm.moc"
