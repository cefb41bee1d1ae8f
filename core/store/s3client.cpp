#include "store/s3client.h"

#include "util/hash.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QThread>
#include <QUrl>
#include <QXmlStreamReader>

#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace keel::store {

namespace {

constexpr int kAttempts = 4;

void ensureCurl()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t appendBody(char *data, size_t size, size_t count, void *target)
{
    static_cast<QByteArray *>(target)->append(data, qsizetype(size * count));
    return size * count;
}

/// Keeps the ETag response header (quotes included, as S3 sends it and If-Match wants it back).
size_t keepEtag(char *data, size_t size, size_t count, void *target)
{
    const QByteArray line = QByteArray(data, qsizetype(size * count)).trimmed();
    if (line.startsWith("HTTP/"))   // a new response (after a 100 Continue, a redirect or a proxy): its own headers
        static_cast<QByteArray *>(target)->clear();
    else if (line.size() > 5 && line.first(5).toLower() == "etag:")
        *static_cast<QByteArray *>(target) = line.mid(5).trimmed();
    return size * count;
}

QString hexSha256(const QByteArray &bytes)
{
    return toHex(sha256(bytes));
}

/// <Code> and <Message> of an S3 error body, as "Code: Message", or empty.
QString s3ErrorText(const QByteArray &body)
{
    QXmlStreamReader xml(body);
    QString code, message;
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement)
            continue;
        if (xml.name() == u"Code")
            code = xml.readElementText();
        else if (xml.name() == u"Message")
            message = xml.readElementText();
    }
    if (code.isEmpty())
        return {};
    return message.isEmpty() ? code : QString(code + QStringLiteral(": ") + message);
}

QString defaultRegion()
{
    for (const char *name : {"AWS_REGION", "AWS_DEFAULT_REGION"})
        if (const QString v = qEnvironmentVariable(name); !v.isEmpty())
            return v;
    return QStringLiteral("us-east-1");
}

} // namespace

QString S3Location::url() const
{
    return QStringLiteral("s3://") + bucket + (prefix.isEmpty() ? QString() : QString(QLatin1Char('/') + prefix));
}

bool isS3Url(const QString &text)
{
    return text.startsWith(QLatin1String("s3://"));
}

Expected<S3Location> parseS3Url(const QString &url)
{
    if (!isS3Url(url))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("not an s3:// address"), url);
    const QString rest = url.mid(5);
    const qsizetype slash = rest.indexOf(QLatin1Char('/'));
    S3Location loc;
    loc.bucket = slash < 0 ? rest : rest.left(slash);
    QString prefix = slash < 0 ? QString() : rest.mid(slash + 1);
    while (prefix.endsWith(QLatin1Char('/')))
        prefix.chop(1);
    loc.prefix = prefix;
    static const QRegularExpression bucketName(
        QRegularExpression::anchoredPattern(QStringLiteral("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")));
    if (!bucketName.match(loc.bucket).hasMatch())
        return makeError(ErrorKind::InvalidInput,
                         QStringLiteral("'%1' is not a valid bucket name (3 to 63 lowercase letters, digits, '.' and "
                                        "'-', starting and ending with a letter or digit)").arg(loc.bucket),
                         url);
    if (loc.prefix.contains(QStringLiteral("//")) || loc.prefix.startsWith(QLatin1Char('/')))
        return makeError(ErrorKind::InvalidInput, QStringLiteral("the prefix has an empty path segment"), url);
    return loc;
}

