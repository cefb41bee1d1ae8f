#include "tracking/rowreader.h"

#include <QSqlDatabase>
#include <QSqlDriver>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QVariant>

#include <libpq-fe.h>
#include <sqlite3.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

namespace keel::tracking {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

class SqliteReader final : public RowReader {
public:
    SqliteReader(sqlite3 *db, const QString &sql, const QStringList &binds) : m_db(db)
    {
        const QByteArray text = sql.toUtf8();
        if (int rc = sqlite3_prepare_v2(db, text.constData(), int(text.size()), &m_statement, nullptr); rc != SQLITE_OK) {
            fail(rc);
            return;
        }
        for (qsizetype i = 0; i < binds.size(); ++i) {
            const QByteArray value = binds[i].toUtf8();
            if (int rc = sqlite3_bind_text(m_statement, int(i) + 1, value.constData(), int(value.size()), SQLITE_TRANSIENT); rc != SQLITE_OK) {
                fail(rc);
                return;
            }
        }
    }
    ~SqliteReader() override { sqlite3_finalize(m_statement); }

    bool next() override
    {
        if (!m_statement || m_error.isValid())
            return false;
        const int rc = sqlite3_step(m_statement);
        if (rc == SQLITE_ROW)
            return true;
        if (rc != SQLITE_DONE)
            fail(rc);
        return false;
    }
    bool isNull(int c) const override { return sqlite3_column_type(m_statement, c) == SQLITE_NULL; }
    QByteArrayView utf8(int c) const override
    {
        const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(m_statement, c));
        return p ? QByteArrayView(p, sqlite3_column_bytes(m_statement, c)) : QByteArrayView();
    }
    double real(int c) const override { return isNull(c) ? kNaN : sqlite3_column_double(m_statement, c); }
    qint64 integer(int c) const override { return sqlite3_column_int64(m_statement, c); }

private:
    void fail(int rc)
    {
        m_error = QSqlError(QStringLiteral("Unable to fetch row"), QString::fromUtf8(sqlite3_errmsg(m_db)), QSqlError::StatementError,
                            QString::number(rc));
    }

    sqlite3 *m_db;
    sqlite3_stmt *m_statement = nullptr;
};

/// `?` placeholders as libpq's $1, $2, ... (outside quoted text).
QByteArray numberedPlaceholders(const QString &sql)
{
    QByteArray out;
    const QByteArray in = sql.toUtf8();
    out.reserve(in.size() + 16);
    bool quoted = false;
    int n = 0;
    for (const char c : in) {
        if (c == '\'')
            quoted = !quoted;
        if (c == '?' && !quoted)
            out += '$' + QByteArray::number(++n);
        else
            out += c;
    }
    return out;
}

class PostgresReader final : public RowReader {
public:
    PostgresReader(PGconn *conn, const QString &sql, const QStringList &binds)
    {
        std::vector<QByteArray> values;
        std::vector<const char *> pointers;
        for (const QString &b : binds)
            values.push_back(b.toUtf8());
        for (const QByteArray &v : values)
            pointers.push_back(v.constData());
        // Text results: float8 is sent in its shortest exact form (PostgreSQL 12 and later), so values read back bit
        // for bit.
        m_result = PQexecParams(conn, numberedPlaceholders(sql).constData(), int(pointers.size()), nullptr, pointers.data(), nullptr,
                                nullptr, 0);
        if (PQresultStatus(m_result) != PGRES_TUPLES_OK) {
            const char *state = PQresultErrorField(m_result, PG_DIAG_SQLSTATE);
            m_error = QSqlError(QStringLiteral("Unable to create query"), QString::fromUtf8(PQresultErrorMessage(m_result)).trimmed(),
                                QSqlError::StatementError, QString::fromLatin1(state ? state : ""));
            return;
        }
        m_rows = PQntuples(m_result);
    }
    ~PostgresReader() override { PQclear(m_result); }

    bool next() override
    {
        if (m_error.isValid() || m_row + 1 >= m_rows)
            return false;
        ++m_row;
        return true;
    }
    bool isNull(int c) const override { return PQgetisnull(m_result, m_row, c) != 0; }
    QByteArrayView utf8(int c) const override { return QByteArrayView(PQgetvalue(m_result, m_row, c), PQgetlength(m_result, m_row, c)); }
    double real(int c) const override
    {
        if (isNull(c))
            return kNaN;
        const QByteArrayView v = utf8(c);
        if (v == "NaN")
            return kNaN;
        if (v == "Infinity")
            return std::numeric_limits<double>::infinity();
        if (v == "-Infinity")
            return -std::numeric_limits<double>::infinity();
        double out = kNaN;
        std::from_chars(v.data(), v.data() + v.size(), out);
        return out;
    }
    qint64 integer(int c) const override
    {
        qint64 out = 0;
        const QByteArrayView v = utf8(c);
        std::from_chars(v.data(), v.data() + v.size(), out);
        return out;
    }

private:
    PGresult *m_result = nullptr;
    int m_rows = 0;
    int m_row = -1;
};

/// A driver whose connection handle Keel cannot read rows through.
class Unavailable final : public RowReader {
public:
    explicit Unavailable(const QString &driver)
    {
        m_error = QSqlError(QStringLiteral("no bulk reader for the %1 driver").arg(driver), QString(), QSqlError::ConnectionError);
    }
    bool next() override { return false; }
    bool isNull(int) const override { return true; }
    QByteArrayView utf8(int) const override { return {}; }
    double real(int) const override { return kNaN; }
    qint64 integer(int) const override { return 0; }
};

} // namespace

std::unique_ptr<RowReader> RowReader::run(const QSqlDatabase &db, const QString &sql, const QStringList &binds)
{
    const QVariant handle = db.driver()->handle();
    if (db.driverName() == QLatin1String("QSQLITE") && handle.isValid() && qstrcmp(handle.typeName(), "sqlite3*") == 0)
        return std::make_unique<SqliteReader>(*static_cast<sqlite3 *const *>(handle.data()), sql, binds);
    if (db.driverName() == QLatin1String("QPSQL") && handle.isValid() && qstrcmp(handle.typeName(), "pg_conn*") == 0)   // Qt's name for PGconn*
        return std::make_unique<PostgresReader>(*static_cast<PGconn *const *>(handle.data()), sql, binds);
    // The store opens only these two drivers, and both expose their handle.
    return std::make_unique<Unavailable>(db.driverName());
}

} // namespace keel::tracking
