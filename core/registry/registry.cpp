#include "registry/registry.h"

#include "data/csvwriter.h"
#include "data/profile.h"
#include "explain/attribution.h"
#include "explain/report.h"
#include "store/objectstore.h"
#include "tracking/metrickeys.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "util/hash.h"
#include "util/yaml.h"
#include "workspace/datasets.h"
#include "workspace/gitrepo.h"
#include "workspace/storecare.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace keel::registry {

namespace {

constexpr int kBackgroundRows = 200;
constexpr int kImportanceRows = 1000;
constexpr quint64 kSampleSeed = 1;

QString cardPath(const QString &name) { return QStringLiteral("models/") + name + QStringLiteral(".yaml"); }

Error fieldError(const QString &field, const QString &message)
{
    return makeError(ErrorKind::InvalidInput, message, {}, -1, field);
}

// Cards are read back through yaml::parseAsJson, which gives every scalar as a string: these read either form.
QString text(const QJsonValue &v) { return v.isString() ? v.toString() : v.isDouble() ? QString::number(v.toDouble(), 'g', 17) : QString(); }
double number(const QJsonValue &v)
{
    if (v.isDouble())
        return v.toDouble();
    bool ok = false;
    const double d = v.toString().toDouble(&ok);
    return ok ? d : std::nan("");
}
std::optional<double> optionalNumber(const QJsonValue &v)
{
    if (v.isNull() || v.isUndefined())
        return std::nullopt;
    const double d = number(v);
    return std::isnan(d) ? std::nullopt : std::optional<double>(d);
}
QDateTime time(const QJsonValue &v) { return QDateTime::fromString(text(v), Qt::ISODateWithMs); }
QString timeText(const QDateTime &t) { return t.toUTC().toString(Qt::ISODateWithMs); }
QStringList strings(const QJsonValue &v)
{
    QStringList out;
    for (const QJsonValue &s : v.toArray())
        out << text(s);
    return out;
}

QJsonObject approvalJson(const Approval &a)
{
    return QJsonObject{{QStringLiteral("by"), a.by}, {QStringLiteral("at"), timeText(a.at)}, {QStringLiteral("message"), a.message}};
}

Status checkAliasName(const QString &alias)
{
    if (Status s = workspace::validateName(alias, QStringLiteral("alias"), QStringLiteral("ALIAS")); !s)
        return s;
    static const QRegularExpression versionLike(QRegularExpression::anchoredPattern(QStringLiteral("v[0-9]+")));
    if (alias == u"latest" || versionLike.match(alias).hasMatch())
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("'%1' is reserved (NAME, NAME@vN and NAME@latest name versions)").arg(alias));
    return {};
}

/// NAME@SUFFIX split; a reference without '@' has an empty suffix.
std::pair<QString, QString> splitRef(const QString &ref)
{
    const qsizetype at = ref.indexOf(QLatin1Char('@'));
    return at < 0 ? std::pair(ref, QString()) : std::pair(ref.left(at), ref.mid(at + 1));
}

Expected<const ModelVersion *> pick(const RegisteredModel &m, const QString &suffix, const QString &ref)
{
    static const QRegularExpression versionPattern(QRegularExpression::anchoredPattern(QStringLiteral("v([0-9]+)")));
    if (suffix.isEmpty() || suffix == u"latest") {
        if (const ModelVersion *v = m.latest())
            return v;
        return makeError(ErrorKind::NotFound, QStringLiteral("model %1 has no versions").arg(m.name));
    }
    if (const auto match = versionPattern.match(suffix); match.hasMatch()) {
        if (const ModelVersion *v = m.find(match.captured(1).toInt()))
            return v;
        return makeError(ErrorKind::NotFound, QStringLiteral("%1: model %2 has versions v1 to v%3")
                                                  .arg(ref, m.name)
                                                  .arg(m.versions.size()));
    }
    if (auto it = m.aliases.find(suffix); it != m.aliases.end()) {
        if (const ModelVersion *v = m.find(it.value()))
            return v;
        return makeError(ErrorKind::Corrupt, QStringLiteral("alias %1 of %2 points at v%3, which does not exist")
                                                 .arg(suffix, m.name)
                                                 .arg(it.value()));
    }
    return makeError(ErrorKind::NotFound, QStringLiteral("%1: model %2 has no alias '%3' (aliases: %4)")
                                              .arg(ref, m.name, suffix,
                                                   m.aliases.isEmpty() ? QStringLiteral("none")
                                                                       : QStringList(m.aliases.keys()).join(QStringLiteral(", "))));
}

/// Commits the card and its audit event in one step (Workspace::commitAndAudit); the caller holds the lock.
Expected<QString> commitCard(workspace::Workspace &ws, const RegisteredModel &model, const QString &message,
                             const QString &action, const QString &subject, const QJsonObject &detail)
{
    return ws.commitAndAudit({{cardPath(model.name), model.toYaml()}}, message, action, subject, detail);
}

/// The card as it is now, or an empty model called `name` when there is none yet.
Expected<RegisteredModel> loadOrNew(workspace::Workspace &ws, const QString &name)
{
    auto m = loadModel(ws, name);
    if (m)
        return m;
    if (!m.is(ErrorKind::NotFound))
        return m.error();
    RegisteredModel fresh;
    fresh.name = name;
    return fresh;
}

