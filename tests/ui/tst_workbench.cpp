// The workbench end to end, offscreen: open a workspace, import adult_train.csv through the import dialog,
// check the table and the profile against the file, sort/filter/find/copy, diff two versions, validate,
// cancel a long import (nothing committed), the audit trail, drag and drop, settings and the About text.
// Each case sets up its own state: a new main window (init) and, where it needs data, its own copy of a fixture
// workspace holding adult_train@v1 (made once with core calls), so the cases run alone or in any order.
#include "auditview.h"
#include "datasetsarea.h"
#include "datatablewidget.h"
#include "diffview.h"
#include "emptystate.h"
#include "importdialog.h"
#include "deploymentsarea.h"
#include "mainwindow.h"
#include "monitoringarea.h"
#include "profilepanel.h"
#include "tablemodel.h"
#include "taskmanager.h"
#include "validationview.h"
#include "workspace/datasets.h"
#include "workspace/gitrepo.h"
#include "workspace/workspace.h"

#include <QtCharts/QChart>
#include <QtCharts/QChartView>

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QLocale>
#include <QMimeData>
#include <QProcess>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTreeView>
#include <QTableWidget>
#include <QtTest>

#include <cmath>
#include <numeric>
#include <set>

using namespace keel;
using namespace keel::ui;

namespace {

const QString kAdultTrain = QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_train.csv");
const QString kAdultTest = QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_test.csv");

/// adult_train.csv parsed independently: no field of this file holds a comma, quotes only wrap whole fields.
struct Csv {
    QStringList header;
    std::vector<QStringList> rows;
};

Csv readCsv(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    Csv csv;
    bool first = true;
    const QList<QByteArray> lines = f.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.isEmpty())
            continue;
        QStringList fields;
        for (const QByteArray &raw : line.split(',')) {
            QString v = QString::fromUtf8(raw);
            if (v.size() >= 2 && v.startsWith(QLatin1Char('"')) && v.endsWith(QLatin1Char('"')))
                v = v.mid(1, v.size() - 2);
            fields << v;
        }
        if (first)
            csv.header = fields;
        else
            csv.rows.push_back(fields);
        first = false;
    }
    return csv;
}

int columnOf(const Csv &csv, const QString &name) { return int(csv.header.indexOf(name)); }

/// Waits for the window's tasks to finish and for `done` to hold.
bool settle(MainWindow &w, const std::function<bool()> &done = {}, int timeoutMs = 60000)
{
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < timeoutMs) {
        w.tasks()->waitForIdle(500);
        QCoreApplication::processEvents();
        if (w.tasks()->activeCount() == 0 && (!done || done()))
            return true;
    }
    return false;
}

QString headCommit(const QString &root)
{
    auto ws = workspace::Workspace::open(root);
    return ws ? (*ws)->git().headCommit().value() : QString();
}

} // namespace

class TestWorkbench : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void cleanup();
    void aboutText();
    void openWorkspaceAndEmptyStates();
    void importThroughDialog();
    void tableMatchesFile();
    void profileMatchesIndependentComputation();
    void sortFilterFindCopy();
    void diffTwoVersions();
    void validateRules();
    void cancelledImportCommitsNothing();
    void auditShowsEvents();
    void pushAndPull();
    void dropFileOpensImport();
    void settingsSurviveRestart();

private:
    /// A copy of the fixture workspace (adult_train@v1) in a folder of its own, opened in the window with
    /// `ref` (if any) shown in the Datasets area. Sets m_root.
    bool openFixtureCopy(const QString &name, const QString &ref = QStringLiteral("adult_train@v1"));
    /// A second version of adult_train, as the tour makes it: the first 1,000 rows leave, 2,000 test rows arrive.
    QString writeSecondVersion();

    QTemporaryDir m_tmp;
    QString m_fixture;
    std::unique_ptr<MainWindow> m_window;
    Csv m_csv;
    QString m_root;
};

void TestWorkbench::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("KeelTest"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_workbench"));
    QSettings().clear();
    QVERIFY(m_tmp.isValid());
    m_csv = readCsv(kAdultTrain);
    QCOMPARE(m_csv.header.size(), 15);
    QCOMPARE(m_csv.rows.size(), size_t(32561));
    // The fixture: what importing adult_train.csv with the message "First import" makes, by the core calls.
    m_fixture = m_tmp.filePath(QStringLiteral("fixture"));
    auto ws = workspace::Workspace::init(m_fixture);
    QVERIFY2(ws, qPrintable(ws.message()));
    auto added = workspace::addDataset(**ws, kAdultTrain, QStringLiteral("adult_train"), QStringLiteral("First import"), {});
    QVERIFY2(added, qPrintable(added.message()));
}

void TestWorkbench::cleanupTestCase() { QSettings().clear(); }

void TestWorkbench::init()
{
    m_root.clear();
    m_window = std::make_unique<MainWindow>(false);
    m_window->resize(1400, 900);
    m_window->show();
}

