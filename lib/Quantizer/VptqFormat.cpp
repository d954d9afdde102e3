//===- VptqFormat.cpp - VPTQ layout, storage, decoding and matvec ---------===//
//
// vptq.md §1 (geometry), §7 (packed storage), §8 (exact bits), §9
// (dequantization) and §10 (the fused batch-1 matvec, CPU reference).
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Vptq.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Parallel.h"

#include <cmath>
#include <string>

namespace qet::quant {

namespace {
constexpr int64_t kVersion = 1;
constexpr int64_t kFlagPerm = 1, kFlagNorm = 2;

/// q * s + b in two statements, so no translation unit contracts it into an
/// FMA: the sweep's Ŵ and the decoder's agree bit for bit.
inline float scaleBias(float q, float s, float b) {
  float scaled = q * s;
  return scaled + b;
}
} // namespace

VptqLayout vptqLayout(size_t rows, size_t cols, const VptqConfig &config) {
  auto fail = [&](const std::string &what) {
    throw Error("vptq on " + std::to_string(rows) + "x" + std::to_string(cols) +
                ": " + what);
  };
  if (rows == 0 || cols == 0)
    fail("the weight is empty");
  if (config.vectorLength < 1 || config.vectorLength > 16)
    fail("vector length v = " + std::to_string(config.vectorLength) +
         " is outside 1..16");
  if (config.indexBits < 1 || config.indexBits > 16)
    fail("index bits b = " + std::to_string(config.indexBits) +
         " (k = 2^b) is outside 1..16");
  if (config.residualBits > 16)
    fail("residual bits b_r = " + std::to_string(config.residualBits) +
         " is outside 0..16");
  if (config.groups < 1)
    fail("groups G must be at least 1");
  if (!(config.outlierPercent >= 0.0 && config.outlierPercent < 100.0))
    fail("the outlier percentage must be in [0, 100)");
  VptqLayout l;
  l.rows = rows;
  l.cols = cols;
  l.v = config.vectorLength;
  l.b = config.indexBits;
  l.br = config.residualBits;
  l.groups = config.groups;
  size_t o = static_cast<size_t>(
      std::ceil(config.outlierPercent / 100.0 * static_cast<double>(cols)));
  while (o < cols && (cols - o) % config.groups != 0)
    ++o;
  if (o >= cols)
    fail("no columns are left for " + std::to_string(config.groups) +
         " group(s) after " + std::to_string(o) + " outlier columns");
  l.outliers = o;
  l.groupSize = (cols - o) / config.groups;
  l.vo = config.outlierVectorLength;
  l.bo = config.outlierBits;
  if (o > 0) {
    if (l.vo < 1 || l.vo > 16)
      fail("outlier vector length v_o = " + std::to_string(l.vo) +
           " is outside 1..16");
    if (l.bo < 1 || l.bo > 16)
      fail("outlier index bits b_o = " + std::to_string(l.bo) +
           " is outside 1..16");
  }
  return l;
}

uint64_t vptqStorageBits(const VptqLayout &l, bool storesPerm, bool normalize) {
  uint64_t bits = 32ull * l.groups * l.vectorRows() * l.wordsPerStream();
  if (l.outliers)
    bits += 32ull * l.outlierVectorRows() * l.wordsPerOutlierStream();
  bits += 16ull * (uint64_t(l.groups) * (l.centroids() + l.residualCentroids()) *
                       l.v +
                   l.outlierCentroids() * (l.outliers ? l.vo : 0));
  if (storesPerm)
    bits += (l.cols <= 65536 ? 16ull : 32ull) * l.cols;
  if (normalize)
    bits += 32ull * l.cols;
  return bits;
}

std::vector<uint32_t> packFields(const uint32_t *fields, size_t count,
                                 unsigned width) {
  if (width < 1 || width > 32)
    throw Error("packFields: width " + std::to_string(width) +
                " is outside 1..32");
  std::vector<uint32_t> words((uint64_t(count) * width + 31) / 32, 0);
  for (size_t c = 0; c < count; ++c) {
    uint64_t value = fields[c];
    if (width < 32 && (value >> width))
      throw Error("packFields: field " + std::to_string(c) + " = " +
                  std::to_string(value) + " does not fit in " +
                  std::to_string(width) + " bits");
    uint64_t s = uint64_t(c) * width;
    size_t w = s >> 5;
    unsigned sh = s & 31;
    words[w] |= static_cast<uint32_t>(value << sh);
    if (sh + width > 32)
      words[w + 1] |= static_cast<uint32_t>(value >> (32 - sh));
  }
  return words;
}

Matrix vptqDecode(const VptqEncoded &enc) {
  const VptqLayout &l = enc.layout;
  const size_t M = l.rows, N = l.cols, o = l.outliers, gs = l.groupSize;
  const size_t R = l.vectorRows(), Ro = l.outlierVectorRows();
  const size_t W = l.wordsPerStream(), Wo = l.wordsPerOutlierStream();
  const unsigned T = l.fieldBits();
  const uint32_t mask1 = uint32_t(l.centroids() - 1);
  const size_t k = l.centroids(), kr = l.residualCentroids();
  Matrix out(M, N);
  auto column = [&](size_t p) -> uint32_t {
    return enc.perm.empty() ? uint32_t(p) : enc.perm[p];
  };
  auto store = [&](size_t row, uint32_t j, float q) {
    out.at(row, j) = enc.normalize ? scaleBias(q, enc.scale[j], enc.bias[j]) : q;
  };
  for (size_t g = 0; g < l.groups; ++g) {
    const float *C = enc.codebooks.main.data() + g * k * l.v;
    const float *Cr =
        l.br ? enc.codebooks.residual.data() + g * kr * l.v : nullptr;
    for (size_t r = 0; r < R; ++r) {
      const uint32_t *words = enc.idx.data() + (g * R + r) * W;
      for (size_t c = 0; c < gs; ++c) {
        uint32_t val = readField(words, c, T);
        uint32_t i1 = val & mask1, i2 = val >> l.b;
        uint32_t j = column(o + g * gs + c);
        for (unsigned e = 0; e < l.v; ++e) {
          size_t row = r * l.v + e;
          if (row >= M)
            break;
          float q = C[size_t(i1) * l.v + e];
          if (Cr)
            q += Cr[size_t(i2) * l.v + e];
          store(row, j, q);
        }
      }
    }
  }
  for (size_t r = 0; r < (o ? Ro : 0); ++r) {
    const uint32_t *words = enc.idxOutliers.data() + r * Wo;
    for (size_t p = 0; p < o; ++p) {
      uint32_t i1 = readField(words, p, l.bo);
      uint32_t j = column(p);
      for (unsigned e = 0; e < l.vo; ++e) {
        size_t row = r * l.vo + e;
        if (row >= M)
          break;
        store(row, j, enc.codebooks.outlier[size_t(i1) * l.vo + e]);
      }
    }
  }
  return out;
}

std::vector<float> vptqMatvec(const VptqEncoded &enc,
                              const std::vector<float> &x,
                              const std::vector<float> *bias,
                              unsigned threads) {
  const VptqLayout &l = enc.layout;
  const size_t M = l.rows, N = l.cols, o = l.outliers, gs = l.groupSize;
  if (x.size() != N)
    throw Error("vptq matvec: x has " + std::to_string(x.size()) +
                " entries, expected " + std::to_string(N));
  if (bias && bias->size() != M)
    throw Error("vptq matvec: the bias has " + std::to_string(bias->size()) +
                " entries, expected " + std::to_string(M));
  // Pre-pass, once per token: x~_p = x[perm[p]] * s[perm[p]] and one shared
  // beta = sum_j x_j b_j.
  std::vector<float> xt(N);
  float beta = 0.0f;
  for (size_t p = 0; p < N; ++p) {
    uint32_t j = enc.perm.empty() ? uint32_t(p) : enc.perm[p];
    xt[p] = enc.normalize ? x[j] * enc.scale[j] : x[j];
  }
  if (enc.normalize)
    for (size_t j = 0; j < N; ++j)
      beta += x[j] * enc.bias[j];

  const size_t R = l.vectorRows(), Ro = l.outlierVectorRows();
  const size_t W = l.wordsPerStream(), Wo = l.wordsPerOutlierStream();
  const unsigned T = l.fieldBits(), v = l.v, vo = l.vo;
  const uint32_t mask1 = uint32_t(l.centroids() - 1);
  const size_t k = l.centroids(), kr = l.residualCentroids();
  std::vector<float> y(M, 0.0f), yo(M, 0.0f);
  if (o > 0)
    parallelFor(
        0, Ro, threads,
        [&](size_t rb, size_t re) {
          for (size_t r = rb; r < re; ++r) {
            float acc[16] = {};
            const uint32_t *words = enc.idxOutliers.data() + r * Wo;
            for (size_t p = 0; p < o; ++p) {
              const float *q =
                  enc.codebooks.outlier.data() + size_t(readField(words, p, l.bo)) * vo;
              const float xp = xt[p];
              for (unsigned e = 0; e < vo; ++e)
                acc[e] += xp * q[e];
            }
            for (unsigned e = 0; e < vo && r * vo + e < M; ++e)
              yo[r * vo + e] = acc[e];
          }
        },
        4);
  parallelFor(
      0, R, threads,
      [&](size_t rb, size_t re) {
        for (size_t r = rb; r < re; ++r) {
          float acc[16] = {};
          for (size_t g = 0; g < l.groups; ++g) {
            const float *C = enc.codebooks.main.data() + g * k * v;
            const float *Cr =
                l.br ? enc.codebooks.residual.data() + g * kr * v : nullptr;
            const uint32_t *words = enc.idx.data() + (g * R + r) * W;
            const float *xg = xt.data() + o + g * gs;
            for (size_t c = 0; c < gs; ++c) {
              uint32_t val = readField(words, c, T);
              const float *q1 = C + size_t(val & mask1) * v;
              const float xp = xg[c];
              if (Cr) {
                const float *q2 = Cr + size_t(val >> l.b) * v;
                for (unsigned e = 0; e < v; ++e)
                  acc[e] += xp * (q1[e] + q2[e]);
              } else {
                for (unsigned e = 0; e < v; ++e)
                  acc[e] += xp * q1[e];
              }
            }
          }
          for (unsigned e = 0; e < v && r * v + e < M; ++e) {
            size_t i = r * v + e;
            y[i] = acc[e] + yo[i] + beta + (bias ? (*bias)[i] : 0.0f);
          }
        }
      },
      4);
  return y;
}

PackedMatrix vptqPack(const VptqEncoded &enc) {
  const VptqLayout &l = enc.layout;
  PackedMatrix packed;
  packed.scheme = "vptq";
  packed.rows = l.rows;
  packed.cols = l.cols;
  bool storesPerm = !enc.perm.empty();
  packed.params = {{"version", kVersion},
                   {"v", l.v},
                   {"b", l.b},
                   {"b_r", l.br},
                   {"G", l.groups},
                   {"gs", int64_t(l.groupSize)},
                   {"o", int64_t(l.outliers)},
                   {"v_o", l.vo},
                   {"b_o", l.bo},
                   {"flags", (storesPerm ? kFlagPerm : 0) |
                                 (enc.normalize ? kFlagNorm : 0)}};
  packed.addCodes("idx", enc.idx, 32);
  if (l.outliers)
    packed.addCodes("idx_o", enc.idxOutliers, 32);
  packed.addFloats("C", enc.codebooks.main, DType::F16);
  if (l.br)
    packed.addFloats("Cr", enc.codebooks.residual, DType::F16);
  if (l.outliers)
    packed.addFloats("C_o", enc.codebooks.outlier, DType::F16);
  if (storesPerm)
    packed.addCodes("perm", enc.perm, l.cols <= 65536 ? 16 : 32);
  if (enc.normalize) {
    packed.addFloats("scale", enc.scale, DType::F16);
    packed.addFloats("bias", enc.bias, DType::F16);
  }
  return packed;
}

VptqEncoded vptqUnpack(const PackedMatrix &packed) {
  if (packed.param("version") != kVersion)
    throw FormatError("packed vptq matrix: unsupported version " +
                      std::to_string(packed.param("version")));
  auto small = [&](const char *name) {
    int64_t value = packed.param(name);
    if (value < 0 || value > (int64_t{1} << 32))
      throw FormatError(std::string("packed vptq matrix: bad ") + name);
    return value;
  };
  VptqConfig config;
  config.vectorLength = unsigned(small("v"));
  config.indexBits = unsigned(small("b"));
  config.residualBits = unsigned(small("b_r"));
  config.groups = unsigned(small("G"));
  config.outlierVectorLength = unsigned(small("v_o"));
  config.outlierBits = unsigned(small("b_o"));
  int64_t flags = packed.param("flags");
  VptqLayout l;
  try {
    l = vptqLayout(packed.rows, packed.cols, config);
  } catch (const Error &e) {
    throw FormatError(std::string("packed vptq matrix: ") + e.what());
  }
  // o and gs come from the header (the percentage is not stored).
  l.outliers = size_t(small("o"));
  l.groupSize = size_t(small("gs"));
  if (l.outliers + l.groupSize * l.groups != l.cols || l.groupSize == 0 ||
      (l.outliers && (l.vo < 1 || l.vo > 16 || l.bo < 1 || l.bo > 16)))
    throw FormatError("packed vptq matrix: o + G gs does not equal N");
  VptqEncoded enc;
  enc.layout = l;
  enc.normalize = flags & kFlagNorm;
  auto sized = [&](std::vector<uint32_t> v, size_t count, const char *name) {
    if (v.size() != count)
      throw FormatError(std::string("packed vptq matrix: stream '") + name +
                        "' has " + std::to_string(v.size()) +
                        " entries, expected " + std::to_string(count));
    return v;
  };
  auto sizedF = [&](std::vector<float> v, size_t count, const char *name) {
    if (v.size() != count)
      throw FormatError(std::string("packed vptq matrix: stream '") + name +
                        "' has " + std::to_string(v.size()) +
                        " entries, expected " + std::to_string(count));
    return v;
  };
  enc.idx = sized(packed.codes("idx"),
                  l.groups * l.vectorRows() * l.wordsPerStream(), "idx");
  if (l.outliers) {
    enc.idxOutliers = sized(packed.codes("idx_o"),
                            l.outlierVectorRows() * l.wordsPerOutlierStream(),
                            "idx_o");
    enc.codebooks.outlier = sizedF(packed.floats("C_o", DType::F16),
                                   l.outlierCentroids() * l.vo, "C_o");
  }
  enc.codebooks.main = sizedF(packed.floats("C", DType::F16),
                              l.groups * l.centroids() * l.v, "C");
  if (l.br)
    enc.codebooks.residual = sizedF(packed.floats("Cr", DType::F16),
                                    l.groups * l.residualCentroids() * l.v, "Cr");
  if (flags & kFlagPerm) {
    enc.perm = sized(packed.codes("perm"), l.cols, "perm");
    std::vector<bool> seen(l.cols, false);
    for (uint32_t j : enc.perm) {
      if (j >= l.cols || seen[j])
        throw FormatError("packed vptq matrix: 'perm' is not a permutation");
      seen[j] = true;
    }
  }
  if (enc.normalize) {
    enc.scale = sizedF(packed.floats("scale", DType::F16), l.cols, "scale");
    enc.bias = sizedF(packed.floats("bias", DType::F16), l.cols, "bias");
  }
  return enc;
}

} // namespace qet::quant
