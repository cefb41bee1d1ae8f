#include "data/reader.h"
#include "ml/expression.h"
#include "ml/recipe.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QTest>
#include <QTimeZone>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace keel;
using namespace keel::ml;

namespace {

const double NaN = std::nan("");

int64_t utc(int y, int mo, int d, int h = 0)
{
    return QDateTime(QDate(y, mo, d), QTime(h, 0), QTimeZone::utc()).toMSecsSinceEpoch();
}

struct SmallRow {
    double num;            // NaN = missing
    int64_t num2;
    const char *cat;       // nullptr = missing
    std::optional<int64_t> when;
    int64_t y;
};

data::Table makeTable(const std::vector<SmallRow> &rows, data::ColumnType catType = data::ColumnType::Categorical)
{
    data::ColumnBuilder num(data::ColumnType::Float64), num2(data::ColumnType::Int64), cat(catType),
        when(data::ColumnType::Datetime), y(data::ColumnType::Int64);
    for (const SmallRow &r : rows) {
        if (std::isnan(r.num))
            num.appendNull();
        else
            num.appendFloat64(r.num);
        num2.appendInt64(r.num2);
        if (r.cat)
            cat.appendString(r.cat);
        else
            cat.appendNull();
        if (r.when)
            when.appendDatetime(*r.when);
        else
            when.appendNull();
        y.appendInt64(r.y);
    }
    return data::Table({num.finish(QStringLiteral("num")), num2.finish(QStringLiteral("num2")), cat.finish(QStringLiteral("cat")),
                        when.finish(QStringLiteral("when")), y.finish(QStringLiteral("y"))});
}

data::Table smallTable()
{
    return makeTable({{1, 0, "a", utc(2011, 1, 1, 5), 0},
                      {2, 1, "b", utc(2012, 12, 31), 1},
                      {NaN, 2, "a", std::nullopt, 0},
                      {4, 3, nullptr, utc(1969, 12, 31, 23), 1},
                      {100, 4, "c", utc(2000, 2, 29, 12), 1}});
}

RecipeSpec baseSpec()
{
    RecipeSpec s;
    s.target = QStringLiteral("y");
    return s;
}

int col(const DesignMatrix &m, const QString &name)
{
    const int c = int(m.columnNames.indexOf(name));
    if (c < 0)
        qWarning("no column %s in %s", qPrintable(name), qPrintable(m.columnNames.join(QLatin1Char(','))));
    return c;
}

bool sameFloat(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Copy of one row of `t` as a 1-row table. `asString` stores categorical columns as String and
// `widen` stores Int64 columns as Float64, so the prediction path sees different but compatible types.
data::Table sliceRow(const data::Table &t, qint64 row, bool asString, bool widen)
{
    std::vector<data::Column> cols;
    for (const data::Column &c : t.columns()) {
        data::ColumnType type = c.type();
        if (asString && type == data::ColumnType::Categorical)
            type = data::ColumnType::String;
        if (widen && type == data::ColumnType::Int64)
            type = data::ColumnType::Float64;
        data::ColumnBuilder b(type);
        if (c.isNull(row)) {
            b.appendNull();
        } else {
            switch (c.type()) {
            case data::ColumnType::Int64:
                if (widen)
                    b.appendFloat64(double(c.int64At(row)));
                else
                    b.appendInt64(c.int64At(row));
                break;
            case data::ColumnType::Float64: b.appendFloat64(c.float64At(row)); break;
            case data::ColumnType::Bool: b.appendBool(c.boolAt(row)); break;
            case data::ColumnType::Datetime: b.appendDatetime(c.datetimeAt(row)); break;
            case data::ColumnType::Categorical:
            case data::ColumnType::String: b.appendString(c.stringAt(row)); break;
            }
        }
        cols.push_back(b.finish(c.name()));
    }
    return data::Table(std::move(cols));
}

const char *kAdultRecipe = R"(
target: class
label_map: {">50K.": ">50K", "<=50K.": "<=50K"}
exclude: [fnlwgt]
defaults:
  scale: standard
  missing_indicator: true
columns:
  age: {clip: {min: 20, max: 70}, log: true}
  capital_gain: {log: true, scale: none}
  workclass: {encode: ordinal}
  native_country: {max_categories: 10}
  education: {impute: "constant:unknown"}
derived:
  - gain_per_hour = (capital_gain - capital_loss) / max(hours_per_week, 1)
  - "age_sq = age * age / 100"
)";

Expected<data::Table> adult(const char *name)
{
    return data::readTable(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/") + QLatin1String(name));
}

} // namespace

class TstRecipe : public QObject {
    Q_OBJECT
private slots:
    void expressionValues_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<double>("expected");
        // x = 3, y = -2 where used
        QTest::newRow("precedence") << QStringLiteral("1 + 2 * 3") << 7.0;
        QTest::newRow("parentheses") << QStringLiteral("(1 + 2) * 3") << 9.0;
        QTest::newRow("left-assoc minus") << QStringLiteral("2 - 3 - 4") << -5.0;
        QTest::newRow("left-assoc divide") << QStringLiteral("8 / 4 / 2") << 1.0;
        QTest::newRow("unary minus binds tighter") << QStringLiteral("-x * 2") << -6.0;
        QTest::newRow("double negation") << QStringLiteral("--3") << 3.0;
        QTest::newRow("minus after times") << QStringLiteral("2 * -x") << -6.0;
        QTest::newRow("columns") << QStringLiteral("x * y + x") << -3.0;
        QTest::newRow("min three args") << QStringLiteral("min(3, x + 1, 2)") << 2.0;
        QTest::newRow("max") << QStringLiteral("max(x, y)") << 3.0;
        QTest::newRow("sqrt abs") << QStringLiteral("sqrt(16) + abs(y)") << 6.0;
        QTest::newRow("log exp") << QStringLiteral("log(exp(2))") << 2.0;
        QTest::newRow("exponent literal") << QStringLiteral("1e3 + .5") << 1000.5;
        QTest::newRow("quoted name") << QStringLiteral("`x` * `y`") << -6.0;
        QTest::newRow("divide by zero") << QStringLiteral("x / 0") << std::numeric_limits<double>::infinity();
    }
    void expressionValues()
    {
        QFETCH(QString, text);
        QFETCH(double, expected);
        auto e = Expression::parse(text);
        QVERIFY2(e, qPrintable(e.message()));
        std::vector<double> values;
        for (const QString &c : e->columns())
            values.push_back(c == u"x" ? 3.0 : -2.0);
        QCOMPARE(e->evaluate(values), expected);
    }

