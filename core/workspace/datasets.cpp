#include "workspace/datasets.h"

#include "data/materialise.h"
#include "data/profileyaml.h"
#include "store/objectstore.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "util/hash.h"
#include "util/yaml.h"
#include "workspace/s3remote.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QJsonArray>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QRegularExpression>
#include <QUuid>

#include <functional>
#include <future>
#include <optional>
#include <thread>

namespace keel::workspace {

namespace {

QString datasetPath(const QString &name) { return QStringLiteral("datasets/") + name + QStringLiteral(".yaml"); }

QString dateOrderName(data::DateOrder o)
{
    switch (o) {
    case data::DateOrder::DayFirst: return QStringLiteral("day-first");
    case data::DateOrder::MonthFirst: return QStringLiteral("month-first");
    case data::DateOrder::Auto: break;
    }
    return QStringLiteral("auto");
}

data::DateOrder dateOrderFromName(const QString &s)
{
    if (s == u"day-first")
        return data::DateOrder::DayFirst;
    if (s == u"month-first")
        return data::DateOrder::MonthFirst;
    return data::DateOrder::Auto;
}

std::string delimiterText(char d)
{
    return d == '\t' ? std::string("\\t") : std::string(1, d);
}

char delimiterFromText(const std::string &s)
{
    if (s == "\\t" || s == "\t")
        return '\t';
    return s.empty() ? ',' : s[0];
}

/// The cache file for a version: content id plus a digest of everything that shapes the parse.
QString cachePath(Workspace &ws, const DatasetRecord &r)
{
    QByteArray key = r.contentId.toLatin1() + '|' + r.format.toLatin1() + '|' + QByteArray(1, r.delimiter) + '|'
        + (r.header ? "h" : "n") + '|' + r.dateOrder.toLatin1() + '|' + r.missingTokens.join(QChar(0x1f)).toUtf8();
    for (const auto &f : r.schema)
        key += '|' + f.name.toUtf8() + ':' + data::columnTypeName(f.type).toLatin1();
    const QString digest = toHex(sha256(key)).left(20);
    return ws.cacheDir() + QStringLiteral("/tables/") + r.contentId.left(32) + QLatin1Char('-') + digest
        + QStringLiteral(".ktab");
}

bool sameSchema(const data::Table &t, const DatasetRecord &r)
{
    return t.rowCount() == r.rows && t.schema() == r.schema;
}

Status copyMissingObjects(const store::ObjectStore &from, store::ObjectStore &to, const QSet<QString> &ids,
                          Feedback *feedback)
{
    QStringList wanted;
    for (const QString &id : ids)
        if (!to.contains(id))
            wanted << id;
    if (wanted.isEmpty())
        return {};
    wanted.sort();
    return store::ObjectStore::copyObjects(from, to, wanted, feedback);
}

} // namespace

data::ReadOptions DatasetRecord::readOptions() const
{
    data::ReadOptions o;
    o.format = format == u"jsonl" ? data::FileFormat::Jsonl : data::FileFormat::Csv;
    o.delimiter = delimiter;
    o.header = header;
    o.missingTokens = missingTokens;
    o.dateOrder = dateOrderFromName(dateOrder);
    for (const auto &f : schema)
        o.typeOverrides.insert(f.name, f.type);
    return o;
}

QByteArray datasetRecordToYaml(const DatasetRecord &r)
{
    YAML::Emitter out;
    out << YAML::Comment("Dataset version written by keel. The original bytes live in the object store under content_id.");
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << r.name.toStdString();
    out << YAML::Key << "content_id" << YAML::Value << r.contentId.toStdString();
    out << YAML::Key << "size" << YAML::Value << r.size;
    out << YAML::Key << "format" << YAML::Value << r.format.toStdString();
    out << YAML::Key << "source" << YAML::Value << r.source.toStdString();
    out << YAML::Key << "rows" << YAML::Value << r.rows;
    if (!r.parsed)   // added with --no-parse: schema, rows and profile come on first use
        out << YAML::Key << "parsed" << YAML::Value << false;
    out << YAML::Key << "read" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "delimiter" << YAML::Value << YAML::DoubleQuoted << delimiterText(r.delimiter);
    out << YAML::Key << "header" << YAML::Value << r.header;
    out << YAML::Key << "missing" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const QString &t : r.missingTokens)
        out << YAML::DoubleQuoted << t.toStdString();
    out << YAML::EndSeq;
    out << YAML::Key << "date_order" << YAML::Value << r.dateOrder.toStdString();
    out << YAML::EndMap;
    out << YAML::Key << "schema" << YAML::Value << YAML::BeginSeq;
    for (const auto &f : r.schema) {
        out << YAML::Flow << YAML::BeginMap;
        out << YAML::Key << "name" << YAML::Value << f.name.toStdString();
        out << YAML::Key << "type" << YAML::Value << data::columnTypeName(f.type).toStdString();
        out << YAML::EndMap;
    }
    out << YAML::EndSeq;
    out << YAML::Key << "profile" << YAML::Value;
    data::emitProfileYaml(out, r.profile);
    out << YAML::EndMap;
    return QByteArray(out.c_str()) + '\n';
}

