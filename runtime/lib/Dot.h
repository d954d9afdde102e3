//===- Dot.h - fp32 dot products --------------------------------*- C++ -*-===//
//
// dot(): eight independent lanes (element i goes to lane i % 8) reduced
// pairwise, which compilers vectorize without reassociating, so every
// target gives the same result. dotAvx2(): two 8-lane FMA chains, for the
// AVX2 paths (only called when cpuHasAvx2()).
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_LIB_DOT_H
#define QET_RUNTIME_LIB_DOT_H

#include <cstddef>

namespace qet::runtime {

inline float dot(const float *a, const float *b, size_t n) {
  float lanes[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (unsigned l = 0; l < 8; ++l)
      lanes[l] += a[i + l] * b[i + l];
  for (; i < n; ++i)
    lanes[i & 7] += a[i] * b[i];
  return ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) +
         ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
}

float dotAvx2(const float *a, const float *b, size_t n);

} // namespace qet::runtime

#endif // QET_RUNTIME_LIB_DOT_H
