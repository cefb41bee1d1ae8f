#pragma once
// The prediction log of a deployment: every scored record, shadow outputs and feedback, as JSON Lines under
// .keel/serve/NAME/ — predictions in segments (predictions-000001.jsonl, ...) that rotate at a size, feedback in
// feedback.jsonl — joined by prediction id. Writers batch: append() only queues the record (no serialization on the
// caller's path); flush() (called by the server every flush interval, off its request thread, and on shutdown)
// serializes the queue, writes it and fsyncs. A kill loses at most the lines queued since the
// last flush; a line cut by a kill (no trailing newline) is cut off when the log is opened again, so readers never
// see a torn record. Readers skip nothing silently: a line that does not parse is an error naming file and line.

#include "util/result.h"

#include <QDateTime>
#include <QFile>
#include <QJsonObject>
#include <QMutex>
#include <QString>

#include <memory>
#include <utility>
#include <vector>

namespace keel::serve {

class PredictionLog {
public:
    /// Opens (creating) the log folder `dir`, repairing a torn tail of the newest segment and of feedback.jsonl.
    /// `rotateBytes`: a segment is closed when it reaches this size.
    static Expected<std::unique_ptr<PredictionLog>> open(const QString &dir, qint64 rotateBytes = 64ll << 20);
    ~PredictionLog();

    /// Queues one prediction line (any thread).
    void append(const QJsonObject &line);
    /// Queues `count` prediction lines already serialized, each ending in a newline (any thread). A copy of bytes
    /// under a lock: the flushing thread frees nothing the request thread allocated, so the two never contend on
    /// the allocator.
    void appendLines(QByteArrayView lines, qint64 count);
    /// Queues one feedback line (any thread).
    void appendFeedback(const QJsonObject &line);
    /// Writes everything queued and syncs it to disk (any thread; one writer at a time).
    Status flush();
    /// Lines queued and not yet written.
    qint64 pending() const;
    QString dir() const { return m_dir; }
    /// Bytes cut from torn tails when the log was opened (0 when it was clean).
    qint64 repairedBytes() const { return m_repaired; }

private:
    PredictionLog() = default;
    Status openSegment(int index);

    QString m_dir;
    qint64 m_rotateBytes = 0;
    int m_segment = 1;
    qint64 m_repaired = 0;
    std::unique_ptr<QFile> m_predictions, m_feedback;
    mutable QMutex m_queueMutex;
    QMutex m_writeMutex;
    QByteArray m_queue;   ///< prediction lines not yet written
    std::vector<QJsonObject> m_feedbackQueue;
    qint64 m_queued = 0;
};

/// One logged prediction joined with its shadow output and feedback.
struct LoggedPrediction {
    QJsonObject prediction;      ///< id, time, deployment, revision, version, inputs, output, latency_ms
    QJsonObject shadow;          ///< version, output (empty when none)
    QJsonObject feedback;        ///< label, time (empty when none arrived)
};

/// Reads a deployment's log folder, oldest first, joined by id; `since` (if valid) keeps predictions at or after it;
/// `onlyId` (if given) keeps only that prediction, parsing only the lines that contain it (memory stays bounded
/// whatever the log's size). Errors name the file and line of a record that does not parse.
Expected<std::vector<LoggedPrediction>> readPredictionLog(const QString &dir, const QDateTime &since = {},
                                                          const QString &onlyId = {});

/// Where a deployment's log lives in a workspace.
QString predictionLogDir(const QString &workspaceRoot, const QString &deployment);

} // namespace keel::serve
