#pragma once
// Error values for core APIs: Status for "done or why not", Expected<T> for "a T or why not".
// Expected failures (bad input, missing files) travel as values; exceptions are for bugs only.

#include <QString>

#include <cassert>
#include <optional>
#include <utility>
#include <variant>

namespace keel {

/// What kind of failure an Error is. Callers branch on the kind, never on the message text.
enum class ErrorKind {
    Failed,        ///< anything not named below
    Cancelled,     ///< the caller cancelled through its Feedback (or a signal did)
    NotFound,      ///< a named thing (file, dataset, run, object) does not exist
    InvalidInput,  ///< the input (file, config, argument) is malformed or out of range
    Conflict,      ///< the operation collides with existing state (exists already, not a fast-forward, busy)
    Io,            ///< reading or writing failed (disk full, permission, device)
    Corrupt,       ///< stored state is damaged (hash mismatch, truncated database)
};

/// What went wrong, in the user's words, with where it went wrong when that is known.
struct Error {
    QString message;     ///< One sentence, no trailing period needed.
    QString file;        ///< File at fault, if any.
    qint64 line = -1;    ///< 1-based line in `file`, or -1.
    QString field;       ///< Column, key or field at fault, if any.
    ErrorKind kind = ErrorKind::Failed;

    bool is(ErrorKind k) const { return kind == k; }

    /// "file:line: field 'x': message" with the parts that are known.
    QString toString() const
    {
        QString out;
        if (!file.isEmpty()) {
            out += file;
            if (line > 0)
                out += QLatin1Char(':') + QString::number(line);
            out += QStringLiteral(": ");
        } else if (line > 0) {
            out += QStringLiteral("line ") + QString::number(line) + QStringLiteral(": ");
        }
        if (!field.isEmpty())
            out += QStringLiteral("field '") + field + QStringLiteral("': ");
        out += message;
        return out;
    }

    Error withFile(const QString &f) const { Error e = *this; if (e.file.isEmpty()) e.file = f; return e; }
    Error withKind(ErrorKind k) const { Error e = *this; e.kind = k; return e; }
};

inline Error makeError(QString message, QString file = {}, qint64 line = -1, QString field = {})
{
    return Error{std::move(message), std::move(file), line, std::move(field)};
}

inline Error makeError(ErrorKind kind, QString message, QString file = {}, qint64 line = -1, QString field = {})
{
    return Error{std::move(message), std::move(file), line, std::move(field), kind};
}

/// The error every long core call returns when its Feedback was cancelled.
inline Error cancelledError(QString file = {})
{
    return makeError(ErrorKind::Cancelled, QStringLiteral("cancelled"), std::move(file));
}

/// Success, or an Error.
class [[nodiscard]] Status {
public:
    Status() = default;
    Status(Error e) : m_error(std::move(e)) {}
    static Status ok() { return {}; }

    bool isOk() const { return !m_error.has_value(); }
    explicit operator bool() const { return isOk(); }
    const Error &error() const { assert(m_error); return *m_error; }
    QString message() const { return m_error ? m_error->toString() : QString(); }
    /// True when this is an error of kind `k`.
    bool is(ErrorKind k) const { return m_error && m_error->kind == k; }

private:
    std::optional<Error> m_error;
};

/// A value of T, or an Error.
template <class T>
class [[nodiscard]] Expected {
public:
    Expected(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Expected(Error e) : m_v(std::in_place_index<1>, std::move(e)) {}
    Expected(Status s) : m_v(std::in_place_index<1>, s.error()) { assert(!s.isOk()); }

    bool hasValue() const { return m_v.index() == 0; }
    explicit operator bool() const { return hasValue(); }

    T &value() & { assert(hasValue()); return std::get<0>(m_v); }
    const T &value() const & { assert(hasValue()); return std::get<0>(m_v); }
    T &&value() && { assert(hasValue()); return std::get<0>(std::move(m_v)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }

    const Error &error() const { assert(!hasValue()); return std::get<1>(m_v); }
    QString message() const { return hasValue() ? QString() : error().toString(); }
    Status status() const { return hasValue() ? Status() : Status(error()); }
    /// True when this holds an error of kind `k`.
    bool is(ErrorKind k) const { return !hasValue() && error().kind == k; }

private:
    std::variant<T, Error> m_v;
};

} // namespace keel
