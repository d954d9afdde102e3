//===- OpqLopqTest.cpp - OPQ and LOPQ invariants --------------------------===//

#include "qet/Quantizer/Lopq.h"
#include "qet/Quantizer/Opq.h"

#include "qet/Quantizer/Budget.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/KMeans.h"
#include "qet/Quantizer/Random.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
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

/// Correlated columns, where a rotation helps PQ.
Matrix correlated(size_t rows, size_t cols, uint64_t seed) {
  Matrix base = gaussian(rows, cols, seed);
  Matrix m(rows, cols);
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j)
      m.at(i, j) = base.at(i, j) + base.at(i, (j * 5 + 1) % cols) -
                   0.5f * base.at(i, (j + 3) % cols);
  return m;
}

std::vector<uint64_t> splitCounts(const std::string &text) {
  std::vector<uint64_t> values;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ','))
    values.push_back(std::stoull(item));
  return values;
}

double frobeniusDistance(const Matrix &a, const Matrix &b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.values.size(); ++i) {
    double diff = static_cast<double>(a.values[i]) - b.values[i];
    sum += diff * diff;
  }
  return std::sqrt(sum);
}

void expectOrthogonal(const std::vector<float> &r, size_t d, double tol) {
  for (size_t i = 0; i < d; ++i)
    for (size_t j = 0; j < d; ++j) {
      double dot = 0.0;
      for (size_t k = 0; k < d; ++k)
        dot += static_cast<double>(r[k * d + i]) * r[k * d + j];
      EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, tol) << i << "," << j;
    }
}

OpqConfig opqConfig(size_t m, size_t ks, unsigned threads = 0) {
  OpqConfig config;
  config.pq = {m, ks, 20, kDefaultSeed, threads};
  return config;
}

} // namespace

TEST(Opq, RotationIsOrthogonal) {
  Matrix x = correlated(256, 16, 1);
  OpqModel model = trainOpq(x, opqConfig(4, 16));
  expectOrthogonal(model.rotation, 16, 1e-5);
  // It moved away from the identity.
  EXPECT_GT(std::fabs(model.rotation[1]) + std::fabs(model.rotation[16]), 0.0f);
}

TEST(Opq, ProcrustesReducesTheFitError) {
  Matrix x = correlated(300, 12, 2);
  PqModel pq = trainPq(x, {3, 16, 20, 1, 0});
  Matrix target = decodePq(pq);
  std::vector<float> r = procrustesRotation(x, target);
  expectOrthogonal(r, 12, 1e-5);
  Matrix rotated = multiplyRotation(x, r, false);
  EXPECT_LT(frobeniusDistance(rotated, target), frobeniusDistance(x, target));
}

TEST(Opq, ProcrustesRecoversAKnownRotation) {
  Matrix x = gaussian(200, 8, 3, 1.0f);
  // A rotation built from plane rotations: x Q is the target.
  std::vector<float> q(64, 0.0f);
  for (size_t i = 0; i < 8; ++i)
    q[i * 8 + i] = 1.0f;
  for (size_t p = 0; p < 8; p += 2) {
    float c = std::cos(0.3f + p), s = std::sin(0.3f + p);
    q[p * 8 + p] = c;
    q[p * 8 + p + 1] = -s;
    q[(p + 1) * 8 + p] = s;
    q[(p + 1) * 8 + p + 1] = c;
  }
  std::vector<float> r = procrustesRotation(x, multiplyRotation(x, q, false));
  for (size_t i = 0; i < 64; ++i)
    EXPECT_NEAR(r[i], q[i], 1e-5) << i;
}

TEST(Opq, PackedDecodeEqualsInMemoryDecodeAndLedger) {
  Matrix x = correlated(150, 16, 4);
  OpqModel model = trainOpq(x, opqConfig(8, 20));
  PackedMatrix packed;
  packed.scheme = "opq";
  packed.rows = 150;
  packed.cols = 16;
  packOpq(model, packed);
  EXPECT_EQ(decodeOpq(packed).values, decodeOpq(model).values);
  EXPECT_EQ(packed.payloadBits(), opqBits(150, 16, 8, 20, 32));
  EXPECT_EQ(serializedBits(packed), opqBits(150, 16, 8, 20, 32));

  QuantizeOptions options;
  options.bpe = 4;
  options.subspaces = 8;
  QuantizeResult result = quantizeOpq(x, options);
  uint64_t ks = std::stoull(param(result, "Ks"));
  EXPECT_EQ(result.packed.payloadBits(), opqBits(150, 16, 8, ks, 32));
  EXPECT_LE(result.packed.bitsPerElement(), 4.0);
  EXPECT_EQ(result.reconstruction.values,
            decodeOpq(trainOpq(x, opqConfig(8, ks))).values);
  EXPECT_EQ(param(result, "rounds"), "10");
}

TEST(Opq, HalfPrecisionStoresRoundedRotationAndCodebooks) {
  Matrix x = gaussian(128, 16, 5, 0.02f, DType::F16);
  QuantizeOptions options;
  options.bpe = 20;
  options.subspaces = 4;
  QuantizeResult result = quantizeOpq(x, options);
  EXPECT_EQ(result.packed.stream("rotation").bitsEach, 16u);
  EXPECT_EQ(result.packed.stream("codebooks").bitsEach, 16u);
  OpqModel model = unpackOpq(result.packed, 128, 16);
  for (float v : model.rotation)
    EXPECT_EQ(v, roundTo(DType::F16, v));
  expectOrthogonal(model.rotation, 16, 4e-3);
  // The final PQ was trained on x R_stored: its codes are the nearest
  // codewords of that product.
  Matrix y = multiplyRotation(x, model.rotation, false);
  EXPECT_EQ(encodePq(model.pq, y), model.pq.codes);
}

