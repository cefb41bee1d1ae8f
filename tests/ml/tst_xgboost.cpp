// XGBoost learners: quality on adult (binary), diamonds (regression, 5-class cut), random forest mode,
// save/load bit-identity with the standard JSON format, determinism, early stopping and the best iteration,
// iteration callbacks, cancel, errors and concurrent prediction.

#include "data/reader.h"
#include "ml/learners.h"
#include "mltest.h"
#include "ml/xgboost.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <thread>

using namespace keel::ml;
using namespace keel::mltest;

namespace {

std::unique_ptr<Model> fitOrFail(XgbMode mode, const DesignMatrix &x, const Target &y, Params p,
                                 const DesignMatrix *vx = nullptr, const Target *vy = nullptr,
                                 const IterationCallback &cb = {})
{
    if (!p.contains(QStringLiteral("threads")))
        p.insert(QStringLiteral("threads"), 1); // the test machine is shared; determinism() covers 2 threads
    auto m = XgbLearner(mode).fit(x, y, p, vx, vy, cb, nullptr);
    if (!m)
        qFatal("fit failed: %s", qPrintable(m.message()));
    return std::move(m).value();
}

std::vector<double> predictOrFail(const Model &m, const DesignMatrix &x)
{
    auto p = m.predict(x);
    if (!p)
        qFatal("predict failed: %s", qPrintable(p.message()));
    return std::move(p).value();
}

double rmseOf(const std::vector<double> &y, const std::vector<double> &pred)
{
    double ss = 0;
    for (size_t i = 0; i < y.size(); ++i)
        ss += (y[i] - pred[i]) * (y[i] - pred[i]);
    return std::sqrt(ss / double(y.size()));
}

} // namespace

class TestXgboost : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void adultBinary();
    void diamondsRegression();
    void multiclassCut();
    void determinism();
    void earlyStopping();
    void randomForest();
    void cancel();
    void errors();
    void missingValuesAndConcurrentPredict();

private:
    DesignMatrix m_adultTrain, m_adultTest;
    Target m_adultTrainY, m_adultTestY;
    DesignMatrix m_diamonds;      // all features but price
    Target m_price;
    keel::data::Table m_diamondsTable;
};

void TestXgboost::initTestCase()
{
    const keel::data::Table train = readExample("adult_train.csv");
    const keel::data::Table test = readExample("adult_test.csv");
    const QStringList classes = {QStringLiteral("<=50K"), QStringLiteral(">50K")};
    const Encoder enc = Encoder::fit(train, {QStringLiteral("class")}, false, false);
    m_adultTrain = enc.apply(train);
    m_adultTest = enc.apply(test);
    m_adultTrainY = classTarget(train, QStringLiteral("class"), classes);
    m_adultTestY = classTarget(test, QStringLiteral("class"), classes);
    m_diamondsTable = readExample("diamonds.csv");
    m_diamonds = Encoder::fit(m_diamondsTable, {QStringLiteral("price")}, false, false).apply(m_diamondsTable);
    m_price = numericTarget(m_diamondsTable, QStringLiteral("price"));
}

