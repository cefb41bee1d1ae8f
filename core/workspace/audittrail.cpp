#include "workspace/audittrail.h"

#include "tracking/trackingstore.h"
#include "workspace/gitrepo.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QRegularExpression>

#include <cmath>
#include <map>

namespace keel::workspace {

namespace {

struct RecordedHead {
    QString chain, hash;
    qint64 event = 0;
};

RecordedHead parseHead(const QByteArray &text)
{
    RecordedHead h;
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith("chain "))
            h.chain = QString::fromUtf8(line.mid(6).trimmed());
        else if (line.startsWith("event "))
            h.event = line.mid(6).trimmed().toLongLong();
        else if (line.startsWith("hash "))
            h.hash = QString::fromUtf8(line.mid(5).trimmed());
    }
    return h;
}

QString describe(const tracking::StoredAuditEvent &e)
{
    return QStringLiteral("event #%1 (%2 of %3 at %4)").arg(e.id).arg(e.action, e.subject.isEmpty() ? QStringLiteral("-") : e.subject, e.time);
}

} // namespace

Expected<AuditVerification> verifyAudit(Workspace &ws)
{
    auto store = ws.tracking();
    if (!store)
        return store.error();
    auto chain = (*store)->auditChain();
    if (!chain)
        return chain.error();
    AuditVerification v;
    const auto fail = [&v](qint64 event, const QString &problem) {
        if (!v.ok)
            return;
        v.ok = false;
        v.brokenEvent = event;
        v.problem = problem;
    };
    // 1. The chain itself.
    QString prev;
    std::map<qint64, QString> hashes;
    for (const tracking::StoredAuditEvent &e : *chain) {
        ++v.events;
        if (e.hash.isEmpty()) {
            ++v.unsealed;
            continue;
        }
        if (v.unsealed > 0)
            fail(e.id, QStringLiteral("%1 is sealed after unsealed events: the trail was altered").arg(describe(e)));
        if (e.prevHash != prev)
            fail(e.id, prev.isEmpty() && e.prevHash.size() == 64
                           ? QStringLiteral("the trail starts at %1, but that event follows another: the events before it were deleted").arg(describe(e))
                           : QStringLiteral("the chain breaks before %1: the event before it was deleted, inserted or moved").arg(describe(e)));
        else if (tracking::auditHash(e) != e.hash)
            fail(e.id, QStringLiteral("%1 was edited after it was written (its content no longer matches its hash)").arg(describe(e)));
        hashes[e.id] = e.hash;
        prev = e.hash;
    }
    // 2. The heads git recorded: each must still be in the chain with the same hash.
    auto own = (*store)->auditChainId();
    if (!own)
        return own.error();
    // Other trails' heads (workspaces whose commits were pulled): counted, not checked.
    const QDir folder(ws.root() + QStringLiteral("/audit"));
    for (const QString &f : folder.entryList({QStringLiteral("*.head")}, QDir::Files))
        v.foreignAnchors += f != QFileInfo(auditHeadPath(*own)).fileName() ? 1 : 0;
    if (own->isEmpty())
        return v;
    auto commits = ws.git().historyOf(auditHeadPath(*own));
    if (!commits)
        return commits.error();
    for (const CommitInfo &c : *commits) {
        auto bytes = ws.git().readFileAt(c.id, auditHeadPath(*own));
        if (!bytes)
            return bytes.error();
        if (!bytes->has_value())
            continue;
        const RecordedHead h = parseHead(**bytes);
        ++v.anchors;
        if (h.chain != *own) {
            v.brokenCommit = c.id;
            fail(h.event, QStringLiteral("the head commit %1 recorded names another trail (%2)").arg(c.id.left(10), h.chain.left(8)));
            continue;
        }
        const auto it = hashes.find(h.event);
        if (it == hashes.end()) {
            v.brokenCommit = c.id;
            fail(h.event, QStringLiteral("event #%1, the trail's head when commit %2 was made, is gone").arg(h.event).arg(c.id.left(10)));
        } else if (it->second != h.hash) {
            v.brokenCommit = c.id;
            fail(h.event, QStringLiteral("event #%1 does not match the hash commit %2 recorded for it: the trail was rewritten")
                              .arg(h.event)
                              .arg(c.id.left(10)));
        }
    }
    return v;
}

Expected<QByteArray> exportAudit(Workspace &ws, const QDateTime &since)
{
    auto store = ws.tracking();
    if (!store)
        return store.error();
    auto chain = (*store)->auditChain();
    if (!chain)
        return chain.error();
    QByteArray out;
    for (const tracking::StoredAuditEvent &e : *chain) {
        if (since.isValid() && QDateTime::fromString(e.time, Qt::ISODateWithMs) < since)
            continue;
        const QJsonObject o{{QStringLiteral("id"), e.id}, {QStringLiteral("time"), e.time}, {QStringLiteral("user"), e.user},
                            {QStringLiteral("action"), e.action}, {QStringLiteral("subject"), e.subject},
                            {QStringLiteral("detail"), QJsonDocument::fromJson(e.detail.toUtf8()).object()}, {QStringLiteral("commit"), e.commit},
                            {QStringLiteral("prev_hash"), e.prevHash}, {QStringLiteral("hash"), e.hash}};
        out += QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    }
    return out;
}

