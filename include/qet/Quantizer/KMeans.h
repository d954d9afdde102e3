//===- KMeans.h - Seeded, deterministic Lloyd k-means ----------*- C++ -*-===//
//
// The k-means of qem.md §6, shared by PQ, OPQ, LOPQ and the QET stages:
// "points" init (K distinct rows drawn without replacement), then T Lloyd
// iterations (nearest centroid by squared L2, ties to the lowest index; means
// summed in fp64 in row order; an empty cluster keeps its centroid).
//
// Results are bit-identical for a given seed and input whatever the thread
// count: each point's assignment is computed on its own, and every reduction
// runs afterwards on one thread in row order.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_KMEANS_H
#define QET_QUANTIZER_KMEANS_H

#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/Random.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qet::quant {

struct KMeansOptions {
  /// Number of centroids, 1 <= k <= training rows.
  size_t k = 0;
  /// Lloyd iterations T (0 keeps the initial centroids).
  unsigned iterations = 20;
  uint64_t seed = kDefaultSeed;
  /// Worker threads (0 = all cores); the result does not depend on it.
  unsigned threads = 0;
  /// 0 trains on every row; otherwise on a seeded subsample of this many rows
  /// (reported in KMeansResult::trainingRows).
  size_t trainingSample = 0;
  /// Explicit init rows (k distinct indices into the input), used by tests
  /// and by PQ, whose subspaces share one draw. Null = draw with `seed`.
  const std::vector<size_t> *initRows = nullptr;
  /// Stop once an assignment step changes no label: the remaining
  /// iterations would reproduce the same centroids, so the result is equal.
  bool stopWhenStable = true;
};

struct KMeansResult {
  /// k x D, fp32 (not rounded to any storage dtype).
  Matrix centroids;
  /// Label of each training row from the last assignment step, i.e. the
  /// partition whose means are `centroids`.
  std::vector<uint32_t> labels;
  /// Mean squared distance (fp64) of the training rows to their assigned
  /// centroid at each assignment step; non-increasing in exact arithmetic.
  std::vector<double> objective;
  /// Rows the centroids were trained on, ascending; empty when all were used.
  std::vector<size_t> trainingRows;
  /// The init rows (indices into the input).
  std::vector<size_t> initRows;
  /// Lloyd iterations actually run (< T when stopped early).
  unsigned iterationsRun = 0;
  /// True when the last assignment step changed nothing.
  bool converged = false;
};

/// A read-only view of `rows` points of `dim` floats, point i starting at
/// data + i * stride. PQ uses it for column blocks without copying.
struct PointsView {
  const float *data = nullptr;
  size_t rows = 0;
  size_t dim = 0;
  size_t stride = 0;

  const float *row(size_t i) const { return data + i * stride; }
  static PointsView of(const Matrix &m) {
    return {m.values.data(), m.rows, m.cols, m.cols};
  }
  /// Columns [begin, begin + width) of `m`.
  static PointsView columns(const Matrix &m, size_t begin, size_t width) {
    return {m.values.data() + begin, m.rows, width, m.cols};
  }
};

/// Runs k-means. Throws Error on k == 0, k > training rows, non-finite
/// points or bad init rows.
KMeansResult kmeans(const PointsView &points, const KMeansOptions &options);
KMeansResult kmeans(const Matrix &points, const KMeansOptions &options);

/// Label of the nearest of `k` centroids (k x dim, row-major) for every point
/// (squared L2, ties to the lowest index up to rounding, see KMeans.cpp).
void assign(const PointsView &points, const float *centroids, size_t k,
            uint32_t *labels, unsigned threads = 0);
std::vector<uint32_t> assign(const Matrix &points, const Matrix &centroids,
                             unsigned threads = 0);

namespace detail {
/// For tests: use the portable nearest-centroid kernel even where the AVX2
/// one is available (both give identical labels). Returns the old setting.
bool setPortableKMeansKernel(bool portable);
} // namespace detail

} // namespace qet::quant

#endif // QET_QUANTIZER_KMEANS_H