Expected<S3Credentials> loadS3Credentials()
{
    S3Credentials c;
    c.accessKey = qEnvironmentVariable("AWS_ACCESS_KEY_ID");
    c.secretKey = qEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
    if (!c.accessKey.isEmpty() && !c.secretKey.isEmpty()) {
        c.sessionToken = qEnvironmentVariable("AWS_SESSION_TOKEN");
        c.source = QStringLiteral("the environment (AWS_ACCESS_KEY_ID)");
        return c;
    }
    QString file = qEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE");
    if (file.isEmpty())
        file = QDir::homePath() + QStringLiteral("/.aws/credentials");
    QString profile = qEnvironmentVariable("AWS_PROFILE");
    if (profile.isEmpty())
        profile = QStringLiteral("default");
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return makeError(ErrorKind::NotFound,
                         QStringLiteral("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add a "
                                        "[%1] profile to %2").arg(profile, file));
    QString section;
    qint64 lineNo = 0;
    while (!f.atEnd()) {
        ++lineNo;
        const QString line = QString::fromUtf8(f.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')) || line.startsWith(QLatin1Char(';')))
            continue;
        if (line.startsWith(QLatin1Char('[')) && line.endsWith(QLatin1Char(']'))) {
            section = line.mid(1, line.size() - 2).trimmed();
            continue;
        }
        if (section != profile)
            continue;
        const qsizetype eq = line.indexOf(QLatin1Char('='));
        if (eq < 0)
            return makeError(ErrorKind::InvalidInput, QStringLiteral("expected 'name = value'"), file, lineNo);
        const QString name = line.left(eq).trimmed(), value = line.mid(eq + 1).trimmed();
        if (name == u"aws_access_key_id")
            c.accessKey = value;
        else if (name == u"aws_secret_access_key")
            c.secretKey = value;
        else if (name == u"aws_session_token")
            c.sessionToken = value;
    }
    if (c.accessKey.isEmpty() || c.secretKey.isEmpty())
        return makeError(ErrorKind::NotFound,
                         QStringLiteral("no aws_access_key_id and aws_secret_access_key in profile [%1]").arg(profile), file);
    c.source = file + QStringLiteral(" [") + profile + QLatin1Char(']');
    return c;
}

S3Client::S3Client(S3Location location, S3Credentials credentials)
    : m_location(std::move(location)), m_credentials(std::move(credentials))
{
    if (m_location.region.isEmpty())
        m_location.region = defaultRegion();
    while (m_location.endpoint.endsWith(QLatin1Char('/')))
        m_location.endpoint.chop(1);
    ensureCurl();
}

QString S3Client::key(const QString &path) const
{
    if (m_location.prefix.isEmpty())
        return path;
    return QString(m_location.prefix + QLatin1Char('/') + path);
}

QString S3Client::objectUrl(const QString &fullKey, const QString &query) const
{
    const QString encodedKey = QString::fromLatin1(QUrl::toPercentEncoding(fullKey, "/-_.~"));
    QString base;
    if (m_location.endpoint.isEmpty())   // AWS, virtual-hosted style
        base = QStringLiteral("https://%1.s3.%2.amazonaws.com").arg(m_location.bucket, m_location.region) +
               (encodedKey.isEmpty() ? QString() : QString(QLatin1Char('/') + encodedKey));
    else                                 // path style: MinIO, Ceph RGW, s3rver, and AWS too
        base = m_location.endpoint + QLatin1Char('/') + m_location.bucket +
               (encodedKey.isEmpty() ? QString() : QString(QLatin1Char('/') + encodedKey));
    if (base.endsWith(QLatin1Char('/')) && encodedKey.isEmpty())
        base.chop(1);
    return query.isEmpty() ? base : base + QLatin1Char('?') + query;
}

Expected<S3Client::Response> S3Client::request(const QString &method, const QString &path, const QString &query,
                                               const QByteArray *body, const QByteArray &condition) const
{
    const QString fullKey = path.isNull() ? QString() : key(path);   // a null path: the bucket itself (listing)
    const QString where = m_location.url() + (path.isEmpty() ? QString() : QString(QLatin1Char('/') + path));
    if (m_hook && !m_hook(method, path))
        return makeError(ErrorKind::Io, QStringLiteral("%1 failed: the connection was cut").arg(method), where);
    const QByteArray url = objectUrl(fullKey, query).toUtf8();
    const QByteArray sigv4 = QStringLiteral("aws:amz:%1:s3").arg(m_location.region).toUtf8();
    const QByteArray user = m_credentials.accessKey.toUtf8(), secret = m_credentials.secretKey.toUtf8();
    const QByteArray payloadHash = "x-amz-content-sha256: " + hexSha256(body ? *body : QByteArray()).toLatin1();

    QString lastFailure;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        if (attempt > 0)
            QThread::msleep(200UL << attempt);
        std::unique_ptr<CURL, void (*)(CURL *)> curl(curl_easy_init(), curl_easy_cleanup);
        if (!curl)
            return makeError(QStringLiteral("libcurl could not start a request"), where);
        curl_slist *headers = nullptr;
        headers = curl_slist_append(headers, payloadHash.constData());
        const QByteArray token = "x-amz-security-token: " + m_credentials.sessionToken.toUtf8();
        if (!m_credentials.sessionToken.isEmpty())
            headers = curl_slist_append(headers, token.constData());
        std::unique_ptr<curl_slist, void (*)(curl_slist *)> headerList(headers, curl_slist_free_all);
        Response response;
        CURL *c = curl.get();
        curl_easy_setopt(c, CURLOPT_URL, url.constData());
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.constData());
        curl_easy_setopt(c, CURLOPT_USERNAME, user.constData());
        curl_easy_setopt(c, CURLOPT_PASSWORD, secret.constData());
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, appendBody);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, keepEtag);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.etag);
        if (!condition.isEmpty()) {
            headers = curl_slist_append(headerList.release(), condition.constData());
            headerList.reset(headers);
        }
        if (method == u"HEAD") {
            curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        } else if (method == u"PUT") {
            headers = curl_slist_append(headerList.release(), "Content-Type: application/octet-stream");
            headers = curl_slist_append(headers, "Expect:");
            headerList.reset(headers);
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->constData());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body->size()));
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headerList.get());
        const CURLcode rc = curl_easy_perform(c);
        if (rc != CURLE_OK) {
            lastFailure = QString::fromUtf8(curl_easy_strerror(rc));
            continue;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
        // 501 Not Implemented is an answer, not a passing failure: no retry.
        if ((response.status >= 500 && response.status != 501) || response.status == 429) {
            lastFailure = QStringLiteral("HTTP %1 %2").arg(response.status).arg(s3ErrorText(response.body));
            continue;
        }
        return response;
    }
    return makeError(ErrorKind::Io,
                     QStringLiteral("%1 failed after %2 attempts: %3 (endpoint %4)")
                         .arg(method)
                         .arg(kAttempts)
                         .arg(lastFailure, m_location.endpoint.isEmpty() ? QStringLiteral("AWS") : m_location.endpoint),
                     where);
}

