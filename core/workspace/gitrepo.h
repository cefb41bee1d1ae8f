#pragma once
// The one adapter between Keel and libgit2: every git error becomes a keel::Error here.
// A GitRepo is used from one thread at a time.

#include "util/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QMap>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <vector>

struct git_repository;

namespace keel::workspace {

/// One commit as the history views show it.
struct CommitInfo {
    QString id;          ///< full hex id
    QString author;      ///< "Name <email>"
    QDateTime time;      ///< author time
    QString message;     ///< full message, trailing newline removed
    QStringList parents;
};

/// A git repository (working tree or bare) opened through libgit2.
class GitRepo {
public:
    ~GitRepo();
    GitRepo(const GitRepo &) = delete;
    GitRepo &operator=(const GitRepo &) = delete;

    /// Creates a repository with `main` as its initial branch (bare: no working tree).
    static Expected<std::unique_ptr<GitRepo>> init(const QString &path, bool bare);
    static Expected<std::unique_ptr<GitRepo>> open(const QString &path);
    /// Clones `url` (a local path) into `path`, checking out the default branch.
    static Expected<std::unique_ptr<GitRepo>> clone(const QString &url, const QString &path);

    QString workdir() const;

    /// Writes `files` (repo-relative path -> content) into the working tree, stages them, and commits on HEAD.
    /// Author from git config (user.name/user.email), falling back to the OS user. Returns the new commit id.
    /// On failure the files and their index entries are restored to HEAD's versions.
    Expected<QString> commitFiles(const QMap<QString, QByteArray> &files, const QString &message);
    /// Puts `paths` in the working tree and index back to their content at `commitId` (removing those it lacks).
    Status restorePaths(const QString &commitId, const QStringList &paths);
    /// Undoes `commitId`, which must be HEAD with one parent: the branch moves back to the parent and `paths` (the
    /// files the commit wrote) are restored. For a commit whose companion record (an audit event) failed.
    Status undoCommit(const QString &commitId, const QStringList &paths);

    /// HEAD commit id; an empty string when the branch has no commit yet; an error when HEAD cannot be read.
    Expected<QString> headCommit() const;
    /// Resolves a revision (full or abbreviated id, tag, branch, HEAD~2...) to a commit id.
    Expected<QString> resolveCommit(const QString &rev) const;
    Expected<CommitInfo> commitInfo(const QString &commitId) const;
    /// True when `ancestor` is `commit` or one of its ancestors.
    bool isAncestorOrSelf(const QString &ancestor, const QString &commit) const;
    /// Content of `path` at `commitId`; nullopt when the path does not exist there.
    Expected<std::optional<QByteArray>> readFileAt(const QString &commitId, const QString &path) const;
    /// Blob id of `path` at `commitId`, or empty.
    QString blobIdAt(const QString &commitId, const QString &path) const;
    /// Entries (file names) of the folder `dir` at `commitId`.
    QStringList listDirAt(const QString &commitId, const QString &dir) const;
    /// Who commits here: "Name <email>" from git config, else the OS user at this host (as commits record it).
    Expected<QString> signature() const;
    /// Commits reachable from HEAD that changed `path`, oldest first.
    Expected<std::vector<CommitInfo>> historyOf(const QString &path) const;
    /// All commits reachable from branches, tags and remote-tracking refs (and from `extraTips`, commit ids).
    Expected<QStringList> allCommits(const QStringList &extraTips = {}) const;
    /// Blob contents of every distinct version of the files under `dir` whose names end in `suffix`,
    /// over allCommits(extraTips).
    Expected<std::vector<QByteArray>> allBlobsUnder(const QString &dir, const QString &suffix,
                                                    const QStringList &extraTips = {}) const;
    /// Creates an annotated tag `name` on HEAD.
    Status createTag(const QString &name, const QString &message);
    Status deleteTag(const QString &name);
    QStringList tags() const;

    /// Pushes the current branch to the repository at `url` (fast-forward only). A push that loses to another
    /// workspace's push is an error of kind Conflict that says to pull first.
    Status push(const QString &url);
    /// Fetches the remote's branch into the staging ref refs/keel/incoming/<remoteName> and returns its commit id
    /// (empty when the remote has no branch). Staged commits are outside history (allCommits) until accepted.
    Expected<QString> fetch(const QString &url, const QString &remoteName);
    /// Moves refs/remotes/<remoteName>/<branch> to the staged commit and drops the staging ref: call once every
    /// object the staged history needs is verified in the local store.
    Status acceptFetched(const QString &remoteName);
    /// Drops the staging ref (a refused pull leaves the remote-tracking ref where it was).
    void discardFetched(const QString &remoteName);
    /// Integrates the fetched commit `theirs`: fast-forward, or a merge commit when histories diverged without
    /// conflicts. Returns a short description ("up to date", "fast-forward", "merged").
    Expected<QString> integrate(const QString &theirs, const QString &remoteName);
    /// The branch HEAD names (also before its first commit); an error when HEAD cannot be read or is detached.
    Expected<QString> currentBranch() const;

    /// libgit2's version, e.g. "1.5.1"
    static QString versionString();

private:
    explicit GitRepo(git_repository *repo);
    Expected<QString> commitFilesUnchecked(const QMap<QString, QByteArray> &files, const QString &message,
                                           const QString &head);
    git_repository *m_repo;
};

/// git_libgit2_init() once per process; safe to call repeatedly.
void ensureLibgit2();

} // namespace keel::workspace
