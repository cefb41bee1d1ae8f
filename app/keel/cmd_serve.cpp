// keel serve (HTTP scoring of the workspace's deployments), keel serve token create, keel log show|export: parse,
// call core/serve, print.
#include "commands.h"

#include "serve/predictionlog.h"
#include "serve/server.h"
#include "util/fileutil.h"
#include "workspace/datasets.h"
#include "workspace/workspace.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <atomic>
#include <csignal>

namespace keel::cli {

namespace {

std::atomic<bool> g_stop{false};
void onStopSignal(int) { g_stop.store(true); }

int cmdServe(Context &ctx)
{
    serve::ServerOptions options;
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    options.root = ws->root();
    if (ctx.parser.isSet(QStringLiteral("host"))) {
        options.host = QHostAddress(ctx.parser.value(QStringLiteral("host")));
        if (options.host.isNull())
            return ctx.usage(QStringLiteral("--host must be an IP address (default 127.0.0.1; 0.0.0.0 serves every interface)"));
    }
    if (ctx.parser.isSet(QStringLiteral("port"))) {
        bool ok = false;
        const int port = ctx.parser.value(QStringLiteral("port")).toInt(&ok);
        if (!ok || port < 0 || port > 65535)
            return ctx.usage(QStringLiteral("--port must be 0 to 65535 (0: any free port)"));
        options.port = quint16(port);
    }
    if (ctx.parser.isSet(QStringLiteral("flush-ms"))) {
        bool ok = false;
        options.flushMs = ctx.parser.value(QStringLiteral("flush-ms")).toInt(&ok);
        if (!ok || options.flushMs < 10 || options.flushMs > 60000)
            return ctx.usage(QStringLiteral("--flush-ms must be 10 to 60000"));
    }
    if (ctx.parser.isSet(QStringLiteral("monitor-every"))) {
        bool ok = false;
        const double seconds = ctx.parser.value(QStringLiteral("monitor-every")).toDouble(&ok);
        if (!ok || seconds < 0 || seconds > 86400)
            return ctx.usage(QStringLiteral("--monitor-every must be 0 (never) to 86400 seconds"));
        options.monitorMs = int(seconds * 1000);
    }
    auto server = serve::Server::start(options);
    if (!server)
        return ctx.fail(server.error());
    QObject::connect(server->get(), &serve::Server::deploymentChanged, [&ctx](const QString &name, int revision) {
        ctx.err << "keel serve: " << name << (revision > 0 ? QStringLiteral(" now at revision %1").arg(revision) : QStringLiteral(" removed"))
                << '\n';
        ctx.err.flush();
    });
    QObject::connect(server->get(), &serve::Server::monitorsChecked, [&ctx](int fired) {
        if (fired > 0) {
            ctx.err << "keel serve: " << fired << " monitor rule(s) fired (keel monitor alerts)\n";
            ctx.err.flush();
        }
    });
    const QStringList names = (*server)->deployments();
    ctx.out << "serving " << (names.isEmpty() ? QStringLiteral("no deployment yet") : names.join(QStringLiteral(", "))) << " on http://"
            << (options.host.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("[%1]").arg(options.host.toString())
                                                                         : options.host.toString())
            << ':' << (*server)->port() << " (Ctrl+C stops)\n";
    ctx.out.flush();
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, [] {
        if (g_stop.load())
            QCoreApplication::quit();
    });
    poll.start(50);
    QCoreApplication::exec();
    if (Status s = (*server)->flushLogs(); !s)
        return ctx.fail(s.error());
    ctx.err << "keel serve: stopped; prediction logs written\n";
    return 0;
}

int cmdTokenCreate(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto token = serve::createAdminToken(ws->root());
    if (!token)
        return ctx.fail(token.error());
    if (ctx.json()) {
        ctx.printJson(QJsonObject{{QStringLiteral("token"), *token}});
        return 0;
    }
    ctx.out << *token << '\n';
    ctx.err << "keel: this admin token is shown once; only its SHA-256 is kept (in .keel/serve/tokens)\n";
    return 0;
}

Expected<std::vector<serve::LoggedPrediction>> readLog(Context &ctx, const QString &root)
{
    QDateTime since;
    if (ctx.parser.isSet(QStringLiteral("since"))) {
        since = QDateTime::fromString(ctx.parser.value(QStringLiteral("since")), Qt::ISODateWithMs);
        if (!since.isValid())
            return makeError(ErrorKind::InvalidInput, QStringLiteral("expected an ISO 8601 time such as 2026-12-01T12:00:00Z"), {}, -1,
                             QStringLiteral("since"));
    }
    const QString name = ctx.args().at(0);
    if (Status s = workspace::validateName(name, QStringLiteral("deployment"), QStringLiteral("NAME")); !s)
        return s.error();
    return serve::readPredictionLog(serve::predictionLogDir(root, name), since);
}

QString compact(const QJsonValue &v)
{
    if (v.isObject())
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    return v.toVariant().toString();
}

int cmdLogShow(Context &ctx)
{
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto log = readLog(ctx, ws->root());
    if (!log)
        return ctx.fail(log.error());
    const qsizetype limit = ctx.parser.isSet(QStringLiteral("n")) ? ctx.parser.value(QStringLiteral("n")).toLongLong() : 20;
    const size_t from = log->size() > size_t(limit) ? log->size() - size_t(limit) : 0;
    if (ctx.json()) {
        QJsonArray arr;
        for (size_t i = from; i < log->size(); ++i) {
            QJsonObject o = (*log)[i].prediction;
            if (!(*log)[i].shadow.isEmpty())
                o.insert(QStringLiteral("shadow"), (*log)[i].shadow);
            if (!(*log)[i].feedback.isEmpty())
                o.insert(QStringLiteral("feedback"), (*log)[i].feedback);
            arr.append(o);
        }
        ctx.printJson(arr);
        return 0;
    }
    if (log->empty()) {
        ctx.out << "no predictions logged for " << ctx.args().at(0) << '\n';
        return 0;
    }
    std::vector<QStringList> rows;
    for (size_t i = from; i < log->size(); ++i) {
        const serve::LoggedPrediction &p = (*log)[i];
        const QJsonObject out = p.prediction.value(QStringLiteral("output")).toObject();
        rows.push_back({p.prediction.value(QStringLiteral("time")).toString(), p.prediction.value(QStringLiteral("id")).toString(),
                        p.prediction.value(QStringLiteral("version")).toString(),
                        out.contains(QStringLiteral("label")) ? out.value(QStringLiteral("label")).toString() : compact(out.value(QStringLiteral("value"))),
                        p.shadow.isEmpty() ? QString() : compact(p.shadow.value(QStringLiteral("output")).toObject().value(QStringLiteral("label"))),
                        p.feedback.isEmpty() ? QString() : compact(p.feedback.value(QStringLiteral("label")))});
    }
    ctx.out << formatTable({QStringLiteral("time"), QStringLiteral("id"), QStringLiteral("model"), QStringLiteral("output"),
                            QStringLiteral("shadow"), QStringLiteral("feedback")},
                           rows);
    ctx.out << log->size() << " predictions logged; the last " << (log->size() - from) << " shown\n";
    return 0;
}

int cmdLogExport(Context &ctx)
{
    if (!ctx.parser.isSet(QStringLiteral("o")))
        return ctx.usage(QStringLiteral("name the file to write: -o FILE (.csv or .jsonl)"));
    const QString outPath = ctx.path(ctx.parser.value(QStringLiteral("o")));
    const bool jsonl = outPath.endsWith(QLatin1String(".jsonl")) || ctx.parser.value(QStringLiteral("format")) == u"jsonl";
    auto *ws = ctx.workspace();
    if (!ws)
        return 1;
    auto log = readLog(ctx, ws->root());
    if (!log)
        return ctx.fail(log.error());
    QByteArray bytes;
    if (jsonl) {
        for (const serve::LoggedPrediction &p : *log) {
            QJsonObject o = p.prediction;
            if (!p.shadow.isEmpty())
                o.insert(QStringLiteral("shadow"), p.shadow);
            if (!p.feedback.isEmpty())
                o.insert(QStringLiteral("feedback"), p.feedback);
            bytes += QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
        }
    } else {
        // One row per prediction: id, time, version, every input, the output's label or value and probabilities,
        // the shadow's label, the feedback label.
        QStringList inputs, classes;
        for (const serve::LoggedPrediction &p : *log) {
            for (const QString &k : p.prediction.value(QStringLiteral("inputs")).toObject().keys())
                if (!inputs.contains(k))
                    inputs << k;
            for (const QString &k : p.prediction.value(QStringLiteral("output")).toObject().value(QStringLiteral("probabilities")).toObject().keys())
                if (!classes.contains(k))
                    classes << k;
        }
        auto field = [](QString s) {
            if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) || s.contains(QLatin1Char('\n')))
                s = QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
            return s;
        };
        QStringList header{QStringLiteral("id"), QStringLiteral("time"), QStringLiteral("deployment"), QStringLiteral("revision"),
                           QStringLiteral("version")};
        header << inputs << QStringLiteral("output");
        for (const QString &c : classes)
            header << QStringLiteral("p_") + c;
        header << QStringLiteral("shadow_version") << QStringLiteral("shadow_output") << QStringLiteral("feedback");
        QStringList h;
        for (const QString &c : header)
            h << field(c);
        bytes += h.join(QLatin1Char(',')).toUtf8() + '\n';
        for (const serve::LoggedPrediction &p : *log) {
            const QJsonObject in = p.prediction.value(QStringLiteral("inputs")).toObject();
            const QJsonObject out = p.prediction.value(QStringLiteral("output")).toObject();
            QStringList row{field(p.prediction.value(QStringLiteral("id")).toString()), p.prediction.value(QStringLiteral("time")).toString(),
                            field(p.prediction.value(QStringLiteral("deployment")).toString()),
                            QString::number(p.prediction.value(QStringLiteral("revision")).toInt()),
                            field(p.prediction.value(QStringLiteral("version")).toString())};
            for (const QString &k : inputs)
                row << (in.value(k).isDouble() ? QString::number(in.value(k).toDouble(), 'g', 17) : field(in.value(k).toString()));
            row << (out.contains(QStringLiteral("label")) ? field(out.value(QStringLiteral("label")).toString())
                                                          : QString::number(out.value(QStringLiteral("value")).toDouble(), 'g', 17));
            const QJsonObject probs = out.value(QStringLiteral("probabilities")).toObject();
            for (const QString &c : classes)
                row << (probs.contains(c) ? QString::number(probs.value(c).toDouble(), 'g', 17) : QString());
            const QJsonObject shadowOut = p.shadow.value(QStringLiteral("output")).toObject();
            row << field(p.shadow.value(QStringLiteral("version")).toString())
                << (shadowOut.contains(QStringLiteral("label")) ? field(shadowOut.value(QStringLiteral("label")).toString())
                    : shadowOut.contains(QStringLiteral("value")) ? QString::number(shadowOut.value(QStringLiteral("value")).toDouble(), 'g', 17)
                                                                  : QString())
                << (p.feedback.isEmpty() ? QString()
                    : p.feedback.value(QStringLiteral("label")).isDouble() ? QString::number(p.feedback.value(QStringLiteral("label")).toDouble(), 'g', 17)
                                                                            : field(p.feedback.value(QStringLiteral("label")).toString()));
            bytes += row.join(QLatin1Char(',')).toUtf8() + '\n';
        }
    }
    OutputPolicy policy;
    policy.overwrite = ctx.parser.isSet(QStringLiteral("force"));
    if (Status s = writeUserFile(outPath, bytes, policy); !s)
        return ctx.fail(s.error());
    ctx.out << "wrote " << log->size() << " predictions to " << outPath << '\n';
    return 0;
}

} // namespace

