#include "data/reader.h"

#include "data/typeinfer.h"
#include "util/fileutil.h"

#include <QFileInfo>
#include <QThread>

#include <cstring>
#include <new>
#include <optional>
#include <vector>

namespace keel::data {

FileFormat formatForPath(const QString &path)
{
    if (path.endsWith(QLatin1String(".jsonl"), Qt::CaseInsensitive)
        || path.endsWith(QLatin1String(".ndjson"), Qt::CaseInsensitive))
        return FileFormat::Jsonl;
    return FileFormat::Csv;
}

namespace detail {

qsizetype firstNul(QByteArrayView bytes, int threads)
{
    const qsizetype n = bytes.size();
    const int parts = n < (qsizetype(64) << 20) ? 1 : std::max(1, threads > 0 ? threads : QThread::idealThreadCount());
    std::vector<qsizetype> found(size_t(parts), -1);
    auto search = [&](int t) {
        const qsizetype from = n * t / parts, to = n * (t + 1) / parts;
        if (const void *p = std::memchr(bytes.data() + from, '\0', size_t(to - from)))
            found[size_t(t)] = static_cast<const char *>(p) - bytes.data();
    };
    if (!runTasks(parts, parts, search, nullptr, nullptr, QString())) {   // no threads to be had: one core
        const void *p = std::memchr(bytes.data(), '\0', size_t(n));
        return p ? static_cast<const char *>(p) - bytes.data() : -1;
    }
    for (qsizetype at : found)
        if (at >= 0)
            return at;
    return -1;
}

Error nulByteError(QByteArrayView bytes, qsizetype at, const QString &source)
{
    return makeError(ErrorKind::InvalidInput,
                     QStringLiteral("a NUL byte at byte offset %1: this is not a text file (binary or damaged?)").arg(at),
                     source, qint64(QByteArrayView(bytes.data(), at).count('\n')) + 1);
}

} // namespace detail

namespace {

/// Runs a read; allocation failure (the only exception the readers can meet) becomes an Error.
template <class F>
Expected<Table> guarded(const QString &source, F &&read)
{
    try {
        return read();
    } catch (const std::bad_alloc &) {
        return makeError(QStringLiteral("out of memory"), source);
    }
}

Expected<Table> readText(QByteArrayView bytes, const ReadOptions &options, Feedback *feedback, ReadInfo *info,
                         const QString &source, bool tabDefault, bool whole = false);

/// A read of the first rows (maxRows) of a large input: the same read over a prefix that ends at a line break and
/// still has rows after the last one read, so its checks (a NUL byte, say) do not scan gigabytes it never reads.
/// Starts at 4 MiB and grows; returns nothing when only the whole input will do (a prefix ended inside a quoted
/// field or a record the reader refused, or held fewer rows than asked).
std::optional<Expected<Table>> readPreview(QByteArrayView bytes, const ReadOptions &options, ReadInfo *info,
                                           const QString &source, bool tabDefault)
{
    for (qsizetype window = qsizetype(4) << 20; window < bytes.size() / 2; window *= 4) {
        const void *nl = memrchr(bytes.data(), '\n', size_t(window));
        if (!nl)
            continue;
        const QByteArrayView prefix(bytes.data(), static_cast<const char *>(nl) - bytes.data() + 1);
        ReadInfo prefixInfo;
        Expected<Table> t = readText(prefix, options, nullptr, &prefixInfo, source, tabDefault, true);
        if (t && prefixInfo.truncated) {   // rows remained after the last one read: the whole input reads the same
            if (info) {
                *info = prefixInfo;
                info->bytes = bytes.size();
            }
            return t;
        }
        // Refused in the first half of the prefix: not a cut at its end, so a larger prefix would only be refused
        // again; the whole input reports it.
        if (!t && t.error().line > 0 && t.error().line < prefix.count('\n') / 2)
            return std::nullopt;
    }
    return std::nullopt;
}

/// What both entry points share: checks that hold for every text format, then the format's reader. `whole` says
/// the bytes are already a preview's prefix.
Expected<Table> readText(QByteArrayView bytes, const ReadOptions &options, Feedback *feedback, ReadInfo *info,
                         const QString &source, bool tabDefault, bool whole)
{
    if (options.maxRows >= 0 && !whole)
        if (std::optional<Expected<Table>> preview = readPreview(bytes, options, info, source, tabDefault))
            return std::move(*preview);
    // Classic Mac files end lines with a bare CR: read them as lines, not as one record of every value.
    if (!bytes.isEmpty() && !std::memchr(bytes.data(), '\n', size_t(bytes.size()))
        && std::memchr(bytes.data(), '\r', size_t(bytes.size()))) {
        QByteArray lf(bytes.data(), bytes.size());
        lf.replace('\r', '\n');
        return readText(lf, options, feedback, info, source, tabDefault);
    }
    // A NUL byte refuses the input before anything else is said about it; the CSV reader looks for one in the read
    // of the bytes it makes anyway before the parse.
    if (options.format.value_or(FileFormat::Csv) == FileFormat::Jsonl) {
        if (const qsizetype at = detail::firstNul(bytes, options.threads); at >= 0)
            return detail::nulByteError(bytes, at, source);
        return guarded(source, [&] { return detail::readJsonl(bytes, options, feedback, info, source); });
    }
    return guarded(source, [&] { return detail::readCsv(bytes, options, feedback, info, source, tabDefault); });
}

} // namespace

Expected<Table> readTable(const QString &path, const ReadOptions &options, Feedback *feedback, ReadInfo *info)
{
    if (Status s = checkInputFile(path); !s)
        return s.error();
    const Expected<MappedFile> mapped = mapFile(path);
    if (!mapped)
        return mapped.error().withFile(path);
    return readTable(path, QByteArrayView(mapped->data, mapped->size), options, feedback, info);
}

Expected<Table> readTable(const QString &path, QByteArrayView bytes, const ReadOptions &options, Feedback *feedback,
                          ReadInfo *info)
{
    ReadOptions opts = options;
    opts.format = options.format.value_or(formatForPath(path));
    const bool tab = path.endsWith(QLatin1String(".tsv"), Qt::CaseInsensitive)
                     || path.endsWith(QLatin1String(".tab"), Qt::CaseInsensitive);
    return readText(bytes, opts, feedback, info, path, tab);
}

Expected<Table> readTableFromBytes(QByteArrayView bytes, const ReadOptions &options, Feedback *feedback,
                                   ReadInfo *info, const QString &sourceName)
{
    return readText(bytes, options, feedback, info, sourceName, false);
}

} // namespace keel::data
