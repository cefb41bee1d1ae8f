// Tests for the libgit2 adapter keel::workspace::GitRepo. What libgit2 wrote is checked with the git command line
// (a second, independent implementation), run with a clean HOME so no user configuration leaks in.
#include "workspace/gitrepo.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace keel;
using namespace keel::workspace;

namespace {

using Files = QMap<QString, QByteArray>;

struct Cli {
    int code = -1;
    QByteArray out;
    QByteArray err;
    QString text() const { return QString::fromUtf8(out).trimmed(); }
    QStringList lines() const { return text().split(QLatin1Char('\n'), Qt::SkipEmptyParts); }
};

/// Runs `git -C dir args...`. The identity variables only reach the git command line (for the commits the tests
/// make with it); Keel's own commits see no identity at all.
Cli git(const QString &dir, const QStringList &args)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GIT_AUTHOR_NAME"), QStringLiteral("Cli Tester"));
    env.insert(QStringLiteral("GIT_AUTHOR_EMAIL"), QStringLiteral("cli@example.org"));
    env.insert(QStringLiteral("GIT_COMMITTER_NAME"), QStringLiteral("Cli Tester"));
    env.insert(QStringLiteral("GIT_COMMITTER_EMAIL"), QStringLiteral("cli@example.org"));
    env.insert(QStringLiteral("LC_ALL"), QStringLiteral("C"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral("git"), QStringList{QStringLiteral("-C"), dir} + args);
    Cli r;
    if (!p.waitForStarted(30000) || !p.waitForFinished(60000))
        return r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

/// Trimmed output of a git command that must succeed (an empty string when it did not, which no check expects).
QString gitText(const QString &dir, const QStringList &args)
{
    const Cli r = git(dir, args);
    if (r.code != 0) {
        qWarning("git %s failed: %s", qPrintable(args.join(QLatin1Char(' '))), r.err.constData());
        return QStringLiteral("<git failed>");
    }
    return r.text();
}

QByteArray readDisk(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return QByteArrayLiteral("<missing>");
    return f.readAll();
}

QStringList sorted(QStringList l)
{
    l.sort();
    return l;
}

/// True when git (and so `git rev-parse --verify`) knows the ref.
bool refExists(const QString &dir, const QString &ref)
{
    return git(dir, {QStringLiteral("rev-parse"), QStringLiteral("--verify"), QStringLiteral("--quiet"), ref}).code == 0;
}

} // namespace

class TstGitRepo : public QObject {
    Q_OBJECT

    QTemporaryDir m_home;   // HOME for this process and the git command line: no user configuration
    QTemporaryDir m_tmp;
    int m_counter = 0;

    /// A fresh folder path inside the temporary folder.
    QString newPath(const QString &stem)
    {
        return m_tmp.filePath(stem + QString::number(++m_counter));
    }

    std::unique_ptr<GitRepo> newRepo(const QString &stem = QStringLiteral("repo"), bool bare = false)
    {
        auto r = GitRepo::init(newPath(stem), bare);
        if (!r) {
            qWarning("init failed: %s", qPrintable(r.message()));
            return {};
        }
        return std::move(*r);
    }

