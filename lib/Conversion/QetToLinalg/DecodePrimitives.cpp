//===- DecodePrimitives.cpp - qet decode primitives to linalg -------------===//
//
// qet.bit_unpack, qet.vq_decode, qet.unswap_tree and qet.residual_sum become
// linalg.generic ops on tensors. Gathers (codebook lookups, swap-tree
// partners, stream bytes) are tensor.extract inside the generic's body,
// addressed with linalg.index.
//
//===----------------------------------------------------------------------===//

#include "qet/Conversion/QetToLinalg/QetToLinalg.h"

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::qet;

namespace {

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

} // namespace

Value mlir::qet::extractBitField(OpBuilder &b, Location loc, Value bytes,
                                 Value row, Value bit, int64_t bits,
                                 int64_t lastByte, IntegerType resultType,
                                 bool signExtend) {
  // A field starting at bit offset s < 8 spans at most ceil((7+bits)/8)
  // bytes; reads past the end are clamped and masked away.
  int64_t span = (bits + 7 + 7) / 8;
  Value first = arith::ShRUIOp::create(b, loc, bit, indexConstant(b, loc, 3));
  Value shift = arith::AndIOp::create(b, loc, bit, indexConstant(b, loc, 7));
  Type i64 = b.getI64Type();
  Value word = arith::ConstantIntOp::create(b, loc, i64, 0);
  for (int64_t k = 0; k < span; ++k) {
    Value at = arith::AddIOp::create(b, loc, first, indexConstant(b, loc, k));
    at = arith::MinUIOp::create(b, loc, at, indexConstant(b, loc, lastByte));
    SmallVector<Value, 2> where = {at};
    if (row)
      where.insert(where.begin(), row);
    Value byte = tensor::ExtractOp::create(b, loc, bytes, where);
    Value wide = arith::ExtUIOp::create(b, loc, i64, byte);
    wide = arith::ShLIOp::create(
        b, loc, wide, arith::ConstantIntOp::create(b, loc, i64, 8 * k));
    word = arith::OrIOp::create(b, loc, word, wide);
  }
  Value shift64 = arith::IndexCastUIOp::create(b, loc, i64, shift);
  word = arith::ShRUIOp::create(b, loc, word, shift64);
  word = arith::AndIOp::create(
      b, loc, word,
      arith::ConstantIntOp::create(b, loc, i64, (int64_t{1} << bits) - 1));
  Value field = arith::TruncIOp::create(b, loc, resultType, word);
  int64_t spare = static_cast<int64_t>(resultType.getWidth()) - bits;
  if (signExtend && spare > 0) {
    Value amount = arith::ConstantIntOp::create(b, loc, resultType, spare);
    field = arith::ShLIOp::create(b, loc, field, amount);
    field = arith::ShRSIOp::create(b, loc, field, amount);
  }
  return field;
}