void TestXgboost::adultBinary()
{
    auto model = fitOrFail(XgbMode::Gbdt, m_adultTrain, m_adultTrainY, {{QStringLiteral("n_estimators"), 60}});
    QCOMPARE(model->kind(), QStringLiteral("xgboost-gbdt"));
    QCOMPARE(model->task(), Task::BinaryClassification);
    QCOMPARE(model->numClasses(), 2);
    const std::vector<double> prob = predictOrFail(*model, m_adultTest);
    QCOMPARE(prob.size(), m_adultTestY.values.size());
    const double acc = binaryAccuracy(m_adultTestY.values, prob);
    const double auc = aucOf(m_adultTestY.values, prob);
    qInfo("adult_test gbdt (60 rounds, depth 6, eta 0.3): accuracy %.4f, AUC %.4f", acc, auc);
    QVERIFY(acc > 0.85);
    QVERIFY(auc > 0.90);

    // Margin is the log-odds of the probability (XGBoost computes in float).
    auto margin = model->predictMargin(m_adultTest);
    QVERIFY(margin);
    for (size_t i = 0; i < prob.size(); i += 97)
        QVERIFY(std::abs(1.0 / (1.0 + std::exp(-(*margin)[i])) - prob[i]) < 1e-6);

    // Standard JSON; loads back (through the registry) and predicts bit-identically.
    const QByteArray json = model->serialize();
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
    QCOMPARE(err.error, QJsonParseError::NoError);
    QVERIFY(doc.object().contains(QStringLiteral("learner")));
    QVERIFY(doc.object().contains(QStringLiteral("version")));
    QCOMPARE(doc.object().value(QStringLiteral("version")).toArray().at(0).toInt(), 1);
    QCOMPARE(doc.object()
                 .value(QStringLiteral("learner"))
                 .toObject()
                 .value(QStringLiteral("gradient_booster"))
                 .toObject()
                 .value(QStringLiteral("model"))
                 .toObject()
                 .value(QStringLiteral("trees"))
                 .toArray()
                 .size(),
             60);
    auto loaded = loadModel(QStringLiteral("xgboost-gbdt"), json);
    QVERIFY2(loaded, qPrintable(loaded.message()));
    QCOMPARE((*loaded)->task(), Task::BinaryClassification);
    QCOMPARE((*loaded)->numClasses(), 2);
    const std::vector<double> again = predictOrFail(**loaded, m_adultTest);
    QVERIFY(again == prob);
    QCOMPARE((*loaded)->serialize(), json);
    QVERIFY(!loadModel(QStringLiteral("xgboost-gbdt"), QByteArrayLiteral("{\"not\": \"a model\"}")));
}

void TestXgboost::diamondsRegression()
{
    const DesignMatrix xTrain = rowsOf(m_diamonds, 5, false), xTest = rowsOf(m_diamonds, 5, true);
    const Target yTrain = rowsOf(m_price, 5, false), yTest = rowsOf(m_price, 5, true);
    auto model = fitOrFail(XgbMode::Gbdt, xTrain, yTrain, {{QStringLiteral("n_estimators"), 100}});
    QCOMPARE(model->task(), Task::Regression);
    QCOMPARE(model->numClasses(), 0);
    const std::vector<double> pred = predictOrFail(*model, xTest);
    const double r2 = rSquared(yTest.values, pred);
    qInfo("diamonds price holdout gbdt (100 rounds): R2 %.4f, RMSE %.1f", r2, rmseOf(yTest.values, pred));
    QVERIFY(r2 > 0.95);
    auto margin = model->predictMargin(xTest);
    QVERIFY(margin);
    QVERIFY(*margin == pred); // identity link
}

void TestXgboost::multiclassCut()
{
    const QStringList cuts = {QStringLiteral("Fair"), QStringLiteral("Good"), QStringLiteral("Very Good"),
                              QStringLiteral("Premium"), QStringLiteral("Ideal")};
    const DesignMatrix all =
        Encoder::fit(m_diamondsTable, {QStringLiteral("cut")}, false, false).apply(m_diamondsTable);
    const Target y = classTarget(m_diamondsTable, QStringLiteral("cut"), cuts);
    const DesignMatrix xTrain = rowsOf(rowsOf(all, 5, false), 3, true), xTest = rowsOf(all, 5, true);
    const Target yTrain = rowsOf(rowsOf(y, 5, false), 3, true), yTest = rowsOf(y, 5, true);
    auto model = fitOrFail(XgbMode::Gbdt, xTrain, yTrain,
                           {{QStringLiteral("n_estimators"), 20}, {QStringLiteral("max_depth"), 5}});
    QCOMPARE(model->task(), Task::MulticlassClassification);
    QCOMPARE(model->numClasses(), 5);
    const std::vector<double> prob = predictOrFail(*model, xTest);
    QCOMPARE(prob.size(), size_t(xTest.rows) * 5);
    auto margin = model->predictMargin(xTest);
    QVERIFY(margin);
    QCOMPARE(margin->size(), prob.size());
    size_t correct = 0;
    for (qint64 r = 0; r < xTest.rows; ++r) {
        const double *p = prob.data() + r * 5;
        const double *m = margin->data() + r * 5;
        QVERIFY(std::abs(std::accumulate(p, p + 5, 0.0) - 1.0) < 1e-5);
        const double mx = *std::max_element(m, m + 5);
        double se = 0;
        for (int k = 0; k < 5; ++k)
            se += std::exp(m[k] - mx);
        for (int k = 0; k < 5; ++k)
            QVERIFY(std::abs(p[k] - std::exp(m[k] - mx) / se) < 1e-5);
        correct += size_t(std::max_element(p, p + 5) - p) == size_t(yTest.values[size_t(r)]) ? 1 : 0;
    }
    const double acc = double(correct) / double(xTest.rows);
    qInfo("diamonds cut (5 classes) holdout gbdt (20 rounds, depth 5): accuracy %.4f", acc);
    QVERIFY(acc > 0.6); // majority class (Ideal) is about 0.40

    auto loaded = loadModel(QStringLiteral("xgboost-gbdt"), model->serialize());
    QVERIFY2(loaded, qPrintable(loaded.message()));
    QCOMPARE((*loaded)->numClasses(), 5);
    QCOMPARE((*loaded)->task(), Task::MulticlassClassification);
    QVERIFY(predictOrFail(**loaded, xTest) == prob);
}

