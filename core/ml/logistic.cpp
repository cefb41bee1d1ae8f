#include "ml/logistic.h"

#include "ml/learners.h"
#include "util/cpu.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <deque>
#include <thread>

namespace keel::ml {

namespace {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Eigen::MatrixXd;
using Eigen::VectorXd;

double sigmoid(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + std::exp(-z));
    const double e = std::exp(z);
    return e / (1.0 + e);
}

Status checkInput(const DesignMatrix &x, const QString &what)
{
    if (x.rows < 0 || x.cols < 0 || x.values.size() != size_t(x.rows) * size_t(x.cols))
        return makeError(what + QStringLiteral(" design matrix has ") + QString::number(x.values.size())
                         + QStringLiteral(" values for ") + QString::number(x.rows) + QStringLiteral(" x ")
                         + QString::number(x.cols));
    for (size_t i = 0; i < x.values.size(); ++i) {
        if (!std::isfinite(x.values[i])) {
            const int c = int(i % size_t(x.cols));
            return makeError(what + QStringLiteral(" row ") + QString::number(qint64(i / size_t(x.cols)) + 1)
                                 + QStringLiteral(": missing or non-finite value (logistic regression needs imputed inputs)"),
                             {}, -1, c < x.columnNames.size() ? x.columnNames[c] : QString::number(c));
        }
    }
    return Status::ok();
}

/// Mean log loss + L2 penalty over theta = vec(Theta), Theta (p+1) x K' column-major, last row = intercepts.
class Objective {
public:
    Objective(const MatrixXd &xd, const std::vector<int> &labels, int outputs, double lambda)
        : m_x(xd), m_labels(labels), m_k(outputs), m_lambda(lambda), m_n(double(xd.rows()))
    {
    }

    Eigen::Index dim() const { return m_x.cols() * m_k; }
    int evaluations() const { return m_evaluations; }
    int outputs() const { return m_k; }

    /// Objective and gradient at theta; caches the probabilities for hessian().
    /// The rows are cut into a fixed number of chunks, summed chunk by chunk in a fixed order, so the result is the
    /// same bit for bit whatever the number of threads that run the chunks.
    double valueGrad(const VectorXd &theta, VectorXd &grad)
    {
        ++m_evaluations;
        const Eigen::Index d = m_x.cols();
        const Eigen::Index n = m_x.rows();
        const Eigen::Map<const MatrixXd> th(theta.data(), d, m_k);
        grad.resize(dim());
        Eigen::Map<MatrixXd> g(grad.data(), d, m_k);
        m_z.resize(n, m_k);
        m_prob.resize(n, m_k);
        const int chunks = n >= 4096 ? kChunks : 1;
        m_partGrad.resize(size_t(chunks));
        m_partLoss.assign(size_t(chunks), 0.0);
        auto runChunk = [&](int c) {
            const Eigen::Index begin = n * c / chunks, end = n * (c + 1) / chunks;
            MatrixXd &gc = m_partGrad[size_t(c)];
            gc.setZero(d, m_k);
            m_partLoss[size_t(c)] = lossGradRows(th, begin, end, gc);
        };
        const int threads = std::min(chunks, m_threads);
        clearUpperVectorState(); // for this thread and the workers cloned from it
        if (threads <= 1) {
            for (int c = 0; c < chunks; ++c)
                runChunk(c);
        } else {
            std::vector<std::thread> pool;
            for (int t = 1; t < threads; ++t)
                pool.emplace_back([&, t] {
                    for (int c = t; c < chunks; c += threads)
                        runChunk(c);
                });
            for (int c = 0; c < chunks; c += threads)
                runChunk(c);
            for (std::thread &t : pool)
                t.join();
        }
        double loss = 0;
        g.setZero();
        for (int c = 0; c < chunks; ++c) {
            g += m_partGrad[size_t(c)];
            loss += m_partLoss[size_t(c)];
        }
        g /= m_n;
        const auto w = th.topRows(d - 1);
        g.topRows(d - 1) += m_lambda * w;
        return loss / m_n + 0.5 * m_lambda * w.squaredNorm();
    }

