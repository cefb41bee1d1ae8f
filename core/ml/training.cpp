#include "ml/training.h"

#include "data/csvwriter.h"
#include "ml/learners.h"
#include "ml/metrics.h"
#include "ml/sweep.h"
#include "store/objectstore.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/gitrepo.h"
#include "workspace/storecare.h"
#include "workspace/workspace.h"
#include "util/yaml.h"

#include <QDateTime>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QSet>
#include <QSysInfo>
#include <QThread>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <map>
#include <numeric>
#include <optional>

namespace keel::ml {

namespace {

using yaml::fromStd;

QString num(double v) { return QString::number(v, 'g', QLocale::FloatingPointShortest); }

/// Config YAML as JSON (scalars as strings), with the 1-based line of every dotted key path.
using YamlDoc = yaml::JsonDocument;

class ConfigParser {
public:
    ConfigParser(const YamlDoc &doc, QString source) : m_doc(doc), m_source(std::move(source)) {}

    Error error(const QString &field, const QString &message) const
    {
        return makeError(message, m_source, yaml::lineOfField(m_doc.lines, field), field);
    }

    Expected<QString> string(const QJsonObject &o, const QString &key, const QString &path, bool required) const
    {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull()) {
            if (required)
                return error(path, QStringLiteral("is required"));
            return QString();
        }
        if (!v.isString())
            return error(path, QStringLiteral("expected a single value"));
        return v.toString();
    }

    Expected<QJsonObject> object(const QJsonObject &o, const QString &key, const QString &path) const
    {
        const QJsonValue v = o.value(key);
        if (v.isUndefined() || v.isNull())
            return QJsonObject();
        if (!v.isObject())
            return error(path, QStringLiteral("expected a mapping"));
        return v.toObject();
    }

    Expected<SplitSpec> split(const QJsonObject &o) const
    {
        static const QStringList known = {QStringLiteral("kind"), QStringLiteral("test_fraction"),
                                          QStringLiteral("validation_fraction"), QStringLiteral("stratify"),
                                          QStringLiteral("seed"), QStringLiteral("time_column"),
                                          QStringLiteral("cutoff"), QStringLiteral("folds")};
        SplitSpec s;
        for (auto it = o.begin(); it != o.end(); ++it)
            if (!known.contains(it.key()))
                return error(QStringLiteral("split.") + it.key(),
                             QStringLiteral("unknown key (known: %1)").arg(known.join(QStringLiteral(", "))));
        auto field = [&](const char *key) { return string(o, QLatin1String(key), QStringLiteral("split.") + QLatin1String(key), false); };
        auto kind = field("kind");
        if (!kind)
            return kind.error();
        if (kind->isEmpty() || *kind == u"holdout")
            s.kind = SplitKind::Holdout;
        else if (*kind == u"time")
            s.kind = SplitKind::Time;
        else if (*kind == u"kfold")
            s.kind = SplitKind::KFold;
        else
            return error(QStringLiteral("split.kind"),
                         QStringLiteral("'%1' is not a training split (holdout, kfold or time)").arg(*kind));
        auto folds = field("folds");
        if (!folds)
            return folds.error();
        if (!folds->isEmpty()) {
            bool ok = false;
            s.folds = folds->toInt(&ok);
            if (!ok || s.folds < 2 || s.folds > 100)
                return error(QStringLiteral("split.folds"), QStringLiteral("expected an integer from 2 to 100, got '%1'").arg(*folds));
            if (s.kind != SplitKind::KFold)
                return error(QStringLiteral("split.folds"), QStringLiteral("only applies to kind: kfold"));
        }
        auto frac = field("test_fraction");
        if (!frac)
            return frac.error();
        if (!frac->isEmpty()) {
            bool ok = false;
            s.testFraction = frac->toDouble(&ok);
            if (!ok || !(s.testFraction > 0 && s.testFraction < 1))
                return error(QStringLiteral("split.test_fraction"),
                             QStringLiteral("expected a number between 0 and 1 (exclusive), got '%1'").arg(*frac));
        }
        auto valid = field("validation_fraction");
        if (!valid)
            return valid.error();
        if (!valid->isEmpty()) {
            bool ok = false;
            s.validationFraction = valid->toDouble(&ok);
            if (!ok || !(s.validationFraction >= 0 && s.validationFraction < 1))
                return error(QStringLiteral("split.validation_fraction"),
                             QStringLiteral("expected a number from 0 (no validation part) to below 1, got '%1'").arg(*valid));
        }
        auto strat = field("stratify");
        if (!strat)
            return strat.error();
        if (!strat->isEmpty()) {
            const QString b = strat->toLower();
            if (b == u"true" || b == u"yes")
                s.stratify = true;
            else if (b == u"false" || b == u"no")
                s.stratify = false;
            else
                return error(QStringLiteral("split.stratify"), QStringLiteral("expected true or false, got '%1'").arg(*strat));
        }
        auto seed = field("seed");
        if (!seed)
            return seed.error();
        if (!seed->isEmpty()) {
            bool ok = false;
            s.seed = seed->toULongLong(&ok);
            if (!ok)
                return error(QStringLiteral("split.seed"), QStringLiteral("expected a non-negative integer, got '%1'").arg(*seed));
        }
        auto col = field("time_column");
        if (!col)
            return col.error();
        s.timeColumn = *col;
        auto cutoff = field("cutoff");
        if (!cutoff)
            return cutoff.error();
        if (!cutoff->isEmpty()) {
            bool ok = false;
            const qint64 n = cutoff->toLongLong(&ok);
            if (ok) {
                s.cutoff = n;
            } else {
                QDateTime dt = QDateTime::fromString(*cutoff, Qt::ISODateWithMs);
                if (!dt.isValid())
                    return error(QStringLiteral("split.cutoff"),
                                 QStringLiteral("expected an ISO 8601 date/time or a number, got '%1'").arg(*cutoff));
                if (dt.timeSpec() == Qt::LocalTime)
                    dt.setTimeSpec(Qt::UTC);
                s.cutoff = dt.toMSecsSinceEpoch();
            }
        }
        if (s.kind == SplitKind::Time && s.timeColumn.isEmpty())
            return error(QStringLiteral("split.time_column"), QStringLiteral("is required for a time split"));
        return s;
    }

private:
    const YamlDoc &m_doc;
    QString m_source;
};


using data::csvField;

QString paramText(const QVariant &v)
{
    if (v.typeId() == QMetaType::Double)
        return num(v.toDouble());
    if (v.typeId() == QMetaType::Bool)
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    return v.toString();
}

} // namespace

Error TrainingConfig::locate(Error e) const
{
    if (!e.file.isEmpty() || e.field.isEmpty() || e.is(ErrorKind::Cancelled))
        return e;
    static const QStringList recipeKeys = {QStringLiteral("features"), QStringLiteral("exclude"), QStringLiteral("classes"),
                                           QStringLiteral("defaults"), QStringLiteral("columns"), QStringLiteral("derived")};
    if (recipeKeys.contains(e.field.section(QLatin1Char('.'), 0, 0)))
        e.field = QStringLiteral("recipe.") + e.field;
    e.file = sourceName;
    e.line = yaml::lineOfField(lines, e.field);
    return e;
}

