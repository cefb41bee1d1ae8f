#include "util/cpu.h"

namespace keel {

void clearUpperVectorState()
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx"))
        asm volatile("vzeroupper" ::: "memory");
#endif
}

bool hasAvx512Bw()
{
#if defined(__x86_64__)
    static const bool have = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    return have;
#else
    return false;
#endif
}

bool hasPopcnt()
{
#if defined(__x86_64__)
    static const bool have = __builtin_cpu_supports("popcnt");
    return have;
#else
    return false;
#endif
}

bool hasAvx2()
{
#if defined(__x86_64__)
    static const bool have = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi")
                             && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
    return have;
#else
    return false;
#endif
}

} // namespace keel
