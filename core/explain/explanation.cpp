#include "explain/explanation.h"

#include "explain/explainer.h"

#include <QJsonArray>
#include <QLocale>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace keel::explain {

namespace {

Error fieldError(const QString &field, const QString &message)
{
    return makeError(ErrorKind::InvalidInput, message, {}, -1, field);
}

/// The error of a nested part, its field prefixed with where the part sits.
Error within(const QString &prefix, Error e)
{
    e.field = e.field.isEmpty() ? prefix : prefix + QLatin1Char('.') + e.field;
    if (e.kind == ErrorKind::Failed)
        e.kind = ErrorKind::InvalidInput;
    return e;
}

QStringList strings(const QJsonValue &v)
{
    QStringList out;
    for (const QJsonValue &s : v.toArray())
        out << s.toString();
    return out;
}

QString num(double v, int digits = 4) { return std::isnan(v) ? QStringLiteral("-") : QString::number(v, 'g', digits); }

} // namespace

// ---- interactions -----------------------------------------------------------------------------------------------

double InteractionValues::pair(qint64 r, int o, int i, int j) const
{
    const size_t base = size_t((r * outputs + o) * k());
    return values[(base + size_t(i)) * size_t(k()) + size_t(j)] + values[(base + size_t(j)) * size_t(k()) + size_t(i)];
}

QJsonObject InteractionValues::toJson() const
{
    return QJsonObject{{QStringLiteral("method"), method},
                       {QStringLiteral("features"), QJsonArray::fromStringList(features)},
                       {QStringLiteral("outputs"), outputs},
                       {QStringLiteral("values"), jsonNumbers(values)},
                       {QStringLiteral("rest"), jsonNumbers(rest)},
                       {QStringLiteral("note"), QStringLiteral("design-matrix columns; values[row][output][i][j], "
                                                               "rest[row][output][i] (interactions with the other columns)")}};
}

Expected<InteractionValues> InteractionValues::fromJson(const QJsonObject &json)
{
    InteractionValues in;
    in.method = json.value(QStringLiteral("method")).toString();
    in.features = strings(json.value(QStringLiteral("features")));
    in.outputs = json.value(QStringLiteral("outputs")).toInt(1);
    in.values = numbersFromJson(json.value(QStringLiteral("values")).toArray());
    in.rest = numbersFromJson(json.value(QStringLiteral("rest")).toArray());
    const size_t k = size_t(in.k());
    if (in.outputs < 1)
        return fieldError(QStringLiteral("outputs"), QStringLiteral("must be at least 1"));
    if (k == 0 ? !in.values.empty() : in.values.size() % (size_t(in.outputs) * k * k) != 0)
        return fieldError(QStringLiteral("values"), QStringLiteral("needs rows x outputs x k x k values"));
    const size_t rows = k == 0 ? 0 : in.values.size() / (size_t(in.outputs) * k * k);
    if (in.rest.size() != rows * size_t(in.outputs) * k)
        return fieldError(QStringLiteral("rest"), QStringLiteral("needs rows x outputs x k values"));
    return in;
}

std::vector<InteractionPair> strongestInteractions(const InteractionValues &in, qint64 r, int o, int n)
{
    std::vector<InteractionPair> pairs;
    for (int x = 0; x < in.k(); ++x)
        for (int y = x + 1; y < in.k(); ++y)
            pairs.push_back({in.features[x], in.features[y], in.pair(r, o, x, y)});
    std::stable_sort(pairs.begin(), pairs.end(),
                     [](const InteractionPair &p, const InteractionPair &q) { return std::abs(p.value) > std::abs(q.value); });
    if (pairs.size() > size_t(std::max(n, 0)))
        pairs.resize(size_t(std::max(n, 0)));
    return pairs;
}

// ---- local and global -------------------------------------------------------------------------------------------

std::span<const double> LocalExplanations::predictionOf(qint64 i) const
{
    const size_t width = rows.empty() ? 0 : prediction.size() / rows.size();
    return std::span<const double>(prediction).subspan(size_t(i) * width, width);
}

