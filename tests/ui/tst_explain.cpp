// The explanation area end to end, offscreen: a workspace with Adult train/test and a small GBDT run, the area opened
// on that run. Checks the Global tab against the stored report (top feature recomputed from its SHAP values), the
// waterfall against the model's own margin, what-if edits against Model::predict of a row built independently, the
// counterfactual by re-predicting its edits, row search against a plain parse of the CSV, the fairness table for
// `sex` against counts and rates computed from the file and the model, chart export (PNG, SVG), light and dark
// palettes, that reopening a run reads the stored explanation instead of recomputing it, and a regression model with
// a derived feature. With KEEL_EXPLAIN_SCREENSHOTS=DIR the run uses the example GBDT config and every tab is saved to
// DIR/explain-*.png in light and dark palettes (how resources/screenshots/explain-*.png are made).
#include "emptystate.h"
#include "explainarea.h"
#include "explaincharts.h"
#include "explainfairness.h"
#include "explainglobal.h"
#include "explainprediction.h"
#include "tablemodel.h"
#include "taskmanager.h"
#include "theme.h"

#include "explain/explainer.h"
#include "ml/training.h"
#include "store/objectstore.h"
#include "tracking/trackingstore.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QtCharts/QAreaSeries>
#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QCategoryAxis>
#include <QtCharts/QChart>
#include <QtCharts/QHorizontalBarSeries>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <map>
#include <set>

using namespace keel;
using namespace keel::ui;

namespace {

const QString kAdultTrain = QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_train.csv");
const QString kAdultTest = QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/adult_test.csv");
const QString kDiamonds = QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/diamonds.csv");
const QString kDiamondsRidge = QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/configs/diamonds-ridge.yaml");
constexpr int kTimeout = 90000;

/// adult_test.csv parsed independently: no field of this file holds a comma, quotes only wrap whole fields.
struct Csv {
    QStringList header;
    std::vector<QStringList> rows;
    int column(const QString &name) const { return int(header.indexOf(name)); }
};

Csv readCsv(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    Csv csv;
    bool first = true;
    const QList<QByteArray> lines = f.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.trimmed().isEmpty())
            continue;
        QStringList fields;
        for (const QByteArray &raw : line.trimmed().split(',')) {
            QString v = QString::fromUtf8(raw);
            if (v.size() >= 2 && v.startsWith(QLatin1Char('"')) && v.endsWith(QLatin1Char('"')))
                v = v.mid(1, v.size() - 2);
            fields << v;
        }
        if (first)
            csv.header = fields;
        else
            csv.rows.push_back(fields);
        first = false;
    }
    return csv;
}

/// A one-row table: row `row` of `t`, with `edits` (column -> value) replaced, built value by value.
data::Table oneRow(const data::Table &t, qint64 row, const QVariantMap &edits = {})
{
    std::vector<data::Column> columns;
    for (const data::Column &c : t.columns()) {
        data::ColumnBuilder b(c.type());
        const bool edited = edits.contains(c.name());
        const QVariant v = edited ? edits.value(c.name()) : QVariant();
        if (edited && (!v.isValid() || v.isNull())) {
            b.appendNull();
        } else if (!edited && c.isNull(row)) {
            b.appendNull();
        } else {
            switch (c.type()) {
            case data::ColumnType::Int64: b.appendInt64(edited ? v.toLongLong() : c.int64At(row)); break;
            case data::ColumnType::Float64: b.appendFloat64(edited ? v.toDouble() : c.float64At(row)); break;
            case data::ColumnType::Bool: b.appendBool(edited ? v.toBool() : c.boolAt(row)); break;
            case data::ColumnType::Datetime:
                b.appendDatetime(edited ? v.toDateTime().toMSecsSinceEpoch() : c.datetimeAt(row));
                break;
            case data::ColumnType::Categorical:
            case data::ColumnType::String: {
                const QByteArray utf8 = edited ? v.toString().toUtf8() : QByteArray(c.stringAt(row).data(), qsizetype(c.stringAt(row).size()));
                b.appendString(std::string_view(utf8.constData(), size_t(utf8.size())));
                break;
            }
            }
        }
        columns.push_back(b.finish(c.name()));
    }
    return data::Table(std::move(columns));
}

bool waitFor(const std::function<bool()> &done, int timeoutMs = kTimeout)
{
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < timeoutMs) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        if (done())
            return true;
        QTest::qWait(10);
    }
    return false;
}

double meanLuminance(const QImage &image)
{
    const QImage img = image.convertToFormat(QImage::Format_RGB32);
    double sum = 0;
    qint64 n = 0;
    for (int y = 0; y < img.height(); y += 3) {
        const QRgb *line = reinterpret_cast<const QRgb *>(img.constScanLine(y));
        for (int x = 0; x < img.width(); x += 3, ++n)
            sum += qGray(line[x]);
    }
    return n ? sum / double(n) : 0;
}

QChart *chartOf(ExplainChartView *v) { return v->chart(); }

template <class T>
QList<T *> seriesOf(QChart *chart)
{
    QList<T *> out;
    const QList<QAbstractSeries *> all = chart->series();
    for (QAbstractSeries *s : all)
        if (auto *t = qobject_cast<T *>(s))
            out << t;
    return out;
}

} // namespace

