#pragma once
// Live servers for the scale-out tests (PostgreSQL, an S3-compatible server, Slurm), started from their Debian or npm
// packages on loopback by the test itself and stopped by process id when it ends. Each server says why it cannot
// start (`missing()`), so a test skips with a stated reason only when a package is not installed.

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QProcess>
#include <QSqlDatabase>
#include <QStandardPaths>
#include <QSysInfo>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <csignal>
#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

namespace liveservers {

/// A TCP port on 127.0.0.1 that was free a moment ago.
inline quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

struct Output {
    int code = -1;
    QByteArray text;   ///< stdout and stderr, merged
};

/// Runs a program to completion; as `user` when this process is root and the user exists (PostgreSQL refuses to run
/// as root), else as ourselves.
inline Output run(const QString &program, const QStringList &args, const QString &user = {}, int timeoutMs = 120000)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    if (::geteuid() == 0 && !user.isEmpty() && ::getpwnam(user.toLocal8Bit().constData()))
        p.start(QStringLiteral("runuser"), QStringList{QStringLiteral("-u"), user, QStringLiteral("--"), program} + args);
    else
        p.start(program, args);
    Output out;
    if (!p.waitForStarted(10000)) {
        out.text = "cannot start " + program.toLocal8Bit();
        return out;
    }
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        out.text = p.readAll() + "\n(timed out)";
        return out;
    }
    out.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    out.text = p.readAll();
    return out;
}

/// Sends SIGTERM (then SIGKILL after `graceMs`) to a process we started and waits until it is gone.
inline void stopPid(qint64 pid, int signal = SIGTERM, int graceMs = 20000)
{
    if (pid <= 0 || ::kill(pid_t(pid), 0) != 0)
        return;
    ::kill(pid_t(pid), signal);
    QElapsedTimer t;
    t.start();
    while (::kill(pid_t(pid), 0) == 0 && t.elapsed() < graceMs)
        QThread::msleep(20);
    if (::kill(pid_t(pid), 0) == 0)
        ::kill(pid_t(pid), SIGKILL);
}

/// Gives a folder to `user` (when root) so a server running as that user can write it.
inline void handTo(const QString &path, const QString &user)
{
    if (::geteuid() != 0)
        return;
    if (const passwd *pw = ::getpwnam(user.toLocal8Bit().constData()))
        if (::chown(QFile::encodeName(path).constData(), pw->pw_uid, pw->pw_gid) != 0)
            qWarning("cannot chown %s", qPrintable(path));
}

/// PostgreSQL from Debian's postgresql package: initdb in a temporary folder, then postgres on a loopback port as the
/// `postgres` user (when root). The superuser is "keel", trusted on loopback only.
class Postgres {
public:
    Postgres() = default;
    Postgres(const Postgres &) = delete;
    Postgres &operator=(const Postgres &) = delete;
    ~Postgres() { stop(); }

    /// The folder holding initdb and pg_ctl (the newest installed major version), or empty.
    static QString binDir()
    {
        QDir lib(QStringLiteral("/usr/lib/postgresql"));
        QStringList versions = lib.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        std::sort(versions.begin(), versions.end(), [](const QString &a, const QString &b) { return a.toInt() > b.toInt(); });
        for (const QString &v : versions)
            if (QFileInfo::exists(lib.filePath(v + QStringLiteral("/bin/initdb"))))
                return lib.filePath(v + QStringLiteral("/bin"));
        return {};
    }

    /// Why no server can start here, or empty.
    static QString missing()
    {
        if (binDir().isEmpty())
            return QStringLiteral("PostgreSQL is not installed (Debian package postgresql; packaging/install-deps.sh installs it)");
        if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
            return QStringLiteral("Qt's PostgreSQL driver is not installed (Debian package libqt6sql6-psql)");
        return {};
    }

