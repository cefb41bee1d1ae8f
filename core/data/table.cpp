#include "data/table.h"

#include <QDateTime>
#include <QTimeZone>

#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>

namespace keel::data {

QString columnTypeName(ColumnType t)
{
    switch (t) {
    case ColumnType::Int64: return QStringLiteral("int64");
    case ColumnType::Float64: return QStringLiteral("float64");
    case ColumnType::Bool: return QStringLiteral("bool");
    case ColumnType::Datetime: return QStringLiteral("datetime");
    case ColumnType::Categorical: return QStringLiteral("categorical");
    case ColumnType::String: return QStringLiteral("string");
    }
    return QStringLiteral("string");
}

std::optional<ColumnType> columnTypeFromName(QStringView name)
{
    const QString n = name.toString().trimmed().toLower();
    if (n == u"int64" || n == u"int" || n == u"integer") return ColumnType::Int64;
    if (n == u"float64" || n == u"float" || n == u"double" || n == u"number") return ColumnType::Float64;
    if (n == u"bool" || n == u"boolean") return ColumnType::Bool;
    if (n == u"datetime" || n == u"date") return ColumnType::Datetime;
    if (n == u"categorical" || n == u"category") return ColumnType::Categorical;
    if (n == u"string" || n == u"text") return ColumnType::String;
    return std::nullopt;
}

bool isNumericType(ColumnType t)
{
    return t == ColumnType::Int64 || t == ColumnType::Float64 || t == ColumnType::Bool || t == ColumnType::Datetime;
}

Column::Column(QString name, ColumnType type, ColumnStorage storage)
    : m_name(std::move(name)), m_type(type), m_s(std::move(storage))
{
}

std::string_view Column::stringAt(qint64 row) const
{
    if (m_type == ColumnType::Categorical)
        return dictionaryAt(m_s.codes.view[size_t(row)]);
    const auto &off = m_s.offsets.view;
    const int64_t b = off[size_t(row)], e = off[size_t(row) + 1];
    return std::string_view(m_s.bytes.view.data() + b, size_t(e - b));
}

double Column::numberAt(qint64 row) const
{
    switch (m_type) {
    case ColumnType::Int64:
    case ColumnType::Datetime: return double(m_s.i64.view[size_t(row)]);
    case ColumnType::Float64: return m_s.f64.view[size_t(row)];
    case ColumnType::Bool: return m_s.u8.view[size_t(row)] ? 1.0 : 0.0;
    default: return std::nan("");
    }
}

qint64 Column::dictionarySize() const
{
    if (m_type != ColumnType::Categorical || m_s.offsets.empty())
        return 0;
    return qint64(m_s.offsets.size()) - 1;
}

std::string_view Column::dictionaryAt(qint64 code) const
{
    if (code < 0 || code >= dictionarySize())
        return {};
    const auto &off = m_s.offsets.view;
    return std::string_view(m_s.bytes.view.data() + off[size_t(code)], size_t(off[size_t(code) + 1] - off[size_t(code)]));
}

QString formatDatetime(int64_t ms)
{
    const QDateTime dt = QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::utc());
    if (ms % 86400000 == 0)
        return dt.date().toString(Qt::ISODate);
    if (ms % 1000 == 0)
        return dt.toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss"));
    return dt.toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzz"));
}

QString Column::displayAt(qint64 row) const
{
    if (isNull(row))
        return {};
    switch (m_type) {
    case ColumnType::Int64: return QString::number(int64At(row));
    case ColumnType::Float64: return QString::number(float64At(row), 'g', QLocale::FloatingPointShortest);
    case ColumnType::Bool: return boolAt(row) ? QStringLiteral("true") : QStringLiteral("false");
    case ColumnType::Datetime: return formatDatetime(datetimeAt(row));
    case ColumnType::Categorical:
    case ColumnType::String: {
        const auto s = stringAt(row);
        return QString::fromUtf8(s.data(), qsizetype(s.size()));
    }
    }
    return {};
}

Table::Table(std::vector<Column> columns) : m_columns(std::move(columns))
{
    m_rows = m_columns.empty() ? 0 : m_columns.front().size();
}

int Table::indexOf(QStringView name) const
{
    for (size_t i = 0; i < m_columns.size(); ++i)
        if (m_columns[i].name() == name)
            return int(i);
    return -1;
}

std::vector<Field> Table::schema() const
{
    std::vector<Field> out;
    out.reserve(m_columns.size());
    for (const auto &c : m_columns)
        out.push_back({c.name(), c.type()});
    return out;
}

QStringList Table::columnNames() const
{
    QStringList out;
    for (const auto &c : m_columns)
        out << c.name();
    return out;
}

struct ColumnBuilder::DictIndex {
    std::unordered_map<std::string, int32_t> codes;
};