namespace {

Error responseError(const QString &what, long status, const QByteArray &body, const QString &where,
                    const S3Credentials &credentials)
{
    QString detail = s3ErrorText(body);
    if (detail.isEmpty())
        detail = QStringLiteral("HTTP %1").arg(status);
    if (status == 403)
        return makeError(ErrorKind::Failed,
                         QStringLiteral("%1 was refused (%2); check the credentials from %3 and the bucket's policy")
                             .arg(what, detail, credentials.source),
                         where);
    if (status == 404 && detail.startsWith(QLatin1String("NoSuchBucket")))
        return makeError(ErrorKind::NotFound, QStringLiteral("%1: the bucket does not exist (%2)").arg(what, detail), where);
    return makeError(status == 404 ? ErrorKind::NotFound : ErrorKind::Failed,
                     QStringLiteral("%1 failed: %2").arg(what, detail), where);
}

} // namespace

Expected<QByteArray> S3Client::get(const QString &path, QByteArray *etag) const
{
    auto r = request(QStringLiteral("GET"), path, {}, nullptr);
    if (!r)
        return r.error();
    if (r->status != 200)
        return responseError(QStringLiteral("GET"), r->status, r->body, m_location.url() + QLatin1Char('/') + path,
                             m_credentials);
    if (etag)
        *etag = r->etag;
    return std::move(r->body);
}

