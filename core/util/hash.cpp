#include "util/hash.h"

#include <openssl/evp.h>

namespace keel {

Sha256 sha256(const void *data, size_t size)
{
    Sha256 out{};
    unsigned int len = 0;
    EVP_Digest(data, size, out.data(), &len, EVP_sha256(), nullptr);
    return out;
}

QString toHex(const Sha256 &d)
{
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(d.data()), int(d.size())).toHex());
}

bool isHexId(QStringView s)
{
    if (s.size() != 64)
        return false;
    for (QChar c : s) {
        const char16_t u = c.unicode();
        if (!((u >= u'0' && u <= u'9') || (u >= u'a' && u <= u'f')))
            return false;
    }
    return true;
}

bool fromHex(QStringView hex, Sha256 &out)
{
    if (!isHexId(hex))
        return false;
    const QByteArray bytes = QByteArray::fromHex(hex.toLatin1());
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return true;
}

Sha256Stream::Sha256Stream() : m_ctx(EVP_MD_CTX_new())
{
    EVP_DigestInit_ex(static_cast<EVP_MD_CTX *>(m_ctx), EVP_sha256(), nullptr);
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX *>(m_ctx)); }

void Sha256Stream::add(const void *data, size_t size)
{
    EVP_DigestUpdate(static_cast<EVP_MD_CTX *>(m_ctx), data, size);
}

Sha256 Sha256Stream::finish()
{
    Sha256 out{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX *>(m_ctx), out.data(), &len);
    return out;
}

} // namespace keel
