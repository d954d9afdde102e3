//===- QetToScf.cpp - qet fused ops to loops ------------------------------===//
//
// convert-qet-to-scf: qet.qmatmul becomes generated code that decodes inside
// the product (RtnMatmul.cpp, RtnIntegerProduct.cpp: RTN; PqMatmul.cpp:
// PQ/OPQ/LOPQ lookup tables; VptqMatmul.cpp: VPTQ codebook-vector sums;
// QetMatmul.cpp: HERA/QET rows decoded and unswapped one at a time, then
// dotted with every input; QjlScores/QjlAttention/QjlSketch.cpp: QJL).
// A product that no fused kernel takes (QJL keys whose JL matrix is too
// large to embed) is decoded with qet.dequantize and multiplied by a linalg
// contraction, with a remark saying so.
//
//===----------------------------------------------------------------------===//

#include "qet/Conversion/QetToScf/QetToScf.h"

#include "QetToScfPatterns.h"

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qet {
#define GEN_PASS_DEF_CONVERTQETTOSCF
#include "qet/Conversion/Passes.h.inc"
} // namespace mlir::qet

using namespace mlir;
using namespace mlir::qet;

namespace {

/// y[b, n] = sum_k x[b, k] W[n, k] with W decoded by qet.dequantize. Added
/// with the lowest benefit: it runs only where every fused kernel declined.
struct DecodedQMatmul : OpRewritePattern<QMatmulOp> {
  DecodedQMatmul(MLIRContext *context)
      : OpRewritePattern(context, /*benefit=*/0) {}

  LogicalResult matchAndRewrite(QMatmulOp op,
                                PatternRewriter &rewriter) const override {
    PackedType type = op.getWeight().getType();
    if (!op.getInput().getType().hasStaticShape() ||
        !op.getType().hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Location loc = op.getLoc();
    op.emitRemark() << "convert-qet-to-scf: no fused kernel takes this "
                    << type.getScheme()
                    << " product; the weight is decoded, then multiplied";
    Value w = DequantizeOp::create(rewriter, loc, type.getTensorType(),
                                   op.getWeight());
    Value y = multiplyTransposed(rewriter, loc,
                                 inputF32(rewriter, loc, op.getInput()), w);
    RankedTensorType resultType = op.getType();
    rewriter.replaceOp(op, castResult(rewriter, loc, y, resultType));
    return success();
  }
};

struct ConvertQetToScfPass
    : qet::impl::ConvertQetToScfBase<ConvertQetToScfPass> {
  using ConvertQetToScfBase::ConvertQetToScfBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateRtnQMatmulToScfPatterns(patterns, activations);
    populatePqQMatmulToScfPatterns(patterns);
    populateVptqQMatmulToScfPatterns(patterns);
    populateQetQMatmulToScfPatterns(patterns);
    populateQjlToScfPatterns(patterns);
    patterns.add<DecodedQMatmul>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
