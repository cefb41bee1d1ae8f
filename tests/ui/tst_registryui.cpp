// The workbench's registry views: the registry lists what core registered, Move Alias… and Approve… change the card
// through core (checked by reading it back), the approval policy's refusal is shown, the compare view shows what
// registry::compareVersions computes, and Register as Model… in the Experiments area adds a version.
#include "experimentsarea.h"
#include "explaincharts.h"
#include "modelcompareview.h"
#include "registryview.h"
#include "taskmanager.h"

#include "ml/training.h"
#include "registry/compare.h"
#include "registry/registry.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QtTest>

#include <random>

using namespace keel;
using namespace keel::ui;

namespace {

constexpr int kTimeout = 60000;

QByteArray plantedCsv(int rows)
{
    std::mt19937_64 rng(11);
    std::normal_distribution<double> g(0, 1);
    QByteArray out = "signal,noise,label\n";
    for (int i = 0; i < rows; ++i) {
        const double s = g(rng);
        out += QByteArray::number(s, 'g', 10) + ',' + QByteArray::number(g(rng), 'g', 10) + ','
               + (1.5 * s + 0.7 * g(rng) > 0 ? "yes" : "no") + '\n';
    }
    return out;
}

QPushButton *okButton(QDialog *d) { return d->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok); }

} // namespace

