// Logistic regression: binary and multinomial fits against a plain Newton-Raphson written here (on the
// unscaled objective, explicit inversion / Kronecker Hessian), L-BFGS vs Newton agreement, the convergence
// report, serialization, error paths, cancel and adult.csv quality.

#include "data/reader.h"
#include "ml/learners.h"
#include "mltest.h"
#include "ml/logistic.h"

#include <QElapsedTimer>
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

/// Classification problem drawn from a softmax model with K classes (K = 2: binary); overlapping classes.
void makeProblem(qint64 n, int p, int k, unsigned seed, DesignMatrix &x, Target &y)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0.0, 1.0);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    x = DesignMatrix();
    x.rows = n;
    x.cols = p;
    for (int c = 0; c < p; ++c)
        x.columnNames.append(QStringLiteral("x") + QString::number(c));
    x.values.resize(size_t(n) * size_t(p));
    Eigen::MatrixXd w(k, p + 1);
    for (int a = 0; a < k; ++a)
        for (int c = 0; c <= p; ++c)
            w(a, c) = g(rng);
    y = Target();
    y.task = k == 2 ? Task::BinaryClassification : Task::MulticlassClassification;
    for (int a = 0; a < k; ++a)
        y.classes.append(QStringLiteral("c") + QString::number(a));
    for (qint64 r = 0; r < n; ++r) {
        Eigen::VectorXd x1(p + 1);
        x1(0) = 1.0;
        for (int c = 0; c < p; ++c) {
            x.at(r, c) = float(g(rng) + 0.5 * c);
            x1(c + 1) = double(x.at(r, c));
        }
        Eigen::VectorXd z = w * x1;
        Eigen::VectorXd e = (z.array() - z.maxCoeff()).exp();
        e /= e.sum();
        double t = u(rng);
        int cls = 0;
        while (cls < k - 1 && t > e(cls)) {
            t -= e(cls);
            ++cls;
        }
        y.values.push_back(cls);
    }
}

/// Reference solution of  sum_i logloss_i + ||W||^2 / (2C)  by plain Newton-Raphson.
/// Returns K' x (p+1) coefficients, column 0 the intercept (K' = 1 for binary); multinomial intercepts centred.
Eigen::MatrixXd referenceNewton(const DesignMatrix &x, const Target &y, double c)
{
    const int p = x.cols;
    const qint64 n = x.rows;
    const bool binary = y.task == Task::BinaryClassification;
    const int k = binary ? 1 : y.numClasses();
    const int d = p + 1;
    Eigen::MatrixXd x1(n, d);
    for (qint64 r = 0; r < n; ++r) {
        x1(r, 0) = 1.0;
        for (int j = 0; j < p; ++j)
            x1(r, j + 1) = double(x.at(r, j));
    }
    Eigen::VectorXd theta = Eigen::VectorXd::Zero(k * d); // block a = class a's [b, w]
    Eigen::MatrixXd pen = Eigen::MatrixXd::Identity(d, d) / c;
    pen(0, 0) = 0;
    for (int it = 0; it < 100; ++it) {
        Eigen::VectorXd grad = Eigen::VectorXd::Zero(k * d);
        Eigen::MatrixXd hess = Eigen::MatrixXd::Zero(k * d, k * d);
        for (qint64 r = 0; r < n; ++r) {
            const Eigen::VectorXd xi = x1.row(r).transpose();
            const Eigen::MatrixXd outer = xi * xi.transpose();
            if (binary) {
                const double z = theta.dot(xi);
                const double pr = 1.0 / (1.0 + std::exp(-z));
                grad += (pr - y.values[size_t(r)]) * xi;
                hess += pr * (1 - pr) * outer;
            } else {
                Eigen::VectorXd z(k);
                for (int a = 0; a < k; ++a)
                    z(a) = theta.segment(a * d, d).dot(xi);
                Eigen::VectorXd pr = (z.array() - z.maxCoeff()).exp();
                pr /= pr.sum();
                for (int a = 0; a < k; ++a) {
                    grad.segment(a * d, d) += (pr(a) - (int(y.values[size_t(r)]) == a ? 1.0 : 0.0)) * xi;
                    for (int b = 0; b < k; ++b)
                        hess.block(a * d, b * d, d, d) += pr(a) * ((a == b ? 1.0 : 0.0) - pr(b)) * outer;
                }
            }
        }
        for (int a = 0; a < k; ++a) {
            grad.segment(a * d, d) += pen * theta.segment(a * d, d);
            hess.block(a * d, a * d, d, d) += pen;
        }
        // Minimum-norm step: the multinomial Hessian is singular along a common intercept shift.
        const Eigen::VectorXd step = hess.completeOrthogonalDecomposition().solve(grad);
        theta -= step;
        if (step.lpNorm<Eigen::Infinity>() < 1e-14)
            break;
    }
    Eigen::MatrixXd out(k, d);
    for (int a = 0; a < k; ++a)
        out.row(a) = theta.segment(a * d, d).transpose();
    if (k > 1)
        out.col(0).array() -= out.col(0).mean();
    return out;
}

