//===- QjlSketch.cpp - qet.qjl_sketch as generated code -------------------===//
//
// qet.qjl_sketch (qjl.md §3): z = S k (f32), bit j = z_j > 0 packed LSB
// first, norm = fp16(f32Constant(sqrt(sum k_c^2))) with the sum and root in f64
// (qjlAppendKeys).
//
//===----------------------------------------------------------------------===//

#include "QetToScfPatterns.h"
#include "QjlKernels.h"

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qet;
using namespace mlir::qet::qjl;

namespace {

struct QjlSketchLowering : OpRewritePattern<QjlSketchOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QjlSketchOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkShapes(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value keys = inputF32(rewriter, loc, op.getKeys());
    auto keysType = cast<RankedTensorType>(keys.getType());
    int64_t tokens = keysType.getDimSize(0);
    // z = S k (f32, channels ascending); bit j = z_j > 0, LSB first.
    Value z = multiplyTransposed(rewriter, loc, keys, op.getJl());
    Value signs = generate(
        rewriter, loc, op.getSigns().getType(),
        [&](OpBuilder &nb, Location nl, ValueRange idx) -> Value {
          Type i8 = nb.getI8Type();
          Value byte = arith::ConstantIntOp::create(nb, nl, i8, 0);
          Value base = arith::MulIOp::create(nb, nl, idx[1],
                                             indexConstant(nb, nl, kLanes));
          for (int64_t l = 0; l < kLanes; ++l) {
            Value j =
                arith::AddIOp::create(nb, nl, base, indexConstant(nb, nl, l));
            Value zj =
                tensor::ExtractOp::create(nb, nl, z, ValueRange{idx[0], j});
            Value positive =
                arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, zj,
                                      f32Constant(nb, nl, 0.0f));
            Value bit = arith::ShLIOp::create(
                nb, nl, arith::ExtUIOp::create(nb, nl, i8, positive),
                arith::ConstantIntOp::create(nb, nl, i8, l));
            byte = arith::OrIOp::create(nb, nl, byte, bit);
          }
          return byte;
        });
    // ||k||^2 in f64 (exact products of f32 values), root in f64, then f32
    // and fp16 as the library rounds.
    Type f64 = rewriter.getF64Type();
    Value zero =
        arith::ConstantOp::create(rewriter, loc, rewriter.getF64FloatAttr(0.0));
    Value init =
        linalg::FillOp::create(
            rewriter, loc, zero,
            tensor::EmptyOp::create(rewriter, loc, {tokens}, f64).getResult())
            .getResult(0);
    AffineExpr t, c;
    bindDims(ctx, t, c);
    Value squares =
        linalg::GenericOp::create(
            rewriter, loc, init.getType(), ValueRange{keys}, ValueRange{init},
            SmallVector<AffineMap>{AffineMap::get(2, 0, {t, c}, ctx),
                                   AffineMap::get(2, 0, {t}, ctx)},
            SmallVector<utils::IteratorType>{utils::IteratorType::parallel,
                                             utils::IteratorType::reduction},
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value kc = arith::ExtFOp::create(nb, nl, f64, args[0]);
              Value sq = arith::MulFOp::create(nb, nl, kc, kc);
              linalg::YieldOp::create(
                  nb, nl,
                  ValueRange{
                      arith::AddFOp::create(nb, nl, args[1], sq).getResult()});
            })
            .getResult(0);
    Value norms = mapElements(
        rewriter, loc, squares, rewriter.getF16Type(),
        [](OpBuilder &nb, Location nl, Value v) -> Value {
          Value root = math::SqrtOp::create(nb, nl, v);
          Value single = arith::TruncFOp::create(nb, nl, nb.getF32Type(), root);
          return arith::TruncFOp::create(nb, nl, nb.getF16Type(), single);
        });
    rewriter.replaceOp(op, ValueRange{signs, norms});
    return success();
  }
};

} // namespace

void mlir::qet::qjl::populateQjlSketchToScfPatterns(
    RewritePatternSet &patterns) {
  patterns.add<QjlSketchLowering>(patterns.getContext());
}
