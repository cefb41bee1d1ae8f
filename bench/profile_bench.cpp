// The column profile alone (what `data inspect` and `data add` compute after the parse), without the parse's noise:
// opens a columnar cache file (.ktab, memory-mapped) or reads a CSV once, then times profileTable REPEATS times on
// all cores and each column's profile once on one core, and prints one JSON line.
//
//   keel-bench-profile FILE.ktab|FILE.csv [REPEATS]      # default 3
#include "data/materialise.h"
#include "data/profile.h"
#include "data/reader.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

using namespace keel;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: keel-bench-profile FILE.ktab|FILE.csv [REPEATS]\n");
        return 2;
    }
    const QString path = args[1];
    const int repeats = args.size() > 2 ? args[2].toInt() : 3;
    Expected<data::Table> table = path.endsWith(QLatin1String(".ktab")) ? data::openMaterialisation(path)
                                                                         : data::readTable(path);
    if (!table) {
        std::fprintf(stderr, "%s\n", qPrintable(table.error().toString()));
        return 1;
    }
    QJsonArray wholeMs;
    for (int r = 0; r < repeats; ++r) {
        QElapsedTimer clock;
        clock.start();
        if (!data::profileTable(*table))
            return 1;
        wholeMs.append(double(clock.nsecsElapsed()) / 1e6);
    }
    QJsonArray columns;
    for (int c = 0; c < table->columnCount(); ++c) {
        QElapsedTimer clock;
        clock.start();
        auto p = data::profileColumn(table->column(c));
        if (!p)
            return 1;
        columns.append(QJsonObject{{QStringLiteral("name"), table->column(c).name()},
                                   {QStringLiteral("type"), data::columnTypeName(table->column(c).type())},
                                   {QStringLiteral("distinct"), double(p->distinct)},
                                   {QStringLiteral("ms"), double(clock.nsecsElapsed()) / 1e6}});
    }
    const QJsonObject out{{QStringLiteral("rows"), double(table->rowCount())},
                          {QStringLiteral("profile_table_ms"), wholeMs},
                          {QStringLiteral("columns"), columns}};
    std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Compact).constData());
    return 0;
}
