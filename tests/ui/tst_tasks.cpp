// The task manager: results delivered on the UI thread, superseded and cancelled results dropped (generation
// ids), progress and ETA, and the task dock's Cancel button.
#include "taskdock.h"
#include "taskmanager.h"

#include <QSemaphore>
#include <QTreeView>
#include <QtTest>

#include <atomic>
#include <stdexcept>

using namespace keel;
using namespace keel::ui;

class TestTasks : public QObject {
    Q_OBJECT
private slots:
    void deliversResultOnUiThread();
    void deliversErrors();
    void supersededResultIsDropped();
    void cancelledResultIsDropped();
    void receiverGoneDropsResult();
    void progressAndEta();
    void etaFollowsTheStage();
    void exceptionsBecomeErrors();
    void clearEnded();
    void dockCancelButton();
    void formatDuration_data();
    void formatDuration();
};

void TestTasks::deliversResultOnUiThread()
{
    TaskManager tm;
    QSignalSpy active(&tm, &TaskManager::activeCountChanged);
    int got = 0;
    QThread *deliveredOn = nullptr;
    QThread *workedOn = nullptr;
    const quint64 id = tm.start<int>(
        QStringLiteral("answer"), {},
        [&workedOn](Feedback &) -> Expected<int> {
            workedOn = QThread::currentThread();
            return 42;
        },
        this,
        [&](Expected<int> &&v) {
            got = *v;
            deliveredOn = QThread::currentThread();
        });
    QVERIFY(tm.waitForIdle(10000));
    QCOMPARE(got, 42);
    QCOMPARE(deliveredOn, QThread::currentThread());
    QVERIFY(workedOn != QThread::currentThread());
    QCOMPARE(tm.info(id)->state, TaskState::Finished);
    QCOMPARE(tm.activeCount(), 0);
    QVERIFY(active.count() >= 2);
    QCOMPARE(active.last().at(0).toInt(), 0);
}

void TestTasks::deliversErrors()
{
    TaskManager tm;
    QString error;
    const quint64 id = tm.start<int>(
        QStringLiteral("fails"), {}, [](Feedback &) -> Expected<int> { return makeError(QStringLiteral("no such file"), QStringLiteral("x.csv")); },
        this, [&](Expected<int> &&v) { error = v.error().toString(); });
    QVERIFY(tm.waitForIdle(10000));
    QCOMPARE(error, QStringLiteral("x.csv: no such file"));
    QCOMPARE(tm.info(id)->state, TaskState::Failed);
    QCOMPARE(tm.info(id)->error, QStringLiteral("x.csv: no such file"));
}

void TestTasks::supersededResultIsDropped()
{
    TaskManager tm;
    QSemaphore release;
    QStringList delivered;
    const quint64 first = tm.start<QString>(
        QStringLiteral("first"), QStringLiteral("g"),
        [&release](Feedback &) -> Expected<QString> {
            release.acquire();
            return QStringLiteral("first");
        },
        this, [&](Expected<QString> &&v) { delivered << *v; });
    const quint64 second = tm.start<QString>(
        QStringLiteral("second"), QStringLiteral("g"), [](Feedback &) -> Expected<QString> { return QStringLiteral("second"); },
        this, [&](Expected<QString> &&v) { delivered << *v; });
    QTRY_COMPARE_WITH_TIMEOUT(tm.info(second)->state, TaskState::Finished, 10000);
    QCOMPARE(tm.info(first)->state, TaskState::Cancelling);
    release.release();
    QVERIFY(tm.waitForIdle(10000));
    QCOMPARE(delivered, QStringList{QStringLiteral("second")});
    QCOMPARE(tm.info(first)->state, TaskState::Superseded);
}

