// KernelSHAP: exact against the closed form of a linear model (independent background) and against brute-force
// Shapley values of hand-built non-linear functions (enumeration over every coalition and background row), with
// a categorical's one-hot columns as one player; convergence of the sampled estimator and its standard error;
// background summaries; determinism across threads; cancel; JSON round trips; a logistic model on Adult.

#include "data/reader.h"
#include "explain/kernelshap.h"
#include "ml/linear.h"
#include "ml/logistic.h"
#include "ml/recipe.h"

#include <QJsonDocument>
#include <QTest>

#include <cmath>
#include <functional>
#include <numeric>
#include <random>

using namespace keel;
using namespace keel::explain;

namespace {

// A model computing a hand-written function of the design row (margins), for exact reference values.
class FunctionModel final : public ml::Model {
public:
    using Fn = std::function<void(const float *row, double *margins)>;
    FunctionModel(ml::Task task, int outputs, Fn fn) : m_task(task), m_outputs(outputs), m_fn(std::move(fn)) {}
    QString kind() const override { return QStringLiteral("test-function"); }
    ml::Task task() const override { return m_task; }
    int numClasses() const override
    {
        return m_task == ml::Task::Regression ? 0 : m_task == ml::Task::BinaryClassification ? 2 : m_outputs;
    }
    Expected<std::vector<double>> predictMargin(const ml::DesignMatrix &x) const override
    {
        std::vector<double> out(size_t(x.rows) * size_t(m_outputs));
        for (qint64 r = 0; r < x.rows; ++r)
            m_fn(x.values.data() + r * x.cols, out.data() + r * m_outputs);
        return out;
    }
    Expected<std::vector<double>> predict(const ml::DesignMatrix &x) const override
    {
        auto m = predictMargin(x);
        if (m_task == ml::Task::BinaryClassification)
            for (double &v : *m)
                v = 1.0 / (1.0 + std::exp(-v));
        return m;
    }
    QByteArray serialize() const override { return {}; }
    QVariantMap diagnostics() const override { return {}; }

private:
    ml::Task m_task;
    int m_outputs;
    Fn m_fn;
};

data::Column numbers(const QString &name, const std::vector<double> &v)
{
    data::ColumnBuilder b(data::ColumnType::Float64);
    for (double d : v)
        b.appendFloat64(d);
    return b.finish(name);
}

data::Column texts(const QString &name, const std::vector<QString> &v)
{
    data::ColumnBuilder b(data::ColumnType::Categorical);
    for (const QString &s : v) {
        const QByteArray u = s.toUtf8();
        b.appendString(std::string_view(u.constData(), size_t(u.size())));
    }
    return b.finish(name);
}

// `numeric` standard-normal columns x0..x{numeric-1}, optionally a categorical "c" in {a, b, c}, and a target y.
data::Table randomTable(int rows, int numeric, bool categorical, quint32 seed)
{
    std::mt19937 gen(seed);
    std::normal_distribution<double> normal;
    std::vector<data::Column> cols;
    for (int j = 0; j < numeric; ++j) {
        std::vector<double> v;
        for (int r = 0; r < rows; ++r)
            v.push_back(std::round(normal(gen) * 1000) / 1000);
        cols.push_back(numbers(QStringLiteral("x%1").arg(j), v));
    }
    if (categorical) {
        std::vector<QString> v;
        const QString cats[] = {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")};
        for (int r = 0; r < rows; ++r)
            v.push_back(cats[gen() % 3]);
        cols.push_back(texts(QStringLiteral("c"), v));
    }
    std::vector<double> y;
    for (int r = 0; r < rows; ++r)
        y.push_back(normal(gen));
    cols.push_back(numbers(QStringLiteral("y"), y));
    return data::Table(std::move(cols));
}

std::shared_ptr<const ml::Recipe> fitRecipe(const data::Table &t)
{
    ml::RecipeSpec spec;
    spec.target = QStringLiteral("y");
    spec.task = QStringLiteral("regression");
    auto r = ml::Recipe::fit(t, spec);
    if (!r)
        qFatal("recipe: %s", qPrintable(r.message()));
    return std::make_shared<const ml::Recipe>(std::move(r).value());
}

// Player groups by column name ("c=..." columns are one player), independent of the library's featureColumns().
std::vector<std::vector<int>> groupsByName(const QStringList &columns)
{
    std::vector<std::vector<int>> groups;
    QStringList names;
    for (int c = 0; c < columns.size(); ++c) {
        const QString base = columns[c].section(QLatin1Char('='), 0, 0);
        qsizetype g = names.indexOf(base);
        if (g < 0) {
            names.append(base);
            groups.emplace_back();
            g = names.size() - 1;
        }
        groups[size_t(g)].push_back(c);
    }
    return groups;
}

double factorial(int n) { return n <= 1 ? 1.0 : n * factorial(n - 1); }

// Exact interventional Shapley values of output k for design row x by enumerating every coalition.
std::vector<double> bruteForceShapley(const ml::Model &model, int outputs, int k, const std::vector<float> &x,
                                      const Background &bg, const std::vector<std::vector<int>> &groups)
{
    const int M = int(groups.size());
    std::vector<double> v(size_t(1) << M, 0.0);
    for (quint32 s = 0; s < (1u << M); ++s) {
        ml::DesignMatrix m = bg.x;
        for (qint64 b = 0; b < m.rows; ++b)
            for (int j = 0; j < M; ++j)
                if (s & (1u << j))
                    for (int c : groups[size_t(j)])
                        m.at(b, c) = x[size_t(c)];
        auto margin = model.predictMargin(m);
        for (qint64 b = 0; b < m.rows; ++b)
            v[s] += bg.weights[size_t(b)] * (*margin)[size_t(b) * size_t(outputs) + size_t(k)];
    }
    std::vector<double> phi(size_t(M), 0.0);
    for (int i = 0; i < M; ++i)
        for (quint32 s = 0; s < (1u << M); ++s) {
            if (s & (1u << i))
                continue;
            const int size = __builtin_popcount(s);
            const double w = factorial(size) * factorial(M - size - 1) / factorial(M);
            phi[size_t(i)] += w * (v[s | (1u << i)] - v[s]);
        }
    return phi;
}

std::vector<float> rowOf(const ml::DesignMatrix &x, qint64 r)
{
    return std::vector<float>(x.values.begin() + r * x.cols, x.values.begin() + (r + 1) * x.cols);
}

// A non-linear function of x0, x1, x2 and the categorical c (design columns x0 x1 x2 c=a c=b c=c).
void nonLinear(const float *r, double *out)
{
    const double x0 = r[0], x1 = r[1], x2 = r[2], ca = r[3], cb = r[4];
    out[0] = x0 * x1 + 2 * std::sin(x2) + ca * x0 * x0 - 1.5 * cb * x1 * x2 + std::max(x0 + x2, 0.0);
}

} // namespace

class TstKernelShap : public QObject {
    Q_OBJECT
private slots:
    void linearClosedForm_data()
    {
        QTest::addColumn<int>("method");
        QTest::addColumn<int>("numeric");
        QTest::addColumn<int>("samples");
        QTest::addColumn<bool>("exact");
        QTest::newRow("kmeans, 4 players, enumerated") << int(BackgroundOptions::Method::KMeans) << 3 << 0 << true;
        QTest::newRow("sample, 4 players, enumerated") << int(BackgroundOptions::Method::Sample) << 3 << 0 << true;
        QTest::newRow("kmeans, 12 players, 60 samples") << int(BackgroundOptions::Method::KMeans) << 11 << 60 << false;
    }
    void linearClosedForm()
    {
        QFETCH(int, method);
        QFETCH(int, numeric);
        QFETCH(int, samples);
        QFETCH(bool, exact);
        const data::Table t = randomTable(300, numeric, true, 7);
        ModelContext ctx;
        ctx.recipe = fitRecipe(t);
        const QStringList cols = ctx.recipe->columnNames();
        std::vector<double> w;
        for (int c = 0; c < cols.size(); ++c)
            w.push_back(0.5 * (c + 1) * (c % 2 ? -1 : 1));
        ctx.model = std::make_shared<ml::LinearModel>(w, 0.25, cols, QVariantMap());
        BackgroundOptions bo;
        bo.method = BackgroundOptions::Method(method);
        bo.size = 25;
        bo.seed = 3;
        auto bg = summariseBackground(ctx, t, bo);
        QVERIFY2(bg, qPrintable(bg.message()));
        QCOMPARE(bg->size(), qint64(25));
        QCOMPARE(bg->method, method == int(BackgroundOptions::Method::KMeans) ? QStringLiteral("kmeans") : QStringLiteral("sample"));

        const std::vector<qint64> pick = {0, 17, 123, 299};
        auto rows = selectRows(t, pick);
        QVERIFY(rows);
        KernelShapOptions ko;
        ko.samples = samples;
        auto res = kernelShap(ctx, *rows, *bg, ko);
        QVERIFY2(res, qPrintable(res.message()));
        const Attribution &a = res->attribution;
        QCOMPARE(a.method, QStringLiteral("kernel_shap"));
        QCOMPARE(a.features, ctx.features());
        QCOMPARE(res->exact, exact);
        if (exact)
            QCOMPARE(res->maxStandardError, 0.0);

        // Closed form: phi_f = sum over the feature's columns of w_c (x_c - E_bg x_c).
        std::vector<double> mean(size_t(cols.size()), 0.0);
        double base = 0.25;
        for (qint64 b = 0; b < bg->x.rows; ++b)
            for (int c = 0; c < cols.size(); ++c) {
                mean[size_t(c)] += bg->weights[size_t(b)] * double(bg->x.at(b, c));
                base += bg->weights[size_t(b)] * w[size_t(c)] * double(bg->x.at(b, c));
            }
        QVERIFY(std::abs(a.base[0] - base) < 1e-9);
        auto x = ctx.design(*rows);
        QVERIFY(x);
        const auto groups = groupsByName(cols);
        for (qint64 r = 0; r < x->rows; ++r) {
            for (size_t f = 0; f < groups.size(); ++f) {
                double expected = 0;
                for (int c : groups[f])
                    expected += w[size_t(c)] * (double(x->at(r, c)) - mean[size_t(c)]);
                QVERIFY2(std::abs(a.value(r, 0, int(f)) - expected) < 1e-8,
                         qPrintable(QStringLiteral("row %1 feature %2: %3 vs %4").arg(r).arg(a.features[int(f)]).arg(a.value(r, 0, int(f))).arg(expected)));
            }
            QVERIFY(std::abs(a.residual[size_t(r)]) < 1e-9);
            // Raw values are shown untransformed: the category text and the number as in the table.
            QCOMPARE(res->rawValues[size_t(r)].last(), t.column(t.indexOf(QStringLiteral("c"))).displayAt(pick[size_t(r)]));
            QCOMPARE(res->rawValues[size_t(r)].first(), t.column(0).displayAt(pick[size_t(r)]));
        }
        QVERIFY(a.maxAbsResidual() < 1e-9);
    }

