#include "workspace/gitrepo.h"

#include "util/fileutil.h"

#include <QDir>
#include <QFileInfo>
#include <QSysInfo>
#include <QSet>
#include <QTimeZone>

#include <git2.h>

#include <cstdlib>
#include <mutex>

namespace keel::workspace {

namespace {

template <class T, void (*Free)(T *)>
struct GitDeleter {
    void operator()(T *p) const { if (p) Free(p); }
};
template <class T, void (*Free)(T *)>
using GitPtr = std::unique_ptr<T, GitDeleter<T, Free>>;

using CommitPtr = GitPtr<git_commit, git_commit_free>;
using TreePtr = GitPtr<git_tree, git_tree_free>;
using TreeEntryPtr = GitPtr<git_tree_entry, git_tree_entry_free>;
using BlobPtr = GitPtr<git_blob, git_blob_free>;
using IndexPtr = GitPtr<git_index, git_index_free>;
using SignaturePtr = GitPtr<git_signature, git_signature_free>;
using RevwalkPtr = GitPtr<git_revwalk, git_revwalk_free>;
using RemotePtr = GitPtr<git_remote, git_remote_free>;
using ReferencePtr = GitPtr<git_reference, git_reference_free>;
using AnnotatedPtr = GitPtr<git_annotated_commit, git_annotated_commit_free>;
using ObjectPtr = GitPtr<git_object, git_object_free>;

/// The adapter: the last libgit2 error as a keel::Error.
Error gitError(const QString &what, const QString &where = {})
{
    const git_error *e = git_error_last();
    QString msg = what;
    if (e && e->message)
        msg += QStringLiteral(": ") + QString::fromUtf8(e->message);
    return makeError(msg, where);
}

QString oidHex(const git_oid *oid)
{
    char buf[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(buf, sizeof buf, oid);
    return QString::fromLatin1(buf);
}

bool parseOid(const QString &hex, git_oid *out)
{
    const QByteArray b = hex.toLatin1();
    return git_oid_fromstrn(out, b.constData(), size_t(b.size())) == 0 && hex.size() == GIT_OID_HEXSZ;
}

CommitInfo infoOf(git_commit *c)
{
    CommitInfo info;
    info.id = oidHex(git_commit_id(c));
    const git_signature *a = git_commit_author(c);
    info.author = QString::fromUtf8(a->name) + QStringLiteral(" <") + QString::fromUtf8(a->email) + QLatin1Char('>');
    info.time = QDateTime::fromSecsSinceEpoch(a->when.time, QTimeZone(a->when.offset * 60));
    info.message = QString::fromUtf8(git_commit_message(c)).trimmed();
    for (unsigned i = 0; i < git_commit_parentcount(c); ++i)
        info.parents << oidHex(git_commit_parent_id(c, i));
    return info;
}

Expected<SignaturePtr> defaultSignature(git_repository *repo)
{
    git_signature *sig = nullptr;
    if (git_signature_default(&sig, repo) == 0)
        return SignaturePtr(sig);
    // No user.name/user.email configured: fall back to the OS user at this host.
    QByteArray user = qgetenv("USER");
    if (user.isEmpty())
        user = "keel";
    const QByteArray email = user + '@' + QSysInfo::machineHostName().toUtf8();
    if (git_signature_now(&sig, user.constData(), email.constData()) != 0)
        return gitError(QStringLiteral("cannot create commit signature"));
    return SignaturePtr(sig);
}

Expected<CommitPtr> lookupCommit(git_repository *repo, const QString &id)
{
    git_oid oid;
    if (!parseOid(id, &oid))
        return makeError(QStringLiteral("not a commit id: %1").arg(id));
    git_commit *c = nullptr;
    if (git_commit_lookup(&c, repo, &oid) != 0)
        return gitError(QStringLiteral("no commit %1").arg(id));
    return CommitPtr(c);
}

QString blobIdIn(git_commit *c, const QByteArray &path)
{
    git_tree *t = nullptr;
    if (git_commit_tree(&t, c) != 0)
        return {};
    TreePtr tree(t);
    git_tree_entry *e = nullptr;
    if (git_tree_entry_bypath(&e, tree.get(), path.constData()) != 0)
        return {};
    TreeEntryPtr entry(e);
    return oidHex(git_tree_entry_id(entry.get()));
}

} // namespace

void ensureLibgit2()
{
    static std::once_flag once;
    std::call_once(once, [] { git_libgit2_init(); });
}

QString GitRepo::versionString()
{
    int major = 0, minor = 0, rev = 0;
    git_libgit2_version(&major, &minor, &rev);
    return QStringLiteral("%1.%2.%3").arg(major).arg(minor).arg(rev);
}

GitRepo::GitRepo(git_repository *repo) : m_repo(repo) {}
GitRepo::~GitRepo() { git_repository_free(m_repo); }

Expected<std::unique_ptr<GitRepo>> GitRepo::init(const QString &path, bool bare)
{
    ensureLibgit2();
    git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    opts.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_MKDIR;
    if (bare)
        opts.flags |= GIT_REPOSITORY_INIT_BARE;
    opts.initial_head = "main";
    git_repository *repo = nullptr;
    const QByteArray p = QFile::encodeName(path);
    if (git_repository_init_ext(&repo, p.constData(), &opts) != 0)
        return gitError(QStringLiteral("cannot create git repository"), path);
    return std::unique_ptr<GitRepo>(new GitRepo(repo));
}

Expected<std::unique_ptr<GitRepo>> GitRepo::open(const QString &path)
{
    ensureLibgit2();
    git_repository *repo = nullptr;
    const QByteArray p = QFile::encodeName(path);
    if (git_repository_open_ext(&repo, p.constData(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0)
        return gitError(QStringLiteral("not a git repository"), path);
    return std::unique_ptr<GitRepo>(new GitRepo(repo));
}

Expected<std::unique_ptr<GitRepo>> GitRepo::clone(const QString &url, const QString &path)
{
    ensureLibgit2();
    git_clone_options opts = GIT_CLONE_OPTIONS_INIT;
    opts.checkout_opts.checkout_strategy = GIT_CHECKOUT_SAFE;
    git_repository *repo = nullptr;
    const QByteArray u = QFile::encodeName(url), p = QFile::encodeName(path);
    if (git_clone(&repo, u.constData(), p.constData(), &opts) != 0)
        return gitError(QStringLiteral("cannot clone %1").arg(url), path);
    return std::unique_ptr<GitRepo>(new GitRepo(repo));
}

QString GitRepo::workdir() const
{
    const char *w = git_repository_workdir(m_repo);
    return w ? QDir::cleanPath(QFile::decodeName(w)) : QString();
}

Expected<QString> GitRepo::headCommit() const
{
    git_oid oid;
    const int rc = git_reference_name_to_id(&oid, m_repo, "HEAD");
    if (rc == GIT_ENOTFOUND && git_repository_head_unborn(m_repo) == 1)
        return QString();   // a branch with no commit yet
    if (rc != 0)
        return gitError(QStringLiteral("cannot read HEAD"), workdir());
    return oidHex(&oid);
}

Expected<QString> GitRepo::signature() const
{
    auto sig = defaultSignature(m_repo);
    if (!sig)
        return sig.error();
    return QString(QString::fromUtf8((*sig)->name) + QStringLiteral(" <") + QString::fromUtf8((*sig)->email) + QLatin1Char('>'));
}

Expected<QString> GitRepo::currentBranch() const
{
    git_reference *ref = nullptr;
    if (git_reference_lookup(&ref, m_repo, "HEAD") != 0)
        return gitError(QStringLiteral("cannot read HEAD"), workdir());
    ReferencePtr head(ref);
    const char *target = git_reference_symbolic_target(head.get());
    if (!target)
        return makeError(ErrorKind::Conflict, QStringLiteral("HEAD is detached (not on a branch); check out a branch first"),
                         workdir());
    QString name = QString::fromUtf8(target);
    if (name.startsWith(QLatin1String("refs/heads/")))
        name = name.mid(11);
    return name;
}

Expected<QString> GitRepo::commitFiles(const QMap<QString, QByteArray> &files, const QString &message)
{
    const QString root = workdir();
    if (root.isEmpty())
        return makeError(QStringLiteral("cannot commit files in a bare repository"));
    auto headOr = headCommit();
    if (!headOr)
        return headOr.error();
    const QString head = *headOr;
    auto committed = commitFilesUnchecked(files, message, head);
    if (!committed) {
        // Nothing half-done stays behind: the working tree and index get HEAD's versions of the files back.
        if (!head.isEmpty()) {
            if (Status restored = restorePaths(head, files.keys()); !restored) {
                Error both = committed.error();
                both.message += QStringLiteral(" (and restoring the working tree failed too: %1)")
                                    .arg(restored.error().toString());
                return both;
            }
        }
        return committed.error();
    }
    return committed;
}

Expected<QString> GitRepo::commitFilesUnchecked(const QMap<QString, QByteArray> &files, const QString &message,
                                                const QString &head)
{
    const QString root = workdir();
    for (auto it = files.cbegin(); it != files.cend(); ++it) {
        if (Status s = writeFileAtomic(root + QLatin1Char('/') + it.key(), it.value()); !s)
            return s.error();
    }
    git_index *idx = nullptr;
    if (git_repository_index(&idx, m_repo) != 0)
        return gitError(QStringLiteral("cannot open git index"), root);
    IndexPtr index(idx);
    if (git_index_read(index.get(), 1) != 0)
        return gitError(QStringLiteral("cannot read git index"), root);
    for (auto it = files.cbegin(); it != files.cend(); ++it) {
        const QByteArray rel = it.key().toUtf8();
        if (git_index_add_bypath(index.get(), rel.constData()) != 0)
            return gitError(QStringLiteral("cannot stage %1").arg(it.key()), root);
    }
    if (git_index_write(index.get()) != 0)
        return gitError(QStringLiteral("cannot write git index"), root);
    git_oid treeOid;
    if (git_index_write_tree(&treeOid, index.get()) != 0)
        return gitError(QStringLiteral("cannot write tree"), root);
    git_tree *t = nullptr;
    if (git_tree_lookup(&t, m_repo, &treeOid) != 0)
        return gitError(QStringLiteral("cannot read tree"), root);
    TreePtr tree(t);
    auto sig = defaultSignature(m_repo);
    if (!sig)
        return sig.error();
    CommitPtr parent;
    if (!head.isEmpty()) {
        auto p = lookupCommit(m_repo, head);
        if (!p)
            return p.error();
        parent = std::move(*p);
    }
    const git_commit *parents[1] = {parent.get()};
    git_oid commitOid;
    const QByteArray msg = message.toUtf8() + '\n';
    if (git_commit_create(&commitOid, m_repo, "HEAD", sig->get(), sig->get(), "UTF-8", msg.constData(), tree.get(),
                          parent ? 1 : 0, parents) != 0)
        return gitError(QStringLiteral("cannot commit"), root);
    return oidHex(&commitOid);
}

Status GitRepo::restorePaths(const QString &commitId, const QStringList &paths)
{
    const QString root = workdir();
    git_index *idx = nullptr;
    if (git_repository_index(&idx, m_repo) != 0)
        return gitError(QStringLiteral("cannot open git index"), root);
    IndexPtr index(idx);
    if (git_index_read(index.get(), 1) != 0)
        return gitError(QStringLiteral("cannot read git index"), root);
    for (const QString &path : paths) {
        auto content = readFileAt(commitId, path);
        if (!content)
            return content.error();
        const QByteArray rel = path.toUtf8();
        if (*content) {
            if (Status s = writeFileAtomic(root + QLatin1Char('/') + path, **content); !s)
                return s;
            if (git_index_add_bypath(index.get(), rel.constData()) != 0)
                return gitError(QStringLiteral("cannot stage %1").arg(path), root);
        } else {
            QFile::remove(root + QLatin1Char('/') + path);
            git_index_remove_bypath(index.get(), rel.constData());
        }
    }
    if (git_index_write(index.get()) != 0)
        return gitError(QStringLiteral("cannot write git index"), root);
    return {};
}

Status GitRepo::undoCommit(const QString &commitId, const QStringList &paths)
{
    auto head = headCommit();
    if (!head)
        return head.error();
    if (*head != commitId)
        return makeError(ErrorKind::Conflict, QStringLiteral("cannot undo commit %1: it is no longer HEAD").arg(commitId.left(10)));
    auto c = lookupCommit(m_repo, commitId);
    if (!c)
        return c.error();
    if (git_commit_parentcount(c->get()) != 1)
        return makeError(QStringLiteral("cannot undo commit %1: it has no single parent").arg(commitId.left(10)));
    const git_oid *parentOid = git_commit_parent_id(c->get(), 0);
    git_reference *h = nullptr;
    if (git_repository_head(&h, m_repo) != 0)
        return gitError(QStringLiteral("cannot read HEAD"));
    ReferencePtr headRef(h);
    git_reference *moved = nullptr;
    if (git_reference_set_target(&moved, headRef.get(), parentOid, "keel: undo a commit whose audit event failed") != 0)
        return gitError(QStringLiteral("cannot move the branch back"));
    ReferencePtr movedRef(moved);
    return restorePaths(oidHex(parentOid), paths);
}

bool GitRepo::isAncestorOrSelf(const QString &ancestor, const QString &commit) const
{
    if (ancestor == commit)
        return true;
    git_oid a, c;
    if (!parseOid(ancestor, &a) || !parseOid(commit, &c))
        return false;
    return git_graph_descendant_of(m_repo, &c, &a) == 1;
}

Expected<QString> GitRepo::resolveCommit(const QString &rev) const
{
    git_object *obj = nullptr;
    const QByteArray r = rev.toUtf8();
    if (git_revparse_single(&obj, m_repo, r.constData()) != 0)
        return makeError(QStringLiteral("unknown revision '%1'").arg(rev));
    ObjectPtr o(obj);
    git_object *peeled = nullptr;
    if (git_object_peel(&peeled, o.get(), GIT_OBJECT_COMMIT) != 0)
        return makeError(QStringLiteral("'%1' does not name a commit").arg(rev));
    ObjectPtr p(peeled);
    return oidHex(git_object_id(p.get()));
}

Expected<CommitInfo> GitRepo::commitInfo(const QString &commitId) const
{
    auto c = lookupCommit(m_repo, commitId);
    if (!c)
        return c.error();
    return infoOf(c->get());
}

Expected<std::optional<QByteArray>> GitRepo::readFileAt(const QString &commitId, const QString &path) const
{
    auto c = lookupCommit(m_repo, commitId);
    if (!c)
        return c.error();
    git_tree *t = nullptr;
    if (git_commit_tree(&t, c->get()) != 0)
        return gitError(QStringLiteral("cannot read tree of %1").arg(commitId));
    TreePtr tree(t);
    git_tree_entry *e = nullptr;
    const QByteArray p = path.toUtf8();
    if (git_tree_entry_bypath(&e, tree.get(), p.constData()) != 0)
        return std::optional<QByteArray>();
    TreeEntryPtr entry(e);
    git_blob *b = nullptr;
    if (git_blob_lookup(&b, m_repo, git_tree_entry_id(entry.get())) != 0)
        return gitError(QStringLiteral("cannot read %1 at %2").arg(path, commitId));
    BlobPtr blob(b);
    return std::optional<QByteArray>(QByteArray(static_cast<const char *>(git_blob_rawcontent(blob.get())),
                                                qsizetype(git_blob_rawsize(blob.get()))));
}

QString GitRepo::blobIdAt(const QString &commitId, const QString &path) const
{
    auto c = lookupCommit(m_repo, commitId);
    if (!c)
        return {};
    return blobIdIn(c->get(), path.toUtf8());
}

QStringList GitRepo::listDirAt(const QString &commitId, const QString &dir) const
{
    QStringList out;
    auto c = lookupCommit(m_repo, commitId);
    if (!c)
        return out;
    git_tree *t = nullptr;
    if (git_commit_tree(&t, c->get()) != 0)
        return out;
    TreePtr tree(t);
    git_tree_entry *e = nullptr;
    const QByteArray d = dir.toUtf8();
    if (git_tree_entry_bypath(&e, tree.get(), d.constData()) != 0)
        return out;
    TreeEntryPtr entry(e);
    if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE)
        return out;
    git_tree *sub = nullptr;
    if (git_tree_lookup(&sub, m_repo, git_tree_entry_id(entry.get())) != 0)
        return out;
    TreePtr subtree(sub);
    for (size_t i = 0; i < git_tree_entrycount(subtree.get()); ++i)
        out << QString::fromUtf8(git_tree_entry_name(git_tree_entry_byindex(subtree.get(), i)));
    return out;
}

Expected<std::vector<CommitInfo>> GitRepo::historyOf(const QString &path) const
{
    std::vector<CommitInfo> out;
    auto head = headCommit();
    if (!head)
        return head.error();
    if (head->isEmpty())
        return out;
    git_revwalk *w = nullptr;
    if (git_revwalk_new(&w, m_repo) != 0)
        return gitError(QStringLiteral("cannot walk history"));
    RevwalkPtr walk(w);
    git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME | GIT_SORT_REVERSE);
    if (git_revwalk_push_head(walk.get()) != 0)
        return gitError(QStringLiteral("cannot walk history"));
    const QByteArray p = path.toUtf8();
    git_oid oid;
    while (git_revwalk_next(&oid, walk.get()) == 0) {
        git_commit *c = nullptr;
        if (git_commit_lookup(&c, m_repo, &oid) != 0)
            return gitError(QStringLiteral("cannot read commit %1").arg(oidHex(&oid)));
        CommitPtr commit(c);
        const QString blob = blobIdIn(commit.get(), p);
        if (blob.isEmpty())
            continue;
        const unsigned parents = git_commit_parentcount(commit.get());
        bool changed = parents == 0;
        bool differsFromAll = true;
        for (unsigned i = 0; i < parents; ++i) {
            git_commit *pc = nullptr;
            if (git_commit_parent(&pc, commit.get(), i) != 0)
                continue;
            CommitPtr parent(pc);
            if (blobIdIn(parent.get(), p) == blob)
                differsFromAll = false;
        }
        // A merge counts as a version only when it produced content none of its parents had.
        if (parents > 0)
            changed = differsFromAll;
        if (changed)
            out.push_back(infoOf(commit.get()));
    }
    return out;
}

Expected<QStringList> GitRepo::allCommits(const QStringList &extraTips) const
{
    QStringList out;
    git_revwalk *w = nullptr;
    if (git_revwalk_new(&w, m_repo) != 0)
        return gitError(QStringLiteral("cannot walk history"));
    RevwalkPtr walk(w);
    // History proper: branches, tags and remote-tracking refs. Not refs/keel/ (commits fetched but not yet
    // accepted: their objects may still be on their way).
    for (const char *glob : {"refs/heads/*", "refs/tags/*", "refs/remotes/*"})
        git_revwalk_push_glob(walk.get(), glob);
    for (const QString &tip : extraTips) {
        git_oid tipOid;
        if (parseOid(tip, &tipOid))
            git_revwalk_push(walk.get(), &tipOid);
    }
    auto head = headCommit();
    if (!head)
        return head.error();
    if (!head->isEmpty())
        git_revwalk_push_head(walk.get());
    git_oid oid;
    while (git_revwalk_next(&oid, walk.get()) == 0)
        out << oidHex(&oid);
    return out;
}

Expected<std::vector<QByteArray>> GitRepo::allBlobsUnder(const QString &dir, const QString &suffix,
                                                         const QStringList &extraTips) const
{
    auto commits = allCommits(extraTips);
    if (!commits)
        return commits.error();
    QSet<QString> seen;
    std::vector<QByteArray> out;
    const QByteArray d = dir.toUtf8();
    for (const QString &id : *commits) {
        auto c = lookupCommit(m_repo, id);
        if (!c)
            return c.error();
        git_tree *t = nullptr;
        if (git_commit_tree(&t, c->get()) != 0)
            continue;
        TreePtr tree(t);
        git_tree_entry *e = nullptr;
        if (git_tree_entry_bypath(&e, tree.get(), d.constData()) != 0)
            continue;
        TreeEntryPtr entry(e);
        git_tree *sub = nullptr;
        if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE
            || git_tree_lookup(&sub, m_repo, git_tree_entry_id(entry.get())) != 0)
            continue;
        TreePtr subtree(sub);
        for (size_t i = 0; i < git_tree_entrycount(subtree.get()); ++i) {
            const git_tree_entry *se = git_tree_entry_byindex(subtree.get(), i);
            if (git_tree_entry_type(se) != GIT_OBJECT_BLOB
                || !QString::fromUtf8(git_tree_entry_name(se)).endsWith(suffix))
                continue;
            const QString bid = oidHex(git_tree_entry_id(se));
            if (seen.contains(bid))
                continue;
            seen.insert(bid);
            git_blob *b = nullptr;
            if (git_blob_lookup(&b, m_repo, git_tree_entry_id(se)) != 0)
                return gitError(QStringLiteral("cannot read blob %1").arg(bid));
            BlobPtr blob(b);
            out.emplace_back(static_cast<const char *>(git_blob_rawcontent(blob.get())),
                             qsizetype(git_blob_rawsize(blob.get())));
        }
    }
    return out;
}

Status GitRepo::createTag(const QString &name, const QString &message)
{
    auto headOr = headCommit();
    if (!headOr)
        return headOr.error();
    const QString head = *headOr;
    if (head.isEmpty())
        return makeError(QStringLiteral("nothing to tag: the workspace has no commit"));
    git_object *obj = nullptr;
    if (git_revparse_single(&obj, m_repo, "HEAD") != 0)
        return gitError(QStringLiteral("cannot resolve HEAD"));
    ObjectPtr target(obj);
    auto sig = defaultSignature(m_repo);
    if (!sig)
        return sig.error();
    git_oid oid;
    const QByteArray n = name.toUtf8(), m = message.toUtf8() + '\n';
    const int rc = git_tag_create(&oid, m_repo, n.constData(), target.get(), sig->get(), m.constData(), 0);
    if (rc == GIT_EEXISTS)
        return makeError(ErrorKind::Conflict, QStringLiteral("tag '%1' already exists").arg(name));
    if (rc == GIT_EINVALIDSPEC)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("'%1' is not a valid tag name").arg(name));
    if (rc != 0)
        return gitError(QStringLiteral("cannot create tag '%1'").arg(name));
    return {};
}