void TestXgboost::determinism()
{
    const DesignMatrix x = rowsOf(m_diamonds, 10, true);
    const Target y = rowsOf(m_price, 10, true);
    const Params p = {{QStringLiteral("n_estimators"), 20}, {QStringLiteral("subsample"), 0.7},
                      {QStringLiteral("colsample_bytree"), 0.7}, {QStringLiteral("seed"), 7},
                      {QStringLiteral("threads"), 2}};
    auto a = fitOrFail(XgbMode::Gbdt, x, y, p);
    auto b = fitOrFail(XgbMode::Gbdt, x, y, p);
    QVERIFY(predictOrFail(*a, x) == predictOrFail(*b, x));
    QCOMPARE(a->serialize(), b->serialize());
    Params other = p;
    other.insert(QStringLiteral("seed"), 8);
    auto c = fitOrFail(XgbMode::Gbdt, x, y, other);
    QVERIFY(predictOrFail(*a, x) != predictOrFail(*c, x)); // the seed reaches the sampler
}

void TestXgboost::earlyStopping()
{
    // Small training set and deep, fast trees: validation error bottoms out early.
    const DesignMatrix xTrain = rowsOf(rowsOf(m_diamonds, 3, true), 8, true);
    const Target yTrain = rowsOf(rowsOf(m_price, 3, true), 8, true);
    const DesignMatrix xValid = rowsOf(rowsOf(m_diamonds, 3, false), 10, true);
    const Target yValid = rowsOf(rowsOf(m_price, 3, false), 10, true);
    std::vector<IterationMetrics> seen;
    const Params p = {{QStringLiteral("n_estimators"), 400}, {QStringLiteral("learning_rate"), 0.6},
                      {QStringLiteral("max_depth"), 10}, {QStringLiteral("min_child_weight"), 0.0},
                      {QStringLiteral("early_stopping_rounds"), 5}};
    auto model = fitOrFail(XgbMode::Gbdt, xTrain, yTrain, p, &xValid, &yValid,
                           [&](const IterationMetrics &m) { seen.push_back(m); });
    const QVariantMap diag = model->diagnostics();
    const int rounds = diag.value(QStringLiteral("rounds")).toInt();
    const int best = diag.value(QStringLiteral("best_iteration")).toInt();
    QVERIFY(diag.value(QStringLiteral("early_stopped")).toBool());
    QVERIFY(rounds < 400);
    QCOMPARE(rounds, best + 1 + 5);
    // The kept model ends at the best round: the rounds fitted after it are not in it (nor in its saved JSON), so any
    // reader's default prediction is Keel's.
    QCOMPARE(static_cast<XgbModel *>(model.get())->boostedRounds(), best + 1);
    QCOMPARE(static_cast<XgbModel *>(model.get())->bestIteration(), best);
    auto reloaded = XgbModel::fromJson(model->serialize(), XgbMode::Gbdt);
    QVERIFY(reloaded);
    QCOMPARE((*reloaded)->boostedRounds(), best + 1);

    // Every round reported train and validation rmse; the best iteration is the validation minimum.
    QCOMPARE(int(seen.size()), 2 * rounds);
    std::vector<double> valid;
    for (int i = 0; i < rounds; ++i) {
        QCOMPARE(seen[size_t(2 * i)].dataset, QStringLiteral("train"));
        QCOMPARE(seen[size_t(2 * i)].iteration, i);
        QCOMPARE(seen[size_t(2 * i)].metric, QStringLiteral("rmse"));
        QCOMPARE(seen[size_t(2 * i + 1)].dataset, QStringLiteral("validation"));
        valid.push_back(seen[size_t(2 * i + 1)].value);
    }
    QCOMPARE(int(std::min_element(valid.begin(), valid.end()) - valid.begin()), best);
    QVERIFY(valid.back() > valid[size_t(best)]);

    // Predictions use trees up to the best iteration: their RMSE is the best validation score, not the last.
    const std::vector<double> pred = predictOrFail(*model, xValid);
    const double rmse = rmseOf(yValid.values, pred);
    qInfo("early stopping: %d rounds, best iteration %d, validation rmse best %.3f last %.3f, recomputed %.3f",
          rounds, best, valid[size_t(best)], valid.back(), rmse);
    QVERIFY(std::abs(rmse - valid[size_t(best)]) <= 1e-4 * valid[size_t(best)]);
    QVERIFY(std::abs(diag.value(QStringLiteral("best_score")).toDouble() - valid[size_t(best)]) <= 1e-9 * rmse);

    // The saved model carries the best iteration (standard "best_iteration" attribute) and predicts the same.
    const QByteArray json = model->serialize();
    const QJsonObject attrs = QJsonDocument::fromJson(json)
                                  .object()
                                  .value(QStringLiteral("learner"))
                                  .toObject()
                                  .value(QStringLiteral("attributes"))
                                  .toObject();
    QCOMPARE(attrs.value(QStringLiteral("best_iteration")).toString(), QString::number(best));
    auto loaded = loadModel(QStringLiteral("xgboost-gbdt"), json);
    QVERIFY2(loaded, qPrintable(loaded.message()));
    QCOMPARE(static_cast<XgbModel *>(loaded->get())->bestIteration(), best);
    QVERIFY(predictOrFail(**loaded, xValid) == pred);
}