Status S3Client::put(const QString &path, const QByteArray &bytes, const S3PutCondition &condition) const
{
    QByteArray header;
    if (condition.absent)
        header = "If-None-Match: *";
    else if (!condition.etag.isEmpty())
        header = "If-Match: " + condition.etag;
    const QString where = m_location.url() + QLatin1Char('/') + path;
    auto r = request(QStringLiteral("PUT"), path, {}, &bytes, header);
    // 409: another conditional write to the same key is in progress; AWS says to try again.
    for (int retry = 1; r && r->status == 409 && !header.isEmpty() && retry <= 3; ++retry) {
        QThread::msleep(100UL << retry);
        r = request(QStringLiteral("PUT"), path, {}, &bytes, header);
    }
    if (!r)
        return r.error();
    if (!header.isEmpty() && (r->status == 501 || (r->status == 400 && s3ErrorText(r->body).startsWith(QLatin1String("NotImplemented"))))) {
        // A server without conditional writes that says so: write as servers that ignore the header do.
        r = request(QStringLiteral("PUT"), path, {}, &bytes);
        if (!r)
            return r.error();
    } else if (!header.isEmpty() && (r->status == 412 || r->status == 409 || r->status == 404)) {
        // 412: the object is not as the condition says; 404 for an If-Match: it was deleted. A retried request whose
        // first attempt had landed fails its own condition: the object then already holds these bytes.
        auto now = get(path);
        if (now && *now == bytes)
            return {};
        return makeError(ErrorKind::Conflict,
                         QStringLiteral("PUT refused: the object changed on the remote after it was read (%1)")
                             .arg(s3ErrorText(r->body).isEmpty() ? QStringLiteral("HTTP %1").arg(r->status) : s3ErrorText(r->body)),
                         where);
    }
    if (r->status != 200)
        return responseError(QStringLiteral("PUT"), r->status, r->body, where, m_credentials);
    return {};
}

Expected<QStringList> S3Client::list(const QString &under) const
{
    QStringList out;
    QString token;
    const QString prefix = key(under);
    const QString strip = m_location.prefix.isEmpty() ? QString() : m_location.prefix + QLatin1Char('/');
    for (;;) {
        // Query parameters in byte order, each value fully percent-encoded, as SigV4's canonical form wants.
        QString query;
        if (!token.isEmpty())
            query += QStringLiteral("continuation-token=") + QString::fromLatin1(QUrl::toPercentEncoding(token)) +
                     QLatin1Char('&');
        query += QStringLiteral("list-type=2&prefix=") + QString::fromLatin1(QUrl::toPercentEncoding(prefix));
        auto r = request(QStringLiteral("GET"), QString(), query, nullptr);
        if (!r)
            return r.error();
        if (r->status != 200)
            return responseError(QStringLiteral("listing"), r->status, r->body, m_location.url(), m_credentials);
        QXmlStreamReader xml(r->body);
        bool truncated = false;
        token.clear();
        while (!xml.atEnd()) {
            if (xml.readNext() != QXmlStreamReader::StartElement)
                continue;
            if (xml.name() == u"Key") {
                const QString k = xml.readElementText();
                if (k.startsWith(strip))
                    out << k.mid(strip.size());
            } else if (xml.name() == u"IsTruncated") {
                truncated = xml.readElementText() == u"true";
            } else if (xml.name() == u"NextContinuationToken") {
                token = xml.readElementText();
            }
        }
        if (xml.hasError())
            return makeError(ErrorKind::Corrupt, QStringLiteral("the listing is not valid XML: ") + xml.errorString(),
                             m_location.url());
        if (!truncated || token.isEmpty())
            break;
    }
    return out;
}

} // namespace keel::store
