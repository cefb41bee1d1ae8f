#include "explain/global.h"

#include "ml/metrics.h"

#include <QJsonArray>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>

namespace keel::explain {

namespace {

Error fieldError(const QString &field, const QString &message) { return makeError(message, {}, -1, field); }

QStringList stringsFromJson(const QJsonValue &v)
{
    QStringList out;
    for (const QJsonValue &s : v.toArray())
        out.append(s.toString());
    return out;
}

QJsonArray jsonRows(const std::vector<qint64> &rows)
{
    QJsonArray a;
    for (qint64 r : rows)
        a.append(r);
    return a;
}

std::vector<qint64> rowsFromJson(const QJsonValue &v)
{
    std::vector<qint64> out;
    for (const QJsonValue &r : v.toArray())
        out.push_back(r.toInteger());
    return out;
}

QJsonArray jsonMatrix(const std::vector<std::vector<double>> &m)
{
    QJsonArray a;
    for (const std::vector<double> &row : m)
        a.append(jsonNumbers(row));
    return a;
}

std::vector<std::vector<double>> matrixFromJson(const QJsonValue &v)
{
    std::vector<std::vector<double>> out;
    for (const QJsonValue &row : v.toArray())
        out.push_back(numbersFromJson(row.toArray()));
    return out;
}

quint64 seedFromJson(const QJsonValue &v, bool *ok) { return v.toString().toULongLong(ok); }

// `k` of `n` row indices in a seeded random order (all when k >= n).
std::vector<qint64> shuffledRows(qint64 n, quint64 seed)
{
    std::vector<qint64> rows(static_cast<size_t>(n));
    std::iota(rows.begin(), rows.end(), qint64(0));
    Rng rng(seed);
    rng.shuffle(rows);
    return rows;
}

double percentile(const std::vector<double> &sorted, double q)
{
    const double pos = q * double(sorted.size() - 1);
    const size_t lo = size_t(std::floor(pos));
    const size_t hi = std::min(sorted.size() - 1, lo + 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - double(lo));
}

// The value shown for class `classIndex` from Model::predict / predictMargin output of row r.
double outputOf(const std::vector<double> &out, qint64 r, ml::Task task, int K, int classIndex, OutputScale scale)
{
    switch (task) {
    case ml::Task::Regression: return out[size_t(r)];
    case ml::Task::BinaryClassification: {
        const double v = out[size_t(r)];
        if (classIndex == 1)
            return v;
        return scale == OutputScale::Margin ? -v : 1.0 - v;
    }
    case ml::Task::MulticlassClassification: return out[size_t(r) * size_t(K) + size_t(classIndex)];
    }
    return std::nan("");
}

} // namespace

std::vector<double> quantileGrid(std::vector<double> values, int points)
{
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }), values.end());
    if (values.empty())
        return {};
    std::sort(values.begin(), values.end());
    points = std::max(points, 2);
    std::vector<double> grid;
    for (int i = 0; i < points; ++i) {
        const size_t at = size_t(std::floor(double(i) / double(points - 1) * double(values.size() - 1)));
        const double v = values[std::min(at, values.size() - 1)];
        if (grid.empty() || grid.back() != v)
            grid.push_back(v);
    }
    return grid;
}

