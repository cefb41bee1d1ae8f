// The workbench's Monitoring area on a planted story: a logistic model of a binary label is deployed with a worse
// challenger as shadow, and its prediction log holds six windows of 200 requests scored by both models (through
// core/serve, as keel serve scores them), the last three with the signal shifted by +1.5; labels arrived for the
// first five. The heat map must show exactly the drift core computes (signal large only where planted), a click must
// overlay the two distributions, the performance chart and the shadow's paired tests must appear, and an alert a
// monitor fired must be listed and acknowledged from the area (read back through core).
#include "monitoringarea.h"
#include "explaincharts.h"
#include "taskmanager.h"

#include "monitor/alerts.h"
#include "ml/training.h"
#include "registry/registry.h"
#include "serve/endpoint.h"
#include "serve/predictionlog.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QComboBox>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QStackedLayout>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <random>

using namespace keel;
using namespace keel::ui;

namespace {

constexpr int kTimeout = 60000;

QByteArray plantedCsv(int rows)
{
    std::mt19937_64 rng(5);
    std::normal_distribution<double> g(0, 1);
    QByteArray out = "signal,noise,label\n";
    for (int i = 0; i < rows; ++i) {
        const double s = g(rng);
        out += QByteArray::number(s, 'g', 10) + ',' + QByteArray::number(g(rng), 'g', 10) + ',' + (1.5 * s + 0.7 * g(rng) > 0 ? "yes" : "no") + '\n';
    }
    return out;
}

/// Saves the area to $KEEL_UI_SHOTS/NAME when that is set (for looking at it while developing).
void shot(QWidget *w, const char *name)
{
    const QString dir = qEnvironmentVariable("KEEL_UI_SHOTS");
    if (!dir.isEmpty())
        w->grab().save(dir + QLatin1Char('/') + QLatin1String(name));
}

} // namespace

class TestMonitoringUi : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_root;
    std::unique_ptr<TaskManager> m_tasks;