class TestRegistryUi : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_root;
    QString m_runs[3];
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
        const char *recipes[] = {"{exclude: [signal]}", "{}", "{exclude: [noise]}"};
        for (int i = 0; i < 3; ++i) {
            auto config = ml::TrainingConfig::fromYaml(QStringLiteral("name: m%1\ndata: p\ntarget: label\ntask: binary\nrecipe: %2\n"
                                                                      "split: {kind: holdout, test_fraction: 0.3, seed: 2}\nlearner: logistic\n")
                                                           .arg(i)
                                                           .arg(QLatin1String(recipes[i])),
                                                       QStringLiteral("c.yaml"));
            QVERIFY(config);
            auto run = ml::runTraining(**ws, *config, nullptr);
            QVERIFY2(run, qPrintable(run.message()));
            m_runs[i] = run->runId;
        }
        QVERIFY(registry::registerRun(**ws, m_runs[0], QStringLiteral("credit"), QStringLiteral("blind")));
        QVERIFY(registry::registerRun(**ws, m_runs[1], QStringLiteral("credit"), QStringLiteral("sees")));
        m_tasks = std::make_unique<TaskManager>();
    }

    void registryListsAndChanges()
    {
        RegistryView view(m_tasks.get());
        view.resize(1200, 800);
        view.show();
        QSignalSpy loaded(&view, &RegistryView::loaded);
        view.setWorkspaceRoot(m_root);
        QVERIFY(loaded.wait(kTimeout));
        QCOMPARE(view.tree()->topLevelItemCount(), 1);
        QCOMPARE(view.tree()->topLevelItem(0)->childCount(), 2);
        QVERIFY(view.selectVersion(QStringLiteral("credit@v2")));
        QCOMPARE(view.currentVersion()->runId, m_runs[1]);
        QVERIFY(view.details()->toPlainText().contains(m_runs[1].left(8)));
        QVERIFY(view.details()->toPlainText().contains(QStringLiteral("test.roc_auc")));

        // Move Alias…: the dialog's choice becomes a commit.
        MoveAliasDialog *dialog = view.showMoveAliasDialog();
        QVERIFY(dialog);
        dialog->aliasBox()->setCurrentText(QStringLiteral("champion"));
        dialog->messageEdit()->setText(QStringLiteral("sees the signal"));
        QSignalSpy changed(&view, &RegistryView::changeFinished);
        okButton(dialog)->click();
        QVERIFY(changed.wait(kTimeout));
        QVERIFY2(changed.at(0).at(0).toBool(), qPrintable(changed.at(0).at(1).toString()));
        QVERIFY(loaded.wait(kTimeout));
        auto ws = workspace::Workspace::open(m_root);
        QCOMPARE(registry::loadModel(**ws, QStringLiteral("credit"))->aliases.value(QStringLiteral("champion")), 2);
        QCOMPARE(view.timelineTable()->rowCount(), 1);
        QCOMPARE(view.timelineTable()->item(0, 4)->text(), QStringLiteral("Point champion of credit at v2: sees the signal"));

        // Approve…: nothing to approve without saying what was reviewed.
        QVERIFY(view.selectVersion(QStringLiteral("credit@v1")));
        ApproveDialog *approve = view.showApproveDialog();
        QVERIFY(approve);
        QVERIFY(!okButton(approve)->isEnabled());
        approve->messageEdit()->setPlainText(QStringLiteral("reviewed the comparison"));
        QVERIFY(okButton(approve)->isEnabled());
        okButton(approve)->click();
        QVERIFY(changed.wait(kTimeout));
        QVERIFY(changed.last().at(0).toBool());
        QVERIFY(loaded.wait(kTimeout));
        QCOMPARE(registry::resolveVersion(**ws, QStringLiteral("credit@v1"))->approvals.size(), size_t(1));

        // The policy's refusal reaches the user: "production" needs an approved version; v2 has none, v1 has one.
        const QString settings = m_root + QStringLiteral("/keel.yaml");
        const QByteArray original = *readFile(settings);
        QVERIFY(writeFileAtomic(settings, QByteArray(original + "registry:\n  require_approval: [production]\n")));
        view.moveAlias(QStringLiteral("credit@v2"), QStringLiteral("production"), QString());
        QVERIFY(changed.wait(kTimeout));
        QVERIFY(!changed.last().at(0).toBool());
        QVERIFY2(changed.last().at(1).toString().contains(QStringLiteral("approval")), qPrintable(changed.last().at(1).toString()));
        view.moveAlias(QStringLiteral("credit@v1"), QStringLiteral("production"), QString());
        QVERIFY(changed.wait(kTimeout));
        QVERIFY(changed.last().at(0).toBool());
        QVERIFY(writeFileAtomic(settings, original));
        QVERIFY(m_tasks->waitForIdle(kTimeout));
    }

    void compareViewShowsCoreResult()
    {
        ModelCompareView view(m_tasks.get());
        view.resize(1200, 800);
        view.show();
        view.setWorkspaceRoot(m_root);
        view.setChoices({QStringLiteral("credit@v2"), QStringLiteral("credit@v1")}, {QStringLiteral("p@v1")});
        QSignalSpy compared(&view, &ModelCompareView::compared);
        view.compare(QStringLiteral("credit@v1"), QStringLiteral("credit@v2"));
        QVERIFY(compared.wait(kTimeout));
        QVERIFY(compared.at(0).at(0).toBool());
        QVERIFY(view.comparison());
        auto ws = workspace::Workspace::open(m_root);
        registry::CompareRequest request;
        request.a = QStringLiteral("credit@v1");
        request.b = QStringLiteral("credit@v2");
        auto core = registry::compareVersions(**ws, request);
        QVERIFY(core);
        QCOMPARE(view.comparison()->toJson(), core->toJson());   // the same seed: the same resamples, the same numbers
        QCOMPARE(view.metricsTable()->rowCount(), 3);
        QCOMPARE(view.metricsTable()->item(2, 0)->text(), QStringLiteral("roc_auc \u2191"));
        QVERIFY(view.testsLabel()->text().contains(QStringLiteral("DeLong")));
        QVERIFY(view.lineageTable()->rowCount() > 0);
        QVERIFY(view.importanceChart()->hasData());
    }

    void registerFromExperiments()
    {
        ExperimentsArea area(m_tasks.get());
        area.resize(1200, 800);
        area.show();
        area.setWorkspace(m_root, {});
        QSignalSpy registered(&area, &ExperimentsArea::modelRegistered);
        RegisterDialog *dialog = area.registerRun(m_runs[2]);
        QVERIFY(dialog);
        QCOMPARE(dialog->nameBox()->currentText(), QStringLiteral("credit"));   // the existing model is offered
        dialog->messageEdit()->setText(QStringLiteral("signal only"));
        okButton(dialog)->click();
        QVERIFY(registered.wait(kTimeout));
        QCOMPARE(registered.at(0).at(0).toString(), QStringLiteral("credit@v3"));
        auto ws = workspace::Workspace::open(m_root);
        auto v3 = registry::resolveVersion(**ws, QStringLiteral("credit@v3"));
        QVERIFY(v3);
        QCOMPARE(v3->runId, m_runs[2]);
        QCOMPARE(v3->message, QStringLiteral("signal only"));
        QVERIFY(m_tasks->waitForIdle(kTimeout));
    }
};

QTEST_MAIN(TestRegistryUi)
#include "tst_registryui.moc"