std::vector<Command> serveCommands()
{
    std::vector<Command> v;
    v.push_back({{QStringLiteral("serve")}, QString(), QStringLiteral("Serve the workspace's deployments over HTTP"),
                 QStringLiteral("Serves every deployment (keel deploy) on http://127.0.0.1:8080 unless told otherwise:\n"
                                "  POST /v1/deployments/NAME/predict   {\"records\": [{FEATURE: VALUE, ...}, ...]}\n"
                                "  POST /v1/deployments/NAME/explain   the same, with per-feature contributions\n"
                                "  POST /v1/deployments/NAME/feedback  {\"prediction_id\": ID, \"label\": TRUE_LABEL}\n"
                                "  GET  /v1/deployments, /healthz, /readyz, /metrics (Prometheus text format)\n"
                                "  POST /v1/deployments/NAME/reload|deploy|rollback  with \"Authorization: Bearer TOKEN\"\n"
                                "Every scored record is logged under .keel/serve/NAME (keel log show NAME). A deploy or rollback\n"
                                "from any door is picked up live. Every --monitor-every seconds (default 60) the monitors\n"
                                "(monitors/*.yaml, keel monitor check --help) are checked: rules that start to hold fire their\n"
                                "actions, and /metrics shows drift, performance and rule gauges. Ctrl+C (or SIGTERM) stops\n"
                                "after writing the logs."),
                 0, 0,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("host"), QStringLiteral("Address to listen on (default 127.0.0.1)."), QStringLiteral("ip")});
                     p.addOption({QStringLiteral("port"), QStringLiteral("Port (default 8080; 0: any free port)."), QStringLiteral("port")});
                     p.addOption({QStringLiteral("flush-ms"), QStringLiteral("Prediction log flush interval (default 200)."), QStringLiteral("ms")});
                     p.addOption({QStringLiteral("monitor-every"), QStringLiteral("Seconds between monitor checks (default 60; 0: never)."), QStringLiteral("s")});
                 },
                 cmdServe});
    v.push_back({{QStringLiteral("serve"), QStringLiteral("token"), QStringLiteral("create")}, QString(),
                 QStringLiteral("Create an admin token for keel serve"),
                 QStringLiteral("Prints a new admin token once; only its SHA-256 is stored (.keel/serve/tokens). Admin calls send\n"
                                "it as \"Authorization: Bearer TOKEN\"."),
                 0, 0, {}, cmdTokenCreate});
    v.push_back({{QStringLiteral("log"), QStringLiteral("show")}, QStringLiteral("NAME"), QStringLiteral("The latest logged predictions of a deployment"),
                 QStringLiteral("Predictions keel serve logged for deployment NAME, joined with shadow outputs and feedback by id;\n"
                                "the last -n (default 20), from --since TIME."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("since"), QStringLiteral("Only predictions from this time (ISO 8601)."), QStringLiteral("time")});
                     p.addOption({QStringLiteral("n"), QStringLiteral("How many (default 20)."), QStringLiteral("count")});
                 },
                 cmdLogShow});
    v.push_back({{QStringLiteral("log"), QStringLiteral("export")}, QStringLiteral("NAME"), QStringLiteral("Write a deployment's prediction log to CSV or JSONL"),
                 QStringLiteral("Every logged prediction of NAME (from --since TIME), with its inputs, output, shadow output and\n"
                                "feedback, to -o FILE: CSV (one column per input and class probability) or JSON Lines (.jsonl)."),
                 1, 1,
                 [](QCommandLineParser &p) {
                     p.addOption({QStringLiteral("o"), QStringLiteral("The file to write."), QStringLiteral("file")});
                     p.addOption({QStringLiteral("since"), QStringLiteral("Only predictions from this time (ISO 8601)."), QStringLiteral("time")});
                     p.addOption({QStringLiteral("format"), QStringLiteral("csv (default) or jsonl."), QStringLiteral("format")});
                     p.addOption({QStringLiteral("force"), QStringLiteral("Replace FILE if it exists.")});
                 },
                 cmdLogExport});
    return v;
}

} // namespace keel::cli
