#include "registry/compare.h"

#include "explain/explainer.h"
#include "ml/pairedtests.h"
#include "tracking/metrickeys.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace keel::registry {

namespace {

QString num(double v, int digits = 4) { return std::isnan(v) ? QStringLiteral("-") : QString::number(v, 'g', digits); }
QString thousands(qint64 n) { return QLocale::c().toString(n); }

/// The rows a comparison scores: a dataset version and 0-based row indices into it.
struct Rows {
    workspace::DatasetVersion version;
    std::vector<qint64> rows;
    QString description;
};

Expected<Rows> chooseRows(workspace::Workspace &ws, const CompareRequest &request, const LoadedVersion &newer)
{
    Rows out;
    if (!request.data.isEmpty()) {
        auto v = workspace::resolveDataset(ws, request.data);
        if (!v)
            return v.error();
        out.version = *v;
        out.rows.resize(size_t(v->record.rows));
        std::iota(out.rows.begin(), out.rows.end(), qint64(0));
        out.description = QStringLiteral("all %1 rows of %2").arg(thousands(v->record.rows), v->ref());
        return out;
    }
    // The newer version's test rows: its evaluate dataset, else the test part of its split.
    const QJsonObject split = newer.split;
    QString ref, contentId;
    QJsonArray test;
    if (split.contains(QStringLiteral("evaluate"))) {
        const QJsonObject e = split.value(QStringLiteral("evaluate")).toObject();
        ref = e.value(QStringLiteral("data")).toString();
        contentId = e.value(QStringLiteral("content_id")).toString();
        test = e.value(QStringLiteral("test")).toArray();
    } else if (split.contains(QStringLiteral("test"))) {
        ref = split.value(QStringLiteral("data")).toString();
        contentId = split.value(QStringLiteral("content_id")).toString();
        test = split.value(QStringLiteral("test")).toArray();
    } else {
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("%1 was cross-validated, so no rows were held out from its kept model: name the data to "
                                        "compare on (--data NAME@REF)")
                             .arg(newer.version.ref()));
    }
    auto v = workspace::resolveDataset(ws, ref);
    if (!v)
        return makeError(ErrorKind::NotFound, QStringLiteral("the test data of %1 (%2) is not in this workspace: %3 (name the data "
                                                             "with --data NAME@REF)")
                                                  .arg(newer.version.ref(), ref, v.message()));
    if (v->record.contentId != contentId)
        return makeError(ErrorKind::Conflict, QStringLiteral("%1 here holds other bytes than the test data of %2: name the data with "
                                                             "--data NAME@REF")
                                                  .arg(ref, newer.version.ref()));
    out.version = *v;
    for (const QJsonValue &r : test)
        out.rows.push_back(r.toInteger() - 1);
    out.description = QStringLiteral("the %1 test rows of %2 (from %3's split)").arg(thousands(qint64(out.rows.size())), v->ref(), newer.version.ref());
    return out;
}

