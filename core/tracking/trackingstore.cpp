#include "tracking/trackingstore.h"

#include "tracking/rowreader.h"
#include "util/textmap.h"

#include "tracking/metrickeys.h"
#include "tracking/schema.h"
#include "data/calendar.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>
#include <QSysInfo>
#include <QThread>
#include <QUrl>
#include <QUrlQuery>
#include <QUuid>
#include <QVariant>

#include <cerrno>
#include <cstring>
#include <climits>
#include <cmath>
#include <algorithm>
#include <limits>

#include <unistd.h>

#ifdef Q_OS_UNIX
#include <pwd.h>
#include <signal.h>
#include <unistd.h>
#endif

namespace keel::tracking {

namespace {

const QString kSqliteDriver = QStringLiteral("QSQLITE");
const QString kPostgresDriver = QStringLiteral("QPSQL");
// Every write transaction on a PostgreSQL store first takes this transaction-scoped advisory lock, so writers from
// all workspaces sharing the server are serialised as SQLite's BEGIN IMMEDIATE serialises them: the audit chain is
// sealed by one writer at a time, and migrations never race.
constexpr qint64 kPostgresWriteLock = 0x6b65656c;   // "keel"
// How long a connection waits for another writer before giving up.
constexpr int kBusyTimeoutMs = 10000;

QString timeText(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

/// A stored time. Fast path for the form this store writes, "2026-01-01T12:00:00.123Z" (a run table reads two per
/// run); anything else goes through Qt's ISO parser.
/// A stored time as UTC milliseconds: the store writes "YYYY-MM-DDTHH:MM:SS.mmmZ"; anything else goes through Qt's
/// ISO parser. Nothing for text that is no time.
std::optional<qint64> millisFromUtf8(QByteArrayView text)
{
    if (const auto ms = data::parseUtcMillis(std::string_view(text.data(), size_t(text.size()))))
        return *ms;
    const QDateTime t = QDateTime::fromString(QString::fromUtf8(text), Qt::ISODateWithMs);
    return t.isValid() ? std::optional<qint64>(t.toMSecsSinceEpoch()) : std::nullopt;
}

QDateTime timeFromUtf8(QByteArrayView text)
{
    const auto ms = millisFromUtf8(text);
    return ms ? QDateTime::fromMSecsSinceEpoch(*ms, Qt::UTC) : QDateTime();
}

QDateTime timeFromVariant(const QVariant &v)
{
    if (v.isNull())
        return {};
    return timeFromUtf8(v.toString().toUtf8());
}

// Binds a string so that a null QString is stored as '' rather than SQL NULL.
QVariant text(const QString &s)
{
    return s.isNull() ? QVariant(QStringLiteral("")) : QVariant(s);
}

// Binds a string so that an empty QString is stored as SQL NULL.
QVariant textOrNull(const QString &s)
{
    return s.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(s);
}

QString osUserName()
{
#ifdef Q_OS_UNIX
    if (const passwd *pw = ::getpwuid(::geteuid()); pw && pw->pw_name && *pw->pw_name)
        return QString::fromLocal8Bit(pw->pw_name);
#endif
    QString user = qEnvironmentVariable("USER");
    if (user.isEmpty())
        user = qEnvironmentVariable("USERNAME");
    return user.isEmpty() ? QStringLiteral("unknown") : user;
}

// The one adapter from Qt SQL errors to keel::Error: names the database file and what the statement was for.
Error damagedDatabaseError(const QString &path, const QString &what);
bool isDamageCode(const QString &nativeCode);

Error toError(const QSqlError &e, const QString &purpose, const QString &path)
{
    if (isDamageCode(e.nativeErrorCode()))
        return damagedDatabaseError(path, QStringLiteral("the tracking database is damaged (%1 failed: %2)")
                                              .arg(purpose, e.databaseText().trimmed()));
    QString detail = e.databaseText().trimmed();
    if (detail.isEmpty())
        detail = e.driverText().trimmed();
    if (detail.isEmpty())
        detail = QStringLiteral("unknown SQL error");
    return makeError(purpose + QStringLiteral(" failed: ") + detail, path);
}

#ifdef Q_OS_LINUX
// Wall-clock start of a process from /proc, or an invalid time if it cannot be read.
// Also reports whether the process is a zombie (exited, not yet reaped).
QDateTime linuxProcessStart(qint64 pid, bool *zombie)
{
    *zombie = false;
    QFile statFile(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!statFile.open(QIODevice::ReadOnly))
        return {};
    const QByteArray stat = statFile.readAll();
    // Field 2 (the command name) may hold spaces and parentheses; the fields after it follow the last ')'.
    const qsizetype close = stat.lastIndexOf(')');
    if (close < 0)
        return {};
    const QList<QByteArray> fields = stat.mid(close + 1).simplified().split(' ');
    // fields[0] is field 3 (state); field 22 (starttime, clock ticks since boot) is fields[19].
    if (fields.size() < 20)
        return {};
    *zombie = fields[0] == "Z" || fields[0] == "X";
    bool ok = false;
    const qulonglong startTicks = fields[19].toULongLong(&ok);
    if (!ok)
        return {};

    QFile procStat(QStringLiteral("/proc/stat"));
    if (!procStat.open(QIODevice::ReadOnly))
        return {};
    qint64 bootTime = -1;
    for (const QByteArray &line : procStat.readAll().split('\n')) {
        if (line.startsWith("btime ")) {
            bootTime = line.mid(6).trimmed().toLongLong(&ok);
            if (!ok)
                bootTime = -1;
            break;
        }
    }
    const long ticksPerSecond = ::sysconf(_SC_CLK_TCK);
    if (bootTime < 0 || ticksPerSecond <= 0)
        return {};
    const qint64 startMs = bootTime * 1000 + qint64(startTicks * 1000 / qulonglong(ticksPerSecond));
    return QDateTime::fromMSecsSinceEpoch(startMs, Qt::UTC);
}
#endif

// True if the process that created a run (pid on this host, run started at runStart) no longer exists:
// no such pid, a zombie, or the pid now belongs to a process that started after the run did.
bool runProcessGone(qint64 pid, const QDateTime &runStart)
{
    if (pid <= 0 || pid > INT_MAX)
        return true;
#ifdef Q_OS_UNIX
    if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH)
        return true;
#endif
#ifdef Q_OS_LINUX
    bool zombie = false;
    const QDateTime processStart = linuxProcessStart(pid, &zombie);
    if (zombie)
        return true;
    // Boot time is whole seconds and the wall clock may have been adjusted since boot, so allow a
    // generous margin before calling the pid reused.
    constexpr qint64 kReuseMarginSecs = 60;
    if (processStart.isValid() && runStart.isValid() && processStart > runStart.addSecs(kReuseMarginSecs))
        return true;
#else
    Q_UNUSED(runStart);
#endif
    return false;
}

} // namespace

QString runStatusName(RunStatus s)
{
    switch (s) {
    case RunStatus::Running: return QStringLiteral("running");
    case RunStatus::Finished: return QStringLiteral("finished");
    case RunStatus::Failed: return QStringLiteral("failed");
    case RunStatus::Killed: return QStringLiteral("killed");
    }
    return QStringLiteral("running");
}

std::optional<RunStatus> runStatusFromName(QStringView name)
{
    for (RunStatus s : {RunStatus::Running, RunStatus::Finished, RunStatus::Failed, RunStatus::Killed}) {
        if (name == runStatusName(s))
            return s;
    }
    return std::nullopt;
}

TrackingStore::TrackingStore(QString path, QString connectionName)
    : m_path(std::move(path)), m_connectionName(std::move(connectionName))
{
}

TrackingStore::~TrackingStore()
{
    if (m_db.isOpen())
        m_db.close();
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connectionName);
}

