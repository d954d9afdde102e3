//===- Decompose.cpp - qet.dequantize into decode primitives --------------===//
//
// qet-decompose: each scheme's qet.dequantize becomes the primitive ops that
// read its storage components (qet.storage -> qet.bit_unpack -> float
// bitcasts) and decode them the way the quantizer library does, so the
// generated code reproduces the library's reconstruction.
//
//===----------------------------------------------------------------------===//

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Transforms/Passes.h"
#include "qet/Quantizer/Qet.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qet {
#define GEN_PASS_DEF_QETDECOMPOSE
#include "qet/Dialect/Qet/Transforms/Passes.h.inc"
} // namespace mlir::qet

using namespace mlir;
using namespace mlir::qet;

namespace {

/// An element-wise linalg.generic mapping `input` to `element` with `fn`
/// (bufferizes, unlike arith ops on whole tensors).
Value mapElements(OpBuilder &b, Location loc, Value input, Type element,
                  function_ref<Value(OpBuilder &, Location, Value)> fn) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto resultType = RankedTensorType::get(inputType.getShape(), element);
  Value init = tensor::EmptyOp::create(b, loc, inputType.getShape(), element);
  AffineMap id = b.getMultiDimIdentityMap(inputType.getRank());
  return linalg::GenericOp::create(
             b, loc, resultType, ValueRange{input}, ValueRange{init},
             SmallVector<AffineMap>{id, id},
             SmallVector<utils::IteratorType>(inputType.getRank(),
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, fn(nb, nl, args[0]));
             })
      .getResult(0);
}

/// Raw float bits (an integer tensor) as `floatType`, widened to f32 when
/// `widen` is set.
Value bitsToFloat(OpBuilder &b, Location loc, Value raw, Type floatType,
                  bool widen) {
  Type result = widen ? b.getF32Type() : floatType;
  return mapElements(b, loc, raw, result, [&](OpBuilder &nb, Location nl, Value v) {
    Value f = arith::BitcastOp::create(nb, nl, floatType, v);
    return widen && !floatType.isF32()
               ? arith::ExtFOp::create(nb, nl, nb.getF32Type(), f).getResult()
               : f;
  });
}

/// Builds the decode of one packed value.
class Decoder {
public:
  Decoder(PatternRewriter &rewriter, Location loc, Value packed)
      : b(rewriter), loc(loc), packed(packed),
        type(cast<PackedType>(packed.getType())),
        components(type.getComponents()) {}

  const StorageComponent &component(StringRef name) const {
    for (const StorageComponent &c : components)
      if (c.name == name)
        return c;
    llvm_unreachable("component not in the scheme's layout");
  }

  /// The bytes of component `name`.
  Value bytes(StringRef name) {
    auto bytesType = RankedTensorType::get(
        {static_cast<int64_t>(component(name).bytes())}, b.getI8Type());
    return StorageOp::create(b, loc, bytesType, packed, name);
  }

  /// The fields of `name` as integers of `width` bits in `shape`.
  Value fields(StringRef name, ArrayRef<int64_t> shape, unsigned width,
               bool signExtend = false) {
    const StorageComponent &c = component(name);
    auto resultType = RankedTensorType::get(shape, b.getIntegerType(width));
    if (c.bitsEach == 0) // a single centroid: every index is 0
      return arith::ConstantOp::create(
          b, loc, resultType, DenseElementsAttr::get(resultType, b.getIntegerAttr(b.getIntegerType(width), 0)));
    return BitUnpackOp::create(b, loc, resultType, bytes(name),
                               b.getI64IntegerAttr(c.bitsEach),
                               signExtend ? b.getUnitAttr() : UnitAttr());
  }

  /// Float fields of `name` (raw bits of the packed element type, or fp16
  /// when `half`) widened to f32, in `shape`.
  Value floats(StringRef name, ArrayRef<int64_t> shape, bool half = false) {
    Type stored = half ? b.getF16Type() : type.getElementType();
    unsigned width = stored.getIntOrFloatBitWidth();
    return bitsToFloat(b, loc, fields(name, shape, width), stored,
                       /*widen=*/true);
  }

  /// One float of a single-field component, as a scalar f32.
  Value scalar(StringRef name) {
    Value one = floats(name, {1});
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    return tensor::ExtractOp::create(b, loc, one, ValueRange{zero});
  }

  /// The PQ reconstruction rows x cols (f32) of `prefix`codes/codebooks.
  Value pq(const std::string &prefix, int64_t subspaces, int64_t centroids,
           Value codebooks = {}) {
    int64_t rows = type.getRows(), cols = type.getCols();
    int64_t sub = cols / subspaces;
    if (!codebooks)
      codebooks = floats(prefix + "codebooks", {subspaces, centroids, sub});
    Value codes = fields(prefix + "codes", {rows, subspaces}, 32);
    auto resultType = RankedTensorType::get({rows, cols}, b.getF32Type());
    return VqDecodeOp::create(b, loc, resultType, codes, codebooks);
  }

