//===- QetBudgetTest.cpp - HERA/QET ledger and budget-solver oracles ------===//

#include "qet/Quantizer/Qet.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Ledger.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

using namespace qet::quant;

namespace {

uint64_t budgetFor(double bpe, uint64_t n, uint64_t d) {
  return budgetBits(bpe, n * d);
}

uint64_t hera(uint64_t n, uint64_t d, double bpe, uint64_t m, unsigned depth,
              unsigned cb = 32) {
  return solveHeraCodebookSize(n, d, m, cb, depth, budgetFor(bpe, n, d), n);
}

QetBudgetPlan qetPlan(uint64_t n, uint64_t d, double bpe, uint64_t m,
                  unsigned cb = 32) {
  return solveQetBudget(n, d, m, cb, defaultQetStages(), budgetFor(bpe, n, d),
                        n);
}

std::string errorText(const std::function<void()> &call) {
  try {
    call();
  } catch (const BudgetTooSmall &e) {
    return e.what();
  }
  return "";
}

} // namespace

// qet.md §7, HERA (l = 1, l = 3) and QET columns, fp32 (cb = 32).
TEST(QetBudget, OracleTableFp32) {
  struct Row {
    uint64_t n, d;
    double bpe;
    uint64_t m, hera1, hera3, qet1, qet2, avail;
  };
  const Row rows[] = {
      {4096, 128, 4, 4, 412, 284, 588, 204, 163840},
      {4096, 128, 4, 8, 376, 256, 486, 127, 163840},
      {4096, 128, 4, 16, 304, 192, 256, 32, 163840},
      {4096, 128, 2, 4, 160, 40, 64, 10, 32768},
      {4096, 128, 2, 8, 128, 24, 16, 4, 32768},
      {4096, 128, 8, 4, 920, 792, 1722, 670, 425984},
      {10000, 128, 4, 4, 996, 683, 1406, 468, 400000},
      {10000, 128, 2, 16, 156, 8, 4, 2, 80000},
      {10000, 128, 8, 8, 2109, 1816, 3799, 1262, 1040000},
  };
  for (const Row &r : rows) {
    SCOPED_TRACE(std::to_string(r.n) + "x" + std::to_string(r.d) + " B=" +
                 std::to_string(r.bpe) + " M=" + std::to_string(r.m));
    EXPECT_EQ(hera(r.n, r.d, r.bpe, r.m, 1), r.hera1);
    EXPECT_EQ(hera(r.n, r.d, r.bpe, r.m, 3), r.hera3);
    QetBudgetPlan plan = qetPlan(r.n, r.d, r.bpe, r.m);
    ASSERT_EQ(plan.centroids.size(), 2u);
    EXPECT_EQ(plan.centroids[0], r.qet1);
    EXPECT_EQ(plan.centroids[1], r.qet2);
    EXPECT_EQ(plan.availableBytes, r.avail);
    EXPECT_LE(plan.totalBits, budgetFor(r.bpe, r.n, r.d));
  }
}

// qet.md §7, fp16 input (cb = 16), 4096 x 128, M = 4.
TEST(QetBudget, OracleTableFp16) {
  EXPECT_EQ(hera(4096, 128, 4, 4, 1, 16), 816u);
  EXPECT_EQ(hera(4096, 128, 4, 4, 3, 16), 560u);
  EXPECT_EQ(hera(4096, 128, 2, 4, 1, 16), 312u);
  EXPECT_EQ(hera(4096, 128, 2, 4, 3, 16), 72u);
  QetBudgetPlan four = qetPlan(4096, 128, 4, 4, 16);
  EXPECT_EQ(four.centroids, (std::vector<uint64_t>{588, 204}));
  QetBudgetPlan two = qetPlan(4096, 128, 2, 4, 16);
  EXPECT_EQ(two.centroids, (std::vector<uint64_t>{64, 10}));
}

// qet.md §7: the bits of the default QET at 4096 x 128, B = 4, M = 4.
TEST(QetBudget, StageBitsOracle) {
  EXPECT_EQ(qetStageBits(4096, 128, 4, 588, 32, 10, 0), 916544u);
  EXPECT_EQ(qetStageBits(4096, 128, 4, 204, 32, 10, 0), 392256u);
  EXPECT_EQ(swapTreeBits(4096, 128, 3), 786432u);
  QetBudgetPlan plan = qetPlan(4096, 128, 4, 4);
  EXPECT_EQ(plan.swapBits, 786432u);
  EXPECT_EQ(plan.stageBytes, (std::vector<uint64_t>{114688, 49152}));
  EXPECT_EQ(plan.totalBits, 916544u + 392256u + 786432u);
  EXPECT_EQ(formatBpe(plan.totalBits / (4096.0 * 128)), "3.9963");
  // b = 0: a float codebook at cb bits and no (lo, step).
  EXPECT_EQ(qetStageBits(4096, 128, 4, 476, 32, 0, 0), 2097152u);
  EXPECT_EQ(heraBits(4096, 128, 4, 412, 32, 1), 2097152u);
}

