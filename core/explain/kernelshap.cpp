#include "explain/kernelshap.h"

#include <Eigen/Dense>

#include <QJsonArray>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_map>

namespace keel::explain {

namespace {

Error fieldError(const QString &field, const QString &message) { return makeError(message, {}, -1, field); }

bool sameValue(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }

ml::DesignMatrix pickRows(const ml::DesignMatrix &x, const std::vector<qint64> &rows)
{
    ml::DesignMatrix out;
    out.rows = qint64(rows.size());
    out.cols = x.cols;
    out.columnNames = x.columnNames;
    out.sourceFeature = x.sourceFeature;
    out.sourceFeatureNames = x.sourceFeatureNames;
    out.values.reserve(rows.size() * size_t(x.cols));
    for (qint64 r : rows)
        out.values.insert(out.values.end(), x.values.begin() + r * x.cols, x.values.begin() + (r + 1) * x.cols);
    return out;
}

// `k` distinct indices of [0, n) drawn uniformly (partial Fisher-Yates), sorted.
std::vector<qint64> sampleIndices(qint64 n, qint64 k, Rng &rng)
{
    std::vector<qint64> all(static_cast<size_t>(n));
    std::iota(all.begin(), all.end(), qint64(0));
    for (qint64 i = 0; i < k; ++i)
        std::swap(all[size_t(i)], all[size_t(i + qint64(rng.below(quint64(n - i))))]);
    all.resize(size_t(k));
    std::sort(all.begin(), all.end());
    return all;
}

Expected<Background> kmeansBackground(const ml::DesignMatrix &x, const BackgroundOptions &o, Feedback *feedback)
{
    Rng rng(o.seed);
    std::vector<qint64> pool;
    if (x.rows > o.maxRows && o.maxRows > 0) {
        pool = sampleIndices(x.rows, o.maxRows, rng);
    } else {
        pool.resize(size_t(x.rows));
        std::iota(pool.begin(), pool.end(), qint64(0));
    }
    const qint64 n = qint64(pool.size());
    const int d = x.cols;
    // Scaled copy: unit variance per column, missing values at the column mean (0 after centring).
    std::vector<double> z(size_t(n) * size_t(d), 0.0);
    for (int c = 0; c < d; ++c) {
        double s = 0, ss = 0;
        qint64 m = 0;
        for (qint64 i = 0; i < n; ++i) {
            const float v = x.at(pool[size_t(i)], c);
            if (std::isnan(v))
                continue;
            s += v;
            ss += double(v) * double(v);
            ++m;
        }
        const double mean = m ? s / double(m) : 0.0;
        const double var = m ? std::max(0.0, ss / double(m) - mean * mean) : 0.0;
        const double sd = var > 1e-24 ? std::sqrt(var) : 1.0;
        for (qint64 i = 0; i < n; ++i) {
            const float v = x.at(pool[size_t(i)], c);
            z[size_t(i) * size_t(d) + size_t(c)] = std::isnan(v) ? 0.0 : (double(v) - mean) / sd;
        }
    }
    const auto dist2 = [&](qint64 i, const double *centre) {
        const double *p = z.data() + size_t(i) * size_t(d);
        double s = 0;
        for (int c = 0; c < d; ++c) {
            const double t = p[c] - centre[c];
            s += t * t;
        }
        return s;
    };

    // k-means++ seeding.
    const int k = o.size;
    std::vector<double> centres;
    centres.reserve(size_t(k) * size_t(d));
    const qint64 first = qint64(rng.below(quint64(n)));
    centres.insert(centres.end(), z.begin() + first * d, z.begin() + (first + 1) * d);
    std::vector<double> best(size_t(n), std::numeric_limits<double>::infinity());
    while (int(centres.size() / size_t(d)) < k) {
        if (isCancelled(feedback))
            return cancelledError();
        const double *last = centres.data() + centres.size() - size_t(d);
        double total = 0;
        for (qint64 i = 0; i < n; ++i) {
            best[size_t(i)] = std::min(best[size_t(i)], dist2(i, last));
            total += best[size_t(i)];
        }
        if (total <= 0)
            break; // fewer distinct rows than clusters
        double target = rng.uniform() * total;
        qint64 pick = n - 1;
        for (qint64 i = 0; i < n; ++i) {
            target -= best[size_t(i)];
            if (target < 0 && best[size_t(i)] > 0) {
                pick = i;
                break;
            }
        }
        centres.insert(centres.end(), z.begin() + pick * d, z.begin() + (pick + 1) * d);
    }
    const int kk = int(centres.size() / size_t(d));

    // Lloyd iterations.
    std::vector<int> assign(size_t(n), -1);
    for (int it = 0; it < std::max(1, o.maxIterations); ++it) {
        if (isCancelled(feedback))
            return cancelledError();
        reportProgress(feedback, it, o.maxIterations, QStringLiteral("k-means background"));
        std::atomic<bool> changed{false};
        Status s = parallelFor(n, 512, 0, [&](qint64 b, qint64 e) -> Status {
            for (qint64 i = b; i < e; ++i) {
                int arg = 0;
                double bd = std::numeric_limits<double>::infinity();
                for (int c = 0; c < kk; ++c) {
                    const double v = dist2(i, centres.data() + size_t(c) * size_t(d));
                    if (v < bd) {
                        bd = v;
                        arg = c;
                    }
                }
                if (assign[size_t(i)] != arg) {
                    assign[size_t(i)] = arg;
                    changed.store(true, std::memory_order_relaxed);
                }
            }
            return {};
        });
        if (!s)
            return s.error();
        if (!changed.load())
            break;
        std::vector<double> sum(size_t(kk) * size_t(d), 0.0);
        std::vector<qint64> count(size_t(kk), 0);
        for (qint64 i = 0; i < n; ++i) {
            const int c = assign[size_t(i)];
            ++count[size_t(c)];
            for (int j = 0; j < d; ++j)
                sum[size_t(c) * size_t(d) + size_t(j)] += z[size_t(i) * size_t(d) + size_t(j)];
        }
        for (int c = 0; c < kk; ++c)
            if (count[size_t(c)] > 0)
                for (int j = 0; j < d; ++j)
                    centres[size_t(c) * size_t(d) + size_t(j)] = sum[size_t(c) * size_t(d) + size_t(j)] / double(count[size_t(c)]);
    }

    // Medoid of each non-empty cluster, weighted by the cluster's share.
    std::vector<qint64> medoid(size_t(kk), -1);
    std::vector<double> medoidDist(size_t(kk), std::numeric_limits<double>::infinity());
    std::vector<qint64> count(size_t(kk), 0);
    for (qint64 i = 0; i < n; ++i) {
        const int c = assign[size_t(i)];
        ++count[size_t(c)];
        const double v = dist2(i, centres.data() + size_t(c) * size_t(d));
        if (v < medoidDist[size_t(c)]) {
            medoidDist[size_t(c)] = v;
            medoid[size_t(c)] = i;
        }
    }
    std::vector<std::pair<qint64, double>> picked;
    for (int c = 0; c < kk; ++c)
        if (count[size_t(c)] > 0)
            picked.emplace_back(pool[size_t(medoid[size_t(c)])], double(count[size_t(c)]) / double(n));
    std::sort(picked.begin(), picked.end());
    Background bg;
    bg.method = QStringLiteral("kmeans");
    for (const auto &[row, w] : picked) {
        bg.sourceRows.push_back(row);
        bg.weights.push_back(w);
    }
    return bg;
}

// ---------------------------------------------------------------------------------------------------------------
// Coalition sampling (the shap package's KernelExplainer scheme).

struct Coalitions {
    int m = 0;
    std::vector<uint8_t> masks;          // count x m
    std::vector<double> weights;         // per coalition (kernel weight, normalised as shap does)
    std::vector<double> counts;          // sampled coalitions: times drawn (weights = counts * scale); 0 if enumerated
    std::vector<int> unit;               // sampled coalitions: unit id (a draw and its complement); -1 if enumerated
    int units = 0;
    double weightLeft = 0;               // total kernel weight of the sampled part
    bool exact = true;

