#include "explain/linearshap.h"

#include "ml/linear.h"
#include "ml/logistic.h"

#include <cmath>

namespace keel::explain {

namespace {

/// Intercepts and row-major outputs x columns weights of a linear or logistic model.
struct LinearForm {
    std::vector<double> weights;
    std::vector<double> intercepts;
    int outputs() const { return int(intercepts.size()); }
};

Expected<LinearForm> linearForm(const ml::Model &model)
{
    LinearForm form;
    if (const auto *linear = dynamic_cast<const ml::LinearModel *>(&model)) {
        form.weights = linear->coefficients();
        form.intercepts = {linear->intercept()};
    } else if (const auto *logistic = dynamic_cast<const ml::LogisticModel *>(&model)) {
        form.weights = logistic->weights();
        form.intercepts = logistic->intercepts();
    } else {
        return makeError(QStringLiteral("linear SHAP needs a linear or logistic model, not '") + model.kind()
                         + QLatin1Char('\''));
    }
    return form;
}

Status checkMatrix(const ml::DesignMatrix &m, const QString &what, int columns)
{
    if (m.rows < 0 || m.cols < 0 || m.values.size() != size_t(m.rows) * size_t(m.cols))
        return makeError(what + QStringLiteral(" design matrix has ") + QString::number(m.values.size())
                         + QStringLiteral(" values for ") + QString::number(m.rows) + QStringLiteral(" x ")
                         + QString::number(m.cols));
    if (m.cols != columns)
        return makeError(QStringLiteral("the model has ") + QString::number(columns) + QStringLiteral(" columns, the ")
                         + what + QStringLiteral(" has ") + QString::number(m.cols));
    return Status::ok();
}

Error missingValue(const ml::DesignMatrix &m, const QString &what, qint64 row, int col)
{
    return makeError(what + QStringLiteral(" row ") + QString::number(row + 1)
                         + QStringLiteral(": missing or non-finite value"),
                     {}, -1, col < m.columnNames.size() ? m.columnNames[col] : QString::number(col));
}

} // namespace

Expected<Attribution> linearShapWithMeans(const ml::Model &model, const ml::DesignMatrix &x,
                                          const std::vector<double> &means, Feedback *feedback)
{
    auto form = linearForm(model);
    if (!form)
        return form.error();
    const int outputs = form->outputs();
    if (outputs < 1 || form->weights.size() % size_t(outputs) != 0)
        return makeError(QStringLiteral("the model's weights do not match its intercepts"));
    const int p = int(form->weights.size() / size_t(outputs));
    if (Status s = checkMatrix(x, QStringLiteral("input"), p); !s)
        return s.error();
    if (means.size() != size_t(p))
        return makeError(QStringLiteral("got ") + QString::number(means.size()) + QStringLiteral(" column means for ")
                         + QString::number(p) + QStringLiteral(" columns"));

    Attribution a;
    a.method = QStringLiteral("linear_shap");
    if (x.columnNames.size() == x.cols) {
        a.features = x.columnNames;
    } else {
        for (int c = 0; c < x.cols; ++c)
            a.features.append(QStringLiteral("f") + QString::number(c));
    }
    a.outputs = outputs;
    a.rows = x.rows;
    a.parameters.insert(QStringLiteral("model_kind"), model.kind());
    a.base.assign(size_t(outputs), 0.0);
    for (int k = 0; k < outputs; ++k) {
        const double *w = form->weights.data() + size_t(k) * size_t(p);
        double base = form->intercepts[size_t(k)];
        for (int i = 0; i < p; ++i)
            base += w[i] * means[size_t(i)];
        a.base[size_t(k)] = base;
    }
    a.values.assign(size_t(x.rows) * size_t(outputs) * size_t(p), 0.0);
    constexpr qint64 kProgressRows = 4096;
    for (qint64 r = 0; r < x.rows; ++r) {
        if (r % kProgressRows == 0) {
            if (isCancelled(feedback))
                return cancelledError();
            reportProgress(feedback, r, x.rows, QStringLiteral("linear_shap"));
        }
        const float *row = x.values.data() + size_t(r) * size_t(p);
        for (int i = 0; i < p; ++i)
            if (!std::isfinite(row[i]))
                return missingValue(x, QStringLiteral("input"), r, i);
        for (int k = 0; k < outputs; ++k) {
            const double *w = form->weights.data() + size_t(k) * size_t(p);
            for (int i = 0; i < p; ++i)
                a.value(r, k, i) = w[i] * (double(row[i]) - means[size_t(i)]);
        }
    }
    reportProgress(feedback, x.rows, x.rows, QStringLiteral("linear_shap"));

    // The residual against the model's own margin.
    auto margin = model.predictMargin(x);
    if (!margin)
        return margin.error();
    if (margin->size() != size_t(x.rows) * size_t(outputs))
        return makeError(QStringLiteral("the model returned ") + QString::number(margin->size())
                         + QStringLiteral(" margins for ") + QString::number(x.rows) + QStringLiteral(" rows"));
    a.residual.assign(size_t(x.rows) * size_t(outputs), 0.0);
    for (qint64 r = 0; r < x.rows; ++r)
        for (int k = 0; k < outputs; ++k) {
            double sum = a.base[size_t(k)];
            for (int i = 0; i < p; ++i)
                sum += a.value(r, k, i);
            const size_t at = size_t(r) * size_t(outputs) + size_t(k);
            a.residual[at] = (*margin)[at] - sum;
        }
    return a;
}

Expected<Attribution> linearShap(const ml::Model &model, const ml::DesignMatrix &x, const ml::DesignMatrix &background,
                                 Feedback *feedback)
{
    if (Status s = checkMatrix(background, QStringLiteral("background"), x.cols); !s)
        return s.error();
    if (background.rows == 0)
        return makeError(QStringLiteral("the background has no rows"));
    std::vector<double> means(size_t(x.cols), 0.0);
    for (qint64 r = 0; r < background.rows; ++r) {
        const float *row = background.values.data() + size_t(r) * size_t(background.cols);
        for (int i = 0; i < background.cols; ++i) {
            if (!std::isfinite(row[i]))
                return missingValue(background, QStringLiteral("background"), r, i);
            means[size_t(i)] += double(row[i]);
        }
    }
    for (double &m : means)
        m /= double(background.rows);
    auto a = linearShapWithMeans(model, x, means, feedback);
    if (!a)
        return a.error();
    a->parameters.insert(QStringLiteral("background_rows"), background.rows);
    return a;
}

} // namespace keel::explain
