#include "ml/linear.h"

#include "ml/learners.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>

namespace keel::ml {

namespace {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr qint64 kChunkRows = 4096;

Status checkShape(const DesignMatrix &x, const QString &what)
{
    if (x.rows < 0 || x.cols < 0 || x.values.size() != size_t(x.rows) * size_t(x.cols))
        return makeError(what + QStringLiteral(" design matrix has ") + QString::number(x.values.size())
                         + QStringLiteral(" values for ") + QString::number(x.rows) + QStringLiteral(" x ")
                         + QString::number(x.cols));
    return Status::ok();
}

Status checkFinite(const DesignMatrix &x, const QString &what)
{
    for (qint64 r = 0; r < x.rows; ++r) {
        for (int c = 0; c < x.cols; ++c) {
            if (!std::isfinite(x.at(r, c))) {
                const QString col = c < x.columnNames.size() ? x.columnNames[c] : QString::number(c);
                return makeError(what + QStringLiteral(" row ") + QString::number(r + 1)
                                     + QStringLiteral(": missing or non-finite value (linear models need imputed inputs)"),
                                 {}, -1, col);
            }
        }
    }
    return Status::ok();
}

} // namespace

LinearModel::LinearModel(std::vector<double> coefficients, double intercept, QStringList columnNames,
                         QVariantMap diagnostics)
    : m_coefficients(std::move(coefficients)), m_intercept(intercept), m_columnNames(std::move(columnNames)),
      m_diagnostics(std::move(diagnostics))
{
}

Expected<std::vector<double>> LinearModel::predict(const DesignMatrix &x) const
{
    if (Status s = checkShape(x, QStringLiteral("input")); !s)
        return s.error();
    if (size_t(x.cols) != m_coefficients.size())
        return makeError(QStringLiteral("model expects ") + QString::number(m_coefficients.size())
                         + QStringLiteral(" columns, input has ") + QString::number(x.cols));
    std::vector<double> out(size_t(x.rows));
    for (qint64 r = 0; r < x.rows; ++r) {
        const float *row = x.values.data() + size_t(r) * size_t(x.cols);
        double sum = m_intercept;
        for (int c = 0; c < x.cols; ++c) {
            if (!std::isfinite(row[c]))
                return makeError(QStringLiteral("row ") + QString::number(r + 1)
                                     + QStringLiteral(": missing or non-finite value"),
                                 {}, -1, c < x.columnNames.size() ? x.columnNames[c] : QString::number(c));
            sum += double(row[c]) * m_coefficients[size_t(c)];
        }
        out[size_t(r)] = sum;
    }
    return out;
}

QByteArray LinearModel::serialize() const
{
    QJsonArray coef;
    for (double v : m_coefficients)
        coef.append(v);
    QJsonObject o;
    o.insert(QStringLiteral("format"), QStringLiteral("keel-linear"));
    o.insert(QStringLiteral("version"), 1);
    o.insert(QStringLiteral("intercept"), m_intercept);
    o.insert(QStringLiteral("coefficients"), coef);
    o.insert(QStringLiteral("columns"), QJsonArray::fromStringList(m_columnNames));
    o.insert(QStringLiteral("diagnostics"), QJsonObject::fromVariantMap(m_diagnostics));
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

Expected<std::unique_ptr<LinearModel>> LinearModel::fromJson(const QByteArray &bytes)
{
    auto parsed = parseModelJson(bytes, QStringLiteral("keel-linear"), 1);
    if (!parsed)
        return parsed.error();
    const QJsonObject o = *parsed;
    const QJsonValue icpt = o.value(QStringLiteral("intercept"));
    if (!icpt.isDouble())
        return makeError(QStringLiteral("missing or not a number"), {}, -1, QStringLiteral("intercept"));
    const QJsonArray coef = o.value(QStringLiteral("coefficients")).toArray();
    std::vector<double> c;
    c.reserve(size_t(coef.size()));
    for (const QJsonValue &v : coef) {
        if (!v.isDouble())
            return makeError(QStringLiteral("non-numeric entry"), {}, -1, QStringLiteral("coefficients"));
        c.push_back(v.toDouble());
    }
    QStringList names;
    for (const QJsonValue &v : o.value(QStringLiteral("columns")).toArray())
        names.append(v.toString());
    if (names.size() != qsizetype(c.size()))
        return makeError(QStringLiteral("column names do not match coefficients"), {}, -1, QStringLiteral("columns"));
    return std::make_unique<LinearModel>(std::move(c), icpt.toDouble(), std::move(names),
                                         o.value(QStringLiteral("diagnostics")).toObject().toVariantMap());
}

QString LinearLearner::name() const
{
    return m_variant == Variant::Ridge ? QStringLiteral("ridge") : QStringLiteral("linear");
}

QString LinearLearner::description() const
{
    return m_variant == Variant::Ridge
        ? QStringLiteral("Ridge regression: least squares with an L2 penalty (intercept unpenalised)")
        : QStringLiteral("Linear regression: ordinary least squares (rank-revealing solve)");
}

std::vector<ParamSpec> LinearLearner::params() const
{
    std::vector<ParamSpec> specs;
    if (m_variant == Variant::Ridge) {
        ParamSpec alpha;
        alpha.name = QStringLiteral("alpha");
        alpha.type = ParamSpec::Type::Double;
        alpha.defaultValue = 1.0;
        alpha.min = 0;
        alpha.max = 1e12;
        alpha.help = QStringLiteral("L2 penalty: minimises ||y - Xb - b0||^2 + alpha ||b||^2");
        alpha.logScale = true;
        specs.push_back(alpha);
    }
    ParamSpec icpt;
    icpt.name = QStringLiteral("fit_intercept");
    icpt.type = ParamSpec::Type::Bool;
    icpt.defaultValue = true;
    icpt.help = QStringLiteral("Fit an (unpenalised) intercept; otherwise the line passes through the origin");
    specs.push_back(icpt);
    return specs;
}

Expected<std::unique_ptr<Model>> LinearLearner::fit(const DesignMatrix &x, const Target &y, const Params &params,
                                                    const DesignMatrix *validationX, const Target *validationY,
                                                    const IterationCallback &onIteration, Feedback *feedback) const
{
    if (y.task != Task::Regression)
        return makeError(name() + QStringLiteral(" supports regression only"), {}, -1, QStringLiteral("task"));
    if (Status s = checkShape(x, QStringLiteral("training")); !s)
        return s.error();
    if (x.rows == 0)
        return makeError(QStringLiteral("no training rows"));
    if (y.values.size() != size_t(x.rows))
        return makeError(QStringLiteral("target has ") + QString::number(y.values.size())
                         + QStringLiteral(" values for ") + QString::number(x.rows) + QStringLiteral(" rows"));
    if (Status s = checkFinite(x, QStringLiteral("training")); !s)
        return s.error();
    for (size_t i = 0; i < y.values.size(); ++i) {
        if (!std::isfinite(y.values[i]))
            return makeError(QStringLiteral("target row ") + QString::number(i + 1)
                             + QStringLiteral(": missing or non-finite value"), {}, -1, QStringLiteral("target"));
    }

    const std::vector<ParamSpec> specs = this->params();
    const double alpha = m_variant == Variant::Ridge ? paramValue(params, specs, QStringLiteral("alpha")).toDouble() : 0.0;
    const bool fitIntercept = paramValue(params, specs, QStringLiteral("fit_intercept")).toBool();
    if (!(alpha >= 0))
        return makeError(QStringLiteral("must be >= 0"), {}, -1, QStringLiteral("alpha"));

    const qint64 n = x.rows;
    const int p = x.cols;
    const Eigen::Map<const RowMatrixF> X(x.values.data(), n, p);
    const Eigen::Map<const Eigen::VectorXd> Y(y.values.data(), n);

    // Means (for the unpenalised intercept: solving on centred data is exactly the intercept-column solution).
    Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(p);
    double yMean = 0;
    if (fitIntercept) {
        for (qint64 r0 = 0; r0 < n; r0 += kChunkRows) {
            const qint64 m = std::min(kChunkRows, n - r0);
            mean += X.middleRows(r0, m).cast<double>().colwise().sum();
        }
        mean /= double(n);
        yMean = Y.mean();
    }

    Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(p, p);
    Eigen::VectorXd xty = Eigen::VectorXd::Zero(p);
    Eigen::MatrixXd block;
    for (qint64 r0 = 0; r0 < n; r0 += kChunkRows) {
        if (isCancelled(feedback))
            return cancelledError();
        const qint64 m = std::min(kChunkRows, n - r0);
        block = X.middleRows(r0, m).cast<double>();
        block.rowwise() -= mean;
        gram.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
        xty.noalias() += block.transpose() * (Y.segment(r0, m).array() - yMean).matrix();
        reportProgress(feedback, r0 + m, n, QStringLiteral("fit"));
    }
    gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();

    Eigen::VectorXd beta;
    int rank = p;
    QString solver;
    if (alpha > 0) {
        gram.diagonal().array() += alpha;
        Eigen::LDLT<Eigen::MatrixXd> ldlt(gram);
        if (ldlt.info() != Eigen::Success)
            return makeError(QStringLiteral("ridge system could not be factorised"));
        beta = ldlt.solve(xty);
        solver = QStringLiteral("ldlt");
    } else {
        Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod(gram);
        beta = cod.solve(xty);
        rank = int(cod.rank());
        solver = QStringLiteral("complete-orthogonal");
    }
    if (!beta.allFinite())
        return makeError(QStringLiteral("least-squares solve produced non-finite coefficients"));
    const double intercept = fitIntercept ? yMean - mean.dot(beta) : 0.0;

    QVariantMap diag;
    diag.insert(QStringLiteral("rows"), n);
    diag.insert(QStringLiteral("cols"), p);
    diag.insert(QStringLiteral("alpha"), alpha);
    diag.insert(QStringLiteral("rank"), rank);
    diag.insert(QStringLiteral("solver"), solver);
    auto model = std::make_unique<LinearModel>(std::vector<double>(beta.data(), beta.data() + p), intercept,
                                               x.columnNames, QVariantMap());

    auto rmse = [&](const DesignMatrix &dx, const Target &dy) -> Expected<double> {
        auto pred = model->predict(dx);
        if (!pred)
            return pred.error();
        if (pred->size() != dy.values.size())
            return makeError(QStringLiteral("validation target size does not match its design matrix"));
        double ss = 0;
        for (size_t i = 0; i < pred->size(); ++i)
            ss += ((*pred)[i] - dy.values[i]) * ((*pred)[i] - dy.values[i]);
        return pred->empty() ? 0.0 : std::sqrt(ss / double(pred->size()));
    };
    auto train = rmse(x, y);
    if (!train)
        return train.error();
    diag.insert(QStringLiteral("train_rmse"), *train);
    if (onIteration)
        onIteration({0, QStringLiteral("train"), QStringLiteral("rmse"), *train});
    if (validationX && validationY) {
        auto val = rmse(*validationX, *validationY);
        if (!val)
            return val.error();
        diag.insert(QStringLiteral("validation_rmse"), *val);
        if (onIteration)
            onIteration({0, QStringLiteral("validation"), QStringLiteral("rmse"), *val});
    }
    return std::unique_ptr<Model>(std::make_unique<LinearModel>(model->coefficients(), intercept, x.columnNames,
                                                                std::move(diag)));
}

} // namespace keel::ml
