// CSV reading (RFC 4180): delimiter and header detection, a quote-aware split of the buffer into
// record-aligned chunks, parallel tokenizing with speculative typing, then shared assembly.

#include "data/typeinfer.h"
#include "util/cpu.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include <immintrin.h>

namespace keel::data::detail {

namespace {

constexpr qint64 kPollBytes = 4 << 20;        // progress / cancel granularity
constexpr qint64 kMinChunkBytes = 256 << 10;  // smallest parallel chunk

/// One field of the current record. Simple fields are a view into the buffer; complex ones
/// (doubled quotes, text after the closing quote) keep the raw span including quotes.
struct CsvField {
    const char *begin;
    size_t len;
    bool quoted;
    bool complex;
};

class CsvTokenizer {
public:
    explicit CsvTokenizer(char delimiter) : fields(64), m_delim(delimiter) {}

    std::vector<CsvField> fields; ///< the first `count` entries are the current record's fields
    size_t count = 0;

    void push(const char *b, size_t len, bool quoted, bool complex)
    {
        if (count == fields.size())
            fields.resize(fields.size() * 2);
        fields[count++] = CsvField{b, len, quoted, complex};
    }

    /// Splits the record starting at `p` (not a blank line) into `fields` and moves `p` past its
    /// line end. False when a quoted field never closes; `errPos` is its opening quote.
    bool next(const char *&p, const char *end, const char *&errPos)
    {
        count = 0;
        const char d = m_delim;
        for (;;) {
            if (p < end && *p == '"') {
                const char *open = p;
                const char *r = findQuote(p + 1, end);
                bool complex = false;
                while (r && r + 1 < end && r[1] == '"') {
                    complex = true;
                    r = findQuote(r + 2, end);
                }
                if (!r) {
                    errPos = open;
                    return false;
                }
                const char *after = r + 1;
                if (after == end || *after == d || *after == '\n'
                    || (*after == '\r' && (after + 1 == end || after[1] == '\n'))) {
                    if (complex)
                        push(open, size_t(after - open), true, true);
                    else
                        push(open + 1, size_t(r - open - 1), true, false);
                    p = after;
                } else {
                    // Text after the closing quote: the field runs on, quotes toggling, to a delimiter.
                    bool inQuotes = false;
                    const char *lastOpen = open;
                    const char *s = after;
                    for (; s < end; ++s) {
                        const char c = *s;
                        if (c == '"') {
                            inQuotes = !inQuotes;
                            if (inQuotes)
                                lastOpen = s;
                        } else if (!inQuotes && (c == d || c == '\n')) {
                            break;
                        }
                    }
                    if (inQuotes) {
                        errPos = lastOpen;
                        return false;
                    }
                    const char *fe = s;
                    if (fe > after && fe[-1] == '\r' && (s == end || *s == '\n'))
                        --fe;
                    push(open, size_t(fe - open), true, true);
                    p = fe;
                }
            } else {
                const char *s = scanUnquoted(p, end);
                const char *fe = s;
                if (fe > p && fe[-1] == '\r' && (s == end || *s == '\n'))
                    --fe;
                push(p, size_t(fe - p), false, false);
                p = fe;
            }
            if (p == end)
                return true;
            if (*p == d) {
                ++p;
                continue;
            }
            if (*p == '\r')
                ++p;
            if (p < end && *p == '\n')
                ++p;
            return true;
        }
    }

    /// First quote at or after s, or null. Quoted fields are mostly short: look at the first
    /// bytes directly before calling memchr.
    static const char *findQuote(const char *s, const char *end)
    {
        const char *stop = std::min(end, s + 24);
        for (; s < stop; ++s)
            if (*s == '"')
                return s;
        return s < end ? static_cast<const char *>(std::memchr(s, '"', size_t(end - s))) : nullptr;
    }

    /// First delimiter or newline at or after s (or end). Fields are short, so the positions of both in 64 bytes are
    /// found at once (SSE2 compares, one bit per byte) and kept: the next several fields start inside that block
    /// and are found with a count of trailing zeros.
    const char *scanUnquoted(const char *s, const char *end)
    {
        for (;;) {
            if (const uintptr_t at = uintptr_t(s) - uintptr_t(m_block); at < 64) {   // inside the kept block
                const uint64_t bits = m_bits & (~uint64_t(0) << at);
                if (bits)   // the block was read against another end: never answer past this one
                    return std::min(m_block + __builtin_ctzll(bits), end);
                s = m_block + 64;
                if (s >= end)
                    return end;
            }
            if (end - s < 64)
                return scanTail(s, end);
            m_block = s;
            m_bits = separatorBits(s);
        }
    }

    /// Bit i set when s[i] is the delimiter or a newline, for i in [0, 64).
    uint64_t separatorBits(const char *s) const
    {
        const __m128i delim = _mm_set1_epi8(m_delim), newline = _mm_set1_epi8('\n');
        uint64_t bits = 0;
        for (int i = 0; i < 4; ++i) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(s + 16 * i));
            const __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, delim), _mm_cmpeq_epi8(v, newline));
            bits |= uint64_t(uint32_t(_mm_movemask_epi8(hit))) << (16 * i);
        }
        return bits;
    }

    /// The last bytes of the input, eight at a time while it can.
    const char *scanTail(const char *s, const char *end) const
    {
        constexpr uint64_t ones = 0x0101010101010101ULL;
        constexpr uint64_t highs = 0x8080808080808080ULL;
        const uint64_t delims = ones * uint8_t(m_delim);
        const uint64_t newlines = ones * uint8_t('\n');
        while (end - s >= 8) {
            uint64_t w;
            std::memcpy(&w, s, 8);
            const uint64_t a = w ^ delims;
            const uint64_t b = w ^ newlines;
            const uint64_t hit = ((a - ones) & ~a & highs) | ((b - ones) & ~b & highs);
            if (hit)
                return s + (__builtin_ctzll(hit) >> 3);
            s += 8;
        }
        while (s < end && *s != m_delim && *s != '\n')
            ++s;
        return s;
    }

    /// The field's value with quoting removed. A complex field's value lives in a scratch buffer
    /// that the next text() call overwrites.
    std::string_view text(const CsvField &f)
    {
        if (!f.complex)
            return std::string_view(f.begin, f.len);
        m_scratch.clear();
        bool inQuotes = false;
        for (size_t i = 0; i < f.len; ++i) {
            const char c = f.begin[i];
            if (c == '"') {
                if (inQuotes && i + 1 < f.len && f.begin[i + 1] == '"') {
                    m_scratch += '"';
                    ++i;
                } else {
                    inQuotes = !inQuotes;
                }
            } else {
                m_scratch += c;
            }
        }
        return m_scratch;
    }

