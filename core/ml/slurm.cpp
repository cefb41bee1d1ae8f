#include "ml/slurm.h"

#include "ml/trainingevents.h"
#include "util/fileutil.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QThread>

namespace keel::ml {

namespace {

struct CommandResult {
    int code = -1;
    QByteArray out, err;
};

Expected<CommandResult> runCommand(const QString &program, const QStringList &args, int timeoutMs = 60000)
{
    const QString path = QStandardPaths::findExecutable(program);
    if (path.isEmpty())
        return makeError(ErrorKind::NotFound, QStringLiteral("'%1' is not on PATH; is Slurm installed (Debian slurm-client)?").arg(program));
    QProcess p;
    p.start(path, args);
    if (!p.waitForStarted(10000))
        return makeError(ErrorKind::Failed, QStringLiteral("cannot start %1: %2").arg(program, p.errorString()));
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return makeError(ErrorKind::Failed, QStringLiteral("%1 did not answer within %2 s").arg(program).arg(timeoutMs / 1000));
    }
    return CommandResult{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
                         p.readAllStandardError()};
}

/// A shell word: single-quoted, with embedded quotes closed, escaped and reopened.
QString shellQuote(const QString &s)
{
    QString out = s;
    out.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + out + QLatin1Char('\'');
}

QString exitFile(const SlurmArray &job, int task)
{
    return job.dir + QStringLiteral("/task-%1.exit").arg(task);
}

// How long a task may be gone from squeue before its missing exit file means it was killed.
constexpr qint64 kExitFileGraceMs = 30000;

std::optional<int> readExit(const SlurmArray &job, int task)
{
    QFile f(exitFile(job, task));
    if (!f.open(QIODevice::ReadOnly))
        return std::nullopt;
    bool ok = false;
    const int code = f.readAll().trimmed().toInt(&ok);
    return ok ? std::optional<int>(code) : std::nullopt;
}

} // namespace

QString slurmUnavailableReason()
{
    for (const char *tool : {"sbatch", "squeue", "scancel"})
        if (QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty())
            return QStringLiteral("Slurm's '%1' is not on PATH (Debian package slurm-client, or slurm-wlm for a one-machine "
                                  "cluster)").arg(QString::fromLatin1(tool));
    return {};
}

QString slurmTaskLog(const SlurmArray &job, const QString &jobId, int task)
{
    return job.dir + QStringLiteral("/slurm-%1_%2.log").arg(jobId).arg(task);
}

QString slurmLogTail(const QString &logPath, qint64 maxBytes)
{
    QFile f(logPath);
    if (!f.open(QIODevice::ReadOnly))
        return QStringLiteral("(no Slurm log at %1)").arg(logPath);
    if (f.size() > maxBytes)
        f.seek(f.size() - maxBytes);
    return QString::fromUtf8(f.readAll()).trimmed();
}

Expected<QString> submitSlurmArray(const SlurmArray &job)
{
    if (const QString why = slurmUnavailableReason(); !why.isEmpty())
        return makeError(ErrorKind::NotFound, why);
    if (job.configPaths.isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("nothing to submit to Slurm"));
    for (const QString &c : job.configPaths)
        if (c.contains(QLatin1Char('\n')))
            return makeError(ErrorKind::InvalidInput, QStringLiteral("a config path contains a line break"), c);
    const QString keel = job.keelBinary.isEmpty() ? locateKeelBinary() : job.keelBinary;
    if (keel.isEmpty())
        return makeError(ErrorKind::NotFound, QStringLiteral("cannot find the keel runner for the Slurm tasks (set KEEL_BINARY)"));
    if (!QDir().mkpath(job.dir))
        return makeError(ErrorKind::Io, QStringLiteral("cannot create folder"), job.dir);

    if (Status s = writeFileAtomic(job.dir + QStringLiteral("/configs.txt"), (job.configPaths.join(QLatin1Char('\n')) + QLatin1Char('\n')).toUtf8()); !s)
        return s.error();
    QString train = shellQuote(keel) + QStringLiteral(" -C ") + shellQuote(job.root) + QStringLiteral(" train \"$config\" --events");
    if (!job.parentRunId.isEmpty())
        train += QStringLiteral(" --parent ") + shellQuote(job.parentRunId);
    if (!job.sweepId.isEmpty())
        train += QStringLiteral(" --sweep-id ") + shellQuote(job.sweepId);
    const QString script = QStringLiteral(
        "#!/bin/sh\n"
        "# Written by keel. Task N of this job array trains line N of configs.txt with the command a local run uses,\n"
        "# then records its exit code beside the Slurm log (read by keel; Slurm's accounting is not needed).\n"
        "dir=%1\n"
        "config=$(sed -n \"${SLURM_ARRAY_TASK_ID}p\" \"$dir/configs.txt\")\n"
        "%2\n"
        "code=$?\n"
        "echo \"$code\" > \"$dir/task-$SLURM_ARRAY_TASK_ID.exit.tmp\" && mv \"$dir/task-$SLURM_ARRAY_TASK_ID.exit.tmp\" \"$dir/task-$SLURM_ARRAY_TASK_ID.exit\"\n"
        "exit \"$code\"\n").arg(shellQuote(job.dir), train);
    const QString scriptPath = job.dir + QStringLiteral("/job.sh");
    if (Status s = writeFileAtomic(scriptPath, script.toUtf8()); !s)
        return s.error();
    QFile::setPermissions(scriptPath, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner |
                                          QFileDevice::ReadGroup | QFileDevice::ExeGroup);

    QString array = QStringLiteral("1-%1").arg(job.configPaths.size());
    if (job.parallel > 0)
        array += QStringLiteral("%%1").arg(job.parallel);
    QStringList args{QStringLiteral("--parsable"),
                     QStringLiteral("--array=") + array,
                     QStringLiteral("--job-name=") + (job.jobName.isEmpty() ? QStringLiteral("keel") : job.jobName),
                     QStringLiteral("--output=") + job.dir + QStringLiteral("/slurm-%A_%a.log"),
                     QStringLiteral("--chdir=") + job.root,
                     QStringLiteral("--cpus-per-task=%1").arg(std::max(1, job.cpusPerTask))};
    args << job.sbatchArgs << scriptPath;
    auto r = runCommand(QStringLiteral("sbatch"), args);
    if (!r)
        return r.error();
    if (r->code != 0)
        return makeError(ErrorKind::Failed, QStringLiteral("sbatch refused the job: ") + QString::fromUtf8(r->err + r->out).trimmed(),
                         scriptPath);
    const QString id = QString::fromUtf8(r->out).trimmed().section(QLatin1Char(';'), 0, 0);
    bool numeric = false;
    id.toLongLong(&numeric);
    if (!numeric)
        return makeError(ErrorKind::Failed, QStringLiteral("sbatch answered '%1', not a job id").arg(QString::fromUtf8(r->out).trimmed()));
    return id;
}

