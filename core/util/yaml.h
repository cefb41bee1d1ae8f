#pragma once
// The one door through which core reads YAML (workspace settings, dataset pointers, rule files, training configs,
// recipes, sweeps). Every read is bounded — document size, nesting depth and the number of nodes after alias
// expansion, so an "alias bomb" is refused at once instead of growing without end — and strict: a key given twice
// in one mapping is an error naming both lines. yaml-cpp's exceptions never leave this file: they become Errors that
// name the source and the 1-based line. Internal to core (yaml-cpp is a private dependency): front doors never
// include this header.

#include "util/result.h"

#include <QByteArrayView>
#include <QHash>
#include <QJsonValue>
#include <QString>

#include <exception>
#include <string>

#include <yaml-cpp/yaml.h>

namespace keel::yaml {

/// Bounds on one document. The defaults fit every file Keel writes or a person edits by hand.
struct Limits {
    qint64 maxBytes = 16LL << 20;   ///< document size
    int maxDepth = 64;              ///< nesting of mappings and sequences
    qint64 maxNodes = 1'000'000;    ///< nodes visited with aliases expanded (what a consumer will walk)
};

/// Parses one document. Errors (syntax, a bound exceeded, a duplicate key) name `source` and the line.
/// An empty document is a Null node.
Expected<YAML::Node> parse(QByteArrayView text, const QString &source, const Limits &limits = {});
/// Reads and parses a file; the error names the file.
Expected<YAML::Node> parseFile(const QString &path, const Limits &limits = {});

/// 1-based line of a node, or -1 when the node has no position (built in memory).
qint64 lineOf(const YAML::Node &node);
/// A scalar as text (UTF-8); empty for non-scalars.
QString text(const YAML::Node &node);
std::string toStd(const QString &s);
QString fromStd(const std::string &s);

/// The 1-based line of every dotted key path of a document ("learner.params.eta", "features.2"); for a key, the
/// line of the key itself.
using LineMap = QHash<QString, qint64>;
/// The line of `field`, or of its nearest enclosing field that has one; -1 when none does.
qint64 lineOfField(const LineMap &lines, const QString &field);

/// A document as JSON (every scalar as a string, empty values as null) with the line of each path: what the
/// config readers validate, so that any error they report can point at its line.
struct JsonDocument {
    QJsonValue root;
    LineMap lines;
};
/// Parses (bounded and strict, as parse()) and converts. Errors name `source` and the line.
Expected<JsonDocument> parseAsJson(QByteArrayView text, const QString &source, const Limits &limits = {});

/// A JSON value written as a YAML document (block style; keys and strings double-quoted, numbers in shortest
/// round-trip form), ending in a newline. parseAsJson() reads it back with every scalar as a string.
QByteArray emitJson(const QJsonValue &value);

/// Runs `body` (a callable returning Expected<T> or Status) and turns an exception escaping it (a yaml-cpp
/// conversion such as `as<int>()` on a non-number, with its line) into an InvalidInput Error naming `source`.
template <class F>
auto guarded(const QString &source, F &&body) -> decltype(body())
{
    try {
        return body();
    } catch (const YAML::Exception &e) {
        return makeError(ErrorKind::InvalidInput, fromStd(e.msg), source, e.mark.line >= 0 ? qint64(e.mark.line) + 1 : -1);
    } catch (const std::exception &e) {   // a conversion outside yaml-cpp (std::stoll and the like)
        return makeError(ErrorKind::InvalidInput, QString::fromUtf8(e.what()), source);
    }
}

} // namespace keel::yaml
