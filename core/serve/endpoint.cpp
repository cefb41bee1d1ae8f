#include "serve/endpoint.h"

#include "data/profile.h"
#include "data/reader.h"
#include "workspace/workspace.h"

#include <QHash>
#include <QSet>

#include <cmath>
#include <limits>

namespace keel::serve {

namespace {

Error fieldError(qsizetype record, const QString &field, const QString &message)
{
    return makeError(ErrorKind::InvalidInput, message, {}, -1, QStringLiteral("records[%1].%2").arg(record).arg(field));
}

/// Appends one JSON value to a column of the schema's type; null is missing. Strict: a number column takes numbers.
Status appendValue(data::ColumnBuilder &b, const registry::FeatureSchema &f, const QJsonValue &v, qsizetype record,
                   ModelRuntime::InputNotes *notes)
{
    if (v.isNull() || v.isUndefined()) {
        b.appendNull();
        if (notes)
            ++notes->missingValues;
        return Status::ok();
    }
    switch (b.type()) {
    case data::ColumnType::Int64: {
        if (!v.isDouble())
            return fieldError(record, f.name, QStringLiteral("expected a whole number"));
        const double d = v.toDouble();
        if (!(std::abs(d) < 9.007199254740992e15) || std::floor(d) != d)
            return fieldError(record, f.name, QStringLiteral("expected a whole number, got %1").arg(d));
        b.appendInt64(int64_t(d));
        return Status::ok();
    }
    case data::ColumnType::Float64:
        if (!v.isDouble() || !std::isfinite(v.toDouble()))
            return fieldError(record, f.name, QStringLiteral("expected a finite number"));
        b.appendFloat64(v.toDouble());
        return Status::ok();
    case data::ColumnType::Bool:
        if (!v.isBool())
            return fieldError(record, f.name, QStringLiteral("expected true or false"));
        b.appendBool(v.toBool());
        return Status::ok();
    case data::ColumnType::Datetime: {
        const auto ms = v.isString() ? data::parseIsoDatetime(v.toString()) : std::nullopt;
        if (!ms)
            return fieldError(record, f.name, QStringLiteral("expected an ISO 8601 date or time as a string"));
        b.appendDatetime(*ms);
        return Status::ok();
    }
    case data::ColumnType::Categorical:
    case data::ColumnType::String: {
        if (!v.isString())
            return fieldError(record, f.name, QStringLiteral("expected a string"));
        const QString s = v.toString();
        if (notes && !f.categories.isEmpty() && !f.categories.contains(s))
            ++notes->unseenCategories;
        b.appendString(s.toStdString());
        return Status::ok();
    }
    }
    return fieldError(record, f.name, QStringLiteral("has a type Keel cannot score"));
}

/// The bundle's background rows as JSON records of the schema's types (numbers as numbers).
QJsonArray tableToRecords(const data::Table &t, const std::vector<registry::FeatureSchema> &schema)
{
    QJsonArray out;
    for (qint64 r = 0; r < t.rowCount(); ++r) {
        QJsonObject o;
        for (const registry::FeatureSchema &f : schema) {
            const int c = t.indexOf(f.name);
            if (c < 0 || t.column(c).isNull(r)) {
                o.insert(f.name, QJsonValue::Null);
                continue;
            }
            const data::Column &col = t.column(c);
            const auto type = data::columnTypeFromName(f.type);
            if (type && (*type == data::ColumnType::Int64 || *type == data::ColumnType::Float64) && data::isNumericType(col.type()))
                o.insert(f.name, col.numberAt(r));
            else if (type && *type == data::ColumnType::Bool && col.type() == data::ColumnType::Bool)
                o.insert(f.name, col.boolAt(r));
            else
                o.insert(f.name, col.displayAt(r));
        }
        out.append(o);
    }
    return out;
}

} // namespace

Expected<std::shared_ptr<const ModelRuntime>> ModelRuntime::load(workspace::Workspace &ws, const QString &versionRef)
{
    auto v = registry::resolveVersion(ws, versionRef);
    if (!v)
        return v.error();
    auto loaded = registry::loadVersion(ws, *v);
    if (!loaded)
        return loaded.error();
    auto rt = std::make_shared<ModelRuntime>();
    rt->m_version = *v;
    rt->m_model.runId = v->runId;
    rt->m_model.runName = v->runName;
    rt->m_model.modelKind = v->modelKind;
    rt->m_model.modelObjectId = v->bundle;
    rt->m_model.modelBytes = loaded->modelBytes;
    rt->m_model.ctx = loaded->ctx;
    for (const registry::FeatureSchema &f : v->schema)
        if (!data::columnTypeFromName(f.type))
            return makeError(ErrorKind::Corrupt, QStringLiteral("unknown column type '%1'").arg(f.type), v->ref(), -1,
                             QStringLiteral("schema.") + f.name);
    // The attributor for explain requests, over the bundle's background sample (tree SHAP does not need one).
    auto background = data::readTableFromBytes(loaded->backgroundCsv, {}, nullptr, nullptr, v->ref() + QStringLiteral(":background.csv"));
    if (!background)
        return background.error();
    auto population = rt->toTable(tableToRecords(*background, v->schema));
    if (!population)
        return population.error();
    explain::ExplainRequest options;
    options.background = std::min<int>(50, int(std::max<qint64>(1, population->rowCount())));
    options.threads = 1;
    auto attributor = explain::RowAttributor::prepare(rt->m_model, QStringLiteral("auto"), *population, options);
    if (attributor)
        rt->m_attributor = std::make_shared<const explain::RowAttributor>(std::move(*attributor));
    return std::shared_ptr<const ModelRuntime>(std::move(rt));
}

Expected<data::Table> ModelRuntime::toTable(const QJsonArray &records, InputNotes *notes) const
{
    std::vector<data::ColumnBuilder> builders;
    builders.reserve(m_version.schema.size());
    QSet<QString> known;
    for (const registry::FeatureSchema &f : m_version.schema) {
        builders.emplace_back(*data::columnTypeFromName(f.type));
        known.insert(f.name);
    }
    for (qsizetype r = 0; r < records.size(); ++r) {
        if (!records[r].isObject())
            return makeError(ErrorKind::InvalidInput, QStringLiteral("expected an object of feature values"), {}, -1,
                             QStringLiteral("records[%1]").arg(r));
        const QJsonObject o = records[r].toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            if (!known.contains(it.key())) {
                QStringList inputs;
                for (const registry::FeatureSchema &f : m_version.schema)
                    inputs << f.name;
                return fieldError(r, it.key(), QStringLiteral("is not an input of %1 (inputs: %2)").arg(ref(), inputs.join(QStringLiteral(", "))));
            }
        for (size_t i = 0; i < m_version.schema.size(); ++i) {
            const registry::FeatureSchema &f = m_version.schema[i];
            const auto it = o.constFind(f.name);
            if (it == o.constEnd())
                return fieldError(r, f.name, QStringLiteral("is missing (send null for a missing value)"));
            if (Status s = appendValue(builders[i], f, *it, r, notes); !s)
                return s.error();
        }
    }
    std::vector<data::Column> columns;
    for (size_t i = 0; i < builders.size(); ++i)
        columns.push_back(builders[i].finish(m_version.schema[i].name));
    return data::Table(std::move(columns));
}

Expected<std::vector<double>> ModelRuntime::predict(const data::Table &rows) const { return m_model.ctx.predict(rows); }

int ModelRuntime::predictedClass(const std::vector<double> &p, qint64 row) const
{
    switch (m_version.task) {
    case ml::Task::BinaryClassification: return p[size_t(row)] >= 0.5 ? 1 : 0;
    case ml::Task::MulticlassClassification: {
        const size_t k = size_t(m_version.classes.size());
        const size_t base = size_t(row) * k;
        int best = 0;
        for (size_t c = 1; c < k; ++c)
            if (p[base + c] > p[base + size_t(best)])
                best = int(c);
        return best;
    }
    case ml::Task::Regression: break;
    }
    return -1;
}

QJsonObject ModelRuntime::outputJson(const std::vector<double> &p, qint64 row) const
{
    const QStringList &classes = m_version.classes;
    switch (m_version.task) {
    case ml::Task::BinaryClassification: {
        const double p1 = p[size_t(row)];
        return QJsonObject{{QStringLiteral("label"), classes.value(p1 >= 0.5 ? 1 : 0)},
                           {QStringLiteral("probabilities"), QJsonObject{{classes.value(0), 1.0 - p1}, {classes.value(1), p1}}}};
    }
    case ml::Task::MulticlassClassification: {
        QJsonObject probs;
        const size_t k = size_t(classes.size());
        for (size_t c = 0; c < k; ++c)
            probs.insert(classes[qsizetype(c)], p[size_t(row) * k + c]);
        return QJsonObject{{QStringLiteral("label"), classes.value(predictedClass(p, row))}, {QStringLiteral("probabilities"), probs}};
    }
    case ml::Task::Regression: break;
    }
    return QJsonObject{{QStringLiteral("value"), p[size_t(row)]}};
}

Expected<explain::Attribution> ModelRuntime::explain(const data::Table &rows) const
{
    if (!m_attributor)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("%1 cannot be explained online").arg(ref()));
    return m_attributor->explain(rows);
}

