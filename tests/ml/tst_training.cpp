#include "ml/learners.h"
#include "ml/recipe.h"
#include "ml/training.h"
#include "store/objectstore.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

#include <memory>

using namespace keel;

namespace {

const QString kAdultConfig = QStringLiteral(
    "experiment: adult\n"
    "name: adult-gbdt-test\n"
    "data: adult_train\n"
    "evaluate: adult_test@v1\n"
    "target: class\n"
    "task: binary\n"
    "label_map: {\">50K.\": \">50K\", \"<=50K.\": \"<=50K\"}\n"
    "recipe:\n"
    "  exclude: [fnlwgt]\n"
    "  defaults: {max_categories: 20}\n"
    "split: {kind: holdout, validation_fraction: 0.2, stratify: true, seed: 7}\n"
    "learner: gbdt\n"
    "params: {n_estimators: 30, learning_rate: 0.3, max_depth: 5, early_stopping_rounds: 10, threads: 2}\n");

/// Parses the predictions CSV (no quoted fields in the adult labels) into rows of fields.
std::vector<QStringList> parseCsv(const QByteArray &bytes)
{
    std::vector<QStringList> rows;
    for (const QByteArray &line : bytes.split('\n'))
        if (!line.isEmpty())
            rows.push_back(QString::fromUtf8(line).split(QLatin1Char(',')));
    return rows;
}

} // namespace

class TestTraining : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void adultGbdt();
    void deterministic();
    void configErrors_data();
    void configErrors();
    void failedRun();
    void cancelledRun();
    void crossValidation();
    void observerAndParent();

private:
    QString writeConfig(const QString &name, const QString &text);

    QTemporaryDir m_dir;
    std::unique_ptr<workspace::Workspace> m_ws;
    ml::TrainingResult m_first;
};

QString TestTraining::writeConfig(const QString &name, const QString &text)
{
    const QString path = m_dir.filePath(name);
    if (Status s = writeFileAtomic(path, text.toUtf8()); !s)
        qFatal("cannot write config: %s", qPrintable(s.message()));
    return path;
}

void TestTraining::initTestCase()
{
    QVERIFY(m_dir.isValid());
    auto ws = workspace::Workspace::init(m_dir.filePath(QStringLiteral("ws")));
    QVERIFY2(ws, qPrintable(ws.message()));
    m_ws = std::move(*ws);
    const QString examples = QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/");
    for (const QString &name : {QStringLiteral("adult_train"), QStringLiteral("adult_test")}) {
        auto added = workspace::addDataset(*m_ws, examples + name + QStringLiteral(".csv"), name, QStringLiteral("add"), {});
        QVERIFY2(added, qPrintable(added.message()));
    }
}

