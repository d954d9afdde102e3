//===- QetQuantizeBench.cpp - Time to quantize with QET -------------------===//
//
// `qet` on a 4096 x 128 K-cache-like matrix (outlier columns, data seed 1)
// at 4 bpe, 1 and 2 threads, through the scheme entry point (budget solve,
// both stages' k-means, CQO, encoding, packing, decoding from the packed
// form). Two fixed configurations:
//   reference: M = 4, depths (3, 0), split (0.7, 0.3), codebook bits 10
//              (the reference's defaults, Ks = 588, 204);
//   best:      M = 32, depths (0, 0), split (0.5, 0.5) (what the option
//              search picks on this matrix at 4 bpe).
// BM_QetFusedMatvec times y = W_hat x from the packed reference-default
// matrix against dense decoding followed by a matvec.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Metrics.h"
#include "qet/Quantizer/Qet.h"
#include "qet/Quantizer/RowDecoder.h"
#include "qet/Quantizer/Scheme.h"
#include "qet/Quantizer/SyntheticData.h"

#include <benchmark/benchmark.h>

using namespace qet::quant;

namespace {

constexpr size_t kRows = 4096, kCols = 128;

const Matrix &input() {
  static const Matrix matrix =
      makeSynthetic(Family::OutlierColumns, kRows, kCols, 1);
  return matrix;
}

QuantizeOptions configuration(int which, unsigned threads) {
  QuantizeOptions options;
  options.bpe = 4;
  options.threads = threads;
  if (which == 0) {
    options.subspaces = 4;
    options.depths = {3, 0};
    options.split = {0.7, 0.3};
  } else {
    options.subspaces = 32;
    options.depths = {0, 0};
    options.split = {0.5, 0.5};
  }
  return options;
}

double relativeMse(const Matrix &x, const Matrix &approx) {
  double energy = 0.0;
  for (float v : x.values)
    energy += double(v) * v;
  return measureError(x, approx).mse * x.size() / energy;
}

void BM_QetQuantize(benchmark::State &state) {
  const Matrix &x = input();
  QuantizeOptions options =
      configuration(static_cast<int>(state.range(0)),
                    static_cast<unsigned>(state.range(1)));
  QuantizeResult result;
  for (auto _ : state) {
    result = quantize("qet", x, options);
    benchmark::DoNotOptimize(result.reconstruction.values.data());
  }
  state.counters["threads"] = static_cast<double>(state.range(1));
  state.counters["bpe"] = result.packed.bitsPerElement();
  state.counters["relative_mse"] = relativeMse(x, result.reconstruction);
  state.SetLabel(state.range(0) == 0 ? "reference M=4 l=3,0 split=0.7,0.3"
                                     : "best M=32 l=0,0 split=0.5,0.5");
}

void BM_QetFusedMatvec(benchmark::State &state) {
  static const QuantizeResult result =
      quantize("qet", input(), configuration(0, 2));
  FusedRowDecoder decoder(result.packed);
  std::vector<float> x(kCols, 0.5f), y(kRows);
  for (auto _ : state) {
    decoder.multiply(x.data(), y.data(), 1);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows * kCols);
}

void BM_QetDecodeThenMatvec(benchmark::State &state) {
  static const QuantizeResult result =
      quantize("qet", input(), configuration(0, 2));
  std::vector<float> x(kCols, 0.5f), y(kRows);
  for (auto _ : state) {
    Matrix w = decodeQet(result.packed, 1);
    for (size_t i = 0; i < kRows; ++i) {
      float sum = 0.0f;
      for (size_t j = 0; j < kCols; ++j)
        sum += w.at(i, j) * x[j];
      y[i] = sum;
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows * kCols);
}

} // namespace

BENCHMARK(BM_QetQuantize)
    ->ArgNames({"config", "threads"})
    ->Args({0, 1})
    ->Args({0, 2})
    ->Args({1, 1})
    ->Args({1, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_QetFusedMatvec)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_QetDecodeThenMatvec)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
