//===- IntegerInputTest.cpp - RTN products on 8/16-bit inputs -------------===//
//
// convert-qet-to-scf{activations=i8|i16} quantizes each group of the input
// (sx = max|x_g| / L, L = 127 or 32767) and multiplies centred 4-bit codes
// c = w / s - m / s in integers. Its only approximation is x ~ sx * xq with
// |x - sx xq| <= sx / 2, so every output must lie within
//   sum_k |w_k - m_g(k)| * sx_g(k) / 2   (m = z + 8 s, or 0 when symmetric)
// of the fp64 product of the library's reconstruction, plus fp32 rounding.
// And the input really is quantized: the observed error must exceed ten
// times the f32 kernel's, so an input that silently stayed f32 would fail.
//
//===----------------------------------------------------------------------===//

#include "JitRunner.h"
#include "PackedSources.h"

#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Rtn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

using namespace qet;
using namespace qet::quant;

namespace {

struct IntegerCase {
  const char *name;
  size_t rows, cols, batch;
  unsigned group;
  bool symmetric;
  const char *activations;
};

void PrintTo(const IntegerCase &c, std::ostream *os) { *os << c.name; }

/// y = x W^T compiled with `activations`.
std::vector<float> run(const PackedMatrix &packed, const IntegerCase &c,
                       const std::string &activations, std::vector<float> &x) {
  test::JitRunner runner(
      test::productSource(
          packed,
          "#qet.rtn<bits = 4, group = " + std::to_string(c.group) +
              ", symmetric = " + (c.symmetric ? "true" : "false") + ">",
          static_cast<int64_t>(c.batch)),
      "qet-cpu-pipeline{backend=scf activations=" + activations + "}");
  std::vector<float> y(c.batch * c.rows, -1.0f);
  if (!runner.engine())
    return {};
  auto xd = test::describe(x, c.batch, c.cols);
  auto yd = test::describe(y, c.batch, c.rows);
  llvm::Error error = runner.engine()->invoke("run", &xd, &yd);
  EXPECT_FALSE(error) << llvm::toString(std::move(error));
  return y;
}

class IntegerInput : public ::testing::TestWithParam<IntegerCase> {};

TEST_P(IntegerInput, WithinRoundingBoundOfTheInput) {
  const IntegerCase &c = GetParam();
  Rng rng(c.rows * 31 + c.cols + c.group);
  Matrix w(c.rows, c.cols);
  for (float &v : w.values)
    v = static_cast<float>(rng.normal() * (rng.below(8) ? 1.0 : 4.0));
  RtnEncoded encoded = rtnEncode(w, RtnConfig{4, c.group, c.symmetric});
  PackedMatrix packed = rtnPack(encoded);
  Matrix decoded = rtnDecode(encoded);
  // Inputs of mixed scale, an all-zero group (when there are several) and a
  // lone large element.
  std::vector<float> x(c.batch * c.cols);
  for (float &v : x)
    v = static_cast<float>(rng.normal() * (rng.below(4) ? 1.0 : 10.0));
  if (c.cols > c.group)
    std::fill(x.begin(), x.begin() + c.group, 0.0f);
  x.back() = 300.0f;

  std::vector<float> y = run(packed, c, c.activations, x);
  std::vector<float> yF32 = run(packed, c, "f32", x);
  ASSERT_EQ(y.size(), c.batch * c.rows);
  ASSERT_EQ(yF32.size(), c.batch * c.rows);
  double levels = std::string(c.activations) == "i8" ? 127.0 : 32767.0;
  size_t groups = c.cols / c.group;
  double worst = 0, worstF32 = 0;
  for (size_t b = 0; b < c.batch; ++b) {
    std::vector<double> inputScale(groups, 0.0);
    for (size_t k = 0; k < c.cols; ++k) {
      double &m = inputScale[k / c.group];
      m = std::max(m, std::fabs(double(x[b * c.cols + k])) / levels);
    }
    for (size_t n = 0; n < c.rows; ++n) {
      double want = 0, magnitude = 0, bound = 0;
      for (size_t k = 0; k < c.cols; ++k) {
        size_t g = k / c.group, meta = n * groups + g;
        double wk = decoded.at(n, k);
        double offset = c.symmetric ? 0.0
                                    : double(encoded.zeroPoints[meta]) +
                                          8.0 * double(encoded.scales[meta]);
        double term = double(x[b * c.cols + k]) * wk;
        want += term;
        magnitude += std::fabs(term);
        bound += std::fabs(wk - offset) * inputScale[g] / 2;
      }
      // fp32: K-term sums, the scaled group sums, the offsets.
      double rounding = (double(c.cols) + 16) * 0x1p-24 * magnitude * 4;
      double error = std::fabs(y[b * c.rows + n] - want);
      ASSERT_LE(error, bound + rounding)
          << "batch " << b << ", output " << n << " (want " << want << ")";
      worst = std::max(worst, error);
      worstF32 = std::max(worstF32, std::fabs(yF32[b * c.rows + n] - want));
    }
  }
  // The input really was quantized.
  EXPECT_GT(worst, 10 * worstF32);
}

// A NaN or an infinity in the input makes the outputs of its batch item NaN
// or infinite, as with f32 inputs, and leaves the other items alone.
TEST(IntegerInputSpecial, NonFiniteInputsStayInTheirBatchItem) {
  for (float special : {NAN, INFINITY}) {
    for (const char *activations : {"i8", "i16"}) {
      IntegerCase c{"special", 4, 128, 2, 64, false, activations};
      Rng rng(5);
      Matrix w(c.rows, c.cols);
      for (float &v : w.values)
        v = static_cast<float>(rng.normal());
      PackedMatrix packed = rtnPack(rtnEncode(w, RtnConfig{4, 64, false}));
      std::vector<float> x(c.batch * c.cols);
      for (float &v : x)
        v = static_cast<float>(rng.normal());
      x[5] = special;
      std::vector<float> y = run(packed, c, activations, x);
      ASSERT_EQ(y.size(), c.batch * c.rows);
      for (size_t n = 0; n < c.rows; ++n) {
        EXPECT_FALSE(std::isfinite(y[n])) << activations << ", output " << n;
        EXPECT_TRUE(std::isfinite(y[c.rows + n]))
            << activations << ", output " << n << " of the other item";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configurations, IntegerInput,
    ::testing::Values(
        // name, rows, cols, batch, group, symmetric, activations
        IntegerCase{"i8_g128", 24, 256, 3, 128, false, "i8"},
        IntegerCase{"i16_g128", 24, 256, 3, 128, false, "i16"},
        IntegerCase{"i8_sym_g64", 9, 192, 2, 64, true, "i8"},
        IntegerCase{"i16_sym_g64", 9, 192, 2, 64, true, "i16"},
        IntegerCase{"i8_g32", 5, 96, 1, 32, false, "i8"},
        IntegerCase{"i8_g96_unrolled_16B", 6, 192, 2, 96, false, "i8"},
        IntegerCase{"i8_sym_g160_loop_16B", 4, 320, 2, 160, true, "i8"},
        IntegerCase{"i16_g512", 3, 1024, 2, 512, false, "i16"},
        IntegerCase{"i8_g512", 7, 1024, 2, 512, false, "i8"},
        IntegerCase{"i16_sym_g512", 7, 1024, 2, 512, true, "i16"},
        IntegerCase{"i8_one_row", 1, 128, 1, 64, false, "i8"}),
    [](const ::testing::TestParamInfo<IntegerCase> &info) {
      return std::string(info.param.name);
    });

} // namespace