    void bruteForce_data()
    {
        QTest::addColumn<int>("backgroundSize");
        QTest::newRow("whole table as background (equal weights)") << 1000;
        QTest::newRow("k-means background (unequal weights)") << 12;
    }
    void bruteForce()
    {
        QFETCH(int, backgroundSize);
        const data::Table t = randomTable(40, 3, true, 11);
        ModelContext ctx;
        ctx.recipe = fitRecipe(t);
        QCOMPARE(ctx.recipe->columnNames(),
                 (QStringList{QStringLiteral("x0"), QStringLiteral("x1"), QStringLiteral("x2"), QStringLiteral("c=a"),
                              QStringLiteral("c=b"), QStringLiteral("c=c")}));
        auto model = std::make_shared<FunctionModel>(ml::Task::Regression, 1, nonLinear);
        ctx.model = model;
        BackgroundOptions bo;
        bo.size = backgroundSize;
        auto bg = summariseBackground(ctx, t, bo);
        QVERIFY(bg);
        if (backgroundSize < 40) {
            QCOMPARE(bg->method, QStringLiteral("kmeans"));
            QVERIFY(*std::max_element(bg->weights.begin(), bg->weights.end()) >
                    *std::min_element(bg->weights.begin(), bg->weights.end()));
        } else {
            QCOMPARE(bg->method, QStringLiteral("all"));
        }
        auto res = kernelShap(ctx, t, *bg);
        QVERIFY2(res, qPrintable(res.message()));
        QVERIFY(res->exact);
        auto x = ctx.design(t);
        const auto groups = groupsByName(x->columnNames);
        QCOMPARE(int(groups.size()), 4);
        for (qint64 r = 0; r < x->rows; ++r) {
            const std::vector<double> phi = bruteForceShapley(*model, 1, 0, rowOf(*x, r), *bg, groups);
            for (int f = 0; f < 4; ++f)
                QVERIFY2(std::abs(res->attribution.value(r, 0, f) - phi[size_t(f)]) < 1e-9,
                         qPrintable(QStringLiteral("row %1 feature %2: %3 vs %4").arg(r).arg(f).arg(res->attribution.value(r, 0, f)).arg(phi[size_t(f)])));
        }
        QVERIFY(res->attribution.maxAbsResidual() < 1e-9);
    }

