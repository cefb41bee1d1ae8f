#pragma once
// Differences between two versions of a table: columns added, removed, retyped or changed, drift statistics
// per column (PSI, Kolmogorov-Smirnov and Wasserstein for numbers, chi-square and the Jensen-Shannon distance for
// categories) and,
// given a key column, rows added, removed and changed. Results are plain values, safe to pass between threads.

#include "data/profile.h"
#include "data/table.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QJsonObject>
#include <QStringList>

#include <optional>
#include <utility>
#include <vector>

namespace keel::data {

/// How one column differs between table A and table B.
struct ColumnDiff {
    /// Unchanged: same type and cell-for-cell identical. Changed: same type, some cell differs (including a
    /// different row count). Retyped: both have it with different types. Added: only in B. Removed: only in A.
    enum class Change { Unchanged, Added, Removed, Retyped, Changed };
    QString name;
    Change change = Change::Unchanged;
    std::optional<ColumnType> typeA, typeB;
    std::optional<ColumnProfile> a, b;
    /// Numeric columns (int64, float64, datetime on both sides): psi, ks/ksPValue and wasserstein (in the column's
    /// units; milliseconds for datetimes). Categorical, string and bool columns (both sides of those kinds):
    /// chi2/chi2PValue and jensenShannonDistance. Unset when a side has no values or the kinds differ. Missing values
    /// are left out of every statistic. Definitions: data/stats.h.
    std::optional<double> psi, ks, ksPValue, wasserstein, chi2, chi2PValue, jensenShannonDistance;
    /// Headline drift for sorting and display: PSI for numeric, the Jensen-Shannon distance for categorical; 0 when not
    /// comparable.
    double driftScore() const;
    /// "psi" or "js_distance" (or empty), naming what driftScore() is.
    QString driftStatistic() const;
};

/// How large a drift score is: "small", "moderate" or "large". PSI: the usual reading, 0.1 and 0.25. Jensen-Shannon
/// distance: √0.05 ≈ 0.224 and √0.15 ≈ 0.387 (the same shifts as divergences of 0.05 and 0.15).
QString driftLevel(double score, const QString &statistic);

/// "unchanged", "added", "removed", "retyped", "changed".
QString changeName(ColumnDiff::Change change);

/// Row-level differences matched on a key column. Rows whose key is missing are not matched; for a key that occurs
/// more than once in a table only its first row is matched, the others are counted as duplicates.
struct KeyDiff {
    QString key;
    qint64 added = 0, removed = 0, changed = 0, unchanged = 0;
    qint64 duplicateKeysA = 0, duplicateKeysB = 0;   ///< rows whose key already occurred earlier in the same table
    QStringList addedExamples, removedExamples, changedExamples;   ///< key values, up to 10 each, in table order
    std::vector<std::pair<QString, qint64>> changedByColumn;       ///< column -> rows whose value changed (A's column order, non-zero only)
};

/// The whole comparison of A and B.
struct DiffReport {
    qint64 rowsA = 0, rowsB = 0;
    std::vector<ColumnDiff> columns;     ///< union of columns: A's order, then B's new ones
    std::optional<KeyDiff> keyDiff;
};

/// What to compare: an optional key column (present in both tables) and the PSI bin count.
struct DiffOptions {
    QString key;
    int bins = 10;
};

/// Compares two tables. With options.key (a column in both) also rows added/removed/changed; an error naming the
/// key (Error::field) if either table lacks it. Cancel -> error "cancelled". Reads both tables only.
Expected<DiffReport> diffTables(const Table &a, const Table &b, const DiffOptions &options = {}, Feedback *feedback = nullptr);

/// Machine form: {rowsA, rowsB, columns: [{name, change, typeA, typeB, driftStatistic, driftScore, psi, ks, ksPValue,
/// wasserstein, chi2, chi2PValue, jensenShannonDistance, a: profile, b: profile}], keyDiff: {...}} (absent values are
/// left out).
QJsonObject diffToJson(const DiffReport &report);

/// Readable text: row counts, one line per column sorted by drift (largest first), then the key diff.
QString diffToText(const DiffReport &report, const QString &labelA, const QString &labelB);

} // namespace keel::data
