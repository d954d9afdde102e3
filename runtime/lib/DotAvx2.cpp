//===- DotAvx2.cpp - fp32 dot product with AVX2 + FMA ---------------------===//

#include "Dot.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace qet::runtime {

__attribute__((target("avx2,fma"))) float dotAvx2(const float *a,
                                                  const float *b, size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 =
        _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8),
                           _mm256_loadu_ps(b + i + 8), acc1);
  }
  if (i + 8 <= n) {
    acc0 =
        _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    i += 8;
  }
  __m256 v = _mm256_add_ps(acc0, acc1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  float sum = _mm_cvtss_f32(s);
  for (; i < n; ++i)
    sum += a[i] * b[i];
  return sum;
}

} // namespace qet::runtime

#else

namespace qet::runtime {
float dotAvx2(const float *a, const float *b, size_t n) { return dot(a, b, n); }
} // namespace qet::runtime

#endif
