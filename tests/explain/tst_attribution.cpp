// The shared attribution type: one-hot aggregation back to source features (aggregateToSourceFeatures and the
// recipe-aware toSourceFeatures), global importance, residual bookkeeping and the JSON form.

#include "explain/attribution.h"
#include "explain/explainer.h"
#include "ml/linear.h"
#include "ml/recipe.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <cmath>

using namespace keel;
using namespace keel::explain;

namespace {

// num (float, one missing), cat (a/b/c with one missing), flag (bool), y.
data::Table smallTable()
{
    data::ColumnBuilder num(data::ColumnType::Float64), cat(data::ColumnType::Categorical), flag(data::ColumnType::Bool),
        y(data::ColumnType::Float64);
    const double nums[] = {1, 2, std::nan(""), 4, 5, 6};
    const char *cats[] = {"a", "b", "c", nullptr, "a", "b"};
    for (int r = 0; r < 6; ++r) {
        if (std::isnan(nums[r]))
            num.appendNull();
        else
            num.appendFloat64(nums[r]);
        if (cats[r])
            cat.appendString(cats[r]);
        else
            cat.appendNull();
        flag.appendBool(r % 2);
        y.appendFloat64(r);
    }
    return data::Table({num.finish(QStringLiteral("num")), cat.finish(QStringLiteral("cat")),
                        flag.finish(QStringLiteral("flag")), y.finish(QStringLiteral("y"))});
}

ml::Recipe smallRecipe()
{
    auto spec = ml::RecipeSpec::fromYaml(QStringLiteral(
        "target: y\ntask: regression\ndefaults: {missing_indicator: true}\nderived:\n  - twice = num * 2\n"));
    if (!spec)
        qFatal("%s", qPrintable(spec.message()));
    auto r = ml::Recipe::fit(smallTable(), *spec);
    if (!r)
        qFatal("%s", qPrintable(r.message()));
    return std::move(r).value();
}

// Attribution over the design columns of `x` with value (r + 1) * (k + 2) * (c + 1) / 10.
Attribution designAttribution(const ml::DesignMatrix &x, int outputs)
{
    Attribution a;
    a.method = QStringLiteral("test");
    a.features = x.columnNames;
    a.outputs = outputs;
    a.rows = x.rows;
    a.base.assign(size_t(outputs), 0.5);
    for (qint64 r = 0; r < x.rows; ++r)
        for (int k = 0; k < outputs; ++k) {
            for (int c = 0; c < x.cols; ++c)
                a.values.push_back((r + 1) * (k + 2) * (c + 1) / 10.0);
            a.residual.push_back(r == 1 ? std::nan("") : 0.001 * double(r - k));
        }
    a.parameters.insert(QStringLiteral("note"), QStringLiteral("kept"));
    return a;
}

// The source feature of a design column by its name: "cat=b" -> "cat", "num.missing" -> "num".
QString sourceByName(const QString &column)
{
    QString s = column.section(QLatin1Char('='), 0, 0);
    if (s.endsWith(QStringLiteral(".missing")))
        s.chop(8);
    return s;
}

} // namespace

class TstAttribution : public QObject {
    Q_OBJECT
private slots:
    void aggregateOneHot_data()
    {
        QTest::addColumn<int>("outputs");
        QTest::newRow("one output") << 1;
        QTest::newRow("three outputs") << 3;
    }
    void aggregateOneHot()
    {
        QFETCH(int, outputs);
        const ml::Recipe recipe = smallRecipe();
        auto x = recipe.transform(smallTable());
        QVERIFY2(x, qPrintable(x.message()));
        // num, num.missing, cat=a, cat=b, cat=c, cat.missing, flag, flag.missing, twice, twice.missing
        QCOMPARE(x->cols, 10);
        const Attribution a = designAttribution(*x, outputs);
        auto agg = aggregateToSourceFeatures(a, *x);
        QVERIFY2(agg, qPrintable(agg.message()));
        QCOMPARE(agg->features, (QStringList{QStringLiteral("num"), QStringLiteral("cat"), QStringLiteral("flag"),
                                             QStringLiteral("twice")}));
        QCOMPARE(agg->rows, a.rows);
        QCOMPARE(agg->outputs, outputs);
        QVERIFY(agg->base == a.base);
        QCOMPARE(agg->residual.size(), a.residual.size());
        for (size_t i = 0; i < a.residual.size(); ++i)
            QVERIFY(agg->residual[i] == a.residual[i] || (std::isnan(agg->residual[i]) && std::isnan(a.residual[i])));
        QCOMPARE(agg->parameters.value(QStringLiteral("note")).toString(), QStringLiteral("kept"));
        QCOMPARE(agg->parameters.value(QStringLiteral("aggregated")).toString(), QStringLiteral("source_features"));
        for (qint64 r = 0; r < a.rows; ++r)
            for (int k = 0; k < outputs; ++k) {
                double totalIn = 0, totalOut = 0;
                for (int f = 0; f < agg->featureCount(); ++f) {
                    double expected = 0;
                    for (int c = 0; c < x->cols; ++c)
                        if (sourceByName(x->columnNames[c]) == agg->features[f])
                            expected += a.value(r, k, c);
                    QVERIFY(std::abs(agg->value(r, k, f) - expected) < 1e-12);
                    totalOut += agg->value(r, k, f);
                }
                for (int c = 0; c < x->cols; ++c)
                    totalIn += a.value(r, k, c);
                QVERIFY(std::abs(totalIn - totalOut) < 1e-12);
            }
        // cat's three one-hot columns and its indicator (columns 2..5) became one number.
        QVERIFY(std::abs(agg->value(0, 0, 1) - (3 + 4 + 5 + 6) * 2 / 10.0) < 1e-12);
    }

