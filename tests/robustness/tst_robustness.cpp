// Replays the hostile and unlucky cases of the "nothing lost, nothing overwritten" issue against the real keel
// binary: each case failed (lost data, overwrote a file, hung, or said nothing useful) before it was fixed.
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include "../cli/clitest.h"

#include "store/objectstore.h"
#include "workspace/workspace.h"

#include <sys/stat.h>
#include <unistd.h>

using namespace clitest;

namespace {

QString S(const char *s) { return QString::fromUtf8(s); }

Result run(const QStringList &args, const QString &cwd, int timeoutMs = 300000)
{
    return clitest::keel(args, cwd, timeoutMs);
}

/// A small regression table (300 rows) that trains in well under a second.
QByteArray smallCsv()
{
    QByteArray out = "x1,x2,colour,y\n";
    for (int i = 0; i < 300; ++i) {
        const double x1 = (i % 17) * 0.5, x2 = (i % 5) - 2.0;
        const char *colour = i % 3 == 0 ? "red" : i % 3 == 1 ? "green" : "blue";
        out += QByteArray::number(x1) + ',' + QByteArray::number(x2) + ',' + colour + ','
               + QByteArray::number(3.0 * x1 - 2.0 * x2 + (i % 3) + 0.01 * (i % 7)) + '\n';
    }
    return out;
}

const char *kRidgeConfig = "experiment: robust\n"
                           "data: small\n"
                           "target: y\n"
                           "split: {kind: holdout, test_fraction: 0.2, seed: 1}\n"
                           "learner: ridge\n"
                           "params: {alpha: 1.0}\n";

/// A workspace with one dataset "small" in `dir`/ws.
QString makeWorkspace(const QTemporaryDir &dir)
{
    const QString ws = dir.filePath(S("ws"));
    if (run({S("init"), ws}, dir.path()).code != 0)
        return {};
    const QString csv = dir.filePath(S("small.csv"));
    QFile f(csv);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write(smallCsv());
    f.close();
    if (run({S("data"), S("add"), csv, S("--name"), S("small")}, ws).code != 0)
        return {};
    QDir(ws).mkpath(S("configs"));
    QFile c(ws + S("/configs/ridge.yaml"));
    if (!c.open(QIODevice::WriteOnly))
        return {};
    c.write(kRidgeConfig);
    return ws;
}

QString trainRun(const QString &ws)
{
    const Result r = run({S("--json"), S("train"), S("configs/ridge.yaml")}, ws);
    if (r.code != 0) {
        qWarning("train failed: %s", r.err.constData());
        return {};
    }
    return QJsonDocument::fromJson(r.out).object().value(S("run")).toString();
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

int commitCount(const QString &ws)
{
    QProcess git;
    git.setWorkingDirectory(ws);
    git.start(S("git"), {S("rev-list"), S("--count"), S("HEAD")});
    git.waitForFinished();
    return git.readAllStandardOutput().trimmed().toInt();
}

/// Runs `sql` on the workspace's tracking database from this process (what a failing disk or a tamperer does).
bool execSql(const QString &ws, const QString &sql)
{
    const QString name = QUuid::createUuid().toString();
    bool ok = false;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(S("QSQLITE"), name);
        db.setDatabaseName(ws + S("/.keel/keel.db"));
        if (db.open()) {
            QSqlQuery q(db);
            ok = q.exec(sql);
            if (!ok)
                qWarning("%s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return ok;
}

} // namespace

class TstRobustness : public QObject {
    Q_OBJECT
private slots:
    void gcKeepsRunArtifacts();
    void fsckChecksRunArtifacts();
    void gcWaitsForWritersThatHaveNotCommitted();
    void staleTemporariesRemovedAtNextWrite();
    void gcCountsLeftovers();
    void failedAuditUndoesTheCommit();
    void missingAuditEventIsRepairedOnRerun();
    void damagedDatabaseIsNeverRecreated_data();
    void damagedDatabaseIsNeverRecreated();
    void checkoutNeverReplacesWhatTheUserDidNotName();
    void yamlAliasBombsAreRefused_data();
    void yamlAliasBombsAreRefused();
    void configValuesAreNeverSilentlyIgnored_data();
    void configValuesAreNeverSilentlyIgnored();
    void runtimeConfigErrorsNameFileLineAndField_data();
    void runtimeConfigErrorsNameFileLineAndField();
    void hugeCellsStayOutOfThePointerFile();
    void oddInputFiles();
    void unterminatedQuoteNamesWhereItOpened();
    void failedCloneLeavesNothingBehind();
    void refusedPullLeavesTrackingRefsAlone();
    void remotesInsideTheWorkspaceAreRefused_data();
    void remotesInsideTheWorkspaceAreRefused();
    void dashCResolvesEveryPath();
};

void TstRobustness::gcKeepsRunArtifacts()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    QVERIFY(!ws.isEmpty());
    const QString runId = trainRun(ws);
    QVERIFY(!runId.isEmpty());
    RUN_OK(run({S("store"), S("gc")}, ws));
    const Result fsck = run({S("store"), S("fsck")}, ws);
    QVERIFY2(fsck.code == 0, fsck.out.constData());
    // The model, recipe and predictions are still there: the run can be explained.
    const Result explain = run({S("explain"), runId, S("--rows"), S("1-3")}, ws);
    QVERIFY2(explain.code == 0, explain.err.constData());
    const Result again = run({S("explain"), runId, S("--rows"), S("1-3")}, ws);
    QCOMPARE(again.code, 0);
    // The explanation stored as an artifact survives gc too.
    RUN_OK(run({S("store"), S("gc")}, ws));
    const Result after = run({S("--json"), S("store"), S("fsck")}, ws);
    QCOMPARE(after.code, 0);
    RUN_OK(run({S("explain"), runId, S("--rows"), S("1-3")}, ws));
}

void TstRobustness::fsckChecksRunArtifacts()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    const QString runId = trainRun(ws);
    QVERIFY(!runId.isEmpty());
    // Remove the model's manifest by hand (what the old gc did): fsck must name the run and artifact.
    const QJsonObject shown = QJsonDocument::fromJson(run({S("--json"), S("runs"), S("show"), runId}, ws).out).object();
    QString modelObject;
    for (const QJsonValue &a : shown.value(S("artifacts")).toArray())
        if (a.toObject().value(S("name")).toString() == u"model")
            modelObject = a.toObject().value(S("object")).toString();
    QVERIFY2(modelObject.size() == 64, QJsonDocument(shown).toJson().constData());
    QVERIFY(QFile::remove(ws + S("/.keel/objects/manifests/") + modelObject.left(2) + QLatin1Char('/') + modelObject.mid(2)));
    const Result fsck = run({S("store"), S("fsck")}, ws);
    QCOMPARE(fsck.code, 1);
    QVERIFY2(fsck.out.contains(QByteArray(QByteArray("MISSING ") + modelObject.toLatin1())), fsck.out.constData());
    QVERIFY2(fsck.out.contains("artifact model"), fsck.out.constData());
    QVERIFY(fsck.out.contains(runId.left(8).toLatin1()));
}

void TstRobustness::gcWaitsForWritersThatHaveNotCommitted()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    QVERIFY(!ws.isEmpty());
    auto opened = keel::workspace::Workspace::open(ws);
    QVERIFY(opened);
    QString id;
    QProcess gc;
    {
        // A writer between its object write and its commit: the object is referenced by nothing yet.
        auto guard = (*opened)->guardObjectWrites();
        QVERIFY(guard);
        auto added = (*opened)->store().addBytes(QByteArrayLiteral("bytes whose reference is on its way"));
        QVERIFY(added);
        id = added->id;
        gc.setWorkingDirectory(ws);
        gc.start(S(KEEL_BINARY), {S("store"), S("gc")});
        QVERIFY(gc.waitForStarted());
        QVERIFY2(!gc.waitForFinished(1500), "gc ran while a writer had not committed");
        QVERIFY((*opened)->store().contains(id));
    }
    // The writer is gone without committing: now gc may run, and collects the unreferenced object.
    QVERIFY(gc.waitForFinished(60000));
    QCOMPARE(gc.exitCode(), 0);
    QVERIFY(gc.readAllStandardError().contains("waiting for running writes"));
    auto reopened = keel::store::ObjectStore::open(ws + S("/.keel/objects"), false);
    QVERIFY(reopened);
    QVERIFY(!(*reopened)->contains(id));
}

