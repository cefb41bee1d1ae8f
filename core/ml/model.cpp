#include "ml/model.h"

#include <QJsonDocument>
#include <QJsonParseError>

#include <QLocale>
#include <QSet>

#include <cmath>
#include <optional>

namespace keel::ml {

QString exportedFeatureName(const QString &name)
{
    QString out = name;
    out.replace(QLatin1Char('['), QLatin1Char('('));
    out.replace(QLatin1Char(']'), QLatin1Char(')'));
    out.replace(QLatin1Char('<'), QLatin1String("lt"));
    return out;
}

QString taskName(Task t)
{
    switch (t) {
    case Task::Regression: return QStringLiteral("regression");
    case Task::BinaryClassification: return QStringLiteral("binary");
    case Task::MulticlassClassification: return QStringLiteral("multiclass");
    }
    return QStringLiteral("unknown");
}

std::optional<Task> taskFromName(QStringView name)
{
    for (Task t : {Task::Regression, Task::BinaryClassification, Task::MulticlassClassification})
        if (name == taskName(t))
            return t;
    return std::nullopt;
}

namespace {

std::optional<double> toNumber(const QVariant &v)
{
    switch (v.typeId()) {
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::LongLong:
    case QMetaType::ULongLong:
    case QMetaType::Double:
    case QMetaType::Float:
        return v.toDouble();
    case QMetaType::QString: {
        bool ok = false;
        const double d = v.toString().trimmed().toDouble(&ok);
        if (ok)
            return d;
        return std::nullopt;
    }
    default:
        return std::nullopt;
    }
}

std::optional<bool> toBool(const QVariant &v)
{
    if (v.typeId() == QMetaType::Bool)
        return v.toBool();
    if (v.typeId() == QMetaType::QString) {
        const QString s = v.toString().trimmed().toLower();
        if (s == u"true" || s == u"yes" || s == u"on" || s == u"1")
            return true;
        if (s == u"false" || s == u"no" || s == u"off" || s == u"0")
            return false;
        return std::nullopt;
    }
    if (auto n = toNumber(v); n && (*n == 0 || *n == 1))
        return *n == 1;
    return std::nullopt;
}

QString bound(double b) { return QString::number(b, 'g', QLocale::FloatingPointShortest); }

Expected<QVariant> checkOne(const ParamSpec &spec, const QVariant &value)
{
    const auto fail = [&](const QString &msg) { return makeError(msg, {}, -1, spec.name); };
    switch (spec.type) {
    case ParamSpec::Type::Int:
    case ParamSpec::Type::Double: {
        const auto n = toNumber(value);
        const bool isInt = spec.type == ParamSpec::Type::Int;
        if (!n || std::isnan(*n))
            return fail(QStringLiteral("expected %1, got '%2'").arg(isInt ? QStringLiteral("an integer")
                                                                          : QStringLiteral("a number"),
                                                                    value.toString()));
        if (isInt && (std::floor(*n) != *n || std::fabs(*n) > 9.0e15))
            return fail(QStringLiteral("expected an integer, got '%1'").arg(value.toString()));
        if (*n < spec.min || *n > spec.max)
            return fail(QStringLiteral("value %1 is outside [%2, %3]").arg(bound(*n), bound(spec.min), bound(spec.max)));
        if (isInt)
            return QVariant(qlonglong(*n));
        return QVariant(*n);
    }
    case ParamSpec::Type::Bool: {
        const auto b = toBool(value);
        if (!b)
            return fail(QStringLiteral("expected true or false, got '%1'").arg(value.toString()));
        return QVariant(*b);
    }
    case ParamSpec::Type::Choice: {
        const QString s = value.toString();
        if (value.typeId() != QMetaType::QString || !spec.choices.contains(s))
            return fail(QStringLiteral("'%1' is not one of: %2").arg(s, spec.choices.join(QStringLiteral(", "))));
        return QVariant(s);
    }
    }
    return fail(QStringLiteral("unsupported parameter type"));
}

} // namespace

Expected<Params> validateParams(const std::vector<ParamSpec> &specs, const Params &params)
{
    QSet<QString> known;
    for (const ParamSpec &s : specs)
        known.insert(s.name);
    for (auto it = params.cbegin(); it != params.cend(); ++it) {
        if (!known.contains(it.key())) {
            QStringList names(known.begin(), known.end());
            names.sort();
            return makeError(QStringLiteral("unknown parameter (known: %1)").arg(names.join(QStringLiteral(", "))),
                             {}, -1, it.key());
        }
    }
    Params out;
    for (const ParamSpec &s : specs) {
        const auto it = params.constFind(s.name);
        if (it == params.cend()) {
            if (s.defaultValue.isValid())
                out.insert(s.name, s.defaultValue);
            continue;
        }
        auto v = checkOne(s, it.value());
        if (!v)
            return v.error();
        out.insert(s.name, *v);
    }
    return out;
}

Expected<QJsonObject> parseModelJson(const QByteArray &bytes, const QString &format, int version)
{
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &perr);
    if (perr.error != QJsonParseError::NoError || !doc.isObject())
        return makeError(format + QStringLiteral(" model is not a JSON object: ") + perr.errorString());
    const QJsonObject o = doc.object();
    if (o.value(QStringLiteral("format")).toString() != format)
        return makeError(QStringLiteral("not a %1 model").arg(format), {}, -1, QStringLiteral("format"));
    if (o.value(QStringLiteral("version")).toInt() != version)
        return makeError(QStringLiteral("unsupported version"), {}, -1, QStringLiteral("version"));
    return o;
}

} // namespace keel::ml