Expected<TrainingConfig> TrainingConfig::fromYaml(const QString &yaml, const QString &sourceName)
{
    auto parsed = yaml::parseAsJson(yaml.toUtf8(), sourceName);
    if (!parsed)
        return parsed.error();
    const YamlDoc &doc = *parsed;
    if (!doc.root.isObject())
        return makeError(QStringLiteral("a training config must be a mapping (data, target, learner, ...)"), sourceName, 1);
    const ConfigParser p(doc, sourceName);
    const QJsonObject o = doc.root.toObject();
    static const QStringList known = {QStringLiteral("experiment"), QStringLiteral("name"), QStringLiteral("data"),
                                      QStringLiteral("evaluate"), QStringLiteral("target"), QStringLiteral("task"),
                                      QStringLiteral("label_map"), QStringLiteral("recipe"), QStringLiteral("split"),
                                      QStringLiteral("learner"), QStringLiteral("params"), QStringLiteral("sweep"),
                                      QStringLiteral("id_column"), QStringLiteral("drop_missing_target")};
    for (auto it = o.begin(); it != o.end(); ++it)
        if (!known.contains(it.key()))
            return p.error(it.key(), QStringLiteral("unknown key (known: %1)").arg(known.join(QStringLiteral(", "))));

    TrainingConfig c;
    c.text = yaml;
    c.sourceName = sourceName;
    c.lines = doc.lines;
    auto str = [&](const char *key, bool required) {
        return p.string(o, QLatin1String(key), QLatin1String(key), required);
    };
    auto experiment = str("experiment", false);
    if (!experiment)
        return experiment.error();
    if (!experiment->isEmpty())
        c.experiment = *experiment;
    auto name = str("name", false);
    if (!name)
        return name.error();
    c.name = name->isEmpty() ? QFileInfo(sourceName).completeBaseName() : *name;
    auto data = str("data", true);
    if (!data)
        return data.error();
    c.data = *data;
    auto evaluate = str("evaluate", false);
    if (!evaluate)
        return evaluate.error();
    c.evaluate = *evaluate;
    auto idColumn = str("id_column", false);
    if (!idColumn)
        return idColumn.error();
    c.idColumn = *idColumn;
    auto dropMissing = str("drop_missing_target", false);
    if (!dropMissing)
        return dropMissing.error();
    if (!dropMissing->isEmpty()) {
        const QString b = dropMissing->toLower();
        if (b == u"true" || b == u"yes")
            c.dropMissingTarget = true;
        else if (b == u"false" || b == u"no")
            c.dropMissingTarget = false;
        else
            return p.error(QStringLiteral("drop_missing_target"), QStringLiteral("expected true or false, got '%1'").arg(*dropMissing));
    }

    // Recipe: the `recipe` mapping plus target / task / label_map from the top level.
    auto recipe = p.object(o, QStringLiteral("recipe"), QStringLiteral("recipe"));
    if (!recipe)
        return recipe.error();
    QJsonObject r = *recipe;
    for (const char *key : {"target", "task", "label_map"}) {
        const QLatin1String k(key);
        if (!o.contains(k))
            continue;
        if (r.contains(k))
            return p.error(QStringLiteral("recipe.") + k,
                           QStringLiteral("is also given at the top level; give it once"));
        r.insert(k, o.value(k));
    }
    if (!r.contains(QLatin1String("target")))
        return p.error(QStringLiteral("target"), QStringLiteral("is required"));
    auto spec = RecipeSpec::fromJson(r);
    if (!spec) {
        const Error &e = spec.error();
        const QString top = e.field.section(QLatin1Char('.'), 0, 0);
        const bool atTop = top == u"target" || top == u"task" || top == u"label_map";
        const QString field = e.field.isEmpty() ? QStringLiteral("recipe")
                              : atTop           ? e.field
                                                : QString(QStringLiteral("recipe.") + e.field);
        return p.error(field, e.message);
    }
    c.recipe = *spec;

    auto split = p.object(o, QStringLiteral("split"), QStringLiteral("split"));
    if (!split)
        return split.error();
    auto s = p.split(*split);
    if (!s)
        return s.error();
    c.split = *s;

    auto learner = str("learner", true);
    if (!learner)
        return learner.error();
    const Learner *l = findLearner(*learner);
    if (!l) {
        QStringList names;
        for (const Learner *x : allLearners())
            names << x->name();
        return p.error(QStringLiteral("learner"), QStringLiteral("unknown learner '%1' (known: %2)")
                                                      .arg(*learner, names.join(QStringLiteral(", "))));
    }
    c.learner = *learner;
    auto params = p.object(o, QStringLiteral("params"), QStringLiteral("params"));
    if (!params)
        return params.error();
    Params raw;
    for (auto it = params->begin(); it != params->end(); ++it) {
        if (!it.value().isString())
            return p.error(QStringLiteral("params.") + it.key(), QStringLiteral("expected a single value"));
        raw.insert(it.key(), it.value().toString());
    }
    auto validated = validateParams(l->params(), raw);
    if (!validated)
        return p.error(QStringLiteral("params.") + validated.error().field, validated.error().message);
    c.params = *validated;

    // Evaluation that never peeks: a test part only when no `evaluate` dataset is the test; early stopping only on
    // a validation part that is not the test.
    const QJsonObject splitObject = *split;
    const QString testKey = splitObject.contains(QLatin1String("cutoff")) ? QStringLiteral("cutoff") : QStringLiteral("test_fraction");
    if (!c.evaluate.isEmpty() && c.split.kind != SplitKind::KFold && splitObject.contains(testKey))
        return p.error(QStringLiteral("split.") + testKey,
                       QStringLiteral("does not apply: 'evaluate: %1' is the test data. The training data is split "
                                      "only into training and validation parts (split.validation_fraction)")
                           .arg(c.evaluate));
    if (c.params.value(QStringLiteral("early_stopping_rounds")).toInt() > 0 && c.split.validationFraction <= 0)
        return p.error(QStringLiteral("split.validation_fraction"),
                       QStringLiteral("early stopping needs a validation part: give a fraction above 0 or set "
                                      "params.early_stopping_rounds to 0"));
    return c;
}

Expected<QString> writeTrainingConfig(const TrainingConfigDraft &d)
{
    YAML::Node root(YAML::NodeType::Map);
    const auto set = [&root](const char *key, const QString &value) {
        if (!value.isEmpty())
            root[key] = yaml::toStd(value);
    };
    set("experiment", d.experiment.trimmed());
    set("name", d.name.trimmed());
    set("data", d.data);
    set("evaluate", d.evaluate);
    set("target", d.target);
    set("task", d.task);
    if (!d.baseYaml.isEmpty()) {
        auto base = yaml::parse(d.baseYaml.toUtf8(), QStringLiteral("the base config"));
        if (!base)
            return base.error();
        if (base->IsMap())
            for (const char *key : {"label_map", "recipe"})
                if (const YAML::Node n = (*base)[key]; n && !n.IsNull())
                    root[key] = YAML::Clone(n);
    }
    const SplitSpec &s = d.split;
    YAML::Node split(YAML::NodeType::Map);
    split["kind"] = yaml::toStd(splitKindName(s.kind));
    if (s.kind == SplitKind::KFold)
        split["folds"] = yaml::toStd(QString::number(s.folds));
    else if (d.evaluate.isEmpty() && !s.cutoff)
        split["test_fraction"] = yaml::toStd(num(s.testFraction));
    split["validation_fraction"] = yaml::toStd(num(s.validationFraction));
    if (s.kind == SplitKind::Time) {
        split["time_column"] = yaml::toStd(s.timeColumn);
        if (s.cutoff && d.evaluate.isEmpty())
            split["cutoff"] = yaml::toStd(QString::number(*s.cutoff));
    } else {
        split["stratify"] = s.stratify ? "true" : "false";
        split["seed"] = yaml::toStd(QString::number(s.seed));
    }
    split.SetStyle(YAML::EmitterStyle::Flow);
    root["split"] = split;
    set("learner", d.learner);
    YAML::Node params(YAML::NodeType::Map);
    for (const auto &[name, value] : d.params)
        params[yaml::toStd(name)] = yaml::toStd(value);
    if (params.size() > 0) {
        params.SetStyle(params.size() <= 2 ? YAML::EmitterStyle::Flow : YAML::EmitterStyle::Block);
        root["params"] = params;
    }
    YAML::Emitter out;
    out << root;
    QString header;
    for (const QString &line : d.headerComments)
        header += QStringLiteral("# ") + line + QLatin1Char('\n');
    return QString(header + yaml::fromStd(out.c_str()) + QLatin1Char('\n'));
}