/// Training rows (0-based) of a run, from its split document: the train part (holdout and time splits) or every
/// row that had a target (k-fold, whose kept model trained on all of them).
std::vector<qint64> trainingRows(const QJsonObject &split, qint64 rows)
{
    std::vector<qint64> out;
    if (split.contains(QStringLiteral("train"))) {
        for (const QJsonValue &v : split.value(QStringLiteral("train")).toArray())
            out.push_back(v.toInteger() - 1);
        return out;
    }
    QSet<qint64> dropped;
    for (const QJsonValue &v : split.value(QStringLiteral("dropped_missing_target")).toArray())
        dropped.insert(v.toInteger() - 1);
    for (qint64 r = 0; r < rows; ++r)
        if (!dropped.contains(r))
            out.push_back(r);
    return out;
}

std::vector<qint64> sampleRows(std::vector<qint64> rows, int count, quint64 seed)
{
    if (qint64(rows.size()) > count) {
        explain::Rng rng(seed);
        rng.shuffle(rows);
        rows.resize(size_t(count));
    }
    std::sort(rows.begin(), rows.end());
    return rows;
}

QString columnTypeText(data::ColumnType t) { return data::columnTypeName(t); }

QString kindText(ml::Recipe::Feature::Kind k)
{
    switch (k) {
    case ml::Recipe::Feature::Kind::Numeric: return QStringLiteral("numeric");
    case ml::Recipe::Feature::Kind::Categorical: return QStringLiteral("categorical");
    case ml::Recipe::Feature::Kind::Datetime: return QStringLiteral("datetime");
    }
    return {};
}

} // namespace

// ---- ModelVersion and RegisteredModel ------------------------------------------------------------------------------

std::optional<double> ModelVersion::metric(const QString &key) const
{
    for (const auto &[k, v] : metrics)
        if (k == key)
            return v;
    return std::nullopt;
}

QJsonObject ModelVersion::cardJson() const
{
    QJsonObject params;
    for (const auto &[k, v] : this->params)
        params.insert(k, v);
    QJsonObject metricsJson;
    for (const auto &[k, v] : metrics)
        metricsJson.insert(k, std::isfinite(v) ? QJsonValue(v) : QJsonValue(QString::number(v)));
    QJsonArray schemaJson;
    for (const FeatureSchema &f : schema) {
        QJsonObject o{{QStringLiteral("name"), f.name},
                      {QStringLiteral("type"), f.type},
                      {QStringLiteral("kind"), f.kind},
                      {QStringLiteral("missing_share"), f.missingShare}};
        if (!f.categories.isEmpty())
            o.insert(QStringLiteral("categories"), QJsonArray::fromStringList(f.categories));
        if (f.min)
            o.insert(QStringLiteral("min"), *f.min);
        if (f.max)
            o.insert(QStringLiteral("max"), *f.max);
        schemaJson.append(o);
    }
    QJsonArray importanceJson;
    for (const FeatureWeight &w : importance)
        importanceJson.append(QJsonObject{{QStringLiteral("feature"), w.feature}, {QStringLiteral("mean_abs_shap"), w.meanAbsShap}});
    QJsonObject o{{QStringLiteral("name"), name},
                  {QStringLiteral("version"), version},
                  {QStringLiteral("registered"), timeText(registered)},
                  {QStringLiteral("by"), by},
                  {QStringLiteral("message"), message},
                  {QStringLiteral("run"), runId},
                  {QStringLiteral("run_name"), runName},
                  {QStringLiteral("experiment"), experiment},
                  {QStringLiteral("model_kind"), modelKind},
                  {QStringLiteral("task"), ml::taskName(task)},
                  {QStringLiteral("classes"), QJsonArray::fromStringList(classes)},
                  {QStringLiteral("data"), QJsonObject{{QStringLiteral("train"), data.train},
                                                       {QStringLiteral("train_content_id"), data.trainContentId},
                                                       {QStringLiteral("evaluate"), data.evaluate},
                                                       {QStringLiteral("evaluate_content_id"), data.evaluateContentId}}},
                  {QStringLiteral("params"), params},
                  {QStringLiteral("metrics"), metricsJson},
                  {QStringLiteral("schema"), schemaJson},
                  {QStringLiteral("importance"), importanceJson},
                  // The recipe section as one JSON text: read back exactly, whatever YAML makes of its scalars.
                  {QStringLiteral("recipe"), QString::fromUtf8(QJsonDocument(recipeSpec).toJson(QJsonDocument::Compact))}};
    if (!importedFrom.isEmpty())
        o.insert(QStringLiteral("imported_from"), importedFrom);
    return o;
}