void TestTraining::adultGbdt()
{
    const QString path = writeConfig(QStringLiteral("adult.yaml"), kAdultConfig);
    QStringList stages;
    Feedback fb;
    fb.setCallback([&](qint64, qint64, const QString &stage) {
        if (!stages.contains(stage))
            stages << stage;
    });
    auto result = ml::runTraining(*m_ws, path, &fb);
    QVERIFY2(result, qPrintable(result.message()));
    m_first = *result;
    QVERIFY(stages.contains(QStringLiteral("train")));
    auto tsx = m_ws->tracking();
    QVERIFY(tsx);
    tracking::TrackingStore &ts = **tsx;

    auto run = ts.run(result->runId);
    QVERIFY(run);
    QCOMPARE(run->status, tracking::RunStatus::Finished);
    QCOMPARE(run->experiment, QStringLiteral("adult"));
    QCOMPARE(run->name, QStringLiteral("adult-gbdt-test"));
    QCOMPARE(run->config, kAdultConfig);

    // Independent accuracy from the predictions artifact against the raw test labels.
    auto predBytes = m_ws->store().readAll(result->predictionsObjectId);
    QVERIFY(predBytes);
    const std::vector<QStringList> rows = parseCsv(*predBytes);
    auto testVersion = workspace::resolveDataset(*m_ws, QStringLiteral("adult_test"));
    QVERIFY(testVersion);
    auto testTable = workspace::loadDataset(*m_ws, *testVersion);
    QVERIFY(testTable);
    QCOMPARE(qint64(rows.size()) - 1, testTable->rowCount());
    QCOMPARE(rows[0], (QStringList{QStringLiteral("row"), QStringLiteral("actual"), QStringLiteral("predicted"),
                                   QStringLiteral("p_<=50K"), QStringLiteral("p_>50K")}));
    const data::Column &label = testTable->column(testTable->indexOf(QStringLiteral("class")));
    qint64 correct = 0;
    std::vector<double> probabilities;
    for (qint64 r = 0; r < testTable->rowCount(); ++r) {
        const QStringList &f = rows[size_t(r + 1)];
        QCOMPARE(f.size(), 5);
        QCOMPARE(f[0], QString::number(r + 1));   // the source row number, 1-based
        QString truth = label.displayAt(r);
        if (truth.endsWith(QLatin1Char('.')))
            truth.chop(1);
        QCOMPARE(f[1], truth);
        bool ok = false;
        const double p = f[4].toDouble(&ok);
        QVERIFY(ok);
        QCOMPARE(f[3].toDouble() + p, 1.0);
        probabilities.push_back(p);
        const QString predicted = p >= 0.5 ? QStringLiteral(">50K") : QStringLiteral("<=50K");
        QCOMPARE(f[2], predicted);
        if (predicted == truth)
            ++correct;
    }
    const double accuracy = double(correct) / double(testTable->rowCount());
    QVERIFY2(accuracy > 0.85, qPrintable(QString::number(accuracy)));
    QVERIFY(std::abs(result->metrics.value(QStringLiteral("test.accuracy")).toDouble() - accuracy) < 1e-12);
    auto logged = ts.metrics(result->runId, QStringLiteral("test.accuracy"));
    QVERIFY(logged);
    QCOMPARE(logged->size(), size_t(1));
    QCOMPARE(logged->front().step, qint64(0));
    QVERIFY(std::abs(logged->front().value - accuracy) < 1e-12);

    // One curve point per round for train and validation.
    QVERIFY(result->rounds > 0 && result->rounds <= 30);
    for (const QString &key : {QStringLiteral("curve.train.logloss"), QStringLiteral("curve.validation.logloss")}) {
        auto series = ts.metrics(result->runId, key);
        QVERIFY(series);
        QCOMPARE(int(series->size()), result->rounds);
        for (int i = 0; i < result->rounds; ++i)
            QCOMPARE((*series)[size_t(i)].step, qint64(i));
    }

    // The model and recipe artifacts reproduce the predictions exactly.
    auto artifacts = ts.artifacts(result->runId);
    QVERIFY(artifacts);
    QCOMPARE(artifacts->size(), size_t(5));   // curves, model, predictions, recipe, split
    const tracking::ArtifactRecord &modelArt = (*artifacts)[1];
    QCOMPARE(modelArt.name, QStringLiteral("model"));
    QCOMPARE(modelArt.objectId, result->modelObjectId);
    auto modelBytes = m_ws->store().readAll(modelArt.objectId);
    QVERIFY(modelBytes);
    auto model = ml::loadModel(modelArt.kind, *modelBytes);
    QVERIFY2(model, qPrintable(model.message()));
    auto recipeBytes = m_ws->store().readAll(result->recipeObjectId);
    QVERIFY(recipeBytes);
    auto recipe = ml::Recipe::fromJson(QJsonDocument::fromJson(*recipeBytes).object());
    QVERIFY2(recipe, qPrintable(recipe.message()));
    auto x = recipe->transform(*testTable);
    QVERIFY(x);
    auto again = (*model)->predict(*x);
    QVERIFY(again);
    QCOMPARE(again->size(), probabilities.size());
    for (size_t i = 0; i < probabilities.size(); ++i)
        QCOMPARE(QString::number((*again)[i], 'g', 17), QString::number(probabilities[i], 'g', 17));

    // The curves artifact: its confusion matrix agrees with the predictions, its ROC ends at (0,0) and (1,1).
    QCOMPARE((*artifacts)[0].name, QStringLiteral("curves"));
    QCOMPARE((*artifacts)[0].objectId, result->curvesObjectId);
    auto curvesBytes = m_ws->store().readAll(result->curvesObjectId);
    QVERIFY(curvesBytes);
    const QJsonObject curves = QJsonDocument::fromJson(*curvesBytes).object();
    QCOMPARE(curves.value(QStringLiteral("classes")).toArray().size(), 2);
    const QJsonArray cm = curves.value(QStringLiteral("confusion_matrix")).toArray();
    QCOMPARE(cm.size(), 2);
    qint64 cmTotal = 0, cmDiagonal = 0;
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
            const qint64 v = cm[i].toArray()[j].toInteger();
            cmTotal += v;
            cmDiagonal += i == j ? v : 0;
        }
    QCOMPARE(cmTotal, testTable->rowCount());
    QCOMPARE(cmDiagonal, correct);
    const QJsonArray fpr = curves.value(QStringLiteral("roc")).toObject().value(QStringLiteral("fpr")).toArray();
    const QJsonArray tpr = curves.value(QStringLiteral("roc")).toObject().value(QStringLiteral("tpr")).toArray();
    QVERIFY(fpr.size() > 10 && fpr.size() <= 200);
    QCOMPARE(fpr.size(), tpr.size());
    QCOMPARE(fpr.first().toDouble(), 0.0);
    QCOMPARE(tpr.last().toDouble(), 1.0);
    QCOMPARE(curves.value(QStringLiteral("calibration")).toObject().value(QStringLiteral("count")).toArray().size(), 10);

    // Lineage and tags.
    auto trainVersion = workspace::resolveDataset(*m_ws, QStringLiteral("adult_train"));
    QVERIFY(trainVersion);
    auto edges = ts.lineage(QStringLiteral("run"), result->runId);
    QVERIFY(edges);
    bool trainedOn = false, evaluatedOn = false;
    for (const tracking::LineageEdge &e : *edges) {
        trainedOn |= e.relation == u"trained_on" && e.srcKind == u"dataset" && e.srcId == trainVersion->record.contentId;
        evaluatedOn |= e.relation == u"evaluated_on" && e.srcId == testVersion->record.contentId;
    }
    QVERIFY(trainedOn);
    QVERIFY(evaluatedOn);
    auto tags = ts.tags(result->runId);
    QVERIFY(tags);
    QStringList tagKeys;
    for (const auto &[k, v] : *tags)
        tagKeys << k;
    for (const char *k : {"git.commit", "keel.version", "threads", "platform"})
        QVERIFY2(tagKeys.contains(QLatin1String(k)), k);
    auto params = ts.params(result->runId);
    QVERIFY(params);
    QVERIFY(std::find(params->begin(), params->end(), std::pair(QStringLiteral("params.max_depth"), QStringLiteral("5")))
            != params->end());
    QVERIFY(std::find(params->begin(), params->end(), std::pair(QStringLiteral("learner"), QStringLiteral("gbdt")))
            != params->end());
}

