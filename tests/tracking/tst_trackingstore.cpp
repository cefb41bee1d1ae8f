#include "tracking/schema.h"
#include "tracking/trackingstore.h"
#include "../support/runlines.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QProcess>
#include <QScopeGuard>
#include <QSqlError>
#include <QSqlQuery>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QUuid>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#ifdef Q_OS_UNIX
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

using namespace keel;
using namespace keel::tracking;

namespace {

// Child modes of this executable, selected by environment variables (see main()).
constexpr char kChildDbEnv[] = "KEEL_TST_TRACKING_CHILD_DB";
constexpr char kChildExitEnv[] = "KEEL_TST_TRACKING_CHILD_EXIT";
constexpr int kChildWrites = 300;

// Writes kChildWrites audit events and kChildWrites single-point logMetrics calls to the db; exit 0 on success.
int runWriterChild(const QString &dbPath)
{
    auto fail = [](const QString &what) {
        std::fprintf(stderr, "writer child: %s\n", qPrintable(what));
        return 1;
    };
    auto store = TrackingStore::open(dbPath);
    if (!store)
        return fail(store.message());
    RunRecord record;
    record.experiment = QStringLiteral("concurrent");
    record.name = QStringLiteral("writer-%1").arg(QCoreApplication::applicationPid());
    auto runId = (*store)->createRun(record);
    if (!runId)
        return fail(runId.message());
    for (int i = 0; i < kChildWrites; ++i) {
        AuditEvent event;
        event.action = QStringLiteral("child-write");
        event.subject = *runId;
        event.detail = QJsonObject{{QStringLiteral("i"), i}};
        if (auto id = (*store)->addAuditEvent(event); !id)
            return fail(id.message());
        if (Status s = (*store)->logMetrics(*runId, {MetricPoint{QStringLiteral("loss"), i, i * 0.25, {}}}); !s)
            return fail(s.message());
    }
    if (Status s = (*store)->finishRun(*runId, RunStatus::Finished); !s)
        return fail(s.message());
    return 0;
}

// A plain Qt SQL connection to inspect or tamper with a database behind the store's back.
class RawDb {
public:
    explicit RawDb(const QString &path)
        : m_name(QStringLiteral("raw-") + QUuid::createUuid().toString(QUuid::WithoutBraces))
    {
        m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        m_db.setDatabaseName(path);
        m_db.open();
    }
    ~RawDb()
    {
        m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_name);
    }
    bool isOpen() const { return m_db.isOpen(); }
    QStringList tables() const { return m_db.tables(); }
    // First column of the first row, or an invalid QVariant.
    QVariant scalar(const QString &sql) const
    {
        QSqlQuery q(m_db);
        if (!q.exec(sql) || !q.next())
            return {};
        return q.value(0);
    }
    bool exec(const QString &sql) const
    {
        QSqlQuery q(m_db);
        return q.exec(sql);
    }

private:
    QString m_name;
    QSqlDatabase m_db;
};

QDateTime utc(int secondsAfter, int ms = 0)
{
    return QDateTime(QDate(2024, 5, 1), QTime(12, 0), Qt::UTC).addSecs(secondsAfter).addMSecs(ms);
}

// Same value, treating all NaNs as equal.
bool sameDouble(double a, double b)
{
    if (std::isnan(a) || std::isnan(b))
        return std::isnan(a) && std::isnan(b);
    return a == b && std::signbit(a) == std::signbit(b);
}

// Pid of a process that has started and exited (and been reaped).
qint64 deadPid()
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QString::fromLatin1(kChildExitEnv), QStringLiteral("1"));
    p.setProcessEnvironment(env);
    p.start(QCoreApplication::applicationFilePath(), {});
    if (!p.waitForStarted())
        return -1;
    const qint64 pid = p.processId();
    if (!p.waitForFinished(60000) || p.exitCode() != 0)
        return -1;
    return pid;
}

} // namespace

Q_DECLARE_METATYPE(std::vector<MetricPoint>)

class TstTrackingStore : public QObject {
    Q_OBJECT

    std::unique_ptr<TrackingStore> openStore(const QString &path)
    {
        auto store = TrackingStore::open(path);
        if (!store) {
            qWarning("%s", qPrintable(store.message()));
            return nullptr;
        }
        return std::move(store).value();
    }

