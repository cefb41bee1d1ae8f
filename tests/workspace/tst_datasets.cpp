// Tests for versioned datasets (core/workspace/datasets.h) in real workspaces under a temporary folder: adding
// versions, the log, resolving NAME@vN / NAME@<commit> / NAME@<tag>, checkout, loading through the cache (and
// rebuilding it), the pointer-file YAML, name rules and the objects a history references. Values are checked
// against the bytes the test wrote, hand-computed tables, round trips, and the git command line.
#include "workspace/datasets.h"

#include "data/materialise.h"
#include "store/objectstore.h"
#include "tracking/trackingstore.h"
#include "util/hash.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace keel;
using namespace keel::workspace;

Q_DECLARE_METATYPE(keel::workspace::DatasetRecord)

namespace {

struct Cli {
    int code = -1;
    QByteArray out;
    QString text() const { return QString::fromUtf8(out).trimmed(); }
    QStringList lines() const { return text().split(QLatin1Char('\n'), Qt::SkipEmptyParts); }
};

Cli git(const QString &dir, const QStringList &args)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GIT_AUTHOR_NAME"), QStringLiteral("Cli Tester"));
    env.insert(QStringLiteral("GIT_AUTHOR_EMAIL"), QStringLiteral("cli@example.org"));
    env.insert(QStringLiteral("GIT_COMMITTER_NAME"), QStringLiteral("Cli Tester"));
    env.insert(QStringLiteral("GIT_COMMITTER_EMAIL"), QStringLiteral("cli@example.org"));
    p.setProcessEnvironment(env);
    p.start(QStringLiteral("git"), QStringList{QStringLiteral("-C"), dir} + args);
    Cli r;
    if (!p.waitForStarted(30000) || !p.waitForFinished(60000))
        return r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    return r;
}

bool writeBytes(const QString &path, const QByteArray &bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

QByteArray readBytes(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArrayLiteral("<missing>");
}

/// The people table as CSV: id, score, ok, day, colour, note. `variant` changes values; rows in `missing` have an
/// empty score. Every cell is also returned as the text displayAt() must show (hand-made: the CSV is built from it).
struct Sample {
    QByteArray csv;
    QList<QStringList> cells;   // per row, per column; "" for missing
};

Sample peopleCsv(int variant, int rows, const QList<int> &missing = {})
{
    static const char *colours[] = {"red", "blue", "red", "green", "blue", "red", "green", "red"};
    Sample s;
    s.csv = "id,score,ok,day,colour,note\n";
    for (int i = 0; i < rows; ++i) {
        const QString id = QString::number(i + 1 + 100 * variant);
        const QString score = missing.contains(i) ? QString() : QString::number(i * 1.25 + variant);
        const QString ok = (i + variant) % 2 == 0 ? QStringLiteral("true") : QStringLiteral("false");
        const QString day = QStringLiteral("2024-01-%1").arg(i + 1, 2, 10, QLatin1Char('0'));
        const QString colour = QString::fromLatin1(colours[(i + variant) % 8]);
        const QString note = QStringLiteral("note %1 of v%2").arg(i).arg(variant);
        const QStringList row = {id, score, ok, day, colour, note};
        s.cells << row;
        s.csv += row.join(QLatin1Char(',')).toUtf8() + '\n';
    }
    return s;
}

std::vector<data::Field> peopleSchema()
{
    return {{QStringLiteral("id"), data::ColumnType::Int64},      {QStringLiteral("score"), data::ColumnType::Float64},
            {QStringLiteral("ok"), data::ColumnType::Bool},       {QStringLiteral("day"), data::ColumnType::Datetime},
            {QStringLiteral("colour"), data::ColumnType::Categorical}, {QStringLiteral("note"), data::ColumnType::String}};
}

/// Every cell of `t` equals the hand-made text (and is missing exactly where the text is empty).
bool tableMatches(const data::Table &t, const QList<QStringList> &cells, QString *why)
{
    if (t.rowCount() != cells.size()) {
        *why = QStringLiteral("rows %1 != %2").arg(t.rowCount()).arg(cells.size());
        return false;
    }
    for (int r = 0; r < cells.size(); ++r) {
        for (int c = 0; c < t.columnCount(); ++c) {
            const QString want = cells[r][c];
            const QString got = t.column(c).displayAt(r);
            if (got != want || t.column(c).isNull(r) != want.isEmpty()) {
                *why = QStringLiteral("row %1 column %2: '%3' != '%4'").arg(r).arg(t.column(c).name(), got, want);
                return false;
            }
        }
    }
    return true;
}

QStringList cacheFiles(Workspace &ws)
{
    QStringList out;
    QDirIterator it(ws.cacheDir() + QStringLiteral("/tables"), {QStringLiteral("*.ktab")}, QDir::Files);
    while (it.hasNext())
        out << it.next();
    out.sort();
    return out;
}

void removeCaches(Workspace &ws)
{
    for (const QString &f : cacheFiles(ws))
        QFile::remove(f);
}

/// A small profile to put in records (the profile YAML itself is tested with the profile code).
data::TableProfile someProfile()
{
    data::ColumnBuilder x(data::ColumnType::Float64), c(data::ColumnType::Categorical);
    for (int i = 0; i < 5; ++i) {
        x.appendFloat64(i * 0.5);
        c.appendString(i % 2 ? "a" : "b");
    }
    x.appendNull();
    c.appendNull();
    const data::Table t({x.finish(QStringLiteral("x")), c.finish(QStringLiteral("c"))});
    auto p = data::profileTable(t);
    return p ? *p : data::TableProfile{};
}

QString hexId(char c) { return QString(64, QLatin1Char(c)); }

} // namespace