Expected<DatasetRecord> datasetRecordFromYaml(const QByteArray &yaml, const QString &sourceName)
{
    auto parsed = yaml::parse(yaml, sourceName);
    if (!parsed)
        return parsed.error();
    return yaml::guarded(sourceName, [&]() -> Expected<DatasetRecord> {
        const YAML::Node &n = *parsed;
        if (!n.IsMap())
            return makeError(QStringLiteral("not a dataset record"), sourceName, 1);
        DatasetRecord r;
        r.name = QString::fromStdString(n["name"].as<std::string>());
        r.contentId = QString::fromStdString(n["content_id"].as<std::string>());
        if (!isHexId(r.contentId))
            return makeError(QStringLiteral("content_id is not a SHA-256 id"), sourceName, n["content_id"].Mark().line + 1,
                             QStringLiteral("content_id"));
        r.size = n["size"].as<qint64>();
        r.format = QString::fromStdString(n["format"].as<std::string>("csv"));
        r.source = QString::fromStdString(n["source"].as<std::string>(""));
        r.rows = n["rows"].as<qint64>();
        r.parsed = n["parsed"].as<bool>(true);
        const YAML::Node read = n["read"];
        if (read) {
            r.delimiter = delimiterFromText(read["delimiter"].as<std::string>(","));
            r.header = read["header"].as<bool>(true);
            for (const auto &t : read["missing"])
                r.missingTokens << QString::fromStdString(t.as<std::string>());
            r.dateOrder = QString::fromStdString(read["date_order"].as<std::string>("auto"));
        }
        for (const auto &f : n["schema"]) {
            const QString typeName = QString::fromStdString(f["type"].as<std::string>());
            const auto type = data::columnTypeFromName(typeName);
            if (!type)
                return makeError(QStringLiteral("unknown column type '%1'").arg(typeName), sourceName,
                                 f.Mark().line + 1, QStringLiteral("schema"));
            r.schema.push_back({QString::fromStdString(f["name"].as<std::string>()), *type});
        }
        if (n["profile"]) {
            auto profile = data::parseProfileYaml(n["profile"], r.rows);
            if (!profile)
                return profile.error().withFile(sourceName);
            r.profile = std::move(*profile);
        }
        return r;
    });
}

Status validateName(const QString &name, const QString &kind, const QString &option)
{
    static const QRegularExpression valid(QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")));
    if (name.isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("a %1 needs a name (%2)").arg(kind, option));
    if (name.contains(QLatin1Char('/')) || name.contains(QLatin1Char('\\')) || name.contains(QStringLiteral("..")))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("%1 name '%2' must not contain '/', '\\' or '..'").arg(kind, name));
    if (!valid.match(name).hasMatch())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("%1 name '%2' must start with a letter or digit and use only letters, "
                                                                 "digits, '.', '_' and '-' (at most 128)")
                                                      .arg(kind, name));
    return {};
}

Status validateDatasetName(const QString &name) { return validateName(name, QStringLiteral("dataset"), QStringLiteral("--name")); }

