// S3-compatible object storage as a remote, live against s3rver (npm) on loopback, started here and stopped by
// process id: the signed client (put, get, paged listing, errors that name the key), credentials from the environment
// and from a credentials file, object transfers that skip what the other side has, resume after a cut connection,
// and refuse damaged bytes; and the whole workspace round trip through `keel remote add s3://...`, push, clone and
// pull. Skipped, saying why, only when Node.js or s3rver is not installed. (Racing pushes: tst_s3conditional.)
#include "../cli/clitest.h"
#include "../support/liveservers.h"

#include "store/objectstore.h"
#include "store/s3client.h"
#include "util/hash.h"
#include "workspace/s3remote.h"

#include <QDirIterator>
#include <QRandomGenerator>

using namespace clitest;
namespace st = keel::store;
namespace ws = keel::workspace;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }
const QString kBucket = QStringLiteral("keel-test");

QByteArray randomBytes(qsizetype n, quint32 seed)
{
    QRandomGenerator g(seed);
    QByteArray out(n, Qt::Uninitialized);
    for (qsizetype i = 0; i < n; i += 4) {
        const quint32 v = g.generate();
        std::memcpy(out.data() + i, &v, size_t(std::min<qsizetype>(4, n - i)));
    }
    return out;
}

/// Counts requests by method and path prefix, and can cut the connection on a chosen one.
struct Tap {
    QStringList seen;
    std::function<bool(const QString &, const QString &)> failWhen;
    std::function<bool(const QString &, const QString &)> hook()
    {
        return [this](const QString &method, const QString &path) {
            if (failWhen && failWhen(method, path))
                return false;
            seen << method + QLatin1Char(' ') + path;
            return true;
        };
    }
    int count(const QString &method, const QString &pathPart) const
    {
        int n = 0;
        for (const QString &s : seen)
            if (s.startsWith(method + QLatin1Char(' ')) && s.contains(pathPart))
                ++n;
        return n;
    }
};
} // namespace

class TstS3 : public QObject {
    Q_OBJECT
    liveservers::S3rver m_server;
    QTemporaryDir m_dir;

    st::S3Client client(const QString &prefix) const
    {
        auto loc = st::parseS3Url(S("s3://") + kBucket + S("/") + prefix);
        if (!loc)
            qFatal("bad url");
        loc->endpoint = m_server.endpoint();
        return st::S3Client(*loc, st::S3Credentials{S("S3RVER"), S("S3RVER"), {}, S("test")});
    }

private slots:
    void initTestCase()
    {
        if (const QString why = liveservers::S3rver::missing(); !why.isEmpty())
            QSKIP(qPrintable(why));
        QString error;
        QVERIFY2(m_server.start(kBucket, &error), qPrintable(error));
        qputenv("AWS_ACCESS_KEY_ID", "S3RVER");
        qputenv("AWS_SECRET_ACCESS_KEY", "S3RVER");
    }

    void cleanupTestCase() { m_server.stop(); }

    void urls()
    {
        auto ok = st::parseS3Url(S("s3://team-bucket/keel/credit/"));
        QVERIFY(ok);
        QCOMPARE(ok->bucket, S("team-bucket"));
        QCOMPARE(ok->prefix, S("keel/credit"));
        QCOMPARE(ok->url(), S("s3://team-bucket/keel/credit"));
        for (const char *bad : {"s3://Upper/x", "s3://ab", "s3://-bucket/x", "s3://bucket//x", "http://bucket/x"})
            QVERIFY2(!st::parseS3Url(S(bad)), bad);
    }

    void clientRoundTrip()
    {
        const st::S3Client c = client(S("rt"));
        const QByteArray body = randomBytes(300000, 1);
        QVERIFY(c.put(S("a/b c+d.bin"), body));   // a key that needs percent-encoding
        auto back = c.get(S("a/b c+d.bin"));
        QVERIFY2(back, back ? "" : qPrintable(back.error().message));
        QCOMPARE(*back, body);
        QVERIFY(c.put(S("empty"), QByteArray()));
        QCOMPARE(c.get(S("empty"))->size(), 0);
        auto missing = c.get(S("nothing/here"));
        QVERIFY(!missing);
        QCOMPARE(missing.error().kind, keel::ErrorKind::NotFound);
        QVERIFY2(missing.error().file.contains(S("s3://keel-test/rt/nothing/here")), qPrintable(missing.error().file));
    }

