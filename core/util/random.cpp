#include "util/random.h"

#include <limits>

namespace keel {

namespace {

quint64 splitmix(quint64 &x)
{
    quint64 z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

quint64 rotl(quint64 x, int k) { return (x << k) | (x >> (64 - k)); }

} // namespace

Rng::Rng(quint64 seed)
{
    for (quint64 &s : m_s)
        s = splitmix(seed);
}

Rng Rng::forStream(quint64 seed, quint64 stream)
{
    quint64 x = seed ^ 0x5851F42D4C957F2Dull;
    const quint64 a = splitmix(x);
    quint64 y = stream + 0x2545F4914F6CDD1Dull;
    return Rng(a ^ splitmix(y));
}

quint64 Rng::next()
{
    const quint64 result = rotl(m_s[1] * 5, 7) * 9;
    const quint64 t = m_s[1] << 17;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = rotl(m_s[3], 45);
    return result;
}

quint64 Rng::below(quint64 n)
{
    // Rejection sampling: no modulo bias.
    const quint64 limit = std::numeric_limits<quint64>::max() - std::numeric_limits<quint64>::max() % n;
    quint64 v;
    do {
        v = next();
    } while (v >= limit);
    return v % n;
}

quint32 Rng::below32(quint32 bound)
{
    quint64 m = (next() >> 32) * quint64(bound);
    quint32 low = quint32(m);
    if (low < bound) {
        const quint32 threshold = quint32(-bound) % bound;
        while (low < threshold) {
            m = (next() >> 32) * quint64(bound);
            low = quint32(m);
        }
    }
    return quint32(m >> 32);
}

double Rng::uniform() { return double(next() >> 11) * 0x1.0p-53; }

} // namespace keel
