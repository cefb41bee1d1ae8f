#include "explain/report.h"

#include "explain/fairness.h"
#include "explain/global.h"
#include "explain/kernelshap.h"
#include "explain/linearshap.h"
#include "explain/treeshap.h"
#include "store/objectstore.h"
#include "tracking/trackingstore.h"
#include "util/hash.h"
#include "workspace/datasets.h"
#include "workspace/storecare.h"
#include "workspace/workspace.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <numeric>
#include <set>

namespace keel::explain {

namespace {

/// A stored explanation document, read back. Errors name the object.
Expected<ExplanationReport> readStoredReport(workspace::Workspace &ws, const QString &objectId)
{
    auto bytes = ws.store().readAll(objectId);
    if (!bytes)
        return bytes.error();
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(*bytes, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(ErrorKind::Corrupt, QStringLiteral("stored explanation %1 is not a JSON object").arg(objectId));
    auto report = ExplanationReport::fromJson(doc.object());
    if (!report) {
        Error e = report.error();
        e.message = QStringLiteral("stored explanation %1: %2").arg(objectId, e.message);
        e.kind = ErrorKind::Corrupt;
        return e;
    }
    return report;
}

/// The explanation stored as run artifact `artifactName`, if there is one.
Expected<std::optional<ExplainResult>> findStoredExplanation(workspace::Workspace &ws, tracking::TrackingStore &ts,
                                                             const QString &runId, const QString &artifactName)
{
    auto artifacts = ts.artifacts(runId);
    if (!artifacts)
        return artifacts.error();
    for (const tracking::ArtifactRecord &a : *artifacts) {
        if (a.name != artifactName)
            continue;
        auto stored = readStoredReport(ws, a.objectId);
        if (!stored)
            return stored.error();
        ExplainResult result;
        result.report = std::move(*stored);
        result.objectId = a.objectId;
        result.artifactName = artifactName;
        result.cached = true;
        return std::optional<ExplainResult>(std::move(result));
    }
    return std::optional<ExplainResult>();
}

QString methodFor(const QString &kind, const QString &requested, QString *error)
{
    const bool tree = kind.startsWith(u"xgboost");
    const bool linear = kind == u"linear" || kind == u"logistic";
    if (requested.isEmpty() || requested == u"auto")
        return tree ? QStringLiteral("tree") : linear ? QStringLiteral("linear") : QStringLiteral("kernel");
    if (requested == u"tree" && !tree)
        *error = QStringLiteral("method 'tree' needs a tree ensemble; this model is '%1'").arg(kind);
    else if (requested == u"linear" && !linear)
        *error = QStringLiteral("method 'linear' needs a linear or logistic model; this model is '%1'").arg(kind);
    else if (requested != u"tree" && requested != u"linear" && requested != u"kernel")
        *error = QStringLiteral("unknown method '%1' (auto, tree, linear, kernel)").arg(requested);
    return requested;
}

} // namespace

Expected<RowAttributor> RowAttributor::prepare(const RunModel &model, const QString &method, const data::Table &population,
                                               const ExplainRequest &options, Feedback *feedback)
{
    QString methodError;
    RowAttributor a;
    a.m_method = methodFor(model.modelKind, method, &methodError);
    if (!methodError.isEmpty())
        return makeError(methodError, {}, -1, QStringLiteral("method"));
    a.m_ctx = model.ctx;
    a.m_kernelSamples = options.kernelSamples;
    a.m_seed = options.seed;
    a.m_threads = options.threads;
    if (a.m_method == u"tree") {
        auto e = parseXgboostJson(model.modelBytes);
        if (!e)
            return e.error();
        a.m_ensemble = std::make_shared<const TreeEnsemble>(std::move(*e));
        return a;
    }
    if (a.m_method == u"linear") {
        // Exact interventional SHAP of a linear model needs only the background's column means: use every row.
        auto x = model.ctx.design(population, feedback);
        if (!x)
            return x.error();
        a.m_means.assign(size_t(x->cols), 0.0);
        for (qint64 r = 0; r < x->rows; ++r)
            for (int c = 0; c < x->cols; ++c)
                a.m_means[size_t(c)] += double(x->at(r, c));
        for (double &m : a.m_means)
            m /= double(std::max<qint64>(x->rows, 1));
        return a;
    }
    BackgroundOptions bo;
    bo.size = options.background;
    bo.seed = options.seed;
    auto bg = summariseBackground(model.ctx, population, bo, feedback);
    if (!bg)
        return bg.error();
    a.m_background = std::make_shared<const Background>(std::move(*bg));
    return a;
}

Expected<Attribution> RowAttributor::explain(const data::Table &rows, Feedback *feedback) const
{
    if (m_method == u"kernel") {
        KernelShapOptions ko;
        ko.samples = m_kernelSamples;
        ko.seed = m_seed;
        ko.threads = m_threads;
        auto k = kernelShap(m_ctx, rows, *m_background, ko, feedback);
        if (!k)
            return k.error();
        return k->attribution;
    }
    auto x = m_ctx.design(rows, feedback);
    if (!x)
        return x.error();
    Expected<Attribution> a = makeError(QString());
    if (m_method == u"tree") {
        TreeShapOptions to;
        to.threads = m_threads;
        a = treeShap(*m_ensemble, *x, to, feedback);
    } else {
        a = linearShapWithMeans(*m_ctx.model, *x, m_means, feedback);
    }
    if (!a)
        return a.error();
    return toSourceFeatures(*a, m_ctx);
}

Expected<InteractionValues> RowAttributor::interactions(const data::Table &rows, int topK, Feedback *feedback) const
{
    if (m_method != u"tree")
        return makeError(QStringLiteral("interaction values need a tree model (method tree)"), {}, -1,
                         QStringLiteral("interactions"));
    auto x = m_ctx.design(rows, feedback);
    if (!x)
        return x.error();
    std::vector<qint64> all(size_t(x->rows));
    std::iota(all.begin(), all.end(), qint64(0));
    TreeShapOptions to;
    to.threads = m_threads;
    auto in = treeShapInteractions(*m_ensemble, *x, all, topK, to, feedback);
    if (!in)
        return in.error();
    InteractionValues out;
    out.method = in->method;
    out.features = in->features;
    out.outputs = in->outputs;
    out.values = std::move(in->values);
    out.rest = std::move(in->rest);
    return out;
}

QJsonObject ExplainRequest::toJson() const
{
    QJsonArray r;
    for (qint64 row : rows)
        r.append(row + 1);   // as users number rows
    return {{QStringLiteral("data"), data},
            {QStringLiteral("test_rows"), testRows},
            {QStringLiteral("rows"), r},
            {QStringLiteral("global"), global},
            {QStringLiteral("global_rows"), globalRows},
            {QStringLiteral("fairness"), fairness},
            {QStringLiteral("method"), method},
            {QStringLiteral("background"), background},
            {QStringLiteral("kernel_samples"), kernelSamples},
            {QStringLiteral("pdp_feature"), pdpFeature},
            {QStringLiteral("permutation_repeats"), permutationRepeats},
            {QStringLiteral("bootstrap"), bootstrap},
            {QStringLiteral("output"), output},
            {QStringLiteral("interactions"), interactions},
            {QStringLiteral("seed"), QString::number(seed)}};
}

Expected<std::vector<qint64>> parseRowList(const QString &text, qint64 rowCount)
{
    std::vector<qint64> out;
    std::set<qint64> seen;
    for (const QString &partRaw : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString part = partRaw.trimmed();
        const qsizetype dash = part.indexOf(QLatin1Char('-'));
        bool ok1 = false, ok2 = true;
        const qint64 a = (dash < 0 ? part : part.left(dash)).toLongLong(&ok1);
        const qint64 b = dash < 0 ? a : part.mid(dash + 1).toLongLong(&ok2);
        if (!ok1 || !ok2 || a < 1 || b < a)
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("'%1' is not a row or range of rows (row numbers start at 1, e.g. 1-100,120)").arg(part),
                             {}, -1, QStringLiteral("rows"));
        if (b > rowCount)
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("row %1 is past the end (the data has rows 1 to %2)").arg(b).arg(rowCount), {}, -1,
                             QStringLiteral("rows"));
        if (b - a > 1'000'000)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("'%1' asks for more than a million rows").arg(part), {},
                             -1, QStringLiteral("rows"));
        for (qint64 r = a; r <= b; ++r)
            if (seen.insert(r - 1).second)
                out.push_back(r - 1);
    }
    if (out.empty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("no rows given"), {}, -1, QStringLiteral("rows"));
    return out;
}