class TestExplain : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void emptyStates();
    void pickerListsTheRun();
    void globalTabShowsTopFeature();
    void globalChartsHoldTheData();
    void waterfallSumsToMargin_data();
    void waterfallSumsToMargin();
    void whatIfMatchesPredict_data();
    void whatIfMatchesPredict();
    void counterfactualFlipsTheClass();
    void searchFindsRows();
    void fairnessBySex();
    void exportPngAndSvg();
    void lightAndDarkPalettes();
    void reopeningReadsTheStoredExplanation();
    void regressionWithDerivedFeature();

private:
    QJsonObject storedReport(const QString &part) const;
    ExplainPredictionView *prediction() const { return m_area->predictionView(); }
    void pick(qint64 row);

    QTemporaryDir m_tmp;
    std::unique_ptr<workspace::Workspace> m_ws;
    std::unique_ptr<TaskManager> m_tasks;
    std::unique_ptr<ExplainArea> m_area;
    ml::TrainingResult m_run;
    QString m_runName;
    explain::ModelContext m_ctx;
    data::Table m_test;
    Csv m_csv;
};

void TestExplain::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    applyTheme(Theme::Light);
    m_csv = readCsv(kAdultTest);
    QCOMPARE(m_csv.header.size(), 15);

    auto ws = workspace::Workspace::init(m_tmp.filePath(QStringLiteral("ws")));
    QVERIFY2(ws, qPrintable(ws.message()));
    m_ws = std::move(*ws);
    for (const auto &[file, name] : {std::pair{kAdultTrain, QStringLiteral("adult_train")}, std::pair{kAdultTest, QStringLiteral("adult_test")}}) {
        auto added = workspace::addDataset(*m_ws, file, name, QStringLiteral("add ") + name, {});
        QVERIFY2(added, qPrintable(added.message()));
    }
    const QString yaml = QStringLiteral(
        "experiment: adult\nname: adult-small\ndata: adult_train\nevaluate: adult_test\ntarget: class\ntask: binary\n"
        "label_map: {\">50K.\": \">50K\", \"<=50K.\": \"<=50K\"}\n"
        "recipe:\n  exclude: [fnlwgt]\n  defaults: {max_categories: 30}\n"
        "split: {kind: holdout, validation_fraction: 0.2, stratify: true, seed: 42}\n"
        "learner: gbdt\nparams: {n_estimators: 40, learning_rate: 0.2, max_depth: 4}\n");
    // Screenshots show the example model (resources/examples/configs/adult-gbdt.yaml); the checks use a small one.
    auto config = qEnvironmentVariableIsEmpty("KEEL_EXPLAIN_SCREENSHOTS")
                      ? ml::TrainingConfig::fromYaml(yaml, QStringLiteral("small.yaml"))
                      : ml::TrainingConfig::fromFile(QStringLiteral(KEEL_SOURCE_DIR "/resources/examples/configs/adult-gbdt.yaml"));
    QVERIFY2(config, qPrintable(config.message()));
    m_runName = config->name;
    auto run = ml::runTraining(*m_ws, *config, nullptr);
    QVERIFY2(run, qPrintable(run.message()));
    m_run = *run;

    // The model as the run stored it, restored here without the UI's session code.
    auto modelBytes = m_ws->store().readAll(m_run.modelObjectId);
    auto recipeBytes = m_ws->store().readAll(m_run.recipeObjectId);
    QVERIFY(modelBytes && recipeBytes);
    auto ctx = explain::ModelContext::fromArtifacts(m_run.modelKind, *modelBytes, QJsonDocument::fromJson(*recipeBytes).object());
    QVERIFY2(ctx, qPrintable(ctx.message()));
    m_ctx = *ctx;
    auto version = workspace::resolveDataset(*m_ws, QStringLiteral("adult_test"));
    QVERIFY(version);
    auto table = workspace::loadDataset(*m_ws, *version);
    QVERIFY(table);
    m_test = *table;
    QCOMPARE(m_test.rowCount(), qint64(m_csv.rows.size()));

    m_tasks = std::make_unique<TaskManager>();
    m_area = std::make_unique<ExplainArea>(m_tasks.get());
    m_area->resize(1440, 900);
}

void TestExplain::cleanupTestCase()
{
    m_area.reset();
    if (m_tasks) {
        m_tasks->cancelAll();
        m_tasks->waitForIdle(30000);
    }
    m_tasks.reset();
}

QJsonObject TestExplain::storedReport(const QString &part) const
{
    auto ts = m_ws->tracking();
    if (!ts)
        return {};
    auto artifacts = (*ts)->artifacts(m_run.runId);
    if (!artifacts)
        return {};
    for (const tracking::ArtifactRecord &a : *artifacts) {
        if (!a.name.startsWith(u"explanation-"))
            continue;
        auto bytes = m_ws->store().readAll(a.objectId);
        if (!bytes)
            continue;
        const QJsonObject report = QJsonDocument::fromJson(*bytes).object();
        if (report.contains(part))
            return report;
    }
    return {};
}

void TestExplain::emptyStates()
{
    TaskManager tasks;
    ExplainArea area(&tasks);
    area.setWorkspace(nullptr);
    QCOMPARE(area.emptyState()->title(), QStringLiteral("No workspace open"));

    // A workspace with data but no trained model says so.
    QTemporaryDir dir;
    auto ws = workspace::Workspace::init(dir.filePath(QStringLiteral("empty")));
    QVERIFY(ws);
    area.setWorkspace(ws->get());
    QVERIFY(waitFor([&] { return !area.isLoading(); }));
    QCOMPARE(area.emptyState()->title(), QStringLiteral("No trained models yet"));
    QVERIFY(area.catalog().runs.empty());
    tasks.waitForIdle(10000);
}

