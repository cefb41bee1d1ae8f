#include "store/chunker.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

namespace keel::store {

namespace {

constexpr uint64_t splitmix64(uint64_t &state)
{
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

template <int Shift>
constexpr std::array<uint64_t, 256> makeGear()
{
    std::array<uint64_t, 256> table{};
    uint64_t state = 0x6b65656c2d636463ULL;   // "keel-cdc"
    for (uint64_t &v : table)
        v = splitmix64(state) << Shift;
    return table;
}

// The gear table and its copies pre-shifted by 1..3 bits, so the scan can take 4 bytes per step:
// ((h << 1) + g[a]) << 3 == (h << 4) + (g[a] << 3), and so on.
constexpr std::array<uint64_t, 256> kGear = makeGear<0>();
constexpr std::array<uint64_t, 256> kGear1 = makeGear<1>();
constexpr std::array<uint64_t, 256> kGear2 = makeGear<2>();
constexpr std::array<uint64_t, 256> kGear3 = makeGear<3>();

static_assert((kMaskSmall >> 61) == 0 && (kMaskLarge >> 61) == 0, "masks must leave the top 3 bits free");

// Returns the cut position (one past the byte that matched) in [i, end), or -1. `h` carries the rolling hash.
inline qint64 scan(const uint8_t *p, qint64 i, qint64 end, uint64_t &h, uint64_t mask)
{
    const uint64_t mask1 = mask << 1, mask2 = mask << 2, mask3 = mask << 3;
    for (; i + 4 <= end; i += 4) {
        h = (h << 4) + kGear3[p[i]];
        if (!(h & mask3))
            return i + 1;
        h += kGear2[p[i + 1]];
        if (!(h & mask2))
            return i + 2;
        h += kGear1[p[i + 2]];
        if (!(h & mask1))
            return i + 3;
        h += kGear[p[i + 3]];
        if (!(h & mask))
            return i + 4;
    }
    for (; i < end; ++i) {
        h = (h << 1) + kGear[p[i]];
        if (!(h & mask))
            return i + 1;
    }
    return -1;
}

constexpr qint64 kMinSegment = 1024 * 1024;        // smaller inputs use fewer workers
constexpr qint64 kSettleDistance = 2 * kMaxChunk;  // past this, a worker's cuts almost surely are sequential ones
constexpr qint64 kProgressStep = 16 * 1024 * 1024;

} // namespace

const std::array<uint64_t, 256> &gearTable() { return kGear; }

qint64 nextChunkLength(const char *data, qint64 available)
{
    if (available <= kMinChunk)
        return available;
    const qint64 end = std::min(available, kMaxChunk);
    const qint64 normal = std::min(end, kAvgChunk);
    const auto *p = reinterpret_cast<const uint8_t *>(data);
    uint64_t h = 0;
    qint64 cut = scan(p, kMinChunk, normal, h, kMaskSmall);
    if (cut >= 0)
        return cut;
    cut = scan(p, normal, end, h, kMaskLarge);
    return cut >= 0 ? cut : end;
}

Expected<ChunkList> chunkParallel(const char *data, qint64 size, int threads, const ChunkVisitor &visit,
                                  Feedback *feedback)
{
    ChunkList out;
    if (size <= 0)
        return out;
    const int segments = int(std::clamp<qint64>(size / kMinSegment, 1, std::max(1, threads)));
    std::vector<qint64> starts(size_t(segments) + 1);
    for (int t = 0; t <= segments; ++t)
        starts[size_t(t)] = size * t / segments;

    std::vector<std::vector<qint64>> ends(static_cast<size_t>(segments));
    std::atomic<bool> stop{false};
    std::atomic<qint64> done{0};
    std::mutex errorMutex;
    std::optional<Error> firstError;
    auto fail = [&](Error e) {
        std::lock_guard lock(errorMutex);
        if (!firstError)
            firstError = std::move(e);
        stop.store(true);
    };

    auto work = [&](int t) {
        const qint64 begin = starts[size_t(t)];
        const qint64 limit = starts[size_t(t) + 1];
        std::vector<qint64> &cuts = ends[size_t(t)];
        cuts.reserve(size_t((limit - begin) / kAvgChunk + 4));
        qint64 reported = 0;
        qint64 c = begin;
        std::vector<ChunkVisit> batch;
        batch.reserve(kVisitBatch);
        auto flush = [&] {
            if (batch.empty())
                return true;
            Status st = visit(std::span<const ChunkVisit>(batch));
            batch.clear();
            if (!st.isOk())
                fail(st.error());
            return st.isOk();
        };
        while (c < limit) {
            if (stop.load(std::memory_order_relaxed))
                return;
            if (isCancelled(feedback)) {
                fail(cancelledError());
                return;
            }
            const qint64 len = nextChunkLength(data + c, size - c);
            if (visit) {
                batch.push_back(ChunkVisit{t, qint64(cuts.size()), c, len, t == 0 || c >= begin + kSettleDistance});
                if (batch.size() == kVisitBatch && !flush())
                    return;
            }
            c += len;
            cuts.push_back(c);
            const qint64 total = done.fetch_add(len, std::memory_order_relaxed) + len;
            // Only the calling thread reports, so the callback sees non-decreasing values.
            if (t == 0 && total - reported >= kProgressStep) {
                reported = total;
                reportProgress(feedback, total, size, QStringLiteral("chunking"));
            }
        }
        if (visit)
            flush();
    };

    std::vector<std::thread> pool;
    pool.reserve(size_t(segments) - 1);
    for (int t = 1; t < segments; ++t)
        pool.emplace_back(work, t);
    work(0);
    for (std::thread &th : pool)
        th.join();
    if (firstError)
        return *firstError;

    // Stitch: segment 0 is exact. Continue sequentially from the last known cut until it meets a cut of the next
    // segment's chain; from there that chain is the sequential one (a chunk depends only on where it starts).
    out.ends.reserve(size_t(size / kAvgChunk + 8));
    out.origins.reserve(out.ends.capacity());
    auto takeFrom = [&](int t, size_t first) {
        const std::vector<qint64> &cuts = ends[size_t(t)];
        for (size_t i = first; i < cuts.size(); ++i) {
            out.ends.push_back(cuts[i]);
            out.origins.push_back(ChunkOrigin{t, qint64(i)});
        }
    };
    takeFrom(0, 0);
    qint64 pos = out.ends.back();
    for (int t = 1; t < segments; ++t) {
        const std::vector<qint64> &cuts = ends[size_t(t)];
        while (pos < cuts.back()) {
            if (pos == starts[size_t(t)]) {
                takeFrom(t, 0);
                pos = out.ends.back();
                break;
            }
            const auto it = std::lower_bound(cuts.begin(), cuts.end(), pos);
            if (it != cuts.end() && *it == pos) {
                takeFrom(t, size_t(it - cuts.begin()) + 1);
                pos = out.ends.back();
                break;
            }
            pos += nextChunkLength(data + pos, size - pos);
            out.ends.push_back(pos);
            out.origins.push_back(ChunkOrigin{});
        }
    }
    while (pos < size) {
        pos += nextChunkLength(data + pos, size - pos);
        out.ends.push_back(pos);
        out.origins.push_back(ChunkOrigin{});
    }
    reportProgress(feedback, size, size, QStringLiteral("chunking"));
    return out;
}

std::vector<qint64> chunkBoundaries(const char *data, qint64 size, int threads)
{
    Expected<ChunkList> list = chunkParallel(data, size, threads, ChunkVisitor(), nullptr);
    return list ? std::move(list->ends) : std::vector<qint64>();
}

} // namespace keel::store
