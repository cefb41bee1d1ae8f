#include "ml/metrics.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cmath>
#include <random>

using namespace keel::ml;

namespace {

using Vec = std::vector<double>;

// Independent reference: Mann-Whitney U over all (positive, negative) pairs, ties counting one half.
double mannWhitneyAuc(const Vec &y, const Vec &s)
{
    double u = 0, pairs = 0;
    for (size_t i = 0; i < y.size(); ++i) {
        if (y[i] == 0)
            continue;
        for (size_t j = 0; j < y.size(); ++j) {
            if (y[j] != 0)
                continue;
            pairs += 1;
            u += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
        }
    }
    return u / pairs;
}

// Independent reference for average precision: for every positive, the precision at its score threshold
// (all rows scoring >= it), averaged over positives. Equal to sum (R_n - R_{n-1}) P_n with tied scores grouped.
double bruteAveragePrecision(const Vec &y, const Vec &s)
{
    double sum = 0;
    int positives = 0;
    for (size_t i = 0; i < y.size(); ++i) {
        if (y[i] == 0)
            continue;
        ++positives;
        double above = 0, tpAbove = 0;
        for (size_t j = 0; j < y.size(); ++j) {
            if (s[j] >= s[i]) {
                above += 1;
                tpAbove += y[j] != 0 ? 1 : 0;
            }
        }
        sum += tpAbove / above;
    }
    return sum / positives;
}

} // namespace

class TstMetrics : public QObject {
    Q_OBJECT
private slots:
    void accuracyAndConfusion()
    {
        // y_true 0 0 1 1 2 2 2, y_pred 0 1 1 1 2 0 1
        const Vec t{0, 0, 1, 1, 2, 2, 2}, p{0, 1, 1, 1, 2, 0, 1};
        // hits at rows 0, 2, 3, 4 -> 4/7
        QCOMPARE(accuracy(t, p), 4.0 / 7.0);
        const auto cm = confusionMatrix(t, p, 3);
        const std::vector<std::vector<qint64>> expected{{1, 1, 0}, {0, 2, 0}, {1, 1, 1}};
        QCOMPARE(cm, expected);
    }

    void precisionRecall()
    {
        const Vec t{0, 0, 1, 1, 2, 2, 2}, p{0, 1, 1, 1, 2, 0, 1};
        const auto r = precisionRecallF1(t, p, 3);
        // precision: column sums 2, 4, 1 with diagonal 1, 2, 1 -> 1/2, 1/2, 1
        QCOMPARE(r.precision, (Vec{0.5, 0.5, 1.0}));
        // recall: row sums 2, 2, 3 -> 1/2, 1, 1/3
        QCOMPARE(r.recall, (Vec{0.5, 1.0, 1.0 / 3.0}));
        // F1: 2PR/(P+R): 0.5; 2*0.5*1/1.5 = 2/3; 2*1*(1/3)/(4/3) = 1/2
        QVERIFY(std::fabs(r.f1[0] - 0.5) < 1e-15);
        QVERIFY(std::fabs(r.f1[1] - 2.0 / 3.0) < 1e-15);
        QVERIFY(std::fabs(r.f1[2] - 0.5) < 1e-15);
        QCOMPARE(r.support, (std::vector<qint64>{2, 2, 3}));
        QVERIFY(std::fabs(r.macroPrecision - 2.0 / 3.0) < 1e-15); // (0.5 + 0.5 + 1) / 3
        QVERIFY(std::fabs(r.macroRecall - 11.0 / 18.0) < 1e-15);  // (1/2 + 1 + 1/3) / 3
        QVERIFY(std::fabs(r.macroF1 - 5.0 / 9.0) < 1e-15);        // (1/2 + 2/3 + 1/2) / 3
        // balanced accuracy = mean recall over present classes = 11/18
        QVERIFY(std::fabs(balancedAccuracy(t, p, 3) - 11.0 / 18.0) < 1e-15);
        // a 4th class absent from y_true does not count in balanced accuracy
        QVERIFY(std::fabs(balancedAccuracy(t, p, 4) - 11.0 / 18.0) < 1e-15);
        // ...but a never-predicted, never-true class has precision = recall = 0 (zero_division = 0)
        const auto r4 = precisionRecallF1(t, p, 4);
        QCOMPARE(r4.precision[3], 0.0);
        QVERIFY(std::fabs(r4.macroRecall - (0.5 + 1 + 1.0 / 3.0) / 4) < 1e-15);
    }

