//===- WeightedKMeans.cpp - Weighted, seeded k-means for VPTQ -------------===//
//
// Determinism: every per-point quantity (labels, D^2, distances) is computed
// on its own; every sum is taken over fixed chunks of kChunk rows (fixed
// boundaries, not thread-dependent) whose partial sums are then added in chunk
// order on one thread. So the result depends on the seed and the input only.
//
// RNG (a deliberate deviation, see the report): vptq.md §4 names SplitMix64
// with u = (next() >> 11) * 2^-53 and integers floor(u * m). The project rule
// is that Rng (xoshiro256** seeded through splitmix64) is the only PRNG, so
// each call gets its own Rng seeded with the §4 stream seed; u is
// Rng::uniform() (the same 53-bit construction) and uniform integers come from
// Rng::below / sampleWithoutReplacement (partial Fisher-Yates, unbiased).
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/WeightedKMeans.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Parallel.h"
#include "qet/Quantizer/Random.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace qet::quant {

namespace {

constexpr size_t kChunk = 4096;

size_t chunkCount(size_t n) { return (n + kChunk - 1) / kChunk; }

/// Smallest i with running sum of mass[0..i] > target, searched through the
/// per-chunk sums first. Falls back to the last row of positive mass when
/// rounding puts target at or past the total.
size_t drawIndex(const std::vector<double> &mass,
                 const std::vector<double> &chunkMass, double target) {
  double cumulative = 0.0;
  size_t chunks = chunkMass.size();
  for (size_t ch = 0; ch < chunks; ++ch) {
    if (cumulative + chunkMass[ch] > target) {
      size_t begin = ch * kChunk, end = std::min(mass.size(), begin + kChunk);
      for (size_t i = begin; i < end; ++i) {
        cumulative += mass[i];
        if (cumulative > target)
          return i;
      }
      // The chunk sum and the running sum round differently: keep going.
      continue;
    }
    cumulative += chunkMass[ch];
  }
  for (size_t i = mass.size(); i-- > 0;)
    if (mass[i] > 0)
      return i;
  return 0;
}

float squaredDistance(const float *a, const float *b, size_t dim) {
  float sum = 0.0f;
  for (size_t e = 0; e < dim; ++e) {
    float d = a[e] - b[e];
    sum += d * d;
  }
  return sum;
}

/// Weighted k-means++ (vptq.md §4), centers written to `centroids` (k x dim).
void plusPlusInit(const Matrix &x, const std::vector<double> &w, size_t k,
                  Rng &rng, unsigned threads, Matrix &centroids) {
  size_t n = x.rows, dim = x.cols, chunks = chunkCount(n);
  std::vector<double> mass(w), chunkMass(chunks);
  auto sumChunks = [&](size_t ch) {
    double s = 0.0;
    for (size_t i = ch * kChunk, end = std::min(n, ch * kChunk + kChunk);
         i < end; ++i)
      s += mass[i];
    chunkMass[ch] = s;
  };
  for (size_t ch = 0; ch < chunks; ++ch)
    sumChunks(ch);
  std::vector<float> d2(n, std::numeric_limits<float>::infinity());
  size_t chosen = 0;
  for (size_t j = 0; j < k; ++j) {
    double total = 0.0;
    for (double m : chunkMass)
      total += m;
    if (!(total > 0.0))
      break;
    size_t pick = drawIndex(mass, chunkMass, rng.uniform() * total);
    std::copy(x.row(pick), x.row(pick) + dim, centroids.row(j));
    chosen = j + 1;
    if (j + 1 == k)
      break;
    const float *c = centroids.row(j);
    parallelFor(
        0, chunks, threads,
        [&](size_t cb, size_t ce) {
          for (size_t ch = cb; ch < ce; ++ch) {
            for (size_t i = ch * kChunk, end = std::min(n, ch * kChunk + kChunk);
                 i < end; ++i) {
              float d = squaredDistance(x.row(i), c, dim);
              if (d < d2[i])
                d2[i] = d;
              mass[i] = w[i] * static_cast<double>(d2[i]);
            }
            sumChunks(ch);
          }
        },
        8);
  }
  for (size_t j = chosen; j < k; ++j)
    std::copy(centroids.row(0), centroids.row(0) + dim, centroids.row(j));
}

/// c = sum(w x) / sum(w) per cluster, fp64, fixed 4096-row chunks added in
/// chunk order. Members of each cluster are visited in ascending row order,
/// and a chunk's partial sum is flushed when the chunk changes, which is the
/// same arithmetic as summing every chunk and then adding the chunk sums.
void updateCentroids(const Matrix &x, const std::vector<double> &w,
                     const std::vector<uint32_t> &labels, size_t k,
                     unsigned threads, Matrix &centroids) {
  size_t n = x.rows, dim = x.cols;
  std::vector<size_t> start(k + 1, 0);
  for (uint32_t l : labels)
    ++start[l + 1];
  for (size_t c = 0; c < k; ++c)
    start[c + 1] += start[c];
  std::vector<size_t> members(n), fill(start.begin(), start.end() - 1);
  for (size_t i = 0; i < n; ++i)
    members[fill[labels[i]]++] = i;
  parallelFor(
      0, k, threads,
      [&](size_t cb, size_t ce) {
        std::vector<double> sum(dim), part(dim);
        for (size_t c = cb; c < ce; ++c) {
          if (start[c] == start[c + 1])
            continue; // empty: keep the old centroid
          std::fill(sum.begin(), sum.end(), 0.0);
          std::fill(part.begin(), part.end(), 0.0);
          double wsum = 0.0, wpart = 0.0;
          size_t chunk = members[start[c]] / kChunk;
          for (size_t m = start[c]; m < start[c + 1]; ++m) {
            size_t i = members[m];
            if (i / kChunk != chunk) {
              for (size_t e = 0; e < dim; ++e) {
                sum[e] += part[e];
                part[e] = 0.0;
              }
              wsum += wpart;
              wpart = 0.0;
              chunk = i / kChunk;
            }
            const float *xi = x.row(i);
            for (size_t e = 0; e < dim; ++e)
              part[e] += w[i] * static_cast<double>(xi[e]);
            wpart += w[i];
          }
          for (size_t e = 0; e < dim; ++e)
            sum[e] += part[e];
          wsum += wpart;
          if (wsum > 0.0)
            for (size_t e = 0; e < dim; ++e)
              centroids.at(c, e) = static_cast<float>(sum[e] / wsum);
        }
      },
      64);
}

double weightedObjective(const Matrix &x, const std::vector<double> &w,
                         const Matrix &centroids,
                         const std::vector<uint32_t> &labels, unsigned threads) {
  size_t n = x.rows, dim = x.cols, chunks = chunkCount(n);
  std::vector<double> chunkSum(chunks), chunkWeight(chunks);
  parallelFor(
      0, chunks, threads,
      [&](size_t cb, size_t ce) {
        for (size_t ch = cb; ch < ce; ++ch) {
          double s = 0.0, sw = 0.0;
          for (size_t i = ch * kChunk, end = std::min(n, ch * kChunk + kChunk);
               i < end; ++i) {
            const float *xi = x.row(i), *ci = centroids.row(labels[i]);
            double d = 0.0;
            for (size_t e = 0; e < dim; ++e) {
              double diff = double(xi[e]) - ci[e];
              d += diff * diff;
            }
            s += w[i] * d;
            sw += w[i];
          }
          chunkSum[ch] = s;
          chunkWeight[ch] = sw;
        }
      },
      4);
  double s = 0.0, sw = 0.0;
  for (size_t ch = 0; ch < chunks; ++ch) {
    s += chunkSum[ch];
    sw += chunkWeight[ch];
  }
  return sw > 0 ? s / sw : 0.0;
}

/// The training rows when n_train < n, ascending: the `top` rows of highest
/// weighted energy w ||x - mean_w||^2 (ties to the lower index; `forced`
/// marks them), then a uniform draw without replacement from the others.
/// The energy is a row's cost under a one-centroid codebook. A few rows can
/// carry most of the objective (MiniLM's layer-0 FFN down: one weight of 7.9
/// in the input channel with 215x the mean H_jj), and a uniform draw alone
/// drops each with probability 1 - n_train/n, leaving no centroid near it.
std::vector<size_t> stratifiedSample(const PointsView &points,
                                     const std::vector<double> &weights,
                                     size_t nTrain, size_t top, Rng &rng,
                                     std::vector<bool> &forced) {
  size_t n = points.rows, dim = points.dim;
  std::vector<double> mean(dim, 0.0), energy(n, 0.0);
  double mass = 0.0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t e = 0; e < dim; ++e)
      mean[e] += weights[i] * double(points.row(i)[e]);
    mass += weights[i];
  }
  for (size_t e = 0; e < dim; ++e)
    mean[e] /= mass;
  for (size_t i = 0; i < n; ++i) {
    for (size_t e = 0; e < dim; ++e) {
      double d = double(points.row(i)[e]) - mean[e];
      energy[i] += d * d;
    }
    energy[i] *= weights[i];
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::partial_sort(order.begin(), order.begin() + top, order.end(),
                    [&](size_t a, size_t b) {
                      return energy[a] > energy[b] ||
                             (energy[a] == energy[b] && a < b);
                    });
  forced.assign(n, false);
  for (size_t i = 0; i < top; ++i)
    forced[order[i]] = true;
  std::vector<size_t> rest, rows(order.begin(), order.begin() + top);
  rest.reserve(n - top);
  for (size_t i = 0; i < n; ++i)
    if (!forced[i])
      rest.push_back(i);
  for (size_t pick : rng.sampleWithoutReplacement(rest.size(), nTrain - top))
    rows.push_back(rest[pick]);
  std::sort(rows.begin(), rows.end());
  return rows;
}

} // namespace

