#include "explain/treeshap.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <numbers>
#include <numeric>
#include <optional>
#include <thread>

// Path-dependent TreeSHAP, as computed here. For a leaf l with distinct path features D (d of them), each with
// a merged cover fraction z_j (product of child/parent covers over the path's splits on j) and an agreement
// o_j in {0, 1} (the row follows every split on j), the leaf's share of phi_i is
//     v_l (o_i - z_i) * sum_{S subset of D \ i} |S|! (d - |S| - 1)! / d! * prod_{j in S} o_j prod_{j not in S} z_j
//   = v_l (o_i - z_i) * integral_0^1 prod_{j in D \ i} (z_j (1 - t) + o_j t) dt,
// because the Shapley weight is the Beta integral of t^|S| (1 - t)^(d - 1 - |S|). The integrand is a polynomial of
// degree d - 1, so Gauss-Legendre quadrature with ceil(d / 2) points is exact: every quantity becomes a short
// vector of values at the quadrature points, and products over paths become pointwise products. Each edge c
// (parent u, feature i) gets the factor f_c(t) = z(1 - t) + o t of its merged (z, o); when an ancestor edge p
// already split on i, the edge's own factor is h_c = f_c / f_p so that products along a path telescope to the
// merged factors. With Pre_u = product of h above u (top-down) and S_c = sum over leaves below c of v_l times the
// product of h below c (bottom-up), the contribution of all leaves below c to phi_i telescopes over the splits
// on i to  sum_k w_k Pre_u S_c [ (o_c - z_c) / f_p - f_c (o_p - z_p) / f_p^2 ]  (f_p = 1, second term 0 for a
// first split). That is O(nodes x points) per tree and row, with no division except at repeated features.
// Conditioning on a feature j ("always present": its factor is o_j; "always absent": z_j) and dropping its own
// terms gives the conditional SHAP values behind interaction values (Lundberg et al. 2020).

namespace keel::explain {

namespace {

constexpr int kMaxPoints = 32;   // quadrature points: exact for paths with up to 64 distinct features
constexpr qint64 kRowBlock = 32; // rows per work item: the phi block and one tree stay in cache together

/// Gauss-Legendre nodes and weights on [0, 1] for 1..kMaxPoints points. Entries past the n points are padding
/// for vector kernels: t = 1/2 (so no factor vanishes) and weight 0 (so they add nothing).
struct alignas(64) Quadrature {
    double t[kMaxPoints + 1][kMaxPoints];
    double w[kMaxPoints + 1][kMaxPoints];
    double oneMinusT[kMaxPoints + 1][kMaxPoints];
};

const Quadrature &quadrature()
{
    static const Quadrature q = [] {
        Quadrature out;
        for (int n = 0; n <= kMaxPoints; ++n)
            for (int i = 0; i < kMaxPoints; ++i) {
                out.t[n][i] = out.oneMinusT[n][i] = 0.5;
                out.w[n][i] = 0;
            }
        for (int n = 1; n <= kMaxPoints; ++n) {
            for (int i = 0; i < (n + 1) / 2; ++i) {
                double z = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5));
                double pp = 1;
                for (int iter = 0; iter < 100; ++iter) {
                    double p1 = 1, p2 = 0;
                    for (int j = 1; j <= n; ++j) {
                        const double p3 = p2;
                        p2 = p1;
                        p1 = ((2.0 * j - 1.0) * z * p2 - (j - 1.0) * p3) / j;
                    }
                    pp = n * (z * p1 - p2) / (z * z - 1.0);
                    const double z1 = z;
                    z = z1 - p1 / pp;
                    if (std::abs(z - z1) < 1e-16)
                        break;
                }
                const double w = 2.0 / ((1.0 - z * z) * pp * pp);
                out.t[n][i] = (1.0 - z) / 2.0;
                out.t[n][n - 1 - i] = (1.0 + z) / 2.0;
                out.w[n][i] = w / 2.0;
                out.w[n][n - 1 - i] = w / 2.0;
            }
            for (int i = 0; i < n; ++i)
                out.oneMinusT[n][i] = 1.0 - out.t[n][i];
        }
        return out;
    }();
    return q;
}

// Vectors of quadrature values (GCC/Clang vector extensions; may_alias like the x86 intrinsic types, so they
// can view the double buffers below).
typedef double Vec2 __attribute__((vector_size(16), __may_alias__));
typedef double Vec4 __attribute__((vector_size(32), __may_alias__));

/// A tree laid out for the kernels: breadth-first, the children of an internal node at `child` and `child + 1`.
struct CNode {
    int feature = -1;       // -1: leaf
    float threshold = 0;
    int child = -1;
    int prev = -1;          // internal: node index of the nearest ancestor edge (its child end) splitting on `feature`
    double zM = 1;          // edge into this node: merged cover fraction of its parent's feature along the path
    double value = 0;       // leaf value
    bool defaultLeft = false;
};

struct CTree {
    std::vector<CNode> nodes;
    std::vector<int> features; // distinct split features, sorted
    int output = 0;
    int points = 1;            // Gauss-Legendre points that make the quadrature exact for this tree
    int maxDistinct = 0;       // most distinct features on one root-to-leaf path
    double expected = 0;       // expected value under the covers
};

double coverRatio(double child, double parent) { return parent > 0 ? child / parent : 0.5; }

inline bool goesLeft(const CNode &n, float v) { return std::isnan(v) ? n.defaultLeft : v < n.threshold; }

