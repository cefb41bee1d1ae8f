#include "monitor/performance.h"

#include "deploy/deployment.h"
#include "ml/metrics.h"
#include "ml/pairedtests.h"
#include "monitor/windows.h"
#include "registry/registry.h"
#include "workspace/workspace.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace keel::monitor {

double expectedAccuracy(std::span<const double> p)
{
    if (p.empty())
        return std::nan("");
    double sum = 0;
    for (double v : p)
        sum += v >= 0.5 ? v : 1.0 - v;
    return sum / double(p.size());
}

double expectedRocAuc(std::span<const double> p)
{
    const size_t n = p.size();
    if (n < 2)
        return std::nan("");
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
    // For each row i (as the positive): weight p_i times the expected negatives below it (1 - p_j for s_j < s_i) plus
    // half of those tied with it (j != i).
    double numerator = 0, below = 0;
    for (size_t start = 0; start < n;) {
        size_t end = start;
        double tiedNeg = 0, tiedPos = 0, tiedCross = 0;
        while (end < n && p[order[end]] == p[order[start]]) {
            const double v = p[order[end]];
            tiedNeg += 1 - v;
            tiedPos += v;
            tiedCross += v * (1 - v);
            ++end;
        }
        numerator += tiedPos * below + 0.5 * (tiedPos * tiedNeg - tiedCross);
        below += tiedNeg;
        start = end;
    }
    double pos = 0, neg = 0, cross = 0;
    for (double v : p) {
        pos += v;
        neg += 1 - v;
        cross += v * (1 - v);
    }
    const double denominator = pos * neg - cross;
    return denominator > 0 ? numerator / denominator : std::nan("");
}

QJsonObject PerformanceReport::toJson() const
{
    auto metrics = [](const std::vector<MetricValue> &ms) {
        QJsonArray a;
        for (const MetricValue &m : ms) {
            QJsonObject o{{QStringLiteral("metric"), m.metric}, {QStringLiteral("value"), m.value}};
            if (std::isfinite(m.low))
                o.insert(QStringLiteral("low"), m.low);
            if (std::isfinite(m.high))
                o.insert(QStringLiteral("high"), m.high);
            a.append(o);
        }
        return a;
    };
    QJsonArray ws;
    for (const PerformanceWindow &w : windows) {
        QJsonObject shadow;
        if (w.shadow) {
            QJsonArray tests;
            for (const registry::PairedTestOutcome &t : w.shadow->tests)
                tests.append(QJsonObject{{QStringLiteral("test"), t.test}, {QStringLiteral("metric"), t.metric},
                                         {QStringLiteral("statistic"), t.statistic}, {QStringLiteral("pvalue"), t.pvalue},
                                         {QStringLiteral("method"), t.method}, {QStringLiteral("sentence"), t.sentence}});
            shadow = QJsonObject{{QStringLiteral("version"), w.shadow->version}, {QStringLiteral("paired"), w.shadow->paired},
                                 {QStringLiteral("served"), metrics(w.shadow->served)}, {QStringLiteral("shadow"), metrics(w.shadow->shadow)},
                                 {QStringLiteral("tests"), tests}};
        }
        QJsonObject o{{QStringLiteral("label"), w.label}, {QStringLiteral("start"), w.start.toString(Qt::ISODateWithMs)},
                              {QStringLiteral("end"), w.end.toString(Qt::ISODateWithMs)}, {QStringLiteral("predictions"), w.predictions},
                              {QStringLiteral("labelled"), w.labelled}, {QStringLiteral("complete"), w.complete},
                              {QStringLiteral("realised"), metrics(w.realised)}, {QStringLiteral("expected"), metrics(w.expected)}};
        if (!shadow.isEmpty())
            o.insert(QStringLiteral("shadow"), shadow);
        ws.append(o);
    }
    return QJsonObject{{QStringLiteral("deployment"), deployment}, {QStringLiteral("task"), task}, {QStringLiteral("windows"), ws}};
}

