// JSON Lines reading: one object per line, columns are the union of keys in first-seen order.
// A small validating JSON parser (no DOM) keeps number text exact for the shared type inference.

#include "data/typeinfer.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace keel::data::detail {

namespace {

constexpr qint64 kPollBytes = 4 << 20;
constexpr qint64 kMinChunkBytes = 256 << 10;
constexpr int kMaxDepth = 256;

struct JsonValue {
    enum Type { String, Number, True, False, Null, Nested } type = Null;
    std::string_view text;
};

bool isWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

void appendUtf8(std::string &out, uint32_t cp)
{
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

/// Parses one line holding one JSON object. Not thread-safe; one parser per task.
class JsonLineParser {
public:
    const char *errPos = nullptr;
    QString error;

    /// Calls onMember(key, value) per member; false on a syntax error (errPos, error) or when
    /// onMember returns false. Views passed to onMember are valid only during the call.
    template <class F>
    bool parseObject(const char *p, const char *e, F &&onMember)
    {
        skipWs(p, e);
        if (p >= e || *p != '{')
            return fail(p, QStringLiteral("expected a JSON object"));
        ++p;
        skipWs(p, e);
        if (p < e && *p == '}') {
            ++p;
        } else {
            for (;;) {
                skipWs(p, e);
                if (p >= e || *p != '"')
                    return fail(p, QStringLiteral("expected a string key"));
                std::string_view key;
                if (!parseString(p, e, m_key, key))
                    return false;
                skipWs(p, e);
                if (p >= e || *p != ':')
                    return fail(p, QStringLiteral("expected ':' after a key"));
                ++p;
                skipWs(p, e);
                JsonValue v;
                if (!parseValue(p, e, v))
                    return false;
                if (!onMember(key, v))
                    return false;
                skipWs(p, e);
                if (p < e && *p == ',') {
                    ++p;
                    continue;
                }
                if (p < e && *p == '}') {
                    ++p;
                    break;
                }
                return fail(p, QStringLiteral("expected ',' or '}'"));
            }
        }
        skipWs(p, e);
        if (p != e)
            return fail(p, QStringLiteral("unexpected text after the object"));
        return true;
    }

private:
    static void skipWs(const char *&p, const char *e)
    {
        while (p < e && isWs(*p))
            ++p;
    }

    bool fail(const char *at, QString message)
    {
        errPos = at;
        error = std::move(message);
        return false;
    }

    bool parseHex4(const char *&p, const char *e, uint32_t &out)
    {
        if (e - p < 4)
            return fail(p, QStringLiteral("invalid \\u escape"));
        out = 0;
        for (int i = 0; i < 4; ++i, ++p) {
            const char c = *p;
            uint32_t d;
            if (c >= '0' && c <= '9')
                d = uint32_t(c - '0');
            else if (c >= 'a' && c <= 'f')
                d = uint32_t(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                d = uint32_t(c - 'A' + 10);
            else
                return fail(p, QStringLiteral("invalid \\u escape"));
            out = out * 16 + d;
        }
        return true;
    }

    /// `p` at the opening quote; on success `out` views the raw text or `buf` (after unescaping).
    bool parseString(const char *&p, const char *e, std::string &buf, std::string_view &out)
    {
        const char *open = p;
        ++p;
        const char *s = p;
        while (p < e) {
            const auto c = uint8_t(*p);
            if (c == '"') {
                out = std::string_view(s, size_t(p - s));
                ++p;
                return true;
            }
            if (c == '\\')
                break;
            if (c < 0x20)
                return fail(p, QStringLiteral("control character in a string"));
            ++p;
        }
        if (p >= e)
            return fail(open, QStringLiteral("unterminated string"));
        buf.assign(s, size_t(p - s));
        while (p < e) {
            const auto c = uint8_t(*p);
            if (c == '"') {
                ++p;
                out = buf;
                return true;
            }
            if (c < 0x20)
                return fail(p, QStringLiteral("control character in a string"));
            if (c != '\\') {
                buf += char(c);
                ++p;
                continue;
            }
            ++p;
            if (p >= e)
                break;
            const char esc = *p++;
            switch (esc) {
            case '"': buf += '"'; break;
            case '\\': buf += '\\'; break;
            case '/': buf += '/'; break;
            case 'b': buf += '\b'; break;
            case 'f': buf += '\f'; break;
            case 'n': buf += '\n'; break;
            case 'r': buf += '\r'; break;
            case 't': buf += '\t'; break;
            case 'u': {
                const char *escape = p - 2;
                uint32_t cp;
                if (!parseHex4(p, e, cp))
                    return false;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (e - p < 2 || p[0] != '\\' || p[1] != 'u')
                        return fail(escape, QStringLiteral("unpaired surrogate in \\u escape"));
                    p += 2;
                    if (!parseHex4(p, e, lo))
                        return false;
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return fail(escape, QStringLiteral("unpaired surrogate in \\u escape"));
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return fail(escape, QStringLiteral("unpaired surrogate in \\u escape"));
                }
                appendUtf8(buf, cp);
                break;
            }
            default: return fail(p - 1, QStringLiteral("invalid escape in a string"));
            }
        }
        return fail(open, QStringLiteral("unterminated string"));
    }

    bool parseNumber(const char *&p, const char *e)
    {
        const char *s = p;
        if (p < e && *p == '-')
            ++p;
        if (p < e && *p == '0') {
            ++p;
        } else if (p < e && *p >= '1' && *p <= '9') {
            while (p < e && isDigit(*p))
                ++p;
        } else {
            return fail(s, QStringLiteral("invalid number"));
        }
        if (p < e && *p == '.') {
            ++p;
            if (p >= e || !isDigit(*p))
                return fail(s, QStringLiteral("invalid number"));
            while (p < e && isDigit(*p))
                ++p;
        }
        if (p < e && (*p == 'e' || *p == 'E')) {
            ++p;
            if (p < e && (*p == '+' || *p == '-'))
                ++p;
            if (p >= e || !isDigit(*p))
                return fail(s, QStringLiteral("invalid number"));
            while (p < e && isDigit(*p))
                ++p;
        }
        return true;
    }

    bool literal(const char *&p, const char *e, const char *word)
    {
        const size_t n = std::strlen(word);
        if (size_t(e - p) < n || std::memcmp(p, word, n) != 0)
            return fail(p, QStringLiteral("invalid literal"));
        p += n;
        return true;
    }

    /// Validates any value (used for nested arrays and objects).
    bool skipValue(const char *&p, const char *e, int depth)
    {
        if (depth > kMaxDepth)
            return fail(p, QStringLiteral("nesting too deep"));
        skipWs(p, e);
        if (p >= e)
            return fail(p, QStringLiteral("expected a value"));
        std::string_view ignored;
        switch (*p) {
        case '{':
            ++p;
            skipWs(p, e);
            if (p < e && *p == '}') {
                ++p;
                return true;
            }
            for (;;) {
                skipWs(p, e);
                if (p >= e || *p != '"')
                    return fail(p, QStringLiteral("expected a string key"));
                if (!parseString(p, e, m_skip, ignored))
                    return false;
                skipWs(p, e);
                if (p >= e || *p != ':')
                    return fail(p, QStringLiteral("expected ':' after a key"));
                ++p;
                if (!skipValue(p, e, depth + 1))
                    return false;
                skipWs(p, e);
                if (p < e && *p == ',') {
                    ++p;
                    continue;
                }
                if (p < e && *p == '}') {
                    ++p;
                    return true;
                }
                return fail(p, QStringLiteral("expected ',' or '}'"));
            }
        case '[':
            ++p;
            skipWs(p, e);
            if (p < e && *p == ']') {
                ++p;
                return true;
            }
            for (;;) {
                if (!skipValue(p, e, depth + 1))
                    return false;
                skipWs(p, e);
                if (p < e && *p == ',') {
                    ++p;
                    continue;
                }
                if (p < e && *p == ']') {
                    ++p;
                    return true;
                }
                return fail(p, QStringLiteral("expected ',' or ']'"));
            }
        case '"': return parseString(p, e, m_skip, ignored);
        case 't': return literal(p, e, "true");
        case 'f': return literal(p, e, "false");
        case 'n': return literal(p, e, "null");
        default:
            if (*p == '-' || isDigit(*p))
                return parseNumber(p, e);
            return fail(p, QStringLiteral("unexpected character"));
        }
    }

    bool parseValue(const char *&p, const char *e, JsonValue &v)
    {
        if (p >= e)
            return fail(p, QStringLiteral("expected a value"));
        const char *s = p;
        switch (*p) {
        case '"':
            v.type = JsonValue::String;
            return parseString(p, e, m_value, v.text);
        case 't':
            v.type = JsonValue::True;
            v.text = "true";
            return literal(p, e, "true");
        case 'f':
            v.type = JsonValue::False;
            v.text = "false";
            return literal(p, e, "false");
        case 'n':
            v.type = JsonValue::Null;
            return literal(p, e, "null");
        case '{':
        case '[': {
            if (!skipValue(p, e, 1))
                return false;
            // Compact text: whitespace outside strings dropped, escapes kept as written.
            m_nested.clear();
            bool inString = false;
            for (const char *q = s; q < p; ++q) {
                const char c = *q;
                if (inString) {
                    m_nested += c;
                    if (c == '\\') {
                        m_nested += *++q;
                    } else if (c == '"') {
                        inString = false;
                    }
                } else if (!isWs(c)) {
                    inString = c == '"';
                    m_nested += c;
                }
            }
            v.type = JsonValue::Nested;
            v.text = m_nested;
            return true;
        }
        default:
            if (*p == '-' || isDigit(*p)) {
                if (!parseNumber(p, e))
                    return false;
                v.type = JsonValue::Number;
                v.text = std::string_view(s, size_t(p - s));
                return true;
            }
            return fail(p, QStringLiteral("unexpected character"));
        }
    }

    std::string m_key;
    std::string m_value;
    std::string m_nested;
    std::string m_skip;
};

/// Feeds one member value to an accumulator. False when a strict accumulator rejects it.
bool feedJson(ColumnAccumulator &acc, const JsonValue &v, const MissingTokens &missing)
{
    switch (v.type) {
    case JsonValue::Null: acc.addMissing(); return true;
    case JsonValue::String:
        if (missing.matches(v.text)) {
            acc.addMissing();
            return true;
        }
        return acc.add(v.text, v.text);
    case JsonValue::Number:
    case JsonValue::True:
    case JsonValue::False: return acc.add(v.text, v.text);
    case JsonValue::Nested: return acc.addNested(v.text);
    }
    return true;
}

bool isBlankLine(const char *b, const char *e)
{
    for (; b < e; ++b)
        if (!isWs(*b))
            return false;
    return true;
}

struct JsonlContext {
    const char *base = nullptr;
    const char *end = nullptr;
    const MissingTokens *missing = nullptr;
    int maxDistinct = 10000;
    DateOrder order = DateOrder::Auto;
    Feedback *feedback = nullptr;
    ProgressCounter *progress = nullptr;
    const std::unordered_map<std::string, int> *globalIndex = nullptr; ///< set for replays
};

/// A chunk plus the keys it saw, in first-seen order (its columns follow this order until remapped).
struct JsonlChunk {
    ChunkState state;
    std::vector<std::string> keys;
};

/// Iterates the non-blank lines of a chunk; fn(lineBegin, lineEnd) returns false to stop.
template <class F>
void forEachLine(const JsonlContext &cx, ChunkState &ch, F &&fn)
{
    const char *p = ch.begin;
    const char *reported = p;
    const char *nextPoll = p;
    qint64 rows = 0;
    while (p < ch.limit) {
        if (ch.rowLimit >= 0 && rows >= ch.rowLimit) {
            const char *q = p;
            while (q < cx.end && isWs(*q))
                ++q;
            ch.truncated = q < cx.end;
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
        const char *nl = static_cast<const char *>(std::memchr(p, '\n', size_t(cx.end - p)));
        const char *lineEnd = nl ? nl : cx.end;
        const char *next = nl ? nl + 1 : cx.end;
        if (!isBlankLine(p, lineEnd)) {
            if (!fn(p, lineEnd, rows))
                return;
            ++rows;
        }
        p = next;
    }
    ch.endPos = p;
    if (cx.progress)
        cx.progress->done.fetch_add(std::min(p, ch.limit) - reported);
}

void parseJsonlChunk(const JsonlContext &cx, JsonlChunk &jc)
{
    ChunkState &ch = jc.state;
    JsonLineParser parser;
    std::unordered_map<std::string, int> index;
    std::vector<int> lastOrder;
    std::string keyBuf;
    ch.rows = 0;
    forEachLine(cx, ch, [&](const char *b, const char *e, qint64 row) {
        if (const qint64 bad = findInvalidUtf8(b, e); bad >= 0) {
            const qint64 at = b - cx.base + bad;
            ch.error = ChunkError{at, QStringLiteral("invalid UTF-8 at byte offset %1").arg(at)};
            return false;
        }
        size_t member = 0;
        const bool ok = parser.parseObject(b, e, [&](std::string_view key, const JsonValue &v) {
            int col = -1;
            if (member < lastOrder.size() && jc.keys[size_t(lastOrder[member])] == key) {
                col = lastOrder[member];
            } else {
                keyBuf.assign(key.data(), key.size());
                const auto it = index.find(keyBuf);
                if (it != index.end()) {
                    col = it->second;
                } else {
                    col = int(jc.keys.size());
                    jc.keys.push_back(keyBuf);
                    index.emplace(keyBuf, col);
                    ch.cols.push_back(ColumnAccumulator::inferring(cx.maxDistinct, cx.order));
                }
                if (member < lastOrder.size())
                    lastOrder[member] = col;
                else
                    lastOrder.push_back(col);
            }
            ++member;
            ColumnAccumulator &acc = ch.cols[size_t(col)];
            acc.padTo(row);
            if (acc.rows() > row) {
                ch.error = ChunkError{b - cx.base, QStringLiteral("duplicate key in one object"), -1,
                                      QString::fromUtf8(key.data(), qsizetype(key.size()))};
                return false;
            }
            feedJson(acc, v, *cx.missing);
            return true;
        });
        if (!ok) {
            if (!ch.error)
                ch.error = ChunkError{parser.errPos - cx.base,
                                      QStringLiteral("invalid JSON at column %1: %2")
                                          .arg(parser.errPos - b + 1)
                                          .arg(parser.error)};
            return false;
        }
        ++ch.rows;
        return true;
    });
    for (auto &acc : ch.cols)
        acc.padTo(ch.rows);
}

void replayJsonlChunk(const JsonlContext &cx, ChunkState &ch, std::vector<ColumnAccumulator *> &targets)
{
    JsonLineParser parser;
    std::string keyBuf;
    forEachLine(cx, ch, [&](const char *b, const char *e, qint64 row) {
        const bool ok = parser.parseObject(b, e, [&](std::string_view key, const JsonValue &v) {
            keyBuf.assign(key.data(), key.size());
            const auto it = cx.globalIndex->find(keyBuf);
            if (it == cx.globalIndex->end())
                return true;
            ColumnAccumulator *t = targets[size_t(it->second)];
            if (!t)
                return true;
            t->padTo(row);
            if (!feedJson(*t, v, *cx.missing)) {
                ch.error = ChunkError{b - cx.base,
                                      notTypeMessage(v.text, t->kind()),
                                      it->second};
                return false;
            }
            return true;
        });
        if (!ok && !ch.error)
            ch.error = ChunkError{parser.errPos - cx.base, QStringLiteral("invalid JSON: %1").arg(parser.error)};
        return ok;
    });
    for (ColumnAccumulator *t : targets)
        if (t)
            t->padTo(ch.rows);
}

} // namespace

Expected<Table> readJsonl(QByteArrayView bytes, const ReadOptions &options, Feedback *feedback, ReadInfo *info,
                          const QString &source)
{
    const char *base = bytes.data();
    const char *end = base + bytes.size();
    const char *start = base;
    if (bytes.size() >= 3 && std::memcmp(base, "\xEF\xBB\xBF", 3) == 0)
        start += 3;
    if (isBlankLine(start, end))
        return makeError(QStringLiteral("file is empty"), source);

    const int threads = effectiveThreads(options.threads);
    const MissingTokens missing(options.missingTokens);
    ProgressCounter progress;
    progress.total = end - start;

    JsonlContext cx;
    cx.base = base;
    cx.end = end;
    cx.missing = &missing;
    cx.maxDistinct = options.categoricalMaxDistinct;
    cx.order = options.dateOrder;
    cx.feedback = feedback;
    cx.progress = &progress;

    // Chunks start right after a newline; JSON strings cannot hold a raw newline.
    std::vector<const char *> bounds{start};
    const qint64 len = end - start;
    if (options.maxRows < 0 && threads > 1 && len >= 2 * kMinChunkBytes) {
        const qint64 n = parallelChunkCount(len, threads);
        for (qint64 i = 1; i < n; ++i) {
            const char *s = start + len * i / n;
            if (s[-1] != '\n') {
                const char *nl = static_cast<const char *>(std::memchr(s, '\n', size_t(end - s)));
                s = nl ? nl + 1 : end;
            }
            if (s > bounds.back() && s < end)
                bounds.push_back(s);
        }
    }
    std::vector<JsonlChunk> chunks(bounds.size());
    for (size_t i = 0; i < bounds.size(); ++i) {
        chunks[i].state.begin = bounds[i];
        chunks[i].state.limit = i + 1 < bounds.size() ? bounds[i + 1] : end;
    }
    chunks.front().state.rowLimit = options.maxRows;

    const Status st = runTasks(
        int(chunks.size()), threads, [&](int i) { parseJsonlChunk(cx, chunks[size_t(i)]); }, feedback, &progress,
        QStringLiteral("parse"));
    if (!st)
        return st.error().withFile(source);
    if (isCancelled(feedback))
        return cancelledError(source);
    for (const auto &c : chunks)
        if (c.state.error)
            return chunkErrorToError(*c.state.error, base, source, {});

    // Union of keys in first-seen order, then every chunk's columns in that order.
    std::unordered_map<std::string, int> globalIndex;
    std::vector<std::string> keys;
    for (const auto &c : chunks) {
        for (const auto &k : c.keys) {
            if (globalIndex.emplace(k, int(keys.size())).second)
                keys.push_back(k);
        }
    }
    bool truncated = false;
    std::vector<ChunkState *> dataChunks;
    for (auto &c : chunks) {
        std::vector<ColumnAccumulator> cols;
        cols.reserve(keys.size());
        for (size_t g = 0; g < keys.size(); ++g) {
            cols.push_back(ColumnAccumulator::inferring(options.categoricalMaxDistinct, options.dateOrder));
            cols.back().padTo(c.state.rows);
        }
        for (size_t l = 0; l < c.keys.size(); ++l)
            cols[size_t(globalIndex.at(c.keys[l]))] = std::move(c.state.cols[l]);
        c.state.cols = std::move(cols);
        truncated = truncated || c.state.truncated;
        dataChunks.push_back(&c.state);
    }
    cx.globalIndex = &globalIndex;

    QStringList rawNames;
    for (const auto &k : keys)
        rawNames << QString::fromUtf8(k.data(), qsizetype(k.size()));

    AssemblyInput in;
    in.base = base;
    in.source = source;
    in.names = uniqueColumnNames(rawNames);
    in.chunks = std::move(dataChunks);
    in.threads = threads;
    in.replay = [&cx](ChunkState &ch, std::vector<ColumnAccumulator *> &targets) { replayJsonlChunk(cx, ch, targets); };
    Expected<Table> table = assembleTable(in, options, feedback, info);
    if (table && info) {
        info->format = FileFormat::Jsonl;
        info->delimiter = ',';
        info->header = true;
        info->bytes = bytes.size();
        info->truncated = truncated;
    }
    return table;
}

} // namespace keel::data::detail
