// Global explanations: quantile grids and colour scales; permutation importance where only one feature matters
// (exact per-repeat drops recomputed through the raw table, zero for features the model ignores); partial
// dependence of a linear model (straight line with the model's slope in raw units, parallel ICE curves) and of a
// classifier (against editing the raw column directly); SHAP summary and dependence data; JSON round trips.

#include "data/reader.h"
#include "explain/global.h"
#include "explain/kernelshap.h"
#include "ml/learners.h"
#include "ml/linear.h"
#include "ml/logistic.h"
#include "ml/metrics.h"
#include "ml/recipe.h"

#include <QJsonDocument>
#include <QTest>

#include <cmath>
#include <numeric>
#include <random>

using namespace keel;
using namespace keel::explain;

namespace {

data::Column numbers(const QString &name, const std::vector<double> &v)
{
    data::ColumnBuilder b(data::ColumnType::Float64);
    for (double d : v) {
        if (std::isnan(d))
            b.appendNull();
        else
            b.appendFloat64(d);
    }
    return b.finish(name);
}

data::Column integers(const QString &name, const std::vector<int64_t> &v)
{
    data::ColumnBuilder b(data::ColumnType::Int64);
    for (int64_t d : v)
        b.appendInt64(d);
    return b.finish(name);
}

data::Column texts(const QString &name, const std::vector<QString> &v)
{
    data::ColumnBuilder b(data::ColumnType::Categorical);
    for (const QString &s : v) {
        const QByteArray u = s.toUtf8();
        b.appendString(std::string_view(u.constData(), size_t(u.size())));
    }
    return b.finish(name);
}

// Rows: x0 ~ N(0, 2), x1, x2 ~ N(0, 1), c in {a, b, c}; y = 3 x0 + N(0, 0.5) (regression) or a class label.
data::Table syntheticTable(int rows, bool classification, quint32 seed)
{
    std::mt19937 gen(seed);
    std::normal_distribution<double> normal;
    std::vector<double> x0, x1, x2, y;
    std::vector<QString> c;
    std::vector<int64_t> label;
    const QString cats[] = {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")};
    for (int r = 0; r < rows; ++r) {
        x0.push_back(2 * normal(gen));
        x1.push_back(normal(gen));
        x2.push_back(normal(gen));
        c.push_back(cats[gen() % 3]);
        y.push_back(3 * x0.back() + 0.5 * normal(gen));
        const double margin = 1.5 * x0.back() + (c.back() == u"b" ? 2.0 : 0.0) - 1.0;
        label.push_back(std::uniform_real_distribution<double>(0, 1)(gen) < 1 / (1 + std::exp(-margin)) ? 1 : 0);
    }
    std::vector<data::Column> cols{numbers(QStringLiteral("x0"), x0), numbers(QStringLiteral("x1"), x1),
                                   numbers(QStringLiteral("x2"), x2), texts(QStringLiteral("c"), c)};
    if (classification)
        cols.push_back(integers(QStringLiteral("y"), label));
    else
        cols.push_back(numbers(QStringLiteral("y"), y));
    return data::Table(std::move(cols));
}

std::shared_ptr<const ml::Recipe> fitRecipe(const data::Table &t, const QString &yaml)
{
    auto spec = ml::RecipeSpec::fromYaml(yaml);
    if (!spec)
        qFatal("%s", qPrintable(spec.message()));
    auto r = ml::Recipe::fit(t, *spec);
    if (!r)
        qFatal("%s", qPrintable(r.message()));
    return std::make_shared<const ml::Recipe>(std::move(r).value());
}

// Columns: x0 x1 x2 c=a c=b c=c.
ModelContext regressionContext(const data::Table &t)
{
    ModelContext ctx;
    ctx.recipe = fitRecipe(t, QStringLiteral("target: y\ntask: regression\n"));
    ctx.model = std::make_shared<ml::LinearModel>(std::vector<double>{3, 0, 0, 0, 0, 0}, 0.0, ctx.recipe->columnNames(),
                                                  QVariantMap());
    return ctx;
}

ModelContext classificationContext(const data::Table &t)
{
    ModelContext ctx;
    ctx.recipe = fitRecipe(t, QStringLiteral("target: y\n"));
    ctx.model = std::make_shared<ml::LogisticModel>(ml::Task::BinaryClassification,
                                                    QStringList{QStringLiteral("0"), QStringLiteral("1")},
                                                    ctx.recipe->columnNames(), std::vector<double>{1.5, 0, 0, 0, 2, 0},
                                                    std::vector<double>{-1.0}, QVariantMap());
    return ctx;
}

// `t` with column `name` replaced by `column`.
data::Table withColumn(const data::Table &t, const QString &name, data::Column column)
{
    std::vector<data::Column> cols = t.columns();
    cols[size_t(t.indexOf(name))] = std::move(column);
    return data::Table(std::move(cols));
}

} // namespace

class TstGlobal : public QObject {
    Q_OBJECT
private slots:
    void quantileGrid_data()
    {
        QTest::addColumn<std::vector<double>>("values");
        QTest::addColumn<int>("points");
        QTest::addColumn<std::vector<double>>("expected");
        QTest::newRow("min and max always") << std::vector<double>{5, 1, 3} << 2 << std::vector<double>{1, 5};
        QTest::newRow("lower order statistic") << std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9} << 4
                                               << std::vector<double>{0, 3, 6, 9};
        QTest::newRow("duplicates collapse") << std::vector<double>{1, 1, 1, 1, 2} << 5 << std::vector<double>{1, 2};
        QTest::newRow("missing skipped") << std::vector<double>{std::nan(""), 4, std::nan(""), 2} << 3
                                         << std::vector<double>{2, 4};
        QTest::newRow("nothing finite") << std::vector<double>{std::nan("")} << 3 << std::vector<double>{};
        QTest::newRow("constant") << std::vector<double>{7, 7, 7} << 20 << std::vector<double>{7};
    }
    void quantileGrid()
    {
        QFETCH(std::vector<double>, values);
        QFETCH(int, points);
        QFETCH(std::vector<double>, expected);
        QCOMPARE(explain::quantileGrid(values, points), expected);
    }

