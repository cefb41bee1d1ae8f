#include "data/typeinfer.h"

#include "data/calendar.h"
#include "util/cpu.h"
#include "util/memory.h"

#include <QSet>
#include <QThread>

#include <sys/mman.h>

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <system_error>
#include <thread>

namespace keel::data::detail {

namespace {

/// Exact for decimals (optionally with an exponent) with at most 19 digits whose mantissa fits in
/// 53 bits and whose power of ten is exactly representable (Clinger's fast path): one correctly
/// rounded multiplication or division. False means "use the general parser".
bool parseSimpleDecimal(const char *p, const char *e, double &out)
{
    static constexpr double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const bool neg = p < e && *p == '-';
    p += neg;
    const char *q = p;
    uint64_t m = 0;
    unsigned d;
    while (q < e && (d = unsigned(uint8_t(*q)) - unsigned('0')) <= 9) {
        m = m * 10 + d;
        ++q;
    }
    qint64 digits = q - p;
    qint64 fraction = 0;
    if (q < e && *q == '.') {
        const char *f = ++q;
        while (q < e && (d = unsigned(uint8_t(*q)) - unsigned('0')) <= 9) {
            m = m * 10 + d;
            ++q;
        }
        fraction = q - f;
        digits += fraction;
    }
    qint64 exponent = -fraction;
    if (q < e && (*q == 'e' || *q == 'E') && digits > 0) {
        ++q;
        const bool negExp = q < e && *q == '-';
        q += (q < e && (*q == '-' || *q == '+'));
        const char *x = q;
        qint64 ev = 0;
        while (q < e && (d = unsigned(uint8_t(*q)) - unsigned('0')) <= 9 && q - x < 4) {
            ev = ev * 10 + d;
            ++q;
        }
        if (q == x)
            return false;
        exponent += negExp ? -ev : ev;
    }
    if (q != e || digits == 0 || digits > 19 || exponent < -22 || exponent > 22 || m > (uint64_t(1) << 53))
        return false;
    const double v = exponent < 0 ? double(m) / pow10[-exponent] : double(m) * pow10[exponent];
    out = neg ? -v : v;
    return true;
}

/// The value of up to 16 digits right-aligned in `aligned` (one per byte, 0 above them) with `fraction` of them after
/// the point. With a point there are at most 15 digits (below 2^53, exact as a double); without one, no division
/// follows the conversion's rounding. So the one division is the only rounding.
__attribute__((target("sse4.1"))) [[gnu::always_inline]] inline double decimalValue(__m128i aligned, int fraction, bool neg)
{
    static constexpr double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                       1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16};
    const __m128i pairs = _mm_maddubs_epi16(aligned, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1));
    const __m128i quads = _mm_madd_epi16(pairs, _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
    const __m128i packed = _mm_packus_epi32(quads, quads);
    const __m128i octs = _mm_madd_epi16(packed, _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1));
    const uint64_t m = uint64_t(uint32_t(_mm_cvtsi128_si32(octs))) * 100000000u + uint32_t(_mm_extract_epi32(octs, 1));
    const double x = double(m) / pow10[fraction];
    return neg ? -x : x;
}

/// The same fast path for decimals of at most 16 characters after the sign (digits and at most one '.'), without a
/// branch per digit: a masked load right-aligns the field (no byte outside it is read, so no fault at the end of a
/// mapping), the digits before the point move up one byte over it, and three multiply-adds sum them. False means
/// "not this shape": the caller tries the scalar paths.
__attribute__((target("avx512f,avx512bw,avx512vl,bmi"))) bool parseShortDecimalAvx512(const char *p, const char *e,
                                                                                     double &out)
{
    const bool neg = p < e && *p == '-';
    p += neg;
    const qint64 n = e - p;
    if (n <= 0 || n > 16)
        return false;
    const __mmask16 field = __mmask16(0xFFFF0000u >> n);   // the last n of 16 bytes ending at e
    const __m128i v = _mm_maskz_loadu_epi8(field, e - 16);
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const __mmask16 digit = _mm_cmple_epu8_mask(d, _mm_set1_epi8(9));   // bytes outside the field read as 0: not digits
    const __mmask16 point = _mm_cmpeq_epi8_mask(v, _mm_set1_epi8('.'));
    const uint32_t other = uint32_t(field) & ~uint32_t(digit);
    if ((other & ~uint32_t(point)) || (other & (other - 1)) || !digit)
        return false;   // a byte that is neither a digit nor the one point, or no digit at all
    // The bytes up to the point take the byte before them: the digits, the point dropped, end at byte 15.
    const __m128i digits = _mm_maskz_mov_epi8(digit, d);
    const __m128i aligned = _mm_mask_blend_epi8(__mmask16(other ? (other << 1) - 1 : 0), digits, _mm_bslli_si128(digits, 1));
    out = decimalValue(aligned, other ? 15 - std::countr_zero(other) : 0, neg);
    return true;
}

/// The same on SSE4.1, for CPUs without AVX-512: with no masked load, the 16 bytes that end at the field are read only
/// when they lie in the page of its last byte (no fault is possible there), and the bytes before the field are masked
/// off by position. False also for a field that ends within 15 bytes of a page start.
__attribute__((target("sse4.1"))) bool shortDecimalSse41(const char *p, const char *e, double &out)
{
    const bool neg = p < e && *p == '-';
    p += neg;
    const qint64 n = e - p;
    if (n <= 0 || n > 16 || (reinterpret_cast<uintptr_t>(e - 1) & 4095) < 15)
        return false;
    const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m128i inField = _mm_cmpgt_epi8(iota, _mm_set1_epi8(char(15 - n)));   // the last n of the 16 bytes
    const __m128i v = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i *>(e - 16)), inField);
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const __m128i isDigit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);   // bytes masked off are not digits
    const uint32_t field = (0xFFFF0000u >> n) & 0xFFFFu;
    const uint32_t digit = uint32_t(_mm_movemask_epi8(isDigit));
    const uint32_t point = uint32_t(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))));
    const uint32_t other = field & ~digit;
    if ((other & ~point) || (other & (other - 1)) || !digit)
        return false;
    const __m128i digits = _mm_and_si128(d, isDigit);
    const int dot = other ? std::countr_zero(other) : -1;
    const __m128i upToPoint = _mm_cmpgt_epi8(_mm_set1_epi8(char(dot + 1)), iota);
    const __m128i aligned = _mm_blendv_epi8(digits, _mm_slli_si128(digits, 1), upToPoint);
    out = decimalValue(aligned, other ? 15 - dot : 0, neg);
    return true;
}

enum class DecimalPath { Avx512, Sse41, Scalar };
const DecimalPath kDecimalPath = hasAvx512Bw() && __builtin_cpu_supports("avx512vl") ? DecimalPath::Avx512
                                 : __builtin_cpu_supports("sse4.1")                  ? DecimalPath::Sse41
                                                                                     : DecimalPath::Scalar;

} // namespace

bool parseShortDecimalSse41(std::string_view s, double &out)
{
    return __builtin_cpu_supports("sse4.1") && shortDecimalSse41(s.data(), s.data() + s.size(), out);
}

