#include "serve/request.h"

#include "serve/endpoint.h"

#include <QJsonDocument>
#include <QJsonParseError>

#include <algorithm>
#include <charconv>
#include <limits>

namespace keel::serve {

namespace {

Error bodyError(const QString &message, const QString &field = {})
{
    return makeError(ErrorKind::InvalidInput, message, {}, -1, field);
}

/// The plain-body scanner. Every method returns false when the body leaves the plain form; the caller then reads it
/// with QJsonDocument, which decides whether it is valid JSON at all and names the error.
class Scanner {
public:
    explicit Scanner(const QByteArray &body) : m_p(body.constData()), m_begin(body.constData()), m_end(body.constData() + body.size()) {}

    qint32 offset() const { return qint32(m_p - m_begin); }
    void skipSpace()
    {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t'))
            ++m_p;
    }
    bool atEnd() const { return m_p == m_end; }
    bool take(char c)
    {
        skipSpace();
        if (m_p < m_end && *m_p == c) {
            ++m_p;
            return true;
        }
        return false;
    }
    bool peek(char c)
    {
        skipSpace();
        return m_p < m_end && *m_p == c;
    }
    /// A string of printable ASCII without escapes; `begin` and `size` locate its text (quotes excluded).
    bool plainString(qint32 &begin, qint32 &size)
    {
        if (!take('"'))
            return false;
        const char *start = m_p;
        while (m_p < m_end && *m_p != '"') {
            const auto c = static_cast<unsigned char>(*m_p);
            if (c < 0x20 || c >= 0x80 || c == '\\')
                return false;
            ++m_p;
        }
        if (m_p == m_end)
            return false;
        begin = qint32(start - m_begin);
        size = qint32(m_p - start);
        ++m_p;
        return true;
    }
    /// A number in JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, converted correctly rounded.
    bool number(double &value, qint32 &begin, qint32 &size)
    {
        skipSpace();
        const char *start = m_p;
        if (m_p < m_end && *m_p == '-')
            ++m_p;
        if (m_p == m_end || !isDigit(*m_p))
            return false;
        if (*m_p == '0')
            ++m_p;
        else
            while (m_p < m_end && isDigit(*m_p))
                ++m_p;
        if (m_p < m_end && *m_p == '.') {
            ++m_p;
            if (m_p == m_end || !isDigit(*m_p))
                return false;
            while (m_p < m_end && isDigit(*m_p))
                ++m_p;
        }
        if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
            ++m_p;
            if (m_p < m_end && (*m_p == '+' || *m_p == '-'))
                ++m_p;
            if (m_p == m_end || !isDigit(*m_p))
                return false;
            while (m_p < m_end && isDigit(*m_p))
                ++m_p;
        }
        const bool whole = std::find_if(start, m_p, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == m_p;
        const auto [ptr, ec] = std::from_chars(start, m_p, value);
        // Out of range: QJsonDocument's own reading decides (it keeps infinities, which the schema check refuses).
        if (ec != std::errc() || ptr != m_p)
            return false;
        if (whole && value == 0)
            value = 0;   // "-0" is the integer 0 to QJsonDocument, not the double -0
        begin = qint32(start - m_begin);
        size = qint32(m_p - start);
        return true;
    }
    bool literal(std::string_view word)
    {
        skipSpace();
        if (size_t(m_end - m_p) < word.size() || std::string_view(m_p, word.size()) != word)
            return false;
        m_p += word.size();
        return true;
    }

private:
    static bool isDigit(char c) { return c >= '0' && c <= '9'; }

