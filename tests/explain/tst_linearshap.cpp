// Linear SHAP: a hand-computed example; ridge, binary logistic and multinomial logistic models fitted on diamonds
// against brute-force Shapley enumeration (all 2^F coalitions, the value of a coalition being the mean margin over
// background rows with the other features taken from the background); additivity against the model's own margin;
// one-hot aggregation; errors, progress and cancel.

#include "../ml/mltest.h"
#include "explain/linearshap.h"
#include "ml/linear.h"
#include "ml/logistic.h"
#include "ml/xgboost.h"

#include <QTest>

#include <cmath>

using namespace keel;
using namespace keel::explain;
using namespace keel::ml;
using namespace keel::mltest;

namespace {

double factorial(int n) { return n <= 1 ? 1.0 : n * factorial(n - 1); }

/// Brute-force interventional Shapley values of one row: phi[k * F + i].
std::vector<double> bruteForce(const Model &m, const float *row, const DesignMatrix &bg, int outputs)
{
    const int F = bg.cols;
    // v(S) for every coalition: the mean margin of the hybrid rows (x on S, background elsewhere).
    DesignMatrix hybrid = bg;
    std::vector<double> v(size_t(1u << F) * size_t(outputs), 0.0);
    for (unsigned s = 0; s < (1u << F); ++s) {
        for (qint64 b = 0; b < bg.rows; ++b)
            for (int f = 0; f < F; ++f)
                hybrid.at(b, f) = (s >> f & 1u) ? row[f] : bg.at(b, f);
        auto margin = m.predictMargin(hybrid);
        if (!margin)
            qFatal("predictMargin failed: %s", qPrintable(margin.message()));
        for (qint64 b = 0; b < bg.rows; ++b)
            for (int k = 0; k < outputs; ++k)
                v[s * unsigned(outputs) + unsigned(k)] += (*margin)[size_t(b * outputs + k)] / double(bg.rows);
    }
    std::vector<double> phi(size_t(F) * size_t(outputs), 0.0);
    for (int i = 0; i < F; ++i)
        for (unsigned s = 0; s < (1u << F); ++s) {
            if (s >> i & 1u)
                continue;
            const int size = std::popcount(s);
            const double w = factorial(size) * factorial(F - size - 1) / factorial(F);
            for (int k = 0; k < outputs; ++k)
                phi[size_t(k * F + i)] += w * (v[(s | 1u << i) * unsigned(outputs) + unsigned(k)]
                                               - v[s * unsigned(outputs) + unsigned(k)]);
        }
    return phi;
}

std::unique_ptr<Model> fitOrFail(const Learner &learner, const DesignMatrix &x, const Target &y, const Params &p)
{
    auto params = validateParams(learner.params(), p);
    if (!params)
        qFatal("params: %s", qPrintable(params.message()));
    auto m = learner.fit(x, y, *params, nullptr, nullptr, {}, nullptr);
    if (!m)
        qFatal("fit failed: %s", qPrintable(m.message()));
    return std::move(m).value();
}

} // namespace

class TestLinearShap : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void handComputed();
    void fittedModels_data();
    void fittedModels();
    void oneHotAggregation();
    void errors();
    void progressAndCancel();

private:
    keel::data::Table m_diamondsTable;
    DesignMatrix m_numeric; // six standardised numeric diamonds columns
    DesignMatrix m_all;     // all features but price, one-hot encoded
};

void TestLinearShap::initTestCase()
{
    m_diamondsTable = readExample("diamonds.csv");
    m_numeric = Encoder::fit(m_diamondsTable,
                             {QStringLiteral("cut"), QStringLiteral("color"), QStringLiteral("clarity"),
                              QStringLiteral("price")},
                             true, true)
                    .apply(m_diamondsTable);
    m_all = Encoder::fit(m_diamondsTable, {QStringLiteral("price")}, true, true).apply(m_diamondsTable);
    QCOMPARE(m_numeric.cols, 6);
}

