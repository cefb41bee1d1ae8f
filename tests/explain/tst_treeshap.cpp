// TreeSHAP: Keel's own exact path-dependent and interventional TreeSHAP and SHAP interaction values against
// brute-force Shapley enumeration over all 2^F coalitions (conditional expectations over the trees with covers,
// or averages over a background), on random trees built as TreeEnsemble values and on small fitted XGBoost
// models; against XGBoost's own pred_contribs on an Adult model; additivity on every row; missing values;
// threads; progress and cancel; errors of the JSON reader.

#include "../ml/mltest.h"
#include "explain/treeshap.h"
#include "ml/xgboost.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>

using namespace keel;
using namespace keel::explain;
using namespace keel::ml;
using namespace keel::mltest;

namespace {

// ---- random ensembles -------------------------------------------------------------------------------------

struct RandomSpec {
    int features = 4;
    int depth = 3;
    int trees = 3;
    int outputs = 1;
    double zeroCoverChance = 0; // chance that a leaf has cover 0
    bool chain = false;         // one leaf child at every split, a different feature at every depth
};

/// Builds a random subtree into `nodes` (depth-first, so not in breadth-first order) and returns its index.
int randomSubtree(std::mt19937_64 &rng, const RandomSpec &s, int depth, std::vector<TreeNode> &nodes)
{
    std::uniform_real_distribution<double> u(0, 1);
    const int index = int(nodes.size());
    nodes.emplace_back();
    const bool leaf = depth == s.depth || (depth > 0 && u(rng) < 0.2 && !s.chain);
    if (leaf) {
        nodes[size_t(index)].value = std::normal_distribution<double>(0, 1)(rng);
        nodes[size_t(index)].cover = u(rng) < s.zeroCoverChance ? 0.0 : 1.0 + 99.0 * u(rng);
        return index;
    }
    TreeNode n;
    n.feature = s.chain ? (depth * 5 + 3) % s.features : int(rng() % uint64_t(s.features));
    n.threshold = float(0.1 + 0.8 * u(rng));
    n.defaultLeft = rng() % 2 == 0;
    nodes[size_t(index)] = n;
    const bool leafFirst = s.chain && rng() % 2 == 0;
    const int l = randomSubtree(rng, s, leafFirst ? s.depth : depth + 1, nodes);
    const int r = randomSubtree(rng, s, leafFirst || !s.chain ? depth + 1 : s.depth, nodes);
    nodes[size_t(index)].left = l;
    nodes[size_t(index)].right = r;
    nodes[size_t(index)].cover = nodes[size_t(l)].cover + nodes[size_t(r)].cover;
    return index;
}

TreeEnsemble randomEnsemble(std::mt19937_64 &rng, const RandomSpec &s)
{
    TreeEnsemble e;
    e.numFeatures = s.features;
    e.numOutputs = s.outputs;
    for (int k = 0; k < s.outputs; ++k)
        e.baseMargin.push_back(0.25 * (k + 1));
    for (int t = 0; t < s.trees; ++t) {
        Tree tree;
        tree.output = t % s.outputs;
        randomSubtree(rng, s, 0, tree.nodes);
        // Shuffle the node order (root stays 0) so that nothing depends on the layout.
        std::vector<int> perm(tree.nodes.size());
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin() + 1, perm.end(), rng);
        std::vector<TreeNode> shuffled(tree.nodes.size());
        for (size_t i = 0; i < perm.size(); ++i) {
            TreeNode n = tree.nodes[i];
            if (n.left >= 0) {
                n.left = perm[size_t(n.left)];
                n.right = perm[size_t(n.right)];
            }
            shuffled[size_t(perm[i])] = n;
        }
        tree.nodes = std::move(shuffled);
        e.trees.push_back(std::move(tree));
    }
    return e;
}

DesignMatrix randomRows(std::mt19937_64 &rng, int rows, int features, double nanChance)
{
    std::uniform_real_distribution<double> u(0, 1);
    DesignMatrix x;
    x.rows = rows;
    x.cols = features;
    for (int c = 0; c < features; ++c)
        x.columnNames.append(QStringLiteral("c") + QString::number(c));
    for (int i = 0; i < rows * features; ++i)
        x.values.push_back(u(rng) < nanChance ? std::nanf("") : float(u(rng)));
    return x;
}

// ---- brute force ------------------------------------------------------------------------------------------

double ratio(double child, double parent) { return parent > 0 ? child / parent : 0.5; }

bool left(const TreeNode &n, float v) { return std::isnan(v) ? n.defaultLeft : v < n.threshold; }

/// E[tree(x) | x_S] with the covers as the distribution of the features outside S (the "EXPVALUE" recursion).
double expValue(const Tree &t, int u, const float *x, unsigned mask)
{
    const TreeNode &n = t.nodes[size_t(u)];
    if (n.left < 0)
        return n.value;
    if (mask >> n.feature & 1u)
        return expValue(t, left(n, x[n.feature]) ? n.left : n.right, x, mask);
    return ratio(t.nodes[size_t(n.left)].cover, n.cover) * expValue(t, n.left, x, mask)
        + ratio(t.nodes[size_t(n.right)].cover, n.cover) * expValue(t, n.right, x, mask);
}

/// v(S) for every coalition S (bitmask), outputs values each: v[S * outputs + k].
using Game = std::vector<double>;