Expected<TrainingConfig> TrainingConfig::fromFile(const QString &path)
{
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error().withFile(path);
    return fromYaml(QString::fromUtf8(*bytes), path);
}

QByteArray predictionsCsv(const PredictionRows &rows, Task task, const QStringList &classes,
                          const std::vector<double> &predictions, const Target *actual)
{
    const qint64 n = qint64(rows.rows.size());
    const bool regression = task == Task::Regression;
    const int k = int(classes.size());
    QString out = QStringLiteral("row");
    if (!rows.idColumn.isEmpty())
        out += QLatin1Char(',') + csvField(rows.idColumn);
    if (actual)
        out += QStringLiteral(",actual");
    out += QStringLiteral(",predicted");
    if (!regression)
        for (const QString &c : classes)
            out += QLatin1Char(',') + csvField(QStringLiteral("p_") + c);
    out += QLatin1Char('\n');
    for (qint64 r = 0; r < n; ++r) {
        out += QString::number(rows.rows[size_t(r)]);
        if (!rows.idColumn.isEmpty())
            out += QLatin1Char(',') + csvField(rows.ids.value(r));
        if (actual) {
            const double y = actual->values[size_t(r)];
            out += QLatin1Char(',') + (std::isnan(y) ? QString() : regression ? num(y) : csvField(classes.value(int(y))));
        }
        if (regression) {
            out += QLatin1Char(',') + num(predictions[size_t(r)]);
        } else if (k == 2) {
            const double p = predictions[size_t(r)];
            out += QLatin1Char(',') + csvField(classes.value(p >= 0.5 ? 1 : 0)) + QLatin1Char(',') + num(1.0 - p)
                   + QLatin1Char(',') + num(p);
        } else {
            const size_t base = size_t(r) * size_t(k);
            int best = 0;
            for (int c = 1; c < k; ++c)
                if (predictions[base + size_t(c)] > predictions[base + size_t(best)])
                    best = c;
            out += QLatin1Char(',') + csvField(classes.value(best));
            for (int c = 0; c < k; ++c)
                out += QLatin1Char(',') + num(predictions[base + size_t(c)]);
        }
        out += QLatin1Char('\n');
    }
    return out.toUtf8();
}

QJsonObject curvesJson(const Target &actual, const std::vector<double> &predictions, int numClasses, int maxPoints)
{
    QJsonObject o;
    o.insert(QStringLiteral("classes"), QJsonArray::fromStringList(actual.classes));
    const qint64 rows = qint64(actual.values.size());
    std::vector<double> predicted(size_t(rows), 0.0);
    for (qint64 r = 0; r < rows; ++r) {
        if (numClasses == 2) {
            predicted[size_t(r)] = predictions[size_t(r)] >= 0.5 ? 1 : 0;
        } else {
            const size_t base = size_t(r) * size_t(numClasses);
            int best = 0;
            for (int k = 1; k < numClasses; ++k)
                if (predictions[base + size_t(k)] > predictions[base + size_t(best)])
                    best = k;
            predicted[size_t(r)] = best;
        }
    }
    QJsonArray cm;
    for (const std::vector<qint64> &row : confusionMatrix(actual.values, predicted, numClasses)) {
        QJsonArray a;
        for (qint64 v : row)
            a.append(v);
        cm.append(a);
    }
    o.insert(QStringLiteral("confusion_matrix"), cm);
    auto thin = [maxPoints](const std::vector<double> &v) {
        QJsonArray a;
        const size_t n = v.size();
        if (n <= size_t(std::max(maxPoints, 2))) {
            for (double x : v)
                a.append(x);
            return a;
        }
        const size_t m = size_t(std::max(maxPoints, 2));
        for (size_t i = 0; i < m; ++i)
            a.append(v[i * (n - 1) / (m - 1)]);
        return a;
    };
    auto rocJson = [&](const Curve &c) {
        return QJsonObject{{QStringLiteral("fpr"), thin(c.x)}, {QStringLiteral("tpr"), thin(c.y)}};
    };
    auto prJson = [&](const Curve &c) {
        return QJsonObject{{QStringLiteral("recall"), thin(c.x)}, {QStringLiteral("precision"), thin(c.y)}};
    };
    auto calibrationJson = [&](const CalibrationCurve &cal) {
        QJsonArray counts;
        for (qint64 c : cal.counts)
            counts.append(c);
        return QJsonObject{{QStringLiteral("predicted"), thin(cal.meanPredicted)},
                           {QStringLiteral("observed"), thin(cal.fractionPositive)},
                           {QStringLiteral("count"), counts}};
    };
    auto number = [](double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(QJsonValue::Null); };
    if (numClasses != 2) {
        // One-vs-rest per class, with scikit-learn's macro and micro averages.
        const OneVsRest ovr = oneVsRest(actual.values, predictions, numClasses);
        QJsonArray perClass;
        for (const OneVsRestClass &c : ovr.classes)
            perClass.append(QJsonObject{{QStringLiteral("support"), c.support},
                                        {QStringLiteral("roc_auc"), number(c.rocAuc)},
                                        {QStringLiteral("pr_auc"), number(c.averagePrecision)},
                                        {QStringLiteral("roc"), rocJson(c.roc)},
                                        {QStringLiteral("pr"), prJson(c.pr)},
                                        {QStringLiteral("calibration"), calibrationJson(c.calibration)}});
        o.insert(QStringLiteral("one_vs_rest"),
                 QJsonObject{{QStringLiteral("roc_auc_macro"), number(ovr.rocAucMacro)},
                             {QStringLiteral("roc_auc_micro"), number(ovr.rocAucMicro)},
                             {QStringLiteral("pr_auc_macro"), number(ovr.averagePrecisionMacro)},
                             {QStringLiteral("pr_auc_micro"), number(ovr.averagePrecisionMicro)},
                             {QStringLiteral("micro"), QJsonObject{{QStringLiteral("roc"), rocJson(ovr.rocMicro)},
                                                                   {QStringLiteral("pr"), prJson(ovr.prMicro)}}},
                             {QStringLiteral("classes"), perClass}});
        return o;
    }
    o.insert(QStringLiteral("roc"), rocJson(rocCurve(actual.values, predictions)));
    o.insert(QStringLiteral("pr"), prJson(prCurve(actual.values, predictions)));
    o.insert(QStringLiteral("calibration"), calibrationJson(calibrationCurve(actual.values, predictions, 10)));
    return o;
}