void TstRobustness::staleTemporariesRemovedAtNextWrite()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    // What a kill -9 during an add leaves: a partial pack without idx and a temporary file.
    const QString tmp = ws + S("/.keel/objects/tmp/obj-killed.tmp");
    const QString pack = ws + S("/.keel/objects/packs/pack-") + QString(64, QLatin1Char('a')) + S(".pack");
    QFile a(tmp), b(pack);
    QVERIFY(a.open(QIODevice::WriteOnly) && b.open(QIODevice::WriteOnly));
    a.write(QByteArray(1 << 20, 'x'));
    b.write(QByteArray(1 << 20, 'y'));
    a.close();
    b.close();
    QFile c(dir.filePath(S("other.csv")));
    QVERIFY(c.open(QIODevice::WriteOnly));
    c.write("a,b\n1,2\n3,4\n");
    c.close();
    RUN_OK(run({S("data"), S("add"), dir.filePath(S("other.csv")), S("--name"), S("other")}, ws));
    QVERIFY(!QFile::exists(tmp));
    QVERIFY(!QFile::exists(pack));
    RUN_OK(run({S("store"), S("fsck")}, ws));
}

void TstRobustness::gcCountsLeftovers()
{
    // A killed add leaves staged packs in tmp/ (and, from older versions, packs without idx): gc removes them and
    // says how many, in text and JSON.
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    for (const QString &path : QStringList{ws + S("/.keel/objects/tmp/pack-1234-killed.tmp"),
                                            ws + S("/.keel/objects/packs/pack-") + QString(64, QLatin1Char('b')) + S(".pack")}) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(1 << 20, 'z'));
    }
    const Result gc = run({S("--json"), S("store"), S("gc")}, ws);
    RUN_OK(gc);
    const QJsonObject report = QJsonDocument::fromJson(gc.out).object();
    QCOMPARE(report.value(S("leftovers_removed")).toInt(), 2);
    QVERIFY(report.value(S("bytes_freed")).toDouble() >= 2 << 20);
    QVERIFY(QDir(ws + S("/.keel/objects/tmp")).entryList(QDir::Files).isEmpty());
    const Result again = run({S("store"), S("gc")}, ws);
    RUN_OK(again);
    QVERIFY2(!again.out.contains("leftover"), again.out.constData());
}