/// Rows of `split` (a run's split document) that trained its model, 0-based, when the split is of `contentId`.
std::vector<qint64> trainedRows(const QJsonObject &split, const QString &contentId)
{
    std::vector<qint64> out;
    if (split.value(QStringLiteral("content_id")).toString() != contentId)
        return out;
    if (split.contains(QStringLiteral("folds"))) {
        // k-fold: the kept model trained on every row with a target.
        for (const QJsonValue &f : split.value(QStringLiteral("folds")).toArray())
            for (const char *part : {"train", "validation", "test"})
                for (const QJsonValue &r : f.toObject().value(QLatin1String(part)).toArray())
                    out.push_back(r.toInteger() - 1);
    } else {
        for (const char *part : {"train", "validation"})
            for (const QJsonValue &r : split.value(QLatin1String(part)).toArray())
                out.push_back(r.toInteger() - 1);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

/// Per-row quantities of one model on the compared rows.
struct Scored {
    std::vector<double> prediction;   ///< Model::predict output, rows x width
    std::vector<int> predicted;       ///< classification: predicted class
    std::vector<double> correct;      ///< classification: 1 or 0
    std::vector<double> loss;         ///< classification: log loss; regression: squared error
    std::vector<double> absError;     ///< regression
    std::vector<double> score;        ///< binary: P(class 1)
    // For the weighted AUC (binary), laid out for one sequential pass per resample:
    std::vector<quint32> order;       ///< rows by ascending score
    std::vector<quint8> positive;     ///< positive[j]: the label of row order[j] is 1
    std::vector<quint32> groupEnd;    ///< end (exclusive) of each run of equal scores in `order`
};

Scored scoreRows(ml::Task task, int classes, const std::vector<double> &p, const std::vector<double> &y)
{
    Scored s;
    s.prediction = p;
    const size_t n = y.size();
    if (task == ml::Task::Regression) {
        s.loss.resize(n);
        s.absError.resize(n);
        for (size_t i = 0; i < n; ++i) {
            const double e = p[i] - y[i];
            s.loss[i] = e * e;
            s.absError[i] = std::abs(e);
        }
        return s;
    }
    s.predicted = explain::predictedClasses(task, classes, p);
    s.correct.resize(n);
    s.loss.resize(n);
    constexpr double eps = 1e-15;   // as scikit-learn's log_loss clips
    for (size_t i = 0; i < n; ++i) {
        const int truth = int(y[i]);
        s.correct[i] = s.predicted[i] == truth ? 1.0 : 0.0;
        const double pt = task == ml::Task::BinaryClassification ? (truth == 1 ? p[i] : 1.0 - p[i]) : p[i * size_t(classes) + size_t(truth)];
        s.loss[i] = -std::log(std::clamp(pt, eps, 1.0 - eps));
    }
    if (task == ml::Task::BinaryClassification) {
        s.score = p;
        s.order.resize(n);
        std::iota(s.order.begin(), s.order.end(), quint32(0));
        std::stable_sort(s.order.begin(), s.order.end(), [&](quint32 a, quint32 b) { return p[a] < p[b]; });
        s.positive.resize(n);
        for (size_t j = 0; j < n; ++j) {
            s.positive[j] = y[s.order[j]] == 1.0 ? 1 : 0;
            if (j + 1 == n || p[s.order[j + 1]] != p[s.order[j]])
                s.groupEnd.push_back(quint32(j + 1));
        }
    }
    return s;
}

/// Weighted ROC AUC (Mann-Whitney with ties counted half) over rows pre-sorted by score; w = null means weight 1.
/// Weighted ROC AUC (Mann-Whitney, ties counted half) from the score order prepared by scoreRows; w = null means
/// weight 1. Counts are integers, so the sums are exact.
double weightedAuc(const Scored &s, const std::vector<quint8> *w)
{
    quint64 negBelow = 0, pos = 0, neg = 0;
    double num = 0;   // twice the Mann-Whitney sum, accumulated per run of equal scores
    size_t j = 0;
    const quint8 *weights = w ? w->data() : nullptr;
    for (const quint32 end : s.groupEnd) {
        quint64 gp = 0, gn = 0;
        for (; j < end; ++j) {
            const quint64 wt = weights ? weights[s.order[j]] : 1;
            const quint64 p = wt * s.positive[j];
            gp += p;
            gn += wt - p;
        }
        num += double(gp) * double(2 * negBelow + gn);
        negBelow += gn;
        pos += gp;
        neg += gn;
    }
    return pos > 0 && neg > 0 ? num / (2.0 * double(pos) * double(neg)) : std::nan("");
}

/// Every metric of both models on one (re)sample of the rows, from one pass over the rows (plus one pass per model
/// over its score order for the AUC). `w` null: every row once.
struct Sample {
    double accuracyA = 0, accuracyB = 0, lossA = 0, lossB = 0, absA = 0, absB = 0;
    double aucA = std::nan(""), aucB = std::nan("");
    double lossDiff = 0;   ///< mean of (loss B - loss A) per row
};

Sample measure(ml::Task task, const Scored &a, const Scored &b, const std::vector<quint8> *w)
{
    Sample s;
    double total = 0;
    const size_t n = a.loss.size();
    const bool regression = task == ml::Task::Regression;
    const quint8 *weights = w ? w->data() : nullptr;
    // Branch-free sums (a zero weight adds zero), so the loop vectorises; one loop per task.
    const double *la = a.loss.data(), *lb = b.loss.data();
    const double *xa = regression ? a.absError.data() : a.correct.data();
    const double *xb = regression ? b.absError.data() : b.correct.data();
    double sumLa = 0, sumLb = 0, sumXa = 0, sumXb = 0;
    for (size_t i = 0; i < n; ++i) {
        const double wt = weights ? double(weights[i]) : 1.0;
        total += wt;
        sumLa += wt * la[i];
        sumLb += wt * lb[i];
        sumXa += wt * xa[i];
        sumXb += wt * xb[i];
    }
    s.lossA = sumLa;
    s.lossB = sumLb;
    (regression ? s.absA : s.accuracyA) = sumXa;
    (regression ? s.absB : s.accuracyB) = sumXb;
    if (total > 0) {
        s.lossDiff = (s.lossB - s.lossA) / total;
        for (double *v : {&s.accuracyA, &s.accuracyB, &s.lossA, &s.lossB, &s.absA, &s.absB})
            *v /= total;
    }
    if (task == ml::Task::BinaryClassification) {
        s.aucA = weightedAuc(a, w);
        s.aucB = weightedAuc(b, w);
    }
    return s;
}

struct MetricDef {
    QString name;
    bool higherIsBetter;
    double (*a)(const Sample &);
    double (*b)(const Sample &);
};

std::vector<MetricDef> metricsFor(ml::Task task)
{
    if (task == ml::Task::Regression)
        return {{QStringLiteral("rmse"), false, [](const Sample &s) { return std::sqrt(s.lossA); }, [](const Sample &s) { return std::sqrt(s.lossB); }},
                {QStringLiteral("mae"), false, [](const Sample &s) { return s.absA; }, [](const Sample &s) { return s.absB; }}};
    std::vector<MetricDef> m = {
        {QStringLiteral("accuracy"), true, [](const Sample &s) { return s.accuracyA; }, [](const Sample &s) { return s.accuracyB; }},
        {QStringLiteral("log_loss"), false, [](const Sample &s) { return s.lossA; }, [](const Sample &s) { return s.lossB; }}};
    if (task == ml::Task::BinaryClassification)
        m.push_back({QStringLiteral("roc_auc"), true, [](const Sample &s) { return s.aucA; }, [](const Sample &s) { return s.aucB; }});
    return m;
}

/// "p = 0.031", or a bound when the p-value is below what the method resolves (1/resamples for a bootstrap,
/// the smallest double for a normal tail).
QString pText(double p, int resamples = 0)
{
    if (p <= 0)
        return resamples > 0 ? QStringLiteral("p < %1").arg(num(1.0 / resamples, 3)) : QStringLiteral("p < 1e-300");
    return QStringLiteral("p = %1").arg(num(p, 3));
}

QString verdict(double p, const QString &test, int resamples = 0)
{
    return p < 0.05 ? QStringLiteral("significant at the 5% level (%1, %2)").arg(pText(p, resamples), test)
                    : QStringLiteral("not significant at the 5% level (%1, %2)").arg(pText(p, resamples), test);
}

QString betterOrWorse(const MetricComparison &m)
{
    if (m.diff == 0)
        return QStringLiteral("B's %1 equals A's").arg(m.metric);
    const bool higher = m.diff > 0;
    const bool better = higher == m.higherIsBetter;
    return QStringLiteral("B's %1 is %2 by %3 (%4)")
        .arg(m.metric, higher ? QStringLiteral("higher") : QStringLiteral("lower"), num(std::abs(m.diff)),
             better ? QStringLiteral("better") : QStringLiteral("worse"));
}

/// McNemar on correctness (classification), DeLong on ROC AUC (binary) and Wilcoxon signed-rank on per-row loss, from
/// two models' scored rows; sentences without the "B's metric is ..." opening (the callers add what they compare).
std::vector<PairedTestOutcome> pairedRowTests(ml::Task task, const std::vector<double> &y, const Scored &sa, const Scored &sb,
                                              QStringList &warnings)
{
    std::vector<PairedTestOutcome> out;
    if (task != ml::Task::Regression) {
        qint64 onlyA = 0, onlyB = 0;
        for (size_t i = 0; i < sa.correct.size(); ++i) {
            onlyA += sa.correct[i] > sb.correct[i] ? 1 : 0;
            onlyB += sb.correct[i] > sa.correct[i] ? 1 : 0;
        }
        const ml::TestResult t = ml::mcnemar(onlyA, onlyB);
        out.push_back({QStringLiteral("McNemar"), QStringLiteral("accuracy"), t.statistic, t.pvalue, t.method,
                       QStringLiteral("%1 rows only A gets right, %2 only B; %3")
                           .arg(thousands(onlyA), thousands(onlyB), verdict(t.pvalue, QStringLiteral("McNemar")))});
    }
    if (task == ml::Task::BinaryClassification) {
        auto d = ml::delong(y, sa.score, sb.score);
        if (d)
            out.push_back({QStringLiteral("DeLong"), QStringLiteral("roc_auc"), d->z, d->pvalue,
                           QStringLiteral("DeLong test of two correlated ROC AUCs"), verdict(d->pvalue, QStringLiteral("DeLong"))});
        else
            warnings << QStringLiteral("DeLong's test was not run: %1").arg(d.message());
    }
    std::vector<double> lossDiff(sa.loss.size());
    for (size_t i = 0; i < lossDiff.size(); ++i)
        lossDiff[i] = sb.loss[i] - sa.loss[i];
    const QString lossName = task == ml::Task::Regression ? QStringLiteral("squared error per row") : QStringLiteral("log loss per row");
    const ml::TestResult w = ml::wilcoxonSignedRank(lossDiff);
    if (!std::isnan(w.pvalue))
        out.push_back({QStringLiteral("Wilcoxon signed-rank"), lossName, w.statistic, w.pvalue, w.method,
                       QStringLiteral("the row-by-row differences in %1 are %2")
                           .arg(task == ml::Task::Regression ? QStringLiteral("squared error") : QStringLiteral("log loss"),
                                verdict(w.pvalue, QStringLiteral("Wilcoxon signed-rank")))});
    return out;
}

/// Ranks 1..n by descending weight (ties share the mean rank).
std::vector<double> descendingRanks(const std::vector<double> &w)
{
    std::vector<size_t> order(w.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return w[a] > w[b]; });
    std::vector<double> r(w.size());
    size_t i = 0;
    while (i < order.size()) {
        size_t j = i;
        while (j + 1 < order.size() && w[order[j + 1]] == w[order[i]])
            ++j;
        for (size_t k = i; k <= j; ++k)
            r[order[k]] = 0.5 * double(i + j) + 1.0;
        i = j + 1;
    }
    return r;
}

double pearson(const std::vector<double> &a, const std::vector<double> &b)
{
    const double n = double(a.size());
    if (a.size() < 2)
        return std::nan("");
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : std::nan("");
}

void compareImportance(Comparison &c)
{
    QStringList features;
    for (const FeatureWeight &w : c.a.importance)
        features << w.feature;
    for (const FeatureWeight &w : c.b.importance)
        if (!features.contains(w.feature))
            features << w.feature;
    if (features.isEmpty())
        return;
    std::vector<double> wa(size_t(features.size()), 0.0), wb(size_t(features.size()), 0.0);
    std::vector<bool> inA(wa.size(), false), inB(wb.size(), false);
    for (const FeatureWeight &w : c.a.importance) {
        const qsizetype i = features.indexOf(w.feature);
        wa[size_t(i)] = w.meanAbsShap;
        inA[size_t(i)] = true;
    }
    for (const FeatureWeight &w : c.b.importance) {
        const qsizetype i = features.indexOf(w.feature);
        wb[size_t(i)] = w.meanAbsShap;
        inB[size_t(i)] = true;
    }
    const std::vector<double> ra = descendingRanks(wa), rb = descendingRanks(wb);
    c.importanceSpearman = pearson(ra, rb);
    // Movers by how far their rank moved; a feature a model does not use ranks last in it (shown as rank 0).
    std::vector<std::pair<double, ImportanceMove>> moves;
    for (qsizetype i = 0; i < features.size(); ++i) {
        const size_t k = size_t(i);
        const double distance = std::abs(ra[k] - rb[k]);
        if (distance > 0)
            moves.push_back({distance, {features[i], inA[k] ? int(std::lround(ra[k])) : 0, inB[k] ? int(std::lround(rb[k])) : 0,
                                        wa[k], wb[k]}});
    }
    std::stable_sort(moves.begin(), moves.end(), [](const auto &x, const auto &y) { return x.first > y.first; });
    for (const auto &[distance, move] : moves)
        c.importanceMovers.push_back(move);
    if (c.importanceMovers.size() > 5)
        c.importanceMovers.resize(5);
}

void compareLineage(Comparison &c)
{
    auto add = [&](const QString &what, const QString &a, const QString &b) {
        if (a != b)
            c.lineage.push_back({what, a, b});
    };
    add(QStringLiteral("run"), c.a.runId, c.b.runId);
    add(QStringLiteral("model_kind"), c.a.modelKind, c.b.modelKind);
    add(QStringLiteral("data.train"), c.a.data.train, c.b.data.train);
    add(QStringLiteral("data.train_content_id"), c.a.data.trainContentId, c.b.data.trainContentId);
    add(QStringLiteral("data.evaluate"), c.a.data.evaluate, c.b.data.evaluate);
    add(QStringLiteral("data.evaluate_content_id"), c.a.data.evaluateContentId, c.b.data.evaluateContentId);
    const tracking::ParamComparison params = tracking::compareParams({c.a.params, c.b.params});
    auto value = [](const std::vector<std::pair<QString, QString>> &p, const QString &k) {
        for (const auto &[key, v] : p)
            if (key == k)
                return v;
        return QStringLiteral("(none)");
    };
    for (const QString &k : params.differing())
        if (k != u"data" && k != u"data.content_id" && k != u"evaluate" && k != u"evaluate.content_id")
            add(k, value(c.a.params, k), value(c.b.params, k));
    QStringList keys = c.a.recipeSpec.keys() + c.b.recipeSpec.keys();
    keys.removeDuplicates();
    keys.sort();
    auto jsonText = [](const QJsonValue &v) {
        if (v.isUndefined() || v.isNull())
            return QStringLiteral("(none)");
        if (v.isString())
            return v.toString();
        if (v.isDouble())
            return QString::number(v.toDouble(), 'g', 17);
        if (v.isBool())
            return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
        return QString::fromUtf8(v.isArray() ? QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact)
                                             : QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    };
    for (const QString &k : keys)
        add(QStringLiteral("recipe.") + k, jsonText(c.a.recipeSpec.value(k)), jsonText(c.b.recipeSpec.value(k)));
}

} // namespace

