//===- QjlScoreKernel.cpp - QJL scores from packed sign bits --------------===//

#include "QjlKernel.h"

#include "SectionReader.h"

#include "qet/Quantizer/Parallel.h"

#include <algorithm>
#include <vector>

namespace qet::runtime {

namespace {

inline float reduceLanes(const float *a) {
  return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

/// sum of v[0, count) (a multiple of 8) in the kernel's lane order.
float laneSum(const float *v, size_t count) {
  float acc[8] = {};
  for (size_t i = 0; i < count; i += 8)
    for (unsigned l = 0; l < 8; ++l)
      acc[l] += v[i + l];
  return reduceLanes(acc);
}

/// x = S q over the first `rows` rows of S, channels ascending: all of
/// them, or (group outliers) ids[0, count).
void sketchQuery(const quant::JlMatrix &s, const float *q,
                 const QjlKeysView *ids, size_t group, size_t count,
                 size_t rows, float *x) {
  std::fill(x, x + rows, 0.0f);
  const size_t channels = ids ? count : s.dim;
  for (size_t i = 0; i < channels; ++i) {
    const size_t c = ids ? ids->id(group, i, count) : i;
    const float qc = q[c];
    const float *row = s.st.data() + c * s.sketch;
    for (size_t j = 0; j < rows; ++j)
      x[j] += qc * row[j];
  }
}

} // namespace

uint32_t QjlKeysView::id(size_t group, size_t i, size_t outliers) const {
  return readField(ids, idBytes, uint64_t(group) * outliers + i, idBits);
}

namespace detail {

void selectSumsPortable(const uint8_t *bits, size_t stride, size_t bytes,
                        size_t count, const float *x, float *sel) {
  for (size_t t = 0; t < count; ++t) {
    const uint8_t *row = bits + t * stride;
    float acc[8] = {};
    for (size_t b = 0; b < bytes; ++b) {
      const unsigned byte = row[b];
      for (unsigned l = 0; l < 8; ++l)
        acc[l] += ((byte >> l) & 1u) ? x[8 * b + l] : 0.0f;
    }
    sel[t] = reduceLanes(acc);
  }
}

} // namespace detail

void qjlScoreKernel(const quant::QjlConfig &config, const quant::JlMatrix &s,
                    const QjlKeysView &keys, const float *queries, size_t heads,
                    float *scores, KernelPath path, unsigned threads) {
  const size_t n = keys.tokens;
  if (heads == 0 || n == 0)
    return;
  const size_t m = config.sketch, mo = config.outlierSketch, dim = s.dim;
  const size_t groupTokens = config.groupTokens, outliers = config.outliers;
  const bool hasOutliers = config.hasOutliers();
  const float invIn = static_cast<float>(1.0 / (double(m) * s.kappa));
  const float invOut =
      hasOutliers ? static_cast<float>(1.0 / (double(mo) * s.kappa)) : 0.0f;
  auto select = path == KernelPath::Avx2 ? detail::selectSumsAvx2
                                         : detail::selectSumsPortable;

  std::vector<float> x(heads * m), sumX(heads);
  for (size_t h = 0; h < heads; ++h) {
    sketchQuery(s, queries + h * dim, nullptr, 0, 0, m, x.data() + h * m);
    sumX[h] = laneSum(x.data() + h * m, m);
  }

  // Tiles of whole token groups; every token's score depends on its own
  // bits only, so the tiling and thread count change nothing.
  const size_t groups = (n + groupTokens - 1) / groupTokens;
  const size_t groupsPerTile = std::max<size_t>(1, 256 / groupTokens);
  const size_t tiles = (groups + groupsPerTile - 1) / groupsPerTile;
  quant::parallelFor(0, tiles, threads, [&](size_t tileLo, size_t tileHi) {
    std::vector<float> xin(hasOutliers ? m : 0), y(hasOutliers ? m : 0);
    std::vector<float> selIn(groupTokens), selOut(groupTokens);
    for (size_t g = tileLo * groupsPerTile;
         g < std::min(groups, tileHi * groupsPerTile); ++g) {
      const size_t t0 = g * groupTokens;
      const size_t count = std::min(groupTokens, n - t0);
      for (size_t h = 0; h < heads; ++h) {
        const float *q = queries + h * dim;
        const float *xh = x.data() + h * m;
        float sumIn = sumX[h], sumY = 0.0f;
        if (hasOutliers) {
          // y = S_{:,O} q_O for this group; x_in = x - y.
          sketchQuery(s, q, &keys, g, outliers, m, y.data());
          for (size_t j = 0; j < m; ++j)
            xin[j] = xh[j] - y[j];
          sumIn = laneSum(xin.data(), m);
          sumY = laneSum(y.data(), mo);
          xh = xin.data();
        }
        select(keys.signs + t0 * (m / 8), m / 8, m / 8, count, xh,
               selIn.data());
        if (hasOutliers)
          select(keys.outlierSigns + t0 * (mo / 8), mo / 8, mo / 8, count,
                 y.data(), selOut.data());
        for (size_t t = 0; t < count; ++t) {
          const size_t token = t0 + t;
          const float coefIn = halfToFloat(keys.norms[token]) * invIn;
          float score = coefIn * (2.0f * selIn[t] - sumIn);
          if (hasOutliers) {
            const float coefOut =
                halfToFloat(keys.outlierNorms[token]) * invOut;
            score += coefOut * (2.0f * selOut[t] - sumY);
          }
          scores[h * n + token] = score;
        }
      }
    }
  });
}

} // namespace qet::runtime
