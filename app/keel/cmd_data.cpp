// keel data ...: add, checkout, inspect, head, list, log, show, diff, validate, rules suggest.
#include "commands.h"

#include "data/diff.h"
#include "data/profile.h"
#include "data/reader.h"
#include "data/rules.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

#include <unistd.h>

namespace keel::cli {

namespace {

using workspace::DatasetVersion;

void addReadOptions(QCommandLineParser &p)
{
    p.addOption({QStringLiteral("delimiter"), QStringLiteral("Field delimiter (',' ';' '|' 'tab'); detected when omitted."),
                 QStringLiteral("char")});
    p.addOption({QStringLiteral("header"), QStringLiteral("The first row holds column names (detected when omitted).")});
    p.addOption({QStringLiteral("no-header"), QStringLiteral("The first row is data; columns are named column_1..N.")});
    p.addOption({QStringLiteral("missing"),
                 QStringLiteral("A token that means 'missing' (repeatable; replaces the default: empty, NA, N/A, NaN, null, "
                                "NULL, ?). Use --missing '' for the empty field."),
                 QStringLiteral("token")});
    p.addOption({QStringLiteral("type"), QStringLiteral("Force a column type, e.g. --type zip=string (repeatable; types: "
                                                        "int64 float64 bool datetime categorical string)."),
                 QStringLiteral("column=type")});
    p.addOption({QStringLiteral("date-order"), QStringLiteral("For d/m/y dates: day-first or month-first (detected when omitted)."),
                 QStringLiteral("order")});
}

Expected<data::ReadOptions> readOptionsFrom(const QCommandLineParser &p)
{
    data::ReadOptions o;
    if (p.isSet(QStringLiteral("delimiter"))) {
        const QString d = p.value(QStringLiteral("delimiter"));
        if (d == u"tab" || d == u"\\t" || d == u"\t")
            o.delimiter = '\t';
        else if (d.size() == 1 && d.front().unicode() < 128 && d != u"\"" && d != u"\n")
            o.delimiter = char(d.front().unicode());
        else
            return makeError(QStringLiteral("--delimiter takes one ASCII character or 'tab', not '%1'").arg(d));
    }
    if (p.isSet(QStringLiteral("header")) && p.isSet(QStringLiteral("no-header")))
        return makeError(QStringLiteral("--header and --no-header exclude each other"));
    if (p.isSet(QStringLiteral("header")))
        o.header = true;
    if (p.isSet(QStringLiteral("no-header")))
        o.header = false;
    if (p.isSet(QStringLiteral("missing")))
        o.missingTokens = p.values(QStringLiteral("missing"));
    for (const QString &t : p.values(QStringLiteral("type"))) {
        const qsizetype eq = t.lastIndexOf(QLatin1Char('='));
        const auto type = eq > 0 ? data::columnTypeFromName(t.mid(eq + 1)) : std::nullopt;
        if (!type)
            return makeError(QStringLiteral("--type takes column=type with type one of int64, float64, bool, datetime, "
                                            "categorical, string; got '%1'")
                                 .arg(t));
        o.typeOverrides.insert(t.left(eq), *type);
    }
    if (p.isSet(QStringLiteral("date-order"))) {
        const QString d = p.value(QStringLiteral("date-order"));
        if (d == u"day-first")
            o.dateOrder = data::DateOrder::DayFirst;
        else if (d == u"month-first")
            o.dateOrder = data::DateOrder::MonthFirst;
        else
            return makeError(QStringLiteral("--date-order is day-first or month-first, not '%1'").arg(d));
    }
    return o;
}

QJsonValue cellJson(const data::Column &c, qint64 row)
{
    if (c.isNull(row))
        return QJsonValue::Null;
    switch (c.type()) {
    case data::ColumnType::Int64: return QJsonValue(qint64(c.int64At(row)));
    case data::ColumnType::Float64: {
        const double v = c.float64At(row);
        return std::isfinite(v) ? QJsonValue(v) : QJsonValue(c.displayAt(row));
    }
    case data::ColumnType::Bool: return QJsonValue(c.boolAt(row));
    case data::ColumnType::Datetime:
    case data::ColumnType::Categorical:
    case data::ColumnType::String: return QJsonValue(c.displayAt(row));
    }
    return QJsonValue::Null;
}

QJsonArray schemaJson(const std::vector<data::Field> &schema)
{
    QJsonArray a;
    for (const auto &f : schema)
        a.append(QJsonObject{{QStringLiteral("name"), f.name}, {QStringLiteral("type"), data::columnTypeName(f.type)}});
    return a;
}

QJsonObject versionJson(const DatasetVersion &v)
{
    return QJsonObject{{QStringLiteral("name"), v.record.name},
                       {QStringLiteral("version"), v.version},
                       {QStringLiteral("ref"), v.ref()},
                       {QStringLiteral("commit"), v.commit.id},
                       {QStringLiteral("author"), v.commit.author},
                       {QStringLiteral("date"), v.commit.time.toString(Qt::ISODate)},
                       {QStringLiteral("message"), v.commit.message},
                       {QStringLiteral("content_id"), v.record.contentId},
                       {QStringLiteral("size"), v.record.size},
                       {QStringLiteral("format"), v.record.format},
                       {QStringLiteral("rows"), v.record.parsed ? QJsonValue(v.record.rows) : QJsonValue(QJsonValue::Null)},
                       {QStringLiteral("columns"), v.record.parsed ? QJsonValue(int(v.record.schema.size())) : QJsonValue(QJsonValue::Null)},
                       {QStringLiteral("parsed"), v.record.parsed}};
}

/// Rows as a table cell: "not parsed" for a version added with --no-parse.
QString rowsText(const workspace::DatasetRecord &r) { return r.parsed ? QString::number(r.rows) : QStringLiteral("not parsed"); }

QString shortDate(const QDateTime &t) { return t.toString(QStringLiteral("yyyy-MM-dd HH:mm")); }

/// A table as text: the header, then up to `rows` rows, numbers right-aligned, missing shown as "·".
QString tableText(const data::Table &t, qint64 rows)
{
    QStringList header;
    QList<int> right;
    for (int c = 0; c < t.columnCount(); ++c) {
        header << t.column(c).name();
        if (isNumericType(t.column(c).type()) && t.column(c).type() != data::ColumnType::Datetime)
            right << c;
    }
    std::vector<QStringList> body;
    for (qint64 r = 0; r < std::min(rows, t.rowCount()); ++r) {
        QStringList cells;
        for (int c = 0; c < t.columnCount(); ++c)
            cells << (t.column(c).isNull(r) ? QStringLiteral("\u00b7") : t.column(c).displayAt(r));
        body.push_back(cells);
    }
    return formatTable(header, body, right);
}

/// Resolves a dataset reference, or prints why not.
std::optional<DatasetVersion> resolve(Context &ctx, workspace::Workspace &ws, const QString &ref)
{
    auto v = workspace::resolveDataset(ws, ref);
    if (!v) {
        ctx.fail(v.error());
        return std::nullopt;
    }
    return *v;
}

std::optional<data::Table> loadVersion(Context &ctx, workspace::Workspace &ws, const DatasetVersion &v)
{
    auto t = workspace::loadDataset(ws, v, ctx.feedback());
    ctx.endProgress();
    if (!t) {
        ctx.fail(t.error());
        return std::nullopt;
    }
    return *t;
}

int cmdAdd(Context &ctx)
{
    auto opts = readOptionsFrom(ctx.parser);
    if (!opts)
        return ctx.usage(opts.error().toString());
    if (!ctx.parser.isSet(QStringLiteral("name")))
        return ctx.usage(QStringLiteral("keel data add needs --name NAME"));
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const QString file = ctx.path(ctx.args().front());
    auto result = workspace::addDataset(*ws, file, ctx.parser.value(QStringLiteral("name")),
                                        ctx.parser.value(QStringLiteral("m")), *opts, ctx.feedback(),
                                        ctx.parser.isSet(QStringLiteral("no-parse")));
    ctx.endProgress();
    if (!result)
        return ctx.fail(result.error());
    const DatasetVersion &v = result->version;
    if (ctx.json()) {
        QJsonObject o = versionJson(v);
        o.insert(QStringLiteral("unchanged"), result->unchanged);
        o.insert(QStringLiteral("new_bytes"), result->newBytes);
        o.insert(QStringLiteral("timings_ms"), QJsonObject{{QStringLiteral("parse"), result->parseMs},
                                                          {QStringLiteral("profile"), result->profileMs},
                                                          {QStringLiteral("store"), result->storeMs},
                                                          {QStringLiteral("cache"), result->cacheMs},
                                                          {QStringLiteral("commit"), result->commitMs}});
        ctx.printJson(o);
    } else if (result->unchanged) {
        ctx.out << v.record.name << " is unchanged: these bytes are already " << v.ref() << "; nothing committed\n";
    } else if (!v.record.parsed) {
        ctx.out << "added " << v.ref() << " without parsing it: " << formatBytes(v.record.size) << " ("
                << formatBytes(result->newBytes) << " new in the store), commit " << v.commit.id.left(10)
                << "; it is parsed on first use\n";
    } else {
        ctx.out << "added " << v.ref() << ": " << v.record.rows << " rows, " << v.record.schema.size() << " columns, "
                << formatBytes(v.record.size) << " (" << formatBytes(result->newBytes) << " new in the store), commit "
                << v.commit.id.left(10) << '\n';
    }
    return 0;
}

int cmdCheckout(Context &ctx)
{
    if (!ctx.parser.isSet(QStringLiteral("o")))
        return ctx.usage(QStringLiteral("keel data checkout needs -o OUT"));
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto v = resolve(ctx, *ws, ctx.args().front());
    if (!v)
        return 1;
    if (ctx.parser.value(QStringLiteral("o")) == u"-") {
        ctx.out.flush();
        if (Status s = workspace::checkoutDatasetTo(*ws, *v, STDOUT_FILENO, ctx.feedback()); !s)
            return ctx.fail(s.error());
        ctx.endProgress();
        return 0;
    }
    const QString out = ctx.path(ctx.parser.value(QStringLiteral("o")));
    if (Status s = workspace::checkoutDataset(*ws, *v, out, {ctx.parser.isSet(QStringLiteral("force"))}, ctx.feedback()); !s)
        return ctx.fail(s.error());
    ctx.endProgress();
    if (ctx.json())
        ctx.printJson(QJsonObject{{QStringLiteral("ref"), v->ref()}, {QStringLiteral("output"), out},
                                  {QStringLiteral("size"), v->record.size}});
    else
        ctx.out << "wrote " << v->ref() << " (" << formatBytes(v->record.size) << ") to " << out << '\n';
    return 0;
}

int cmdInspect(Context &ctx)
{
    auto opts = readOptionsFrom(ctx.parser);
    if (!opts)
        return ctx.usage(opts.error().toString());
    const QString file = ctx.path(ctx.args().front());
    QElapsedTimer timer;
    timer.start();
    data::ReadInfo info;
    auto table = data::readTable(file, *opts, ctx.feedback(), &info);
    ctx.endProgress();
    if (!table)
        return ctx.fail(table.error());
    const qint64 parseMs = timer.elapsed();
    std::optional<data::TableProfile> profile;
    if (!ctx.parser.isSet(QStringLiteral("no-profile"))) {
        auto p = data::profileTable(*table, ctx.feedback());
        ctx.endProgress();
        if (!p)
            return ctx.fail(p.error());
        profile = std::move(*p);
    }
    const qint64 totalMs = timer.elapsed();
    const QString delimiter = info.delimiter == '\t' ? QStringLiteral("tab") : QString(QLatin1Char(info.delimiter));
    if (ctx.json()) {
        QJsonObject o{{QStringLiteral("file"), file},
                      {QStringLiteral("format"), info.format == data::FileFormat::Jsonl ? QStringLiteral("jsonl") : QStringLiteral("csv")},
                      {QStringLiteral("delimiter"), delimiter},
                      {QStringLiteral("header"), info.header},
                      {QStringLiteral("rows"), table->rowCount()},
                      {QStringLiteral("bytes"), info.bytes},
                      {QStringLiteral("parse_ms"), parseMs},
                      {QStringLiteral("total_ms"), totalMs},
                      {QStringLiteral("schema"), schemaJson(table->schema())}};
        if (profile)
            o.insert(QStringLiteral("profile"), data::profileToJson(*profile));
        ctx.printJson(o);
        return 0;
    }
    ctx.out << file << ": " << table->rowCount() << " rows, " << table->columnCount() << " columns, "
            << formatBytes(info.bytes) << "; delimiter " << delimiter << ", header " << (info.header ? "yes" : "no")
            << "; parsed in " << parseMs << " ms\n\n";
    if (profile) {
        ctx.out << data::profileToText(*profile);
    } else {
        std::vector<QStringList> rows;
        for (const auto &c : table->columns())
            rows.push_back({c.name(), data::columnTypeName(c.type()), QString::number(c.nullCount())});
        ctx.out << formatTable({QStringLiteral("column"), QStringLiteral("type"), QStringLiteral("missing")}, rows, {2});
    }
    return 0;
}

int cmdHead(Context &ctx)
{
    bool ok = true;
    const qint64 n = ctx.parser.isSet(QStringLiteral("n")) ? ctx.parser.value(QStringLiteral("n")).toLongLong(&ok) : 10;
    if (!ok || n < 0)
        return ctx.usage(QStringLiteral("-n takes a row count"));
    const QString arg = ctx.args().front();
    const QString asFile = ctx.path(arg);
    std::optional<data::Table> table;
    QString label = arg;
    if (QFileInfo(asFile).isFile()) {
        auto opts = readOptionsFrom(ctx.parser);
        if (!opts)
            return ctx.usage(opts.error().toString());
        auto t = data::readTable(asFile, *opts, ctx.feedback());
        ctx.endProgress();
        if (!t)
            return ctx.fail(t.error());
        table = std::move(*t);
    } else {
        auto *ws = ctx.workspace();
        if (!ws)
            return 1;
        auto v = resolve(ctx, *ws, arg);
        if (!v)
            return 1;
        label = v->ref();
        table = loadVersion(ctx, *ws, *v);
        if (!table)
            return 1;
    }
    if (ctx.json()) {
        // One object per row with the keys in the file's column order (QJsonObject would sort them).
        auto jsonText = [](const QJsonValue &v) {
            const QByteArray t = QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact);
            return t.mid(1, t.size() - 2);
        };
        QByteArray text = "[";
        for (qint64 r = 0; r < std::min(n, table->rowCount()); ++r) {
            text += r ? ",\n  {" : "\n  {";
            bool first = true;
            for (const auto &c : table->columns()) {
                text += (first ? "" : ", ") + jsonText(c.name()) + ": " + jsonText(cellJson(c, r));
                first = false;
            }
            text += '}';
        }
        text += "\n]\n";
        ctx.out << QString::fromUtf8(text);
        ctx.out.flush();
        return 0;
    }
    ctx.out << tableText(*table, n);
    if (table->rowCount() > n)
        ctx.out << "(" << n << " of " << table->rowCount() << " rows of " << label << ")\n";
    return 0;
}

int cmdList(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto names = workspace::listDatasets(*ws);
    if (!names)
        return ctx.fail(names.error());
    QJsonArray json;
    std::vector<QStringList> rows;
    for (const QString &name : *names) {
        auto log = workspace::datasetLog(*ws, name);
        if (!log)
            return ctx.fail(log.error());
        if (log->empty())
            continue;
        const DatasetVersion &v = log->back();
        QJsonObject o = versionJson(v);
        o.insert(QStringLiteral("versions"), int(log->size()));
        json.append(o);
        rows.push_back({name, QString::number(log->size()), rowsText(v.record),
                        v.record.parsed ? QString::number(v.record.schema.size()) : QStringLiteral("-"),
                        formatBytes(v.record.size), shortDate(v.commit.time)});
    }
    if (ctx.json()) {
        ctx.printJson(json);
    } else if (rows.empty()) {
        ctx.out << "No datasets yet. Add one with: keel data add FILE --name NAME\n";
    } else {
        ctx.out << formatTable({QStringLiteral("dataset"), QStringLiteral("versions"), QStringLiteral("rows"),
                                QStringLiteral("columns"), QStringLiteral("size"), QStringLiteral("updated")},
                               rows, {1, 2, 3, 4});
    }
    return 0;
}

int cmdLog(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    const QString name = ctx.args().front();
    if (Status s = workspace::validateDatasetName(name); !s)
        return ctx.fail(s.error());
    auto log = workspace::datasetLog(*ws, name);
    if (!log)
        return ctx.fail(log.error());
    if (log->empty())
        return ctx.fail(QStringLiteral("no dataset named '%1' (see 'keel data list')").arg(name));
    if (ctx.json()) {
        QJsonArray a;
        for (const auto &v : *log)
            a.append(versionJson(v));
        ctx.printJson(a);
        return 0;
    }
    std::vector<QStringList> rows;
    for (auto it = log->rbegin(); it != log->rend(); ++it)
        rows.push_back({QStringLiteral("v") + QString::number(it->version), it->commit.id.left(10), shortDate(it->commit.time),
                        it->commit.author, rowsText(it->record), formatBytes(it->record.size),
                        it->commit.message.section(QLatin1Char('\n'), 0, 0)});
    ctx.out << formatTable({QStringLiteral("version"), QStringLiteral("commit"), QStringLiteral("date"), QStringLiteral("author"),
                            QStringLiteral("rows"), QStringLiteral("size"), QStringLiteral("message")},
                           rows, {4, 5});
    return 0;
}

int cmdShow(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto v = resolve(ctx, *ws, ctx.args().front());
    if (!v)
        return 1;
    if (ctx.json()) {
        QJsonObject o = versionJson(*v);
        o.insert(QStringLiteral("schema"), schemaJson(v->record.schema));
        o.insert(QStringLiteral("profile"), data::profileToJson(v->record.profile));
        ctx.printJson(o);
        return 0;
    }
    ctx.out << v->ref() << "  (commit " << v->commit.id.left(10) << ", " << shortDate(v->commit.time) << ", "
            << v->commit.author << ")\n"
            << "  " << v->commit.message.section(QLatin1Char('\n'), 0, 0) << "\n";
    if (!v->record.parsed) {
        ctx.out << "  " << formatBytes(v->record.size) << ' ' << v->record.format << " from " << v->record.source
                << ", added with --no-parse: not parsed yet, so no schema or profile is recorded.\n"
                << "  It is parsed (and cached) the first time it is used; 'keel data add' without --no-parse records both.\n"
                << "  content " << v->record.contentId << "\n";
        return 0;
    }
    ctx.out << "  " << v->record.rows << " rows, " << v->record.schema.size() << " columns, " << formatBytes(v->record.size)
            << ' ' << v->record.format << " from " << v->record.source << "\n"
            << "  content " << v->record.contentId << "\n\n";
    ctx.out << data::profileToText(v->record.profile);
    return 0;
}

int cmdDiff(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto a = resolve(ctx, *ws, ctx.args().at(0));
    if (!a)
        return 1;
    auto b = resolve(ctx, *ws, ctx.args().at(1));
    if (!b)
        return 1;
    auto ta = loadVersion(ctx, *ws, *a);
    if (!ta)
        return 1;
    auto tb = loadVersion(ctx, *ws, *b);
    if (!tb)
        return 1;
    data::DiffOptions opts;
    opts.key = ctx.parser.value(QStringLiteral("key"));
    auto report = data::diffTables(*ta, *tb, opts, ctx.feedback());
    ctx.endProgress();
    if (!report)
        return ctx.fail(report.error());
    if (ctx.json()) {
        QJsonObject o = data::diffToJson(*report);
        o.insert(QStringLiteral("a"), a->ref());
        o.insert(QStringLiteral("b"), b->ref());
        ctx.printJson(o);
    } else {
        ctx.out << data::diffToText(*report, a->ref(), b->ref());
    }
    return 0;
}

int cmdValidate(Context &ctx)
{
    if (!ctx.parser.isSet(QStringLiteral("rules")))
        return ctx.usage(QStringLiteral("keel data validate needs --rules FILE"));
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto rules = data::loadRules(ctx.path(ctx.parser.value(QStringLiteral("rules"))));
    if (!rules)
        return ctx.fail(rules.error());
    auto v = resolve(ctx, *ws, ctx.args().front());
    if (!v)
        return 1;
    auto t = loadVersion(ctx, *ws, *v);
    if (!t)
        return 1;
    auto checked = workspace::validateDataset(*ws, *v, *t, *rules, ctx.feedback());
    ctx.endProgress();
    if (!checked)
        return ctx.fail(checked.error());
    const data::ValidationReport &report = *checked;
    if (ctx.json()) {
        QJsonObject o = data::validationToJson(report);
        o.insert(QStringLiteral("ref"), v->ref());
        ctx.printJson(o);
    } else {
        ctx.out << v->ref() << ": " << data::validationToText(report);
    }
    return report.ok() ? 0 : 1;
}

int cmdRulesSuggest(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto v = resolve(ctx, *ws, ctx.args().front());
    if (!v)
        return 1;
    auto t = loadVersion(ctx, *ws, *v);
    if (!t)
        return 1;
    const QByteArray yaml = data::suggestRules(*t, v->record.profile);
    if (ctx.parser.isSet(QStringLiteral("o"))) {
        const QString out = ctx.path(ctx.parser.value(QStringLiteral("o")));
        if (Status s = writeUserFile(out, yaml, {ctx.parser.isSet(QStringLiteral("force"))}); !s)
            return ctx.fail(s.error());
        if (!ctx.json())
            ctx.out << "wrote rules for " << v->ref() << " to " << out << '\n';
        else
            ctx.printJson(QJsonObject{{QStringLiteral("ref"), v->ref()}, {QStringLiteral("output"), out}});
    } else {
        ctx.out << QString::fromUtf8(yaml);
    }
    return 0;
}

QString refHelp()
{
    return QStringLiteral("\nA version is named NAME (latest), NAME@vN, NAME@<commit> or NAME@<tag>.");
}

} // namespace

