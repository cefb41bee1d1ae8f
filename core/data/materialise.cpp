#include "data/materialise.h"

#include "util/directwriter.h"
#include "util/fileutil.h"
#include "util/hash.h"

#include <QDir>
#include <QFileInfo>

#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <new>

namespace keel::data {

static_assert(std::endian::native == std::endian::little, "materialisation files are little-endian");

namespace {

constexpr char kMagic[8] = {'K', 'E', 'E', 'L', 'T', 'A', 'B', '1'};
constexpr qint64 kPreamble = 16; // magic + version + header length
constexpr qint64 kAlign = 64;
constexpr int kBuffers = 7;
/// Bytes per value of each buffer, in file order (i64, f64, u8, codes, offsets, bytes, validity): the alignment a
/// buffer's offset must have. The writer places small buffers on 64 bytes, large ones where they sit in a page.
constexpr std::array<quint64, kBuffers> kElementSize = {8, 8, 1, 4, 8, 1, 1};

qint64 alignUp(qint64 v) { return (v + kAlign - 1) / kAlign * kAlign; }

/// The seven storage buffers of a column as raw byte spans, in file order.
std::array<std::pair<const char *, qint64>, kBuffers> rawBuffers(const ColumnStorage &s)
{
    auto raw = [](const auto &b) {
        return std::pair<const char *, qint64>(reinterpret_cast<const char *>(b.view.data()),
                                               qint64(b.view.size_bytes()));
    };
    return {raw(s.i64), raw(s.f64), raw(s.u8), raw(s.codes), raw(s.offsets), raw(s.bytes), raw(s.validity)};
}

template <class T>
void put(QByteArray &out, T v)
{
    out.append(reinterpret_cast<const char *>(&v), sizeof(T));
}

/// Bounds-checked reader over the header bytes.
class HeaderReader {
public:
    HeaderReader(const char *p, qint64 n) : m_p(p), m_end(p + n) {}
    template <class T>
    bool get(T &v)
    {
        if (m_end - m_p < qint64(sizeof(T)))
            return false;
        std::memcpy(&v, m_p, sizeof(T));
        m_p += sizeof(T);
        return true;
    }
    bool bytes(qint64 n, const char *&out)
    {
        if (n < 0 || m_end - m_p < n)
            return false;
        out = m_p;
        m_p += n;
        return true;
    }
    bool atEnd() const { return m_p == m_end; }

private:
    const char *m_p;
    const char *m_end;
};

template <class T>
void borrowInto(Buffer<T> &buffer, const char *data, quint64 bytes, const std::shared_ptr<const void> &owner)
{
    if (bytes == 0)
        return;
    buffer = Buffer<T>::borrow(std::span<const T>(reinterpret_cast<const T *>(data), size_t(bytes / sizeof(T))), owner);
}

Status writeMaterialisationImpl(const Table &table, const QString &path)
{
    const qint64 rows = table.rowCount();
    qint64 headerLen = 4 + 8;
    std::vector<QByteArray> names;
    for (const Column &c : table.columns()) {
        if (c.size() != rows)
            return makeError(QStringLiteral("column has %1 rows, the table %2").arg(c.size()).arg(rows), path, -1,
                             c.name());
        const auto &v = c.storage().validity;
        if (!v.empty() && qint64(v.size()) < (rows + 7) / 8)
            return makeError(QStringLiteral("validity mask is shorter than the column"), path, -1, c.name());
        names.push_back(c.name().toUtf8());
        headerLen += 4 + names.back().size() + 1 + 8 + kBuffers * 16;
    }

    // Place buffers after the header and its checksum, each 64-byte aligned, except that a large buffer is placed
    // at the offset within a 4 KiB page it has in memory (so naturally aligned, as its memory is), so the writer
    // sends it to the disk from where it is, without a copy. The parser's value regions are page-aligned; a file
    // with a header has its values from the region's second row on.
    const auto placeAt = [](qint64 cursor, const char *data, qint64 len) {
        const qint64 at = alignUp(cursor);
        return len < DirectWriter::kInPlaceMinimum ? at : at + DirectWriter::gapToPageOffset(data, at);
    };
    qint64 cursor = kPreamble + headerLen + 32;
    QByteArray header;
    header.reserve(headerLen);
    put<quint32>(header, quint32(table.columnCount()));
    put<qint64>(header, rows);
    struct Placed {
        const char *data;
        qint64 length;
        qint64 offset;
    };
    std::vector<Placed> placed;
    for (int i = 0; i < table.columnCount(); ++i) {
        const Column &c = table.column(i);
        put<quint32>(header, quint32(names[size_t(i)].size()));
        header.append(names[size_t(i)]);
        put<quint8>(header, quint8(c.type()));
        put<qint64>(header, c.nullCount());
        auto raw = rawBuffers(c.storage());
        if (raw[6].second > 0)
            raw[6].second = (rows + 7) / 8;
        for (const auto &[data, len] : raw) {
            const qint64 at = len > 0 ? placeAt(cursor, data, len) : 0;
            put<quint64>(header, quint64(at));
            put<quint64>(header, quint64(len));
            if (len > 0) {
                placed.push_back({data, len, at});
                cursor = at + len;
            }
        }
    }
    const Sha256 digest = sha256(header.constData(), size_t(header.size()));

    // Through O_DIRECT (no page-cache copy, no dirty-page flush at the fsync), into a file renamed into place.
    return writeFileAtomically(path, [&](DirectWriter &out) -> Status {
        QByteArray preamble(kMagic, sizeof(kMagic));
        put<quint32>(preamble, kMaterialisationVersion);
        put<quint32>(preamble, quint32(header.size()));
        Status st = out.write(preamble.constData(), preamble.size());
        if (st)
            st = out.write(header.constData(), header.size());
        if (st)
            st = out.write(reinterpret_cast<const char *>(digest.data()), qint64(digest.size()));
        for (const Placed &b : placed) {
            if (!st)
                break;
            st = out.writeZeros(b.offset - out.size());   // up to 63 + 4095 bytes before a buffer sent in place
            if (st)
                st = out.writeInPlace(b.data, b.length);   // the table outlives the writer
        }
        return st;
    });
}

} // namespace

Status writeMaterialisation(const Table &table, const QString &path)
{
    try {
        return writeMaterialisationImpl(table, path);
    } catch (const std::bad_alloc &) {
        return makeError(QStringLiteral("out of memory"), path);
    }
}

Expected<Table> openMaterialisation(const QString &path)
{
    if (!QFileInfo::exists(path))
        return makeError(QStringLiteral("file not found"), path);
    Expected<MappedFile> mapped = mapFile(path);
    if (!mapped)
        return mapped.error().withFile(path);
    const char *base = mapped->data;
    const qint64 size = mapped->size;
    auto corrupt = [&](const QString &why, const QString &field = {}) {
        return makeError(QStringLiteral("not a valid table cache: %1").arg(why), path, -1, field);
    };

    if (size < kPreamble + 32 || std::memcmp(base, kMagic, sizeof(kMagic)) != 0)
        return corrupt(QStringLiteral("wrong magic"));
    quint32 version = 0, headerLen = 0;
    std::memcpy(&version, base + 8, 4);
    std::memcpy(&headerLen, base + 12, 4);
    if (version != kMaterialisationVersion)
        return corrupt(QStringLiteral("format version %1, expected %2").arg(version).arg(kMaterialisationVersion));
    if (qint64(headerLen) > size - kPreamble - 32)
        return corrupt(QStringLiteral("file is truncated"));
    const char *header = base + kPreamble;
    const Sha256 digest = sha256(header, headerLen);
    if (std::memcmp(digest.data(), header + headerLen, digest.size()) != 0)
        return corrupt(QStringLiteral("header checksum mismatch"));
    const qint64 dataStart = kPreamble + qint64(headerLen) + 32;

    HeaderReader r(header, headerLen);
    quint32 columnCount = 0;
    qint64 rows = 0;
    if (!r.get(columnCount) || !r.get(rows) || rows < 0)
        return corrupt(QStringLiteral("bad header"));
    if (qint64(columnCount) > qint64(headerLen) / (4 + 1 + 8 + kBuffers * 16))
        return corrupt(QStringLiteral("bad column count"));

    const std::shared_ptr<const void> owner = mapped->owner;
    std::vector<Column> columns;
    columns.reserve(columnCount);
    for (quint32 i = 0; i < columnCount; ++i) {
        quint32 nameLen = 0;
        const char *name = nullptr;
        quint8 typeByte = 0;
        qint64 nullCount = 0;
        if (!r.get(nameLen) || !r.bytes(nameLen, name) || !r.get(typeByte) || !r.get(nullCount))
            return corrupt(QStringLiteral("bad header"));
        const QString colName = QString::fromUtf8(name, qsizetype(nameLen));
        if (typeByte > quint8(ColumnType::String))
            return corrupt(QStringLiteral("unknown column type %1").arg(typeByte), colName);
        const auto type = ColumnType(typeByte);
        if (nullCount < 0 || nullCount > rows)
            return corrupt(QStringLiteral("bad null count"), colName);

        std::array<std::pair<quint64, quint64>, kBuffers> spans{};
        for (size_t b = 0; b < spans.size(); ++b) {
            auto &[off, len] = spans[b];
            if (!r.get(off) || !r.get(len))
                return corrupt(QStringLiteral("bad header"));
            if (len == 0)
                continue;
            if (off < quint64(dataStart) || off > quint64(size) || len > quint64(size) - off)
                return corrupt(QStringLiteral("buffer lies outside the file (truncated?)"), colName);
            if (off % kElementSize[b] != 0)
                return corrupt(QStringLiteral("buffer is not aligned to its values"), colName);
        }
        const quint64 n = quint64(rows);
        auto expect = [&](int idx, quint64 bytes) { return spans[size_t(idx)].second == bytes; };
        bool shapeOk = true;
        switch (type) {
        case ColumnType::Int64:
        case ColumnType::Datetime: shapeOk = expect(0, n * 8); break;
        case ColumnType::Float64: shapeOk = expect(1, n * 8); break;
        case ColumnType::Bool: shapeOk = expect(2, n); break;
        case ColumnType::Categorical:
            shapeOk = expect(3, n * 4) && spans[4].second % 8 == 0;
            break;
        case ColumnType::String: shapeOk = expect(4, (n + 1) * 8); break;
        }
        const quint64 validityLen = spans[6].second;
        if (validityLen != 0 && validityLen != (n + 7) / 8)
            shapeOk = false;
        if (validityLen == 0 && nullCount != 0)
            shapeOk = false;
        if (!shapeOk)
            return corrupt(QStringLiteral("buffer sizes do not match the column type"), colName);

        auto span = [&](int idx) { return base + spans[size_t(idx)].first; };
        ColumnStorage s;
        s.rows = rows;
        s.nullCount = nullCount;
        auto len = [&](int idx) { return spans[size_t(idx)].second; };
        borrowInto(s.i64, span(0), len(0), owner);
        borrowInto(s.f64, span(1), len(1), owner);
        borrowInto(s.u8, span(2), len(2), owner);
        borrowInto(s.codes, span(3), len(3), owner);
        borrowInto(s.offsets, span(4), len(4), owner);
        borrowInto(s.bytes, span(5), len(5), owner);
        borrowInto(s.validity, span(6), len(6), owner);
        if ((type == ColumnType::Categorical || type == ColumnType::String) && !s.offsets.empty()) {
            // First and last offsets must lie inside the byte buffer (O(1) check; inner offsets are trusted).
            const auto &off = s.offsets.view;
            const int64_t bytesLen = int64_t(s.bytes.size());
            if (off.front() < 0 || off.front() > bytesLen || off.back() < off.front() || off.back() > bytesLen)
                return corrupt(QStringLiteral("string offsets point outside the data"), colName);
        }
        columns.emplace_back(colName, type, std::move(s));
    }
    if (!r.atEnd())
        return corrupt(QStringLiteral("bad header"));
    return Table(std::move(columns));
}

} // namespace keel::data
