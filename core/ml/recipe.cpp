#include "ml/recipe.h"

#include "data/calendar.h"
#include "util/yaml.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace keel::ml {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr qint64 kCancelStride = qint64(1) << 16;
constexpr int kDefaultMaxCategories = 50;
constexpr int kAutoClassMaxDistinct = 20;

const QString kOther = QStringLiteral("(other)");

using yaml::fromStd;
using yaml::toStd;
QString fromView(std::string_view s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }
QString shortest(double d) { return QString::number(d, 'g', QLocale::FloatingPointShortest); }

Error fieldError(const QString &field, const QString &message) { return makeError(message, {}, -1, field); }

// ---------------------------------------------------------------------------------------------------------------
// Names of enum values

QString imputeName(ImputeKind k, const QString &constant)
{
    switch (k) {
    case ImputeKind::None: return QStringLiteral("none");
    case ImputeKind::Mean: return QStringLiteral("mean");
    case ImputeKind::Median: return QStringLiteral("median");
    case ImputeKind::MostFrequent: return QStringLiteral("most_frequent");
    case ImputeKind::Constant: return QStringLiteral("constant:") + constant;
    }
    return {};
}

const std::vector<DatePart> &allDateParts()
{
    static const std::vector<DatePart> parts{DatePart::Year, DatePart::Month,   DatePart::Day,
                                             DatePart::Weekday, DatePart::Hour, DatePart::DayOfYear};
    return parts;
}

std::optional<DatePart> datePartFromName(const QString &s)
{
    for (DatePart p : allDateParts())
        if (datePartName(p) == s)
            return p;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON value readers (shared by the JSON and YAML forms: YAML is converted to JSON first, scalars as strings)

Expected<QString> readString(const QJsonValue &v, const QString &field)
{
    if (v.isString())
        return v.toString();
    if (v.isDouble())
        return shortest(v.toDouble());
    if (v.isBool())
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    return fieldError(field, QStringLiteral("expected a text value"));
}

Expected<double> readDouble(const QJsonValue &v, const QString &field)
{
    if (v.isDouble())
        return v.toDouble();
    if (v.isString()) {
        const QString t = v.toString().trimmed();
        if (t == u"nan")
            return kNaN;
        if (t == u"inf" || t == u".inf")
            return std::numeric_limits<double>::infinity();
        if (t == u"-inf" || t == u"-.inf")
            return -std::numeric_limits<double>::infinity();
        bool ok = false;
        const double d = t.toDouble(&ok);
        if (ok)
            return d;
    }
    return fieldError(field, QStringLiteral("expected a number"));
}

QJsonValue writeDouble(double d)
{
    if (std::isnan(d))
        return QStringLiteral("nan");
    if (std::isinf(d))
        return d > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    return d;
}

Expected<bool> readBool(const QJsonValue &v, const QString &field)
{
    if (v.isBool())
        return v.toBool();
    if (v.isString()) {
        const QString t = v.toString().trimmed().toLower();
        if (t == u"true" || t == u"yes" || t == u"on")
            return true;
        if (t == u"false" || t == u"no" || t == u"off")
            return false;
    }
    return fieldError(field, QStringLiteral("expected true or false"));
}

Expected<int> readInt(const QJsonValue &v, const QString &field)
{
    auto d = readDouble(v, field);
    if (!d || std::floor(*d) != *d || std::fabs(*d) > 2e9)
        return fieldError(field, QStringLiteral("expected an integer"));
    return int(*d);
}

Expected<QStringList> readStringList(const QJsonValue &v, const QString &field)
{
    if (!v.isArray())
        return fieldError(field, QStringLiteral("expected a list"));
    QStringList out;
    const QJsonArray a = v.toArray();
    for (qsizetype i = 0; i < a.size(); ++i) {
        auto s = readString(a.at(i), field + QLatin1Char('.') + QString::number(i));
        if (!s)
            return s.error();
        out.append(*s);
    }
    return out;
}

Expected<QJsonObject> readObject(const QJsonValue &v, const QString &field)
{
    if (!v.isObject())
        return fieldError(field, QStringLiteral("expected a mapping"));
    return v.toObject();
}

Status checkKeys(const QJsonObject &o, const QString &path, std::initializer_list<const char *> known)
{
    for (auto it = o.begin(); it != o.end(); ++it) {
        bool ok = false;
        QStringList names;
        for (const char *k : known) {
            names.append(QLatin1String(k));
            ok = ok || it.key() == QLatin1String(k);
        }
        if (!ok)
            return fieldError(path.isEmpty() ? it.key() : path + QLatin1Char('.') + it.key(),
                              QStringLiteral("unknown key (known: %1)").arg(names.join(QStringLiteral(", "))));
    }
    return {};
}

QString join(const QString &path, const QString &key) { return path.isEmpty() ? key : path + QLatin1Char('.') + key; }

// ---------------------------------------------------------------------------------------------------------------
// StepSpec <-> JSON

Expected<StepSpec> stepFromJson(const QJsonObject &o, const QString &path)
{
    if (Status s = checkKeys(o, path, {"impute", "missing_indicator", "encode", "max_categories", "scale", "log", "clip",
                                       "date_parts"});
        !s)
        return s.error();
    StepSpec st;
    if (o.contains(QLatin1String("impute"))) {
        const QString f = join(path, QStringLiteral("impute"));
        auto v = readString(o.value(QLatin1String("impute")), f);
        if (!v)
            return v.error();
        const QString t = v->trimmed();
        if (t == u"none")
            st.impute = ImputeKind::None;
        else if (t == u"mean")
            st.impute = ImputeKind::Mean;
        else if (t == u"median")
            st.impute = ImputeKind::Median;
        else if (t == u"most_frequent")
            st.impute = ImputeKind::MostFrequent;
        else if (t.startsWith(QLatin1String("constant:"))) {
            st.impute = ImputeKind::Constant;
            st.imputeConstant = t.mid(9);
        } else
            return fieldError(f, QStringLiteral("'%1' is not one of none, mean, median, most_frequent, constant:<value>").arg(t));
    }
    if (o.contains(QLatin1String("missing_indicator"))) {
        auto v = readBool(o.value(QLatin1String("missing_indicator")), join(path, QStringLiteral("missing_indicator")));
        if (!v)
            return v.error();
        st.missingIndicator = *v;
    }
    if (o.contains(QLatin1String("encode"))) {
        const QString f = join(path, QStringLiteral("encode"));
        auto v = readString(o.value(QLatin1String("encode")), f);
        if (!v)
            return v.error();
        if (*v == u"onehot")
            st.encode = EncodeKind::OneHot;
        else if (*v == u"ordinal")
            st.encode = EncodeKind::Ordinal;
        else
            return fieldError(f, QStringLiteral("'%1' is not one of onehot, ordinal").arg(*v));
    }
    if (o.contains(QLatin1String("max_categories"))) {
        const QString f = join(path, QStringLiteral("max_categories"));
        auto v = readInt(o.value(QLatin1String("max_categories")), f);
        if (!v)
            return v.error();
        if (*v < 1)
            return fieldError(f, QStringLiteral("must be at least 1"));
        st.maxCategories = *v;
    }
    if (o.contains(QLatin1String("scale"))) {
        const QString f = join(path, QStringLiteral("scale"));
        auto v = readString(o.value(QLatin1String("scale")), f);
        if (!v)
            return v.error();
        if (*v == u"none")
            st.scale = ScaleKind::None;
        else if (*v == u"standard")
            st.scale = ScaleKind::Standard;
        else
            return fieldError(f, QStringLiteral("'%1' is not one of none, standard").arg(*v));
    }
    if (o.contains(QLatin1String("log"))) {
        auto v = readBool(o.value(QLatin1String("log")), join(path, QStringLiteral("log")));
        if (!v)
            return v.error();
        st.log = *v;
    }
    if (o.contains(QLatin1String("clip"))) {
        const QString f = join(path, QStringLiteral("clip"));
        auto c = readObject(o.value(QLatin1String("clip")), f);
        if (!c)
            return c.error();
        if (Status s = checkKeys(*c, f, {"min", "max"}); !s)
            return s.error();
        if (c->contains(QLatin1String("min"))) {
            auto v = readDouble(c->value(QLatin1String("min")), join(f, QStringLiteral("min")));
            if (!v)
                return v.error();
            st.clipMin = *v;
        }
        if (c->contains(QLatin1String("max"))) {
            auto v = readDouble(c->value(QLatin1String("max")), join(f, QStringLiteral("max")));
            if (!v)
                return v.error();
            st.clipMax = *v;
        }
        if (st.clipMin && st.clipMax && *st.clipMin > *st.clipMax)
            return fieldError(f, QStringLiteral("min is greater than max"));
    }
    if (o.contains(QLatin1String("date_parts"))) {
        const QString f = join(path, QStringLiteral("date_parts"));
        auto v = readStringList(o.value(QLatin1String("date_parts")), f);
        if (!v)
            return v.error();
        std::vector<DatePart> parts;
        for (const QString &n : *v) {
            auto p = datePartFromName(n);
            if (!p)
                return fieldError(f, QStringLiteral("'%1' is not one of year, month, day, weekday, hour, dayofyear").arg(n));
            parts.push_back(*p);
        }
        if (parts.empty())
            return fieldError(f, QStringLiteral("needs at least one part"));
        st.dateParts = parts;
    }
    return st;
}

QJsonObject stepToJson(const StepSpec &st)
{
    QJsonObject o;
    if (st.impute)
        o.insert(QStringLiteral("impute"), imputeName(*st.impute, st.imputeConstant));
    if (st.missingIndicator)
        o.insert(QStringLiteral("missing_indicator"), *st.missingIndicator);
    if (st.encode)
        o.insert(QStringLiteral("encode"), *st.encode == EncodeKind::OneHot ? QStringLiteral("onehot") : QStringLiteral("ordinal"));
    if (st.maxCategories)
        o.insert(QStringLiteral("max_categories"), *st.maxCategories);
    if (st.scale)
        o.insert(QStringLiteral("scale"), *st.scale == ScaleKind::Standard ? QStringLiteral("standard") : QStringLiteral("none"));
    if (st.log)
        o.insert(QStringLiteral("log"), *st.log);
    if (st.clipMin || st.clipMax) {
        QJsonObject c;
        if (st.clipMin)
            c.insert(QStringLiteral("min"), writeDouble(*st.clipMin));
        if (st.clipMax)
            c.insert(QStringLiteral("max"), writeDouble(*st.clipMax));
        o.insert(QStringLiteral("clip"), c);
    }
    if (st.dateParts) {
        QJsonArray a;
        for (DatePart p : *st.dateParts)
            a.append(datePartName(p));
        o.insert(QStringLiteral("date_parts"), a);
    }
    return o;
}

StepSpec merged(const StepSpec &column, const StepSpec &defaults)
{
    StepSpec s = column;
    if (!s.impute) {
        s.impute = defaults.impute;
        s.imputeConstant = defaults.imputeConstant;
    }
    if (!s.missingIndicator)
        s.missingIndicator = defaults.missingIndicator;
    if (!s.encode)
        s.encode = defaults.encode;
    if (!s.maxCategories)
        s.maxCategories = defaults.maxCategories;
    if (!s.scale)
        s.scale = defaults.scale;
    if (!s.log)
        s.log = defaults.log;
    if (!s.clipMin && !s.clipMax) {
        s.clipMin = defaults.clipMin;
        s.clipMax = defaults.clipMax;
    }
    if (!s.dateParts)
        s.dateParts = defaults.dateParts;
    return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Dates (proleptic Gregorian, UTC): data/calendar.h

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0 && ((a < 0) != (b < 0))) ? 1 : 0); }

