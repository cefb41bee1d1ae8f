#include "store/pack.h"

#include "store/storeio.h"
#include "util/fileutil.h"

#include <QFile>
#include <QtEndian>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace keel::store {

namespace {

constexpr char kPackMagic[8] = {'K', 'E', 'E', 'L', 'P', 'A', 'C', 'K'};
constexpr char kIndexMagic[8] = {'K', 'E', 'E', 'L', 'I', 'D', 'X', '1'};
constexpr qint64 kIndexHeaderSize = 24;   // magic, uint64 count, uint64 pack size
constexpr qint64 kIndexEntrySize = 48;    // id, uint64 offset, uint64 length

void putU64(char *p, quint64 v) { qToLittleEndian(v, p); }
quint64 getU64(const char *p) { return qFromLittleEndian<quint64>(p); }

Status renameInto(const QString &from, const QString &to)
{
    if (::rename(QFile::encodeName(from).constData(), QFile::encodeName(to).constData()) != 0)
        return makeError(QStringLiteral("cannot rename %1 into place: %2").arg(from, errnoText()), to);
    return {};
}

} // namespace

QByteArray packHeader()
{
    QByteArray h(kPackHeaderSize, '\0');
    std::memcpy(h.data(), kPackMagic, 8);
    qToLittleEndian<quint32>(1, h.data() + 8);
    return h;
}

QString packFileName(const QString &name) { return QStringLiteral("pack-") + name + QStringLiteral(".pack"); }
QString indexFileName(const QString &name) { return QStringLiteral("pack-") + name + QStringLiteral(".idx"); }

QByteArray encodePackIndex(std::vector<PackEntry> entries, qint64 packSize, QString *name)
{
    std::sort(entries.begin(), entries.end(), [](const PackEntry &a, const PackEntry &b) { return a.id < b.id; });
    QByteArray out(kIndexHeaderSize + qint64(entries.size()) * kIndexEntrySize + 32, '\0');
    char *p = out.data();
    std::memcpy(p, kIndexMagic, 8);
    putU64(p + 8, quint64(entries.size()));
    putU64(p + 16, quint64(packSize));
    p += kIndexHeaderSize;
    for (const PackEntry &e : entries) {
        std::memcpy(p, e.id.data(), 32);
        putU64(p + 32, quint64(e.offset));
        putU64(p + 40, quint64(e.length));
        p += kIndexEntrySize;
    }
    const Sha256 sum = sha256(out.constData(), size_t(out.size() - 32));
    std::memcpy(p, sum.data(), 32);
    if (name)
        *name = toHex(sum);
    return out;
}

Expected<PackIndex> decodePackIndex(QByteArrayView bytes, const QString &path, const QString &expectedName)
{
    auto bad = [&](const QString &msg) { return makeError(msg, path); };
    if (bytes.size() < kIndexHeaderSize + 32 || std::memcmp(bytes.data(), kIndexMagic, 8) != 0)
        return bad(QStringLiteral("not a pack index (bad header)"));
    const quint64 count = getU64(bytes.data() + 8);
    const qint64 packSize = qint64(getU64(bytes.data() + 16));
    if (count > quint64(bytes.size()) / kIndexEntrySize
        || bytes.size() != kIndexHeaderSize + qint64(count) * kIndexEntrySize + 32)
        return bad(QStringLiteral("pack index has the wrong size for %1 entries").arg(count));
    const Sha256 sum = sha256(bytes.data(), size_t(bytes.size() - 32));
    if (std::memcmp(sum.data(), bytes.data() + bytes.size() - 32, 32) != 0)
        return bad(QStringLiteral("pack index checksum mismatch"));
    PackIndex idx;
    idx.name = toHex(sum);
    if (!expectedName.isEmpty() && idx.name != expectedName)
        return bad(QStringLiteral("pack index checksum does not match its file name"));
    idx.packSize = packSize;
    idx.entries.resize(size_t(count));
    const char *p = bytes.data() + kIndexHeaderSize;
    for (quint64 i = 0; i < count; ++i, p += kIndexEntrySize) {
        PackEntry &e = idx.entries[size_t(i)];
        std::memcpy(e.id.data(), p, 32);
        e.offset = qint64(getU64(p + 32));
        e.length = qint64(getU64(p + 40));
        if (e.offset < kPackHeaderSize || e.length <= 0 || e.length > packSize || e.offset > packSize - e.length)
            return bad(QStringLiteral("pack index entry %1 lies outside the pack").arg(i));
        if (i > 0 && !(idx.entries[size_t(i) - 1].id < e.id))
            return bad(QStringLiteral("pack index entries are not sorted"));
    }
    return idx;
}

PackWriter::PackWriter(const QString &root, qint64 packSizeLimit, Mode mode)
    : m_root(root), m_limit(std::max<qint64>(packSizeLimit, kPackHeaderSize + 1)), m_mode(mode)
{
}

PackWriter::~PackWriter()
{
    for (const Sealed &s : m_sealed)
        removeFile(s.tmpPath);
}

