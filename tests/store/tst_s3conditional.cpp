// Two pushes to an S3 remote racing on one ref: only the first wins, the second is refused with nothing of the first's
// overwritten, and refs a push did not change are left as the remote has them. This needs a server that honours
// conditional writes (If-Match, If-None-Match: *), as AWS S3 does since 2024; s3rver, the live server of tst_s3,
// ignores them. So these tests run against tests/support/conditional_s3.py, a small in-memory endpoint that answers
// as AWS documents (started here, needs only python3), and against its modes for servers that reject the headers
// or ask for a retry. Skipped, saying why, only when python3 is not installed.
#include "store/s3client.h"
#include "workspace/s3remote.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

namespace st = keel::store;
namespace ws = keel::workspace;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }

/// The endpoint as a child process on a loopback port it picks; killed with this object.
class Endpoint {
public:
    bool start(const QStringList &modes, QString *error)
    {
        const QString python = QStandardPaths::findExecutable(S("python3"));
        m_process.start(python, QStringList{S(KEEL_SOURCE_DIR "/tests/support/conditional_s3.py")} + modes);
        if (!m_process.waitForReadyRead(10000)) {
            *error = S("the conditional S3 endpoint did not start: ") + QString::fromUtf8(m_process.readAllStandardError());
            return false;
        }
        m_port = m_process.readLine().trimmed().toInt();
        return m_port > 0;
    }
    ~Endpoint()
    {
        m_process.kill();
        m_process.waitForFinished();
    }
    st::S3Client client() const
    {
        auto loc = st::parseS3Url(S("s3://race/team"));
        loc->endpoint = S("http://127.0.0.1:%1").arg(m_port);
        return st::S3Client(*loc, st::S3Credentials{S("key"), S("secret"), {}, S("test")});
    }

private:
    QProcess m_process;
    int m_port = 0;
};

bool setRef(const QString &mirror, const QString &ref, char digit)
{
    QDir().mkpath(QFileInfo(mirror + S("/") + ref).absolutePath());
    QFile f(mirror + S("/") + ref);
    return f.open(QIODevice::WriteOnly) && f.write(QByteArray(40, digit) + '\n') > 0;
}

QByteArray remoteRef(const st::S3Client &c, const QString &ref)
{
    auto bytes = c.get(S("git/") + ref);
    return bytes ? bytes->trimmed() : QByteArray();
}
} // namespace