namespace {

/// Rows of a dataset version that have a target value (`kept`) and those that do not (`dropped`), 0-based.
struct UsableRows {
    std::vector<qint64> kept, dropped;
};

QJsonArray rowNumbers(const std::vector<qint64> &indices, const std::vector<qint64> &sourceOf)
{
    QJsonArray a;
    for (qint64 i : indices)
        a.append(sourceOf[size_t(i)] + 1);
    return a;
}

QJsonArray rowNumbers(const std::vector<qint64> &sourceRows)
{
    QJsonArray a;
    for (qint64 r : sourceRows)
        a.append(r + 1);
    return a;
}

/// The "split" artifact: which source rows (1-based, in the dataset version named) trained, validated and tested.
QJsonObject splitDocument(const workspace::DatasetVersion &data, const UsableRows &usable, const std::vector<Split> &splits,
                          SplitKind kind, const workspace::DatasetVersion *evaluate, const UsableRows *evalUsable)
{
    QJsonObject o{{QStringLiteral("format"), QStringLiteral("keel-split")},
                  {QStringLiteral("version"), 1},
                  {QStringLiteral("row_numbers"), QStringLiteral("1-based data rows of the dataset version")},
                  {QStringLiteral("kind"), splitKindName(kind)},
                  {QStringLiteral("data"), data.ref()},
                  {QStringLiteral("content_id"), data.record.contentId},
                  {QStringLiteral("rows"), qint64(usable.kept.size() + usable.dropped.size())},
                  {QStringLiteral("dropped_missing_target"), rowNumbers(usable.dropped)}};
    auto part = [&](const Split &s, bool withTest) {
        QJsonObject p{{QStringLiteral("train"), rowNumbers(s.train, usable.kept)},
                      {QStringLiteral("validation"), rowNumbers(s.validation, usable.kept)}};
        if (withTest)
            p.insert(QStringLiteral("test"), rowNumbers(s.test, usable.kept));
        return p;
    };
    if (kind == SplitKind::KFold) {
        QJsonArray folds;
        for (const Split &s : splits)
            folds.append(part(s, true));
        o.insert(QStringLiteral("folds"), folds);
    } else {
        const QJsonObject p = part(splits.front(), evaluate == nullptr);
        for (auto it = p.begin(); it != p.end(); ++it)
            o.insert(it.key(), it.value());
    }
    if (evaluate && evalUsable)
        o.insert(QStringLiteral("evaluate"),
                 QJsonObject{{QStringLiteral("data"), evaluate->ref()},
                             {QStringLiteral("content_id"), evaluate->record.contentId},
                             {QStringLiteral("test"), rowNumbers(evalUsable->kept)},
                             {QStringLiteral("dropped_missing_target"), rowNumbers(evalUsable->dropped)}});
    return o;
}

/// A recipe and model fitted on one training part.
struct Fitted {
    std::optional<Recipe> recipe;
    std::unique_ptr<Model> model;
    int rounds = 0;        ///< iterations reported while fitting
    int usedRounds = 0;    ///< rounds the model predicts with (best iteration + 1 after early stopping)
};

/// The body of a run once it exists in the tracking store; any error marks the run failed.
class RunExecutor {
public:
    RunExecutor(workspace::Workspace &ws, tracking::TrackingStore &ts, const TrainingConfig &c, QString runId,
                Feedback *feedback, const TrainingObserver *observer)
        : m_ws(ws), m_ts(ts), m_c(c), m_runId(std::move(runId)), m_feedback(feedback), m_observer(observer)
    {
    }

    Expected<TrainingResult> run();

private:
    Status storeArtifact(const QString &name, const QString &kind, const QByteArray &bytes, QString &objectId);
    /// The rows of `table` that have a target value; without drop_missing_target a missing one is an error.
    Expected<UsableRows> usableRows(const data::Table &table, const QString &which) const;
    /// Targets and predictions of `fitted` on `table`.
    Expected<std::pair<Target, std::vector<double>>> score(const Fitted &fitted, const data::Table &table);
    /// Row numbers (and ids) of the scored rows: `table` holds rows `indices` of the filtered table, whose row i
    /// is source row sourceOf[i].
    Status describeRows(const data::Table &table, const std::vector<qint64> &indices,
                        const std::vector<qint64> &sourceOf, PredictionRows &out) const;
    void logPoint(const QString &key, qint64 step, double value);
    Status flushMetrics();
    /// Fits recipe and learner on `train`; `valid` (may be null) drives early stopping; curves are logged when `curves`.
    Expected<Fitted> fit(const Learner &learner, const RecipeSpec &spec, const data::Table &train,
                         const data::Table *valid, const Params &params, bool curves);
    /// Logs metrics(task, y, predictions) as "<prefix><name>" at `step`; list-valued metrics become tags at step 0.
    Status logEvaluation(const QVariantMap &metrics, const QString &prefix, qint64 step, QVariantMap *scalars);

    /// What the fitting steps work on, prepared by run().
    struct Inputs {
        const Learner *learner = nullptr;
        RecipeSpec spec;                 ///< the config's recipe with classes fixed from the whole dataset
        data::Table table;               ///< the training version's rows that have a target
        UsableRows usable;
        std::optional<Target> fullTarget;
        std::vector<Split> splits;
        bool earlyStopping = false;
        bool testElsewhere = false;      ///< an evaluate dataset is the test set
    };
    /// The kept model and what test.* is computed from.
    struct Outcome {
        Fitted final;
        std::optional<Target> yTest;
        std::vector<double> predictions;
        PredictionRows rows;
    };
    /// Records the run's params (config, data ids, split) and its lineage.
    Status recordInputs(const workspace::DatasetVersion &train, const workspace::DatasetVersion *evaluate);
    /// Holdout and time splits: one model; validation.* on the validation part; the test part scored unless
    /// another dataset is the test set.
    Status fitHoldout(const Inputs &in, TrainingResult &result, Outcome &out);
    /// K-fold: one model per fold (cv.* per fold, with mean and std), out-of-fold predictions, then the kept model
    /// on every row with the folds' mean number of rounds.
    Status fitCrossValidated(const Inputs &in, TrainingResult &result, Outcome &out);
    /// Scores the kept model on the evaluate dataset (rows with a missing target dropped as in training).
    Status scoreEvaluateSet(const workspace::DatasetVersion &evaluate, Outcome &out, std::optional<UsableRows> &usable);
    /// Model, recipe, predictions, split and (classification) curves artifacts, and the model's diagnostics tags.
    Status storeArtifacts(const Inputs &in, const workspace::DatasetVersion &train, const workspace::DatasetVersion *evaluate,
                          const std::optional<UsableRows> &evalUsable, Outcome &out, TrainingResult &result);

    workspace::Workspace &m_ws;
    tracking::TrackingStore &m_ts;
    const TrainingConfig &m_c;
    QString m_runId;
    Feedback *m_feedback;
    const TrainingObserver *m_observer;
    std::vector<tracking::MetricPoint> m_pending;
};

Status RunExecutor::storeArtifact(const QString &name, const QString &kind, const QByteArray &bytes, QString &objectId)
{
    auto stored = workspace::storeRunArtifact(m_ws, m_ts, m_runId, name, kind, bytes);
    if (!stored)
        return stored.error();
    objectId = stored->objectId;
    return {};
}

Expected<UsableRows> RunExecutor::usableRows(const data::Table &table, const QString &which) const
{
    UsableRows u;
    const int ci = table.indexOf(m_c.recipe.target);
    if (ci < 0)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("no column '%1' in the %2 table").arg(m_c.recipe.target, which),
                         {}, -1, QStringLiteral("target"));
    const data::Column &c = table.column(ci);
    u.kept.reserve(size_t(table.rowCount()));
    for (qint64 r = 0; r < table.rowCount(); ++r) {
        const bool missing = c.isNull(r) || (data::isNumericType(c.type()) && std::isnan(c.numberAt(r)));
        (missing ? u.dropped : u.kept).push_back(r);
    }
    if (!u.dropped.empty() && !m_c.dropMissingTarget)
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("row %1 of the %2 has no value in target column '%3' (%4 such rows; "
                                        "drop_missing_target: true drops them)")
                             .arg(u.dropped.front() + 1).arg(which).arg(m_c.recipe.target).arg(u.dropped.size()),
                         {}, -1, QStringLiteral("drop_missing_target"));
    if (u.kept.empty())
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("every row of the %1 misses its target value in column '%2'").arg(which, m_c.recipe.target),
                         {}, -1, QStringLiteral("target"));
    return u;
}

Expected<std::pair<Target, std::vector<double>>> RunExecutor::score(const Fitted &fitted, const data::Table &table)
{
    auto x = fitted.recipe->transform(table, m_feedback);
    if (!x)
        return x.error();
    auto y = fitted.recipe->target(table);
    if (!y)
        return y.error();
    auto p = fitted.model->predict(*x);
    if (!p)
        return p.error();
    return std::make_pair(std::move(*y), std::move(*p));
}

Status RunExecutor::describeRows(const data::Table &table, const std::vector<qint64> &indices,
                                 const std::vector<qint64> &sourceOf, PredictionRows &out) const
{
    out.rows.clear();
    out.ids.clear();
    out.rows.reserve(indices.size());
    for (qint64 i : indices)
        out.rows.push_back(sourceOf[size_t(i)] + 1);
    if (!m_c.idColumn.isEmpty()) {
        const int ci = table.indexOf(m_c.idColumn);
        if (ci < 0)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("no column '%1' in the scored data").arg(m_c.idColumn),
                             {}, -1, QStringLiteral("id_column"));
        for (qint64 r = 0; r < table.rowCount(); ++r)
            out.ids << table.column(ci).displayAt(r);
    }
    return {};
}

