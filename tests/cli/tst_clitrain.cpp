// End-to-end tests of training from the keel runner: streamed events, branching, compare, reproduce, sweeps and
// what a kill leaves behind. Real processes on real workspaces in temporary folders.
#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>

#include <csignal>
#include <map>
#include <set>

#include "clitest.h"

using namespace clitest;

namespace {

const QByteArray kRidge = "experiment: diamonds\n"
                          "data: diamonds\n"
                          "target: price\n"
                          "recipe: {exclude: [x, y, z]}\n"
                          "split: {kind: holdout, test_fraction: 0.25, seed: 3}\n"
                          "learner: ridge\n"
                          "params: {alpha: 1}\n";

const QByteArray kGbdt = "experiment: adult\n"
                         "data: adult_train\n"
                         "target: class\n"
                         "recipe: {exclude: [fnlwgt]}\n"
                         "split: {kind: holdout, test_fraction: 0.2, seed: 1}\n"
                         "learner: gbdt\n"
                         "params: {n_estimators: 25, max_depth: 4, threads: 2}\n";

/// Every JSON line of a --events stream.
std::vector<QJsonObject> events(const QByteArray &out)
{
    std::vector<QJsonObject> v;
    for (const QByteArray &line : out.split('\n'))
        if (!line.isEmpty())
            v.push_back(QJsonDocument::fromJson(line).object());
    return v;
}

QJsonObject showRun(const QString &id, const QString &ws)
{
    return keelJson({QStringLiteral("runs"), QStringLiteral("show"), id}, ws).object();
}

double lastMetric(const QJsonObject &run, const QString &key)
{
    return run[QStringLiteral("metrics")].toObject()[key].toObject()[QStringLiteral("last")].toDouble();
}

} // namespace

class TstCliTrain : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void eventsBranchCompare();
    void reproduce();
    void sweepGrid();
    void killedRuns();

private:
    QTemporaryDir m_dir;
    QString m_ws;
};

void TstCliTrain::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_ws = m_dir.filePath(QStringLiteral("ws"));
    RUN_OK(keel({QStringLiteral("init"), m_ws}, m_dir.path()));
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), example("diamonds.csv"), QStringLiteral("--name"),
                 QStringLiteral("diamonds")},
                m_ws));
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), example("adult_train.csv"), QStringLiteral("--name"),
                 QStringLiteral("adult_train")},
                m_ws));
    writeFile(m_dir.filePath(QStringLiteral("ridge.yaml")), kRidge);
    writeFile(m_dir.filePath(QStringLiteral("gbdt.yaml")), kGbdt);
}

void TstCliTrain::eventsBranchCompare()
{
    // The event stream: started first, finished last, and its final metrics are the ones the store recorded.
    Result r = keel({QStringLiteral("train"), m_dir.filePath(QStringLiteral("gbdt.yaml")), QStringLiteral("--events")}, m_ws);
    RUN_OK(r);
    const std::vector<QJsonObject> ev = events(r.out);
    QVERIFY(ev.size() > 3);
    QCOMPARE(ev.front()[QStringLiteral("event")].toString(), QStringLiteral("started"));
    QCOMPARE(ev.back()[QStringLiteral("event")].toString(), QStringLiteral("finished"));
    const QString runA = ev.front()[QStringLiteral("run")].toString();
    QCOMPARE(ev.back()[QStringLiteral("run")].toString(), runA);
    int curvePoints = 0;
    std::set<QString> stages;
    for (const QJsonObject &e : ev) {
        if (e[QStringLiteral("event")] == QStringLiteral("metric") && e[QStringLiteral("key")] == QStringLiteral("validation.logloss"))
            ++curvePoints;
        if (e[QStringLiteral("event")] == QStringLiteral("progress"))
            stages.insert(e[QStringLiteral("stage")].toString());
    }
    QCOMPARE(curvePoints, 25);
    QVERIFY(stages.count(QStringLiteral("train")));
    const QJsonObject shownA = showRun(runA, m_ws);
    const QJsonObject finals = ev.back()[QStringLiteral("metrics")].toObject();
    QVERIFY(finals.contains(QStringLiteral("test.accuracy")));
    for (auto it = finals.begin(); it != finals.end(); ++it)
        QCOMPARE(lastMetric(shownA, it.key()), it.value().toDouble());

    // Branch: the recorded config with one change; the new run names its parent.
    const QJsonObject b = keelJson({QStringLiteral("train"), QStringLiteral("--from"), runA.left(8), QStringLiteral("--set"),
                                    QStringLiteral("params.max_depth=2")},
                                   m_ws)
                              .object();
    const QString runB = b[QStringLiteral("run")].toString();
    QVERIFY(!runB.isEmpty());
    const QJsonObject shownB = showRun(runB, m_ws);
    QCOMPARE(shownB[QStringLiteral("parent")].toString(), runA);
    QCOMPARE(shownB[QStringLiteral("name")].toString(), shownA[QStringLiteral("name")].toString());
    QCOMPARE(shownB[QStringLiteral("params")].toObject()[QStringLiteral("params.max_depth")].toString(), QStringLiteral("2"));
    QVERIFY(shownB[QStringLiteral("config")].toString().contains(QStringLiteral("max_depth: 2")));
    // A bad override names itself and starts nothing.
    Result bad = keel({QStringLiteral("train"), QStringLiteral("--from"), runA, QStringLiteral("--set"), QStringLiteral("params.max_depth=0")}, m_ws);
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains("params.max_depth"), bad.err.constData());

    // Compare: only max_depth differs among the params; every metric of both runs side by side.
    const QJsonObject cmp = keelJson({QStringLiteral("runs"), QStringLiteral("compare"), runA, runB}, m_ws).object();
    const QJsonArray runs = cmp[QStringLiteral("runs")].toArray();
    QCOMPARE(runs.size(), 2);
    const QJsonObject paramsA = runs[0].toObject()[QStringLiteral("params")].toObject();
    QCOMPARE(paramsA.keys(), QStringList{QStringLiteral("params.max_depth")});
    QCOMPARE(paramsA[QStringLiteral("params.max_depth")].toString(), QStringLiteral("4"));
    QVERIFY(cmp[QStringLiteral("same_params")].toInt() > 10);
    for (int i = 0; i < 2; ++i) {
        const QJsonObject shown = i == 0 ? shownA : shownB;
        const QJsonObject m = runs[i].toObject()[QStringLiteral("metrics")].toObject();
        QCOMPARE(m.size(), shown[QStringLiteral("metrics")].toObject().size());
        for (auto it = m.begin(); it != m.end(); ++it)
            QCOMPARE(it.value().toDouble(), lastMetric(shown, it.key()));
    }
    const QJsonObject all = keelJson({QStringLiteral("runs"), QStringLiteral("compare"), runA, runB, QStringLiteral("--all")}, m_ws).object();
    QCOMPARE(all[QStringLiteral("runs")].toArray()[0].toObject()[QStringLiteral("params")].toObject().size(),
             shownA[QStringLiteral("params")].toObject().size());
    Result text = keel({QStringLiteral("runs"), QStringLiteral("compare"), runA, runB}, m_ws);
    RUN_OK(text);
    QVERIFY(text.out.contains("params.max_depth"));
    QVERIFY(!text.out.contains("params.learning_rate"));
}

