#include "explain/fairness.h"

#include <QHash>
#include <QJsonArray>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

namespace keel::explain {

namespace {

Error fieldError(const QString &field, const QString &message) { return makeError(message, {}, -1, field); }

const double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(double num, double den) { return den > 0 ? num / den : kNaN; }

// Point metrics of one group from its counts.
struct Counts {
    double n = 0, tp = 0, fp = 0, fn = 0, tn = 0, sumProb = 0, sumPositive = 0;
};

// Metric vector layout: per group 7 values, then 5 between-group differences.
constexpr int kGroupMetrics = 7;
constexpr int kDifferences = 5;

void metricsOf(const std::vector<Counts> &counts, double *out)
{
    double selMin = INFINITY, selMax = -INFINITY, tprMin = INFINITY, tprMax = -INFINITY, fprMin = INFINITY,
           fprMax = -INFINITY;
    for (size_t g = 0; g < counts.size(); ++g) {
        const Counts &c = counts[g];
        double *m = out + g * kGroupMetrics;
        m[0] = ratio(c.tp + c.fp, c.n);
        m[1] = ratio(c.tp, c.tp + c.fn);
        m[2] = ratio(c.fp, c.fp + c.tn);
        m[3] = ratio(c.tp, c.tp + c.fp);
        m[4] = ratio(c.sumProb, c.n);
        m[5] = ratio(c.sumPositive, c.n);
        m[6] = m[4] - m[5];
        if (!std::isnan(m[0])) {
            selMin = std::min(selMin, m[0]);
            selMax = std::max(selMax, m[0]);
        }
        if (!std::isnan(m[1])) {
            tprMin = std::min(tprMin, m[1]);
            tprMax = std::max(tprMax, m[1]);
        }
        if (!std::isnan(m[2])) {
            fprMin = std::min(fprMin, m[2]);
            fprMax = std::max(fprMax, m[2]);
        }
    }
    double *d = out + counts.size() * kGroupMetrics;
    d[0] = selMax >= selMin ? selMax - selMin : kNaN;
    d[1] = selMax > 0 ? selMin / selMax : kNaN;
    d[2] = tprMax >= tprMin ? tprMax - tprMin : kNaN;
    d[3] = fprMax >= fprMin ? fprMax - fprMin : kNaN;
    d[4] = std::isnan(d[2]) ? d[3] : std::isnan(d[3]) ? d[2] : std::max(d[2], d[3]);
}

double percentile(std::vector<double> v, double q)
{
    std::sort(v.begin(), v.end());
    const double pos = q * double(v.size() - 1);
    const size_t lo = size_t(std::floor(pos));
    const size_t hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

} // namespace

QJsonObject Estimate::toJson() const
{
    return QJsonObject{{QStringLiteral("value"), jsonNumber(value)},
                       {QStringLiteral("low"), jsonNumber(low)},
                       {QStringLiteral("high"), jsonNumber(high)}};
}

Estimate Estimate::fromJson(const QJsonObject &json)
{
    Estimate e;
    e.value = numberFromJson(json.value(QStringLiteral("value")));
    e.low = numberFromJson(json.value(QStringLiteral("low")));
    e.high = numberFromJson(json.value(QStringLiteral("high")));
    return e;
}

Expected<FairnessReport> fairnessReport(std::span<const double> positive, std::span<const double> probability,
                                        std::span<const int> group, const QStringList &groupNames,
                                        const FairnessOptions &options, Feedback *feedback)
{
    if (positive.size() != probability.size() || positive.size() != group.size())
        return makeError(QStringLiteral("fairness needs one label, probability and group per row"));
    if (options.bootstrap < 0)
        return fieldError(QStringLiteral("bootstrap"), QStringLiteral("must not be negative"));
    if (!(options.confidence > 0 && options.confidence < 1))
        return fieldError(QStringLiteral("confidence"), QStringLiteral("must be between 0 and 1"));
    const size_t G = size_t(groupNames.size());
    for (int g : group)
        if (g < 0 || size_t(g) >= G)
            return fieldError(QStringLiteral("group"), QStringLiteral("group index %1 is out of range").arg(g));

    // Rows of each group.
    std::vector<std::vector<size_t>> members(G);
    for (size_t i = 0; i < group.size(); ++i)
        members[size_t(group[i])].push_back(i);
    const auto add = [&](Counts &c, size_t i) {
        const bool pos = positive[i] != 0;
        const bool pred = probability[i] >= options.threshold;
        c.n += 1;
        c.tp += pos && pred;
        c.fp += !pos && pred;
        c.fn += pos && !pred;
        c.tn += !pos && !pred;
        c.sumProb += probability[i];
        c.sumPositive += pos;
    };

    const size_t M = G * kGroupMetrics + kDifferences;
    std::vector<Counts> counts(G);
    for (size_t g = 0; g < G; ++g)
        for (size_t i : members[g])
            add(counts[g], i);
    std::vector<double> point(M);
    metricsOf(counts, point.data());

    // Bootstrap replicates, B x M.
    const int B = options.bootstrap;
    std::vector<double> reps(size_t(B) * M, kNaN);
    std::atomic<qint64> done{0};
    Status s = parallelFor(B, 16, options.threads, [&](qint64 begin, qint64 end) -> Status {
        std::vector<Counts> c(G);
        for (qint64 b = begin; b < end; ++b) {
            if (isCancelled(feedback))
                return cancelledError();
            Rng rng = Rng::forStream(options.seed, quint64(b));
            std::fill(c.begin(), c.end(), Counts{});
            for (size_t g = 0; g < G; ++g) {
                const std::vector<size_t> &rows = members[g];
                for (size_t k = 0; k < rows.size(); ++k)
                    add(c[g], rows[size_t(rng.below(rows.size()))]);
            }
            metricsOf(c, reps.data() + size_t(b) * M);
            reportProgress(feedback, ++done, B, QStringLiteral("fairness bootstrap"));
        }
        return {};
    });
    if (!s)
        return s.error();

    const double alpha = 1.0 - options.confidence;
    const auto estimate = [&](size_t m) {
        Estimate e;
        e.value = point[m];
        std::vector<double> v;
        for (int b = 0; b < B; ++b) {
            const double x = reps[size_t(b) * M + m];
            if (!std::isnan(x))
                v.push_back(x);
        }
        if (!v.empty()) {
            e.low = percentile(v, alpha / 2);
            e.high = percentile(v, 1 - alpha / 2);
        }
        return e;
    };

    FairnessReport r;
    r.threshold = options.threshold;
    r.bootstrap = B;
    r.confidence = options.confidence;
    r.seed = options.seed;
    r.rows = qint64(positive.size());
    for (size_t g = 0; g < G; ++g) {
        GroupFairness gf;
        gf.group = groupNames[qsizetype(g)];
        gf.count = qint64(counts[g].n);
        gf.positives = qint64(counts[g].sumPositive);
        gf.predictedPositives = qint64(counts[g].tp + counts[g].fp);
        const size_t base = g * kGroupMetrics;
        gf.selectionRate = estimate(base + 0);
        gf.truePositiveRate = estimate(base + 1);
        gf.falsePositiveRate = estimate(base + 2);
        gf.precision = estimate(base + 3);
        gf.meanPredicted = estimate(base + 4);
        gf.observedRate = estimate(base + 5);
        gf.calibrationGap = estimate(base + 6);
        r.groups.push_back(gf);
    }
    const size_t d = G * kGroupMetrics;
    r.demographicParityDifference = estimate(d + 0);
    r.demographicParityRatio = estimate(d + 1);
    r.truePositiveRateDifference = estimate(d + 2);
    r.falsePositiveRateDifference = estimate(d + 3);
    r.equalizedOddsDifference = estimate(d + 4);
    return r;
}

Expected<FairnessReport> fairness(const ModelContext &ctx, const data::Table &rows, const FairnessOptions &options,
                                  Feedback *feedback)
{
    if (Status s = ctx.check(); !s)
        return s.error();
    if (ctx.task() == ml::Task::Regression)
        return makeError(QStringLiteral("fairness metrics need a classifier"));
    const int si = rows.indexOf(options.sensitive);
    if (si < 0)
        return fieldError(options.sensitive, QStringLiteral("sensitive column is not in the table"));
    const QStringList classes = ctx.classes();
    QString positiveClass = options.positiveClass;
    if (positiveClass.isEmpty()) {
        if (ctx.task() != ml::Task::BinaryClassification)
            return fieldError(QStringLiteral("positiveClass"), QStringLiteral("choose the positive class of a multiclass model"));
        positiveClass = classes.value(1);
    }
    const int pk = int(classes.indexOf(positiveClass));
    if (pk < 0)
        return fieldError(QStringLiteral("positiveClass"), QStringLiteral("'%1' is not a class of the model").arg(positiveClass));

    auto y = ctx.target(rows);
    if (!y)
        return y.error();
    auto pred = ctx.predict(rows, feedback);
    if (!pred)
        return pred.error();
    const qint64 n = rows.rowCount();
    const int K = ctx.model->numClasses();
    std::vector<double> positive(static_cast<size_t>(n)), probability(static_cast<size_t>(n));
    for (qint64 r = 0; r < n; ++r) {
        positive[size_t(r)] = int(y->values[size_t(r)]) == pk ? 1.0 : 0.0;
        if (ctx.task() == ml::Task::BinaryClassification)
            probability[size_t(r)] = pk == 1 ? (*pred)[size_t(r)] : 1.0 - (*pred)[size_t(r)];
        else
            probability[size_t(r)] = (*pred)[size_t(r) * size_t(K) + size_t(pk)];
    }

    const data::Column &c = rows.column(si);
    QStringList names;
    QHash<QString, int> index;
    bool anyMissing = false;
    for (qint64 r = 0; r < n; ++r) {
        if (c.isNull(r)) {
            anyMissing = true;
            continue;
        }
        const QString v = c.displayAt(r);
        if (!index.contains(v)) {
            index.insert(v, 0);
            names.append(v);
        }
    }
    names.sort();
    for (qsizetype k = 0; k < names.size(); ++k)
        index[names[k]] = int(k);
    if (anyMissing)
        names.append(QStringLiteral("(missing)"));
    std::vector<int> group(static_cast<size_t>(n));
    for (qint64 r = 0; r < n; ++r)
        group[size_t(r)] = c.isNull(r) ? int(names.size()) - 1 : index.value(c.displayAt(r));

    auto report = fairnessReport(positive, probability, group, names, options, feedback);
    if (!report)
        return report.error();
    report->sensitive = options.sensitive;
    report->positiveClass = positiveClass;
    return report;
}

QJsonObject FairnessReport::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("sensitive"), sensitive);
    o.insert(QStringLiteral("positive_class"), positiveClass);
    o.insert(QStringLiteral("threshold"), jsonNumber(threshold));
    o.insert(QStringLiteral("bootstrap"), bootstrap);
    o.insert(QStringLiteral("confidence"), jsonNumber(confidence));
    o.insert(QStringLiteral("seed"), QString::number(seed));
    o.insert(QStringLiteral("rows"), rows);
    QJsonArray gs;
    for (const GroupFairness &g : groups) {
        QJsonObject go;
        go.insert(QStringLiteral("group"), g.group);
        go.insert(QStringLiteral("count"), g.count);
        go.insert(QStringLiteral("positives"), g.positives);
        go.insert(QStringLiteral("predicted_positives"), g.predictedPositives);
        go.insert(QStringLiteral("selection_rate"), g.selectionRate.toJson());
        go.insert(QStringLiteral("true_positive_rate"), g.truePositiveRate.toJson());
        go.insert(QStringLiteral("false_positive_rate"), g.falsePositiveRate.toJson());
        go.insert(QStringLiteral("precision"), g.precision.toJson());
        go.insert(QStringLiteral("mean_predicted"), g.meanPredicted.toJson());
        go.insert(QStringLiteral("observed_rate"), g.observedRate.toJson());
        go.insert(QStringLiteral("calibration_gap"), g.calibrationGap.toJson());
        gs.append(go);
    }
    o.insert(QStringLiteral("groups"), gs);
    o.insert(QStringLiteral("demographic_parity_difference"), demographicParityDifference.toJson());
    o.insert(QStringLiteral("demographic_parity_ratio"), demographicParityRatio.toJson());
    o.insert(QStringLiteral("true_positive_rate_difference"), truePositiveRateDifference.toJson());
    o.insert(QStringLiteral("false_positive_rate_difference"), falsePositiveRateDifference.toJson());
    o.insert(QStringLiteral("equalized_odds_difference"), equalizedOddsDifference.toJson());
    return o;
}

