#include "explain/whatif.h"

#include "explain/global.h"

#include <QDateTime>
#include <QJsonArray>
#include <QTimeZone>

#include <algorithm>
#include <cmath>
#include <map>

namespace keel::explain {

namespace {

Error fieldError(const QString &field, const QString &message) { return makeError(message, {}, -1, field); }

QString fromView(std::string_view s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }

QJsonValue variantToJson(const QVariant &v)
{
    if (!v.isValid() || v.isNull())
        return QJsonValue(QJsonValue::Null);
    if (v.typeId() == QMetaType::QDateTime)
        return QJsonValue(v.toDateTime().toUTC().toString(Qt::ISODateWithMs));
    return QJsonValue::fromVariant(v);
}

QVariant variantFromJson(const QJsonValue &v) { return v.isNull() || v.isUndefined() ? QVariant() : v.toVariant(); }

QJsonObject mapToJson(const QVariantMap &m)
{
    QJsonObject o;
    for (auto it = m.constBegin(); it != m.constEnd(); ++it)
        o.insert(it.key(), variantToJson(it.value()));
    return o;
}

QVariantMap mapFromJson(const QJsonValue &v)
{
    QVariantMap m;
    const QJsonObject o = v.toObject();
    for (auto it = o.constBegin(); it != o.constEnd(); ++it)
        m.insert(it.key(), variantFromJson(it.value()));
    return m;
}

QStringList stringsFromJson(const QJsonValue &v)
{
    QStringList out;
    for (const QJsonValue &s : v.toArray())
        out.append(s.toString());
    return out;
}

// Probability of class k from one row of Model::predict output.
double probabilityOf(const double *p, ml::Task task, int k)
{
    if (task == ml::Task::BinaryClassification)
        return k == 1 ? p[0] : 1.0 - p[0];
    return p[k];
}

// ---------------------------------------------------------------------------------------------------------------
// Counterfactual search state

struct Candidate {
    QVariant value;
    double number = std::nan("");  // numeric features: the value; else NaN
    double distance = 1;
};

struct Changeable {
    QString name;
    enum class Kind { Numeric, Datetime, Bool, Categorical } kind = Kind::Numeric;
    bool integer = false;
    QVariant current;
    double currentNumber = std::nan(""); // numeric kinds with a present value
    double range = 0;
    std::vector<Candidate> candidates;

    bool shrinkable() const { return (kind == Kind::Numeric || kind == Kind::Datetime) && !std::isnan(currentNumber); }
    QVariant valueOf(double v) const
    {
        if (kind == Kind::Datetime)
            return QVariant(QDateTime::fromMSecsSinceEpoch(qint64(std::llround(v)), QTimeZone::utc()));
        if (integer)
            return QVariant(qlonglong(std::llround(v)));
        return QVariant(v);
    }
    double distanceOf(double v) const
    {
        if (std::isnan(currentNumber))
            return 1.0;
        return range > 0 ? std::abs(v - currentNumber) / range : 1.0;
    }
};

struct Change {
    int feature = 0;          // index into the changeable features
    QVariant value;
    double number = std::nan("");
    double distance = 0;
};

struct State {
    std::vector<Change> changes;  // sorted by feature
    qint64 order = 0;             // generation order (tie-break)
    bool flips = false;
    double score = 0;
    std::vector<double> prediction;

    double distance() const
    {
        double d = 0;
        for (const Change &c : changes)
            d += c.distance;
        return d;
    }
    bool has(int feature) const
    {
        return std::any_of(changes.begin(), changes.end(), [&](const Change &c) { return c.feature == feature; });
    }
};

struct Search {
    const ModelContext *ctx;
    const data::Table *rows;
    qint64 row;
    const CounterfactualOptions *options;
    std::vector<Changeable> features;
    ml::Task task;
    int K = 0;
    int width = 1;                // predict values per row
    int originalClass = -1;
    qint64 evaluated = 0;
    Feedback *feedback = nullptr;

    double scoreOf(const double *p) const
    {
        return options->targetClass >= 0 ? probabilityOf(p, task, options->targetClass)
                                         : 1.0 - probabilityOf(p, task, originalClass);
    }
    int classOf(const double *p) const
    {
        return predictedClasses(task, K, std::span<const double>(p, size_t(width)), options->threshold).front();
    }
    bool flipsFor(int cls) const
    {
        return options->targetClass >= 0 ? cls == options->targetClass : cls != originalClass;
    }

