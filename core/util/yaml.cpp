#include "util/yaml.h"

#include "util/fileutil.h"

#include <QHash>
#include <QLocale>

#include <utility>
#include <vector>

namespace keel::yaml {

namespace {

/// Walks the document as a consumer would (aliases expanded), counting nodes, bounding depth and refusing duplicate
/// keys. Iterative, so a deep document cannot exhaust the stack here.
Status checkDocument(const YAML::Node &root, const QString &source, const Limits &limits)
{
    std::vector<std::pair<YAML::Node, int>> stack;
    stack.emplace_back(root, 0);
    qint64 visited = 0;
    while (!stack.empty()) {
        auto [node, depth] = std::move(stack.back());
        stack.pop_back();
        if (++visited > limits.maxNodes)
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("the document expands to more than %1 nodes (nested aliases?); refused")
                                 .arg(QLocale::c().toString(limits.maxNodes)),
                             source, lineOf(node));
        if (depth > limits.maxDepth)
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("nesting deeper than %1 levels; refused").arg(limits.maxDepth), source,
                             lineOf(node));
        if (node.IsSequence()) {
            for (const YAML::Node &item : node)
                stack.emplace_back(item, depth + 1);
        } else if (node.IsMap()) {
            QHash<QString, qint64> seen;
            for (auto it = node.begin(); it != node.end(); ++it) {
                if (it->first.IsScalar()) {
                    const QString key = fromStd(it->first.Scalar());
                    const qint64 line = lineOf(it->first);
                    if (auto prev = seen.constFind(key); prev != seen.cend())
                        return makeError(ErrorKind::InvalidInput,
                                         QStringLiteral("duplicate key (first given at line %1)").arg(prev.value()),
                                         source, line, key);
                    seen.insert(key, line);
                } else {
                    stack.emplace_back(it->first, depth + 1);
                }
                stack.emplace_back(it->second, depth + 1);
            }
        }
    }
    return {};
}

} // namespace

qint64 lineOf(const YAML::Node &node)
{
    const YAML::Mark m = node.Mark();
    return m.line >= 0 ? qint64(m.line) + 1 : -1;
}

QString text(const YAML::Node &node)
{
    return node.IsScalar() ? fromStd(node.Scalar()) : QString();
}

std::string toStd(const QString &s)
{
    const QByteArray utf8 = s.toUtf8();
    return std::string(utf8.constData(), size_t(utf8.size()));
}

QString fromStd(const std::string &s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

Expected<YAML::Node> parse(QByteArrayView text, const QString &source, const Limits &limits)
{
    if (text.size() > limits.maxBytes)
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("%1 bytes is larger than the %2 bytes a YAML document may have; refused")
                             .arg(QLocale::c().toString(text.size()), QLocale::c().toString(limits.maxBytes)),
                         source);
    if (const qsizetype nul = text.indexOf('\0'); nul >= 0)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("a NUL byte: this is not a text file"), source,
                         qint64(QByteArrayView(text.data(), nul).count('\n')) + 1);
    YAML::Node root;
    try {
        root = YAML::Load(std::string(text.data(), size_t(text.size())));
    } catch (const YAML::Exception &e) {
        return makeError(ErrorKind::InvalidInput, QStringLiteral("YAML syntax error: ") + fromStd(e.msg), source,
                         e.mark.line >= 0 ? qint64(e.mark.line) + 1 : -1);
    }
    try {
        if (Status s = checkDocument(root, source, limits); !s)
            return s.error();
    } catch (const YAML::Exception &e) {
        return makeError(ErrorKind::InvalidInput, fromStd(e.msg), source, e.mark.line >= 0 ? qint64(e.mark.line) + 1 : -1);
    }
    return root;
}

Expected<YAML::Node> parseFile(const QString &path, const Limits &limits)
{
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    return parse(*bytes, path, limits);
}

} // namespace keel::yaml