Status cancelSlurmJob(const QString &jobId)
{
    auto r = runCommand(QStringLiteral("scancel"), {jobId});
    if (!r)
        return r.error();
    if (r->code != 0)
        return makeError(ErrorKind::Failed, QStringLiteral("scancel %1 failed: %2").arg(jobId, QString::fromUtf8(r->err).trimmed()));
    return {};
}

Status waitForSlurmArray(const SlurmArray &job, const QString &jobId, Feedback *feedback,
                         const std::function<void(const SlurmTaskEnd &)> &onEnd, int pollMs)
{
    const int total = int(job.configPaths.size());
    QSet<int> reported;
    QHash<int, qint64> goneSince;
    QElapsedTimer failingSince;
    bool cancelSent = false;
    auto report = [&](int task, std::optional<int> code) {
        reported.insert(task);
        if (onEnd)
            onEnd(SlurmTaskEnd{task, code, slurmTaskLog(job, jobId, task)});
        reportProgress(feedback, reported.size(), total, QStringLiteral("slurm"));
    };
    reportProgress(feedback, 0, total, QStringLiteral("slurm"));
    while (reported.size() < total) {
        if (!cancelSent && isCancelled(feedback)) {
            if (Status s = cancelSlurmJob(jobId); !s)
                return s;
            cancelSent = true;
        }
        for (int task = 1; task <= total; ++task)
            if (!reported.contains(task))
                if (auto code = readExit(job, task))
                    report(task, code);
        // The tasks Slurm still lists (pending tasks expanded with -r); a task it no longer lists has ended. A busy
        // controller may fail to answer now and then: only a minute of failures in a row gives up (and cancels).
        auto q = runCommand(QStringLiteral("squeue"), {QStringLiteral("-h"), QStringLiteral("-r"), QStringLiteral("-j"), jobId,
                                                       QStringLiteral("-o"), QStringLiteral("%i")});
        const bool answered = q && (q->code == 0 || q->err.contains("Invalid job id"));
        if (!answered) {
            if (!failingSince.isValid())
                failingSince.start();
            if (failingSince.elapsed() > 60000) {
                const QString why = q ? QString::fromUtf8(q->err).trimmed() : q.error().message;
                if (Status s = cancelSlurmJob(jobId); !s)
                    return makeError(ErrorKind::Failed, QStringLiteral("squeue failed for a minute (%1), and so did scancel: %2")
                                                            .arg(why, s.error().message));
                return makeError(ErrorKind::Failed, QStringLiteral("squeue failed for a minute (%1); job %2 was cancelled").arg(why, jobId));
            }
            QThread::msleep(ulong(pollMs));
            continue;
        }
        failingSince.invalidate();
        QSet<int> listed;
        if (q->code == 0) {
            for (const QByteArray &line : q->out.split('\n')) {
                const QByteArray id = line.trimmed();
                const qsizetype underscore = id.indexOf('_');
                if (underscore <= 0 || id.left(underscore) != jobId.toLatin1())
                    continue;
                QByteArray tasks = id.mid(underscore + 1);
                // Tasks not yet started may come as one range: "[2-4%2]" or "[3,5-7]".
                if (tasks.startsWith('[')) {
                    tasks = tasks.mid(1).split(']').value(0).split('%').value(0);
                    for (const QByteArray &part : tasks.split(',')) {
                        const QList<QByteArray> ends = part.split('-');
                        const int first = ends.value(0).toInt(), last = ends.size() > 1 ? ends.value(1).toInt() : first;
                        for (int t = first; t <= last && t <= total; ++t)
                            listed.insert(t);
                    }
                } else {
                    listed.insert(tasks.toInt());
                }
            }
        }
        for (int task = 1; task <= total; ++task) {
            if (reported.contains(task) || listed.contains(task))
                continue;
            if (auto code = readExit(job, task)) {   // read again: it may have ended between the two looks
                report(task, code);
                continue;
            }
            // Gone from the queue without its exit file: killed, or the file is not visible here yet (a shared file
            // system's attribute cache). Wait a while before calling it killed, unless we cancelled it ourselves.
            if (!goneSince.contains(task))
                goneSince.insert(task, QDateTime::currentMSecsSinceEpoch());
            if (cancelSent || QDateTime::currentMSecsSinceEpoch() - goneSince.value(task) > kExitFileGraceMs)
                report(task, std::nullopt);
        }
        if (reported.size() < total)
            QThread::msleep(ulong(pollMs));
    }
    return {};
}

} // namespace keel::ml
