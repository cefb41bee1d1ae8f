// Evaluation that never peeks: the split artifact's parts are disjoint and cover the data, rows with a missing target
// are dropped and counted, sweeps and early stopping use validation rows only, and on labels that are pure noise the
// reported test AUC is what chance gives (a leak makes it optimistic).
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include "ml/training.h"
#include "store/objectstore.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <cmath>

using namespace keel;

namespace {

/// Rows of `x0..x7` standard-normal noise, a category, a time column and labels independent of all of them.
QByteArray noiseCsv(int rows, quint32 seed, int missingTargets = 0)
{
    QRandomGenerator rng(seed);
    QByteArray out = "id,day,x0,x1,x2,x3,x4,x5,x6,x7,colour,label\n";
    for (int r = 0; r < rows; ++r) {
        out += "id" + QByteArray::number(r) + ',';
        const int day = r * 336 / rows;   // non-decreasing in the row: rows are written in time order
        out += "2024-" + QByteArray::number(1 + day / 28).rightJustified(2, '0') + "-"
               + QByteArray::number(1 + day % 28).rightJustified(2, '0') + ',';
        for (int c = 0; c < 8; ++c) {
            const double u1 = std::max(rng.generateDouble(), 1e-12), u2 = rng.generateDouble();
            out += QByteArray::number(std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2), 'g', 8) + ',';
        }
        out += QByteArray(rng.bounded(3) == 0 ? "red" : rng.bounded(2) ? "green" : "blue") + ',';
        out += r < missingTargets ? QByteArray() : QByteArray(rng.bounded(2) ? "yes" : "no");
        out += '\n';
    }
    return out;
}

QString config(const QString &data, const QString &split, const QString &extra = {})
{
    return QStringLiteral("experiment: eval\ndata: %1\ntarget: label\ntask: binary\nrecipe: {exclude: [id, day]}\n"
                          "split: %2\nlearner: gbdt\n"
                          "params: {n_estimators: 300, learning_rate: 0.1, max_depth: 3, early_stopping_rounds: 10, threads: 1}\n")
               .arg(data, split)
        + extra;
}

std::vector<qint64> ints(const QJsonValue &v)
{
    std::vector<qint64> out;
    for (const QJsonValue &x : v.toArray())
        out.push_back(x.toInteger());
    return out;
}

/// The parts are pairwise disjoint, each is ascending, and together with the dropped rows they are 1..rows.
void checkPartition(const std::vector<std::vector<qint64>> &parts, const std::vector<qint64> &dropped, qint64 rows)
{
    QSet<qint64> seen;
    for (const auto *part : {&dropped}) {
        for (qint64 r : *part)
            QVERIFY(!seen.contains(r) && (seen.insert(r), true));
    }
    for (const auto &part : parts) {
        QVERIFY(std::is_sorted(part.begin(), part.end()));
        for (qint64 r : part) {
            QVERIFY2(!seen.contains(r), qPrintable(QStringLiteral("row %1 is in two parts").arg(r)));
            seen.insert(r);
        }
    }
    QCOMPARE(qint64(seen.size()), rows);
    for (qint64 r = 1; r <= rows; ++r)
        QVERIFY2(seen.contains(r), qPrintable(QStringLiteral("row %1 is in no part").arg(r)));
}

/// Mann-Whitney AUC of scores against 0/1 truth (ties count half): an independent computation.
double aucOf(const std::vector<double> &score, const std::vector<int> &truth)
{
    double wins = 0;
    qint64 pos = 0, neg = 0;
    for (size_t i = 0; i < score.size(); ++i) {
        if (!truth[i])
            continue;
        ++pos;
        for (size_t j = 0; j < score.size(); ++j)
            if (!truth[j])
                wins += score[i] > score[j] ? 1.0 : score[i] == score[j] ? 0.5 : 0.0;
    }
    for (int t : truth)
        neg += t ? 0 : 1;
    return wins / double(pos * neg);
}

} // namespace