private:
    char m_delim;
    std::string m_scratch;
    const char *m_block = nullptr;   ///< the 64 bytes scanUnquoted() last looked at
    uint64_t m_bits = 0;             ///< their separators, one bit per byte
};

/// Bit i: the XOR of bits 0..i (with one bit per quote, bit i is set inside quotes, the opening quote included).
inline uint64_t prefixXor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

inline uint64_t byteMask16(__m128i v, char c)
{
    return uint32_t(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
}

/// The vectors the separator index and the survey read 64 bytes with: the widest the CPU has, at most the ones
/// separatorScan() allows; None on a CPU without POPCNT (the tokenizer then reads every record).
enum class BlockPath { Avx512, Avx2, Sse2, None };
BlockPath blockPath()
{
    const SeparatorScan scan = separatorScan();
    if (scan != SeparatorScan::Sse2 && scan != SeparatorScan::Avx2 && hasAvx512Bw())
        return BlockPath::Avx512;
    if (scan != SeparatorScan::Sse2 && hasAvx2())
        return BlockPath::Avx2;
    return hasPopcnt() ? BlockPath::Sse2 : BlockPath::None;
}

/// The 64 bytes at b + at, or for a last block shorter than that, its bytes copied into `tail` with NULs after them
/// (so that no byte past the end is read).
[[gnu::always_inline]] inline const char *blockAt(const char *b, qint64 at, qint64 length, char (&tail)[64])
{
    if (length - at >= 64)
        return b + at;
    std::memset(tail, 0, sizeof tail);
    std::memcpy(tail, b + at, size_t(length - at));
    return tail;
}

/// Calls block(offset, masks) for every 64 bytes of [b, b + length), where masks[k] has bit i set when byte i of the
/// block is chars[k]; the last block's bytes past the end read as NUL (a caller looking for NUL masks them off). SSE2.
template <size_t N, class Block>
[[gnu::always_inline]] inline void forEachBlockSse2(const char *b, qint64 length, const char (&chars)[N], Block &&block)
{
    alignas(32) char tail[64];
    for (qint64 at = 0; at < length; at += 64) {
        const char *s = blockAt(b, at, length, tail);
        uint64_t masks[N] = {};
        for (int i = 0; i < 4; ++i) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(s + 16 * i));
            for (size_t k = 0; k < N; ++k)
                masks[k] |= byteMask16(v, chars[k]) << (16 * i);
        }
        block(at, masks);
    }
}

/// forEachBlockSse2 on AVX2 (callers carry the same target attribute): two 32-byte loads a block.
template <size_t N, class Block>
__attribute__((target("avx2,bmi,bmi2,popcnt"))) [[gnu::always_inline]] inline void
forEachBlockAvx2(const char *b, qint64 length, const char (&chars)[N], Block &&block)
{
    __m256i wanted[N];
    for (size_t k = 0; k < N; ++k)
        wanted[k] = _mm256_set1_epi8(chars[k]);
    alignas(32) char tail[64];
    for (qint64 at = 0; at < length; at += 64) {
        const char *s = blockAt(b, at, length, tail);
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(s));
        const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(s + 32));
        uint64_t masks[N];
        for (size_t k = 0; k < N; ++k)
            masks[k] = uint64_t(uint32_t(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, wanted[k]))))
                       | uint64_t(uint32_t(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, wanted[k])))) << 32;
        block(at, masks);
    }
}

/// forEachBlockSse2 on AVX-512 (callers carry the same target attribute).
template <size_t N, class Block>
__attribute__((target("avx512f,avx512bw"))) [[gnu::always_inline]] inline void
forEachBlockAvx512(const char *b, qint64 length, const char (&chars)[N], Block &&block)
{
    __m512i wanted[N];
    for (size_t k = 0; k < N; ++k)
        wanted[k] = _mm512_set1_epi8(chars[k]);
    for (qint64 at = 0; at < length; at += 64) {
        // Whole blocks by plain loads (a masked load on every block ran at a third of the speed); in the last, the
        // bytes past the end read as 0 and are not read.
        const __m512i v = length - at >= 64 ? _mm512_loadu_si512(b + at)
                                            : _mm512_maskz_loadu_epi8((__mmask64(1) << (length - at)) - 1, b + at);
        uint64_t masks[N];
        for (size_t k = 0; k < N; ++k)
            masks[k] = _mm512_cmpeq_epi8_mask(v, wanted[k]);
        block(at, masks);
    }
}

/// Read-only parameters shared by all chunk tasks.
struct CsvContext {
    const char *base = nullptr;
    const char *end = nullptr;
    char delim = ',';
    int columns = 0;
    const MissingTokens *missing = nullptr;
    int maxDistinct = 10000;
    DateOrder order = DateOrder::Auto;
    double avgRecordBytes = 64.0;
    Feedback *feedback = nullptr;
    ProgressCounter *progress = nullptr;
};

const char *skipBlankLines(const char *p, const char *end)
{
    while (p < end) {
        if (*p == '\n')
            ++p;
        else if (*p == '\r' && p + 1 < end && p[1] == '\n')
            p += 2;
        else
            break;
    }
    return p;
}

/// Feeds one field to an accumulator: missing tokens, trimming of unquoted fields, then the value.
[[gnu::always_inline]] inline bool feedField(ColumnAccumulator &acc, CsvTokenizer &tok, const CsvField &f, const MissingTokens &missing,
                      std::string_view *failed)
{
    const std::string_view raw = tok.text(f);
    const std::string_view trimmed = f.quoted ? raw : trimSpaces(raw);
    if (missing.matches(trimmed)) {
        acc.addMissing();
        return true;
    }
    if (acc.add(raw, trimmed))
        return true;
    *failed = trimmed;
    return false;
}

