//===- QjlKeys.cpp - QJL key sketches (qjl.md §3) --------------------------===//

#include "qet/Quantizer/Qjl.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Parallel.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace qet::quant {

void validateQjlConfig(const QjlConfig &config, size_t dim) {
  if (dim < 8 || dim % 8 != 0)
    throw Error("qjl: the head dimension d must be a positive multiple of 8, "
                "got " + std::to_string(dim));
  if (config.sketch < 8 || config.sketch % 8 != 0)
    throw Error("qjl: the sketch size m must be a positive multiple of 8, got " +
                std::to_string(config.sketch));
  if (config.outlierSketch % 8 != 0 || config.outlierSketch > config.sketch)
    throw Error("qjl: the outlier sketch size m_o must be 0 or a multiple of 8 "
                "no larger than m = " + std::to_string(config.sketch) +
                ", got " + std::to_string(config.outlierSketch));
  if (config.outliers >= dim)
    throw Error("qjl: " + std::to_string(config.outliers) +
                " outlier channels requested but d = " + std::to_string(dim) +
                " (at most d - 1 = " + std::to_string(dim - 1) + ")");
  if (config.groupTokens < 1)
    throw Error("qjl: the token group size G must be >= 1");
}

static void requireMatchingS(const QjlConfig &config, size_t dim,
                             const JlMatrix &s) {
  if (s.dim != dim || s.sketch != config.sketch || s.kind != config.kind ||
      s.seed != config.seed)
    throw Error("qjl: the JL matrix (d = " + std::to_string(s.dim) +
                ", m = " + std::to_string(s.sketch) + ", " +
                jlKindName(s.kind) + ", seed " + std::to_string(s.seed) +
                ") does not match the keys (d = " + std::to_string(dim) +
                ", m = " + std::to_string(config.sketch) + ", " +
                jlKindName(config.kind) + ", seed " +
                std::to_string(config.seed) + ")");
}

size_t QjlKeys::groups() const {
  return (tokens + config.groupTokens - 1) / config.groupTokens;
}

uint64_t QjlKeys::storageBits() const {
  uint64_t n = tokens;
  uint64_t bits = n * (config.sketch + 16);
  if (config.hasOutliers())
    bits += n * (config.outlierSketch + 16) +
            static_cast<uint64_t>(groups()) * config.outliers * idBits();
  return bits;
}

void QjlKeys::addToLedger(Ledger &ledger) const {
  ledger.add("key_signs", uint64_t(tokens) * config.sketch, 1);
  ledger.add("key_norms", tokens, 16);
  if (config.hasOutliers()) {
    ledger.add("key_outlier_signs", uint64_t(tokens) * config.outlierSketch, 1);
    ledger.add("key_outlier_norms", tokens, 16);
    ledger.add("key_outlier_ids", uint64_t(groups()) * config.outliers,
               idBits());
  }
}

static float checkedNorm(double squared, size_t token, const char *what) {
  float half = roundToHalf(static_cast<float>(std::sqrt(squared)));
  if (!std::isfinite(half))
    throw Error("qjl: the " + std::string(what) + " norm of key token " +
                std::to_string(token) + " (" + std::to_string(std::sqrt(squared)) +
                ") does not fit in fp16 (<= 65504)");
  return half;
}

// The |O| channels of largest group norm (ties to the lower index), ascending.
static void chooseOutliers(const Matrix &block, size_t first, size_t count,
                           unsigned outliers, uint16_t *ids) {
  size_t dim = block.cols;
  std::vector<double> energy(dim, 0.0);
  for (size_t t = first; t < first + count; ++t)
    for (size_t c = 0; c < dim; ++c)
      energy[c] += double(block.at(t, c)) * block.at(t, c);
  std::vector<uint16_t> order(dim);
  std::iota(order.begin(), order.end(), uint16_t(0));
  std::partial_sort(order.begin(), order.begin() + outliers, order.end(),
                    [&](uint16_t a, uint16_t b) {
                      return energy[a] != energy[b] ? energy[a] > energy[b]
                                                    : a < b;
                    });
  std::sort(order.begin(), order.begin() + outliers);
  std::copy(order.begin(), order.begin() + outliers, ids);
}

