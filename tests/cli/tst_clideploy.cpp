// keel deploy / rollback / deployments end to end with the real binary, on two registered regression models of the
// diamonds example: a strong one reading every column and a weak one without the size columns. Each gate is made to
// pass and to fail, a failed gate changes nothing (no revision, no commit), rollback returns at once, and every
// switch leaves a commit and an audit event.
#include "clitest.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>

using namespace clitest;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }
}

class TstCliDeploy : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_ws;

    int revisions()
    {
        const Result r = keel({S("--json"), S("deployments"), S("history"), S("price")}, m_ws);
        return r.code == 0 ? int(QJsonDocument::fromJson(r.out).array().size()) : 0;
    }
    QJsonObject current()
    {
        const QJsonArray list = keelJson({S("deployments"), S("list")}, m_ws).array();
        return list.isEmpty() ? QJsonObject() : list[0].toObject();
    }
    QJsonObject gate(const QJsonObject &outcome, const char *name)
    {
        for (const QJsonValue &g : outcome.value(S("gates")).toArray())
            if (g.toObject().value(S("gate")).toString() == S(name))
                return g.toObject();
        return {};
    }

private slots:
    void initTestCase()
    {
        m_ws = m_dir.filePath(S("ws"));
        RUN_OK(keel({S("init"), m_ws}, m_dir.path()));
        RUN_OK(keel({S("data"), S("add"), example("diamonds.csv"), S("--name"), S("diamonds")}, m_ws));
        writeFile(m_ws + S("/strong.yaml"), "name: strong\ndata: diamonds\ntarget: price\n"
                                            "split: {kind: holdout, test_fraction: 0.2, seed: 5}\nlearner: ridge\n");
        writeFile(m_ws + S("/weak.yaml"), "name: weak\ndata: diamonds\ntarget: price\nrecipe: {exclude: [carat, x, y, z]}\n"
                                          "split: {kind: holdout, test_fraction: 0.2, seed: 5}\nlearner: ridge\n");
        const QString strong = keelJson({S("train"), S("strong.yaml")}, m_ws).object().value(S("run")).toString();
        const QString weak = keelJson({S("train"), S("weak.yaml")}, m_ws).object().value(S("run")).toString();
        QVERIFY(!strong.isEmpty() && !weak.isEmpty());
        RUN_OK(keel({S("models"), S("register"), strong, S("--name"), S("price")}, m_ws));
        RUN_OK(keel({S("models"), S("register"), weak, S("--name"), S("price")}, m_ws));
        RUN_OK(keel({S("models"), S("alias"), S("price@v1"), S("champion"), S("-m"), S("first")}, m_ws));
    }

    void firstDeploySkipsComparisons()
    {
        QCOMPARE(keel({S("deployments"), S("list")}, m_ws).out.trimmed(), QByteArray("no deployments (keel deploy NAME --model MODEL@ALIAS)"));
        const QJsonObject out = keelJson({S("deploy"), S("price"), S("--model"), S("price@champion"), S("-m"), S("go live")}, m_ws).object();
        QVERIFY(out.value(S("deployed")).toBool());
        QVERIFY(gate(out, "bundle").value(S("passed")).toBool());
        QVERIFY(!gate(out, "bundle").value(S("skipped")).toBool());
        QVERIFY(gate(out, "schema").value(S("skipped")).toBool());
        QVERIFY(gate(out, "performance").value(S("skipped")).toBool());
        const QJsonObject d = current();
        QCOMPARE(d.value(S("revision")).toInt(), 1);
        QCOMPARE(d.value(S("model")).toObject().value(S("version")).toString(), S("price@v1"));
        QCOMPARE(d.value(S("model")).toObject().value(S("requested")).toString(), S("price@champion"));
        QVERIFY(QFile::exists(m_ws + S("/deployments/price.yaml")));
        // The same again: nothing to do, nothing committed.
        const Result again = keel({S("deploy"), S("price"), S("--model"), S("price@v1")}, m_ws);
        RUN_OK(again);
        QVERIFY(again.out.contains("nothing committed"));
        QCOMPARE(revisions(), 1);
    }

    void worseCandidateIsRefused()
    {
        // The weak model reads a subset of the inputs (schema passes) but its RMSE is far worse: refused, exit 1.
        const Result r = keel({S("--json"), S("deploy"), S("price"), S("--model"), S("price@v2")}, m_ws);
        QCOMPARE(r.code, 1);
        const QJsonObject out = QJsonDocument::fromJson(r.out).object();
        QVERIFY(!out.value(S("deployed")).toBool());
        QVERIFY(gate(out, "schema").value(S("passed")).toBool());
        const QJsonObject perf = gate(out, "performance");
        QVERIFY(!perf.value(S("passed")).toBool());
        QVERIFY2(perf.value(S("detail")).toString().startsWith(S("rmse on ")), qPrintable(perf.value(S("detail")).toString()));
        QCOMPARE(revisions(), 1);
        QCOMPARE(current().value(S("model")).toObject().value(S("version")).toString(), S("price@v1"));
        // The plain text names the failing gate and what is still served.
        const Result text = keel({S("deploy"), S("price"), S("--model"), S("price@v2")}, m_ws);
        QCOMPARE(text.code, 1);
        QVERIFY(text.out.contains("performance  FAILED"));
        QVERIFY(text.err.contains("still serves price@v1"));
    }

    void toleranceShadowAndCanary()
    {
        // With a tolerance large enough the switch happens; a shadow and a canary ride along.
        const QJsonObject out = keelJson({S("deploy"), S("price"), S("--model"), S("price@v2"), S("--tolerance"), S("100"),
                                          S("--shadow"), S("price@v1"), S("--canary"), S("price@v1"), S("--canary-share"), S("0.1"),
                                          S("-m"), S("cheaper model")},
                                         m_ws)
                                    .object();
        QVERIFY(out.value(S("deployed")).toBool());
        const QJsonObject d = current();
        QCOMPARE(d.value(S("revision")).toInt(), 2);
        QCOMPARE(d.value(S("shadow")).toObject().value(S("version")).toString(), S("price@v1"));
        QCOMPARE(d.value(S("canary")).toObject().value(S("share")).toDouble(), 0.1);
        QCOMPARE(revisions(), 2);
        // Bad shares are refused before anything is checked.
        QCOMPARE(keel({S("deploy"), S("price"), S("--model"), S("price@v1"), S("--canary"), S("price@v1"), S("--canary-share"), S("1.5")}, m_ws).code, 1);
        QCOMPARE(keel({S("deploy"), S("price"), S("--model"), S("price@v1"), S("--canary-share"), S("0.5")}, m_ws).code, 1);
    }

    void schemaGate()
    {
        // The strong model reads carat, x, y and z, which the served weak model's clients do not send.
        const Result r = keel({S("--json"), S("deploy"), S("price"), S("--model"), S("price@v1"), S("--tolerance"), S("100")}, m_ws);
        QCOMPARE(r.code, 1);
        const QJsonObject schema = gate(QJsonDocument::fromJson(r.out).object(), "schema");
        QVERIFY(!schema.value(S("passed")).toBool());
        const QString detail = schema.value(S("detail")).toString();
        for (const char *c : {"carat", "x", "y", "z"})
            QVERIFY2(detail.contains(S(c)), qPrintable(detail));
        QCOMPARE(revisions(), 2);
    }

    void rollbackReturnsAtOnce()
    {
        const QJsonObject out = keelJson({S("rollback"), S("price"), S("--to"), S("1"), S("-m"), S("RMSE too high")}, m_ws).object();
        QVERIFY(out.value(S("deployed")).toBool());
        const QJsonObject d = current();
        QCOMPARE(d.value(S("revision")).toInt(), 3);
        QCOMPARE(d.value(S("rolled_back_to")).toInt(), 1);
        QCOMPARE(d.value(S("model")).toObject().value(S("version")).toString(), S("price@v1"));
        QVERIFY(!d.contains(S("shadow")));
        const QJsonArray history = keelJson({S("deployments"), S("history"), S("price")}, m_ws).array();
        QCOMPARE(history.size(), 3);
        QCOMPARE(history[2].toObject().value(S("message")).toString(), S("RMSE too high"));
        QVERIFY(!history[2].toObject().value(S("commit")).toString().isEmpty());
        // Revisions that do not exist are named.
        const Result bad = keel({S("rollback"), S("price"), S("--to"), S("9")}, m_ws);
        QCOMPARE(bad.code, 1);
        QVERIFY(bad.err.contains("revisions: 1, 2, 3"));
        QCOMPARE(keel({S("rollback"), S("nosuch")}, m_ws).code, 1);
        // Every switch left an audit event.
        int deploys = 0, rollbacks = 0;
        for (const QJsonValue &e : keelJson({S("audit")}, m_ws).array()) {
            const QString action = e.toObject().value(S("action")).toString();
            deploys += action == u"deploy";
            rollbacks += action == u"rollback";
        }
        QCOMPARE(deploys, 2);
        QCOMPARE(rollbacks, 1);
    }

    void dataRulesGate()
    {
        // Rules suggested from the data pass; a rule the data breaks fails the gate.
        RUN_OK(keel({S("data"), S("rules"), S("suggest"), S("diamonds@v1"), S("-o"), S("rules/diamonds.yaml")}, m_ws));
        const QJsonObject ok = keelJson({S("deploy"), S("price"), S("--model"), S("price@v1"), S("--shadow"), S("price@v2"),
                                         S("--tolerance"), S("100")},
                                        m_ws)
                                   .object();
        QVERIFY(gate(ok, "data rules").value(S("passed")).toBool());
        QVERIFY(!gate(ok, "data rules").value(S("skipped")).toBool());
        QVERIFY(ok.value(S("deployed")).toBool());
        writeFile(m_ws + S("/strict.yaml"), "columns:\n  price: {type: int64, max: 1000}\n");
        const Result r = keel({S("--json"), S("deploy"), S("price"), S("--model"), S("price@v1"), S("--rules"), S("strict.yaml")}, m_ws);
        QCOMPARE(r.code, 1);
        const QJsonObject rules = gate(QJsonDocument::fromJson(r.out).object(), "data rules");
        QVERIFY(!rules.value(S("passed")).toBool());
        QVERIFY2(rules.value(S("detail")).toString().contains(S("1 of")), qPrintable(rules.value(S("detail")).toString()));
    }

    void help()
    {
        for (const QStringList &c : {QStringList{S("deploy")}, QStringList{S("rollback")}, QStringList{S("deployments"), S("list")},
                                     QStringList{S("deployments"), S("history")}}) {
            const Result r = keel(c + QStringList{S("--help")}, m_ws);
            QCOMPARE(r.code, 0);
            QVERIFY(!r.out.isEmpty());
        }
        QVERIFY(keel({S("deploy"), S("--help")}, m_ws).out.contains("performance"));
    }
};

QTEST_GUILESS_MAIN(TstCliDeploy)
#include "tst_clideploy.moc"