/// The separators of a stretch of input (delimiters and line feeds outside quotes) as offsets from its start, found
/// 64 bytes at a time. Quotes are read the RFC 4180 way, each one toggling; that is how the tokenizer reads them as long
/// as every quote that opens quoting follows a separator, the start, or another quote. Anywhere else (a stray quote in
/// an unquoted field, text after a closing quote that opens again) the tokenizer reads the quote as text and
/// `misplaced` is set: the index is not used.
struct SeparatorIndex {
    std::vector<uint32_t> at;   ///< offsets, ascending (the first `size`)
    size_t size = 0;
    uint64_t quoted = 0;        ///< all ones while inside quotes, carried from block to block
    uint64_t prevSep = 1;       ///< bit 0: the byte before the next block is a separator, or the start
    uint64_t prevQuote = 0;     ///< bit 0: the byte before the next block is a quote
    uint64_t misplaced = 0;

    void reset(size_t bytes)
    {
        if (at.size() < bytes + 72)
            at.resize(bytes + 72);   // a separator per byte at most, and the unrolled writes' slack
        size = 0;
        quoted = misplaced = prevQuote = 0;
        prevSep = 1;
    }
    /// One block at `offset` with one bit per byte for quotes, delimiters and line feeds.
    [[gnu::always_inline]] void block(uint32_t offset, uint64_t q, uint64_t d, uint64_t nl)
    {
        const uint64_t inside = prefixXor(q) ^ quoted;
        quoted = uint64_t(int64_t(inside) >> 63);
        const uint64_t seps = (d | nl) & ~inside;
        misplaced |= q & inside & ~((seps << 1) | prevSep | (q << 1) | prevQuote);
        prevSep = seps >> 63;
        prevQuote = q >> 63;
        // Eight offsets written whether or not there are eight (the slack takes the rest): no branch for most blocks.
        uint32_t *out = at.data() + size;
        const int count = std::popcount(seps);
        uint64_t bits = seps;
        for (int i = 0; i < 8; ++i) {
            out[i] = offset + uint32_t(std::countr_zero(bits));
            bits &= bits - 1;
        }
        for (int i = 8; i < count; ++i) {
            out[i] = offset + uint32_t(std::countr_zero(bits));
            bits &= bits - 1;
        }
        size += size_t(count);
    }
};

__attribute__((target("popcnt"))) void indexSeparatorsSse2(const char *b, qint64 length, char delim, SeparatorIndex &ix)
{
    const char chars[] = {'"', delim, '\n'};
    forEachBlockSse2(b, length, chars, [&](qint64 at, const uint64_t (&m)[3]) { ix.block(uint32_t(at), m[0], m[1], m[2]); });
}

__attribute__((target("avx2,bmi,bmi2,popcnt"))) void indexSeparatorsAvx2(const char *b, qint64 length, char delim,
                                                                         SeparatorIndex &ix)
{
    const char chars[] = {'"', delim, '\n'};
    forEachBlockAvx2(b, length, chars, [&](qint64 at, const uint64_t (&m)[3]) { ix.block(uint32_t(at), m[0], m[1], m[2]); });
}

__attribute__((target("avx512f,avx512bw"))) void indexSeparatorsAvx512(const char *b, qint64 length, char delim,
                                                                       SeparatorIndex &ix)
{
    const char chars[] = {'"', delim, '\n'};
    forEachBlockAvx512(b, length, chars,
                       [&](qint64 at, const uint64_t (&m)[3]) { ix.block(uint32_t(at), m[0], m[1], m[2]); });
}

constexpr qint64 kIndexWindow = 128 << 10;   // bytes indexed at a time (the offsets stay in the L2 cache)
constexpr qint64 kLargestIndexWindow = 4 << 20;   // a longer record is left to the tokenizer (its offsets: 4 B a byte)

/// Where parseIndexedRecords() stopped: `at` is the end of the chunk or the start of a record it leaves to the
/// tokenizer; the index can take over again at the first record start from `resume` on (past the window it gave up on).
struct IndexStop {
    const char *at;
    const char *resume;
};

