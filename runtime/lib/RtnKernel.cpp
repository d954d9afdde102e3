//===- RtnKernel.cpp - Group-wise RTN: decode, dispatch, portable rows ----===//

#include "RtnKernel.h"

#include "Dot.h"
#include "SectionReader.h"

#include "qet/Quantizer/Parallel.h"
#include "qet/runtime/RuntimeError.h"

#include <algorithm>
#include <string>
#include <vector>

namespace qet::runtime {

namespace {

/// Two's complement of a `bits`-bit field, without shifts of negatives.
inline int32_t signExtend(uint32_t field, unsigned bits) {
  int32_t half = int32_t{1} << (bits - 1);
  return (static_cast<int32_t>(field) ^ half) - half;
}

std::vector<float> byteTable(unsigned bits, bool symmetric) {
  const unsigned perByte = 8 / bits, mask = (1u << bits) - 1;
  std::vector<float> table(256 * perByte);
  for (unsigned byte = 0; byte < 256; ++byte)
    for (unsigned i = 0; i < perByte; ++i) {
      uint32_t field = (byte >> (i * bits)) & mask;
      table[byte * perByte + i] = static_cast<float>(
          symmetric ? signExtend(field, bits) : static_cast<int32_t>(field));
    }
  return table;
}

/// Codes [first, first + 8) of the view, sign-extended when symmetric.
void decode8(const RtnView &view, uint64_t first, int32_t *q) {
  const unsigned bits = view.bits;
  uint64_t bit = first * bits, byte = bit >> 3;
  if (byte + 8 <= view.codeBytes) {
    // 8 fields of <= 8 bits after a shift of <= 7 (0 when bits = 8) fit.
    uint64_t word = loadU64(view.codes + byte) >> (bit & 7);
    uint32_t mask = (1u << bits) - 1;
    for (unsigned l = 0; l < 8; ++l)
      q[l] = static_cast<int32_t>((word >> (l * bits)) & mask);
  } else {
    for (unsigned l = 0; l < 8; ++l)
      q[l] = static_cast<int32_t>(
          readField(view.codes, view.codeBytes, first + l, bits));
  }
  if (view.symmetric())
    for (unsigned l = 0; l < 8; ++l)
      q[l] = signExtend(static_cast<uint32_t>(q[l]), bits);
}

/// For widths dividing 8: the codes of every byte value as floats,
/// byteCodes(bits, symmetric)[byte * (8 / bits) + i] = code i of the byte.
const float *byteCodes(unsigned bits, bool symmetric) {
  static const std::vector<float> tables[4][2] = {
      {byteTable(1, false), byteTable(1, true)},
      {byteTable(2, false), byteTable(2, true)},
      {byteTable(4, false), byteTable(4, true)},
      {byteTable(8, false), byteTable(8, true)}};
  const unsigned index = bits == 1 ? 0 : bits == 2 ? 1 : bits == 4 ? 2 : 3;
  return tables[index][symmetric].data();
}

int32_t decode1(const RtnView &view, uint64_t index) {
  uint32_t field = readField(view.codes, view.codeBytes, index, view.bits);
  return view.symmetric() ? signExtend(field, view.bits)
                          : static_cast<int32_t>(field);
}

} // namespace

void checkRtnView(const RtnView &view) {
  if (view.bits < 1 || view.bits > 8)
    throw RuntimeError(ErrorCode::InvalidArgument,
                       "rtn: bits must be in [1, 8], got " +
                           std::to_string(view.bits));
  if (view.group < 1)
    throw RuntimeError(ErrorCode::InvalidArgument,
                       "rtn: group must be >= 1, got 0");
  if (view.cols && view.rows > (uint64_t{1} << 48) / view.cols)
    throw RuntimeError(ErrorCode::InvalidArgument,
                       "rtn: the shape " + std::to_string(view.rows) + "x" +
                           std::to_string(view.cols) + " is too large");
  uint64_t fields = uint64_t(view.rows) * view.cols;
  if (view.codeBytes != (fields * view.bits + 7) / 8)
    throw RuntimeError(ErrorCode::InvalidArgument,
                       "rtn: " + std::to_string(view.codeBytes) +
                           " code bytes do not hold " + std::to_string(fields) +
                           " codes of " + std::to_string(view.bits) + " bits");
}

void rtnDequantize(const RtnView &view, float *out) {
  const size_t groups = view.groups();
  for (size_t r = 0; r < view.rows; ++r) {
    for (size_t c = 0; c < view.cols; ++c) {
      size_t g = r * groups + c / view.group;
      float q = static_cast<float>(decode1(view, uint64_t(r) * view.cols + c));
      // As rtnDecode: the product and the sum round separately.
      float scaled = q * halfToFloat(view.scales[g]);
      out[r * view.cols + c] =
          view.symmetric() ? scaled : halfToFloat(view.zeros[g]) + scaled;
    }
  }
}

namespace detail {

void rtnRowsPortable(const RtnView &view, const float *x, size_t batch,
                     const float *xSums, float *y, size_t rowBegin,
                     size_t rowEnd) {
  const size_t cols = view.cols, groups = view.groups();
  // One group's codes as floats, decoded once for every batch item.
  std::vector<float> codes(std::min<size_t>(view.group, cols));
  std::vector<float> total(batch);
  int32_t q[8];
  const float *table =
      8 % view.bits == 0 ? byteCodes(view.bits, view.symmetric()) : nullptr;
  for (size_t r = rowBegin; r < rowEnd; ++r) {
    std::fill(total.begin(), total.end(), 0.0f);
    for (size_t g = 0; g < groups; ++g) {
      const size_t first = g * view.group;
      const size_t length = std::min<size_t>(view.group, cols - first);
      const uint64_t start = uint64_t(r) * cols + first;
      size_t c = 0;
      if (table && start * view.bits % 8 == 0) {
        // Whole bytes through the byte -> codes table.
        const unsigned perByte = 8 / view.bits;
        const uint8_t *p = view.codes + start * view.bits / 8;
        for (; c + perByte <= length; c += perByte, ++p)
          for (unsigned i = 0; i < perByte; ++i)
            codes[c + i] = table[*p * perByte + i];
      }
      for (; c + 8 <= length; c += 8) {
        decode8(view, start + c, q);
        for (unsigned l = 0; l < 8; ++l)
          codes[c + l] = static_cast<float>(q[l]);
      }
      for (; c < length; ++c)
        codes[c] = static_cast<float>(decode1(view, start + c));
      const size_t s = r * groups + g;
      const float scale = halfToFloat(view.scales[s]);
      const float zero = view.symmetric() ? 0.0f : halfToFloat(view.zeros[s]);
      for (size_t b = 0; b < batch; ++b) {
        total[b] += scale * dot(codes.data(), x + b * cols + first, length);
        if (!view.symmetric())
          total[b] += zero * xSums[b * groups + g];
      }
    }
    for (size_t b = 0; b < batch; ++b)
      y[b * view.rows + r] = total[b];
  }
}

} // namespace detail

void rtnMultiply(const RtnView &view, const float *x, size_t batch, float *y,
                 KernelPath path, unsigned threads) {
  checkRtnView(view);
  if (batch == 0 || view.rows == 0)
    return;
  const size_t cols = view.cols, groups = view.groups();
  // sum_c x_c per group, once per x: the zero points' share of every row.
  std::vector<float> xSums;
  if (!view.symmetric()) {
    xSums.assign(batch * groups, 0.0f);
    for (size_t b = 0; b < batch; ++b)
      for (size_t c = 0; c < cols; ++c)
        xSums[b * groups + c / view.group] += x[b * cols + c];
  }
  detail::RtnRowsFn rows =
      path == KernelPath::Avx2 ? detail::rtnRowsAvx2 : detail::rtnRowsPortable;
  // Each thread gets at least ~256K multiply-adds: thread start-up stays
  // small against the work, and small matrices stay on this thread.
  size_t minRows = std::max<size_t>(1, (size_t{1} << 18) /
                                           std::max<size_t>(1, cols * batch));
  quant::parallelFor(
      0, view.rows, threads,
      [&](size_t lo, size_t hi) {
        rows(view, x, batch, xSums.data(), y, lo, hi);
      },
      minRows);
}

} // namespace qet::runtime
