//===- MlirEntryPoints.cpp - Runtime functions generated code calls -------===//
//
// convert-qet-to-runtime lowers every read of a qet.external_constant
// component to a call of `qetLoadSection` (declared with
// llvm.emit_c_interface), which lands here with a buffer and a one-byte
// "loaded" flag, both globals of the generated code (zero at load time).
// Each container is opened once and stays mapped for the life of the
// process; a section is checksummed and copied into its buffer when the
// flag is still 0, and later calls return at once. The flag lives with the
// buffer, so code loaded again (a new JIT session) loads again.
// qetMatmul / qetRtnMatmul run the runtime's kernels for a lowered
// qet.qmatmul (tensors bound once per container and name).
//
// Generated code has no error channel: a failure prints the runtime's
// message and ends the process with status 1 (_Exit: no destructors run
// while another thread may hold the lock) rather than let the code read a
// wrong or missing weight.
//
//===----------------------------------------------------------------------===//

#include "qet/runtime.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#define QET_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

/// The descriptor of a memref<?xi8> as MLIR's C interface passes it.
struct ByteMemRef {
  int8_t *allocated;
  int8_t *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];

  int8_t *data() const { return aligned + offset; }
  std::string str() const {
    return std::string(reinterpret_cast<const char *>(data()),
                       static_cast<size_t>(sizes[0]));
  }
};

/// The descriptor of a row-major memref<?x?xf32>.
struct FloatMatrix {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];

  float *data() const { return aligned + offset; }
  bool contiguous() const { return strides[1] == 1 && strides[0] == sizes[1]; }
};

std::mutex loadMutex;
std::map<std::string, qet_container *> containers;
std::map<std::pair<std::string, std::string>, qet_tensor *> tensors;

[[noreturn]] void die(const std::string &what) {
  std::fprintf(stderr, "qet runtime: %s\n", what.c_str());
  std::fflush(nullptr);
  std::_Exit(EXIT_FAILURE);
}

/// The open container `file` (callers hold loadMutex).
qet_container *container(const std::string &file, const std::string &where) {
  auto it = containers.find(file);
  if (it != containers.end())
    return it->second;
  qet_container *opened = nullptr;
  if (qet_container_open(file.c_str(), &opened) != QET_OK)
    die("cannot load " + where + ": " + qet_last_error());
  return containers[file] = opened;
}

qet_tensor *tensor(const std::string &file, const std::string &name) {
  std::lock_guard<std::mutex> lock(loadMutex);
  auto key = std::make_pair(file, name);
  if (auto it = tensors.find(key); it != tensors.end())
    return it->second;
  std::string where = "tensor '" + name + "' in '" + file + "'";
  qet_tensor *bound = nullptr;
  if (qet_tensor_lookup(container(file, where), name.c_str(), &bound) !=
      QET_OK)
    die("cannot load " + where + ": " + qet_last_error());
  return tensors[key] = bound;
}

/// x (batch x cols) and y (batch x rows) as the kernels take them.
void checkOperands(const FloatMatrix *x, const FloatMatrix *y, int64_t rows,
                   int64_t cols, const std::string &what) {
  if (!x->contiguous() || !y->contiguous() || x->sizes[0] != y->sizes[0] ||
      x->sizes[1] != cols || y->sizes[1] != rows)
    die(what + ": the compiled code passed " + std::to_string(x->sizes[0]) +
        "x" + std::to_string(x->sizes[1]) + " inputs and " +
        std::to_string(y->sizes[0]) + "x" + std::to_string(y->sizes[1]) +
        " outputs (row-major) for a " + std::to_string(rows) + "x" +
        std::to_string(cols) + " weight");
}

/// fp16 bit patterns of `m` (null when empty), copied when not 2-aligned.
const uint16_t *halves(const ByteMemRef *m, std::vector<uint16_t> &copy) {
  if (m->sizes[0] == 0)
    return nullptr;
  if (reinterpret_cast<uintptr_t>(m->data()) % alignof(uint16_t) == 0)
    return reinterpret_cast<const uint16_t *>(m->data());
  copy.resize(static_cast<size_t>(m->sizes[0]) / 2);
  std::memcpy(copy.data(), m->data(), copy.size() * 2);
  return copy.data();
}

} // namespace

