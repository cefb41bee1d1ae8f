#include "util/sha256many.h"

#include "util/cpu.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define KEEL_SHA256_X16 1
// GCC 12 warns inside its own AVX-512 unpack intrinsics (their _mm512_undefined_epi32 operand; GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace keel {

namespace {

#ifdef KEEL_SHA256_X16

constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
constexpr uint32_t kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
constexpr int kLanes = 16;
constexpr size_t kBlock = 64;

#define KEEL_AVX512 __attribute__((target("avx512f,avx512bw")))

// Loads one 64-byte block from each lane, as 16 vectors where vector t holds big-endian word t of every lane.
KEEL_AVX512 inline void loadTransposed(const uint8_t *const *blocks, __m512i w[16])
{
    const __m512i swap = _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203);
    __m512i r[16];
    for (int i = 0; i < 16; ++i)
        r[i] = _mm512_shuffle_epi8(_mm512_loadu_si512(blocks[i]), swap);
    // 16x16 transpose of 32-bit words: interleave words, then pairs, then 128-bit quarters twice.
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    // r[4g + k] now holds, in each 128-bit quarter q, word (4q + k') of rows 4g..4g+3 (k' = 0, 1, 2, 3 for k).
    for (int k = 0; k < 4; ++k) {
        t[k] = _mm512_shuffle_i32x4(r[k], r[4 + k], 0x88);       // quarters 0, 2 of each
        t[4 + k] = _mm512_shuffle_i32x4(r[k], r[4 + k], 0xdd);   // quarters 1, 3 of each
        t[8 + k] = _mm512_shuffle_i32x4(r[8 + k], r[12 + k], 0x88);
        t[12 + k] = _mm512_shuffle_i32x4(r[8 + k], r[12 + k], 0xdd);
    }
    for (int k = 0; k < 4; ++k) {
        w[k] = _mm512_shuffle_i32x4(t[k], t[8 + k], 0x88);
        w[8 + k] = _mm512_shuffle_i32x4(t[k], t[8 + k], 0xdd);
        w[4 + k] = _mm512_shuffle_i32x4(t[4 + k], t[12 + k], 0x88);
        w[12 + k] = _mm512_shuffle_i32x4(t[4 + k], t[12 + k], 0xdd);
    }
}

KEEL_AVX512 inline __m512i xor3(__m512i a, __m512i b, __m512i c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }

// One compression of a 64-byte block on all 16 lanes.
KEEL_AVX512 inline void compress(__m512i s[8], const uint8_t *const *blocks)
{
    __m512i w[16];
    loadTransposed(blocks, w);
    __m512i a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
#pragma GCC unroll 64
    for (int t = 0; t < 64; ++t) {
        __m512i wt;
        if (t < 16) {
            wt = w[t];
        } else {
            const __m512i w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
            const __m512i s0 = xor3(_mm512_ror_epi32(w15, 7), _mm512_ror_epi32(w15, 18), _mm512_srli_epi32(w15, 3));
            const __m512i s1 = xor3(_mm512_ror_epi32(w2, 17), _mm512_ror_epi32(w2, 19), _mm512_srli_epi32(w2, 10));
            wt = _mm512_add_epi32(_mm512_add_epi32(w[t & 15], s0), _mm512_add_epi32(w[(t - 7) & 15], s1));
            w[t & 15] = wt;
        }
        const __m512i big1 = xor3(_mm512_ror_epi32(e, 6), _mm512_ror_epi32(e, 11), _mm512_ror_epi32(e, 25));
        const __m512i ch = _mm512_ternarylogic_epi32(e, f, g, 0xca);
        const __m512i kw = _mm512_add_epi32(wt, _mm512_set1_epi32(int(kRound[t])));
        const __m512i t1 = _mm512_add_epi32(_mm512_add_epi32(h, big1), _mm512_add_epi32(ch, kw));
        const __m512i big0 = xor3(_mm512_ror_epi32(a, 2), _mm512_ror_epi32(a, 13), _mm512_ror_epi32(a, 22));
        const __m512i maj = _mm512_ternarylogic_epi32(a, b, c, 0xe8);
        h = g;
        g = f;
        f = e;
        e = _mm512_add_epi32(d, t1);
        d = c;
        c = b;
        b = a;
        a = _mm512_add_epi32(t1, _mm512_add_epi32(big0, maj));
    }
    s[0] = _mm512_add_epi32(s[0], a);
    s[1] = _mm512_add_epi32(s[1], b);
    s[2] = _mm512_add_epi32(s[2], c);
    s[3] = _mm512_add_epi32(s[3], d);
    s[4] = _mm512_add_epi32(s[4], e);
    s[5] = _mm512_add_epi32(s[5], f);
    s[6] = _mm512_add_epi32(s[6], g);
    s[7] = _mm512_add_epi32(s[7], h);
}

