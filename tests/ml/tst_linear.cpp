// Linear and ridge regression: closed-form checks against an independent Eigen inversion, rank-deficient
// designs, serialization round trips, error paths, the learner registry and diamonds.csv quality.

#include "data/reader.h"
#include "ml/learners.h"
#include "mltest.h"
#include "ml/linear.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

using namespace keel::ml;
using namespace keel::mltest;

namespace {

/// Random well-conditioned regression problem: uniform features in [-2, 2] with distinct offsets, noisy linear target.
void makeProblem(qint64 n, int p, unsigned seed, DesignMatrix &x, Target &y)
{
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-2.0, 2.0);
    std::normal_distribution<double> noise(0.0, 0.5);
    x = DesignMatrix();
    x.rows = n;
    x.cols = p;
    for (int c = 0; c < p; ++c)
        x.columnNames.append(QStringLiteral("x") + QString::number(c));
    x.values.resize(size_t(n) * size_t(p));
    std::vector<double> beta(static_cast<size_t>(p));
    for (int c = 0; c < p; ++c)
        beta[size_t(c)] = u(rng) * 3.0;
    y = Target();
    for (qint64 r = 0; r < n; ++r) {
        double t = 1.5;
        for (int c = 0; c < p; ++c) {
            const float v = float(u(rng) + 0.3 * c);
            x.at(r, c) = v;
            t += double(v) * beta[size_t(c)];
        }
        y.values.push_back(t + noise(rng));
    }
}

/// Reference (X1'X1 + alpha I')^-1 X1'y with X1 = [1 X] and I' = I except 0 for the intercept, by explicit inversion.
Eigen::VectorXd closedForm(const DesignMatrix &x, const Target &y, double alpha)
{
    Eigen::MatrixXd x1(x.rows, x.cols + 1);
    for (qint64 r = 0; r < x.rows; ++r) {
        x1(r, 0) = 1.0;
        for (int c = 0; c < x.cols; ++c)
            x1(r, c + 1) = double(x.at(r, c));
    }
    Eigen::MatrixXd a = x1.transpose() * x1;
    for (int c = 1; c <= x.cols; ++c)
        a(c, c) += alpha;
    const Eigen::VectorXd yv = Eigen::Map<const Eigen::VectorXd>(y.values.data(), Eigen::Index(y.values.size()));
    return a.inverse() * (x1.transpose() * yv);
}

std::unique_ptr<Model> fitOrFail(const Learner &l, const DesignMatrix &x, const Target &y, const Params &p)
{
    auto m = l.fit(x, y, p, nullptr, nullptr, {}, nullptr);
    if (!m)
        qFatal("fit failed: %s", qPrintable(m.message()));
    return std::move(m).value();
}

} // namespace

class TestLinear : public QObject {
    Q_OBJECT
private slots:
    void olsClosedForm_data();
    void olsClosedForm();
    void ridgeClosedForm_data();
    void ridgeClosedForm();
    void noIntercept();
    void collinearColumns();
    void roundTrip();
    void errors_data();
    void errors();
    void cancel();
    void registry();
    void diamonds();
};

void TestLinear::olsClosedForm_data()
{
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("p");
    QTest::addColumn<unsigned>("seed");
    QTest::newRow("tiny") << 6 << 2 << 1u;
    QTest::newRow("one feature") << 50 << 1 << 2u;
    QTest::newRow("medium") << 500 << 8 << 3u;
    QTest::newRow("multi chunk") << 10000 << 5 << 4u;
}

