// End-to-end tests of the keel runner: real processes, real workspaces in temporary folders.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include "clitest.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <csignal>
#include <sys/resource.h>

using namespace clitest;

namespace {

/// A CSV of ~150 MB (3,000,000 rows), so that adding or inspecting it takes long enough to be stopped in the middle.
bool writeBigCsv(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return false;
    f.write("id,x,y,label\n");
    QRandomGenerator rng(42);
    QByteArray block;
    for (int i = 0; i < 3'000'000; ++i) {
        block += QByteArray::number(i) + ',' + QByteArray::number(rng.bounded(100000)) + ','
            + QByteArray::number(rng.generateDouble(), 'g', 12) + ",cat" + QByteArray::number(rng.bounded(20)) + '\n';
        if (block.size() > (1 << 20)) {
            f.write(block);
            block.clear();
        }
    }
    return f.write(block) == block.size() && f.flush();
}

/// Files left in a folder of the workspace's store (none, after a clean cancel).
QStringList filesIn(const QString &dir) { return QDir(dir).entryList(QDir::Files | QDir::Hidden); }

} // namespace

class TstCli : public QObject {
    Q_OBJECT
private slots:
    void helpEverywhere();
    void addLogCheckoutShow();
    void badInputLeavesNothing_data();
    void badInputLeavesNothing();
    void diffAndValidateOnAdult();
    void remotesRoundTrip();
    void concurrentAdds();
    void killDuringAdd();
    void interruptCancelsCleanly();
    void storeFailureStopsTheAdd();
    void headJsonKeepsColumnOrder();
    void noParseStoresBytesOnly();
    void runTableText();
};

void TstCli::headJsonKeepsColumnOrder()
{
    QTemporaryDir dir;
    const QString csv = dir.filePath(QStringLiteral("order.csv"));
    writeFile(csv, "zeta,alpha,mid,beta\n1,2,3,4\n");
    const Result r = keel({QStringLiteral("--json"), QStringLiteral("data"), QStringLiteral("head"), csv}, dir.path());
    RUN_OK(r);
    // The keys of each row object appear in the file's column order, not sorted.
    const qsizetype z = r.out.indexOf("\"zeta\""), a = r.out.indexOf("\"alpha\""), m = r.out.indexOf("\"mid\""),
                    b = r.out.indexOf("\"beta\"");
    QVERIFY2(z >= 0 && z < a && a < m && m < b, r.out.constData());
    const QJsonArray rows = QJsonDocument::fromJson(r.out).array();
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows[0].toObject().value(QStringLiteral("beta")).toInt(), 4);
}

void TstCli::helpEverywhere()
{
    QTemporaryDir dir;
    Result top = keel({QStringLiteral("--help")}, dir.path());
    RUN_OK(top);
    // Every command listed in the overview answers --help with its usage.
    int checked = 0;
    for (const QByteArray &line : top.out.split('\n')) {
        if (!line.startsWith("  ") || line.startsWith("  -"))
            continue;
        const QString text = QString::fromUtf8(line).trimmed();
        const QStringList words = text.section(QStringLiteral("  "), 0, 0).split(QLatin1Char(' '));
        Result r = keel(words + QStringList{QStringLiteral("--help")}, dir.path());
        QVERIFY2(r.code == 0, qPrintable(words.join(QLatin1Char(' '))));
        const QByteArray expected = QByteArray("Usage: keel ") + words.join(QLatin1Char(' ')).toUtf8();
        QVERIFY2(r.out.startsWith(expected), r.out.constData());
        ++checked;
    }
    QVERIFY(checked >= 15);
    Result bad = keel({QStringLiteral("data"), QStringLiteral("frobnicate")}, dir.path());
    QCOMPARE(bad.code, 2);
    QVERIFY(!bad.err.isEmpty());
}

