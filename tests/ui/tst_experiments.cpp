// The Experiments area: run table layout (grouping, sorting, filtering) against hand-computed and brute-force
// orders, the event stream of `keel train --events`, the curves artifact, the child-process runner with fake
// runners (crash, ignored SIGTERM, config error), the New Run dialog generated from learner declarations, an end to
// end run trained from the dialog's code path in a child keel (table, run view, branch, compare, cancel), and the
// table at 10,000 runs (loaded, sorted and filtered to the computed answer; its speed is measured in bench/).
#include "compareview.h"
#include "emptystate.h"
#include "experimentsarea.h"
#include "mainwindow.h"
#include "ml/learners.h"
#include "ml/metrics.h"
#include "ml/training.h"
#include "newrundialog.h"
#include "rundetails.h"
#include "runcharts.h"
#include "runtablemodel.h"
#include "runview.h"
#include "taskmanager.h"
#include "trainingprocess.h"
#include "tracking/trackingstore.h"
#include "workspace/workspace.h"
#include "util/fileutil.h"
#include "workspacejobs.h"

#include <QtCharts/QChart>

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTreeView>
#include <QUuid>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

using namespace keel;
using namespace keel::ui;
using tracking::RunStatus;
using tracking::RunSummary;

namespace {

const QDateTime kEpoch(QDate(2024, 5, 1), QTime(12, 0), Qt::UTC);

/// A synthetic run for layout tests.
RunSummary run(const QString &id, const QString &experiment, int startSec, std::vector<std::pair<QString, QString>> params,
               std::vector<std::pair<QString, double>> metrics, const QString &sweep = {}, RunStatus status = RunStatus::Finished,
               int durationSec = 10)
{
    RunSummary s;
    s.run.id = id;
    s.run.name = id;
    s.run.experiment = experiment;
    s.run.start = kEpoch.addSecs(startSec);
    s.run.end = s.run.start.addSecs(durationSec);
    s.run.status = status;
    s.run.sweepId = sweep;
    s.run.parentRunId = sweep == id ? QString() : sweep;
    std::sort(params.begin(), params.end());
    std::sort(metrics.begin(), metrics.end());
    s.params = std::move(params);
    s.metrics = std::move(metrics);
    return s;
}

std::pair<QString, QString> p(const char *k, const QString &v) { return {QLatin1String(k), v}; }
std::pair<QString, double> acc(double v) { return {QStringLiteral("test.accuracy"), v}; }

/// The small set behind the hand-computed layouts (see layoutMatchesHandComputed_data).
std::shared_ptr<const RunSet> smallSet()
{
    const QString gbdt = QStringLiteral("gbdt");
    std::vector<RunSummary> runs;
    runs.push_back(run(QStringLiteral("a1"), QStringLiteral("alpha"), 1, {p("learner", gbdt), p("params.max_depth", QStringLiteral("6"))}, {acc(0.81)}));
    runs.push_back(run(QStringLiteral("a2"), QStringLiteral("alpha"), 2, {p("learner", QStringLiteral("ridge"))},
                       {{QStringLiteral("test.rmse"), 3.0}}, {}, RunStatus::Failed, 2));
    runs.push_back(run(QStringLiteral("a3"), QStringLiteral("alpha"), 3, {p("learner", gbdt), p("params.max_depth", QStringLiteral("10"))}, {acc(0.90)}));
    runs.push_back(run(QStringLiteral("s0"), QStringLiteral("alpha"), 4, {p("learner", gbdt)}, {acc(0.88)}, QStringLiteral("s0")));
    runs.push_back(run(QStringLiteral("t1"), QStringLiteral("alpha"), 5, {p("learner", gbdt), p("params.max_depth", QStringLiteral("2"))}, {acc(0.70)}, QStringLiteral("s0")));
    runs.push_back(run(QStringLiteral("t2"), QStringLiteral("alpha"), 6, {p("learner", gbdt), p("params.max_depth", QStringLiteral("4"))}, {acc(0.95)}, QStringLiteral("s0")));
    runs.push_back(run(QStringLiteral("b1"), QStringLiteral("beta"), 7, {p("learner", QStringLiteral("logistic"))}, {acc(0.85)}, {}, RunStatus::Finished, 30));
    runs.push_back(run(QStringLiteral("o1"), QStringLiteral("beta"), 8, {p("learner", gbdt)}, {acc(0.60)}, QStringLiteral("sx")));
    runs.push_back(run(QStringLiteral("o2"), QStringLiteral("beta"), 9, {p("learner", gbdt)}, {acc(0.65)}, QStringLiteral("sx")));
    return makeRunSet(QStringLiteral("/nowhere"), std::move(runs));
}

/// The tree as text: "experiment[child child(trial trial) ...]" in view order.
QString describe(const RunSet &set, const RunLayout &layout)
{
    std::function<QString(int)> node = [&](int n) -> QString {
        const RunNode &x = layout.nodes[size_t(n)];
        QString s = x.kind == RunNode::Kind::Run ? set.runs[size_t(x.run)].run.id
                  : x.kind == RunNode::Kind::Sweep ? QStringLiteral("sweep:") + x.label
                                                   : x.label;
        if (x.children.empty())
            return s;
        QStringList kids;
        for (int c : x.children)
            kids << node(c);
        const bool experiment = x.kind == RunNode::Kind::Experiment;
        return s + (experiment ? QStringLiteral("[") : QStringLiteral("(")) + kids.join(QLatin1Char(' '))
             + (experiment ? QStringLiteral("]") : QStringLiteral(")"));
    };
    QStringList top;
    for (int c : layout.nodes[0].children)
        top << node(c);
    return top.join(QLatin1Char(' '));
}

/// Run ids in the model's display order (depth first).
QStringList modelOrder(const QAbstractItemModel &m, const QModelIndex &parent = {})
{
    QStringList out;
    for (int r = 0; r < m.rowCount(parent); ++r) {
        const QModelIndex i = m.index(r, 0, parent);
        const QString id = i.data(RunTableModel::RunIdRole).toString();
        if (!id.isEmpty())
            out << id;
        out << modelOrder(m, i);
    }
    return out;
}

/// Writes an executable shell script standing in for the keel runner.
QString fakeRunner(const QTemporaryDir &dir, const QString &name, const QByteArray &body)
{
    const QString path = dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write("#!/bin/sh\n" + body);
    f.close();
    f.setPermissions(f.permissions() | QFileDevice::ExeOwner | QFileDevice::ExeUser);
    return path;
}

/// A tracking store with one running run; returns its id.
/// A workspace at `root` with one run recorded as running (as a child would leave it before dying).
QString runningRun(const QString &root)
{
    auto ws = QFile::exists(root + QStringLiteral("/keel.yaml")) ? workspace::Workspace::open(root)
                                                                 : workspace::Workspace::init(root);
    if (!ws)
        return {};
    auto store = (*ws)->tracking();
    if (!store)
        return {};
    auto id = (*store)->createRun({});
    return id ? *id : QString();
}

std::optional<tracking::RunRecord> readRun(const QString &root, const QString &id, QString *error = nullptr)
{
    auto store = tracking::TrackingStore::open(root + QStringLiteral("/.keel/keel.db"));
    if (!store)
        return std::nullopt;
    auto r = (*store)->run(id);
    if (!r)
        return std::nullopt;
    if (error) {
        auto tags = (*store)->tags(id);
        error->clear();
        if (tags)
            for (const auto &[k, v] : *tags)
                if (k == u"error")
                    *error = v;
    }
    return *r;
}

/// A dataset history with a schema, for the dialog (no workspace needed).
DatasetHistory dataset(const QString &name, int versions, const std::vector<data::Field> &schema)
{
    DatasetHistory h;
    h.name = name;
    for (int v = 1; v <= versions; ++v) {
        workspace::DatasetVersion dv;
        dv.record.name = name;
        dv.record.schema = schema;
        dv.version = v;
        h.versions.push_back(dv);
    }
    return h;
}

/// Processes events until `done` or the timeout; true when done.
bool waitUntil(const std::function<bool()> &done, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        if (clock.elapsed() > timeoutMs)
            return false;
        QTest::qWait(20);
    }
    return true;
}

} // namespace

