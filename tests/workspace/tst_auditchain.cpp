// The audit trail is tamper-evident: on the example workspace (plus a tag), `keel audit verify` passes; then
// .keel/keel.db is edited the way someone with write access could — an event's detail changed, an event deleted, two
// events swapped, the whole chain rewritten with freshly computed hashes after an edit, the newest anchored events
// cut off — and each is caught, naming the event (and for the rewrite the commit whose recorded head no longer
// matches). `keel audit export` gives the chain as JSON Lines that an outside reader can recompute.
#include "../cli/clitest.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>

using namespace clitest;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }

/// The chain's hash as an outside reader computes it from an exported line.
QString recompute(const QJsonObject &e)
{
    const QJsonArray fields{e.value(S("prev_hash")).toString(), QString::number(e.value(S("id")).toInteger()), e.value(S("time")).toString(),
                            e.value(S("user")).toString(), e.value(S("action")).toString(), e.value(S("subject")).toString(),
                            QString::fromUtf8(QJsonDocument(e.value(S("detail")).toObject()).toJson(QJsonDocument::Compact)),
                            e.value(S("commit")).toString()};
    return QString::fromLatin1(QCryptographicHash::hash(QJsonDocument(fields).toJson(QJsonDocument::Compact), QCryptographicHash::Sha256).toHex());
}
} // namespace

class TstAuditChain : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_ws, m_db, m_backup;

    /// Runs SQL statements on the workspace's database directly (as an editor of keel.db would).
    void tamper(const QStringList &statements)
    {
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(S("QSQLITE"), S("tamper"));
            db.setDatabaseName(m_db);
            QVERIFY(db.open());
            for (const QString &sql : statements) {
                QSqlQuery q(db);
                QVERIFY2(q.exec(sql), qPrintable(sql));
            }
            db.close();
        }
        QSqlDatabase::removeDatabase(S("tamper"));
    }
    void restore()
    {
        for (const char *suffix : {"", "-wal", "-shm"})
            QFile::remove(m_db + QLatin1String(suffix));
        QVERIFY(QFile::copy(m_backup, m_db));
    }
    Result verify() { return clitest::keel({S("audit"), S("verify")}, m_ws); }

