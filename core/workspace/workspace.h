#pragma once
// A Keel workspace: a folder holding keel.yaml, datasets/, models/, pipelines/ (all in git) and .keel/
// (object store, caches, tracking database; ignored by git). One Workspace object per thread.

#include "util/result.h"

#include <QJsonObject>
#include <QMap>
#include <QString>

#include <functional>
#include <memory>
#include <vector>

namespace keel::store { class ObjectStore; }
namespace keel::tracking { class TrackingStore; struct AuditHead; }

namespace keel::workspace {

/// The versioned file that records the audit chain's head at each commit: audit/CHAIN.head, one per trail (each
/// workspace's tracking database has its own chain), so clones that pull each other's commits never conflict on it.
QString auditHeadPath(const QString &chain);
/// Its text for `head`.
QByteArray auditHeadText(const tracking::AuditHead &head);

class GitRepo;

/// A named place to push to and pull from: a folder holding `git/` (bare repository) and `objects/` (object store),
/// or an s3://BUCKET/PREFIX address on S3-compatible storage (workspace/s3remote.h) with its endpoint and region.
struct RemoteInfo {
    QString name;
    QString path;
    QString endpoint;   ///< S3 only: e.g. http://127.0.0.1:9000 (MinIO); empty for AWS
    QString region;     ///< S3 only: empty for $AWS_REGION or us-east-1

    bool isS3() const { return path.startsWith(QLatin1String("s3://")); }
};

class Workspace {
public:
    ~Workspace();

    /// Creates a workspace in `dir` (created if missing). Error if `dir` already holds one.
    static Expected<std::unique_ptr<Workspace>> init(const QString &dir);
    /// Opens the workspace containing `startDir` (searching upward).
    static Expected<std::unique_ptr<Workspace>> open(const QString &startDir);
    /// The workspace root containing `startDir`, or empty.
    static QString findRoot(const QString &startDir);

    QString root() const { return m_root; }
    QString keelDir() const { return m_root + QStringLiteral("/.keel"); }
    QString cacheDir() const { return m_root + QStringLiteral("/.keel/cache"); }
    QString tmpDir() const { return m_root + QStringLiteral("/.keel/tmp"); }

    GitRepo &git() { return *m_git; }
    store::ObjectStore &store() { return *m_store; }
    /// The tracking database, opened on first use.
    Expected<tracking::TrackingStore *> tracking();
    /// Where the tracking store lives: keel.yaml's `tracking:` (a postgresql:// address shared by a team), or by
    /// default (and with `tracking: local`) .keel/keel.db.
    Expected<QString> trackingLocation() const;

    /// Records an audit event (action such as "data.add", subject such as a dataset name).
    Status audit(const QString &action, const QString &subject, const QJsonObject &detail, const QString &commit = {});

    /// Commits `files` and records the audit event for that commit as one step: when the event cannot be written
    /// (a full disk, a damaged tracking database), the commit is undone and its files restored, so git and the
    /// audit trail never disagree. Callers hold lock(). Returns the commit id.
    Expected<QString> commitAndAudit(const QMap<QString, QByteArray> &files, const QString &message,
                                     const QString &action, const QString &subject, QJsonObject detail);

    /// Tags HEAD as `name` and records the "tag" audit event; a tag whose event cannot be written is removed
    /// again. Returns the tagged commit.
    Expected<QString> tagHead(const QString &name, const QString &message);

    Expected<std::vector<RemoteInfo>> remotes() const;
    /// The remote called `name`; with an empty name, "origin" or else the only remote.
    Expected<RemoteInfo> remote(const QString &name) const;
    /// Adds a remote to keel.yaml and commits it. The folder is created when first pushed to. An s3:// path may
    /// carry an endpoint (S3-compatible servers) and a region.
    Status addRemote(const QString &name, const QString &path, const QString &endpoint = {}, const QString &region = {});

    /// Holds an exclusive inter-process lock on the workspace for read-modify-commit sequences.
    class Lock {
    public:
        ~Lock();
        Lock(Lock &&other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
        Lock(const Lock &) = delete;
    private:
        friend class Workspace;
        explicit Lock(int fd) : m_fd(fd) {}
        static Expected<Lock> take(const QString &path, int operation, const std::function<void()> &waiting);
        int m_fd = -1;
    };
    Expected<Lock> lock();

    /// A shared hold against the garbage collector. A writer takes it before it writes its first object and keeps
    /// it until the references to those objects are recorded (a git commit, an artifact row), so `store gc` never
    /// collects an object whose reference is still on its way. Take it before lock(), never after.
    Expected<Lock> guardObjectWrites();
    /// The garbage collector's exclusive hold: waits until no writer holds guardObjectWrites().
    /// `waiting` is called once if the wait is not immediate.
    Expected<Lock> lockForGc(const std::function<void()> &waiting = {});

    /// Folder with the bundled example data (resources/examples or the installed copy).
    static QString examplesDir();

private:
    Workspace() = default;
    Status openParts();
    Status addS3Remote(const QString &name, const QString &url, const QString &endpoint, const QString &region);
    Status recordRemote(const QString &name, const QString &path, const QString &endpoint, const QString &region);

    QString m_root;
    std::unique_ptr<GitRepo> m_git;
    std::unique_ptr<store::ObjectStore> m_store;
    std::unique_ptr<tracking::TrackingStore> m_tracking;
};

} // namespace keel::workspace
