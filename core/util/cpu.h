#pragma once
// Processor features, and state hygiene before handing work to other threads.

namespace keel {

/// Clears the upper halves of the AVX registers of the calling thread (vzeroupper; a no-op without AVX).
/// Some code earlier in a process (seen after parsing a CSV) leaves them dirty; threads created afterwards
/// (XGBoost's OpenMP workers, our own workers) start with that state, and every SSE instruction they run then pays
/// a transition penalty: XGBoost training with evaluation and the logistic fit measured 2-3x slower. Call before
/// starting worker threads or entering XGBoost. Thread-safe (affects only the calling thread).
void clearUpperVectorState();

/// AVX-512 with byte and word instructions (F and BW): the 64-byte paths of the CSV record count and the sixteen-lane
/// SHA-256. Asked of the CPU once.
bool hasAvx512Bw();

/// The POPCNT instruction (every x86-64 CPU since about 2008): the 16-byte paths of the CSV separator index and survey,
/// which otherwise called a library routine for every 64 bytes. Asked of the CPU once.
bool hasPopcnt();

/// AVX2 with BMI1, BMI2 and POPCNT (Intel since 2013, AMD since 2015): the 32-byte paths of the CSV separator index and
/// survey on CPUs without AVX-512. Asked of the CPU once.
bool hasAvx2();

} // namespace keel
