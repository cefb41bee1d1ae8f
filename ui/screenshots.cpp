#include "screenshots.h"

#include "auditview.h"
#include "charts.h"
#include "compareview.h"
#include "datasetsarea.h"
#include "datatablewidget.h"
#include "deploymentsarea.h"
#include "monitoringarea.h"
#include "pipelinesarea.h"
#include "diffview.h"
#include "experimentsarea.h"
#include "explainarea.h"
#include "explaincharts.h"
#include "explainfairness.h"
#include "explainglobal.h"
#include "explainprediction.h"
#include "importdialog.h"
#include "mainwindow.h"
#include "newrundialog.h"
#include "modelcompareview.h"
#include "modelsarea.h"
#include "registryview.h"
#include "profilepanel.h"
#include "runcharts.h"
#include "runview.h"
#include "tablemodel.h"
#include "taskmanager.h"
#include "theme.h"
#include "trainingprocess.h"
#include "serve/predictionlog.h"
#include "util/fileutil.h"
#include "validationview.h"
#include "workspacejobs.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QApplication>
#include <QComboBox>
#include <QtCharts/QChartView>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QPixmap>
#include <QProcess>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeView>

#include <cmath>
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

/// Processes events until `done` holds or `timeoutMs` pass; false on timeout.
bool waitFor(const std::function<bool()> &done, int timeoutMs = 300000)
{
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        if (clock.elapsed() > timeoutMs)
            return false;
        pump(50);
    }
    return true;
}