namespace {

// The one recovery path a damaged database gets: it is never recreated over, only moved aside by the user.
Error damagedDatabaseError(const QString &path, const QString &what)
{
    return makeError(ErrorKind::Corrupt,
                     what + QStringLiteral(". Keel will not replace it, because its runs and audit history would be "
                                           "lost. Restore it from a backup, or move it aside to start an empty one: "
                                           "mv '%1' '%1.damaged'").arg(path),
                     path);
}

// SQLite result codes (the primary code, low byte) that mean the file is not a usable database.
bool isDamageCode(const QString &nativeCode)
{
    bool ok = false;
    const int code = nativeCode.toInt(&ok) & 0xff;
    return ok && (code == 11 /* SQLITE_CORRUPT */ || code == 26 /* SQLITE_NOTADB */);
}

// Checks what is at `path` before SQLite sees it: SQLite would silently treat a 0-byte file as a new, empty
// database. Only stat() is used: opening and closing the file here would drop the POSIX locks that this process's
// other SQLite connections hold on it. A file that is not a database is reported by SQLite itself (SQLITE_NOTADB),
// which toError() turns into the same message.
Status checkExistingDatabase(const QString &path)
{
    const QFileInfo info(path);
    if (!info.isFile())
        return damagedDatabaseError(path, QStringLiteral("the tracking database is not a regular file"));
    if (info.size() == 0)
        return damagedDatabaseError(path, QStringLiteral("the tracking database is empty (0 bytes)"));
    return {};
}

} // namespace

bool isPostgresLocation(const QString &location)
{
    return location.startsWith(QLatin1String("postgresql://")) || location.startsWith(QLatin1String("postgres://"));
}

Expected<std::unique_ptr<TrackingStore>> TrackingStore::open(const QString &dbPath)
{
    if (dbPath.isEmpty())
        return makeError(QStringLiteral("no tracking database path given"));
    if (isPostgresLocation(dbPath))
        return openPostgres(dbPath);
    const QFileInfo info(dbPath);
    const QString absolute = info.absoluteFilePath();
    if (!QDir().mkpath(info.absolutePath()))
        return makeError(ErrorKind::Io, QStringLiteral("cannot create the folder for the tracking database"), absolute);
    if (!QSqlDatabase::isDriverAvailable(kSqliteDriver))
        return makeError(QStringLiteral("the Qt SQLite driver (QSQLITE) is not available"), absolute);

    if (!QFileInfo::exists(absolute)) {
        // A new database is built beside the final name and linked into place only once its schema is complete, so
        // no process ever sees a half-created (or 0-byte) database there; two creators race harmlessly on link().
        const QString building = absolute + QStringLiteral(".new-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
        {
            auto fresh = openConnection(building);
            if (!fresh) {
                QFile::remove(building);
                return fresh.error();
            }
        }
        const QByteArray from = QFile::encodeName(building), to = QFile::encodeName(absolute);
        const int linked = ::link(from.constData(), to.constData());
        const int linkErrno = errno;
        for (const char *suffix : {"", "-wal", "-shm", "-journal"})
            QFile::remove(building + QLatin1String(suffix));
        if (linked != 0 && linkErrno != EEXIST)
            return makeError(ErrorKind::Io,
                             QStringLiteral("cannot create the tracking database: %1").arg(QString::fromLocal8Bit(::strerror(linkErrno))),
                             absolute);
    }
    if (Status s = checkExistingDatabase(absolute); !s)
        return s.error();
    return openConnection(absolute);
}

Expected<std::unique_ptr<TrackingStore>> TrackingStore::openConnection(const QString &absolute)
{
    const QString connection = QStringLiteral("keel-tracking-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    std::unique_ptr<TrackingStore> store(new TrackingStore(absolute, connection));
    store->m_db = QSqlDatabase::addDatabase(kSqliteDriver, connection);
    store->m_db.setDatabaseName(absolute);
    store->m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=") + QString::number(kBusyTimeoutMs));
    if (!store->m_db.open())
        return toError(store->m_db.lastError(), QStringLiteral("opening the tracking database"), absolute);
    if (Status s = store->initialize(); !s)
        return s.error();
    return store;
}

Expected<std::unique_ptr<TrackingStore>> TrackingStore::openPostgres(const QString &location)
{
    const QUrl url(location, QUrl::StrictMode);
    const QString shown = url.isValid() ? url.toString(QUrl::RemovePassword) : QStringLiteral("postgresql://...");
    const QString expected = QStringLiteral("expected postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE");
    if (!url.isValid() || url.host().isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("not a valid PostgreSQL address; ") + expected, shown);
    const QString database = url.path().mid(1);
    if (database.isEmpty() || database.contains(QLatin1Char('/')))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("the address names no database; ") + expected, shown);
    if (!QSqlDatabase::isDriverAvailable(kPostgresDriver))
        return makeError(QStringLiteral("the Qt PostgreSQL driver (QPSQL) is not installed; on Debian install "
                                        "libqt6sql6-psql"), shown);
    // libpq options may follow as a query (sslmode=require, connect_timeout=5); only known ones are passed on.
    QStringList options{QStringLiteral("connect_timeout=10")};
    const QUrlQuery query(url);
    for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded)) {
        static const QStringList known{QStringLiteral("sslmode"), QStringLiteral("connect_timeout"),
                                       QStringLiteral("application_name"), QStringLiteral("sslrootcert"),
                                       QStringLiteral("sslcert"), QStringLiteral("sslkey")};
        if (!known.contains(key))
            return makeError(ErrorKind::InvalidInput, QStringLiteral("unknown connection option '%1' (known: %2)")
                                                          .arg(key, known.join(QStringLiteral(", "))), shown);
        if (key == u"connect_timeout")
            options.removeFirst();
        options << key + QLatin1Char('=') + value;
    }

    const QString connection = QStringLiteral("keel-tracking-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    std::unique_ptr<TrackingStore> store(new TrackingStore(shown, connection));
    store->m_db = QSqlDatabase::addDatabase(kPostgresDriver, connection);
    store->m_db.setHostName(url.host());
    store->m_db.setPort(url.port(5432));
    store->m_db.setDatabaseName(database);
    // Without a user or password in the address, libpq takes them from PGUSER/PGPASSWORD or ~/.pgpass.
    if (!url.userName().isEmpty())
        store->m_db.setUserName(url.userName(QUrl::FullyDecoded));
    if (!url.password().isEmpty())
        store->m_db.setPassword(url.password(QUrl::FullyDecoded));
    store->m_db.setConnectOptions(options.join(QLatin1Char(';')));
    if (!store->m_db.open())
        return toError(store->m_db.lastError(), QStringLiteral("connecting to the tracking server"), shown);
    if (Status s = store->initialize(); !s)
        return s.error();
    return store;
}

int TrackingStore::schemaVersion() const
{
    return m_schemaVersion;
}

int TrackingStore::latestSchemaVersion()
{
    return latestTrackingSchemaVersion();
}

QString TrackingStore::path() const
{
    return m_path;
}

Error TrackingStore::sqlError(const QSqlQuery &query, const QString &purpose) const
{
    return toError(query.lastError(), purpose, m_path);
}

Status TrackingStore::exec(QSqlQuery &query, const QString &purpose) const
{
    if (!query.exec())
        return sqlError(query, purpose);
    return Status::ok();
}

Status TrackingStore::execText(const QString &sql, const QString &purpose) const
{
    QSqlQuery query(m_db);
    if (!query.exec(sql))
        return sqlError(query, purpose);
    return Status::ok();
}

Status TrackingStore::inTransaction(const QString &purpose, const std::function<Status()> &body)
{
    const bool sqlite = m_db.driverName() == kSqliteDriver;
    if (sqlite) {
        // IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so a transaction
        // that reads before writing can never fail half-way on a lock upgrade.
        if (Status s = execText(QStringLiteral("BEGIN IMMEDIATE"), purpose + QStringLiteral(" (begin)")); !s)
            return s;
    } else {
        if (!m_db.transaction())
            return toError(m_db.lastError(), purpose + QStringLiteral(" (begin)"), m_path);
        QSqlQuery lock(m_db);
        if (!lock.exec(QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(kPostgresWriteLock))) {
            Error e = sqlError(lock, purpose + QStringLiteral(" (waiting for other writers)"));
            m_db.rollback();
            return e;
        }
    }

    auto rollback = [&] {
        if (sqlite) {
            QSqlQuery query(m_db);
            query.exec(QStringLiteral("ROLLBACK"));
        } else {
            m_db.rollback();
        }
    };

    Status result = body();
    if (!result) {
        rollback();
        return result;
    }
    if (sqlite) {
        if (Status s = execText(QStringLiteral("COMMIT"), purpose + QStringLiteral(" (commit)")); !s) {
            rollback();
            return s;
        }
    } else if (!m_db.commit()) {
        Error e = toError(m_db.lastError(), purpose + QStringLiteral(" (commit)"), m_path);
        rollback();
        return e;
    }
    return Status::ok();
}