void RunExecutor::logPoint(const QString &key, qint64 step, double value)
{
    m_pending.push_back({key, step, value, {}});
    if (m_observer && m_observer->metric)
        m_observer->metric(key, step, value);
}

Status RunExecutor::flushMetrics()
{
    if (m_pending.empty())
        return {};
    Status s = m_ts.logMetrics(m_runId, m_pending);
    m_pending.clear();
    return s;
}

Status RunExecutor::logEvaluation(const QVariantMap &metrics, const QString &prefix, qint64 step, QVariantMap *scalars)
{
    for (auto it = metrics.cbegin(); it != metrics.cend(); ++it) {
        const QString key = prefix + it.key();
        if (it.value().typeId() == QMetaType::QVariantList) {
            if (step != 0)
                continue;
            const QJsonDocument doc(QJsonArray::fromVariantList(it.value().toList()));
            if (Status s = m_ts.setTag(m_runId, key, QString::fromUtf8(doc.toJson(QJsonDocument::Compact))); !s)
                return s;
            continue;
        }
        bool ok = false;
        const double v = it.value().toDouble(&ok);
        if (!ok)
            continue;
        logPoint(key, step, v);
        if (scalars)
            scalars->insert(key, v);
    }
    return flushMetrics();
}

Expected<Fitted> RunExecutor::fit(const Learner &learner, const RecipeSpec &spec, const data::Table &train,
                                  const data::Table *valid, const Params &params, bool curves)
{
    Fitted out;
    reportProgress(m_feedback, 0, 1, QStringLiteral("recipe"));
    auto recipe = Recipe::fit(train, spec, m_feedback);
    if (!recipe)
        return recipe.error();
    auto xTrain = recipe->transform(train, m_feedback);
    if (!xTrain)
        return xTrain.error();
    auto yTrain = recipe->target(train);
    if (!yTrain)
        return yTrain.error();
    std::optional<DesignMatrix> xValid;
    std::optional<Target> yValid;
    if (valid) {
        auto x = recipe->transform(*valid, m_feedback);
        if (!x)
            return x.error();
        auto y = recipe->target(*valid);
        if (!y)
            return y.error();
        xValid = std::move(*x);
        yValid = std::move(*y);
    }
    if (!learner.supports(recipe->task()))
        return makeError(QStringLiteral("learner '%1' does not support %2 targets").arg(m_c.learner, taskName(recipe->task())),
                         m_c.sourceName, -1, QStringLiteral("learner"));

    // Fit: curves batched into the store every 10 rounds, progress as "train".
    const QVariant roundsParam = params.value(QStringLiteral("n_estimators"));
    const qint64 totalRounds = roundsParam.isValid() ? roundsParam.toLongLong()
                               : params.contains(QStringLiteral("max_iter"))
                                   ? params.value(QStringLiteral("max_iter")).toLongLong()
                                   : 0;
    Feedback inner;
    Status logStatus;
    int lastIteration = -1;
    const IterationCallback onIteration = [&](const IterationMetrics &m) {
        if (curves)
            logPoint(QStringLiteral("curve.") + m.dataset + QLatin1Char('.') + m.metric, m.iteration, m.value);
        if (m.iteration != lastIteration) {
            lastIteration = m.iteration;
            out.rounds = m.iteration + 1;
            reportProgress(m_feedback, out.rounds, std::max<qint64>(totalRounds, out.rounds), QStringLiteral("train"));
            if (isCancelled(m_feedback))
                inner.cancel();
            if (curves && m.iteration % 10 == 9 && logStatus.isOk()) {
                logStatus = flushMetrics();
                if (!logStatus)
                    inner.cancel();
            }
        }
    };
    auto model = learner.fit(*xTrain, *yTrain, params, xValid ? &*xValid : nullptr, yValid ? &*yValid : nullptr,
                             onIteration, &inner);
    if (!logStatus)
        return logStatus.error();
    if (!model)
        return isCancelled(m_feedback) ? cancelledError() : model.error();
    if (Status s = flushMetrics(); !s)
        return s.error();
    const QVariantMap diag = (*model)->diagnostics();
    const int best = diag.value(QStringLiteral("best_iteration"), -1).toInt();
    out.usedRounds = best >= 0 ? best + 1 : out.rounds;
    out.recipe = std::move(*recipe);
    out.model = std::move(*model);
    return out;
}

Status RunExecutor::recordInputs(const workspace::DatasetVersion &train, const workspace::DatasetVersion *evaluate)
{
    std::vector<std::pair<QString, QString>> params;
    for (auto it = m_c.params.cbegin(); it != m_c.params.cend(); ++it)
        params.emplace_back(QStringLiteral("params.") + it.key(), paramText(it.value()));
    params.emplace_back(QStringLiteral("learner"), m_c.learner);
    params.emplace_back(QStringLiteral("data"), train.ref());
    params.emplace_back(QStringLiteral("data.content_id"), train.record.contentId);
    if (evaluate) {
        params.emplace_back(QStringLiteral("evaluate"), evaluate->ref());
        params.emplace_back(QStringLiteral("evaluate.content_id"), evaluate->record.contentId);
    }
    params.emplace_back(QStringLiteral("split.kind"), splitKindName(m_c.split.kind));
    if (m_c.split.kind == SplitKind::KFold)
        params.emplace_back(QStringLiteral("split.folds"), QString::number(m_c.split.folds));
    else
        params.emplace_back(QStringLiteral("split.test_fraction"), num(m_c.split.testFraction));
    params.emplace_back(QStringLiteral("split.validation_fraction"), num(m_c.split.validationFraction));
    params.emplace_back(QStringLiteral("split.stratify"),
                        m_c.split.stratify ? QStringLiteral("true") : QStringLiteral("false"));
    params.emplace_back(QStringLiteral("split.seed"), QString::number(m_c.split.seed));
    if (m_c.split.kind == SplitKind::Time) {
        params.emplace_back(QStringLiteral("split.time_column"), m_c.split.timeColumn);
        if (m_c.split.cutoff)
            params.emplace_back(QStringLiteral("split.cutoff"), QString::number(*m_c.split.cutoff));
    }
    params.emplace_back(QStringLiteral("target"), m_c.recipe.target);
    if (!m_c.idColumn.isEmpty())
        params.emplace_back(QStringLiteral("id_column"), m_c.idColumn);
    if (Status s = m_ts.setParams(m_runId, params); !s)
        return s;
    if (Status s = m_ts.addLineage({QStringLiteral("dataset"), train.record.contentId, QStringLiteral("run"),
                                    m_runId, QStringLiteral("trained_on"), {}});
        !s)
        return s;
    if (evaluate) {
        if (Status s = m_ts.addLineage({QStringLiteral("dataset"), evaluate->record.contentId, QStringLiteral("run"),
                                        m_runId, QStringLiteral("evaluated_on"), {}});
            !s)
            return s;
    }
    if (!m_c.parentRunId.isEmpty())
        return m_ts.addLineage({QStringLiteral("run"), m_c.parentRunId, QStringLiteral("run"), m_runId,
                                m_c.sweepId == m_c.parentRunId ? QStringLiteral("trial_of") : QStringLiteral("branched_from"),
                                {}});
    return {};
}