    const char *m_p;
    const char *m_begin;
    const char *m_end;
};

} // namespace

std::optional<RequestRecords> RequestRecords::scan(const QByteArray &body)
{
    // Offsets are 32-bit; the server's body limit is far below that.
    if (body.size() >= std::numeric_limits<qint32>::max())
        return std::nullopt;
    RequestRecords out;
    out.m_fast = true;
    out.m_body = body;
    Scanner s(body);
    const auto name = [&](std::string_view expected, qint32 begin, qint32 size) {
        return std::string_view(body.constData() + begin, size_t(size)) == expected;
    };
    if (!s.take('{'))
        return std::nullopt;
    bool sawRecords = false;
    do {
        qint32 nb = 0, ns = 0;
        if (!s.plainString(nb, ns) || !s.take(':'))
            return std::nullopt;
        if (name("key", nb, ns) && !out.m_key) {
            qint32 vb = 0, vs = 0;
            if (!s.plainString(vb, vs))
                return std::nullopt;
            out.m_key = QString::fromLatin1(body.constData() + vb, vs);
        } else if (name("records", nb, ns) && !sawRecords) {
            sawRecords = true;
            if (!s.take('[') || s.peek(']'))
                return std::nullopt;
            do {
                if (!s.peek('{'))
                    return std::nullopt;
                const qint32 recordBegin = s.offset();
                s.take('{');
                const size_t first = out.m_members.size();
                out.m_recordStarts.push_back(qint32(first));
                if (!s.peek('}')) {
                    do {
                        Member m;
                        if (!s.plainString(m.name, m.nameSize) || !s.take(':'))
                            return std::nullopt;
                        // A repeated name: QJsonDocument's reading decides which value counts.
                        for (size_t j = first; j < out.m_members.size(); ++j)
                            if (out.m_members[j].nameSize == m.nameSize &&
                                std::string_view(body.constData() + out.m_members[j].name, size_t(m.nameSize)) ==
                                    std::string_view(body.constData() + m.name, size_t(m.nameSize)))
                                return std::nullopt;
                        if (s.peek('"')) {
                            if (!s.plainString(m.value, m.valueSize))
                                return std::nullopt;
                            m.kind = InputValue::Kind::String;
                        } else if (s.literal("null")) {
                            m.kind = InputValue::Kind::Null;
                        } else if (s.peek('t') || s.peek('f')) {
                            m.value = s.offset();
                            if (!s.literal("true") && !s.literal("false"))
                                return std::nullopt;
                            m.kind = InputValue::Kind::Bool;
                        } else if (!s.number(m.number, m.value, m.valueSize)) {
                            return std::nullopt;   // nested values, and anything malformed
                        } else {
                            m.kind = InputValue::Kind::Number;
                        }
                        out.m_members.push_back(m);
                    } while (s.take(','));
                }
                if (!s.take('}'))
                    return std::nullopt;
                out.m_recordSpans.emplace_back(recordBegin, s.offset() - recordBegin);
            } while (s.take(','));
            if (!s.take(']'))
                return std::nullopt;
        } else {
            return std::nullopt;   // an unknown or repeated member: named by the general reading
        }
    } while (s.take(','));
    if (!s.take('}') || !sawRecords)
        return std::nullopt;
    s.skipSpace();
    if (!s.atEnd())
        return std::nullopt;
    out.m_recordStarts.push_back(qint32(out.m_members.size()));
    return out;
}

Expected<RequestRecords> RequestRecords::parse(const QByteArray &body)
{
    if (auto fast = scan(body))
        return std::move(*fast);
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return bodyError(QStringLiteral("the body is not a JSON object: %1 at byte %2")
                             .arg(pe.error != QJsonParseError::NoError ? pe.errorString() : QStringLiteral("not an object"))
                             .arg(pe.offset));
    const QJsonObject o = doc.object();
    for (auto k = o.begin(); k != o.end(); ++k)
        if (k.key() != u"records" && k.key() != u"key")
            return bodyError(QStringLiteral("unknown field (expected records and optionally key)"), k.key());
    if (!o.value(QStringLiteral("records")).isArray())
        return bodyError(QStringLiteral("expected an array of records"), QStringLiteral("records"));
    RequestRecords out = fromJson(o.value(QStringLiteral("records")).toArray());
    if (out.m_records.isEmpty())
        return bodyError(QStringLiteral("no records to score"), QStringLiteral("records"));
    if (o.contains(QStringLiteral("key")))
        out.m_key = o.value(QStringLiteral("key")).toVariant().toString();
    return out;
}

RequestRecords RequestRecords::fromJson(const QJsonArray &records)
{
    RequestRecords out;
    out.m_records = records;
    return out;
}

InputValue RequestRecords::convert(const QJsonValue &v, QByteArray &storage)
{
    InputValue out;
    switch (v.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined: out.kind = InputValue::Kind::Null; break;
    case QJsonValue::Bool:
        out.kind = InputValue::Kind::Bool;
        out.boolean = v.toBool();
        break;
    case QJsonValue::Double:
        out.kind = InputValue::Kind::Number;
        out.number = v.toDouble();
        break;
    case QJsonValue::String:
        out.kind = InputValue::Kind::String;
        storage = v.toString().toUtf8();
        out.text = std::string_view(storage.constData(), size_t(storage.size()));
        break;
    case QJsonValue::Array:
    case QJsonValue::Object: out.kind = InputValue::Kind::Other; break;
    }
    return out;
}

void RequestRecords::appendRecordJson(QByteArray &out, qsizetype r) const
{
    if (!m_fast) {
        appendJson(out, QJsonValue(m_records[r]));
        return;
    }
    // Plain strings hold no escaped quotes, so every quote opens or closes one. Runs without whitespace between
    // tokens are copied whole (a compact body is one run).
    const auto [begin, size] = m_recordSpans[size_t(r)];
    const char *p = m_body.constData() + begin;
    const char *end = p + size;
    const char *run = p;
    bool inString = false;
    for (; p < end; ++p) {
        const char c = *p;
        if (c == '"') {
            inString = !inString;
        } else if (!inString && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
            out.append(run, p - run);
            run = p + 1;
        }
    }
    out.append(run, end - run);
}

} // namespace keel::serve
