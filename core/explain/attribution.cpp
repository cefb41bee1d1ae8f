#include "explain/attribution.h"

#include <cmath>

namespace keel::explain {

double Attribution::maxAbsResidual() const
{
    double worst = 0;
    for (double r : residual)
        if (!std::isnan(r))
            worst = std::max(worst, std::abs(r));
    return worst;
}

Expected<Attribution> aggregateToSourceFeatures(const Attribution &a, const ml::DesignMatrix &x)
{
    if (a.features.size() != x.columnNames.size())
        return makeError(QStringLiteral("attribution has %1 features but the design matrix has %2 columns")
                             .arg(a.features.size())
                             .arg(x.columnNames.size()));
    for (qsizetype c = 0; c < a.features.size(); ++c)
        if (a.features[c] != x.columnNames[c])
            return makeError(QStringLiteral("attribution feature %1 is '%2' but design column %1 is '%3'")
                                 .arg(c)
                                 .arg(a.features[c], x.columnNames[c]));
    if (x.sourceFeature.size() != size_t(x.cols))
        return makeError(QStringLiteral("design matrix has no source-feature map"));
    Attribution out;
    out.method = a.method;
    out.features = x.sourceFeatureNames;
    out.outputs = a.outputs;
    out.rows = a.rows;
    out.base = a.base;
    out.residual = a.residual;
    out.parameters = a.parameters;
    out.parameters.insert(QStringLiteral("aggregated"), QStringLiteral("source_features"));
    const int fIn = a.featureCount();
    const int fOut = out.featureCount();
    out.values.assign(size_t(out.rows * out.outputs * fOut), 0.0);
    for (qint64 r = 0; r < a.rows; ++r)
        for (int k = 0; k < a.outputs; ++k)
            for (int c = 0; c < fIn; ++c)
                out.value(r, k, x.sourceFeature[size_t(c)]) += a.value(r, k, c);
    return out;
}

std::vector<double> meanAbsImportance(const Attribution &a, int output)
{
    std::vector<double> sum(size_t(a.featureCount()), 0.0);
    if (a.rows == 0)
        return {};
    for (qint64 r = 0; r < a.rows; ++r)
        for (int f = 0; f < a.featureCount(); ++f)
            sum[size_t(f)] += std::abs(a.value(r, output, f));
    for (double &s : sum)
        s /= double(a.rows);
    return sum;
}

} // namespace keel::explain