    void multiOutput()
    {
        // Three margins (a multiclass model): each output has its own base and Shapley values.
        const data::Table t = randomTable(30, 3, true, 5);
        ModelContext ctx;
        ctx.recipe = fitRecipe(t);
        auto model = std::make_shared<FunctionModel>(ml::Task::Regression, 3, [](const float *r, double *out) {
            nonLinear(r, out);
            out[1] = r[0] * r[2] - r[4];
            out[2] = std::exp(0.3 * r[1]) * (r[3] + r[5]);
        });
        auto bg = summariseBackground(*ctx.recipe->transform(t), BackgroundOptions{BackgroundOptions::Method::Sample, 10, 4, 5000, 50});
        QVERIFY(bg);
        QCOMPARE(bg->method, QStringLiteral("sample"));
        auto x = ctx.recipe->transform(t);
        auto res = kernelShap(*model, 3, *x, *bg);
        QVERIFY2(res, qPrintable(res.message()));
        QCOMPARE(res->attribution.outputs, 3);
        QVERIFY(res->rawValues.empty());
        const auto groups = groupsByName(x->columnNames);
        for (qint64 r = 0; r < 6; ++r)
            for (int k = 0; k < 3; ++k) {
                const std::vector<double> phi = bruteForceShapley(*model, 3, k, rowOf(*x, r), *bg, groups);
                for (int f = 0; f < 4; ++f)
                    QVERIFY(std::abs(res->attribution.value(r, k, f) - phi[size_t(f)]) < 1e-9);
            }
        QVERIFY(res->attribution.maxAbsResidual() < 1e-9);
    }

