#include "monitor/replay.h"

#include "deploy/deployment.h"
#include "serve/endpoint.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QThread>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace keel::monitor {

namespace {

/// One POST, waited for. The answer's JSON object, or an error with the server's message and the status.
Expected<QJsonObject> post(QNetworkAccessManager &nam, const QUrl &url, const QJsonObject &body)
{
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    request.setTransferTimeout(30000);
    QNetworkReply *reply = nam.post(request, QJsonDocument(body).toJson(QJsonDocument::Compact));
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray bytes = reply->readAll();
    if (status == 0)
        return makeError(ErrorKind::Io, QStringLiteral("no answer from %1: %2 (is keel serve running?)").arg(url.toString(), reply->errorString()));
    const QJsonObject answer = QJsonDocument::fromJson(bytes).object();
    if (status >= 300) {
        const QJsonObject e = answer.value(QStringLiteral("error")).toObject();
        const QString message = e.isEmpty() ? QString::fromUtf8(bytes.left(300)) : e.value(QStringLiteral("message")).toString();
        return makeError(status == 404 ? ErrorKind::NotFound : ErrorKind::InvalidInput,
                         QStringLiteral("%1 answered %2: %3").arg(url.path()).arg(status).arg(message), {}, -1,
                         e.value(QStringLiteral("field")).toString());
    }
    return answer;
}

} // namespace

Expected<double> parseDuration(const QString &text, bool dates)
{
    static const QRegularExpression re(QStringLiteral("^\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([smhdw]?)\\s*$"));
    const auto m = re.match(text);
    if (!m.hasMatch())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("'%1' is not a duration (90s, 30m, 2h, 1d, 1w, or a number)").arg(text),
                         {}, -1, QStringLiteral("labels-after"));
    const double v = m.captured(1).toDouble();
    const QString unit = m.captured(2);
    if (unit.isEmpty())
        return dates ? v * 1000.0 : v;
    if (!dates)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("the time column holds numbers: give a number in its units"), {}, -1,
                         QStringLiteral("labels-after"));
    const double seconds = unit == u"s" ? 1 : unit == u"m" ? 60 : unit == u"h" ? 3600 : unit == u"d" ? 86400 : 604800;
    return v * seconds * 1000.0;
}