void TestWorkbench::cleanup()
{
    if (m_window)
        settle(*m_window);
    m_window.reset();
}

bool TestWorkbench::openFixtureCopy(const QString &name, const QString &ref)
{
    const QString dir = m_tmp.filePath(name);
    QProcess cp;
    cp.start(QStringLiteral("cp"), {QStringLiteral("-a"), m_fixture, dir});
    if (!cp.waitForFinished(60000) || cp.exitCode() != 0) {
        qWarning("cannot copy the fixture workspace: %s", cp.readAllStandardError().constData());
        return false;
    }
    MainWindow &w = *m_window;
    QSignalSpy opened(&w, &MainWindow::workspaceOpened);
    w.openWorkspace(dir);
    if (!opened.wait(60000) && opened.isEmpty())
        return false;
    m_root = w.workspaceRoot();
    if (ref.isEmpty())
        return settle(w);
    w.datasets()->openVersion(ref);
    return settle(w, [&] { return w.datasets()->currentVersion() && w.datasets()->currentVersion()->ref() == ref; });
}

QString TestWorkbench::writeSecondVersion()
{
    QFile train(kAdultTrain), test(kAdultTest);
    if (!train.open(QIODevice::ReadOnly) || !test.open(QIODevice::ReadOnly))
        return {};
    const QList<QByteArray> tl = train.readAll().split('\n'), sl = test.readAll().split('\n');
    QByteArray v2 = tl[0] + '\n';
    for (qsizetype i = 1001; i < tl.size(); ++i)
        if (!tl[i].isEmpty())
            v2 += tl[i] + '\n';
    for (qsizetype i = 1; i <= 2000; ++i)
        v2 += QByteArray(sl[i]).replace("K.\"", "K\"") + '\n';
    const QString v2Path = m_tmp.filePath(QStringLiteral("adult_train_v2.csv"));
    QFile out(v2Path);
    if (!out.open(QIODevice::WriteOnly) || out.write(v2) != v2.size())
        return {};
    return v2Path;
}

void TestWorkbench::aboutText()
{
    const QString about = MainWindow::aboutText();
    QVERIFY2(about.contains(QStringLiteral("Qt ") + QString::fromLatin1(qVersion())), qPrintable(about));
    QVERIFY2(about.contains(QRegularExpression(QStringLiteral("libgit2 \\d+\\.\\d+"))), qPrintable(about));
    QVERIFY2(about.contains(QRegularExpression(QStringLiteral("SQLite 3\\.\\d+"))), qPrintable(about));
    QVERIFY2(about.contains(QStringLiteral("XGBoost ")), qPrintable(about));
}

void TestWorkbench::openWorkspaceAndEmptyStates()
{
    MainWindow &w = *m_window;
    QSignalSpy opened(&w, &MainWindow::workspaceOpened);
    w.createWorkspace(m_tmp.filePath(QStringLiteral("ws")));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 60000);
    m_root = w.workspaceRoot();
    QCOMPARE(QFileInfo(m_root).canonicalFilePath(), QFileInfo(m_tmp.filePath(QStringLiteral("ws"))).canonicalFilePath());
    QVERIFY(w.windowTitle().contains(QStringLiteral("ws")));
    QCOMPARE(w.datasets()->catalogModel()->rowCount(), 0);
    // Monitoring and Deployments are real areas; with nothing deployed each shows its own empty state, which says how
    // to get something to show.
    QVERIFY(!w.emptyState(MainWindow::Monitoring));
    QVERIFY(w.monitoring());
    QTRY_VERIFY_WITH_TIMEOUT(!w.monitoring()->isLoading(), 60000);
    QVERIFY(w.monitoring()->snapshot().deployments.isEmpty());
    auto *monitoringEmpty = w.monitoring()->findChild<EmptyState *>();
    QVERIFY(monitoringEmpty && monitoringEmpty->text().contains(QStringLiteral("keel serve")));
    QVERIFY(!w.emptyState(MainWindow::Deployments));
    QVERIFY(w.deployments());
    QCOMPARE(w.deployments()->deploymentsTable()->rowCount(), 0);
    QVERIFY(!w.emptyState(MainWindow::Datasets));
    QVERIFY(!w.emptyState(MainWindow::Models)); // the explanation views
    w.showArea(MainWindow::Audit);
    QCOMPARE(w.currentArea(), MainWindow::Audit);
    w.showArea(MainWindow::Datasets);
    // Opening something that is not a workspace fails with a message, and keeps the open one.
    QSignalSpy failed(&w, &MainWindow::workspaceFailed);
    w.openWorkspace(m_tmp.filePath(QStringLiteral("nowhere")));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 30000);
    QCOMPARE(w.workspaceRoot(), m_root);
}