void TstCli::addLogCheckoutShow()
{
    QTemporaryDir dir;
    const QString ws = dir.filePath(QStringLiteral("ws"));
    RUN_OK(keel({QStringLiteral("init"), ws}, dir.path()));
    QVERIFY(QFile::exists(ws + QStringLiteral("/keel.yaml")));
    QVERIFY(QFile::exists(ws + QStringLiteral("/.git")));
    QVERIFY(QFile(ws + QStringLiteral("/.gitignore")).open(QIODevice::ReadOnly));

    const QString src = example("diamonds.csv");
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), src, QStringLiteral("--name"), QStringLiteral("diamonds"),
                 QStringLiteral("-m"), QStringLiteral("first")}, ws));
    // v2: drop the last 100 lines.
    QFile f(src);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QList<QByteArray> lines = f.readAll().split('\n');
    while (!lines.isEmpty() && lines.back().isEmpty())
        lines.removeLast();
    const QByteArray v2 = lines.mid(0, lines.size() - 100).join('\n') + '\n';
    writeFile(dir.filePath(QStringLiteral("d2.csv")), v2);
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), dir.filePath(QStringLiteral("d2.csv")), QStringLiteral("--name"),
                 QStringLiteral("diamonds")}, ws));
    // Same bytes again: nothing new is committed.
    Result again = keel({QStringLiteral("data"), QStringLiteral("add"), dir.filePath(QStringLiteral("d2.csv")),
                         QStringLiteral("--name"), QStringLiteral("diamonds")}, ws);
    RUN_OK(again);
    QVERIFY(again.out.contains("unchanged"));

    const QJsonArray log = keelJson({QStringLiteral("data"), QStringLiteral("log"), QStringLiteral("diamonds")}, ws).array();
    QCOMPARE(log.size(), 2);
    QCOMPARE(log[0].toObject()[QStringLiteral("rows")].toInt(), 53940);
    QCOMPARE(log[1].toObject()[QStringLiteral("rows")].toInt(), 53840);
    QCOMPARE(log[0].toObject()[QStringLiteral("message")].toString(), QStringLiteral("first"));

    // Byte-identical checkouts of both versions, by vN and by commit.
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("checkout"), QStringLiteral("diamonds@v1"), QStringLiteral("-o"),
                 dir.filePath(QStringLiteral("out1.csv"))}, ws));
    QCOMPARE(fileSha(dir.filePath(QStringLiteral("out1.csv"))), fileSha(src));
    const QString commit2 = log[1].toObject()[QStringLiteral("commit")].toString();
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("checkout"), QStringLiteral("diamonds@") + commit2.left(8),
                 QStringLiteral("-o"), dir.filePath(QStringLiteral("out2.csv"))}, ws));
    QCOMPARE(fileSha(dir.filePath(QStringLiteral("out2.csv"))), fileSha(dir.filePath(QStringLiteral("d2.csv"))));

    // A tag names the state it was made at.
    RUN_OK(keel({QStringLiteral("tag"), QStringLiteral("release-1")}, ws));
    const QJsonObject tagged = keelJson({QStringLiteral("data"), QStringLiteral("show"), QStringLiteral("diamonds@release-1")}, ws).object();
    QCOMPARE(tagged[QStringLiteral("version")].toInt(), 2);

    // show: schema and profile; price is int64, cut categorical with 5 values.
    const QJsonObject show = keelJson({QStringLiteral("data"), QStringLiteral("show"), QStringLiteral("diamonds@v1")}, ws).object();
    QCOMPARE(show[QStringLiteral("rows")].toInt(), 53940);
    bool sawPrice = false;
    for (const QJsonValue &c : show[QStringLiteral("schema")].toArray())
        if (c.toObject()[QStringLiteral("name")] == QStringLiteral("price")) {
            QCOMPARE(c.toObject()[QStringLiteral("type")].toString(), QStringLiteral("int64"));
            sawPrice = true;
        }
    QVERIFY(sawPrice);

    // head as JSON gives typed values.
    const QJsonArray head = keelJson({QStringLiteral("data"), QStringLiteral("head"), QStringLiteral("diamonds"),
                                      QStringLiteral("-n"), QStringLiteral("2")}, ws).array();
    QCOMPARE(head.size(), 2);
    QCOMPARE(head[0].toObject()[QStringLiteral("carat")].toDouble(), 0.23);
    QCOMPARE(head[0].toObject()[QStringLiteral("price")].toInt(), 326);
    QCOMPARE(head[0].toObject()[QStringLiteral("cut")].toString(), QStringLiteral("Ideal"));

    // Unknown refs are clear errors.
    Result missing = keel({QStringLiteral("data"), QStringLiteral("show"), QStringLiteral("diamonds@v9")}, ws);
    QCOMPARE(missing.code, 1);
    QVERIFY(missing.err.contains("v1 to v2"));

    // fsck clean, stats show dedup below 2x the data.
    RUN_OK(keel({QStringLiteral("store"), QStringLiteral("fsck")}, ws));
    const QJsonObject stats = keelJson({QStringLiteral("store"), QStringLiteral("stats")}, ws).object();
    QVERIFY(stats[QStringLiteral("logical_bytes")].toDouble() > 1.9 * stats[QStringLiteral("stored_bytes")].toDouble());

    // The audit trail recorded the adds and checkouts.
    const QJsonArray audit = keelJson({QStringLiteral("audit")}, ws).array();
    int adds = 0, checkouts = 0;
    for (const QJsonValue &e : audit) {
        adds += e.toObject()[QStringLiteral("action")] == QStringLiteral("data.add");
        checkouts += e.toObject()[QStringLiteral("action")] == QStringLiteral("data.checkout");
    }
    const QByteArray dump = QJsonDocument(audit).toJson(QJsonDocument::Compact);
    QVERIFY2(adds == 2, dump.constData());
    QVERIFY2(checkouts == 2, dump.constData());
}

