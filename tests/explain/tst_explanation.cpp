// The typed explanation document and its presentation rules (explain/explanation.h): the JSON form round-trips, a
// damaged document is refused naming its field, and the presentation decisions (which output, what the prediction
// reads as, the top contributions and "other") agree with brute-force references.
#include "explain/explainer.h"
#include "explain/explanation.h"

#include <QJsonArray>
#include <QTest>
#include <QTimeZone>

#include <algorithm>
#include <cmath>
#include <random>

using namespace keel;
using namespace keel::explain;

class TestExplanation : public QObject {
    Q_OBJECT

    static ExplanationReport sampleReport()
    {
        ExplanationReport r;
        r.runId = QStringLiteral("0123456789abcdef");
        r.runName = QStringLiteral("baseline");
        r.modelId = QString(64, QLatin1Char('a'));
        r.modelKind = QStringLiteral("xgboost-gbdt");
        r.recipeId = QString(64, QLatin1Char('b'));
        r.task = ml::Task::MulticlassClassification;
        r.classes = {QStringLiteral("A"), QStringLiteral("b"), QStringLiteral("B")};
        r.features = {QStringLiteral("x"), QStringLiteral("colour")};
        r.data = QStringLiteral("d@v2");
        r.dataContentId = QString(64, QLatin1Char('c'));
        r.dataRows = 100;
        r.testRows = true;
        r.populationRows = 20;
        r.method = QStringLiteral("tree");
        r.request = QJsonObject{{QStringLiteral("seed"), QStringLiteral("1")}};
        r.created = QDateTime(QDate(2026, 12, 1), QTime(10, 0, 0, 123), QTimeZone::utc());
        r.keelVersion = QStringLiteral("0.test");
        LocalExplanations l;
        l.rows = {3, 17};
        l.attribution.method = QStringLiteral("tree_shap");
        l.attribution.features = r.features;
        l.attribution.outputs = 3;
        l.attribution.rows = 2;
        l.attribution.base = {0.1, -0.2, 0.3};
        for (int i = 0; i < 2 * 3 * 2; ++i)
            l.attribution.values.push_back(0.25 * (i - 5));
        l.attribution.residual = std::vector<double>(6, 1e-9);
        l.prediction = {0.2, 0.7, 0.1, 0.5, 0.2, 0.3};
        l.margin = {1, 2, 3, 4, 5, 6};
        l.values = {{QStringLiteral("1.5"), QStringLiteral("red")}, {QString(), QStringLiteral("blue")}};
        l.actual = {QStringLiteral("b"), QStringLiteral("A")};
        r.local = l;
        return r;
    }

private slots:
    void jsonRoundTrip()
    {
        const ExplanationReport r = sampleReport();
        const QJsonObject json = r.toJson();
        QCOMPARE(json.value(QStringLiteral("format")).toString(), QStringLiteral("keel-explanation"));
        QCOMPARE(json.value(QStringLiteral("population")).toString(), QStringLiteral("the run's test rows"));
        auto back = ExplanationReport::fromJson(json);
        QVERIFY2(back, qPrintable(back.message()));
        QCOMPARE(back->toJson(), json);   // one JSON form: parsing and writing again changes nothing
        QCOMPARE(back->task, ml::Task::MulticlassClassification);
        QCOMPARE(back->classes, r.classes);
        QVERIFY(back->testRows);
        QCOMPARE(back->created, r.created);
        QVERIFY(back->local);
        QCOMPARE(back->local->rows, r.local->rows);
        QCOMPARE(back->local->values[1][0], QString());
        QCOMPARE(back->local->attribution.values, r.local->attribution.values);
        QVERIFY(!back->global);
        QVERIFY(!back->fairness);
    }

