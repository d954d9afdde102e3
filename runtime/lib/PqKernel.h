//===- PqKernel.h - Product-quantized parts read in place -------*- C++ -*-===//
//
// pq, opq, lopq and every hera/qet stage store W (or a part of its rows, or
// an additive stage) as M subspace codebooks of Ks codewords of Ds = d / M
// floats plus one code per row and subspace (lib/Quantizer:
// ProductQuantizer.cpp, Opq.cpp, Lopq.cpp, Qet.cpp). The product takes the
// table path of qet.md §5: T_b[s][k] = <C_s[k], x_b> once per x, then y_i =
// sum_s T_b[s][code(i, s)]; opq first rotates x' = R^T x.
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_LIB_PQKERNEL_H
#define QET_RUNTIME_LIB_PQKERNEL_H

#include "Dot.h"
#include "SectionReader.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace qet::runtime {

/// M x Ks x Ds codewords, subspace-major: stored floats, or (a qet stage
/// with codebook bits b > 0) b-bit levels with value = level * step + lo.
struct CodebookView {
  size_t subspaces = 0, centroids = 0, subDim = 0;
  FloatSection floats;
  const uint8_t *levels = nullptr; // set for levels
  uint64_t levelBytes = 0;
  unsigned levelBits = 0;
  float lo = 0.0f, step = 0.0f;

  /// Codeword (s, k) in fp32, bit for bit as the quantizer decodes it.
  void codeword(size_t s, size_t k, float *out) const;
  /// Every codeword, M x Ks x Ds fp32 (a per-call scratch table).
  std::vector<float> expand() const;
};

/// dst[0, n) = src[0, n). Sub-vectors are short: fixed sizes compile to a
/// few moves instead of a memcpy call per codeword.
inline void copyFloats(float *dst, const float *src, size_t n) {
  switch (n) {
  case 2:
    std::memcpy(dst, src, 2 * sizeof(float));
    return;
  case 4:
    std::memcpy(dst, src, 4 * sizeof(float));
    return;
  case 8:
    std::memcpy(dst, src, 8 * sizeof(float));
    return;
  case 16:
    std::memcpy(dst, src, 16 * sizeof(float));
    return;
  default:
    for (size_t i = 0; i < n; ++i)
      dst[i] = src[i];
  }
}

/// rows x M codes of `width` bits, row-major.
struct CodesView {
  const uint8_t *bytes = nullptr;
  uint64_t size = 0;
  unsigned width = 0;
};

struct PqPart {
  size_t rows = 0; // rows this part codes
  CodebookView codebook;
  CodesView codes;
  bool rotated = false;
  FloatSection rotation; // d x d row-major, Y = X R
  /// Output row of each part row; empty = the identity.
  std::vector<uint32_t> rowIndex;

  size_t outputRow(size_t i) const {
    return rowIndex.empty() ? i : rowIndex[i];
  }
};

/// Reads `prefix`"codebooks" and `prefix`"codes" of a part of `rows` rows
/// as unpackPq does (M and Ks follow from the counts) and checks every code
/// against Ks.
PqPart bindPqPart(const TensorReader &reader, const std::string &prefix,
                  size_t rows);
/// Codes of `count` fields must all be below `centroids`.
void checkCodes(const TensorReader &reader, const std::string &section,
                const CodesView &codes, uint64_t count, size_t centroids);

/// out[part.rows x cols] = the concatenated codewords of each part row (no
/// rotation, no row index).
void decodePqRows(const PqPart &part, size_t cols, float *out);

/// Y[b, outputRow(i)] += the part's row i times X[b] for every part row,
/// Y being batch x outRows.
void addTableProducts(const PqPart &part, size_t cols, const float *x,
                      size_t batch, size_t outRows, float *y, unsigned threads);

} // namespace qet::runtime

#endif // QET_RUNTIME_LIB_PQKERNEL_H
