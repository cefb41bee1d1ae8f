// Pipelines end to end through `keel run` on the example workspace's income pipeline (validate -> train -> gate ->
// register -> deploy): the first run runs every stage, the second skips every stage, a dry run says so; a change to
// the training config reruns train and what follows, a changed rule file reruns validate only (its outputs did not
// change), a closed gate blocks register and deploy (exit 1), --force and --from run cached stages, a rollback makes
// the deploy stage current again; every execution is a run of experiment pipeline:income and the run an audit event.
// Malformed files are refused with the file, line and field.
#include "../cli/clitest.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>

using namespace clitest;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }

/// stage -> status of a `keel --json run` report.
QMap<QString, QString> statuses(const QJsonObject &report)
{
    QMap<QString, QString> out;
    for (const QJsonValue &v : report.value(S("stages")).toArray())
        out.insert(v.toObject().value(S("stage")).toString(), v.toObject().value(S("status")).toString());
    return out;
}

QMap<QString, QString> all(const char *status)
{
    QMap<QString, QString> out;
    for (const char *s : {"validate", "train", "gate", "register", "deploy"})
        out.insert(QString::fromLatin1(s), QString::fromLatin1(status));
    return out;
}
} // namespace

class TstPipeline : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_ws;

    QJsonObject run(const QStringList &extra, int expectCode = 0)
    {
        const Result r = clitest::keel(QStringList{S("--json"), S("run"), S("income")} + extra, m_ws);
        if (r.code != expectCode)
            qWarning("keel run %s: exit %d: %s", qPrintable(extra.join(QLatin1Char(' '))), r.code, r.err.constData());
        return r.code == expectCode ? QJsonDocument::fromJson(r.out).object() : QJsonObject();
    }