    void expressionMissingPropagates()
    {
        auto e = Expression::parse(QStringLiteral("max(a, 1) + 0 * b"));
        QVERIFY(e);
        QCOMPARE(e->columns(), (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
        QVERIFY(std::isnan(e->evaluate(std::vector<double>{NaN, 1.0})));
        QVERIFY(std::isnan(e->evaluate(std::vector<double>{1.0, NaN})));
        QCOMPARE(e->evaluate(std::vector<double>{5.0, 1.0}), 5.0);
    }

    void expressionErrors_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("where");
        QTest::newRow("dangling plus") << QStringLiteral("1 +") << QStringLiteral("position 4:");
        QTest::newRow("unclosed") << QStringLiteral("(1 + 2") << QStringLiteral("position 7:");
        QTest::newRow("unknown function") << QStringLiteral("2 * foo(1)") << QStringLiteral("position 5:");
        QTest::newRow("stray char") << QStringLiteral("1 $ 2") << QStringLiteral("position 3:");
        QTest::newRow("min arity") << QStringLiteral("min(1)") << QStringLiteral("position 1:");
        QTest::newRow("log arity") << QStringLiteral("x + log(1, 2)") << QStringLiteral("position 5:");
        QTest::newRow("empty") << QString() << QStringLiteral("position 1:");
        QTest::newRow("trailing") << QStringLiteral("a b") << QStringLiteral("position 3:");
        QTest::newRow("unterminated quote") << QStringLiteral("1 + `abc") << QStringLiteral("position 5:");
    }
    void expressionErrors()
    {
        QFETCH(QString, text);
        QFETCH(QString, where);
        auto e = Expression::parse(text);
        QVERIFY(!e);
        QVERIFY2(e.error().message.startsWith(where), qPrintable(e.error().message));
    }

    void numericImpute_data()
    {
        QTest::addColumn<QString>("impute");
        QTest::addColumn<double>("expected");
        // training values of num: 1, 2, 4, 100 (row 2 missing)
        QTest::newRow("median") << QStringLiteral("median") << 3.0;            // (2 + 4) / 2
        QTest::newRow("mean") << QStringLiteral("mean") << 26.75;              // 107 / 4
        QTest::newRow("most_frequent") << QStringLiteral("most_frequent") << 1.0; // all tie: smallest
        QTest::newRow("constant") << QStringLiteral("constant:7.5") << 7.5;
        QTest::newRow("none") << QStringLiteral("none") << NaN;
    }
    void numericImpute()
    {
        QFETCH(QString, impute);
        QFETCH(double, expected);
        auto spec = RecipeSpec::fromYaml(QStringLiteral("target: y\ncolumns:\n  num: {impute: \"%1\"}\n").arg(impute));
        QVERIFY2(spec, qPrintable(spec.message()));
        const data::Table t = smallTable();
        auto r = Recipe::fit(t, *spec);
        QVERIFY2(r, qPrintable(r.message()));
        auto m = r->transform(t);
        QVERIFY(m);
        const int c = col(*m, QStringLiteral("num"));
        QCOMPARE(m->at(0, c), 1.0f);
        QCOMPARE(m->at(4, c), 100.0f);
        if (std::isnan(expected))
            QVERIFY(std::isnan(m->at(2, c)));
        else
            QCOMPARE(m->at(2, c), float(expected));
    }

    void scaling()
    {
        RecipeSpec s = baseSpec();
        s.columns[QStringLiteral("num")].scale = ScaleKind::Standard;
        s.columns[QStringLiteral("num")].missingIndicator = true;
        const data::Table t = smallTable();
        auto r = Recipe::fit(t, s);
        QVERIFY2(r, qPrintable(r.message()));
        auto m = r->transform(t);
        QVERIFY(m);
        // after median imputation: 1 2 3 4 100; mean 22; population variance (441+400+361+324+6084)/5 = 1522
        const double sd = std::sqrt(1522.0);
        const double in[] = {1, 2, 3, 4, 100};
        const int c = col(*m, QStringLiteral("num"));
        for (int i = 0; i < 5; ++i)
            QCOMPARE(m->at(i, c), float((in[i] - 22.0) / sd));
        const int ind = col(*m, QStringLiteral("num.missing"));
        for (int i = 0; i < 5; ++i)
            QCOMPARE(m->at(i, ind), i == 2 ? 1.0f : 0.0f);
        // unscaled int column passes through
        const int c2 = col(*m, QStringLiteral("num2"));
        QCOMPARE(m->at(3, c2), 3.0f);
    }

    void clipAndLog()
    {
        auto spec = RecipeSpec::fromYaml(QStringLiteral("target: y\ncolumns:\n  num: {clip: {min: 0, max: 10}, log: true}\n"));
        QVERIFY2(spec, qPrintable(spec.message()));
        const data::Table t = smallTable();
        auto r = Recipe::fit(t, *spec);
        QVERIFY2(r, qPrintable(r.message()));
        auto m = r->transform(t);
        QVERIFY(m);
        const int c = col(*m, QStringLiteral("num"));
        QCOMPARE(m->at(0, c), float(std::log1p(1.0)));
        QCOMPARE(m->at(4, c), float(std::log1p(10.0))); // 100 clipped to 10
        // median of log1p(1), log1p(2), log1p(4), log1p(10)
        QCOMPARE(m->at(2, c), float((std::log1p(2.0) + std::log1p(4.0)) / 2));
        // at prediction time: below the clip minimum -> clipped to 0 -> log1p(0) = 0
        const data::Table p = makeTable({{-5, 0, "a", utc(2020, 1, 1), 0}});
        auto pm = r->transform(p);
        QVERIFY(pm);
        QCOMPARE(pm->at(0, c), 0.0f);
    }

    void oneHot()
    {
        RecipeSpec s = baseSpec();
        s.columns[QStringLiteral("cat")].missingIndicator = true;
        const data::Table t = smallTable();
        auto r = Recipe::fit(t, s);
        QVERIFY2(r, qPrintable(r.message()));
        auto m = r->transform(t);
        QVERIFY(m);
        const int a = col(*m, QStringLiteral("cat=a")), b = col(*m, QStringLiteral("cat=b")), c = col(*m, QStringLiteral("cat=c"));
        QVERIFY(a >= 0 && b == a + 1 && c == b + 1);
        QVERIFY(!m->columnNames.contains(QStringLiteral("cat=(other)")));
        // rows: a b a (missing -> most frequent a) c
        const float expectA[] = {1, 0, 1, 1, 0}, expectB[] = {0, 1, 0, 0, 0}, expectC[] = {0, 0, 0, 0, 1};
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(m->at(i, a), expectA[i]);
            QCOMPARE(m->at(i, b), expectB[i]);
            QCOMPARE(m->at(i, c), expectC[i]);
            QCOMPARE(m->at(i, col(*m, QStringLiteral("cat.missing"))), i == 3 ? 1.0f : 0.0f);
        }
        // one-hot columns sum back to their source feature
        QCOMPARE(m->sourceFeatureNames[m->sourceFeature[size_t(a)]], QStringLiteral("cat"));
        QCOMPARE(m->sourceFeature[size_t(a)], m->sourceFeature[size_t(c)]);
        // unseen category at prediction time: all zero (no "(other)" column was needed in training)
        const data::Table p = makeTable({{1, 0, "zzz", utc(2020, 1, 1), 0}});
        auto pm = r->transform(p);
        QVERIFY(pm);
        QCOMPARE(pm->at(0, a) + pm->at(0, b) + pm->at(0, c), 0.0f);
    }

