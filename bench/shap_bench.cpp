// Keel TreeSHAP against XGBoost's pred_contribs (not part of the test run). Fits (or loads) a GBDT on Adult,
// writes the model JSON and the explained rows for the Python peer (bench/shap_peer.py), and times Keel's exact
// TreeSHAP on those rows. bench/run-shap.sh runs both and prints the ratio.
//
//   keel-bench-shap ADULT_TRAIN_CSV OUTDIR [--rows N] [--threads T] [--trees N] [--depth D] [--repeat R]
//
// OUTDIR receives (and reuses, when present and of the same shape) model.json; it always receives rows.f32
// (row-major float32, NaN = missing), rows.shape ("ROWS COLS"), keel_shap.f64 (row-major float64, ROWS x
// (COLS + 1), base value last, as pred_contribs lays it out). One JSON line of results goes to stdout: wall and
// process CPU seconds of each run (CPU seconds are less disturbed by other load on a shared machine).
#include "data/reader.h"
#include "explain/treeshap.h"
#include "ml/recipe.h"
#include "ml/xgboost.h"
#include "util/fileutil.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

using namespace keel;

namespace {

int fail(const QString &message)
{
    std::fprintf(stderr, "keel-bench-shap: %s\n", qPrintable(message));
    return 1;
}

/// CPU seconds of the whole process (all threads): less sensitive than wall time to other load on the machine.
double processCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

bool writeBytes(const QString &path, const void *data, qint64 size)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate)
        && f.write(static_cast<const char *>(data), size) == size;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 3 || args.contains(QStringLiteral("--help")))
        return fail(QStringLiteral("usage: keel-bench-shap ADULT_TRAIN_CSV OUTDIR [--rows N] [--threads T] "
                                   "[--trees N] [--depth D] [--repeat R]"));
    auto option = [&](const char *name, int fallback) {
        const qsizetype i = args.indexOf(QLatin1String(name));
        return i > 0 && i + 1 < args.size() ? args.at(i + 1).toInt() : fallback;
    };
    const qint64 wantRows = option("--rows", 10000);
    const int threads = option("--threads", 2);
    const int trees = option("--trees", 500);
    const int depth = option("--depth", 8);
    const int repeat = std::max(1, option("--repeat", 3));
    const QDir out(args.at(2));
    if (!QDir().mkpath(out.path()))
        return fail(QStringLiteral("cannot create ") + out.path());

    auto table = data::readTable(args.at(1));
    if (!table)
        return fail(table.message());
    ml::RecipeSpec spec;
    spec.target = QStringLiteral("class");
    auto recipe = ml::Recipe::fit(*table, spec);
    if (!recipe)
        return fail(recipe.message());
    auto x = recipe->transform(*table);
    auto y = recipe->target(*table);
    if (!x || !y)
        return fail(x ? y.message() : x.message());

    // The model: reuse OUTDIR/model.json when it has the requested number of trees, else fit and save it.
    const QString modelPath = out.filePath(QStringLiteral("model.json"));
    std::unique_ptr<ml::XgbModel> model;
    double fitSeconds = 0;
    if (QFile::exists(modelPath)) {
        auto bytes = readFile(modelPath);
        if (!bytes)
            return fail(bytes.message());
        auto loaded = ml::XgbModel::fromJson(*bytes, ml::XgbMode::Gbdt);
        if (loaded && (*loaded)->boostedRounds() == trees && (*loaded)->numClasses() == 2)
            model = std::move(loaded).value();
    }
    if (!model) {
        const ml::Params params = {{QStringLiteral("n_estimators"), trees},
                                   {QStringLiteral("max_depth"), depth},
                                   {QStringLiteral("learning_rate"), 0.05},
                                   {QStringLiteral("early_stopping_rounds"), 0},
                                   {QStringLiteral("threads"), threads}};
        QElapsedTimer fitClock;
        fitClock.start();
        auto fitted = ml::XgbLearner().fit(*x, *y, params, nullptr, nullptr, {}, nullptr);
        if (!fitted)
            return fail(fitted.message());
        fitSeconds = double(fitClock.nsecsElapsed()) / 1e9;
        model.reset(static_cast<ml::XgbModel *>(fitted->release()));
        if (Status s = writeFileAtomic(modelPath, model->serialize()); !s)
            return fail(s.message());
    }

    // The explained rows: the first N rows of the design matrix.
    ml::DesignMatrix rows = *x;
    rows.rows = std::min<qint64>(wantRows, x->rows);
    rows.values.resize(size_t(rows.rows) * size_t(rows.cols));
    const QByteArray shape = QByteArray::number(rows.rows) + ' ' + QByteArray::number(rows.cols) + '\n';
    if (!writeBytes(out.filePath(QStringLiteral("rows.f32")), rows.values.data(),
                    qint64(rows.values.size() * sizeof(float)))
        || !writeBytes(out.filePath(QStringLiteral("rows.shape")), shape.constData(), shape.size()))
        return fail(QStringLiteral("cannot write the rows to ") + out.path());

    QElapsedTimer clock;
    clock.start();
    const QByteArray json = model->serialize();
    auto ensemble = explain::parseXgboostJson(json);
    if (!ensemble)
        return fail(ensemble.message());
    const double parseSeconds = double(clock.nsecsElapsed()) / 1e9;

    explain::TreeShapOptions options;
    options.threads = threads;
    QJsonArray keelSeconds, keelCpuSeconds;
    double best = INFINITY, bestCpu = INFINITY;
    explain::Attribution shap;
    for (int i = 0; i < repeat; ++i) {
        const double cpu0 = processCpuSeconds();
        clock.restart();
        auto a = explain::treeShap(*ensemble, rows, options);
        const double s = double(clock.nsecsElapsed()) / 1e9;
        const double cpu = processCpuSeconds() - cpu0;
        if (!a)
            return fail(a.message());
        keelSeconds.append(s);
        keelCpuSeconds.append(cpu);
        best = std::min(best, s);
        bestCpu = std::min(bestCpu, cpu);
        shap = std::move(a).value();
    }

    // XGBoost's pred_contribs through the same C API Keel links (a cross-check of the Python peer's time).
    const double cpu0 = processCpuSeconds();
    clock.restart();
    auto contribs = model->predictContributions(rows);
    const double capiSeconds = double(clock.nsecsElapsed()) / 1e9;
    const double capiCpuSeconds = processCpuSeconds() - cpu0;
    if (!contribs)
        return fail(contribs.message());
    const int F = rows.cols;
    std::vector<double> keel(size_t(rows.rows) * size_t(F + 1));
    double maxDiff = 0;
    for (qint64 r = 0; r < rows.rows; ++r) {
        for (int f = 0; f < F; ++f)
            keel[size_t(r * (F + 1) + f)] = shap.value(r, 0, f);
        keel[size_t(r * (F + 1) + F)] = shap.base[0];
        for (int f = 0; f <= F; ++f)
            maxDiff = std::max(maxDiff, std::abs(keel[size_t(r * (F + 1) + f)] - (*contribs)[size_t(r * (F + 1) + f)]));
    }
    if (!writeBytes(out.filePath(QStringLiteral("keel_shap.f64")), keel.data(), qint64(keel.size() * sizeof(double))))
        return fail(QStringLiteral("cannot write keel_shap.f64"));

    size_t nodes = 0;
    for (const explain::Tree &t : ensemble->trees)
        nodes += t.nodes.size();
    QJsonObject result{{QStringLiteral("rows"), rows.rows},
                       {QStringLiteral("cols"), F},
                       {QStringLiteral("trees"), qint64(ensemble->trees.size())},
                       {QStringLiteral("nodes"), qint64(nodes)},
                       {QStringLiteral("threads"), threads},
                       {QStringLiteral("fit_s"), fitSeconds},
                       {QStringLiteral("parse_s"), parseSeconds},
                       {QStringLiteral("keel_s"), keelSeconds},
                       {QStringLiteral("keel_best_s"), best},
                       {QStringLiteral("keel_cpu_s"), keelCpuSeconds},
                       {QStringLiteral("keel_best_cpu_s"), bestCpu},
                       {QStringLiteral("xgboost_capi_s"), capiSeconds},
                       {QStringLiteral("xgboost_capi_cpu_s"), capiCpuSeconds},
                       {QStringLiteral("max_abs_diff_capi"), maxDiff},
                       {QStringLiteral("max_residual"), shap.maxAbsResidual()}};
    std::printf("%s\n", QJsonDocument(result).toJson(QJsonDocument::Compact).constData());
    return maxDiff <= 1e-4 ? 0 : fail(QStringLiteral("Keel and XGBoost disagree by ") + QString::number(maxDiff));
}
