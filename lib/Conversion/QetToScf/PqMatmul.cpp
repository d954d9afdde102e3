//===- PqMatmul.cpp - qet.qmatmul of PQ/OPQ weights as table lookups ------===//
//
// W's row n is the concatenation of codewords C[s, code(n, s)] (times R^T
// for OPQ; LOPQ: per cluster, the products stacked and read back per row),
// so
//   y[b, n] = sum_s T[b, s, code(n, s)],  T[b, s, c] = <x'_s[b], C[s, c]>
// with x' = x (PQ) or x R (OPQ: W = P R^T, so W x = P (R^T x)). The tables
// cost B * K * D multiply-adds per call; each output then costs M lookups
// instead of D multiply-adds, and the weight is never decoded. Byte codes
// (256 centroids or fewer, stored 8 bits each) with M a multiple of 8 are
// summed eight subspaces at a time: one 8-byte read, one vector.gather from
// the tables (vgatherdps on AVX2), eight independent accumulator lanes.
// Other code widths are read from their bit stream inside a scalar
// contraction.
//
//===----------------------------------------------------------------------===//

#include "QetToScfPatterns.h"

#include "qet/Conversion/QetToLinalg/QetToLinalg.h"
#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"
#include "qet/Dialect/Qet/Utils/LopqRows.h"
#include "qet/Quantizer/Lopq.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::qet;

namespace {

/// y[b, n] = sum_s tables[b, s, codes[n * M + s]] for byte codes, M a
/// multiple of 8: per (n, b), M / 8 gathers of eight table entries.
Value gatherSums(OpBuilder &b, Location loc, Value tables, Value codes,
                 int64_t batch, int64_t rows, int64_t m, int64_t k) {
  Value flat = tensor::CollapseShapeOp::create(
      b, loc, tables, SmallVector<ReassociationIndices>{{0, 1, 2}});
  auto i32Vec = VectorType::get({8}, b.getI32Type());
  auto f32Vec = VectorType::get({8}, b.getF32Type());
  SmallVector<int32_t> laneOffsets;
  for (int32_t lane = 0; lane < 8; ++lane)
    laneOffsets.push_back(lane * static_cast<int32_t>(k));
  Value lanes = arith::ConstantOp::create(
      b, loc, i32Vec,
      DenseElementsAttr::get(i32Vec, ArrayRef<int32_t>(laneOffsets)));
  Value lastCode = arith::ConstantOp::create(
      b, loc, i32Vec,
      DenseElementsAttr::get(i32Vec, static_cast<int32_t>(k - 1)));
  Value zeros = arith::ConstantOp::create(b, loc, f32Vec,
                                          DenseElementsAttr::get(f32Vec, 0.0f));
  Value all = vector::ConstantMaskOp::create(
      b, loc, VectorType::get({8}, b.getI1Type()), ArrayRef<int64_t>{8});
  Value padByte = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);
  Value c0 = indexConstant(b, loc, 0), c1 = indexConstant(b, loc, 1);
  Value y = tensor::EmptyOp::create(b, loc, {batch, rows}, b.getF32Type());
  return scf::ForOp::create(
             b, loc, c0, indexConstant(b, loc, rows), c1, ValueRange{y},
             [&](OpBuilder &rb, Location rl, Value n, ValueRange rowIter) {
               Value rowCodes =
                   arith::MulIOp::create(rb, rl, n, indexConstant(rb, rl, m));
               auto items = scf::ForOp::create(
                   rb, rl, c0, indexConstant(rb, rl, batch), c1,
                   ValueRange{rowIter[0]},
                   [&](OpBuilder &ib, Location il, Value item,
                       ValueRange itemIter) {
                     auto sums = scf::ForOp::create(
                         ib, il, c0, indexConstant(ib, il, m),
                         indexConstant(ib, il, 8), ValueRange{zeros},
                         [&](OpBuilder &sb, Location sl, Value s,
                             ValueRange acc) {
                           Value bytes = vector::TransferReadOp::create(
                               sb, sl, VectorType::get({8}, sb.getI8Type()),
                               codes,
                               ValueRange{
                                   arith::AddIOp::create(sb, sl, rowCodes, s)},
                               padByte, ArrayRef<bool>{true});
                           Value code =
                               arith::ExtUIOp::create(sb, sl, i32Vec, bytes);
                           // Clamped: a corrupt code cannot leave its table.
                           if (k < 256)
                             code =
                                 arith::MinUIOp::create(sb, sl, code, lastCode);
                           // (item * M + s) * K: the first lane's table.
                           Value table = arith::MulIOp::create(
                               sb, sl,
                               arith::AddIOp::create(
                                   sb, sl,
                                   arith::MulIOp::create(
                                       sb, sl, item, indexConstant(sb, sl, m)),
                                   s),
                               indexConstant(sb, sl, k));
                           Value at = arith::AddIOp::create(
                               sb, sl,
                               arith::AddIOp::create(sb, sl, code, lanes),
                               vector::BroadcastOp::create(
                                   sb, sl, i32Vec,
                                   arith::IndexCastOp::create(
                                       sb, sl, sb.getI32Type(), table)));
                           Value entries = vector::GatherOp::create(
                               sb, sl, f32Vec, flat, ValueRange{c0}, at, all,
                               zeros);
                           scf::YieldOp::create(
                               sb, sl,
                               ValueRange{arith::AddFOp::create(sb, sl, acc[0],
                                                                entries)});
                         });
                     Value total = vector::ReductionOp::create(
                         ib, il, vector::CombiningKind::ADD, sums.getResult(0));
                     scf::YieldOp::create(
                         ib, il,
                         ValueRange{tensor::InsertOp::create(
                             ib, il, total, itemIter[0], ValueRange{item, n})});
                   });
               scf::YieldOp::create(rb, rl, items.getResult(0));
             })
      .getResult(0);
}

