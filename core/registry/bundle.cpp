#include "registry/bundle.h"

#include "util/hash.h"

#include <QJsonDocument>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

namespace keel::registry {

namespace {

const QString kRoot = QStringLiteral("keel-bundle/");
const QString kManifest = QStringLiteral("manifest.json");
const QString kSignature = QStringLiteral("signature");
const QString kPublicKey = QStringLiteral("public_key.pem");
const QStringList kKnownMembers = {QStringLiteral("card.json"), QStringLiteral("model"), QStringLiteral("recipe.json"),
                                   QStringLiteral("split.json"), QStringLiteral("background.csv")};
constexpr qint64 kMaxMember = qint64(4) << 30;   // 4 GiB: far beyond any model, short of exhausting memory
constexpr time_t kEntryTime = 1767225600;         // 2026-01-01T00:00:00Z: fixed, so equal content gives equal bytes

struct ArchiveWriter {
    archive *a = archive_write_new();
    ~ArchiveWriter() { archive_write_free(a); }
};
struct ArchiveReader {
    archive *a = archive_read_new();
    ~ArchiveReader() { archive_read_free(a); }
};
struct BioDeleter {
    void operator()(BIO *b) const { BIO_free(b); }
};
struct KeyDeleter {
    void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); }
};
struct MdDeleter {
    void operator()(EVP_MD_CTX *c) const { EVP_MD_CTX_free(c); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;

Error corrupt(const QString &source, const QString &message, const QString &member = {})
{
    return makeError(ErrorKind::Corrupt, message, source, -1, member);
}

Status addEntry(archive *a, const QString &path, const QByteArray &bytes)
{
    archive_entry *e = archive_entry_new();
    const QByteArray name = (kRoot + path).toUtf8();
    archive_entry_set_pathname(e, name.constData());
    archive_entry_set_size(e, la_int64_t(bytes.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, kEntryTime, 0);
    Status s;
    if (archive_write_header(a, e) != ARCHIVE_OK
        || archive_write_data(a, bytes.constData(), size_t(bytes.size())) != la_ssize_t(bytes.size()))
        s = makeError(ErrorKind::Io, QStringLiteral("cannot write bundle member %1: %2").arg(path, QString::fromUtf8(archive_error_string(a))));
    archive_entry_free(e);
    return s;
}

Expected<KeyPtr> readPrivateKey(const QByteArray &pem)
{
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("not an Ed25519 private key in PEM form"));
    return key;
}

Expected<KeyPtr> readPublicKey(const QByteArray &pem)
{
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    KeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
        return makeError(ErrorKind::InvalidInput, QStringLiteral("not an Ed25519 public key in PEM form"));
    return key;
}

QByteArray publicPemOf(EVP_PKEY *key)
{
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PUBKEY(bio.get(), key);
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, len);
}

bool verify(EVP_PKEY *key, const QByteArray &message, const QByteArray &signature)
{
    std::unique_ptr<EVP_MD_CTX, MdDeleter> ctx(EVP_MD_CTX_new());
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1)
        return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char *>(signature.constData()), size_t(signature.size()),
                            reinterpret_cast<const unsigned char *>(message.constData()), size_t(message.size()))
        == 1;
}

} // namespace

Expected<SigningKey> createSigningKey()
{
    EVP_PKEY *raw = nullptr;
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), EVP_PKEY_CTX_free);
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
        return makeError(QStringLiteral("OpenSSL could not create an Ed25519 key"));
    KeyPtr key(raw);
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return makeError(QStringLiteral("OpenSSL could not write the private key"));
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return SigningKey{QByteArray(data, len), publicPemOf(key.get())};
}

