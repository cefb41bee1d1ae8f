// keel-bench-train CSV OUTDIR: times Keel's learners on the exact design matrix a training config produces, and
// writes that matrix for the Python peers (bench/train_peer.py) so both fit the same numbers.
//   OUTDIR/x_train.f32, x_valid.f32 (row-major float32), y_train.f64, y_valid.f64, shape.json
// Prints one JSON object: logistic fit time and training log loss, GBDT fit time, metric-logging time.
// KEEL_BENCH_PART=logistic|gbdt|metrics runs one part only (bench/run-train.sh runs each in its own process).
#include "data/reader.h"
#include "ml/learners.h"
#include "ml/metrics.h"
#include "ml/recipe.h"
#include "ml/split.h"
#include "ml/training.h"
#include "tracking/trackingstore.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <cstdio>

using namespace keel;

namespace {

bool writeRaw(const QString &path, const void *data, qint64 bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(static_cast<const char *>(data), bytes) == bytes;
}

[[noreturn]] void die(const QString &message)
{
    std::fprintf(stderr, "keel-bench-train: %s\n", qPrintable(message));
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
    if (argc != 3)
        die(QStringLiteral("usage: keel-bench-train CSV OUTDIR"));
    const QString csv = QString::fromLocal8Bit(argv[1]);
    const QString out = QString::fromLocal8Bit(argv[2]);

    // The same preprocessing as resources/examples/configs/adult-logistic.yaml, standardised for logistic regression.
    const data::Table table = must(data::readTable(csv), "read");
    const ml::RecipeSpec spec = must(ml::RecipeSpec::fromYaml(QStringLiteral(
                                         "target: class\n"
                                         "task: binary\n"
                                         "label_map: {\">50K.\": \">50K\", \"<=50K.\": \"<=50K\"}\n"
                                         "exclude: [fnlwgt]\n"
                                         "defaults: {max_categories: 30, scale: standard}\n")),
                                     "recipe spec");
    const ml::Target full = must(ml::makeTarget(table, QStringLiteral("class"), ml::Task::BinaryClassification, {},
                                                spec.labelMap),
                                 "target");
    const ml::Split split = must(ml::holdoutSplit(table.rowCount(), 0.2, 42, &full), "split");
    const data::Table trainT = table.rows(split.train), validT = table.rows(split.test);
    const ml::Recipe recipe = must(ml::Recipe::fit(trainT, spec), "recipe fit");
    const ml::DesignMatrix xt = must(recipe.transform(trainT), "transform"), xv = must(recipe.transform(validT), "transform");
    const ml::Target yt = must(recipe.target(trainT), "target"), yv = must(recipe.target(validT), "target");
    if (!writeRaw(out + QStringLiteral("/x_train.f32"), xt.values.data(), qint64(xt.values.size() * sizeof(float)))
        || !writeRaw(out + QStringLiteral("/x_valid.f32"), xv.values.data(), qint64(xv.values.size() * sizeof(float)))
        || !writeRaw(out + QStringLiteral("/y_train.f64"), yt.values.data(), qint64(yt.values.size() * sizeof(double)))
        || !writeRaw(out + QStringLiteral("/y_valid.f64"), yv.values.data(), qint64(yv.values.size() * sizeof(double))))
        die(QStringLiteral("cannot write matrices to ") + out);
    const QJsonObject shape{{QStringLiteral("train_rows"), xt.rows}, {QStringLiteral("valid_rows"), xv.rows},
                            {QStringLiteral("cols"), xt.cols}};
    writeRaw(out + QStringLiteral("/shape.json"), QJsonDocument(shape).toJson().constData(),
             QJsonDocument(shape).toJson().size());

    QJsonObject result = shape;
    // One part per process, as `keel train` fits one model per process.
    const QString part = qEnvironmentVariable("KEEL_BENCH_PART", QStringLiteral("all"));
    auto runs = [&](const char *name) { return part == u"all" || part == QLatin1String(name); };
    // Logistic regression, L-BFGS, scikit-learn's objective and C; best of 3.
    if (runs("logistic")) {
        const ml::Learner *logistic = ml::findLearner(QStringLiteral("logistic"));
        const ml::Params params = must(ml::validateParams(logistic->params(),
                                                          {{QStringLiteral("solver"), QStringLiteral("lbfgs")},
                                                           {QStringLiteral("C"), 1.0},
                                                           {QStringLiteral("tol"), 1e-6},
                                                           {QStringLiteral("max_iter"), 1000}}),
                                       "logistic params");
        double best = 1e300;
        std::unique_ptr<ml::Model> model;
        for (int rep = 0; rep < 3; ++rep) {
            QElapsedTimer t;
            t.start();
            model = must(logistic->fit(xt, yt, params, nullptr, nullptr, {}, nullptr), "logistic fit");
            best = std::min(best, double(t.nsecsElapsed()) / 1e9);
        }
        const std::vector<double> p = must(model->predict(xt), "predict");
        result.insert(QStringLiteral("logistic_seconds"), best);
        result.insert(QStringLiteral("logistic_train_log_loss"), ml::logLoss(yt.values, p, 2));
        result.insert(QStringLiteral("logistic_iterations"), model->diagnostics().value(QStringLiteral("iterations")).toInt());
        result.insert(QStringLiteral("logistic_objective"), model->diagnostics().value(QStringLiteral("objective")).toDouble());
    }
    // GBDT: 500 rounds, depth 6, 2 threads, train and validation metric every round (what `keel train` logs).
    if (runs("gbdt")) {
        const ml::Learner *gbdt = ml::findLearner(QStringLiteral("gbdt"));
        const ml::Params params = must(ml::validateParams(gbdt->params(),
                                                          {{QStringLiteral("n_estimators"), 500},
                                                           {QStringLiteral("max_depth"), 6},
                                                           {QStringLiteral("learning_rate"), 0.05},
                                                           {QStringLiteral("early_stopping_rounds"), 0},
                                                           {QStringLiteral("threads"), 2}}),
                                       "gbdt params");
        QElapsedTimer t;
        t.start();
        auto model = must(gbdt->fit(xt, yt, params, &xv, &yv, [](const ml::IterationMetrics &) {}, nullptr), "gbdt fit");
        result.insert(QStringLiteral("gbdt_seconds"), double(t.nsecsElapsed()) / 1e9);
        const std::vector<double> p = must(model->predict(xv), "predict");
        result.insert(QStringLiteral("gbdt_valid_log_loss"), ml::logLoss(yv.values, p, 2));
    }
    // Logging 100,000 metric points into a fresh tracking store: one call, and in batches of 10 as training does.
    if (runs("metrics")) {
        QTemporaryDir dir;
        auto ts = must(tracking::TrackingStore::open(dir.filePath(QStringLiteral("keel.db"))), "tracking open");
        const QString run = must(ts->createRun({}), "create run");
        std::vector<tracking::MetricPoint> points;
        for (int i = 0; i < 100000; ++i)
            points.push_back({QStringLiteral("validation.logloss"), i, 1.0 / (i + 1), {}});
        QElapsedTimer t;
        t.start();
        if (Status s = ts->logMetrics(run, points); !s)
            die(s.error().toString());
        result.insert(QStringLiteral("log_100k_points_one_call_seconds"), double(t.nsecsElapsed()) / 1e9);
        const QString run2 = must(ts->createRun({}), "create run");
        t.restart();
        for (size_t i = 0; i < points.size(); i += 10) {
            std::vector<tracking::MetricPoint> batch(points.begin() + qsizetype(i), points.begin() + qsizetype(i + 10));
            if (Status s = ts->logMetrics(run2, batch); !s)
                die(s.error().toString());
        }
        result.insert(QStringLiteral("log_100k_points_batches_of_10_seconds"), double(t.nsecsElapsed()) / 1e9);
        t.restart();
        auto back = must(ts->metrics(run), "read metrics");
        result.insert(QStringLiteral("read_100k_points_seconds"), double(t.nsecsElapsed()) / 1e9);
        if (back.size() != points.size())
            die(QStringLiteral("read back %1 points").arg(back.size()));
    }
    std::printf("%s\n", QJsonDocument(result).toJson(QJsonDocument::Compact).constData());
    return 0;
}
