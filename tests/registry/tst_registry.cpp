// The model registry on a dataset with a planted effect: registering runs (card contents checked against the run and
// the recipe), aliases with history and an approval policy, bundles that round-trip through export and import and
// refuse any changed member, store gc keeping registered bundles, and the comparison of a model that sees the
// signal with one that does not (point metrics against ml::metrics, the paired tests' direction, identical versions).
#include "data/reader.h"
#include "ml/metrics.h"
#include "ml/training.h"
#include "registry/bundle.h"
#include "registry/compare.h"
#include "registry/registry.h"
#include "tracking/metrickeys.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/gitrepo.h"
#include "workspace/storecare.h"
#include "workspace/workspace.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTimeZone>
#include <QTest>

#include <cmath>
#include <random>

using namespace keel;
using namespace keel::registry;

namespace {

/// 3,000 people: `signal` decides the label (with noise), `noise` and `colour` do not.
QByteArray plantedCsv(quint64 seed, int rows)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0, 1);
    QByteArray out = "id,signal,noise,colour,label\n";
    const char *colours[] = {"red", "green", "blue"};
    for (int i = 0; i < rows; ++i) {
        const double s = g(rng), n = g(rng);
        const bool positive = 1.5 * s + 0.7 * g(rng) > 0.3;
        out += QByteArray::number(i + 1) + ',' + QByteArray::number(s, 'g', 10) + ',' + QByteArray::number(n, 'g', 10) + ','
               + colours[rng() % 3] + ',' + (positive ? "yes" : "no") + '\n';
    }
    return out;
}

} // namespace

