#pragma once
// The tracking store's schema as an ordered list of migrations. Each migration is applied in its own
// transaction and recorded in the `schema_version` table; the schema version of a database is the
// highest version recorded there. Table definitions are portable SQL (TEXT, BIGINT, DOUBLE PRECISION)
// so the same schema runs on SQLite (QSQLITE) and PostgreSQL (QPSQL); the one dialect difference,
// auto-numbered id columns, is substituted per dialect.

#include <QString>
#include <QStringList>

#include <vector>

namespace keel::tracking {

/// SQL dialects the schema is written for.
enum class SqlDialect { Sqlite, Postgres };

/// One schema step: the statements that move a database from version - 1 to version.
struct Migration {
    int version = 0;
    QString description;
    QStringList statements;
};

/// All migrations in ascending version order, starting at 1, for the given dialect. Pure function, thread-safe.
std::vector<Migration> trackingMigrations(SqlDialect dialect);

/// Version reached after applying every migration in trackingMigrations().
int latestTrackingSchemaVersion();

/// Statement that creates the `schema_version` bookkeeping table if it is missing (same on both dialects).
QString schemaVersionTableStatement();

} // namespace keel::tracking