    void convergence()
    {
        // Ten players with pairwise interactions: 1022 coalitions. Sampled estimates approach the brute-force
        // values as the budget grows, and the reported standard error tracks the actual error.
        const int M = 10;
        const data::Table t = randomTable(60, M, false, 21);
        ModelContext ctx;
        ctx.recipe = fitRecipe(t);
        auto model = std::make_shared<FunctionModel>(ml::Task::Regression, 1, [](const float *r, double *out) {
            double s = 0;
            for (int i = 0; i < 10; ++i)
                s += (i + 1) * 0.1 * r[i] + r[i] * r[(i + 3) % 10] * 0.7 + 0.5 * std::tanh(r[i] * r[(i + 1) % 10] * r[(i + 5) % 10]);
            out[0] = s;
        });
        ctx.model = model;
        BackgroundOptions bo;
        bo.size = 8;
        auto bg = summariseBackground(ctx, t, bo);
        QVERIFY(bg);
        auto x = ctx.design(t);
        const auto groups = groupsByName(x->columnNames);
        const qint64 rows = 8;
        std::vector<std::vector<double>> truth;
        for (qint64 r = 0; r < rows; ++r)
            truth.push_back(bruteForceShapley(*model, 1, 0, rowOf(*x, r), *bg, groups));
        auto sub = selectRows(t, std::vector<qint64>{0, 1, 2, 3, 4, 5, 6, 7});
        QVERIFY(sub);

        double previous = INFINITY;
        for (int samples : {60, 250, 900}) {
            KernelShapOptions ko;
            ko.samples = samples;
            auto res = kernelShap(ctx, *sub, *bg, ko);
            QVERIFY2(res, qPrintable(res.message()));
            QVERIFY(!res->exact);
            QVERIFY(res->maxStandardError > 0);
            double ss = 0, seSum = 0;
            int within = 0, total = 0;
            for (qint64 r = 0; r < rows; ++r)
                for (int f = 0; f < M; ++f) {
                    const double err = res->attribution.value(r, 0, f) - truth[size_t(r)][size_t(f)];
                    const double se = res->standardErrorOf(r, 0, f);
                    ss += err * err;
                    seSum += se * se;
                    within += std::abs(err) <= 3 * se + 1e-9 ? 1 : 0;
                    ++total;
                }
            const double rmsErr = std::sqrt(ss / total), rmsSe = std::sqrt(seSum / total);
            qInfo("samples %d: RMS error %.5f, RMS standard error %.5f, %d/%d within 3 SE", samples, rmsErr, rmsSe,
                  within, total);
            QVERIFY(rmsErr < previous);
            previous = rmsErr;
            QVERIFY(rmsSe > rmsErr / 3 && rmsSe < rmsErr * 3);   // the estimate is of the right size
            QVERIFY(within >= total * 8 / 10);
            QVERIFY(res->attribution.maxAbsResidual() < 1e-9); // additivity holds exactly even when sampled
        }
        QVERIFY(previous < 0.05);

        KernelShapOptions full;
        full.samples = 5000; // above 2^10 - 2: every coalition, exact
        auto res = kernelShap(ctx, *sub, *bg, full);
        QVERIFY(res);
        QVERIFY(res->exact);
        QCOMPARE(res->maxCoalitions, 1022);
        for (qint64 r = 0; r < rows; ++r)
            for (int f = 0; f < M; ++f)
                QVERIFY(std::abs(res->attribution.value(r, 0, f) - truth[size_t(r)][size_t(f)]) < 1e-9);
    }