class TestRegistry : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<workspace::Workspace> m_ws;
    QString m_seeing, m_blind;   // run ids: a model with the signal, one without

    QString train(const QString &name, const QString &recipe)
    {
        const QString yaml = QStringLiteral("experiment: planted\nname: %1\ndata: people\ntarget: label\ntask: binary\n"
                                            "recipe: %2\nsplit: {kind: holdout, test_fraction: 0.25, validation_fraction: 0.1, seed: 3}\n"
                                            "learner: logistic\n")
                                 .arg(name, recipe);
        auto config = ml::TrainingConfig::fromYaml(yaml, name + QStringLiteral(".yaml"));
        if (!config)
            qFatal("%s", qPrintable(config.message()));
        auto r = ml::runTraining(*m_ws, *config, nullptr);
        if (!r)
            qFatal("%s", qPrintable(r.message()));
        return r->runId;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("HOME", QFile::encodeName(m_dir.path()));
        qputenv("GIT_CONFIG_NOSYSTEM", "1");
        auto ws = workspace::Workspace::init(m_dir.filePath(QStringLiteral("ws")));
        QVERIFY2(ws, qPrintable(ws.message()));
        m_ws = std::move(*ws);
        const QString csv = m_dir.filePath(QStringLiteral("people.csv"));
        QVERIFY(writeFileAtomic(csv, plantedCsv(7, 3000)));
        auto added = workspace::addDataset(*m_ws, csv, QStringLiteral("people"), QStringLiteral("planted"), {});
        QVERIFY2(added, qPrintable(added.message()));
        m_seeing = train(QStringLiteral("seeing"), QStringLiteral("{exclude: [id]}"));
        m_blind = train(QStringLiteral("blind"), QStringLiteral("{exclude: [id, signal]}"));
        // The model the other cases work on: churn@v1 sees the signal, churn@v2 does not.
        QVERIFY(registerRun(*m_ws, m_seeing, QStringLiteral("churn"), QStringLiteral("sees the signal")));
        QVERIFY(registerRun(*m_ws, m_blind, QStringLiteral("churn"), QStringLiteral("without the signal")));
    }

    void registerRecordsTheRun()
    {
        auto v = registerRun(*m_ws, m_seeing.left(8), QStringLiteral("retention"), QStringLiteral("first"));
        QVERIFY2(v, qPrintable(v.message()));
        QCOMPARE(v->ref(), QStringLiteral("retention@v1"));
        QCOMPARE(v->runId, m_seeing);
        QCOMPARE(v->task, ml::Task::BinaryClassification);
        QCOMPARE(v->classes, (QStringList{QStringLiteral("no"), QStringLiteral("yes")}));
        QCOMPARE(v->data.train, QStringLiteral("people@v1"));
        // The card's metrics are the run's final metrics.
        auto ts = m_ws->tracking();
        QVERIFY(ts);
        const auto finals = tracking::finalMetrics(*(*ts)->metrics(m_seeing));
        QCOMPARE(v->metrics.size(), finals.size());
        for (const auto &[k, val] : finals)
            QCOMPARE(*v->metric(k), val);
        // The run list's one number: test accuracy for this classifier, picked by core for every door.
        const auto head = tracking::headlineMetric(finals);
        QVERIFY(head);
        QCOMPARE(head->first, QStringLiteral("test.accuracy"));
        QCOMPARE(head->second, *v->metric(QStringLiteral("test.accuracy")));
        QVERIFY(!tracking::headlineMetric({{QStringLiteral("validation.accuracy"), 0.9}, {QStringLiteral("test.log_loss"), 0.3}}));
        QCOMPARE(tracking::headlineMetric({{QStringLiteral("test.r2"), 0.5}, {QStringLiteral("test.rmse"), 2.5}})->first, QStringLiteral("test.rmse"));
        // Schema: the input columns, typed by the profile; the categories the recipe knows.
        QStringList names;
        for (const FeatureSchema &f : v->schema)
            names << f.name;
        QCOMPARE(names, (QStringList{QStringLiteral("signal"), QStringLiteral("noise"), QStringLiteral("colour")}));
        QCOMPARE(v->schema[0].type, QStringLiteral("float64"));
        QVERIFY(v->schema[0].min && v->schema[0].max && *v->schema[0].min < -2 && *v->schema[0].max > 2);
        QCOMPARE(v->schema[2].kind, QStringLiteral("categorical"));
        QCOMPARE(v->schema[2].categories.size(), 3);
        // The planted signal matters most.
        QCOMPARE(v->importance.front().feature, QStringLiteral("signal"));
        QVERIFY(v->importance.front().meanAbsShap > 5 * v->importance.back().meanAbsShap);
        // The card reads back as written, and the bundle verifies and loads.
        auto model = loadModel(*m_ws, QStringLiteral("retention"));
        QVERIFY2(model, qPrintable(model.message()));
        QCOMPARE(model->versions.size(), size_t(1));
        QCOMPARE(model->versions[0].cardJson(), v->cardJson());
        auto loaded = loadVersion(*m_ws, *v);
        QVERIFY2(loaded, qPrintable(loaded.message()));
        QCOMPARE(loaded->ctx.features(), (QStringList{QStringLiteral("signal"), QStringLiteral("noise"), QStringLiteral("colour")}));
        // Background: at most 200 training rows, input columns only.
        const QList<QByteArray> lines = loaded->backgroundCsv.trimmed().split('\n');
        QCOMPARE(lines.front(), QByteArray("signal,noise,colour"));
        QCOMPARE(lines.size(), 201);
        // One commit and one audit event.
        auto events = (*ts)->auditEvents(QStringLiteral("model:retention@v1"));
        QVERIFY(events);
        QCOMPARE(events->size(), size_t(1));
        QCOMPARE(events->front().action, QStringLiteral("models.register"));
        QCOMPARE(events->front().commit, m_ws->git().headCommit().value());

        auto second = registerRun(*m_ws, m_blind, QStringLiteral("retention"), QStringLiteral("without the signal"));
        QVERIFY2(second, qPrintable(second.message()));
        QCOMPARE(second->version, 2);
        // Refusals: unknown run, bad name.
        QVERIFY(!registerRun(*m_ws, QStringLiteral("nosuchrun"), QStringLiteral("retention"), {}));
        QVERIFY(registerRun(*m_ws, m_seeing, QStringLiteral("../evil"), {}).is(ErrorKind::InvalidInput));
    }

    void aliasesHistoryAndApproval()
    {
        auto moved = moveAlias(*m_ws, QStringLiteral("churn@v1"), QStringLiteral("champion"), QStringLiteral("launch"));
        QVERIFY2(moved, qPrintable(moved.message()));
        QVERIFY(moveAlias(*m_ws, QStringLiteral("churn@v1"), QStringLiteral("champion"), {}).is(ErrorKind::Conflict));
        QVERIFY(moveAlias(*m_ws, QStringLiteral("churn@v1"), QStringLiteral("v3"), {}).is(ErrorKind::InvalidInput));
        QVERIFY(moveAlias(*m_ws, QStringLiteral("churn@v9"), QStringLiteral("x"), {}).is(ErrorKind::NotFound));
        QCOMPARE(resolveVersion(*m_ws, QStringLiteral("churn@champion"))->version, 1);
        QCOMPARE(resolveVersion(*m_ws, QStringLiteral("churn"))->version, 2);

        // A policy that requires approval before champion moves.
        const QString settings = m_ws->root() + QStringLiteral("/keel.yaml");
        QByteArray yaml = *readFile(settings);
        QVERIFY(writeFileAtomic(settings, QByteArray(yaml + "registry:\n  require_approval: [champion]\n")));
        auto refused = moveAlias(*m_ws, QStringLiteral("churn@v2"), QStringLiteral("champion"), QStringLiteral("try"));
        QVERIFY(refused.is(ErrorKind::Conflict));
        QVERIFY(refused.message().contains(QStringLiteral("approv")));
        QVERIFY(!approveVersion(*m_ws, QStringLiteral("churn@v2"), QString()));   // an approval says what was reviewed
        QVERIFY(approveVersion(*m_ws, QStringLiteral("churn@v2"), QStringLiteral("fairness reviewed")));
        QCOMPARE(resolveVersion(*m_ws, QStringLiteral("churn@v2"))->approvals.size(), size_t(1));
        QTest::qWait(1100);   // commit times have whole seconds: the next move is later than the first
        auto second = moveAlias(*m_ws, QStringLiteral("churn@v2"), QStringLiteral("champion"), QStringLiteral("approved challenger"));
        QVERIFY2(second, qPrintable(second.message()));
        QVERIFY(writeFileAtomic(settings, yaml));
        QVERIFY(moveAlias(*m_ws, QStringLiteral("churn@v1"), QStringLiteral("challenger"), {}));
        QVERIFY(removeAlias(*m_ws, QStringLiteral("churn"), QStringLiteral("challenger"), QStringLiteral("retired")));

        auto history = aliasHistory(*m_ws, QStringLiteral("churn"));
        QVERIFY2(history, qPrintable(history.message()));
        QCOMPARE(history->size(), size_t(4));
        QCOMPARE((*history)[0].alias, QStringLiteral("champion"));
        QCOMPARE((*history)[0].from, 0);
        QCOMPARE((*history)[0].to, 1);
        QVERIFY((*history)[0].message.contains(QStringLiteral("launch")));
        QCOMPARE((*history)[1].from, 1);
        QCOMPARE((*history)[1].to, 2);
        QCOMPARE((*history)[3].alias, QStringLiteral("challenger"));
        QCOMPARE((*history)[3].to, 0);
        auto champion = aliasHistory(*m_ws, QStringLiteral("churn"), QStringLiteral("champion"));
        QCOMPARE(champion->size(), size_t(2));
        // "Who was champion then?"
        auto then = aliasesAt(*m_ws, QStringLiteral("churn"), (*history)[0].time);
        QVERIFY(then);
        QCOMPARE(then->value(QStringLiteral("champion")), 1);
        auto now = aliasesAt(*m_ws, QStringLiteral("churn"), QDateTime::currentDateTimeUtc());
        QCOMPARE(now->value(QStringLiteral("champion")), 2);
        QVERIFY(!now->contains(QStringLiteral("challenger")));
        auto before = aliasesAt(*m_ws, QStringLiteral("churn"), QDateTime(QDate(2000, 1, 1), QTime(0, 0), QTimeZone::utc()));
        QVERIFY(before && before->isEmpty());
        // Every move left an audit event.
        auto events = (*m_ws->tracking())->auditEvents(QStringLiteral("model:churn"));
        QVERIFY(events);
        QCOMPARE(std::count_if(events->begin(), events->end(), [](const tracking::AuditEvent &e) { return e.action == u"models.alias"; }),
                 4);
    }

    void bundlesRoundTripAndRefuseTampering()
    {
        const QString file = m_dir.filePath(QStringLiteral("churn-v1.keel"));
        QVERIFY(exportVersion(*m_ws, QStringLiteral("churn@v1"), file, false));
        QVERIFY(exportVersion(*m_ws, QStringLiteral("churn@v1"), file, false).is(ErrorKind::Conflict)
                || !exportVersion(*m_ws, QStringLiteral("churn@v1"), file, false));   // never over a file without --force
        auto other = workspace::Workspace::init(m_dir.filePath(QStringLiteral("other")));
        QVERIFY(other);
        auto imported = importBundle(**other, file, {}, QStringLiteral("from the lab"));
        QVERIFY2(imported, qPrintable(imported.message()));
        auto original = resolveVersion(*m_ws, QStringLiteral("churn@v1"));
        QCOMPARE(imported->ref(), QStringLiteral("churn@v1"));
        QCOMPARE(imported->runId, original->runId);
        QCOMPARE(imported->data.trainContentId, original->data.trainContentId);
        QCOMPARE(imported->metrics, original->metrics);
        QCOMPARE(imported->importedFrom.value(QStringLiteral("version")).toInt(), 1);
        // The imported model predicts what the original predicts.
        auto a = loadVersion(*m_ws, *original);
        auto b = loadVersion(**other, *resolveVersion(**other, QStringLiteral("churn@v1")));
        QVERIFY(a && b);
        QCOMPARE(a->modelBytes, b->modelBytes);

        // A changed member is refused, naming it; so is a changed manifest and a truncated file.
        auto bytes = readFile(file);
        QVERIFY(bytes);
        auto bundle = readBundle(*bytes, file);
        QVERIFY2(bundle, qPrintable(bundle.message()));
        BundleMembers members = bundle->members;
        QByteArray recipe = members[QStringLiteral("recipe.json")];
        recipe.replace("\"signal\"", "\"sigma1\"");
        members[QStringLiteral("recipe.json")] = recipe;
        auto honest = writeBundle(members);   // a fresh manifest: consistent, but another bundle
        QVERIFY(honest);
        // Swap the manifest back to the original one: the recipe no longer matches it.
        QByteArray tampered = *honest;
        const QByteArray newManifest = readBundle(*honest, QStringLiteral("x"))->manifestBytes;
        QCOMPARE(newManifest.size(), bundle->manifestBytes.size());
        tampered.replace(newManifest, bundle->manifestBytes);
        auto refused = readBundle(tampered, QStringLiteral("tampered.keel"));
        QVERIFY(!refused);
        QVERIFY(refused.is(ErrorKind::Corrupt));
        QCOMPARE(refused.error().field, QStringLiteral("recipe.json"));
        QVERIFY(!readBundle(bytes->left(bytes->size() / 2), QStringLiteral("half.keel")));
        QVERIFY(!readBundle(QByteArray("not a tar file at all"), QStringLiteral("junk")));
        const QString tamperedFile = m_dir.filePath(QStringLiteral("tampered.keel"));
        QVERIFY(writeFileAtomic(tamperedFile, tampered));
        auto before = listModels(**other);
        QVERIFY(importBundle(**other, tamperedFile, QStringLiteral("evil"), {}).is(ErrorKind::Corrupt));
        QCOMPARE(*listModels(**other), *before);   // nothing registered

        // Signed bundles: the key's holder, and nobody else.
        auto key = createSigningKey();
        auto stranger = createSigningKey();
        QVERIFY(key && stranger);
        const QString signedFile = m_dir.filePath(QStringLiteral("signed.keel"));
        QVERIFY(exportVersion(*m_ws, QStringLiteral("churn@v2"), signedFile, false, key->privatePem));
        QVERIFY(importBundle(**other, signedFile, {}, {}, key->publicPem));
        QVERIFY(importBundle(**other, signedFile, {}, {}, stranger->publicPem).is(ErrorKind::Corrupt));
        QVERIFY(!importBundle(**other, file, {}, {}, key->publicPem));   // unsigned, but a signature is required
    }

    void gcKeepsRegisteredBundles()
    {
        auto v = resolveVersion(*m_ws, QStringLiteral("churn@v1"));
        QVERIFY(v);
        auto live = workspace::liveObjects(*m_ws);
        QVERIFY(live);
        QVERIFY(live->registryObjects.contains(v->bundle));
        auto gc = workspace::collectGarbage(*m_ws);
        QVERIFY2(gc, qPrintable(gc.message()));
        QVERIFY(loadVersion(*m_ws, *v));
        auto check = workspace::checkStore(*m_ws);
        QVERIFY(check && check->ok());
    }

    void pushAndCloneCarryBundles()
    {
        const QString remote = m_dir.filePath(QStringLiteral("remote"));
        if (!QFileInfo::exists(remote))
            QVERIFY(m_ws->addRemote(QStringLiteral("origin"), remote));
        QVERIFY(workspace::pushWorkspace(*m_ws, QStringLiteral("origin")));
        const QString dir = m_dir.filePath(QStringLiteral("clone-%1").arg(QDateTime::currentMSecsSinceEpoch()));
        auto clone = workspace::cloneWorkspace(remote, dir);
        QVERIFY2(clone, qPrintable(clone.message()));
        auto v = resolveVersion(**clone, QStringLiteral("churn@v1"));
        QVERIFY2(v, qPrintable(v.message()));
        auto loaded = loadVersion(**clone, *v);   // the bundle came along, and verifies
        QVERIFY2(loaded, qPrintable(loaded.message()));
        QCOMPARE(loaded->modelBytes, loadVersion(*m_ws, *v)->modelBytes);
    }

    void compareSeesThePlantedSignal()
    {
        CompareRequest request;
        request.a = QStringLiteral("churn@v2");   // blind
        request.b = QStringLiteral("churn@v1");   // sees the signal
        request.bootstrap = 300;
        auto c = compareVersions(*m_ws, request);
        QVERIFY2(c, qPrintable(c.message()));
        QCOMPARE(c->rows, qint64(750));           // the test quarter of 3,000 rows
        // Point metrics against ml::metrics on the same predictions.
        auto la = loadVersion(*m_ws, c->a), lb = loadVersion(*m_ws, c->b);
        QVERIFY(la && lb);
        auto version = workspace::resolveDataset(*m_ws, c->data);
        auto table = workspace::loadDataset(*m_ws, *version);
        std::vector<qint64> rows;
        for (const QJsonValue &r : lb->split.value(QStringLiteral("test")).toArray())
            rows.push_back(r.toInteger() - 1);
        auto sub = data::selectRows(*table, rows);
        auto y = lb->ctx.target(*sub);
        auto pb = lb->ctx.predict(*sub);
        QVERIFY(y && pb);
        for (const MetricComparison &m : c->metrics) {
            if (m.metric == u"roc_auc")
                QVERIFY(std::abs(m.b - ml::rocAuc(y->values, *pb)) < 1e-12);
            if (m.metric == u"log_loss")
                QVERIFY(std::abs(m.b - ml::logLoss(y->values, *pb, 2)) < 1e-9);
            QVERIFY(m.aLow <= m.a && m.a <= m.aHigh);
            QVERIFY(m.diffLow <= m.diff && m.diff <= m.diffHigh);
        }
        // B sees the signal: better AUC, significantly.
        const MetricComparison *auc = nullptr;
        for (const MetricComparison &m : c->metrics)
            if (m.metric == u"roc_auc")
                auc = &m;
        QVERIFY(auc && auc->diff > 0.2 && auc->diffLow > 0);
        bool delong = false;
        for (const PairedTestOutcome &t : c->tests) {
            QVERIFY2(t.pvalue < 1e-6, qPrintable(t.sentence));
            delong = delong || t.test == u"DeLong";
        }
        QVERIFY(delong);
        QVERIFY(c->changed > 0);
        QCOMPARE(c->importanceMovers.front().feature, QStringLiteral("signal"));   // rank 1 in B, unused in A
        bool recipeDiffers = false;
        for (const LineageChange &l : c->lineage)
            recipeDiffers = recipeDiffers || l.what == u"recipe.exclude";
        QVERIFY(recipeDiffers);

        // A version against itself: nothing differs, nothing is significant.
        request.a = request.b = QStringLiteral("churn@v1");
        auto same = compareVersions(*m_ws, request);
        QVERIFY(same);
        QCOMPARE(same->changed, qint64(0));
        for (const MetricComparison &m : same->metrics)
            QCOMPARE(m.diff, 0.0);
        for (const PairedTestOutcome &t : same->tests)
            if (t.test == u"McNemar" || t.test == u"DeLong")
                QCOMPARE(t.pvalue, 1.0);
    }
};

QTEST_GUILESS_MAIN(TestRegistry)
#include "tst_registry.moc"