void TestLinear::olsClosedForm()
{
    QFETCH(int, n);
    QFETCH(int, p);
    QFETCH(unsigned, seed);
    DesignMatrix x;
    Target y;
    makeProblem(n, p, seed, x, y);
    const Eigen::VectorXd ref = closedForm(x, y, 0.0);
    LinearLearner ols(LinearLearner::Variant::Ols);
    auto model = fitOrFail(ols, x, y, {});
    auto *lin = dynamic_cast<LinearModel *>(model.get());
    QVERIFY(lin);
    QVERIFY(std::abs(lin->intercept() - ref(0)) <= 1e-9 * std::max(1.0, std::abs(ref(0))));
    for (int c = 0; c < p; ++c)
        QVERIFY2(std::abs(lin->coefficients()[size_t(c)] - ref(c + 1)) <= 1e-9 * std::max(1.0, std::abs(ref(c + 1))),
                 qPrintable(QString::number(c)));
    QCOMPARE(model->diagnostics().value(QStringLiteral("rank")).toInt(), p);

    // Predictions equal X1 * beta computed independently.
    auto pred = model->predict(x);
    QVERIFY(pred);
    for (qint64 r = 0; r < x.rows; r += std::max<qint64>(1, x.rows / 50)) {
        double v = ref(0);
        for (int c = 0; c < p; ++c)
            v += double(x.at(r, c)) * ref(c + 1);
        QVERIFY(std::abs((*pred)[size_t(r)] - v) <= 1e-8 * std::max(1.0, std::abs(v)));
    }
}

void TestLinear::ridgeClosedForm_data()
{
    QTest::addColumn<double>("alpha");
    QTest::addColumn<int>("n");
    QTest::newRow("small alpha") << 0.1 << 200;
    QTest::newRow("alpha 1") << 1.0 << 200;
    QTest::newRow("strong") << 100.0 << 200;
    QTest::newRow("p > n") << 5.0 << 6;
}

void TestLinear::ridgeClosedForm()
{
    QFETCH(double, alpha);
    QFETCH(int, n);
    DesignMatrix x;
    Target y;
    makeProblem(n, 10, 7u, x, y);
    const Eigen::VectorXd ref = closedForm(x, y, alpha);
    LinearLearner ridge(LinearLearner::Variant::Ridge);
    auto model = fitOrFail(ridge, x, y, {{QStringLiteral("alpha"), alpha}});
    auto *lin = dynamic_cast<LinearModel *>(model.get());
    QVERIFY(lin);
    QVERIFY(std::abs(lin->intercept() - ref(0)) <= 1e-9 * std::max(1.0, std::abs(ref(0))));
    for (int c = 0; c < x.cols; ++c)
        QVERIFY(std::abs(lin->coefficients()[size_t(c)] - ref(c + 1)) <= 1e-9 * std::max(1.0, std::abs(ref(c + 1))));
}

void TestLinear::noIntercept()
{
    DesignMatrix x;
    Target y;
    makeProblem(300, 4, 11u, x, y);
    Eigen::MatrixXd xm(x.rows, x.cols);
    for (qint64 r = 0; r < x.rows; ++r)
        for (int c = 0; c < x.cols; ++c)
            xm(r, c) = double(x.at(r, c));
    const Eigen::VectorXd yv = Eigen::Map<const Eigen::VectorXd>(y.values.data(), Eigen::Index(y.values.size()));
    const Eigen::VectorXd ref = (xm.transpose() * xm).inverse() * (xm.transpose() * yv);
    auto model = fitOrFail(LinearLearner(), x, y, {{QStringLiteral("fit_intercept"), false}});
    auto *lin = dynamic_cast<LinearModel *>(model.get());
    QCOMPARE(lin->intercept(), 0.0);
    for (int c = 0; c < x.cols; ++c)
        QVERIFY(std::abs(lin->coefficients()[size_t(c)] - ref(c)) <= 1e-9 * std::max(1.0, std::abs(ref(c))));
}