Expected<ExplainData> defaultExplainData(workspace::Workspace &ws, const RunModel &model)
{
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    auto artifacts = (*ts)->artifacts(model.runId);
    if (!artifacts)
        return artifacts.error();
    ExplainData d;
    for (const tracking::ArtifactRecord &a : *artifacts) {
        if (a.name != u"split")
            continue;
        auto bytes = ws.store().readAll(a.objectId);
        if (!bytes)
            return bytes.error();
        const QJsonObject doc = QJsonDocument::fromJson(*bytes).object();
        QJsonObject part = doc.contains(QStringLiteral("evaluate")) ? doc.value(QStringLiteral("evaluate")).toObject() : doc;
        QJsonArray test = part.value(QStringLiteral("test")).toArray();
        if (!doc.contains(QStringLiteral("evaluate")) && doc.contains(QStringLiteral("folds")))
            for (const QJsonValue &f : doc.value(QStringLiteral("folds")).toArray())
                for (const QJsonValue &r : f.toObject().value(QStringLiteral("test")).toArray())
                    test.append(r);
        d.ref = part.value(QStringLiteral("data")).toString();
        for (const QJsonValue &r : test)
            d.rows.push_back(r.toInteger() - 1);
        std::sort(d.rows.begin(), d.rows.end());
        d.testRows = true;
        d.description = QStringLiteral("the run's %1 test rows of %2").arg(d.rows.size()).arg(d.ref);
        return d;
    }
    d.ref = !model.evaluatedOn.isEmpty() ? model.evaluatedOn : model.trainedOn;
    if (d.ref.isEmpty())
        return makeError(ErrorKind::NotFound, QStringLiteral("run %1 does not say which data it was trained on").arg(model.runId));
    d.description = QStringLiteral("all rows of %1 (the run recorded no split)").arg(d.ref);
    return d;
}