/// y[b, j] = sum_s T[b, s, code(j, s)] for the `rows` rows of the PQ model
/// in `packed`'s components `prefix`codebooks and `prefix`codes (M
/// subspaces, K centroids), x rotated first by `prefix`rotation when
/// `rotated` (OPQ: W = P R^T, so W x = P (R^T x)).
Value pqProduct(OpBuilder &rewriter, Location loc, Value x, Value packed,
                StringRef prefix, int64_t rows, int64_t m, int64_t k,
                bool rotated) {
  auto type = cast<PackedType>(packed.getType());
  MLIRContext *ctx = rewriter.getContext();
  int64_t batch = cast<RankedTensorType>(x.getType()).getDimSize(0),
          cols = type.getCols(), sub = cols / m;
  auto name = [&](StringRef component) { return (prefix + component).str(); };

  auto reduceLast = [&](int64_t parallel) {
    SmallVector<utils::IteratorType> it(parallel,
                                        utils::IteratorType::parallel);
    it.push_back(utils::IteratorType::reduction);
    return it;
  };
  auto multiplyAdd = [](OpBuilder &nb, Location nl, ValueRange args,
                        ValueRange) -> Value {
    Value product = arith::MulFOp::create(nb, nl, args[0], args[1]);
    return arith::AddFOp::create(nb, nl, args[2], product);
  };
  if (rotated) {
    // x'[b, j] = sum_i x[b, i] R[i, j].
    Value r =
        packedFloats(rewriter, loc, packed, name("rotation"), {cols, cols});
    AffineExpr b, j, i;
    bindDims(ctx, b, j, i);
    SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {b, i}, ctx),
                                   AffineMap::get(3, 0, {i, j}, ctx),
                                   AffineMap::get(3, 0, {b, j}, ctx)};
    x = contraction(rewriter, loc, {batch, cols}, maps, ValueRange{x, r},
                    reduceLast(2), multiplyAdd);
  }

  // T[b, s, c] = sum_e x'[b, s * sub + e] C[s, c, e].
  Value books =
      packedFloats(rewriter, loc, packed, name("codebooks"), {m, k, sub});
  Value grouped = tensor::ExpandShapeOp::create(
      rewriter, loc,
      RankedTensorType::get({batch, m, sub}, rewriter.getF32Type()), x,
      SmallVector<ReassociationIndices>{{0}, {1, 2}});
  AffineExpr b, s, c, e;
  bindDims(ctx, b, s, c, e);
  SmallVector<AffineMap> tableMaps = {AffineMap::get(4, 0, {b, s, e}, ctx),
                                      AffineMap::get(4, 0, {s, c, e}, ctx),
                                      AffineMap::get(4, 0, {b, s, c}, ctx)};
  Value tables =
      contraction(rewriter, loc, {batch, m, k}, tableMaps,
                  ValueRange{grouped, books}, reduceLast(3), multiplyAdd);

  // y[b, n] = sum_s T[b, s, code(n, s)].
  StorageComponent codes = packedComponent(packed, name("codes"));
  Value codeBytes = packedBytes(rewriter, loc, packed, name("codes"));
  int64_t bits = codes.bitsEach, lastByte = codes.bytes() - 1;
  if (bits == 8 && m % 8 == 0 && batch * m * k < (int64_t{1} << 31))
    return gatherSums(rewriter, loc, tables, codeBytes, batch, rows, m, k);
  AffineExpr bb, n;
  bindDims(ctx, bb, n);
  SmallVector<AffineMap> sumMaps = {AffineMap::get(2, 0, {bb, n}, ctx)};
  SmallVector<utils::IteratorType> parallel2(2, utils::IteratorType::parallel);
  Value y = contraction(
      rewriter, loc, {batch, rows}, sumMaps, ValueRange{}, parallel2,
      [&](OpBuilder &nb, Location nl, ValueRange args,
          ValueRange idx) -> Value {
        auto c = [&](int64_t v) -> Value {
          return arith::ConstantIndexOp::create(nb, nl, v);
        };
        auto loop = scf::ForOp::create(
            nb, nl, c(0), c(m), c(1), ValueRange{args[0]},
            [&](OpBuilder &lb, Location ll, Value sIndex, ValueRange acc) {
              Value code = arith::ConstantIndexOp::create(lb, ll, 0);
              if (bits > 0) { // one centroid: every code is 0
                Value field = arith::AddIOp::create(
                    lb, ll,
                    arith::MulIOp::create(
                        lb, ll, idx[1],
                        arith::ConstantIndexOp::create(lb, ll, m)),
                    sIndex);
                Value bit = arith::MulIOp::create(
                    lb, ll, field,
                    arith::ConstantIndexOp::create(lb, ll, bits));
                Value value =
                    extractBitField(lb, ll, codeBytes, Value(), bit, bits,
                                    lastByte, lb.getI32Type(), false);
                // Clamped: a corrupt code cannot read outside the table.
                code = arith::MinUIOp::create(
                    lb, ll,
                    arith::IndexCastUIOp::create(lb, ll, lb.getIndexType(),
                                                 value),
                    arith::ConstantIndexOp::create(lb, ll, k - 1));
              }
              Value entry = tensor::ExtractOp::create(
                  lb, ll, tables, ValueRange{idx[0], sIndex, code});
              scf::YieldOp::create(
                  lb, ll,
                  ValueRange{arith::AddFOp::create(lb, ll, acc[0], entry)
                                 .getResult()});
            });
        return loop.getResult(0);
      });
  return y;
}

