// What-if and counterfactuals: editing raw values of one row (types, conversions, errors), the new prediction and
// explanation of an edited row against hand computation, and counterfactual search on models with known decision
// boundaries (one numeric change, an integer column, two changes needed, a categorical flip, a multiclass target,
// nothing within limits), plus JSON round trips.

#include "explain/whatif.h"
#include "ml/learners.h"
#include "ml/linear.h"
#include "ml/recipe.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QTest>
#include <QTimeZone>

#include <cmath>
#include <functional>

using namespace keel;
using namespace keel::explain;

namespace {

// Margins from a hand-written function of the design row; binary uses the sigmoid, multiclass the softmax.
class FunctionModel final : public ml::Model {
public:
    using Fn = std::function<void(const float *row, double *margins)>;
    FunctionModel(ml::Task task, int classes, Fn fn) : m_task(task), m_classes(classes), m_fn(std::move(fn)) {}
    QString kind() const override { return QStringLiteral("test-function"); }
    ml::Task task() const override { return m_task; }
    int numClasses() const override { return m_classes; }
    int width() const { return m_task == ml::Task::MulticlassClassification ? m_classes : 1; }
    Expected<std::vector<double>> predictMargin(const ml::DesignMatrix &x) const override
    {
        std::vector<double> out(size_t(x.rows) * size_t(width()));
        for (qint64 r = 0; r < x.rows; ++r)
            m_fn(x.values.data() + r * x.cols, out.data() + r * width());
        return out;
    }
    Expected<std::vector<double>> predict(const ml::DesignMatrix &x) const override
    {
        auto m = predictMargin(x);
        if (m_task == ml::Task::BinaryClassification) {
            for (double &v : *m)
                v = 1.0 / (1.0 + std::exp(-v));
        } else if (m_task == ml::Task::MulticlassClassification) {
            for (qint64 r = 0; r < x.rows; ++r) {
                double *p = m->data() + r * m_classes;
                const double mx = *std::max_element(p, p + m_classes);
                double s = 0;
                for (int k = 0; k < m_classes; ++k)
                    s += (p[k] = std::exp(p[k] - mx));
                for (int k = 0; k < m_classes; ++k)
                    p[k] /= s;
            }
        }
        return m;
    }
    QByteArray serialize() const override { return {}; }
    QVariantMap diagnostics() const override { return {}; }

private:
    ml::Task m_task;
    int m_classes;
    Fn m_fn;
};

// x0 in [0, 10] (float), x1 in [0, range1] (int64 or float), x2 noise, c in {a, b, c}, when (datetime), y.
data::Table boundaryTable(double range1, bool intX1)
{
    data::ColumnBuilder x0(data::ColumnType::Float64), x1(intX1 ? data::ColumnType::Int64 : data::ColumnType::Float64),
        x2(data::ColumnType::Float64), c(data::ColumnType::Categorical), when(data::ColumnType::Datetime),
        y(data::ColumnType::Int64);
    const char *cats[] = {"a", "b", "c"};
    for (int i = 0; i <= 40; ++i) {
        x0.appendFloat64(10.0 * i / 40);
        if (intX1)
            x1.appendInt64(int64_t(std::llround(range1 * ((i * 7) % 41) / 40)));
        else
            x1.appendFloat64(range1 * ((i * 7) % 41) / 40);
        x2.appendFloat64(std::sin(i));
        c.appendString(cats[i % 3]);
        when.appendDatetime(int64_t(1300000000000) + int64_t(i) * 86400000);
        y.appendInt64(i % 2);
    }
    return data::Table({x0.finish(QStringLiteral("x0")), x1.finish(QStringLiteral("x1")), x2.finish(QStringLiteral("x2")),
                        c.finish(QStringLiteral("c")), when.finish(QStringLiteral("when")), y.finish(QStringLiteral("y"))});
}

// One row to explain: x0 = 2, x1 = 3, x2 = 0.5, c = a.
data::Table queryRow(const data::Table &like, const QString &category = QStringLiteral("a"))
{
    auto t = editedRow(like, 0, {{QStringLiteral("x0"), 2.0}, {QStringLiteral("x1"), 3}, {QStringLiteral("x2"), 0.5},
                                 {QStringLiteral("c"), category}});
    if (!t)
        qFatal("%s", qPrintable(t.message()));
    return std::move(t).value();
}

// Recipe without scaling: design columns x0 x1 x2 c=a c=b c=c when.year ... (raw numbers pass through).
ModelContext contextFor(const data::Table &t, ml::Task task, int classes, FunctionModel::Fn fn)
{
    ml::RecipeSpec spec;
    spec.target = QStringLiteral("y");
    if (task == ml::Task::MulticlassClassification)
        spec.task = QStringLiteral("multiclass");
    else if (task == ml::Task::Regression)
        spec.task = QStringLiteral("regression");
    spec.derived.push_back({QStringLiteral("sum01"), QStringLiteral("x0 + x1")});
    std::vector<data::Column> cols = t.columns();
    if (task == ml::Task::MulticlassClassification) {
        data::ColumnBuilder y(data::ColumnType::Int64);
        for (qint64 r = 0; r < t.rowCount(); ++r)
            y.appendInt64(r % 3);
        cols.back() = y.finish(QStringLiteral("y"));
    }
    auto r = ml::Recipe::fit(data::Table(cols), spec);
    if (!r)
        qFatal("%s", qPrintable(r.message()));
    ModelContext ctx;
    ctx.recipe = std::make_shared<const ml::Recipe>(std::move(r).value());
    ctx.model = std::make_shared<FunctionModel>(task, classes, std::move(fn));
    if (!ctx.check())
        qFatal("%s", qPrintable(ctx.check().message()));
    return ctx;
}

double numberOf(const QVariant &v) { return v.toDouble(); }

} // namespace

