#pragma once
// Content-defined chunking (FastCDC style): a gear rolling hash cuts a byte stream where its content says so,
// so inserting or removing bytes moves only the cuts near the edit. Parallel chunking gives exactly the cuts of
// sequential chunking (segments are chunked on their own, then stitched where the cut chains meet).

#include "util/feedback.h"
#include "util/result.h"

#include <QtGlobal>

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace keel::store {

inline constexpr qint64 kMinChunk = 16 * 1024;    ///< no cut before this many bytes (except at end of input)
inline constexpr qint64 kAvgChunk = 64 * 1024;    ///< normal size: stricter cut mask before it, looser after
inline constexpr qint64 kMaxChunk = 256 * 1024;   ///< forced cut at this length

/// The gear table: 256 fixed pseudo-random values (splitmix64 from a fixed seed). Exposed for reference tests.
const std::array<uint64_t, 256> &gearTable();
/// A mask with `bits` one-bits spread over bit positions 60 down to 19 (high bits see the most recent 64 bytes).
inline constexpr uint64_t spreadMask(int bits)
{
    uint64_t mask = 0;
    for (int i = 0; i < bits; ++i)
        mask |= uint64_t(1) << (60 - (i * 42) / bits);
    return mask;
}
/// Cut masks of normalized chunking: a cut after byte i when (hash & mask) == 0, with the hash
/// h = (h << 1) + gear[byte] restarted at each chunk's kMinChunk-th byte; kMaskSmall (18 bits) before kAvgChunk,
/// kMaskLarge (14 bits) from there on. No mask uses the top 3 bits (the scan processes 4 bytes per step).
inline constexpr uint64_t kMaskSmall = spreadMask(18);
inline constexpr uint64_t kMaskLarge = spreadMask(14);

/// Length of the chunk that starts at `data`, where `available` bytes remain until the end of input.
/// Depends only on those bytes: the chunker has no state beyond the position of the last cut. Thread-safe.
qint64 nextChunkLength(const char *data, qint64 available);

/// End offsets of consecutive chunks of `data[0, size)` (ascending, last == size; empty for size 0).
/// Uses up to `threads` threads; the result is identical for every thread count. Thread-safe.
std::vector<qint64> chunkBoundaries(const char *data, qint64 size, int threads);

/// One chunk seen by a chunking worker. Workers chunk their own segment from its start; `settled` says the chunk
/// lies far enough past the segment start that it is almost surely one of the sequential chunks (the caller may
/// act on it right away, e.g. store it; stitching reports whether it really was one).
struct ChunkVisit {
    int segment = 0;        ///< worker segment (0-based)
    qint64 index = 0;       ///< 0-based position among this segment's visits
    qint64 offset = 0;      ///< start in the input
    qint64 length = 0;
    bool settled = false;
};

/// Called on worker threads with consecutive visits of one segment (up to kVisitBatch at a time, so a visitor can
/// hash many chunks side by side), in order within a segment, concurrently across segments. A failed Status stops
/// chunking and is returned by chunkParallel.
using ChunkVisitor = std::function<Status(std::span<const ChunkVisit>)>;
inline constexpr size_t kVisitBatch = 64;

/// Where a sequential chunk was visited: (segment, index) of the visit, or segment -1 if only stitching found it.
struct ChunkOrigin {
    int segment = -1;
    qint64 index = -1;
};

/// The exact sequential chunk list plus, for each chunk, the visit that saw it.
struct ChunkList {
    std::vector<qint64> ends;
    std::vector<ChunkOrigin> origins;
};

/// Chunks `data` with up to `threads` worker threads (the calling thread is one of them), calling `visit` for each
/// chunk a worker finds, then stitches the segments into the sequential chunk list. Progress is reported in bytes
/// under the stage "chunking"; cancel yields the error "cancelled". `data` must stay valid during the call.
Expected<ChunkList> chunkParallel(const char *data, qint64 size, int threads, const ChunkVisitor &visit,
                                  Feedback *feedback = nullptr);

} // namespace keel::store