Status RunExecutor::fitHoldout(const Inputs &in, TrainingResult &result, Outcome &out)
{
    const Split &split = in.splits.front();
    const data::Table trainTable = in.table.rows(split.train);
    const data::Table validTable = in.table.rows(split.validation);
    const bool validated = !split.validation.empty();
    auto fitted = fit(*in.learner, in.spec, trainTable, validated ? &validTable : nullptr, m_c.params, true);
    if (!fitted)
        return fitted.error();
    out.final = std::move(*fitted);
    result.trainRows = qint64(split.train.size());
    result.validationRows = qint64(split.validation.size());
    if (validated) {
        // Final metrics on the validation part: what sweeps select on (test.* never picks anything).
        auto scored = score(out.final, validTable);
        if (!scored)
            return scored.error();
        const QVariantMap metrics = evaluate(out.final.recipe->task(), scored->first, scored->second, out.final.model->numClasses());
        if (Status s = logEvaluation(metrics, QStringLiteral("validation."), 0, &result.metrics); !s)
            return s;
    }
    if (in.testElsewhere)
        return {};
    reportProgress(m_feedback, 0, 1, QStringLiteral("evaluate"));
    const data::Table testTable = in.table.rows(split.test);
    auto scored = score(out.final, testTable);
    if (!scored)
        return scored.error();
    out.yTest = std::move(scored->first);
    out.predictions = std::move(scored->second);
    return describeRows(testTable, split.test, in.usable.kept, out.rows);
}

Status RunExecutor::fitCrossValidated(const Inputs &in, TrainingResult &result, Outcome &out)
{
    // One model per fold (early stopping on an inner validation part of its training rows, never on its own fold),
    // out-of-fold predictions over every row.
    const data::Table &table = in.table;
    const int folds = int(in.splits.size());
    const int width = in.fullTarget->task == Task::MulticlassClassification ? in.fullTarget->numClasses() : 1;
    std::vector<double> oof(size_t(table.rowCount()) * size_t(width), std::nan(""));
    std::vector<int> usedRounds;
    for (int k = 0; k < folds; ++k) {
        reportProgress(m_feedback, k, folds, QStringLiteral("fold"));
        const Split &split = in.splits[size_t(k)];
        const data::Table trainTable = table.rows(split.train);
        const data::Table validTable = table.rows(split.validation);
        const data::Table testTable = table.rows(split.test);
        auto fitted = fit(*in.learner, in.spec, trainTable, split.validation.empty() ? nullptr : &validTable, m_c.params, k == 0);
        if (!fitted)
            return fitted.error();
        auto scored = score(*fitted, testTable);
        if (!scored)
            return scored.error();
        const std::vector<double> &p = scored->second;
        for (size_t i = 0; i < split.test.size(); ++i)
            for (int c = 0; c < width; ++c)
                oof[size_t(split.test[i]) * size_t(width) + size_t(c)] = p[i * size_t(width) + size_t(c)];
        const QVariantMap foldMetrics = evaluate(fitted->recipe->task(), scored->first, p, fitted->model->numClasses());
        if (Status s = logEvaluation(foldMetrics, QStringLiteral("cv."), k, nullptr); !s)
            return s;
        usedRounds.push_back(fitted->usedRounds);
    }
    reportProgress(m_feedback, folds, folds, QStringLiteral("fold"));
    // Mean and standard deviation of each fold metric.
    auto points = m_ts.metrics(m_runId);
    if (!points)
        return points.error();
    std::map<QString, std::vector<double>> perKey;
    for (const tracking::MetricPoint &pt : *points)
        if (pt.key.startsWith(u"cv."))
            perKey[pt.key].push_back(pt.value);
    for (const auto &[key, values] : perKey) {
        double mean = 0, var = 0;
        for (double v : values)
            mean += v / double(values.size());
        for (double v : values)
            var += (v - mean) * (v - mean) / double(std::max<size_t>(values.size() - 1, 1));
        logPoint(key + QStringLiteral(".mean"), 0, mean);
        logPoint(key + QStringLiteral(".std"), 0, std::sqrt(var));
        result.metrics.insert(key + QStringLiteral(".mean"), mean);
    }
    if (Status s = flushMetrics(); !s)
        return s;

    // The model that is kept: every row, as many rounds as the folds used on average.
    Params finalParams = m_c.params;
    if (in.earlyStopping && !usedRounds.empty()) {
        double mean = 0;
        for (int r : usedRounds)
            mean += double(r) / double(usedRounds.size());
        finalParams.insert(QStringLiteral("n_estimators"), std::max(1, int(std::lround(mean))));
        finalParams.insert(QStringLiteral("early_stopping_rounds"), 0);
        if (Status s = m_ts.setTag(m_runId, QStringLiteral("final.n_estimators"),
                                   finalParams.value(QStringLiteral("n_estimators")).toString());
            !s)
            return s;
    }
    auto fitted = fit(*in.learner, in.spec, table, nullptr, finalParams, false);
    if (!fitted)
        return fitted.error();
    out.final = std::move(*fitted);
    result.trainRows = table.rowCount();
    if (in.testElsewhere)
        return {};
    auto y = out.final.recipe->target(table);
    if (!y)
        return y.error();
    out.yTest = std::move(*y);
    out.predictions = std::move(oof);
    std::vector<qint64> all(size_t(table.rowCount()));
    std::iota(all.begin(), all.end(), qint64(0));
    return describeRows(table, all, in.usable.kept, out.rows);
}

Status RunExecutor::scoreEvaluateSet(const workspace::DatasetVersion &evaluate, Outcome &out, std::optional<UsableRows> &usable)
{
    auto loaded = workspace::loadDataset(m_ws, evaluate, nullptr);
    if (!loaded)
        return loaded.error();
    auto u = usableRows(*loaded, QStringLiteral("evaluate"));
    if (!u)
        return u.error();
    usable = std::move(*u);
    const data::Table table = usable->dropped.empty() ? std::move(*loaded) : loaded->rows(usable->kept);
    if (!usable->dropped.empty()) {
        if (Status s = m_ts.setTag(m_runId, QStringLiteral("evaluate.dropped_missing_target"),
                                   QString::number(usable->dropped.size()));
            !s)
            return s;
    }
    auto scored = score(out.final, table);
    if (!scored)
        return scored.error();
    out.yTest = std::move(scored->first);
    out.predictions = std::move(scored->second);
    std::vector<qint64> all(size_t(table.rowCount()));
    std::iota(all.begin(), all.end(), qint64(0));
    return describeRows(table, all, usable->kept, out.rows);
}

Status RunExecutor::storeArtifacts(const Inputs &in, const workspace::DatasetVersion &train, const workspace::DatasetVersion *evaluate,
                                   const std::optional<UsableRows> &evalUsable, Outcome &out, TrainingResult &result)
{
    const Fitted &final = out.final;
    if (Status s = storeArtifact(QStringLiteral("model"), result.modelKind, final.model->serialize(), result.modelObjectId); !s)
        return s;
    const QByteArray recipeJson = QJsonDocument(final.recipe->toJson()).toJson(QJsonDocument::Compact);
    if (Status s = storeArtifact(QStringLiteral("recipe"), QStringLiteral("recipe-json"), recipeJson, result.recipeObjectId); !s)
        return s;
    if (Status s = storeArtifact(QStringLiteral("predictions"), QStringLiteral("csv"),
                                 predictionsCsv(out.rows, final.recipe->task(), out.yTest->classes, out.predictions, &*out.yTest),
                                 result.predictionsObjectId);
        !s)
        return s;
    const QJsonObject splitDoc = splitDocument(train, in.usable, in.splits, m_c.split.kind, evaluate,
                                               evalUsable ? &*evalUsable : nullptr);
    if (Status s = storeArtifact(QStringLiteral("split"), QStringLiteral("split-json"),
                                 QJsonDocument(splitDoc).toJson(QJsonDocument::Compact), result.splitObjectId);
        !s)
        return s;
    if (final.recipe->task() != Task::Regression) {
        const QByteArray curves =
            QJsonDocument(curvesJson(*out.yTest, out.predictions, final.model->numClasses())).toJson(QJsonDocument::Compact);
        if (Status s = storeArtifact(QStringLiteral("curves"), QStringLiteral("curves-json"), curves, result.curvesObjectId); !s)
            return s;
    }
    const QVariantMap diag = final.model->diagnostics();
    for (auto it = diag.cbegin(); it != diag.cend(); ++it)
        if (Status s = m_ts.setTag(m_runId, QStringLiteral("model.") + it.key(), paramText(it.value())); !s)
            return s;
    return {};
}

