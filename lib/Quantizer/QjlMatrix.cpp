//===- QjlMatrix.cpp - JL matrices for QJL (qjl.md §2) --------------------===//

#include "qet/Quantizer/Qjl.h"

#include "qet/Quantizer/Error.h"

#include <cmath>
#include <string>

namespace qet::quant {

JlKind parseJlKind(const std::string &name) {
  if (name == "gaussian")
    return JlKind::Gaussian;
  if (name == "orthogonal")
    return JlKind::Orthogonal;
  throw Error("qjl: unknown JL matrix kind '" + name +
              "'; expected gaussian or orthogonal");
}

const char *jlKindName(JlKind kind) {
  return kind == JlKind::Gaussian ? "gaussian" : "orthogonal";
}

double jlKappa(JlKind kind, size_t dim) {
  const double pi = 3.14159265358979323846;
  if (kind == JlKind::Gaussian)
    return std::sqrt(2.0 / pi);
  // kappa_d = sqrt(d) E|u_1| = sqrt(d) Gamma(d/2) / (sqrt(pi) Gamma((d+1)/2)).
  double d = static_cast<double>(dim);
  return std::exp(0.5 * std::log(d) + std::lgamma(d / 2) -
                  std::lgamma((d + 1) / 2) - 0.5 * std::log(pi));
}

static void requireMultipleOf8(const char *what, size_t value) {
  if (value < 8 || value % 8 != 0)
    throw Error(std::string("qjl: ") + what +
                " must be a positive multiple of 8, got " +
                std::to_string(value));
}

// One modified Gram-Schmidt pass over the `rows` x `dim` block (row-major,
// fp64), normalizing each row.
static void gramSchmidt(std::vector<double> &block, size_t rows, size_t dim) {
  for (size_t i = 0; i < rows; ++i) {
    double *v = block.data() + i * dim;
    for (size_t p = 0; p < i; ++p) {
      const double *u = block.data() + p * dim;
      double dot = 0;
      for (size_t c = 0; c < dim; ++c)
        dot += v[c] * u[c];
      for (size_t c = 0; c < dim; ++c)
        v[c] -= dot * u[c];
    }
    double norm = 0;
    for (size_t c = 0; c < dim; ++c)
      norm += v[c] * v[c];
    norm = std::sqrt(norm);
    if (!(norm > 1e-300))
      throw Error("qjl: degenerate Gaussian block while orthogonalizing S");
    for (size_t c = 0; c < dim; ++c)
      v[c] /= norm;
  }
}

JlMatrix makeJlMatrix(size_t dim, size_t sketch, JlKind kind, uint64_t seed) {
  requireMultipleOf8("the head dimension d", dim);
  requireMultipleOf8("the sketch size m", sketch);
  JlMatrix s;
  s.kind = kind;
  s.dim = dim;
  s.sketch = sketch;
  s.seed = seed;
  s.kappa = jlKappa(kind, dim);
  s.st.assign(dim * sketch, 0.0f);
  Rng rng(seed);
  // Rows in blocks of d, each block drawn row-major from the normal stream.
  double radius = std::sqrt(static_cast<double>(dim));
  std::vector<double> block;
  for (size_t first = 0; first < sketch; first += dim) {
    size_t rows = std::min(dim, sketch - first);
    block.resize(rows * dim);
    for (double &v : block)
      v = rng.normal();
    if (kind == JlKind::Orthogonal) {
      gramSchmidt(block, rows, dim);
      gramSchmidt(block, rows, dim); // twice: orthogonal to fp64 rounding
      for (double &v : block)
        v *= radius;
    }
    for (size_t r = 0; r < rows; ++r)
      for (size_t c = 0; c < dim; ++c)
        s.st[c * sketch + first + r] = static_cast<float>(block[r * dim + c]);
  }
  return s;
}

} // namespace qet::quant