void TstCliTrain::reproduce()
{
    for (const char *config : {"ridge.yaml", "gbdt.yaml"}) {
        const QJsonObject run = keelJson({QStringLiteral("train"), m_dir.filePath(QLatin1String(config))}, m_ws).object();
        const QString id = run[QStringLiteral("run")].toString();
        QVERIFY(!id.isEmpty());
        Result r = keel({QStringLiteral("--json"), QStringLiteral("runs"), QStringLiteral("reproduce"), id}, m_ws);
        QVERIFY2(r.code == 0, r.out.constData());
        const QJsonObject rep = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(rep[QStringLiteral("identical")].toBool(), true);
        QCOMPARE(rep[QStringLiteral("same_model")].toBool(), true);
        QVERIFY(rep[QStringLiteral("rows")].toInt() > 1000);
        const QJsonObject again = showRun(rep[QStringLiteral("run")].toString(), m_ws);
        QCOMPARE(again[QStringLiteral("parent")].toString(), id);
        QCOMPARE(again[QStringLiteral("tags")].toObject()[QStringLiteral("reproduces")].toString(), id);
    }
    // A dataset whose named version no longer holds the same content cannot be reproduced: here, a run config that
    // points at a version that does not exist fails with a clear error and exit code 1.
    Result missing = keel({QStringLiteral("runs"), QStringLiteral("reproduce"), QStringLiteral("ffffffff")}, m_ws);
    QCOMPARE(missing.code, 1);
    QVERIFY(missing.err.contains("no run with id"));
}

