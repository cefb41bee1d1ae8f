#pragma once
// CSV and JSON Lines readers: parse a whole file (memory-mapped, in parallel) into a typed Table.
// Types are inferred over every value of a column, not a sample.

#include "data/table.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QByteArrayView>
#include <QHash>
#include <QString>
#include <QStringList>

#include <optional>

namespace keel::data {

/// Text formats the readers understand.
enum class FileFormat { Csv, Jsonl };

/// .jsonl / .ndjson -> Jsonl, everything else Csv (case-insensitive).
FileFormat formatForPath(const QString &path);

/// How d/m/y dates are read. Auto decides per column from the data (day-first when ambiguous).
enum class DateOrder { Auto, DayFirst, MonthFirst };

/// What to read and how. Plain value; cheap to copy.
struct ReadOptions {
    std::optional<FileFormat> format;        ///< nullopt: from the path (readTableFromBytes: Csv)
    std::optional<char> delimiter;           ///< nullopt: detect among , \t ; |  (.tsv files: tab)
    std::optional<bool> header;              ///< nullopt: detect
    /// Whole-field tokens read as missing (unquoted fields are compared after trimming spaces).
    QStringList missingTokens = {QString(), QStringLiteral("NA"), QStringLiteral("N/A"), QStringLiteral("NaN"),
                                 QStringLiteral("null"), QStringLiteral("NULL"), QStringLiteral("?")};
    QHash<QString, ColumnType> typeOverrides; ///< column name -> forced type (unknown names are an error)
    DateOrder dateOrder = DateOrder::Auto;
    qint64 maxRows = -1;                     ///< read at most this many data rows (previews); -1 = all
    int threads = 0;                         ///< 0 = QThread::idealThreadCount()
    int categoricalMaxDistinct = 10000;      ///< text column -> Categorical when distinct <= this and distinct*2 <= non-missing
};

/// What a read found out about its input.
struct ReadInfo {
    FileFormat format = FileFormat::Csv;
    char delimiter = ',';
    bool header = true;
    DateOrder dateOrder = DateOrder::Auto;   ///< what was used for d/m/y columns (Auto if none)
    qint64 rows = 0;
    qint64 bytes = 0;
    bool truncated = false;                  ///< maxRows stopped the read early
};

/// Parses a whole file into a typed table. Errors name the file, 1-based line and column name;
/// nothing partial is returned on error. Progress is reported as bytes ("parse" stage) on the
/// calling thread; cancelling gives an Error whose message is "cancelled". Safe to call from any
/// thread; uses `options.threads` worker threads internally.
Expected<Table> readTable(const QString &path, const ReadOptions &options = {}, Feedback *feedback = nullptr,
                          ReadInfo *info = nullptr);

/// readTable() over the file's bytes the caller already holds (a mapping it also reads, say: a second mapping of the
/// same file costs its page-table set-up again): `path` decides the format and names errors, as in readTable().
Expected<Table> readTable(const QString &path, QByteArrayView bytes, const ReadOptions &options = {},
                          Feedback *feedback = nullptr, ReadInfo *info = nullptr);

/// Same over bytes in memory (borrowed for the duration of the call); `sourceName` is used as Error::file.
Expected<Table> readTableFromBytes(QByteArrayView bytes, const ReadOptions &options = {}, Feedback *feedback = nullptr,
                                   ReadInfo *info = nullptr, const QString &sourceName = QStringLiteral("<memory>"));

} // namespace keel::data
