#include "data/rules.h"

#include "util/fileutil.h"
#include "util/yaml.h"

#include <QJsonArray>
#include <QRegularExpression>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <set>
#include <unordered_set>

namespace keel::data {

namespace {

constexpr int kMaxExamples = 5;
constexpr int kMaxSuggestedCategories = 50;
constexpr qint64 kCancelStride = qint64(1) << 16;

using yaml::fromStd;
using yaml::toStd;

qint64 markLine(const YAML::Mark &m) { return m.line >= 0 ? qint64(m.line) + 1 : -1; }

Error ruleError(const QString &source, const YAML::Node &node, const QString &field, const QString &message)
{
    return makeError(message, source, markLine(node.Mark()), field);
}

std::optional<double> parseNumber(const QString &text)
{
    const QString t = text.trimmed().toLower();
    if (t == u".inf" || t == u"+.inf")
        return std::numeric_limits<double>::infinity();
    if (t == u"-.inf")
        return -std::numeric_limits<double>::infinity();
    bool ok = false;
    const double v = t.toDouble(&ok);
    if (!ok || std::isnan(v))
        return std::nullopt;
    return v;
}

std::optional<bool> parseBool(const QString &text)
{
    const QString t = text.trimmed().toLower();
    if (t == u"true" || t == u"yes" || t == u"on")
        return true;
    if (t == u"false" || t == u"no" || t == u"off")
        return false;
    return std::nullopt;
}

// Number for min/max: a number, or ISO date/datetime text (ms since the epoch).
std::optional<double> parseBound(const QString &text)
{
    if (auto v = parseNumber(text))
        return v;
    if (auto ms = parseIsoDatetime(text))
        return double(*ms);
    return std::nullopt;
}

Expected<ColumnRules> parseColumn(const QString &source, const YAML::Node &key, const YAML::Node &value)
{
    ColumnRules rules;
    rules.name = fromStd(key.Scalar());
    rules.line = markLine(key.Mark());
    if (!value.IsDefined() || value.IsNull())
        return rules;
    if (!value.IsMap())
        return ruleError(source, value, rules.name, QStringLiteral("expected a map of rules"));
    for (const auto &entry : value) {
        const YAML::Node &rk = entry.first;
        const YAML::Node &rv = entry.second;
        const QString rule = fromStd(rk.Scalar());
        const QString field = rules.name + QLatin1Char('.') + rule;
        const QString text = rv.IsScalar() ? fromStd(rv.Scalar()) : QString();
        auto needScalar = [&]() -> std::optional<Error> {
            if (!rv.IsScalar())
                return ruleError(source, rv, field, QStringLiteral("expected a single value"));
            return std::nullopt;
        };
        if (rule == u"type") {
            if (auto e = needScalar())
                return *e;
            const auto t = columnTypeFromName(text);
            if (!t)
                return ruleError(source, rv, field,
                                 QStringLiteral("unknown type '%1' (expected int64, float64, bool, datetime, categorical "
                                                "or string)")
                                     .arg(text));
            rules.type = t;
        } else if (rule == u"min" || rule == u"max") {
            if (auto e = needScalar())
                return *e;
            const auto v = parseBound(text);
            if (!v)
                return ruleError(source, rv, field, QStringLiteral("%1 must be a number or an ISO date, not '%2'").arg(rule, text));
            (rule == u"min" ? rules.min : rules.max) = v;
        } else if (rule == u"max_missing") {
            if (auto e = needScalar())
                return *e;
            const auto v = parseNumber(text);
            if (!v || *v < 0 || *v > 1)
                return ruleError(source, rv, field, QStringLiteral("max_missing must be a share between 0 and 1, not '%1'").arg(text));
            rules.maxMissing = v;
        } else if (rule == u"allowed") {
            if (!rv.IsSequence())
                return ruleError(source, rv, field, QStringLiteral("allowed must be a list of values"));
            QStringList values;
            for (const YAML::Node &item : rv) {
                if (!item.IsScalar())
                    return ruleError(source, item, field,
                                     QStringLiteral("allowed values must be single values (quote null-like values)"));
                values << fromStd(item.Scalar());
            }
            rules.allowed = values;
        } else if (rule == u"unique" || rule == u"required") {
            if (auto e = needScalar())
                return *e;
            const auto v = parseBool(text);
            if (!v)
                return ruleError(source, rv, field, QStringLiteral("%1 must be true or false, not '%2'").arg(rule, text));
            (rule == u"unique" ? rules.unique : rules.required) = *v;
        } else if (rule == u"regex") {
            if (auto e = needScalar())
                return *e;
            const QRegularExpression re(text);
            if (!re.isValid())
                return ruleError(source, rv, field,
                                 QStringLiteral("invalid regex at offset %1: %2").arg(re.patternErrorOffset()).arg(re.errorString()));
            rules.regex = text;
        } else {
            return ruleError(source, rk, field,
                             QStringLiteral("unknown rule '%1' (expected type, min, max, max_missing, allowed, unique, "
                                            "required or regex)")
                                 .arg(rule));
        }
    }
    if (rules.min && rules.max && *rules.min > *rules.max)
        return makeError(QStringLiteral("min is greater than max"), source, rules.line, rules.name + QStringLiteral(".min"));
    return rules;
}

// A code outside the dictionary (a damaged column) counts as a bad value.
bool badCode(const std::vector<char> &bad, int32_t code)
{
    return code < 0 || size_t(code) >= bad.size() || bad[size_t(code)];
}

bool isMissing(const Column &c, qint64 row)
{
    return c.isNull(row) || (c.type() == ColumnType::Float64 && std::isnan(c.float64At(row)));
}

// Collects violating rows: count plus the first examples.
struct Collector {
    const Column &column;
    qint64 count = 0;
    std::vector<qint64> rows;
    QStringList values;
    void add(qint64 row)
    {
        ++count;
        if (rows.size() < size_t(kMaxExamples)) {
            rows.push_back(row);
            values << column.displayAt(row);
        }
    }
};

class Validator {
public:
    Validator(const Table &table, ValidationReport &report, Feedback *feedback)
        : m_table(table), m_report(report), m_feedback(feedback)
    {
    }

