//===- Budget.cpp - Bit costs and the codebook-size solver ----------------===//

#include "qet/Quantizer/Budget.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Metrics.h"

#include <algorithm>
#include <cstdio>

namespace qet::quant {

uint64_t pqBits(uint64_t n, uint64_t d, uint64_t m, uint64_t ks, unsigned cb) {
  return ks * d * cb + n * m * indexBits(ks);
}

uint64_t opqBits(uint64_t n, uint64_t d, uint64_t m, uint64_t ks,
                 unsigned cb) {
  return d * d * cb + pqBits(n, d, m, ks, cb);
}

uint64_t lopqBoundBits(uint64_t n, uint64_t d, uint64_t m, uint64_t ks,
                       unsigned cb, uint64_t clusters) {
  return n * indexBits(clusters) + clusters * d * d * cb +
         clusters * ks * d * cb + n * m * indexBits(ks);
}

uint64_t lopqBits(uint64_t d, uint64_t m, unsigned cb, uint64_t clusters,
                  const std::vector<uint64_t> &clusterRows,
                  const std::vector<uint64_t> &clusterKs) {
  if (clusterRows.size() != clusterKs.size())
    throw Error("lopqBits: one Ks per cluster is needed");
  uint64_t n = 0, bits = 0;
  for (size_t c = 0; c < clusterRows.size(); ++c) {
    n += clusterRows[c];
    if (clusterRows[c]) // an empty cluster stores nothing
      bits += opqBits(clusterRows[c], d, m, clusterKs[c], cb);
  }
  return n * indexBits(clusters) + bits;
}

uint64_t maxCodebookSize(uint64_t rows, uint64_t cap) {
  return cap && cap < rows ? cap : rows;
}

uint64_t solveCodebookSize(const BudgetProblem &problem,
                           const std::function<uint64_t(uint64_t)> &cost) {
  if (problem.maxK == 0)
    throw Error(problem.scheme + ": no codebook size is possible for " +
                std::to_string(problem.rows) + "x" +
                std::to_string(problem.cols));
  uint64_t elements = problem.rows * problem.cols;
  uint64_t minimum = cost(1);
  if (minimum > problem.budgetBits)
    throw BudgetTooSmall(
        problem.scheme + ": a budget of " +
        std::to_string(problem.budgetBits) + " bits (" +
        formatBpe(static_cast<double>(problem.budgetBits) / elements) +
        " bpe) is too small for a " + std::to_string(problem.rows) + "x" +
        std::to_string(problem.cols) + " matrix with M = " +
        std::to_string(problem.subspaces) +
        "; the smallest configuration (Ks = 1) needs " +
        std::to_string(minimum) + " bits (" +
        formatBpe(static_cast<double>(minimum) / elements) + " bpe)");
  // Invariant: cost(lo) fits; every K above hi does not.
  uint64_t lo = 1, hi = problem.maxK;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo + 1) / 2;
    if (cost(mid) <= problem.budgetBits)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

std::vector<size_t> autoSubspaceCandidates(size_t d) {
  std::vector<size_t> candidates;
  for (size_t m = 4; m <= d / 2; m *= 2)
    if (d % m == 0)
      candidates.push_back(m);
  if (!candidates.empty())
    return candidates;
  // The power-of-two range is empty (d < 8, or d with no power-of-two
  // divisor >= 4): keep sub-vectors of at least 2 coordinates, as the main
  // rule does, with M = 1 as the last resort.
  for (size_t m = 1; m <= std::max<size_t>(1, d / 2); ++m)
    if (d % m == 0)
      candidates.push_back(m);
  return candidates;
}

void requireSubspacesDivide(const std::string &scheme, size_t d, size_t m) {
  if (m == 0 || d % m != 0)
    throw Error(scheme + ": M = " + std::to_string(m) +
                " subspaces must divide the row length d = " +
                std::to_string(d));
}

QuantizeResult
fitWithSubspaceSearch(const Matrix &input, const QuantizeOptions &options,
                      const std::function<QuantizeResult(size_t)> &fit) {
  if (options.subspaces) {
    QuantizeResult result = fit(options.subspaces);
    if (options.progress)
      options.progress(1.0);
    return result;
  }
  std::vector<size_t> candidates = autoSubspaceCandidates(input.cols);
  QuantizeResult best;
  double bestMse = 0.0;
  std::string tried;
  for (size_t i = 0; i < candidates.size(); ++i) {
    QuantizeResult result = fit(candidates[i]);
    double mse = measureError(input, result.reconstruction).mse;
    // Ascending M and a strict <: ties keep the smaller M.
    if (i == 0 || mse < bestMse) {
      bestMse = mse;
      best = std::move(result);
    }
    tried += (i ? "," : "") + std::to_string(candidates[i]);
    if (options.progress)
      options.progress(static_cast<double>(i + 1) / candidates.size());
  }
  auto &params = best.params;
  if (!params.empty() && params.front().first == "M") {
    params.front().second += " (auto)";
    params.insert(params.begin() + 1, {"M tried", tried});
  }
  return best;
}

} // namespace qet::quant