void TestTraining::deterministic()
{
    QVERIFY(!m_first.runId.isEmpty());
    auto result = ml::runTraining(*m_ws, m_dir.filePath(QStringLiteral("adult.yaml")), nullptr);
    QVERIFY2(result, qPrintable(result.message()));
    QVERIFY(result->runId != m_first.runId);
    auto a = m_ws->store().readAll(m_first.predictionsObjectId);
    auto b = m_ws->store().readAll(result->predictionsObjectId);
    QVERIFY(a && b);
    QVERIFY(*a == *b);
    QCOMPARE(result->modelObjectId, m_first.modelObjectId);
}

void TestTraining::configErrors_data()
{
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<QString>("field");
    QTest::addColumn<int>("line");
    const QString head = QStringLiteral("data: adult_train\ntarget: class\n");
    QTest::newRow("unknown learner") << head + QStringLiteral("learner: xgb\n") << QStringLiteral("learner") << 3;
    QTest::newRow("bad param") << head + QStringLiteral("learner: gbdt\nparams:\n  max_depth: 0\n")
                               << QStringLiteral("params.max_depth") << 5;
    QTest::newRow("unknown param") << head + QStringLiteral("learner: ridge\nparams: {alpha: 1, depth: 3}\n")
                                   << QStringLiteral("params.depth") << 4;
    QTest::newRow("bad fraction") << head + QStringLiteral("split:\n  test_fraction: 1.5\nlearner: gbdt\n")
                                  << QStringLiteral("split.test_fraction") << 4;
    QTest::newRow("kfold one fold") << head + QStringLiteral("split: {kind: kfold, folds: 1}\nlearner: gbdt\n")
                                    << QStringLiteral("split.folds") << 3;
    QTest::newRow("folds on holdout") << head + QStringLiteral("split: {kind: holdout, folds: 3}\nlearner: gbdt\n")
                                      << QStringLiteral("split.folds") << 3;
    QTest::newRow("bad split kind") << head + QStringLiteral("split: {kind: loo}\nlearner: gbdt\n")
                                    << QStringLiteral("split.kind") << 3;
    QTest::newRow("missing data") << QStringLiteral("target: class\nlearner: gbdt\n") << QStringLiteral("data") << -1;
    QTest::newRow("unknown key") << head + QStringLiteral("learner: gbdt\nlearning_rate: 3\n") << QStringLiteral("learning_rate") << 4;
    QTest::newRow("recipe field") << head + QStringLiteral("recipe:\n  defaults: {impute: sometimes}\nlearner: gbdt\n")
                                  << QStringLiteral("recipe.defaults.impute") << 4;
}