    bool cancelled() const { return m_cancelled; }

    void check(const ColumnRules &rules)
    {
        const int index = m_table.indexOf(rules.name);
        if (index < 0) {
            if (rules.required) {
                ++m_report.rulesChecked;
                fail(rules.name, QStringLiteral("required"), QStringLiteral("column is missing"));
            }
            return;
        }
        const Column &c = m_table.column(index);
        if (rules.required)
            ++m_report.rulesChecked;
        if (rules.type) {
            ++m_report.rulesChecked;
            const bool ok = c.type() == *rules.type || (*rules.type == ColumnType::Float64 && c.type() == ColumnType::Int64);
            if (!ok)
                fail(rules.name, QStringLiteral("type"),
                     QStringLiteral("expected %1, found %2").arg(columnTypeName(*rules.type), columnTypeName(c.type())));
        }
        if (rules.min)
            checkBound(c, QStringLiteral("min"), *rules.min);
        if (rules.max)
            checkBound(c, QStringLiteral("max"), *rules.max);
        if (rules.maxMissing)
            checkMissing(c, *rules.maxMissing);
        if (rules.allowed)
            checkAllowed(c, *rules.allowed);
        if (rules.unique)
            checkUnique(c);
        if (!rules.regex.isEmpty())
            checkRegex(c, rules.regex);
    }

private:
    void fail(const QString &column, const QString &rule, const QString &message, Collector *collected = nullptr)
    {
        Violation v{column, rule, message, 0, {}, {}};
        if (collected) {
            v.count = collected->count;
            v.exampleRows = std::move(collected->rows);
            v.exampleValues = std::move(collected->values);
        }
        m_report.violations.push_back(std::move(v));
    }

    // Visits every row, polling cancel; fn(row).
    template <class Fn>
    bool eachRow(const Column &c, Fn &&fn)
    {
        for (qint64 r = 0; r < c.size(); ++r) {
            if ((r % kCancelStride) == 0 && isCancelled(m_feedback)) {
                m_cancelled = true;
                return false;
            }
            fn(r);
        }
        return true;
    }

    static QString boundText(const Column &c, double v)
    {
        if (c.type() == ColumnType::Datetime && std::isfinite(v))
            return formatDatetime(std::llround(v));
        return QString::number(v, 'g', QLocale::FloatingPointShortest);
    }

    void checkBound(const Column &c, const QString &rule, double bound)
    {
        ++m_report.rulesChecked;
        if (!isNumericType(c.type()) || c.type() == ColumnType::Bool) {
            fail(c.name(), rule, QStringLiteral("%1 applies to numeric columns, not %2").arg(rule, columnTypeName(c.type())));
            return;
        }
        const bool isMin = rule == u"min";
        Collector out{c};
        if (!eachRow(c, [&](qint64 r) {
                if (isMissing(c, r))
                    return;
                const double v = c.numberAt(r);
                if (isMin ? v < bound : v > bound)
                    out.add(r);
            }))
            return;
        if (out.count > 0)
            fail(c.name(), rule,
                 QStringLiteral("%1 values %2 %3").arg(out.count).arg(isMin ? QStringLiteral("below") : QStringLiteral("above"), boundText(c, bound)),
                 &out);
    }

