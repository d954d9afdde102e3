//===- QjlAttention.cpp - QJL scores and attention as sign-select loops ---===//
//
// qet.qjl_score, qet.qmatmul of #qet.qjl keys (the estimated scores
// q K^T) and qet.qjl_attention as generated code (qjl.md §3, §4, §7, §8):
// the scores come from the sign-select loops of QjlScores.cpp, the keys'
// sign bits never decoded; qet.qjl_sketch is lowered in QjlSketch.cpp.
//
// qet.qjl_attention then takes logits = scale * score, a softmax with max
// subtraction (p_t = exp(l_t - max), times 1 / sum p) and o = sum_t p_t v_t
// over 8-column vectors of the values (QjlCache::attend's order).
//
//===----------------------------------------------------------------------===//

#include "QetToScfPatterns.h"
#include "QjlKernels.h"

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"
#include "qet/Quantizer/Qjl.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace mlir::qet;
using namespace mlir::qet::qjl;

namespace {

/// softmax(scale * scores) values per row (heads x dv, f32): max-subtracted
/// exponentials, times 1 / their sum, then o = sum_t p_t v_t over 8-column
/// vectors (a masked last vector when dv is not a multiple of 8).
Value attend(OpBuilder &b, Location loc, Value scores, Value values,
             float scaleValue) {
  Type f32Type = b.getF32Type();
  auto scoresType = cast<RankedTensorType>(scores.getType());
  int64_t heads = scoresType.getDimSize(0), tokens = scoresType.getDimSize(1);
  int64_t dv = cast<RankedTensorType>(values.getType()).getDimSize(1);
  LaneConstants k(b, loc);
  Value c0 = indexConstant(b, loc, 0), c1 = indexConstant(b, loc, 1);
  Value nTokens = indexConstant(b, loc, tokens);
  Value scale = f32Constant(b, loc, scaleValue);
  Value out = tensor::EmptyOp::create(b, loc, {heads, dv}, f32Type);
  Value weights = tensor::EmptyOp::create(b, loc, {tokens}, f32Type);
  auto rows = scf::ForOp::create(
      b, loc, c0, indexConstant(b, loc, heads), c1, ValueRange{out, weights},
      [&](OpBuilder &hb, Location hl, Value h, ValueRange iter) {
        auto logit = [&](OpBuilder &nb, Location nl, Value t) -> Value {
          Value s = tensor::ExtractOp::create(nb, nl, scores, ValueRange{h, t});
          return arith::MulFOp::create(nb, nl, s, scale);
        };
        Value max =
            scf::ForOp::create(
                hb, hl, c0, nTokens, c1,
                ValueRange{f32Constant(
                    hb, hl, -std::numeric_limits<float>::infinity())},
                [&](OpBuilder &nb, Location nl, Value t, ValueRange acc) {
                  scf::YieldOp::create(nb, nl,
                                       arith::MaximumFOp::create(
                                           nb, nl, acc[0], logit(nb, nl, t))
                                           .getResult());
                })
                .getResult(0);
        auto exps = scf::ForOp::create(
            hb, hl, c0, nTokens, c1,
            ValueRange{iter[1], f32Constant(hb, hl, 0.0f)},
            [&](OpBuilder &nb, Location nl, Value t, ValueRange acc) {
              Value e = math::ExpOp::create(
                  nb, nl, arith::SubFOp::create(nb, nl, logit(nb, nl, t), max));
              scf::YieldOp::create(
                  nb, nl,
                  ValueRange{
                      tensor::InsertOp::create(nb, nl, e, acc[0], t)
                          .getResult(),
                      arith::AddFOp::create(nb, nl, acc[1], e).getResult()});
            });
        Value inverse = arith::DivFOp::create(hb, hl, f32Constant(hb, hl, 1.0f),
                                              exps.getResult(1));
        Value p =
            scf::ForOp::create(
                hb, hl, c0, nTokens, c1, ValueRange{exps.getResult(0)},
                [&](OpBuilder &nb, Location nl, Value t, ValueRange acc) {
                  Value w = arith::MulFOp::create(
                      nb, nl, tensor::ExtractOp::create(nb, nl, acc[0], t),
                      inverse);
                  scf::YieldOp::create(
                      nb, nl,
                      tensor::InsertOp::create(nb, nl, w, acc[0], t)
                          .getResult());
                })
                .getResult(0);
        // o[h, c .. c + 8] = sum_t p_t v[t, c .. c + 8].
        auto columns = [&](OpBuilder &cb, Location cl, Value o, Value c,
                           bool inBounds) -> Value {
          Value sum =
              scf::ForOp::create(
                  cb, cl, c0, nTokens, c1, ValueRange{k.zeros},
                  [&](OpBuilder &nb, Location nl, Value t, ValueRange acc) {
                    Value w = vector::BroadcastOp::create(
                        nb, nl, laneType(nb),
                        tensor::ExtractOp::create(nb, nl, p, t));
                    Value v =
                        readLanes(nb, nl, values, ValueRange{t, c}, inBounds);
                    Value term = arith::MulFOp::create(nb, nl, w, v);
                    scf::YieldOp::create(
                        nb, nl,
                        arith::AddFOp::create(nb, nl, acc[0], term)
                            .getResult());
                  })
                  .getResult(0);
          return writeLanes(cb, cl, sum, o, ValueRange{h, c}, inBounds);
        };
        int64_t full = dv / kLanes * kLanes;
        Value o = iter[0];
        if (full > 0)
          o = scf::ForOp::create(
                  hb, hl, c0, indexConstant(hb, hl, full),
                  indexConstant(hb, hl, kLanes), ValueRange{o},
                  [&](OpBuilder &cb, Location cl, Value c, ValueRange acc) {
                    scf::YieldOp::create(
                        cb, cl, columns(cb, cl, acc[0], c, /*inBounds=*/true));
                  })
                  .getResult(0);
        if (dv > full)
          o = columns(hb, hl, o, indexConstant(hb, hl, full),
                      /*inBounds=*/false);
        scf::YieldOp::create(hb, hl, ValueRange{o, p});
      });
  return rows.getResult(0);
}

} // namespace

