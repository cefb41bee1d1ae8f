#include "store/manifest.h"

#include <charconv>

namespace keel::store {

namespace {

constexpr std::string_view kMagicLine = "keel-manifest 1";

bool parseCount(std::string_view text, qint64 &out)
{
    if (text.empty() || text.size() > 18 || (text.size() > 1 && text.front() == '0'))
        return false;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && ptr == text.data() + text.size() && out >= 0;
}

bool parseHexId(std::string_view hex, Sha256 &out)
{
    if (hex.size() != 64)
        return false;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        return -1;
    };
    for (size_t i = 0; i < 32; ++i) {
        const int hi = nibble(hex[2 * i]);
        const int lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = uint8_t(hi * 16 + lo);
    }
    return true;
}

} // namespace

QByteArray encodeManifest(const Manifest &manifest)
{
    QByteArray out;
    out.reserve(64 + qsizetype(manifest.chunks.size()) * 80);
    out += QByteArrayView(kMagicLine.data(), qsizetype(kMagicLine.size()));
    out += "\nsize " + QByteArray::number(manifest.size) + "\nchunks "
           + QByteArray::number(qint64(manifest.chunks.size())) + '\n';
    static const char digits[] = "0123456789abcdef";
    char hex[64];
    for (const ManifestChunk &c : manifest.chunks) {
        for (size_t i = 0; i < 32; ++i) {
            hex[2 * i] = digits[c.id[i] >> 4];
            hex[2 * i + 1] = digits[c.id[i] & 15];
        }
        out.append(hex, 64);
        out += ' ' + QByteArray::number(c.length) + '\n';
    }
    return out;
}

Expected<Manifest> decodeManifest(QByteArrayView bytes, const QString &path)
{
    const std::string_view all(bytes.data(), size_t(bytes.size()));
    size_t pos = 0;
    qint64 lineNo = 0;
    auto nextLine = [&](std::string_view &line) {
        if (pos >= all.size())
            return false;
        const size_t nl = all.find('\n', pos);
        if (nl == std::string_view::npos)
            return false;   // every line, the last included, ends with a newline
        line = all.substr(pos, nl - pos);
        pos = nl + 1;
        ++lineNo;
        return true;
    };
    // A missing line is reported at the line that should have followed; a bad line at itself.
    auto atLine = [&](bool gotLine) { return gotLine ? lineNo : lineNo + 1; };

    std::string_view line;
    bool got = nextLine(line);
    if (!got || line != kMagicLine)
        return makeError(QStringLiteral("not a keel manifest"), path, 1);
    Manifest m;
    got = nextLine(line);
    if (!got || !line.starts_with("size ") || !parseCount(line.substr(5), m.size))
        return makeError(QStringLiteral("expected 'size <bytes>'"), path, atLine(got));
    qint64 count = 0;
    got = nextLine(line);
    if (!got || !line.starts_with("chunks ") || !parseCount(line.substr(7), count))
        return makeError(QStringLiteral("expected 'chunks <count>'"), path, atLine(got));
    if (count > qint64(all.size() / 66))
        return makeError(QStringLiteral("chunk count %1 does not fit the manifest").arg(count), path, lineNo);
    m.chunks.reserve(size_t(count));
    qint64 total = 0;
    for (qint64 i = 0; i < count; ++i) {
        if (!nextLine(line))
            return makeError(QStringLiteral("manifest ends after %1 of %2 chunks").arg(i).arg(count), path,
                             lineNo + 1);
        ManifestChunk c;
        if (line.size() < 66 || line[64] != ' ' || !parseHexId(line.substr(0, 64), c.id)
            || !parseCount(line.substr(65), c.length) || c.length == 0)
            return makeError(QStringLiteral("expected '<64 hex digits> <length>'"), path, lineNo);
        total += c.length;
        if (total > m.size)
            return makeError(QStringLiteral("chunk lengths exceed the file size"), path, lineNo);
        m.chunks.push_back(c);
    }
    if (pos != all.size())
        return makeError(QStringLiteral("unexpected data after the last chunk"), path, lineNo + 1);
    if (total != m.size)
        return makeError(QStringLiteral("chunk lengths sum to %1, not the file size %2").arg(total).arg(m.size),
                         path);
    return m;
}

} // namespace keel::store
