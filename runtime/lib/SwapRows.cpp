//===- SwapRows.cpp - Undo one row's swap tree from stored bits -----------===//

#include "SwapRows.h"

#include <cstring>

namespace qet::runtime {

namespace detail {
void unpairPortable(const float *s, const float *l, size_t count,
                    const SwapView &swaps, uint64_t firstBit, float *dst) {
  for (size_t t = 0; t < count; ++t) {
    const uint64_t i = firstBit + t;
    const bool m = (swaps.bits[i >> 3] >> (i & 7)) & 1;
    dst[2 * t] = m ? s[t] : l[t];
    dst[2 * t + 1] = m ? l[t] : s[t];
  }
}
} // namespace detail

void undoRowSwaps(const SwapView &swaps, uint64_t row, size_t d, float *v,
                  float *scratch, KernelPath path) {
  auto unpair =
      path == KernelPath::Avx2 ? detail::unpairAvx2 : detail::unpairPortable;
  const size_t pairs = d / 2;
  for (unsigned k = swaps.depth; k-- > 0;) {
    // Layer k left block b (width 2h) as [S(bh..bh+h) | L(bh..bh+h)], pair
    // j = bh + t; bit 1 means the pair was (S, L), bit 0 (L, S).
    const size_t h = d >> (k + 1);
    const uint64_t base = (row * swaps.depth + k) * pairs;
    for (size_t b = 0; b < pairs / h; ++b)
      unpair(v + 2 * b * h, v + 2 * b * h + h, h, swaps, base + b * h,
             scratch + 2 * b * h);
    std::memcpy(v, scratch, d * sizeof(float));
  }
}

} // namespace qet::runtime