Expected<ReplayResult> replay(workspace::Workspace &ws, const ReplayRequest &request, Feedback *feedback)
{
    if (!(request.speed >= 0) || !std::isfinite(request.speed))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("must be 0 (as fast as possible) or a positive number"), {}, -1, QStringLiteral("speed"));
    if (request.batch < 1 || request.batch > 10000)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("must be 1 to 10,000"), {}, -1, QStringLiteral("batch"));
    auto deployment = deploy::loadDeployment(ws, request.deployment);
    if (!deployment)
        return deployment.error();
    auto model = serve::ModelRuntime::load(ws, deployment->model.version);
    if (!model)
        return model.error();
    auto version = workspace::resolveDataset(ws, request.data);
    if (!version)
        return version.error();
    auto table = workspace::loadDataset(ws, *version, feedback);
    if (!table)
        return table.error();
    const int timeIndex = table->indexOf(request.timeColumn);
    if (timeIndex < 0)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("%1 has no column '%2'").arg(request.data, request.timeColumn), {}, -1,
                         QStringLiteral("time-column"));
    const data::Column &time = table->column(timeIndex);
    if (!data::isNumericType(time.type()) || time.type() == data::ColumnType::Bool)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("'%1' is %2: a time column holds dates, times or numbers")
                                                      .arg(request.timeColumn, data::columnTypeName(time.type())),
                         {}, -1, QStringLiteral("time-column"));
    const bool dates = time.type() == data::ColumnType::Datetime;
    const QString target = request.target.isEmpty() ? (*model)->target() : request.target;
    const int targetIndex = table->indexOf(target);
    std::optional<double> labelsAfter;
    if (!request.labelsAfter.isEmpty()) {
        auto after = parseDuration(request.labelsAfter, dates);
        if (!after)
            return after.error();
        labelsAfter = *after;
    }
    if (labelsAfter && targetIndex < 0)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("%1 has no label column '%2'").arg(request.data, target), {}, -1,
                         QStringLiteral("target"));
    std::optional<double> from;
    if (!request.from.isEmpty()) {
        bool ok = false;
        double v = request.from.toDouble(&ok);
        if (dates) {
            const auto ms = data::parseIsoDatetime(request.from);
            ok = bool(ms);
            v = ms ? double(*ms) : 0;
        }
        if (!ok)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("'%1' is not a %2").arg(request.from, dates ? QStringLiteral("date (ISO 8601)") : QStringLiteral("number")),
                             {}, -1, QStringLiteral("from"));
        from = v;
    }
    // Rows in time order (ties keep the file's order); rows without a time are not replayed.
    std::vector<qint64> rows;
    for (qint64 r = 0; r < table->rowCount(); ++r)
        if (!time.isNull(r) && std::isfinite(time.numberAt(r)) && (!from || time.numberAt(r) >= *from))
            rows.push_back(r);
    std::stable_sort(rows.begin(), rows.end(), [&](qint64 a, qint64 b) { return time.numberAt(a) < time.numberAt(b); });
    if (request.limit > 0 && qint64(rows.size()) > request.limit)
        rows.resize(size_t(request.limit));
    if (rows.empty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("no rows of %1 to replay").arg(request.data), {}, -1, QStringLiteral("from"));

    const QString base = request.server.toString(QUrl::StripTrailingSlash) + QStringLiteral("/v1/deployments/") + request.deployment;
    const QUrl predictUrl(base + QStringLiteral("/predict")), feedbackUrl(base + QStringLiteral("/feedback"));
    QNetworkAccessManager nam;
    struct Pending {
        double due;
        QString id;
        QJsonValue label;
    };
    std::deque<Pending> pending;
    ReplayResult result;
    const auto sendLabels = [&](double now) -> Status {
        QJsonArray batch;
        while (!pending.empty() && pending.front().due <= now) {
            batch.append(QJsonObject{{QStringLiteral("prediction_id"), pending.front().id}, {QStringLiteral("label"), pending.front().label}});
            pending.pop_front();
            if (batch.size() == 5000 || pending.empty() || pending.front().due > now) {
                auto answer = post(nam, feedbackUrl, QJsonObject{{QStringLiteral("feedback"), batch}});
                if (!answer)
                    return answer.error();
                result.labelled += batch.size();
                batch = QJsonArray();
            }
        }
        return Status();
    };
    QElapsedTimer wall;
    wall.start();
    const double t0 = time.numberAt(rows.front());
    const double wallPerUnit = request.speed > 0 ? (dates ? 1.0 / request.speed : 1000.0 / request.speed) : 0;   // ms per unit
    for (size_t i = 0; i < rows.size();) {
        if (isCancelled(feedback))
            return cancelledError();
        const double t = time.numberAt(rows[i]);
        if (wallPerUnit > 0) {
            const qint64 due = qint64((t - t0) * wallPerUnit);
            if (const qint64 wait = due - wall.elapsed(); wait > 0)
                QThread::msleep(quint64(std::min<qint64>(wait, 60000)));
        }
        if (Status s = sendLabels(t); !s)
            return s.error();
        QJsonArray records;
        const size_t first = i;
        while (i < rows.size() && qint64(records.size()) < request.batch && time.numberAt(rows[i]) == t)
            records.append(serve::recordOf(*table, rows[i++], (*model)->version().schema));
        auto answer = post(nam, predictUrl, QJsonObject{{QStringLiteral("records"), records}});
        if (!answer)
            return answer.error();
        const QJsonArray predictions = answer->value(QStringLiteral("predictions")).toArray();
        for (qsizetype k = 0; k < predictions.size(); ++k) {
            const QJsonObject p = predictions.at(k).toObject();
            const QString answeredBy = p.value(QStringLiteral("model")).toString();
            if (result.firstVersion.isEmpty())
                result.firstVersion = answeredBy;
            result.lastVersion = answeredBy;
            if (!labelsAfter)
                continue;
            const qint64 row = rows[first + size_t(k)];
            const data::Column &y = table->column(targetIndex);
            if (y.isNull(row))
                continue;
            const QJsonValue label = data::isNumericType(y.type()) && (*model)->version().task == ml::Task::Regression
                                         ? QJsonValue(y.numberAt(row))
                                         : QJsonValue((*model)->mapLabel(y.displayAt(row)));
            pending.push_back({t + *labelsAfter, p.value(QStringLiteral("id")).toString(), label});
        }
        result.predicted += predictions.size();
        result.rows = qint64(i);
        if (feedback)
            feedback->setProgress(qint64(i), qint64(rows.size()), QStringLiteral("replay"));
    }
    if (Status s = sendLabels(std::numeric_limits<double>::infinity()); !s)
        return s.error();
    result.seconds = double(wall.elapsed()) / 1000.0;
    return result;
}

} // namespace keel::monitor