class TestExperiments : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void layoutMatchesHandComputed_data();
    void layoutMatchesHandComputed();
    void layoutMatchesBruteForce_data();
    void layoutMatchesBruteForce();
    void modelPassesTester();
    void columnIdsRoundTrip();
    void trainingEvents_data();
    void trainingEvents();
    void evaluationCurves();
    void multiclassEvaluation();
    void runnerCrashIsRecorded();
    void runnerIgnoringTermIsKilled();
    void runnerConfigErrorBeforeRun();
    void dialogFormFollowsLearnerDeclarations();
    void dialogValidatesByField();
    void dialogBranchKeepsRecipe();
    void trainFromDialogEndToEnd();
    void tenThousandRuns();

private:
    QTemporaryDir m_tmp;
};

void TestExperiments::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    qputenv("KEEL_BINARY", QByteArray(KEEL_BINARY));
    QVERIFY2(QFileInfo(QStringLiteral(KEEL_BINARY)).isExecutable(), KEEL_BINARY);
}

// ---- layout ----

void TestExperiments::layoutMatchesHandComputed_data()
{
    QTest::addColumn<QString>("column");
    QTest::addColumn<int>("order");
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<int>("shown");
    const int asc = Qt::AscendingOrder, desc = Qt::DescendingOrder;
    // Missing accuracy (a2) is last in both orders; the orphan trials of sweep sx sort by their first trial.
    QTest::newRow("accuracy descending") << "metric:test.accuracy" << desc << ""
                                         << "alpha[a3 s0(t2 t1) a1 a2] beta[b1 sweep:sx(o2 o1)]" << 9;
    QTest::newRow("accuracy ascending") << "metric:test.accuracy" << asc << ""
                                        << "alpha[a1 s0(t1 t2) a3 a2] beta[sweep:sx(o1 o2) b1]" << 9;
    QTest::newRow("started newest first") << "started" << desc << ""
                                          << "alpha[s0(t2 t1) a3 a2 a1] beta[sweep:sx(o2 o1) b1]" << 9;
    // A sweep's run shows when one of its trials matches.
    QTest::newRow("accuracy above 0.9") << "metric:test.accuracy" << desc << "test.accuracy > 0.9" << "alpha[s0(t2)]" << 2;
    QTest::newRow("accuracy at least 0.9") << "metric:test.accuracy" << desc << "test.accuracy >= 0.9" << "alpha[a3 s0(t2)]" << 3;
    // Numeric params compare as numbers: 10 >= 6 although "10" < "6" as text.
    QTest::newRow("param without prefix") << "name" << asc << "max_depth >= 6" << "alpha[a1 a3]" << 2;
    QTest::newRow("param equals") << "name" << asc << "learner = logistic" << "beta[b1]" << 1;
    QTest::newRow("param differs") << "name" << asc << "learner != gbdt" << "alpha[a2] beta[b1]" << 2;
    QTest::newRow("free text in a param value") << "name" << asc << "RIDGE" << "alpha[a2]" << 1;
    QTest::newRow("experiment") << "name" << desc << "experiment = beta" << "beta[sweep:sx(o2 o1) b1]" << 3;
    QTest::newRow("status") << "name" << asc << "status = failed" << "alpha[a2]" << 1;
    QTest::newRow("duration in seconds") << "name" << asc << "duration > 20" << "beta[b1]" << 1;
    QTest::newRow("nothing matches") << "name" << asc << "no such run" << "" << 0;
    QTest::newRow("name sorts case-insensitively") << "name" << asc << "" << "alpha[a1 a2 a3 s0(t1 t2)] beta[b1 sweep:sx(o1 o2)]" << 9;
}

void TestExperiments::layoutMatchesHandComputed()
{
    QFETCH(QString, column);
    QFETCH(int, order);
    QFETCH(QString, filter);
    QFETCH(QString, expected);
    QFETCH(int, shown);
    const auto set = smallSet();
    const auto c = RunColumn::fromId(column);
    QVERIFY(c);
    auto layout = layoutRuns(*set, *c, Qt::SortOrder(order), RunFilter{filter});
    QVERIFY2(layout, qPrintable(layout.message()));
    QCOMPARE(describe(*set, **layout), expected);
    QCOMPARE((*layout)->shownRuns, shown);
    QCOMPARE((*layout)->totalRuns, 9);
    // nodeOfRun points back at each shown run's node.
    for (size_t i = 0; i < set->runs.size(); ++i) {
        const int n = (*layout)->nodeOfRun[i];
        if (n >= 0)
            QCOMPARE((*layout)->nodes[size_t(n)].run, int(i));
    }
}

void TestExperiments::layoutMatchesBruteForce_data()
{
    QTest::addColumn<QString>("column");
    QTest::addColumn<int>("order");
    QTest::addColumn<QString>("filter");
    QTest::newRow("accuracy desc, all") << "metric:test.accuracy" << int(Qt::DescendingOrder) << "";
    QTest::newRow("accuracy asc, accuracy > 0.5") << "metric:test.accuracy" << int(Qt::AscendingOrder) << "test.accuracy > 0.5";
    QTest::newRow("max_depth asc, learner = gbdt") << "param:params.max_depth" << int(Qt::AscendingOrder) << "learner = gbdt";
    QTest::newRow("max_depth desc, max_depth <= 4") << "param:params.max_depth" << int(Qt::DescendingOrder) << "max_depth <= 4";
}

void TestExperiments::layoutMatchesBruteForce()
{
    QFETCH(QString, column);
    QFETCH(int, order);
    QFETCH(QString, filter);
    // 3,000 runs in 5 experiments, with missing and NaN accuracies and missing depths.
    std::mt19937_64 rng(7);
    const QStringList learners = {QStringLiteral("gbdt"), QStringLiteral("ridge"), QStringLiteral("logistic")};
    std::vector<RunSummary> runs;
    struct Truth {
        QString experiment, learner;
        std::optional<double> accuracy;   // NaN kept as NaN
        std::optional<int> depth;
    };
    std::vector<Truth> truth;
    for (int i = 0; i < 3000; ++i) {
        Truth t;
        t.experiment = QStringLiteral("exp%1").arg(rng() % 5);
        t.learner = learners[int(rng() % 3)];
        const int a = int(rng() % 100);
        if (a < 90)
            t.accuracy = double(rng() % 1000) / 1000.0;
        else if (a < 95)
            t.accuracy = std::nan("");
        if (rng() % 4 != 0)
            t.depth = int(rng() % 12) + 1;
        std::vector<std::pair<QString, QString>> params = {p("learner", t.learner)};
        if (t.depth)
            params.push_back(p("params.max_depth", QString::number(*t.depth)));
        std::vector<std::pair<QString, double>> metrics;
        if (t.accuracy)
            metrics.push_back(acc(*t.accuracy));
        runs.push_back(run(QStringLiteral("r%1").arg(i, 4, 10, QLatin1Char('0')), t.experiment, i, params, metrics));
        truth.push_back(t);
    }
    const auto set = makeRunSet(QString(), std::move(runs));

    // The expected order, computed from the truth table directly.
    const bool byAccuracy = column.startsWith(QLatin1String("metric:"));
    const auto matches = [&](const Truth &t) {
        if (filter.isEmpty())
            return true;
        if (filter == u"test.accuracy > 0.5")
            return t.accuracy && !std::isnan(*t.accuracy) && *t.accuracy > 0.5;
        if (filter == u"learner = gbdt")
            return t.learner == u"gbdt";
        if (filter == u"max_depth <= 4")
            return t.depth && *t.depth <= 4;
        return false;
    };
    const auto key = [&](int i) -> std::optional<double> {
        if (byAccuracy)
            return truth[size_t(i)].accuracy && !std::isnan(*truth[size_t(i)].accuracy) ? truth[size_t(i)].accuracy : std::nullopt;
        return truth[size_t(i)].depth ? std::optional<double>(*truth[size_t(i)].depth) : std::nullopt;
    };
    QStringList expected;
    for (int e = 0; e < 5; ++e) {
        std::vector<int> members;
        for (int i = 0; i < int(truth.size()); ++i)
            if (truth[size_t(i)].experiment == QStringLiteral("exp%1").arg(e) && matches(truth[size_t(i)]))
                members.push_back(i);
        std::vector<int> present, missing;
        for (int i : members)
            (key(i) ? present : missing).push_back(i);
        std::stable_sort(present.begin(), present.end(), [&](int a, int b) {
            return order == Qt::AscendingOrder ? *key(a) < *key(b) : *key(a) > *key(b);
        });
        for (int i : present)
            expected << QStringLiteral("r%1").arg(i, 4, 10, QLatin1Char('0'));
        for (int i : missing)
            expected << QStringLiteral("r%1").arg(i, 4, 10, QLatin1Char('0'));
    }
    auto layout = layoutRuns(*set, *RunColumn::fromId(column), Qt::SortOrder(order), RunFilter{filter});
    QVERIFY(layout);
    RunTableModel model;
    model.setColumns(defaultRunColumns(*set));
    model.setRuns(set, *layout);
    const QStringList got = modelOrder(model);
    QCOMPARE(got.size(), expected.size());
    QCOMPARE(got, expected);
    QCOMPARE((*layout)->shownRuns, int(expected.size()));
}

