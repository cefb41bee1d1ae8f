#include "data/profile.h"
#include "data/reader.h"
#include "data/rules.h"

#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace keel;
using namespace keel::data;

namespace {

// Rows:        0            1          2               3            4          5            6
// id:          1            2          3               2            5          null         3
// age:         17           25         90              16           null       40           95
// wc:          Private      Self-emp   Private         null         Local-gov  Private      Never
// email:       a@b          x          c@d             null         e@f@g      h@i          j@k
// score:       0.5          NaN        1.5             2.5          null       3.5          4.5
// when:        2011-01-01   ...        (day i)
// flag:        true         false      true            null         false      true         true
Table sampleTable()
{
    ColumnBuilder id(ColumnType::Int64), age(ColumnType::Int64), wc(ColumnType::Categorical), email(ColumnType::String),
        score(ColumnType::Float64), when(ColumnType::Datetime), flag(ColumnType::Bool);
    const std::optional<int64_t> ids[] = {1, 2, 3, 2, 5, std::nullopt, 3};
    const std::optional<int64_t> ages[] = {17, 25, 90, 16, std::nullopt, 40, 95};
    const char *wcs[] = {"Private", "Self-emp", "Private", nullptr, "Local-gov", "Private", "Never"};
    const char *emails[] = {"a@b", "x", "c@d", nullptr, "e@f@g", "h@i", "j@k"};
    const std::optional<double> scores[] = {0.5, std::nan(""), 1.5, 2.5, std::nullopt, 3.5, 4.5};
    const std::optional<bool> flags[] = {true, false, true, std::nullopt, false, true, true};
    for (int i = 0; i < 7; ++i) {
        ids[i] ? id.appendInt64(*ids[i]) : id.appendNull();
        ages[i] ? age.appendInt64(*ages[i]) : age.appendNull();
        wcs[i] ? wc.appendString(wcs[i]) : wc.appendNull();
        emails[i] ? email.appendString(emails[i]) : email.appendNull();
        scores[i] ? score.appendFloat64(*scores[i]) : score.appendNull();
        when.appendDatetime(1293840000000 + int64_t(i) * 86400000);
        flags[i] ? flag.appendBool(*flags[i]) : flag.appendNull();
    }
    return Table({id.finish(QStringLiteral("id")), age.finish(QStringLiteral("age")), wc.finish(QStringLiteral("wc")),
                  email.finish(QStringLiteral("email")), score.finish(QStringLiteral("score")),
                  when.finish(QStringLiteral("when")), flag.finish(QStringLiteral("flag"))});
}

QString adultPath() { return QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_train.csv"); }

} // namespace

class TstRules : public QObject {
    Q_OBJECT
private slots:
    void rules_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<int>("checked");
        QTest::addColumn<QString>("rule");        // empty: expect no violation
        QTest::addColumn<qint64>("count");
        QTest::addColumn<QList<qint64>>("rows");
        QTest::addColumn<QStringList>("values");
        using L = QList<qint64>;
        // `checked` counts `required` (default true) plus each rule key.
        QTest::newRow("min pass") << QByteArray("columns:\n  age: {min: 16}\n") << 2 << QString() << qint64(0) << L{} << QStringList{};
        QTest::newRow("min fail") << QByteArray("columns:\n  age: {min: 18}\n") << 2 << QStringLiteral("min") << qint64(2)
                                  << L{0, 3} << QStringList{QStringLiteral("17"), QStringLiteral("16")};
        QTest::newRow("max fail") << QByteArray("columns:\n  age: {max: 90}\n") << 2 << QStringLiteral("max") << qint64(1)
                                  << L{6} << QStringList{QStringLiteral("95")};
        QTest::newRow("float min ignores NaN and null") << QByteArray("columns:\n  score: {min: 1}\n") << 2 << QStringLiteral("min")
                                                        << qint64(1) << L{0} << QStringList{QStringLiteral("0.5")};
        QTest::newRow("datetime max as ISO") << QByteArray("columns:\n  when: {max: 2011-01-05}\n") << 2 << QStringLiteral("max")
                                             << qint64(2) << L{5, 6}
                                             << QStringList{QStringLiteral("2011-01-06"), QStringLiteral("2011-01-07")};
        QTest::newRow("max_missing pass") << QByteArray("columns:\n  age: {max_missing: 0.15}\n") << 2 << QString() << qint64(0)
                                          << L{} << QStringList{};
        QTest::newRow("max_missing fail") << QByteArray("columns:\n  age: {max_missing: 0.1}\n") << 2
                                          << QStringLiteral("max_missing") << qint64(1) << L{4} << QStringList{QString()};
        QTest::newRow("max_missing counts NaN") << QByteArray("columns:\n  score: {max_missing: 0.2}\n") << 2
                                                << QStringLiteral("max_missing") << qint64(2) << L{1, 4}
                                                << QStringList{QStringLiteral("nan"), QString()};
        QTest::newRow("allowed pass") << QByteArray("columns:\n  wc: {allowed: [Private, Self-emp, Local-gov, Never]}\n") << 2
                                      << QString() << qint64(0) << L{} << QStringList{};
        QTest::newRow("allowed fail") << QByteArray("columns:\n  wc:\n    allowed:\n      - Private\n      - Self-emp\n") << 2
                                      << QStringLiteral("allowed") << qint64(2) << L{4, 6}
                                      << QStringList{QStringLiteral("Local-gov"), QStringLiteral("Never")};
        QTest::newRow("allowed on numbers") << QByteArray("columns:\n  id: {allowed: [1, 2, 3]}\n") << 2 << QStringLiteral("allowed")
                                            << qint64(1) << L{4} << QStringList{QStringLiteral("5")};
        QTest::newRow("allowed on bool") << QByteArray("columns:\n  flag: {allowed: ['true']}\n") << 2 << QStringLiteral("allowed")
                                         << qint64(2) << L{1, 4} << QStringList{QStringLiteral("false"), QStringLiteral("false")};
        QTest::newRow("unique fail") << QByteArray("columns:\n  id: {unique: true}\n") << 2 << QStringLiteral("unique")
                                     << qint64(2) << L{3, 6} << QStringList{QStringLiteral("2"), QStringLiteral("3")};
        QTest::newRow("unique pass") << QByteArray("columns:\n  email: {unique: yes}\n") << 2 << QString() << qint64(0) << L{}
                                     << QStringList{};
        QTest::newRow("unique categorical") << QByteArray("columns:\n  wc: {unique: true}\n") << 2 << QStringLiteral("unique")
                                            << qint64(2) << L{2, 5}
                                            << QStringList{QStringLiteral("Private"), QStringLiteral("Private")};
        QTest::newRow("unique bool") << QByteArray("columns:\n  flag: {unique: true}\n") << 2 << QStringLiteral("unique")
                                     << qint64(4) << L{2, 4, 5, 6}
                                     << QStringList{QStringLiteral("true"), QStringLiteral("false"), QStringLiteral("true"),
                                                    QStringLiteral("true")};
        QTest::newRow("unique false") << QByteArray("columns:\n  id: {unique: false}\n") << 1 << QString() << qint64(0) << L{}
                                      << QStringList{};
        QTest::newRow("regex fail") << QByteArray("columns:\n  email: {regex: '^[^@]+@[^@]+$'}\n") << 2 << QStringLiteral("regex")
                                    << qint64(2) << L{1, 4} << QStringList{QStringLiteral("x"), QStringLiteral("e@f@g")};
        QTest::newRow("regex categorical") << QByteArray("columns:\n  wc: {regex: '^P'}\n") << 2 << QStringLiteral("regex")
                                           << qint64(3) << L{1, 4, 6}
                                           << QStringList{QStringLiteral("Self-emp"), QStringLiteral("Local-gov"), QStringLiteral("Never")};
        QTest::newRow("type pass") << QByteArray("columns:\n  wc: {type: categorical}\n") << 2 << QString() << qint64(0) << L{}
                                   << QStringList{};
        QTest::newRow("int64 is a float64") << QByteArray("columns:\n  age: {type: float64}\n") << 2 << QString() << qint64(0)
                                            << L{} << QStringList{};
        QTest::newRow("type fail") << QByteArray("columns:\n  age: {type: string}\n") << 2 << QStringLiteral("type") << qint64(0)
                                   << L{} << QStringList{};
        QTest::newRow("required fail") << QByteArray("columns:\n  nope:\n") << 1 << QStringLiteral("required") << qint64(0) << L{}
                                       << QStringList{};
        QTest::newRow("required explicit") << QByteArray("columns:\n  nope: {required: true}\n") << 1 << QStringLiteral("required")
                                           << qint64(0) << L{} << QStringList{};
        QTest::newRow("optional absent") << QByteArray("columns:\n  nope: {required: false, min: 3}\n") << 0 << QString()
                                         << qint64(0) << L{} << QStringList{};
        QTest::newRow("min on text") << QByteArray("columns:\n  email: {min: 3}\n") << 2 << QStringLiteral("min") << qint64(0)
                                     << L{} << QStringList{};
        QTest::newRow("empty columns") << QByteArray("columns: {}\n") << 0 << QString() << qint64(0) << L{} << QStringList{};
    }
    void rules()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(int, checked);
        QFETCH(QString, rule);
        QFETCH(qint64, count);
        QFETCH(QList<qint64>, rows);
        QFETCH(QStringList, values);
        auto set = parseRules(yaml, QStringLiteral("rules.yaml"));
        QVERIFY2(set.hasValue(), qPrintable(set.message()));
        const ValidationReport report = validateTable(sampleTable(), *set);
        QCOMPARE(report.rows, qint64(7));
        QCOMPARE(report.rulesChecked, checked);
        if (rule.isEmpty()) {
            QVERIFY2(report.ok(), qPrintable(validationToText(report)));
            QCOMPARE(report.rulesFailed, 0);
            return;
        }
        QCOMPARE(report.violations.size(), size_t(1));
        QCOMPARE(report.rulesFailed, 1);
        const Violation &v = report.violations.front();
        QCOMPARE(v.column, set->columns.front().name);
        QCOMPARE(v.rule, rule);
        QCOMPARE(v.count, count);
        QCOMPARE(QList<qint64>(v.exampleRows.begin(), v.exampleRows.end()), rows);
        QCOMPARE(v.exampleValues, values);
        QVERIFY(!v.message.isEmpty());
    }

    void severalRulesAndOutputs()
    {
        const QByteArray yaml = "# a comment\ncolumns:\n  age: {type: int64, min: 18, max: 90, max_missing: 0.0}\n"
                                "  id: {unique: true, required: true}\n  email: {regex: '@'}\n";
        auto set = parseRules(yaml, QStringLiteral("r.yaml"));
        QVERIFY2(set.hasValue(), qPrintable(set.message()));
        QCOMPARE(set->columns.size(), size_t(3));
        QCOMPARE(set->columns[0].line, qint64(3));
        QCOMPARE(set->columns[1].line, qint64(4));
        QCOMPARE(set->columns[0].type, std::optional<ColumnType>(ColumnType::Int64));
        QCOMPARE(set->columns[0].maxMissing, std::optional<double>(0.0));
        const ValidationReport r = validateTable(sampleTable(), *set);
        // age: required, type, min, max, max_missing = 5; id: required, unique = 2; email: required, regex = 2.
        QCOMPARE(r.rulesChecked, 9);
        QStringList failed;
        for (const Violation &v : r.violations)
            failed << v.column + QLatin1Char('.') + v.rule + QLatin1Char('=') + QString::number(v.count);
        QCOMPARE(failed, (QStringList{QStringLiteral("age.min=2"), QStringLiteral("age.max=1"),
                                      QStringLiteral("age.max_missing=1"), QStringLiteral("id.unique=2"),
                                      QStringLiteral("email.regex=1")}));
        QCOMPARE(r.rulesFailed, 5);

        const QJsonObject json = validationToJson(r);
        QCOMPARE(json.value(QStringLiteral("ok")).toBool(), false);
        QCOMPARE(json.value(QStringLiteral("rulesChecked")).toInt(), 9);
        const QJsonObject first = json.value(QStringLiteral("violations")).toArray().at(0).toObject();
        QCOMPARE(first.value(QStringLiteral("rule")).toString(), QStringLiteral("min"));
        QCOMPARE(first.value(QStringLiteral("exampleRows")).toArray().at(1).toInteger(), qint64(3));
        const QString text = validationToText(r);
        QVERIFY(text.startsWith(QStringLiteral("FAILED: 7 rows, 9 rules checked, 5 failed\n")));
        QVERIFY(text.contains(QStringLiteral("age [min]")));
        QVERIFY(text.contains(QStringLiteral("row 0 = '17'")));
    }

    void parseErrors_data()
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<qint64>("line");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("words");
        QTest::newRow("unknown key") << QByteArray("columns:\n  age:\n    type: int64\n    minimum: 3\n") << qint64(4)
                                     << QStringLiteral("age.minimum") << QStringLiteral("unknown rule");
        QTest::newRow("bad type name") << QByteArray("columns:\n  a: {type: int64}\n  b: {type: integer32}\n") << qint64(3)
                                       << QStringLiteral("b.type") << QStringLiteral("integer32");
        QTest::newRow("bad regex") << QByteArray("columns:\n\n  email:\n    regex: '([a-z'\n") << qint64(4)
                                   << QStringLiteral("email.regex") << QStringLiteral("invalid regex");
        QTest::newRow("non-number min") << QByteArray("columns:\n  age:\n    min: seventeen\n") << qint64(3)
                                        << QStringLiteral("age.min") << QStringLiteral("seventeen");
        QTest::newRow("max_missing range") << QByteArray("columns:\n  age: {max_missing: 1.5}\n") << qint64(2)
                                           << QStringLiteral("age.max_missing") << QStringLiteral("between 0 and 1");
        QTest::newRow("unique not bool") << QByteArray("columns:\n  id:\n    unique: maybe\n") << qint64(3)
                                         << QStringLiteral("id.unique") << QStringLiteral("true or false");
        QTest::newRow("allowed not list") << QByteArray("columns:\n  wc:\n    allowed: Private\n") << qint64(3)
                                          << QStringLiteral("wc.allowed") << QStringLiteral("list");
        QTest::newRow("min above max") << QByteArray("columns:\n  x: {min: 5}\n  age: {min: 10, max: 3}\n") << qint64(3)
                                       << QStringLiteral("age.min") << QStringLiteral("greater");
        QTest::newRow("unknown top key") << QByteArray("columns: {}\nrules: {}\n") << qint64(2) << QStringLiteral("rules")
                                         << QStringLiteral("unknown key");
        QTest::newRow("rules not a map") << QByteArray("columns:\n  age: [1, 2]\n") << qint64(2) << QStringLiteral("age")
                                         << QStringLiteral("map of rules");
        QTest::newRow("no columns") << QByteArray("- a\n- b\n") << qint64(1) << QStringLiteral("columns")
                                    << QStringLiteral("columns");
        QTest::newRow("syntax") << QByteArray("columns:\n  age: {min: 3\n  x: 1\n") << qint64(3) << QString()
                                << QStringLiteral("YAML");
        // Caught by the YAML reader for every file Keel reads: a key given twice in one mapping.
        QTest::newRow("duplicate column") << QByteArray("columns:\n  age: {}\n  age: {min: 1}\n") << qint64(3)
                                          << QStringLiteral("age") << QStringLiteral("duplicate key (first given at line 2)");
        QTest::newRow("duplicate rule") << QByteArray("columns:\n  age: {min: 1,\n        min: 2}\n") << qint64(3)
                                        << QStringLiteral("min") << QStringLiteral("duplicate key");
    }
    void parseErrors()
    {
        QFETCH(QByteArray, yaml);
        QFETCH(qint64, line);
        QFETCH(QString, field);
        QFETCH(QString, words);
        auto r = parseRules(yaml, QStringLiteral("bad.yaml"));
        QVERIFY(!r.hasValue());
        QCOMPARE(r.error().file, QStringLiteral("bad.yaml"));
        QVERIFY2(r.error().line == line, qPrintable(r.error().toString()));
        QCOMPARE(r.error().field, field);
        QVERIFY2(r.error().message.contains(words), qPrintable(r.error().message));
        QVERIFY(r.error().toString().startsWith(QStringLiteral("bad.yaml:%1: ").arg(line)));
    }

    void loadFromFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("rules.yaml"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("columns:\n  age:\n    min: 18\n    bogus: 1\n");
        f.close();
        auto r = loadRules(path);
        QVERIFY(!r.hasValue());
        QCOMPARE(r.error().file, path);
        QCOMPARE(r.error().line, qint64(4));
        auto missing = loadRules(dir.filePath(QStringLiteral("none.yaml")));
        QVERIFY(!missing.hasValue());
        QVERIFY(missing.error().toString().contains(QStringLiteral("none.yaml")));
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write("columns:\n  age: {min: 18}\n");
        f.close();
        auto ok = loadRules(path);
        QVERIFY2(ok.hasValue(), qPrintable(ok.message()));
        QCOMPARE(ok->source, path);
        QCOMPARE(ok->columns.front().min, std::optional<double>(18));
    }

    void suggestRoundTrip()
    {
        const Table t = sampleTable();
        const TableProfile profile = *profileTable(t);
        const QByteArray text = suggestRules(t, profile);
        QVERIFY(text.startsWith("# "));
        auto set = parseRules(text, QStringLiteral("suggested.yaml"));
        QVERIFY2(set.hasValue(), qPrintable(set.message() + QLatin1Char('\n') + QString::fromUtf8(text)));
        QCOMPARE(set->columns.size(), size_t(t.columnCount()));
        const ValidationReport r = validateTable(t, *set);
        QVERIFY2(r.ok(), qPrintable(validationToText(r) + QString::fromUtf8(text)));
        QVERIFY(r.rulesChecked > 20);

        auto rules = [&](const char *name) -> const ColumnRules & {
            for (const ColumnRules &c : set->columns)
                if (c.name == QLatin1String(name))
                    return c;
            return set->columns.front();
        };
        QCOMPARE(rules("age").type, std::optional<ColumnType>(ColumnType::Int64));
        QCOMPARE(rules("age").min, std::optional<double>(16));
        QCOMPARE(rules("age").max, std::optional<double>(95));
        QCOMPARE(rules("age").maxMissing, std::optional<double>(0.15)); // 1/7 = 0.1429 -> 0.15
        QCOMPARE(rules("score").maxMissing, std::optional<double>(0.29)); // null + NaN: 2/7 = 0.2857 -> 0.29
        QCOMPARE(rules("flag").min, std::optional<double>());
        QCOMPARE(rules("when").min, std::optional<double>(1293840000000.0));
        QCOMPARE(rules("wc").allowed, std::optional<QStringList>(QStringList{QStringLiteral("Local-gov"), QStringLiteral("Never"),
                                                                              QStringLiteral("Private"), QStringLiteral("Self-emp")}));
        QCOMPARE(rules("email").unique, true); // all present values distinct
        QCOMPARE(rules("id").unique, false);
        QCOMPARE(rules("score").unique, false); // not suggested for floats

        // A changed table fails the suggested rules.
        ColumnBuilder age(ColumnType::Int64);
        for (int i = 0; i < 7; ++i)
            age.appendInt64(10 + i);
        std::vector<Column> cols = t.columns();
        cols[1] = age.finish(QStringLiteral("age"));
        const ValidationReport changed = validateTable(Table(cols), *set);
        QCOMPARE(changed.violations.size(), size_t(1));
        QCOMPARE(changed.violations.front().rule, QStringLiteral("min"));
        QCOMPARE(changed.violations.front().count, qint64(6));
    }

    void suggestAwkwardNames()
    {
        ColumnBuilder a(ColumnType::Categorical), b(ColumnType::Float64);
        for (const char *v : {"null", "true", "", "a: b", "#x", "~"})
            a.appendString(v);
        for (double v : {0.1, 0.2, 0.30000000000000004, -1e-300, 1e300, 5.0})
            b.appendFloat64(v);
        const Table t({a.finish(QStringLiteral("null")), b.finish(QStringLiteral("a: b"))});
        const QByteArray text = suggestRules(t, *profileTable(t));
        auto set = parseRules(text, QStringLiteral("s.yaml"));
        QVERIFY2(set.hasValue(), qPrintable(set.message() + QLatin1Char('\n') + QString::fromUtf8(text)));
        QCOMPARE(set->columns[0].name, QStringLiteral("null"));
        QCOMPARE(set->columns[1].name, QStringLiteral("a: b"));
        QCOMPARE(set->columns[0].allowed->size(), 6);
        QCOMPARE(set->columns[1].min, std::optional<double>(-1e-300));
        QCOMPARE(set->columns[1].max, std::optional<double>(1e300));
        const ValidationReport r = validateTable(t, *set);
        QVERIFY2(r.ok(), qPrintable(validationToText(r)));
    }

    void cancel()
    {
        Feedback fb;
        fb.cancel();
        auto set = parseRules("columns:\n  age: {min: 18}\n", QStringLiteral("r"));
        const ValidationReport r = validateTable(sampleTable(), *set, &fb);
        QVERIFY(!r.ok());
        QCOMPARE(r.violations.back().rule, QStringLiteral("cancelled"));
    }

    void adultAgeMin()
    {
        // Rows with age 17, counted from the raw text (no embedded commas in this file).
        QFile f(adultPath());
        QVERIFY(f.open(QIODevice::ReadOnly));
        f.readLine();
        qint64 row = 0, seventeen = 0;
        std::vector<qint64> firstRows;
        while (!f.atEnd()) {
            const QByteArray line = f.readLine().trimmed();
            if (line.isEmpty())
                continue;
            if (line.split(',').front() == "17") {
                ++seventeen;
                if (firstRows.size() < 5)
                    firstRows.push_back(row);
            }
            ++row;
        }
        QVERIFY(seventeen > 0);
        auto table = readTable(adultPath());
        QVERIFY2(table.hasValue(), qPrintable(table.message()));
        QCOMPARE(table->rowCount(), row);
        auto set = parseRules("columns:\n  age: {min: 18}\n", QStringLiteral("adult.yaml"));
        const ValidationReport r = validateTable(*table, *set);
        QCOMPARE(r.violations.size(), size_t(1));
        QCOMPARE(r.violations.front().count, seventeen);
        QCOMPARE(r.violations.front().exampleRows, firstRows);
        QCOMPARE(r.violations.front().exampleValues.front(), QStringLiteral("17"));

        // The suggested rules for the real file validate it.
        const QByteArray suggested = suggestRules(*table, *profileTable(*table));
        auto back = parseRules(suggested, QStringLiteral("adult-suggested.yaml"));
        QVERIFY2(back.hasValue(), qPrintable(back.message()));
        const ValidationReport all = validateTable(*table, *back);
        QVERIFY2(all.ok(), qPrintable(validationToText(all)));
        QVERIFY(suggested.contains("allowed: [\"Federal-gov\""));
    }
};

QTEST_GUILESS_MAIN(TstRules)
#include "tst_rules.moc"