    void oneHotOther()
    {
        RecipeSpec s = baseSpec();
        s.defaults.maxCategories = 2;
        const data::Table t = smallTable();
        auto r = Recipe::fit(t, s);
        QVERIFY2(r, qPrintable(r.message()));
        auto m = r->transform(t);
        QVERIFY(m);
        // counts after imputation: a 3, b 1, c 1 -> keep a and b (tie broken by text), c goes to (other)
        const int a = col(*m, QStringLiteral("cat=a")), b = col(*m, QStringLiteral("cat=b"));
        const int other = col(*m, QStringLiteral("cat=(other)"));
        QVERIFY(a >= 0 && b >= 0 && other >= 0);
        QVERIFY(!m->columnNames.contains(QStringLiteral("cat=c")));
        QCOMPARE(m->at(4, other), 1.0f);
        QCOMPARE(m->at(4, a) + m->at(4, b), 0.0f);
        const data::Table p = makeTable({{1, 0, "zzz", utc(2020, 1, 1), 0}}, data::ColumnType::String);
        auto pm = r->transform(p);
        QVERIFY(pm);
        QCOMPARE(pm->at(0, other), 1.0f); // unseen -> other
    }

    void ordinal()
    {
        RecipeSpec s = baseSpec();
        s.columns[QStringLiteral("cat")].encode = EncodeKind::Ordinal;
        s.columns[QStringLiteral("cat")].impute = ImputeKind::None;
        const data::Table t = smallTable();
        auto r = Recipe::fit(t, s);
        QVERIFY2(r, qPrintable(r.message()));
        auto m = r->transform(t);
        QVERIFY(m);
        const int c = col(*m, QStringLiteral("cat"));
        QCOMPARE(m->at(0, c), 0.0f); // a
        QCOMPARE(m->at(1, c), 1.0f); // b
        QVERIFY(std::isnan(m->at(3, c)));
        QCOMPARE(m->at(4, c), 2.0f); // c
        const data::Table p = makeTable({{1, 0, "zzz", utc(2020, 1, 1), 0}});
        auto pm = r->transform(p);
        QVERIFY(pm);
        QCOMPARE(pm->at(0, c), -1.0f);
    }