void TestExperiments::modelPassesTester()
{
    const auto set = smallSet();
    RunTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setColumns(defaultRunColumns(*set));
    model.setRuns(set, *layoutRuns(*set, RunColumn{RunColumn::Kind::Name, {}}, Qt::AscendingOrder, {}));
    model.setLayout(*layoutRuns(*set, RunColumn{RunColumn::Kind::Started, {}}, Qt::DescendingOrder, RunFilter{QStringLiteral("gbdt")}));
    model.setColumns({RunColumn{RunColumn::Kind::Name, {}}, RunColumn{RunColumn::Kind::Metric, QStringLiteral("test.accuracy")}});
    // Cells: the metric formatted, the sweep's run names its trials, group rows count their runs.
    const QModelIndex a3 = model.indexOfRun(QStringLiteral("a3"));
    QVERIFY(a3.isValid());
    QCOMPARE(a3.siblingAtColumn(1).data().toString(), QStringLiteral("0.9"));
    QCOMPARE(model.indexOfRun(QStringLiteral("s0")).data().toString(), QStringLiteral("s0  (sweep, 2 trials)"));
    QCOMPARE(model.indexOfExperiment(QStringLiteral("alpha")).data().toString(), QStringLiteral("alpha \u2014 5 runs"));
    QVERIFY(!model.indexOfRun(QStringLiteral("a2")).isValid());   // filtered out (ridge)
    QCOMPARE(model.runAt(a3)->run.id, QStringLiteral("a3"));
    QVERIFY(!model.runAt(model.indexOfExperiment(QStringLiteral("alpha"))));
    // A sweep's run without its own value shows (and sorts by) its best trial's.
    std::vector<RunSummary> sweep;
    sweep.push_back(run(QStringLiteral("sw"), QStringLiteral("s"), 1, {}, {{QStringLiteral("best.test.accuracy"), 0.97}}, QStringLiteral("sw")));
    sweep.push_back(run(QStringLiteral("tr"), QStringLiteral("s"), 2, {}, {acc(0.97)}, QStringLiteral("sw")));
    sweep.push_back(run(QStringLiteral("lone"), QStringLiteral("s"), 3, {}, {acc(0.5)}));
    const auto sweepSet = makeRunSet({}, std::move(sweep));
    QCOMPARE(*sweepSet->metric(0, QStringLiteral("test.accuracy")), 0.97);
    QVERIFY(!sweepSet->metric(2, QStringLiteral("best.test.accuracy")));
    auto sweepLayout = layoutRuns(*sweepSet, RunColumn{RunColumn::Kind::Metric, QStringLiteral("test.accuracy")},
                                  Qt::DescendingOrder, RunFilter{QStringLiteral("test.accuracy > 0.9")});
    QCOMPARE(describe(*sweepSet, **sweepLayout), QStringLiteral("s[sw(tr)]"));
    // Default columns: name, status, the headline metrics present, learner (data is absent here), start, duration.
    QStringList ids;
    for (const RunColumn &c : defaultRunColumns(*set))
        ids << c.id();
    QCOMPARE(ids, (QStringList{QStringLiteral("name"), QStringLiteral("status"), QStringLiteral("metric:test.accuracy"),
                               QStringLiteral("metric:test.rmse"), QStringLiteral("param:learner"), QStringLiteral("started"),
                               QStringLiteral("duration")}));
}

void TestExperiments::columnIdsRoundTrip()
{
    for (const RunColumn &c : runFieldColumns())
        QCOMPARE(*RunColumn::fromId(c.id()), c);
    const RunColumn param{RunColumn::Kind::Param, QStringLiteral("params.max_depth")};
    QCOMPARE(*RunColumn::fromId(param.id()), param);
    QCOMPARE(param.title(), QStringLiteral("max_depth"));
    const RunColumn metric{RunColumn::Kind::Metric, QStringLiteral("test.roc_auc")};
    QCOMPARE(*RunColumn::fromId(metric.id()), metric);
    QVERIFY(!RunColumn::fromId(QStringLiteral("param:")));
    QVERIFY(!RunColumn::fromId(QStringLiteral("bogus")));
}

// ---- events and curves ----

void TestExperiments::trainingEvents_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("text");      // run id, stage, key or message
    QTest::addColumn<double>("number");     // done, value or a final metric
    using K = TrainingEvent::Kind;
    QTest::newRow("started") << QByteArray(R"({"event":"started","run":"r1","experiment":"adult"})") << true << int(K::Started) << "r1" << 0.0;
    QTest::newRow("progress") << QByteArray(R"({"event":"progress","stage":"train","done":12,"total":200})") << true << int(K::Progress) << "train" << 12.0;
    QTest::newRow("metric") << QByteArray(R"({"event":"metric","key":"curve.validation.logloss","step":12,"value":0.31})") << true << int(K::Metric) << "curve.validation.logloss" << 0.31;
    QTest::newRow("metric NaN as null") << QByteArray(R"({"event":"metric","key":"train.rmse","step":1,"value":null})") << true << int(K::Metric) << "train.rmse" << std::nan("");
    QTest::newRow("finished") << QByteArray(R"({"event":"finished","run":"r1","metrics":{"test.accuracy":0.87}})") << true << int(K::Finished) << "r1" << 0.87;
    QTest::newRow("failed") << QByteArray(R"({"event":"failed","run":"r1","message":"cancelled"})") << true << int(K::Failed) << "cancelled" << 0.0;
    QTest::newRow("not JSON") << QByteArray("progress 12/200") << false << 0 << "" << 0.0;
    QTest::newRow("array") << QByteArray("[1,2]") << false << 0 << "" << 0.0;
    QTest::newRow("unknown event") << QByteArray(R"({"event":"paused"})") << false << 0 << "" << 0.0;
    QTest::newRow("started without run") << QByteArray(R"({"event":"started"})") << false << 0 << "" << 0.0;
    QTest::newRow("metric without value") << QByteArray(R"({"event":"metric","key":"a","step":1})") << false << 0 << "" << 0.0;
    QTest::newRow("metric with text value") << QByteArray(R"({"event":"metric","key":"a","step":1,"value":"x"})") << false << 0 << "" << 0.0;
}

void TestExperiments::trainingEvents()
{
    QFETCH(QByteArray, line);
    QFETCH(bool, ok);
    QFETCH(int, kind);
    QFETCH(QString, text);
    QFETCH(double, number);
    auto e = parseTrainingEvent(line);
    QCOMPARE(e.hasValue(), ok);
    if (!ok)
        return;
    QCOMPARE(int(e->kind), kind);
    const auto same = [](double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; };
    switch (e->kind) {
    case TrainingEvent::Kind::Started: QCOMPARE(e->runId, text); QCOMPARE(e->experiment, QStringLiteral("adult")); break;
    case TrainingEvent::Kind::Progress: QCOMPARE(e->stage, text); QCOMPARE(double(e->done), number); QCOMPARE(e->total, qint64(200)); break;
    case TrainingEvent::Kind::Metric: QCOMPARE(e->key, text); QVERIFY(same(e->value, number)); break;
    case TrainingEvent::Kind::Finished: QCOMPARE(e->runId, text); QCOMPARE(e->metrics.value(QStringLiteral("test.accuracy")).toDouble(), number); break;
    case TrainingEvent::Kind::Failed: QCOMPARE(e->message, text); break;
    }
}