Expected<ModelVersion> ModelVersion::fromCardJson(const QJsonObject &json)
{
    ModelVersion v;
    v.name = text(json.value(QStringLiteral("name")));
    v.version = int(number(json.value(QStringLiteral("version"))));
    if (v.version < 1)
        return fieldError(QStringLiteral("version"), QStringLiteral("a version number is a whole number from 1"));
    v.registered = time(json.value(QStringLiteral("registered")));
    v.by = text(json.value(QStringLiteral("by")));
    v.message = text(json.value(QStringLiteral("message")));
    v.runId = text(json.value(QStringLiteral("run")));
    v.runName = text(json.value(QStringLiteral("run_name")));
    v.experiment = text(json.value(QStringLiteral("experiment")));
    v.modelKind = text(json.value(QStringLiteral("model_kind")));
    const auto task = ml::taskFromName(text(json.value(QStringLiteral("task"))));
    if (!task)
        return fieldError(QStringLiteral("task"), QStringLiteral("'%1' is not regression, binary or multiclass")
                                                      .arg(text(json.value(QStringLiteral("task")))));
    v.task = *task;
    v.classes = strings(json.value(QStringLiteral("classes")));
    const QJsonObject d = json.value(QStringLiteral("data")).toObject();
    v.data = {text(d.value(QStringLiteral("train"))), text(d.value(QStringLiteral("train_content_id"))),
              text(d.value(QStringLiteral("evaluate"))), text(d.value(QStringLiteral("evaluate_content_id")))};
    const QJsonObject params = json.value(QStringLiteral("params")).toObject();
    for (auto it = params.begin(); it != params.end(); ++it)
        v.params.emplace_back(it.key(), text(it.value()));
    const QJsonObject metrics = json.value(QStringLiteral("metrics")).toObject();
    for (auto it = metrics.begin(); it != metrics.end(); ++it)
        v.metrics.emplace_back(it.key(), number(it.value()));
    for (const QJsonValue &f : json.value(QStringLiteral("schema")).toArray()) {
        const QJsonObject o = f.toObject();
        FeatureSchema s;
        s.name = text(o.value(QStringLiteral("name")));
        s.type = text(o.value(QStringLiteral("type")));
        s.kind = text(o.value(QStringLiteral("kind")));
        s.categories = strings(o.value(QStringLiteral("categories")));
        s.min = optionalNumber(o.value(QStringLiteral("min")));
        s.max = optionalNumber(o.value(QStringLiteral("max")));
        s.missingShare = number(o.value(QStringLiteral("missing_share")));
        if (s.name.isEmpty())
            return fieldError(QStringLiteral("schema"), QStringLiteral("a schema entry has no name"));
        v.schema.push_back(s);
    }
    for (const QJsonValue &w : json.value(QStringLiteral("importance")).toArray()) {
        const QJsonObject o = w.toObject();
        v.importance.push_back({text(o.value(QStringLiteral("feature"))), number(o.value(QStringLiteral("mean_abs_shap")))});
    }
    const QString recipe = text(json.value(QStringLiteral("recipe")));
    if (!recipe.isEmpty()) {
        QJsonParseError err;
        const QJsonDocument doc = QJsonDocument::fromJson(recipe.toUtf8(), &err);
        if (err.error != QJsonParseError::NoError || !doc.isObject())
            return fieldError(QStringLiteral("recipe"), QStringLiteral("not a JSON object"));
        v.recipeSpec = doc.object();
    }
    const QJsonObject imported = json.value(QStringLiteral("imported_from")).toObject();
    if (!imported.isEmpty())
        v.importedFrom = QJsonObject{{QStringLiteral("name"), text(imported.value(QStringLiteral("name")))},
                                     {QStringLiteral("version"), int(number(imported.value(QStringLiteral("version"))))},
                                     {QStringLiteral("registered"), text(imported.value(QStringLiteral("registered")))},
                                     {QStringLiteral("by"), text(imported.value(QStringLiteral("by")))},
                                     {QStringLiteral("bundle_sha256"), text(imported.value(QStringLiteral("bundle_sha256")))},
                                     {QStringLiteral("signed"), imported.value(QStringLiteral("signed")).toBool()
                                                                    || text(imported.value(QStringLiteral("signed"))) == u"true"}};
    return v;
}

const ModelVersion *RegisteredModel::find(int version) const
{
    for (const ModelVersion &v : versions)
        if (v.version == version)
            return &v;
    return nullptr;
}

QStringList RegisteredModel::aliasesOf(int version) const
{
    QStringList out;
    for (auto it = aliases.begin(); it != aliases.end(); ++it)
        if (it.value() == version)
            out << it.key();
    return out;
}

QByteArray RegisteredModel::toYaml() const
{
    QJsonArray versionsJson;
    for (const ModelVersion &v : versions) {
        QJsonObject o = v.cardJson();
        o.remove(QStringLiteral("name"));
        o.insert(QStringLiteral("bundle"), v.bundle);
        o.insert(QStringLiteral("bundle_sha256"), v.bundleSha256);
        QJsonArray approvals;
        for (const Approval &a : v.approvals)
            approvals.append(approvalJson(a));
        o.insert(QStringLiteral("approvals"), approvals);
        versionsJson.append(o);
    }
    QJsonObject aliasesJson;
    for (auto it = aliases.begin(); it != aliases.end(); ++it)
        aliasesJson.insert(it.key(), it.value());
    const QJsonObject root{{QStringLiteral("format"), QStringLiteral("keel-model")},
                           {QStringLiteral("name"), name},
                           {QStringLiteral("aliases"), aliasesJson},
                           {QStringLiteral("versions"), versionsJson}};
    return QByteArrayLiteral("# Keel model card: the versions of this model, its aliases and approvals. Written by keel models;\n"
                             "# each change is one commit, so its history is this file's git log.\n")
        + yaml::emitJson(root);
}

