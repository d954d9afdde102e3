//===- PqProductTest.cpp - Fused PQ products against the library ---------===//
//
// The library's PQ streams written as a qet.constant and multiplied through
// qet-cpu-pipeline{backend=scf} (lookup tables, never decoding W) must match
// the fp64 product of the library's reconstruction within fp32 rounding, on
// the vector path (byte codes, M a multiple of 8: gathers of eight table
// entries), with fewer than 256 centroids (clamped byte codes) and on the
// scalar path (M not a multiple of 8, or narrower codes).
//
//===----------------------------------------------------------------------===//

#include "JitRunner.h"
#include "PackedSources.h"

#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace qet;
using namespace qet::quant;

namespace {

struct PqCase {
  const char *name;
  size_t rows, cols;
  unsigned subspaces;
  uint64_t centroids;
  int64_t batch;
};

void PrintTo(const PqCase &c, std::ostream *os) { *os << c.name; }

class PqProduct : public ::testing::TestWithParam<PqCase> {};

TEST_P(PqProduct, MatchesReconstruction) {
  const PqCase &c = GetParam();
  Rng rng(c.rows * 7 + c.cols);
  Matrix w(c.rows, c.cols);
  for (float &v : w.values)
    v = static_cast<float>(rng.normal());
  QuantizeOptions options;
  options.subspaces = c.subspaces;
  options.maxCentroids = c.centroids;
  options.bpe = 64; // room for every centroid asked for
  options.iterations = 4;
  QuantizeResult r = quantize("pq", w, options);
  uint64_t centroids = 0;
  for (const auto &[key, value] : r.params)
    if (key == "Ks")
      centroids = std::stoull(value);
  ASSERT_EQ(centroids, c.centroids) << "the case asks for this codebook";

  std::string attribute = "#qet.pq<subspaces = " + std::to_string(c.subspaces) +
                          ", centroids = " + std::to_string(centroids) +
                          ", rotated = false>";
  test::JitRunner runner(test::productSource(r.packed, attribute, c.batch),
                         "qet-cpu-pipeline{backend=scf}");
  ASSERT_NE(runner.engine(), nullptr);
  std::vector<float> x(c.batch * c.cols), y(c.batch * c.rows, -1.0f);
  for (float &v : x)
    v = static_cast<float>(rng.normal());
  auto xd = test::describe(x, c.batch, c.cols);
  auto yd = test::describe(y, c.batch, c.rows);
  llvm::Error error = runner.engine()->invoke("run", &xd, &yd);
  ASSERT_FALSE(error) << llvm::toString(std::move(error));
  for (int64_t b = 0; b < c.batch; ++b)
    for (size_t n = 0; n < c.rows; ++n) {
      double want = 0, magnitude = 0;
      for (size_t k = 0; k < c.cols; ++k) {
        double term = double(x[b * c.cols + k]) * r.reconstruction.at(n, k);
        want += term;
        magnitude += std::fabs(term);
      }
      // fp32 table entries (D-term sums) and M of them summed in fp32.
      double bound = (double(c.cols) + 8) * 0x1p-24 * magnitude + 1e-6;
      ASSERT_NEAR(y[b * c.rows + n], want, bound)
          << "batch " << b << ", output " << n;
    }
}

INSTANTIATE_TEST_SUITE_P(Configurations, PqProduct,
                         ::testing::Values(
                             // name, rows, cols, M, centroids, batch
                             PqCase{"gather", 300, 64, 16, 256, 3},
                             PqCase{"gather_clamped", 150, 48, 8, 150, 2},
                             PqCase{"scalar_m12", 260, 48, 12, 256, 2},
                             PqCase{"scalar_4bit", 40, 32, 8, 16, 1}),
                         [](const ::testing::TestParamInfo<PqCase> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