std::unique_ptr<Model> fitOrFail(const DesignMatrix &x, const Target &y, const Params &p,
                                 const DesignMatrix *vx = nullptr, const Target *vy = nullptr,
                                 const IterationCallback &cb = {})
{
    auto m = LogisticLearner().fit(x, y, p, vx, vy, cb, nullptr);
    if (!m)
        qFatal("fit failed: %s", qPrintable(m.message()));
    return std::move(m).value();
}

Params solverParams(const QString &solver, double c, double tol)
{
    return {{QStringLiteral("solver"), solver}, {QStringLiteral("C"), c}, {QStringLiteral("tol"), tol},
            {QStringLiteral("max_iter"), 1000}};
}

} // namespace

class TestLogistic : public QObject {
    Q_OBJECT
private slots:
    void againstNewton_data();
    void againstNewton();
    void probabilities();
    void roundTripAndDeterminism();
    void validationAndCurve();
    void errors_data();
    void errors();
    void cancel();
    void adult();
};

void TestLogistic::againstNewton_data()
{
    QTest::addColumn<int>("classes");
    QTest::addColumn<QString>("solver");
    QTest::addColumn<double>("c");
    QTest::addColumn<unsigned>("seed");
    for (const char *solver : {"newton", "lbfgs"}) {
        const QString s = QLatin1String(solver);
        QTest::addRow("binary C=1 %s", solver) << 2 << s << 1.0 << 1u;
        QTest::addRow("binary C=0.01 %s", solver) << 2 << s << 0.01 << 2u;
        QTest::addRow("binary C=1000 %s", solver) << 2 << s << 1000.0 << 3u;
        QTest::addRow("3 classes C=1 %s", solver) << 3 << s << 1.0 << 4u;
        QTest::addRow("4 classes C=0.1 %s", solver) << 4 << s << 0.1 << 5u;
    }
}