class TstS3Conditional : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable(S("python3")).isEmpty())
            QSKIP("python3 is not installed (packaging/install-deps.sh installs it)");
    }

    void conditionalPuts()
    {
        Endpoint server;
        QString error;
        QVERIFY2(server.start({}, &error), qPrintable(error));
        const st::S3Client c = server.client();
        QVERIFY(c.put(S("x"), "one"));
        QByteArray tag;
        QCOMPARE(*c.get(S("x"), &tag), QByteArray("one"));
        QVERIFY(tag.startsWith('"') && tag.size() > 2);
        const auto created = c.put(S("x"), "two", {{}, true});   // create only: it exists
        QVERIFY(!created);
        QCOMPARE(created.error().kind, keel::ErrorKind::Conflict);
        QVERIFY(c.put(S("x"), "two", {tag, false}));             // replace the version read
        const auto stale = c.put(S("x"), "three", {tag, false});  // that version is gone
        QVERIFY(!stale);
        QCOMPARE(stale.error().kind, keel::ErrorKind::Conflict);
        QVERIFY(c.put(S("x"), "two", {tag, false}));   // a retry whose first attempt landed: the bytes are already there
        QCOMPARE(*c.get(S("x")), QByteArray("two"));
        const auto gone = c.put(S("nothing"), "x", {tag, false});   // If-Match on a missing key: 404
        QVERIFY(!gone);
        QCOMPARE(gone.error().kind, keel::ErrorKind::Conflict);
    }

    void otherServersAnswers()
    {
        // A server that rejects the headers (501 NotImplemented) gets the plain PUT; a 409 is retried.
        for (const QString &mode : {S("--reject-conditions"), S("--busy-once")}) {
            Endpoint server;
            QString error;
            QVERIFY2(server.start({mode}, &error), qPrintable(error));
            const st::S3Client c = server.client();
            QVERIFY2(c.put(S("x"), "one", {{}, true}), qPrintable(mode));
            QCOMPARE(*c.get(S("x")), QByteArray("one"));
        }
    }

    void racingPushesOnOneRef()
    {
        Endpoint server;
        QString error;
        QVERIFY2(server.start({}, &error), qPrintable(error));
        const st::S3Client c = server.client();
        // Two mirrors of the remote's git folder, as two workspaces pushing at once hold them.
        QTemporaryDir dir;
        const QString a = dir.filePath(S("a")), b = dir.filePath(S("b"));
        QVERIFY(ws::downloadGitMirror(c, a));   // creates the mirror: the remote is empty
        QVERIFY(setRef(a, S("refs/heads/main"), '1'));
        QVERIFY(setRef(a, S("refs/heads/dev"), '7'));
        QVERIFY(ws::uploadGitMirror(c, a));
        QCOMPARE(remoteRef(c, S("refs/heads/main")), QByteArray(40, '1'));

        ws::RemoteRefTags seenA, seenB;
        QVERIFY(ws::downloadGitMirror(c, a, &seenA));
        QVERIFY(ws::downloadGitMirror(c, b, &seenB));
        QVERIFY(seenB.contains(S("refs/heads/main")));
        // A moves main and creates a branch; then B, from the same start, tries both.
        QVERIFY(setRef(a, S("refs/heads/main"), '2'));
        QVERIFY(setRef(a, S("refs/heads/exp"), '4'));
        QVERIFY(ws::uploadGitMirror(c, a, &seenA));
        QVERIFY(setRef(b, S("refs/heads/main"), '3'));
        const keel::Status lost = ws::uploadGitMirror(c, b, &seenB);
        QVERIFY(!lost);
        QCOMPARE(lost.error().kind, keel::ErrorKind::Conflict);
        QVERIFY2(lost.error().message.contains(S("refs/heads/main")) && lost.error().message.contains(S("pull")),
                 qPrintable(lost.error().message));
        QCOMPARE(remoteRef(c, S("refs/heads/main")), QByteArray(40, '2'));   // A's push stands
        QVERIFY(setRef(b, S("refs/heads/main"), '2'));
        QVERIFY(setRef(b, S("refs/heads/exp"), '5'));
        const keel::Status branch = ws::uploadGitMirror(c, b, &seenB);   // exp did not exist when B read the refs
        QVERIFY(!branch);
        QCOMPARE(branch.error().kind, keel::ErrorKind::Conflict);
        QCOMPARE(remoteRef(c, S("refs/heads/exp")), QByteArray(40, '4'));
        // After reading the remote again, B's push goes through.
        QVERIFY(ws::downloadGitMirror(c, b, &seenB));
        QVERIFY(setRef(b, S("refs/heads/main"), '3'));
        QVERIFY(ws::uploadGitMirror(c, b, &seenB));
        QCOMPARE(remoteRef(c, S("refs/heads/main")), QByteArray(40, '3'));
        QCOMPARE(remoteRef(c, S("refs/heads/exp")), QByteArray(40, '4'));

        // A ref a push did not change is left alone, even when someone moved it since the push read it: A (which
        // read dev=7) pushes only main while B moves dev.
        QVERIFY(ws::downloadGitMirror(c, a, &seenA));
        QVERIFY(ws::downloadGitMirror(c, b, &seenB));
        QVERIFY(setRef(b, S("refs/heads/dev"), '8'));
        QVERIFY(ws::uploadGitMirror(c, b, &seenB));
        QVERIFY(setRef(a, S("refs/heads/main"), '6'));
        const keel::Status onlyMain = ws::uploadGitMirror(c, a, &seenA);
        QVERIFY2(onlyMain, onlyMain ? "" : qPrintable(onlyMain.error().message));
        QCOMPARE(remoteRef(c, S("refs/heads/main")), QByteArray(40, '6'));
        QCOMPARE(remoteRef(c, S("refs/heads/dev")), QByteArray(40, '8'));   // not reverted to A's stale 7
    }
};

QTEST_GUILESS_MAIN(TstS3Conditional)
#include "tst_s3conditional.moc"
