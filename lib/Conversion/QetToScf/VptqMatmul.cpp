//===- VptqMatmul.cpp - qet.qmatmul of VPTQ weights as codebook sums ------===//
//
// VPTQ stores column p (permuted order) of W as vectors of v rows, each an
// index into its column group's codebook (plus a residual codebook), with
// the first o permuted columns as outliers of their own vector length and
// codebook, and optionally a per-column scale and bias (vptq.md §7, §10):
//   y[b, i] = sum_p xs[b, p] (C[g(p), i1(i/v, p), i%v] + Cr[...])
//           + sum_{p<o} xs[b, p] C_o[io(i/v_o, p), i%v_o] + beta[b]
// with xs[b, p] = x[b, perm[p]] s[perm[p]] and beta[b] = sum_j x[b, j] bias[j].
// Per batch item and vector row, a vector<v x f32> accumulator takes each
// column's codebook entry (read as one vector) times xs[b, p]: every index
// is read from its word-aligned bit stream once per vector, never once per
// row, and the weight is never decoded. Same terms as the library's fused
// matvec; beta seeds the output.
//
//===----------------------------------------------------------------------===//

#include "QetToScfPatterns.h"

#include "qet/Conversion/QetToLinalg/QetToLinalg.h"
#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::qet;

namespace {

int64_t wordBits(int64_t fields, int64_t bits) {
  return 32 * ((fields * bits + 31) / 32);
}

struct VptqQMatmulLowering : QMatmulLowering<VqAttr> {
  using QMatmulLowering::QMatmulLowering;