    void listingFollowsContinuationTokens()
    {
        // More keys than one listing page (1,000) holds.
        const st::S3Client c = client(S("many"));
        QSet<QString> written;
        for (int i = 0; i < 1105; ++i) {
            const QString path = S("k/%1").arg(i, 5, 10, QLatin1Char('0'));
            QVERIFY(c.put(path, QByteArray::number(i)));
            written.insert(path);
        }
        QVERIFY(c.put(S("other/x"), "x"));
        auto listed = c.list(S("k/"));
        QVERIFY2(listed, listed ? "" : qPrintable(listed.error().message));
        QCOMPARE(listed->size(), 1105);
        QCOMPARE(QSet<QString>(listed->begin(), listed->end()), written);
    }

    void credentials()
    {
        // From a credentials file, by profile, when the environment has none.
        const QString file = m_dir.filePath(S("credentials"));
        writeFile(file, "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s1\n\n"
                        "# team profile\n[team]\naws_access_key_id=AKTEAM\naws_secret_access_key=s2\naws_session_token=tok\n");
        const QByteArray keyId = qgetenv("AWS_ACCESS_KEY_ID"), secret = qgetenv("AWS_SECRET_ACCESS_KEY");
        qunsetenv("AWS_ACCESS_KEY_ID");
        qunsetenv("AWS_SECRET_ACCESS_KEY");
        qputenv("AWS_SHARED_CREDENTIALS_FILE", file.toUtf8());
        auto def = st::loadS3Credentials();
        QVERIFY(def);
        QCOMPARE(def->accessKey, S("AKDEFAULT"));
        qputenv("AWS_PROFILE", "team");
        auto team = st::loadS3Credentials();
        QVERIFY(team);
        QCOMPARE(team->accessKey, S("AKTEAM"));
        QCOMPARE(team->sessionToken, S("tok"));
        qputenv("AWS_PROFILE", "nobody");
        auto none = st::loadS3Credentials();
        QVERIFY(!none);
        QVERIFY2(none.error().message.contains(S("[nobody]")) && none.error().file == file,
                 qPrintable(none.error().message));
        qputenv("AWS_SHARED_CREDENTIALS_FILE", m_dir.filePath(S("absent")).toUtf8());
        auto absent = st::loadS3Credentials();
        QVERIFY(!absent);
        QVERIFY(absent.error().message.contains(S("AWS_ACCESS_KEY_ID")));
        qunsetenv("AWS_PROFILE");
        qunsetenv("AWS_SHARED_CREDENTIALS_FILE");
        qputenv("AWS_ACCESS_KEY_ID", keyId);
        qputenv("AWS_SECRET_ACCESS_KEY", secret);
        // An access key the server does not know is refused, and the error says where the credentials came from.
        auto loc = st::parseS3Url(S("s3://keel-test/denied"));
        loc->endpoint = m_server.endpoint();
        const st::S3Client wrong(*loc, st::S3Credentials{S("NOBODY"), S("x"), {}, S("the test's own")});
        const keel::Status put = wrong.put(S("x"), "x");
        QVERIFY(!put);
        QVERIFY2(put.error().message.contains(S("the test's own")), qPrintable(put.error().message));
    }