    void dateParts()
    {
        auto spec = RecipeSpec::fromYaml(QStringLiteral(
            "target: y\ncolumns:\n  when: {date_parts: [year, month, day, weekday, hour, dayofyear], impute: none}\n"));
        QVERIFY2(spec, qPrintable(spec.message()));
        // independent reference: QDateTime in UTC over random instants, 1900..2100, including before 1970
        std::mt19937_64 rng(11);
        std::vector<SmallRow> rows;
        const int64_t lo = utc(1900, 1, 1), hi = utc(2100, 1, 1);
        for (int i = 0; i < 500; ++i)
            rows.push_back({1, 0, "a", lo + int64_t(rng() % uint64_t(hi - lo)), i % 2});
        rows.push_back({1, 0, "a", utc(2012, 12, 31, 23), 1}); // leap year: day 366, a Monday
        const data::Table t = makeTable(rows);
        auto r = Recipe::fit(t, *spec);
        QVERIFY2(r, qPrintable(r.message()));
        auto m = r->transform(t);
        QVERIFY(m);
        const int y = col(*m, QStringLiteral("when.year")), mo = col(*m, QStringLiteral("when.month")),
                  d = col(*m, QStringLiteral("when.day")), wd = col(*m, QStringLiteral("when.weekday")),
                  h = col(*m, QStringLiteral("when.hour")), doy = col(*m, QStringLiteral("when.dayofyear"));
        for (size_t i = 0; i < rows.size(); ++i) {
            const QDateTime dt = QDateTime::fromMSecsSinceEpoch(*rows[i].when, QTimeZone::utc());
            QCOMPARE(m->at(qint64(i), y), float(dt.date().year()));
            QCOMPARE(m->at(qint64(i), mo), float(dt.date().month()));
            QCOMPARE(m->at(qint64(i), d), float(dt.date().day()));
            QCOMPARE(m->at(qint64(i), wd), float(dt.date().dayOfWeek() - 1));
            QCOMPARE(m->at(qint64(i), h), float(dt.time().hour()));
            QCOMPARE(m->at(qint64(i), doy), float(dt.date().dayOfYear()));
        }
        const qint64 last = qint64(rows.size()) - 1;
        QCOMPARE(m->at(last, doy), 366.0f);
        QCOMPARE(m->at(last, wd), 0.0f);

        // default parts with median imputation on the small table: years 2011 2012 1969 2000 -> median 2005.5
        auto r2 = Recipe::fit(smallTable(), baseSpec());
        QVERIFY(r2);
        auto m2 = r2->transform(smallTable());
        QVERIFY(m2);
        QCOMPARE(m2->at(2, col(*m2, QStringLiteral("when.year"))), 2005.5f);
        QCOMPARE(m2->at(3, col(*m2, QStringLiteral("when.day"))), 31.0f);
        QVERIFY(!m2->columnNames.contains(QStringLiteral("when.hour"))); // not a default part
    }

