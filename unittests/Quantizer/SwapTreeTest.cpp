//===- SwapTreeTest.cpp - Swap tree oracles and invariants ----------------===//

#include "qet/Quantizer/SwapTree.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

using namespace qet::quant;

namespace {

Matrix randomMatrix(size_t rows, size_t cols, uint64_t seed) {
  Rng rng(seed);
  Matrix m(rows, cols);
  for (float &v : m.values)
    v = static_cast<float>(rng.normal());
  return m;
}

/// Small integers (many ties) with both signed zeros.
Matrix tieMatrix(size_t rows, size_t cols, uint64_t seed) {
  Rng rng(seed);
  Matrix m(rows, cols);
  for (float &v : m.values) {
    uint64_t draw = rng.below(5);
    v = draw == 4 ? -0.0f : static_cast<float>(draw);
  }
  return m;
}

bool bitwiseEqual(const Matrix &a, const Matrix &b) {
  return a.rows == b.rows && a.cols == b.cols &&
         std::memcmp(a.values.data(), b.values.data(),
                     a.values.size() * sizeof(float)) == 0;
}

/// qet.md §1.2's recursive definition: T(X, 1) = [S | L],
/// T(X, k) = [T(S, k-1) | T(L, k-1)]; the layer-k bit map is the S branch's
/// map followed by the L branch's.
void recursiveTree(std::vector<float> &v, unsigned depth,
                   std::vector<std::vector<uint8_t>> &layers, unsigned layer) {
  if (depth == 0)
    return;
  size_t half = v.size() / 2;
  std::vector<float> s(half), l(half);
  for (size_t t = 0; t < half; ++t) {
    float a = v[2 * t], c = v[2 * t + 1];
    bool bit = a < c;
    s[t] = bit ? a : c;
    l[t] = bit ? c : a;
    layers[layer].push_back(bit);
  }
  recursiveTree(s, depth - 1, layers, layer + 1);
  recursiveTree(l, depth - 1, layers, layer + 1);
  std::copy(s.begin(), s.end(), v.begin());
  std::copy(l.begin(), l.end(), v.begin() + half);
}

struct Shape {
  size_t rows, cols;
  unsigned depth;
};

/// Shapes with full SIMD vectors, tails, partial row groups and tiny rows.
const Shape kShapes[] = {{1, 2, 1},   {3, 4, 2},   {9, 8, 3},   {17, 12, 2},
                         {8, 16, 4},  {13, 40, 3}, {37, 64, 5}, {20, 96, 5},
                         {64, 128, 3}, {5, 6, 1},  {33, 48, 4}, {16, 32, 0}};

} // namespace

// qet.md §1.3 worked example (l = 3, d = 16).
TEST(SwapTree, WorkedExample) {
  const std::vector<float> input = {49, 97, 53, 5,  33, 65, 62, 51,
                                    38, 61, 45, 74, 27, 64, 17, 36};
  std::vector<float> row = input;
  std::vector<uint8_t> bits(3 * 8);
  swapTreeRowReference(row.data(), 16, 3, bits.data());
  EXPECT_EQ(row, (std::vector<float>{5, 17, 33, 38, 49, 27, 51, 45, 53, 36, 62,
                                     61, 65, 64, 97, 74}));
  EXPECT_EQ(bits, (std::vector<uint8_t>{1, 0, 1, 0, 1, 1, 1, 1,   //
                                        0, 1, 1, 0, 0, 0, 1, 0,   //
                                        1, 0, 1, 0, 1, 0, 0, 0}));
  // Layers 1 and 2 alone give the intermediate rows of the example.
  std::vector<float> one = input;
  std::vector<uint8_t> unused(8);
  swapTreeRowReference(one.data(), 16, 1, unused.data());
  EXPECT_EQ(one, (std::vector<float>{49, 5, 33, 51, 38, 45, 27, 17, 97, 53, 65,
                                     62, 61, 74, 64, 36}));

  Matrix m(1, 16);
  m.values = input;
  SwapBits stored = swapTree(m, 3, 1);
  EXPECT_EQ(m.values, row);
  ASSERT_EQ(stored.count(), 24u);
  for (unsigned k = 0; k < 3; ++k)
    for (size_t j = 0; j < 8; ++j)
      EXPECT_EQ(stored.bit(0, k, j), bits[k * 8 + j] != 0) << k << "," << j;
  EXPECT_EQ(swapPermutation(stored, 0),
            (std::vector<uint32_t>{3, 14, 4, 8, 0, 12, 7, 10, 2, 15, 6, 9, 5,
                                   13, 1, 11}));
  unswapTree(m, stored, 1);
  EXPECT_EQ(m.values, input);
}

