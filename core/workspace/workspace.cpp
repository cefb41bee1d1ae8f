#include "workspace/workspace.h"

#include "store/objectstore.h"
#include "tracking/trackingstore.h"
#include "util/fileutil.h"
#include "workspace/gitrepo.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>

#include <yaml-cpp/yaml.h>

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
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    try {
        YAML::Node node = YAML::Load(bytes->toStdString());
        if (!node.IsMap())
            return makeError(QStringLiteral("expected a map of settings"), path, 1);
        return node;
    } catch (const YAML::Exception &e) {
        return makeError(QString::fromStdString(e.msg), path, e.mark.line + 1);
    }
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

Expected<Workspace::Lock> Workspace::lock()
{
    const QByteArray path = QFile::encodeName(keelDir() + QStringLiteral("/workspace.lock"));
    const int fd = ::open(path.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return makeError(QStringLiteral("cannot open workspace lock"), QFile::decodeName(path));
    if (::flock(fd, LOCK_EX) != 0) {
        ::close(fd);
        return makeError(QStringLiteral("cannot lock workspace"), QFile::decodeName(path));
    }
    // Holding the lock, no other Keel process is inside a commit: git lock files left now were left by a
    // killed process, and would block every later commit.
    const QStringList stale = {QStringLiteral("/.git/index.lock"), QStringLiteral("/.git/HEAD.lock"),
                               QStringLiteral("/.git/refs/heads/") + m_git->currentBranch() + QStringLiteral(".lock")};
    for (const QString &f : stale)
        QFile::remove(m_root + f);
    return Lock(fd);
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
        auto t = tracking::TrackingStore::open(keelDir() + QStringLiteral("/keel.db"));
        if (!t)
            return t.error();
        m_tracking = std::move(*t);
    }
    return m_tracking.get();
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
    auto commit = ws->m_git->commitFiles(files, QStringLiteral("Create Keel workspace"));
    if (!commit)
        return commit.error();
    if (Status s = ws->audit(QStringLiteral("workspace.init"), ws->m_root, {}, *commit); !s)
        return s.error();
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
    std::vector<RemoteInfo> out;
    const YAML::Node r = (*settings)["remotes"];
    if (r && r.IsMap()) {
        for (auto it = r.begin(); it != r.end(); ++it) {
            RemoteInfo info;
            info.name = QString::fromStdString(it->first.as<std::string>());
            const YAML::Node v = it->second;
            info.path = QString::fromStdString(v.IsMap() ? v["path"].as<std::string>("") : v.as<std::string>(""));
            out.push_back(info);
        }
    }
    return out;
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

Status Workspace::addRemote(const QString &name, const QString &path)
{
    static const QRegularExpression valid(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"));
    if (!valid.match(name).hasMatch())
        return makeError(QStringLiteral("remote names use letters, digits, '.', '_' and '-'"), {}, -1, name);
    auto settings = loadSettings(m_root);
    if (!settings)
        return settings.error();
    YAML::Node node = *settings;
    if (node["remotes"] && node["remotes"][name.toStdString()])
        return makeError(QStringLiteral("a remote named '%1' exists already").arg(name));
    const QString abs = QFileInfo(path).absoluteFilePath();
    YAML::Node remote;
    remote["path"] = abs.toStdString();
    node["remotes"][name.toStdString()] = remote;
    YAML::Emitter out;
    out << node;
    auto lk = lock();
    if (!lk)
        return lk.error();
    QMap<QString, QByteArray> files;
    files.insert(kSettingsFile, QByteArray(out.c_str()) + '\n');
    auto commit = m_git->commitFiles(files, QStringLiteral("Add remote %1 (%2)").arg(name, abs));
    if (!commit)
        return commit.error();
    return audit(QStringLiteral("remote.add"), name, QJsonObject{{QStringLiteral("path"), abs}}, *commit);
}

} // namespace keel::workspace