void TestExplain::pickerListsTheRun()
{
    QSignalSpy catalog(m_area.get(), &ExplainArea::catalogShown);
    m_area->setWorkspace(m_ws.get());
    QVERIFY(catalog.wait(kTimeout));
    QCOMPARE(m_area->catalog().runs.size(), size_t(1));
    const ExplainableRun &r = m_area->catalog().runs.front();
    QCOMPARE(r.id, m_run.runId);
    QCOMPARE(r.kind, m_run.modelKind);
    QCOMPARE(r.experiment, QStringLiteral("adult"));
    QCOMPARE(r.defaultData(), QStringLiteral("adult_test@v1"));
    QCOMPARE(m_area->modelPicker()->count(), 1);
    QVERIFY(m_area->modelPicker()->itemText(0).contains(m_runName));
    QVERIFY(m_area->modelPicker()->itemText(0).contains(m_run.modelKind));
    QVERIFY(m_area->dataPicker()->findText(QStringLiteral("adult_train@v1")) >= 0);
    // Nothing is computed before the area is shown or asked to.
    QVERIFY(!m_area->session());

    QSignalSpy loaded(m_area.get(), &ExplainArea::sessionLoaded);
    m_area->show();
    QVERIFY(loaded.wait(kTimeout));
    QCOMPARE(m_area->currentRunId(), m_run.runId);
    QCOMPARE(m_area->currentDataRef(), QStringLiteral("adult_test@v1"));
    QCOMPARE(m_area->dataPicker()->currentText(), QStringLiteral("adult_test@v1"));
    QCOMPARE(m_area->session()->method, QStringLiteral("tree"));
}

void TestExplain::globalTabShowsTopFeature()
{
    ExplainGlobalView *g = m_area->globalView();
    QVERIFY(waitFor([&] { return !g->importanceOrder().isEmpty(); }));

    // The top feature recomputed from the stored report's SHAP values, not from its importance list.
    const QJsonObject report = storedReport(QStringLiteral("global"));
    QVERIFY(!report.isEmpty());
    const QJsonArray features = report.value(QStringLiteral("global")).toObject().value(QStringLiteral("summary")).toObject()
                                    .value(QStringLiteral("features")).toArray();
    QCOMPARE(features.size(), m_ctx.features().size());
    QString top;
    double topValue = -1;
    std::map<QString, double> meanAbs;
    for (const QJsonValue &fv : features) {
        const QJsonObject f = fv.toObject();
        const QJsonArray shap = f.value(QStringLiteral("shap")).toArray();
        double sum = 0;
        for (const QJsonValue &v : shap)
            sum += std::abs(v.toDouble());
        const double mean = sum / double(shap.size());
        meanAbs[f.value(QStringLiteral("name")).toString()] = mean;
        if (mean > topValue) {
            topValue = mean;
            top = f.value(QStringLiteral("name")).toString();
        }
    }
    qInfo("top features by mean |SHAP|: %s (%.4f)", qPrintable(g->importanceOrder().mid(0, 4).join(QStringLiteral(", "))), topValue);

    // The chart's top bar (the last category of a horizontal bar chart) is that feature, with that value.
    QChart *chart = chartOf(g->importanceChart());
    const auto bars = seriesOf<QHorizontalBarSeries>(chart);
    QCOMPARE(bars.size(), 1);
    QBarSet *set = bars.front()->barSets().front();
    auto *axis = qobject_cast<QBarCategoryAxis *>(chart->axes(Qt::Vertical).front());
    QVERIFY(axis);
    QCOMPARE(axis->categories().size(), std::min<qsizetype>(15, features.size()));
    QCOMPARE(axis->categories().last(), top.toHtmlEscaped());
    QVERIFY(std::abs(set->at(set->count() - 1) - topValue) < 1e-9);
    // Every bar is the mean |SHAP| of its feature, and bars grow towards the top.
    for (int i = 0; i < set->count(); ++i) {
        QVERIFY(std::abs(set->at(i) - meanAbs[axis->categories().at(i)]) < 1e-9);
        if (i > 0)
            QVERIFY(set->at(i) >= set->at(i - 1));
    }
    // The feature picker starts on the top feature.
    QCOMPARE(g->currentFeature(), top);
}