// Sign bits (z_j > 0) of z, m values, into m/8 bytes LSB first.
static void packSigns(const float *z, size_t m, uint8_t *out) {
  for (size_t b = 0; b < m / 8; ++b) {
    unsigned byte = 0;
    for (unsigned l = 0; l < 8; ++l)
      byte |= unsigned(z[8 * b + l] > 0.0f) << l;
    out[b] = static_cast<uint8_t>(byte);
  }
}

void qjlAppendKeys(QjlKeys &keys, const Matrix &block, const JlMatrix &s,
                   unsigned threads) {
  const QjlConfig &config = keys.config;
  validateQjlConfig(config, keys.dim);
  if (block.cols != keys.dim)
    throw Error("qjl: keys have " + std::to_string(block.cols) +
                " channels, expected d = " + std::to_string(keys.dim));
  requireMatchingS(config, keys.dim, s);
  if (keys.tokens % config.groupTokens != 0)
    throw Error("qjl: cannot append keys after a partial token group (" +
                std::to_string(keys.tokens) + " tokens, G = " +
                std::to_string(config.groupTokens) + ")");
  requireFinite(block, "qjl keys");
  size_t n = block.rows, dim = keys.dim, m = config.sketch;
  size_t mo = config.outlierSketch;
  bool outliers = config.hasOutliers();
  size_t firstToken = keys.tokens;
  size_t G = config.groupTokens;
  size_t newGroups = (n + G - 1) / G;

  keys.signs.resize((firstToken + n) * (m / 8));
  keys.normIn.resize(firstToken + n);
  std::vector<uint16_t> ids;
  if (outliers) {
    keys.outlierSigns.resize((firstToken + n) * (mo / 8));
    keys.normOut.resize(firstToken + n);
    size_t firstGroup = keys.outlierIds.size() / config.outliers;
    keys.outlierIds.resize((firstGroup + newGroups) * config.outliers);
    uint16_t *groupIds = keys.outlierIds.data() + firstGroup * config.outliers;
    parallelFor(0, newGroups, threads, [&](size_t lo, size_t hi) {
      for (size_t g = lo; g < hi; ++g)
        chooseOutliers(block, g * G, std::min(G, n - g * G), config.outliers,
                       groupIds + g * config.outliers);
    });
  }
  keys.tokens = firstToken + n;

  const uint16_t *allIds = keys.outlierIds.data();
  size_t groupBase = firstToken / G;
  parallelFor(0, n, threads, [&](size_t lo, size_t hi) {
    std::vector<float> z(m), zo(mo);
    std::vector<char> isOutlier(dim);
    for (size_t t = lo; t < hi; ++t) {
      const float *k = block.row(t);
      std::fill(isOutlier.begin(), isOutlier.end(), 0);
      const uint16_t *o = nullptr;
      if (outliers) {
        o = allIds + (groupBase + t / G) * config.outliers;
        for (unsigned i = 0; i < config.outliers; ++i)
          isOutlier[o[i]] = 1;
      }
      // z = S k_in: fp32, channels in ascending order (outliers skipped).
      std::fill(z.begin(), z.end(), 0.0f);
      double inSquared = 0.0;
      for (size_t c = 0; c < dim; ++c) {
        if (isOutlier[c])
          continue;
        float kc = k[c];
        inSquared += double(kc) * kc;
        const float *row = s.st.data() + c * m;
        for (size_t j = 0; j < m; ++j)
          z[j] += kc * row[j];
      }
      size_t token = firstToken + t;
      packSigns(z.data(), m, keys.signs.data() + token * (m / 8));
      keys.normIn[token] = checkedNorm(inSquared, token, "inlier");
      if (outliers) {
        std::fill(zo.begin(), zo.end(), 0.0f);
        double outSquared = 0.0;
        for (unsigned i = 0; i < config.outliers; ++i) {
          size_t c = o[i];
          float kc = k[c];
          outSquared += double(kc) * kc;
          const float *row = s.st.data() + c * m;
          for (size_t j = 0; j < mo; ++j)
            zo[j] += kc * row[j];
        }
        packSigns(zo.data(), mo, keys.outlierSigns.data() + token * (mo / 8));
        keys.normOut[token] = checkedNorm(outSquared, token, "outlier");
      }
    }
  }, /*minChunk=*/16);
}

