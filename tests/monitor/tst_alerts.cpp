// Monitors end to end, with a real `keel serve` process: a ridge and then a GBDT model of hourly bike rentals trained
// on 2011 are deployed, and 2012 is replayed through the server with labels a day later. A monitor rule on RMSE from
// feedback (its threshold set from an independent computation of each window's RMSE over the prediction log) must
// fire exactly once, record an alert, run its command, post its webhook to a loopback receiver and roll the
// deployment back to the ridge model, with an audit event naming the rule; the server must answer with the ridge
// model afterwards. A second server checks the monitors on its own and shows drift, performance and rule gauges on
// /metrics (promtool-clean), including an error-rate rule measured from its request counters. Malformed monitor
// files are refused with the file, line and field.
#include "../cli/clitest.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonObject>
#include <QMutex>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>

#include <cmath>
#include <map>

using namespace clitest;

namespace {
QString S(const char *s) { return QString::fromUtf8(s); }

/// A loopback HTTP receiver on its own thread (the test's thread blocks while keel runs): keeps each POST body.
class Receiver : public QThread {
public:
    quint16 port = 0;
    QList<QByteArray> bodies() const
    {
        QMutexLocker lock(&m_mutex);
        return m_bodies;
    }
    void waitListening()
    {
        while (port == 0)
            QThread::msleep(10);
    }

protected:
    void run() override
    {
        QTcpServer server;
        server.listen(QHostAddress::LocalHost, 0);
        QObject::connect(&server, &QTcpServer::newConnection, [&] {
            QTcpSocket *s = server.nextPendingConnection();
            auto buffer = std::make_shared<QByteArray>();
            QObject::connect(s, &QTcpSocket::readyRead, [this, s, buffer] {
                *buffer += s->readAll();
                const qsizetype head = buffer->indexOf("\r\n\r\n");
                if (head < 0)
                    return;
                qsizetype length = 0;
                for (const QByteArray &line : buffer->left(head).split('\n'))
                    if (line.toLower().startsWith("content-length:"))
                        length = line.mid(15).trimmed().toLongLong();
                if (buffer->size() < head + 4 + length)
                    return;
                {
                    QMutexLocker lock(&m_mutex);
                    m_bodies << buffer->mid(head + 4, length);
                }
                s->write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                s->disconnectFromHost();
            });
        });
        port = server.serverPort();
        exec();
    }

private:
    mutable QMutex m_mutex;
    QList<QByteArray> m_bodies;
};

/// A `keel serve` process on a free port.
struct ServeProcess {
    QProcess p;
    QString url;
    bool start(const QString &ws, const QStringList &extra)
    {
        p.setWorkingDirectory(ws);
        p.start(S(KEEL_BINARY), QStringList{S("serve"), S("--port"), S("0"), S("--flush-ms"), S("50")} + extra);
        if (!p.waitForStarted() || !p.waitForReadyRead(30000))
            return false;
        url = QString::fromUtf8(p.readLine()).section(S(" on "), 1).section(QLatin1Char(' '), 0, 0);
        return url.startsWith(S("http://"));
    }
    void stop()
    {
        p.terminate();
        if (!p.waitForFinished(10000))
            p.kill();
        p.waitForFinished();
    }
};

QByteArray get(QNetworkAccessManager &net, const QString &url, int *status = nullptr)
{
    QNetworkReply *reply = net.get(QNetworkRequest{QUrl(url)});
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    if (status)
        *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    reply->deleteLater();
    return reply->readAll();
}
} // namespace

class TstAlerts : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_ws;
    ServeProcess m_server;
    Receiver m_receiver;
    QNetworkAccessManager m_net;

    /// Per 720-prediction window of the log: RMSE of prediction against feedback, computed here from the raw lines.
    std::vector<double> windowRmse()
    {
        std::vector<double> out;
        // Read the log files directly: prediction lines and feedback lines joined by id.
        std::map<QString, double> truth;
        QFile fb(m_ws + S("/.keel/serve/bikes/feedback.jsonl"));
        if (fb.open(QIODevice::ReadOnly))
            for (const QByteArray &l : fb.readAll().split('\n'))
                if (!l.trimmed().isEmpty()) {
                    const QJsonObject o = QJsonDocument::fromJson(l).object();
                    truth[o.value(S("prediction_id")).toString()] = o.value(S("label")).toDouble();
                }
        std::vector<std::pair<double, double>> pairs;   // (prediction, truth) in log order
        std::vector<bool> labelled;
        for (int seg = 1;; ++seg) {
            QFile f(m_ws + S("/.keel/serve/bikes/predictions-%1.jsonl").arg(seg, 6, 10, QLatin1Char('0')));
            if (!f.open(QIODevice::ReadOnly))
                break;
            for (const QByteArray &l : f.readAll().split('\n')) {
                if (l.trimmed().isEmpty())
                    continue;
                const QJsonObject o = QJsonDocument::fromJson(l).object();
                if (o.contains(S("shadow_of")))
                    continue;
                const auto t = truth.find(o.value(S("id")).toString());
                pairs.push_back({o.value(S("output")).toObject().value(S("value")).toDouble(), t == truth.end() ? std::nan("") : t->second});
            }
        }
        for (size_t start = 0; start < pairs.size(); start += 720) {
            double sum = 0;
            qint64 n = 0;
            for (size_t i = start; i < std::min(pairs.size(), start + 720); ++i)
                if (std::isfinite(pairs[i].second)) {
                    sum += (pairs[i].first - pairs[i].second) * (pairs[i].first - pairs[i].second);
                    ++n;
                }
            out.push_back(n ? std::sqrt(sum / double(n)) : std::nan(""));
        }
        return out;
    }

    QJsonObject replay(const QStringList &extra)
    {
        return keelJson(QStringList{S("monitor"), S("replay"), S("bikes"), S("--data"), S("bike@v1"), S("--time-column"), S("dteday"),
                                    S("--labels-after"), S("1d"), S("--batch"), S("24"), S("--server"), m_server.url} + extra,
                        m_ws)
            .object();
    }

