//===- PqMatmul.cpp - qet.qmatmul of PQ/OPQ weights as table lookups ------===//
//
// W's row n is the concatenation of codewords C[s, code(n, s)] (times R^T
// for OPQ), so
//   y[b, n] = sum_s T[b, s, code(n, s)],  T[b, s, c] = <x'_s[b], C[s, c]>
// with x' = x (PQ) or x R (OPQ: W = P R^T, so W x = P (R^T x)). The tables
// cost B * K * D multiply-adds per call; each output then costs M lookups
// instead of D multiply-adds, and the weight is never decoded. Codes are
// read from their bit stream inside the summing contraction.
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

const StorageComponent &findComponent(ArrayRef<StorageComponent> components,
                                      StringRef name) {
  for (const StorageComponent &c : components)
    if (c.name == name)
      return c;
  llvm_unreachable("component not in the scheme's layout");
}

struct PqQMatmulLowering : QMatmulLowering<PqAttr> {
  using QMatmulLowering::QMatmulLowering;

  Value build(PatternRewriter &rewriter, QMatmulOp op, PqAttr pq,
              Value x) const override {
    PackedType type = op.getWeight().getType();
    auto xType = op.getInput().getType();
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value packed = op.getWeight();
    int64_t batch = xType.getDimSize(0), rows = type.getRows(),
            cols = type.getCols();
    int64_t m = static_cast<int64_t>(pq.getSubspaces()),
            k = static_cast<int64_t>(pq.getCentroids()), sub = cols / m;
    SmallVector<StorageComponent> components = type.getComponents();

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
    if (pq.getRotated()) {
      // x'[b, j] = sum_i x[b, i] R[i, j].
      Value r = packedFloats(rewriter, loc, packed, "rotation", {cols, cols});
      AffineExpr b, j, i;
      bindDims(ctx, b, j, i);
      SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {b, i}, ctx),
                                     AffineMap::get(3, 0, {i, j}, ctx),
                                     AffineMap::get(3, 0, {b, j}, ctx)};
      x = contraction(rewriter, loc, {batch, cols}, maps, ValueRange{x, r},
                      reduceLast(2), multiplyAdd);
    }

    // T[b, s, c] = sum_e x'[b, s * sub + e] C[s, c, e].
    Value books = packedFloats(rewriter, loc, packed, "codebooks", {m, k, sub});
    Value grouped = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get({batch, m, sub}, rewriter.getF32Type()),
        x, SmallVector<ReassociationIndices>{{0}, {1, 2}});
    AffineExpr b, s, c, e;
    bindDims(ctx, b, s, c, e);
    SmallVector<AffineMap> tableMaps = {AffineMap::get(4, 0, {b, s, e}, ctx),
                                        AffineMap::get(4, 0, {s, c, e}, ctx),
                                        AffineMap::get(4, 0, {b, s, c}, ctx)};
    Value tables =
        contraction(rewriter, loc, {batch, m, k}, tableMaps,
                    ValueRange{grouped, books}, reduceLast(3), multiplyAdd);

    // y[b, n] = sum_s T[b, s, code(n, s)].
    const StorageComponent &codes = findComponent(components, "codes");
    Value codeBytes = packedBytes(rewriter, loc, packed, "codes");
    int64_t bits = codes.bitsEach, lastByte = codes.bytes() - 1;
    AffineExpr bb, n;
    bindDims(ctx, bb, n);
    SmallVector<AffineMap> sumMaps = {AffineMap::get(2, 0, {bb, n}, ctx)};
    SmallVector<utils::IteratorType> parallel2(2,
                                               utils::IteratorType::parallel);
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
                    ValueRange{
                        arith::AddFOp::create(lb, ll, acc[0], entry)
                            .getResult()});
              });
          return loop.getResult(0);
        });
    return y;
  }
};

} // namespace

void mlir::qet::populatePqQMatmulToScfPatterns(RewritePatternSet &patterns) {
  patterns.add<PqQMatmulLowering>(patterns.getContext());
}