void TestExplain::globalChartsHoldTheData()
{
    ExplainGlobalView *g = m_area->globalView();
    QVERIFY(g->summary());
    const explain::ShapSummary &s = *g->summary();
    const int shown = std::min(15, int(s.features.size()));

    // Beeswarm: every (row, feature) point lands in one colour series, at its SHAP value.
    QChart *bees = chartOf(g->beeswarmChart());
    qint64 points = 0;
    std::multiset<double> drawn;
    for (QScatterSeries *sc : seriesOf<QScatterSeries>(bees)) {
        points += sc->count();
        const QList<QPointF> pts = sc->points();
        for (const QPointF &p : pts)
            drawn.insert(p.x());
    }
    std::multiset<double> expected;
    for (int f = 0; f < shown; ++f)
        for (double v : s.features[size_t(f)].shap)
            expected.insert(v);
    QCOMPARE(points, qint64(expected.size()));
    QVERIFY(drawn == expected);
    QCOMPARE(seriesOf<QScatterSeries>(bees).size(), kColourBins + 1);

    // Dependence of another feature via the picker; PDP/ICE of it is computed on demand.
    const QString second = g->importanceOrder().at(1);
    QSignalSpy featureShown(g, &ExplainGlobalView::featureShown);
    g->featurePicker()->setCurrentText(second);
    QVERIFY(featureShown.count() > 0 || featureShown.wait(kTimeout));
    QCOMPARE(g->currentFeature(), second);
    QVERIFY(g->partialDependence());
    QCOMPARE(g->partialDependence()->feature, second);
    const auto lines = seriesOf<QLineSeries>(chartOf(g->pdpChart()));
    QCOMPARE(lines.size(), int(g->partialDependence()->ice.size()) + 1);
    const QLineSeries *average = lines.last();
    QCOMPARE(average->name(), QStringLiteral("PDP (%1 rows)").arg(g->partialDependence()->rows));
    QCOMPARE(average->count(), int(g->partialDependence()->grid.size()));
    for (int i = 0; i < average->count(); ++i) {
        // Categorical features are drawn with their categories as rows, the output along x.
        const double drawn = g->partialDependence()->categorical ? average->at(i).x() : average->at(i).y();
        QVERIFY(std::abs(drawn - g->partialDependence()->average[size_t(i)]) < 1e-12);
    }
    qint64 dependencePoints = 0;
    for (QScatterSeries *sc : seriesOf<QScatterSeries>(chartOf(g->dependenceChart())))
        dependencePoints += sc->count();
    QCOMPARE(dependencePoints, s.rows);

    // Permutation importance: bars are the means, one error bar per shown feature spans mean ± std.
    QVERIFY(g->permutation());
    const explain::PermutationImportance &p = *g->permutation();
    QChart *perm = chartOf(g->permutationChart());
    const auto permBars = seriesOf<QHorizontalBarSeries>(perm);
    QCOMPARE(permBars.size(), 1);
    auto *permAxis = qobject_cast<QBarCategoryAxis *>(perm->axes(Qt::Vertical).front());
    const auto whiskers = seriesOf<QLineSeries>(perm);
    QCOMPARE(whiskers.size(), permAxis->categories().size());
    for (int i = 0; i < permAxis->categories().size(); ++i) {
        const qsizetype f = p.features.indexOf(permAxis->categories().at(i));
        QVERIFY(f >= 0);
        QCOMPARE(permBars.front()->barSets().front()->at(i), p.mean[size_t(f)]);
        double lo = INFINITY, hi = -INFINITY;
        for (const QPointF &pt : whiskers[i]->points()) {
            lo = std::min(lo, pt.x());
            hi = std::max(hi, pt.x());
            QVERIFY(std::abs(pt.y() - i) < 0.2);
        }
        QVERIFY(std::abs(lo - (p.mean[size_t(f)] - p.std[size_t(f)])) < 1e-12);
        QVERIFY(std::abs(hi - (p.mean[size_t(f)] + p.std[size_t(f)])) < 1e-12);
    }
}

void TestExplain::pick(qint64 row)
{
    QSignalSpy explained(prediction(), &ExplainPredictionView::rowExplained);
    QVERIFY(prediction()->pickRow(row));
    QVERIFY(waitFor([&] { return prediction()->local() && prediction()->local()->row == row; }));
}

void TestExplain::waterfallSumsToMargin_data()
{
    QTest::addColumn<qint64>("row");
    QTest::newRow("first") << qint64(0);
    QTest::newRow("row 7") << qint64(7);
    QTest::newRow("row 4321") << qint64(4321);
    QTest::newRow("last") << qint64(16280);
}

void TestExplain::waterfallSumsToMargin()
{
    QFETCH(qint64, row);
    m_area->tabs()->setCurrentIndex(ExplainArea::PredictionTab);
    pick(row);
    if (QTest::currentTestFailed())
        return;
    const LocalExplanation &local = *prediction()->local();
    auto margin = m_ctx.margin(oneRow(m_test, row));
    QVERIFY2(margin, qPrintable(margin.message()));
    const Waterfall &w = prediction()->waterfall();
    // Base value plus every bar (top 10 and "other") is the model's margin for the row.
    QVERIFY2(std::abs(w.total() - margin->front()) < 1e-4,
             qPrintable(QStringLiteral("waterfall %1, model %2").arg(w.total()).arg(margin->front())));
    QVERIFY(std::abs(local.margin - margin->front()) < 1e-6);
    QCOMPARE(int(w.steps.size()), std::min(11, int(m_ctx.features().size())));
    QCOMPARE(w.steps.front().feature, QStringLiteral("other"));
    QCOMPARE(w.steps.front().features, int(m_ctx.features().size()) - 10);
    // The steps chain: each starts where the previous ended, the largest |contribution| on top.
    QCOMPARE(w.steps.front().start, w.base);
    for (size_t i = 1; i < w.steps.size(); ++i) {
        QCOMPARE(w.steps[i].start, w.steps[i - 1].end());
        if (i > 1)
            QVERIFY(std::abs(w.steps[i].delta) >= std::abs(w.steps[i - 1].delta));
    }
    // Feature labels carry the row's raw values ("age = 25").
    const int ageColumn = m_csv.column(QStringLiteral("age"));
    for (const WaterfallStep &s : w.steps)
        if (s.feature == u"age")
            QCOMPARE(s.value, m_csv.rows[size_t(row)][ageColumn]);
    // The chart draws one rectangle per step, coloured by direction, ending where the step ends.
    const auto areas = seriesOf<QAreaSeries>(chartOf(prediction()->waterfallChart()));
    QCOMPARE(areas.size(), int(w.steps.size()));
    for (int i = 0; i < areas.size(); ++i) {
        const QList<QPointF> upper = areas[i]->upperSeries()->points();
        QCOMPARE(upper.size(), 2);
        QCOMPARE(upper[0].x(), w.steps[size_t(i)].start);
        QCOMPARE(upper[1].x(), w.steps[size_t(i)].end());
        QCOMPARE(areas[i]->brush().color(), w.steps[size_t(i)].delta >= 0 ? raiseColor() : lowerColor());
    }
    // The spin box shows the row as the dataset table numbers it.
    QCOMPARE(prediction()->rowSpin()->value(), int(row + 1));
}

