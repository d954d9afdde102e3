//===- QetTest.cpp - HERA and QET: oracles and invariants -----------------===//

#include "qet/Quantizer/Qet.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Ledger.h"
#include "qet/Quantizer/Metrics.h"
#include "qet/Quantizer/ProductQuantizer.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"
#include "qet/Quantizer/SyntheticData.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

using namespace qet::quant;

namespace {

using qet::test::param;
using qet::test::serializedBits;
using qet::test::expectSameStreams;

Matrix gaussian(size_t rows, size_t cols, uint64_t seed,
                DType storage = DType::F32) {
  return qet::test::gaussianMatrix(rows, cols, seed, 0.02f, storage);
}

bool bitwiseEqual(const Matrix &a, const Matrix &b) {
  return a.rows == b.rows && a.cols == b.cols &&
         std::memcmp(a.values.data(), b.values.data(),
                     a.values.size() * sizeof(float)) == 0;
}

double meanSquare(const Matrix &m) {
  double sum = 0.0;
  for (float v : m.values)
    sum += double(v) * v;
  return sum / m.size();
}

QuantizeOptions qetOptions(double bpe, unsigned m, std::vector<unsigned> depths,
                           std::vector<double> split, unsigned threads = 2) {
  QuantizeOptions options;
  options.bpe = bpe;
  options.subspaces = m;
  options.depths = std::move(depths);
  options.split = std::move(split);
  options.threads = threads;
  return options;
}

} // namespace

// qet.md §8 CQO oracle.
TEST(Qet, CodebookQuantizationOracle) {
  QuantizedCodebook q =
      quantizeCodebook({-0.75f, 0.1f, 0.5f, 1.25f}, 10, DType::F32);
  EXPECT_EQ(q.lo, -0.75f);
  EXPECT_EQ(q.step, 2.0f / 1023.0f);
  EXPECT_NEAR(q.step, 0.0019550342, 1e-10);
  EXPECT_EQ(q.levels, (std::vector<uint32_t>{0, 435, 639, 1023}));
  EXPECT_EQ(q.values[0], -0.75f);
  EXPECT_NEAR(q.values[1], 0.1004399, 1e-7);
  EXPECT_NEAR(q.values[2], 0.4992669, 1e-7);
  EXPECT_EQ(q.values[3], 1.25f);
  const float original[] = {-0.75f, 0.1f, 0.5f, 1.25f};
  for (size_t i = 0; i < 4; ++i)
    EXPECT_LE(std::fabs(q.values[i] - original[i]), q.step / 2 * (1 + 1e-6));

  // A constant codebook: step 0, every level 0, no division by zero.
  QuantizedCodebook flat = quantizeCodebook({0.3f, 0.3f, 0.3f}, 10, DType::F32);
  EXPECT_EQ(flat.step, 0.0f);
  EXPECT_EQ(flat.levels, (std::vector<uint32_t>{0, 0, 0}));
  EXPECT_EQ(flat.values, (std::vector<float>{0.3f, 0.3f, 0.3f}));
  // fp16 inputs store lo and step in fp16 and quantize with those values.
  QuantizedCodebook half =
      quantizeCodebook({-0.75f, 0.1f, 0.5f, 1.25f}, 10, DType::F16);
  EXPECT_EQ(half.step, roundTo(DType::F16, 2.0f / 1023.0f));
  EXPECT_THROW(quantizeCodebook({1.0f}, 0, DType::F32), Error);
}

TEST(Qet, HeraDepthZeroIsBitIdenticalToPq) {
  Matrix x = gaussian(512, 32, 3);
  for (unsigned m : {4u, 8u}) {
    QuantizeOptions options;
    options.bpe = 3;
    options.subspaces = m;
    options.depths = {0};
    options.threads = 2;
    QuantizeResult hera = quantize("hera", x, options);
    QuantizeResult pq = quantize("pq", x, options);
    EXPECT_EQ(param(hera, "Ks"), param(pq, "Ks"));
    EXPECT_TRUE(bitwiseEqual(hera.reconstruction, pq.reconstruction));
    EXPECT_EQ(hera.packed.stream("codebooks").bytes,
              pq.packed.stream("codebooks").bytes);
    EXPECT_EQ(hera.packed.stream("codes").bytes, pq.packed.stream("codes").bytes);
    EXPECT_EQ(hera.packed.payloadBits(), pq.packed.payloadBits());
  }
}