void TestLinear::collinearColumns()
{
    // Column 2 duplicates column 0: OLS is rank deficient; fitted values must still be the least-squares fit
    // of the reduced problem, and the minimum-norm solution splits the weight equally between the twins.
    DesignMatrix base;
    Target y;
    makeProblem(400, 2, 5u, base, y);
    DesignMatrix x = base;
    x.cols = 3;
    x.columnNames.append(QStringLiteral("twin"));
    x.values.clear();
    for (qint64 r = 0; r < base.rows; ++r) {
        x.values.push_back(base.at(r, 0));
        x.values.push_back(base.at(r, 1));
        x.values.push_back(base.at(r, 0));
    }
    const Eigen::VectorXd ref = closedForm(base, y, 0.0);
    auto model = fitOrFail(LinearLearner(), x, y, {});
    QCOMPARE(model->diagnostics().value(QStringLiteral("rank")).toInt(), 2);
    auto *lin = dynamic_cast<LinearModel *>(model.get());
    QVERIFY(std::abs(lin->coefficients()[0] - lin->coefficients()[2]) <= 1e-8 * std::abs(ref(1)));
    QVERIFY(std::abs(lin->coefficients()[0] + lin->coefficients()[2] - ref(1)) <= 1e-8 * std::abs(ref(1)));
    QVERIFY(std::abs(lin->coefficients()[1] - ref(2)) <= 1e-8 * std::abs(ref(2)));
    QVERIFY(std::abs(lin->intercept() - ref(0)) <= 1e-8 * std::max(1.0, std::abs(ref(0))));
}

void TestLinear::roundTrip()
{
    DesignMatrix x;
    Target y;
    makeProblem(100, 3, 9u, x, y);
    auto model = fitOrFail(LinearLearner(LinearLearner::Variant::Ridge), x, y, {{QStringLiteral("alpha"), 0.5}});
    const QByteArray bytes = model->serialize();
    auto loaded = loadModel(QStringLiteral("linear"), bytes);
    QVERIFY2(loaded, qPrintable(loaded.message()));
    QCOMPARE((*loaded)->kind(), QStringLiteral("linear"));
    auto a = model->predict(x);
    auto b = (*loaded)->predict(x);
    QVERIFY(a && b);
    QCOMPARE(*a, *b); // bit-identical: JSON doubles are written in shortest round-trip form
    QCOMPARE((*loaded)->serialize(), bytes);
    QCOMPARE((*loaded)->diagnostics().value(QStringLiteral("alpha")).toDouble(), 0.5);

    auto bad = loadModel(QStringLiteral("linear"), QByteArrayLiteral("{\"format\":\"keel-linear\",\"version\":1}"));
    QVERIFY(!bad);
    QCOMPARE(bad.error().field, QStringLiteral("intercept"));
    QVERIFY(!loadModel(QStringLiteral("nonsense"), bytes));
}

void TestLinear::errors_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("field");
    QTest::newRow("NaN feature") << 0 << QStringLiteral("x1");
    QTest::newRow("classification target") << 1 << QStringLiteral("task");
    QTest::newRow("NaN target") << 2 << QStringLiteral("target");
    QTest::newRow("negative alpha") << 3 << QStringLiteral("alpha");
}

void TestLinear::errors()
{
    QFETCH(int, which);
    QFETCH(QString, field);
    DesignMatrix x;
    Target y;
    makeProblem(20, 3, 1u, x, y);
    Params params;
    if (which == 0)
        x.at(4, 1) = std::nanf("");
    if (which == 1)
        y.task = Task::BinaryClassification;
    if (which == 2)
        y.values[3] = std::nan("");
    if (which == 3)
        params.insert(QStringLiteral("alpha"), -1.0);
    auto m = LinearLearner(LinearLearner::Variant::Ridge).fit(x, y, params, nullptr, nullptr, {}, nullptr);
    QVERIFY(!m);
    QCOMPARE(m.error().field, field);

    // Prediction also rejects missing inputs and wrong widths.
    DesignMatrix clean;
    makeProblem(20, 3, 1u, clean, y);
    y.task = Task::Regression;
    auto model = fitOrFail(LinearLearner(), clean, y, {});
    clean.at(2, 2) = std::nanf("");
    QVERIFY(!model->predict(clean));
    DesignMatrix narrow;
    makeProblem(5, 2, 1u, narrow, y);
    QVERIFY(!model->predict(narrow));
}