QStringList GlobalExplanation::order() const
{
    QStringList out;
    for (const FeatureImportance &f : importance)
        out << f.feature;
    return out;
}

namespace {

QJsonObject localToJson(const LocalExplanations &l)
{
    QJsonArray rows, values;
    for (qint64 r : l.rows)
        rows.append(r);
    for (const QStringList &v : l.values)
        values.append(QJsonArray::fromStringList(v));
    QJsonObject o{{QStringLiteral("rows"), rows},
                  {QStringLiteral("attribution"), attributionToJson(l.attribution)},
                  {QStringLiteral("prediction"), jsonNumbers(l.prediction)},
                  {QStringLiteral("margin"), jsonNumbers(l.margin)},
                  {QStringLiteral("values"), values},
                  {QStringLiteral("max_abs_residual"), jsonNumber(l.attribution.maxAbsResidual())}};
    if (!l.actual.isEmpty())
        o.insert(QStringLiteral("actual"), QJsonArray::fromStringList(l.actual));
    if (l.interactions)
        o.insert(QStringLiteral("interactions"), l.interactions->toJson());
    return o;
}

Expected<LocalExplanations> localFromJson(const QJsonObject &o)
{
    LocalExplanations l;
    for (const QJsonValue &r : o.value(QStringLiteral("rows")).toArray()) {
        if (!r.isDouble() || r.toInteger(-1) < 1)
            return fieldError(QStringLiteral("rows"), QStringLiteral("row numbers are 1-based integers"));
        l.rows.push_back(r.toInteger());
    }
    auto a = attributionFromJson(o.value(QStringLiteral("attribution")).toObject());
    if (!a)
        return within(QStringLiteral("attribution"), a.error());
    l.attribution = std::move(*a);
    if (l.attribution.rows != l.count())
        return fieldError(QStringLiteral("attribution"), QStringLiteral("explains %1 rows, not the %2 listed")
                                                             .arg(l.attribution.rows).arg(l.count()));
    l.prediction = numbersFromJson(o.value(QStringLiteral("prediction")).toArray());
    if (l.rows.empty() ? !l.prediction.empty() : (l.prediction.empty() || l.prediction.size() % l.rows.size() != 0))
        return fieldError(QStringLiteral("prediction"), QStringLiteral("needs the same number of values for every row"));
    l.margin = numbersFromJson(o.value(QStringLiteral("margin")).toArray());
    if (l.margin.size() != l.rows.size() * size_t(l.attribution.outputs))
        return fieldError(QStringLiteral("margin"), QStringLiteral("needs rows x outputs values"));
    for (const QJsonValue &v : o.value(QStringLiteral("values")).toArray())
        l.values.push_back(strings(v));
    if (l.values.size() != l.rows.size())
        return fieldError(QStringLiteral("values"), QStringLiteral("needs one list of values per row"));
    l.actual = strings(o.value(QStringLiteral("actual")));
    if (!l.actual.isEmpty() && l.actual.size() != l.count())
        return fieldError(QStringLiteral("actual"), QStringLiteral("needs one value per row"));
    if (o.contains(QStringLiteral("interactions"))) {
        auto in = InteractionValues::fromJson(o.value(QStringLiteral("interactions")).toObject());
        if (!in)
            return within(QStringLiteral("interactions"), in.error());
        l.interactions = std::move(*in);
    }
    return l;
}

QJsonObject globalToJson(const GlobalExplanation &g)
{
    QJsonArray importance;
    for (const FeatureImportance &f : g.importance)
        importance.append(QJsonObject{{QStringLiteral("feature"), f.feature},
                                      {QStringLiteral("mean_abs_shap"), jsonNumber(f.meanAbsShap)}});
    QJsonObject o{{QStringLiteral("rows"), g.rows},
                  {QStringLiteral("output"), g.output},
                  {QStringLiteral("base"), jsonNumber(g.base)},
                  {QStringLiteral("max_abs_residual"), jsonNumber(g.maxAbsResidual)},
                  {QStringLiteral("importance"), importance},
                  {QStringLiteral("summary"), g.summary.toJson()}};
    if (g.permutation)
        o.insert(QStringLiteral("permutation"), g.permutation->toJson());
    if (g.pdp)
        o.insert(QStringLiteral("pdp"), g.pdp->toJson());
    if (g.dependence)
        o.insert(QStringLiteral("dependence"), g.dependence->toJson());
    return o;
}

template <class T>
Status optionalPart(const QJsonObject &o, const QString &key, std::optional<T> &out)
{
    if (!o.contains(key))
        return {};
    auto part = T::fromJson(o.value(key).toObject());
    if (!part)
        return within(key, part.error());
    out = std::move(*part);
    return {};
}

Expected<GlobalExplanation> globalFromJson(const QJsonObject &o)
{
    GlobalExplanation g;
    g.rows = o.value(QStringLiteral("rows")).toInteger(0);
    g.output = o.value(QStringLiteral("output")).toInt(0);
    if (g.output < 0)
        return fieldError(QStringLiteral("output"), QStringLiteral("must not be negative"));
    g.base = numberFromJson(o.value(QStringLiteral("base")));
    g.maxAbsResidual = numberFromJson(o.value(QStringLiteral("max_abs_residual")));
    for (const QJsonValue &v : o.value(QStringLiteral("importance")).toArray()) {
        const QJsonObject f = v.toObject();
        g.importance.push_back({f.value(QStringLiteral("feature")).toString(),
                                numberFromJson(f.value(QStringLiteral("mean_abs_shap")))});
    }
    if (g.importance.empty())
        return fieldError(QStringLiteral("importance"), QStringLiteral("lists no feature"));
    auto summary = ShapSummary::fromJson(o.value(QStringLiteral("summary")).toObject());
    if (!summary)
        return within(QStringLiteral("summary"), summary.error());
    g.summary = std::move(*summary);
    if (Status s = optionalPart(o, QStringLiteral("permutation"), g.permutation); !s)
        return s.error();
    if (Status s = optionalPart(o, QStringLiteral("pdp"), g.pdp); !s)
        return s.error();
    if (Status s = optionalPart(o, QStringLiteral("dependence"), g.dependence); !s)
        return s.error();
    return g;
}

} // namespace