/// Pass 1 over the records of a chunk from `from` (a record start) that the separator index can read, a window at a
/// time: the index gives every field's end, so no record is scanned byte by byte. A window it cannot read (a quote the
/// index reads differently, a record with another field count, invalid UTF-8, an unterminated quote, a record over
/// 4 MiB) is left to the tokenizer, which reads it and reports exactly what it always did; a cancel stops it too.
IndexStop parseIndexedRecords(const CsvContext &cx, ChunkState &ch, CsvTokenizer &tok, const char *&reported,
                              const char *from)
{
    if (separatorScan() == SeparatorScan::Tokenizer)
        return {from, ch.limit};
    const BlockPath path = blockPath();
    if (path == BlockPath::None)
        return {from, ch.limit};   // a CPU older than the index's instructions: the tokenizer reads every record
    const size_t columns = size_t(cx.columns);
    const char delim = cx.delim;
    SeparatorIndex ix;
    qint64 window = kIndexWindow;
    std::string_view failed;
    const char *p = from;
    while (p < ch.limit) {
        if (cx.progress)
            cx.progress->done.fetch_add(p - reported);
        reported = p;
        if (isCancelled(cx.feedback))
            return {p, ch.limit};
        const qint64 length = std::min<qint64>(window, ch.limit - p);
        const IndexStop giveUp{p, p + length};   // the tokenizer reads this window's records
        if (length > kLargestIndexWindow)
            return giveUp;
        ix.reset(size_t(length));
        switch (path) {
        case BlockPath::Avx512: indexSeparatorsAvx512(p, length, delim, ix); break;
        case BlockPath::Avx2: indexSeparatorsAvx2(p, length, delim, ix); break;
        default: indexSeparatorsSse2(p, length, delim, ix); break;
        }
        if (ix.misplaced)
            return giveUp;
        const bool inputEnds = p + length == cx.end;
        if (inputEnds && ix.quoted)
            return giveUp;   // an unterminated quote
        if (inputEnds && cx.end[-1] != '\n')
            ix.at[ix.size++] = uint32_t(length);   // the last record ends with the input
        // Complete records end at the last line end (or the end of input) in the window.
        size_t k = ix.size;
        while (k > 0 && ix.at[k - 1] != uint32_t(length) && p[ix.at[k - 1]] != '\n')
            --k;
        if (k == 0) {   // not one whole record: a longer window, unless the chunk ends here
            if (p + length == ch.limit)
                return giveUp;
            window *= 2;
            continue;
        }
        window = kIndexWindow;   // back to the size that stays in the cache after a long record
        const char *complete = p + std::min<qint64>(ix.at[k - 1] + 1, length);
        if (findInvalidUtf8(p, complete) >= 0)
            return {p, complete};

        const uint32_t *s = ix.at.data();
        const char *r = p;
        while (r < complete) {
            if (*r == '\n') {   // a blank line: its line feed is the next separator
                ++r;
                ++s;
                continue;
            }
            if (*r == '\r' && r + 1 < cx.end && r[1] == '\n') {
                r += 2;
                ++s;
                continue;
            }
            // Every field but the last ends at a delimiter, the last at a line end: checked before any is taken.
            for (size_t c = 0; c + 1 < columns; ++c) {
                const char *sep = p + s[c];
                if (sep == cx.end || *sep != delim)
                    return {r, complete};
            }
            const char *lineEnd = p + s[columns - 1];
            if (lineEnd != cx.end && *lineEnd != '\n')
                return {r, complete};
            auto field = [&](size_t c, const char *fb, const char *fe) __attribute__((always_inline)) {
                CsvField f{fb, size_t(fe - fb), false, false};
                if (fb < fe && *fb == '"') {
                    // Quoted: simple when it closes at its end with no quote inside, otherwise kept raw (text() reads it).
                    f.quoted = true;
                    if (f.len >= 2 && fe[-1] == '"' && !std::memchr(fb + 1, '"', f.len - 2)) {
                        f.begin = fb + 1;
                        f.len -= 2;
                    } else {
                        f.complex = true;
                    }
                }
                feedField(ch.cols[c], tok, f, *cx.missing, &failed);
            };
            const char *fb = r;
            for (size_t c = 0; c + 1 < columns; ++c) {
                const char *fe = p + s[c];
                field(c, fb, fe);
                fb = fe + 1;
            }
            const char *fe = p + s[columns - 1];   // the last field ends at the line end, before a "\r" there
            field(columns - 1, fb, fe > fb && fe[-1] == '\r' ? fe - 1 : fe);
            s += columns;
            r = fe + 1;
            ++ch.rows;
        }
        p = std::min(r, complete);
    }
    return {p, ch.limit};
}

/// Pass 1 over one chunk: tokenize, validate, infer and build speculatively.
void parseCsvChunk(const CsvContext &cx, ChunkState &ch)
{
    CsvTokenizer tok(cx.delim);
    qint64 estimate = qint64(double(ch.limit - ch.begin) / std::max(cx.avgRecordBytes, 1.0) * 1.1) + 16;
    if (ch.rowLimit >= 0)
        estimate = std::min(estimate, ch.rowLimit + 1);
    ch.cols.clear();
    ch.cols.reserve(size_t(cx.columns));
    for (int c = 0; c < cx.columns; ++c) {
        ch.cols.push_back(ColumnAccumulator::inferring(cx.maxDistinct, cx.order));
        if (!ch.windows.empty())
            ch.cols.back().setWindow(ch.windows[size_t(c)]);
        ch.cols.back().reserve(size_t(estimate));
    }
    ch.rows = 0;
    ch.error.reset();
    ch.truncated = false;

    const char *reported = ch.begin;
    const bool indexed = ch.rowLimit < 0;
    IndexStop stop = indexed ? parseIndexedRecords(cx, ch, tok, reported, ch.begin) : IndexStop{ch.begin, ch.limit};
    const char *p = stop.at;
    const char *nextPoll = p;
    while (p < ch.limit) {
        if (indexed && p >= stop.resume) {   // past what the index left to the tokenizer: the index reads on
            stop = parseIndexedRecords(cx, ch, tok, reported, p);
            p = nextPoll = stop.at;
            if (p >= ch.limit)
                break;
        }
        if (ch.rowLimit >= 0 && ch.rows >= ch.rowLimit) {
            ch.truncated = skipBlankLines(p, cx.end) < cx.end;
            break;
        }
        if (p >= nextPoll) {
            if (cx.progress)
                cx.progress->done.fetch_add(p - reported);
            reported = p;
            nextPoll = p + kPollBytes;
            if (isCancelled(cx.feedback)) {
                ch.error = ChunkError{-1, QStringLiteral("cancelled"), -1, {}, ErrorKind::Cancelled};
                return;
            }
        }
        if (*p == '\n') {
            ++p;
            continue;
        }
        if (*p == '\r' && p + 1 < cx.end && p[1] == '\n') {
            p += 2;
            continue;
        }
        const char *record = p;
        const char *errPos = nullptr;
        if (!tok.next(p, cx.end, errPos)) {
            ch.error = ChunkError{errPos - cx.base, QStringLiteral("unterminated quoted field (the quote opens here)"), -1, {},
                                  ErrorKind::InvalidInput, true};
            return;
        }
        if (const qint64 bad = findInvalidUtf8(record, p); bad >= 0) {
            const qint64 at = record - cx.base + bad;
            ch.error = ChunkError{at, QStringLiteral("invalid UTF-8 at byte offset %1").arg(at)};
            return;
        }
        if (int(tok.count) != cx.columns) {
            ch.error = ChunkError{record - cx.base, QStringLiteral("expected %1 fields, found %2")
                                                         .arg(cx.columns)
                                                         .arg(tok.count)};
            return;
        }
        std::string_view failed;
        for (int c = 0; c < cx.columns; ++c)
            feedField(ch.cols[size_t(c)], tok, tok.fields[size_t(c)], *cx.missing, &failed);
        ++ch.rows;
    }
    ch.endPos = p;
    if (cx.progress)
        cx.progress->done.fetch_add(std::min(p, ch.limit) - reported);
}