    void objectsDedupResumeAndVerify()
    {
        auto local = st::ObjectStore::open(m_dir.filePath(S("local")), true);
        QVERIFY(local);
        // Version 1 (4 MiB), and version 2 with 1% of it changed in one place.
        const QByteArray v1 = randomBytes(4 << 20, 7);
        QByteArray v2 = v1;
        const QByteArray patch = randomBytes(v1.size() / 100, 8);
        std::memcpy(v2.data() + v1.size() / 2, patch.constData(), size_t(patch.size()));
        auto a = (*local)->addBytes(v1);
        QVERIFY(a);
        auto b = (*local)->addBytes(v2);
        QVERIFY(b);
        const st::S3Client base = client(S("objects"));
        const QString cache = m_dir.filePath(S("idxcache"));

        // First push: v1 whole. The manifest PUT is cut off: the pack stays, and no manifest is visible.
        st::S3Client c = base;
        Tap tap;
        tap.failWhen = [](const QString &m, const QString &p) { return m == u"PUT" && p.startsWith(QLatin1String("objects/manifests/")); };
        c.setFailureHook(tap.hook());
        QVERIFY(!ws::pushObjectsToS3(c, **local, {a->id}, cache));
        QCOMPARE(tap.count(S("PUT"), S(".pack")), 1);
        QVERIFY(base.list(S("objects/manifests/"))->isEmpty());
        // Run again: the pack is not sent twice; the manifest goes.
        Tap again;
        c.setFailureHook(again.hook());
        auto resumed = ws::pushObjectsToS3(c, **local, {a->id}, cache);
        QVERIFY2(resumed, resumed ? "" : qPrintable(resumed.error().message));
        QCOMPARE(again.count(S("PUT"), S(".pack")), 0);
        QCOMPARE(resumed->objects, qint64(1));
        // v2 sends only its new chunks: about 1% of the bytes (plus the chunks the change straddles).
        auto second = ws::pushObjectsToS3(c, **local, {a->id, b->id}, cache);
        QVERIFY(second);
        QCOMPARE(second->objects, qint64(1));
        QVERIFY2(second->bytes < v1.size() / 10, qPrintable(QString::number(second->bytes)));

        // Pull into an empty store through a fresh cache; the second pack's GET is cut once.
        auto other = st::ObjectStore::open(m_dir.filePath(S("other")), true);
        QVERIFY(other);
        const QString otherCache = m_dir.filePath(S("othercache"));
        Tap pull;
        int packGets = 0;
        pull.failWhen = [&packGets](const QString &m, const QString &p) {
            return m == u"GET" && p.endsWith(QLatin1String(".pack")) && ++packGets == 2;
        };
        c.setFailureHook(pull.hook());
        QVERIFY(!ws::pullObjectsFromS3(c, **other, {a->id, b->id}, otherCache));
        QVERIFY(!(*other)->contains(a->id) && !(*other)->contains(b->id));   // no manifest before all its bytes
        Tap pullAgain;
        c.setFailureHook(pullAgain.hook());
        auto pulled = ws::pullObjectsFromS3(c, **other, {a->id, b->id}, otherCache);
        QVERIFY2(pulled, pulled ? "" : qPrintable(pulled.error().message));
        QCOMPARE(pullAgain.count(S("GET"), S(".pack")), 1);   // the pack that arrived before the cut is not fetched again
        QCOMPARE(*(*other)->readAll(a->id), v1);
        QCOMPARE(*(*other)->readAll(b->id), v2);

        // Damage a pack on the server: a pull verifies every chunk and keeps nothing of it.
        QString packFile;
        QDirIterator it(m_server.dataDir(), QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString f = it.next();
            if (f.contains(S("objects/packs/pack-")) && f.contains(S(".pack")) && QFileInfo(f).size() > 1000000)
                packFile = f;
        }
        QVERIFY2(!packFile.isEmpty(), "s3rver keeps the pack as a file");
        {
            QFile f(packFile);
            QVERIFY(f.open(QIODevice::ReadWrite));
            f.seek(100000);
            const QByteArray was = f.read(1);
            f.seek(100000);
            f.write(QByteArray(1, char(was.at(0) ^ 0x5a)));
        }
        auto third = st::ObjectStore::open(m_dir.filePath(S("third")), true);
        c.setFailureHook({});
        auto damaged = ws::pullObjectsFromS3(c, **third, {a->id}, m_dir.filePath(S("thirdcache")));
        QVERIFY(!damaged);
        QVERIFY2(damaged.error().message.contains(S("does not match its id")), qPrintable(damaged.error().message));
        QVERIFY(!(*third)->contains(a->id));
    }