private slots:
    void initTestCase()
    {
        m_ws = m_dir.filePath(S("ws"));
        RUN_OK(clitest::keel({S("init"), S("--example"), m_ws}, m_dir.path()));
    }

    void runsThenSkips()
    {
        const QJsonObject dry = run({S("--dry-run")});
        QCOMPARE(statuses(dry), all("would run"));
        QVERIFY(!QFileInfo::exists(m_ws + S("/deployments/income.yaml")));   // a dry run changes nothing

        const QJsonObject first = run({});
        QCOMPARE(statuses(first), all("ran"));
        const QJsonArray stages = first.value(S("stages")).toArray();
        const QString trainRun = stages.at(1).toObject().value(S("outputs")).toObject().value(S("run")).toString();
        QVERIFY(!trainRun.isEmpty());
        QCOMPARE(stages.at(3).toObject().value(S("outputs")).toObject().value(S("version")).toString(), S("income@v1"));
        QCOMPARE(stages.at(4).toObject().value(S("outputs")).toObject().value(S("revision")).toInt(), 1);
        // The gate read the run's own metric.
        const QJsonObject runShown = keelJson({S("runs"), S("show"), trainRun}, m_ws).object();
        QCOMPARE(stages.at(2).toObject().value(S("outputs")).toObject().value(S("value")).toDouble(),
                 runShown.value(S("metrics")).toObject().value(S("test.roc_auc")).toObject().value(S("last")).toDouble());

        const QJsonObject second = run({});
        QCOMPARE(statuses(second), all("cached"));
        QCOMPARE(second.value(S("stages")).toArray().at(1).toObject().value(S("outputs")).toObject().value(S("run")).toString(), trainRun);
        QCOMPARE(statuses(run({S("--dry-run")})), all("would skip"));
        // Nothing new was registered or deployed by the second run.
        QCOMPARE(keelJson({S("deployments"), S("list")}, m_ws).array().at(0).toObject().value(S("revision")).toInt(), 1);

        // Recorded: a parent run and one child per stage in experiment pipeline:income; one audit event per run.
        const QJsonArray runs = keelJson({S("runs"), S("list"), S("--experiment"), S("pipeline:income")}, m_ws).array();
        QCOMPARE(runs.size(), 12);
        int events = 0;
        for (const QJsonValue &e : keelJson({S("audit")}, m_ws).array())
            events += e.toObject().value(S("action")).toString() == u"pipeline.run" ? 1 : 0;
        QCOMPARE(events, 2);
    }

    void changesRerunWhatTheyReach()
    {
        // A comment in the rule file changes its bytes: validate reruns, its outputs are the same, nothing else runs.
        QFile rules(m_ws + S("/rules/adult_train.yaml"));
        QVERIFY(rules.open(QIODevice::Append));
        rules.write("# reviewed\n");
        rules.close();
        QMap<QString, QString> expected = all("cached");
        expected[S("validate")] = S("ran");
        QCOMPARE(statuses(run({})), expected);

        // A different regularisation: train and everything after it.
        const QString config = m_ws + S("/configs/adult-logistic.yaml");
        QFile f(config);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QByteArray text = f.readAll();
        f.close();
        QVERIFY(text.contains("C: 1.0"));
        writeFile(config, text.replace("C: 1.0", "C: 0.5"));
        expected = all("ran");
        expected[S("validate")] = S("cached");
        const QJsonObject changed = run({});
        QCOMPARE(statuses(changed), expected);
        QCOMPARE(changed.value(S("stages")).toArray().at(3).toObject().value(S("outputs")).toObject().value(S("version")).toString(), S("income@v2"));
        QCOMPARE(keelJson({S("deployments"), S("list")}, m_ws).array().at(0).toObject().value(S("revision")).toInt(), 2);

        // --force reruns one stage; --from reruns a stage and all after it.
        expected = all("cached");
        expected[S("gate")] = S("ran");
        QCOMPARE(statuses(run({S("--force"), S("gate")})), expected);
        const QJsonObject from = run({S("--from"), S("register"), S("--dry-run")});
        expected = all("would skip");
        expected[S("register")] = S("would run");
        expected[S("deploy")] = S("would run");
        QCOMPARE(statuses(from), expected);

        // A rollback outside the pipeline: the deploy stage is no longer current and runs again.
        RUN_OK(clitest::keel({S("rollback"), S("income")}, m_ws));
        expected = all("cached");
        expected[S("deploy")] = S("ran");
        QCOMPARE(statuses(run({})), expected);
        QCOMPARE(keelJson({S("deployments"), S("list")}, m_ws).array().at(0).toObject().value(S("model")).toObject().value(S("version")).toString(),
                 S("income@v2"));
    }

    void closedGateBlocks()
    {
        const QString path = m_ws + S("/pipelines/income.yaml");
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QByteArray text = f.readAll();
        f.close();
        writeFile(path, QByteArray(text).replace("above: 0.85", "above: 0.99"));
        const Result r = clitest::keel({S("--json"), S("run"), S("income")}, m_ws);
        QCOMPARE(r.code, 1);
        const QJsonObject report = QJsonDocument::fromJson(r.out).object();
        QMap<QString, QString> expected = all("cached");
        expected[S("gate")] = S("failed");
        expected[S("register")] = S("blocked");
        expected[S("deploy")] = S("blocked");
        QCOMPARE(statuses(report), expected);
        QVERIFY2(report.value(S("stages")).toArray().at(2).toObject().value(S("error")).toString().contains(S("test.roc_auc")),
                 r.out.constData());
        const Result text2 = clitest::keel({S("run"), S("income")}, m_ws);
        QVERIFY2(text2.out.contains("is not above 0.99") && text2.out.contains("gate did not succeed"), text2.out.constData());
        writeFile(path, text);
    }

    void commandStageSeesUpstreamOutputs()
    {
        writeFile(m_ws + S("/pipelines/notify.yaml"),
                  "stages:\n  train: {kind: train, config: configs/adult-logistic.yaml}\n"
                  "  note: {kind: command, command: \"printf '%s' \\\"$KEEL_TRAIN_RUN\\\" > note.txt\", after: [train]}\n");
        const Result r = clitest::keel({S("--json"), S("run"), S("notify")}, m_ws);
        RUN_OK(r);
        const QJsonArray stages = QJsonDocument::fromJson(r.out).object().value(S("stages")).toArray();
        QFile note(m_ws + S("/note.txt"));
        QVERIFY(note.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(note.readAll()), stages.at(0).toObject().value(S("outputs")).toObject().value(S("run")).toString());
        QVERIFY(QFile::remove(m_ws + S("/pipelines/notify.yaml")));
    }

    // `keel ci init github` writes a workflow whose steps are keel commands; run in order in a fresh clone of the
    // workspace (what a CI runner checks out), every step succeeds and the approved deploy job deploys the candidate.
    void ciTemplateStepsRun()
    {
        const QString remote = m_dir.filePath(S("remote"));
        RUN_OK(clitest::keel({S("models"), S("alias"), S("income@v1"), S("champion"), S("-m"), S("the first one")}, m_ws));
        RUN_OK(clitest::keel({S("remote"), S("add"), S("origin"), remote}, m_ws));
        RUN_OK(clitest::keel({S("push")}, m_ws));
        const QJsonObject ci = keelJson({S("ci"), S("init"), S("github")}, m_ws).object();
        QCOMPARE(ci.value(S("path")).toString(), S(".github/workflows/keel.yml"));
        QFile workflow(m_ws + S("/.github/workflows/keel.yml"));
        QVERIFY(workflow.open(QIODevice::ReadOnly));
        const QByteArray text = workflow.readAll();
        QVERIFY(text.contains("environment: production"));
        // The run lines of the file, in order, as a CI runner would execute them.
        QStringList commands;
        for (const QByteArray &line : text.split('\n'))
            if (line.trimmed().startsWith("- run: "))
                commands << QJsonDocument::fromJson("[" + line.trimmed().mid(7) + "]").array().at(0).toString();
        QVERIFY2(commands.size() >= 6, text.constData());
        QCOMPARE(commands.front(), S("keel pull"));
        QVERIFY(commands.contains(S("keel data validate adult_train --rules rules/adult_train.yaml")));
        QVERIFY(commands.contains(S("keel run income --without deploy")));
        QVERIFY(commands.contains(S("keel models compare income@champion income@candidate")));
        QCOMPARE(commands.back(), S("keel run income"));
        // A clean checkout.
        const QString checkout = m_dir.filePath(S("checkout"));
        RUN_OK(clitest::keel({S("clone"), remote, checkout}, m_dir.path()));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(S("PATH"), QFileInfo(S(KEEL_BINARY)).absolutePath() + QLatin1Char(':') + env.value(S("PATH")));
        for (const QString &c : commands) {
            QProcess sh;
            sh.setProcessEnvironment(env);
            sh.setWorkingDirectory(checkout);
            sh.start(S("/bin/sh"), {S("-c"), c});
            QVERIFY(sh.waitForFinished(300000));
            QVERIFY2(sh.exitStatus() == QProcess::NormalExit && sh.exitCode() == 0,
                     qPrintable(c + S(": ") + QString::fromUtf8(sh.readAllStandardError() + sh.readAllStandardOutput())));
        }
        // The approved job deployed the candidate the check job registered.
        const QJsonObject models = keelJson({S("models"), S("show"), S("income@candidate")}, checkout).object();
        const QString candidate = models.value(S("ref")).toString();
        QVERIFY2(!candidate.isEmpty(), qPrintable(QString::fromUtf8(QJsonDocument(models).toJson())));
        QCOMPARE(keelJson({S("deployments"), S("list")}, checkout).array().at(0).toObject().value(S("model")).toObject().value(S("version")).toString(),
                 candidate);
        QCOMPARE(clitest::keel({S("ci"), S("init"), S("github")}, m_ws).code, 1);   // exists already
        const Result unknown = clitest::keel({S("ci"), S("init"), S("jenkins")}, m_ws);
        QVERIFY2(unknown.code == 1 && unknown.err.contains("(github, gitlab)"), unknown.err.constData());
    }

    void malformedPipelines_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<QString>("expected");
        QTest::newRow("kind") << QByteArray("stages:\n  a: {kind: trian, config: x.yaml}\n") << S("bad.yaml:2: field 'stages.a.kind': 'trian' is not a stage kind");
        QTest::newRow("field") << QByteArray("stages:\n  a:\n    kind: train\n    config: x.yaml\n    confg: y\n") << S("bad.yaml:5: field 'stages.a.confg': is not a field of a train stage");
        QTest::newRow("missing") << QByteArray("stages:\n  a: {kind: register, run: b}\n  b: {kind: train, config: x}\n") << S("a register stage needs model");
        QTest::newRow("reference") << QByteArray("stages:\n  a: {kind: validate, data: d, rules: r}\n  g: {kind: gate, run: a, metric: m, above: 1}\n")
                                   << S("'a' is a validate stage, not a train stage");
        QTest::newRow("after") << QByteArray("stages:\n  a: {kind: command, command: x, after: [zz]}\n") << S("no stage called 'zz'");
        QTest::newRow("cycle") << QByteArray("stages:\n  a: {kind: command, command: x, after: [b]}\n  b: {kind: command, command: y, after: [a]}\n")
                               << S("depend on each other in a cycle");
        QTest::newRow("gate") << QByteArray("stages:\n  t: {kind: train, config: c}\n  g: {kind: gate, run: t, metric: m}\n") << S("a gate needs above, below or not_worse_than");
    }

    void malformedPipelines()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(QString, expected);
        writeFile(m_ws + S("/pipelines/bad.yaml"), yaml);
        const Result r = clitest::keel({S("run"), S("bad")}, m_ws);
        QCOMPARE(r.code, 1);
        QVERIFY2(QString::fromUtf8(r.err).contains(expected), r.err.constData());
        QVERIFY(QFile::remove(m_ws + S("/pipelines/bad.yaml")));
    }
};

QTEST_GUILESS_MAIN(TstPipeline)
#include "tst_pipeline.moc"