/// Second pass over a chunk for the columns whose speculative type did not hold.
void replayCsvChunk(const CsvContext &cx, ChunkState &ch, std::vector<ColumnAccumulator *> &targets)
{
    CsvTokenizer tok(cx.delim);
    const char *p = ch.begin;
    const char *nextPoll = p + kPollBytes;
    qint64 rows = 0;
    while (p < ch.limit && (ch.rowLimit < 0 || rows < ch.rowLimit)) {
        if (p >= nextPoll) {
            nextPoll = p + kPollBytes;
            if (isCancelled(cx.feedback)) {
                ch.error = ChunkError{-1, QStringLiteral("cancelled"), -1, {}, ErrorKind::Cancelled};
                return;
            }
        }
        if (*p == '\n') {
            ++p;
            continue;
        }
        if (*p == '\r' && p + 1 < cx.end && p[1] == '\n') {
            p += 2;
            continue;
        }
        const char *errPos = nullptr;
        if (!tok.next(p, cx.end, errPos)) {
            ch.error = ChunkError{errPos - cx.base, QStringLiteral("unterminated quoted field (the quote opens here)"), -1, {},
                                  ErrorKind::InvalidInput, true};
            return;
        }
        const size_t n = std::min(tok.count, targets.size());
        for (size_t c = 0; c < n; ++c) {
            ColumnAccumulator *t = targets[c];
            if (!t)
                continue;
            std::string_view failed;
            if (!feedField(*t, tok, tok.fields[c], *cx.missing, &failed)) {
                ch.error = ChunkError{tok.fields[c].begin - cx.base,
                                      notTypeMessage(failed, t->kind()),
                                      int(c)};
                return;
            }
        }
        ++rows;
    }
}

struct Sample {
    char delimiter = ',';
    double avgRecordBytes = 64.0;
};

/// Looks at the first records (quote-aware) for the candidate delimiter whose count per record
/// is non-zero and most consistent; ties go to the larger count, then to , \t ; | order.
Sample sampleInput(const char *b, const char *e)
{
    static constexpr std::array<char, 4> candidates = {',', '\t', ';', '|'};
    const char *se = b + std::min<qint64>(e - b, 1 << 16);
    std::vector<std::array<int, 4>> records;
    std::array<int, 4> cur{};
    bool inQuotes = false;
    bool nonBlank = false;
    const char *p = b;
    const char *lastRecordEnd = b;
    for (; p < se && records.size() < 200; ++p) {
        const char c = *p;
        if (c == '"') {
            inQuotes = !inQuotes;
            nonBlank = true;
            continue;
        }
        if (inQuotes)
            continue;
        if (c == '\n') {
            if (nonBlank)
                records.push_back(cur);
            cur = {};
            nonBlank = false;
            lastRecordEnd = p + 1;
            continue;
        }
        if (c == '\r')
            continue;
        nonBlank = true;
        for (size_t k = 0; k < candidates.size(); ++k)
            if (c == candidates[k])
                ++cur[k];
    }
    if (nonBlank && (p == e || records.empty())) {
        records.push_back(cur);
        lastRecordEnd = p;
    }

    Sample s;
    if (!records.empty())
        s.avgRecordBytes = double(lastRecordEnd - b) / double(records.size());
    int bestConsistent = 0;
    int bestFirst = 0;
    for (size_t k = 0; k < candidates.size(); ++k) {
        if (records.empty())
            break;
        const int first = records.front()[k];
        if (first == 0)
            continue;
        int consistent = 0;
        for (const auto &r : records)
            consistent += r[k] == first ? 1 : 0;
        if (consistent > bestConsistent || (consistent == bestConsistent && first > bestFirst)) {
            bestConsistent = consistent;
            bestFirst = first;
            s.delimiter = candidates[k];
        }
    }
    return s;
}

/// Record starts found by tokenizing sequentially (used when quotes are not balanced per RFC 4180).
std::vector<const char *> sequentialBoundaries(char delim, const char *begin, const char *end,
                                               const std::vector<const char *> &targets)
{
    CsvTokenizer tok(delim);
    std::vector<const char *> bounds{begin};
    const char *p = begin;
    size_t k = 1;
    while (k < targets.size()) {
        p = skipBlankLines(p, end);
        if (p >= end)
            break;
        if (p >= targets[k]) {
            bounds.push_back(p);
            while (k < targets.size() && targets[k] <= p)
                ++k;
        }
        const char *errPos = nullptr;
        if (!tok.next(p, end, errPos))
            break;
    }
    return bounds;
}

/// Where an unterminated quote most likely opened. The reader accepts text after a closing quote, so a quote that
/// never closes pairs with the next field's opening quote and the parse runs on, lines later; the error then appears
/// at the end of the file. The first quoted field that both spans lines and has text after its "closing" quote is
/// that swallowed span: its opening quote is the culprit. Null when no such field exists.
const char *locateUnterminatedQuote(char delim, const char *begin, const char *end)
{
    CsvTokenizer tok(delim);
    const char *p = begin;
    while (true) {
        p = skipBlankLines(p, end);
        if (p >= end)
            return nullptr;
        const char *record = p;
        const char *errPos = nullptr;
        if (!tok.next(p, end, errPos)) {
            // The record that runs to the end of the file began swallowing lines at its first quote.
            const void *q = std::memchr(record, '"', size_t(errPos - record) + 1);
            return q ? static_cast<const char *>(q) : errPos;
        }
        for (size_t i = 0; i < tok.count; ++i) {
            const CsvField &f = tok.fields[i];
            if (f.quoted && f.complex && std::memchr(f.begin, '\n', f.len))
                return f.begin;
        }
    }
}

/// Counting records, 64 bytes at a time, the way RFC 4180 reads them: a quote toggles quoting wherever it is, a line
/// feed outside quotes ends a line, and an empty line (or one of just "\r") is no record. Quotes inside unquoted
/// fields are literal to the tokenizer, so on such files the count can differ from the parse; the reader checks.
struct RecordCount {
    qint64 records = 0;
    uint64_t quoted = 0;               ///< all ones while inside quotes
    uint64_t prevEnds = uint64_t(1) << 63;   ///< the last block's line ends (a virtual one before the first byte)
    uint64_t prevCr = 0;
    qint64 lastEnd = -1;               ///< offset of the last line end seen