void TstRobustness::failedAuditUndoesTheCommit()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    const int before = commitCount(ws);
    // The audit write fails after the git commit (as on a full disk): the commit must not stay.
    QVERIFY(execSql(ws, S("CREATE TRIGGER fail_audit BEFORE INSERT ON audit_events "
                         "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END")));
    QFile c(dir.filePath(S("second.csv")));
    QVERIFY(c.open(QIODevice::WriteOnly));
    c.write("a,b\n1,2\n3,4\n");
    c.close();
    const Result add = run({S("data"), S("add"), dir.filePath(S("second.csv")), S("--name"), S("second")}, ws);
    QCOMPARE(add.code, 1);
    QVERIFY2(add.err.contains("disk is full"), add.err.constData());
    QCOMPARE(commitCount(ws), before);
    QVERIFY(!QFile::exists(ws + S("/datasets/second.yaml")));
    const Result list = run({S("data"), S("list")}, ws);
    QVERIFY(!list.out.contains("second"));
    // Space again: the same add now commits, with its event.
    QVERIFY(execSql(ws, S("DROP TRIGGER fail_audit")));
    RUN_OK(run({S("data"), S("add"), dir.filePath(S("second.csv")), S("--name"), S("second")}, ws));
    QCOMPARE(commitCount(ws), before + 1);
    QVERIFY(run({S("audit"), S("second")}, ws).out.contains("data.add"));
}