// qet.md §8: with b_s = 0 a stage never increases the training MSE.
TEST(Qet, ResidualStageNeverIncreasesTrainingMse) {
  Rng pick(99);
  for (int trial = 0; trial < 24; ++trial) {
    const size_t cols = 8 * (1 + pick.below(4)); // 8..32
    const size_t rows = 40 + pick.below(200);
    Matrix x = gaussian(rows, cols, 1000 + trial);
    if (trial % 3 == 0) // heavy columns, as K caches
      for (size_t r = 0; r < rows; ++r)
        x.at(r, trial % cols) *= 20;
    QetConfig config;
    config.subspaces = size_t{1} << pick.below(3); // 1, 2, 4
    config.threads = 1 + trial % 2;
    config.seed = trial;
    size_t stages = 2 + pick.below(2);
    for (size_t s = 0; s < stages; ++s)
      config.stages.push_back({static_cast<unsigned>(pick.below(4)), 0,
                               1 + pick.below(rows)});
    QetModel model = trainQet(x, config);
    SCOPED_TRACE("trial " + std::to_string(trial));
    ASSERT_EQ(model.stageMse.size(), stages);
    EXPECT_LE(model.stageMse[0], meanSquare(x));
    for (size_t s = 1; s < stages; ++s)
      EXPECT_LE(model.stageMse[s], model.stageMse[s - 1]) << "stage " << s;
    double decoded = measureError(x, decodeQet(model)).mse;
    EXPECT_NEAR(decoded, model.stageMse.back(),
                1e-6 * model.stageMse.back() + 1e-12 * meanSquare(x));
  }
}

// qet.md §8 fixture (prototype values 0.1615 -> 0.1077 of mean(X^2)) and the
// regression MSE(QET) / MSE(PQ) ~ 0.18 at M = 4 (asserted < 0.5).
TEST(Qet, GaussianFixtureResidualAndRegression) {
  Matrix x = makeSynthetic(Family::Gaussian, 4096, 128, 1);
  QuantizeResult qet = quantize("qet", x, qetOptions(4, 4, {3, 0}, {0.7, 0.3}));
  EXPECT_EQ(param(qet, "Ks"), "588,204");
  QetModel model = unpackQet(qet.packed);
  ASSERT_EQ(model.stages.size(), 2u);
  double energy = meanSquare(x);
  double first = measureError(x, decodeQetStage(model, 0)).mse / energy;
  double both = measureError(x, qet.reconstruction).mse / energy;
  EXPECT_NEAR(first, 0.1615, 0.01);
  EXPECT_NEAR(both, 0.1077, 0.01);
  EXPECT_LT(both, first);

  QuantizeOptions pqOptions;
  pqOptions.bpe = 4;
  pqOptions.subspaces = 4;
  pqOptions.threads = 2;
  double pq = measureError(x, quantize("pq", x, pqOptions).reconstruction).mse;
  double ratio = measureError(x, qet.reconstruction).mse / pq;
  EXPECT_LT(ratio, 0.5);
  EXPECT_NEAR(ratio, 0.18, 0.05);
}

TEST(Qet, LedgerEqualsPayloadAndStaysWithinBudget) {
  Matrix x = gaussian(200, 48, 5);
  std::vector<QuantizeOptions> optionSets;
  optionSets.push_back(qetOptions(3, 4, {3, 0}, {0.7, 0.3}));
  optionSets.push_back(qetOptions(4.5, 6, {1, 2}, {0.5, 0.4}));
  QuantizeOptions threeStages = qetOptions(5, 8, {2, 0, 1}, {0.5, 0.3, 0.2});
  threeStages.codebookBits = {8, 0, 12};
  optionSets.push_back(threeStages);
  for (const char *scheme : {"qet", "hera"}) {
    for (QuantizeOptions options : optionSets) {
      if (std::string(scheme) == "hera")
        options.depths = {options.depths[0]};
      QuantizeResult result = quantize(scheme, x, options);
      SCOPED_TRACE(std::string(scheme) + " at " + std::to_string(options.bpe));
      QetModel model = unpackQet(result.packed);
      uint64_t formula = 0;
      for (const QetStage &s : model.stages)
        formula += std::string(scheme) == "hera"
                       ? heraBits(200, 48, model.subspaces, s.pq.centroids, 32,
                                  s.depth)
                       : qetStageBits(200, 48, model.subspaces, s.pq.centroids,
                                      32, s.codebookBits, s.depth);
      EXPECT_EQ(result.packed.payloadBits(), formula);
      EXPECT_EQ(qetModelBits(model), formula);
      EXPECT_EQ(serializedBits(result.packed), formula);
      EXPECT_EQ(result.packed.ledger().totalBits(), formula);
      EXPECT_LE(formula, budgetBits(options.bpe, 200 * 48));
      EXPECT_LE(result.packed.bitsPerElement(), options.bpe);
    }
  }
}