// ---- the report -------------------------------------------------------------------------------------------------

QString ExplanationReport::populationText() const
{
    return testRows ? QStringLiteral("the run's test rows") : QStringLiteral("all rows");
}

QJsonObject ExplanationReport::toJson() const
{
    QJsonObject o{{QStringLiteral("format"), QStringLiteral("keel-explanation")},
                  {QStringLiteral("version"), version},
                  {QStringLiteral("run"), runId},
                  {QStringLiteral("run_name"), runName},
                  {QStringLiteral("model"), modelId},
                  {QStringLiteral("model_kind"), modelKind},
                  {QStringLiteral("recipe"), recipeId},
                  {QStringLiteral("task"), ml::taskName(task)},
                  {QStringLiteral("classes"), QJsonArray::fromStringList(classes)},
                  {QStringLiteral("features"), QJsonArray::fromStringList(features)},
                  {QStringLiteral("data"), data},
                  {QStringLiteral("data_content_id"), dataContentId},
                  {QStringLiteral("data_rows"), dataRows},
                  {QStringLiteral("population"), populationText()},
                  {QStringLiteral("population_rows"), populationRows},
                  {QStringLiteral("row_numbers"), QStringLiteral("1-based data rows of the version")},
                  {QStringLiteral("method"), method},
                  {QStringLiteral("scale"), QStringLiteral("margin")},
                  {QStringLiteral("request"), request},
                  {QStringLiteral("created"), created.toUTC().toString(Qt::ISODateWithMs)},
                  {QStringLiteral("keel_version"), keelVersion}};
    if (local)
        o.insert(QStringLiteral("local"), localToJson(*local));
    if (global)
        o.insert(QStringLiteral("global"), globalToJson(*global));
    if (fairness)
        o.insert(QStringLiteral("fairness"), fairness->toJson());
    return o;
}

