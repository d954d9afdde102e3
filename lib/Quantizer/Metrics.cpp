//===- Metrics.cpp - Quantization error metrics ---------------------------===//

#include "qet/Quantizer/Metrics.h"

#include "qet/Quantizer/Error.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <string>

namespace qet::quant {

static void requireSameShape(const Matrix &a, const Matrix &b,
                             const char *what) {
  if (a.rows != b.rows || a.cols != b.cols)
    throw Error(std::string(what) + ": shapes differ (" +
                std::to_string(a.rows) + "x" + std::to_string(a.cols) +
                " vs " + std::to_string(b.rows) + "x" +
                std::to_string(b.cols) + ")");
}

ErrorMetrics measureError(const Matrix &reference, const Matrix &approx) {
  requireSameShape(reference, approx, "measureError");
  ErrorMetrics metrics;
  double squared = 0, absolute = 0, energy = 0;
  for (size_t i = 0; i < reference.values.size(); ++i) {
    double x = reference.values[i];
    double diff = x - static_cast<double>(approx.values[i]);
    squared += diff * diff;
    absolute += std::fabs(diff);
    energy += x * x;
    metrics.maxAbs = std::max(metrics.maxAbs, std::fabs(diff));
  }
  double count = static_cast<double>(reference.values.size());
  if (count > 0) {
    metrics.mse = squared / count;
    metrics.mae = absolute / count;
  }
  metrics.relFrobenius = energy > 0 ? std::sqrt(squared / energy) : 0.0;
  return metrics;
}

double innerProductError(const Matrix &keys, const Matrix &approxKeys,
                         const Matrix &queries) {
  requireSameShape(keys, approxKeys, "innerProductError");
  if (queries.cols != keys.cols)
    throw Error("innerProductError: queries have " +
                std::to_string(queries.cols) + " columns, keys " +
                std::to_string(keys.cols));
  using RowMajor =
      Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  auto toDouble = [](const Matrix &m) {
    return Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                                          Eigen::RowMajor>>(
               m.values.data(), m.rows, m.cols)
        .cast<double>()
        .eval();
  };
  RowMajor q = toDouble(queries);
  RowMajor exact = q * toDouble(keys).transpose();
  RowMajor approx = q * toDouble(approxKeys).transpose();
  double energy = exact.squaredNorm();
  if (energy == 0)
    throw Error("innerProductError: every <q, k> is zero; the relative error "
                "is undefined");
  return (approx - exact).squaredNorm() / energy;
}

} // namespace qet::quant
