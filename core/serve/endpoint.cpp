#include "serve/endpoint.h"

#include "data/profile.h"
#include "data/reader.h"
#include "workspace/workspace.h"

#include <QLocale>

#include <algorithm>
#include <cmath>
#include <limits>

namespace keel::serve {

namespace {

Error fieldError(qsizetype record, const QString &field, const QString &message)
{
    return makeError(ErrorKind::InvalidInput, message, {}, -1, QStringLiteral("records[%1].%2").arg(record).arg(field));
}

/// Appends one input value to a column of the schema's type; null is missing. Strict: a number column takes numbers.
/// The one place that decides what a request may send for each type, whichever way the body was read.
Status appendValue(data::ColumnBuilder &b, const registry::FeatureSchema &f, const TextSet &known, const InputValue &v,
                   qsizetype record, ModelRuntime::InputNotes *notes)
{
    using Kind = InputValue::Kind;
    if (v.kind == Kind::Null) {
        b.appendNull();
        if (notes)
            ++notes->missingValues;
        return Status::ok();
    }
    switch (b.type()) {
    case data::ColumnType::Int64: {
        if (v.kind != Kind::Number)
            return fieldError(record, f.name, QStringLiteral("expected a whole number"));
        const double d = v.number;
        if (!(std::abs(d) < 9.007199254740992e15) || std::floor(d) != d)
            return fieldError(record, f.name, QStringLiteral("expected a whole number, got %1").arg(d));
        b.appendInt64(int64_t(d));
        return Status::ok();
    }
    case data::ColumnType::Float64:
        if (v.kind != Kind::Number || !std::isfinite(v.number))
            return fieldError(record, f.name, QStringLiteral("expected a finite number"));
        b.appendFloat64(v.number);
        return Status::ok();
    case data::ColumnType::Bool:
        if (v.kind != Kind::Bool)
            return fieldError(record, f.name, QStringLiteral("expected true or false"));
        b.appendBool(v.boolean);
        return Status::ok();
    case data::ColumnType::Datetime: {
        const auto ms = v.kind == Kind::String ? data::parseIsoDatetime(QString::fromUtf8(v.text.data(), qsizetype(v.text.size())))
                                               : std::nullopt;
        if (!ms)
            return fieldError(record, f.name, QStringLiteral("expected an ISO 8601 date or time as a string"));
        b.appendDatetime(*ms);
        return Status::ok();
    }
    case data::ColumnType::Categorical:
    case data::ColumnType::String: {
        if (v.kind != Kind::String)
            return fieldError(record, f.name, QStringLiteral("expected a string"));
        if (notes && !known.empty() && known.find(v.text) == known.end())
            ++notes->unseenCategories;
        b.appendString(v.text);
        return Status::ok();
    }
    }
    return fieldError(record, f.name, QStringLiteral("has a type Keel cannot score"));
}

} // namespace

QJsonObject recordOf(const data::Table &t, qint64 r, const std::vector<registry::FeatureSchema> &schema)
{
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
    return o;
}

namespace {

/// The bundle's background rows as JSON records of the schema's types (numbers as numbers).
QJsonArray tableToRecords(const data::Table &t, const std::vector<registry::FeatureSchema> &schema)
{
    QJsonArray out;
    for (qint64 r = 0; r < t.rowCount(); ++r)
        out.append(recordOf(t, r, schema));
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
    for (const registry::FeatureSchema &f : v->schema) {
        const auto type = data::columnTypeFromName(f.type);
        if (!type)
            return makeError(ErrorKind::Corrupt, QStringLiteral("unknown column type '%1'").arg(f.type), v->ref(), -1,
                             QStringLiteral("schema.") + f.name);
        rt->m_inputNames.push_back(f.name.toUtf8());
        rt->m_inputTypes.push_back(*type);
        TextSet known;
        for (const QString &c : f.categories)
            known.insert(c.toStdString());
        rt->m_knownCategories.push_back(std::move(known));
    }
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
    // Compiled trees, kept only when they reproduce XGBoost exactly on the background rows.
    if (v->modelKind.startsWith(QLatin1String("xgboost")) && population->rowCount() > 0) {
        if (auto trees = explain::parseXgboostJson(loaded->modelBytes); trees && trees->validate()) {
            rt->m_trees = std::make_shared<const explain::TreeEnsemble>(std::move(*trees));
            auto fast = rt->evaluateTrees(*population);
            auto reference = rt->m_model.ctx.predict(*population);
            if (!fast || !reference || *fast != *reference)
                rt->m_trees.reset();
        }
    }
    return std::shared_ptr<const ModelRuntime>(std::move(rt));
}

QString ModelRuntime::target() const { return m_model.ctx.recipe->spec().target; }

QString ModelRuntime::mapLabel(const QString &raw) const { return m_model.ctx.recipe->spec().labelMap.value(raw, raw); }

Expected<data::Table> ModelRuntime::toTable(const QJsonArray &records, InputNotes *notes) const
{
    return toTable(RequestRecords::fromJson(records), notes);
}

Expected<data::Table> ModelRuntime::toTable(const RequestRecords &records, InputNotes *notes) const
{
    const size_t width = m_version.schema.size();
    std::vector<data::ColumnBuilder> builders;
    builders.reserve(width);
    for (size_t i = 0; i < width; ++i)
        builders.emplace_back(m_inputTypes[i]);
    std::vector<bool> seen(width);
    std::optional<Error> error;
    for (qsizetype r = 0; r < records.size(); ++r) {
        std::fill(seen.begin(), seen.end(), false);
        size_t position = 0;
        // One pass over the record's members: each must be an input, and goes straight into its column.
        const bool isObject = records.forEachMember(r, [&](std::string_view name, const InputValue &value) {
            // Members usually come in schema order: try the next input first.
            size_t i = position < width && m_inputNames[position] == QByteArrayView(name.data(), qsizetype(name.size())) ? position : width;
            for (size_t j = 0; i == width && j < width; ++j)
                if (m_inputNames[j] == QByteArrayView(name.data(), qsizetype(name.size())))
                    i = j;
            if (i == width) {
                QStringList inputs;
                for (const registry::FeatureSchema &f : m_version.schema)
                    inputs << f.name;
                error = fieldError(r, QString::fromUtf8(name.data(), qsizetype(name.size())),
                                   QStringLiteral("is not an input of %1 (inputs: %2)").arg(ref(), inputs.join(QStringLiteral(", "))));
                return false;
            }
            seen[i] = true;
            position = i + 1;
            if (Status s = appendValue(builders[i], m_version.schema[i], m_knownCategories[i], value, r, notes); !s) {
                error = s.error();
                return false;
            }
            return true;
        });
        if (!isObject)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("expected an object of feature values"), {}, -1,
                             QStringLiteral("records[%1]").arg(r));
        if (error)
            return *error;
        for (size_t i = 0; i < width; ++i)
            if (!seen[i])
                return fieldError(r, m_version.schema[i].name, QStringLiteral("is missing (send null for a missing value)"));
    }
    std::vector<data::Column> columns;
    columns.reserve(width);
    for (size_t i = 0; i < builders.size(); ++i)
        columns.push_back(builders[i].finish(m_version.schema[i].name));
    return data::Table(std::move(columns));
}

Expected<std::vector<double>> ModelRuntime::predict(const data::Table &rows) const
{
    if (m_trees)
        return evaluateTrees(rows);
    return m_model.ctx.predict(rows);
}

Expected<std::vector<double>> ModelRuntime::evaluateTrees(const data::Table &rows) const
{
    auto x = m_model.ctx.design(rows);
    if (!x)
        return x.error();
    const explain::TreeEnsemble &e = *m_trees;
    if (x->cols != e.numFeatures)
        return makeError(ErrorKind::Corrupt, QStringLiteral("the recipe makes %1 columns; the trees read %2").arg(x->cols).arg(e.numFeatures));
    const int k = e.numOutputs;
    std::vector<float> sums(static_cast<size_t>(k));
    const ml::Task task = m_version.task;
    std::vector<double> out(size_t(x->rows) * size_t(task == ml::Task::MulticlassClassification ? k : 1));
    for (qint64 r = 0; r < x->rows; ++r) {
        const float *row = x->values.data() + size_t(r) * size_t(x->cols);
        for (int o = 0; o < k; ++o)
            sums[size_t(o)] = float(e.baseMargin[size_t(o)]);
        // Float sums in tree order, as XGBoost's CPU predictor adds them.
        for (const explain::Tree &t : e.trees) {
            int n = 0;
            while (t.nodes[size_t(n)].left >= 0) {
                const explain::TreeNode &node = t.nodes[size_t(n)];
                const float v = row[node.feature];
                n = std::isnan(v) ? (node.defaultLeft ? node.left : node.right) : (v < node.threshold ? node.left : node.right);
            }
            sums[size_t(t.output)] += float(t.nodes[size_t(n)].value);
        }
        switch (task) {
        case ml::Task::BinaryClassification:
            out[size_t(r)] = double(1.0f / (1.0f + std::exp(-sums[0])));
            break;
        case ml::Task::MulticlassClassification: {
            const float top = *std::max_element(sums.begin(), sums.end());
            float total = 0;
            for (float &v : sums)
                total += (v = std::exp(v - top));
            for (int o = 0; o < k; ++o)
                out[size_t(r) * size_t(k) + size_t(o)] = double(sums[size_t(o)] / total);
            break;
        }
        case ml::Task::Regression: out[size_t(r)] = double(sums[0]); break;
        }
    }
    return out;
}

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

namespace {

void appendJsonString(QByteArray &out, QStringView s)
{
    out += '"';
    const char16_t *p = s.utf16();
    const qsizetype n = s.size();
    for (qsizetype i = 0; i < n;) {
        const char16_t u = p[i];
        if (u >= 0x80) {
            // A run of non-ASCII text, converted whole so surrogate pairs stay one character.
            qsizetype j = i + 1;
            while (j < n && p[j] >= 0x80)
                ++j;
            out += s.sliced(i, j - i).toUtf8();
            i = j;
            continue;
        }
        if (u == '"' || u == '\\') {
            out += '\\';
            out += char(u);
        } else if (u < 0x20) {
            out += "\\u00";
            out += "0123456789abcdef"[u >> 4];
            out += "0123456789abcdef"[u & 15];
        } else {
            out += char(u);
        }
        ++i;
    }
    out += '"';
}

void appendNumber(QByteArray &out, double v) { out += QByteArray::number(v, 'g', QLocale::FloatingPointShortest); }

} // namespace

void ModelRuntime::appendRecord(QByteArray &out, const QString &id, const std::vector<double> &predictions, qint64 row,
                                const explain::Attribution *attribution, std::pair<qsizetype, qsizetype> *outputSpan) const
{
    out += "{\"id\":";
    appendJson(out, id);
    out += ",\"model\":";
    appendJson(out, ref());
    out += ',';
    const qsizetype outputBegin = out.size();
    appendOutput(out, predictions, row);
    if (outputSpan)
        *outputSpan = {outputBegin, out.size() - outputBegin};
    if (attribution) {
        const ml::Task task = m_version.task;
        const int k = task == ml::Task::MulticlassClassification ? predictedClass(predictions, row) : 0;
        out += ",\"base_value\":" + QByteArray::number(attribution->base[size_t(k)], 'g', QLocale::FloatingPointShortest);
        out += ",\"contributions\":{";
        for (int f = 0; f < attribution->featureCount(); ++f) {
            if (f)
                out += ',';
            appendJson(out, attribution->features[f]);
            out += ':' + QByteArray::number(attribution->value(row, k, f), 'g', QLocale::FloatingPointShortest);
        }
        out += "},\"explained\":";
        appendJson(out, task == ml::Task::Regression               ? QStringLiteral("prediction")
                         : task == ml::Task::BinaryClassification ? QStringLiteral("log-odds of %1").arg(m_version.classes.value(1))
                                                                  : QStringLiteral("score of %1").arg(m_version.classes.value(k)));
    }
    out += '}';
}

void ModelRuntime::appendOutput(QByteArray &out, const std::vector<double> &p, qint64 row) const
{
    const QStringList &classes = m_version.classes;
    switch (m_version.task) {
    case ml::Task::BinaryClassification: {
        const double p1 = p[size_t(row)];
        out += "\"label\":";
        appendJsonString(out, classes.value(p1 >= 0.5 ? 1 : 0));
        out += ",\"probabilities\":{";
        appendJsonString(out, classes.value(0));
        out += ':';
        appendNumber(out, 1.0 - p1);
        out += ',';
        appendJsonString(out, classes.value(1));
        out += ':';
        appendNumber(out, p1);
        out += '}';
        return;
    }
    case ml::Task::MulticlassClassification: {
        out += "\"label\":";
        appendJsonString(out, classes.value(predictedClass(p, row)));
        out += ",\"probabilities\":{";
        const size_t k = size_t(classes.size());
        for (size_t c = 0; c < k; ++c) {
            if (c)
                out += ',';
            appendJsonString(out, classes[qsizetype(c)]);
            out += ':';
            appendNumber(out, p[size_t(row) * k + c]);
        }
        out += '}';
        return;
    }
    case ml::Task::Regression: break;
    }
    out += "\"value\":";
    appendNumber(out, p[size_t(row)]);
}

void appendJson(QByteArray &out, const QString &s) { appendJsonString(out, s); }

void appendJson(QByteArray &out, const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined: out += "null"; return;
    case QJsonValue::Bool: out += v.toBool() ? "true" : "false"; return;
    case QJsonValue::Double: {
        // Integers as integers (QJsonDocument's form: parsed whole numbers and integral doubles alike).
        constexpr qint64 notWhole = std::numeric_limits<qint64>::min();
        if (const qint64 i = v.toInteger(notWhole); i != notWhole)
            out += QByteArray::number(i);
        else if (const double d = v.toDouble(); std::isfinite(d))
            appendNumber(out, d);
        else
            out += "null";
        return;
    }
    case QJsonValue::String: appendJsonString(out, v.toString()); return;
    case QJsonValue::Array: {
        out += '[';
        const QJsonArray a = v.toArray();
        for (qsizetype i = 0; i < a.size(); ++i) {
            if (i)
                out += ',';
            appendJson(out, a[i]);
        }
        out += ']';
        return;
    }
    case QJsonValue::Object: {
        out += '{';
        const QJsonObject o = v.toObject();
        bool first = true;
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (!first)
                out += ',';
            first = false;
            appendJsonString(out, it.key());
            out += ':';
            appendJson(out, it.value());
        }
        out += '}';
        return;
    }
    }
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