// qet.md §7 minimum budgets, and BudgetTooSmall just below them.
TEST(QetBudget, MinimumBudgets) {
  const uint64_t n = 4096, d = 128;
  EXPECT_EQ(heraBits(n, d, 4, 1, 32, 3), 790528u);
  EXPECT_EQ(solveHeraCodebookSize(n, d, 4, 32, 3, 790528, n), 1u);
  EXPECT_THROW(solveHeraCodebookSize(n, d, 4, 32, 3, 790527, n),
               BudgetTooSmall);

  EXPECT_EQ(qetMinimumBudgetBits(n, d, 4, 32, defaultQetStages()), 790912u);
  QetBudgetPlan plan =
      solveQetBudget(n, d, 4, 32, defaultQetStages(), 790912, n);
  EXPECT_EQ(plan.availableBytes, 560u);
  EXPECT_EQ(plan.centroids, (std::vector<uint64_t>{1, 1}));
  EXPECT_THROW(solveQetBudget(n, d, 4, 32, defaultQetStages(), 790911, n),
               BudgetTooSmall);
}

// The reference computes Ks = 0 (then crashes in k-means) when the swap bits
// exceed the budget; here the error names the minimum and a way out.
TEST(QetBudget, SwapBitsOverBudgetIsAClearError) {
  const uint64_t n = 4096, d = 128;
  std::string message = errorText([&] {
    solveQetBudget(n, d, 4, 32, defaultQetStages(), budgetFor(1.4, n, d), n);
  });
  EXPECT_NE(message.find("790912 bits (1.5085 bpe)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("smaller depths"), std::string::npos) << message;
  EXPECT_NE(message.find("4096x128"), std::string::npos) << message;

  message = errorText([&] {
    solveHeraCodebookSize(n, d, 4, 32, 3, budgetFor(1.4, n, d), n);
  });
  EXPECT_NE(message.find("790528 bits (1.5078 bpe)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("smaller depth"), std::string::npos) << message;
}

TEST(QetBudget, SolverStaysWithinBudgetAndIsMaximal) {
  const uint64_t n = 300, d = 48;
  const std::vector<std::vector<QetStageSpec>> configs = {
      defaultQetStages(),
      {{1, 0.6, 8}, {1, 0.4, 0}},
      {{2, 0.5, 6}, {0, 0.3, 10}, {0, 0.2, 4}},
      {{0, 1.0, 0}},
  };
  for (const auto &stages : configs) {
    uint64_t minimum = qetMinimumBudgetBits(n, d, 4, 32, stages);
    EXPECT_THROW(solveQetBudget(n, d, 4, 32, stages, minimum - 1, n),
                 BudgetTooSmall);
    for (uint64_t budget = minimum; budget < 12 * n * d; budget += 997) {
      QetBudgetPlan plan = solveQetBudget(n, d, 4, 32, stages, budget, n);
      ASSERT_LE(plan.totalBits, budget);
      uint64_t stageSum = plan.swapBits;
      for (size_t s = 0; s < stages.size(); ++s) {
        uint64_t ks = plan.centroids[s];
        uint64_t bits = qetStageBits(n, d, 4, ks, 32, stages[s].codebookBits, 0);
        stageSum += bits;
        EXPECT_LE(bits, 8 * plan.stageBytes[s]);
        if (ks < n) // Ks + 1 would not fit the stage's bytes
          EXPECT_GT(qetStageBits(n, d, 4, ks + 1, 32, stages[s].codebookBits, 0),
                    8 * plan.stageBytes[s]);
      }
      EXPECT_EQ(stageSum, plan.totalBits);
    }
  }
}

TEST(QetBudget, RejectsBadStageSpecs) {
  EXPECT_THROW(validateQetStages(128, {}), Error);
  EXPECT_THROW(validateQetStages(128, {{3, 0.7, 10}, {0, 0.4, 10}}), Error);
  EXPECT_THROW(validateQetStages(128, {{3, 0.0, 10}}), Error);
  EXPECT_THROW(validateQetStages(128, {{3, -0.5, 10}}), Error);
  EXPECT_THROW(validateQetStages(128, {{3, 1.0, 25}}), Error);
  EXPECT_THROW(validateQetStages(12, {{3, 1.0, 10}}), Error);
  EXPECT_NO_THROW(validateQetStages(128, {{3, 0.7, 10}, {0, 0.2, 10}, {0, 0.1, 0}}));
  EXPECT_THROW(solveQetBudget(4096, 128, 3, 32, defaultQetStages(), 1 << 22, 4096),
               Error); // M must divide d
}
