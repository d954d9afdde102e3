//===- MetricsTest.cpp - Error metrics ------------------------------------===//

#include "qet/Quantizer/Metrics.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Random.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace qet::quant;

namespace {

TEST(Metrics, HandComputed) {
  Matrix x(2, 2), y(2, 2);
  x.values = {1, -2, 3, 0};
  y.values = {1.5f, -2, 1, 0};
  ErrorMetrics m = measureError(x, y);
  EXPECT_DOUBLE_EQ(m.mse, (0.25 + 4) / 4);
  EXPECT_DOUBLE_EQ(m.mae, (0.5 + 2) / 4);
  EXPECT_DOUBLE_EQ(m.relFrobenius, std::sqrt(4.25 / 14));
  EXPECT_DOUBLE_EQ(m.maxAbs, 2);
  EXPECT_THROW(measureError(x, Matrix(2, 3)), Error);
}

TEST(Metrics, RelativeFrobeniusSquaredIsMseOverPower) {
  Rng rng(1);
  Matrix x(20, 30), y(20, 30);
  double power = 0;
  for (size_t i = 0; i < x.values.size(); ++i) {
    x.values[i] = float(rng.normal());
    y.values[i] = x.values[i] + float(0.1 * rng.normal());
    power += double(x.values[i]) * x.values[i];
  }
  ErrorMetrics m = measureError(x, y);
  EXPECT_NEAR(m.relFrobenius * m.relFrobenius, m.mse / (power / 600), 1e-12);
}

TEST(Metrics, InnerProductErrorMatchesDirectSum) {
  Rng rng(2);
  Matrix k(7, 5), kq(7, 5), q(3, 5);
  for (size_t i = 0; i < k.values.size(); ++i) {
    k.values[i] = float(rng.normal());
    kq.values[i] = k.values[i] + float(0.05 * rng.normal());
  }
  for (float &v : q.values)
    v = float(rng.normal());
  double num = 0, den = 0;
  for (size_t a = 0; a < q.rows; ++a) {
    for (size_t b = 0; b < k.rows; ++b) {
      double exact = 0, approx = 0;
      for (size_t c = 0; c < 5; ++c) {
        exact += double(q.at(a, c)) * k.at(b, c);
        approx += double(q.at(a, c)) * kq.at(b, c);
      }
      num += (approx - exact) * (approx - exact);
      den += exact * exact;
    }
  }
  EXPECT_NEAR(innerProductError(k, kq, q), num / den, 1e-12);
  EXPECT_EQ(innerProductError(k, k, q), 0.0);
  EXPECT_THROW(innerProductError(k, kq, Matrix(3, 4)), Error);
}

} // namespace
