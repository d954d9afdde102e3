//===- RowDecoderTest.cpp - Fused y = W_hat x against dense decoding ------===//

#include "qet/Quantizer/RowDecoder.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Qet.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"
#include "qet/Quantizer/SyntheticData.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

using namespace qet::quant;

namespace {

struct Case {
  size_t rows, cols;
  unsigned m, depth;
};

/// Awkward shapes: one row, partial row groups of 8, d/2 not a multiple of
/// the SIMD width, odd sub-vector widths, final swap blocks of odd width.
const Case kCases[] = {{1, 8, 2, 2},   {37, 12, 3, 2}, {64, 16, 4, 3},
                       {130, 40, 5, 3}, {257, 24, 6, 3}, {19, 6, 3, 1},
                       {300, 128, 8, 3}};

/// Parts whose sum is W_hat: the stages for hera/qet, W_hat itself otherwise.
std::vector<Matrix> partsOf(const QuantizeResult &result) {
  if (result.scheme == "hera" || result.scheme == "qet") {
    QetModel model = unpackQet(result.packed);
    std::vector<Matrix> parts;
    for (size_t s = 0; s < model.stages.size(); ++s)
      parts.push_back(decodeQetStage(model, s));
    return parts;
  }
  return {result.reconstruction};
}

void checkFused(const QuantizeResult &result, const std::string &label) {
  SCOPED_TRACE(label);
  const Matrix &dense = result.reconstruction;
  const size_t n = dense.rows, d = dense.cols;
  FusedRowDecoder decoder(result.packed);
  ASSERT_EQ(decoder.rows(), n);
  ASSERT_EQ(decoder.cols(), d);
  Rng rng(n * 31 + d);
  std::vector<float> x(d);
  double xNorm = 0.0;
  for (float &v : x) {
    v = static_cast<float>(rng.normal());
    xNorm += double(v) * v;
  }
  xNorm = std::sqrt(xNorm);
  std::vector<float> y = decoder.multiply(x, 2);
  std::vector<Matrix> parts = partsOf(result);
  for (size_t i = 0; i < n; ++i) {
    // fp64 references: the exact sum over the parts, and dense W_hat x.
    double exact = 0.0, denseDot = 0.0, scale = 0.0;
    for (const Matrix &part : parts) {
      double rowNorm = 0.0;
      for (size_t j = 0; j < d; ++j) {
        exact += double(part.at(i, j)) * x[j];
        rowNorm += double(part.at(i, j)) * part.at(i, j);
      }
      scale += std::sqrt(rowNorm) * xNorm;
    }
    for (size_t j = 0; j < d; ++j)
      denseDot += double(dense.at(i, j)) * x[j];
    // |fl(a.b) - a.b| <= gamma_d sum |a_j b_j| <= gamma_d |a| |b|: relative
    // 1e-5 of the parts' norms covers fp32 summation in any order.
    double tolerance = 1e-5 * scale + 1e-30;
    EXPECT_NEAR(y[i], exact, tolerance) << "row " << i;
    EXPECT_NEAR(y[i], denseDot, tolerance) << "row " << i;
  }
  // Rows are independent: the thread count changes nothing.
  std::vector<float> one = decoder.multiply(x, 1), three = decoder.multiply(x, 3);
  EXPECT_EQ(std::memcmp(one.data(), y.data(), n * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(three.data(), y.data(), n * sizeof(float)), 0);
}

} // namespace

TEST(QetRowDecoder, FusedEqualsDenseMatvecForEveryScheme) {
  for (const Case &c : kCases) {
    Matrix w = makeSynthetic(Family::StudentT, c.rows, c.cols, c.rows + c.cols);
    const std::string shape = std::to_string(c.rows) + "x" +
                              std::to_string(c.cols) + " M=" +
                              std::to_string(c.m) + " l=" +
                              std::to_string(c.depth);
    QuantizeOptions options;
    options.subspaces = c.m;
    options.threads = 2;
    options.iterations = 8;
    // Tiny matrices need room for the codebooks (Ks * d * 32 bits).
    const double room = 96.0 / c.rows;
    options.bpe = 4 + room;
    checkFused(quantize("pq", w, options), "pq " + shape);
    options.depths = {c.depth};
    checkFused(quantize("hera", w, options), "hera " + shape);
    options.depths = {c.depth, 0};
    options.split = {0.7, 0.3};
    checkFused(quantize("qet", w, options), "qet " + shape);
    options.bpe = 6 + 3 * room;
    options.depths = {c.depth, 1, 0}; // two gather stages and a table stage
    options.split = {0.5, 0.3, 0.2};
    options.codebookBits = {10, 0, 8};
    checkFused(quantize("qet", w, options), "qet 3 stages " + shape);
    options.depths.clear();
    options.split.clear();
    options.codebookBits.clear();
    options.opqRounds = 3;
    // Rotations take d^2 * 32 bits: give them room.
    options.bpe = 8 + 32.0 * c.cols / c.rows + room;
    checkFused(quantize("opq", w, options), "opq " + shape);
    if (c.rows >= 8) {
      options.bpe = 8 + 64.0 * c.cols / c.rows + 2 * room;
      checkFused(quantize("lopq", w, options), "lopq " + shape);
    }
  }
}

TEST(QetRowDecoder, RejectsOtherSchemes) {
  Matrix w = makeSynthetic(Family::Gaussian, 16, 16, 1);
  QuantizeOptions options;
  options.bpe = 4;
  QuantizeResult rtn = quantize("rtn", w, options);
  EXPECT_THROW(FusedRowDecoder decoder(rtn.packed), Error);
  QuantizeResult pq = quantize("pq", w, options);
  FusedRowDecoder decoder(pq.packed);
  EXPECT_THROW(decoder.multiply(std::vector<float>(15)), Error);
}