void TstRobustness::missingAuditEventIsRepairedOnRerun()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    // A commit whose event was lost (the undo failed too): a re-run of the same add records it.
    QVERIFY(execSql(ws, S("DELETE FROM audit_events WHERE action = 'data.add' AND subject = 'small'")));
    QVERIFY(!run({S("audit"), S("small")}, ws).out.contains("data.add"));
    const Result again = run({S("data"), S("add"), dir.filePath(S("small.csv")), S("--name"), S("small")}, ws);
    QCOMPARE(again.code, 0);
    QVERIFY(again.out.contains("unchanged"));
    const QJsonArray events = QJsonDocument::fromJson(run({S("--json"), S("audit"), S("small")}, ws).out).array();
    bool found = false;
    for (const QJsonValue &e : events)
        found = found || e.toObject().value(S("action")).toString() == u"data.add";
    QVERIFY2(found, QJsonDocument(events).toJson().constData());
}

void TstRobustness::damagedDatabaseIsNeverRecreated_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QByteArray>("words");
    QTest::newRow("0 bytes") << QByteArray() << QByteArray("empty (0 bytes)");
    QTest::newRow("garbage") << QByteArray(8192, '\x5a') << QByteArray("damaged");
}

void TstRobustness::damagedDatabaseIsNeverRecreated()
{
    QFETCH(QByteArray, content);
    QFETCH(QByteArray, words);
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    const QString db = ws + S("/.keel/keel.db");
    for (const char *suffix : {"-wal", "-shm"})
        QFile::remove(db + QLatin1String(suffix));
    QFile f(db);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(content);
    f.close();
    for (const QStringList &args : {QStringList{S("audit")}, QStringList{S("runs"), S("list")},
                                    QStringList{S("train"), S("configs/ridge.yaml")}}) {
        const Result r = run(args, ws);
        QVERIFY2(r.code != 0, qPrintable(args.join(QLatin1Char(' '))));
        QVERIFY2(r.err.contains(words), r.err.constData());
        QVERIFY2(r.err.contains("mv "), r.err.constData());   // the recovery path
        QCOMPARE(readAll(db), content);                        // never replaced
    }
}

