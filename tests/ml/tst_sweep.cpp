// Sweep specs: parsing with errors that name line and field, grid and random trials, config overrides.
#include "ml/sweep.h"
#include "ml/training.h"

#include "util/fileutil.h"

#include <QDir>
#include <QTest>

#include <set>

using namespace keel;

namespace {

const QString kBase = QStringLiteral("data: adult_train\n"
                                     "target: class\n"
                                     "learner: gbdt\n"
                                     "params: {n_estimators: 50, max_depth: 3}\n");

QString param(const QStringList &overrides, const QString &name)
{
    for (const QString &o : overrides)
        if (o.startsWith(QStringLiteral("params.") + name + QLatin1Char('=')))
            return o.section(QLatin1Char('='), 1);
    return {};
}

} // namespace

class TstSweep : public QObject {
    Q_OBJECT
private slots:
    void gridIsTheFullProduct();
    void logRangeAndIntegers();
    void randomIsSeededAndInRange();
    void errors_data();
    void errors();
    void overrides();
    void goals();
    void exampleConfigs();
};

void TstSweep::gridIsTheFullProduct()
{
    auto spec = ml::SweepSpec::fromConfig(kBase + QStringLiteral("sweep:\n  metric: validation.roc_auc\n  params:\n"
                                                                 "    max_depth: [2, 4, 6]\n"
                                                                 "    subsample: [0.5, 1]\n"),
                                          QStringLiteral("s.yaml"));
    QVERIFY2(spec, qPrintable(spec.message()));
    QCOMPARE(spec->metric, QStringLiteral("validation.roc_auc"));
    QVERIFY(spec->maximize);
    auto trials = ml::gridTrials(*spec);
    QVERIFY(trials);
    QCOMPARE(trials->size(), size_t(6));
    std::set<QString> seen;
    for (const QStringList &t : *trials)
        seen.insert(param(t, QStringLiteral("max_depth")) + QLatin1Char('/') + param(t, QStringLiteral("subsample")));
    QCOMPARE(seen, (std::set<QString>{QStringLiteral("2/0.5"), QStringLiteral("2/1"), QStringLiteral("4/0.5"),
                                      QStringLiteral("4/1"), QStringLiteral("6/0.5"), QStringLiteral("6/1")}));
}

void TstSweep::logRangeAndIntegers()
{
    auto spec = ml::SweepSpec::fromConfig(kBase + QStringLiteral("sweep:\n  metric: validation.log_loss\n  params:\n"
                                                                 "    learning_rate: {min: 0.01, max: 1, log: true, steps: 3}\n"
                                                                 "    max_depth: {min: 2, max: 9, steps: 3}\n"),
                                          QStringLiteral("s.yaml"));
    QVERIFY2(spec, qPrintable(spec.message()));
    QVERIFY(!spec->maximize);
    auto trials = ml::gridTrials(*spec);
    QVERIFY(trials);
    QCOMPARE(trials->size(), size_t(9));
    std::set<double> rates;
    std::set<QString> depths;
    for (const QStringList &t : *trials) {
        rates.insert(param(t, QStringLiteral("learning_rate")).toDouble());
        depths.insert(param(t, QStringLiteral("max_depth")));
    }
    // Log spacing: 0.01, 0.1, 1 (geometric); integer range 2..9 in 3 steps: 2, 5.5 -> 6 (rounded), 9.
    const std::vector<double> r(rates.begin(), rates.end());
    QCOMPARE(r.size(), size_t(3));
    QVERIFY(std::abs(r[0] - 0.01) < 1e-12 && std::abs(r[1] - 0.1) < 1e-12 && std::abs(r[2] - 1.0) < 1e-12);
    QCOMPARE(depths, (std::set<QString>{QStringLiteral("2"), QStringLiteral("6"), QStringLiteral("9")}));
    // A range without steps cannot be a grid.
    auto noSteps = ml::SweepSpec::fromConfig(kBase + QStringLiteral("sweep:\n  metric: validation.accuracy\n  params:\n"
                                                                    "    learning_rate: {min: 0.01, max: 1}\n"),
                                             QStringLiteral("s.yaml"));
    QVERIFY(noSteps);
    auto grid = ml::gridTrials(*noSteps);
    QVERIFY(!grid);
    QCOMPARE(grid.error().field, QStringLiteral("sweep.params.learning_rate.steps"));
}

