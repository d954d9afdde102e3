//===- QetToScfPatterns.h - Patterns of convert-qet-to-scf ------*- C++ -*-===//
#ifndef QET_LIB_CONVERSION_QETTOSCF_QETTOSCFPATTERNS_H
#define QET_LIB_CONVERSION_QETTOSCF_QETTOSCFPATTERNS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qet {

/// qet.qmatmul of RTN weights: vector loops (4-bit codes) or a fused
/// contraction (any other width).
void populateRtnQMatmulToScfPatterns(RewritePatternSet &patterns);

/// The f32 product `y` as `resultType` (element-wise truncation if needed).
Value castResult(OpBuilder &b, Location loc, Value y,
                 RankedTensorType resultType);

} // namespace mlir::qet

#endif // QET_LIB_CONVERSION_QETTOSCF_QETTOSCFPATTERNS_H