    void rocAucHand_data()
    {
        QTest::addColumn<Vec>("y");
        QTest::addColumn<Vec>("s");
        QTest::addColumn<double>("expected");
        // scikit-learn's documented example: pairs (pos, neg): .35>.1, .35<.4, .8>.1, .8>.4 -> 3/4
        QTest::newRow("sklearn") << Vec{0, 0, 1, 1} << Vec{0.1, 0.4, 0.35, 0.8} << 0.75;
        // positives .5 .8 .5 vs negatives .5 .2 .9: .5 -> 0.5+1+0 ; .8 -> 1+1+0 ; .5 -> 1.5 ; total 5 / 9
        QTest::newRow("ties") << Vec{0, 1, 0, 1, 1, 0} << Vec{0.5, 0.5, 0.2, 0.8, 0.5, 0.9} << 5.0 / 9.0;
        QTest::newRow("all tied") << Vec{0, 1, 0, 1} << Vec{0.3, 0.3, 0.3, 0.3} << 0.5;
        QTest::newRow("perfect") << Vec{0, 0, 1} << Vec{0.1, 0.2, 0.3} << 1.0;
        QTest::newRow("inverted") << Vec{1, 1, 0} << Vec{0.1, 0.2, 0.3} << 0.0;
    }
    void rocAucHand()
    {
        QFETCH(Vec, y);
        QFETCH(Vec, s);
        QFETCH(double, expected);
        QVERIFY(std::fabs(rocAuc(y, s) - expected) < 1e-12);
        QVERIFY(std::fabs(mannWhitneyAuc(y, s) - expected) < 1e-12);
    }

    void rocAucMatchesMannWhitney()
    {
        std::mt19937_64 rng(7);
        for (int trial = 0; trial < 200; ++trial) {
            const size_t n = 2 + size_t(rng() % 40);
            Vec y(n), s(n);
            for (size_t i = 0; i < n; ++i) {
                y[i] = double(rng() % 2);
                s[i] = double(rng() % 6) / 5.0; // few distinct values: many ties
            }
            y[0] = 0;
            y[1] = 1;
            QVERIFY2(std::fabs(rocAuc(y, s) - mannWhitneyAuc(y, s)) < 1e-12, qPrintable(QString::number(trial)));
            QVERIFY2(std::fabs(prAuc(y, s) - bruteAveragePrecision(y, s)) < 1e-12, qPrintable(QString::number(trial)));
        }
    }

    void rocCurvePoints()
    {
        const auto c = rocCurve(Vec{0, 0, 1, 1}, Vec{0.1, 0.4, 0.35, 0.8});
        // thresholds inf, .8, .4, .35, .1 -> (fpr, tpr): (0,0) (0,.5) (.5,.5) (.5,1) (1,1)
        QCOMPARE(c.x, (Vec{0, 0, 0.5, 0.5, 1}));
        QCOMPARE(c.y, (Vec{0, 0.5, 0.5, 1, 1}));
        QCOMPARE(c.thresholds[1], 0.8);
        QCOMPARE(c.thresholds[4], 0.1);
    }

    void prAucHand_data()
    {
        QTest::addColumn<Vec>("y");
        QTest::addColumn<Vec>("s");
        QTest::addColumn<double>("expected");
        // thresholds .8 (P 1, R .5), .4 (P .5, R .5), .35 (P 2/3, R 1), .1 (P .5, R 1):
        // AP = .5*1 + 0*.5 + .5*(2/3) + 0 = 5/6 (scikit-learn's documented 0.8333)
        QTest::newRow("sklearn") << Vec{0, 0, 1, 1} << Vec{0.1, 0.4, 0.35, 0.8} << 5.0 / 6.0;
        // tied group .9 holds one pos and one neg: (P .5, R .5); .5: (P 2/3, R 1): AP = .25 + 1/3
        QTest::newRow("ties") << Vec{1, 0, 1, 0} << Vec{0.9, 0.9, 0.5, 0.1} << 0.25 + 1.0 / 3.0;
        QTest::newRow("perfect") << Vec{0, 1, 1} << Vec{0.1, 0.7, 0.8} << 1.0;
    }
    void prAucHand()
    {
        QFETCH(Vec, y);
        QFETCH(Vec, s);
        QFETCH(double, expected);
        QVERIFY(std::fabs(prAuc(y, s) - expected) < 1e-12);
    }