bool parseFloat64(std::string_view s, double &out)
{
    const char *p = s.data();
    const char *e = p + s.size();
    if (p == e)
        return false;
    if (*p == '+') {
        ++p;
        if (p == e || *p == '-' || *p == '+')
            return false;
    }
    if (kDecimalPath == DecimalPath::Avx512 ? parseShortDecimalAvx512(p, e, out)
                                            : kDecimalPath == DecimalPath::Sse41 && shortDecimalSse41(p, e, out))
        return true;
    if (parseSimpleDecimal(p, e, out))
        return true;
    const auto [ptr, ec] = std::from_chars(p, e, out);
    if (ptr != e)
        return false;
    if (ec == std::errc())
        return true;
    if (ec == std::errc::result_out_of_range) {
        // Beyond double range. Tiny magnitudes round to zero, as every reader does; huge ones are not float64
        // values at all (1e400 is not infinity), so the caller keeps them as text or reports them.
        bool tiny = false;
        for (const char *q = p; q < e; ++q) {
            if (*q == 'e' || *q == 'E') {
                tiny = q + 1 < e && q[1] == '-';
                break;
            }
        }
        if (!tiny)
            return false;
        out = *p == '-' ? -0.0 : 0.0;
        return true;
    }
    return false;
}



namespace {

bool isLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool validDate(int64_t y, unsigned m, unsigned d)
{
    static constexpr unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return false;
    const unsigned dim = days[m - 1] + (m == 2 && isLeap(y) ? 1 : 0);
    return d <= dim;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

} // namespace

DateValue parseDatetime(std::string_view s)
{
    DateValue r;
    const char *p = s.data();
    const char *e = p + s.size();
    auto digits = [&](int minN, int maxN, int &val) {
        int n = 0;
        val = 0;
        while (p < e && n < maxN && isDigit(*p)) {
            val = val * 10 + (*p - '0');
            ++p;
            ++n;
        }
        return n >= minN ? n : 0;
    };
    int64_t year = 0;
    unsigned dDF = 0, mDF = 0, dMF = 0, mMF = 0;
    bool dmy = false;
    auto d2 = [](const char *q) { return unsigned(q[0] - '0') * 10 + unsigned(q[1] - '0'); };
    if (s.size() >= 10 && s[4] == '-' && s[7] == '-' && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2])
        && isDigit(s[3]) && isDigit(s[5]) && isDigit(s[6]) && isDigit(s[8]) && isDigit(s[9])) {
        // The common ISO date, read directly.
        year = int64_t(d2(p)) * 100 + d2(p + 2);
        mDF = mMF = d2(p + 5);
        dDF = dMF = d2(p + 8);
        p += 10;
    } else {
        int n1 = 0, n2 = 0, n3 = 0;
        const int c1 = digits(1, 4, n1);
        if (!c1 || p >= e)
            return r;
        const char sep = *p;
        if (sep != '-' && sep != '/' && sep != '.')
            return r;
        ++p;
        if (!digits(1, 2, n2) || p >= e || *p != sep)
            return r;
        ++p;
        const int c3 = digits(1, 4, n3);
        if (!c3)
            return r;
        if (c1 == 4) {
            if (c3 > 2)
                return r;
            year = n1;
            mDF = mMF = unsigned(n2);
            dDF = dMF = unsigned(n3);
        } else if (c1 <= 2 && (c3 == 2 || c3 == 4)) {
            dmy = true;
            year = c3 == 2 ? (n3 <= 68 ? 2000 + n3 : 1900 + n3) : n3;
            dDF = unsigned(n1);
            mDF = unsigned(n2);
            mMF = unsigned(n1);
            dMF = unsigned(n2);
        } else {
            return r;
        }
    }

    int64_t timeMs = 0;
    if (p < e) {
        if (*p != 'T' && *p != ' ')
            return r;
        ++p;
        int hh = 0, mi = 0, ss = 0, frac = 0;
        if (!digits(1, 2, hh) || hh > 23 || p >= e || *p != ':')
            return r;
        ++p;
        if (!digits(2, 2, mi) || mi > 59)
            return r;
        if (p < e && *p == ':') {
            ++p;
            if (!digits(2, 2, ss) || ss > 59)
                return r;
            if (p < e && (*p == '.' || *p == ',')) {
                ++p;
                int n = 0;
                while (p < e && isDigit(*p)) {
                    if (n < 3)
                        frac = frac * 10 + (*p - '0');
                    ++n;
                    ++p;
                }
                if (n == 0 || n > 9)
                    return r;
                for (int k = n; k < 3; ++k)
                    frac *= 10;
            }
        }
        timeMs = ((int64_t(hh) * 60 + mi) * 60 + ss) * 1000 + frac;
        if (p < e) {
            if (*p == 'Z') {
                ++p;
            } else if (*p == '+' || *p == '-') {
                const int sign = *p == '-' ? -1 : 1;
                ++p;
                int oh = 0, om = 0;
                if (!digits(2, 2, oh) || oh > 23)
                    return r;
                if (p < e && *p == ':')
                    ++p;
                if (p < e && (!digits(2, 2, om) || om > 59))
                    return r;
                timeMs -= int64_t(sign) * (int64_t(oh) * 60 + om) * 60000;
            } else {
                return r;
            }
            if (p != e)
                return r;
        }
    }

    constexpr int64_t dayMs = 86400000;
    r.validDayFirst = validDate(year, mDF, dDF);
    if (!dmy) {
        if (!r.validDayFirst)
            return r;
        r.ok = true;
        r.validMonthFirst = true;
        r.msDayFirst = r.msMonthFirst = daysFromCivil(year, mDF, dDF) * dayMs + timeMs;
        return r;
    }
    r.validMonthFirst = validDate(year, mMF, dMF);
    if (!r.validDayFirst && !r.validMonthFirst)
        return r;
    r.ok = true;
    r.dmy = true;
    if (r.validDayFirst)
        r.msDayFirst = daysFromCivil(year, mDF, dDF) * dayMs + timeMs;
    if (r.validMonthFirst)
        r.msMonthFirst = daysFromCivil(year, mMF, dMF) * dayMs + timeMs;
    return r;
}

namespace {
std::atomic<SeparatorScan> g_separatorScan{SeparatorScan::Vector};
}

SeparatorScan separatorScan() { return g_separatorScan.load(std::memory_order_relaxed); }
void setSeparatorScan(SeparatorScan scan) { g_separatorScan.store(scan, std::memory_order_relaxed); }