    void checkMissing(const Column &c, double maxShare)
    {
        ++m_report.rulesChecked;
        Collector out{c};
        if (!eachRow(c, [&](qint64 r) {
                if (isMissing(c, r))
                    out.add(r);
            }))
            return;
        const double share = c.size() ? double(out.count) / double(c.size()) : 0.0;
        if (share > maxShare)
            fail(c.name(), QStringLiteral("max_missing"),
                 QStringLiteral("%1 missing (%2%), more than the allowed %3%")
                     .arg(out.count)
                     .arg(QString::number(share * 100.0, 'g', 4), QString::number(maxShare * 100.0, 'g', 4)),
                 &out);
    }

    void checkAllowed(const Column &c, const QStringList &allowed)
    {
        ++m_report.rulesChecked;
        const std::set<QString> set(allowed.begin(), allowed.end());
        Collector out{c};
        bool ok = true;
        if (c.type() == ColumnType::Categorical) {
            std::vector<char> bad(size_t(c.dictionarySize()), 0);
            for (qint64 code = 0; code < c.dictionarySize(); ++code) {
                const auto v = c.dictionaryAt(code);
                bad[size_t(code)] = set.count(QString::fromUtf8(v.data(), qsizetype(v.size()))) ? 0 : 1;
            }
            ok = eachRow(c, [&](qint64 r) {
                if (!isMissing(c, r) && badCode(bad, c.codeAt(r)))
                    out.add(r);
            });
        } else {
            ok = eachRow(c, [&](qint64 r) {
                if (!isMissing(c, r) && !set.count(c.displayAt(r)))
                    out.add(r);
            });
        }
        if (ok && out.count > 0)
            fail(c.name(), QStringLiteral("allowed"), QStringLiteral("%1 values not in the allowed list").arg(out.count), &out);
    }

    void checkUnique(const Column &c)
    {
        ++m_report.rulesChecked;
        Collector out{c};
        bool ok = true;
        switch (c.type()) {
        case ColumnType::Int64:
        case ColumnType::Datetime:
        case ColumnType::Float64: {
            std::unordered_set<uint64_t> seen;
            seen.reserve(size_t(c.size()));
            ok = eachRow(c, [&](qint64 r) {
                if (isMissing(c, r))
                    return;
                uint64_t key;
                if (c.type() == ColumnType::Float64) {
                    const double v = c.float64At(r);
                    key = std::bit_cast<uint64_t>(v == 0 ? 0.0 : v);
                } else {
                    key = uint64_t(c.int64At(r));
                }
                if (!seen.insert(key).second)
                    out.add(r);
            });
            break;
        }
        case ColumnType::Bool: {
            bool seen[2] = {false, false};
            ok = eachRow(c, [&](qint64 r) {
                if (isMissing(c, r))
                    return;
                bool &s = seen[c.boolAt(r) ? 1 : 0];
                if (s)
                    out.add(r);
                s = true;
            });
            break;
        }
        case ColumnType::Categorical:
        case ColumnType::String: {
            std::unordered_set<std::string_view> seen;
            seen.reserve(size_t(c.size()));
            ok = eachRow(c, [&](qint64 r) {
                if (!isMissing(c, r) && !seen.insert(c.stringAt(r)).second)
                    out.add(r);
            });
            break;
        }
        }
        if (ok && out.count > 0)
            fail(c.name(), QStringLiteral("unique"), QStringLiteral("%1 rows repeat an earlier value").arg(out.count), &out);
    }

    void checkRegex(const Column &c, const QString &pattern)
    {
        ++m_report.rulesChecked;
        const QRegularExpression re(pattern);
        Collector out{c};
        bool ok = true;
        if (c.type() == ColumnType::Categorical) {
            std::vector<char> bad(size_t(c.dictionarySize()), 0);
            for (qint64 code = 0; code < c.dictionarySize(); ++code) {
                const auto v = c.dictionaryAt(code);
                bad[size_t(code)] = re.match(QString::fromUtf8(v.data(), qsizetype(v.size()))).hasMatch() ? 0 : 1;
            }
            ok = eachRow(c, [&](qint64 r) {
                if (!isMissing(c, r) && badCode(bad, c.codeAt(r)))
                    out.add(r);
            });
        } else {
            ok = eachRow(c, [&](qint64 r) {
                if (!isMissing(c, r) && !re.match(c.displayAt(r)).hasMatch())
                    out.add(r);
            });
        }
        if (ok && out.count > 0)
            fail(c.name(), QStringLiteral("regex"), QStringLiteral("%1 values do not match %2").arg(out.count).arg(pattern), &out);
    }

