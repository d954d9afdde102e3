//===- Lopq.cpp - Locally optimized PQ, as the reference defines it -------===//

#include "qet/Quantizer/Lopq.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Budget.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/KMeans.h"
#include "qet/Quantizer/Ledger.h"

#include <algorithm>
#include <cstring>

namespace qet::quant {

std::string lopqClusterPrefix(size_t cluster) {
  return "c" + std::to_string(cluster) + ".";
}

/// Rows of each cluster, ascending.
static std::vector<std::vector<size_t>>
clusterRows(const std::vector<uint32_t> &labels, size_t clusters) {
  std::vector<std::vector<size_t>> rows(clusters);
  for (size_t i = 0; i < labels.size(); ++i)
    rows[labels[i]].push_back(i);
  return rows;
}

Matrix decodeLopq(const LopqModel &model, unsigned threads) {
  Matrix out(model.rows, model.cols);
  std::vector<std::vector<size_t>> members =
      clusterRows(model.labels, model.clusters);
  for (size_t c = 0; c < model.clusters; ++c) {
    if (members[c].empty())
      continue;
    Matrix part = decodeOpq(model.parts[c], threads);
    for (size_t j = 0; j < members[c].size(); ++j)
      std::memcpy(out.row(members[c][j]), part.row(j),
                  model.cols * sizeof(float));
  }
  return out;
}

void packLopq(const LopqModel &model, PackedMatrix &packed) {
  packed.addCodes("labels", model.labels, indexBits(model.clusters));
  for (size_t c = 0; c < model.clusters; ++c)
    if (model.parts[c].pq.rows) // an empty cluster stores nothing
      packOpq(model.parts[c], packed, lopqClusterPrefix(c));
}

LopqModel unpackLopq(const PackedMatrix &packed) {
  LopqModel model;
  model.rows = packed.rows;
  model.cols = packed.cols;
  model.labels = packed.codes("labels");
  if (model.labels.size() != packed.rows)
    throw FormatError("lopq: stream 'labels' holds " +
                      std::to_string(model.labels.size()) +
                      " labels for " + std::to_string(packed.rows) + " rows");
  // L itself is not stored; clusters above the largest label are empty.
  for (uint32_t label : model.labels)
    model.clusters = std::max<size_t>(model.clusters, size_t{label} + 1);
  std::vector<std::vector<size_t>> members =
      clusterRows(model.labels, model.clusters);
  model.parts.resize(model.clusters);
  for (size_t c = 0; c < model.clusters; ++c)
    if (!members[c].empty())
      model.parts[c] = unpackOpq(packed, members[c].size(), packed.cols,
                                 lopqClusterPrefix(c));
  return model;
}

Matrix decodeLopq(const PackedMatrix &packed, unsigned threads) {
  return decodeLopq(unpackLopq(packed), threads);
}

static std::string joinCounts(const std::vector<uint64_t> &values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? "," : "") + std::to_string(values[i]);
  return text;
}

QuantizeResult quantizeLopq(const Matrix &input,
                            const QuantizeOptions &options) {
  if (input.rows == 0 || input.cols == 0)
    throw Error("lopq: the input matrix is empty");
  requireFinite(input, "lopq");
  const uint64_t n = input.rows, d = input.cols;
  const uint64_t clusters = options.lopqClusters;
  if (clusters == 0 || clusters > n)
    throw Error("lopq: L = " + std::to_string(clusters) +
                " clusters must be in [1, " + std::to_string(n) +
                "] for a " + std::to_string(n) + "x" + std::to_string(d) +
                " matrix");
  const unsigned cb = bitWidth(input.storage);
  const uint64_t budget = budgetBits(options.bpe, n * d);

  // The partition does not depend on M: compute it once for the M search.
  std::vector<uint32_t> labels;
  auto partition = [&]() {
    if (!labels.empty())
      return;
    KMeansOptions coarse;
    coarse.k = clusters;
    coarse.iterations = options.iterations;
    coarse.seed = options.seed;
    coarse.threads = options.threads;
    KMeansResult fit = kmeans(input, coarse);
    // Label = nearest final coarse centroid (qem.md §9, §14).
    labels = assign(input, fit.centroids, options.threads);
  };

  return fitWithSubspaceSearch(input, options, [&](size_t m) {
    requireSubspacesDivide("lopq", d, m);
    // The solver charges every cluster a rotation and K centroids: an upper
    // bound on what is stored.
    BudgetProblem problem{"lopq", n, d, m, budget,
                          maxCodebookSize(n, options.maxCentroids)};
    uint64_t ks = solveCodebookSize(problem, [&](uint64_t k) {
      return lopqBoundBits(n, d, m, k, cb, clusters);
    });
    partition();

    LopqModel model;
    model.rows = n;
    model.cols = d;
    model.clusters = clusters;
    model.labels = labels;
    model.parts.resize(clusters);
    std::vector<std::vector<size_t>> members = clusterRows(labels, clusters);
    std::vector<uint64_t> rowsPerCluster(clusters), ksPerCluster(clusters);
    for (size_t c = 0; c < clusters; ++c) {
      const std::vector<size_t> &rows = members[c];
      rowsPerCluster[c] = rows.size();
      if (rows.empty())
        continue;
      Matrix part(rows.size(), d, input.storage);
      for (size_t j = 0; j < rows.size(); ++j)
        std::memcpy(part.row(j), input.row(rows[j]), d * sizeof(float));
      ksPerCluster[c] = std::min<uint64_t>(ks, rows.size());
      OpqConfig config;
      config.pq = {m, static_cast<size_t>(ksPerCluster[c]),
                   options.iterations, options.seed, options.threads};
      config.rounds = options.opqRounds;
      model.parts[c] = trainOpq(part, config);
    }

    QuantizeResult result;
    result.scheme = "lopq";
    result.packed = PackedMatrix::emptyFor("lopq", input);
    packLopq(model, result.packed);
    result.reconstruction = decodeLopq(result.packed, options.threads);
    result.params = {{"M", std::to_string(m)},
                     {"Ks", std::to_string(ks)},
                     {"L", std::to_string(clusters)},
                     {"cluster rows", joinCounts(rowsPerCluster)},
                     {"cluster Ks", joinCounts(ksPerCluster)},
                     {"iterations", std::to_string(options.iterations)},
                     {"rounds", std::to_string(options.opqRounds)},
                     {"seed", std::to_string(options.seed)}};
    return result;
  });
}

} // namespace qet::quant