void TstCli::badInputLeavesNothing_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("ragged") << QByteArray("a,b,c\n1,2,3\n4,5\n6,7,8\n") << QStringLiteral("t") << QByteArray(":3");
    QTest::newRow("unterminated quote") << QByteArray("a,b\n1,\"x\n2,3\n") << QStringLiteral("t") << QByteArray(":2");
    QTest::newRow("invalid utf-8") << QByteArray("a,b\n1,ok\n2,\xff\xfe\n") << QStringLiteral("t") << QByteArray(":3");
    QTest::newRow("empty") << QByteArray() << QStringLiteral("t") << QByteArray("empty");
    QTest::newRow("slash in name") << QByteArray("a\n1\n") << QStringLiteral("x/y") << QByteArray("/");
    QTest::newRow("dotdot in name") << QByteArray("a\n1\n") << QStringLiteral("..x") << QByteArray("..");
}

void TstCli::badInputLeavesNothing()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, name);
    QFETCH(QByteArray, expected);
    QTemporaryDir dir;
    const QString ws = dir.filePath(QStringLiteral("ws"));
    RUN_OK(keel({QStringLiteral("init"), ws}, dir.path()));
    const QString file = dir.filePath(QStringLiteral("bad.csv"));
    writeFile(file, content);
    const QJsonObject before = keelJson({QStringLiteral("store"), QStringLiteral("stats")}, ws).object();
    Result r = keel({QStringLiteral("data"), QStringLiteral("add"), file, QStringLiteral("--name"), name}, ws);
    QVERIFY(r.code != 0);
    QVERIFY2(r.err.contains(expected), r.err.constData());
    QVERIFY(r.out.isEmpty());
    const QJsonObject after = keelJson({QStringLiteral("store"), QStringLiteral("stats")}, ws).object();
    QCOMPARE(after[QStringLiteral("files")].toInt(), before[QStringLiteral("files")].toInt());
    QCOMPARE(after[QStringLiteral("chunks")].toInt(), before[QStringLiteral("chunks")].toInt());
    QCOMPARE(keelJson({QStringLiteral("data"), QStringLiteral("list")}, ws).array().size(), 0);

    Result missingFile = keel({QStringLiteral("data"), QStringLiteral("add"), dir.filePath(QStringLiteral("nope.csv")),
                               QStringLiteral("--name"), QStringLiteral("n")}, ws);
    QCOMPARE(missingFile.code, 1);
    QVERIFY(missingFile.err.contains("nope.csv"));
}

void TstCli::diffAndValidateOnAdult()
{
    QTemporaryDir dir;
    const QString ws = dir.filePath(QStringLiteral("ws"));
    RUN_OK(keel({QStringLiteral("init"), ws}, dir.path()));
    const QString src = example("adult_train.csv");
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), src, QStringLiteral("--name"), QStringLiteral("adult")}, ws));
    // v2: without the first 1000 data rows.
    QFile f(src);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QList<QByteArray> lines = f.readAll().split('\n');
    while (!lines.isEmpty() && lines.back().isEmpty())
        lines.removeLast();
    QList<QByteArray> v2 = {lines.front()};
    v2 += lines.mid(1001);
    writeFile(dir.filePath(QStringLiteral("v2.csv")), v2.join('\n') + '\n');
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), dir.filePath(QStringLiteral("v2.csv")), QStringLiteral("--name"),
                 QStringLiteral("adult")}, ws));

    const QJsonObject diff = keelJson({QStringLiteral("data"), QStringLiteral("diff"), QStringLiteral("adult@v1"),
                                       QStringLiteral("adult@v2")}, ws).object();
    QCOMPARE(diff[QStringLiteral("rowsA")].toInt(), 32561);
    QCOMPARE(diff[QStringLiteral("rowsB")].toInt(), 31561);
    QCOMPARE(diff[QStringLiteral("columns")].toArray().size(), 15);

    // Rule: age >= 18 fails exactly for the rows with age 17 (counted from the raw text).
    int age17 = 0;
    for (qsizetype i = 1; i < lines.size(); ++i)
        if (lines[i].startsWith("17,"))
            ++age17;
    QVERIFY(age17 > 0);
    writeFile(dir.filePath(QStringLiteral("rules.yaml")), "columns:\n  age:\n    min: 18\n");
    Result val = keel({QStringLiteral("--json"), QStringLiteral("data"), QStringLiteral("validate"), QStringLiteral("adult@v1"),
                       QStringLiteral("--rules"), dir.filePath(QStringLiteral("rules.yaml"))}, ws);
    QCOMPARE(val.code, 1);
    const QJsonObject report = QJsonDocument::fromJson(val.out).object();
    const QJsonArray violations = report[QStringLiteral("violations")].toArray();
    QCOMPARE(violations.size(), 1);
    QCOMPARE(violations[0].toObject()[QStringLiteral("count")].toInt(), age17);

    // Suggested rules pass on the version they came from.
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("rules"), QStringLiteral("suggest"), QStringLiteral("adult@v1"),
                 QStringLiteral("-o"), dir.filePath(QStringLiteral("s.yaml"))}, ws));
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("validate"), QStringLiteral("adult@v1"), QStringLiteral("--rules"),
                 dir.filePath(QStringLiteral("s.yaml"))}, ws));
}