void TestTasks::cancelledResultIsDropped()
{
    TaskManager tm;
    QSemaphore started;
    std::atomic<bool> sawCancel{false};
    bool delivered = false;
    QSignalSpy ended(&tm, &TaskManager::taskEnded);
    const quint64 id = tm.start<int>(
        QStringLiteral("long"), {},
        [&](Feedback &fb) -> Expected<int> {
            started.release();
            while (!fb.isCancelled())
                QThread::msleep(2);
            sawCancel = true;
            return cancelledError();
        },
        this, [&](Expected<int> &&) { delivered = true; });
    QVERIFY(started.tryAcquire(1, 10000));
    QCOMPARE(tm.info(id)->state, TaskState::Running);
    QCOMPARE(tm.activeCount(), 1);
    tm.cancel(id);
    QVERIFY(tm.waitForIdle(10000));
    QVERIFY(sawCancel);
    QVERIFY(!delivered);
    QCOMPARE(tm.info(id)->state, TaskState::Cancelled);
    QCOMPARE(ended.count(), 1);
    QCOMPARE(ended.at(0).at(1).value<TaskState>(), TaskState::Cancelled);
    tm.cancel(id); // no-op once ended
    QCOMPARE(tm.info(id)->state, TaskState::Cancelled);
}

void TestTasks::receiverGoneDropsResult()
{
    TaskManager tm;
    QSemaphore release;
    bool delivered = false;
    auto *receiver = new QObject;
    tm.start<int>(
        QStringLiteral("orphan"), {},
        [&release](Feedback &) -> Expected<int> {
            release.acquire();
            return 1;
        },
        receiver, [&](Expected<int> &&) { delivered = true; });
    delete receiver;
    release.release();
    QVERIFY(tm.waitForIdle(10000));
    QVERIFY(!delivered);
}

void TestTasks::progressAndEta()
{
    TaskManager tm;
    QSemaphore reported, release;
    const quint64 id = tm.start<int>(
        QStringLiteral("progress"), {},
        [&](Feedback &fb) -> Expected<int> {
            fb.setProgress(50, 200, QStringLiteral("parse"));
            reported.release();
            release.acquire();
            return 0;
        },
        this, [](Expected<int> &&) {});
    QVERIFY(reported.tryAcquire(1, 10000));
    QTRY_VERIFY_WITH_TIMEOUT(tm.info(id)->etaMs.has_value(), 10000);
    const TaskInfo info = *tm.info(id);
    QCOMPARE(info.done, qint64(50));
    QCOMPARE(info.total, qint64(200));
    QCOMPARE(info.stage, QStringLiteral("parse"));
    // Three quarters remain: the estimate is three times the time spent so far.
    QVERIFY(*info.etaMs >= 3 * 300 - 1);
    QTRY_COMPARE_WITH_TIMEOUT(tm.model()->index(0, TaskModel::ProgressColumn).data().toString(), QStringLiteral("25%"), 10000);
    release.release();
    QVERIFY(tm.waitForIdle(10000));
    QVERIFY(!tm.info(id)->etaMs);
}

void TestTasks::etaFollowsTheStage()
{
    // StageEta (the ETA the task dock and the keel progress bar show) on a clock of its own: the first stage runs from
    // the job's start; a later stage at its own pace, not at the pace of the job so far.
    StageEta eta(0);
    QVERIFY(!eta.remainingMs(0));
    eta.report(1000, 50, 100, QStringLiteral("parse"));
    QCOMPARE(eta.remainingMs(1000), std::optional<qint64>(1000));   // half done in 1 s
    QCOMPARE(eta.remainingMs(1500), std::optional<qint64>(1500));   // no report since: the pace so far is slower
    eta.report(2000, 100, 100, QStringLiteral("parse"));
    QVERIFY(!eta.remainingMs(2000));                                // complete
    // The profile starts at 2 s; half of it takes 0.4 s, so the other half needs 0.4 s (not the 2.4 s the whole
    // job's pace would say).
    eta.report(2000, 0, 100, QStringLiteral("profile"));
    eta.report(2100, 50, 100, QStringLiteral("profile"));
    QVERIFY(!eta.remainingMs(2100));                                // under 300 ms of the stage: too early to say
    QCOMPARE(eta.remainingMs(2400), std::optional<qint64>(400));
    eta.report(2600, 75, 100, {});                                  // no name: the same stage
    QCOMPARE(eta.stage(), QStringLiteral("profile"));
    QCOMPARE(eta.remainingMs(2600), std::optional<qint64>(200));    // 75% in 600 ms
    // Progress that goes back starts the stage over.
    eta.report(3000, 10, 100, QStringLiteral("profile"));
    eta.report(3500, 30, 100, QStringLiteral("profile"));
    QCOMPARE(eta.remainingMs(3500), std::optional<qint64>(1750));   // 20% in 500 ms, 70% left
    // A new name begins a new stage even where its progress does not go back.
    eta.report(4000, 20, 100, QStringLiteral("hash"));
    eta.report(4800, 40, 100, QStringLiteral("write"));
    eta.report(5200, 60, 100, QStringLiteral("write"));
    QCOMPARE(eta.remainingMs(5200), std::optional<qint64>(800));    // 20% in 400 ms, 40% left
    // An unknown total has no ETA.
    eta.report(6000, 5, 0, QStringLiteral("scan"));
    QVERIFY(!eta.remainingMs(7000));
}