void ColumnBuilder::markValid(bool valid)
{
    const qint64 row = m_rows;
    if (!valid) {
        if (m_validity.empty() && row > 0)
            m_validity.assign(size_t((row + 7) / 8), 0xFF);
        ++m_nulls;
    }
    if (!m_validity.empty() || !valid) {
        if (size_t(row >> 3) >= m_validity.size())
            m_validity.push_back(0);
        if (valid)
            m_validity[size_t(row >> 3)] |= uint8_t(1u << (row & 7));
        else
            m_validity[size_t(row >> 3)] &= uint8_t(~(1u << (row & 7)));
    }
    ++m_rows;
}

void ColumnBuilder::appendNull()
{
    switch (m_type) {
    case ColumnType::Int64:
    case ColumnType::Datetime: m_i64.push_back(0); break;
    case ColumnType::Float64: m_f64.push_back(0.0); break;
    case ColumnType::Bool: m_u8.push_back(0); break;
    case ColumnType::Categorical: m_codes.push_back(0); break;
    case ColumnType::String:
        if (m_offsets.empty())
            m_offsets.push_back(0);
        m_offsets.push_back(int64_t(m_bytes.size()));
        break;
    }
    markValid(false);
}

void ColumnBuilder::appendInt64(int64_t v) { m_i64.push_back(v); markValid(true); }
void ColumnBuilder::appendFloat64(double v) { m_f64.push_back(v); markValid(true); }
void ColumnBuilder::appendBool(bool v) { m_u8.push_back(v ? 1 : 0); markValid(true); }
void ColumnBuilder::appendDatetime(int64_t ms) { m_i64.push_back(ms); markValid(true); }

void ColumnBuilder::appendString(std::string_view s)
{
    if (m_offsets.empty())
        m_offsets.push_back(0);
    if (m_type == ColumnType::Categorical) {
        // Small dictionaries (a served record's columns hold one value) are searched in place; the hash index is
        // built once a column has more distinct values than a short scan is worth.
        constexpr int32_t kScanned = 16;
        const auto size = int32_t(m_offsets.size() - 1);
        int32_t code = -1;
        if (!m_dict) {
            for (int32_t c = 0; c < size && code < 0; ++c)
                if (std::string_view(m_bytes.data() + m_offsets[size_t(c)], size_t(m_offsets[size_t(c) + 1] - m_offsets[size_t(c)])) == s)
                    code = c;
            if (code < 0 && size >= kScanned) {
                m_dict = std::make_shared<DictIndex>();
                for (int32_t c = 0; c < size; ++c)
                    m_dict->codes.emplace(std::string(m_bytes.data() + m_offsets[size_t(c)], size_t(m_offsets[size_t(c) + 1] - m_offsets[size_t(c)])), c);
            }
        }
        if (m_dict)
            code = m_dict->codes.try_emplace(std::string(s), size).first->second;
        if (code < 0 || code == size) {
            code = size;
            m_bytes.insert(m_bytes.end(), s.begin(), s.end());
            m_offsets.push_back(int64_t(m_bytes.size()));
        }
        m_codes.push_back(code);
    } else {
        m_bytes.insert(m_bytes.end(), s.begin(), s.end());
        m_offsets.push_back(int64_t(m_bytes.size()));
    }
    markValid(true);
}

Column ColumnBuilder::finish(const QString &name)
{
    ColumnStorage s;
    s.rows = m_rows;
    s.nullCount = m_nulls;
    switch (m_type) {
    case ColumnType::Int64:
    case ColumnType::Datetime: s.i64 = Buffer<int64_t>::fromVector(std::move(m_i64)); break;
    case ColumnType::Float64: s.f64 = Buffer<double>::fromVector(std::move(m_f64)); break;
    case ColumnType::Bool: s.u8 = Buffer<uint8_t>::fromVector(std::move(m_u8)); break;
    case ColumnType::Categorical:
        s.codes = Buffer<int32_t>::fromVector(std::move(m_codes));
        [[fallthrough]];
    case ColumnType::String:
        if (m_offsets.empty())
            m_offsets.push_back(0);
        s.offsets = Buffer<int64_t>::fromVector(std::move(m_offsets));
        s.bytes = Buffer<char>::fromVector(std::move(m_bytes));
        break;
    }
    if (m_nulls > 0)
        s.validity = Buffer<uint8_t>::fromVector(std::move(m_validity));
    *this = ColumnBuilder(m_type);   // allocates nothing
    return Column(name, m_type, std::move(s));
}

namespace {

template <class T>
Buffer<T> concatBuffers(const std::vector<Column> &parts, Buffer<T> ColumnStorage::*member)
{
    size_t total = 0;
    for (const auto &p : parts)
        total += (p.storage().*member).size();
    std::vector<T> out;
    out.reserve(total);
    for (const auto &p : parts) {
        const auto &v = (p.storage().*member).view;
        out.insert(out.end(), v.begin(), v.end());
    }
    return Buffer<T>::fromVector(std::move(out));
}

} // namespace