std::vector<Command> dataCommands()
{
    std::vector<Command> v;
    v.push_back({{QStringLiteral("data"), QStringLiteral("add")}, QStringLiteral("FILE --name NAME"),
                 QStringLiteral("Version a CSV/TSV/JSONL file as a dataset"),
                 QStringLiteral("Parses FILE (errors name the line and column; nothing is committed when it fails) while its\n"
                                "original bytes go into the object store (only chunks not stored before), then profiles the\n"
                                "table while its columnar cache is written, and commits datasets/NAME.yaml with the schema and\n"
                                "profile. With --no-parse, only the bytes are stored and committed (DVC's job; for files you\n"
                                "trust or only archive): the version is parsed the first time it is used."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("name"), QStringLiteral("Dataset name (letters, digits, . _ -)."), QStringLiteral("name")});
                     p.addOption({QStringLiteral("m"), QStringLiteral("Commit message."), QStringLiteral("message")});
                     p.addOption({QStringLiteral("no-parse"), QStringLiteral("Store and commit the bytes only; parse on first use.")});
                     addReadOptions(p);
                 },
                 cmdAdd});
    v.push_back({{QStringLiteral("data"), QStringLiteral("checkout")}, QStringLiteral("NAME@REF -o OUT"),
                 QStringLiteral("Write a version's original bytes to a file"),
                 QStringLiteral("Writes the version's original file back byte-identical (every chunk verified by hash; the\n"
                                "output appears only when complete). -o - writes to stdout. An existing file is replaced only\n"
                                "with --force; devices, FIFOs, links, folders and anything inside .git/ or .keel/ never are.") + refHelp(),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("o"), QStringLiteral("Output file (- for stdout)."), QStringLiteral("file")});
                     p.addOption({QStringLiteral("force"), QStringLiteral("Replace an existing file.")});
                 },
                 cmdCheckout});
    v.push_back({{QStringLiteral("data"), QStringLiteral("inspect")}, QStringLiteral("FILE"),
                 QStringLiteral("Parse and profile a file without storing it"),
                 QStringLiteral("Parses FILE as 'data add' would and prints its schema and column profiles (or only the\n"
                                "schema with --no-profile). Nothing is stored."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("no-profile"), QStringLiteral("Only parse; skip the column profiles.")});
                     addReadOptions(p);
                 },
                 cmdInspect});
    v.push_back({{QStringLiteral("data"), QStringLiteral("head")}, QStringLiteral("NAME@REF|FILE"),
                 QStringLiteral("Print the first rows as parsed"),
                 QStringLiteral("Prints the first rows with their parsed types (missing values shown as \u00b7, null in JSON).")
                     + refHelp(),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("n"), QStringLiteral("Number of rows (default 10)."), QStringLiteral("rows")});
                     addReadOptions(p);
                 },
                 cmdHead});
    v.push_back({{QStringLiteral("data"), QStringLiteral("list")}, QString(), QStringLiteral("List datasets"),
                 QStringLiteral("Lists every dataset with its number of versions and its latest version's size."), 0, 0, {},
                 cmdList});
    v.push_back({{QStringLiteral("data"), QStringLiteral("log")}, QStringLiteral("NAME"), QStringLiteral("Show a dataset's versions"),
                 QStringLiteral("Lists the versions of NAME, newest first, with author, date, message, rows and size."), 1, 1, {},
                 cmdLog});
    v.push_back({{QStringLiteral("data"), QStringLiteral("show")}, QStringLiteral("NAME@REF"),
                 QStringLiteral("Show a version's schema and profile"),
                 QStringLiteral("Prints the version's schema and column profiles: missing share, distinct count,\n"
                                "min/max/mean/std, quantiles and top categories.") + refHelp(),
                 1, 1, {}, cmdShow});
    v.push_back({{QStringLiteral("data"), QStringLiteral("diff")}, QStringLiteral("NAME@A NAME@B"),
                 QStringLiteral("Compare two versions: schema, rows, drift per column"),
                 QStringLiteral("Shows added, removed and retyped columns, row counts, and per column a drift statistic\n"
                                "(PSI and KS for numbers, Jensen-Shannon and chi-square for categories), largest first.\n"
                                "With --key COLUMN also rows added, removed and changed.") + refHelp(),
                 2, 2,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("key"), QStringLiteral("Column identifying rows, for a row-level diff."),
                                  QStringLiteral("column")});
                 },
                 cmdDiff});
    v.push_back({{QStringLiteral("data"), QStringLiteral("validate")}, QStringLiteral("NAME@REF --rules FILE"),
                 QStringLiteral("Check a version against YAML rules (exit 1 on failure)"),
                 QStringLiteral("Checks type, range, allowed values, missing share, uniqueness and regex rules; every\n"
                                "violation is listed with its column, count and example rows. Exit code 1 when any rule fails.\n"
                                "Start a rule file with 'keel data rules suggest'.") + refHelp(),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("rules"), QStringLiteral("Rule file (YAML)."), QStringLiteral("file")});
                 },
                 cmdValidate});
    v.push_back({{QStringLiteral("data"), QStringLiteral("rules"), QStringLiteral("suggest")}, QStringLiteral("NAME@REF"),
                 QStringLiteral("Write a starting rule file from a version's profile"),
                 QStringLiteral("Suggests rules (types, observed ranges, allowed categories, missing shares, uniqueness) that\n"
                                "the version passes; edit them, then run 'keel data validate'.") + refHelp(),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("o"), QStringLiteral("Write to <file> instead of stdout."), QStringLiteral("file")});
                     p.addOption({QStringLiteral("force"), QStringLiteral("Replace an existing file.")});
                 },
                 cmdRulesSuggest});
    return v;
}

} // namespace keel::cli
