//===- QjlScore.cpp - QJL inner-product estimator and score kernel --------===//
//
// qjl.md §4 and §8. The score of token t for query head h is
//
//   n_in/(m kappa) (2 sum_{b_j=1} xin_j - sum_j xin_j)
//     + n_O/(m_o kappa) (2 sum_{b'_j=1} y_j - sum_{j<m_o} y_j)
//
// with x = S q, y = S_{:,O} q_O (per group) and xin = x - y. The select sums
// are the kernel: 8 lanes, lane l adds x_{8i+l} when bit 8i+l is set, i in
// order, then ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)). The portable kernel and
// the AVX2 kernel (broadcast a 32-bit word of sign bits, AND it with lane bit
// constants, compare for equality to get lane masks, AND the masks with 8 x
// values, add) perform exactly these fp32 additions, so they agree bit for
// bit. The AVX2 kernel blocks 4 tokens x 1-2 heads or 2 tokens x 3-4 heads,
// so each mask serves all GQA heads of a block and the chains interleave.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Qjl.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Parallel.h"

#include <algorithm>
#include <cstring>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QET_QJL_X86 1
#endif

namespace qet::quant {

namespace {

inline float reduceLanes(const float a[8]) {
  return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

/// sum_j v_j over `count` (a multiple of 8) values in the kernel's order.
float laneSum(const float *v, size_t count) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < count; i += 8)
    for (unsigned l = 0; l < 8; ++l)
      acc[l] += v[i + l];
  return reduceLanes(acc);
}

/// Select sums of `count` tokens (bit rows `stride` bytes apart, `bytes`
/// bytes each) against `heads` vectors: out[t * heads + h].
void selectSumsScalar(const uint8_t *bits, size_t stride, size_t bytes,
                      size_t count, const float *const *xs, size_t heads,
                      float *out) {
  for (size_t t = 0; t < count; ++t) {
    const uint8_t *row = bits + t * stride;
    for (size_t h = 0; h < heads; ++h) {
      const float *x = xs[h];
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (size_t b = 0; b < bytes; ++b) {
        unsigned byte = row[b];
        for (unsigned l = 0; l < 8; ++l)
          acc[l] += ((byte >> l) & 1u) ? x[8 * b + l] : 0.0f;
      }
      out[t * heads + h] = reduceLanes(acc);
    }
  }
}

#ifdef QET_QJL_X86
__attribute__((target("avx2"))) inline float reduceAvx(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  __m128 u = _mm_add_ps(s, _mm_movehl_ps(s, s));
  __m128 w = _mm_shuffle_ps(u, u, 1);
  return _mm_cvtss_f32(_mm_add_ss(u, w));
}

template <int TB, int HC>
__attribute__((target("avx2"))) void
selectBlockAvx2(const uint8_t *bits, size_t stride, size_t bytes,
                const float *const *xs, float *out, size_t outStride) {
  const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  __m256 acc[TB][HC];
  for (int t = 0; t < TB; ++t)
    for (int h = 0; h < HC; ++h)
      acc[t][h] = _mm256_setzero_ps();
  size_t b = 0;
  for (; b + 4 <= bytes; b += 4) {
    __m256i word[TB];
    for (int t = 0; t < TB; ++t) {
      uint32_t w;
      std::memcpy(&w, bits + t * stride + b, 4);
      word[t] = _mm256_set1_epi32(static_cast<int>(w));
    }
    for (int k = 0; k < 4; ++k) {
      __m256i c = _mm256_slli_epi32(lane, 8 * k);
      __m256 x[HC];
      for (int h = 0; h < HC; ++h)
        x[h] = _mm256_loadu_ps(xs[h] + 8 * (b + k));
      for (int t = 0; t < TB; ++t) {
        __m256 mask = _mm256_castsi256_ps(
            _mm256_cmpeq_epi32(_mm256_and_si256(word[t], c), c));
        for (int h = 0; h < HC; ++h)
          acc[t][h] = _mm256_add_ps(acc[t][h], _mm256_and_ps(mask, x[h]));
      }
    }
  }
  for (; b < bytes; ++b) {
    __m256 x[HC];
    for (int h = 0; h < HC; ++h)
      x[h] = _mm256_loadu_ps(xs[h] + 8 * b);
    for (int t = 0; t < TB; ++t) {
      __m256i byte = _mm256_set1_epi32(bits[t * stride + b]);
      __m256 mask = _mm256_castsi256_ps(
          _mm256_cmpeq_epi32(_mm256_and_si256(byte, lane), lane));
      for (int h = 0; h < HC; ++h)
        acc[t][h] = _mm256_add_ps(acc[t][h], _mm256_and_ps(mask, x[h]));
    }
  }
  for (int t = 0; t < TB; ++t)
    for (int h = 0; h < HC; ++h)
      out[t * outStride + h] = reduceAvx(acc[t][h]);
}

template <int TB, int HC>
void selectRunAvx2(const uint8_t *bits, size_t stride, size_t bytes,
                   size_t count, const float *const *xs, size_t heads,
                   size_t h0, float *out) {
  size_t t = 0;
  for (; t + TB <= count; t += TB)
    selectBlockAvx2<TB, HC>(bits + t * stride, stride, bytes, xs + h0,
                            out + t * heads + h0, heads);
  for (; t < count; ++t)
    selectBlockAvx2<1, HC>(bits + t * stride, stride, bytes, xs + h0,
                           out + t * heads + h0, heads);
}

void selectSumsAvx2(const uint8_t *bits, size_t stride, size_t bytes,
                    size_t count, const float *const *xs, size_t heads,
                    float *out) {
  for (size_t h0 = 0; h0 < heads;) {
    size_t hc = std::min<size_t>(4, heads - h0);
    switch (hc) {
    case 1:
      selectRunAvx2<4, 1>(bits, stride, bytes, count, xs, heads, h0, out);
      break;
    case 2:
      selectRunAvx2<4, 2>(bits, stride, bytes, count, xs, heads, h0, out);
      break;
    case 3:
      selectRunAvx2<2, 3>(bits, stride, bytes, count, xs, heads, h0, out);
      break;
    default:
      selectRunAvx2<2, 4>(bits, stride, bytes, count, xs, heads, h0, out);
      break;
    }
    h0 += hc;
  }
}
#endif

/// x = S q in fp32 (channels ascending), restricted to `channels` (all when
/// null) and to the first `rows` rows of S.
void sketchQuery(const JlMatrix &s, const float *q, const uint16_t *channels,
                 size_t channelCount, size_t rows, float *x) {
  std::fill(x, x + rows, 0.0f);
  size_t count = channels ? channelCount : s.dim;
  for (size_t i = 0; i < count; ++i) {
    size_t c = channels ? channels[i] : i;
    float qc = q[c];
    const float *row = s.st.data() + c * s.sketch;
    for (size_t j = 0; j < rows; ++j)
      x[j] += qc * row[j];
  }
}

void requireKeysMatchS(const QjlKeys &keys, const JlMatrix &s) {
  if (s.dim != keys.dim || s.sketch != keys.config.sketch ||
      s.kind != keys.config.kind || s.seed != keys.config.seed)
    throw Error("qjl: the JL matrix does not match the quantized keys");
}

} // namespace