    static void compareRuns(const RunRecord &got, const RunRecord &want)
    {
        QCOMPARE(got.id, want.id);
        QCOMPARE(got.experiment, want.experiment);
        QCOMPARE(got.name, want.name);
        QCOMPARE(got.parentRunId, want.parentRunId);
        QCOMPARE(got.sweepId, want.sweepId);
        QCOMPARE(runStatusName(got.status), runStatusName(want.status));
        QCOMPARE(got.user, want.user);
        QCOMPARE(got.host, want.host);
        QCOMPARE(got.pid, want.pid);
        QCOMPARE(got.start, want.start);
        QCOMPARE(got.end.isValid(), want.end.isValid());
        if (want.end.isValid())
            QCOMPARE(got.end, want.end);
        QCOMPARE(got.config, want.config);
    }

private slots:
    void findRunByPrefix()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        // Ids chosen so that "aa" is ambiguous, "aab" unique and "AAB" matches case-insensitively.
        for (const char *id : {"aab00000-0000-0000-0000-000000000001", "aac00000-0000-0000-0000-000000000002",
                               "bbb00000-0000-0000-0000-000000000003"}) {
            RunRecord r;
            r.id = QLatin1String(id);
            QVERIFY(store->createRun(r));
        }
        auto exact = store->findRun(QStringLiteral("bbb00000-0000-0000-0000-000000000003"));
        QVERIFY(exact);
        QCOMPARE(exact->id, QStringLiteral("bbb00000-0000-0000-0000-000000000003"));
        auto prefix = store->findRun(QStringLiteral("AAB"));
        QVERIFY(prefix);
        QCOMPARE(prefix->id, QStringLiteral("aab00000-0000-0000-0000-000000000001"));
        auto ambiguous = store->findRun(QStringLiteral("aa"));
        QVERIFY(!ambiguous);
        QVERIFY(ambiguous.error().message.contains(QStringLiteral("matches 2 runs")));
        auto unknown = store->findRun(QStringLiteral("ccc"));
        QVERIFY(!unknown);
        QVERIFY(unknown.error().message.contains(QStringLiteral("no run")));
        QVERIFY(!store->findRun(QString()));
    }

    void runStatusNames()
    {
        for (RunStatus s : {RunStatus::Running, RunStatus::Finished, RunStatus::Failed, RunStatus::Killed})
            QCOMPARE(runStatusFromName(runStatusName(s)), std::optional<RunStatus>(s));
        QCOMPARE(runStatusName(RunStatus::Killed), QStringLiteral("killed"));
        QVERIFY(!runStatusFromName(u"Running").has_value());
    }

    void freshDatabaseGetsLatestSchema()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("ws/.keel/keel.db"));
        {
            auto store = openStore(path);
            QVERIFY(store);
            QVERIFY(TrackingStore::latestSchemaVersion() >= 1);
            QCOMPARE(store->schemaVersion(), TrackingStore::latestSchemaVersion());
            QCOMPARE(store->path(), QFileInfo(path).absoluteFilePath());
        }
        RawDb raw(path);
        QVERIFY(raw.isOpen());
        const QStringList tables = raw.tables();
        for (const char *t : {"schema_version", "experiments", "runs", "params", "metrics", "tags", "artifacts",
                              "lineage", "audit_events"})
            QVERIFY2(tables.contains(QLatin1String(t)), t);
        QCOMPARE(raw.scalar(QStringLiteral("SELECT MAX(version) FROM schema_version")).toInt(),
                 TrackingStore::latestSchemaVersion());
        QCOMPARE(raw.scalar(QStringLiteral("SELECT COUNT(*) FROM schema_version")).toInt(),
                 int(trackingMigrations(SqlDialect::Sqlite).size()));
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
        QVERIFY(raw.scalar(QStringLiteral("SELECT 1 FROM sqlite_master WHERE type = 'index'"
                                          " AND name = 'metrics_run_key_step'")).isValid());
    }

    void migrationsAreOrdered()
    {
        for (SqlDialect d : {SqlDialect::Sqlite, SqlDialect::Postgres}) {
            const auto migrations = trackingMigrations(d);
            QVERIFY(!migrations.empty());
            for (size_t i = 0; i < migrations.size(); ++i) {
                QCOMPARE(migrations[i].version, int(i) + 1);
                QVERIFY(!migrations[i].statements.isEmpty());
                for (const QString &sql : migrations[i].statements) {
                    // SQLite-only syntax must not leak into the portable dialect.
                    if (d == SqlDialect::Postgres)
                        QVERIFY2(!sql.contains(QLatin1String("INTEGER PRIMARY KEY")), qPrintable(sql));
                }
            }
            QCOMPARE(migrations.back().version, latestTrackingSchemaVersion());
        }
    }

    void reopenKeepsData()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("keel.db"));
        QString runId;
        qint64 eventId = 0;
        {
            auto store = openStore(path);
            QVERIFY(store);
            RunRecord r;
            r.name = QStringLiteral("first");
            auto id = store->createRun(r);
            QVERIFY2(id, qPrintable(id.message()));
            runId = *id;
            QVERIFY(store->setParams(runId, {{QStringLiteral("lr"), QStringLiteral("0.1")}}));
            AuditEvent e;
            e.action = QStringLiteral("train");
            auto ev = store->addAuditEvent(e);
            QVERIFY(ev);
            eventId = *ev;
        }
        auto store = openStore(path);
        QVERIFY(store);
        QCOMPARE(store->schemaVersion(), TrackingStore::latestSchemaVersion());
        auto r = store->run(runId);
        QVERIFY2(r, qPrintable(r.message()));
        QCOMPARE(r->name, QStringLiteral("first"));
        QCOMPARE(r->experiment, QStringLiteral("default"));
        auto p = store->params(runId);
        QVERIFY(p);
        QCOMPARE(p->size(), size_t(1));
        QCOMPARE(p->front().second, QStringLiteral("0.1"));
        auto events = store->auditEvents();
        QVERIFY(events);
        QCOMPARE(events->size(), size_t(1));
        QCOMPARE(events->front().id, eventId);
        store.reset();
        // Reopening must not re-run migrations.
        RawDb raw(path);
        QCOMPARE(raw.scalar(QStringLiteral("SELECT COUNT(*) FROM schema_version")).toInt(),
                 int(trackingMigrations(SqlDialect::Sqlite).size()));
    }

    void newerSchemaIsAnError()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("keel.db"));
        QVERIFY(openStore(path));
        const int newer = TrackingStore::latestSchemaVersion() + 1;
        {
            RawDb raw(path);
            QVERIFY(raw.exec(QStringLiteral("INSERT INTO schema_version (version, description, applied_at)"
                                            " VALUES (%1, 'from the future', '2099-01-01T00:00:00.000Z')").arg(newer)));
        }
        auto store = TrackingStore::open(path);
        QVERIFY(!store);
        QCOMPARE(store.error().file, QFileInfo(path).absoluteFilePath());
        const QString message = store.error().message;
        QVERIFY2(message.contains(QString::number(newer)), qPrintable(message));
        QVERIFY2(message.contains(QLatin1Char('(') + QString::number(TrackingStore::latestSchemaVersion())
                                  + QLatin1Char(')')), qPrintable(message));
        QVERIFY(store.message().contains(path));
    }

    void runRoundTrip_data()
    {
        QTest::addColumn<QString>("experiment");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("sweep");
        QTest::addColumn<bool>("withParent");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("config");

        QTest::newRow("plain") << QStringLiteral("exp") << QStringLiteral("r") << QString() << false
                               << int(RunStatus::Running) << QString();
        QTest::newRow("child of sweep") << QStringLiteral("exp") << QStringLiteral("trial 3") << QStringLiteral("sweep-1")
                                        << true << int(RunStatus::Failed) << QStringLiteral("lr: 0.1\n");
        QTest::newRow("unicode and quotes") << QStringLiteral("Ünïcode ✓") << QStringLiteral("it's \"quoted\"; DROP")
                                            << QString() << false << int(RunStatus::Killed)
                                            << QStringLiteral("a:\n  - 'x'\n  - \"y\"\n\u00e9\u4e2d\n");
        QTest::newRow("finished, empty name") << QStringLiteral("other") << QString() << QString() << false
                                              << int(RunStatus::Finished) << QStringLiteral("{}");
    }

    void runRoundTrip()
    {
        QFETCH(QString, experiment);
        QFETCH(QString, name);
        QFETCH(QString, sweep);
        QFETCH(bool, withParent);
        QFETCH(int, status);
        QFETCH(QString, config);

        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        RunRecord want;
        if (withParent) {
            RunRecord parent;
            parent.experiment = experiment;
            auto parentId = store->createRun(parent);
            QVERIFY2(parentId, qPrintable(parentId.message()));
            want.parentRunId = *parentId;
        }
        want.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
        want.experiment = experiment;
        want.name = name;
        want.sweepId = sweep;
        want.status = RunStatus(status);
        want.user = QStringLiteral("alice");
        want.host = QStringLiteral("node-7");
        want.pid = 4242;
        want.start = utc(0, 123);
        if (want.status != RunStatus::Running)
            want.end = QDateTime(QDate(2024, 5, 1), QTime(15, 30, 1, 999), Qt::OffsetFromUTC, 2 * 3600);
        want.config = config;

        auto id = store->createRun(want);
        QVERIFY2(id, qPrintable(id.message()));
        QCOMPARE(*id, want.id);
        auto got = store->run(want.id);
        QVERIFY2(got, qPrintable(got.message()));
        compareRuns(*got, want);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(got->start.timeSpec(), Qt::UTC);

        // The same id twice is refused.
        QVERIFY(!store->createRun(want));
    }

    void runDefaults()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        const QDateTime before = QDateTime::currentDateTimeUtc();
        auto id = store->createRun({});
        const QDateTime after = QDateTime::currentDateTimeUtc();
        QVERIFY2(id, qPrintable(id.message()));
        QVERIFY(!QUuid::fromString(*id).isNull());
        auto r = store->run(*id);
        QVERIFY(r);
        QCOMPARE(r->id, *id);
        QCOMPARE(r->experiment, QStringLiteral("default"));
        QCOMPARE(r->pid, QCoreApplication::applicationPid());
        QCOMPARE(r->host, QSysInfo::machineHostName());
        QVERIFY(!r->user.isEmpty());
        QCOMPARE(r->status, RunStatus::Running);
        QVERIFY(r->start >= before && r->start <= after);
        QVERIFY(!r->end.isValid());
        QVERIFY(r->parentRunId.isEmpty());

        // An unknown parent is refused and names the field.
        RunRecord orphan;
        orphan.parentRunId = QStringLiteral("no-such-run");
        auto bad = store->createRun(orphan);
        QVERIFY(!bad);
        QCOMPARE(bad.error().field, QStringLiteral("parent_run_id"));
        QCOMPARE(store->runs()->size(), size_t(1));
    }

    void finishRun()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        auto id = store->createRun({});
        QVERIFY(id);
        QVERIFY(!store->finishRun(*id, RunStatus::Running));
        const QDateTime before = QDateTime::currentDateTimeUtc();
        Status s = store->finishRun(*id, RunStatus::Failed);
        const QDateTime after = QDateTime::currentDateTimeUtc();
        QVERIFY2(s, qPrintable(s.message()));
        auto r = store->run(*id);
        QVERIFY(r);
        QCOMPARE(r->status, RunStatus::Failed);
        QVERIFY(r->end >= before && r->end <= after);

        Status unknown = store->finishRun(QStringLiteral("nope"), RunStatus::Finished);
        QVERIFY(!unknown);
        QCOMPARE(unknown.error().field, QStringLiteral("run_id"));
        QCOMPARE(unknown.error().file, store->path());
        QVERIFY(!store->run(QStringLiteral("nope")));
    }

    void experimentsAndRunLists()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        const QDateTime before = QDateTime::currentDateTimeUtc();
        auto a = store->ensureExperiment(QStringLiteral("a"));
        const QDateTime after = QDateTime::currentDateTimeUtc();
        auto b = store->ensureExperiment(QStringLiteral("b"));
        QVERIFY(a && b);
        QVERIFY(*a != *b);
        QCOMPARE(*store->ensureExperiment(QStringLiteral("a")), *a);
        QVERIFY(!store->ensureExperiment(QString()));

        // Created out of start order; lists come back oldest first.
        std::map<QString, std::vector<QString>> want;   // experiment -> ids by start
        const int starts[] = {5, 1, 3, 2, 4};
        std::vector<std::pair<int, QString>> all;
        for (int i = 0; i < 5; ++i) {
            RunRecord r;
            r.experiment = i % 2 ? QStringLiteral("a") : QStringLiteral("b");
            r.start = utc(starts[i]);
            auto id = store->createRun(r);
            QVERIFY(id);
            all.emplace_back(starts[i], *id);
        }
        std::sort(all.begin(), all.end());
        std::vector<QString> wantAll;
        for (const auto &[start, id] : all) {
            wantAll.push_back(id);
            want[store->run(id)->experiment].push_back(id);
        }
        auto ids = [](const std::vector<RunRecord> &runs) {
            std::vector<QString> out;
            for (const RunRecord &r : runs)
                out.push_back(r.id);
            return out;
        };
        QCOMPARE(ids(*store->runs()), wantAll);
        QCOMPARE(ids(*store->runs(QStringLiteral("a"))), want[QStringLiteral("a")]);
        QCOMPARE(ids(*store->runs(QStringLiteral("b"))), want[QStringLiteral("b")]);
        QCOMPARE(store->runs(QStringLiteral("missing"))->size(), size_t(0));

        auto exps = store->experiments();
        QVERIFY(exps);
        QCOMPARE(exps->size(), size_t(2));
        QCOMPARE(exps->at(0).id, *a);
        QCOMPARE(exps->at(0).name, QStringLiteral("a"));
        QCOMPARE(exps->at(1).name, QStringLiteral("b"));
        QVERIFY(exps->at(0).created >= before && exps->at(0).created <= after);
        QVERIFY(exps->at(0).created <= exps->at(1).created);
    }

    void paramsAndTags()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        auto id = store->createRun({});
        QVERIFY(id);
        std::map<QString, QString> want;
        std::vector<std::pair<QString, QString>> first = {
            {QStringLiteral("max_depth"), QStringLiteral("6")},
            {QStringLiteral("eta"), QStringLiteral("0.3")},
            {QStringLiteral("empty"), QString()},
            {QStringLiteral("ünï"), QStringLiteral("a 'b' \"c\"")}};
        for (const auto &[k, v] : first)
            want[k] = v;
        QVERIFY(store->setParams(*id, first));
        QVERIFY(store->setParams(*id, {{QStringLiteral("eta"), QStringLiteral("0.1")}}));
        want[QStringLiteral("eta")] = QStringLiteral("0.1");
        auto got = store->params(*id);
        QVERIFY(got);
        QCOMPARE(got->size(), want.size());
        size_t i = 0;
        for (const auto &[k, v] : want) {
            QCOMPARE(got->at(i).first, k);
            QCOMPARE(got->at(i).second, v);
            ++i;
        }
        Status emptyKey = store->setParams(*id, {{QString(), QStringLiteral("x")}});
        QVERIFY(!emptyKey);
        QCOMPARE(emptyKey.error().field, QStringLiteral("key"));
        QVERIFY(!store->setParams(QStringLiteral("nope"), {{QStringLiteral("a"), QStringLiteral("b")}}));
        QVERIFY(!store->params(QStringLiteral("nope")));

        QVERIFY(store->setTag(*id, QStringLiteral("team"), QStringLiteral("risk")));
        QVERIFY(store->setTag(*id, QStringLiteral("note"), QStringLiteral("first")));
        QVERIFY(store->setTag(*id, QStringLiteral("note"), QStringLiteral("second")));
        auto tags = store->tags(*id);
        QVERIFY(tags);
        const std::vector<std::pair<QString, QString>> wantTags = {
            {QStringLiteral("note"), QStringLiteral("second")}, {QStringLiteral("team"), QStringLiteral("risk")}};
        QCOMPARE(*tags, wantTags);
        QVERIFY(!store->setTag(QStringLiteral("nope"), QStringLiteral("a"), QStringLiteral("b")));
        QVERIFY(!store->setTag(*id, QString(), QStringLiteral("b")));
    }

    void metricsRoundTrip_data()
    {
        QTest::addColumn<std::vector<MetricPoint>>("points");
        const double inf = std::numeric_limits<double>::infinity();
        const double nan = std::numeric_limits<double>::quiet_NaN();
        QTest::newRow("empty") << std::vector<MetricPoint>{};
        QTest::newRow("steps out of order")
            << std::vector<MetricPoint>{{QStringLiteral("loss"), 3, 0.5, utc(3)}, {QStringLiteral("loss"), 1, 0.9, utc(1)},
                                        {QStringLiteral("loss"), 2, 0.7, utc(2)}, {QStringLiteral("loss"), 0, 1.0, utc(0)}};
        QTest::newRow("special values")
            << std::vector<MetricPoint>{{QStringLiteral("x"), 0, nan, utc(0)}, {QStringLiteral("x"), 1, inf, utc(1)},
                                        {QStringLiteral("x"), 2, -inf, utc(2)},
                                        {QStringLiteral("x"), 3, std::numeric_limits<double>::denorm_min(), utc(3)},
                                        {QStringLiteral("x"), 4, std::numeric_limits<double>::max(), utc(4)},
                                        {QStringLiteral("x"), 5, -0.1 + 0.3, utc(5)},
                                        {QStringLiteral("x"), 6, -0.0, utc(5, 500)},
                                        {QStringLiteral("x"), -7, 42.0, utc(6)},
                                        {QStringLiteral("x"), qint64(1) << 40, 1e-300, utc(7)}};
        QTest::newRow("two keys, repeated step")
            << std::vector<MetricPoint>{{QStringLiteral("b"), 1, 2.0, utc(10, 1)}, {QStringLiteral("a"), 1, 1.0, utc(10, 2)},
                                        {QStringLiteral("b"), 1, 3.0, utc(10, 5)}, {QStringLiteral("a"), 0, 0.5, utc(9)}};
    }

    void metricsRoundTrip()
    {
        QFETCH(std::vector<MetricPoint>, points);
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        auto id = store->createRun({});
        QVERIFY(id);
        Status s = store->logMetrics(*id, points);
        QVERIFY2(s, qPrintable(s.message()));

        // Reference: sorted by key, step, time (all times differ within a key and step). SQLite stores
        // whole-number REAL values as integers, so -0.0 comes back as +0.0 (documented on MetricPoint).
        std::vector<MetricPoint> want = points;
        for (MetricPoint &p : want) {
            if (p.value == 0.0)
                p.value = 0.0;
        }
        std::sort(want.begin(), want.end(), [](const MetricPoint &a, const MetricPoint &b) {
            return std::tie(a.key, a.step, a.time) < std::tie(b.key, b.step, b.time);
        });
        auto check = [&](const std::vector<MetricPoint> &got, const QString &key) {
            std::vector<MetricPoint> expected;
            for (const MetricPoint &p : want) {
                if (key.isEmpty() || p.key == key)
                    expected.push_back(p);
            }
            QCOMPARE(got.size(), expected.size());
            for (size_t i = 0; i < got.size(); ++i) {
                QCOMPARE(got[i].key, expected[i].key);
                QCOMPARE(got[i].step, expected[i].step);
                QVERIFY2(sameDouble(got[i].value, expected[i].value),
                         qPrintable(QStringLiteral("point %1: %2 != %3").arg(i).arg(got[i].value).arg(expected[i].value)));
                QCOMPARE(got[i].time, expected[i].time);
            }
        };
        auto all = store->metrics(*id);
        QVERIFY2(all, qPrintable(all.message()));
        check(*all, {});
        if (QTest::currentTestFailed())
            return;
        std::set<QString> keys;
        for (const MetricPoint &p : points)
            keys.insert(p.key);
        for (const QString &key : keys) {
            auto one = store->metrics(*id, key);
            QVERIFY(one);
            check(*one, key);
            if (QTest::currentTestFailed())
                return;
        }
        QCOMPARE(store->metrics(*id, QStringLiteral("no-such-key"))->size(), size_t(0));
    }

    void metricsDefaultsAndErrors()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        auto id = store->createRun({});
        QVERIFY(id);
        const QDateTime before = QDateTime::currentDateTimeUtc();
        QVERIFY(store->logMetrics(*id, {{QStringLiteral("acc"), 0, 0.5, {}}}));
        const QDateTime after = QDateTime::currentDateTimeUtc();
        auto got = store->metrics(*id);
        QVERIFY(got);
        QCOMPARE(got->size(), size_t(1));
        QVERIFY(got->front().time >= before && got->front().time <= after);

        Status unknownRun = store->logMetrics(QStringLiteral("nope"), {{QStringLiteral("acc"), 0, 0.5, {}}});
        QVERIFY(!unknownRun);
        QCOMPARE(unknownRun.error().field, QStringLiteral("run_id"));
        QVERIFY(!store->metrics(QStringLiteral("nope")));
        // A bad point anywhere rejects the whole call.
        Status emptyKey = store->logMetrics(*id, {{QStringLiteral("acc"), 1, 0.5, {}}, {QString(), 2, 0.5, {}}});
        QVERIFY(!emptyKey);
        QCOMPARE(emptyKey.error().field, QStringLiteral("key"));
        QCOMPARE(store->metrics(*id)->size(), size_t(1));
    }

    void logManyMetricsInOneCall()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        auto id = store->createRun({});
        QVERIFY(id);
        constexpr int n = 100000;
        std::vector<MetricPoint> points;
        points.reserve(n);
        for (int i = 0; i < n; ++i)
            points.push_back({i % 2 ? QStringLiteral("val_loss") : QStringLiteral("loss"), i / 2, std::sin(i * 0.001), utc(i / 1000, i % 1000)});

        Feedback feedback;
        qint64 lastDone = -1, lastTotal = -1, reports = 0;
        feedback.setCallback([&](qint64 done, qint64 total, const QString &) {
            QVERIFY(done >= lastDone);
            lastDone = done;
            lastTotal = total;
            ++reports;
        });
        QElapsedTimer timer;
        timer.start();
        Status s = store->logMetrics(*id, points, &feedback);
        const qint64 writeMs = timer.elapsed();
        QVERIFY2(s, qPrintable(s.message()));
        timer.restart();
        auto got = store->metrics(*id);
        const qint64 readMs = timer.elapsed();
        qInfo("logMetrics of %d points in one call: %lld ms; reading them back: %lld ms", n, writeMs, readMs);
        QCOMPARE(lastDone, qint64(n));
        QCOMPARE(lastTotal, qint64(n));
        QVERIFY(reports > 2);

        QVERIFY(got);
        QCOMPARE(got->size(), size_t(n));
        // Sorted by key then step: all "loss" (even i), then all "val_loss" (odd i).
        for (int j = 0; j < n; ++j) {
            const int i = j < n / 2 ? 2 * j : 2 * (j - n / 2) + 1;
            const MetricPoint &p = got->at(size_t(j));
            if (p.step != i / 2 || p.value != std::sin(i * 0.001) || p.time != utc(i / 1000, i % 1000))
                QFAIL(qPrintable(QStringLiteral("point %1 differs").arg(j)));
        }
    }

    void logMetricsCancelRollsBack()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        auto id = store->createRun({});
        QVERIFY(id);
        std::vector<MetricPoint> points;
        for (int i = 0; i < 20000; ++i)
            points.push_back({QStringLiteral("loss"), i, double(i), {}});
        Feedback feedback;
        // Cancel after the first progress report past zero: some points are already inserted by then.
        feedback.setCallback([&](qint64 done, qint64, const QString &) {
            if (done > 0)
                feedback.cancel();
        });
        Status s = store->logMetrics(*id, points, &feedback);
        QVERIFY(!s);
        QVERIFY(s.error().is(keel::ErrorKind::Cancelled));
        QCOMPARE(store->metrics(*id)->size(), size_t(0));
        // The store is still usable after the rollback.
        QVERIFY(store->logMetrics(*id, {{QStringLiteral("loss"), 0, 1.0, {}}}));
        QCOMPARE(store->metrics(*id)->size(), size_t(1));
    }

    void artifactsRoundTrip()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        auto id = store->createRun({});
        auto other = store->createRun({});
        QVERIFY(id && other);
        const std::vector<ArtifactRecord> added = {
            {*id, QStringLiteral("model.json"), QStringLiteral("ab12"), qint64(5) << 32, QStringLiteral("model")},
            {*id, QStringLiteral("confusion.png"), QStringLiteral("cd34"), 0, QStringLiteral("image")},
            {*id, QStringLiteral("shap.bin"), QStringLiteral("ef56"), 123, QString()},
            {*other, QStringLiteral("model.json"), QStringLiteral("9999"), 7, QStringLiteral("model")}};
        for (const ArtifactRecord &a : added) {
            Status s = store->addArtifact(a);
            QVERIFY2(s, qPrintable(s.message()));
        }
        std::vector<ArtifactRecord> want(added.begin(), added.begin() + 3);
        std::sort(want.begin(), want.end(), [](const auto &a, const auto &b) { return a.name < b.name; });
        auto got = store->artifacts(*id);
        QVERIFY(got);
        QCOMPARE(got->size(), want.size());
        for (size_t i = 0; i < want.size(); ++i) {
            QCOMPARE(got->at(i).runId, want[i].runId);
            QCOMPARE(got->at(i).name, want[i].name);
            QCOMPARE(got->at(i).objectId, want[i].objectId);
            QCOMPARE(got->at(i).size, want[i].size);
            QCOMPARE(got->at(i).kind, want[i].kind);
        }
        QCOMPARE(store->artifacts(*other)->size(), size_t(1));
        Status dup = store->addArtifact(added[0]);
        QVERIFY(!dup);
        QVERIFY2(dup.message().contains(store->path()), qPrintable(dup.message()));
        QVERIFY2(dup.message().contains(QLatin1String("model.json")), qPrintable(dup.message()));
        QVERIFY(!store->addArtifact({QStringLiteral("nope"), QStringLiteral("x"), QStringLiteral("y"), 1, {}}));
        QVERIFY(!store->addArtifact({*id, QString(), QStringLiteral("y"), 1, {}}));
    }

    void lineageRoundTrip()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        const QString dataset = QStringLiteral("dataset"), run = QStringLiteral("run"), model = QStringLiteral("model");
        const std::vector<LineageEdge> edges = {
            {dataset, QStringLiteral("adult@v1"), run, QStringLiteral("r1"), QStringLiteral("input"), utc(0, 1)},
            {dataset, QStringLiteral("adult@v2"), run, QStringLiteral("r2"), QStringLiteral("input"), utc(1)},
            {run, QStringLiteral("r1"), model, QStringLiteral("churn@v1"), QStringLiteral("produced"), utc(2)},
            {dataset, QStringLiteral("adult@v1"), run, QStringLiteral("r1"), QStringLiteral("validation"), utc(3)}};
        for (const LineageEdge &e : edges) {
            Status s = store->addLineage(e);
            QVERIFY2(s, qPrintable(s.message()));
        }
        // Adding an identical edge again is a no-op.
        QVERIFY(store->addLineage(edges[0]));

        auto compareEdges = [](const std::vector<LineageEdge> &got, const std::vector<LineageEdge> &want) {
            QCOMPARE(got.size(), want.size());
            for (size_t i = 0; i < want.size(); ++i) {
                QCOMPARE(got[i].srcKind, want[i].srcKind);
                QCOMPARE(got[i].srcId, want[i].srcId);
                QCOMPARE(got[i].dstKind, want[i].dstKind);
                QCOMPARE(got[i].dstId, want[i].dstId);
                QCOMPARE(got[i].relation, want[i].relation);
                QCOMPARE(got[i].created, want[i].created);
            }
        };
        // Reference: brute-force filter of the added edges, in insertion order.
        for (const auto &[kind, id] : std::vector<std::pair<QString, QString>>{
                 {run, QStringLiteral("r1")}, {dataset, QStringLiteral("adult@v1")}, {model, QStringLiteral("churn@v1")},
                 {run, QStringLiteral("r2")}, {model, QStringLiteral("r1")}, {run, QStringLiteral("none")}}) {
            std::vector<LineageEdge> want;
            for (const LineageEdge &e : edges) {
                if ((e.srcKind == kind && e.srcId == id) || (e.dstKind == kind && e.dstId == id))
                    want.push_back(e);
            }
            auto got = store->lineage(kind, id);
            QVERIFY(got);
            compareEdges(*got, want);
            if (QTest::currentTestFailed())
                return;
        }
        Status bad = store->addLineage({dataset, QStringLiteral("x"), run, QString(), QStringLiteral("input"), {}});
        QVERIFY(!bad);
        QCOMPARE(bad.error().field, QStringLiteral("dst_id"));
    }

    void auditEventsRoundTrip()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        struct Spec { int secs; const char *subject; };
        // Two events share a time: the one added later counts as newer.
        const Spec specs[] = {{3, "model:churn"}, {1, "dataset:adult"}, {2, "model:churn"}, {2, "model:churn"},
                              {0, "dataset:adult"}};
        std::vector<AuditEvent> added;
        for (size_t i = 0; i < std::size(specs); ++i) {
            AuditEvent e;
            e.time = utc(specs[i].secs);
            e.user = QStringLiteral("user%1").arg(i);
            e.action = QStringLiteral("action%1").arg(i);
            e.subject = QString::fromLatin1(specs[i].subject);
            e.detail = QJsonObject{{QStringLiteral("i"), int(i)},
                                   {QStringLiteral("nested"), QJsonObject{{QStringLiteral("list"), QJsonArray{1, 2.5, QStringLiteral("x")}}}},
                                   {QStringLiteral("text"), QStringLiteral("ünï \"q\"")}};
            e.commit = i % 2 ? QStringLiteral("0123abcd%1").arg(i) : QString();
            auto id = store->addAuditEvent(e);
            QVERIFY2(id, qPrintable(id.message()));
            e.id = *id;
            added.push_back(e);
        }
        std::vector<AuditEvent> newestFirst = added;
        std::sort(newestFirst.begin(), newestFirst.end(), [](const AuditEvent &a, const AuditEvent &b) {
            return a.time != b.time ? a.time > b.time : a.id > b.id;
        });
        auto compareEvents = [](const std::vector<AuditEvent> &got, const std::vector<AuditEvent> &want) {
            QCOMPARE(got.size(), want.size());
            for (size_t i = 0; i < want.size(); ++i) {
                QCOMPARE(got[i].id, want[i].id);
                QCOMPARE(got[i].time, want[i].time);
                QCOMPARE(got[i].user, want[i].user);
                QCOMPARE(got[i].action, want[i].action);
                QCOMPARE(got[i].subject, want[i].subject);
                QCOMPARE(got[i].detail, want[i].detail);
                QCOMPARE(got[i].commit, want[i].commit);
            }
        };
        auto all = store->auditEvents();
        QVERIFY(all);
        compareEvents(*all, newestFirst);
        if (QTest::currentTestFailed())
            return;
        for (const QString &subject : {QStringLiteral("model:churn"), QStringLiteral("dataset:adult")}) {
            std::vector<AuditEvent> want;
            for (const AuditEvent &e : newestFirst) {
                if (e.subject == subject)
                    want.push_back(e);
            }
            auto got = store->auditEvents(subject);
            QVERIFY(got);
            compareEvents(*got, want);
            if (QTest::currentTestFailed())
                return;
            auto limited = store->auditEvents(subject, 1);
            QVERIFY(limited);
            compareEvents(*limited, {want.front()});
            if (QTest::currentTestFailed())
                return;
        }
        QCOMPARE(store->auditEvents({}, 0)->size(), size_t(0));
        QCOMPARE(store->auditEvents(QStringLiteral("nothing"))->size(), size_t(0));

        // Defaults: time now (UTC), user from the OS.
        AuditEvent bare;
        bare.action = QStringLiteral("bare");
        const QDateTime before = QDateTime::currentDateTimeUtc();
        auto bareId = store->addAuditEvent(bare);
        const QDateTime after = QDateTime::currentDateTimeUtc();
        QVERIFY(bareId);
        auto newest = store->auditEvents({}, 1);
        QVERIFY(newest);
        QCOMPARE(newest->front().id, *bareId);
        QVERIFY(newest->front().time >= before && newest->front().time <= after);
        QVERIFY(!newest->front().user.isEmpty());
        QVERIFY(newest->front().detail.isEmpty());

        auto noAction = store->addAuditEvent({});
        QVERIFY(!noAction);
        QCOMPARE(noAction.error().field, QStringLiteral("action"));
    }

    void twoProcessesWriteAtOnce()
    {
        QTemporaryDir dir;
        // Both children find no database: they also race to create and migrate it.
        const QString path = dir.filePath(QStringLiteral(".keel/keel.db"));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QString::fromLatin1(kChildDbEnv), path);
        QProcess children[2];
        for (QProcess &child : children) {
            child.setProcessEnvironment(env);
            child.start(QCoreApplication::applicationFilePath(), {});
        }
        for (QProcess &child : children) {
            QVERIFY(child.waitForStarted());
            QVERIFY(child.waitForFinished(300000));
            const QString err = QString::fromLocal8Bit(child.readAllStandardError());
            QVERIFY2(child.exitStatus() == QProcess::NormalExit && child.exitCode() == 0, qPrintable(err));
        }

        auto store = openStore(path);
        QVERIFY(store);
        auto events = store->auditEvents();
        QVERIFY(events);
        QCOMPARE(events->size(), size_t(2 * kChildWrites));
        auto runs = store->runs(QStringLiteral("concurrent"));
        QVERIFY(runs);
        QCOMPARE(runs->size(), size_t(2));
        QVERIFY(runs->at(0).pid != runs->at(1).pid);
        size_t points = 0;
        for (const RunRecord &r : *runs) {
            QCOMPARE(r.status, RunStatus::Finished);
            auto m = store->metrics(r.id);
            QVERIFY(m);
            QCOMPARE(m->size(), size_t(kChildWrites));
            for (int i = 0; i < kChildWrites; ++i) {
                QCOMPARE(m->at(size_t(i)).step, qint64(i));
                QCOMPARE(m->at(size_t(i)).value, i * 0.25);
            }
            points += m->size();
            QCOMPARE(store->auditEvents(r.id)->size(), size_t(kChildWrites));
        }
        QCOMPARE(points, size_t(2 * kChildWrites));
        QCOMPARE(store->experiments()->size(), size_t(1));
    }

    void markDeadRunsKilled_data()
    {
        QTest::addColumn<QString>("process");
        QTest::addColumn<bool>("otherHost");
        QTest::addColumn<int>("initialStatus");
        QTest::addColumn<int>("startOffsetSecs");
        QTest::addColumn<int>("expectedStatus");

        QTest::newRow("exited process") << QStringLiteral("dead") << false << int(RunStatus::Running) << 0
                                        << int(RunStatus::Killed);
        QTest::newRow("this process") << QStringLiteral("self") << false << int(RunStatus::Running) << 0
                                      << int(RunStatus::Running);
        QTest::newRow("other host") << QStringLiteral("dead") << true << int(RunStatus::Running) << 0
                                    << int(RunStatus::Running);
        QTest::newRow("already finished") << QStringLiteral("dead") << false << int(RunStatus::Finished) << 0
                                          << int(RunStatus::Finished);
        QTest::newRow("invalid pid") << QStringLiteral("negative") << false << int(RunStatus::Running) << 0
                                     << int(RunStatus::Killed);
#ifdef Q_OS_LINUX
        // This process started long after the run: the pid was reused.
        QTest::newRow("pid reused") << QStringLiteral("self") << false << int(RunStatus::Running) << -86400
                                    << int(RunStatus::Killed);
        QTest::newRow("zombie") << QStringLiteral("zombie") << false << int(RunStatus::Running) << 0
                                << int(RunStatus::Killed);
#endif
    }

    void markDeadRunsKilled()
    {
        QFETCH(QString, process);
        QFETCH(bool, otherHost);
        QFETCH(int, initialStatus);
        QFETCH(int, startOffsetSecs);
        QFETCH(int, expectedStatus);

        qint64 pid = 0;
        qint64 zombie = 0;
        if (process == QLatin1String("self")) {
            pid = QCoreApplication::applicationPid();
        } else if (process == QLatin1String("negative")) {
            pid = -1;
        } else if (process == QLatin1String("dead")) {
            pid = deadPid();
            QVERIFY(pid > 0);
#ifdef Q_OS_UNIX
            QVERIFY2(::kill(pid_t(pid), 0) != 0 && errno == ESRCH, "the exited child's pid is in use again");
#endif
        } else if (process == QLatin1String("zombie")) {
#ifdef Q_OS_LINUX
            const pid_t child = ::fork();
            QVERIFY(child >= 0);
            if (child == 0)
                ::_exit(0);
            zombie = pid = child;
            // Wait (without reaping) until the child has exited and shows as a zombie.
            QTRY_VERIFY_WITH_TIMEOUT([&] {
                QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
                return stat.open(QIODevice::ReadOnly) && stat.readAll().contains(") Z ");
            }(), 30000);
#endif
        }
        auto reap = qScopeGuard([zombie] {
#ifdef Q_OS_UNIX
            if (zombie > 0)
                ::waitpid(pid_t(zombie), nullptr, 0);
#endif
        });

        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        // A control run of this process that must always stay running.
        auto control = store->createRun({});
        QVERIFY(control);
        RunRecord r;
        r.pid = pid;
        r.host = otherHost ? QStringLiteral("elsewhere-") + QUuid::createUuid().toString(QUuid::WithoutBraces) : QString();
        r.status = RunStatus(initialStatus);
        r.start = QDateTime::currentDateTimeUtc().addSecs(startOffsetSecs);
        auto id = store->createRun(r);
        QVERIFY2(id, qPrintable(id.message()));
        const QDateTime before = QDateTime::currentDateTimeUtc();
        auto marked = store->markDeadRunsKilled();
        const QDateTime after = QDateTime::currentDateTimeUtc();
        QVERIFY2(marked, qPrintable(marked.message()));
        QCOMPARE(*marked, expectedStatus == int(RunStatus::Killed) && initialStatus == int(RunStatus::Running) ? 1 : 0);
        auto got = store->run(*id);
        QVERIFY(got);
        QCOMPARE(runStatusName(got->status), runStatusName(RunStatus(expectedStatus)));
        if (expectedStatus == int(RunStatus::Killed))
            QVERIFY(got->end >= before && got->end <= after);
        QCOMPARE(store->run(*control)->status, RunStatus::Running);
        // A second sweep finds nothing more.
        QCOMPARE(*store->markDeadRunsKilled(), 0);
    }

    // runSummaries() against an independent reading of the same store through runs(), params() and metrics().
    void runSummariesMatchPerRunReads_data()
    {
        QTest::addColumn<QString>("experiment");
        QTest::newRow("all runs") << QString();
        QTest::newRow("one experiment") << QStringLiteral("beta");
        QTest::newRow("experiment without runs") << QStringLiteral("empty");
        QTest::newRow("unknown experiment") << QStringLiteral("nowhere");
    }

    void runSummariesMatchPerRunReads()
    {
        QFETCH(QString, experiment);
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        QVERIFY(store->ensureExperiment(QStringLiteral("empty")));
        const QStringList experiments = {QStringLiteral("alpha"), QStringLiteral("beta"), QStringLiteral("gamma")};
        QString sweepId;
        for (int i = 0; i < 24; ++i) {
            RunRecord r;
            r.experiment = experiments[i % 3];
            r.name = QStringLiteral("run-%1").arg(i);
            r.start = utc(i * 7 % 24);   // not in creation order
            r.config = QStringLiteral("learner: gbdt # %1").arg(i);
            if (i == 4)
                sweepId = QStringLiteral("sweep-parent");
            if (i == 4)
                r.id = sweepId;
            if (i > 4 && i % 3 == 1) {
                r.sweepId = sweepId;
                r.parentRunId = sweepId;
            }
            auto id = store->createRun(r);
            QVERIFY2(id, qPrintable(id.message()));
            if (i % 5 == 0)
                QVERIFY(store->finishRun(*id, RunStatus::Finished));
            if (i % 6 != 5) {   // some runs have no params
                QVERIFY(store->setParams(*id, {{QStringLiteral("params.max_depth"), QString::number(i % 7)},
                                               {QStringLiteral("learner"), i % 2 ? QStringLiteral("gbdt") : QStringLiteral("ridge")},
                                               {QStringLiteral("data"), QStringLiteral("adult@v%1").arg(i % 3 + 1)}}));
            }
            std::vector<MetricPoint> points;
            for (int step = 0; step < 5; ++step) {   // curves and per-fold values: not final metrics
                points.push_back({QStringLiteral("curve.train.logloss"), step, 1.0 / (step + 1 + i), {}});
                points.push_back({QStringLiteral("curve.validation.logloss"), step, 1.5 / (step + 1 + i), {}});
                points.push_back({QStringLiteral("cv.rmse"), step, 2.0 + step, {}});
            }
            if (i % 3 != 2)   // the others' headline is test.rmse, unless logged again below
                points.push_back({QStringLiteral("test.accuracy"), 0, 0.5 + i / 100.0, utc(100)});
            points.push_back({QStringLiteral("test.accuracy"), 1, 0.1, {}});   // not at step 0
            points.push_back({QStringLiteral("test.rmse"), 0, i % 4 == 0 ? std::nan("") : 3.0 + i, {}});
            points.push_back({QStringLiteral("cv.rmse.mean"), 0, 2.5, {}});
            points.push_back({QStringLiteral("cv.rmse.std"), 0, 0.25 * i, {}});
            points.push_back({QStringLiteral("validation.log_loss"), 0, 0.4 + i / 100.0, {}});
            points.push_back({QStringLiteral("validations.x"), 0, 9, {}});    // prefix "validation" but not "validation."
            points.push_back({QStringLiteral("testing.other"), 0, 9, {}});    // prefix "test" but not "test."
            points.push_back({QStringLiteral("bestest.x"), 0, 9, {}});        // prefix "best" but not "best."
            if (i == 4) {   // the sweep's run: a result per trial (steps) and its best at step 0
                points.push_back({QStringLiteral("best.test.accuracy"), 0, 0.93, {}});
                points.push_back({QStringLiteral("test.rmse"), 2, 1.5, {}});
            }
            if (i % 4 == 1)
                points.push_back({QStringLiteral("test.accuracy"), 0, 0.99, utc(150)});   // logged again, last wins
            QVERIFY(store->logMetrics(*id, points));
        }

        // The streamed listing of the same runs.
        keel::testsupport::compareRunLines(*store, experiment);
        if (QTest::currentTestFailed())
            return;

        auto summaries = store->runSummaries(experiment);
        QVERIFY2(summaries, qPrintable(summaries.message()));
        auto runs = store->runs(experiment);
        QVERIFY(runs);
        QCOMPARE(summaries->size(), runs->size());
        QCOMPARE(runs->empty(), experiment == u"empty" || experiment == u"nowhere");
        for (size_t i = 0; i < runs->size(); ++i) {
            const RunSummary &got = (*summaries)[i];
            RunRecord want = (*runs)[i];
            want.config.clear();
            compareRuns(got.run, want);
            auto params = store->params(want.id);
            QVERIFY(params);
            QCOMPARE(got.params, *params);
            // Final metrics by hand: step-0 points of test.*, validation.*, cv.*.mean/.std and best.*, the last logged
            // per key (curve.* series and per-fold cv.* points are not final).
            auto points = store->metrics(want.id);
            QVERIFY(points);
            std::map<QString, double> finals;
            for (const MetricPoint &p : *points) {
                const bool test = p.key.startsWith(QLatin1String("test."));
                const bool cv = p.key.startsWith(QLatin1String("cv."))
                    && (p.key.endsWith(QLatin1String(".mean")) || p.key.endsWith(QLatin1String(".std")));
                const bool best = p.key.startsWith(QLatin1String("best."));
                const bool validation = p.key.startsWith(QLatin1String("validation."));
                if (p.step == 0 && (test || cv || best || validation))
                    finals[p.key] = p.value;   // metrics() sorts by time within a key and step: last is newest
            }
            QCOMPARE(got.metrics.size(), finals.size());
            size_t k = 0;
            for (const auto &[key, value] : finals) {
                QCOMPARE(got.metrics[k].first, key);
                QVERIFY2(sameDouble(got.metrics[k].second, value),
                         qPrintable(QStringLiteral("%1: %2 vs %3").arg(key).arg(got.metrics[k].second).arg(value)));
                ++k;
            }
        }
        if (experiment.isEmpty()) {
            QCOMPARE(summaries->size(), size_t(24));
            // The doubly logged key keeps the later point (by insertion, which is also the later time here).
            for (const RunSummary &s : *summaries) {
                if (s.run.name == u"run-5") {
                    QCOMPARE(s.metrics.front().first, QStringLiteral("cv.rmse.mean"));
                    auto acc = std::find_if(s.metrics.begin(), s.metrics.end(),
                                            [](const auto &m) { return m.first == u"test.accuracy"; });
                    QVERIFY(acc != s.metrics.end());
                    QCOMPARE(acc->second, 0.99);
                }
                if (s.run.name == u"run-11")
                    QVERIFY(s.params.empty());
                if (s.run.name == u"run-4")
                    QCOMPARE(s.metrics.front(), (std::pair<QString, double>(QStringLiteral("best.test.accuracy"), 0.93)));
                if (s.run.name == u"run-7") {
                    QCOMPARE(s.run.sweepId, QStringLiteral("sweep-parent"));
                    QCOMPARE(s.run.parentRunId, QStringLiteral("sweep-parent"));
                }
            }
        }
    }

    void runSummariesCancel()
    {
        QTemporaryDir dir;
        auto store = openStore(dir.filePath(QStringLiteral("keel.db")));
        QVERIFY(store);
        QVERIFY(store->createRun({}));
        Feedback feedback;
        qint64 lastDone = -1;
        feedback.setCallback([&](qint64 done, qint64, const QString &) { lastDone = done; });
        auto all = store->runSummaries({}, &feedback);
        QVERIFY(all);
        QCOMPARE(all->size(), size_t(1));
        QCOMPARE(lastDone, qint64(3));
        feedback.cancel();
        auto none = store->runSummaries({}, &feedback);
        QVERIFY(!none);
        QVERIFY(none.error().is(keel::ErrorKind::Cancelled));
        int visited = 0;
        const Status listed = store->forEachRunLine({}, &feedback, [&](const RunLine &) { ++visited; });
        QVERIFY(!listed);
        QVERIFY(listed.error().is(keel::ErrorKind::Cancelled));
        QCOMPARE(visited, 0);
        // The listing's read transaction ended with the cancel: the store still writes.
        QVERIFY(store->createRun({}));
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (qEnvironmentVariableIsSet(kChildDbEnv))
        return runWriterChild(qEnvironmentVariable(kChildDbEnv));
    if (qEnvironmentVariableIsSet(kChildExitEnv))
        return 0;
    TstTrackingStore test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_trackingstore.moc"