    size_t count() const { return weights.size(); }
    const uint8_t *mask(size_t i) const { return masks.data() + i * size_t(m); }
};

double binomial(int n, int k)
{
    double r = 1;
    for (int i = 1; i <= k; ++i)
        r = r * double(n - k + i) / double(i);
    return r;
}

Coalitions makeCoalitions(int m, qint64 budget, bool enumerateAll, Rng &rng)
{
    Coalitions c;
    c.m = m;
    const auto add = [&](const std::vector<uint8_t> &mask, double w, double count, int unit) {
        c.masks.insert(c.masks.end(), mask.begin(), mask.end());
        c.weights.push_back(w);
        c.counts.push_back(count);
        c.unit.push_back(unit);
    };
    const int numSizes = (m - 1 + 1) / 2;   // ceil((m - 1) / 2)
    const int numPaired = (m - 1) / 2;      // floor((m - 1) / 2)
    std::vector<double> weightVector(static_cast<size_t>(numSizes));
    for (int i = 1; i <= numSizes; ++i)
        weightVector[size_t(i - 1)] = double(m - 1) / (double(i) * double(m - i)) * (i <= numPaired ? 2.0 : 1.0);
    const double wsum = std::accumulate(weightVector.begin(), weightVector.end(), 0.0);
    for (double &w : weightVector)
        w /= wsum;

    int fullSizes = 0;
    double samplesLeft = double(budget);
    std::vector<double> remaining = weightVector;
    std::vector<uint8_t> mask(static_cast<size_t>(m));
    for (int size = 1; size <= numSizes; ++size) {
        double nsubsets = binomial(m, size);
        if (size <= numPaired)
            nsubsets *= 2;
        if (!enumerateAll && samplesLeft * remaining[size_t(size - 1)] / nsubsets < 1.0 - 1e-8)
            break;
        ++fullSizes;
        samplesLeft -= nsubsets;
        if (remaining[size_t(size - 1)] < 1.0) {
            const double scale = 1.0 - remaining[size_t(size - 1)];
            for (double &r : remaining)
                r /= scale;
        }
        double w = weightVector[size_t(size - 1)] / binomial(m, size);
        if (size <= numPaired)
            w /= 2.0;
        std::vector<int> idx(static_cast<size_t>(size));
        std::iota(idx.begin(), idx.end(), 0);
        for (;;) {
            std::fill(mask.begin(), mask.end(), uint8_t(0));
            for (int i : idx)
                mask[size_t(i)] = 1;
            add(mask, w, 0, -1);
            if (size <= numPaired) {
                for (uint8_t &b : mask)
                    b = uint8_t(1 - b);
                add(mask, w, 0, -1);
            }
            int i = size - 1;
            while (i >= 0 && idx[size_t(i)] == m - size + i)
                --i;
            if (i < 0)
                break;
            ++idx[size_t(i)];
            for (int j = i + 1; j < size; ++j)
                idx[size_t(j)] = idx[size_t(j - 1)] + 1;
        }
    }
    if (fullSizes == numSizes)
        return c;

    c.exact = false;
    const size_t nfixed = c.count();
    qint64 left = budget - qint64(nfixed);
    std::vector<double> sizeWeights(weightVector.begin() + fullSizes, weightVector.end());
    for (size_t i = 0; i < sizeWeights.size(); ++i)
        if (fullSizes + int(i) + 1 <= numPaired)
            sizeWeights[i] /= 2.0;
    const double ssum = std::accumulate(sizeWeights.begin(), sizeWeights.end(), 0.0);
    std::vector<double> cumulative(sizeWeights.size());
    double acc = 0;
    for (size_t i = 0; i < sizeWeights.size(); ++i)
        cumulative[i] = (acc += sizeWeights[i] / ssum);

    // Every coalition (drawn or complement) is registered, so a repeat draw adds to the existing one's count.
    std::unordered_map<std::string, size_t> used;
    const auto addOrCount = [&](int unit) {
        const std::string key(mask.begin(), mask.end());
        const auto it = used.find(key);
        if (it != used.end()) {
            c.counts[it->second] += 1;
            return false;
        }
        used.emplace(key, c.count());
        add(mask, 0, 1, unit);
        --left;
        return true;
    };
    std::vector<int> perm(static_cast<size_t>(m));
    const qint64 draws = 4 * std::max<qint64>(left, 1);
    for (qint64 draw = 0; draw < draws && left > 0; ++draw) {
        const double u = rng.uniform();
        const size_t slot = size_t(std::lower_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin());
        const int size = fullSizes + int(std::min(slot, sizeWeights.size() - 1)) + 1;
        std::iota(perm.begin(), perm.end(), 0);
        std::fill(mask.begin(), mask.end(), uint8_t(0));
        for (int i = 0; i < size; ++i) {
            std::swap(perm[size_t(i)], perm[size_t(i + int(rng.below(quint64(m - i))))]);
            mask[size_t(perm[size_t(i)])] = 1;
        }
        bool added = addOrCount(c.units);
        if (left > 0 && size <= numPaired) {
            for (uint8_t &b : mask)
                b = uint8_t(1 - b);
            added = addOrCount(c.units) || added;
        }
        if (added)
            ++c.units;
    }
    c.weightLeft = std::accumulate(weightVector.begin() + fullSizes, weightVector.end(), 0.0);
    double csum = 0;
    for (size_t i = nfixed; i < c.count(); ++i)
        csum += c.counts[i];
    for (size_t i = nfixed; i < c.count(); ++i)
        c.weights[i] = c.counts[i] * c.weightLeft / csum;
    return c;
}

// Constrained weighted least squares (sum of phi = d), eliminating the last player as the shap package does.
// `w` are the per-coalition weights, `y` the value-function gains v(S) - v(empty).
std::vector<double> solveShapley(const Coalitions &c, const std::vector<double> &w, const std::vector<double> &y, double d)
{
    const int m = c.m;
    const int p = m - 1;
    Eigen::MatrixXd ata = Eigen::MatrixXd::Zero(p, p);
    Eigen::VectorXd atb = Eigen::VectorXd::Zero(p);
    Eigen::VectorXd a(p);
    for (size_t n = 0; n < c.count(); ++n) {
        if (w[n] == 0)
            continue;
        const uint8_t *z = c.mask(n);
        const double last = z[m - 1];
        for (int j = 0; j < p; ++j)
            a[j] = double(z[j]) - last;
        const double b = y[n] - last * d;
        ata.noalias() += w[n] * a * a.transpose();
        atb.noalias() += w[n] * b * a;
    }
    const Eigen::VectorXd sol = ata.completeOrthogonalDecomposition().solve(atb);
    std::vector<double> phi(static_cast<size_t>(m));
    double s = 0;
    for (int j = 0; j < p; ++j) {
        phi[size_t(j)] = sol[j];
        s += sol[j];
    }
    phi[size_t(p)] = d - s;
    return phi;
}

struct RowJob {
    const ml::Model *model;
    int outputs;
    const Background *bg;
    const std::vector<std::vector<int>> *groups;
    const KernelShapOptions *options;
    std::vector<double> fnull;
};

// Explains design row `xr` (fx = its margins). Writes features x outputs into phi / se (output-major per row).
Status explainRow(const RowJob &job, const float *xr, const double *fx, qint64 rowIndex, double *phiOut,
                  double *seOut, int &coalitionsOut, bool &exactOut, Feedback *feedback)
{
    const auto &groups = *job.groups;
    const int features = int(groups.size());
    const int K = job.outputs;
    const ml::DesignMatrix &bx = job.bg->x;
    const qint64 B = bx.rows;
    const int cols = bx.cols;

    std::vector<int> varying;
    for (int f = 0; f < features; ++f) {
        bool differs = false;
        for (qint64 b = 0; b < B && !differs; ++b)
            for (int col : groups[size_t(f)])
                if (!sameValue(xr[col], bx.at(b, col))) {
                    differs = true;
                    break;
                }
        if (differs)
            varying.push_back(f);
    }
    const int m = int(varying.size());
    for (int k = 0; k < K; ++k)
        for (int f = 0; f < features; ++f) {
            phiOut[size_t(k) * size_t(features) + size_t(f)] = 0.0;
            seOut[size_t(k) * size_t(features) + size_t(f)] = 0.0;
        }
    coalitionsOut = 0;
    exactOut = true;
    if (m == 0)
        return {};
    if (m == 1) {
        for (int k = 0; k < K; ++k)
            phiOut[size_t(k) * size_t(features) + size_t(varying[0])] = fx[k] - job.fnull[size_t(k)];
        return {};
    }

    const double maxSamples = m >= 62 ? std::numeric_limits<double>::max() : std::ldexp(1.0, m) - 2.0;
    qint64 budget = job.options->samples > 0 ? job.options->samples : 2 * m + 2048;
    budget = std::max<qint64>(budget, 2 * m + 2);
    const bool enumerateAll = double(budget) >= maxSamples;
    if (enumerateAll)
        budget = qint64(maxSamples);
    Rng rng = Rng::forStream(job.options->seed, quint64(rowIndex));
    const Coalitions c = makeCoalitions(m, budget, enumerateAll, rng);
    const size_t N = c.count();
    coalitionsOut = int(N);
    exactOut = c.exact;

    // v(S) for every coalition: background rows with the coalition's features taken from x, weighted mean margin.
    std::vector<double> ey(N * size_t(K), 0.0);
    const size_t perBatch = size_t(std::max<qint64>(1, job.options->maxBatchRows / std::max<qint64>(1, B)));
    ml::DesignMatrix batch;
    batch.cols = cols;
    batch.columnNames = bx.columnNames;
    batch.sourceFeature = bx.sourceFeature;
    batch.sourceFeatureNames = bx.sourceFeatureNames;
    for (size_t start = 0; start < N; start += perBatch) {
        if (isCancelled(feedback))
            return cancelledError();
        const size_t end = std::min(N, start + perBatch);
        batch.rows = qint64(end - start) * B;
        batch.values.resize(size_t(batch.rows) * size_t(cols));
        float *out = batch.values.data();
        for (size_t n = start; n < end; ++n) {
            const uint8_t *z = c.mask(n);
            for (qint64 b = 0; b < B; ++b) {
                std::copy(bx.values.begin() + b * cols, bx.values.begin() + (b + 1) * cols, out);
                for (int j = 0; j < m; ++j)
                    if (z[j])
                        for (int col : groups[size_t(varying[size_t(j)])])
                            out[col] = xr[col];
                out += cols;
            }
        }
        auto margins = job.model->predictMargin(batch);
        if (!margins)
            return margins.error();
        if (margins->size() != size_t(batch.rows) * size_t(K))
            return makeError(QStringLiteral("the model returned %1 margins for %2 rows").arg(margins->size()).arg(batch.rows));
        for (size_t n = start; n < end; ++n)
            for (qint64 b = 0; b < B; ++b)
                for (int k = 0; k < K; ++k)
                    ey[n * size_t(K) + size_t(k)] +=
                        job.bg->weights[size_t(b)] * (*margins)[(size_t(n - start) * size_t(B) + size_t(b)) * size_t(K) + size_t(k)];
    }

    // Jackknife groups over the sampled units.
    const int G = c.exact ? 0 : std::min(job.options->jackknifeGroups, c.units);
    std::vector<double> y(N);
    for (int k = 0; k < K; ++k) {
        for (size_t n = 0; n < N; ++n)
            y[n] = ey[n * size_t(K) + size_t(k)] - job.fnull[size_t(k)];
        const double d = fx[k] - job.fnull[size_t(k)];
        const std::vector<double> phi = solveShapley(c, c.weights, y, d);
        for (int j = 0; j < m; ++j)
            phiOut[size_t(k) * size_t(features) + size_t(varying[size_t(j)])] = phi[size_t(j)];
        if (c.exact)
            continue;
        if (G < 2) {
            for (int j = 0; j < m; ++j)
                seOut[size_t(k) * size_t(features) + size_t(varying[size_t(j)])] = std::nan("");
            continue;
        }
        std::vector<std::vector<double>> loo;
        for (int g = 0; g < G; ++g) {
            std::vector<double> w = c.weights;
            double kept = 0;
            for (size_t n = 0; n < N; ++n) {
                if (c.unit[n] < 0)
                    continue;
                if (c.unit[n] % G == g)
                    w[n] = 0;
                else
                    kept += c.counts[n];
            }
            for (size_t n = 0; n < N; ++n)
                if (c.unit[n] >= 0 && w[n] != 0)
                    w[n] = c.counts[n] * c.weightLeft / kept;
            loo.push_back(solveShapley(c, w, y, d));
        }
        for (int j = 0; j < m; ++j) {
            double mean = 0;
            for (int g = 0; g < G; ++g)
                mean += loo[size_t(g)][size_t(j)];
            mean /= G;
            double ss = 0;
            for (int g = 0; g < G; ++g)
                ss += (loo[size_t(g)][size_t(j)] - mean) * (loo[size_t(g)][size_t(j)] - mean);
            seOut[size_t(k) * size_t(features) + size_t(varying[size_t(j)])] = std::sqrt(double(G - 1) / G * ss);
        }
    }
    return {};
}

} // namespace

// ---------------------------------------------------------------------------------------------------------------
// Background

Expected<Background> summariseBackground(const ml::DesignMatrix &x, const BackgroundOptions &options, Feedback *feedback)
{
    if (x.rows <= 0)
        return makeError(QStringLiteral("the background table has no rows"));
    if (options.size < 1)
        return fieldError(QStringLiteral("size"), QStringLiteral("background size must be at least 1"));
    Background bg;
    if (x.rows <= options.size) {
        bg.method = QStringLiteral("all");
        bg.sourceRows.resize(size_t(x.rows));
        std::iota(bg.sourceRows.begin(), bg.sourceRows.end(), qint64(0));
        bg.weights.assign(size_t(x.rows), 1.0 / double(x.rows));
    } else if (options.method == BackgroundOptions::Method::Sample) {
        Rng rng(options.seed);
        bg.method = QStringLiteral("sample");
        bg.sourceRows = sampleIndices(x.rows, options.size, rng);
        bg.weights.assign(bg.sourceRows.size(), 1.0 / double(bg.sourceRows.size()));
    } else {
        auto km = kmeansBackground(x, options, feedback);
        if (!km)
            return km.error();
        bg = std::move(km).value();
    }
    bg.populationRows = x.rows;
    bg.seed = options.seed;
    bg.x = pickRows(x, bg.sourceRows);
    return bg;
}

Expected<Background> summariseBackground(const ModelContext &ctx, const data::Table &table,
                                         const BackgroundOptions &options, Feedback *feedback)
{
    if (Status s = ctx.check(); !s)
        return s.error();
    auto x = ctx.design(table, feedback);
    if (!x)
        return x.error();
    return summariseBackground(*x, options, feedback);
}

QJsonObject Background::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("method"), method);
    QJsonArray rows;
    for (qint64 r : sourceRows)
        rows.append(r);
    o.insert(QStringLiteral("source_rows"), rows);
    o.insert(QStringLiteral("weights"), jsonNumbers(weights));
    o.insert(QStringLiteral("population_rows"), populationRows);
    o.insert(QStringLiteral("seed"), QString::number(seed));
    o.insert(QStringLiteral("columns"), QJsonArray::fromStringList(x.columnNames));
    o.insert(QStringLiteral("features"), QJsonArray::fromStringList(x.sourceFeatureNames));
    QJsonArray source;
    for (int s : x.sourceFeature)
        source.append(s);
    o.insert(QStringLiteral("source_feature"), source);
    std::vector<double> values(x.values.begin(), x.values.end());
    o.insert(QStringLiteral("values"), jsonNumbers(values));
    return o;
}

