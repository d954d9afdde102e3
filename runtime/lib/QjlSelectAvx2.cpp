//===- QjlSelectAvx2.cpp - QJL sign-select sums with AVX2 -----------------===//
//
// A byte of sign bits, broadcast and ANDed with the lane bits {1, ..., 128},
// compares equal where the bit is set; the mask ANDed with 8 x values is
// added to lane accumulators. Only additions of x or +0 in the portable
// kernel's lane order: bit-identical to it.
//
//===----------------------------------------------------------------------===//

#include "QjlKernel.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace qet::runtime::detail {

namespace {
__attribute__((target("avx2"))) inline float reduceAvx(__m256 v) {
  // ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), as reduceLanes.
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  __m128 u = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 1)));
}
} // namespace

__attribute__((target("avx2"))) void
selectSumsAvx2(const uint8_t *bits, size_t stride, size_t bytes, size_t count,
               const float *x, float *sel) {
  const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  for (size_t t = 0; t < count; ++t) {
    const uint8_t *row = bits + t * stride;
    __m256 acc = _mm256_setzero_ps();
    for (size_t b = 0; b < bytes; ++b) {
      __m256i byte = _mm256_set1_epi32(row[b]);
      __m256 mask = _mm256_castsi256_ps(
          _mm256_cmpeq_epi32(_mm256_and_si256(byte, lane), lane));
      acc = _mm256_add_ps(acc, _mm256_and_ps(mask, _mm256_loadu_ps(x + 8 * b)));
    }
    sel[t] = reduceAvx(acc);
  }
}

} // namespace qet::runtime::detail

#else

#include "qet/runtime/RuntimeError.h"

namespace qet::runtime::detail {
void selectSumsAvx2(const uint8_t *, size_t, size_t, size_t, const float *,
                    float *) {
  throw RuntimeError(ErrorCode::Unsupported, "qjl: no AVX2 kernel here");
}
} // namespace qet::runtime::detail

#endif
