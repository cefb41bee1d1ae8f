// keel serve end to end, in process on a loopback port: the adult GBDT and logistic models registered and deployed
// with the real runner, then scored over HTTP. Checks that HTTP answers exactly what batch scoring (keel predict)
// answers on the same rows, that bad requests get a 4xx naming the field and never bring the server down (a fuzz
// loop of mutated bodies), feedback and shadow outputs land in the prediction log joined by id, a torn log tail is
// cut on reopen, a deploy is picked up live, admin calls need the token, and /metrics counts what happened (and
// passes promtool when it is installed).
#include "../cli/clitest.h"

#include "data/table.h"
#include "deploy/deployment.h"
#include "serve/decision.h"
#include "serve/predictionlog.h"
#include "serve/scoring.h"
#include "serve/server.h"
#include "workspace/datasets.h"
#include "util/fileutil.h"
#include "workspace/workspace.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>

using namespace clitest;
namespace data = keel::data;
namespace serve = keel::serve;
namespace workspace = keel::workspace;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }

struct Reply {
    int status = 0;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};
} // namespace

class TstServe : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_ws;
    std::unique_ptr<serve::Server> m_server;
    QNetworkAccessManager m_net;
    QJsonArray m_records;          ///< the first 300 rows of adult_test as JSON records
    std::vector<double> m_batchP;  ///< P(>50K) of those rows from keel predict's batch scoring
    int m_badRequests = 0;
    int m_unseen = 0;              ///< unseen categories the 200 responses reported (send() adds them up)

    Reply send(const QString &path, const QByteArray &body = {}, const QByteArray &token = {}, bool post = true)
    {
        QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_server->port()).arg(path)));
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
        if (!token.isEmpty())
            req.setRawHeader("Authorization", "Bearer " + token);
        QNetworkReply *reply = post ? m_net.post(req, body) : m_net.get(req);
        QEventLoop loop;
        connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        Reply r{reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll()};
        reply->deleteLater();
        if (r.status == 200)
            m_unseen += r.json().value(S("unseen_categories")).toInt();
        return r;
    }
    Reply predict(const QJsonArray &records)
    {
        return send(S("/v1/deployments/credit/predict"), QJsonDocument(QJsonObject{{S("records"), records}}).toJson(QJsonDocument::Compact));
    }
    void expectBad(const QByteArray &body, int status, const QString &field)
    {
        const Reply r = send(S("/v1/deployments/credit/predict"), body);
        ++m_badRequests;
        QVERIFY2(r.status == status, qPrintable(QStringLiteral("%1 for %2: %3").arg(r.status).arg(QString::fromUtf8(body.left(80)), QString::fromUtf8(r.body))));
        QCOMPARE(r.json().value(S("field")).toString(), field);
        QVERIFY(!r.json().value(S("error")).toString().isEmpty());
    }

