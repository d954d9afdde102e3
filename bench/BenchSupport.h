//===- BenchSupport.h - Shared by the generated-code benches -*- C++ -*-===//
#ifndef QET_BENCH_BENCHSUPPORT_H
#define QET_BENCH_BENCHSUPPORT_H

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace qet::bench {

/// A memref<B x K x f32> descriptor as MLIR's C interface takes it.
struct Matrix2D {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
};

/// `data` as a rows x cols row-major memref.
inline Matrix2D describe(std::vector<float> &data, int64_t rows, int64_t cols) {
  return {data.data(), data.data(), 0, {rows, cols}, {cols, 1}};
}

/// Read bandwidth: glibc's vectorized memchr over 1 GiB that holds no match
/// (a plain read stream; a scalar loop would measure itself instead).
inline void readBandwidth(benchmark::State &state) {
  static std::vector<unsigned char> big(size_t{1} << 30, 0);
  for (auto _ : state)
    benchmark::DoNotOptimize(std::memchr(big.data(), 1, big.size()));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(big.size()));
}

} // namespace qet::bench

#endif // QET_BENCH_BENCHSUPPORT_H
