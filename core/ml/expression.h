#pragma once
// Arithmetic expressions over numeric columns, used for derived columns in a preprocessing recipe
// ("ratio = capital_gain / (hours_per_week + 1)").

#include "util/result.h"

#include <QString>
#include <QStringList>

#include <memory>
#include <span>
#include <vector>

namespace keel::ml {

/// A parsed expression. Grammar (recursive descent, usual precedence, left-associative):
///   expr   := term (('+' | '-') term)*
///   term   := unary (('*' | '/') unary)*
///   unary  := '-' unary | '+' unary | atom
///   atom   := number | column | function '(' expr (',' expr)* ')' | '(' expr ')'
///   column := identifier [A-Za-z_][A-Za-z0-9_.]* not followed by '(', or a `backquoted name`
/// Functions: log (natural), exp, sqrt, abs (one argument); min, max (two or more arguments).
/// A missing input (NaN) makes the result NaN; min/max propagate NaN too.
/// Immutable value; evaluate() is safe from several threads at once.
class Expression {
public:
    /// Parses `text`. Errors say "position N: ..." with N the 1-based character position of the fault.
    static Expected<Expression> parse(const QString &text);

    /// The source text as given to parse().
    const QString &text() const { return m_text; }
    /// Distinct column names the expression reads, in order of first use; evaluate() takes values in this order.
    const QStringList &columns() const { return m_columns; }
    /// Value of the expression for one row; `values[i]` is the value of columns()[i] (NaN = missing).
    double evaluate(std::span<const double> values) const;

    struct Node;

private:
    QString m_text;
    QStringList m_columns;
    std::shared_ptr<const std::vector<Node>> m_nodes; ///< postfix program, shared between copies
    int m_maxDepth = 0;                               ///< evaluation stack depth the program needs
};

/// Splits "name = expression" into its two trimmed parts; errors if there is no '=' or the name is empty.
Expected<std::pair<QString, QString>> splitDerivedDefinition(const QString &definition);

} // namespace keel::ml
