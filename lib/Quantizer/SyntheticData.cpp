//===- SyntheticData.cpp - Seeded synthetic evaluation matrices -----------===//

#include "qet/Quantizer/SyntheticData.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Random.h"

#include <cmath>

namespace qet::quant {

namespace {

/// Outlier columns are scaled by this factor (qem.md §10(a)).
constexpr float kOutlierScale = 20.0f;

/// Laplace(0, 1) by inverting its CDF: a draw u in (0, 1) maps to ln(2u)
/// below the median and -ln(2(1 - u)) above it. u = 0 would give -Inf and is
/// drawn again.
double standardLaplace(Rng &rng) {
  double u;
  do {
    u = rng.uniform();
  } while (u <= 0.0);
  return u < 0.5 ? std::log(2.0 * u) : -std::log(2.0 * (1.0 - u));
}

/// Student-t with 4 degrees of freedom: Z / sqrt(chi2_4 / 4), chi2_4 the sum
/// of four squared normals (drawn after Z). A zero chi2_4 cannot occur in
/// practice but is drawn again rather than divided by.
double studentT4(Rng &rng) {
  double z = rng.normal();
  double chi2;
  do {
    chi2 = 0.0;
    for (int i = 0; i < 4; ++i) {
      double n = rng.normal();
      chi2 += n * n;
    }
  } while (chi2 <= 0.0);
  return z / std::sqrt(chi2 / 4.0);
}

} // namespace

Matrix makeSynthetic(Family family, size_t rows, size_t cols, uint64_t seed,
                     double sigma) {
  if (!std::isfinite(sigma) || sigma <= 0.0)
    throw Error("synthetic data: sigma must be finite and positive, got " +
                std::to_string(sigma));
  Rng rng(seed);
  Matrix m(rows, cols, DType::F32);
  // Unit-variance draws are scaled by sigma: Laplace(0, b) has variance 2b^2
  // and t_4 has variance 4 / (4 - 2) = 2.
  const double laplaceScale = sigma / std::sqrt(2.0);
  const double studentScale = sigma / std::sqrt(2.0);
  for (float &value : m.values) {
    double draw = 0.0;
    switch (family) {
    case Family::Gaussian:
    case Family::OutlierColumns:
      draw = sigma * rng.normal();
      break;
    case Family::Laplace:
      draw = laplaceScale * standardLaplace(rng);
      break;
    case Family::StudentT:
      draw = studentScale * studentT4(rng);
      break;
    }
    value = static_cast<float>(draw);
  }
  if (family == Family::OutlierColumns) {
    size_t count = (cols + 63) / 64;
    for (size_t col : rng.sampleWithoutReplacement(cols, count))
      for (size_t r = 0; r < rows; ++r)
        m.at(r, col) *= kOutlierScale;
  }
  return m;
}

Family parseFamily(const std::string &name) {
  for (Family family : {Family::Gaussian, Family::Laplace, Family::StudentT,
                        Family::OutlierColumns})
    if (name == familyName(family))
      return family;
  throw Error("unknown synthetic data family '" + name +
              "'; valid: gaussian, laplace, student-t, outlier-columns");
}

const char *familyName(Family family) {
  switch (family) {
  case Family::Gaussian:
    return "gaussian";
  case Family::Laplace:
    return "laplace";
  case Family::StudentT:
    return "student-t";
  case Family::OutlierColumns:
    return "outlier-columns";
  }
  return "?";
}

} // namespace qet::quant
