//===- LopqRows.h - An LOPQ row's place among its cluster's -*- C++ -*-===//
//
// Shared by qet-decompose (decoded rows) and convert-qet-to-scf (products):
// both stack the per-cluster results in cluster order and read row n at its
// cluster's start plus its rank among the rows of that cluster.
//
//===----------------------------------------------------------------------===//
#ifndef QET_DIALECT_QET_UTILS_LOPQROWS_H
#define QET_DIALECT_QET_UTILS_LOPQROWS_H

#include "mlir/IR/Builders.h"

namespace mlir::qet {

/// positions[n] = start(labels[n]) + #{i < n : labels[i] == labels[n]} as an
/// index tensor, with start(c) the rows of the clusters before c; labels
/// (i32, one per row) are clamped to the clusters and positions to the rows,
/// so corrupt labels cannot address outside the stacked result.
Value lopqRowPositions(OpBuilder &b, Location loc, Value labels,
                       ArrayRef<int64_t> clusterRows);

} // namespace mlir::qet

#endif // QET_DIALECT_QET_UTILS_LOPQROWS_H
