//===- FuseDequant.cpp - qet.dequantize into its matrix products ----------===//
//
// qet-fuse-dequant: a product whose weight operand is a decoded packed matrix
// (as qet-quantize-weights writes it) becomes qet.qmatmul, which decodes
// inside the product instead of materializing the dense weight:
//   linalg.matmul(x, transpose(dequantize(p)))   x: M x K, p: N x K
//   linalg.matmul(x, dequantize(p)) with B indexed (n, k)
//   linalg.matvec(dequantize(p), x)
//   linalg.batch_matmul(x, W) with W one decoded matrix for every batch
//     element: a 2-D (k, n) / (n, k) operand broadcast by the indexing map,
//     linalg.broadcast of it, or (batch 1) its tensor.expand_shape, as such
//     or under the [0, 2, 1] transpose; x is collapsed to (B M) x K and the
//     product expanded back. Per-batch weights (qet-quantize-weights stacks
//     B slabs of a (B N) x K matrix) stay decoded: qet.qmatmul multiplies by
//     a whole packed matrix.
// A zero-filled accumulator is dropped; any other is added to the product.
//
// Attention over QJL keys: the score q K^T of a packed #qet.qjl key matrix
// (qet.qmatmul of the keys, or the linalg.matmul of their qet.dequantize
// that becomes it: the decoded keys are the estimator's implied keys, so
// this product is the estimator), optionally scaled by a constant
// (linalg.generic: in * c), then linalg.softmax over the tokens and a
// linalg.matmul with the values, becomes qet.qjl_attention. Every
// intermediate must have that one use (else it is needed anyway and the
// chain stays).
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

#include <optional>

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

/// The packed N x K matrix a linalg.matmul multiplies its M x K input by:
/// transpose(dequantize(p)) indexed (k, n), or dequantize(p) indexed (n, k);
/// null for any other product.
Value matmulPackedWeight(linalg::MatmulOp op) {
  MLIRContext *ctx = op.getContext();
  AffineExpr m, n, k;
  bindDims(ctx, m, n, k);
  auto map = [&](AffineExpr a, AffineExpr b) {
    return AffineMap::get(3, 0, {a, b}, ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps[0] != map(m, k) || maps[2] != map(m, n))
    return {};
  Value weight = op.getInputs()[1];
  if (maps[1] == map(k, n))
    return transposedPackedSource(weight);
  if (maps[1] == map(n, k))
    return packedSource(weight);
  return {};
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
    Value packed = matmulPackedWeight(op);
    if (!packed)
      return rewriter.notifyMatchFailure(
          op, "not an M x K input times a decoded weight");
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
    product =
        tensor::CollapseShapeOp::create(rewriter, loc, accType, product, rows);
    rewriter.replaceOp(op, accumulate(rewriter, loc, product, acc));
    return success();
  }
};

/// The packed matrix behind a batch_matmul weight operand that holds the same
/// decoded matrix for every batch element, indexed (k, n) when `transposed`,
/// else (n, k):
///   2-D operand (broadcast by the indexing map): the matmul forms above;
///   linalg.broadcast of such a matrix along dimension 0;
///   tensor.expand_shape of it to a batch of one;
///   for (k, n): linalg.transpose [0, 2, 1] of one of the (n, k) forms.
Value batchPackedSource(Value weight, bool transposed) {
  auto type = cast<RankedTensorType>(weight.getType());
  if (type.getRank() == 2)
    return transposed ? transposedPackedSource(weight) : packedSource(weight);
  if (auto broadcast = weight.getDefiningOp<linalg::BroadcastOp>()) {
    if (broadcast.getDimensions() != ArrayRef<int64_t>{0})
      return {};
    return batchPackedSource(broadcast.getInput(), transposed);
  }
  if (auto expand = weight.getDefiningOp<tensor::ExpandShapeOp>()) {
    SmallVector<ReassociationIndices> groups = expand.getReassociationIndices();
    bool batchOfOne = type.getDimSize(0) == 1 && groups.size() == 2 &&
                      groups[0] == ReassociationIndices{0, 1} &&
                      groups[1] == ReassociationIndices{2};
    if (!batchOfOne)
      return {};
    return batchPackedSource(expand.getSrc(), transposed);
  }
  if (auto transpose = weight.getDefiningOp<linalg::TransposeOp>()) {
    if (!transposed || transpose.getPermutation() != ArrayRef<int64_t>{0, 2, 1})
      return {};
    return batchPackedSource(transpose.getInput(), /*transposed=*/false);
  }
  return {};
}

