//===- Opq.h - Optimized product quantization (OPQ) ------------*- C++ -*-===//
//
// qem.md §8: an orthogonal d x d rotation R (from the identity) alternates
// with PQ for P rounds: Y = X R, fit PQ on Y (1 Lloyd iteration, T in the
// last round), then R = U V^T from the SVD of X^T Yhat (orthogonal
// Procrustes). Decode: X' = PQdecode(codes) R^T. Stored: the PQ streams plus
// "rotation" (d*d floats at cb bits, row-major).
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_OPQ_H
#define QET_QUANTIZER_OPQ_H

#include "qet/Quantizer/ProductQuantizer.h"

#include <functional>
#include <string>
#include <vector>

namespace qet::quant {

struct OpqConfig {
  PqConfig pq;         // iterations = T of the last round
  unsigned rounds = 10; // P >= 1
};

struct OpqModel {
  /// d x d row-major, Y = X R; values representable in the input dtype.
  std::vector<float> rotation;
  /// PQ of X R (codes of the training rows included).
  PqModel pq;
};

/// Trains OPQ on `x`. `progress` (may be empty) gets the finished fraction
/// after each round.
OpqModel trainOpq(const Matrix &x, const OpqConfig &config,
                  const std::function<void(double)> &progress = {});

/// x R, or x R^T when `transpose`, for a d x d row-major R (fp32 GEMM in
/// fixed row blocks, so the result does not depend on `threads`).
Matrix multiplyRotation(const Matrix &x, const std::vector<float> &rotation,
                        bool transpose, unsigned threads = 0);

/// The orthogonal R minimizing ||x R - target||_F: U V^T from the SVD of
/// x^T target (d x d, row-major).
std::vector<float> procrustesRotation(const Matrix &x, const Matrix &target,
                                      unsigned threads = 0);

Matrix decodeOpq(const OpqModel &model, unsigned threads = 0);
/// Appends `prefix`"rotation" and the PQ streams under the same prefix.
void packOpq(const OpqModel &model, PackedMatrix &packed,
             const std::string &prefix = "");
OpqModel unpackOpq(const PackedMatrix &packed, uint64_t rows, uint64_t cols,
                   const std::string &prefix = "");
/// Decodes a packed "opq" matrix from its streams alone.
Matrix decodeOpq(const PackedMatrix &packed, unsigned threads = 0);

/// The `opq` scheme. Params: M, Ks, iterations, rounds, seed.
QuantizeResult quantizeOpq(const Matrix &input, const QuantizeOptions &options);

} // namespace qet::quant

#endif // QET_QUANTIZER_OPQ_H
