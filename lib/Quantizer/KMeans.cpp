//===- KMeans.cpp - Seeded, deterministic Lloyd k-means -------------------===//
//
// The assignment step dominates: N x K x D multiply-adds per iteration. It
// uses the GEMM decomposition ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2, drops
// the per-point constant ||x||^2, and evaluates ||c||^2 - 2 x.c for a tile of
// points against 16 centroids at a time from a transposed (D x K) centroid
// table, keeping a running minimum per lane. This is a register-blocked GEMM
// fused with the argmin, so the N x K distance matrix is never stored.
//
// Why not Eigen's GEMM here: the project builds for the x86-64 baseline
// (SSE2), where Eigen's float kernels run at a third of the AVX2 rate, and
// the separate argmin pass over the distance matrix costs as much again. The
// fused kernel is compiled for AVX2+FMA and chosen at run time; the portable
// kernel does the very same fused multiply-adds in the same order (std::fma),
// so both give bit-identical labels.
//
// Ties: the argmin keeps the lowest index among equal *computed* values. The
// computed values carry rounding errors of the dot products, so two centroids
// at the same true distance may compare unequal; that is accepted (qem.md §6
// allows the decomposition), and the §12 oracles hold (their ties are exact).
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/KMeans.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Parallel.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QET_KMEANS_X86 1
#endif

namespace qet::quant {

namespace {

constexpr size_t kLanes = 8;     // centroids per vector
constexpr size_t kGroup = 16;    // centroids per kernel step (two vectors)
constexpr size_t kTileRows = 4;  // points per kernel call

std::atomic<bool> forcePortable{false};

/// Centroids laid out for the search: coordinate d of centroids k..k+7 is one
/// contiguous vector. Padding centroids have norm +inf and are never chosen.
struct SearchTable {
  size_t k = 0, paddedK = 0, dim = 0;
  std::vector<float> transposed; // dim x paddedK
  std::vector<float> norms;      // paddedK