void TestExplain::whatIfMatchesPredict_data()
{
    QTest::addColumn<qint64>("row");
    QTest::addColumn<QVariantMap>("edits");
    QTest::addColumn<bool>("moves"); // the edit certainly moves the prediction
    QTest::newRow("older") << qint64(3) << QVariantMap{{QStringLiteral("age"), qlonglong(67)}} << false;
    QTest::newRow("capital gain") << qint64(0) << QVariantMap{{QStringLiteral("capital_gain"), qlonglong(15024)}} << true;
    QTest::newRow("married and more hours")
        << qint64(12)
        << QVariantMap{{QStringLiteral("marital_status"), QStringLiteral("Married-civ-spouse")},
                       {QStringLiteral("hours_per_week"), qlonglong(60)}}
        << true;
    QTest::newRow("missing workclass") << qint64(20) << QVariantMap{{QStringLiteral("workclass"), QVariant()}} << false;
}

void TestExplain::whatIfMatchesPredict()
{
    QFETCH(qint64, row);
    QFETCH(QVariantMap, edits);
    QFETCH(bool, moves);
    pick(row);
    if (QTest::currentTestFailed())
        return;
    prediction()->resetEdits();
    QVERIFY(prediction()->edits().isEmpty());
    QSignalSpy shown(prediction(), &ExplainPredictionView::whatIfShown);
    for (auto it = edits.begin(); it != edits.end(); ++it)
        QVERIFY2(prediction()->setEdit(it.key(), it.value()), qPrintable(it.key()));
    QCOMPARE(prediction()->edits().keys(), edits.keys());
    QVERIFY(waitFor([&] { return prediction()->whatIfResult() && prediction()->whatIfResult()->edits.keys() == edits.keys(); }));

    // Model::predict of the row rebuilt here with the same edits.
    const data::Table edited = oneRow(m_test, row, edits);
    auto expected = m_ctx.predict(edited);
    auto expectedMargin = m_ctx.margin(edited);
    QVERIFY(expected && expectedMargin);
    const explain::WhatIfResult &r = *prediction()->whatIfResult();
    QCOMPARE(r.row, row);
    // The edits went through as given, and the new prediction is the model's for the edited row.
    for (auto it = edits.begin(); it != edits.end(); ++it) {
        const QVariant applied = r.edits.value(it.key());
        QCOMPARE(applied.isValid() && !applied.isNull(), it.value().isValid());
        if (it.value().isValid())
            QCOMPARE(applied.toString(), it.value().toString());
    }
    QVERIFY(std::abs(r.editedPrediction.front() - expected->front()) < 1e-7);
    auto original = m_ctx.predict(oneRow(m_test, row));
    QVERIFY(std::abs(r.originalPrediction.front() - original->front()) < 1e-7);
    if (moves)
        QVERIFY(std::abs(expected->front() - original->front()) > 1e-3);
    // The waterfall now shows the edited row and still adds up to its margin.
    QVERIFY(std::abs(prediction()->waterfall().total() - expectedMargin->front()) < 1e-4);
    QVERIFY(prediction()->predictionLabel()->text().contains(QStringLiteral("What-if")));

    // Resetting brings back the row's own explanation.
    prediction()->resetEdits();
    QVERIFY(waitFor([&] { return !prediction()->whatIfResult(); }));
    auto margin = m_ctx.margin(oneRow(m_test, row));
    QVERIFY(std::abs(prediction()->waterfall().total() - margin->front()) < 1e-4);
}

void TestExplain::counterfactualFlipsTheClass()
{
    // A row predicted "<=50K" but not by much, found with the model itself.
    auto all = m_ctx.predict(m_test);
    QVERIFY(all);
    qint64 row = -1;
    for (qint64 r = 0; r < 2000 && row < 0; ++r)
        if ((*all)[size_t(r)] > 0.3 && (*all)[size_t(r)] < 0.45)
            row = r;
    QVERIFY(row >= 0);
    pick(row);
    if (QTest::currentTestFailed())
        return;
    const QStringList allowed = {QStringLiteral("capital_gain"), QStringLiteral("hours_per_week"), QStringLiteral("education")};
    for (const explain::FeatureValues &f : m_area->session()->inputs)
        prediction()->setChangeable(f.name, allowed.contains(f.name));
    QCOMPARE(prediction()->changeableFeatures().size(), allowed.size());
    QSignalSpy shown(prediction(), &ExplainPredictionView::counterfactualShown);
    prediction()->counterfactualButton()->click();
    QVERIFY(shown.wait(kTimeout));
    QVERIFY(prediction()->counterfactual());
    const explain::Counterfactual &cf = *prediction()->counterfactual();
    QVERIFY2(cf.found, qPrintable(cf.message));
    QVERIFY(!cf.changes.empty());
    for (const explain::CounterfactualChange &c : cf.changes) {
        QVERIFY2(allowed.contains(c.feature), qPrintable(c.feature));
        QVERIFY(prediction()->counterfactualLabel()->text().contains(c.feature));
    }
    // Re-predicting the changed row independently flips the class.
    auto flipped = m_ctx.predict(oneRow(m_test, row, cf.edits()));
    QVERIFY(flipped);
    QVERIFY2(flipped->front() >= 0.5, qPrintable(QString::number(flipped->front())));
    QVERIFY(std::abs(flipped->front() - cf.newProbability) < 1e-7);

    // "Apply to what-if" puts the changes into the editor; the what-if agrees.
    prediction()->applyCounterfactual();
    QCOMPARE(prediction()->edits().keys(), cf.edits().keys());
    QVERIFY(waitFor([&] { return prediction()->whatIfResult() && prediction()->whatIfResult()->edits.keys() == cf.edits().keys(); }));
    QVERIFY(prediction()->whatIfResult()->editedPrediction.front() >= 0.5);
    prediction()->resetEdits();
    for (const explain::FeatureValues &f : m_area->session()->inputs)
        prediction()->setChangeable(f.name, true);
}