Status TrackingStore::initialize()
{
    if (m_db.driverName() == kSqliteDriver) {
        if (Status s = execText(QStringLiteral("PRAGMA foreign_keys = ON"), QStringLiteral("enabling foreign keys")); !s)
            return s;
        // Switching to WAL needs an exclusive lock and SQLite does not call the busy handler for it, so
        // retry while another connection holds the database (two processes creating it at once).
        QString journal;
        QElapsedTimer waited;
        waited.start();
        for (;;) {
            QSqlQuery mode(m_db);
            if (mode.exec(QStringLiteral("PRAGMA journal_mode = WAL"))) {
                journal = mode.next() ? mode.value(0).toString() : QString();
                break;
            }
            const QString code = mode.lastError().nativeErrorCode();
            const bool busy = code == QLatin1String("5") || code == QLatin1String("6");   // SQLITE_BUSY, SQLITE_LOCKED
            if (!busy || waited.elapsed() > kBusyTimeoutMs)
                return sqlError(mode, QStringLiteral("switching to WAL journal mode"));
            QThread::msleep(10);
        }
        if (journal.compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0)
            return makeError(QStringLiteral("cannot use WAL journal mode (journal mode is '%1'); "
                                            "is the database on a network file system?").arg(journal), m_path);
        if (Status s = execText(QStringLiteral("PRAGMA synchronous = NORMAL"), QStringLiteral("setting synchronous mode")); !s)
            return s;
    } else {
        // "relation already exists, skipping" and the like are not worth a user's attention.
        if (Status s = execText(QStringLiteral("SET client_min_messages = warning"), QStringLiteral("configuring the session")); !s)
            return s;
    }
    return migrate();
}

Status TrackingStore::migrate()
{
    const SqlDialect dialect = m_db.driverName() == kSqliteDriver ? SqlDialect::Sqlite : SqlDialect::Postgres;
    const std::vector<Migration> migrations = trackingMigrations(dialect);
    const int latest = latestSchemaVersion();

    // Reads the recorded version; 0 for a database without the bookkeeping table.
    auto currentVersion = [&](bool tableExists) -> Expected<int> {
        if (!tableExists)
            return 0;
        QSqlQuery query(m_db);
        if (!query.exec(QStringLiteral("SELECT MAX(version) FROM schema_version")))
            return sqlError(query, QStringLiteral("reading the schema version"));
        return query.next() && !query.value(0).isNull() ? query.value(0).toInt() : 0;
    };
    auto tooNew = [&](int version) {
        return makeError(QStringLiteral("the database has schema version %1, newer than the latest this Keel "
                                        "understands (%2); use a newer Keel").arg(version).arg(latest), m_path);
    };

    // Fast path (and the only path for a read-only database that is up to date): no transaction.
    Expected<int> found = currentVersion(m_db.tables().contains(QStringLiteral("schema_version")));
    if (!found)
        return found.status();
    if (*found > latest)
        return tooNew(*found);

    int version = *found;
    while (version < latest) {
        // Each migration in its own write transaction; another process may have migrated meanwhile,
        // so the version is read again under the lock.
        Status s = inTransaction(QStringLiteral("migrating the schema"), [&]() -> Status {
            if (Status c = execText(schemaVersionTableStatement(), QStringLiteral("creating the schema_version table")); !c)
                return c;
            Expected<int> now = currentVersion(true);
            if (!now)
                return now.status();
            version = *now;
            if (version > latest)
                return tooNew(version);
            if (version == latest)
                return Status::ok();
            const Migration &step = migrations[size_t(version)];
            Q_ASSERT(step.version == version + 1);
            const QString purpose = QStringLiteral("migrating to schema version %1").arg(step.version);
            for (const QString &sql : step.statements) {
                if (Status c = execText(sql, purpose); !c)
                    return c;
            }
            QSqlQuery record(m_db);
            record.prepare(QStringLiteral("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)"));
            record.addBindValue(step.version);
            record.addBindValue(step.description);
            record.addBindValue(timeText(QDateTime::currentDateTimeUtc()));
            if (Status c = exec(record, purpose); !c)
                return c;
            version = step.version;
            return Status::ok();
        });
        if (!s)
            return s;
    }
    m_schemaVersion = version;
    return Status::ok();
}

Status TrackingStore::requireRun(const QString &runId, const QString &purpose) const
{
    if (runId.isEmpty())
        return makeError(purpose + QStringLiteral(": no run id given"), m_path, -1, QStringLiteral("run_id"));
    QSqlQuery query(m_db);
    query.prepare(QStringLiteral("SELECT 1 FROM runs WHERE id = ?"));
    query.addBindValue(runId);
    if (Status s = exec(query, purpose); !s)
        return s;
    if (!query.next())
        return makeError(purpose + QStringLiteral(": no run '") + runId + QLatin1Char('\''), m_path, -1,
                         QStringLiteral("run_id"));
    return Status::ok();
}

// ---- audit events ----

