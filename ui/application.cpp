#include "application.h"

#include "mainwindow.h"
#include "screenshots.h"
#include "theme.h"
#include "workspace/workspace.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QIcon>
#include <QSettings>

#include <cstdio>

// keelui is a static library: its resources (the icon) are registered by the program that links it.
static void initUiResources() { Q_INIT_RESOURCE(keelui); }

namespace keel::ui {

int runWorkbench(int argc, char *argv[])
{
    QApplication app(argc, argv);
    initUiResources();
    QCoreApplication::setOrganizationName(QStringLiteral("Keel"));
    QCoreApplication::setApplicationName(QStringLiteral("keel-workbench"));
    QCoreApplication::setApplicationVersion(QStringLiteral(KEEL_VERSION_STRING));
    // The installed icon theme's icon when there is one (hicolor, from the .deb), else the bundled SVG.
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("keel-workbench"), QIcon(QStringLiteral(":/keel/keel-workbench.svg"))));
    QGuiApplication::setDesktopFileName(QStringLiteral("keel-workbench"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Keel workbench: versioned data, training, explanations, models, "
                                                    "pipelines, deployments and monitoring."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({QStringLiteral("screenshots"),
                      QStringLiteral("Render each main view with an example workspace to PNG files in DIR, then exit."),
                      QStringLiteral("DIR")});
    parser.addPositionalArgument(QStringLiteral("workspace"), QStringLiteral("Workspace folder to open."),
                                 QStringLiteral("[DIR]"));
    parser.process(app);

    if (parser.isSet(QStringLiteral("screenshots"))) {
        QStringList files;
        const Status s = renderScreenshots(parser.value(QStringLiteral("screenshots")),
                                           workspace::Workspace::examplesDir(), &files);
        for (const QString &f : files)
            std::printf("%s\n", qPrintable(QDir::toNativeSeparators(f)));
        if (!s) {
            std::fprintf(stderr, "keel-workbench: %s\n", qPrintable(s.message()));
            return 1;
        }
        return 0;
    }

    applyTheme(themeFromName(QSettings().value(QStringLiteral("view/theme")).toString()));
    MainWindow window;
    window.show();
    const QStringList args = parser.positionalArguments();
    if (!args.isEmpty()) {
        window.openWorkspace(args.front());
    } else {
        const QString last = QSettings().value(QStringLiteral("workspaces/last")).toString();
        if (!last.isEmpty() && QDir(last).exists())
            window.openWorkspace(last);
    }
    return app.exec();
}

} // namespace keel::ui
