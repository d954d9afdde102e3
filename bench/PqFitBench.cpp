//===- PqFitBench.cpp - Time to fit PQ on one matrix ----------------------===//
//
// PQ fit (k-means per subspace, codebook rounding, final encoding) on a
// 4096 x 128 Gaussian fp32 matrix with M = 8 and Ks = 440 (the solver's Ks
// for B = 4 at M = 8), 20 Lloyd iterations, at 1 and 2 threads.
// bench/run_pq_fit.sh runs it beside bench/reference_pq.py (the reference's
// scipy kmeans2 fit) and writes docs/quantizer-speed.md.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/ProductQuantizer.h"
#include "qet/Quantizer/Random.h"

#include <benchmark/benchmark.h>

#include <cstdint>

using namespace qet::quant;

namespace {

constexpr size_t kRows = 4096, kCols = 128, kSubspaces = 8, kCentroids = 440;
constexpr unsigned kIterations = 20;

/// FNV-1a over the matrix bytes: reference_pq.py reports the same hash when
/// it fits the same matrix.
uint32_t fnv1a32(const Matrix &m) {
  const auto *bytes = reinterpret_cast<const unsigned char *>(m.values.data());
  uint32_t hash = 0x811c9dc5u;
  for (size_t i = 0; i < m.values.size() * sizeof(float); ++i)
    hash = (hash ^ bytes[i]) * 0x01000193u;
  return hash;
}

double relativeMse(const Matrix &x, const Matrix &approx) {
  double error = 0.0, energy = 0.0;
  for (size_t i = 0; i < x.values.size(); ++i) {
    double diff = static_cast<double>(x.values[i]) - approx.values[i];
    error += diff * diff;
    energy += static_cast<double>(x.values[i]) * x.values[i];
  }
  return error / energy;
}

const Matrix &input() {
  static const Matrix matrix = [] {
    Rng rng(1);
    Matrix m(kRows, kCols);
    for (float &v : m.values)
      v = 0.02f * static_cast<float>(rng.normal());
    return m;
  }();
  return matrix;
}

void BM_PqFit(benchmark::State &state) {
  const Matrix &x = input();
  PqConfig config{kSubspaces, kCentroids, kIterations, kDefaultSeed,
                  static_cast<unsigned>(state.range(0))};
  PqModel model;
  for (auto _ : state) {
    model = trainPq(x, config);
    benchmark::DoNotOptimize(model.codes.data());
  }
  state.counters["threads"] = static_cast<double>(state.range(0));
  state.counters["relative_mse"] = relativeMse(x, decodePq(model));
  state.counters["input_fnv32"] = fnv1a32(x);
  state.SetItemsProcessed(state.iterations() * kRows);
}

} // namespace

BENCHMARK(BM_PqFit)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
