// A team's shared tracking store on a live PostgreSQL server (Debian postgresql, started here with initdb on a
// loopback port and stopped by process id): the same schema and migrations as SQLite, values that round-trip,
// writers from several connections serialised so the audit chain stays one chain, two workspaces training at once
// into one server, and the run table read back over many runs. Skipped, saying why, only when PostgreSQL or Qt's
// QPSQL driver is not installed.
#include "../cli/clitest.h"
#include "../support/liveservers.h"
#include "../support/runlines.h"

#include "tracking/schema.h"
#include "tracking/trackingstore.h"
#include "workspace/audittrail.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QSqlError>
#include <QSqlQuery>
#include <QtConcurrent/QtConcurrent>

#include <cmath>
#include <cstring>
#include <limits>

using namespace clitest;
namespace tr = keel::tracking;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }

void appendSetting(const QString &workspace, const QByteArray &line)
{
    QFile f(workspace + S("/keel.yaml"));
    QVERIFY(f.open(QIODevice::Append));
    f.write(line + '\n');
}
} // namespace

class TstPostgres : public QObject {
    Q_OBJECT
    liveservers::Postgres m_server;
    QTemporaryDir m_dir;
    int m_databases = 0;

    /// A direct connection (as a DBA would open one) to the database freshDatabase() made last; remove it by `name`.
    QSqlDatabase directConnection(const QString &name)
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(S("QPSQL"), name);
        db.setHostName(S("127.0.0.1"));
        db.setPort(m_server.port());
        db.setUserName(S("keel"));
        db.setDatabaseName(S("keel%1").arg(m_databases));
        return db;
    }

    /// A fresh, empty database on the server.
    QString freshDatabase()
    {
        const QString name = S("keel%1").arg(++m_databases);
        QString error;
        if (!m_server.createDatabase(name, &error))
            qFatal("createdb failed: %s", qPrintable(error));
        return m_server.url(name);
    }