QjlKeys qjlQuantizeKeys(const Matrix &keys, const JlMatrix &s,
                        const QjlConfig &config, unsigned threads) {
  QjlKeys out;
  out.config = config;
  out.dim = keys.cols;
  qjlAppendKeys(out, keys, s, threads);
  return out;
}

PackedMatrix qjlPackKeys(const QjlKeys &keys) {
  const QjlConfig &config = keys.config;
  PackedMatrix packed;
  packed.scheme = "qjl";
  packed.rows = keys.tokens;
  packed.cols = keys.dim;
  packed.params = {{"d", int64_t(keys.dim)},
                   {"m", config.sketch},
                   {"m_o", config.outlierSketch},
                   {"outliers", config.outliers},
                   {"group_tokens", config.groupTokens},
                   {"orthogonal", config.kind == JlKind::Orthogonal ? 1 : 0},
                   {"seed", static_cast<int64_t>(config.seed)}};
  // Tokens are dense, so the per-token byte rows concatenate to the LSB-first
  // stream of all sign bits.
  packed.streams.push_back({"signs", 1, uint64_t(keys.tokens) * config.sketch,
                            keys.signs});
  packed.addFloats("norms", keys.normIn, DType::F16);
  if (config.hasOutliers()) {
    packed.streams.push_back({"outlier_signs", 1,
                              uint64_t(keys.tokens) * config.outlierSketch,
                              keys.outlierSigns});
    packed.addFloats("outlier_norms", keys.normOut, DType::F16);
    std::vector<uint32_t> ids(keys.outlierIds.begin(), keys.outlierIds.end());
    packed.addCodes("outlier_ids", ids, keys.idBits());
  }
  return packed;
}

QjlKeys qjlUnpackKeys(const PackedMatrix &packed) {
  if (packed.scheme != "qjl")
    throw FormatError("qjl: cannot unpack a '" + packed.scheme + "' matrix");
  QjlKeys keys;
  keys.dim = static_cast<size_t>(packed.param("d"));
  keys.tokens = static_cast<size_t>(packed.rows);
  QjlConfig &config = keys.config;
  config.sketch = static_cast<unsigned>(packed.param("m"));
  config.outlierSketch = static_cast<unsigned>(packed.param("m_o"));
  config.outliers = static_cast<unsigned>(packed.param("outliers"));
  config.groupTokens = static_cast<unsigned>(packed.param("group_tokens"));
  config.kind = packed.param("orthogonal") ? JlKind::Orthogonal
                                           : JlKind::Gaussian;
  config.seed = static_cast<uint64_t>(packed.param("seed"));
  validateQjlConfig(config, keys.dim);
  auto bytesOf = [&](const char *name, uint64_t bits) {
    const PackedStream &s = packed.stream(name);
    if (s.bitsEach != 1 || s.count != bits || s.bytes.size() != bits / 8)
      throw FormatError(std::string("qjl: stream '") + name +
                        "' has the wrong size");
    return s.bytes;
  };
  keys.signs = bytesOf("signs", uint64_t(keys.tokens) * config.sketch);
  keys.normIn = packed.floats("norms", DType::F16);
  if (keys.normIn.size() != keys.tokens)
    throw FormatError("qjl: stream 'norms' has the wrong size");
  if (config.hasOutliers()) {
    keys.outlierSigns =
        bytesOf("outlier_signs", uint64_t(keys.tokens) * config.outlierSketch);
    keys.normOut = packed.floats("outlier_norms", DType::F16);
    std::vector<uint32_t> ids = packed.codes("outlier_ids");
    if (keys.normOut.size() != keys.tokens ||
        ids.size() != keys.groups() * config.outliers)
      throw FormatError("qjl: outlier streams have the wrong size");
    keys.outlierIds.assign(ids.begin(), ids.end());
    for (uint16_t id : keys.outlierIds)
      if (id >= keys.dim)
        throw FormatError("qjl: outlier channel id out of range");
  }
  return keys;
}

} // namespace qet::quant
