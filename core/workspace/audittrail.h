#pragma once
// Verifying and exporting the audit trail. Events form a hash chain in the tracking store (each event's SHA-256
// covers its content and the previous event's hash: tracking::auditHash), and every workspace commit records the
// chain's head in audit/CHAIN.head, so an event edited, deleted, reordered or rewritten — even by someone with write
// access to .keel/keel.db — is caught: by the chain itself, or against the heads git holds.

#include "util/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

namespace keel::tracking { struct AuditEvent; }

namespace keel::workspace {

class Workspace;

struct AuditVerification {
    bool ok = true;
    qint64 events = 0;             ///< events checked
    qint64 unsealed = 0;           ///< newest events written by an older Keel, not in the chain yet
    qint64 anchors = 0;            ///< heads recorded in commits of this trail, checked
    qint64 foreignAnchors = 0;     ///< other trails' head files (workspaces whose commits were pulled), not checked
    qint64 brokenEvent = 0;        ///< the first event at fault (0: none, or a head's event is gone)
    QString brokenCommit;          ///< the commit whose recorded head does not match (if that is the fault)
    QString problem;               ///< the first broken link in words
};

/// Recomputes the chain from the stored events and checks it against every head recorded in git. Read-only.
Expected<AuditVerification> verifyAudit(Workspace &ws);

/// The events at or after `since` (all when invalid), oldest first, as JSON Lines with their hashes: id, time, user,
/// action, subject, detail (object), commit, prev_hash, hash.
Expected<QByteArray> exportAudit(Workspace &ws, const QDateTime &since = {});

/// An audit event in words, for people: "added a version of adult_train (rows 32,561, version 2)". The action's
/// verb and subject first, then the detail's values (ids shortened, nested values left out), never raw JSON.
/// Who and when are shown beside it by the caller. The one wording every front door uses.
QString auditEventText(const tracking::AuditEvent &event);

} // namespace keel::workspace
