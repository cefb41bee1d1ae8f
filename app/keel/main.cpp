// keel: the headless runner. All work happens in core; this file only hands argv to the CLI.
#include "cli.h"

#include <QCoreApplication>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("keel"));
    QCoreApplication::setApplicationVersion(QStringLiteral(KEEL_VERSION_STRING));
    return keel::cli::run(QCoreApplication::arguments());
}