QString auditHash(const StoredAuditEvent &e)
{
    const QJsonArray fields{e.prevHash, QString::number(e.id), e.time, e.user, e.action, e.subject, e.detail, e.commit};
    const QByteArray bytes = QJsonDocument(fields).toJson(QJsonDocument::Compact);
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

namespace {

StoredAuditEvent storedFrom(const QSqlQuery &q)
{
    StoredAuditEvent e;
    e.id = q.value(0).toLongLong();
    e.time = q.value(1).toString();
    e.user = q.value(2).toString();
    e.action = q.value(3).toString();
    e.subject = q.value(4).toString();
    e.detail = q.value(5).toString();
    e.commit = q.value(6).toString();
    e.prevHash = q.value(7).toString();
    e.hash = q.value(8).toString();
    return e;
}

const char *const kStoredColumns = "id, time, user_name, action, subject, detail, commit_id, prev_hash, hash";

} // namespace

Status TrackingStore::sealAuditEvents(const QString &purpose)
{
    // The chain's identity, made when it starts.
    QSqlQuery chain(m_db);
    chain.prepare(QStringLiteral("SELECT value FROM audit_meta WHERE name = 'chain'"));
    if (Status s = exec(chain, purpose); !s)
        return s;
    if (!chain.next()) {
        QSqlQuery make(m_db);
        make.prepare(QStringLiteral("INSERT INTO audit_meta (name, value) VALUES ('chain', ?)"));
        make.addBindValue(QUuid::createUuid().toString(QUuid::WithoutBraces));
        if (Status s = exec(make, purpose); !s)
            return s;
    }
    chain.finish();
    QSqlQuery last(m_db);
    last.prepare(QStringLiteral("SELECT hash FROM audit_events WHERE hash IS NOT NULL AND hash <> '' ORDER BY id DESC LIMIT 1"));
    if (Status s = exec(last, purpose); !s)
        return s;
    QString prev = last.next() ? last.value(0).toString() : QString();
    last.finish();
    QSqlQuery pending(m_db);
    pending.prepare(QStringLiteral("SELECT %1 FROM audit_events WHERE hash IS NULL OR hash = '' ORDER BY id").arg(QLatin1String(kStoredColumns)));
    if (Status s = exec(pending, purpose); !s)
        return s;
    std::vector<StoredAuditEvent> open;
    while (pending.next())
        open.push_back(storedFrom(pending));
    pending.finish();
    for (StoredAuditEvent &e : open) {
        e.prevHash = prev;
        e.hash = auditHash(e);
        QSqlQuery seal(m_db);
        seal.prepare(QStringLiteral("UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?"));
        seal.addBindValue(e.prevHash);
        seal.addBindValue(e.hash);
        seal.addBindValue(e.id);
        if (Status s = exec(seal, purpose); !s)
            return s;
        prev = e.hash;
    }
    return Status::ok();
}

Expected<std::vector<StoredAuditEvent>> TrackingStore::auditChain() const
{
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT %1 FROM audit_events ORDER BY id").arg(QLatin1String(kStoredColumns)));
    if (Status s = exec(query, QStringLiteral("reading the audit chain")); !s)
        return s;
    std::vector<StoredAuditEvent> out;
    while (query.next())
        out.push_back(storedFrom(query));
    return out;
}

Expected<QString> TrackingStore::auditChainId() const
{
    QSqlQuery q(m_db);
    q.prepare(QStringLiteral("SELECT value FROM audit_meta WHERE name = 'chain'"));
    if (Status s = exec(q, QStringLiteral("reading the audit chain's id")); !s)
        return s;
    return q.next() ? q.value(0).toString() : QString();
}

Expected<AuditHead> TrackingStore::auditHead()
{
    AuditHead head;
    const QString purpose = QStringLiteral("reading the audit chain's head");
    Status s = inTransaction(purpose, [&]() -> Status {
        QSqlQuery any(m_db);
        any.prepare(QStringLiteral("SELECT COUNT(*) FROM audit_events"));
        if (Status e = exec(any, purpose); !e)
            return e;
        if (!any.next() || any.value(0).toLongLong() == 0)
            return Status::ok();
        any.finish();
        if (Status e = sealAuditEvents(purpose); !e)
            return e;
        QSqlQuery q(m_db);
        q.prepare(QStringLiteral("SELECT id, hash, (SELECT value FROM audit_meta WHERE name = 'chain') FROM audit_events ORDER BY id DESC LIMIT 1"));
        if (Status e = exec(q, purpose); !e)
            return e;
        if (q.next()) {
            head.id = q.value(0).toLongLong();
            head.hash = q.value(1).toString();
            head.chain = q.value(2).toString();
        }
        return Status::ok();
    });
    if (!s)
        return s;
    return head;
}

Expected<qint64> TrackingStore::addAuditEvent(const AuditEvent &event)
{
    if (event.action.isEmpty())
        return makeError(QStringLiteral("audit event without an action"), m_path, -1, QStringLiteral("action"));
    const QString purpose = QStringLiteral("adding audit event '") + event.action + QLatin1Char('\'');
    qint64 id = 0;
    Status s = inTransaction(purpose, [&]() -> Status {
        if (Status e = sealAuditEvents(purpose); !e)
            return e;
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral("INSERT INTO audit_events (time, user_name, action, subject, detail, commit_id)"
                                     " VALUES (?, ?, ?, ?, ?, ?) RETURNING id"));
        query.addBindValue(timeText(event.time.isValid() ? event.time : QDateTime::currentDateTimeUtc()));
        query.addBindValue(event.user.isEmpty() ? osUserName() : event.user);
        query.addBindValue(event.action);
        query.addBindValue(text(event.subject));
        query.addBindValue(QString::fromUtf8(QJsonDocument(event.detail).toJson(QJsonDocument::Compact)));
        query.addBindValue(text(event.commit));
        if (Status e = exec(query, purpose); !e)
            return e;
        if (!query.next())
            return sqlError(query, purpose + QStringLiteral(" (reading the new id)"));
        id = query.value(0).toLongLong();
        query.finish();
        return sealAuditEvents(purpose);   // the new event joins the chain in the same transaction
    });
    if (!s)
        return s;
    return id;
}

Expected<std::vector<AuditEvent>> TrackingStore::auditEvents(const QString &subject, int limit) const
{
    QString sql = QStringLiteral("SELECT id, time, user_name, action, subject, detail, commit_id FROM audit_events");
    if (!subject.isEmpty())
        sql += QStringLiteral(" WHERE subject = ?");
    sql += QStringLiteral(" ORDER BY time DESC, id DESC");
    if (limit >= 0)
        sql += QStringLiteral(" LIMIT ") + QString::number(limit);
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    query.prepare(sql);
    if (!subject.isEmpty())
        query.addBindValue(subject);
    const QString purpose = QStringLiteral("reading audit events");
    if (Status s = exec(query, purpose); !s)
        return s;
    std::vector<AuditEvent> out;
    while (query.next()) {
        AuditEvent e;
        e.id = query.value(0).toLongLong();
        e.time = timeFromVariant(query.value(1));
        e.user = query.value(2).toString();
        e.action = query.value(3).toString();
        e.subject = query.value(4).toString();
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(query.value(5).toString().toUtf8(), &parseError);
        if (parseError.error != QJsonParseError::NoError || !doc.isObject())
            return makeError(QStringLiteral("audit event %1 has invalid JSON detail").arg(e.id), m_path, -1,
                             QStringLiteral("detail"));
        e.detail = doc.object();
        e.commit = query.value(6).toString();
        out.push_back(std::move(e));
    }
    if (query.lastError().isValid())
        return sqlError(query, purpose);
    return out;
}

Expected<bool> TrackingStore::hasAuditEventFor(const QString &action, const QString &commit) const
{
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT 1 FROM audit_events WHERE action = ? AND commit_id = ? LIMIT 1"));
    query.addBindValue(action);
    query.addBindValue(commit);
    if (Status s = exec(query, QStringLiteral("reading audit events")); !s)
        return s.error();
    return query.next();
}

Expected<QStringList> TrackingStore::allArtifactObjects() const
{
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral("SELECT DISTINCT object_id FROM artifacts ORDER BY object_id")))
        return sqlError(query, QStringLiteral("reading artifact objects"));
    QStringList out;
    while (query.next())
        out << query.value(0).toString();
    if (query.lastError().isValid())
        return sqlError(query, QStringLiteral("reading artifact objects"));
    return out;
}

Expected<std::vector<ArtifactRecord>> TrackingStore::allArtifacts() const
{
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral("SELECT run_id, name, object_id, size, kind FROM artifacts ORDER BY run_id, name")))
        return sqlError(query, QStringLiteral("reading artifacts"));
    std::vector<ArtifactRecord> out;
    while (query.next())
        out.push_back(ArtifactRecord{query.value(0).toString(), query.value(1).toString(), query.value(2).toString(),
                                     query.value(3).toLongLong(), query.value(4).toString()});
    if (query.lastError().isValid())
        return sqlError(query, QStringLiteral("reading artifacts"));
    return out;
}

// ---- experiments ----

Expected<qint64> TrackingStore::experimentIdInTransaction(const QString &name)
{
    const QString purpose = QStringLiteral("creating experiment '") + name + QLatin1Char('\'');
    QSqlQuery insert(m_db);
    insert.prepare(QStringLiteral("INSERT INTO experiments (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"));
    insert.addBindValue(name);
    insert.addBindValue(timeText(QDateTime::currentDateTimeUtc()));
    if (Status s = exec(insert, purpose); !s)
        return s;
    QSqlQuery select(m_db);
    select.prepare(QStringLiteral("SELECT id FROM experiments WHERE name = ?"));
    select.addBindValue(name);
    if (Status s = exec(select, purpose); !s)
        return s;
    if (!select.next())
        return sqlError(select, purpose);
    return select.value(0).toLongLong();
}

Expected<qint64> TrackingStore::ensureExperiment(const QString &name)
{
    if (name.isEmpty())
        return makeError(QStringLiteral("experiment without a name"), m_path, -1, QStringLiteral("experiment"));
    qint64 id = 0;
    Status s = inTransaction(QStringLiteral("creating experiment '") + name + QLatin1Char('\''), [&]() -> Status {
        Expected<qint64> found = experimentIdInTransaction(name);
        if (!found)
            return found.status();
        id = *found;
        return Status::ok();
    });
    if (!s)
        return s;
    return id;
}

Expected<std::vector<ExperimentRecord>> TrackingStore::experiments() const
{
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    const QString purpose = QStringLiteral("reading experiments");
    if (!query.exec(QStringLiteral("SELECT id, name, created_at FROM experiments ORDER BY id")))
        return sqlError(query, purpose);
    std::vector<ExperimentRecord> out;
    while (query.next())
        out.push_back({query.value(0).toLongLong(), query.value(1).toString(), timeFromVariant(query.value(2))});
    if (query.lastError().isValid())
        return sqlError(query, purpose);
    return out;
}

// ---- runs ----

