#include "ml/sweep.h"

#include "ml/learners.h"
#include "util/yaml.h"

#include <QLocale>

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <random>

namespace keel::ml {

namespace {

using yaml::fromStd;
using yaml::toStd;
using yaml::lineOf;
QString num(double v) { return QString::number(v, 'g', QLocale::FloatingPointShortest); }

/// Uniform double in [0, 1) from the top 53 bits (the same on every platform, unlike std distributions).
double unit(std::mt19937_64 &rng) { return double(rng() >> 11) * 0x1.0p-53; }

QString valueText(const SweepDimension &d, double v)
{
    return d.integer ? QString::number(std::llround(v)) : num(v);
}

double rangePoint(const SweepDimension &d, double t)
{
    if (t <= 0)
        return d.min;
    if (t >= 1)
        return d.max;
    if (d.log)
        return std::exp(std::log(d.min) + t * (std::log(d.max) - std::log(d.min)));
    return d.min + t * (d.max - d.min);
}

} // namespace

bool metricIsMaximized(const QString &metric)
{
    const QString m = metric.toLower();
    for (const char *low : {"loss", "error", "brier", "rmse", "mae", "mape"})
        if (m.contains(QLatin1String(low)))
            return false;
    return true;
}

Status checkSweepMetric(const QString &metric, bool kfold)
{
    // Selecting on the test part would make the reported test score optimistic: trials are compared on rows no
    // trial's training saw, and the test part stays untouched until the winner is reported.
    const QString allowed = kfold ? QStringLiteral("cv.<metric>.mean (e.g. cv.roc_auc.mean)")
                                  : QStringLiteral("validation.<metric> (e.g. validation.roc_auc)");
    const bool ok = kfold ? (metric.startsWith(u"cv.") && metric.endsWith(u".mean")) : metric.startsWith(u"validation.");
    if (ok)
        return {};
    const QString why = metric.startsWith(u"test.")
        ? QStringLiteral("a sweep must not pick its best trial on the test part, whose score it then reports (that "
                         "score would be optimistic); ")
        : QString();
    return makeError(ErrorKind::InvalidInput, why + QStringLiteral("select on %1").arg(allowed), {}, -1,
                     QStringLiteral("sweep.metric"));
}

Expected<SweepSpec> SweepSpec::fromConfig(const QString &yaml, const QString &sourceName)
{
    return yaml::guarded(sourceName, [&]() -> Expected<SweepSpec> {
        auto parsed = yaml::parse(yaml.toUtf8(), sourceName);
        if (!parsed)
            return parsed.error();
        const YAML::Node root = *parsed;
        if (!root.IsMap())
            return makeError(QStringLiteral("a training config must be a mapping"), sourceName, 1);
        const YAML::Node sweep = root["sweep"];
        if (!sweep)
            return makeError(QStringLiteral("the config has no 'sweep:' section (metric, goal, params)"), sourceName, -1,
                             QStringLiteral("sweep"));
        if (!sweep.IsMap())
            return makeError(QStringLiteral("expected a mapping"), sourceName, lineOf(sweep), QStringLiteral("sweep"));
        const YAML::Node learnerNode = root["learner"];
        const Learner *learner = learnerNode && learnerNode.IsScalar() ? findLearner(fromStd(learnerNode.Scalar())) : nullptr;
        if (!learner)
            return makeError(QStringLiteral("a sweep needs a known learner"), sourceName,
                             learnerNode ? lineOf(learnerNode) : -1, QStringLiteral("learner"));
        const std::vector<ParamSpec> specs = learner->params();

        SweepSpec spec;
        for (auto it = sweep.begin(); it != sweep.end(); ++it) {
            const QString key = fromStd(it->first.as<std::string>());
            if (key != u"metric" && key != u"goal" && key != u"params")
                return makeError(QStringLiteral("unknown key (known: metric, goal, params)"), sourceName,
                                 lineOf(it->first), QStringLiteral("sweep.") + key);
        }
        const YAML::Node metric = sweep["metric"];
        if (!metric || !metric.IsScalar() || metric.Scalar().empty())
            return makeError(QStringLiteral("is required: the final metric that picks the best trial, e.g. validation.roc_auc"),
                             sourceName, metric ? lineOf(metric) : lineOf(sweep), QStringLiteral("sweep.metric"));
        spec.metric = fromStd(metric.Scalar());
        const YAML::Node splitNode = root["split"];
        spec.kfold = splitNode && splitNode.IsMap() && splitNode["kind"] && splitNode["kind"].IsScalar()
                     && splitNode["kind"].Scalar() == "kfold";
        if (Status s = checkSweepMetric(spec.metric, spec.kfold); !s)
            return makeError(s.error().kind, s.error().message, sourceName, lineOf(metric), QStringLiteral("sweep.metric"));
        spec.maximize = metricIsMaximized(spec.metric);
        if (const YAML::Node goal = sweep["goal"]) {
            const QString g = goal.IsScalar() ? fromStd(goal.Scalar()) : QString();
            if (g == u"maximize" || g == u"max")
                spec.maximize = true;
            else if (g == u"minimize" || g == u"min")
                spec.maximize = false;
            else
                return makeError(QStringLiteral("expected maximize or minimize"), sourceName, lineOf(goal),
                                 QStringLiteral("sweep.goal"));
        }
        const YAML::Node params = sweep["params"];
        if (!params || !params.IsMap() || params.size() == 0)
            return makeError(QStringLiteral("expected a mapping of parameter names to value lists or ranges"), sourceName,
                             params ? lineOf(params) : lineOf(sweep), QStringLiteral("sweep.params"));
        for (auto it = params.begin(); it != params.end(); ++it) {
            SweepDimension d;
            d.param = fromStd(it->first.as<std::string>());
            const QString field = QStringLiteral("sweep.params.") + d.param;
            const qint64 line = lineOf(it->second);
            const auto ps = std::find_if(specs.begin(), specs.end(), [&](const ParamSpec &p) { return p.name == d.param; });
            if (ps == specs.end()) {
                QStringList names;
                for (const ParamSpec &p : specs)
                    names << p.name;
                return makeError(QStringLiteral("learner '%1' has no parameter '%2' (known: %3)")
                                     .arg(learner->name(), d.param, names.join(QStringLiteral(", "))),
                                 sourceName, lineOf(it->first), field);
            }
            d.integer = ps->type == ParamSpec::Type::Int;
            const YAML::Node v = it->second;
            if (v.IsSequence()) {
                if (v.size() == 0)
                    return makeError(QStringLiteral("the value list is empty"), sourceName, line, field);
                for (const YAML::Node &item : v) {
                    if (!item.IsScalar())
                        return makeError(QStringLiteral("expected a list of single values"), sourceName, lineOf(item), field);
                    const QString text = fromStd(item.Scalar());
                    auto checked = validateParams({*ps}, Params{{d.param, text}});
                    if (!checked)
                        return makeError(checked.error().message, sourceName, lineOf(item), field);
                    d.values << text;
                }
            } else if (v.IsMap()) {
                if (ps->type != ParamSpec::Type::Int && ps->type != ParamSpec::Type::Double)
                    return makeError(QStringLiteral("a range needs a numeric parameter; give a list of values"),
                                     sourceName, line, field);
                for (auto r = v.begin(); r != v.end(); ++r) {
                    const QString k = fromStd(r->first.as<std::string>());
                    if (k != u"min" && k != u"max" && k != u"log" && k != u"steps")
                        return makeError(QStringLiteral("unknown key (known: min, max, log, steps)"), sourceName,
                                         lineOf(r->first), field + QLatin1Char('.') + k);
                }
                auto number = [&](const char *key, bool required, double &out) -> Status {
                    const YAML::Node n = v[key];
                    if (!n) {
                        if (required)
                            return makeError(QStringLiteral("is required"), sourceName, line,
                                             field + QLatin1Char('.') + QLatin1String(key));
                        return {};
                    }
                    bool ok = false;
                    out = fromStd(n.IsScalar() ? n.Scalar() : std::string()).toDouble(&ok);
                    if (!ok || !std::isfinite(out))
                        return makeError(QStringLiteral("expected a number"), sourceName, lineOf(n),
                                         field + QLatin1Char('.') + QLatin1String(key));
                    return {};
                };
                double steps = 0;
                for (Status s : {number("min", true, d.min), number("max", true, d.max), number("steps", false, steps)})
                    if (!s)
                        return s.error();
                if (!(d.min <= d.max))
                    return makeError(QStringLiteral("min must not exceed max"), sourceName, line, field);
                if (d.min < ps->min || d.max > ps->max)
                    return makeError(QStringLiteral("range [%1, %2] leaves the parameter's allowed range [%3, %4]")
                                         .arg(num(d.min), num(d.max), num(ps->min), num(ps->max)),
                                     sourceName, line, field);
                if (steps < 0 || steps != std::floor(steps) || steps > 1000)
                    return makeError(QStringLiteral("expected a whole number from 1 to 1000"), sourceName, line,
                                     field + QStringLiteral(".steps"));
                d.steps = int(steps);
                if (const YAML::Node l = v["log"]) {
                    const QString b = fromStd(l.IsScalar() ? l.Scalar() : std::string()).toLower();
                    if (b == u"true" || b == u"yes")
                        d.log = true;
                    else if (b != u"false" && b != u"no")
                        return makeError(QStringLiteral("expected true or false"), sourceName, lineOf(l),
                                         field + QStringLiteral(".log"));
                }
                if (d.log && d.min <= 0)
                    return makeError(QStringLiteral("a log range needs min > 0"), sourceName, line, field);
            } else if (v.IsScalar()) {
                const QString text = fromStd(v.Scalar());
                auto checked = validateParams({*ps}, Params{{d.param, text}});
                if (!checked)
                    return makeError(checked.error().message, sourceName, line, field);
                d.values << text;
            } else {
                return makeError(QStringLiteral("expected a list of values or a range {min, max}"), sourceName, line, field);
            }
            spec.dims.push_back(std::move(d));
        }
        return spec;
    });
}

Expected<std::vector<QStringList>> gridTrials(const SweepSpec &spec)
{
    std::vector<QStringList> axes;
    for (const SweepDimension &d : spec.dims) {
        QStringList axis;
        for (const QString &v : d.values)
            axis << QStringLiteral("params.") + d.param + QLatin1Char('=') + v;
        if (d.values.isEmpty()) {
            if (d.steps <= 0)
                return makeError(QStringLiteral("a grid needs 'steps' for the range of '%1'").arg(d.param), {}, -1,
                                 QStringLiteral("sweep.params.") + d.param + QStringLiteral(".steps"));
            QStringList seen;
            for (int i = 0; i < d.steps; ++i) {
                const double t = d.steps == 1 ? 0.0 : double(i) / double(d.steps - 1);
                const QString v = valueText(d, rangePoint(d, t));
                if (!seen.contains(v)) {
                    seen << v;
                    axis << QStringLiteral("params.") + d.param + QLatin1Char('=') + v;
                }
            }
        }
        axes.push_back(axis);
    }
    std::vector<QStringList> trials{QStringList()};
    for (const QStringList &axis : axes) {
        std::vector<QStringList> next;
        for (const QStringList &t : trials)
            for (const QString &v : axis)
                next.push_back(t + QStringList{v});
        trials = std::move(next);
    }
    return trials;
}

std::vector<QStringList> randomTrials(const SweepSpec &spec, int count, quint64 seed)
{
    std::mt19937_64 rng(seed);
    std::vector<QStringList> trials;
    for (int i = 0; i < count; ++i) {
        QStringList t;
        for (const SweepDimension &d : spec.dims) {
            QString v;
            if (!d.values.isEmpty())
                v = d.values[qsizetype(std::min<quint64>(quint64(unit(rng) * double(d.values.size())), quint64(d.values.size() - 1)))];
            else if (d.integer)
                v = valueText(d, rangePoint(d, unit(rng)));
            else // 4 significant digits read better in tables and change nothing that matters in a search
                v = num(std::clamp(QString::number(rangePoint(d, unit(rng)), 'g', 4).toDouble(), d.min, d.max));
            t << QStringLiteral("params.") + d.param + QLatin1Char('=') + v;
        }
        trials.push_back(t);
    }
    return trials;
}

Expected<QString> applyConfigOverrides(const QString &yaml, const QStringList &overrides, const QString &sourceName)
{
    return yaml::guarded(sourceName, [&]() -> Expected<QString> {
        auto parsed = yaml::parse(yaml.toUtf8(), sourceName);
        if (!parsed)
            return parsed.error();
        YAML::Node root = *parsed;
        if (!root.IsMap())
            return makeError(QStringLiteral("a training config must be a mapping"), sourceName, 1);
        for (const QString &o : overrides) {
            const qsizetype eq = o.indexOf(QLatin1Char('='));
            if (eq <= 0)
                return makeError(QStringLiteral("override '%1': expected KEY=VALUE, e.g. params.max_depth=6").arg(o));
            const QStringList path = o.left(eq).split(QLatin1Char('.'));
            if (path.contains(QString()))
                return makeError(QStringLiteral("override '%1': empty key in '%2'").arg(o, o.left(eq)));
            auto value = yaml::parse(o.mid(eq + 1).toUtf8(), QStringLiteral("--set %1").arg(o));
            if (!value)
                return makeError(ErrorKind::InvalidInput,
                                 QStringLiteral("override '%1': value is not valid YAML: %2").arg(o, value.error().message));
            // Walk down with fresh handles (yaml-cpp nodes are references; assigning to a walked handle would
            // rebind it instead of writing into the tree).
            std::vector<YAML::Node> chain{root};
            for (qsizetype i = 0; i + 1 < path.size(); ++i) {
                YAML::Node child = chain.back()[toStd(path[i])];
                if (!child || child.IsNull()) {
                    chain.back()[toStd(path[i])] = YAML::Node(YAML::NodeType::Map);
                    child = chain.back()[toStd(path[i])];
                } else if (!child.IsMap()) {
                    return makeError(QStringLiteral("override '%1': '%2' is not a mapping")
                                         .arg(o, path.mid(0, i + 1).join(QLatin1Char('.'))));
                }
                chain.push_back(child);
            }
            chain.back()[toStd(path.last())] = *value;
        }
        YAML::Emitter out;
        out << root;
        if (!out.good())
            return makeError(QStringLiteral("cannot write the changed config: ") + fromStd(out.GetLastError()), sourceName);
        return QString(fromStd(out.c_str()) + QLatin1Char('\n'));
    });
}

} // namespace keel::ml