std::vector<double> colourScale(const FeatureValues &f)
{
    const qint64 n = f.size();
    std::vector<double> out(static_cast<size_t>(n), std::nan(""));
    if (f.categorical) {
        const double span = f.categories.size() > 1 ? double(f.categories.size() - 1) : 0.0;
        for (qint64 r = 0; r < n; ++r)
            if (f.codes[size_t(r)] >= 0)
                out[size_t(r)] = span > 0 ? double(f.codes[size_t(r)]) / span : 0.5;
        return out;
    }
    std::vector<double> sorted;
    for (double v : f.numbers)
        if (!std::isnan(v))
            sorted.push_back(v);
    if (sorted.empty())
        return out;
    std::sort(sorted.begin(), sorted.end());
    double lo = percentile(sorted, 0.05), hi = percentile(sorted, 0.95);
    if (!(hi > lo)) {
        lo = sorted.front();
        hi = sorted.back();
    }
    for (qint64 r = 0; r < n; ++r) {
        const double v = f.numbers[size_t(r)];
        if (std::isnan(v))
            continue;
        out[size_t(r)] = hi > lo ? (std::clamp(v, lo, hi) - lo) / (hi - lo) : 0.5;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Permutation importance

QString importanceMetricName(ImportanceMetric m)
{
    switch (m) {
    case ImportanceMetric::Auto: return QStringLiteral("auto");
    case ImportanceMetric::LogLoss: return QStringLiteral("log_loss");
    case ImportanceMetric::Accuracy: return QStringLiteral("accuracy");
    case ImportanceMetric::Rmse: return QStringLiteral("rmse");
    }
    return QStringLiteral("auto");
}

std::optional<ImportanceMetric> importanceMetricFromName(QStringView name)
{
    for (ImportanceMetric m : {ImportanceMetric::Auto, ImportanceMetric::LogLoss, ImportanceMetric::Accuracy,
                               ImportanceMetric::Rmse})
        if (name.compare(importanceMetricName(m), Qt::CaseInsensitive) == 0)
            return m;
    return std::nullopt;
}

Expected<PermutationImportance> permutationImportance(const ModelContext &ctx, const data::Table &table,
                                                      const PermutationOptions &options, Feedback *feedback)
{
    if (Status s = ctx.check(); !s)
        return s.error();
    if (options.repeats < 1)
        return fieldError(QStringLiteral("repeats"), QStringLiteral("must be at least 1"));
    const ml::Task task = ctx.task();
    ImportanceMetric metric = options.metric;
    if (metric == ImportanceMetric::Auto)
        metric = task == ml::Task::Regression ? ImportanceMetric::Rmse : ImportanceMetric::LogLoss;
    if ((metric == ImportanceMetric::Rmse) != (task == ml::Task::Regression))
        return fieldError(QStringLiteral("metric"), QStringLiteral("%1 does not apply to a %2 model")
                                                        .arg(importanceMetricName(metric), ml::taskName(task)));
    const bool loss = metric != ImportanceMetric::Accuracy;

    data::Table rows = table;
    if (options.maxRows > 0 && table.rowCount() > options.maxRows) {
        std::vector<qint64> pick = shuffledRows(table.rowCount(), options.seed);
        pick.resize(size_t(options.maxRows));
        std::sort(pick.begin(), pick.end());
        auto sel = selectRows(table, pick);
        if (!sel)
            return sel.error();
        rows = std::move(sel).value();
    }
    if (rows.rowCount() < 2)
        return makeError(QStringLiteral("permutation importance needs at least two rows"));
    auto y = ctx.target(rows);
    if (!y)
        return y.error();
    auto x = ctx.design(rows, feedback);
    if (!x)
        return x.error();
    const std::vector<std::vector<int>> groups = featureColumns(*x);
    const int K = ctx.model->numClasses();

    const auto score = [&](const ml::DesignMatrix &m) -> Expected<double> {
        auto p = ctx.predict(m);
        if (!p)
            return p.error();
        switch (metric) {
        case ImportanceMetric::LogLoss: return ml::logLoss(y->values, *p, K);
        case ImportanceMetric::Accuracy: {
            const std::vector<int> cls = predictedClasses(task, K, *p);
            const std::vector<double> pred(cls.begin(), cls.end());
            return ml::accuracy(y->values, pred);
        }
        case ImportanceMetric::Rmse:
        case ImportanceMetric::Auto: return ml::rmse(y->values, *p);
        }
        return std::nan("");
    };
    auto baseline = score(*x);
    if (!baseline)
        return baseline.error();

    QStringList features = options.features.isEmpty() ? ctx.features() : options.features;
    std::vector<int> featureIndex;
    for (const QString &f : features) {
        const int i = int(x->sourceFeatureNames.indexOf(f));
        if (i < 0)
            return fieldError(f, QStringLiteral("not a feature of the model"));
        featureIndex.push_back(i);
    }

    PermutationImportance out;
    out.metric = importanceMetricName(metric);
    out.baseline = *baseline;
    out.rows = rows.rowCount();
    out.repeats = options.repeats;
    out.seed = options.seed;
    out.features = features;
    out.drops.assign(featureIndex.size(), std::vector<double>(size_t(options.repeats), 0.0));
    const qint64 total = qint64(featureIndex.size()) * options.repeats;
    std::atomic<qint64> done{0};
    const qint64 n = x->rows;
    const int cols = x->cols;
    // One block per feature: the permuted copy is made once and its columns restored between repeats.
    Status s = parallelFor(qint64(featureIndex.size()), 1, options.threads, [&](qint64 begin, qint64 end) -> Status {
        ml::DesignMatrix work = *x;
        for (qint64 fi = begin; fi < end; ++fi) {
            const std::vector<int> &cs = groups[size_t(featureIndex[size_t(fi)])];
            for (int rep = 0; rep < options.repeats; ++rep) {
                if (isCancelled(feedback))
                    return cancelledError();
                std::vector<qint64> perm(static_cast<size_t>(n));
                std::iota(perm.begin(), perm.end(), qint64(0));
                Rng rng = Rng::forStream(options.seed, (quint64(featureIndex[size_t(fi)]) << 20) + quint64(rep));
                rng.shuffle(perm);
                for (qint64 r = 0; r < n; ++r)
                    for (int c : cs)
                        work.values[size_t(r) * size_t(cols) + size_t(c)] = x->values[size_t(perm[size_t(r)]) * size_t(cols) + size_t(c)];
                auto permuted = score(work);
                if (!permuted)
                    return permuted.error();
                out.drops[size_t(fi)][size_t(rep)] = loss ? *permuted - *baseline : *baseline - *permuted;
                reportProgress(feedback, ++done, total, QStringLiteral("permutation importance"));
            }
            for (qint64 r = 0; r < n; ++r)
                for (int c : cs)
                    work.values[size_t(r) * size_t(cols) + size_t(c)] = x->values[size_t(r) * size_t(cols) + size_t(c)];
        }
        return {};
    });
    if (!s)
        return s.error();
    for (const std::vector<double> &d : out.drops) {
        const double mean = std::accumulate(d.begin(), d.end(), 0.0) / double(d.size());
        double ss = 0;
        for (double v : d)
            ss += (v - mean) * (v - mean);
        out.mean.push_back(mean);
        out.std.push_back(std::sqrt(ss / double(d.size())));
    }
    return out;
}

QJsonObject PermutationImportance::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("metric"), metric);
    o.insert(QStringLiteral("baseline"), jsonNumber(baseline));
    o.insert(QStringLiteral("rows"), rows);
    o.insert(QStringLiteral("repeats"), repeats);
    o.insert(QStringLiteral("seed"), QString::number(seed));
    o.insert(QStringLiteral("features"), QJsonArray::fromStringList(features));
    o.insert(QStringLiteral("mean"), jsonNumbers(mean));
    o.insert(QStringLiteral("std"), jsonNumbers(std));
    o.insert(QStringLiteral("drops"), jsonMatrix(drops));
    return o;
}