Game pathDependentGame(const TreeEnsemble &e, const float *x)
{
    const int F = e.numFeatures;
    Game v(size_t(1u << F) * size_t(e.numOutputs), 0.0);
    for (unsigned s = 0; s < (1u << F); ++s) {
        for (int k = 0; k < e.numOutputs; ++k)
            v[s * unsigned(e.numOutputs) + unsigned(k)] = e.baseMargin[size_t(k)];
        for (const Tree &t : e.trees)
            v[s * unsigned(e.numOutputs) + unsigned(t.output)] += expValue(t, 0, x, s);
    }
    return v;
}

Game interventionalGame(const TreeEnsemble &e, const float *x, const DesignMatrix &bg)
{
    const int F = e.numFeatures;
    Game v(size_t(1u << F) * size_t(e.numOutputs), 0.0);
    std::vector<float> hybrid(static_cast<size_t>(F));
    for (unsigned s = 0; s < (1u << F); ++s) {
        for (qint64 b = 0; b < bg.rows; ++b) {
            for (int f = 0; f < F; ++f)
                hybrid[size_t(f)] = (s >> f & 1u) ? x[f] : bg.at(b, f);
            const std::vector<double> m = e.margin(hybrid.data());
            for (int k = 0; k < e.numOutputs; ++k)
                v[s * unsigned(e.numOutputs) + unsigned(k)] += m[size_t(k)] / double(bg.rows);
        }
    }
    return v;
}

double factorial(int n) { return n <= 1 ? 1.0 : n * factorial(n - 1); }

/// Shapley values: phi[k * F + i].
std::vector<double> shapley(const Game &v, int F, int outputs)
{
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

/// Shapley interaction values Phi_ij (i != j) by their definition; the diagonal is phi_i - sum_{j != i} Phi_ij.
/// Returned as phi[(k * F + i) * F + j].
std::vector<double> bruteInteractions(const Game &v, int F, int outputs)
{
    std::vector<double> out(size_t(F) * size_t(F) * size_t(outputs), 0.0);
    const std::vector<double> phi = shapley(v, F, outputs);
    auto at = [&](unsigned s, int k) { return v[s * unsigned(outputs) + unsigned(k)]; };
    for (int k = 0; k < outputs; ++k)
        for (int i = 0; i < F; ++i) {
            double offDiagonal = 0;
            for (int j = 0; j < F; ++j) {
                if (j == i)
                    continue;
                double sum = 0;
                for (unsigned s = 0; s < (1u << F); ++s) {
                    if ((s >> i & 1u) || (s >> j & 1u))
                        continue;
                    const int size = std::popcount(s);
                    const double w = factorial(size) * factorial(F - size - 2) / (2.0 * factorial(F - 1));
                    sum += w * (at(s | 1u << i | 1u << j, k) - at(s | 1u << i, k) - at(s | 1u << j, k) + at(s, k));
                }
                out[size_t((k * F + i) * F + j)] = sum;
                offDiagonal += sum;
            }
            out[size_t((k * F + i) * F + i)] = phi[size_t(k * F + i)] - offDiagonal;
        }
    return out;
}

/// Compares an attribution with brute-force Shapley values of every row; returns the largest difference.
double maxDiffToBruteForce(const Attribution &a, const TreeEnsemble &e, const DesignMatrix &x,
                           const DesignMatrix *bg)
{
    double worst = 0;
    for (qint64 r = 0; r < x.rows; ++r) {
        const float *row = x.values.data() + r * x.cols;
        const Game v = bg ? interventionalGame(e, row, *bg) : pathDependentGame(e, row);
        const std::vector<double> phi = shapley(v, e.numFeatures, e.numOutputs);
        for (int k = 0; k < e.numOutputs; ++k) {
            worst = std::max(worst, std::abs(a.base[size_t(k)] - v[size_t(k)])); // v(empty set) is the base
            for (int f = 0; f < e.numFeatures; ++f)
                worst = std::max(worst, std::abs(a.value(r, k, f) - phi[size_t(k * e.numFeatures + f)]));
        }
    }
    return worst;
}

Attribution shapOrFail(const TreeEnsemble &e, const DesignMatrix &x, const TreeShapOptions &o = {},
                       Feedback *fb = nullptr)
{
    auto a = treeShap(e, x, o, fb);
    if (!a)
        qFatal("treeShap failed: %s", qPrintable(a.message()));
    return std::move(a).value();
}

std::unique_ptr<XgbModel> fitXgb(const DesignMatrix &x, const Target &y, Params p, const DesignMatrix *vx = nullptr,
                                 const Target *vy = nullptr)
{
    if (!p.contains(QStringLiteral("threads")))
        p.insert(QStringLiteral("threads"), 2);
    auto m = XgbLearner().fit(x, y, p, vx, vy, {}, nullptr);
    if (!m)
        qFatal("fit failed: %s", qPrintable(m.message()));
    return std::unique_ptr<XgbModel>(static_cast<XgbModel *>(m->release()));
}

TreeEnsemble parseOrFail(const QByteArray &json)
{
    auto e = parseXgboostJson(json);
    if (!e)
        qFatal("parse failed: %s", qPrintable(e.message()));
    return std::move(e).value();
}

/// Largest |Keel - XGBoost pred_contribs| over values and base values.
double maxDiffToXgboost(const Attribution &a, const std::vector<double> &contribs, int F)
{
    double worst = 0;
    for (qint64 r = 0; r < a.rows; ++r)
        for (int k = 0; k < a.outputs; ++k) {
            const double *c = contribs.data() + (r * a.outputs + k) * (F + 1);
            for (int f = 0; f < F; ++f)
                worst = std::max(worst, std::abs(a.value(r, k, f) - c[f]));
            worst = std::max(worst, std::abs(a.base[size_t(k)] - c[F]));
        }
    return worst;
}

} // namespace

