//===- VptqTensor.cpp - `vptq` tensors ------------------------------------===//
//
// vptq.md §7-§10 (VptqFormat.cpp): per (group, vector row) a stream of
// T = b + b_r bit fields padded to 32-bit words, field = i1 | i2 << b; a
// field picks v consecutive output rows of one (permuted) input column.
// The product folds perm and scale into x~ and the bias into one beta per
// x, then accumulates codeword * x~_p per vector row (vptqMatvec's order).
//
//===----------------------------------------------------------------------===//

#include "Bindings.h"

#include "qet/Quantizer/Parallel.h"
#include "qet/runtime/KernelConfig.h"

#include <algorithm>

namespace qet::runtime {

namespace {

constexpr int64_t kFlagPerm = 1, kFlagNorm = 2;

struct VptqLayoutView {
  size_t rows = 0, cols = 0; // M, N
  unsigned v = 0, b = 0, br = 0, groups = 0, vo = 0, bo = 0;
  size_t groupSize = 0, outliers = 0;

  unsigned fieldBits() const { return b + br; }
  size_t vectorRows() const { return (rows + v - 1) / v; }
  size_t outlierVectorRows() const { return (rows + vo - 1) / vo; }
  size_t words() const { return (groupSize * fieldBits() + 31) / 32; }
  size_t outlierWords() const { return (outliers * bo + 31) / 32; }
  size_t centroids() const { return size_t{1} << b; }
  size_t residualCentroids() const { return br ? size_t{1} << br : 0; }
  size_t outlierCentroids() const { return outliers ? size_t{1} << bo : 0; }
};

/// q * s + b in two statements: never contracted to an FMA, as the
/// quantizer's decoder computes it.
inline float scaleBias(float q, float s, float b) {
  float scaled = q * s;
  return scaled + b;
}

std::vector<float> expandHalves(const FloatSection &s, size_t count) {
  std::vector<float> out(count);
  s.read(0, count, out.data());
  return out;
}

class VptqTensor final : public PackedTensor {
public:
  explicit VptqTensor(const VptqLayoutView &layout)
      : PackedTensor(layout.rows, layout.cols), l(layout) {}

  // Set by bindVptq.
  VptqLayoutView l;
  const uint8_t *idx = nullptr, *idxOutliers = nullptr;
  FloatSection main, residual, outlier, scale, bias;
  const uint8_t *perm = nullptr;
  unsigned permBits = 0;
  bool normalize = false;

  uint32_t column(size_t p) const {
    return perm ? readField(perm, uint64_t(l.cols) * permBits / 8, p, permBits)
                : static_cast<uint32_t>(p);
  }
  /// Field c of stream `stream` (of `words` 32-bit words) of `base`.
  static uint32_t field(const uint8_t *base, size_t stream, size_t words,
                        size_t c, unsigned width) {
    return readField(base + 4 * stream * words, 4 * uint64_t(words), c, width);
  }

  void dequantize(float *out) const override {
    const size_t M = l.rows, N = l.cols, o = l.outliers, gs = l.groupSize;
    const size_t R = l.vectorRows(), W = l.words(), k = l.centroids();
    const size_t kr = l.residualCentroids();
    const unsigned T = l.fieldBits();
    const uint32_t mask1 = static_cast<uint32_t>(k - 1);
    std::vector<float> C = expandHalves(main, l.groups * k * l.v);
    std::vector<float> Cr = expandHalves(residual, l.groups * kr * l.v);
    std::vector<float> Co = expandHalves(outlier, l.outlierCentroids() * l.vo);
    std::vector<float> s = expandHalves(scale, normalize ? N : 0);
    std::vector<float> bi = expandHalves(bias, normalize ? N : 0);
    std::fill(out, out + M * N, 0.0f);
    auto store = [&](size_t row, uint32_t j, float q) {
      out[row * N + j] = normalize ? scaleBias(q, s[j], bi[j]) : q;
    };
    for (size_t g = 0; g < l.groups; ++g) {
      const float *c1 = C.data() + g * k * l.v;
      const float *c2 = l.br ? Cr.data() + g * kr * l.v : nullptr;
      for (size_t r = 0; r < R; ++r)
        for (size_t c = 0; c < gs; ++c) {
          uint32_t val = field(idx, g * R + r, W, c, T);
          uint32_t i1 = val & mask1, i2 = val >> l.b;
          uint32_t j = column(o + g * gs + c);
          for (unsigned e = 0; e < l.v && r * l.v + e < M; ++e) {
            float q = c1[size_t(i1) * l.v + e];
            if (c2)
              q += c2[size_t(i2) * l.v + e];
            store(r * l.v + e, j, q);
          }
        }
    }
    const size_t Ro = o ? l.outlierVectorRows() : 0, Wo = l.outlierWords();
    for (size_t r = 0; r < Ro; ++r)
      for (size_t p = 0; p < o; ++p) {
        uint32_t i1 = field(idxOutliers, r, Wo, p, l.bo);
        uint32_t j = column(p);
        for (unsigned e = 0; e < l.vo && r * l.vo + e < M; ++e)
          store(r * l.vo + e, j, Co[size_t(i1) * l.vo + e]);
      }
  }