Expected<FairnessReport> FairnessReport::fromJson(const QJsonObject &json)
{
    FairnessReport r;
    const auto est = [&](const QJsonObject &o, const char *key) {
        return Estimate::fromJson(o.value(QLatin1String(key)).toObject());
    };
    r.sensitive = json.value(QStringLiteral("sensitive")).toString();
    r.positiveClass = json.value(QStringLiteral("positive_class")).toString();
    r.threshold = numberFromJson(json.value(QStringLiteral("threshold")));
    r.bootstrap = json.value(QStringLiteral("bootstrap")).toInt();
    r.confidence = numberFromJson(json.value(QStringLiteral("confidence")));
    bool ok = false;
    r.seed = json.value(QStringLiteral("seed")).toString().toULongLong(&ok);
    if (!ok)
        return fieldError(QStringLiteral("seed"), QStringLiteral("not an unsigned integer"));
    r.rows = json.value(QStringLiteral("rows")).toInteger();
    if (!json.value(QStringLiteral("groups")).isArray())
        return fieldError(QStringLiteral("groups"), QStringLiteral("missing or not an array"));
    for (const QJsonValue &v : json.value(QStringLiteral("groups")).toArray()) {
        const QJsonObject go = v.toObject();
        GroupFairness g;
        g.group = go.value(QStringLiteral("group")).toString();
        g.count = go.value(QStringLiteral("count")).toInteger();
        g.positives = go.value(QStringLiteral("positives")).toInteger();
        g.predictedPositives = go.value(QStringLiteral("predicted_positives")).toInteger();
        g.selectionRate = est(go, "selection_rate");
        g.truePositiveRate = est(go, "true_positive_rate");
        g.falsePositiveRate = est(go, "false_positive_rate");
        g.precision = est(go, "precision");
        g.meanPredicted = est(go, "mean_predicted");
        g.observedRate = est(go, "observed_rate");
        g.calibrationGap = est(go, "calibration_gap");
        r.groups.push_back(g);
    }
    r.demographicParityDifference = est(json, "demographic_parity_difference");
    r.demographicParityRatio = est(json, "demographic_parity_ratio");
    r.truePositiveRateDifference = est(json, "true_positive_rate_difference");
    r.falsePositiveRateDifference = est(json, "false_positive_rate_difference");
    r.equalizedOddsDifference = est(json, "equalized_odds_difference");
    return r;
}

} // namespace keel::explain