void TestTraining::configErrors()
{
    QFETCH(QString, yaml);
    QFETCH(QString, field);
    QFETCH(int, line);
    auto c = ml::TrainingConfig::fromYaml(yaml, QStringLiteral("cfg.yaml"));
    QVERIFY(!c);
    QCOMPARE(c.error().field, field);
    QCOMPARE(c.error().file, QStringLiteral("cfg.yaml"));
    QCOMPARE(c.error().line, qint64(line));
}

void TestTraining::failedRun()
{
    const QString path = writeConfig(QStringLiteral("missing.yaml"),
                                      QStringLiteral("data: no_such_dataset\ntarget: class\nlearner: logistic\n"));
    auto result = ml::runTraining(*m_ws, path, nullptr);
    QVERIFY(!result);
    auto ts = m_ws->tracking();
    QVERIFY(ts);
    auto runs = (*ts)->runs(QStringLiteral("default"));
    QVERIFY(runs);
    QVERIFY(!runs->empty());
    const tracking::RunRecord &last = runs->back();
    QCOMPARE(last.name, QStringLiteral("missing"));
    QCOMPARE(last.status, tracking::RunStatus::Failed);
    auto tags = (*ts)->tags(last.id);
    QVERIFY(tags);
    bool hasError = false;
    for (const auto &[k, v] : *tags)
        hasError |= k == u"error" && v == result.error().toString();
    QVERIFY(hasError);
}

void TestTraining::cancelledRun()
{
    Feedback fb;
    int trainReports = 0;
    fb.setCallback([&](qint64, qint64, const QString &stage) {
        if (stage == u"train" && ++trainReports == 2)
            fb.cancel();
    });
    auto result = ml::runTraining(*m_ws, m_dir.filePath(QStringLiteral("adult.yaml")), &fb);
    QVERIFY(!result);
    QVERIFY(result.error().is(keel::ErrorKind::Cancelled));
    auto ts = m_ws->tracking();
    QVERIFY(ts);
    auto runs = (*ts)->runs(QStringLiteral("adult"));
    QVERIFY(runs);
    QCOMPARE(runs->back().status, tracking::RunStatus::Killed);
}

