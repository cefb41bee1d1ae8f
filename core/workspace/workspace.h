#pragma once
// A Keel workspace: a folder holding keel.yaml, datasets/, models/, pipelines/ (all in git) and .keel/
// (object store, caches, tracking database; ignored by git). One Workspace object per thread.

#include "util/result.h"

#include <QJsonObject>
#include <QString>

#include <memory>
#include <vector>

namespace keel::store { class ObjectStore; }
namespace keel::tracking { class TrackingStore; }

namespace keel::workspace {

class GitRepo;

/// A named place to push to and pull from: a folder holding `git/` (bare repository) and `objects/` (object store).
struct RemoteInfo {
    QString name;
    QString path;
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

    /// Records an audit event (action such as "data.add", subject such as a dataset name).
    Status audit(const QString &action, const QString &subject, const QJsonObject &detail, const QString &commit = {});

    Expected<std::vector<RemoteInfo>> remotes() const;
    /// The remote called `name`; with an empty name, "origin" or else the only remote.
    Expected<RemoteInfo> remote(const QString &name) const;
    /// Adds a remote to keel.yaml and commits it. The folder is created when first pushed to.
    Status addRemote(const QString &name, const QString &path);

    /// Holds an exclusive inter-process lock on the workspace for read-modify-commit sequences.
    class Lock {
    public:
        ~Lock();
        Lock(Lock &&other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
        Lock(const Lock &) = delete;
    private:
        friend class Workspace;
        explicit Lock(int fd) : m_fd(fd) {}
        int m_fd = -1;
    };
    Expected<Lock> lock();

    /// Folder with the bundled example data (resources/examples or the installed copy).
    static QString examplesDir();

private:
    Workspace() = default;
    Status openParts();

    QString m_root;
    std::unique_ptr<GitRepo> m_git;
    std::unique_ptr<store::ObjectStore> m_store;
    std::unique_ptr<tracking::TrackingStore> m_tracking;
};

} // namespace keel::workspace
