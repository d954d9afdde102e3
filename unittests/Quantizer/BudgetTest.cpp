//===- BudgetTest.cpp - Bit costs, the Ks solver and bpe <= B -------------===//

#include "qet/Quantizer/Budget.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Ledger.h"
#include "qet/Quantizer/Lopq.h"
#include "qet/Quantizer/Opq.h"
#include "qet/Quantizer/ProductQuantizer.h"
#include "qet/Quantizer/Random.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

using namespace qet::quant;

namespace {

using qet::test::param;

constexpr uint64_t kN = 4096, kD = 128, kM = 4;

uint64_t solvePq(uint64_t budget) {
  return solveCodebookSize({"pq", kN, kD, kM, budget, kN}, [](uint64_t k) {
    return pqBits(kN, kD, kM, k, 32);
  });
}
uint64_t solveOpq(uint64_t budget) {
  return solveCodebookSize({"opq", kN, kD, kM, budget, kN}, [](uint64_t k) {
    return opqBits(kN, kD, kM, k, 32);
  });
}
uint64_t solveLopq(uint64_t budget) {
  return solveCodebookSize({"lopq", kN, kD, kM, budget, kN}, [](uint64_t k) {
    return lopqBoundBits(kN, kD, kM, k, 32, 2);
  });
}

Matrix gaussian(size_t rows, size_t cols, uint64_t seed) {
  return qet::test::gaussianMatrix(rows, cols, seed, 0.02f);
}

std::vector<uint64_t> splitCounts(const std::string &text) {
  std::vector<uint64_t> values;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ','))
    values.push_back(std::stoull(item));
  return values;
}

} // namespace

// qem.md §12: fp32 4096x128, M = 4, B = 4.
TEST(Budget, OracleKsAtFourBitsPerElement) {
  uint64_t budget = budgetBits(4.0, kN * kD);
  ASSERT_EQ(budget, 2097152u);
  EXPECT_EQ(solvePq(budget), 476u);
  EXPECT_EQ(pqBits(kN, kD, kM, 476, 32), 2097152u);
  EXPECT_EQ(pqBits(kN, kD, kM, 477, 32), 2101248u);
  EXPECT_EQ(solveOpq(budget), 348u);
  EXPECT_EQ(solveLopq(budget), 113u);
  EXPECT_EQ(lopqBoundBits(kN, kD, kM, 113, 32, 2), 2093056u);
  EXPECT_NEAR(lopqBoundBits(kN, kD, kM, 113, 32, 2) / double(kN * kD), 3.992,
              5e-4);
}

// qem.md §12: the smallest budgets; one bit less is BudgetTooSmall.
TEST(Budget, OracleMinimumBudgets) {
  EXPECT_EQ(pqBits(kN, kD, kM, 1, 32), 4096u);
  EXPECT_EQ(opqBits(kN, kD, kM, 1, 32), 528384u);
  EXPECT_EQ(lopqBoundBits(kN, kD, kM, 1, 32, 2), 1060864u);
  EXPECT_EQ(solvePq(4096), 1u);
  EXPECT_EQ(solveOpq(528384), 1u);
  EXPECT_EQ(solveLopq(1060864), 1u);
  EXPECT_THROW(solvePq(4095), BudgetTooSmall);
  EXPECT_THROW(solveOpq(528383), BudgetTooSmall);
  EXPECT_THROW(solveLopq(1060863), BudgetTooSmall);
}

// qem.md §12: at B = 2 the two rotations alone take 2 bpe.
TEST(Budget, LopqAtTwoBitsIsTooSmallWithACompleteMessage) {
  try {
    solveLopq(budgetBits(2.0, kN * kD));
    FAIL() << "expected BudgetTooSmall";
  } catch (const BudgetTooSmall &error) {
    std::string message = error.what();
    for (const char *part : {"lopq", "4096x128", "M = 4", "1060864",
                             "2.0234 bpe", "1048576 bits"})
      EXPECT_NE(message.find(part), std::string::npos)
          << "'" << part << "' missing from: " << message;
  }
  // The same through the scheme, with a real matrix.
  QuantizeOptions options;
  options.bpe = 2;
  options.subspaces = 4;
  EXPECT_THROW(quantizeLopq(gaussian(kN, kD, 1), options), BudgetTooSmall);
}

TEST(Budget, KmaxBindsOnSmallInputs) {
  // Plenty of bits: Ks stops at n, or at the user cap below n.
  auto cost = [](uint64_t k) { return pqBits(10, 8, 2, k, 32); };
  EXPECT_EQ(solveCodebookSize({"pq", 10, 8, 2, 1u << 30, 10}, cost), 10u);
  EXPECT_EQ(maxCodebookSize(10, 0), 10u);
  EXPECT_EQ(maxCodebookSize(10, 3), 3u);
  EXPECT_EQ(maxCodebookSize(10, 50), 10u);
  EXPECT_EQ(solveCodebookSize({"pq", 10, 8, 2, 1u << 30, 3}, cost), 3u);
}

