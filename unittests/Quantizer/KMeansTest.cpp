//===- KMeansTest.cpp - k-means oracles and invariants --------------------===//

#include "qet/Quantizer/KMeans.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Random.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qet::quant;

namespace {

Matrix gaussian(size_t rows, size_t cols, uint64_t seed, float scale = 1.0f) {
  return qet::test::gaussianMatrix(rows, cols, seed, scale);
}

Matrix column(std::initializer_list<float> values) {
  Matrix m(values.size(), 1);
  std::copy(values.begin(), values.end(), m.values.begin());
  return m;
}

double squaredDistance(const float *a, const float *b, size_t dim) {
  double sum = 0.0;
  for (size_t d = 0; d < dim; ++d) {
    double diff = static_cast<double>(a[d]) - b[d];
    sum += diff * diff;
  }
  return sum;
}

void expectBitIdentical(const KMeansResult &a, const KMeansResult &b) {
  EXPECT_EQ(a.centroids.values, b.centroids.values);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.objective, b.objective);
  EXPECT_EQ(a.initRows, b.initRows);
  EXPECT_EQ(a.iterationsRun, b.iterationsRun);
}

} // namespace

// qem.md §12: every ordered pair of distinct init rows ends at {0.05, 10.05}.
TEST(KMeans, OracleTwoPairsEveryInit) {
  Matrix points = column({0.0f, 0.1f, 10.0f, 10.1f});
  for (size_t first = 0; first < 4; ++first)
    for (size_t second = 0; second < 4; ++second) {
      if (first == second)
        continue;
      std::vector<size_t> init{first, second};
      KMeansOptions options;
      options.k = 2;
      options.iterations = 20;
      options.initRows = &init;
      KMeansResult fit = kmeans(points, options);
      std::vector<float> centroids = fit.centroids.values;
      std::sort(centroids.begin(), centroids.end());
      EXPECT_NEAR(centroids[0], 0.05, 1e-6) << first << "," << second;
      EXPECT_NEAR(centroids[1], 10.05, 1e-6) << first << "," << second;
      double mse = 0.0;
      for (size_t i = 0; i < 4; ++i) {
        double diff = points.values[i] - fit.centroids.values[fit.labels[i]];
        mse += diff * diff / 4;
      }
      EXPECT_NEAR(mse, 0.0025, 1e-7);
    }
}

// qem.md §12: the empty-cluster rule, step by step.
TEST(KMeans, OracleEmptyClusterKeepsCentroid) {
  Matrix points = column({0.0f, 0.0f, 0.0f, 5.0f});
  std::vector<size_t> init{0, 1};
  KMeansOptions options;
  options.k = 2;
  options.initRows = &init;

  options.iterations = 1;
  KMeansResult one = kmeans(points, options);
  EXPECT_EQ(one.labels, (std::vector<uint32_t>{0, 0, 0, 0}));
  EXPECT_EQ(one.centroids.values, (std::vector<float>{1.25f, 0.0f}));

  options.iterations = 20;
  KMeansResult full = kmeans(points, options);
  EXPECT_EQ(full.centroids.values, (std::vector<float>{5.0f, 0.0f}));
  EXPECT_EQ(full.labels, (std::vector<uint32_t>{1, 1, 1, 0}));
  EXPECT_TRUE(full.converged);
  EXPECT_EQ(full.iterationsRun, 3u); // the third step changes nothing
  EXPECT_EQ(assign(points, full.centroids),
            (std::vector<uint32_t>{1, 1, 1, 0}));
}

TEST(KMeans, ObjectiveNeverIncreases) {
  struct Shape {
    size_t n, dim, k;
  };
  for (Shape shape : {Shape{500, 2, 7}, Shape{300, 16, 40}, Shape{257, 5, 256},
                      Shape{1000, 3, 64}, Shape{64, 33, 9}}) {
    Matrix points = gaussian(shape.n, shape.dim, 7 + shape.k);
    KMeansOptions options;
    options.k = shape.k;
    options.iterations = 30;
    options.seed = 11;
    options.stopWhenStable = false;
    KMeansResult fit = kmeans(points, options);
    ASSERT_EQ(fit.objective.size(), 30u);
    // Exact arithmetic never increases it. The assignment's rounding could
    // in principle pick a centroid farther by ~1e-7 relative at a near-tie;
    // none occurs on these (deterministic) inputs, so the slack is tiny.
    for (size_t t = 1; t < fit.objective.size(); ++t)
      EXPECT_LE(fit.objective[t], fit.objective[t - 1] * (1 + 1e-12))
          << shape.n << "x" << shape.dim << " k=" << shape.k << " t=" << t;
    EXPECT_LT(fit.objective.back(), fit.objective.front());
  }
}

TEST(KMeans, SameSeedIsBitIdenticalAcrossThreadCounts) {
  Matrix points = gaussian(1003, 12, 3, 0.02f);
  KMeansOptions options;
  options.k = 50;
  options.seed = 99;
  options.threads = 1;
  KMeansResult single = kmeans(points, options);
  options.threads = 2;
  KMeansResult two = kmeans(points, options);
  options.threads = 3;
  KMeansResult three = kmeans(points, options);
  expectBitIdentical(single, two);
  expectBitIdentical(single, three);
  options.seed = 100;
  EXPECT_NE(kmeans(points, options).initRows, single.initRows);
}