Expected<AddOutcome> addDataset(Workspace &ws, const QString &file, const QString &name, const QString &message,
                                const data::ReadOptions &options, Feedback *feedback, bool noParse)
{
    if (Status s = validateDatasetName(name); !s)
        return s.error();
    const QFileInfo info(file);
    if (Status s = checkInputFile(file); !s)
        return s.error();

    data::ReadOptions opts = options;
    if (!opts.format)
        opts.format = data::formatForPath(file);
    if (noParse && !opts.typeOverrides.isEmpty())
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("column types (--type) are recorded by a parse; add without --no-parse to set them"),
                         {}, -1, QStringLiteral("type"));
    AddOutcome outcome;
    QElapsedTimer step;
    step.start();

    // From the first object written until the commit that references it, gc must not collect it.
    auto guard = ws.guardObjectWrites();
    if (!guard)
        return guard.error();
    // The store step (content-defined chunks, SHA-256 each, new chunks written into packs no one sees yet) runs on
    // its own thread over the mapped bytes while this one parses. Only once the parse has accepted every row does
    // the gate let the packs and the manifest land, so a refused file leaves nothing in the store or in git. Cancel
    // reaches both through `feedback`.
    auto mapped = mapFile(file);
    if (!mapped)
        return mapped.error();
    const auto fileStamp = [&] {
        const QFileInfo now(file);
        return std::pair{now.size(), now.fileTime(QFileDevice::FileModificationTime).toMSecsSinceEpoch()};
    };
    const auto stampBefore = fileStamp();
    Feedback storeFeedback;
    storeFeedback.setParent(feedback);
    // The parse follows the caller's cancel and its own: a store that fails (a full disk, say) stops the parse at
    // once, instead of letting it run to the end of the file only to report the store's error.
    Feedback parseFeedback;
    parseFeedback.setParent(feedback);
    parseFeedback.setCallback([feedback](qint64 done, qint64 total, const QString &stage) {
        reportProgress(feedback, done, total, stage);
    });
    std::promise<Status> verdict;   // set once by this thread: may the stored bytes land?
    std::shared_future<Status> mayLand = verdict.get_future().share();
    bool verdictGiven = false;
    auto decide = [&](Status s) {
        if (!verdictGiven) {
            verdictGiven = true;
            verdict.set_value(std::move(s));
        }
    };
    std::optional<Expected<store::AddResult>> storedOnThread;
    qint64 writtenMs = 0;   // the store thread's work before the gate: hashing and writing, overlapped with the parse
    std::thread storeThread;
    if (!noParse)   // without a parse there is nothing to overlap or to wait for
        storeThread = std::thread([&] {
            QElapsedTimer clock;
            clock.start();
            storedOnThread.emplace(ws.store().addGated(mapped->data, mapped->size, [&]() -> Status {
                writtenMs = clock.elapsed();
                Status answer = mayLand.get();
                // Both the parse and the store have finished reading the mapping by now: a file rewritten at any
                // point of the add is refused here, before its chunks can land under ids their bytes may not have.
                if (answer && fileStamp() != stampBefore)
                    return makeError(ErrorKind::Conflict,
                                     QStringLiteral("the file changed while it was being added; add it again"), file);
                return answer;
            }, &storeFeedback));
            if (!*storedOnThread)
                parseFeedback.cancel();
        });
    struct Joiner {   // an early return (a refused file) refuses the stored bytes and waits for the thread
        std::thread &t;
        Feedback &fb;
        std::function<void(Status)> refuse;
        ~Joiner()
        {
            if (t.joinable()) {
                fb.cancel();
                refuse(makeError(ErrorKind::Cancelled, QStringLiteral("cancelled")));
                t.join();
            }
        }
    } joinStore{storeThread, storeFeedback, decide};

    data::ReadInfo readInfo;
    std::optional<data::Table> table;
    if (noParse) {
        // Only what reading it back needs (format, delimiter, header), from the first rows; the rest on first use.
        data::ReadOptions preview = opts;
        preview.maxRows = 200;
        auto head = data::readTable(file, preview, nullptr, &readInfo);
        if (!head)
            return head.error();
    } else {
        // The store thread's mapping: one set of page tables for both readers of the file.
        auto parsed = data::readTable(file, QByteArrayView(mapped->data, mapped->size), opts, &parseFeedback, &readInfo);
        if (!parsed) {
            if (parsed.error().is(ErrorKind::Cancelled) && !isCancelled(feedback)) {   // stopped by the store's failure
                storeThread.join();
                return storedOnThread->error().withFile(file);
            }
            return parsed.error();   // the store thread is refused on the way out; nothing it wrote lands
        }
        table = std::move(*parsed);
    }
    outcome.parseMs = step.restart();
    Expected<store::AddResult> stored = makeError(QStringLiteral("not stored"));
    if (noParse) {
        stored = ws.store().addFile(file, feedback);
        if (!stored)
            return stored.error();
    } else {
        decide(Status());   // the parse accepted every row; the gate still checks that the file did not change
        storeThread.join();
        stored = std::move(*storedOnThread);
        if (!stored)
            return stored.error().withFile(file);
    }
    // The store step's own cost: hashing and writing (overlapped with the parse) plus publishing what was new.
    const qint64 storeMs = writtenMs + step.restart();
    const store::AddResult added = *stored;
    outcome.storeMs = storeMs;
    step.restart();

    DatasetRecord r;
    r.name = name;
    r.contentId = added.id;
    r.size = added.size;
    r.format = readInfo.format == data::FileFormat::Jsonl ? QStringLiteral("jsonl") : QStringLiteral("csv");
    r.source = info.fileName();
    r.delimiter = readInfo.delimiter;
    r.header = readInfo.header;
    r.missingTokens = opts.missingTokens;
    // Unparsed: the order the user asked for ("auto" unless given), not what 200 rows suggested; the first use
    // decides from the whole file, as a parsed add would.
    r.dateOrder = dateOrderName(noParse ? opts.dateOrder : readInfo.dateOrder);
    r.parsed = !noParse;
    if (table) {
        r.rows = table->rowCount();
        r.schema = table->schema();
        // The profile and the columnar cache both only read the table: compute one while the other is written.
        // The cache is rebuildable: failing to write it is not a reason to fail the add, but it is worth saying.
        Status cached;
        qint64 cacheMs = 0;
        std::thread cacheThread([&] {
            QElapsedTimer clock;
            clock.start();
            cached = data::writeMaterialisation(*table, cachePath(ws, r));
            cacheMs = clock.elapsed();
        });
        auto profile = data::profileTable(*table, feedback);
        cacheThread.join();
        if (!profile)
            return profile.error();
        r.profile = std::move(*profile);
        outcome.profileMs = step.restart();   // the wall time of both
        outcome.cacheMs = cacheMs;
        if (!cached)
            reportWarning(feedback, QStringLiteral("could not cache %1 (it will be re-read from the store): %2")
                                        .arg(name, cached.error().toString()));
    }

    auto lock = ws.lock();
    if (!lock)
        return lock.error();
    outcome.newBytes = added.newBytes;
    auto log = datasetLog(ws, name);
    if (!log)
        return log.error();
    const QJsonObject detailBase{{QStringLiteral("content_id"), r.contentId},
                                 {QStringLiteral("source"), info.absoluteFilePath()},
                                 {QStringLiteral("rows"), r.rows},
                                 {QStringLiteral("size"), r.size}};
    if (!log->empty()) {
        const DatasetVersion &latest = log->back();
        if (latest.record.contentId == r.contentId && (noParse || latest.record.schema == r.schema)
            && latest.record.missingTokens == r.missingTokens && latest.record.delimiter == r.delimiter
            && latest.record.header == r.header) {
            outcome.version = latest;
            outcome.unchanged = true;
            // An earlier add may have committed and then failed to write its audit event (and failed to undo the
            // commit): record the event now, so the audit trail covers every version.
            auto t = ws.tracking();
            if (!t)
                return t.error();
            auto recorded = (*t)->hasAuditEventFor(QStringLiteral("data.add"), latest.commit.id);
            if (!recorded)
                return recorded.error();
            if (!*recorded) {
                QJsonObject detail = detailBase;
                detail.insert(QStringLiteral("version"), latest.version);
                detail.insert(QStringLiteral("recorded_late"), true);
                if (Status s = ws.audit(QStringLiteral("data.add"), name, detail, latest.commit.id); !s)
                    return s.error();
            }
            return outcome;
        }
    }
    const QString msg = message.isEmpty() ? QStringLiteral("Add %1 from %2").arg(name, info.fileName()) : message;
    QMap<QString, QByteArray> files;
    files.insert(datasetPath(name), datasetRecordToYaml(r));
    QJsonObject detail = detailBase;
    detail.insert(QStringLiteral("version"), int(log->size()) + 1);
    auto commit = ws.commitAndAudit(files, msg, QStringLiteral("data.add"), name, detail);
    if (!commit)
        return commit.error();
    auto commitInfo = ws.git().commitInfo(*commit);
    if (!commitInfo)
        return commitInfo.error();
    outcome.commitMs = step.restart();
    outcome.version.record = std::move(r);
    outcome.version.version = int(log->size()) + 1;
    outcome.version.commit = *commitInfo;
    return outcome;
}

