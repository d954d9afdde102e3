//===- QetToLinalg.cpp - qet grouped ops to linalg ------------------------===//
//
// Each grouped op becomes up to three linalg.generic ops over the data's
// iteration space (d0, ..., dn-1); per-group tensors are addressed with the
// map (d0, ..., dn-1) -> (d0, ..., dn-2, dn-1 floordiv group):
//   encode: 1. per-group reduction (min/max, or the first largest |x|),
//           2. per-group scale and zero point, rounded to their storage type,
//           3. element-wise codes;
//   decode: one element-wise generic.
//
//===----------------------------------------------------------------------===//

#include "qet/Conversion/QetToLinalg/QetToLinalg.h"

#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::qet {
#define GEN_PASS_DEF_CONVERTQETTOLINALG
#include "qet/Conversion/Passes.h.inc"
} // namespace mlir::qet

using namespace mlir;
using namespace mlir::qet;

namespace {

/// fp32 unless the data type is wider: the quantizer library's precision.
FloatType computeType(Type dataElement) {
  auto type = cast<FloatType>(dataElement);
  return type.getWidth() > 32 ? type : Float32Type::get(type.getContext());
}

/// Converts between float types with IEEE round-to-nearest-even.
Value castFloat(OpBuilder &b, Location loc, Value value, Type to) {
  auto from = cast<FloatType>(value.getType());
  auto target = cast<FloatType>(to);
  if (from == target)
    return value;
  if (from.getWidth() < target.getWidth())
    return arith::ExtFOp::create(b, loc, target, value);
  if (from.getWidth() > target.getWidth())
    return arith::TruncFOp::create(b, loc, target, value);
  // Same width, different format (f16 <-> bf16): through f32, exactly.
  Value wide = arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  return arith::TruncFOp::create(b, loc, target, wide);
}

Value floatConstant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
}

/// An empty tensor of `type`; dynamic dimensions take their size from `sizes`.
Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> dynamicSizes;
  for (auto [dim, size] : llvm::zip(type.getShape(), sizes))
    if (ShapedType::isDynamic(dim))
      dynamicSizes.push_back(getValueOrCreateConstantIndexOp(b, loc, size));
  return tensor::EmptyOp::create(b, loc, type, dynamicSizes);
}

/// Iteration space and indexing maps of a grouped op over `data`.
struct GroupedSpace {
  unsigned rank;
  AffineMap identity;
  AffineMap groupMap;
  SmallVector<OpFoldResult> dataSizes;

  GroupedSpace(OpBuilder &b, Location loc, Value data, RtnAttr scheme) {
    rank = cast<RankedTensorType>(data.getType()).getRank();
    MLIRContext *ctx = b.getContext();
    identity = b.getMultiDimIdentityMap(rank);
    SmallVector<AffineExpr> groupExprs;
    for (unsigned d = 0; d + 1 < rank; ++d)
      groupExprs.push_back(getAffineDimExpr(d, ctx));
    groupExprs.push_back(getAffineDimExpr(rank - 1, ctx).floorDiv(
        static_cast<int64_t>(scheme.getGroup())));
    groupMap = AffineMap::get(rank, 0, groupExprs, ctx);
    dataSizes = tensor::getMixedSizes(b, loc, data);
  }

  /// Sizes of the per-group tensors: the last dimension is ceil(d / group).
  SmallVector<OpFoldResult> groupSizes(OpBuilder &b, Location loc,
                                       RtnAttr scheme) const {
    SmallVector<OpFoldResult> sizes = dataSizes;
    AffineExpr length = getAffineSymbolExpr(0, b.getContext());
    sizes.back() = affine::makeComposedFoldedAffineApply(
        b, loc, length.ceilDiv(static_cast<int64_t>(scheme.getGroup())),
        {dataSizes.back()});
    return sizes;
  }

  SmallVector<utils::IteratorType> parallel() const {
    return SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel);
  }
  SmallVector<utils::IteratorType> reduceLast() const {
    SmallVector<utils::IteratorType> types = parallel();
    types.back() = utils::IteratorType::reduction;
    return types;
  }
};