    /// Hessian at the point of the last valueGrad() call.
    void hessian(MatrixXd &h) const
    {
        const Eigen::Index d = m_x.cols();
        h.setZero(dim(), dim());
        if (m_k == 1) {
            const VectorXd sw = (m_prob.col(0).array() * (1.0 - m_prob.col(0).array())).sqrt();
            const MatrixXd b = m_x.array().colwise() * sw.array();
            h.selfadjointView<Eigen::Lower>().rankUpdate(b.transpose(), 1.0 / m_n);
            h.triangularView<Eigen::StrictlyUpper>() = h.transpose();
        } else {
            for (int k = 0; k < m_k; ++k) {
                for (int l = k; l < m_k; ++l) {
                    VectorXd v = -(m_prob.col(k).array() * m_prob.col(l).array()).matrix();
                    if (k == l)
                        v += m_prob.col(k);
                    const MatrixXd block = m_x.transpose() * (m_x.array().colwise() * v.array()).matrix() / m_n;
                    h.block(k * d, l * d, d, d) = block;
                    if (l != k)
                        h.block(l * d, k * d, d, d) = block.transpose();
                }
            }
        }
        for (int k = 0; k < m_k; ++k)
            h.diagonal().segment(k * d, d - 1).array() += m_lambda;
    }

private:
    static constexpr int kChunks = 8;

    /// Loss sum and gradient sum (into g, d x K) of rows [begin, end), in cache-sized row blocks: margins, residuals
    /// and the gradient contribution of a block are computed while it is in cache (the matrix is read once).
    double lossGradRows(const Eigen::Map<const MatrixXd> &th, Eigen::Index begin, Eigen::Index end, MatrixXd &g)
    {
        constexpr Eigen::Index kBlock = 256;
        double loss = 0;
        MatrixXd r;
        for (Eigen::Index r0 = begin; r0 < end; r0 += kBlock) {
            const Eigen::Index m = std::min(kBlock, end - r0);
            const auto xb = m_x.middleRows(r0, m);
            auto zb = m_z.middleRows(r0, m);
            if (m_k == 1)
                zb.col(0).noalias() = xb * th.col(0); // compile-time vector: GEMV, no GEMM packing
            else
                zb.noalias() = xb * th;
            r.resize(m, m_k);
            if (m_k == 1) {
                for (Eigen::Index i = 0; i < m; ++i) {
                    const double z = zb(i, 0);
                    const double yi = m_labels[size_t(r0 + i)];
                    const double e = std::exp(-std::abs(z)); // one exp serves softplus and sigmoid
                    loss += std::max(z, 0.0) + std::log1p(e) - yi * z;
                    const double pr = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
                    m_prob(r0 + i, 0) = pr;
                    r(i, 0) = pr - yi;
                }
            } else {
                for (Eigen::Index i = 0; i < m; ++i) {
                    const double mx = zb.row(i).maxCoeff();
                    double sum = 0;
                    for (int k = 0; k < m_k; ++k) {
                        const double e = std::exp(zb(i, k) - mx);
                        r(i, k) = e;
                        sum += e;
                    }
                    r.row(i) /= sum;
                    m_prob.row(r0 + i) = r.row(i);
                    const int yi = m_labels[size_t(r0 + i)];
                    loss += mx + std::log(sum) - zb(i, yi);
                    r(i, yi) -= 1.0;
                }
            }
            if (m_k == 1)
                g.col(0).noalias() += xb.transpose() * r.col(0);
            else
                g.noalias() += xb.transpose() * r;
        }
        return loss;
    }