    void derived()
    {
        RecipeSpec s = baseSpec();
        s.derived.push_back({QStringLiteral("ratio"), QStringLiteral("num / (num2 + 1)")});
        const data::Table t = smallTable();
        auto r = Recipe::fit(t, s);
        QVERIFY2(r, qPrintable(r.message()));
        auto m = r->transform(t);
        QVERIFY(m);
        const int c = col(*m, QStringLiteral("ratio"));
        // 1/1, 2/2, missing, 4/4, 100/5; median of {1, 1, 1, 20} = 1 fills the missing row
        const float expected[] = {1, 1, 1, 1, 20};
        for (int i = 0; i < 5; ++i)
            QCOMPARE(m->at(i, c), expected[i]);
        QCOMPARE(m->sourceFeatureNames.last(), QStringLiteral("ratio"));
    }

    void fitErrors_data()
    {
        // The field is the recipe key at fault (the training config adds "recipe." and the line); the message names
        // the column or value.
        QTest::addColumn<QString>("yaml");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("words");
        QTest::newRow("unknown feature") << QStringLiteral("target: y\nfeatures: [num, nope]") << QStringLiteral("features") << QStringLiteral("'nope'");
        QTest::newRow("unknown target") << QStringLiteral("target: nope") << QStringLiteral("target") << QStringLiteral("'nope'");
        QTest::newRow("unknown exclude") << QStringLiteral("target: y\nexclude: [nope]") << QStringLiteral("exclude") << QStringLiteral("'nope'");
        QTest::newRow("everything excluded") << QStringLiteral("target: y\nexclude: [num, num2, cat, when]") << QStringLiteral("exclude")
                                             << QStringLiteral("no feature columns are left");
        QTest::newRow("columns typo") << QStringLiteral("target: y\ncolumns: {nmu: {log: true}}") << QStringLiteral("columns.nmu") << QString();
        QTest::newRow("mean of categorical") << QStringLiteral("target: y\ncolumns: {cat: {impute: mean}}") << QStringLiteral("columns.cat") << QStringLiteral("'cat'");
        QTest::newRow("derived reads text") << QStringLiteral("target: y\nderived: [\"z = cat + 1\"]") << QStringLiteral("derived") << QStringLiteral("'z' reads column 'cat'");
        QTest::newRow("derived reads target") << QStringLiteral("target: y\nderived: [\"z = y * 2\"]") << QStringLiteral("derived") << QStringLiteral("'z' reads the target");
        QTest::newRow("derived name clash") << QStringLiteral("target: y\nderived: [\"num = num2 * 2\"]") << QStringLiteral("derived") << QStringLiteral("'num'");
        QTest::newRow("bad constant") << QStringLiteral("target: y\ncolumns: {num: {impute: \"constant:abc\"}}") << QStringLiteral("columns.num") << QStringLiteral("'abc'");
    }
    void fitErrors()
    {
        QFETCH(QString, yaml);
        QFETCH(QString, field);
        QFETCH(QString, words);
        auto spec = RecipeSpec::fromYaml(yaml);
        QVERIFY2(spec, qPrintable(spec.message()));
        auto r = Recipe::fit(smallTable(), *spec);
        QVERIFY(!r);
        QCOMPARE(r.error().field, field);
        QVERIFY2(r.error().message.contains(words), qPrintable(r.error().message));
    }

    void emptyFeatureListIsAnError()
    {
        // `features: []` would otherwise mean "every column"; it is refused where it is written.
        auto spec = RecipeSpec::fromYaml(QStringLiteral("target: y\nfeatures: []"), QStringLiteral("r.yaml"));
        QVERIFY(!spec);
        QCOMPARE(spec.error().field, QStringLiteral("features"));
        QCOMPARE(spec.error().line, qint64(2));
    }

    void transformErrors()
    {
        auto r = Recipe::fit(smallTable(), baseSpec());
        QVERIFY(r);
        // missing column
        const data::Table full = smallTable();
        std::vector<data::Column> noCat;
        for (const data::Column &c : full.columns())
            if (c.name() != u"cat")
                noCat.push_back(c);
        auto m = r->transform(data::Table(noCat));
        QVERIFY(!m);
        QCOMPARE(m.error().field, QStringLiteral("cat"));
        // wrong type: num as text
        std::vector<data::Column> textNum;
        for (const data::Column &c : full.columns()) {
            if (c.name() == u"num") {
                data::ColumnBuilder b(data::ColumnType::String);
                for (qint64 i = 0; i < full.rowCount(); ++i)
                    b.appendString("x");
                textNum.push_back(b.finish(QStringLiteral("num")));
            } else {
                textNum.push_back(c);
            }
        }
        auto m2 = r->transform(data::Table(textNum));
        QVERIFY(!m2);
        QCOMPARE(m2.error().field, QStringLiteral("num"));
        // the target is not needed at prediction time
        std::vector<data::Column> noTarget(full.columns().begin(), full.columns().end() - 1);
        QVERIFY(r->transform(data::Table(noTarget)));
    }

