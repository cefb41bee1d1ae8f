#include "trainingprocess.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>

#include <algorithm>
#include <limits>
#include <mutex>
#include <optional>

namespace keel::ui {

namespace {

constexpr int kPollMs = 50;
constexpr qsizetype kStderrTail = 4096;

Error eventError(const QString &message) { return makeError(message, QStringLiteral("keel train --events")); }

/// A JSON number as a double; null (how JSON writers spell NaN) as NaN.
std::optional<double> jsonNumber(const QJsonValue &v)
{
    if (v.isDouble())
        return v.toDouble();
    if (v.isNull())
        return std::numeric_limits<double>::quiet_NaN();
    return std::nullopt;
}

/// The last few lines the child wrote on stderr, for a failure message.
QString stderrSummary(const QByteArray &tail)
{
    QString text = QString::fromUtf8(tail).trimmed();
    const QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    text = lines.mid(std::max<qsizetype>(0, lines.size() - 3)).join(QLatin1Char('\n'));
    if (text.startsWith(QLatin1String("keel: ")))
        text = text.mid(6);
    return text;
}

/// Records the end of a run whose child could not: only while the store still says "running".
void recordEnd(const QString &root, const QString &runId, tracking::RunStatus status, const QString &reason)
{
    auto store = tracking::TrackingStore::open(root + QStringLiteral("/.keel/keel.db"));
    if (!store)
        return;
    auto run = (*store)->run(runId);
    if (!run || run->status != tracking::RunStatus::Running)
        return;
    (void)(*store)->setTag(runId, QStringLiteral("error"), reason);
    (void)(*store)->finishRun(runId, status);
}

} // namespace

Expected<TrainingEvent> parseTrainingEvent(QByteArrayView line)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(line.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return eventError(QStringLiteral("not a JSON object: ") + QString::fromUtf8(line.first(std::min<qsizetype>(line.size(), 200)).toByteArray()));
    const QJsonObject o = doc.object();
    const QString name = o.value(QStringLiteral("event")).toString();
    TrainingEvent e;
    const auto needString = [&](const char *field, QString &into) -> Status {
        const QJsonValue v = o.value(QLatin1String(field));
        if (!v.isString())
            return makeError(QStringLiteral("'%1' event without '%2'").arg(name, QLatin1String(field)),
                             QStringLiteral("keel train --events"), -1, QLatin1String(field));
        into = v.toString();
        return Status::ok();
    };
    if (name == u"started") {
        e.kind = TrainingEvent::Kind::Started;
        if (Status s = needString("run", e.runId); !s)
            return s.error();
        e.experiment = o.value(QStringLiteral("experiment")).toString();
        e.name = o.value(QStringLiteral("name")).toString();
    } else if (name == u"progress") {
        e.kind = TrainingEvent::Kind::Progress;
        e.stage = o.value(QStringLiteral("stage")).toString();
        e.done = qint64(o.value(QStringLiteral("done")).toDouble());
        e.total = qint64(o.value(QStringLiteral("total")).toDouble());
    } else if (name == u"metric") {
        e.kind = TrainingEvent::Kind::Metric;
        if (Status s = needString("key", e.key); !s)
            return s.error();
        const auto value = jsonNumber(o.value(QStringLiteral("value")));
        if (!value || !o.value(QStringLiteral("step")).isDouble())
            return makeError(QStringLiteral("'metric' event without a numeric step and value"),
                             QStringLiteral("keel train --events"), -1, QStringLiteral("value"));
        e.step = qint64(o.value(QStringLiteral("step")).toDouble());
        e.value = *value;
    } else if (name == u"finished") {
        e.kind = TrainingEvent::Kind::Finished;
        if (Status s = needString("run", e.runId); !s)
            return s.error();
        const QJsonObject metrics = o.value(QStringLiteral("metrics")).toObject();
        for (auto it = metrics.begin(); it != metrics.end(); ++it)
            if (const auto v = jsonNumber(it.value()))
                e.metrics.insert(it.key(), *v);
    } else if (name == u"failed") {
        e.kind = TrainingEvent::Kind::Failed;
        e.runId = o.value(QStringLiteral("run")).toString();
        e.message = o.value(QStringLiteral("message")).toString();
        if (e.message.isEmpty())
            e.message = QStringLiteral("the run failed");
    } else {
        return eventError(QStringLiteral("unknown event '%1'").arg(name));
    }
    return e;
}

QString locateKeelBinary()
{
    const QString env = qEnvironmentVariable("KEEL_BINARY");
    if (!env.isEmpty() && QFileInfo(env).isExecutable())
        return env;
    if (QCoreApplication::instance()) {
        const QString beside = QCoreApplication::applicationDirPath() + QStringLiteral("/keel");
        if (QFileInfo(beside).isExecutable())
            return beside;
    }
    return QStandardPaths::findExecutable(QStringLiteral("keel"));
}

Expected<TrainingOutcome> runTrainingProcess(const TrainingRequest &request, Feedback *feedback,
                                             const std::function<void(const TrainingEvent &)> &onEvent, int graceMs)
{
    const QString binary = request.keelBinary.isEmpty() ? locateKeelBinary() : request.keelBinary;
    if (binary.isEmpty())
        return makeError(QStringLiteral("the keel runner was not found next to the workbench or on PATH (set KEEL_BINARY)"));
    QStringList args = {QStringLiteral("-C"), request.root, QStringLiteral("train"), request.configPath,
                        QStringLiteral("--events")};
    if (!request.parentRunId.isEmpty())
        args << QStringLiteral("--parent") << request.parentRunId;

    QProcess child;
    child.setProgram(binary);
    child.setArguments(args);
    child.setWorkingDirectory(request.root);
    child.start(QIODevice::ReadOnly);
    if (!child.waitForStarted(30000))
        return makeError(QStringLiteral("cannot start the keel runner: ") + child.errorString(), binary);

    TrainingOutcome out;
    bool endReported = false;
    bool terminated = false;
    QElapsedTimer sinceTerminate;
    QByteArray pending;
    QByteArray errTail;
    const auto drain = [&] {
        pending += child.readAllStandardOutput();
        errTail += child.readAllStandardError();
        if (errTail.size() > kStderrTail)
            errTail = errTail.right(kStderrTail);
        qsizetype newline;
        while ((newline = pending.indexOf('\n')) >= 0) {
            const QByteArray line = pending.left(newline).trimmed();
            pending.remove(0, newline + 1);
            if (line.isEmpty())
                continue;
            auto event = parseTrainingEvent(line);
            if (!event)
                continue;   // stray output is not an event; the stream's contract is one JSON object per line
            switch (event->kind) {
            case TrainingEvent::Kind::Started: out.runId = event->runId; break;
            case TrainingEvent::Kind::Progress: reportProgress(feedback, event->done, event->total, event->stage); break;
            case TrainingEvent::Kind::Metric: break;
            case TrainingEvent::Kind::Finished:
                endReported = true;
                out.status = tracking::RunStatus::Finished;
                out.metrics = event->metrics;
                out.message.clear();
                if (!event->runId.isEmpty())
                    out.runId = event->runId;
                break;
            case TrainingEvent::Kind::Failed:
                endReported = true;
                out.status = event->message == u"cancelled" ? tracking::RunStatus::Killed : tracking::RunStatus::Failed;
                out.message = event->message;
                if (!event->runId.isEmpty())
                    out.runId = event->runId;
                break;
            }
            if (onEvent)
                onEvent(*event);
        }
    };

    while (child.state() != QProcess::NotRunning) {
        child.waitForReadyRead(100);
        drain();
        if (isCancelled(feedback) && !terminated) {
            child.terminate();
            terminated = true;
            sinceTerminate.start();
        }
        if (terminated && sinceTerminate.elapsed() > graceMs && child.state() != QProcess::NotRunning) {
            child.kill();
            child.waitForFinished(5000);
        }
    }
    drain();
    if (!pending.trimmed().isEmpty()) {
        pending += '\n';
        drain();
    }
    const bool crashed = child.exitStatus() == QProcess::CrashExit;
    out.exitCode = crashed ? -1 : child.exitCode();

    if (!endReported) {
        const QString detail = stderrSummary(errTail);
        if (terminated)
            out.message = QStringLiteral("cancelled");
        else if (crashed)
            out.message = detail.isEmpty() ? QStringLiteral("the keel runner crashed")
                                           : QStringLiteral("the keel runner crashed: ") + detail;
        else
            out.message = detail.isEmpty() ? QStringLiteral("the keel runner exited with code %1").arg(out.exitCode) : detail;
        out.status = terminated ? tracking::RunStatus::Killed : tracking::RunStatus::Failed;
        if (!out.runId.isEmpty())
            recordEnd(request.root, out.runId, out.status, out.message);
        TrainingEvent failed;
        failed.kind = TrainingEvent::Kind::Failed;
        failed.runId = out.runId;
        failed.message = out.message;
        if (onEvent)
            onEvent(failed);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------

/// What the worker hands to the UI thread: queued events and, once the child has exited, the outcome.
struct TrainingProcess::Shared {
    std::mutex mutex;
    std::vector<TrainingEvent> events;
    std::optional<TrainingOutcome> outcome;
};

TrainingProcess::TrainingProcess(TaskManager *tasks, TrainingRequest request, QObject *parent)
    : QObject(parent), m_tasks(tasks), m_request(std::move(request)), m_shared(std::make_shared<Shared>())
{
    m_poll.setInterval(kPollMs);
    connect(&m_poll, &QTimer::timeout, this, &TrainingProcess::drain);
    connect(m_tasks, &TaskManager::taskEnded, this, &TrainingProcess::onTaskEnded);
}

TrainingProcess::~TrainingProcess()
{
    if (isActive())
        m_tasks->cancel(m_taskId);
}

quint64 TrainingProcess::start(const QString &title)
{
    if (m_taskId != 0)
        return m_taskId;
    const TrainingRequest request = m_request;
    const std::shared_ptr<Shared> shared = m_shared;
    m_taskId = m_tasks->start<TrainingOutcome>(
        title, QString(),
        [request, shared](Feedback &fb) -> Expected<TrainingOutcome> {
            auto result = runTrainingProcess(request, &fb, [shared](const TrainingEvent &e) {
                std::lock_guard lock(shared->mutex);
                shared->events.push_back(e);
            });
            std::lock_guard lock(shared->mutex);
            if (result) {
                shared->outcome = *result;
            } else {
                TrainingOutcome failed;
                failed.message = result.error().toString();
                shared->outcome = failed;
            }
            return result;
        },
        this, [](Expected<TrainingOutcome> &&) {});
    m_poll.start();
    return m_taskId;
}

void TrainingProcess::cancel()
{
    if (isActive())
        m_tasks->cancel(m_taskId);
}

void TrainingProcess::drain()
{
    std::vector<TrainingEvent> events;
    {
        std::lock_guard lock(m_shared->mutex);
        events.swap(m_shared->events);
    }
    for (const TrainingEvent &e : events) {
        switch (e.kind) {
        case TrainingEvent::Kind::Started:
            m_runId = e.runId;
            emit started(e.runId, e.experiment);
            break;
        case TrainingEvent::Kind::Progress:
            m_stage = e.stage;
            m_done = e.done;
            m_total = e.total;
            emit progressed(e.stage, e.done, e.total);
            break;
        case TrainingEvent::Kind::Metric:
            m_points.push_back({e.key, e.step, e.value, {}});
            emit metricReceived(m_runId, e.key, e.step, e.value);
            break;
        case TrainingEvent::Kind::Finished:
        case TrainingEvent::Kind::Failed:
            if (m_runId.isEmpty())
                m_runId = e.runId;
            break;
        }
    }
}

void TrainingProcess::onTaskEnded(quint64 id)
{
    if (id != m_taskId || m_ended)
        return;
    drain();
    m_poll.stop();
    m_ended = true;
    {
        std::lock_guard lock(m_shared->mutex);
        if (m_shared->outcome) {
            m_outcome = *m_shared->outcome;
        } else {
            m_outcome = TrainingOutcome{};
            m_outcome.message = QStringLiteral("the training task ended without a result");
        }
    }
    if (m_outcome.runId.isEmpty())
        m_outcome.runId = m_runId;
    emit ended(m_outcome);
}

} // namespace keel::ui
