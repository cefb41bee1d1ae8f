#pragma once
// SHA-256 of many independent inputs at once. Where the CPU has AVX-512, sixteen inputs are hashed side by side,
// one per 32-bit lane (1.7 times the throughput of one SHA-NI stream on the machine measured in bench/README.md);
// elsewhere, and for a handful of inputs, one at a time through OpenSSL. The digests are the ordinary SHA-256 of
// each input either way.

#include "util/hash.h"

#include <cstddef>

namespace keel {

struct ByteSpan {
    const void *data = nullptr;
    size_t size = 0;
};

/// out[i] = SHA-256 of inputs[i], for i < count. `allowWide = false` forces the one-at-a-time path (for tests and
/// measurements). Thread-safe.
void sha256Many(const ByteSpan *inputs, size_t count, Sha256 *out, bool allowWide = true);
/// Whether sha256Many hashes sixteen inputs side by side on this CPU.
bool sha256ManyIsWide();

} // namespace keel
