//===- QjlImpliedKeys.cpp - k_hat of packed QJL keys ----------------------===//
//
// qjlImpliedKeys (QjlScore.cpp) on in-place buffers, with the same fp64
// sums in the same order: k_hat_c = n/(m kappa) sum_j sigma_j S[j][c] on
// inlier channels, n_O/(m_o kappa) sum_{j < m_o} sigma'_j S[j][c] on the
// group's outlier channels.
//
//===----------------------------------------------------------------------===//

#include "QjlKernel.h"

#include "SectionReader.h"

#include <algorithm>
#include <vector>

namespace qet::runtime {

void qjlImpliedKeys(const quant::QjlConfig &config, const quant::JlMatrix &s,
                    const QjlKeysView &keys, float *out) {
  const size_t m = config.sketch, mo = config.outlierSketch, dim = s.dim;
  const bool hasOutliers = config.hasOutliers();
  std::vector<char> isOutlier(dim);
  for (size_t t = 0; t < keys.tokens; ++t) {
    std::fill(isOutlier.begin(), isOutlier.end(), 0);
    if (hasOutliers)
      for (size_t i = 0; i < config.outliers; ++i)
        isOutlier[keys.id(t / config.groupTokens, i, config.outliers)] = 1;
    const uint8_t *in = keys.signs + t * (m / 8);
    const uint8_t *o = hasOutliers ? keys.outlierSigns + t * (mo / 8) : nullptr;
    const double coefIn = halfToFloat(keys.norms[t]) / (double(m) * s.kappa);
    const double coefOut =
        hasOutliers ? halfToFloat(keys.outlierNorms[t]) / (double(mo) * s.kappa)
                    : 0.0;
    for (size_t c = 0; c < dim; ++c) {
      const float *row = s.st.data() + c * m;
      const uint8_t *bits = isOutlier[c] ? o : in;
      const size_t rows = isOutlier[c] ? mo : m;
      double sum = 0;
      for (size_t j = 0; j < rows; ++j)
        sum += ((bits[j / 8] >> (j % 8)) & 1) ? row[j] : -double(row[j]);
      out[t * dim + c] =
          static_cast<float>((isOutlier[c] ? coefOut : coefIn) * sum);
    }
  }
}

} // namespace qet::runtime