namespace {

/// The verb phrase of each action Keel records; %1 is the subject.
QString actionPhrase(const QString &action, const QString &subject)
{
    static const QHash<QString, QString> phrases{
        {QStringLiteral("workspace.init"), QStringLiteral("created the workspace")},
        {QStringLiteral("data.add"), QStringLiteral("added a version of dataset %1")},
        {QStringLiteral("data.checkout"), QStringLiteral("checked out %1")},
        {QStringLiteral("data.validate"), QStringLiteral("validated %1 against its rules")},
        {QStringLiteral("configs.add"), QStringLiteral("added training configs")},
        {QStringLiteral("train"), QStringLiteral("trained run %1")},
        {QStringLiteral("sweep"), QStringLiteral("ran sweep %1")},
        {QStringLiteral("explain"), QStringLiteral("explained run %1")},
        {QStringLiteral("models.register"), QStringLiteral("registered %1")},
        {QStringLiteral("models.alias"), QStringLiteral("moved an alias of %1")},
        {QStringLiteral("models.approve"), QStringLiteral("approved %1")},
        {QStringLiteral("models.export"), QStringLiteral("exported the bundle of %1")},
        {QStringLiteral("models.import"), QStringLiteral("imported a bundle as %1")},
        {QStringLiteral("deploy"), QStringLiteral("deployed to %1")},
        {QStringLiteral("rollback"), QStringLiteral("rolled deployment %1 back")},
        {QStringLiteral("serve.reload"), QStringLiteral("reloaded the served deployments")},
        {QStringLiteral("monitor.alert"), QStringLiteral("monitor alert on %1")},
        {QStringLiteral("monitor.acknowledge"), QStringLiteral("acknowledged an alert of %1")},
        {QStringLiteral("pipeline.run"), QStringLiteral("ran pipeline %1")},
        {QStringLiteral("tag"), QStringLiteral("tagged the workspace %1")},
        {QStringLiteral("store.gc"), QStringLiteral("collected unreferenced objects")},
        {QStringLiteral("remote.add"), QStringLiteral("added remote %1")},
        {QStringLiteral("push"), QStringLiteral("pushed to %1")},
        {QStringLiteral("pull"), QStringLiteral("pulled from %1")},
        {QStringLiteral("clone"), QStringLiteral("cloned from %1")},
    };
    // Subjects carry their kind ("run:<uuid>", "model:credit@v2", "deployment:credit"); the phrase already says it.
    QString shown = subject;
    for (const char *kind : {"model:", "deployment:", "dataset:", "pipeline:", "monitor:"})
        if (shown.startsWith(QLatin1String(kind)))
            shown = shown.mid(qsizetype(qstrlen(kind)));
    if (shown.startsWith(QLatin1String("run:")))
        shown = shown.mid(4, 8);
    const auto it = phrases.constFind(action);
    if (it == phrases.constEnd())
        return subject.isEmpty() ? action : QString(action + QLatin1Char(' ') + subject);
    return it->contains(QLatin1String("%1")) ? it->arg(shown) : *it;
}

QString valueText(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Bool: return v.toBool() ? QStringLiteral("yes") : QStringLiteral("no");
    case QJsonValue::Double: {
        const double d = v.toDouble();
        return d == std::floor(d) && std::abs(d) < 1e15 ? QLocale(QLocale::English).toString(qint64(d))
                                                         : QString::number(d, 'g', 6);
    }
    case QJsonValue::String: {
        const QString s = v.toString();
        static const QRegularExpression longId(QStringLiteral("^[0-9a-f]{32,64}$"));
        return longId.match(s).hasMatch() ? s.left(12) : s;
    }
    case QJsonValue::Array: {
        QStringList parts;
        for (const QJsonValue &item : v.toArray())
            if (!item.isObject() && !item.isArray())
                parts << valueText(item);
        return parts.size() == v.toArray().size() ? parts.join(QStringLiteral(", ")) : QString();
    }
    default: return {};
    }
}

} // namespace

QString auditEventText(const tracking::AuditEvent &event)
{
    QString text = actionPhrase(event.action, event.subject);
    QStringList details;
    for (auto it = event.detail.begin(); it != event.detail.end(); ++it) {
        const QString value = valueText(it.value());
        if (value.isEmpty())
            continue;
        QString key = it.key();
        key.replace(QLatin1Char('_'), QLatin1Char(' '));
        details << key + QLatin1Char(' ') + value;
    }
    if (!details.isEmpty())
        text += QStringLiteral(" (") + details.join(QStringLiteral(", ")) + QLatin1Char(')');
    return text;
}

} // namespace keel::workspace
