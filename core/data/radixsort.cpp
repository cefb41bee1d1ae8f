#include "data/radixsort.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>

namespace keel::data {

namespace {

constexpr size_t kInsertionSort = 48;   // fewer keys than this: insertion sort
constexpr size_t kCacheKeys = 4096;     // up to this many (32 KiB): LSD passes that stay in the first-level cache
constexpr int kMaxTopBits = 13;         // the widest leading digit: 8192 buckets (their write fronts fit in L2)

void insertionSort(uint64_t *a, size_t n)
{
    for (size_t i = 1; i < n; ++i) {
        const uint64_t k = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > k; --j)
            a[j] = a[j - 1];
        a[j] = k;
    }
}

// Sorts a[0, n) by LSD passes of up to 10 bits over the bits in which its keys differ, b[0, n) as scratch; the
// result ends in a. For n up to kCacheKeys: both arrays stay in cache.
void lsdInCache(uint64_t *a, uint64_t *b, size_t n)
{
    uint64_t differ = 0;
    for (size_t i = 1; i < n; ++i)
        differ |= a[i] ^ a[0];
    const int bits = std::bit_width(differ);
    if (bits == 0)
        return;
    const int passes = (bits + 9) / 10;
    const int digit = (bits + passes - 1) / passes;
    const uint64_t mask = (uint64_t(1) << digit) - 1;
    uint32_t offsets[1 << 10];
    uint64_t *src = a, *dst = b;
    for (int p = 0; p < passes; ++p) {
        const int shift = p * digit;
        std::fill(offsets, offsets + mask + 1, 0u);
        for (size_t i = 0; i < n; ++i)
            ++offsets[(src[i] >> shift) & mask];
        uint32_t sum = 0;
        for (uint64_t d = 0; d <= mask; ++d)
            sum += std::exchange(offsets[d], sum);
        for (size_t i = 0; i < n; ++i) {
            const uint64_t k = src[i];
            dst[offsets[(k >> shift) & mask]++] = k;
        }
        std::swap(src, dst);
    }
    if (src != a)
        std::copy(src, src + n, a);
}

// Partitions a[0, n) into b by its leading digit (the top bits below `bits`; every key agrees on the bits above), so
// that each bucket is a cache-sized run that sortRun finishes. Returns the bucket bounds (ends[d] .. ends[d + 1]) and
// the bits left under the digit; no bounds when one bucket would hold every key (the digit is then skipped, nothing
// moved).
std::vector<size_t> partitionByTopDigit(const uint64_t *a, uint64_t *b, size_t n, int &bits)
{
    const int top = std::min(bits, std::clamp(int(std::bit_width(n / 1024)), 1, kMaxTopBits));
    const int shift = bits - top;
    const uint64_t mask = (uint64_t(1) << top) - 1;
    std::vector<size_t> bounds((size_t(1) << top) + 1, 0);
    for (size_t i = 0; i < n; ++i)
        ++bounds[((a[i] >> shift) & mask) + 1];
    bits = shift;
    if (std::find(bounds.begin(), bounds.end(), n) != bounds.end())
        return {};
    for (size_t d = 1; d < bounds.size(); ++d)
        bounds[d] += bounds[d - 1];
    std::vector<size_t> next(bounds.begin(), bounds.end() - 1);
    for (size_t i = 0; i < n; ++i) {
        const uint64_t k = a[i];
        b[next[(k >> shift) & mask]++] = k;
    }
    return bounds;
}

bool sortRun(uint64_t *a, uint64_t *b, size_t n, int bits, const Feedback *feedback);

// Sorts each bucket of b (bounds from partitionByTopDigit, keys agreeing from `bits` up) where it lies, a's same range
// as scratch. False when cancelled.
bool sortBuckets(uint64_t *b, uint64_t *a, const std::vector<size_t> &bounds, int bits, const Feedback *feedback)
{
    for (size_t d = 0; d + 1 < bounds.size(); ++d) {
        if (d % 256 == 0 && isCancelled(feedback))
            return false;
        if (!sortRun(b + bounds[d], a + bounds[d], bounds[d + 1] - bounds[d], bits, feedback))
            return false;
    }
    return true;
}

// Sorts a[0, n), whose keys agree on every bit from `bits` up, with b[0, n) as scratch; the result ends in a.
// False when cancelled.
bool sortRun(uint64_t *a, uint64_t *b, size_t n, int bits, const Feedback *feedback)
{
    while (bits > 0) {
        if (n < kInsertionSort) {
            insertionSort(a, n);
            return true;
        }
        if (n <= kCacheKeys) {
            lsdInCache(a, b, n);
            return true;
        }
        const std::vector<size_t> bounds = partitionByTopDigit(a, b, n, bits);
        if (bounds.empty())
            continue;
        if (!sortBuckets(b, a, bounds, bits, feedback))
            return false;
        std::copy(b, b + n, a);
        return true;
    }
    return true;
}

} // namespace

bool radixSort(KeyBuffer &keys, const Feedback *feedback, KeyBuffer *scratch, int differingBits)
{
    const size_t n = keys.size();
    if (n < 2048) {
        std::sort(keys.begin(), keys.end());
        return true;
    }
    // Row ids and event times often come sorted: one scan (stopping at the first key out of order) spares the passes.
    if (std::is_sorted(keys.begin(), keys.end()))
        return true;
    // Most significant digit first: one pass over memory spreads the keys into buckets by their top bits, then each
    // bucket (about a thousand keys) is sorted where it lies in cache. An LSD sort of the whole array instead makes
    // every one of its passes over main memory (three for 30-bit keys, five for doubles).
    KeyBuffer local;
    KeyBuffer &tmp = scratch ? *scratch : local;
    if (tmp.capacity() < n) {
        tmp.reserve(n);
        adviseHugePages(tmp.data(), n * sizeof(uint64_t));
    }
    tmp.resize(n);   // not zeroed: every slot is written before it is read
    int bits = std::clamp(differingBits, 0, 64);
    while (bits > 0 && n > kCacheKeys) {
        if (isCancelled(feedback))
            return false;
        const std::vector<size_t> bounds = partitionByTopDigit(keys.data(), tmp.data(), n, bits);
        if (bounds.empty())
            continue;
        if (!sortBuckets(tmp.data(), keys.data(), bounds, bits, feedback))
            return false;
        keys.swap(tmp);   // the sorted keys are in tmp: swapping spares the copy sortRun makes
        return true;
    }
    return sortRun(keys.data(), tmp.data(), n, bits, feedback);
}

std::vector<double> sortedNumbers(std::span<const double> values)
{
    KeyBuffer keys;
    keys.reserve(values.size());
    for (double v : values)
        if (!std::isnan(v))
            keys.push_back(floatKey(v));
    radixSort(keys);
    std::vector<double> out(keys.size());
    for (size_t i = 0; i < keys.size(); ++i)
        out[i] = floatFromKey(keys[i]);
    return out;
}

} // namespace keel::data