Expected<TrainingResult> RunExecutor::run()
{
    TrainingResult result;
    result.runId = m_runId;
    result.experiment = m_c.experiment;
    Inputs in;
    in.learner = findLearner(m_c.learner);
    if (!in.learner)
        return makeError(QStringLiteral("unknown learner '%1'").arg(m_c.learner), m_c.sourceName, -1,
                         QStringLiteral("learner"));

    // Data, params and lineage.
    reportProgress(m_feedback, 0, 1, QStringLiteral("load"));
    auto trainVersion = workspace::resolveDataset(m_ws, m_c.data);
    if (!trainVersion) {
        Error e = trainVersion.error();
        e.field = QStringLiteral("data");
        return e;
    }
    std::optional<workspace::DatasetVersion> evalVersion;
    if (!m_c.evaluate.isEmpty()) {
        auto v = workspace::resolveDataset(m_ws, m_c.evaluate);
        if (!v) {
            Error e = v.error();
            e.field = QStringLiteral("evaluate");
            return e;
        }
        evalVersion = *v;
    }
    const workspace::DatasetVersion *evaluatePtr = evalVersion ? &*evalVersion : nullptr;
    if (Status s = recordInputs(*trainVersion, evaluatePtr); !s)
        return s.error();
    auto loaded = workspace::loadDataset(m_ws, *trainVersion, nullptr);
    if (!loaded)
        return loaded.error();
    if (isCancelled(m_feedback))
        return cancelledError();

    // Rows whose target is missing can be neither trained nor scored: dropped and counted (or an error).
    auto usable = usableRows(*loaded, QStringLiteral("data"));
    if (!usable)
        return usable.error();
    in.usable = std::move(*usable);
    in.table = in.usable.dropped.empty() ? std::move(*loaded) : loaded->rows(in.usable.kept);
    result.droppedMissingTarget = qint64(in.usable.dropped.size());
    if (result.droppedMissingTarget > 0) {
        if (Status s = m_ts.setTag(m_runId, QStringLiteral("data.dropped_missing_target"),
                                   QString::number(result.droppedMissingTarget));
            !s)
            return s.error();
    }

    // Split (stratified on the target as the recipe will encode it). Classification classes are fixed from the
    // whole dataset so every fold's model numbers the classes the same way.
    const std::optional<Task> task = taskFromName(m_c.recipe.task);   // nullopt for auto and classification
    auto fullTarget = makeTarget(in.table, m_c.recipe.target, task, m_c.recipe.classes, m_c.recipe.labelMap);
    if (!fullTarget)
        return fullTarget.error();
    if (task == std::nullopt && m_c.recipe.task == u"classification" && fullTarget->task == Task::Regression)
        return makeError(QStringLiteral("target is not categorical"), m_c.sourceName, -1, QStringLiteral("task"));
    in.fullTarget = std::move(*fullTarget);
    in.spec = m_c.recipe;
    if (in.fullTarget->task != Task::Regression && in.spec.classes.isEmpty())
        in.spec.classes = in.fullTarget->classes;
    if (!m_c.idColumn.isEmpty()) {
        if (in.table.indexOf(m_c.idColumn) < 0)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("no column '%1' in %2").arg(m_c.idColumn, trainVersion->ref()),
                             {}, -1, QStringLiteral("id_column"));
        // An identifier joins predictions to inputs; it is never a feature unless the recipe lists it as one.
        if (!in.spec.features.contains(m_c.idColumn) && !in.spec.exclude.contains(m_c.idColumn))
            in.spec.exclude << m_c.idColumn;
    }
    in.earlyStopping = m_c.params.value(QStringLiteral("early_stopping_rounds")).toInt() > 0;
    in.testElsewhere = evalVersion.has_value();
    auto splits = planSplits(m_c.split, in.table, m_c.split.stratify ? &*in.fullTarget : nullptr, in.testElsewhere,
                             in.earlyStopping);
    if (!splits)
        return splits.error();
    in.splits = std::move(*splits);

    // Fit, then test: on the held-out part, the out-of-fold predictions or the evaluate dataset.
    Outcome out;
    out.rows.idColumn = m_c.idColumn;
    if (Status s = m_c.split.kind == SplitKind::KFold ? fitCrossValidated(in, result, out) : fitHoldout(in, result, out); !s)
        return s.error();
    result.rounds = out.final.rounds;
    result.modelKind = out.final.model->kind();
    std::optional<UsableRows> evalUsable;
    reportProgress(m_feedback, 0, 1, QStringLiteral("evaluate"));
    if (evalVersion) {
        if (Status s = scoreEvaluateSet(*evalVersion, out, evalUsable); !s)
            return s.error();
    }
    result.evaluationRows = qint64(out.yTest->values.size());
    const QVariantMap metrics = evaluate(out.final.recipe->task(), *out.yTest, out.predictions, out.final.model->numClasses());
    if (Status s = logEvaluation(metrics, QStringLiteral("test."), 0, &result.metrics); !s)
        return s.error();

    if (Status s = storeArtifacts(in, *trainVersion, evaluatePtr, evalUsable, out, result); !s)
        return s.error();
    return result;
}

} // namespace

Expected<TrainingResult> runTraining(workspace::Workspace &ws, const TrainingConfig &config, Feedback *feedback,
                                     const TrainingObserver *observer)
{
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    if (!config.parentRunId.isEmpty()) {
        if (auto parent = (*ts)->run(config.parentRunId); !parent)
            return parent.error();
    }
    tracking::RunRecord record;
    record.experiment = config.experiment;
    record.name = config.name;
    record.config = config.text;
    record.parentRunId = config.parentRunId;
    record.sweepId = config.sweepId;
    auto head = ws.git().headCommit();   // read before the run exists, so a failure leaves no half-made run
    if (!head)
        return head.error();
    auto runId = (*ts)->createRun(record);
    if (!runId)
        return runId.error();
    if (observer && observer->started)
        observer->started(*runId, config.experiment);
    const QVariant threads = config.params.value(QStringLiteral("threads"));
    const std::vector<std::pair<QString, QString>> tags = {
        {QStringLiteral("git.commit"), *head},
        {QStringLiteral("keel.version"), QStringLiteral(KEEL_VERSION_STRING)},
        {QStringLiteral("threads"), QString::number(threads.isValid() && threads.toInt() > 0 ? threads.toInt()
                                                                                           : QThread::idealThreadCount())},
        {QStringLiteral("platform"), QSysInfo::prettyProductName()},
        {QStringLiteral("config.file"), config.sourceName},
    };
    Status tagged;
    for (const auto &[k, v] : tags) {
        tagged = (*ts)->setTag(*runId, k, v);
        if (!tagged)
            break;
    }
    Expected<TrainingResult> result = tagged ? RunExecutor(ws, **ts, config, *runId, feedback, observer).run()
                                             : Expected<TrainingResult>(tagged.error());
    if (!result)
        result = config.locate(result.error());
    if (!result) {
        const bool cancelled = result.is(ErrorKind::Cancelled);
        // The run's own error is what the caller needs; failing to record it is said alongside, not instead.
        Status recorded = (*ts)->setTag(*runId, QStringLiteral("error"), result.error().toString());
        if (recorded)
            recorded = (*ts)->finishRun(*runId, cancelled ? tracking::RunStatus::Killed : tracking::RunStatus::Failed);
        if (!recorded)
            reportWarning(feedback, QStringLiteral("run %1 failed and recording its end failed too: %2")
                                        .arg(*runId, recorded.error().toString()));
        return result;
    }
    if (Status s = (*ts)->finishRun(*runId, tracking::RunStatus::Finished); !s)
        return s.error();
    // One audit event per finished training, whichever door started it (CLI, workbench, sweep, pipeline).
    QJsonObject metrics;
    for (auto it = result->metrics.begin(); it != result->metrics.end(); ++it)
        metrics.insert(it.key(), it.value().toDouble());
    if (Status s = ws.audit(QStringLiteral("train"), QStringLiteral("run:") + *runId,
                            QJsonObject{{QStringLiteral("experiment"), config.experiment}, {QStringLiteral("name"), config.name},
                                        {QStringLiteral("data"), config.data}, {QStringLiteral("evaluate"), config.evaluate},
                                        {QStringLiteral("learner"), config.learner}, {QStringLiteral("model"), result->modelKind},
                                        {QStringLiteral("metrics"), metrics}});
        !s)
        return s.error();
    return result;
}