void TestLogistic::againstNewton()
{
    QFETCH(int, classes);
    QFETCH(QString, solver);
    QFETCH(double, c);
    QFETCH(unsigned, seed);
    DesignMatrix x;
    Target y;
    makeProblem(300, 3, classes, seed, x, y);
    const Eigen::MatrixXd ref = referenceNewton(x, y, c);
    const double tol = 1e-10;
    auto model = fitOrFail(x, y, solverParams(solver, c, tol));
    auto *lm = dynamic_cast<LogisticModel *>(model.get());
    QVERIFY(lm);
    const QVariantMap diag = model->diagnostics();
    QVERIFY2(diag.value(QStringLiteral("converged")).toBool(), qPrintable(diag.value(QStringLiteral("stop_reason")).toString()));
    QVERIFY(diag.value(QStringLiteral("gradient_norm")).toDouble() <= tol);
    QVERIFY(diag.value(QStringLiteral("iterations")).toInt() >= 1);
    QCOMPARE(diag.value(QStringLiteral("solver")).toString(), solver);
    QCOMPARE(int(lm->intercepts().size()), int(ref.rows()));
    for (int a = 0; a < ref.rows(); ++a) {
        QVERIFY2(std::abs(lm->intercepts()[size_t(a)] - ref(a, 0)) < 1e-6,
                 qPrintable(QStringLiteral("intercept %1: %2 vs %3").arg(a).arg(lm->intercepts()[size_t(a)]).arg(ref(a, 0))));
        for (int j = 0; j < x.cols; ++j)
            QVERIFY2(std::abs(lm->weights()[size_t(a * x.cols + j)] - ref(a, j + 1)) < 1e-6,
                     qPrintable(QStringLiteral("weight %1,%2").arg(a).arg(j)));
    }
    // The reported objective is the mean-scaled one: recompute it from the reference solution.
    double loss = 0;
    auto prob = model->predict(x);
    QVERIFY(prob);
    for (qint64 r = 0; r < x.rows; ++r) {
        const int yi = int(y.values[size_t(r)]);
        const double pr = classes == 2 ? (yi == 1 ? (*prob)[size_t(r)] : 1 - (*prob)[size_t(r)])
                                       : (*prob)[size_t(r) * size_t(classes) + size_t(yi)];
        loss -= std::log(pr);
    }
    const double penalty = ref.rightCols(x.cols).squaredNorm() / (2 * c);
    const double objective = (loss + penalty) / double(x.rows);
    QVERIFY(std::abs(diag.value(QStringLiteral("objective")).toDouble() - objective) < 1e-9);
}

void TestLogistic::probabilities()
{
    DesignMatrix x;
    Target y;
    makeProblem(200, 4, 5, 8u, x, y);
    auto model = fitOrFail(x, y, {});
    QCOMPARE(model->numClasses(), 5);
    QCOMPARE(model->task(), Task::MulticlassClassification);
    auto prob = model->predict(x);
    auto margin = model->predictMargin(x);
    QVERIFY(prob && margin);
    QCOMPARE(prob->size(), size_t(200 * 5));
    for (size_t r = 0; r < 200; ++r) {
        double s = 0, se = 0;
        for (size_t k = 0; k < 5; ++k) {
            s += (*prob)[r * 5 + k];
            se += std::exp((*margin)[r * 5 + k]);
        }
        QVERIFY(std::abs(s - 1.0) < 1e-12);
        for (size_t k = 0; k < 5; ++k)
            QVERIFY(std::abs((*prob)[r * 5 + k] - std::exp((*margin)[r * 5 + k]) / se) < 1e-12);
    }
    // Binary: probability is the sigmoid of the margin.
    makeProblem(100, 2, 2, 9u, x, y);
    auto bin = fitOrFail(x, y, {});
    auto bp = bin->predict(x);
    auto bm = bin->predictMargin(x);
    QVERIFY(bp && bm);
    QCOMPARE(bp->size(), size_t(100));
    for (size_t r = 0; r < 100; ++r)
        QVERIFY(std::abs((*bp)[r] - 1.0 / (1.0 + std::exp(-(*bm)[r]))) < 1e-12);
}

void TestLogistic::roundTripAndDeterminism()
{
    DesignMatrix x;
    Target y;
    makeProblem(300, 3, 3, 10u, x, y);
    auto a = fitOrFail(x, y, {});
    auto b = fitOrFail(x, y, {});
    auto pa = a->predict(x);
    auto pb = b->predict(x);
    QVERIFY(pa && pb);
    QCOMPARE(*pa, *pb);
    auto loaded = loadModel(QStringLiteral("logistic"), a->serialize());
    QVERIFY2(loaded, qPrintable(loaded.message()));
    auto pl = (*loaded)->predict(x);
    QVERIFY(pl);
    QCOMPARE(*pl, *pa);
    QCOMPARE((*loaded)->task(), Task::MulticlassClassification);
    QCOMPARE((*loaded)->numClasses(), 3);
    QCOMPARE((*loaded)->diagnostics().value(QStringLiteral("iterations")),
             a->diagnostics().value(QStringLiteral("iterations")));
    auto bad = loadModel(QStringLiteral("logistic"),
                         QByteArrayLiteral("{\"format\":\"keel-logistic\",\"version\":1,\"task\":\"banana\"}"));
    QVERIFY(!bad);
    QCOMPARE(bad.error().field, QStringLiteral("task"));
}

