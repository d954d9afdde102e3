//===- SwapTree.h - The HERA/QET swap tree ---------------------*- C++ -*-===//
//
// qet.md §1. One layer on a block of even width w: for every pair
// (a, c) = (v[2t], v[2t+1]) write S[t] = min, L[t] = max and bit[t] = (a < c)
// (strict: a tie stores 0), giving the block [S | L]. Depth l applies layer k
// (k = 1..l) to the 2^(k-1) blocks of width d / 2^(k-1) of every row; the
// inverse undoes the layers from l down to 1. Per row, the tree is a
// permutation fully determined by its l*d/2 bits.
//
// Bit layout (the stored stream, qet.md §1.4): row r, layer k (0-based here),
// pair j of that layer (the blocks' pairs in block order, j in [0, d/2)) is
// bit (r*l + k) * d/2 + j of one LSB-first stream, with no per-row padding.
//
// Two implementations with identical output:
// - the reference form (swapTreeRowReference, ...): per row, per block, per
//   pair, literally §1.1/§1.2, with the bits as one byte each;
// - the vectorized whole-matrix form (swapTree, unswapTree): per row and
//   layer, all pairs of the row at once with branch-free min/max selects
//   (AVX2 + compare masks packed with movemask where the CPU has it, a
//   portable branch-free loop otherwise), rows split across threads in
//   groups of 8 so every thread writes whole bytes of the bit stream
//   ("masking and batch processing", qet.md §4).
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_SWAPTREE_H
#define QET_QUANTIZER_SWAPTREE_H

#include "qet/Quantizer/Matrix.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qet::quant {

/// The packed swap bits of a whole matrix (layout above).
struct SwapBits {
  size_t rows = 0, cols = 0;
  unsigned depth = 0;
  /// packedBytes(count(), 1) bytes, LSB-first, zero padded.
  std::vector<uint8_t> bytes;

  /// l * n * d / 2: the bits charged to the ledger.
  uint64_t count() const {
    return static_cast<uint64_t>(rows) * depth * (cols / 2);
  }
  /// Index of the first bit of `row`'s layer `layer` (0-based).
  uint64_t offset(size_t row, unsigned layer) const {
    return (static_cast<uint64_t>(row) * depth + layer) * (cols / 2);
  }
  bool bit(size_t row, unsigned layer, size_t pair) const {
    uint64_t i = offset(row, layer) + pair;
    return (bytes[i >> 3] >> (i & 7)) & 1;
  }
};

/// Work space of the per-row kernels.
struct SwapScratch {
  std::vector<float> values;  // S and L halves of one row
  std::vector<uint8_t> masks; // one layer's bits, byte aligned
};

/// Throws Error unless `depth` <= 31 and d % 2^depth == 0 (no padding).
void requireSwapDepth(size_t cols, unsigned depth);

/// Empty SwapBits for a rows x cols matrix (all bits 0).
SwapBits makeSwapBits(size_t rows, size_t cols, unsigned depth);

// --- Reference form (one row, one byte per bit) ---------------------------

/// Applies the tree of `depth` to `row` (d values) in place; writes the
/// depth*d/2 bits (0/1), layer by layer, to `bits`.
void swapTreeRowReference(float *row, size_t d, unsigned depth,
                          uint8_t *bits);
/// Undoes swapTreeRowReference with the same bits.
void unswapTreeRowReference(float *row, size_t d, unsigned depth,
                            const uint8_t *bits);
/// Whole-matrix reference: every row through swapTreeRowReference, bits
/// packed into the stored layout.
SwapBits swapTreeReference(Matrix &x, unsigned depth);
void unswapTreeReference(Matrix &x, const SwapBits &bits);

// --- Vectorized whole-matrix form ------------------------------------------

/// Applies the tree of `depth` to every row of `x` in place and returns the
/// bits. Bit-identical to swapTreeReference; independent of `threads`.
SwapBits swapTree(Matrix &x, unsigned depth, unsigned threads = 0);
/// Undoes swapTree: each row gets its layers undone from the last to the
/// first. `x` must be bits.rows x bits.cols.
void unswapTree(Matrix &x, const SwapBits &bits, unsigned threads = 0);

// --- Permutations driven by stored bits (decoders) ------------------------

/// Applies row `row`'s stored layers to the d values of `v` in place, each
/// pair's choice taken from its bit instead of a comparison (bit 1: the
/// first value goes to the S half). For a row of the matrix the bits came
/// from this reproduces its swapped form; for any vector x it gives the
/// gather x~[p] = x[pi(p)] of the fused decoder (qet.md §5). `scratch` is
/// resized as needed (reuse one per thread to avoid allocations).
void applyRowSwaps(const SwapBits &bits, size_t row, float *v,
                   SwapScratch &scratch);
/// Undoes applyRowSwaps (the per-row inverse tree).
void undoRowSwaps(const SwapBits &bits, size_t row, float *v,
                  SwapScratch &scratch);
/// pi of row `row`: output position p of the swapped row holds the original
/// column pi[p] (X*[p] = X[pi[p]]).
std::vector<uint32_t> swapPermutation(const SwapBits &bits, size_t row);

namespace detail {
/// For tests: use the portable branch-free kernels even where the AVX2
/// ones are available (identical output). Returns the old setting.
bool setPortableSwapKernel(bool portable);
} // namespace detail

} // namespace qet::quant

#endif // QET_QUANTIZER_SWAPTREE_H