Expected<QByteArray> writeBundle(const BundleMembers &members, const QByteArray &privateKeyPem)
{
    if (!members.count(QStringLiteral("card.json")))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("a bundle needs card.json"));
    QJsonObject hashes;
    for (const auto &[path, bytes] : members) {
        if (!kKnownMembers.contains(path))
            return makeError(ErrorKind::InvalidInput, QStringLiteral("'%1' is not a bundle member").arg(path));
        hashes.insert(path, toHex(sha256(bytes)));
    }
    const QJsonObject manifest{{QStringLiteral("format"), QString::fromLatin1(kBundleFormat)},
                               {QStringLiteral("version"), kBundleVersion},
                               {QStringLiteral("hash"), QStringLiteral("sha256")},
                               {QStringLiteral("members"), hashes}};
    const QByteArray manifestBytes = QJsonDocument(manifest).toJson(QJsonDocument::Indented);
    QByteArray signature, publicPem;
    if (!privateKeyPem.isEmpty()) {
        auto key = readPrivateKey(privateKeyPem);
        if (!key)
            return key.error();
        std::unique_ptr<EVP_MD_CTX, MdDeleter> ctx(EVP_MD_CTX_new());
        size_t len = 0;
        if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) != 1
            || EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char *>(manifestBytes.constData()),
                              size_t(manifestBytes.size()))
                   != 1)
            return makeError(QStringLiteral("OpenSSL could not sign the manifest"));
        signature.resize(qsizetype(len));
        if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(signature.data()), &len,
                           reinterpret_cast<const unsigned char *>(manifestBytes.constData()), size_t(manifestBytes.size()))
            != 1)
            return makeError(QStringLiteral("OpenSSL could not sign the manifest"));
        signature.resize(qsizetype(len));
        publicPem = publicPemOf(key->get());
    }

    ArchiveWriter w;
    QByteArray out;
    archive_write_set_format_pax_restricted(w.a);
    archive_write_set_bytes_in_last_block(w.a, 1);
    auto open = [](archive *, void *) -> int { return ARCHIVE_OK; };
    auto write = [](archive *, void *client, const void *buffer, size_t length) -> la_ssize_t {
        static_cast<QByteArray *>(client)->append(static_cast<const char *>(buffer), qsizetype(length));
        return la_ssize_t(length);
    };
    auto close = [](archive *, void *) -> int { return ARCHIVE_OK; };
    if (archive_write_open(w.a, &out, open, write, close) != ARCHIVE_OK)
        return makeError(QStringLiteral("cannot start the bundle: %1").arg(QString::fromUtf8(archive_error_string(w.a))));
    if (Status s = addEntry(w.a, kManifest, manifestBytes); !s)
        return s.error();
    for (const auto &[path, bytes] : members)
        if (Status s = addEntry(w.a, path, bytes); !s)
            return s.error();
    if (!signature.isEmpty()) {
        if (Status s = addEntry(w.a, kSignature, signature); !s)
            return s.error();
        if (Status s = addEntry(w.a, kPublicKey, publicPem); !s)
            return s.error();
    }
    if (archive_write_close(w.a) != ARCHIVE_OK)
        return makeError(QStringLiteral("cannot finish the bundle: %1").arg(QString::fromUtf8(archive_error_string(w.a))));
    return out;
}