Expected<std::shared_ptr<const DeploymentRuntime>> DeploymentRuntime::load(workspace::Workspace &ws, const deploy::Deployment &spec)
{
    auto rt = std::make_shared<DeploymentRuntime>();
    rt->spec = spec;
    auto model = ModelRuntime::load(ws, spec.model.version);
    if (!model)
        return model.error();
    rt->model = *model;
    for (auto [served, slot] : {std::pair{&spec.shadow, &rt->shadow}, std::pair{&spec.canary, &rt->canary}}) {
        if (!served->isSet())
            continue;
        auto m = ModelRuntime::load(ws, served->version);
        if (!m)
            return m.error();
        *slot = *m;
    }
    return std::shared_ptr<const DeploymentRuntime>(std::move(rt));
}

const ModelRuntime &DeploymentRuntime::answering(const QString &key) const
{
    if (canary && keyShare(key) < spec.canaryShare)
        return *canary;
    return *model;
}

double keyShare(const QString &key)
{
    quint64 h = 0xcbf29ce484222325ull;
    const QByteArray bytes = key.toUtf8();
    for (char c : bytes) {
        h ^= quint8(c);
        h *= 0x100000001b3ull;
    }
    return double(h >> 11) / double(1ull << 53);
}

} // namespace keel::serve