void TstCli::remotesRoundTrip()
{
    QTemporaryDir dir;
    const QString a = dir.filePath(QStringLiteral("a")), b = dir.filePath(QStringLiteral("b"));
    const QString remote = dir.filePath(QStringLiteral("shared-drive/keel"));
    RUN_OK(keel({QStringLiteral("init"), a}, dir.path()));
    const QString v1 = example("bike_hour.csv");
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), v1, QStringLiteral("--name"), QStringLiteral("bike")}, a));
    QFile f(v1);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bike = f.readAll();
    const QByteArray v2 = bike + "\n17380,01/01/13,1,1,1,0,0,2,1,1,0.2,0.2,0.5,0.1,1,2,3";
    writeFile(dir.filePath(QStringLiteral("v2.csv")), v2);
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), dir.filePath(QStringLiteral("v2.csv")), QStringLiteral("--name"),
                 QStringLiteral("bike")}, a));
    RUN_OK(keel({QStringLiteral("remote"), QStringLiteral("add"), QStringLiteral("origin"), remote}, a));
    RUN_OK(keel({QStringLiteral("push")}, a));

    RUN_OK(keel({QStringLiteral("clone"), remote, b}, dir.path()));
    for (int v = 1; v <= 2; ++v) {
        const QString out = dir.filePath(QStringLiteral("b-v%1.csv").arg(v));
        RUN_OK(keel({QStringLiteral("data"), QStringLiteral("checkout"), QStringLiteral("bike@v%1").arg(v), QStringLiteral("-o"), out}, b));
        QCOMPARE(fileSha(out), v == 1 ? fileSha(v1) : fileSha(dir.filePath(QStringLiteral("v2.csv"))));
    }
    RUN_OK(keel({QStringLiteral("store"), QStringLiteral("fsck")}, b));

    const QByteArray v3 = v2 + "\n17381,01/01/13,1,1,1,1,0,2,1,1,0.2,0.2,0.5,0.1,4,5,9\n";
    writeFile(dir.filePath(QStringLiteral("v3.csv")), v3);
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), dir.filePath(QStringLiteral("v3.csv")), QStringLiteral("--name"),
                 QStringLiteral("bike"), QStringLiteral("-m"), QStringLiteral("from b")}, b));
    RUN_OK(keel({QStringLiteral("push")}, b));

    Result pull = keel({QStringLiteral("pull")}, a);
    RUN_OK(pull);
    const QJsonArray log = keelJson({QStringLiteral("data"), QStringLiteral("log"), QStringLiteral("bike")}, a).array();
    QCOMPARE(log.size(), 3);
    QCOMPARE(log[2].toObject()[QStringLiteral("message")].toString(), QStringLiteral("from b"));
    const QString out3 = dir.filePath(QStringLiteral("a-v3.csv"));
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("checkout"), QStringLiteral("bike@v3"), QStringLiteral("-o"), out3}, a));
    QCOMPARE(fileSha(out3), fileSha(dir.filePath(QStringLiteral("v3.csv"))));
    RUN_OK(keel({QStringLiteral("store"), QStringLiteral("fsck")}, a));

    // Diverged histories on different datasets merge; a push from behind is refused with advice.
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), example("diamonds.csv"), QStringLiteral("--name"),
                 QStringLiteral("diamonds")}, a));
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("add"), example("adult_test.csv"), QStringLiteral("--name"),
                 QStringLiteral("adult_test")}, b));
    RUN_OK(keel({QStringLiteral("push")}, b));
    Result behind = keel({QStringLiteral("push")}, a);
    QCOMPARE(behind.code, 1);
    QVERIFY(behind.err.contains("pull"));
    RUN_OK(keel({QStringLiteral("pull")}, a));
    const QJsonArray list = keelJson({QStringLiteral("data"), QStringLiteral("list")}, a).array();
    QCOMPARE(list.size(), 3);
    RUN_OK(keel({QStringLiteral("push")}, a));
}

