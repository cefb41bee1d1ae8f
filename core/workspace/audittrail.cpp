#include "workspace/audittrail.h"

#include "tracking/trackingstore.h"
#include "workspace/gitrepo.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

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

} // namespace keel::workspace