Expected<RegisteredModel> RegisteredModel::fromYaml(const QByteArray &yamlText, const QString &source)
{
    auto doc = yaml::parseAsJson(yamlText, source);
    if (!doc)
        return doc.error();
    const QJsonObject root = doc->root.toObject();
    auto located = [&](Error e) {
        e.file = source;
        e.line = yaml::lineOfField(doc->lines, e.field);
        return e;
    };
    if (text(root.value(QStringLiteral("format"))) != u"keel-model")
        return located(fieldError(QStringLiteral("format"), QStringLiteral("not a Keel model card")));
    RegisteredModel m;
    m.name = text(root.value(QStringLiteral("name")));
    const QJsonArray versions = root.value(QStringLiteral("versions")).toArray();
    for (qsizetype i = 0; i < versions.size(); ++i) {
        QJsonObject o = versions[i].toObject();
        o.insert(QStringLiteral("name"), m.name);
        auto v = ModelVersion::fromCardJson(o);
        if (!v) {
            Error e = v.error();
            e.field = QStringLiteral("versions.%1.%2").arg(i).arg(e.field);
            return located(e);
        }
        v->bundle = text(o.value(QStringLiteral("bundle")));
        v->bundleSha256 = text(o.value(QStringLiteral("bundle_sha256")));
        for (const QJsonValue &a : o.value(QStringLiteral("approvals")).toArray()) {
            const QJsonObject ao = a.toObject();
            v->approvals.push_back({text(ao.value(QStringLiteral("by"))), time(ao.value(QStringLiteral("at"))),
                                    text(ao.value(QStringLiteral("message")))});
        }
        if (v->version != int(i) + 1)
            return located(fieldError(QStringLiteral("versions.%1.version").arg(i),
                                      QStringLiteral("versions must be numbered 1, 2, ... in order")));
        m.versions.push_back(std::move(*v));
    }
    const QJsonObject aliases = root.value(QStringLiteral("aliases")).toObject();
    for (auto it = aliases.begin(); it != aliases.end(); ++it) {
        const int to = int(number(it.value()));
        if (!m.find(to))
            return located(fieldError(QStringLiteral("aliases.") + it.key(),
                                      QStringLiteral("alias %1 points at v%2, which does not exist").arg(it.key()).arg(to)));
        m.aliases.insert(it.key(), to);
    }
    return m;
}

// ---- reading -------------------------------------------------------------------------------------------------------

Expected<QStringList> listModels(workspace::Workspace &ws)
{
    const QDir dir(ws.root() + QStringLiteral("/models"));
    QStringList names;
    for (const QString &f : dir.entryList({QStringLiteral("*.yaml")}, QDir::Files, QDir::Name))
        names << f.chopped(5);
    return names;
}

Expected<RegisteredModel> loadModel(workspace::Workspace &ws, const QString &name)
{
    if (Status s = workspace::validateName(name, QStringLiteral("model"), QStringLiteral("NAME")); !s)
        return s.error();
    const QString path = ws.root() + QLatin1Char('/') + cardPath(name);
    if (!QFileInfo::exists(path)) {
        auto names = listModels(ws);
        return makeError(ErrorKind::NotFound, QStringLiteral("no model named '%1' (registered: %2)")
                                                  .arg(name, names && !names->isEmpty() ? names->join(QStringLiteral(", "))
                                                                                        : QStringLiteral("none")));
    }
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    auto m = RegisteredModel::fromYaml(*bytes, path);
    if (!m)
        return m.error();
    if (m->name != name)
        return makeError(ErrorKind::Corrupt, QStringLiteral("the card calls the model '%1'").arg(m->name), path, -1,
                         QStringLiteral("name"));
    return m;
}

Expected<ModelVersion> resolveVersion(workspace::Workspace &ws, const QString &ref)
{
    const auto [name, suffix] = splitRef(ref);
    auto m = loadModel(ws, name);
    if (!m)
        return m.error();
    auto v = pick(*m, suffix, ref);
    if (!v)
        return v.error();
    return **v;
}

Expected<RegistryPolicy> registryPolicy(workspace::Workspace &ws)
{
    const QString path = ws.root() + QStringLiteral("/keel.yaml");
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    auto doc = yaml::parseAsJson(*bytes, path);
    if (!doc)
        return doc.error();
    RegistryPolicy p;
    const QJsonValue required = doc->root.toObject().value(QStringLiteral("registry")).toObject().value(QStringLiteral("require_approval"));
    if (required.isArray())
        p.requireApproval = strings(required);
    else if (required.isString())
        p.requireApproval = {required.toString()};
    else if (!required.isUndefined() && !required.isNull())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("expected a list of alias names"), path,
                         yaml::lineOfField(doc->lines, QStringLiteral("registry.require_approval")),
                         QStringLiteral("registry.require_approval"));
    return p;
}

// ---- registering ---------------------------------------------------------------------------------------------------

namespace {

/// Everything a registration computes before it commits: the version and its bundle members.
struct Registration {
    ModelVersion version;
    BundleMembers members;
};

Expected<Registration> prepareRegistration(workspace::Workspace &ws, const QString &runIdOrPrefix, Feedback *feedback)
{
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    auto run = (*ts)->findRun(runIdOrPrefix);
    if (!run)
        return run.error();
    if (run->status != tracking::RunStatus::Finished)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("run %1 (%2) is %3: only a finished run can be registered")
                                                      .arg(run->id.left(8), run->name, tracking::runStatusName(run->status)));
    reportProgress(feedback, 0, 4, QStringLiteral("model"));
    auto model = explain::loadRunModel(ws, run->id);   // checks the artifacts against their hashes
    if (!model)
        return model.error();
    auto artifacts = workspace::runArtifacts(ws, run->id);
    if (!artifacts)
        return artifacts.error();
    QString splitId;
    for (const tracking::ArtifactRecord &a : artifacts->second)
        if (a.name == u"split")
            splitId = a.objectId;
    if (splitId.isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("run %1 has no split artifact (it was trained before splits were "
                                                                 "recorded): train it again to register it")
                                                      .arg(run->id.left(8)));
    auto recipeBytes = ws.store().readAll(model->recipeObjectId);
    if (!recipeBytes)
        return recipeBytes.error();
    auto splitBytes = ws.store().readAll(splitId);
    if (!splitBytes)
        return splitBytes.error();
    const QJsonObject split = QJsonDocument::fromJson(*splitBytes).object();

