// keel predict, keel runs artifacts, keel runs get: everything a run made can leave Keel.
#include "commands.h"

#include "data/reader.h"
#include "explain/report.h"
#include "serve/scoring.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "workspace/storecare.h"
#include "workspace/workspace.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>

#include <cstdio>
#include <limits>

#include <unistd.h>

namespace keel::cli {

namespace {

int cmdArtifacts(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto found = workspace::runArtifacts(*ws, ctx.args().at(0));
    if (!found)
        return ctx.fail(found.error());
    if (ctx.json()) {
        QJsonArray a;
        for (const tracking::ArtifactRecord &r : found->second)
            a.append(QJsonObject{{QStringLiteral("name"), r.name}, {QStringLiteral("kind"), r.kind},
                                 {QStringLiteral("size"), r.size}, {QStringLiteral("object"), r.objectId}});
        ctx.printJson(QJsonObject{{QStringLiteral("run"), found->first}, {QStringLiteral("artifacts"), a}});
        return 0;
    }
    std::vector<QStringList> rows;
    for (const tracking::ArtifactRecord &r : found->second)
        rows.push_back({r.name, r.kind, formatBytes(r.size), r.objectId});
    if (rows.empty()) {
        ctx.out << "run " << found->first << " has no artifacts\n";
        return 0;
    }
    ctx.out << formatTable({QStringLiteral("artifact"), QStringLiteral("kind"), QStringLiteral("size"), QStringLiteral("object")},
                           rows, {2});
    return 0;
}

int cmdGet(Context &ctx)
{
    if (!ctx.parser.isSet(QStringLiteral("o")))
        return ctx.usage(QStringLiteral("keel runs get needs -o PATH (or -o - for stdout)"));
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const QString out = ctx.path(ctx.parser.value(QStringLiteral("o")));
    ctx.out.flush();
    auto a = workspace::exportRunArtifact(*ws, ctx.args().at(0), ctx.args().at(1), out,
                                          {ctx.parser.isSet(QStringLiteral("force"))}, STDOUT_FILENO, ctx.feedback());
    ctx.endProgress();
    if (!a)
        return ctx.fail(a.error());
    if (out == u"-")
        return 0;
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("run"), a->runId}, {QStringLiteral("artifact"), a->name},
                                  {QStringLiteral("object"), a->objectId}, {QStringLiteral("size"), a->size},
                                  {QStringLiteral("output"), out}});
    else
        ctx.out << "wrote " << a->name << " of run " << a->runId.left(8) << " (" << formatBytes(a->size) << ", verified) to "
                << out << '\n';
    return 0;
}

int cmdPredict(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    serve::BatchRequest request;
    request.run = ctx.args().at(0);
    const QString data = ctx.parser.value(QStringLiteral("data"));
    // A dataset ref, or else a file: NAME, NAME@REF name a dataset; anything that exists as a file is a file.
    if (!data.isEmpty()) {
        const QString asFile = ctx.path(data);
        if (!data.contains(QLatin1Char('@')) && QFileInfo(asFile).isFile())
            request.file = asFile;
        else
            request.data = data;
    }
    const QString rows = ctx.parser.value(QStringLiteral("rows"));
    if (rows == u"test") {
        request.testRows = true;
    } else if (!rows.isEmpty()) {
        auto parsed = explain::parseRowList(rows, std::numeric_limits<qint64>::max() / 2);
        if (!parsed)
            return ctx.usage(parsed.error().toString());
        for (qint64 r : *parsed)
            request.rows.push_back(r + 1);
    }
    request.explain = ctx.parser.isSet(QStringLiteral("explain"));
    request.featuresOnly = ctx.parser.isSet(QStringLiteral("features-only"));
    if (request.explain && request.featuresOnly)
        return ctx.usage(QStringLiteral("--explain and --features-only do not combine"));
    Feedback *feedback = ctx.feedback();
    auto result = serve::predictBatch(*ws, request, feedback);
    ctx.endProgress();
    if (!result)
        return ctx.fail(result.error());
    const QString out = ctx.parser.isSet(QStringLiteral("o")) ? ctx.path(ctx.parser.value(QStringLiteral("o"))) : QStringLiteral("-");
    if (out == u"-") {
        ctx.out.flush();
        std::fwrite(result->csv.constData(), 1, size_t(result->csv.size()), stdout);
        std::fflush(stdout);
        return 0;
    }
    if (Status s = writeUserFile(out, result->csv, {ctx.parser.isSet(QStringLiteral("force"))}); !s)
        return ctx.fail(s.error());
    // A dataset version never changes, so each row's decision can be explained later from RUN@NAME@vN#ROW.
    const bool version = !request.data.isEmpty() || request.testRows;
    const QString ids = version ? result->runId.left(8) + QLatin1Char('@') + result->source + QStringLiteral("#ROW") : QString();
    if (ctx.json()) {
        QJsonObject o{{QStringLiteral("run"), result->runId}, {QStringLiteral("data"), result->source},
                      {QStringLiteral("rows"), result->rows}, {QStringLiteral("output"), out}};
        if (version)
            o.insert(QStringLiteral("decision_ids"), ids);
        ctx.printJson(o);
    } else {
        ctx.out << "scored " << result->rows << " rows of " << result->source << " with run " << result->runId.left(8)
                << "; wrote " << out << '\n';
        if (version)
            ctx.out << "explain any row later with: keel audit decision " << ids << '\n';
    }
    return 0;
}

} // namespace