qint64 findInvalidUtf8(const char *b, const char *e)
{
    const auto *p = reinterpret_cast<const unsigned char *>(b);
    const auto *end = reinterpret_cast<const unsigned char *>(e);
    const auto *start = p;
    while (p < end) {
        if (end - p >= 32) {
            uint64_t w[4];
            std::memcpy(w, p, 32);
            if (!((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL)) {
                p += 32;
                continue;
            }
        }
        if (end - p >= 8) {
            uint64_t w;
            std::memcpy(&w, p, 8);
            if (!(w & 0x8080808080808080ULL)) {
                p += 8;
                continue;
            }
        }
        const unsigned c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int n = 0;
        uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return p - start;
        }
        if (end - p <= n)
            return p - start;
        for (int i = 1; i <= n; ++i) {
            if ((p[i] & 0xC0) != 0x80)
                return p - start;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return p - start;
        p += n + 1;
    }
    return -1;
}

MissingTokens::MissingTokens(const QStringList &tokens)
{
    for (const QString &t : tokens) {
        const QByteArray u = t.toUtf8();
        m_tokens.emplace_back(u.constData(), size_t(u.size()));
        if (u.isEmpty())
            m_hasEmpty = true;
        else
            m_byFirst[uint8_t(u.front())] |= uint64_t(1) << std::min<qsizetype>(u.size(), 63);
    }
}

namespace {

inline uint64_t load64(const char *p)
{
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

inline uint64_t load32(const char *p)
{
    uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
}

/// A string of at most 8 bytes as one word that is unique among strings of its length: overlapping fixed-size
/// loads (first and last four bytes; or first, middle and last byte), so no call to memcpy with a variable size.
inline uint64_t shortWord(const char *p, size_t n)
{
    if (n >= 4)
        return load32(p) | (load32(p + n - 4) << 32);
    if (n == 0)
        return 0;
    return uint64_t(uint8_t(p[0])) | (uint64_t(uint8_t(p[n >> 1])) << 8) | (uint64_t(uint8_t(p[n - 1])) << 16);
}

inline uint64_t mixWord(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 31);
}

/// Fast 64-bit hash for short strings (multiply-xorshift over 8-byte words; the length is mixed in first, so the
/// overlapping loads of shortWord() and of the last word are unambiguous).
uint64_t hashText(std::string_view s)
{
    const char *p = s.data();
    const size_t n = s.size();
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xC2B2AE3D27D4EB4FULL);
    if (n <= 8) {
        h = mixWord(h, shortWord(p, n));
    } else {
        size_t i = 0;
        for (; i + 8 < n; i += 8)
            h = mixWord(h, load64(p + i));
        h = mixWord(h, load64(p + n - 8));   // the last eight bytes, overlapping the loop's last word
    }
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    return h;
}

/// Equality of two strings of the same length, by words.
inline bool sameBytes(const char *a, const char *b, size_t n)
{
    if (n <= 8)
        return shortWord(a, n) == shortWord(b, n);
    if (n <= 16)
        return load64(a) == load64(b) && load64(a + n - 8) == load64(b + n - 8);
    return std::memcmp(a, b, n) == 0;
}

} // namespace

int32_t TextDict::findOrInsert(std::string_view s)
{
    const size_t n = s.size();
    if (n > 16)
        return findOrInsertHashed(s);
    if (m_recent.empty())
        m_recent.resize(size_t(1) << kRecentBits);
    const char *p = s.data();
    const uint64_t head = n >= 8 ? load64(p) : shortWord(p, n);
    const uint64_t tail = n > 8 ? load64(p + n - 8) : 0;
    Recent &r = m_recent[size_t(((head + tail + n) * 0x9E3779B97F4A7C15ULL) >> (64 - kRecentBits))];
    if (r.head == head && r.tail == tail && r.length == n)
        return r.code;
    const int32_t code = findOrInsertHashed(s);
    r = Recent{head, tail, uint32_t(n), code};
    return code;
}

int32_t TextDict::findOrInsertHashed(std::string_view s)
{
    if (m_slots.empty())
        m_slots.assign(64, 0);
    const uint64_t h = hashText(s);
    // A slot holds the hash's upper half and the code + 1 (0: empty), so most mismatches are settled in the slot.
    const uint64_t tag = h & ~uint64_t(0xFFFFFFFF);
    const size_t mask = m_slots.size() - 1;
    size_t i = size_t(h) & mask;
    for (;;) {
        const uint64_t slot = m_slots[i];
        if (slot == 0)
            break;
        if ((slot & ~uint64_t(0xFFFFFFFF)) == tag) {
            const auto c = int32_t(uint32_t(slot) - 1);
            const int64_t from = m_offsets[size_t(c)];
            if (size_t(m_offsets[size_t(c) + 1] - from) == s.size() && sameBytes(m_bytes.data() + from, s.data(), s.size()))
                return c;
        }
        i = (i + 1) & mask;
    }
    const int32_t code = size();
    m_bytes.insert(m_bytes.end(), s.begin(), s.end());
    m_offsets.push_back(int64_t(m_bytes.size()));
    m_hashes.push_back(h);
    m_slots[i] = tag | uint64_t(uint32_t(code) + 1);
    if (size_t(size()) * 2 > m_slots.size())
        grow();
    return code;
}

void TextDict::grow()
{
    std::vector<uint64_t> table(m_slots.size() * 2, 0);
    const size_t mask = table.size() - 1;
    for (int32_t c = 0; c < size(); ++c) {
        const uint64_t h = m_hashes[size_t(c)];
        size_t i = size_t(h) & mask;
        while (table[i] != 0)
            i = (i + 1) & mask;
        table[i] = (h & ~uint64_t(0xFFFFFFFF)) | uint64_t(uint32_t(c) + 1);
    }
    m_slots = std::move(table);
}

ColumnAccumulator ColumnAccumulator::inferring(int maxDistinct, DateOrder order)
{
    ColumnAccumulator a(maxDistinct);
    a.m_validDayFirst = order != DateOrder::MonthFirst;
    a.m_validMonthFirst = order != DateOrder::DayFirst;
    return a;
}

ColumnAccumulator ColumnAccumulator::strict(ValueKind target, DateOrder order, int maxDistinct)
{
    ColumnAccumulator a(maxDistinct);
    a.m_strict = true;
    a.m_kind = target == ValueKind::Empty ? ValueKind::Text : target;
    a.m_strictOrder = order == DateOrder::MonthFirst ? DateOrder::MonthFirst : DateOrder::DayFirst;
    return a;
}

namespace {

/// Reserves capacity and, for large buffers, asks for transparent huge pages: column buffers are
/// written once front to back, and 2 MB pages cut the page-fault cost of first touch.
template <class T>
void reserveLarge(std::vector<T> &v, size_t n)
{
    v.reserve(n);
    adviseHugePages(v.data(), v.capacity() * sizeof(T));
}

} // namespace

void *allocateValues(size_t bytes, void *old)
{
    void *p = std::realloc(old, std::max<size_t>(bytes, 1));
    if (!p)
        throw std::bad_alloc();
    adviseHugePages(p, bytes);
    return p;
}

std::shared_ptr<std::byte> allocateColumnRegion(qint64 rows)
{
    const size_t bytes = ColumnWindow::areaOffset(rows, 1) + std::max<size_t>(size_t(rows), 1);
    // Reserved, not committed: only the pages the chunks write are ever backed, so of the three areas a column uses
    // one, and an unused region costs nothing.
    void *p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return {};
    ::madvise(p, bytes, MADV_HUGEPAGE);
    return std::shared_ptr<std::byte>(static_cast<std::byte *>(p), [bytes](std::byte *q) { ::munmap(q, bytes); });
}