    void prCurvePoints()
    {
        const auto c = prCurve(Vec{0, 0, 1, 1}, Vec{0.1, 0.4, 0.35, 0.8});
        QCOMPARE(c.x, (Vec{0, 0.5, 0.5, 1, 1}));
        QCOMPARE(c.y, (Vec{1, 1, 0.5, 2.0 / 3.0, 0.5}));
    }

    void rocAucOneVsRest()
    {
        // 3 classes, 6 rows; each class's AUC computed independently with Mann-Whitney
        const Vec y{0, 1, 2, 2, 1, 0};
        const Vec p{0.7, 0.2, 0.1, //
                    0.3, 0.4, 0.3, //
                    0.2, 0.2, 0.6, //
                    0.1, 0.5, 0.4, //
                    0.3, 0.3, 0.4, //
                    0.4, 0.4, 0.2};
        double sum = 0;
        for (int k = 0; k < 3; ++k) {
            Vec yk, sk;
            for (size_t i = 0; i < y.size(); ++i) {
                yk.push_back(y[i] == k ? 1 : 0);
                sk.push_back(p[i * 3 + size_t(k)]);
            }
            sum += mannWhitneyAuc(yk, sk);
        }
        QVERIFY(std::fabs(rocAucOvr(y, p, 3) - sum / 3) < 1e-12);
        // Class 0: positives .7, .4 vs negatives .3 .2 .1 .3 -> all 8 pairs won -> 1
        // Class 2 absent: averaged over the two classes that can be scored
        const Vec y2{0, 1, 0, 1, 1, 0};
        double sum2 = 0;
        for (int k = 0; k < 2; ++k) {
            Vec yk, sk;
            for (size_t i = 0; i < y2.size(); ++i) {
                yk.push_back(y2[i] == k ? 1 : 0);
                sk.push_back(p[i * 3 + size_t(k)]);
            }
            sum2 += mannWhitneyAuc(yk, sk);
        }
        QVERIFY(std::fabs(rocAucOvr(y2, p, 3) - sum2 / 2) < 1e-12);
    }

    void degenerate()
    {
        QVERIFY(std::isnan(rocAuc(Vec{1, 1, 1}, Vec{0.2, 0.3, 0.4})));
        QVERIFY(std::isnan(rocAuc(Vec{0, 0}, Vec{0.2, 0.3})));
        QVERIFY(rocCurve(Vec{0, 0}, Vec{0.2, 0.3}).x.empty());
        QVERIFY(std::isnan(prAuc(Vec{0, 0}, Vec{0.2, 0.3})));
        QVERIFY(std::isnan(rocAucOvr(Vec{0, 0}, Vec{0.5, 0.5, 0.6, 0.4}, 2)));
        QVERIFY(std::isnan(accuracy(Vec{}, Vec{})));
        QVERIFY(std::isnan(r2(Vec{2, 2, 2}, Vec{1, 2, 3})));
        QVERIFY(std::isnan(rmse(Vec{}, Vec{})));
        QVERIFY(std::isnan(balancedAccuracy(Vec{}, Vec{}, 2)));
    }

    void probabilistic()
    {
        // binary: -(ln .8 + ln (1 - .3)) / 2
        QVERIFY(std::fabs(logLoss(Vec{1, 0}, Vec{0.8, 0.3}, 2) - (-(std::log(0.8) + std::log(0.7)) / 2)) < 1e-15);
        // clipping: p = 0 for a positive costs -ln(1e-15)
        QVERIFY(std::fabs(logLoss(Vec{1}, Vec{0.0}, 2) - -std::log(1e-15)) < 1e-9);
        QVERIFY(std::isfinite(logLoss(Vec{0}, Vec{1.0}, 2)));
        // multiclass: rows pick .7 and .6
        QVERIFY(std::fabs(logLoss(Vec{0, 2}, Vec{0.7, 0.2, 0.1, 0.1, 0.3, 0.6}, 3) - (-(std::log(0.7) + std::log(0.6)) / 2))
                < 1e-15);
        // Brier binary: (.1^2 + .2^2 + .6^2) / 3 = .41 / 3
        QVERIFY(std::fabs(brier(Vec{1, 0, 1}, Vec{0.9, 0.2, 0.4}, 2) - 0.41 / 3) < 1e-15);
        // Brier multiclass: (.5-1)^2 + .3^2 + .2^2 = .38
        QVERIFY(std::fabs(brier(Vec{0}, Vec{0.5, 0.3, 0.2}, 3) - 0.38) < 1e-15);
    }