void TestWorkbench::importThroughDialog()
{
    MainWindow &w = *m_window;
    QSignalSpy created(&w, &MainWindow::workspaceOpened);
    w.createWorkspace(m_tmp.filePath(QStringLiteral("import")));
    QTRY_COMPARE_WITH_TIMEOUT(created.count(), 1, 60000);
    m_root = w.workspaceRoot();
    ImportDialog *dialog = w.showImportDialog(kAdultTrain);
    QVERIFY(dialog);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->previewReady(), 30000);
    QVERIFY2(dialog->previewError().isEmpty(), qPrintable(dialog->previewError()));
    // What was detected, from the first rows as parsed.
    QCOMPARE(dialog->detected().delimiter, ',');
    QVERIFY(dialog->detected().header);
    QVERIFY(dialog->detected().truncated);
    TableModel *preview = dialog->previewModel();
    QCOMPARE(preview->rowCount(), int(ImportDialog::kPreviewRows));
    QCOMPARE(preview->columnCount(), 15);
    QCOMPARE(preview->headerData(0, Qt::Horizontal).toString(), QStringLiteral("age"));
    QCOMPARE(preview->index(0, 0).data().toString(), m_csv.rows[0][0]);
    QCOMPARE(preview->index(0, 0).data(TableModel::ColumnTypeRole).toInt(), int(data::ColumnType::Int64));
    QCOMPARE(preview->index(1, 1).data().toString(), m_csv.rows[1][1]);
    // Overrides re-run the preview.
    dialog->setDelimiter(';');
    QTRY_VERIFY_WITH_TIMEOUT(dialog->previewReady(), 30000);
    QCOMPARE(dialog->previewModel()->columnCount(), 1);
    dialog->setDelimiter(std::nullopt);
    dialog->setTypeOverride(QStringLiteral("education_num"), data::ColumnType::Float64);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->previewReady(), 30000);
    QCOMPARE(dialog->previewModel()->index(0, 4).data(TableModel::ColumnTypeRole).toInt(), int(data::ColumnType::Float64));
    dialog->setTypeOverride(QStringLiteral("education_num"), std::nullopt);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->previewReady(), 30000);
    QCOMPARE(dialog->request().name, QStringLiteral("adult_train"));
    dialog->setMessage(QStringLiteral("First import"));
    QVERIFY2(dialog->problem().isEmpty(), qPrintable(dialog->problem()));
    const jobs::ImportRequest request = dialog->request();
    QCOMPARE(request.file, QFileInfo(kAdultTrain).absoluteFilePath());
    QVERIFY(request.options.typeOverrides.isEmpty());
    QVERIFY(!request.options.delimiter);

    QSignalSpy imported(w.datasets(), &DatasetsArea::importFinished);
    QSignalSpy opened(w.datasets(), &DatasetsArea::versionOpened);
    dialog->accept();
    QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 1, 120000);
    QVERIFY2(imported.at(0).at(0).toBool(), qPrintable(imported.at(0).at(1).toString()));
    QCOMPARE(imported.at(0).at(1).toString(), QStringLiteral("adult_train@v1"));
    QTRY_VERIFY_WITH_TIMEOUT(opened.count() >= 1, 60000);
    QCOMPARE(w.datasets()->currentVersion()->ref(), QStringLiteral("adult_train@v1"));
    QCOMPARE(w.datasets()->currentVersion()->commit.message, QStringLiteral("First import"));
    // The same commit `keel data add` makes: the dataset and its version are in the workspace history.
    auto ws = workspace::Workspace::open(m_root);
    QVERIFY(ws);
    auto log = workspace::datasetLog(**ws, QStringLiteral("adult_train"));
    QVERIFY(log);
    QCOMPARE(log->size(), size_t(1));
    QCOMPARE(log->front().record.rows, qint64(32561));
    QCOMPARE(log->front().record.source, QStringLiteral("adult_train.csv"));
    const QModelIndex v1 = w.datasets()->catalogModel()->indexOfRef(QStringLiteral("adult_train@v1"));
    QVERIFY(v1.isValid());
    QCOMPARE(w.datasets()->catalogView()->currentIndex(), v1);
}

void TestWorkbench::tableMatchesFile()
{
    QVERIFY(openFixtureCopy(QStringLiteral("table")));
    TableModel *model = m_window->datasets()->tableWidget()->model();
    QCOMPARE(model->rowCount(), 32561);
    QCOMPARE(model->columnCount(), 15);
    for (int c = 0; c < 15; ++c)
        QCOMPARE(model->headerData(c, Qt::Horizontal).toString(), m_csv.header[c]);
    // Row 28 of the file (index 27) has NA in workclass and occupation.
    for (int row : {0, 1, 27, 1000, 32560}) {
        for (int c = 0; c < 15; ++c) {
            const QString expected = m_csv.rows[size_t(row)][c];
            const QModelIndex idx = model->index(row, c);
            if (expected == u"NA") {
                QVERIFY2(idx.data(TableModel::MissingRole).toBool(), qPrintable(QStringLiteral("row %1 col %2").arg(row).arg(c)));
                QCOMPARE(idx.data().toString(), QStringLiteral("missing"));
            } else {
                QCOMPARE(idx.data().toString(), expected);
            }
        }
    }
    QCOMPARE(model->index(0, 0).data(TableModel::ValueRole).toLongLong(), m_csv.rows[0][0].toLongLong());
    // Column header tooltip: type and missing share (1,836 NA in workclass).
    const QString tip = model->headerData(1, Qt::Horizontal, Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QStringLiteral("categorical")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("5.6%")), qPrintable(tip));
}

