//===- QetToScfPatterns.h - Patterns of convert-qet-to-scf ------*- C++ -*-===//
#ifndef QET_LIB_CONVERSION_QETTOSCF_QETTOSCFPATTERNS_H
#define QET_LIB_CONVERSION_QETTOSCF_QETTOSCFPATTERNS_H

#include "qet/Conversion/QetToScf/QetToScf.h"
#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qet {

/// qet.qmatmul of RTN weights: vector loops (4-bit codes) or a fused
/// contraction (any other width); `activations` picks the 4-bit kernel's
/// input precision.
void populateRtnQMatmulToScfPatterns(RewritePatternSet &patterns,
                                     ActivationPrecision activations);

/// qet.qmatmul of PQ/OPQ/LOPQ weights: per-input lookup tables of codeword
/// dot products, summed over each row's codes (LOPQ: per cluster).
void populatePqQMatmulToScfPatterns(RewritePatternSet &patterns);

/// qet.qmatmul of VPTQ weights: codebook entries accumulated against the
/// permuted (and scaled) input, indices read from their bit streams.
void populateVptqQMatmulToScfPatterns(RewritePatternSet &patterns);

/// qet.qmatmul of HERA/QET weights: each row decoded once (codewords, the
/// row's swap tree undone layer by layer) and dotted with every input.
void populateQetQMatmulToScfPatterns(RewritePatternSet &patterns);

/// qet.qjl_score, qet.qjl_attention, qet.qjl_sketch and qet.qmatmul of QJL
/// keys: sign-select loops over the packed sign bits (QjlScores.cpp,
/// QjlAttention.cpp, QjlSketch.cpp).
void populateQjlToScfPatterns(RewritePatternSet &patterns);

/// An index constant and an f32 constant, as every kernel here builds them.
Value indexConstant(OpBuilder &b, Location loc, int64_t v);
Value f32Constant(OpBuilder &b, Location loc, float v);

/// A linalg.generic with a zero-filled f32 result of `shape`; `body` gets
/// the block arguments and the iteration indices and returns the new value
/// of the output element.
Value contraction(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
    ArrayRef<AffineMap> maps, ValueRange inputs,
    ArrayRef<utils::IteratorType> iterators,
    function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body);

/// `x` as f32 (convertFloats).
Value inputF32(OpBuilder &b, Location loc, Value x);

/// Float component `component` of `packed`, stored as `stored` (null: the
/// packed element type), as an f32 tensor of `shape`.
Value packedFloats(OpBuilder &b, Location loc, Value packed,
                   StringRef component, ArrayRef<int64_t> shape,
                   Type stored = {});

/// Component `component` of `packed`'s layout (its fields' width and count);
/// the component must be in the scheme's layout.
StorageComponent packedComponent(Value packed, StringRef component);

/// The bytes of component `component` of `packed` (qet.storage).
Value packedBytes(OpBuilder &b, Location loc, Value packed,
                  StringRef component);

/// The f32 product `y` as `resultType` (element-wise truncation if needed).
Value castResult(OpBuilder &b, Location loc, Value y,
                 RankedTensorType resultType);

/// A fused lowering of qet.qmatmul for weights packed with `Scheme`, on
/// static shapes: build() returns the f32 product of the f32 input.
template <typename Scheme>
struct QMatmulLowering : OpRewritePattern<QMatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QMatmulOp op,
                                PatternRewriter &rewriter) const final {
    auto scheme = dyn_cast<Scheme>(op.getWeight().getType().getScheme());
    if (!scheme)
      return failure();
    if (!op.getInput().getType().hasStaticShape() ||
        !op.getType().hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Location loc = op.getLoc();
    Value y =
        build(rewriter, op, scheme, inputF32(rewriter, loc, op.getInput()));
    rewriter.replaceOp(op, castResult(rewriter, loc, y, op.getType()));
    return success();
  }

  virtual Value build(PatternRewriter &rewriter, QMatmulOp op, Scheme scheme,
                      Value x) const = 0;
};

} // namespace mlir::qet

#endif // QET_LIB_CONVERSION_QETTOSCF_QETTOSCFPATTERNS_H