Column concatColumns(const std::vector<Column> &parts)
{
    if (parts.empty())
        return {};
    if (parts.size() == 1)
        return parts.front();
    const ColumnType type = parts.front().type();
    ColumnStorage s;
    for (const auto &p : parts) {
        s.rows += p.size();
        s.nullCount += p.nullCount();
    }
    switch (type) {
    case ColumnType::Int64:
    case ColumnType::Datetime: s.i64 = concatBuffers(parts, &ColumnStorage::i64); break;
    case ColumnType::Float64: s.f64 = concatBuffers(parts, &ColumnStorage::f64); break;
    case ColumnType::Bool: s.u8 = concatBuffers(parts, &ColumnStorage::u8); break;
    case ColumnType::String: {
        std::vector<int64_t> offsets{0};
        offsets.reserve(size_t(s.rows) + 1);
        std::vector<char> bytes;
        for (const auto &p : parts) {
            const auto &off = p.storage().offsets.view;
            const auto &b = p.storage().bytes.view;
            const int64_t base = int64_t(bytes.size());
            for (size_t i = 1; i < off.size(); ++i)
                offsets.push_back(base + off[i] - off[0]);
            bytes.insert(bytes.end(), b.begin() + off.front(), b.begin() + off.back());
        }
        s.offsets = Buffer<int64_t>::fromVector(std::move(offsets));
        s.bytes = Buffer<char>::fromVector(std::move(bytes));
        break;
    }
    case ColumnType::Categorical: {
        std::unordered_map<std::string_view, int32_t> merged;
        std::vector<int64_t> offsets{0};
        std::vector<char> bytes;
        std::vector<std::string> keys; // stable storage for merged keys
        std::vector<int32_t> codes;
        codes.reserve(size_t(s.rows));
        for (const auto &p : parts) {
            std::vector<int32_t> remap(size_t(p.dictionarySize()));
            for (qint64 c = 0; c < p.dictionarySize(); ++c) {
                const std::string_view v = p.dictionaryAt(c);
                auto it = merged.find(v);
                if (it == merged.end()) {
                    const int32_t code = int32_t(offsets.size() - 1);
                    bytes.insert(bytes.end(), v.begin(), v.end());
                    offsets.push_back(int64_t(bytes.size()));
                    // Key views point into the part's dictionary, which outlives this function's use.
                    it = merged.emplace(v, code).first;
                }
                remap[size_t(c)] = it->second;
            }
            for (int32_t code : p.storage().codes.view)
                codes.push_back(remap.empty() ? 0 : remap[size_t(code)]);
        }
        s.codes = Buffer<int32_t>::fromVector(std::move(codes));
        s.offsets = Buffer<int64_t>::fromVector(std::move(offsets));
        s.bytes = Buffer<char>::fromVector(std::move(bytes));
        break;
    }
    }
    if (s.nullCount > 0) {
        std::vector<uint8_t> bits(size_t((s.rows + 7) / 8), 0);
        qint64 row = 0;
        for (const auto &p : parts) {
            for (qint64 i = 0; i < p.size(); ++i, ++row)
                if (p.isValid(i))
                    bits[size_t(row >> 3)] |= uint8_t(1u << (row & 7));
        }
        s.validity = Buffer<uint8_t>::fromVector(std::move(bits));
    }
    return Column(parts.front().name(), type, std::move(s));
}

void ColumnBuilder::appendFrom(const Column &c, qint64 row)
{
    if (c.isNull(row)) {
        appendNull();
        return;
    }
    switch (c.type()) {
    case ColumnType::Int64:
        if (m_type == ColumnType::Float64)
            appendFloat64(double(c.int64At(row)));
        else
            appendInt64(c.int64At(row));
        break;
    case ColumnType::Float64: appendFloat64(c.float64At(row)); break;
    case ColumnType::Bool: appendBool(c.boolAt(row)); break;
    case ColumnType::Datetime: appendDatetime(c.datetimeAt(row)); break;
    case ColumnType::Categorical:
    case ColumnType::String: appendString(c.stringAt(row)); break;
    }
}

Table Table::rows(std::span<const qint64> rows) const
{
    std::vector<Column> cols;
    cols.reserve(m_columns.size());
    for (const Column &c : m_columns) {
        ColumnBuilder b(c.type());
        for (qint64 r : rows)
            b.appendFrom(c, r);
        cols.push_back(b.finish(c.name()));
    }
    return Table(std::move(cols));
}

Expected<Table> selectRows(const Table &t, std::span<const qint64> rows)
{
    for (qint64 r : rows)
        if (r < 0 || r >= t.rowCount())
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("row %1 is outside the table (rows 1 to %2)").arg(r + 1).arg(t.rowCount()));
    return t.rows(rows);
}

} // namespace keel::data