class TestEvaluation : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void splitArtifactPartsAreDisjointAndCover_data();
    void splitArtifactPartsAreDisjointAndCover();
    void missingTargetsAreDroppedAndCounted();
    void configsThatWouldPeekAreRefused_data();
    void configsThatWouldPeekAreRefused();
    void pureNoiseScoresAsChance();

private:
    Expected<ml::TrainingResult> train(const QString &yaml);
    QJsonObject splitOf(const ml::TrainingResult &r);

    QTemporaryDir m_dir;
    std::unique_ptr<workspace::Workspace> m_ws;
};

void TestEvaluation::initTestCase()
{
    auto ws = workspace::Workspace::init(m_dir.filePath(QStringLiteral("ws")));
    QVERIFY2(ws, qPrintable(ws.message()));
    m_ws = std::move(*ws);
    const struct {
        const char *name;
        int rows;
        quint32 seed;
        int missing;
    } sets[] = {{"noise", 1500, 11, 0}, {"holdback", 400, 12, 0}, {"gaps", 600, 13, 37}};
    for (const auto &d : sets) {
        const QString path = m_dir.filePath(QLatin1String(d.name) + QStringLiteral(".csv"));
        QVERIFY(writeFileAtomic(path, noiseCsv(d.rows, d.seed, d.missing)));
        auto added = workspace::addDataset(*m_ws, path, QLatin1String(d.name), {}, {});
        QVERIFY2(added, qPrintable(added.message()));
    }
}

Expected<ml::TrainingResult> TestEvaluation::train(const QString &yaml)
{
    auto c = ml::TrainingConfig::fromYaml(yaml, QStringLiteral("eval.yaml"));
    if (!c)
        return c.error();
    return ml::runTraining(*m_ws, *c, nullptr);
}

QJsonObject TestEvaluation::splitOf(const ml::TrainingResult &r)
{
    auto bytes = m_ws->store().readAll(r.splitObjectId);
    return bytes ? QJsonDocument::fromJson(*bytes).object() : QJsonObject();
}

void TestEvaluation::splitArtifactPartsAreDisjointAndCover_data()
{
    QTest::addColumn<QString>("split");
    QTest::addColumn<QString>("extra");
    QTest::newRow("holdout") << QStringLiteral("{kind: holdout, test_fraction: 0.2, validation_fraction: 0.15, seed: 3}") << QString();
    QTest::newRow("holdout + evaluate") << QStringLiteral("{kind: holdout, validation_fraction: 0.2, seed: 3}")
                                        << QStringLiteral("evaluate: holdback\n");
    QTest::newRow("time") << QStringLiteral("{kind: time, time_column: day, test_fraction: 0.25, validation_fraction: 0.2}")
                          << QString();
    QTest::newRow("kfold") << QStringLiteral("{kind: kfold, folds: 4, validation_fraction: 0.1, seed: 5}") << QString();
}

