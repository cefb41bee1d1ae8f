#include "ml/trainingevents.h"

#include "ml/training.h"
#include "workspace/workspace.h"

#include <QDateTime>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace keel::ml {

namespace {

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

/// Records the end of a run whose child could not: only while the store still says "running". Best effort: the
/// outcome says what happened either way, and `keel runs list` marks a dead run killed later.
void recordEnd(const QString &root, const QString &runId, tracking::RunStatus status, const QString &reason)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return;
    auto store = (*ws)->tracking();
    if (!store)
        return;
    auto run = (*store)->run(runId);
    if (!run || run->status != tracking::RunStatus::Running)
        return;
    if (!(*store)->setTag(runId, QStringLiteral("error"), reason))
        return;
    if (!(*store)->finishRun(runId, status))
        return;
}

/// Folds one event into the outcome; returns true for an end event (finished or failed).
bool applyEvent(TrainingOutcome &out, const TrainingEvent &event)
{
    switch (event.kind) {
    case TrainingEvent::Kind::Started: out.runId = event.runId; return false;
    case TrainingEvent::Kind::Progress:
    case TrainingEvent::Kind::Metric: return false;
    case TrainingEvent::Kind::Finished:
        out.status = tracking::RunStatus::Finished;
        out.metrics = event.metrics;
        out.message.clear();
        break;
    case TrainingEvent::Kind::Failed:
        out.status = event.cancelled ? tracking::RunStatus::Killed : tracking::RunStatus::Failed;
        out.message = event.message;
        break;
    }
    if (!event.runId.isEmpty())
        out.runId = event.runId;
    return true;
}

} // namespace

TrainingOutcome trainingOutcomeFromLog(const QString &root, const QString &logPath, std::optional<int> exitCode, bool cancelled)
{
    TrainingOutcome out;
    out.exitCode = exitCode.value_or(-1);
    bool endReported = false;
    QByteArray other;   // what is not an event: the runner's stderr and Slurm's own messages
    QFile log(logPath);
    if (log.open(QIODevice::ReadOnly)) {
        while (!log.atEnd()) {
            const QByteArray line = log.readLine().trimmed();
            if (line.isEmpty())
                continue;
            if (auto event = parseTrainingEvent(line))
                endReported = applyEvent(out, *event) || endReported;
            else
                other += line + '\n';
        }
    }
    if (endReported)
        return out;
    const QString detail = stderrSummary(other.right(kStderrTail));
    out.status = cancelled ? tracking::RunStatus::Killed : tracking::RunStatus::Failed;
    if (cancelled)
        out.message = QStringLiteral("cancelled");
    else if (!exitCode)
        out.message = QStringLiteral("the task ended without finishing its script (killed or cancelled by Slurm)") +
                      (detail.isEmpty() ? QString() : QString(QStringLiteral(": ") + detail));
    else
        out.message = detail.isEmpty() ? QStringLiteral("the keel runner exited with code %1").arg(*exitCode) : detail;
    if (!out.runId.isEmpty())
        recordEnd(root, out.runId, out.status, out.message);
    return out;
}

QByteArray trainingEventLine(const TrainingEvent &e)
{
    const auto number = [](double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(QJsonValue::Null); };
    QJsonObject o;
    switch (e.kind) {
    case TrainingEvent::Kind::Started:
        o = {{QStringLiteral("event"), QStringLiteral("started")}, {QStringLiteral("run"), e.runId},
             {QStringLiteral("experiment"), e.experiment}, {QStringLiteral("name"), e.name}};
        if (!e.parentRunId.isEmpty())
            o.insert(QStringLiteral("parent"), e.parentRunId);
        break;
    case TrainingEvent::Kind::Progress:
        o = {{QStringLiteral("event"), QStringLiteral("progress")}, {QStringLiteral("stage"), e.stage},
             {QStringLiteral("done"), e.done}, {QStringLiteral("total"), e.total}};
        break;
    case TrainingEvent::Kind::Metric:
        o = {{QStringLiteral("event"), QStringLiteral("metric")}, {QStringLiteral("key"), e.key},
             {QStringLiteral("step"), e.step}, {QStringLiteral("value"), number(e.value)}};
        break;
    case TrainingEvent::Kind::Finished: {
        QJsonObject metrics;
        for (auto it = e.metrics.cbegin(); it != e.metrics.cend(); ++it)
            metrics.insert(it.key(), number(it.value().toDouble()));
        o = {{QStringLiteral("event"), QStringLiteral("finished")}, {QStringLiteral("run"), e.runId},
             {QStringLiteral("metrics"), metrics}};
        break;
    }
    case TrainingEvent::Kind::Failed:
        o = {{QStringLiteral("event"), QStringLiteral("failed")}, {QStringLiteral("run"), e.runId},
             {QStringLiteral("message"), e.message}, {QStringLiteral("cancelled"), e.cancelled}};
        break;
    }
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

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
        e.parentRunId = o.value(QStringLiteral("parent")).toString();
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
        e.cancelled = o.value(QStringLiteral("cancelled")).toBool();
        if (e.message.isEmpty())
            e.message = e.cancelled ? QStringLiteral("cancelled") : QStringLiteral("the run failed");
    } else {
        return eventError(QStringLiteral("unknown event '%1'").arg(name));
    }
    return e;
}

Expected<TrainingResult> runTrainingWithEvents(workspace::Workspace &ws, const TrainingConfig &config, Feedback *feedback,
                                               const std::function<void(const TrainingEvent &)> &sink)
{
    Feedback inner;   // progress becomes events; the caller's cancel still stops the run
    inner.setParent(feedback);
    qint64 lastMs = 0;
    QString lastStage;
    inner.setCallback([&](qint64 done, qint64 total, const QString &stage) {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        if (stage == lastStage && now - lastMs < 100 && done < total)
            return;
        lastMs = now;
        lastStage = stage;
        TrainingEvent e;
        e.kind = TrainingEvent::Kind::Progress;
        e.stage = stage;
        e.done = done;
        e.total = total;
        sink(e);
    });
    QString runId;
    TrainingObserver observer;
    observer.started = [&](const QString &id, const QString &experiment) {
        runId = id;
        TrainingEvent e;
        e.kind = TrainingEvent::Kind::Started;
        e.runId = id;
        e.experiment = experiment;
        e.name = config.name;
        e.parentRunId = config.parentRunId;
        sink(e);
    };
    observer.metric = [&](const QString &key, qint64 step, double value) {
        TrainingEvent e;
        e.kind = TrainingEvent::Kind::Metric;
        e.key = key;
        e.step = step;
        e.value = value;
        sink(e);
    };
    auto result = runTraining(ws, config, &inner, &observer);
    TrainingEvent end;
    if (result) {
        end.kind = TrainingEvent::Kind::Finished;
        end.runId = result->runId;
        end.metrics = result->metrics;
    } else {
        end.kind = TrainingEvent::Kind::Failed;
        end.runId = runId;
        end.cancelled = result.is(ErrorKind::Cancelled);
        end.message = end.cancelled ? QStringLiteral("cancelled") : result.error().toString();
    }
    sink(end);
    return result;
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
    if (!request.sweepId.isEmpty())
        args << QStringLiteral("--sweep-id") << request.sweepId;

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
            if (event->kind == TrainingEvent::Kind::Progress)
                reportProgress(feedback, event->done, event->total, event->stage);
            endReported = applyEvent(out, *event) || endReported;
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
        failed.cancelled = terminated;
        if (onEvent)
            onEvent(failed);
    }
    return out;
}

} // namespace keel::ml
