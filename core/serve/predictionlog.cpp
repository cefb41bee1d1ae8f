#include "serve/predictionlog.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QMutexLocker>
#include <QRegularExpression>

#include <functional>

#include <unistd.h>

namespace keel::serve {

namespace {

QString segmentName(int index) { return QStringLiteral("predictions-%1.jsonl").arg(index, 6, 10, QLatin1Char('0')); }

/// Cuts a file after its last newline (a line torn by a kill); returns the bytes cut.
Expected<qint64> repairTail(const QString &path)
{
    QFile f(path);
    if (!f.exists())
        return qint64(0);
    if (!f.open(QIODevice::ReadWrite))
        return makeError(ErrorKind::Io, f.errorString(), path);
    const qint64 size = f.size();
    qint64 keep = size;
    const qint64 chunk = 65536;
    while (keep > 0) {
        const qint64 from = std::max<qint64>(0, keep - chunk);
        f.seek(from);
        const QByteArray bytes = f.read(keep - from);
        const qsizetype nl = bytes.lastIndexOf('\n');
        if (nl >= 0) {
            keep = from + nl + 1;
            break;
        }
        keep = from;
    }
    if (keep != size && !f.resize(keep))
        return makeError(ErrorKind::Io, f.errorString(), path);
    return size - keep;
}

QList<int> segments(const QString &dir)
{
    QList<int> out;
    static const QRegularExpression re(QStringLiteral("^predictions-(\\d{6})\\.jsonl$"));
    for (const QString &name : QDir(dir).entryList({QStringLiteral("predictions-*.jsonl")}, QDir::Files, QDir::Name)) {
        const auto m = re.match(name);
        if (m.hasMatch())
            out << m.captured(1).toInt();
    }
    return out;
}

Status writeAndSync(QFile &f, const QByteArray &bytes)
{
    if (bytes.isEmpty())
        return Status::ok();
    if (f.write(bytes) != bytes.size() || !f.flush())
        return makeError(ErrorKind::Io, f.errorString(), f.fileName());
    if (::fdatasync(f.handle()) != 0)
        return makeError(ErrorKind::Io, QStringLiteral("cannot sync"), f.fileName());
    return Status::ok();
}

} // namespace

QString predictionLogDir(const QString &workspaceRoot, const QString &deployment)
{
    return workspaceRoot + QStringLiteral("/.keel/serve/") + deployment;
}

Expected<std::unique_ptr<PredictionLog>> PredictionLog::open(const QString &dir, qint64 rotateBytes)
{
    if (!QDir().mkpath(dir))
        return makeError(ErrorKind::Io, QStringLiteral("cannot create the log folder"), dir);
    std::unique_ptr<PredictionLog> log(new PredictionLog);
    log->m_dir = dir;
    log->m_rotateBytes = rotateBytes;
    const QList<int> existing = segments(dir);
    log->m_segment = existing.isEmpty() ? 1 : existing.back();
    auto cut = repairTail(QDir(dir).filePath(segmentName(log->m_segment)));
    if (!cut)
        return cut.error();
    auto cutFeedback = repairTail(QDir(dir).filePath(QStringLiteral("feedback.jsonl")));
    if (!cutFeedback)
        return cutFeedback.error();
    log->m_repaired = *cut + *cutFeedback;
    if (Status s = log->openSegment(log->m_segment); !s)
        return s.error();
    log->m_feedback = std::make_unique<QFile>(QDir(dir).filePath(QStringLiteral("feedback.jsonl")));
    if (!log->m_feedback->open(QIODevice::WriteOnly | QIODevice::Append))
        return makeError(ErrorKind::Io, log->m_feedback->errorString(), log->m_feedback->fileName());
    return log;
}

PredictionLog::~PredictionLog()
{
    if (Status s = flush(); !s)
        qWarning("keel: the prediction log could not be written on close: %s", qPrintable(s.message()));
}

Status PredictionLog::openSegment(int index)
{
    m_segment = index;
    m_predictions = std::make_unique<QFile>(QDir(m_dir).filePath(segmentName(index)));
    if (!m_predictions->open(QIODevice::WriteOnly | QIODevice::Append))
        return makeError(ErrorKind::Io, m_predictions->errorString(), m_predictions->fileName());
    return Status::ok();
}

void PredictionLog::append(const QJsonObject &line)
{
    appendLines(QByteArray(QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n'), 1);
}

void PredictionLog::appendLines(QByteArrayView lines, qint64 count)
{
    QMutexLocker lock(&m_queueMutex);
    m_queue.append(lines);
    m_queued += count;
}

void PredictionLog::appendFeedback(const QJsonObject &line)
{
    QMutexLocker lock(&m_queueMutex);
    m_feedbackQueue.push_back(line);
    ++m_queued;
}

qint64 PredictionLog::pending() const
{
    QMutexLocker lock(&m_queueMutex);
    return m_queued;
}

Status PredictionLog::flush()
{
    QMutexLocker writer(&m_writeMutex);
    QByteArray predictions, feedback;
    std::vector<QJsonObject> feedbackLines;
    {
        QMutexLocker lock(&m_queueMutex);
        predictions.swap(m_queue);
        m_queue.reserve(predictions.size());   // the next interval is likely as busy
        feedbackLines.swap(m_feedbackQueue);
        m_queued = 0;
    }
    for (const QJsonObject &o : feedbackLines)
        feedback += QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    if (!m_predictions)
        return Status::ok();
    if (Status s = writeAndSync(*m_predictions, predictions); !s)
        return s;
    if (Status s = writeAndSync(*m_feedback, feedback); !s)
        return s;
    if (m_predictions->size() >= m_rotateBytes) {
        m_predictions->close();
        return openSegment(m_segment + 1);
    }
    return Status::ok();
}

Expected<std::vector<LoggedPrediction>> readPredictionLog(const QString &dir, const QDateTime &since, const QString &onlyId)
{
    std::vector<LoggedPrediction> out;
    QHash<QString, size_t> byId;
    // Looking for one id: a line that does not even contain it is not parsed (nor kept).
    const QByteArray needle = onlyId.isEmpty() ? QByteArray() : QByteArray('"' + onlyId.toUtf8() + '"');
    auto readLines = [&needle](const QString &path, const std::function<Status(const QJsonObject &, qint64)> &each) -> Status {
        QFile f(path);
        if (!f.exists())
            return Status::ok();
        if (!f.open(QIODevice::ReadOnly))
            return makeError(ErrorKind::Io, f.errorString(), path);
        qint64 line = 0;
        while (!f.atEnd()) {
            const QByteArray bytes = f.readLine();
            ++line;
            if (!bytes.endsWith('\n'))
                break;   // a torn tail of a log being written: not a record yet
            if (!needle.isEmpty() && !bytes.contains(needle))
                continue;
            QJsonParseError pe;
            const QJsonDocument doc = QJsonDocument::fromJson(bytes, &pe);
            if (pe.error != QJsonParseError::NoError || !doc.isObject())
                return makeError(ErrorKind::Corrupt, QStringLiteral("not a log record: ") + pe.errorString(), path, line);
            if (Status s = each(doc.object(), line); !s)
                return s;
        }
        return Status::ok();
    };
    for (int index : segments(dir)) {
        const QString path = QDir(dir).filePath(segmentName(index));
        Status s = readLines(path, [&](const QJsonObject &o, qint64 line) -> Status {
            const QString id = o.value(QStringLiteral("id")).toString();
            if (id.isEmpty())
                return makeError(ErrorKind::Corrupt, QStringLiteral("a record without an id"), path, line, QStringLiteral("id"));
            if (o.contains(QStringLiteral("shadow_of"))) {
                const auto it = byId.constFind(o.value(QStringLiteral("shadow_of")).toString());
                if (it != byId.constEnd())
                    out[*it].shadow = o;
                return Status::ok();
            }
            if (!onlyId.isEmpty() && id != onlyId)
                return Status::ok();
            if (since.isValid()) {
                const QDateTime t = QDateTime::fromString(o.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs);
                if (t.isValid() && t < since)
                    return Status::ok();
            }
            byId.insert(id, out.size());
            out.push_back({o, {}, {}});
            return Status::ok();
        });
        if (!s)
            return s.error();
    }
    Status s = readLines(QDir(dir).filePath(QStringLiteral("feedback.jsonl")), [&](const QJsonObject &o, qint64) -> Status {
        const auto it = byId.constFind(o.value(QStringLiteral("prediction_id")).toString());
        if (it != byId.constEnd())
            out[*it].feedback = o;
        return Status::ok();
    });
    if (!s)
        return s.error();
    return out;
}

} // namespace keel::serve