void TestEvaluation::splitArtifactPartsAreDisjointAndCover()
{
    QFETCH(QString, split);
    QFETCH(QString, extra);
    auto r = train(config(QStringLiteral("noise"), split, extra));
    QVERIFY2(r, qPrintable(r.message()));
    const QJsonObject doc = splitOf(*r);
    QCOMPARE(doc.value(QStringLiteral("rows")).toInteger(), 1500);
    const std::vector<qint64> dropped = ints(doc.value(QStringLiteral("dropped_missing_target")));
    QVERIFY(dropped.empty());
    if (doc.contains(QStringLiteral("folds"))) {
        std::vector<std::vector<qint64>> tests;
        for (const QJsonValue &f : doc.value(QStringLiteral("folds")).toArray()) {
            const QJsonObject fold = f.toObject();
            const auto train = ints(fold.value(QStringLiteral("train")));
            const auto valid = ints(fold.value(QStringLiteral("validation")));
            const auto test = ints(fold.value(QStringLiteral("test")));
            QVERIFY(!valid.empty());   // early stopping: an inner validation part, never the fold itself
            checkPartition({train, valid, test}, dropped, 1500);
            tests.push_back(test);
        }
        QCOMPARE(tests.size(), size_t(4));
        checkPartition(tests, dropped, 1500);   // every row is tested exactly once
        return;
    }
    const auto train = ints(doc.value(QStringLiteral("train")));
    const auto valid = ints(doc.value(QStringLiteral("validation")));
    QVERIFY(!train.empty() && !valid.empty());
    QCOMPARE(qint64(valid.size()), r->validationRows);
    QCOMPARE(qint64(train.size()), r->trainRows);
    if (extra.isEmpty()) {
        const auto test = ints(doc.value(QStringLiteral("test")));
        checkPartition({train, valid, test}, dropped, 1500);
        QCOMPARE(qint64(test.size()), r->evaluationRows);
        if (split.contains(QLatin1String("time"))) {
            // Time order: every training row precedes every validation row, which precede every test row (rows are
            // written in time order here).
            QVERIFY(train.back() < valid.front());
            QVERIFY(valid.back() < test.front());
        } else {
            QCOMPARE(qint64(test.size()), 300);   // 20 % of 1500
            QVERIFY(std::abs(double(valid.size()) - 0.15 * 1200) <= 1.0);
        }
        // The predictions artifact names exactly the test rows.
        auto bytes = m_ws->store().readAll(r->predictionsObjectId);
        QVERIFY(bytes);
        const QList<QByteArray> lines = bytes->trimmed().split('\n');
        QCOMPARE(qsizetype(test.size()), lines.size() - 1);
        for (size_t i = 0; i < test.size(); ++i)
            QCOMPARE(lines[qsizetype(i) + 1].split(',').front().toLongLong(), test[i]);
    } else {
        checkPartition({train, valid}, dropped, 1500);
        const QJsonObject eval = doc.value(QStringLiteral("evaluate")).toObject();
        QCOMPARE(eval.value(QStringLiteral("data")).toString(), QStringLiteral("holdback@v1"));
        checkPartition({ints(eval.value(QStringLiteral("test")))}, {}, 400);
        QVERIFY(!doc.contains(QStringLiteral("test")));
    }
    // Sweeps select on validation.*: logged, at step 0, alongside test.*.
    QVERIFY(r->metrics.contains(QStringLiteral("validation.roc_auc")));
    QVERIFY(r->metrics.contains(QStringLiteral("test.roc_auc")));
}

void TestEvaluation::missingTargetsAreDroppedAndCounted()
{
    const QString split = QStringLiteral("{kind: holdout, test_fraction: 0.2, seed: 3}");
    auto r = train(config(QStringLiteral("gaps"), split));
    QVERIFY2(r, qPrintable(r.message()));
    QCOMPARE(r->droppedMissingTarget, qint64(37));
    QCOMPARE(r->trainRows + r->validationRows + r->evaluationRows, qint64(600 - 37));
    const QJsonObject doc = splitOf(*r);
    const auto dropped = ints(doc.value(QStringLiteral("dropped_missing_target")));
    QCOMPARE(dropped.size(), size_t(37));
    QCOMPARE(dropped.front(), qint64(1));    // the first 37 data rows have no label
    QCOMPARE(dropped.back(), qint64(37));
    checkPartition({ints(doc.value(QStringLiteral("train"))), ints(doc.value(QStringLiteral("validation"))),
                    ints(doc.value(QStringLiteral("test")))},
                   dropped, 600);
    auto ts = m_ws->tracking();
    QVERIFY(ts);
    auto tags = (*ts)->tags(r->runId);
    QVERIFY(tags);
    QVERIFY(std::find(tags->begin(), tags->end(),
                      std::pair(QStringLiteral("data.dropped_missing_target"), QStringLiteral("37"))) != tags->end());

    // drop_missing_target: false restores the error, naming the row.
    auto strict = train(config(QStringLiteral("gaps"), split, QStringLiteral("drop_missing_target: false\n")));
    QVERIFY(!strict);
    QVERIFY2(strict.error().message.contains(QLatin1String("row 1 ")), qPrintable(strict.message()));
    QCOMPARE(strict.error().field, QStringLiteral("drop_missing_target"));
    QCOMPARE(strict.error().file, QStringLiteral("eval.yaml"));
}