struct FuseBatchMatmul : OpRewritePattern<linalg::BatchMatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::BatchMatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    MLIRContext *ctx = op.getContext();
    AffineExpr b, m, n, k;
    bindDims(ctx, b, m, n, k);
    auto map = [&](ArrayRef<AffineExpr> results) {
      return AffineMap::get(4, 0, results, ctx);
    };
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    if (maps[0] != map({b, m, k}) || maps[2] != map({b, m, n}))
      return rewriter.notifyMatchFailure(op, "activations are not B x M x K");
    bool transposed;
    if (maps[1] == map({b, k, n}) || maps[1] == map({k, n}))
      transposed = true;
    else if (maps[1] == map({b, n, k}) || maps[1] == map({n, k}))
      transposed = false;
    else
      return rewriter.notifyMatchFailure(op, "weight indexing is not (k, n) "
                                             "or (n, k), batched or not");
    Value packed = batchPackedSource(op.getInputs()[1], transposed);
    if (!packed)
      return rewriter.notifyMatchFailure(
          op, "weight is not one decoded matrix shared by the batch");
    Value x = op.getInputs()[0], acc = op.getOutputs()[0];
    auto xType = cast<RankedTensorType>(x.getType());
    auto accType = cast<RankedTensorType>(acc.getType());
    if (!xType.hasStaticShape() || !accType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    Location loc = op.getLoc();
    int64_t batch = xType.getDimSize(0), rows = xType.getDimSize(1);
    SmallVector<ReassociationIndices> flat = {{0, 1}, {2}};
    Value rowsOfX = tensor::CollapseShapeOp::create(rewriter, loc, x, flat);
    auto productType = RankedTensorType::get(
        {batch * rows, accType.getDimSize(2)}, accType.getElementType());
    Value product =
        QMatmulOp::create(rewriter, loc, productType, rowsOfX, packed);
    product =
        tensor::ExpandShapeOp::create(rewriter, loc, accType, product, flat);
    rewriter.replaceOp(op, accumulate(rewriter, loc, product, acc));
    return success();
  }
};

/// The queries and packed #qet.qjl keys of a score matrix q K^T (heads x
/// tokens) computed from the packed keys with nothing added:
///   qet.qmatmul %q, %keys
///   linalg.matmul(%q, transpose(qet.dequantize %keys)) or with the decoded
///   keys indexed (n, k), into a zero-filled accumulator.
struct QjlScore {
  Value queries, keys;
};

FailureOr<QjlScore> matchQjlScore(Value score) {
  auto isQjl = [](Value packed) {
    return packed &&
           isa<QjlAttr>(cast<PackedType>(packed.getType()).getScheme());
  };
  if (auto product = score.getDefiningOp<QMatmulOp>()) {
    if (!isQjl(product.getWeight()))
      return failure();
    return QjlScore{product.getInput(), product.getWeight()};
  }
  auto matmul = score.getDefiningOp<linalg::MatmulOp>();
  if (!matmul || !matmul.hasPureTensorSemantics() ||
      !isZeroFill(matmul.getOutputs()[0]))
    return failure();
  Value keys = matmulPackedWeight(matmul);
  if (!isQjl(keys))
    return failure();
  return QjlScore{matmul.getInputs()[0], keys};
}

