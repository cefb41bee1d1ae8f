#include "tracking/metrickeys.h"

#include <algorithm>
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

const QStringList &summaryMetricKeys()
{
    static const QStringList keys{QStringLiteral("test.roc_auc"), QStringLiteral("test.accuracy"), QStringLiteral("test.rmse"),
                                  QStringLiteral("test.log_loss")};
    return keys;
}

const QStringList &headlineMetricKeys()
{
    static const QStringList keys{QStringLiteral("test.accuracy"), QStringLiteral("test.rmse")};
    return keys;
}

std::optional<std::pair<QString, double>> headlineMetric(const std::vector<std::pair<QString, double>> &finals)
{
    for (const QString &key : headlineMetricKeys())
        for (const auto &[k, v] : finals)
            if (k == key)
                return std::pair(key, v);
    return std::nullopt;
}

std::vector<std::pair<QString, double>> finalMetrics(const std::vector<MetricPoint> &points)
{
    std::map<QString, double> last;
    for (const MetricPoint &p : points)
        if (p.step == 0 && isFinalMetricKey(p.key))
            last[p.key] = p.value;
    return {last.begin(), last.end()};
}

QStringList ParamComparison::differing() const
{
    QStringList out;
    for (const auto &[k, differs] : keys)
        if (differs)
            out << k;
    return out;
}

int ParamComparison::sameCount() const
{
    return int(std::count_if(keys.begin(), keys.end(), [](const auto &k) { return !k.second; }));
}

ParamComparison compareParams(const std::vector<std::vector<std::pair<QString, QString>>> &paramsPerRun)
{
    std::vector<std::map<QString, QString>> maps;
    std::map<QString, bool> keys;
    for (const auto &params : paramsPerRun) {
        maps.emplace_back(params.begin(), params.end());
        for (const auto &[k, v] : params)
            keys[k] = false;
    }
    for (auto &[k, differs] : keys) {
        const auto first = maps.front().find(k);
        for (const auto &m : maps) {
            const auto it = m.find(k);
            if ((it == m.end()) != (first == maps.front().end()) || (it != m.end() && it->second != first->second)) {
                differs = true;
                break;
            }
        }
    }
    ParamComparison out;
    out.keys.assign(keys.begin(), keys.end());
    return out;
}

} // namespace keel::tracking