Expected<Background> Background::fromJson(const QJsonObject &json)
{
    Background bg;
    bg.method = json.value(QStringLiteral("method")).toString();
    for (const QJsonValue &v : json.value(QStringLiteral("source_rows")).toArray())
        bg.sourceRows.push_back(v.toInteger());
    bg.weights = numbersFromJson(json.value(QStringLiteral("weights")).toArray());
    bg.populationRows = json.value(QStringLiteral("population_rows")).toInteger();
    bool ok = false;
    bg.seed = json.value(QStringLiteral("seed")).toString().toULongLong(&ok);
    if (!ok)
        return fieldError(QStringLiteral("seed"), QStringLiteral("not an unsigned integer"));
    for (const QJsonValue &v : json.value(QStringLiteral("columns")).toArray())
        bg.x.columnNames.append(v.toString());
    for (const QJsonValue &v : json.value(QStringLiteral("features")).toArray())
        bg.x.sourceFeatureNames.append(v.toString());
    for (const QJsonValue &v : json.value(QStringLiteral("source_feature")).toArray()) {
        const int s = v.toInt(-1);
        if (s < 0 || s >= bg.x.sourceFeatureNames.size())
            return fieldError(QStringLiteral("source_feature"), QStringLiteral("feature index %1 is out of range").arg(s));
        bg.x.sourceFeature.push_back(s);
    }
    bg.x.cols = int(bg.x.columnNames.size());
    if (bg.x.sourceFeature.size() != size_t(bg.x.cols))
        return fieldError(QStringLiteral("source_feature"), QStringLiteral("needs one entry per column"));
    const std::vector<double> values = numbersFromJson(json.value(QStringLiteral("values")).toArray());
    bg.x.rows = qint64(bg.sourceRows.size());
    if (values.size() != size_t(bg.x.rows) * size_t(bg.x.cols))
        return fieldError(QStringLiteral("values"), QStringLiteral("needs rows x columns values"));
    bg.x.values.assign(values.begin(), values.end());
    if (bg.weights.size() != bg.sourceRows.size())
        return fieldError(QStringLiteral("weights"), QStringLiteral("needs one weight per row"));
    return bg;
}