class TstWhatIf : public QObject {
    Q_OBJECT
private slots:
    void editedRowsTypes()
    {
        const data::Table t = boundaryTable(20, true);
        auto e = editedRows(t, 4, {{{QStringLiteral("x1"), 7}},
                                   {{QStringLiteral("x1"), QStringLiteral("2.5")}, {QStringLiteral("c"), QStringLiteral("zz")}},
                                   {{QStringLiteral("when"), QStringLiteral("2020-02-29")}, {QStringLiteral("x0"), QVariant()}},
                                   {}});
        QVERIFY2(e, qPrintable(e.message()));
        QCOMPARE(e->rowCount(), qint64(4));
        QCOMPARE(e->columnNames(), t.columnNames());
        const data::Column &x1 = e->column(1);
        QCOMPARE(x1.type(), data::ColumnType::Float64); // 2.5 is not a whole number: the column widens
        QCOMPARE(x1.float64At(0), 7.0);
        QCOMPARE(x1.float64At(1), 2.5);
        QCOMPARE(x1.float64At(3), double(t.column(1).int64At(4)));
        QCOMPARE(e->column(3).displayAt(1), QStringLiteral("zz"));
        QCOMPARE(e->column(3).displayAt(0), t.column(3).displayAt(4));
        QCOMPARE(e->column(4).datetimeAt(2), QDateTime(QDate(2020, 2, 29), QTime(0, 0), QTimeZone::utc()).toMSecsSinceEpoch());
        QVERIFY(e->column(0).isNull(2));
        QCOMPARE(e->column(0).float64At(3), t.column(0).float64At(4));
        QCOMPARE(e->column(5).int64At(3), t.column(5).int64At(4));

        auto whole = editedRows(t, 4, {{{QStringLiteral("x1"), 7.0}}});
        QVERIFY(whole);
        QCOMPARE(whole->column(1).type(), data::ColumnType::Int64);
        QCOMPARE(rawValue(whole->column(1), 0), QVariant(qlonglong(7)));
        QCOMPARE(rawValue(t.column(4), 0).toDateTime().toMSecsSinceEpoch(), qint64(1300000000000));
        QCOMPARE(rawValue(t.column(3), 1), QVariant(QStringLiteral("b")));

        auto sel = selectRows(t, std::vector<qint64>{5, 5, 0});
        QVERIFY(sel);
        QCOMPARE(sel->rowCount(), qint64(3));
        QCOMPARE(sel->column(3).displayAt(1), t.column(3).displayAt(5));
        QVERIFY(!selectRows(t, std::vector<qint64>{41}));
    }