Expected<QStringList> listDatasets(Workspace &ws)
{
    QStringList out;
    auto headOr = ws.git().headCommit();
    if (!headOr)
        return headOr.error();
    const QString head = *headOr;
    if (head.isEmpty())
        return out;
    for (const QString &f : ws.git().listDirAt(head, QStringLiteral("datasets")))
        if (f.endsWith(QLatin1String(".yaml")))
            out << f.chopped(5);
    out.sort();
    return out;
}

Expected<std::vector<DatasetVersion>> datasetLog(Workspace &ws, const QString &name)
{
    const QString path = datasetPath(name);
    auto history = ws.git().historyOf(path);
    if (!history)
        return history.error();
    std::vector<DatasetVersion> out;
    int n = 0;
    for (const CommitInfo &c : *history) {
        auto bytes = ws.git().readFileAt(c.id, path);
        if (!bytes)
            return bytes.error();
        if (!*bytes)
            continue;
        auto record = datasetRecordFromYaml(**bytes, path + QLatin1Char('@') + c.id.left(10));
        if (!record)
            return record.error();
        DatasetVersion v;
        v.record = std::move(*record);
        v.version = ++n;
        v.commit = c;
        out.push_back(std::move(v));
    }
    return out;
}

Expected<DatasetVersion> resolveDataset(Workspace &ws, const QString &ref)
{
    const qsizetype at = ref.lastIndexOf(QLatin1Char('@'));
    const QString name = at < 0 ? ref : ref.left(at);
    const QString rev = at < 0 ? QString() : ref.mid(at + 1);
    if (Status s = validateDatasetName(name); !s)
        return s.error();
    auto log = datasetLog(ws, name);
    if (!log)
        return log.error();
    if (log->empty())
        return makeError(QStringLiteral("no dataset named '%1' (see 'keel data list')").arg(name));
    if (rev.isEmpty() || rev == u"latest")
        return log->back();
    static const QRegularExpression vN(QStringLiteral("^v([0-9]+)$"));
    if (const auto m = vN.match(rev); m.hasMatch()) {
        const int v = m.captured(1).toInt();
        if (v < 1 || v > int(log->size()))
            return makeError(QStringLiteral("%1 has versions v1 to v%2; there is no %3").arg(name).arg(log->size()).arg(rev));
        return (*log)[size_t(v - 1)];
    }
    auto commit = ws.git().resolveCommit(rev);
    if (!commit)
        return makeError(QStringLiteral("'%1' is neither vN, a commit nor a tag").arg(rev));
    const QString blob = ws.git().blobIdAt(*commit, datasetPath(name));
    if (blob.isEmpty())
        return makeError(QStringLiteral("dataset '%1' did not exist at %2").arg(name, rev));
    // The version in force at that commit: the newest version committed at it or before it. (Matching the pointer
    // file alone would be wrong: a later version that re-adds the same bytes has the same pointer file.)
    for (auto it = log->rbegin(); it != log->rend(); ++it)
        if (ws.git().isAncestorOrSelf(it->commit.id, *commit) && ws.git().blobIdAt(it->commit.id, datasetPath(name)) == blob)
            return *it;
    return makeError(QStringLiteral("dataset '%1' at %2 is not in the current history").arg(name, rev));
}

