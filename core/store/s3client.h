#pragma once
// A small client for S3-compatible object storage (AWS S3, MinIO, Ceph RGW, s3rver): GET, PUT, HEAD and paged
// listing of one bucket. Requests are signed by libcurl's built-in AWS Signature Version 4 (CURLOPT_AWS_SIGV4) with
// the SHA-256 of every body sent as x-amz-content-sha256, so the server checks each upload against its hash.
// Transient failures (connection errors, 5xx, 429) are retried with backoff; every error names the bucket and key.

#include "util/result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <functional>

namespace keel::store {

/// Where a remote lives: s3://BUCKET/PREFIX plus the endpoint and region that reach it.
struct S3Location {
    QString bucket;
    QString prefix;     ///< without leading or trailing '/'; may be empty
    QString endpoint;   ///< e.g. http://127.0.0.1:4568; empty means AWS (https://s3.REGION.amazonaws.com)
    QString region;     ///< empty: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1

    /// "s3://bucket/prefix".
    QString url() const;
};

/// Parses s3://BUCKET[/PREFIX]; the error names what is wrong (bucket naming rules included).
Expected<S3Location> parseS3Url(const QString &url);
/// True for text that starts with s3://.
bool isS3Url(const QString &text);

/// Access key, secret and optional session token.
struct S3Credentials {
    QString accessKey, secretKey, sessionToken;
    QString source;   ///< where they came from, for messages ("environment", "~/.aws/credentials [default]")
};

/// Credentials from $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY (/ $AWS_SESSION_TOKEN), else from the profile
/// $AWS_PROFILE (or "default") of $AWS_SHARED_CREDENTIALS_FILE (or ~/.aws/credentials). The error says where it looked.
Expected<S3Credentials> loadS3Credentials();

/// A condition on what a PUT replaces (S3 conditional writes: AWS S3 since 2024, and servers that implement them).
struct S3PutCondition {
    QByteArray etag;       ///< If-Match: only replace the object that has this ETag
    bool absent = false;   ///< If-None-Match: *: only create, never replace
};

class S3Client {
public:
    S3Client(S3Location location, S3Credentials credentials);

    const S3Location &location() const { return m_location; }
    /// The full key for a path below the prefix.
    QString key(const QString &path) const;

    /// The object's bytes; ErrorKind::NotFound when there is none. `etag`, when given, receives its ETag (empty if
    /// the server sent none).
    Expected<QByteArray> get(const QString &path, QByteArray *etag = nullptr) const;
    /// Stores bytes under the path (replacing what was there, or only as `condition` allows: ErrorKind::Conflict
    /// when the object is not as it says — unless it already holds exactly these bytes).
    Status put(const QString &path, const QByteArray &bytes, const S3PutCondition &condition = {}) const;
    /// Paths (relative to the prefix) of every object whose path starts with `under`, following continuation tokens.
    Expected<QStringList> list(const QString &under) const;

    /// Test hook: called before each request with its method and path; returning false fails that request as a
    /// network error would (to prove that interrupted transfers resume).
    void setFailureHook(std::function<bool(const QString &method, const QString &path)> hook) { m_hook = std::move(hook); }

private:
    struct Response {
        long status = 0;
        QByteArray body;
        QByteArray etag;
    };
    /// One request for the object at `path` below the prefix, or with a null path for the bucket itself; `condition`
    /// is an extra header line (If-Match, If-None-Match) or empty.
    Expected<Response> request(const QString &method, const QString &path, const QString &query,
                               const QByteArray *body, const QByteArray &condition = {}) const;
    QString objectUrl(const QString &fullKey, const QString &query) const;

    S3Location m_location;
    S3Credentials m_credentials;
    std::function<bool(const QString &, const QString &)> m_hook;
};

} // namespace keel::store
