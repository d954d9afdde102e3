//===- QetToLinalg.h - qet grouped ops to linalg ----------------*- C++ -*-===//
#ifndef QET_CONVERSION_QETTOLINALG_QETTOLINALG_H
#define QET_CONVERSION_QETTOLINALG_QETTOLINALG_H

#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;

namespace qet {

#define GEN_PASS_DECL_CONVERTQETTOLINALG
#include "qet/Conversion/Passes.h.inc"

/// Patterns lowering qet.group_encode / qet.group_decode to linalg.generic.
void populateQetToLinalgPatterns(RewritePatternSet &patterns);

/// The `bits`-wide field (LSB-first, docs/format.md) starting at bit index
/// `bit` of the i8 tensor `bytes` (of row `row` when `bytes` is 2-D, else
/// pass a null `row`), as `resultType`, zero- or sign-extended. Byte reads
/// are clamped to `lastByte`, so no field reads outside `bytes`.
Value extractBitField(OpBuilder &b, Location loc, Value bytes, Value row,
                      Value bit, int64_t bits, int64_t lastByte,
                      IntegerType resultType, bool signExtend);

/// Patterns lowering qet.bit_unpack, qet.vq_decode, qet.unswap_tree and
/// qet.residual_sum to linalg.generic.
void populateQetDecodePrimitivesToLinalgPatterns(RewritePatternSet &patterns);

} // namespace qet
} // namespace mlir

#endif // QET_CONVERSION_QETTOLINALG_QETTOLINALG_H