void TstCli::concurrentAdds()
{
    QTemporaryDir dir;
    const QString ws = dir.filePath(QStringLiteral("ws"));
    RUN_OK(keel({QStringLiteral("init"), ws}, dir.path()));
    QProcess p1, p2;
    p1.setWorkingDirectory(ws);
    p2.setWorkingDirectory(ws);
    p1.start(QStringLiteral(KEEL_BINARY), {QStringLiteral("data"), QStringLiteral("add"), example("adult_train.csv"),
                                           QStringLiteral("--name"), QStringLiteral("one")});
    p2.start(QStringLiteral(KEEL_BINARY), {QStringLiteral("data"), QStringLiteral("add"), example("diamonds.csv"),
                                           QStringLiteral("--name"), QStringLiteral("two")});
    QVERIFY(p1.waitForFinished(120000));
    QVERIFY(p2.waitForFinished(120000));
    QVERIFY2(p1.exitCode() == 0, p1.readAllStandardError().constData());
    QVERIFY2(p2.exitCode() == 0, p2.readAllStandardError().constData());
    QCOMPARE(keelJson({QStringLiteral("data"), QStringLiteral("list")}, ws).array().size(), 2);
    RUN_OK(keel({QStringLiteral("store"), QStringLiteral("fsck")}, ws));
}

void TstCli::killDuringAdd()
{
    QTemporaryDir dir;
    const QString ws = dir.filePath(QStringLiteral("ws"));
    RUN_OK(keel({QStringLiteral("init"), ws}, dir.path()));
    const QString big = dir.filePath(QStringLiteral("big.csv"));
    QVERIFY(writeBigCsv(big));
    // Kill at several points of the add: early (parsing), later (storing).
    for (int delayMs : {150, 600, 1200}) {
        QProcess p;
        p.setWorkingDirectory(ws);
        p.start(QStringLiteral(KEEL_BINARY), {QStringLiteral("data"), QStringLiteral("add"), big, QStringLiteral("--name"),
                                              QStringLiteral("big")});
        QVERIFY(p.waitForStarted());
        QTest::qWait(delayMs);
        p.kill(); // SIGKILL
        p.waitForFinished();
        if (p.exitStatus() == QProcess::NormalExit) {
            qInfo("add finished before the kill at %d ms", delayMs);
            break;
        }
        RUN_OK(keel({QStringLiteral("store"), QStringLiteral("fsck")}, ws));
        // Killed before the commit: no version. Killed after it (the add is fast now, and a process can be killed
        // while it exits): one version, which must then be whole; the checks below read it back byte for byte.
        const qsizetype listed = keelJson({QStringLiteral("data"), QStringLiteral("list")}, ws).array().size();
        if (listed == 1) {
            qInfo("the kill at %d ms came after the commit", delayMs);
            break;
        }
        QCOMPARE(listed, qsizetype(0));
    }
    RUN_OK(keel({QStringLiteral("store"), QStringLiteral("fsck")}, ws));
    // Re-running the add succeeds and commits exactly one version.
    Result again = keel({QStringLiteral("data"), QStringLiteral("add"), big, QStringLiteral("--name"), QStringLiteral("big")}, ws);
    RUN_OK(again);
    const QJsonArray log = keelJson({QStringLiteral("data"), QStringLiteral("log"), QStringLiteral("big")}, ws).array();
    QVERIFY(log.size() == 1);
    QCOMPARE(log[0].toObject()[QStringLiteral("rows")].toInt(), 3'000'000);
    RUN_OK(keel({QStringLiteral("store"), QStringLiteral("gc")}, ws));
    RUN_OK(keel({QStringLiteral("store"), QStringLiteral("fsck")}, ws));
    const QString out = dir.filePath(QStringLiteral("back.csv"));
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("checkout"), QStringLiteral("big"), QStringLiteral("-o"), out}, ws));
    QCOMPARE(fileSha(out), fileSha(big));
}

