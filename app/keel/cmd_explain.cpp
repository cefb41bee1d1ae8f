// keel explain RUN: global and per-prediction explanations, fairness across groups — stored as run artifacts.
#include "commands.h"

#include "explain/explanation.h"
#include "explain/report.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace keel::cli {

namespace {

QString num(double v) { return std::isnan(v) ? QStringLiteral("-") : QString::number(v, 'g', 4); }
QString signedNum(double v) { return (v >= 0 ? QStringLiteral("+") : QString()) + QString::number(v, 'g', 4); }

QString interval(const explain::Estimate &e)
{
    if (std::isnan(e.low) || std::isnan(e.high))
        return num(e.value);
    return QStringLiteral("%1 [%2, %3]").arg(num(e.value), num(e.low), num(e.high));
}

void printLocal(Context &ctx, const explain::ExplanationReport &report, const explain::LocalExplanations &local, int shownClass)
{
    const explain::Attribution &a = local.attribution;
    for (qint64 i = 0; i < local.count(); ++i) {
        const explain::PredictionText predicted =
            explain::describePrediction(report.task, report.classes, local.predictionOf(i), shownClass);
        const int k = predicted.output;
        ctx.out << "row " << local.rows[size_t(i)] << ": " << predicted.text();
        if (!local.actual.isEmpty())
            ctx.out << ", actual " << local.actual[i];
        ctx.out << '\n';
        std::vector<double> contributions(size_t(a.featureCount()));
        double sum = a.base[size_t(k)];
        for (int f = 0; f < a.featureCount(); ++f) {
            contributions[size_t(f)] = a.value(i, k, f);
            sum += contributions[size_t(f)];
        }
        std::vector<QStringList> table;
        table.push_back({QStringLiteral("base value"), QString(), num(a.base[size_t(k)])});
        for (const explain::ContributionLine &l :
             explain::topContributions(a.features, contributions, local.values[size_t(i)], explain::kTopContributions))
            table.push_back(l.isOther() ? QStringList{QStringLiteral("%1 other features").arg(l.features), QString(), signedNum(l.contribution)}
                                        : QStringList{l.feature, l.value, signedNum(l.contribution)});
        table.push_back({QStringLiteral("= ") + explain::marginName(report.task, report.classes, k), QString(), num(sum)});
        ctx.out << formatTable({QStringLiteral("feature"), QStringLiteral("value"), QStringLiteral("contribution")}, table, {2});
        const double residual = a.residual.empty() ? 0.0 : a.residual[size_t(i * a.outputs + k)];
        ctx.out << "additivity residual " << QString::number(residual, 'g', 3) << '\n';
        if (local.interactions) {
            // The strongest pairwise interactions of this row (design columns, symmetric halves added).
            ctx.out << "strongest interactions:";
            for (const explain::InteractionPair &p : explain::strongestInteractions(*local.interactions, i, k, 3))
                ctx.out << "  " << p.first << " x " << p.second << ' ' << signedNum(p.value);
            ctx.out << '\n';
        }
        ctx.out << '\n';
    }
}

void printGlobal(Context &ctx, const explain::ExplanationReport &report, const explain::GlobalExplanation &global)
{
    ctx.out << "global, on " << global.rows << " rows (mean |SHAP| on the " << explain::marginName(report.task, report.classes, global.output)
            << ", base value " << num(global.base) << "; permutation importance: metric drop, mean ± std over repeats)\n";
    const auto &perm = global.permutation;
    std::vector<QStringList> rows;
    for (size_t i = 0; i < std::min<size_t>(global.importance.size(), 15); ++i) {
        const explain::FeatureImportance &f = global.importance[i];
        QString p = QStringLiteral("-");
        if (perm) {
            const qsizetype j = perm->features.indexOf(f.feature);
            if (j >= 0)
                p = num(perm->mean[size_t(j)]) + QStringLiteral(" ± ") + num(perm->std[size_t(j)]);
        }
        rows.push_back({QString::number(i + 1), f.feature, num(f.meanAbsShap), p});
    }
    ctx.out << formatTable({QStringLiteral("#"), QStringLiteral("feature"), QStringLiteral("mean |SHAP|"),
                            QStringLiteral("permutation") + (perm ? QStringLiteral(" (") + perm->metric + QLatin1Char(')') : QString())},
                           rows, {0, 2, 3});
    if (global.importance.size() > 15)
        ctx.out << "(" << global.importance.size() - 15 << " more features in --json)\n";
    if (const auto &pdp = global.pdp) {
        ctx.out << "\npartial dependence of " << pdp->scale << (pdp->className.isEmpty() ? QString() : QStringLiteral(" (") + pdp->className + QLatin1Char(')'))
                << " on " << pdp->feature << " (" << pdp->rows << " rows, " << pdp->iceRows.size() << " ICE curves):\n";
        std::vector<QStringList> pr;
        for (size_t i = 0; i < pdp->average.size(); ++i)
            pr.push_back({pdp->gridLabels.value(qsizetype(i)), num(pdp->average[i])});
        ctx.out << formatTable({pdp->feature, QStringLiteral("average")}, pr, {1});
    }
    ctx.out << '\n';
}

void printFairness(Context &ctx, const explain::FairnessReport &f)
{
    ctx.out << "fairness by " << f.sensitive << " (positive class " << f.positiveClass << ", threshold " << num(f.threshold)
            << ", " << f.bootstrap << " bootstrap resamples, " << qRound(f.confidence * 100) << "% intervals)\n";
    std::vector<QStringList> rows;
    for (const explain::GroupFairness &g : f.groups)
        rows.push_back({g.group, QString::number(g.count), interval(g.selectionRate), interval(g.truePositiveRate),
                        interval(g.falsePositiveRate), interval(g.precision), interval(g.calibrationGap)});
    ctx.out << formatTable({QStringLiteral("group"), QStringLiteral("rows"), QStringLiteral("selection rate"), QStringLiteral("TPR"),
                            QStringLiteral("FPR"), QStringLiteral("precision"), QStringLiteral("calibration gap")},
                           rows, {1});
    ctx.out << "demographic parity difference " << interval(f.demographicParityDifference) << ", ratio "
            << interval(f.demographicParityRatio) << "\nequalized odds difference "
            << interval(f.equalizedOddsDifference) << " (TPR difference " << interval(f.truePositiveRateDifference)
            << ", FPR difference " << interval(f.falsePositiveRateDifference) << ")\n\n";
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
    int shownClass = -1;   // --rows: the predicted class of each row unless --class names one
    if (ctx.parser.isSet(QStringLiteral("class"))) {
        if (ctx.parser.isSet(QStringLiteral("output")))
            return ctx.usage(QStringLiteral("give --class or --output, not both"));
        if (model->ctx.task() != ml::Task::MulticlassClassification)
            return ctx.usage(QStringLiteral("--class is for multiclass models; this one is %1").arg(ml::taskName(model->ctx.task())));
        auto k = explain::classIndex(model->ctx.classes(), ctx.parser.value(QStringLiteral("class")));
        if (!k)
            return ctx.fail(k.error());
        shownClass = request.output = *k;
    }
    Feedback *feedback = ctx.feedback();
    auto result = explain::explainRun(*ws, *model, request, feedback);
    ctx.endProgress();
    if (!result) {
        if (result.is(ErrorKind::Cancelled)) {
            ctx.err << "keel: explanation cancelled; nothing stored\n";
            return 130;
        }
        return ctx.fail(result.error());
    }
    const explain::ExplanationReport &r = result->report;
    if (ctx.json()) {
        QJsonObject o = r.toJson();
        o.insert(QStringLiteral("object"), result->objectId);
        o.insert(QStringLiteral("artifact"), result->artifactName);
        o.insert(QStringLiteral("cached"), result->cached);
        ctx.printJson(o);
        return 0;
    }
    ctx.out << "model " << r.modelKind << " of run " << model->runId.left(8) << " (" << model->runName << "), explained on "
            << r.data
            << (r.testRows ? QStringLiteral(" (global views and fairness on its %1 test rows)").arg(r.populationRows) : QString())
            << " with " << r.method << " SHAP, on the margin"
            << (result->cached ? QStringLiteral(" (stored result from %1)").arg(r.created.toString(Qt::ISODateWithMs)) : QString())
            << "\n\n";
    if (r.local)
        printLocal(ctx, r, *r.local, shownClass);
    if (r.global)
        printGlobal(ctx, r, *r.global);
    if (r.fairness)
        printFairness(ctx, *r.fairness);
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
                     p.addOption({QStringLiteral("class"),
                                  QStringLiteral("Multiclass: the class to explain, exactly as labelled (case matters). Default: each row's\n"
                                                 "predicted class for --rows, the most frequent class for --global."),
                                  QStringLiteral("label")});
                     p.addOption({QStringLiteral("output"), QStringLiteral("Multiclass: class index for the global views (see --class)."), QStringLiteral("k")});
                     p.addOption({QStringLiteral("seed"), QStringLiteral("Seed for every sample (default 1)."), QStringLiteral("seed")});
                     p.addOption({QStringLiteral("interactions"),
                                  QStringLiteral("Tree models: SHAP interaction values of --rows among the top K columns (in --json)."),
                                  QStringLiteral("k")});
                 },
                 cmdExplain});
    return v;
}

} // namespace keel::cli
