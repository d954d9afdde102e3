//===- WeightedKMeans.h - Weighted, seeded k-means for VPTQ ----*- C++ -*-===//
//
// vptq.md §4: minimizes sum_n w_n ||x_n - c_a(n)||^2.
// - Weights are divided by their maximum (constant weights become exactly 1).
// - Sub-sampling: n_train = min(n, 64 k, 2^21) rows, sorted ascending: the
//   min(k, n_train) rows of highest weighted energy w ||x - mean_w||^2, then a
//   partial Fisher-Yates draw from the others, whose weights are scaled by
//   (n - top) / (n_train - top) (an unbiased estimate of the full objective).
//   A uniform draw alone (vptq.md §4) can drop the few rows that carry most
//   of the objective and leave no centroid near them.
// - Init: k <= 4096 weighted k-means++ (first center ~ w, later ~ w D^2; when
//   the mass reaches 0 the rest are copies of centroid 0); larger k: k
//   distinct training rows drawn uniformly; n_train <= k: all rows, then
//   copies of the first.
// - Lloyd: the fixed number of iterations, stopping early only when no
//   assignment changes; c = sum(w x) / sum(w) in fp64 over fixed chunks of
//   4096 rows whose sums are added in chunk order; empty clusters keep their
//   centroid; centroids rounded to fp16 at the end.
// - Distances: the project's shared nearest-centroid kernel (KMeans.h
//   `assign`): argmin of ||c||^2 - 2 x.c in fp32, ties to the lowest index,
//   independent of tiling and thread count.
//
// Random draws come from the project's Rng seeded with the per-call stream
// seed of vptq.md §4 (vptqStreamSeed); see WeightedKMeans.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_WEIGHTEDKMEANS_H
#define QET_QUANTIZER_WEIGHTEDKMEANS_H

#include "qet/Quantizer/KMeans.h"
#include "qet/Quantizer/Matrix.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qet::quant {

/// seed + 0x9E3779B97F4A7C15 * (1 + 3 g + stage) mod 2^64; stage 0 =
/// outliers, 1 = main, 2 = residual.
uint64_t vptqStreamSeed(uint64_t seed, unsigned group, unsigned stage);

struct WeightedKMeansOptions {
  size_t k = 0;
  unsigned iterations = 25;
  /// The stream seed (vptqStreamSeed for VPTQ).
  uint64_t seed = 0;
  unsigned threads = 0;
  /// n_train = min(n, perCentroid * k, maxTraining).
  size_t perCentroid = 64;
  size_t maxTraining = size_t{1} << 21;
  /// Weighted k-means++ up to this k, uniform distinct rows above.
  size_t plusPlusLimit = 4096;
  /// Round the final centroids to fp16.
  bool roundToHalf = true;
};

struct WeightedKMeansResult {
  /// k x dim.
  Matrix centroids;
  /// Training rows (ascending indices into the input).
  std::vector<size_t> trainingRows;
  /// Weighted mean squared distance (normalized weights, fp64) of the
  /// training rows at each assignment step.
  std::vector<double> objective;
  unsigned iterationsRun = 0;
  bool converged = false;
};

/// Throws Error on k == 0, an empty input, a weight count mismatch, or
/// weights that are negative, non-finite or all zero.
WeightedKMeansResult weightedKMeans(const PointsView &points,
                                    const std::vector<double> &weights,
                                    const WeightedKMeansOptions &options);

} // namespace qet::quant

#endif // QET_QUANTIZER_WEIGHTEDKMEANS_H