    Status evaluate(std::vector<State> &states)
    {
        constexpr size_t kChunk = 4096;
        for (size_t start = 0; start < states.size(); start += kChunk) {
            if (isCancelled(feedback))
                return cancelledError();
            const size_t end = std::min(states.size(), start + kChunk);
            std::vector<QVariantMap> edits;
            for (size_t i = start; i < end; ++i) {
                QVariantMap e;
                for (const Change &c : states[i].changes)
                    e.insert(features[size_t(c.feature)].name, c.value);
                edits.push_back(e);
            }
            auto t = editedRows(*rows, row, edits);
            if (!t)
                return t.error();
            auto p = ctx->predict(*t);
            if (!p)
                return p.error();
            for (size_t i = start; i < end; ++i) {
                const double *pi = p->data() + (i - start) * size_t(width);
                State &s = states[i];
                s.prediction.assign(pi, pi + width);
                s.score = scoreOf(pi);
                s.flips = flipsFor(classOf(pi));
            }
            evaluated += qint64(end - start);
        }
        return {};
    }

    // Moves each numeric change of a flipping state back toward the original value while the flip holds.
    Expected<State> shrink(State s)
    {
        for (size_t i = 0; i < s.changes.size();) {
            const Changeable &f = features[size_t(s.changes[i].feature)];
            if (!f.shrinkable()) {
                ++i;
                continue;
            }
            if (s.changes.size() > 1) {
                std::vector<State> without(1, s);
                without[0].changes.erase(without[0].changes.begin() + qsizetype(i));
                if (Status st = evaluate(without); !st)
                    return st.error();
                if (without[0].flips) {
                    const qint64 order = s.order;
                    s = without[0];
                    s.order = order;
                    continue;
                }
            }
            double lo = f.currentNumber, hi = s.changes[i].number;
            for (int round = 0; round < options->refineRounds; ++round) {
                std::vector<double> points;
                for (int k = 1; k <= 8; ++k) {
                    double v = lo + (hi - lo) * double(k) / 9.0;
                    if (f.integer || f.kind == Changeable::Kind::Datetime)
                        v = std::round(v);
                    if (v != lo && v != hi && (points.empty() || points.back() != v))
                        points.push_back(v);
                }
                if (points.empty())
                    break;
                std::vector<State> trial(points.size(), s);
                for (size_t k = 0; k < points.size(); ++k) {
                    Change &c = trial[k].changes[i];
                    c.number = points[k];
                    c.value = f.valueOf(points[k]);
                    c.distance = f.distanceOf(points[k]);
                }
                if (Status st = evaluate(trial); !st)
                    return st.error();
                size_t k = 0;
                while (k < trial.size() && !trial[k].flips)
                    ++k;
                if (k == trial.size()) {
                    lo = points.back();
                    continue;
                }
                lo = k > 0 ? points[k - 1] : lo;
                hi = points[k];
                const qint64 order = s.order;
                s = trial[k];
                s.order = order;
            }
            ++i;
        }
        return s;
    }
};

bool better(const State &a, const State &b)
{
    if (a.changes.size() != b.changes.size())
        return a.changes.size() < b.changes.size();
    const double da = a.distance(), db = b.distance();
    if (da != db)
        return da < db;
    return a.order < b.order;
}

Expected<Changeable> changeableOf(const QString &name, const data::Column &c, qint64 row, const data::Column &ref,
                                  int gridPoints)
{
    Changeable f;
    f.name = name;
    f.current = rawValue(c, row);
    switch (c.type()) {
    case data::ColumnType::Int64:
    case data::ColumnType::Float64:
    case data::ColumnType::Datetime: {
        f.kind = c.type() == data::ColumnType::Datetime ? Changeable::Kind::Datetime : Changeable::Kind::Numeric;
        f.integer = c.type() == data::ColumnType::Int64;
        if (!data::isNumericType(ref.type()) || (ref.type() == data::ColumnType::Datetime) != (f.kind == Changeable::Kind::Datetime))
            return fieldError(name, QStringLiteral("the reference column has a different type (%1)").arg(data::columnTypeName(ref.type())));
        if (!c.isNull(row))
            f.currentNumber = c.numberAt(row);
        std::vector<double> values;
        for (qint64 r = 0; r < ref.size(); ++r)
            if (!ref.isNull(r) && !std::isnan(ref.numberAt(r)))
                values.push_back(ref.numberAt(r));
        if (values.empty())
            return f;
        const auto [mn, mx] = std::minmax_element(values.begin(), values.end());
        f.range = *mx - *mn;
        for (double v : quantileGrid(values, gridPoints)) {
            if (v == f.currentNumber)
                continue;
            f.candidates.push_back({f.valueOf(v), v, f.distanceOf(v)});
        }
        return f;
    }
    case data::ColumnType::Bool: {
        f.kind = Changeable::Kind::Bool;
        bool seen[2] = {false, false};
        for (qint64 r = 0; r < ref.size(); ++r)
            if (!ref.isNull(r))
                seen[ref.numberAt(r) != 0 ? 1 : 0] = true;
        for (int b = 0; b < 2; ++b)
            if (seen[b] && (c.isNull(row) || c.boolAt(row) != (b == 1)))
                f.candidates.push_back({QVariant(b == 1), std::nan(""), 1.0});
        return f;
    }
    case data::ColumnType::Categorical:
    case data::ColumnType::String: {
        f.kind = Changeable::Kind::Categorical;
        if (ref.type() != data::ColumnType::Categorical && ref.type() != data::ColumnType::String)
            return fieldError(name, QStringLiteral("the reference column has a different type (%1)").arg(data::columnTypeName(ref.type())));
        QStringList values;
        QHash<QString, int> seen;
        for (qint64 r = 0; r < ref.size(); ++r) {
            if (ref.isNull(r))
                continue;
            const QString v = fromView(ref.stringAt(r));
            if (!seen.contains(v)) {
                seen.insert(v, 0);
                values.append(v);
            }
        }
        values.sort();
        const QString current = c.isNull(row) ? QString() : fromView(c.stringAt(row));
        for (const QString &v : values)
            if (c.isNull(row) || v != current)
                f.candidates.push_back({QVariant(v), std::nan(""), 1.0});
        return f;
    }
    }
    return f;
}

} // namespace

// ---------------------------------------------------------------------------------------------------------------
// What-if

Expected<WhatIfResult> whatIf(const ModelContext &ctx, const data::Table &rows, qint64 row, const QVariantMap &edits,
                              const Background *background, const KernelShapOptions &shapOptions, double threshold,
                              Feedback *feedback)
{
    if (Status s = ctx.check(); !s)
        return s.error();
    auto both = editedRows(rows, row, {QVariantMap(), edits});
    if (!both)
        return both.error();
    auto x = ctx.design(*both, feedback);
    if (!x)
        return x.error();
    auto margin = ctx.margin(*x);
    if (!margin)
        return margin.error();
    auto pred = ctx.predict(*x);
    if (!pred)
        return pred.error();
    WhatIfResult r;
    r.row = row;
    r.edits = edits;
    for (auto it = edits.constBegin(); it != edits.constEnd(); ++it)
        r.original.insert(it.key(), rawValue(rows.column(rows.indexOf(it.key())), row));
    const size_t pw = pred->size() / 2, mw = margin->size() / 2;
    r.originalPrediction.assign(pred->begin(), pred->begin() + qsizetype(pw));
    r.editedPrediction.assign(pred->begin() + qsizetype(pw), pred->end());
    r.originalMargin.assign(margin->begin(), margin->begin() + qsizetype(mw));
    r.editedMargin.assign(margin->begin() + qsizetype(mw), margin->end());
    r.classes = ctx.classes();
    const std::vector<int> cls = predictedClasses(ctx.task(), ctx.model->numClasses(), *pred, threshold);
    if (cls.size() == 2) {
        r.originalClass = cls[0];
        r.editedClass = cls[1];
    }
    if (background) {
        auto shap = kernelShap(ctx, *both, *background, shapOptions, feedback);
        if (!shap)
            return shap.error();
        r.explained = true;
        r.explanation = std::move(shap).value();
    }
    return r;
}

QJsonObject WhatIfResult::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("row"), row);
    o.insert(QStringLiteral("edits"), mapToJson(edits));
    o.insert(QStringLiteral("original"), mapToJson(original));
    o.insert(QStringLiteral("original_prediction"), jsonNumbers(originalPrediction));
    o.insert(QStringLiteral("edited_prediction"), jsonNumbers(editedPrediction));
    o.insert(QStringLiteral("original_margin"), jsonNumbers(originalMargin));
    o.insert(QStringLiteral("edited_margin"), jsonNumbers(editedMargin));
    o.insert(QStringLiteral("original_class"), originalClass);
    o.insert(QStringLiteral("edited_class"), editedClass);
    o.insert(QStringLiteral("classes"), QJsonArray::fromStringList(classes));
    o.insert(QStringLiteral("explained"), explained);
    if (explained)
        o.insert(QStringLiteral("explanation"), explanation.toJson());
    return o;
}

