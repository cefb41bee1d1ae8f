// Group fairness: every group metric and difference against hand computation on a small hand-written table (also
// through a model and a data::Table with a missing sensitive value), bootstrap intervals against a re-drawn
// reference and against the binomial standard error on a large sample, determinism, errors, JSON, and Adult.

#include "data/reader.h"
#include "explain/fairness.h"
#include "ml/logistic.h"
#include "ml/recipe.h"

#include <QJsonDocument>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <random>

using namespace keel;
using namespace keel::explain;

namespace {

const double NaN = std::nan("");

// Hand-written rows: group F (5 rows), M (5 rows), X (2 rows, no positives).
//   F: y 1 1 0 0 0, p .9 .4 .6 .2 .1  -> predicted 1 0 1 0 0: TP 1 FN 1 FP 1 TN 2
//   M: y 1 1 1 0 0, p .8 .7 .3 .6 .55 -> predicted 1 1 0 1 1: TP 2 FN 1 FP 2 TN 0
//   X: y 0 0,       p .7 .2           -> predicted 1 0:       TP 0 FN 0 FP 1 TN 1
const std::vector<double> kY = {1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0};
const std::vector<double> kP = {0.9, 0.4, 0.6, 0.2, 0.1, 0.8, 0.7, 0.3, 0.6, 0.55, 0.7, 0.2};
const std::vector<int> kGroup = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2};

struct Expected7 {
    double selection, tpr, fpr, precision, meanPredicted, observed;
};
const Expected7 kExpected[3] = {
    {2.0 / 5, 1.0 / 2, 1.0 / 3, 1.0 / 2, 2.2 / 5, 2.0 / 5},
    {4.0 / 5, 2.0 / 3, 2.0 / 2, 2.0 / 4, 2.95 / 5, 3.0 / 5},
    {1.0 / 2, NaN, 1.0 / 2, 0.0 / 1, 0.9 / 2, 0.0 / 2},
};

bool same(double a, double b, double tol = 1e-12) { return (std::isnan(a) && std::isnan(b)) || std::abs(a - b) <= tol; }

void checkPointValues(const FairnessReport &r, const QStringList &names, double tol = 1e-12)
{
    QCOMPARE(r.groups.size(), size_t(3));
    for (int g = 0; g < 3; ++g) {
        const GroupFairness &gf = r.groups[size_t(g)];
        const Expected7 &e = kExpected[g];
        QCOMPARE(gf.group, names[g]);
        QVERIFY2(same(gf.selectionRate.value, e.selection), qPrintable(gf.group));
        QVERIFY(same(gf.truePositiveRate.value, e.tpr));
        QVERIFY(same(gf.falsePositiveRate.value, e.fpr));
        QVERIFY(same(gf.precision.value, e.precision));
        QVERIFY(same(gf.meanPredicted.value, e.meanPredicted, tol));
        QVERIFY(same(gf.observedRate.value, e.observed));
        QVERIFY(same(gf.calibrationGap.value, e.meanPredicted - e.observed, tol));
    }
    QCOMPARE(r.groups[0].count, qint64(5));
    QCOMPARE(r.groups[1].positives, qint64(3));
    QCOMPARE(r.groups[1].predictedPositives, qint64(4));
    QCOMPARE(r.groups[2].count, qint64(2));
    // selection 0.4 / 0.8 / 0.5; TPR 1/2, 2/3 (X undefined, skipped); FPR 1/3, 1, 1/2
    QVERIFY(same(r.demographicParityDifference.value, 0.4));
    QVERIFY(same(r.demographicParityRatio.value, 0.5));
    QVERIFY(same(r.truePositiveRateDifference.value, 2.0 / 3 - 0.5));
    QVERIFY(same(r.falsePositiveRateDifference.value, 1 - 1.0 / 3));
    QVERIFY(same(r.equalizedOddsDifference.value, 1 - 1.0 / 3));
}

// A model whose only feature is the probability itself: margin = logit(p).
class ProbabilityModel final : public ml::Model {
public:
    QString kind() const override { return QStringLiteral("test-probability"); }
    ml::Task task() const override { return ml::Task::BinaryClassification; }
    int numClasses() const override { return 2; }
    Expected<std::vector<double>> predict(const ml::DesignMatrix &x) const override
    {
        std::vector<double> out;
        for (qint64 r = 0; r < x.rows; ++r)
            out.push_back(double(x.at(r, 0)));
        return out;
    }
    Expected<std::vector<double>> predictMargin(const ml::DesignMatrix &x) const override
    {
        auto p = predict(x);
        for (double &v : *p)
            v = std::log(v / (1 - v));
        return p;
    }
    QByteArray serialize() const override { return {}; }
    QVariantMap diagnostics() const override { return {}; }
};

