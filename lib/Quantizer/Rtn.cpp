//===- Rtn.cpp - Group-wise round-to-nearest quantization -----------------===//

#include "qet/Quantizer/Rtn.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Parallel.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace qet::quant {

static constexpr unsigned kMaxBits = 8;

static std::string shapeText(size_t rows, size_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

static void checkConfig(const RtnConfig &config) {
  if (config.bits < 1 || config.bits > kMaxBits)
    throw Error("rtn: bits must be in [1, 8], got " +
                std::to_string(config.bits));
  if (config.group < 1)
    throw Error("rtn: group must be >= 1, got 0");
}

static size_t groupCount(size_t cols, unsigned group) {
  return (cols + group - 1) / group;
}

size_t RtnEncoded::groupsPerRow() const {
  return groupCount(cols, config.group);
}

uint64_t rtnStorageBits(size_t rows, size_t cols, const RtnConfig &config) {
  uint64_t metadataBits = config.symmetric ? 16 : 32;
  return static_cast<uint64_t>(rows) *
         (static_cast<uint64_t>(cols) * config.bits +
          metadataBits * groupCount(cols, config.group));
}

unsigned rtnBitsForBudget(size_t rows, size_t cols, unsigned group,
                          bool symmetric, double bpe) {
  if (group < 1)
    throw Error("rtn: group must be >= 1, got 0");
  uint64_t budget = budgetBits(bpe, static_cast<uint64_t>(rows) * cols);
  for (unsigned bits = kMaxBits; bits >= 1; --bits)
    if (rtnStorageBits(rows, cols, {bits, group, symmetric}) <= budget)
      return bits;
  uint64_t minimum = rtnStorageBits(rows, cols, {1, group, symmetric});
  throw BudgetTooSmall(
      std::string(symmetric ? "rtn-sym" : "rtn") + " on " +
      shapeText(rows, cols) + " with group " + std::to_string(group) +
      ": budget " + formatBpe(bpe) + " bpe (" + std::to_string(budget) +
      " bits) is below the minimum of " + std::to_string(minimum) +
      " bits (" + formatBpe(double(minimum) / (double(rows) * cols)) +
      " bpe at 1 bit)");
}

static float checkedHalf(float value, const char *what, size_t row,
                         size_t group) {
  float half = roundToHalf(value);
  if (!std::isfinite(half))
    throw Error("rtn: the " + std::string(what) + " of row " +
                std::to_string(row) + ", group " + std::to_string(group) +
                " (" + std::to_string(value) +
                ") does not fit in fp16 (|value| <= 65504)");
  return half;
}

static void encodeGroup(const float *x, size_t length, const RtnConfig &config,
                        size_t row, size_t group, int32_t *codes, float &scale,
                        float &zeroPoint) {
  if (!config.symmetric) {
    auto [lo, hi] = std::minmax_element(x, x + length);
    float levels = static_cast<float>((1u << config.bits) - 1);
    zeroPoint = checkedHalf(*lo, "minimum", row, group);
    scale = checkedHalf((*hi - zeroPoint) / levels, "scale", row, group);
    for (size_t i = 0; i < length; ++i) {
      float q = scale == 0.0f ? 0.0f : std::nearbyint((x[i] - zeroPoint) / scale);
      codes[i] = static_cast<int32_t>(std::clamp(q, 0.0f, levels));
    }
    return;
  }
  // The first element of largest magnitude, sign kept, maps to -2^(bits-1).
  size_t peak = 0;
  for (size_t i = 1; i < length; ++i)
    if (std::fabs(x[i]) > std::fabs(x[peak]))
      peak = i;
  float half = static_cast<float>(1u << (config.bits - 1));
  scale = checkedHalf(x[peak] / -half, "scale", row, group);
  for (size_t i = 0; i < length; ++i) {
    float q = scale == 0.0f ? 0.0f : std::nearbyint(x[i] / scale);
    codes[i] = static_cast<int32_t>(std::clamp(q, -half, half - 1.0f));
  }
}

RtnEncoded rtnEncode(const Matrix &input, const RtnConfig &config,
                     unsigned threads) {
  checkConfig(config);
  requireFinite(input, "rtn input");
  RtnEncoded out;
  out.config = config;
  out.rows = input.rows;
  out.cols = input.cols;
  size_t groups = out.groupsPerRow();
  out.codes.resize(input.size());
  out.scales.resize(input.rows * groups);
  if (!config.symmetric)
    out.zeroPoints.resize(input.rows * groups);
  parallelFor(0, input.rows, threads, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      for (size_t g = 0; g < groups; ++g) {
        size_t first = g * config.group;
        size_t length = std::min<size_t>(config.group, input.cols - first);
        float unusedZero = 0.0f;
        encodeGroup(input.row(r) + first, length, config, r, g,
                    out.codes.data() + r * input.cols + first,
                    out.scales[r * groups + g],
                    config.symmetric ? unusedZero : out.zeroPoints[r * groups + g]);
      }
    }
  }, /*minChunk=*/16);
  return out;
}