void TestWorkbench::profileMatchesIndependentComputation()
{
    QVERIFY(openFixtureCopy(QStringLiteral("profile")));
    DatasetsArea *ds = m_window->datasets();
    const int age = columnOf(m_csv, QStringLiteral("age"));
    std::vector<double> ages;
    for (const auto &r : m_csv.rows)
        ages.push_back(r[age].toDouble());
    const double n = double(ages.size());
    const double mean = std::accumulate(ages.begin(), ages.end(), 0.0) / n;
    double ss = 0;
    for (double a : ages)
        ss += (a - mean) * (a - mean);
    const double sd = std::sqrt(ss / (n - 1));
    std::vector<double> sorted = ages;
    std::sort(sorted.begin(), sorted.end());
    const auto quantile = [&](double p) {
        const double h = (n - 1) * p;
        const size_t lo = size_t(std::floor(h));
        return sorted[lo] + (h - double(lo)) * (sorted[std::min(lo + 1, sorted.size() - 1)] - sorted[lo]);
    };

    // The panel beside the table shows the current column; select age.
    DataTableWidget *table = ds->tableWidget();
    table->view()->setCurrentIndex(table->model()->index(0, 1));
    table->view()->setCurrentIndex(table->model()->index(0, age));
    ProfilePanel *panel = ds->profilePanel();
    QCOMPARE(panel->profile()->name, QStringLiteral("age"));
    QCOMPARE(panel->valueText(QStringLiteral("type")), QStringLiteral("int64"));
    QCOMPARE(panel->valueText(QStringLiteral("rows")), QLocale().toString(32561));
    QCOMPARE(panel->valueText(QStringLiteral("min")), QString::number(sorted.front()));
    QCOMPARE(panel->valueText(QStringLiteral("max")), QString::number(sorted.back()));
    QCOMPARE(panel->valueText(QStringLiteral("mean")), statText(mean, data::ColumnType::Float64));
    QCOMPARE(panel->valueText(QStringLiteral("std")), statText(sd, data::ColumnType::Float64));
    QCOMPARE(panel->valueText(QStringLiteral("p50")), statText(quantile(0.5), data::ColumnType::Int64));
    QCOMPARE(panel->valueText(QStringLiteral("p95")), statText(quantile(0.95), data::ColumnType::Int64));
    QVERIFY(panel->chartView()->chart());
    QCOMPARE(panel->chartView()->chart()->series().size(), 1); // the histogram

    // Raw numbers in the column summary.
    ColumnSummaryModel *summary = ds->columnSummaryModel();
    QCOMPARE(summary->index(age, ColumnSummaryModel::NameColumn).data().toString(), QStringLiteral("age"));
    QVERIFY(std::abs(summary->index(age, ColumnSummaryModel::MeanColumn).data(ColumnSummaryModel::RawRole).toDouble() - mean) < 1e-9 * mean);
    QVERIFY(std::abs(summary->index(age, ColumnSummaryModel::StdColumn).data(ColumnSummaryModel::RawRole).toDouble() - sd) < 1e-9 * sd);
    std::set<QString> distinctAges;
    for (const auto &r : m_csv.rows)
        distinctAges.insert(r[age]);
    QCOMPARE(summary->index(age, ColumnSummaryModel::DistinctColumn).data(ColumnSummaryModel::RawRole).toDouble(), double(distinctAges.size()));

    // A categorical column: missing count and the most frequent value.
    const int wc = columnOf(m_csv, QStringLiteral("workclass"));
    QHash<QString, int> counts;
    int missing = 0;
    for (const auto &r : m_csv.rows) {
        if (r[wc] == u"NA")
            ++missing;
        else
            ++counts[r[wc]];
    }
    QCOMPARE(missing, 1836);
    table->view()->setCurrentIndex(table->model()->index(0, wc));
    QCOMPARE(panel->profile()->name, QStringLiteral("workclass"));
    QCOMPARE(panel->profile()->missing, qint64(missing));
    QCOMPARE(panel->valueText(QStringLiteral("distinct")), QLocale().toString(qint64(counts.size())));
    QString top;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        if (top.isEmpty() || it.value() > counts.value(top))
            top = it.key();
    QCOMPARE(panel->profile()->topCategories.front().value, top);
    QCOMPARE(panel->profile()->topCategories.front().count, qint64(counts.value(top)));
    QVERIFY(panel->valueText(QStringLiteral("mean")).isEmpty());
}