    void calibration()
    {
        // bins of width .1: .05 -> bin 0; .15 and .12 -> bin 1; .95 and 1.0 -> bin 9
        const auto c = calibrationCurve(Vec{0, 1, 0, 1, 1}, Vec{0.05, 0.15, 0.12, 0.95, 1.0}, 10);
        QCOMPARE(c.counts, (std::vector<qint64>{1, 2, 2}));
        QVERIFY(std::fabs(c.meanPredicted[0] - 0.05) < 1e-15);
        QVERIFY(std::fabs(c.meanPredicted[1] - 0.135) < 1e-15);
        QVERIFY(std::fabs(c.meanPredicted[2] - 0.975) < 1e-15);
        QCOMPARE(c.fractionPositive, (Vec{0, 0.5, 1}));
        // 5 bins: .05 .15 .12 -> bin 0 (1 positive of 3); .95 1.0 -> bin 4
        const auto c5 = calibrationCurve(Vec{0, 1, 0, 1, 1}, Vec{0.05, 0.15, 0.12, 0.95, 1.0}, 5);
        QCOMPARE(c5.counts, (std::vector<qint64>{3, 2}));
        QVERIFY(std::fabs(c5.fractionPositive[0] - 1.0 / 3.0) < 1e-15);
    }

    void regression()
    {
        // scikit-learn's documented example
        const Vec t{3, -0.5, 2, 7}, p{2.5, 0.0, 2, 8};
        // squared errors .25 .25 0 1 -> mse .375
        QVERIFY(std::fabs(rmse(t, p) - std::sqrt(0.375)) < 1e-15);
        // absolute errors .5 .5 0 1 -> 0.5
        QCOMPARE(mae(t, p), 0.5);
        // mean 2.875; SS_tot = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875; SS_res = 1.5
        QVERIFY(std::fabs(r2(t, p) - (1 - 1.5 / 29.1875)) < 1e-15);
        QVERIFY(std::fabs(r2(t, p) - 0.9486081370449679) < 1e-12);
        // (.5/3 + .5/.5 + 0 + 1/7) / 4
        QVERIFY(std::fabs(mape(t, p) - (0.5 / 3 + 1 + 1.0 / 7) / 4) < 1e-15);
        QVERIFY(std::fabs(mape(t, p) - 0.3273809523809524) < 1e-12);
    }

    void evaluateBinary()
    {
        Target target;
        target.task = Task::BinaryClassification;
        target.classes = {QStringLiteral("no"), QStringLiteral("yes")};
        target.values = {0, 0, 1, 1};
        const std::vector<double> p{0.1, 0.4, 0.35, 0.8};
        const QVariantMap m = evaluate(Task::BinaryClassification, target, p, 2);
        // predictions at .5: 0 0 0 1 -> accuracy 3/4; recall of class 1 = 1/2; precision 1
        QCOMPARE(m.value(QStringLiteral("accuracy")).toDouble(), 0.75);
        QCOMPARE(m.value(QStringLiteral("recall")).toDouble(), 0.5);
        QCOMPARE(m.value(QStringLiteral("precision")).toDouble(), 1.0);
        QCOMPARE(m.value(QStringLiteral("roc_auc")).toDouble(), 0.75);
        QVERIFY(std::fabs(m.value(QStringLiteral("pr_auc")).toDouble() - 5.0 / 6.0) < 1e-12);
        // balanced accuracy: recalls 1 and .5 -> .75
        QCOMPARE(m.value(QStringLiteral("balanced_accuracy")).toDouble(), 0.75);
        const QVariantList cm = m.value(QStringLiteral("confusion_matrix")).toList();
        QCOMPARE(cm.size(), 2);
        QCOMPARE(cm[1].toList()[0].toLongLong(), 1);
        QCOMPARE(cm[1].toList()[1].toLongLong(), 1);
    }