CTree compileTree(const Tree &tree, int numFeatures)
{
    CTree out;
    out.output = tree.output;
    const std::vector<TreeNode> &src = tree.nodes;
    // Breadth-first renumbering (validate() guarantees a tree reachable from node 0).
    std::vector<int> order{0};
    out.nodes.resize(1);
    for (size_t q = 0; q < order.size(); ++q) {
        const TreeNode &s = src[size_t(order[q])];
        CNode &c = out.nodes[q];
        if (s.left < 0) {
            c.value = s.value;
            continue;
        }
        c.feature = s.feature;
        c.threshold = s.threshold;
        c.defaultLeft = s.defaultLeft;
        c.child = int(order.size());
        order.push_back(s.left);
        order.push_back(s.right);
        out.nodes.resize(order.size());
    }
    // Depth-first: merged cover fractions, previous splits on the same feature, expected values.
    std::vector<int> lastEdge(size_t(std::max(numFeatures, 1)), -1);
    std::vector<double> expected(out.nodes.size(), 0.0);
    struct Frame {
        int node;
        int stage;
        int distinct;
        int savedLast;
    };
    std::vector<Frame> stack{{0, 0, 0, -1}};
    while (!stack.empty()) {
        Frame &fr = stack.back();
        CNode &n = out.nodes[size_t(fr.node)];
        const TreeNode &s = src[size_t(order[size_t(fr.node)])];
        if (n.feature < 0) {
            expected[size_t(fr.node)] = n.value;
            out.maxDistinct = std::max(out.maxDistinct, fr.distinct);
            stack.pop_back();
            continue;
        }
        if (fr.stage == 0) {
            n.prev = lastEdge[size_t(n.feature)];
            fr.savedLast = n.prev;
            for (int side = 0; side < 2; ++side) {
                const int c = n.child + side;
                const TreeNode &cs = src[size_t(order[size_t(c)])];
                const double ratio = coverRatio(cs.cover, s.cover);
                out.nodes[size_t(c)].zM = n.prev >= 0 ? out.nodes[size_t(n.prev)].zM * ratio : ratio;
            }
            fr.stage = 1;
        }
        if (fr.stage <= 2) {
            const int side = fr.stage - 1;
            const int c = n.child + side;
            const int distinct = fr.distinct + (n.prev < 0 ? 1 : 0);
            lastEdge[size_t(n.feature)] = c;
            ++fr.stage;
            stack.push_back({c, 0, distinct, -1});
            continue;
        }
        lastEdge[size_t(n.feature)] = fr.savedLast;
        const TreeNode &ls = src[size_t(order[size_t(n.child)])];
        const TreeNode &rs = src[size_t(order[size_t(n.child + 1)])];
        expected[size_t(fr.node)] = coverRatio(ls.cover, s.cover) * expected[size_t(n.child)]
            + coverRatio(rs.cover, s.cover) * expected[size_t(n.child + 1)];
        out.features.push_back(n.feature);
        stack.pop_back();
    }
    out.expected = expected[0];
    out.points = std::max(1, (out.maxDistinct + 1) / 2);
    std::sort(out.features.begin(), out.features.end());
    out.features.erase(std::unique(out.features.begin(), out.features.end()), out.features.end());
    return out;
}

double treeMargin(const CTree &t, const float *row)
{
    const CNode *nodes = t.nodes.data();
    int u = 0;
    while (nodes[u].feature >= 0)
        u = nodes[u].child + (goesLeft(nodes[u], row[nodes[u].feature]) ? 0 : 1);
    return nodes[u].value;
}

bool usesFeature(const CTree &t, int feature)
{
    return std::binary_search(t.features.begin(), t.features.end(), feature);
}

/// Per-thread buffers of the path-dependent kernel: four arrays of nodes x (points rounded up to 8) doubles,
/// 64-byte aligned, and one agreement flag per node.
struct PathScratch {
    struct alignas(64) Block {
        double v[8];
    };
    std::vector<Block> buffer;
    std::vector<uint8_t> o;
    double *f = nullptr, *h = nullptr, *pre = nullptr, *s = nullptr;
    void reserve(size_t nodes, int points)
    {
        const size_t blocks = nodes * size_t((points + 7) / 8);
        buffer.resize(4 * blocks);
        f = buffer[0].v;
        h = buffer[blocks].v;
        pre = buffer[2 * blocks].v;
        s = buffer[3 * blocks].v;
        o.resize(nodes);
    }
};

/// Adds the path-dependent SHAP values of one row for one tree to phi[0..F), computing on vectors V of W
/// quadrature values, BT vectors per node (0: as many as the tree needs). With Cond, feature `condFeature` is
/// no player: always present (condOn) or always absent, and gets no value.
template <class V, int W, int BT, bool Cond>
[[gnu::always_inline]] inline void pathKernel(const CTree &t, const float *x, double *phi, PathScratch &sc,
                                              int condFeature, bool condOn)
{
    const CNode *nodes = t.nodes.data();
    const int count = int(t.nodes.size());
    if (count == 1)
        return;
    const int B = BT > 0 ? BT : (t.points + W - 1) / W;
    const Quadrature &q = quadrature();
    const V *tk = reinterpret_cast<const V *>(q.t[t.points]);
    const V *omt = reinterpret_cast<const V *>(q.oneMinusT[t.points]);
    const V *wk = reinterpret_cast<const V *>(q.w[t.points]);
    V *f = reinterpret_cast<V *>(sc.f);
    V *h = reinterpret_cast<V *>(sc.h);
    V *pre = reinterpret_cast<V *>(sc.pre);
    V *S = reinterpret_cast<V *>(sc.s);
    uint8_t *oM = sc.o.data();
    const V zero = {};

#pragma GCC unroll 4
    for (int b = 0; b < B; ++b)
        pre[b] = zero + 1.0;
    oM[0] = 1;
    // Top-down: agreement, factors and prefix products of every edge.
    for (int u = 0; u < count; ++u) {
        const CNode &nd = nodes[u];
        if (nd.feature < 0)
            continue;
        const bool left = goesLeft(nd, x[nd.feature]);
        const bool prevAgrees = nd.prev < 0 || oM[nd.prev];
        const bool conditioned = Cond && nd.feature == condFeature;
        const V *preU = pre + u * B;
        const V *fp = nd.prev >= 0 ? f + nd.prev * B : nullptr;
        for (int side = 0; side < 2; ++side) {
            const int c = nd.child + side;
            const bool o = ((side == 0) == left) && prevAgrees;
            oM[c] = o ? 1 : 0;
            const double z = nodes[c].zM;
            const bool internal = nodes[c].feature >= 0;
#pragma GCC unroll 4
            for (int b = 0; b < B; ++b) {
                V fc;
                if (conditioned)
                    fc = zero + (condOn ? (o ? 1.0 : 0.0) : z);
                else
                    fc = o ? z * omt[b] + tk[b] : z * omt[b];
                V hc = fc;
                if (fp) {
                    const V d = fp[b];
                    hc = d != 0 ? fc / d : zero;
                }
                f[c * B + b] = fc;
                h[c * B + b] = hc;
                if (internal)
                    pre[c * B + b] = preU[b] * hc;
            }
        }
    }
    // Bottom-up: subtree sums and each split's share of its feature's value.
    for (int u = count - 1; u >= 0; --u) {
        const CNode &nd = nodes[u];
        if (nd.feature < 0)
            continue;
        const int l = nd.child;
        const int r = l + 1;
        const CNode &nl = nodes[l];
        const CNode &nr = nodes[r];
        const bool score = !(Cond && nd.feature == condFeature);
        const double cl = double(oM[l]) - nl.zM;
        const double cr = double(oM[r]) - nr.zM;
        const double dp = nd.prev >= 0 ? double(oM[nd.prev]) - nodes[nd.prev].zM : 0.0;
        V acc = zero;
#pragma GCC unroll 4
        for (int b = 0; b < B; ++b) {
            const V sl = nl.feature < 0 ? zero + nl.value : S[l * B + b];
            const V sr = nr.feature < 0 ? zero + nr.value : S[r * B + b];
            S[u * B + b] = h[l * B + b] * sl + h[r * B + b] * sr;
            if (!score)
                continue;
            if (nd.prev < 0) {
                acc += wk[b] * pre[u * B + b] * (cl * sl + cr * sr);
            } else {
                const V d = f[nd.prev * B + b];
                const V inv = d != 0 ? 1.0 / d : zero;
                const V ckl = (cl - f[l * B + b] * dp * inv) * inv;
                const V ckr = (cr - f[r * B + b] * dp * inv) * inv;
                acc += wk[b] * pre[u * B + b] * (ckl * sl + ckr * sr);
            }
        }
        if (score) {
            double sum = 0;
            for (int k = 0; k < W; ++k)
                sum += acc[k];
            phi[nd.feature] += sum;
        }
    }
}