void TstCli::interruptCancelsCleanly()
{
    // Ctrl-C (SIGINT) or SIGTERM in the middle of an add cancels it: exit code 130, "cancelled" on stderr, no version,
    // and none of the temporary packs a kill leaves for `keel store gc`. A second signal is not needed.
    QTemporaryDir dir;
    const QString ws = dir.filePath(QStringLiteral("ws"));
    RUN_OK(keel({QStringLiteral("init"), ws}, dir.path()));
    const QString big = dir.filePath(QStringLiteral("big.csv"));
    QVERIFY(writeBigCsv(big));
    struct Case {
        QStringList args;
        int delayMs;
        int signal;
    };
    const QStringList add{QStringLiteral("data"), QStringLiteral("add"), big, QStringLiteral("--name"), QStringLiteral("big")};
    const QList<Case> cases{{add, 100, SIGINT},
                            {add, 400, SIGTERM},
                            {add + QStringList{QStringLiteral("--no-parse")}, 60, SIGINT},
                            {{QStringLiteral("data"), QStringLiteral("inspect"), big}, 300, SIGINT}};
    int interrupted = 0;
    for (const Case &c : cases) {
        QProcess p;
        p.setWorkingDirectory(ws);
        p.start(QStringLiteral(KEEL_BINARY), c.args);
        QVERIFY(p.waitForStarted());
        QTest::qWait(c.delayMs);
        ::kill(pid_t(p.processId()), c.signal);
        QVERIFY(p.waitForFinished(60000));
        const QByteArray what = c.args.join(QLatin1Char(' ')).toUtf8() + " after " + QByteArray::number(c.delayMs) + " ms";
        QVERIFY2(p.exitStatus() == QProcess::NormalExit, what.constData());   // not ended by the signal itself
        if (p.exitCode() == 0) {
            qInfo("%s: finished before the signal", what.constData());
            continue;
        }
        ++interrupted;
        QCOMPARE(p.exitCode(), 130);
        QCOMPARE(p.readAllStandardError().trimmed(), QByteArray("keel: cancelled"));
        QCOMPARE(keelJson({QStringLiteral("data"), QStringLiteral("list")}, ws).array().size(), qsizetype(0));
        QVERIFY2(filesIn(ws + QStringLiteral("/.keel/objects/tmp")).isEmpty(),
                 qPrintable(filesIn(ws + QStringLiteral("/.keel/objects/tmp")).join(QLatin1Char(' '))));
        QVERIFY(filesIn(ws + QStringLiteral("/.keel/tmp")).isEmpty());
        RUN_OK(keel({QStringLiteral("store"), QStringLiteral("fsck")}, ws));
    }
    QVERIFY2(interrupted >= 2, "the signals came too late to interrupt anything");
    // The workspace is as before: the add then runs to the end.
    RUN_OK(keel(add, ws));
    QCOMPARE(keelJson({QStringLiteral("data"), QStringLiteral("list")}, ws).array().size(), qsizetype(1));
}

void TstCli::storeFailureStopsTheAdd()
{
    // The store fails while the parse runs (here a 16 MiB limit on file size stands in for a full disk): the add stops
    // and reports the store's error (not "cancelled"), and leaves no version and no temporary packs behind.
    QTemporaryDir dir;
    const QString ws = dir.filePath(QStringLiteral("ws"));
    RUN_OK(keel({QStringLiteral("init"), ws}, dir.path()));
    const QString big = dir.filePath(QStringLiteral("big.csv"));
    QVERIFY(writeBigCsv(big));
    QProcess p;
    p.setWorkingDirectory(ws);
    p.setChildProcessModifier([] {
        ::signal(SIGXFSZ, SIG_IGN);   // a write past the limit then fails with EFBIG instead of ending the process
        const rlimit limit{16 << 20, 16 << 20};
        ::setrlimit(RLIMIT_FSIZE, &limit);
    });
    p.start(QStringLiteral(KEEL_BINARY), {QStringLiteral("data"), QStringLiteral("add"), big, QStringLiteral("--name"),
                                          QStringLiteral("big")});
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    const QByteArray err = p.readAllStandardError();
    QCOMPARE(p.exitCode(), 1);
    QVERIFY2(err.startsWith("keel: error: ") && err.contains("/.keel/objects/tmp/pack-") && err.contains("File too large"),
             err.constData());
    QCOMPARE(keelJson({QStringLiteral("data"), QStringLiteral("list")}, ws).array().size(), qsizetype(0));
    QVERIFY2(filesIn(ws + QStringLiteral("/.keel/objects/tmp")).isEmpty(),
             qPrintable(filesIn(ws + QStringLiteral("/.keel/objects/tmp")).join(QLatin1Char(' '))));
    RUN_OK(keel({QStringLiteral("store"), QStringLiteral("fsck")}, ws));
}