void TestWorkbench::sortFilterFindCopy()
{
    QVERIFY(openFixtureCopy(QStringLiteral("sort")));
    MainWindow &w = *m_window;
    DataTableWidget *table = w.datasets()->tableWidget();
    TableModel *model = table->model();
    const int age = columnOf(m_csv, QStringLiteral("age"));
    const int wc = columnOf(m_csv, QStringLiteral("workclass"));

    QSignalSpy changed(table, &DataTableWidget::rowIndexChanged);
    table->sortByColumn(age, Qt::DescendingOrder);
    QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 1, 30000);
    QCOMPARE(table->sortColumn(), age);
    // Oldest first; ties keep file order: the first row shown is the first 90-year-old in the file.
    int firstOldest = -1;
    for (size_t i = 0; i < m_csv.rows.size() && firstOldest < 0; ++i)
        if (m_csv.rows[i][age] == u"90")
            firstOldest = int(i);
    QCOMPARE(model->index(0, age).data().toString(), QStringLiteral("90"));
    QCOMPARE(model->index(0, 0).data(TableModel::SourceRowRole).toLongLong(), qint64(firstOldest));
    QCOMPARE(model->headerData(0, Qt::Vertical).toString(), QString::number(firstOldest + 1));

    table->setFilter(RowFilter{wc, RowFilter::Op::Equals, QStringLiteral("Private")});
    QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 2, 30000);
    const int privateCount = int(std::count_if(m_csv.rows.begin(), m_csv.rows.end(),
                                               [&](const QStringList &r) { return r[wc] == u"Private"; }));
    QCOMPARE(model->rowCount(), privateCount);
    for (int r = 1; r < model->rowCount(); r += 997)
        QVERIFY(model->index(r - 1, age).data(TableModel::ValueRole).toLongLong()
                >= model->index(r, age).data(TableModel::ValueRole).toLongLong());

    // Find: the first row (in view order) whose cell contains the text.
    table->view()->setCurrentIndex(QModelIndex());
    QSignalSpy found(table, &DataTableWidget::findFinished);
    table->findNext(QStringLiteral("tech-SUPPORT"));
    QTRY_COMPARE_WITH_TIMEOUT(found.count(), 1, 30000);
    QVERIFY(found.at(0).at(0).toBool());
    const QModelIndex cur = table->view()->currentIndex();
    QCOMPARE(cur.data().toString(), QStringLiteral("Tech-support"));
    for (int r = 0; r < cur.row(); ++r)
        for (int c = 0; c < model->columnCount(); ++c)
            QVERIFY(!model->index(r, c).data().toString().contains(QStringLiteral("Tech-support"), Qt::CaseInsensitive));
    // Nobody in the Private rows serves in the armed forces: not found.
    const int occupation = columnOf(m_csv, QStringLiteral("occupation"));
    QVERIFY(std::none_of(m_csv.rows.begin(), m_csv.rows.end(), [&](const QStringList &r) {
        return r[wc] == u"Private" && r[occupation] == u"Armed-Forces";
    }));
    table->findNext(QStringLiteral("Armed-Forces"));
    QTRY_COMPARE_WITH_TIMEOUT(found.count(), 2, 30000);
    QVERIFY(!found.at(1).at(0).toBool());

    // Copy two by two cells, tab-separated.
    table->setFilter(std::nullopt);
    QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 3, 30000);
    table->sortByColumn(-1, Qt::AscendingOrder);
    QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 4, 30000);
    QCOMPARE(model->rowCount(), 32561);
    table->view()->selectionModel()->select(QItemSelection(model->index(27, 0), model->index(28, 1)),
                                            QItemSelectionModel::ClearAndSelect);
    const QString expected = m_csv.rows[27][0] + QLatin1Char('\t') + QLatin1Char('\n') + m_csv.rows[28][0] + QLatin1Char('\t')
        + m_csv.rows[28][1] + QLatin1Char('\n');
    QCOMPARE(table->selectionText(), expected); // row 28's workclass is missing: an empty cell
    table->copySelection();
    QCOMPARE(QApplication::clipboard()->text(), expected);
    // The UI thread stays free while a sort runs: the sort task reports progress and ends with the order.
    QVERIFY(table->goToRow(12345));
    QCOMPARE(table->view()->currentIndex().row(), 12345);
}

