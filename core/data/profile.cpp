#include "data/profileyaml.h"
#include "data/distribution.h"
#include "data/radixsort.h"
#include "util/yaml.h"

#include <QDateTime>
#include <QThread>
#include <QTimeZone>


#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>

namespace keel::data {

namespace {
/// Longest category text a profile keeps (longer values are cut, ending in an ellipsis).
constexpr qsizetype kProfileMaxText = 200;
} // namespace

namespace {

constexpr qint64 kCancelStride = qint64(1) << 20;

// Calls fn(begin, end) over row chunks, polling cancel between chunks; false when cancelled.
template <class Fn>
bool forChunks(qint64 rows, const Feedback *feedback, Fn &&fn)
{
    for (qint64 begin = 0; begin < rows; begin += kCancelStride) {
        if (isCancelled(feedback))
            return false;
        fn(begin, std::min(rows, begin + kCancelStride));
    }
    return true;
}

/// Buffers one profiling thread reuses from column to column: the keys and the radix sort's second buffer.
struct ProfileScratch {
    KeyBuffer keys;
    KeyBuffer passes;
};

// The non-missing keys of a numeric column in ascending order: either all of them (sorted), or each distinct key
// once with the rank one past its last copy (a column with few distinct values, counted instead of sorted). Every
// statistic below reads the keys in the same ascending sequence either way. Order statistics, distinct counts and
// histograms are identical; sums add a counted key once times its copies and a sorted key copy by copy, so a mean or
// standard deviation can differ in its last digit (the counted one has fewer roundings).
struct SortedKeys {
    std::span<const uint64_t> keys;   ///< the caller's sorted keys, or `distinctKeys`
    std::vector<uint64_t> distinctKeys;
    std::vector<size_t> ends;   ///< empty: `keys` holds every key; else ends[i] = rank after the copies of keys[i]

