//===- RtnKernel.h - Group-wise RTN: decode and fused products -*- C++ -*-===//
//
// Storage of the `rtn` / `rtn-sym` schemes (lib/Quantizer/Rtn.cpp): rows *
// cols codes of `bits` bits, LSB first, row after row without padding;
// per row ceil(cols / group) fp16 scales and, asymmetric only, fp16 zero
// points. w = zero + code * scale, or code * scale with two's-complement
// codes.
//
// The products never form w: per row and group they accumulate
// sum_c code_c x_c, then add scale * that + zero * sum_c x_c, where the
// group sums of x are computed once per x. The AVX2+FMA rows
// (RtnKernelAvx2.cpp) decode 8 codes per vector for any width 1..8 and bit
// offset; the portable rows decode a group into floats (whole bytes through
// a byte -> codes table for widths 1, 2, 4, 8) and take 8-lane dot products.
// Each batch item's result is the same as its own matvec, and no result
// depends on the thread count.
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_LIB_RTNKERNEL_H
#define QET_RUNTIME_LIB_RTNKERNEL_H

#include "qet/runtime/KernelConfig.h"

#include <cstddef>
#include <cstdint>

namespace qet::runtime {

struct RtnView {
  const uint8_t *codes = nullptr;
  uint64_t codeBytes = 0; // ceil(rows * cols * bits / 8)
  const uint16_t *scales = nullptr;
  const uint16_t *zeros = nullptr; // null: symmetric
  size_t rows = 0, cols = 0;
  unsigned bits = 0, group = 0;

  size_t groups() const { return (cols + group - 1) / group; }
  bool symmetric() const { return zeros == nullptr; }
};

/// RuntimeError(InvalidArgument) unless 1 <= bits <= 8, group >= 1 and
/// codeBytes matches the shape.
void checkRtnView(const RtnView &view);

/// out[rows * cols] = w, as rtnDecode computes it (bit for bit).
void rtnDequantize(const RtnView &view, float *out);

/// Y[b, :] = W X[b, :] for b < batch (X batch x cols, Y batch x rows).
void rtnMultiply(const RtnView &view, const float *x, size_t batch, float *y,
                 KernelPath path, unsigned threads);

namespace detail {
/// Rows [rowBegin, rowEnd) of Y; xSums[b * groups + g] = sum of X[b] over
/// group g (asymmetric views only). The AVX2 version needs cpuHasAvx2().
using RtnRowsFn = void (*)(const RtnView &view, const float *x, size_t batch,
                           const float *xSums, float *y, size_t rowBegin,
                           size_t rowEnd);
void rtnRowsPortable(const RtnView &view, const float *x, size_t batch,
                     const float *xSums, float *y, size_t rowBegin,
                     size_t rowEnd);
void rtnRowsAvx2(const RtnView &view, const float *x, size_t batch,
                 const float *xSums, float *y, size_t rowBegin, size_t rowEnd);
} // namespace detail

} // namespace qet::runtime

#endif // QET_RUNTIME_LIB_RTNKERNEL_H
