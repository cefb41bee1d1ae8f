#include "ml/xgboost.h"

#include "util/cpu.h"

#include "ml/learners.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>

#include <xgboost/c_api.h>

#include <cmath>
#include <limits>

namespace keel::ml {

namespace {

/// The one conversion of XGBoost return codes into keel errors.
Status xgbCheck(int rc, const char *call)
{
    if (rc == 0)
        return Status::ok();
    return makeError(QStringLiteral("XGBoost ") + QLatin1String(call) + QStringLiteral(" failed: ")
                     + QString::fromUtf8(XGBGetLastError()).trimmed());
}

#define KEEL_XGB(call, ...)                                                                                            \
    do {                                                                                                               \
        if (Status s_ = xgbCheck(call(__VA_ARGS__), #call); !s_)                                                       \
            return s_.error();                                                                                         \
    } while (0)

/// Owns a DMatrixHandle.
struct DMatrix {
    DMatrixHandle h = nullptr;
    DMatrix() = default;
    DMatrix(const DMatrix &) = delete;
    DMatrix &operator=(const DMatrix &) = delete;
    ~DMatrix()
    {
        if (h)
            XGDMatrixFree(h);
    }
};

/// Owns a BoosterHandle until released into a model.
struct Booster {
    BoosterHandle h = nullptr;
    Booster() = default;
    Booster(const Booster &) = delete;
    Booster &operator=(const Booster &) = delete;
    ~Booster()
    {
        if (h)
            XGBoosterFree(h);
    }
    BoosterHandle release()
    {
        BoosterHandle out = h;
        h = nullptr;
        return out;
    }
};

Status checkShape(const DesignMatrix &x, const QString &what)
{
    if (x.rows < 0 || x.cols < 0 || x.values.size() != size_t(x.rows) * size_t(x.cols))
        return makeError(what + QStringLiteral(" design matrix has ") + QString::number(x.values.size())
                         + QStringLiteral(" values for ") + QString::number(x.rows) + QStringLiteral(" x ")
                         + QString::number(x.cols));
    return Status::ok();
}

/// Wraps the design matrix without an intermediate copy (XGBoost builds its own quantised form), through the
/// array-interface entry point the Python package uses (XGDMatrixCreateFromMat_omp measured ~3x slower training).
Status makeDMatrix(const DesignMatrix &x, int threads, DMatrix &out)
{
    const QByteArray data = QByteArrayLiteral("{\"data\": [") + QByteArray::number(quintptr(x.values.data()))
                            + QByteArrayLiteral(", true], \"shape\": [") + QByteArray::number(x.rows) + QByteArrayLiteral(", ")
                            + QByteArray::number(x.cols) + QByteArrayLiteral("], \"typestr\": \"<f4\", \"version\": 3}");
    const QByteArray config = QByteArrayLiteral("{\"missing\": NaN, \"nthread\": ") + QByteArray::number(threads) + '}';
    return xgbCheck(XGDMatrixCreateFromDense(data.constData(), config.constData(), &out.h), "XGDMatrixCreateFromDense");
}

Status setLabels(const Target &y, qint64 rows, int numClasses, const QString &what, DMatrix &m)
{
    if (y.values.size() != size_t(rows))
        return makeError(what + QStringLiteral(" target has ") + QString::number(y.values.size())
                         + QStringLiteral(" values for ") + QString::number(rows) + QStringLiteral(" rows"));
    std::vector<float> labels(y.values.size());
    for (size_t i = 0; i < labels.size(); ++i) {
        const double v = y.values[i];
        if (!std::isfinite(v))
            return makeError(what + QStringLiteral(" target row ") + QString::number(i + 1)
                                 + QStringLiteral(": missing or non-finite value"), {}, -1, QStringLiteral("target"));
        if (numClasses > 0 && !(v >= 0 && v < numClasses && v == std::floor(v)))
            return makeError(what + QStringLiteral(" target row ") + QString::number(i + 1)
                                 + QStringLiteral(": not a class index in 0..") + QString::number(numClasses - 1),
                             {}, -1, QStringLiteral("target"));
        labels[i] = float(v);
    }
    return xgbCheck(XGDMatrixSetFloatInfo(m.h, "label", labels.data(), bst_ulong(labels.size())),
                    "XGDMatrixSetFloatInfo");
}

QByteArray num(double v) { return QByteArray::number(v, 'g', 17); }

struct EvalEntry {
    QString dataset;
    QString metric;
    double value = 0;
};

/// Parses "[3]\ttrain-rmse:1.23\tvalidation-rmse:1.45".
std::vector<EvalEntry> parseEval(const char *text)
{
    std::vector<EvalEntry> out;
    const QStringList parts = QString::fromUtf8(text).split(QLatin1Char('\t'), Qt::SkipEmptyParts);
    for (const QString &part : parts) {
        if (part.startsWith(QLatin1Char('[')))
            continue;
        const qsizetype dash = part.indexOf(QLatin1Char('-'));
        const qsizetype colon = part.lastIndexOf(QLatin1Char(':'));
        if (dash <= 0 || colon <= dash)
            continue;
        bool ok = false;
        const double v = part.mid(colon + 1).trimmed().toDouble(&ok);
        if (!ok)
            continue;
        out.push_back({part.left(dash), part.mid(dash + 1, colon - dash - 1), v});
    }
    return out;
}

QString objectiveFor(Task t)
{
    switch (t) {
    case Task::Regression: return QStringLiteral("reg:squarederror");
    case Task::BinaryClassification: return QStringLiteral("binary:logistic");
    case Task::MulticlassClassification: return QStringLiteral("multi:softprob");
    }
    return {};
}

QString metricFor(Task t)
{
    switch (t) {
    case Task::Regression: return QStringLiteral("rmse");
    case Task::BinaryClassification: return QStringLiteral("logloss");
    case Task::MulticlassClassification: return QStringLiteral("mlogloss");
    }
    return {};
}

ParamSpec intSpec(const char *name, int def, double lo, double hi, const char *help)
{
    ParamSpec s;
    s.name = QLatin1String(name);
    s.type = ParamSpec::Type::Int;
    s.defaultValue = def;
    s.min = lo;
    s.max = hi;
    s.help = QLatin1String(help);
    return s;
}

ParamSpec doubleSpec(const char *name, double def, double lo, double hi, const char *help, bool logScale = false)
{
    ParamSpec s;
    s.name = QLatin1String(name);
    s.type = ParamSpec::Type::Double;
    s.defaultValue = def;
    s.min = lo;
    s.max = hi;
    s.help = QLatin1String(help);
    s.logScale = logScale;
    return s;
}

} // namespace

XgbModel::XgbModel(void *booster, XgbMode mode, Task task, int numClasses, int bestIteration, int threads,
                   QVariantMap diagnostics)
    : m_booster(booster), m_mode(mode), m_task(task), m_numClasses(numClasses), m_bestIteration(bestIteration),
      m_threads(threads), m_diagnostics(std::move(diagnostics))
{
}

XgbModel::~XgbModel()
{
    if (m_booster)
        XGBoosterFree(m_booster);
}

QString XgbModel::kind() const
{
    return m_mode == XgbMode::RandomForest ? QStringLiteral("xgboost-rf") : QStringLiteral("xgboost-gbdt");
}

int XgbModel::boostedRounds() const
{
    std::lock_guard lock(m_mutex);
    int rounds = 0;
    if (XGBoosterBoostedRounds(m_booster, &rounds) != 0)
        return -1;
    return rounds;
}

Expected<std::vector<double>> XgbModel::run(const DesignMatrix &x, int type, size_t perRow) const
{
    clearUpperVectorState();
    if (Status s = checkShape(x, QStringLiteral("input")); !s)
        return s.error();
    std::lock_guard lock(m_mutex);
    bst_ulong features = 0;
    KEEL_XGB(XGBoosterGetNumFeature, m_booster, &features);
    if (bst_ulong(x.cols) != features)
        return makeError(QStringLiteral("model expects ") + QString::number(features)
                         + QStringLiteral(" columns, input has ") + QString::number(x.cols));
    DMatrix d;
    if (Status s = makeDMatrix(x, m_threads, d); !s)
        return s.error();
    const QByteArray config = QByteArrayLiteral("{\"type\":") + QByteArray::number(type)
        + QByteArrayLiteral(",\"training\":false,\"iteration_begin\":0,\"iteration_end\":")
        + QByteArray::number(m_bestIteration >= 0 ? m_bestIteration + 1 : 0)
        + QByteArrayLiteral(",\"strict_shape\":false}");
    const bst_ulong *shape = nullptr;
    bst_ulong dim = 0;
    const float *result = nullptr;
    KEEL_XGB(XGBoosterPredictFromDMatrix, m_booster, d.h, config.constData(), &shape, &dim, &result);
    size_t len = 1;
    for (bst_ulong i = 0; i < dim; ++i)
        len *= size_t(shape[i]);
    const size_t expected =
        size_t(x.rows) * size_t(m_task == Task::MulticlassClassification ? m_numClasses : 1) * perRow;
    if (len != expected)
        return makeError(QStringLiteral("XGBoost returned ") + QString::number(len)
                         + QStringLiteral(" predictions, expected ") + QString::number(expected));
    return std::vector<double>(result, result + len);
}

Expected<std::vector<double>> XgbModel::predict(const DesignMatrix &x) const { return run(x, 0, 1); }

Expected<std::vector<double>> XgbModel::predictMargin(const DesignMatrix &x) const { return run(x, 1, 1); }

Expected<std::vector<double>> XgbModel::predictContributions(const DesignMatrix &x) const
{
    return run(x, 2, size_t(x.cols) + 1);
}

QByteArray XgbModel::serialize() const
{
    std::lock_guard lock(m_mutex);
    bst_ulong len = 0;
    const char *buf = nullptr;
    if (XGBoosterSaveModelToBuffer(m_booster, "{\"format\":\"json\"}", &len, &buf) != 0)
        return {};
    return QByteArray(buf, qsizetype(len));
}

Expected<std::unique_ptr<XgbModel>> XgbModel::fromJson(const QByteArray &bytes, XgbMode mode)
{
    clearUpperVectorState();
    if (bytes.isEmpty())
        return makeError(QStringLiteral("empty XGBoost model"));
    Booster b;
    KEEL_XGB(XGBoosterCreate, nullptr, 0, &b.h);
    KEEL_XGB(XGBoosterSetParam, b.h, "verbosity", "0");
    KEEL_XGB(XGBoosterLoadModelFromBuffer, b.h, bytes.constData(), bst_ulong(bytes.size()));

    // Task from the saved objective; XGBoost accepted the model, so read its JSON configuration.
    const char *configText = nullptr;
    bst_ulong configLen = 0;
    KEEL_XGB(XGBoosterSaveJsonConfig, b.h, &configLen, &configText);
    const QJsonObject learner = QJsonDocument::fromJson(QByteArray(configText, qsizetype(configLen)))
                                    .object()
                                    .value(QStringLiteral("learner"))
                                    .toObject();
    const QString objective =
        learner.value(QStringLiteral("objective")).toObject().value(QStringLiteral("name")).toString();
    const int numClass = learner.value(QStringLiteral("learner_model_param"))
                             .toObject()
                             .value(QStringLiteral("num_class"))
                             .toString()
                             .toInt();
    Task task;
    int classes = 0;
    if (objective.startsWith(QLatin1String("reg:"))) {
        task = Task::Regression;
    } else if (objective == QLatin1String("binary:logistic")) {
        task = Task::BinaryClassification;
        classes = 2;
    } else if (objective == QLatin1String("multi:softprob")) {
        task = Task::MulticlassClassification;
        classes = numClass;
    } else {
        return makeError(QStringLiteral("unsupported XGBoost objective '") + objective + QLatin1Char('\''), {}, -1,
                         QStringLiteral("learner.objective.name"));
    }

    int best = -1;
    const char *attr = nullptr;
    int success = 0;
    KEEL_XGB(XGBoosterGetAttr, b.h, "best_iteration", &attr, &success);
    if (success && attr) {
        bool ok = false;
        best = QByteArray(attr).toInt(&ok);
        if (!ok || best < 0)
            return makeError(QStringLiteral("invalid best_iteration attribute"), {}, -1,
                             QStringLiteral("best_iteration"));
    }
    int rounds = 0;
    KEEL_XGB(XGBoosterBoostedRounds, b.h, &rounds);
    QVariantMap diag;
    diag.insert(QStringLiteral("rounds"), rounds);
    diag.insert(QStringLiteral("best_iteration"), best);
    diag.insert(QStringLiteral("objective"), objective);
    return std::unique_ptr<XgbModel>(
        new XgbModel(b.release(), mode, task, classes, best, QThread::idealThreadCount(), std::move(diag)));
}

QString XgbLearner::name() const
{
    return m_mode == Mode::RandomForest ? QStringLiteral("random_forest") : QStringLiteral("gbdt");
}

QString XgbLearner::description() const
{
    return m_mode == Mode::RandomForest ? QStringLiteral("Random forest (XGBoost RF mode)")
                                        : QStringLiteral("Gradient-boosted trees (XGBoost, hist method)");
}

std::vector<ParamSpec> XgbLearner::params() const
{
    std::vector<ParamSpec> s;
    const int ideal = QThread::idealThreadCount();
    if (m_mode == Mode::Gbdt) {
        s.push_back(intSpec("n_estimators", 100, 1, 100000, "Number of boosting rounds"));
        s.push_back(doubleSpec("learning_rate", 0.3, 1e-4, 1, "Shrinkage applied to each new tree (eta)", true));
        s.push_back(intSpec("max_depth", 6, 1, 64, "Maximum tree depth"));
        s.push_back(doubleSpec("min_child_weight", 1, 0, 1e6, "Minimum hessian sum in a leaf"));
        s.push_back(doubleSpec("subsample", 1, 0.01, 1, "Fraction of rows sampled per tree"));
        s.push_back(doubleSpec("colsample_bytree", 1, 0.01, 1, "Fraction of columns sampled per tree"));
        s.push_back(doubleSpec("reg_lambda", 1, 0, 1e6, "L2 penalty on leaf weights"));
        s.push_back(doubleSpec("reg_alpha", 0, 0, 1e6, "L1 penalty on leaf weights"));
        s.push_back(intSpec("early_stopping_rounds", 0, 0, 100000,
                            "Stop after this many rounds without validation improvement (0 = off)"));
    } else {
        s.push_back(intSpec("n_estimators", 100, 1, 100000, "Number of trees"));
        s.push_back(intSpec("max_depth", 8, 1, 64, "Maximum tree depth"));
        s.push_back(doubleSpec("min_child_weight", 1, 0, 1e6, "Minimum hessian sum in a leaf"));
        s.push_back(doubleSpec("subsample", 0.8, 0.01, 0.999, "Fraction of rows sampled per tree (bootstrap-like)"));
        s.push_back(doubleSpec("colsample_bynode", 0.8, 0.01, 0.999, "Fraction of columns tried at each split"));
        s.push_back(doubleSpec("reg_lambda", 1, 0, 1e6, "L2 penalty on leaf weights"));
    }
    s.push_back(intSpec("max_bin", 256, 2, 65536, "Histogram bins per feature (hist method)"));
    s.push_back(intSpec("threads", ideal, 1, 1024, "Worker threads"));
    s.push_back(intSpec("seed", 0, 0, 2147483647, "Random seed for row and column sampling"));
    return s;
}

Expected<std::unique_ptr<Model>> XgbLearner::fit(const DesignMatrix &x, const Target &y, const Params &params,
                                                 const DesignMatrix *validationX, const Target *validationY,
                                                 const IterationCallback &onIteration, Feedback *feedback) const
{
    clearUpperVectorState();
    if (Status s = checkShape(x, QStringLiteral("training")); !s)
        return s.error();
    if (x.rows == 0)
        return makeError(QStringLiteral("no training rows"));
    if ((validationX == nullptr) != (validationY == nullptr))
        return makeError(QStringLiteral("validation needs both a design matrix and a target"));
    const Task task = y.task;
    int numClasses = 0;
    if (task == Task::BinaryClassification) {
        if (y.numClasses() != 2)
            return makeError(QStringLiteral("binary classification needs exactly 2 classes"), {}, -1,
                             QStringLiteral("target"));
        numClasses = 2;
    } else if (task == Task::MulticlassClassification) {
        numClasses = y.numClasses();
        if (numClasses < 2)
            return makeError(QStringLiteral("classification needs at least 2 classes"), {}, -1,
                             QStringLiteral("target"));
    }

    const std::vector<ParamSpec> specs = this->params();
    auto pv = [&](const char *n) { return paramValue(params, specs, QLatin1String(n)); };
    const int rounds = m_mode == Mode::RandomForest ? 1 : pv("n_estimators").toInt();
    const int trees = pv("n_estimators").toInt();
    const int threads = pv("threads").toInt();
    const int earlyStop = m_mode == Mode::Gbdt ? pv("early_stopping_rounds").toInt() : 0;
    if (trees < 1)
        return makeError(QStringLiteral("must be >= 1"), {}, -1, QStringLiteral("n_estimators"));
    if (threads < 1)
        return makeError(QStringLiteral("must be >= 1"), {}, -1, QStringLiteral("threads"));

    DMatrix train;
    if (Status s = makeDMatrix(x, threads, train); !s)
        return s.error();
    if (Status s = setLabels(y, x.rows, numClasses, QStringLiteral("training"), train); !s)
        return s.error();
    DMatrix valid;
    if (validationX) {
        if (Status s = checkShape(*validationX, QStringLiteral("validation")); !s)
            return s.error();
        if (validationX->cols != x.cols)
            return makeError(QStringLiteral("validation has ") + QString::number(validationX->cols)
                             + QStringLiteral(" columns, training has ") + QString::number(x.cols));
        if (Status s = makeDMatrix(*validationX, threads, valid); !s)
            return s.error();
        if (Status s = setLabels(*validationY, validationX->rows, numClasses, QStringLiteral("validation"), valid); !s)
            return s.error();
    }

    Booster booster;
    DMatrixHandle cache[2] = {train.h, valid.h};
    KEEL_XGB(XGBoosterCreate, cache, valid.h ? 2 : 1, &booster.h);

    const QString metric = metricFor(task);
    std::vector<std::pair<QByteArray, QByteArray>> kv = {
        {"verbosity", "0"},
        {"booster", "gbtree"},
        {"tree_method", "hist"},
        {"objective", objectiveFor(task).toUtf8()},
        {"eval_metric", metric.toUtf8()},
        {"nthread", QByteArray::number(threads)},
        {"seed", QByteArray::number(pv("seed").toLongLong())},
        {"max_depth", QByteArray::number(pv("max_depth").toInt())},
        {"min_child_weight", num(pv("min_child_weight").toDouble())},
        {"subsample", num(pv("subsample").toDouble())},
        {"lambda", num(pv("reg_lambda").toDouble())},
        {"max_bin", QByteArray::number(pv("max_bin").toInt())},
    };
    if (numClasses > 2 || task == Task::MulticlassClassification)
        kv.push_back({"num_class", QByteArray::number(numClasses)});
    if (m_mode == Mode::Gbdt) {
        kv.push_back({"eta", num(pv("learning_rate").toDouble())});
        kv.push_back({"colsample_bytree", num(pv("colsample_bytree").toDouble())});
        kv.push_back({"alpha", num(pv("reg_alpha").toDouble())});
    } else {
        kv.push_back({"eta", "1"});
        kv.push_back({"num_parallel_tree", QByteArray::number(trees)});
        kv.push_back({"colsample_bynode", num(pv("colsample_bynode").toDouble())});
    }
    for (const auto &[k, v] : kv) {
        if (Status s = xgbCheck(XGBoosterSetParam(booster.h, k.constData(), v.constData()), "XGBoosterSetParam");
            !s) {
            Error e = s.error();
            e.field = QString::fromUtf8(k);
            return e;
        }
    }

    const bool stopEarly = earlyStop > 0 && valid.h;
    const bool evaluate = onIteration || stopEarly;
    DMatrixHandle evalSets[2] = {train.h, valid.h};
    const char *evalNames[2] = {"train", "validation"};
    int bestIteration = -1;
    double bestScore = std::numeric_limits<double>::infinity();
    int done = 0;
    bool stoppedEarly = false;
    for (int iter = 0; iter < rounds; ++iter) {
        if (isCancelled(feedback))
            return cancelledError();
        clearUpperVectorState(); // the callbacks below run Qt string code that can leave it dirty again
        KEEL_XGB(XGBoosterUpdateOneIter, booster.h, iter, train.h);
        done = iter + 1;
        if (evaluate) {
            const char *evalText = nullptr;
            clearUpperVectorState();
            KEEL_XGB(XGBoosterEvalOneIter, booster.h, iter, evalSets, evalNames, valid.h ? 2 : 1, &evalText);
            for (const EvalEntry &e : parseEval(evalText)) {
                if (onIteration)
                    onIteration({iter, e.dataset, e.metric, e.value});
                if (stopEarly && e.dataset == QLatin1String("validation") && e.metric == metric
                    && e.value < bestScore) {
                    bestScore = e.value;
                    bestIteration = iter;
                }
            }
        }
        reportProgress(feedback, done, rounds, QStringLiteral("boost"));
        if (stopEarly && bestIteration >= 0 && iter - bestIteration >= earlyStop) {
            stoppedEarly = true;
            break;
        }
    }
    if (stopEarly && bestIteration >= 0) {
        // Keep the rounds up to the best one only: the saved model then predicts exactly what Keel predicts with
        // any reader's default (Python's Booster.predict uses every tree it finds), and carries no trees that were
        // fitted past the optimum.
        if (bestIteration + 1 < done) {
            Booster sliced;
            KEEL_XGB(XGBoosterSlice, booster.h, 0, bestIteration + 1, 1, &sliced.h);
            std::swap(booster.h, sliced.h);
        }
        KEEL_XGB(XGBoosterSetAttr, booster.h, "best_iteration", QByteArray::number(bestIteration).constData());
        KEEL_XGB(XGBoosterSetAttr, booster.h, "best_score", num(bestScore).constData());
    } else {
        bestIteration = -1;
    }
    // The encoded column names travel with the model (feature_names in XGBoost's JSON).
    if (x.columnNames.size() == x.cols) {
        std::vector<QByteArray> names;
        for (const QString &n : x.columnNames)
            names.push_back(exportedFeatureName(n).toUtf8());
        std::vector<const char *> ptrs;
        for (const QByteArray &n : names)
            ptrs.push_back(n.constData());
        KEEL_XGB(XGBoosterSetStrFeatureInfo, booster.h, "feature_name", ptrs.data(), bst_ulong(ptrs.size()));
    }

    QVariantMap diag;
    diag.insert(QStringLiteral("rounds"), done);
    diag.insert(QStringLiteral("trees_per_round"), m_mode == Mode::RandomForest ? trees : 1);
    diag.insert(QStringLiteral("best_iteration"), bestIteration);
    if (bestIteration >= 0)
        diag.insert(QStringLiteral("best_score"), bestScore);
    diag.insert(QStringLiteral("early_stopped"), stoppedEarly);
    diag.insert(QStringLiteral("objective"), objectiveFor(task));
    diag.insert(QStringLiteral("eval_metric"), metric);
    diag.insert(QStringLiteral("threads"), threads);
    return std::unique_ptr<Model>(
        new XgbModel(booster.release(), m_mode, task, numClasses, bestIteration, threads, std::move(diag)));
}

} // namespace keel::ml