Expected<QString> TrackingStore::createRun(const RunRecord &in)
{
    RunRecord r = in;
    if (r.id.isEmpty())
        r.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    if (r.experiment.isEmpty())
        r.experiment = QStringLiteral("default");
    if (r.user.isEmpty())
        r.user = osUserName();
    if (r.host.isEmpty())
        r.host = QSysInfo::machineHostName();
    if (r.pid == 0)
        r.pid = QCoreApplication::applicationPid();
    if (!r.start.isValid())
        r.start = QDateTime::currentDateTimeUtc();
    if (r.parentRunId == r.id)
        return makeError(QStringLiteral("run '") + r.id + QStringLiteral("' cannot be its own parent"), m_path, -1,
                         QStringLiteral("parent_run_id"));

    const QString purpose = QStringLiteral("creating run '") + r.id + QLatin1Char('\'');
    Status s = inTransaction(purpose, [&]() -> Status {
        Expected<qint64> experimentId = experimentIdInTransaction(r.experiment);
        if (!experimentId)
            return experimentId.status();
        if (!r.parentRunId.isEmpty()) {
            if (Status p = requireRun(r.parentRunId, purpose + QStringLiteral(" (parent run)")); !p) {
                Error e = p.error();
                e.field = QStringLiteral("parent_run_id");
                return e;
            }
        }
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral("INSERT INTO runs (id, experiment_id, name, parent_run_id, sweep_id, status, user_name,"
                                     " host, pid, start_time, end_time, config) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
        query.addBindValue(r.id);
        query.addBindValue(*experimentId);
        query.addBindValue(text(r.name));
        query.addBindValue(textOrNull(r.parentRunId));
        query.addBindValue(textOrNull(r.sweepId));
        query.addBindValue(runStatusName(r.status));
        query.addBindValue(r.user);
        query.addBindValue(r.host);
        query.addBindValue(r.pid);
        query.addBindValue(timeText(r.start));
        query.addBindValue(r.end.isValid() ? QVariant(timeText(r.end)) : QVariant(QMetaType::fromType<QString>()));
        query.addBindValue(text(r.config));
        return exec(query, purpose);
    });
    if (!s)
        return s;
    return r.id;
}

Status TrackingStore::finishRun(const QString &runId, RunStatus status)
{
    if (status == RunStatus::Running)
        return makeError(QStringLiteral("finishing run '") + runId + QStringLiteral("' needs a final status, not 'running'"),
                         m_path, -1, QStringLiteral("status"));
    const QString purpose = QStringLiteral("finishing run '") + runId + QLatin1Char('\'');
    return inTransaction(purpose, [&]() -> Status {
        if (Status r = requireRun(runId, purpose); !r)
            return r;
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral("UPDATE runs SET status = ?, end_time = ? WHERE id = ?"));
        query.addBindValue(runStatusName(status));
        query.addBindValue(timeText(QDateTime::currentDateTimeUtc()));
        query.addBindValue(runId);
        return exec(query, purpose);
    });
}

Expected<int> TrackingStore::markDeadRunsKilled()
{
    const QString purpose = QStringLiteral("marking dead runs killed");
    std::vector<QString> dead;
    {
        QSqlQuery query(m_db);
        query.setForwardOnly(true);
        query.prepare(QStringLiteral("SELECT id, pid, start_time FROM runs WHERE status = ? AND host = ?"));
        query.addBindValue(runStatusName(RunStatus::Running));
        query.addBindValue(QSysInfo::machineHostName());
        if (Status s = exec(query, purpose); !s)
            return s;
        while (query.next()) {
            if (runProcessGone(query.value(1).toLongLong(), timeFromVariant(query.value(2))))
                dead.push_back(query.value(0).toString());
        }
        if (query.lastError().isValid())
            return sqlError(query, purpose);
    }
    if (dead.empty())
        return 0;

    int marked = 0;
    Status s = inTransaction(purpose, [&]() -> Status {
        QSqlQuery query(m_db);
        // Only runs still running: one may have finished since it was read.
        query.prepare(QStringLiteral("UPDATE runs SET status = ?, end_time = ? WHERE id = ? AND status = ?"));
        const QString now = timeText(QDateTime::currentDateTimeUtc());
        for (const QString &id : dead) {
            query.bindValue(0, runStatusName(RunStatus::Killed));
            query.bindValue(1, now);
            query.bindValue(2, id);
            query.bindValue(3, runStatusName(RunStatus::Running));
            if (Status e = exec(query, purpose); !e)
                return e;
            marked += query.numRowsAffected() > 0 ? 1 : 0;
        }
        return Status::ok();
    });
    if (!s)
        return s;
    return marked;
}

namespace {

const QString kRunColumns = QStringLiteral(
    "SELECT r.id, e.name, r.name, r.parent_run_id, r.sweep_id, r.status, r.user_name, r.host, r.pid,"
    " r.start_time, r.end_time, r.config FROM runs r JOIN experiments e ON e.id = r.experiment_id");

RunRecord runFromQuery(const QSqlQuery &q)
{
    RunRecord r;
    r.id = q.value(0).toString();
    r.experiment = q.value(1).toString();
    r.name = q.value(2).toString();
    r.parentRunId = q.value(3).toString();
    r.sweepId = q.value(4).toString();
    r.status = runStatusFromName(q.value(5).toString()).value_or(RunStatus::Running);
    r.user = q.value(6).toString();
    r.host = q.value(7).toString();
    r.pid = q.value(8).toLongLong();
    r.start = timeFromVariant(q.value(9));
    r.end = timeFromVariant(q.value(10));
    r.config = q.value(11).toString();
    return r;
}

} // namespace

Expected<RunRecord> TrackingStore::findRun(const QString &prefix) const
{
    auto all = runs();
    if (!all)
        return all.error();
    std::vector<const RunRecord *> matches;
    for (const RunRecord &r : *all) {
        if (r.id.compare(prefix, Qt::CaseInsensitive) == 0)
            return r;
        if (!prefix.isEmpty() && r.id.startsWith(prefix, Qt::CaseInsensitive))
            matches.push_back(&r);
    }
    if (matches.empty())
        return makeError(QStringLiteral("no run with id starting '%1' (see keel runs list)").arg(prefix));
    if (matches.size() > 1)
        return makeError(QStringLiteral("'%1' matches %2 runs; give more of the id").arg(prefix).arg(matches.size()));
    return *matches.front();
}

Expected<RunRecord> TrackingStore::run(const QString &runId) const
{
    const QString purpose = QStringLiteral("reading run '") + runId + QLatin1Char('\'');
    QSqlQuery query(m_db);
    query.prepare(kRunColumns + QStringLiteral(" WHERE r.id = ?"));
    query.addBindValue(runId);
    if (Status s = exec(query, purpose); !s)
        return s;
    if (!query.next()) {
        if (query.lastError().isValid())
            return sqlError(query, purpose);
        return makeError(QStringLiteral("no run '") + runId + QLatin1Char('\''), m_path, -1, QStringLiteral("run_id"));
    }
    return runFromQuery(query);
}

Expected<std::vector<RunRecord>> TrackingStore::runs(const QString &experiment) const
{
    const QString purpose = QStringLiteral("reading runs");
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    query.prepare(kRunColumns + (experiment.isEmpty() ? QString() : QStringLiteral(" WHERE e.name = ?"))
                  + QStringLiteral(" ORDER BY r.start_time, r.id"));
    if (!experiment.isEmpty())
        query.addBindValue(experiment);
    if (Status s = exec(query, purpose); !s)
        return s;
    std::vector<RunRecord> out;
    while (query.next())
        out.push_back(runFromQuery(query));
    if (query.lastError().isValid())
        return sqlError(query, purpose);
    return out;
}