Expected<ExplanationReport> ExplanationReport::fromJson(const QJsonObject &json)
{
    if (json.value(QStringLiteral("format")).toString() != u"keel-explanation")
        return fieldError(QStringLiteral("format"), QStringLiteral("not a keel-explanation document"));
    ExplanationReport r;
    r.version = json.value(QStringLiteral("version")).toInt(0);
    if (r.version < 1 || r.version > kVersion)
        return fieldError(QStringLiteral("version"),
                          QStringLiteral("version %1 is not one this Keel reads (1 to %2)").arg(r.version).arg(kVersion));
    r.runId = json.value(QStringLiteral("run")).toString();
    r.runName = json.value(QStringLiteral("run_name")).toString();
    r.modelId = json.value(QStringLiteral("model")).toString();
    r.modelKind = json.value(QStringLiteral("model_kind")).toString();
    r.recipeId = json.value(QStringLiteral("recipe")).toString();
    const auto task = ml::taskFromName(json.value(QStringLiteral("task")).toString());
    if (!task)
        return fieldError(QStringLiteral("task"), QStringLiteral("'%1' is not regression, binary or multiclass")
                                                      .arg(json.value(QStringLiteral("task")).toString()));
    r.task = *task;
    r.classes = strings(json.value(QStringLiteral("classes")));
    r.features = strings(json.value(QStringLiteral("features")));
    r.data = json.value(QStringLiteral("data")).toString();
    r.dataContentId = json.value(QStringLiteral("data_content_id")).toString();
    r.dataRows = json.value(QStringLiteral("data_rows")).toInteger(0);
    r.testRows = json.value(QStringLiteral("population")).toString() == u"the run's test rows";
    r.populationRows = json.value(QStringLiteral("population_rows")).toInteger(r.dataRows);
    r.method = json.value(QStringLiteral("method")).toString();
    r.request = json.value(QStringLiteral("request")).toObject();
    r.created = QDateTime::fromString(json.value(QStringLiteral("created")).toString(), Qt::ISODateWithMs);
    r.keelVersion = json.value(QStringLiteral("keel_version")).toString();
    if (json.contains(QStringLiteral("local"))) {
        auto l = localFromJson(json.value(QStringLiteral("local")).toObject());
        if (!l)
            return within(QStringLiteral("local"), l.error());
        r.local = std::move(*l);
    }
    if (json.contains(QStringLiteral("global"))) {
        auto g = globalFromJson(json.value(QStringLiteral("global")).toObject());
        if (!g)
            return within(QStringLiteral("global"), g.error());
        // Reports written before the explained class was recorded name it only in their request.
        if (!json.value(QStringLiteral("global")).toObject().contains(QStringLiteral("output")))
            g->output = std::max(0, r.request.value(QStringLiteral("output")).toInt(0));
        if (r.task == ml::Task::MulticlassClassification && g->output >= r.classes.size())
            return fieldError(QStringLiteral("global.output"), QStringLiteral("names class %1 of %2").arg(g->output).arg(r.classes.size()));
        r.global = std::move(*g);
    }
    if (Status s = optionalPart(json, QStringLiteral("fairness"), r.fairness); !s)
        return s.error();
    return r;
}

// ---- presentation -----------------------------------------------------------------------------------------------

int explainedOutput(ml::Task task, std::span<const double> prediction)
{
    if (task != ml::Task::MulticlassClassification || prediction.empty())
        return 0;
    return int(std::max_element(prediction.begin(), prediction.end()) - prediction.begin());
}

