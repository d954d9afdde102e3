//===- Parallel.cpp - Deterministic data-parallel loops -------------------===//

#include "qet/Quantizer/Parallel.h"

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

namespace qet::quant {

unsigned resolveThreads(unsigned requested) {
  if (requested)
    return requested;
  unsigned hardware = std::thread::hardware_concurrency();
  return hardware ? hardware : 1;
}

void parallelFor(size_t begin, size_t end, unsigned threads,
                 const std::function<void(size_t, size_t)> &body,
                 size_t minChunk) {
  if (end <= begin)
    return;
  size_t total = end - begin;
  size_t workers = std::min<size_t>(resolveThreads(threads),
                                    (total + minChunk - 1) / std::max<size_t>(minChunk, 1));
  if (workers <= 1) {
    body(begin, end);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(workers);
  size_t chunk = (total + workers - 1) / workers;
  for (size_t w = 1; w < workers; ++w) {
    size_t lo = begin + w * chunk, hi = std::min(end, lo + chunk);
    if (lo >= hi)
      break;
    pool.emplace_back([&, w, lo, hi] {
      try {
        body(lo, hi);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  }
  try {
    body(begin, std::min(end, begin + chunk));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (std::thread &t : pool)
    t.join();
  for (std::exception_ptr &error : errors)
    if (error)
      std::rethrow_exception(error);
}

} // namespace qet::quant