/// Signature of the per-tree, per-row kernels; pathTreeRowKernel() picks one.
using TreeRowKernel = void (*)(const CTree &, const float *, double *, PathScratch &, int, bool);

template <bool Cond>
void pathTreeRowBaseline(const CTree &t, const float *x, double *phi, PathScratch &sc, int condFeature, bool condOn)
{
    if (t.points <= 2)
        pathKernel<Vec2, 2, 1, Cond>(t, x, phi, sc, condFeature, condOn);
    else if (t.points <= 4)
        pathKernel<Vec2, 2, 2, Cond>(t, x, phi, sc, condFeature, condOn);
    else if (t.points <= 8)
        pathKernel<Vec2, 2, 4, Cond>(t, x, phi, sc, condFeature, condOn);
    else
        pathKernel<Vec2, 2, 0, Cond>(t, x, phi, sc, condFeature, condOn);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KEEL_TREESHAP_AVX2 1
template <bool Cond>
__attribute__((target("avx2,fma"))) void pathTreeRowAvx2(const CTree &t, const float *x, double *phi,
                                                        PathScratch &sc, int condFeature, bool condOn)
{
    if (t.points <= 2)
        pathKernel<Vec2, 2, 1, Cond>(t, x, phi, sc, condFeature, condOn);
    else if (t.points <= 4)
        pathKernel<Vec4, 4, 1, Cond>(t, x, phi, sc, condFeature, condOn);
    else if (t.points <= 8)
        pathKernel<Vec4, 4, 2, Cond>(t, x, phi, sc, condFeature, condOn);
    else
        pathKernel<Vec4, 4, 0, Cond>(t, x, phi, sc, condFeature, condOn);
}
#endif

/// The AVX2/FMA kernels (256-bit vectors, compiled for them alone) when allowed and the CPU has them, else the
/// portable ones (128-bit vectors, SSE2 on x86-64).
template <bool Cond>
TreeRowKernel pathTreeRowKernel(bool allowWide)
{
#ifdef KEEL_TREESHAP_AVX2
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && allowWide)
        return &pathTreeRowAvx2<Cond>;
#else
    Q_UNUSED(allowWide);
#endif
    return &pathTreeRowBaseline<Cond>;
}

/// Interventional TreeSHAP of one (row, background row) pair for one tree: the Shapley values of
/// v(S) = tree(x_S, z_rest). A split where x and z part ways makes its feature a player: on the x side
/// it is in S, on the z side it is not; at a leaf with a players on the x side and b on the z side each
/// x-side player gets v (a-1)! b! / (a+b)! and each z-side player -v a! (b-1)! / (a+b)!.
struct InterventionalWalk {
    enum State : uint8_t { Free = 0, InS = 1, OutS = 2, FixedX = 3, FixedZ = 4 };
    const CNode *nodes = nullptr;
    const float *x = nullptr;
    const float *z = nullptr;
    double *phi = nullptr;
    uint8_t *state = nullptr;             // per feature
    const std::vector<double> *beta = nullptr; // beta[a * stride + b] = a! b! / (a + b + 1)!
    int stride = 0;

    struct Sums {
        double pos = 0;
        double neg = 0;
    };

    Sums walk(int u, int nx, int nz) const
    {
        const CNode &nd = nodes[u];
        if (nd.feature < 0) {
            Sums s;
            if (nx > 0)
                s.pos = nd.value * (*beta)[size_t((nx - 1) * stride + nz)];
            if (nz > 0)
                s.neg = -nd.value * (*beta)[size_t(nx * stride + nz - 1)];
            return s;
        }
        const int i = nd.feature;
        const int xc = nd.child + (goesLeft(nd, x[i]) ? 0 : 1);
        const int zc = nd.child + (goesLeft(nd, z[i]) ? 0 : 1);
        const uint8_t st = state[i];
        if (st == InS || st == FixedX || xc == zc)
            return walk(xc, nx, nz);
        if (st == OutS || st == FixedZ)
            return walk(zc, nx, nz);
        state[i] = InS;
        const Sums a = walk(xc, nx + 1, nz);
        state[i] = OutS;
        const Sums b = walk(zc, nx, nz + 1);
        state[i] = Free;
        phi[i] += a.pos + b.neg;
        return {a.pos + b.pos, a.neg + b.neg};
    }
};