Status GitRepo::deleteTag(const QString &name)
{
    const QByteArray n = name.toUtf8();
    if (git_tag_delete(m_repo, n.constData()) != 0)
        return gitError(QStringLiteral("cannot delete tag '%1'").arg(name));
    return {};
}

QStringList GitRepo::tags() const
{
    git_strarray names{};
    QStringList out;
    if (git_tag_list(&names, m_repo) == 0) {
        for (size_t i = 0; i < names.count; ++i)
            out << QString::fromUtf8(names.strings[i]);
        git_strarray_dispose(&names);
    }
    return out;
}

namespace {
QByteArray incomingRef(const QString &remoteName) { return "refs/keel/incoming/" + remoteName.toUtf8(); }
} // namespace

Expected<QString> GitRepo::fetch(const QString &url, const QString &remoteName)
{
    git_remote *r = nullptr;
    const QByteArray u = QFile::encodeName(url);
    if (git_remote_create_anonymous(&r, m_repo, u.constData()) != 0)
        return gitError(QStringLiteral("cannot reach remote"), url);
    RemotePtr remote(r);
    auto branchName = currentBranch();
    if (!branchName)
        return branchName.error();
    const QByteArray branch = branchName->toUtf8();
    const QByteArray trackingRef = incomingRef(remoteName);
    const QByteArray spec = "+refs/heads/" + branch + ':' + trackingRef;
    char *specs[] = {const_cast<char *>(spec.constData())};
    const git_strarray refspecs = {specs, 1};
    git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
    if (git_remote_fetch(remote.get(), &refspecs, &opts, "keel fetch") != 0)
        return gitError(QStringLiteral("fetch failed"), url);
    git_oid oid;
    if (git_reference_name_to_id(&oid, m_repo, trackingRef.constData()) != 0)
        return QString(); // the remote has no such branch yet
    return oidHex(&oid);
}

