#pragma once
// Internal to the readers (csvreader.cpp, jsonlreader.cpp): value parsing, per-chunk column
// accumulation with type inference, and the shared assembly of chunk results into a Table.
// Not part of the public API; everything here lives in keel::data::detail.

#include "data/reader.h"
#include "data/table.h"
#include "util/feedback.h"
#include "util/memory.h"
#include "util/result.h"

#include <QString>
#include <QStringList>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::data::detail {

/// The narrowest kind a set of values fits, in inference order. Int and Float join to Float;
/// any other pair of different non-empty kinds joins to Text.
enum class ValueKind : uint8_t { Empty, Bool, Int, Float, Date, Text };

/// Leading and trailing ASCII spaces (and tabs) removed.
inline std::string_view trimSpaces(std::string_view s)
{
    // Most fields start and end with neither (both are below '!'): two compares settle them.
    if (s.empty() || (uint8_t(s.front()) > uint8_t(' ') && uint8_t(s.back()) > uint8_t(' ')))
        return s;
    size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t'))
        ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        --e;
    return s.substr(b, e - b);
}

/// Optional sign and decimal digits that fit in int64.
inline bool parseInt64(std::string_view s, int64_t &out)
{
    const char *p = s.data();
    const char *e = p + s.size();
    if (p == e)
        return false;
    bool neg = false;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        if (++p == e)
            return false;
    }
    if (e - p > 19) {
        while (e - p > 1 && *p == '0')
            ++p;
        if (e - p > 19)
            return false;
    }
    uint64_t v = 0;
    for (; p < e; ++p) {
        const unsigned d = unsigned(uint8_t(*p)) - unsigned('0');
        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    constexpr uint64_t maxPos = uint64_t(std::numeric_limits<int64_t>::max());
    if (neg) {
        if (v > maxPos + 1)
            return false;
        out = v == maxPos + 1 ? std::numeric_limits<int64_t>::min() : -int64_t(v);
    } else {
        if (v > maxPos)
            return false;
        out = int64_t(v);
    }
    return true;
}

/// An integer written with a leading zero ("0042", "-007"): an identifier, not a number. "0" and "-0" are numbers.
inline bool hasLeadingZero(std::string_view s)
{
    const size_t i = !s.empty() && (s[0] == '+' || s[0] == '-') ? 1 : 0;
    return s.size() > i + 1 && s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9';
}