void TstRobustness::checkoutNeverReplacesWhatTheUserDidNotName()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    const QByteArray original = smallCsv();
    const QByteArray dbBefore = readAll(ws + S("/.keel/keel.db"));
    const QByteArray headBefore = readAll(ws + S("/.git/HEAD"));

    // Inside .keel/ or .git/: refused, untouched.
    for (const QString &target : {S(".keel/keel.db"), S(".git/HEAD"), S(".git/new-file")}) {
        const Result r = run({S("data"), S("checkout"), S("small"), S("-o"), target}, ws);
        QVERIFY2(r.code != 0, qPrintable(target));
        QVERIFY2(r.err.contains("refusing to write inside"), r.err.constData());
    }
    QCOMPARE(readAll(ws + S("/.keel/keel.db")), dbBefore);
    QCOMPARE(readAll(ws + S("/.git/HEAD")), headBefore);
    QVERIFY(!QFile::exists(ws + S("/.git/new-file")));

    // A symbolic link and a FIFO are not replaced by a plain file.
    const QString victim = dir.filePath(S("victim.txt"));
    QFile v(victim);
    QVERIFY(v.open(QIODevice::WriteOnly));
    v.write("keep me");
    v.close();
    QVERIFY(QFile::link(victim, dir.filePath(S("link.csv"))));
    Result r = run({S("data"), S("checkout"), S("small"), S("-o"), dir.filePath(S("link.csv")), S("--force")}, ws);
    QVERIFY(r.code != 0);
    QVERIFY2(r.err.contains("symbolic link"), r.err.constData());
    QVERIFY(QFileInfo(dir.filePath(S("link.csv"))).isSymLink());
    QCOMPARE(readAll(victim), QByteArray("keep me"));
    const QString fifo = dir.filePath(S("fifo"));
    QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
    r = run({S("data"), S("checkout"), S("small"), S("-o"), fifo, S("--force")}, ws, 30000);
    QVERIFY(r.code != 0);
    QVERIFY2(r.err.contains("FIFO"), r.err.constData());
    struct stat st {};
    QVERIFY(::lstat(QFile::encodeName(fifo).constData(), &st) == 0 && S_ISFIFO(st.st_mode));

    // An existing file: only with --force.
    r = run({S("data"), S("checkout"), S("small"), S("-o"), victim}, ws);
    QVERIFY(r.code != 0);
    QVERIFY2(r.err.contains("--force"), r.err.constData());
    QCOMPARE(readAll(victim), QByteArray("keep me"));
    RUN_OK(run({S("data"), S("checkout"), S("small"), S("-o"), victim, S("--force")}, ws));
    QCOMPARE(readAll(victim), original);

    // -o - streams the bytes to stdout.
    r = run({S("data"), S("checkout"), S("small"), S("-o"), S("-")}, ws);
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, original);

    // The same policy for rules suggest -o.
    r = run({S("data"), S("rules"), S("suggest"), S("small"), S("-o"), S(".keel/rules.yaml")}, ws);
    QVERIFY(r.code != 0);
    QVERIFY(!QFile::exists(ws + S("/.keel/rules.yaml")));
}

namespace {

/// Nine levels of nested aliases: about 10^9 nodes when expanded.
QByteArray aliasBomb(const QByteArray &key)
{
    QByteArray y = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
    for (char c = 'b'; c <= 'i'; ++c) {
        const char prev = char(c - 1);
        y += QByteArray(1, c) + ": &" + c + " [";
        for (int i = 0; i < 10; ++i)
            y += QByteArray(i ? "," : "") + "*" + prev;
        y += "]\n";
    }
    return y + key + ": *i\n";
}

} // namespace

void TstRobustness::yamlAliasBombsAreRefused_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QStringList>("args");
    QTest::newRow("training config") << S("configs/bomb.yaml") << QStringList{S("train"), S("configs/bomb.yaml")};
    QTest::newRow("sweep") << S("configs/bomb.yaml") << QStringList{S("sweep"), S("configs/bomb.yaml"), S("--grid")};
    QTest::newRow("rules") << S("bomb-rules.yaml") << QStringList{S("data"), S("validate"), S("small"), S("--rules"), S("bomb-rules.yaml")};
}