void TestExplain::searchFindsRows()
{
    const QStringList terms = {QStringLiteral("Female"), QStringLiteral("Doctorate")};
    std::vector<qint64> expected;
    for (size_t r = 0; r < m_csv.rows.size(); ++r) {
        bool all = true;
        for (const QString &t : terms) {
            bool any = false;
            for (const QString &v : m_csv.rows[r])
                any = any || v.contains(t, Qt::CaseInsensitive);
            all = all && any;
        }
        if (all)
            expected.push_back(qint64(r));
    }
    QVERIFY(!expected.empty());
    QSignalSpy finished(prediction(), &ExplainPredictionView::searchFinished);
    prediction()->search(terms.join(QLatin1Char(' ')));
    QVERIFY(finished.wait(kTimeout));
    QCOMPARE(finished.front().front().toLongLong(), qint64(expected.size()));
    TableModel *model = prediction()->rowModel();
    QCOMPARE(model->rowCount(), int(expected.size()));
    for (int i = 0; i < model->rowCount(); ++i)
        QCOMPARE(model->sourceRow(i), expected[size_t(i)]);
    // The first match is picked; clicking another row of the table picks that one.
    QVERIFY(waitFor([&] { return prediction()->currentRow() == expected.front(); }));
    if (expected.size() > 1) {
        prediction()->rowTable()->selectRow(1);
        QCOMPARE(prediction()->currentRow(), expected[1]);
        QCOMPARE(prediction()->rowSpin()->value(), int(expected[1] + 1));
    }
    prediction()->search(QString());
    QCOMPARE(model->rowCount(), int(m_test.rowCount()));
}

void TestExplain::fairnessBySex()
{
    ExplainFairnessView *f = m_area->fairnessView();
    QSignalSpy shown(f, &ExplainFairnessView::reportShown);
    m_area->tabs()->setCurrentIndex(ExplainArea::FairnessTab);
    QVERIFY(shown.count() > 0 || shown.wait(kTimeout));
    QCOMPARE(f->sensitiveColumn(), QStringLiteral("sex"));
    QVERIFY(f->columnPicker()->findText(QStringLiteral("race")) >= 0);
    QVERIFY(f->columnPicker()->findText(QStringLiteral("age")) < 0);
    QVERIFY(f->report());

    // Counts, selection rates and TPRs per group computed here from the file and the model.
    auto p = m_ctx.predict(m_test);
    QVERIFY(p);
    const int sex = m_csv.column(QStringLiteral("sex")), cls = m_csv.column(QStringLiteral("class"));
    std::map<QString, qint64> count, selected, positives, truePositives;
    for (size_t r = 0; r < m_csv.rows.size(); ++r) {
        const QString g = m_csv.rows[r][sex];
        const bool positive = m_csv.rows[r][cls].startsWith(QStringLiteral(">50K"));
        const bool predicted = (*p)[r] >= 0.5;
        ++count[g];
        selected[g] += predicted;
        positives[g] += positive;
        truePositives[g] += positive && predicted;
    }
    QCOMPARE(count.size(), size_t(2));
    FairnessTableModel *model = f->groupModel();
    QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model->rowCount(), 2);
    QStringList groups;
    for (int r = 0; r < model->rowCount(); ++r) {
        const QString g = model->index(r, FairnessTableModel::GroupColumn).data().toString();
        groups << g;
        QCOMPARE(model->index(r, FairnessTableModel::RowsColumn).data(FairnessTableModel::ValueRole).toLongLong(), count[g]);
        QCOMPARE(model->index(r, FairnessTableModel::PositivesColumn).data(FairnessTableModel::ValueRole).toLongLong(), positives[g]);
        const double rate = model->index(r, FairnessTableModel::SelectionRateColumn).data(FairnessTableModel::ValueRole).toDouble();
        QVERIFY(std::abs(rate - double(selected[g]) / double(count[g])) < 1e-12);
        const double tpr = model->index(r, FairnessTableModel::TprColumn).data(FairnessTableModel::ValueRole).toDouble();
        QVERIFY(std::abs(tpr - double(truePositives[g]) / double(positives[g])) < 1e-12);
        const double lo = model->index(r, FairnessTableModel::SelectionRateColumn).data(FairnessTableModel::LowRole).toDouble();
        const double hi = model->index(r, FairnessTableModel::SelectionRateColumn).data(FairnessTableModel::HighRole).toDouble();
        QVERIFY(lo <= rate && rate <= hi && hi - lo < 0.1);
        QVERIFY(model->index(r, FairnessTableModel::SelectionRateColumn).data().toString().contains(QLatin1Char('[')));
    }
    QCOMPARE(groups, (QStringList{QStringLiteral("Female"), QStringLiteral("Male")}));
    QVERIFY(f->differencesLabel()->text().contains(QStringLiteral("Demographic parity difference")));

    // The chart: one bar set per group (selection rate, TPR, FPR) and an error bar per bar.
    QChart *chart = chartOf(f->chart());
    const auto bars = seriesOf<QBarSeries>(chart);
    QCOMPARE(bars.size(), 1);
    QCOMPARE(bars.front()->count(), 2);
    QCOMPARE(seriesOf<QLineSeries>(chart).size(), 6);

    // Another column recomputes.
    QSignalSpy again(f, &ExplainFairnessView::reportShown);
    f->columnPicker()->setCurrentText(QStringLiteral("race"));
    QVERIFY(again.wait(kTimeout));
    QCOMPARE(f->report()->sensitive, QStringLiteral("race"));
    QCOMPARE(model->rowCount(), 5);
}

