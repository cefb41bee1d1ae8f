#pragma once
// Helpers shared by the end-to-end CLI tests: run the real keel binary in a folder and collect its output.
#include <QCryptographicHash>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QTest>

namespace clitest {

struct Result {
    int code = -1;
    QByteArray out;
    QByteArray err;
};

inline Result keel(const QStringList &args, const QString &cwd, int timeoutMs = 300000)
{
    QProcess p;
    p.setWorkingDirectory(cwd);
    p.start(QStringLiteral(KEEL_BINARY), args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
    }
    Result r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

inline QJsonDocument keelJson(const QStringList &args, const QString &cwd)
{
    Result r = keel(QStringList{QStringLiteral("--json")} + args, cwd);
    if (r.code != 0)
        qWarning("keel %s failed: %s", qPrintable(args.join(QLatin1Char(' '))), r.err.constData());
    return QJsonDocument::fromJson(r.out);
}

inline QByteArray fileSha(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(&f);
    return h.result().toHex();
}

inline QString example(const char *name) { return QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/") + QLatin1String(name); }

inline void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

// Runs the expression once and fails the test with keel's stderr when it did not exit 0.
#define RUN_OK(expr) \
    do { \
        const Result r_ = (expr); \
        QVERIFY2(r_.code == 0, r_.err.constData()); \
    } while (false)

} // namespace clitest