data::Table handTable(bool withMissing)
{
    data::ColumnBuilder p(data::ColumnType::Float64), sex(data::ColumnType::Categorical), y(data::ColumnType::String);
    const char *names[] = {"F", "M", "X"};
    for (size_t i = 0; i < kY.size(); ++i) {
        // p is stored as the float the design matrix will hold, so thresholds compare the same numbers.
        p.appendFloat64(double(float(kP[i])));
        if (withMissing && kGroup[i] == 2)
            sex.appendNull();
        else
            sex.appendString(names[kGroup[i]]);
        y.appendString(kY[i] == 1 ? ">50K" : "<=50K");
    }
    return data::Table({p.finish(QStringLiteral("p")), sex.finish(QStringLiteral("sex")), y.finish(QStringLiteral("y"))});
}

ModelContext handContext()
{
    ml::RecipeSpec spec;
    spec.target = QStringLiteral("y");
    spec.features = {QStringLiteral("p")};
    auto r = ml::Recipe::fit(handTable(false), spec);
    if (!r)
        qFatal("%s", qPrintable(r.message()));
    ModelContext ctx;
    ctx.recipe = std::make_shared<const ml::Recipe>(std::move(r).value());
    ctx.model = std::make_shared<ProbabilityModel>();
    return ctx;
}

double percentile(std::vector<double> v, double q)
{
    std::sort(v.begin(), v.end());
    const double pos = q * double(v.size() - 1);
    const size_t lo = size_t(pos);
    const size_t hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

} // namespace

class TstFairness : public QObject {
    Q_OBJECT
private slots:
    void handComputed()
    {
        FairnessOptions o;
        o.bootstrap = 0;
        const QStringList names = {QStringLiteral("F"), QStringLiteral("M"), QStringLiteral("X")};
        auto r = fairnessReport(kY, kP, kGroup, names, o);
        QVERIFY2(r, qPrintable(r.message()));
        checkPointValues(*r, names);
        QVERIFY(std::isnan(r->groups[0].selectionRate.low)); // no bootstrap, no interval
        QCOMPARE(r->rows, qint64(12));
    }

    void throughModel_data()
    {
        QTest::addColumn<bool>("missing");
        QTest::newRow("three groups") << false;
        QTest::newRow("missing sensitive values as a group") << true;
    }
    void throughModel()
    {
        QFETCH(bool, missing);
        const ModelContext ctx = handContext();
        QCOMPARE(ctx.classes(), (QStringList{QStringLiteral("<=50K"), QStringLiteral(">50K")}));
        FairnessOptions o;
        o.sensitive = QStringLiteral("sex");
        o.bootstrap = 0;
        auto r = fairness(ctx, handTable(missing), o);
        QVERIFY2(r, qPrintable(r.message()));
        QCOMPARE(r->positiveClass, QStringLiteral(">50K"));
        QCOMPARE(r->sensitive, QStringLiteral("sex"));
        checkPointValues(*r, {QStringLiteral("F"), QStringLiteral("M"), missing ? QStringLiteral("(missing)") : QStringLiteral("X")},
                         1e-7); // probabilities pass through the float design matrix

        // The other class as the favourable outcome: selection rate of F becomes the share with P(<=50K) >= 0.5.
        o.positiveClass = QStringLiteral("<=50K");
        auto neg = fairness(ctx, handTable(missing), o);
        QVERIFY(neg);
        QVERIFY(same(neg->groups[0].selectionRate.value, 3.0 / 5)); // 1 - p >= .5 for p = .4 .2 .1
        QVERIFY(same(neg->groups[0].observedRate.value, 3.0 / 5));
    }

