//===- ElementwiseBuilders.h - Element-wise linalg.generic helpers -*- C++ -*-===//
//
// Element-wise maps over whole tensors, built as linalg.generic (arith ops
// on whole tensors do not bufferize). Shared by qet-decompose and the qet
// conversions.
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

} // namespace mlir::qet

#endif // QET_DIALECT_QET_UTILS_ELEMENTWISEBUILDERS_H