void TestWorkbench::diffTwoVersions()
{
    QVERIFY(openFixtureCopy(QStringLiteral("diff")));
    MainWindow &w = *m_window;
    DatasetsArea *ds = w.datasets();
    const QString v2Path = writeSecondVersion();
    QVERIFY(!v2Path.isEmpty());

    QSignalSpy imported(ds, &DatasetsArea::importFinished);
    ds->startImport(jobs::ImportRequest{v2Path, QStringLiteral("adult_train"), QStringLiteral("Refresh"), {}});
    QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 1, 120000);
    QVERIFY2(imported.at(0).at(0).toBool(), qPrintable(imported.at(0).at(1).toString()));
    QVERIFY(settle(w, [&] { return ds->currentVersion() && ds->currentVersion()->ref() == u"adult_train@v2"; }));
    QCOMPARE(ds->catalogModel()->rowCount(ds->catalogModel()->index(0, 0)), 2);

    DiffView *diff = ds->diffView();
    QSignalSpy finished(diff, &DiffView::diffFinished);
    diff->compare(QStringLiteral("adult_train@v1"), QStringLiteral("adult_train@v2"));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QVERIFY(finished.at(0).at(0).toBool());
    const data::DiffReport &report = diff->currentDiff()->report;
    QCOMPARE(report.rowsA, qint64(32561));
    QCOMPARE(report.rowsB, qint64(33561));
    QCOMPARE(diff->driftModel()->rowCount(), 15);
    // Sorted by drift, largest first.
    QSortFilterProxyModel *sorted = diff->sortedModel();
    for (int r = 1; r < sorted->rowCount(); ++r)
        QVERIFY(sorted->index(r - 1, DriftModel::DriftColumn).data(DriftModel::RawRole).toDouble()
                >= sorted->index(r, DriftModel::DriftColumn).data(DriftModel::RawRole).toDouble());

    // Overlay of age: both sides' counts over the same bins add up to each side's rows.
    QSignalSpy compared(diff, &DiffView::comparisonFinished);
    diff->showColumn(QStringLiteral("age"));
    QTRY_VERIFY_WITH_TIMEOUT(compared.count() >= 1 && diff->currentColumn() == u"age", 30000);
    const data::DistributionComparison &cmp = *diff->currentComparison();
    QVERIFY(cmp.numeric);
    QCOMPARE(std::accumulate(cmp.countsA.begin(), cmp.countsA.end(), qint64(0)), qint64(32561));
    QCOMPARE(std::accumulate(cmp.countsB.begin(), cmp.countsB.end(), qint64(0)), qint64(33561));
    QCOMPARE(cmp.edges.front(), 17.0);
    QCOMPARE(cmp.edges.back(), 90.0);
    QCOMPARE(diff->chartView()->chart()->series().size(), 2);
    // A categorical overlay: category shares side by side.
    diff->showColumn(QStringLiteral("class"));
    QTRY_VERIFY_WITH_TIMEOUT(diff->currentColumn() == u"class", 30000);
    QVERIFY(!diff->currentComparison()->numeric);
    QCOMPARE(diff->currentComparison()->categories.size(), 2);
}

void TestWorkbench::validateRules()
{
    QVERIFY(openFixtureCopy(QStringLiteral("validate")));
    DatasetsArea *ds = m_window->datasets();
    ValidationView *v = ds->validationView();
    QCOMPARE(ds->currentVersion()->ref(), QStringLiteral("adult_train@v1"));
    v->setRulesText(QStringLiteral("columns:\n  age: {max: 60}\n  workclass: {max_missing: 0.01}\n"));
    QSignalSpy done(v, &ValidationView::validationFinished);
    v->run();
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 30000);
    QVERIFY(done.at(0).at(0).toBool());
    const data::ValidationReport &report = v->model()->report();
    QCOMPARE(report.rows, qint64(32561));
    const data::Table &t = ds->tableWidget()->model()->table();
    const data::Column &age = t.column(t.indexOf(QStringLiteral("age")));
    qint64 over = 0;
    for (qint64 r = 0; r < age.size(); ++r)
        over += age.int64At(r) > 60 ? 1 : 0;
    bool sawMax = false, sawMissing = false;
    for (const auto &viol : report.violations) {
        if (viol.column == u"age" && viol.rule == u"max") {
            sawMax = true;
            QCOMPARE(viol.count, over);
            QVERIFY(age.int64At(viol.exampleRows.front()) > 60);
        }
        sawMissing = sawMissing || (viol.column == u"workclass" && viol.rule == u"max_missing");
    }
    QVERIFY(sawMax);
    QVERIFY(sawMissing);
    // A broken rule file is reported, not thrown.
    v->setRulesText(QStringLiteral("columns:\n  age: {min: 5, max: 1}\n"));
    v->run();
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, 30000);
    QVERIFY(!done.at(1).at(0).toBool());
    QVERIFY(v->summaryText().contains(QStringLiteral("age")));
    // Suggested rules pass on the version they came from.
    QSignalSpy suggested(v, &ValidationView::rulesSuggested);
    v->suggest();
    QTRY_COMPARE_WITH_TIMEOUT(suggested.count(), 1, 30000);
    QVERIFY(v->rulesText().contains(QStringLiteral("age:")));
    v->run();
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 3, 30000);
    QVERIFY(v->model()->report().ok());
}

