#pragma once
// SHA-256 through OpenSSL's EVP interface (uses SHA-NI where the CPU has it).

#include <QByteArray>
#include <QString>

#include <array>
#include <cstring>
#include <cstdint>

namespace keel {

using Sha256 = std::array<uint8_t, 32>;

Sha256 sha256(const void *data, size_t size);
/// Hashes a digest for unordered containers: its first eight bytes (already uniformly distributed).
struct Sha256Hasher {
    size_t operator()(const Sha256 &s) const noexcept
    {
        size_t h;
        std::memcpy(&h, s.data(), sizeof h);
        return h;
    }
};
inline Sha256 sha256(QByteArrayView v) { return sha256(v.data(), size_t(v.size())); }
QString toHex(const Sha256 &d);
/// Parses 64 hex digits; returns false on anything else.
bool fromHex(QStringView hex, Sha256 &out);
bool isHexId(QStringView s);

/// Incremental hashing for streams.
class Sha256Stream {
public:
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(const Sha256Stream &) = delete;
    Sha256Stream &operator=(const Sha256Stream &) = delete;
    void add(const void *data, size_t size);
    Sha256 finish();

private:
    void *m_ctx;
};

} // namespace keel