Expected<WhatIfResult> WhatIfResult::fromJson(const QJsonObject &json)
{
    WhatIfResult r;
    r.row = json.value(QStringLiteral("row")).toInteger(-1);
    r.edits = mapFromJson(json.value(QStringLiteral("edits")));
    r.original = mapFromJson(json.value(QStringLiteral("original")));
    r.originalPrediction = numbersFromJson(json.value(QStringLiteral("original_prediction")).toArray());
    r.editedPrediction = numbersFromJson(json.value(QStringLiteral("edited_prediction")).toArray());
    r.originalMargin = numbersFromJson(json.value(QStringLiteral("original_margin")).toArray());
    r.editedMargin = numbersFromJson(json.value(QStringLiteral("edited_margin")).toArray());
    r.originalClass = json.value(QStringLiteral("original_class")).toInt(-1);
    r.editedClass = json.value(QStringLiteral("edited_class")).toInt(-1);
    r.classes = stringsFromJson(json.value(QStringLiteral("classes")));
    r.explained = json.value(QStringLiteral("explained")).toBool();
    if (r.originalPrediction.size() != r.editedPrediction.size())
        return fieldError(QStringLiteral("edited_prediction"), QStringLiteral("needs as many values as original_prediction"));
    if (r.explained) {
        auto e = KernelShapResult::fromJson(json.value(QStringLiteral("explanation")).toObject());
        if (!e)
            return e.error();
        r.explanation = std::move(e).value();
    }
    return r;
}