void TestXgboost::randomForest()
{
    const DesignMatrix xTrain = rowsOf(m_diamonds, 5, false), xTest = rowsOf(m_diamonds, 5, true);
    const Target yTrain = rowsOf(m_price, 5, false), yTest = rowsOf(m_price, 5, true);
    std::vector<IterationMetrics> seen;
    auto model = fitOrFail(XgbMode::RandomForest, xTrain, yTrain, {{QStringLiteral("n_estimators"), 25}}, &xTest,
                           &yTest, [&](const IterationMetrics &m) { seen.push_back(m); });
    QCOMPARE(model->kind(), QStringLiteral("xgboost-rf"));
    QCOMPARE(static_cast<XgbModel *>(model.get())->boostedRounds(), 1);
    QCOMPARE(int(seen.size()), 2);
    const std::vector<double> pred = predictOrFail(*model, xTest);
    const double r2 = rSquared(yTest.values, pred);
    const QJsonObject json = QJsonDocument::fromJson(model->serialize()).object();
    const QJsonObject gb = json.value(QStringLiteral("learner"))
                               .toObject()
                               .value(QStringLiteral("gradient_booster"))
                               .toObject()
                               .value(QStringLiteral("model"))
                               .toObject();
    QCOMPARE(gb.value(QStringLiteral("trees")).toArray().size(), 25);
    QVERIFY(std::abs(seen[1].value - rmseOf(yTest.values, pred)) <= 1e-4 * seen[1].value);

    auto forest = fitOrFail(XgbMode::RandomForest, m_adultTrain, m_adultTrainY, {{QStringLiteral("n_estimators"), 25}});
    const std::vector<double> prob = predictOrFail(*forest, m_adultTest);
    const double acc = binaryAccuracy(m_adultTestY.values, prob);
    const double auc = aucOf(m_adultTestY.values, prob);
    qInfo("random forest (25 trees, depth 8): diamonds R2 %.4f; adult accuracy %.4f, AUC %.4f", r2, acc, auc);
    QVERIFY(r2 > 0.95);
    QVERIFY(acc > 0.84);

    auto loaded = loadModel(QStringLiteral("xgboost-rf"), forest->serialize());
    QVERIFY2(loaded, qPrintable(loaded.message()));
    QCOMPARE((*loaded)->kind(), QStringLiteral("xgboost-rf"));
    QVERIFY(predictOrFail(**loaded, m_adultTest) == prob);
}