  Value build(PatternRewriter &rewriter, QMatmulOp op, VqAttr vq,
              Value x) const override {
    PackedType type = op.getWeight().getType();
    auto xType = op.getInput().getType();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value packed = op.getWeight();
    Type f16 = rewriter.getF16Type();
    int64_t batch = xType.getDimSize(0), rows = type.getRows(),
            cols = type.getCols();
    int64_t v = vq.getVector(), ib = vq.getIndexBits(),
            rb = vq.getResidualBits(), groups = vq.getGroups(),
            gs = static_cast<int64_t>(vq.getGroupSize()),
            o = static_cast<int64_t>(vq.getOutlierColumns()),
            vo = vq.getOutlierVector(), ob = vq.getOutlierBits();
    int64_t vectorRows = (rows + v - 1) / v;

    // xs[b, p] = x[b, perm[p]] (* s[perm[p]]).
    Value perm, scale, bias;
    if (vq.getPermuted()) {
      auto permType = RankedTensorType::get({cols}, rewriter.getI32Type());
      perm = BitUnpackOp::create(
          rewriter, loc, permType, packedBytes(rewriter, loc, packed, "perm"),
          rewriter.getI64IntegerAttr(packedComponent(packed, "perm").bitsEach),
          UnitAttr());
    }
    if (vq.getNormalized()) {
      scale = packedFloats(rewriter, loc, packed, "scale", {cols}, f16);
      bias = packedFloats(rewriter, loc, packed, "bias", {cols}, f16);
    }
    AffineExpr d0, d1, d2;
    bindDims(ctx, d0, d1, d2);
    SmallVector<utils::IteratorType> parallel2(2,
                                               utils::IteratorType::parallel);
    Value xs = contraction(
        rewriter, loc, {batch, cols}, {AffineMap::get(2, 0, {d0, d1}, ctx)},
        ValueRange{}, parallel2,
        [&](OpBuilder &nb, Location nl, ValueRange, ValueRange idx) -> Value {
          Value j = idx[1];
          if (perm) {
            Value raw = tensor::ExtractOp::create(nb, nl, perm, idx[1]);
            j = arith::MinUIOp::create(
                nb, nl,
                arith::IndexCastUIOp::create(nb, nl, nb.getIndexType(), raw),
                arith::ConstantIndexOp::create(nb, nl, cols - 1));
          }
          Value value =
              tensor::ExtractOp::create(nb, nl, x, ValueRange{idx[0], j});
          if (!scale)
            return value;
          return arith::MulFOp::create(
              nb, nl, value, tensor::ExtractOp::create(nb, nl, scale, j));
        });
    // beta[b] = sum_j x[b, j] bias[j].
    Value beta;
    if (bias)
      beta = contraction(
          rewriter, loc, {batch},
          {AffineMap::get(2, 0, {d0, d1}, ctx), AffineMap::get(2, 0, {d1}, ctx),
           AffineMap::get(2, 0, {d0}, ctx)},
          ValueRange{x, bias},
          {utils::IteratorType::parallel, utils::IteratorType::reduction},
          [](OpBuilder &nb, Location nl, ValueRange args, ValueRange) -> Value {
            Value product = arith::MulFOp::create(nb, nl, args[0], args[1]);
            return arith::AddFOp::create(nb, nl, args[2], product);
          });

    Value idxBytes = packedBytes(rewriter, loc, packed, "idx");
    int64_t idxLast =
        cast<RankedTensorType>(idxBytes.getType()).getDimSize(0) - 1;
    Value main = packedFloats(rewriter, loc, packed, "C",
                              {groups, int64_t{1} << ib, v}, f16);
    Value residual = rb ? packedFloats(rewriter, loc, packed, "Cr",
                                       {groups, int64_t{1} << rb, v}, f16)
                        : Value();
    Value outlierBytes, outliers;
    int64_t outlierLast = 0;
    if (o) {
      outlierBytes = packedBytes(rewriter, loc, packed, "idx_o");
      outlierLast =
          cast<RankedTensorType>(outlierBytes.getType()).getDimSize(0) - 1;
      outliers = packedFloats(rewriter, loc, packed, "C_o",
                              {1, int64_t{1} << ob, vo}, f16);
    }

    // Per batch item and vector row r (rows r v .. r v + v - 1): one
    // vector<v x f32> accumulator takes, for every column, the codebook
    // entry its index selects times xs (the index is read once per vector,
    // not once per row). The last vector row may be partial.
    // Field `i` of `width` bits in the index row starting at `rowBit`.
    auto fieldAt = [&](OpBuilder &lb, Location ll, Value bytes, int64_t last,
                       Value rowBit, Value i, int64_t width) {
      Value bit = arith::AddIOp::create(
          lb, ll, rowBit,
          arith::MulIOp::create(lb, ll, i, indexConstant(lb, ll, width)));
      return extractBitField(lb, ll, bytes, Value(), bit, width, last,
                             lb.getI32Type(), false);
    };
    auto bitsOf = [](OpBuilder &lb, Location ll, Value field, int64_t shift,
                     int64_t width) -> Value {
      Type i32 = lb.getI32Type();
      Value f = shift ? arith::ShRUIOp::create(
                            lb, ll, field,
                            arith::ConstantIntOp::create(lb, ll, i32, shift))
                            .getResult()
                      : field;
      f = arith::AndIOp::create(
          lb, ll, f,
          arith::ConstantIntOp::create(lb, ll, i32, (int64_t{1} << width) - 1));
      return arith::IndexCastUIOp::create(lb, ll, lb.getIndexType(), f);
    };
    Value padFloat =
        arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(0));
    // y[item, r w ..] += the vector<w> sum over `columns` of entry(r, col) *
    // xs[item, first + col], for every full vector row, then the partial one.
    auto vectorRowSums =
        [&](Value y, int64_t w, int64_t columns, int64_t first,
            function_ref<Value(OpBuilder &, Location, Value, Value)> entry)
        -> Value {
      auto vecType = VectorType::get({w}, rewriter.getF32Type());
      Value zeros = arith::ConstantOp::create(
          rewriter, loc, vecType, DenseElementsAttr::get(vecType, 0.0f));
      auto body = [&](OpBuilder &rb, Location rl, Value yIn, Value item,
                      Value r, bool full) -> Value {
        auto sums = scf::ForOp::create(
            rb, rl, indexConstant(rb, rl, 0), indexConstant(rb, rl, columns),
            indexConstant(rb, rl, 1), ValueRange{zeros},
            [&](OpBuilder &lb, Location ll, Value col, ValueRange acc) {
              Value p = arith::AddIOp::create(lb, ll, col,
                                              indexConstant(lb, ll, first));
              Value xp =
                  tensor::ExtractOp::create(lb, ll, xs, ValueRange{item, p});
              Value scaled = vector::BroadcastOp::create(lb, ll, vecType, xp);
              scf::YieldOp::create(
                  lb, ll,
                  ValueRange{vector::FMAOp::create(
                      lb, ll, scaled, entry(lb, ll, r, col), acc[0])});
            });
        Value at = arith::MulIOp::create(rb, rl, r, indexConstant(rb, rl, w));
        Value old = vector::TransferReadOp::create(
            rb, rl, vecType, yIn, ValueRange{item, at}, padFloat,
            ArrayRef<bool>{full});
        Value sum = arith::AddFOp::create(rb, rl, old, sums.getResult(0));
        return vector::TransferWriteOp::create(
                   rb, rl, sum, yIn, ValueRange{item, at}, ArrayRef<bool>{full})
            .getResult();
      };
      int64_t fullRows = rows / w;
      auto items = scf::ForOp::create(
          rewriter, loc, indexConstant(rewriter, loc, 0),
          indexConstant(rewriter, loc, batch), indexConstant(rewriter, loc, 1),
          ValueRange{y},
          [&](OpBuilder &ib, Location il, Value item, ValueRange itemIter) {
            auto vectors = scf::ForOp::create(
                ib, il, indexConstant(ib, il, 0),
                indexConstant(ib, il, fullRows), indexConstant(ib, il, 1),
                ValueRange{itemIter[0]},
                [&](OpBuilder &rb, Location rl, Value r, ValueRange rowIter) {
                  scf::YieldOp::create(rb, rl,
                                       body(rb, rl, rowIter[0], item, r, true));
                });
            Value next = vectors.getResult(0);
            if (rows % w)
              next = body(ib, il, next, item, indexConstant(ib, il, fullRows),
                          false);
            scf::YieldOp::create(ib, il, next);
          });
      return items.getResult(0);
    };