    const MatrixXd &m_x;
    const std::vector<int> &m_labels;
    int m_k;
    double m_lambda;
    double m_n;
    MatrixXd m_z;
    MatrixXd m_prob;
    std::vector<MatrixXd> m_partGrad;
    std::vector<double> m_partLoss;
    int m_threads = std::max(1, int(std::thread::hardware_concurrency()));
    int m_evaluations = 0;
};

struct SolveResult {
    int iterations = 0;
    double objective = 0;
    double gradNorm = 0;
    bool converged = false;
    QString stop;
};

/// Multinomial intercepts are only defined up to a common shift: keep their direction component centred.
void centreIntercepts(VectorXd &v, Eigen::Index d, int k)
{
    if (k < 2)
        return;
    double mean = 0;
    for (int c = 0; c < k; ++c)
        mean += v(c * d + d - 1);
    mean /= k;
    for (int c = 0; c < k; ++c)
        v(c * d + d - 1) -= mean;
}

struct SolveContext {
    int maxIter;
    double tol;
    const IterationCallback &onIteration;
    Feedback *feedback;
};

/// Backtracking line search along d from theta; on success theta/f/g hold the accepted point.
/// A step is accepted by the Armijo condition, or - near the optimum, where the decrease is below the rounding
/// of f - by the approximate Wolfe test of Hager and Zhang: f did not grow beyond its rounding noise and the
/// directional derivative shrank in magnitude.
bool armijo(Objective &obj, VectorXd &theta, double &f, VectorXd &g, const VectorXd &d, double t0, VectorXd &trial,
            VectorXd &gTrial)
{
    const double slope = g.dot(d);
    const double noise = 1e-12 * std::abs(f);
    double t = t0;
    for (int k = 0; k < 60; ++k) {
        trial = theta + t * d;
        const double ft = obj.valueGrad(trial, gTrial);
        const bool armijoOk = ft <= f + 1e-4 * t * slope;
        const bool approxWolfe = ft <= f + noise && std::abs(gTrial.dot(d)) <= 0.9 * std::abs(slope);
        if (std::isfinite(ft) && (armijoOk || approxWolfe)) {
            theta.swap(trial);
            g.swap(gTrial);
            f = ft;
            return true;
        }
        t *= 0.5;
    }
    return false;
}


/// Records the current iterate (objective, gradient norm, curve point) and says whether the solver should stop:
/// converged (gradient below tol) or out of iterations. Shared by the Newton and L-BFGS loops.
bool recordAndCheckStop(SolveResult &res, double f, const VectorXd &g, const SolveContext &ctx)
{
    res.gradNorm = g.lpNorm<Eigen::Infinity>();
    res.objective = f;
    if (ctx.onIteration)
        ctx.onIteration({res.iterations, QStringLiteral("train"), QStringLiteral("objective"), f});
    if (res.gradNorm <= ctx.tol) {
        res.converged = true;
        res.stop = QStringLiteral("gradient below tol");
        return true;
    }
    if (res.iterations >= ctx.maxIter) {
        res.stop = QStringLiteral("max_iter reached");
        return true;
    }
    return false;
}

Expected<SolveResult> newton(Objective &obj, VectorXd &theta, const SolveContext &ctx)
{
    const Eigen::Index d = obj.dim() / obj.outputs();
    VectorXd g, trial, gTrial, step;
    MatrixXd h;
    SolveResult res;
    double f = obj.valueGrad(theta, g);
    for (;;) {
        if (recordAndCheckStop(res, f, g, ctx))
            break;
        if (isCancelled(ctx.feedback))
            return cancelledError();
        obj.hessian(h);
        h.diagonal().array() += 1e-12 * std::max(1.0, h.diagonal().maxCoeff());
        Eigen::LDLT<MatrixXd> ldlt(h);
        step = -ldlt.solve(g);
        centreIntercepts(step, d, obj.outputs());
        if (!step.allFinite() || !(g.dot(step) < 0))
            step = -g;
        if (!armijo(obj, theta, f, g, step, 1.0, trial, gTrial)) {
            res.stop = QStringLiteral("line search made no progress");
            break;
        }
        ++res.iterations;
        reportProgress(ctx.feedback, res.iterations, ctx.maxIter, QStringLiteral("fit"));
    }
    return res;
}

Expected<SolveResult> lbfgs(Objective &obj, VectorXd &theta, const SolveContext &ctx, int memory)
{
    std::deque<VectorXd> ss, ys;
    std::deque<double> rhos;
    VectorXd g, trial, gTrial, q, gPrev, thetaPrev;
    std::vector<double> alphas(size_t(std::max(memory, 1)));
    SolveResult res;
    double f = obj.valueGrad(theta, g);
    for (;;) {
        if (recordAndCheckStop(res, f, g, ctx))
            break;
        if (isCancelled(ctx.feedback))
            return cancelledError();

        // Two-loop recursion: q = -H g.
        q = g;
        const int m = int(ss.size());
        for (int i = m - 1; i >= 0; --i) {
            alphas[size_t(i)] = rhos[size_t(i)] * ss[size_t(i)].dot(q);
            q -= alphas[size_t(i)] * ys[size_t(i)];
        }
        double t0 = 1.0;
        if (m > 0) {
            q *= ss.back().dot(ys.back()) / ys.back().squaredNorm();
        } else {
            t0 = std::min(1.0, 1.0 / std::max(g.norm(), 1e-300));
        }
        for (int i = 0; i < m; ++i) {
            const double beta = rhos[size_t(i)] * ys[size_t(i)].dot(q);
            q += (alphas[size_t(i)] - beta) * ss[size_t(i)];
        }
        q = -q;
        if (!(g.dot(q) < 0)) {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            ss.clear();
            ys.clear();
            rhos.clear();
            q = -g;
            t0 = std::min(1.0, 1.0 / std::max(g.norm(), 1e-300));
        }
        thetaPrev = theta;
        gPrev = g;
        if (!armijo(obj, theta, f, g, q, t0, trial, gTrial)) {
            res.stop = QStringLiteral("line search made no progress");
            break;
        }
        VectorXd s = theta - thetaPrev;
        VectorXd y = g - gPrev;
        const double sy = s.dot(y);
        if (sy > 1e-12 * s.norm() * y.norm() && sy > 0) {
            if (int(ss.size()) == memory) {
                ss.pop_front();
                ys.pop_front();
                rhos.pop_front();
            }
            ss.push_back(std::move(s));
            ys.push_back(std::move(y));
            rhos.push_back(1.0 / sy);
        }
        ++res.iterations;
        reportProgress(ctx.feedback, res.iterations, ctx.maxIter, QStringLiteral("fit"));
    }
    return res;
}

} // namespace