// ---------------------------------------------------------------------------------------------------------------
// Counterfactual

Expected<Counterfactual> findCounterfactual(const ModelContext &ctx, const data::Table &rows, qint64 row,
                                            const data::Table &reference, const CounterfactualOptions &options,
                                            Feedback *feedback)
{
    if (Status s = ctx.check(); !s)
        return s.error();
    if (ctx.task() == ml::Task::Regression)
        return makeError(QStringLiteral("a counterfactual needs a classifier"));
    if (row < 0 || row >= rows.rowCount())
        return makeError(QStringLiteral("row %1 is outside the table (%2 rows)").arg(row + 1).arg(rows.rowCount()));
    if (options.maxChanges < 1 || options.maxChanges > 4)
        return fieldError(QStringLiteral("maxChanges"), QStringLiteral("must be between 1 and 4"));
    if (options.beamWidth < 1)
        return fieldError(QStringLiteral("beamWidth"), QStringLiteral("must be at least 1"));
    const int K = ctx.model->numClasses();
    if (options.targetClass >= K)
        return fieldError(QStringLiteral("targetClass"), QStringLiteral("class %1 is out of range").arg(options.targetClass));

    Search search;
    search.ctx = &ctx;
    search.rows = &rows;
    search.row = row;
    search.options = &options;
    search.task = ctx.task();
    search.K = K;
    search.width = search.task == ml::Task::BinaryClassification ? 1 : K;
    search.feedback = feedback;

    QStringList names = options.features;
    if (names.isEmpty()) {
        for (const ml::Recipe::Feature &f : ctx.recipe->features())
            if (f.derived < 0)
                names.append(f.name);
    }
    for (const QString &name : names) {
        if (ctx.featureIndex(name) < 0)
            return fieldError(name, QStringLiteral("not a feature of the model"));
        if (!ctx.isInputFeature(name))
            return fieldError(name, QStringLiteral("a derived column cannot be changed; change the columns it reads"));
        const int ci = rows.indexOf(name), ri = reference.indexOf(name);
        if (ci < 0)
            return fieldError(name, QStringLiteral("column is missing from the rows"));
        if (ri < 0)
            return fieldError(name, QStringLiteral("column is missing from the reference data"));
        auto f = changeableOf(name, rows.column(ci), row, reference.column(ri), options.gridPoints);
        if (!f)
            return f.error();
        search.features.push_back(std::move(f).value());
    }

    Counterfactual out;
    out.classes = ctx.classes();
    std::vector<State> start(1);
    {
        auto p = editedRow(rows, row, {});
        if (!p)
            return p.error();
        auto pred = ctx.predict(*p);
        if (!pred)
            return pred.error();
        start[0].prediction = std::move(pred).value();
        search.originalClass = search.classOf(start[0].prediction.data());
    }
    out.originalClass = search.originalClass;
    if (options.targetClass >= 0 && options.targetClass == search.originalClass) {
        out.found = true;
        out.newClass = search.originalClass;
        out.originalProbability = out.newProbability = probabilityOf(start[0].prediction.data(), search.task, out.newClass);
        out.message = QStringLiteral("the row is already predicted as '%1'").arg(out.classes.value(out.newClass));
        return out;
    }

    // Level 1: every single change.
    qint64 order = 0;
    std::vector<State> level;
    for (size_t fi = 0; fi < search.features.size(); ++fi)
        for (const Candidate &c : search.features[fi].candidates) {
            State s;
            s.changes.push_back({int(fi), c.value, c.number, c.distance});
            s.order = order++;
            level.push_back(std::move(s));
        }
    std::optional<State> best;
    double bestScore = 1.0 - probabilityOf(start[0].prediction.data(), search.task, search.originalClass);
    if (options.targetClass >= 0)
        bestScore = probabilityOf(start[0].prediction.data(), search.task, options.targetClass);
    for (int depth = 1; depth <= options.maxChanges && !level.empty(); ++depth) {
        reportProgress(feedback, depth - 1, options.maxChanges, QStringLiteral("counterfactual search"));
        if (Status s = search.evaluate(level); !s)
            return s.error();
        std::vector<State> flips;
        for (const State &s : level) {
            bestScore = std::max(bestScore, s.score);
            if (s.flips)
                flips.push_back(s);
        }
        if (!flips.empty()) {
            std::stable_sort(flips.begin(), flips.end(), better);
            if (depth == 1) {
                // Shrinking a single numeric change starts from the original value, so only the nearest flip on
                // each side of it matters.
                std::vector<State> kept;
                std::map<std::pair<int, int>, bool> seen;
                for (const State &s : flips) {
                    const Change &c = s.changes.front();
                    const Changeable &f = search.features[size_t(c.feature)];
                    const int side = f.shrinkable() ? (c.number > f.currentNumber ? 1 : -1) : int(kept.size()) + 2;
                    if (seen.emplace(std::make_pair(c.feature, side), true).second)
                        kept.push_back(s);
                }
                flips = std::move(kept);
            } else if (flips.size() > size_t(4 * options.beamWidth)) {
                flips.resize(size_t(4 * options.beamWidth));
            }
            for (const State &s : flips) {
                auto shrunk = search.shrink(s);
                if (!shrunk)
                    return shrunk.error();
                if (!best || better(*shrunk, *best))
                    best = std::move(shrunk).value();
            }
            break;
        }
        if (depth == options.maxChanges)
            break;
        // Beam: the partial combinations that moved the prediction furthest toward the target.
        std::vector<State> beam = level;
        std::stable_sort(beam.begin(), beam.end(), [](const State &a, const State &b) {
            if (a.score != b.score)
                return a.score > b.score;
            return better(a, b);
        });
        if (beam.size() > size_t(options.beamWidth))
            beam.resize(size_t(options.beamWidth));
        std::vector<State> next;
        std::map<QString, bool> seen;
        for (const State &b : beam)
            for (size_t fi = 0; fi < search.features.size(); ++fi) {
                if (b.has(int(fi)))
                    continue;
                for (size_t ci = 0; ci < search.features[fi].candidates.size(); ++ci) {
                    const Candidate &c = search.features[fi].candidates[ci];
                    State s;
                    s.changes = b.changes;
                    s.changes.push_back({int(fi), c.value, c.number, c.distance});
                    std::sort(s.changes.begin(), s.changes.end(),
                              [](const Change &l, const Change &r) { return l.feature < r.feature; });
                    QString key;
                    for (const Change &ch : s.changes)
                        key += QString::number(ch.feature) + QLatin1Char('=') + ch.value.toString() + QLatin1Char(';');
                    if (!seen.emplace(key, true).second)
                        continue;
                    s.order = order++;
                    next.push_back(std::move(s));
                }
            }
        level = std::move(next);
    }
    reportProgress(feedback, options.maxChanges, options.maxChanges, QStringLiteral("counterfactual search"));

    out.evaluated = search.evaluated;
    if (!best) {
        out.found = false;
        out.newProbability = bestScore;
        out.originalProbability = options.targetClass >= 0
                                      ? probabilityOf(start[0].prediction.data(), search.task, options.targetClass)
                                      : 1.0 - probabilityOf(start[0].prediction.data(), search.task, search.originalClass);
        out.message = QStringLiteral("no counterfactual found within limits (%1 candidate rows, up to %2 changed features)")
                          .arg(search.evaluated)
                          .arg(options.maxChanges);
        return out;
    }
    out.found = true;
    out.newClass = search.classOf(best->prediction.data());
    out.originalProbability = probabilityOf(start[0].prediction.data(), search.task, out.newClass);
    out.newProbability = probabilityOf(best->prediction.data(), search.task, out.newClass);
    out.distance = best->distance();
    for (const Change &c : best->changes) {
        const Changeable &f = search.features[size_t(c.feature)];
        out.changes.push_back({f.name, f.current, c.value, c.distance});
    }
    out.message = QStringLiteral("changing %1 feature(s) moves the prediction from '%2' to '%3'")
                      .arg(out.changes.size())
                      .arg(out.classes.value(out.originalClass), out.classes.value(out.newClass));
    return out;
}