Status checkoutDataset(Workspace &ws, const DatasetVersion &version, const QString &outPath, const OutputPolicy &policy,
                       Feedback *feedback)
{
    if (Status s = checkOutputPath(outPath, policy); !s)
        return s;
    if (Status s = ws.store().checkout(version.record.contentId, outPath, feedback); !s)
        return s;
    return ws.audit(QStringLiteral("data.checkout"), version.record.name,
                    QJsonObject{{QStringLiteral("version"), version.version},
                                {QStringLiteral("content_id"), version.record.contentId},
                                {QStringLiteral("output"), QFileInfo(outPath).absoluteFilePath()}},
                    version.commit.id);
}

Status checkoutDatasetTo(Workspace &ws, const DatasetVersion &version, int fd, Feedback *feedback)
{
    if (Status s = ws.store().writeTo(version.record.contentId, fd, feedback); !s)
        return s;
    return ws.audit(QStringLiteral("data.checkout"), version.record.name,
                    QJsonObject{{QStringLiteral("version"), version.version},
                                {QStringLiteral("content_id"), version.record.contentId},
                                {QStringLiteral("output"), QStringLiteral("-")}},
                    version.commit.id);
}

Expected<data::Table> loadDataset(Workspace &ws, const DatasetVersion &version, Feedback *feedback)
{
    const DatasetRecord &r = version.record;
    const QString cache = cachePath(ws, r);
    // A version added with --no-parse has no recorded schema: its first use parses it (types detected as `data add`
    // would) and caches the table; later uses open the cache.
    if (QFileInfo::exists(cache)) {
        auto table = data::openMaterialisation(cache);
        if (table && (!r.parsed || sameSchema(*table, r)))
            return table;
        QFile::remove(cache); // damaged or stale: rebuild below
    }
    const QString tmp = ws.tmpDir() + QLatin1Char('/') + QUuid::createUuid().toString(QUuid::WithoutBraces)
        + (r.format == u"jsonl" ? QStringLiteral(".jsonl") : QStringLiteral(".csv"));
    if (Status s = ws.store().checkout(r.contentId, tmp, feedback); !s)
        return s.error();
    auto table = data::readTable(tmp, r.readOptions(), feedback);
    QFile::remove(tmp);
    if (!table)
        return table.error();
    if (r.parsed && !sameSchema(*table, r))
        return makeError(QStringLiteral("re-reading %1 gave a different table than recorded").arg(version.ref()));
    if (Status s = data::writeMaterialisation(*table, cache); !s)
        reportWarning(feedback, QStringLiteral("could not cache %1 (it will be re-read next time): %2")
                                    .arg(version.ref(), s.error().toString()));
    return table;
}

Expected<data::ValidationReport> validateDataset(Workspace &ws, const DatasetVersion &version, const data::Table &table,
                                                 const data::RuleSet &rules, Feedback *feedback)
{
    data::ValidationReport report = data::validateTable(table, rules, feedback);
    if (isCancelled(feedback))
        return cancelledError();
    if (Status s = ws.audit(QStringLiteral("data.validate"), version.record.name,
                            QJsonObject{{QStringLiteral("version"), version.version},
                                        {QStringLiteral("content_id"), version.record.contentId},
                                        {QStringLiteral("rules"), rules.source},
                                        {QStringLiteral("checked"), report.rulesChecked},
                                        {QStringLiteral("failed"), report.rulesFailed}},
                            version.commit.id);
        !s)
        return s.error();
    return report;
}

Expected<QSet<QString>> referencedObjects(Workspace &ws, const QStringList &extraTips)
{
    auto blobs = ws.git().allBlobsUnder(QStringLiteral("datasets"), QStringLiteral(".yaml"), extraTips);
    if (!blobs)
        return blobs.error();
    QSet<QString> ids;
    for (const QByteArray &b : *blobs) {
        // A file that does not parse as a dataset record (hand-edited) references nothing.
        auto n = yaml::parse(b, QStringLiteral("datasets"));
        if (n && n->IsMap() && (*n)["content_id"] && (*n)["content_id"].IsScalar())
            ids.insert(yaml::text((*n)["content_id"]));
    }
    return ids;
}

QSet<QString> registryCardObjects(const QByteArray &card)
{
    // Every "bundle": "<id>" entry of the card (the card format is registry::RegisteredModel::toYaml).
    static const QRegularExpression bundle(QStringLiteral("\"bundle\":\\s*\"([0-9a-f]{64})\""));
    QSet<QString> ids;
    for (auto it = bundle.globalMatch(QString::fromUtf8(card)); it.hasNext();)
        ids.insert(it.next().captured(1));
    return ids;
}

Expected<QSet<QString>> registryObjects(Workspace &ws, const QStringList &extraTips)
{
    auto blobs = ws.git().allBlobsUnder(QStringLiteral("models"), QStringLiteral(".yaml"), extraTips);
    if (!blobs)
        return blobs.error();
    QSet<QString> ids;
    for (const QByteArray &b : *blobs)
        ids |= registryCardObjects(b);
    return ids;
}

Expected<QSet<QString>> historyObjects(Workspace &ws, const QStringList &extraTips)
{
    auto datasets = referencedObjects(ws, extraTips);
    if (!datasets)
        return datasets.error();
    auto registry = registryObjects(ws, extraTips);
    if (!registry)
        return registry.error();
    return *datasets | *registry;
}

