#include "tableorder.h"

#include "data/profile.h"

#include <QLocale>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

namespace keel::ui {

using data::Column;
using data::ColumnType;

namespace {

constexpr qint64 kCheckEvery = qint64(1) << 16;


uint64_t floatKey(double d)
{
    const auto u = std::bit_cast<uint64_t>(d);
    return (u >> 63) ? ~u : (u | (uint64_t(1) << 63));
}

uint64_t intKey(int64_t v) { return uint64_t(v) ^ (uint64_t(1) << 63); }

bool isMissingCell(const Column &c, qint64 row)
{
    return c.isNull(row) || (c.type() == ColumnType::Float64 && std::isnan(c.float64At(row)));
}

/// Stable LSD radix sort of idx by keys (8-bit digits, only as many passes as the key range needs).
Status radixSort(std::vector<uint64_t> &keys, std::vector<uint32_t> &idx, Feedback *feedback)
{
    const size_t n = keys.size();
    if (n < 2)
        return Status::ok();
    const auto [minIt, maxIt] = std::minmax_element(keys.begin(), keys.end());
    const uint64_t minKey = *minIt;
    const uint64_t range = *maxIt - minKey;
    int passes = 0;
    while (passes < 8 && (range >> (8 * passes)) != 0)
        ++passes;
    if (passes == 0)
        return Status::ok();
    for (auto &k : keys)
        k -= minKey;
    std::vector<uint64_t> keys2(n);
    std::vector<uint32_t> idx2(n);
    for (int p = 0; p < passes; ++p) {
        reportProgress(feedback, p, passes, QStringLiteral("sort"));
        if (isCancelled(feedback))
            return cancelledError();
        const int shift = 8 * p;
        std::array<size_t, 256> counts{};
        for (size_t i = 0; i < n; ++i)
            ++counts[(keys[i] >> shift) & 0xff];
        if (std::find(counts.begin(), counts.end(), n) != counts.end())
            continue; // every key has the same digit here
        size_t sum = 0;
        for (auto &c : counts) {
            const size_t v = c;
            c = sum;
            sum += v;
        }
        for (size_t i = 0; i < n; ++i) {
            const size_t pos = counts[(keys[i] >> shift) & 0xff]++;
            keys2[pos] = keys[i];
            idx2[pos] = idx[i];
        }
        keys.swap(keys2);
        idx.swap(idx2);
    }
    reportProgress(feedback, passes, passes, QStringLiteral("sort"));
    return Status::ok();
}

/// Stable sort of idx by text, in chunks (progress, cancel) merged pairwise.
Status textSort(const Column &c, std::vector<uint32_t> &idx, bool descending, Feedback *feedback)
{
    const auto less = [&c, descending](uint32_t a, uint32_t b) {
        return descending ? c.stringAt(b) < c.stringAt(a) : c.stringAt(a) < c.stringAt(b);
    };
    const size_t n = idx.size();
    const size_t chunk = std::max<size_t>(size_t(1) << 16, n / 32 + 1);
    const size_t chunks = (n + chunk - 1) / chunk;
    size_t rounds = 0;
    for (size_t w = chunk; w < n; w *= 2)
        ++rounds;
    const qint64 steps = qint64(chunks + rounds);
    qint64 step = 0;
    for (size_t b = 0; b < n; b += chunk) {
        if (isCancelled(feedback))
            return cancelledError();
        std::stable_sort(idx.begin() + ptrdiff_t(b), idx.begin() + ptrdiff_t(std::min(n, b + chunk)), less);
        reportProgress(feedback, ++step, steps, QStringLiteral("sort"));
    }
    for (size_t w = chunk; w < n; w *= 2) {
        if (isCancelled(feedback))
            return cancelledError();
        for (size_t b = 0; b + w < n; b += 2 * w)
            std::inplace_merge(idx.begin() + ptrdiff_t(b), idx.begin() + ptrdiff_t(b + w),
                               idx.begin() + ptrdiff_t(std::min(n, b + 2 * w)), less);
        reportProgress(feedback, ++step, steps, QStringLiteral("sort"));
    }
    return Status::ok();
}

/// Case-insensitive containment for text cells; ASCII needles are matched on the UTF-8 bytes directly.
class TextContains {
public:
    explicit TextContains(const QString &needle) : m_needle(needle)
    {
        const QByteArray utf8 = needle.toUtf8();
        m_ascii = std::all_of(utf8.begin(), utf8.end(), [](char ch) { return uchar(ch) < 0x80; });
        for (char ch : utf8)
            m_lower.push_back(asciiLower(ch));
    }
    bool operator()(std::string_view s) const
    {
        if (m_lower.empty())
            return true;
        if (m_ascii) {
            const auto it = std::search(s.begin(), s.end(), m_lower.begin(), m_lower.end(),
                                        [](char a, char b) { return asciiLower(a) == b; });
            return it != s.end();
        }
        return QString::fromUtf8(s.data(), qsizetype(s.size())).contains(m_needle, Qt::CaseInsensitive);
    }

private:
    static char asciiLower(char ch) { return (ch >= 'A' && ch <= 'Z') ? char(ch - 'A' + 'a') : ch; }
    QString m_needle;
    std::string m_lower;
    bool m_ascii = true;
};

using RowPredicate = std::function<bool(qint64)>;

template <class T>
bool compareWith(RowFilter::Op op, const T &a, const T &b)
{
    switch (op) {
    case RowFilter::Op::Equals: return a == b;
    case RowFilter::Op::NotEquals: return !(a == b);
    case RowFilter::Op::Less: return a < b;
    case RowFilter::Op::LessOrEqual: return a <= b;
    case RowFilter::Op::Greater: return a > b;
    case RowFilter::Op::GreaterOrEqual: return a >= b;
    default: return false;
    }
}

/// The numeric value of `text` for comparisons with a column of type `type`.
std::optional<double> parseNumberFor(ColumnType type, const QString &text)
{
    const QString t = text.trimmed();
    if (type == ColumnType::Datetime) {
        if (auto ms = data::parseIsoDatetime(t))
            return double(*ms);
        return std::nullopt;
    }
    if (type == ColumnType::Bool) {
        if (t.compare(QLatin1String("true"), Qt::CaseInsensitive) == 0 || t == u"1")
            return 1.0;
        if (t.compare(QLatin1String("false"), Qt::CaseInsensitive) == 0 || t == u"0")
            return 0.0;
        return std::nullopt;
    }
    bool ok = false;
    const double v = QLocale::c().toDouble(t, &ok);
    if (ok)
        return v;
    return std::nullopt;
}

Expected<RowPredicate> makePredicate(const Column &c, const RowFilter &f)
{
    using Op = RowFilter::Op;
    const Column *col = &c;
    if (f.op == Op::IsMissing)
        return RowPredicate([col](qint64 r) { return isMissingCell(*col, r); });
    if (f.op == Op::IsPresent)
        return RowPredicate([col](qint64 r) { return !isMissingCell(*col, r); });

    switch (c.type()) {
    case ColumnType::Int64:
    case ColumnType::Float64:
    case ColumnType::Bool:
    case ColumnType::Datetime: {
        if (f.op == Op::Contains) {
            const QString needle = f.value;
            return RowPredicate([col, needle](qint64 r) {
                return !isMissingCell(*col, r) && col->displayAt(r).contains(needle, Qt::CaseInsensitive);
            });
        }
        bool isInt = false;
        const qlonglong asInt = f.value.trimmed().toLongLong(&isInt);
        if (c.type() == ColumnType::Int64 && isInt) {
            const Op op = f.op;
            return RowPredicate([col, op, asInt](qint64 r) {
                return !col->isNull(r) && compareWith<int64_t>(op, col->int64At(r), int64_t(asInt));
            });
        }
        const auto number = parseNumberFor(c.type(), f.value);
        if (!number) {
            const QString expected = c.type() == ColumnType::Datetime ? QStringLiteral("an ISO date or date-time")
                : c.type() == ColumnType::Bool                        ? QStringLiteral("true or false")
                                                                      : QStringLiteral("a number");
            return makeError(QStringLiteral("'%1' is not %2").arg(f.value, expected), {}, -1, c.name());
        }
        const double v = *number;
        const Op op = f.op;
        return RowPredicate([col, op, v](qint64 r) {
            return !isMissingCell(*col, r) && compareWith<double>(op, col->numberAt(r), v);
        });
    }
    case ColumnType::Categorical: {
        auto match = std::make_shared<std::vector<char>>(size_t(c.dictionarySize()));
        const QByteArray utf8 = f.value.toUtf8();
        const std::string_view value(utf8.constData(), size_t(utf8.size()));
        const TextContains contains(f.value);
        for (qint64 code = 0; code < c.dictionarySize(); ++code) {
            const std::string_view s = c.dictionaryAt(code);
            (*match)[size_t(code)] = f.op == Op::Contains ? contains(s) : compareWith(f.op, s, value);
        }
        return RowPredicate([col, match](qint64 r) { return !col->isNull(r) && (*match)[size_t(col->codeAt(r))]; });
    }
    case ColumnType::String: {
        if (f.op == Op::Contains) {
            const TextContains contains(f.value);
            return RowPredicate([col, contains](qint64 r) { return !col->isNull(r) && contains(col->stringAt(r)); });
        }
        const std::string value = f.value.toStdString();
        const Op op = f.op;
        return RowPredicate([col, op, value](qint64 r) {
            return !col->isNull(r) && compareWith(op, col->stringAt(r), std::string_view(value));
        });
    }
    }
    return makeError(QStringLiteral("unsupported column type"), {}, -1, c.name());
}

/// Whether a numeric column's displayed text could contain `needle` at all (saves formatting every cell).
bool numericCouldContain(ColumnType type, const QString &needle)
{
    QString allowed = QStringLiteral("0123456789.-+e");
    if (type == ColumnType::Float64)
        allowed += QStringLiteral("infa");
    if (type == ColumnType::Bool)
        allowed = QStringLiteral("truefals");
    if (type == ColumnType::Datetime)
        allowed = QStringLiteral("0123456789-:.t");
    for (QChar ch : needle)
        if (!allowed.contains(ch.toLower()))
            return false;
    return true;
}

} // namespace

QString filterOpLabel(RowFilter::Op op)
{
    switch (op) {
    case RowFilter::Op::Contains: return QStringLiteral("contains");
    case RowFilter::Op::Equals: return QStringLiteral("=");
    case RowFilter::Op::NotEquals: return QStringLiteral("\u2260");
    case RowFilter::Op::Less: return QStringLiteral("<");
    case RowFilter::Op::LessOrEqual: return QStringLiteral("\u2264");
    case RowFilter::Op::Greater: return QStringLiteral(">");
    case RowFilter::Op::GreaterOrEqual: return QStringLiteral("\u2265");
    case RowFilter::Op::IsMissing: return QStringLiteral("is missing");
    case RowFilter::Op::IsPresent: return QStringLiteral("is present");
    }
    return {};
}

Expected<RowIndex> sortRows(const data::Table &table, int column, Qt::SortOrder order, Feedback *feedback)
{
    if (column < 0 || column >= table.columnCount())
        return makeError(QStringLiteral("no column %1 to sort by").arg(column));
    const qint64 n = table.rowCount();
    if (n > qint64(std::numeric_limits<uint32_t>::max()))
        return makeError(QStringLiteral("tables of more than 4,294,967,295 rows cannot be sorted in the workbench"));
    const Column &c = table.column(column);
    const bool descending = order == Qt::DescendingOrder;

    std::vector<uint32_t> idx;
    std::vector<qint64> nanRows, missingRows;
    idx.reserve(size_t(n - c.nullCount()));
    reportProgress(feedback, 0, 1, QStringLiteral("sort"));

    if (c.type() == ColumnType::String) {
        for (qint64 r = 0; r < n; ++r) {
            if (c.isNull(r))
                missingRows.push_back(r);
            else
                idx.push_back(uint32_t(r));
        }
        if (Status s = textSort(c, idx, descending, feedback); !s)
            return s.error();
    } else {
        std::vector<uint64_t> rank;
        if (c.type() == ColumnType::Categorical) {
            std::vector<int32_t> codes(size_t(c.dictionarySize()));
            for (size_t i = 0; i < codes.size(); ++i)
                codes[i] = int32_t(i);
            std::sort(codes.begin(), codes.end(),
                      [&c](int32_t a, int32_t b) { return c.dictionaryAt(a) < c.dictionaryAt(b); });
            rank.resize(codes.size());
            for (size_t i = 0; i < codes.size(); ++i)
                rank[size_t(codes[i])] = i;
        }
        std::vector<uint64_t> keys;
        keys.reserve(idx.capacity());
        const auto &s = c.storage();
        for (qint64 r = 0; r < n; ++r) {
            if ((r & (kCheckEvery - 1)) == 0 && isCancelled(feedback))
                return cancelledError();
            if (c.isNull(r)) {
                missingRows.push_back(r);
                continue;
            }
            uint64_t key = 0;
            switch (c.type()) {
            case ColumnType::Int64:
            case ColumnType::Datetime: key = intKey(s.i64[size_t(r)]); break;
            case ColumnType::Bool: key = s.u8[size_t(r)] ? 1 : 0; break;
            case ColumnType::Categorical: key = rank[size_t(s.codes[size_t(r)])]; break;
            case ColumnType::Float64: {
                const double v = s.f64[size_t(r)];
                if (std::isnan(v)) {
                    nanRows.push_back(r);
                    continue;
                }
                key = floatKey(v);
                break;
            }
            case ColumnType::String: break;
            }
            keys.push_back(descending ? ~key : key);
            idx.push_back(uint32_t(r));
        }
        if (Status st = radixSort(keys, idx, feedback); !st)
            return st.error();
    }

    RowIndex out;
    out.reserve(size_t(n));
    out.insert(out.end(), idx.begin(), idx.end());
    out.insert(out.end(), nanRows.begin(), nanRows.end());
    out.insert(out.end(), missingRows.begin(), missingRows.end());
    return out;
}

Expected<RowIndex> filterRows(const data::Table &table, const RowIndex *rows, const RowFilter &filter,
                              Feedback *feedback)
{
    if (filter.column < 0 || filter.column >= table.columnCount())
        return makeError(QStringLiteral("no column %1 to filter on").arg(filter.column));
    auto pred = makePredicate(table.column(filter.column), filter);
    if (!pred)
        return pred.error();
    const qint64 n = rows ? qint64(rows->size()) : table.rowCount();
    RowIndex out;
    for (qint64 p = 0; p < n; ++p) {
        if ((p & (kCheckEvery - 1)) == 0) {
            if (isCancelled(feedback))
                return cancelledError();
            reportProgress(feedback, p, n, QStringLiteral("filter"));
        }
        const qint64 r = rows ? (*rows)[size_t(p)] : p;
        if ((*pred)(r))
            out.push_back(r);
    }
    reportProgress(feedback, n, n, QStringLiteral("filter"));
    out.shrink_to_fit();
    return out;
}

Expected<std::optional<FoundCell>> findValue(const data::Table &table, const RowIndex *rows, qint64 fromPosition,
                                             int column, const QString &text, Feedback *feedback)
{
    if (text.isEmpty())
        return std::optional<FoundCell>();
    std::vector<std::pair<int, RowPredicate>> matchers;
    for (int c = 0; c < table.columnCount(); ++c) {
        if (column >= 0 && c != column)
            continue;
        const Column &col = table.column(c);
        if (isNumericType(col.type()) && !numericCouldContain(col.type(), text))
            continue;
        auto pred = makePredicate(col, RowFilter{c, RowFilter::Op::Contains, text});
        if (pred)
            matchers.emplace_back(c, std::move(*pred));
    }
    const qint64 n = rows ? qint64(rows->size()) : table.rowCount();
    if (matchers.empty() || n == 0)
        return std::optional<FoundCell>();
    const qint64 start = std::clamp<qint64>(fromPosition, 0, n - 1);
    for (qint64 k = 0; k < n; ++k) {
        if ((k & (kCheckEvery - 1)) == 0) {
            if (isCancelled(feedback))
                return cancelledError();
            reportProgress(feedback, k, n, QStringLiteral("find"));
        }
        const qint64 p = (start + k) % n;
        const qint64 r = rows ? (*rows)[size_t(p)] : p;
        for (const auto &[c, pred] : matchers)
            if (pred(r))
                return std::optional<FoundCell>(FoundCell{p, c});
    }
    return std::optional<FoundCell>();
}

} // namespace keel::ui