void TstCli::noParseStoresBytesOnly()
{
    // --no-parse stores and commits the bytes (DVC's job) and says the version is not parsed; the first use parses it
    // exactly as a parsed add would have; re-adding the same bytes parsed later is a version with the schema.
    QTemporaryDir dir;
    const QString ws = dir.filePath(QStringLiteral("ws"));
    RUN_OK(keel({QStringLiteral("init"), ws}, dir.path()));
    const QString file = example("adult_train.csv");
    const QJsonObject added = keelJson({QStringLiteral("data"), QStringLiteral("add"), file, QStringLiteral("--name"),
                                        QStringLiteral("raw"), QStringLiteral("--no-parse")}, ws).object();
    QCOMPARE(added[QStringLiteral("parsed")].toBool(true), false);
    QVERIFY(added[QStringLiteral("rows")].isNull());
    QCOMPARE(added[QStringLiteral("content_id")].toString().size(), 64);
    const Result show = keel({QStringLiteral("data"), QStringLiteral("show"), QStringLiteral("raw")}, ws);
    RUN_OK(show);
    QVERIFY2(show.out.contains("not parsed yet"), show.out.constData());
    QVERIFY(keel({QStringLiteral("data"), QStringLiteral("list")}, ws).out.contains("not parsed"));
    const QString back = dir.filePath(QStringLiteral("back.csv"));
    RUN_OK(keel({QStringLiteral("data"), QStringLiteral("checkout"), QStringLiteral("raw"), QStringLiteral("-o"), back}, ws));
    QCOMPARE(fileSha(back), fileSha(file));
    // First use parses it: the rows are those of a parsed add of the same file.
    const QJsonObject parsed = keelJson({QStringLiteral("data"), QStringLiteral("add"), file, QStringLiteral("--name"),
                                         QStringLiteral("typed")}, ws).object();
    QCOMPARE(parsed[QStringLiteral("parsed")].toBool(), true);
    QCOMPARE(parsed[QStringLiteral("content_id")], added[QStringLiteral("content_id")]);
    const Result rawHead = keel({QStringLiteral("--json"), QStringLiteral("data"), QStringLiteral("head"), QStringLiteral("raw"),
                                 QStringLiteral("-n"), QStringLiteral("50")}, ws);
    const Result typedHead = keel({QStringLiteral("--json"), QStringLiteral("data"), QStringLiteral("head"), QStringLiteral("typed"),
                                   QStringLiteral("-n"), QStringLiteral("50")}, ws);
    RUN_OK(rawHead);
    RUN_OK(typedHead);
    QVERIFY(!rawHead.out.isEmpty());
    QCOMPARE(rawHead.out, typedHead.out);
    // A model trained on the unparsed version registers with a typed, ranged input schema (from the table itself).
    writeFile(dir.filePath(QStringLiteral("raw.yaml")),
              "name: raw-ridge\ndata: raw\ntarget: age\ntask: regression\nlearner: ridge\n"
              "recipe: {features: [hours_per_week, education_num, sex]}\n"
              "split: {kind: holdout, test_fraction: 0.2, seed: 1}\n");
    const QString run = keelJson({QStringLiteral("train"), dir.filePath(QStringLiteral("raw.yaml"))}, ws).object()[QStringLiteral("run")].toString();
    QVERIFY(!run.isEmpty());
    RUN_OK(keel({QStringLiteral("models"), QStringLiteral("register"), run, QStringLiteral("--name"), QStringLiteral("raw")}, ws));
    const QJsonArray schema = keelJson({QStringLiteral("models"), QStringLiteral("show"), QStringLiteral("raw@v1")}, ws)
                                  .object()[QStringLiteral("schema")].toArray();
    QCOMPARE(schema.size(), 3);
    for (const QJsonValue &f : schema)
        QVERIFY2(!f.toObject()[QStringLiteral("type")].toString().isEmpty(), qPrintable(f.toObject()[QStringLiteral("name")].toString()));
    // --type needs a parse.
    const Result typed = keel({QStringLiteral("data"), QStringLiteral("add"), file, QStringLiteral("--name"), QStringLiteral("t2"),
                               QStringLiteral("--no-parse"), QStringLiteral("--type"), QStringLiteral("age=float64")}, ws);
    QVERIFY(typed.code != 0 && typed.err.contains("--type"));
    // Adding the same bytes again with --no-parse changes nothing; adding them parsed records the schema.
    const QJsonObject again = keelJson({QStringLiteral("data"), QStringLiteral("add"), file, QStringLiteral("--name"),
                                        QStringLiteral("typed"), QStringLiteral("--no-parse")}, ws).object();
    QCOMPARE(again[QStringLiteral("unchanged")].toBool(), true);
    const QJsonObject promoted = keelJson({QStringLiteral("data"), QStringLiteral("add"), file, QStringLiteral("--name"),
                                           QStringLiteral("raw")}, ws).object();
    QCOMPARE(promoted[QStringLiteral("parsed")].toBool(), true);
    QCOMPARE(promoted[QStringLiteral("version")].toInt(), 2);
    QCOMPARE(promoted[QStringLiteral("rows")].toInt(), 32561);
    RUN_OK(keel({QStringLiteral("store"), QStringLiteral("fsck")}, ws));
}

