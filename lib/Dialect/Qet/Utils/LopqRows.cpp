//===- LopqRows.cpp - Where an LOPQ row sits among its cluster's rows -----===//

#include "qet/Dialect/Qet/Utils/LopqRows.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

Value mlir::qet::lopqRowPositions(OpBuilder &b, Location loc, Value labels,
                                  ArrayRef<int64_t> clusterRows) {
  int64_t rows = cast<RankedTensorType>(labels.getType()).getDimSize(0);
  int64_t clusters = static_cast<int64_t>(clusterRows.size());
  SmallVector<int64_t> offsets;
  int64_t offset = 0;
  for (int64_t count : clusterRows) {
    offsets.push_back(offset);
    offset += count;
  }
  auto countsType = RankedTensorType::get({clusters}, b.getIndexType());
  Value starts = arith::ConstantOp::create(
      b, loc, countsType,
      DenseElementsAttr::get(countsType, ArrayRef<int64_t>(offsets)));
  Value counts = arith::ConstantOp::create(
      b, loc, countsType,
      DenseElementsAttr::get(countsType, b.getIndexAttr(0)));
  Value positions = tensor::EmptyOp::create(b, loc, {rows}, b.getIndexType());
  auto index = [](OpBuilder &nb, Location nl, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(nb, nl, v);
  };
  auto scan = scf::ForOp::create(
      b, loc, index(b, loc, 0), index(b, loc, rows), index(b, loc, 1),
      ValueRange{positions, counts},
      [&](OpBuilder &nb, Location nl, Value i, ValueRange iter) {
        Value label = arith::IndexCastUIOp::create(
            nb, nl, nb.getIndexType(),
            tensor::ExtractOp::create(nb, nl, labels, i));
        label =
            arith::MinUIOp::create(nb, nl, label, index(nb, nl, clusters - 1));
        Value seen = tensor::ExtractOp::create(nb, nl, iter[1], label);
        Value start = tensor::ExtractOp::create(nb, nl, starts, label);
        Value at = arith::AddIOp::create(nb, nl, start, seen);
        at = arith::MinUIOp::create(nb, nl, at, index(nb, nl, rows - 1));
        Value nextPositions = tensor::InsertOp::create(nb, nl, at, iter[0], i);
        Value more = arith::AddIOp::create(nb, nl, seen, index(nb, nl, 1));
        Value nextCounts =
            tensor::InsertOp::create(nb, nl, more, iter[1], label);
        scf::YieldOp::create(nb, nl, ValueRange{nextPositions, nextCounts});
      });
  return scan.getResult(0);
}
