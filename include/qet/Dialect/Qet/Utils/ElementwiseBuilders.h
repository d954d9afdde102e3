//===- ElementwiseBuilders.h - Element-wise linalg.generic helpers -*- C++ -*-===//
//
// Element-wise maps, index-generated tensors and the x W^T contraction over
// whole tensors, built as linalg.generic (arith ops on whole tensors do not
// bufferize). Shared by qet-decompose and the qet conversions.
//
//===----------------------------------------------------------------------===//
#ifndef QET_DIALECT_QET_UTILS_ELEMENTWISEBUILDERS_H
#define QET_DIALECT_QET_UTILS_ELEMENTWISEBUILDERS_H

#include "mlir/IR/Builders.h"

namespace mlir::qet {

/// `fn` applied to every element of `input`, giving a tensor of `element`.
Value mapElements(OpBuilder &b, Location loc, Value input, Type element,
                  function_ref<Value(OpBuilder &, Location, Value)> fn);

/// Floats `x` with `element` elements (extf or truncf; `x` when equal).
Value convertFloats(OpBuilder &b, Location loc, Value x, Type element);

/// A tensor of `type` whose element at indices `idx` is fn(idx).
Value generate(OpBuilder &b, Location loc, RankedTensorType type,
               function_ref<Value(OpBuilder &, Location, ValueRange)> fn);

/// y[i, j] = sum_k x[i, k] w[j, k] in f32 (x f32; w f32, f16 or bf16,
/// widened per term), k summed in order.
Value multiplyTransposed(OpBuilder &b, Location loc, Value x, Value w);

} // namespace mlir::qet

#endif // QET_DIALECT_QET_UTILS_ELEMENTWISEBUILDERS_H