TEST(Qet, DecodeFromPackedEqualsInMemoryDecode) {
  for (DType storage : {DType::F32, DType::F16}) {
    Matrix x = gaussian(150, 32, 8, storage);
    QetConfig config;
    config.subspaces = 4;
    config.stages = {{0, 10, 40}, {2, 0, 30}, {1, 6, 20}}; // l = 0 first
    QetModel model = trainQet(x, config);
    PackedMatrix packed;
    packQet(model, packed);
    EXPECT_EQ(packed.stream("s1.codebook_lo").bitsEach, bitWidth(storage));
    EXPECT_THROW(packed.stream("s1.swap_bits"), FormatError); // l = 0 stores none
    Matrix memory = decodeQet(model);
    Matrix fromPacked = decodeQet(packed);
    EXPECT_TRUE(bitwiseEqual(memory, fromPacked));
    QetModel back = unpackQet(packed);
    for (size_t s = 0; s < 3; ++s) {
      EXPECT_EQ(back.stages[s].pq.codebooks, model.stages[s].pq.codebooks);
      EXPECT_EQ(back.stages[s].pq.codes, model.stages[s].pq.codes);
      EXPECT_EQ(back.stages[s].swaps.bytes, model.stages[s].swaps.bytes);
    }
    // The training residual matches the decoded error.
    EXPECT_NEAR(measureError(x, memory).mse, model.stageMse.back(),
                1e-6 * model.stageMse.back());
  }
}

TEST(Qet, SameSeedSameOutputAcrossThreadCounts) {
  Matrix x = makeSynthetic(Family::OutlierColumns, 600, 64, 2);
  for (const char *scheme : {"qet", "hera"}) {
    QuantizeOptions options;
    options.bpe = 3;
    options.subspaces = 8;
    if (std::string(scheme) == "qet")
      options.split = {0.6, 0.4}; // the depth is still searched
    options.threads = 1;
    QuantizeResult one = quantize(scheme, x, options);
    options.threads = 2;
    QuantizeResult two = quantize(scheme, x, options);
    EXPECT_EQ(one.params, two.params) << scheme;
    EXPECT_TRUE(bitwiseEqual(one.reconstruction, two.reconstruction)) << scheme;
    SCOPED_TRACE(scheme);
    expectSameStreams(one.packed, two.packed);
  }
}

TEST(Qet, UnsetOptionsAreSearchedAndReported) {
  Matrix x = makeSynthetic(Family::Laplace, 256, 32, 1);
  QuantizeOptions options;
  options.bpe = 3;
  options.threads = 2;
  QuantizeResult best = quantize("qet", x, options);
  EXPECT_NE(param(best, "M").find("(auto)"), std::string::npos);
  EXPECT_EQ(param(best, "M tried"), "4,8,16");
  EXPECT_NE(param(best, "depth").find("(auto)"), std::string::npos);
  EXPECT_NE(param(best, "split").find("(auto)"), std::string::npos);
  EXPECT_EQ(param(best, "codebook bits"), "10,10");
  EXPECT_FALSE(param(best, "configs tried").empty());
  double bestMse = measureError(x, best.reconstruction).mse;
  EXPECT_LE(best.packed.bitsPerElement(), 3.0);
  // Every configuration of the grid is at least as bad.
  for (unsigned m : {4u, 8u, 16u})
    for (unsigned depth : {0u, 3u}) {
      QuantizeResult fixed =
          quantize("qet", x, qetOptions(3, m, {depth, 0}, {0.7, 0.3}));
      EXPECT_EQ(param(fixed, "M"), std::to_string(m));
      EXPECT_LE(bestMse, measureError(x, fixed.reconstruction).mse);
    }
  QuantizeOptions heraOptions = options;
  QuantizeResult hera = quantize("hera", x, heraOptions);
  EXPECT_NE(param(hera, "depth").find("(auto)"), std::string::npos);
  heraOptions.subspaces = 8;
  heraOptions.depths = {2};
  EXPECT_EQ(param(quantize("hera", x, heraOptions), "depth"), "2");
}