// ---------------------------------------------------------------------------------------------------------------
// KernelSHAP

Expected<KernelShapResult> kernelShap(const ml::Model &model, int outputs, const ml::DesignMatrix &x,
                                      const Background &background, const KernelShapOptions &options, Feedback *feedback)
{
    if (background.x.rows < 1)
        return makeError(QStringLiteral("the background is empty"));
    if (background.x.columnNames != x.columnNames)
        return makeError(QStringLiteral("the background's design columns differ from the explained rows'"));
    if (background.weights.size() != size_t(background.x.rows))
        return fieldError(QStringLiteral("weights"), QStringLiteral("background needs one weight per row"));
    if (x.sourceFeature.size() != size_t(x.cols))
        return makeError(QStringLiteral("design matrix has no source-feature map"));
    if (outputs < 1)
        return makeError(QStringLiteral("outputs must be at least 1"));

    RowJob job;
    job.model = &model;
    job.outputs = outputs;
    job.bg = &background;
    const std::vector<std::vector<int>> groups = featureColumns(x);
    job.groups = &groups;
    job.options = &options;
    auto bgMargin = model.predictMargin(background.x);
    if (!bgMargin)
        return bgMargin.error();
    if (bgMargin->size() != size_t(background.x.rows) * size_t(outputs))
        return makeError(QStringLiteral("the model returned %1 margins per row, expected %2")
                             .arg(double(bgMargin->size()) / double(background.x.rows))
                             .arg(outputs));
    job.fnull.assign(size_t(outputs), 0.0);
    for (qint64 b = 0; b < background.x.rows; ++b)
        for (int k = 0; k < outputs; ++k)
            job.fnull[size_t(k)] += background.weights[size_t(b)] * (*bgMargin)[size_t(b) * size_t(outputs) + size_t(k)];
    std::vector<double> fx;
    if (x.rows > 0) {
        auto m = model.predictMargin(x);
        if (!m)
            return m.error();
        fx = std::move(m).value();
    }

    const int F = int(groups.size());
    KernelShapResult res;
    Attribution &a = res.attribution;
    a.method = QStringLiteral("kernel_shap");
    a.features = x.sourceFeatureNames;
    a.outputs = outputs;
    a.rows = x.rows;
    a.base = job.fnull;
    a.values.assign(size_t(x.rows) * size_t(outputs) * size_t(F), 0.0);
    a.residual.assign(size_t(x.rows) * size_t(outputs), 0.0);
    res.standardError.assign(a.values.size(), 0.0);
    std::vector<int> coalitions(size_t(x.rows), 0);
    std::vector<uint8_t> exact(size_t(x.rows), 1);

    std::atomic<qint64> done{0};
    Status s = parallelFor(x.rows, 1, options.threads, [&](qint64 begin, qint64 end) -> Status {
        for (qint64 r = begin; r < end; ++r) {
            if (isCancelled(feedback))
                return cancelledError();
            bool ex = true;
            if (Status rs = explainRow(job, x.values.data() + r * x.cols, fx.data() + r * outputs, r,
                                       a.values.data() + size_t(r) * size_t(outputs) * size_t(F),
                                       res.standardError.data() + size_t(r) * size_t(outputs) * size_t(F),
                                       coalitions[size_t(r)], ex, feedback);
                !rs)
                return rs;
            exact[size_t(r)] = ex ? 1 : 0;
            reportProgress(feedback, ++done, x.rows, QStringLiteral("kernel shap"));
        }
        return {};
    });
    if (!s)
        return s.error();

    for (qint64 r = 0; r < x.rows; ++r) {
        for (int k = 0; k < outputs; ++k) {
            double sum = a.base[size_t(k)];
            for (int f = 0; f < F; ++f)
                sum += a.value(r, k, f);
            a.residual[size_t(r) * size_t(outputs) + size_t(k)] = fx[size_t(r) * size_t(outputs) + size_t(k)] - sum;
        }
        res.maxCoalitions = std::max(res.maxCoalitions, coalitions[size_t(r)]);
        res.exact = res.exact && exact[size_t(r)];
    }
    for (double e : res.standardError) {
        if (std::isnan(e)) {
            res.maxStandardError = e;
            break;
        }
        res.maxStandardError = std::max(res.maxStandardError, e);
    }

    QJsonObject p;
    p.insert(QStringLiteral("scale"), QStringLiteral("margin"));
    p.insert(QStringLiteral("background_method"), background.method);
    p.insert(QStringLiteral("background_size"), background.x.rows);
    p.insert(QStringLiteral("background_population"), background.populationRows);
    p.insert(QStringLiteral("background_seed"), QString::number(background.seed));
    p.insert(QStringLiteral("samples"), options.samples);
    p.insert(QStringLiteral("seed"), QString::number(options.seed));
    p.insert(QStringLiteral("jackknife_groups"), options.jackknifeGroups);
    p.insert(QStringLiteral("max_coalitions"), res.maxCoalitions);
    p.insert(QStringLiteral("exact"), res.exact);
    p.insert(QStringLiteral("max_standard_error"), jsonNumber(res.maxStandardError));
    a.parameters = p;
    return res;
}