    size_t size() const { return ends.empty() ? keys.size() : ends.back(); }
    uint64_t at(size_t rank) const
    {
        if (ends.empty())
            return keys[rank];
        return keys[size_t(std::upper_bound(ends.begin(), ends.end(), rank) - ends.begin())];
    }
    qint64 distinct() const
    {
        if (!ends.empty())
            return qint64(keys.size());
        qint64 d = 1;
        for (size_t i = 1; i < keys.size(); ++i)
            d += keys[i] != keys[i - 1] ? 1 : 0;
        return d;
    }
    /// Calls f(key) for every key, copies included, ascending.
    template <class F>
    void forEach(F &&f) const
    {
        if (ends.empty()) {
            for (uint64_t k : keys)
                f(k);
            return;
        }
        size_t from = 0;
        for (size_t i = 0; i < keys.size(); ++i) {
            for (size_t r = from; r < ends[i]; ++r)
                f(keys[i]);
            from = ends[i];
        }
    }
    /// Calls f(key, copies) once per run of equal keys as stored: each distinct key once when counted, every key
    /// (copies 1) when all are held.
    template <class F>
    void forEachRun(F &&f) const
    {
        if (ends.empty()) {
            for (uint64_t k : keys)
                f(k, size_t(1));
            return;
        }
        size_t from = 0;
        for (size_t i = 0; i < keys.size(); ++i) {
            f(keys[i], ends[i] - from);
            from = ends[i];
        }
    }
    /// The rank of the first key for which below(key) is false (below must hold for a prefix of the keys).
    template <class Below>
    size_t partitionRank(Below &&below) const
    {
        const size_t i = size_t(std::partition_point(keys.begin(), keys.end(), below) - keys.begin());
        return ends.empty() ? i : (i == 0 ? 0 : ends[i - 1]);
    }
};

// Counts each distinct key in an open-addressing table that grows with them, while there are at most `cap`;
// nothing once there are more (sorting all keys is then the faster way). Keys with few distinct values (counts,
// codes, prices, dates) take one pass over cache-sized memory instead of the radix sort's passes over all of them.
std::optional<SortedKeys> countFewDistinct(const KeyBuffer &keys, size_t cap)
{
    constexpr uint64_t kEmpty = 0;   // key 0 (int64 minimum) is counted on the side
    std::vector<std::pair<uint64_t, size_t>> table(size_t(1) << 12);
    size_t mask = table.size() - 1, used = 0, zeros = 0;
    int shift = 64 - 12;
    auto slotOf = [&](uint64_t k) { return size_t((k * 0x9e3779b97f4a7c15ULL) >> shift); };
    constexpr size_t kAhead = 16;   // slots are prefetched this many keys ahead: a table past L2 then costs no more
    const size_t n = keys.size();
    for (size_t at = 0; at < n; ++at) {
        if (at + kAhead < n)
            __builtin_prefetch(&table[slotOf(keys[at + kAhead])]);
        const uint64_t k = keys[at];
        if (k == kEmpty) {
            ++zeros;
            continue;
        }
        size_t i = slotOf(k);
        while (table[i].first != k && table[i].first != kEmpty)
            i = (i + 1) & mask;
        if (table[i].first == k) {
            ++table[i].second;
            continue;
        }
        table[i] = {k, 1};
        if (++used > cap)
            return std::nullopt;
        if (used * 2 > table.size()) {   // keep the load under one half
            std::vector<std::pair<uint64_t, size_t>> old(table.size() * 2);
            old.swap(table);
            mask = table.size() - 1;
            --shift;
            for (const auto &e : old) {
                if (e.first == kEmpty)
                    continue;
                size_t j = slotOf(e.first);
                while (table[j].first != kEmpty)
                    j = (j + 1) & mask;
                table[j] = e;
            }
        }
    }
    std::vector<std::pair<uint64_t, size_t>> runs;
    runs.reserve(used + 1);
    if (zeros)
        runs.emplace_back(kEmpty, zeros);
    for (const auto &e : table)
        if (e.first != kEmpty)
            runs.push_back(e);
    std::sort(runs.begin(), runs.end());
    SortedKeys out;
    out.distinctKeys.reserve(runs.size());
    out.ends.reserve(runs.size());
    size_t rank = 0;
    for (const auto &[k, count] : runs) {
        out.distinctKeys.push_back(k);
        out.ends.push_back(rank += count);
    }
    out.keys = out.distinctKeys;   // moving `out` moves the vector's buffer with it: the view stays valid
    return out;
}

// Decimal units: a float64 column whose values all have at most nine decimal places is handled as integers.
constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
constexpr int kMaxPlaces = 9;
/// x + 1.5 * 2^52 - 1.5 * 2^52 rounds x to an integer (to even on ties) for |x| < 2^51, without a call.
inline double roundToInteger(double x)
{
    constexpr double kRounder = 6755399441055744.0;
    return (x + kRounder) - kRounder;
}
/// A decimal column's values as units of 1 / scale, counted from `lo` units.
struct DecimalUnits {
    double scale = 1;
    int64_t lo = 0;
    uint64_t keyOf(double v) const { return uint64_t(int64_t(roundToInteger(v * scale)) - lo); }
    uint64_t floatKeyOf(uint64_t key) const { return floatKey(double(int64_t(key) + lo) / scale); }
};

/// What the first pass over a numeric column found.
struct NumericScan {
    std::optional<SortedKeys> counted;   ///< set when the values were counted (the column is done)
    qint64 valid = 0;                    ///< values present (not missing, not NaN)
    std::optional<DecimalUnits> units;   ///< float64 decimals over too many units to count
    int keyBits = 64;   ///< the sort keys (units for decimals, else the column's keys) agree on every higher bit
};

constexpr uint64_t kMaxCountedSpan = uint64_t(1) << 20;
constexpr size_t kPrefetchCounts = size_t(1) << 16;   // counts (4 B each) beyond this: prefetched
constexpr qint64 kCountAhead = 16;

/// Counts of `width` values. With few values, consecutive rows often add to the same count and each add would wait
/// for the one before: rows then count into four interleaved tables (by row number), added together by fold().
template <class Count>
struct InterleavedCounts {
    size_t width;
    size_t ways;
    std::vector<Count> counts;
    explicit InterleavedCounts(size_t values) : width(values), ways(values <= 4096 ? 4 : 1), counts(values * ways, 0) {}
    Count &at(size_t value, qint64 row) { return counts[value + width * (size_t(row) & (ways - 1))]; }
    /// The counts by value (the object is spent).
    std::vector<Count> fold()
    {
        for (size_t w = 1; w < ways; ++w)
            for (size_t i = 0; i < width; ++i)
                counts[i] += counts[w * width + i];
        counts.resize(width);
        return std::move(counts);
    }
};

/// Calls f(missing) with missing(row) telling a missing row of `c`: a constant false for a column without any, so
/// that each case is a loop of its own with no test per row of whether the column has missing values at all.
template <class F>
decltype(auto) withMissing(const Column &c, F &&f)
{
    if (c.nullCount() > 0)
        return f([&c](qint64 r) { return c.isNull(r); });
    return f([](qint64) { return false; });
}

// Counts the column's values (those `skip` does not pass over) by their units, unitsOf(row), from `lo`, into
// `scan.counted`: each distinct key, keyOf(units), once and ascending, with the rank one past its last copy. Nothing
// when the units span kMaxCountedSpan or more, or more than the rows, or when there are no values. A value outside
// [lo, hi], which the callers' first passes rule out, leaves the column to the general path rather than give a wrong
// count. False when cancelled.
template <class UnitsOf, class KeyOf, class Skip>
bool countUnits(const Column &c, const Feedback *feedback, int64_t lo, int64_t hi, UnitsOf unitsOf, KeyOf keyOf,
                Skip skip, NumericScan &scan)
{
    const qint64 rows = c.size();
    const uint64_t span = uint64_t(hi) - uint64_t(lo);   // exact for hi >= lo, even across the whole int64 range
    if (scan.valid == 0 || span >= kMaxCountedSpan || span >= uint64_t(rows))
        return true;
    const size_t width = size_t(span) + 1;
    InterleavedCounts<uint32_t> table(width);   // uint32: rows < 2^32 (checked by countNarrowRange)
    bool inRange = true;
    if (!forChunks(rows, feedback, [&](qint64 b, qint64 e) {
            if (!inRange)
                return;
            for (qint64 r = b; r < e; ++r) {
                if (skip(r))
                    continue;
                const uint64_t at = uint64_t(unitsOf(r)) - uint64_t(lo);
                if (at > span) {
                    inRange = false;
                    return;
                }
                ++table.at(size_t(at), r);
                // A table past the L2 cache (a float column of 10^6 distinct cents): fetch the count a few rows
                // ahead will add to while this one adds, instead of waiting on each miss in turn.
                if (width > kPrefetchCounts && r + kCountAhead < e && !skip(r + kCountAhead))
                    __builtin_prefetch(&table.counts[std::min<uint64_t>(uint64_t(unitsOf(r + kCountAhead)) - uint64_t(lo), span)]);
            }
        }))
        return false;
    if (!inRange)
        return true;
    const std::vector<uint32_t> counts = table.fold();
    SortedKeys &keys = scan.counted.emplace();
    size_t rank = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
        if (counts[i] == 0)
            continue;
        keys.distinctKeys.push_back(keyOf(int64_t(uint64_t(lo) + i)));
        keys.ends.push_back(rank += counts[i]);
    }
    keys.keys = keys.distinctKeys;   // moving the keys moves the vector's buffer with them: the view stays valid
    return true;
}

// A float64 column as decimals. A value v is taken as n units of 10^-d when n = round(v * 10^d) gives back v as the
// double nearest n / 10^d (one correctly rounded division, checked for every value). That map is strictly increasing
// over such values (v1 < v2 means n1 < n2), so counting by n orders and separates them exactly as their keys would.
// The smallest d that holds for every value is used; a value that holds at d also holds at any larger d while
// |n| < 2^50. When the decimals hold but span too many units to count, `scan.units` is set: units sort in fewer radix
// passes than float keys. False when cancelled.
template <class Missing>
bool countDecimalsWith(const Column &c, const Feedback *feedback, Missing missing, NumericScan &scan)
{
    const double *values = c.storage().f64.view.data();
    auto holds = [&](double v, int places) {
        const double x = v * kPow10[places];
        return std::abs(x) < 0x1p50 && roundToInteger(x) / kPow10[places] == v;
    };
    int places = 0;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    bool decimal = true;
    const auto skip = [&](qint64 r) { return missing(r) || std::isnan(values[r]); };
    if (!forChunks(c.size(), feedback, [&](qint64 b, qint64 e) {
            if (!decimal)
                return;
            for (qint64 r = b; r < e; ++r) {
                if (skip(r))
                    continue;
                const double v = values[r];
                if (!holds(v, places)) {
                    do
                        ++places;
                    while (places <= kMaxPlaces && !holds(v, places));
                    if (places > kMaxPlaces) {
                        decimal = false;
                        return;
                    }
                }
                lo = std::min(lo, v);
                hi = std::max(hi, v);
                ++scan.valid;
            }
        }))
        return false;
    if (!decimal || scan.valid == 0)
        return true;
    const double scale = kPow10[places];
    const DecimalUnits units{scale, int64_t(roundToInteger(lo * scale))};
    const int64_t hiUnits = int64_t(roundToInteger(hi * scale));
    auto unitsOf = [&](qint64 r) { return int64_t(roundToInteger(values[r] * scale)); };
    auto keyOf = [&](int64_t n) { return floatKey(double(n) / scale); };
    if (!countUnits(c, feedback, units.lo, hiUnits, unitsOf, keyOf, skip, scan))
        return false;
    if (!scan.counted) {
        scan.units = units;
        scan.keyBits = std::bit_width(uint64_t(hiUnits - units.lo));
    }
    return true;
}

bool countDecimals(const Column &c, const Feedback *feedback, NumericScan &scan)
{
    return withMissing(c, [&](auto missing) { return countDecimalsWith(c, feedback, missing, scan); });
}

// countIntegers for one way of reading a value and of telling a missing one: each pair is a loop of its own, with no
// test per row of the column's type or of whether it has missing values at all.
template <class Value, class Missing>
bool countIntegersWith(const Column &c, const Feedback *feedback, Value value, Missing missing, NumericScan &scan)
{
    int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
    qint64 valid = 0;
    constexpr int64_t kDayMs = 86'400'000;
    bool days = c.type() == ColumnType::Datetime;
    auto scanRows = [&]<bool kDays>(qint64 b, qint64 e) {
        int64_t l = lo, h = hi;
        qint64 n = 0;
        bool whole = true;
        for (qint64 r = b; r < e; ++r) {
            if (missing(r))
                continue;
            const int64_t v = value(r);
            l = std::min(l, v);
            h = std::max(h, v);
            if constexpr (kDays)
                whole &= v % kDayMs == 0;
            ++n;
        }
        lo = l;
        hi = h;
        valid += n;
        days &= whole;
    };
    if (!forChunks(c.size(), feedback, [&](qint64 b, qint64 e) {
            if (days)
                scanRows.template operator()<true>(b, e);
            else
                scanRows.template operator()<false>(b, e);
        }))
        return false;
    scan.valid = valid;
    if (valid == 0)
        return true;
    // Keys from lo to hi agree on the bits above the highest one in which lo's and hi's differ.
    scan.keyBits = std::bit_width(intKey(lo) ^ intKey(hi));
    if (days)
        return countUnits(c, feedback, lo / kDayMs, hi / kDayMs, [&](qint64 r) { return value(r) / kDayMs; },
                          [](int64_t units) { return intKey(units * kDayMs); }, missing, scan);
    return countUnits(c, feedback, lo, hi, value, [](int64_t units) { return intKey(units); }, missing, scan);
}

// An int64, datetime or bool column as integers; datetimes at midnight UTC (dates without a time) count in days.
// Sets `scan.keyBits` from the smallest and largest value. False when cancelled.
bool countIntegers(const Column &c, const Feedback *feedback, NumericScan &scan)
{
    const ColumnStorage &s = c.storage();
    const auto withValues = [&](auto value) {
        return withMissing(c, [&](auto missing) { return countIntegersWith(c, feedback, value, missing, scan); });
    };
    if (c.type() == ColumnType::Bool)
        return withValues([flags = s.u8.view.data()](qint64 r) { return int64_t(flags[size_t(r)] ? 1 : 0); });
    return withValues([ints = s.i64.view.data()](qint64 r) { return ints[size_t(r)]; });
}

// Values that are whole multiples of one unit over a narrow range: integers (flags, counts, codes, small measures),
// datetimes of whole days, and decimals of up to nine places (prices, rates, measurements as CSVs write them). Each
// value is counted in an array indexed by its number of units from the smallest, with no keys written, hashed or
// sorted, into `scan.counted` (see countUnits). False when cancelled.
bool countNarrowRange(const Column &c, const Feedback *feedback, NumericScan &scan)
{
    scan.valid = 0;
    if (c.size() >= (qint64(1) << 32))
        return true;
    return c.type() == ColumnType::Float64 ? countDecimals(c, feedback, scan) : countIntegers(c, feedback, scan);
}

template <class Decode>
void numericSummary(const SortedKeys &sorted, Decode decode, ColumnProfile &p)
{
    const size_t m = sorted.size();
    p.distinct = sorted.distinct();
    p.min = decode(sorted.keys.front());
    p.max = decode(sorted.keys.back());
    // A counted key adds its value times its copies at once: exact for integers, and fewer roundings than adding
    // the copies one by one (which cost a dependent add per row).
    long double sum = 0;
    sorted.forEachRun([&](uint64_t k, size_t copies) { sum += (long double)decode(k) * (long double)copies; });
    const double mean = double(sum / (long double)m);
    p.mean = mean;
    if (m >= 2) {
        long double ss = 0;
        sorted.forEachRun([&](uint64_t k, size_t copies) {
            const long double d = (long double)decode(k) - (long double)mean;
            ss += d * d * (long double)copies;
        });
        p.std = double(std::sqrt(ss / (long double)(m - 1)));
    }
    for (double level : kProfileQuantileLevels) {
        const double h = double(m - 1) * level;
        const size_t lo = size_t(std::floor(h));
        const double frac = h - double(lo);
        double v = decode(sorted.at(lo));
        if (frac > 0 && lo + 1 < m)
            v += frac * (decode(sorted.at(lo + 1)) - v);
        p.quantiles.push_back({level, v});
    }
    // Histogram over the finite range; infinities fall into the outer bins.
    const size_t first = sorted.partitionRank([&](uint64_t k) { return decode(k) == -std::numeric_limits<double>::infinity(); });
    const size_t last = sorted.partitionRank([&](uint64_t k) { return decode(k) < std::numeric_limits<double>::infinity(); });
    if (first >= last)
        return;
    const double lo = decode(sorted.at(first)), hi = decode(sorted.at(last - 1));
    std::vector<double> edges = equalWidthEdges(lo, hi, kProfileHistogramBins, p.type == ColumnType::Datetime);
    const size_t bins = edges.size() - 1;
    std::vector<size_t> pos(bins + 1, 0);
    pos[bins] = m;
    for (size_t i = 1; i < bins; ++i) {
        const double edge = edges[i];
        pos[i] = sorted.partitionRank([&](uint64_t k) { return decode(k) < edge; });
    }
    p.histogram.edges = std::move(edges);
    p.histogram.counts.resize(bins);
    for (size_t i = 0; i < bins; ++i)
        p.histogram.counts[i] = qint64(pos[i + 1] - pos[i]);
}

Status summariseNumeric(const Column &c, SortedKeys order, ColumnProfile &p, std::vector<double> *sorted);

Status profileNumeric(const Column &c, ColumnProfile &p, const Feedback *feedback, std::vector<double> *sorted,
                      ProfileScratch &scratch)
{
    const qint64 rows = c.size();
    const bool nulls = c.nullCount() > 0;
    const ColumnStorage &s = c.storage();
    NumericScan scan;
    if (!countNarrowRange(c, feedback, scan))
        return cancelledError();
    std::optional<SortedKeys> &order = scan.counted;
    if (order) {
        p.missing = rows - scan.valid;
        return summariseNumeric(c, std::move(*order), p, sorted);
    }
    // Written through a pointer, not push_back (whose end pointer the compiler reloads and stores for every key),
    // into a buffer the caller keeps from column to column.
    KeyBuffer &keys = scratch.keys;
    if (keys.capacity() < size_t(rows)) {
        keys.reserve(size_t(rows));
        adviseHugePages(keys.data(), size_t(rows) * sizeof(uint64_t));
    }
    keys.resize(size_t(rows));   // not zeroed: only the keys written below are kept
    uint64_t *out = keys.data();
    bool ok = true;
    switch (c.type()) {
    case ColumnType::Int64:
    case ColumnType::Datetime:
        ok = forChunks(rows, feedback, [&](qint64 b, qint64 e) {
            for (qint64 r = b; r < e; ++r)
                if (!nulls || c.isValid(r))
                    *out++ = intKey(s.i64.view[size_t(r)]);
        });
        break;
    case ColumnType::Bool:
        ok = forChunks(rows, feedback, [&](qint64 b, qint64 e) {
            for (qint64 r = b; r < e; ++r)
                if (!nulls || c.isValid(r))
                    *out++ = intKey(s.u8.view[size_t(r)] ? 1 : 0);
        });
        break;
    case ColumnType::Float64:
        ok = forChunks(rows, feedback, [&](qint64 b, qint64 e) {
            for (qint64 r = b; r < e; ++r) {
                const double v = s.f64.view[size_t(r)];
                if ((!nulls || c.isValid(r)) && !std::isnan(v))
                    *out++ = floatKey(v);
            }
        });
        break;
    default:
        break;
    }
    keys.resize(size_t(out - keys.data()));
    if (!ok)
        return cancelledError();
    p.missing = rows - qint64(keys.size());
    if (keys.empty())
        return {};
    // Up to one distinct value in 16 (at most 2^18 of them): counted; otherwise sorted.
    if (keys.size() >= 4096)
        order = countFewDistinct(keys, std::min<size_t>(keys.size() / 16, size_t(1) << 18));
    if (!order) {
        // Decimals sort as units (a price column of 10^7 cents: two radix passes instead of five), then go back to
        // float keys. Counting above stays on float keys, which hash more evenly than units in arithmetic steps.
        const std::optional<DecimalUnits> &units = scan.units;
        if (units)
            for (uint64_t &k : keys)
                k = units->keyOf(floatFromKey(k));
        if (!radixSort(keys, feedback, &scratch.passes, scan.keyBits))
            return cancelledError();
        if (units)
            for (uint64_t &k : keys)
                k = units->floatKeyOf(k);
        order.emplace();
        order->keys = keys;   // a view: the buffer stays with the scratch
    }
    return summariseNumeric(c, std::move(*order), p, sorted);
}

// The statistics of a numeric column from its keys in ascending order (however they were had).
Status summariseNumeric(const Column &c, SortedKeys order, ColumnProfile &p, std::vector<double> *sorted)
{
    if (c.type() == ColumnType::Float64)
        numericSummary(order, [](uint64_t k) { return floatFromKey(k); }, p);   // a lambda: inlined, not a call per key
    else
        numericSummary(order, [](uint64_t k) { return intFromKey(k); }, p);
    if (sorted) {
        sorted->clear();
        sorted->reserve(order.size());
        const bool floats = c.type() == ColumnType::Float64;
        order.forEach([&](uint64_t k) { sorted->push_back(floats ? floatFromKey(k) : intFromKey(k)); });
    }
    if (c.type() == ColumnType::Datetime) {
        p.mean = double(std::llround(*p.mean));
        for (Quantile &q : p.quantiles)
            q.value = double(std::llround(q.value));
    }
    return {};
}

// Keeps the `limit` largest (count desc, value asc) of (value, count) pairs.
template <class Pair>
std::vector<CategoryCount> topOf(std::vector<Pair> &items, int limit)
{
    auto better = [](const Pair &a, const Pair &b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    };
    const size_t k = std::min(items.size(), size_t(limit));
    std::partial_sort(items.begin(), items.begin() + qsizetype(k), items.end(), better);
    std::vector<CategoryCount> out;
    for (size_t i = 0; i < k; ++i)
        out.push_back({QString::fromUtf8(items[i].first.data(), qsizetype(items[i].first.size())), items[i].second});
    return out;
}

Status profileCategories(const Column &c, ColumnProfile &p, const Feedback *feedback)
{
    const qint64 rows = c.size();
    const bool nulls = c.nullCount() > 0;
    std::vector<std::pair<std::string_view, qint64>> items;
    bool ok = true;
    if (c.type() == ColumnType::Categorical) {
        const qint64 dict = c.dictionarySize();
        InterleavedCounts<qint64> table{size_t(dict)};
        const int32_t *codes = c.storage().codes.view.data();
        qint64 bad = 0;
        ok = withMissing(c, [&](auto missing) {
            return forChunks(rows, feedback, [&](qint64 b, qint64 e) {
                for (qint64 r = b; r < e; ++r) {
                    if (missing(r))
                        continue;
                    const int32_t code = codes[size_t(r)];
                    if (code >= 0 && code < dict)
                        ++table.at(size_t(code), r);
                    else
                        ++bad;
                }
            });
        });
        const std::vector<qint64> counts = table.fold();
        p.missing = c.nullCount() + bad;
        for (qint64 code = 0; code < dict; ++code)
            if (counts[size_t(code)] > 0)
                items.emplace_back(c.dictionaryAt(code), counts[size_t(code)]);
    } else if (c.type() == ColumnType::Bool) {
        qint64 counts[2] = {0, 0};
        const auto &u8 = c.storage().u8.view;
        ok = forChunks(rows, feedback, [&](qint64 b, qint64 e) {
            for (qint64 r = b; r < e; ++r)
                if (!nulls || c.isValid(r))
                    ++counts[u8[size_t(r)] ? 1 : 0];
        });
        if (counts[0] > 0)
            items.emplace_back(std::string_view("false"), counts[0]);
        if (counts[1] > 0)
            items.emplace_back(std::string_view("true"), counts[1]);
    } else {
        std::unordered_map<std::string_view, qint64> counts;
        counts.reserve(size_t(std::min<qint64>(rows, 1 << 16)));
        ok = forChunks(rows, feedback, [&](qint64 b, qint64 e) {
            for (qint64 r = b; r < e; ++r)
                if (!nulls || c.isValid(r))
                    ++counts[c.stringAt(r)];
        });
        items.assign(counts.begin(), counts.end());
        p.missing = c.nullCount();
    }
    if (!ok)
        return cancelledError();
    if (c.type() != ColumnType::Bool)
        p.distinct = qint64(items.size());
    p.topCategories = topOf(items, kProfileTopCategories);
    // The profile is written into the dataset's pointer file in git: a huge cell must not make a huge file.
    for (CategoryCount &cc : p.topCategories)
        if (cc.value.size() > kProfileMaxText)
            cc.value = cc.value.left(kProfileMaxText - 1) + QChar(0x2026);
    return {};
}

Expected<ColumnProfile> profileColumnImpl(const Column &column, const Feedback *feedback, ProfileScratch &scratch,
                                          std::vector<double> *sorted = nullptr)
{
    ColumnProfile p;
    p.name = column.name();
    p.type = column.type();
    p.count = column.size();
    p.missing = column.nullCount();
    if (isNumericType(column.type())) {
        if (Status s = profileNumeric(column, p, feedback, sorted, scratch); !s)
            return s.error();
    }
    if (column.type() == ColumnType::Categorical || column.type() == ColumnType::String
        || column.type() == ColumnType::Bool) {
        if (Status s = profileCategories(column, p, feedback); !s)
            return s.error();
    }
    return p;
}

// ---- text forms ------------------------------------------------------------------------------------------

using yaml::toStd;
using yaml::fromStd;

QString numberText(double v)
{
    if (std::isnan(v))
        return QStringLiteral(".nan");
    if (std::isinf(v))
        return v > 0 ? QStringLiteral(".inf") : QStringLiteral("-.inf");
    if (v == std::trunc(v) && std::abs(v) < 1e15)
        return QString::number(qint64(v));
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

std::optional<double> parseNumberText(const QString &text)
{
    const QString t = text.trimmed();
    const QString lower = t.toLower();
    if (lower == u".nan")
        return std::nan("");
    if (lower == u".inf" || lower == u"+.inf")
        return std::numeric_limits<double>::infinity();
    if (lower == u"-.inf")
        return -std::numeric_limits<double>::infinity();
    bool ok = false;
    const double v = t.toDouble(&ok);
    if (!ok)
        return std::nullopt;
    return v;
}

// A value of the column's domain as text: ISO for datetimes, a number otherwise.
QString valueText(ColumnType type, double v)
{
    if (type == ColumnType::Datetime && std::isfinite(v))
        return formatDatetime(std::llround(v));
    return numberText(v);
}

std::optional<double> parseValueText(ColumnType type, const QString &text)
{
    if (type == ColumnType::Datetime)
        if (auto ms = parseIsoDatetime(text))
            return double(*ms);
    return parseNumberText(text);
}

// ---- YAML --------------------------------------------------------------------------------------------------

Error yamlError(const YAML::Node &node, const QString &message, const QString &field)
{
    const qint64 line = node.Mark().line >= 0 ? qint64(node.Mark().line) + 1 : -1;
    return makeError(message, {}, line, field);
}

Expected<qint64> yamlInt(const YAML::Node &node, const QString &field)
{
    if (!node.IsScalar())
        return yamlError(node, QStringLiteral("expected an integer"), field);
    bool ok = false;
    const qint64 v = fromStd(node.Scalar()).trimmed().toLongLong(&ok);
    if (!ok)
        return yamlError(node, QStringLiteral("expected an integer, found '%1'").arg(fromStd(node.Scalar())), field);
    return v;
}

Expected<double> yamlValue(const YAML::Node &node, ColumnType type, const QString &field)
{
    if (!node.IsScalar())
        return yamlError(node, QStringLiteral("expected a number"), field);
    const QString text = fromStd(node.Scalar());
    const auto v = parseValueText(type, text);
    if (!v)
        return yamlError(node, QStringLiteral("expected a number, found '%1'").arg(text), field);
    return *v;
}

Expected<ColumnProfile> parseColumnYaml(const YAML::Node &node, qint64 index)
{
    if (!node.IsMap())
        return yamlError(node, QStringLiteral("expected a column map"), QStringLiteral("column %1").arg(index + 1));
    ColumnProfile p;
    const YAML::Node name = node["name"];
    if (!name.IsDefined() || !name.IsScalar())
        return yamlError(node, QStringLiteral("missing column name"), QStringLiteral("name"));
    p.name = fromStd(name.Scalar());
    auto field = [&p](const char *key) -> QString { return p.name + QLatin1Char('.') + QLatin1String(key); };
    const YAML::Node type = node["type"];
    if (!type.IsDefined() || !type.IsScalar())
        return yamlError(node, QStringLiteral("missing column type"), field("type"));
    const auto t = columnTypeFromName(fromStd(type.Scalar()));
    if (!t)
        return yamlError(type, QStringLiteral("unknown type '%1'").arg(fromStd(type.Scalar())), field("type"));
    p.type = *t;

    for (const char *key : {"count", "missing", "distinct"}) {
        const YAML::Node n = node[key];
        if (!n.IsDefined())
            continue;
        auto v = yamlInt(n, field(key));
        if (!v)
            return v.error();
        (key == std::string_view("count") ? p.count : key == std::string_view("missing") ? p.missing : p.distinct) = *v;
    }
    const std::pair<const char *, std::optional<double> *> optionals[] = {
        {"min", &p.min}, {"max", &p.max}, {"mean", &p.mean}, {"std", &p.std}};
    for (const auto &[key, target] : optionals) {
        const YAML::Node n = node[key];
        if (!n.IsDefined())
            continue;
        auto v = yamlValue(n, key == std::string_view("std") ? ColumnType::Float64 : p.type, field(key));
        if (!v)
            return v.error();
        *target = *v;
    }
    if (const YAML::Node qs = node["quantiles"]; qs.IsDefined()) {
        if (!qs.IsSequence())
            return yamlError(qs, QStringLiteral("expected a list"), field("quantiles"));
        for (const YAML::Node &q : qs) {
            if (!q.IsMap() || !q["p"].IsDefined() || !q["value"].IsDefined())
                return yamlError(q, QStringLiteral("expected {p, value}"), field("quantiles"));
            auto level = yamlValue(q["p"], ColumnType::Float64, field("quantiles"));
            if (!level)
                return level.error();
            auto value = yamlValue(q["value"], p.type, field("quantiles"));
            if (!value)
                return value.error();
            p.quantiles.push_back({*level, *value});
        }
    }
    if (const YAML::Node top = node["topCategories"]; top.IsDefined()) {
        if (!top.IsSequence())
            return yamlError(top, QStringLiteral("expected a list"), field("topCategories"));
        for (const YAML::Node &c : top) {
            if (!c.IsMap() || !c["value"].IsDefined() || !c["value"].IsScalar() || !c["count"].IsDefined())
                return yamlError(c, QStringLiteral("expected {value, count}"), field("topCategories"));
            auto count = yamlInt(c["count"], field("topCategories"));
            if (!count)
                return count.error();
            p.topCategories.push_back({fromStd(c["value"].Scalar()), *count});
        }
    }
    if (const YAML::Node h = node["histogram"]; h.IsDefined()) {
        const YAML::Node edges = h["edges"], counts = h["counts"];
        if (!h.IsMap() || !edges.IsSequence() || !counts.IsSequence())
            return yamlError(h, QStringLiteral("expected {edges: [...], counts: [...]}"), field("histogram"));
        for (const YAML::Node &e : edges) {
            auto v = yamlValue(e, p.type, field("histogram"));
            if (!v)
                return v.error();
            p.histogram.edges.push_back(*v);
        }
        for (const YAML::Node &c : counts) {
            auto v = yamlInt(c, field("histogram"));
            if (!v)
                return v.error();
            p.histogram.counts.push_back(*v);
        }
        if (!(p.histogram.edges.empty() && p.histogram.counts.empty())
            && p.histogram.edges.size() != p.histogram.counts.size() + 1)
            return yamlError(h, QStringLiteral("histogram needs one more edge than counts"), field("histogram"));
    }
    return p;
}

// ---- JSON --------------------------------------------------------------------------------------------------

QJsonValue jsonValue(ColumnType type, double v)
{
    if (type == ColumnType::Datetime && std::isfinite(v))
        return formatDatetime(std::llround(v));
    if (!std::isfinite(v))
        return QJsonValue(QJsonValue::Null);
    return v;
}

std::optional<double> fromJsonValue(ColumnType type, const QJsonValue &v)
{
    if (v.isDouble())
        return v.toDouble();
    if (v.isNull())
        return std::nan("");
    if (v.isString())
        return parseValueText(type, v.toString());
    return std::nullopt;
}

// ---- plain text --------------------------------------------------------------------------------------------

QString shortNumber(ColumnType type, double v)
{
    if (type == ColumnType::Datetime && std::isfinite(v))
        return formatDatetime(std::llround(v));
    if (std::isfinite(v) && v == std::trunc(v) && std::abs(v) < 1e15)
        return QString::number(qint64(v));
    return QString::number(v, 'g', 6);
}

// A span of milliseconds in the largest unit that keeps it above 1 ("3.2 d", "5 h", "12.5 s").
QString durationText(double ms)
{
    struct Unit {
        double ms;
        const char *name;
    };
    static const Unit units[] = {{86400000.0, "d"}, {3600000.0, "h"}, {60000.0, "min"}, {1000.0, "s"}};
    for (const Unit &u : units)
        if (std::abs(ms) >= u.ms)
            return QString::number(ms / u.ms, 'g', 4) + QLatin1Char(' ') + QLatin1String(u.name);
    return QString::number(ms, 'g', 4) + QStringLiteral(" ms");
}

QString percent(double share) { return QString::number(share * 100.0, 'f', share < 0.001 && share > 0 ? 3 : 1) + QLatin1Char('%'); }

} // namespace

const ColumnProfile *TableProfile::find(QStringView name) const
{
    for (const ColumnProfile &c : columns)
        if (c.name == name)
            return &c;
    return nullptr;
}

std::optional<int64_t> parseIsoDatetime(QStringView text)
{
    QString s = text.trimmed().toString();
    if (s.size() == 10) {
        const QDate d = QDate::fromString(s, Qt::ISODate);
        if (!d.isValid())
            return std::nullopt;
        return QDateTime(d, QTime(0, 0), QTimeZone::utc()).toMSecsSinceEpoch();
    }
    if (s.size() < 16 || (s[10] != QLatin1Char('T') && s[10] != QLatin1Char(' ')))
        return std::nullopt;
    s[10] = QLatin1Char('T');
    QDateTime dt = QDateTime::fromString(s, Qt::ISODateWithMs);
    if (!dt.isValid())
        return std::nullopt;
    if (dt.timeSpec() == Qt::LocalTime)
        dt = QDateTime(dt.date(), dt.time(), QTimeZone::utc());
    return dt.toMSecsSinceEpoch();
}

Expected<ColumnProfile> profileColumn(const Column &column, Feedback *feedback, std::vector<double> *sorted)
{
    if (sorted)
        sorted->clear();
    ProfileScratch scratch;
    auto p = profileColumnImpl(column, feedback, scratch, sorted);
    if (p)
        reportProgress(feedback, 1, 1, QStringLiteral("profile"));
    return p;
}

Expected<TableProfile> profileTable(const Table &table, Feedback *feedback)
{
    const int n = table.columnCount();
    std::vector<std::optional<ColumnProfile>> results(static_cast<size_t>(n));
    std::atomic<int> next{0}, done{0};
    std::atomic<bool> cancelled{false};
    auto worker = [&] {
        ProfileScratch scratch;   // one per thread, reused for every column it takes
        for (int i = next++; i < n; i = next++) {
            if (cancelled.load() || isCancelled(feedback)) {
                cancelled = true;
                return;
            }
            auto p = profileColumnImpl(table.column(i), feedback, scratch);
            if (!p) {
                cancelled = true;
                return;
            }
            results[size_t(i)] = std::move(p.value());
            reportProgress(feedback, ++done, n, QStringLiteral("profile"));
        }
    };
    const int threads = std::clamp(QThread::idealThreadCount(), 1, std::max(n, 1));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
        pool.emplace_back(worker);
    worker();
    for (std::thread &t : pool)
        t.join();
    if (cancelled || isCancelled(feedback))
        return cancelledError();
    TableProfile out;
    out.rows = table.rowCount();
    out.columns.reserve(size_t(n));
    for (auto &r : results)
        out.columns.push_back(std::move(*r));
    return out;
}

void emitProfileYaml(YAML::Emitter &out, const TableProfile &profile)
{
    out << YAML::BeginSeq;
    for (const ColumnProfile &c : profile.columns) {
        out << YAML::BeginMap;
        out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << toStd(c.name);
        out << YAML::Key << "type" << YAML::Value << toStd(columnTypeName(c.type));
        out << YAML::Key << "count" << YAML::Value << static_cast<long long>(c.count);
        out << YAML::Key << "missing" << YAML::Value << static_cast<long long>(c.missing);
        out << YAML::Key << "distinct" << YAML::Value << static_cast<long long>(c.distinct);
        if (c.min)
            out << YAML::Key << "min" << YAML::Value << toStd(valueText(c.type, *c.min));
        if (c.max)
            out << YAML::Key << "max" << YAML::Value << toStd(valueText(c.type, *c.max));
        if (c.mean)
            out << YAML::Key << "mean" << YAML::Value << toStd(valueText(c.type, *c.mean));
        if (c.std)
            out << YAML::Key << "std" << YAML::Value << toStd(numberText(*c.std));
        if (!c.quantiles.empty()) {
            out << YAML::Key << "quantiles" << YAML::Value << YAML::BeginSeq;
            for (const Quantile &q : c.quantiles)
                out << YAML::Flow << YAML::BeginMap << YAML::Key << "p" << YAML::Value << toStd(numberText(q.p))
                    << YAML::Key << "value" << YAML::Value << toStd(valueText(c.type, q.value)) << YAML::EndMap;
            out << YAML::EndSeq;
        }
        if (!c.topCategories.empty()) {
            out << YAML::Key << "topCategories" << YAML::Value << YAML::BeginSeq;
            for (const CategoryCount &cc : c.topCategories)
                out << YAML::Flow << YAML::BeginMap << YAML::Key << "value" << YAML::Value << YAML::DoubleQuoted
                    << toStd(cc.value) << YAML::Key << "count" << YAML::Value << static_cast<long long>(cc.count)
                    << YAML::EndMap;
            out << YAML::EndSeq;
        }
        if (!c.histogram.counts.empty()) {
            out << YAML::Key << "histogram" << YAML::Value << YAML::BeginMap;
            out << YAML::Key << "edges" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (double e : c.histogram.edges)
                out << toStd(valueText(c.type, e));
            out << YAML::EndSeq;
            out << YAML::Key << "counts" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (qint64 n : c.histogram.counts)
                out << static_cast<long long>(n);
            out << YAML::EndSeq << YAML::EndMap;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndSeq;
}

Expected<TableProfile> parseProfileYaml(const YAML::Node &node, qint64 rows)
{
    return yaml::guarded(QString(), [&]() -> Expected<TableProfile> {
        TableProfile out;
        out.rows = rows;
        if (!node.IsDefined() || node.IsNull())
            return out;
        if (!node.IsSequence())
            return yamlError(node, QStringLiteral("expected a list of column profiles"), QStringLiteral("profile"));
        qint64 index = 0;
        for (const YAML::Node &c : node) {
            auto p = parseColumnYaml(c, index++);
            if (!p)
                return p.error();
            out.columns.push_back(std::move(p.value()));
        }
        return out;
    });
}

QByteArray profileToYaml(const TableProfile &profile)
{
    YAML::Emitter out;
    emitProfileYaml(out, profile);
    return QByteArray(out.c_str()) + '\n';
}

Expected<TableProfile> profileFromYaml(QByteArrayView yaml, qint64 rows, const QString &source)
{
    auto node = yaml::parse(yaml, source);
    if (!node)
        return node.error();
    auto profile = parseProfileYaml(*node, rows);
    if (!profile)
        return profile.error().withFile(source);
    return profile;
}

QJsonObject profileToJson(const ColumnProfile &c)
{
    QJsonObject o;
    o.insert(QStringLiteral("name"), c.name);
    o.insert(QStringLiteral("type"), columnTypeName(c.type));
    o.insert(QStringLiteral("count"), c.count);
    o.insert(QStringLiteral("missing"), c.missing);
    o.insert(QStringLiteral("missingShare"), c.missingShare());
    o.insert(QStringLiteral("distinct"), c.distinct);
    if (c.min)
        o.insert(QStringLiteral("min"), jsonValue(c.type, *c.min));
    if (c.max)
        o.insert(QStringLiteral("max"), jsonValue(c.type, *c.max));
    if (c.mean)
        o.insert(QStringLiteral("mean"), jsonValue(c.type, *c.mean));
    if (c.std)
        o.insert(QStringLiteral("std"), jsonValue(ColumnType::Float64, *c.std));
    if (!c.quantiles.empty()) {
        QJsonArray qs;
        for (const Quantile &q : c.quantiles)
            qs.append(QJsonObject{{QStringLiteral("p"), q.p}, {QStringLiteral("value"), jsonValue(c.type, q.value)}});
        o.insert(QStringLiteral("quantiles"), qs);
    }
    if (!c.topCategories.empty()) {
        QJsonArray top;
        for (const CategoryCount &cc : c.topCategories)
            top.append(QJsonObject{{QStringLiteral("value"), cc.value}, {QStringLiteral("count"), cc.count}});
        o.insert(QStringLiteral("topCategories"), top);
    }
    if (!c.histogram.counts.empty()) {
        QJsonArray edges, counts;
        for (double e : c.histogram.edges)
            edges.append(jsonValue(c.type, e));
        for (qint64 n : c.histogram.counts)
            counts.append(n);
        o.insert(QStringLiteral("histogram"), QJsonObject{{QStringLiteral("edges"), edges}, {QStringLiteral("counts"), counts}});
    }
    return o;
}

QJsonArray profileToJson(const TableProfile &profile)
{
    QJsonArray a;
    for (const ColumnProfile &c : profile.columns)
        a.append(profileToJson(c));
    return a;
}

Expected<ColumnProfile> profileFromJson(const QJsonObject &o)
{
    ColumnProfile p;
    if (!o.value(QStringLiteral("name")).isString())
        return makeError(QStringLiteral("missing column name"), {}, -1, QStringLiteral("name"));
    p.name = o.value(QStringLiteral("name")).toString();
    auto field = [&p](const char *key) -> QString { return p.name + QLatin1Char('.') + QLatin1String(key); };
    const auto type = columnTypeFromName(o.value(QStringLiteral("type")).toString());
    if (!type)
        return makeError(QStringLiteral("unknown type '%1'").arg(o.value(QStringLiteral("type")).toString()), {}, -1,
                         field("type"));
    p.type = *type;
    p.count = qint64(o.value(QStringLiteral("count")).toDouble());
    p.missing = qint64(o.value(QStringLiteral("missing")).toDouble());
    p.distinct = qint64(o.value(QStringLiteral("distinct")).toDouble());
    const std::pair<const char *, std::optional<double> *> optionals[] = {
        {"min", &p.min}, {"max", &p.max}, {"mean", &p.mean}, {"std", &p.std}};
    for (const auto &[key, target] : optionals) {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined())
            continue;
        const auto d = fromJsonValue(key == std::string_view("std") ? ColumnType::Float64 : p.type, v);
        if (!d)
            return makeError(QStringLiteral("expected a number"), {}, -1, field(key));
        *target = *d;
    }
    for (const QJsonValue &q : o.value(QStringLiteral("quantiles")).toArray()) {
        const auto value = fromJsonValue(p.type, q.toObject().value(QStringLiteral("value")));
        if (!q.isObject() || !value)
            return makeError(QStringLiteral("expected {p, value}"), {}, -1, field("quantiles"));
        p.quantiles.push_back({q.toObject().value(QStringLiteral("p")).toDouble(), *value});
    }
    for (const QJsonValue &c : o.value(QStringLiteral("topCategories")).toArray()) {
        if (!c.isObject() || !c.toObject().value(QStringLiteral("value")).isString())
            return makeError(QStringLiteral("expected {value, count}"), {}, -1, field("topCategories"));
        p.topCategories.push_back({c.toObject().value(QStringLiteral("value")).toString(),
                                   qint64(c.toObject().value(QStringLiteral("count")).toDouble())});
    }
    const QJsonObject h = o.value(QStringLiteral("histogram")).toObject();
    for (const QJsonValue &e : h.value(QStringLiteral("edges")).toArray()) {
        const auto v = fromJsonValue(p.type, e);
        if (!v)
            return makeError(QStringLiteral("expected a number"), {}, -1, field("histogram"));
        p.histogram.edges.push_back(*v);
    }
    for (const QJsonValue &c : h.value(QStringLiteral("counts")).toArray())
        p.histogram.counts.push_back(qint64(c.toDouble()));
    if (!(p.histogram.edges.empty() && p.histogram.counts.empty())
        && p.histogram.edges.size() != p.histogram.counts.size() + 1)
        return makeError(QStringLiteral("histogram needs one more edge than counts"), {}, -1, field("histogram"));
    return p;
}

Expected<TableProfile> profileFromJson(const QJsonArray &array, qint64 rows)
{
    TableProfile out;
    out.rows = rows;
    for (const QJsonValue &v : array) {
        if (!v.isObject())
            return makeError(QStringLiteral("expected a column profile object"), {}, -1, QStringLiteral("profile"));
        auto p = profileFromJson(v.toObject());
        if (!p)
            return p.error();
        out.columns.push_back(std::move(p.value()));
    }
    return out;
}

QString profileToText(const TableProfile &profile)
{
    qsizetype nameWidth = 6;
    for (const ColumnProfile &c : profile.columns)
        nameWidth = std::max(nameWidth, std::min<qsizetype>(c.name.size(), 32));
    QString out = QStringLiteral("%1 rows, %2 columns\n").arg(profile.rows).arg(profile.columns.size());
    out += QStringLiteral("column").leftJustified(nameWidth + 2) + QStringLiteral("type").leftJustified(13)
        + QStringLiteral("missing").leftJustified(17) + QStringLiteral("distinct").leftJustified(10)
        + QStringLiteral("summary\n");
    for (const ColumnProfile &c : profile.columns) {
        QString missing = QString::number(c.missing);
        if (c.missing > 0)
            missing += QStringLiteral(" (") + percent(c.missingShare()) + QLatin1Char(')');
        QString line = c.name.leftJustified(nameWidth + 1) + QLatin1Char(' ')
            + columnTypeName(c.type).leftJustified(12) + QLatin1Char(' ') + missing.leftJustified(16) + QLatin1Char(' ')
            + QString::number(c.distinct).leftJustified(9) + QLatin1Char(' ');
        QStringList parts;
        if (c.type == ColumnType::Bool || c.type == ColumnType::Categorical || c.type == ColumnType::String) {
            const qint64 present = c.count - c.missing;
            for (size_t i = 0; i < c.topCategories.size() && i < 3; ++i) {
                const CategoryCount &cc = c.topCategories[i];
                parts << cc.value + QLatin1Char(' ') + QString::number(cc.count) + QStringLiteral(" (")
                        + percent(present ? double(cc.count) / double(present) : 0.0) + QLatin1Char(')');
            }
            if (c.distinct > 3)
                parts << QStringLiteral("...");
        } else if (c.min && c.max) {
            parts << QStringLiteral("min ") + shortNumber(c.type, *c.min);
            for (const Quantile &q : c.quantiles)
                if (q.p == 0.5)
                    parts << QStringLiteral("median ") + shortNumber(c.type, q.value);
            parts << QStringLiteral("max ") + shortNumber(c.type, *c.max);
            if (c.mean)
                parts << QStringLiteral("mean ") + shortNumber(c.type, *c.mean);
            if (c.std)
                parts << QStringLiteral("std ")
                        + (c.type == ColumnType::Datetime ? durationText(*c.std) : shortNumber(c.type, *c.std));
        }
        line += parts.join(QStringLiteral(", "));
        out += line.trimmed() + QLatin1Char('\n');
    }
    return out;
}

} // namespace keel::data