/// Shapley weights of the interventional walk for up to `players` players on a path.
std::vector<double> betaTable(int players, int &stride)
{
    stride = players + 1;
    std::vector<double> beta(size_t(stride) * size_t(stride), 0.0);
    for (int b = 0; b < stride; ++b) {
        beta[size_t(b)] = 1.0 / (b + 1.0);
        for (int a = 1; a + b < stride; ++a)
            beta[size_t(a * stride + b)] = beta[size_t((a - 1) * stride + b)] * a / (a + b + 1.0);
    }
    return beta;
}

/// Runs fn(begin, end, threadScratchIndex) over row blocks on `threads` threads (the caller's thread is one of
/// them), reporting progress by rows and stopping early on cancel.
template <class Fn>
Status parallelRows(qint64 rows, int threads, Feedback *feedback, const QString &stage, Fn &&fn)
{
    if (isCancelled(feedback))
        return cancelledError();
    std::atomic<qint64> next{0};
    std::mutex progressMutex;
    qint64 done = 0;
    auto worker = [&](int index) {
        for (;;) {
            if (isCancelled(feedback))
                return;
            const qint64 begin = next.fetch_add(kRowBlock);
            if (begin >= rows)
                return;
            const qint64 end = std::min(rows, begin + kRowBlock);
            fn(begin, end, index);
            std::lock_guard lock(progressMutex);
            done += end - begin;
            reportProgress(feedback, done, rows, stage);
        }
    };
    const qint64 blocks = (rows + kRowBlock - 1) / kRowBlock;
    const int n = int(std::max<qint64>(1, std::min<qint64>(threads, blocks)));
    std::vector<std::thread> pool;
    for (int i = 1; i < n; ++i)
        pool.emplace_back(worker, i);
    worker(0);
    for (std::thread &t : pool)
        t.join();
    if (isCancelled(feedback))
        return cancelledError();
    return Status::ok();
}

int threadCount(int requested)
{
    return requested > 0 ? requested : std::max(1, QThread::idealThreadCount());
}

Status checkMatrix(const ml::DesignMatrix &x, int numFeatures, const QString &what)
{
    if (x.rows < 0 || x.cols < 0 || x.values.size() != size_t(x.rows) * size_t(x.cols))
        return makeError(what + QStringLiteral(" design matrix has ") + QString::number(x.values.size())
                         + QStringLiteral(" values for ") + QString::number(x.rows) + QStringLiteral(" x ")
                         + QString::number(x.cols));
    if (x.cols != numFeatures)
        return makeError(QStringLiteral("the ensemble expects ") + QString::number(numFeatures)
                         + QStringLiteral(" columns, the ") + what + QStringLiteral(" has ")
                         + QString::number(x.cols));
    return Status::ok();
}

QStringList featureNames(const ml::DesignMatrix &x)
{
    if (x.columnNames.size() == x.cols)
        return x.columnNames;
    QStringList names;
    for (int c = 0; c < x.cols; ++c)
        names.append(QStringLiteral("f") + QString::number(c));
    return names;
}

/// Everything a run needs, compiled once per call.
struct Prepared {
    std::vector<CTree> trees;
    std::vector<double> base;       // per output
    size_t maxNodes = 1;
    int maxPoints = 1;
    std::vector<double> beta;       // interventional only
    int betaStride = 0;
    std::vector<double> backgroundMean; // interventional: mean margin of the background, per output
};

Expected<Prepared> prepare(const TreeEnsemble &e, const ml::DesignMatrix &x, const TreeShapOptions &options)
{
    if (Status s = e.validate(); !s)
        return s.error();
    if (Status s = checkMatrix(x, e.numFeatures, QStringLiteral("input")); !s)
        return s.error();
    Prepared p;
    p.trees.reserve(e.trees.size());
    for (const Tree &t : e.trees) {
        p.trees.push_back(compileTree(t, e.numFeatures));
        const CTree &c = p.trees.back();
        p.maxNodes = std::max(p.maxNodes, c.nodes.size());
        p.maxPoints = std::max(p.maxPoints, c.points);
        if (c.maxDistinct > 2 * kMaxPoints)
            return makeError(QStringLiteral("a tree path has ") + QString::number(c.maxDistinct)
                             + QStringLiteral(" distinct features; at most ") + QString::number(2 * kMaxPoints)
                             + QStringLiteral(" are supported"));
    }
    p.base = e.baseMargin;
    if (options.background) {
        const ml::DesignMatrix &bg = *options.background;
        if (Status s = checkMatrix(bg, e.numFeatures, QStringLiteral("background")); !s)
            return s.error();
        if (bg.rows == 0)
            return makeError(QStringLiteral("the background has no rows"));
        int players = 0;
        for (const CTree &t : p.trees)
            players = std::max(players, t.maxDistinct);
        p.beta = betaTable(players, p.betaStride);
        p.backgroundMean.assign(size_t(e.numOutputs), 0.0);
        std::vector<double> m(static_cast<size_t>(e.numOutputs));
        for (qint64 r = 0; r < bg.rows; ++r) {
            e.margin(bg.values.data() + size_t(r) * size_t(bg.cols), m.data());
            for (int k = 0; k < e.numOutputs; ++k)
                p.backgroundMean[size_t(k)] += m[size_t(k)];
        }
        for (double &v : p.backgroundMean)
            v /= double(bg.rows);
        p.base = p.backgroundMean;
    } else {
        for (const CTree &t : p.trees)
            p.base[size_t(t.output)] += t.expected;
    }
    return p;
}

/// Interventional values of one row (conditioned on `condFeature` being always present or always absent when
/// it is >= 0): sum over trees and background rows, divided by the background size. `phi` holds outputs x F
/// zeros on entry.
void interventionalRow(const Prepared &p, const ml::DesignMatrix &bg, const float *x, double *phi, int features,
                       std::vector<uint8_t> &state, int condFeature, bool condOn)
{
    InterventionalWalk w;
    w.x = x;
    w.state = state.data();
    w.beta = &p.beta;
    w.stride = p.betaStride;
    if (condFeature >= 0)
        state[size_t(condFeature)] = condOn ? InterventionalWalk::FixedX : InterventionalWalk::FixedZ;
    for (const CTree &t : p.trees) {
        if (condFeature >= 0 && !usesFeature(t, condFeature))
            continue;
        w.nodes = t.nodes.data();
        w.phi = phi + size_t(t.output) * size_t(features);
        for (qint64 b = 0; b < bg.rows; ++b) {
            w.z = bg.values.data() + size_t(b) * size_t(bg.cols);
            w.walk(0, 0, 0);
        }
    }
    if (condFeature >= 0)
        state[size_t(condFeature)] = InterventionalWalk::Free;
    const double scale = 1.0 / double(bg.rows);
    const size_t n = size_t(p.base.size()) * size_t(features);
    for (size_t i = 0; i < n; ++i)
        phi[i] *= scale;
}

} // namespace