Expected<Comparison> compareVersions(workspace::Workspace &ws, const CompareRequest &request, Feedback *feedback)
{
    if (request.bootstrap < 0 || request.bootstrap > 100000)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("--bootstrap must be from 0 to 100,000"));
    if (!(request.level > 0 && request.level < 1))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("the interval level must lie between 0 and 1"));
    auto va = resolveVersion(ws, request.a);
    if (!va)
        return va.error();
    auto vb = resolveVersion(ws, request.b);
    if (!vb)
        return vb.error();
    reportProgress(feedback, 0, 4, QStringLiteral("load"));
    auto la = loadVersion(ws, *va);
    if (!la)
        return la.error();
    auto lb = loadVersion(ws, *vb);
    if (!lb)
        return lb.error();
    if (la->ctx.task() != lb->ctx.task())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("%1 is %2 and %3 is %4: only models of one task compare")
                                                      .arg(va->ref(), ml::taskName(la->ctx.task()), vb->ref(), ml::taskName(lb->ctx.task())));
    if (la->ctx.classes() != lb->ctx.classes())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("%1 and %2 predict different classes (%3 / %4)")
                                                      .arg(va->ref(), vb->ref(), la->ctx.classes().join(QLatin1Char(',')),
                                                           lb->ctx.classes().join(QLatin1Char(','))));
    const QString target = la->ctx.recipe->spec().target;
    if (lb->ctx.recipe->spec().target != target)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("%1 predicts '%2' and %3 predicts '%4'")
                                                      .arg(va->ref(), target, vb->ref(), lb->ctx.recipe->spec().target));

    Comparison c;
    c.a = *va;
    c.b = *vb;
    c.task = la->ctx.task();
    c.level = request.level;
    const LoadedVersion &newer = vb->registered >= va->registered ? *lb : *la;
    auto chosen = chooseRows(ws, request, newer);
    if (!chosen)
        return chosen.error();
    c.data = chosen->version.ref();
    c.rowsDescription = chosen->description;
    auto table = workspace::loadDataset(ws, chosen->version, feedback);
    if (!table)
        return table.error();
    const int ti = table->indexOf(target);
    if (ti < 0)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("%1 has no target column '%2'").arg(c.data, target));
    // Rows whose target is missing cannot be scored.
    std::vector<qint64> rows;
    const data::Column &tc = table->column(ti);
    for (qint64 r : chosen->rows) {
        if (r < 0 || r >= table->rowCount())
            return makeError(ErrorKind::Corrupt, QStringLiteral("row %1 is outside %2").arg(r + 1).arg(c.data));
        if (!tc.isNull(r) && !(data::isNumericType(tc.type()) && std::isnan(tc.numberAt(r))))
            rows.push_back(r);
    }
    if (rows.size() < chosen->rows.size())
        c.warnings << QStringLiteral("%1 rows without a target value were left out").arg(thousands(qint64(chosen->rows.size() - rows.size())));
    if (rows.empty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("no row of %1 has a target value").arg(c.data));
    for (const auto &[v, l] : {std::pair(&c.a, &*la), std::pair(&c.b, &*lb)}) {
        const std::vector<qint64> trained = trainedRows(l->split, chosen->version.record.contentId);
        qint64 overlap = 0;
        for (qint64 r : rows)
            overlap += std::binary_search(trained.begin(), trained.end(), r) ? 1 : 0;
        if (overlap > 0)
            c.warnings << QStringLiteral("%1 trained on %2 of these rows: its scores on them are optimistic").arg(v->ref(), thousands(overlap));
    }
    auto sub = data::selectRows(*table, rows);
    if (!sub)
        return sub.error();
    c.rows = qint64(rows.size());

    reportProgress(feedback, 1, 4, QStringLiteral("score"));
    auto y = la->ctx.target(*sub);
    if (!y)
        return y.error();
    auto pa = la->ctx.predict(*sub, feedback);
    if (!pa)
        return pa.error();
    auto pb = lb->ctx.predict(*sub, feedback);
    if (!pb)
        return pb.error();
    const int classes = int(la->ctx.classes().size());
    const Scored sa = scoreRows(c.task, classes, *pa, y->values);
    const Scored sb = scoreRows(c.task, classes, *pb, y->values);

    // Metrics with paired bootstrap intervals.
    reportProgress(feedback, 2, 4, QStringLiteral("bootstrap"));
    const std::vector<MetricDef> defs = metricsFor(c.task);
    const int resamples = request.bootstrap;
    c.resamples = resamples;
    // One set of resamples serves every interval and the paired bootstrap of the per-row loss.
    std::vector<Sample> samples(static_cast<size_t>(resamples));
    if (Status s = ml::bootstrapResamples(c.rows, resamples, request.seed, request.threads,
                                          [&](int r, const std::vector<quint8> &counts) {
                                              samples[size_t(r)] = measure(c.task, sa, sb, &counts);
                                          },
                                          feedback);
        !s)
        return s.error();
    const Sample point = measure(c.task, sa, sb, nullptr);
    for (const MetricDef &d : defs) {
        MetricComparison mc;
        mc.metric = d.name;
        mc.higherIsBetter = d.higherIsBetter;
        mc.a = d.a(point);
        mc.b = d.b(point);
        mc.diff = mc.b - mc.a;
        std::vector<double> ra, rb, rd;
        for (const Sample &smp : samples) {
            ra.push_back(d.a(smp));
            rb.push_back(d.b(smp));
            rd.push_back(d.b(smp) - d.a(smp));
        }
        std::tie(mc.aLow, mc.aHigh) = ml::percentileInterval(ra, request.level);
        std::tie(mc.bLow, mc.bHigh) = ml::percentileInterval(rb, request.level);
        std::tie(mc.diffLow, mc.diffHigh) = ml::percentileInterval(rd, request.level);
        c.metrics.push_back(mc);
    }
    auto metricOf = [&](const QString &name) -> const MetricComparison * {
        for (const MetricComparison &m : c.metrics)
            if (m.metric == name)
                return &m;
        return nullptr;
    };

    // Paired tests.
    reportProgress(feedback, 3, 4, QStringLiteral("tests"));
    std::vector<PairedTestOutcome> rowTests = pairedRowTests(c.task, y->values, sa, sb, c.warnings);
    for (PairedTestOutcome &t : rowTests) {
        if (t.test == u"McNemar")
            t.sentence = betterOrWorse(*metricOf(QStringLiteral("accuracy"))) + QStringLiteral(": ") + t.sentence;
        else if (t.test == u"DeLong")
            t.sentence = betterOrWorse(*metricOf(QStringLiteral("roc_auc"))) + QStringLiteral("; ") + t.sentence;
        if (t.test != u"Wilcoxon signed-rank")
            c.tests.push_back(t);
    }
    const QString lossName = c.task == ml::Task::Regression ? QStringLiteral("squared error per row") : QStringLiteral("log loss per row");
    // The paired bootstrap of the mean per-row loss difference, from the same resamples as the intervals.
    ml::PairedBootstrap boot;
    boot.mean = point.lossDiff;
    boot.resamples = resamples;
    {
        std::vector<double> means;
        for (const Sample &smp : samples)
            means.push_back(smp.lossDiff);
        std::tie(boot.low, boot.high) = ml::percentileInterval(means, request.level);
        const double atMostZero = double(std::count_if(means.begin(), means.end(), [](double m) { return m <= 0; }));
        const double atLeastZero = double(std::count_if(means.begin(), means.end(), [](double m) { return m >= 0; }));
        boot.pvalue = resamples > 0 ? std::min(1.0, 2 * std::min(atMostZero, atLeastZero) / double(resamples)) : std::nan("");
    }
    if (resamples > 0)
        c.tests.push_back({QStringLiteral("paired bootstrap"), lossName, boot.mean, boot.pvalue,
                           QStringLiteral("paired bootstrap of the mean difference (%1 resamples)").arg(resamples),
                           QStringLiteral("B's mean %1 is %2 by %3 (%4% interval %5 to %6); %7")
                               .arg(lossName, boot.mean <= 0 ? QStringLiteral("lower") : QStringLiteral("higher"),
                                    num(std::abs(boot.mean)), QString::number(qRound(request.level * 100)), num(boot.low), num(boot.high),
                                    verdict(boot.pvalue, QStringLiteral("paired bootstrap"), resamples))});
    for (const PairedTestOutcome &t : rowTests)
        if (t.test == u"Wilcoxon signed-rank")
            c.tests.push_back(t);

    // Decisions that change.
    const QStringList classNames = la->ctx.classes();
    auto shown = [&](const Scored &s, size_t i) {
        return c.task == ml::Task::Regression ? num(s.prediction[i], 6) : classNames.value(s.predicted[i]);
    };
    auto actual = [&](size_t i) { return c.task == ml::Task::Regression ? num(y->values[i], 6) : classNames.value(int(y->values[i])); };
    if (c.task == ml::Task::Regression) {
        std::vector<size_t> order(sa.prediction.size());
        std::iota(order.begin(), order.end(), size_t(0));
        double sum = 0;
        for (size_t i = 0; i < order.size(); ++i) {
            const double d = std::abs(sb.prediction[i] - sa.prediction[i]);
            sum += d;
            c.maxAbsChange = std::max(c.maxAbsChange, d);
        }
        c.meanAbsChange = order.empty() ? 0 : sum / double(order.size());
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return std::abs(sb.prediction[a] - sa.prediction[a]) > std::abs(sb.prediction[b] - sa.prediction[b]);
        });
        for (size_t k = 0; k < order.size() && int(k) < request.examples; ++k)
            c.changedExamples.push_back({rows[order[k]] + 1, shown(sa, order[k]), shown(sb, order[k]), actual(order[k])});
    } else {
        for (size_t i = 0; i < sa.predicted.size(); ++i) {
            if (sa.predicted[i] == sb.predicted[i])
                continue;
            ++c.changed;
            if (int(c.changedExamples.size()) < request.examples)
                c.changedExamples.push_back({rows[i] + 1, shown(sa, i), shown(sb, i), actual(i)});
        }
        c.changedShare = c.rows ? double(c.changed) / double(c.rows) : 0.0;
    }
    compareImportance(c);
    compareLineage(c);
    reportProgress(feedback, 4, 4, QStringLiteral("tests"));
    return c;
}