Expected<std::vector<RunSummary>> TrackingStore::runSummaries(const QString &experiment, Feedback *feedback) const
{
    const QString purpose = QStringLiteral("reading run summaries");
    const QString stage = QStringLiteral("runs");
    const bool one = !experiment.isEmpty();
    // The same filter in all three queries; the subquery keeps them single-table on `runs` for the planner.
    const QString inExperiment = one ? QStringLiteral(" AND r.experiment_id = (SELECT id FROM experiments WHERE name = ?)")
                                     : QString();
    constexpr int kCheckEvery = 1024;
    const auto cancelled = [&] { return cancelledError(m_path); };
    // Rows are read through the connection's own sqlite3 or libpq handle (tracking/rowreader.h): at 100,000 runs,
    // a QVariant per value was most of the time.
    const auto read = [&](const QString &sql, int binds) {
        QStringList values;
        for (int i = 0; i < binds; ++i)
            values << experiment;
        return RowReader::run(m_db, sql, one ? values : QStringList());
    };

    std::vector<RunSummary> out;
    TextMap<size_t> position;   ///< run id (UTF-8) -> index in out
    reportProgress(feedback, 0, 3, stage);
    {
        // The runs' columns as kRunColumns, but without the config text (read it with run()).
        const auto rows = read(QStringLiteral("SELECT r.id, e.name, r.name, r.parent_run_id, r.sweep_id, r.status, r.user_name,"
                                              " r.host, r.pid, r.start_time, r.end_time FROM runs r"
                                              " JOIN experiments e ON e.id = r.experiment_id WHERE 1 = 1")
                                   + inExperiment + QStringLiteral(" ORDER BY r.start_time, r.id"),
                               1);
        QString lastExperiment;
        QByteArray lastExperimentBytes, lastStatusBytes;
        RunStatus lastStatus = RunStatus::Running;
        while (rows->next()) {
            if (out.size() % kCheckEvery == 0 && isCancelled(feedback))
                return cancelled();
            RunSummary summary;
            RunRecord &r = summary.run;
            r.id = rows->text(0);
            // Runs of one experiment and status repeat: share the text rather than decode it again.
            if (rows->utf8(1) != lastExperimentBytes || lastExperiment.isNull()) {
                lastExperimentBytes = rows->utf8(1).toByteArray();
                lastExperiment = rows->text(1);
            }
            r.experiment = lastExperiment;
            r.name = rows->text(2);
            r.parentRunId = rows->text(3);
            r.sweepId = rows->text(4);
            if (rows->utf8(5) != lastStatusBytes || out.empty()) {
                lastStatusBytes = rows->utf8(5).toByteArray();
                lastStatus = runStatusFromName(rows->text(5)).value_or(RunStatus::Running);
            }
            r.status = lastStatus;
            r.user = rows->text(6);
            r.host = rows->text(7);
            r.pid = rows->integer(8);
            r.start = rows->isNull(9) ? QDateTime() : timeFromUtf8(rows->utf8(9));
            r.end = rows->isNull(10) ? QDateTime() : timeFromUtf8(rows->utf8(10));
            position.emplace(std::string(rows->utf8(0).data(), size_t(rows->utf8(0).size())), out.size());
            out.push_back(std::move(summary));
        }
        if (rows->error().isValid())
            return toError(rows->error(), purpose, m_path);
    }
    reportProgress(feedback, 1, 3, stage);
    {
        // In the runs' own order, so each row's run is found by walking forward (a merge join, no hashing); a run
        // that appeared since the first query is looked up instead.
        const auto rows = read(QStringLiteral("SELECT p.run_id, p.key, p.value FROM runs r CROSS JOIN params p WHERE p.run_id = r.id")
                                   + inExperiment + QStringLiteral(" ORDER BY r.start_time, r.id, p.key"),
                               1);
        qint64 count = 0;
        size_t cursor = 0;
        while (rows->next()) {
            if (++count % kCheckEvery == 0 && isCancelled(feedback))
                return cancelled();
            const QString id = rows->text(0);
            size_t at = cursor;
            while (at < out.size() && out[at].run.id != id)
                ++at;
            if (at < out.size()) {
                cursor = at;
            } else if (const auto it = position.find(std::string_view(rows->utf8(0).data(), size_t(rows->utf8(0).size())));
                       it != position.end()) {
                at = it->second;
            } else {
                continue;
            }
            out[at].params.emplace_back(rows->text(1), rows->text(2));
        }
        if (rows->error().isValid())
            return toError(rows->error(), purpose + QStringLiteral(" (params)"), m_path);
    }
    reportProgress(feedback, 2, 3, stage);
    {
        // CROSS JOIN keeps `runs` as the outer loop on SQLite, so each run is one seek into metrics_run_key_step
        // rather than a scan of every curve point. Equal (run, key, step) entries come in insertion order.
        const QString select = QStringLiteral("SELECT m.run_id, m.key, m.value FROM runs r CROSS JOIN metrics m"
                                              " WHERE m.run_id = r.id AND m.step = 0 AND ");
        // The final metric keys of metrickeys.h, one index range per prefix ('.' + 1 == '/').
        QString sql;
        for (const QString &prefix : finalMetricPrefixes()) {
            const QString upper = prefix.chopped(1) + QLatin1Char('/');
            if (!sql.isEmpty())
                sql += QStringLiteral(" UNION ALL ");
            sql += select + QStringLiteral("m.key >= '%1' AND m.key < '%2'").arg(prefix, upper);
            if (prefix == u"cv.")
                sql += QStringLiteral(" AND (m.key LIKE '%.mean' OR m.key LIKE '%.std')");
            sql += inExperiment;
        }
        const auto rows = read(sql, int(finalMetricPrefixes().size()));
        qint64 count = 0;
        QByteArray lastId, lastKeyBytes;
        qint64 lastIndex = -1;
        QString lastKey;
        while (rows->next()) {
            if (++count % kCheckEvery == 0 && isCancelled(feedback))
                return cancelled();
            // Rows of one run come together: look a run up once, not once per metric.
            if (rows->utf8(0) != lastId) {   // ids are never empty, so the first row always differs
                lastId = rows->utf8(0).toByteArray();
                const auto it = position.find(std::string_view(lastId.constData(), size_t(lastId.size())));
                lastIndex = it == position.end() ? -1 : qint64(it->second);
            }
            if (lastIndex < 0)
                continue;
            // Keys repeat from run to run: share the text.
            if (rows->utf8(1) != lastKeyBytes || lastKey.isNull()) {
                lastKeyBytes = rows->utf8(1).toByteArray();
                lastKey = rows->text(1);
            }
            out[size_t(lastIndex)].metrics.emplace_back(lastKey, rows->real(2));
        }
        if (rows->error().isValid())
            return toError(rows->error(), purpose + QStringLiteral(" (metrics)"), m_path);
    }
    for (RunSummary &summary : out) {
        std::sort(summary.params.begin(), summary.params.end());
        // Stable: of several step-0 points of one key, the last logged comes last and is the one kept.
        std::stable_sort(summary.metrics.begin(), summary.metrics.end(),
                         [](const auto &a, const auto &b) { return a.first < b.first; });
        auto &m = summary.metrics;
        std::vector<std::pair<QString, double>> unique;
        unique.reserve(m.size());
        for (size_t i = 0; i < m.size(); ++i) {
            if (i + 1 < m.size() && m[i + 1].first == m[i].first)
                continue;
            unique.push_back(std::move(m[i]));
        }
        m = std::move(unique);
    }
    reportProgress(feedback, 3, 3, stage);
    return out;
}