double datePart(int64_t ms, DatePart part)
{
    constexpr int64_t msPerDay = 86400000;
    const int64_t days = floorDiv(ms, msPerDay);
    switch (part) {
    case DatePart::Hour: return double((ms - days * msPerDay) / 3600000);
    case DatePart::Weekday: return double(((days + 3) % 7 + 7) % 7); // 1970-01-01 was a Thursday (3)
    default: break;
    }
    const data::CivilDate c = data::civilFromDays(days);
    switch (part) {
    case DatePart::Year: return double(c.year);
    case DatePart::Month: return double(c.month);
    case DatePart::Day: return double(c.day);
    case DatePart::DayOfYear: return double(days - data::daysFromCivil(c.year, 1, 1) + 1);
    default: return kNaN;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Per-value transforms shared by fit and transform

bool numericType(data::ColumnType t)
{
    return t == data::ColumnType::Int64 || t == data::ColumnType::Float64 || t == data::ColumnType::Bool;
}

double rawNumber(const data::Column &c, qint64 row) { return c.isNull(row) ? kNaN : c.numberAt(row); }

double preImpute(const Recipe::NumericOutput &o, double x)
{
    if (std::isnan(x))
        return x;
    if (o.clipMin && x < *o.clipMin)
        x = *o.clipMin;
    if (o.clipMax && x > *o.clipMax)
        x = *o.clipMax;
    if (o.log)
        x = x > -1 ? std::log1p(x) : kNaN;
    return x;
}

double postImpute(const Recipe::NumericOutput &o, double x)
{
    if (std::isnan(x) && o.hasFill)
        x = o.fill;
    if (o.scale && !std::isnan(x))
        x = (x - o.mean) / o.scaleBy;
    return x;
}

QString categoryText(const data::Column &c, qint64 row)
{
    if (c.type() == data::ColumnType::Categorical || c.type() == data::ColumnType::String)
        return fromView(c.stringAt(row));
    return c.displayAt(row);
}

// Numeric statistic over the non-missing values; nullopt when there are none.
std::optional<double> statistic(ImputeKind kind, std::vector<double> v)
{
    if (v.empty())
        return std::nullopt;
    switch (kind) {
    case ImputeKind::Mean: {
        double sum = 0;
        for (double x : v)
            sum += x;
        return sum / double(v.size());
    }
    case ImputeKind::Median: {
        std::sort(v.begin(), v.end());
        const size_t n = v.size();
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
    case ImputeKind::MostFrequent: {
        std::sort(v.begin(), v.end());
        double best = v[0];
        size_t bestCount = 0;
        for (size_t i = 0; i < v.size();) {
            size_t j = i;
            while (j < v.size() && v[j] == v[i])
                ++j;
            if (j - i > bestCount) { // strictly greater: the smallest value wins ties
                bestCount = j - i;
                best = v[i];
            }
            i = j;
        }
        return best;
    }
    default: return std::nullopt;
    }
}

// Fits imputation and scaling of one numeric output from its pre-imputation training values (NaN = missing).
Status fitNumeric(Recipe::NumericOutput &o, const std::vector<double> &pre, const StepSpec &st, const QString &name)
{
    const ImputeKind kind = st.impute.value_or(ImputeKind::Median);
    std::vector<double> present;
    present.reserve(pre.size());
    for (double x : pre)
        if (!std::isnan(x))
            present.push_back(x);
    if (kind == ImputeKind::Constant) {
        bool ok = false;
        o.fill = st.imputeConstant.trimmed().toDouble(&ok);
        if (!ok)
            return fieldError(QStringLiteral("columns.") + name, QStringLiteral("'%1': impute constant '%2' is not a number").arg(name, st.imputeConstant));
        o.hasFill = true;
    } else if (kind != ImputeKind::None) {
        const auto s = statistic(kind, present);
        if (!s)
            return fieldError(QStringLiteral("columns.") + name, QStringLiteral("'%1': no training values to impute from").arg(name));
        o.fill = *s;
        o.hasFill = true;
    }
    if (st.scale.value_or(ScaleKind::None) == ScaleKind::Standard) {
        o.scale = true;
        double sum = 0;
        qint64 n = 0;
        for (double x : pre) {
            const double v = std::isnan(x) && o.hasFill ? o.fill : x;
            if (!std::isnan(v)) {
                sum += v;
                ++n;
            }
        }
        o.mean = n > 0 ? sum / double(n) : 0;
        double ss = 0;
        for (double x : pre) {
            const double v = std::isnan(x) && o.hasFill ? o.fill : x;
            if (!std::isnan(v))
                ss += (v - o.mean) * (v - o.mean);
        }
        const double sd = n > 0 ? std::sqrt(ss / double(n)) : 0;
        o.scaleBy = sd > 0 && std::isfinite(sd) ? sd : 1;
    }
    return {};
}

QString kindName(Recipe::Feature::Kind k)
{
    switch (k) {
    case Recipe::Feature::Kind::Numeric: return QStringLiteral("numeric");
    case Recipe::Feature::Kind::Categorical: return QStringLiteral("categorical");
    case Recipe::Feature::Kind::Datetime: return QStringLiteral("datetime");
    }
    return {};
}

enum class TargetMode { Auto, Regression, Classification, Binary, Multiclass };

Expected<TargetMode> targetModeFromName(const QString &s)
{
    if (s == u"auto")
        return TargetMode::Auto;
    if (s == u"regression")
        return TargetMode::Regression;
    if (s == u"classification")
        return TargetMode::Classification;
    if (s == u"binary")
        return TargetMode::Binary;
    if (s == u"multiclass")
        return TargetMode::Multiclass;
    return fieldError(QStringLiteral("task"),
                      QStringLiteral("'%1' is not one of auto, regression, classification, binary, multiclass").arg(s));
}

Expected<Target> makeTargetImpl(const data::Table &t, const QString &column, TargetMode mode, const QStringList &classes,
                                const QMap<QString, QString> &labelMap)
{
    const int ci = t.indexOf(column);
    if (ci < 0)
        return fieldError(QStringLiteral("target"), QStringLiteral("no column '%1' in the table").arg(column));
    const data::Column &c = t.column(ci);
    const qint64 rows = t.rowCount();
    for (qint64 r = 0; r < rows; ++r)
        if (c.isNull(r) || (c.type() == data::ColumnType::Float64 && std::isnan(c.float64At(r))))
            return fieldError(QStringLiteral("target"), QStringLiteral("row %1: missing value in target column '%2'").arg(r + 1).arg(column));
    if (c.type() == data::ColumnType::Datetime)
        return fieldError(QStringLiteral("target"), QStringLiteral("'%1' is a datetime column, which cannot be a target").arg(column));

    const bool numeric = numericType(c.type());
    if (mode == TargetMode::Auto) {
        mode = TargetMode::Classification;
        if (c.type() == data::ColumnType::Int64 || c.type() == data::ColumnType::Float64) {
            QSet<double> distinct;
            bool integral = true;
            for (qint64 r = 0; r < rows && integral && distinct.size() <= kAutoClassMaxDistinct; ++r) {
                const double v = c.numberAt(r);
                integral = std::floor(v) == v;
                distinct.insert(v);
            }
            if (!integral || distinct.size() > kAutoClassMaxDistinct)
                mode = TargetMode::Regression;
        }
    }
    Target out;
    if (mode == TargetMode::Regression) {
        if (!numeric)
            return fieldError(QStringLiteral("target"), QStringLiteral("a regression target must be numeric; '%1' is %2").arg(column, data::columnTypeName(c.type())));
        out.task = Task::Regression;
        out.values.resize(size_t(rows));
        for (qint64 r = 0; r < rows; ++r)
            out.values[size_t(r)] = c.numberAt(r);
        return out;
    }

    std::vector<QString> labels(static_cast<size_t>(rows));
    for (qint64 r = 0; r < rows; ++r) {
        QString l = c.type() == data::ColumnType::Bool ? (c.boolAt(r) ? QStringLiteral("true") : QStringLiteral("false"))
                                                       : categoryText(c, r);
        const auto m = labelMap.constFind(l);
        labels[size_t(r)] = m == labelMap.cend() ? std::move(l) : m.value();
    }
    QStringList cls = classes;
    if (cls.isEmpty()) {
        QSet<QString> seen(labels.begin(), labels.end());
        cls = QStringList(seen.begin(), seen.end());
        bool allNumbers = numeric;
        for (const QString &s : std::as_const(cls)) {
            bool ok = false;
            s.toDouble(&ok);
            allNumbers = allNumbers && ok;
        }
        if (allNumbers && c.type() != data::ColumnType::Bool)
            std::sort(cls.begin(), cls.end(), [](const QString &a, const QString &b) {
                return a.toDouble() < b.toDouble() || (a.toDouble() == b.toDouble() && a < b);
            });
        else
            std::sort(cls.begin(), cls.end());
    }
    if (cls.size() < 2)
        return fieldError(QStringLiteral("target"), QStringLiteral("a classification target needs at least 2 classes; '%1' has %2").arg(column).arg(cls.size()));
    if (mode == TargetMode::Binary && cls.size() != 2)
        return fieldError(QStringLiteral("target"), QStringLiteral("a binary target needs exactly 2 classes; '%1' has %2").arg(column).arg(cls.size()));
    QHash<QString, int> index;
    for (int i = 0; i < cls.size(); ++i)
        index.insert(cls[i], i);
    out.values.resize(size_t(rows));
    for (qint64 r = 0; r < rows; ++r) {
        const auto it = index.constFind(labels[size_t(r)]);
        if (it == index.cend())
            return fieldError(column, QStringLiteral("row %1: label '%2' is not one of the classes (%3)")
                                          .arg(r + 1)
                                          .arg(labels[size_t(r)], cls.join(QStringLiteral(", "))));
        out.values[size_t(r)] = it.value();
    }
    out.classes = cls;
    out.task = mode == TargetMode::Multiclass || (mode != TargetMode::Binary && cls.size() > 2)
                   ? Task::MulticlassClassification
                   : Task::BinaryClassification;
    return out;
}

void rebuildIndex(Recipe::Feature &f)
{
    f.index.clear();
    for (int i = 0; i < f.categories.size(); ++i)
        f.index.emplace(f.categories[i].toStdString(), i);
}

} // namespace

QString datePartName(DatePart p)
{
    switch (p) {
    case DatePart::Year: return QStringLiteral("year");
    case DatePart::Month: return QStringLiteral("month");
    case DatePart::Day: return QStringLiteral("day");
    case DatePart::Weekday: return QStringLiteral("weekday");
    case DatePart::Hour: return QStringLiteral("hour");
    case DatePart::DayOfYear: return QStringLiteral("dayofyear");
    }
    return {};
}

// ---------------------------------------------------------------------------------------------------------------
// RecipeSpec

QJsonObject RecipeSpec::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("target"), target);
    o.insert(QStringLiteral("task"), task);
    if (!classes.isEmpty())
        o.insert(QStringLiteral("classes"), QJsonArray::fromStringList(classes));
    if (!features.isEmpty())
        o.insert(QStringLiteral("features"), QJsonArray::fromStringList(features));
    if (!exclude.isEmpty())
        o.insert(QStringLiteral("exclude"), QJsonArray::fromStringList(exclude));
    if (!labelMap.isEmpty()) {
        QJsonObject m;
        for (auto it = labelMap.cbegin(); it != labelMap.cend(); ++it)
            m.insert(it.key(), it.value());
        o.insert(QStringLiteral("label_map"), m);
    }
    const QJsonObject d = stepToJson(defaults);
    if (!d.isEmpty())
        o.insert(QStringLiteral("defaults"), d);
    if (!columns.isEmpty()) {
        QJsonObject cols;
        for (auto it = columns.cbegin(); it != columns.cend(); ++it)
            cols.insert(it.key(), stepToJson(it.value()));
        o.insert(QStringLiteral("columns"), cols);
    }
    if (!derived.empty()) {
        QJsonArray a;
        for (const DerivedSpec &d2 : derived)
            a.append(QString(d2.name + QStringLiteral(" = ") + d2.expression));
        o.insert(QStringLiteral("derived"), a);
    }
    return o;
}