private slots:
    void initTestCase()
    {
        m_ws = m_dir.filePath(S("ws"));
        RUN_OK(clitest::keel({S("init"), S("--example"), m_ws}, m_dir.path()));
        RUN_OK(clitest::keel({S("tag"), S("reviewed")}, m_ws));
        m_db = m_ws + S("/.keel/keel.db");
        m_backup = m_dir.filePath(S("keel.db.backup"));
        // A consistent copy (the WAL checkpointed into the main file by a clean close).
        RUN_OK(clitest::keel({S("audit"), S("verify")}, m_ws));
        tamper({S("PRAGMA wal_checkpoint(TRUNCATE)")});
        QVERIFY(QFile::copy(m_db, m_backup));
    }

    void intactTrailPasses()
    {
        const Result r = verify();
        RUN_OK(r);
        QVERIFY2(r.out.contains("intact") && r.out.contains("events"), r.out.constData());
        // The export recomputes: every line's hash from its fields and the previous line's hash.
        const Result e = clitest::keel({S("audit"), S("export"), S("-o"), S("-")}, m_ws);
        RUN_OK(e);
        QString prev;
        int lines = 0;
        for (const QByteArray &line : e.out.split('\n')) {
            if (line.isEmpty())
                continue;
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            QCOMPARE(o.value(S("prev_hash")).toString(), prev);
            QCOMPARE(recompute(o), o.value(S("hash")).toString());
            prev = o.value(S("hash")).toString();
            ++lines;
        }
        QVERIFY(lines >= 8);
    }

    void editedEventIsNamed()
    {
        tamper({S("UPDATE audit_events SET detail = '{\"rows\":1}' WHERE id = 3")});
        const Result r = verify();
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("event #3") && r.err.contains("edited"), r.err.constData());
        restore();
        RUN_OK(verify());
        tamper({S("UPDATE audit_events SET user_name = 'someone-else' WHERE id = 5")});
        QVERIFY2(verify().err.contains("event #5"), "a changed user is an edit");
        restore();
    }

    void deletedEventIsNamed()
    {
        tamper({S("DELETE FROM audit_events WHERE id = 4")});
        const Result r = verify();
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("event #5") && r.err.contains("deleted"), r.err.constData());
        restore();
    }

    void reorderedEventsAreCaught()
    {
        // Swap the contents (and hashes) of events 3 and 4, keeping the ids in place.
        tamper({S("CREATE TABLE t AS SELECT * FROM audit_events WHERE id IN (3, 4)"),
                S("UPDATE audit_events SET time = (SELECT time FROM t WHERE id = 4), user_name = (SELECT user_name FROM t WHERE id = 4), "
                  "action = (SELECT action FROM t WHERE id = 4), subject = (SELECT subject FROM t WHERE id = 4), detail = (SELECT detail FROM t WHERE id = 4), "
                  "commit_id = (SELECT commit_id FROM t WHERE id = 4), prev_hash = (SELECT prev_hash FROM t WHERE id = 4), hash = (SELECT hash FROM t WHERE id = 4) WHERE id = 3"),
                S("UPDATE audit_events SET time = (SELECT time FROM t WHERE id = 3), user_name = (SELECT user_name FROM t WHERE id = 3), "
                  "action = (SELECT action FROM t WHERE id = 3), subject = (SELECT subject FROM t WHERE id = 3), detail = (SELECT detail FROM t WHERE id = 3), "
                  "commit_id = (SELECT commit_id FROM t WHERE id = 3), prev_hash = (SELECT prev_hash FROM t WHERE id = 3), hash = (SELECT hash FROM t WHERE id = 3) WHERE id = 4"),
                S("DROP TABLE t")});
        const Result r = verify();
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("event #3"), r.err.constData());
        restore();
    }

    void rewrittenChainIsCaughtByGit()
    {
        // Edit event 3 and recompute every hash from it on, as someone who knows the algorithm would: the chain is
        // consistent again, but the heads git recorded no longer match.
        const Result e = clitest::keel({S("audit"), S("export"), S("-o"), S("-")}, m_ws);
        RUN_OK(e);
        QStringList statements;
        QString prev;
        for (const QByteArray &line : e.out.split('\n')) {
            if (line.isEmpty())
                continue;
            QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.value(S("id")).toInteger() == 3)
                o.insert(S("detail"), QJsonObject{{S("rows"), 1}});
            o.insert(S("prev_hash"), prev);
            const QString hash = recompute(o);
            prev = hash;
            statements << QStringLiteral("UPDATE audit_events SET detail = '%1', prev_hash = '%2', hash = '%3' WHERE id = %4")
                              .arg(QString::fromUtf8(QJsonDocument(o.value(S("detail")).toObject()).toJson(QJsonDocument::Compact)).replace(S("'"), S("''")),
                                   o.value(S("prev_hash")).toString(), hash)
                              .arg(o.value(S("id")).toInteger());
        }
        tamper(statements);
        const Result r = verify();
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("rewritten") && r.err.contains("commit "), r.err.constData());
        restore();
    }

    void clonesKeepTheirOwnTrails()
    {
        // Two workspaces that push and pull each other's commits: each trail has its own head file, nothing
        // conflicts, and each verifies against its own heads.
        const QString remote = m_dir.filePath(S("remote")), other = m_dir.filePath(S("other"));
        RUN_OK(clitest::keel({S("remote"), S("add"), S("origin"), remote}, m_ws));
        RUN_OK(clitest::keel({S("push")}, m_ws));
        RUN_OK(clitest::keel({S("clone"), remote, other}, m_dir.path()));
        RUN_OK(clitest::keel({S("tag"), S("from-the-clone")}, other));
        RUN_OK(clitest::keel({S("data"), S("add"), example("diamonds.csv"), S("--name"), S("gems")}, other));
        RUN_OK(clitest::keel({S("push")}, other));
        RUN_OK(clitest::keel({S("data"), S("add"), example("bike_hour.csv"), S("--name"), S("rides")}, m_ws));
        RUN_OK(clitest::keel({S("pull")}, m_ws));
        for (const QString &ws : {m_ws, other}) {
            const QJsonObject v = keelJson({S("audit"), S("verify")}, ws).object();
            QVERIFY2(v.value(S("ok")).toBool(), qPrintable(v.value(S("problem")).toString()));
            QVERIFY(v.value(S("anchors")).toInt() >= 1);
        }
        QCOMPARE(keelJson({S("audit"), S("verify")}, m_ws).object().value(S("foreign_anchors")).toInt(), 1);
        // The backup predates these commits.
        QFile::remove(m_backup);
        tamper({S("PRAGMA wal_checkpoint(TRUNCATE)")});
        QVERIFY(QFile::copy(m_db, m_backup));
    }

    void cutOffHeadIsCaught()
    {
        // Remove the newest events, including the one the last commit recorded as the head.
        tamper({S("DELETE FROM audit_events WHERE id >= 6")});
        const Result r = verify();
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("event #6") && r.err.contains("is gone"), r.err.constData());
        restore();
        RUN_OK(verify());
    }
};

QTEST_GUILESS_MAIN(TstAuditChain)
#include "tst_auditchain.moc"