    void bootstrapAgainstReference()
    {
        // Replicate b redraws each group's rows with replacement from stream b, groups in order: recompute the
        // percentile interval of two metrics by hand.
        FairnessOptions o;
        o.bootstrap = 300;
        o.seed = 42;
        o.confidence = 0.9;
        const QStringList names = {QStringLiteral("F"), QStringLiteral("M"), QStringLiteral("X")};
        auto r = fairnessReport(kY, kP, kGroup, names, o);
        QVERIFY(r);
        std::vector<std::vector<size_t>> members(3);
        for (size_t i = 0; i < kGroup.size(); ++i)
            members[size_t(kGroup[i])].push_back(i);
        std::vector<double> selF, dpd;
        for (int b = 0; b < 300; ++b) {
            Rng rng = Rng::forStream(42, quint64(b));
            double sel[3];
            for (int g = 0; g < 3; ++g) {
                double predicted = 0;
                for (size_t k = 0; k < members[size_t(g)].size(); ++k)
                    predicted += kP[members[size_t(g)][size_t(rng.below(members[size_t(g)].size()))]] >= 0.5 ? 1 : 0;
                sel[g] = predicted / double(members[size_t(g)].size());
            }
            selF.push_back(sel[0]);
            dpd.push_back(*std::max_element(sel, sel + 3) - *std::min_element(sel, sel + 3));
        }
        QVERIFY(same(r->groups[0].selectionRate.low, percentile(selF, 0.05)));
        QVERIFY(same(r->groups[0].selectionRate.high, percentile(selF, 0.95)));
        QVERIFY(same(r->demographicParityDifference.low, percentile(dpd, 0.05)));
        QVERIFY(same(r->demographicParityDifference.high, percentile(dpd, 0.95)));
        // X has no positives in any resample: its TPR has no interval.
        QVERIFY(std::isnan(r->groups[2].truePositiveRate.low));

        // Same seed, any thread count: same intervals.
        o.threads = 1;
        auto one = fairnessReport(kY, kP, kGroup, names, o);
        o.threads = 2;
        auto two = fairnessReport(kY, kP, kGroup, names, o);
        QVERIFY(one && two);
        QCOMPARE(QJsonDocument(one->toJson()).toJson(), QJsonDocument(two->toJson()).toJson());
    }

    void bootstrapWidth()
    {
        // 4000 rows per group with selection rates 0.3 and 0.6: the 95% interval of each selection rate is about
        // +-1.96 sqrt(p (1 - p) / n), and the difference's about +-1.96 sqrt(sum of both variances).
        std::mt19937 gen(1);
        std::uniform_real_distribution<double> u(0, 1);
        std::vector<double> y, p;
        std::vector<int> g;
        for (int i = 0; i < 8000; ++i) {
            const int grp = i % 2;
            const double rate = grp == 0 ? 0.3 : 0.6;
            p.push_back(u(gen) < rate ? 0.9 : 0.1);
            y.push_back(u(gen) < 0.5 ? 1 : 0);
            g.push_back(grp);
        }
        FairnessOptions o;
        o.bootstrap = 1000;
        auto r = fairnessReport(y, p, g, {QStringLiteral("a"), QStringLiteral("b")}, o);
        QVERIFY(r);
        for (int grp = 0; grp < 2; ++grp) {
            const Estimate &s = r->groups[size_t(grp)].selectionRate;
            const double half = 1.96 * std::sqrt(s.value * (1 - s.value) / 4000);
            QVERIFY(s.low < s.value && s.value < s.high);
            QVERIFY2(std::abs((s.high - s.low) / 2 - half) < 0.15 * half,
                     qPrintable(QStringLiteral("%1 vs %2").arg((s.high - s.low) / 2).arg(half)));
        }
        const double va = r->groups[0].selectionRate.value, vb = r->groups[1].selectionRate.value;
        const double halfDiff = 1.96 * std::sqrt(va * (1 - va) / 4000 + vb * (1 - vb) / 4000);
        const Estimate &d = r->demographicParityDifference;
        QVERIFY(std::abs(d.value - 0.3) < 0.05);
        QVERIFY(std::abs((d.high - d.low) / 2 - halfDiff) < 0.15 * halfDiff);
        QVERIFY(d.low < d.value && d.value < d.high);
    }