void TestExperiments::evaluationCurves()
{
    const QJsonObject o{
        {QStringLiteral("classes"), QJsonArray{QStringLiteral("<=50K"), QStringLiteral(">50K")}},
        {QStringLiteral("confusion_matrix"), QJsonArray{QJsonArray{90, 10}, QJsonArray{20, 30}}},
        {QStringLiteral("roc"), QJsonObject{{QStringLiteral("fpr"), QJsonArray{0, 0.5, 1}}, {QStringLiteral("tpr"), QJsonArray{0, 0.8, 1}}}},
        {QStringLiteral("pr"), QJsonObject{{QStringLiteral("recall"), QJsonArray{0, 1}}, {QStringLiteral("precision"), QJsonArray{1, 0.3}}}},
        {QStringLiteral("calibration"), QJsonObject{{QStringLiteral("predicted"), QJsonArray{0.1, 0.9}},
                                                    {QStringLiteral("observed"), QJsonArray{0.15, 0.8}},
                                                    {QStringLiteral("count"), QJsonArray{70, 80}}}}};
    auto c = parseEvaluationCurves(QJsonDocument(o).toJson());
    QVERIFY2(c, qPrintable(c.message()));
    QCOMPARE(c->classes, (QStringList{QStringLiteral("<=50K"), QStringLiteral(">50K")}));
    QCOMPARE(c->confusion, (std::vector<std::vector<qint64>>{{90, 10}, {20, 30}}));
    QCOMPARE(c->rocTpr, (std::vector<double>{0, 0.8, 1}));
    QCOMPARE(c->calibrationCount, (std::vector<qint64>{70, 80}));
    QVERIFY(c->isBinary());

    // The widget's cells: share of the actual class's row and count, the mode's number first.
    ConfusionMatrixWidget w;
    w.resize(600, 500);
    w.setMatrix(c->classes, c->confusion);
    QCOMPARE(w.cellText(1, 0), QStringLiteral("40%\n20"));
    QCOMPARE(w.cellText(0, 1), QStringLiteral("10%\n10"));
    w.setMode(ConfusionMatrixWidget::Mode::Counts);
    QCOMPARE(w.cellText(0, 0), QStringLiteral("90\n90%"));
    QCOMPARE(w.cellDescription(1, 0), QStringLiteral("actual >50K, predicted <=50K: 20 of 50 rows (40.0%)"));
    QCOMPARE(describeConfusions(c->classes, c->confusion, 5),
             (QStringList{QStringLiteral("20 of 50 actual >50K (40.0%) predicted as <=50K"),
                          QStringLiteral("10 of 100 actual <=50K (10.0%) predicted as >50K")}));

    QJsonObject ragged = o;
    ragged[QStringLiteral("confusion_matrix")] = QJsonArray{QJsonArray{1, 2}, QJsonArray{3}};
    auto bad = parseEvaluationCurves(QJsonDocument(ragged).toJson());
    QVERIFY(!bad);
    QCOMPARE(bad.error().field, QStringLiteral("confusion_matrix"));
    QJsonObject uneven = o;
    uneven[QStringLiteral("roc")] = QJsonObject{{QStringLiteral("fpr"), QJsonArray{0, 1}}, {QStringLiteral("tpr"), QJsonArray{0}}};
    auto bad2 = parseEvaluationCurves(QJsonDocument(uneven).toJson());
    QVERIFY(!bad2);
    QCOMPARE(bad2.error().field, QStringLiteral("roc"));
    QJsonObject classes = o;
    classes[QStringLiteral("classes")] = QJsonArray{QStringLiteral("a")};
    QVERIFY(!parseEvaluationCurves(QJsonDocument(classes).toJson()));
    // Multiclass with a matrix only (runs trained before one-vs-rest curves were recorded).
    auto multi = parseEvaluationCurves(R"({"classes":["a","b","c"],"confusion_matrix":[[1,0,0],[0,2,0],[0,0,3]]})");
    QVERIFY(multi);
    QVERIFY(!multi->isBinary());
    QVERIFY(!multi->isMulticlass());
    auto tag = parseConfusionMatrix(QStringLiteral("[[5,1],[2,7]]"));
    QVERIFY(tag);
    QCOMPARE((*tag)[1][1], qint64(7));
    QVERIFY(!parseConfusionMatrix(QStringLiteral("[[5,-1],[2,7]]")));
}

// 50 classes whose labels differ only in case ("c0"/"C0", ...): the curves artifact from core round-trips with every
// class's one-vs-rest curve and AUC, and the matrix stays usable: cells scroll at the minimum zoom, text only where it
// fits, the hover names the exact classes.
void TestExperiments::multiclassEvaluation()
{
    const int k = 50;
    ml::Target target;
    target.task = ml::Task::MulticlassClassification;
    for (int i = 0; i < k / 2; ++i)
        target.classes << QStringLiteral("c%1").arg(i) << QStringLiteral("C%1").arg(i);
    std::vector<double> probabilities;
    for (int r = 0; r < 2000; ++r) {
        const int y = (r * 7) % k;
        target.values.push_back(y);
        // Mostly right; every fifth row leans to the class with the other case.
        const int lean = (r / 50) % 5 == 0 ? (y ^ 1) : y;
        double sum = 0;
        std::vector<double> p(static_cast<size_t>(k));
        for (int j = 0; j < k; ++j)
            sum += p[size_t(j)] = (j == lean ? 5.0 : 0.0) + (j == y ? 2.0 : 0.0) + double((r * 13 + j * 7) % 11) / 11.0;
        for (double v : p)
            probabilities.push_back(v / sum);
    }
    const QByteArray json = QJsonDocument(ml::curvesJson(target, probabilities, k)).toJson(QJsonDocument::Compact);
    auto c = parseEvaluationCurves(json);
    QVERIFY2(c, qPrintable(c.message()));
    QVERIFY(c->isMulticlass());
    QCOMPARE(c->classes, target.classes);
    QCOMPARE(int(c->perClass.size()), k);
    const ml::OneVsRest ovr = ml::oneVsRest(target.values, probabilities, k);
    for (int j = 0; j < k; ++j) {
        QCOMPARE(c->perClass[size_t(j)].rocAuc, ovr.classes[size_t(j)].rocAuc);
        QCOMPARE(c->perClass[size_t(j)].support, qint64(40));
        QVERIFY(!c->perClass[size_t(j)].rocFpr.empty());
        QVERIFY(!c->perClass[size_t(j)].calibrationPredicted.empty());
    }
    QCOMPARE(c->rocAucMacro, ovr.rocAucMacro);
    QCOMPARE(c->prAucMicro, ovr.averagePrecisionMicro);
    QVERIFY(!c->micro.rocFpr.empty());
    // A malformed per-class entry is named.
    QJsonObject broken = QJsonDocument::fromJson(json).object();
    QJsonObject o = broken.value(QStringLiteral("one_vs_rest")).toObject();
    QJsonArray classes = o.value(QStringLiteral("classes")).toArray();
    QJsonObject third = classes[3].toObject();
    third[QStringLiteral("roc")] = QJsonObject{{QStringLiteral("fpr"), QJsonArray{0, 1}}, {QStringLiteral("tpr"), QJsonArray{0}}};
    classes[3] = third;
    o[QStringLiteral("classes")] = classes;
    broken[QStringLiteral("one_vs_rest")] = o;
    auto bad = parseEvaluationCurves(QJsonDocument(broken).toJson());
    QVERIFY(!bad);
    QCOMPARE(bad.error().field, QStringLiteral("one_vs_rest.classes[3].roc"));

    ConfusionMatrixWidget w;
    w.setMatrix(c->classes, c->confusion);
    w.resize(800, 600);
    w.setZoom(8);
    QVERIFY(w.cellSize() >= 8);
    QVERIFY(w.cellSize() * k < 600);                              // at the smallest zoom 50 classes fill the widget
    QVERIFY(w.minimumSizeHint().width() >= 8 * k);
    QVERIFY(w.cellText(0, 0).isEmpty());                          // "80%" does not fit in an 8-pixel cell
    QCOMPARE(c->confusion[0][1], qint64(8));                      // every fifth row of c0 leans to C0
    QVERIFY(w.cellDescription(0, 1).startsWith(QStringLiteral("actual c0, predicted C0: 8 of 40 rows")));
    QVERIFY(w.cellDescription(1, 0).startsWith(QStringLiteral("actual C0, predicted c0: 8 of 40 rows")));
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    const int cell = w.cellSize();
    // The cell under a point: find the grid's origin from cell (0, 0) by scanning the first pixels.
    QPoint origin(-1, -1);
    for (int y = 0; y < w.height() && origin.x() < 0; ++y)
        for (int x = 0; x < w.width(); ++x)
            if (w.cellAt(QPoint(x, y)) == QPoint(0, 0)) {
                origin = QPoint(x, y);
                break;
            }
    QVERIFY(origin.x() >= 0);
    QCOMPARE(w.cellAt(origin + QPoint(7 * cell + cell / 2, 3 * cell + cell / 2)), QPoint(3, 7));
    QCOMPARE(w.cellAt(QPoint(0, 0)), QPoint(-1, -1));
    w.setZoom(20);
    QVERIFY(w.minimumSizeHint().height() > 1000);                 // larger cells: the scroll area scrolls
    w.setZoom(60);
    QVERIFY(w.minimumSizeHint().width() >= 60 * k);
    w.resize(w.minimumSizeHint());
    QCOMPARE(w.cellText(0, 0), QStringLiteral("80%\n32"));
    const QStringList words = describeConfusions(c->classes, c->confusion, 3);
    QCOMPARE(words.size(), 3);
    QCOMPARE(words.front(), QStringLiteral("8 of 40 actual c0 (20.0%) predicted as C0"));
}