    void constantAndSingleFeatures()
    {
        // A feature equal in the row and every background row gets exactly 0; with one varying feature it gets
        // everything (margin - base).
        std::vector<data::Column> cols;
        cols.push_back(numbers(QStringLiteral("a"), {1, 1, 1, 1}));
        cols.push_back(numbers(QStringLiteral("b"), {0, 1, 2, 3}));
        cols.push_back(numbers(QStringLiteral("y"), {0, 0, 0, 0}));
        const data::Table t(std::move(cols));
        ModelContext ctx;
        ctx.recipe = fitRecipe(t);
        ctx.model = std::make_shared<FunctionModel>(ml::Task::Regression, 1,
                                                    [](const float *r, double *o) { o[0] = r[0] * r[1] * r[1]; });
        auto bg = summariseBackground(ctx, t, BackgroundOptions{});
        QVERIFY(bg);
        auto res = kernelShap(ctx, t, *bg);
        QVERIFY(res);
        const double base = (0 + 1 + 4 + 9) / 4.0;
        QCOMPARE(res->attribution.base[0], base);
        for (qint64 r = 0; r < 4; ++r) {
            QCOMPARE(res->attribution.value(r, 0, 0), 0.0);
            QVERIFY(std::abs(res->attribution.value(r, 0, 1) - (double(r * r) - base)) < 1e-12);
        }
    }

    void determinismAndThreads()
    {
        const data::Table t = randomTable(50, 9, true, 2);
        ModelContext ctx;
        ctx.recipe = fitRecipe(t);
        ctx.model = std::make_shared<FunctionModel>(ml::Task::Regression, 1, [](const float *r, double *o) {
            o[0] = r[0] * r[1] + std::sin(r[2] * r[3]) + r[9] * r[4] - r[10] * r[5] * r[6] + r[7] * r[8];
        });
        auto bg = summariseBackground(ctx, t, BackgroundOptions{BackgroundOptions::Method::KMeans, 10, 9, 5000, 50});
        QVERIFY(bg);
        auto bg2 = summariseBackground(ctx, t, BackgroundOptions{BackgroundOptions::Method::KMeans, 10, 9, 5000, 50});
        QVERIFY(bg2);
        QCOMPARE(bg->sourceRows, bg2->sourceRows);
        auto rows = selectRows(t, std::vector<qint64>{3, 4, 5, 6, 7});
        KernelShapOptions one;
        one.samples = 100;
        one.threads = 1;
        KernelShapOptions two = one;
        two.threads = 2;
        KernelShapOptions other = one;
        other.seed = 99;
        auto a = kernelShap(ctx, *rows, *bg, one);
        auto b = kernelShap(ctx, *rows, *bg, two);
        auto c = kernelShap(ctx, *rows, *bg, other);
        QVERIFY(a && b && c);
        QVERIFY(!a->exact);
        QVERIFY(a->attribution.values == b->attribution.values);
        QVERIFY(a->standardError == b->standardError);
        QVERIFY(a->attribution.values != c->attribution.values);
    }