// qet.md §1.3 tie rows: a tie stores 0 and still inverts.
TEST(SwapTree, TieExamples) {
  for (unsigned depth : {1u, 2u}) {
    Matrix m(1, 4);
    m.values = {3, 3, 1, 2};
    SwapBits bits = swapTree(m, depth, 1);
    if (depth == 1) {
      EXPECT_EQ(m.values, (std::vector<float>{3, 1, 3, 2}));
      EXPECT_FALSE(bits.bit(0, 0, 0));
      EXPECT_TRUE(bits.bit(0, 0, 1));
    } else {
      EXPECT_EQ(m.values, (std::vector<float>{1, 3, 2, 3}));
      EXPECT_FALSE(bits.bit(0, 1, 0));
      EXPECT_FALSE(bits.bit(0, 1, 1));
    }
    unswapTree(m, bits, 1);
    EXPECT_EQ(m.values, (std::vector<float>{3, 3, 1, 2}));
  }
}

TEST(SwapTree, IterativeEqualsRecursiveDefinition) {
  for (unsigned depth = 1; depth <= 5; ++depth) {
    Matrix m = tieMatrix(6, 64, depth);
    m.values[0] = 0.0f;
    m.values[1] = -0.0f;
    for (size_t r = 0; r < m.rows; ++r) {
      std::vector<float> v(m.row(r), m.row(r) + m.cols);
      std::vector<std::vector<uint8_t>> layers(depth);
      recursiveTree(v, depth, layers, 0);
      std::vector<float> row(m.row(r), m.row(r) + m.cols);
      std::vector<uint8_t> bits(depth * m.cols / 2);
      swapTreeRowReference(row.data(), m.cols, depth, bits.data());
      EXPECT_EQ(std::memcmp(row.data(), v.data(), v.size() * sizeof(float)), 0);
      std::vector<uint8_t> flat;
      for (const auto &layer : layers)
        flat.insert(flat.end(), layer.begin(), layer.end());
      EXPECT_EQ(bits, flat) << "depth " << depth << " row " << r;
    }
  }
}

TEST(SwapTree, RoundTripIsExactAtEveryDepth) {
  for (unsigned depth = 0; depth <= 5; ++depth) {
    for (size_t cols : {size_t{1} << std::max(depth, 1u), size_t{3} << depth,
                        size_t{128}}) {
      for (int kind = 0; kind < 2; ++kind) {
        Matrix original = kind ? tieMatrix(19, cols, depth + 7)
                               : randomMatrix(19, cols, depth + 11);
        Matrix fast = original, plain = original;
        SwapBits fastBits = swapTree(fast, depth, 2);
        SwapBits plainBits = swapTreeReference(plain, depth);
        unswapTree(fast, fastBits, 2);
        unswapTreeReference(plain, plainBits);
        EXPECT_TRUE(bitwiseEqual(fast, original))
            << "depth " << depth << " cols " << cols << " kind " << kind;
        EXPECT_TRUE(bitwiseEqual(plain, original))
            << "depth " << depth << " cols " << cols << " kind " << kind;
      }
    }
  }
}