QVariantMap Counterfactual::edits() const
{
    QVariantMap m;
    for (const CounterfactualChange &c : changes)
        m.insert(c.feature, c.to);
    return m;
}

QJsonObject Counterfactual::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("found"), found);
    o.insert(QStringLiteral("message"), message);
    o.insert(QStringLiteral("original_class"), originalClass);
    o.insert(QStringLiteral("new_class"), newClass);
    o.insert(QStringLiteral("classes"), QJsonArray::fromStringList(classes));
    o.insert(QStringLiteral("original_probability"), jsonNumber(originalProbability));
    o.insert(QStringLiteral("new_probability"), jsonNumber(newProbability));
    QJsonArray cs;
    for (const CounterfactualChange &c : changes)
        cs.append(QJsonObject{{QStringLiteral("feature"), c.feature},
                              {QStringLiteral("from"), variantToJson(c.from)},
                              {QStringLiteral("to"), variantToJson(c.to)},
                              {QStringLiteral("distance"), jsonNumber(c.distance)}});
    o.insert(QStringLiteral("changes"), cs);
    o.insert(QStringLiteral("distance"), jsonNumber(distance));
    o.insert(QStringLiteral("evaluated"), evaluated);
    return o;
}

Expected<Counterfactual> Counterfactual::fromJson(const QJsonObject &json)
{
    Counterfactual c;
    if (!json.value(QStringLiteral("found")).isBool())
        return fieldError(QStringLiteral("found"), QStringLiteral("missing or not a bool"));
    c.found = json.value(QStringLiteral("found")).toBool();
    c.message = json.value(QStringLiteral("message")).toString();
    c.originalClass = json.value(QStringLiteral("original_class")).toInt(-1);
    c.newClass = json.value(QStringLiteral("new_class")).toInt(-1);
    c.classes = stringsFromJson(json.value(QStringLiteral("classes")));
    c.originalProbability = numberFromJson(json.value(QStringLiteral("original_probability")));
    c.newProbability = numberFromJson(json.value(QStringLiteral("new_probability")));
    for (const QJsonValue &v : json.value(QStringLiteral("changes")).toArray()) {
        const QJsonObject o = v.toObject();
        c.changes.push_back({o.value(QStringLiteral("feature")).toString(), variantFromJson(o.value(QStringLiteral("from"))),
                             variantFromJson(o.value(QStringLiteral("to"))), numberFromJson(o.value(QStringLiteral("distance")))});
    }
    c.distance = numberFromJson(json.value(QStringLiteral("distance")));
    c.evaluated = json.value(QStringLiteral("evaluated")).toInteger();
    return c;
}

} // namespace keel::explain
