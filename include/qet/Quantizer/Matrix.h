//===- Matrix.h - Dense row-major fp32 matrices ----------------*- C++ -*-===//
//
// Every quantizer works on an n x d row-major fp32 matrix. `storage` records
// the dtype the values came from (fp16/bf16 inputs are widened exactly), which
// fixes the width `cb` of float codebooks and rotations in the bit ledger.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_MATRIX_H
#define QET_QUANTIZER_MATRIX_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qet::quant {

/// Floating-point element types a matrix can be stored in.
enum class DType { F32, F16, BF16 };

/// Bit width of one element of `type` (the ledger's `cb`).
unsigned bitWidth(DType type);
/// Lower-case name: "f32", "f16", "bf16".
const char *dtypeName(DType type);
/// Rounds `value` to the nearest value representable in `type` (ties to even).
float roundTo(DType type, float value);

struct Matrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<float> values; // rows * cols, row-major
  DType storage = DType::F32;

  Matrix() = default;
  Matrix(size_t rows, size_t cols, DType storage = DType::F32)
      : rows(rows), cols(cols), values(rows * cols, 0.0f), storage(storage) {}

  size_t size() const { return rows * cols; }
  float *row(size_t r) { return values.data() + r * cols; }
  const float *row(size_t r) const { return values.data() + r * cols; }
  float &at(size_t r, size_t c) { return values[r * cols + c]; }
  float at(size_t r, size_t c) const { return values[r * cols + c]; }
};

/// Throws Error naming the first NaN or Inf element, if any.
void requireFinite(const Matrix &m, const std::string &what);

} // namespace qet::quant

#endif // QET_QUANTIZER_MATRIX_H
