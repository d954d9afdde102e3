//===- ProductQuantizer.cpp - Product quantization (PQ) -------------------===//

#include "qet/Quantizer/ProductQuantizer.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Budget.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/KMeans.h"
#include "qet/Quantizer/Ledger.h"
#include "qet/Quantizer/Parallel.h"

#include <cstring>

namespace qet::quant {

static void checkConfig(const Matrix &x, const PqConfig &config) {
  if (x.rows == 0 || x.cols == 0)
    throw Error("pq: the input matrix is empty");
  requireSubspacesDivide("pq", x.cols, config.subspaces);
  if (config.centroids == 0 || config.centroids > x.rows)
    throw Error("pq: Ks = " + std::to_string(config.centroids) +
                " must be in [1, " + std::to_string(x.rows) +
                "] (\"points\" init draws Ks distinct rows)");
}

/// Subspaces run side by side when there are at least as many as threads
/// (no per-iteration thread start-up); otherwise each k-means uses them all.
/// Either way every label is computed the same, so results are identical.
static void splitThreads(size_t subspaces, unsigned requested,
                         unsigned &outer, unsigned &inner) {
  unsigned threads = resolveThreads(requested);
  if (subspaces >= threads) {
    outer = threads;
    inner = 1;
  } else {
    outer = 1;
    inner = threads;
  }
}

PqModel trainPq(const Matrix &x, const PqConfig &config) {
  checkConfig(x, config);
  PqModel model;
  model.rows = x.rows;
  model.cols = x.cols;
  model.subspaces = config.subspaces;
  model.centroids = config.centroids;
  model.storage = x.storage;
  const size_t n = x.rows, m = config.subspaces, ks = config.centroids;
  const size_t ds = model.subDim();
  model.codebooks.resize(m * ks * ds);
  model.codes.resize(n * m);

  // One draw serves every subspace (the reference reseeds each with the same
  // seed, which has that effect).
  std::vector<size_t> init = Rng(config.seed).sampleWithoutReplacement(n, ks);
  unsigned outer, inner;
  splitThreads(m, config.threads, outer, inner);
  parallelFor(0, m, outer, [&](size_t begin, size_t end) {
    std::vector<uint32_t> labels(n);
    for (size_t s = begin; s < end; ++s) {
      PointsView points = PointsView::columns(x, s * ds, ds);
      KMeansOptions options;
      options.k = ks;
      options.iterations = config.iterations;
      options.seed = config.seed;
      options.threads = inner;
      options.initRows = &init;
      KMeansResult fit = kmeans(points, options);
      float *codebook = model.codebooks.data() + s * ks * ds;
      bool exact = true;
      for (size_t i = 0; i < ks * ds; ++i) {
        codebook[i] = roundTo(x.storage, fit.centroids.values[i]);
        exact &= codebook[i] == fit.centroids.values[i];
      }
      // Codes come from the stored codebook. A converged fit's last labels
      // already are the nearest codewords of those exact centroids.
      if (exact && fit.converged)
        labels = fit.labels;
      else
        assign(points, codebook, ks, labels.data(), inner);
      for (size_t i = 0; i < n; ++i)
        model.codes[i * m + s] = labels[i];
    }
  });
  return model;
}

std::vector<uint32_t> encodePq(const PqModel &model, const Matrix &x,
                               unsigned threads) {
  if (x.cols != model.cols)
    throw Error("pq: cannot encode " + std::to_string(x.cols) +
                " columns with a model of " + std::to_string(model.cols));
  const size_t m = model.subspaces, ds = model.subDim();
  std::vector<uint32_t> codes(x.rows * m), labels(x.rows);
  for (size_t s = 0; s < m; ++s) {
    assign(PointsView::columns(x, s * ds, ds), model.codeword(s, 0),
           model.centroids, labels.data(), threads);
    for (size_t i = 0; i < x.rows; ++i)
      codes[i * m + s] = labels[i];
  }
  return codes;
}

Matrix decodePq(const PqModel &model) {
  const size_t m = model.subspaces, ds = model.subDim();
  Matrix out(model.rows, model.cols);
  for (size_t i = 0; i < model.rows; ++i)
    for (size_t s = 0; s < m; ++s) {
      uint32_t code = model.codes[i * m + s];
      if (code >= model.centroids)
        throw FormatError("pq: code " + std::to_string(code) + " of row " +
                          std::to_string(i) + " exceeds Ks = " +
                          std::to_string(model.centroids));
      std::memcpy(out.row(i) + s * ds, model.codeword(s, code),
                  ds * sizeof(float));
    }
  return out;
}

void packPq(const PqModel &model, PackedMatrix &packed,
            const std::string &prefix) {
  packed.addFloats(prefix + "codebooks", model.codebooks, model.storage);
  packed.addCodes(prefix + "codes", model.codes, indexBits(model.centroids));
}

PqModel unpackPq(const PackedMatrix &packed, uint64_t rows, uint64_t cols,
                 const std::string &prefix) {
  const PackedStream &codebooks = packed.stream(prefix + "codebooks");
  const PackedStream &codes = packed.stream(prefix + "codes");
  if (rows == 0 || cols == 0 || codebooks.count % cols ||
      codes.count % rows)
    throw FormatError("pq: streams '" + prefix + "codebooks' (" +
                      std::to_string(codebooks.count) + ") and '" + prefix +
                      "codes' (" + std::to_string(codes.count) +
                      ") do not fit a " + std::to_string(rows) + "x" +
                      std::to_string(cols) + " matrix");
  PqModel model;
  model.rows = rows;
  model.cols = cols;
  model.storage = packed.storage;
  model.centroids = codebooks.count / cols;
  model.subspaces = codes.count / rows;
  if (model.subspaces == 0 || cols % model.subspaces ||
      model.centroids == 0 || codes.bitsEach != indexBits(model.centroids))
    throw FormatError("pq: inconsistent streams '" + prefix + "codebooks' and '" +
                      prefix + "codes' for a " + std::to_string(rows) + "x" +
                      std::to_string(cols) + " matrix");
  model.codebooks = packed.floats(prefix + "codebooks", packed.storage);
  model.codes = packed.codes(prefix + "codes");
  return model;
}

Matrix decodePq(const PackedMatrix &packed) {
  return decodePq(unpackPq(packed, packed.rows, packed.cols));
}

QuantizeResult quantizePq(const Matrix &input, const QuantizeOptions &options) {
  if (input.rows == 0 || input.cols == 0)
    throw Error("pq: the input matrix is empty");
  requireFinite(input, "pq");
  const uint64_t n = input.rows, d = input.cols;
  const unsigned cb = bitWidth(input.storage);
  const uint64_t budget = budgetBits(options.bpe, n * d);
  return fitWithSubspaceSearch(input, options, [&](size_t m) {
    requireSubspacesDivide("pq", d, m);
    BudgetProblem problem{"pq", n, d, m, budget,
                          maxCodebookSize(n, options.maxCentroids)};
    uint64_t ks = solveCodebookSize(
        problem, [&](uint64_t k) { return pqBits(n, d, m, k, cb); });
    PqModel model = trainPq(input, {m, static_cast<size_t>(ks),
                                    options.iterations, options.seed,
                                    options.threads});
    QuantizeResult result;
    result.scheme = "pq";
    result.packed = PackedMatrix::emptyFor("pq", input);
    packPq(model, result.packed);
    result.reconstruction = decodePq(result.packed);
    result.params = {{"M", std::to_string(m)},
                     {"Ks", std::to_string(ks)},
                     {"iterations", std::to_string(options.iterations)},
                     {"seed", std::to_string(options.seed)}};
    return result;
  });
}

} // namespace qet::quant