Expected<ExampleWorkspace> createExampleWorkspace(const QString &dir, Feedback *feedback, const QString &examplesDir)
{
    struct Example {
        const char *file;
        const char *name;
        const char *message;
    };
    static const Example examples[] = {
        {"adult_train.csv", "adult_train", "Adult census income, training part (UCI, CC BY 4.0)"},
        {"adult_test.csv", "adult_test", "Adult census income, test part (UCI, CC BY 4.0)"},
        {"diamonds.csv", "diamonds", "Diamond prices (ggplot2)"},
        {"bike_hour.csv", "bike", "Hourly bike rentals, Washington D.C. 2011-2012 (UCI, CC BY 4.0)"},
    };
    const QString source = examplesDir.isEmpty() ? Workspace::examplesDir() : examplesDir;
    if (source.isEmpty())
        return makeError(ErrorKind::NotFound, QStringLiteral("the bundled example data was not found (set KEEL_EXAMPLES_DIR)"));
    for (const Example &e : examples)
        if (!QFileInfo::exists(source + QLatin1Char('/') + QLatin1String(e.file)))
            return makeError(ErrorKind::NotFound, QStringLiteral("example data not found"),
                             source + QLatin1Char('/') + QLatin1String(e.file));
    auto ws = Workspace::init(dir);
    if (!ws)
        return ws.error();
    ExampleWorkspace out;
    const int steps = int(std::size(examples)) + 2;
    int step = 0;
    for (const Example &e : examples) {
        if (isCancelled(feedback))
            return cancelledError();
        reportProgress(feedback, step++, steps, QStringLiteral("add ") + QLatin1String(e.name));
        auto added = addDataset(**ws, source + QLatin1Char('/') + QLatin1String(e.file), QLatin1String(e.name),
                                QLatin1String(e.message), {}, nullptr);
        if (!added)
            return added.error();
        out.versions.push_back(added->version);
    }

    // A second adult_train version: the first 1,000 people leave, 2,000 from the test file arrive (their labels
    // without the test file's trailing dot).
    auto train = readFile(source + QStringLiteral("/adult_train.csv"));
    if (!train)
        return train.error();
    auto test = readFile(source + QStringLiteral("/adult_test.csv"));
    if (!test)
        return test.error();
    const QList<QByteArray> trainLines = train->split('\n');
    const QList<QByteArray> testLines = test->split('\n');
    QByteArray v2 = trainLines.value(0) + '\n';
    for (qsizetype i = 1001; i < trainLines.size(); ++i)
        if (!trainLines[i].isEmpty())
            v2 += trainLines[i] + '\n';
    for (qsizetype i = 1; i < testLines.size() && i <= 2000; ++i) {
        QByteArray line = testLines[i];
        if (line.endsWith("K.\""))
            line = line.left(line.size() - 3) + "K\"";
        v2 += line + '\n';
    }
    const QString v2Path = (*ws)->tmpDir() + QStringLiteral("/adult_train_refresh.csv");
    if (Status s = writeFileAtomic(v2Path, v2); !s)
        return s.error();
    reportProgress(feedback, step++, steps, QStringLiteral("add adult_train v2"));
    auto refreshed = addDataset(**ws, v2Path, QStringLiteral("adult_train"),
                                QStringLiteral("Refresh: drop 1,000 old rows, add 2,000 new ones"), {}, nullptr);
    QFile::remove(v2Path);
    if (!refreshed)
        return refreshed.error();
    out.versions.push_back(refreshed->version);

    // The example training configs, pipeline and rules, versioned with the workspace like any a user writes.
    reportProgress(feedback, step++, steps, QStringLiteral("configs"));
    QMap<QString, QByteArray> configs;
    QStringList others;
    for (const char *folder : {"configs", "pipelines", "rules"}) {
        const QString sub = QString::fromLatin1(folder);
        const QDir dir(source + QLatin1Char('/') + sub);
        for (const QString &f : dir.entryList({QStringLiteral("*.yaml")}, QDir::Files, QDir::Name)) {
            auto bytes = readFile(dir.filePath(f));
            if (!bytes)
                return bytes.error();
            configs.insert(sub + QLatin1Char('/') + f, *bytes);
            (sub == u"configs" ? out.configs : others) << sub + QLatin1Char('/') + f;
        }
    }
    if (!configs.isEmpty()) {
        auto lock = (*ws)->lock();
        if (!lock)
            return lock.error();
        auto commit = (*ws)->commitAndAudit(configs, QStringLiteral("Add example training configs, pipeline and rules"),
                                            QStringLiteral("configs.add"), (*ws)->root(),
                                            QJsonObject{{QStringLiteral("configs"), QJsonArray::fromStringList(out.configs)},
                                                        {QStringLiteral("files"), QJsonArray::fromStringList(others)}});
        if (!commit)
            return commit.error();
    }
    reportProgress(feedback, steps, steps, QStringLiteral("done"));
    out.workspace = std::move(*ws);
    return out;
}