Matrix rtnDecode(const RtnEncoded &encoded) {
  Matrix out(encoded.rows, encoded.cols);
  size_t groups = encoded.groupsPerRow();
  for (size_t r = 0; r < encoded.rows; ++r) {
    for (size_t c = 0; c < encoded.cols; ++c) {
      size_t g = r * groups + c / encoded.config.group;
      float q = static_cast<float>(encoded.codes[r * encoded.cols + c]);
      float scaled = q * encoded.scales[g];
      out.at(r, c) = encoded.config.symmetric ? scaled
                                              : encoded.zeroPoints[g] + scaled;
    }
  }
  return out;
}

PackedMatrix rtnPack(const RtnEncoded &encoded) {
  PackedMatrix packed;
  packed.scheme = encoded.config.symmetric ? "rtn-sym" : "rtn";
  packed.rows = encoded.rows;
  packed.cols = encoded.cols;
  packed.params = {{"bits", encoded.config.bits},
                   {"group", encoded.config.group},
                   {"symmetric", encoded.config.symmetric}};
  uint32_t mask = (1u << encoded.config.bits) - 1;
  std::vector<uint32_t> codes(encoded.codes.size());
  for (size_t i = 0; i < codes.size(); ++i)
    codes[i] = static_cast<uint32_t>(encoded.codes[i]) & mask;
  packed.addCodes("codes", codes, encoded.config.bits);
  packed.addFloats("scales", encoded.scales, DType::F16);
  if (!encoded.config.symmetric)
    packed.addFloats("zero_points", encoded.zeroPoints, DType::F16);
  return packed;
}

RtnEncoded rtnUnpack(const PackedMatrix &packed) {
  RtnEncoded out;
  out.config.bits = static_cast<unsigned>(packed.param("bits"));
  out.config.group = static_cast<unsigned>(packed.param("group"));
  out.config.symmetric = packed.param("symmetric") != 0;
  checkConfig(out.config);
  out.rows = packed.rows;
  out.cols = packed.cols;
  size_t expectedScales = out.rows * out.groupsPerRow();
  std::vector<uint32_t> codes = packed.codes("codes");
  out.scales = packed.floats("scales", DType::F16);
  if (!out.config.symmetric)
    out.zeroPoints = packed.floats("zero_points", DType::F16);
  if (codes.size() != out.rows * out.cols || out.scales.size() != expectedScales ||
      (!out.config.symmetric && out.zeroPoints.size() != expectedScales))
    throw FormatError("packed " + packed.scheme + " matrix " +
                      shapeText(out.rows, out.cols) +
                      ": stream sizes do not match the shape and group");
  out.codes.resize(codes.size());
  unsigned bits = out.config.bits;
  for (size_t i = 0; i < codes.size(); ++i) {
    int32_t code = static_cast<int32_t>(codes[i]);
    if (out.config.symmetric && (codes[i] >> (bits - 1)))
      code -= int32_t{1} << bits; // sign-extend two's complement
    out.codes[i] = code;
  }
  return out;
}

QuantizeResult quantizeRtn(const Matrix &input, const QuantizeOptions &options,
                           bool symmetric) {
  RtnConfig config;
  config.group = options.group;
  config.symmetric = symmetric;
  if (options.bits) {
    config.bits = options.bits;
    checkConfig(config);
    if (options.bpe > 0 &&
        rtnStorageBits(input.rows, input.cols, config) >
            budgetBits(options.bpe, uint64_t(input.rows) * input.cols))
      throw BudgetTooSmall(std::string(symmetric ? "rtn-sym" : "rtn") +
                           ": " + std::to_string(config.bits) + " bits with group " +
                           std::to_string(config.group) + " need " +
                           formatBpe(rtnStorageBits(input.rows, input.cols, config) /
                                     double(input.size())) +
                           " bpe, over the budget of " + formatBpe(options.bpe));
  } else {
    config.bits = rtnBitsForBudget(input.rows, input.cols, config.group,
                                   symmetric, options.bpe);
  }
  RtnEncoded encoded = rtnEncode(input, config, options.threads);
  QuantizeResult result;
  result.scheme = symmetric ? "rtn-sym" : "rtn";
  result.params = {{"bits", std::to_string(config.bits)},
                   {"group", std::to_string(config.group)}};
  result.packed = rtnPack(encoded);
  result.packed.storage = input.storage;
  result.reconstruction = rtnDecode(rtnUnpack(result.packed));
  if (options.progress)
    options.progress(1.0);
  return result;
}

} // namespace qet::quant