Expected<RecipeSpec> RecipeSpec::fromJson(const QJsonObject &o)
{
    if (Status s = checkKeys(o, {}, {"target", "task", "classes", "features", "exclude", "label_map", "defaults",
                                     "columns", "derived"});
        !s)
        return s.error();
    RecipeSpec spec;
    if (!o.contains(QLatin1String("target")))
        return fieldError(QStringLiteral("target"), QStringLiteral("the target column is required"));
    auto target = readString(o.value(QLatin1String("target")), QStringLiteral("target"));
    if (!target)
        return target.error();
    if (target->isEmpty())
        return fieldError(QStringLiteral("target"), QStringLiteral("the target column is required"));
    spec.target = *target;
    if (o.contains(QLatin1String("task"))) {
        auto task = readString(o.value(QLatin1String("task")), QStringLiteral("task"));
        if (!task)
            return task.error();
        if (auto m = targetModeFromName(*task); !m)
            return m.error();
        spec.task = *task;
    }
    const auto list = [&](const char *key, QStringList &out) -> Status {
        if (!o.contains(QLatin1String(key)))
            return {};
        auto v = readStringList(o.value(QLatin1String(key)), QLatin1String(key));
        if (!v)
            return v.error();
        out = *v;
        return {};
    };
    if (Status s = list("classes", spec.classes); !s)
        return s.error();
    if (Status s = list("features", spec.features); !s)
        return s.error();
    if (o.contains(QLatin1String("features")) && spec.features.isEmpty())
        return fieldError(QStringLiteral("features"), QStringLiteral("an empty list selects no feature at all; leave "
                                                                     "'features' out to use every column but the target"));
    if (Status s = list("exclude", spec.exclude); !s)
        return s.error();
    if (o.contains(QLatin1String("label_map"))) {
        auto m = readObject(o.value(QLatin1String("label_map")), QStringLiteral("label_map"));
        if (!m)
            return m.error();
        for (auto it = m->begin(); it != m->end(); ++it) {
            auto v = readString(it.value(), QStringLiteral("label_map.") + it.key());
            if (!v)
                return v.error();
            spec.labelMap.insert(it.key(), *v);
        }
    }
    if (o.contains(QLatin1String("defaults"))) {
        auto d = readObject(o.value(QLatin1String("defaults")), QStringLiteral("defaults"));
        if (!d)
            return d.error();
        auto st = stepFromJson(*d, QStringLiteral("defaults"));
        if (!st)
            return st.error();
        spec.defaults = *st;
    }
    if (o.contains(QLatin1String("columns"))) {
        auto cols = readObject(o.value(QLatin1String("columns")), QStringLiteral("columns"));
        if (!cols)
            return cols.error();
        for (auto it = cols->begin(); it != cols->end(); ++it) {
            const QString path = QStringLiteral("columns.") + it.key();
            auto c = readObject(it.value(), path);
            if (!c)
                return c.error();
            auto st = stepFromJson(*c, path);
            if (!st)
                return st.error();
            spec.columns.insert(it.key(), *st);
        }
    }
    if (o.contains(QLatin1String("derived"))) {
        auto defs = readStringList(o.value(QLatin1String("derived")), QStringLiteral("derived"));
        if (!defs)
            return defs.error();
        for (int i = 0; i < defs->size(); ++i) {
            const QString field = QStringLiteral("derived.") + QString::number(i);
            auto parts = splitDerivedDefinition(defs->at(i));
            if (!parts)
                return fieldError(field, parts.error().message);
            if (auto e = Expression::parse(parts->second); !e)
                return fieldError(field, e.error().message);
            spec.derived.push_back({parts->first, parts->second});
        }
    }
    return spec;
}