    Registration reg;
    ModelVersion &v = reg.version;
    v.runId = run->id;
    v.runName = run->name;
    v.experiment = run->experiment;
    v.modelKind = model->modelKind;
    v.task = model->ctx.task();
    v.classes = model->ctx.classes();
    auto params = (*ts)->params(run->id);
    if (!params)
        return params.error();
    v.params = *params;
    auto points = (*ts)->metrics(run->id);
    if (!points)
        return points.error();
    v.metrics = tracking::finalMetrics(*points);
    auto param = [&](const QString &key) {
        for (const auto &[k, val] : v.params)
            if (k == key)
                return val;
        return QString();
    };
    v.data = {param(QStringLiteral("data")), param(QStringLiteral("data.content_id")), param(QStringLiteral("evaluate")),
              param(QStringLiteral("evaluate.content_id"))};
    v.recipeSpec = model->ctx.recipe->toJson().value(QStringLiteral("spec")).toObject();

    // Schema: the recipe's input columns, typed and ranged by the training version's profile.
    reportProgress(feedback, 1, 4, QStringLiteral("schema"));
    auto trainVersion = workspace::resolveDataset(ws, v.data.train);
    if (!trainVersion)
        return trainVersion.error();
    if (trainVersion->record.contentId != v.data.trainContentId)
        return makeError(ErrorKind::Corrupt, QStringLiteral("%1 no longer holds the bytes run %2 trained on")
                                                 .arg(v.data.train, run->id.left(8)));
    // A version added with --no-parse records no profile: the schema's types and ranges come from the table itself.
    auto trainTable = workspace::loadDataset(ws, *trainVersion, feedback);
    if (!trainTable)
        return trainTable.error();
    data::TableProfile computedProfile;
    if (!trainVersion->record.parsed) {
        auto computed = data::profileTable(*trainTable, feedback);
        if (!computed)
            return computed.error();
        computedProfile = std::move(*computed);
    }
    const data::TableProfile &profile = trainVersion->record.parsed ? trainVersion->record.profile : computedProfile;
    QStringList inputs;
    for (const ml::Recipe::Feature &f : model->ctx.recipe->features()) {
        if (f.derived >= 0)
            continue;
        FeatureSchema s;
        s.name = f.name;
        s.kind = kindText(f.kind);
        s.categories = f.kind == ml::Recipe::Feature::Kind::Categorical ? f.categories : QStringList();
        if (const data::ColumnProfile *c = profile.find(f.name)) {
            s.type = columnTypeText(c->type);
            s.min = c->min;
            s.max = c->max;
            s.missingShare = c->missingShare();
        }
        v.schema.push_back(s);
        inputs << f.name;
    }

    // Background: a seeded sample of the training rows, the input columns only.
    reportProgress(feedback, 2, 4, QStringLiteral("background"));
    const std::vector<qint64> bgRows = sampleRows(trainingRows(split, trainTable->rowCount()), kBackgroundRows, kSampleSeed);
    auto background = data::selectRows(*trainTable, bgRows);
    if (!background)
        return background.error();
    auto backgroundCsv = data::tableToCsv(*background, inputs);
    if (!backgroundCsv)
        return backgroundCsv.error();

    // Importance: mean |SHAP| on a seeded sample of the run's test rows, against the background.
    reportProgress(feedback, 3, 4, QStringLiteral("importance"));
    auto testData = explain::defaultExplainData(ws, *model);
    if (!testData)
        return testData.error();
    auto testVersion = workspace::resolveDataset(ws, testData->ref);
    if (!testVersion)
        return testVersion.error();
    auto testTable = testVersion->record.contentId == trainVersion->record.contentId ? Expected<data::Table>(*trainTable)
                                                                                      : workspace::loadDataset(ws, *testVersion, feedback);
    if (!testTable)
        return testTable.error();
    std::vector<qint64> testRows = testData->rows;
    if (testRows.empty()) {
        testRows.resize(size_t(testTable->rowCount()));
        std::iota(testRows.begin(), testRows.end(), qint64(0));
    }
    auto sample = data::selectRows(*testTable, sampleRows(testRows, kImportanceRows, kSampleSeed));
    if (!sample)
        return sample.error();
    explain::ExplainRequest options;
    options.seed = kSampleSeed;
    auto attributor = explain::RowAttributor::prepare(*model, QStringLiteral("auto"), *background, options, feedback);
    if (!attributor)
        return attributor.error();
    auto a = attributor->explain(*sample, feedback);
    if (!a)
        return a.error();
    std::vector<double> weight(size_t(a->featureCount()), 0.0);
    for (int k = 0; k < a->outputs; ++k) {
        const std::vector<double> m = explain::meanAbsImportance(*a, k);
        for (size_t f = 0; f < weight.size(); ++f)
            weight[f] += m[f] / double(a->outputs);
    }
    std::vector<int> order(weight.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return weight[size_t(x)] > weight[size_t(y)]; });
    for (int f : order)
        v.importance.push_back({a->features[f], weight[size_t(f)]});

    reg.members = {{QStringLiteral("model"), model->modelBytes},
                   {QStringLiteral("recipe.json"), *recipeBytes},
                   {QStringLiteral("split.json"), *splitBytes},
                   {QStringLiteral("background.csv"), *backgroundCsv}};
    reportProgress(feedback, 4, 4, QStringLiteral("importance"));
    return reg;
}

