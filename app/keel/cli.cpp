// The keel command line: parses arguments, calls core, prints results. No work happens here.
#include "cli.h"

#include "commands.h"

#include <QCoreApplication>
#include <QTextStream>

#include <cstdio>

namespace keel::cli {

namespace {

void printOverview(QTextStream &out)
{
    out << "keel " << QCoreApplication::applicationVersion() << " - versioned data, training and models from the command line\n\n"
        << "Usage: keel [-C DIR] [--json] COMMAND [ARGS...]\n\nCommands:\n";
    for (const Command &c : commands()) {
        QString name = c.path.join(QLatin1Char(' '));
        out << "  " << name.leftJustified(22) << ' ' << c.summary << '\n';
    }
    out << "\nGlobal options:\n"
        << "  -C DIR        run as if started in DIR (the workspace is found from there upward)\n"
        << "  --json        machine-readable output on stdout\n"
        << "  -h, --help    help for keel or for a command (keel data add --help)\n"
        << "  --version     print the version\n"
        << "\nExit codes: 0 success, 1 error (stderr says what and where), 2 wrong usage, 130 cancelled (Ctrl-C or\n"
        << "SIGTERM stops a long command cleanly; a second Ctrl-C ends it at once). Some commands add their own:\n"
        << "data validate exits 1 when a rule fails, sweep 1 when a trial failed, runs reproduce 3 when the\n"
        << "predictions differ, monitor check 3 while a rule holds.\n";
}

} // namespace

int run(const QStringList &argsIn)
{
    QTextStream out(stdout);
    QTextStream err(stderr);
    QStringList args = argsIn.mid(1);

    // Global options may come before the command.
    GlobalOptions global;
    while (!args.isEmpty() && args.front().startsWith(QLatin1Char('-'))) {
        const QString a = args.takeFirst();
        if (a == u"-C") {
            if (args.isEmpty()) {
                err << "keel: error: -C needs a folder\n";
                return 2;
            }
            global.directory = args.takeFirst();
        } else if (a == u"--json") {
            global.json = true;
        } else if (a == u"--version" || a == u"-V") {
            out << "keel " << QCoreApplication::applicationVersion() << '\n';
            return 0;
        } else if (a == u"-h" || a == u"--help") {
            printOverview(out);
            return 0;
        } else {
            err << "keel: error: unknown option " << a << " (see keel --help)\n";
            return 2;
        }
    }
    if (args.isEmpty()) {
        printOverview(out);
        return 2;
    }
    if (args.front() == u"help") {
        args.removeFirst();
        if (args.isEmpty()) {
            printOverview(out);
            return 0;
        }
        args << QStringLiteral("--help");
    }

    // Longest command path that matches the leading words.
    const Command *best = nullptr;
    for (const Command &c : commands()) {
        if (c.path.size() > args.size())
            continue;
        bool match = true;
        for (int i = 0; i < c.path.size(); ++i)
            if (c.path[i] != args[i])
                match = false;
        if (match && (!best || c.path.size() > best->path.size()))
            best = &c;
    }
    if (!best) {
        // A group word alone ("keel data") lists its commands.
        QStringList group;
        for (const Command &c : commands())
            if (c.path.front() == args.front())
                group << QStringLiteral("  keel ") + c.path.join(QLatin1Char(' ')) + QStringLiteral("  -  ") + c.summary;
        if (!group.isEmpty()) {
            (args.size() == 1 ? out : err) << "Commands of 'keel " << args.front() << "':\n" << group.join(QLatin1Char('\n')) << '\n';
            return args.size() == 1 ? 0 : 2;
        }
        err << "keel: error: unknown command '" << args.front() << "' (see keel --help)\n";
        return 2;
    }
    const QStringList rest = args.mid(best->path.size());
    return runCommand(*best, rest, global);
}

} // namespace keel::cli
