// The column profile alone (what `data inspect` and `data add` compute after the parse), without the parse's noise:
// opens a columnar cache file (.ktab, memory-mapped) or reads a CSV once, then times profileTable REPEATS times on
// all cores and each column's profile REPEATS times on one core (the fastest kept, each with fresh scratch memory),
// and prints one JSON line. With a folder, it also times writing the table's columnar cache there alone, then again
// while the profile runs (as `data add` does).
//
//   keel-bench-profile FILE.ktab|FILE.csv [REPEATS] [CACHE_DIR]      # default 3
#include "data/materialise.h"
#include "data/profile.h"
#include "data/reader.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cstdio>
#include <thread>

using namespace keel;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: keel-bench-profile FILE.ktab|FILE.csv [REPEATS] [CACHE_DIR]\n");
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
        double best = 0;
        qint64 distinct = 0;
        for (int r = 0; r < repeats; ++r) {   // the fastest of REPEATS: a noisy machine only ever adds time
            QElapsedTimer clock;
            clock.start();
            auto p = data::profileColumn(table->column(c));
            if (!p)
                return 1;
            const double ms = double(clock.nsecsElapsed()) / 1e6;
            best = r == 0 ? ms : std::min(best, ms);
            distinct = p->distinct;
        }
        columns.append(QJsonObject{{QStringLiteral("name"), table->column(c).name()},
                                   {QStringLiteral("type"), data::columnTypeName(table->column(c).type())},
                                   {QStringLiteral("distinct"), double(distinct)},
                                   {QStringLiteral("ms"), best}});
    }
    QJsonObject out{{QStringLiteral("rows"), double(table->rowCount())},
                    {QStringLiteral("profile_table_ms"), wholeMs},
                    {QStringLiteral("columns"), columns}};
    if (args.size() > 3) {
        const QString cache = QDir(args[3]).filePath(QStringLiteral("keel-bench-profile.ktab"));
        auto writeCache = [&]() -> double {
            QFile::remove(cache);
            QElapsedTimer clock;
            clock.start();
            if (Status st = data::writeMaterialisation(*table, cache); !st) {
                std::fprintf(stderr, "%s\n", qPrintable(st.error().toString()));
                std::exit(1);
            }
            return double(clock.nsecsElapsed()) / 1e6;
        };
        out.insert(QStringLiteral("cache_alone_ms"), writeCache());
        double withProfile = 0;
        QElapsedTimer both;
        both.start();
        std::thread writer([&] { withProfile = writeCache(); });
        const bool profiled = bool(data::profileTable(*table));
        writer.join();
        if (!profiled)
            return 1;
        out.insert(QStringLiteral("cache_under_profile_ms"), withProfile);
        out.insert(QStringLiteral("cache_and_profile_ms"), double(both.nsecsElapsed()) / 1e6);
        QFile::remove(cache);
    }
    std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Compact).constData());
    return 0;
}