class TestTreeShap : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void randomEnsembles_data();
    void randomEnsembles();
    void interventional_data();
    void interventional();
    void interactions_data();
    void interactions();
    void smallXgboostModels_data();
    void smallXgboostModels();
    void adultAgainstPredContribs();
    void threadsGiveIdenticalValues();
    void progressAndCancel();
    void parseErrors_data();
    void parseErrors();
    void parseBaseScoreForms();
    void invalidInput();

private:
    /// A small binary XGBoost model (JSON) for the parser tests, fitted on first use.
    const QByteArray &smallModel();

    keel::data::Table m_diamondsTable;
    DesignMatrix m_diamonds; // six numeric features
    QByteArray m_smallModel;
};

const QByteArray &TestTreeShap::smallModel()
{
    if (m_smallModel.isEmpty()) {
        const DesignMatrix x = rowsOf(m_diamonds, 50, true);
        Target y;
        y.task = Task::BinaryClassification;
        y.classes = {QStringLiteral("a"), QStringLiteral("b")};
        for (qint64 r = 0; r < x.rows; ++r)
            y.values.push_back(x.at(r, 0) > 0.7f ? 1.0 : 0.0);
        m_smallModel = fitXgb(x, y, {{QStringLiteral("n_estimators"), 3}, {QStringLiteral("max_depth"), 3}})
                           ->serialize();
    }
    return m_smallModel;
}

void TestTreeShap::initTestCase()
{
    m_diamondsTable = readExample("diamonds.csv");
    m_diamonds = Encoder::fit(m_diamondsTable,
                              {QStringLiteral("cut"), QStringLiteral("color"), QStringLiteral("clarity"),
                               QStringLiteral("price")},
                              false, false)
                     .apply(m_diamondsTable);
    QCOMPARE(m_diamonds.cols, 6);
}

void TestTreeShap::randomEnsembles_data()
{
    QTest::addColumn<int>("seed");
    QTest::addColumn<int>("features");
    QTest::addColumn<int>("depth");
    QTest::addColumn<int>("trees");
    QTest::addColumn<int>("outputs");
    QTest::addColumn<double>("nanChance");
    QTest::addColumn<double>("zeroCover");
    QTest::addColumn<bool>("chain");
    QTest::newRow("stump") << 1 << 1 << 1 << 1 << 1 << 0.0 << 0.0 << false;
    QTest::newRow("single leaf tree") << 2 << 3 << 0 << 2 << 1 << 0.0 << 0.0 << false;
    QTest::newRow("2 features, repeated splits") << 3 << 2 << 6 << 3 << 1 << 0.0 << 0.0 << false;
    QTest::newRow("4 features depth 4") << 4 << 4 << 4 << 5 << 1 << 0.0 << 0.0 << false;
    QTest::newRow("8 features depth 5") << 5 << 8 << 5 << 6 << 1 << 0.0 << 0.0 << false;
    QTest::newRow("8 features depth 8") << 6 << 8 << 8 << 3 << 1 << 0.0 << 0.0 << false;
    QTest::newRow("3 features depth 10 (many repeats)") << 7 << 3 << 10 << 2 << 1 << 0.0 << 0.0 << false;
    QTest::newRow("missing values") << 8 << 6 << 5 << 4 << 1 << 0.3 << 0.0 << false;
    QTest::newRow("zero-cover leaves") << 9 << 5 << 5 << 4 << 1 << 0.1 << 0.3 << false;
    QTest::newRow("3 outputs") << 10 << 5 << 4 << 9 << 3 << 0.1 << 0.0 << false;
    QTest::newRow("chain of 12 distinct features (6 points)") << 11 << 12 << 12 << 2 << 1 << 0.1 << 0.0 << true;
    QTest::newRow("chain of 15 distinct features (8 points)") << 12 << 15 << 15 << 2 << 1 << 0.1 << 0.0 << true;
}