class TstDatasets : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    int m_counter = 0;
    // The shared workspace: people v1, people v2 (tagged "release"), other v1, people v3.
    std::unique_ptr<Workspace> m_ws;
    QString m_initCommit;
    QStringList m_peopleCommits;    // commits of people v1..v3
    QString m_otherCommit;
    QList<Sample> m_people;         // the CSV of v1..v3
    QStringList m_peopleFiles;
    QStringList m_peopleIds;        // content ids of v1..v3
    QString m_otherId;
    QList<AddOutcome> m_outcomes;   // people v1..v3

    QString newDir(const QString &stem) { return m_tmp.filePath(stem + QString::number(++m_counter)); }

    std::unique_ptr<Workspace> newWorkspace()
    {
        auto ws = Workspace::init(newDir(QStringLiteral("ws")));
        if (!ws) {
            qWarning("workspace init failed: %s", qPrintable(ws.message()));
            return {};
        }
        return std::move(*ws);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        if (QStandardPaths::findExecutable(QStringLiteral("git")).isEmpty())
            QSKIP("the git command line is needed to check the commits");
        // Hermetic git: no user configuration, a known OS user (set before libgit2 initialises).
        qputenv("HOME", QFile::encodeName(m_tmp.path()));
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_tmp.filePath(QStringLiteral("xdg"))));
        qputenv("GIT_CONFIG_NOSYSTEM", "1");
        qputenv("USER", "keeltester");

        m_ws = newWorkspace();
        QVERIFY(m_ws);
        m_initCommit = m_ws->git().headCommit().value();
        QVERIFY(!m_initCommit.isEmpty());

        m_people = {peopleCsv(0, 6), peopleCsv(1, 7, {2}), peopleCsv(2, 6, {0, 4})};
        for (int v = 0; v < 3; ++v) {
            // The same file name in each folder: the records differ only by what the bytes make them.
            const QString file = m_tmp.filePath(QStringLiteral("v%1/people.csv").arg(v + 1));
            QVERIFY(writeBytes(file, m_people[v].csv));
            m_peopleFiles << file;
        }
        const QString otherFile = m_tmp.filePath(QStringLiteral("other.csv"));
        QVERIFY(writeBytes(otherFile, QByteArrayLiteral("k,v\na,1\nb,2\n")));

        auto add = [&](const QString &file, const QString &name, const QString &message) -> Expected<AddOutcome> {
            return addDataset(*m_ws, file, name, message, {});
        };
        auto v1 = add(m_peopleFiles[0], QStringLiteral("people"), {});
        QVERIFY2(v1, qPrintable(v1.message()));
        auto v2 = add(m_peopleFiles[1], QStringLiteral("people"), QStringLiteral("second cut"));
        QVERIFY2(v2, qPrintable(v2.message()));
        auto tagged = m_ws->tagHead(QStringLiteral("release"), QStringLiteral("people v2 released"));
        QVERIFY2(tagged, qPrintable(tagged.message()));
        QCOMPARE(*tagged, v2->version.commit.id);
        auto o1 = add(otherFile, QStringLiteral("other"), {});
        QVERIFY2(o1, qPrintable(o1.message()));
        auto v3 = add(m_peopleFiles[2], QStringLiteral("people"), {});
        QVERIFY2(v3, qPrintable(v3.message()));
        for (const auto *o : {&*v1, &*v2, &*v3}) {
            m_outcomes << *o;
            m_peopleCommits << o->version.commit.id;
            m_peopleIds << o->version.record.contentId;
        }
        m_otherCommit = o1->version.commit.id;
        m_otherId = o1->version.record.contentId;
    }

    // --- names -----------------------------------------------------------------------------------------------

    void validateDatasetName_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("valid");
        QTest::newRow("plain") << QStringLiteral("adult") << true;
        QTest::newRow("one char") << QStringLiteral("a") << true;
        QTest::newRow("digit first") << QStringLiteral("9lives") << true;
        QTest::newRow("all allowed") << QStringLiteral("A.b_c-1") << true;
        QTest::newRow("128 chars") << QString(128, QLatin1Char('x')) << true;
        QTest::newRow("129 chars") << QString(129, QLatin1Char('x')) << false;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("slash") << QStringLiteral("a/b") << false;
        QTest::newRow("backslash") << QStringLiteral("a\\b") << false;
        QTest::newRow("dot dot") << QStringLiteral("..") << false;
        QTest::newRow("inner dot dot") << QStringLiteral("a..b") << false;
        QTest::newRow("leading dot") << QStringLiteral(".hidden") << false;
        QTest::newRow("leading dash") << QStringLiteral("-x") << false;
        QTest::newRow("leading underscore") << QStringLiteral("_x") << false;
        QTest::newRow("space") << QStringLiteral("a b") << false;
        QTest::newRow("at sign") << QStringLiteral("a@v1") << false;
        QTest::newRow("colon") << QStringLiteral("a:b") << false;
        QTest::newRow("non-ASCII letter") << QString::fromUtf8("café") << false;
        QTest::newRow("trailing newline") << QStringLiteral("abc\n") << false;
    }
    void validateDatasetName()
    {
        QFETCH(QString, name);
        QFETCH(bool, valid);
        const Status s = keel::workspace::validateDatasetName(name);
        // A '$' anchor would also match before a final "\n": "abc\n" must not become "datasets/abc\n.yaml".
        QCOMPARE(s.isOk(), valid);
        if (!valid && !s.isOk())
            QVERIFY(!s.error().message.isEmpty());
    }

    // --- the pointer file ------------------------------------------------------------------------------------

    void recordYamlRoundTrip_data()
    {
        QTest::addColumn<DatasetRecord>("record");
        DatasetRecord base;
        base.name = QStringLiteral("adult");
        base.contentId = QStringLiteral("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        base.size = 123456789012;
        base.format = QStringLiteral("csv");
        base.source = QStringLiteral("adult_train.csv");
        base.rows = 5;
        base.delimiter = ',';
        base.header = true;
        base.missingTokens = {QString(), QStringLiteral("NA"), QStringLiteral("?")};
        base.dateOrder = QStringLiteral("auto");
        base.schema = {{QStringLiteral("i"), data::ColumnType::Int64},   {QStringLiteral("f"), data::ColumnType::Float64},
                       {QStringLiteral("b"), data::ColumnType::Bool},    {QStringLiteral("d"), data::ColumnType::Datetime},
                       {QStringLiteral("c"), data::ColumnType::Categorical}, {QStringLiteral("s"), data::ColumnType::String}};
        base.profile = someProfile();
        QTest::newRow("csv") << base;

        DatasetRecord r = base;
        r.delimiter = '\t';
        r.source = QStringLiteral("table.tsv");
        QTest::newRow("tab") << r;
        r = base;
        r.delimiter = ';';
        r.header = false;
        r.dateOrder = QStringLiteral("day-first");
        QTest::newRow("semicolon, no header, day-first") << r;
        r = base;
        r.delimiter = '|';
        r.dateOrder = QStringLiteral("month-first");
        QTest::newRow("pipe, month-first") << r;
        r = base;
        r.format = QStringLiteral("jsonl");
        r.source = QStringLiteral("events.jsonl");
        QTest::newRow("jsonl") << r;
        r = base;
        r.missingTokens = {QStringLiteral("-"), QStringLiteral("\"quoted\""), QStringLiteral("a: b"),
                           QStringLiteral(" padded "), QStringLiteral("#"), QStringLiteral("null"), QStringLiteral("~")};
        QTest::newRow("awkward missing tokens") << r;
        r = base;
        r.missingTokens.clear();
        QTest::newRow("no missing tokens") << r;
        r = base;
        r.source = QString::fromUtf8("données: v2 #1.csv");
        r.name = QStringLiteral("1.5e3");
        QTest::newRow("awkward source and numeric-looking name") << r;
        r = base;
        r.source = QStringLiteral("null");
        r.name = QStringLiteral("true");
        QTest::newRow("YAML keywords as text") << r;
        r = base;
        r.schema = {{QStringLiteral("a: b"), data::ColumnType::String}, {QString::fromUtf8("Größe"), data::ColumnType::Float64},
                    {QStringLiteral("- dash"), data::ColumnType::Int64}};
        r.profile = {};
        QTest::newRow("awkward column names, no profile") << r;
        r = base;
        r.rows = 0;
        r.size = 0;
        r.schema.clear();
        r.profile = {};
        QTest::newRow("empty table") << r;
    }
    void recordYamlRoundTrip()
    {
        QFETCH(DatasetRecord, record);
        const QByteArray yaml = datasetRecordToYaml(record);
        auto parsed = datasetRecordFromYaml(yaml, QStringLiteral("datasets/x.yaml"));
        QVERIFY2(parsed, qPrintable(parsed.message() + QStringLiteral("\n") + QString::fromUtf8(yaml)));
        QCOMPARE(parsed->name, record.name);
        QCOMPARE(parsed->contentId, record.contentId);
        QCOMPARE(parsed->size, record.size);
        QCOMPARE(parsed->format, record.format);
        QCOMPARE(parsed->source, record.source);
        QCOMPARE(parsed->rows, record.rows);
        QCOMPARE(parsed->delimiter, record.delimiter);
        QCOMPARE(parsed->header, record.header);
        QCOMPARE(parsed->missingTokens, record.missingTokens);
        QCOMPARE(parsed->dateOrder, record.dateOrder);
        QVERIFY(parsed->schema == record.schema);
        QCOMPARE(QJsonDocument(data::profileToJson(parsed->profile)).toJson(),
                 QJsonDocument(data::profileToJson(record.profile)).toJson());
        // A fixed point: writing what was read gives the same bytes.
        QCOMPARE(datasetRecordToYaml(*parsed), yaml);

        // The read options re-create the parse.
        const data::ReadOptions o = parsed->readOptions();
        QVERIFY(o.format.has_value());
        QCOMPARE(*o.format == data::FileFormat::Jsonl, record.format == u"jsonl");
        QVERIFY(o.delimiter == record.delimiter);
        QVERIFY(o.header == record.header);
        QCOMPARE(o.missingTokens, record.missingTokens);
        const data::DateOrder order = record.dateOrder == u"day-first"     ? data::DateOrder::DayFirst
                                      : record.dateOrder == u"month-first" ? data::DateOrder::MonthFirst
                                                                           : data::DateOrder::Auto;
        QVERIFY(o.dateOrder == order);
        QCOMPARE(o.typeOverrides.size(), qsizetype(record.schema.size()));
        for (const auto &f : record.schema)
            QVERIFY(o.typeOverrides.value(f.name) == f.type);
    }

    void recordFromMinimalYaml()
    {
        // Only the required keys: the rest takes its documented default.
        const QByteArray yaml = "name: d\ncontent_id: " + hexId('a').toLatin1()
            + "\nsize: 3\nrows: 1\nschema:\n  - {name: x, type: int}\n";
        auto r = datasetRecordFromYaml(yaml, QStringLiteral("d.yaml"));
        QVERIFY2(r, qPrintable(r.message()));
        QCOMPARE(r->name, QStringLiteral("d"));
        QCOMPARE(r->format, QStringLiteral("csv"));
        QCOMPARE(r->source, QString());
        QCOMPARE(r->delimiter, ',');
        QCOMPARE(r->header, true);
        QCOMPARE(r->rows, 1);
        QCOMPARE(int(r->schema.size()), 1);
        QVERIFY(r->schema[0].type == data::ColumnType::Int64);   // the alias "int"
        QVERIFY(r->profile.columns.empty());
    }

    void recordFromYamlErrors_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<int>("line");   // expected 1-based line, or -1 when not checked
        QTest::addColumn<QString>("field");
        const QByteArray id = hexId('b').toLatin1();
        QTest::newRow("a list") << QByteArray("- a\n- b\n") << 1 << QString();
        QTest::newRow("a scalar") << QByteArray("just text\n") << 1 << QString();
        QTest::newRow("not hex content id") << QByteArray("name: d\ncontent_id: xyz\nsize: 1\nrows: 1\n") << 2
                                            << QStringLiteral("content_id");
        QTest::newRow("short content id") << QByteArray("name: d\ncontent_id: " + id.left(63) + "\nsize: 1\nrows: 1\n")
                                          << 2 << QStringLiteral("content_id");
        QTest::newRow("unknown type") << QByteArray("name: d\ncontent_id: " + id
                                                    + "\nsize: 1\nrows: 1\nschema:\n  - {name: a, type: int64}\n"
                                                      "  - {name: b, type: complex}\n")
                                      << 7 << QStringLiteral("schema");
        QTest::newRow("no rows") << QByteArray("name: d\ncontent_id: " + id + "\nsize: 1\n") << -1 << QString();
        QTest::newRow("rows not a number") << QByteArray("name: d\ncontent_id: " + id + "\nsize: 1\nrows: many\n") << -1
                                           << QString();
        QTest::newRow("broken YAML") << QByteArray("name: [unclosed\n") << -1 << QString();
    }
    void recordFromYamlErrors()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(int, line);
        QFETCH(QString, field);
        auto r = datasetRecordFromYaml(yaml, QStringLiteral("datasets/bad.yaml"));
        QVERIFY(!r);
        QCOMPARE(r.error().file, QStringLiteral("datasets/bad.yaml"));
        QVERIFY(!r.error().message.isEmpty());
        if (line > 0)
            QCOMPARE(r.error().line, qint64(line));
        if (!field.isEmpty())
            QCOMPARE(r.error().field, field);
    }

    // --- adding and the log ----------------------------------------------------------------------------------

    void addRecordsTheFile()
    {
        for (int v = 0; v < 3; ++v) {
            const AddOutcome &o = m_outcomes[v];
            const DatasetRecord &r = o.version.record;
            QVERIFY(!o.unchanged);
            QCOMPARE(o.version.version, v + 1);
            QCOMPARE(o.version.ref(), QStringLiteral("people@v%1").arg(v + 1));
            QCOMPARE(r.name, QStringLiteral("people"));
            QCOMPARE(r.source, QStringLiteral("people.csv"));
            QCOMPARE(r.format, QStringLiteral("csv"));
            QCOMPARE(r.size, qint64(m_people[v].csv.size()));
            QCOMPARE(r.rows, qint64(m_people[v].cells.size()));
            QCOMPARE(r.delimiter, ',');
            QVERIFY(r.header);
            QVERIFY(r.schema == peopleSchema());
            QCOMPARE(r.profile.rows, r.rows);
            QCOMPARE(int(r.profile.columns.size()), 6);
            QVERIFY(isHexId(r.contentId));
            // The store holds exactly the original bytes.
            auto stored = m_ws->store().readAll(r.contentId);
            QVERIFY2(stored, qPrintable(stored.message()));
            QCOMPARE(*stored, m_people[v].csv);
            QVERIFY(o.newBytes > 0);
        }
        QCOMPARE(QSet<QString>(m_peopleIds.begin(), m_peopleIds.end()).size(), 3);
        // Missing scores: v2 row 2, v3 rows 0 and 4, as the profile counts them.
        QCOMPARE(m_outcomes[0].version.record.profile.columns[1].missing, 0);
        QCOMPARE(m_outcomes[1].version.record.profile.columns[1].missing, 1);
        QCOMPARE(m_outcomes[2].version.record.profile.columns[1].missing, 2);
    }

    void addCommitsThePointerFile()
    {
        const QString dir = m_ws->root();
        // Each add is one commit on main, in order, touching only datasets/NAME.yaml.
        const QStringList log = git(dir, {QStringLiteral("log"), QStringLiteral("--reverse"), QStringLiteral("--format=%H")})
                                    .lines();
        QCOMPARE(log, (QStringList{m_initCommit, m_peopleCommits[0], m_peopleCommits[1], m_otherCommit,
                                   m_peopleCommits[2]}));
        for (int v = 0; v < 3; ++v) {
            const QString id = m_peopleCommits[v];
            // (and the audit trail's head, audit/CHAIN.head, which every commit records)
            const QStringList touched = git(dir, {QStringLiteral("diff-tree"), QStringLiteral("--no-commit-id"), QStringLiteral("--name-only"),
                                                  QStringLiteral("-r"), id})
                                            .lines();
            QCOMPARE(touched.size(), 2);
            QVERIFY(touched.contains(QStringLiteral("datasets/people.yaml")));
            QVERIFY2(touched.front().startsWith(QStringLiteral("audit/")) && touched.front().endsWith(QStringLiteral(".head")), qPrintable(touched.join(QLatin1Char(' '))));
            const Cli pointer = git(dir, {QStringLiteral("show"), id + QStringLiteral(":datasets/people.yaml")});
            QCOMPARE(pointer.code, 0);
            QCOMPARE(pointer.out, datasetRecordToYaml(m_outcomes[v].version.record));
            auto parsed = datasetRecordFromYaml(pointer.out, QStringLiteral("people.yaml"));
            QVERIFY(parsed);
            QCOMPARE(parsed->contentId, m_peopleIds[v]);
        }
        QCOMPARE(git(dir, {QStringLiteral("log"), QStringLiteral("-1"), QStringLiteral("--format=%s"), m_peopleCommits[0]})
                     .text(),
                 QStringLiteral("Add people from people.csv"));
        QCOMPARE(git(dir, {QStringLiteral("log"), QStringLiteral("-1"), QStringLiteral("--format=%s"), m_peopleCommits[1]})
                     .text(),
                 QStringLiteral("second cut"));
        QCOMPARE(git(dir, {QStringLiteral("status"), QStringLiteral("--porcelain")}).text(), QString());
        // One data.add audit event per version, naming its commit.
        auto t = m_ws->tracking();
        QVERIFY(t);
        auto events = (*t)->auditEvents(QStringLiteral("people"));
        QVERIFY(events);
        QStringList addCommits;
        for (const auto &e : *events)
            if (e.action == u"data.add")
                addCommits << e.commit;
        QCOMPARE(sorted(addCommits), sorted(m_peopleCommits));
    }

    void datasetLog()
    {
        auto log = keel::workspace::datasetLog(*m_ws, QStringLiteral("people"));
        QVERIFY2(log, qPrintable(log.message()));
        QCOMPARE(int(log->size()), 3);
        const QStringList gitLog = git(m_ws->root(), {QStringLiteral("log"), QStringLiteral("--reverse"),
                                                      QStringLiteral("--format=%H"), QStringLiteral("--"),
                                                      QStringLiteral("datasets/people.yaml")})
                                       .lines();
        QCOMPARE(gitLog, m_peopleCommits);
        for (int v = 0; v < 3; ++v) {
            const DatasetVersion &dv = (*log)[size_t(v)];
            QCOMPARE(dv.version, v + 1);
            QCOMPARE(dv.commit.id, m_peopleCommits[v]);
            QCOMPARE(dv.record.contentId, m_peopleIds[v]);
            QCOMPARE(datasetRecordToYaml(dv.record), datasetRecordToYaml(m_outcomes[v].version.record));
            QCOMPARE(dv.commit.message, m_outcomes[v].version.commit.message);
        }
        auto other = keel::workspace::datasetLog(*m_ws, QStringLiteral("other"));
        QVERIFY(other);
        QCOMPARE(int(other->size()), 1);
        QCOMPARE(other->front().commit.id, m_otherCommit);
        auto none = keel::workspace::datasetLog(*m_ws, QStringLiteral("nosuch"));
        QVERIFY(none);
        QVERIFY(none->empty());
    }

    void listDatasets()
    {
        auto names = keel::workspace::listDatasets(*m_ws);
        QVERIFY(names);
        QCOMPARE(*names, (QStringList{QStringLiteral("other"), QStringLiteral("people")}));
        QStringList files = git(m_ws->root(), {QStringLiteral("ls-tree"), QStringLiteral("--name-only"),
                                               QStringLiteral("HEAD"), QStringLiteral("datasets/")})
                                .lines();
        QCOMPARE(files, (QStringList{QStringLiteral("datasets/other.yaml"), QStringLiteral("datasets/people.yaml")}));
    }

    // --- resolving references --------------------------------------------------------------------------------

    void resolveDataset_data()
    {
        QTest::addColumn<QString>("ref");
        QTest::addColumn<int>("version");   // 0: an error
        const QString p = QStringLiteral("people@");
        QTest::newRow("bare name") << QStringLiteral("people") << 3;
        QTest::newRow("latest") << p + QStringLiteral("latest") << 3;
        QTest::newRow("v1") << p + QStringLiteral("v1") << 1;
        QTest::newRow("v2") << p + QStringLiteral("v2") << 2;
        QTest::newRow("v3") << p + QStringLiteral("v3") << 3;
        QTest::newRow("v0") << p + QStringLiteral("v0") << 0;
        QTest::newRow("v4") << p + QStringLiteral("v4") << 0;
        QTest::newRow("commit of v1") << p + m_peopleCommits.value(0) << 1;
        QTest::newRow("short commit of v2") << p + m_peopleCommits.value(1).left(8) << 2;
        QTest::newRow("commit of v3") << p + m_peopleCommits.value(2) << 3;
        QTest::newRow("later commit, v2 in force") << p + m_otherCommit << 2;   // members are empty under -datatags
        QTest::newRow("tag") << p + QStringLiteral("release") << 2;
        QTest::newRow("HEAD") << p + QStringLiteral("HEAD") << 3;
        QTest::newRow("HEAD~1") << p + QStringLiteral("HEAD~1") << 2;
        QTest::newRow("branch") << p + QStringLiteral("main") << 3;
        QTest::newRow("before it existed") << p + m_initCommit << 0;
        QTest::newRow("unknown revision") << p + QStringLiteral("nonsense") << 0;
        QTest::newRow("unknown dataset") << QStringLiteral("nosuch") << 0;
        QTest::newRow("unknown dataset v1") << QStringLiteral("nosuch@v1") << 0;
        QTest::newRow("invalid name") << QStringLiteral("bad/name@v1") << 0;
        QTest::newRow("no name") << QStringLiteral("@v1") << 0;
        QTest::newRow("empty") << QString() << 0;
    }
    void resolveDataset()
    {
        QFETCH(QString, ref);
        QFETCH(int, version);
        auto resolved = keel::workspace::resolveDataset(*m_ws, ref);
        if (version == 0) {
            QVERIFY(!resolved);
            QVERIFY(!resolved.error().message.isEmpty());
            return;
        }
        QVERIFY2(resolved, qPrintable(resolved.message()));
        QCOMPARE(resolved->version, version);
        QCOMPARE(resolved->commit.id, m_peopleCommits[version - 1]);
        QCOMPARE(resolved->record.contentId, m_peopleIds[version - 1]);
        QCOMPARE(resolved->record.rows, qint64(m_people[version - 1].cells.size()));
    }

    void resolveOtherDataset()
    {
        auto before = keel::workspace::resolveDataset(*m_ws, QStringLiteral("other@") + m_peopleCommits[1]);
        QVERIFY(!before);   // other was added after people v2
        auto at = keel::workspace::resolveDataset(*m_ws, QStringLiteral("other@") + m_peopleCommits[2]);
        QVERIFY2(at, qPrintable(at.message()));
        QCOMPARE(at->record.contentId, m_otherId);
        QCOMPARE(at->commit.id, m_otherCommit);
    }

    // --- checkout --------------------------------------------------------------------------------------------

    void checkoutDataset()
    {
        const QString out = newDir(QStringLiteral("out"));
        QVERIFY(QDir().mkpath(out));
        const QString path = out + QStringLiteral("/people.csv");
        auto v1 = keel::workspace::resolveDataset(*m_ws, QStringLiteral("people@v1"));
        auto v2 = keel::workspace::resolveDataset(*m_ws, QStringLiteral("people@v2"));
        QVERIFY(v1 && v2);
        Status s = keel::workspace::checkoutDataset(*m_ws, *v1, path, {});
        QVERIFY2(s, qPrintable(s.message()));
        QCOMPARE(readBytes(path), m_people[0].csv);
        // Nothing else is left beside it.
        QCOMPARE(QDir(out).entryList(QDir::Files | QDir::Hidden), QStringList{QStringLiteral("people.csv")});

        // An existing file is kept unless the policy allows replacing it.
        Status refused = keel::workspace::checkoutDataset(*m_ws, *v2, path, {});
        QVERIFY(!refused);
        QVERIFY(refused.is(ErrorKind::Conflict));
        QCOMPARE(readBytes(path), m_people[0].csv);
        OutputPolicy force;
        force.overwrite = true;
        QVERIFY(keel::workspace::checkoutDataset(*m_ws, *v2, path, force));
        QCOMPARE(readBytes(path), m_people[1].csv);

        // Never into the workspace's own .keel folder.
        const QString inside = m_ws->keelDir() + QStringLiteral("/people.csv");
        Status intoKeel = keel::workspace::checkoutDataset(*m_ws, *v1, inside, force);
        QVERIFY(!intoKeel);
        QVERIFY(!QFileInfo::exists(inside));

        // Each checkout is in the audit trail with its version and output.
        auto t = m_ws->tracking();
        QVERIFY(t);
        auto events = (*t)->auditEvents(QStringLiteral("people"));
        QVERIFY(events);
        QList<int> versions;
        for (const auto &e : *events) {
            if (e.action != u"data.checkout")
                continue;
            QCOMPARE(e.detail.value(QStringLiteral("output")).toString(), QFileInfo(path).absoluteFilePath());
            versions << e.detail.value(QStringLiteral("version")).toInt();
            QCOMPARE(e.commit, m_peopleCommits[versions.last() - 1]);
        }
        std::sort(versions.begin(), versions.end());
        QCOMPARE(versions, (QList<int>{1, 2}));
    }

    void checkoutDatasetTo()
    {
        auto v3 = keel::workspace::resolveDataset(*m_ws, QStringLiteral("people@v3"));
        QVERIFY(v3);
        const QString path = newDir(QStringLiteral("stream")) + QStringLiteral(".csv");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        Status s = keel::workspace::checkoutDatasetTo(*m_ws, *v3, f.handle());
        f.close();
        QVERIFY2(s, qPrintable(s.message()));
        QCOMPARE(readBytes(path), m_people[2].csv);

        // A version whose bytes the store lacks is an error, and nothing is written.
        DatasetVersion ghost = *v3;
        ghost.record.contentId = hexId('c');
        QFile g(path + QStringLiteral(".ghost"));
        QVERIFY(g.open(QIODevice::WriteOnly));
        Status missing = keel::workspace::checkoutDatasetTo(*m_ws, ghost, g.handle());
        g.close();
        QVERIFY(!missing);
        QCOMPARE(QFileInfo(g.fileName()).size(), 0);
    }

    // --- loading through the cache ---------------------------------------------------------------------------

    void loadDataset_data()
    {
        QTest::addColumn<int>("version");
        QTest::newRow("v1") << 1;
        QTest::newRow("v2 (a missing score)") << 2;
        QTest::newRow("v3 (two missing scores)") << 3;
    }
    void loadDataset()
    {
        QFETCH(int, version);
        auto v = keel::workspace::resolveDataset(*m_ws, QStringLiteral("people@v%1").arg(version));
        QVERIFY(v);
        const QList<QStringList> &cells = m_people[version - 1].cells;
        QString why;

        // From the cache the add wrote.
        auto cached = keel::workspace::loadDataset(*m_ws, *v);
        QVERIFY2(cached, qPrintable(cached.message()));
        QVERIFY(cached->schema() == peopleSchema());
        QVERIFY2(tableMatches(*cached, cells, &why), qPrintable(why));

        // Without any cache: rebuilt from the store, and the cache written again.
        removeCaches(*m_ws);
        auto rebuilt = keel::workspace::loadDataset(*m_ws, *v);
        QVERIFY2(rebuilt, qPrintable(rebuilt.message()));
        QVERIFY2(tableMatches(*rebuilt, cells, &why), qPrintable(why));
        const QStringList caches = cacheFiles(*m_ws);
        QCOMPARE(caches.size(), 1);
        const QString cache = caches.front();
        auto reopened = data::openMaterialisation(cache);
        QVERIFY2(reopened, qPrintable(reopened.message()));
        QVERIFY2(tableMatches(*reopened, cells, &why), qPrintable(why));
        QVERIFY(keel::workspace::loadDataset(*m_ws, *v));
        QCOMPARE(cacheFiles(*m_ws), caches);   // the next load uses it

        // Every kind of damaged cache is replaced, never trusted.
        const QByteArray good = readBytes(cache);
        const QList<QByteArray> damaged = {QByteArray(), QByteArray("not a table at all"), good.left(good.size() / 2),
                                           QByteArray(good).replace(0, 8, "KEELTAB9")};
        for (const QByteArray &bad : damaged) {
            QVERIFY(writeBytes(cache, bad));
            auto again = keel::workspace::loadDataset(*m_ws, *v);
            QVERIFY2(again, qPrintable(again.message()));
            QVERIFY2(tableMatches(*again, cells, &why), qPrintable(why));
            QVERIFY(data::openMaterialisation(cache));
        }

        // A well-formed cache of a different table at that path (stale) is rebuilt too.
        data::ColumnBuilder b(data::ColumnType::Int64);
        b.appendInt64(1);
        QVERIFY(data::writeMaterialisation(data::Table({b.finish(QStringLiteral("id"))}), cache));
        auto fresh = keel::workspace::loadDataset(*m_ws, *v);
        QVERIFY2(fresh, qPrintable(fresh.message()));
        QVERIFY2(tableMatches(*fresh, cells, &why), qPrintable(why));
        auto rewritten = data::openMaterialisation(cache);
        QVERIFY(rewritten);
        QVERIFY(rewritten->schema() == peopleSchema());
    }

    void loadDatasetErrors()
    {
        auto v1 = keel::workspace::resolveDataset(*m_ws, QStringLiteral("people@v1"));
        QVERIFY(v1);
        // Bytes the store does not have, and no cache: an error, not a crash.
        DatasetVersion ghost = *v1;
        ghost.record.contentId = hexId('d');
        QVERIFY(!keel::workspace::loadDataset(*m_ws, ghost));
        // A record that the bytes do not re-create: refused.
        DatasetVersion wrong = *v1;
        wrong.record.rows = 99;
        auto refused = keel::workspace::loadDataset(*m_ws, wrong);
        QVERIFY(!refused);
        QVERIFY(refused.error().message.contains(QStringLiteral("people@v1")));
        // The real version still loads.
        auto ok = keel::workspace::loadDataset(*m_ws, *v1);
        QVERIFY2(ok, qPrintable(ok.message()));
        QCOMPARE(ok->rowCount(), 6);
        // Nothing left in the workspace's tmp folder.
        QCOMPARE(QDir(m_ws->tmpDir()).entryList(QDir::Files | QDir::NoDotAndDotDot), QStringList());
    }

    // --- referenced objects ----------------------------------------------------------------------------------

    void referencedObjects()
    {
        auto ids = keel::workspace::referencedObjects(*m_ws);
        QVERIFY2(ids, qPrintable(ids.message()));
        QSet<QString> expected(m_peopleIds.begin(), m_peopleIds.end());
        expected.insert(m_otherId);
        QCOMPARE(*ids, expected);
        // All of them are in the store (nothing referenced is missing).
        for (const QString &id : std::as_const(*ids))
            QVERIFY(m_ws->store().contains(id));
    }

    // --- separate workspaces (these change history) ----------------------------------------------------------

    void addSameBytesIsUnchanged()
    {
        auto ws = newWorkspace();
        QVERIFY(ws);
        const QString file = m_tmp.filePath(QStringLiteral("same.csv"));
        QVERIFY(writeBytes(file, peopleCsv(4, 4).csv));
        auto first = addDataset(*ws, file, QStringLiteral("d"), {}, {});
        QVERIFY2(first, qPrintable(first.message()));
        const QString head = ws->git().headCommit().value();
        QCOMPARE(head, first->version.commit.id);
        auto again = addDataset(*ws, file, QStringLiteral("d"), QStringLiteral("ignored"), {});
        QVERIFY2(again, qPrintable(again.message()));
        QVERIFY(again->unchanged);
        QCOMPARE(again->version.version, 1);
        QCOMPARE(again->version.commit.id, head);
        QCOMPARE(again->newBytes, 0);
        QCOMPARE(git(ws->root(), {QStringLiteral("rev-parse"), QStringLiteral("HEAD")}).text(), head);
        QCOMPARE(int(keel::workspace::datasetLog(*ws, QStringLiteral("d"))->size()), 1);

        // The same bytes read with other options are a new version of the same content.
        data::ReadOptions other;
        other.missingTokens = {QString(), QStringLiteral("-")};
        auto reread = addDataset(*ws, file, QStringLiteral("d"), {}, other);
        QVERIFY2(reread, qPrintable(reread.message()));
        QVERIFY(!reread->unchanged);
        QCOMPARE(reread->version.version, 2);
        QCOMPARE(reread->version.record.contentId, first->version.record.contentId);
        QCOMPARE(reread->version.record.missingTokens, other.missingTokens);
        QCOMPARE(reread->newBytes, 0);   // the store already had every chunk
    }

    void addErrorsLeaveNothing_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QByteArray>("content");   // written to the input file unless empty
        QTest::addColumn<QString>("name");
        QTest::newRow("invalid name") << QStringLiteral("file") << QByteArray("a\n1\n") << QStringLiteral("../x");
        QTest::newRow("empty name") << QStringLiteral("file") << QByteArray("a\n1\n") << QString();
        QTest::newRow("missing file") << QStringLiteral("missing") << QByteArray() << QStringLiteral("d");
        QTest::newRow("a folder") << QStringLiteral("folder") << QByteArray() << QStringLiteral("d");
        QTest::newRow("unterminated quote") << QStringLiteral("file") << QByteArray("a,b\n1,\"open\n") << QStringLiteral("d");
        QTest::newRow("type override of unknown column") << QStringLiteral("override") << QByteArray("a\n1\n")
                                                         << QStringLiteral("d");
        // Varied rows, so the store writes hundreds of distinct chunks (staged) while the parse runs, and has
        // normally reached its gate before the parse refuses the last row; whichever finishes first, nothing may
        // land. (store/tst_objectstore gatedAddMatchesOnePassAdd refuses at the gate deterministically.)
        QByteArray big = "a,b\n";
        quint64 x = 88172645463325252ULL;
        for (int i = 0; i < 1'000'000; ++i) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            big += QByteArray::number(x % 1000000007) + ',' + QByteArray::number(double(x % 100000) / 7.0, 'g', 9) + '\n';
        }
        big += "1,2,3\n";
        QTest::newRow("bad last row of 20 MB") << QStringLiteral("file") << big << QStringLiteral("d");
    }
    void addErrorsLeaveNothing()
    {
        QFETCH(QString, what);
        QFETCH(QByteArray, content);
        QFETCH(QString, name);
        auto ws = newWorkspace();
        QVERIFY(ws);
        const QString head = ws->git().headCommit().value();
        const QStringList manifests = ws->store().manifestIds();
        const store::StoreStats statsBefore = ws->store().stats();
        QString file = newDir(QStringLiteral("input")) + QStringLiteral(".csv");
        data::ReadOptions options;
        if (what == u"folder")
            QVERIFY(QDir().mkpath(file));
        else if (what != u"missing")
            QVERIFY(writeBytes(file, content));
        if (what == u"override")
            options.typeOverrides.insert(QStringLiteral("nope"), data::ColumnType::Int64);

        auto added = addDataset(*ws, file, name, {}, options);
        QVERIFY(!added);
        QVERIFY(!added.error().toString().isEmpty());
        QCOMPARE(ws->git().headCommit().value(), head);
        QCOMPARE(ws->store().manifestIds(), manifests);
        QCOMPARE(ws->store().stats().packs, statsBefore.packs);
        QCOMPARE(ws->store().stats().chunks, statsBefore.chunks);
        QCOMPARE(QDir(ws->store().root() + QStringLiteral("/tmp")).entryList(QDir::Files | QDir::Hidden).size(), 0);
        QVERIFY(keel::workspace::listDatasets(*ws)->isEmpty());
        QCOMPARE(git(ws->root(), {QStringLiteral("status"), QStringLiteral("--porcelain"),
                                  QStringLiteral("--untracked-files=all")})
                     .text(),
                 QString());
    }

    void addRefusesAFileChangedMeanwhile()
    {
        // The bytes are parsed, hashed and written from one mapping: a file rewritten during the add (here: appended
        // to from the parse's first progress report) is refused, and nothing of it lands.
        auto ws = newWorkspace();
        QVERIFY(ws);
        const QString head = ws->git().headCommit().value();
        const store::StoreStats statsBefore = ws->store().stats();
        const QString file = newDir(QStringLiteral("changing")) + QStringLiteral(".csv");
        QByteArray text = "a,b\n";
        quint64 x = 2463534242ULL;
        for (int i = 0; i < 1'000'000; ++i) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            text += QByteArray::number(x % 1000003) + ',' + QByteArray::number(x % 977) + '\n';
        }
        QVERIFY(writeBytes(file, text));
        Feedback feedback;
        bool appended = false;
        feedback.setCallback([&](qint64, qint64, const QString &stage) {
            if (appended || stage != u"parse")
                return;
            appended = true;
            QFile f(file);
            if (f.open(QIODevice::Append))
                f.write("1,2\n");
        });
        auto added = addDataset(*ws, file, QStringLiteral("d"), {}, {}, &feedback);
        QVERIFY(appended);
        QVERIFY(!added);
        QVERIFY2(added.error().is(ErrorKind::Conflict), qPrintable(added.error().toString()));
        QCOMPARE(ws->git().headCommit().value(), head);
        QCOMPARE(ws->store().manifestIds().size(), qsizetype(0));
        QCOMPARE(ws->store().stats().packs, statsBefore.packs);
        QCOMPARE(QDir(ws->store().root() + QStringLiteral("/tmp")).entryList(QDir::Files | QDir::Hidden).size(), 0);
        QVERIFY(keel::workspace::listDatasets(*ws)->isEmpty());
    }

    void readOptionsSurviveRebuild()
    {
        // Semicolons, no header row, a custom missing token and day-first dates: the rebuild from the store must
        // parse with the recorded options, not the defaults.
        auto ws = newWorkspace();
        QVERIFY(ws);
        const QString file = m_tmp.filePath(QStringLiteral("opts.txt"));
        QVERIFY(writeBytes(file, QByteArrayLiteral("05/01/2024;1,5;x\n13/02/2023;-;y\n01/12/2022;3;-\n")));
        data::ReadOptions options;
        options.delimiter = ';';
        options.header = false;
        options.missingTokens = {QStringLiteral("-")};
        options.dateOrder = data::DateOrder::DayFirst;
        auto added = addDataset(*ws, file, QStringLiteral("opts"), {}, options);
        QVERIFY2(added, qPrintable(added.message()));
        const DatasetRecord &r = added->version.record;
        QCOMPARE(r.delimiter, ';');
        QCOMPARE(r.header, false);
        QCOMPARE(r.dateOrder, QStringLiteral("day-first"));
        QCOMPARE(r.rows, 3);
        QCOMPARE(int(r.schema.size()), 3);
        QVERIFY(r.schema[0].type == data::ColumnType::Datetime);

        removeCaches(*ws);
        auto v = keel::workspace::resolveDataset(*ws, QStringLiteral("opts@v1"));
        QVERIFY(v);
        auto t = keel::workspace::loadDataset(*ws, *v);
        QVERIFY2(t, qPrintable(t.message()));
        QCOMPARE(t->rowCount(), 3);
        // Day-first dates, computed by hand.
        QCOMPARE(t->column(0).displayAt(0), QStringLiteral("2024-01-05"));
        QCOMPARE(t->column(0).displayAt(1), QStringLiteral("2023-02-13"));
        QCOMPARE(t->column(0).displayAt(2), QStringLiteral("2022-12-01"));
        QVERIFY(t->column(1).isNull(1));
        QVERIFY(t->column(2).isNull(2));
        QCOMPARE(t->column(2).displayAt(1), QStringLiteral("y"));
        QVERIFY(t->schema() == r.schema);
    }

    void jsonlDataset()
    {
        auto ws = newWorkspace();
        QVERIFY(ws);
        const QString file = m_tmp.filePath(QStringLiteral("events.jsonl"));
        const QByteArray bytes = "{\"n\": 1, \"who\": \"ann\"}\n{\"n\": 2, \"who\": null}\n{\"n\": 30, \"who\": \"bob\"}\n";
        QVERIFY(writeBytes(file, bytes));
        auto added = addDataset(*ws, file, QStringLiteral("events"), {}, {});
        QVERIFY2(added, qPrintable(added.message()));
        QCOMPARE(added->version.record.format, QStringLiteral("jsonl"));
        QCOMPARE(added->version.record.rows, 3);
        removeCaches(*ws);
        auto t = keel::workspace::loadDataset(*ws, added->version);
        QVERIFY2(t, qPrintable(t.message()));
        const int n = t->indexOf(u"n"), who = t->indexOf(u"who");
        QVERIFY(n >= 0 && who >= 0);
        QCOMPARE(t->column(n).displayAt(2), QStringLiteral("30"));
        QCOMPARE(t->column(who).displayAt(0), QStringLiteral("ann"));
        QVERIFY(t->column(who).isNull(1));
        const QString out = newDir(QStringLiteral("events")) + QStringLiteral(".jsonl");
        QVERIFY(keel::workspace::checkoutDataset(*ws, added->version, out, {}));
        QCOMPARE(readBytes(out), bytes);
    }

    void referencedObjectsOverHistory()
    {
        auto ws = newWorkspace();
        QVERIFY(ws);
        const QString a = m_tmp.filePath(QStringLiteral("ra.csv")), b = m_tmp.filePath(QStringLiteral("rb.csv"));
        QVERIFY(writeBytes(a, QByteArrayLiteral("x\n1\n2\n")));
        QVERIFY(writeBytes(b, QByteArrayLiteral("y\n3\n4\n")));
        auto ra = addDataset(*ws, a, QStringLiteral("ra"), {}, {});
        auto rb = addDataset(*ws, b, QStringLiteral("rb"), {}, {});
        QVERIFY(ra && rb);
        const QString idA = ra->version.record.contentId, idB = rb->version.record.contentId;

        // Hand-edited files that are no dataset records reference nothing, and break nothing.
        auto junk = ws->git().commitFiles({{QStringLiteral("datasets/notes.yaml"), "just: text\n"},
                                           {QStringLiteral("datasets/broken.yaml"), "name: [unclosed\n"},
                                           {QStringLiteral("datasets/list.yaml"), "content_id: [a, b]\n"}},
                                          QStringLiteral("hand edits"));
        QVERIFY(junk);
        // rb is removed from HEAD with the git command line: still referenced through history.
        QCOMPARE(git(ws->root(), {QStringLiteral("rm"), QStringLiteral("-q"), QStringLiteral("datasets/rb.yaml")}).code, 0);
        QCOMPARE(git(ws->root(), {QStringLiteral("commit"), QStringLiteral("-q"), QStringLiteral("-m"),
                                  QStringLiteral("drop rb")})
                     .code,
                 0);
        QVERIFY(!keel::workspace::listDatasets(*ws)->contains(QStringLiteral("rb")));
        auto ids = keel::workspace::referencedObjects(*ws);
        QVERIFY2(ids, qPrintable(ids.message()));
        QCOMPARE(*ids, (QSet<QString>{idA, idB}));

        // A commit outside history counts only when named as an extra tip.
        DatasetRecord ghost = ra->version.record;
        ghost.name = QStringLiteral("ghost");
        ghost.contentId = hexId('e');
        auto ghostCommit = ws->git().commitFiles({{QStringLiteral("datasets/ghost.yaml"), datasetRecordToYaml(ghost)}},
                                                 QStringLiteral("ghost"));
        QVERIFY(ghostCommit);
        QVERIFY(ws->git().undoCommit(*ghostCommit, {QStringLiteral("datasets/ghost.yaml")}));
        auto without = keel::workspace::referencedObjects(*ws);
        QVERIFY(without);
        QCOMPARE(*without, (QSet<QString>{idA, idB}));
        auto with = keel::workspace::referencedObjects(*ws, {*ghostCommit});
        QVERIFY(with);
        QCOMPARE(*with, (QSet<QString>{idA, idB, hexId('e')}));
    }

    void resolveCommitOfRevertedVersion()
    {
        // v1 and v3 add the same file, so their pointer files are identical blobs. At v1's commit the version in
        // force is v1; v3 did not exist yet.
        auto ws = newWorkspace();
        QVERIFY(ws);
        const QString a = m_tmp.filePath(QStringLiteral("revert/a/d.csv")), b = m_tmp.filePath(QStringLiteral("revert/b/d.csv"));
        QVERIFY(writeBytes(a, QByteArrayLiteral("x\n1\n")));
        QVERIFY(writeBytes(b, QByteArrayLiteral("x\n2\n")));
        auto v1 = addDataset(*ws, a, QStringLiteral("d"), {}, {});
        auto v2 = addDataset(*ws, b, QStringLiteral("d"), {}, {});
        auto v3 = addDataset(*ws, a, QStringLiteral("d"), {}, {});
        QVERIFY(v1 && v2 && v3);
        QCOMPARE(v3->version.version, 3);
        QCOMPARE(datasetRecordToYaml(v3->version.record), datasetRecordToYaml(v1->version.record));
        QCOMPARE(git(ws->root(), {QStringLiteral("rev-parse"), v1->version.commit.id + QStringLiteral(":datasets/d.yaml")})
                     .text(),
                 git(ws->root(), {QStringLiteral("rev-parse"), v3->version.commit.id + QStringLiteral(":datasets/d.yaml")})
                     .text());

        auto atV2 = keel::workspace::resolveDataset(*ws, QStringLiteral("d@") + v2->version.commit.id);
        QVERIFY(atV2);
        QCOMPARE(atV2->version, 2);
        auto atV1 = keel::workspace::resolveDataset(*ws, QStringLiteral("d@") + v1->version.commit.id);
        QVERIFY2(atV1, qPrintable(atV1.message()));
        QCOMPARE(atV1->record.contentId, v1->version.record.contentId);   // the right bytes either way
        // v1 and v3 have identical pointer files: the version in force at v1's commit is v1 (the newest version whose
        // commit is that commit or an ancestor of it), not v3.
        QCOMPARE(atV1->version, 1);
        QCOMPARE(atV1->commit.id, v1->version.commit.id);
    }

    void tagHeadRecordsItsEvent()
    {
        // The tag made in initTestCase went through Workspace::tagHead: one "tag" event naming the commit.
        auto t = m_ws->tracking();
        QVERIFY(t);
        auto events = (*t)->auditEvents(QStringLiteral("release"));
        QVERIFY(events);
        QCOMPARE(int(events->size()), 1);
        QCOMPARE(events->front().action, QStringLiteral("tag"));
        QCOMPARE(events->front().commit, m_peopleCommits[1]);
        QCOMPARE(events->front().detail.value(QStringLiteral("message")).toString(), QStringLiteral("people v2 released"));
        // A second tag of the same name is a conflict and records nothing.
        auto again = m_ws->tagHead(QStringLiteral("release"), QStringLiteral("again"));
        QVERIFY(again.is(ErrorKind::Conflict));
        auto after = (*t)->auditEvents(QStringLiteral("release"));
        QVERIFY(after);
        QCOMPARE(int(after->size()), 1);
    }

private:
    static QStringList sorted(QStringList l)
    {
        l.sort();
        return l;
    }
};

QTEST_GUILESS_MAIN(TstDatasets)
#include "tst_datasets.moc"