// ---- the child runner ----

void TestExperiments::runnerCrashIsRecorded()
{
    QTemporaryDir dir;
    const QString id = runningRun(dir.path());
    QVERIFY(!id.isEmpty());
    // Reports the run, one curve point, then dies of SIGSEGV without a final event.
    const QString runner = fakeRunner(dir, QStringLiteral("crash.sh"),
                                      "echo '{\"event\":\"started\",\"run\":\"" + id.toUtf8() + "\",\"experiment\":\"x\"}'\n"
                                      "echo '{\"event\":\"metric\",\"key\":\"train.rmse\",\"step\":0,\"value\":2.5}'\n"
                                      "echo 'segfault here' >&2\nkill -SEGV $$\n");
    std::vector<TrainingEvent> events;
    auto out = runTrainingProcess({dir.path(), QStringLiteral("c.yaml"), {}, runner}, nullptr,
                                  [&](const TrainingEvent &e) { events.push_back(e); });
    QVERIFY2(out, qPrintable(out.message()));
    QCOMPARE(out->runId, id);
    QCOMPARE(out->status, RunStatus::Failed);
    QCOMPARE(out->exitCode, -1);
    QVERIFY2(out->message.contains(QStringLiteral("crashed")), qPrintable(out->message));
    QVERIFY(out->message.contains(QStringLiteral("segfault here")));
    QCOMPARE(events.size(), size_t(3));   // started, metric, and the synthesized failure
    QCOMPARE(events[1].value, 2.5);
    QCOMPARE(events[2].kind, TrainingEvent::Kind::Failed);
    QString error;
    const auto r = readRun(dir.path(), id, &error);
    QVERIFY(r);
    QCOMPARE(r->status, RunStatus::Failed);
    QCOMPARE(error, out->message);
}

void TestExperiments::runnerIgnoringTermIsKilled()
{
    QTemporaryDir dir;
    const QString id = runningRun(dir.path());
    // Ignores SIGTERM: cancel must escalate to a kill after the grace period, and the run is recorded as killed.
    const QString runner = fakeRunner(dir, QStringLiteral("stubborn.sh"),
                                      "trap '' TERM\n"
                                      "echo '{\"event\":\"started\",\"run\":\"" + id.toUtf8() + "\",\"experiment\":\"x\"}'\n"
                                      "while true; do sleep 0.05; done\n");
    Feedback feedback;
    QElapsedTimer clock;
    clock.start();
    auto out = runTrainingProcess({dir.path(), QStringLiteral("c.yaml"), {}, runner}, &feedback,
                                  [&](const TrainingEvent &e) {
                                      if (e.kind == TrainingEvent::Kind::Started)
                                          feedback.cancel();
                                  },
                                  300);
    QVERIFY(out);
    QCOMPARE(out->status, RunStatus::Killed);
    QCOMPARE(out->message, QStringLiteral("cancelled"));
    QVERIFY(clock.elapsed() >= 300);
    const auto r = readRun(dir.path(), id);
    QVERIFY(r);
    QCOMPARE(r->status, RunStatus::Killed);

    // A runner that reports its own end keeps the status it recorded (nothing is overwritten).
    const QString done = runningRun(dir.path());
    const QString polite = fakeRunner(dir, QStringLiteral("polite.sh"),
                                      "echo '{\"event\":\"started\",\"run\":\"" + done.toUtf8() + "\"}'\n"
                                      "echo '{\"event\":\"finished\",\"run\":\"" + done.toUtf8() + "\",\"metrics\":{\"test.r2\":0.5}}'\n");
    auto ok = runTrainingProcess({dir.path(), QStringLiteral("c.yaml"), {}, polite}, nullptr, {});
    QVERIFY(ok);
    QCOMPARE(ok->status, RunStatus::Finished);
    QCOMPARE(ok->metrics.value(QStringLiteral("test.r2")).toDouble(), 0.5);
    QCOMPARE(ok->exitCode, 0);
    QCOMPARE(readRun(dir.path(), done)->status, RunStatus::Running);   // the fake did not record it; we do not either
}

void TestExperiments::runnerConfigErrorBeforeRun()
{
    QTemporaryDir dir;
    const QString runner = fakeRunner(dir, QStringLiteral("bad.sh"),
                                      "echo \"keel: $4:3: field 'target': is required\" >&2\nexit 1\n");
    auto out = runTrainingProcess({dir.path(), QStringLiteral("cfg.yaml"), QStringLiteral("parent-1"), runner}, nullptr, {});
    QVERIFY(out);
    QVERIFY(out->runId.isEmpty());
    QCOMPARE(out->status, RunStatus::Failed);
    QCOMPARE(out->exitCode, 1);
    // The runner's own message, with the config path it was given as the fourth argument.
    QCOMPARE(out->message, QStringLiteral("cfg.yaml:3: field 'target': is required"));
    // No runner at all.
    auto missing = runTrainingProcess({dir.path(), QStringLiteral("cfg.yaml"), {}, dir.filePath(QStringLiteral("nope"))}, nullptr, {});
    QVERIFY(!missing);
}

// ---- the New Run dialog ----

void TestExperiments::dialogFormFollowsLearnerDeclarations()
{
    QTemporaryDir root;
    const std::vector<data::Field> schema = {{QStringLiteral("age"), data::ColumnType::Int64},
                                             {QStringLiteral("income"), data::ColumnType::Float64},
                                             {QStringLiteral("label"), data::ColumnType::Categorical}};
    NewRunDialog dialog(root.path(), {dataset(QStringLiteral("people"), 2, schema)}, {});
    for (const ml::Learner *learner : ml::allLearners()) {
        QVERIFY(dialog.setLearner(learner->name()));
        for (const ml::ParamSpec &spec : learner->params()) {
            QWidget *w = dialog.fieldWidget(QStringLiteral("params.") + spec.name);
            QVERIFY2(w, qPrintable(spec.name));
            QVERIFY(w->toolTip().startsWith(spec.help));
            switch (spec.type) {
            case ml::ParamSpec::Type::Int:
                if (auto *s = qobject_cast<QSpinBox *>(w)) {
                    QCOMPARE(double(s->minimum()), spec.min);
                    QCOMPARE(double(s->maximum()), spec.max);
                } else {
                    QVERIFY(qobject_cast<QDoubleSpinBox *>(w));
                }
                QCOMPARE(dialog.paramValue(spec.name).toLongLong(), spec.defaultValue.toLongLong());
                break;
            case ml::ParamSpec::Type::Double: {
                auto *s = qobject_cast<QDoubleSpinBox *>(w);
                QVERIFY(s);
                if (std::isfinite(spec.min))
                    QCOMPARE(s->minimum(), spec.min);
                if (std::isfinite(spec.max))
                    QCOMPARE(s->maximum(), spec.max);
                QCOMPARE(dialog.paramValue(spec.name).toDouble(), spec.defaultValue.toDouble());
                break;
            }
            case ml::ParamSpec::Type::Bool:
                QVERIFY(qobject_cast<QCheckBox *>(w));
                QCOMPARE(dialog.paramValue(spec.name).toBool(), spec.defaultValue.toBool());
                break;
            case ml::ParamSpec::Type::Choice: {
                auto *c = qobject_cast<QComboBox *>(w);
                QVERIFY(c);
                QStringList items;
                for (int i = 0; i < c->count(); ++i)
                    items << c->itemText(i);
                QCOMPARE(items, spec.choices);
                break;
            }
            }
            // Out-of-range values do not get in.
            if (spec.type == ml::ParamSpec::Type::Int && std::isfinite(spec.max))
                QVERIFY(!dialog.setParam(spec.name, spec.max + 1));
        }
    }
    // The generated text reads back as the form says: only non-default params are written.
    QVERIFY(dialog.setLearner(QStringLiteral("gbdt")));
    QVERIFY(dialog.setDataset(QStringLiteral("people"), 1));
    QVERIFY(dialog.setTarget(QStringLiteral("label")));
    QVERIFY(dialog.setParam(QStringLiteral("max_depth"), 3));
    QVERIFY(dialog.setParam(QStringLiteral("learning_rate"), 0.05));
    dialog.setExperiment(QStringLiteral("exp one"));
    auto config = ml::TrainingConfig::fromYaml(dialog.configText(), QStringLiteral("dialog"));
    QVERIFY2(config, qPrintable(config.message()));
    QCOMPARE(config->experiment, QStringLiteral("exp one"));
    QCOMPARE(config->data, QStringLiteral("people@v1"));
    QCOMPARE(config->recipe.target, QStringLiteral("label"));
    QCOMPARE(config->learner, QStringLiteral("gbdt"));
    QCOMPARE(config->params.value(QStringLiteral("max_depth")).toLongLong(), 3LL);
    QCOMPARE(config->params.value(QStringLiteral("learning_rate")).toDouble(), 0.05);
    QVERIFY(!dialog.configText().contains(QStringLiteral("n_estimators")));
    QVERIFY(dialog.setDataset(QStringLiteral("people"), 0));
    QCOMPARE(ml::TrainingConfig::fromYaml(dialog.configText(), QStringLiteral("dialog"))->data, QStringLiteral("people"));
    QVERIFY(!dialog.setDataset(QStringLiteral("people"), 3));
}