namespace {

/// n zeros. Large runs are pages the kernel maps to its zero page until written, so a column with no values costs no
/// memory or time (a string column's offsets, 8 bytes a row).
template <class T>
Buffer<T> zeroBuffer(size_t n)
{
    if (n * sizeof(T) >= (size_t(1) << 20)) {
        const size_t bytes = n * sizeof(T);
        void *p = ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED)
            return Buffer<T>::borrow(std::span<const T>(static_cast<const T *>(p), n),
                                     std::shared_ptr<const void>(p, [bytes](const void *q) {
                                         ::munmap(const_cast<void *>(q), bytes);
                                     }));
    }
    return Buffer<T>::fromVector(std::vector<T>(n, T{}));
}

} // namespace

void ColumnAccumulator::discardValues()
{
    m_i64.discard();
    m_alt.release();
    m_f64.discard();
    m_u8.discard();
    m_codes.discard();
}

void ColumnAccumulator::reserve(size_t rows)
{
    switch (m_kind) {
    case ValueKind::Bool: m_u8.reserve(rows); break;
    case ValueKind::Int:
    case ValueKind::Date: m_i64.reserve(rows); break;
    case ValueKind::Float: m_f64.reserve(rows); break;
    case ValueKind::Text: m_codes.reserve(rows); break;
    case ValueKind::Empty: break;
    }
    m_reserve = rows;
}

void ColumnAccumulator::setWindow(ColumnWindow w)
{
    m_window = std::move(w);
    if (m_rows > 0)
        return;   // values already went elsewhere; the window applies to no buffer
    switch (m_kind) {
    case ValueKind::Bool: m_u8.attach(m_window); break;
    case ValueKind::Int:
    case ValueKind::Date: m_i64.attach(m_window); break;
    case ValueKind::Float: m_f64.attach(m_window); break;
    case ValueKind::Text:
        if (!m_stale && !m_stringMode)
            m_codes.attach(m_window);
        break;
    case ValueKind::Empty: break;
    }
}

void ColumnAccumulator::pushValidSlow(bool valid)
{
    if (!valid && !m_nulls)
        startValidity();
    if ((m_rows & 7) == 0)
        m_valid.push_back(0);
    if (valid)
        m_valid.back() |= uint8_t(1u << (m_rows & 7));
    else
        ++m_nulls;
    ++m_rows;
}

void ColumnAccumulator::startValidity()
{
    // Every earlier row was valid: full bytes, then the low bits of a partial byte.
    m_valid.reserve(std::max(size_t(m_rows), m_reserve) / 8 + 2);
    m_valid.assign(size_t(m_rows >> 3), 0xFF);
    if (m_rows & 7)
        m_valid.push_back(uint8_t((1u << (m_rows & 7)) - 1));
}

void ColumnAccumulator::becomeKind(ValueKind k)
{
    const size_t n = size_t(m_rows);
    const size_t cap = std::max(n, m_reserve);
    auto start = [&](auto &values) {
        values.attach(m_window);
        values.reserve(cap);
        values.assignZeros(n);
    };
    switch (k) {
    case ValueKind::Bool: start(m_u8); break;
    case ValueKind::Int:
    case ValueKind::Date: start(m_i64); break;
    case ValueKind::Float: start(m_f64); break;
    case ValueKind::Text: start(m_codes); break;
    case ValueKind::Empty: break;
    }
    m_kind = k;
}

void ColumnAccumulator::becomeStaleText()
{
    m_kind = ValueKind::Text;
    m_stale = true;
    m_i64.discard();
    m_alt.release();
    m_f64.discard();
    m_u8.discard();
    m_altActive = false;
}

void ColumnAccumulator::switchToStringMode()
{
    std::vector<int64_t> offsets;
    offsets.reserve(std::max(size_t(m_rows), m_reserve) + 1);
    offsets.push_back(0);
    std::vector<char> bytes;
    for (qint64 i = 0; i < m_rows; ++i) {
        if (isValidRow(i)) {
            const std::string_view s = m_dict.at(m_codes[size_t(i)]);
            bytes.insert(bytes.end(), s.begin(), s.end());
        }
        offsets.push_back(int64_t(bytes.size()));
    }
    m_offsets = std::move(offsets);
    m_bytes = std::move(bytes);
    m_codes.release();
    m_dict = TextDict();
    m_stringMode = true;
}

void ColumnAccumulator::addText(std::string_view raw)
{
    if (m_stale) {
        pushValid(true);
        return;
    }
    ++m_nonMissing;
    if (m_stringMode) {
        m_bytes.insert(m_bytes.end(), raw.begin(), raw.end());
        m_offsets.push_back(int64_t(m_bytes.size()));
        pushValid(true);
        return;
    }
    m_codes.push_back(m_dict.findOrInsert(raw));
    pushValid(true);
    if (m_dict.size() > m_maxDistinct)
        switchToStringMode();
}

void ColumnAccumulator::addMissing()
{
    switch (m_kind) {
    case ValueKind::Empty: break;
    case ValueKind::Bool: m_u8.push_back(0); break;
    case ValueKind::Int: m_i64.push_back(0); break;
    case ValueKind::Float: m_f64.push_back(0.0); break;
    case ValueKind::Date:
        m_i64.push_back(0);
        if (m_altActive)
            m_alt.push_back(0);
        break;
    case ValueKind::Text:
        if (!m_stale) {
            if (m_stringMode)
                m_offsets.push_back(int64_t(m_bytes.size()));
            else
                m_codes.push_back(0);
        }
        break;
    }
    pushValid(false);
}

void ColumnAccumulator::pushDate(const DateValue &d)
{
    m_validDayFirst = m_validDayFirst && d.validDayFirst;
    m_validMonthFirst = m_validMonthFirst && d.validMonthFirst;
    if (d.dmy && !m_altActive) {
        m_hasDmy = true;
        m_alt.copyFrom(m_i64);
        m_altActive = true;
    }
    m_i64.push_back(d.msDayFirst);
    if (m_altActive)
        m_alt.push_back(d.msMonthFirst);
    pushValid(true);
}

bool ColumnAccumulator::addNested(std::string_view text)
{
    if (m_strict) {
        if (m_kind != ValueKind::Text)
            return false;
        addText(text);
        return true;
    }
    if (m_kind == ValueKind::Empty)
        becomeKind(ValueKind::Text);
    else if (m_kind != ValueKind::Text)
        becomeStaleText();
    addText(text);
    return true;
}