void TstSweep::randomIsSeededAndInRange()
{
    auto spec = ml::SweepSpec::fromConfig(kBase + QStringLiteral("sweep:\n  metric: validation.accuracy\n  params:\n"
                                                                 "    learning_rate: {min: 0.001, max: 0.5, log: true}\n"
                                                                 "    max_depth: {min: 2, max: 10}\n"
                                                                 "    subsample: [0.6, 0.8, 1.0]\n"),
                                          QStringLiteral("s.yaml"));
    QVERIFY2(spec, qPrintable(spec.message()));
    const auto a = ml::randomTrials(*spec, 200, 42);
    const auto b = ml::randomTrials(*spec, 200, 42);
    const auto c = ml::randomTrials(*spec, 200, 43);
    QCOMPARE(a, b);
    QVERIFY(a != c);
    int belowHundredth = 0;
    std::set<QString> subsamples, depths;
    for (const QStringList &t : a) {
        const double lr = param(t, QStringLiteral("learning_rate")).toDouble();
        QVERIFY(lr >= 0.001 && lr <= 0.5);
        belowHundredth += lr < 0.01;
        bool ok = false;
        const int d = param(t, QStringLiteral("max_depth")).toInt(&ok);
        QVERIFY(ok && d >= 2 && d <= 10);
        depths.insert(param(t, QStringLiteral("max_depth")));
        subsamples.insert(param(t, QStringLiteral("subsample")));
    }
    // Log-uniform: P(lr < 0.01) = log(10) / log(500) = 0.37; uniform would give 0.018.
    QVERIFY2(belowHundredth > 50 && belowHundredth < 100, qPrintable(QString::number(belowHundredth)));
    QCOMPARE(subsamples.size(), size_t(3));
    QCOMPARE(depths.size(), size_t(9));
    // Every trial is a valid config for the learner.
    for (const QStringList &t : a) {
        auto text = ml::applyConfigOverrides(kBase, t, QStringLiteral("s.yaml"));
        QVERIFY(text);
        auto config = ml::TrainingConfig::fromYaml(*text, QStringLiteral("s.yaml"));
        QVERIFY2(config, qPrintable(config.message()));
    }
}

void TstSweep::errors_data()
{
    QTest::addColumn<QString>("sweep");
    QTest::addColumn<QString>("field");
    QTest::addColumn<int>("line");
    QTest::newRow("no sweep") << QString() << QStringLiteral("sweep") << -1;
    QTest::newRow("no metric") << QStringLiteral("sweep:\n  params: {max_depth: [2]}\n") << QStringLiteral("sweep.metric") << 6;
    QTest::newRow("unknown param") << QStringLiteral("sweep:\n  metric: validation.accuracy\n  params:\n    depth: [2, 3]\n")
                                   << QStringLiteral("sweep.params.depth") << 8;
    QTest::newRow("value out of range") << QStringLiteral("sweep:\n  metric: validation.accuracy\n  params:\n    max_depth: [2, 0]\n")
                                        << QStringLiteral("sweep.params.max_depth") << 8;
    QTest::newRow("range out of range")
        << QStringLiteral("sweep:\n  metric: validation.accuracy\n  params:\n    subsample: {min: 0.5, max: 2}\n")
        << QStringLiteral("sweep.params.subsample") << 8;
    QTest::newRow("log from zero")
        << QStringLiteral("sweep:\n  metric: validation.accuracy\n  params:\n    reg_lambda: {min: 0, max: 2, log: true}\n")
        << QStringLiteral("sweep.params.reg_lambda") << 8;
    QTest::newRow("bad goal") << QStringLiteral("sweep:\n  metric: validation.accuracy\n  goal: up\n  params: {max_depth: [2]}\n")
                              << QStringLiteral("sweep.goal") << 7;
    QTest::newRow("unknown key") << QStringLiteral("sweep:\n  metric: validation.accuracy\n  trials: 3\n  params: {max_depth: [2]}\n")
                                 << QStringLiteral("sweep.trials") << 7;
    // Model selection never peeks at the test part.
    QTest::newRow("test metric") << QStringLiteral("sweep:\n  metric: test.roc_auc\n  params: {max_depth: [2]}\n")
                                 << QStringLiteral("sweep.metric") << 6;
    QTest::newRow("cv metric without kfold") << QStringLiteral("sweep:\n  metric: cv.roc_auc.mean\n  params: {max_depth: [2]}\n")
                                             << QStringLiteral("sweep.metric") << 6;
}