void TestEvaluation::configsThatWouldPeekAreRefused_data()
{
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<QString>("field");
    QTest::newRow("test_fraction with evaluate")
        << config(QStringLiteral("noise"), QStringLiteral("{kind: holdout, test_fraction: 0.2}"), QStringLiteral("evaluate: holdback\n"))
        << QStringLiteral("split.test_fraction");
    QTest::newRow("early stopping without validation")
        << config(QStringLiteral("noise"), QStringLiteral("{kind: holdout, test_fraction: 0.2, validation_fraction: 0}"))
        << QStringLiteral("split.validation_fraction");
}

void TestEvaluation::configsThatWouldPeekAreRefused()
{
    QFETCH(QString, yaml);
    QFETCH(QString, field);
    auto c = ml::TrainingConfig::fromYaml(yaml, QStringLiteral("eval.yaml"));
    QVERIFY(!c);
    QCOMPARE(c.error().field, field);
    QVERIFY(c.error().line > 0);
}

void TestEvaluation::pureNoiseScoresAsChance()
{
    // Labels independent of every feature: any honest test AUC is chance. Early stopping on the test rows (the old
    // leak) picks the round that happens to fit them best, pushing the test AUC above 0.5 and the test log loss below
    // that of the base rate.
    const int seeds = 20;
    double aucSum = 0, lossGapSum = 0;
    std::vector<double> aucs;
    for (int seed = 0; seed < seeds; ++seed) {
        auto r = train(config(QStringLiteral("noise"),
                              QStringLiteral("{kind: holdout, test_fraction: 0.2, validation_fraction: 0.2, seed: %1}").arg(seed)));
        QVERIFY2(r, qPrintable(r.message()));
        // Recompute the AUC from the predictions artifact (Mann-Whitney), and compare with what Keel reported.
        auto bytes = m_ws->store().readAll(r->predictionsObjectId);
        QVERIFY(bytes);
        std::vector<double> score;
        std::vector<int> truth;
        const QList<QByteArray> lines = bytes->trimmed().split('\n');
        QCOMPARE(lines.front(), QByteArray("row,actual,predicted,p_no,p_yes"));
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QList<QByteArray> f = lines[i].split(',');
            truth.push_back(f[1] == "yes" ? 1 : 0);
            score.push_back(f[4].toDouble());
        }
        const double auc = aucOf(score, truth);
        QVERIFY(std::abs(auc - r->metrics.value(QStringLiteral("test.roc_auc")).toDouble()) < 1e-9);
        aucs.push_back(auc);
        aucSum += auc;
        // Log loss gap to the constant predictor at the training base rate.
        double pos = 0;
        for (int t : truth)
            pos += t;
        const double base = pos / double(truth.size());
        const double constantLoss = -(base * std::log(base) + (1 - base) * std::log(1 - base));
        lossGapSum += r->metrics.value(QStringLiteral("test.log_loss")).toDouble() - constantLoss;
    }
    const double meanAuc = aucSum / seeds;
    qInfo("pure noise, %d seeds: mean test AUC %.4f, mean log-loss gap to the base rate %.5f", seeds, meanAuc,
          lossGapSum / seeds);
    // Under the null each AUC on 300 rows has a standard deviation of about sqrt((n1+n2+1)/(12 n1 n2)) = 0.0334, so the
    // mean of 20 about 0.0075: 3.5 standard errors either side.
    const double se = std::sqrt(301.0 / (12.0 * 150.0 * 150.0)) / std::sqrt(double(seeds));
    QVERIFY2(std::abs(meanAuc - 0.5) < 3.5 * se,
             qPrintable(QStringLiteral("mean test AUC %1 on pure noise (interval 0.5 +- %2)").arg(meanAuc).arg(3.5 * se)));
    // An honest model cannot beat the constant predictor on noise: the mean log-loss gap is not negative.
    QVERIFY2(lossGapSum / seeds > -0.002, qPrintable(QStringLiteral("mean log-loss gap %1").arg(lossGapSum / seeds)));
}

QTEST_GUILESS_MAIN(TestEvaluation)
#include "tst_evaluation.moc"