Status GitRepo::acceptFetched(const QString &remoteName)
{
    git_oid oid;
    if (git_reference_name_to_id(&oid, m_repo, incomingRef(remoteName).constData()) != 0)
        return {};   // nothing was fetched (the remote has no branch yet)
    auto branch = currentBranch();
    if (!branch)
        return branch.error();
    const QByteArray trackingRef = "refs/remotes/" + remoteName.toUtf8() + '/' + branch->toUtf8();
    git_reference *ref = nullptr;
    if (git_reference_create(&ref, m_repo, trackingRef.constData(), &oid, 1, "keel pull: objects verified") != 0)
        return gitError(QStringLiteral("cannot update %1").arg(QString::fromUtf8(trackingRef)));
    git_reference_free(ref);
    discardFetched(remoteName);
    return {};
}

void GitRepo::discardFetched(const QString &remoteName)
{
    git_reference *ref = nullptr;
    if (git_reference_lookup(&ref, m_repo, incomingRef(remoteName).constData()) == 0) {
        git_reference_delete(ref);
        git_reference_free(ref);
    }
}

Status GitRepo::push(const QString &url)
{
    // Refuse a non-fast-forward push with a clear message before libgit2 does with an obscure one.
    const QString probe = QStringLiteral("__keel_push");
    auto remoteHead = fetch(url, probe);
    discardFetched(probe);
    if (!remoteHead)
        return remoteHead.error();
    auto localOr = headCommit();
    if (!localOr)
        return localOr.error();
    const QString local = *localOr;
    if (local.isEmpty())
        return makeError(QStringLiteral("nothing to push: the workspace has no commit"));
    if (!remoteHead->isEmpty() && *remoteHead != local) {
        git_oid l, rm;
        parseOid(local, &l);
        parseOid(*remoteHead, &rm);
        if (git_graph_descendant_of(m_repo, &l, &rm) != 1)
            return makeError(ErrorKind::Conflict,
                             QStringLiteral("the remote has versions this workspace does not have; run 'keel pull' first"),
                             url);
    }
    git_remote *r = nullptr;
    const QByteArray u = QFile::encodeName(url);
    if (git_remote_create_anonymous(&r, m_repo, u.constData()) != 0)
        return gitError(QStringLiteral("cannot reach remote"), url);
    RemotePtr remote(r);
    auto branchName = currentBranch();
    if (!branchName)
        return branchName.error();
    const QByteArray branch = branchName->toUtf8();
    const QByteArray spec = "refs/heads/" + branch + ":refs/heads/" + branch;
    char *specs[] = {const_cast<char *>(spec.constData())};
    const git_strarray refspecs = {specs, 1};
    git_push_options opts = GIT_PUSH_OPTIONS_INIT;
    QString rejected;
    opts.callbacks.push_update_reference = [](const char *ref, const char *status, void *payload) -> int {
        if (status)
            *static_cast<QString *>(payload) = QString::fromUtf8(ref) + QStringLiteral(": ") + QString::fromUtf8(status);
        return 0;
    };
    opts.callbacks.payload = &rejected;
    // Another workspace may push between our check and our push: libgit2 then refuses a non-fast-forward update
    // with its own words; say what to do instead.
    const QString behind = QStringLiteral("the remote has versions this workspace does not have (another push came "
                                          "first); run 'keel pull' first");
    if (git_remote_push(remote.get(), &refspecs, &opts) != 0) {
        const git_error *e = git_error_last();
        const QString text = e && e->message ? QString::fromUtf8(e->message) : QString();
        if (text.contains(QLatin1String("fast-forward"), Qt::CaseInsensitive)
            || text.contains(QLatin1String("fastforward"), Qt::CaseInsensitive)
            || text.contains(QLatin1String("reference"), Qt::CaseInsensitive)
            || text.contains(QLatin1String("lock"), Qt::CaseInsensitive))
            return makeError(ErrorKind::Conflict, behind, url);
        return gitError(QStringLiteral("push failed"), url);
    }
    if (!rejected.isEmpty())
        return makeError(ErrorKind::Conflict, behind + QStringLiteral(" (%1)").arg(rejected), url);
    // Keep the remote's tags in step too (ignored when there are none).
    const QStringList tagNames = tags();
    if (!tagNames.isEmpty()) {
        std::vector<QByteArray> tagSpecs;
        for (const QString &t : tagNames)
            tagSpecs.push_back("refs/tags/" + t.toUtf8() + ":refs/tags/" + t.toUtf8());
        std::vector<char *> ptrs;
        for (auto &s : tagSpecs)
            ptrs.push_back(s.data());
        const git_strarray ts = {ptrs.data(), ptrs.size()};
        git_push_options topts = GIT_PUSH_OPTIONS_INIT;
        if (git_remote_push(remote.get(), &ts, &topts) != 0)
            return gitError(QStringLiteral("pushing tags failed"), url);
    }
    return {};
}