  void build(const float *centroids, size_t count, size_t dimension) {
    k = count;
    dim = dimension;
    paddedK = (count + kGroup - 1) / kGroup * kGroup;
    transposed.assign(dim * paddedK, 0.0f);
    norms.assign(paddedK, std::numeric_limits<float>::infinity());
    for (size_t c = 0; c < count; ++c) {
      const float *row = centroids + c * dim;
      float norm = 0.0f;
      for (size_t d = 0; d < dim; ++d) {
        transposed[d * paddedK + c] = row[d];
        norm = std::fma(row[d], row[d], norm);
      }
      norms[c] = norm;
    }
  }
};

/// Tile rows hold -2 x (exact: a power-of-two scale), so every candidate is
/// norms[c] followed by D fused multiply-adds, d ascending.
void nearestPortable(const SearchTable &t, const float *xs, uint32_t *out) {
  for (size_t p = 0; p < kTileRows; ++p) {
    const float *x = xs + p * t.dim;
    float best = std::numeric_limits<float>::infinity();
    uint32_t bestIndex = 0;
    for (size_t c = 0; c < t.k; ++c) {
      float value = t.norms[c];
      for (size_t d = 0; d < t.dim; ++d)
        value = std::fma(x[d], t.transposed[d * t.paddedK + c], value);
      if (value < best) {
        best = value;
        bestIndex = static_cast<uint32_t>(c);
      }
    }
    out[p] = bestIndex;
  }
}

#ifdef QET_KMEANS_X86
__attribute__((target("avx2,fma"))) void
nearestAvx2(const SearchTable &t, const float *xs, uint32_t *out) {
  const size_t dim = t.dim, stride = t.paddedK;
  const float *table = t.transposed.data();
  __m256 best[kTileRows];
  __m256i bestIndex[kTileRows];
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (size_t p = 0; p < kTileRows; ++p) {
    best[p] = _mm256_set1_ps(std::numeric_limits<float>::infinity());
    bestIndex[p] = lane;
  }
  __m256i index0 = lane;
  __m256i index1 = _mm256_add_epi32(lane, _mm256_set1_epi32(kLanes));
  const __m256i step = _mm256_set1_epi32(kGroup);
  for (size_t c0 = 0; c0 < t.paddedK; c0 += kGroup) {
    __m256 acc0[kTileRows], acc1[kTileRows];
    const __m256 norm0 = _mm256_loadu_ps(t.norms.data() + c0);
    const __m256 norm1 = _mm256_loadu_ps(t.norms.data() + c0 + kLanes);
    for (size_t p = 0; p < kTileRows; ++p) {
      acc0[p] = norm0;
      acc1[p] = norm1;
    }
    const float *column = table + c0;
    for (size_t d = 0; d < dim; ++d, column += stride) {
      const __m256 c0v = _mm256_loadu_ps(column);
      const __m256 c1v = _mm256_loadu_ps(column + kLanes);
      for (size_t p = 0; p < kTileRows; ++p) {
        const __m256 x = _mm256_broadcast_ss(xs + p * dim + d);
        acc0[p] = _mm256_fmadd_ps(x, c0v, acc0[p]);
        acc1[p] = _mm256_fmadd_ps(x, c1v, acc1[p]);
      }
    }
    // Each lane sees its centroids in ascending order, and a strict < keeps
    // the earlier one on ties.
    for (size_t p = 0; p < kTileRows; ++p) {
      __m256 less = _mm256_cmp_ps(acc0[p], best[p], _CMP_LT_OQ);
      best[p] = _mm256_blendv_ps(best[p], acc0[p], less);
      bestIndex[p] = _mm256_castps_si256(
          _mm256_blendv_ps(_mm256_castsi256_ps(bestIndex[p]),
                           _mm256_castsi256_ps(index0), less));
      less = _mm256_cmp_ps(acc1[p], best[p], _CMP_LT_OQ);
      best[p] = _mm256_blendv_ps(best[p], acc1[p], less);
      bestIndex[p] = _mm256_castps_si256(
          _mm256_blendv_ps(_mm256_castsi256_ps(bestIndex[p]),
                           _mm256_castsi256_ps(index1), less));
    }
    index0 = _mm256_add_epi32(index0, step);
    index1 = _mm256_add_epi32(index1, step);
  }
  // Across lanes: the smallest value, then the smallest index among equals,
  // which is the first minimum of the whole row.
  for (size_t p = 0; p < kTileRows; ++p) {
    alignas(32) float values[kLanes];
    alignas(32) uint32_t indices[kLanes];
    _mm256_store_ps(values, best[p]);
    _mm256_store_si256(reinterpret_cast<__m256i *>(indices), bestIndex[p]);
    float bestValue = values[0];
    uint32_t bestK = indices[0];
    for (size_t l = 1; l < kLanes; ++l)
      if (values[l] < bestValue ||
          (values[l] == bestValue && indices[l] < bestK)) {
        bestValue = values[l];
        bestK = indices[l];
      }
    out[p] = bestK;
  }
}

bool cpuHasAvx2Fma() {
  static const bool has =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif

using TileKernel = void (*)(const SearchTable &, const float *, uint32_t *);

TileKernel selectKernel() {
#ifdef QET_KMEANS_X86
  if (!forcePortable.load(std::memory_order_relaxed) && cpuHasAvx2Fma())
    return nearestAvx2;
#endif
  return nearestPortable;
}

/// Labels every point with its nearest centroid of `table`. Each point is
/// independent, so chunking (and so the thread count) cannot change labels.
void assignWithTable(const PointsView &points, const SearchTable &table,
                     uint32_t *labels, unsigned threads) {
  TileKernel kernel = selectKernel();
  size_t tiles = (points.rows + kTileRows - 1) / kTileRows;
  // About 256K multiply-adds per chunk keeps thread start-up negligible.
  size_t perTile = kTileRows * table.paddedK * std::max<size_t>(table.dim, 1);
  size_t minChunk = std::max<size_t>(1, (size_t{1} << 18) / perTile);
  parallelFor(
      0, tiles, threads,
      [&](size_t tileBegin, size_t tileEnd) {
        std::vector<float> xs(kTileRows * points.dim);
        uint32_t out[kTileRows];
        for (size_t tile = tileBegin; tile < tileEnd; ++tile) {
          size_t first = tile * kTileRows;
          size_t count = std::min(kTileRows, points.rows - first);
          // A short last tile repeats its last point; the copies' labels
          // are dropped.
          for (size_t p = 0; p < kTileRows; ++p) {
            const float *x = points.row(first + std::min(p, count - 1));
            for (size_t d = 0; d < points.dim; ++d)
              xs[p * points.dim + d] = -2.0f * x[d];
          }
          kernel(table, xs.data(), out);
          std::memcpy(labels + first, out, count * sizeof(uint32_t));
        }
      },
      minChunk);
}

void requireFinitePoints(const PointsView &points) {
  for (size_t i = 0; i < points.rows; ++i) {
    const float *x = points.row(i);
    for (size_t d = 0; d < points.dim; ++d)
      if (!std::isfinite(x[d]))
        throw Error("k-means: point " + std::to_string(i) + ", coordinate " +
                    std::to_string(d) + " is " +
                    (std::isnan(x[d]) ? "NaN" : "Inf") +
                    "; k-means needs finite input");
  }
}

} // namespace

namespace detail {
bool setPortableKMeansKernel(bool portable) {
  return forcePortable.exchange(portable);
}
} // namespace detail

void assign(const PointsView &points, const float *centroids, size_t k,
            uint32_t *labels, unsigned threads) {
  if (k == 0)
    throw Error("k-means assignment needs at least one centroid");
  if (points.rows == 0)
    return;
  SearchTable table;
  table.build(centroids, k, points.dim);
  assignWithTable(points, table, labels, threads);
}

std::vector<uint32_t> assign(const Matrix &points, const Matrix &centroids,
                             unsigned threads) {
  if (centroids.cols != points.cols)
    throw Error("k-means assignment: points have " +
                std::to_string(points.cols) + " columns, centroids " +
                std::to_string(centroids.cols));
  std::vector<uint32_t> labels(points.rows);
  assign(PointsView::of(points), centroids.values.data(), centroids.rows,
         labels.data(), threads);
  return labels;
}

KMeansResult kmeans(const Matrix &points, const KMeansOptions &options) {
  return kmeans(PointsView::of(points), options);
}

KMeansResult kmeans(const PointsView &input, const KMeansOptions &options) {
  const size_t n = input.rows, dim = input.dim, k = options.k;
  if (dim == 0)
    throw Error("k-means needs points with at least one coordinate");
  requireFinitePoints(input);

  KMeansResult result;
  // Training rows: all, or a seeded subsample. Its draw order starts with
  // the same indices as a direct draw of k rows (partial Fisher-Yates), so
  // the init rows do not depend on whether a subsample is taken.
  bool subsample = options.trainingSample > 0 && options.trainingSample < n;
  size_t trainRows = subsample ? options.trainingSample : n;
  if (k == 0 || k > trainRows)
    throw Error("k-means needs 1 <= k <= training rows; got k = " +
                std::to_string(k) + " for " + std::to_string(trainRows) +
                " rows (\"points\" init draws k distinct rows)");
  std::vector<size_t> draw;
  if (subsample || !options.initRows)
    draw = Rng(options.seed)
               .sampleWithoutReplacement(n, subsample ? trainRows : k);
  if (options.initRows) {
    const std::vector<size_t> &rows = *options.initRows;
    if (rows.size() != k)
      throw Error("k-means: " + std::to_string(rows.size()) +
                  " init rows given for k = " + std::to_string(k));
    std::vector<size_t> sorted(rows);
    std::sort(sorted.begin(), sorted.end());
    if (sorted.back() >= n ||
        std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      throw Error("k-means: init rows must be distinct indices below " +
                  std::to_string(n));
    result.initRows = rows;
  } else {
    result.initRows.assign(draw.begin(), draw.begin() + k);
  }

  Matrix sample;
  PointsView points = input;
  if (subsample) {
    result.trainingRows = draw;
    std::sort(result.trainingRows.begin(), result.trainingRows.end());
    sample = Matrix(trainRows, dim);
    for (size_t i = 0; i < trainRows; ++i)
      std::memcpy(sample.row(i), input.row(result.trainingRows[i]),
                  dim * sizeof(float));
    points = PointsView::of(sample);
  }

  result.centroids = Matrix(k, dim);
  for (size_t c = 0; c < k; ++c)
    std::memcpy(result.centroids.row(c), input.row(result.initRows[c]),
                dim * sizeof(float));

  std::vector<uint32_t> &labels = result.labels;
  std::vector<uint32_t> previous;
  std::vector<double> sums(k * dim);
  std::vector<size_t> counts(k);
  SearchTable table;
  for (unsigned iteration = 0; iteration < options.iterations; ++iteration) {
    previous.swap(labels);
    labels.resize(trainRows);
    table.build(result.centroids.values.data(), k, dim);
    assignWithTable(points, table, labels.data(), options.threads);
    ++result.iterationsRun;

    // One pass in row order: the objective against the centroids just used,
    // and the fp64 sums of the update.
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    double objective = 0.0;
    for (size_t i = 0; i < trainRows; ++i) {
      const float *x = points.row(i);
      uint32_t c = labels[i];
      const float *centroid = result.centroids.row(c);
      double *sum = sums.data() + c * dim;
      for (size_t d = 0; d < dim; ++d) {
        double diff = static_cast<double>(x[d]) - centroid[d];
        objective += diff * diff;
        sum[d] += x[d];
      }
      ++counts[c];
    }
    result.objective.push_back(objective /
                               (static_cast<double>(trainRows) * dim));

    if (previous == labels) {
      // Same partition as the last update: the means would not move.
      result.converged = true;
      if (options.stopWhenStable)
        break;
      continue;
    }
    for (size_t c = 0; c < k; ++c) {
      if (!counts[c])
        continue; // an empty cluster keeps its centroid
      float *centroid = result.centroids.row(c);
      const double *sum = sums.data() + c * dim;
      for (size_t d = 0; d < dim; ++d)
        centroid[d] = static_cast<float>(sum[d] / counts[c]);
    }
  }
  return result;
}

} // namespace qet::quant