    void errors()
    {
        const ModelContext ctx = handContext();
        FairnessOptions o;
        o.sensitive = QStringLiteral("race");
        auto r = fairness(ctx, handTable(false), o);
        QVERIFY(!r);
        QCOMPARE(r.error().field, QStringLiteral("race"));
        o.sensitive = QStringLiteral("sex");
        o.positiveClass = QStringLiteral("rich");
        r = fairness(ctx, handTable(false), o);
        QVERIFY(!r);
        QCOMPARE(r.error().field, QStringLiteral("positiveClass"));
        o.positiveClass.clear();
        o.confidence = 1.5;
        QVERIFY(!fairness(ctx, handTable(false), o));
        QVERIFY(!fairnessReport(kY, kP, std::vector<int>(12, 5), {QStringLiteral("a")}, FairnessOptions{}));
        QVERIFY(!fairnessReport(kY, std::vector<double>(3, 0.5), kGroup, {QStringLiteral("a")}, FairnessOptions{}));
        Feedback fb;
        fb.cancel();
        auto c = fairnessReport(kY, kP, kGroup, {QStringLiteral("F"), QStringLiteral("M"), QStringLiteral("X")},
                                FairnessOptions{}, &fb);
        QVERIFY(!c);
        QVERIFY(c.error().is(keel::ErrorKind::Cancelled));
    }

    void jsonRoundTrip()
    {
        FairnessOptions o;
        o.bootstrap = 50;
        auto r = fairnessReport(kY, kP, kGroup, {QStringLiteral("F"), QStringLiteral("M"), QStringLiteral("X")}, o);
        QVERIFY(r);
        const QByteArray bytes = QJsonDocument(r->toJson()).toJson(QJsonDocument::Compact);
        auto back = FairnessReport::fromJson(QJsonDocument::fromJson(bytes).object());
        QVERIFY2(back, qPrintable(back.message()));
        QCOMPARE(QJsonDocument(back->toJson()).toJson(QJsonDocument::Compact), bytes);
        QVERIFY(std::isnan(back->groups[2].truePositiveRate.value));
        QCOMPARE(back->groups[1].precision.low, r->groups[1].precision.low);
        QVERIFY(!FairnessReport::fromJson(QJsonObject{{QStringLiteral("seed"), QStringLiteral("1")}}));
    }

    void adult()
    {
        // A logistic model on Adult; fairness over `sex`: groups count every row and the intervals bracket the values.
        auto train = data::readTable(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_train.csv"));
        auto test = data::readTable(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_test.csv"));
        QVERIFY(train && test);
        auto spec = ml::RecipeSpec::fromYaml(QStringLiteral(
            "target: class\nlabel_map: {\">50K.\": \">50K\", \"<=50K.\": \"<=50K\"}\nexclude: [fnlwgt, sex, race]\n"
            "defaults: {scale: standard}\n"));
        QVERIFY(spec);
        auto recipe = ml::Recipe::fit(*train, *spec);
        QVERIFY(recipe);
        auto x = recipe->transform(*train);
        auto y = recipe->target(*train);
        auto model = ml::LogisticLearner().fit(*x, *y, {{QStringLiteral("max_iter"), 40}}, nullptr, nullptr, {}, nullptr);
        QVERIFY(model);
        ModelContext ctx;
        ctx.recipe = std::make_shared<const ml::Recipe>(std::move(recipe).value());
        ctx.model = std::shared_ptr<const ml::Model>(std::move(model).value());
        FairnessOptions o;
        o.sensitive = QStringLiteral("sex");
        o.bootstrap = 200;
        auto r = fairness(ctx, *test, o);
        QVERIFY2(r, qPrintable(r.message()));
        QCOMPARE(r->groups.size(), size_t(2));
        QCOMPARE(r->groups[0].group, QStringLiteral("Female"));
        QCOMPARE(r->groups[0].count + r->groups[1].count, test->rowCount());
        QVERIFY(r->groups[0].selectionRate.value < r->groups[1].selectionRate.value);
        for (const GroupFairness &g : r->groups)
            for (const Estimate *e : {&g.selectionRate, &g.truePositiveRate, &g.falsePositiveRate, &g.precision})
                QVERIFY(e->low <= e->value && e->value <= e->high);
        qInfo("adult_test by sex: selection %.3f vs %.3f, DP difference %.3f [%.3f, %.3f], EO difference %.3f [%.3f, %.3f]",
              r->groups[0].selectionRate.value, r->groups[1].selectionRate.value, r->demographicParityDifference.value,
              r->demographicParityDifference.low, r->demographicParityDifference.high,
              r->equalizedOddsDifference.value, r->equalizedOddsDifference.low, r->equalizedOddsDifference.high);
    }
};

QTEST_GUILESS_MAIN(TstFairness)
#include "tst_fairness.moc"