    void colourScales()
    {
        FeatureValues f;
        for (int i = 0; i <= 20; ++i)
            f.numbers.push_back(i * 5.0); // 0..100: p5 = 5, p95 = 95
        f.numbers.push_back(std::nan(""));
        const std::vector<double> c = colourScale(f);
        QCOMPARE(c[0], 0.0);                 // below p5: clipped
        QCOMPARE(c[10], (50.0 - 5) / 90.0);
        QCOMPARE(c[20], 1.0);
        QVERIFY(std::isnan(c[21]));
        FeatureValues constant;
        constant.numbers = {3, 3};
        QCOMPARE(colourScale(constant), (std::vector<double>{0.5, 0.5}));
        FeatureValues cat;
        cat.categorical = true;
        cat.categories = {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")};
        cat.codes = {2, 0, -1, 1};
        const std::vector<double> cc = colourScale(cat);
        QCOMPARE(cc[0], 1.0);
        QCOMPARE(cc[1], 0.0);
        QVERIFY(std::isnan(cc[2]));
        QCOMPARE(cc[3], 0.5);
    }

    void permutationRegression()
    {
        // y = 3 x0 + noise and a model using only x0: x1, x2 and c have importance exactly 0; x0's drop per
        // repeat equals the RMSE with x0 shuffled by the same permutation, recomputed through the raw table.
        const data::Table t = syntheticTable(400, false, 3);
        const ModelContext ctx = regressionContext(t);
        PermutationOptions o;
        o.repeats = 4;
        o.seed = 17;
        auto imp = permutationImportance(ctx, t, o);
        QVERIFY2(imp, qPrintable(imp.message()));
        QCOMPARE(imp->metric, QStringLiteral("rmse"));
        QCOMPARE(imp->features, ctx.features());
        auto y = ctx.target(t);
        auto pred = ctx.predict(t);
        QVERIFY(std::abs(imp->baseline - ml::rmse(y->values, *pred)) < 1e-12);
        for (int f = 1; f < 4; ++f) {
            QCOMPARE(imp->mean[size_t(f)], 0.0);
            QCOMPARE(imp->std[size_t(f)], 0.0);
        }
        const data::Column &x0 = t.column(0);
        double mean = 0;
        for (int rep = 0; rep < 4; ++rep) {
            std::vector<qint64> perm(400);
            std::iota(perm.begin(), perm.end(), qint64(0));
            Rng rng = Rng::forStream(17, (quint64(0) << 20) + quint64(rep));
            rng.shuffle(perm);
            std::vector<double> shuffled;
            for (qint64 r : perm)
                shuffled.push_back(x0.float64At(r));
            auto p = ctx.predict(withColumn(t, QStringLiteral("x0"), numbers(QStringLiteral("x0"), shuffled)));
            QVERIFY(p);
            const double expected = ml::rmse(y->values, *p) - imp->baseline;
            QVERIFY2(std::abs(imp->drops[0][size_t(rep)] - expected) < 1e-9,
                     qPrintable(QStringLiteral("%1 vs %2").arg(imp->drops[0][size_t(rep)]).arg(expected)));
            mean += expected / 4;
        }
        QVERIFY(std::abs(imp->mean[0] - mean) < 1e-9);
        // E[(3 (x0 - x0'))^2] = 18 var(x0) = 72: permuted RMSE about sqrt(72 + 0.25).
        QVERIFY(std::abs(imp->mean[0] + imp->baseline - std::sqrt(72.25)) < 0.1 * std::sqrt(72.25));
        QVERIFY(imp->std[0] > 0);
    }

    void permutationClassification_data()
    {
        QTest::addColumn<int>("metric");
        QTest::addColumn<QString>("name");
        QTest::newRow("log loss") << int(ImportanceMetric::LogLoss) << QStringLiteral("log_loss");
        QTest::newRow("accuracy") << int(ImportanceMetric::Accuracy) << QStringLiteral("accuracy");
        QTest::newRow("auto") << int(ImportanceMetric::Auto) << QStringLiteral("log_loss");
    }
    void permutationClassification()
    {
        // The categorical c matters through c=b only; permuting c moves its one-hot columns together, which is
        // the same as shuffling the raw column.
        QFETCH(int, metric);
        QFETCH(QString, name);
        const data::Table t = syntheticTable(300, true, 8);
        const ModelContext ctx = classificationContext(t);
        PermutationOptions o;
        o.metric = ImportanceMetric(metric);
        o.repeats = 3;
        o.seed = 5;
        o.features = {QStringLiteral("c"), QStringLiteral("x1")};
        auto imp = permutationImportance(ctx, t, o);
        QVERIFY2(imp, qPrintable(imp.message()));
        QCOMPARE(imp->metric, name);
        QCOMPARE(imp->features, o.features);
        QCOMPARE(imp->mean[1], 0.0);
        QVERIFY(imp->mean[0] > 0);
        auto y = ctx.target(t);
        const data::Column &c = t.column(t.indexOf(QStringLiteral("c")));
        for (int rep = 0; rep < 3; ++rep) {
            std::vector<qint64> perm(300);
            std::iota(perm.begin(), perm.end(), qint64(0));
            Rng rng = Rng::forStream(5, (quint64(3) << 20) + quint64(rep)); // c is recipe feature 3
            rng.shuffle(perm);
            std::vector<QString> shuffled;
            for (qint64 r : perm)
                shuffled.push_back(c.displayAt(r));
            auto p = ctx.predict(withColumn(t, QStringLiteral("c"), texts(QStringLiteral("c"), shuffled)));
            auto p0 = ctx.predict(t);
            double expected;
            if (name == u"accuracy") {
                const auto cls = predictedClasses(ctx.task(), 2, *p), cls0 = predictedClasses(ctx.task(), 2, *p0);
                expected = ml::accuracy(y->values, std::vector<double>(cls0.begin(), cls0.end())) -
                           ml::accuracy(y->values, std::vector<double>(cls.begin(), cls.end()));
            } else {
                expected = ml::logLoss(y->values, *p, 2) - ml::logLoss(y->values, *p0, 2);
            }
            QVERIFY(std::abs(imp->drops[0][size_t(rep)] - expected) < 1e-9);
        }
    }

    void permutationOptions()
    {
        const data::Table t = syntheticTable(200, false, 4);
        const ModelContext ctx = regressionContext(t);
        PermutationOptions o;
        o.metric = ImportanceMetric::LogLoss;
        auto bad = permutationImportance(ctx, t, o);
        QVERIFY(!bad);
        QCOMPARE(bad.error().field, QStringLiteral("metric"));
        o.metric = ImportanceMetric::Auto;
        o.features = {QStringLiteral("nope")};
        bad = permutationImportance(ctx, t, o);
        QVERIFY(!bad);
        QCOMPARE(bad.error().field, QStringLiteral("nope"));
        o.features.clear();
        o.repeats = 0;
        QVERIFY(!permutationImportance(ctx, t, o));

        // Sampling rows, threads and JSON.
        o.repeats = 3;
        o.maxRows = 50;
        o.threads = 1;
        auto one = permutationImportance(ctx, t, o);
        o.threads = 2;
        auto two = permutationImportance(ctx, t, o);
        QVERIFY(one && two);
        QCOMPARE(one->rows, qint64(50));
        QVERIFY(one->drops == two->drops);
        const QByteArray bytes = QJsonDocument(one->toJson()).toJson(QJsonDocument::Compact);
        auto back = PermutationImportance::fromJson(QJsonDocument::fromJson(bytes).object());
        QVERIFY2(back, qPrintable(back.message()));
        QCOMPARE(QJsonDocument(back->toJson()).toJson(QJsonDocument::Compact), bytes);
        QVERIFY(back->drops == one->drops);
        QCOMPARE(importanceMetricFromName(u"RMSE"), std::optional<ImportanceMetric>(ImportanceMetric::Rmse));
        QVERIFY(!importanceMetricFromName(u"r2"));

        Feedback fb;
        fb.cancel();
        auto cancelled = permutationImportance(ctx, t, o, &fb);
        QVERIFY(!cancelled);
        QVERIFY(cancelled.error().is(keel::ErrorKind::Cancelled));
    }

    void pdpLinear()
    {
        // Standard scaling inside the recipe: the PDP in raw units has slope w / sd, and every ICE curve is the
        // PDP shifted by a constant (no interactions).
        const data::Table t = syntheticTable(500, false, 6);
        ModelContext ctx;
        ctx.recipe = fitRecipe(t, QStringLiteral("target: y\ntask: regression\ndefaults: {scale: standard}\n"));
        ctx.model = std::make_shared<ml::LinearModel>(std::vector<double>{2.5, -1, 0.5, 0, 0.75, 0}, 1.0,
                                                      ctx.recipe->columnNames(), QVariantMap());
        const ml::Recipe::NumericOutput &o = ctx.recipe->features()[0].numeric.front();
        const double slope = 2.5 / o.scaleBy;
        PartialDependenceOptions po;
        po.feature = QStringLiteral("x0");
        po.gridPoints = 11;
        po.maxRows = 200;
        po.iceRows = 7;
        auto pd = partialDependence(ctx, t, po);
        QVERIFY2(pd, qPrintable(pd.message()));
        QCOMPARE(pd->rows, qint64(200));
        QCOMPARE(pd->grid, explain::quantileGrid(std::vector<double>(t.column(0).storage().f64.view.begin(),
                                                                     t.column(0).storage().f64.view.end()),
                                                 11));
        QCOMPARE(pd->grid.size(), size_t(11));
        QCOMPARE(pd->gridLabels[0], t.column(0).displayAt(qint64(std::min_element(t.column(0).storage().f64.view.begin(),
                                                                                    t.column(0).storage().f64.view.end()) -
                                                                   t.column(0).storage().f64.view.begin())));
        for (size_t g = 1; g < pd->grid.size(); ++g) {
            const double s = (pd->average[g] - pd->average[0]) / (pd->grid[g] - pd->grid[0]);
            QVERIFY2(std::abs(s - slope) < 1e-5 * std::abs(slope), qPrintable(QStringLiteral("%1 vs %2").arg(s).arg(slope)));
        }
        QCOMPARE(pd->iceRows.size(), size_t(7));
        QCOMPARE(pd->ice.size(), size_t(7));
        for (const std::vector<double> &curve : pd->ice) {
            const double shift = curve[0] - pd->average[0];
            for (size_t g = 0; g < curve.size(); ++g)
                QVERIFY(std::abs(curve[g] - pd->average[g] - shift) < 1e-5);
        }
        // An ICE curve is the model on that row with x0 set to each grid value (checked through the raw table).
        const qint64 row = pd->iceRows[2];
        for (size_t g = 0; g < pd->grid.size(); g += 5) {
            auto edited = editedRow(t, row, {{QStringLiteral("x0"), pd->grid[g]}});
            QVERIFY(edited);
            auto p = ctx.predict(*edited);
            QVERIFY(std::abs((*p)[0] - pd->ice[2][g]) < 1e-9);
        }

        // Categorical: every category, PDP(b) - PDP(a) = 0.75 exactly as the coefficient of c=b.
        po.feature = QStringLiteral("c");
        auto pc = partialDependence(ctx, t, po);
        QVERIFY2(pc, qPrintable(pc.message()));
        QVERIFY(pc->categorical);
        QCOMPARE(pc->gridLabels, (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
        QVERIFY(std::abs(pc->average[1] - pc->average[0] - 0.75) < 1e-6);
        QVERIFY(std::abs(pc->average[2] - pc->average[0]) < 1e-6);

        po.feature = QStringLiteral("nope");
        auto bad = partialDependence(ctx, t, po);
        QVERIFY(!bad);
        QCOMPARE(bad.error().field, QStringLiteral("nope"));
    }

    void pdpClassifier_data()
    {
        QTest::addColumn<int>("scale");
        QTest::addColumn<int>("classIndex");
        QTest::newRow("probability of class 1") << int(OutputScale::Prediction) << -1;
        QTest::newRow("probability of class 0") << int(OutputScale::Prediction) << 0;
        QTest::newRow("log-odds of class 1") << int(OutputScale::Margin) << 1;
    }
    void pdpClassifier()
    {
        // The averaged probability at each grid value equals predicting the table with the raw column set to that
        // value in every row.
        QFETCH(int, scale);
        QFETCH(int, classIndex);
        const data::Table t = syntheticTable(150, true, 12);
        const ModelContext ctx = classificationContext(t);
        PartialDependenceOptions po;
        po.feature = QStringLiteral("x0");
        po.gridPoints = 5;
        po.scale = OutputScale(scale);
        po.classIndex = classIndex;
        auto pd = partialDependence(ctx, t, po);
        QVERIFY2(pd, qPrintable(pd.message()));
        QCOMPARE(pd->rows, qint64(150));
        QCOMPARE(pd->classIndex, classIndex < 0 ? 1 : classIndex);
        for (size_t g = 0; g < pd->grid.size(); ++g) {
            auto set = withColumn(t, QStringLiteral("x0"), numbers(QStringLiteral("x0"), std::vector<double>(150, pd->grid[g])));
            auto out = scale == int(OutputScale::Margin) ? ctx.margin(set) : ctx.predict(set);
            QVERIFY(out);
            double mean = 0;
            for (double v : *out)
                mean += (classIndex == 0 ? 1.0 - v : v) / 150.0;
            QVERIFY(std::abs(mean - pd->average[g]) < 1e-9);
        }
        QVERIFY(pd->average.front() != pd->average.back());
        const QByteArray bytes = QJsonDocument(pd->toJson()).toJson(QJsonDocument::Compact);
        auto back = PartialDependence::fromJson(QJsonDocument::fromJson(bytes).object());
        QVERIFY2(back, qPrintable(back.message()));
        QCOMPARE(QJsonDocument(back->toJson()).toJson(QJsonDocument::Compact), bytes);
        QVERIFY(back->ice == pd->ice);
    }

    void shapSummaryAndDependence()
    {
        // KernelSHAP of the linear classifier's log-odds: the summary orders features by mean |SHAP|, carries the raw
        // values (categories by index) and their colours; dependence pairs raw x0 with its SHAP and c's colour.
        const data::Table t = syntheticTable(60, true, 2);
        const ModelContext ctx = classificationContext(t);
        auto bg = summariseBackground(ctx, t, BackgroundOptions{BackgroundOptions::Method::KMeans, 10, 1, 5000, 50});
        QVERIFY(bg);
        auto shap = kernelShap(ctx, t, *bg);
        QVERIFY(shap);
        auto s = shapSummary(shap->attribution, ctx, t);
        QVERIFY2(s, qPrintable(s.message()));
        QCOMPARE(s->rows, qint64(60));
        QCOMPARE(s->features.size(), size_t(4));
        QCOMPARE(s->features[0].name, QStringLiteral("x0"));
        QCOMPARE(s->features[1].name, QStringLiteral("c"));
        QCOMPARE(s->features[2].meanAbs, 0.0);
        for (size_t i = 1; i < s->features.size(); ++i)
            QVERIFY(s->features[i - 1].meanAbs >= s->features[i].meanAbs);
        const ShapSummary::Feature &c = s->features[1];
        QVERIFY(c.categorical);
        QCOMPARE(c.categories, (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
        const data::Column &craw = t.column(t.indexOf(QStringLiteral("c")));
        for (qint64 r = 0; r < 60; ++r) {
            QCOMPARE(c.categories[int(c.value[size_t(r)])], craw.displayAt(r));
            QCOMPARE(c.colour[size_t(r)], c.value[size_t(r)] / 2.0);
            QCOMPARE(s->features[0].value[size_t(r)], t.column(0).float64At(r));
            QVERIFY(s->features[0].colour[size_t(r)] >= 0 && s->features[0].colour[size_t(r)] <= 1);
            QCOMPARE(s->features[0].shap[size_t(r)], shap->attribution.value(r, 0, 0));
        }
        double meanAbs = 0;
        for (double v : s->features[0].shap)
            meanAbs += std::abs(v) / 60;
        QVERIFY(std::abs(meanAbs - s->features[0].meanAbs) < 1e-12);

        auto d = shapDependence(shap->attribution, ctx, t, QStringLiteral("x0"), QStringLiteral("c"));
        QVERIFY2(d, qPrintable(d.message()));
        QVERIFY(!d->categorical);
        QVERIFY(d->colourCategorical);
        for (qint64 r = 0; r < 60; ++r) {
            QCOMPARE(d->x[size_t(r)], t.column(0).float64At(r));
            QCOMPARE(d->shap[size_t(r)], shap->attribution.value(r, 0, 0));
            QCOMPARE(d->colourValue[size_t(r)], c.value[size_t(r)]);
        }
        // Linear log-odds: SHAP of x0 is 1.5 (x0 - E x0), a straight line in x.
        for (qint64 r = 1; r < 60; ++r)
            QVERIFY(std::abs((d->shap[size_t(r)] - d->shap[0]) - 1.5 * (d->x[size_t(r)] - d->x[0])) < 1e-5);

        // An attribution over design columns is aggregated first.
        Attribution design;
        design.method = QStringLiteral("hand");
        design.features = ctx.recipe->columnNames();
        design.rows = 60;
        design.base = {0};
        design.residual.assign(60, 0.0);
        for (qint64 r = 0; r < 60; ++r)
            for (int col = 0; col < 6; ++col)
                design.values.push_back(col >= 3 ? 1.0 : 0.0);
        auto agg = shapSummary(design, ctx, t);
        QVERIFY2(agg, qPrintable(agg.message()));
        QCOMPARE(agg->features[0].name, QStringLiteral("c"));
        QCOMPARE(agg->features[0].meanAbs, 3.0);

        QVERIFY(!shapSummary(shap->attribution, ctx, t, 1));                  // no output 1
        QVERIFY(!shapDependence(shap->attribution, ctx, t, QStringLiteral("x0"), QStringLiteral("zz")));
        auto fewer = selectRows(t, std::vector<qint64>{0, 1});
        QVERIFY(!shapSummary(shap->attribution, ctx, *fewer));              // rows differ

        const QByteArray sb = QJsonDocument(s->toJson()).toJson(QJsonDocument::Compact);
        auto sback = ShapSummary::fromJson(QJsonDocument::fromJson(sb).object());
        QVERIFY2(sback, qPrintable(sback.message()));
        QCOMPARE(QJsonDocument(sback->toJson()).toJson(QJsonDocument::Compact), sb);
        const QByteArray db = QJsonDocument(d->toJson()).toJson(QJsonDocument::Compact);
        auto dback = ShapDependence::fromJson(QJsonDocument::fromJson(db).object());
        QVERIFY2(dback, qPrintable(dback.message()));
        QCOMPARE(QJsonDocument(dback->toJson()).toJson(QJsonDocument::Compact), db);
    }

    void adultGradientBoosting()
    {
        // Real data through the whole path: an XGBoost model on Adult, explained in the user's 14 features.
        auto train = data::readTable(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_train.csv"));
        auto test = data::readTable(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_test.csv"));
        QVERIFY(train && test);
        auto spec = ml::RecipeSpec::fromYaml(QStringLiteral(
            "target: class\nlabel_map: {\">50K.\": \">50K\", \"<=50K.\": \"<=50K\"}\n"));
        QVERIFY(spec);
        auto recipe = ml::Recipe::fit(*train, *spec);
        QVERIFY(recipe);
        auto x = recipe->transform(*train);
        auto y = recipe->target(*train);
        QVERIFY(x && y);
        const ml::Learner *gbdt = ml::findLearner(QStringLiteral("gbdt"));
        QVERIFY(gbdt);
        auto params = ml::validateParams(gbdt->params(), {{QStringLiteral("n_estimators"), 30}, {QStringLiteral("threads"), 1}});
        QVERIFY(params);
        auto model = gbdt->fit(*x, *y, *params, nullptr, nullptr, {}, nullptr);
        QVERIFY2(model, qPrintable(model.message()));
        ModelContext ctx;
        ctx.recipe = std::make_shared<const ml::Recipe>(std::move(recipe).value());
        ctx.model = std::shared_ptr<const ml::Model>(std::move(model).value());
        std::vector<qint64> firstRows(1500);
        std::iota(firstRows.begin(), firstRows.end(), qint64(0));
        auto rows = selectRows(*test, firstRows);
        QVERIFY(rows);

        PermutationOptions po;
        po.repeats = 2;
        auto imp = permutationImportance(ctx, *rows, po);
        QVERIFY2(imp, qPrintable(imp.message()));
        QCOMPARE(imp->features.size(), qsizetype(14));
        std::vector<int> order(14);
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int a, int b) { return imp->mean[size_t(a)] > imp->mean[size_t(b)]; });
        QStringList top;
        for (int i = 0; i < 4; ++i)
            top.append(imp->features[order[size_t(i)]]);
        qInfo("adult gbdt permutation importance (log loss %.4f), top: %s", imp->baseline, qPrintable(top.join(QStringLiteral(", "))));
        QVERIFY(top.contains(QStringLiteral("capital_gain")) || top.contains(QStringLiteral("relationship")) ||
                top.contains(QStringLiteral("marital_status")));

        PartialDependenceOptions pdo;
        pdo.feature = QStringLiteral("education_num");
        pdo.maxRows = 300;
        auto pd = partialDependence(ctx, *rows, pdo);
        QVERIFY2(pd, qPrintable(pd.message()));
        QVERIFY(pd->average.back() > pd->average.front()); // more education, more income in Adult

        auto bg = summariseBackground(ctx, *train, BackgroundOptions{BackgroundOptions::Method::KMeans, 20, 1, 2000, 20});
        QVERIFY(bg);
        auto some = selectRows(*rows, std::vector<qint64>{0, 1, 2});
        KernelShapOptions ko;
        ko.samples = 500;
        auto shap = kernelShap(ctx, *some, *bg, ko);
        QVERIFY2(shap, qPrintable(shap.message()));
        QCOMPARE(shap->attribution.featureCount(), 14);
        QVERIFY(shap->attribution.maxAbsResidual() < 1e-6);
        auto margins = ctx.margin(*some);
        for (qint64 r = 0; r < 3; ++r) {
            double sum = shap->attribution.base[0];
            for (int f = 0; f < 14; ++f)
                sum += shap->attribution.value(r, 0, f);
            QVERIFY(std::abs(sum - (*margins)[size_t(r)]) < 1e-6);
        }
    }
};

QTEST_GUILESS_MAIN(TstGlobal)
#include "tst_global.moc"
