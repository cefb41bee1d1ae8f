#include "workspace/workspace.h"

#include "store/objectstore.h"
#include "store/s3client.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "util/yaml.h"
#include "workspace/gitrepo.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QUrl>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace keel::workspace {

namespace {

const QString kSettingsFile = QStringLiteral("keel.yaml");

QByteArray defaultSettings(const QString &name)
{
    YAML::Emitter out;
    out << YAML::Comment("Keel workspace settings. Remotes and deployment targets live here, versioned with the workspace.");
    out << YAML::BeginMap;
    out << YAML::Key << "version" << YAML::Value << 1;
    out << YAML::Key << "name" << YAML::Value << name.toStdString();
    out << YAML::Key << "remotes" << YAML::Value << YAML::BeginMap << YAML::EndMap;
    out << YAML::EndMap;
    return QByteArray(out.c_str()) + '\n';
}

Expected<YAML::Node> loadSettings(const QString &root)
{
    const QString path = root + QLatin1Char('/') + kSettingsFile;
    auto node = yaml::parseFile(path);
    if (!node)
        return node.error();
    if (!node->IsMap())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("expected a map of settings"), path, 1);
    return node;
}

} // namespace

Workspace::~Workspace() = default;

Workspace::Lock::~Lock()
{
    if (m_fd >= 0) {
        ::flock(m_fd, LOCK_UN);
        ::close(m_fd);
    }
}