void TestTreeShap::randomEnsembles()
{
    QFETCH(int, seed);
    QFETCH(int, features);
    QFETCH(int, depth);
    QFETCH(int, trees);
    QFETCH(int, outputs);
    QFETCH(double, nanChance);
    QFETCH(double, zeroCover);
    QFETCH(bool, chain);
    std::mt19937_64 rng{uint64_t(seed)};
    const TreeEnsemble e = randomEnsemble(rng, {features, depth, trees, outputs, zeroCover, chain});
    QVERIFY2(e.validate(), qPrintable(e.validate().message()));
    const DesignMatrix x = randomRows(rng, 40, features, nanChance);
    // The AVX2/FMA kernels (when the CPU has them) and the portable ones.
    for (const bool wide : {true, false}) {
        TreeShapOptions o;
        o.threads = 2;
        o.wideVectors = wide;
        const Attribution a = shapOrFail(e, x, o);
        QCOMPARE(a.method, QStringLiteral("tree_shap"));
        QCOMPARE(a.rows, x.rows);
        QCOMPARE(a.outputs, outputs);
        QCOMPARE(a.features, x.columnNames);
        const double diff = maxDiffToBruteForce(a, e, x, nullptr);
        QVERIFY2(diff < 1e-9, qPrintable(QString::number(diff)));
        // Additivity on every row: base + sum = the ensemble's margin; the residual says so.
        QCOMPARE(a.residual.size(), size_t(x.rows * outputs));
        QVERIFY2(a.maxAbsResidual() < 1e-9, qPrintable(QString::number(a.maxAbsResidual())));
        for (qint64 r = 0; r < x.rows; ++r) {
            const std::vector<double> m = e.margin(x.values.data() + r * x.cols);
            for (int k = 0; k < outputs; ++k) {
                double sum = a.base[size_t(k)];
                for (int f = 0; f < features; ++f)
                    sum += a.value(r, k, f);
                QVERIFY(std::abs(sum - m[size_t(k)]) < 1e-9);
            }
        }
    }
}

void TestTreeShap::interventional_data()
{
    QTest::addColumn<int>("seed");
    QTest::addColumn<int>("features");
    QTest::addColumn<int>("depth");
    QTest::addColumn<int>("trees");
    QTest::addColumn<int>("outputs");
    QTest::addColumn<int>("background");
    QTest::newRow("one background row") << 21 << 4 << 4 << 3 << 1 << 1;
    QTest::newRow("8 features, repeats") << 22 << 8 << 7 << 4 << 1 << 6;
    QTest::newRow("2 features deep") << 23 << 2 << 8 << 3 << 1 << 5;
    QTest::newRow("2 outputs") << 24 << 5 << 5 << 6 << 2 << 4;
}

void TestTreeShap::interventional()
{
    QFETCH(int, seed);
    QFETCH(int, features);
    QFETCH(int, depth);
    QFETCH(int, trees);
    QFETCH(int, outputs);
    QFETCH(int, background);
    std::mt19937_64 rng{uint64_t(seed)};
    const TreeEnsemble e = randomEnsemble(rng, {features, depth, trees, outputs, 0.0});
    const DesignMatrix x = randomRows(rng, 25, features, 0.15);
    const DesignMatrix bg = randomRows(rng, background, features, 0.15);
    TreeShapOptions o;
    o.threads = 2;
    o.background = &bg;
    const Attribution a = shapOrFail(e, x, o);
    QCOMPARE(a.method, QStringLiteral("tree_shap_interventional"));
    QCOMPARE(a.parameters.value(QStringLiteral("background_rows")).toInteger(), qint64(background));
    const double diff = maxDiffToBruteForce(a, e, x, &bg);
    QVERIFY2(diff < 1e-9, qPrintable(QString::number(diff)));
    QVERIFY2(a.maxAbsResidual() < 1e-9, qPrintable(QString::number(a.maxAbsResidual())));
}

void TestTreeShap::interactions_data()
{
    QTest::addColumn<int>("seed");
    QTest::addColumn<int>("features");
    QTest::addColumn<int>("depth");
    QTest::addColumn<int>("outputs");
    QTest::addColumn<bool>("interventionalMode");
    QTest::newRow("path-dependent") << 31 << 5 << 5 << 1 << false;
    QTest::newRow("path-dependent, repeats, 2 outputs") << 32 << 3 << 7 << 2 << false;
    QTest::newRow("path-dependent, 7 features") << 33 << 7 << 6 << 1 << false;
    QTest::newRow("interventional") << 34 << 5 << 5 << 1 << true;
    QTest::newRow("interventional, 2 outputs") << 35 << 4 << 6 << 2 << true;
}