private slots:
    void initTestCase()
    {
        m_ws = m_dir.filePath(S("ws"));
        RUN_OK(clitest::keel({S("init"), m_ws}, m_dir.path()));
        RUN_OK(clitest::keel({S("data"), S("add"), example("bike_hour.csv"), S("--name"), S("bike")}, m_ws));
        for (const char *config : {"bikes-ridge.yaml", "bikes-gbdt.yaml"}) {
            const QString run = keelJson({S("train"), example("configs/") + S(config)}, m_ws).object().value(S("run")).toString();
            QVERIFY(!run.isEmpty());
            RUN_OK(clitest::keel({S("models"), S("register"), run, S("--name"), S("bikes")}, m_ws));
        }
        RUN_OK(clitest::keel({S("deploy"), S("bikes"), S("--model"), S("bikes@v1")}, m_ws));
        RUN_OK(clitest::keel({S("deploy"), S("bikes"), S("--model"), S("bikes@v2")}, m_ws));
        m_receiver.start();
        m_receiver.waitListening();
        QVERIFY(m_server.start(m_ws, {S("--monitor-every"), S("0")}));
    }

    void cleanupTestCase()
    {
        m_server.stop();
        m_receiver.quit();
        m_receiver.wait();
    }

    void badMonitorFilesNameLineAndField()
    {
        QDir(m_ws).mkpath(S("monitors"));
        writeFile(m_ws + S("/monitors/bad.yaml"), "deployment: bikes\nwindow: 720\nrules:\n  - metric: auc\n    above: 1\n");
        auto r = clitest::keel({S("monitor"), S("check"), S("bad")}, m_ws);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("monitors/bad.yaml:4") && r.err.contains("rules.0.metric") && r.err.contains("roc_auc"), r.err.constData());
        writeFile(m_ws + S("/monitors/bad.yaml"),
                  "deployment: bikes\nrules:\n  - metric: psi\n    above: 0.2\n    actions: [alert, {webhook: \"ftp://example\"}]\n");
        r = clitest::keel({S("monitor"), S("check"), S("bad")}, m_ws);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("rules.0.actions.1.webhook") && r.err.contains("http://"), r.err.constData());
        writeFile(m_ws + S("/monitors/bad.yaml"), "deployment: bikes\nrules:\n  - metric: rmse\n    windows: 2\n");
        r = clitest::keel({S("monitor"), S("check"), S("bad")}, m_ws);
        QVERIFY2(r.code == 1 && r.err.contains("above or below"), r.err.constData());
        QVERIFY(QFile::remove(m_ws + S("/monitors/bad.yaml")));
        r = clitest::keel({S("monitor"), S("check"), S("nosuch")}, m_ws);
        QVERIFY2(r.code == 1 && r.err.contains("no monitor called 'nosuch'"), r.err.constData());
    }

    void replayFiresOnceAndRollsBack()
    {
        // Four windows of 720 hours of 2012, every label sent (a day of data time later, the rest at the end).
        const QJsonObject first = replay({S("--from"), S("2012-01-01"), S("--limit"), S("2880")});
        QCOMPARE(first.value(S("predicted")).toInt(), 2880);
        QCOMPARE(first.value(S("labelled")).toInt(), 2880);
        QCOMPARE(first.value(S("last_version")).toString(), S("bikes@v2"));
        QTest::qWait(300);   // past a log flush

        const std::vector<double> rmse = windowRmse();
        QCOMPARE(rmse.size(), size_t(4));
        const double threshold = std::min(rmse[2], rmse[3]) - 0.5;   // holds in the newest two windows
        const QString fired = m_dir.filePath(S("fired.txt"));
        writeFile(m_ws + S("/monitors/bikes.yaml"),
                  QStringLiteral("deployment: bikes\nwindow: 720\nmin_predictions: 200\nrules:\n"
                                 "  - name: error too high\n    metric: rmse\n    above: %1\n    windows: 2\n"
                                 "    actions: [rollback, {command: \"printf '%s' \\\"$KEEL_RULE\\\" > %2\"}, {webhook: \"http://127.0.0.1:%3/hook\"}]\n"
                                 "  - name: error higher still\n    metric: rmse\n    above: %4\n    windows: 2\n"
                                 "  - name: slow\n    metric: latency_p99_ms\n    above: 1000\n")
                      .arg(threshold, 0, 'f', 6)
                      .arg(fired)
                      .arg(m_receiver.port)
                      .arg(std::max(rmse[2], rmse[3]) + 0.5, 0, 'f', 6)
                      .toUtf8());

        // A dry run evaluates and changes nothing.
        auto dry = clitest::keel({S("--json"), S("monitor"), S("check"), S("bikes"), S("--dry-run")}, m_ws);
        QCOMPARE(dry.code, 3);
        QCOMPARE(keelJson({S("deployments"), S("list")}, m_ws).array().at(0).toObject().value(S("revision")).toInt(), 2);
        QVERIFY(!QFile::exists(fired));

        auto r = clitest::keel({S("--json"), S("monitor"), S("check"), S("bikes")}, m_ws);
        QCOMPARE(r.code, 3);
        const QJsonArray rules = QJsonDocument::fromJson(r.out).object().value(S("monitors")).toArray().at(0).toObject().value(S("rules")).toArray();
        QCOMPARE(rules.size(), 3);
        const QJsonObject rule = rules.at(0).toObject();
        QVERIFY(rule.value(S("fired")).toBool());
        const QJsonArray values = rule.value(S("values")).toArray();
        QCOMPARE(values.size(), 4);
        for (int i = 0; i < 4; ++i)
            QVERIFY2(std::abs(values.at(i).toObject().value(S("value")).toDouble() - rmse[size_t(i)]) < 1e-9 * rmse[size_t(i)],
                     qPrintable(QStringLiteral("window %1: %2 vs %3").arg(i).arg(values.at(i).toObject().value(S("value")).toDouble()).arg(rmse[size_t(i)])));
        QVERIFY(!rules.at(1).toObject().value(S("holds")).toBool());
        QVERIFY(!rules.at(2).toObject().value(S("holds")).toBool());
        for (const QJsonValue &a : rule.value(S("actions")).toArray())
            QVERIFY2(a.toObject().value(S("ok")).toBool(), QJsonDocument(a.toObject()).toJson().constData());

        // The actions: the command ran with the rule's name, the webhook got the alert, the deployment rolled back.
        QFile f(fired);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("error too high"));
        QTRY_COMPARE_WITH_TIMEOUT(m_receiver.bodies().size(), 1, 5000);
        const QJsonObject hook = QJsonDocument::fromJson(m_receiver.bodies().at(0)).object();
        QCOMPARE(hook.value(S("rule")).toString(), S("error too high"));
        QCOMPARE(hook.value(S("deployment")).toString(), S("bikes"));
        QCOMPARE(hook.value(S("values")).toArray().size(), 2);
        const QJsonObject d = keelJson({S("deployments"), S("list")}, m_ws).array().at(0).toObject();
        QCOMPARE(d.value(S("revision")).toInt(), 3);
        QCOMPARE(d.value(S("model")).toObject().value(S("version")).toString(), S("bikes@v1"));
        const QJsonArray events = keelJson({S("audit")}, m_ws).array();
        bool rollbackNamed = false, alertRecorded = false;
        for (const QJsonValue &e : events) {
            const QJsonObject o = e.toObject();
            const QString detail = QString::fromUtf8(QJsonDocument(o.value(S("detail")).toObject()).toJson(QJsonDocument::Compact));
            rollbackNamed |= o.value(S("action")).toString() == u"rollback" && detail.contains(S("error too high")) && detail.contains(S("rmse"));
            alertRecorded |= o.value(S("action")).toString() == u"monitor.alert" && detail.contains(S("error too high"));
        }
        QVERIFY(rollbackNamed);
        QVERIFY(alertRecorded);

        // Still holding: no second alert, no second rollback.
        r = clitest::keel({S("--json"), S("monitor"), S("check"), S("bikes")}, m_ws);
        QCOMPARE(r.code, 3);
        QVERIFY(!QJsonDocument::fromJson(r.out).object().value(S("monitors")).toArray().at(0).toObject().value(S("rules")).toArray().at(0).toObject().value(S("fired")).toBool());
        QJsonArray alerts = keelJson({S("monitor"), S("alerts")}, m_ws).object().value(S("alerts")).toArray();
        QCOMPARE(alerts.size(), 1);
        QCOMPARE(keelJson({S("deployments"), S("list")}, m_ws).array().at(0).toObject().value(S("revision")).toInt(), 3);

        // The server switched live: the next rows are answered by the ridge model.
        QTRY_COMPARE_WITH_TIMEOUT(replay({S("--from"), S("2012-06-01"), S("--limit"), S("24")}).value(S("first_version")).toString(), S("bikes@v1"), 10000);

        // Acknowledge.
        RUN_OK(clitest::keel({S("monitor"), S("alerts"), S("--ack"), alerts.at(0).toObject().value(S("id")).toString()}, m_ws));
        alerts = keelJson({S("monitor"), S("alerts")}, m_ws).object().value(S("alerts")).toArray();
        QVERIFY(!alerts.at(0).toObject().value(S("acknowledged_by")).toString().isEmpty());
        QCOMPARE(clitest::keel({S("monitor"), S("alerts"), S("--ack"), S("a99")}, m_ws).code, 1);
    }

    void serverChecksAndExportsGauges()
    {
        m_server.stop();
        writeFile(m_ws + S("/monitors/errors.yaml"),
                  "deployment: bikes\nwindow: 720\nmin_predictions: 200\nrules:\n"
                  "  - name: errors\n    metric: error_rate\n    above: 0.2\n"
                  "  - name: drift\n    metric: psi\n    above: 0.25\n");
        QVERIFY(m_server.start(m_ws, {S("--monitor-every"), S("0.3")}));
        // Half of these requests are refused (an unknown feature), so the error rate is 0.5.
        for (int i = 0; i < 10; ++i) {
            QNetworkRequest req{QUrl(m_server.url + S("/v1/deployments/bikes/predict"))};
            req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            QNetworkReply *reply = m_net.post(req, i % 2 ? QByteArray("{\"records\": [{\"nope\": 1}]}") : QByteArray("{\"records\": []}"));
            QEventLoop loop;
            connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
            loop.exec();
            reply->deleteLater();
        }
        QByteArray metrics;
        QTRY_VERIFY_WITH_TIMEOUT((metrics = get(m_net, m_server.url + S("/metrics"))).contains("rule=\"errors\"} 1"), 15000);
        QVERIFY2(metrics.contains("keel_monitor_rule_firing{monitor=\"errors\",deployment=\"bikes\",rule=\"drift\"} 1"), metrics.constData());
        // The drift gauge equals monitor drift's newest window with at least 200 predictions.
        const QJsonArray windows = keelJson({S("monitor"), S("drift"), S("bikes"), S("--window"), S("720")}, m_ws).object().value(S("windows")).toArray();
        QJsonObject newest;
        for (const QJsonValue &w : windows)
            if (w.toObject().value(S("predictions")).toInt() >= 200)
                newest = w.toObject();
        double mnth = std::nan("");
        for (const QJsonValue &f : newest.value(S("features")).toArray())
            if (f.toObject().value(S("feature")).toString() == u"mnth")
                mnth = f.toObject().value(S("psi")).toDouble();
        QVERIFY(std::isfinite(mnth));
        const qsizetype at = metrics.indexOf("keel_drift_score{deployment=\"bikes\",feature=\"mnth\",statistic=\"psi\"} ");
        QVERIFY2(at >= 0, metrics.constData());
        const double gauge = QString::fromUtf8(metrics.mid(at)).section(QLatin1Char('\n'), 0, 0).section(QLatin1Char(' '), 1).toDouble();
        QVERIFY2(std::abs(gauge - mnth) <= 1e-8 * mnth, qPrintable(QStringLiteral("%1 vs %2").arg(gauge).arg(mnth)));
        QVERIFY(metrics.contains("keel_model_performance{deployment=\"bikes\",metric=\"rmse\",kind=\"realised\"}"));
        const QString promtool = QStandardPaths::findExecutable(S("promtool"));
        if (promtool.isEmpty())
            QSKIP("promtool is not installed (Debian prometheus; packaging/install-deps.sh installs it)");
        QProcess p;
        p.start(promtool, {S("check"), S("metrics")});
        p.write(metrics);
        p.closeWriteChannel();
        QVERIFY(p.waitForFinished(30000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardOutput().constData());
        // The server recorded the alerts as "keel serve".
        const QJsonArray alerts = keelJson({S("monitor"), S("alerts"), S("errors")}, m_ws).object().value(S("alerts")).toArray();
        QCOMPARE(alerts.size(), 2);
    }
};

QTEST_GUILESS_MAIN(TstAlerts)
#include "tst_alerts.moc"