void TestLinearShap::handComputed()
{
    // y = 1 + 2 x0 - 3 x1; background means (1, 2); x = (3, 1): phi = (2 * 2, -3 * -1) = (4, 3), base = -3.
    const LinearModel model({2.0, -3.0}, 1.0, {QStringLiteral("a"), QStringLiteral("b")}, {});
    DesignMatrix bg;
    bg.rows = 2;
    bg.cols = 2;
    bg.values = {0, 0, 2, 4};
    DesignMatrix x;
    x.rows = 1;
    x.cols = 2;
    x.values = {3, 1};
    x.columnNames = {QStringLiteral("a"), QStringLiteral("b")};
    auto a = linearShap(model, x, bg);
    QVERIFY2(a, qPrintable(a.message()));
    QCOMPARE(a->method, QStringLiteral("linear_shap"));
    QCOMPARE(a->features, x.columnNames);
    QCOMPARE(a->base, std::vector<double>{-3.0});
    QCOMPARE(a->value(0, 0, 0), 4.0);
    QCOMPARE(a->value(0, 0, 1), 3.0);
    QCOMPARE(a->residual, std::vector<double>{0.0});
    QCOMPARE(a->parameters.value(QStringLiteral("background_rows")).toInteger(), qint64(2));
    QCOMPARE(a->parameters.value(QStringLiteral("model_kind")).toString(), QStringLiteral("linear"));

    auto same = linearShapWithMeans(model, x, {1.0, 2.0});
    QVERIFY(same);
    QCOMPARE(same->values, a->values);
}

void TestLinearShap::fittedModels_data()
{
    QTest::addColumn<QString>("kind");
    QTest::newRow("ridge") << QStringLiteral("ridge");
    QTest::newRow("ols") << QStringLiteral("linear");
    QTest::newRow("binary logistic") << QStringLiteral("binary");
    QTest::newRow("multinomial logistic") << QStringLiteral("multinomial");
}

void TestLinearShap::fittedModels()
{
    QFETCH(QString, kind);
    const DesignMatrix train = rowsOf(m_numeric, 10, true);
    const Target price = rowsOf(numericTarget(m_diamondsTable, QStringLiteral("price")), 10, true);
    std::unique_ptr<Model> model;
    int outputs = 1;
    if (kind == QLatin1String("ridge")) {
        model = fitOrFail(LinearLearner(LinearLearner::Variant::Ridge), train, price,
                          {{QStringLiteral("alpha"), 3.0}});
    } else if (kind == QLatin1String("linear")) {
        model = fitOrFail(LinearLearner(), train, price, {});
    } else if (kind == QLatin1String("binary")) {
        Target y;
        y.task = Task::BinaryClassification;
        y.classes = {QStringLiteral("cheap"), QStringLiteral("dear")};
        for (double p : price.values)
            y.values.push_back(p > 2400 ? 1.0 : 0.0);
        model = fitOrFail(LogisticLearner(), train, y, {});
    } else {
        const Target cut = rowsOf(classTarget(m_diamondsTable, QStringLiteral("cut"),
                                              {QStringLiteral("Fair"), QStringLiteral("Good"),
                                               QStringLiteral("Very Good"), QStringLiteral("Premium"),
                                               QStringLiteral("Ideal")}),
                                  10, true);
        model = fitOrFail(LogisticLearner(), train, cut, {});
        outputs = 5;
    }
    const DesignMatrix background = rowsOf(train, 60, true);
    const DesignMatrix x = rowsOf(rowsOf(m_numeric, 10, false), 400, true);
    auto a = linearShap(*model, x, background);
    QVERIFY2(a, qPrintable(a.message()));
    QCOMPARE(a->outputs, outputs);
    QCOMPARE(a->rows, x.rows);

    // Brute-force Shapley values of the interventional game, relative to the size of the margin.
    auto margin = model->predictMargin(x);
    QVERIFY(margin);
    double scale = 1;
    for (double m : *margin)
        scale = std::max(scale, std::abs(m));
    double worst = 0;
    for (qint64 r = 0; r < x.rows; ++r) {
        const std::vector<double> phi = bruteForce(*model, x.values.data() + r * x.cols, background, outputs);
        for (int k = 0; k < outputs; ++k)
            for (int f = 0; f < x.cols; ++f)
                worst = std::max(worst, std::abs(a->value(r, k, f) - phi[size_t(k * x.cols + f)]));
    }
    qInfo("%s: %lld rows, %d outputs, max |phi - brute force| %.2g (margin scale %.3g), max residual %.2g",
          qPrintable(kind), x.rows, outputs, worst, scale, a->maxAbsResidual());
    QVERIFY2(worst < 1e-9 * scale, qPrintable(QString::number(worst)));
    // Additivity against the model's own margin, every row and output.
    QCOMPARE(a->residual.size(), size_t(x.rows) * size_t(outputs));
    QVERIFY2(a->maxAbsResidual() < 1e-9 * scale, qPrintable(QString::number(a->maxAbsResidual())));
}