Expected<RunModel> loadRunModel(workspace::Workspace &ws, const QString &runIdOrPrefix)
{
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    auto run = (*ts)->findRun(runIdOrPrefix);
    if (!run)
        return run.error();
    RunModel m;
    m.runId = run->id;
    m.runName = run->name;
    auto artifacts = (*ts)->artifacts(m.runId);
    if (!artifacts)
        return artifacts.error();
    for (const tracking::ArtifactRecord &a : *artifacts) {
        if (a.name == u"model") {
            m.modelKind = a.kind;
            m.modelObjectId = a.objectId;
        } else if (a.name == u"recipe") {
            m.recipeObjectId = a.objectId;
        }
    }
    if (m.modelObjectId.isEmpty() || m.recipeObjectId.isEmpty())
        return makeError(QStringLiteral("run %1 has no model to explain (status %2)")
                             .arg(m.runId, tracking::runStatusName(run->status)));
    auto params = (*ts)->params(m.runId);
    if (!params)
        return params.error();
    for (const auto &[k, v] : *params) {
        if (k == u"data")
            m.trainedOn = v;
        else if (k == u"evaluate")
            m.evaluatedOn = v;
    }
    auto modelBytes = ws.store().readAll(m.modelObjectId); // every chunk verified against its hash
    if (!modelBytes)
        return modelBytes.error();
    auto recipeBytes = ws.store().readAll(m.recipeObjectId);
    if (!recipeBytes)
        return recipeBytes.error();
    QJsonParseError err;
    const QJsonDocument recipeDoc = QJsonDocument::fromJson(*recipeBytes, &err);
    if (err.error != QJsonParseError::NoError || !recipeDoc.isObject())
        return makeError(QStringLiteral("the recipe artifact of run %1 is not JSON: %2").arg(m.runId, err.errorString()));
    auto ctx = ModelContext::fromArtifacts(m.modelKind, *modelBytes, recipeDoc.object());
    if (!ctx)
        return ctx.error();
    m.modelBytes = std::move(*modelBytes);
    m.ctx = std::move(*ctx);
    return m;
}

