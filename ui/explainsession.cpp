#include "explainsession.h"

#include "explain/linearshap.h"
#include "tablemodel.h"
#include "tracking/trackingstore.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <algorithm>

namespace keel::ui {

QString ExplainableRun::label() const
{
    return QStringLiteral("%1 \u2014 %2 \u2014 %3 \u2014 %4").arg(name.isEmpty() ? QStringLiteral("(unnamed)") : name, experiment, kind, id.left(8));
}

Expected<ExplainCatalog> readExplainCatalog(const QString &root, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    auto ts = (*ws)->tracking();
    if (!ts)
        return ts.error();
    auto summaries = (*ts)->runSummaries({}, feedback);
    if (!summaries)
        return summaries.error();
    ExplainCatalog catalog;
    qint64 done = 0;
    for (const tracking::RunSummary &s : *summaries) {
        if (isCancelled(feedback))
            return keel::cancelledError();
        reportProgress(feedback, done++, qint64(summaries->size()), QStringLiteral("runs"));
        if (s.run.status != tracking::RunStatus::Finished)
            continue;
        auto artifacts = (*ts)->artifacts(s.run.id);
        if (!artifacts)
            return artifacts.error();
        const auto model = std::find_if(artifacts->begin(), artifacts->end(),
                                        [](const tracking::ArtifactRecord &a) { return a.name == u"model"; });
        const bool recipe = std::any_of(artifacts->begin(), artifacts->end(),
                                        [](const tracking::ArtifactRecord &a) { return a.name == u"recipe"; });
        if (model == artifacts->end() || !recipe)
            continue;
        ExplainableRun r;
        r.id = s.run.id;
        r.name = s.run.name;
        r.experiment = s.run.experiment;
        r.kind = model->kind;
        r.started = s.run.start;
        for (const auto &[k, v] : s.params) {
            if (k == u"data")
                r.trainedOn = v;
            else if (k == u"evaluate")
                r.evaluatedOn = v;
        }
        catalog.runs.push_back(r);
    }
    std::reverse(catalog.runs.begin(), catalog.runs.end());

    auto names = workspace::listDatasets(**ws);
    if (!names)
        return names.error();
    for (const QString &name : *names) {
        auto log = workspace::datasetLog(**ws, name);
        if (!log)
            return log.error();
        for (auto it = log->rbegin(); it != log->rend(); ++it)
            catalog.dataRefs << it->ref();
    }
    return catalog;
}

const explain::FeatureValues *ExplainSession::input(const QString &feature) const
{
    for (const explain::FeatureValues &f : inputs)
        if (f.name == feature)
            return &f;
    return nullptr;
}

Expected<std::shared_ptr<const ExplainSession>> loadExplainSession(const QString &root, const QString &runId,
                                                                   const QString &dataRef, Feedback *feedback)
{
    auto ws = workspace::Workspace::open(root);
    if (!ws)
        return ws.error();
    reportProgress(feedback, 0, 4, QStringLiteral("model"));
    auto model = explain::loadRunModel(**ws, runId);
    if (!model)
        return model.error();
    auto s = std::make_shared<ExplainSession>();
    s->root = (*ws)->root();
    s->model = std::move(*model);
    if (auto ts = (*ws)->tracking(); ts) {
        if (auto run = (*ts)->run(s->model.runId); run)
            s->experiment = run->experiment;
    }
    QString ref = dataRef;
    if (ref.isEmpty()) {
        // The same default as `keel explain`: the run's test rows.
        auto d = explain::defaultExplainData(**ws, s->model);
        if (!d)
            return d.error();
        ref = d->ref;
        s->testRows = d->testRows;
        s->population = d->rows;
        s->populationText = d->description;
    }
    if (isCancelled(feedback))
        return keel::cancelledError();

    reportProgress(feedback, 1, 4, QStringLiteral("data"));
    auto version = workspace::resolveDataset(**ws, ref);
    if (!version)
        return version.error();
    auto table = workspace::loadDataset(**ws, *version, feedback);
    if (!table)
        return table.error();
    s->dataRef = version->ref();
    s->table = std::move(*table);
    if (!s->model.trainedOn.isEmpty() && s->model.trainedOn != s->dataRef) {
        auto trainVersion = workspace::resolveDataset(**ws, s->model.trainedOn);
        if (!trainVersion)
            return trainVersion.error();
        auto train = workspace::loadDataset(**ws, *trainVersion, feedback);
        if (!train)
            return train.error();
        s->referenceRef = trainVersion->ref();
        s->reference = std::move(*train);
    } else {
        s->referenceRef = s->dataRef;
        s->reference = s->table;
    }
    if (isCancelled(feedback))
        return keel::cancelledError();

    reportProgress(feedback, 2, 4, QStringLiteral("attribution method"));
    const explain::ModelContext &ctx = s->model.ctx;
    auto population = s->population.empty() ? Expected<data::Table>(s->table) : explain::selectRows(s->table, s->population);
    if (!population)
        return population.error();
    auto attributor = explain::RowAttributor::prepare(s->model, QStringLiteral("auto"), *population, explain::ExplainRequest{}, feedback);
    if (!attributor)
        return attributor.error();
    s->method = attributor->method();
    s->attributor = std::move(*attributor);

    reportProgress(feedback, 3, 4, QStringLiteral("feature values"));
    for (const QString &feature : ctx.features()) {
        if (!ctx.isInputFeature(feature))
            continue;
        auto values = ctx.featureValues(s->table, feature);
        if (!values)
            return values.error();
        s->inputs.push_back(std::move(*values));
    }
    s->targetColumn = ctx.recipe->spec().target;
    for (const data::Column &c : s->table.columns()) {
        const bool groupable = c.type() == data::ColumnType::Categorical || c.type() == data::ColumnType::String ||
                               c.type() == data::ColumnType::Bool;
        if (groupable && c.name() != s->targetColumn)
            s->sensitiveCandidates << c.name();
    }
    reportProgress(feedback, 4, 4, QStringLiteral("ready"));
    return std::shared_ptr<const ExplainSession>(std::move(s));
}

Expected<explain::ExplainResult> runExplainRequest(const ExplainSession &session, explain::ExplainRequest request,
                                                   Feedback *feedback)
{
    auto ws = workspace::Workspace::open(session.root);
    if (!ws)
        return ws.error();
    request.data = session.dataRef;
    request.testRows = session.testRows;
    return explain::explainRun(**ws, session.model, request, feedback);
}

Expected<explain::Attribution> attributeRows(const ExplainSession &session, const data::Table &rows, Feedback *feedback)
{
    if (!session.attributor)
        return makeError(QStringLiteral("the explanation session is not loaded"));
    return session.attributor->explain(rows, feedback);
}

Expected<std::vector<qint64>> searchRows(const data::Table &table, const QString &text, qint64 limit, Feedback *feedback)
{
    const QStringList terms = text.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    std::vector<qint64> out;
    if (terms.isEmpty())
        return out;
    const qint64 rows = table.rowCount();
    for (qint64 r = 0; r < rows && qint64(out.size()) < limit; ++r) {
        if ((r & 4095) == 0) {
            if (isCancelled(feedback))
                return keel::cancelledError();
            reportProgress(feedback, r, rows, QStringLiteral("search"));
        }
        bool all = true;
        for (const QString &term : terms) {
            bool found = false;
            for (const data::Column &c : table.columns())
                if (TableModel::cellText(c, r).contains(term, Qt::CaseInsensitive)) {
                    found = true;
                    break;
                }
            if (!found) {
                all = false;
                break;
            }
        }
        if (all)
            out.push_back(r);
    }
    return out;
}

} // namespace keel::ui
