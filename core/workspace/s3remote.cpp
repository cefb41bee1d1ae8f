#include "workspace/s3remote.h"

#include "store/objectstore.h"
#include "store/pack.h"
#include "util/fileutil.h"
#include "util/hash.h"
#include "workspace/gitrepo.h"
#include "workspace/workspace.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace keel::workspace {

namespace {

constexpr qint64 kRemotePackBytes = 64LL << 20;
const QString kPacks = QStringLiteral("objects/packs/");
const QString kManifests = QStringLiteral("objects/manifests/");
const QString kGit = QStringLiteral("git/");

struct ChunkPlace {
    QString pack;
    qint64 offset = 0, length = 0;
};

/// The remote's chunks: every pack index, read from the local cache or downloaded (and verified) into it.
struct RemoteIndex {
    std::unordered_map<Sha256, ChunkPlace, Sha256Hasher> chunks;
    QHash<QString, qint64> packSizes;
};

Expected<RemoteIndex> loadRemoteIndex(const store::S3Client &client, const QString &cacheDir)
{
    auto listed = client.list(kPacks);
    if (!listed)
        return listed.error();
    if (!QDir().mkpath(cacheDir))
        return makeError(ErrorKind::Io, QStringLiteral("cannot create the folder"), cacheDir);
    RemoteIndex index;
    for (const QString &path : *listed) {
        const QString file = path.mid(kPacks.size());
        if (!file.startsWith(QLatin1String("pack-")) || !file.endsWith(QLatin1String(".idx")))
            continue;
        const QString name = file.mid(5, file.size() - 9);
        if (!isHexId(name))
            continue;
        const QString cached = cacheDir + QLatin1Char('/') + file;
        QByteArray bytes;
        if (QFile f(cached); f.open(QIODevice::ReadOnly))
            bytes = f.readAll();
        Expected<store::PackIndex> idx = store::decodePackIndex(bytes, cached, name);
        if (!idx) {   // not cached yet (or a damaged cache entry): fetch it
            auto fetched = client.get(path);
            if (!fetched)
                return fetched.error();
            idx = store::decodePackIndex(*fetched, client.location().url() + QLatin1Char('/') + path, name);
            if (!idx)
                return idx.error();
            if (Status s = writeFileAtomic(cached, *fetched); !s)
                return s.error();
        }
        index.packSizes.insert(name, idx->packSize);
        for (const store::PackEntry &e : idx->entries)
            index.chunks.emplace(e.id, ChunkPlace{name, e.offset, e.length});
    }
    return index;
}

Expected<QSet<QString>> remoteManifests(const store::S3Client &client)
{
    auto listed = client.list(kManifests);
    if (!listed)
        return listed.error();
    QSet<QString> out;
    for (const QString &path : *listed)
        if (const QString id = path.mid(kManifests.size()); isHexId(id))
            out.insert(id);
    return out;
}

} // namespace

Expected<std::unique_ptr<store::S3Client>> s3ClientFor(const RemoteInfo &remote)
{
    auto location = store::parseS3Url(remote.path);
    if (!location)
        return location.error();
    location->endpoint = remote.endpoint;
    location->region = remote.region;
    auto credentials = store::loadS3Credentials();
    if (!credentials)
        return credentials.error();
    return std::make_unique<store::S3Client>(*location, *credentials);
}

