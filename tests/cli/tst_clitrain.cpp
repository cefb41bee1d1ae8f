// End-to-end tests of training from the keel runner: streamed events, branching, compare, reproduce, sweeps and
// what a kill leaves behind. Real processes on real workspaces in temporary folders.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>

#include <cmath>
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
    void explainRuns();
    void explainMulticlassClass();

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
        if (e[QStringLiteral("event")] == QStringLiteral("metric") && e[QStringLiteral("key")] == QStringLiteral("curve.validation.logloss"))
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

    // Compare: only max_depth differs among the params; every final metric of both runs side by side (curves are
    // series, not final values).
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
        qsizetype finals = 0;
        for (const QString &k : shown[QStringLiteral("metrics")].toObject().keys())
            finals += k.startsWith(QLatin1String("curve.")) ? 0 : 1;
        QCOMPARE(m.size(), finals);
        QVERIFY(m.contains(QStringLiteral("validation.accuracy")) && m.contains(QStringLiteral("test.accuracy")));
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
    cfg += "sweep:\n  metric: validation.roc_auc\n  params:\n    max_depth: [2, 5]\n"
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
        const double auc = lastMetric(run, QStringLiteral("validation.roc_auc"));
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
    QCOMPARE(parent[QStringLiteral("metrics")].toObject()[QStringLiteral("validation.roc_auc")].toObject()[QStringLiteral("points")].toInt(), 4);
    // The audit trail holds one "sweep" event naming the best trial, beside one "train" event per trial.
    const Result audit = keel({QStringLiteral("audit"), QStringLiteral("export"), QStringLiteral("-o"), QStringLiteral("-")}, m_ws);
    QVERIFY2(audit.code == 0, audit.err.constData());
    int sweepEvents = 0, trialEvents = 0;
    for (const QByteArray &line : audit.out.split('\n')) {
        const QJsonObject e = QJsonDocument::fromJson(line).object();
        if (e[QStringLiteral("action")].toString() == u"sweep" && e[QStringLiteral("subject")].toString() == QStringLiteral("run:") + sweepId) {
            ++sweepEvents;
            QCOMPARE(e[QStringLiteral("detail")].toObject()[QStringLiteral("best_run")].toString(), bestRun);
            QCOMPARE(e[QStringLiteral("detail")].toObject()[QStringLiteral("trials")].toInt(), 4);
        }
        for (const QJsonValue &v : trials)
            if (e[QStringLiteral("action")].toString() == u"train" &&
                e[QStringLiteral("subject")].toString() == QStringLiteral("run:") + v.toObject()[QStringLiteral("run")].toString())
                ++trialEvents;
    }
    QCOMPARE(sweepEvents, 1);
    QCOMPARE(trialEvents, 4);
    // Selecting on the test part is refused, in the config and on the command line.
    Result peek = keel({QStringLiteral("sweep"), m_dir.filePath(QStringLiteral("sweep.yaml")), QStringLiteral("--grid"),
                        QStringLiteral("--metric"), QStringLiteral("test.roc_auc")},
                       m_ws);
    QCOMPARE(peek.code, 2);
    QVERIFY2(peek.err.contains("must not pick its best trial on the test part"), peek.err.constData());
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