PredictionText describePrediction(ml::Task task, const QStringList &classes, std::span<const double> prediction,
                                  int shownClass)
{
    PredictionText t;
    t.task = task;
    t.output = explainedOutput(task, prediction);
    const int predicted = t.output;
    if (task == ml::Task::MulticlassClassification && shownClass >= 0 && size_t(shownClass) < prediction.size())
        t.output = shownClass;
    t.value = prediction.empty() ? std::nan("") : prediction[size_t(t.output)];
    switch (task) {
    case ml::Task::BinaryClassification:
        t.quantity = QStringLiteral("P(%1)").arg(classes.value(1, QStringLiteral("class 1")));
        t.predictedLabel = classes.value(t.value >= 0.5 ? 1 : 0, QString::number(t.value >= 0.5 ? 1 : 0));
        break;
    case ml::Task::MulticlassClassification:
        t.quantity = QStringLiteral("P(%1)").arg(classes.value(t.output, QStringLiteral("class %1").arg(t.output)));
        t.predictedLabel = classes.value(predicted, QString::number(predicted));
        t.predictedShown = t.output == predicted;
        break;
    case ml::Task::Regression: t.quantity = QStringLiteral("prediction"); break;
    }
    return t;
}

Expected<int> classIndex(const QStringList &classes, const QString &name)
{
    const qsizetype exact = classes.indexOf(name);
    if (exact >= 0)
        return int(exact);
    QStringList caseOnly;
    for (const QString &c : classes)
        if (c.compare(name, Qt::CaseInsensitive) == 0)
            caseOnly << c;
    if (!caseOnly.isEmpty())
        return makeError(ErrorKind::NotFound,
                         QStringLiteral("no class '%1' (class names are case-sensitive; did you mean %2?)")
                             .arg(name, QLatin1Char('\'') + caseOnly.join(QStringLiteral("' or '")) + QLatin1Char('\'')),
                         {}, -1, QStringLiteral("class"));
    return makeError(ErrorKind::NotFound,
                     QStringLiteral("no class '%1'; the classes are: %2").arg(name, classes.join(QStringLiteral(", "))), {}, -1,
                     QStringLiteral("class"));
}

QString PredictionText::text() const
{
    switch (task) {
    case ml::Task::BinaryClassification: return QStringLiteral("%1 = %2 \u2192 %3").arg(quantity, num(value), predictedLabel);
    case ml::Task::MulticlassClassification:
        return predictedShown ? QStringLiteral("%1 = %2 (the predicted class)").arg(quantity, num(value))
                              : QStringLiteral("%1 = %2 (predicted: %3)").arg(quantity, num(value), predictedLabel);
    case ml::Task::Regression: break;
    }
    return QStringLiteral("%1 = %2").arg(quantity, num(value, 5));
}

QString marginName(ml::Task task, const QStringList &classes, int k)
{
    switch (task) {
    case ml::Task::BinaryClassification: return QStringLiteral("log-odds of %1").arg(classes.value(1, QStringLiteral("class 1")));
    case ml::Task::MulticlassClassification:
        return QStringLiteral("score of %1").arg(classes.value(k, QStringLiteral("class %1").arg(k)));
    case ml::Task::Regression: break;
    }
    return QStringLiteral("prediction");
}

QString marginUnit(ml::Task task)
{
    switch (task) {
    case ml::Task::BinaryClassification: return QStringLiteral("log-odds");
    case ml::Task::MulticlassClassification: return QStringLiteral("class score");
    case ml::Task::Regression: break;
    }
    return QStringLiteral("prediction");
}

std::vector<ContributionLine> topContributions(const QStringList &features, std::span<const double> contributions,
                                               const QStringList &values, int top)
{
    std::vector<int> order(contributions.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return std::abs(contributions[size_t(a)]) > std::abs(contributions[size_t(b)]);
    });
    const size_t shown = std::min(order.size(), size_t(std::max(top, 0)));
    std::vector<ContributionLine> lines;
    for (size_t i = 0; i < shown; ++i) {
        const int f = order[i];
        ContributionLine l;
        l.feature = f < features.size() ? features[f] : QStringLiteral("f%1").arg(f);
        l.value = f < values.size() ? values[f] : QString();
        l.contribution = contributions[size_t(f)];
        lines.push_back(l);
    }
    if (order.size() > shown) {
        ContributionLine other;
        other.features = int(order.size() - shown);
        for (size_t i = shown; i < order.size(); ++i)
            other.contribution += contributions[size_t(order[i])];
        lines.push_back(other);
    }
    return lines;
}

} // namespace keel::explain
