// Drift monitoring on a planted shift: a ridge model of diamonds price is deployed, and its prediction log holds four
// windows of 1,000 real rows — the last two with carat scaled by 1.6. The report must find carat's drift small, then
// large exactly where it was planted, the prediction drifting with it, the untouched features small throughout, a
// positive velocity at the jump that halves when the drift holds still (EWMA with a = 0.5), and the missing value
// and unseen category that were planted in the first window.
#include "../cli/clitest.h"

#include "data/table.h"
#include "monitor/drift.h"
#include "monitor/performance.h"
#include "ml/metrics.h"
#include "registry/compare.h"
#include "serve/predictionlog.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>

#include <algorithm>
#include <numeric>
#include <random>

using namespace clitest;
namespace data = keel::data;
namespace monitor = keel::monitor;
namespace serve = keel::serve;
namespace workspace = keel::workspace;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }

const monitor::FeatureDrift *feature(const monitor::DriftWindow &w, const char *name)
{
    for (const monitor::FeatureDrift &f : w.features)
        if (f.feature == S(name))
            return &f;
    return nullptr;
}
} // namespace

class TstMonitor : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_ws;

private slots:
    void plantedShift()
    {
        m_ws = m_dir.filePath(S("ws"));
        RUN_OK(clitest::keel({S("init"), m_ws}, m_dir.path()));
        RUN_OK(clitest::keel({S("data"), S("add"), example("diamonds.csv"), S("--name"), S("diamonds")}, m_ws));
        writeFile(m_ws + S("/r.yaml"), "data: diamonds\ntarget: price\nsplit: {kind: holdout, test_fraction: 0.2, seed: 5}\nlearner: ridge\n");
        const QString run = keelJson({S("train"), S("r.yaml")}, m_ws).object().value(S("run")).toString();
        QVERIFY(!run.isEmpty());
        RUN_OK(clitest::keel({S("models"), S("register"), run, S("--name"), S("price")}, m_ws));
        RUN_OK(clitest::keel({S("deploy"), S("price"), S("--model"), S("price@v1")}, m_ws));
        const QJsonArray schema = keelJson({S("models"), S("show"), S("price@v1")}, m_ws).object().value(S("schema")).toArray();

        // The log: 4 x 1,000 rows spread over the data, the last 2,000 with carat x 1.6.
        auto ws = workspace::Workspace::open(m_ws);
        QVERIFY(ws);
        auto version = workspace::resolveDataset(**ws, S("diamonds@v1"));
        QVERIFY(version);
        auto table = workspace::loadDataset(**ws, *version);
        QVERIFY(table);
        {
            auto log = serve::PredictionLog::open(serve::predictionLogDir(m_ws, S("price")));
            QVERIFY(log);
            for (int i = 0; i < 4000; ++i) {
                const qint64 r = qint64((quint64(i) * 2654435761ull + 12345) % quint64(table->rowCount()));
                QJsonObject rec;
                for (const QJsonValue &f : schema) {
                    const QString name = f.toObject().value(S("name")).toString();
                    const data::Column &c = table->column(table->indexOf(name));
                    if (data::isNumericType(c.type()))
                        rec.insert(name, c.numberAt(r) * (name == u"carat" && i >= 2000 ? 1.6 : 1.0));
                    else
                        rec.insert(name, c.displayAt(r));
                }
                if (i == 5) {
                    rec.insert(S("depth"), QJsonValue::Null);
                    rec.insert(S("cut"), S("Astonishing"));
                }
                (*log)->append(QJsonObject{{S("id"), QString::number(i)},
                                           {S("time"), QDateTime::fromSecsSinceEpoch(1764547200 + i, Qt::UTC).toString(Qt::ISODateWithMs)},
                                           {S("deployment"), S("price")}, {S("revision"), 1}, {S("version"), S("price@v1")},
                                           {S("inputs"), rec}, {S("output"), QJsonObject{{S("value"), 1000.0 + 3000.0 * rec.value(S("carat")).toDouble()}}}});
            }
            QVERIFY((*log)->flush());
        }

        monitor::DriftRequest request;
        request.deployment = S("price");
        request.window = S("1000");
        auto report = monitor::driftReport(**ws, request);
        QVERIFY2(report, qPrintable(report.message()));
        QCOMPARE(report->windows.size(), size_t(4));
        QVERIFY(report->referenceRows > 30000);
        const auto &w = report->windows;
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(w[size_t(i)].predictions, qint64(1000));
            QVERIFY(feature(w[size_t(i)], "carat") && feature(w[size_t(i)], "cut") && feature(w[size_t(i)], "prediction"));
            // Untouched features stay small.
            QVERIFY2(feature(w[size_t(i)], "depth")->score < 0.1, qPrintable(QString::number(feature(w[size_t(i)], "depth")->score)));
            QVERIFY(feature(w[size_t(i)], "cut")->score < 0.1);
            QCOMPARE(feature(w[size_t(i)], "cut")->diff.driftStatistic(), S("js_distance"));
        }
        const double c1 = feature(w[0], "carat")->score, c2 = feature(w[1], "carat")->score;
        const double c3 = feature(w[2], "carat")->score, c4 = feature(w[3], "carat")->score;
        QVERIFY2(c1 < 0.1 && c2 < 0.1, qPrintable(QStringLiteral("%1 %2").arg(c1).arg(c2)));
        QVERIFY2(c3 > 0.25 && c4 > 0.25, qPrintable(QStringLiteral("%1 %2").arg(c3).arg(c4)));
        QCOMPARE(feature(w[2], "carat")->level, S("large"));
        QVERIFY(feature(w[2], "prediction")->score > 0.25);
        // Velocity: 0 in the first window, the EWMA of first differences after it.
        QCOMPARE(feature(w[0], "carat")->velocity, 0.0);
        const double v2 = 0.5 * (c2 - c1), v3 = 0.5 * (c3 - c2) + 0.5 * v2, v4 = 0.5 * (c4 - c3) + 0.5 * v3;
        QVERIFY(std::abs(feature(w[1], "carat")->velocity - v2) < 1e-12);
        QVERIFY(std::abs(feature(w[2], "carat")->velocity - v3) < 1e-12);
        QVERIFY(std::abs(feature(w[3], "carat")->velocity - v4) < 1e-12);
        QVERIFY(v3 > 0.1);
        QVERIFY(v4 > 0 && v4 < v3);
        // The planted missing value and unseen category.
        QCOMPARE(feature(w[0], "depth")->missingShare, 0.001);
        QCOMPARE(feature(w[0], "cut")->unseenCategories, qint64(1));
        QCOMPARE(feature(w[1], "cut")->unseenCategories, qint64(0));

        // A caller that has read the log already (the workbench, once for all its reports) passes it: the report is
        // made from that log, not from a second read (here its first 2,000 predictions: two windows).
        {
            auto read = serve::readPredictionLog(serve::predictionLogDir((*ws)->root(), S("price")));
            QVERIFY(read);
            QCOMPARE(read->size(), size_t(4000));
            const std::vector<serve::LoggedPrediction> firstHalf(read->begin(), read->begin() + 2000);
            monitor::DriftRequest given = request;
            given.log = &firstHalf;
            auto part = monitor::driftReport(**ws, given);
            QVERIFY2(part, qPrintable(part.message()));
            QCOMPARE(part->windows.size(), size_t(2));
            QCOMPARE(feature(part->windows[1], "carat")->score, c2);
        }

        // Values out of the training dataset's rules (rules/diamonds.yaml, as the deploy gate reads them): carat above
        // 2.5 or a cut outside the list, counted here from the logged inputs; the cache does not hide the new rules.
        QDir(m_ws).mkpath(S("rules"));
        writeFile(m_ws + S("/rules/diamonds.yaml"),
                  "columns:\n  carat: {max: 2.5}\n  cut: {allowed: [Fair, Good, Very Good, Premium, Ideal]}\n  nosuch: {min: 0}\n");
        {
            auto logged = serve::readPredictionLog(serve::predictionLogDir(m_ws, S("price")));
            QVERIFY(logged);
            auto withRules = monitor::driftReport(**ws, request);
            QVERIFY2(withRules, qPrintable(withRules.message()));
            QCOMPARE(withRules->rules, S("rules/diamonds.yaml"));
            for (int wi = 0; wi < 4; ++wi) {
                qint64 carat = 0, cut = 0;
                for (int i = wi * 1000; i < (wi + 1) * 1000; ++i) {
                    const QJsonObject in = (*logged)[size_t(i)].prediction.value(S("inputs")).toObject();
                    carat += in.value(S("carat")).toDouble() > 2.5 ? 1 : 0;
                    cut += in.value(S("cut")).isString() && in.value(S("cut")).toString() == u"Astonishing" ? 1 : 0;
                }
                QCOMPARE(feature(withRules->windows[size_t(wi)], "carat")->outOfRules, carat);
                QCOMPARE(feature(withRules->windows[size_t(wi)], "cut")->outOfRules, cut);
                QCOMPARE(feature(withRules->windows[size_t(wi)], "depth")->outOfRules, qint64(0));
                QVERIFY(wi < 2 || carat > 10);
            }
            QVERIFY(QFile::remove(m_ws + S("/rules/diamonds.yaml")));
        }

        // Time windows: all 4,000 predictions fall on one day, in two hours.
        request.window = S("day");
        auto daily = monitor::driftReport(**ws, request);
        QVERIFY(daily);
        QCOMPARE(daily->windows.size(), size_t(1));
        QCOMPARE(daily->windows[0].label, S("2025-12-01"));
        request.window = S("hour");
        auto hourly = monitor::driftReport(**ws, request);
        QVERIFY(hourly);
        QCOMPARE(hourly->windows.size(), size_t(2));
        QCOMPARE(hourly->windows[0].predictions + hourly->windows[1].predictions, qint64(4000));
        request.window = S("5");
        QVERIFY(!monitor::driftReport(**ws, request));

        // Performance from feedback: labels for half of window #1 and all of #2; the realised RMSE equals the metric
        // on those pairs, with an interval around it; only #2 is complete.
        {
            auto log = serve::PredictionLog::open(serve::predictionLogDir(m_ws, S("price")));
            QVERIFY(log);
            for (int i = 0; i < 2000; ++i) {
                if (i < 1000 && i % 2)
                    continue;
                (*log)->appendFeedback(QJsonObject{{S("prediction_id"), QString::number(i)}, {S("label"), 1000.0 + 10.0 * (i % 97)}});
            }
            QVERIFY((*log)->flush());
        }
        auto logged = serve::readPredictionLog(serve::predictionLogDir(m_ws, S("price")));
        QVERIFY(logged);
        std::vector<double> truth, predicted;
        for (int i = 0; i < 1000; i += 2) {
            truth.push_back(1000.0 + 10.0 * (i % 97));
            predicted.push_back((*logged)[size_t(i)].prediction.value(S("output")).toObject().value(S("value")).toDouble());
        }
        monitor::PerformanceRequest perf;
        perf.deployment = S("price");
        perf.window = S("1000");
        auto performance = monitor::performanceReport(**ws, perf);
        QVERIFY2(performance, qPrintable(performance.message()));
        QCOMPARE(performance->windows.size(), size_t(4));
        QCOMPARE(performance->windows[0].labelled, qint64(500));
        QVERIFY(!performance->windows[0].complete);
        QVERIFY(performance->windows[1].complete);
        QVERIFY(!performance->windows[2].complete);
        QCOMPARE(performance->windows[0].realised[0].metric, S("rmse"));
        const monitor::MetricValue &rmse = performance->windows[0].realised[0];
        QVERIFY(std::abs(rmse.value - keel::ml::rmse(truth, predicted)) < 1e-9 * rmse.value);
        QVERIFY(rmse.low < rmse.value && rmse.value < rmse.high);
        QVERIFY(performance->windows[0].expected.empty());   // CBPE is for binary classifiers

        // The CLI prints the same report.
        ws->reset();
        const Result cli = clitest::keel({S("monitor"), S("drift"), S("price"), S("--window"), S("1000")}, m_ws);
        RUN_OK(cli);
        QVERIFY(cli.out.contains("#3"));
        QVERIFY(cli.out.contains("carat"));
    }

    // The shadow challenger on the same labelled requests: its realised RMSE and the served one's equal the metric on
    // the logged pairs, and the Wilcoxon signed-rank test on per-row squared-error differences equals the exact test
    // computed here by counting subsets of ranks (40 rows, no ties).
    void shadowComparedOnTheSameRequests()
    {
        RUN_OK(clitest::keel({S("deploy"), S("paired"), S("--model"), S("price@v1"), S("--shadow"), S("price@v1")}, m_ws));
        std::mt19937_64 rng(11);
        std::uniform_real_distribution<double> u(-1, 1);
        std::vector<double> truth, served, shadow;
        {
            auto log = serve::PredictionLog::open(serve::predictionLogDir(m_ws, S("paired")));
            QVERIFY(log);
            for (int i = 0; i < 40; ++i) {
                const double t = 3000 + 1000 * u(rng), v = t + 300 * u(rng), sh = t + 200 * u(rng);
                truth.push_back(t);
                served.push_back(v);
                shadow.push_back(sh);
                const QString id = QStringLiteral("p%1").arg(i);
                (*log)->append(QJsonObject{{S("id"), id}, {S("time"), QDateTime::fromSecsSinceEpoch(1764547200 + i, Qt::UTC).toString(Qt::ISODateWithMs)},
                                           {S("deployment"), S("paired")}, {S("revision"), 1}, {S("version"), S("price@v1")},
                                           {S("inputs"), QJsonObject{}}, {S("output"), QJsonObject{{S("value"), v}}}});
                (*log)->append(QJsonObject{{S("id"), QString(id + S(".shadow"))}, {S("shadow_of"), id}, {S("version"), S("price@v1")},
                                           {S("output"), QJsonObject{{S("value"), sh}}}});
                (*log)->appendFeedback(QJsonObject{{S("prediction_id"), id}, {S("label"), t}});
            }
            QVERIFY((*log)->flush());
        }
        auto ws = workspace::Workspace::open(m_ws);
        QVERIFY(ws);
        monitor::PerformanceRequest perf;
        perf.deployment = S("paired");
        perf.window = S("1000");
        perf.bootstrap = 0;
        auto report = monitor::performanceReport(**ws, perf);
        QVERIFY2(report, qPrintable(report.message()));
        QCOMPARE(report->windows.size(), size_t(1));
        const auto &cmp = report->windows[0].shadow;
        QVERIFY(cmp.has_value());
        QCOMPARE(cmp->paired, qint64(40));
        QCOMPARE(cmp->served[0].metric, S("rmse"));
        QVERIFY(std::abs(cmp->served[0].value - keel::ml::rmse(truth, served)) < 1e-9 * cmp->served[0].value);
        QVERIFY(std::abs(cmp->shadow[0].value - keel::ml::rmse(truth, shadow)) < 1e-9 * cmp->shadow[0].value);
        // Exact Wilcoxon: ranks of |d|, R+ = sum of ranks of positive d, T = min(R+, R-), p = min(1, 2 P(W <= T)).
        std::vector<double> d;
        for (size_t i = 0; i < 40; ++i)
            d.push_back((shadow[i] - truth[i]) * (shadow[i] - truth[i]) - (served[i] - truth[i]) * (served[i] - truth[i]));
        std::vector<size_t> order(40);
        std::iota(order.begin(), order.end(), size_t(0));
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::abs(d[a]) < std::abs(d[b]); });
        int rplus = 0;
        for (size_t r = 0; r < 40; ++r)
            rplus += d[order[r]] > 0 ? int(r) + 1 : 0;
        const int total = 40 * 41 / 2, t = std::min(rplus, total - rplus);
        std::vector<double> ways(size_t(total) + 1, 0.0);   // subsets of {1..40} by sum
        ways[0] = 1;
        for (int k = 1; k <= 40; ++k)
            for (int sum = total; sum >= k; --sum)
                ways[size_t(sum)] += ways[size_t(sum - k)];
        double atMost = 0;
        for (int sum = 0; sum <= t; ++sum)
            atMost += ways[size_t(sum)];
        const double p = std::min(1.0, 2 * atMost / std::ldexp(1.0, 40));
        const keel::registry::PairedTestOutcome *wilcoxon = nullptr;
        for (const auto &test : cmp->tests)
            if (test.test == S("Wilcoxon signed-rank"))
                wilcoxon = &test;
        QVERIFY(wilcoxon);
        QCOMPARE(wilcoxon->statistic, double(t));
        QVERIFY2(std::abs(wilcoxon->pvalue - p) < 1e-12, qPrintable(QStringLiteral("%1 vs %2").arg(wilcoxon->pvalue).arg(p)));
        // The CLI shows the comparison.
        ws->reset();
        const Result cli = clitest::keel({S("monitor"), S("performance"), S("paired"), S("--window"), S("1000")}, m_ws);
        RUN_OK(cli);
        QVERIFY2(cli.out.contains("shadow price@v1") && cli.out.contains("Wilcoxon"), cli.out.constData());
    }

    // CBPE's expected ROC AUC against the brute-force double sum on small data with ties, and expected against
    // realised on a simulation where labels are drawn from the probabilities (calibrated by construction).
    void confidenceBasedEstimation()
    {
        std::mt19937_64 rng(7);
        std::normal_distribution<double> g(0, 1.5);
        std::vector<double> small;
        for (int i = 0; i < 300; ++i)
            small.push_back(std::round(100.0 / (1.0 + std::exp(-g(rng)))) / 100.0);   // two decimals: many ties
        double num = 0, den = 0;
        for (size_t i = 0; i < small.size(); ++i)
            for (size_t j = 0; j < small.size(); ++j) {
                if (i == j)
                    continue;
                const double w = small[i] * (1 - small[j]);
                den += w;
                num += w * (small[i] > small[j] ? 1.0 : small[i] == small[j] ? 0.5 : 0.0);
            }
        QVERIFY(std::abs(monitor::expectedRocAuc(small) - num / den) < 1e-12);
        double acc = 0;
        for (double p : small)
            acc += std::max(p, 1 - p);
        QVERIFY(std::abs(monitor::expectedAccuracy(small) - acc / 300.0) < 1e-12);

        std::vector<double> p, y, predicted;
        std::uniform_real_distribution<double> u(0, 1);
        for (int i = 0; i < 40000; ++i) {
            const double pi = 1.0 / (1.0 + std::exp(-g(rng)));
            p.push_back(pi);
            y.push_back(u(rng) < pi ? 1.0 : 0.0);
            predicted.push_back(pi >= 0.5 ? 1.0 : 0.0);
        }
        const double realisedAuc = keel::ml::rocAuc(y, p), realisedAcc = keel::ml::accuracy(y, predicted);
        QVERIFY2(std::abs(monitor::expectedRocAuc(p) - realisedAuc) < 0.01,
                 qPrintable(QStringLiteral("%1 vs %2").arg(monitor::expectedRocAuc(p)).arg(realisedAuc)));
        QVERIFY2(std::abs(monitor::expectedAccuracy(p) - realisedAcc) < 0.01,
                 qPrintable(QStringLiteral("%1 vs %2").arg(monitor::expectedAccuracy(p)).arg(realisedAcc)));
        // A miscalibrated model (probabilities pushed to the extremes) expects more than it realises.
        std::vector<double> overconfident;
        for (double v : p)
            overconfident.push_back(v >= 0.5 ? 0.5 + (v - 0.5) * 1.9 : 0.5 - (0.5 - v) * 1.9);
        QVERIFY(monitor::expectedAccuracy(overconfident) > realisedAcc + 0.05);
    }
};

QTEST_GUILESS_MAIN(TstMonitor)
#include "tst_monitor.moc"