    bool start(QString *error)
    {
        if (!m_dir.isValid()) {
            *error = QStringLiteral("no temporary folder");
            return false;
        }
        QFile::setPermissions(m_dir.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner |
                                                QFileDevice::ExeGroup | QFileDevice::ExeOther | QFileDevice::ReadGroup |
                                                QFileDevice::ReadOther);
        const QString data = m_dir.filePath(QStringLiteral("data"));
        QDir().mkpath(data);
        handTo(data, QStringLiteral("postgres"));
        const QString bin = binDir();
        Output init = run(bin + QStringLiteral("/initdb"),
                          {QStringLiteral("-D"), data, QStringLiteral("-U"), QStringLiteral("keel"),
                           QStringLiteral("--auth=trust"), QStringLiteral("--no-sync"), QStringLiteral("-E"),
                           QStringLiteral("UTF8"), QStringLiteral("--locale=C.UTF-8")},
                          QStringLiteral("postgres"));
        if (init.code != 0) {
            *error = QStringLiteral("initdb failed: ") + QString::fromLocal8Bit(init.text);
            return false;
        }
        m_port = freePort();
        const QString options = QStringLiteral("-p %1 -k %2 -c listen_addresses=127.0.0.1 -c fsync=off").arg(m_port).arg(data);
        Output started = run(bin + QStringLiteral("/pg_ctl"),
                             {QStringLiteral("-D"), data, QStringLiteral("-o"), options, QStringLiteral("-l"),
                              data + QStringLiteral("/server.log"), QStringLiteral("-w"), QStringLiteral("start")},
                             QStringLiteral("postgres"));
        QFile pidFile(data + QStringLiteral("/postmaster.pid"));
        if (pidFile.open(QIODevice::ReadOnly))
            m_pid = pidFile.readLine().trimmed().toLongLong();
        if (started.code != 0 || m_pid <= 0) {
            QFile log(data + QStringLiteral("/server.log"));
            const QByteArray logText = log.open(QIODevice::ReadOnly) ? log.readAll() : QByteArray();
            *error = QStringLiteral("pg_ctl start failed: ") + QString::fromLocal8Bit(started.text + logText);
            return false;
        }
        return true;
    }

    /// Fast shutdown of the postmaster we started, by its process id.
    void stop()
    {
        stopPid(m_pid, SIGINT);
        m_pid = 0;
    }

    bool createDatabase(const QString &name, QString *error) const
    {
        Output o = run(binDir() + QStringLiteral("/createdb"),
                       {QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"), QString::number(m_port),
                        QStringLiteral("-U"), QStringLiteral("keel"), name});
        if (o.code != 0)
            *error = QString::fromLocal8Bit(o.text);
        return o.code == 0;
    }

    QString url(const QString &database) const
    {
        return QStringLiteral("postgresql://keel@127.0.0.1:%1/%2").arg(m_port).arg(database);
    }
    quint16 port() const { return m_port; }
    qint64 pid() const { return m_pid; }

private:
    QTemporaryDir m_dir;
    quint16 m_port = 0;
    qint64 m_pid = 0;
};

/// s3rver (npm package s3rver@3.7.1, a pure-JavaScript S3 server; packaging/install-deps.sh installs it under
/// ~/.cache/keel/s3rver) on a loopback port with one bucket. Its access key and secret are both "S3RVER".
class S3rver {
public:
    S3rver() = default;
    S3rver(const S3rver &) = delete;
    S3rver &operator=(const S3rver &) = delete;
    ~S3rver() { stop(); }

    /// The s3rver script: $KEEL_S3RVER, else ~/.cache/keel/s3rver, else on PATH.
    static QString script()
    {
        const QStringList candidates{qEnvironmentVariable("KEEL_S3RVER"),
                                     QDir::homePath() + QStringLiteral("/.cache/keel/s3rver/node_modules/s3rver/bin/s3rver.js"),
                                     QStandardPaths::findExecutable(QStringLiteral("s3rver"))};
        for (const QString &c : candidates)
            if (!c.isEmpty() && QFileInfo::exists(c))
                return c;
        return {};
    }