void TestExplain::exportPngAndSvg()
{
    ExplainGlobalView *g = m_area->globalView();
    // The screen is dark; exports still come out in the light palette.
    applyTheme(Theme::Dark);
    QTemporaryDir out;
    const QString png = out.filePath(QStringLiteral("importance.png")), svg = out.filePath(QStringLiteral("importance.svg"));
    const Status s1 = g->importanceChart()->exportTo(png);
    QVERIFY2(s1, qPrintable(s1.message()));
    const Status s2 = g->importanceChart()->exportTo(svg);
    QVERIFY2(s2, qPrintable(s2.message()));
    QImage image(png);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() >= 640 * 2 && image.height() >= 400 * 2);
    QVERIFY(meanLuminance(image) > 180);
    QVERIFY(meanLuminance(g->importanceChart()->grab().toImage()) < 100);
    applyTheme(Theme::Light);
    QFile f(svg);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray text = f.readAll();
    QVERIFY(text.contains("<svg"));
    QVERIFY(text.contains(g->importanceOrder().front().toUtf8()));
    // A message chart has nothing to export.
    ExplainChartView empty;
    empty.setMessage(QStringLiteral("nothing"));
    QVERIFY(!empty.exportTo(out.filePath(QStringLiteral("nothing.png"))));
}

void TestExplain::lightAndDarkPalettes()
{
    // Charts follow the palette: background from Base, labels from Text, rebuilt when the palette changes.
    const QString dir = qEnvironmentVariable("KEEL_EXPLAIN_SCREENSHOTS");
    QTemporaryDir tmp;
    const QString outDir = dir.isEmpty() ? tmp.path() : dir;
    QVERIFY(QDir().mkpath(outDir));
    m_area->resize(1440, 900);
    m_area->globalView()->showFeature(m_area->globalView()->importanceOrder().front());
    prediction()->pickRow(0);
    QVERIFY(waitFor([&] { return prediction()->local() && prediction()->local()->row == 0; }));
    prediction()->setEdit(QStringLiteral("capital_gain"), qlonglong(7688));
    QVERIFY(waitFor([&] { return bool(prediction()->whatIfResult()); }));
    QSignalSpy counterfactual(prediction(), &ExplainPredictionView::counterfactualShown);
    prediction()->findCounterfactual();
    QVERIFY(counterfactual.wait(kTimeout));
    QVERIFY(m_area->fairnessView()->setSensitiveColumn(QStringLiteral("sex")));
    QVERIFY(waitFor([&] { return m_area->fairnessView()->report() && m_area->fairnessView()->report()->sensitive == u"sex"; }));
    std::map<QString, double> luminance;
    for (const Theme theme : {Theme::Light, Theme::Dark}) {
        applyTheme(theme);
        const QPalette palette = theme == Theme::Dark ? darkPalette() : lightPalette();
        QVERIFY(waitFor([&] { return m_tasks->activeCount() == 0; }));
        const QString suffix = theme == Theme::Dark ? QStringLiteral("-dark") : QString();
        for (const auto &[tab, name] : {std::pair{ExplainArea::GlobalTab, QStringLiteral("global")},
                                        std::pair{ExplainArea::PredictionTab, QStringLiteral("prediction")},
                                        std::pair{ExplainArea::FairnessTab, QStringLiteral("fairness")}}) {
            m_area->tabs()->setCurrentIndex(tab);
            QTest::qWait(150);
            const QImage image = m_area->grab().toImage();
            const QString file = QDir(outDir).filePath(QStringLiteral("explain-%1%2.png").arg(name, suffix));
            QVERIFY(image.save(file));
            luminance[name + suffix] = meanLuminance(image);
        }
        for (ExplainChartView *v : {m_area->globalView()->beeswarmChart(), prediction()->waterfallChart(), m_area->fairnessView()->chart()}) {
            QCOMPARE(v->chart()->backgroundBrush().color(), palette.color(QPalette::Base));
            QCOMPARE(v->chart()->titleBrush().color(), palette.color(QPalette::Text));
            for (QAbstractAxis *axis : v->chart()->axes())
                QCOMPARE(axis->labelsBrush().color(), palette.color(QPalette::Text));
        }
    }
    applyTheme(Theme::Light);
    for (const QString &name : {QStringLiteral("global"), QStringLiteral("prediction"), QStringLiteral("fairness")}) {
        QVERIFY2(luminance[name] > 150, qPrintable(name));
        QVERIFY2(luminance[name + QStringLiteral("-dark")] < 90, qPrintable(name));
    }
    prediction()->resetEdits();
}

