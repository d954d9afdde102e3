//===- KiviValues.cpp - KIVI-style per-token value quantization -----------===//
//
// qjl.md §5. The group RTN of Rtn.h is close but not the same rule: qjl.md
// takes the scale from the fp32 range, (mx - mn)/(2^b - 1), and rounds codes
// half up (floor(. + 0.5)), while `rtn` divides the range above the fp16
// minimum and rounds half to even. The qjl.md rule is followed exactly here;
// packing reuses BitPacking's LSB-first layout (element i at bits [b i, b i +
// b), row stride d b / 8 bytes), and the ledger matches `rtn`'s formula
// (b d + 32 d/g_v bits per token).
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Qjl.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Parallel.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace qet::quant {

unsigned kiviGroup(const KiviConfig &config, size_t dim) {
  if (config.bits != 1 && config.bits != 2 && config.bits != 4 &&
      config.bits != 8)
    throw Error("kivi: value bits must be 1, 2, 4 or 8, got " +
                std::to_string(config.bits));
  if (dim == 0)
    throw Error("kivi: the head dimension is 0");
  unsigned group = config.group;
  if (group == 0) {
    for (unsigned candidate : {32u, 16u, 8u})
      if (dim % candidate == 0) {
        group = candidate;
        break;
      }
    if (group == 0)
      throw Error("kivi: none of 32, 16, 8 divides d = " + std::to_string(dim) +
                  "; give the value group explicitly");
  }
  if (dim % group != 0)
    throw Error("kivi: the value group " + std::to_string(group) +
                " does not divide d = " + std::to_string(dim));
  if ((dim * config.bits) % 8 != 0)
    throw Error("kivi: d * bits must be a multiple of 8 (d = " +
                std::to_string(dim) + ", bits = " +
                std::to_string(config.bits) + ")");
  return group;
}

uint64_t KiviValues::storageBits() const {
  return uint64_t(tokens) * (uint64_t(config.bits) * dim +
                             32ull * (dim / config.group));
}

void KiviValues::addToLedger(Ledger &ledger) const {
  ledger.add("value_codes", uint64_t(tokens) * dim, config.bits);
  ledger.add("value_scales", uint64_t(tokens) * (dim / config.group), 16);
  ledger.add("value_mins", uint64_t(tokens) * (dim / config.group), 16);
}

uint32_t KiviValues::code(size_t token, size_t channel) const {
  size_t bit = channel * config.bits;
  const uint8_t *row = codes.data() + token * (dim * config.bits / 8);
  return (row[bit / 8] >> (bit % 8)) & ((1u << config.bits) - 1);
}

static float checkedHalf(float value, const char *what, size_t token) {
  float half = roundToHalf(value);
  if (!std::isfinite(half))
    throw Error("kivi: the " + std::string(what) + " of value token " +
                std::to_string(token) + " (" + std::to_string(value) +
                ") does not fit in fp16 (|value| <= 65504)");
  return half;
}

void kiviAppendValues(KiviValues &values, const Matrix &block,
                      unsigned threads) {
  if (block.cols != values.dim)
    throw Error("kivi: values have " + std::to_string(block.cols) +
                " channels, expected d = " + std::to_string(values.dim));
  values.config.group = kiviGroup(values.config, values.dim);
  requireFinite(block, "kivi values");
  size_t dim = values.dim, g = values.config.group, groups = dim / g;
  unsigned bits = values.config.bits;
  size_t rowBytes = dim * bits / 8, first = values.tokens;
  values.codes.resize((first + block.rows) * rowBytes, 0);
  values.mins.resize((first + block.rows) * groups);
  values.scales.resize((first + block.rows) * groups);
  values.tokens = first + block.rows;
  const float levels = static_cast<float>((1u << bits) - 1);
  parallelFor(0, block.rows, threads, [&](size_t lo, size_t hi) {
    std::vector<uint32_t> codes(dim);
    for (size_t t = lo; t < hi; ++t) {
      const float *v = block.row(t);
      size_t token = first + t;
      for (size_t k = 0; k < groups; ++k) {
        const float *x = v + k * g;
        auto [mnIt, mxIt] = std::minmax_element(x, x + g);
        float scale = (*mxIt - *mnIt) / levels;
        float mn16 = checkedHalf(*mnIt, "minimum", token);
        float sc16 = checkedHalf(scale, "scale", token);
        values.mins[token * groups + k] = mn16;
        values.scales[token * groups + k] = sc16;
        for (size_t i = 0; i < g; ++i) {
          float q = sc16 == 0.0f ? 0.0f
                                 : std::floor((x[i] - mn16) / sc16 + 0.5f);
          codes[k * g + i] = static_cast<uint32_t>(std::clamp(q, 0.0f, levels));
        }
      }
      packBits(codes.data(), dim, bits, values.codes.data() + token * rowBytes);
    }
  }, /*minChunk=*/16);
}

KiviValues kiviQuantizeValues(const Matrix &values, const KiviConfig &config,
                              unsigned threads) {
  KiviValues out;
  out.config = config;
  out.dim = values.cols;
  kiviAppendValues(out, values, threads);
  return out;
}

Matrix kiviDequantize(const KiviValues &values) {
  Matrix out(values.tokens, values.dim);
  size_t g = values.config.group, groups = values.dim / g;
  for (size_t t = 0; t < values.tokens; ++t)
    for (size_t c = 0; c < values.dim; ++c) {
      size_t k = t * groups + c / g;
      out.at(t, c) = values.mins[k] +
                     static_cast<float>(values.code(t, c)) * values.scales[k];
    }
  return out;
}

PackedMatrix kiviPackValues(const KiviValues &values) {
  PackedMatrix packed;
  packed.scheme = "kivi";
  packed.rows = values.tokens;
  packed.cols = values.dim;
  packed.params = {{"bits", values.config.bits},
                   {"group", values.config.group}};
  packed.streams.push_back({"codes", values.config.bits,
                            uint64_t(values.tokens) * values.dim,
                            values.codes});
  packed.addFloats("scales", values.scales, DType::F16);
  packed.addFloats("mins", values.mins, DType::F16);
  return packed;
}

KiviValues kiviUnpackValues(const PackedMatrix &packed) {
  if (packed.scheme != "kivi")
    throw FormatError("kivi: cannot unpack a '" + packed.scheme + "' matrix");
  KiviValues values;
  values.dim = static_cast<size_t>(packed.cols);
  values.tokens = static_cast<size_t>(packed.rows);
  values.config.bits = static_cast<unsigned>(packed.param("bits"));
  values.config.group = static_cast<unsigned>(packed.param("group"));
  values.config.group = kiviGroup(values.config, values.dim);
  const PackedStream &codes = packed.stream("codes");
  if (codes.bitsEach != values.config.bits ||
      codes.count != uint64_t(values.tokens) * values.dim)
    throw FormatError("kivi: stream 'codes' has the wrong size");
  values.codes = codes.bytes;
  values.scales = packed.floats("scales", DType::F16);
  values.mins = packed.floats("mins", DType::F16);
  size_t groups = values.tokens * (values.dim / values.config.group);
  if (values.scales.size() != groups || values.mins.size() != groups)
    throw FormatError("kivi: scale/min streams have the wrong size");
  return values;
}

void kiviValueProduct(const KiviValues &values, const float *weights,
                      float *out) {
  size_t dim = values.dim, g = values.config.group, groups = dim / g;
  unsigned bits = values.config.bits;
  size_t rowBytes = dim * bits / 8;
  unsigned perByte = 8 / bits, mask = (1u << bits) - 1;
  std::vector<float> acc(dim, 0.0f), minAcc(groups, 0.0f), codes(dim);
  for (size_t t = 0; t < values.tokens; ++t) {
    float p = weights[t];
    const uint8_t *row = values.codes.data() + t * rowBytes;
    // Unpack by shift and mask, a byte at a time.
    for (size_t b = 0; b < rowBytes; ++b) {
      unsigned byte = row[b];
      for (unsigned i = 0; i < perByte; ++i)
        codes[b * perByte + i] = static_cast<float>((byte >> (i * bits)) & mask);
    }
    for (size_t k = 0; k < groups; ++k) {
      float w = p * values.scales[t * groups + k];
      minAcc[k] += p * values.mins[t * groups + k];
      const float *code = codes.data() + k * g;
      float *a = acc.data() + k * g;
      for (size_t i = 0; i < g; ++i)
        a[i] += w * code[i];
    }
  }
  for (size_t c = 0; c < dim; ++c)
    out[c] += acc[c] + minAcc[c / g];
}

} // namespace qet::quant