// What one lane is hashing: the input's whole blocks straight from memory, then one or two padding blocks built
// from its tail. An idle lane reads a zero block and its state is ignored.
struct Lane {
    const uint8_t *data = nullptr;
    size_t dataBlocks = 0;   // whole 64-byte blocks of input
    size_t blocks = 0;       // dataBlocks plus the 1 or 2 padding blocks
    size_t done = 0;
    size_t job = 0;
    bool active = false;
    alignas(64) uint8_t pad[2 * kBlock];

    const uint8_t *block() const { return done < dataBlocks ? data + done * kBlock : pad + (done - dataBlocks) * kBlock; }
    void start(const uint8_t *p, size_t size, size_t index)
    {
        data = p;
        dataBlocks = size / kBlock;
        const size_t tail = size % kBlock;
        const size_t padBlocks = tail + 9 <= kBlock ? 1 : 2;
        blocks = dataBlocks + padBlocks;
        done = 0;
        job = index;
        active = true;
        std::memset(pad, 0, sizeof pad);
        if (tail)
            std::memcpy(pad, p + dataBlocks * kBlock, tail);
        pad[tail] = 0x80;
        const uint64_t bits = uint64_t(size) * 8;
        uint8_t *end = pad + padBlocks * kBlock;
        for (int i = 0; i < 8; ++i)
            end[-1 - i] = uint8_t(bits >> (8 * i));
    }
};

KEEL_AVX512 void hashSixteenWide(const ByteSpan *inputs, size_t count, Sha256 *out)
{
    // Longest first, so the lanes run out of work together instead of one long input finishing alone.
    std::vector<size_t> order(count);
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return inputs[x].size > inputs[y].size; });

    alignas(64) static const uint8_t zeros[kBlock] = {};
    Lane lanes[kLanes];
    alignas(64) uint32_t state[8][kLanes] = {};   // idle lanes hash zeros from here; their results are ignored
    size_t next = 0;
    auto assign = [&](int l) {
        if (next < count) {
            const ByteSpan &in = inputs[order[next]];
            lanes[l].start(static_cast<const uint8_t *>(in.data), in.size, order[next]);
            for (int k = 0; k < 8; ++k)
                state[k][l] = kInit[k];
            ++next;
        } else {
            lanes[l].active = false;
        }
    };
    for (int l = 0; l < kLanes; ++l)
        assign(l);

    const uint8_t *blocks[kLanes];
    for (;;) {
        // Blocks every active lane can take straight from its input: run that many without looking at the lanes.
        size_t run = SIZE_MAX;
        bool any = false;
        for (int l = 0; l < kLanes; ++l) {
            if (!lanes[l].active)
                continue;
            any = true;
            run = std::min(run, lanes[l].done < lanes[l].dataBlocks ? lanes[l].dataBlocks - lanes[l].done : size_t(1));
        }
        if (!any)
            break;
        for (int l = 0; l < kLanes; ++l)
            blocks[l] = lanes[l].active ? lanes[l].block() : zeros;
        __m512i s[8];
        for (int k = 0; k < 8; ++k)
            s[k] = _mm512_load_si512(state[k]);
        for (size_t r = 0; r < run; ++r) {
            compress(s, blocks);
            if (r + 1 < run)
                for (int l = 0; l < kLanes; ++l)
                    if (lanes[l].active)
                        blocks[l] += kBlock;
        }
        for (int k = 0; k < 8; ++k)
            _mm512_store_si512(state[k], s[k]);
        for (int l = 0; l < kLanes; ++l) {
            Lane &lane = lanes[l];
            if (!lane.active)
                continue;
            lane.done += run;
            if (lane.done < lane.blocks)
                continue;
            Sha256 &digest = out[lane.job];
            for (int k = 0; k < 8; ++k)
                for (int b = 0; b < 4; ++b)
                    digest[size_t(4 * k + b)] = uint8_t(state[k][l] >> (24 - 8 * b));
            assign(l);
        }
    }
}

bool haveSixteenWide()
{
    return hasAvx512Bw();
}

#endif

} // namespace

bool sha256ManyIsWide()
{
#ifdef KEEL_SHA256_X16
    return haveSixteenWide();
#else
    return false;
#endif
}

void sha256Many(const ByteSpan *inputs, size_t count, Sha256 *out, bool allowWide)
{
#ifdef KEEL_SHA256_X16
    // Below a few inputs most lanes would idle: one at a time (SHA-NI through OpenSSL) is faster there.
    if (allowWide && count >= 4 && haveSixteenWide()) {
        hashSixteenWide(inputs, count, out);
        return;
    }
#endif
    for (size_t i = 0; i < count; ++i)
        out[i] = sha256(inputs[i].data, inputs[i].size);
}

} // namespace keel