void TestTreeShap::interactions()
{
    QFETCH(int, seed);
    QFETCH(int, features);
    QFETCH(int, depth);
    QFETCH(int, outputs);
    QFETCH(bool, interventionalMode);
    std::mt19937_64 rng{uint64_t(seed)};
    const TreeEnsemble e = randomEnsemble(rng, {features, depth, 4 * outputs, outputs, 0.0});
    const DesignMatrix x = randomRows(rng, 12, features, 0.1);
    const DesignMatrix bg = randomRows(rng, 4, features, 0.1);
    TreeShapOptions o;
    o.threads = 2;
    if (interventionalMode)
        o.background = &bg;
    const std::vector<qint64> rows = {3, 0, 7, 11, 5};

    // Full matrix (k = F) against the definition; the portable kernels give the same.
    auto full = treeShapInteractions(e, x, rows, features + 3, o, nullptr);
    TreeShapOptions portable = o;
    portable.wideVectors = false;
    auto fullPortable = treeShapInteractions(e, x, rows, features, portable, nullptr);
    QVERIFY(fullPortable);
    QCOMPARE(fullPortable->columns, full->columns);
    for (size_t i = 0; i < full->values.size(); ++i)
        QVERIFY(std::abs(fullPortable->values[i] - full->values[i]) < 1e-12);
    QVERIFY2(full, qPrintable(full.message()));
    QCOMPARE(full->k(), features);
    QCOMPARE(full->rows, rows);
    QCOMPARE(full->shap.rows, qint64(rows.size()));
    std::vector<std::vector<double>> brute;
    std::vector<double> meanAbs(size_t(features), 0.0);
    for (size_t r = 0; r < rows.size(); ++r) {
        const float *row = x.values.data() + rows[r] * x.cols;
        const Game v = interventionalMode ? interventionalGame(e, row, bg) : pathDependentGame(e, row);
        brute.push_back(bruteInteractions(v, features, outputs));
        const std::vector<double> phi = shapley(v, features, outputs);
        for (int k = 0; k < outputs; ++k)
            for (int f = 0; f < features; ++f)
                meanAbs[size_t(f)] += std::abs(phi[size_t(k * features + f)]);
    }
    double worst = 0;
    for (size_t r = 0; r < rows.size(); ++r)
        for (int k = 0; k < outputs; ++k)
            for (int i = 0; i < features; ++i) {
                const int ci = full->columns[size_t(i)];
                QCOMPARE(full->restOf(qint64(r), k, i), 0.0);
                for (int j = 0; j < features; ++j) {
                    const int cj = full->columns[size_t(j)];
                    worst = std::max(worst, std::abs(full->value(qint64(r), k, i, j)
                                                     - brute[r][size_t((k * features + ci) * features + cj)]));
                    QCOMPARE(full->value(qint64(r), k, i, j), full->value(qint64(r), k, j, i));
                }
            }
    QVERIFY2(worst < 1e-9, qPrintable(QString::number(worst)));

    // Top 2: the two largest mean |phi|, the same entries, and the rest collects the other interactions.
    auto top = treeShapInteractions(e, x, rows, 2, o, nullptr);
    QVERIFY2(top, qPrintable(top.message()));
    QCOMPARE(top->k(), 2);
    std::vector<int> order(static_cast<size_t>(features));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return meanAbs[size_t(a)] > meanAbs[size_t(b)]; });
    QCOMPARE(top->columns, std::vector<int>(order.begin(), order.begin() + 2));
    QCOMPARE(top->features.at(0), x.columnNames.at(order[0]));
    worst = 0;
    for (size_t r = 0; r < rows.size(); ++r)
        for (int k = 0; k < outputs; ++k)
            for (int i = 0; i < 2; ++i) {
                const int ci = top->columns[size_t(i)];
                double rest = 0;
                double rowSum = top->restOf(qint64(r), k, i);
                for (int c = 0; c < features; ++c)
                    if (c != top->columns[0] && c != top->columns[1])
                        rest += brute[r][size_t((k * features + ci) * features + c)];
                worst = std::max(worst, std::abs(top->restOf(qint64(r), k, i) - rest));
                for (int j = 0; j < 2; ++j) {
                    const int cj = top->columns[size_t(j)];
                    worst = std::max(worst, std::abs(top->value(qint64(r), k, i, j)
                                                     - brute[r][size_t((k * features + ci) * features + cj)]));
                    rowSum += top->value(qint64(r), k, i, j);
                }
                // Row identity: the interactions of feature i sum to its SHAP value.
                worst = std::max(worst, std::abs(rowSum - top->shap.value(qint64(r), k, ci)));
            }
    QVERIFY2(worst < 1e-9, qPrintable(QString::number(worst)));

    QVERIFY(!treeShapInteractions(e, x, rows, 0, o, nullptr));
    QVERIFY(!treeShapInteractions(e, x, {x.rows}, 2, o, nullptr));
}

void TestTreeShap::smallXgboostModels_data()
{
    QTest::addColumn<QString>("task");
    QTest::addColumn<bool>("earlyStop");
    QTest::newRow("regression") << QStringLiteral("regression") << false;
    QTest::newRow("binary") << QStringLiteral("binary") << false;
    QTest::newRow("binary, early stopping") << QStringLiteral("binary") << true;
    QTest::newRow("multiclass") << QStringLiteral("multiclass") << false;
}

