//===- MlirEntryPoints.cpp - Runtime functions generated code calls -------===//
//
// convert-qet-to-runtime lowers every read of a qet.external_constant
// component to a call of `qetLoadSection` (declared with
// llvm.emit_c_interface), which lands here with a buffer (a global of the
// generated code) to fill. Each container is opened once and stays mapped
// for the life of the process; a section is checksummed and copied into its
// buffer on the first call, and later calls for that buffer return at once.
// Generated code has no error channel: a failure prints the runtime's
// message and exits with status 1 rather than let the code read a wrong or
// missing weight.
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

std::mutex loadMutex;
std::map<std::string, qet_container *> containers;
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

} // namespace

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