    void editErrors_data()
    {
        QTest::addColumn<QString>("column");
        QTest::addColumn<QVariant>("value");
        QTest::newRow("unknown column") << QStringLiteral("nope") << QVariant(1);
        QTest::newRow("text for a number") << QStringLiteral("x0") << QVariant(QStringLiteral("ten"));
        QTest::newRow("text for a date") << QStringLiteral("when") << QVariant(QStringLiteral("someday"));
    }
    void editErrors()
    {
        QFETCH(QString, column);
        QFETCH(QVariant, value);
        const data::Table t = boundaryTable(20, true);
        auto e = editedRow(t, 0, {{column, value}});
        QVERIFY(!e);
        QCOMPARE(e.error().field, column);
        QVERIFY(!editedRow(t, 99, {}));
    }

    void whatIfLinear()
    {
        // Regression y = 1 + 2 x0 - x1 + 3 [c = b] + 0.5 sum01 (sum01 = x0 + x1 is derived and follows the edit).
        const data::Table t = boundaryTable(20, false);
        const ModelContext ctx = contextFor(t, ml::Task::Regression, 0, [](const float *r, double *o) {
            // columns: x0 x1 x2 c=a c=b c=c when.year when.month when.day when.weekday sum01
            o[0] = 1 + 2 * r[0] - r[1] + 3 * r[4] + 0.5 * r[10];
        });
        QCOMPARE(ctx.recipe->columnNames().last(), QStringLiteral("sum01"));
        const data::Table q = queryRow(t);
        auto bg = summariseBackground(ctx, t, BackgroundOptions{BackgroundOptions::Method::KMeans, 10, 1, 5000, 50});
        QVERIFY(bg);
        const QVariantMap edits{{QStringLiteral("x0"), 6.0}, {QStringLiteral("c"), QStringLiteral("b")}};
        auto w = whatIf(ctx, q, 0, edits, &*bg);
        QVERIFY2(w, qPrintable(w.message()));
        QCOMPARE(w->originalPrediction, (std::vector<double>{1 + 4 - 3 + 0 + 0.5 * 5}));
        QCOMPARE(w->editedPrediction, (std::vector<double>{1 + 12 - 3 + 3 + 0.5 * 9}));
        QCOMPARE(w->originalMargin, w->originalPrediction);
        QCOMPARE(w->original.value(QStringLiteral("x0")).toDouble(), 2.0);
        QCOMPARE(w->original.value(QStringLiteral("c")).toString(), QStringLiteral("a"));
        QCOMPARE(w->originalClass, -1);
        QVERIFY(w->explained);
        const Attribution &a = w->explanation.attribution;
        QCOMPARE(a.rows, qint64(2));
        QVERIFY(a.maxAbsResidual() < 1e-9);
        // Linear: x0's SHAP moves by 2 * 4, c's by 3 * (1 - 0), sum01's by 0.5 * 4; x1 and x2 unchanged.
        const int fx0 = ctx.featureIndex(QStringLiteral("x0")), fc = ctx.featureIndex(QStringLiteral("c")),
                  fs = ctx.featureIndex(QStringLiteral("sum01")), fx1 = ctx.featureIndex(QStringLiteral("x1"));
        QVERIFY(std::abs(a.value(1, 0, fx0) - a.value(0, 0, fx0) - 8) < 1e-9);
        QVERIFY(std::abs(a.value(1, 0, fc) - a.value(0, 0, fc) - 3) < 1e-9);
        QVERIFY(std::abs(a.value(1, 0, fs) - a.value(0, 0, fs) - 2) < 1e-9);
        QVERIFY(std::abs(a.value(1, 0, fx1) - a.value(0, 0, fx1)) < 1e-12);
        QCOMPARE(w->explanation.rawValues[1][fx0], QStringLiteral("6"));
        QCOMPARE(w->explanation.rawValues[1][fc], QStringLiteral("b"));
        QCOMPARE(w->explanation.rawValues[1][fs], QStringLiteral("9"));

        const QByteArray bytes = QJsonDocument(w->toJson()).toJson(QJsonDocument::Compact);
        auto back = WhatIfResult::fromJson(QJsonDocument::fromJson(bytes).object());
        QVERIFY2(back, qPrintable(back.message()));
        QCOMPARE(QJsonDocument(back->toJson()).toJson(QJsonDocument::Compact), bytes);
        QVERIFY(back->explanation.attribution.values == a.values);

        auto bad = whatIf(ctx, q, 0, {{QStringLiteral("x9"), 1}});
        QVERIFY(!bad);
        QCOMPARE(bad.error().field, QStringLiteral("x9"));
        auto noShap = whatIf(ctx, q, 0, edits);
        QVERIFY(noShap);
        QVERIFY(!noShap->explained);
    }