void TestTreeShap::smallXgboostModels()
{
    QFETCH(QString, task);
    QFETCH(bool, earlyStop);
    // 6 numeric diamonds features, with missing values in training (learned default directions) and in the rows.
    DesignMatrix x = rowsOf(m_diamonds, 20, true);
    for (qint64 r = 0; r < x.rows; r += 7)
        x.at(r, int(r % 6)) = std::nanf("");
    const Target price = rowsOf(numericTarget(m_diamondsTable, QStringLiteral("price")), 20, true);
    Target y;
    if (task == QLatin1String("regression")) {
        y = price;
    } else if (task == QLatin1String("binary")) {
        y.task = Task::BinaryClassification;
        y.classes = {QStringLiteral("cheap"), QStringLiteral("dear")};
        for (double p : price.values)
            y.values.push_back(p > 2400 ? 1.0 : 0.0);
    } else {
        y = rowsOf(classTarget(m_diamondsTable, QStringLiteral("cut"),
                               {QStringLiteral("Fair"), QStringLiteral("Good"), QStringLiteral("Very Good"),
                                QStringLiteral("Premium"), QStringLiteral("Ideal")}),
                   20, true);
    }
    Params p = {{QStringLiteral("n_estimators"), task == QLatin1String("multiclass") ? 6 : 15},
                {QStringLiteral("max_depth"), 5}, {QStringLiteral("learning_rate"), 0.5}};
    const DesignMatrix trainX = rowsOf(x, 4, false), validX = rowsOf(x, 4, true);
    const Target trainY = rowsOf(y, 4, false), validY = rowsOf(y, 4, true);
    std::unique_ptr<XgbModel> model;
    if (earlyStop) {
        p.insert(QStringLiteral("n_estimators"), 200);
        p.insert(QStringLiteral("learning_rate"), 1.0);
        p.insert(QStringLiteral("max_depth"), 8);
        p.insert(QStringLiteral("min_child_weight"), 0.0);
        p.insert(QStringLiteral("early_stopping_rounds"), 3);
        model = fitXgb(trainX, trainY, p, &validX, &validY);
        QVERIFY(model->bestIteration() >= 0);
        QCOMPARE(model->boostedRounds(), model->bestIteration() + 1);   // rounds past the best are not kept
        QVERIFY(model->diagnostics().value(QStringLiteral("rounds")).toInt() > model->bestIteration() + 1);
    } else {
        model = fitXgb(trainX, trainY, p);
    }
    const TreeEnsemble e = parseOrFail(model->serialize());
    const int outputs = task == QLatin1String("multiclass") ? 5 : 1;
    QCOMPARE(e.numOutputs, outputs);
    QCOMPARE(e.numFeatures, 6);
    const int rounds = model->bestIteration() >= 0 ? model->bestIteration() + 1 : model->boostedRounds();
    QCOMPARE(int(e.trees.size()), rounds * outputs);

    const DesignMatrix rows = rowsOf(validX, 25, true);
    // The ensemble's own margin agrees with XGBoost's (which sums in float).
    auto ours = e.margins(rows);
    QVERIFY(ours);
    auto theirs = model->predictMargin(rows);
    QVERIFY(theirs);
    for (size_t i = 0; i < ours->size(); ++i)
        QVERIFY2(std::abs((*ours)[i] - (*theirs)[i]) < 1e-5 * std::max(1.0, std::abs((*theirs)[i])),
                 qPrintable(QString::number((*ours)[i]) + QStringLiteral(" vs ") + QString::number((*theirs)[i])));

    TreeShapOptions o;
    o.threads = 2;
    const Attribution a = shapOrFail(e, rows, o);
    const double brute = maxDiffToBruteForce(a, e, rows, nullptr);
    QVERIFY2(brute < 1e-9 * std::max(1.0, std::abs(a.base[0])), qPrintable(QString::number(brute)));
    QVERIFY2(a.maxAbsResidual() < 1e-9 * std::max(1.0, std::abs(a.base[0])),
             qPrintable(QString::number(a.maxAbsResidual())));
    auto contribs = model->predictContributions(rows);
    QVERIFY2(contribs, qPrintable(contribs.message()));
    QCOMPARE(contribs->size(), size_t(rows.rows) * size_t(outputs) * 7);
    // XGBoost computes in float: compare relative to the size of the margin (diamond prices are in the thousands).
    const double scale = task == QLatin1String("regression") ? 1e4 : 1.0;
    const double diff = maxDiffToXgboost(a, *contribs, 6);
    qInfo("%s: %zu trees, brute force %.2g, XGBoost pred_contribs %.2g", qPrintable(task), e.trees.size(), brute, diff);
    QVERIFY2(diff < 1e-5 * scale, qPrintable(QString::number(diff)));
}

void TestTreeShap::adultAgainstPredContribs()
{
    const keel::data::Table train = readExample("adult_train.csv");
    const keel::data::Table test = readExample("adult_test.csv");
    const QStringList classes = {QStringLiteral("<=50K"), QStringLiteral(">50K")};
    const Encoder enc = Encoder::fit(train, {QStringLiteral("class")}, false, false);
    const DesignMatrix trainX = enc.apply(train);
    const Target trainY = classTarget(train, QStringLiteral("class"), classes);
    auto model = fitXgb(trainX, trainY, {{QStringLiteral("n_estimators"), 50}, {QStringLiteral("max_depth"), 6}});
    const TreeEnsemble e = parseOrFail(model->serialize());
    QCOMPARE(int(e.trees.size()), 50);
    QCOMPARE(e.objective, QStringLiteral("binary:logistic"));

    DesignMatrix x = rowsOf(enc.apply(test), 5, true);
    // Missing numeric values (never seen in training): XGBoost's default direction, on both sides.
    for (qint64 r = 0; r < x.rows; r += 11)
        x.at(r, int(r % 5)) = std::nanf("");
    TreeShapOptions o;
    o.threads = 2;
    const Attribution a = shapOrFail(e, x, o);
    auto contribs = model->predictContributions(x);
    QVERIFY2(contribs, qPrintable(contribs.message()));
    const double diff = maxDiffToXgboost(a, *contribs, x.cols);
    qInfo("adult (50 trees, depth 6), %lld rows x %d columns: max |keel - pred_contribs| %.3g, max residual %.3g",
          x.rows, x.cols, diff, a.maxAbsResidual());
    QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
    QVERIFY(a.maxAbsResidual() < 1e-9);
    auto margin = model->predictMargin(x);
    QVERIFY(margin);
    for (qint64 r = 0; r < x.rows; ++r) {
        double sum = a.base[0];
        for (int f = 0; f < x.cols; ++f)
            sum += a.value(r, 0, f);
        QVERIFY(std::abs(sum - (*margin)[size_t(r)]) < 1e-5);
    }
    // One-hot columns sum to their source features with the total preserved.
    auto agg = aggregateToSourceFeatures(a, x);
    QVERIFY2(agg, qPrintable(agg.message()));
    QCOMPARE(agg->featureCount(), int(x.sourceFeatureNames.size()));
}