    static QString missing()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("node")).isEmpty())
            return QStringLiteral("Node.js is not installed (Debian package nodejs), so s3rver cannot run");
        if (script().isEmpty())
            return QStringLiteral("s3rver is not installed (npm install --prefix ~/.cache/keel/s3rver s3rver@3.7.1; "
                                  "packaging/install-deps.sh does it)");
        return {};
    }

    bool start(const QString &bucket, QString *error)
    {
        m_port = freePort();
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start(QStandardPaths::findExecutable(QStringLiteral("node")),
                        // s3rver 3.7 encrypts listing continuation tokens with a cipher OpenSSL 3 keeps in its legacy provider.
                        {QStringLiteral("--openssl-legacy-provider"), script(), QStringLiteral("-d"), m_dir.path(), QStringLiteral("-a"), QStringLiteral("127.0.0.1"),
                         QStringLiteral("-p"), QString::number(m_port), QStringLiteral("--silent"),
                         QStringLiteral("--configure-bucket"), bucket});
        if (!m_process.waitForStarted(10000)) {
            *error = QStringLiteral("cannot start node");
            return false;
        }
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 30000) {
            QTcpSocket probe;
            probe.connectToHost(QHostAddress::LocalHost, m_port);
            if (probe.waitForConnected(200))
                return true;
            if (m_process.state() == QProcess::NotRunning)
                break;
            QThread::msleep(100);
        }
        *error = QStringLiteral("s3rver did not start: ") + QString::fromLocal8Bit(m_process.readAll());
        return false;
    }

    void stop()
    {
        if (m_process.state() != QProcess::NotRunning) {
            stopPid(m_process.processId());
            m_process.waitForFinished(5000);
        }
    }

    QString endpoint() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_port); }
    /// Where s3rver keeps its files (to damage a stored object on purpose).
    QString dataDir() const { return m_dir.path(); }

private:
    QTemporaryDir m_dir;
    QProcess m_process;
    quint16 m_port = 0;
};

/// A one-node Slurm cluster on this machine (Debian slurm-wlm and munge), with its own munge key, socket, state and
/// ports: munged, slurmctld and slurmd are started here and stopped by their process ids. SLURM_CONF is set in this
/// process's environment, so sbatch, squeue and scancel (and the keel processes the test starts) reach this cluster.
class Slurm {
public:
    Slurm() = default;
    Slurm(const Slurm &) = delete;
    Slurm &operator=(const Slurm &) = delete;
    ~Slurm() { stop(); }

    static QString missing()
    {
        for (const char *tool : {"/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/sbin/mungekey"})
            if (!QFileInfo::exists(QString::fromLatin1(tool)))
                return QStringLiteral("%1 is missing (Debian packages slurm-wlm and munge; packaging/install-deps.sh installs them)")
                    .arg(QString::fromLatin1(tool));
        for (const char *tool : {"sbatch", "squeue", "scancel", "sinfo"})
            if (QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty())
                return QStringLiteral("%1 is not on PATH (Debian package slurm-client)").arg(QString::fromLatin1(tool));
        return {};
    }