    void cancelAndErrors()
    {
        const data::Table t = randomTable(30, 3, true, 1);
        ModelContext ctx;
        ctx.recipe = fitRecipe(t);
        ctx.model = std::make_shared<FunctionModel>(ml::Task::Regression, 1, nonLinear);
        auto bg = summariseBackground(ctx, t, BackgroundOptions{});
        QVERIFY(bg);
        Feedback fb;
        fb.cancel();
        auto res = kernelShap(ctx, t, *bg, {}, &fb);
        QVERIFY(!res);
        QVERIFY(res.error().is(keel::ErrorKind::Cancelled));

        Background wrong = *bg;
        wrong.x.columnNames[0] = QStringLiteral("other");
        QVERIFY(!kernelShap(ctx, t, wrong));
        QVERIFY(!summariseBackground(ctx, t, BackgroundOptions{BackgroundOptions::Method::KMeans, 0, 1, 5000, 50}));
        ModelContext empty;
        QVERIFY(!kernelShap(empty, t, *bg));
    }

    void backgroundKMeans()
    {
        // Three well separated clusters of 50, 30 and 20 rows: k-means with k = 3 finds them, each represented by
        // a real row of the cluster with weight = its share.
        std::vector<double> a, b;
        std::mt19937 gen(4);
        std::uniform_real_distribution<double> u(-0.5, 0.5);
        const double centre[3][2] = {{0, 0}, {20, 0}, {0, 20}};
        const int sizes[3] = {50, 30, 20};
        std::vector<int> cluster;
        for (int c = 0; c < 3; ++c)
            for (int i = 0; i < sizes[c]; ++i) {
                a.push_back(centre[c][0] + u(gen));
                b.push_back(centre[c][1] + u(gen));
                cluster.push_back(c);
            }
        std::vector<data::Column> cols;
        cols.push_back(numbers(QStringLiteral("a"), a));
        cols.push_back(numbers(QStringLiteral("b"), b));
        cols.push_back(numbers(QStringLiteral("y"), a));
        const data::Table t(std::move(cols));
        ModelContext ctx;
        ctx.recipe = fitRecipe(t);
        ctx.model = std::make_shared<FunctionModel>(ml::Task::Regression, 1, [](const float *r, double *o) { o[0] = r[0]; });
        auto bg = summariseBackground(ctx, t, BackgroundOptions{BackgroundOptions::Method::KMeans, 3, 1, 5000, 50});
        QVERIFY(bg);
        QCOMPARE(bg->size(), qint64(3));
        std::vector<double> weightOf(3, 0.0);
        for (size_t i = 0; i < 3; ++i)
            weightOf[size_t(cluster[size_t(bg->sourceRows[i])])] = bg->weights[i];
        QCOMPARE(weightOf[0], 0.5);
        QCOMPARE(weightOf[1], 0.3);
        QCOMPARE(weightOf[2], 0.2);
        QCOMPARE(bg->populationRows, qint64(100));
        // The design rows are the source rows through the recipe.
        for (size_t i = 0; i < 3; ++i)
            QCOMPARE(bg->x.at(qint64(i), 0), float(a[size_t(bg->sourceRows[i])]));

        auto s = summariseBackground(ctx, t, BackgroundOptions{BackgroundOptions::Method::Sample, 10, 8, 5000, 50});
        QVERIFY(s);
        QCOMPARE(s->sourceRows.size(), size_t(10));
        QVERIFY(std::is_sorted(s->sourceRows.begin(), s->sourceRows.end()));
        QVERIFY(std::adjacent_find(s->sourceRows.begin(), s->sourceRows.end()) == s->sourceRows.end());
        for (double w : s->weights)
            QCOMPARE(w, 0.1);
    }