void TestTasks::exceptionsBecomeErrors()
{
    TaskManager tm;
    const quint64 id = tm.start<int>(
        QStringLiteral("throws"), {}, [](Feedback &) -> Expected<int> { throw std::runtime_error("boom"); }, this,
        [](Expected<int> &&) {});
    QVERIFY(tm.waitForIdle(10000));
    QCOMPARE(tm.info(id)->state, TaskState::Failed);
    QVERIFY(tm.info(id)->error.contains(QStringLiteral("boom")));
}

void TestTasks::clearEnded()
{
    TaskManager tm;
    for (int i = 0; i < 3; ++i)
        tm.start<int>(QStringLiteral("t%1").arg(i), {}, [](Feedback &) -> Expected<int> { return 1; }, this, [](Expected<int> &&) {});
    QVERIFY(tm.waitForIdle(10000));
    QCOMPARE(tm.model()->rowCount(), 3);
    tm.clearEnded();
    QCOMPARE(tm.model()->rowCount(), 0);
    QVERIFY(tm.tasks().empty());
}

void TestTasks::dockCancelButton()
{
    TaskManager tm;
    TaskDockWidget dock(&tm);
    dock.resize(700, 200);
    dock.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dock));
    QSemaphore started;
    const quint64 id = tm.start<int>(
        QStringLiteral("cancel me"), {},
        [&](Feedback &fb) -> Expected<int> {
            started.release();
            while (!fb.isCancelled())
                QThread::msleep(2);
            return cancelledError();
        },
        this, [](Expected<int> &&) {});
    QVERIFY(started.tryAcquire(1, 10000));
    const QModelIndex cancel = tm.model()->index(0, TaskModel::CancelColumn);
    QCOMPARE(cancel.data().toString(), QStringLiteral("Cancel"));
    const QRect rect = dock.view()->visualRect(cancel);
    QVERIFY(rect.isValid());
    QTest::mouseClick(dock.view()->viewport(), Qt::LeftButton, {}, rect.center());
    QVERIFY(tm.waitForIdle(10000));
    QCOMPARE(tm.info(id)->state, TaskState::Cancelled);
}

void TestTasks::formatDuration_data()
{
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<QString>("text");
    QTest::newRow("zero") << qint64(0) << QStringLiteral("0:00");
    QTest::newRow("round-down") << qint64(1499) << QStringLiteral("0:01");
    QTest::newRow("round-up") << qint64(59500) << QStringLiteral("1:00");
    QTest::newRow("minutes") << qint64(754000) << QStringLiteral("12:34");
    QTest::newRow("hours") << qint64(3723000) << QStringLiteral("1:02:03");
    QTest::newRow("negative") << qint64(-5000) << QStringLiteral("0:00");
}

void TestTasks::formatDuration()
{
    QFETCH(qint64, ms);
    QFETCH(QString, text);
    QCOMPARE(keel::ui::formatDuration(ms), text);
}

QTEST_MAIN(TestTasks)
#include "tst_tasks.moc"