uint64_t vptqStreamSeed(uint64_t seed, unsigned group, unsigned stage) {
  return seed + 0x9E3779B97F4A7C15ull * (1ull + 3ull * group + stage);
}

WeightedKMeansResult weightedKMeans(const PointsView &points,
                                    const std::vector<double> &weights,
                                    const WeightedKMeansOptions &options) {
  size_t n = points.rows, dim = points.dim, k = options.k;
  if (k == 0)
    throw Error("weighted k-means: k must be at least 1");
  if (n == 0 || dim == 0)
    throw Error("weighted k-means: no training vectors");
  if (weights.size() != n)
    throw Error("weighted k-means: " + std::to_string(weights.size()) +
                " weights for " + std::to_string(n) + " vectors");
  double wmax = 0.0;
  for (double w : weights) {
    if (!std::isfinite(w) || w < 0.0)
      throw Error("weighted k-means: weights must be finite and >= 0");
    wmax = std::max(wmax, w);
  }
  if (!(wmax > 0.0))
    throw Error("weighted k-means: all weights are zero");

  Rng rng(options.seed);
  size_t perK = k > std::numeric_limits<size_t>::max() / options.perCentroid
                    ? std::numeric_limits<size_t>::max()
                    : options.perCentroid * k;
  size_t nTrain = std::min({n, perK, options.maxTraining});
  for (size_t i = 0; i < n; ++i)
    for (size_t e = 0; e < dim; ++e)
      if (!std::isfinite(points.row(i)[e]))
        throw Error("weighted k-means: vector " + std::to_string(i) +
                    " is not finite");
  std::vector<double> unit(n); // exactly 1 for constant weights
  for (size_t i = 0; i < n; ++i)
    unit[i] = weights[i] / wmax;
  WeightedKMeansResult result;
  std::vector<bool> forced;
  // Sampled rows stand for all n - top unforced rows: their weights are
  // scaled by (n - top) / (n_train - top) so that the training objective is
  // an unbiased estimate of the full one.
  double sampledScale = 1.0;
  if (nTrain < n) {
    size_t top = std::min(k, nTrain);
    result.trainingRows =
        stratifiedSample(points, unit, nTrain, top, rng, forced);
    if (nTrain > top)
      sampledScale = double(n - top) / double(nTrain - top);
  } else {
    result.trainingRows.resize(n);
    std::iota(result.trainingRows.begin(), result.trainingRows.end(), size_t{0});
  }
  Matrix x(nTrain, dim);
  std::vector<double> w(nTrain);
  for (size_t i = 0; i < nTrain; ++i) {
    size_t src = result.trainingRows[i];
    std::copy(points.row(src), points.row(src) + dim, x.row(i));
    w[i] = forced.empty() || forced[src] ? unit[src]
                                         : unit[src] * sampledScale;
  }

  Matrix &c = result.centroids;
  c = Matrix(k, dim);
  if (nTrain <= k) {
    for (size_t j = 0; j < k; ++j)
      std::copy(x.row(j < nTrain ? j : 0), x.row(j < nTrain ? j : 0) + dim,
                c.row(j));
  } else if (k <= options.plusPlusLimit) {
    plusPlusInit(x, w, k, rng, options.threads, c);
  } else {
    std::vector<size_t> init = rng.sampleWithoutReplacement(nTrain, k);
    for (size_t j = 0; j < k; ++j)
      std::copy(x.row(init[j]), x.row(init[j]) + dim, c.row(j));
  }

  std::vector<uint32_t> labels(nTrain), previous;
  PointsView view = PointsView::of(x);
  for (unsigned it = 0; it < options.iterations; ++it) {
    assign(view, c.values.data(), k, labels.data(), options.threads);
    result.objective.push_back(
        weightedObjective(x, w, c, labels, options.threads));
    if (it > 0 && labels == previous) {
      result.converged = true;
      break;
    }
    updateCentroids(x, w, labels, k, options.threads, c);
    previous = labels;
    ++result.iterationsRun;
  }
  if (options.roundToHalf)
    for (float &value : c.values)
      value = roundToHalf(value);
  return result;
}

} // namespace qet::quant