void TstCliTrain::sweepGrid()
{
    QByteArray cfg = kGbdt;
    cfg.replace("params: {n_estimators: 25, max_depth: 4, threads: 2}", "params: {n_estimators: 15}");
    QVERIFY(cfg.contains("params: {n_estimators: 15}"));
    cfg += "sweep:\n  metric: test.roc_auc\n  params:\n    max_depth: [2, 5]\n"
           "    learning_rate: {min: 0.05, max: 0.5, log: true, steps: 2}\n";
    writeFile(m_dir.filePath(QStringLiteral("sweep.yaml")), cfg);
    Result r = keel({QStringLiteral("--json"), QStringLiteral("sweep"), m_dir.filePath(QStringLiteral("sweep.yaml")),
                     QStringLiteral("--grid"), QStringLiteral("--parallel"), QStringLiteral("2")},
                    m_ws);
    QVERIFY2(r.code == 0, r.err.constData());
    const QJsonObject sweep = QJsonDocument::fromJson(r.out).object();
    const QString sweepId = sweep[QStringLiteral("sweep")].toString();
    const QJsonArray trials = sweep[QStringLiteral("trials")].toArray();
    QCOMPARE(trials.size(), 4);
    // Every combination once; each trial a finished run under the sweep; the best is the true maximum.
    std::set<QString> combos;
    QString bestRun;
    double bestValue = -1;
    for (const QJsonValue &v : trials) {
        const QJsonObject t = v.toObject();
        QCOMPARE(t[QStringLiteral("status")].toString(), QStringLiteral("finished"));
        const QJsonObject p = t[QStringLiteral("params")].toObject();
        combos.insert(p[QStringLiteral("max_depth")].toString() + QLatin1Char('/') + p[QStringLiteral("learning_rate")].toString());
        const QJsonObject run = showRun(t[QStringLiteral("run")].toString(), m_ws);
        QCOMPARE(run[QStringLiteral("parent")].toString(), sweepId);
        QCOMPARE(run[QStringLiteral("sweep")].toString(), sweepId);
        QCOMPARE(run[QStringLiteral("params")].toObject()[QStringLiteral("params.max_depth")].toString(),
                 p[QStringLiteral("max_depth")].toString());
        QCOMPARE(run[QStringLiteral("params")].toObject()[QStringLiteral("params.threads")].toString(), QStringLiteral("1"));
        const double auc = lastMetric(run, QStringLiteral("test.roc_auc"));
        QCOMPARE(t[QStringLiteral("value")].toDouble(), auc);
        if (auc > bestValue) {
            bestValue = auc;
            bestRun = run[QStringLiteral("id")].toString();
        }
    }
    QCOMPARE(combos, (std::set<QString>{QStringLiteral("2/0.05"), QStringLiteral("2/0.5"), QStringLiteral("5/0.05"),
                                        QStringLiteral("5/0.5")}));
    QCOMPARE(sweep[QStringLiteral("best")].toObject()[QStringLiteral("run")].toString(), bestRun);
    const QJsonObject parent = showRun(sweepId, m_ws);
    QCOMPARE(parent[QStringLiteral("status")].toString(), QStringLiteral("finished"));
    QCOMPARE(parent[QStringLiteral("tags")].toObject()[QStringLiteral("best.run")].toString(), bestRun);
    QCOMPARE(parent[QStringLiteral("metrics")].toObject()[QStringLiteral("test.roc_auc")].toObject()[QStringLiteral("points")].toInt(), 4);
    // A sweep without a sweep: section says so.
    Result none = keel({QStringLiteral("sweep"), m_dir.filePath(QStringLiteral("ridge.yaml")), QStringLiteral("--random"),
                        QStringLiteral("3")},
                       m_ws);
    QCOMPARE(none.code, 1);
    QVERIFY(none.err.contains("sweep:"));
}

void TstCliTrain::killedRuns()
{
    QByteArray cfg = kGbdt;
    cfg.replace("n_estimators: 25", "n_estimators: 100000, learning_rate: 0.001");
    writeFile(m_dir.filePath(QStringLiteral("long.yaml")), cfg);
    for (const bool hard : {true, false}) {
        QProcess p;
        p.setWorkingDirectory(m_ws);
        p.start(QStringLiteral(KEEL_BINARY), {QStringLiteral("train"), m_dir.filePath(QStringLiteral("long.yaml")), QStringLiteral("--events")});
        QVERIFY(p.waitForStarted());
        // Wait until training is under way (the first curve point), then stop it.
        QByteArray out;
        QString runId;
        QElapsedTimer timer;
        timer.start();
        while (!out.contains("\"metric\"") && timer.elapsed() < 120000) {
            p.waitForReadyRead(1000);
            out += p.readAllStandardOutput();
        }
        QVERIFY2(out.contains("\"metric\""), out.constData());
        runId = events(out.left(out.indexOf('\n'))).front()[QStringLiteral("run")].toString();
        QVERIFY(!runId.isEmpty());
        if (hard) {
            p.kill(); // SIGKILL: nothing can be recorded by the process itself
            p.waitForFinished();
            QCOMPARE(p.exitStatus(), QProcess::CrashExit);
        } else {
            p.terminate(); // SIGTERM: the run stops cleanly and records itself as killed
            QVERIFY(p.waitForFinished(60000));
            QCOMPARE(p.exitStatus(), QProcess::NormalExit);
            QCOMPARE(p.exitCode(), 130);
            out += p.readAllStandardOutput();
            const std::vector<QJsonObject> ev = events(out);
            QCOMPARE(ev.back()[QStringLiteral("event")].toString(), QStringLiteral("failed"));
            QCOMPARE(ev.back()[QStringLiteral("message")].toString(), QStringLiteral("cancelled"));
        }
        // `runs list` shows it as killed, never as running.
        const QJsonArray list = keelJson({QStringLiteral("runs"), QStringLiteral("list")}, m_ws).array();
        QString status;
        for (const QJsonValue &v : list)
            if (v.toObject()[QStringLiteral("id")].toString() == runId)
                status = v.toObject()[QStringLiteral("status")].toString();
        QCOMPARE(status, QStringLiteral("killed"));
    }
    RUN_OK(keel({QStringLiteral("store"), QStringLiteral("fsck")}, m_ws));
}

QTEST_GUILESS_MAIN(TstCliTrain)
#include "tst_clitrain.moc"