void TstRobustness::yamlAliasBombsAreRefused()
{
    QFETCH(QString, file);
    QFETCH(QStringList, args);
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    QFile f(ws + QLatin1Char('/') + file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(kRidgeConfig);
    f.write(aliasBomb("extra"));
    f.close();
    // Refused at once (the old reader grew past 3 GB and never finished: the timeout catches that).
    const Result r = run(args, ws, 60000);
    QVERIFY2(r.code == 1 || r.code == 2, r.err.constData());
    QVERIFY2(r.err.contains("nodes") && r.err.contains("refused"), r.err.constData());
}

void TstRobustness::configValuesAreNeverSilentlyIgnored_data()
{
    QTest::addColumn<QByteArray>("config");
    QTest::addColumn<QByteArray>("words");
    QTest::newRow("empty features") << QByteArray(kRidgeConfig) + "recipe: {features: []}\n"
                                    << QByteArray("configs/bad.yaml:7: field 'recipe.features'");
    QTest::newRow("duplicate key") << QByteArray("experiment: robust\ndata: small\ntarget: y\nlearner: ridge\nlearner: gbdt\n")
                                   << QByteArray("configs/bad.yaml:5: field 'learner': duplicate key (first given at line 4)");
    QTest::newRow("duplicate param") << QByteArray("data: small\ntarget: y\nlearner: ridge\nparams:\n  alpha: 1\n  alpha: 2\n")
                                     << QByteArray("configs/bad.yaml:6: field 'alpha': duplicate key");
}

void TstRobustness::configValuesAreNeverSilentlyIgnored()
{
    QFETCH(QByteArray, config);
    QFETCH(QByteArray, words);
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    QFile f(ws + S("/configs/bad.yaml"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(config);
    f.close();
    const Result r = run({S("train"), S("configs/bad.yaml")}, ws);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(words), r.err.constData());
    QVERIFY(run({S("runs"), S("list")}, ws).out.count('\n') <= 1);   // nothing ran
}

void TstRobustness::runtimeConfigErrorsNameFileLineAndField_data()
{
    QTest::addColumn<QByteArray>("config");
    QTest::addColumn<QByteArray>("words");
    QTest::newRow("unknown target") << QByteArray("data: small\ntarget: nosuch\nlearner: ridge\n")
                                    << QByteArray("configs/bad.yaml:2: field 'target': no column 'nosuch'");
    QTest::newRow("unknown exclude") << QByteArray("data: small\ntarget: y\nrecipe:\n  exclude: [nosuch]\nlearner: ridge\n")
                                     << QByteArray("configs/bad.yaml:4: field 'recipe.exclude': no column 'nosuch'");
    QTest::newRow("every feature excluded")
        << QByteArray("data: small\ntarget: y\nrecipe:\n  exclude: [x1, x2, colour]\nlearner: gbdt\n")
        << QByteArray("configs/bad.yaml:4: field 'recipe.exclude': no feature columns are left");
    QTest::newRow("unknown dataset") << QByteArray("data: nosuch\ntarget: y\nlearner: ridge\n")
                                     << QByteArray("configs/bad.yaml:1: field 'data': no dataset named 'nosuch'");
}

void TstRobustness::runtimeConfigErrorsNameFileLineAndField()
{
    QFETCH(QByteArray, config);
    QFETCH(QByteArray, words);
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    QFile f(ws + S("/configs/bad.yaml"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(config);
    f.close();
    const Result r = run({S("train"), S("configs/bad.yaml")}, ws);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(words), r.err.constData());
    QVERIFY2(!r.err.contains("Check failed"), r.err.constData());
}

void TstRobustness::hugeCellsStayOutOfThePointerFile()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    QByteArray csv = "id,note\n";
    const QByteArray huge(2 << 20, 'z');
    for (int i = 0; i < 5; ++i)
        csv += QByteArray::number(i) + ',' + (i == 2 ? huge : QByteArray("short")) + '\n';
    QFile f(dir.filePath(S("huge.csv")));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(csv);
    f.close();
    RUN_OK(run({S("data"), S("add"), dir.filePath(S("huge.csv")), S("--name"), S("huge")}, ws));
    const qint64 pointer = QFileInfo(ws + S("/datasets/huge.yaml")).size();
    QVERIFY2(pointer < 16 * 1024, qPrintable(QString::number(pointer)));
    // The bytes themselves are versioned whole.
    RUN_OK(run({S("data"), S("checkout"), S("huge"), S("-o"), dir.filePath(S("back.csv"))}, ws));
    QCOMPARE(readAll(dir.filePath(S("back.csv"))), csv);

    // A header that is not a header: refused naming the line.
    QFile h(dir.filePath(S("header.csv")));
    QVERIFY(h.open(QIODevice::WriteOnly));
    h.write("\n" + QByteArray(5000, 'h') + ",b\n1,2\n");
    h.close();
    const Result r = run({S("data"), S("add"), dir.filePath(S("header.csv")), S("--name"), S("header")}, ws);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("header.csv:2:") && r.err.contains("5000 characters"), r.err.constData());
}

void TstRobustness::oddInputFiles()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    // A FIFO: refused at once by inspect and add (the timeout catches a hang).
    const QString fifo = dir.filePath(S("pipe.csv"));
    QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
    for (const QStringList &args : {QStringList{S("data"), S("inspect"), fifo},
                                    QStringList{S("data"), S("add"), fifo, S("--name"), S("pipe")}}) {
        const Result r = run(args, ws, 30000);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("FIFO"), r.err.constData());
    }
    // A symbolic link loop is named as one, not as a missing file.
    const QString loop = dir.filePath(S("loop.csv"));
    QVERIFY(QFile::link(loop, loop));
    Result r = run({S("data"), S("inspect"), loop}, ws);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("symbolic link loop"), r.err.constData());
    // NUL bytes: not a table.
    QFile nul(dir.filePath(S("nul.csv")));
    QVERIFY(nul.open(QIODevice::WriteOnly));
    nul.write(QByteArray(4096, '\0'));
    nul.close();
    r = run({S("data"), S("add"), dir.filePath(S("nul.csv")), S("--name"), S("nul")}, ws);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("nul.csv:1:") && r.err.contains("NUL byte"), r.err.constData());
    // Classic Mac line endings (CR only): read as lines.
    QFile mac(dir.filePath(S("mac.csv")));
    QVERIFY(mac.open(QIODevice::WriteOnly));
    mac.write("a,b\r1,2\r3,4\r5,6\r");
    mac.close();
    const QJsonObject shown =
        QJsonDocument::fromJson(run({S("--json"), S("data"), S("inspect"), dir.filePath(S("mac.csv"))}, ws).out).object();
    QCOMPARE(shown.value(S("rows")).toInt(), 3);
}