void TestWorkbench::cancelledImportCommitsNothing()
{
    QVERIFY(openFixtureCopy(QStringLiteral("cancel")));
    MainWindow &w = *m_window;
    // A file large enough that the import is still parsing when the cancel lands.
    const QString big = m_tmp.filePath(QStringLiteral("big.csv"));
    {
        QFile in(kAdultTrain);
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QByteArray all = in.readAll();
        const qsizetype headerEnd = all.indexOf('\n') + 1;
        QFile f(big);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(all);
        for (int i = 0; i < 24; ++i)
            f.write(all.mid(headerEnd));
    }
    const QString before = headCommit(m_root);
    QVERIFY(!before.isEmpty());
    QSignalSpy imported(w.datasets(), &DatasetsArea::importFinished);
    QSignalSpy ended(w.tasks(), &TaskManager::taskEnded);
    const quint64 id = w.datasets()->startImport(jobs::ImportRequest{big, QStringLiteral("big"), QStringLiteral("never"), {}});
    QVERIFY(isTaskActive(w.tasks()->info(id)->state));
    w.tasks()->cancel(id);
    QCOMPARE(w.tasks()->info(id)->state, TaskState::Cancelling);
    QVERIFY(w.tasks()->waitForIdle(120000));
    QCOMPARE(w.tasks()->info(id)->state, TaskState::Cancelled);
    QCOMPARE(imported.count(), 0); // the result was dropped
    QCOMPARE(headCommit(m_root), before);
    auto ws = workspace::Workspace::open(m_root);
    QVERIFY(ws);
    auto names = workspace::listDatasets(**ws);
    QVERIFY(names);
    QVERIFY(!names->contains(QStringLiteral("big")));
    QCOMPARE(*names, QStringList{QStringLiteral("adult_train")});
}

void TestWorkbench::auditShowsEvents()
{
    QVERIFY(openFixtureCopy(QStringLiteral("audit")));
    MainWindow &w = *m_window;
    // A validation run from the workbench leaves its record too (core writes the event, not the front door).
    ValidationView *v = w.datasets()->validationView();
    v->setRulesText(QStringLiteral("columns:\n  age: {min: 0}\n"));
    QSignalSpy validated(v, &ValidationView::validationFinished);
    v->run();
    QTRY_COMPARE_WITH_TIMEOUT(validated.count(), 1, 30000);
    QVERIFY(validated.at(0).at(0).toBool());
    AuditView *audit = w.audit();
    QSignalSpy loaded(audit, &AuditView::loaded);
    audit->refresh();
    QTRY_VERIFY_WITH_TIMEOUT(loaded.count() >= 1, 30000);
    const auto &events = audit->model()->events();
    const qint64 adds = std::count_if(events.begin(), events.end(), [](const tracking::AuditEvent &e) {
        return e.action == u"data.add" && e.subject == u"adult_train";
    });
    QCOMPARE(adds, qint64(1));
    QVERIFY(std::any_of(events.begin(), events.end(), [](const tracking::AuditEvent &e) { return e.action == u"workspace.init"; }));
    QVERIFY(std::any_of(events.begin(), events.end(), [](const tracking::AuditEvent &e) {
        return e.action == u"data.validate" && e.subject == u"adult_train";
    }));
    // Newest first.
    for (size_t i = 1; i < events.size(); ++i)
        QVERIFY(events[i - 1].time >= events[i].time);
    // Filtered by subject: only that subject's events remain; "last 24 hours" keeps today's events.
    const int all = audit->filter()->rowCount();
    const int subject = audit->subjectBox()->findData(QStringLiteral("adult_train"));
    QVERIFY(subject > 0);
    audit->subjectBox()->setCurrentIndex(subject);
    QVERIFY(audit->filter()->rowCount() > 0 && audit->filter()->rowCount() < all);
    for (int r = 0; r < audit->filter()->rowCount(); ++r)
        QCOMPARE(audit->filter()->index(r, AuditModel::SubjectColumn).data().toString(), QStringLiteral("adult_train"));
    audit->sinceBox()->setCurrentIndex(1);
    QVERIFY(audit->filter()->rowCount() > 0);
    audit->subjectBox()->setCurrentIndex(0);
    audit->sinceBox()->setCurrentIndex(0);
    QCOMPARE(audit->filter()->rowCount(), all);
    // Verify: the banner says intact, with core's counts; after an edit of keel.db it names the broken event.
    QSignalSpy verified(audit, &AuditView::verified);
    audit->verify();
    QTRY_COMPARE_WITH_TIMEOUT(verified.count(), 1, 30000);
    QVERIFY(verified.at(0).at(0).toBool());
    QVERIFY(!audit->banner()->isHidden());
    QVERIFY2(audit->banner()->text().contains(QStringLiteral("intact")), qPrintable(audit->banner()->text()));
    QVERIFY(audit->banner()->text().contains(QLocale().toString(audit->verification()->events)));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("tamper"));
        db.setDatabaseName(m_root + QStringLiteral("/.keel/keel.db"));
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY(q.exec(QStringLiteral("UPDATE audit_events SET user_name = 'mallory' WHERE id = 2")));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("tamper"));
    audit->verify();
    QTRY_COMPARE_WITH_TIMEOUT(verified.count(), 2, 30000);
    QVERIFY(!verified.at(1).at(0).toBool());
    QVERIFY2(audit->banner()->text().contains(QStringLiteral("BROKEN")) && audit->banner()->text().contains(QStringLiteral("#2")),
             qPrintable(audit->banner()->text()));
}

