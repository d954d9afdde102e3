//===- Parallel.h - Deterministic data-parallel loops ----------*- C++ -*-===//
//
// Splits [begin, end) into contiguous chunks run on std::threads. Results are
// independent of the thread count as long as each index writes its own
// outputs; reductions are done afterwards in a fixed order by the caller.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_PARALLEL_H
#define QET_QUANTIZER_PARALLEL_H

#include <cstddef>
#include <functional>

namespace qet::quant {

/// `requested` threads, or the hardware concurrency when 0.
unsigned resolveThreads(unsigned requested);

/// Calls body(chunkBegin, chunkEnd) on disjoint chunks covering [begin, end)
/// using up to `threads` threads (0 = all cores). Chunks are at least
/// `minChunk` long so tiny loops stay on the calling thread.
void parallelFor(size_t begin, size_t end, unsigned threads,
                 const std::function<void(size_t, size_t)> &body,
                 size_t minChunk = 1);

} // namespace qet::quant

#endif // QET_QUANTIZER_PARALLEL_H
