//===- MlirEntryPoints.cpp - Runtime functions generated code calls -------===//
//
// convert-qet-to-runtime lowers every read of a qet.external_constant
// component to a call of `qetLoadSection` (declared with
// llvm.emit_c_interface), which lands here with a buffer (a global of the
// generated code) to fill. Each container is opened once and stays mapped
// for the life of the process; a section is checksummed and copied into its
// buffer on the first call, and later calls for that buffer return at once.
// qetMatmul / qetRtnMatmul run the runtime's kernels for a lowered
// qet.qmatmul (tensors bound once per container and name). Generated code
// has no error channel: a failure prints the runtime's message and exits
// with status 1 rather than let the code read a wrong or missing weight.
//
//===----------------------------------------------------------------------===//

#include "qet/runtime.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

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
std::set<const int8_t *> filled;

[[noreturn]] void die(const std::string &what) {
  std::fprintf(stderr, "qet runtime: %s\n", what.c_str());
  std::fflush(stderr);
  std::exit(EXIT_FAILURE);
}

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

} // namespace

/// Y = X W^T for tensor `name` of container `file` (any scheme).
extern "C" __attribute__((visibility("default"))) void
_mlir_ciface_qetMatmul(const ByteMemRef *file, const ByteMemRef *name,
                       const FloatMatrix *x, const FloatMatrix *y) {
  qet_tensor *t = tensor(file->str(), name->str());
  qet_tensor_info info;
  qet_tensor_get_info(t, &info);
  std::string what = "tensor '" + name->str() + "' in '" + file->str() + "'";
  checkOperands(x, y, info.rows, info.cols, what);
  size_t batch = static_cast<size_t>(x->sizes[0]);
  if (qet_tensor_matmul(t, x->data(), x->sizes[0], batch * info.cols,
                        y->data(), batch * info.rows) != QET_OK)
    die(what + ": " + qet_last_error());
}

/// Y = X W^T for RTN storage held by the generated code (zeros empty:
/// symmetric).
extern "C" __attribute__((visibility("default"))) void
_mlir_ciface_qetRtnMatmul(const ByteMemRef *codes, const ByteMemRef *scales,
                          const ByteMemRef *zeros, int64_t rows, int64_t cols,
                          int64_t bits, int64_t group, const FloatMatrix *x,
                          const FloatMatrix *y) {
  checkOperands(x, y, rows, cols, "rtn weight");
  auto halves = [](const ByteMemRef *m) {
    return m->sizes[0] ? reinterpret_cast<const uint16_t *>(m->data())
                       : nullptr;
  };
  if (qet_rtn_matmul_f32(reinterpret_cast<const uint8_t *>(codes->data()),
                         halves(scales), halves(zeros), rows, cols, bits,
                         group, x->sizes[0], x->data(), y->data()) != QET_OK)
    die(std::string("rtn weight: ") + qet_last_error());
}

extern "C" __attribute__((visibility("default"))) void
_mlir_ciface_qetLoadSection(const ByteMemRef *file, const ByteMemRef *tensor,
                            const ByteMemRef *section,
                            const ByteMemRef *buffer) {
  std::lock_guard<std::mutex> lock(loadMutex);
  if (filled.count(buffer->data()))
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
  filled.insert(buffer->data());
}