/// A generated 26-class, 60-feature problem for the multiclass views: classes "A".."M" and "a".."m" (labels that
/// differ only in case), unbalanced (the first classes most frequent), 20 informative features and 40 of noise.
/// Deterministic. Writes `path`.
Status writeLettersCsv(const QString &path)
{
    QByteArray csv;
    for (int j = 0; j < 60; ++j)
        csv += (j ? "," : "") + QByteArray("f") + QByteArray::number(j + 1);
    csv += ",letter\n";
    quint64 state = 0x9E3779B97F4A7C15ull;
    const auto uniform = [&state] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return double(state >> 11) / double(1ull << 53);
    };
    for (int r = 0; r < 3000; ++r) {
        const int k = std::min(25, int(26.0 * std::pow(uniform(), 1.4)));
        const char label = k < 13 ? char('A' + k) : char('a' + k - 13);
        for (int j = 0; j < 60; ++j) {
            const double noise = (uniform() + uniform() + uniform() - 1.5) * 1.4;
            // Each class's mean on the informative features: a fixed pseudo-random pattern per (class, feature).
            const quint64 h = (quint64(k) * 0x9E3779B97F4A7C15ull) ^ (quint64(j + 1) * 0xC2B2AE3D27D4EB4Full);
            const double signal = j < 20 ? (double((h >> 29) % 13) - 6.0) * 0.13 : 0.0;
            csv += QByteArray::number(signal + noise, 'f', 3) + ',';
        }
        csv += label;
        csv += '\n';
    }
    return writeFileAtomic(path, csv);
}

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
    // The multiclass views need many classes and features: a generated 26-class, 60-feature dataset and its config.
    {
        const QString csv = tmp.filePath(QStringLiteral("letters.csv"));
        if (Status s = writeLettersCsv(csv); !s)
            return s;
        auto ws = workspace::Workspace::open(*root);
        if (!ws)
            return ws.error();
        auto added = workspace::addDataset(**ws, csv, QStringLiteral("letters"), QStringLiteral("26 classes, 60 features"), {});
        if (!added)
            return added.error();
        if (Status s = writeFileAtomic(*root + QStringLiteral("/configs/letters-gbdt.yaml"),
                                       "experiment: letters\ndata: letters\ntarget: letter\nlearner: gbdt\n"
                                       "split: {kind: holdout, test_fraction: 0.25, validation_fraction: 0.1, seed: 7}\n"
                                       "params: {n_estimators: 40, max_depth: 3, learning_rate: 0.3, early_stopping_rounds: 5}\n");
            !s)
            return s;
    }

    const auto save = [&](QWidget *w, const QString &name) -> Status {
        pump(150);
        // A screenshot shows its view, not an error dialog over it, and every chart label in full.
        if (QWidget *modal = QApplication::activeModalWidget(); modal && modal != w && modal != w->window())
            return makeError(QStringLiteral("%1: a dialog is open over the view: %2").arg(name, modal->windowTitle()));
        for (const QChartView *view : w->findChildren<QChartView *>()) {
            if (!view->isVisible())
                continue;
            const QStringList cut = truncatedAxisLabels(view->chart());
            if (!cut.isEmpty())
                return makeError(QStringLiteral("%1: chart '%2' shows shortened axis labels: %3")
                                     .arg(name, view->chart()->title(), cut.join(QStringLiteral(", "))));
        }
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

    // Experiments: empty first, then real runs trained by child keel processes, as the New Run dialog starts them.
    ExperimentsArea *ex = window.experiments();
    window.showArea(MainWindow::Experiments);
    settle(tasks, [&] { return !ex->isBusy(); });
    if (Status s = save(&window, QStringLiteral("experiments.png")); !s)
        return s;
    if (locateKeelBinary().isEmpty())
        return makeError(QStringLiteral("the keel runner was not found next to this program or on PATH (set KEEL_BINARY): "
                                        "the Experiments screenshots show runs it trains"));
    const auto train = [&](const QString &file, const QString &name) -> TrainingProcess * {
        const QString path = *root + QStringLiteral("/configs/") + file;
        auto text = readFile(path);
        return ex->startTraining(NewRunRequest{path, text ? QString::fromUtf8(*text) : QString(), QString(), name});
    };
    const auto finished = [&](TrainingProcess *p, const QString &what) -> Status {
        if (!p || !waitFor([&] { return p->hasEnded(); }))
            return fail(what);
        if (p->outcome().status != tracking::RunStatus::Finished)
            return makeError(QStringLiteral("%1 did not finish: %2").arg(what, p->outcome().message));
        return Status::ok();
    };
    RunView *rv = ex->runView();
    TrainingProcess *gbdt = train(QStringLiteral("adult-gbdt.yaml"), QStringLiteral("adult-gbdt"));
    // Live: the new run opens by itself and its curves grow while it trains.
    if (!gbdt || !waitFor([&] { return gbdt->hasEnded() || (rv->runId() == gbdt->runId() && gbdt->points().size() >= 70); }))
        return fail(QStringLiteral("live training"));
    rv->tabs()->setCurrentIndex(RunView::CurvesTab);
    if (Status s = save(&window, QStringLiteral("experiments-live.png")); !s)
        return s;
    if (Status s = finished(gbdt, QStringLiteral("training adult-gbdt")); !s)
        return s;
    const QString gbdtId = gbdt->runId();
    TrainingProcess *logistic = train(QStringLiteral("adult-logistic.yaml"), QStringLiteral("adult-logistic"));
    if (Status s = finished(logistic, QStringLiteral("training adult-logistic")); !s)
        return s;
    const QString logisticId = logistic->runId();
    if (Status s = finished(train(QStringLiteral("diamonds-ridge.yaml"), QStringLiteral("diamonds-ridge")),
                            QStringLiteral("training diamonds-ridge"));
        !s)
        return s;

    // A small grid sweep through the runner's own sweep command: its trials group under the sweep's run.
    const QString sweepConfig = *root + QStringLiteral("/configs/diamonds-ridge-sweep.yaml");
    if (Status s = writeFileAtomic(sweepConfig,
                                   "experiment: diamonds\nname: diamonds-ridge\ndata: diamonds\ntarget: price\n"
                                   "recipe:\n  defaults: {scale: standard}\n  derived:\n    - volume = x * y * z\n"
                                   "split: {kind: holdout, test_fraction: 0.2, seed: 42}\nlearner: ridge\n"
                                   "sweep:\n  metric: validation.rmse\n  params:\n    alpha: [0.01, 1, 100, 10000]\n");
        !s)
        return s;
    QProcess sweep;
    sweep.start(locateKeelBinary(), {QStringLiteral("-C"), *root, QStringLiteral("sweep"), sweepConfig, QStringLiteral("--grid")});
    if (!sweep.waitForStarted() || !waitFor([&] { return sweep.state() == QProcess::NotRunning; }) || sweep.exitCode() != 0)
        return makeError(QStringLiteral("keel sweep failed (exit code %1): %2%3")
                             .arg(sweep.exitCode())
                             .arg(QString::fromUtf8(sweep.readAllStandardError()), QString::fromUtf8(sweep.readAllStandardOutput())));

    // Branch from the boosted run: the dialog filled in from its config, with shallower trees.
    ex->branchFrom(gbdtId);
    if (!settle(tasks, [&] { return ex->newRunDialog() != nullptr; }))
        return fail(QStringLiteral("branch dialog"));
    NewRunDialog *dialog2 = ex->newRunDialog();
    dialog2->setParam(QStringLiteral("max_depth"), 3);
    dialog2->setRunName(QStringLiteral("adult-gbdt-shallow"));
    dialog2->resize(1200, 780);
    if (Status s = save(dialog2, QStringLiteral("experiments-new-run.png")); !s)
        return s;
    dialog2->accept();
    if (ex->activeTrainings().empty())
        return makeError(QStringLiteral("the branch did not start: ") + dialog2->errorText());
    TrainingProcess *branch = ex->activeTrainings().front();
    if (Status s = finished(branch, QStringLiteral("training the branch")); !s)
        return s;
    settle(tasks, [&] { return !ex->isBusy(); });

    // The boosted run: overview, curves, evaluation.
    ex->selectRun(gbdtId);
    if (!settle(tasks, [&] { return !ex->isBusy() && rv->runId() == gbdtId; }))
        return fail(QStringLiteral("open the run"));
    rv->tabs()->setCurrentIndex(RunView::OverviewTab);
    if (Status s = save(&window, QStringLiteral("experiments-run.png")); !s)
        return s;
    rv->tabs()->setCurrentIndex(RunView::CurvesTab);
    if (Status s = save(&window, QStringLiteral("experiments-curves.png")); !s)
        return s;
    rv->tabs()->setCurrentIndex(RunView::EvaluationTab);
    if (Status s = save(&window, QStringLiteral("experiments-evaluation.png")); !s)
        return s;

    // The sweep: its run with the trials under it, their params and results in the lineage.
    QString sweepId;
    if (const auto runs = ex->model()->runSet())
        for (const auto &r : runs->runs)
            if (!r.run.sweepId.isEmpty() && r.run.sweepId == r.run.id)
                sweepId = r.run.id;
    if (sweepId.isEmpty())
        return makeError(QStringLiteral("the sweep's run is not in the table"));
    ex->view()->expand(ex->model()->indexOfRun(sweepId));
    ex->selectRun(sweepId);
    if (!settle(tasks, [&] { return !ex->isBusy() && rv->runId() == sweepId; }))
        return fail(QStringLiteral("open the sweep"));
    rv->tabs()->setCurrentIndex(RunView::OverviewTab);
    if (Status s = save(&window, QStringLiteral("experiments-sweep.png")); !s)
        return s;

    // The boosted run and its branch side by side: one parameter differs.
    QStringList adult;
    if (const auto runs = ex->model()->runSet())
        for (const auto &r : runs->runs)
            if (r.run.experiment == u"adult"
                && std::find(r.params.begin(), r.params.end(), std::pair(QStringLiteral("learner"), QStringLiteral("gbdt"))) != r.params.end())
                adult << r.run.id;
    ex->compareRuns(adult);
    if (!settle(tasks, [&] { return !ex->isBusy() && int(ex->compareView()->runs().size()) == int(adult.size()); }))
        return fail(QStringLiteral("compare runs"));
    if (Status s = save(&window, QStringLiteral("experiments-compare.png")); !s)
        return s;

    // Models: the boosted run explained on its test rows - global importance and beeswarm, one prediction's
    // waterfall, fairness by sex.
    ExplainArea *models = window.explain();
    window.showArea(MainWindow::Models);
    window.models()->tabs()->setCurrentWidget(models);
    models->showRun(gbdtId);
    if (!settle(tasks, [&] { return models->globalView()->report().has_value(); }))
        return fail(QStringLiteral("global explanation"));
    if (!models->session()
        || models->globalView()->importanceOrder().size() != models->session()->model.ctx.features().size())
        return makeError(QStringLiteral("models-global.png: the importance lists %1 features, not the model's")
                             .arg(models->globalView()->importanceOrder().size()));
    if (Status s = save(&window, QStringLiteral("models-global.png")); !s)
        return s;
    models->showRow(0);
    if (!settle(tasks, [&] { return models->predictionView()->local().has_value(); }))
        return fail(QStringLiteral("explain a prediction"));
    if (models->predictionView()->waterfall().steps.empty())
        return makeError(QStringLiteral("models-prediction.png: the waterfall has no steps"));
    if (Status s = save(&window, QStringLiteral("models-prediction.png")); !s)
        return s;
    models->tabs()->setCurrentWidget(models->fairnessView());
    models->fairnessView()->setSensitiveColumn(QStringLiteral("sex"));
    if (!settle(tasks, [&] {
            return models->fairnessView()->report() && models->fairnessView()->report()->sensitive == u"sex";
        }))
        return fail(QStringLiteral("fairness"));
    if (models->fairnessView()->report()->groups.size() != 2)
        return makeError(QStringLiteral("models-fairness.png: %1 groups of sex, not 2").arg(models->fairnessView()->report()->groups.size()));
    if (Status s = save(&window, QStringLiteral("models-fairness.png")); !s)
        return s;

    // The registry: the logistic baseline and the boosted trees registered from the Experiments area, the champion
    // moved from one to the other after an approval; then the two compared with paired tests.
    RegistryView *reg = window.models()->registry();
    for (const auto &[run, why] : {std::pair(logisticId, QStringLiteral("logistic baseline")), std::pair(gbdtId, QStringLiteral("boosted trees"))}) {
        QString registered;
        QMetaObject::Connection c = QObject::connect(ex, &ExperimentsArea::modelRegistered, [&](const QString &ref, const QString &message) {
            registered = ref.isEmpty() ? QStringLiteral("!") + message : ref;
        });
        ex->registerRunAs(run, QStringLiteral("credit"), why);
        const bool done = waitFor([&] { return !registered.isEmpty(); });
        QObject::disconnect(c);
        if (!done || registered.startsWith(QLatin1Char('!')))
            return makeError(QStringLiteral("registering %1: %2").arg(run.left(8), registered));
    }
    window.models()->tabs()->setCurrentWidget(reg);
    const auto change = [&](const std::function<void()> &act, const QString &what) -> Status {
        bool ok = false, finishedChange = false;
        QMetaObject::Connection c = QObject::connect(reg, &RegistryView::changeFinished, [&](bool success, const QString &) {
            ok = success;
            finishedChange = true;
        });
        act();
        const bool done = waitFor([&] { return finishedChange; });
        QObject::disconnect(c);
        if (!done || !ok)
            return makeError(QStringLiteral("registry step failed: ") + what);
        return settle(tasks, [&] { return !reg->isBusy(); }) ? Status::ok() : fail(what);
    };
    if (Status s = change([&] { reg->moveAlias(QStringLiteral("credit@v1"), QStringLiteral("champion"), QStringLiteral("first model in production")); },
                          QStringLiteral("champion -> v1"));
        !s)
        return s;
    if (Status s = change([&] { reg->approve(QStringLiteral("credit@v2"), QStringLiteral("comparison and fairness by sex reviewed")); },
                          QStringLiteral("approve v2"));
        !s)
        return s;
    if (Status s = change([&] { reg->moveAlias(QStringLiteral("credit@v2"), QStringLiteral("champion"), QStringLiteral("boosted trees beat the baseline")); },
                          QStringLiteral("champion -> v2"));
        !s)
        return s;
    reg->selectVersion(QStringLiteral("credit@v2"));
    if (reg->snapshot().models.size() != 1 || reg->snapshot().models.front().versions.size() != 2
        || reg->timelineTable()->rowCount() != 2)
        return makeError(QStringLiteral("models-registry.png: the registry does not show two versions and two alias moves"));
    if (Status s = save(&window, QStringLiteral("models-registry.png")); !s)
        return s;
    ModelCompareView *cmp = window.models()->compareView();
    window.models()->compare(QStringLiteral("credit@v1"), QStringLiteral("credit@v2"));
    if (!settle(tasks, [&] { return !cmp->isBusy() && cmp->comparison().has_value(); }))
        return fail(QStringLiteral("compare credit@v1 with credit@v2"));
    if (cmp->metricsTable()->rowCount() != 3 || cmp->comparison()->tests.size() != 4)
        return makeError(QStringLiteral("models-compare.png: expected 3 metrics and 4 paired tests"));
    if (Status s = save(&window, QStringLiteral("models-compare.png")); !s)
        return s;

    // Deployments: the champion deployed through the Deploy dialog (its gates checked first), then the baseline added
    // as shadow; a keel serve child process answers requests, and the area reads its /metrics.
    {
        window.showArea(MainWindow::Deployments);
        DeploymentsArea *dep = window.deployments();
        dep->refresh();
        if (!settle(tasks, [&] { return !dep->snapshot().modelRefs.isEmpty(); }))
            return fail(QStringLiteral("read the deployments"));
        const auto deployThrough = [&](const QString &model, const QString &shadow, const QString &shot) -> Status {
            DeployDialog *dialog = dep->openDeployDialog();
            dialog->nameEdit()->setText(QStringLiteral("credit"));
            dialog->modelBox()->setCurrentText(model);
            dialog->shadowBox()->setCurrentIndex(std::max(0, dialog->shadowBox()->findData(shadow)));
            dialog->checkButton()->click();
            if (!settle(tasks, [&] { return dialog->outcome().has_value() && dialog->checkButton()->isEnabled(); }))
                return fail(QStringLiteral("check the gates"));
            if (!dialog->outcome()->gatesPassed() || !dialog->deployButton()->isEnabled() || dialog->gatesTable()->rowCount() != 4)
                return makeError(QStringLiteral("%1: the gates of %2 did not all pass").arg(shot, model));
            if (!shot.isEmpty()) {
                dialog->resize(1100, 620);
                if (Status st = save(dialog, shot); !st)
                    return st;
            }
            const int before = dep->historyTable()->rowCount();
            dialog->deployButton()->click();
            if (!settle(tasks, [&] { return dep->historyTable()->rowCount() == before + 1; }))
                return fail(QStringLiteral("deploy %1").arg(model));
            return Status::ok();
        };
        if (Status st = deployThrough(QStringLiteral("credit@champion"), QString(), QString()); !st)
            return st;
        if (Status st = deployThrough(QStringLiteral("credit@champion"), QStringLiteral("credit@v1"), QStringLiteral("deployments-deploy.png")); !st)
            return st;
        QProcess serve;
        serve.setWorkingDirectory(*root);
        serve.start(locateKeelBinary(), {QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0")});
        if (!serve.waitForStarted(5000) || !waitFor([&] { return serve.canReadLine() || serve.state() != QProcess::Running; }))
            return makeError(QStringLiteral("keel serve did not start: %1").arg(QString::fromUtf8(serve.readAllStandardError())));
        const QString line = QString::fromUtf8(serve.readLine());
        const QString url = line.section(QStringLiteral(" on "), 1).section(QLatin1Char(' '), 0, 0);
        if (!url.startsWith(QStringLiteral("http://")))
            return makeError(QStringLiteral("keel serve said: %1").arg(line));
        dep->serverUrl()->setText(url);
        QNetworkAccessManager net;
        const QByteArray record = R"({"records": [{"age": 39, "workclass": "State-gov", "education": "Bachelors", "education_num": 13,
            "marital_status": "Never-married", "occupation": "Adm-clerical", "relationship": "Not-in-family", "race": "White",
            "sex": "Male", "capital_gain": 2174, "capital_loss": 0, "hours_per_week": 40, "native_country": "United-States"}]})";
        const auto post = [&](const QByteArray &body) {
            QNetworkRequest request(QUrl(url + QStringLiteral("/v1/deployments/credit/predict")));
            request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            QNetworkReply *reply = net.post(request, body);
            waitFor([&] { return reply->isFinished(); });
            reply->deleteLater();
        };
        dep->pollServer();
        pump(600);
        for (int i = 0; i < 40; ++i)
            post(record);
        post("{\"records\": [{\"age\": \"forty\"}]}");
        pump(900);
        dep->pollServer();
        waitFor([&] { return dep->serverLabel()->text().contains(QStringLiteral("requests/s")); });
        pump(300);
        const bool serving = dep->serverLabel()->text().contains(QStringLiteral("<b>serving</b>"));
        Status st = serving && dep->deploymentsTable()->rowCount() == 1 && dep->historyTable()->rowCount() == 2
                        ? save(&window, QStringLiteral("deployments.png"))
                        : makeError(QStringLiteral("deployments.png: %1 deployments, %2 revisions, server: %3")
                                        .arg(dep->deploymentsTable()->rowCount())
                                        .arg(dep->historyTable()->rowCount())
                                        .arg(dep->serverLabel()->text()));
        // Monitoring: the adult test rows replayed through the server in order of age (a planted drift: the traffic
        // ages), labels arriving a year of age later; a monitor's rules checked once, then the control tower.
        if (st) {
            QDir(*root).mkpath(QStringLiteral("monitors"));
            if (Status w = writeFileAtomic(*root + QStringLiteral("/monitors/credit.yaml"),
                                           "deployment: credit\nwindow: 1000\nmin_predictions: 500\nrules:\n"
                                           "  - name: input drift\n    metric: psi\n    above: 0.25\n    windows: 2\n"
                                           "  - name: auc low\n    metric: roc_auc\n    below: 0.88\n    windows: 2\n");
                !w)
                st = w;
        }
        const auto keelRun = [&](const QStringList &args) -> Status {
            QProcess p;
            p.setWorkingDirectory(*root);
            p.start(locateKeelBinary(), args);
            if (!p.waitForFinished(300000) || p.exitStatus() != QProcess::NormalExit || (p.exitCode() != 0 && p.exitCode() != 3))
                return makeError(QStringLiteral("keel %1: %2").arg(args.join(QLatin1Char(' ')), QString::fromUtf8(p.readAllStandardError())));
            return Status::ok();
        };
        if (st)
            st = keelRun({QStringLiteral("monitor"), QStringLiteral("replay"), QStringLiteral("credit"), QStringLiteral("--data"),
                          QStringLiteral("adult_test@v1"), QStringLiteral("--time-column"), QStringLiteral("age"), QStringLiteral("--labels-after"),
                          QStringLiteral("1"), QStringLiteral("--batch"), QStringLiteral("200"), QStringLiteral("--server"), url});
        pump(600);
        if (st)
            st = keelRun({QStringLiteral("monitor"), QStringLiteral("check"), QStringLiteral("credit")});
        if (st) {
            window.showArea(MainWindow::Monitoring);
            MonitoringArea *mon = window.monitoring();
            mon->refresh();
            if (!settle(tasks, [&] { return !mon->isLoading() && mon->snapshot().drift.has_value() && mon->snapshot().predictions > 16000; }))
                st = fail(QStringLiteral("read the monitoring"));
            const int age = int(mon->heatMap()->features().indexOf(QStringLiteral("age")));
            if (st && (age < 0 || mon->heatMap()->windowCount() < 16 || mon->snapshot().alerts.empty()))
                st = makeError(QStringLiteral("monitoring: age at %1, %2 windows, %3 alerts").arg(age).arg(mon->heatMap()->windowCount()).arg(mon->snapshot().alerts.size()));
            if (st) {
                mon->tabs()->setCurrentIndex(MonitoringArea::DriftTab);
                mon->heatMap()->selectCell(age, mon->heatMap()->windowCount() - 2);
                settle(tasks, [&] { return mon->distributionChart()->hasData(); });
                st = save(&window, QStringLiteral("monitoring-drift.png"));
            }
            if (st) {
                mon->tabs()->setCurrentIndex(MonitoringArea::VelocityTab);
                st = save(&window, QStringLiteral("monitoring-velocity.png"));
            }
            if (st) {
                mon->tabs()->setCurrentIndex(MonitoringArea::PerformanceTab);
                st = mon->performanceChart()->hasData() ? save(&window, QStringLiteral("monitoring-performance.png"))
                                                        : makeError(QStringLiteral("monitoring-performance.png: no chart"));
            }
            if (st) {
                mon->tabs()->setCurrentIndex(MonitoringArea::AlertsTab);
                mon->alertTable()->selectRow(0);
                st = save(&window, QStringLiteral("monitoring-alerts.png"));
            }
            mon->tabs()->setCurrentIndex(MonitoringArea::DriftTab);
        }
        serve.terminate();
        serve.waitForFinished(5000);
        if (!st)
            return st;
    }

    // Audit: the trail in words, the chain verified; then the first prediction the server made, explained from its id.
    {
        window.showArea(MainWindow::Audit);
        AuditView *audit = window.audit();
        bool loadedTrail = false, verifiedChain = false;
        const auto a = QObject::connect(audit, &AuditView::loaded, [&] { loadedTrail = true; });
        const auto b = QObject::connect(audit, &AuditView::verified, [&](bool ok) { verifiedChain = ok; });
        audit->refresh();
        audit->verify();
        const bool ready = settle(tasks, [&] { return loadedTrail && verifiedChain; });
        QObject::disconnect(a);
        QObject::disconnect(b);
        if (!ready)
            return fail(QStringLiteral("load and verify the audit trail"));
        if (Status s = save(&window, QStringLiteral("audit.png")); !s)
            return s;
        auto log = serve::readPredictionLog(serve::predictionLogDir(*root, QStringLiteral("credit")));
        if (!log || log->empty())
            return makeError(QStringLiteral("audit-decision.png: no served prediction in the log"));
        audit->showDecision(log->front().prediction.value(QStringLiteral("id")).toString());
        if (!settle(tasks, [&] { return audit->decision().has_value() && audit->waterfall()->hasData(); }))
            return fail(QStringLiteral("explain a served decision: ") + audit->decisionText()->text());
        if (Status s = save(&window, QStringLiteral("audit-decision.png")); !s)
            return s;
        audit->tabs()->setCurrentIndex(AuditView::TrailTab);
    }

    // Pipelines: the example's income pipeline run from the area (every stage runs), then shown current.
    {
        window.showArea(MainWindow::Pipelines);
        PipelinesArea *pipes = window.pipelines();
        pipes->refresh();
        if (!settle(tasks, [&] { return pipes->snapshot().pipeline.has_value(); }))
            return fail(QStringLiteral("read the pipelines"));
        bool done = false, ok = false;
        QObject::connect(pipes, &PipelinesArea::runFinished, pipes, [&](bool success) { done = true; ok = success; }, Qt::SingleShotConnection);
        pipes->run(false);
        if (!settle(tasks, [&] { return done && !pipes->isBusy(); }) || !ok)
            return fail(QStringLiteral("run the income pipeline"));
        settle(tasks);
        if (Status st = save(&window, QStringLiteral("pipelines.png")); !st)
            return st;
    }

    // Many classes and features: the 26-class letters run (labels differing only in case) - its confusion matrix
    // and one-vs-rest curves, then its global explanation (60 features) and one prediction, at 1440x900 and 1280x720.
    window.showArea(MainWindow::Experiments);
    const QString lettersId = [&] {
        TrainingProcess *p = train(QStringLiteral("letters-gbdt.yaml"), QStringLiteral("letters-gbdt"));
        return finished(p, QStringLiteral("training letters-gbdt")) ? p->runId() : QString();
    }();
    if (lettersId.isEmpty())
        return makeError(QStringLiteral("the letters run did not finish"));
    settle(tasks, [&] { return !ex->isBusy(); });
    ex->selectRun(lettersId);
    if (!settle(tasks, [&] { return !ex->isBusy() && rv->runId() == lettersId; }))
        return fail(QStringLiteral("open the letters run"));
    rv->tabs()->setCurrentIndex(RunView::EvaluationTab);
    if (rv->confusionMatrix()->classes().size() != 26 || rv->classPicker()->count() != 26 || !rv->classPicker()->isVisible())
        return makeError(QStringLiteral("experiments-multiclass-evaluation.png: %1 classes in the matrix, %2 in the picker")
                             .arg(rv->confusionMatrix()->classes().size())
                             .arg(rv->classPicker()->count()));
    rv->classPicker()->setCurrentIndex(rv->classPicker()->findData(QStringLiteral("a")));
    if (Status s = save(&window, QStringLiteral("experiments-multiclass-evaluation.png")); !s)
        return s;
    window.showArea(MainWindow::Models);
    window.models()->tabs()->setCurrentWidget(models);
    models->tabs()->setCurrentWidget(models->globalView());
    models->showRun(lettersId);
    if (!settle(tasks, [&] { return models->globalView()->report().has_value() && models->globalView()->report()->runId == lettersId; }))
        return fail(QStringLiteral("global explanation of letters"));
    if (models->globalView()->importanceOrder().size() != 60 || models->globalView()->featureTable()->rowCount() != 60
        || models->globalView()->classPicker()->count() != 26 || models->globalView()->explainedClass() != 0)
        return makeError(QStringLiteral("models-multiclass-global.png: %1 features, %2 classes, explaining class %3 (expected 60, 26, A)")
                             .arg(models->globalView()->importanceOrder().size())
                             .arg(models->globalView()->classPicker()->count())
                             .arg(models->globalView()->explainedClass()));
    if (Status s = save(&window, QStringLiteral("models-multiclass-global.png")); !s)
        return s;
    models->showRow(0);
    if (!settle(tasks, [&] { return models->predictionView()->local().has_value(); }))
        return fail(QStringLiteral("explain a letters prediction"));
    if (Status s = save(&window, QStringLiteral("models-multiclass-prediction.png")); !s)
        return s;
    // The pickers: the prediction's waterfall explains the class asked for ("a", not "A": case matters), and the
    // global views recompute for it.
    {
        ExplainPredictionView *pv = models->predictionView();
        pv->classPicker()->setCurrentIndex(pv->classPicker()->findText(QStringLiteral("P(a)")));
        const int a = models->session()->model.ctx.classes().indexOf(QStringLiteral("a"));
        if (!pv->local() || pv->local()->output != a || !pv->waterfall().title.endsWith(QStringLiteral("score of a")))
            return makeError(QStringLiteral("the prediction's class picker did not switch the waterfall to class a"));
        pv->classPicker()->setCurrentIndex(0);
        models->tabs()->setCurrentWidget(models->globalView());
        models->globalView()->classPicker()->setCurrentIndex(models->globalView()->classPicker()->findData(a));
        if (!settle(tasks, [&] { return models->globalView()->explainedClass() == a; }))
            return fail(QStringLiteral("global explanation of class a"));
        models->globalView()->classPicker()->setCurrentIndex(0);
        if (!settle(tasks, [&] { return models->globalView()->explainedClass() == 0; }))
            return fail(QStringLiteral("global explanation of class A"));
    }
    window.resize(1280, 720);
    pump(200);
    models->tabs()->setCurrentWidget(models->globalView());
    if (Status s = save(&window, QStringLiteral("models-multiclass-global-1280x720.png")); !s)
        return s;
    window.showArea(MainWindow::Experiments);
    if (Status s = save(&window, QStringLiteral("experiments-multiclass-evaluation-1280x720.png")); !s)
        return s;
    window.resize(1440, 900);
    pump(200);

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
    if (dark) {
        window.showArea(MainWindow::Experiments);
        ex->selectRun(gbdtId);
        settle(tasks, [&] { return !ex->isBusy() && rv->runId() == gbdtId; });
        rv->tabs()->setCurrentIndex(RunView::CurvesTab);
        dark = save(&window, QStringLiteral("experiments-dark-curves.png"));
    }
    if (dark) {
        rv->tabs()->setCurrentIndex(RunView::EvaluationTab);
        dark = save(&window, QStringLiteral("experiments-dark-evaluation.png"));
    }
    if (dark) {
        window.showArea(MainWindow::Models);
        window.models()->tabs()->setCurrentWidget(reg);
        dark = save(&window, QStringLiteral("models-dark-registry.png"));
    }
    if (dark) {
        window.models()->tabs()->setCurrentWidget(cmp);
        dark = save(&window, QStringLiteral("models-dark-compare.png"));
    }
    if (dark) {
        window.showArea(MainWindow::Monitoring);
        window.monitoring()->refresh();
        settle(tasks, [&] { return !window.monitoring()->isLoading(); });
        window.monitoring()->tabs()->setCurrentIndex(MonitoringArea::PerformanceTab);
        dark = save(&window, QStringLiteral("monitoring-dark-performance.png"));
    }
    applyTheme(Theme::Light);
    window.close();
    return dark;
}

} // namespace keel::ui
