// The workbench's Pipelines area on the example workspace's income pipeline: before a run every stage would run (a
// dry run through core says so), Run goes through the task manager and every stage runs, after which the graph shows
// each stage ran and is current and a second Run skips them all (as `keel run` does).
#include "pipelinesarea.h"
#include "taskmanager.h"

#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace keel;
using namespace keel::ui;

class TestPipelinesUi : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_root;
    std::unique_ptr<TaskManager> m_tasks;

private slots:
    void initTestCase()
    {
        qputenv("HOME", QFile::encodeName(m_dir.path()));
        m_root = m_dir.filePath(QStringLiteral("ws"));
        auto ws = workspace::createExampleWorkspace(m_root, nullptr, QStringLiteral(KEEL_EXAMPLES_SOURCE_DIR));
        QVERIFY2(ws, qPrintable(ws.message()));
        m_tasks = std::make_unique<TaskManager>();
    }

    void runFromTheArea()
    {
        PipelinesArea area(m_tasks.get());
        area.resize(1300, 800);
        area.show();
        QSignalSpy loaded(&area, &PipelinesArea::loaded);
        area.setWorkspaceRoot(m_root);
        QVERIFY(loaded.wait(60000));
        QCOMPARE(area.snapshot().pipelines, QStringList{QStringLiteral("income")});
        QVERIFY(area.snapshot().pipeline.has_value());
        QCOMPARE(area.snapshot().pipeline->stages.size(), size_t(5));
        for (const auto &[stage, plan] : area.snapshot().plan)
            QCOMPARE(plan, QStringLiteral("would run"));
        QCOMPARE(area.graph()->statusShown(QStringLiteral("train")), QString());   // never ran

        QSignalSpy finished(&area, &PipelinesArea::runFinished);
        area.runButton()->click();
        QVERIFY(finished.wait(300000));
        QCOMPARE(finished.takeFirst().at(0).toBool(), true);
        QVERIFY(loaded.wait(60000));
        QCOMPARE(area.stageTable()->rowCount(), 5);
        for (int r = 0; r < 5; ++r)
            QCOMPARE(area.stageTable()->item(r, 1)->text(), QStringLiteral("ran"));
        for (const QString &s : {QStringLiteral("validate"), QStringLiteral("train"), QStringLiteral("deploy")})
            QCOMPARE(area.graph()->statusShown(s), QStringLiteral("ran"));
        for (const auto &[stage, plan] : area.snapshot().plan)
            QCOMPARE(plan, QStringLiteral("would skip"));
        const QString dir = qEnvironmentVariable("KEEL_UI_SHOTS");
        if (!dir.isEmpty())
            area.grab().save(dir + QStringLiteral("/pipelines.png"));

        area.runButton()->click();
        QVERIFY(finished.wait(300000));
        QVERIFY(loaded.wait(60000));
        for (int r = 0; r < 5; ++r)
            QCOMPARE(area.stageTable()->item(r, 1)->text(), QStringLiteral("cached"));
    }
};

QTEST_MAIN(TestPipelinesUi)
#include "tst_pipelinesui.moc"