void TestExplain::reopeningReadsTheStoredExplanation()
{
    QVERIFY(m_area->globalView()->report());
    const QJsonObject first = m_area->globalView()->report()->toJson();
    ExplainArea again(m_tasks.get());
    again.setWorkspace(m_ws.get());
    QSignalSpy shown(again.globalView(), &ExplainGlobalView::reportShown);
    again.showRun(m_run.runId);
    QVERIFY(shown.wait(kTimeout));
    // The same document, creation time included: read back, not recomputed.
    QVERIFY(again.globalView()->report());
    QVERIFY(again.globalView()->report()->toJson() == first);
    QCOMPARE(again.globalView()->importanceOrder(), m_area->globalView()->importanceOrder());
}

void TestExplain::regressionWithDerivedFeature()
{
    // The example ridge model on diamonds: linear SHAP, a derived feature (volume = x * y * z), no classes.
    auto added = workspace::addDataset(*m_ws, kDiamonds, QStringLiteral("diamonds"), QStringLiteral("add diamonds"), {});
    QVERIFY2(added, qPrintable(added.message()));
    auto run = ml::runTraining(*m_ws, kDiamondsRidge, nullptr);
    QVERIFY2(run, qPrintable(run.message()));
    auto ctx = explain::ModelContext::fromArtifacts(run->modelKind, *m_ws->store().readAll(run->modelObjectId),
                                                    QJsonDocument::fromJson(*m_ws->store().readAll(run->recipeObjectId)).object());
    QVERIFY2(ctx, qPrintable(ctx.message()));
    QVERIFY(ctx->featureIndex(QStringLiteral("volume")) >= 0);
    QVERIFY(!ctx->isInputFeature(QStringLiteral("volume")));

    ExplainArea area(m_tasks.get());
    area.resize(1200, 800);
    area.setWorkspace(m_ws.get());
    QSignalSpy loaded(&area, &ExplainArea::sessionLoaded);
    area.showRun(run->runId);
    QVERIFY(loaded.wait(kTimeout));
    QCOMPARE(area.session()->method, QStringLiteral("linear"));
    QCOMPARE(area.currentDataRef(), QStringLiteral("diamonds@v1"));
    QVERIFY(!area.predictionView()->counterfactualButton()->isEnabled());
    area.tabs()->setCurrentIndex(ExplainArea::FairnessTab);
    QVERIFY(area.fairnessView()->chart()->message().contains(QStringLiteral("classifier")));
    QVERIFY(!area.fairnessView()->setSensitiveColumn(QStringLiteral("cut")));

    ExplainPredictionView *p = area.predictionView();
    const qint64 row = 1234;
    QVERIFY(p->pickRow(row));
    QVERIFY(waitFor([&] { return p->local() && p->local()->row == row; }));
    // Derived features are explained but not edited: the editor has the input columns only.
    QVERIFY(p->local()->features.contains(QStringLiteral("volume")));
    QVERIFY(!p->editor(QStringLiteral("volume")));
    QVERIFY(p->editor(QStringLiteral("carat")));
    auto table = workspace::loadDataset(*m_ws, added->version);
    QVERIFY(table);
    auto margin = ctx->margin(oneRow(*table, row));
    QVERIFY(margin);
    QVERIFY(std::abs(p->waterfall().total() - margin->front()) < 1e-6 * std::max(1.0, std::abs(margin->front())));

    // A what-if edit of x moves volume with it; the edited waterfall has the same base value (the same background
    // as the stored explanation) and adds up to the model's prediction for the edited row.
    const QVariantMap edits{{QStringLiteral("x"), 9.5}};
    QVERIFY(p->setEdit(QStringLiteral("x"), 9.5));
    QVERIFY(waitFor([&] { return bool(p->whatIfResult()); }));
    auto expected = ctx->predict(oneRow(*table, row, edits));
    QVERIFY(expected);
    QVERIFY(std::abs(p->whatIfResult()->editedPrediction.front() - expected->front()) < 1e-9 * std::max(1.0, std::abs(expected->front())));
    QVERIFY(std::abs(p->waterfall().total() - expected->front()) < 1e-6 * std::max(1.0, std::abs(expected->front())));
    QVERIFY(std::abs(p->waterfall().base - p->local()->base) < 1e-9 * std::max(1.0, std::abs(p->local()->base)));
    bool volumeMoved = false;
    for (const WaterfallStep &s : p->waterfall().steps)
        if (s.feature == u"volume")
            volumeMoved = s.value != p->local()->values.at(p->local()->features.indexOf(QStringLiteral("volume")));
    QVERIFY(volumeMoved);
    QVERIFY(waitFor([&] { return !area.globalView()->importanceOrder().isEmpty(); }));
    if (const QString dir = qEnvironmentVariable("KEEL_EXPLAIN_SCREENSHOTS"); !dir.isEmpty()) {
        area.show();
        for (const auto &[tab, name] : {std::pair{ExplainArea::GlobalTab, QStringLiteral("global")},
                                        std::pair{ExplainArea::PredictionTab, QStringLiteral("prediction")}}) {
            area.tabs()->setCurrentIndex(tab);
            QVERIFY(waitFor([&] { return m_tasks->activeCount() == 0; }));
            QTest::qWait(150);
            QVERIFY(area.grab().save(QDir(dir).filePath(QStringLiteral("explain-regression-%1.png").arg(name))));
        }
    }
}

QTEST_MAIN(TestExplain)
#include "tst_explain.moc"