private slots:
    void initTestCase()
    {
        qputenv("HOME", QFile::encodeName(m_dir.path()));
        m_root = m_dir.filePath(QStringLiteral("ws"));
        auto ws = workspace::Workspace::init(m_root);
        QVERIFY(ws);
        QVERIFY(writeFileAtomic(m_dir.filePath(QStringLiteral("p.csv")), plantedCsv(3000)));
        QVERIFY(workspace::addDataset(**ws, m_dir.filePath(QStringLiteral("p.csv")), QStringLiteral("p"), {}, {}));
        for (const char *recipe : {"{}", "{exclude: [signal]}"}) {
            auto config = ml::TrainingConfig::fromYaml(QStringLiteral("data: p\ntarget: label\ntask: binary\nrecipe: %1\n"
                                                                      "split: {kind: holdout, test_fraction: 0.3, seed: 2}\nlearner: logistic\n")
                                                           .arg(QLatin1String(recipe)),
                                                       QStringLiteral("c.yaml"));
            QVERIFY(config);
            auto run = ml::runTraining(**ws, *config, nullptr);
            QVERIFY2(run, qPrintable(run.message()));
            QVERIFY(registry::registerRun(**ws, run->runId, QStringLiteral("credit"), {}));
        }
        deploy::DeployRequest request;
        request.name = QStringLiteral("credit");
        request.model = QStringLiteral("credit@v1");
        request.shadow = QStringLiteral("credit@v2");
        auto deployed = deploy::deployModel(**ws, request);
        QVERIFY2(deployed && deployed->deployed, deployed ? "a gate failed" : qPrintable(deployed.message()));

        // The log: 6 windows of 200 requests, scored by both models; the signal shifted in windows 4-6.
        auto main = serve::ModelRuntime::load(**ws, QStringLiteral("credit@v1"));
        auto shadow = serve::ModelRuntime::load(**ws, QStringLiteral("credit@v2"));
        QVERIFY(main && shadow);
        std::mt19937_64 rng(9);
        std::normal_distribution<double> g(0, 1);
        QJsonArray records;
        std::vector<QString> labels;
        for (int i = 0; i < 1200; ++i) {
            const double s = g(rng) + (i >= 600 ? 1.5 : 0.0);
            records.append(QJsonObject{{QStringLiteral("signal"), s}, {QStringLiteral("noise"), g(rng)}});
            labels.push_back(1.5 * s + 0.7 * g(rng) > 0 ? QStringLiteral("yes") : QStringLiteral("no"));
        }
        auto table = (*main)->toTable(records);
        QVERIFY(table);
        auto p = (*main)->predict(*table);
        auto q = (*shadow)->predict(*table);
        QVERIFY(p && q);
        auto log = serve::PredictionLog::open(serve::predictionLogDir(m_root, QStringLiteral("credit")));
        QVERIFY(log);
        for (int i = 0; i < 1200; ++i) {
            const QString id = QStringLiteral("r%1").arg(i);
            (*log)->append(QJsonObject{{QStringLiteral("id"), id},
                                       {QStringLiteral("time"), QDateTime::fromSecsSinceEpoch(1764547200 + 3 * i, Qt::UTC).toString(Qt::ISODateWithMs)},
                                       {QStringLiteral("deployment"), QStringLiteral("credit")}, {QStringLiteral("revision"), 1},
                                       {QStringLiteral("version"), QStringLiteral("credit@v1")}, {QStringLiteral("inputs"), records[i]},
                                       {QStringLiteral("output"), (*main)->outputJson(*p, i)}, {QStringLiteral("latency_ms"), 0.05 + 0.001 * (i % 17)}});
            (*log)->append(QJsonObject{{QStringLiteral("id"), QString(id + QStringLiteral(".shadow"))}, {QStringLiteral("shadow_of"), id},
                                       {QStringLiteral("version"), QStringLiteral("credit@v2")}, {QStringLiteral("output"), (*shadow)->outputJson(*q, i)}});
            if (i < 1000)
                (*log)->appendFeedback(QJsonObject{{QStringLiteral("prediction_id"), id}, {QStringLiteral("label"), labels[size_t(i)]}});
        }
        QVERIFY((*log)->flush());
        QVERIFY(writeFileAtomic(m_root + QStringLiteral("/monitors/credit.yaml"),
                                "deployment: credit\nwindow: 200\nmin_predictions: 100\nrules:\n"
                                "  - name: signal drift\n    metric: psi\n    feature: signal\n    above: 0.25\n    windows: 2\n"));
        auto check = monitor::checkMonitor(**ws, QStringLiteral("credit"));
        QVERIFY2(check, qPrintable(check.message()));
        QVERIFY(check->rules[0].fired);
        m_tasks = std::make_unique<TaskManager>();
    }

    void controlTower()
    {
        MonitoringArea area(m_tasks.get());
        area.resize(1400, 820);
        area.show();
        QSignalSpy loaded(&area, &MonitoringArea::loaded);
        area.setWorkspaceRoot(m_root);
        QVERIFY(loaded.wait(kTimeout));
        const MonitoringSnapshot &s = area.snapshot();
        QCOMPARE(s.deployment, QStringLiteral("credit"));
        QCOMPARE(s.window, QStringLiteral("200"));   // from the monitor
        QCOMPARE(s.predictions, qint64(1200));
        QVERIFY(s.drift.has_value());

        // The heat map shows core's numbers: signal small before the shift, large after it.
        DriftHeatMap *heat = area.heatMap();
        QCOMPARE(heat->windowCount(), 6);
        const int signal = int(heat->features().indexOf(QStringLiteral("signal")));
        QVERIFY(signal >= 0);
        // Most drifted first: the signal and the prediction it drives, then the untouched noise.
        QCOMPARE(heat->features().size(), 3);
        QCOMPARE(heat->features().back(), QStringLiteral("noise"));
        for (int w = 0; w < 6; ++w) {
            double expected = std::nan("");
            for (const monitor::FeatureDrift &f : s.drift->windows[size_t(w)].features)
                if (f.feature == u"signal")
                    expected = f.score;
            QCOMPARE(heat->score(signal, w), expected);
            QVERIFY2(w < 3 ? expected < 0.1 : expected > 0.25, qPrintable(QStringLiteral("window %1: %2").arg(w).arg(expected)));
        }
        QVERIFY(area.tile(0)->text().contains(QStringLiteral("predictions in window #6")));
        QVERIFY(area.tile(1)->text().contains(QStringLiteral("not serving")));
        QVERIFY(area.tile(4)->text().contains(QStringLiteral("keel serve")));
        QVERIFY(area.tile(5)->text().contains(QStringLiteral("1 open")));

        // A click overlays the window's distribution on the training rows'.
        QSignalSpy shown(&area, &MonitoringArea::distributionShown);
        heat->selectCell(signal, 4);
        QVERIFY(shown.wait(kTimeout));
        QVERIFY(area.distributionChart()->hasData());
        QCOMPARE(area.shownCell(), QStringLiteral("signal\n#5"));
        shot(&area, "monitoring-drift.png");

        area.tabs()->setCurrentIndex(MonitoringArea::VelocityTab);
        QVERIFY(area.velocityChart()->hasData());
        shot(&area, "monitoring-velocity.png");

        // Performance: five windows with labels, the sixth waiting; the shadow compared on the same requests.
        area.tabs()->setCurrentIndex(MonitoringArea::PerformanceTab);
        QVERIFY(area.performanceChart()->hasData());
        QVERIFY(s.performance.has_value());
        QCOMPARE(s.performance->windows.size(), size_t(6));
        QCOMPARE(s.performance->windows[5].labelled, qint64(0));
        QVERIFY(s.performance->windows[4].shadow.has_value());
        const QString shadowText = area.shadowLabel()->text();
        QVERIFY2(shadowText.contains(QStringLiteral("Shadow credit@v2")) && shadowText.contains(QStringLiteral("DeLong")) &&
                     shadowText.contains(QStringLiteral("window #5")),
                 qPrintable(shadowText));
        shot(&area, "monitoring-performance.png");

        // The alert the monitor fired; acknowledged from the area, read back through core.
        area.tabs()->setCurrentIndex(MonitoringArea::AlertsTab);
        QCOMPARE(area.alertTable()->rowCount(), 1);
        QCOMPARE(area.alertTable()->item(0, 3)->text(), QStringLiteral("signal drift"));
        QCOMPARE(area.alertTable()->item(0, 6)->text(), QStringLiteral("no"));
        area.alertTable()->selectRow(0);
        auto *ack = area.findChild<QPushButton *>(QStringLiteral("acknowledgeAlert"));
        QVERIFY(ack && ack->isEnabled());
        shot(&area, "monitoring-alerts.png");
        ack->click();
        QVERIFY(loaded.wait(kTimeout));
        QTRY_VERIFY_WITH_TIMEOUT(area.alertTable()->item(0, 6) && area.alertTable()->item(0, 6)->text().startsWith(QStringLiteral("by ")), kTimeout);
        auto ws = workspace::Workspace::open(m_root);
        QVERIFY(ws);
        auto alerts = monitor::listAlerts(**ws);
        QVERIFY(alerts && alerts->size() == 1 && alerts->front().acknowledged.isValid());
        QVERIFY(area.tile(5)->text().contains(QStringLiteral("0 open")));

        // Another windowing recomputes: by day, everything falls on one day.
        area.windowBox()->setCurrentIndex(area.windowBox()->findData(QStringLiteral("day")));
        area.refresh();
        QVERIFY(loaded.wait(kTimeout));
        QCOMPARE(area.heatMap()->windowCount(), 1);
    }

    void emptyWorkspaceSaysSo()
    {
        QTemporaryDir dir;
        QVERIFY(workspace::Workspace::init(dir.filePath(QStringLiteral("w"))));
        MonitoringArea area(m_tasks.get());
        QSignalSpy loaded(&area, &MonitoringArea::loaded);
        area.setWorkspaceRoot(dir.filePath(QStringLiteral("w")));
        QVERIFY(loaded.wait(kTimeout));
        QVERIFY(area.snapshot().deployments.isEmpty());
        auto *stack = qobject_cast<QStackedLayout *>(area.layout());
        QVERIFY(stack);
        QCOMPARE(stack->currentIndex(), 0);   // the empty state, which says what to do
    }
};

QTEST_MAIN(TestMonitoringUi)
#include "tst_monitoringui.moc"