    void jsonRoundTrip()
    {
        const data::Table t = randomTable(40, 6, true, 9);
        ModelContext ctx;
        ctx.recipe = fitRecipe(t);
        ctx.model = std::make_shared<FunctionModel>(ml::Task::Regression, 1, [](const float *r, double *o) {
            o[0] = r[0] * r[1] + r[2] * r[6] - r[3] * r[4] * r[5] + r[7];
        });
        auto bg = summariseBackground(ctx, t, BackgroundOptions{BackgroundOptions::Method::KMeans, 7, 2, 5000, 50});
        QVERIFY(bg);
        const QByteArray bgBytes = QJsonDocument(bg->toJson()).toJson(QJsonDocument::Compact);
        auto bgBack = Background::fromJson(QJsonDocument::fromJson(bgBytes).object());
        QVERIFY2(bgBack, qPrintable(bgBack.message()));
        QCOMPARE(QJsonDocument(bgBack->toJson()).toJson(QJsonDocument::Compact), bgBytes);
        QVERIFY(bgBack->x.values == bg->x.values);

        KernelShapOptions ko;
        ko.samples = 40;
        auto rows = selectRows(t, std::vector<qint64>{1, 2});
        auto res = kernelShap(ctx, *rows, *bg, ko);
        auto again = kernelShap(ctx, *rows, *bgBack, ko);
        QVERIFY(res && again);
        QVERIFY(res->attribution.values == again->attribution.values);
        const QByteArray bytes = QJsonDocument(res->toJson()).toJson(QJsonDocument::Compact);
        auto back = KernelShapResult::fromJson(QJsonDocument::fromJson(bytes).object());
        QVERIFY2(back, qPrintable(back.message()));
        QCOMPARE(QJsonDocument(back->toJson()).toJson(QJsonDocument::Compact), bytes);
        QVERIFY(back->attribution.values == res->attribution.values);
        QVERIFY(back->standardError == res->standardError);
        QCOMPARE(back->rawValues, res->rawValues);
        QCOMPARE(back->attribution.parameters, res->attribution.parameters);

        QJsonObject broken = res->toJson();
        broken.insert(QStringLiteral("standard_error"), QJsonArray{1.0});
        QVERIFY(!KernelShapResult::fromJson(broken));
    }

    void adultLogistic()
    {
        // A logistic model on Adult (one-hot categoricals, scaled numerics): KernelSHAP of the log-odds over the
        // 14 raw features equals the closed form summed over each feature's design columns.
        auto train = data::readTable(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_train.csv"));
        QVERIFY(train);
        std::vector<qint64> first(3000);
        std::iota(first.begin(), first.end(), qint64(0));
        auto small = selectRows(*train, first);
        QVERIFY(small);
        auto spec = ml::RecipeSpec::fromYaml(QStringLiteral("target: class\ndefaults: {scale: standard}\n"));
        QVERIFY(spec);
        auto recipe = ml::Recipe::fit(*small, *spec);
        QVERIFY(recipe);
        auto x = recipe->transform(*small);
        auto y = recipe->target(*small);
        QVERIFY(x && y);
        auto model = ml::LogisticLearner().fit(*x, *y, {{QStringLiteral("max_iter"), 50}}, nullptr, nullptr, {}, nullptr);
        QVERIFY2(model, qPrintable(model.message()));
        ModelContext ctx;
        ctx.recipe = std::make_shared<const ml::Recipe>(std::move(recipe).value());
        ctx.model = std::shared_ptr<const ml::Model>(std::move(model).value());
        QVERIFY(ctx.check());
        auto bg = summariseBackground(ctx, *small, BackgroundOptions{BackgroundOptions::Method::KMeans, 20, 1, 2000, 20});
        QVERIFY(bg);
        auto rows = selectRows(*small, std::vector<qint64>{0, 1, 2});
        QVERIFY(rows);
        auto res = kernelShap(ctx, *rows, *bg);
        QVERIFY2(res, qPrintable(res.message()));
        QCOMPARE(res->attribution.featureCount(), 14);
        QCOMPARE(res->attribution.features, ctx.features());
        QVERIFY(!res->exact);
        const auto *lm = dynamic_cast<const ml::LogisticModel *>(ctx.model.get());
        QVERIFY(lm);
        auto rx = ctx.design(*rows);
        const auto groups = featureColumns(*rx);
        for (qint64 r = 0; r < 3; ++r) {
            for (size_t f = 0; f < groups.size(); ++f) {
                double expected = 0;
                for (int c : groups[f]) {
                    double mean = 0;
                    for (qint64 b = 0; b < bg->x.rows; ++b)
                        mean += bg->weights[size_t(b)] * double(bg->x.at(b, c));
                    expected += lm->weights()[size_t(c)] * (double(rx->at(r, c)) - mean);
                }
                QVERIFY(std::abs(res->attribution.value(r, 0, int(f)) - expected) < 1e-7);
            }
        }
        QVERIFY(res->attribution.maxAbsResidual() < 1e-9);
        QCOMPARE(res->rawValues[0][ctx.featureIndex(QStringLiteral("workclass"))], QStringLiteral("State-gov"));
    }
};

QTEST_GUILESS_MAIN(TstKernelShap)
#include "tst_kernelshap.moc"
