#include "util/yaml.h"

#include "util/fileutil.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
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

qint64 lineOfField(const LineMap &lines, const QString &field)
{
    QString path = field;
    while (!path.isEmpty() && !lines.contains(path)) {
        const qsizetype dot = path.lastIndexOf(QLatin1Char('.'));
        path = dot < 0 ? QString() : path.left(dot);
    }
    return path.isEmpty() ? -1 : lines.value(path, -1);
}

namespace {

QJsonValue toJson(const YAML::Node &n, const QString &path, LineMap &lines)
{
    if (!path.isEmpty() && !lines.contains(path) && lineOf(n) > 0)
        lines.insert(path, lineOf(n));
    switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return QJsonValue(QJsonValue::Null);
    case YAML::NodeType::Scalar: return fromStd(n.Scalar());
    case YAML::NodeType::Sequence: {
        QJsonArray a;
        int i = 0;
        for (const YAML::Node &item : n)
            a.append(toJson(item, path + QLatin1Char('.') + QString::number(i++), lines));
        return a;
    }
    case YAML::NodeType::Map: {
        QJsonObject o;
        for (const auto &kv : n) {
            const QString key = fromStd(kv.first.as<std::string>());   // a non-scalar key throws: guarded
            const QString sub = path.isEmpty() ? key : path + QLatin1Char('.') + key;
            if (lineOf(kv.first) > 0)
                lines.insert(sub, lineOf(kv.first));   // the key's own line: where a reader looks first
            o.insert(key, toJson(kv.second, sub, lines));
        }
        return o;
    }
    }
    return QJsonValue(QJsonValue::Null);
}

} // namespace

Expected<JsonDocument> parseAsJson(QByteArrayView text, const QString &source, const Limits &limits)
{
    auto node = parse(text, source, limits);
    if (!node)
        return node.error();
    return guarded(source, [&]() -> Expected<JsonDocument> {
        JsonDocument doc;
        doc.root = toJson(*node, {}, doc.lines);
        return doc;
    });
}

namespace {

void emitValue(YAML::Emitter &out, const QJsonValue &v)
{
    if (v.isObject()) {
        const QJsonObject o = v.toObject();
        out << YAML::BeginMap;
        for (auto it = o.begin(); it != o.end(); ++it) {
            out << YAML::Key << YAML::DoubleQuoted << toStd(it.key()) << YAML::Value;
            emitValue(out, it.value());
        }
        out << YAML::EndMap;
    } else if (v.isArray()) {
        out << YAML::BeginSeq;
        for (const QJsonValue &item : v.toArray())
            emitValue(out, item);
        out << YAML::EndSeq;
    } else if (v.isBool()) {
        out << (v.toBool() ? "true" : "false");
    } else if (v.isDouble()) {
        out << toStd(QString::number(v.toDouble(), 'g', QLocale::FloatingPointShortest));
    } else if (v.isString()) {
        out << YAML::DoubleQuoted << toStd(v.toString());
    } else {
        out << YAML::Null;
    }
}

} // namespace

QByteArray emitJson(const QJsonValue &value)
{
    YAML::Emitter out;
    emitValue(out, value);
    return QByteArray(out.c_str()) + '\n';
}

Expected<YAML::Node> parseFile(const QString &path, const Limits &limits)
{
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    return parse(*bytes, path, limits);
}

} // namespace keel::yaml