void TestLinearShap::oneHotAggregation()
{
    const DesignMatrix train = rowsOf(m_all, 10, true);
    const Target price = rowsOf(numericTarget(m_diamondsTable, QStringLiteral("price")), 10, true);
    auto model = fitOrFail(LinearLearner(LinearLearner::Variant::Ridge), train, price, {});
    const DesignMatrix x = rowsOf(train, 50, true);
    auto a = linearShap(*model, x, train);
    QVERIFY2(a, qPrintable(a.message()));
    auto agg = aggregateToSourceFeatures(*a, x);
    QVERIFY2(agg, qPrintable(agg.message()));
    QCOMPARE(agg->features, x.sourceFeatureNames);
    const auto *linear = static_cast<const LinearModel *>(model.get());
    const int cut = int(x.sourceFeatureNames.indexOf(QStringLiteral("cut")));
    for (qint64 r = 0; r < x.rows; ++r) {
        // The cut contribution is the sum over its one-hot columns of w_c (x_c - mean_c), computed here directly.
        double expected = 0;
        for (int c = 0; c < x.cols; ++c) {
            if (x.sourceFeature[size_t(c)] != cut)
                continue;
            double mean = 0;
            for (qint64 b = 0; b < train.rows; ++b)
                mean += train.at(b, c);
            mean /= double(train.rows);
            expected += linear->coefficients()[size_t(c)] * (double(x.at(r, c)) - mean);
        }
        QVERIFY(std::abs(agg->value(r, 0, cut) - expected) < 1e-6 * std::max(1.0, std::abs(expected)));
    }
}

void TestLinearShap::errors()
{
    const LinearModel model({2.0, -3.0}, 1.0, {QStringLiteral("a"), QStringLiteral("b")}, {});
    DesignMatrix bg;
    bg.rows = 2;
    bg.cols = 2;
    bg.values = {0, 0, 2, 4};
    bg.columnNames = {QStringLiteral("a"), QStringLiteral("b")};
    DesignMatrix x = bg;

    DesignMatrix withNan = x;
    withNan.at(1, 1) = std::nanf("");
    auto a = linearShap(model, withNan, bg);
    QVERIFY(!a);
    QCOMPARE(a.error().field, QStringLiteral("b"));
    QVERIFY2(a.error().message.contains(QStringLiteral("row 2")), qPrintable(a.message()));
    auto b = linearShap(model, x, withNan);
    QVERIFY(!b);
    QCOMPARE(b.error().field, QStringLiteral("b"));

    DesignMatrix narrow;
    narrow.rows = 1;
    narrow.cols = 1;
    narrow.values = {1};
    QVERIFY(!linearShap(model, narrow, bg));
    QVERIFY(!linearShap(model, x, narrow));
    DesignMatrix empty;
    empty.cols = 2;
    QVERIFY(!linearShap(model, x, empty));
    QVERIFY(!linearShapWithMeans(model, x, {1.0}));

    // A tree model is not linear.
    const DesignMatrix train = rowsOf(m_numeric, 100, true);
    const Target price = rowsOf(numericTarget(m_diamondsTable, QStringLiteral("price")), 100, true);
    auto trees = fitOrFail(XgbLearner(), train, price, {{QStringLiteral("n_estimators"), 2},
                                                        {QStringLiteral("threads"), 1}});
    auto c = linearShap(*trees, train, train);
    QVERIFY(!c);
    QVERIFY2(c.error().message.contains(QStringLiteral("xgboost-gbdt")), qPrintable(c.message()));
}

void TestLinearShap::progressAndCancel()
{
    const LinearModel model({1, 2, 3, 4, 5, 6}, 0.5, m_numeric.columnNames, {});
    keel::Feedback fb;
    qint64 last = -1, total = 0;
    fb.setCallback([&](qint64 done, qint64 t, const QString &) {
        QVERIFY(done > last);
        last = done;
        total = t;
    });
    QVERIFY(linearShap(model, m_numeric, m_numeric, &fb));
    QCOMPARE(last, m_numeric.rows);
    QCOMPARE(total, m_numeric.rows);
    keel::Feedback cancelled;
    cancelled.cancel();
    auto a = linearShap(model, m_numeric, m_numeric, &cancelled);
    QVERIFY(!a);
    QVERIFY(a.error().is(keel::ErrorKind::Cancelled));
}

QTEST_GUILESS_MAIN(TestLinearShap)
#include "tst_linearshap.moc"