Expected<Bundle> readBundle(const QByteArray &bytes, const QString &source)
{
    ArchiveReader r;
    archive_read_support_format_tar(r.a);
    if (archive_read_open_memory(r.a, bytes.constData(), size_t(bytes.size())) != ARCHIVE_OK)
        return corrupt(source, QStringLiteral("not a bundle (not a tar archive): %1").arg(QString::fromUtf8(archive_error_string(r.a))));
    std::map<QString, QByteArray> entries;
    archive_entry *e = nullptr;
    for (;;) {
        const int rc = archive_read_next_header(r.a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc != ARCHIVE_OK)
            return corrupt(source, QStringLiteral("damaged bundle archive: %1").arg(QString::fromUtf8(archive_error_string(r.a))));
        const QString path = QString::fromUtf8(archive_entry_pathname(e));
        if (!path.startsWith(kRoot) || path.size() == kRoot.size() || path.mid(kRoot.size()).contains(QLatin1Char('/')))
            return corrupt(source, QStringLiteral("unexpected entry '%1' in the bundle").arg(path), path);
        if (archive_entry_filetype(e) != AE_IFREG)
            return corrupt(source, QStringLiteral("bundle entry '%1' is not a regular file").arg(path), path);
        const QString member = path.mid(kRoot.size());
        if (entries.count(member))
            return corrupt(source, QStringLiteral("bundle member '%1' appears twice").arg(member), member);
        const la_int64_t size = archive_entry_size(e);
        if (size < 0 || size > kMaxMember)
            return corrupt(source, QStringLiteral("bundle member '%1' has an impossible size").arg(member), member);
        QByteArray data(qsizetype(size), Qt::Uninitialized);
        if (archive_read_data(r.a, data.data(), size_t(size)) != la_ssize_t(size))
            return corrupt(source, QStringLiteral("bundle member '%1' is truncated: %2").arg(member, QString::fromUtf8(archive_error_string(r.a))),
                           member);
        entries.emplace(member, std::move(data));
    }
    auto manifestIt = entries.find(kManifest);
    if (manifestIt == entries.end())
        return corrupt(source, QStringLiteral("the bundle has no manifest.json"), kManifest);
    Bundle b;
    b.manifestBytes = manifestIt->second;
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(b.manifestBytes, &perr);
    if (perr.error != QJsonParseError::NoError || !doc.isObject())
        return corrupt(source, QStringLiteral("manifest.json is not a JSON object"), kManifest);
    b.manifest = doc.object();
    if (b.manifest.value(QStringLiteral("format")).toString() != QLatin1String(kBundleFormat))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("not a Keel model bundle"), source, -1, kManifest);
    if (b.manifest.value(QStringLiteral("version")).toInt() > kBundleVersion || b.manifest.value(QStringLiteral("version")).toInt() < 1)
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("bundle format version %1 is not one this Keel reads (1 to %2)")
                             .arg(b.manifest.value(QStringLiteral("version")).toInt())
                             .arg(kBundleVersion),
                         source, -1, kManifest);
    const QJsonObject hashes = b.manifest.value(QStringLiteral("members")).toObject();
    for (auto it = hashes.begin(); it != hashes.end(); ++it) {
        auto found = entries.find(it.key());
        if (found == entries.end())
            return corrupt(source, QStringLiteral("bundle member '%1' is missing").arg(it.key()), it.key());
        if (toHex(sha256(found->second)) != it.value().toString())
            return corrupt(source, QStringLiteral("bundle member '%1' does not match its SHA-256 in the manifest: it was changed "
                                                  "after the bundle was made")
                                       .arg(it.key()),
                           it.key());
        b.members.emplace(it.key(), found->second);
    }
    for (const auto &[member, data] : entries) {
        if (member == kManifest || member == kSignature || member == kPublicKey)
            continue;
        if (!hashes.contains(member))
            return corrupt(source, QStringLiteral("bundle member '%1' is not listed in the manifest").arg(member), member);
    }
    if (!b.members.count(QStringLiteral("card.json")))
        return corrupt(source, QStringLiteral("the bundle has no card.json"), QStringLiteral("card.json"));
    if (entries.count(kSignature)) {
        b.signature = entries.at(kSignature);
        if (!entries.count(kPublicKey))
            return corrupt(source, QStringLiteral("the bundle is signed but carries no public key"), kPublicKey);
        b.publicKeyPem = entries.at(kPublicKey);
        auto key = readPublicKey(b.publicKeyPem);
        if (!key)
            return corrupt(source, key.error().message, kPublicKey);
        if (!verify(key->get(), b.manifestBytes, b.signature))
            return corrupt(source, QStringLiteral("the bundle's signature does not match its manifest"), kSignature);
    }
    return b;
}

Status verifySignedBy(const Bundle &bundle, const QByteArray &trustedPublicPem, const QString &source)
{
    if (!bundle.signedBundle())
        return makeError(ErrorKind::InvalidInput, QStringLiteral("the bundle is not signed and a signature is required"), source);
    auto key = readPublicKey(trustedPublicPem);
    if (!key)
        return key.error();
    if (!verify(key->get(), bundle.manifestBytes, bundle.signature))
        return makeError(ErrorKind::Corrupt, QStringLiteral("the bundle is not signed by the trusted key"), source, -1, kSignature);
    return {};
}

} // namespace keel::registry