/// Puts the bundle of `v` (with `members`) in the store and fills in its identity.
Status storeBundle(workspace::Workspace &ws, ModelVersion &v, BundleMembers members)
{
    members[QStringLiteral("card.json")] = QJsonDocument(v.cardJson()).toJson(QJsonDocument::Indented);
    auto bytes = writeBundle(members);
    if (!bytes)
        return bytes.error();
    auto added = ws.store().addBytes(*bytes);
    if (!added)
        return added.error();
    v.bundle = added->id;
    v.bundleSha256 = toHex(sha256(*bytes));
    return {};
}

} // namespace

Expected<ModelVersion> registerRun(workspace::Workspace &ws, const QString &runIdOrPrefix, const QString &name,
                                   const QString &message, Feedback *feedback)
{
    if (Status s = workspace::validateName(name, QStringLiteral("model"), QStringLiteral("--name")); !s)
        return s.error();
    auto guard = ws.guardObjectWrites();   // objects written below stay until the commit records them
    if (!guard)
        return guard.error();
    auto reg = prepareRegistration(ws, runIdOrPrefix, feedback);
    if (!reg)
        return reg.error();
    if (isCancelled(feedback))
        return cancelledError();
    auto lock = ws.lock();
    if (!lock)
        return lock.error();
    auto model = loadOrNew(ws, name);
    if (!model)
        return model.error();
    auto by = ws.git().signature();
    if (!by)
        return by.error();
    ModelVersion &v = reg->version;
    v.name = name;
    v.version = int(model->versions.size()) + 1;
    v.registered = QDateTime::currentDateTimeUtc();
    v.by = *by;
    v.message = message;
    if (Status s = storeBundle(ws, v, std::move(reg->members)); !s)
        return s.error();
    model->versions.push_back(v);
    const QString subject = QStringLiteral("model:") + v.ref();
    auto commit = commitCard(ws, *model,
                             message.isEmpty() ? QStringLiteral("Register %1 from run %2").arg(v.ref(), v.runId.left(8))
                                               : QStringLiteral("Register %1: %2").arg(v.ref(), message),
                             QStringLiteral("models.register"), subject,
                             {{QStringLiteral("run"), v.runId}, {QStringLiteral("bundle"), v.bundle},
                              {QStringLiteral("bundle_sha256"), v.bundleSha256}});
    if (!commit)
        return commit.error();
    return v;
}

// ---- aliases and approvals -----------------------------------------------------------------------------------------

namespace {

/// A version reference resolved under the workspace lock, with the card it came from (to change and commit).
struct LockedVersion {
    workspace::Workspace::Lock lock;
    RegisteredModel model;
    int version = 0;
};

Expected<LockedVersion> lockVersion(workspace::Workspace &ws, const QString &versionRef)
{
    auto lock = ws.lock();
    if (!lock)
        return lock.error();
    const auto [name, suffix] = splitRef(versionRef);
    auto model = loadModel(ws, name);
    if (!model)
        return model.error();
    auto target = pick(*model, suffix, versionRef);
    if (!target)
        return target.error();
    const int version = (*target)->version;
    return LockedVersion{std::move(*lock), std::move(*model), version};
}

} // namespace

Expected<QString> moveAlias(workspace::Workspace &ws, const QString &versionRef, const QString &alias, const QString &message)
{
    if (Status s = checkAliasName(alias); !s)
        return s.error();
    auto policy = registryPolicy(ws);
    if (!policy)
        return policy.error();
    auto locked = lockVersion(ws, versionRef);
    if (!locked)
        return locked.error();
    RegisteredModel *model = &locked->model;
    const QString &name = model->name;
    const ModelVersion &v = *model->find(locked->version);
    if (policy->requireApproval.contains(alias) && v.approvals.empty())
        return makeError(ErrorKind::Conflict, QStringLiteral("%1 has no approval, and keel.yaml requires one before alias '%2' "
                                                             "moves (keel models approve %1 -m ...)")
                                                  .arg(v.ref(), alias));
    const int from = model->aliases.value(alias, 0);
    if (from == v.version)
        return makeError(ErrorKind::Conflict, QStringLiteral("%1 already points at %2").arg(alias, v.ref()));
    model->aliases.insert(alias, v.version);
    const QString what = from ? QStringLiteral("Move %1 of %2 from v%3 to v%4").arg(alias, name).arg(from).arg(v.version)
                              : QStringLiteral("Point %1 of %2 at v%3").arg(alias, name).arg(v.version);
    return commitCard(ws, *model, message.isEmpty() ? what : what + QStringLiteral(": ") + message,
                      QStringLiteral("models.alias"), QStringLiteral("model:") + name,
                      {{QStringLiteral("alias"), alias}, {QStringLiteral("from"), from}, {QStringLiteral("to"), v.version},
                       {QStringLiteral("message"), message}});
}