void TestLinear::cancel()
{
    DesignMatrix x;
    Target y;
    makeProblem(1000, 3, 3u, x, y);
    keel::Feedback fb;
    fb.cancel();
    auto m = LinearLearner().fit(x, y, {}, nullptr, nullptr, {}, &fb);
    QVERIFY(!m);
    QVERIFY(m.error().is(keel::ErrorKind::Cancelled));
}

void TestLinear::registry()
{
    const QStringList expected = {QStringLiteral("linear"), QStringLiteral("ridge"), QStringLiteral("logistic"),
                                  QStringLiteral("gbdt"), QStringLiteral("random_forest")};
    QStringList names;
    for (const Learner *l : allLearners()) {
        names.append(l->name());
        QVERIFY(!l->description().isEmpty());
        QCOMPARE(findLearner(l->name()), l);
        // Every declaration is self-consistent: defaults validate and fill every parameter.
        auto filled = validateParams(l->params(), {});
        QVERIFY2(filled, qPrintable(l->name() + QStringLiteral(": ") + filled.message()));
        for (const ParamSpec &s : l->params()) {
            QVERIFY2(filled->contains(s.name), qPrintable(s.name));
            if (s.type == ParamSpec::Type::Int || s.type == ParamSpec::Type::Double) {
                QVERIFY(s.defaultValue.toDouble() >= s.min && s.defaultValue.toDouble() <= s.max);
                QVERIFY(!s.help.isEmpty());
            }
            if (s.type == ParamSpec::Type::Choice)
                QVERIFY(s.choices.contains(s.defaultValue.toString()));
        }
    }
    QCOMPARE(names, expected);
    QVERIFY(findLearner(QStringLiteral("nope")) == nullptr);
    QVERIFY(findLearner(QStringLiteral("ridge"))->supports(Task::Regression));
    QVERIFY(!findLearner(QStringLiteral("ridge"))->supports(Task::BinaryClassification));
    QVERIFY(findLearner(QStringLiteral("logistic"))->supports(Task::MulticlassClassification));
    QVERIFY(!findLearner(QStringLiteral("logistic"))->supports(Task::Regression));
}

void TestLinear::diamonds()
{
    const keel::data::Table t = readExample("diamonds.csv");
    const Encoder enc = Encoder::fit(t, {QStringLiteral("price")}, false, true);
    const DesignMatrix all = enc.apply(t);
    const Target yAll = numericTarget(t, QStringLiteral("price"));
    const DesignMatrix xTrain = rowsOf(all, 5, false), xTest = rowsOf(all, 5, true);
    const Target yTrain = rowsOf(yAll, 5, false), yTest = rowsOf(yAll, 5, true);
    // One-hot columns of a feature sum to 1, collinear with the intercept: OLS must cope (rank deficient).
    auto ols = fitOrFail(LinearLearner(), xTrain, yTrain, {});
    QCOMPARE(ols->diagnostics().value(QStringLiteral("rank")).toInt(), xTrain.cols - 3);
    auto pred = ols->predict(xTest);
    QVERIFY(pred);
    const double r2 = rSquared(yTest.values, *pred);
    auto ridge = fitOrFail(LinearLearner(LinearLearner::Variant::Ridge), xTrain, yTrain, {});
    auto predRidge = ridge->predict(xTest);
    QVERIFY(predRidge);
    const double r2Ridge = rSquared(yTest.values, *predRidge);
    qInfo("diamonds price holdout R2: OLS %.4f, ridge(alpha=1) %.4f (%d columns)", r2, r2Ridge, xTrain.cols);
    QVERIFY(r2 > 0.88);
    QVERIFY(r2Ridge > 0.88);
}

QTEST_GUILESS_MAIN(TestLinear)
#include "tst_linear.moc"