void TestTraining::crossValidation()
{
    // Ridge with 4 folds on the numeric part of Adult; the out-of-fold predictions of fold 0 are recomputed by hand.
    const QString yaml = QStringLiteral("experiment: cv\ndata: adult_train\ntarget: age\ntask: regression\n"
                                        "recipe: {features: [education_num, hours_per_week, capital_gain, sex]}\n"
                                        "split: {kind: kfold, folds: 4, seed: 7}\nlearner: ridge\nparams: {alpha: 2}\n");
    auto result = ml::runTraining(*m_ws, writeConfig(QStringLiteral("cv.yaml"), yaml), nullptr);
    QVERIFY2(result, qPrintable(result.message()));
    auto ts = m_ws->tracking();
    QVERIFY(ts);
    auto folds = (*ts)->metrics(result->runId, QStringLiteral("cv.rmse"));
    QVERIFY(folds);
    QCOMPARE(folds->size(), size_t(4));
    double mean = 0;
    for (const tracking::MetricPoint &p : *folds)
        mean += p.value / 4.0;
    auto logged = (*ts)->metrics(result->runId, QStringLiteral("cv.rmse.mean"));
    QVERIFY(logged && logged->size() == 1);
    QVERIFY(std::abs(logged->front().value - mean) < 1e-12);

    auto version = workspace::resolveDataset(*m_ws, QStringLiteral("adult_train"));
    QVERIFY(version);
    auto table = workspace::loadDataset(*m_ws, *version);
    QVERIFY(table);
    QCOMPARE(result->evaluationRows, table->rowCount());
    auto config = ml::TrainingConfig::fromYaml(yaml, QStringLiteral("cv.yaml"));
    QVERIFY(config);
    auto splits = ml::makeSplits(config->split, *table, nullptr);
    QVERIFY(splits && splits->size() == 4);
    const ml::Split &fold0 = splits->front();
    const std::vector<qint64> &testRows = fold0.test;
    // Fit by hand through the same public pieces: recipe on fold 0's training rows, ridge, predict the held-out rows.
    const data::Table trainTable = table->rows(fold0.train);
    const data::Table testTable = table->rows(fold0.test);
    auto recipe = ml::Recipe::fit(trainTable, config->recipe);
    QVERIFY2(recipe, qPrintable(recipe.message()));
    auto x = recipe->transform(trainTable);
    auto y = recipe->target(trainTable);
    QVERIFY(x && y);
    auto model = ml::findLearner(QStringLiteral("ridge"))->fit(*x, *y, config->params, nullptr, nullptr, {}, nullptr);
    QVERIFY2(model, qPrintable(model.message()));
    auto xTest = recipe->transform(testTable);
    QVERIFY(xTest);
    auto expected = (*model)->predict(*xTest);
    QVERIFY(expected);
    auto predBytes = m_ws->store().readAll(result->predictionsObjectId);
    QVERIFY(predBytes);
    const std::vector<QStringList> rows = parseCsv(*predBytes);
    QCOMPARE(qint64(rows.size()) - 1, table->rowCount());
    for (size_t i = 0; i < testRows.size(); ++i) {
        QCOMPARE(rows[size_t(testRows[i] + 1)][0], QString::number(testRows[i] + 1));
        const double got = rows[size_t(testRows[i] + 1)][2].toDouble();
        QVERIFY2(std::abs(got - (*expected)[i]) <= 1e-9 * std::max(1.0, std::abs(got)),
                 qPrintable(QStringLiteral("row %1: %2 vs %3").arg(testRows[i]).arg(got).arg((*expected)[i])));
    }
}

void TestTraining::observerAndParent()
{
    QVERIFY(!m_first.runId.isEmpty());
    auto config = ml::TrainingConfig::fromFile(m_dir.filePath(QStringLiteral("adult.yaml")));
    QVERIFY(config);
    config->parentRunId = m_first.runId;
    QString started;
    std::map<QString, int> points;
    ml::TrainingObserver observer;
    observer.started = [&](const QString &id, const QString &experiment) {
        started = id;
        QCOMPARE(experiment, QStringLiteral("adult"));
    };
    observer.metric = [&](const QString &key, qint64, double) { ++points[key]; };
    auto result = ml::runTraining(*m_ws, *config, nullptr, &observer);
    QVERIFY2(result, qPrintable(result.message()));
    QCOMPARE(started, result->runId);
    QCOMPARE(points[QStringLiteral("curve.train.logloss")], result->rounds);
    QCOMPARE(points[QStringLiteral("test.accuracy")], 1);
    auto ts = m_ws->tracking();
    QVERIFY(ts);
    auto run = (*ts)->run(result->runId);
    QVERIFY(run);
    QCOMPARE(run->parentRunId, m_first.runId);
    auto edges = (*ts)->lineage(QStringLiteral("run"), result->runId);
    QVERIFY(edges);
    bool branched = false;
    for (const tracking::LineageEdge &e : *edges)
        branched |= e.relation == u"branched_from" && e.srcId == m_first.runId;
    QVERIFY(branched);

    config->parentRunId = QStringLiteral("no-such-run");
    QVERIFY(!ml::runTraining(*m_ws, *config, nullptr));
}

QTEST_GUILESS_MAIN(TestTraining)
#include "tst_training.moc"