/// Optional sign and decimal digits only (any length).
inline bool isIntegerText(std::string_view s)
{
    size_t i = !s.empty() && (s[0] == '+' || s[0] == '-') ? 1 : 0;
    if (i == s.size())
        return false;
    for (; i < s.size(); ++i)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/// Decimal or exponent notation, inf/infinity/nan words, optional sign; locale-independent. Magnitudes beyond the
/// float64 range are not accepted (false); magnitudes below it round to zero.
bool parseFloat64(std::string_view s, double &out);
/// parseFloat64's fast path on CPUs without AVX-512, on its own (the tests check it on a CPU that has AVX-512): an
/// optional '-', at most 16 digits and points. False for any other text, and for a field that ends within 15 bytes of a
/// page start (the path reads the 16 bytes that end at the field).
bool parseShortDecimalSse41(std::string_view s, double &out);
/// "true" / "false", case-insensitive.
/// "true" or "false" in any case. Setting bit 5 of a byte lower-cases a letter and turns no other byte into one of
/// these letters, so one OR and one compare a word decide.
inline bool parseBool(std::string_view s, bool &out)
{
    if (s.size() != 4 && s.size() != 5)
        return false;
    uint32_t w;
    std::memcpy(&w, s.data(), 4);
    w |= 0x20202020u;
    const bool isTrue = s.size() == 4 && w == (uint32_t('t') | uint32_t('r') << 8 | uint32_t('u') << 16 | uint32_t('e') << 24);
    const bool isFalse = s.size() == 5 && w == (uint32_t('f') | uint32_t('a') << 8 | uint32_t('l') << 16 | uint32_t('s') << 24)
                         && (s[4] | 0x20) == 'e';
    if (isTrue || isFalse)
        out = isTrue;
    return isTrue || isFalse;
}

/// Result of parsing one date or date-time. `dmy` forms (dd/mm/yyyy, mm/dd/yyyy, two-digit years)
/// carry both interpretations; ISO and year-first forms are valid under both orders.
struct DateValue {
    bool ok = false;
    bool dmy = false;
    bool validDayFirst = false;
    bool validMonthFirst = false;
    int64_t msDayFirst = 0;   ///< ms since epoch UTC under the day-first reading (0 when invalid)
    int64_t msMonthFirst = 0; ///< same under the month-first reading
};
DateValue parseDatetime(std::string_view s);

/// Offset of the first byte that is not part of valid UTF-8 in [b, e), or -1.
qint64 findInvalidUtf8(const char *b, const char *e);

/// How the CSV reader finds fields: with its separator index on the widest vectors the CPU has (the default), with the
/// index on at most AVX2 or on SSE2 only, or with the tokenizer alone (tests compare the index, on each path, with the
/// tokenizer it stands in for). Avx2 and Sse2 also put the survey before the parse (surveyCsv) on those vectors. A
/// path the CPU lacks falls back to the next narrower one. Thread-safe.
enum class SeparatorScan { Tokenizer, Vector, Avx2, Sse2 };
SeparatorScan separatorScan();
void setSeparatorScan(SeparatorScan scan);

/// Whole-field match against the configured missing-value tokens (UTF-8).
class MissingTokens {
public:
    explicit MissingTokens(const QStringList &tokens);
    bool matches(std::string_view s) const
    {
        // One look-up by first byte and length settles most fields: bit n of m_byFirst[c] is set when a token of
        // n bytes (63: 63 or more) starts with c; the empty token has its own flag.
        if (s.empty())
            return m_hasEmpty;
        if (!((m_byFirst[uint8_t(s.front())] >> std::min<size_t>(s.size(), 63)) & 1u))
            return false;
        for (const auto &t : m_tokens)
            if (t == s)
                return true;
        return false;
    }

private:
    std::vector<std::string> m_tokens;
    bool m_hasEmpty = false;
    std::array<uint64_t, 256> m_byFirst{};
};

/// Insertion-ordered string dictionary with an open-addressing index (codes are first-seen order).
class TextDict {
public:
    int32_t size() const { return int32_t(m_offsets.size() - 1); }
    int32_t findOrInsert(std::string_view s);
    std::string_view at(int32_t code) const
    {
        return std::string_view(m_bytes.data() + m_offsets[size_t(code)],
                                size_t(m_offsets[size_t(code) + 1] - m_offsets[size_t(code)]));
    }
    std::vector<int64_t> takeOffsets() { return std::move(m_offsets); }
    std::vector<char> takeBytes() { return std::move(m_bytes); }

private:
    /// A string of at most 16 bytes as two words and its length (exactly: see shortWord), with its code.
    struct Recent {
        uint64_t head = 0;
        uint64_t tail = 0;
        uint32_t length = ~0u;   ///< no string: matches nothing
        int32_t code = 0;
    };
    static constexpr int kRecentBits = 6;
    int32_t findOrInsertHashed(std::string_view s);
    void grow();
    std::vector<int64_t> m_offsets{0};
    std::vector<char> m_bytes;
    std::vector<uint64_t> m_hashes;
    std::vector<uint64_t> m_slots;   ///< upper 32 bits of the hash | code + 1; 0 is empty
    /// Short strings seen lately, direct-mapped: most fields of a categorical column are found here without hashing,
    /// probing or comparing bytes in `m_bytes` (a chain of dependent loads that took most of a lookup's time).
    std::vector<Recent> m_recent;
};

/// realloc(old, bytes), asking for transparent huge pages for large blocks (written once, front to back); throws
/// std::bad_alloc when memory runs out.
void *allocateValues(size_t bytes, void *old);

/// Rows [first, first + rows) of a region that holds one column's values for the whole input: an area for each value
/// width (8 bytes a row for int64, float64 and dates, 4 for categorical codes, 1 for bools), so that chunks whose values
/// turned out of different widths never write over each other. The reader sets one window aside for each chunk, in
/// file order, so that the chunks' values end up adjacent and the table adopts them without copying (see assembleTable).
struct ColumnWindow {
    std::byte *region = nullptr;
    qint64 regionRows = 0;   ///< rows of the whole region (where each area starts)
    qint64 first = 0;
    qint64 rows = 0;
    std::shared_ptr<const void> owner;   ///< keeps the region mapped
    explicit operator bool() const { return region != nullptr; }
    /// Where values `width` bytes wide start: the areas for 8, 4 and 1 bytes a row follow each other, each on a 2 MiB
    /// boundary (so a huge page faulted in at the end of one area never holds the start of the next).
    static size_t areaOffset(qint64 regionRows, size_t width)
    {
        constexpr size_t huge = size_t(2) << 20;
        const auto pages = [](size_t bytes) { return (bytes + huge - 1) / huge * huge; };
        const size_t eight = pages(size_t(regionRows) * 8), four = pages(size_t(regionRows) * 4);
        return width == 8 ? 0 : width == 4 ? eight : eight + four;
    }
    template <class T>
    T *values() const
    {
        static_assert(sizeof(T) == 8 || sizeof(T) == 4 || sizeof(T) == 1);
        return reinterpret_cast<T *>(region + areaOffset(regionRows, sizeof(T))) + first;
    }
};

/// A region for ColumnWindows of `rows` rows: reserved address space that costs memory only where written, on
/// transparent huge pages. Null when it cannot be mapped (the reader then copies chunks as before).
std::shared_ptr<std::byte> allocateColumnRegion(qint64 rows);

/// The fixed-width values of one chunk's column, in memory of its own that grows, or in a ColumnWindow. More values
/// than the window holds move to memory of its own (then the chunks are no longer adjacent, and are copied).
/// Holds trivially copyable T; not copyable itself (copyFrom says where a copy is made).
template <class T>
class ValueBuffer {
public:
    ValueBuffer() = default;
    ValueBuffer(const ValueBuffer &) = delete;
    ValueBuffer &operator=(const ValueBuffer &) = delete;
    ValueBuffer(ValueBuffer &&o) noexcept { take(o); }
    ValueBuffer &operator=(ValueBuffer &&o) noexcept
    {
        if (this != &o) {
            release();
            take(o);
        }
        return *this;
    }
    ~ValueBuffer() { release(); }

    size_t size() const { return m_size; }
    T *data() { return m_data; }
    const T *data() const { return m_data; }
    T &operator[](size_t i) { return m_data[i]; }
    const T &operator[](size_t i) const { return m_data[i]; }
    const T *begin() const { return m_data; }
    const T *end() const { return m_data + m_size; }
    bool inWindow() const { return m_window != nullptr; }

    [[gnu::always_inline]] void push_back(T v)
    {
        if (m_size == m_cap) [[unlikely]]
            grow(m_size + 1);
        m_data[m_size++] = v;
    }
    /// Room for n values; a window keeps its size (a too-large estimate must not move the values out of it).
    void reserve(size_t n)
    {
        if (n > m_cap && !m_window)
            grow(n);
    }
    /// Empty, and its values go to `w` from now on (empty window: memory of its own).
    void attach(const ColumnWindow &w)
    {
        release();
        if (!w)
            return;
        m_window = w.owner;
        m_data = w.values<T>();
        m_cap = size_t(w.rows);
    }
    /// n zeros.
    void assignZeros(size_t n)
    {
        m_size = 0;
        reserve(n);
        if (n > m_cap)
            grow(n);
        std::fill_n(m_data, n, T{});
        m_size = n;
    }
    /// The values of `from`, converted to T. A window is shared: T and U have the same size, and each value is
    /// converted in place (from is left empty).
    template <class U>
    void convertFrom(ValueBuffer<U> &from)
    {
        static_assert(sizeof(T) == sizeof(U));
        release();
        const size_t n = from.size();
        if (from.inWindow()) {
            m_window = from.m_window;
            m_data = reinterpret_cast<T *>(from.m_data);
            m_cap = from.m_cap;
            from.m_window = {};
            from.m_data = nullptr;
            from.m_size = from.m_cap = 0;
            for (size_t i = 0; i < n; ++i) {
                U u;
                std::memcpy(&u, m_data + i, sizeof u);
                const T t = T(u);
                std::memcpy(m_data + i, &t, sizeof t);
            }
        } else {
            grow(n + 1);
            for (size_t i = 0; i < n; ++i)
                m_data[i] = T(from[i]);
            from.release();
        }
        m_size = n;
    }
    /// A copy of `from`'s values in memory of its own.
    void copyFrom(const ValueBuffer &from)
    {
        release();
        grow(std::max<size_t>(from.size(), 1));
        std::copy(from.begin(), from.end(), m_data);
        m_size = from.size();
    }
    /// The values as a table buffer (a view of the window, or the memory handed over); leaves this empty.
    Buffer<T> finish()
    {
        Buffer<T> b;
        if (m_window) {
            b = Buffer<T>::borrow(std::span<const T>(m_data, m_size), m_window);
        } else if (m_data) {
            T *p = std::exchange(m_data, nullptr);   // before the owner: if making it throws, it frees p
            b = Buffer<T>::borrow(std::span<const T>(p, m_size), std::shared_ptr<const void>(p, [](const void *q) {
                                      std::free(const_cast<void *>(q));
                                  }));
        }
        m_window = {};
        m_data = nullptr;
        m_size = m_cap = 0;
        return b;
    }
    /// release(), and a window's pages go back to the system (whole pages inside it only: the ones at its edges may
    /// hold a neighbouring chunk's values). For values that will never be read: speculative ones a replay replaces.
    void discard()
    {
        if (m_window && m_cap > 0) {
            const auto b = (reinterpret_cast<uintptr_t>(m_data) + 4095) & ~uintptr_t(4095);
            const auto e = reinterpret_cast<uintptr_t>(m_data + m_cap) & ~uintptr_t(4095);
            if (e > b)
                discardPages(reinterpret_cast<void *>(b), size_t(e - b));
        }
        release();
    }
    /// Back to empty, with no memory.
    void release()
    {
        if (!m_window)
            std::free(m_data);
        m_window = {};
        m_data = nullptr;
        m_size = m_cap = 0;
    }

private:
    template <class U>
    friend class ValueBuffer;
    void take(ValueBuffer &o)
    {
        m_data = std::exchange(o.m_data, nullptr);
        m_size = std::exchange(o.m_size, 0);
        m_cap = std::exchange(o.m_cap, 0);
        m_window = std::move(o.m_window);
        o.m_window = {};
    }
    /// Memory of its own for at least n values (a window's values are copied out of it).
    void grow(size_t n)
    {
        // From a window the count was only short (a quote the count read differently): grow by a quarter, not double.
        size_t cap = std::max<size_t>({n, m_window ? m_cap + m_cap / 4 : m_cap * 2, 64});
        T *p = static_cast<T *>(allocateValues(cap * sizeof(T), m_window ? nullptr : m_data));
        if (m_window) {
            std::memcpy(p, m_data, m_size * sizeof(T));
            m_window = {};
        }
        m_data = p;
        m_cap = cap;
    }

    T *m_data = nullptr;
    size_t m_size = 0;
    size_t m_cap = 0;
    std::shared_ptr<const void> m_window;   ///< set while m_data points into a window
};

/// Builds one column of one chunk. In inferring mode it starts Empty and widens with each value
/// (Int -> Float in place; anything else -> Text, after which typed history is "stale" and the
/// chunk must be replayed as text). In strict mode every value must parse as the target kind.
/// Text is dictionary-coded until more than `maxDistinct` distinct values, then plain strings.
/// Not thread-safe; one thread owns an accumulator at a time.
class ColumnAccumulator {
public:
    static ColumnAccumulator inferring(int maxDistinct, DateOrder order);
    /// `order` is the d/m/y reading for Date targets (Auto means day-first).
    static ColumnAccumulator strict(ValueKind target, DateOrder order, int maxDistinct);

    void reserve(size_t rows);
    /// This chunk's rows of the column's region: fixed-width values are written there (before the first value).
    void setWindow(ColumnWindow w);
    /// Gives back the memory of the fixed-width values (a window's pages too): a replay is about to write them anew.
    void discardValues();
    qint64 rows() const { return m_rows; }
    void addMissing();
    void padTo(qint64 rows)
    {
        while (m_rows < rows)
            addMissing();
    }
    /// `raw` is the field text as written (kept verbatim by strings); `trimmed` is what numbers,
    /// bools and dates are parsed from. False only in strict mode when the value does not fit.
    [[gnu::always_inline]] bool add(std::string_view raw, std::string_view trimmed)
    {
        if (m_strict)
            return addStrict(raw, trimmed);
        // Inline fast paths for the commonest settled kinds; everything else goes out of line.
        if (m_kind == ValueKind::Text) {
            addText(raw);
            return true;
        }
        if (m_kind == ValueKind::Int) {
            int64_t v;
            if (parseInt64(trimmed, v) && !hasLeadingZero(trimmed)) {
                m_i64.push_back(v);
                pushValid(true);
                return true;
            }
        } else if (m_kind == ValueKind::Float) {
            double v;
            if (parseFloat64(trimmed, v)) {
                m_f64.push_back(v);
                pushValid(true);
                return true;
            }
        } else if (m_kind == ValueKind::Bool) {
            bool v;
            if (parseBool(trimmed, v)) {
                m_u8.push_back(v ? 1 : 0);
                pushValid(true);
                return true;
            }
        }
        return addInferred(raw, trimmed);
    }
    /// A nested JSON value (compact text): always text.
    bool addNested(std::string_view text);

    ValueKind kind() const { return m_kind; }
    bool isStrict() const { return m_strict; }
    /// Text whose earlier values were typed: its text was not kept.
    bool isStale() const { return m_stale; }
    bool validDayFirst() const { return m_validDayFirst; }
    bool validMonthFirst() const { return m_validMonthFirst; }
    bool hasDmy() const { return m_hasDmy; }
    /// Text accumulators: exceeded maxDistinct (plain strings), distinct dictionary, non-missing count.
    bool isStringMode() const { return m_stringMode; }
    const TextDict &dictionary() const { return m_dict; }
    qint64 nonMissing() const { return m_nonMissing; }

    /// Moves the data into a Column of `type`; the accumulator's kind must be compatible
    /// (Empty always is; see needsReplay()). `order` picks the d/m/y reading of dates.
    Column finish(const QString &name, ColumnType type, DateOrder order);

private:
    explicit ColumnAccumulator(int maxDistinct) : m_maxDistinct(maxDistinct) {}
    /// Validity bits are only kept once the first missing value arrives.
    [[gnu::always_inline]] void pushValid(bool valid)
    {
        if (valid && !m_nulls)
            ++m_rows;
        else
            pushValidSlow(valid);
    }
    void pushValidSlow(bool valid);
    void startValidity();
    bool isValidRow(qint64 i) const { return !m_nulls || ((m_valid[size_t(i >> 3)] >> (i & 7)) & 1u); }
    bool addInferred(std::string_view raw, std::string_view trimmed);
    bool addStrict(std::string_view raw, std::string_view trimmed);
    void addText(std::string_view raw);
    void becomeKind(ValueKind k);
    void becomeStaleText();
    void switchToStringMode();
    void pushDate(const DateValue &d);

    ValueKind m_kind = ValueKind::Empty;
    bool m_strict = false;
    bool m_stale = false;
    bool m_stringMode = false;
    bool m_validDayFirst = true;
    bool m_validMonthFirst = true;
    bool m_hasDmy = false;
    bool m_altActive = false;
    DateOrder m_strictOrder = DateOrder::DayFirst;
    int m_maxDistinct;
    size_t m_reserve = 0;
    qint64 m_rows = 0;
    qint64 m_nulls = 0;
    qint64 m_nonMissing = 0;
    std::vector<uint8_t> m_valid;
    ColumnWindow m_window;          ///< where this chunk's fixed-width values go (none: memory of its own)
    ValueBuffer<int64_t> m_i64;    ///< Int values, or dates under the day-first reading
    ValueBuffer<int64_t> m_alt;    ///< dates under the month-first reading (once a d/m/y value appeared)
    ValueBuffer<double> m_f64;
    ValueBuffer<uint8_t> m_u8;
    ValueBuffer<int32_t> m_codes;
    TextDict m_dict;
    std::vector<int64_t> m_offsets; ///< string mode
    std::vector<char> m_bytes;      ///< string mode
};

/// A failure inside one chunk, located by byte offset into the parsed buffer.
struct ChunkError {
    qint64 offset = 0;
    QString message;
    int column = -1; ///< column index for field errors, or -1
    QString field;   ///< explicit field name when no column index applies
    ErrorKind kind = ErrorKind::InvalidInput;
    bool openQuote = false;   ///< an unterminated quoted field (CSV): the reader looks for where it really opened
};

/// One contiguous range of records parsed by one task.
struct ChunkState {
    const char *begin = nullptr;
    const char *limit = nullptr; ///< records starting at or after this belong to the next chunk
    qint64 rowLimit = -1;        ///< stop after this many records (-1: no limit)
    qint64 rows = 0;
    const char *endPos = nullptr; ///< where parsing stopped (start of the next record)
    bool truncated = false;       ///< rowLimit stopped it before the end of the input
    std::vector<ColumnAccumulator> cols;
    std::vector<ColumnWindow> windows;   ///< per column, where the fixed-width values go (empty: memory of their own)
    std::optional<ChunkError> error;
};

/// Shared progress counter for parallel phases.
struct ProgressCounter {
    std::atomic<qint64> done{0};
    qint64 total = 0;
};

/// How many chunks a parallel read of `bytes` splits into: at least four per thread, about 16 MiB at most and
/// 256 KiB at least each, rounded up to a multiple of the thread count so that equal chunks keep every thread busy
/// to the end (17 chunks on two threads left one idle for a whole chunk, a tenth of the 1 GiB bench parse). Equal
/// sizes are not equal times on a shared machine: at 64 MiB the last chunk still left a core idle for a few percent
/// of the parse (1.78-1.85 cores busy on the bench file; 1.84-1.88 at 16 MiB).
inline qint64 parallelChunkCount(qint64 bytes, int threads)
{
    constexpr qint64 kLargest = qint64(16) << 20, kSmallest = qint64(256) << 10;
    const qint64 t = std::max(threads, 1);
    qint64 n = std::max<qint64>(t * 4, (bytes + kLargest - 1) / kLargest);
    n = (n + t - 1) / t * t;
    return std::clamp<qint64>(n, 1, std::max<qint64>(1, bytes / kSmallest));
}

/// Runs task(0..count-1) on up to `threads` worker threads and waits; the calling thread reports
/// progress from `progress` to `feedback` while it waits. Exceptions from tasks become an Error.
Status runTasks(int count, int threads, const std::function<void(int)> &task, Feedback *feedback,
                ProgressCounter *progress, const QString &stage);

/// 1-based physical line of byte `offset` in a buffer starting at `base`.
qint64 lineOfOffset(const char *base, qint64 offset);

/// Converts a chunk failure into an Error naming file, line and field.
Error chunkErrorToError(const ChunkError &e, const char *base, const QString &source, const QStringList &names);

/// Join of two inference summaries (kind plus d/m/y validity).
struct KindSummary {
    ValueKind kind = ValueKind::Empty;
    bool validDayFirst = true;
    bool validMonthFirst = true;
    bool hasDmy = false;
};
KindSummary summaryOf(const ColumnAccumulator &acc);
KindSummary joinSummaries(const KindSummary &a, const KindSummary &b);

/// Re-parses one chunk feeding only the non-null targets (indexed by column); sets chunk.error on failure.
using ReplayFn = std::function<void(ChunkState &chunk, std::vector<ColumnAccumulator *> &targets)>;

/// Everything the shared assembly needs from a format reader.
struct AssemblyInput {
    const char *base = nullptr; ///< start of the buffer, for line numbers
    QString source;
    QStringList names;
    qint64 nameLine = -1;             ///< line the names came from (a CSV header), for errors about them
    std::vector<ChunkState *> chunks; ///< data chunks in file order
    ReplayFn replay;
    int threads = 1;
};

/// Longest column name a table may have (longer ones are errors: a header that is really data, or not a table).
constexpr qsizetype kMaxColumnNameLength = 1024;

/// Decides column types (overrides, inference, d/m/y order, categorical threshold), replays chunks
/// whose speculative columns do not fit, and concatenates the chunk columns into a Table.
Expected<Table> assembleTable(AssemblyInput &in, const ReadOptions &options, Feedback *feedback, ReadInfo *info);

/// Column names made unique: empty -> column_N, repeats -> name_2, name_3...
QStringList uniqueColumnNames(const QStringList &raw);

/// "value 'abc' is not int64" (long values shortened).
QString notTypeMessage(std::string_view value, ValueKind kind);

/// Worker thread count for ReadOptions::threads.
int effectiveThreads(int requested);

/// Offset of the first NUL byte in `bytes`, or -1; a large input is searched by all cores.
qsizetype firstNul(QByteArrayView bytes, int threads);
/// The refusal of a text that has a NUL byte at offset `at` (it names the line).
Error nulByteError(QByteArrayView bytes, qsizetype at, const QString &source);

/// How the CSV reader splits the data records in [begin, end) for parallel parsing (found in one read of the bytes
/// with the records counted and NUL bytes looked for): `bounds` are record starts, the first is `begin`; `records[k]`
/// is the number of records from bounds[k] to the next bound (or `end`), blank lines not counted; `nul` is the offset
/// from `begin` of the first NUL byte, or -1. `begin` must follow a line end (the header's) or be the input's start.
/// Empty bounds: the survey could not run (no threads to be had).
struct CsvLayout {
    std::vector<const char *> bounds;
    std::vector<qint64> records;
    qint64 nul = -1;
};
CsvLayout surveyCsv(const char *begin, const char *end, int chunks, int threads);

/// Format readers behind readTable / readTableFromBytes (csvreader.cpp, jsonlreader.cpp).
/// `tabDefault`: the path ends in .tsv, so an undetected delimiter is a tab.
Expected<Table> readCsv(QByteArrayView bytes, const ReadOptions &options, Feedback *feedback, ReadInfo *info,
                        const QString &source, bool tabDefault);
Expected<Table> readJsonl(QByteArrayView bytes, const ReadOptions &options, Feedback *feedback, ReadInfo *info,
                          const QString &source);

} // namespace keel::data::detail