void TestLogistic::validationAndCurve()
{
    DesignMatrix x, vx;
    Target y, vy;
    makeProblem(300, 3, 2, 12u, x, y);
    makeProblem(100, 3, 2, 13u, vx, vy);
    std::vector<IterationMetrics> seen;
    auto model = fitOrFail(x, y, {}, &vx, &vy, [&](const IterationMetrics &m) { seen.push_back(m); });
    const int iters = model->diagnostics().value(QStringLiteral("iterations")).toInt();
    QCOMPARE(int(seen.size()), iters + 2); // objective at iterations 0..iters, then validation log loss
    for (int i = 0; i <= iters; ++i) {
        QCOMPARE(seen[size_t(i)].iteration, i);
        QCOMPARE(seen[size_t(i)].dataset, QStringLiteral("train"));
        if (i > 0)
            QVERIFY(seen[size_t(i)].value <= seen[size_t(i - 1)].value); // Armijo: monotone decrease
    }
    QCOMPARE(seen.back().dataset, QStringLiteral("validation"));
    auto prob = model->predict(vx);
    QVERIFY(prob);
    double ll = 0;
    for (size_t r = 0; r < vy.values.size(); ++r)
        ll -= std::log(vy.values[r] == 1.0 ? (*prob)[r] : 1.0 - (*prob)[r]);
    ll /= double(vy.values.size());
    QVERIFY(std::abs(seen.back().value - ll) < 1e-12);
    QVERIFY(std::abs(model->diagnostics().value(QStringLiteral("validation_logloss")).toDouble() - ll) < 1e-12);
}

void TestLogistic::errors_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("field");
    QTest::newRow("regression task") << 0 << QStringLiteral("task");
    QTest::newRow("label out of range") << 1 << QStringLiteral("target");
    QTest::newRow("fractional label") << 2 << QStringLiteral("target");
    QTest::newRow("missing feature") << 3 << QStringLiteral("x2");
    QTest::newRow("bad solver") << 4 << QStringLiteral("solver");
    QTest::newRow("C zero") << 5 << QStringLiteral("C");
    QTest::newRow("binary with 3 classes") << 6 << QStringLiteral("target");
}

void TestLogistic::errors()
{
    QFETCH(int, which);
    QFETCH(QString, field);
    DesignMatrix x;
    Target y;
    makeProblem(50, 3, 2, 1u, x, y);
    Params p;
    switch (which) {
    case 0: y.task = Task::Regression; break;
    case 1: y.values[7] = 2; break;
    case 2: y.values[7] = 0.5; break;
    case 3: x.at(3, 2) = std::nanf(""); break;
    case 4: p.insert(QStringLiteral("solver"), QStringLiteral("sgd")); break;
    case 5: p.insert(QStringLiteral("C"), 0.0); break;
    case 6: y.classes.append(QStringLiteral("extra")); break;
    }
    auto m = LogisticLearner().fit(x, y, p, nullptr, nullptr, {}, nullptr);
    QVERIFY(!m);
    QCOMPARE(m.error().field, field);
}