struct PqQMatmulLowering : QMatmulLowering<PqAttr> {
  using QMatmulLowering::QMatmulLowering;

  Value build(PatternRewriter &rewriter, QMatmulOp op, PqAttr pq,
              Value x) const override {
    return pqProduct(rewriter, op.getLoc(), x, op.getWeight(), "",
                     op.getWeight().getType().getRows(),
                     static_cast<int64_t>(pq.getSubspaces()),
                     static_cast<int64_t>(pq.getCentroids()), pq.getRotated());
  }
};

/// LOPQ: each non-empty cluster c is an OPQ model of its rows, so its
/// products are pqProduct with x R_c; they are stacked in cluster order and
/// row n reads its cluster's product at its rank among that cluster's rows
/// (lopqRowPositions, the scan qet-decompose uses).
struct LopqQMatmulLowering : QMatmulLowering<LopqAttr> {
  using QMatmulLowering::QMatmulLowering;

  Value build(PatternRewriter &rewriter, QMatmulOp op, LopqAttr lopq,
              Value x) const override {
    Location loc = op.getLoc();
    Value packed = op.getWeight();
    PackedType type = op.getWeight().getType();
    int64_t batch = cast<RankedTensorType>(x.getType()).getDimSize(0),
            rows = type.getRows();
    ArrayRef<int64_t> clusterRows = lopq.getClusterRows().asArrayRef();
    ArrayRef<int64_t> centroids = lopq.getClusterCentroids().asArrayRef();
    int64_t m = static_cast<int64_t>(lopq.getSubspaces());
    Value stacked = tensor::EmptyOp::create(rewriter, loc, {batch, rows},
                                            rewriter.getF32Type());
    int64_t offset = 0;
    for (size_t c = 0; c < clusterRows.size(); ++c) {
      if (clusterRows[c] == 0)
        continue;
      Value part = pqProduct(rewriter, loc, x, packed,
                             ::qet::quant::lopqClusterPrefix(c), clusterRows[c],
                             m, centroids[c], /*rotated=*/true);
      SmallVector<OpFoldResult> offsets = {rewriter.getIndexAttr(0),
                                           rewriter.getIndexAttr(offset)};
      SmallVector<OpFoldResult> sizes = {rewriter.getIndexAttr(batch),
                                         rewriter.getIndexAttr(clusterRows[c])};
      SmallVector<OpFoldResult> strides(2, rewriter.getIndexAttr(1));
      stacked = tensor::InsertSliceOp::create(rewriter, loc, part, stacked,
                                              offsets, sizes, strides);
      offset += clusterRows[c];
    }
    // One cluster stores no label bits: every label is 0.
    StorageComponent labelField = packedComponent(packed, "labels");
    auto labelsType = RankedTensorType::get({rows}, rewriter.getI32Type());
    Value labels =
        labelField.bitsEach == 0
            ? arith::ConstantOp::create(
                  rewriter, loc, labelsType,
                  DenseElementsAttr::get(labelsType,
                                         rewriter.getI32IntegerAttr(0)))
                  .getResult()
            : BitUnpackOp::create(
                  rewriter, loc, labelsType,
                  packedBytes(rewriter, loc, packed, "labels"),
                  rewriter.getI64IntegerAttr(labelField.bitsEach), UnitAttr())
                  .getResult();
    Value rowOf = lopqRowPositions(rewriter, loc, labels, clusterRows);
    return generate(rewriter, loc,
                    RankedTensorType::get({batch, rows}, rewriter.getF32Type()),
                    [&](OpBuilder &nb, Location nl, ValueRange idx) -> Value {
                      Value r =
                          tensor::ExtractOp::create(nb, nl, rowOf, idx[1]);
                      return tensor::ExtractOp::create(nb, nl, stacked,
                                                       ValueRange{idx[0], r});
                    });
  }
};

} // namespace

void mlir::qet::populatePqQMatmulToScfPatterns(RewritePatternSet &patterns) {
  patterns.add<PqQMatmulLowering, LopqQMatmulLowering>(patterns.getContext());
}
