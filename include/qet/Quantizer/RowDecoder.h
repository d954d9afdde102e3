//===- RowDecoder.h - Fused dequantize + matrix-vector product -*- C++ -*-===//
//
// qet.md §5: y = W_hat x for a packed n x d matrix without materializing
// W_hat. These are the reference semantics the compiler kernels must match.
// - pq: a table T[m][k] = <C_m[k], x_m> (Ks*d FMAs once per x), then
//   y_i = sum_m T[m][code(i, m)].
// - opq: x' = R^T x once, then as pq. lopq: one x' and one table per
//   cluster.
// - hera / qet: a stage with l = 0 uses the table path; a stage with l > 0
//   gathers x per row with the row's swap bits (x~[p] = x[pi_i(p)]) and dots
//   it with the row's concatenated codewords. CQO codebooks are expanded to
//   fp32 once, when the decoder is built. y = sum of the stages, in order.
//
// Sums are fp32 in a fixed order, independent of the thread count; they
// differ from dense dequantization + matvec only by summation order.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_ROWDECODER_H
#define QET_QUANTIZER_ROWDECODER_H

#include "qet/Quantizer/PackedMatrix.h"
#include "qet/Quantizer/SwapTree.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qet::quant {

class FusedRowDecoder {
public:
  /// Reads a packed pq, opq, lopq, hera or qet matrix (Error otherwise).
  explicit FusedRowDecoder(const PackedMatrix &packed);

  size_t rows() const { return numRows; }
  size_t cols() const { return numCols; }

  /// y[0, rows) = W_hat x[0, cols).
  void multiply(const float *x, float *y, unsigned threads = 0) const;
  std::vector<float> multiply(const std::vector<float> &x,
                              unsigned threads = 0) const;

private:
  /// One PQ-coded part of W_hat: all rows (pq, opq, a hera/qet stage) or
  /// one LOPQ cluster's rows.
  struct Part {
    size_t subspaces = 0, centroids = 0;
    std::vector<float> codebooks;  // M x Ks x Ds, fp32
    std::vector<uint32_t> codes;   // partRows x M
    std::vector<uint32_t> rowIndex; // output row of each part row; empty = identity
    std::vector<float> rotation;   // d x d (Y = X R); empty = none
    SwapBits swaps;                // depth 0 = table path
  };

  void addTablePart(const Part &part, const float *x, float *y,
                    unsigned threads) const;
  void addGatherPart(const Part &part, const float *x, float *y,
                     unsigned threads) const;

  size_t numRows = 0, numCols = 0;
  std::vector<Part> parts;
};

} // namespace qet::quant

#endif // QET_QUANTIZER_ROWDECODER_H
