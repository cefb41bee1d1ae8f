#include "tracking/metrickeys.h"

#include <map>

namespace keel::tracking {

bool isCurveKey(QStringView key)
{
    return key.startsWith(u"curve.");
}

QString curveName(QStringView key)
{
    return isCurveKey(key) ? key.mid(6).toString() : QString();
}

bool isFinalMetricKey(QStringView key)
{
    if (key.startsWith(u"test.") || key.startsWith(u"validation.") || key.startsWith(u"best."))
        return true;
    return key.startsWith(u"cv.") && (key.endsWith(u".mean") || key.endsWith(u".std"));
}

const QStringList &finalMetricPrefixes()
{
    static const QStringList prefixes = {QStringLiteral("test."), QStringLiteral("validation."), QStringLiteral("cv."),
                                         QStringLiteral("best.")};
    return prefixes;
}

std::vector<std::pair<QString, double>> finalMetrics(const std::vector<MetricPoint> &points)
{
    std::map<QString, double> last;
    for (const MetricPoint &p : points)
        if (p.step == 0 && isFinalMetricKey(p.key))
            last[p.key] = p.value;
    return {last.begin(), last.end()};
}

} // namespace keel::tracking
