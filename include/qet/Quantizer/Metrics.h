//===- Metrics.h - Quantization error metrics ------------------*- C++ -*-===//
//
// qem.md §3: accumulated in fp64. relF = ||X - X'||_F / ||X||_F.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_METRICS_H
#define QET_QUANTIZER_METRICS_H

#include "qet/Quantizer/Matrix.h"

namespace qet::quant {

struct ErrorMetrics {
  double mse = 0;          // mean of (X - X')^2
  double mae = 0;          // mean of |X - X'|
  double relFrobenius = 0; // ||X - X'||_F / ||X||_F (0 when X = 0 = X')
  double maxAbs = 0;       // largest |X - X'|
};

/// Errors of `approx` against `reference` (same shape, else Error).
ErrorMetrics measureError(const Matrix &reference, const Matrix &approx);

/// Inner-product (logit) error against query vectors (rows of `queries`,
/// same width as the keys): sum over all (query, key) pairs of
/// (<q, k'> - <q, k>)^2, divided by the sum of <q, k>^2.
double innerProductError(const Matrix &keys, const Matrix &approxKeys,
                         const Matrix &queries);

} // namespace qet::quant

#endif // QET_QUANTIZER_METRICS_H