bool ColumnAccumulator::addStrict(std::string_view raw, std::string_view t)
{
    switch (m_kind) {
    case ValueKind::Text:
    case ValueKind::Empty: addText(raw); return true;
    case ValueKind::Int: {
        int64_t v;
        if (!parseInt64(t, v))
            return false;
        m_i64.push_back(v);
        break;
    }
    case ValueKind::Float: {
        double v;
        if (!parseFloat64(t, v))
            return false;
        m_f64.push_back(v);
        break;
    }
    case ValueKind::Bool: {
        bool v;
        if (!parseBool(t, v))
            return false;
        m_u8.push_back(v ? 1 : 0);
        break;
    }
    case ValueKind::Date: {
        const DateValue d = parseDatetime(t);
        if (!d.ok)
            return false;
        if (m_strictOrder == DateOrder::MonthFirst) {
            if (!d.validMonthFirst)
                return false;
            m_i64.push_back(d.msMonthFirst);
        } else {
            if (!d.validDayFirst)
                return false;
            m_i64.push_back(d.msDayFirst);
        }
        m_hasDmy = m_hasDmy || d.dmy;
        break;
    }
    }
    pushValid(true);
    return true;
}

bool ColumnAccumulator::addInferred(std::string_view raw, std::string_view t)
{
    // Fast paths: the value fits the kind the column already has.
    switch (m_kind) {
    case ValueKind::Text: addText(raw); return true;
    case ValueKind::Int: {
        int64_t v;
        if (parseInt64(t, v) && !hasLeadingZero(t)) {
            m_i64.push_back(v);
            pushValid(true);
            return true;
        }
        break;
    }
    case ValueKind::Float: {
        double v;
        if (parseFloat64(t, v)) {
            m_f64.push_back(v);
            pushValid(true);
            return true;
        }
        break;
    }
    case ValueKind::Bool: {
        bool v;
        if (parseBool(t, v)) {
            m_u8.push_back(v ? 1 : 0);
            pushValid(true);
            return true;
        }
        break;
    }
    case ValueKind::Date: {
        const DateValue d = parseDatetime(t);
        if (d.ok) {
            if ((m_validDayFirst && d.validDayFirst) || (m_validMonthFirst && d.validMonthFirst)) {
                pushDate(d);
            } else { // the d/m/y orders contradict each other
                becomeStaleText();
                addText(raw);
            }
            return true;
        }
        break;
    }
    case ValueKind::Empty: break;
    }

    // Classify the value on its own, then widen.
    ValueKind vk = ValueKind::Text;
    int64_t iv = 0;
    double dv = 0.0;
    bool bv = false;
    DateValue date;
    if (!t.empty()) {
        const char c = t.front();
        if (isDigit(c) || c == '-' || c == '+' || c == '.') {
            // Digit strings with a leading zero (zip codes, account ids such as 0042) and integers beyond int64 are
            // identifiers, not numbers: as text they keep every digit.
            if (parseInt64(t, iv))
                vk = hasLeadingZero(t) ? ValueKind::Text : ValueKind::Int;
            else if (isIntegerText(t))
                vk = ValueKind::Text;
            else if (parseFloat64(t, dv))
                vk = ValueKind::Float;
            else if (isDigit(c) && (date = parseDatetime(t)).ok
                     && ((m_validDayFirst && date.validDayFirst) || (m_validMonthFirst && date.validMonthFirst)))
                vk = ValueKind::Date;
        } else if (c == 't' || c == 'T' || c == 'f' || c == 'F') {
            if (parseBool(t, bv))
                vk = ValueKind::Bool;
        } else if (c == 'i' || c == 'I' || c == 'n' || c == 'N') {
            if (parseFloat64(t, dv))
                vk = ValueKind::Float;
        }
    }

    if (m_kind == ValueKind::Empty) {
        becomeKind(vk);
    } else if (m_kind == ValueKind::Int && vk == ValueKind::Float) {
        m_f64.convertFrom(m_i64);
        m_f64.reserve(std::max(m_f64.size() + 1, m_reserve));
        m_kind = ValueKind::Float;
    } else if (m_kind == ValueKind::Float && vk == ValueKind::Int) {
        dv = double(iv);
        vk = ValueKind::Float;
    } else if (m_kind != vk) {
        becomeStaleText();
        addText(raw);
        return true;
    }

    switch (vk) {
    case ValueKind::Text: addText(raw); break;
    case ValueKind::Int: m_i64.push_back(iv); pushValid(true); break;
    case ValueKind::Float: m_f64.push_back(dv); pushValid(true); break;
    case ValueKind::Bool: m_u8.push_back(bv ? 1 : 0); pushValid(true); break;
    case ValueKind::Date: pushDate(date); break;
    case ValueKind::Empty: break;
    }
    return true;
}

Column ColumnAccumulator::finish(const QString &name, ColumnType type, DateOrder order)
{
    const size_t n = size_t(m_rows);
    ColumnStorage s;
    s.rows = m_rows;
    s.nullCount = m_nulls;
    const bool text = m_kind == ValueKind::Text;
    // n zeros of a kind this chunk never held, in the window when there is one (so the chunks stay adjacent).
    auto zeros = [&](auto &values) {
        values.attach(m_window);
        values.assignZeros(n);
        return values.finish();
    };
    switch (type) {
    case ColumnType::Int64:
        s.i64 = m_kind == ValueKind::Int ? m_i64.finish() : zeros(m_i64);
        break;
    case ColumnType::Float64:
        if (m_kind == ValueKind::Float) {
            s.f64 = m_f64.finish();
        } else if (m_kind == ValueKind::Int) {
            m_f64.convertFrom(m_i64);
            s.f64 = m_f64.finish();
        } else {
            s.f64 = zeros(m_f64);
        }
        break;
    case ColumnType::Bool:
        s.u8 = m_kind == ValueKind::Bool ? m_u8.finish() : zeros(m_u8);
        break;
    case ColumnType::Datetime:
        if (m_kind == ValueKind::Date) {
            if (order == DateOrder::MonthFirst && m_altActive)
                std::copy(m_alt.begin(), m_alt.end(), m_i64.data());   // same length: the other reading, in place
            s.i64 = m_i64.finish();
        } else {
            s.i64 = zeros(m_i64);
        }
        break;
    case ColumnType::Categorical:
        if (text && !m_stringMode) {
            s.codes = m_codes.finish();
            s.offsets = Buffer<int64_t>::fromVector(m_dict.takeOffsets());
            s.bytes = Buffer<char>::fromVector(m_dict.takeBytes());
        } else if (text) {
            TextDict dict;
            m_codes.attach(m_window);
            m_codes.assignZeros(n);
            for (size_t i = 0; i < n; ++i) {
                if (isValidRow(qint64(i)))
                    m_codes[i] = dict.findOrInsert(std::string_view(m_bytes.data() + m_offsets[i],
                                                                    size_t(m_offsets[i + 1] - m_offsets[i])));
            }
            s.codes = m_codes.finish();
            s.offsets = Buffer<int64_t>::fromVector(dict.takeOffsets());
            s.bytes = Buffer<char>::fromVector(dict.takeBytes());
        } else {
            s.codes = zeros(m_codes);
            s.offsets = Buffer<int64_t>::fromVector(std::vector<int64_t>{0});
            s.bytes = Buffer<char>::fromVector(std::vector<char>());
        }
        break;
    case ColumnType::String:
        if (text && !m_stringMode)
            switchToStringMode();
        if (text) {
            s.offsets = Buffer<int64_t>::fromVector(std::move(m_offsets));
            s.bytes = Buffer<char>::fromVector(std::move(m_bytes));
        } else {
            s.offsets = zeroBuffer<int64_t>(n + 1);
            s.bytes = Buffer<char>::fromVector(std::vector<char>());
        }
        break;
    }
    if (m_nulls > 0)
        s.validity = Buffer<uint8_t>::fromVector(std::move(m_valid));
    *this = ColumnAccumulator(m_maxDistinct);
    return Column(name, type, std::move(s));
}