    void workspaceRoundTrip()
    {
        // Alice pushes the example workspace to s3://keel-test/team; Bob clones it; Bob's change reaches Alice by pull;
        // Alice's own diverged push is refused rather than overwriting Bob's.
        const QString alice = m_dir.filePath(S("alice")), bob = m_dir.filePath(S("bob"));
        RUN_OK(clitest::keel({S("init"), S("--example"), alice}, m_dir.path()));
        RUN_OK(clitest::keel({S("remote"), S("add"), S("origin"), S("s3://keel-test/team"), S("--endpoint"), m_server.endpoint()}, alice));
        const Result listed = clitest::keel({S("remote"), S("list")}, alice);
        QVERIFY(listed.out.contains("s3://keel-test/team") && listed.out.contains(m_server.endpoint().toUtf8()));
        RUN_OK(clitest::keel({S("push")}, alice));
        RUN_OK(clitest::keel({S("clone"), S("s3://keel-test/team"), bob, S("--endpoint"), m_server.endpoint()}, m_dir.path()));
        // Same versions, byte for byte.
        for (const char *dataset : {"adult_train", "diamonds"}) {
            const QString outA = m_dir.filePath(S("a.csv")), outB = m_dir.filePath(S("b.csv"));
            RUN_OK(clitest::keel({S("data"), S("checkout"), S(dataset), S("-o"), outA, S("--force")}, alice));
            RUN_OK(clitest::keel({S("data"), S("checkout"), S(dataset), S("-o"), outB, S("--force")}, bob));
            QCOMPARE(fileSha(outA), fileSha(outB));
        }
        RUN_OK(clitest::keel({S("store"), S("fsck")}, bob));
        // Bob adds a version and pushes; Alice pulls it.
        writeFile(m_dir.filePath(S("tiny.csv")), "x,y\n1,2\n3,4\n");
        RUN_OK(clitest::keel({S("data"), S("add"), m_dir.filePath(S("tiny.csv")), S("--name"), S("tiny")}, bob));
        RUN_OK(clitest::keel({S("push")}, bob));
        const Result pulled = clitest::keel({S("pull")}, alice);
        RUN_OK(pulled);
        QVERIFY2(pulled.out.contains("fast-forward"), pulled.out.constData());
        const QString outTiny = m_dir.filePath(S("t.csv"));
        RUN_OK(clitest::keel({S("data"), S("checkout"), S("tiny"), S("-o"), outTiny, S("--force")}, alice));
        QCOMPARE(fileSha(outTiny), fileSha(m_dir.filePath(S("tiny.csv"))));
        // Both commit on their own; Bob pushes first; Alice's push must not overwrite his history.
        RUN_OK(clitest::keel({S("tag"), S("bob-was-here")}, bob));
        writeFile(m_dir.filePath(S("tiny2.csv")), "x,y\n5,6\n");
        RUN_OK(clitest::keel({S("data"), S("add"), m_dir.filePath(S("tiny2.csv")), S("--name"), S("tiny2")}, bob));
        RUN_OK(clitest::keel({S("push")}, bob));
        writeFile(m_dir.filePath(S("tiny3.csv")), "x,y\n7,8\n");
        RUN_OK(clitest::keel({S("data"), S("add"), m_dir.filePath(S("tiny3.csv")), S("--name"), S("tiny3")}, alice));
        const Result refused = clitest::keel({S("push")}, alice);
        QVERIFY2(refused.code != 0, refused.out.constData());
        // After a pull (a merge), Alice's push goes through and Bob gets both.
        RUN_OK(clitest::keel({S("pull")}, alice));
        RUN_OK(clitest::keel({S("push")}, alice));
        RUN_OK(clitest::keel({S("pull")}, bob));
        const Result list = clitest::keel({S("data"), S("list")}, bob);
        QVERIFY2(list.out.contains("tiny2") && list.out.contains("tiny3"), list.out.constData());
        // The audit trail names the remote's endpoint.
        const Result exported = clitest::keel({S("audit"), S("export"), S("-o"), S("-")}, alice);
        QVERIFY(exported.out.contains("\"action\":\"push\"") && exported.out.contains(m_server.endpoint().toUtf8()));
    }

    void clearRemoteErrors()
    {
        const QString wsDir = m_dir.filePath(S("errs"));
        RUN_OK(clitest::keel({S("init"), wsDir}, m_dir.path()));
        const Result bucket = clitest::keel({S("remote"), S("add"), S("x"), S("s3://Bad_Bucket/x")}, wsDir);
        QVERIFY(bucket.code != 0 && bucket.err.contains("bucket name"));
        const Result endpoint = clitest::keel({S("remote"), S("add"), S("x"), S("s3://good-bucket/x"), S("--endpoint"), S("ftp://h")}, wsDir);
        QVERIFY(endpoint.code != 0 && endpoint.err.contains("endpoint"));
        RUN_OK(clitest::keel({S("remote"), S("add"), S("nobucket"), S("s3://no-such-bucket/x"), S("--endpoint"), m_server.endpoint()}, wsDir));
        const Result push = clitest::keel({S("push"), S("nobucket")}, wsDir);
        QVERIFY2(push.code != 0 && push.err.contains("does not exist"), push.err.constData());
    }
};

QTEST_GUILESS_MAIN(TstS3)
#include "tst_s3.moc"
