// keel models ... end to end with the real binary: register two regression runs, aliases and history, compare (the
// paired tests appear and agree with the metrics), export and import into a fresh workspace, a tampered bundle and a
// wrong signature refused with exit 1 naming the cause, and --help for every subcommand.
#include "clitest.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>

using namespace clitest;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }
}

class TstCliModels : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_ws;
    QString m_runA, m_runB;

private slots:
    void initTestCase()
    {
        m_ws = m_dir.filePath(S("ws"));
        RUN_OK(keel({S("init"), m_ws}, m_dir.path()));
        RUN_OK(keel({S("data"), S("add"), example("diamonds.csv"), S("--name"), S("diamonds")}, m_ws));
        writeFile(m_ws + S("/a.yaml"), "name: ridge-weak\ndata: diamonds\ntarget: price\nrecipe: {exclude: [carat, x, y, z]}\n"
                                       "split: {kind: holdout, test_fraction: 0.2, seed: 5}\nlearner: ridge\n");
        writeFile(m_ws + S("/b.yaml"), "name: ridge\ndata: diamonds\ntarget: price\n"
                                       "split: {kind: holdout, test_fraction: 0.2, seed: 5}\nlearner: ridge\n");
        m_runA = keelJson({S("train"), S("a.yaml")}, m_ws).object().value(S("run")).toString();
        m_runB = keelJson({S("train"), S("b.yaml")}, m_ws).object().value(S("run")).toString();
        QVERIFY(!m_runA.isEmpty() && !m_runB.isEmpty());
        RUN_OK(keel({S("models"), S("register"), m_runA, S("--name"), S("price"), S("-m"), S("no size columns")}, m_ws));
        RUN_OK(keel({S("models"), S("register"), m_runB, S("--name"), S("price")}, m_ws));
    }

    void showListAliasHistory()
    {
        const QJsonObject v1 = keelJson({S("models"), S("show"), S("price@v1")}, m_ws).object();
        QCOMPARE(v1.value(S("run")).toString(), m_runA);
        QCOMPARE(v1.value(S("message")).toString(), S("no size columns"));
        QCOMPARE(v1.value(S("task")).toString(), S("regression"));
        QVERIFY(v1.value(S("schema")).toArray().size() >= 5);
        RUN_OK(keel({S("models"), S("alias"), S("price@v1"), S("champion"), S("-m"), S("first")}, m_ws));
        RUN_OK(keel({S("models"), S("alias"), S("price@v2"), S("champion"), S("-m"), S("second")}, m_ws));
        const QJsonArray moves = keelJson({S("models"), S("history"), S("price")}, m_ws).array();
        QCOMPARE(moves.size(), 2);
        QCOMPARE(moves[1].toObject().value(S("from")).toInt(), 1);
        QCOMPARE(moves[1].toObject().value(S("to")).toInt(), 2);
        QVERIFY(moves[1].toObject().value(S("message")).toString().contains(S("second")));
        const QJsonArray list = keelJson({S("models"), S("list")}, m_ws).array();
        QCOMPARE(list.size(), 1);
        QCOMPARE(list[0].toObject().value(S("aliases")).toObject().value(S("champion")).toInt(), 2);
        // A missing alias and a missing model: exit 1, said plainly.
        const Result missing = keel({S("models"), S("show"), S("price@staging")}, m_ws);
        QCOMPARE(missing.code, 1);
        QVERIFY(missing.err.contains("no alias 'staging'"));
        QCOMPARE(keel({S("models"), S("show"), S("nosuch")}, m_ws).code, 1);
    }

    void compareRegression()
    {
        const QJsonObject c = keelJson({S("models"), S("compare"), S("price@v1"), S("price@v2"), S("--bootstrap"), S("200")}, m_ws).object();
        QCOMPARE(c.value(S("task")).toString(), S("regression"));
        QVERIFY(c.value(S("rows")).toInt() > 10000);   // the 20% test part of 53,940 rows
        const QJsonArray metrics = c.value(S("metrics")).toArray();
        QCOMPARE(metrics[0].toObject().value(S("metric")).toString(), S("rmse"));
        // The size columns matter for price: B's error is far lower, and every paired test says so.
        QVERIFY(metrics[0].toObject().value(S("diff")).toDouble() < -500);
        QStringList tests;
        for (const QJsonValue &t : c.value(S("tests")).toArray()) {
            tests << t.toObject().value(S("test")).toString();
            QVERIFY(t.toObject().value(S("pvalue")).toDouble() < 0.001);
        }
        QCOMPARE(tests, (QStringList{S("paired bootstrap"), S("Wilcoxon signed-rank")}));
        const QJsonArray lineage = c.value(S("lineage")).toArray();
        bool recipe = false;
        for (const QJsonValue &l : lineage)
            recipe = recipe || l.toObject().value(S("what")).toString() == u"recipe.exclude";
        QVERIFY(recipe);
        // Text form: the table and the sentences.
        const Result text = keel({S("models"), S("compare"), S("price@v1"), S("price@champion"), S("--bootstrap"), S("100")}, m_ws);
        QCOMPARE(text.code, 0);
        QVERIFY(text.out.contains("rmse"));
        QVERIFY(text.out.contains("Wilcoxon"));
    }

    void exportImportAndRefusals()
    {
        const QString bundle = m_dir.filePath(S("price.keel"));
        RUN_OK(keel({S("models"), S("export"), S("price@champion"), S("-o"), bundle}, m_ws));
        QCOMPARE(keel({S("models"), S("export"), S("price@champion"), S("-o"), bundle}, m_ws).code, 1);   // no overwrite
        const QString fresh = m_dir.filePath(S("fresh"));
        RUN_OK(keel({S("init"), fresh}, m_dir.path()));
        const QJsonObject imported = keelJson({S("models"), S("import"), bundle}, fresh).object();
        QCOMPARE(imported.value(S("ref")).toString(), S("price@v1"));
        QCOMPARE(imported.value(S("run")).toString(), m_runB);
        // A bundle with one byte of its model changed: refused, naming the member; nothing registered.
        QFile f(bundle);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QByteArray bytes = f.readAll();
        const qsizetype at = bytes.indexOf("\"coefficients\"");
        QVERIFY(at > 0);
        bytes[at + 1] = 'C';
        const QString tampered = m_dir.filePath(S("tampered.keel"));
        writeFile(tampered, bytes);
        const Result refused = keel({S("models"), S("import"), tampered, S("--name"), S("evil")}, fresh);
        QCOMPARE(refused.code, 1);
        QVERIFY2(refused.err.contains("'model'"), refused.err.constData());
        QCOMPARE(keel({S("models"), S("show"), S("evil")}, fresh).code, 1);
        // Signatures.
        RUN_OK(keel({S("keys"), S("create"), S("release"), S("-o"), m_dir.path()}, m_ws));
        RUN_OK(keel({S("keys"), S("create"), S("other"), S("-o"), m_dir.path()}, m_ws));
        QVERIFY(QFile(m_dir.filePath(S("release.key"))).permissions() == (QFileDevice::ReadOwner | QFileDevice::WriteOwner
                                                                           | QFileDevice::ReadUser | QFileDevice::WriteUser));
        const QString signedBundle = m_dir.filePath(S("signed.keel"));
        RUN_OK(keel({S("models"), S("export"), S("price@v1"), S("-o"), signedBundle, S("--sign"), m_dir.filePath(S("release.key"))}, m_ws));
        RUN_OK(keel({S("models"), S("import"), signedBundle, S("--require-signature"), m_dir.filePath(S("release.pub"))}, fresh));
        const Result wrongKey = keel({S("models"), S("import"), signedBundle, S("--require-signature"), m_dir.filePath(S("other.pub"))}, fresh);
        QCOMPARE(wrongKey.code, 1);
        QVERIFY(wrongKey.err.contains("not signed by the trusted key"));
    }

    void helpForEverySubcommand()
    {
        for (const char *sub : {"register", "list", "show", "alias", "approve", "history", "compare", "export", "import"}) {
            const Result r = keel({S("models"), QString::fromLatin1(sub), S("--help")}, m_ws);
            QVERIFY2(r.code == 0 && r.out.contains("Usage"), sub);
        }
    }
};

QTEST_GUILESS_MAIN(TstCliModels)
#include "tst_climodels.moc"