    // y starts at beta[b] (the bias term), or zero.
    Value y = contraction(
        rewriter, loc, {batch, rows}, {AffineMap::get(2, 0, {d0, d1}, ctx)},
        ValueRange{}, parallel2,
        [&](OpBuilder &nb, Location nl, ValueRange args,
            ValueRange idx) -> Value {
          if (!beta)
            return args[0];
          return tensor::ExtractOp::create(nb, nl, beta, idx[0]);
        });
    // Main (+ residual) columns, group by group; index rows start on
    // 32-bit words.
    for (int64_t g = 0; g < groups; ++g)
      y = vectorRowSums(
          y, v, gs, o + g * gs,
          [&](OpBuilder &lb, Location ll, Value r, Value col) -> Value {
            Value rowBit = arith::MulIOp::create(
                lb, ll,
                arith::AddIOp::create(lb, ll,
                                      indexConstant(lb, ll, g * vectorRows), r),
                indexConstant(lb, ll, wordBits(gs, ib + rb)));
            Value field =
                fieldAt(lb, ll, idxBytes, idxLast, rowBit, col, ib + rb);
            auto vecType = VectorType::get({v}, lb.getF32Type());
            Value gIndex = indexConstant(lb, ll, g),
                  c0 = indexConstant(lb, ll, 0);
            Value w = vector::TransferReadOp::create(
                lb, ll, vecType, main,
                ValueRange{gIndex, bitsOf(lb, ll, field, 0, ib), c0}, padFloat,
                ArrayRef<bool>{true});
            if (residual)
              w = arith::AddFOp::create(
                  lb, ll, w,
                  vector::TransferReadOp::create(
                      lb, ll, vecType, residual,
                      ValueRange{gIndex, bitsOf(lb, ll, field, ib, rb), c0},
                      padFloat, ArrayRef<bool>{true}));
            return w;
          });
    if (o)
      y = vectorRowSums(
          y, vo, o, 0,
          [&](OpBuilder &lb, Location ll, Value r, Value p) -> Value {
            Value rowBit = arith::MulIOp::create(
                lb, ll, r, indexConstant(lb, ll, wordBits(o, ob)));
            Value k = arith::IndexCastUIOp::create(
                lb, ll, lb.getIndexType(),
                fieldAt(lb, ll, outlierBytes, outlierLast, rowBit, p, ob));
            Value c0 = indexConstant(lb, ll, 0);
            return vector::TransferReadOp::create(
                lb, ll, VectorType::get({vo}, lb.getF32Type()), outliers,
                ValueRange{c0, k, c0}, padFloat, ArrayRef<bool>{true});
          });
    return y;
  }
};

} // namespace

void mlir::qet::populateVptqQMatmulToScfPatterns(RewritePatternSet &patterns) {
  patterns.add<VptqQMatmulLowering>(patterns.getContext());
}