  /// x * R^T for the d x d rotation stored in `name`.
  Value rotate(Value x, StringRef name) {
    int64_t rows = type.getRows(), d = type.getCols();
    Value r = floats(name, {d, d});
    auto resultType = RankedTensorType::get({rows, d}, b.getF32Type());
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                         b.getF32Type());
    init = linalg::FillOp::create(b, loc, zero, init).getResult(0);
    MLIRContext *ctx = b.getContext();
    AffineExpr i, j, k;
    bindDims(ctx, i, j, k);
    SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {i, k}, ctx),
                                   AffineMap::get(3, 0, {j, k}, ctx),
                                   AffineMap::get(3, 0, {i, j}, ctx)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction};
    return linalg::GenericOp::create(
               b, loc, resultType, ValueRange{x, r}, ValueRange{init}, maps,
               iterators,
               [](OpBuilder &nb, Location nl, ValueRange args) {
                 Value product = arith::MulFOp::create(nb, nl, args[0], args[1]);
                 Value sum = arith::AddFOp::create(nb, nl, args[2], product);
                 linalg::YieldOp::create(nb, nl, sum);
               })
        .getResult(0);
  }

  /// Codebook of `centroids` x cols levels on the grid lo + level * step.
  Value gridCodebook(const std::string &prefix, int64_t subspaces,
                     int64_t centroids) {
    int64_t sub = type.getCols() / subspaces;
    SmallVector<int64_t> shape = {subspaces, centroids, sub};
    Value levels = fields(prefix + "codebook_levels", shape, 32);
    Value lo = scalar(prefix + "codebook_lo");
    Value step = scalar(prefix + "codebook_step");
    auto resultType = RankedTensorType::get(shape, b.getF32Type());
    Value init = tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
    AffineMap id = b.getMultiDimIdentityMap(3);
    return linalg::GenericOp::create(
               b, loc, resultType, ValueRange{levels}, ValueRange{init},
               SmallVector<AffineMap>{id, id},
               SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 // level * step, rounded, then + lo: no FMA, as the library.
                 Value level = arith::UIToFPOp::create(nb, nl, nb.getF32Type(), args[0]);
                 Value scaled = arith::MulFOp::create(nb, nl, level, step);
                 linalg::YieldOp::create(nb, nl, ValueRange{arith::AddFOp::create(nb, nl, scaled, lo).getResult()});
               })
        .getResult(0);
  }

  Value unswap(Value x, const std::string &name, int64_t depth) {
    if (depth == 0)
      return x;
    return UnswapTreeOp::create(b, loc, x.getType(), x, bytes(name),
                                b.getI64IntegerAttr(depth));
  }

  /// Converts the f32 reconstruction to the requested result type.
  Value finish(Value x, RankedTensorType resultType) {
    Type element = resultType.getElementType();
    if (element.isF32())
      return x;
    return mapElements(b, loc, x, element, [&](OpBuilder &nb, Location nl, Value v) {
      return arith::TruncFOp::create(nb, nl, element, v).getResult();
    });
  }

  PatternRewriter &b;
  Location loc;
  Value packed;
  PackedType type;
  SmallVector<StorageComponent> components;
};

struct DecomposeDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    Decoder d(rewriter, op.getLoc(), op.getPacked());
    PackedType type = d.type;
    int64_t rows = type.getRows(), cols = type.getCols();
    Value result;
    Attribute scheme = type.getScheme();
    if (auto rtn = dyn_cast<RtnAttr>(scheme)) {
      int64_t groups = rtn.getNumGroups(cols);
      Value codes = d.fields("codes", {rows, cols}, 8, rtn.getSymmetric());
      auto half = [&](StringRef name) -> Value {
        return bitsToFloat(rewriter, op.getLoc(), d.fields(name, {rows, groups}, 16),
                           rewriter.getF16Type(), /*widen=*/false);
      };
      Value scales = half("scales");
      Value zeros = rtn.getSymmetric() ? Value() : half("zero_points");
      result = GroupDecodeOp::create(rewriter, op.getLoc(), op.getType(), codes,
                                     scales, zeros, rtn);
      rewriter.replaceOp(op, result);
      return success();
    }
    if (auto pq = dyn_cast<PqAttr>(scheme)) {
      result = d.pq("", pq.getSubspaces(), pq.getCentroids());
      if (pq.getRotated())
        result = d.rotate(result, "rotation");
    } else if (auto hera = dyn_cast<HeraAttr>(scheme)) {
      result = d.pq("", hera.getSubspaces(), hera.getCentroids());
      result = d.unswap(result, "swap_bits", hera.getDepth());
    } else if (auto qet = dyn_cast<QetSchemeAttr>(scheme)) {
      SmallVector<Value> stages;
      int64_t m = qet.getSubspaces();
      for (int64_t s = 0; s < static_cast<int64_t>(qet.getDepths().size()); ++s) {
        std::string prefix = ::qet::quant::qetStagePrefix(static_cast<size_t>(s));
        int64_t ks = qet.getCentroids()[s];
        Value codebooks = qet.getCodebookBits()[s] == 0
                              ? Value()
                              : d.gridCodebook(prefix, m, ks);
        Value stage = d.pq(prefix, m, ks, codebooks);
        stages.push_back(d.unswap(stage, prefix + "swap_bits", qet.getDepths()[s]));
      }
      result = stages.size() == 1
                   ? stages.front()
                   : ResidualSumOp::create(rewriter, op.getLoc(),
                                           stages.front().getType(), stages)
                         .getResult();
    } else {
      return rewriter.notifyMatchFailure(op, "no decomposition for the scheme");
    }
    rewriter.replaceOp(op, d.finish(result, op.getType()));
    return success();
  }
};

struct DecomposePass : public mlir::qet::impl::QetDecomposeBase<DecomposePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DecomposeDequantize>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    getOperation()->walk([](DequantizeOp op) {
      op.emitRemark() << "qet-decompose: no decomposition for "
                      << op.getPacked().getType().getScheme()
                      << "; qet.dequantize kept";
    });
  }
};

} // namespace