    void damagedDocumentsNameTheField_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QJsonValue>("value");
        QTest::addColumn<QString>("field");
        QTest::newRow("format") << QStringLiteral("format") << QJsonValue(QStringLiteral("other")) << QStringLiteral("format");
        QTest::newRow("newer version") << QStringLiteral("version") << QJsonValue(99) << QStringLiteral("version");
        QTest::newRow("task") << QStringLiteral("task") << QJsonValue(QStringLiteral("ranking")) << QStringLiteral("task");
        QTest::newRow("row numbers") << QStringLiteral("local.rows") << QJsonValue(QJsonArray{0, 1}) << QStringLiteral("local.rows");
        QTest::newRow("margin size") << QStringLiteral("local.margin") << QJsonValue(QJsonArray{1.0}) << QStringLiteral("local.margin");
        QTest::newRow("attribution") << QStringLiteral("local.attribution.base") << QJsonValue(QJsonArray{1.0})
                                     << QStringLiteral("local.attribution.base");
        QTest::newRow("actual") << QStringLiteral("local.actual") << QJsonValue(QJsonArray{QStringLiteral("x")})
                                << QStringLiteral("local.actual");
    }
    void damagedDocumentsNameTheField()
    {
        QFETCH(QString, path);
        QFETCH(QJsonValue, value);
        QFETCH(QString, field);
        QJsonObject json = sampleReport().toJson();
        const QStringList parts = path.split(QLatin1Char('.'));
        // Replace the value at `path` (up to three levels deep).
        std::function<QJsonObject(QJsonObject, int)> set = [&](QJsonObject o, int i) {
            if (i == parts.size() - 1)
                o.insert(parts[i], value);
            else
                o.insert(parts[i], set(o.value(parts[i]).toObject(), i + 1));
            return o;
        };
        json = set(json, 0);
        auto r = ExplanationReport::fromJson(json);
        QVERIFY(!r);
        QCOMPARE(r.error().field, field);
        QVERIFY(r.is(ErrorKind::InvalidInput));
    }

    void explainedOutputIsThePredictedClass()
    {
        const std::vector<double> p = {0.2, 0.5, 0.3};
        QCOMPARE(explainedOutput(ml::Task::MulticlassClassification, p), 1);
        QCOMPARE(explainedOutput(ml::Task::BinaryClassification, std::vector<double>{0.9}), 0);
        QCOMPARE(explainedOutput(ml::Task::Regression, std::vector<double>{12.0}), 0);
        // A tie goes to the first class, as argmax does.
        QCOMPARE(explainedOutput(ml::Task::MulticlassClassification, std::vector<double>{0.4, 0.4, 0.2}), 0);
    }

    void predictionText()
    {
        const QStringList binary = {QStringLiteral("<=50K"), QStringLiteral(">50K")};
        auto b = describePrediction(ml::Task::BinaryClassification, binary, std::vector<double>{0.83});
        QCOMPARE(b.text(), QStringLiteral("P(>50K) = 0.83 \u2192 >50K"));
        auto b0 = describePrediction(ml::Task::BinaryClassification, binary, std::vector<double>{0.2});
        QCOMPARE(b0.predictedLabel, QStringLiteral("<=50K"));
        auto m = describePrediction(ml::Task::MulticlassClassification, {QStringLiteral("a"), QStringLiteral("A")},
                                    std::vector<double>{0.1, 0.9});
        QCOMPARE(m.text(), QStringLiteral("P(A) = 0.9 (the predicted class)"));   // case-sensitive labels kept
        auto r = describePrediction(ml::Task::Regression, {}, std::vector<double>{1234.5});
        QCOMPARE(r.text(), QStringLiteral("prediction = 1234.5"));
        QCOMPARE(marginName(ml::Task::BinaryClassification, binary, 0), QStringLiteral("log-odds of >50K"));
        QCOMPARE(marginName(ml::Task::MulticlassClassification, {QStringLiteral("a"), QStringLiteral("A")}, 1),
                 QStringLiteral("score of A"));
    }

    void topContributionsMatchBruteForce()
    {
        std::mt19937_64 rng(5);
        std::uniform_real_distribution<double> u(-1, 1);
        for (int trial = 0; trial < 200; ++trial) {
            const int n = int(rng() % 30);
            const int top = int(rng() % 12);
            QStringList features, values;
            std::vector<double> c;
            for (int f = 0; f < n; ++f) {
                features << QStringLiteral("f%1").arg(f);
                values << QString::number(f);
                c.push_back(trial % 3 == 0 ? std::round(u(rng) * 2) / 2 : u(rng));   // ties in a third of the trials
            }
            const auto lines = topContributions(features, c, values, top);
            // Reference: sort indices by (|c| desc, index asc), take `top`, sum the rest.
            std::vector<int> idx(static_cast<size_t>(n));
            for (int i = 0; i < n; ++i)
                idx[size_t(i)] = i;
            std::sort(idx.begin(), idx.end(), [&](int a, int b) {
                return std::abs(c[size_t(a)]) != std::abs(c[size_t(b)]) ? std::abs(c[size_t(a)]) > std::abs(c[size_t(b)]) : a < b;
            });
            const int shown = std::min(n, top);
            QCOMPARE(int(lines.size()), shown + (n > shown ? 1 : 0));
            for (int i = 0; i < shown; ++i) {
                QCOMPARE(lines[size_t(i)].feature, features[idx[size_t(i)]]);
                QCOMPARE(lines[size_t(i)].value, values[idx[size_t(i)]]);
                QCOMPARE(lines[size_t(i)].contribution, c[size_t(idx[size_t(i)])]);
            }
            if (n > shown) {
                double rest = 0;
                for (int i = shown; i < n; ++i)
                    rest += c[size_t(idx[size_t(i)])];
                QVERIFY(lines.back().isOther());
                QCOMPARE(lines.back().features, n - shown);
                QVERIFY(std::abs(lines.back().contribution - rest) < 1e-12);
            }
        }
    }

    void strongestInteractionsAddBothHalves()
    {
        InteractionValues in;
        in.features = {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")};
        in.outputs = 1;
        // One row, k = 3: values[i][j].
        in.values = {0, 0.1, -0.5, 0.2, 0, 0.05, -0.4, 0.05, 0};
        in.rest = {0, 0, 0};
        const auto pairs = strongestInteractions(in, 0, 0, 2);
        QCOMPARE(int(pairs.size()), 2);
        QCOMPARE(pairs[0].first + pairs[0].second, QStringLiteral("ac"));
        QVERIFY(std::abs(pairs[0].value - -0.9) < 1e-12);
        QCOMPARE(pairs[1].first + pairs[1].second, QStringLiteral("ab"));
        QVERIFY(std::abs(pairs[1].value - 0.3) < 1e-12);
        auto back = InteractionValues::fromJson(in.toJson());
        QVERIFY2(back, qPrintable(back.message()));
        QCOMPARE(back->values, in.values);
        QJsonObject bad = in.toJson();
        bad.insert(QStringLiteral("rest"), QJsonArray{1.0});
        QCOMPARE(InteractionValues::fromJson(bad).error().field, QStringLiteral("rest"));
    }
};

QTEST_GUILESS_MAIN(TestExplanation)
#include "tst_explanation.moc"