Expected<TrainingConfig> resolveTrainingConfig(workspace::Workspace &ws, const TrainingSource &source)
{
    if (source.configPath.isEmpty() == source.fromRun.isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("give a config file or a run to branch from (one of them)"));
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    QString text, sourceName;
    std::optional<tracking::RunRecord> fromRun;
    if (!source.fromRun.isEmpty()) {
        auto run = (*ts)->findRun(source.fromRun);
        if (!run)
            return run.error();
        if (run->config.isEmpty())
            return makeError(ErrorKind::InvalidInput, QStringLiteral("run %1 has no recorded config to branch from").arg(run->id));
        fromRun = *run;
        text = run->config;
        sourceName = QStringLiteral("config of run %1").arg(run->id.left(8));
    } else {
        sourceName = source.sourceName.isEmpty() ? source.configPath : source.sourceName;
        auto bytes = readFile(source.configPath);
        if (!bytes)
            return bytes.error();
        text = QString::fromUtf8(*bytes);
    }
    if (!source.overrides.isEmpty()) {
        auto changed = applyConfigOverrides(text, source.overrides, sourceName);
        if (!changed)
            return changed.error();
        text = *changed;
    }
    auto config = TrainingConfig::fromYaml(text, sourceName);
    if (!config)
        return config.error();
    // A branch keeps the run's name unless its config names one.
    if (fromRun && !config->lines.contains(QStringLiteral("name")))
        config->name = fromRun->name;
    const QString parent = !source.parentRun.isEmpty() ? source.parentRun : fromRun ? fromRun->id : QString();
    if (!parent.isEmpty()) {
        auto run = (*ts)->findRun(parent);
        if (!run)
            return run.error();
        config->parentRunId = run->id;
    }
    config->sweepId = source.sweepId;
    return config;
}

Expected<ReproduceResult> reproduceRun(workspace::Workspace &ws, const QString &runIdOrPrefix, Feedback *feedback)
{
    auto ts = ws.tracking();
    if (!ts)
        return ts.error();
    auto original = (*ts)->findRun(runIdOrPrefix);
    if (!original)
        return original.error();
    if (original->status != tracking::RunStatus::Finished)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("run %1 is %2; only finished runs can be reproduced")
                                                      .arg(original->id, tracking::runStatusName(original->status)));
    auto config = TrainingConfig::fromYaml(original->config, QStringLiteral("config of run %1").arg(original->id.left(8)));
    if (!config)
        return config.error();
    auto paramList = (*ts)->params(original->id);
    auto tagList = (*ts)->tags(original->id);
    auto artifacts = (*ts)->artifacts(original->id);
    for (const Status &s : {paramList.status(), tagList.status(), artifacts.status()})
        if (!s)
            return s.error();
    const std::map<QString, QString> params(paramList->begin(), paramList->end());
    const std::map<QString, QString> tags(tagList->begin(), tagList->end());
    // Pin the exact dataset versions the run used, and check their content is unchanged.
    for (const char *key : {"data", "evaluate"}) {
        const QString k = QLatin1String(key);
        if (!params.count(k))
            continue;
        auto version = workspace::resolveDataset(ws, params.at(k));
        if (!version)
            return version.error();
        const QString want = params.count(k + QStringLiteral(".content_id")) ? params.at(k + QStringLiteral(".content_id")) : QString();
        if (version->record.contentId != want)
            return makeError(ErrorKind::Conflict, QStringLiteral("%1 %2 now has content %3 but the run used %4; cannot reproduce")
                                                      .arg(k, params.at(k), version->record.contentId.left(12), want.left(12)));
        (k == u"data" ? config->data : config->evaluate) = params.at(k);
    }
    QString originalPredictions, originalModel;
    for (const tracking::ArtifactRecord &a : *artifacts) {
        if (a.name == u"predictions")
            originalPredictions = a.objectId;
        else if (a.name == u"model")
            originalModel = a.objectId;
    }
    if (originalPredictions.isEmpty())
        return makeError(ErrorKind::NotFound, QStringLiteral("run %1 has no predictions artifact to compare with").arg(original->id));
    ReproduceResult out;
    out.originalRunId = original->id;
    if (tags.count(QStringLiteral("keel.version")) && tags.at(QStringLiteral("keel.version")) != QStringLiteral(KEEL_VERSION_STRING))
        out.notes << QStringLiteral("the run used Keel %1, this is %2").arg(tags.at(QStringLiteral("keel.version")), QStringLiteral(KEEL_VERSION_STRING));
    if (tags.count(QStringLiteral("threads")) && !config->params.contains(QStringLiteral("threads"))
        && tags.at(QStringLiteral("threads")).toInt() != QThread::idealThreadCount())
        out.notes << QStringLiteral("the run used %1 threads, this machine has %2").arg(tags.at(QStringLiteral("threads"))).arg(QThread::idealThreadCount());
    config->parentRunId = original->id;
    config->name = original->name;

    auto result = runTraining(ws, *config, feedback);
    if (!result)
        return result.error();
    out.run = *result;
    auto a = ws.store().readAll(originalPredictions);
    if (!a)
        return a.error();
    auto b = ws.store().readAll(result->predictionsObjectId);
    if (!b)
        return b.error();
    out.identical = *a == *b;
    out.sameModel = !originalModel.isEmpty() && result->modelObjectId == originalModel;
    // Where they differ, count rows and the largest difference of the numeric fields.
    if (!out.identical) {
        const QList<QByteArray> la = a->split('\n'), lb = b->split('\n');
        out.rows = std::max(la.size(), lb.size()) - 2;
        for (qsizetype i = 1; i < std::min(la.size(), lb.size()); ++i) {
            if (la[i] == lb[i])
                continue;
            ++out.rowsDiffering;
            const QList<QByteArray> fa = la[i].split(','), fb = lb[i].split(',');
            for (qsizetype j = 0; j < std::min(fa.size(), fb.size()); ++j) {
                bool oka = false, okb = false;
                const double va = fa[j].toDouble(&oka), vb = fb[j].toDouble(&okb);
                if (oka && okb)
                    out.maxAbsDifference = std::max(out.maxAbsDifference, std::abs(va - vb));
            }
        }
        out.rowsDiffering += std::abs(la.size() - lb.size());
    } else {
        out.rows = a->count('\n') - 1;
    }
    for (const auto &[k, v] : {std::pair{QStringLiteral("reproduces"), original->id},
                               std::pair{QStringLiteral("reproduce.identical"),
                                         out.identical ? QStringLiteral("true") : QStringLiteral("false")}})
        if (Status s = (*ts)->setTag(result->runId, k, v); !s)
            return s.error();
    if (Status s = (*ts)->addLineage({QStringLiteral("run"), original->id, QStringLiteral("run"), result->runId,
                                      QStringLiteral("reproduced_by"), {}});
        !s)
        return s.error();
    return out;
}

Expected<TrainingResult> runTraining(workspace::Workspace &ws, const QString &configPath, Feedback *feedback,
                                     const TrainingObserver *observer)
{
    auto config = TrainingConfig::fromFile(configPath);
    if (!config)
        return config.error();
    return runTraining(ws, *config, feedback, observer);
}

} // namespace keel::ml
