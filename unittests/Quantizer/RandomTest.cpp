//===- RandomTest.cpp - Seeded PRNG ---------------------------------------===//

#include "qet/Quantizer/Random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

using namespace qet::quant;

namespace {

TEST(Random, SameSeedSameStream) {
  Rng a(123), b(123), c(124);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(Random, UniformMoments) {
  // Mean 1/2, variance 1/12; with N = 200000 the standard error of the mean
  // is sqrt(1/12 / N) = 6.5e-4: allow 6 standard errors.
  Rng rng(7);
  const int n = 200000;
  double sum = 0, sumSquares = 0;
  for (int i = 0; i < n; ++i) {
    double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sumSquares += u * u;
  }
  double mean = sum / n;
  EXPECT_NEAR(mean, 0.5, 6 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(sumSquares / n - mean * mean, 1.0 / 12, 0.002);
}

TEST(Random, NormalMoments) {
  // Standard error of the mean 1/sqrt(N); of the variance sqrt(2/N).
  Rng rng(11);
  const int n = 200000;
  double sum = 0, sumSquares = 0, sumFourth = 0;
  for (int i = 0; i < n; ++i) {
    double z = rng.normal();
    sum += z;
    sumSquares += z * z;
    sumFourth += z * z * z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 6 / std::sqrt(double(n)));
  EXPECT_NEAR(sumSquares / n, 1.0, 6 * std::sqrt(2.0 / n));
  EXPECT_NEAR(sumFourth / n, 3.0, 0.1); // kurtosis of a Gaussian
}

TEST(Random, BelowIsUnbiasedAndInRange) {
  Rng rng(3);
  std::vector<int> counts(7, 0);
  const int n = 70000;
  for (int i = 0; i < n; ++i) {
    uint64_t v = rng.below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  // Each count is Binomial(n, 1/7): sd = sqrt(n * 1/7 * 6/7) ~ 92.6.
  for (int c : counts)
    EXPECT_NEAR(c, n / 7.0, 6 * 92.6);
}

TEST(Random, SampleWithoutReplacementIsDistinctAndUniform) {
  Rng rng(5);
  std::vector<size_t> sample = rng.sampleWithoutReplacement(100, 100);
  std::set<size_t> unique(sample.begin(), sample.end());
  EXPECT_EQ(unique.size(), 100u);
  EXPECT_EQ(*unique.rbegin(), 99u);

  // Each index is picked with probability k/n = 0.1.
  std::vector<int> hits(50, 0);
  const int trials = 20000;
  for (int t = 0; t < trials; ++t)
    for (size_t index : rng.sampleWithoutReplacement(50, 5))
      ++hits[index];
  for (int h : hits) // Binomial(20000, 0.1): sd ~ 42.4
    EXPECT_NEAR(h, trials * 0.1, 6 * 42.4);
  EXPECT_ANY_THROW(rng.sampleWithoutReplacement(3, 4));
}

} // namespace