Expected<RecipeSpec> RecipeSpec::fromYaml(const QString &yaml, const QString &sourceName)
{
    auto parsed = yaml::parseAsJson(yaml.toUtf8(), sourceName);
    if (!parsed)
        return parsed.error();
    if (!parsed->root.isObject())
        return makeError(QStringLiteral("a recipe must be a mapping with at least 'target'"), sourceName, 1);
    const QJsonValue &root = parsed->root;
    auto spec = fromJson(root.toObject());
    if (spec)
        return spec;
    Error e = spec.error();
    e.file = sourceName;
    e.line = yaml::lineOfField(parsed->lines, e.field);   // the field's line, or its nearest enclosing field's
    return e;
}

QString RecipeSpec::toYaml() const
{
    return QString::fromUtf8(yaml::emitJson(toJson()));
}

// ---------------------------------------------------------------------------------------------------------------
// makeTarget

Expected<Target> makeTarget(const data::Table &t, const QString &column, std::optional<Task> task,
                            const QStringList &classes, const QMap<QString, QString> &labelMap)
{
    TargetMode mode = TargetMode::Auto;
    if (task)
        mode = *task == Task::Regression ? TargetMode::Regression
               : *task == Task::BinaryClassification ? TargetMode::Binary
                                                     : TargetMode::Multiclass;
    else if (!classes.isEmpty())
        mode = TargetMode::Classification;
    return makeTargetImpl(t, column, mode, classes, labelMap);
}