Expected<PermutationImportance> PermutationImportance::fromJson(const QJsonObject &json)
{
    PermutationImportance p;
    p.metric = json.value(QStringLiteral("metric")).toString();
    p.baseline = numberFromJson(json.value(QStringLiteral("baseline")));
    p.rows = json.value(QStringLiteral("rows")).toInteger();
    p.repeats = json.value(QStringLiteral("repeats")).toInt();
    bool ok = false;
    p.seed = seedFromJson(json.value(QStringLiteral("seed")), &ok);
    if (!ok)
        return fieldError(QStringLiteral("seed"), QStringLiteral("not an unsigned integer"));
    p.features = stringsFromJson(json.value(QStringLiteral("features")));
    p.mean = numbersFromJson(json.value(QStringLiteral("mean")).toArray());
    p.std = numbersFromJson(json.value(QStringLiteral("std")).toArray());
    p.drops = matrixFromJson(json.value(QStringLiteral("drops")));
    const size_t f = size_t(p.features.size());
    if (p.mean.size() != f || p.std.size() != f || p.drops.size() != f)
        return fieldError(QStringLiteral("features"), QStringLiteral("mean, std and drops need one entry per feature"));
    for (const std::vector<double> &d : p.drops)
        if (d.size() != size_t(p.repeats))
            return fieldError(QStringLiteral("drops"), QStringLiteral("needs one value per repeat"));
    return p;
}