Status TreeEnsemble::validate() const
{
    if (numFeatures < 0)
        return makeError(QStringLiteral("negative feature count"), {}, -1, QStringLiteral("numFeatures"));
    if (numOutputs < 1)
        return makeError(QStringLiteral("needs at least one output"), {}, -1, QStringLiteral("numOutputs"));
    if (baseMargin.size() != size_t(numOutputs))
        return makeError(QStringLiteral("has ") + QString::number(baseMargin.size())
                             + QStringLiteral(" values for ") + QString::number(numOutputs)
                             + QStringLiteral(" outputs"),
                         {}, -1, QStringLiteral("baseMargin"));
    for (size_t ti = 0; ti < trees.size(); ++ti) {
        const Tree &t = trees[ti];
        const QString where = QStringLiteral("tree ") + QString::number(ti);
        if (t.output < 0 || t.output >= numOutputs)
            return makeError(where + QStringLiteral(": output ") + QString::number(t.output)
                                 + QStringLiteral(" out of range"),
                             {}, -1, QStringLiteral("output"));
        if (t.nodes.empty())
            return makeError(where + QStringLiteral(" has no nodes"));
        std::vector<uint8_t> seen(t.nodes.size(), 0);
        std::vector<int> stack{0};
        seen[0] = 1;
        while (!stack.empty()) {
            const int u = stack.back();
            stack.pop_back();
            const TreeNode &n = t.nodes[size_t(u)];
            const QString at = where + QStringLiteral(" node ") + QString::number(u);
            if (!std::isfinite(n.cover) || n.cover < 0)
                return makeError(at + QStringLiteral(": cover must be finite and >= 0"), {}, -1,
                                 QStringLiteral("cover"));
            if (n.left < 0) {
                if (n.right >= 0)
                    return makeError(at + QStringLiteral(": has a right child but no left child"));
                continue;
            }
            if (n.feature < 0 || n.feature >= numFeatures)
                return makeError(at + QStringLiteral(": split feature ") + QString::number(n.feature)
                                     + QStringLiteral(" out of range"),
                                 {}, -1, QStringLiteral("feature"));
            for (const int c : {n.left, n.right}) {
                if (c < 0 || size_t(c) >= t.nodes.size())
                    return makeError(at + QStringLiteral(": child ") + QString::number(c)
                                     + QStringLiteral(" out of range"));
                if (seen[size_t(c)])
                    return makeError(at + QStringLiteral(": node ") + QString::number(c)
                                     + QStringLiteral(" is reached twice"));
                seen[size_t(c)] = 1;
                stack.push_back(c);
            }
        }
    }
    return Status::ok();
}

void TreeEnsemble::margin(const float *row, double *out) const
{
    for (int k = 0; k < numOutputs; ++k)
        out[k] = baseMargin[size_t(k)];
    for (const Tree &t : trees) {
        int u = 0;
        while (t.nodes[size_t(u)].left >= 0) {
            const TreeNode &n = t.nodes[size_t(u)];
            const float v = row[n.feature];
            const bool left = std::isnan(v) ? n.defaultLeft : v < n.threshold;
            u = left ? n.left : n.right;
        }
        out[t.output] += t.nodes[size_t(u)].value;
    }
}

std::vector<double> TreeEnsemble::margin(const float *row) const
{
    std::vector<double> out(static_cast<size_t>(numOutputs));
    margin(row, out.data());
    return out;
}

Expected<std::vector<double>> TreeEnsemble::margins(const ml::DesignMatrix &x) const
{
    if (Status s = checkMatrix(x, numFeatures, QStringLiteral("input")); !s)
        return s.error();
    if (Status s = validate(); !s)
        return s.error();
    std::vector<double> out(size_t(x.rows) * size_t(numOutputs));
    for (qint64 r = 0; r < x.rows; ++r)
        margin(x.values.data() + size_t(r) * size_t(x.cols), out.data() + size_t(r) * size_t(numOutputs));
    return out;
}

namespace {

/// Reads XGBoost's JSON with errors naming the field path.
struct JsonReader {
    Error error;
    bool failed = false;

    void fail(const QString &path, const QString &message)
    {
        if (!failed)
            error = makeError(message, {}, -1, path);
        failed = true;
    }
    QJsonObject object(const QJsonObject &o, const char *key, const QString &path)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (!v.isObject())
            fail(path + QLatin1String(key), QStringLiteral("missing or not an object"));
        return v.toObject();
    }
    QJsonArray array(const QJsonObject &o, const char *key, const QString &path)
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (!v.isArray())
            fail(path + QLatin1String(key), QStringLiteral("missing or not an array"));
        return v.toArray();
    }
    /// XGBoost writes parameters as strings ("5E-1"); numbers are accepted too.
    double number(const QJsonObject &o, const char *key, const QString &path, std::optional<double> fallback = {})
    {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined() && fallback)
            return *fallback;
        if (v.isDouble())
            return v.toDouble();
        bool ok = false;
        const double d = v.toString().toDouble(&ok);
        if (!v.isString() || !ok)
            fail(path + QLatin1String(key), QStringLiteral("missing or not a number"));
        return d;
    }
};

} // namespace