/// The constant c of an element-wise linalg.generic computing in * c (or
/// c * in) for an f32 constant c.
std::optional<float> matchScale(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 1 ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  if (!llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }) ||
      !llvm::all_of(op.getIteratorTypesArray(), [](utils::IteratorType it) {
        return it == utils::IteratorType::parallel;
      }))
    return std::nullopt;
  Block &body = op.getRegion().front();
  if (!llvm::hasNItems(body, 2))
    return std::nullopt;
  auto mul = dyn_cast<arith::MulFOp>(body.front());
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (!mul || yield.getValues().size() != 1 ||
      yield.getValues()[0] != mul.getResult() || !mul.getType().isF32())
    return std::nullopt;
  Value in = body.getArgument(0);
  Value other = mul.getLhs() == in ? mul.getRhs() : mul.getLhs();
  if (mul.getLhs() != in && mul.getRhs() != in)
    return std::nullopt;
  FloatAttr c;
  if (!matchPattern(other, m_Constant(&c)))
    return std::nullopt;
  return static_cast<float>(c.getValueAsDouble());
}

/// linalg.matmul(softmax(scale * score(q, K)), V) -> qet.qjl_attention.
struct FuseQjlAttention : OpRewritePattern<linalg::MatmulOp> {
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
    if (maps[0] != map(m, k) || maps[1] != map(k, n) || maps[2] != map(m, n))
      return rewriter.notifyMatchFailure(op, "not probabilities x values");
    auto softmax = op.getInputs()[0].getDefiningOp<linalg::SoftmaxOp>();
    if (!softmax)
      return rewriter.notifyMatchFailure(op, "left operand is not a softmax");
    auto probabilities = cast<RankedTensorType>(op.getInputs()[0].getType());
    if (softmax.getDimension() != 1 || !probabilities.getElementType().isF32())
      return rewriter.notifyMatchFailure(
          op, "softmax is not over the tokens (dimension 1) in f32");
    if (!softmax->getResult(0).hasOneUse())
      return rewriter.notifyMatchFailure(op, "softmax has other users");
    auto accType = cast<RankedTensorType>(op.getOutputs()[0].getType());
    if (!accType.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, [&](Diagnostic &diag) {
        diag << "the product accumulates in " << accType.getElementType()
             << "; qet.qjl_attention sums in f32";
      });
    Value logits = softmax.getInput();
    float scale = 1.0f;
    if (auto generic = logits.getDefiningOp<linalg::GenericOp>()) {
      std::optional<float> c = matchScale(generic);
      if (!c)
        return rewriter.notifyMatchFailure(
            op, "softmax input is not score * constant");
      if (!generic->getResult(0).hasOneUse())
        return rewriter.notifyMatchFailure(op,
                                           "scaled scores have other users");
      scale = *c;
      logits = generic.getInputs()[0];
    }
    FailureOr<QjlScore> score = matchQjlScore(logits);
    if (failed(score))
      return rewriter.notifyMatchFailure(
          op, "scores are not q K^T of packed #qet.qjl keys");
    if (!logits.hasOneUse())
      return rewriter.notifyMatchFailure(op, "scores have other users");
    Location loc = op.getLoc();
    Value acc = op.getOutputs()[0];
    Value attention = QjlAttentionOp::create(
        rewriter, loc, accType, score->queries, score->keys, op.getInputs()[1],
        rewriter.getF32FloatAttr(scale));
    rewriter.replaceOp(op, accumulate(rewriter, loc, attention, acc));
    return success();
  }
};

struct FuseDequantPass
    : public mlir::qet::impl::QetFuseDequantBase<FuseDequantPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseMatmul, FuseMatvec, FuseBatchMatmul>(&getContext());
    // Tried before FuseMatmul on a linalg.matmul: an attention chain is
    // matched from its values product.
    patterns.add<FuseQjlAttention>(&getContext(), /*benefit=*/2);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