TEST(Budget, BinarySearchMatchesALinearScan) {
  Rng rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    uint64_t n = 1 + rng.below(3000), m = 1u << rng.below(5),
             d = m * (1 + rng.below(16)), l = 1 + rng.below(4);
    unsigned cb = rng.below(2) ? 32 : 16;
    uint64_t budget = rng.below(pqBits(n, d, m, n, cb) + l * d * d * cb + 1);
    auto check = [&](const std::string &scheme,
                     const std::function<uint64_t(uint64_t)> &cost) {
      uint64_t expected = 0;
      for (uint64_t k = 1; k <= n && cost(k) <= budget; ++k)
        expected = k;
      if (expected == 0) {
        EXPECT_THROW(solveCodebookSize({scheme, n, d, m, budget, n}, cost),
                     BudgetTooSmall);
      } else {
        EXPECT_EQ(solveCodebookSize({scheme, n, d, m, budget, n}, cost),
                  expected)
            << scheme << " n=" << n << " d=" << d << " m=" << m;
      }
    };
    check("pq", [&](uint64_t k) { return pqBits(n, d, m, k, cb); });
    check("opq", [&](uint64_t k) { return opqBits(n, d, m, k, cb); });
    check("lopq",
          [&](uint64_t k) { return lopqBoundBits(n, d, m, k, cb, l); });
  }
}

TEST(Budget, AutoSubspaceCandidates) {
  using V = std::vector<size_t>;
  EXPECT_EQ(autoSubspaceCandidates(128), (V{4, 8, 16, 32, 64}));
  EXPECT_EQ(autoSubspaceCandidates(384), (V{4, 8, 16, 32, 64, 128}));
  EXPECT_EQ(autoSubspaceCandidates(1536), (V{4, 8, 16, 32, 64, 128, 256, 512}));
  EXPECT_EQ(autoSubspaceCandidates(12), (V{4}));
  EXPECT_EQ(autoSubspaceCandidates(8), (V{4}));
  EXPECT_EQ(autoSubspaceCandidates(10), (V{1, 2, 5}));
  EXPECT_EQ(autoSubspaceCandidates(6), (V{1, 2, 3}));
  EXPECT_EQ(autoSubspaceCandidates(4), (V{1, 2}));
  EXPECT_EQ(autoSubspaceCandidates(3), (V{1}));
  EXPECT_EQ(autoSubspaceCandidates(1), (V{1}));
  EXPECT_THROW(requireSubspacesDivide("pq", 12, 5), Error);
  EXPECT_THROW(requireSubspacesDivide("pq", 12, 0), Error);
  EXPECT_NO_THROW(requireSubspacesDivide("pq", 12, 6));
}

// Every scheme stays within every feasible budget, on awkward shapes too
// (n prime, n below Ks so Kmax = n binds), and its ledger formula equals the
// bits it serialized.
TEST(Budget, EverySchemeStaysWithinBudget) {
  struct Shape {
    size_t n, d, m;
  };
  for (Shape shape : {Shape{37, 16, 4}, Shape{101, 24, 6}, Shape{9, 8, 2},
                      Shape{130, 12, 3}}) {
    Matrix x = gaussian(shape.n, shape.d, shape.n);
    for (double bpe : {0.5, 1.0, 2.25, 3.0, 4.25, 8.0, 40.0, 200.0}) {
      QuantizeOptions options;
      options.bpe = bpe;
      options.subspaces = shape.m;
      options.opqRounds = 3;
      options.iterations = 8;
      uint64_t budget = budgetBits(bpe, shape.n * shape.d);
      for (const std::string scheme : {"pq", "opq", "lopq"}) {
        SCOPED_TRACE(scheme + " " + std::to_string(shape.n) + "x" +
                     std::to_string(shape.d) + " B=" + std::to_string(bpe));
        QuantizeResult result;
        try {
          result = scheme == "pq"    ? quantizePq(x, options)
                   : scheme == "opq" ? quantizeOpq(x, options)
                                     : quantizeLopq(x, options);
        } catch (const BudgetTooSmall &) {
          uint64_t minimum =
              scheme == "pq"    ? pqBits(shape.n, shape.d, shape.m, 1, 32)
              : scheme == "opq" ? opqBits(shape.n, shape.d, shape.m, 1, 32)
                                : lopqBoundBits(shape.n, shape.d, shape.m, 1,
                                                32, 2);
          EXPECT_GT(minimum, budget);
          continue;
        }
        EXPECT_LE(result.packed.bitsPerElement(), bpe);
        EXPECT_LE(result.packed.payloadBits(), budget);
        uint64_t ks = std::stoull(param(result, "Ks"));
        EXPECT_LE(ks, shape.n);
        uint64_t formula;
        if (scheme == "pq")
          formula = pqBits(shape.n, shape.d, shape.m, ks, 32);
        else if (scheme == "opq")
          formula = opqBits(shape.n, shape.d, shape.m, ks, 32);
        else
          formula = lopqBits(shape.d, shape.m, 32, 2,
                             splitCounts(param(result, "cluster rows")),
                             splitCounts(param(result, "cluster Ks")));
        EXPECT_EQ(result.packed.payloadBits(), formula);
        uint64_t serialized = 0;
        for (const PackedStream &s : result.packed.streams) {
          EXPECT_EQ(s.bytes.size(), (s.bits() + 7) / 8) << s.component;
          serialized += 8 * s.bytes.size() - (8 * s.bytes.size() - s.bits());
        }
        EXPECT_EQ(serialized, formula);
        EXPECT_EQ(result.reconstruction.rows, shape.n);
        EXPECT_EQ(result.reconstruction.cols, shape.d);
      }
    }
  }
}