Expected<TreeEnsemble> parseXgboostJson(const QByteArray &json)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(QStringLiteral("not an XGBoost JSON model: ")
                         + (pe.error != QJsonParseError::NoError
                                ? pe.errorString() + QStringLiteral(" at offset ") + QString::number(pe.offset)
                                : QStringLiteral("not a JSON object")));
    JsonReader rd;
    const QJsonObject learner = rd.object(doc.object(), "learner", QString());
    const QString lp = QStringLiteral("learner.");
    const QJsonObject param = rd.object(learner, "learner_model_param", lp);
    const QString pp = lp + QStringLiteral("learner_model_param.");
    const double numFeature = rd.number(param, "num_feature", pp);
    const double numClass = rd.number(param, "num_class", pp, 0.0);
    const double numTarget = rd.number(param, "num_target", pp, 1.0);
    // "5E-1" (XGBoost 1.x), or "[5E-1]" / "[a,b,...]" with one value per output (2.x).
    const QJsonValue baseValue = param.value(QStringLiteral("base_score"));
    std::vector<double> baseScores;
    if (baseValue.isDouble()) {
        baseScores.push_back(baseValue.toDouble());
    } else {
        QString text = baseValue.toString().trimmed();
        if (text.startsWith(QLatin1Char('[')) && text.endsWith(QLatin1Char(']')))
            text = text.mid(1, text.size() - 2);
        for (const QString &part : text.split(QLatin1Char(','))) {
            bool ok = false;
            baseScores.push_back(part.trimmed().toDouble(&ok));
            if (!ok)
                rd.fail(pp + QStringLiteral("base_score"), QStringLiteral("missing or not a number"));
        }
    }
    const QString objective =
        rd.object(learner, "objective", lp).value(QStringLiteral("name")).toString();
    const QJsonObject booster = rd.object(learner, "gradient_booster", lp);
    const QString bp = lp + QStringLiteral("gradient_booster.");
    if (rd.failed)
        return rd.error;
    if (booster.value(QStringLiteral("name")).toString() != QLatin1String("gbtree"))
        return makeError(QStringLiteral("unsupported booster '") + booster.value(QStringLiteral("name")).toString()
                             + QStringLiteral("' (only gbtree)"),
                         {}, -1, bp + QStringLiteral("name"));
    const QJsonObject model = rd.object(booster, "model", bp);
    const QString mp = bp + QStringLiteral("model.");
    const QJsonArray trees = rd.array(model, "trees", mp);
    const QJsonArray treeInfo = rd.array(model, "tree_info", mp);
    const QJsonObject treeParam = rd.object(model, "gbtree_model_param", mp);
    const double numParallel =
        rd.number(treeParam, "num_parallel_tree", mp + QStringLiteral("gbtree_model_param."), 1.0);
    if (rd.failed)
        return rd.error;
    if (!(numFeature >= 0 && numFeature < 1e8))
        return makeError(QStringLiteral("invalid feature count"), {}, -1, pp + QStringLiteral("num_feature"));
    if (!(numClass >= 0 && numClass < 1e6) || !(numTarget >= 1 && numTarget < 1e6) || !(numParallel >= 1))
        return makeError(QStringLiteral("invalid num_class, num_target or num_parallel_tree"), {}, -1, pp);
    if (treeInfo.size() != trees.size())
        return makeError(QStringLiteral("has ") + QString::number(treeInfo.size()) + QStringLiteral(" entries for ")
                             + QString::number(trees.size()) + QStringLiteral(" trees"),
                         {}, -1, mp + QStringLiteral("tree_info"));

    TreeEnsemble e;
    e.objective = objective;
    e.numFeatures = int(numFeature);
    e.numOutputs = std::max({1, int(numClass), int(numTarget)});
    enum class Link { Identity, Logit, Log };
    Link link = Link::Identity;
    if (objective == QLatin1String("binary:logistic") || objective == QLatin1String("reg:logistic"))
        link = Link::Logit;
    else if (objective == QLatin1String("count:poisson") || objective == QLatin1String("reg:gamma")
             || objective == QLatin1String("reg:tweedie"))
        link = Link::Log;
    else if (!(objective.startsWith(QLatin1String("reg:")) || objective.startsWith(QLatin1String("multi:"))
               || objective.startsWith(QLatin1String("rank:")) || objective == QLatin1String("binary:logitraw")
               || objective == QLatin1String("binary:hinge")))
        return makeError(QStringLiteral("unsupported objective '") + objective + QLatin1Char('\''), {}, -1,
                         lp + QStringLiteral("objective.name"));
    if (baseScores.size() != 1 && baseScores.size() != size_t(e.numOutputs))
        return makeError(QStringLiteral("has ") + QString::number(baseScores.size()) + QStringLiteral(" values for ")
                             + QString::number(e.numOutputs) + QStringLiteral(" outputs"),
                         {}, -1, pp + QStringLiteral("base_score"));
    for (int k = 0; k < e.numOutputs; ++k) {
        const double score = baseScores[baseScores.size() == 1 ? 0 : size_t(k)];
        if (link == Link::Logit && !(score > 0 && score < 1))
            return makeError(QStringLiteral("must be in (0, 1) for ") + objective, {}, -1,
                             pp + QStringLiteral("base_score"));
        if (link == Link::Log && !(score > 0))
            return makeError(QStringLiteral("must be > 0 for ") + objective, {}, -1, pp + QStringLiteral("base_score"));
        e.baseMargin.push_back(link == Link::Logit ? std::log(score / (1.0 - score))
                               : link == Link::Log ? std::log(score)
                                                   : score);
    }

    qsizetype used = trees.size();
    const QJsonValue bestAttr =
        learner.value(QStringLiteral("attributes")).toObject().value(QStringLiteral("best_iteration"));
    if (!bestAttr.isUndefined()) {
        bool ok = false;
        const int best = bestAttr.isDouble() ? bestAttr.toInt(-1) : bestAttr.toString().toInt(&ok);
        if ((!bestAttr.isDouble() && !ok) || best < 0)
            return makeError(QStringLiteral("invalid best_iteration"), {}, -1,
                             lp + QStringLiteral("attributes.best_iteration"));
        used = std::min<qsizetype>(used, qsizetype(best + 1) * qsizetype(numParallel) * e.numOutputs);
    }

    e.trees.resize(size_t(used));
    for (qsizetype ti = 0; ti < used; ++ti) {
        const QString tp = mp + QStringLiteral("trees[") + QString::number(ti) + QStringLiteral("].");
        const QJsonObject t = trees.at(ti).toObject();
        const QJsonArray left = rd.array(t, "left_children", tp);
        const QJsonArray right = rd.array(t, "right_children", tp);
        const QJsonArray index = rd.array(t, "split_indices", tp);
        const QJsonArray cond = rd.array(t, "split_conditions", tp);
        const QJsonArray defLeft = rd.array(t, "default_left", tp);
        const QJsonArray hess = rd.array(t, "sum_hessian", tp);
        if (rd.failed)
            return rd.error;
        const qsizetype n = left.size();
        const std::pair<const QJsonArray *, const char *> others[] = {
            {&right, "right_children"}, {&index, "split_indices"}, {&cond, "split_conditions"},
            {&defLeft, "default_left"}, {&hess, "sum_hessian"}};
        for (const auto &[arr, name] : others)
            if (arr->size() != n)
                return makeError(QStringLiteral("has ") + QString::number(arr->size())
                                     + QStringLiteral(" entries for ") + QString::number(n) + QStringLiteral(" nodes"),
                                 {}, -1, tp + QLatin1String(name));
        const QJsonObject treeParams = t.value(QStringLiteral("tree_param")).toObject();
        if (treeParams.value(QStringLiteral("size_leaf_vector")).toString().toInt() > 1)
            return makeError(QStringLiteral("vector-leaf (multi-target) trees are not supported"), {}, -1,
                             tp + QStringLiteral("tree_param.size_leaf_vector"));
        const QJsonArray splitType = t.value(QStringLiteral("split_type")).toArray();
        for (const QJsonValue &v : splitType)
            if (v.toInt() != 0)
                return makeError(QStringLiteral("categorical splits are not supported"), {}, -1,
                                 tp + QStringLiteral("split_type"));
        Tree &tree = e.trees[size_t(ti)];
        tree.output = treeInfo.at(ti).toInt(-1);
        if (tree.output < 0 || tree.output >= e.numOutputs)
            return makeError(QStringLiteral("output group out of range"), {}, -1,
                             mp + QStringLiteral("tree_info[") + QString::number(ti) + QLatin1Char(']'));
        tree.nodes.resize(size_t(n));
        for (qsizetype i = 0; i < n; ++i) {
            TreeNode &node = tree.nodes[size_t(i)];
            node.left = left.at(i).toInt(-1);
            node.right = right.at(i).toInt(-1);
            node.cover = hess.at(i).toDouble();
            if (node.left < 0) {
                node.left = node.right = -1;
                node.value = double(float(cond.at(i).toDouble()));
            } else {
                node.feature = index.at(i).toInt(-1);
                node.threshold = float(cond.at(i).toDouble());
                node.defaultLeft = defLeft.at(i).toInt() != 0;
            }
        }
        if (n == 0)
            return makeError(QStringLiteral("tree has no nodes"), {}, -1, tp + QStringLiteral("left_children"));
    }
    if (Status s = e.validate(); !s) {
        Error err = s.error();
        err.message = QStringLiteral("invalid tree structure: ") + err.message;
        err.field = mp + QStringLiteral("trees");
        return err;
    }
    return e;
}

