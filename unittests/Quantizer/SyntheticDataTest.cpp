//===- SyntheticDataTest.cpp - Seeded synthetic evaluation matrices -------===//
//
// Moment checks use n = 10^6 draws and bounds of 6 standard errors, so a
// correct generator fails one with probability about 2e-9 per check (the
// seeds are fixed, so the outcome is in fact deterministic).
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/SyntheticData.h"

#include "qet/Quantizer/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace qet::quant;

namespace {

constexpr double kSigma = 0.02;
constexpr size_t kSide = 1000;
constexpr double kN = double(kSide) * kSide;

const Family kAllFamilies[] = {Family::Gaussian, Family::Laplace,
                               Family::StudentT, Family::OutlierColumns};

struct Moments {
  double mean = 0, std = 0, excessKurtosis = 0;
};

Moments momentsOf(const std::vector<float> &values) {
  double sum = 0;
  for (float v : values)
    sum += v;
  Moments m;
  m.mean = sum / values.size();
  double m2 = 0, m4 = 0;
  for (float v : values) {
    double d = v - m.mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  m2 /= values.size();
  m4 /= values.size();
  m.std = std::sqrt(m2);
  m.excessKurtosis = m4 / (m2 * m2) - 3.0;
  return m;
}

/// Fraction of values with |v| > threshold.
double tailFraction(const std::vector<float> &values, double threshold) {
  size_t count = 0;
  for (float v : values)
    count += std::fabs(v) > threshold;
  return double(count) / values.size();
}

/// 6 binomial standard errors of an observed fraction with true value p.
double fractionBound(double p) { return 6.0 * std::sqrt(p * (1 - p) / kN); }

bool sameBits(const Matrix &a, const Matrix &b) {
  return a.rows == b.rows && a.cols == b.cols &&
         a.values.size() == b.values.size() &&
         std::memcmp(a.values.data(), b.values.data(),
                     a.values.size() * sizeof(float)) == 0;
}

// Mean of n draws with std sigma: standard error sigma / sqrt(n) = 2e-5.
constexpr double kMeanBound = 6.0 * kSigma / 1000.0;

} // namespace

TEST(SyntheticDataTest, SameSeedIsBitIdenticalAndSeedsDiffer) {
  for (Family family : kAllFamilies) {
    SCOPED_TRACE(familyName(family));
    Matrix a = makeSynthetic(family, 64, 130, 1);
    Matrix b = makeSynthetic(family, 64, 130, 1);
    EXPECT_TRUE(sameBits(a, b));
    EXPECT_EQ(a.rows, 64u);
    EXPECT_EQ(a.cols, 130u);
    EXPECT_EQ(a.storage, DType::F32);
    Matrix c = makeSynthetic(family, 64, 130, 2);
    size_t differing = 0;
    for (size_t i = 0; i < a.values.size(); ++i)
      differing += a.values[i] != c.values[i];
    // Independent continuous draws: essentially every element differs.
    EXPECT_GT(differing, a.values.size() * 99 / 100);
  }
}

TEST(SyntheticDataTest, GaussianMoments) {
  Matrix m = makeSynthetic(Family::Gaussian, kSide, kSide, 1);
  Moments s = momentsOf(m.values);
  EXPECT_LT(std::fabs(s.mean), kMeanBound);
  // Sample std of a normal: standard error sigma / sqrt(2n).
  EXPECT_NEAR(s.std, kSigma, 6.0 * kSigma / std::sqrt(2.0 * kN));
  // Sample excess kurtosis of a normal: standard error sqrt(24 / n).
  EXPECT_NEAR(s.excessKurtosis, 0.0, 6.0 * std::sqrt(24.0 / kN));
  double p = std::erfc(std::sqrt(2.0)); // P(|Z| > 2)
  EXPECT_NEAR(tailFraction(m.values, 2 * kSigma), p, fractionBound(p));
}

TEST(SyntheticDataTest, LaplaceMoments) {
  Matrix m = makeSynthetic(Family::Laplace, kSide, kSide, 1);
  Moments s = momentsOf(m.values);
  EXPECT_LT(std::fabs(s.mean), kMeanBound);
  // Sample variance: standard error sigma^2 sqrt((kurtosis - 1) / n) with
  // kurtosis 6, so the std's is half that relative: sigma sqrt(5 / n) / 2.
  EXPECT_NEAR(s.std, kSigma, 6.0 * kSigma * std::sqrt(5.0 / kN) / 2.0);
  // Excess kurtosis 3. By the delta method its standard error is
  // sqrt((mu8 - mu4^2)/s^8 + 4 mu4^3/s^12 - 4 mu4 mu6/s^10) / sqrt(n); with
  // Laplace moments mu_2k = (2k)! b^2k and s^2 = 2 b^2 this is
  // sqrt(2520 - 36 + 864 - 2160) / sqrt(n) = sqrt(1188 / n) = 0.0345.
  EXPECT_NEAR(s.excessKurtosis, 3.0, 6.0 * std::sqrt(1188.0 / kN));
  double p = std::exp(-2.0 * std::sqrt(2.0)); // P(|X| > 2 sigma)
  EXPECT_NEAR(tailFraction(m.values, 2 * kSigma), p, fractionBound(p));
}

TEST(SyntheticDataTest, StudentTMoments) {
  Matrix m = makeSynthetic(Family::StudentT, kSide, kSide, 1);
  Moments s = momentsOf(m.values);
  EXPECT_LT(std::fabs(s.mean), kMeanBound);
  // t_4 has infinite kurtosis, so the sample variance has no CLT standard
  // error; its fluctuation comes from the largest draws. With P(t^2 > x)
  // ~ 6 / x^2, one draw moves the variance (2n in t units) by 10% with
  // probability n * 6 / (0.2 n)^2 = 1.5e-4; the remaining draws give a
  // standard error of about sqrt(12 ln(0.2 n) / n) / 2 = 0.6% on the
  // variance. A 10% variance (5% std) bound covers both.
  EXPECT_NEAR(s.std, kSigma, 0.05 * kSigma);
  // Heavier tails than the Laplace family's.
  EXPECT_GT(s.excessKurtosis, 4.0);
  // The tail probability is exact: for nu = 4, F(t) = 1/2 + 3/8 u (1 - u^2 /
  // 12) with u = t / sqrt(1 + t^2 / 4), so P(|T| > 4) = 0.0161300899.
  // |x| > 2 sqrt(2) sigma is |T| > 4 once scaled by sigma / sqrt(2).
  auto cdf = [](double t) {
    double u = t / std::sqrt(1.0 + t * t / 4.0);
    return 0.5 + 3.0 / 8.0 * u * (1.0 - u * u / 12.0);
  };
  double p = 2.0 * (1.0 - cdf(4.0));
  EXPECT_NEAR(p, 0.0161300899, 1e-9);
  EXPECT_NEAR(tailFraction(m.values, 2.0 * std::sqrt(2.0) * kSigma), p,
              fractionBound(p));
}

TEST(SyntheticDataTest, OutlierColumnsScaleCeilColsOver64Columns) {
  Matrix m = makeSynthetic(Family::OutlierColumns, kSide, kSide, 3);
  Matrix base = makeSynthetic(Family::Gaussian, kSide, kSide, 3);
  // Columns are the Gaussian of the same seed, some multiplied by 20.
  std::vector<bool> isOutlier(kSide);
  size_t outliers = 0;
  for (size_t c = 0; c < kSide; ++c) {
    isOutlier[c] = m.at(0, c) != base.at(0, c);
    outliers += isOutlier[c];
    for (size_t r = 0; r < kSide; ++r)
      ASSERT_EQ(m.at(r, c),
                isOutlier[c] ? base.at(r, c) * 20.0f : base.at(r, c))
          << "(" << r << ", " << c << ")";
  }
  EXPECT_EQ(outliers, 16u); // ceil(1000 / 64)

  // Measured from the data alone: per-column std is sigma or 20 sigma (each
  // estimated from 1000 draws to about 2%), so 10 sigma separates them.
  std::vector<float> outlierValues, normalValues;
  size_t wide = 0;
  for (size_t c = 0; c < kSide; ++c) {
    std::vector<float> column(kSide);
    for (size_t r = 0; r < kSide; ++r)
      column[r] = m.at(r, c);
    bool isWide = momentsOf(column).std > 10 * kSigma;
    wide += isWide;
    EXPECT_EQ(isWide, isOutlier[c]) << "column " << c;
    (isWide ? outlierValues : normalValues)
        .insert((isWide ? outlierValues : normalValues).end(), column.begin(),
                column.end());
  }
  EXPECT_EQ(wide, 16u);
  // Pooled std: standard error std / sqrt(2 * count) for normal draws.
  double outlierStd = momentsOf(outlierValues).std;
  EXPECT_NEAR(outlierStd, 20 * kSigma,
              6 * 20 * kSigma / std::sqrt(2.0 * outlierValues.size()));
  EXPECT_NEAR(momentsOf(normalValues).std, kSigma,
              6 * kSigma / std::sqrt(2.0 * normalValues.size()));

  // ceil(cols / 64) at the boundaries.
  auto countOutliers = [](size_t cols) {
    Matrix o = makeSynthetic(Family::OutlierColumns, 2, cols, 5);
    Matrix g = makeSynthetic(Family::Gaussian, 2, cols, 5);
    size_t count = 0;
    for (size_t c = 0; c < cols; ++c)
      count += o.at(0, c) != g.at(0, c);
    return count;
  };
  EXPECT_EQ(countOutliers(1), 1u);
  EXPECT_EQ(countOutliers(64), 1u);
  EXPECT_EQ(countOutliers(65), 2u);
  EXPECT_EQ(countOutliers(128), 2u);
  EXPECT_EQ(countOutliers(384), 6u);
}

TEST(SyntheticDataTest, SigmaScalesTheDraws) {
  Matrix a = makeSynthetic(Family::Laplace, 50, 40, 9, 1.0);
  Matrix b = makeSynthetic(Family::Laplace, 50, 40, 9, 0.5);
  for (size_t i = 0; i < a.values.size(); ++i)
    EXPECT_FLOAT_EQ(b.values[i], 0.5f * a.values[i]) << i;
  EXPECT_THROW(makeSynthetic(Family::Gaussian, 2, 2, 1, 0.0), Error);
  EXPECT_THROW(makeSynthetic(Family::Gaussian, 2, 2, 1, -1.0), Error);
  EXPECT_THROW(makeSynthetic(Family::Gaussian, 2, 2, 1, NAN), Error);
  Matrix empty = makeSynthetic(Family::OutlierColumns, 0, 0, 1);
  EXPECT_EQ(empty.size(), 0u);
}

TEST(SyntheticDataTest, FamilyNamesRoundTrip) {
  for (Family family : kAllFamilies)
    EXPECT_EQ(parseFamily(familyName(family)), family);
  EXPECT_STREQ(familyName(Family::StudentT), "student-t");
  EXPECT_STREQ(familyName(Family::OutlierColumns), "outlier-columns");
  try {
    parseFamily("Gaussian");
    FAIL() << "no exception";
  } catch (const Error &error) {
    EXPECT_NE(std::string(error.what())
                  .find("valid: gaussian, laplace, student-t, "
                        "outlier-columns"),
              std::string::npos)
        << error.what();
  }
}
