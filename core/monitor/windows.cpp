#include "monitor/windows.h"

#include <QTimeZone>

#include <algorithm>
#include <cmath>

namespace keel::monitor {

namespace {

/// The window a prediction at `t` falls in, for hour/day/week windows (UTC): its start and label.
std::pair<QDateTime, QString> timeWindow(const QDateTime &t, const QString &kind)
{
    const QDateTime utc = t.toUTC();
    if (kind == u"hour") {
        const QDateTime start(utc.date(), QTime(utc.time().hour(), 0), Qt::UTC);
        return {start, start.toString(QStringLiteral("yyyy-MM-dd HH:00"))};
    }
    QDate day = utc.date();
    if (kind == u"week")
        day = day.addDays(1 - day.dayOfWeek());   // the Monday
    const QDateTime start(day, QTime(0, 0), Qt::UTC);
    return {start, kind == u"week" ? QStringLiteral("week of %1").arg(day.toString(Qt::ISODate)) : day.toString(Qt::ISODate)};
}

} // namespace

Expected<std::vector<LogWindow>> windowLog(const std::vector<serve::LoggedPrediction> &log, const QString &window)
{
    qint64 perWindow = 0;
    if (window != u"hour" && window != u"day" && window != u"week") {
        bool ok = false;
        perWindow = window.toLongLong(&ok);
        if (!ok || perWindow < 10 || perWindow > 100'000'000)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("expected hour, day, week or a number of predictions from 10"), {}, -1,
                             QStringLiteral("window"));
    }
    std::vector<LogWindow> out;
    for (const serve::LoggedPrediction &p : log) {
        const QDateTime t = QDateTime::fromString(p.prediction.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs);
        QString label;
        if (perWindow > 0)
            label = out.empty() || qint64(out.back().predictions.size()) >= perWindow ? QStringLiteral("#%1").arg(out.size() + 1)
                                                                                     : out.back().label;
        else
            label = timeWindow(t, window).second;
        if (out.empty() || out.back().label != label) {
            LogWindow w;
            w.label = label;
            w.start = t;
            out.push_back(std::move(w));
        }
        out.back().end = t;
        out.back().predictions.push_back(&p);
        const QString version = p.prediction.value(QStringLiteral("version")).toString();
        if (!out.back().versions.contains(version))
            out.back().versions << version;
    }
    return out;
}

double latencyQuantile(const LogWindow &window, double q)
{
    std::vector<double> v;
    for (const serve::LoggedPrediction *p : window.predictions)
        if (const double ms = p->prediction.value(QStringLiteral("latency_ms")).toDouble(std::nan("")); std::isfinite(ms))
            v.push_back(ms);
    if (v.empty())
        return std::nan("");
    std::sort(v.begin(), v.end());
    const double pos = std::clamp(q, 0.0, 1.0) * double(v.size() - 1);
    const size_t lo = size_t(std::floor(pos)), hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

Expected<const std::vector<serve::LoggedPrediction> *> reportLog(const QString &workspaceRoot, const QString &deployment,
                                                                 const QDateTime &since,
                                                                 const std::vector<serve::LoggedPrediction> *given,
                                                                 std::vector<serve::LoggedPrediction> &owned)
{
    if (given)
        return given;
    auto read = serve::readPredictionLog(serve::predictionLogDir(workspaceRoot, deployment), since);
    if (!read)
        return read.error();
    owned = std::move(*read);
    return &owned;
}

} // namespace keel::monitor
