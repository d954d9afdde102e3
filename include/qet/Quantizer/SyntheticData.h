//===- SyntheticData.h - Seeded synthetic evaluation matrices --*- C++ -*-===//
//
// The synthetic families of qem.md §10(a). Every draw comes from the project's
// Rng, whose derived distributions are defined in-tree, so a seed gives the
// same matrix bit for bit with every compiler and standard library. Values are
// computed in double and rounded once to fp32; the storage dtype is F32.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_SYNTHETICDATA_H
#define QET_QUANTIZER_SYNTHETICDATA_H

#include "qet/Quantizer/Matrix.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace qet::quant {

enum class Family {
  /// N(0, sigma^2).
  Gaussian,
  /// Laplace with standard deviation sigma (scale sigma / sqrt(2)).
  Laplace,
  /// Student-t with 4 degrees of freedom, scaled to standard deviation sigma.
  StudentT,
  /// Gaussian with ceil(cols / 64) distinct columns, chosen by the PRNG,
  /// multiplied by 20: the non-outlier part equals Gaussian of the same seed.
  OutlierColumns,
};

/// A rows x cols fp32 matrix of `family`, filled row-major. Throws Error if
/// sigma is not finite and positive.
Matrix makeSynthetic(Family family, size_t rows, size_t cols, uint64_t seed,
                     double sigma = 0.02);

/// "gaussian", "laplace", "student-t" or "outlier-columns" to a Family;
/// throws Error listing the valid names otherwise.
Family parseFamily(const std::string &name);

/// The name parseFamily accepts.
const char *familyName(Family family);

} // namespace qet::quant

#endif // QET_QUANTIZER_SYNTHETICDATA_H
