//===- Budget.h - Bit costs and the codebook-size solver -------*- C++ -*-===//
//
// The exact bit counts of the codebook schemes (qem.md §2) and the solver of
// qem.md §4: the largest codebook size K whose cost fits the budget, found by
// binary search (every cost here is non-decreasing in K).
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_BUDGET_H
#define QET_QUANTIZER_BUDGET_H

#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/Scheme.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qet::quant {

/// PQ: Ks*d*cb codebook bits + n*M*ceil(log2 Ks) code bits.
uint64_t pqBits(uint64_t n, uint64_t d, uint64_t m, uint64_t ks, unsigned cb);
/// OPQ: PQ + a d x d rotation at cb bits.
uint64_t opqBits(uint64_t n, uint64_t d, uint64_t m, uint64_t ks, unsigned cb);
/// LOPQ solver bound: n*ceil(log2 L) + L*d^2*cb + L*K*d*cb + n*M*ceil(log2 K)
/// (every cluster charged a rotation and K centroids).
uint64_t lopqBoundBits(uint64_t n, uint64_t d, uint64_t m, uint64_t ks,
                       unsigned cb, uint64_t clusters);
/// LOPQ as stored: labels, then per non-empty cluster c a rotation,
/// ks[c]*d*cb codebook bits and rows[c]*M*ceil(log2 ks[c]) code bits.
uint64_t lopqBits(uint64_t d, uint64_t m, unsigned cb, uint64_t clusters,
                  const std::vector<uint64_t> &clusterRows,
                  const std::vector<uint64_t> &clusterKs);

/// The largest K allowed: n ("points" init needs K distinct rows), or the
/// user cap when it is below n (0 = no cap).
uint64_t maxCodebookSize(uint64_t rows, uint64_t cap);

/// What the solver needs to name in its error message.
struct BudgetProblem {
  std::string scheme;
  uint64_t rows = 0, cols = 0;
  uint64_t subspaces = 0;
  uint64_t budgetBits = 0;
  /// Kmax (see maxCodebookSize), at least 1.
  uint64_t maxK = 0;
};

/// The largest K in [1, maxK] with cost(K) <= budgetBits. Throws
/// BudgetTooSmall naming the scheme, shape, M and the minimum cost(1) (bits
/// and bpe) when even K = 1 does not fit.
uint64_t solveCodebookSize(const BudgetProblem &problem,
                           const std::function<uint64_t(uint64_t)> &cost);

/// The subspace counts M tried when the user gives none (qem.md §4): every
/// power of two from 4 to d/2 that divides d. Where that range holds none
/// (every d < 8, and d such as 10 or 18 whose power-of-two divisors are all
/// below 4), every divisor of d up to max(1, d/2) instead: sub-vectors keep
/// at least 2 coordinates as in the main rule, and d < 4 gets M = 1.
std::vector<size_t> autoSubspaceCandidates(size_t d);

/// Throws Error unless 1 <= m and m divides d (the message names `scheme`).
void requireSubspacesDivide(const std::string &scheme, size_t d, size_t m);

/// Runs `fit(M)` at options.subspaces, or, when that is 0, at every
/// autoSubspaceCandidates(d) and keeps the lowest training MSE (ties to the
/// smaller M). `fit` returns params starting with {"M", ...}; a searched M
/// is reported as "32 (auto)" followed by {"M tried", "4,8,16,32,64"}.
QuantizeResult
fitWithSubspaceSearch(const Matrix &input, const QuantizeOptions &options,
                      const std::function<QuantizeResult(size_t)> &fit);

} // namespace qet::quant

#endif // QET_QUANTIZER_BUDGET_H