Expected<S3Transfer> pushObjectsToS3(const store::S3Client &client, const store::ObjectStore &local,
                                     const QSet<QString> &ids, const QString &cacheDir, Feedback *feedback)
{
    auto there = remoteManifests(client);
    if (!there)
        return there.error();
    auto index = loadRemoteIndex(client, cacheDir);
    if (!index)
        return index.error();

    // Plan: the manifests the remote lacks, and the chunks none of its packs hold, in object order.
    QStringList wanted;
    for (const QString &id : ids)
        if (!there->contains(id))
            wanted << id;
    wanted.sort();
    std::vector<std::pair<QString, QByteArray>> manifests;
    std::vector<Sha256> missing;
    std::unordered_set<Sha256, Sha256Hasher> planned;
    qint64 total = 0;
    for (const QString &id : wanted) {
        auto m = local.manifest(id);
        if (!m)
            return m.error();
        for (const store::ManifestChunk &c : m->second.chunks)
            if (!index->chunks.count(c.id) && planned.insert(c.id).second) {
                missing.push_back(c.id);
                total += c.length;
            }
        manifests.emplace_back(id, std::move(m->first));
    }

    S3Transfer done;
    reportProgress(feedback, 0, total, QStringLiteral("upload"));
    // Packs in the store's own format: header, chunks back to back, then an idx naming it by its checksum.
    QByteArray pack;
    std::vector<store::PackEntry> entries;
    auto flush = [&]() -> Status {
        if (entries.empty())
            return {};
        QString name;
        const QByteArray idx = store::encodePackIndex(entries, pack.size(), &name);
        if (Status s = client.put(kPacks + store::packFileName(name), pack); !s)
            return s;
        if (Status s = client.put(kPacks + store::indexFileName(name), idx); !s)
            return s;
        if (Status s = writeFileAtomic(cacheDir + QLatin1Char('/') + store::indexFileName(name), idx); !s)
            return s;
        done.packs += 1;
        done.bytes += pack.size() - store::kPackHeaderSize;
        reportProgress(feedback, done.bytes, total, QStringLiteral("upload"));
        entries.clear();
        pack.clear();
        if (isCancelled(feedback))
            return cancelledError(client.location().url());
        return {};
    };
    Status read = local.readChunks(missing, [&](const Sha256 &id, QByteArrayView bytes) -> Status {
        if (pack.isEmpty())
            pack = store::packHeader();
        entries.push_back(store::PackEntry{id, pack.size(), bytes.size()});
        pack.append(bytes.data(), bytes.size());
        return pack.size() >= kRemotePackBytes ? flush() : Status();
    });
    if (!read)
        return read.error();
    if (Status s = flush(); !s)
        return s.error();
    // Manifests last: a reader never finds an object whose chunks are not all there.
    for (const auto &[id, bytes] : manifests) {
        if (Status s = client.put(kManifests + id, bytes); !s)
            return s.error();
        done.objects += 1;
    }
    reportProgress(feedback, total, total, QStringLiteral("upload"));
    return done;
}

