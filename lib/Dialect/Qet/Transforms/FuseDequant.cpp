//===- FuseDequant.cpp - qet.dequantize into its matrix products ----------===//
//
// qet-fuse-dequant: a product whose weight operand is a decoded packed matrix
// (as qet-quantize-weights writes it) becomes qet.qmatmul, which decodes
// inside the product instead of materializing the dense weight:
//   linalg.matmul(x, transpose(dequantize(p)))   x: M x K, p: N x K
//   linalg.matmul(x, dequantize(p)) with B indexed (n, k)
//   linalg.matvec(dequantize(p), x)
// A zero-filled accumulator is dropped; any other is added to the product.
//
//===----------------------------------------------------------------------===//

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qet {
#define GEN_PASS_DEF_QETFUSEDEQUANT
#include "qet/Dialect/Qet/Transforms/Passes.h.inc"
} // namespace mlir::qet

using namespace mlir;
using namespace mlir::qet;

namespace {

/// The packed matrix `weight` decodes, when it is a plain dequantize.
Value packedSource(Value weight) {
  auto dequantize = weight.getDefiningOp<DequantizeOp>();
  return dequantize ? dequantize.getPacked() : Value();
}

/// The packed N x K matrix behind a K x N operand `transpose(dequantize(p))`.
Value transposedPackedSource(Value weight) {
  auto transpose = weight.getDefiningOp<linalg::TransposeOp>();
  if (!transpose || transpose.getPermutation() != ArrayRef<int64_t>{1, 0})
    return {};
  return packedSource(transpose.getInput());
}

bool isZeroFill(Value acc) {
  auto fill = acc.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
}

/// acc + product, unless acc is all zeros (element-wise generic otherwise).
Value accumulate(PatternRewriter &b, Location loc, Value product, Value acc) {
  if (isZeroFill(acc))
    return product;
  auto type = cast<RankedTensorType>(acc.getType());
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  return linalg::GenericOp::create(
             b, loc, type, ValueRange{product}, ValueRange{acc},
             SmallVector<AffineMap>{id, id},
             SmallVector<utils::IteratorType>(type.getRank(),
                                              utils::IteratorType::parallel),
             [](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nl,
                   ValueRange{arith::AddFOp::create(nb, nl, args[1], args[0])
                                  .getResult()});
             })
      .getResult(0);
}

struct FuseMatmul : OpRewritePattern<linalg::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    MLIRContext *ctx = op.getContext();
    AffineExpr m, n, k;
    bindDims(ctx, m, n, k);
    auto map = [&](AffineExpr a, AffineExpr b) {
      return AffineMap::get(3, 0, {a, b}, ctx);
    };
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    if (maps[0] != map(m, k) || maps[2] != map(m, n))
      return rewriter.notifyMatchFailure(op, "activations are not M x K");
    Value weight = op.getInputs()[1];
    Value packed;
    if (maps[1] == map(k, n))
      packed = transposedPackedSource(weight);
    else if (maps[1] == map(n, k))
      packed = packedSource(weight);
    if (!packed)
      return rewriter.notifyMatchFailure(op, "weight is not a decoded matrix");
    Value acc = op.getOutputs()[0];
    Value product = QMatmulOp::create(rewriter, op.getLoc(), acc.getType(),
                                      op.getInputs()[0], packed);
    rewriter.replaceOp(op, accumulate(rewriter, op.getLoc(), product, acc));
    return success();
  }
};

struct FuseMatvec : OpRewritePattern<linalg::MatvecOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::MatvecOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    Value packed = packedSource(op.getInputs()[0]);
    if (!packed)
      return rewriter.notifyMatchFailure(op, "matrix is not a decoded matrix");
    Location loc = op.getLoc();
    Value x = op.getInputs()[1], acc = op.getOutputs()[0];
    auto xType = cast<RankedTensorType>(x.getType());
    auto accType = cast<RankedTensorType>(acc.getType());
    SmallVector<ReassociationIndices> rows = {{0, 1}};
    Value row = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({1, xType.getDimSize(0)}, xType.getElementType()),
        x, rows);
    auto productType = RankedTensorType::get({1, accType.getDimSize(0)},
                                             accType.getElementType());
    Value product = QMatmulOp::create(rewriter, loc, productType, row, packed);
    product = tensor::CollapseShapeOp::create(rewriter, loc, accType, product,
                                              rows);
    rewriter.replaceOp(op, accumulate(rewriter, loc, product, acc));
    return success();
  }
};

struct FuseDequantPass
    : public mlir::qet::impl::QetFuseDequantBase<FuseDequantPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseMatmul, FuseMatvec>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