namespace {

/// The requested rows (0-based in `fullTable`), explained one by one: attributions, predictions, margins, raw values
/// and the target's value when the data has it.
Expected<LocalExplanations> explainRows(const ModelContext &ctx, const RowAttributor &attributor, const data::Table &fullTable,
                                        const ExplainRequest &request, Feedback *feedback)
{
    for (qint64 r : request.rows)
        if (r < 0 || r >= fullTable.rowCount())
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("row %1 is past the end (rows 1 to %2)").arg(r + 1).arg(fullTable.rowCount()),
                             {}, -1, QStringLiteral("rows"));
    auto sub = selectRows(fullTable, request.rows);
    if (!sub)
        return sub.error();
    auto a = attributor.explain(*sub, feedback);
    if (!a)
        return a.error();
    auto prediction = ctx.predict(*sub);
    if (!prediction)
        return prediction.error();
    auto margin = ctx.margin(*sub);
    if (!margin)
        return margin.error();
    auto values = ctx.featureValues(*sub);
    if (!values)
        return values.error();
    LocalExplanations local;
    for (size_t i = 0; i < request.rows.size(); ++i) {
        local.rows.push_back(request.rows[i] + 1);
        QStringList v;
        for (const FeatureValues &f : *values)
            v << f.display(qint64(i));
        local.values.push_back(v);
    }
    local.attribution = std::move(*a);
    local.prediction = std::move(*prediction);
    local.margin = std::move(*margin);
    const int targetColumn = sub->indexOf(ctx.recipe->spec().target);
    if (targetColumn >= 0) {
        // In the model's terms: the config's label_map applied, as training saw the labels.
        for (qint64 r = 0; r < sub->rowCount(); ++r) {
            const QString raw = sub->column(targetColumn).displayAt(r);
            local.actual << ctx.recipe->spec().labelMap.value(raw, raw);
        }
    }
    if (request.interactions > 0) {
        auto in = attributor.interactions(*sub, request.interactions, feedback);
        if (!in)
            return in.error();
        local.interactions = std::move(*in);
    }
    return local;
}

/// The global views on a seeded sample of `table` (the population): importance, beeswarm data, permutation
/// importance, PDP/ICE and SHAP dependence of the requested (else the top) feature.
Expected<GlobalExplanation> explainGlobally(const ModelContext &ctx, const RowAttributor &attributor, const data::Table &table,
                                            const ExplainRequest &request, Feedback *feedback)
{
    std::vector<qint64> sample(size_t(table.rowCount()));
    std::iota(sample.begin(), sample.end(), qint64(0));
    if (table.rowCount() > request.globalRows) {
        Rng rng(request.seed);
        rng.shuffle(sample);
        sample.resize(size_t(std::max<qint64>(request.globalRows, 1)));
        std::sort(sample.begin(), sample.end());
    }
    auto sub = selectRows(table, sample);
    if (!sub)
        return sub.error();
    reportProgress(feedback, 0, 1, QStringLiteral("shap"));
    auto a = attributor.explain(*sub, feedback);
    if (!a)
        return a.error();
    const std::vector<double> importance = meanAbsImportance(*a, request.output);
    std::vector<int> order(importance.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return importance[size_t(x)] > importance[size_t(y)]; });
    GlobalExplanation global;
    for (int f : order)
        global.importance.push_back({a->features[f], importance[size_t(f)]});
    auto summary = shapSummary(*a, ctx, *sub, request.output);
    if (!summary)
        return summary.error();
    global.rows = qint64(sample.size());
    global.output = request.output;
    global.base = a->base[size_t(request.output)];
    global.maxAbsResidual = a->maxAbsResidual();
    global.summary = std::move(*summary);
    if (isCancelled(feedback))
        return cancelledError();
    PermutationOptions po;
    po.repeats = request.permutationRepeats;
    po.seed = request.seed;
    po.maxRows = request.globalRows;
    po.threads = request.threads;
    auto permutation = permutationImportance(ctx, table, po, feedback);
    if (!permutation)
        return permutation.error();
    global.permutation = std::move(*permutation);
    const QString feature = !request.pdpFeature.isEmpty() ? request.pdpFeature
                            : order.empty()               ? QString()
                                                          : a->features[order.front()];
    if (!feature.isEmpty()) {
        if (ctx.featureIndex(feature) < 0)
            return makeError(QStringLiteral("unknown feature '%1' (features: %2)").arg(feature, ctx.features().join(QStringLiteral(", "))),
                             {}, -1, QStringLiteral("pdp_feature"));
        PartialDependenceOptions pd;
        pd.feature = feature;
        pd.maxRows = request.globalRows;
        pd.seed = request.seed;
        pd.threads = request.threads;
        if (ctx.task() == ml::Task::MulticlassClassification)
            pd.classIndex = request.output;
        auto pdp = partialDependence(ctx, table, pd, feedback);
        if (!pdp)
            return pdp.error();
        global.pdp = std::move(*pdp);
        QString colour;
        for (int f : order)
            if (a->features[f] != feature) {
                colour = a->features[f];
                break;
            }
        auto dependence = shapDependence(*a, ctx, *sub, feature, colour.isEmpty() ? feature : colour, request.output);
        if (!dependence)
            return dependence.error();
        global.dependence = std::move(*dependence);
    }
    return global;
}

} // namespace

