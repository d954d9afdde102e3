//===- ProductQuantizer.h - Product quantization (PQ) ----------*- C++ -*-===//
//
// qem.md §7: the d columns are cut into M contiguous subspaces of Ds = d/M
// columns; each subspace gets its own k-means codebook of Ks codewords
// (rounded to the input dtype) and every row stores one code per subspace.
// Stored streams: "codebooks" (M*Ks*Ds floats at cb bits, subspace-major)
// and "codes" (n*M at ceil(log2 Ks) bits, row-major). M and Ks are not
// stored: they follow from the stream counts and the shape.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_PRODUCTQUANTIZER_H
#define QET_QUANTIZER_PRODUCTQUANTIZER_H

#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/PackedMatrix.h"
#include "qet/Quantizer/Random.h"
#include "qet/Quantizer/Scheme.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qet::quant {

struct PqConfig {
  size_t subspaces = 0;  // M, divides d
  size_t centroids = 0;  // Ks, 1 <= Ks <= n
  unsigned iterations = 20;
  uint64_t seed = kDefaultSeed;
  unsigned threads = 0;
};

/// A trained product quantizer together with the codes of its training rows.
struct PqModel {
  size_t rows = 0, cols = 0;
  size_t subspaces = 0;  // M
  size_t centroids = 0;  // Ks
  DType storage = DType::F32;
  /// M x Ks x Ds, values representable in `storage`.
  std::vector<float> codebooks;
  /// rows x M.
  std::vector<uint32_t> codes;

  size_t subDim() const { return subspaces ? cols / subspaces : 0; }
  const float *codeword(size_t m, size_t k) const {
    return codebooks.data() + (m * centroids + k) * subDim();
  }
};

/// Trains PQ on `x` (k-means per subspace from one shared "points" draw),
/// rounds the codebooks to x.storage and encodes x with them.
PqModel trainPq(const Matrix &x, const PqConfig &config);
/// Codes (rows x M) of `x` under the model's codebooks.
std::vector<uint32_t> encodePq(const PqModel &model, const Matrix &x,
                               unsigned threads = 0);
/// Row i = concatenation over m of codeword codes[i, m] of subspace m.
Matrix decodePq(const PqModel &model);

/// Appends the streams `prefix`"codebooks" and `prefix`"codes".
void packPq(const PqModel &model, PackedMatrix &packed,
            const std::string &prefix = "");
/// Reads a PQ of `rows` x `cols` back from those streams.
PqModel unpackPq(const PackedMatrix &packed, uint64_t rows, uint64_t cols,
                 const std::string &prefix = "");
/// Decodes a packed "pq" matrix from its streams alone.
Matrix decodePq(const PackedMatrix &packed);

/// The `pq` scheme: Ks from the budget solver (qem.md §4), M given or
/// searched. Params: M, Ks, iterations, seed.
QuantizeResult quantizePq(const Matrix &input, const QuantizeOptions &options);

} // namespace qet::quant

#endif // QET_QUANTIZER_PRODUCTQUANTIZER_H