// ---------------------------------------------------------------------------------------------------------------
// Partial dependence

Expected<PartialDependence> partialDependence(const ModelContext &ctx, const data::Table &table,
                                              const PartialDependenceOptions &options, Feedback *feedback)
{
    if (Status s = ctx.check(); !s)
        return s.error();
    if (table.rowCount() < 1)
        return makeError(QStringLiteral("partial dependence needs at least one row"));
    auto fv = ctx.featureValues(table, options.feature);
    if (!fv)
        return fv.error();
    const ml::Task task = ctx.task();
    const int K = ctx.model->numClasses();
    int classIndex = options.classIndex;
    if (task == ml::Task::Regression)
        classIndex = -1;
    else if (classIndex < 0)
        classIndex = task == ml::Task::BinaryClassification ? 1 : 0;
    if (task != ml::Task::Regression && classIndex >= K)
        return fieldError(QStringLiteral("classIndex"), QStringLiteral("class %1 is out of range").arg(classIndex));

    PartialDependence out;
    out.feature = options.feature;
    out.categorical = fv->categorical;
    out.datetime = fv->datetime;
    out.scale = options.scale == OutputScale::Margin ? QStringLiteral("margin") : QStringLiteral("prediction");
    out.classIndex = classIndex;
    out.className = classIndex >= 0 ? ctx.classes().value(classIndex) : QString();
    out.seed = options.seed;

    // Grid and, for each grid value, a donor row holding it.
    std::vector<qint64> donors;
    if (fv->categorical) {
        for (qsizetype k = 0; k < fv->categories.size(); ++k) {
            const auto it = std::find(fv->codes.begin(), fv->codes.end(), int(k));
            donors.push_back(qint64(it - fv->codes.begin()));
            out.grid.push_back(double(k));
            out.gridLabels.append(fv->categories[k]);
        }
    } else {
        out.grid = quantileGrid(fv->numbers, options.gridPoints);
        for (double g : out.grid) {
            const auto it = std::find(fv->numbers.begin(), fv->numbers.end(), g);
            const qint64 r = qint64(it - fv->numbers.begin());
            donors.push_back(r);
            out.gridLabels.append(fv->display(r));
        }
    }
    if (donors.empty())
        return fieldError(options.feature, QStringLiteral("has no values to build a grid from"));

    const std::vector<qint64> order = shuffledRows(table.rowCount(), options.seed);
    std::vector<qint64> averaged(order.begin(), order.begin() + std::min<qint64>(qint64(order.size()), std::max<qint64>(1, options.maxRows)));
    std::vector<qint64> ice(averaged.begin(), averaged.begin() + std::min<qint64>(qint64(averaged.size()), std::max(0, options.iceRows)));
    std::sort(averaged.begin(), averaged.end());
    std::sort(ice.begin(), ice.end());
    std::vector<qint64> icePos;
    for (qint64 r : ice)
        icePos.push_back(qint64(std::lower_bound(averaged.begin(), averaged.end(), r) - averaged.begin()));

    auto rowsTable = selectRows(table, averaged);
    if (!rowsTable)
        return rowsTable.error();
    auto donorTable = selectRows(table, donors);
    if (!donorTable)
        return donorTable.error();
    auto x = ctx.design(*rowsTable, feedback);
    if (!x)
        return x.error();
    auto dx = ctx.design(*donorTable, feedback);
    if (!dx)
        return dx.error();
    const int fi = ctx.featureIndex(options.feature);
    const std::vector<int> cols = featureColumns(*x)[size_t(fi)];

    const qint64 G = qint64(donors.size());
    const qint64 n = x->rows;
    out.rows = n;
    out.iceRows = ice;
    out.average.assign(size_t(G), 0.0);
    out.ice.assign(ice.size(), std::vector<double>(size_t(G), 0.0));
    std::atomic<qint64> done{0};
    Status s = parallelFor(G, 1, options.threads, [&](qint64 begin, qint64 end) -> Status {
        ml::DesignMatrix work = *x;
        for (qint64 g = begin; g < end; ++g) {
            if (isCancelled(feedback))
                return cancelledError();
            for (qint64 r = 0; r < n; ++r)
                for (int c : cols)
                    work.at(r, c) = dx->at(g, c);
            auto pred = options.scale == OutputScale::Margin ? ctx.margin(work) : ctx.predict(work);
            if (!pred)
                return pred.error();
            double sum = 0;
            for (qint64 r = 0; r < n; ++r)
                sum += outputOf(*pred, r, task, K, classIndex, options.scale);
            out.average[size_t(g)] = sum / double(n);
            for (size_t i = 0; i < icePos.size(); ++i)
                out.ice[i][size_t(g)] = outputOf(*pred, icePos[i], task, K, classIndex, options.scale);
            reportProgress(feedback, ++done, G, QStringLiteral("partial dependence"));
        }
        return {};
    });
    if (!s)
        return s.error();
    return out;
}