private slots:
    void initTestCase()
    {
        if (const QString why = liveservers::Postgres::missing(); !why.isEmpty())
            QSKIP(qPrintable(why));
        QString error;
        QVERIFY2(m_server.start(&error), qPrintable(error));
    }

    void cleanupTestCase() { m_server.stop(); }

    void schemaAndRoundTrip()
    {
        const QString url = freshDatabase();
        auto store = tr::TrackingStore::open(url);
        QVERIFY2(store, store ? "" : qPrintable(store.error().message));
        QCOMPARE((*store)->schemaVersion(), tr::TrackingStore::latestSchemaVersion());
        QVERIFY((*store)->path().startsWith(S("postgresql://keel@127.0.0.1:")));

        tr::RunRecord run;
        run.experiment = S("churn");
        run.name = S("gbdt");
        run.config = S("model: gbdt\nrounds: 100\n");
        auto id = (*store)->createRun(run);
        QVERIFY2(id, id ? "" : qPrintable(id.error().message));
        QVERIFY((*store)->setParams(*id, {{S("eta"), S("0.1")}, {S("depth"), S("6")}}));
        const double inf = std::numeric_limits<double>::infinity();
        const std::vector<double> values{0.8125, -0.0, 1e-300, std::numeric_limits<double>::quiet_NaN(), inf, -inf,
                                         0.1 + 0.2};
        std::vector<tr::MetricPoint> points;
        for (size_t i = 0; i < values.size(); ++i)
            points.push_back(tr::MetricPoint{S("test.v%1").arg(i), 0, values[i], {}});
        QVERIFY((*store)->logMetrics(*id, points));
        QVERIFY((*store)->finishRun(*id, tr::RunStatus::Finished));

        // Read back through a second connection, as another workspace would.
        auto other = tr::TrackingStore::open(url);
        QVERIFY(other);
        auto back = (*other)->run(*id);
        QVERIFY(back);
        QCOMPARE(back->config, run.config);
        QCOMPARE(back->experiment, S("churn"));
        QCOMPARE(back->status, tr::RunStatus::Finished);
        auto metrics = (*other)->metrics(*id);
        QVERIFY(metrics);
        QCOMPARE(metrics->size(), values.size());
        for (size_t i = 0; i < values.size(); ++i) {
            const double got = (*metrics)[i].value;
            if (std::isnan(values[i]))
                QVERIFY(std::isnan(got));
            else
                QCOMPARE(got, values[i]);   // bit-exact doubles, infinities included
        }
        auto summaries = (*other)->runSummaries();
        QVERIFY2(summaries, qPrintable(summaries.message()));
        QCOMPARE(summaries->size(), size_t(1));
        QCOMPARE((*summaries)[0].params.size(), size_t(2));
        QCOMPARE((*summaries)[0].params[0].first, S("depth"));   // sorted by key, byte order
        QCOMPARE((*summaries)[0].metrics.size(), values.size());
        // The bulk reader (libpq text results) gives the same doubles and times as the per-run queries.
        for (size_t i = 0; i < values.size(); ++i) {
            const double got = (*summaries)[0].metrics[i].second;
            QCOMPARE((*summaries)[0].metrics[i].first, S("test.v%1").arg(i));
            if (std::isnan(values[i]))
                QVERIFY(std::isnan(got));
            else
                QVERIFY2(std::memcmp(&got, &values[i], sizeof got) == 0 || (values[i] == 0 && got == 0), qPrintable(QString::number(got, 'g', 17)));
        }
        QCOMPARE((*summaries)[0].run.start, back->start);
        QCOMPARE((*summaries)[0].run.end, back->end);
        QCOMPARE((*summaries)[0].run.status, tr::RunStatus::Finished);
        auto prefix = (*other)->findRun(id->left(8).toUpper());
        QVERIFY(prefix);
        QCOMPARE(prefix->id, *id);
    }

    void migratesAnOlderSchema()
    {
        // A database left at schema version 1 (as an older Keel wrote it) is brought up to date on open.
        const QString url = freshDatabase();
        {
            QSqlDatabase db = directConnection(S("old"));
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(tr::schemaVersionTableStatement()));
            const std::vector<tr::Migration> migrations = tr::trackingMigrations(tr::SqlDialect::Postgres);
            for (const QString &sql : migrations[0].statements)
                QVERIFY2(q.exec(sql), qPrintable(sql));
            QVERIFY(q.exec(S("INSERT INTO schema_version VALUES (1, 'v1', '2026-01-01T00:00:00.000Z')")));
            QVERIFY(q.exec(S("INSERT INTO audit_events (time, user_name, action, subject, detail, commit_id)"
                             " VALUES ('2026-01-01T00:00:00.000Z', 'ann', 'import', 'adult', '{}', '')")));
            db.close();
        }
        QSqlDatabase::removeDatabase(S("old"));
        auto store = tr::TrackingStore::open(url);
        QVERIFY2(store, store ? "" : qPrintable(store.error().message));
        QCOMPARE((*store)->schemaVersion(), 2);
        // The event written before the chain existed is sealed into it.
        auto head = (*store)->auditHead();
        QVERIFY(head);
        QCOMPARE(head->id, qint64(1));
        auto chain = (*store)->auditChain();
        QVERIFY(chain);
        QCOMPARE(chain->size(), size_t(1));
        QCOMPARE(tr::auditHash(chain->front()), head->hash);
    }

    void concurrentWritersKeepOneChain()
    {
        // Four connections add events and runs at once; the chain must come out as one unbroken sequence.
        const QString url = freshDatabase();
        constexpr int kWriters = 4, kEach = 40;
        QList<int> writers;
        for (int w = 0; w < kWriters; ++w)
            writers << w;
        const QList<QString> failures = QtConcurrent::blockingMapped(writers, [&](int w) -> QString {
            auto store = tr::TrackingStore::open(url);
            if (!store)
                return store.error().message;
            for (int i = 0; i < kEach; ++i) {
                tr::AuditEvent e;
                e.action = S("train");
                e.subject = S("writer%1/%2").arg(w).arg(i);
                if (auto id = (*store)->addAuditEvent(e); !id)
                    return id.error().message;
                tr::RunRecord run;
                run.experiment = S("shared");
                run.name = e.subject;
                if (auto r = (*store)->createRun(run); !r)
                    return r.error().message;
            }
            return {};
        });
        for (const QString &f : failures)
            QVERIFY2(f.isEmpty(), qPrintable(f));
        auto store = tr::TrackingStore::open(url);
        QVERIFY(store);
        auto chain = (*store)->auditChain();
        QVERIFY(chain);
        QCOMPARE(chain->size(), size_t(kWriters * kEach));
        QString prev;
        for (const tr::StoredAuditEvent &e : *chain) {
            QCOMPARE(e.prevHash, prev);
            QCOMPARE(tr::auditHash(e), e.hash);
            prev = e.hash;
        }
        auto runs = (*store)->runs(S("shared"));
        QVERIFY(runs);
        QCOMPARE(runs->size(), size_t(kWriters * kEach));
    }

    void twoWorkspacesTrainIntoOneServer()
    {
        const QString url = freshDatabase();
        QStringList workspaces;
        for (const char *name : {"alice", "bob"}) {
            const QString ws = m_dir.filePath(S(name));
            RUN_OK(clitest::keel({S("init"), S("--example"), ws}, m_dir.path()));
            appendSetting(ws, "tracking: " + url.toUtf8());
            workspaces << ws;
        }
        // Both train at the same time, each its own config, into the one server.
        QProcess a, b;
        a.setWorkingDirectory(workspaces[0]);
        b.setWorkingDirectory(workspaces[1]);
        a.start(S(KEEL_BINARY), {S("train"), S("configs/adult-logistic.yaml")});
        b.start(S(KEEL_BINARY), {S("train"), S("configs/diamonds-ridge.yaml")});
        QVERIFY(a.waitForFinished(300000) && b.waitForFinished(300000));
        QVERIFY2(a.exitCode() == 0, a.readAllStandardError().constData());
        QVERIFY2(b.exitCode() == 0, b.readAllStandardError().constData());

        // Each workspace sees both runs; the local keel.db files hold none.
        for (const QString &ws : workspaces) {
            const QJsonDocument runs = clitest::keelJson({S("runs"), S("list")}, ws);
            QVERIFY2(runs.isArray(), "runs list --json gives an array");
            QSet<QString> names;
            for (const QJsonValue &v : runs.array())
                names.insert(v.toObject().value(S("experiment")).toString());
            QCOMPARE(runs.array().size(), 2);
            QCOMPARE(names.size(), 2);
            QVERIFY2(!QFileInfo::exists(ws + S("/.keel/keel.db")) || runCountIn(ws + S("/.keel/keel.db")) == 0,
                     "the runs went to the server, not the local file");
        }
        // Each workspace's trail verifies against its own git history, though both share one chain.
        for (const QString &ws : workspaces) {
            const Result v = clitest::keel({S("audit"), S("verify")}, ws);
            QVERIFY2(v.code == 0, QByteArray(v.out + v.err).constData());
        }
    }

    void manyRunsListQuickly()
    {
        // 100,000 runs with params and final metrics, written in bulk on the server; `keel runs list` reads them all
        // back, in the right order and with the right values (the time it takes is in bench/README.md).
        const QString url = freshDatabase();
        {
            auto store = tr::TrackingStore::open(url);
            QVERIFY(store);
            QVERIFY((*store)->ensureExperiment(S("bulk")));
        }
        {
            QSqlDatabase db = directConnection(S("bulk"));
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY2(q.exec(S("INSERT INTO runs (id, experiment_id, name, status, user_name, host, pid, start_time, end_time, config)"
                              " SELECT lpad(to_hex(g), 32, '0'), (SELECT id FROM experiments WHERE name = 'bulk'),"
                              " 'run' || g, 'finished', 'ann', 'node1', g, "
                              " to_char(timestamp '2026-01-01' + g * interval '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
                              " NULL, '' FROM generate_series(1, 100000) g")),
                     qPrintable(q.lastError().text()));
            QVERIFY(q.exec(S("INSERT INTO params SELECT id, 'eta', '0.' || pid FROM runs")));
            QVERIFY(q.exec(S("INSERT INTO metrics SELECT id, 'test.accuracy', 0, pid / 100000.0, start_time FROM runs")));
            QVERIFY(q.exec(S("ANALYZE")));
            db.close();
        }
        QSqlDatabase::removeDatabase(S("bulk"));
        const QString ws = m_dir.filePath(S("bulk"));
        RUN_OK(clitest::keel({S("init"), ws}, m_dir.path()));
        appendSetting(ws, "tracking: " + url.toUtf8());
        const QJsonDocument runs = clitest::keelJson({S("runs"), S("list")}, ws);
        const QJsonArray all = runs.array();
        QCOMPARE(all.size(), 100000);
        // Oldest first: run g started g seconds into 2026, and its accuracy is g / 100000.
        for (int g : {1, 777, 54321, 100000}) {
            const QJsonObject r = all[g - 1].toObject();
            QCOMPARE(r.value(S("name")).toString(), S("run%1").arg(g));
            const QJsonObject headline = r.value(S("headline")).toObject();
            QCOMPARE(headline.value(S("key")).toString(), S("test.accuracy"));
            QCOMPARE(headline.value(S("value")).toDouble(), g / 100000.0);
        }
    }

    void runLinesMatchPerRunReads()
    {
        // The streamed run listing (two queries in one REPEATABLE READ snapshot, merged in order) against the per-run
        // reads, on runs whose start times tie, are out of creation order, and whose headlines differ.
        auto store = tr::TrackingStore::open(freshDatabase());
        QVERIFY(store);
        const QStringList experiments{S("alpha"), S("beta"), S("\u00fcber")};
        for (int i = 0; i < 30; ++i) {
            tr::RunRecord r;
            r.experiment = experiments[i % 3];
            r.name = S("run-%1").arg(i);
            r.start = QDateTime(QDate(2026, 5, 1), QTime(10, i * 7 % 5), Qt::UTC);   // five distinct times: ties
            auto id = (*store)->createRun(r);
            QVERIFY(id);
            std::vector<tr::MetricPoint> points;
            const QDateTime t0(QDate(2026, 5, 2), QTime(0, 0), Qt::UTC);
            if (i % 4 != 3)
                points.push_back({S("test.rmse"), 0, i % 5 == 0 ? std::nan("") : 1.0 / (i + 1), t0});
            if (i % 3 == 0)
                points.push_back({S("test.accuracy"), 0, 0.5 + i / 100.0, t0});
            if (i % 6 == 0)
                points.push_back({S("test.accuracy"), 0, 0.01 * i, t0.addSecs(60)});   // logged again: the newer counts
            points.push_back({S("test.accuracy"), 1, 0.25, t0});                       // not at step 0
            QVERIFY((*store)->logMetrics(*id, points));
            if (i % 7 != 0)
                QVERIFY((*store)->finishRun(*id, i % 2 ? tr::RunStatus::Finished : tr::RunStatus::Failed));
        }
        for (const QString &experiment : {QString(), S("alpha"), S("\u00fcber"), S("nowhere")}) {
            keel::testsupport::compareRunLines(**store, experiment);
            if (QTest::currentTestFailed())
                return;
        }
    }

    void clearErrors()
    {
        // A bad address, an unknown option and an unreachable server are errors naming the address, never the password.
        auto bad = tr::TrackingStore::open(S("postgresql://keel@127.0.0.1:1/"));
        QVERIFY(!bad);
        QVERIFY2(bad.error().message.contains(S("names no database")), qPrintable(bad.error().message));
        auto option = tr::TrackingStore::open(m_server.url(S("keel1")) + S("?colour=blue"));
        QVERIFY(!option);
        QVERIFY(option.error().message.contains(S("colour")));
        auto down = tr::TrackingStore::open(S("postgresql://keel:hunter2@127.0.0.1:%1/keel1?connect_timeout=2")
                                                .arg(liveservers::freePort()));
        QVERIFY(!down);
        QVERIFY2(!down.error().message.contains(S("hunter2")) && !down.error().file.contains(S("hunter2")),
                 qPrintable(down.error().message));
        QVERIFY(down.error().file.startsWith(S("postgresql://keel@127.0.0.1:")));
        // A password in keel.yaml (committed, pushed) is refused; the address without it is fine.
        const QString withPassword = m_dir.filePath(S("password"));
        RUN_OK(clitest::keel({S("init"), withPassword}, m_dir.path()));
        appendSetting(withPassword, "tracking: postgresql://keel:hunter2@127.0.0.1:5432/keel");
        const Result leaked = clitest::keel({S("runs"), S("list")}, withPassword);
        QVERIFY(leaked.code != 0);
        QVERIFY2(leaked.err.contains("PGPASSWORD") && !leaked.err.contains("hunter2"), leaked.err.constData());
        // keel.yaml with a tracking value that is not an address is refused, naming the file and field.
        const QString ws = m_dir.filePath(S("badsetting"));
        RUN_OK(clitest::keel({S("init"), ws}, m_dir.path()));
        appendSetting(ws, "tracking: mysql://x/y");
        const Result r = clitest::keel({S("runs"), S("list")}, ws);
        QVERIFY(r.code != 0);
        QVERIFY2(r.err.contains("keel.yaml") && r.err.contains("tracking"), r.err.constData());
    }

private:
    static int runCountIn(const QString &sqliteFile)
    {
        int count = -1;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(S("QSQLITE"), S("count"));
            db.setDatabaseName(sqliteFile);
            if (db.open()) {
                QSqlQuery q(db);
                if (q.exec(S("SELECT COUNT(*) FROM runs")) && q.next())
                    count = q.value(0).toInt();
            }
            db.close();
        }
        QSqlDatabase::removeDatabase(S("count"));
        return count;
    }
};

QTEST_GUILESS_MAIN(TstPostgres)
#include "tst_postgres.moc"