    /// One block at `offset`, with one bit per byte for quotes, line feeds and carriage returns.
    [[gnu::always_inline]] void block(qint64 offset, uint64_t q, uint64_t nl, uint64_t cr)
    {
        const uint64_t inside = prefixXor(q) ^ quoted;
        quoted = uint64_t(int64_t(inside) >> 63);
        const uint64_t ends = nl & ~inside;
        const uint64_t crs = cr & ~inside;
        const uint64_t endBefore = (ends << 1) | (prevEnds >> 63);
        const uint64_t endTwoBefore = (ends << 2) | (prevEnds >> 62);
        const uint64_t crBefore = (crs << 1) | (prevCr >> 63);
        const uint64_t blank = ends & (endBefore | (crBefore & endTwoBefore));
        records += __builtin_popcountll(ends & ~blank);
        if (ends)
            lastEnd = offset + 63 - __builtin_clzll(ends);
        prevEnds = ends;
        prevCr = crs;
    }
    /// The count for [b, e): lines ended, plus a last line without a line end.
    qint64 finish(qint64 length) const { return records + (lastEnd < length - 1 && !quoted ? 1 : 0); }
};

/// The byte at `x`, reading before `dataBegin` as the one line end there (the header's, or the virtual one before the
/// input) with nothing before it.
inline char dataByte(const char *x, const char *dataBegin)
{
    return x >= dataBegin ? *x : x == dataBegin - 1 ? '\n' : '\0';
}

/// What one read of a stretch of the data learns before the parse: its records counted from either quote state the
/// stretch may start in, and its first NUL byte.
struct Survey {
    RecordCount count[2];   ///< [0]: the stretch starts outside quotes, [1]: inside
    qint64 nul = -1;        ///< offset of the first NUL byte in the stretch, or -1

    /// The line ends and carriage returns just before the stretch at `b` seed the blank-line test; before `dataBegin`
    /// there is one line end (the header's, or the virtual one before the input).
    Survey(const char *b, const char *dataBegin)
    {
        auto byteAt = [dataBegin](const char *x) { return dataByte(x, dataBegin); };
        // Outside quotes at b, the two bytes before are outside too wherever the test looks at them; inside, neither
        // can end a line that the test would look back from.
        count[0].prevEnds = (byteAt(b - 1) == '\n' ? uint64_t(1) << 63 : 0) | (byteAt(b - 2) == '\n' ? uint64_t(1) << 62 : 0);
        count[0].prevCr = byteAt(b - 1) == '\r' ? uint64_t(1) << 63 : 0;
        count[1].quoted = ~uint64_t(0);
        count[1].prevEnds = 0;
        count[1].prevCr = 0;
    }
    [[gnu::always_inline]] void block(qint64 length, qint64 at, const uint64_t (&m)[4])
    {
        count[0].block(at, m[0], m[1], m[2]);
        count[1].block(at, m[0], m[1], m[2]);
        if (m[3] && nul < 0) {
            const uint64_t real = length - at >= 64 ? m[3] : m[3] & ((uint64_t(1) << (length - at)) - 1);
            if (real)
                nul = at + std::countr_zero(real);
        }
    }
};

__attribute__((target("popcnt"))) Survey surveySse2(const char *b, const char *e, const char *dataBegin)
{
    Survey sv(b, dataBegin);
    const char chars[] = {'"', '\n', '\r', '\0'};
    forEachBlockSse2(b, e - b, chars, [&](qint64 at, const uint64_t (&m)[4]) { sv.block(e - b, at, m); });
    return sv;
}

__attribute__((target("avx2,bmi,bmi2,popcnt"))) Survey surveyAvx2(const char *b, const char *e, const char *dataBegin)
{
    Survey sv(b, dataBegin);
    const char chars[] = {'"', '\n', '\r', '\0'};
    forEachBlockAvx2(b, e - b, chars, [&](qint64 at, const uint64_t (&m)[4]) { sv.block(e - b, at, m); });
    return sv;
}

__attribute__((target("avx512f,avx512bw"))) Survey surveyAvx512(const char *b, const char *e, const char *dataBegin)
{
    Survey sv(b, dataBegin);
    const char chars[] = {'"', '\n', '\r', '\0'};
    forEachBlockAvx512(b, e - b, chars, [&](qint64 at, const uint64_t (&m)[4]) { sv.block(e - b, at, m); });
    return sv;
}

/// Gives each chunk a window of rows in one region per column, so the chunks' values are written where the table
/// keeps them (see ColumnWindow): `records` are the chunks' counts from the survey, row 0 is for the first record in
/// case it is data. Nothing when the regions cannot be had; a count the parse then contradicts only costs the copy it
/// saves.
void assignWindows(std::vector<ChunkState> &chunks, int columns, const std::vector<qint64> &records)
{
    if (records.size() != chunks.size())
        return;
    qint64 total = 1;
    for (qint64 n : records)
        total += n;
    std::vector<std::shared_ptr<std::byte>> regions;
    for (int c = 0; c < columns; ++c) {
        regions.push_back(allocateColumnRegion(total));
        if (!regions.back())
            return;
    }
    qint64 first = 1;
    for (size_t k = 0; k < chunks.size(); ++k) {
        chunks[k].windows.clear();
        for (int c = 0; c < columns; ++c)
            chunks[k].windows.push_back(
                ColumnWindow{regions[size_t(c)].get(), total, first, records[k], regions[size_t(c)]});
        first += records[k];
    }
}

/// The first record's windows: row 0 of the regions assignWindows() made (nothing if it made none).
std::vector<ColumnWindow> headWindows(const std::vector<ChunkState> &chunks)
{
    std::vector<ColumnWindow> w;
    if (!chunks.empty())
        for (const ColumnWindow &cw : chunks.front().windows)
            w.push_back(ColumnWindow{cw.region, cw.regionRows, 0, 1, cw.owner});
    return w;
}