QJsonObject Comparison::toJson() const
{
    auto n = [](double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(); };
    QJsonArray metricsJson;
    for (const MetricComparison &m : metrics)
        metricsJson.append(QJsonObject{{QStringLiteral("metric"), m.metric},
                                       {QStringLiteral("higher_is_better"), m.higherIsBetter},
                                       {QStringLiteral("a"), n(m.a)},
                                       {QStringLiteral("a_interval"), QJsonArray{n(m.aLow), n(m.aHigh)}},
                                       {QStringLiteral("b"), n(m.b)},
                                       {QStringLiteral("b_interval"), QJsonArray{n(m.bLow), n(m.bHigh)}},
                                       {QStringLiteral("diff"), n(m.diff)},
                                       {QStringLiteral("diff_interval"), QJsonArray{n(m.diffLow), n(m.diffHigh)}}});
    QJsonArray testsJson;
    for (const PairedTestOutcome &t : tests)
        testsJson.append(QJsonObject{{QStringLiteral("test"), t.test},
                                     {QStringLiteral("metric"), t.metric},
                                     {QStringLiteral("statistic"), n(t.statistic)},
                                     {QStringLiteral("pvalue"), n(t.pvalue)},
                                     {QStringLiteral("method"), t.method},
                                     {QStringLiteral("sentence"), t.sentence}});
    QJsonArray examples;
    for (const ChangedDecision &d : changedExamples)
        examples.append(QJsonObject{{QStringLiteral("row"), d.row}, {QStringLiteral("a"), d.a}, {QStringLiteral("b"), d.b},
                                    {QStringLiteral("actual"), d.actual}});
    QJsonArray movers;
    for (const ImportanceMove &m : importanceMovers)
        movers.append(QJsonObject{{QStringLiteral("feature"), m.feature}, {QStringLiteral("rank_a"), m.rankA},
                                  {QStringLiteral("rank_b"), m.rankB}, {QStringLiteral("a"), n(m.a)}, {QStringLiteral("b"), n(m.b)}});
    QJsonArray lineageJson;
    for (const LineageChange &l : lineage)
        lineageJson.append(QJsonObject{{QStringLiteral("what"), l.what}, {QStringLiteral("a"), l.a}, {QStringLiteral("b"), l.b}});
    QJsonObject decisions{{QStringLiteral("examples"), examples}};
    if (task == ml::Task::Regression) {
        decisions.insert(QStringLiteral("mean_abs_change"), n(meanAbsChange));
        decisions.insert(QStringLiteral("max_abs_change"), n(maxAbsChange));
    } else {
        decisions.insert(QStringLiteral("changed"), changed);
        decisions.insert(QStringLiteral("share"), n(changedShare));
    }
    return QJsonObject{{QStringLiteral("a"), a.ref()},
                       {QStringLiteral("b"), b.ref()},
                       {QStringLiteral("data"), data},
                       {QStringLiteral("rows"), rows},
                       {QStringLiteral("rows_description"), rowsDescription},
                       {QStringLiteral("task"), ml::taskName(task)},
                       {QStringLiteral("bootstrap"), resamples},
                       {QStringLiteral("level"), level},
                       {QStringLiteral("metrics"), metricsJson},
                       {QStringLiteral("tests"), testsJson},
                       {QStringLiteral("decisions"), decisions},
                       {QStringLiteral("importance"), QJsonObject{{QStringLiteral("spearman"), n(importanceSpearman)},
                                                                  {QStringLiteral("movers"), movers}}},
                       {QStringLiteral("lineage"), lineageJson},
                       {QStringLiteral("warnings"), QJsonArray::fromStringList(warnings)}};
}

std::vector<PairedTestOutcome> pairedTests(ml::Task task, int classes, const std::vector<double> &y, const std::vector<double> &pa,
                                           const std::vector<double> &pb, QStringList *warnings)
{
    const Scored sa = scoreRows(task, classes, pa, y), sb = scoreRows(task, classes, pb, y);
    QStringList w;
    auto out = pairedRowTests(task, y, sa, sb, w);
    if (warnings)
        *warnings << w;
    return out;
}

} // namespace keel::registry