    void evaluateMulticlassAndRegression()
    {
        Target target;
        target.task = Task::MulticlassClassification;
        target.classes = {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")};
        target.values = {0, 1, 2};
        // argmax: 0, 2 (tie between b and c at .4? no: .3 .4 .3 -> 1), 2
        const std::vector<double> p{0.6, 0.2, 0.2, 0.3, 0.4, 0.3, 0.1, 0.1, 0.8};
        const QVariantMap m = evaluate(Task::MulticlassClassification, target, p, 3);
        QCOMPARE(m.value(QStringLiteral("accuracy")).toDouble(), 1.0);
        QVERIFY(std::fabs(m.value(QStringLiteral("log_loss")).toDouble()
                          - -(std::log(0.6) + std::log(0.4) + std::log(0.8)) / 3)
                < 1e-15);
        QCOMPARE(m.value(QStringLiteral("roc_auc")).toDouble(), 1.0);

        Target reg;
        reg.values = {3, -0.5, 2, 7};
        const QVariantMap r = evaluate(Task::Regression, reg, {2.5, 0.0, 2, 8}, 0);
        QCOMPARE(r.value(QStringLiteral("mae")).toDouble(), 0.5);
        QVERIFY(r.contains(QStringLiteral("r2")) && r.contains(QStringLiteral("rmse")) && r.contains(QStringLiteral("mape")));
    }

    // One-vs-rest per class and its macro and micro averages against scikit-learn (tests/data/stats/
    // make_ovr_reference.py: roc_auc_score(multi_class="ovr"), average_precision_score per class, macro and micro,
    // roc_auc_score(average="micro")) on 3, 5, 11 and 26 classes with tied scores.
    void oneVsRestAgainstScikitLearn()
    {
        QFile f(QStringLiteral(KEEL_TEST_DATA_DIR "/stats/ovr_reference.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonArray cases = QJsonDocument::fromJson(f.readAll()).object().value(QStringLiteral("cases")).toArray();
        QCOMPARE(cases.size(), 4);
        auto doubles = [](const QJsonValue &v) {
            std::vector<double> out;
            for (const QJsonValue &x : v.toArray())
                out.push_back(x.toDouble());
            return out;
        };
        for (const QJsonValue &cv : cases) {
            const QJsonObject c = cv.toObject();
            const int k = c.value(QStringLiteral("classes")).toInt();
            const std::vector<double> y = doubles(c.value(QStringLiteral("y"))), p = doubles(c.value(QStringLiteral("p")));
            const keel::ml::OneVsRest ovr = keel::ml::oneVsRest(y, p, k);
            QCOMPARE(int(ovr.classes.size()), k);
            const std::vector<double> auc = doubles(c.value(QStringLiteral("roc_auc_per_class")));
            const std::vector<double> ap = doubles(c.value(QStringLiteral("ap_per_class")));
            qint64 support = 0;
            for (int j = 0; j < k; ++j) {
                QVERIFY2(std::abs(ovr.classes[size_t(j)].rocAuc - auc[size_t(j)]) < 1e-12, qPrintable(QString::number(j)));
                QVERIFY2(std::abs(ovr.classes[size_t(j)].averagePrecision - ap[size_t(j)]) < 1e-12, qPrintable(QString::number(j)));
                QVERIFY(!ovr.classes[size_t(j)].roc.x.empty());
                support += ovr.classes[size_t(j)].support;
            }
            QCOMPARE(support, qint64(y.size()));
            QVERIFY(std::abs(ovr.rocAucMacro - c.value(QStringLiteral("roc_auc_ovr_macro")).toDouble()) < 1e-12);
            QVERIFY(std::abs(ovr.rocAucMacro - keel::ml::rocAucOvr(y, p, k)) < 1e-15);
            QVERIFY(std::abs(ovr.rocAucMicro - c.value(QStringLiteral("roc_auc_micro")).toDouble()) < 1e-12);
            QVERIFY(std::abs(ovr.averagePrecisionMacro - c.value(QStringLiteral("ap_macro")).toDouble()) < 1e-12);
            QVERIFY(std::abs(ovr.averagePrecisionMicro - c.value(QStringLiteral("ap_micro")).toDouble()) < 1e-12);
        }
    }
};

QTEST_GUILESS_MAIN(TstMetrics)
#include "tst_metrics.moc"