    void targets_data()
    {
        QTest::addColumn<int>("kind"); // 0 int few, 1 int many, 2 float, 3 text, 4 bool
        QTest::addColumn<int>("task");
        QTest::addColumn<int>("classes");
        QTest::newRow("3 ints -> multiclass") << 0 << int(Task::MulticlassClassification) << 3;
        QTest::newRow("25 ints -> regression") << 1 << int(Task::Regression) << 0;
        QTest::newRow("float -> regression") << 2 << int(Task::Regression) << 0;
        QTest::newRow("text -> binary") << 3 << int(Task::BinaryClassification) << 2;
        QTest::newRow("bool -> binary") << 4 << int(Task::BinaryClassification) << 2;
    }
    void targets()
    {
        QFETCH(int, kind);
        QFETCH(int, task);
        QFETCH(int, classes);
        data::ColumnBuilder b(kind == 2 ? data::ColumnType::Float64
                              : kind == 3 ? data::ColumnType::Categorical
                              : kind == 4 ? data::ColumnType::Bool
                                          : data::ColumnType::Int64);
        for (int i = 0; i < 50; ++i) {
            switch (kind) {
            case 0: b.appendInt64((i * 7) % 3 == 0 ? 10 : (i % 2 ? 2 : 9)); break;
            case 1: b.appendInt64(i % 25); break;
            case 2: b.appendFloat64(i * 0.5); break;
            case 3: b.appendString(i % 3 ? "yes" : "no"); break;
            case 4: b.appendBool(i % 3 != 0); break;
            }
        }
        const data::Table t({b.finish(QStringLiteral("t"))});
        auto target = makeTarget(t, QStringLiteral("t"));
        QVERIFY2(target, qPrintable(target.message()));
        QCOMPARE(int(target->task), task);
        QCOMPARE(target->numClasses(), classes);
        if (kind == 0) // numeric order, not text order ("10" after "9")
            QCOMPARE(target->classes, (QStringList{QStringLiteral("2"), QStringLiteral("9"), QStringLiteral("10")}));
        if (kind == 3) {
            QCOMPARE(target->classes, (QStringList{QStringLiteral("no"), QStringLiteral("yes")}));
            QCOMPARE(target->values[0], 0.0);
            QCOMPARE(target->values[1], 1.0);
        }
        if (kind == 2)
            QCOMPARE(target->values[3], 1.5);
    }

    void yamlRoundTrip()
    {
        auto spec = RecipeSpec::fromYaml(QString::fromUtf8(kAdultRecipe));
        QVERIFY2(spec, qPrintable(spec.message()));
        QCOMPARE(spec->target, QStringLiteral("class"));
        QCOMPARE(spec->labelMap.value(QStringLiteral(">50K.")), QStringLiteral(">50K"));
        QCOMPARE(spec->columns.value(QStringLiteral("age")).clipMax, std::optional<double>(70));
        QCOMPARE(spec->columns.value(QStringLiteral("education")).imputeConstant, QStringLiteral("unknown"));
        QCOMPARE(spec->derived.size(), size_t(2));
        QCOMPARE(spec->derived[1].name, QStringLiteral("age_sq"));
        auto again = RecipeSpec::fromYaml(spec->toYaml());
        QVERIFY2(again, qPrintable(again.message() + QLatin1Char('\n') + spec->toYaml()));
        QVERIFY(*again == *spec);
        const QByteArray json = QJsonDocument(spec->toJson()).toJson();
        auto fromJson = RecipeSpec::fromJson(QJsonDocument::fromJson(json).object());
        QVERIFY2(fromJson, qPrintable(fromJson.message()));
        QVERIFY(*fromJson == *spec);
    }

    void yamlErrors_data()
    {
        QTest::addColumn<QString>("yaml");
        QTest::addColumn<int>("line");
        QTest::addColumn<QString>("field");
        QTest::newRow("unknown key") << QStringLiteral("target: y\ncolumns:\n  num:\n    lgo: true\n") << 4
                                     << QStringLiteral("columns.num.lgo");
        QTest::newRow("bad impute") << QStringLiteral("target: y\ndefaults:\n  impute: average\n") << 3
                                    << QStringLiteral("defaults.impute");
        QTest::newRow("bad clip") << QStringLiteral("target: y\ncolumns:\n  num: {clip: {min: 5, max: 1}}\n") << 3
                                  << QStringLiteral("columns.num.clip");
        QTest::newRow("bad expression") << QStringLiteral("target: y\nderived:\n  - z = num +\n") << 3
                                        << QStringLiteral("derived.0");
        QTest::newRow("no target") << QStringLiteral("features: [a]\n") << -1 << QStringLiteral("target");
        QTest::newRow("syntax") << QStringLiteral("target: y\ncolumns: {num: [\n") << 3 << QString();
        QTest::newRow("bad task") << QStringLiteral("target: y\ntask: clustering\n") << 2 << QStringLiteral("task");
    }
    void yamlErrors()
    {
        QFETCH(QString, yaml);
        QFETCH(int, line);
        QFETCH(QString, field);
        auto spec = RecipeSpec::fromYaml(yaml, QStringLiteral("train.yaml"));
        QVERIFY(!spec);
        QCOMPARE(spec.error().file, QStringLiteral("train.yaml"));
        QCOMPARE(spec.error().field, field);
        if (line > 0)
            QCOMPARE(spec.error().line, qint64(line));
    }

