#pragma once
// Invariant checks for the fuzz targets: a broken invariant aborts (the driver keeps the input).
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what) \
    do { \
        if (!(cond)) { \
            std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", what, __FILE__, __LINE__); \
            std::abort(); \
        } \
    } while (false)