std::vector<ChunkState> chunksFrom(const std::vector<const char *> &bounds, const char *end)
{
    std::vector<ChunkState> chunks(bounds.size());
    for (size_t i = 0; i < bounds.size(); ++i) {
        chunks[i].begin = bounds[i];
        chunks[i].limit = i + 1 < bounds.size() ? bounds[i + 1] : end;
    }
    return chunks;
}

} // namespace

CsvLayout surveyCsv(const char *begin, const char *end, int chunks, int threads)
{
    const qint64 len = end - begin;
    std::vector<const char *> split(size_t(chunks) + 1);
    for (int i = 0; i <= chunks; ++i)
        split[size_t(i)] = begin + len * i / chunks;
    std::vector<std::optional<Survey>> parts(static_cast<size_t>(chunks));
    const BlockPath path = blockPath();
    if (path == BlockPath::None)
        return {};   // a CPU older than the survey's instructions: one chunk, searched for NUL on its own
    // Nothing can cancel these tasks (no feedback); only an exception inside one can fail them.
    const Status surveyed = runTasks(
        chunks, threads,
        [&](int i) {
            const char *b = split[size_t(i)], *e = split[size_t(i) + 1];
            parts[size_t(i)] = path == BlockPath::Avx512 ? surveyAvx512(b, e, begin)
                               : path == BlockPath::Avx2 ? surveyAvx2(b, e, begin)
                                                         : surveySse2(b, e, begin);
        },
        nullptr, nullptr, QString());
    CsvLayout layout;
    if (!surveyed)
        return layout;
    for (int i = 0; i < chunks; ++i) {
        if (parts[size_t(i)]->nul >= 0) {
            layout.nul = split[size_t(i)] - begin + parts[size_t(i)]->nul;
            break;
        }
    }
    // The quote state at each split (quotes balance the RFC 4180 way, each toggling) and the records before it.
    std::vector<int> inside(size_t(chunks) + 1, 0);
    std::vector<qint64> before(size_t(chunks) + 1, 0);
    for (int i = 0; i < chunks; ++i) {
        const RecordCount &rc = parts[size_t(i)]->count[inside[size_t(i)]];
        inside[size_t(i) + 1] = int(rc.quoted & 1);
        const qint64 n = i + 1 == chunks ? rc.finish(split[size_t(i) + 1] - split[size_t(i)]) : rc.records;
        before[size_t(i) + 1] = before[size_t(i)] + n;
    }
    auto byteAt = [begin](const char *x) { return dataByte(x, begin); };

    // A record starts after the first line end outside quotes at or after each split; the records before it are those
    // before the split (none ends between the split and that line end, even past the next split), plus the one that
    // line end ends, unless its line is blank.
    layout.bounds.push_back(begin);
    std::vector<qint64> recordsBefore{0};
    for (int i = 1; i < chunks; ++i) {
        bool inQuotes = inside[size_t(i)];
        const char *x = split[size_t(i)];
        qint64 count = before[size_t(i)];
        if (inQuotes || byteAt(x - 1) != '\n') {
            for (; x < end; ++x) {
                if (*x == '"') {
                    inQuotes = !inQuotes;
                } else if (*x == '\n' && !inQuotes) {
                    ++x;
                    break;
                }
            }
            const bool blank = byteAt(x - 2) == '\n' || (byteAt(x - 2) == '\r' && byteAt(x - 3) == '\n');
            count += blank ? 0 : 1;
        }
        if (x > layout.bounds.back() && x < end) {
            layout.bounds.push_back(x);
            recordsBefore.push_back(count);
        }
    }
    recordsBefore.push_back(before.back());
    for (size_t k = 0; k + 1 < recordsBefore.size(); ++k)
        layout.records.push_back(recordsBefore[k + 1] - recordsBefore[k]);
    return layout;
}