    void aggregateErrors_data()
    {
        QTest::addColumn<int>("mode");
        QTest::newRow("fewer features than columns") << 0;
        QTest::newRow("a feature renamed") << 1;
        QTest::newRow("no source map") << 2;
    }
    void aggregateErrors()
    {
        QFETCH(int, mode);
        const ml::Recipe recipe = smallRecipe();
        auto x = recipe.transform(smallTable());
        QVERIFY(x);
        Attribution a = designAttribution(*x, 1);
        ml::DesignMatrix m = *x;
        if (mode == 0)
            a.features.removeLast();
        else if (mode == 1)
            a.features[3] = QStringLiteral("cat=z");
        else
            m.sourceFeature.clear();
        auto agg = aggregateToSourceFeatures(a, m);
        QVERIFY(!agg);
        if (mode == 1)
            QVERIFY(agg.error().message.contains(QStringLiteral("cat=z")));
    }

    void meanAbsAndResidual()
    {
        Attribution a;
        a.features = {QStringLiteral("p"), QStringLiteral("q")};
        a.outputs = 2;
        a.rows = 2;
        a.values = {1, -2, /*k1*/ 10, 20, /*row 1*/ -3, 4, /*k1*/ 30, -40};
        a.residual = {0.1, std::nan(""), -0.5, 0.2};
        const std::vector<double> m0 = meanAbsImportance(a, 0);
        QCOMPARE(m0, (std::vector<double>{2.0, 3.0}));
        QCOMPARE(meanAbsImportance(a, 1), (std::vector<double>{20.0, 30.0}));
        QCOMPARE(a.maxAbsResidual(), 0.5);
        Attribution empty;
        QVERIFY(meanAbsImportance(empty).empty());
        QCOMPARE(empty.maxAbsResidual(), 0.0);
    }

    void toSourceFeaturesUsesRecipe()
    {
        // The recipe-aware aggregation needs no design matrix and agrees with aggregateToSourceFeatures.
        ModelContext ctx;
        ctx.recipe = std::make_shared<const ml::Recipe>(smallRecipe());
        ctx.model = std::make_shared<ml::LinearModel>(std::vector<double>(10, 1.0), 0.0, ctx.recipe->columnNames(),
                                                      QVariantMap());
        auto x = ctx.design(smallTable());
        QVERIFY(x);
        const Attribution a = designAttribution(*x, 2);
        auto viaMatrix = aggregateToSourceFeatures(a, *x);
        auto viaRecipe = toSourceFeatures(a, ctx);
        QVERIFY2(viaRecipe, qPrintable(viaRecipe.message()));
        QVERIFY(viaMatrix->values == viaRecipe->values);
        QCOMPARE(viaRecipe->features, ctx.features());
        // already per feature: unchanged
        auto again = toSourceFeatures(*viaRecipe, ctx);
        QVERIFY(again);
        QVERIFY(again->values == viaRecipe->values);
        Attribution stranger = a;
        stranger.features[0] = QStringLiteral("nope");
        auto bad = toSourceFeatures(stranger, ctx);
        QVERIFY(!bad);
        QCOMPARE(bad.error().field, QStringLiteral("nope"));
        QCOMPARE(featureColumns(*x).size(), size_t(4));
        QCOMPARE(featureColumns(*x)[1], (std::vector<int>{2, 3, 4, 5}));
    }

    void jsonRoundTrip()
    {
        const ml::Recipe recipe = smallRecipe();
        auto x = recipe.transform(smallTable());
        QVERIFY(x);
        Attribution a = designAttribution(*x, 2);
        a.values[3] = std::numeric_limits<double>::infinity();
        const QByteArray bytes = QJsonDocument(attributionToJson(a)).toJson(QJsonDocument::Compact);
        auto back = attributionFromJson(QJsonDocument::fromJson(bytes).object());
        QVERIFY2(back, qPrintable(back.message()));
        QCOMPARE(QJsonDocument(attributionToJson(*back)).toJson(QJsonDocument::Compact), bytes);
        QCOMPARE(back->features, a.features);
        QVERIFY(back->values == a.values);
        QVERIFY(std::isnan(back->residual[2]));
        QCOMPARE(back->residual[0], a.residual[0]);
        QCOMPARE(back->parameters, a.parameters);
    }

    void jsonErrors_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QJsonValue>("value");
        QTest::newRow("values too short") << QStringLiteral("values") << QJsonValue(QJsonArray{1.0});
        QTest::newRow("base per output") << QStringLiteral("base") << QJsonValue(QJsonArray{});
        QTest::newRow("residual per row") << QStringLiteral("residual") << QJsonValue(QJsonArray{0.0});
        QTest::newRow("outputs zero") << QStringLiteral("outputs") << QJsonValue(0);
    }
    void jsonErrors()
    {
        QFETCH(QString, key);
        QFETCH(QJsonValue, value);
        const ml::Recipe recipe = smallRecipe();
        auto x = recipe.transform(smallTable());
        QJsonObject o = attributionToJson(designAttribution(*x, 1));
        o.insert(key, value);
        auto back = attributionFromJson(o);
        QVERIFY(!back);
        QCOMPARE(back.error().field, key);
    }
};

QTEST_GUILESS_MAIN(TstAttribution)
#include "tst_attribution.moc"