    void counterfactualNumeric_data()
    {
        QTest::addColumn<bool>("intX1");
        QTest::newRow("float x1") << false;
        QTest::newRow("int64 x1") << true;
    }
    void counterfactualNumeric()
    {
        // margin = x0 + x1 - 10, x0 in [0, 10], x1 in [0, 20]; the row (2, 3) needs +5 on either: x1 is half as
        // far in range-scaled terms (5 / 20 against 5 / 10), so the answer is x1 = 8 (the boundary, P = 0.5).
        QFETCH(bool, intX1);
        const data::Table t = boundaryTable(20, intX1);
        const ModelContext ctx = contextFor(t, ml::Task::BinaryClassification, 2,
                                            [](const float *r, double *o) { o[0] = r[0] + r[1] - 10; });
        const data::Table q = queryRow(t);
        CounterfactualOptions o;
        o.features = {QStringLiteral("x0"), QStringLiteral("x1"), QStringLiteral("x2")};
        auto cf = findCounterfactual(ctx, q, 0, t, o);
        QVERIFY2(cf, qPrintable(cf.message()));
        QVERIFY2(cf->found, qPrintable(cf->message));
        QCOMPARE(cf->originalClass, 0);
        QCOMPARE(cf->newClass, 1);
        QCOMPARE(cf->changes.size(), size_t(1));
        QCOMPARE(cf->changes[0].feature, QStringLiteral("x1"));
        QCOMPARE(numberOf(cf->changes[0].from), 3.0);
        const double to = numberOf(cf->changes[0].to);
        if (intX1) {
            QCOMPARE(cf->changes[0].to, QVariant(qlonglong(8)));
            QCOMPARE(cf->newProbability, 0.5);
        } else {
            QVERIFY2(to >= 8 && to < 8.01, qPrintable(QString::number(to)));
            QVERIFY(cf->newProbability >= 0.5 && cf->newProbability < 0.503);
        }
        QVERIFY(std::abs(cf->distance - (to - 3) / 20) < 1e-12);
        QVERIFY(std::abs(cf->originalProbability - 1 / (1 + std::exp(5.0))) < 1e-9);
        // The edits really flip the prediction.
        auto w = whatIf(ctx, q, 0, cf->edits());
        QVERIFY(w);
        QCOMPARE(w->editedClass, 1);
        QVERIFY(cf->evaluated > 0);

        const QByteArray bytes = QJsonDocument(cf->toJson()).toJson(QJsonDocument::Compact);
        auto back = Counterfactual::fromJson(QJsonDocument::fromJson(bytes).object());
        QVERIFY2(back, qPrintable(back.message()));
        QCOMPARE(QJsonDocument(back->toJson()).toJson(QJsonDocument::Compact), bytes);
    }

