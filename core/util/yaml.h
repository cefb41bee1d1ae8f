#pragma once
// The one door through which core reads YAML (workspace settings, dataset pointers, rule files, training configs,
// recipes, sweeps). Every read is bounded — document size, nesting depth and the number of nodes after alias
// expansion, so an "alias bomb" is refused at once instead of growing without end — and strict: a key given twice
// in one mapping is an error naming both lines. yaml-cpp's exceptions never leave this file: they become Errors that
// name the source and the 1-based line. Internal to core (yaml-cpp is a private dependency): front doors never
// include this header.

#include "util/result.h"

#include <QByteArrayView>
#include <QString>

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

/// Runs `body` (a callable returning Expected<T> or Status) and turns a yaml-cpp exception escaping it (a
/// conversion such as `as<int>()` on a non-number) into an Error naming `source` and the line.
template <class F>
auto guarded(const QString &source, F &&body) -> decltype(body())
{
    try {
        return body();
    } catch (const YAML::Exception &e) {
        return makeError(ErrorKind::InvalidInput, fromStd(e.msg), source, e.mark.line >= 0 ? qint64(e.mark.line) + 1 : -1);
    }
}

} // namespace keel::yaml
