//===- Lopq.h - Locally optimized PQ, as the reference defines it -*- C++ -*-===//
//
// qem.md §9: a coarse k-means splits the rows into L clusters (label = the
// nearest final coarse centroid); each non-empty cluster c gets its own OPQ
// of its raw rows with Ks_c = min(Ks, n_c). The coarse centroids are not
// stored. Streams: "labels" (n at ceil(log2 L) bits), then for each
// non-empty cluster c: "c<c>.rotation", "c<c>.codebooks", "c<c>.codes"
// (the cluster's rows in ascending row order).
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_LOPQ_H
#define QET_QUANTIZER_LOPQ_H

#include "qet/Quantizer/Opq.h"

#include <string>
#include <vector>

namespace qet::quant {

struct LopqModel {
  size_t rows = 0, cols = 0;
  size_t clusters = 0; // L
  /// Cluster of each row.
  std::vector<uint32_t> labels;
  /// One OPQ per cluster; an empty cluster's has pq.rows == 0.
  std::vector<OpqModel> parts;
};

/// Stream prefix of cluster c: "c<c>.".
std::string lopqClusterPrefix(size_t cluster);

Matrix decodeLopq(const LopqModel &model, unsigned threads = 0);
void packLopq(const LopqModel &model, PackedMatrix &packed);
LopqModel unpackLopq(const PackedMatrix &packed);
/// Decodes a packed "lopq" matrix from its streams alone.
Matrix decodeLopq(const PackedMatrix &packed, unsigned threads = 0);

/// The `lopq` scheme: Ks from the solver's upper bound (qem.md §9), L =
/// options.lopqClusters. Params: M, Ks, L, cluster rows, cluster Ks,
/// iterations, rounds, seed.
QuantizeResult quantizeLopq(const Matrix &input,
                            const QuantizeOptions &options);

} // namespace qet::quant

#endif // QET_QUANTIZER_LOPQ_H