QJsonObject PartialDependence::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("feature"), feature);
    o.insert(QStringLiteral("categorical"), categorical);
    o.insert(QStringLiteral("datetime"), datetime);
    o.insert(QStringLiteral("scale"), scale);
    o.insert(QStringLiteral("class_index"), classIndex);
    o.insert(QStringLiteral("class_name"), className);
    o.insert(QStringLiteral("grid"), jsonNumbers(grid));
    o.insert(QStringLiteral("grid_labels"), QJsonArray::fromStringList(gridLabels));
    o.insert(QStringLiteral("average"), jsonNumbers(average));
    o.insert(QStringLiteral("ice_rows"), jsonRows(iceRows));
    o.insert(QStringLiteral("ice"), jsonMatrix(ice));
    o.insert(QStringLiteral("rows"), rows);
    o.insert(QStringLiteral("seed"), QString::number(seed));
    return o;
}

Expected<PartialDependence> PartialDependence::fromJson(const QJsonObject &json)
{
    PartialDependence p;
    p.feature = json.value(QStringLiteral("feature")).toString();
    p.categorical = json.value(QStringLiteral("categorical")).toBool();
    p.datetime = json.value(QStringLiteral("datetime")).toBool();
    p.scale = json.value(QStringLiteral("scale")).toString();
    p.classIndex = json.value(QStringLiteral("class_index")).toInt(-1);
    p.className = json.value(QStringLiteral("class_name")).toString();
    p.grid = numbersFromJson(json.value(QStringLiteral("grid")).toArray());
    p.gridLabels = stringsFromJson(json.value(QStringLiteral("grid_labels")));
    p.average = numbersFromJson(json.value(QStringLiteral("average")).toArray());
    p.iceRows = rowsFromJson(json.value(QStringLiteral("ice_rows")));
    p.ice = matrixFromJson(json.value(QStringLiteral("ice")));
    p.rows = json.value(QStringLiteral("rows")).toInteger();
    bool ok = false;
    p.seed = seedFromJson(json.value(QStringLiteral("seed")), &ok);
    if (!ok)
        return fieldError(QStringLiteral("seed"), QStringLiteral("not an unsigned integer"));
    if (p.gridLabels.size() != qsizetype(p.grid.size()) || p.average.size() != p.grid.size())
        return fieldError(QStringLiteral("grid"), QStringLiteral("grid, grid_labels and average need the same length"));
    if (p.ice.size() != p.iceRows.size())
        return fieldError(QStringLiteral("ice"), QStringLiteral("needs one curve per ICE row"));
    for (const std::vector<double> &c : p.ice)
        if (c.size() != p.grid.size())
            return fieldError(QStringLiteral("ice"), QStringLiteral("needs one value per grid point"));
    return p;
}