Expected<Workspace::Lock> Workspace::Lock::take(const QString &path, int operation,
                                                const std::function<void()> &waiting)
{
    const QByteArray p = QFile::encodeName(path);
    const int fd = ::open(p.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return makeError(ErrorKind::Io, QStringLiteral("cannot open lock file: %1").arg(QString::fromLocal8Bit(::strerror(errno))), path);
    if (::flock(fd, operation | LOCK_NB) != 0) {
        if (waiting)
            waiting();
        int rc;
        while ((rc = ::flock(fd, operation)) != 0 && errno == EINTR) {
        }
        if (rc != 0) {
            ::close(fd);
            return makeError(ErrorKind::Io, QStringLiteral("cannot lock"), path);
        }
    }
    return Lock(fd);
}

Expected<Workspace::Lock> Workspace::lock()
{
    auto taken = Lock::take(keelDir() + QStringLiteral("/workspace.lock"), LOCK_EX, {});
    if (!taken)
        return taken.error();
    // Holding the lock, no other Keel process is inside a commit: git lock files left now were left by a
    // killed process, and would block every later commit.
    QStringList stale = {QStringLiteral("/.git/index.lock"), QStringLiteral("/.git/HEAD.lock")};
    if (auto branch = m_git->currentBranch())
        stale << QStringLiteral("/.git/refs/heads/") + *branch + QStringLiteral(".lock");
    for (const QString &f : stale)
        QFile::remove(m_root + f);
    return taken;
}

Expected<Workspace::Lock> Workspace::guardObjectWrites()
{
    return Lock::take(keelDir() + QStringLiteral("/gc.lock"), LOCK_SH, {});
}

Expected<Workspace::Lock> Workspace::lockForGc(const std::function<void()> &waiting)
{
    return Lock::take(keelDir() + QStringLiteral("/gc.lock"), LOCK_EX, waiting);
}

QString auditHeadPath(const QString &chain) { return QStringLiteral("audit/") + chain + QStringLiteral(".head"); }

QByteArray auditHeadText(const tracking::AuditHead &head)
{
    return QStringLiteral("# The audit trail's head when this commit was made (keel audit verify checks the trail against it).\n"
                          "chain %1\nevent %2\nhash %3\n")
        .arg(head.chain)
        .arg(head.id)
        .arg(head.hash)
        .toUtf8();
}

Expected<QString> Workspace::commitAndAudit(const QMap<QString, QByteArray> &files, const QString &message,
                                            const QString &action, const QString &subject, QJsonObject detail)
{
    // The database must be usable before anything is committed.
    auto t = tracking();
    if (!t)
        return t.error();
    // The audit chain's head goes into every commit, so an edit of keel.db is caught against git (keel audit verify).
    auto head = (*t)->auditHead();
    if (!head)
        return head.error();
    QMap<QString, QByteArray> withHead = files;
    if (!head->chain.isEmpty())
        withHead.insert(auditHeadPath(head->chain), auditHeadText(*head));
    auto commit = m_git->commitFiles(withHead, message);
    if (!commit)
        return commit.error();
    if (Status s = audit(action, subject, detail, *commit); !s) {
        if (Status undone = m_git->undoCommit(*commit, withHead.keys()); !undone)
            return makeError(s.error().kind,
                             s.error().toString()
                                 + QStringLiteral(" (commit %1 could not be undone: %2; the next run of the same "
                                                  "command records the missing event)")
                                       .arg(commit->left(10), undone.message()));
        return s.error();
    }
    return commit;
}

Expected<QString> Workspace::tagHead(const QString &name, const QString &message)
{
    auto held = lock();
    if (!held)
        return held.error();
    auto t = tracking();
    if (!t)
        return t.error();
    auto head = m_git->headCommit();
    if (!head)
        return head.error();
    if (Status s = m_git->createTag(name, message.isEmpty() ? name : message); !s)
        return s.error();
    if (Status s = audit(QStringLiteral("tag"), name, QJsonObject{{QStringLiteral("message"), message}}, *head); !s) {
        Error e = s.error();
        if (Status undone = m_git->deleteTag(name); !undone)
            e.message += QStringLiteral(" (and removing the tag again failed: %1)").arg(undone.message());
        return e;
    }
    return head;
}

QString Workspace::findRoot(const QString &startDir)
{
    QDir dir(QFileInfo(startDir).absoluteFilePath());
    while (true) {
        if (QFileInfo::exists(dir.filePath(kSettingsFile)) && QFileInfo(dir.filePath(QStringLiteral(".git"))).exists())
            return dir.absolutePath();
        if (!dir.cdUp())
            return {};
    }
}

QString Workspace::examplesDir()
{
    const QStringList candidates = {
        qEnvironmentVariable("KEEL_EXAMPLES_DIR"),
        QCoreApplication::applicationDirPath() + QStringLiteral("/../share/keel/examples"),
        QStringLiteral(KEEL_EXAMPLES_SOURCE_DIR),
    };
    for (const QString &c : candidates)
        if (!c.isEmpty() && QFileInfo::exists(c + QStringLiteral("/adult_train.csv")))
            return QDir::cleanPath(c);
    return {};
}

Status Workspace::openParts()
{
    if (!QDir().mkpath(tmpDir()) || !QDir().mkpath(cacheDir()))
        return makeError(QStringLiteral("cannot create %1").arg(keelDir()));
    auto store = store::ObjectStore::open(keelDir() + QStringLiteral("/objects"), true);
    if (!store)
        return store.error();
    m_store = std::move(*store);
    return {};
}

Expected<tracking::TrackingStore *> Workspace::tracking()
{
    if (!m_tracking) {
        auto location = trackingLocation();
        if (!location)
            return location.error();
        auto t = tracking::TrackingStore::open(*location);
        if (!t)
            return t.error();
        m_tracking = std::move(*t);
    }
    return m_tracking.get();
}

Expected<QString> Workspace::trackingLocation() const
{
    const QString local = keelDir() + QStringLiteral("/keel.db");
    if (!QFileInfo::exists(m_root + QLatin1Char('/') + kSettingsFile))
        return local;   // a workspace being created: its first commit writes keel.yaml
    auto settings = loadSettings(m_root);
    if (!settings)
        return settings.error();
    const YAML::Node node = (*settings)["tracking"];
    if (!node || node.IsNull())
        return local;
    const QString path = m_root + QLatin1Char('/') + kSettingsFile;
    if (!node.IsScalar())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("'tracking' must be a postgresql:// address or 'local'"),
                         path, node.Mark().line + 1, QStringLiteral("tracking"));
    const QString value = yaml::fromStd(node.as<std::string>());
    if (value == u"local")
        return local;
    if (tracking::isPostgresLocation(value) && !QUrl(value).password().isEmpty())
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("keel.yaml is committed and pushed: keep the database password out of it (set "
                                        "PGPASSWORD or use ~/.pgpass)"),
                         path, node.Mark().line + 1, QStringLiteral("tracking"));
    if (!tracking::isPostgresLocation(value))
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("'tracking' must be a postgresql://USER@HOST:PORT/DATABASE address or 'local', not '%1'")
                             .arg(value),
                         path, node.Mark().line + 1, QStringLiteral("tracking"));
    return value;
}