Expected<S3Transfer> pullObjectsFromS3(const store::S3Client &client, store::ObjectStore &local,
                                       const QSet<QString> &ids, const QString &cacheDir, Feedback *feedback)
{
    QStringList wanted;
    for (const QString &id : ids)
        if (!local.contains(id))
            wanted << id;
    wanted.sort();
    S3Transfer done;
    if (wanted.isEmpty())
        return done;

    std::vector<std::pair<QString, QByteArray>> manifests;
    std::vector<Sha256> needed;
    std::unordered_set<Sha256, Sha256Hasher> seen;
    for (const QString &id : wanted) {
        auto bytes = client.get(kManifests + id);
        if (!bytes) {
            if (bytes.error().kind == ErrorKind::NotFound)
                return makeError(ErrorKind::Corrupt,
                                 QStringLiteral("the remote lacks object %1; was its last push interrupted? Push again "
                                                "from a complete workspace").arg(id.left(16)),
                                 client.location().url());
            return bytes.error();
        }
        if (toHex(sha256(*bytes)) != id)
            return makeError(ErrorKind::Corrupt, QStringLiteral("the remote's manifest of object %1 does not match its id").arg(id),
                             client.location().url() + QLatin1Char('/') + kManifests + id);
        auto m = store::decodeManifest(*bytes, client.location().url() + QLatin1Char('/') + kManifests + id);
        if (!m)
            return m.error();
        for (const store::ManifestChunk &c : m->chunks)
            if (seen.insert(c.id).second)
                needed.push_back(c.id);
        manifests.emplace_back(id, std::move(*bytes));
    }
    const std::vector<bool> have = local.hasChunks(needed);
    auto index = loadRemoteIndex(client, cacheDir);
    if (!index)
        return index.error();
    // Group what is missing by the pack that holds it.
    QHash<QString, std::vector<std::pair<Sha256, ChunkPlace>>> byPack;
    qint64 total = 0;
    for (size_t i = 0; i < needed.size(); ++i) {
        if (have[i])
            continue;
        const auto it = index->chunks.find(needed[i]);
        if (it == index->chunks.end())
            return makeError(ErrorKind::Corrupt,
                             QStringLiteral("the remote lacks chunk %1 (no pack index lists it)").arg(toHex(needed[i])),
                             client.location().url());
        byPack[it->second.pack].emplace_back(needed[i], it->second);
        total += it->second.length;
    }
    QStringList packs = byPack.keys();
    packs.sort();
    reportProgress(feedback, 0, total, QStringLiteral("download"));
    for (const QString &name : packs) {
        const QString path = kPacks + store::packFileName(name);
        auto bytes = client.get(path);
        if (!bytes)
            return bytes.error();
        if (bytes->size() != index->packSizes.value(name))
            return makeError(ErrorKind::Corrupt,
                             QStringLiteral("the pack has %1 bytes, its index says %2").arg(bytes->size()).arg(index->packSizes.value(name)),
                             client.location().url() + QLatin1Char('/') + path);
        std::vector<std::pair<Sha256, QByteArrayView>> chunks;
        for (const auto &[id, place] : byPack.value(name))
            chunks.emplace_back(id, QByteArrayView(bytes->constData() + place.offset, place.length));
        // addChunks hashes every chunk against its id before any is kept.
        if (Status s = local.addChunks(chunks); !s)
            return makeError(s.error().kind, s.error().message + QStringLiteral(" (from ") + client.location().url() +
                                                 QLatin1Char('/') + path + QLatin1Char(')'));
        done.packs += 1;
        for (const auto &c : chunks)
            done.bytes += c.second.size();
        reportProgress(feedback, done.bytes, total, QStringLiteral("download"));
        if (isCancelled(feedback))
            return cancelledError(client.location().url());
    }
    for (const auto &[id, bytes] : manifests) {
        if (Status s = local.addManifest(id, bytes); !s)
            return s.error();
        done.objects += 1;
    }
    return done;
}

namespace {

/// Files of a bare repository that change in place (everything else is named by its content and never changes).
bool isMutableGitFile(const QString &relative)
{
    return relative == u"HEAD" || relative == u"packed-refs" || relative.startsWith(QLatin1String("refs/"));
}

/// The only files synced either way: refs and content-named objects and packs. Never config, hooks, info/ or
/// alternates, which would let whoever can write the bucket steer the local mirror.
bool isSyncedGitFile(const QString &relative)
{
    static const QRegularExpression ref(QRegularExpression::anchoredPattern(QStringLiteral("refs/[A-Za-z0-9._/-]+")));
    static const QRegularExpression loose(QRegularExpression::anchoredPattern(QStringLiteral("objects/[0-9a-f]{2}/[0-9a-f]{38}")));
    static const QRegularExpression pack(
        QRegularExpression::anchoredPattern(QStringLiteral("objects/pack/pack-[0-9a-f]{40}\\.(pack|idx|rev)")));
    if (relative == u"HEAD" || relative == u"packed-refs")
        return true;
    if (relative.contains(QStringLiteral("..")) || relative.contains(QStringLiteral("//")) || relative.endsWith(QLatin1String(".lock")))
        return false;
    return ref.match(relative).hasMatch() || loose.match(relative).hasMatch() || pack.match(relative).hasMatch();
}

Status downloadInto(const store::S3Client &client, const QString &path, const QString &target, QByteArray *etag = nullptr,
                    QByteArray *kept = nullptr)
{
    auto bytes = client.get(path, etag);
    if (!bytes)
        return bytes.error();
    if (kept)
        *kept = *bytes;
    if (!QDir().mkpath(QFileInfo(target).absolutePath()))
        return makeError(ErrorKind::Io, QStringLiteral("cannot create the folder"), QFileInfo(target).absolutePath());
    return writeFileAtomic(target, *bytes);
}

} // namespace