/// An element-wise linalg.generic over the data's iteration space reading a
/// data-shaped tensor plus the per-group scales and, when given, zero points;
/// `body` sees (element, scale[, zero point], output).
Value groupedElementwise(OpBuilder &b, Location loc, const GroupedSpace &space,
                         Value data, Value scales, Value zeroPoints,
                         RankedTensorType resultType,
                         function_ref<void(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<Value> inputs = {data, scales};
  SmallVector<AffineMap> maps = {space.identity, space.groupMap};
  if (zeroPoints) {
    inputs.push_back(zeroPoints);
    maps.push_back(space.groupMap);
  }
  maps.push_back(space.identity);
  Value init = emptyTensor(b, loc, resultType, space.dataSizes);
  return linalg::GenericOp::create(b, loc, TypeRange{resultType}, inputs,
                                   ValueRange{init}, maps, space.parallel(),
                                   body)
      .getResult(0);
}

struct GroupEncodeLowering : OpRewritePattern<GroupEncodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GroupEncodeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RtnAttr scheme = op.getScheme();
    Value input = op.getInput();
    Type codeType = op.getCodes().getType().getElementType();
    GroupedSpace space(rewriter, loc, input, scheme);
    SmallVector<OpFoldResult> groupSizes =
        space.groupSizes(rewriter, loc, scheme);
    FloatType compute = computeType(op.getInput().getType().getElementType());
    RankedTensorType scalesType = op.getScales().getType();
    Type scaleType = scalesType.getElementType();
    auto statsType = scalesType.clone(compute);
    auto filledStats = [&](double value) -> Value {
      Value init = floatConstant(rewriter, loc, compute, value);
      Value empty = emptyTensor(rewriter, loc, statsType, groupSizes);
      return linalg::FillOp::create(rewriter, loc, init, empty).getResult(0);
    };
    bool symmetric = scheme.getSymmetric();
    double lowest = static_cast<double>(scheme.getMinCode());
    double highest = static_cast<double>(scheme.getMaxCode());

    // 1. Per-group statistics: (min, max), or (largest |x|, that x) where the
    //    strict comparison keeps the first of equal magnitudes.
    SmallVector<Value> stats;
    if (symmetric)
      stats = {filledStats(-1.0), filledStats(0.0)};
    else
      stats = {filledStats(std::numeric_limits<double>::infinity()),
               filledStats(-std::numeric_limits<double>::infinity())};
    auto reduce = linalg::GenericOp::create(
        rewriter, loc, TypeRange{stats[0].getType(), stats[1].getType()},
        ValueRange{input}, stats,
        ArrayRef<AffineMap>{space.identity, space.groupMap, space.groupMap},
        space.reduceLast(), [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = castFloat(b, l, args[0], compute);
          if (!symmetric) {
            linalg::YieldOp::create(
                b, l,
                ValueRange{arith::MinimumFOp::create(b, l, x, args[1]),
                           arith::MaximumFOp::create(b, l, x, args[2])});
            return;
          }
          Value magnitude = math::AbsFOp::create(b, l, x);
          Value larger = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                               magnitude, args[1]);
          linalg::YieldOp::create(
              b, l,
              ValueRange{
                  arith::SelectOp::create(b, l, larger, magnitude, args[1]),
                  arith::SelectOp::create(b, l, larger, x, args[2])});
        });

    // 2. Scale (and zero point), rounded to their element type before use.
    SmallVector<Value> metaInits = {
        emptyTensor(rewriter, loc, scalesType, groupSizes)};
    if (!symmetric)
      metaInits.push_back(emptyTensor(rewriter, loc, scalesType, groupSizes));
    SmallVector<Type> metaTypes(metaInits.size(), scalesType);
    SmallVector<AffineMap> metaMaps(2 + metaInits.size(),
                                    rewriter.getMultiDimIdentityMap(space.rank));
    auto metadata = linalg::GenericOp::create(
        rewriter, loc, metaTypes, reduce.getResults(), metaInits, metaMaps,
        space.parallel(), [&](OpBuilder &b, Location l, ValueRange args) {
          if (symmetric) {
            // s = peak / -2^(bits-1): the peak maps to the lowest code.
            Value s = arith::DivFOp::create(
                b, l, args[1], floatConstant(b, l, compute, lowest));
            linalg::YieldOp::create(b, l, castFloat(b, l, s, scaleType));
            return;
          }
          Value zero = castFloat(b, l, args[0], scaleType);
          Value zeroUsed = castFloat(b, l, zero, compute);
          Value range = arith::SubFOp::create(b, l, args[1], zeroUsed);
          Value s = arith::DivFOp::create(
              b, l, range, floatConstant(b, l, compute, highest));
          linalg::YieldOp::create(
              b, l, ValueRange{castFloat(b, l, s, scaleType), zero});
        });

    // 3. Codes: clamp(roundeven((x - z) / s)), 0 where the scale is 0.
    Value codes = groupedElementwise(
        rewriter, loc, space, input, metadata.getResult(0),
        symmetric ? Value() : metadata.getResult(1), op.getCodes().getType(),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = castFloat(b, l, args[0], compute);
          Value s = castFloat(b, l, args[1], compute);
          if (!symmetric)
            x = arith::SubFOp::create(b, l, x, castFloat(b, l, args[2], compute));
          Value zeroF = floatConstant(b, l, compute, 0.0);
          Value q = math::RoundEvenOp::create(
              b, l, arith::DivFOp::create(b, l, x, s));
          Value scaleIsZero = arith::CmpFOp::create(
              b, l, arith::CmpFPredicate::OEQ, s, zeroF);
          q = arith::SelectOp::create(b, l, scaleIsZero, zeroF, q);
          q = arith::MaximumFOp::create(b, l, q,
                                        floatConstant(b, l, compute, lowest));
          q = arith::MinimumFOp::create(b, l, q,
                                        floatConstant(b, l, compute, highest));
          Value code = symmetric
                           ? arith::FPToSIOp::create(b, l, codeType, q).getResult()
                           : arith::FPToUIOp::create(b, l, codeType, q).getResult();
          linalg::YieldOp::create(b, l, code);
        });

    SmallVector<Value> results = {codes, metadata.getResult(0)};
    if (!symmetric)
      results.push_back(metadata.getResult(1));
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct GroupDecodeLowering : OpRewritePattern<GroupDecodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GroupDecodeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RtnAttr scheme = op.getScheme();
    GroupedSpace space(rewriter, loc, op.getCodes(), scheme);
    Type resultElement = op.getResult().getType().getElementType();
    FloatType compute = computeType(resultElement);
    bool symmetric = scheme.getSymmetric();

    Value decoded = groupedElementwise(
        rewriter, loc, space, op.getCodes(), op.getScales(), op.getZeroPoints(),
        op.getResult().getType(),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value q = symmetric
                        ? arith::SIToFPOp::create(b, l, compute, args[0]).getResult()
                        : arith::UIToFPOp::create(b, l, compute, args[0]).getResult();
          Value x = arith::MulFOp::create(b, l, q,
                                          castFloat(b, l, args[1], compute));
          if (!symmetric)
            x = arith::AddFOp::create(b, l, castFloat(b, l, args[2], compute), x);
          linalg::YieldOp::create(b, l, castFloat(b, l, x, resultElement));
        });
    rewriter.replaceOp(op, decoded);
    return success();
  }
};

struct ConvertQetToLinalgPass
    : qet::impl::ConvertQetToLinalgBase<ConvertQetToLinalgPass> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addIllegalOp<GroupEncodeOp, GroupDecodeOp, BitUnpackOp, VqDecodeOp,
                        UnswapTreeOp, ResidualSumOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateQetToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::qet::populateQetToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<GroupEncodeLowering, GroupDecodeLowering>(patterns.getContext());
  populateQetDecodePrimitivesToLinalgPatterns(patterns);
}