void TestTreeShap::threadsGiveIdenticalValues()
{
    std::mt19937_64 rng(41);
    const TreeEnsemble e = randomEnsemble(rng, {8, 7, 30, 2, 0.0});
    const DesignMatrix x = randomRows(rng, 301, 8, 0.1);
    TreeShapOptions one, three, all;
    one.threads = 1;
    three.threads = 3;
    const Attribution a1 = shapOrFail(e, x, one);
    const Attribution a3 = shapOrFail(e, x, three);
    const Attribution a0 = shapOrFail(e, x, all);
    QVERIFY(a1.values == a3.values);
    QVERIFY(a1.values == a0.values);
    QVERIFY(a1.residual == a3.residual);
    QCOMPARE(a3.parameters.value(QStringLiteral("threads")).toInt(), 3);
}

void TestTreeShap::progressAndCancel()
{
    std::mt19937_64 rng(51);
    const TreeEnsemble e = randomEnsemble(rng, {6, 6, 20, 1, 0.0});
    const DesignMatrix x = randomRows(rng, 1000, 6, 0.0);
    keel::Feedback fb;
    qint64 last = 0, total = 0;
    bool monotonic = true;
    fb.setCallback([&](qint64 done, qint64 t, const QString &) {
        monotonic = monotonic && done > last;
        last = done;
        total = t;
    });
    TreeShapOptions o;
    o.threads = 2;
    QVERIFY(treeShap(e, x, o, &fb));
    QVERIFY(monotonic);
    QCOMPARE(last, x.rows);
    QCOMPARE(total, x.rows);

    keel::Feedback cancelling;
    qint64 seen = 0;
    cancelling.setCallback([&](qint64 done, qint64, const QString &) {
        seen = done;
        cancelling.cancel();
    });
    auto cancelled = treeShap(e, x, o, &cancelling);
    QVERIFY(!cancelled);
    QVERIFY(cancelled.error().is(keel::ErrorKind::Cancelled));
    QVERIFY(seen > 0 && seen < x.rows);

    keel::Feedback early;
    early.cancel();
    auto none = treeShapInteractions(e, x, {0, 1, 2}, 2, o, &early);
    QVERIFY(!none);
    QVERIFY(none.error().is(keel::ErrorKind::Cancelled));
}

void TestTreeShap::parseErrors_data()
{
    QTest::addColumn<QString>("edit");
    QTest::addColumn<QString>("field");
    QTest::newRow("not JSON") << QStringLiteral("garbage") << QString();
    QTest::newRow("no learner") << QStringLiteral("drop learner") << QStringLiteral("learner");
    QTest::newRow("no hessians") << QStringLiteral("drop sum_hessian")
                                 << QStringLiteral("learner.gradient_booster.model.trees[1].sum_hessian");
    QTest::newRow("short array") << QStringLiteral("short split_conditions")
                                 << QStringLiteral("learner.gradient_booster.model.trees[1].split_conditions");
    QTest::newRow("categorical split") << QStringLiteral("categorical")
                                       << QStringLiteral("learner.gradient_booster.model.trees[1].split_type");
    QTest::newRow("child out of range") << QStringLiteral("bad child")
                                        << QStringLiteral("learner.gradient_booster.model.trees");
    QTest::newRow("tree_info") << QStringLiteral("short tree_info")
                               << QStringLiteral("learner.gradient_booster.model.tree_info");
    QTest::newRow("objective") << QStringLiteral("objective") << QStringLiteral("learner.objective.name");
    QTest::newRow("dart") << QStringLiteral("dart") << QStringLiteral("learner.gradient_booster.name");
    QTest::newRow("base_score not a number") << QStringLiteral("base_score abc")
                                             << QStringLiteral("learner.learner_model_param.base_score");
    QTest::newRow("base_score not a probability") << QStringLiteral("base_score 1.5")
                                                  << QStringLiteral("learner.learner_model_param.base_score");
    QTest::newRow("vector leaves")
        << QStringLiteral("vector leaves")
        << QStringLiteral("learner.gradient_booster.model.trees[1].tree_param.size_leaf_vector");
}

