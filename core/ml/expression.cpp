#include "ml/expression.h"

#include <array>
#include <cmath>

namespace keel::ml {

struct Expression::Node {
    enum class Op { Constant, Column, Negate, Add, Subtract, Multiply, Divide, Log, Exp, Sqrt, Abs, Min, Max };
    Op op = Op::Constant;
    double value = 0;   ///< Constant
    int index = 0;      ///< Column: index into columns(); Min/Max: argument count
};

namespace {

using Node = Expression::Node;
using Op = Node::Op;

class Parser {
public:
    explicit Parser(const QString &text) : m_text(text) {}

    Status run()
    {
        if (Status s = parseExpr(); !s)
            return s;
        skipSpace();
        if (m_pos < m_text.size())
            return errorAt(m_pos, QStringLiteral("unexpected '%1'").arg(m_text.at(m_pos)));
        return {};
    }

    std::vector<Node> nodes;
    QStringList columns;
    int maxDepth = 0;

private:
    Error errorAt(qsizetype pos, const QString &what) const
    {
        return makeError(QStringLiteral("position %1: %2 in expression '%3'").arg(pos + 1).arg(what, m_text));
    }

    void skipSpace()
    {
        while (m_pos < m_text.size() && m_text.at(m_pos).isSpace())
            ++m_pos;
    }

    bool accept(QChar c)
    {
        skipSpace();
        if (m_pos < m_text.size() && m_text.at(m_pos) == c) {
            ++m_pos;
            return true;
        }
        return false;
    }

    void push(Node n, int stackDelta)
    {
        nodes.push_back(n);
        m_depth += stackDelta;
        maxDepth = std::max(maxDepth, m_depth);
    }

    Status parseExpr()
    {
        if (Status s = parseTerm(); !s)
            return s;
        for (;;) {
            if (accept(QLatin1Char('+'))) {
                if (Status s = parseTerm(); !s)
                    return s;
                push({Op::Add, 0, 0}, -1);
            } else if (accept(QLatin1Char('-'))) {
                if (Status s = parseTerm(); !s)
                    return s;
                push({Op::Subtract, 0, 0}, -1);
            } else {
                return {};
            }
        }
    }

    Status parseTerm()
    {
        if (Status s = parseUnary(); !s)
            return s;
        for (;;) {
            if (accept(QLatin1Char('*'))) {
                if (Status s = parseUnary(); !s)
                    return s;
                push({Op::Multiply, 0, 0}, -1);
            } else if (accept(QLatin1Char('/'))) {
                if (Status s = parseUnary(); !s)
                    return s;
                push({Op::Divide, 0, 0}, -1);
            } else {
                return {};
            }
        }
    }

    Status parseUnary()
    {
        if (accept(QLatin1Char('-'))) {
            if (Status s = parseUnary(); !s)
                return s;
            push({Op::Negate, 0, 0}, 0);
            return {};
        }
        if (accept(QLatin1Char('+')))
            return parseUnary();
        return parseAtom();
    }

    static bool isIdentStart(QChar c) { return c.isLetter() || c == QLatin1Char('_'); }
    static bool isIdentChar(QChar c) { return c.isLetterOrNumber() || c == QLatin1Char('_') || c == QLatin1Char('.'); }

    void emitColumn(const QString &name)
    {
        qsizetype idx = columns.indexOf(name);
        if (idx < 0) {
            columns.append(name);
            idx = columns.size() - 1;
        }
        push({Op::Column, 0, int(idx)}, +1);
    }

    Status parseAtom()
    {
        skipSpace();
        if (m_pos >= m_text.size())
            return errorAt(m_pos, QStringLiteral("expected a number, column or '(' but the expression ended"));
        const qsizetype start = m_pos;
        const QChar c = m_text.at(m_pos);
        if (c == QLatin1Char('(')) {
            ++m_pos;
            if (Status s = parseExpr(); !s)
                return s;
            if (!accept(QLatin1Char(')')))
                return errorAt(m_pos, QStringLiteral("expected ')' to close '(' at position %1").arg(start + 1));
            return {};
        }
        if (c.isDigit() || c == QLatin1Char('.')) {
            qsizetype end = m_pos;
            while (end < m_text.size() && (m_text.at(end).isDigit() || m_text.at(end) == QLatin1Char('.')))
                ++end;
            if (end < m_text.size() && (m_text.at(end) == QLatin1Char('e') || m_text.at(end) == QLatin1Char('E'))) {
                qsizetype e = end + 1;
                if (e < m_text.size() && (m_text.at(e) == QLatin1Char('+') || m_text.at(e) == QLatin1Char('-')))
                    ++e;
                if (e < m_text.size() && m_text.at(e).isDigit()) {
                    while (e < m_text.size() && m_text.at(e).isDigit())
                        ++e;
                    end = e;
                }
            }
            bool ok = false;
            const double v = m_text.mid(start, end - start).toDouble(&ok);
            if (!ok)
                return errorAt(start, QStringLiteral("invalid number '%1'").arg(m_text.mid(start, end - start)));
            m_pos = end;
            push({Op::Constant, v, 0}, +1);
            return {};
        }
        if (c == QLatin1Char('`')) {
            const qsizetype close = m_text.indexOf(QLatin1Char('`'), m_pos + 1);
            if (close < 0)
                return errorAt(start, QStringLiteral("unterminated `quoted column name`"));
            const QString name = m_text.mid(m_pos + 1, close - m_pos - 1);
            if (name.isEmpty())
                return errorAt(start, QStringLiteral("empty quoted column name"));
            m_pos = close + 1;
            emitColumn(name);
            return {};
        }
        if (isIdentStart(c)) {
            qsizetype end = m_pos + 1;
            while (end < m_text.size() && isIdentChar(m_text.at(end)))
                ++end;
            const QString name = m_text.mid(start, end - start);
            m_pos = end;
            skipSpace();
            if (m_pos < m_text.size() && m_text.at(m_pos) == QLatin1Char('('))
                return parseCall(name, start);
            emitColumn(name);
            return {};
        }
        return errorAt(start, QStringLiteral("unexpected '%1'").arg(c));
    }