Expected<Attribution> treeShap(const TreeEnsemble &ensemble, const ml::DesignMatrix &x, const TreeShapOptions &options,
                               Feedback *feedback)
{
    auto prepared = prepare(ensemble, x, options);
    if (!prepared)
        return prepared.error();
    const Prepared &p = *prepared;
    const int features = x.cols;
    const int outputs = ensemble.numOutputs;
    const int threads = threadCount(options.threads);
    const bool interventional = options.background != nullptr;

    Attribution a;
    a.method = interventional ? QStringLiteral("tree_shap_interventional") : QStringLiteral("tree_shap");
    a.features = featureNames(x);
    a.outputs = outputs;
    a.rows = x.rows;
    a.base = p.base;
    a.values.assign(size_t(x.rows) * size_t(outputs) * size_t(features), 0.0);
    a.residual.assign(size_t(x.rows) * size_t(outputs), 0.0);
    a.parameters.insert(QStringLiteral("trees"), qint64(p.trees.size()));
    a.parameters.insert(QStringLiteral("threads"), threads);
    a.parameters.insert(QStringLiteral("feature_perturbation"),
                        interventional ? QStringLiteral("interventional") : QStringLiteral("tree_path_dependent"));
    if (interventional)
        a.parameters.insert(QStringLiteral("background_rows"), options.background->rows);

    std::vector<PathScratch> scratch(static_cast<size_t>(threads));
    std::vector<std::vector<uint8_t>> states(static_cast<size_t>(threads));
    const size_t rowStride = size_t(outputs) * size_t(features);
    auto block = [&](qint64 begin, qint64 end, int index) {
        if (interventional) {
            std::vector<uint8_t> &state = states[size_t(index)];
            state.assign(size_t(features), 0);
            for (qint64 r = begin; r < end; ++r)
                interventionalRow(p, *options.background, x.values.data() + size_t(r) * size_t(features),
                                  a.values.data() + size_t(r) * rowStride, features, state, -1, false);
        } else {
            PathScratch &sc = scratch[size_t(index)];
            sc.reserve(p.maxNodes, p.maxPoints);
            const TreeRowKernel kernel = pathTreeRowKernel<false>(options.wideVectors);
            for (const CTree &t : p.trees)
                for (qint64 r = begin; r < end; ++r)
                    kernel(t, x.values.data() + size_t(r) * size_t(features),
                           a.values.data() + size_t(r) * rowStride + size_t(t.output) * size_t(features), sc, -1,
                           false);
        }
        std::vector<double> m(static_cast<size_t>(outputs));
        for (qint64 r = begin; r < end; ++r) {
            const float *row = x.values.data() + size_t(r) * size_t(features);
            std::fill(m.begin(), m.end(), 0.0);
            for (const CTree &t : p.trees)
                m[size_t(t.output)] += treeMargin(t, row);
            for (int k = 0; k < outputs; ++k) {
                const double *v = a.values.data() + size_t(r) * rowStride + size_t(k) * size_t(features);
                const double sum = std::accumulate(v, v + features, 0.0);
                a.residual[size_t(r) * size_t(outputs) + size_t(k)] =
                    ensemble.baseMargin[size_t(k)] + m[size_t(k)] - (a.base[size_t(k)] + sum);
            }
        }
    };
    if (Status s = parallelRows(x.rows, threads, feedback, QStringLiteral("tree_shap"), block); !s)
        return s.error();
    return a;
}