namespace {

/// Where a remote's history and bytes are reached: a folder remote directly; an S3 remote through a local mirror of
/// its git repository (.keel/remotes/NAME/git) and its pack indexes (.keel/remotes/NAME/idx).
QString s3MirrorDir(Workspace &ws, const RemoteInfo &remote)
{
    return ws.keelDir() + QStringLiteral("/remotes/") + remote.name;
}

} // namespace

Status pushWorkspace(Workspace &ws, const QString &remoteName, Feedback *feedback)
{
    auto remote = ws.remote(remoteName);
    if (!remote)
        return remote.error();
    auto ids = historyObjects(ws);
    if (!ids)
        return ids.error();
    QSet<QString> present;
    for (const QString &id : *ids)
        if (ws.store().contains(id))
            present.insert(id);
    QJsonObject detail{{QStringLiteral("path"), remote->path}, {QStringLiteral("objects"), int(present.size())}};
    if (remote->isS3()) {
        auto client = s3ClientFor(*remote);
        if (!client)
            return client.error();
        const QString mirror = s3MirrorDir(ws, *remote) + QStringLiteral("/git");
        // The remote's history first, so a push that would lose someone else's commits is refused here.
        RemoteRefTags seen;
        if (auto fetched = downloadGitMirror(**client, mirror, &seen); !fetched)
            return fetched.error();
        // Objects first, history second: the remote never shows a version whose bytes it lacks.
        auto sent = pushObjectsToS3(**client, ws.store(), present, s3MirrorDir(ws, *remote) + QStringLiteral("/idx"), feedback);
        if (!sent)
            return sent.error();
        if (Status s = ws.git().push(mirror); !s)
            return s;
        if (Status s = uploadGitMirror(**client, mirror, &seen); !s)
            return s;
        detail.insert(QStringLiteral("endpoint"), remote->endpoint);
        detail.insert(QStringLiteral("bytes_sent"), double(sent->bytes));
    } else {
        const QString gitPath = remote->path + QStringLiteral("/git");
        if (!QFileInfo::exists(gitPath + QStringLiteral("/HEAD"))) {
            auto bare = GitRepo::init(gitPath, true);
            if (!bare)
                return bare.error();
        }
        auto remoteStore = store::ObjectStore::open(remote->path + QStringLiteral("/objects"), true);
        if (!remoteStore)
            return remoteStore.error();
        // Objects first, history second: the remote never shows a version whose bytes it lacks.
        if (Status s = copyMissingObjects(ws.store(), **remoteStore, present, feedback); !s)
            return s;
        if (Status s = ws.git().push(gitPath); !s)
            return s;
    }
    auto head = ws.git().headCommit();
    if (!head)
        return head.error();
    return ws.audit(QStringLiteral("push"), remote->name, detail, *head);
}

Expected<QString> pullWorkspace(Workspace &ws, const QString &remoteName, Feedback *feedback)
{
    auto remote = ws.remote(remoteName);
    if (!remote)
        return remote.error();
    QString gitPath;
    std::function<Status(const QSet<QString> &)> fetchObjects;
    std::unique_ptr<store::S3Client> client;
    std::unique_ptr<store::ObjectStore> remoteStore;
    if (remote->isS3()) {
        auto made = s3ClientFor(*remote);
        if (!made)
            return made.error();
        client = std::move(*made);
        gitPath = s3MirrorDir(ws, *remote) + QStringLiteral("/git");
        auto any = downloadGitMirror(*client, gitPath);
        if (!any)
            return any.error();
        if (!*any)
            return makeError(ErrorKind::NotFound, QStringLiteral("the remote holds no workspace yet (push to it first)"),
                             remote->path);
        fetchObjects = [&](const QSet<QString> &ids) {
            return pullObjectsFromS3(*client, ws.store(), ids, s3MirrorDir(ws, *remote) + QStringLiteral("/idx"), feedback)
                .status();
        };
    } else {
        gitPath = remote->path + QStringLiteral("/git");
        if (!QFileInfo::exists(gitPath + QStringLiteral("/HEAD")))
            return makeError(ErrorKind::NotFound, QStringLiteral("the remote holds no workspace yet (push to it first)"),
                             remote->path);
        auto opened = store::ObjectStore::open(remote->path + QStringLiteral("/objects"), false);
        if (!opened)
            return opened.error();
        remoteStore = std::move(*opened);
        fetchObjects = [&](const QSet<QString> &ids) { return copyMissingObjects(*remoteStore, ws.store(), ids, feedback); };
    }
    auto guard = ws.guardObjectWrites();
    if (!guard)
        return guard.error();
    auto lock = ws.lock();
    if (!lock)
        return lock.error();
    // History is staged, not yet part of the workspace; its bytes come first, verified chunk by chunk; only then
    // does the remote-tracking ref move and the history merge. A refused pull changes nothing.
    auto fetched = ws.git().fetch(gitPath, remote->name);
    if (!fetched)
        return fetched.error();
    auto ids = historyObjects(ws, fetched->isEmpty() ? QStringList() : QStringList{*fetched});
    Status copied = ids ? fetchObjects(*ids) : ids.status();
    if (!copied) {
        ws.git().discardFetched(remote->name);
        return copied.error();
    }
    if (Status s = ws.git().acceptFetched(remote->name); !s)
        return s.error();
    auto result = ws.git().integrate(*fetched, remote->name);
    if (!result)
        return result.error();
    auto head = ws.git().headCommit();
    if (!head)
        return head.error();
    if (Status s = ws.audit(QStringLiteral("pull"), remote->name,
                            QJsonObject{{QStringLiteral("path"), remote->path}, {QStringLiteral("result"), *result}},
                            *head);
        !s)
        return s.error();
    return result;
}

