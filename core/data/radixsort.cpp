#include "data/radixsort.h"

#include <algorithm>
#include <cmath>

namespace keel::data {

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
    constexpr int kBits = 13, kBuckets = 1 << kBits, kMaxPasses = 5;   // 5 x 13 bits cover the 64 (measured fastest here)
    constexpr uint64_t kMask = kBuckets - 1;
    // Digits wholly above the bits in which keys differ are the same in every key: neither counted nor passed over.
    const int passes = std::clamp((differingBits + kBits - 1) / kBits, 1, kMaxPasses);
    std::vector<size_t> hist(size_t(passes) * kBuckets, 0);
    auto count = [&]<int kPasses>() {   // a constant pass count: the inner loop unrolled
        for (uint64_t k : keys)
            for (int p = 0; p < kPasses; ++p)
                ++hist[size_t(p) * kBuckets + size_t((k >> (p * kBits)) & kMask)];
    };
    switch (passes) {
    case 1: count.operator()<1>(); break;
    case 2: count.operator()<2>(); break;
    case 3: count.operator()<3>(); break;
    case 4: count.operator()<4>(); break;
    default: count.operator()<5>(); break;
    }
    KeyBuffer local;
    KeyBuffer &tmp = scratch ? *scratch : local;
    if (tmp.capacity() < n) {
        tmp.reserve(n);
        adviseHugePages(tmp.data(), n * sizeof(uint64_t));
    }
    tmp.resize(n);   // not zeroed: every slot is written by the first pass
    for (int p = 0; p < passes; ++p) {
        size_t *h = hist.data() + size_t(p) * kBuckets;
        if (std::any_of(h, h + kBuckets, [n](size_t c) { return c == n; }))
            continue;
        if (isCancelled(feedback))
            return false;
        size_t sum = 0;
        for (int b = 0; b < kBuckets; ++b) {
            const size_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        const int shift = p * kBits;
        for (uint64_t k : keys)
            tmp[h[(k >> shift) & kMask]++] = k;
        keys.swap(tmp);
    }
    return true;
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