void TstCliTrain::explainRuns()
{
    const QString gbdt = keelJson({QStringLiteral("train"), m_dir.filePath(QStringLiteral("gbdt.yaml"))}, m_ws).object()[QStringLiteral("run")].toString();
    const QString ridge = keelJson({QStringLiteral("train"), m_dir.filePath(QStringLiteral("ridge.yaml"))}, m_ws).object()[QStringLiteral("run")].toString();
    QVERIFY(!gbdt.isEmpty() && !ridge.isEmpty());

    // Per prediction: base + contributions = margin, and the logistic link of the margin is the predicted probability
    // the model itself gives; contributions are per original feature (one-hot columns summed back).
    const QStringList args{QStringLiteral("explain"), gbdt, QStringLiteral("--rows"), QStringLiteral("1-5,101"), QStringLiteral("--global"),
                           QStringLiteral("--global-rows"), QStringLiteral("300"), QStringLiteral("--fairness"), QStringLiteral("sex"),
                           QStringLiteral("--bootstrap"), QStringLiteral("50"), QStringLiteral("--interactions"), QStringLiteral("4")};
    Result first = keel(QStringList{QStringLiteral("--json")} + args, m_ws);
    QVERIFY2(first.code == 0, first.err.constData());
    const QJsonObject report = QJsonDocument::fromJson(first.out).object();
    QCOMPARE(report[QStringLiteral("method")].toString(), QStringLiteral("tree"));
    QCOMPARE(report[QStringLiteral("cached")].toBool(), false);
    const QJsonObject local = report[QStringLiteral("local")].toObject();
    QCOMPARE(local[QStringLiteral("rows")].toArray().size(), 6);
    const QJsonObject interactions = local[QStringLiteral("interactions")].toObject();
    QCOMPARE(interactions[QStringLiteral("features")].toArray().size(), 4);
    QCOMPARE(interactions[QStringLiteral("values")].toArray().size(), 6 * 4 * 4);
    const QJsonObject attribution = local[QStringLiteral("attribution")].toObject();
    const QJsonArray features = attribution[QStringLiteral("features")].toArray();
    QCOMPARE(features.size(), 13); // 14 columns but the target, fnlwgt excluded
    for (const QJsonValue &f : features)
        QVERIFY2(!f.toString().contains(QLatin1Char('=')), qPrintable(f.toString()));
    const double base = attribution[QStringLiteral("base")].toArray()[0].toDouble();
    const QJsonArray values = attribution[QStringLiteral("values")].toArray();
    const QJsonArray prediction = local[QStringLiteral("prediction")].toArray();
    for (int r = 0; r < 6; ++r) {
        double margin = base;
        for (int f = 0; f < 13; ++f)
            margin += values[r * 13 + f].toDouble();
        const double p = 1.0 / (1.0 + std::exp(-margin));
        QVERIFY2(std::abs(p - prediction[r].toDouble()) < 1e-6, qPrintable(QStringLiteral("row %1: %2 vs %3").arg(r).arg(p).arg(prediction[r].toDouble())));
    }
    // Global: importance sorted, permutation and PDP present, on the top feature.
    const QJsonObject global = report[QStringLiteral("global")].toObject();
    const QJsonArray importance = global[QStringLiteral("importance")].toArray();
    QCOMPARE(importance.size(), 13);
    for (qsizetype i = 1; i < importance.size(); ++i)
        QVERIFY(importance[i - 1].toObject()[QStringLiteral("mean_abs_shap")].toDouble()
                >= importance[i].toObject()[QStringLiteral("mean_abs_shap")].toDouble());
    QCOMPARE(global[QStringLiteral("pdp")].toObject()[QStringLiteral("feature")].toString(),
             importance[0].toObject()[QStringLiteral("feature")].toString());
    QVERIFY(global[QStringLiteral("permutation")].toObject()[QStringLiteral("features")].toArray().size() == 13);
    // Fairness is measured on the run's test rows (not the rows it trained on): the group sizes are the counts of each
    // value of `sex` among the test rows of the split artifact, counted here from the CSV.
    QCOMPARE(report[QStringLiteral("population")].toString(), QStringLiteral("the run's test rows"));
    Result split = keel({QStringLiteral("runs"), QStringLiteral("get"), gbdt, QStringLiteral("split"), QStringLiteral("-o"), QStringLiteral("-")}, m_ws);
    RUN_OK(split);
    std::set<qint64> testRows;
    for (const QJsonValue &r : QJsonDocument::fromJson(split.out).object()[QStringLiteral("test")].toArray())
        testRows.insert(r.toInteger());
    QVERIFY(testRows.size() > 1000);
    QCOMPARE(report[QStringLiteral("population_rows")].toInteger(), qint64(testRows.size()));
    QFile csv(example("adult_train.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = csv.readAll().split('\n');
    const qsizetype sexColumn = lines[0].split(',').indexOf("\"sex\"");
    QVERIFY(sexColumn >= 0);
    std::map<QString, qint64> counts;
    for (qsizetype i = 1; i < lines.size(); ++i)
        if (!lines[i].trimmed().isEmpty() && testRows.count(i))   // data row i is line i + 1 of the file
            ++counts[QString::fromUtf8(lines[i].split(',').value(sexColumn).trimmed()).remove(QLatin1Char('"'))];
    const QJsonArray groups = report[QStringLiteral("fairness")].toObject()[QStringLiteral("groups")].toArray();
    QCOMPARE(groups.size(), qsizetype(counts.size()));
    for (const QJsonValue &g : groups)
        QCOMPARE(g.toObject()[QStringLiteral("count")].toInteger(), counts[g.toObject()[QStringLiteral("group")].toString()]);

    // Asking again returns the stored explanation, unchanged.
    Result again = keel(QStringList{QStringLiteral("--json")} + args, m_ws);
    RUN_OK(again);
    QJsonObject second = QJsonDocument::fromJson(again.out).object();
    QCOMPARE(second[QStringLiteral("cached")].toBool(), true);
    QCOMPARE(second[QStringLiteral("object")].toString(), report[QStringLiteral("object")].toString());
    QCOMPARE(second[QStringLiteral("created")].toString(), report[QStringLiteral("created")].toString());
    const QJsonArray artifacts = showRun(gbdt, m_ws)[QStringLiteral("artifacts")].toArray();
    bool indexed = false;
    for (const QJsonValue &a : artifacts)
        indexed |= a.toObject()[QStringLiteral("name")].toString() == report[QStringLiteral("artifact")].toString();
    QVERIFY(indexed);
    Result text = keel(args, m_ws);
    RUN_OK(text);
    QVERIFY(text.out.contains("additivity residual"));
    QVERIFY(text.out.contains("demographic parity difference"));

    // A linear model is explained exactly on the margin (= its prediction for a regression).
    const QJsonObject lin = keelJson({QStringLiteral("explain"), ridge, QStringLiteral("--rows"), QStringLiteral("3,7")}, m_ws).object();
    QCOMPARE(lin[QStringLiteral("method")].toString(), QStringLiteral("linear"));
    const QJsonObject la = lin[QStringLiteral("local")].toObject()[QStringLiteral("attribution")].toObject();
    const int lf = int(la[QStringLiteral("features")].toArray().size());
    for (int r = 0; r < 2; ++r) {
        double sum = la[QStringLiteral("base")].toArray()[0].toDouble();
        for (int f = 0; f < lf; ++f)
            sum += la[QStringLiteral("values")].toArray()[r * lf + f].toDouble();
        const double predicted = lin[QStringLiteral("local")].toObject()[QStringLiteral("prediction")].toArray()[r].toDouble();
        QVERIFY(std::abs(sum - predicted) <= 1e-9 * std::max(1.0, std::abs(predicted)));
    }

    // Two processes asking the same new question at once: both succeed and agree on one stored document.
    {
        const QStringList same{QStringLiteral("--json"), QStringLiteral("explain"), gbdt, QStringLiteral("--rows"), QStringLiteral("7-9")};
        QProcess a, b;
        for (QProcess *p : {&a, &b}) {
            p->setWorkingDirectory(m_ws);
            p->start(QStringLiteral(KEEL_BINARY), same);
        }
        for (QProcess *p : {&a, &b})
            QVERIFY(p->waitForFinished(120000));
        QCOMPARE(a.exitCode(), 0);
        QCOMPARE(b.exitCode(), 0);
        const QJsonObject ra = QJsonDocument::fromJson(a.readAllStandardOutput()).object();
        const QJsonObject rb = QJsonDocument::fromJson(b.readAllStandardOutput()).object();
        QVERIFY(!ra[QStringLiteral("object")].toString().isEmpty());
        QCOMPARE(ra[QStringLiteral("artifact")].toString(), rb[QStringLiteral("artifact")].toString());
        QCOMPARE(ra[QStringLiteral("object")].toString(), rb[QStringLiteral("object")].toString());
        const QJsonObject third = QJsonDocument::fromJson(keel(same, m_ws).out).object();
        QCOMPARE(third[QStringLiteral("cached")].toBool(), true);
        QCOMPARE(third[QStringLiteral("object")].toString(), ra[QStringLiteral("object")].toString());
    }

    // Errors name what is wrong and store nothing.
    Result past = keel({QStringLiteral("explain"), ridge, QStringLiteral("--rows"), QStringLiteral("0,99999999")}, m_ws);
    QCOMPARE(past.code, 1);
    QVERIFY(past.err.contains("rows"));
    Result wrongMethod = keel({QStringLiteral("explain"), ridge, QStringLiteral("--rows"), QStringLiteral("1"), QStringLiteral("--method"),
                               QStringLiteral("tree")},
                              m_ws);
    QCOMPARE(wrongMethod.code, 1);
    QVERIFY(wrongMethod.err.contains("tree"));
    QCOMPARE(keel({QStringLiteral("explain"), ridge}, m_ws).code, 2);
}

QTEST_GUILESS_MAIN(TstCliTrain)
// Multiclass explanations name their class: --global explains the most frequent actual class of the test rows by
// default (counted here from the run's predictions artifact), --class picks one exactly (vowel's labels differ only in
// case), and the contributions of the picked class add up to that class's margin.
void TstCliTrain::explainMulticlassClass()
{
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), QStringLiteral(KEEL_TEST_DATA_DIR "/multiclass/vowel.csv"),
                 QStringLiteral("--name"), QStringLiteral("vowel")},
                m_ws));
    writeFile(m_dir.filePath(QStringLiteral("vowel.yaml")),
              "data: vowel\ntarget: Class\nrecipe: {exclude: [V1]}\nsplit: {kind: holdout, test_fraction: 0.3, seed: 5}\n"
              "learner: gbdt\nparams: {n_estimators: 30, max_depth: 3, threads: 2}\n");
    const QString run = keelJson({QStringLiteral("train"), m_dir.filePath(QStringLiteral("vowel.yaml"))}, m_ws).object()[QStringLiteral("run")].toString();
    QVERIFY(!run.isEmpty());
    // The most frequent actual class of the test rows, from the predictions artifact (column "actual").
    const QString predictions = m_dir.filePath(QStringLiteral("vowel-predictions.csv"));
    RUN_OK(keel({QStringLiteral("runs"), QStringLiteral("get"), run, QStringLiteral("predictions"), QStringLiteral("-o"), predictions,
                 QStringLiteral("--force")},
                m_ws));
    QFile f(predictions);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
    const QList<QByteArray> header = lines.front().split(',');
    const qsizetype actualColumn = header.indexOf("actual");
    QVERIFY(actualColumn >= 0);
    std::map<QString, int> counts;
    for (qsizetype i = 1; i < lines.size(); ++i)
        ++counts[QString::fromUtf8(lines[i].split(',')[actualColumn])];
    QVERIFY(counts.count(QStringLiteral("hid")) && counts.count(QStringLiteral("hId")));

    const QJsonObject global = keelJson({QStringLiteral("explain"), run, QStringLiteral("--global"), QStringLiteral("--global-rows"),
                                         QStringLiteral("100")},
                                        m_ws).object();
    const QJsonArray classes = global[QStringLiteral("classes")].toArray();
    QCOMPARE(classes.size(), 11);
    const int defaultClass = global[QStringLiteral("global")].toObject()[QStringLiteral("output")].toInt(-1);
    QVERIFY(defaultClass >= 0 && defaultClass < 11);
    int most = 0;
    for (const auto &[label, n] : counts)
        most = std::max(most, n);
    QCOMPARE(counts[classes[defaultClass].toString()], most);
    for (int c = 0; c < defaultClass; ++c)                       // ties go to the first class
        QVERIFY(counts[classes[c].toString()] < most);

    // --class picks a class exactly; the global views then explain its score.
    const int hId = int(QJsonArray(classes).toVariantList().indexOf(QStringLiteral("hId")));
    QVERIFY(hId >= 0);
    const QJsonObject picked = keelJson({QStringLiteral("explain"), run, QStringLiteral("--global"), QStringLiteral("--global-rows"),
                                         QStringLiteral("100"), QStringLiteral("--class"), QStringLiteral("hId")},
                                        m_ws).object();
    QCOMPARE(picked[QStringLiteral("global")].toObject()[QStringLiteral("output")].toInt(), hId);
    const Result text = keel({QStringLiteral("explain"), run, QStringLiteral("--rows"), QStringLiteral("2"), QStringLiteral("--class"),
                              QStringLiteral("hId")},
                             m_ws);
    RUN_OK(text);
    QVERIFY2(text.out.contains("P(hId) = "), text.out.constData());
    QVERIFY2(text.out.contains("= score of hId"), text.out.constData());
    // The text's contributions add up to hId's margin in the stored document.
    const QJsonObject rowDoc = keelJson({QStringLiteral("explain"), run, QStringLiteral("--rows"), QStringLiteral("2")}, m_ws).object();
    const QJsonObject local = rowDoc[QStringLiteral("local")].toObject();
    const double margin = local[QStringLiteral("margin")].toArray()[hId].toDouble();
    QByteArray sumLine;
    for (const QByteArray &line : text.out.split('\n'))
        if (line.startsWith("= score of hId"))
            sumLine = line;
    QVERIFY(!sumLine.isEmpty());
    QVERIFY2(std::abs(sumLine.split(' ').last().toDouble() - margin) < 1e-3 * std::max(1.0, std::abs(margin)), sumLine.constData());

    // A label that differs only in case is refused, naming the classes it could mean.
    const Result wrongCase = keel({QStringLiteral("explain"), run, QStringLiteral("--global"), QStringLiteral("--class"), QStringLiteral("HID")}, m_ws);
    QVERIFY(wrongCase.code != 0);
    QVERIFY2(wrongCase.err.contains("'hId' or 'hid'") || wrongCase.err.contains("'hid' or 'hId'"), wrongCase.err.constData());
    QCOMPARE(keel({QStringLiteral("explain"), run, QStringLiteral("--global"), QStringLiteral("--class"), QStringLiteral("hid"),
                   QStringLiteral("--output"), QStringLiteral("1")},
                  m_ws)
                 .code,
             2);
}

#include "tst_clitrain.moc"