TEST(Opq, ThreadCountDoesNotChangeTheResult) {
  Matrix x = correlated(200, 16, 6);
  QuantizeOptions options;
  options.bpe = 4;
  options.subspaces = 4;
  options.opqRounds = 3;
  options.threads = 1;
  QuantizeResult one = quantizeOpq(x, options);
  options.threads = 2;
  QuantizeResult two = quantizeOpq(x, options);
  expectSameStreams(one.packed, two.packed);
  EXPECT_EQ(one.reconstruction.values, two.reconstruction.values);
}

TEST(Lopq, StreamsLedgerAndDecode) {
  Matrix x = correlated(211, 16, 7);
  QuantizeOptions options;
  options.bpe = 8;
  options.subspaces = 4;
  options.opqRounds = 4;
  QuantizeResult result = quantizeLopq(x, options);
  EXPECT_EQ(param(result, "L"), "2");
  uint64_t ks = std::stoull(param(result, "Ks"));
  std::vector<uint64_t> rows = splitCounts(param(result, "cluster rows"));
  std::vector<uint64_t> clusterKs = splitCounts(param(result, "cluster Ks"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0] + rows[1], 211u);
  for (size_t c = 0; c < 2; ++c)
    EXPECT_EQ(clusterKs[c], std::min(ks, rows[c]));

  uint64_t bits = lopqBits(16, 4, 32, 2, rows, clusterKs);
  EXPECT_EQ(result.packed.payloadBits(), bits);
  EXPECT_EQ(serializedBits(result.packed), bits);
  EXPECT_LE(bits, lopqBoundBits(211, 16, 4, ks, 32, 2));
  EXPECT_LE(result.packed.bitsPerElement(), 8.0);
  for (const char *name : {"labels", "c0.rotation", "c0.codebooks", "c0.codes",
                           "c1.rotation", "c1.codebooks", "c1.codes"})
    EXPECT_NO_THROW(result.packed.stream(name)) << name;
  EXPECT_EQ(result.packed.stream("labels").bitsEach, 1u);

  // Labels: the nearest final coarse centroid.
  KMeansOptions coarse;
  coarse.k = 2;
  std::vector<uint32_t> labels = assign(x, kmeans(x, coarse).centroids);
  LopqModel model = unpackLopq(result.packed);
  EXPECT_EQ(model.labels, labels);
  EXPECT_EQ(decodeLopq(model).values, result.reconstruction.values);
  for (const OpqModel &part : model.parts)
    expectOrthogonal(part.rotation, 16, 1e-5);
}

TEST(Lopq, EmptyClusterStoresNothing) {
  Matrix x = correlated(40, 8, 8);
  LopqModel model;
  model.rows = 40;
  model.cols = 8;
  model.clusters = 3;
  model.labels.assign(40, 0);
  for (size_t i = 20; i < 40; ++i)
    model.labels[i] = 2;
  model.parts.resize(3);
  Matrix top(20, 8), bottom(20, 8);
  std::copy(x.values.begin(), x.values.begin() + 160, top.values.begin());
  std::copy(x.values.begin() + 160, x.values.end(), bottom.values.begin());
  model.parts[0] = trainOpq(top, opqConfig(2, 5));
  model.parts[2] = trainOpq(bottom, opqConfig(2, 7));
  PackedMatrix packed;
  packed.scheme = "lopq";
  packed.rows = 40;
  packed.cols = 8;
  packLopq(model, packed);
  EXPECT_THROW(packed.stream("c1.codes"), FormatError);
  EXPECT_EQ(packed.payloadBits(),
            lopqBits(8, 2, 32, 3, {20, 0, 20}, {5, 0, 7}));
  EXPECT_EQ(decodeLopq(packed).values, decodeLopq(model).values);
}

TEST(Lopq, ThreadCountDoesNotChangeTheResult) {
  Matrix x = correlated(180, 8, 9);
  QuantizeOptions options;
  options.bpe = 12;
  options.subspaces = 2;
  options.opqRounds = 3;
  options.lopqClusters = 3;
  options.threads = 1;
  QuantizeResult one = quantizeLopq(x, options);
  options.threads = 2;
  QuantizeResult two = quantizeLopq(x, options);
  expectSameStreams(one.packed, two.packed);
  EXPECT_EQ(one.reconstruction.values, two.reconstruction.values);
  EXPECT_EQ(one.packed.stream("labels").bitsEach, 2u);
}

TEST(Lopq, RejectsBadInput) {
  Matrix x = gaussian(10, 8, 1);
  QuantizeOptions options;
  options.bpe = 64;
  options.subspaces = 2;
  options.lopqClusters = 11; // more clusters than rows
  EXPECT_THROW(quantizeLopq(x, options), Error);
  options.lopqClusters = 0;
  EXPECT_THROW(quantizeLopq(x, options), Error);
  options.lopqClusters = 2;
  options.subspaces = 3;
  EXPECT_THROW(quantizeLopq(x, options), Error);
  options.subspaces = 2;
  options.bpe = 4; // two 8x8 fp32 rotations alone take 51.2 bpe here
  EXPECT_THROW(quantizeLopq(x, options), BudgetTooSmall);
}