Expected<int> defaultGlobalClass(const ModelContext &ctx, const data::Table &population, Feedback *feedback)
{
    if (ctx.task() != ml::Task::MulticlassClassification)
        return 0;
    const int k = ctx.outputs();
    std::vector<qint64> counts(size_t(std::max(k, 1)), 0);
    if (auto target = ctx.target(population); target) {
        for (double v : target->values)
            if (std::isfinite(v) && v >= 0 && v < k)
                ++counts[size_t(v)];
    } else {
        auto p = ctx.predict(population, feedback);
        if (!p)
            return p.error();
        for (size_t r = 0; r + size_t(k) <= p->size(); r += size_t(k))
            ++counts[size_t(std::max_element(p->begin() + qsizetype(r), p->begin() + qsizetype(r) + k) - (p->begin() + qsizetype(r)))];
    }
    return int(std::max_element(counts.begin(), counts.end()) - counts.begin());
}

Expected<ExplainResult> explainRun(workspace::Workspace &ws, const RunModel &model, const ExplainRequest &request,
                                   Feedback *feedback)
{
    QString methodError;
    const QString method = methodFor(model.modelKind, request.method, &methodError);
    if (!methodError.isEmpty())
        return makeError(methodError, {}, -1, QStringLiteral("method"));
    if (request.rows.empty() && !request.global && request.fairness.isEmpty())
        return makeError(QStringLiteral("nothing to explain: give rows, global or a fairness column"));
    const int outputs = model.ctx.outputs();
    if (request.output < -1 || request.output >= outputs)
        return makeError(QStringLiteral("output %1 does not exist (the model has %2)").arg(request.output).arg(outputs), {}, -1,
                         QStringLiteral("output"));

    // Data version, and the rows the global views and fairness look at: by default the run's test rows.
    std::optional<ExplainData> defaults;
    if (request.data.isEmpty() || request.testRows) {
        auto d = defaultExplainData(ws, model);
        if (!d)
            return d.error();
        defaults = std::move(*d);
    }
    const QString ref = !request.data.isEmpty() ? request.data : defaults->ref;
    auto version = workspace::resolveDataset(ws, ref);
    if (!version)
        return version.error();
    std::vector<qint64> population;   // empty: every row
    if (defaults && defaults->testRows) {
        auto testVersion = workspace::resolveDataset(ws, defaults->ref);
        if (!testVersion)
            return testVersion.error();
        if (testVersion->record.contentId != version->record.contentId)
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("the run's test rows are rows of %1, not of %2").arg(testVersion->ref(), version->ref()),
                             {}, -1, QStringLiteral("data"));
        population = defaults->rows;
    }
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();

    // Cached answer for the same model, recipe, data content and request?
    ExplainRequest keyed = request;
    keyed.data = version->ref();
    keyed.testRows = !population.empty();
    const QJsonObject keyJson{{QStringLiteral("model"), model.modelObjectId},
                              {QStringLiteral("recipe"), model.recipeObjectId},
                              {QStringLiteral("data"), version->record.contentId},
                              {QStringLiteral("request"), keyed.toJson()}};
    const QString key = toHex(sha256(QJsonDocument(keyJson).toJson(QJsonDocument::Compact))).left(16);
    ExplainResult result;
    result.artifactName = QStringLiteral("explanation-") + key;
    auto stored = findStoredExplanation(ws, **ts, model.runId, result.artifactName);
    if (!stored)
        return stored.error();
    if (*stored)
        return std::move(**stored);

    auto fullTable = workspace::loadDataset(ws, *version, nullptr);
    if (!fullTable)
        return fullTable.error();
    // `table` is the population (the test rows, or every row); requested rows are numbered in the whole version.
    auto populationTable = population.empty() ? Expected<data::Table>(*fullTable) : selectRows(*fullTable, population);
    if (!populationTable)
        return populationTable.error();
    const data::Table *table = &*populationTable;
    ExplainRequest resolved = request;   // the default class resolved on the population
    const ModelContext &ctx = model.ctx;
    ExplanationReport report;
    report.runId = model.runId;
    report.runName = model.runName;
    report.modelId = model.modelObjectId;
    report.modelKind = model.modelKind;
    report.recipeId = model.recipeObjectId;
    report.task = ctx.task();
    report.classes = ctx.classes();
    report.features = ctx.features();
    report.data = version->ref();
    report.dataContentId = version->record.contentId;
    report.dataRows = fullTable->rowCount();
    report.testRows = !population.empty();
    report.populationRows = table->rowCount();
    report.method = method;
    report.request = keyed.toJson();
    report.created = QDateTime::currentDateTimeUtc();
    report.keelVersion = QStringLiteral(KEEL_VERSION_STRING);

    std::optional<RowAttributor> attributor;
    if (!request.rows.empty() || request.global) {
        reportProgress(feedback, 0, 1, QStringLiteral("background"));
        auto prepared = RowAttributor::prepare(model, method, *table, request, feedback);
        if (!prepared)
            return prepared.error();
        attributor = std::move(*prepared);
    }

    if (!request.rows.empty()) {
        auto local = explainRows(ctx, *attributor, *fullTable, request, feedback);
        if (!local)
            return local.error();
        report.local = std::move(*local);
    }
    if (isCancelled(feedback))
        return cancelledError();

    if (request.global && request.output < 0) {
        auto k = defaultGlobalClass(ctx, *table, feedback);
        if (!k)
            return k.error();
        resolved.output = *k;
    }
    if (request.global) {
        auto global = explainGlobally(ctx, *attributor, *table, resolved, feedback);
        if (!global)
            return global.error();
        report.global = std::move(*global);
    }
    if (isCancelled(feedback))
        return cancelledError();

    if (!request.fairness.isEmpty()) {
        FairnessOptions fo;
        fo.sensitive = request.fairness;
        fo.bootstrap = request.bootstrap;
        fo.seed = request.seed;
        fo.threads = request.threads;
        auto f = fairness(ctx, *table, fo, feedback);
        if (!f)
            return f.error();
        report.fairness = std::move(*f);
    }
    if (isCancelled(feedback))
        return cancelledError();

    // Store: the document in the object store, indexed as an artifact of the run, and an audit event.
    const QByteArray bytes = QJsonDocument(report.toJson()).toJson(QJsonDocument::Compact);
    auto added = workspace::storeRunArtifact(ws, **ts, model.runId, result.artifactName,
                                             QStringLiteral("explanation-json"), bytes);
    if (!added) {
        const Error s = added.error();
        // Another process (or a second view) answered the same request first: return its stored document.
        auto again = findStoredExplanation(ws, **ts, model.runId, result.artifactName);
        if (again && *again)
            return std::move(**again);
        return s;
    }
    if (Status s = ws.audit(QStringLiteral("explain"), QStringLiteral("run:") + model.runId,
                            {{QStringLiteral("artifact"), result.artifactName},
                             {QStringLiteral("object"), added->objectId},
                             {QStringLiteral("data"), version->ref()},
                             {QStringLiteral("method"), method}});
        !s)
        return s.error();
    result.report = std::move(report);
    result.objectId = added->objectId;
    return result;
}

} // namespace keel::explain