LogisticModel::LogisticModel(Task task, QStringList classes, QStringList columnNames, std::vector<double> weights,
                             std::vector<double> intercepts, QVariantMap diagnostics)
    : m_task(task), m_classes(std::move(classes)), m_columnNames(std::move(columnNames)), m_weights(std::move(weights)),
      m_intercepts(std::move(intercepts)), m_diagnostics(std::move(diagnostics))
{
}

Expected<std::vector<double>> LogisticModel::predictMargin(const DesignMatrix &x) const
{
    if (Status s = checkInput(x, QStringLiteral("input")); !s)
        return s.error();
    const int p = int(m_columnNames.size());
    if (x.cols != p)
        return makeError(QStringLiteral("model expects ") + QString::number(p) + QStringLiteral(" columns, input has ")
                         + QString::number(x.cols));
    const int k = int(m_intercepts.size());
    std::vector<double> out(size_t(x.rows) * size_t(k));
    for (qint64 r = 0; r < x.rows; ++r) {
        const float *row = x.values.data() + size_t(r) * size_t(p);
        for (int c = 0; c < k; ++c) {
            const double *w = m_weights.data() + size_t(c) * size_t(p);
            double z = m_intercepts[size_t(c)];
            for (int j = 0; j < p; ++j)
                z += double(row[j]) * w[j];
            out[size_t(r) * size_t(k) + size_t(c)] = z;
        }
    }
    return out;
}

Expected<std::vector<double>> LogisticModel::predict(const DesignMatrix &x) const
{
    auto margin = predictMargin(x);
    if (!margin)
        return margin;
    std::vector<double> &v = *margin;
    const size_t k = m_intercepts.size();
    if (k == 1) {
        for (double &z : v)
            z = sigmoid(z);
        return margin;
    }
    for (size_t r = 0; r < v.size() / k; ++r) {
        double *row = v.data() + r * k;
        const double mx = *std::max_element(row, row + k);
        double s = 0;
        for (size_t c = 0; c < k; ++c) {
            row[c] = std::exp(row[c] - mx);
            s += row[c];
        }
        for (size_t c = 0; c < k; ++c)
            row[c] /= s;
    }
    return margin;
}