void TestExperiments::dialogValidatesByField()
{
    QTemporaryDir root;
    const std::vector<data::Field> schema = {{QStringLiteral("when"), data::ColumnType::Datetime},
                                             {QStringLiteral("price"), data::ColumnType::Float64},
                                             {QStringLiteral("label"), data::ColumnType::Categorical}};
    const std::vector<data::Field> noTime = {{QStringLiteral("label"), data::ColumnType::Categorical}};
    NewRunDialog dialog(root.path(), {dataset(QStringLiteral("sales"), 1, schema), dataset(QStringLiteral("tiny"), 1, noTime)}, {});
    QVERIFY(dialog.setDataset(QStringLiteral("sales")));
    QVERIFY(dialog.setTarget(QStringLiteral("price")));
    QVERIFY(dialog.setLearner(QStringLiteral("ridge")));
    QVERIFY2(dialog.validate(), qPrintable(dialog.errorText()));

    // A classifier on a numeric target: the error sits at the learner field.
    QVERIFY(dialog.setLearner(QStringLiteral("logistic")));
    QVERIFY(!dialog.validate());
    QVERIFY2(dialog.fieldError(QStringLiteral("learner")).contains(QStringLiteral("regression")), qPrintable(dialog.errorText()));
    QVERIFY(dialog.setLearner(QStringLiteral("gbdt")));
    QVERIFY(dialog.validate());

    // A bad file name, then an existing file: never overwritten.
    dialog.setFileName(QStringLiteral("../escape"));
    QVERIFY(!dialog.validate());
    QVERIFY(!dialog.fieldError(QStringLiteral("file")).isEmpty());
    dialog.setFileName(QStringLiteral("taken"));
    QVERIFY(QDir().mkpath(root.filePath(QStringLiteral("configs"))));
    QVERIFY(writeFileAtomic(root.filePath(QStringLiteral("configs/taken.yaml")), "keep me\n"));
    auto refused = dialog.submit();
    QVERIFY(!refused);
    QVERIFY(dialog.fieldError(QStringLiteral("file")).contains(QStringLiteral("already exists")));
    QCOMPARE(*readFile(root.filePath(QStringLiteral("configs/taken.yaml"))), QByteArray("keep me\n"));

    // Accepted: written where configPath() says, exactly the previewed text.
    dialog.setFileName(QStringLiteral("fresh"));
    auto request = dialog.submit();
    QVERIFY2(request, qPrintable(request.message()));
    QCOMPARE(request->configPath, root.filePath(QStringLiteral("configs/fresh.yaml")));
    QCOMPARE(QString::fromUtf8(*readFile(request->configPath)), dialog.configText());
    QVERIFY(request->parentRunId.isEmpty());
    // Submitting the same name again is refused: the first file stays.
    QVERIFY(!dialog.submit());

    // Time split on a dataset without a time column; then a test fraction the split cannot use is clamped by the form.
    dialog.setFileName(QStringLiteral("time"));
    QVERIFY(dialog.setDataset(QStringLiteral("tiny")));
    QVERIFY(dialog.setSplitKind(QStringLiteral("time")));
    QVERIFY(!dialog.validate());
    QVERIFY(!dialog.fieldError(QStringLiteral("split.time_column")).isEmpty());
    QVERIFY(dialog.setDataset(QStringLiteral("sales")));
    QVERIFY(dialog.validate());
    QVERIFY(dialog.configText().contains(QStringLiteral("time_column: when")));
}