void TstSweep::errors()
{
    QFETCH(QString, sweep);
    QFETCH(QString, field);
    QFETCH(int, line);
    auto spec = ml::SweepSpec::fromConfig(kBase + sweep, QStringLiteral("s.yaml"));
    QVERIFY(!spec);
    QCOMPARE(spec.error().field, field);
    QCOMPARE(spec.error().file, QStringLiteral("s.yaml"));
    QCOMPARE(spec.error().line, qint64(line));
    // The training config itself accepts (and ignores) a sweep section.
    if (!sweep.isEmpty())
        QVERIFY(ml::TrainingConfig::fromYaml(kBase + sweep, QStringLiteral("s.yaml")));
}

void TstSweep::overrides()
{
    auto text = ml::applyConfigOverrides(kBase, {QStringLiteral("params.max_depth=7"), QStringLiteral("split.seed=9"),
                                                 QStringLiteral("name=branch"), QStringLiteral("recipe.exclude=[fnlwgt, race]")},
                                         QStringLiteral("s.yaml"));
    QVERIFY2(text, qPrintable(text.message()));
    auto c = ml::TrainingConfig::fromYaml(*text, QStringLiteral("s.yaml"));
    QVERIFY2(c, qPrintable(c.message()));
    QCOMPARE(c->params.value(QStringLiteral("max_depth")).toInt(), 7);
    QCOMPARE(c->params.value(QStringLiteral("n_estimators")).toInt(), 50);
    QCOMPARE(c->split.seed, quint64(9));
    QCOMPARE(c->name, QStringLiteral("branch"));
    QCOMPARE(c->recipe.exclude, (QStringList{QStringLiteral("fnlwgt"), QStringLiteral("race")}));
    QCOMPARE(c->data, QStringLiteral("adult_train"));
    for (const QString &bad : {QStringLiteral("max_depth"), QStringLiteral("=3"), QStringLiteral("data.x=1"),
                               QStringLiteral("params..x=1")}) {
        auto r = ml::applyConfigOverrides(kBase, {bad}, QStringLiteral("s.yaml"));
        QVERIFY2(!r, qPrintable(bad));
        QVERIFY(r.error().message.contains(bad));
    }
}

void TstSweep::goals()
{
    for (const char *m : {"test.log_loss", "test.rmse", "cv.mae.mean", "test.brier", "validation.error"})
        QVERIFY2(!ml::metricIsMaximized(QLatin1String(m)), m);
    for (const char *m : {"test.accuracy", "test.roc_auc", "test.r2", "cv.f1_macro.mean"})
        QVERIFY2(ml::metricIsMaximized(QLatin1String(m)), m);
}

void TstSweep::exampleConfigs()
{
    // Every shipped example config is valid; the adult GBDT one carries a 3 x 3 grid.
    const QDir dir(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/configs"));
    const QStringList files = dir.entryList({QStringLiteral("*.yaml")}, QDir::Files);
    QCOMPARE(files.size(), 6);
    for (const QString &f : files) {
        auto c = ml::TrainingConfig::fromFile(dir.filePath(f));
        QVERIFY2(c, qPrintable(c.message()));
    }
    auto text = readFile(dir.filePath(QStringLiteral("adult-gbdt.yaml")));
    QVERIFY(text);
    auto spec = ml::SweepSpec::fromConfig(QString::fromUtf8(*text), QStringLiteral("adult-gbdt.yaml"));
    QVERIFY2(spec, qPrintable(spec.message()));
    auto grid = ml::gridTrials(*spec);
    QVERIFY(grid);
    QCOMPARE(grid->size(), size_t(9));
}

QTEST_GUILESS_MAIN(TstSweep)
#include "tst_sweep.moc"
