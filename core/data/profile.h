#pragma once
// Column profiles: counts, missing values, distinct values, numeric summaries (min, max, mean, standard
// deviation, quantiles, histogram) and the most frequent categories. Profiles are plain values, computed
// once per dataset version and stored as YAML beside it; they also feed diffs and suggested rules.

#include "data/table.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QJsonArray>
#include <QJsonObject>

#include <array>
#include <optional>
#include <vector>

namespace keel::data {

/// One quantile: the value below which a share p of the non-missing values lies.
struct Quantile {
    double p = 0;
    double value = 0;
};

/// A category value and how many rows hold it.
struct CategoryCount {
    QString value;
    qint64 count = 0;
};

/// Equal-width histogram; bin i is [edges[i], edges[i+1]) and the last bin also holds the maximum.
struct Histogram {
    std::vector<double> edges;   ///< edges.size() == counts.size() + 1 (both empty when there are no values)
    std::vector<qint64> counts;
};

/// The quantile levels every numeric profile carries.
inline constexpr std::array<double, 7> kProfileQuantileLevels{0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};
/// Number of equal-width histogram bins of a numeric profile (one bin when min == max).
inline constexpr int kProfileHistogramBins = 20;
/// Number of most frequent categories a profile keeps.
inline constexpr int kProfileTopCategories = 10;

/// Summary of one column. Numbers for Datetime columns are ms since epoch (mean, quantiles and histogram
/// edges rounded to whole ms); Bool counts as 0/1 for numbers. A NaN in a Float64 column counts as missing.
struct ColumnProfile {
    QString name;
    ColumnType type = ColumnType::String;
    qint64 count = 0;          ///< rows
    qint64 missing = 0;
    qint64 distinct = 0;       ///< exact, over non-missing values
    std::optional<double> min, max, mean, std;   ///< numeric types only; std is the sample standard deviation (n-1), unset below 2 values
    std::vector<Quantile> quantiles;             ///< numeric: p = 0.01 0.05 0.25 0.5 0.75 0.95 0.99 (linear interpolation, as numpy's default)
    std::vector<CategoryCount> topCategories;    ///< Categorical/String/Bool: up to 10 most frequent, ties by value
    Histogram histogram;                         ///< numeric: 20 equal-width bins over [min, max]
    double missingShare() const { return count ? double(missing) / double(count) : 0.0; }
};

/// Profiles of all columns of a table, in table order.
struct TableProfile {
    qint64 rows = 0;
    std::vector<ColumnProfile> columns;
    /// The column profile with that name, or nullptr. The pointer lives as long as this profile is unchanged.
    const ColumnProfile *find(QStringView name) const;
};

/// Profiles one column. Cancel -> error "cancelled". Reads the column only; safe from any thread. With `sorted`, a
/// numeric column's present values (NaN left out, -0 read as +0) are also given back in ascending order — the sort
/// the profile makes anyway, for callers that need one (the drift statistics); empty for other columns.
Expected<ColumnProfile> profileColumn(const Column &column, Feedback *feedback = nullptr, std::vector<double> *sorted = nullptr);

/// Profiles every column (columns in parallel on std::threads, at most QThread::idealThreadCount()).
/// Progress is reported as columns done of columns total, stage "profile". Cancel -> error "cancelled".
Expected<TableProfile> profileTable(const Table &table, Feedback *feedback = nullptr);

/// YAML form (for datasets/NAME.yaml, human-diffable; datetimes written as ISO text): a sequence of column maps
/// with the keys name, type, count, missing, distinct, min, max, mean, std, quantiles, topCategories, histogram.
/// Numbers are written in shortest round-trip form, so parsing gives the same values.
QByteArray profileToYaml(const TableProfile &profile);

/// Inverse of profileToYaml. Errors name `source`, the line (1-based) and the field ("column.key"). Unknown keys
/// are ignored so that newer files stay readable.
Expected<TableProfile> profileFromYaml(QByteArrayView yaml, qint64 rows, const QString &source = {});

/// JSON form of one column profile (same keys as the YAML form; datetimes as ISO text; non-finite numbers as null).
QJsonObject profileToJson(const ColumnProfile &profile);
/// JSON form of all column profiles, an array in table order.
QJsonArray profileToJson(const TableProfile &profile);
/// Inverse of profileToJson(const ColumnProfile &). Errors name the field.
Expected<ColumnProfile> profileFromJson(const QJsonObject &object);
/// Inverse of profileToJson(const TableProfile &).
Expected<TableProfile> profileFromJson(const QJsonArray &array, qint64 rows);

/// Readable multi-line text (what `keel data show` prints for the profile part): one line per column with type,
/// missing, distinct and either a numeric summary or the most frequent categories.
QString profileToText(const TableProfile &profile);

/// Parses the ISO 8601 text that formatDatetime() writes ("2011-01-01", "2011-01-01T05:00:00[.zzz]", with an
/// optional "Z" or ±HH:MM offset; no offset means UTC) into ms since the epoch; nullopt if it is not such a text.
std::optional<int64_t> parseIsoDatetime(QStringView text);

} // namespace keel::data
