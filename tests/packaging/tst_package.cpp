// The .deb a workstation user installs: `cpack -G DEB` in this build makes keel_<version>_amd64.deb; lintian finds
// no errors in it; `apt-get install ./keel_*.deb` installs it; and from the installed /usr/bin/keel, in a fresh
// folder, `keel init --example`, a training and an explanation work, with the man pages, completion, desktop entry,
// icons and metainfo where the desktop expects them. The package is removed again at the end. Installing needs root:
// as another user the test stops after lintian, saying so.
#include "../cli/clitest.h"
#include "../support/liveservers.h"

#include <QDirIterator>
#include <QJsonArray>
#include <QJsonObject>

#include <unistd.h>

using namespace clitest;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }
const QString kBuild = QStringLiteral(KEEL_BUILD_DIR);
} // namespace

class TstPackage : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_deb;
    bool m_installed = false;

private slots:
    void buildsTheDeb()
    {
        const liveservers::Output o = liveservers::run(S("cpack"), {S("-G"), S("DEB"), S("--config"), kBuild + S("/CPackConfig.cmake"),
                                                                    S("-B"), m_dir.path()}, {}, 600000);
        QVERIFY2(o.code == 0, o.text.constData());
        QDirIterator it(m_dir.path(), {S("keel_*_amd64.deb")}, QDir::Files);
        QVERIFY2(it.hasNext(), o.text.constData());
        m_deb = it.next();
        // Declared dependencies: the shared libraries (from dpkg-shlibdeps) and the plugins Qt loads at run time.
        const liveservers::Output fields = liveservers::run(S("dpkg-deb"), {S("-f"), m_deb, S("Depends")});
        for (const char *needed : {"libqt6core6", "libgit2", "libxgboost", "libyaml-cpp", "libqt6sql6-sqlite", "qt6-qpa-plugins", "libcurl"})
            QVERIFY2(fields.text.contains(needed), QByteArray(fields.text + " lacks " + needed).constData());
        const liveservers::Output list = liveservers::run(S("dpkg-deb"), {S("-c"), m_deb});
        for (const char *path : {"./usr/bin/keel", "./usr/bin/keel-workbench", "./usr/share/keel/examples/adult_train.csv",
                                 "./usr/share/keel/examples/pipelines/income.yaml", "./usr/share/man/man1/keel.1.gz",
                                 "./usr/share/man/man1/keel-workbench.1.gz", "./usr/share/bash-completion/completions/keel",
                                 "./usr/share/applications/keel-workbench.desktop",
                                 "./usr/share/icons/hicolor/scalable/apps/keel-workbench.svg",
                                 "./usr/share/icons/hicolor/48x48/apps/keel-workbench.png",
                                 "./usr/share/metainfo/io.keel.Workbench.metainfo.xml", "./usr/share/doc/keel/copyright"})
            QVERIFY2(list.text.contains(path), path);
        QVERIFY2(!list.text.contains("/include/") && !list.text.contains(".a\n"), "no headers or static libraries");
    }

    void lintianFindsNoErrors()
    {
        if (QStandardPaths::findExecutable(S("lintian")).isEmpty())
            QSKIP("lintian is not installed (Debian package lintian; packaging/install-deps.sh installs it)");
        QVERIFY(!m_deb.isEmpty());
        const liveservers::Output o = liveservers::run(S("lintian"), {S("--fail-on"), S("error"), m_deb}, {}, 600000);
        QVERIFY2(o.code == 0, o.text.constData());
        QVERIFY2(!o.text.contains("\nE: ") && !o.text.startsWith("E: "), o.text.constData());
    }

    void metadataValidates()
    {
        for (const char *tool : {"desktop-file-validate", "appstreamcli"})
            if (QStandardPaths::findExecutable(S(tool)).isEmpty())
                QSKIP(qPrintable(S("%1 is not installed (Debian desktop-file-utils, appstream)").arg(S(tool))));
        const liveservers::Output desktop =
            liveservers::run(S("desktop-file-validate"), {S(KEEL_SOURCE_DIR "/packaging/keel-workbench.desktop")});
        QVERIFY2(desktop.code == 0 && desktop.text.trimmed().isEmpty(), desktop.text.constData());
        const liveservers::Output meta = liveservers::run(
            S("appstreamcli"), {S("validate"), S("--no-net"), S(KEEL_SOURCE_DIR "/packaging/io.keel.Workbench.metainfo.xml")});
        QVERIFY2(meta.code == 0, meta.text.constData());
    }

    void installsAndRunsTheExample()
    {
        if (::geteuid() != 0)
            QSKIP("installing the package needs root (apt-get install ./keel_*.deb)");
        QVERIFY(!m_deb.isEmpty());
        const liveservers::Output install =
            liveservers::run(S("apt-get"), {S("install"), S("-y"), S("-q"), S("--no-install-recommends"), m_deb}, {}, 600000);
        QVERIFY2(install.code == 0, install.text.constData());
        m_installed = true;
        QVERIFY(QFileInfo(S("/usr/bin/keel")).isExecutable());

        // From the installed binary, in a fresh folder, with no build tree in sight.
        const QString home = m_dir.filePath(S("home"));
        QDir().mkpath(home);
        auto installed = [&](const QStringList &args, const QString &cwd) {
            QProcess p;
            QProcessEnvironment env;
            env.insert(S("PATH"), S("/usr/bin:/bin"));
            env.insert(S("HOME"), home);
            env.insert(S("LANG"), S("C.UTF-8"));
            p.setProcessEnvironment(env);
            p.setWorkingDirectory(cwd);
            p.start(S("/usr/bin/keel"), args);
            p.waitForFinished(600000);
            return clitest::Result{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
                                   p.readAllStandardError()};
        };
        const QString ws = m_dir.filePath(S("fresh/ws"));
        QDir().mkpath(m_dir.filePath(S("fresh")));
        RUN_OK(installed({S("init"), S("--example"), ws}, m_dir.filePath(S("fresh"))));
        const clitest::Result train = installed({S("--json"), S("train"), S("configs/adult-logistic.yaml")}, ws);
        RUN_OK(train);
        const QString run = QJsonDocument::fromJson(train.out).object().value(S("run")).toString();
        QVERIFY2(!run.isEmpty(), train.out.constData());
        const clitest::Result explain = installed({S("--json"), S("explain"), run, S("--rows"), S("1-3")}, ws);
        RUN_OK(explain);
        const QJsonObject explained = QJsonDocument::fromJson(explain.out).object();
        QVERIFY2(explained.value(S("object")).toString().size() == 64, explain.out.left(400).constData());
        RUN_OK(installed({S("audit"), S("verify")}, ws));
        // The man page renders, and keel-workbench --help answers from the installed binary.
        const liveservers::Output man = liveservers::run(S("man"), {S("-P"), S("cat"), S("keel")});
        QVERIFY2(man.code == 0 && man.text.contains("keel data add"), man.text.left(300).constData());
        QProcess wb;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(S("QT_QPA_PLATFORM"), S("offscreen"));
        wb.setProcessEnvironment(env);
        wb.start(S("/usr/bin/keel-workbench"), {S("--help")});
        QVERIFY(wb.waitForFinished(60000));
        QCOMPARE(wb.exitCode(), 0);
        QVERIFY(wb.readAllStandardOutput().contains("keel-workbench"));
    }

    void cleanupTestCase()
    {
        if (m_installed) {
            const liveservers::Output removed = liveservers::run(S("apt-get"), {S("remove"), S("-y"), S("-q"), S("keel")}, {}, 300000);
            QVERIFY2(removed.code == 0, removed.text.constData());
        }
    }
};

QTEST_GUILESS_MAIN(TstPackage)
#include "tst_package.moc"