Status TrackingStore::forEachRunLine(const QString &experiment, Feedback *feedback, const std::function<void(const RunLine &)> &visit) const
{
    const QString purpose = QStringLiteral("listing runs");
    const QString stage = QStringLiteral("runs");
    const bool one = !experiment.isEmpty();
    const QString inExperiment = one ? QStringLiteral(" AND r.experiment_id = (SELECT id FROM experiments WHERE name = ?)")
                                     : QString();
    const QStringList binds = one ? QStringList{experiment} : QStringList();
    const QStringList &headlineKeys = headlineMetricKeys();
    QString keyList;
    std::vector<QByteArray> keyBytes;
    for (const QString &key : headlineKeys) {
        keyList += (keyList.isEmpty() ? QStringLiteral("'") : QStringLiteral(", '")) + key + QLatin1Char('\'');
        keyBytes.push_back(key.toUtf8());
    }

    // Both queries read one snapshot, so the metrics' runs are among the runs and come in the same order: the two
    // results merge by walking forward, with no lookup by id. (A read transaction on SQLite; REPEATABLE READ on
    // PostgreSQL, where each statement would otherwise see its own.)
    const bool sqlite = m_db.driverName() == kSqliteDriver;
    if (Status s = execText(sqlite ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
                            purpose + QStringLiteral(" (begin)"));
        !s)
        return s;
    const auto body = [&]() -> Status {
        reportProgress(feedback, 0, 2, stage);
        const auto runs = RowReader::run(m_db,
                                         QStringLiteral("SELECT r.id, e.name, r.name, r.parent_run_id, r.sweep_id, r.status, r.start_time,"
                                                        " r.end_time FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE 1 = 1")
                                             + inExperiment + QStringLiteral(" ORDER BY r.start_time, r.id"),
                                         binds);
        // CROSS JOIN keeps `runs` as the outer loop on SQLite: one seek per run and key into metrics_run_key_step.
        // Within a run, the latest point of a key comes last (a final metric logged twice counts once, the last;
        // points logged in one call share a time, and SQLite's rowid keeps their order).
        const auto heads = RowReader::run(m_db,
                                          QStringLiteral("SELECT m.run_id, m.key, m.value FROM runs r CROSS JOIN metrics m"
                                                         " WHERE m.run_id = r.id AND m.step = 0 AND m.key IN (%1)")
                                                  .arg(keyList)
                                              + inExperiment + QStringLiteral(" ORDER BY r.start_time, r.id, m.time")
                                              + (sqlite ? QStringLiteral(", m.rowid") : QString()),
                                          binds);
        if (runs->error().isValid())
            return toError(runs->error(), purpose, m_path);
        if (heads->error().isValid())
            return toError(heads->error(), purpose + QStringLiteral(" (metrics)"), m_path);
        reportProgress(feedback, 1, 2, stage);
        const auto text = [](const RowReader &rows, int column) {
            const QByteArrayView b = rows.utf8(column);
            return QUtf8StringView(b.data(), b.size());
        };
        const auto time = [](const RowReader &rows, int column) {
            return rows.isNull(column) ? std::nullopt : millisFromUtf8(rows.utf8(column));
        };
        QByteArray lastStatusBytes;
        RunStatus lastStatus = RunStatus::Running;
        bool more = heads->next();
        qint64 count = 0;
        while (runs->next()) {
            if (count++ % 1024 == 0 && isCancelled(feedback))
                return cancelledError(m_path);
            RunLine line;
            line.id = text(*runs, 0);
            line.experiment = text(*runs, 1);
            line.name = text(*runs, 2);
            line.parentRunId = text(*runs, 3);
            line.sweepId = text(*runs, 4);
            if (runs->utf8(5) != lastStatusBytes || count == 1) {
                lastStatusBytes = runs->utf8(5).toByteArray();
                lastStatus = runStatusFromName(runs->text(5)).value_or(RunStatus::Running);
            }
            line.status = lastStatus;
            line.startMs = time(*runs, 6);
            line.endMs = time(*runs, 7);
            // This run's metric rows, if any, are next: the first key in order of preference wins, and of its points
            // the last.
            size_t best = keyBytes.size();
            while (more && heads->utf8(0) == runs->utf8(0)) {
                const QByteArrayView key = heads->utf8(1);
                for (size_t k = 0; k <= best && k < keyBytes.size(); ++k)
                    if (key == keyBytes[k]) {
                        best = k;
                        line.headlineValue = heads->real(2);
                        break;
                    }
                more = heads->next();
            }
            if (best < keyBytes.size())
                line.headlineKey = headlineKeys[qsizetype(best)];
            visit(line);
        }
        if (runs->error().isValid())
            return toError(runs->error(), purpose, m_path);
        if (heads->error().isValid())
            return toError(heads->error(), purpose + QStringLiteral(" (metrics)"), m_path);
        if (more)   // cannot happen in one snapshot; would mean the two orders disagree
            return makeError(QStringLiteral("the run and metric queries returned runs in different orders"), m_path);
        reportProgress(feedback, 2, 2, stage);
        return Status::ok();
    };
    // The readers are gone when the read transaction ends; it ends on every way out (a throwing visitor included).
    struct EndRead {
        const TrackingStore *store;
        bool ended = false;
        ~EndRead()
        {
            if (!ended) {
                QSqlQuery rollback(store->m_db);
                rollback.exec(QStringLiteral("ROLLBACK"));
            }
        }
    } endRead{this};
    const Status result = body();
    const Status committed = execText(QStringLiteral("COMMIT"), purpose + QStringLiteral(" (end)"));
    if (committed)
        endRead.ended = true;
    return result ? committed : result;
}

// ---- params and tags ----

namespace {

Status checkKeys(const std::vector<std::pair<QString, QString>> &pairs, const QString &what, const QString &path)
{
    for (size_t i = 0; i < pairs.size(); ++i) {
        if (pairs[i].first.isEmpty())
            return makeError(QStringLiteral("%1 %2 has an empty key").arg(what).arg(i + 1), path, -1, QStringLiteral("key"));
    }
    return Status::ok();
}

} // namespace

Status TrackingStore::setParams(const QString &runId, const std::vector<std::pair<QString, QString>> &params)
{
    if (Status s = checkKeys(params, QStringLiteral("param"), m_path); !s)
        return s;
    const QString purpose = QStringLiteral("setting params of run '") + runId + QLatin1Char('\'');
    return inTransaction(purpose, [&]() -> Status {
        if (Status r = requireRun(runId, purpose); !r)
            return r;
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)"
                                     " ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value"));
        for (const auto &[key, value] : params) {
            query.bindValue(0, runId);
            query.bindValue(1, key);
            query.bindValue(2, text(value));
            if (Status e = exec(query, purpose + QStringLiteral(" (key '") + key + QStringLiteral("')")); !e)
                return e;
        }
        return Status::ok();
    });
}

namespace {

Expected<std::vector<std::pair<QString, QString>>> readPairs(QSqlQuery &query, const QString &purpose,
                                                             const QString &path)
{
    std::vector<std::pair<QString, QString>> out;
    while (query.next())
        out.emplace_back(query.value(0).toString(), query.value(1).toString());
    if (query.lastError().isValid())
        return toError(query.lastError(), purpose, path);
    return out;
}

} // namespace

Expected<std::vector<std::pair<QString, QString>>> TrackingStore::params(const QString &runId) const
{
    const QString purpose = QStringLiteral("reading params of run '") + runId + QLatin1Char('\'');
    if (Status r = requireRun(runId, purpose); !r)
        return r;
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT key, value FROM params WHERE run_id = ? ORDER BY key"));
    query.addBindValue(runId);
    if (Status s = exec(query, purpose); !s)
        return s;
    return readPairs(query, purpose, m_path);
}

Status TrackingStore::setTag(const QString &runId, const QString &key, const QString &value)
{
    if (key.isEmpty())
        return makeError(QStringLiteral("tag with an empty key"), m_path, -1, QStringLiteral("key"));
    const QString purpose = QStringLiteral("setting tag '") + key + QStringLiteral("' of run '") + runId + QLatin1Char('\'');
    return inTransaction(purpose, [&]() -> Status {
        if (Status r = requireRun(runId, purpose); !r)
            return r;
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)"
                                     " ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value"));
        query.addBindValue(runId);
        query.addBindValue(key);
        query.addBindValue(text(value));
        return exec(query, purpose);
    });
}

Expected<std::vector<std::pair<QString, QString>>> TrackingStore::tags(const QString &runId) const
{
    const QString purpose = QStringLiteral("reading tags of run '") + runId + QLatin1Char('\'');
    if (Status r = requireRun(runId, purpose); !r)
        return r;
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT key, value FROM tags WHERE run_id = ? ORDER BY key"));
    query.addBindValue(runId);
    if (Status s = exec(query, purpose); !s)
        return s;
    return readPairs(query, purpose, m_path);
}

// ---- metrics ----