Status runTasks(int count, int threads, const std::function<void(int)> &task, Feedback *feedback,
                ProgressCounter *progress, const QString &stage)
{
    if (count <= 0)
        return {};
    const int n = std::clamp(threads, 1, count);
    std::atomic<int> next{0};
    std::mutex mutex;
    std::condition_variable cv;
    int running = 0;
    std::optional<QString> failure;

    auto worker = [&] {
        for (;;) {
            const int i = next.fetch_add(1);
            if (i >= count)
                break;
            try {
                task(i);
            } catch (const std::bad_alloc &) {
                std::lock_guard lock(mutex);
                failure = QStringLiteral("out of memory");
            } catch (const std::exception &e) {
                std::lock_guard lock(mutex);
                failure = QString::fromLocal8Bit(e.what());
            } catch (...) {
                std::lock_guard lock(mutex);
                failure = QStringLiteral("internal error in a parse task");
            }
        }
        {
            std::lock_guard lock(mutex);
            --running;
        }
        cv.notify_all();
    };

    std::vector<std::thread> pool;
    pool.reserve(size_t(n));
    for (int k = 0; k < n; ++k) {
        {
            std::lock_guard lock(mutex);
            ++running;
        }
        try {
            pool.emplace_back(worker);
        } catch (const std::system_error &) {
            std::lock_guard lock(mutex);
            --running;
            break;
        }
    }
    if (pool.empty()) {
        {
            std::lock_guard lock(mutex);
            ++running;
        }
        worker();
    }
    {
        std::unique_lock lock(mutex);
        while (running > 0) {
            cv.wait_for(lock, std::chrono::milliseconds(100));
            if (feedback && progress && running > 0) {
                lock.unlock();
                feedback->setProgress(progress->done.load(), progress->total, stage);
                lock.lock();
            }
        }
    }
    for (auto &t : pool)
        t.join();
    if (feedback && progress)
        feedback->setProgress(progress->done.load(), progress->total, stage);
    if (failure)
        return makeError(*failure);
    return {};
}

qint64 lineOfOffset(const char *base, qint64 offset)
{
    return 1 + std::count(base, base + offset, '\n');
}

Error chunkErrorToError(const ChunkError &e, const char *base, const QString &source, const QStringList &names)
{
    QString field = e.field;
    if (e.column >= 0 && e.column < names.size())
        field = names[e.column];
    return makeError(e.kind, e.message, source, e.offset >= 0 ? lineOfOffset(base, e.offset) : -1, field);
}

KindSummary summaryOf(const ColumnAccumulator &acc)
{
    return KindSummary{acc.kind(), acc.validDayFirst(), acc.validMonthFirst(), acc.hasDmy()};
}

KindSummary joinSummaries(const KindSummary &a, const KindSummary &b)
{
    if (a.kind == ValueKind::Empty)
        return b;
    if (b.kind == ValueKind::Empty)
        return a;
    KindSummary r = a;
    if (a.kind == b.kind) {
        if (a.kind == ValueKind::Date) {
            r.validDayFirst = a.validDayFirst && b.validDayFirst;
            r.validMonthFirst = a.validMonthFirst && b.validMonthFirst;
            r.hasDmy = a.hasDmy || b.hasDmy;
            if (!r.validDayFirst && !r.validMonthFirst)
                r.kind = ValueKind::Text;
        }
        return r;
    }
    const bool numeric = (a.kind == ValueKind::Int || a.kind == ValueKind::Float)
                         && (b.kind == ValueKind::Int || b.kind == ValueKind::Float);
    r.kind = numeric ? ValueKind::Float : ValueKind::Text;
    return r;
}

QStringList uniqueColumnNames(const QStringList &raw)
{
    QSet<QString> used;
    QStringList out;
    out.reserve(raw.size());
    for (qsizetype i = 0; i < raw.size(); ++i) {
        const QString base = raw[i].isEmpty() ? QStringLiteral("column_") + QString::number(i + 1) : raw[i];
        QString name = base;
        for (int k = 2; used.contains(name); ++k)
            name = base + QLatin1Char('_') + QString::number(k);
        used.insert(name);
        out << name;
    }
    return out;
}

QString notTypeMessage(std::string_view value, ValueKind kind)
{
    QString v = QString::fromUtf8(value.data(), qsizetype(std::min<size_t>(value.size(), 80)));
    if (value.size() > 80)
        v += QStringLiteral("...");
    QString type = QStringLiteral("string");
    switch (kind) {
    case ValueKind::Int: type = QStringLiteral("int64"); break;
    case ValueKind::Float: type = QStringLiteral("float64"); break;
    case ValueKind::Bool: type = QStringLiteral("bool"); break;
    case ValueKind::Date: type = QStringLiteral("datetime"); break;
    case ValueKind::Empty:
    case ValueKind::Text: break;
    }
    const bool numeric = !value.empty() && value.find_first_not_of("+-0123456789.eE") == std::string_view::npos
                         && value.find_first_of("0123456789") != std::string_view::npos;
    if (numeric && kind == ValueKind::Float)
        return QStringLiteral("value '%1' is outside the range of float64 (magnitude above 1.8e308)").arg(v);
    if (numeric && kind == ValueKind::Int && value.find_first_of(".eE") == std::string_view::npos)
        return QStringLiteral("value '%1' is outside the range of int64 (-9223372036854775808 to 9223372036854775807)").arg(v);
    return QStringLiteral("value '%1' is not %2").arg(v, type);
}

int effectiveThreads(int requested)
{
    return requested > 0 ? requested : std::max(1, QThread::idealThreadCount());
}

namespace {

struct ColumnPlan {
    ColumnType type = ColumnType::String;
    DateOrder order = DateOrder::DayFirst;
    bool inferredText = false; ///< Categorical-or-String still to be decided
};

ValueKind kindForType(ColumnType t)
{
    switch (t) {
    case ColumnType::Int64: return ValueKind::Int;
    case ColumnType::Float64: return ValueKind::Float;
    case ColumnType::Bool: return ValueKind::Bool;
    case ColumnType::Datetime: return ValueKind::Date;
    case ColumnType::Categorical:
    case ColumnType::String: return ValueKind::Text;
    }
    return ValueKind::Text;
}

bool needsReplay(const ColumnAccumulator &acc, const ColumnPlan &plan)
{
    const ValueKind k = acc.kind();
    if (k == ValueKind::Empty || acc.isStrict())
        return false;
    switch (plan.type) {
    case ColumnType::Int64: return k != ValueKind::Int;
    case ColumnType::Float64: return k != ValueKind::Int && k != ValueKind::Float;
    case ColumnType::Bool: return k != ValueKind::Bool;
    case ColumnType::Datetime:
        if (k != ValueKind::Date)
            return true;
        return plan.order == DateOrder::MonthFirst ? !acc.validMonthFirst() : !acc.validDayFirst();
    case ColumnType::Categorical:
    case ColumnType::String: return k != ValueKind::Text || acc.isStale();
    }
    return true;
}

} // namespace