Expected<QString> removeAlias(workspace::Workspace &ws, const QString &name, const QString &alias, const QString &message)
{
    auto lock = ws.lock();
    if (!lock)
        return lock.error();
    auto model = loadModel(ws, name);
    if (!model)
        return model.error();
    if (!model->aliases.contains(alias))
        return makeError(ErrorKind::NotFound, QStringLiteral("model %1 has no alias '%2'").arg(name, alias));
    const int from = model->aliases.take(alias);
    const QString what = QStringLiteral("Remove %1 of %2 (was v%3)").arg(alias, name).arg(from);
    return commitCard(ws, *model, message.isEmpty() ? what : what + QStringLiteral(": ") + message,
                      QStringLiteral("models.alias"), QStringLiteral("model:") + name,
                      {{QStringLiteral("alias"), alias}, {QStringLiteral("from"), from}, {QStringLiteral("to"), 0},
                       {QStringLiteral("message"), message}});
}

Expected<QString> approveVersion(workspace::Workspace &ws, const QString &versionRef, const QString &message)
{
    if (message.trimmed().isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("an approval says what was reviewed (-m)"));
    auto locked = lockVersion(ws, versionRef);
    if (!locked)
        return locked.error();
    RegisteredModel *model = &locked->model;
    const QString &name = model->name;
    auto by = ws.git().signature();
    if (!by)
        return by.error();
    const int version = locked->version;
    Approval a{*by, QDateTime::currentDateTimeUtc(), message};
    model->versions[size_t(version - 1)].approvals.push_back(a);
    return commitCard(ws, *model, QStringLiteral("Approve %1@v%2: %3").arg(name).arg(version).arg(message),
                      QStringLiteral("models.approve"), QStringLiteral("model:%1@v%2").arg(name).arg(version),
                      approvalJson(a));
}

// ---- history -------------------------------------------------------------------------------------------------------

Expected<std::vector<AliasMove>> aliasHistory(workspace::Workspace &ws, const QString &name, const QString &alias)
{
    if (Status s = workspace::validateName(name, QStringLiteral("model"), QStringLiteral("NAME")); !s)
        return s.error();
    auto commits = ws.git().historyOf(cardPath(name));
    if (!commits)
        return commits.error();
    if (commits->empty())
        return makeError(ErrorKind::NotFound, QStringLiteral("no model named '%1' in the workspace history").arg(name));
    std::vector<AliasMove> moves;
    QMap<QString, int> before;
    for (const workspace::CommitInfo &c : *commits) {
        auto bytes = ws.git().readFileAt(c.id, cardPath(name));
        if (!bytes)
            return bytes.error();
        QMap<QString, int> now;
        if (*bytes) {
            auto card = RegisteredModel::fromYaml(**bytes, cardPath(name) + QLatin1Char('@') + c.id.left(10));
            if (!card)
                return card.error();
            now = card->aliases;
        }
        QStringList names = before.keys() + now.keys();
        names.removeDuplicates();
        names.sort();
        for (const QString &a : names) {
            if (!alias.isEmpty() && a != alias)
                continue;
            const int from = before.value(a, 0), to = now.value(a, 0);
            if (from != to)
                moves.push_back({a, from, to, c.time, c.author, c.message, c.id});
        }
        before = now;
    }
    return moves;
}

Expected<QMap<QString, int>> aliasesAt(workspace::Workspace &ws, const QString &name, const QDateTime &at)
{
    if (Status s = workspace::validateName(name, QStringLiteral("model"), QStringLiteral("NAME")); !s)
        return s.error();
    auto commits = ws.git().historyOf(cardPath(name));
    if (!commits)
        return commits.error();
    if (commits->empty())
        return makeError(ErrorKind::NotFound, QStringLiteral("no model named '%1' in the workspace history").arg(name));
    const workspace::CommitInfo *last = nullptr;
    for (const workspace::CommitInfo &c : *commits)
        if (c.time <= at)
            last = &c;
    if (!last)
        return QMap<QString, int>();
    auto bytes = ws.git().readFileAt(last->id, cardPath(name));
    if (!bytes)
        return bytes.error();
    if (!*bytes)
        return QMap<QString, int>();
    auto card = RegisteredModel::fromYaml(**bytes, cardPath(name) + QLatin1Char('@') + last->id.left(10));
    if (!card)
        return card.error();
    return card->aliases;
}

// ---- bytes ---------------------------------------------------------------------------------------------------------

namespace {

Expected<Bundle> readStoredBundle(workspace::Workspace &ws, const ModelVersion &v)
{
    auto bytes = ws.store().readAll(v.bundle);
    if (!bytes)
        return bytes.error();
    if (toHex(sha256(*bytes)) != v.bundleSha256)
        return makeError(ErrorKind::Corrupt, QStringLiteral("the bundle of %1 does not match the SHA-256 its card records").arg(v.ref()));
    return readBundle(*bytes, v.ref());
}

} // namespace

Expected<LoadedVersion> loadVersion(workspace::Workspace &ws, const ModelVersion &version)
{
    auto bundle = readStoredBundle(ws, version);
    if (!bundle)
        return bundle.error();
    const QJsonObject recipe = QJsonDocument::fromJson(bundle->members[QStringLiteral("recipe.json")]).object();
    auto ctx = explain::ModelContext::fromArtifacts(version.modelKind, bundle->members[QStringLiteral("model")], recipe);
    if (!ctx)
        return ctx.error();
    LoadedVersion out;
    out.version = version;
    out.ctx = std::move(*ctx);
    out.modelBytes = bundle->members[QStringLiteral("model")];
    out.split = QJsonDocument::fromJson(bundle->members[QStringLiteral("split.json")]).object();
    out.backgroundCsv = bundle->members[QStringLiteral("background.csv")];
    return out;
}