// ---------------------------------------------------------------------------------------------------------------
// Recipe: fit

Expected<Recipe> Recipe::fit(const data::Table &train, const RecipeSpec &spec, Feedback *feedback)
{
    Recipe r;
    r.m_spec = spec;
    if (train.indexOf(spec.target) < 0)
        return fieldError(QStringLiteral("target"), QStringLiteral("no column '%1' in the training table").arg(spec.target));
    auto mode = targetModeFromName(spec.task);
    if (!mode)
        return mode.error();
    auto target = makeTargetImpl(train, spec.target, *mode, spec.classes, spec.labelMap);
    if (!target)
        return target.error();
    r.m_task = target->task;
    r.m_classes = target->classes;

    for (const QString &x : spec.exclude)
        if (train.indexOf(x) < 0)
            return fieldError(QStringLiteral("exclude"), QStringLiteral("no column '%1' in the training table").arg(x));
    QStringList inputs = spec.features;
    if (inputs.isEmpty()) {
        for (const QString &name : train.columnNames())
            if (name != spec.target && !spec.exclude.contains(name))
                inputs.append(name);
    }
    if (inputs.isEmpty() && spec.derived.empty())
        return fieldError(spec.features.isEmpty() ? QStringLiteral("exclude") : QStringLiteral("features"),
                          QStringLiteral("no feature columns are left to train on (every column but the target '%1' is "
                                         "excluded)").arg(spec.target));
    QSet<QString> names;
    for (const QString &name : std::as_const(inputs)) {
        if (train.indexOf(name) < 0)
            return fieldError(QStringLiteral("features"), QStringLiteral("no column '%1' in the training table").arg(name));
        if (name == spec.target)
            return fieldError(QStringLiteral("features"), QStringLiteral("'%1' is the target; it cannot also be a feature").arg(name));
        if (names.contains(name))
            return fieldError(QStringLiteral("features"), QStringLiteral("'%1' is listed twice").arg(name));
        names.insert(name);
    }
    for (size_t i = 0; i < spec.derived.size(); ++i) {
        const DerivedSpec &d = spec.derived[i];
        if (names.contains(d.name) || train.indexOf(d.name) >= 0)
            return fieldError(QStringLiteral("derived"), QStringLiteral("'%1' is already the name of a column").arg(d.name));
        auto e = Expression::parse(d.expression);
        if (!e)
            return fieldError(QStringLiteral("derived"), QStringLiteral("'%1': %2").arg(d.name, e.error().message));
        for (const QString &ref : e->columns()) {
            const int ci = train.indexOf(ref);
            if (ci < 0)
                return fieldError(QStringLiteral("derived"), QStringLiteral("'%1' reads column '%2', which does not exist").arg(d.name, ref));
            if (ref == spec.target)
                return fieldError(QStringLiteral("derived"), QStringLiteral("'%1' reads the target column '%2'").arg(d.name, ref));
            if (!data::isNumericType(train.column(ci).type()))
                return fieldError(QStringLiteral("derived"), QStringLiteral("'%1' reads column '%2', which is %3, not numeric")
                                              .arg(d.name, ref, data::columnTypeName(train.column(ci).type())));
        }
        names.insert(d.name);
        r.m_expressions.push_back(std::move(*e));
    }
    for (auto it = spec.columns.cbegin(); it != spec.columns.cend(); ++it)
        if (!names.contains(it.key()))
            return fieldError(QStringLiteral("columns.") + it.key(), QStringLiteral("not a feature or derived column"));

    const qint64 rows = train.rowCount();
    const qint64 total = qint64(inputs.size() + qsizetype(spec.derived.size()));
    qint64 done = 0;
    const auto fitOne = [&](const QString &name, int derived) -> Status {
        if (isCancelled(feedback))
            return cancelledError();
        reportProgress(feedback, done++, total, QStringLiteral("fit recipe"));
        const StepSpec st = merged(spec.columns.value(name), spec.defaults);
        Feature f;
        f.name = name;
        f.derived = derived;
        f.indicator = st.missingIndicator.value_or(false);
        std::vector<double> raw;
        const data::Column *col = derived >= 0 ? nullptr : &train.column(train.indexOf(name));
        const data::ColumnType type = col ? col->type() : data::ColumnType::Float64;
        if (numericType(type)) {
            f.kind = Feature::Kind::Numeric;
            raw.resize(size_t(rows));
            if (col) {
                for (qint64 row = 0; row < rows; ++row)
                    raw[size_t(row)] = rawNumber(*col, row);
            } else {
                const Expression &e = r.m_expressions[size_t(derived)];
                std::vector<int> refs;
                for (const QString &ref : e.columns())
                    refs.push_back(train.indexOf(ref));
                std::vector<double> args(refs.size());
                for (qint64 row = 0; row < rows; ++row) {
                    for (size_t k = 0; k < refs.size(); ++k)
                        args[k] = rawNumber(train.column(refs[k]), row);
                    raw[size_t(row)] = e.evaluate(args);
                }
            }
            NumericOutput o;
            o.clipMin = st.clipMin;
            o.clipMax = st.clipMax;
            o.log = st.log.value_or(false);
            std::vector<double> pre(raw.size());
            for (size_t k = 0; k < raw.size(); ++k)
                pre[k] = preImpute(o, raw[k]);
            if (Status s = fitNumeric(o, pre, st, name); !s)
                return s;
            f.numeric.push_back(o);
        } else if (type == data::ColumnType::Datetime) {
            f.kind = Feature::Kind::Datetime;
            const std::vector<DatePart> parts = st.dateParts.value_or(
                std::vector<DatePart>{DatePart::Year, DatePart::Month, DatePart::Day, DatePart::Weekday});
            for (DatePart p : parts) {
                NumericOutput o;
                o.part = p;
                std::vector<double> pre(static_cast<size_t>(rows));
                for (qint64 row = 0; row < rows; ++row)
                    pre[size_t(row)] = col->isNull(row) ? kNaN : datePart(col->datetimeAt(row), p);
                if (Status s = fitNumeric(o, pre, st, name); !s)
                    return s;
                f.numeric.push_back(o);
            }
        } else {
            f.kind = Feature::Kind::Categorical;
            f.encode = st.encode.value_or(EncodeKind::OneHot);
            const ImputeKind kind = st.impute.value_or(ImputeKind::MostFrequent);
            if (kind == ImputeKind::Mean || kind == ImputeKind::Median)
                return fieldError(QStringLiteral("columns.") + name, QStringLiteral("'%1': impute '%2' needs a numeric column").arg(name, imputeName(kind, {})));
            QHash<QString, qint64> counts;
            qint64 missing = 0;
            for (qint64 row = 0; row < rows; ++row) {
                if (col->isNull(row))
                    ++missing;
                else
                    ++counts[categoryText(*col, row)];
            }
            const auto byCount = [&](const QString &a, const QString &b) {
                const qint64 ca = counts.value(a), cb = counts.value(b);
                return ca != cb ? ca > cb : a < b;
            };
            if (kind == ImputeKind::MostFrequent) {
                if (counts.isEmpty())
                    return fieldError(QStringLiteral("columns.") + name, QStringLiteral("'%1': no training values to impute from").arg(name));
                QStringList keys = counts.keys();
                f.fillCategory = *std::min_element(keys.begin(), keys.end(), byCount);
                f.hasFill = true;
            } else if (kind == ImputeKind::Constant) {
                f.fillCategory = st.imputeConstant;
                f.hasFill = true;
            }
            if (f.hasFill && missing > 0)
                counts[f.fillCategory] += missing;
            QStringList all = counts.keys();
            if (f.encode == EncodeKind::OneHot) {
                const int maxCategories = st.maxCategories.value_or(kDefaultMaxCategories);
                std::sort(all.begin(), all.end(), byCount);
                if (all.size() > maxCategories) {
                    all = all.mid(0, maxCategories);
                    f.other = true;
                }
            }
            std::sort(all.begin(), all.end());
            f.categories = all;
            rebuildIndex(f);
        }
        r.m_features.push_back(std::move(f));
        return {};
    };
    for (const QString &name : std::as_const(inputs))
        if (Status s = fitOne(name, -1); !s)
            return s.error();
    for (size_t i = 0; i < spec.derived.size(); ++i)
        if (Status s = fitOne(spec.derived[i].name, int(i)); !s)
            return s.error();
    reportProgress(feedback, total, total, QStringLiteral("fit recipe"));
    r.rebuildColumnNames();
    return r;
}