Expected<QString> GitRepo::integrate(const QString &theirs, const QString &remoteName)
{
    if (theirs.isEmpty())
        return QStringLiteral("remote is empty");
    git_oid theirOid;
    parseOid(theirs, &theirOid);
    git_annotated_commit *ac = nullptr;
    if (git_annotated_commit_lookup(&ac, m_repo, &theirOid) != 0)
        return gitError(QStringLiteral("cannot read fetched commit"));
    AnnotatedPtr their(ac);
    git_merge_analysis_t analysis;
    git_merge_preference_t pref;
    const git_annotated_commit *heads[] = {their.get()};
    if (git_merge_analysis(&analysis, &pref, m_repo, heads, 1) != 0)
        return gitError(QStringLiteral("cannot compare with the remote"));
    if (analysis & GIT_MERGE_ANALYSIS_UP_TO_DATE)
        return QStringLiteral("up to date");

    auto theirCommit = lookupCommit(m_repo, theirs);
    if (!theirCommit)
        return theirCommit.error();
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_RECREATE_MISSING;
    auto branch = currentBranch();
    if (!branch)
        return branch.error();
    const QByteArray branchRef = "refs/heads/" + branch->toUtf8();

    if (analysis & (GIT_MERGE_ANALYSIS_FASTFORWARD | GIT_MERGE_ANALYSIS_UNBORN)) {
        git_tree *t = nullptr;
        if (git_commit_tree(&t, theirCommit->get()) != 0)
            return gitError(QStringLiteral("cannot read fetched tree"));
        TreePtr tree(t);
        if (git_checkout_tree(m_repo, reinterpret_cast<git_object *>(tree.get()), &co) != 0)
            return gitError(QStringLiteral("cannot update the working tree"), workdir());
        git_reference *ref = nullptr;
        if (git_reference_create(&ref, m_repo, branchRef.constData(), &theirOid, 1, "keel pull: fast-forward") != 0)
            return gitError(QStringLiteral("cannot move branch"));
        git_reference_free(ref);
        return QStringLiteral("fast-forward");
    }

    auto head = headCommit();
    if (!head)
        return head.error();
    auto ours = lookupCommit(m_repo, *head);
    if (!ours)
        return ours.error();
    git_index *idx = nullptr;
    git_merge_options mo = GIT_MERGE_OPTIONS_INIT;
    if (git_merge_commits(&idx, m_repo, ours->get(), theirCommit->get(), &mo) != 0)
        return gitError(QStringLiteral("cannot merge with the remote"));
    IndexPtr index(idx);
    if (git_index_has_conflicts(index.get())) {
        QStringList paths;
        git_index_conflict_iterator *it = nullptr;
        if (git_index_conflict_iterator_new(&it, index.get()) == 0) {
            const git_index_entry *a, *o, *t;
            while (git_index_conflict_next(&a, &o, &t, it) == 0)
                paths << QString::fromUtf8((o ? o : (t ? t : a))->path);
            git_index_conflict_iterator_free(it);
        }
        return makeError(QStringLiteral("the remote changed the same files differently: %1; nothing was changed locally")
                             .arg(paths.join(QStringLiteral(", "))),
                         remoteName);
    }
    git_oid treeOid;
    if (git_index_write_tree_to(&treeOid, index.get(), m_repo) != 0)
        return gitError(QStringLiteral("cannot write merged tree"));
    git_tree *t = nullptr;
    if (git_tree_lookup(&t, m_repo, &treeOid) != 0)
        return gitError(QStringLiteral("cannot read merged tree"));
    TreePtr tree(t);
    auto sig = defaultSignature(m_repo);
    if (!sig)
        return sig.error();
    const git_commit *parents[] = {ours->get(), theirCommit->get()};
    git_oid commitOid;
    const QByteArray msg = "Merge " + remoteName.toUtf8() + " into " + branch->toUtf8() + '\n';
    if (git_checkout_tree(m_repo, reinterpret_cast<git_object *>(tree.get()), &co) != 0)
        return gitError(QStringLiteral("cannot update the working tree"), workdir());
    if (git_commit_create(&commitOid, m_repo, "HEAD", sig->get(), sig->get(), "UTF-8", msg.constData(), tree.get(), 2,
                          parents) != 0)
        return gitError(QStringLiteral("cannot commit merge"));
    // Keep the index in step with the new HEAD tree.
    git_index *headIdx = nullptr;
    if (git_repository_index(&headIdx, m_repo) == 0) {
        IndexPtr hi(headIdx);
        git_index_read_tree(hi.get(), tree.get());
        git_index_write(hi.get());
    }
    return QStringLiteral("merged");
}

} // namespace keel::workspace
