//===- QjlScheme.cpp - The `qjl` scheme and key inner-product metrics -----===//

#include "qet/Quantizer/Qjl.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Parallel.h"

#include <algorithm>
#include <string>

namespace qet::quant {

Matrix qjlDecodeImpliedKeys(const PackedMatrix &packed) {
  QjlKeys keys = qjlUnpackKeys(packed);
  JlMatrix s = makeJlMatrix(keys.dim, keys.config.sketch, keys.config.kind,
                            keys.config.seed);
  return qjlImpliedKeys(keys, s);
}

static QjlConfig qjlConfigFor(const QuantizeOptions &options, unsigned sketch) {
  QjlConfig config;
  config.sketch = sketch;
  config.outliers = options.outliers;
  // The CLI default: the outlier sketch has as many rows as the main one
  // (qjl.md §6's "QJL-256 + outliers" row).
  config.outlierSketch =
      options.outliers ? (options.outlierSketch ? options.outlierSketch : sketch)
                       : 0;
  config.groupTokens = options.groupTokens;
  config.kind = parseJlKind(options.jlMatrix);
  config.seed = options.seed;
  return config;
}

static uint64_t qjlBits(const QjlConfig &config, const Matrix &input) {
  QjlKeys probe;
  probe.config = config;
  probe.dim = input.cols;
  probe.tokens = input.rows;
  return probe.storageBits();
}

QuantizeResult quantizeQjl(const Matrix &input, const QuantizeOptions &options) {
  unsigned sketch = options.sketch;
  uint64_t budget = options.bpe > 0
                        ? budgetBits(options.bpe, input.rows * input.cols)
                        : 0; // no budget
  if (sketch == 0) {
    // Unset: 256 (the project default) without a budget; with one, the
    // largest multiple of 8 (m_o following m when it is unset) that fits.
    sketch = 256;
    if (options.bpe > 0) {
      unsigned cap = static_cast<unsigned>(
          std::min<uint64_t>(budget / std::max<size_t>(input.rows, 1), 1u << 20));
      sketch = 8;
      for (unsigned m = cap / 8 * 8; m >= 8; m -= 8) {
        QjlConfig trial = qjlConfigFor(options, m);
        if (trial.outlierSketch <= m && qjlBits(trial, input) <= budget) {
          sketch = m;
          break;
        }
      }
    }
  }
  QjlConfig config = qjlConfigFor(options, sketch);
  validateQjlConfig(config, input.cols);
  uint64_t bits = qjlBits(config, input);
  double elements = double(input.rows) * input.cols;
  if (options.bpe > 0 && bits > budget)
    throw BudgetTooSmall(
        "qjl on " + std::to_string(input.rows) + "x" +
        std::to_string(input.cols) + " with m = " +
        std::to_string(config.sketch) + ", |O| = " +
        std::to_string(config.outliers) + ", m_o = " +
        std::to_string(config.outlierSketch) + ": needs " +
        std::to_string(bits) + " bits (" + formatBpe(bits / elements) +
        " bpe), above the budget of " + formatBpe(options.bpe) + " bpe");
  if (options.progress)
    options.progress(0.0);
  JlMatrix s = makeJlMatrix(input.cols, config.sketch, config.kind, config.seed);
  QjlKeys keys = qjlQuantizeKeys(input, s, config, options.threads);
  QuantizeResult result;
  result.scheme = "qjl";
  result.params = {{"m", std::to_string(config.sketch)},
                   {"outliers", std::to_string(config.outliers)},
                   {"m_o", std::to_string(config.outlierSketch)},
                   {"G", std::to_string(config.groupTokens)},
                   {"matrix", jlKindName(config.kind)},
                   {"seed", std::to_string(config.seed)}};
  result.packed = qjlPackKeys(keys);
  // Decode from the packed form alone: k_hat, the estimator's implied key
  // (<q, k_hat> is the estimate). It is not a reconstruction; its MSE is the
  // "k_hat MSE" of qjl.md §4 and §11.
  result.reconstruction = qjlDecodeImpliedKeys(result.packed);
  if (options.progress)
    options.progress(1.0);
  return result;
}

InnerProductStats keyInnerProductStats(const Matrix &keys,
                                       const QuantizeResult &result,
                                       const Matrix &queries,
                                       unsigned threads) {
  if (queries.cols != keys.cols)
    throw Error("inner-product metrics: queries have " +
                std::to_string(queries.cols) + " columns, keys " +
                std::to_string(keys.cols));
  size_t nq = queries.rows, n = keys.rows, dim = keys.cols;
  // est[i * n + t] for query i and key t.
  std::vector<double> est(nq * n);
  if (result.scheme == "qjl") {
    QjlKeys packed = qjlUnpackKeys(result.packed);
    if (packed.tokens != n || packed.dim != dim)
      throw Error("inner-product metrics: the qjl result does not match the keys");
    JlMatrix s = makeJlMatrix(dim, packed.config.sketch, packed.config.kind,
                              packed.config.seed);
    std::vector<float> scores(nq * n);
    qjlScores(packed, s, queries.values.data(), nq, scores.data(), threads);
    est.assign(scores.begin(), scores.end());
  } else {
    const Matrix &approx = result.reconstruction;
    if (approx.rows != n || approx.cols != dim)
      throw Error("inner-product metrics: the reconstruction shape differs");
    parallelFor(0, nq, threads, [&](size_t lo, size_t hi) {
      for (size_t i = lo; i < hi; ++i)
        for (size_t t = 0; t < n; ++t) {
          double dot = 0;
          for (size_t c = 0; c < dim; ++c)
            dot += double(queries.at(i, c)) * approx.at(t, c);
          est[i * n + t] = dot;
        }
    });
  }
  double squared = 0, energy = 0;
  for (size_t i = 0; i < nq; ++i)
    for (size_t t = 0; t < n; ++t) {
      double dot = 0;
      for (size_t c = 0; c < dim; ++c)
        dot += double(queries.at(i, c)) * keys.at(t, c);
      double diff = est[i * n + t] - dot;
      squared += diff * diff;
      energy += dot * dot;
    }
  InnerProductStats stats;
  double pairs = double(nq) * n;
  if (pairs > 0) {
    stats.mse = squared / pairs;
    stats.rel = energy > 0 ? squared / energy : 0.0;
  }
  return stats;
}

} // namespace qet::quant