Expected<ShapInteractions> treeShapInteractions(const TreeEnsemble &ensemble, const ml::DesignMatrix &x,
                                                const std::vector<qint64> &rows, int topK,
                                                const TreeShapOptions &options, Feedback *feedback)
{
    if (topK < 1)
        return makeError(QStringLiteral("must be >= 1"), {}, -1, QStringLiteral("top_k"));
    if (Status s = checkMatrix(x, ensemble.numFeatures, QStringLiteral("input")); !s)
        return s.error();
    ml::DesignMatrix sub;
    sub.cols = x.cols;
    sub.columnNames = x.columnNames;
    sub.sourceFeature = x.sourceFeature;
    sub.sourceFeatureNames = x.sourceFeatureNames;
    for (const qint64 r : rows) {
        if (r < 0 || r >= x.rows)
            return makeError(QStringLiteral("row ") + QString::number(r) + QStringLiteral(" out of range (")
                                 + QString::number(x.rows) + QStringLiteral(" rows)"),
                             {}, -1, QStringLiteral("rows"));
        sub.values.insert(sub.values.end(), x.values.begin() + qsizetype(r) * x.cols,
                          x.values.begin() + qsizetype(r + 1) * x.cols);
        ++sub.rows;
    }
    auto shap = treeShap(ensemble, sub, options, nullptr);
    if (!shap)
        return shap.error();
    auto prepared = prepare(ensemble, sub, options);
    if (!prepared)
        return prepared.error();
    const Prepared &p = *prepared;
    const int features = sub.cols;
    const int outputs = ensemble.numOutputs;
    const bool interventional = options.background != nullptr;

    // The k features with the largest mean |phi| (summed over outputs).
    std::vector<double> importance(size_t(features), 0.0);
    for (int k = 0; k < outputs; ++k) {
        const std::vector<double> m = meanAbsImportance(*shap, k);
        for (size_t f = 0; f < m.size(); ++f)
            importance[f] += m[f];
    }
    std::vector<int> order(static_cast<size_t>(features));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return importance[size_t(a)] > importance[size_t(b)]; });
    const int k = std::min(topK, features);
    order.resize(size_t(k));

    ShapInteractions out;
    out.method = interventional ? QStringLiteral("tree_shap_interactions_interventional")
                                : QStringLiteral("tree_shap_interactions");
    out.columns = order;
    for (const int c : order)
        out.features.append(shap->features[c]);
    out.rows = rows;
    out.outputs = outputs;
    out.values.assign(size_t(sub.rows) * size_t(outputs) * size_t(k) * size_t(k), 0.0);
    out.rest.assign(size_t(sub.rows) * size_t(outputs) * size_t(k), 0.0);
    std::vector<char> inTop(size_t(features), 0);
    for (const int c : order)
        inTop[size_t(c)] = 1;

    const int threads = threadCount(options.threads);
    std::vector<PathScratch> scratch(static_cast<size_t>(threads));
    std::vector<std::vector<uint8_t>> states(static_cast<size_t>(threads));
    const size_t rowStride = size_t(outputs) * size_t(features);
    // cond[q] holds Phi_{order[q], i} for every feature i and output: (phi_i | j on - phi_i | j off) / 2.
    auto block = [&](qint64 begin, qint64 end, int index) {
        PathScratch &sc = scratch[size_t(index)];
        sc.reserve(p.maxNodes, p.maxPoints);
        std::vector<uint8_t> &state = states[size_t(index)];
        state.assign(size_t(features), 0);
        std::vector<double> on(rowStride), off(rowStride), cond(size_t(k) * rowStride);
        for (qint64 r = begin; r < end; ++r) {
            const float *row = sub.values.data() + size_t(r) * size_t(features);
            for (int q = 0; q < k; ++q) {
                const int j = order[size_t(q)];
                std::fill(on.begin(), on.end(), 0.0);
                std::fill(off.begin(), off.end(), 0.0);
                if (interventional) {
                    interventionalRow(p, *options.background, row, on.data(), features, state, j, true);
                    interventionalRow(p, *options.background, row, off.data(), features, state, j, false);
                } else {
                    const TreeRowKernel kernel = pathTreeRowKernel<true>(options.wideVectors);
                    for (const CTree &t : p.trees) {
                        if (!usesFeature(t, j))
                            continue;
                        const size_t o = size_t(t.output) * size_t(features);
                        kernel(t, row, on.data() + o, sc, j, true);
                        kernel(t, row, off.data() + o, sc, j, false);
                    }
                }
                double *c = cond.data() + size_t(q) * rowStride;
                for (size_t i = 0; i < rowStride; ++i)
                    c[i] = (on[i] - off[i]) / 2.0;
                for (int o = 0; o < outputs; ++o)
                    c[size_t(o) * size_t(features) + size_t(j)] = 0;
            }
            for (int o = 0; o < outputs; ++o) {
                for (int q = 0; q < k; ++q) {
                    const double *c = cond.data() + size_t(q) * rowStride + size_t(o) * size_t(features);
                    double restSum = 0;
                    for (int i = 0; i < features; ++i)
                        if (!inTop[size_t(i)])
                            restSum += c[i];
                    out.rest[size_t((r * outputs + o) * k + q)] = restSum;
                    double offDiagonal = 0;
                    for (int s = 0; s < k; ++s) {
                        if (s == q)
                            continue;
                        // Symmetric by definition; average the two conditionings so it is exactly symmetric.
                        const double *cs = cond.data() + size_t(s) * rowStride + size_t(o) * size_t(features);
                        const double v = (c[order[size_t(s)]] + cs[order[size_t(q)]]) / 2.0;
                        out.values[size_t(((r * outputs + o) * k + q) * k + s)] = v;
                        offDiagonal += v;
                    }
                    out.values[size_t(((r * outputs + o) * k + q) * k + q)] =
                        shap->value(r, o, order[size_t(q)]) - offDiagonal - restSum;
                }
            }
        }
    };
    if (Status s = parallelRows(sub.rows, threads, feedback, QStringLiteral("tree_shap_interactions"), block); !s)
        return s.error();
    out.shap = std::move(shap).value();
    out.shap.parameters.insert(QStringLiteral("rows_selected"), qint64(rows.size()));
    return out;
}

} // namespace keel::explain
