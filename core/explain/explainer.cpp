#include "explain/explainer.h"

#include "ml/expression.h"
#include "ml/learners.h"

#include <QDateTime>
#include <QHash>
#include <QLocale>
#include <QThread>
#include <QTimeZone>

#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <thread>

namespace keel::explain {

namespace {

QString fromView(std::string_view s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }

Error fieldError(const QString &field, const QString &message) { return makeError(message, {}, -1, field); }

} // namespace

// ---------------------------------------------------------------------------------------------------------------
// FeatureValues

bool FeatureValues::isMissing(qint64 r) const
{
    return categorical ? codes[size_t(r)] < 0 : std::isnan(numbers[size_t(r)]);
}

double FeatureValues::numberOrCode(qint64 r) const
{
    if (categorical)
        return codes[size_t(r)] < 0 ? std::nan("") : double(codes[size_t(r)]);
    return numbers[size_t(r)];
}

QString FeatureValues::display(qint64 r) const
{
    if (isMissing(r))
        return {};
    if (categorical)
        return categories[codes[size_t(r)]];
    const double v = numbers[size_t(r)];
    if (datetime)
        return data::formatDatetime(int64_t(v));
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

// ---------------------------------------------------------------------------------------------------------------
// ModelContext

Expected<ModelContext> ModelContext::fromArtifacts(const QString &kind, const QByteArray &modelBytes,
                                                   const QJsonObject &recipeJson)
{
    auto model = ml::loadModel(kind, modelBytes);
    if (!model)
        return model.error();
    auto recipe = ml::Recipe::fromJson(recipeJson);
    if (!recipe)
        return recipe.error();
    ModelContext ctx;
    ctx.model = std::shared_ptr<const ml::Model>(std::move(model).value());
    ctx.recipe = std::make_shared<const ml::Recipe>(std::move(recipe).value());
    if (Status s = ctx.check(); !s)
        return s.error();
    return ctx;
}

Status ModelContext::check() const
{
    if (!model)
        return makeError(QStringLiteral("explanation context has no model"));
    if (!recipe)
        return makeError(QStringLiteral("explanation context has no recipe"));
    const bool modelClassifies = model->task() != ml::Task::Regression;
    const bool recipeClassifies = recipe->task() != ml::Task::Regression;
    if (modelClassifies != recipeClassifies)
        return makeError(QStringLiteral("the model is a %1 model but the recipe was fitted for %2")
                             .arg(ml::taskName(model->task()), ml::taskName(recipe->task())));
    if (modelClassifies && model->numClasses() != recipe->classes().size())
        return makeError(QStringLiteral("the model has %1 classes but the recipe has %2")
                             .arg(model->numClasses())
                             .arg(recipe->classes().size()));
    return {};
}

int ModelContext::outputs() const
{
    return model->task() == ml::Task::MulticlassClassification ? model->numClasses() : 1;
}

bool ModelContext::isInputFeature(const QString &feature) const
{
    for (const ml::Recipe::Feature &f : recipe->features())
        if (f.name == feature)
            return f.derived < 0;
    return false;
}

Expected<ml::DesignMatrix> ModelContext::design(const data::Table &rows, Feedback *feedback) const
{
    return recipe->transform(rows, feedback);
}

Expected<std::vector<double>> ModelContext::margin(const ml::DesignMatrix &x) const { return model->predictMargin(x); }

Expected<std::vector<double>> ModelContext::predict(const ml::DesignMatrix &x) const { return model->predict(x); }

Expected<std::vector<double>> ModelContext::margin(const data::Table &rows, Feedback *feedback) const
{
    auto x = design(rows, feedback);
    if (!x)
        return x.error();
    return margin(*x);
}

Expected<std::vector<double>> ModelContext::predict(const data::Table &rows, Feedback *feedback) const
{
    auto x = design(rows, feedback);
    if (!x)
        return x.error();
    return predict(*x);
}

namespace {

Expected<FeatureValues> valuesOf(const ml::Recipe &recipe, const ml::Recipe::Feature &f, const data::Table &rows)
{
    FeatureValues v;
    v.name = f.name;
    const qint64 n = rows.rowCount();
    if (f.derived >= 0) {
        v.derived = true;
        const auto &derived = recipe.spec().derived;
        if (size_t(f.derived) >= derived.size())
            return fieldError(f.name, QStringLiteral("derived column has no expression in the recipe"));
        auto e = ml::Expression::parse(derived[size_t(f.derived)].expression);
        if (!e)
            return fieldError(f.name, e.error().message);
        std::vector<const data::Column *> refs;
        for (const QString &ref : e->columns()) {
            const int ci = rows.indexOf(ref);
            if (ci < 0)
                return fieldError(ref, QStringLiteral("column read by derived column '%1' is missing from the input")
                                           .arg(f.name));
            if (!data::isNumericType(rows.column(ci).type()))
                return fieldError(ref, QStringLiteral("column read by derived column '%1' is not numeric").arg(f.name));
            refs.push_back(&rows.column(ci));
        }
        std::vector<double> args(refs.size());
        v.numbers.resize(size_t(n));
        for (qint64 r = 0; r < n; ++r) {
            for (size_t k = 0; k < refs.size(); ++k)
                args[k] = refs[k]->isNull(r) ? std::nan("") : refs[k]->numberAt(r);
            v.numbers[size_t(r)] = e->evaluate(args);
        }
        return v;
    }
    const int ci = rows.indexOf(f.name);
    if (ci < 0)
        return fieldError(f.name, QStringLiteral("column is missing from the input"));
    const data::Column &c = rows.column(ci);
    if (f.kind == ml::Recipe::Feature::Kind::Categorical) {
        v.categorical = true;
        std::vector<QString> text(static_cast<size_t>(n));
        QStringList distinct;
        QHash<QString, int> seen;
        for (qint64 r = 0; r < n; ++r) {
            if (c.isNull(r))
                continue;
            text[size_t(r)] = (c.type() == data::ColumnType::Categorical || c.type() == data::ColumnType::String)
                                  ? fromView(c.stringAt(r))
                                  : c.displayAt(r);
            if (!seen.contains(text[size_t(r)])) {
                seen.insert(text[size_t(r)], 0);
                distinct.append(text[size_t(r)]);
            }
        }
        distinct.sort();
        for (qsizetype k = 0; k < distinct.size(); ++k)
            seen[distinct[k]] = int(k);
        v.categories = distinct;
        v.codes.assign(size_t(n), -1);
        for (qint64 r = 0; r < n; ++r)
            if (!c.isNull(r))
                v.codes[size_t(r)] = seen.value(text[size_t(r)]);
        return v;
    }
    if (!data::isNumericType(c.type()))
        return fieldError(f.name, QStringLiteral("column is %1 but the recipe expects a number")
                                      .arg(data::columnTypeName(c.type())));
    v.datetime = c.type() == data::ColumnType::Datetime;
    v.integer = c.type() == data::ColumnType::Int64 || c.type() == data::ColumnType::Bool;
    v.numbers.resize(size_t(n));
    for (qint64 r = 0; r < n; ++r)
        v.numbers[size_t(r)] = c.isNull(r) ? std::nan("") : c.numberAt(r);
    return v;
}

} // namespace

Expected<std::vector<FeatureValues>> ModelContext::featureValues(const data::Table &rows) const
{
    std::vector<FeatureValues> out;
    for (const ml::Recipe::Feature &f : recipe->features()) {
        auto v = valuesOf(*recipe, f, rows);
        if (!v)
            return v.error();
        out.push_back(std::move(v).value());
    }
    return out;
}

Expected<FeatureValues> ModelContext::featureValues(const data::Table &rows, const QString &feature) const
{
    for (const ml::Recipe::Feature &f : recipe->features())
        if (f.name == feature)
            return valuesOf(*recipe, f, rows);
    return fieldError(feature, QStringLiteral("not a feature of the model"));
}

// ---------------------------------------------------------------------------------------------------------------
// Free helpers

std::vector<std::vector<int>> featureColumns(const ml::DesignMatrix &x)
{
    std::vector<std::vector<int>> out(size_t(x.sourceFeatureNames.size()));
    for (size_t c = 0; c < x.sourceFeature.size(); ++c)
        out[size_t(x.sourceFeature[c])].push_back(int(c));
    return out;
}

std::vector<int> predictedClasses(ml::Task task, int numClasses, std::span<const double> prediction, double threshold)
{
    std::vector<int> out;
    if (task == ml::Task::BinaryClassification) {
        out.reserve(prediction.size());
        for (double p : prediction)
            out.push_back(p >= threshold ? 1 : 0);
    } else if (task == ml::Task::MulticlassClassification && numClasses > 0) {
        const size_t rows = prediction.size() / size_t(numClasses);
        out.reserve(rows);
        for (size_t r = 0; r < rows; ++r) {
            const double *p = prediction.data() + r * size_t(numClasses);
            int best = 0;
            for (int k = 1; k < numClasses; ++k)
                if (p[k] > p[best])
                    best = k;
            out.push_back(best);
        }
    }
    return out;
}

QVariant rawValue(const data::Column &c, qint64 row)
{
    if (c.isNull(row))
        return {};
    switch (c.type()) {
    case data::ColumnType::Int64: return QVariant(qlonglong(c.int64At(row)));
    case data::ColumnType::Float64: return QVariant(c.float64At(row));
    case data::ColumnType::Bool: return QVariant(c.boolAt(row));
    case data::ColumnType::Datetime: return QVariant(QDateTime::fromMSecsSinceEpoch(c.datetimeAt(row), QTimeZone::utc()));
    case data::ColumnType::Categorical:
    case data::ColumnType::String: return QVariant(fromView(c.stringAt(row)));
    }
    return {};
}

namespace {

bool isNullVariant(const QVariant &v) { return !v.isValid() || v.isNull(); }

// Number from a QVariant holding a number, a bool or numeric text.
std::optional<double> variantNumber(const QVariant &v)
{
    switch (v.typeId()) {
    case QMetaType::Bool: return v.toBool() ? 1.0 : 0.0;
    case QMetaType::QString: {
        bool ok = false;
        const double d = v.toString().trimmed().toDouble(&ok);
        return ok ? std::optional<double>(d) : std::nullopt;
    }
    default: {
        bool ok = false;
        const double d = v.toDouble(&ok);
        return ok ? std::optional<double>(d) : std::nullopt;
    }
    }
}

Status appendEdit(data::ColumnBuilder &b, data::ColumnType sourceType, const QString &column, const QVariant &v)
{
    if (isNullVariant(v)) {
        b.appendNull();
        return {};
    }
    const auto bad = [&](const QString &what) {
        return fieldError(column, QStringLiteral("cannot use '%1' as %2").arg(v.toString(), what));
    };
    switch (sourceType) {
    case data::ColumnType::Int64:
    case data::ColumnType::Float64: {
        const auto d = variantNumber(v);
        if (!d)
            return bad(QStringLiteral("a number"));
        if (b.type() == data::ColumnType::Int64)
            b.appendInt64(int64_t(*d));
        else
            b.appendFloat64(*d);
        return {};
    }
    case data::ColumnType::Bool: {
        if (v.typeId() == QMetaType::QString) {
            const QString s = v.toString().trimmed().toLower();
            if (s == u"true" || s == u"1") {
                b.appendBool(true);
                return {};
            }
            if (s == u"false" || s == u"0") {
                b.appendBool(false);
                return {};
            }
            return bad(QStringLiteral("a bool"));
        }
        const auto d = variantNumber(v);
        if (!d || (*d != 0.0 && *d != 1.0))
            return bad(QStringLiteral("a bool"));
        b.appendBool(*d != 0.0);
        return {};
    }
    case data::ColumnType::Datetime: {
        if (v.typeId() == QMetaType::QDateTime) {
            b.appendDatetime(v.toDateTime().toMSecsSinceEpoch());
            return {};
        }
        if (v.typeId() == QMetaType::QString) {
            const QString s = v.toString().trimmed();
            QDateTime dt = QDateTime::fromString(s, Qt::ISODateWithMs);
            if (!dt.isValid()) {
                const QDate d = QDate::fromString(s, Qt::ISODate);
                if (d.isValid())
                    dt = QDateTime(d, QTime(0, 0), QTimeZone::utc());
            }
            if (dt.isValid()) {
                if (dt.timeSpec() == Qt::LocalTime)
                    dt = QDateTime(dt.date(), dt.time(), QTimeZone::utc());
                b.appendDatetime(dt.toMSecsSinceEpoch());
                return {};
            }
        }
        const auto d = variantNumber(v);
        if (!d || !std::isfinite(*d))
            return bad(QStringLiteral("a date"));
        b.appendDatetime(int64_t(*d));
        return {};
    }
    case data::ColumnType::Categorical:
    case data::ColumnType::String: {
        QString s;
        if (v.typeId() == QMetaType::Double || v.typeId() == QMetaType::Float)
            s = QString::number(v.toDouble(), 'g', QLocale::FloatingPointShortest);
        else
            s = v.toString();
        const QByteArray utf8 = s.toUtf8();
        b.appendString(std::string_view(utf8.constData(), size_t(utf8.size())));
        return {};
    }
    }
    return bad(QStringLiteral("a value"));
}

} // namespace

Expected<data::Table> editedRows(const data::Table &t, qint64 row, const std::vector<QVariantMap> &edits)
{
    if (row < 0 || row >= t.rowCount())
        return makeError(QStringLiteral("row %1 is outside the table (%2 rows)").arg(row + 1).arg(t.rowCount()));
    for (const QVariantMap &e : edits)
        for (auto it = e.constBegin(); it != e.constEnd(); ++it)
            if (t.indexOf(it.key()) < 0)
                return fieldError(it.key(), QStringLiteral("no such column in the table"));
    std::vector<data::Column> cols;
    cols.reserve(size_t(t.columnCount()));
    for (const data::Column &c : t.columns()) {
        data::ColumnType type = c.type();
        bool edited = false;
        for (const QVariantMap &e : edits) {
            const auto it = e.constFind(c.name());
            if (it == e.constEnd())
                continue;
            edited = true;
            if (type == data::ColumnType::Int64 && !isNullVariant(*it)) {
                const auto d = variantNumber(*it);
                if (d && (!std::isfinite(*d) || *d != std::floor(*d) || std::abs(*d) > 9.0e15))
                    type = data::ColumnType::Float64;
            }
        }
        if (!edited) {
            data::ColumnBuilder b(type);
            for (size_t i = 0; i < edits.size(); ++i)
                b.appendFrom(c, row);
            cols.push_back(b.finish(c.name()));
            continue;
        }
        data::ColumnBuilder b(type);
        for (const QVariantMap &e : edits) {
            const auto it = e.constFind(c.name());
            if (it == e.constEnd()) {
                b.appendFrom(c, row);
            } else if (Status s = appendEdit(b, c.type(), c.name(), *it); !s) {
                return s.error();
            }
        }
        cols.push_back(b.finish(c.name()));
    }
    return data::Table(std::move(cols));
}

Expected<data::Table> editedRow(const data::Table &t, qint64 row, const QVariantMap &edits)
{
    return editedRows(t, row, std::vector<QVariantMap>{edits});
}

Status parallelFor(qint64 n, qint64 block, int threads, const std::function<Status(qint64, qint64)> &body)
{
    if (n <= 0)
        return {};
    block = std::max<qint64>(1, block);
    const qint64 blocks = (n + block - 1) / block;
    if (threads <= 0)
        threads = std::max(1, QThread::idealThreadCount());
    threads = int(std::min<qint64>(threads, blocks));
    std::atomic<qint64> nextBlock{0};
    std::atomic<bool> failed{false};
    std::mutex mutex;
    qint64 failedBlock = blocks;
    Status failure;
    const auto work = [&] {
        for (;;) {
            if (failed.load(std::memory_order_relaxed))
                return;
            const qint64 b = nextBlock.fetch_add(1);
            if (b >= blocks)
                return;
            Status s = body(b * block, std::min(n, (b + 1) * block));
            if (!s) {
                std::lock_guard lock(mutex);
                failed.store(true, std::memory_order_relaxed);
                if (b < failedBlock) {
                    failedBlock = b;
                    failure = s;
                }
            }
        }
    };
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i)
        pool.emplace_back(work);
    work();
    for (std::thread &th : pool)
        th.join();
    return failure;
}


QJsonValue jsonNumber(double v)
{
    if (std::isnan(v))
        return QJsonValue(QJsonValue::Null);
    if (std::isinf(v))
        return QJsonValue(v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf"));
    return QJsonValue(v);
}

double numberFromJson(const QJsonValue &v)
{
    if (v.isDouble())
        return v.toDouble();
    if (v.isString()) {
        if (v.toString() == u"inf")
            return std::numeric_limits<double>::infinity();
        if (v.toString() == u"-inf")
            return -std::numeric_limits<double>::infinity();
    }
    return std::nan("");
}

QJsonArray jsonNumbers(std::span<const double> v)
{
    QJsonArray a;
    for (double d : v)
        a.append(jsonNumber(d));
    return a;
}

std::vector<double> numbersFromJson(const QJsonArray &a)
{
    std::vector<double> out;
    out.reserve(size_t(a.size()));
    for (const QJsonValue &v : a)
        out.push_back(numberFromJson(v));
    return out;
}

QJsonObject attributionToJson(const Attribution &a)
{
    QJsonObject o;
    o.insert(QStringLiteral("method"), a.method);
    o.insert(QStringLiteral("features"), QJsonArray::fromStringList(a.features));
    o.insert(QStringLiteral("outputs"), a.outputs);
    o.insert(QStringLiteral("rows"), a.rows);
    o.insert(QStringLiteral("base"), jsonNumbers(a.base));
    o.insert(QStringLiteral("values"), jsonNumbers(a.values));
    o.insert(QStringLiteral("residual"), jsonNumbers(a.residual));
    o.insert(QStringLiteral("parameters"), a.parameters);
    return o;
}

Expected<Attribution> attributionFromJson(const QJsonObject &json)
{
    Attribution a;
    a.method = json.value(QStringLiteral("method")).toString();
    for (const QJsonValue &v : json.value(QStringLiteral("features")).toArray())
        a.features.append(v.toString());
    a.outputs = json.value(QStringLiteral("outputs")).toInt(1);
    a.rows = json.value(QStringLiteral("rows")).toInteger(0);
    a.base = numbersFromJson(json.value(QStringLiteral("base")).toArray());
    a.values = numbersFromJson(json.value(QStringLiteral("values")).toArray());
    a.residual = numbersFromJson(json.value(QStringLiteral("residual")).toArray());
    a.parameters = json.value(QStringLiteral("parameters")).toObject();
    if (a.outputs < 1)
        return fieldError(QStringLiteral("outputs"), QStringLiteral("must be at least 1"));
    if (a.rows < 0)
        return fieldError(QStringLiteral("rows"), QStringLiteral("must not be negative"));
    if (a.base.size() != size_t(a.outputs))
        return fieldError(QStringLiteral("base"), QStringLiteral("needs one value per output"));
    if (a.values.size() != size_t(a.rows) * size_t(a.outputs) * size_t(a.featureCount()))
        return fieldError(QStringLiteral("values"), QStringLiteral("needs rows x outputs x features values"));
    if (a.residual.size() != size_t(a.rows) * size_t(a.outputs))
        return fieldError(QStringLiteral("residual"), QStringLiteral("needs rows x outputs values"));
    return a;
}

Expected<Attribution> toSourceFeatures(const Attribution &a, const ModelContext &ctx)
{
    if (a.features == ctx.features())
        return a;
    if (a.features != ctx.recipe->columnNames()) {
        const QStringList features = ctx.features();
        for (const QString &f : a.features)
            if (!features.contains(f))
                return fieldError(f, QStringLiteral("attribution feature is neither a feature nor a design column of the model"));
        return makeError(QStringLiteral("attribution features are not in the order of the model's features"));
    }
    // Source feature of each design column, rebuilt from the fitted recipe (the same walk as the recipe's own).
    ml::DesignMatrix shape;
    shape.columnNames = ctx.recipe->columnNames();
    shape.sourceFeatureNames = ctx.features();
    const auto &features = ctx.recipe->features();
    for (size_t i = 0; i < features.size(); ++i) {
        const ml::Recipe::Feature &f = features[i];
        int width = 0;
        switch (f.kind) {
        case ml::Recipe::Feature::Kind::Numeric: width = 1; break;
        case ml::Recipe::Feature::Kind::Datetime: width = int(f.numeric.size()); break;
        case ml::Recipe::Feature::Kind::Categorical:
            width = f.encode == ml::EncodeKind::Ordinal ? 1 : int(f.categories.size()) + (f.other ? 1 : 0);
            break;
        }
        width += f.indicator ? 1 : 0;
        shape.sourceFeature.insert(shape.sourceFeature.end(), size_t(width), int(i));
    }
    shape.cols = int(shape.columnNames.size());
    if (shape.sourceFeature.size() != size_t(shape.cols))
        return makeError(QStringLiteral("the recipe's columns do not match its features"));
    return aggregateToSourceFeatures(a, shape);
}

} // namespace keel::explain