// ---------------------------------------------------------------------------------------------------------------
// SHAP summary and dependence

namespace {

Expected<Attribution> checkedAttribution(const Attribution &a, const ModelContext &ctx, const data::Table &rows, int output)
{
    if (Status s = ctx.check(); !s)
        return s.error();
    if (a.rows != rows.rowCount())
        return makeError(QStringLiteral("the attribution has %1 rows but the table has %2").arg(a.rows).arg(rows.rowCount()));
    if (output < 0 || output >= a.outputs)
        return fieldError(QStringLiteral("output"), QStringLiteral("output %1 is out of range").arg(output));
    return toSourceFeatures(a, ctx);
}

} // namespace

Expected<ShapSummary> shapSummary(const Attribution &attribution, const ModelContext &ctx, const data::Table &rows, int output)
{
    auto a = checkedAttribution(attribution, ctx, rows, output);
    if (!a)
        return a.error();
    auto values = ctx.featureValues(rows);
    if (!values)
        return values.error();
    ShapSummary out;
    out.method = a->method;
    out.output = output;
    out.rows = a->rows;
    for (int f = 0; f < a->featureCount(); ++f) {
        const FeatureValues &fv = (*values)[size_t(f)];
        ShapSummary::Feature sf;
        sf.name = fv.name;
        sf.categorical = fv.categorical;
        sf.categories = fv.categories;
        double sum = 0;
        for (qint64 r = 0; r < a->rows; ++r) {
            const double v = a->value(r, output, f);
            sf.shap.push_back(v);
            sf.value.push_back(fv.numberOrCode(r));
            sum += std::abs(v);
        }
        sf.meanAbs = a->rows > 0 ? sum / double(a->rows) : 0.0;
        sf.colour = colourScale(fv);
        out.features.push_back(std::move(sf));
    }
    std::stable_sort(out.features.begin(), out.features.end(),
                     [](const ShapSummary::Feature &l, const ShapSummary::Feature &r) { return l.meanAbs > r.meanAbs; });
    return out;
}

QJsonObject ShapSummary::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("method"), method);
    o.insert(QStringLiteral("output"), output);
    o.insert(QStringLiteral("rows"), rows);
    QJsonArray fs;
    for (const Feature &f : features) {
        QJsonObject fo;
        fo.insert(QStringLiteral("name"), f.name);
        fo.insert(QStringLiteral("categorical"), f.categorical);
        fo.insert(QStringLiteral("categories"), QJsonArray::fromStringList(f.categories));
        fo.insert(QStringLiteral("shap"), jsonNumbers(f.shap));
        fo.insert(QStringLiteral("value"), jsonNumbers(f.value));
        fo.insert(QStringLiteral("colour"), jsonNumbers(f.colour));
        fo.insert(QStringLiteral("mean_abs"), jsonNumber(f.meanAbs));
        fs.append(fo);
    }
    o.insert(QStringLiteral("features"), fs);
    return o;
}

Expected<ShapSummary> ShapSummary::fromJson(const QJsonObject &json)
{
    ShapSummary s;
    s.method = json.value(QStringLiteral("method")).toString();
    s.output = json.value(QStringLiteral("output")).toInt();
    s.rows = json.value(QStringLiteral("rows")).toInteger();
    for (const QJsonValue &v : json.value(QStringLiteral("features")).toArray()) {
        const QJsonObject fo = v.toObject();
        Feature f;
        f.name = fo.value(QStringLiteral("name")).toString();
        f.categorical = fo.value(QStringLiteral("categorical")).toBool();
        f.categories = stringsFromJson(fo.value(QStringLiteral("categories")));
        f.shap = numbersFromJson(fo.value(QStringLiteral("shap")).toArray());
        f.value = numbersFromJson(fo.value(QStringLiteral("value")).toArray());
        f.colour = numbersFromJson(fo.value(QStringLiteral("colour")).toArray());
        f.meanAbs = numberFromJson(fo.value(QStringLiteral("mean_abs")));
        if (f.shap.size() != size_t(s.rows) || f.value.size() != size_t(s.rows) || f.colour.size() != size_t(s.rows))
            return fieldError(f.name, QStringLiteral("needs one shap, value and colour per row"));
        s.features.push_back(std::move(f));
    }
    return s;
}

