//===- QetToScf.cpp - qet fused ops to loops ------------------------------===//
//
// convert-qet-to-scf: qet.qmatmul becomes generated code that decodes inside
// the product (RtnMatmul.cpp: RTN; PqMatmul.cpp: PQ/OPQ lookup tables;
// VptqMatmul.cpp: VPTQ codebook sums).
// Schemes without such a kernel yet are decoded with qet.dequantize and
// multiplied by a linalg contraction, with a remark saying so, so every
// scheme still compiles.
//
//===----------------------------------------------------------------------===//

#include "qet/Conversion/QetToScf/QetToScf.h"

#include "QetToScfPatterns.h"

#include "qet/Dialect/Qet/IR/QetOps.h"

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

Value mlir::qet::castResult(OpBuilder &b, Location loc, Value y,
                            RankedTensorType resultType) {
  Type element = resultType.getElementType();
  if (element.isF32())
    return y;
  AffineMap id = b.getMultiDimIdentityMap(resultType.getRank());
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(), element);
  return linalg::GenericOp::create(
             b, loc, resultType, ValueRange{y}, ValueRange{init},
             SmallVector<AffineMap>{id, id},
             SmallVector<utils::IteratorType>(resultType.getRank(),
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nl,
                   ValueRange{
                       arith::TruncFOp::create(nb, nl, element, args[0])
                           .getResult()});
             })
      .getResult(0);
}

namespace {

/// y[b, n] = sum_k x[b, k] W[n, k] with W decoded by qet.dequantize.
struct DecodedQMatmul : OpRewritePattern<QMatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QMatmulOp op,
                                PatternRewriter &rewriter) const override {
    PackedType type = op.getWeight().getType();
    if (isa<RtnAttr, PqAttr, VqAttr>(type.getScheme()))
      return failure(); // RtnMatmul.cpp, PqMatmul.cpp, VptqMatmul.cpp
    Location loc = op.getLoc();
    op.emitRemark() << "convert-qet-to-scf: no fused kernel for "
                    << type.getScheme()
                    << " yet; the weight is decoded, then multiplied";
    Value w = DequantizeOp::create(rewriter, loc, type.getTensorType(),
                                   op.getWeight());
    RankedTensorType resultType = op.getType();
    Type f32 = rewriter.getF32Type();
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         f32);
    Value zero = arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getF32FloatAttr(0.0f));
    init = linalg::FillOp::create(rewriter, loc, zero, init).getResult(0);
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr b, n, k;
    bindDims(ctx, b, n, k);
    SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {b, k}, ctx),
                                   AffineMap::get(3, 0, {n, k}, ctx),
                                   AffineMap::get(3, 0, {b, n}, ctx)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction};
    Value y =
        linalg::GenericOp::create(
            rewriter, loc, init.getType(), ValueRange{op.getInput(), w},
            ValueRange{init}, maps, iterators,
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              auto widen = [&](Value v) -> Value {
                return v.getType().isF32()
                           ? v
                           : arith::ExtFOp::create(nb, nl, f32, v).getResult();
              };
              Value product = arith::MulFOp::create(nb, nl, widen(args[0]),
                                                    widen(args[1]));
              linalg::YieldOp::create(
                  nb, nl,
                  ValueRange{
                      arith::AddFOp::create(nb, nl, args[2], product)
                          .getResult()});
            })
            .getResult(0);
    rewriter.replaceOp(op, castResult(rewriter, loc, y, resultType));
    return success();
  }
};

struct ConvertQetToScfPass
    : qet::impl::ConvertQetToScfBase<ConvertQetToScfPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateRtnQMatmulToScfPatterns(patterns);
    populatePqQMatmulToScfPatterns(patterns);
    populateVptqQMatmulToScfPatterns(patterns);
    patterns.add<DecodedQMatmul>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