private slots:
    void initTestCase()
    {
        m_ws = m_dir.filePath(S("ws"));
        RUN_OK(clitest::keel({S("init"), S("--example"), m_ws}, m_dir.path()));
        const QString gbdt = keelJson({S("train"), S("configs/adult-gbdt.yaml")}, m_ws).object().value(S("run")).toString();
        const QString logistic = keelJson({S("train"), S("configs/adult-logistic.yaml")}, m_ws).object().value(S("run")).toString();
        QVERIFY(!gbdt.isEmpty() && !logistic.isEmpty());
        RUN_OK(clitest::keel({S("models"), S("register"), gbdt, S("--name"), S("credit")}, m_ws));
        RUN_OK(clitest::keel({S("models"), S("register"), logistic, S("--name"), S("credit")}, m_ws));
        RUN_OK(clitest::keel({S("deploy"), S("credit"), S("--model"), S("credit@v1"), S("-m"), S("serve the boosted trees")}, m_ws));

        // The records, typed by the model's input schema, and batch scoring of the same rows (keel predict's core).
        auto ws = workspace::Workspace::open(m_ws);
        QVERIFY(ws);
        auto version = workspace::resolveDataset(**ws, S("adult_test@v1"));
        QVERIFY(version);
        auto table = workspace::loadDataset(**ws, *version);
        QVERIFY(table);
        const QJsonArray schema = keelJson({S("models"), S("show"), S("credit@v1")}, m_ws).object().value(S("schema")).toArray();
        QVERIFY(schema.size() > 5);
        for (qint64 r = 0; r < 300; ++r) {
            QJsonObject rec;
            for (const QJsonValue &f : schema) {
                const QString name = f.toObject().value(S("name")).toString();
                const data::Column &c = table->column(table->indexOf(name));
                if (c.isNull(r))
                    rec.insert(name, QJsonValue::Null);
                else if (data::isNumericType(c.type()))
                    rec.insert(name, c.numberAt(r));
                else
                    rec.insert(name, c.displayAt(r));
            }
            m_records.append(rec);
        }
        serve::BatchRequest batch;
        batch.run = gbdt;
        batch.data = S("adult_test@v1");
        for (qint64 r = 1; r <= 300; ++r)
            batch.rows.push_back(r);
        auto scored = serve::predictBatch(**ws, batch);
        QVERIFY2(scored, qPrintable(scored.message()));
        const QList<QByteArray> lines = scored->csv.trimmed().split('\n');
        const qsizetype column = lines.front().split(',').indexOf("p_>50K");
        QVERIFY(column >= 0);
        for (qsizetype i = 1; i < lines.size(); ++i)
            m_batchP.push_back(lines[i].split(',')[column].toDouble());
        QCOMPARE(m_batchP.size(), size_t(300));
        ws->reset();

        serve::ServerOptions options;
        options.root = m_ws;
        options.port = 0;
        options.flushMs = 50;
        options.maxBodyBytes = 1 << 20;
        options.maxRecords = 500;
        auto server = serve::Server::start(options);
        QVERIFY2(server, qPrintable(server.message()));
        m_server = std::move(*server);
        QVERIFY(m_server->port() > 0);
    }

    void answersWhatBatchScoringAnswers()
    {
        // The boosted trees are served by the compiled evaluator (it matched XGBoost on the bundle's sample at load):
        // the comparison below checks it against XGBoost's batch scoring on 300 more rows.
        const QJsonArray served = send(S("/v1/deployments"), {}, {}, false).json().value(S("deployments")).toArray();
        QCOMPARE(served[0].toObject().value(S("scoring")).toString(), S("compiled trees"));
        // One request with 300 records, and 20 requests of one record: the same numbers as keel predict, exactly.
        const Reply all = predict(m_records);
        QCOMPARE(all.status, 200);
        const QJsonArray predictions = all.json().value(S("predictions")).toArray();
        QCOMPARE(predictions.size(), 300);
        QSet<QString> ids;
        for (qsizetype i = 0; i < predictions.size(); ++i) {
            const QJsonObject p = predictions[i].toObject();
            QCOMPARE(p.value(S("probabilities")).toObject().value(S(">50K")).toDouble(), m_batchP[size_t(i)]);
            QCOMPARE(p.value(S("label")).toString(), m_batchP[size_t(i)] >= 0.5 ? S(">50K") : S("<=50K"));
            QCOMPARE(p.value(S("model")).toString(), S("credit@v1"));
            ids.insert(p.value(S("id")).toString());
        }
        QCOMPARE(ids.size(), 300);
        for (int i = 0; i < 20; ++i) {
            const Reply one = predict(QJsonArray{m_records[i * 7]});
            QCOMPARE(one.status, 200);
            QCOMPARE(one.json().value(S("predictions")).toArray()[0].toObject().value(S("probabilities")).toObject().value(S(">50K")).toDouble(),
                     m_batchP[size_t(i * 7)]);
        }
        // Explain: base value plus contributions is the log-odds of the probability served.
        const Reply e = send(S("/v1/deployments/credit/explain"), QJsonDocument(QJsonObject{{S("records"), QJsonArray{m_records[3]}}}).toJson());
        QCOMPARE(e.status, 200);
        const QJsonObject p = e.json().value(S("predictions")).toArray()[0].toObject();
        double margin = p.value(S("base_value")).toDouble();
        for (const QJsonValue &v : p.value(S("contributions")).toObject())
            margin += v.toDouble();
        const double prob = p.value(S("probabilities")).toObject().value(S(">50K")).toDouble();
        QVERIFY2(std::abs(1.0 / (1.0 + std::exp(-margin)) - prob) < 1e-5, qPrintable(QString::number(margin)));
        QCOMPARE(p.value(S("explained")).toString(), S("log-odds of >50K"));
    }

    void badRequestsNameTheField()
    {
        QJsonObject rec = m_records[0].toObject();
        auto body = [](const QJsonObject &r) { return QJsonDocument(QJsonObject{{S("records"), QJsonArray{r}}}).toJson(QJsonDocument::Compact); };
        expectBad("{\"records\": [", 400, QString());
        expectBad("[1, 2]", 400, QString());
        expectBad("{\"rows\": []}", 400, S("rows"));
        expectBad("{\"records\": []}", 400, S("records"));
        expectBad("{\"records\": [5]}", 400, S("records[0]"));
        QJsonObject missing = rec;
        missing.remove(S("age"));
        expectBad(body(missing), 400, S("records[0].age"));
        QJsonObject extra = rec;
        extra.insert(S("fnlwgt"), 1);
        expectBad(body(extra), 400, S("records[0].fnlwgt"));
        QJsonObject wrongType = rec;
        wrongType.insert(S("age"), S("forty"));
        expectBad(body(wrongType), 400, S("records[0].age"));
        QJsonObject fraction = rec;
        fraction.insert(S("age"), 39.5);
        expectBad(body(fraction), 400, S("records[0].age"));
        QJsonObject notText = rec;
        notText.insert(S("sex"), 1);
        expectBad(body(notText), 400, S("records[0].sex"));
        expectBad("{\"records\": [{\"age\": NaN}]}", 400, QString());   // JSON has no NaN
        QJsonArray many;
        for (int i = 0; i < 501; ++i)
            many.append(rec);
        expectBad(QJsonDocument(QJsonObject{{S("records"), many}}).toJson(QJsonDocument::Compact), 413, S("records"));
        expectBad(QByteArray(2 << 20, ' '), 413, QString());
        // A missing value (null) and an unseen category are scored, and the category is counted.
        QJsonObject unusual = rec;
        unusual.insert(S("workclass"), QJsonValue::Null);
        unusual.insert(S("native_country"), S("Atlantis"));
        const Reply ok = predict(QJsonArray{unusual});
        QCOMPARE(ok.status, 200);
        QCOMPARE(ok.json().value(S("unseen_categories")).toInt(), 1);
        QCOMPARE(send(S("/v1/deployments/nosuch/predict"), body(rec)).status, 404);
    }

    void fuzzedBodiesNeverBreakTheServer()
    {
        const QByteArray valid = QJsonDocument(QJsonObject{{S("records"), QJsonArray{m_records[0], m_records[1]}}}).toJson(QJsonDocument::Compact);
        QRandomGenerator rng(20261201);
        QMap<int, int> statuses;
        for (int i = 0; i < 400; ++i) {
            QByteArray b = valid;
            const int edits = 1 + int(rng.bounded(6));
            for (int e = 0; e < edits; ++e) {
                const int at = int(rng.bounded(b.size()));
                switch (rng.bounded(4)) {
                case 0: b[at] = char(rng.bounded(256)); break;
                case 1: b.remove(at, 1 + int(rng.bounded(8))); break;
                case 2: b.insert(at, "{[\"\\:,0e999"[rng.bounded(11)]); break;
                default: b.truncate(at); break;
                }
                if (b.isEmpty())
                    b = "{";
            }
            const Reply r = send(S("/v1/deployments/credit/predict"), b);
            ++statuses[r.status];
            QVERIFY2(r.status == 200 || r.status == 400 || r.status == 413, qPrintable(QString::number(r.status) + QString::fromUtf8(b)));
            if (r.status != 200)
                ++m_badRequests;
        }
        QVERIFY2(statuses.value(400) > 100, qPrintable(QString::number(statuses.value(400))));
        QCOMPARE(predict(QJsonArray{m_records[0]}).status, 200);
    }

    void feedbackAndShadowAreLogged()
    {
        // Deploy the logistic model as shadow (from the core, as any door would): the server switches live.
        QSignalSpy switched(m_server.get(), &serve::Server::deploymentChanged);
        RUN_OK(clitest::keel({S("deploy"), S("credit"), S("--model"), S("credit@v1"), S("--shadow"), S("credit@v2")}, m_ws));
        QVERIFY(switched.wait(5000));
        QCOMPARE(switched.last().at(1).toInt(), 2);
        const Reply r = predict(QJsonArray{m_records[10], m_records[11]});
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value(S("revision")).toInt(), 2);
        const QString id = r.json().value(S("predictions")).toArray()[0].toObject().value(S("id")).toString();
        const Reply fb = send(S("/v1/deployments/credit/feedback"),
                              QJsonDocument(QJsonObject{{S("prediction_id"), id}, {S("label"), S(">50K")}}).toJson());
        QCOMPARE(fb.status, 202);
        QCOMPARE(send(S("/v1/deployments/credit/feedback"), QJsonDocument(QJsonObject{{S("prediction_id"), id}, {S("label"), S(">50k")}}).toJson()).status, 400);
        QTest::qWait(100);   // the shadow is scored after the response
        QVERIFY(m_server->flushLogs());
        auto log = serve::readPredictionLog(serve::predictionLogDir(m_ws, S("credit")));
        QVERIFY2(log, qPrintable(log.message()));
        const serve::LoggedPrediction *found = nullptr;
        for (const serve::LoggedPrediction &p : *log)
            if (p.prediction.value(S("id")).toString() == id)
                found = &p;
        QVERIFY(found);
        QCOMPARE(found->feedback.value(S("label")).toString(), S(">50K"));
        QCOMPARE(found->shadow.value(S("version")).toString(), S("credit@v2"));
        QCOMPARE(found->prediction.value(S("inputs")).toObject(), m_records[10].toObject());
        QVERIFY(log->size() >= 320);
    }

    void tornTailIsCut()
    {
        const QString dir = m_dir.filePath(S("log"));
        {
            auto log = serve::PredictionLog::open(dir);
            QVERIFY(log);
            for (int i = 0; i < 5; ++i)
                (*log)->append(QJsonObject{{S("id"), QString::number(i)}, {S("time"), S("2026-12-01T00:00:00Z")}});
            QVERIFY((*log)->flush());
        }
        QFile f(dir + S("/predictions-000001.jsonl"));
        QVERIFY(f.open(QIODevice::Append));
        f.write("{\"id\": \"5\", \"ti");   // a kill in the middle of a write
        f.close();
        auto reopened = serve::PredictionLog::open(dir);
        QVERIFY(reopened);
        QCOMPARE((*reopened)->repairedBytes(), qint64(15));
        (*reopened)->append(QJsonObject{{S("id"), S("6")}, {S("time"), S("2026-12-01T00:00:01Z")}});
        QVERIFY((*reopened)->flush());
        auto read = serve::readPredictionLog(dir);
        QVERIFY2(read, qPrintable(read.message()));
        QCOMPARE(read->size(), size_t(6));
        QCOMPARE(read->back().prediction.value(S("id")).toString(), S("6"));
    }

    void killedServerKeepsFlushedRecords()
    {
        // A real `keel serve` process (flush every 50 ms) scores 30 records, waits past a flush, and is killed with
        // SIGKILL: the log holds all 30, readable without a torn line; then 1 more record and an immediate kill
        // loses at most that one.
        const QString dir = serve::predictionLogDir(m_ws, S("credit"));
        const size_t before = serve::readPredictionLog(dir)->size();
        QProcess p;
        p.setWorkingDirectory(m_ws);
        p.start(S(KEEL_BINARY), {S("serve"), S("--port"), S("0"), S("--flush-ms"), S("50")});
        QVERIFY(p.waitForStarted());
        QVERIFY(p.waitForReadyRead(30000));
        const QString url = QString::fromUtf8(p.readLine()).section(S(" on "), 1).section(QLatin1Char(' '), 0, 0);
        QVERIFY2(url.startsWith(S("http://")), qPrintable(url));
        auto postTo = [&](const QJsonArray &records) {
            QNetworkRequest req{QUrl(url + S("/v1/deployments/credit/predict"))};
            req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            QNetworkReply *reply = m_net.post(req, QJsonDocument(QJsonObject{{S("records"), records}}).toJson());
            QEventLoop loop;
            connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
            loop.exec();
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            reply->deleteLater();
            return status;
        };
        for (int i = 0; i < 30; ++i)
            QCOMPARE(postTo(QJsonArray{m_records[i]}), 200);
        QTest::qWait(400);
        p.kill();
        QVERIFY(p.waitForFinished());
        auto after = serve::readPredictionLog(dir);
        QVERIFY2(after, qPrintable(after.message()));
        QCOMPARE(after->size(), before + 30);
        // Reopening (as the next server start does) cuts nothing from a log a kill left clean.
        auto reopened = serve::PredictionLog::open(dir);
        QVERIFY(reopened);
        QCOMPARE((*reopened)->repairedBytes(), qint64(0));
    }

    void adminNeedsTheToken()
    {
        const Reply denied = send(S("/v1/deployments/credit/rollback"), "{}");
        QCOMPARE(denied.status, 401);
        QCOMPARE(send(S("/v1/deployments/credit/rollback"), "{}", "not-a-token").status, 401);
        QCOMPARE(send(S("/v1/deployments"), {}, {}, false).json().value(S("deployments")).toArray()[0].toObject().value(S("revision")).toInt(), 2);
        auto token = serve::createAdminToken(m_ws);
        QVERIFY(token);
        QVERIFY(!QFile(m_ws + S("/.keel/serve/tokens")).open(QIODevice::ReadOnly) || !keel::readFile(m_ws + S("/.keel/serve/tokens"))->contains(token->toUtf8()));
        const Reply back = send(S("/v1/deployments/credit/rollback"), "{\"message\": \"shadow off\"}", token->toUtf8());
        QCOMPARE(back.status, 200);
        QCOMPARE(back.json().value(S("revision")).toInt(), 3);
        const Reply r = predict(QJsonArray{m_records[0]});
        QCOMPARE(r.json().value(S("revision")).toInt(), 3);
        // A deploy through the admin call runs the gates: the logistic model is worse and is refused (409).
        const Reply refused = send(S("/v1/deployments/credit/deploy"), "{\"model\": \"credit@v2\"}", token->toUtf8());
        QCOMPARE(refused.status, 409);
        QVERIFY(!refused.json().value(S("switched")).toBool());
    }

    void metricsCountWhatHappened()
    {
        const Reply m = send(S("/metrics"), {}, {}, false);
        QCOMPARE(m.status, 200);
        const QString text = QString::fromUtf8(m.body);
        qint64 bad = 0;
        for (const QString &line : text.split(QLatin1Char('\n')))
            if (line.startsWith(S("keel_requests_total{")) && (line.contains(S("status=\"400\"")) || line.contains(S("status=\"413\""))))
                bad += line.section(QLatin1Char(' '), -1).toLongLong();
        QCOMPARE(bad, qint64(m_badRequests));
        QVERIFY(text.contains(S("keel_shadow_comparisons_total{deployment=\"credit\"} 2")));
        QVERIFY(text.contains(S("keel_feedback_total{deployment=\"credit\"} 1")));
        QVERIFY2(text.contains(S("keel_unseen_categories_total{deployment=\"credit\"} %1").arg(m_unseen)), qPrintable(QString::number(m_unseen) + text.section(S("keel_unseen_categories_total{"), 1, 1).left(40)));
        // The workbench reads the page back through the core's parser.
        const auto parsed = serve::parseMetricsText(m.body);
        QVERIFY(parsed.contains(S("credit")));
        QCOMPARE(parsed[S("credit")].errors, qint64(m_badRequests));
        QCOMPARE(parsed[S("credit")].feedback, qint64(1));
        QCOMPARE(parsed[S("credit")].revision, 3);
        QCOMPARE(parsed[S("credit")].version, S("credit@v1"));
        QVERIFY(parsed[S("credit")].requests > qint64(m_badRequests) + 20);
        QVERIFY(parsed[S("credit")].latencySum > 0);
        QCOMPARE(send(S("/healthz"), {}, {}, false).status, 200);
        QCOMPARE(send(S("/readyz"), {}, {}, false).status, 200);
        const QString promtool = QStandardPaths::findExecutable(S("promtool"));
        if (promtool.isEmpty())
            QSKIP("promtool is not installed (Debian prometheus; packaging/install-deps.sh installs it)");
        QProcess p;
        p.start(promtool, {S("check"), S("metrics")});
        p.write(m.body);
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(30000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardOutput().constData());
    }

    void pastDecisionIsExplainedByteForByte()
    {
        // Three records through /explain; later, from each id alone, `keel audit decision` finds the prediction, its
        // model version, lineage and live revision, and recomputes the explanation: the same bytes /explain returned.
        const Reply r = send(S("/v1/deployments/credit/explain"),
                             QJsonDocument(QJsonObject{{S("records"), QJsonArray{m_records[20], m_records[21], m_records[22]}}})
                                 .toJson(QJsonDocument::Compact));
        QCOMPARE(r.status, 200);
        const QJsonArray predictions = r.json().value(S("predictions")).toArray();
        QCOMPARE(predictions.size(), 3);
        const QString firstId = predictions[0].toObject().value(S("id")).toString();
        QCOMPARE(send(S("/v1/deployments/credit/feedback"),
                      QJsonDocument(QJsonObject{{S("prediction_id"), firstId}, {S("label"), S("<=50K")}}).toJson()).status, 202);
        QVERIFY(m_server->flushLogs());
        auto ws = workspace::Workspace::open(m_ws);
        QVERIFY(ws);
        for (qsizetype i = 0; i < predictions.size(); ++i) {
            const QJsonObject v = predictions[i].toObject();
            const QString id = v.value(S("id")).toString();
            // The record's bytes in the response: from {"id":"<id>" to its matching brace.
            const qsizetype start = r.body.indexOf(QByteArray("{\"id\":\"" + id.toUtf8() + '"'));
            QVERIFY(start > 0);
            qsizetype end = start, depth = 0;
            do {
                depth += r.body.at(end) == '{' ? 1 : r.body.at(end) == '}' ? -1 : 0;
                ++end;
            } while (depth > 0 && end < r.body.size());
            const QByteArray returned = r.body.mid(start, end - start);
            auto d = serve::explainDecision(**ws, id);
            QVERIFY2(d, qPrintable(d.message()));
            QCOMPARE(d->explanation, returned);
            QVERIFY(d->reproduced);
            QCOMPARE(d->deployment, S("credit"));
            QCOMPARE(d->model.ref(), v.value(S("model")).toString());
            QVERIFY(!d->model.runId.isEmpty() && !d->model.data.train.isEmpty());
            QVERIFY(d->live.has_value());
            QCOMPARE(d->live->revision, r.json().value(S("revision")).toInt());
            QCOMPARE(d->live->model.version, d->model.ref());
            QCOMPARE(d->inputs, m_records[20 + i].toObject());
        }
        // The command line: the same facts in words and JSON; the feedback label shows; an unknown id is an error.
        const Result words = clitest::keel({S("audit"), S("decision"), firstId}, m_ws);
        RUN_OK(words);
        QVERIFY2(words.out.contains("credit@v1") && words.out.contains("feedback   label <=50K") && words.out.contains("deployed   by"),
                 words.out.constData());
        const QJsonObject json = keelJson({S("audit"), S("decision"), firstId}, m_ws).object();
        QCOMPARE(json.value(S("explanation")).toObject(), predictions[0].toObject());
        QCOMPARE(json.value(S("feedback")).toObject().value(S("label")).toString(), S("<=50K"));
        const Result unknown = clitest::keel({S("audit"), S("decision"), S("no-such-id")}, m_ws);
        QVERIFY(unknown.code != 0 && unknown.err.contains("no served prediction"));

        // A row of a keel predict batch, named RUN@NAME@vN#ROW: the same line keel predict --explain writes for it.
        const QString run = keelJson({S("models"), S("show"), S("credit@v1")}, m_ws).object().value(S("run")).toString();
        QVERIFY(!run.isEmpty());
        const Result batch = clitest::keel({S("predict"), run, S("--data"), S("adult_test@v1"), S("--rows"), S("4,7,9"), S("--explain")}, m_ws);
        RUN_OK(batch);
        const QList<QByteArray> lines = batch.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 4);
        auto d = serve::explainDecision(**ws, run.left(8) + S("@adult_test@v1#7"));
        QVERIFY2(d, qPrintable(d.message()));
        QCOMPARE(d->kind, S("batch"));
        QCOMPARE(d->batchHeader, lines[0]);
        QCOMPARE(d->batchLine, lines[2]);   // row 7, byte for byte
        QCOMPARE(d->model.ref(), S("credit@v1"));   // the registered version made from that run
        QCOMPARE(d->inputs.value(S("age")).toDouble(), m_records[6].toObject().value(S("age")).toDouble());
        const QJsonObject e = QJsonDocument::fromJson(d->explanation).object();
        double sum = e.value(S("base_value")).toDouble();
        for (const QJsonValue &c : e.value(S("contributions")).toObject())
            sum += c.toDouble();
        const double p1 = d->output.value(S("probabilities")).toObject().value(S(">50K")).toDouble();
        QVERIFY2(std::abs(1.0 / (1.0 + std::exp(-sum)) - p1) < 1e-5, "the contributions add up to the output");
    }
    void jsonWriterAgreesWithQt()
    {
        // The prediction log's writer against QJsonDocument: parsed back equal for every value, and byte for byte
        // where Qt's form is the only one (no control characters, which Qt escapes by name).
        const QByteArray source =
            "{\"int\": 39, \"neg\": -7, \"big\": 9007199254740993, \"frac\": 0.1, \"tiny\": 1e-300,"
            " \"huge\": 1.5e300, \"whole\": 40.0, \"t\": true, \"f\": false, \"n\": null, \"s\": \"Bachelors\","
            " \"quote\": \"a\\\"b\\\\c\", \"emoji\": \"caf\\u00e9 \\ud83d\\ude00 \\u4e2d\","
            " \"arr\": [1, \"x\", [2.5, null], {\"k\": \"v\"}], \"obj\": {\"z\": 1, \"a\": {\"b\": []}}}";
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(source, &pe);
        QVERIFY2(pe.error == QJsonParseError::NoError, qPrintable(pe.errorString()));
        QByteArray mine;
        serve::appendJson(mine, QJsonValue(doc.object()));
        QCOMPARE(mine, doc.toJson(QJsonDocument::Compact));
        QVERIFY(mine.contains("\xf0\x9f\x98\x80"));   // the emoji as one 4-byte UTF-8 character, not two halves

        QJsonObject controls{{S("text"), S("line\nbreak\ttab\u0001")}, {S("nan"), std::nan("")}};
        QByteArray written;
        serve::appendJson(written, QJsonValue(controls));
        const QJsonObject back = QJsonDocument::fromJson(written).object();
        QCOMPARE(back.value(S("text")).toString(), S("line\nbreak\ttab\u0001"));
        QVERIFY(back.value(S("nan")).isNull());
    }
    void plainAndGeneralReadingsAgree()
    {
        // A body is read by the plain scanner when it can be, else by QJsonDocument. Whatever the reading, the table
        // must be the one QJsonDocument's records give, and a body QJsonDocument refuses must be refused: checked on
        // the adult records and on thousands of mutations of them.
        auto ws = workspace::Workspace::open(m_ws);
        QVERIFY(ws);
        auto model = serve::ModelRuntime::load(**ws, S("credit@v1"));
        QVERIFY2(model, qPrintable(model.message()));
        const auto sameTable = [](const data::Table &a, const data::Table &b) {
            if (a.rowCount() != b.rowCount() || a.columnCount() != b.columnCount())
                return false;
            for (int c = 0; c < a.columnCount(); ++c) {
                const data::Column &x = a.column(c), &y = b.column(c);
                if (x.type() != y.type() || x.name() != y.name())
                    return false;
                for (qint64 r = 0; r < a.rowCount(); ++r) {
                    if (x.isNull(r) != y.isNull(r))
                        return false;
                    if (x.isNull(r))
                        continue;
                    const bool same = data::isNumericType(x.type())
                                          ? x.numberAt(r) == y.numberAt(r) && std::signbit(x.numberAt(r)) == std::signbit(y.numberAt(r))
                                          : x.displayAt(r) == y.displayAt(r);
                    if (!same)
                        return false;
                }
            }
            return true;
        };
        const auto check = [&](const QByteArray &body) {
            QJsonParseError pe;
            const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
            auto read = serve::RequestRecords::parse(body);
            const QJsonValue records = doc.object().value(S("records"));
            const bool generalOk = pe.error == QJsonParseError::NoError && doc.isObject() && records.isArray() && !records.toArray().isEmpty();
            if (!generalOk) {
                QVERIFY2(!read, body.constData());
                return;
            }
            QVERIFY2(read, body.constData());
            serve::ModelRuntime::InputNotes n1, n2;
            auto fromRead = (*model)->toTable(*read, &n1);
            auto fromDoc = (*model)->toTable(records.toArray(), &n2);
            QCOMPARE(bool(fromRead), bool(fromDoc));
            if (!fromRead) {
                QCOMPARE(fromRead.error().field.section(QLatin1Char('.'), 0, 0), fromDoc.error().field.section(QLatin1Char('.'), 0, 0));
                return;
            }
            QVERIFY2(sameTable(*fromRead, *fromDoc), body.constData());
            QCOMPARE(n1.unseenCategories, n2.unseenCategories);
            QCOMPARE(n1.missingValues, n2.missingValues);
            for (qsizetype r = 0; r < read->size(); ++r) {
                QByteArray line;
                read->appendRecordJson(line, r);
                QVERIFY(!line.contains('\n'));
                QCOMPARE(QJsonDocument::fromJson(line).object(), records.toArray()[r].toObject());
            }
        };
        QJsonArray three{m_records[0], m_records[1], m_records[2]};
        const QByteArray compact = QJsonDocument(QJsonObject{{S("records"), three}}).toJson(QJsonDocument::Compact);
        check(compact);
        check(QJsonDocument(QJsonObject{{S("records"), m_records}}).toJson(QJsonDocument::Indented));
        check(QByteArray(compact).replace(":", " :\n\t").replace(",", "\r\n, "));
        QRandomGenerator rng(20261202);
        const QByteArray alphabet = "{}[]\",: 0123456789.-+eEtrufalsn\\u\xc3\xa9";
        for (int i = 0; i < 4000; ++i) {
            QByteArray body = compact;
            for (int k = 0, edits = 1 + int(rng.bounded(3)); k < edits; ++k) {
                const qsizetype at = qsizetype(rng.bounded(int(body.size())));
                switch (rng.bounded(4)) {
                case 0: body.remove(at, 1); break;
                case 1: body.insert(at, alphabet[qsizetype(rng.bounded(int(alphabet.size())))]); break;
                case 2: body[at] = alphabet[qsizetype(rng.bounded(int(alphabet.size())))]; break;
                default: body.insert(at, body.mid(qsizetype(rng.bounded(int(body.size()))), 1 + qsizetype(rng.bounded(12)))); break;
                }
            }
            check(body);
            if (QTest::currentTestFailed()) {
                qWarning("mutation %d: %s", i, body.constData());
                return;
            }
        }
    }
};

QTEST_GUILESS_MAIN(TstServe)
#include "tst_serve.moc"
