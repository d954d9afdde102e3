//===- SwapRowsAvx2.cpp - Swap-tree unpairing with AVX2 -------------------===//
//
// 8 pairs per step: the 8 stored bits become a lane mask, two blends pick
// (a, c) = bit ? (S, L) : (L, S), and an unpack + lane permute interleaves
// them into a0 c0 a1 c1 ... (qet.md §4's masked batch processing).
//
//===----------------------------------------------------------------------===//

#include "SwapRows.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace qet::runtime::detail {

__attribute__((target("avx2"))) void unpairAvx2(const float *s, const float *l,
                                                size_t count,
                                                const SwapView &swaps,
                                                uint64_t firstBit, float *dst) {
  const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  size_t t = 0;
  for (; t + 8 <= count; t += 8) {
    const unsigned bits = readBits8(swaps.bits, swaps.size, firstBit + t);
    __m256 m = _mm256_castsi256_ps(_mm256_cmpeq_epi32(
        _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits)), lane),
        lane));
    __m256 sv = _mm256_loadu_ps(s + t), lv = _mm256_loadu_ps(l + t);
    __m256 a = _mm256_blendv_ps(lv, sv, m);
    __m256 c = _mm256_blendv_ps(sv, lv, m);
    __m256 lo = _mm256_unpacklo_ps(a, c); // a0 c0 a1 c1 | a4 c4 a5 c5
    __m256 hi = _mm256_unpackhi_ps(a, c); // a2 c2 a3 c3 | a6 c6 a7 c7
    _mm256_storeu_ps(dst + 2 * t, _mm256_permute2f128_ps(lo, hi, 0x20));
    _mm256_storeu_ps(dst + 2 * t + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
  }
  if (t < count)
    unpairPortable(s + t, l + t, count - t, swaps, firstBit + t, dst + 2 * t);
}

} // namespace qet::runtime::detail

#else

namespace qet::runtime::detail {
void unpairAvx2(const float *s, const float *l, size_t count,
                const SwapView &swaps, uint64_t firstBit, float *dst) {
  unpairPortable(s, l, count, swaps, firstBit, dst);
}
} // namespace qet::runtime::detail

#endif