Expected<Table> readCsv(QByteArrayView bytes, const ReadOptions &options, Feedback *feedback, ReadInfo *info,
                        const QString &source, bool tabDefault)
{
    const char *base = bytes.data();
    const char *end = base + bytes.size();
    const char *start = base;
    if (bytes.size() >= 3 && std::memcmp(base, "\xEF\xBB\xBF", 3) == 0)
        start += 3;
    // A NUL byte refuses the input before anything else is said about it. A large input read in parallel is searched
    // in the read the survey makes of the data anyway (below); a refusal before then searches first.
    const int threads = effectiveThreads(options.threads);
    bool nulSearched = false;
    std::optional<Error> nulError;
    auto searchNul = [&]() {
        if (const qsizetype at = firstNul(bytes, threads); at >= 0)
            nulError = nulByteError(bytes, at, source);
        nulSearched = true;
    };
    auto refuse = [&](Error e) {
        if (!nulSearched)
            searchNul();
        return nulError ? *nulError : std::move(e);
    };
    if (options.maxRows >= 0 || threads == 1 || bytes.size() < 2 * kMinChunkBytes) {
        searchNul();
        if (nulError)
            return *nulError;
    }

    const char *first = skipBlankLines(start, end);
    if (first >= end)
        return refuse(makeError(QStringLiteral("file is empty"), source));

    const Sample sample = sampleInput(first, end);
    const char delim = options.delimiter ? *options.delimiter : tabDefault ? '\t' : sample.delimiter;
    if (delim == '"' || delim == '\n' || delim == '\r' || delim == '\0')
        return refuse(makeError(QStringLiteral("unusable delimiter"), source));
    const MissingTokens missing(options.missingTokens);

    ProgressCounter progress;
    progress.total = end - start;
    progress.done = first - start;

    // The first record: header or data, decided once the rows below it are typed.
    CsvTokenizer tok(delim);
    int columns = 0;
    QStringList firstRecord;   // its fields as text: the names, if it turns out to be a header
    {
        const char *p = first;
        const char *errPos = nullptr;
        if (!tok.next(p, end, errPos)) {
            const char *open = locateUnterminatedQuote(delim, first, end);
            return refuse(makeError(ErrorKind::InvalidInput,
                                    QStringLiteral("unterminated quoted field (the quote opens here)"), source,
                                    lineOfOffset(base, (open ? open : errPos) - base)));
        }
        columns = int(tok.count);
        for (size_t i = 0; i < tok.count; ++i) {
            const std::string_view t = tok.text(tok.fields[i]);
            firstRecord << QString::fromUtf8(t.data(), qsizetype(t.size()));
        }
    }

    CsvContext cx;
    cx.base = base;
    cx.end = end;
    cx.delim = delim;
    cx.columns = columns;
    cx.missing = &missing;
    cx.maxDistinct = options.categoricalMaxDistinct;
    cx.order = options.dateOrder;
    cx.avgRecordBytes = sample.avgRecordBytes;
    cx.feedback = feedback;
    cx.progress = &progress;

    // Chunk errors as Errors; an unterminated quote is reported where it opened, not where the file ran out.
    auto chunkError = [&](ChunkError e) {
        if (e.openQuote)
            if (const char *open = locateUnterminatedQuote(delim, first, end))
                e.offset = open - base;
        return chunkErrorToError(e, base, source, {});
    };

    ChunkState head;
    head.begin = first;
    head.limit = end;
    head.rowLimit = 1;
    parseCsvChunk(cx, head);
    if (head.error)
        return refuse(chunkError(*head.error));
    const char *dataBegin = head.endPos;

    // Data chunks.
    std::vector<ChunkState> chunks;
    const qint64 dataBytes = end - dataBegin;
    if (options.maxRows >= 0 || threads == 1 || dataBytes < 2 * kMinChunkBytes) {
        chunks = chunksFrom({dataBegin}, end);
        chunks.front().rowLimit = options.maxRows;
    } else {
        const qint64 n = parallelChunkCount(dataBytes, threads);
        const CsvLayout layout = surveyCsv(dataBegin, end, int(n), threads);
        if (!layout.bounds.empty()) {
            chunks = chunksFrom(layout.bounds, end);
            assignWindows(chunks, columns, layout.records);
            if (!nulSearched) {   // the survey read the data; the header is left
                if (const void *at = std::memchr(base, '\0', size_t(dataBegin - base)))
                    nulError = nulByteError(bytes, static_cast<const char *>(at) - base, source);
                else if (layout.nul >= 0)
                    nulError = nulByteError(bytes, dataBegin - base + layout.nul, source);
                nulSearched = true;
            }
        } else {
            chunks = chunksFrom({dataBegin}, end);   // one chunk: always correct, only slower
        }
    }
    if (!nulSearched)
        searchNul();
    if (nulError)
        return *nulError;

    auto runPass = [&]() -> Status {
        return runTasks(
            int(chunks.size()), threads, [&](int i) { parseCsvChunk(cx, chunks[size_t(i)]); }, feedback, &progress,
            QStringLiteral("parse"));
    };
    if (const Status st = runPass(); !st)
        return st.error().withFile(source);
    for (size_t i = 0; i < chunks.size(); ++i) {
        if (chunks[i].error)
            return chunkError(*chunks[i].error);
        if (i + 1 < chunks.size() && chunks[i].endPos != chunks[i + 1].begin) {
            // Quotes did not balance the RFC 4180 way (e.g. a stray quote inside an unquoted field):
            // find the record starts by tokenizing, then parse again.
            std::vector<const char *> targets;
            for (const auto &c : chunks)
                targets.push_back(c.begin);
            chunks = chunksFrom(sequentialBoundaries(delim, dataBegin, end, targets), end);
            progress.done = head.endPos - start;
            if (const Status st = runPass(); !st)
                return st.error().withFile(source);
            for (const auto &c : chunks)
                if (c.error)
                    return chunkError(*c.error);
            break;
        }
    }
    if (isCancelled(feedback))
        return cancelledError(source);

    // Header: the first row is all text above typed columns, or does not fit the types below it.
    bool header = true;
    if (options.header) {
        header = *options.header;
    } else {
        bool anyText = false, allText = true, fails = false;
        for (int c = 0; c < columns; ++c) {
            const KindSummary top = summaryOf(head.cols[size_t(c)]);
            KindSummary below;
            for (const auto &ch : chunks)
                below = joinSummaries(below, summaryOf(ch.cols[size_t(c)]));
            if (top.kind == ValueKind::Text)
                anyText = true;
            else if (top.kind != ValueKind::Empty)
                allText = false;
            const bool typed = below.kind != ValueKind::Empty && below.kind != ValueKind::Text;
            if (top.kind != ValueKind::Empty && typed && joinSummaries(top, below).kind == ValueKind::Text)
                fails = true;
        }
        // A first row of text is a header (as pandas assumes) unless nothing else is known; a first row that does
        // not fit the types below is a header whatever it holds.
        header = (anyText && allText) || fails;
    }

    QStringList rawNames;
    if (header) {
        rawNames = firstRecord;
    } else {
        for (int c = 0; c < columns; ++c)
            rawNames << QString();
    }

    bool truncated = false;
    std::vector<ChunkState *> dataChunks;
    if (!header) {
        if (options.maxRows == 0) {
            truncated = true;
        } else {
            // The first record is data: parse it again into row 0 of the regions, ahead of the chunks' rows.
            head.windows = headWindows(chunks);
            if (!head.windows.empty())
                parseCsvChunk(cx, head);
            dataChunks.push_back(&head);
            if (options.maxRows > 0 && chunks.front().rows > options.maxRows - 1) {
                chunks.front().rowLimit = options.maxRows - 1;
                parseCsvChunk(cx, chunks.front());
            }
        }
    }
    if (header || options.maxRows != 0) {
        for (auto &ch : chunks) {
            dataChunks.push_back(&ch);
            truncated = truncated || ch.truncated;
        }
    }

    AssemblyInput in;
    in.base = base;
    in.source = source;
    in.names = uniqueColumnNames(rawNames);
    in.nameLine = header ? lineOfOffset(base, first - base) : -1;
    in.chunks = std::move(dataChunks);
    in.threads = threads;
    in.replay = [&cx](ChunkState &ch, std::vector<ColumnAccumulator *> &targets) { replayCsvChunk(cx, ch, targets); };
    Expected<Table> table = assembleTable(in, options, feedback, info);
    if (table && info) {
        info->format = FileFormat::Csv;
        info->delimiter = delim;
        info->header = header;
        info->bytes = bytes.size();
        info->truncated = truncated;
    }
    return table;
}

} // namespace keel::data::detail