TEST(SwapTree, VectorizedEqualsReference) {
  for (bool portable : {false, true}) {
    bool old = detail::setPortableSwapKernel(portable);
    for (const Shape &shape : kShapes) {
      for (int kind = 0; kind < 2; ++kind) {
        Matrix original = kind ? tieMatrix(shape.rows, shape.cols, 3)
                               : randomMatrix(shape.rows, shape.cols, 5);
        Matrix plain = original;
        SwapBits plainBits = swapTreeReference(plain, shape.depth);
        for (unsigned threads : {1u, 2u, 3u}) {
          Matrix fast = original;
          SwapBits fastBits = swapTree(fast, shape.depth, threads);
          EXPECT_TRUE(bitwiseEqual(fast, plain))
              << shape.rows << "x" << shape.cols << " l=" << shape.depth
              << " portable=" << portable << " threads=" << threads;
          EXPECT_EQ(fastBits.bytes, plainBits.bytes)
              << shape.rows << "x" << shape.cols << " l=" << shape.depth;
          unswapTree(fast, fastBits, threads);
          Matrix back = plain;
          unswapTreeReference(back, plainBits);
          EXPECT_TRUE(bitwiseEqual(fast, back));
          EXPECT_TRUE(bitwiseEqual(fast, original));
        }
      }
    }
    detail::setPortableSwapKernel(old);
  }
}

TEST(SwapTree, FirstBlockHoldsGroupMinimaLastBlockMaxima) {
  for (unsigned depth = 1; depth <= 5; ++depth) {
    for (int kind = 0; kind < 2; ++kind) {
      const size_t cols = 96;
      Matrix original = kind ? tieMatrix(11, cols, depth) : randomMatrix(11, cols, depth);
      Matrix swapped = original;
      swapTree(swapped, depth, 1);
      const size_t group = size_t{1} << depth, width = cols / group;
      for (size_t r = 0; r < original.rows; ++r)
        for (size_t t = 0; t < width; ++t) {
          const float *g = original.row(r) + t * group;
          EXPECT_EQ(swapped.at(r, t), *std::min_element(g, g + group));
          EXPECT_EQ(swapped.at(r, (group - 1) * width + t),
                    *std::max_element(g, g + group));
        }
    }
  }
}

TEST(SwapTree, IndicatorBitCount) {
  for (const Shape &shape : kShapes) {
    Matrix m = randomMatrix(shape.rows, shape.cols, 1);
    SwapBits bits = swapTree(m, shape.depth, 2);
    uint64_t expected = uint64_t{shape.depth} * shape.rows * shape.cols / 2;
    EXPECT_EQ(bits.count(), expected);
    EXPECT_EQ(bits.bytes.size(), packedBytes(expected, 1));
    // Nothing beyond the last bit is set (stream padding stays zero).
    if (expected % 8)
      EXPECT_EQ(bits.bytes.back() >> (expected % 8), 0);
  }
}

TEST(SwapTree, PermutationAndGatherFromStoredBits) {
  for (const Shape &shape : kShapes) {
    Matrix original = randomMatrix(shape.rows, shape.cols, 21);
    Matrix swapped = original;
    SwapBits bits = swapTree(swapped, shape.depth, 1);
    Matrix x = randomMatrix(1, shape.cols, 22);
    SwapScratch scratch;
    for (size_t r = 0; r < shape.rows; ++r) {
      std::vector<uint32_t> pi = swapPermutation(bits, r);
      std::vector<float> replay(original.row(r), original.row(r) + shape.cols);
      applyRowSwaps(bits, r, replay.data(), scratch);
      std::vector<float> gathered = x.values;
      applyRowSwaps(bits, r, gathered.data(), scratch);
      for (size_t p = 0; p < shape.cols; ++p) {
        EXPECT_EQ(swapped.at(r, p), original.at(r, pi[p]));
        EXPECT_EQ(replay[p], swapped.at(r, p));
        EXPECT_EQ(gathered[p], x.values[pi[p]]);
      }
      undoRowSwaps(bits, r, gathered.data(), scratch);
      EXPECT_EQ(gathered, x.values);
    }
  }
}

TEST(SwapTree, DepthMustDivideRowLength) {
  Matrix m = randomMatrix(2, 12, 1);
  EXPECT_NO_THROW(swapTree(m, 2));
  EXPECT_THROW(swapTree(m, 3), Error);
  EXPECT_THROW(swapTree(m, 40), Error);
  try {
    swapTree(m, 3);
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("divisible by 2^l = 8"),
              std::string::npos)
        << e.what();
  }
  Matrix other = randomMatrix(3, 12, 1);
  SwapBits bits = swapTree(m, 1);
  EXPECT_THROW(unswapTree(other, bits), Error);
}
