#include "data/reader.h"

#include "data/typeinfer.h"
#include "util/fileutil.h"

#include <QFileInfo>

#include <new>

namespace keel::data {

FileFormat formatForPath(const QString &path)
{
    if (path.endsWith(QLatin1String(".jsonl"), Qt::CaseInsensitive)
        || path.endsWith(QLatin1String(".ndjson"), Qt::CaseInsensitive))
        return FileFormat::Jsonl;
    return FileFormat::Csv;
}

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

} // namespace

Expected<Table> readTable(const QString &path, const ReadOptions &options, Feedback *feedback, ReadInfo *info)
{
    const QFileInfo fi(path);
    if (!fi.exists())
        return makeError(QStringLiteral("file not found"), path);
    if (fi.isDir())
        return makeError(QStringLiteral("is a folder, not a file"), path);
    const Expected<MappedFile> mapped = mapFile(path);
    if (!mapped)
        return mapped.error().withFile(path);
    const QByteArrayView bytes(mapped->data, mapped->size);
    const FileFormat format = options.format.value_or(formatForPath(path));
    if (format == FileFormat::Jsonl)
        return guarded(path, [&] { return detail::readJsonl(bytes, options, feedback, info, path); });
    const bool tab = path.endsWith(QLatin1String(".tsv"), Qt::CaseInsensitive)
                     || path.endsWith(QLatin1String(".tab"), Qt::CaseInsensitive);
    return guarded(path, [&] { return detail::readCsv(bytes, options, feedback, info, path, tab); });
}

Expected<Table> readTableFromBytes(QByteArrayView bytes, const ReadOptions &options, Feedback *feedback,
                                   ReadInfo *info, const QString &sourceName)
{
    if (options.format.value_or(FileFormat::Csv) == FileFormat::Jsonl)
        return guarded(sourceName, [&] { return detail::readJsonl(bytes, options, feedback, info, sourceName); });
    return guarded(sourceName, [&] { return detail::readCsv(bytes, options, feedback, info, sourceName, false); });
}

} // namespace keel::data