std::vector<Command> predictCommands()
{
    std::vector<Command> v;
    v.push_back({{QStringLiteral("predict")}, QStringLiteral("RUN"),
                 QStringLiteral("Score data with a run's model (batch predictions)"),
                 QStringLiteral("Scores a dataset version or a file with the model and recipe the run stored (both checked\n"
                                "against their hashes); the recipe transforms the raw rows exactly as in training. Writes CSV:\n"
                                "row (1-based data row number), the run's id column, actual (when the data has the target),\n"
                                "predicted, and one probability per class (classification). --rows test scores the run's own\n"
                                "test rows: the output then equals the run's predictions artifact byte for byte.\n"
                                "--explain adds the base value and one SHAP contribution per feature (toward the predicted\n"
                                "class for multiclass models). --features-only writes the encoded design matrix instead, with\n"
                                "the column names of the exported model (for Python xgboost and friends)."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("data"), QStringLiteral("Dataset version (NAME@REF) or file to score."), QStringLiteral("ref|file")});
                     p.addOption({QStringLiteral("rows"), QStringLiteral("Data row numbers from 1 (e.g. 1-100,120), or 'test' for the run's test rows."),
                                  QStringLiteral("list")});
                     p.addOption({QStringLiteral("o"), QStringLiteral("Output file (default and -: stdout)."), QStringLiteral("file")});
                     p.addOption({QStringLiteral("force"), QStringLiteral("Replace an existing output file.")});
                     p.addOption({QStringLiteral("explain"), QStringLiteral("Add per-feature contributions.")});
                     p.addOption({QStringLiteral("features-only"), QStringLiteral("Write the encoded design matrix.")});
                 },
                 cmdPredict});
    v.push_back({{QStringLiteral("runs"), QStringLiteral("artifacts")}, QStringLiteral("RUN"),
                 QStringLiteral("List what a run stored (model, recipe, predictions, split, ...)"),
                 QStringLiteral("Lists the run's artifacts with their kind, size and object id. Get one with 'keel runs get'."),
                 1, 1, {}, cmdArtifacts});
    v.push_back({{QStringLiteral("runs"), QStringLiteral("get")}, QStringLiteral("RUN NAME -o PATH"),
                 QStringLiteral("Write one of a run's artifacts to a file"),
                 QStringLiteral("Writes artifact NAME of the run (see 'keel runs artifacts') to PATH, every chunk verified by\n"
                                "its hash; -o - writes to stdout. An existing file is replaced only with --force. The model is\n"
                                "XGBoost's JSON (loads in Python, R and JVM xgboost) or Keel's JSON coefficients; the recipe is\n"
                                "JSON (see the README); predictions are CSV; the split is JSON with 1-based row numbers."),
                 2, 2,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("o"), QStringLiteral("Output file (- for stdout)."), QStringLiteral("file")});
                     p.addOption({QStringLiteral("force"), QStringLiteral("Replace an existing file.")});
                 },
                 cmdGet});
    return v;
}

} // namespace keel::cli