    void counterfactualTwoChanges_data()
    {
        QTest::addColumn<double>("range1");
        QTest::addColumn<double>("offset");
        QTest::addColumn<double>("optimum");
        // margin = x0 + x1 - offset at (2, 3); x0 in [0, 10], x1 in [0, range1]
        QTest::newRow("equal ranges: any split costs 1") << 10.0 << 15.0 << 1.0;
        // x1 is cheaper per unit: x1 to 40 (37 / 40), then x0 + 3 (3 / 10)
        QTest::newRow("x1 cheaper") << 40.0 << 45.0 << 37.0 / 40 + 0.3;
    }
    void counterfactualTwoChanges()
    {
        QFETCH(double, range1);
        QFETCH(double, offset);
        QFETCH(double, optimum);
        const data::Table t = boundaryTable(range1, false);
        const ModelContext ctx = contextFor(t, ml::Task::BinaryClassification, 2,
                                            [offset](const float *r, double *o) { o[0] = r[0] + r[1] - offset; });
        const data::Table q = queryRow(t);
        CounterfactualOptions o;
        o.features = {QStringLiteral("x0"), QStringLiteral("x1"), QStringLiteral("x2"), QStringLiteral("c")};
        o.maxChanges = 1;
        auto none = findCounterfactual(ctx, q, 0, t, o);
        QVERIFY(none);
        QVERIFY(!none->found);
        QVERIFY(none->message.startsWith(QStringLiteral("no counterfactual found within limits")));
        QVERIFY(none->changes.empty());
        o.maxChanges = 2;
        auto cf = findCounterfactual(ctx, q, 0, t, o);
        QVERIFY(cf);
        QVERIFY2(cf->found, qPrintable(cf->message));
        QCOMPARE(cf->changes.size(), size_t(2));
        QCOMPARE(cf->changes[0].feature, QStringLiteral("x0"));
        QCOMPARE(cf->changes[1].feature, QStringLiteral("x1"));
        const double x0 = numberOf(cf->changes[0].to), x1 = numberOf(cf->changes[1].to);
        QVERIFY(x0 + x1 - offset >= 0);
        QVERIFY(x0 <= 10 && x1 <= range1);
        qInfo("found distance %.4f, optimum %.4f, %lld candidate rows", cf->distance, optimum, cf->evaluated);
        QVERIFY(cf->distance >= optimum - 1e-6); // float design values may sit a hair inside the boundary
        QVERIFY(cf->distance <= optimum + 0.05);
    }

    void counterfactualCategorical()
    {
        // margin = -1 + 3 [c = b]: from c = a, only b flips; numeric features do nothing.
        const data::Table t = boundaryTable(20, false);
        const ModelContext ctx = contextFor(t, ml::Task::BinaryClassification, 2,
                                            [](const float *r, double *o) { o[0] = -1 + 3 * r[4]; });
        CounterfactualOptions o;
        auto cf = findCounterfactual(ctx, queryRow(t), 0, t, o);
        QVERIFY2(cf, qPrintable(cf.message()));
        QVERIFY(cf->found);
        QCOMPARE(cf->changes.size(), size_t(1));
        QCOMPARE(cf->changes[0].feature, QStringLiteral("c"));
        QCOMPARE(cf->changes[0].from, QVariant(QStringLiteral("a")));
        QCOMPARE(cf->changes[0].to, QVariant(QStringLiteral("b")));
        QCOMPARE(cf->distance, 1.0);
        QVERIFY(std::abs(cf->newProbability - 1 / (1 + std::exp(-2.0))) < 1e-12);

        // Only features that cannot flip it allowed: honest failure.
        o.features = {QStringLiteral("x0"), QStringLiteral("when")};
        auto none = findCounterfactual(ctx, queryRow(t), 0, t, o);
        QVERIFY(none);
        QVERIFY(!none->found);
        QCOMPARE(none->newClass, -1);

        // Already the target class.
        o.targetClass = 0;
        auto same = findCounterfactual(ctx, queryRow(t), 0, t, o);
        QVERIFY(same && same->found && same->changes.empty());
    }

    void counterfactualMulticlass()
    {
        // margins (x0 - 5, x1 - 5, 0): the row (2, 3) is class 2; to reach class 0, x0 must reach 5 (ties go to
        // the first class), to reach class 1 x1 must reach 5.
        const data::Table t = boundaryTable(20, false);
        const ModelContext ctx = contextFor(t, ml::Task::MulticlassClassification, 3, [](const float *r, double *o) {
            o[0] = r[0] - 5;
            o[1] = r[1] - 5;
            o[2] = 0;
        });
        CounterfactualOptions o;
        o.features = {QStringLiteral("x0"), QStringLiteral("x1")};
        o.targetClass = 0;
        auto cf = findCounterfactual(ctx, queryRow(t), 0, t, o);
        QVERIFY2(cf, qPrintable(cf.message()));
        QVERIFY(cf->found);
        QCOMPARE(cf->originalClass, 2);
        QCOMPARE(cf->newClass, 0);
        QCOMPARE(cf->changes.size(), size_t(1));
        QCOMPARE(cf->changes[0].feature, QStringLiteral("x0"));
        QVERIFY(numberOf(cf->changes[0].to) >= 5 && numberOf(cf->changes[0].to) < 5.01);
        // Any other class: x1 + 2 (2 / 20) is closer than x0 + 3 (3 / 10).
        o.targetClass = -1;
        auto any = findCounterfactual(ctx, queryRow(t), 0, t, o);
        QVERIFY(any && any->found);
        QCOMPARE(any->newClass, 1);
        QCOMPARE(any->changes[0].feature, QStringLiteral("x1"));
    }