void Recipe::rebuildColumnNames()
{
    m_columnNames.clear();
    m_sourceFeature.clear();
    for (size_t i = 0; i < m_features.size(); ++i) {
        const Feature &f = m_features[i];
        const auto add = [&](const QString &n) {
            m_columnNames.append(n);
            m_sourceFeature.push_back(int(i));
        };
        switch (f.kind) {
        case Feature::Kind::Numeric: add(f.name); break;
        case Feature::Kind::Datetime:
            for (const NumericOutput &o : f.numeric)
                add(f.name + QLatin1Char('.') + datePartName(o.part.value_or(DatePart::Year)));
            break;
        case Feature::Kind::Categorical:
            if (f.encode == EncodeKind::Ordinal) {
                add(f.name);
            } else {
                for (const QString &c : f.categories)
                    add(f.name + QLatin1Char('=') + c);
                if (f.other)
                    add(f.name + QLatin1Char('=') + kOther);
            }
            break;
        }
        if (f.indicator)
            add(f.name + QStringLiteral(".missing"));
    }
}

QStringList Recipe::featureNames() const
{
    QStringList out;
    for (const Feature &f : m_features)
        out.append(f.name);
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Recipe: transform

Status Recipe::transformInto(const data::Table &t, qint64 begin, qint64 end, float *out, Feedback *feedback) const
{
    const size_t cols = size_t(m_columnNames.size());
    const qint64 n = end - begin;
    std::vector<double> raw(static_cast<size_t>(n));
    int outCol = 0;
    qint64 step = 0;
    for (const Feature &f : m_features) {
        if (isCancelled(feedback))
            return cancelledError();
        reportProgress(feedback, step++, qint64(m_features.size()), QStringLiteral("transform"));
        const data::Column *col = nullptr;
        if (f.derived < 0) {
            const int ci = t.indexOf(f.name);
            if (ci < 0)
                return fieldError(f.name, QStringLiteral("column is missing from the input"));
            col = &t.column(ci);
            const data::ColumnType type = col->type();
            const bool ok = f.kind == Feature::Kind::Numeric    ? numericType(type)
                            : f.kind == Feature::Kind::Datetime ? type == data::ColumnType::Datetime
                                                                : type != data::ColumnType::Datetime;
            if (!ok)
                return fieldError(f.name, QStringLiteral("column is %1 but the recipe was fitted on a %2 column")
                                              .arg(data::columnTypeName(type), kindName(f.kind)));
        }
        const auto put = [&](qint64 i, int c, double v) { out[size_t(i) * cols + size_t(c)] = float(v); };

        // Raw values (NaN = missing) for numeric features, and the missing indicator source for all.
        std::vector<uint8_t> isMissing(size_t(n), 0);
        if (f.kind == Feature::Kind::Numeric) {
            if (col) {
                for (qint64 i = 0; i < n; ++i)
                    raw[size_t(i)] = rawNumber(*col, begin + i);
            } else {
                const Expression &e = m_expressions[size_t(f.derived)];
                std::vector<const data::Column *> refs;
                for (const QString &ref : e.columns()) {
                    const int ci = t.indexOf(ref);
                    if (ci < 0)
                        return fieldError(ref, QStringLiteral("column read by derived column '%1' is missing from the input").arg(f.name));
                    if (!data::isNumericType(t.column(ci).type()))
                        return fieldError(ref, QStringLiteral("column read by derived column '%1' is %2, not numeric")
                                                   .arg(f.name, data::columnTypeName(t.column(ci).type())));
                    refs.push_back(&t.column(ci));
                }
                std::vector<double> args(refs.size());
                for (qint64 i = 0; i < n; ++i) {
                    for (size_t k = 0; k < refs.size(); ++k)
                        args[k] = rawNumber(*refs[k], begin + i);
                    raw[size_t(i)] = e.evaluate(args);
                    if (i % kCancelStride == kCancelStride - 1 && isCancelled(feedback))
                        return cancelledError();
                }
            }
            const NumericOutput &o = f.numeric.front();
            for (qint64 i = 0; i < n; ++i) {
                isMissing[size_t(i)] = std::isnan(raw[size_t(i)]) ? 1 : 0;
                put(i, outCol, postImpute(o, preImpute(o, raw[size_t(i)])));
            }
            ++outCol;
        } else if (f.kind == Feature::Kind::Datetime) {
            for (qint64 i = 0; i < n; ++i)
                isMissing[size_t(i)] = col->isNull(begin + i) ? 1 : 0;
            for (const NumericOutput &o : f.numeric) {
                const DatePart p = o.part.value_or(DatePart::Year);
                for (qint64 i = 0; i < n; ++i) {
                    const double v = isMissing[size_t(i)] ? kNaN : datePart(col->datetimeAt(begin + i), p);
                    put(i, outCol, postImpute(o, v));
                }
                ++outCol;
            }
        } else {
            // Slot per row: >= 0 position in categories, -1 unseen, -2 missing and not imputed.
            const int fillSlot = f.hasFill ? f.slotOf(f.fillCategory.toStdString()) : -2;
            std::vector<int> dictSlot;
            if (col->type() == data::ColumnType::Categorical) {
                dictSlot.resize(size_t(col->dictionarySize()));
                for (qint64 k = 0; k < col->dictionarySize(); ++k)
                    dictSlot[size_t(k)] = f.slotOf(col->dictionaryAt(k));
            }
            const int width = f.encode == EncodeKind::Ordinal ? 1 : int(f.categories.size()) + (f.other ? 1 : 0);
            for (qint64 i = 0; i < n; ++i) {
                const qint64 row = begin + i;
                int slot;
                if (col->isNull(row)) {
                    isMissing[size_t(i)] = 1;
                    slot = fillSlot;
                } else if (!dictSlot.empty()) {
                    slot = dictSlot[size_t(col->codeAt(row))];
                } else {
                    slot = col->type() == data::ColumnType::String ? f.slotOf(col->stringAt(row))
                                                                   : f.slotOf(categoryText(*col, row).toStdString());
                }
                if (f.encode == EncodeKind::Ordinal) {
                    put(i, outCol, slot == -2 ? kNaN : double(slot));
                } else {
                    for (int k = 0; k < width; ++k)
                        put(i, outCol + k, 0.0);
                    if (slot >= 0)
                        put(i, outCol + slot, 1.0);
                    else if (slot == -1 && f.other)
                        put(i, outCol + width - 1, 1.0);
                }
                if (i % kCancelStride == kCancelStride - 1 && isCancelled(feedback))
                    return cancelledError();
            }
            outCol += width;
        }
        if (f.indicator) {
            for (qint64 i = 0; i < n; ++i)
                put(i, outCol, isMissing[size_t(i)] ? 1.0 : 0.0);
            ++outCol;
        }
    }
    reportProgress(feedback, qint64(m_features.size()), qint64(m_features.size()), QStringLiteral("transform"));
    return {};
}

Expected<DesignMatrix> Recipe::transform(const data::Table &t, Feedback *feedback) const
{
    DesignMatrix m;
    m.rows = t.rowCount();
    m.cols = int(m_columnNames.size());
    m.values.assign(size_t(m.rows) * size_t(m.cols), 0.0f);
    if (Status s = transformInto(t, 0, m.rows, m.values.data(), feedback); !s)
        return s.error();
    m.columnNames = m_columnNames;
    m.sourceFeature = m_sourceFeature;
    m.sourceFeatureNames = featureNames();
    return m;
}

Expected<std::vector<float>> Recipe::transformRow(const data::Table &t, qint64 row) const
{
    if (row < 0 || row >= t.rowCount())
        return makeError(QStringLiteral("row %1 is outside the table (%2 rows)").arg(row + 1).arg(t.rowCount()));
    std::vector<float> out(size_t(m_columnNames.size()), 0.0f);
    if (Status s = transformInto(t, row, row + 1, out.data(), nullptr); !s)
        return s.error();
    return out;
}

Expected<Target> Recipe::target(const data::Table &t) const
{
    const TargetMode mode = m_task == Task::Regression             ? TargetMode::Regression
                            : m_task == Task::BinaryClassification ? TargetMode::Binary
                                                                   : TargetMode::Multiclass;
    return makeTargetImpl(t, m_spec.target, mode, m_classes, m_spec.labelMap);
}

// ---------------------------------------------------------------------------------------------------------------
// Recipe: JSON

QJsonObject Recipe::toJson() const
{
    QJsonArray features;
    for (const Feature &f : m_features) {
        QJsonObject o;
        o.insert(QStringLiteral("name"), f.name);
        o.insert(QStringLiteral("kind"), kindName(f.kind));
        o.insert(QStringLiteral("derived"), f.derived);
        o.insert(QStringLiteral("indicator"), f.indicator);
        if (f.kind == Feature::Kind::Categorical) {
            o.insert(QStringLiteral("encode"), f.encode == EncodeKind::OneHot ? QStringLiteral("onehot") : QStringLiteral("ordinal"));
            o.insert(QStringLiteral("categories"), QJsonArray::fromStringList(f.categories));
            o.insert(QStringLiteral("other"), f.other);
            if (f.hasFill)
                o.insert(QStringLiteral("fill"), f.fillCategory);
        } else {
            QJsonArray outs;
            for (const NumericOutput &n : f.numeric) {
                QJsonObject no;
                if (n.part)
                    no.insert(QStringLiteral("part"), datePartName(*n.part));
                if (n.clipMin)
                    no.insert(QStringLiteral("clip_min"), writeDouble(*n.clipMin));
                if (n.clipMax)
                    no.insert(QStringLiteral("clip_max"), writeDouble(*n.clipMax));
                no.insert(QStringLiteral("log"), n.log);
                if (n.hasFill)
                    no.insert(QStringLiteral("fill"), writeDouble(n.fill));
                if (n.scale) {
                    no.insert(QStringLiteral("mean"), writeDouble(n.mean));
                    no.insert(QStringLiteral("scale_by"), writeDouble(n.scaleBy));
                }
                outs.append(no);
            }
            o.insert(QStringLiteral("outputs"), outs);
        }
        features.append(o);
    }
    QJsonObject root;
    root.insert(QStringLiteral("format"), QStringLiteral("keel-recipe"));
    root.insert(QStringLiteral("version"), 1);
    root.insert(QStringLiteral("spec"), m_spec.toJson());
    root.insert(QStringLiteral("task"), taskName(m_task));
    root.insert(QStringLiteral("classes"), QJsonArray::fromStringList(m_classes));
    root.insert(QStringLiteral("features"), features);
    return root;
}

Expected<Recipe> Recipe::fromJson(const QJsonObject &json)
{
    if (json.value(QLatin1String("format")).toString() != u"keel-recipe" || json.value(QLatin1String("version")).toInt() != 1)
        return fieldError(QStringLiteral("format"), QStringLiteral("not a keel-recipe version 1 document"));
    Recipe r;
    auto spec = RecipeSpec::fromJson(json.value(QLatin1String("spec")).toObject());
    if (!spec) {
        Error e = spec.error();
        e.field = QStringLiteral("spec.") + e.field;
        return e;
    }
    r.m_spec = *spec;
    for (const DerivedSpec &d : r.m_spec.derived) {
        auto e = Expression::parse(d.expression);
        if (!e)
            return fieldError(QStringLiteral("spec.derived"), e.error().message);
        r.m_expressions.push_back(std::move(*e));
    }
    const QString task = json.value(QLatin1String("task")).toString();
    if (task == taskName(Task::Regression))
        r.m_task = Task::Regression;
    else if (task == taskName(Task::BinaryClassification))
        r.m_task = Task::BinaryClassification;
    else if (task == taskName(Task::MulticlassClassification))
        r.m_task = Task::MulticlassClassification;
    else
        return fieldError(QStringLiteral("task"), QStringLiteral("unknown task '%1'").arg(task));
    auto classes = readStringList(json.value(QLatin1String("classes")), QStringLiteral("classes"));
    if (!classes)
        return classes.error();
    r.m_classes = *classes;

    const QJsonArray features = json.value(QLatin1String("features")).toArray();
    for (qsizetype i = 0; i < features.size(); ++i) {
        const QString path = QStringLiteral("features.") + QString::number(i);
        const QJsonObject o = features.at(i).toObject();
        Feature f;
        f.name = o.value(QLatin1String("name")).toString();
        const QString kind = o.value(QLatin1String("kind")).toString();
        if (kind == u"numeric")
            f.kind = Feature::Kind::Numeric;
        else if (kind == u"categorical")
            f.kind = Feature::Kind::Categorical;
        else if (kind == u"datetime")
            f.kind = Feature::Kind::Datetime;
        else
            return fieldError(path + QStringLiteral(".kind"), QStringLiteral("unknown kind '%1'").arg(kind));
        f.derived = o.value(QLatin1String("derived")).toInt(-1);
        if (f.derived >= int(r.m_expressions.size()))
            return fieldError(path + QStringLiteral(".derived"), QStringLiteral("no such derived column"));
        f.indicator = o.value(QLatin1String("indicator")).toBool();
        if (f.kind == Feature::Kind::Categorical) {
            f.encode = o.value(QLatin1String("encode")).toString() == u"ordinal" ? EncodeKind::Ordinal : EncodeKind::OneHot;
            auto cats = readStringList(o.value(QLatin1String("categories")), path + QStringLiteral(".categories"));
            if (!cats)
                return cats.error();
            f.categories = *cats;
            f.other = o.value(QLatin1String("other")).toBool();
            f.hasFill = o.contains(QLatin1String("fill"));
            f.fillCategory = o.value(QLatin1String("fill")).toString();
            rebuildIndex(f);
        } else {
            const QJsonArray outs = o.value(QLatin1String("outputs")).toArray();
            if (outs.isEmpty())
                return fieldError(path + QStringLiteral(".outputs"), QStringLiteral("expected at least one output"));
            for (qsizetype k = 0; k < outs.size(); ++k) {
                const QString op = path + QStringLiteral(".outputs.") + QString::number(k);
                const QJsonObject no = outs.at(k).toObject();
                NumericOutput n;
                if (no.contains(QLatin1String("part"))) {
                    n.part = datePartFromName(no.value(QLatin1String("part")).toString());
                    if (!n.part)
                        return fieldError(op + QStringLiteral(".part"), QStringLiteral("unknown date part"));
                }
                const auto optDouble = [&](const char *key, std::optional<double> &dst) -> Status {
                    if (!no.contains(QLatin1String(key)))
                        return {};
                    auto v = readDouble(no.value(QLatin1String(key)), op + QLatin1Char('.') + QLatin1String(key));
                    if (!v)
                        return v.error();
                    dst = *v;
                    return {};
                };
                std::optional<double> fill, mean, scaleBy;
                for (auto [key, dst] : {std::pair{"clip_min", &n.clipMin}, std::pair{"clip_max", &n.clipMax},
                                        std::pair{"fill", &fill}, std::pair{"mean", &mean}, std::pair{"scale_by", &scaleBy}})
                    if (Status s = optDouble(key, *dst); !s)
                        return s.error();
                n.log = no.value(QLatin1String("log")).toBool();
                n.hasFill = fill.has_value();
                n.fill = fill.value_or(0);
                n.scale = mean.has_value() && scaleBy.has_value();
                n.mean = mean.value_or(0);
                n.scaleBy = scaleBy.value_or(1);
                f.numeric.push_back(n);
            }
            if (f.kind == Feature::Kind::Numeric && f.numeric.size() != 1)
                return fieldError(path + QStringLiteral(".outputs"), QStringLiteral("a numeric feature has exactly one output"));
        }
        r.m_features.push_back(std::move(f));
    }
    r.rebuildColumnNames();
    return r;
}

} // namespace keel::ml