  void multiply(const float *x, size_t batch, float *y) const override {
    const size_t M = l.rows, N = l.cols, o = l.outliers, R = l.vectorRows();
    const size_t k = l.centroids(), kr = l.residualCentroids();
    const unsigned v = l.v, vo = l.vo;
    const unsigned threads = kernelThreads();
    std::vector<float> C = expandHalves(main, l.groups * k * v);
    std::vector<float> Cr = expandHalves(residual, l.groups * kr * v);
    std::vector<float> Co = expandHalves(outlier, l.outlierCentroids() * vo);
    // x~_b[p] = x_b[perm p] (* scale), beta_b = sum_j x_b[j] bias[j].
    std::vector<float> xt(batch * N), beta(batch, 0.0f);
    for (size_t b = 0; b < batch; ++b) {
      const float *xb = x + b * N;
      for (size_t p = 0; p < N; ++p) {
        uint32_t j = column(p);
        xt[b * N + p] = normalize ? xb[j] * scale.at(j) : xb[j];
      }
      if (normalize)
        for (size_t j = 0; j < N; ++j)
          beta[b] += xb[j] * bias.at(j);
    }
    std::vector<float> yo(batch * M, 0.0f);
    if (o > 0) {
      const size_t Ro = l.outlierVectorRows(), Wo = l.outlierWords();
      quant::parallelFor(
          0, Ro, threads,
          [&](size_t lo, size_t hi) {
            std::vector<float> acc(batch * 16);
            for (size_t r = lo; r < hi; ++r) {
              std::fill(acc.begin(), acc.end(), 0.0f);
              for (size_t p = 0; p < o; ++p) {
                const float *q =
                    Co.data() + size_t(field(idxOutliers, r, Wo, p, l.bo)) * vo;
                for (size_t b = 0; b < batch; ++b) {
                  const float xp = xt[b * N + p];
                  for (unsigned e = 0; e < vo; ++e)
                    acc[b * 16 + e] += xp * q[e];
                }
              }
              for (size_t b = 0; b < batch; ++b)
                for (unsigned e = 0; e < vo && r * vo + e < M; ++e)
                  yo[b * M + r * vo + e] = acc[b * 16 + e];
            }
          },
          4);
    }
    quant::parallelFor(
        0, R, threads,
        [&](size_t lo, size_t hi) {
          mainRows(lo, hi,
                   {C.data(), Cr.data(), xt.data(), batch, yo.data(),
                    beta.data(), y});
        },
        std::max<size_t>(1, (size_t{1} << 15) /
                                std::max<size_t>(1, N * v * batch)));
  }

private:
  struct Products {
    const float *main, *residual, *xt;
    size_t batch;
    const float *outliers, *beta;
    float *y;
  };

  /// Vector rows [lo, hi) for batch items [b0, b0 + NB), with v a
  /// constant, so a row's accumulators stay in registers and NB items share
  /// every decoded field.
  template <unsigned V, size_t NB>
  void mainRowsFor(size_t lo, size_t hi, size_t b0, const Products &p) const {
    const size_t M = l.rows, N = l.cols, o = l.outliers, gs = l.groupSize;
    const size_t R = l.vectorRows(), W = l.words(), k = l.centroids();
    const size_t kr = l.residualCentroids();
    const unsigned T = l.fieldBits();
    const uint32_t mask1 = static_cast<uint32_t>(k - 1);
    float sum[V];
    for (size_t r = lo; r < hi; ++r) {
      float acc[NB][V] = {};
      for (size_t g = 0; g < l.groups; ++g) {
        const float *c1 = p.main + g * k * V;
        const float *c2 = l.br ? p.residual + g * kr * V : nullptr;
        const float *xg = p.xt + b0 * N + o + g * gs;
        FieldCursor fields(idx + 4 * (g * R + r) * W, 4 * uint64_t(W), 0, T);
        for (size_t c = 0; c < gs; ++c) {
          const uint32_t val = fields.next();
          const float *q = c1 + size_t(val & mask1) * V;
          if (c2) {
            const float *q2 = c2 + size_t(val >> l.b) * V;
            for (unsigned e = 0; e < V; ++e)
              sum[e] = q[e] + q2[e];
            q = sum;
          }
          for (size_t b = 0; b < NB; ++b) {
            const float xp = xg[b * N + c];
            for (unsigned e = 0; e < V; ++e)
              acc[b][e] += xp * q[e];
          }
        }
      }
      for (size_t b = 0; b < NB; ++b)
        for (unsigned e = 0; e < V && r * V + e < M; ++e) {
          const size_t i = (b0 + b) * M + r * V + e;
          p.y[i] = acc[b][e] + p.outliers[i] + p.beta[b0 + b];
        }
    }
  }

