//===- QetToLinalg.h - qet grouped ops to linalg ----------------*- C++ -*-===//
#ifndef QET_CONVERSION_QETTOLINALG_QETTOLINALG_H
#define QET_CONVERSION_QETTOLINALG_QETTOLINALG_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;

namespace qet {

#define GEN_PASS_DECL_CONVERTQETTOLINALG
#include "qet/Conversion/Passes.h.inc"

/// Patterns lowering qet.group_encode / qet.group_decode to linalg.generic.
void populateQetToLinalgPatterns(RewritePatternSet &patterns);

/// Patterns lowering qet.bit_unpack, qet.vq_decode, qet.unswap_tree and
/// qet.residual_sum to linalg.generic.
void populateQetDecodePrimitivesToLinalgPatterns(RewritePatternSet &patterns);

} // namespace qet
} // namespace mlir

#endif // QET_CONVERSION_QETTOLINALG_QETTOLINALG_H