Expected<KernelShapResult> kernelShap(const ModelContext &ctx, const data::Table &rows, const Background &background,
                                      const KernelShapOptions &options, Feedback *feedback)
{
    if (Status s = ctx.check(); !s)
        return s.error();
    auto x = ctx.design(rows, feedback);
    if (!x)
        return x.error();
    auto values = ctx.featureValues(rows);
    if (!values)
        return values.error();
    auto res = kernelShap(*ctx.model, ctx.outputs(), *x, background, options, feedback);
    if (!res)
        return res.error();
    res->rawValues.resize(size_t(rows.rowCount()));
    for (qint64 r = 0; r < rows.rowCount(); ++r)
        for (const FeatureValues &f : *values)
            res->rawValues[size_t(r)].append(f.display(r));
    return res;
}

QJsonObject KernelShapResult::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("attribution"), attributionToJson(attribution));
    o.insert(QStringLiteral("standard_error"), jsonNumbers(standardError));
    QJsonArray raw;
    for (const QStringList &r : rawValues)
        raw.append(QJsonArray::fromStringList(r));
    o.insert(QStringLiteral("raw_values"), raw);
    o.insert(QStringLiteral("max_coalitions"), maxCoalitions);
    o.insert(QStringLiteral("exact"), exact);
    o.insert(QStringLiteral("max_standard_error"), jsonNumber(maxStandardError));
    return o;
}

Expected<KernelShapResult> KernelShapResult::fromJson(const QJsonObject &json)
{
    KernelShapResult r;
    auto a = attributionFromJson(json.value(QStringLiteral("attribution")).toObject());
    if (!a)
        return a.error();
    r.attribution = std::move(a).value();
    r.standardError = numbersFromJson(json.value(QStringLiteral("standard_error")).toArray());
    if (r.standardError.size() != r.attribution.values.size())
        return fieldError(QStringLiteral("standard_error"), QStringLiteral("needs one value per attribution value"));
    for (const QJsonValue &row : json.value(QStringLiteral("raw_values")).toArray()) {
        QStringList l;
        for (const QJsonValue &v : row.toArray())
            l.append(v.toString());
        r.rawValues.push_back(l);
    }
    if (!r.rawValues.empty() && r.rawValues.size() != size_t(r.attribution.rows))
        return fieldError(QStringLiteral("raw_values"), QStringLiteral("needs one list per row"));
    r.maxCoalitions = json.value(QStringLiteral("max_coalitions")).toInt();
    r.exact = json.value(QStringLiteral("exact")).toBool();
    r.maxStandardError = numberFromJson(json.value(QStringLiteral("max_standard_error")));
    return r;
}

} // namespace keel::explain