TEST(Qet, ErrorsInsteadOfCrashes) {
  Matrix x = gaussian(128, 16, 4);
  // Swap bits above the budget: the reference's Ks = 0 crash.
  try {
    quantize("qet", x, qetOptions(1.4, 4, {3, 0}, {0.7, 0.3}));
    ADD_FAILURE() << "no BudgetTooSmall";
  } catch (const BudgetTooSmall &e) {
    EXPECT_NE(std::string(e.what()).find("smaller depths"), std::string::npos)
        << e.what();
  }
  QuantizeOptions hera = qetOptions(1.4, 4, {3}, {});
  EXPECT_THROW(quantize("hera", x, hera), BudgetTooSmall);
  // Searched: every configuration over budget is one clear error too.
  QuantizeOptions tiny;
  tiny.bpe = 0.01;
  EXPECT_THROW(quantize("qet", x, tiny), BudgetTooSmall);
  EXPECT_THROW(quantize("hera", x, tiny), BudgetTooSmall);
  // Depth not dividing d, bad lists.
  EXPECT_THROW(quantize("qet", x, qetOptions(4, 4, {5, 0}, {0.7, 0.3})), Error);
  EXPECT_THROW(quantize("qet", x, qetOptions(4, 4, {3, 0, 0}, {0.7, 0.3})),
               Error);
  EXPECT_THROW(quantize("qet", x, qetOptions(4, 4, {3, 0}, {0.7, 0.6})), Error);
  EXPECT_THROW(quantize("hera", x, qetOptions(4, 4, {3, 0}, {})), Error);
  // NaN / Inf input.
  for (float bad : {std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity()}) {
    Matrix broken = x;
    broken.at(7, 3) = bad;
    EXPECT_THROW(quantize("qet", broken, qetOptions(4, 4, {3, 0}, {0.7, 0.3})),
                 Error);
    EXPECT_THROW(quantizeQet(broken, qetOptions(4, 4, {3, 0}, {0.7, 0.3})),
                 Error);
    EXPECT_THROW(quantizeHera(broken, qetOptions(4, 4, {3}, {})), Error);
    QetConfig config;
    config.subspaces = 4;
    config.stages = {{1, 10, 8}};
    EXPECT_THROW(trainQet(broken, config), Error);
  }
}

// A constant matrix gives constant codebooks (step = 0, the reference's
// division by zero) and is reconstructed exactly.
TEST(Qet, ConstantMatrixIsExact) {
  Matrix x(64, 16);
  for (float &v : x.values)
    v = 0.25f;
  QuantizeResult result = quantize("qet", x, qetOptions(4, 4, {2, 0}, {0.7, 0.3}));
  EXPECT_EQ(result.reconstruction.values, x.values);
  QetModel model = unpackQet(result.packed);
  EXPECT_EQ(model.stages[0].step, 0.0f);
}

TEST(Qet, UnpackRejectsInconsistentStreams) {
  Matrix x = gaussian(64, 16, 6);
  QuantizeResult result = quantize("qet", x, qetOptions(4, 4, {2, 0}, {0.7, 0.3}));
  PackedMatrix wrongKs = result.packed;
  wrongKs.params["s1.Ks"] += 1;
  EXPECT_THROW(unpackQet(wrongKs), FormatError);
  PackedMatrix wrongDepth = result.packed;
  wrongDepth.params["s1.depth"] = 1;
  EXPECT_THROW(unpackQet(wrongDepth), FormatError);
  PackedMatrix missing = result.packed;
  missing.streams.pop_back();
  EXPECT_THROW(unpackQet(missing), FormatError);
  // Codes at or above Ks (possible when Ks is not a power of two).
  Matrix larger = gaussian(128, 16, 6);
  QuantizeResult other =
      quantize("qet", larger, qetOptions(4, 4, {2, 0}, {0.7, 0.3}));
  size_t ks = unpackQet(other.packed).stages[0].pq.centroids;
  ASSERT_LT(ks, size_t{1} << indexBits(ks));
  PackedMatrix badCode = other.packed;
  for (PackedStream &s : badCode.streams)
    if (s.component == "s1.codes")
      std::fill(s.bytes.begin(), s.bytes.end(), 0xff);
  EXPECT_THROW(decodeQet(badCode), FormatError);
}
