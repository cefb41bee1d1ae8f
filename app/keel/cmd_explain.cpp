// keel explain RUN: global and per-prediction explanations, fairness across groups — stored as run artifacts.
#include "commands.h"

#include "explain/fairness.h"
#include "explain/global.h"
#include "explain/report.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

namespace keel::cli {

namespace {

QString num(double v) { return std::isnan(v) ? QStringLiteral("-") : QString::number(v, 'g', 4); }
QString signedNum(double v) { return (v >= 0 ? QStringLiteral("+") : QString()) + QString::number(v, 'g', 4); }

QString interval(const QJsonObject &e)
{
    const double v = explain::numberFromJson(e.value(QStringLiteral("value")));
    const double lo = explain::numberFromJson(e.value(QStringLiteral("low")));
    const double hi = explain::numberFromJson(e.value(QStringLiteral("high")));
    if (std::isnan(lo) || std::isnan(hi))
        return num(v);
    return QStringLiteral("%1 [%2, %3]").arg(num(v), num(lo), num(hi));
}

void printLocal(Context &ctx, const QJsonObject &report, const QJsonObject &local)
{
    auto a = explain::attributionFromJson(local.value(QStringLiteral("attribution")).toObject());
    if (!a)
        return;
    const QJsonArray rows = local.value(QStringLiteral("rows")).toArray();
    const QJsonArray values = local.value(QStringLiteral("values")).toArray();
    const QJsonArray prediction = local.value(QStringLiteral("prediction")).toArray();
    const QJsonArray actual = local.value(QStringLiteral("actual")).toArray();
    const QStringList classes = [&] {
        QStringList c;
        for (const QJsonValue &v : report.value(QStringLiteral("classes")).toArray())
            c << v.toString();
        return c;
    }();
    const int outputs = a->outputs;
    const int perRow = int(prediction.size() / std::max<qsizetype>(rows.size(), 1));
    for (qsizetype i = 0; i < rows.size(); ++i) {
        // The output explained for a row: binary/regression the only one; multiclass the predicted class.
        int k = 0;
        if (outputs > 1) {
            double best = -1;
            for (int c = 0; c < perRow; ++c)
                if (prediction[i * perRow + c].toDouble() > best) {
                    best = prediction[i * perRow + c].toDouble();
                    k = c;
                }
        }
        QString predicted;
        if (classes.isEmpty())
            predicted = num(prediction[i].toDouble());
        else if (classes.size() == 2)
            predicted = QStringLiteral("P(%1) = %2").arg(classes.value(1), num(prediction[i].toDouble()));
        else
            predicted = QStringLiteral("%1 (P = %2)").arg(classes.value(k), num(prediction[i * perRow + k].toDouble()));
        ctx.out << "row " << rows[i].toInteger() << ": " << predicted;
        if (!actual.isEmpty())
            ctx.out << ", actual " << actual[i].toString();
        ctx.out << '\n';
        double sum = a->base[size_t(k)];
        std::vector<int> order(size_t(a->featureCount()));
        std::iota(order.begin(), order.end(), 0);
        for (int f = 0; f < a->featureCount(); ++f)
            sum += a->value(i, k, f);
        std::stable_sort(order.begin(), order.end(),
                         [&](int x, int y) { return std::abs(a->value(i, k, x)) > std::abs(a->value(i, k, y)); });
        std::vector<QStringList> table;
        table.push_back({QStringLiteral("base value"), QString(), num(a->base[size_t(k)])});
        const QJsonArray rowValues = values[i].toArray();
        int shown = 0;
        double rest = 0;
        for (int f : order) {
            if (shown < 8) {
                table.push_back({a->features[f], rowValues[f].toString(), signedNum(a->value(i, k, f))});
                ++shown;
            } else {
                rest += a->value(i, k, f);
            }
        }
        if (a->featureCount() > 8)
            table.push_back({QStringLiteral("%1 other features").arg(a->featureCount() - 8), QString(), signedNum(rest)});
        table.push_back({QStringLiteral("= margin"), QString(), num(sum)});
        ctx.out << formatTable({QStringLiteral("feature"), QStringLiteral("value"), QStringLiteral("contribution")}, table, {2});
        const double residual = a->residual.empty() ? 0.0 : a->residual[size_t(i * outputs + k)];
        ctx.out << "additivity residual " << QString::number(residual, 'g', 3) << '\n';
        const QJsonObject in = local.value(QStringLiteral("interactions")).toObject();
        if (!in.isEmpty()) {
            // The strongest pairwise interactions of this row (design columns, symmetric halves added).
            const QJsonArray names = in.value(QStringLiteral("features")).toArray();
            const int kk = int(names.size()), outs = in.value(QStringLiteral("outputs")).toInt(1);
            const std::vector<double> v = explain::numbersFromJson(in.value(QStringLiteral("values")).toArray());
            std::vector<std::pair<double, QString>> pairs;
            for (int x = 0; x < kk; ++x)
                for (int y = x + 1; y < kk; ++y) {
                    const size_t base = size_t((i * outs + k) * kk);
                    const double val = v[(base + size_t(x)) * size_t(kk) + size_t(y)] + v[(base + size_t(y)) * size_t(kk) + size_t(x)];
                    pairs.push_back({val, names[x].toString() + QStringLiteral(" x ") + names[y].toString()});
                }
            std::stable_sort(pairs.begin(), pairs.end(), [](const auto &p, const auto &q) { return std::abs(p.first) > std::abs(q.first); });
            ctx.out << "strongest interactions:";
            for (size_t j = 0; j < std::min<size_t>(pairs.size(), 3); ++j)
                ctx.out << "  " << pairs[j].second << ' ' << signedNum(pairs[j].first);
            ctx.out << '\n';
        }
        ctx.out << '\n';
    }
}

void printGlobal(Context &ctx, const QJsonObject &global)
{
    ctx.out << "global, on " << global.value(QStringLiteral("rows")).toInteger() << " rows (mean |SHAP| on the margin; "
            << "permutation importance: metric drop, mean ± std over repeats)\n";
    const QJsonArray importance = global.value(QStringLiteral("importance")).toArray();
    auto perm = explain::PermutationImportance::fromJson(global.value(QStringLiteral("permutation")).toObject());
    std::vector<QStringList> rows;
    for (qsizetype i = 0; i < std::min<qsizetype>(importance.size(), 15); ++i) {
        const QJsonObject o = importance[i].toObject();
        const QString f = o.value(QStringLiteral("feature")).toString();
        QString p = QStringLiteral("-");
        if (perm) {
            const qsizetype j = perm->features.indexOf(f);
            if (j >= 0)
                p = num(perm->mean[size_t(j)]) + QStringLiteral(" ± ") + num(perm->std[size_t(j)]);
        }
        rows.push_back({QString::number(i + 1), f, num(explain::numberFromJson(o.value(QStringLiteral("mean_abs_shap")))), p});
    }
    ctx.out << formatTable({QStringLiteral("#"), QStringLiteral("feature"), QStringLiteral("mean |SHAP|"),
                            QStringLiteral("permutation") + (perm ? QStringLiteral(" (") + perm->metric + QLatin1Char(')') : QString())},
                           rows, {0, 2, 3});
    if (importance.size() > 15)
        ctx.out << "(" << importance.size() - 15 << " more features in --json)\n";
    auto pdp = explain::PartialDependence::fromJson(global.value(QStringLiteral("pdp")).toObject());
    if (pdp) {
        ctx.out << "\npartial dependence of " << pdp->scale << (pdp->className.isEmpty() ? QString() : QStringLiteral(" (") + pdp->className + QLatin1Char(')'))
                << " on " << pdp->feature << " (" << pdp->rows << " rows, " << pdp->iceRows.size() << " ICE curves):\n";
        std::vector<QStringList> pr;
        for (size_t i = 0; i < pdp->average.size(); ++i)
            pr.push_back({pdp->gridLabels.value(qsizetype(i)), num(pdp->average[i])});
        ctx.out << formatTable({pdp->feature, QStringLiteral("average")}, pr, {1});
    }
    ctx.out << '\n';
}

void printFairness(Context &ctx, const QJsonObject &fairnessJson)
{
    auto f = explain::FairnessReport::fromJson(fairnessJson);
    if (!f)
        return;
    ctx.out << "fairness by " << f->sensitive << " (positive class " << f->positiveClass << ", threshold " << num(f->threshold)
            << ", " << f->bootstrap << " bootstrap resamples, " << qRound(f->confidence * 100) << "% intervals)\n";
    std::vector<QStringList> rows;
    for (const explain::GroupFairness &g : f->groups)
        rows.push_back({g.group, QString::number(g.count), interval(g.selectionRate.toJson()), interval(g.truePositiveRate.toJson()),
                        interval(g.falsePositiveRate.toJson()), interval(g.precision.toJson()), interval(g.calibrationGap.toJson())});
    ctx.out << formatTable({QStringLiteral("group"), QStringLiteral("rows"), QStringLiteral("selection rate"), QStringLiteral("TPR"),
                            QStringLiteral("FPR"), QStringLiteral("precision"), QStringLiteral("calibration gap")},
                           rows, {1});
    ctx.out << "demographic parity difference " << interval(f->demographicParityDifference.toJson()) << ", ratio "
            << interval(f->demographicParityRatio.toJson()) << "\nequalized odds difference "
            << interval(f->equalizedOddsDifference.toJson()) << " (TPR difference " << interval(f->truePositiveRateDifference.toJson())
            << ", FPR difference " << interval(f->falsePositiveRateDifference.toJson()) << ")\n\n";
}

int cmdExplain(Context &ctx)
{
    workspace::Workspace *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto model = explain::loadRunModel(*ws, ctx.args().at(0));
    if (!model)
        return ctx.fail(model.error());
    explain::ExplainRequest request;
    request.data = ctx.parser.value(QStringLiteral("data"));
    request.global = ctx.parser.isSet(QStringLiteral("global"));
    request.fairness = ctx.parser.value(QStringLiteral("fairness"));
    if (ctx.parser.isSet(QStringLiteral("method")))
        request.method = ctx.parser.value(QStringLiteral("method"));
    request.pdpFeature = ctx.parser.value(QStringLiteral("feature"));
    auto intOption = [&](const char *name, qint64 min, qint64 max, auto &out) -> bool {
        if (!ctx.parser.isSet(QLatin1String(name)))
            return true;
        bool ok = false;
        const qint64 v = ctx.parser.value(QLatin1String(name)).toLongLong(&ok);
        if (!ok || v < min || v > max) {
            ctx.usage(QStringLiteral("--%1 must be a whole number from %2 to %3").arg(QLatin1String(name)).arg(min).arg(max));
            return false;
        }
        out = static_cast<std::remove_reference_t<decltype(out)>>(v);
        return true;
    };
    if (!intOption("global-rows", 10, 1'000'000, request.globalRows) || !intOption("background", 1, 1000, request.background)
        || !intOption("samples", 0, 1'000'000, request.kernelSamples) || !intOption("repeats", 1, 100, request.permutationRepeats)
        || !intOption("bootstrap", 0, 100'000, request.bootstrap) || !intOption("output", 0, 10'000, request.output)
        || !intOption("interactions", 1, 50, request.interactions)
        || !intOption("seed", 0, std::numeric_limits<qint64>::max(), request.seed))
        return 2;
    if (ctx.parser.isSet(QStringLiteral("rows"))) {
        QString ref = request.data;
        if (ref.isEmpty()) {
            auto d = explain::defaultExplainData(*ws, *model);
            if (!d)
                return ctx.fail(d.error());
            ref = d->ref;
        }
        auto version = workspace::resolveDataset(*ws, ref);
        if (!version)
            return ctx.fail(version.error());
        auto rows = explain::parseRowList(ctx.parser.value(QStringLiteral("rows")), version->record.rows);
        if (!rows)
            return ctx.fail(rows.error());
        request.rows = std::move(*rows);
    }
    if (request.rows.empty() && !request.global && request.fairness.isEmpty())
        return ctx.usage(QStringLiteral("say what to explain: --rows LIST, --global and/or --fairness COLUMN"));
    Feedback *feedback = ctx.feedback();
    cancelOnSignals(feedback);
    auto result = explain::explainRun(*ws, *model, request, feedback);
    ctx.endProgress();
    if (!result) {
        if (result.is(ErrorKind::Cancelled)) {
            ctx.err << "keel: explanation cancelled; nothing stored\n";
            return 130;
        }
        return ctx.fail(result.error());
    }
    if (ctx.json()) {
        QJsonObject o = result->report;
        o.insert(QStringLiteral("object"), result->objectId);
        o.insert(QStringLiteral("artifact"), result->artifactName);
        o.insert(QStringLiteral("cached"), result->cached);
        ctx.printJson(o);
        return 0;
    }
    const QJsonObject &r = result->report;
    ctx.out << "model " << r.value(QStringLiteral("model_kind")).toString() << " of run " << model->runId.left(8) << " ("
            << model->runName << "), explained on " << r.value(QStringLiteral("data")).toString()
            << (r.value(QStringLiteral("population")).toString() == u"the run's test rows"
                    ? QStringLiteral(" (global views and fairness on its %1 test rows)").arg(r.value(QStringLiteral("population_rows")).toInteger())
                    : QString())
            << " with "
            << r.value(QStringLiteral("method")).toString() << " SHAP, on the margin"
            << (result->cached ? QString(QStringLiteral(" (stored result from ") + r.value(QStringLiteral("created")).toString() + QLatin1Char(')'))
                               : QString())
            << "\n\n";
    if (r.contains(QStringLiteral("local")))
        printLocal(ctx, r, r.value(QStringLiteral("local")).toObject());
    if (r.contains(QStringLiteral("global")))
        printGlobal(ctx, r.value(QStringLiteral("global")).toObject());
    if (r.contains(QStringLiteral("fairness")))
        printFairness(ctx, r.value(QStringLiteral("fairness")).toObject());
    ctx.out << "stored as artifact " << result->artifactName << " of run " << model->runId << " (object " << result->objectId.left(16) << ")\n";
    return 0;
}

} // namespace

std::vector<Command> explainCommands()
{
    std::vector<Command> v;
    v.push_back({{QStringLiteral("explain")}, QStringLiteral("RUN"),
                 QStringLiteral("Explain a run's model: per prediction, global importance, fairness across groups"),
                 QStringLiteral("Loads the model and recipe the run stored (checked against their hashes) and explains it\n"
                                "on a dataset version (--data; default: the run's test rows - its evaluation data, or the\n"
                                "test part of its training data - so that fairness and global views are measured on rows\n"
                                "the model did not train on). --rows (data row numbers, from 1) gives each row's prediction as base value + one contribution per feature (one-hot\n"
                                "columns summed back to their feature, raw values shown), with the additivity residual.\n"
                                "--global adds mean |SHAP| importance, permutation importance, partial dependence with ICE\n"
                                "and SHAP dependence. --fairness COLUMN adds per-group rates with bootstrap intervals.\n"
                                "Methods: exact TreeSHAP (XGBoost models), exact linear SHAP (linear and logistic), or\n"
                                "KernelSHAP. The result is stored as an artifact of the run; the same question on the same\n"
                                "model and data returns the stored answer."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("data"), QStringLiteral("Dataset version to explain on (NAME@REF)."), QStringLiteral("ref")});
                     p.addOption({QStringLiteral("rows"), QStringLiteral("Rows to explain: data row numbers from 1, e.g. 1-10,120."), QStringLiteral("list")});
                     p.addOption({QStringLiteral("global"), QStringLiteral("Global importance, permutation importance, PDP/ICE, dependence.")});
                     p.addOption({QStringLiteral("fairness"), QStringLiteral("Sensitive column for group fairness metrics."),
                                  QStringLiteral("column")});
                     p.addOption({QStringLiteral("method"), QStringLiteral("auto (default), tree, linear or kernel."), QStringLiteral("method")});
                     p.addOption({QStringLiteral("feature"), QStringLiteral("Feature for PDP/ICE and dependence (default: the top one)."),
                                  QStringLiteral("name")});
                     p.addOption({QStringLiteral("global-rows"), QStringLiteral("Rows sampled for the global views (default 1000)."),
                                  QStringLiteral("n")});
                     p.addOption({QStringLiteral("background"), QStringLiteral("Background rows for linear/KernelSHAP (default 50)."),
                                  QStringLiteral("n")});
                     p.addOption({QStringLiteral("samples"), QStringLiteral("KernelSHAP coalitions per row (default: automatic)."),
                                  QStringLiteral("n")});
                     p.addOption({QStringLiteral("repeats"), QStringLiteral("Permutation importance repeats (default 5)."), QStringLiteral("n")});
                     p.addOption({QStringLiteral("bootstrap"), QStringLiteral("Fairness bootstrap resamples (default 500)."), QStringLiteral("n")});
                     p.addOption({QStringLiteral("output"), QStringLiteral("Multiclass: class index for the global views."), QStringLiteral("k")});
                     p.addOption({QStringLiteral("seed"), QStringLiteral("Seed for every sample (default 1)."), QStringLiteral("seed")});
                     p.addOption({QStringLiteral("interactions"),
                                  QStringLiteral("Tree models: SHAP interaction values of --rows among the top K columns (in --json)."),
                                  QStringLiteral("k")});
                 },
                 cmdExplain});
    return v;
}

} // namespace keel::cli