/// Y = X W^T for tensor `name` of container `file` (any scheme).
QET_EXPORT void _mlir_ciface_qetMatmul(const ByteMemRef *file,
                                       const ByteMemRef *name,
                                       const FloatMatrix *x,
                                       const FloatMatrix *y) {
  qet_tensor *t = tensor(file->str(), name->str());
  std::string what = "tensor '" + name->str() + "' in '" + file->str() + "'";
  qet_tensor_info info;
  if (qet_tensor_get_info(t, &info) != QET_OK)
    die(what + ": " + qet_last_error());
  checkOperands(x, y, info.rows, info.cols, what);
  size_t batch = static_cast<size_t>(x->sizes[0]);
  if (qet_tensor_matmul(t, x->data(), x->sizes[0], batch * info.cols,
                        y->data(), batch * info.rows) != QET_OK)
    die(what + ": " + qet_last_error());
}

/// Y = X W^T for RTN storage held by the generated code (zeros empty:
/// symmetric).
QET_EXPORT void _mlir_ciface_qetRtnMatmul(
    const ByteMemRef *codes, const ByteMemRef *scales, const ByteMemRef *zeros,
    int64_t rows, int64_t cols, int64_t bits, int64_t group,
    const FloatMatrix *x, const FloatMatrix *y) {
  checkOperands(x, y, rows, cols, "rtn weight");
  // The sizes the storage must have (the kernel reads exactly these).
  int64_t groups = group > 0 ? (cols + group - 1) / group : 0;
  int64_t codeBytes = (rows * cols * bits + 7) / 8, metaBytes = rows * groups * 2;
  if (codes->sizes[0] != codeBytes || scales->sizes[0] != metaBytes ||
      (zeros->sizes[0] != 0 && zeros->sizes[0] != metaBytes))
    die("rtn weight: " + std::to_string(codes->sizes[0]) + " code, " +
        std::to_string(scales->sizes[0]) + " scale and " +
        std::to_string(zeros->sizes[0]) + " zero-point bytes do not fit a " +
        std::to_string(rows) + "x" + std::to_string(cols) + " weight of " +
        std::to_string(bits) + "-bit codes in groups of " +
        std::to_string(group));
  std::vector<uint16_t> scaleCopy, zeroCopy;
  if (qet_rtn_matmul_f32(reinterpret_cast<const uint8_t *>(codes->data()),
                         halves(scales, scaleCopy), halves(zeros, zeroCopy),
                         rows, cols, bits, group, x->sizes[0], x->data(),
                         y->data()) != QET_OK)
    die(std::string("rtn weight: ") + qet_last_error());
}

/// Fills `buffer` with section `section` of tensor `tensor` in `file` unless
/// `loaded[0]` says it holds it already.
QET_EXPORT void _mlir_ciface_qetLoadSection(const ByteMemRef *file,
                                            const ByteMemRef *tensor,
                                            const ByteMemRef *section,
                                            const ByteMemRef *buffer,
                                            const ByteMemRef *loaded) {
  std::lock_guard<std::mutex> lock(loadMutex);
  if (*loaded->data())
    return;
  std::string where = "section '" + section->str() + "' of tensor '" +
                      tensor->str() + "' in '" + file->str() + "'";
  const uint8_t *bytes = nullptr;
  size_t size = 0;
  if (qet_container_section(container(file->str(), where),
                            tensor->str().c_str(), section->str().c_str(),
                            &bytes, &size) != QET_OK)
    die("cannot load " + where + ": " + qet_last_error());
  if (static_cast<int64_t>(size) != buffer->sizes[0])
    die(where + " holds " + std::to_string(size) +
        " bytes, but the compiled code expects " +
        std::to_string(buffer->sizes[0]) +
        " (the file is not the one the code was compiled with)");
  std::memcpy(buffer->data(), bytes, size);
  *loaded->data() = 1;
}
