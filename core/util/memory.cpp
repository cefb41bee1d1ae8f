#include "util/memory.h"

#include <cstdint>

#include <sys/mman.h>

namespace keel {

void adviseHugePages(const void *p, size_t bytes)
{
    constexpr uintptr_t huge = uintptr_t(2) << 20;
    if (bytes < 2 * huge)
        return;
    const auto begin = reinterpret_cast<uintptr_t>(p);
    const uintptr_t first = (begin + huge - 1) & ~(huge - 1);
    const uintptr_t last = (begin + bytes) & ~(huge - 1);
    if (last > first)
        ::madvise(reinterpret_cast<void *>(first), last - first, MADV_HUGEPAGE);
}

void discardPages(void *p, size_t bytes)
{
    ::madvise(p, bytes, MADV_DONTNEED);
}

} // namespace keel
