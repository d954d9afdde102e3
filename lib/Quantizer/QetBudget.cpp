//===- QetBudget.cpp - HERA/QET bit costs and budget solvers --------------===//
//
// qet.md §2 and §3.2. HERA uses the bit-granular solver of qem.md §4 with its
// own cost. QET splits the bytes left after all swap bits between the stages
// as the reference does: avail = floor((budget - swap) / 8) bytes,
// B_s = floor(avail * rate_s) in IEEE double, then each stage's Ks is the
// largest K whose codebook, (lo, step) and code bits fit 8 * B_s.
//
//===----------------------------------------------------------------------===//

#include "qet/Quantizer/Qet.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Budget.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Ledger.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace qet::quant {

namespace {

std::string shapeText(uint64_t n, uint64_t d) {
  return std::to_string(n) + "x" + std::to_string(d);
}

std::string bitsText(uint64_t bits, uint64_t elements) {
  return std::to_string(bits) + " bits (" +
         formatBpe(static_cast<double>(bits) / static_cast<double>(elements)) +
         " bpe)";
}

template <typename T, typename F>
std::string joinList(const std::vector<T> &items, F &&format) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i)
    text += (i ? "," : "") + format(items[i]);
  return text;
}

std::string describeStages(const std::vector<QetStageSpec> &stages) {
  auto rate = [](const QetStageSpec &s) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", s.rate);
    return std::string(buffer);
  };
  return "depths (" +
         joinList(stages, [](const QetStageSpec &s) {
           return std::to_string(s.depth);
         }) +
         "), split (" + joinList(stages, rate) + "), codebook bits (" +
         joinList(stages, [](const QetStageSpec &s) {
           return std::to_string(s.codebookBits);
         }) +
         ")";
}

/// Code + codebook (+ lo/step) bits of a stage, without its swap bits.
uint64_t stageCodebookBits(uint64_t n, uint64_t d, uint64_t m, uint64_t ks,
                           unsigned cb, unsigned b) {
  return qetStageBits(n, d, m, ks, cb, b, 0);
}

/// floor(avail * rate) in IEEE double, as Python's int(avail * rate).
uint64_t stageBytes(uint64_t avail, double rate) {
  return static_cast<uint64_t>(std::floor(static_cast<double>(avail) * rate));
}

bool stagesFit(uint64_t n, uint64_t d, uint64_t m, unsigned cb,
               const std::vector<QetStageSpec> &stages, uint64_t avail) {
  for (const QetStageSpec &s : stages)
    if (stageCodebookBits(n, d, m, 1, cb, s.codebookBits) >
        8 * stageBytes(avail, s.rate))
      return false;
  return true;
}

uint64_t totalSwapBits(uint64_t n, uint64_t d,
                       const std::vector<QetStageSpec> &stages) {
  uint64_t swap = 0;
  for (const QetStageSpec &s : stages)
    swap += swapTreeBits(n, d, s.depth);
  return swap;
}

} // namespace

uint64_t swapTreeBits(uint64_t n, uint64_t d, unsigned depth) {
  return uint64_t{depth} * n * (d / 2);
}

uint64_t heraBits(uint64_t n, uint64_t d, uint64_t m, uint64_t ks, unsigned cb,
                  unsigned depth) {
  return pqBits(n, d, m, ks, cb) + swapTreeBits(n, d, depth);
}

uint64_t qetStageBits(uint64_t n, uint64_t d, uint64_t m, uint64_t ks,
                      unsigned cb, unsigned codebookBits, unsigned depth) {
  uint64_t codebook =
      codebookBits ? ks * d * codebookBits + 2 * uint64_t{cb} : ks * d * cb;
  return codebook + n * m * indexBits(ks) + swapTreeBits(n, d, depth);
}

uint64_t solveHeraCodebookSize(uint64_t n, uint64_t d, uint64_t m, unsigned cb,
                               unsigned depth, uint64_t budgetBits,
                               uint64_t maxK) {
  requireSubspacesDivide("hera", d, m);
  requireSwapDepth(d, depth);
  uint64_t minimum = heraBits(n, d, m, 1, cb, depth);
  if (minimum > budgetBits) {
    uint64_t swap = swapTreeBits(n, d, depth);
    std::string message =
        "hera: a budget of " + bitsText(budgetBits, n * d) +
        " is too small for a " + shapeText(n, d) + " matrix with M = " +
        std::to_string(m) + " and depth l = " + std::to_string(depth) +
        "; the smallest configuration (Ks = 1) needs " +
        bitsText(minimum, n * d);
    if (depth > 0)
      message += ", of which the swap bits take " + bitsText(swap, n * d) +
                 " (0.5 bpe per layer); use a smaller depth (l = 0 needs " +
                 bitsText(heraBits(n, d, m, 1, cb, 0), n * d) + ")";
    throw BudgetTooSmall(message);
  }
  BudgetProblem problem{"hera", n, d, m, budgetBits, maxK};
  return solveCodebookSize(problem, [&](uint64_t k) {
    return heraBits(n, d, m, k, cb, depth);
  });
}