    bool start(QString *error)
    {
        const QString d = m_dir.path();
        QFile::setPermissions(d, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner |
                                     QFileDevice::ReadGroup | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther);
        const QString munge = d + QStringLiteral("/munge");
        QDir().mkpath(munge);
        QDir().mkpath(d + QStringLiteral("/state"));
        QDir().mkpath(d + QStringLiteral("/spool"));
        const QString mungeUser = ::geteuid() == 0 ? QStringLiteral("munge") : QString();
        if (!mungeUser.isEmpty())
            handTo(munge, mungeUser);
        const QString key = munge + QStringLiteral("/munge.key");
        Output k = run(QStringLiteral("/usr/sbin/mungekey"), {QStringLiteral("--create"), QStringLiteral("--keyfile=") + key}, mungeUser);
        if (k.code != 0) {
            *error = QStringLiteral("mungekey failed: ") + QString::fromLocal8Bit(k.text);
            return false;
        }
        m_socket = munge + QStringLiteral("/munge.socket");
        Output m = run(QStringLiteral("/usr/sbin/munged"),
                       {QStringLiteral("--socket=") + m_socket, QStringLiteral("--key-file=") + key,
                        QStringLiteral("--pid-file=") + munge + QStringLiteral("/munged.pid"),
                        QStringLiteral("--log-file=") + munge + QStringLiteral("/munged.log"),
                        QStringLiteral("--seed-file=") + munge + QStringLiteral("/munged.seed")},
                       mungeUser);
        if (m.code != 0) {
            *error = QStringLiteral("munged failed: ") + QString::fromLocal8Bit(m.text);
            return false;
        }
        const QString host = QSysInfo::machineHostName().section(QLatin1Char('.'), 0, 0);
        const passwd *me = ::getpwuid(::geteuid());
        const QString user = me ? QString::fromLocal8Bit(me->pw_name) : QStringLiteral("root");
        const QString conf = QStringLiteral(
            "ClusterName=keeltest\nSlurmctldHost=%1(127.0.0.1)\nSlurmUser=%2\nSlurmctldPort=%3\nSlurmdPort=%4\n"
            "AuthType=auth/munge\nAuthInfo=socket=%5\nCredType=cred/munge\nStateSaveLocation=%6/state\n"
            "SlurmdSpoolDir=%6/spool\nSlurmctldPidFile=%6/slurmctld.pid\nSlurmdPidFile=%6/slurmd.pid\n"
            "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSelectType=select/cons_tres\n"
            "SelectTypeParameters=CR_Core\nReturnToService=2\nMpiDefault=none\nJobAcctGatherType=jobacct_gather/none\n"
            "AccountingStorageType=accounting_storage/none\nSlurmctldLogFile=%6/slurmctld.log\nSlurmdLogFile=%6/slurmd.log\n"
            "SlurmctldTimeout=30\nSlurmdTimeout=30\nInactiveLimit=0\nKillWait=5\n"
            "NodeName=%1 NodeAddr=127.0.0.1 CPUs=%7 State=UNKNOWN\n"
            "PartitionName=debug Nodes=%1 Default=YES MaxTime=INFINITE State=UP\n")
                                 .arg(host, user)
                                 .arg(freePort())
                                 .arg(freePort())
                                 .arg(m_socket, d)
                                 .arg(std::max(1, QThread::idealThreadCount()));
        const QString confPath = d + QStringLiteral("/slurm.conf");
        {
            QFile f(confPath);
            if (!f.open(QIODevice::WriteOnly)) {
                *error = QStringLiteral("cannot write slurm.conf");
                return false;
            }
            f.write(conf.toUtf8());
        }
        qputenv("SLURM_CONF", confPath.toLocal8Bit());
        Output ctl = run(QStringLiteral("/usr/sbin/slurmctld"), {QStringLiteral("-i")});
        Output node = run(QStringLiteral("/usr/sbin/slurmd"), {QStringLiteral("-N"), host});
        if (ctl.code != 0 || node.code != 0) {
            *error = QStringLiteral("slurm daemons failed: ") + QString::fromLocal8Bit(ctl.text + node.text) + log();
            return false;
        }
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 60000) {
            Output info = run(QStringLiteral("sinfo"), {QStringLiteral("-h"), QStringLiteral("-o"), QStringLiteral("%T")});
            if (info.code == 0 && info.text.trimmed() == "idle")
                return true;
            QThread::msleep(300);
        }
        *error = QStringLiteral("the Slurm node did not become idle: ") + log();
        return false;
    }

    void stop()
    {
        for (const char *pidFile : {"/slurmd.pid", "/slurmctld.pid", "/munge/munged.pid"}) {
            QFile f(m_dir.path() + QLatin1String(pidFile));
            if (f.open(QIODevice::ReadOnly))
                stopPid(f.readAll().trimmed().toLongLong());
            f.remove();
        }
    }

    QString log() const
    {
        QFile f(m_dir.path() + QStringLiteral("/slurmctld.log"));
        return f.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(f.readAll().right(2000)) : QString();
    }

private:
    QTemporaryDir m_dir;
    QString m_socket;
};

} // namespace liveservers