Status exportVersion(workspace::Workspace &ws, const QString &versionRef, const QString &outPath, bool overwrite,
                     const QByteArray &privateKeyPem)
{
    auto v = resolveVersion(ws, versionRef);
    if (!v)
        return v.error();
    auto bundle = readStoredBundle(ws, *v);
    if (!bundle)
        return bundle.error();
    QByteArray bytes;
    if (privateKeyPem.isEmpty()) {
        auto stored = ws.store().readAll(v->bundle);
        if (!stored)
            return stored.error();
        bytes = std::move(*stored);
    } else {
        auto signedBytes = writeBundle(bundle->members, privateKeyPem);
        if (!signedBytes)
            return signedBytes.error();
        bytes = std::move(*signedBytes);
    }
    OutputPolicy policy;
    policy.overwrite = overwrite;
    if (Status s = writeUserFile(outPath, bytes, policy); !s)
        return s;
    return ws.audit(QStringLiteral("models.export"), QStringLiteral("model:") + v->ref(),
                    {{QStringLiteral("file"), QFileInfo(outPath).absoluteFilePath()},
                     {QStringLiteral("sha256"), toHex(sha256(bytes))},
                     {QStringLiteral("signed"), !privateKeyPem.isEmpty()}});
}

Expected<ModelVersion> importBundle(workspace::Workspace &ws, const QString &file, const QString &name, const QString &message,
                                    const QByteArray &trustedPublicPem)
{
    if (Status s = checkInputFile(file); !s)
        return s.error();
    auto bytes = readFile(file);
    if (!bytes)
        return bytes.error();
    auto bundle = readBundle(*bytes, file);
    if (!bundle)
        return bundle.error();
    if (!trustedPublicPem.isEmpty()) {
        if (Status s = verifySignedBy(*bundle, trustedPublicPem, file); !s)
            return s.error();
    }
    QJsonParseError err;
    const QJsonDocument card = QJsonDocument::fromJson(bundle->members[QStringLiteral("card.json")], &err);
    if (err.error != QJsonParseError::NoError || !card.isObject())
        return makeError(ErrorKind::Corrupt, QStringLiteral("card.json is not a JSON object"), file, -1, QStringLiteral("card.json"));
    auto original = ModelVersion::fromCardJson(card.object());
    if (!original) {
        Error e = original.error();
        e.file = file;
        e.field = QStringLiteral("card.json: ") + e.field;
        return e;
    }
    // The model must load before it is registered.
    const QJsonObject recipe = QJsonDocument::fromJson(bundle->members[QStringLiteral("recipe.json")]).object();
    if (auto ctx = explain::ModelContext::fromArtifacts(original->modelKind, bundle->members[QStringLiteral("model")], recipe); !ctx)
        return makeError(ErrorKind::Corrupt, QStringLiteral("the bundle's model does not load: %1").arg(ctx.message()), file);
    const QString target = name.isEmpty() ? original->name : name;
    if (Status s = workspace::validateName(target, QStringLiteral("model"), QStringLiteral("--name")); !s)
        return s.error();

    auto guard = ws.guardObjectWrites();
    if (!guard)
        return guard.error();
    auto lock = ws.lock();
    if (!lock)
        return lock.error();
    auto model = loadOrNew(ws, target);
    if (!model)
        return model.error();
    ModelVersion v = *original;
    v.importedFrom = QJsonObject{{QStringLiteral("name"), original->name},
                                 {QStringLiteral("version"), original->version},
                                 {QStringLiteral("registered"), timeText(original->registered)},
                                 {QStringLiteral("by"), original->by},
                                 {QStringLiteral("bundle_sha256"), toHex(sha256(*bytes))},
                                 {QStringLiteral("signed"), bundle->signedBundle()}};
    v.name = target;
    v.version = int(model->versions.size()) + 1;
    auto by = ws.git().signature();
    if (!by)
        return by.error();
    v.registered = QDateTime::currentDateTimeUtc();
    v.by = *by;
    v.message = message.isEmpty() ? QStringLiteral("imported from %1").arg(QFileInfo(file).fileName()) : message;
    // The bundle is rewritten with this registry's card (name, version, provenance); members keep their bytes.
    BundleMembers members = bundle->members;
    members.erase(QStringLiteral("card.json"));
    if (Status s = storeBundle(ws, v, std::move(members)); !s)
        return s.error();
    model->versions.push_back(v);
    auto commit = commitCard(ws, *model, QStringLiteral("Import %1 from %2 (%3@v%4)").arg(v.ref(), QFileInfo(file).fileName(), original->name).arg(original->version),
                             QStringLiteral("models.import"), QStringLiteral("model:") + v.ref(),
                             {{QStringLiteral("file"), QFileInfo(file).absoluteFilePath()},
                              {QStringLiteral("bundle"), v.bundle},
                              {QStringLiteral("source_sha256"), toHex(sha256(*bytes))},
                              {QStringLiteral("signed"), bundle->signedBundle()}});
    if (!commit)
        return commit.error();
    return v;
}

} // namespace keel::registry