namespace {

/// Removes what a failed clone created: the folder itself when the clone made it, else everything inside the
/// (empty) folder it was given.
void removeFailedClone(const QString &dir, bool existed)
{
    QDir d(dir);
    if (!existed) {
        d.removeRecursively();
        return;
    }
    for (const QFileInfo &fi : d.entryInfoList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot)) {
        if (fi.isDir() && !fi.isSymLink())
            QDir(fi.absoluteFilePath()).removeRecursively();
        else
            QFile::remove(fi.absoluteFilePath());
    }
}

Expected<std::unique_ptr<Workspace>> cloneInto(const RemoteInfo &origin, const QString &dir, Feedback *feedback)
{
    const QString source = origin.path;
    // An S3 remote's history is mirrored into a scratch folder first, then cloned from there.
    QTemporaryDir scratch;
    std::unique_ptr<store::S3Client> client;
    QString gitPath = source + QStringLiteral("/git");
    std::unique_ptr<store::ObjectStore> remoteStore;
    if (origin.isS3()) {
        auto made = s3ClientFor(origin);
        if (!made)
            return made.error();
        client = std::move(*made);
        if (!scratch.isValid())
            return makeError(ErrorKind::Io, QStringLiteral("cannot create a temporary folder"), scratch.path());
        gitPath = scratch.filePath(QStringLiteral("git"));
        auto any = downloadGitMirror(*client, gitPath);
        if (!any)
            return any.error();
        if (!*any)
            return makeError(ErrorKind::NotFound, QStringLiteral("not a Keel remote (no git/ under the prefix)"), source);
    } else {
        auto opened = store::ObjectStore::open(source + QStringLiteral("/objects"), false);
        if (!opened)
            return opened.error();
        remoteStore = std::move(*opened);
    }
    auto git = GitRepo::clone(gitPath, dir);
    if (!git)
        return git.error();
    git->reset();
    auto ws = Workspace::open(dir);
    if (!ws)
        return ws.error();
    auto ids = historyObjects(**ws);
    if (!ids)
        return ids.error();
    if (client) {
        auto pulled = pullObjectsFromS3(*client, (*ws)->store(), *ids,
                                        (*ws)->keelDir() + QStringLiteral("/remotes/origin/idx"), feedback);
        if (!pulled)
            return pulled.error();
    } else if (Status s = copyMissingObjects(*remoteStore, (*ws)->store(), *ids, feedback); !s) {
        return s.error();
    }
    // Every version of the history must be here, intact: a remote whose push was cut short lacks some.
    for (const QString &id : *ids)
        if (!(*ws)->store().contains(id))
            return makeError(ErrorKind::Corrupt,
                             QStringLiteral("the remote lacks the bytes of a version (object %1); was its last push "
                                            "interrupted? Push again from a complete workspace").arg(id.left(16)),
                             source);
    auto remotes = (*ws)->remotes();
    if (!remotes)
        return remotes.error();
    const bool hasOrigin = std::any_of(remotes->begin(), remotes->end(), [&](const RemoteInfo &r) {
        return r.name == u"origin";
    });
    if (!hasOrigin) {
        if (Status s = (*ws)->addRemote(QStringLiteral("origin"), source, origin.endpoint, origin.region); !s)
            return s.error();
    }
    auto head = (*ws)->git().headCommit();
    if (!head)
        return head.error();
    if (Status s = (*ws)->audit(QStringLiteral("clone"), source, QJsonObject{{QStringLiteral("objects"), int(ids->size())}},
                                *head);
        !s)
        return s.error();
    return ws;
}

} // namespace

Expected<std::unique_ptr<Workspace>> cloneWorkspace(const QString &remotePath, const QString &dir, Feedback *feedback,
                                                    const QString &endpoint, const QString &region)
{
    RemoteInfo origin{QStringLiteral("origin"), remotePath, endpoint, region};
    if (origin.isS3()) {
        auto location = store::parseS3Url(remotePath);
        if (!location)
            return location.error();
        origin.path = location->url();
    } else {
        origin.path = QFileInfo(remotePath).absoluteFilePath();
        if (!QFileInfo::exists(origin.path + QStringLiteral("/git/HEAD")))
            return makeError(ErrorKind::NotFound, QStringLiteral("not a Keel remote (no git/ inside)"), origin.path);
    }
    const bool existed = QFileInfo::exists(dir);
    if (existed && (!QFileInfo(dir).isDir() || !QDir(dir).isEmpty()))
        return makeError(ErrorKind::Conflict, QStringLiteral("destination exists and is not an empty folder"), dir);
    auto ws = cloneInto(origin, dir, feedback);
    if (!ws)
        removeFailedClone(dir, existed);   // a retry finds the destination as it was
    return ws;
}

} // namespace keel::workspace
