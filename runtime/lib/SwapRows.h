//===- SwapRows.h - Undo one row's swap tree from stored bits ---*- C++ -*-===//
//
// The hera/qet swap tree (qet.md §1, include/qet/Quantizer/SwapTree.h):
// row r, layer k, pair j is bit (r * l + k) * d/2 + j of an LSB-first
// stream. Undoing a row is a permutation, so the result is exact, and the
// AVX2 path (8 pairs per step: a mask from 8 bits, two blends, an
// interleave) gives the same bits as the portable one.
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_LIB_SWAPROWS_H
#define QET_RUNTIME_LIB_SWAPROWS_H

#include "qet/runtime/KernelConfig.h"

#include <cstddef>
#include <cstdint>

namespace qet::runtime {

/// The swap bits of a stage: `size` bytes, `depth` layers per row.
struct SwapView {
  const uint8_t *bits = nullptr;
  uint64_t size = 0;
  unsigned depth = 0;
};

/// Undoes layers depth-1 .. 0 of row `row` on v[0, d) in place, as
/// unswapTree does; `scratch` holds d floats.
void undoRowSwaps(const SwapView &swaps, uint64_t row, size_t d, float *v,
                  float *scratch, KernelPath path);

/// Bits [offset, offset + 8) of an LSB-first stream of `size` bytes (bits
/// past the end read as 0).
inline unsigned readBits8(const uint8_t *bytes, uint64_t size,
                          uint64_t offset) {
  const uint64_t byte = offset >> 3;
  unsigned word = bytes[byte];
  if (byte + 1 < size)
    word |= unsigned(bytes[byte + 1]) << 8;
  return (word >> (offset & 7)) & 0xffu;
}

namespace detail {
/// dst[2t], dst[2t + 1] = bit t ? (s[t], l[t]) : (l[t], s[t]) for t <
/// count, bit t being stream bit firstBit + t.
void unpairPortable(const float *s, const float *l, size_t count,
                    const SwapView &swaps, uint64_t firstBit, float *dst);
void unpairAvx2(const float *s, const float *l, size_t count,
                const SwapView &swaps, uint64_t firstBit, float *dst);
} // namespace detail

} // namespace qet::runtime

#endif // QET_RUNTIME_LIB_SWAPROWS_H