  /// Batch items four at a time, the rest one by one (each item's sums are
  /// the same either way).
  template <unsigned V>
  void mainRowsFor(size_t lo, size_t hi, const Products &p) const {
    size_t b0 = 0;
    for (; b0 + 4 <= p.batch; b0 += 4)
      mainRowsFor<V, 4>(lo, hi, b0, p);
    for (; b0 < p.batch; ++b0)
      mainRowsFor<V, 1>(lo, hi, b0, p);
  }

  template <unsigned V = 1>
  void mainRows(size_t lo, size_t hi, const Products &p) const {
    if (l.v == V)
      mainRowsFor<V>(lo, hi, p);
    else if constexpr (V < 16)
      mainRows<V + 1>(lo, hi, p);
  }

public:
};

} // namespace

std::unique_ptr<PackedTensor> bindVptq(const TensorReader &reader) {
  const TensorInfo &info = reader.info();
  if (info.rows == 0 || info.cols == 0)
    reader.fail("the matrix is empty");
  reader.param("version", 1, 1);
  VptqLayoutView l;
  l.rows = info.rows;
  l.cols = info.cols;
  l.v = static_cast<unsigned>(reader.param("v", 1, 16));
  l.b = static_cast<unsigned>(reader.param("b", 1, 16));
  l.br = static_cast<unsigned>(reader.param("b_r", 0, 16));
  l.groups = static_cast<unsigned>(reader.param("G", 1, int64_t(info.cols)));
  l.outliers = static_cast<size_t>(reader.param("o", 0, int64_t(info.cols)));
  l.groupSize = static_cast<size_t>(reader.param("gs", 1, int64_t(info.cols)));
  int64_t flags = reader.param("flags", 0, kFlagPerm | kFlagNorm);
  if (l.outliers + l.groupSize * l.groups != l.cols)
    reader.fail("o + G gs = " + std::to_string(l.outliers) + " + " +
                std::to_string(l.groups) + " * " + std::to_string(l.groupSize) +
                " does not equal N = " + std::to_string(l.cols));
  if (l.outliers) {
    l.vo = static_cast<unsigned>(reader.param("v_o", 1, 16));
    l.bo = static_cast<unsigned>(reader.param("b_o", 1, 16));
  } else {
    l.vo = 1; // unused without outliers
  }
  auto t = std::make_unique<VptqTensor>(l);
  t->idx =
      reader.bytes("idx", 32, uint64_t(l.groups) * l.vectorRows() * l.words());
  if (l.outliers) {
    t->idxOutliers = reader.bytes(
        "idx_o", 32, uint64_t(l.outlierVectorRows()) * l.outlierWords());
    t->outlier = reader.halves("C_o", uint64_t(l.outlierCentroids()) * l.vo);
  }
  t->main = reader.halves("C", uint64_t(l.groups) * l.centroids() * l.v);
  if (l.br)
    t->residual =
        reader.halves("Cr", uint64_t(l.groups) * l.residualCentroids() * l.v);
  if (flags & kFlagPerm) {
    t->permBits = l.cols <= 65536 ? 16 : 32;
    t->perm = reader.bytes("perm", t->permBits, l.cols);
    std::vector<bool> seen(l.cols, false);
    for (size_t p = 0; p < l.cols; ++p) {
      uint32_t j = t->column(p);
      if (j >= l.cols || seen[j])
        reader.fail("section 'perm' is not a permutation (entry " +
                    std::to_string(p) + " = " + std::to_string(j) + ")");
      seen[j] = true;
    }
  }
  t->normalize = flags & kFlagNorm;
  if (t->normalize) {
    t->scale = reader.halves("scale", l.cols);
    t->bias = reader.halves("bias", l.cols);
  }
  return t;
}

} // namespace qet::runtime
