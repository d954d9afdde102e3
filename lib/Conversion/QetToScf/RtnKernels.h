//===- RtnKernels.h - Pieces of the RTN qmatmul lowering --------*- C++ -*-===//
//
// Shared by the f32 kernel (RtnMatmul.cpp) and the integer-input kernel
// (RtnIntegerProduct.cpp) for 4-bit codes.
//
//===----------------------------------------------------------------------===//
#ifndef QET_LIB_CONVERSION_QETTOSCF_RTNKERNELS_H
#define QET_LIB_CONVERSION_QETTOSCF_RTNKERNELS_H

#include "qet/Conversion/QetToScf/QetToScf.h"
#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::qet {

/// The RTN weight's storage bytes: codes, and per-group fp16 scales and
/// zero points (null when symmetric).
struct RtnStorage {
  Value codes, scales, zeros;
  int64_t codeBytes = 0;
};

RtnStorage readRtnStorage(OpBuilder &b, Location loc, Value packed);

/// The fp16 at element `at` of little-endian fp16 `bytes`, as f32.
Value halfAt(OpBuilder &b, Location loc, Value bytes, Value at);

/// r[i, g] = reduce_j fn(r, x[i, g * group + j], extra[0][i, g], ...) over
/// the groups of x (M x K, K a multiple of `group`), r starting at 0;
/// `extra` are M x (K / group) tensors.
Value groupReduce(OpBuilder &b, Location loc, Value x, int64_t group,
                  ValueRange extra,
                  function_ref<Value(OpBuilder &, Location, Value acc, Value x,
                                     ValueRange extra)>
                      fn);

/// Group sums X[b, g] of x (M x K, K a multiple of `group`).
Value groupSums(OpBuilder &b, Location loc, Value x, int64_t group);

/// What one group of one weight row adds to one output:
/// scale * sum(lanes) + offset (offset may be null).
struct GroupTerm {
  Value lanes; // vector<8xf32>
  Value scale; // f32
  Value offset;
};

/// One group g of weight row `row` against batch item `item`: where its
/// codes are (4-bit codes: byte rowByte + base + j holds elements
/// 2 (base + j) and 2 (base + j) + 1 of the row) and which metadata element
/// (row * G + g) holds its scale and zero point.
struct GroupPosition {
  Value item, g;
  Value rowByte, base, meta;
};

/// The loop nest of the 4-bit kernels over an N x K weight with groups of
/// `group`: y[item, row] = sum over groups g of term(position), the lanes
/// scaled into one running vector that is reduced once per output.
Value groupLoops(
    OpBuilder &b, Location loc, int64_t batch, int64_t rows, int64_t k,
    int64_t group,
    function_ref<GroupTerm(OpBuilder &, Location, const GroupPosition &)> term);

/// Whether the integer-input kernel takes this 4-bit weight.
bool integerInputApplies(RtnAttr rtn, int64_t k,
                         ActivationPrecision activations);

/// y = x W^T with x quantized per group to 8 or 16 bits (convert-qet-to-scf's
/// `activations` option): integer multiply-adds per group, scaled in f32.
Value integerInputProduct(OpBuilder &b, Location loc, Value x, Value packed,
                          const RtnStorage &storage,
                          ActivationPrecision activations);

} // namespace mlir::qet

#endif // QET_LIB_CONVERSION_QETTOSCF_RTNKERNELS_H