void TstRobustness::unterminatedQuoteNamesWhereItOpened()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    // The quote opening on line 3 never closes; later lines have properly quoted fields.
    QByteArray csv = "id,name\n1,\"ok\"\n2,\"broken\n";
    for (int i = 3; i < 40000; ++i)
        csv += QByteArray::number(i) + ",\"name " + QByteArray::number(i) + "\"\n";
    QFile f(dir.filePath(S("quote.csv")));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(csv);
    f.close();
    const Result r = run({S("data"), S("add"), dir.filePath(S("quote.csv")), S("--name"), S("quote")}, ws);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("quote.csv:3:") && r.err.contains("unterminated"), r.err.constData());
}

void TstRobustness::failedCloneLeavesNothingBehind()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    const QString remote = dir.filePath(S("remote"));
    RUN_OK(run({S("remote"), S("add"), S("origin"), remote}, ws));
    RUN_OK(run({S("push")}, ws));
    // The remote loses its packs (a first push killed before they landed).
    const QDir packs(remote + S("/objects/packs"));
    const QStringList names = packs.entryList(QDir::Files);
    QVERIFY(!names.isEmpty());
    const QString aside = dir.filePath(S("packs-aside"));
    QVERIFY(QDir().rename(packs.absolutePath(), aside));
    QVERIFY(QDir().mkpath(packs.absolutePath()));
    const QString dest = dir.filePath(S("clone"));
    Result r = run({S("clone"), remote, dest}, dir.path());
    QCOMPARE(r.code, 1);
    QVERIFY(!QFileInfo::exists(dest));
    // An empty folder given as the destination stays, and empty.
    QVERIFY(QDir().mkpath(dest));
    r = run({S("clone"), remote, dest}, dir.path());
    QCOMPARE(r.code, 1);
    QVERIFY(QFileInfo(dest).isDir());
    QVERIFY(QDir(dest).isEmpty(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot));
    // Repaired remote: the retry works where the failure was.
    QVERIFY(QDir(packs.absolutePath()).removeRecursively());
    QVERIFY(QDir().rename(aside, packs.absolutePath()));
    RUN_OK(run({S("clone"), remote, dest}, dir.path()));
    RUN_OK(run({S("store"), S("fsck")}, dest));
}