std::vector<QetStageSpec> defaultQetStages() {
  return {{3, 0.7, 10}, {0, 0.3, 10}};
}

void validateQetStages(uint64_t d, const std::vector<QetStageSpec> &stages) {
  if (stages.empty())
    throw Error("qet: at least one stage is needed");
  double sum = 0.0;
  for (size_t s = 0; s < stages.size(); ++s) {
    const QetStageSpec &spec = stages[s];
    if (!(spec.rate > 0.0) || !std::isfinite(spec.rate))
      throw Error("qet: the budget share of stage " + std::to_string(s + 1) +
                  " must be positive, got " + std::to_string(spec.rate));
    if (spec.codebookBits > kMaxCodebookBits)
      throw Error("qet: codebook bits of stage " + std::to_string(s + 1) +
                  " must be in [0, " + std::to_string(kMaxCodebookBits) +
                  "] (0 = float codebook), got " +
                  std::to_string(spec.codebookBits));
    requireSwapDepth(d, spec.depth);
    sum += spec.rate;
  }
  // 1e-9 of slack so that decimal splits like 0.7,0.2,0.1 are accepted.
  if (sum > 1.0 + 1e-9)
    throw Error("qet: the budget split must sum to at most 1, got " +
                describeStages(stages));
}

uint64_t qetMinimumBudgetBits(uint64_t n, uint64_t d, uint64_t m, unsigned cb,
                              const std::vector<QetStageSpec> &stages) {
  validateQetStages(d, stages);
  // stagesFit is monotone in avail: find the smallest avail that fits.
  uint64_t hi = 1;
  while (!stagesFit(n, d, m, cb, stages, hi))
    hi *= 2;
  uint64_t lo = hi / 2 + 1; // hi / 2 did not fit (or hi == 1)
  if (hi == 1)
    lo = 1;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (stagesFit(n, d, m, cb, stages, mid))
      hi = mid;
    else
      lo = mid + 1;
  }
  return totalSwapBits(n, d, stages) + 8 * lo;
}

QetBudgetPlan solveQetBudget(uint64_t n, uint64_t d, uint64_t m, unsigned cb,
                             const std::vector<QetStageSpec> &stages,
                             uint64_t budgetBits, uint64_t maxK) {
  requireSubspacesDivide("qet", d, m);
  validateQetStages(d, stages);
  if (maxK == 0)
    throw Error("qet: no codebook size is possible for " + shapeText(n, d));
  QetBudgetPlan plan;
  plan.swapBits = totalSwapBits(n, d, stages);
  uint64_t avail =
      budgetBits > plan.swapBits ? (budgetBits - plan.swapBits) / 8 : 0;
  if (avail == 0 || !stagesFit(n, d, m, cb, stages, avail)) {
    uint64_t minimum = qetMinimumBudgetBits(n, d, m, cb, stages);
    std::string message =
        "qet: a budget of " + bitsText(budgetBits, n * d) +
        " is too small for a " + shapeText(n, d) + " matrix with M = " +
        std::to_string(m) + ", " + describeStages(stages) +
        "; this configuration needs at least " + bitsText(minimum, n * d);
    if (plan.swapBits > 0) {
      std::vector<QetStageSpec> flat = stages;
      for (QetStageSpec &s : flat)
        s.depth = 0;
      message += ", of which the swap bits take " +
                 bitsText(plan.swapBits, n * d) +
                 " (0.5 bpe per layer); use smaller depths (all 0 needs " +
                 bitsText(qetMinimumBudgetBits(n, d, m, cb, flat), n * d) +
                 ")";
    }
    throw BudgetTooSmall(message);
  }
  plan.availableBytes = avail;
  plan.totalBits = plan.swapBits;
  for (size_t s = 0; s < stages.size(); ++s) {
    const QetStageSpec &spec = stages[s];
    uint64_t bytes = stageBytes(avail, spec.rate);
    BudgetProblem problem{"qet stage " + std::to_string(s + 1), n, d, m,
                          8 * bytes, maxK};
    uint64_t ks = solveCodebookSize(problem, [&](uint64_t k) {
      return stageCodebookBits(n, d, m, k, cb, spec.codebookBits);
    });
    plan.stageBytes.push_back(bytes);
    plan.centroids.push_back(ks);
    plan.totalBits += stageCodebookBits(n, d, m, ks, cb, spec.codebookBits);
  }
  return plan;
}

} // namespace qet::quant
