//===- PackedTensor.h - A container tensor bound to its kernels -*- C++ -*-===//
//
// bindTensor() checks one tensor of a mapped container against its scheme
// (parameters, section widths and counts, CRC-32C) and returns an object
// whose kernels read the section bytes in place: no packed stream is copied
// and the dense matrix is never built, except by dequantize() into the
// caller's buffer.
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_PACKEDTENSOR_H
#define QET_RUNTIME_PACKEDTENSOR_H

#include "qet/runtime/Container.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace qet::runtime {

class PackedTensor {
public:
  virtual ~PackedTensor() = default;

  size_t rows() const { return numRows; }
  size_t cols() const { return numCols; }

  /// out[rows * cols] = W, bit-identical to the quantizer's dequantize().
  virtual void dequantize(float *out) const = 0;
  /// Y[b, :] = W X[b, :] for b < batch; X is batch x cols, Y batch x rows.
  virtual void multiply(const float *x, size_t batch, float *y) const = 0;

protected:
  PackedTensor(size_t rows, size_t cols) : numRows(rows), numCols(cols) {}

private:
  size_t numRows, numCols;
};

/// The schemes bindTensor() knows.
const std::vector<std::string> &boundSchemes();

/// Binds `tensor` of `container` (which must outlive the result).
/// RuntimeError(Unsupported) for an unknown scheme, RuntimeError(Format) or
/// ContainerError(Checksum) for bad data; messages name the file, the tensor
/// and the section or parameter.
std::unique_ptr<PackedTensor> bindTensor(const Container &container,
                                         const TensorInfo &tensor);

} // namespace qet::runtime

#endif // QET_RUNTIME_PACKEDTENSOR_H