Expected<PerformanceReport> performanceReport(workspace::Workspace &ws, const PerformanceRequest &request, Feedback *feedback)
{
    if (auto check = windowLog({}, request.window); !check)
        return check.error();
    if (request.bootstrap < 0 || request.bootstrap > 100000)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("must be 0 to 100,000"), {}, -1, QStringLiteral("bootstrap"));
    auto deployment = deploy::loadDeployment(ws, request.deployment);
    if (!deployment)
        return deployment.error();
    auto version = registry::resolveVersion(ws, deployment->model.version);
    if (!version)
        return version.error();
    const ml::Task task = version->task;
    const QStringList classes = version->classes;
    std::vector<serve::LoggedPrediction> owned;
    auto log = reportLog(ws.root(), request.deployment, request.since, request.log, owned);
    if (!log)
        return log.error();
    auto windows = windowLog(**log, request.window);
    if (!windows)
        return windows.error();

    PerformanceReport report;
    report.deployment = request.deployment;
    report.task = ml::taskName(task);
    std::mt19937_64 rng(request.seed);
    for (const LogWindow &w : *windows) {
        if (isCancelled(feedback))
            return cancelledError();
        PerformanceWindow out;
        out.label = w.label;
        out.start = w.start;
        out.end = w.end;
        out.predictions = qint64(w.predictions.size());
        // Scores of every prediction (for CBPE) and, where feedback arrived, label and score pairs.
        std::vector<double> allScores, y, scores;
        std::vector<double> pairedY, pairedServed, pairedShadow;   // labelled requests the shadow also scored
        QString shadowVersion;
        const int k = int(classes.size());
        const auto scoresOf = [&](const QJsonObject &o) {
            const QJsonObject probs = o.value(QStringLiteral("probabilities")).toObject();
            std::vector<double> s;
            if (task == ml::Task::Regression)
                s.push_back(o.value(QStringLiteral("value")).toDouble(std::nan("")));
            else if (task == ml::Task::BinaryClassification)
                s.push_back(probs.value(classes.value(1)).toDouble(std::nan("")));
            else
                for (const QString &c : classes)
                    s.push_back(probs.value(c).toDouble(std::nan("")));
            return s;
        };
        const auto finite = [](const std::vector<double> &v) { return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); }); };
        for (const serve::LoggedPrediction *p : w.predictions) {
            const std::vector<double> s = scoresOf(p->prediction.value(QStringLiteral("output")).toObject());
            if (task == ml::Task::BinaryClassification && std::isfinite(s[0]))
                allScores.push_back(s[0]);
            if (p->feedback.isEmpty())
                continue;
            const QJsonValue label = p->feedback.value(QStringLiteral("label"));
            double truth = std::nan("");
            if (task == ml::Task::Regression)
                truth = label.toDouble(std::nan(""));
            else if (const qsizetype i = classes.indexOf(label.toString()); i >= 0)
                truth = double(i);
            if (!std::isfinite(truth) || std::any_of(s.begin(), s.end(), [](double v) { return !std::isfinite(v); }))
                continue;
            y.push_back(truth);
            scores.insert(scores.end(), s.begin(), s.end());
            if (!p->shadow.isEmpty()) {
                const std::vector<double> sh = scoresOf(p->shadow.value(QStringLiteral("output")).toObject());
                if (finite(sh)) {
                    shadowVersion = p->shadow.value(QStringLiteral("version")).toString();
                    pairedY.push_back(truth);
                    pairedServed.insert(pairedServed.end(), s.begin(), s.end());
                    pairedShadow.insert(pairedShadow.end(), sh.begin(), sh.end());
                }
            }
        }
        out.labelled = qint64(y.size());
        out.complete = out.predictions > 0 && double(out.labelled) >= request.complete * double(out.predictions);
        // The realised metrics, and their bootstrap intervals over the labelled rows.
        const auto metricsOf = [&](const std::vector<double> &yy, const std::vector<double> &ss) {
            std::vector<std::pair<QString, double>> m;
            std::vector<double> predicted(yy.size());
            if (task == ml::Task::Regression) {
                m.push_back({QStringLiteral("rmse"), ml::rmse(yy, ss)});
                m.push_back({QStringLiteral("mae"), ml::mae(yy, ss)});
                return m;
            }
            for (size_t i = 0; i < yy.size(); ++i) {
                if (task == ml::Task::BinaryClassification) {
                    predicted[i] = ss[i] >= 0.5 ? 1 : 0;
                } else {
                    const auto row = ss.begin() + qsizetype(i) * k;
                    predicted[i] = double(std::max_element(row, row + k) - row);
                }
            }
            m.push_back({QStringLiteral("accuracy"), ml::accuracy(yy, predicted)});
            if (task == ml::Task::BinaryClassification)
                m.push_back({QStringLiteral("roc_auc"), ml::rocAuc(yy, ss)});
            m.push_back({QStringLiteral("log_loss"), ml::logLoss(yy, ss, k)});
            return m;
        };
        if (!y.empty()) {
            const auto point = metricsOf(y, scores);
            const size_t width = task == ml::Task::MulticlassClassification ? size_t(k) : 1;
            std::vector<std::vector<double>> draws(point.size());
            std::uniform_int_distribution<size_t> pick(0, y.size() - 1);
            for (int b = 0; b < request.bootstrap; ++b) {
                std::vector<double> yy(y.size()), ss(scores.size());
                for (size_t i = 0; i < y.size(); ++i) {
                    const size_t j = pick(rng);
                    yy[i] = y[j];
                    std::copy_n(scores.begin() + qsizetype(j * width), width, ss.begin() + qsizetype(i * width));
                }
                const auto m = metricsOf(yy, ss);
                for (size_t i = 0; i < m.size(); ++i)
                    if (std::isfinite(m[i].second))
                        draws[i].push_back(m[i].second);
            }
            for (size_t i = 0; i < point.size(); ++i) {
                MetricValue v{point[i].first, point[i].second, std::nan(""), std::nan("")};
                if (draws[i].size() >= 20) {
                    const auto [lo, hi] = ml::percentileInterval(draws[i], 0.95);
                    v.low = lo;
                    v.high = hi;
                }
                out.realised.push_back(v);
            }
        }
        if (pairedY.size() >= 2) {
            ShadowComparison cmp;
            cmp.version = shadowVersion;
            cmp.paired = qint64(pairedY.size());
            for (const auto &[metric, value] : metricsOf(pairedY, pairedServed))
                cmp.served.push_back({metric, value, std::nan(""), std::nan("")});
            for (const auto &[metric, value] : metricsOf(pairedY, pairedShadow))
                cmp.shadow.push_back({metric, value, std::nan(""), std::nan("")});
            cmp.tests = registry::pairedTests(task, k, pairedY, pairedServed, pairedShadow);
            out.shadow = std::move(cmp);
        }
        if (task == ml::Task::BinaryClassification && !allScores.empty()) {
            out.expected.push_back({QStringLiteral("accuracy"), expectedAccuracy(allScores), std::nan(""), std::nan("")});
            out.expected.push_back({QStringLiteral("roc_auc"), expectedRocAuc(allScores), std::nan(""), std::nan("")});
        }
        report.windows.push_back(std::move(out));
    }
    return report;
}

} // namespace keel::monitor