    void labelMapAndClasses()
    {
        auto train = adult("adult_train.csv");
        auto test = adult("adult_test.csv");
        QVERIFY2(train && test, qPrintable(train.message() + test.message()));
        // explicit classes without a label map: the test file's "<=50K." is reported with its row
        auto bad = makeTarget(*test, QStringLiteral("class"), Task::BinaryClassification,
                              {QStringLiteral("<=50K"), QStringLiteral(">50K")});
        QVERIFY(!bad);
        QCOMPARE(bad.error().field, QStringLiteral("class"));
        QVERIFY2(bad.error().message.contains(QStringLiteral("row 1:")) && bad.error().message.contains(QStringLiteral("'<=50K.'")),
                 qPrintable(bad.error().message));
        auto spec = RecipeSpec::fromYaml(QString::fromUtf8(kAdultRecipe));
        QVERIFY(spec);
        auto r = Recipe::fit(*train, *spec);
        QVERIFY2(r, qPrintable(r.message()));
        QCOMPARE(r->task(), Task::BinaryClassification);
        QCOMPARE(r->classes(), (QStringList{QStringLiteral("<=50K"), QStringLiteral(">50K")}));
        auto yTest = r->target(*test);
        QVERIFY2(yTest, qPrintable(yTest.message()));
        // 3846 rows of ">50K." in adult_test
        double positives = 0;
        for (double v : yTest->values)
            positives += v;
        QCOMPARE(positives, 3846.0);
    }

    void trainingAndPredictionAgree()
    {
        auto train = adult("adult_train.csv");
        QVERIFY2(train, qPrintable(train.message()));
        auto spec = RecipeSpec::fromYaml(QString::fromUtf8(kAdultRecipe));
        QVERIFY(spec);
        auto r = Recipe::fit(*train, *spec);
        QVERIFY2(r, qPrintable(r.message()));
        auto all = r->transform(*train);
        QVERIFY2(all, qPrintable(all.message()));
        QCOMPARE(all->rows, train->rowCount());
        QCOMPARE(all->cols, int(r->columnNames().size()));
        QVERIFY(all->columnNames.contains(QStringLiteral("native_country=(other)")));
        QVERIFY(all->columnNames.contains(QStringLiteral("gain_per_hour")));
        const qint64 stride = train->rowCount() / 200;
        for (int k = 0; k < 200; ++k) {
            const qint64 row = qint64(k) * stride + k % 7;
            const data::Table one = sliceRow(*train, row, k % 2 == 1, k % 3 == 1);
            auto m = r->transform(one);
            QVERIFY2(m, qPrintable(m.message()));
            auto viaRow = r->transformRow(*train, row);
            QVERIFY(viaRow);
            QCOMPARE(m->cols, all->cols);
            for (int c = 0; c < all->cols; ++c) {
                QVERIFY2(sameFloat(m->at(0, c), all->at(row, c)),
                         qPrintable(QStringLiteral("row %1 column %2: %3 vs %4")
                                        .arg(row)
                                        .arg(all->columnNames[c])
                                        .arg(double(m->at(0, c)))
                                        .arg(double(all->at(row, c)))));
                QVERIFY(sameFloat((*viaRow)[size_t(c)], all->at(row, c)));
            }
        }
        // scaled features really are standardised on the training data
        const int hours = col(*all, QStringLiteral("hours_per_week"));
        double sum = 0;
        for (qint64 i = 0; i < all->rows; ++i)
            sum += all->at(i, hours);
        QVERIFY(std::fabs(sum / double(all->rows)) < 1e-4);
    }