bool qjlHasAvx2() {
#ifdef QET_QJL_X86
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

void qjlScores(const QjlKeys &keys, const JlMatrix &s, const float *queries,
               size_t heads, float *scores, unsigned threads,
               QjlKernel kernel) {
  requireKeysMatchS(keys, s);
  if (heads == 0 || keys.tokens == 0)
    return;
  bool avx2 = false;
  if (kernel == QjlKernel::Avx2) {
    if (!qjlHasAvx2())
      throw Error("qjl: the AVX2 score kernel was requested but this CPU "
                  "lacks AVX2");
    avx2 = true;
  } else if (kernel == QjlKernel::Auto) {
    avx2 = qjlHasAvx2();
  }
  auto selectSums = [&](const uint8_t *bits, size_t stride, size_t bytes,
                        size_t count, const float *const *xs, float *out) {
#ifdef QET_QJL_X86
    if (avx2)
      return selectSumsAvx2(bits, stride, bytes, count, xs, heads, out);
#endif
    selectSumsScalar(bits, stride, bytes, count, xs, heads, out);
  };

  const QjlConfig &config = keys.config;
  size_t m = config.sketch, mo = config.outlierSketch, dim = keys.dim;
  size_t n = keys.tokens, G = config.groupTokens;
  bool outliers = config.hasOutliers();
  const float invIn = static_cast<float>(1.0 / (double(m) * s.kappa));
  const float invOut =
      outliers ? static_cast<float>(1.0 / (double(mo) * s.kappa)) : 0.0f;

  // x = S q and sum x once per head.
  std::vector<float> x(heads * m), sumX(heads);
  for (size_t h = 0; h < heads; ++h) {
    sketchQuery(s, queries + h * dim, nullptr, 0, m, x.data() + h * m);
    sumX[h] = laneSum(x.data() + h * m, m);
  }

  constexpr size_t kTile = 256;
  size_t tiles = (n + kTile - 1) / kTile;
  parallelFor(0, tiles, threads, [&](size_t tileLo, size_t tileHi) {
    std::vector<float> xin(outliers ? heads * m : 0), y(outliers ? heads * m : 0);
    std::vector<float> sumIn(heads), sumY(heads);
    std::vector<const float *> inPtr(heads), yPtr(heads);
    std::vector<float> selIn(kTile * heads), selOut(kTile * heads);
    for (size_t t0 = tileLo * kTile; t0 < std::min(n, tileHi * kTile);) {
      size_t tileEnd = std::min(n, (t0 / kTile + 1) * kTile);
      // A run of tokens of one group inside the tile.
      size_t g = t0 / G;
      size_t end = std::min(tileEnd, (g + 1) * G);
      size_t count = end - t0;
      if (outliers) {
        const uint16_t *ids = keys.outlierIds.data() + g * config.outliers;
        for (size_t h = 0; h < heads; ++h) {
          float *yh = y.data() + h * m, *xh = xin.data() + h * m;
          sketchQuery(s, queries + h * dim, ids, config.outliers, m, yh);
          const float *xs = x.data() + h * m;
          for (size_t j = 0; j < m; ++j)
            xh[j] = xs[j] - yh[j];
          sumIn[h] = laneSum(xh, m);
          sumY[h] = laneSum(yh, mo);
          inPtr[h] = xh;
          yPtr[h] = yh;
        }
      } else {
        for (size_t h = 0; h < heads; ++h) {
          sumIn[h] = sumX[h];
          inPtr[h] = x.data() + h * m;
        }
      }
      selectSums(keys.signs.data() + t0 * (m / 8), m / 8, m / 8, count,
                 inPtr.data(), selIn.data());
      if (outliers)
        selectSums(keys.outlierSigns.data() + t0 * (mo / 8), mo / 8, mo / 8,
                   count, yPtr.data(), selOut.data());
      for (size_t t = 0; t < count; ++t) {
        size_t token = t0 + t;
        float coefIn = keys.normIn[token] * invIn;
        float coefOut = outliers ? keys.normOut[token] * invOut : 0.0f;
        for (size_t h = 0; h < heads; ++h) {
          float score = coefIn * (2.0f * selIn[t * heads + h] - sumIn[h]);
          if (outliers)
            score += coefOut * (2.0f * selOut[t * heads + h] - sumY[h]);
          scores[h * n + token] = score;
        }
      }
      t0 = end;
    }
  });
}

double qjlEstimate(const QjlKeys &keys, const JlMatrix &s, const float *query,
                   size_t token) {
  requireKeysMatchS(keys, s);
  if (token >= keys.tokens)
    throw Error("qjl: token " + std::to_string(token) + " out of range");
  const QjlConfig &config = keys.config;
  size_t m = config.sketch, dim = keys.dim;
  std::vector<char> isOutlier(dim, 0);
  if (config.hasOutliers()) {
    const uint16_t *ids =
        keys.outlierIds.data() + (token / config.groupTokens) * config.outliers;
    for (unsigned i = 0; i < config.outliers; ++i)
      isOutlier[ids[i]] = 1;
  }
  auto sign = [](const uint8_t *row, size_t j) {
    return ((row[j / 8] >> (j % 8)) & 1) ? 1.0 : -1.0;
  };
  const uint8_t *in = keys.signs.data() + token * (m / 8);
  double sumIn = 0;
  for (size_t j = 0; j < m; ++j) {
    double xin = 0;
    for (size_t c = 0; c < dim; ++c)
      if (!isOutlier[c])
        xin += double(s.at(j, c)) * query[c];
    sumIn += sign(in, j) * xin;
  }
  double est = keys.normIn[token] / (double(m) * s.kappa) * sumIn;
  if (config.hasOutliers()) {
    size_t mo = config.outlierSketch;
    const uint8_t *out = keys.outlierSigns.data() + token * (mo / 8);
    double sumOut = 0;
    for (size_t j = 0; j < mo; ++j) {
      double y = 0;
      for (size_t c = 0; c < dim; ++c)
        if (isOutlier[c])
          y += double(s.at(j, c)) * query[c];
      sumOut += sign(out, j) * y;
    }
    est += keys.normOut[token] / (double(mo) * s.kappa) * sumOut;
  }
  return est;
}

Matrix qjlImpliedKeys(const QjlKeys &keys, const JlMatrix &s) {
  requireKeysMatchS(keys, s);
  const QjlConfig &config = keys.config;
  size_t m = config.sketch, mo = config.outlierSketch, dim = keys.dim;
  Matrix out(keys.tokens, dim);
  std::vector<char> isOutlier(dim);
  for (size_t t = 0; t < keys.tokens; ++t) {
    std::fill(isOutlier.begin(), isOutlier.end(), 0);
    if (config.hasOutliers()) {
      const uint16_t *ids =
          keys.outlierIds.data() + (t / config.groupTokens) * config.outliers;
      for (unsigned i = 0; i < config.outliers; ++i)
        isOutlier[ids[i]] = 1;
    }
    const uint8_t *in = keys.signs.data() + t * (m / 8);
    const uint8_t *o = config.hasOutliers()
                           ? keys.outlierSigns.data() + t * (mo / 8)
                           : nullptr;
    double coefIn = keys.normIn[t] / (double(m) * s.kappa);
    double coefOut = config.hasOutliers()
                         ? keys.normOut[t] / (double(mo) * s.kappa)
                         : 0.0;
    for (size_t c = 0; c < dim; ++c) {
      const float *row = s.st.data() + c * m;
      const uint8_t *bits = isOutlier[c] ? o : in;
      size_t rows = isOutlier[c] ? mo : m;
      double sum = 0;
      for (size_t j = 0; j < rows; ++j)
        sum += ((bits[j / 8] >> (j % 8)) & 1) ? row[j] : -double(row[j]);
      out.at(t, c) = static_cast<float>((isOutlier[c] ? coefOut : coefIn) * sum);
    }
  }
  return out;
}

} // namespace qet::quant
