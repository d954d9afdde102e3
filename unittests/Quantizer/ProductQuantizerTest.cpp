//===- ProductQuantizerTest.cpp - PQ oracles and invariants ---------------===//

#include "qet/Quantizer/ProductQuantizer.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Budget.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Metrics.h"
#include "qet/Quantizer/Random.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

using namespace qet::quant;

namespace {

using qet::test::param;
using qet::test::serializedBits;
using qet::test::expectSameStreams;

Matrix gaussian(size_t rows, size_t cols, uint64_t seed, float scale = 0.02f,
                DType storage = DType::F32) {
  return qet::test::gaussianMatrix(rows, cols, seed, scale, storage);
}

} // namespace

// qem.md §12 PQ decode oracle.
TEST(ProductQuantizer, OracleDecode) {
  PqModel model;
  model.rows = 3;
  model.cols = 4;
  model.subspaces = 2;
  model.centroids = 3;
  model.codebooks = {1, 0, 0, 2, -1, 1,          // C0
                     0.5f, 0.5f, 2, -1, 0, 0};   // C1
  model.codes = {0, 1, 2, 0, 1, 2};
  Matrix decoded = decodePq(model);
  EXPECT_EQ(decoded.values, (std::vector<float>{1, 0, 2, -1,     //
                                                -1, 1, 0.5f, 0.5f, //
                                                0, 2, 0, 0}));
  PackedMatrix packed;
  packed.scheme = "pq";
  packed.rows = 3;
  packed.cols = 4;
  packPq(model, packed);
  EXPECT_EQ(packed.stream("codes").bitsEach, 2u);
  EXPECT_EQ(packed.stream("codebooks").count, 12u);
  EXPECT_EQ(decodePq(packed).values, decoded.values);
}

TEST(ProductQuantizer, EnoughCentroidsReconstructExactly) {
  // Rows of small dyadic values: every sum and mean involved is exact.
  Rng rng(4);
  Matrix distinct(12, 6);
  for (float &v : distinct.values)
    v = static_cast<float>(static_cast<int>(rng.below(33)) - 16) / 8.0f;
  PqModel model = trainPq(distinct, {3, 12, 20, 123, 1});
  EXPECT_EQ(decodePq(model).values, distinct.values);

  // 5 distinct rows repeated 4 times in a shuffled order, Ks = n.
  Matrix repeated(20, 6);
  std::vector<size_t> order = rng.sampleWithoutReplacement(20, 20);
  for (size_t i = 0; i < 20; ++i)
    std::copy(distinct.row(order[i] % 5), distinct.row(order[i] % 5) + 6,
              repeated.row(i));
  model = trainPq(repeated, {2, 20, 20, 7, 2});
  EXPECT_EQ(decodePq(model).values, repeated.values);

  // Through the scheme: a large budget makes Kmax = n bind.
  QuantizeOptions options;
  options.bpe = 64;
  options.subspaces = 2;
  QuantizeResult result = quantizePq(repeated, options);
  EXPECT_EQ(param(result, "Ks"), "20");
  EXPECT_EQ(result.reconstruction.values, repeated.values);
}

TEST(ProductQuantizer, PackedDecodeEqualsInMemoryDecode) {
  Matrix x = gaussian(203, 24, 1);
  PqModel model = trainPq(x, {6, 37, 20, 5, 2});
  EXPECT_EQ(encodePq(model, x), model.codes);
  PackedMatrix packed;
  packed.scheme = "pq";
  packed.rows = x.rows;
  packed.cols = x.cols;
  packPq(model, packed);
  EXPECT_EQ(decodePq(packed).values, decodePq(model).values);

  // The scheme's reconstruction is that decode, with the solver's Ks.
  QuantizeOptions options;
  options.bpe = 3;
  options.subspaces = 6;
  options.seed = 5;
  QuantizeResult result = quantizePq(x, options);
  size_t ks = std::stoul(param(result, "Ks"));
  PqModel same = trainPq(x, {6, ks, 20, 5, 0});
  EXPECT_EQ(result.reconstruction.values, decodePq(same).values);
}

TEST(ProductQuantizer, LedgerEqualsSerializedBits) {
  for (DType storage : {DType::F32, DType::F16, DType::BF16}) {
    Matrix x = gaussian(77, 16, 2, 0.02f, storage);
    QuantizeOptions options;
    options.bpe = 2.5;
    options.subspaces = 4;
    QuantizeResult result = quantizePq(x, options);
    uint64_t ks = std::stoull(param(result, "Ks"));
    uint64_t formula = pqBits(77, 16, 4, ks, bitWidth(storage));
    EXPECT_EQ(result.packed.payloadBits(), formula);
    EXPECT_EQ(result.packed.ledger().totalBits(), formula);
    EXPECT_EQ(serializedBits(result.packed), formula);
    EXPECT_LE(result.packed.bitsPerElement(), 2.5);
    // The codebooks hold input-dtype values.
    for (float v : unpackPq(result.packed, 77, 16).codebooks)
      EXPECT_EQ(v, roundTo(storage, v));
  }
}

TEST(ProductQuantizer, ThreadCountDoesNotChangeTheResult) {
  Matrix x = gaussian(300, 32, 3);
  QuantizeOptions options;
  options.bpe = 4;
  options.subspaces = 8;
  options.threads = 1;
  QuantizeResult one = quantizePq(x, options);
  options.threads = 2;
  QuantizeResult two = quantizePq(x, options);
  options.subspaces = 1; // one subspace: threads split each k-means instead
  options.threads = 1;
  QuantizeResult oneInner = quantizePq(x, options);
  options.threads = 2;
  QuantizeResult twoInner = quantizePq(x, options);
  expectSameStreams(one.packed, two.packed);
  EXPECT_EQ(one.reconstruction.values, two.reconstruction.values);
  EXPECT_EQ(oneInner.reconstruction.values, twoInner.reconstruction.values);
}

TEST(ProductQuantizer, AutoSubspacesKeepsTheBestTrainingMse) {
  Matrix x = gaussian(120, 32, 9);
  QuantizeOptions options;
  options.bpe = 3;
  QuantizeResult searched = quantizePq(x, options);
  std::string chosen = param(searched, "M");
  ASSERT_NE(chosen.find("(auto)"), std::string::npos) << chosen;
  EXPECT_EQ(param(searched, "M tried"), "4,8,16");
  double searchedMse = measureError(x, searched.reconstruction).mse;
  for (size_t m : {4, 8, 16}) {
    options.subspaces = m;
    QuantizeResult fixed = quantizePq(x, options);
    double mse = measureError(x, fixed.reconstruction).mse;
    EXPECT_LE(searchedMse, mse) << "M = " << m;
    if (std::to_string(m) + " (auto)" == chosen)
      EXPECT_EQ(fixed.reconstruction.values, searched.reconstruction.values);
  }
}

TEST(ProductQuantizer, RejectsBadInput) {
  Matrix x = gaussian(20, 12, 1);
  QuantizeOptions options;
  options.bpe = 4;
  options.subspaces = 5; // does not divide 12
  EXPECT_THROW(quantizePq(x, options), Error);
  options.subspaces = 4;
  options.bpe = 0.01; // below the 384 bits of one codeword
  EXPECT_THROW(quantizePq(x, options), BudgetTooSmall);
  options.bpe = 4;
  x.at(2, 3) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(quantizePq(x, options), Error);
  EXPECT_THROW(quantizePq(Matrix(), options), Error);
}