void TstRobustness::refusedPullLeavesTrackingRefsAlone()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    const QString remote = dir.filePath(S("remote"));
    RUN_OK(run({S("remote"), S("add"), S("origin"), remote}, ws));
    RUN_OK(run({S("push")}, ws));
    const QString other = dir.filePath(S("other"));
    RUN_OK(run({S("clone"), remote, other}, dir.path()));
    // The other workspace pushes a new version, then the remote's new chunks are damaged.
    QFile c(dir.filePath(S("new.csv")));
    QVERIFY(c.open(QIODevice::WriteOnly));
    c.write("p,q\n1,2\n3,4\n");
    c.close();
    const QStringList packsBefore = QDir(remote + S("/objects/packs")).entryList(QDir::Files);
    RUN_OK(run({S("data"), S("add"), dir.filePath(S("new.csv")), S("--name"), S("fresh")}, other));
    RUN_OK(run({S("push")}, other));
    for (const QString &p : QDir(remote + S("/objects/packs")).entryList({S("*.pack")}, QDir::Files)) {
        if (packsBefore.contains(p))
            continue;
        QFile pack(remote + S("/objects/packs/") + p);
        QVERIFY(pack.open(QIODevice::ReadWrite));
        QByteArray bytes = pack.readAll();
        bytes[bytes.size() - 3] = char(bytes[bytes.size() - 3] ^ 0x5a);
        QVERIFY(pack.seek(0));
        pack.write(bytes);
    }
    const QByteArray refBefore = readAll(ws + S("/.git/refs/remotes/origin/main"));
    const Result pull = run({S("pull")}, ws);
    QCOMPARE(pull.code, 1);
    QCOMPARE(readAll(ws + S("/.git/refs/remotes/origin/main")), refBefore);
    const Result fsck = run({S("store"), S("fsck")}, ws);
    QVERIFY2(fsck.code == 0, fsck.out.constData());
    QVERIFY(!run({S("data"), S("list")}, ws).out.contains("fresh"));
}

void TstRobustness::remotesInsideTheWorkspaceAreRefused_data()
{
    QTest::addColumn<QString>("path");
    QTest::newRow("empty") << QString();
    QTest::newRow("dot") << S(".");
    QTest::newRow(".keel") << S(".keel");
    QTest::newRow("subfolder") << S("backup");
}

void TstRobustness::remotesInsideTheWorkspaceAreRefused()
{
    QFETCH(QString, path);
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    const Result r = run({S("remote"), S("add"), S("origin"), path}, ws);
    QCOMPARE(r.code, 1);
    QVERIFY(!r.err.isEmpty());
    QVERIFY(run({S("remote"), S("list")}, ws).out.trimmed().isEmpty() || !run({S("remote"), S("list")}, ws).out.contains("origin"));
    QVERIFY(!QFileInfo::exists(ws + S("/git")));
}

void TstRobustness::dashCResolvesEveryPath()
{
    QTemporaryDir dir;
    const QString ws = makeWorkspace(dir);
    // From the parent folder, paths are taken relative to -C DIR, for every command alike.
    RUN_OK(run({S("-C"), S("ws"), S("train"), S("configs/ridge.yaml")}, dir.path()));
    RUN_OK(run({S("-C"), S("ws"), S("data"), S("checkout"), S("small"), S("-o"), S("out.csv")}, dir.path()));
    QVERIFY(QFile::exists(ws + S("/out.csv")));
}

QTEST_GUILESS_MAIN(TstRobustness)
#include "tst_robustness.moc"