void TstCli::runTableText()
{
    // `runs list` as text: one aligned row per run with the cells its --json gives, long names cut with an
    // ellipsis by characters (not bytes), and durations rounded half up from whole milliseconds.
    QTemporaryDir dir;
    const QString ws = dir.filePath(QStringLiteral("ws"));
    RUN_OK(keel({QStringLiteral("init"), ws}, dir.path()));
    RUN_OK(keel({QStringLiteral("runs"), QStringLiteral("list")}, ws));   // creates the tracking database
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("direct"));
        db.setDatabaseName(ws + QStringLiteral("/.keel/keel.db"));
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY(q.exec(QStringLiteral("INSERT INTO experiments (name, created_at) VALUES ('default', '2026-05-01T00:00:00.000Z')")));
        const QDateTime t0(QDate(2026, 5, 1), QTime(9, 0), Qt::UTC);
        const struct {
            const char *name;
            qint64 durationMs;   // < 0: still running
            const char *metric;
            double value;
        } runs[] = {{"short", 36550, "test.accuracy", 0.875},
                    {"\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
                     "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
                     "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
                     "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
                     "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
                     "\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc\u00fc"
                     "\u00fc\u00fc", 250, "test.rmse", 1234.5},
                    {"minutes", 125000, nullptr, 0},
                    {"hours", 7'260'000, "test.accuracy", 1.0 / 3},
                    {"running", -1, nullptr, 0},
                    {"edge", 59'960, nullptr, 0}};   // 60.0 s once rounded: a minute
        int i = 0;
        for (const auto &spec : runs) {
            const QString id = QStringLiteral("%1").arg(i + 1, 32, 10, QLatin1Char('0'));
            const QDateTime start = t0.addSecs(60 * i++);
            q.prepare(QStringLiteral("INSERT INTO runs (id, experiment_id, name, status, user_name, host, pid, start_time, end_time, config)"
                                     " VALUES (?, 1, ?, ?, 'ann', 'node1', 1, ?, ?, '')"));
            q.addBindValue(id);
            q.addBindValue(QString::fromUtf8(spec.name));
            q.addBindValue(spec.durationMs < 0 ? QStringLiteral("running") : QStringLiteral("finished"));
            q.addBindValue(start.toString(Qt::ISODateWithMs));
            q.addBindValue(spec.durationMs < 0 ? QVariant(QMetaType::fromType<QString>()) : QVariant(start.addMSecs(spec.durationMs).toString(Qt::ISODateWithMs)));
            QVERIFY2(q.exec(), qPrintable(q.lastError().text()));
            if (spec.metric) {
                q.prepare(QStringLiteral("INSERT INTO metrics VALUES (?, ?, 0, ?, '2026-05-02T00:00:00.000Z')"));
                q.addBindValue(id);
                q.addBindValue(QString::fromUtf8(spec.metric));
                q.addBindValue(spec.value);
                QVERIFY(q.exec());
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("direct"));

    const Result text = keel({QStringLiteral("runs"), QStringLiteral("list")}, ws);
    RUN_OK(text);
    const QJsonArray json = keelJson({QStringLiteral("runs"), QStringLiteral("list")}, ws).array();
    const QStringList lines = QString::fromUtf8(text.out).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), json.size() + 1);
    QCOMPARE(json.size(), 6);
    // Columns line up: every row's status and start begin where the header's do.
    const qsizetype statusAt = lines[0].indexOf(QStringLiteral("status")), startAt = lines[0].indexOf(QStringLiteral("start"));
    const QString cut = QString(59, QChar(0xfc)) + QChar(0x2026);
    const QStringList durations{QStringLiteral("36.6s"), QStringLiteral("0.3s"), QStringLiteral("2m05s"), QStringLiteral("2h01m"),
                                QStringLiteral("-"), QStringLiteral("1m00s")};
    const QStringList metrics{QStringLiteral("accuracy=0.875"), QStringLiteral("rmse=1234.5"), QString(),
                              QStringLiteral("accuracy=0.333333"), QString(), QString()};
    for (qsizetype i = 0; i < json.size(); ++i) {
        const QJsonObject r = json[i].toObject();
        const QString &line = lines[i + 1];
        QVERIFY2(line.startsWith(r[QStringLiteral("id")].toString().left(8) + QStringLiteral("  default  ")), qPrintable(line));
        const QString name = r[QStringLiteral("name")].toString();
        QVERIFY2(line.contains(name.size() > 60 ? cut : name), qPrintable(line));
        QCOMPARE(line.mid(statusAt).section(QLatin1Char(' '), 0, 0), r[QStringLiteral("status")].toString());
        const QDateTime start = QDateTime::fromString(r[QStringLiteral("start")].toString(), Qt::ISODateWithMs);
        QCOMPARE(line.mid(startAt, 19), start.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")));
        const QStringList rest = line.mid(startAt + 19).split(QLatin1Char(' '), Qt::SkipEmptyParts);
        QCOMPARE(rest.value(0), durations[i]);
        QCOMPARE(rest.value(1), metrics[i]);
        // The duration column is right-aligned: its cells end at one column.
        QCOMPARE(line.indexOf(durations[i], startAt + 19) + durations[i].size(), lines[1].indexOf(durations[0], startAt + 19) + durations[0].size());
    }
    QCOMPARE(lines[2].indexOf(cut) + 60 + 2, statusAt);   // the longest name sets the column's width: 60
}

QTEST_GUILESS_MAIN(TstCli)
#include "tst_cli.moc"