Status TrackingStore::logMetrics(const QString &runId, const std::vector<MetricPoint> &points, Feedback *feedback)
{
    for (size_t i = 0; i < points.size(); ++i) {
        if (points[i].key.isEmpty())
            return makeError(QStringLiteral("metric point %1 has an empty key").arg(i + 1), m_path, -1, QStringLiteral("key"));
    }
    const QString purpose = QStringLiteral("logging metrics of run '") + runId + QLatin1Char('\'');
    const QString stage = QStringLiteral("logging metrics");
    const qint64 total = qint64(points.size());
    return inTransaction(purpose, [&]() -> Status {
        if (Status r = requireRun(runId, purpose); !r)
            return r;
        // Multi-row INSERTs: the per-statement overhead of Qt SQL dominates single-row inserts.
        constexpr size_t kRowsPerStatement = 128;
        constexpr int kColumns = 5;
        auto insertFor = [](size_t rows) {
            QString sql = QStringLiteral("INSERT INTO metrics (run_id, key, step, value, time) VALUES ");
            for (size_t i = 0; i < rows; ++i)
                sql += i == 0 ? QStringLiteral("(?, ?, ?, ?, ?)") : QStringLiteral(", (?, ?, ?, ?, ?)");
            return sql;
        };
        QSqlQuery full(m_db);
        if (points.size() >= kRowsPerStatement && !full.prepare(insertFor(kRowsPerStatement)))
            return sqlError(full, purpose);
        const QString now = timeText(QDateTime::currentDateTimeUtc());
        const QVariant nullValue(QMetaType::fromType<double>());
        const QVariant runIdValue(runId);
        for (size_t begin = 0; begin < points.size(); begin += kRowsPerStatement) {
            if (isCancelled(feedback))
                return cancelledError(m_path);
            reportProgress(feedback, qint64(begin), total, stage);
            const size_t rows = std::min(kRowsPerStatement, points.size() - begin);
            QSqlQuery partial(m_db);
            if (rows < kRowsPerStatement && !partial.prepare(insertFor(rows)))
                return sqlError(partial, purpose);
            QSqlQuery &query = rows < kRowsPerStatement ? partial : full;
            for (size_t r = 0; r < rows; ++r) {
                const MetricPoint &p = points[begin + r];
                const int base = int(r) * kColumns;
                query.bindValue(base, runIdValue);
                query.bindValue(base + 1, p.key);
                query.bindValue(base + 2, p.step);
                // SQLite cannot store NaN (it becomes NULL); store NULL explicitly and read it back as NaN.
                query.bindValue(base + 3, std::isnan(p.value) ? nullValue : QVariant(p.value));
                query.bindValue(base + 4, p.time.isValid() ? timeText(p.time) : now);
            }
            if (Status e = exec(query, purpose); !e)
                return e;
        }
        reportProgress(feedback, total, total, stage);
        return Status::ok();
    });
}

Expected<std::vector<MetricPoint>> TrackingStore::metrics(const QString &runId, const QString &key) const
{
    const QString purpose = QStringLiteral("reading metrics of run '") + runId + QLatin1Char('\'');
    if (Status r = requireRun(runId, purpose); !r)
        return r;
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT key, step, value, time FROM metrics WHERE run_id = ?")
                  + (key.isEmpty() ? QString() : QStringLiteral(" AND key = ?"))
                  + QStringLiteral(" ORDER BY key, step, time"));
    query.addBindValue(runId);
    if (!key.isEmpty())
        query.addBindValue(key);
    if (Status s = exec(query, purpose); !s)
        return s;
    std::vector<MetricPoint> out;
    while (query.next()) {
        MetricPoint p;
        p.key = query.value(0).toString();
        p.step = query.value(1).toLongLong();
        const QVariant v = query.value(2);
        p.value = v.isNull() ? std::numeric_limits<double>::quiet_NaN() : v.toDouble();
        p.time = timeFromVariant(query.value(3));
        out.push_back(std::move(p));
    }
    if (query.lastError().isValid())
        return sqlError(query, purpose);
    return out;
}

// ---- artifacts ----

Status TrackingStore::addArtifact(const ArtifactRecord &artifact)
{
    if (artifact.name.isEmpty())
        return makeError(QStringLiteral("artifact without a name"), m_path, -1, QStringLiteral("name"));
    if (artifact.objectId.isEmpty())
        return makeError(QStringLiteral("artifact '") + artifact.name + QStringLiteral("' without an object id"), m_path, -1,
                         QStringLiteral("object_id"));
    const QString purpose = QStringLiteral("adding artifact '") + artifact.name + QStringLiteral("' to run '")
        + artifact.runId + QLatin1Char('\'');
    return inTransaction(purpose, [&]() -> Status {
        if (Status r = requireRun(artifact.runId, purpose); !r)
            return r;
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral("INSERT INTO artifacts (run_id, name, object_id, size, kind) VALUES (?, ?, ?, ?, ?)"));
        query.addBindValue(artifact.runId);
        query.addBindValue(artifact.name);
        query.addBindValue(artifact.objectId);
        query.addBindValue(artifact.size);
        query.addBindValue(text(artifact.kind));
        return exec(query, purpose);
    });
}

Expected<std::vector<ArtifactRecord>> TrackingStore::artifacts(const QString &runId) const
{
    const QString purpose = QStringLiteral("reading artifacts of run '") + runId + QLatin1Char('\'');
    if (Status r = requireRun(runId, purpose); !r)
        return r;
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT run_id, name, object_id, size, kind FROM artifacts WHERE run_id = ? ORDER BY name"));
    query.addBindValue(runId);
    if (Status s = exec(query, purpose); !s)
        return s;
    std::vector<ArtifactRecord> out;
    while (query.next()) {
        out.push_back({query.value(0).toString(), query.value(1).toString(), query.value(2).toString(),
                       query.value(3).toLongLong(), query.value(4).toString()});
    }
    if (query.lastError().isValid())
        return sqlError(query, purpose);
    return out;
}

// ---- lineage ----

Status TrackingStore::addLineage(const LineageEdge &edge)
{
    const std::pair<const QString *, const char *> required[] = {
        {&edge.srcKind, "src_kind"}, {&edge.srcId, "src_id"}, {&edge.dstKind, "dst_kind"},
        {&edge.dstId, "dst_id"}, {&edge.relation, "relation"}};
    for (const auto &[value, field] : required) {
        if (value->isEmpty())
            return makeError(QStringLiteral("lineage edge with an empty ") + QLatin1String(field), m_path, -1,
                             QLatin1String(field));
    }
    const QString purpose = QStringLiteral("adding lineage %1:%2 -> %3:%4")
                                .arg(edge.srcKind, edge.srcId, edge.dstKind, edge.dstId);
    return inTransaction(purpose, [&]() -> Status {
        QSqlQuery query(m_db);
        query.prepare(QStringLiteral("INSERT INTO lineage (src_kind, src_id, dst_kind, dst_id, relation, created_at)"
                                     " VALUES (?, ?, ?, ?, ?, ?)"
                                     " ON CONFLICT (src_kind, src_id, dst_kind, dst_id, relation) DO NOTHING"));
        query.addBindValue(edge.srcKind);
        query.addBindValue(edge.srcId);
        query.addBindValue(edge.dstKind);
        query.addBindValue(edge.dstId);
        query.addBindValue(edge.relation);
        query.addBindValue(timeText(edge.created.isValid() ? edge.created : QDateTime::currentDateTimeUtc()));
        return exec(query, purpose);
    });
}

Expected<std::vector<LineageEdge>> TrackingStore::lineage(const QString &kind, const QString &id) const
{
    const QString purpose = QStringLiteral("reading lineage of %1:%2").arg(kind, id);
    QSqlQuery query(m_db);
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT src_kind, src_id, dst_kind, dst_id, relation, created_at FROM lineage"
                                 " WHERE (src_kind = ? AND src_id = ?) OR (dst_kind = ? AND dst_id = ?) ORDER BY id"));
    query.addBindValue(kind);
    query.addBindValue(id);
    query.addBindValue(kind);
    query.addBindValue(id);
    if (Status s = exec(query, purpose); !s)
        return s;
    std::vector<LineageEdge> out;
    while (query.next()) {
        out.push_back({query.value(0).toString(), query.value(1).toString(), query.value(2).toString(),
                       query.value(3).toString(), query.value(4).toString(), timeFromVariant(query.value(5))});
    }
    if (query.lastError().isValid())
        return sqlError(query, purpose);
    return out;
}

} // namespace keel::tracking
