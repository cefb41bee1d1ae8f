// What a run exports is usable outside Keel: Python xgboost loads the model from `keel runs get`, reads the encoded
// matrix from `keel predict --features-only` by the model's own feature names, and with its default Booster.predict
// and pred_contribs gives Keel's predictions and contributions. Skipped (with the reason) when /usr/bin/python3 has
// no xgboost module (packaging/install-deps.sh installs python3-xgboost).
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "clitest.h"

using namespace clitest;

namespace {

QString S(const char *s) { return QString::fromUtf8(s); }

const char *kPython = "/usr/bin/python3";

/// Compares an exported model with Keel's outputs; prints one JSON line of the largest differences.
const char *kScript = R"PY(
import json, sys
import numpy as np
import xgboost as xgb

model_path, features_path, predictions_path, explained_path = sys.argv[1:5]
booster = xgb.Booster(model_file=model_path)
with open(features_path) as f:
    header = f.readline().strip().split(',')
names = header[1:]
x = np.genfromtxt(features_path, delimiter=',', skip_header=1, dtype=np.float64, missing_values='', filling_values=np.nan)
x = np.atleast_2d(x)[:, 1:]
d = xgb.DMatrix(x.astype(np.float32), feature_names=names, missing=np.nan)
p = booster.predict(d)                                   # the default: every tree in the file
contribs = booster.predict(d, pred_contribs=True)

def read_csv(path):
    with open(path) as f:
        cols = f.readline().strip().split(',')
        rows = [line.rstrip('\n').split(',') for line in f if line.strip()]
    return cols, rows

pcols, prows = read_csv(predictions_path)
probs = [i for i, c in enumerate(pcols) if c.startswith('p_')]
if probs:
    keel = np.array([[float(r[i]) for i in probs] for r in prows])
    if keel.shape[1] == 2:
        keel = keel[:, 1]
else:
    keel = np.array([float(r[pcols.index('predicted')]) for r in prows])
pred_diff = float(np.max(np.abs(np.asarray(p).reshape(keel.shape) - keel)))

ecols, erows = read_csv(explained_path)
multi = 'shap_class' in ecols
classes = [c[2:] for c in pcols if c.startswith('p_')]
worst_contrib = 0.0
worst_base = 0.0
for r, row in enumerate(erows):
    k = classes.index(row[ecols.index('shap_class')]) if multi else 0
    c = contribs[r, k] if multi else contribs[r]
    worst_base = max(worst_base, abs(float(c[-1]) - float(row[ecols.index('shap_base')])))
    for j, col in enumerate(ecols):
        if not col.startswith('shap_') or col in ('shap_base', 'shap_class'):
            continue
        feature = col[5:]
        # the recipe's design columns of a feature: itself, one-hot 'feature=category', 'feature.missing', date parts
        idx = [i for i, n in enumerate(names) if n == feature or n.startswith(feature + '=') or n.startswith(feature + '.')]
        worst_contrib = max(worst_contrib, abs(float(np.sum(c[idx])) - float(row[j])))
scale = max(1.0, float(np.max(np.abs(np.sum(contribs, axis=-1)))))   # the largest margin, for relative differences
pscale = max(1.0, float(np.max(np.abs(keel))))
print(json.dumps({'names_match': booster.feature_names == names, 'rounds': booster.num_boosted_rounds(),
                  'prediction': pred_diff / pscale, 'contribution': worst_contrib / scale, 'base': worst_base / scale,
                  'rows': len(prows)}))
)PY";

} // namespace

class TstInterop : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void pythonXgboostReadsWhatKeelExports_data();
    void pythonXgboostReadsWhatKeelExports();

private:
    QTemporaryDir m_dir;
    QString m_ws;
};

void TstInterop::initTestCase()
{
    QProcess probe;
    probe.start(QString::fromLatin1(kPython), {S("-c"), S("import xgboost, numpy")});
    if (!probe.waitForFinished(60000) || probe.exitCode() != 0)
        QSKIP("/usr/bin/python3 has no xgboost module (install python3-xgboost: packaging/install-deps.sh does)");
    m_ws = m_dir.filePath(S("ws"));
    RUN_OK(keel({S("init"), m_ws}, m_dir.path()));
    const QString data = S(KEEL_TEST_DATA_DIR "/multiclass/");
    RUN_OK(keel({S("data"), S("add"), example("adult_train.csv"), S("--name"), S("adult_train")}, m_ws));
    RUN_OK(keel({S("data"), S("add"), example("adult_test.csv"), S("--name"), S("adult_test")}, m_ws));
    RUN_OK(keel({S("data"), S("add"), example("diamonds.csv"), S("--name"), S("diamonds")}, m_ws));
    RUN_OK(keel({S("data"), S("add"), data + S("vowel.csv"), S("--name"), S("vowel")}, m_ws));
}

