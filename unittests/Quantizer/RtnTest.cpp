//===- RtnTest.cpp - Group-wise round-to-nearest --------------------------===//

#include "qet/Quantizer/Rtn.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Metrics.h"
#include "qet/Quantizer/Random.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace qet::quant;

namespace {

Matrix rowMatrix(std::vector<float> values) {
  Matrix m(1, values.size());
  m.values = std::move(values);
  return m;
}

Matrix gaussian(size_t rows, size_t cols, uint64_t seed, double sigma = 0.02) {
  return qet::test::gaussianMatrix(rows, cols, seed, sigma);
}

double meanSquare(const Matrix &m) {
  double sum = 0;
  for (float v : m.values)
    sum += double(v) * v;
  return sum / m.values.size();
}

// qem.md §12 oracles.
TEST(Rtn, AsymmetricOracle) {
  RtnEncoded e = rtnEncode(rowMatrix({-0.5f, -1.0f, 2.0f, 0.25f}), {2, 4, false});
  EXPECT_EQ(e.zeroPoints[0], -1.0f);
  EXPECT_EQ(e.scales[0], 1.0f);
  EXPECT_EQ(e.codes, (std::vector<int32_t>{0, 0, 3, 1})); // 0.5 rounds to 0
  Matrix d = rtnDecode(e);
  EXPECT_EQ(d.values, (std::vector<float>{-1, -1, 2, 0}));
  EXPECT_DOUBLE_EQ(measureError(rowMatrix({-0.5f, -1.0f, 2.0f, 0.25f}), d).mse,
                   0.078125);
}

TEST(Rtn, SymmetricOracle) {
  RtnEncoded e = rtnEncode(rowMatrix({-0.5f, -1.0f, 2.0f, 0.25f}), {2, 4, true});
  EXPECT_EQ(e.scales[0], -1.0f);
  EXPECT_EQ(e.codes, (std::vector<int32_t>{0, 1, -2, 0}));
  Matrix d = rtnDecode(e);
  EXPECT_EQ(d.values, (std::vector<float>{0, -1, 2, 0}));
  EXPECT_TRUE(e.zeroPoints.empty());
}

TEST(Rtn, Fp16RoundingOracle) {
  Matrix x = rowMatrix({0.1f, -0.3f, 0.7f, 0.2f});
  RtnEncoded a = rtnEncode(x, {2, 4, false});
  EXPECT_EQ(a.zeroPoints[0], -0.300048828125f);
  EXPECT_EQ(a.scales[0], 0.333251953125f);
  EXPECT_EQ(a.codes, (std::vector<int32_t>{1, 0, 3, 2}));
  EXPECT_EQ(rtnDecode(a).values,
            (std::vector<float>{0.033203125f, -0.300048828125f, 0.69970703125f,
                                0.366455078125f}));
  RtnEncoded s = rtnEncode(x, {2, 4, true});
  EXPECT_EQ(s.scales[0], -0.35009765625f);
  EXPECT_EQ(s.codes, (std::vector<int32_t>{0, 1, -2, -1}));
}

TEST(Rtn, LedgerOracle) {
  EXPECT_EQ(rtnStorageBits(1024, 1024, {4, 128, false}), 1024u * 1024 * 17 / 4);
  EXPECT_DOUBLE_EQ(rtnStorageBits(1024, 1024, {4, 128, false}) / (1024.0 * 1024), 4.25);
  EXPECT_DOUBLE_EQ(rtnStorageBits(1024, 1024, {4, 128, true}) / (1024.0 * 1024), 4.125);
  // A last group of 44 elements still costs a full scale and minimum.
  EXPECT_EQ(rtnStorageBits(3, 300, {3, 128, false}), 3u * (900 + 3 * 32));
}

TEST(Rtn, BudgetPicksLargestFittingBits) {
  EXPECT_EQ(rtnBitsForBudget(1024, 1024, 128, false, 4.25), 4u);
  EXPECT_EQ(rtnBitsForBudget(1024, 1024, 128, false, 4.2499), 3u);
  EXPECT_EQ(rtnBitsForBudget(1024, 1024, 128, true, 4.25), 4u);
  EXPECT_EQ(rtnBitsForBudget(1024, 1024, 128, false, 100), 8u);
  EXPECT_THROW(rtnBitsForBudget(1024, 1024, 128, false, 1.2), BudgetTooSmall);
  try {
    rtnBitsForBudget(16, 16, 4, false, 1.0);
    FAIL() << "expected BudgetTooSmall";
  } catch (const BudgetTooSmall &e) {
    EXPECT_NE(std::string(e.what()).find("16x16"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("9.0000 bpe at 1 bit"), std::string::npos);
  }
}

// Inside a group's range [z, z + L*s] every element is within s/2 of its
// reconstruction; outside it (the fp16 rounding of z and s can cut up to half
// an fp16 ulp off either end) the error is the distance to the range plus s/2
// at most. A tiny relative slack covers fp32 arithmetic.
TEST(Rtn, ErrorBoundedByHalfScale) {
  for (unsigned bits : {1u, 2u, 3u, 4u, 8u}) {
    for (unsigned group : {1u, 7u, 128u}) {
      for (bool symmetric : {false, true}) {
        Matrix x = gaussian(13, 300, bits * 100 + group);
        RtnEncoded e = rtnEncode(x, {bits, group, symmetric});
        Matrix d = rtnDecode(e);
        size_t groups = e.groupsPerRow();
        for (size_t r = 0; r < x.rows; ++r) {
          for (size_t c = 0; c < x.cols; ++c) {
            size_t g = r * groups + c / group;
            double s = std::fabs(e.scales[g]);
            double lo, hi;
            if (symmetric) { // levels q * scale, q in [-half, half - 1]
              double half = double(1u << (bits - 1));
              double a = -half * e.scales[g], b = (half - 1) * e.scales[g];
              lo = std::min(a, b);
              hi = std::max(a, b);
            } else {
              lo = e.zeroPoints[g];
              hi = lo + ((1u << bits) - 1) * s;
            }
            double v = x.at(r, c);
            double outside = std::max({0.0, lo - v, v - hi});
            double slack = 1e-6 * (std::fabs(v) + s) + 1e-12;
            ASSERT_LE(std::fabs(v - d.at(r, c)), s / 2 + outside + slack)
                << "bits " << bits << " group " << group << " sym " << symmetric;
          }
        }
      }
    }
  }
}

TEST(Rtn, ValuesOnTheGridAreExact) {
  // Asymmetric: each 8-element group spans z .. z + 15*s with fp16-exact z, s.
  Matrix x(4, 19);
  Rng rng(3);
  for (size_t r = 0; r < x.rows; ++r) {
    for (size_t c = 0; c < x.cols; ++c) {
      float z = -1.0f + 0.25f * float(r), s = 0.125f;
      uint64_t q = (c % 8 == 0) ? 0 : (c % 8 == 1) ? 15 : rng.below(16);
      x.at(r, c) = z + float(q) * s;
    }
  }
  EXPECT_EQ(rtnDecode(rtnEncode(x, {4, 8, false})).values, x.values);
  // Symmetric: the most negative level holds the largest magnitude.
  Matrix y(3, 16);
  for (size_t r = 0; r < y.rows; ++r)
    for (size_t c = 0; c < y.cols; ++c)
      y.at(r, c) = c == 5 ? -8 * 0.5f : float(int(rng.below(15)) - 7) * 0.5f;
  EXPECT_EQ(rtnDecode(rtnEncode(y, {4, 16, true})).values, y.values);
}

TEST(Rtn, ConstantGroupsDecodeToTheirFp16Value) {
  Matrix x(2, 8);
  for (size_t c = 0; c < 8; ++c) {
    x.at(0, c) = 0.1f;
    x.at(1, c) = 0.0f;
  }
  for (bool symmetric : {false, true}) {
    Matrix d = rtnDecode(rtnEncode(x, {3, 4, symmetric}));
    for (size_t c = 0; c < 8; ++c) {
      EXPECT_NEAR(d.at(0, c), 0.1f, 1e-4f);
      EXPECT_EQ(d.at(1, c), 0.0f);
    }
  }
}

TEST(Rtn, PackRoundTripAndLedgerEqualsBytesWritten) {
  for (bool symmetric : {false, true}) {
    for (unsigned bits : {1u, 3u, 5u, 8u}) {
      Matrix x = gaussian(17, 129, bits + symmetric);
      RtnConfig config{bits, 32, symmetric};
      RtnEncoded e = rtnEncode(x, config);
      PackedMatrix packed = rtnPack(e);
      EXPECT_EQ(packed.payloadBits(), rtnStorageBits(17, 129, config));
      uint64_t bytes = 0;
      for (const PackedStream &s : packed.streams) {
        EXPECT_EQ(s.bytes.size(), (s.bits() + 7) / 8) << s.component;
        bytes += s.bytes.size();
      }
      // Per-stream padding is at most 7 bits.
      EXPECT_LE(bytes * 8 - packed.payloadBits(), 7 * packed.streams.size());
      RtnEncoded back = rtnUnpack(packed);
      EXPECT_EQ(back.codes, e.codes);
      EXPECT_EQ(rtnDecode(back).values, rtnDecode(e).values);
    }
  }
}

// qem.md §12: relative MSE of g = 128 on a large Gaussian sample
// (Monte Carlo, +-2% there; 3% here for the smaller sample).
TEST(Rtn, GaussianRelativeMseMatchesReference) {
  Matrix x = gaussian(512, 1024, 99);
  double power = meanSquare(x);
  const double asym[] = {0.251, 0.0457, 0.00995};
  const double sym[] = {0.179, 0.0430, 0.0106};
  for (unsigned bits = 2; bits <= 4; ++bits) {
    double a = measureError(x, rtnDecode(rtnEncode(x, {bits, 128, false}))).mse;
    double s = measureError(x, rtnDecode(rtnEncode(x, {bits, 128, true}))).mse;
    EXPECT_NEAR(a / power, asym[bits - 2], 0.03 * asym[bits - 2]) << bits;
    EXPECT_NEAR(s / power, sym[bits - 2], 0.03 * sym[bits - 2]) << bits;
  }
}

TEST(Rtn, SameResultForAnyThreadCount) {
  Matrix x = gaussian(301, 77, 8);
  RtnEncoded one = rtnEncode(x, {3, 16, false}, 1);
  RtnEncoded two = rtnEncode(x, {3, 16, false}, 2);
  EXPECT_EQ(one.codes, two.codes);
  EXPECT_EQ(one.scales, two.scales);
  EXPECT_EQ(one.zeroPoints, two.zeroPoints);
}

TEST(Rtn, RejectsBadInput) {
  Matrix x = gaussian(2, 8, 1);
  x.at(1, 3) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(rtnEncode(x, {4, 4, false}), Error);
  x.at(1, 3) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(rtnEncode(x, {4, 4, false}), Error);
  Matrix big = rowMatrix({-70000.0f, 1.0f, 2.0f, 3.0f});
  EXPECT_THROW(rtnEncode(big, {4, 4, false}), Error); // minimum overflows fp16
  EXPECT_THROW(rtnEncode(gaussian(2, 8, 1), {9, 4, false}), Error);
  EXPECT_THROW(rtnEncode(gaussian(2, 8, 1), {4, 0, false}), Error);
}

TEST(Rtn, SchemeEntryReportsChoice) {
  Matrix x = gaussian(64, 256, 4);
  QuantizeOptions options;
  options.bpe = 3.3;
  QuantizeResult r = quantizeRtn(x, options, false);
  EXPECT_EQ(r.scheme, "rtn");
  EXPECT_EQ(r.params.front(), (std::pair<std::string, std::string>{"bits", "3"}));
  EXPECT_LE(r.packed.bitsPerElement(), 3.3);
  EXPECT_DOUBLE_EQ(r.packed.bitsPerElement(), 3.25);
  EXPECT_EQ(r.reconstruction.values,
            rtnDecode(rtnEncode(x, {3, 128, false})).values);
  options.bits = 4; // explicit bits over the budget
  EXPECT_THROW(quantizeRtn(x, options, false), BudgetTooSmall);
}

} // namespace
