#include "serve/scoring.h"

#include "data/csvwriter.h"
#include "explain/report.h"
#include "ml/training.h"
#include "store/objectstore.h"
#include "tracking/trackingstore.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

#include <cmath>
#include <map>

namespace keel::serve {

namespace {

QString num(double v) { return QString::number(v, 'g', QLocale::FloatingPointShortest); }

using data::csvField;

/// The data to score: a table and the 1-based row number of each of its rows in the source.
struct Scored {
    data::Table table;
    std::vector<qint64> rowNumbers;
    QString source;
};

Expected<QJsonObject> splitDocument(workspace::Workspace &ws, const QString &runId)
{
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    auto artifacts = (*ts)->artifacts(runId);
    if (!artifacts)
        return artifacts.error();
    for (const tracking::ArtifactRecord &a : *artifacts) {
        if (a.name != u"split")
            continue;
        auto bytes = ws.store().readAll(a.objectId);
        if (!bytes)
            return bytes.error();
        return QJsonDocument::fromJson(*bytes).object();
    }
    return makeError(ErrorKind::NotFound,
                     QStringLiteral("run %1 has no split artifact (it was trained before Keel recorded splits); give "
                                    "--data and --rows instead").arg(runId.left(8)));
}

Expected<data::Table> loadRef(workspace::Workspace &ws, const QString &ref, QString *resolved, QString *contentId,
                              Feedback *feedback)
{
    auto version = workspace::resolveDataset(ws, ref);
    if (!version)
        return version.error();
    *resolved = version->ref();
    *contentId = version->record.contentId;
    return workspace::loadDataset(ws, *version, feedback);
}

Expected<Scored> scoredData(workspace::Workspace &ws, const explain::RunModel &model, const BatchRequest &request,
                            Feedback *feedback)
{
    Scored out;
    std::vector<qint64> wanted = request.rows;   // 1-based
    QString ref = request.data;
    if (request.testRows) {
        if (!request.rows.empty())
            return makeError(ErrorKind::InvalidInput, QStringLiteral("give either test rows or row numbers, not both"),
                             {}, -1, QStringLiteral("rows"));
        auto doc = splitDocument(ws, model.runId);
        if (!doc)
            return doc.error();
        QJsonObject part = *doc;
        if (doc->contains(QStringLiteral("evaluate")))
            part = doc->value(QStringLiteral("evaluate")).toObject();
        else if (doc->value(QStringLiteral("kind")).toString() == u"kfold")
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("run %1 is a k-fold run: its test predictions are out-of-fold predictions of "
                                            "the fold models, which are not kept; score rows with --rows instead")
                                 .arg(model.runId.left(8)),
                             {}, -1, QStringLiteral("rows"));
        const QString testRef = part.value(QStringLiteral("data")).toString();
        const QString testContent = part.value(QStringLiteral("content_id")).toString();
        for (const QJsonValue &v : part.value(QStringLiteral("test")).toArray())
            wanted.push_back(v.toInteger());
        if (!ref.isEmpty()) {
            auto given = workspace::resolveDataset(ws, ref);
            if (!given)
                return given.error();
            if (given->record.contentId != testContent)
                return makeError(ErrorKind::InvalidInput,
                                 QStringLiteral("the run's test rows are rows of %1, not of %2").arg(testRef, given->ref()),
                                 {}, -1, QStringLiteral("data"));
        }
        ref = testRef;
        if (!request.file.isEmpty())
            return makeError(ErrorKind::InvalidInput, QStringLiteral("the run's test rows come from %1, not a file").arg(testRef));
    }
    Expected<data::Table> table = makeError(QStringLiteral("nothing to score"));
    if (!request.file.isEmpty()) {
        if (!ref.isEmpty())
            return makeError(ErrorKind::InvalidInput, QStringLiteral("give a dataset or a file, not both"));
        table = data::readTable(request.file, request.readOptions, feedback);
        out.source = request.file;
    } else if (!ref.isEmpty()) {
        QString contentId;
        table = loadRef(ws, ref, &out.source, &contentId, feedback);
    } else {
        return makeError(ErrorKind::InvalidInput, QStringLiteral("give the data to score (a dataset NAME@REF or a file), or "
                                                                 "score the run's test rows"),
                         {}, -1, QStringLiteral("data"));
    }
    if (!table)
        return table.error();
    const qint64 n = table->rowCount();
    if (wanted.empty()) {
        out.table = std::move(*table);
        out.rowNumbers.resize(size_t(n));
        for (qint64 r = 0; r < n; ++r)
            out.rowNumbers[size_t(r)] = r + 1;
        return out;
    }
    std::vector<qint64> zeroBased;
    zeroBased.reserve(wanted.size());
    for (qint64 r : wanted) {
        if (r < 1 || r > n)
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("row %1 is outside %2, which has rows 1 to %3").arg(r).arg(out.source).arg(n),
                             {}, -1, QStringLiteral("rows"));
        zeroBased.push_back(r - 1);
    }
    auto selected = explain::selectRows(*table, zeroBased);
    if (!selected)
        return selected.error();
    out.table = std::move(*selected);
    out.rowNumbers = std::move(wanted);
    return out;
}