Status PackWriter::openPack()
{
    Status st;
    for (int attempt = 0; attempt < 4; ++attempt) {
        st = m_file.open(m_root + QStringLiteral("/tmp/pack-") + randomSuffix() + QStringLiteral(".tmp"));
        if (st.isOk())
            break;
    }
    if (!st.isOk())
        return st;
    const QByteArray header = packHeader();
    m_entries.clear();
    return m_file.write(header.constData(), header.size());
}

Status PackWriter::append(const Sha256 &id, const char *data, qint64 length)
{
    if (Status st = flushRun(); !st.isOk())
        return st;
    if (!m_file.isOpen())
        if (Status st = openPack(); !st.isOk())
            return st;
    m_entries.push_back(PackEntry{id, m_file.size(), length});
    m_chunksWritten += 1;
    m_bytesWritten += length;
    Status st = m_file.write(data, length);
    if (!st.isOk())
        return st;
    if (m_file.size() >= m_limit)
        return commitPack();
    return {};
}

Status PackWriter::appendInPlace(const Sha256 &id, const char *data, qint64 length)
{
    if (m_runLength > 0 && data != m_runData + m_runLength)
        if (Status st = flushRun(); !st.isOk())
            return st;
    if (!m_file.isOpen())
        if (Status st = openPack(); !st.isOk())
            return st;
    if (m_runLength == 0)
        m_runData = data;
    m_entries.push_back(PackEntry{id, m_file.size() + m_runLength, length});
    m_runLength += length;
    m_runEntries += 1;
    m_chunksWritten += 1;
    m_bytesWritten += length;
    if (m_file.size() + m_runLength >= m_limit)
        return commitPack();
    // A long run goes to the disk while the caller hashes on, not all at once when the pack is full. The next run
    // continues where this one ends in memory, so it keeps the page offset and needs no padding.
    if (m_runLength >= kRunFlush)
        return flushRun();
    return {};
}

Status PackWriter::flushRun()
{
    if (m_runLength == 0)
        return {};
    const char *data = m_runData;
    const qint64 length = m_runLength;
    const size_t entries = m_runEntries;
    m_runData = nullptr;
    m_runLength = 0;
    m_runEntries = 0;
    if (length < DirectWriter::kInPlaceMinimum)
        return m_file.write(data, length);
    const qint64 pad = DirectWriter::gapToPageOffset(data, m_file.size());
    for (size_t i = m_entries.size() - entries; i < m_entries.size(); ++i)
        m_entries[i].offset += pad;
    if (Status st = m_file.writeZeros(pad); !st.isOk())
        return st;
    return m_file.writeInPlace(data, length);
}

Status PackWriter::finish()
{
    if (!m_file.isOpen())
        return {};
    return commitPack();
}

Status PackWriter::commitPack()
{
    if (Status st = flushRun(); !st.isOk())
        return st;
    Sealed sealed{m_file.path(), m_file.size(), std::move(m_entries)};
    m_entries = {};
    if (Status st = m_file.close(); !st.isOk())
        return st;
    if (m_mode == Mode::Stage) {
        m_sealed.push_back(std::move(sealed));
        return {};
    }
    return publishPack(std::move(sealed));
}

Status PackWriter::publish()
{
    std::vector<Sealed> sealed;
    sealed.swap(m_sealed);
    for (size_t i = 0; i < sealed.size(); ++i) {
        if (Status st = publishPack(std::move(sealed[i])); !st.isOk()) {
            for (size_t j = i + 1; j < sealed.size(); ++j)
                removeFile(sealed[j].tmpPath);
            return st;
        }
    }
    return {};
}

Status PackWriter::publishPack(Sealed sealed)
{
    const QString tmpPack = sealed.tmpPath;
    const qint64 packSize = sealed.size;
    Status st;
    auto failed = [&](Error e) {
        removeFile(tmpPack);
        return Status(std::move(e));
    };

    QString name;
    const QByteArray idx = encodePackIndex(sealed.entries, packSize, &name);
    const QString packsDir = m_root + QStringLiteral("/packs");
    st = renameInto(tmpPack, packsDir + QLatin1Char('/') + packFileName(name));
    if (!st.isOk())
        return failed(st.error());
    syncDirectory(packsDir);

    // From here on a failure leaves a pack without idx: invisible, removed by gc.
    st = writeDurably(m_root + QStringLiteral("/tmp"), packsDir + QLatin1Char('/') + indexFileName(name), idx);
    if (!st.isOk())
        return st;

    std::sort(sealed.entries.begin(), sealed.entries.end(), [](const PackEntry &a, const PackEntry &b) { return a.id < b.id; });
    m_committed.push_back(PackIndex{name, packSize, std::move(sealed.entries)});
    return {};
}

void PackWriter::discard()
{
    m_file.abort();
    m_entries.clear();
    m_runData = nullptr;
    m_runLength = 0;
    m_runEntries = 0;
}

std::vector<PackIndex> PackWriter::takeCommitted()
{
    std::vector<PackIndex> out;
    out.swap(m_committed);
    return out;
}

} // namespace keel::store
