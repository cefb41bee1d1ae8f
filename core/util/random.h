#pragma once
// Deterministic pseudo-random numbers (xoshiro256** seeded through SplitMix64): the same sequence on every platform
// and standard library, so seeded explanations, bootstraps and samples are reproducible anywhere. The one generator
// core uses. Not thread-safe: one per thread (or per stream).

#include <QtGlobal>

#include <utility>
#include <vector>

namespace keel {

class Rng {
public:
    explicit Rng(quint64 seed);
    /// A generator for stream `stream` of `seed` (e.g. one per row or per repeat), independent of thread layout.
    static Rng forStream(quint64 seed, quint64 stream);
    quint64 next();
    /// Uniform integer in [0, n) by rejection on the full 64 bits; n must be > 0.
    quint64 below(quint64 n);
    /// Uniform integer in [0, bound) by Lemire's multiply-and-reject on the high 32 bits; bound must be > 0.
    quint32 below32(quint32 bound);
    /// Uniform double in [0, 1).
    double uniform();
    /// Fisher-Yates shuffle of v.
    template <class T>
    void shuffle(std::vector<T> &v)
    {
        for (size_t i = v.size(); i > 1; --i)
            std::swap(v[i - 1], v[size_t(below(i))]);
    }

private:
    quint64 m_s[4];
};

} // namespace keel