namespace {

/// The parts' buffers as one when they fill adjacent windows of one region (ColumnWindow), which is when every chunk
/// had exactly the rows counted for it: no copy.
template <class T>
std::optional<Buffer<T>> adjacentBuffers(const std::vector<Column> &parts, Buffer<T> ColumnStorage::*member)
{
    const Buffer<T> &first = parts.front().storage().*member;
    if (!first.owner)
        return std::nullopt;
    const T *next = first.view.data();
    size_t total = 0;
    for (const Column &p : parts) {
        const Buffer<T> &b = p.storage().*member;
        if (b.owner != first.owner || b.view.data() != next)
            return std::nullopt;
        next += b.size();
        total += b.size();
    }
    return Buffer<T>::borrow(std::span<const T>(first.view.data(), total), first.owner);
}

template <class T>
Buffer<T> joinBuffers(const std::vector<Column> &parts, Buffer<T> ColumnStorage::*member)
{
    if (auto adjacent = adjacentBuffers(parts, member))
        return *std::move(adjacent);
    size_t total = 0;
    for (const Column &p : parts)
        total += (p.storage().*member).size();
    std::vector<T> out;
    reserveLarge(out, total);
    for (const Column &p : parts) {
        const auto &v = (p.storage().*member).view;
        out.insert(out.end(), v.begin(), v.end());
    }
    return Buffer<T>::fromVector(std::move(out));
}

/// The parts' validity bits as one bitmask (empty when nothing is missing).
Buffer<uint8_t> joinValidity(const std::vector<Column> &parts, qint64 rows, qint64 nullCount)
{
    if (nullCount == 0)
        return {};
    std::vector<uint8_t> bits(size_t((rows + 7) / 8), 0);
    qint64 row = 0;
    for (const Column &p : parts) {
        const auto &v = p.storage().validity.view;
        if (v.empty()) {
            for (qint64 i = 0; i < p.size(); ++i, ++row)
                bits[size_t(row >> 3)] |= uint8_t(1u << (row & 7));
        } else if ((row & 7) == 0) {
            std::memcpy(bits.data() + (row >> 3), v.data(), size_t((p.size() + 7) / 8));
            row += p.size();
        } else {
            for (qint64 i = 0; i < p.size(); ++i, ++row)
                if ((v[size_t(i >> 3)] >> (i & 7)) & 1u)
                    bits[size_t(row >> 3)] |= uint8_t(1u << (row & 7));
        }
    }
    return Buffer<uint8_t>::fromVector(std::move(bits));
}

/// Categorical parts whose codes are adjacent in one region: one dictionary in first-seen order, and each part's codes
/// rewritten in place to it. The region belongs to the reader until the table is made, so it may still be written.
std::optional<Column> joinAdjacentCategorical(const std::vector<Column> &parts)
{
    auto codes = adjacentBuffers(parts, &ColumnStorage::codes);
    if (!codes)
        return std::nullopt;
    TextDict merged;
    auto *out = const_cast<int32_t *>(codes->view.data());
    std::vector<int32_t> remap;
    for (const Column &p : parts) {
        const qint64 n = p.dictionarySize();
        remap.resize(size_t(n));
        bool identity = true;
        for (qint64 c = 0; c < n; ++c) {
            remap[size_t(c)] = merged.findOrInsert(p.dictionaryAt(c));
            identity = identity && remap[size_t(c)] == int32_t(c);
        }
        const size_t rows = size_t(p.size());
        if (!identity) {   // codes at missing rows are 0 and stay a valid code (a part with no values has rows of 0 only)
            for (size_t i = 0; i < rows; ++i)
                out[i] = n ? remap[size_t(out[i])] : 0;
        }
        out += rows;
    }
    ColumnStorage s;
    for (const Column &p : parts) {
        s.rows += p.size();
        s.nullCount += p.nullCount();
    }
    s.codes = *std::move(codes);
    s.offsets = Buffer<int64_t>::fromVector(merged.takeOffsets());
    s.bytes = Buffer<char>::fromVector(merged.takeBytes());
    s.validity = joinValidity(parts, s.rows, s.nullCount);
    return Column(parts.front().name(), ColumnType::Categorical, std::move(s));
}

/// concatColumns for the reader's chunk parts: adjacent parts are adopted as they are, others copied into
/// destination buffers on huge pages; categorical parts not adjacent go to concatColumns (dictionary merge).
Column joinParts(const std::vector<Column> &parts)
{
    if (parts.size() == 1)
        return parts.front();
    const ColumnType type = parts.front().type();
    if (type == ColumnType::Categorical) {
        if (auto adjacent = joinAdjacentCategorical(parts))
            return *std::move(adjacent);
        return concatColumns(parts);
    }
    ColumnStorage s;
    for (const Column &p : parts) {
        s.rows += p.size();
        s.nullCount += p.nullCount();
    }
    switch (type) {
    case ColumnType::Int64:
    case ColumnType::Datetime: s.i64 = joinBuffers(parts, &ColumnStorage::i64); break;
    case ColumnType::Float64: s.f64 = joinBuffers(parts, &ColumnStorage::f64); break;
    case ColumnType::Bool: s.u8 = joinBuffers(parts, &ColumnStorage::u8); break;
    case ColumnType::String: {
        size_t bytesTotal = 0;
        for (const Column &p : parts)
            bytesTotal += size_t(p.storage().offsets.view.back() - p.storage().offsets.view.front());
        if (bytesTotal == 0) {   // no text at all (a column of missing values): every offset is 0
            s.offsets = zeroBuffer<int64_t>(size_t(s.rows) + 1);
            s.bytes = Buffer<char>::fromVector(std::vector<char>());
            break;
        }
        std::vector<int64_t> offsets;
        reserveLarge(offsets, size_t(s.rows) + 1);
        offsets.push_back(0);
        std::vector<char> bytes;
        reserveLarge(bytes, bytesTotal);
        for (const Column &p : parts) {
            const auto &off = p.storage().offsets.view;
            const auto &b = p.storage().bytes.view;
            const int64_t shift = int64_t(bytes.size()) - off.front();
            for (size_t i = 1; i < off.size(); ++i)
                offsets.push_back(off[i] + shift);
            bytes.insert(bytes.end(), b.begin() + off.front(), b.begin() + off.back());
        }
        s.offsets = Buffer<int64_t>::fromVector(std::move(offsets));
        s.bytes = Buffer<char>::fromVector(std::move(bytes));
        break;
    }
    case ColumnType::Categorical: break;
    }
    s.validity = joinValidity(parts, s.rows, s.nullCount);
    return Column(parts.front().name(), type, std::move(s));
}

} // namespace