void TestWorkbench::pushAndPull()
{
    QVERIFY(openFixtureCopy(QStringLiteral("push")));
    MainWindow &w = *m_window;
    const QString remote = m_tmp.filePath(QStringLiteral("remote"));
    {
        auto ws = workspace::Workspace::open(m_root);
        QVERIFY(ws);
        QVERIFY((*ws)->addRemote(QStringLiteral("origin"), remote));
    }
    QSignalSpy loaded(w.datasets(), &DatasetsArea::catalogLoaded);
    w.datasets()->refresh();
    QTRY_VERIFY_WITH_TIMEOUT(loaded.count() >= 1, 30000);
    QCOMPARE(w.datasets()->remotes().size(), size_t(1));
    w.pushTo();
    QVERIFY(settle(w));
    // A clone of the remote holds the version with its bytes.
    auto clone = workspace::cloneWorkspace(remote, m_tmp.filePath(QStringLiteral("clone")));
    QVERIFY2(clone, qPrintable(clone.message()));
    auto log = workspace::datasetLog(**clone, QStringLiteral("adult_train"));
    QVERIFY(log);
    QCOMPARE(log->size(), size_t(1));
    auto table = workspace::loadDataset(**clone, log->back());
    QVERIFY2(table, qPrintable(table.message()));
    QCOMPARE(table->rowCount(), qint64(32561));
    // A dataset added in the clone and pushed from there arrives with Pull.
    auto added = workspace::addDataset(**clone, kAdultTest, QStringLiteral("adult_test"), QStringLiteral("from the clone"), {});
    QVERIFY2(added, qPrintable(added.message()));
    QVERIFY(workspace::pushWorkspace(**clone, QStringLiteral("origin")));
    clone->reset();
    w.pullFrom();
    QVERIFY(settle(w, [&] { return w.datasets()->catalogModel()->dataset(QStringLiteral("adult_test")) != nullptr; }));
    QCOMPARE(w.datasets()->catalogModel()->dataset(QStringLiteral("adult_test"))->versions.front().commit.message,
             QStringLiteral("from the clone"));
}

void TestWorkbench::dropFileOpensImport()
{
    QVERIFY(openFixtureCopy(QStringLiteral("drop")));
    MainWindow &w = *m_window;
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(kAdultTest)});
    QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&w, &drop);
    ImportDialog *dialog = w.findChild<ImportDialog *>();
    QVERIFY(dialog);
    QVERIFY(dialog->isVisible());
    QCOMPARE(dialog->request().file, QFileInfo(kAdultTest).absoluteFilePath());
    QCOMPARE(dialog->request().name, QStringLiteral("adult_test"));
    QTRY_VERIFY_WITH_TIMEOUT(dialog->previewReady(), 30000);
    dialog->reject();
    QVERIFY(settle(w));
    // Files the workbench cannot import are refused.
    QMimeData other;
    other.setUrls({QUrl::fromLocalFile(QStringLiteral(KEEL_SOURCE_DIR "/README.md"))});
    QDragEnterEvent refuse(QPoint(50, 50), Qt::CopyAction, &other, Qt::LeftButton, Qt::NoModifier);
    refuse.setAccepted(false);
    QCoreApplication::sendEvent(&w, &refuse);
    QVERIFY(!refuse.isAccepted());
}

void TestWorkbench::settingsSurviveRestart()
{
    QVERIFY(openFixtureCopy(QStringLiteral("settings"), {}));
    m_window.reset();   // this case makes its own windows, which read and write the settings
    QList<int> sizes;
    {
        MainWindow w(true);
        w.resize(1200, 800);
        w.show();
        QSignalSpy opened(&w, &MainWindow::workspaceOpened);
        w.openWorkspace(m_root);
        QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
        auto *split = w.findChild<QSplitter *>(QStringLiteral("datasetsSplitter"));
        QVERIFY(split);
        split->setSizes({300, 700});
        sizes = split->sizes();
        w.showArea(MainWindow::Audit);
        w.taskDock()->hide();
        QVERIFY(settle(w));
        w.close();
    }
    QCOMPARE(QSettings().value(QStringLiteral("workspaces/last")).toString(), m_root);
    MainWindow again(true);
    QCOMPARE(again.recentWorkspaces().value(0), m_root);
    QCOMPARE(again.currentArea(), MainWindow::Audit);
    again.resize(1200, 800);
    again.show();
    QSignalSpy opened(&again, &MainWindow::workspaceOpened);
    again.openWorkspace(again.recentWorkspaces().value(0));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 30000);
    again.showArea(MainWindow::Datasets);
    QVERIFY(settle(again));
    QCOMPARE(again.findChild<QSplitter *>(QStringLiteral("datasetsSplitter"))->sizes(), sizes);
    QVERIFY(!again.taskDock()->isVisible());
}

QTEST_MAIN(TestWorkbench)
#include "tst_workbench.moc"