namespace {

struct BitUnpackLowering : OpRewritePattern<BitUnpackOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(BitUnpackOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getResult().getType();
    auto resultInt = cast<IntegerType>(type.getElementType());
    int64_t bits = static_cast<int64_t>(op.getBits());
    RankedTensorType bytesType = op.getBytes().getType();
    // 2-D bytes: row r of the result reads row r of the bytes.
    bool perRow = bytesType.getRank() == 2;
    int64_t lastByte = bytesType.getDimSize(bytesType.getRank() - 1) - 1;
    ArrayRef<int64_t> shape = type.getShape();
    Value bytes = op.getBytes();
    bool signExtend = op.getSignExtend();

    Value result = generate(
        rewriter, op.getLoc(), type,
        [&](OpBuilder &b, Location loc, ValueRange idx) -> Value {
          Value linear = indexConstant(b, loc, 0);
          for (size_t d = perRow ? 1 : 0; d < idx.size(); ++d) {
            linear = arith::MulIOp::create(b, loc, linear,
                                           indexConstant(b, loc, shape[d]));
            linear = arith::AddIOp::create(b, loc, linear, idx[d]);
          }
          Value bit = arith::MulIOp::create(b, loc, linear,
                                            indexConstant(b, loc, bits));
          Value row = perRow ? idx[0] : Value();
          return extractBitField(b, loc, bytes, row, bit, bits, lastByte,
                                 resultInt, signExtend);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct VqDecodeLowering : OpRewritePattern<VqDecodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(VqDecodeOp op,
                                PatternRewriter &rewriter) const override {
    int64_t sub = op.getCodebooks().getType().getDimSize(2);
    int64_t centroids = op.getCodebooks().getType().getDimSize(1);
    bool shared = op.getCodebooks().getType().getDimSize(0) == 1;
    Value codes = op.getCodes(), codebooks = op.getCodebooks();
    Value result = generate(
        rewriter, op.getLoc(), op.getResult().getType(),
        [&](OpBuilder &b, Location loc, ValueRange idx) -> Value {
          Value subIndex = indexConstant(b, loc, sub);
          Value s = arith::DivUIOp::create(b, loc, idx[1], subIndex);
          Value e = arith::RemUIOp::create(b, loc, idx[1], subIndex);
          Value code = tensor::ExtractOp::create(b, loc, codes, ValueRange{idx[0], s});
          // Clamped to the codebook: codes from a container are only
          // checksummed, not range-checked, on this path.
          Value k = arith::MinUIOp::create(
              b, loc,
              arith::IndexCastUIOp::create(b, loc, b.getIndexType(), code),
              indexConstant(b, loc, centroids - 1));
          Value book = shared ? indexConstant(b, loc, 0) : s;
          return tensor::ExtractOp::create(b, loc, codebooks,
                                           ValueRange{book, k, e});
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Undoes layers depth..1: layer k (1-based) on blocks of width w =
/// cols / 2^(k-1) puts back pair t of a block from its minima half S and
/// maxima half L: (a, c) = bit ? (S[t], L[t]) : (L[t], S[t]).
struct UnswapTreeLowering : OpRewritePattern<UnswapTreeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UnswapTreeOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getResult().getType();
    int64_t depth = static_cast<int64_t>(op.getDepth());
    int64_t cols = type.getDimSize(1);
    Value bits = op.getBits();
    Value x = op.getInput();
    for (int64_t layer = depth; layer >= 1; --layer) {
      int64_t width = cols >> (layer - 1), half = width / 2;
      Value current = x;
      x = generate(
          rewriter, op.getLoc(), type,
          [&](OpBuilder &b, Location loc, ValueRange idx) -> Value {
            Value r = idx[0], j = idx[1];
            Value w = indexConstant(b, loc, width);
            Value block = arith::DivUIOp::create(b, loc, j, w);
            Value p = arith::RemUIOp::create(b, loc, j, w);
            Value t = arith::ShRUIOp::create(b, loc, p, indexConstant(b, loc, 1));
            Value odd = arith::AndIOp::create(b, loc, p, indexConstant(b, loc, 1));
            Value pair = arith::AddIOp::create(
                b, loc, arith::MulIOp::create(b, loc, block, indexConstant(b, loc, half)), t);
            // Bit (r * depth + layer - 1) * cols/2 + pair of the stream.
            Value rowLayer = arith::AddIOp::create(
                b, loc, arith::MulIOp::create(b, loc, r, indexConstant(b, loc, depth)),
                indexConstant(b, loc, layer - 1));
            Value bitIndex = arith::AddIOp::create(
                b, loc, arith::MulIOp::create(b, loc, rowLayer, indexConstant(b, loc, cols / 2)),
                pair);
            Value byteIndex = arith::ShRUIOp::create(b, loc, bitIndex, indexConstant(b, loc, 3));
            Value byte = tensor::ExtractOp::create(b, loc, bits, ValueRange{byteIndex});
            Value shift = arith::IndexCastUIOp::create(
                b, loc, b.getI8Type(),
                arith::AndIOp::create(b, loc, bitIndex, indexConstant(b, loc, 7)));
            Value bit = arith::AndIOp::create(
                b, loc, arith::ShRUIOp::create(b, loc, byte, shift),
                arith::ConstantIntOp::create(b, loc, b.getI8Type(), 1));
            Value base = arith::MulIOp::create(b, loc, block, w);
            Value sAt = arith::AddIOp::create(b, loc, base, t);
            Value lAt = arith::AddIOp::create(b, loc, sAt, indexConstant(b, loc, half));
            Value small = tensor::ExtractOp::create(b, loc, current, ValueRange{r, sAt});
            Value large = tensor::ExtractOp::create(b, loc, current, ValueRange{r, lAt});
            // The even element takes S when the bit is set, the odd one
            // when it is clear.
            Value bitSet = arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::ne, bit,
                arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0));
            Value isEven = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, odd,
                                                 indexConstant(b, loc, 0));
            Value takeSmall = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                                    bitSet, isEven);
            return arith::SelectOp::create(b, loc, takeSmall, small, large);
          });
    }
    rewriter.replaceOp(op, x);
    return success();
  }
};

struct ResidualSumLowering : OpRewritePattern<ResidualSumOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ResidualSumOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getResult().getType();
    Value init = tensor::EmptyOp::create(rewriter, op.getLoc(), type.getShape(),
                                         type.getElementType());
    size_t n = op.getStages().size();
    SmallVector<AffineMap> maps(n + 1, rewriter.getMultiDimIdentityMap(2));
    Value sum =
        linalg::GenericOp::create(
            rewriter, op.getLoc(), type, op.getStages(), ValueRange{init}, maps,
            SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
            [&](OpBuilder &b, Location loc, ValueRange args) {
              Value acc = args[0];
              for (size_t i = 1; i < n; ++i) // stage order, as the library
                acc = arith::AddFOp::create(b, loc, acc, args[i]);
              linalg::YieldOp::create(b, loc, acc);
            })
            .getResult(0);
    rewriter.replaceOp(op, sum);
    return success();
  }
};

} // namespace

void mlir::qet::populateQetDecodePrimitivesToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<BitUnpackLowering, VqDecodeLowering, UnswapTreeLowering,
               ResidualSumLowering>(patterns.getContext());
}
