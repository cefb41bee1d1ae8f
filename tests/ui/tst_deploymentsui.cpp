// The workbench's Deployments area: it lists what core/deploy wrote, the Deploy dialog shows the gates before it can
// switch (a worse model fails the performance gate and the Deploy button stays off), a deploy and a rollback from the
// area become revisions read back through core, and the server line says "not serving" when no keel serve answers.
#include "deploymentsarea.h"
#include "taskmanager.h"

#include "deploy/deployment.h"
#include "ml/training.h"
#include "registry/registry.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

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

} // namespace

class TestDeploymentsUi : public QObject {
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
        QVERIFY(writeFileAtomic(m_dir.filePath(QStringLiteral("p.csv")), plantedCsv(2000)));
        QVERIFY(workspace::addDataset(**ws, m_dir.filePath(QStringLiteral("p.csv")), QStringLiteral("p"), {}, {}));
        // v1 sees the signal; v2 only the noise (much worse).
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
        m_tasks = std::make_unique<TaskManager>();
    }

    void deployCheckRollback()
    {
        DeploymentsArea area(m_tasks.get());
        area.resize(1200, 800);
        area.show();
        QSignalSpy loaded(&area, &DeploymentsArea::loaded);
        area.setWorkspaceRoot(m_root);
        QVERIFY(loaded.wait(kTimeout));
        QCOMPARE(area.deploymentsTable()->rowCount(), 0);
        QVERIFY(area.snapshot().modelRefs.contains(QStringLiteral("credit@v2")));

        // First deploy through the dialog: gates checked, then switched.
        DeployDialog *dialog = area.openDeployDialog();
        dialog->nameEdit()->setText(QStringLiteral("credit"));
        dialog->modelBox()->setCurrentText(QStringLiteral("credit@v1"));
        QVERIFY(!dialog->deployButton()->isEnabled());
        QSignalSpy checked(dialog, &DeployDialog::checked);
        dialog->checkButton()->click();
        QVERIFY(checked.wait(kTimeout));
        QVERIFY(dialog->outcome() && dialog->outcome()->gatesPassed());
        QCOMPARE(dialog->gatesTable()->rowCount(), 4);
        QVERIFY(dialog->deployButton()->isEnabled());
        {
            // A check switches nothing.
            auto ws = workspace::Workspace::open(m_root);
            QVERIFY(deploy::loadDeployment(**ws, QStringLiteral("credit")).is(ErrorKind::NotFound));
        }
        QSignalSpy changed(&area, &DeploymentsArea::changeFinished);
        dialog->deployButton()->click();
        QVERIFY(changed.wait(kTimeout));
        QVERIFY(loaded.wait(kTimeout));
        QCOMPARE(area.deploymentsTable()->rowCount(), 1);
        QCOMPARE(area.historyTable()->rowCount(), 1);

        // The worse model: the performance gate fails and Deploy stays off.
        DeployDialog *worse = area.openDeployDialog();
        QCOMPARE(worse->nameEdit()->text(), QStringLiteral("credit"));
        worse->modelBox()->setCurrentText(QStringLiteral("credit@v2"));
        QSignalSpy checked2(worse, &DeployDialog::checked);
        worse->checkButton()->click();
        QVERIFY(checked2.wait(kTimeout));
        QVERIFY(worse->outcome() && !worse->outcome()->gatesPassed());
        QCOMPARE(worse->gatesTable()->item(2, 0)->text(), QStringLiteral("performance"));
        QCOMPARE(worse->gatesTable()->item(2, 1)->text(), QStringLiteral("FAILED"));
        QVERIFY(!worse->deployButton()->isEnabled());
        // With a large tolerance it passes, and deploying makes revision 2.
        worse->findChild<QDoubleSpinBox *>()->setValue(1.0);
        QVERIFY(!worse->deployButton()->isEnabled());   // a change needs a new check
        worse->checkButton()->click();
        QVERIFY(checked2.wait(kTimeout));
        QVERIFY(worse->deployButton()->isEnabled());
        worse->deployButton()->click();
        QVERIFY(changed.wait(kTimeout));
        QVERIFY(loaded.wait(kTimeout));
        QCOMPARE(area.historyTable()->rowCount(), 2);
        QCOMPARE(area.historyTable()->item(0, 0)->text(), QStringLiteral("2"));   // newest first

        // Rollback to revision 1 from the area: revision 3 serves v1 again, read back through core.
        area.rollbackTo(1, QStringLiteral("worse on the test rows"));
        QVERIFY(changed.wait(kTimeout));
        QVERIFY2(changed.last().at(0).toBool(), qPrintable(changed.last().at(1).toString()));
        QVERIFY(loaded.wait(kTimeout));
        QCOMPARE(area.historyTable()->rowCount(), 3);
        QCOMPARE(area.historyTable()->item(0, 3)->text(), QStringLiteral("rollback to 1"));
        auto ws = workspace::Workspace::open(m_root);
        auto d = deploy::loadDeployment(**ws, QStringLiteral("credit"));
        QVERIFY(d);
        QCOMPARE(d->revision, 3);
        QCOMPARE(d->model.version, QStringLiteral("credit@v1"));

        // No server: the line says so.
        area.serverUrl()->setText(QStringLiteral("http://127.0.0.1:9"));
        QSignalSpy polled(&area, &DeploymentsArea::serverPolled);
        area.pollServer();
        QVERIFY(polled.wait(kTimeout));
        QVERIFY2(area.serverLabel()->text().contains(QStringLiteral("not serving")), qPrintable(area.serverLabel()->text()));
    }
};

QTEST_MAIN(TestDeploymentsUi)
#include "tst_deploymentsui.moc"
