// Workbench responsiveness on a large dataset version (not part of the test run): the time from selecting a
// version to the first screen of rows from its cached materialisation, the longest UI-thread stall while it
// opens and while sorting and filtering run (a 2 ms QTimer heartbeat on the UI thread), and peak memory.
//
//   keel-bench-workbench WORKSPACE REF [COLUMN...]
//
// REF is a dataset version (e.g. big@v1) already added to WORKSPACE (`keel data add`); each COLUMN is sorted
// descending and filtered (default: the table's first three columns). Runs offscreen unless QT_QPA_PLATFORM says otherwise.
#include "datasetsarea.h"
#include "datatablewidget.h"
#include "mainwindow.h"
#include "tablemodel.h"
#include "taskmanager.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QHeaderView>
#include <QTableView>
#include <QScrollBar>
#include <QTimer>

#include <sys/resource.h>

#include <cstdio>
#include <functional>

using namespace keel::ui;

namespace {

/// Measures the longest gap between heartbeats of a UI-thread timer while something runs.
class Heartbeat {
public:
    Heartbeat()
    {
        m_timer.setInterval(2);
        m_timer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            m_maxGapNs = std::max(m_maxGapNs, now - m_last);
            m_last = now;
        });
    }
    void start()
    {
        m_maxGapNs = 0;
        m_clock.start();
        m_last = 0;
        m_timer.start();
    }
    /// Longest stall beyond the heartbeat interval, in ms.
    double stop()
    {
        m_timer.stop();
        return std::max(0.0, double(m_maxGapNs) / 1e6 - 2.0);
    }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    qint64 m_maxGapNs = 0;
};

/// Runs the event loop until `done` holds.
void waitFor(const std::function<bool()> &done)
{
    while (!done())
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
}

/// Lets the heartbeat tick for a few ms so a stall that just ended is measured.
void drain(int ms)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 1);
}

long peakRssMb()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024;
}

} // namespace

int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    if (args.size() < 3) {
        std::fprintf(stderr, "usage: keel-bench-workbench WORKSPACE REF [COLUMN...]\n");
        return 2;
    }
    MainWindow window(false);
    window.resize(1400, 900);
    window.show();
    DatasetsArea *ds = window.datasets();
    DataTableWidget *table = ds->tableWidget();

    window.openWorkspace(args[1]);
    waitFor([&] { return !window.workspaceRoot().isEmpty() || window.tasks()->activeCount() == 0; });
    if (window.workspaceRoot().isEmpty()) {
        std::fprintf(stderr, "cannot open %s\n", qPrintable(args[1]));
        return 1;
    }
    Heartbeat heartbeat;
    std::printf("| step | time (ms) | longest UI-thread stall (ms) |\n|---|---:|---:|\n");
    for (int i = 0; i < 3; ++i) {
        bool opened = false;
        auto c = QObject::connect(ds, &DatasetsArea::versionOpened, [&] { opened = true; });
        heartbeat.start();
        QElapsedTimer t;
        t.start();
        ds->openVersion(args[2]);
        waitFor([&] { return opened || window.tasks()->activeCount() == 0; });
        if (!opened) {
            std::fprintf(stderr, "cannot open %s\n", qPrintable(args[2]));
            return 1;
        }
        table->view()->viewport()->repaint(); // the first screen of rows, painted
        const double ms = double(t.nsecsElapsed()) / 1e6;
        drain(10);
        const double stall = heartbeat.stop();
        QObject::disconnect(c);
        std::printf("| open %s, first screen of rows (run %d) | %.0f | %.1f |\n", qPrintable(args[2]), i + 1, ms, stall);
    }
    const keel::data::Table &t = table->model()->table();
    std::printf("| (table: %lld rows, %d columns) | | |\n", (long long)t.rowCount(), t.columnCount());

    QStringList columns = args.mid(3);
    if (columns.isEmpty())
        for (int c = 0; c < std::min(3, t.columnCount()); ++c)
            columns << t.column(c).name();
    for (const QString &name : columns) {
        const int c = t.indexOf(name);
        if (c < 0)
            continue;
        const auto run = [&](const QString &what, const std::function<void()> &start) {
            bool changed = false;
            auto conn = QObject::connect(table, &DataTableWidget::rowIndexChanged, [&] { changed = true; });
            heartbeat.start();
            QElapsedTimer timer;
            timer.start();
            start();
            waitFor([&] { return changed || window.tasks()->activeCount() == 0; });
            table->view()->viewport()->repaint();
            const double ms = double(timer.nsecsElapsed()) / 1e6;
            drain(10);
            const double stall = heartbeat.stop();
            QObject::disconnect(conn);
            std::printf("| %s | %.0f | %.1f |\n", qPrintable(what), ms, stall);
        };
        const QString type = keel::data::columnTypeName(t.column(c).type());
        run(QStringLiteral("sort by %1 (%2) descending").arg(name, type), [&] { table->sortByColumn(c, Qt::DescendingOrder); });
        run(QStringLiteral("filter %1 is present (on the sorted order)").arg(name),
            [&] { table->setFilter(RowFilter{c, RowFilter::Op::IsPresent, {}}); });
        run(QStringLiteral("back to table order, no filter"), [&] {
            table->setFilter(std::nullopt);
            table->sortByColumn(-1, Qt::AscendingOrder);
        });
    }
    // Where the UI thread's time goes when a new order is swapped in (each step timed alone, on the UI thread).
    {
        TableModel model;
        QTableView view;
        view.setModel(&model);
        view.verticalHeader()->setSectionResizeMode(QHeaderView::Fixed); // as the workbench's table view
        view.resize(800, 600);
        view.show();
        view.viewport()->repaint(); // the window exists and has painted once (empty)
        QElapsedTimer step;
        step.start();
        model.setTable(t);
        view.viewport()->repaint();
        std::printf("| UI thread: set a %lld-row table on a shown view and paint | %.1f | |\n", (long long)t.rowCount(), double(step.nsecsElapsed()) / 1e6);
        auto perm = std::make_shared<RowIndex>(size_t(t.rowCount()));
        for (size_t i = 0; i < perm->size(); ++i)
            (*perm)[i] = qint64(perm->size() - 1 - i);
        step.restart();
        model.setRowIndex(perm);
        view.viewport()->repaint();
        std::printf("| UI thread: swap in a full row index | %.1f | |\n", double(step.nsecsElapsed()) / 1e6);
        step.restart();
        model.setRowIndex(nullptr);
        view.viewport()->repaint();
        std::printf("| UI thread: back to table order | %.1f | |\n", double(step.nsecsElapsed()) / 1e6);
        step.restart();
        perm.reset();
        std::printf("| UI thread: free a full row index | %.1f | |\n", double(step.nsecsElapsed()) / 1e6);
    }

    heartbeat.start();
    table->view()->scrollToBottom();
    table->view()->viewport()->repaint();
    table->view()->verticalScrollBar()->setValue(table->view()->verticalScrollBar()->maximum() / 2);
    table->view()->viewport()->repaint();
    drain(10);
    std::printf("| scroll to the end and to the middle | | %.1f |\n", heartbeat.stop());
    std::printf("\npeak resident memory: %ld MB\n", peakRssMb());
    return 0;
}