    void counterfactualErrors()
    {
        const data::Table t = boundaryTable(20, false);
        const ModelContext ctx = contextFor(t, ml::Task::BinaryClassification, 2,
                                            [](const float *r, double *o) { o[0] = r[0] - 5; });
        CounterfactualOptions o;
        o.features = {QStringLiteral("sum01")};
        auto derived = findCounterfactual(ctx, queryRow(t), 0, t, o);
        QVERIFY(!derived);
        QCOMPARE(derived.error().field, QStringLiteral("sum01"));
        o.features = {QStringLiteral("nope")};
        auto unknown = findCounterfactual(ctx, queryRow(t), 0, t, o);
        QVERIFY(!unknown);
        QCOMPARE(unknown.error().field, QStringLiteral("nope"));
        o.features.clear();
        o.maxChanges = 0;
        QVERIFY(!findCounterfactual(ctx, queryRow(t), 0, t, o));
        o.maxChanges = 2;
        Feedback fb;
        fb.cancel();
        auto c = findCounterfactual(ctx, queryRow(t), 0, t, o, &fb);
        QVERIFY(!c);
        QVERIFY(c.error().is(keel::ErrorKind::Cancelled));
        const ModelContext reg = contextFor(t, ml::Task::Regression, 0, [](const float *r, double *o) { o[0] = r[0]; });
        QVERIFY(!findCounterfactual(reg, queryRow(t), 0, t, CounterfactualOptions{}));
    }

    void contextFromArtifacts()
    {
        // A context restored from a run's artifacts (model bytes + recipe JSON) predicts like the original.
        const data::Table t = boundaryTable(20, false);
        ml::RecipeSpec spec;
        spec.target = QStringLiteral("y");
        spec.task = QStringLiteral("regression");
        auto recipe = ml::Recipe::fit(t, spec);
        QVERIFY(recipe);
        std::vector<double> w;
        for (int c = 0; c < recipe->columnNames().size(); ++c)
            w.push_back(0.1 * (c + 1));
        const ml::LinearModel model(w, 2.0, recipe->columnNames(), QVariantMap());
        auto ctx = ModelContext::fromArtifacts(QStringLiteral("linear"), model.serialize(), recipe->toJson());
        QVERIFY2(ctx, qPrintable(ctx.message()));
        QCOMPARE(ctx->outputs(), 1);
        QCOMPARE(ctx->features(), recipe->featureNames());
        QVERIFY(ctx->isInputFeature(QStringLiteral("x0")));
        auto p = ctx->predict(t);
        auto x = recipe->transform(t);
        QVERIFY(p && x);
        QVERIFY(*p == *model.predict(*x));
        QVERIFY(!ModelContext::fromArtifacts(QStringLiteral("nosuchkind"), model.serialize(), recipe->toJson()));
        QVERIFY(!ModelContext::fromArtifacts(QStringLiteral("linear"), model.serialize(), QJsonObject()));

        // A regression model with a classification recipe does not make a context.
        ml::RecipeSpec cls = spec;
        cls.task = QStringLiteral("binary");
        auto clsRecipe = ml::Recipe::fit(t, cls);
        QVERIFY(clsRecipe);
        auto mismatch = ModelContext::fromArtifacts(QStringLiteral("linear"), model.serialize(), clsRecipe->toJson());
        QVERIFY(!mismatch);
        QVERIFY(!ModelContext().check());
    }
};

QTEST_GUILESS_MAIN(TstWhatIf)
#include "tst_whatif.moc"