void TestTreeShap::parseErrors()
{
    QFETCH(QString, edit);
    QFETCH(QString, field);
    QVERIFY(parseXgboostJson(smallModel()));
    QJsonObject root = QJsonDocument::fromJson(smallModel()).object();
    QJsonObject learner = root.value(QStringLiteral("learner")).toObject();
    QJsonObject booster = learner.value(QStringLiteral("gradient_booster")).toObject();
    QJsonObject model = booster.value(QStringLiteral("model")).toObject();
    QJsonArray trees = model.value(QStringLiteral("trees")).toArray();
    QJsonObject tree = trees.at(1).toObject();
    auto arrayOf = [&](const char *key) { return tree.value(QLatin1String(key)).toArray(); };
    if (edit == QLatin1String("drop sum_hessian")) {
        tree.remove(QStringLiteral("sum_hessian"));
    } else if (edit == QLatin1String("short split_conditions")) {
        QJsonArray a = arrayOf("split_conditions");
        a.removeLast();
        tree.insert(QStringLiteral("split_conditions"), a);
    } else if (edit == QLatin1String("categorical")) {
        QJsonArray a = arrayOf("split_type");
        a.replace(0, 1);
        tree.insert(QStringLiteral("split_type"), a);
    } else if (edit == QLatin1String("bad child")) {
        QJsonArray a = arrayOf("left_children");
        a.replace(0, 999);
        tree.insert(QStringLiteral("left_children"), a);
    } else if (edit == QLatin1String("short tree_info")) {
        QJsonArray a = model.value(QStringLiteral("tree_info")).toArray();
        a.removeLast();
        model.insert(QStringLiteral("tree_info"), a);
    } else if (edit == QLatin1String("objective")) {
        learner.insert(QStringLiteral("objective"), QJsonObject{{QStringLiteral("name"), QStringLiteral("weird:x")}});
    } else if (edit == QLatin1String("dart")) {
        booster.insert(QStringLiteral("name"), QStringLiteral("dart"));
    } else if (edit.startsWith(QLatin1String("base_score "))) {
        QJsonObject param = learner.value(QStringLiteral("learner_model_param")).toObject();
        param.insert(QStringLiteral("base_score"), edit.mid(11));
        learner.insert(QStringLiteral("learner_model_param"), param);
    } else if (edit == QLatin1String("vector leaves")) {
        QJsonObject param = tree.value(QStringLiteral("tree_param")).toObject();
        param.insert(QStringLiteral("size_leaf_vector"), QStringLiteral("3"));
        tree.insert(QStringLiteral("tree_param"), param);
    }
    trees.replace(1, tree);
    model.insert(QStringLiteral("trees"), trees);
    booster.insert(QStringLiteral("model"), model);
    learner.insert(QStringLiteral("gradient_booster"), booster);
    root.insert(QStringLiteral("learner"), learner);
    if (edit == QLatin1String("drop learner"))
        root.remove(QStringLiteral("learner"));
    const QByteArray bytes =
        edit == QLatin1String("garbage") ? QByteArrayLiteral("{not json") : QJsonDocument(root).toJson();
    auto e = parseXgboostJson(bytes);
    QVERIFY(!e);
    QCOMPARE(e.error().field, field);
}

void TestTreeShap::parseBaseScoreForms()
{
    // base_score as XGBoost 1.x writes it ("5E-1"), as a number, and as 2.x writes it ("[5E-1]"); logit link.
    QJsonObject root = QJsonDocument::fromJson(smallModel()).object();
    QJsonObject learner = root.value(QStringLiteral("learner")).toObject();
    QJsonObject param = learner.value(QStringLiteral("learner_model_param")).toObject();
    for (const QJsonValue &form : {QJsonValue(QStringLiteral("2.5E-1")), QJsonValue(0.25),
                                   QJsonValue(QStringLiteral("[2.5E-1]"))}) {
        param.insert(QStringLiteral("base_score"), form);
        learner.insert(QStringLiteral("learner_model_param"), param);
        root.insert(QStringLiteral("learner"), learner);
        auto e = parseXgboostJson(QJsonDocument(root).toJson());
        QVERIFY2(e, qPrintable(e.message()));
        QCOMPARE(e->baseMargin.size(), size_t(1));
        QVERIFY(std::abs(e->baseMargin[0] - std::log(0.25 / 0.75)) < 1e-15);
    }
}

void TestTreeShap::invalidInput()
{
    std::mt19937_64 rng(61);
    TreeEnsemble e = randomEnsemble(rng, {4, 3, 2, 1, 0.0});
    const DesignMatrix narrow = randomRows(rng, 5, 3, 0.0);
    QVERIFY(!treeShap(e, narrow));
    DesignMatrix ragged = randomRows(rng, 5, 4, 0.0);
    ragged.values.pop_back();
    QVERIFY(!treeShap(e, ragged));
    const DesignMatrix x = randomRows(rng, 5, 4, 0.0);
    const DesignMatrix emptyBackground = randomRows(rng, 0, 4, 0.0);
    TreeShapOptions o;
    o.background = &emptyBackground;
    QVERIFY(!treeShap(e, x, o));

    // Structural errors name the tree and node.
    TreeEnsemble cyclic = e;
    cyclic.trees[1].nodes[size_t(cyclic.trees[1].nodes[0].left)].left = 0;
    cyclic.trees[1].nodes[size_t(cyclic.trees[1].nodes[0].left)].right = 0;
    cyclic.trees[1].nodes[size_t(cyclic.trees[1].nodes[0].left)].feature = 0;
    auto s = treeShap(cyclic, x);
    QVERIFY(!s);
    QVERIFY2(s.error().message.startsWith(QStringLiteral("tree 1 node")), qPrintable(s.message()));
    TreeEnsemble badFeature = e;
    badFeature.trees[0].nodes[0].feature = 4;
    QVERIFY(!badFeature.validate());
    TreeEnsemble badOutput = e;
    badOutput.trees[0].output = 1;
    QCOMPARE(badOutput.validate().error().field, QStringLiteral("output"));

    // No rows: an empty, valid attribution.
    const DesignMatrix none = randomRows(rng, 0, 4, 0.0);
    auto empty = treeShap(e, none);
    QVERIFY(empty);
    QCOMPARE(empty->rows, qint64(0));
    QCOMPARE(empty->base.size(), size_t(1));
}

QTEST_GUILESS_MAIN(TestTreeShap)
#include "tst_treeshap.moc"
