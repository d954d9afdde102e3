//===- MatrixIO.h - Reading and writing .npy and safetensors ---*- C++ -*-===//
//
// Matrices enter the quantizer as NumPy .npy files (synthetic data, exported
// activations) or as tensors of a safetensors checkpoint (model weights). Both
// formats are read without Python or torch. fp16/bf16 data is widened to fp32
// exactly and `Matrix::storage` records the file's dtype, which fixes `cb` in
// the ledger. A 1-D array of length d is read as a 1 x d matrix.
//
// Malformed, truncated or unsupported files, and tensor names a file does not
// hold, raise FormatError. A file that cannot be opened or written, and a
// request that does not fit the file (no tensor name for a safetensors file of
// several tensors, a tensor name for a .npy file), raise Error. Messages start
// with the path.
//
// Writers replace the target atomically: the bytes go to a temporary file in
// the same directory, which is renamed over the target only once complete.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_MATRIXIO_H
#define QET_QUANTIZER_MATRIXIO_H

#include "qet/Quantizer/Matrix.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qet::quant {

//===----------------------------------------------------------------------===//
// NumPy .npy
//===----------------------------------------------------------------------===//

/// Reads a C-order .npy file (format versions 1.0, 2.0 and 3.0) of dtype
/// float32 or float16, little-endian ('<', or '=', '|' and no prefix, which
/// numpy reads as native on the little-endian hosts qet supports). The data
/// must be exactly as long as the header's shape says.
Matrix readNpy(const std::string &path);

/// Writes `m` as a version 1.0 .npy file of shape (rows, cols) in `type`
/// (F32 or F16; .npy has no bfloat16, so BF16 throws Error). The header is
/// laid out byte for byte as numpy's np.save writes it (data 64-byte aligned).
/// F16 rounds to nearest, ties to even; a finite value beyond the fp16 range
/// throws Error rather than silently becoming Inf.
void writeNpy(const std::string &path, const Matrix &m, DType type);

//===----------------------------------------------------------------------===//
// safetensors
//===----------------------------------------------------------------------===//

/// One entry of a safetensors header.
struct TensorInfo {
  std::string name;
  std::string dtype;           // as spelled in the file: "F32", "BF16", "I64"
  std::vector<uint64_t> shape; // empty for a scalar
  // The entry's data_offsets: byte range relative to the start of the data
  // section (which follows the 8-byte length and the JSON header).
  uint64_t begin = 0;
  uint64_t end = 0;
};

/// Every tensor of a safetensors file, sorted by name ("__metadata__" is not a
/// tensor). Validates the whole header: each entry's fields, its data range
/// inside the file and, for dtypes of known width, range length = shape x
/// element size. Tensors of dtypes readSafetensors does not support are listed.
std::vector<TensorInfo> listSafetensors(const std::string &path);

/// Reads tensor `tensor` (dtype F32, F16 or BF16; 1-D or 2-D) of a
/// safetensors file. Throws FormatError listing (up to 10) available names
/// when the tensor does not exist.
Matrix readSafetensors(const std::string &path, const std::string &tensor);

/// Writes `tensors` (names unique, not "__metadata__") in `type` (F32, F16 or
/// BF16, rounding ties to even; finite values beyond the fp16 range throw
/// Error), each of shape [rows, cols], data laid out in the given order. The
/// JSON header is padded with spaces to a multiple of 8 bytes, as the
/// reference implementation does.
void writeSafetensors(
    const std::string &path,
    const std::vector<std::pair<std::string, Matrix>> &tensors, DType type);

//===----------------------------------------------------------------------===//
// Either format
//===----------------------------------------------------------------------===//

/// Reads a matrix from a .npy file (recognized by its magic "\x93NUMPY") or
/// else a safetensors file. For .npy, `tensor` must be empty. For safetensors,
/// an empty `tensor` is allowed when the file holds exactly one tensor.
Matrix readMatrix(const std::string &path, const std::string &tensor = "");

namespace detail {
// Shared by the .npy and safetensors readers and writers.

/// The 6 bytes every .npy file starts with.
constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr size_t kNpyMagicSize = 6;

/// A binary file opened for reading at arbitrary offsets. Opening throws Error
/// naming the path and the system's reason.
class InputFile {
public:
  explicit InputFile(const std::string &path);
  ~InputFile();
  InputFile(const InputFile &) = delete;
  InputFile &operator=(const InputFile &) = delete;

  const std::string &path() const { return filePath; }
  uint64_t size() const { return fileSize; }
  /// Reads `count` bytes at `offset` into `out`. Throws FormatError ("... is
  /// truncated") when the file ends first, Error on an I/O error.
  void readAt(uint64_t offset, void *out, size_t count, const char *what);

private:
  std::string filePath;
  int fd = -1;
  uint64_t fileSize = 0;
};

/// Writes `bytes` to `path` through a temporary file in the same directory
/// that is renamed over `path` once complete and flushed; on failure the
/// temporary file is removed and Error is thrown.
void writeFileAtomically(const std::string &path, const std::string &bytes);

/// Converts `m` to the little-endian bytes of `type`, appending to `out`.
/// Throws Error (naming `what` and the element) if a finite value overflows
/// the range of `type`.
void appendEncoded(std::string &out, const Matrix &m, DType type,
                   const std::string &what);

/// Decodes `count` little-endian elements of `type` into `out`.
void decodeInto(const uint8_t *bytes, size_t count, DType type, float *out);

/// "'a', 'b', ... (and 3 more)": the first `limit` names, quoted, for
/// messages.
std::string listNames(const std::vector<TensorInfo> &tensors,
                      size_t limit = 10);

/// Throws Error unless m.values holds rows * cols elements.
void requireConsistent(const Matrix &m, const std::string &what);

} // namespace detail

} // namespace qet::quant

#endif // QET_QUANTIZER_MATRIXIO_H