    // The shared history the read-only tests look at:
    //   c1: a.txt "one", b.txt "bee", data/x.yaml "x1"
    //   c2: a.txt "two", data/y.yaml "y1", data/sub/z.yaml "z1"     <- annotated tag v1, lightweight tag light
    //   c3: data/x.yaml "x2", c.txt "sea"
    //   c4: a.txt "two" again (no change to any file)
    std::unique_ptr<GitRepo> m_shared;
    QString m_dir;
    QStringList m_ids;   // c1..c4

private slots:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("git")).isEmpty())
            QSKIP("the git command line is needed to check what libgit2 wrote");
        QVERIFY(m_home.isValid());
        QVERIFY(m_tmp.isValid());
        // Before libgit2 initialises (it reads HOME once): no global or XDG configuration, a known OS user.
        qputenv("HOME", QFile::encodeName(m_home.path()));
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_home.path() + QStringLiteral("/xdg")));
        qputenv("GIT_CONFIG_NOSYSTEM", "1");
        qputenv("USER", "keeltester");
        QVERIFY(git(m_home.path(), {QStringLiteral("config"), QStringLiteral("--global"), QStringLiteral("user.name")})
                    .code != 0);

        m_shared = newRepo(QStringLiteral("shared"));
        QVERIFY(m_shared);
        m_dir = m_shared->workdir();
        const QList<std::pair<Files, QString>> steps = {
            {{{QStringLiteral("a.txt"), "one"}, {QStringLiteral("b.txt"), "bee"}, {QStringLiteral("data/x.yaml"), "x1"}},
             QStringLiteral("first")},
            {{{QStringLiteral("a.txt"), "two"}, {QStringLiteral("data/y.yaml"), "y1"},
              {QStringLiteral("data/sub/z.yaml"), "z1"}},
             QStringLiteral("second")},
            {{{QStringLiteral("data/x.yaml"), "x2"}, {QStringLiteral("c.txt"), "sea"}}, QStringLiteral("third")},
            {{{QStringLiteral("a.txt"), "two"}}, QStringLiteral("fourth: nothing changes")},
        };
        for (const auto &[files, message] : steps) {
            auto id = m_shared->commitFiles(files, message);
            QVERIFY2(id, qPrintable(id.message()));
            m_ids << *id;
            if (m_ids.size() == 2) {
                QVERIFY(m_shared->createTag(QStringLiteral("v1"), QStringLiteral("release one")));
                QCOMPARE(git(m_dir, {QStringLiteral("tag"), QStringLiteral("light")}).code, 0);
            }
        }
    }

    // --- init and open ---------------------------------------------------------------------------------------

    void initWorkingTree()
    {
        const QString path = newPath(QStringLiteral("deep/er/repo"));
        auto repo = GitRepo::init(path, false);
        QVERIFY2(repo, qPrintable(repo.message()));
        QCOMPARE((*repo)->workdir(), QDir::cleanPath(path));
        QCOMPARE(gitText(path, {QStringLiteral("rev-parse"), QStringLiteral("--is-bare-repository")}),
                 QStringLiteral("false"));
        QCOMPARE(gitText(path, {QStringLiteral("symbolic-ref"), QStringLiteral("HEAD")}), QStringLiteral("refs/heads/main"));
        QCOMPARE((*repo)->currentBranch().value(), QStringLiteral("main"));
        QVERIFY((*repo)->headCommit().value().isEmpty());
        QVERIFY((*repo)->tags().isEmpty());
        auto history = (*repo)->historyOf(QStringLiteral("a.txt"));
        QVERIFY(history);
        QVERIFY(history->empty());
        auto all = (*repo)->allCommits();
        QVERIFY(all);
        QVERIFY(all->isEmpty());
        QVERIFY(!(*repo)->createTag(QStringLiteral("v0"), QStringLiteral("nothing to tag")));
        QVERIFY(!(*repo)->resolveCommit(QStringLiteral("HEAD")));
    }

    void initBare()
    {
        const QString path = newPath(QStringLiteral("bare"));
        auto repo = GitRepo::init(path, true);
        QVERIFY2(repo, qPrintable(repo.message()));
        QVERIFY((*repo)->workdir().isEmpty());
        QCOMPARE(gitText(path, {QStringLiteral("rev-parse"), QStringLiteral("--is-bare-repository")}),
                 QStringLiteral("true"));
        QCOMPARE(gitText(path, {QStringLiteral("symbolic-ref"), QStringLiteral("HEAD")}), QStringLiteral("refs/heads/main"));
        QVERIFY(QFileInfo::exists(path + QStringLiteral("/HEAD")));
        QVERIFY(!QFileInfo::exists(path + QStringLiteral("/.git")));
        auto commit = (*repo)->commitFiles({{QStringLiteral("a.txt"), "x"}}, QStringLiteral("no"));
        QVERIFY(!commit);
        QVERIFY(!QFileInfo::exists(path + QStringLiteral("/a.txt")));
    }

    void openExistingAndMissing()
    {
        auto opened = GitRepo::open(m_dir);
        QVERIFY2(opened, qPrintable(opened.message()));
        QCOMPARE((*opened)->headCommit().value(), m_ids.last());
        QCOMPARE((*opened)->workdir(), m_dir);

        const QString plain = newPath(QStringLiteral("plain"));
        QVERIFY(QDir().mkpath(plain));
        auto missing = GitRepo::open(plain);
        QVERIFY(!missing);
        QCOMPARE(missing.error().file, plain);
        // No upward search: a folder inside a repository is not the repository.
        QVERIFY(!GitRepo::open(m_dir + QStringLiteral("/data")));
    }

    // --- commits ---------------------------------------------------------------------------------------------

    void commitFiles_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("root file") << QStringLiteral("notes.txt") << QByteArray("hello\n");
        QTest::newRow("nested new folders") << QStringLiteral("datasets/deep/er/x.yaml") << QByteArray("a: 1\n");
        QTest::newRow("empty file") << QStringLiteral("empty") << QByteArray();
        QTest::newRow("binary with NUL") << QStringLiteral("bin.dat") << QByteArray("\x00\x01\xff\r\n\x00", 6);
        QTest::newRow("no final newline") << QStringLiteral("t.txt") << QByteArray("last line");
        QTest::newRow("unicode name") << QString::fromUtf8("daten/grüße.csv") << QByteArray("x\n1\n");
    }
    void commitFiles()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, content);
        auto repo = newRepo();
        QVERIFY(repo);
        const QString dir = repo->workdir();
        auto base = repo->commitFiles({{QStringLiteral("base.txt"), "base"}}, QStringLiteral("base"));
        QVERIFY2(base, qPrintable(base.message()));
        auto id = repo->commitFiles({{path, content}}, QStringLiteral("add it"));
        QVERIFY2(id, qPrintable(id.message()));

        QCOMPARE(id->size(), 40);
        QCOMPARE(repo->headCommit().value(), *id);
        QCOMPARE(gitText(dir, {QStringLiteral("rev-parse"), QStringLiteral("HEAD")}), *id);
        QCOMPARE(gitText(dir, {QStringLiteral("rev-parse"), QStringLiteral("refs/heads/main")}), *id);
        QCOMPARE(gitText(dir, {QStringLiteral("rev-parse"), *id + QStringLiteral("^")}), *base);
        const Cli blob = git(dir, {QStringLiteral("cat-file"), QStringLiteral("blob"), *id + QLatin1Char(':') + path});
        QCOMPARE(blob.code, 0);
        QCOMPARE(blob.out, content);
        QCOMPARE(readDisk(dir + QLatin1Char('/') + path), content);
        // The earlier file is still in the new commit's tree, and working tree, index and HEAD agree.
        QCOMPARE(git(dir, {QStringLiteral("cat-file"), QStringLiteral("blob"), *id + QStringLiteral(":base.txt")}).out,
                 QByteArray("base"));
        const Cli status = git(dir, {QStringLiteral("status"), QStringLiteral("--porcelain")});
        QCOMPARE(status.code, 0);
        QCOMPARE(status.text(), QString());
        QCOMPARE(gitText(dir, {QStringLiteral("log"), QStringLiteral("-1"), QStringLiteral("--format=%B")}),
                 QStringLiteral("add it"));
        // fsck finds nothing wrong with what libgit2 wrote.
        QCOMPARE(git(dir, {QStringLiteral("fsck"), QStringLiteral("--strict")}).code, 0);
    }

    void commitSeveralFiles()
    {
        auto repo = newRepo();
        QVERIFY(repo);
        const QString dir = repo->workdir();
        const Files files = {{QStringLiteral("a"), "1"}, {QStringLiteral("b/c"), "2"}, {QStringLiteral("b/d"), "3"}};
        auto id = repo->commitFiles(files, QStringLiteral("three files"));
        QVERIFY2(id, qPrintable(id.message()));
        QCOMPARE(sorted(git(dir, {QStringLiteral("ls-tree"), QStringLiteral("-r"), QStringLiteral("--name-only"), *id})
                            .lines()),
                 (QStringList{QStringLiteral("a"), QStringLiteral("b/c"), QStringLiteral("b/d")}));
        // A root commit has no parent.
        QCOMPARE(gitText(dir, {QStringLiteral("log"), QStringLiteral("-1"), QStringLiteral("--format=%P")}), QString());
        auto info = repo->commitInfo(*id);
        QVERIFY(info);
        QVERIFY(info->parents.isEmpty());
    }

    void authorFallsBackToOsUser()
    {
        auto repo = newRepo();
        QVERIFY(repo);
        const QString dir = repo->workdir();
        auto id = repo->commitFiles({{QStringLiteral("a"), "1"}}, QStringLiteral("who am I"));
        QVERIFY2(id, qPrintable(id.message()));
        const QString expected = QStringLiteral("keeltester <keeltester@") + QSysInfo::machineHostName()
            + QLatin1Char('>');
        QCOMPARE(gitText(dir, {QStringLiteral("log"), QStringLiteral("-1"), QStringLiteral("--format=%an <%ae>")}),
                 expected);
        QCOMPARE(gitText(dir, {QStringLiteral("log"), QStringLiteral("-1"), QStringLiteral("--format=%cn <%ce>")}),
                 expected);
        auto info = repo->commitInfo(*id);
        QVERIFY(info);
        QCOMPARE(info->author, expected);

        // Without USER the fallback name is "keel".
        const QByteArray savedUser = qgetenv("USER");
        qunsetenv("USER");
        auto second = repo->commitFiles({{QStringLiteral("a"), "2"}}, QStringLiteral("nobody"));
        qputenv("USER", savedUser);
        QVERIFY2(second, qPrintable(second.message()));
        QCOMPARE(gitText(dir, {QStringLiteral("log"), QStringLiteral("-1"), QStringLiteral("--format=%an <%ae>")}),
                 QStringLiteral("keel <keel@") + QSysInfo::machineHostName() + QLatin1Char('>'));
    }

    void authorFromRepositoryConfig()
    {
        const QString path = newPath(QStringLiteral("configured"));
        QVERIFY(GitRepo::init(path, false));
        QCOMPARE(git(path, {QStringLiteral("config"), QStringLiteral("user.name"), QStringLiteral("Ada Lovelace")}).code, 0);
        QCOMPARE(git(path, {QStringLiteral("config"), QStringLiteral("user.email"), QStringLiteral("ada@example.org")}).code,
                 0);
        auto repo = GitRepo::open(path);
        QVERIFY(repo);
        auto id = (*repo)->commitFiles({{QStringLiteral("a"), "1"}}, QStringLiteral("configured"));
        QVERIFY2(id, qPrintable(id.message()));
        QCOMPARE(gitText(path, {QStringLiteral("log"), QStringLiteral("-1"), QStringLiteral("--format=%an <%ae>")}),
                 QStringLiteral("Ada Lovelace <ada@example.org>"));
        QVERIFY((*repo)->createTag(QStringLiteral("t"), QStringLiteral("tagged")));
        QCOMPARE(gitText(path, {QStringLiteral("for-each-ref"), QStringLiteral("--format=%(taggername) %(taggeremail)"),
                                QStringLiteral("refs/tags/t")}),
                 QStringLiteral("Ada Lovelace <ada@example.org>"));
    }

    void commitInfoMatchesGit()
    {
        for (const QString &id : std::as_const(m_ids)) {
            auto info = m_shared->commitInfo(id);
            QVERIFY2(info, qPrintable(info.message()));
            QCOMPARE(info->id, id);
            const QStringList fields = gitText(m_dir, {QStringLiteral("log"), QStringLiteral("-1"),
                                                       QStringLiteral("--format=%an <%ae>%x1f%at%x1f%P%x1f%B"), id})
                                           .split(QChar(0x1f));
            QCOMPARE(fields.size(), 4);
            QCOMPARE(info->author, fields[0]);
            QCOMPARE(info->time.toSecsSinceEpoch(), fields[1].toLongLong());
            QCOMPARE(info->parents, fields[2].split(QLatin1Char(' '), Qt::SkipEmptyParts));
            QCOMPARE(info->message, fields[3].trimmed());
        }
        auto multi = m_shared->commitInfo(m_ids[3]);
        QVERIFY(multi);
        QCOMPARE(multi->message, QStringLiteral("fourth: nothing changes"));
        QVERIFY(!m_shared->commitInfo(QString(40, QLatin1Char('0'))));
        QVERIFY(!m_shared->commitInfo(m_ids[0].left(10)));   // commitInfo wants a full id
    }

    void commitMultiLineMessage()
    {
        auto repo = newRepo();
        QVERIFY(repo);
        const QString message = QStringLiteral("Subject line\n\nBody with details.\nSecond body line.");
        auto id = repo->commitFiles({{QStringLiteral("f"), "1"}}, message);
        QVERIFY(id);
        QCOMPARE(gitText(repo->workdir(), {QStringLiteral("log"), QStringLiteral("-1"), QStringLiteral("--format=%s")}),
                 QStringLiteral("Subject line"));
        QCOMPARE(gitText(repo->workdir(), {QStringLiteral("log"), QStringLiteral("-1"), QStringLiteral("--format=%b")}),
                 QStringLiteral("Body with details.\nSecond body line."));
        auto info = repo->commitInfo(*id);
        QVERIFY(info);
        QCOMPARE(info->message, message);
    }

    void failedCommitRestoresFiles_data()
    {
        QTest::addColumn<QString>("written");     // written first, then the commit fails
        QTest::addColumn<bool>("existedAtHead");
        QTest::newRow("changed file") << QStringLiteral("a.txt") << true;
        QTest::newRow("new file") << QStringLiteral("n.txt") << false;
    }
    void failedCommitRestoresFiles()
    {
        QFETCH(QString, written);
        QFETCH(bool, existedAtHead);
        auto repo = newRepo();
        QVERIFY(repo);
        const QString dir = repo->workdir();
        auto head = repo->commitFiles({{QStringLiteral("a.txt"), "one"}}, QStringLiteral("base"));
        QVERIFY(head);
        // "X/inner" sorts after "X" and cannot be written once X is a file: X is written, then the commit fails.
        const Files files = {{written, "changed"}, {written + QStringLiteral("/inner"), "impossible"}};
        auto failed = repo->commitFiles(files, QStringLiteral("must fail"));
        QVERIFY(!failed);
        QCOMPARE(repo->headCommit().value(), *head);
        QCOMPARE(gitText(dir, {QStringLiteral("rev-parse"), QStringLiteral("HEAD")}), *head);
        if (existedAtHead)
            QCOMPARE(readDisk(dir + QLatin1Char('/') + written), QByteArray("one"));
        else
            QVERIFY(!QFileInfo::exists(dir + QLatin1Char('/') + written));
        const Cli status = git(dir, {QStringLiteral("status"), QStringLiteral("--porcelain"),
                                     QStringLiteral("--untracked-files=all")});
        QCOMPARE(status.code, 0);
        QCOMPARE(status.text(), QString());
    }

    void restorePaths()
    {
        auto repo = newRepo();
        QVERIFY(repo);
        const QString dir = repo->workdir();
        auto c1 = repo->commitFiles({{QStringLiteral("a.txt"), "one"}, {QStringLiteral("b.txt"), "bee"}},
                                    QStringLiteral("c1"));
        QVERIFY(c1);
        auto c2 = repo->commitFiles({{QStringLiteral("a.txt"), "two"}, {QStringLiteral("sub/c.txt"), "new"}},
                                    QStringLiteral("c2"));
        QVERIFY(c2);
        QVERIFY(repo->restorePaths(*c1, {QStringLiteral("a.txt"), QStringLiteral("sub/c.txt")}));
        // The branch stays; working tree and index hold c1's versions of exactly those paths.
        QCOMPARE(repo->headCommit().value(), *c2);
        QCOMPARE(gitText(dir, {QStringLiteral("rev-parse"), QStringLiteral("HEAD")}), *c2);
        QCOMPARE(readDisk(dir + QStringLiteral("/a.txt")), QByteArray("one"));
        QCOMPARE(readDisk(dir + QStringLiteral("/b.txt")), QByteArray("bee"));
        QVERIFY(!QFileInfo::exists(dir + QStringLiteral("/sub/c.txt")));
        QCOMPARE(git(dir, {QStringLiteral("show"), QStringLiteral(":a.txt")}).out, QByteArray("one"));
        QCOMPARE(sorted(git(dir, {QStringLiteral("diff"), QStringLiteral("--cached"), QStringLiteral("--name-status"),
                                  QStringLiteral("HEAD")})
                            .lines()),
                 (QStringList{QStringLiteral("D\tsub/c.txt"), QStringLiteral("M\ta.txt")}));
        // Index and working tree agree, and the staged tree is c1's tree.
        QCOMPARE(git(dir, {QStringLiteral("diff"), QStringLiteral("--name-only")}).text(), QString());
        QCOMPARE(gitText(dir, {QStringLiteral("write-tree")}),
                 gitText(dir, {QStringLiteral("rev-parse"), *c1 + QStringLiteral("^{tree}")}));
        QVERIFY(!repo->restorePaths(QStringLiteral("nonsense"), {QStringLiteral("a.txt")}));
    }

    void undoCommit()
    {
        auto repo = newRepo();
        QVERIFY(repo);
        const QString dir = repo->workdir();
        auto c1 = repo->commitFiles({{QStringLiteral("a.txt"), "one"}, {QStringLiteral("b.txt"), "bee"}},
                                    QStringLiteral("c1"));
        QVERIFY(c1);
        // A root commit has no parent to go back to.
        Status root = repo->undoCommit(*c1, {QStringLiteral("a.txt")});
        QVERIFY(!root);
        QCOMPARE(repo->headCommit().value(), *c1);

        const Files written = {{QStringLiteral("a.txt"), "two"}, {QStringLiteral("c.txt"), "new"}};
        auto c2 = repo->commitFiles(written, QStringLiteral("c2"));
        QVERIFY(c2);
        // Only HEAD can be undone.
        auto c3 = repo->commitFiles({{QStringLiteral("d.txt"), "dee"}}, QStringLiteral("c3"));
        QVERIFY(c3);
        Status notHead = repo->undoCommit(*c2, written.keys());
        QVERIFY(!notHead);
        QVERIFY(notHead.is(ErrorKind::Conflict));
        QCOMPARE(gitText(dir, {QStringLiteral("rev-parse"), QStringLiteral("HEAD")}), *c3);
        QCOMPARE(readDisk(dir + QStringLiteral("/a.txt")), QByteArray("two"));

        QVERIFY(repo->undoCommit(*c3, {QStringLiteral("d.txt")}));
        Status undone = repo->undoCommit(*c2, written.keys());
        QVERIFY2(undone, qPrintable(undone.message()));
        QCOMPARE(repo->headCommit().value(), *c1);
        QCOMPARE(gitText(dir, {QStringLiteral("rev-parse"), QStringLiteral("refs/heads/main")}), *c1);
        QCOMPARE(gitText(dir, {QStringLiteral("symbolic-ref"), QStringLiteral("HEAD")}), QStringLiteral("refs/heads/main"));
        QCOMPARE(readDisk(dir + QStringLiteral("/a.txt")), QByteArray("one"));
        QVERIFY(!QFileInfo::exists(dir + QStringLiteral("/c.txt")));
        QVERIFY(!QFileInfo::exists(dir + QStringLiteral("/d.txt")));
        const Cli status = git(dir, {QStringLiteral("status"), QStringLiteral("--porcelain"),
                                     QStringLiteral("--untracked-files=all")});
        QCOMPARE(status.code, 0);
        QCOMPARE(status.text(), QString());
        // The undone commits still exist as objects but no branch reaches them.
        QCOMPARE(gitText(dir, {QStringLiteral("cat-file"), QStringLiteral("-t"), *c2}), QStringLiteral("commit"));
        QCOMPARE(git(dir, {QStringLiteral("branch"), QStringLiteral("--contains"), *c2}).text(), QString());
        // The next commit builds on c1.
        auto c4 = repo->commitFiles({{QStringLiteral("e.txt"), "e"}}, QStringLiteral("c4"));
        QVERIFY(c4);
        QCOMPARE(gitText(dir, {QStringLiteral("rev-parse"), *c4 + QStringLiteral("^")}), *c1);
    }

    // --- revisions -------------------------------------------------------------------------------------------

    void resolveCommit_data()
    {
        QTest::addColumn<QString>("rev");
        QTest::addColumn<bool>("valid");
        QTest::newRow("full id c1") << m_ids.value(0) << true;
        QTest::newRow("full id c3") << m_ids.value(2) << true;
        QTest::newRow("7-char id") << m_ids.value(1).left(7) << true;
        QTest::newRow("12-char id") << m_ids.value(2).left(12) << true;
        QTest::newRow("upper-case id") << m_ids.value(0).toUpper() << true;
        QTest::newRow("HEAD") << QStringLiteral("HEAD") << true;
        QTest::newRow("HEAD~1") << QStringLiteral("HEAD~1") << true;
        QTest::newRow("HEAD~3") << QStringLiteral("HEAD~3") << true;
        QTest::newRow("HEAD^") << QStringLiteral("HEAD^") << true;
        QTest::newRow("branch") << QStringLiteral("main") << true;
        QTest::newRow("full branch ref") << QStringLiteral("refs/heads/main") << true;
        QTest::newRow("annotated tag") << QStringLiteral("v1") << true;
        QTest::newRow("lightweight tag") << QStringLiteral("light") << true;
        QTest::newRow("tag~1") << QStringLiteral("v1~1") << true;
        QTest::newRow("unknown name") << QStringLiteral("nope") << false;
        QTest::newRow("beyond the root") << QStringLiteral("HEAD~4") << false;
        QTest::newRow("unknown full id") << QString(40, QLatin1Char('0')) << false;
        QTest::newRow("unknown short id") << QStringLiteral("deadbeef") << false;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("a blob") << QStringLiteral("HEAD:a.txt") << false;
        QTest::newRow("a tree") << QStringLiteral("HEAD^{tree}") << false;
    }
    void resolveCommit()
    {
        QFETCH(QString, rev);
        QFETCH(bool, valid);
        auto resolved = m_shared->resolveCommit(rev);
        // The git command line is the reference for what the revision names.
        const Cli cli = git(m_dir, {QStringLiteral("rev-parse"), QStringLiteral("--verify"), QStringLiteral("--quiet"),
                                    rev + QStringLiteral("^{commit}")});
        QCOMPARE(cli.code == 0, valid);
        if (valid) {
            QVERIFY2(resolved, qPrintable(resolved.message()));
            QCOMPARE(*resolved, cli.text());
            QVERIFY(m_ids.contains(*resolved));
        } else {
            QVERIFY(!resolved);
            QVERIFY(!resolved.error().message.isEmpty());
        }
    }

    void headCommitMatchesGit()
    {
        QCOMPARE(m_shared->headCommit().value(), m_ids[3]);
        QCOMPARE(m_shared->headCommit().value(), gitText(m_dir, {QStringLiteral("rev-parse"), QStringLiteral("HEAD")}));
        QCOMPARE(*m_shared->resolveCommit(QStringLiteral("v1")), m_ids[1]);
        QCOMPARE(*m_shared->resolveCommit(QStringLiteral("HEAD~1")), m_ids[2]);
    }

    // --- reading files at a commit ---------------------------------------------------------------------------

    void readFileAt_data()
    {
        QTest::addColumn<int>("commit");   // index into m_ids
        QTest::addColumn<QString>("path");
        QTest::newRow("a at c1") << 0 << QStringLiteral("a.txt");
        QTest::newRow("a at c2") << 1 << QStringLiteral("a.txt");
        QTest::newRow("a at c4") << 3 << QStringLiteral("a.txt");
        QTest::newRow("b unchanged at c4") << 3 << QStringLiteral("b.txt");
        QTest::newRow("x at c2") << 1 << QStringLiteral("data/x.yaml");
        QTest::newRow("x at c3") << 2 << QStringLiteral("data/x.yaml");
        QTest::newRow("nested at c2") << 1 << QStringLiteral("data/sub/z.yaml");
        QTest::newRow("c not yet at c2") << 1 << QStringLiteral("c.txt");
        QTest::newRow("y not yet at c1") << 0 << QStringLiteral("data/y.yaml");
        QTest::newRow("never existed") << 3 << QStringLiteral("zzz.txt");
        QTest::newRow("under a file") << 3 << QStringLiteral("a.txt/x");
    }
    void readFileAt()
    {
        QFETCH(int, commit);
        QFETCH(QString, path);
        const QString id = m_ids[commit];
        const Cli cli = git(m_dir, {QStringLiteral("cat-file"), QStringLiteral("blob"), id + QLatin1Char(':') + path});
        auto content = m_shared->readFileAt(id, path);
        QVERIFY2(content, qPrintable(content.message()));
        QCOMPARE(content->has_value(), cli.code == 0);
        if (*content)
            QCOMPARE(**content, cli.out);

        const Cli blobId = git(m_dir, {QStringLiteral("rev-parse"), QStringLiteral("--verify"), QStringLiteral("--quiet"),
                                       id + QLatin1Char(':') + path});
        QCOMPARE(m_shared->blobIdAt(id, path), blobId.code == 0 ? blobId.text() : QString());
    }

    void readFileAtErrors()
    {
        QVERIFY(!m_shared->readFileAt(QString(40, QLatin1Char('0')), QStringLiteral("a.txt")));
        QVERIFY(!m_shared->readFileAt(m_ids[0].left(12), QStringLiteral("a.txt")));   // full ids only
        QVERIFY(!m_shared->readFileAt(QStringLiteral("HEAD"), QStringLiteral("a.txt")));
        QVERIFY(m_shared->blobIdAt(QStringLiteral("HEAD"), QStringLiteral("a.txt")).isEmpty());
        // Same content, same blob: a.txt is "two" at c2 and c4.
        QCOMPARE(m_shared->blobIdAt(m_ids[1], QStringLiteral("a.txt")),
                 m_shared->blobIdAt(m_ids[3], QStringLiteral("a.txt")));
        QVERIFY(m_shared->blobIdAt(m_ids[0], QStringLiteral("a.txt"))
                != m_shared->blobIdAt(m_ids[1], QStringLiteral("a.txt")));
    }

    void listDirAt_data()
    {
        QTest::addColumn<int>("commit");
        QTest::addColumn<QString>("dir");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("data at c1") << 0 << QStringLiteral("data") << QStringList{QStringLiteral("x.yaml")};
        QTest::newRow("data at c2") << 1 << QStringLiteral("data")
                                    << QStringList{QStringLiteral("sub"), QStringLiteral("x.yaml"), QStringLiteral("y.yaml")};
        QTest::newRow("nested") << 2 << QStringLiteral("data/sub") << QStringList{QStringLiteral("z.yaml")};
        QTest::newRow("not there yet") << 0 << QStringLiteral("data/sub") << QStringList{};
        QTest::newRow("a file") << 3 << QStringLiteral("a.txt") << QStringList{};
        QTest::newRow("missing") << 3 << QStringLiteral("nope") << QStringList{};
    }
    void listDirAt()
    {
        QFETCH(int, commit);
        QFETCH(QString, dir);
        QFETCH(QStringList, expected);
        const QStringList listed = m_shared->listDirAt(m_ids[commit], dir);
        QCOMPARE(sorted(listed), expected);
        // Cross-check with git for the folders that exist.
        if (!expected.isEmpty()) {
            const QStringList cli = git(m_dir, {QStringLiteral("ls-tree"), QStringLiteral("--name-only"), m_ids[commit],
                                                dir + QLatin1Char('/')})
                                        .lines();
            QStringList names;
            for (const QString &p : cli)
                names << p.section(QLatin1Char('/'), -1);
            QCOMPARE(sorted(names), expected);
        }
        QVERIFY(m_shared->listDirAt(QStringLiteral("garbage"), dir).isEmpty());
    }

    // --- history ---------------------------------------------------------------------------------------------

    void historyOf_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QList<int>>("expected");   // indices into m_ids, oldest first
        QTest::newRow("a.txt") << QStringLiteral("a.txt") << QList<int>{0, 1};   // c4 wrote the same bytes
        QTest::newRow("b.txt") << QStringLiteral("b.txt") << QList<int>{0};
        QTest::newRow("x.yaml") << QStringLiteral("data/x.yaml") << QList<int>{0, 2};
        QTest::newRow("z.yaml") << QStringLiteral("data/sub/z.yaml") << QList<int>{1};
        QTest::newRow("c.txt") << QStringLiteral("c.txt") << QList<int>{2};
        QTest::newRow("never") << QStringLiteral("never.txt") << QList<int>{};
    }
    void historyOf()
    {
        QFETCH(QString, path);
        QFETCH(QList<int>, expected);
        auto history = m_shared->historyOf(path);
        QVERIFY2(history, qPrintable(history.message()));
        QStringList ids;
        for (const CommitInfo &c : *history)
            ids << c.id;
        QStringList want;
        for (int i : expected)
            want << m_ids[i];
        QCOMPARE(ids, want);
        // git log agrees on a linear history.
        QCOMPARE(ids, git(m_dir, {QStringLiteral("log"), QStringLiteral("--reverse"), QStringLiteral("--format=%H"),
                                  QStringLiteral("--"), path})
                           .lines());
        if (!history->empty())
            QCOMPARE(history->front().message, gitText(m_dir, {QStringLiteral("log"), QStringLiteral("-1"),
                                                               QStringLiteral("--format=%B"), want.front()}));
    }

    // --- all commits and blobs -------------------------------------------------------------------------------

    void allCommitsAndExtraTips()
    {
        auto repo = newRepo();
        QVERIFY(repo);
        const QString dir = repo->workdir();
        auto c1 = repo->commitFiles({{QStringLiteral("d/a.yaml"), "a1"}}, QStringLiteral("c1"));
        auto c2 = repo->commitFiles({{QStringLiteral("d/a.yaml"), "a2"}, {QStringLiteral("d/b.yaml"), "b1"}},
                                    QStringLiteral("c2"));
        QVERIFY(c1 && c2);
        // A commit that no ref reaches: committed, then undone.
        auto ghost = repo->commitFiles({{QStringLiteral("d/ghost.yaml"), "g1"}}, QStringLiteral("ghost"));
        QVERIFY(ghost);
        QVERIFY(repo->undoCommit(*ghost, {QStringLiteral("d/ghost.yaml")}));
        // A commit only on a side branch, made with the git command line.
        const QString side = gitText(dir, {QStringLiteral("commit-tree"), *c1 + QStringLiteral("^{tree}"),
                                           QStringLiteral("-p"), *c1, QStringLiteral("-m"), QStringLiteral("side")});
        QCOMPARE(git(dir, {QStringLiteral("update-ref"), QStringLiteral("refs/heads/side"), side}).code, 0);
        // A commit reached only by a staging ref.
        const QString staged = gitText(dir, {QStringLiteral("commit-tree"), *c2 + QStringLiteral("^{tree}"),
                                             QStringLiteral("-p"), *c2, QStringLiteral("-m"), QStringLiteral("staged")});
        QCOMPARE(git(dir, {QStringLiteral("update-ref"), QStringLiteral("refs/keel/incoming/origin"), staged}).code, 0);
        // ... and one reached only by a remote-tracking ref, and one only by a lightweight tag.
        const QString tracked = gitText(dir, {QStringLiteral("commit-tree"), *c1 + QStringLiteral("^{tree}"),
                                              QStringLiteral("-m"), QStringLiteral("tracked")});
        QCOMPARE(git(dir, {QStringLiteral("update-ref"), QStringLiteral("refs/remotes/origin/main"), tracked}).code, 0);
        const QString tagged = gitText(dir, {QStringLiteral("commit-tree"), *c1 + QStringLiteral("^{tree}"),
                                             QStringLiteral("-m"), QStringLiteral("tagged")});
        QCOMPARE(git(dir, {QStringLiteral("tag"), QStringLiteral("only-tag"), tagged}).code, 0);

        auto all = repo->allCommits();
        QVERIFY2(all, qPrintable(all.message()));
        const QStringList expected = sorted({*c1, *c2, side, tracked, tagged});
        QCOMPARE(sorted(*all), expected);
        QCOMPARE(all->size(), int(QSet<QString>(all->begin(), all->end()).size()));   // each once
        // The same set as git's own walk over branches, tags and remotes.
        QCOMPARE(sorted(git(dir, {QStringLiteral("rev-list"), QStringLiteral("--branches"), QStringLiteral("--tags"),
                                  QStringLiteral("--remotes"), QStringLiteral("HEAD")})
                            .lines()),
                 expected);
        // --all would include the staging ref: it is really there, and allCommits leaves it out on purpose.
        QVERIFY(git(dir, {QStringLiteral("rev-list"), QStringLiteral("--all")}).lines().contains(staged));
        QVERIFY(!all->contains(staged));
        QVERIFY(!all->contains(*ghost));

        auto withTips = repo->allCommits({*ghost, staged, QStringLiteral("not-an-id"), ghost->left(10)});
        QVERIFY(withTips);
        QCOMPARE(sorted(*withTips), sorted(expected + QStringList{*ghost, staged}));

        // Blobs: every distinct version under d/ ending in .yaml, over the same commits.
        auto blobs = repo->allBlobsUnder(QStringLiteral("d"), QStringLiteral(".yaml"));
        QVERIFY2(blobs, qPrintable(blobs.message()));
        QList<QByteArray> got(blobs->begin(), blobs->end());
        std::sort(got.begin(), got.end());
        QCOMPARE(got, (QList<QByteArray>{"a1", "a2", "b1"}));
        auto blobsWithTips = repo->allBlobsUnder(QStringLiteral("d"), QStringLiteral(".yaml"), {*ghost});
        QVERIFY(blobsWithTips);
        got = QList<QByteArray>(blobsWithTips->begin(), blobsWithTips->end());
        std::sort(got.begin(), got.end());
        QCOMPARE(got, (QList<QByteArray>{"a1", "a2", "b1", "g1"}));
    }

    void allBlobsUnderFilters()
    {
        auto repo = newRepo();
        QVERIFY(repo);
        auto c1 = repo->commitFiles({{QStringLiteral("datasets/a.yaml"), "a1"},
                                     {QStringLiteral("datasets/notes.txt"), "not yaml"},
                                     {QStringLiteral("datasets/sub/deep.yaml"), "deeper"},
                                     {QStringLiteral("other/o.yaml"), "elsewhere"},
                                     {QStringLiteral("datasets.yaml"), "beside"}},
                                    QStringLiteral("c1"));
        QVERIFY(c1);
        QVERIFY(repo->commitFiles({{QStringLiteral("datasets/a.yaml"), "a2"}}, QStringLiteral("c2")));
        // Back to the first content: the same blob, reported once.
        QVERIFY(repo->commitFiles({{QStringLiteral("datasets/a.yaml"), "a1"}, {QStringLiteral("datasets/b.yaml"), "a1"}},
                                  QStringLiteral("c3")));
        auto blobs = repo->allBlobsUnder(QStringLiteral("datasets"), QStringLiteral(".yaml"));
        QVERIFY2(blobs, qPrintable(blobs.message()));
        QList<QByteArray> got(blobs->begin(), blobs->end());
        std::sort(got.begin(), got.end());
        QCOMPARE(got, (QList<QByteArray>{"a1", "a2"}));
        auto txt = repo->allBlobsUnder(QStringLiteral("datasets"), QStringLiteral(".txt"));
        QVERIFY(txt);
        QCOMPARE(int(txt->size()), 1);
        QCOMPARE(txt->front(), QByteArray("not yaml"));
        auto none = repo->allBlobsUnder(QStringLiteral("missing"), QStringLiteral(".yaml"));
        QVERIFY(none);
        QVERIFY(none->empty());
        auto empty = newRepo();
        QVERIFY(empty);
        auto nothing = empty->allBlobsUnder(QStringLiteral("datasets"), QStringLiteral(".yaml"));
        QVERIFY(nothing);
        QVERIFY(nothing->empty());
    }

    // --- tags ------------------------------------------------------------------------------------------------

    void tags()
    {
        auto repo = newRepo();
        QVERIFY(repo);
        const QString dir = repo->workdir();
        auto c1 = repo->commitFiles({{QStringLiteral("a"), "1"}}, QStringLiteral("c1"));
        QVERIFY(c1);
        QVERIFY(repo->createTag(QStringLiteral("v1.0"), QStringLiteral("first release")));
        auto c2 = repo->commitFiles({{QStringLiteral("a"), "2"}}, QStringLiteral("c2"));
        QVERIFY(c2);
        QVERIFY(repo->createTag(QStringLiteral("baseline"), QStringLiteral("second")));

        QCOMPARE(sorted(repo->tags()), (QStringList{QStringLiteral("baseline"), QStringLiteral("v1.0")}));
        QCOMPARE(sorted(repo->tags()), sorted(git(dir, {QStringLiteral("tag"), QStringLiteral("-l")}).lines()));
        // Annotated tags on the HEAD of their time, with their message.
        QCOMPARE(gitText(dir, {QStringLiteral("cat-file"), QStringLiteral("-t"), QStringLiteral("v1.0")}),
                 QStringLiteral("tag"));
        QCOMPARE(gitText(dir, {QStringLiteral("rev-parse"), QStringLiteral("v1.0^{commit}")}), *c1);
        QCOMPARE(gitText(dir, {QStringLiteral("rev-parse"), QStringLiteral("baseline^{commit}")}), *c2);
        QCOMPARE(gitText(dir, {QStringLiteral("tag"), QStringLiteral("-l"), QStringLiteral("--format=%(contents)"),
                               QStringLiteral("v1.0")}),
                 QStringLiteral("first release"));
        QCOMPARE(*repo->resolveCommit(QStringLiteral("v1.0")), *c1);

        // An existing name or a name git refuses is an error, and changes nothing.
        QVERIFY(repo->createTag(QStringLiteral("v1.0"), QStringLiteral("again")).is(ErrorKind::Conflict));
        QCOMPARE(gitText(dir, {QStringLiteral("rev-parse"), QStringLiteral("v1.0^{commit}")}), *c1);
        QVERIFY(repo->createTag(QStringLiteral("bad name"), QStringLiteral("space")).is(ErrorKind::InvalidInput));
        QVERIFY(repo->createTag(QStringLiteral("a..b"), QStringLiteral("dots")).is(ErrorKind::InvalidInput));
        QCOMPARE(repo->tags().size(), 2);

        QVERIFY(repo->deleteTag(QStringLiteral("baseline")));
        QCOMPARE(git(dir, {QStringLiteral("tag"), QStringLiteral("-l")}).lines(), QStringList{QStringLiteral("v1.0")});
        QVERIFY(!repo->deleteTag(QStringLiteral("baseline")));
    }

    void detachedHeadIsAnError()
    {
        // currentBranch() used to answer "main" whatever HEAD was; on a detached HEAD it must say so.
        auto repo = newRepo();
        QVERIFY(repo);
        const QString dir = repo->workdir();
        auto c1 = repo->commitFiles({{QStringLiteral("a"), "1"}}, QStringLiteral("c1"));
        QVERIFY(c1);
        auto c2 = repo->commitFiles({{QStringLiteral("a"), "2"}}, QStringLiteral("c2"));
        QVERIFY(c2);
        QCOMPARE(git(dir, {QStringLiteral("checkout"), QStringLiteral("-q"), *c1}).code, 0);
        auto reopened = GitRepo::open(dir);
        QVERIFY(reopened);
        const auto branch = (*reopened)->currentBranch();
        QVERIFY(!branch);
        QVERIFY(branch.error().message.contains(QStringLiteral("detached")));
        QCOMPARE((*reopened)->headCommit().value(), *c1);
    }

    // --- two repositories ------------------------------------------------------------------------------------

    void pushFetchFastForward()
    {
        const QString remote = newPath(QStringLiteral("remote"));
        QVERIFY(GitRepo::init(remote, true));
        auto a = newRepo(QStringLiteral("a"));
        auto b = newRepo(QStringLiteral("b"));
        QVERIFY(a && b);

        // Nothing to push from an empty repository; fetching an empty remote gives an empty id.
        QVERIFY(!a->push(remote));
        auto emptyFetch = b->fetch(remote, QStringLiteral("origin"));
        QVERIFY2(emptyFetch, qPrintable(emptyFetch.message()));
        QVERIFY(emptyFetch->isEmpty());
        QVERIFY(b->acceptFetched(QStringLiteral("origin")));
        QCOMPARE(*b->integrate(*emptyFetch, QStringLiteral("origin")), QStringLiteral("remote is empty"));

        auto a1 = a->commitFiles({{QStringLiteral("f.txt"), "1"}, {QStringLiteral("d/g.txt"), "g"}}, QStringLiteral("a1"));
        QVERIFY(a1);
        QVERIFY(a->createTag(QStringLiteral("v1"), QStringLiteral("tagged")));
        Status pushed = a->push(remote);
        QVERIFY2(pushed, qPrintable(pushed.message()));
        QCOMPARE(gitText(remote, {QStringLiteral("rev-parse"), QStringLiteral("refs/heads/main")}), *a1);
        QCOMPARE(gitText(remote, {QStringLiteral("rev-parse"), QStringLiteral("v1^{commit}")}), *a1);
        QCOMPARE(gitText(remote, {QStringLiteral("cat-file"), QStringLiteral("-t"), QStringLiteral("v1")}),
                 QStringLiteral("tag"));
        // The probe fetch of the push leaves no ref behind.
        QVERIFY(!refExists(a->workdir(), QStringLiteral("refs/keel/incoming/__keel_push")));
        // Pushing again is a no-op that succeeds.
        QVERIFY(a->push(remote));

        // b fetches into the staging ref: outside history until accepted.
        auto fetched = b->fetch(remote, QStringLiteral("origin"));
        QVERIFY2(fetched, qPrintable(fetched.message()));
        QCOMPARE(*fetched, *a1);
        const QString bdir = b->workdir();
        QCOMPARE(gitText(bdir, {QStringLiteral("rev-parse"), QStringLiteral("refs/keel/incoming/origin")}), *a1);
        QVERIFY(!refExists(bdir, QStringLiteral("refs/remotes/origin/main")));
        QVERIFY(b->headCommit().value().isEmpty());
        QVERIFY(b->allCommits()->isEmpty());
        QVERIFY(b->allBlobsUnder(QStringLiteral("d"), QStringLiteral(".txt"))->empty());
        QCOMPARE(*b->allCommits({*fetched}), QStringList{*a1});
        QCOMPARE(b->allBlobsUnder(QStringLiteral("d"), QStringLiteral(".txt"), {*fetched})->size(), size_t(1));

        QVERIFY(b->acceptFetched(QStringLiteral("origin")));
        QVERIFY(!refExists(bdir, QStringLiteral("refs/keel/incoming/origin")));
        QCOMPARE(gitText(bdir, {QStringLiteral("rev-parse"), QStringLiteral("refs/remotes/origin/main")}), *a1);
        QCOMPARE(*b->allCommits(), QStringList{*a1});

        // Into an empty branch: a fast-forward that checks out the files.
        auto integrated = b->integrate(*fetched, QStringLiteral("origin"));
        QVERIFY2(integrated, qPrintable(integrated.message()));
        QCOMPARE(*integrated, QStringLiteral("fast-forward"));
        QCOMPARE(b->headCommit().value(), *a1);
        QCOMPARE(gitText(bdir, {QStringLiteral("rev-parse"), QStringLiteral("refs/heads/main")}), *a1);
        QCOMPARE(readDisk(bdir + QStringLiteral("/f.txt")), QByteArray("1"));
        QCOMPARE(readDisk(bdir + QStringLiteral("/d/g.txt")), QByteArray("g"));
        QCOMPARE(git(bdir, {QStringLiteral("status"), QStringLiteral("--porcelain")}).text(), QString());

        // a moves on; b fast-forwards onto it.
        auto a2 = a->commitFiles({{QStringLiteral("f.txt"), "2"}, {QStringLiteral("h.txt"), "h"}}, QStringLiteral("a2"));
        QVERIFY(a2);
        QVERIFY(a->push(remote));
        auto second = b->fetch(remote, QStringLiteral("origin"));
        QVERIFY(second);
        QCOMPARE(*second, *a2);
        QVERIFY(b->acceptFetched(QStringLiteral("origin")));
        QCOMPARE(*b->integrate(*second, QStringLiteral("origin")), QStringLiteral("fast-forward"));
        QCOMPARE(b->headCommit().value(), *a2);
        QCOMPARE(readDisk(bdir + QStringLiteral("/f.txt")), QByteArray("2"));
        QCOMPARE(readDisk(bdir + QStringLiteral("/h.txt")), QByteArray("h"));
        QCOMPARE(git(bdir, {QStringLiteral("status"), QStringLiteral("--porcelain")}).text(), QString());
        QCOMPARE(gitText(bdir, {QStringLiteral("log"), QStringLiteral("--format=%P"), QStringLiteral("-1")}), *a1);
        // Nothing new: up to date, nothing moves.
        QCOMPARE(*b->integrate(*second, QStringLiteral("origin")), QStringLiteral("up to date"));
        QCOMPARE(b->headCommit().value(), *a2);
        // An older commit is "up to date" too: b already has it.
        QCOMPARE(*b->integrate(*a1, QStringLiteral("origin")), QStringLiteral("up to date"));
        QCOMPARE(b->headCommit().value(), *a2);
    }

    void discardFetched()
    {
        const QString remote = newPath(QStringLiteral("remote"));
        QVERIFY(GitRepo::init(remote, true));
        auto a = newRepo(QStringLiteral("a"));
        auto b = newRepo(QStringLiteral("b"));
        QVERIFY(a && b);
        auto a1 = a->commitFiles({{QStringLiteral("f.txt"), "1"}}, QStringLiteral("a1"));
        QVERIFY(a1);
        QVERIFY(a->push(remote));
        auto fetched = b->fetch(remote, QStringLiteral("origin"));
        QVERIFY(fetched);
        QVERIFY(refExists(b->workdir(), QStringLiteral("refs/keel/incoming/origin")));
        b->discardFetched(QStringLiteral("origin"));
        QVERIFY(!refExists(b->workdir(), QStringLiteral("refs/keel/incoming/origin")));
        QVERIFY(!refExists(b->workdir(), QStringLiteral("refs/remotes/origin/main")));
        QVERIFY(b->allCommits()->isEmpty());
        // Accepting after a discard has nothing to accept.
        QVERIFY(b->acceptFetched(QStringLiteral("origin")));
        QVERIFY(!refExists(b->workdir(), QStringLiteral("refs/remotes/origin/main")));
        // Staging refs are per remote name.
        QVERIFY(b->fetch(remote, QStringLiteral("one")));
        QVERIFY(b->fetch(remote, QStringLiteral("two")));
        b->discardFetched(QStringLiteral("one"));
        QVERIFY(!refExists(b->workdir(), QStringLiteral("refs/keel/incoming/one")));
        QVERIFY(refExists(b->workdir(), QStringLiteral("refs/keel/incoming/two")));
        // Fetching from a folder that is no repository is an error.
        QVERIFY(!b->fetch(newPath(QStringLiteral("nowhere")), QStringLiteral("origin")));
    }

    void mergeWithoutConflict()
    {
        const QString remote = newPath(QStringLiteral("remote"));
        QVERIFY(GitRepo::init(remote, true));
        auto a = newRepo(QStringLiteral("a"));
        QVERIFY(a);
        auto base = a->commitFiles({{QStringLiteral("a.txt"), "a0"}, {QStringLiteral("b.txt"), "b0"}},
                                   QStringLiteral("base"));
        QVERIFY(base);
        QVERIFY(a->push(remote));
        auto cloned = GitRepo::clone(remote, newPath(QStringLiteral("b")));
        QVERIFY2(cloned, qPrintable(cloned.message()));
        auto &b = *cloned;
        QCOMPARE(b->headCommit().value(), *base);
        QCOMPARE(readDisk(b->workdir() + QStringLiteral("/a.txt")), QByteArray("a0"));

        auto theirs = a->commitFiles({{QStringLiteral("a.txt"), "a1"}}, QStringLiteral("theirs"));
        QVERIFY(theirs);
        QVERIFY(a->push(remote));
        auto ours = b->commitFiles({{QStringLiteral("b.txt"), "b1"}, {QStringLiteral("n.txt"), "n"}},
                                   QStringLiteral("ours"));
        QVERIFY(ours);

        // The diverged push loses, and leaves the remote as it was.
        Status lost = b->push(remote);
        QVERIFY(!lost);
        QCOMPARE(gitText(remote, {QStringLiteral("rev-parse"), QStringLiteral("refs/heads/main")}), *theirs);

        auto fetched = b->fetch(remote, QStringLiteral("origin"));
        QVERIFY(fetched);
        QCOMPARE(*fetched, *theirs);
        QVERIFY(b->acceptFetched(QStringLiteral("origin")));
        auto merged = b->integrate(*fetched, QStringLiteral("origin"));
        QVERIFY2(merged, qPrintable(merged.message()));
        QCOMPARE(*merged, QStringLiteral("merged"));

        const QString bdir = b->workdir();
        const QString head = b->headCommit().value();
        QVERIFY(head != *ours && head != *theirs);
        QCOMPARE(gitText(bdir, {QStringLiteral("rev-parse"), QStringLiteral("HEAD^1")}), *ours);
        QCOMPARE(gitText(bdir, {QStringLiteral("rev-parse"), QStringLiteral("HEAD^2")}), *theirs);
        QCOMPARE(gitText(bdir, {QStringLiteral("log"), QStringLiteral("-1"), QStringLiteral("--format=%s")}),
                 QStringLiteral("Merge origin into main"));
        QCOMPARE(git(bdir, {QStringLiteral("show"), QStringLiteral("HEAD:a.txt")}).out, QByteArray("a1"));
        QCOMPARE(git(bdir, {QStringLiteral("show"), QStringLiteral("HEAD:b.txt")}).out, QByteArray("b1"));
        QCOMPARE(git(bdir, {QStringLiteral("show"), QStringLiteral("HEAD:n.txt")}).out, QByteArray("n"));
        QCOMPARE(readDisk(bdir + QStringLiteral("/a.txt")), QByteArray("a1"));
        QCOMPARE(readDisk(bdir + QStringLiteral("/b.txt")), QByteArray("b1"));
        QCOMPARE(git(bdir, {QStringLiteral("status"), QStringLiteral("--porcelain")}).text(), QString());
        QVERIFY(!refExists(bdir, QStringLiteral("MERGE_HEAD")));

        // History through the merge: a.txt changed on their side only; the merge adds no version of it.
        auto history = b->historyOf(QStringLiteral("a.txt"));
        QVERIFY(history);
        QStringList ids;
        for (const CommitInfo &c : *history)
            ids << c.id;
        QCOMPARE(ids, (QStringList{*base, *theirs}));
        auto merge = b->commitInfo(head);
        QVERIFY(merge);
        QCOMPARE(merge->parents, (QStringList{*ours, *theirs}));

        // Now b is ahead of the remote: its push succeeds, and a fast-forwards onto the merge.
        Status pushed = b->push(remote);
        QVERIFY2(pushed, qPrintable(pushed.message()));
        QCOMPARE(gitText(remote, {QStringLiteral("rev-parse"), QStringLiteral("refs/heads/main")}), head);
        auto back = a->fetch(remote, QStringLiteral("origin"));
        QVERIFY(back);
        QCOMPARE(*a->integrate(*back, QStringLiteral("origin")), QStringLiteral("fast-forward"));
        QCOMPARE(a->headCommit().value(), head);
        QCOMPARE(readDisk(a->workdir() + QStringLiteral("/b.txt")), QByteArray("b1"));
    }

    void conflictIsRefused()
    {
        const QString remote = newPath(QStringLiteral("remote"));
        QVERIFY(GitRepo::init(remote, true));
        auto a = newRepo(QStringLiteral("a"));
        QVERIFY(a);
        auto base = a->commitFiles({{QStringLiteral("shared.txt"), "line\n"}}, QStringLiteral("base"));
        QVERIFY(base && a->push(remote));
        auto cloned = GitRepo::clone(remote, newPath(QStringLiteral("b")));
        QVERIFY(cloned);
        auto &b = *cloned;
        auto theirs = a->commitFiles({{QStringLiteral("shared.txt"), "theirs\n"}}, QStringLiteral("theirs"));
        QVERIFY(theirs && a->push(remote));
        auto ours = b->commitFiles({{QStringLiteral("shared.txt"), "ours\n"}}, QStringLiteral("ours"));
        QVERIFY(ours);

        const QString bdir = b->workdir();
        auto fetched = b->fetch(remote, QStringLiteral("origin"));
        QVERIFY(fetched);
        QVERIFY(b->acceptFetched(QStringLiteral("origin")));
        auto result = b->integrate(*fetched, QStringLiteral("origin"));
        QVERIFY(!result);
        QVERIFY2(result.error().message.contains(QStringLiteral("shared.txt")), qPrintable(result.message()));
        // Nothing changed: HEAD, working tree and index as before, no merge in progress.
        QCOMPARE(b->headCommit().value(), *ours);
        QCOMPARE(gitText(bdir, {QStringLiteral("rev-parse"), QStringLiteral("refs/heads/main")}), *ours);
        QCOMPARE(readDisk(bdir + QStringLiteral("/shared.txt")), QByteArray("ours\n"));
        QCOMPARE(git(bdir, {QStringLiteral("status"), QStringLiteral("--porcelain"), QStringLiteral("--untracked-files=all")})
                     .text(),
                 QString());
        QVERIFY(!refExists(bdir, QStringLiteral("MERGE_HEAD")));
    }

    void losingPushIsConflict_data()
    {
        QTest::addColumn<bool>("diverged");   // false: simply behind the remote
        QTest::newRow("diverged") << true;
        QTest::newRow("behind") << false;
    }
    void losingPushIsConflict()
    {
        QFETCH(bool, diverged);
        const QString remote = newPath(QStringLiteral("remote"));
        QVERIFY(GitRepo::init(remote, true));
        auto a = newRepo(QStringLiteral("a"));
        QVERIFY(a);
        QVERIFY(a->commitFiles({{QStringLiteral("f.txt"), "0"}}, QStringLiteral("base")));
        QVERIFY(a->push(remote));
        auto cloned = GitRepo::clone(remote, newPath(QStringLiteral("b")));
        QVERIFY(cloned);
        auto &b = *cloned;
        // a pushes first.
        auto winner = a->commitFiles({{QStringLiteral("g.txt"), "a"}}, QStringLiteral("winner"));
        QVERIFY(winner && a->push(remote));
        const QString before = b->headCommit().value();
        if (diverged)
            QVERIFY(b->commitFiles({{QStringLiteral("h.txt"), "b"}}, QStringLiteral("loser")));

        Status lost = b->push(remote);
        QVERIFY(!lost);
        QVERIFY2(lost.error().message.contains(QStringLiteral("pull")), qPrintable(lost.message()));
        QCOMPARE(lost.error().file, remote);
        // The remote keeps the winner, and the loser keeps its own history.
        QCOMPARE(gitText(remote, {QStringLiteral("rev-parse"), QStringLiteral("refs/heads/main")}), *winner);
        if (!diverged)
            QCOMPARE(b->headCommit().value(), before);
        QVERIFY(!refExists(b->workdir(), QStringLiteral("refs/keel/incoming/__keel_push")));
        // A losing push is an error of kind Conflict (callers tell "pull first" from a failure by the kind).
        QVERIFY2(lost.is(ErrorKind::Conflict),
                 qPrintable(QStringLiteral("kind %1: %2").arg(int(lost.error().kind)).arg(lost.message())));
    }

    void versionString()
    {
        const QString v = GitRepo::versionString();
        QVERIFY2(QRegularExpression(QStringLiteral("^[0-9]+\\.[0-9]+\\.[0-9]+$")).match(v).hasMatch(), qPrintable(v));
    }
};

QTEST_GUILESS_MAIN(TstGitRepo)
#include "tst_gitrepo.moc"