void TestXgboost::cancel()
{
    keel::Feedback fb;
    int lastRound = -1;
    qint64 progressDone = 0;
    fb.setCallback([&](qint64 done, qint64, const QString &) { progressDone = done; });
    const Params params = {{QStringLiteral("n_estimators"), 200}, {QStringLiteral("threads"), 1}};
    auto m = XgbLearner().fit(m_diamonds, m_price, params, nullptr, nullptr,
                              [&](const IterationMetrics &it) {
                                  lastRound = it.iteration;
                                  if (it.iteration == 3)
                                      fb.cancel();
                              },
                              &fb);
    QVERIFY(!m);
    QVERIFY(m.error().is(keel::ErrorKind::Cancelled));
    QCOMPARE(lastRound, 3);
    QCOMPARE(progressDone, qint64(4));

    keel::Feedback early;
    early.cancel();
    auto m2 = XgbLearner(XgbMode::RandomForest).fit(m_diamonds, m_price, {{QStringLiteral("threads"), 1}}, nullptr,
                                                    nullptr, {}, &early);
    QVERIFY(!m2);
    QVERIFY(m2.error().is(keel::ErrorKind::Cancelled));
}

void TestXgboost::errors()
{
    const DesignMatrix x = rowsOf(m_adultTrain, 50, true);
    Target y = rowsOf(m_adultTrainY, 50, true);
    Target bad = y;
    bad.values[3] = 2;
    auto m = XgbLearner().fit(x, bad, {}, nullptr, nullptr, {}, nullptr);
    QVERIFY(!m);
    QCOMPARE(m.error().field, QStringLiteral("target"));

    // An XGBoost-side failure carries XGBoost's own message.
    auto m2 = XgbLearner().fit(x, y, {{QStringLiteral("max_bin"), 1}, {QStringLiteral("n_estimators"), 2}}, nullptr,
                               nullptr, {}, nullptr);
    QVERIFY(!m2);
    QVERIFY2(m2.error().message.startsWith(QStringLiteral("XGBoost ")), qPrintable(m2.message()));

    DesignMatrix narrow = x;
    narrow.cols -= 1;
    narrow.values.resize(size_t(narrow.rows) * size_t(narrow.cols));
    auto m3 = XgbLearner().fit(x, y, {{QStringLiteral("n_estimators"), 2}}, &narrow, &y, {}, nullptr);
    QVERIFY(!m3);

    auto model = fitOrFail(XgbMode::Gbdt, x, y, {{QStringLiteral("n_estimators"), 2}});
    QVERIFY(!model->predict(narrow));
    DesignMatrix ragged = x;
    ragged.values.pop_back();
    QVERIFY(!model->predict(ragged));
}

void TestXgboost::missingValuesAndConcurrentPredict()
{
    auto model = fitOrFail(XgbMode::Gbdt, m_adultTrain, m_adultTrainY, {{QStringLiteral("n_estimators"), 20}});
    DesignMatrix x = rowsOf(m_adultTest, 4, true);
    for (qint64 r = 0; r < x.rows; r += 3)
        x.at(r, 0) = std::nanf(""); // age missing: XGBoost's default direction
    const std::vector<double> ref = predictOrFail(*model, x);
    for (double v : ref)
        QVERIFY(std::isfinite(v) && v >= 0 && v <= 1);
    std::vector<std::vector<double>> results(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); ++t)
        threads.emplace_back([&, t] {
            for (int rep = 0; rep < 3; ++rep)
                results[t] = predictOrFail(*model, x);
        });
    for (std::thread &t : threads)
        t.join();
    for (const auto &r : results)
        QVERIFY(r == ref);
}

QTEST_GUILESS_MAIN(TestXgboost)
#include "tst_xgboost.moc"