TEST(KMeans, PortableKernelMatchesVectorKernel) {
  Matrix points = gaussian(301, 7, 5);
  KMeansOptions options;
  options.k = 37;
  KMeansResult fast = kmeans(points, options);
  bool old = detail::setPortableKMeansKernel(true);
  KMeansResult portable = kmeans(points, options);
  detail::setPortableKMeansKernel(old);
  expectBitIdentical(fast, portable);
}

TEST(KMeans, EarlyStopGivesTheSameResult) {
  Matrix points = gaussian(200, 2, 8);
  KMeansOptions options;
  options.k = 4;
  options.iterations = 100;
  KMeansResult stopped = kmeans(points, options);
  ASSERT_TRUE(stopped.converged);
  ASSERT_LT(stopped.iterationsRun, 100u);
  options.stopWhenStable = false;
  KMeansResult full = kmeans(points, options);
  EXPECT_EQ(full.iterationsRun, 100u);
  EXPECT_EQ(stopped.centroids.values, full.centroids.values);
  EXPECT_EQ(stopped.labels, full.labels);
}

TEST(KMeans, InitDrawsDistinctRows) {
  Matrix points = gaussian(40, 3, 2);
  KMeansOptions options;
  options.k = 40; // every row
  options.iterations = 0;
  KMeansResult fit = kmeans(points, options);
  std::vector<size_t> rows = fit.initRows;
  std::sort(rows.begin(), rows.end());
  for (size_t i = 0; i < rows.size(); ++i)
    EXPECT_EQ(rows[i], i);
  for (size_t c = 0; c < 40; ++c)
    for (size_t d = 0; d < 3; ++d)
      EXPECT_EQ(fit.centroids.at(c, d), points.at(fit.initRows[c], d));
  EXPECT_EQ(fit.initRows, Rng(kDefaultSeed).sampleWithoutReplacement(40, 40));
}

TEST(KMeans, AssignFindsTheNearestCentroid) {
  Matrix points = gaussian(333, 9, 21);
  Matrix centroids = gaussian(70, 9, 22);
  std::vector<uint32_t> labels = assign(points, centroids, 2);
  for (size_t i = 0; i < points.rows; ++i) {
    double best = std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < centroids.rows; ++c)
      best = std::min(best, squaredDistance(points.row(i), centroids.row(c), 9));
    double chosen = squaredDistance(points.row(i), centroids.row(labels[i]), 9);
    EXPECT_LE(chosen, best + 1e-5 * (1 + best)) << "row " << i;
  }
}

TEST(KMeans, TiesGoToTheLowestIndex) {
  // Centroids 1, 3 and 5 are the same point; 0, 2, 4 are far away.
  Matrix centroids(6, 4);
  for (size_t c = 0; c < 6; ++c)
    for (size_t d = 0; d < 4; ++d)
      centroids.at(c, d) = c % 2 ? 0.5f : 100.0f + c;
  Matrix points = gaussian(50, 4, 4, 0.1f);
  for (uint32_t label : assign(points, centroids))
    EXPECT_EQ(label, 1u);
  // A point exactly between two centroids (exact arithmetic throughout).
  Matrix middle = column({1.0f});
  EXPECT_EQ(assign(middle, column({0.0f, 2.0f})),
            (std::vector<uint32_t>{0}));
  EXPECT_EQ(assign(middle, column({2.0f, 0.0f})),
            (std::vector<uint32_t>{0}));
}

TEST(KMeans, TrainingSubsampleIsSeededAndReported) {
  Matrix points = gaussian(1000, 4, 6);
  KMeansOptions options;
  options.k = 10;
  options.trainingSample = 100;
  KMeansResult sampled = kmeans(points, options);
  ASSERT_EQ(sampled.trainingRows.size(), 100u);
  EXPECT_TRUE(std::is_sorted(sampled.trainingRows.begin(),
                             sampled.trainingRows.end()));
  EXPECT_EQ(sampled.labels.size(), 100u);
  // Same init rows as without the subsample (same draw prefix).
  options.trainingSample = 0;
  KMeansResult all = kmeans(points, options);
  EXPECT_TRUE(all.trainingRows.empty());
  EXPECT_EQ(sampled.initRows, all.initRows);
  options.trainingSample = 100;
  expectBitIdentical(sampled, kmeans(points, options));
}

TEST(KMeans, RejectsBadInput) {
  Matrix points = gaussian(5, 2, 1);
  KMeansOptions options;
  options.k = 0;
  EXPECT_THROW(kmeans(points, options), Error);
  options.k = 6;
  EXPECT_THROW(kmeans(points, options), Error);
  options.k = 2;
  std::vector<size_t> duplicate{1, 1};
  options.initRows = &duplicate;
  EXPECT_THROW(kmeans(points, options), Error);
  std::vector<size_t> outside{1, 5};
  options.initRows = &outside;
  EXPECT_THROW(kmeans(points, options), Error);
  options.initRows = nullptr;
  points.at(3, 1) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(kmeans(points, options), Error);
  points.at(3, 1) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(kmeans(points, options), Error);
}