void TstInterop::pythonXgboostReadsWhatKeelExports_data()
{
    QTest::addColumn<QByteArray>("config");
    QTest::newRow("binary, early stopping, one-hot") << QByteArray(
        "data: adult_train\nevaluate: adult_test\ntarget: class\ntask: binary\n"
        "label_map: {\">50K.\": \">50K\", \"<=50K.\": \"<=50K\"}\nrecipe: {exclude: [fnlwgt], defaults: {max_categories: 20}}\n"
        "split: {kind: holdout, validation_fraction: 0.1, seed: 3}\nlearner: gbdt\n"
        "params: {n_estimators: 400, learning_rate: 0.3, max_depth: 5, early_stopping_rounds: 5}\n");
    QTest::newRow("multiclass, 11 classes differing in case") << QByteArray(
        "data: vowel\ntarget: Class\nrecipe: {exclude: [V1]}\n"
        "split: {kind: holdout, test_fraction: 0.3, validation_fraction: 0.2, seed: 3}\nlearner: gbdt\n"
        "params: {n_estimators: 200, learning_rate: 0.3, max_depth: 4, early_stopping_rounds: 5}\n");
    QTest::newRow("regression") << QByteArray(
        "data: diamonds\ntarget: price\n"
        "split: {kind: holdout, test_fraction: 0.1, validation_fraction: 0.1, seed: 3}\nlearner: gbdt\n"
        "params: {n_estimators: 60, max_depth: 6}\n");
}

void TstInterop::pythonXgboostReadsWhatKeelExports()
{
    QFETCH(QByteArray, config);
    writeFile(m_ws + S("/run.yaml"), config);
    const Result trained = keel({S("--json"), S("train"), S("run.yaml")}, m_ws);
    QVERIFY2(trained.code == 0, trained.err.constData());
    const QString run = QJsonDocument::fromJson(trained.out).object().value(S("run")).toString();
    const QString model = m_dir.filePath(S("model.json")), features = m_dir.filePath(S("features.csv"));
    const QString predictions = m_dir.filePath(S("predictions.csv")), explained = m_dir.filePath(S("explained.csv"));
    RUN_OK(keel({S("runs"), S("get"), run, S("model"), S("-o"), model, S("--force")}, m_ws));
    RUN_OK(keel({S("runs"), S("get"), run, S("predictions"), S("-o"), predictions, S("--force")}, m_ws));
    RUN_OK(keel({S("predict"), run, S("--rows"), S("test"), S("--features-only"), S("-o"), features, S("--force")}, m_ws));
    RUN_OK(keel({S("predict"), run, S("--rows"), S("test"), S("--explain"), S("-o"), explained, S("--force")}, m_ws));
    // The batch job's output on the test rows is the run's predictions artifact, byte for byte.
    const Result again = keel({S("predict"), run, S("--rows"), S("test")}, m_ws);
    QCOMPARE(again.code, 0);
    QFile art(predictions);
    QVERIFY(art.open(QIODevice::ReadOnly));
    QVERIFY(again.out == art.readAll());

    // The registry's bundle carries the same model: register the run, export the bundle, and let Python read the
    // model member out of the tar file; that member is what Python xgboost loads below.
    const QString name = S("interop%1").arg(QString::number(qHash(QByteArray(QTest::currentDataTag()))));
    RUN_OK(keel({S("models"), S("register"), run, S("--name"), name}, m_ws));
    const QString bundle = m_dir.filePath(S("model.keel")), member = m_dir.filePath(S("bundle-model.json"));
    RUN_OK(keel({S("models"), S("export"), name, S("-o"), bundle, S("--force")}, m_ws));
    QProcess extract;
    extract.start(QString::fromLatin1(kPython),
                  {S("-c"), S("import sys, tarfile; open(sys.argv[2], 'wb').write(tarfile.open(sys.argv[1]).extractfile('keel-bundle/model').read())"),
                   bundle, member});
    QVERIFY(extract.waitForFinished(60000));
    QVERIFY2(extract.exitCode() == 0, extract.readAllStandardError().constData());
    QFile exported(model), fromBundle(member);
    QVERIFY(exported.open(QIODevice::ReadOnly) && fromBundle.open(QIODevice::ReadOnly));
    QVERIFY(exported.readAll() == fromBundle.readAll());

    const QString script = m_dir.filePath(S("compare.py"));
    writeFile(script, kScript);
    QProcess py;
    py.start(QString::fromLatin1(kPython), {script, member, features, predictions, explained});
    QVERIFY(py.waitForFinished(300000));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    const QJsonObject r = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
    qInfo("%s", QJsonDocument(r).toJson(QJsonDocument::Compact).constData());
    QVERIFY(r.value(S("names_match")).toBool());   // feature_names are the encoded column names
    QVERIFY(r.value(S("rows")).toInt() > 50);
    // Differences relative to the largest value (1 for probabilities and log-odds of a few units).
    // Booster.predict's default uses every tree in the file: after early stopping the file ends at the best round.
    QVERIFY2(r.value(S("prediction")).toDouble() < 1e-6, qPrintable(QString::number(r.value(S("prediction")).toDouble())));
    // pred_contribs sums in float32 over every tree (Keel's TreeSHAP sums in double): agreement to float precision.
    QVERIFY2(r.value(S("base")).toDouble() < 1e-6, qPrintable(QString::number(r.value(S("base")).toDouble())));
    QVERIFY2(r.value(S("contribution")).toDouble() < 1e-5, qPrintable(QString::number(r.value(S("contribution")).toDouble())));
}

QTEST_GUILESS_MAIN(TstInterop)
#include "tst_interop.moc"
