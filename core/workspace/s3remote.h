#pragma once
// A remote on S3-compatible object storage (AWS S3, MinIO, Ceph RGW; tested against s3rver). Under its prefix:
//   git/...                                  the workspace history as a bare git repository, file for file
//   objects/packs/pack-NAME.pack, .idx       chunks in the object store's own pack format (the idx after its pack)
//   objects/manifests/ID                     one per stored file version, after every chunk it lists
// Nothing is visible to a reader before its bytes: packs, then manifests, then git objects, then refs. Every upload
// carries its SHA-256 (the server checks it); every chunk and manifest downloaded is verified against its id before it
// is kept, and git objects are checked by libgit2 as it reads them. Only refs and content-named git objects are synced
// (never config, hooks or alternates). A transfer cut off at any point resumes by running it again: what arrived is
// listed and skipped. S3 has no locks: two pushes at the same instant can race on a branch's ref.

#include "store/s3client.h"
#include "util/feedback.h"
#include "util/result.h"

#include <QSet>
#include <QHash>
#include <QString>

#include <memory>

namespace keel::store { class ObjectStore; }

namespace keel::workspace {

struct RemoteInfo;

/// A client for the remote, with credentials from the environment or ~/.aws/credentials.
Expected<std::unique_ptr<store::S3Client>> s3ClientFor(const RemoteInfo &remote);

/// What a transfer moved.
struct S3Transfer {
    qint64 objects = 0;     ///< manifests sent or received
    qint64 packs = 0;       ///< packs sent or received
    qint64 bytes = 0;       ///< chunk bytes sent or received
};

/// Sends the objects in `ids` (those the remote lacks) with the chunks it lacks, in packs of at most 64 MiB.
/// `cacheDir` keeps the remote's pack indexes between runs.
Expected<S3Transfer> pushObjectsToS3(const store::S3Client &client, const store::ObjectStore &local,
                                     const QSet<QString> &ids, const QString &cacheDir, Feedback *feedback = nullptr);
/// Fetches the objects in `ids` that `local` lacks, verifying every chunk and manifest.
Expected<S3Transfer> pullObjectsFromS3(const store::S3Client &client, store::ObjectStore &local,
                                       const QSet<QString> &ids, const QString &cacheDir, Feedback *feedback = nullptr);

/// A ref as a download saw it: its bytes and its ETag (empty when the server sent none).
struct RemoteRef {
    QByteArray bytes;
    QByteArray etag;
};
/// The remote's refs as a download saw them, by path below git/: what a later upload may replace.
using RemoteRefTags = QHash<QString, RemoteRef>;

/// Brings the local mirror of the remote's git repository (a bare repository at `mirror`) up to the remote's state:
/// files it lacks, and the refs. Creates the mirror when missing. Returns false when the remote holds no history yet.
/// `seen`, when given, receives the refs it read.
Expected<bool> downloadGitMirror(const store::S3Client &client, const QString &mirror, RemoteRefTags *seen = nullptr);
/// Sends the mirror's files the remote lacks, git objects first and refs last. With `seen` (from the download this
/// push started from), only the refs that differ from what was read are written; each replaces only the version
/// read then, or is created only if still absent (conditional writes): a push that raced another on the same ref
/// fails with ErrorKind::Conflict and overwrites nothing, and refs this push did not change are left alone, whoever
/// moved them since. Servers that ignore the conditions (s3rver) get the unconditional writes of old.
Status uploadGitMirror(const store::S3Client &client, const QString &mirror, const RemoteRefTags *seen = nullptr);

} // namespace keel::workspace