LogicalResult mlir::qet::qjl::checkShapes(PatternRewriter &rewriter,
                                          Operation *op) {
  auto dynamic = [](Type t) {
    auto ranked = dyn_cast<RankedTensorType>(t);
    return ranked && !ranked.hasStaticShape();
  };
  if (llvm::any_of(op->getOperandTypes(), dynamic) ||
      llvm::any_of(op->getResultTypes(), dynamic))
    return rewriter.notifyMatchFailure(op, "dynamic shapes");
  return success();
}

namespace {

struct QjlScoreLowering : OpRewritePattern<QjlScoreOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QjlScoreOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkShapes(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    auto signsType = op.getSigns().getType();
    SketchedKeys keys;
    keys.tokens = signsType.getDimSize(0);
    keys.sketch = signsType.getDimSize(1) * kLanes;
    keys.groupTokens = std::max<int64_t>(keys.tokens, 1);
    // sqrt(pi/2) / m = 1 / (m kappa) with the Gaussian kappa.
    keys.kappa = ::qet::quant::jlKappa(::qet::quant::JlKind::Gaussian,
                                       op.getJl().getType().getDimSize(1));
    keys.signs = op.getSigns();
    keys.norms = inputF32(rewriter, loc, op.getNorms());
    Value q = inputF32(rewriter, loc, op.getQueries());
    Value x = multiplyTransposed(rewriter, loc, q, op.getJl());
    Value scores = scoreMatrix(rewriter, loc, q, x, Value(), keys);
    rewriter.replaceOp(op, castResult(rewriter, loc, scores, op.getType()));
    return success();
  }
};

/// Scores q K^T of packed QJL keys, or the attention over them.
template <typename OpTy> struct PackedQjlLowering : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    Value packed = keysOf(op);
    auto scheme =
        dyn_cast<QjlAttr>(cast<PackedType>(packed.getType()).getScheme());
    if (!scheme)
      return failure();
    if (failed(checkShapes(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    int64_t dim = cast<PackedType>(packed.getType()).getCols();
    double kappa = 0;
    FailureOr<Value> st = jlMatrix(rewriter, op, scheme, dim, kappa);
    if (failed(st))
      return failure();
    SketchedKeys keys = packedKeys(rewriter, loc, packed, scheme, kappa);
    Value q = inputF32(rewriter, loc, queriesOf(op));
    Value x = sketchQueriesTransposed(rewriter, loc, q, *st);
    Value result = scoreMatrix(rewriter, loc, q, x, *st, keys);
    if constexpr (std::is_same_v<OpTy, QjlAttentionOp>)
      result = attend(rewriter, loc, result, op.getValues(),
                      op.getScale().convertToFloat());
    rewriter.replaceOp(op, castResult(rewriter, loc, result, op.getType()));
    return success();
  }

  static Value keysOf(QMatmulOp op) { return op.getWeight(); }
  static Value keysOf(QjlAttentionOp op) { return op.getKeys(); }
  static Value queriesOf(QMatmulOp op) { return op.getInput(); }
  static Value queriesOf(QjlAttentionOp op) { return op.getQueries(); }
};

} // namespace

void mlir::qet::populateQjlToScfPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<QjlScoreLowering, PackedQjlLowering<QjlAttentionOp>>(ctx);
  populateQjlSketchToScfPatterns(patterns);
  // Ahead of the decode-then-multiply fallback for qet.qmatmul.
  patterns.add<PackedQjlLowering<QMatmulOp>>(ctx, /*benefit=*/2);
}