/// The design matrix as CSV: "row" then the exported feature names; NaN (missing) as an empty field.
QByteArray featuresCsv(const ml::DesignMatrix &x, const std::vector<qint64> &rowNumbers)
{
    QString out = QStringLiteral("row");
    for (const QString &c : x.columnNames)
        out += QLatin1Char(',') + csvField(ml::exportedFeatureName(c));
    out += QLatin1Char('\n');
    for (qint64 r = 0; r < x.rows; ++r) {
        out += QString::number(rowNumbers[size_t(r)]);
        for (int c = 0; c < x.cols; ++c) {
            const float v = x.at(r, c);
            out += QLatin1Char(',') + (std::isnan(v) ? QString() : num(double(v)));
        }
        out += QLatin1Char('\n');
    }
    return out.toUtf8();
}

} // namespace

Expected<BatchResult> predictBatch(workspace::Workspace &ws, const BatchRequest &request, Feedback *feedback)
{
    auto model = explain::loadRunModel(ws, request.run);   // every chunk of model and recipe verified by hash
    if (!model)
        return model.error();
    auto scored = scoredData(ws, *model, request, feedback);
    if (!scored)
        return scored.error();
    BatchResult result;
    result.runId = model->runId;
    result.source = scored->source;
    result.rows = scored->table.rowCount();
    const explain::ModelContext &ctx = model->ctx;
    auto x = ctx.design(scored->table, feedback);
    if (!x)
        return x.error();
    if (request.featuresOnly) {
        result.csv = featuresCsv(*x, scored->rowNumbers);
        return result;
    }
    auto predictions = ctx.predict(*x);
    if (!predictions)
        return predictions.error();

    // The run's id column and the true values, when the data has them (as in the run's predictions artifact).
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    auto params = (*ts)->params(model->runId);
    if (!params)
        return params.error();
    std::map<QString, QString> p(params->begin(), params->end());
    ml::PredictionRows rows;
    rows.rows = scored->rowNumbers;
    const int idColumn = p.count(QStringLiteral("id_column")) ? scored->table.indexOf(p.at(QStringLiteral("id_column"))) : -1;
    if (idColumn >= 0) {
        rows.idColumn = p.at(QStringLiteral("id_column"));
        for (qint64 r = 0; r < scored->table.rowCount(); ++r)
            rows.ids << scored->table.column(idColumn).displayAt(r);
    }
    std::optional<ml::Target> actual;
    const QString targetName = ctx.recipe->spec().target;
    if (const int ti = scored->table.indexOf(targetName); ti >= 0) {
        // Rows with a value: encoded as at training time; rows without one (or with an unseen label) stay empty.
        std::vector<qint64> present;
        const data::Column &tc = scored->table.column(ti);
        for (qint64 r = 0; r < scored->table.rowCount(); ++r)
            if (!tc.isNull(r) && !(data::isNumericType(tc.type()) && std::isnan(tc.numberAt(r))))
                present.push_back(r);
        auto subset = explain::selectRows(scored->table, present);
        auto y = subset ? ctx.target(*subset) : Expected<ml::Target>(subset.error());
        if (y) {
            ml::Target full = *y;
            full.values.assign(size_t(scored->table.rowCount()), std::nan(""));
            for (size_t i = 0; i < present.size(); ++i)
                full.values[size_t(present[i])] = y->values[i];
            actual = std::move(full);
        }
    }
    QByteArray csv = ml::predictionsCsv(rows, ctx.task(), ctx.classes(), *predictions, actual ? &*actual : nullptr);

    if (request.explain) {
        // Contributions in the user's terms (one per recipe feature), relative to the training data for linear models.
        explain::ExplainRequest options;
        QString trainRef, trainContent;
        auto population = model->trainedOn.isEmpty()
            ? Expected<data::Table>(makeError(QStringLiteral("the run records no training data")))
            : loadRef(ws, model->trainedOn, &trainRef, &trainContent, feedback);
        if (!population)
            return population.error();
        auto attributor = explain::RowAttributor::prepare(*model, QStringLiteral("auto"), *population, options, feedback);
        if (!attributor)
            return attributor.error();
        auto a = attributor->explain(scored->table, feedback);
        if (!a)
            return a.error();
        const bool multi = ctx.task() == ml::Task::MulticlassClassification;
        const int k = ctx.outputs();
        QList<QByteArray> lines = csv.split('\n');
        QString header = multi ? QStringLiteral(",shap_class,shap_base") : QStringLiteral(",shap_base");
        for (const QString &f : a->features)
            header += QLatin1Char(',') + csvField(QStringLiteral("shap_") + f);
        lines[0] += header.toUtf8();
        for (qint64 r = 0; r < a->rows; ++r) {
            int out = 0;
            if (multi) {
                for (int c = 1; c < k; ++c)
                    if ((*predictions)[size_t(r * k + c)] > (*predictions)[size_t(r * k + out)])
                        out = c;
            }
            QString extra = multi ? QLatin1Char(',') + csvField(ctx.classes().value(out)) : QString();
            extra += QLatin1Char(',') + num(a->base[size_t(out)]);
            for (int f = 0; f < a->featureCount(); ++f)
                extra += QLatin1Char(',') + num(a->value(r, out, f));
            lines[qsizetype(r) + 1] += extra.toUtf8();
        }
        csv = lines.join('\n');
    }
    result.csv = std::move(csv);
    return result;
}

} // namespace keel::serve
