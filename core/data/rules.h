#pragma once
// Validation rules for tables, written by people in YAML:
//
//   columns:
//     age:        {type: int64, min: 17, max: 90, max_missing: 0.0}
//     workclass:  {allowed: [Private, Self-emp-not-inc, ...], max_missing: 0.06}
//     id:         {unique: true, required: true}
//     email:      {regex: '^[^@]+@[^@]+$'}
//
// Rule sets are plain values; validation reads the table only and is safe from any thread.

#include "data/profile.h"
#include "data/table.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QStringList>

#include <optional>
#include <vector>

namespace keel::data {

/// The rules for one column. `min`/`max` apply to numeric columns (datetimes in ms; the YAML may give ISO text),
/// `maxMissing` is a share in [0, 1] (NaN counts as missing), `allowed` compares the display text of each value,
/// `regex` must find a match in the display text (anchor it with ^...$ for a full match). A float64 type rule
/// also accepts an int64 column. `required` (default true) makes a missing column a violation; a column that
/// is absent and not required is skipped. `line` is the 1-based line of the column in the rule file.
struct ColumnRules {
    QString name;
    std::optional<ColumnType> type;
    std::optional<double> min, max, maxMissing;
    std::optional<QStringList> allowed;
    bool unique = false;
    bool required = true;
    QString regex;
    qint64 line = -1;
};

/// A parsed rule file. `source` names it (the path, or what the caller passed).
struct RuleSet {
    QString source;
    std::vector<ColumnRules> columns;
};

/// Reads and parses a rule file; see parseRules.
Expected<RuleSet> loadRules(const QString &path);

/// Parses rule YAML: a map with one key `columns`, a map from column name to a map of rules (type, min, max,
/// max_missing, allowed, unique, required, regex) or to nothing. Unknown keys, bad values, min above max and bad
/// regexes are errors naming `sourceName` (Error::file), the line (YAML mark, 1-based) and the field
/// ("column.rule"). Never throws.
Expected<RuleSet> parseRules(const QByteArray &yaml, const QString &sourceName);

/// One failed rule. `rule` is the YAML key (type, min, max, max_missing, allowed, unique, required, regex);
/// `count` is the number of rows at fault (0 for the column-level rules required and type, and for a rule that
/// does not apply to the column's type); up to 5 examples, rows 0-based data rows, values as display text.
struct Violation {
    QString column;
    QString rule;
    QString message;
    qint64 count = 0;
    std::vector<qint64> exampleRows;
    QStringList exampleValues;
};

/// Result of validating a table: every rule checked, the ones that failed.
struct ValidationReport {
    qint64 rows = 0;
    int rulesChecked = 0;
    int rulesFailed = 0;
    std::vector<Violation> violations;
    bool ok() const { return violations.empty(); }
};

/// Checks every rule against the table. A cancelled run stops early and carries a violation with rule
/// "cancelled" (so it is never ok()). Progress: rule columns done of total, stage "validate".
ValidationReport validateTable(const Table &table, const RuleSet &rules, Feedback *feedback = nullptr);

/// A starting rule file from the data: type, observed min/max (numeric, not bool), allowed values for categoricals
/// with <= 50 categories, max_missing a little above the observed share (0 stays 0), unique where all non-missing
/// values are distinct (int64, string and categorical columns with at least two values). YAML text with a header
/// comment; parseRules accepts it and validateTable passes the same table with no violations.
QByteArray suggestRules(const Table &table, const TableProfile &profile);

/// Machine form: {rows, rulesChecked, rulesFailed, ok, violations: [{column, rule, message, count, exampleRows,
/// exampleValues}]}.
QJsonObject validationToJson(const ValidationReport &report);

/// Readable text: a summary line, then one line per violation with its examples.
QString validationToText(const ValidationReport &report);

} // namespace keel::data