    const Table &m_table;
    ValidationReport &m_report;
    Feedback *m_feedback;
    bool m_cancelled = false;
};

QString suggestedNumber(ColumnType type, double v)
{
    if (type == ColumnType::Datetime)
        return formatDatetime(std::llround(v));
    if (std::isinf(v))
        return v > 0 ? QStringLiteral(".inf") : QStringLiteral("-.inf");
    if (v == std::trunc(v) && std::abs(v) < 1e15)
        return QString::number(qint64(v));
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

} // namespace

Expected<RuleSet> parseRules(const QByteArray &yaml, const QString &sourceName)
{
    return yaml::guarded(sourceName, [&]() -> Expected<RuleSet> {
        auto parsed = yaml::parse(yaml, sourceName);
        if (!parsed)
            return parsed.error();
        const YAML::Node root = *parsed;
        if (!root.IsMap())
            return makeError(QStringLiteral("expected a map with a 'columns' key"), sourceName,
                             root.IsDefined() && !root.IsNull() ? markLine(root.Mark()) : 1, QStringLiteral("columns"));
        RuleSet set;
        set.source = sourceName;
        bool haveColumns = false;
        for (const auto &top : root) {
            const QString key = fromStd(top.first.Scalar());
            if (key != u"columns")
                return ruleError(sourceName, top.first, key, QStringLiteral("unknown key '%1' (expected columns)").arg(key));
            haveColumns = true;
            const YAML::Node &cols = top.second;
            if (cols.IsNull())
                continue;
            if (!cols.IsMap())
                return ruleError(sourceName, cols, QStringLiteral("columns"), QStringLiteral("expected a map from column name to rules"));
            QStringList seen;
            for (const auto &entry : cols) {
                if (!entry.first.IsScalar())
                    return ruleError(sourceName, entry.first, QStringLiteral("columns"), QStringLiteral("expected a column name"));
                auto rules = parseColumn(sourceName, entry.first, entry.second);
                if (!rules)
                    return rules.error();
                if (seen.contains(rules->name))
                    return ruleError(sourceName, entry.first, rules->name, QStringLiteral("column listed twice"));
                seen << rules->name;
                set.columns.push_back(std::move(rules.value()));
            }
        }
        if (!haveColumns)
            return makeError(QStringLiteral("missing the 'columns' key"), sourceName, 1, QStringLiteral("columns"));
        return set;
    });
}

Expected<RuleSet> loadRules(const QString &path)
{
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    return parseRules(*bytes, path);
}

ValidationReport validateTable(const Table &table, const RuleSet &rules, Feedback *feedback)
{
    ValidationReport report;
    report.rows = table.rowCount();
    Validator validator(table, report, feedback);
    const qint64 total = qint64(rules.columns.size());
    for (qint64 i = 0; i < total; ++i) {
        if (isCancelled(feedback) || validator.cancelled()) {
            report.violations.push_back({QString(), QStringLiteral("cancelled"), QStringLiteral("cancelled"), 0, {}, {}});
            break;
        }
        validator.check(rules.columns[size_t(i)]);
        reportProgress(feedback, i + 1, total, QStringLiteral("validate"));
    }
    if (validator.cancelled() && (report.violations.empty() || report.violations.back().rule != u"cancelled"))
        report.violations.push_back({QString(), QStringLiteral("cancelled"), QStringLiteral("cancelled"), 0, {}, {}});
    report.rulesFailed = int(report.violations.size());
    return report;
}

QByteArray suggestRules(const Table &table, const TableProfile &profile)
{
    YAML::Emitter out;
    out << YAML::Comment(QStringLiteral("Validation rules suggested by keel from %1 rows and %2 columns.")
                             .arg(table.rowCount())
                             .arg(table.columnCount())
                             .toStdString());
    out << YAML::Newline
        << YAML::Comment("Bounds are the observed min and max; max_missing is a little above the observed share. "
                         "Review before use.");
    out << YAML::Newline;
    out << YAML::BeginMap << YAML::Key << "columns" << YAML::Value << YAML::BeginMap;
    for (const Column &c : table.columns()) {
        const ColumnProfile *p = profile.find(c.name());
        std::optional<ColumnProfile> computed;
        if (!p || p->type != c.type() || p->count != c.size()) {
            auto fresh = profileColumn(c);
            if (!fresh)
                continue;
            computed = std::move(fresh.value());
            p = &*computed;
        }
        out << YAML::Key << toStd(c.name()) << YAML::Value << YAML::BeginMap;
        out << YAML::Key << "type" << YAML::Value << toStd(columnTypeName(c.type()));
        if (c.type() != ColumnType::Bool && p->min && p->max) {
            out << YAML::Key << "min" << YAML::Value << toStd(suggestedNumber(c.type(), *p->min));
            out << YAML::Key << "max" << YAML::Value << toStd(suggestedNumber(c.type(), *p->max));
        }
        const double share = p->missingShare();
        const double suggested = share <= 0 ? 0.0 : std::min(1.0, std::ceil(share * 100.0 + 1e-9) / 100.0);
        out << YAML::Key << "max_missing" << YAML::Value << toStd(QString::number(suggested, 'g', QLocale::FloatingPointShortest));
        if (c.type() == ColumnType::Categorical && p->distinct <= kMaxSuggestedCategories) {
            std::vector<char> used(size_t(c.dictionarySize()), 0);
            for (qint64 r = 0; r < c.size(); ++r)
                if (!c.isNull(r) && c.codeAt(r) >= 0 && c.codeAt(r) < c.dictionarySize())
                    used[size_t(c.codeAt(r))] = 1;
            std::set<std::string> values;
            for (qint64 code = 0; code < c.dictionarySize(); ++code)
                if (used[size_t(code)])
                    values.insert(std::string(c.dictionaryAt(code)));
            out << YAML::Key << "allowed" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (const std::string &v : values)
                out << YAML::DoubleQuoted << v;
            out << YAML::EndSeq;
        }
        const qint64 present = p->count - p->missing;
        const bool uniqueKind = c.type() == ColumnType::Int64 || c.type() == ColumnType::String
            || c.type() == ColumnType::Categorical;
        if (uniqueKind && present >= 2 && p->distinct == present)
            out << YAML::Key << "unique" << YAML::Value << true;
        out << YAML::EndMap;
    }
    out << YAML::EndMap << YAML::EndMap;
    QByteArray text(out.c_str(), qsizetype(out.size()));
    text.append('\n');
    return text;
}

QJsonObject validationToJson(const ValidationReport &report)
{
    QJsonArray violations;
    for (const Violation &v : report.violations) {
        QJsonArray rows;
        for (qint64 r : v.exampleRows)
            rows.append(r);
        violations.append(QJsonObject{{QStringLiteral("column"), v.column},
                                      {QStringLiteral("rule"), v.rule},
                                      {QStringLiteral("message"), v.message},
                                      {QStringLiteral("count"), v.count},
                                      {QStringLiteral("exampleRows"), rows},
                                      {QStringLiteral("exampleValues"), QJsonArray::fromStringList(v.exampleValues)}});
    }
    return QJsonObject{{QStringLiteral("rows"), report.rows},
                       {QStringLiteral("rulesChecked"), report.rulesChecked},
                       {QStringLiteral("rulesFailed"), report.rulesFailed},
                       {QStringLiteral("ok"), report.ok()},
                       {QStringLiteral("violations"), violations}};
}

QString validationToText(const ValidationReport &report)
{
    QString out;
    if (report.ok())
        out += QStringLiteral("OK: %1 rows, %2 rules checked, none failed\n").arg(report.rows).arg(report.rulesChecked);
    else
        out += QStringLiteral("FAILED: %1 rows, %2 rules checked, %3 failed\n")
                   .arg(report.rows)
                   .arg(report.rulesChecked)
                   .arg(report.rulesFailed);
    for (const Violation &v : report.violations) {
        out += QStringLiteral("  %1 [%2]: %3\n").arg(v.column.isEmpty() ? QStringLiteral("-") : v.column, v.rule, v.message);
        if (!v.exampleRows.empty()) {
            QStringList parts;
            for (size_t i = 0; i < v.exampleRows.size(); ++i) {
                const QString value = i < size_t(v.exampleValues.size()) ? v.exampleValues[qsizetype(i)] : QString();
                parts << QStringLiteral("row %1 = '%2'").arg(v.exampleRows[i]).arg(value);
            }
            out += QStringLiteral("      e.g. ") + parts.join(QStringLiteral(", "));
            if (v.count > qint64(v.exampleRows.size()))
                out += QStringLiteral(", ...");
            out += QLatin1Char('\n');
        }
    }
    return out;
}

} // namespace keel::data
