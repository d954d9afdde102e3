//===- VptqMatmul.cpp - qet.qmatmul of VPTQ weights as codebook sums ------===//
//
// VPTQ stores column p (permuted order) of W as vectors of v rows, each an
// index into its column group's codebook (plus a residual codebook), with
// the first o permuted columns as outliers of their own vector length and
// codebook, and optionally a per-column scale and bias (vptq.md §7, §10):
//   y[b, i] = sum_p xs[b, p] (C[g(p), i1(i/v, p), i%v] + Cr[...])
//           + sum_{p<o} xs[b, p] C_o[io(i/v_o, p), i%v_o] + beta[b]
// with xs[b, p] = x[b, perm[p]] s[perm[p]] and beta[b] = sum_j x[b, j] bias[j].
// The indices are read from their word-aligned bit streams inside the sum;
// the weight is never decoded. Same terms as the library's fused matvec.
//
//===----------------------------------------------------------------------===//

#include "QetToScfPatterns.h"

#include "qet/Conversion/QetToLinalg/QetToLinalg.h"
#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

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
          rewriter.getI64IntegerAttr(cols <= 65536 ? 16 : 32), UnitAttr());
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
    int64_t idxLast = cast<RankedTensorType>(idxBytes.getType()).getDimSize(0) - 1;
    Value main = packedFloats(rewriter, loc, packed, "C",
                              {groups, int64_t{1} << ib, v}, f16);
    Value residual =
        rb ? packedFloats(rewriter, loc, packed, "Cr",
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

    Value y = contraction(
        rewriter, loc, {batch, rows}, {AffineMap::get(2, 0, {d0, d1}, ctx)},
        ValueRange{}, parallel2,
        [&](OpBuilder &nb, Location nl, ValueRange args,
            ValueRange idx) -> Value {
          auto c = [&](OpBuilder &cb, Location cl, int64_t value) -> Value {
            return arith::ConstantIndexOp::create(cb, cl, value);
          };
          Value item = idx[0], row = idx[1];
          Value r = arith::DivUIOp::create(nb, nl, row, c(nb, nl, v));
          Value e = arith::RemUIOp::create(nb, nl, row, c(nb, nl, v));
          Value acc = args[0];
          // Yields sum + xs[item, p] * w from a column loop's body.
          auto accumulate = [&](OpBuilder &lb, Location ll, Value sum, Value p,
                                Value w) {
            Value xp =
                tensor::ExtractOp::create(lb, ll, xs, ValueRange{item, p});
            scf::YieldOp::create(
                lb, ll,
                ValueRange{arith::AddFOp::create(
                               lb, ll, sum, arith::MulFOp::create(lb, ll, xp, w))
                               .getResult()});
          };
          // Field `i` of `width` bits in the index row starting at `rowBit`.
          auto fieldAt = [&](OpBuilder &lb, Location ll, Value bytes,
                             int64_t last, Value rowBit, Value i,
                             int64_t width) {
            Value bit = arith::AddIOp::create(
                lb, ll, rowBit,
                arith::MulIOp::create(lb, ll, i, c(lb, ll, width)));
            return extractBitField(lb, ll, bytes, Value(), bit, width, last,
                                   lb.getI32Type(), false);
          };
          // Main (+ residual) columns, group by group.
          for (int64_t g = 0; g < groups; ++g) {
            // Bit offset of index row (g, r): rows start on 32-bit words.
            Value rowBit = arith::MulIOp::create(
                nb, nl,
                arith::AddIOp::create(nb, nl, c(nb, nl, g * vectorRows), r),
                c(nb, nl, wordBits(gs, ib + rb)));
            auto loop = scf::ForOp::create(
                nb, nl, c(nb, nl, 0), c(nb, nl, gs), c(nb, nl, 1),
                ValueRange{acc},
                [&](OpBuilder &lb, Location ll, Value col, ValueRange sum) {
                  Value field =
                      fieldAt(lb, ll, idxBytes, idxLast, rowBit, col, ib + rb);
                  auto bitsOf = [&](int64_t shift, int64_t width) -> Value {
                    Type i32 = lb.getI32Type();
                    Value f = shift ? arith::ShRUIOp::create(
                                          lb, ll, field,
                                          arith::ConstantIntOp::create(
                                              lb, ll, i32, shift))
                                          .getResult()
                                    : field;
                    f = arith::AndIOp::create(
                        lb, ll, f,
                        arith::ConstantIntOp::create(
                            lb, ll, i32, (int64_t{1} << width) - 1));
                    return arith::IndexCastUIOp::create(
                        lb, ll, lb.getIndexType(), f);
                  };
                  Value gIndex = c(lb, ll, g);
                  Value w = tensor::ExtractOp::create(
                      lb, ll, main, ValueRange{gIndex, bitsOf(0, ib), e});
                  if (residual)
                    w = arith::AddFOp::create(
                        lb, ll, w,
                        tensor::ExtractOp::create(
                            lb, ll, residual,
                            ValueRange{gIndex, bitsOf(ib, rb), e}));
                  Value p = arith::AddIOp::create(lb, ll, col,
                                                  c(lb, ll, o + g * gs));
                  accumulate(lb, ll, sum[0], p, w);
                });
            acc = loop.getResult(0);
          }
          if (o) {
            Value ro = arith::DivUIOp::create(nb, nl, row, c(nb, nl, vo));
            Value eo = arith::RemUIOp::create(nb, nl, row, c(nb, nl, vo));
            Value rowBit = arith::MulIOp::create(
                nb, nl, ro, c(nb, nl, wordBits(o, ob)));
            auto loop = scf::ForOp::create(
                nb, nl, c(nb, nl, 0), c(nb, nl, o), c(nb, nl, 1),
                ValueRange{acc},
                [&](OpBuilder &lb, Location ll, Value p, ValueRange sum) {
                  Value field = fieldAt(lb, ll, outlierBytes, outlierLast,
                                        rowBit, p, ob);
                  Value k = arith::IndexCastUIOp::create(
                      lb, ll, lb.getIndexType(), field);
                  Value w = tensor::ExtractOp::create(
                      lb, ll, outliers, ValueRange{c(lb, ll, 0), k, eo});
                  accumulate(lb, ll, sum[0], p, w);
                });
            acc = loop.getResult(0);
          }
          if (beta)
            acc = arith::AddFOp::create(
                nb, nl, acc, tensor::ExtractOp::create(nb, nl, beta, item));
          return acc;
        });
    return y;
  }
};

} // namespace

void mlir::qet::populateVptqQMatmulToScfPatterns(RewritePatternSet &patterns) {
  patterns.add<VptqQMatmulLowering>(patterns.getContext());
}