Status Workspace::audit(const QString &action, const QString &subject, const QJsonObject &detail, const QString &commit)
{
    auto t = tracking();
    if (!t)
        return t.error();
    tracking::AuditEvent e;
    e.action = action;
    e.subject = subject;
    e.detail = detail;
    e.commit = commit;
    auto id = (*t)->addAuditEvent(e);
    return id.status();
}

Expected<std::unique_ptr<Workspace>> Workspace::init(const QString &dir)
{
    const QString root = QFileInfo(dir).absoluteFilePath();
    if (QFileInfo::exists(root + QLatin1Char('/') + kSettingsFile))
        return makeError(QStringLiteral("already a Keel workspace"), root);
    if (QFileInfo::exists(root) && !QFileInfo(root).isDir())
        return makeError(QStringLiteral("exists and is not a folder"), root);
    auto git = GitRepo::init(root, false);
    if (!git)
        return git.error();
    std::unique_ptr<Workspace> ws(new Workspace);
    ws->m_root = QDir::cleanPath(root);
    ws->m_git = std::move(*git);
    for (const char *sub : {"datasets", "models", "pipelines"})
        QDir(root).mkpath(QString::fromLatin1(sub));
    if (Status s = ws->openParts(); !s)
        return s.error();
    QMap<QString, QByteArray> files;
    files.insert(kSettingsFile, defaultSettings(QFileInfo(root).fileName()));
    files.insert(QStringLiteral(".gitignore"), QByteArrayLiteral("# Object store, caches and the tracking database stay local.\n/.keel/\n"));
    auto commit = ws->commitAndAudit(files, QStringLiteral("Create Keel workspace"), QStringLiteral("workspace.init"),
                                     ws->m_root, {});
    if (!commit)
        return commit.error();
    return ws;
}

Expected<std::unique_ptr<Workspace>> Workspace::open(const QString &startDir)
{
    const QString root = findRoot(startDir);
    if (root.isEmpty())
        return makeError(QStringLiteral("not inside a Keel workspace (no keel.yaml found here or above; run 'keel init')"),
                         QFileInfo(startDir).absoluteFilePath());
    auto git = GitRepo::open(root);
    if (!git)
        return git.error();
    std::unique_ptr<Workspace> ws(new Workspace);
    ws->m_root = root;
    ws->m_git = std::move(*git);
    if (Status s = ws->openParts(); !s)
        return s.error();
    return ws;
}

Expected<std::vector<RemoteInfo>> Workspace::remotes() const
{
    auto settings = loadSettings(m_root);
    if (!settings)
        return settings.error();
    return yaml::guarded(m_root + QLatin1Char('/') + kSettingsFile, [&]() -> Expected<std::vector<RemoteInfo>> {
        std::vector<RemoteInfo> out;
        const YAML::Node r = (*settings)["remotes"];
        if (r && r.IsMap()) {
            for (auto it = r.begin(); it != r.end(); ++it) {
                RemoteInfo info;
                info.name = yaml::text(it->first);
                const YAML::Node v = it->second;
                info.path = yaml::fromStd(v.IsMap() ? v["path"].as<std::string>("") : v.as<std::string>(""));
                if (v.IsMap()) {
                    info.endpoint = yaml::fromStd(v["endpoint"].as<std::string>(""));
                    info.region = yaml::fromStd(v["region"].as<std::string>(""));
                }
                out.push_back(info);
            }
        }
        return out;
    });
}

Expected<RemoteInfo> Workspace::remote(const QString &name) const
{
    auto all = remotes();
    if (!all)
        return all.error();
    if (all->empty())
        return makeError(QStringLiteral("no remote configured; add one with 'keel remote add NAME PATH'"));
    const QString wanted = name.isEmpty() ? QStringLiteral("origin") : name;
    for (const auto &r : *all)
        if (r.name == wanted)
            return r;
    if (name.isEmpty() && all->size() == 1)
        return all->front();
    return makeError(QStringLiteral("no remote named '%1'").arg(wanted), m_root + QLatin1Char('/') + kSettingsFile);
}

