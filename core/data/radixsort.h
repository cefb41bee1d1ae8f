#pragma once
// Sorting numbers by their bits: order-preserving maps from int64 and double values to unsigned keys, and an LSD
// radix sort of the keys — what the profile (quantiles, distinct counts) and the drift statistics (PSI, KS,
// Wasserstein) sort with, several times faster than a comparison sort on a million values. Internal to core/data.

#include "util/feedback.h"
#include "util/memory.h"

#include <QtGlobal>

#include <bit>
#include <cstdint>
#include <span>
#include <vector>

namespace keel::data {

inline constexpr uint64_t kSignBit = uint64_t(1) << 63;

inline uint64_t intKey(int64_t v) { return uint64_t(v) ^ kSignBit; }
inline double intFromKey(uint64_t k) { return double(int64_t(k ^ kSignBit)); }
/// -0 and +0 map to one key (one value).
inline uint64_t floatKey(double v)
{
    if (v == 0)
        v = 0.0;
    const uint64_t bits = std::bit_cast<uint64_t>(v);
    return (bits & kSignBit) ? ~bits : (bits | kSignBit);
}
inline double floatFromKey(uint64_t k) { return std::bit_cast<double>((k & kSignBit) ? (k & ~kSignBit) : ~k); }

/// Sort keys: a vector that growing does not zero (its elements are written before they are read).
using KeyBuffer = ScratchVector<uint64_t>;

/// Sorts `keys` ascending (radix: one pass spreads the keys into up to 8192 buckets by their leading digit, then each
/// cache-sized bucket is sorted by LSD passes over the bits its keys differ in; a digit every key shares is skipped;
/// small inputs by std::sort; sorted input returned as it is). False when cancelled.
/// `scratch` (optional) is the second buffer the passes alternate with; reusing one across calls spares the fresh
/// pages (and their zeroing by the kernel) of a new one each time. Its contents are overwritten.
/// `differingBits`: every key has the same bits from this one up (a caller that knows the smallest and largest key
/// passes std::bit_width(min ^ max)); the digits above are then not even counted.
bool radixSort(KeyBuffer &keys, const Feedback *feedback = nullptr, KeyBuffer *scratch = nullptr, int differingBits = 64);

/// The values of `values` that are not NaN, ascending (-0 reads as +0).
std::vector<double> sortedNumbers(std::span<const double> values);

} // namespace keel::data