Expected<ShapDependence> shapDependence(const Attribution &attribution, const ModelContext &ctx, const data::Table &rows,
                                        const QString &feature, const QString &colourFeature, int output)
{
    auto a = checkedAttribution(attribution, ctx, rows, output);
    if (!a)
        return a.error();
    const int fi = int(a->features.indexOf(feature));
    if (fi < 0)
        return fieldError(feature, QStringLiteral("not a feature of the attribution"));
    auto fa = ctx.featureValues(rows, feature);
    if (!fa)
        return fa.error();
    auto fb = ctx.featureValues(rows, colourFeature);
    if (!fb)
        return fb.error();
    ShapDependence d;
    d.feature = feature;
    d.colourFeature = colourFeature;
    d.output = output;
    d.categorical = fa->categorical;
    d.categories = fa->categories;
    d.colourCategorical = fb->categorical;
    d.colourCategories = fb->categories;
    for (qint64 r = 0; r < a->rows; ++r) {
        d.x.push_back(fa->numberOrCode(r));
        d.shap.push_back(a->value(r, output, fi));
        d.colourValue.push_back(fb->numberOrCode(r));
    }
    d.colour = colourScale(*fb);
    return d;
}

QJsonObject ShapDependence::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("feature"), feature);
    o.insert(QStringLiteral("colour_feature"), colourFeature);
    o.insert(QStringLiteral("output"), output);
    o.insert(QStringLiteral("categorical"), categorical);
    o.insert(QStringLiteral("categories"), QJsonArray::fromStringList(categories));
    o.insert(QStringLiteral("x"), jsonNumbers(x));
    o.insert(QStringLiteral("shap"), jsonNumbers(shap));
    o.insert(QStringLiteral("colour_categorical"), colourCategorical);
    o.insert(QStringLiteral("colour_categories"), QJsonArray::fromStringList(colourCategories));
    o.insert(QStringLiteral("colour_value"), jsonNumbers(colourValue));
    o.insert(QStringLiteral("colour"), jsonNumbers(colour));
    return o;
}

Expected<ShapDependence> ShapDependence::fromJson(const QJsonObject &json)
{
    ShapDependence d;
    d.feature = json.value(QStringLiteral("feature")).toString();
    d.colourFeature = json.value(QStringLiteral("colour_feature")).toString();
    d.output = json.value(QStringLiteral("output")).toInt();
    d.categorical = json.value(QStringLiteral("categorical")).toBool();
    d.categories = stringsFromJson(json.value(QStringLiteral("categories")));
    d.x = numbersFromJson(json.value(QStringLiteral("x")).toArray());
    d.shap = numbersFromJson(json.value(QStringLiteral("shap")).toArray());
    d.colourCategorical = json.value(QStringLiteral("colour_categorical")).toBool();
    d.colourCategories = stringsFromJson(json.value(QStringLiteral("colour_categories")));
    d.colourValue = numbersFromJson(json.value(QStringLiteral("colour_value")).toArray());
    d.colour = numbersFromJson(json.value(QStringLiteral("colour")).toArray());
    const size_t n = d.x.size();
    if (d.shap.size() != n || d.colourValue.size() != n || d.colour.size() != n)
        return fieldError(QStringLiteral("x"), QStringLiteral("x, shap, colour_value and colour need the same length"));
    return d;
}

} // namespace keel::explain
