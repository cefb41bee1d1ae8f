#include "screenshots.h"

#include "datasetsarea.h"
#include "datatablewidget.h"
#include "diffview.h"
#include "importdialog.h"
#include "mainwindow.h"
#include "profilepanel.h"
#include "tablemodel.h"
#include "taskmanager.h"
#include "theme.h"
#include "validationview.h"
#include "workspacejobs.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QPixmap>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>

#include <functional>

namespace keel::ui {

namespace {

/// Processes events for `ms` milliseconds (layouts, queued results, repaints).
void pump(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

/// Waits until no task runs and `done` holds (or 120 s pass); false on timeout.
bool settle(TaskManager *tasks, const std::function<bool()> &done = {})
{
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 120000) {
        tasks->waitForIdle(1000);
        pump(50);
        if (tasks->activeCount() == 0 && (!done || done()))
            return true;
    }
    return false;
}

int columnIndex(const DataTableWidget *w, const QString &name) { return w->model()->table().indexOf(name); }

} // namespace

Status renderScreenshots(const QString &outDir, const QString &examplesDir, QStringList *written)
{
    if (!QDir().mkpath(outDir))
        return makeError(QStringLiteral("cannot create the folder"), outDir);
    QTemporaryDir tmp;
    if (!tmp.isValid())
        return makeError(QStringLiteral("cannot create a temporary folder"));
    auto root = jobs::createExampleWorkspace(tmp.filePath(QStringLiteral("example")), examplesDir);
    if (!root)
        return root.error();

    const auto save = [&](QWidget *w, const QString &name) -> Status {
        pump(150);
        const QString path = QDir(outDir).filePath(name);
        if (!w->grab().save(path, "PNG"))
            return makeError(QStringLiteral("cannot write the screenshot"), path);
        if (written)
            *written << path;
        return Status::ok();
    };
    const auto fail = [](const QString &what) { return makeError(QStringLiteral("screenshot step timed out: ") + what); };

    applyTheme(Theme::Light);
    MainWindow window(false);
    window.resize(1440, 900);
    window.show();
    TaskManager *tasks = window.tasks();
    DatasetsArea *ds = window.datasets();

    window.openWorkspace(*root);
    if (!settle(tasks, [&] { return !window.workspaceRoot().isEmpty(); }))
        return fail(QStringLiteral("open workspace"));

    // Table with a column profile, sorted by age (oldest first).
    ds->openVersion(QStringLiteral("adult_train@v2"));
    if (!settle(tasks, [&] { return ds->currentVersion() && ds->currentVersion()->ref() == u"adult_train@v2"; }))
        return fail(QStringLiteral("open adult_train@v2"));
    DataTableWidget *table = ds->tableWidget();
    const int age = columnIndex(table, QStringLiteral("age"));
    table->sortByColumn(age, Qt::DescendingOrder);
    settle(tasks);
    table->view()->setCurrentIndex(table->model()->index(0, age));
    ds->tabs()->setCurrentIndex(DatasetsArea::TableTab);
    if (Status s = save(&window, QStringLiteral("datasets-table.png")); !s)
        return s;

    // All columns, with the profile of a categorical one.
    ds->tabs()->setCurrentIndex(DatasetsArea::ColumnsTab);
    QTableView *summary = ds->columnSummaryView();
    for (int r = 0; r < summary->model()->rowCount(); ++r)
        if (summary->model()->index(r, 0).data().toString() == u"education")
            summary->setCurrentIndex(summary->model()->index(r, 0));
    if (Status s = save(&window, QStringLiteral("datasets-columns.png")); !s)
        return s;

    // Diff of the two adult_train versions, overlay of the column with the largest drift.
    ds->tabs()->setCurrentIndex(DatasetsArea::DiffTab);
    ds->diffView()->compare(QStringLiteral("adult_train@v1"), QStringLiteral("adult_train@v2"));
    if (!settle(tasks, [&] { return ds->diffView()->currentComparison().has_value(); }))
        return fail(QStringLiteral("diff"));
    if (Status s = save(&window, QStringLiteral("datasets-diff.png")); !s)
        return s;

    // Rules suggested from the training data, run against the test file (whose labels carry a trailing dot).
    ds->openVersion(QStringLiteral("adult_train@v1"));
    settle(tasks, [&] { return ds->currentVersion() && ds->currentVersion()->ref() == u"adult_train@v1"; });
    ds->validationView()->suggest();
    settle(tasks);
    ds->openVersion(QStringLiteral("adult_test@v1"));
    settle(tasks, [&] { return ds->currentVersion() && ds->currentVersion()->ref() == u"adult_test@v1"; });
    ds->tabs()->setCurrentIndex(DatasetsArea::ValidationTab);
    ds->validationView()->run();
    if (!settle(tasks))
        return fail(QStringLiteral("validate"));
    if (Status s = save(&window, QStringLiteral("datasets-validation.png")); !s)
        return s;

    // The import dialog with its live preview.
    ImportDialog *dialog = window.showImportDialog(examplesDir + QStringLiteral("/bike_hour.csv"));
    if (!dialog)
        return makeError(QStringLiteral("the import dialog did not open"));
    dialog->resize(1200, 720);
    if (!settle(tasks, [&] { return dialog->previewReady(); }))
        return fail(QStringLiteral("import preview"));
    if (Status s = save(dialog, QStringLiteral("import-dialog.png")); !s)
        return s;
    dialog->reject();

    window.showArea(MainWindow::Audit);
    settle(tasks);
    if (Status s = save(&window, QStringLiteral("audit.png")); !s)
        return s;
    window.showArea(MainWindow::Experiments);
    if (Status s = save(&window, QStringLiteral("experiments.png")); !s)
        return s;

    // Dark theme: the same widgets, colours from the palette.
    applyTheme(Theme::Dark);
    window.showArea(MainWindow::Datasets);
    ds->openVersion(QStringLiteral("diamonds@v1"));
    settle(tasks, [&] { return ds->currentVersion() && ds->currentVersion()->ref() == u"diamonds@v1"; });
    ds->tabs()->setCurrentIndex(DatasetsArea::TableTab);
    const int price = columnIndex(table, QStringLiteral("price"));
    table->view()->setCurrentIndex(table->model()->index(0, price));
    Status dark = save(&window, QStringLiteral("dark-datasets-table.png"));
    if (dark) {
        ds->tabs()->setCurrentIndex(DatasetsArea::DiffTab);
        ds->diffView()->compare(QStringLiteral("adult_train@v1"), QStringLiteral("adult_test@v1"));
        settle(tasks, [&] { return ds->diffView()->currentComparison().has_value(); });
        ds->diffView()->showColumn(QStringLiteral("class"));
        settle(tasks, [&] { return ds->diffView()->currentColumn() == u"class"; });
        dark = save(&window, QStringLiteral("dark-datasets-diff.png"));
    }
    applyTheme(Theme::Light);
    window.close();
    return dark;
}

} // namespace keel::ui
