// keel-bench-kernelshap CSV: KernelSHAP time per row against its coalition budget, on an Adult GBDT model
// (100 trees, depth 6) with a 50-row k-means background. The reference for the error at each budget is KernelSHAP's
// own exact enumeration of all 2^13 - 2 coalitions (the weighted background makes it the exact Shapley value of
// that value function). Prints one JSON line per budget.
#include "data/reader.h"
#include "explain/explainer.h"
#include "explain/kernelshap.h"
#include "ml/learners.h"
#include "ml/recipe.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <cstdio>
#include <memory>

using namespace keel;

namespace {

[[noreturn]] void die(const QString &message)
{
    std::fprintf(stderr, "keel-bench-kernelshap: %s\n", qPrintable(message));
    std::exit(1);
}

template <typename T> T must(Expected<T> e, const char *what)
{
    if (!e)
        die(QLatin1String(what) + QStringLiteral(": ") + e.error().toString());
    return std::move(*e);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc != 2)
        die(QStringLiteral("usage: keel-bench-kernelshap ADULT_CSV"));
    const data::Table table = must(data::readTable(QString::fromLocal8Bit(argv[1])), "read");
    const ml::RecipeSpec spec = must(ml::RecipeSpec::fromYaml(QStringLiteral(
                                         "target: class\ntask: binary\n"
                                         "label_map: {\">50K.\": \">50K\", \"<=50K.\": \"<=50K\"}\n"
                                         "exclude: [fnlwgt]\ndefaults: {max_categories: 30}\n")),
                                     "spec");
    auto recipe = std::make_shared<const ml::Recipe>(must(ml::Recipe::fit(table, spec), "recipe"));
    const ml::DesignMatrix x = must(recipe->transform(table), "transform");
    const ml::Target y = must(recipe->target(table), "target");
    const ml::Learner *gbdt = ml::findLearner(QStringLiteral("gbdt"));
    const ml::Params params = must(ml::validateParams(gbdt->params(), {{QStringLiteral("n_estimators"), 100},
                                                                       {QStringLiteral("max_depth"), 6},
                                                                       {QStringLiteral("threads"), 2}}),
                                   "params");
    std::shared_ptr<const ml::Model> model = must(gbdt->fit(x, y, params, nullptr, nullptr, {}, nullptr), "fit");
    explain::ModelContext ctx{model, recipe};

    // 20 rows to explain; exact TreeSHAP (interventional on the same background) is the reference.
    std::vector<qint64> rows;
    for (qint64 r = 0; r < 20; ++r)
        rows.push_back(r * 997 % table.rowCount());
    const data::Table sub = must(explain::selectRows(table, rows), "rows");
    explain::BackgroundOptions bo;
    bo.size = 50;
    const explain::Background bg = must(explain::summariseBackground(ctx, table, bo), "background");
    // The background rows are weighted (k-means cluster shares); the unweighted interventional TreeSHAP differs, so
    // the reference is KernelSHAP's own exact enumeration (budget >= 2^M - 2 with M = 13 features).
    explain::KernelShapOptions exactOptions;
    exactOptions.samples = 1 << 14;
    exactOptions.threads = 2;
    const explain::KernelShapResult exact = must(explain::kernelShap(ctx, sub, bg, exactOptions), "exact");
    for (int budget : {100, 300, 1000, 3000, 8190}) {
        explain::KernelShapOptions ko;
        ko.samples = budget;
        ko.threads = 2;
        QElapsedTimer t;
        t.start();
        const explain::KernelShapResult k = must(explain::kernelShap(ctx, sub, bg, ko), "kernel");
        const double seconds = double(t.nsecsElapsed()) / 1e9;
        double err = 0, scale = 0;
        for (size_t i = 0; i < k.attribution.values.size(); ++i) {
            err = std::max(err, std::abs(k.attribution.values[i] - exact.attribution.values[i]));
            scale = std::max(scale, std::abs(exact.attribution.values[i]));
        }
        const QJsonObject o{{QStringLiteral("budget"), budget},
                            {QStringLiteral("coalitions"), k.maxCoalitions},
                            {QStringLiteral("exact"), k.exact},
                            {QStringLiteral("ms_per_row"), seconds * 1000.0 / double(rows.size())},
                            {QStringLiteral("max_abs_error"), err},
                            {QStringLiteral("max_abs_value"), scale},
                            {QStringLiteral("max_standard_error"), k.maxStandardError}};
        std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
    }
    return 0;
}