namespace {

/// The path with symbolic links resolved as far as the path exists (the rest appended as written).
QString resolvedPath(const QString &path)
{
    QString existing = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
    QString rest;
    while (!existing.isEmpty() && !QFileInfo::exists(existing)) {
        const qsizetype slash = existing.lastIndexOf(QLatin1Char('/'));
        if (slash <= 0)
            return QDir::cleanPath(QFileInfo(path).absoluteFilePath());
        rest = existing.mid(slash) + rest;
        existing = existing.left(slash);
    }
    const QString canonical = QFileInfo(existing).canonicalFilePath();
    return QDir::cleanPath((canonical.isEmpty() ? existing : canonical) + rest);
}

bool isSameOrInside(const QString &path, const QString &folder)
{
    return path == folder || path.startsWith(folder + QLatin1Char('/'));
}

} // namespace

Status Workspace::addRemote(const QString &name, const QString &path, const QString &endpoint, const QString &region)
{
    static const QRegularExpression valid(QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")));
    if (!valid.match(name).hasMatch())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("remote names use letters, digits, '.', '_' and '-'"), {}, -1, name);
    if (path.trimmed().isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("a remote needs a folder path"), {}, -1, QStringLiteral("path"));
    if (store::isS3Url(path))
        return addS3Remote(name, path, endpoint, region);
    if (!endpoint.isEmpty() || !region.isEmpty())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("--endpoint and --region are for s3:// remotes"), {}, -1,
                         QStringLiteral("endpoint"));
    const QString abs = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
    const QString resolved = resolvedPath(abs);
    const QString ownRoot = resolvedPath(m_root);
    if (isSameOrInside(resolved, ownRoot))
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("a remote cannot be the workspace itself or a folder inside it (pushing there "
                                        "would write git/ and objects/ into the working tree); use a folder outside %1")
                             .arg(m_root),
                         abs);
    if (QFileInfo::exists(abs) && !QFileInfo(abs).isDir())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("a remote must be a folder; this is a file"), abs);
    if (QFileInfo::exists(abs) && !QDir(abs).isEmpty() && !QFileInfo::exists(abs + QStringLiteral("/git/HEAD")))
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("the folder is not empty and holds no Keel remote (no git/ inside); use an "
                                        "empty or new folder"),
                         abs);
    return recordRemote(name, abs, {}, {});
}

Status Workspace::addS3Remote(const QString &name, const QString &url, const QString &endpoint, const QString &region)
{
    auto location = store::parseS3Url(url);
    if (!location)
        return location.error();
    if (!endpoint.isEmpty()) {
        const QUrl e(endpoint, QUrl::StrictMode);
        if (!e.isValid() || (e.scheme() != u"http" && e.scheme() != u"https") || e.host().isEmpty() ||
            (!e.path().isEmpty() && e.path() != u"/"))
            return makeError(ErrorKind::InvalidInput,
                             QStringLiteral("the endpoint must be an http:// or https:// address without a path, like "
                                            "http://127.0.0.1:9000"),
                             {}, -1, QStringLiteral("endpoint"));
    }
    return recordRemote(name, location->url(), endpoint, region);
}

Status Workspace::recordRemote(const QString &name, const QString &path, const QString &endpoint, const QString &region)
{
    auto settings = loadSettings(m_root);
    if (!settings)
        return settings.error();
    YAML::Node node = *settings;
    if (node["remotes"] && node["remotes"][name.toStdString()])
        return makeError(ErrorKind::Conflict, QStringLiteral("a remote named '%1' exists already").arg(name));
    YAML::Node remote;
    remote["path"] = path.toStdString();
    if (!endpoint.isEmpty())
        remote["endpoint"] = endpoint.toStdString();
    if (!region.isEmpty())
        remote["region"] = region.toStdString();
    node["remotes"][name.toStdString()] = remote;
    YAML::Emitter out;
    out << node;
    auto lk = lock();
    if (!lk)
        return lk.error();
    QMap<QString, QByteArray> files;
    files.insert(kSettingsFile, QByteArray(out.c_str()) + '\n');
    QJsonObject detail{{QStringLiteral("path"), path}};
    if (!endpoint.isEmpty())
        detail.insert(QStringLiteral("endpoint"), endpoint);
    return commitAndAudit(files, QStringLiteral("Add remote %1 (%2)").arg(name, path), QStringLiteral("remote.add"),
                          name, detail)
        .status();
}

} // namespace keel::workspace