    void jsonRoundTrip()
    {
        auto train = adult("adult_train.csv");
        QVERIFY(train);
        auto spec = RecipeSpec::fromYaml(QString::fromUtf8(kAdultRecipe));
        QVERIFY(spec);
        auto r = Recipe::fit(*train, *spec);
        QVERIFY(r);
        const QByteArray bytes = QJsonDocument(r->toJson()).toJson(QJsonDocument::Compact);
        auto back = Recipe::fromJson(QJsonDocument::fromJson(bytes).object());
        QVERIFY2(back, qPrintable(back.message()));
        QCOMPARE(QJsonDocument(back->toJson()).toJson(QJsonDocument::Compact), bytes);
        QCOMPARE(back->columnNames(), r->columnNames());
        auto a = r->transform(*train);
        auto b = back->transform(*train);
        QVERIFY(a && b);
        QCOMPARE(a->values.size(), b->values.size());
        QVERIFY(std::memcmp(a->values.data(), b->values.data(), a->values.size() * sizeof(float)) == 0);

        // small table: imputation with missing values, non-finite clip bounds, ordinal and "(other)"
        RecipeSpec s = baseSpec();
        s.defaults.maxCategories = 2;
        s.defaults.scale = ScaleKind::Standard;
        s.defaults.missingIndicator = true;
        s.columns[QStringLiteral("num")].clipMin = -std::numeric_limits<double>::infinity();
        s.columns[QStringLiteral("num")].clipMax = 50;
        s.columns[QStringLiteral("num")].impute = ImputeKind::Mean;
        s.derived.push_back({QStringLiteral("q"), QStringLiteral("sqrt(num) / 3")});
        auto small = Recipe::fit(smallTable(), s);
        QVERIFY2(small, qPrintable(small.message()));
        const QByteArray sb = QJsonDocument(small->toJson()).toJson();
        auto sback = Recipe::fromJson(QJsonDocument::fromJson(sb).object());
        QVERIFY2(sback, qPrintable(sback.message()));
        auto sa = small->transform(smallTable());
        auto sbm = sback->transform(smallTable());
        QVERIFY(sa && sbm);
        QVERIFY(std::memcmp(sa->values.data(), sbm->values.data(), sa->values.size() * sizeof(float)) == 0);
        QVERIFY(!Recipe::fromJson(QJsonObject{{QStringLiteral("format"), QStringLiteral("other")}}));
    }

    void learnerParams_data()
    {
        QTest::addColumn<QVariantMap>("params");
        QTest::addColumn<QString>("badField"); // empty: valid
        const auto map = [](const char *k, QVariant v) { return QVariantMap{{QLatin1String(k), v}}; };
        QTest::newRow("defaults") << QVariantMap() << QString();
        QTest::newRow("int as text") << map("depth", QStringLiteral("7")) << QString();
        QTest::newRow("unknown") << map("dpeth", 3) << QStringLiteral("dpeth");
        QTest::newRow("fractional int") << map("depth", 2.5) << QStringLiteral("depth");
        QTest::newRow("int above max") << map("depth", 17) << QStringLiteral("depth");
        QTest::newRow("double below min") << map("eta", 0.0) << QStringLiteral("eta");
        QTest::newRow("not a number") << map("eta", QStringLiteral("fast")) << QStringLiteral("eta");
        QTest::newRow("bool text") << map("shuffle", QStringLiteral("yes")) << QString();
        QTest::newRow("bad bool") << map("shuffle", QStringLiteral("maybe")) << QStringLiteral("shuffle");
        QTest::newRow("choice") << map("loss", QStringLiteral("huber")) << QString();
        QTest::newRow("bad choice") << map("loss", QStringLiteral("hinge")) << QStringLiteral("loss");
    }
    void learnerParams()
    {
        QFETCH(QVariantMap, params);
        QFETCH(QString, badField);
        std::vector<ParamSpec> specs(4);
        specs[0].name = QStringLiteral("depth");
        specs[0].type = ParamSpec::Type::Int;
        specs[0].defaultValue = 6;
        specs[0].min = 1;
        specs[0].max = 16;
        specs[1].name = QStringLiteral("eta");
        specs[1].defaultValue = 0.3;
        specs[1].min = 1e-6;
        specs[1].max = 1;
        specs[2].name = QStringLiteral("shuffle");
        specs[2].type = ParamSpec::Type::Bool;
        specs[2].defaultValue = false;
        specs[3].name = QStringLiteral("loss");
        specs[3].type = ParamSpec::Type::Choice;
        specs[3].choices = {QStringLiteral("squared"), QStringLiteral("huber")};
        specs[3].defaultValue = QStringLiteral("squared");
        auto v = validateParams(specs, params);
        if (!badField.isEmpty()) {
            QVERIFY(!v);
            QCOMPARE(v.error().field, badField);
            return;
        }
        QVERIFY2(v, qPrintable(v.message()));
        QCOMPARE(v->size(), 4); // missing parameters get their defaults
        QCOMPARE(v->value(QStringLiteral("depth")).toInt(), params.contains(QStringLiteral("depth")) ? 7 : 6);
        QCOMPARE(v->value(QStringLiteral("shuffle")).toBool(), params.contains(QStringLiteral("shuffle")));
        QCOMPARE(v->value(QStringLiteral("loss")).toString(),
                 params.value(QStringLiteral("loss"), QStringLiteral("squared")).toString());
        QCOMPARE(taskName(Task::BinaryClassification), QStringLiteral("binary"));
    }

    void cancel()
    {
        auto r = Recipe::fit(smallTable(), baseSpec());
        QVERIFY(r);
        Feedback fb;
        fb.cancel();
        auto m = r->transform(smallTable(), &fb);
        QVERIFY(!m);
        QVERIFY(m.error().is(keel::ErrorKind::Cancelled));
        auto f = Recipe::fit(smallTable(), baseSpec(), &fb);
        QVERIFY(!f);
        QVERIFY(f.error().is(keel::ErrorKind::Cancelled));
    }
};

QTEST_GUILESS_MAIN(TstRecipe)
#include "tst_recipe.moc"