void TestLogistic::cancel()
{
    DesignMatrix x;
    Target y;
    makeProblem(300, 3, 3, 14u, x, y);
    keel::Feedback fb;
    int calls = 0;
    auto m = LogisticLearner().fit(x, y, solverParams(QStringLiteral("lbfgs"), 1.0, 1e-12), nullptr, nullptr,
                                   [&](const IterationMetrics &) {
                                       if (++calls == 3)
                                           fb.cancel();
                                   },
                                   &fb);
    QVERIFY(!m);
    QVERIFY(m.error().is(keel::ErrorKind::Cancelled));
    QCOMPARE(calls, 3);
}

void TestLogistic::adult()
{
    const keel::data::Table train = readExample("adult_train.csv");
    const keel::data::Table test = readExample("adult_test.csv");
    const QStringList classes = {QStringLiteral("<=50K"), QStringLiteral(">50K")};
    const Encoder enc = Encoder::fit(train, {QStringLiteral("class")}, true, true);
    const DesignMatrix xTrain = enc.apply(train), xTest = enc.apply(test);
    const Target yTrain = classTarget(train, QStringLiteral("class"), classes);
    const Target yTest = classTarget(test, QStringLiteral("class"), classes);

    const Params lbfgsParams = solverParams(QStringLiteral("lbfgs"), 1.0, 1e-6);
    QElapsedTimer clock;
    clock.start();
    auto lbfgs = fitOrFail(xTrain, yTrain, lbfgsParams);
    const qint64 lbfgsMs = clock.restart();
    auto newton = fitOrFail(xTrain, yTrain, solverParams(QStringLiteral("newton"), 1.0, 1e-9));
    const qint64 newtonMs = clock.elapsed();
    qInfo("fit wall time (informational, not asserted): lbfgs %lld ms (%d evaluations), newton %lld ms", lbfgsMs,
          lbfgs->diagnostics().value(QStringLiteral("evaluations")).toInt(), newtonMs);
    const QVariantMap dl = lbfgs->diagnostics(), dn = newton->diagnostics();
    QVERIFY(dl.value(QStringLiteral("converged")).toBool());
    QVERIFY(dn.value(QStringLiteral("converged")).toBool());
    QVERIFY(dl.value(QStringLiteral("gradient_norm")).toDouble() <= 1e-6);
    // Same convex objective: both solvers reach the same minimum (gap <= |g|^2 / (2 lambda), about 2e-8 here).
    const double ol = dl.value(QStringLiteral("objective")).toDouble();
    const double on = dn.value(QStringLiteral("objective")).toDouble();
    QVERIFY2(std::abs(ol - on) < 1e-7, qPrintable(QStringLiteral("%1 vs %2").arg(ol, 0, 'g', 12).arg(on, 0, 'g', 12)));

    auto prob = lbfgs->predict(xTest);
    QVERIFY(prob);
    const double acc = binaryAccuracy(yTest.values, *prob);
    const double auc = aucOf(yTest.values, *prob);
    auto probN = newton->predict(xTest);
    QVERIFY(probN);
    double maxDiff = 0, meanDiff = 0;
    for (size_t i = 0; i < prob->size(); ++i) {
        maxDiff = std::max(maxDiff, std::abs((*prob)[i] - (*probN)[i]));
        meanDiff += std::abs((*prob)[i] - (*probN)[i]) / double(prob->size());
    }
    qInfo("adult_test logistic (C=1, %d columns): accuracy %.4f, AUC %.4f; lbfgs %d it, newton %d it, "
          "objective %.10f vs %.10f, |p_lbfgs - p_newton| mean %.2e max %.2e",
          xTrain.cols, acc, auc, dl.value(QStringLiteral("iterations")).toInt(),
          dn.value(QStringLiteral("iterations")).toInt(), ol, on, meanDiff, maxDiff);
    // Collinear one-hot columns leave flat directions: probabilities agree closely on average, loosely at worst.
    QVERIFY(meanDiff < 1e-3);
    QVERIFY(maxDiff < 0.05);
    QVERIFY(acc > 0.84);
    QVERIFY(auc > 0.89);
}

QTEST_GUILESS_MAIN(TestLogistic)
#include "tst_logistic.moc"