Expected<bool> downloadGitMirror(const store::S3Client &client, const QString &mirror, RemoteRefTags *seen)
{
    if (!QFileInfo::exists(mirror + QStringLiteral("/HEAD"))) {
        auto bare = GitRepo::init(mirror, true);
        if (!bare)
            return bare.error();
    }
    // Refs first, then the objects listed after them: a pusher sends objects before refs, so every commit the refs we
    // read name is among the objects we list next (libgit2 checks each object's hash as it reads it).
    auto refs = client.list(kGit);
    if (!refs)
        return refs.error();
    bool any = false;
    for (const QString &path : *refs) {
        const QString relative = path.mid(kGit.size());
        if (!isSyncedGitFile(relative) || !isMutableGitFile(relative))
            continue;
        any = true;
        RemoteRef ref;
        if (Status s = downloadInto(client, path, mirror + QLatin1Char('/') + relative, &ref.etag, &ref.bytes); !s)
            return s.error();
        if (seen)
            seen->insert(relative, ref);
    }
    auto objects = client.list(kGit + QStringLiteral("objects/"));
    if (!objects)
        return objects.error();
    for (const QString &path : *objects) {
        const QString relative = path.mid(kGit.size());
        if (!isSyncedGitFile(relative))
            continue;
        any = true;
        const QString target = mirror + QLatin1Char('/') + relative;
        if (QFileInfo::exists(target))
            continue;
        if (Status s = downloadInto(client, path, target); !s)
            return s.error();
    }
    return any;
}

Status uploadGitMirror(const store::S3Client &client, const QString &mirror, const RemoteRefTags *seen)
{
    auto listed = client.list(kGit);
    if (!listed)
        return listed.error();
    const QSet<QString> there(listed->begin(), listed->end());
    QStringList immutable, mutableFiles;
    QDirIterator it(mirror, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString relative = QDir(mirror).relativeFilePath(it.next());
        if (!isSyncedGitFile(relative))
            continue;
        (isMutableGitFile(relative) ? mutableFiles : immutable) << relative;
    }
    immutable.sort();
    mutableFiles.sort();
    // Objects first; then refs (packed-refs before loose refs, HEAD last), so the remote never names a missing commit.
    const auto rank = [](const QString &f) { return f == u"packed-refs" ? 0 : f == u"HEAD" ? 2 : 1; };
    std::stable_sort(mutableFiles.begin(), mutableFiles.end(),
                     [&](const QString &a, const QString &b) { return rank(a) < rank(b); });
    for (const QString &relative : immutable + mutableFiles) {
        const bool changeable = isMutableGitFile(relative);
        if (!changeable && there.contains(kGit + relative))
            continue;
        QFile f(mirror + QLatin1Char('/') + relative);
        if (!f.open(QIODevice::ReadOnly))
            return makeError(ErrorKind::Io, QStringLiteral("cannot read ") + f.errorString(), f.fileName());
        const QByteArray bytes = f.readAll();
        // Only the refs this push changed are written: the others stay as the remote has them (moved since by
        // someone else, perhaps).
        const auto read = seen && changeable ? seen->constFind(relative) : RemoteRefTags::const_iterator();
        const bool wasRead = seen && changeable && read != seen->constEnd();
        if (wasRead && read->bytes == bytes)
            continue;
        if (changeable && there.contains(kGit + relative)) {
            auto current = client.get(kGit + relative);
            if (current && *current == bytes)
                continue;
        }
        // A changed ref replaces only the version this push read (or is created only where there was none): two
        // pushes racing on one branch cannot both win, and the loser is told rather than silently overwritten.
        store::S3PutCondition condition;
        if (changeable && seen) {
            if (wasRead)
                condition.etag = read->etag;   // empty when the server sent no ETag: unconditional, as before
            else
                condition.absent = true;
        }
        if (Status s = client.put(kGit + relative, bytes, condition); !s) {
            if (s.error().kind == ErrorKind::Conflict)
                return makeError(ErrorKind::Conflict,
                                 QStringLiteral("another push changed %1 on the remote while this one ran; nothing of "
                                                "theirs was overwritten: pull, then push again")
                                     .arg(relative),
                                 s.error().file);
            return s;
        }
    }
    return {};
}

} // namespace keel::workspace