QByteArray LogisticModel::serialize() const
{
    const size_t p = size_t(m_columnNames.size());
    QJsonArray weights;
    for (size_t c = 0; c < m_intercepts.size(); ++c) {
        QJsonArray w;
        for (size_t j = 0; j < p; ++j)
            w.append(m_weights[c * p + j]);
        weights.append(w);
    }
    QJsonArray icpt;
    for (double v : m_intercepts)
        icpt.append(v);
    QJsonObject o;
    o.insert(QStringLiteral("format"), QStringLiteral("keel-logistic"));
    o.insert(QStringLiteral("version"), 1);
    o.insert(QStringLiteral("task"), taskName(m_task));
    o.insert(QStringLiteral("classes"), QJsonArray::fromStringList(m_classes));
    o.insert(QStringLiteral("columns"), QJsonArray::fromStringList(m_columnNames));
    o.insert(QStringLiteral("weights"), weights);
    o.insert(QStringLiteral("intercepts"), icpt);
    o.insert(QStringLiteral("diagnostics"), QJsonObject::fromVariantMap(m_diagnostics));
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

Expected<std::unique_ptr<LogisticModel>> LogisticModel::fromJson(const QByteArray &bytes)
{
    auto parsed = parseModelJson(bytes, QStringLiteral("keel-logistic"), 1);
    if (!parsed)
        return parsed.error();
    const QJsonObject o = *parsed;
    const QString taskStr = o.value(QStringLiteral("task")).toString();
    const std::optional<Task> parsedTask = taskFromName(taskStr);
    if (!parsedTask || *parsedTask == Task::Regression)
        return makeError(QStringLiteral("unknown task '") + taskStr + QLatin1Char('\''), {}, -1, QStringLiteral("task"));
    const Task task = *parsedTask;
    QStringList classes, columns;
    for (const QJsonValue &v : o.value(QStringLiteral("classes")).toArray())
        classes.append(v.toString());
    for (const QJsonValue &v : o.value(QStringLiteral("columns")).toArray())
        columns.append(v.toString());
    const size_t k = task == Task::BinaryClassification ? 1 : size_t(classes.size());
    if ((task == Task::BinaryClassification && classes.size() != 2) || k < 1)
        return makeError(QStringLiteral("wrong number of classes"), {}, -1, QStringLiteral("classes"));
    const QJsonArray wArr = o.value(QStringLiteral("weights")).toArray();
    const QJsonArray iArr = o.value(QStringLiteral("intercepts")).toArray();
    if (size_t(wArr.size()) != k)
        return makeError(QStringLiteral("expected ") + QString::number(k) + QStringLiteral(" weight vectors"), {}, -1,
                         QStringLiteral("weights"));
    if (size_t(iArr.size()) != k)
        return makeError(QStringLiteral("expected ") + QString::number(k) + QStringLiteral(" intercepts"), {}, -1,
                         QStringLiteral("intercepts"));
    std::vector<double> weights, intercepts;
    for (const QJsonValue &row : wArr) {
        const QJsonArray r = row.toArray();
        if (r.size() != columns.size())
            return makeError(QStringLiteral("weight vector length does not match columns"), {}, -1,
                             QStringLiteral("weights"));
        for (const QJsonValue &v : r) {
            if (!v.isDouble())
                return makeError(QStringLiteral("non-numeric entry"), {}, -1, QStringLiteral("weights"));
            weights.push_back(v.toDouble());
        }
    }
    for (const QJsonValue &v : iArr) {
        if (!v.isDouble())
            return makeError(QStringLiteral("non-numeric entry"), {}, -1, QStringLiteral("intercepts"));
        intercepts.push_back(v.toDouble());
    }
    return std::make_unique<LogisticModel>(task, std::move(classes), std::move(columns), std::move(weights),
                                           std::move(intercepts),
                                           o.value(QStringLiteral("diagnostics")).toObject().toVariantMap());
}

QString LogisticLearner::description() const
{
    return QStringLiteral("Logistic regression (binary sigmoid or multinomial softmax) with an L2 penalty");
}

std::vector<ParamSpec> LogisticLearner::params() const
{
    std::vector<ParamSpec> specs;
    ParamSpec c;
    c.name = QStringLiteral("C");
    c.type = ParamSpec::Type::Double;
    c.defaultValue = 1.0;
    c.min = 1e-8;
    c.max = 1e12;
    c.logScale = true;
    c.help = QStringLiteral("Inverse L2 strength (as in scikit-learn): smaller C = stronger penalty");
    specs.push_back(c);
    ParamSpec solver;
    solver.name = QStringLiteral("solver");
    solver.type = ParamSpec::Type::Choice;
    solver.defaultValue = QStringLiteral("lbfgs");
    solver.choices = {QStringLiteral("newton"), QStringLiteral("lbfgs")};
    solver.help = QStringLiteral("newton: exact Hessian (few columns); lbfgs: limited-memory quasi-Newton");
    specs.push_back(solver);
    ParamSpec maxIter;
    maxIter.name = QStringLiteral("max_iter");
    maxIter.type = ParamSpec::Type::Int;
    maxIter.defaultValue = 200;
    maxIter.min = 1;
    maxIter.max = 100000;
    maxIter.help = QStringLiteral("Maximum solver iterations");
    specs.push_back(maxIter);
    ParamSpec tol;
    tol.name = QStringLiteral("tol");
    tol.type = ParamSpec::Type::Double;
    tol.defaultValue = 1e-6;
    tol.min = 0;
    tol.max = 1;
    tol.logScale = true;
    tol.help = QStringLiteral("Converged when the largest gradient component of the mean objective is <= tol");
    specs.push_back(tol);
    ParamSpec mem;
    mem.name = QStringLiteral("lbfgs_memory");
    mem.type = ParamSpec::Type::Int;
    mem.defaultValue = 10;
    mem.min = 1;
    mem.max = 100;
    mem.help = QStringLiteral("Number of correction pairs L-BFGS keeps");
    specs.push_back(mem);
    return specs;
}

Expected<std::unique_ptr<Model>> LogisticLearner::fit(const DesignMatrix &x, const Target &y, const Params &params,
                                                      const DesignMatrix *validationX, const Target *validationY,
                                                      const IterationCallback &onIteration, Feedback *feedback) const
{
    if (y.task == Task::Regression)
        return makeError(QStringLiteral("logistic regression supports classification only"), {}, -1,
                         QStringLiteral("task"));
    if (Status s = checkInput(x, QStringLiteral("training")); !s)
        return s.error();
    if (x.rows == 0)
        return makeError(QStringLiteral("no training rows"));
    if (y.values.size() != size_t(x.rows))
        return makeError(QStringLiteral("target has ") + QString::number(y.values.size())
                         + QStringLiteral(" values for ") + QString::number(x.rows) + QStringLiteral(" rows"));
    const int numClasses = y.numClasses();
    if (y.task == Task::BinaryClassification && numClasses != 2)
        return makeError(QStringLiteral("binary classification needs exactly 2 classes"), {}, -1,
                         QStringLiteral("target"));
    if (numClasses < 2)
        return makeError(QStringLiteral("classification needs at least 2 classes"), {}, -1, QStringLiteral("target"));
    std::vector<int> labels(y.values.size());
    for (size_t i = 0; i < labels.size(); ++i) {
        const double v = y.values[i];
        if (!(v >= 0 && v < numClasses && v == std::floor(v)))
            return makeError(QStringLiteral("target row ") + QString::number(i + 1)
                                 + QStringLiteral(": not a class index in 0..") + QString::number(numClasses - 1),
                             {}, -1, QStringLiteral("target"));
        labels[i] = int(v);
    }

    const std::vector<ParamSpec> specs = this->params();
    const double cParam = paramValue(params, specs, QStringLiteral("C")).toDouble();
    const QString solver = paramValue(params, specs, QStringLiteral("solver")).toString();
    const int maxIter = paramValue(params, specs, QStringLiteral("max_iter")).toInt();
    const double tol = paramValue(params, specs, QStringLiteral("tol")).toDouble();
    const int memory = paramValue(params, specs, QStringLiteral("lbfgs_memory")).toInt();
    if (!(cParam > 0))
        return makeError(QStringLiteral("must be > 0"), {}, -1, QStringLiteral("C"));
    if (solver != QLatin1String("newton") && solver != QLatin1String("lbfgs"))
        return makeError(QStringLiteral("must be newton or lbfgs"), {}, -1, QStringLiteral("solver"));
    if (maxIter < 1)
        return makeError(QStringLiteral("must be >= 1"), {}, -1, QStringLiteral("max_iter"));
    if (memory < 1)
        return makeError(QStringLiteral("must be >= 1"), {}, -1, QStringLiteral("lbfgs_memory"));

    const Eigen::Index n = x.rows;
    const Eigen::Index p = x.cols;
    // One double-precision working copy with an intercept column: the solver's accuracy needs double sums.
    MatrixXd xd(n, p + 1);
    xd.leftCols(p) = Eigen::Map<const RowMatrixF>(x.values.data(), n, p).cast<double>();
    xd.col(p).setOnes();

    const int outputs = y.task == Task::BinaryClassification ? 1 : numClasses;
    Objective obj(xd, labels, outputs, 1.0 / (cParam * double(n)));
    VectorXd theta = VectorXd::Zero(obj.dim());
    const SolveContext ctx{maxIter, tol, onIteration, feedback};
    auto solved = solver == QLatin1String("newton") ? newton(obj, theta, ctx) : lbfgs(obj, theta, ctx, memory);
    if (!solved)
        return solved.error();
    if (!theta.allFinite())
        return makeError(QStringLiteral("solver diverged (non-finite coefficients)"));
    centreIntercepts(theta, p + 1, outputs);

    std::vector<double> weights(size_t(outputs) * size_t(p));
    std::vector<double> intercepts(static_cast<size_t>(outputs));
    for (int k = 0; k < outputs; ++k) {
        for (Eigen::Index j = 0; j < p; ++j)
            weights[size_t(k) * size_t(p) + size_t(j)] = theta(k * (p + 1) + j);
        intercepts[size_t(k)] = theta(k * (p + 1) + p);
    }

    QVariantMap diag;
    diag.insert(QStringLiteral("solver"), solver);
    diag.insert(QStringLiteral("iterations"), solved->iterations);
    diag.insert(QStringLiteral("evaluations"), obj.evaluations());
    diag.insert(QStringLiteral("gradient_norm"), solved->gradNorm);
    diag.insert(QStringLiteral("converged"), solved->converged);
    diag.insert(QStringLiteral("objective"), solved->objective);
    diag.insert(QStringLiteral("stop_reason"), solved->stop);
    diag.insert(QStringLiteral("C"), cParam);
    diag.insert(QStringLiteral("tol"), tol);
    auto model = std::make_unique<LogisticModel>(y.task, y.classes, x.columnNames, std::move(weights),
                                                 std::move(intercepts), QVariantMap());

    if (validationX && validationY) {
        auto prob = model->predict(*validationX);
        if (!prob)
            return prob.error();
        const size_t m = validationY->values.size();
        if (prob->size() != m * size_t(outputs))
            return makeError(QStringLiteral("validation target size does not match its design matrix"));
        double ll = 0;
        for (size_t i = 0; i < m; ++i) {
            const int yi = int(validationY->values[i]);
            double pr;
            if (outputs == 1)
                pr = yi == 1 ? (*prob)[i] : 1.0 - (*prob)[i];
            else
                pr = (yi >= 0 && yi < outputs) ? (*prob)[i * size_t(outputs) + size_t(yi)] : 0.0;
            ll -= std::log(std::clamp(pr, 1e-15, 1.0));
        }
        ll = m ? ll / double(m) : 0.0;
        diag.insert(QStringLiteral("validation_logloss"), ll);
        if (onIteration)
            onIteration({solved->iterations, QStringLiteral("validation"), QStringLiteral("logloss"), ll});
    }
    return std::unique_ptr<Model>(std::make_unique<LogisticModel>(y.task, y.classes, x.columnNames, model->weights(),
                                                                  model->intercepts(), std::move(diag)));
}

} // namespace keel::ml