    Status parseCall(const QString &name, qsizetype start)
    {
        Op op;
        int minArgs = 1;
        int maxArgs = 1;
        if (name == u"log")
            op = Op::Log;
        else if (name == u"exp")
            op = Op::Exp;
        else if (name == u"sqrt")
            op = Op::Sqrt;
        else if (name == u"abs")
            op = Op::Abs;
        else if (name == u"min" || name == u"max") {
            op = name == u"min" ? Op::Min : Op::Max;
            minArgs = 2;
            maxArgs = 1 << 20;
        } else {
            return errorAt(start, QStringLiteral("unknown function '%1' (known: log, exp, sqrt, abs, min, max)").arg(name));
        }
        ++m_pos; // '('
        int args = 0;
        if (!accept(QLatin1Char(')'))) {
            for (;;) {
                if (Status s = parseExpr(); !s)
                    return s;
                ++args;
                if (accept(QLatin1Char(',')))
                    continue;
                if (accept(QLatin1Char(')')))
                    break;
                return errorAt(m_pos, QStringLiteral("expected ',' or ')' in call of '%1'").arg(name));
            }
        }
        if (args < minArgs || args > maxArgs) {
            const QString want = minArgs == maxArgs ? QString::number(minArgs)
                                                    : QStringLiteral("at least %1").arg(minArgs);
            return errorAt(start, QStringLiteral("function '%1' takes %2 argument(s), got %3").arg(name, want).arg(args));
        }
        push({op, 0, args}, 1 - args);
        return {};
    }

    const QString &m_text;
    qsizetype m_pos = 0;
    int m_depth = 0;
};

double evaluateWith(const std::vector<Node> &nodes, std::span<const double> values, double *stack)
{
    int sp = 0;
    for (const Node &n : nodes) {
        switch (n.op) {
        case Op::Constant: stack[sp++] = n.value; break;
        case Op::Column: stack[sp++] = values[size_t(n.index)]; break;
        case Op::Negate: stack[sp - 1] = -stack[sp - 1]; break;
        case Op::Add: --sp; stack[sp - 1] = stack[sp - 1] + stack[sp]; break;
        case Op::Subtract: --sp; stack[sp - 1] = stack[sp - 1] - stack[sp]; break;
        case Op::Multiply: --sp; stack[sp - 1] = stack[sp - 1] * stack[sp]; break;
        case Op::Divide: --sp; stack[sp - 1] = stack[sp - 1] / stack[sp]; break;
        case Op::Log: stack[sp - 1] = std::log(stack[sp - 1]); break;
        case Op::Exp: stack[sp - 1] = std::exp(stack[sp - 1]); break;
        case Op::Sqrt: stack[sp - 1] = std::sqrt(stack[sp - 1]); break;
        case Op::Abs: stack[sp - 1] = std::fabs(stack[sp - 1]); break;
        case Op::Min:
        case Op::Max: {
            const int first = sp - n.index;
            double r = stack[first];
            for (int i = first + 1; i < sp; ++i) {
                const double v = stack[i];
                if (std::isnan(r) || std::isnan(v))
                    r = std::nan("");
                else
                    r = n.op == Op::Min ? std::min(r, v) : std::max(r, v);
            }
            sp = first;
            stack[sp++] = r;
            break;
        }
        }
    }
    return stack[0];
}

} // namespace

Expected<Expression> Expression::parse(const QString &text)
{
    Parser p(text);
    if (Status s = p.run(); !s)
        return s.error();
    Expression e;
    e.m_text = text;
    e.m_columns = p.columns;
    e.m_maxDepth = p.maxDepth;
    e.m_nodes = std::make_shared<const std::vector<Node>>(std::move(p.nodes));
    return e;
}

double Expression::evaluate(std::span<const double> values) const
{
    if (!m_nodes || m_nodes->empty())
        return std::nan("");
    std::array<double, 64> small;
    if (m_maxDepth <= int(small.size()))
        return evaluateWith(*m_nodes, values, small.data());
    std::vector<double> big(static_cast<size_t>(m_maxDepth));
    return evaluateWith(*m_nodes, values, big.data());
}

Expected<std::pair<QString, QString>> splitDerivedDefinition(const QString &definition)
{
    const qsizetype eq = definition.indexOf(QLatin1Char('='));
    if (eq < 0)
        return makeError(QStringLiteral("derived column '%1' must be written 'name = expression'").arg(definition));
    QString name = definition.left(eq).trimmed();
    QString expr = definition.mid(eq + 1).trimmed();
    if (name.isEmpty())
        return makeError(QStringLiteral("derived column '%1' has no name before '='").arg(definition));
    if (expr.isEmpty())
        return makeError(QStringLiteral("derived column '%1' has no expression after '='").arg(name));
    return std::pair<QString, QString>{std::move(name), std::move(expr)};
}

} // namespace keel::ml