Expected<Table> assembleTable(AssemblyInput &in, const ReadOptions &options, Feedback *feedback, ReadInfo *info)
{
    const int ncols = int(in.names.size());
    for (int c = 0; c < ncols; ++c)
        if (in.names[c].size() > kMaxColumnNameLength)
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("column %1's name has %2 characters; names may have at most %3 (is the "
                                            "header a data row, or the file not a table?)")
                                 .arg(c + 1).arg(in.names[c].size()).arg(kMaxColumnNameLength),
                             in.source, in.nameLine);
    for (auto it = options.typeOverrides.cbegin(); it != options.typeOverrides.cend(); ++it) {
        if (!in.names.contains(it.key()))
            return makeError(QStringLiteral("type override names a column that does not exist"), in.source, -1,
                             it.key());
    }

    std::vector<KindSummary> summary(static_cast<size_t>(ncols));
    for (ChunkState *ch : in.chunks)
        for (int c = 0; c < ncols; ++c)
            summary[size_t(c)] = joinSummaries(summary[size_t(c)], summaryOf(ch->cols[size_t(c)]));

    std::vector<ColumnPlan> plans(static_cast<size_t>(ncols));
    DateOrder usedOrder = DateOrder::Auto;
    for (int c = 0; c < ncols; ++c) {
        const KindSummary &s = summary[size_t(c)];
        ColumnPlan &p = plans[size_t(c)];
        if (options.dateOrder != DateOrder::Auto)
            p.order = options.dateOrder;
        else if (s.kind == ValueKind::Date && !s.validDayFirst)
            p.order = DateOrder::MonthFirst;
        else
            p.order = DateOrder::DayFirst;
        const auto forced = options.typeOverrides.constFind(in.names[c]);
        if (forced != options.typeOverrides.cend()) {
            p.type = *forced;
        } else {
            switch (s.kind) {
            case ValueKind::Empty: p.type = ColumnType::String; break;
            case ValueKind::Bool: p.type = ColumnType::Bool; break;
            case ValueKind::Int: p.type = ColumnType::Int64; break;
            case ValueKind::Float: p.type = ColumnType::Float64; break;
            case ValueKind::Date: p.type = ColumnType::Datetime; break;
            case ValueKind::Text:
                p.type = ColumnType::String;
                p.inferredText = true;
                break;
            }
        }
        if (p.type == ColumnType::Datetime && s.hasDmy && usedOrder == DateOrder::Auto)
            usedOrder = p.order;
    }

    // Replay chunks whose speculative columns do not fit the decided type.
    std::vector<std::vector<ColumnAccumulator>> replacements(in.chunks.size());
    std::vector<std::vector<ColumnAccumulator *>> targets(in.chunks.size());
    std::vector<int> replayChunks;
    for (size_t k = 0; k < in.chunks.size(); ++k) {
        ChunkState *ch = in.chunks[k];
        std::vector<int> cols;
        for (int c = 0; c < ncols; ++c)
            if (needsReplay(ch->cols[size_t(c)], plans[size_t(c)]))
                cols.push_back(c);
        if (cols.empty())
            continue;
        replacements[k].reserve(cols.size());
        targets[k].assign(size_t(ncols), nullptr);
        for (int c : cols) {
            replacements[k].push_back(ColumnAccumulator::strict(kindForType(plans[size_t(c)].type),
                                                                plans[size_t(c)].order,
                                                                options.categoricalMaxDistinct));
            if (!ch->windows.empty())   // the replayed values take the place of the speculative ones
                replacements[k].back().setWindow(ch->windows[size_t(c)]);
            replacements[k].back().reserve(size_t(ch->rows));
        }
        for (size_t j = 0; j < cols.size(); ++j) {
            targets[k][size_t(cols[j])] = &replacements[k][j];
            // The speculative values are never read again; in a window their pages would otherwise stay with the
            // table (the replay may write another width's area). Given back before the replay writes.
            ch->cols[size_t(cols[j])].discardValues();
        }
        replayChunks.push_back(int(k));
    }
    if (!replayChunks.empty()) {
        const Status st = runTasks(
            int(replayChunks.size()), in.threads,
            [&](int i) {
                const size_t k = size_t(replayChunks[size_t(i)]);
                in.replay(*in.chunks[k], targets[k]);
            },
            nullptr, nullptr, QString());
        if (!st)
            return st.error().withFile(in.source);
        if (isCancelled(feedback))
            return cancelledError(in.source);
        for (int k : replayChunks) {
            ChunkState *ch = in.chunks[size_t(k)];
            if (ch->error)
                return chunkErrorToError(*ch->error, in.base, in.source, in.names);
            for (int c = 0; c < ncols; ++c)
                if (ColumnAccumulator *t = targets[size_t(k)][size_t(c)])
                    ch->cols[size_t(c)] = std::move(*t);
        }
    }

    // Text columns: categorical when few distinct values repeat often enough.
    for (int c = 0; c < ncols; ++c) {
        ColumnPlan &p = plans[size_t(c)];
        if (!p.inferredText)
            continue;
        bool stringMode = false;
        qint64 nonMissing = 0;
        for (ChunkState *ch : in.chunks) {
            const ColumnAccumulator &a = ch->cols[size_t(c)];
            if (a.kind() != ValueKind::Text)
                continue;
            stringMode = stringMode || a.isStringMode();
            nonMissing += a.nonMissing();
        }
        if (stringMode || options.categoricalMaxDistinct <= 0)
            continue;
        TextDict merged;
        for (ChunkState *ch : in.chunks) {
            const ColumnAccumulator &a = ch->cols[size_t(c)];
            if (a.kind() != ValueKind::Text)
                continue;
            for (int32_t code = 0; code < a.dictionary().size() && merged.size() <= options.categoricalMaxDistinct; ++code)
                merged.findOrInsert(a.dictionary().at(code));
        }
        const qint64 distinct = merged.size();
        if (distinct <= options.categoricalMaxDistinct && distinct * 2 <= nonMissing)
            p.type = ColumnType::Categorical;
    }

    std::vector<Column> columns(static_cast<size_t>(ncols));
    const Status st = runTasks(
        ncols, in.threads,
        [&](int c) {
            const ColumnPlan &p = plans[size_t(c)];
            std::vector<Column> parts;
            parts.reserve(in.chunks.size());
            for (ChunkState *ch : in.chunks)
                parts.push_back(ch->cols[size_t(c)].finish(in.names[c], p.type, p.order));
            if (parts.empty())
                columns[size_t(c)] = ColumnAccumulator::inferring(1, DateOrder::Auto).finish(in.names[c], p.type, p.order);
            else
                columns[size_t(c)] = joinParts(parts);
        },
        nullptr, nullptr, QString());
    if (!st)
        return st.error().withFile(in.source);

    Table table(std::move(columns));
    if (info) {
        info->rows = table.rowCount();
        info->dateOrder = usedOrder;
    }
    return table;
}

} // namespace keel::data::detail