void TestExperiments::dialogBranchKeepsRecipe()
{
    QTemporaryDir root;
    const std::vector<data::Field> schema = {{QStringLiteral("age"), data::ColumnType::Int64},
                                             {QStringLiteral("fnlwgt"), data::ColumnType::Int64},
                                             {QStringLiteral("class"), data::ColumnType::Categorical}};
    NewRunDialog dialog(root.path(), {dataset(QStringLiteral("adult_train"), 2, schema), dataset(QStringLiteral("adult_test"), 1, schema)}, {});
    RunDetails past;
    past.run.id = QStringLiteral("0123456789abcdef");
    past.run.name = QStringLiteral("adult-gbdt");
    past.run.experiment = QStringLiteral("adult");
    past.run.config = QString::fromUtf8(*readFile(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/configs/adult-gbdt.yaml")));
    past.params = {{QStringLiteral("data"), QStringLiteral("adult_train@v1")}, {QStringLiteral("evaluate"), QStringLiteral("adult_test@v1")}};
    QVERIFY(dialog.branchFrom(past));
    QCOMPARE(dialog.parentRunId(), past.run.id);
    // The form holds the run's values: the version it used (params), its learner params (config).
    QCOMPARE(dialog.paramValue(QStringLiteral("n_estimators")).toLongLong(), 200LL);
    QCOMPARE(dialog.paramValue(QStringLiteral("max_depth")).toLongLong(), 6LL);
    QVERIFY(dialog.setParam(QStringLiteral("max_depth"), 4));
    auto config = ml::TrainingConfig::fromYaml(dialog.configText(), QStringLiteral("branch"));
    QVERIFY2(config, qPrintable(config.message()));
    auto original = ml::TrainingConfig::fromYaml(past.run.config, QStringLiteral("original"));
    QVERIFY(original);
    QCOMPARE(config->data, QStringLiteral("adult_train@v1"));
    QCOMPARE(config->evaluate, QStringLiteral("adult_test@v1"));
    QCOMPARE(config->experiment, QStringLiteral("adult"));
    QCOMPARE(config->params.value(QStringLiteral("max_depth")).toLongLong(), 4LL);
    QCOMPARE(config->params.value(QStringLiteral("n_estimators")), original->params.value(QStringLiteral("n_estimators")));
    QCOMPARE(config->params.value(QStringLiteral("early_stopping_rounds")), original->params.value(QStringLiteral("early_stopping_rounds")));
    // Recipe and label map travel unchanged; the split too.
    QCOMPARE(config->recipe.labelMap, original->recipe.labelMap);
    QCOMPARE(config->recipe.exclude, original->recipe.exclude);
    QCOMPARE(config->recipe.defaults, original->recipe.defaults);
    QCOMPARE(config->recipe.task, original->recipe.task);
    QCOMPARE(config->split.testFraction, original->split.testFraction);
    QCOMPARE(config->split.seed, original->split.seed);
    QVERIFY(dialog.configText().contains(QStringLiteral("Branched from run ") + past.run.id));

    // An unreadable config: the form is filled from the params and the caller hears why.
    NewRunDialog fallback(root.path(), {dataset(QStringLiteral("adult_train"), 2, schema)}, {});
    RunDetails broken = past;
    broken.run.config = QStringLiteral("learner: [unclosed");
    broken.params = {{QStringLiteral("learner"), QStringLiteral("ridge")}, {QStringLiteral("params.alpha"), QStringLiteral("2.5")},
                     {QStringLiteral("data"), QStringLiteral("adult_train@v2")}, {QStringLiteral("target"), QStringLiteral("age")}};
    const Status s = fallback.branchFrom(broken);
    QVERIFY(!s);
    QCOMPARE(fallback.paramValue(QStringLiteral("alpha")).toDouble(), 2.5);
    auto fromParams = ml::TrainingConfig::fromYaml(fallback.configText(), QStringLiteral("fallback"));
    QVERIFY2(fromParams, qPrintable(fromParams.message()));
    QCOMPARE(fromParams->learner, QStringLiteral("ridge"));
    QCOMPARE(fromParams->data, QStringLiteral("adult_train@v2"));
    QCOMPARE(fromParams->recipe.target, QStringLiteral("age"));
}

// ---- end to end ----

void TestExperiments::trainFromDialogEndToEnd()
{
    auto root = jobs::createWorkspace(m_tmp.filePath(QStringLiteral("ws")));
    QVERIFY2(root, qPrintable(root.message()));
    jobs::ImportRequest import;
    import.file = QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_test.csv");
    import.name = QStringLiteral("adult");
    import.message = QStringLiteral("test data");
    auto added = jobs::importDataset(*root, import);
    QVERIFY2(added, qPrintable(added.message()));

    MainWindow window(false);
    window.resize(1400, 900);
    window.show();
    QSignalSpy opened(&window, &MainWindow::workspaceOpened);
    window.openWorkspace(*root);
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 60000);
    window.showArea(MainWindow::Experiments);
    ExperimentsArea *area = window.experiments();
    QVERIFY(waitUntil([&] { return !area->isBusy() && window.tasks()->activeCount() == 0; }, 30000));
    QVERIFY(area->emptyState()->isVisible());   // no runs yet, and it says so
    QVERIFY(area->emptyState()->title().contains(QStringLiteral("No runs")));

    // The dialog's code path: fill the form, accept; the run trains in a child keel.
    NewRunDialog *dialog = area->showNewRunDialog();
    QVERIFY(dialog);
    QVERIFY(dialog->setDataset(QStringLiteral("adult"), 1));
    QVERIFY(dialog->setTarget(QStringLiteral("class")));
    QVERIFY(dialog->setLearner(QStringLiteral("gbdt")));
    QVERIFY(dialog->setParam(QStringLiteral("n_estimators"), 25));
    QVERIFY(dialog->setParam(QStringLiteral("max_depth"), 3));
    dialog->setRunName(QStringLiteral("first"));
    dialog->findChild<QPushButton *>(QStringLiteral("startRunButton"))->click();
    QVERIFY2(waitUntil([&] { return !area->newRunDialog(); }, 5000), "the dialog closes once the run starts");
    QVERIFY(QFileInfo::exists(*root + QStringLiteral("/configs/first.yaml")));
    QCOMPARE(area->activeTrainings().size(), size_t(1));
    TrainingProcess *process = area->activeTrainings().front();

    // It appears in the table, finishes there, and its view opens.
    QVERIFY(waitUntil([&] { return process->hasEnded(); }, 180000));
    QVERIFY2(process->outcome().status == RunStatus::Finished, qPrintable(process->outcome().message));
    const QString firstId = process->runId();
    QVERIFY(!firstId.isEmpty());
    QVERIFY(waitUntil([&] {
        const QModelIndex i = area->model()->indexOfRun(firstId);
        return i.isValid() && i.data(RunTableModel::StatusRole).toInt() == int(RunStatus::Finished) && !area->isBusy()
            && area->runView()->runId() == firstId && area->runView()->details()->run.status == RunStatus::Finished;
    }, 30000));

    // What the views show, against the tracking store read independently.
    auto store = tracking::TrackingStore::open(*root + QStringLiteral("/.keel/keel.db"));
    QVERIFY(store);
    auto stored = (*store)->metrics(firstId);
    QVERIFY(stored);
    std::map<QString, double> finals;
    int validationPoints = 0, curvePoints = 0;
    for (const tracking::MetricPoint &m : *stored) {
        // Final metrics, written out by hand: test.* and validation.* at step 0.
        if ((m.key.startsWith(QLatin1String("test.")) || m.key.startsWith(QLatin1String("validation."))) && m.step == 0)
            finals[m.key] = m.value;
        validationPoints += m.key == u"curve.validation.logloss";
        curvePoints += m.key.startsWith(QLatin1String("curve."));
    }
    QVERIFY(finals.count(QStringLiteral("test.accuracy")));
    QVERIFY(finals.count(QStringLiteral("validation.accuracy")));
    QCOMPARE(validationPoints, 25);
    // Every curve point streamed live through the event stream.
    int streamed = 0;
    for (const tracking::MetricPoint &m : process->points())
        streamed += m.key.startsWith(QLatin1String("curve."));
    QCOMPARE(streamed, curvePoints);
    RunView *view = area->runView();
    QTableWidget *metrics = view->metricsTable();
    QCOMPARE(metrics->rowCount(), int(finals.size()));
    for (int r = 0; r < metrics->rowCount(); ++r)
        QCOMPARE(metrics->item(r, 1)->text(), formatMetric(finals.at(metrics->item(r, 0)->text())));
    bool depthShown = false;
    for (int r = 0; r < view->paramsTable()->rowCount(); ++r)
        depthShown |= view->paramsTable()->item(r, 0)->text() == u"params.max_depth" && view->paramsTable()->item(r, 1)->text() == u"3";
    QVERIFY(depthShown);
    QVERIFY(view->curvePlot(QStringLiteral("logloss")));
    int plotted = 0;
    for (int s = 0; s < view->curvePlot(QStringLiteral("logloss"))->seriesCount(); ++s)
        plotted += view->curvePlot(QStringLiteral("logloss"))->pointCount(s);
    QCOMPARE(plotted, 50);   // train and validation, 25 rounds each
    auto cmTag = (*store)->tags(firstId);
    QVERIFY(cmTag);
    QString cmText;
    for (const auto &[k, v] : *cmTag)
        if (k == u"test.confusion_matrix")
            cmText = v;
    auto cm = parseConfusionMatrix(cmText);
    QVERIFY2(cm, qPrintable(cmText));
    QCOMPARE(view->confusionMatrix()->matrix(), *cm);
    QVERIFY(view->rocChart());
    QVERIFY(view->lineageLabel()->text().contains(QStringLiteral("adult@v1")));

    // Branch from this run: the dialog comes filled in; a change, then the new run records its parent.
    view->branchButton()->click();
    QVERIFY(waitUntil([&] { return area->newRunDialog() != nullptr; }, 10000));
    NewRunDialog *branch = area->newRunDialog();
    QCOMPARE(branch->parentRunId(), firstId);
    QCOMPARE(branch->paramValue(QStringLiteral("n_estimators")).toLongLong(), 25LL);
    QVERIFY(branch->setParam(QStringLiteral("max_depth"), 2));
    branch->accept();
    QCOMPARE(area->activeTrainings().size(), size_t(1));
    TrainingProcess *second = area->activeTrainings().front();
    QVERIFY(waitUntil([&] { return second->hasEnded(); }, 180000));
    QVERIFY2(second->outcome().status == RunStatus::Finished, qPrintable(second->outcome().message));
    const QString secondId = second->runId();
    QCOMPARE((*store)->run(secondId)->parentRunId, firstId);
    QVERIFY(waitUntil([&] { return area->model()->indexOfRun(secondId).isValid() && !area->isBusy(); }, 30000));
    QCOMPARE(area->model()->runSet()->runs.size(), size_t(2));

    // Compare: the depth differs, the best accuracy is the run whose stored accuracy is higher.
    QVERIFY(area->compareRuns({firstId, secondId}));
    QVERIFY(waitUntil([&] { return !area->isBusy() && area->compareView()->runs().size() == 2; }, 30000));
    CompareView *compare = area->compareView();
    QVERIFY(compare->differingParams().contains(QStringLiteral("params.max_depth")));
    QVERIFY(!compare->differingParams().contains(QStringLiteral("params.n_estimators")));
    QVERIFY(compare->rowOf(QStringLiteral("params.n_estimators")) < 0);   // only differences by default
    compare->setOnlyDifferences(false);
    QVERIFY(compare->rowOf(QStringLiteral("params.n_estimators")) >= 0);
    const double a1 = (*store)->metrics(firstId, QStringLiteral("test.accuracy"))->back().value;
    const double a2 = (*store)->metrics(secondId, QStringLiteral("test.accuracy"))->back().value;
    const int firstColumn = compare->runs()[0].run.id == firstId ? 0 : 1;
    QCOMPARE(compare->bestRun(QStringLiteral("test.accuracy")), a1 == a2 ? -1 : a1 > a2 ? firstColumn : 1 - firstColumn);
    QVERIFY(compare->curvePlot());
    QCOMPARE(compare->curvePlot()->seriesCount(), 2);

    // Cancel a long run from its view: the child stops and the run is recorded as killed.
    NewRunDialog *long_ = area->showNewRunDialog();
    QVERIFY(long_->setDataset(QStringLiteral("adult"), 1));
    QVERIFY(long_->setTarget(QStringLiteral("class")));
    QVERIFY(long_->setLearner(QStringLiteral("gbdt")));
    QVERIFY(long_->setParam(QStringLiteral("n_estimators"), 100000));
    QVERIFY(long_->setParam(QStringLiteral("learning_rate"), 0.001));
    long_->setRunName(QStringLiteral("long"));
    long_->accept();
    TrainingProcess *third = area->activeTrainings().front();
    QVERIFY(waitUntil([&] { return third->points().size() >= 4 && area->runView()->runId() == third->runId() && !area->isBusy(); }, 120000));
    QVERIFY(area->runView()->cancelButton()->isVisible());
    // The curves grow in the run view while the child trains.
    CurvePlot *live = area->runView()->curvePlot(QStringLiteral("logloss"));
    QVERIFY(live);
    const int before = live->pointCount(0);
    QVERIFY(before > 0);
    QVERIFY(waitUntil([&] { return live->pointCount(0) > before + 2; }, 60000));
    area->runView()->cancelButton()->click();
    QVERIFY(waitUntil([&] { return third->hasEnded(); }, 60000));
    QCOMPARE(third->outcome().status, RunStatus::Killed);
    QCOMPARE((*store)->run(third->runId())->status, RunStatus::Killed);
    QVERIFY(waitUntil([&] {
        const QModelIndex i = area->model()->indexOfRun(third->runId());
        return i.isValid() && i.data(RunTableModel::StatusRole).toInt() == int(RunStatus::Killed);
    }, 30000));
    QVERIFY(window.tasks()->waitForIdle(30000));
}

// ---- scale ----

void TestExperiments::tenThousandRuns()
{
    constexpr int kRuns = 10000;
    QTemporaryDir dir;
    const QString dbPath = dir.filePath(QStringLiteral(".keel/keel.db"));
    {
        auto ws = workspace::Workspace::init(dir.path());   // a real workspace; creates the tracking schema
        QVERIFY2(ws, qPrintable(ws.message()));
        QVERIFY((*ws)->tracking());
    }
    // Synthetic runs written in one transaction: 12 params, 4 final metrics and 2 x 10 curve points each.
    std::vector<double> accuracy(kRuns);
    {
        const QString name = QStringLiteral("bulk");
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(dbPath);
        QVERIFY(db.open());
        QVERIFY(db.transaction());
        QSqlQuery q(db);
        for (int e = 0; e < 5; ++e)
            QVERIFY(q.exec(QStringLiteral("INSERT INTO experiments (id, name, created_at) VALUES (%1, 'exp%1', '2024-05-01T00:00:00.000Z')").arg(e + 1)));
        QSqlQuery runQ(db), paramQ(db), metricQ(db);
        QVERIFY(runQ.prepare(QStringLiteral("INSERT INTO runs (id, experiment_id, name, parent_run_id, sweep_id, status, user_name, host, pid,"
                                            " start_time, end_time, config) VALUES (?, ?, ?, NULL, NULL, 'finished', 'u', 'h', 1, ?, ?, '')")));
        QVERIFY(paramQ.prepare(QStringLiteral("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)")));
        QVERIFY(metricQ.prepare(QStringLiteral("INSERT INTO metrics (run_id, key, step, value, time) VALUES (?, ?, ?, ?, '2024-05-01T00:00:00.000Z')")));
        std::mt19937_64 rng(11);
        for (int i = 0; i < kRuns; ++i) {
            const QString id = QStringLiteral("run-%1").arg(i, 5, 10, QLatin1Char('0'));
            const QDateTime start = kEpoch.addSecs(i);
            runQ.bindValue(0, id);
            runQ.bindValue(1, i % 5 + 1);
            runQ.bindValue(2, QStringLiteral("trial %1").arg(i));
            runQ.bindValue(3, start.toString(Qt::ISODateWithMs));
            runQ.bindValue(4, start.addSecs(5 + i % 50).toString(Qt::ISODateWithMs));
            QVERIFY(runQ.exec());
            for (int k = 0; k < 12; ++k) {
                paramQ.bindValue(0, id);
                paramQ.bindValue(1, k == 0 ? QStringLiteral("learner") : QStringLiteral("params.p%1").arg(k));
                paramQ.bindValue(2, k == 0 ? QStringLiteral("gbdt") : QString::number(rng() % 100));
                QVERIFY(paramQ.exec());
            }
            accuracy[size_t(i)] = double(rng() % 100000) / 100000.0;
            const std::pair<const char *, double> finals[] = {{"test.accuracy", accuracy[size_t(i)]}, {"test.roc_auc", 0.9},
                                                              {"test.log_loss", 0.3}, {"test.f1", 0.7}};
            for (const auto &[k, v] : finals) {
                metricQ.bindValue(0, id);
                metricQ.bindValue(1, QLatin1String(k));
                metricQ.bindValue(2, 0);
                metricQ.bindValue(3, v);
                QVERIFY(metricQ.exec());
            }
            for (int step = 0; step < 10; ++step)
                for (const char *k : {"curve.train.logloss", "curve.validation.logloss"}) {
                    metricQ.bindValue(0, id);
                    metricQ.bindValue(1, QLatin1String(k));
                    metricQ.bindValue(2, step);
                    metricQ.bindValue(3, 1.0 / (step + 1));
                    QVERIFY(metricQ.exec());
                }
        }
        QVERIFY(db.commit());
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(name);
    }

    // The bulk read alone (what the load task runs off the UI thread).
    auto set = loadRunSet(dir.path());
    QVERIFY2(set, qPrintable(set.message()));
    QCOMPARE(int((*set)->runs.size()), kRuns);
    auto layout = layoutRuns(**set, RunColumn{RunColumn::Kind::Metric, QStringLiteral("test.accuracy")}, Qt::DescendingOrder, {});
    QVERIFY(layout);

    // The area: load, sort and filter (in tasks), each ending at the computed answer.
    TaskManager tasks;
    ExperimentsArea area(&tasks);
    area.resize(1300, 800);
    area.show();
    QVERIFY(QTest::qWaitForWindowExposed(&area));
    area.setWorkspace(dir.path(), {});
    QVERIFY(waitUntil([&] { return !area.isBusy() && area.model()->runSet() && tasks.activeCount() == 0; }, 60000));
    QCOMPARE(area.model()->runLayout()->shownRuns, kRuns);
    QCOMPARE(area.model()->rowCount(), 5);

    area.sortBy(QStringLiteral("metric:test.accuracy"), Qt::DescendingOrder);
    QVERIFY(waitUntil([&] { return !area.isBusy() && tasks.activeCount() == 0; }, 60000));
    // The first experiment's runs, best accuracy first, as computed from what was written.
    std::vector<int> exp0;
    for (int i = 0; i < kRuns; i += 5)
        exp0.push_back(i);
    std::stable_sort(exp0.begin(), exp0.end(), [&](int a, int b) { return accuracy[size_t(a)] > accuracy[size_t(b)]; });
    const QModelIndex e0 = area.model()->indexOfExperiment(QStringLiteral("exp1"));
    QVERIFY(e0.isValid());
    QCOMPARE(area.model()->rowCount(e0), kRuns / 5);
    for (int r = 0; r < 50; ++r)
        QCOMPARE(area.model()->index(r, 0, e0).data(RunTableModel::RunIdRole).toString(),
                 QStringLiteral("run-%1").arg(exp0[size_t(r)], 5, 10, QLatin1Char('0')));

    area.setFilterText(QStringLiteral("test.accuracy > 0.99"));
    QVERIFY(waitUntil([&] { return !area.isBusy() && tasks.activeCount() == 0; }, 60000));
    const int expectedShown = int(std::count_if(accuracy.begin(), accuracy.end(), [](double a) { return a > 0.99; }));
    QCOMPARE(area.model()->runLayout()->shownRuns, expectedShown);
}

QTEST_MAIN(TestExperiments)
#include "tst_experiments.moc"
