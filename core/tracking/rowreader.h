#pragma once
// Forward-only reading of a large query result without a QVariant per value, for the bulk reads of the tracking
// store (a listing of 100,000 runs). It runs on the store's own Qt connection, through the handle Qt exposes:
// sqlite3 for QSQLITE, libpq for QPSQL. Internal to core/tracking.

#include <QByteArrayView>
#include <QSqlError>
#include <QString>
#include <QStringList>

#include <memory>

class QSqlDatabase;

namespace keel::tracking {

class RowReader {
public:
    /// Runs `sql` (with `?` placeholders, bound in order to `binds` as text). Never null: a failure to prepare or
    /// run shows in error(), as the driver would report it, so the store maps it as it maps any QSqlError.
    static std::unique_ptr<RowReader> run(const QSqlDatabase &db, const QString &sql, const QStringList &binds);
    virtual ~RowReader() = default;

    /// Moves to the next row; false at the end or on an error (then error() says which).
    virtual bool next() = 0;
    virtual bool isNull(int column) const = 0;
    /// The column's text as UTF-8, valid until next(); empty for NULL.
    virtual QByteArrayView utf8(int column) const = 0;
    /// The column as a number; NULL reads as NaN (how the store keeps NaN on SQLite).
    virtual double real(int column) const = 0;
    virtual qint64 integer(int column) const = 0;
    /// Valid when the query failed, or next() stopped on an error rather than at the end.
    const QSqlError &error() const { return m_error; }

    QString text(int column) const { return QString::fromUtf8(utf8(column)); }

protected:
    QSqlError m_error;
};

} // namespace keel::tracking
