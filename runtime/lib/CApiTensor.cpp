//===- CApiTensor.cpp - Containers, tensors and settings of the C API -----===//
//
// A qet_container owns the mapped Container through a shared_ptr that every
// qet_tensor looked up from it shares, so a tensor stays usable (and the
// names handed out stay valid) until the last handle is released.
//
//===----------------------------------------------------------------------===//

#include "ApiSupport.h"

#include "qet/runtime.h"
#include "qet/runtime/Container.h"
#include "qet/runtime/KernelConfig.h"
#include "qet/runtime/PackedTensor.h"

#include <memory>

using namespace qet::runtime;
using namespace qet::runtime::api;

struct qet_container {
  std::shared_ptr<const Container> container;
};

struct qet_tensor {
  std::shared_ptr<const Container> container;
  const TensorInfo *info = nullptr;
  std::unique_ptr<PackedTensor> kernels;
};

namespace {

/// The tensor called `name`; NotFound listing the names otherwise.
const TensorInfo &findTensor(const Container &c, const char *name) {
  std::string known;
  for (const TensorInfo &t : c.tensors()) {
    if (t.name == name)
      return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  fail(ErrorCode::NotFound, c.path() + ": no tensor '" + name + "' (has: " +
                                (known.empty() ? "none" : known) + ")");
}

void fillInfo(const TensorInfo &tensor, qet_tensor_info *info) {
  info->name = tensor.name.c_str();
  info->scheme = tensor.scheme.c_str();
  info->rows = static_cast<int64_t>(tensor.rows);
  info->cols = static_cast<int64_t>(tensor.cols);
  info->dtype = static_cast<qet_dtype>(tensor.dtype);
  info->param_count = static_cast<int64_t>(tensor.params.size());
  info->section_count = static_cast<int64_t>(tensor.sections.size());
}

const TensorInfo &tensorAt(const qet_container *container, int64_t index) {
  requireNonNull(container, "container");
  const auto &tensors = container->container->tensors();
  if (index < 0 || static_cast<uint64_t>(index) >= tensors.size())
    fail(ErrorCode::InvalidArgument,
         container->container->path() + ": tensor index " +
             std::to_string(index) + " is outside [0, " +
             std::to_string(tensors.size()) + ")");
  return tensors[static_cast<size_t>(index)];
}

/// Checks a product's buffers: x holds batch x cols floats, y batch x rows.
void checkProduct(const qet_tensor *tensor, const float *x, size_t batch,
                  size_t xCount, const float *y, size_t yCount) {
  requireNonNull(tensor, "tensor");
  const size_t xNeed = checkedProduct(batch, tensor->kernels->cols(), "x size");
  const size_t yNeed = checkedProduct(batch, tensor->kernels->rows(), "y size");
  requireBuffer(x, xCount, xNeed, "x", "floats");
  requireBuffer(y, yCount, yNeed, "y", "floats");
  requireDisjoint(x, xNeed * sizeof(float), y, yNeed * sizeof(float), "x", "y");
}

} // namespace

extern "C" {

qet_status qet_set_threads(int64_t threads) noexcept {
  return apiCall(__func__, [&] {
    if (threads < 0 || threads > 4096)
      fail(ErrorCode::InvalidArgument,
           "threads must be in [0, 4096], got " + std::to_string(threads));
    setKernelThreads(static_cast<unsigned>(threads));
  });
}

qet_status qet_set_kernel(qet_kernel kernel) noexcept {
  return apiCall(__func__, [&] {
    const int32_t value = enumValue(kernel);
    switch (value) {
    case QET_KERNEL_AUTO:
      return setKernelPath(KernelPath::Auto);
    case QET_KERNEL_PORTABLE:
      return setKernelPath(KernelPath::Portable);
    case QET_KERNEL_AVX2:
      return setKernelPath(KernelPath::Avx2);
    }
    fail(ErrorCode::InvalidArgument, "unknown kernel " + std::to_string(value));
  });
}

qet_status qet_container_open(const char *path, qet_container **out) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(out, "out");
    *out = nullptr;
    requireNonNull(path, "path");
    auto handle = std::make_unique<qet_container>();
    handle->container =
        std::make_shared<const Container>(Container::open(path));
    *out = handle.release();
  });
}

qet_status qet_container_verify(const qet_container *container) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(container, "container");
    container->container->verify();
  });
}

qet_status qet_container_close(qet_container *container) noexcept {
  return apiCall(__func__, [&] { delete container; });
}

qet_status qet_container_tensor_count(const qet_container *container,
                                      int64_t *count) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(container, "container");
    requireNonNull(count, "count");
    *count = static_cast<int64_t>(container->container->tensors().size());
  });
}

qet_status qet_container_tensor_info(const qet_container *container,
                                     int64_t index,
                                     qet_tensor_info *info) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(info, "info");
    fillInfo(tensorAt(container, index), info);
  });
}

qet_status qet_container_tensor_param(const qet_container *container,
                                      int64_t index, int64_t param,
                                      const char **key,
                                      int64_t *value) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    const TensorInfo &tensor = tensorAt(container, index);
    if (param < 0 || static_cast<uint64_t>(param) >= tensor.params.size())
      fail(ErrorCode::InvalidArgument,
           "tensor '" + tensor.name + "' has " +
               std::to_string(tensor.params.size()) + " parameters; index " +
               std::to_string(param) + " is out of range");
    const auto &entry = tensor.params[static_cast<size_t>(param)];
    *key = entry.first.c_str();
    *value = entry.second;
  });
}

qet_status qet_container_section(const qet_container *container,
                                 const char *tensor, const char *section,
                                 const uint8_t **data, size_t *size) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(data, "data");
    requireNonNull(size, "size");
    *data = nullptr;
    *size = 0;
    requireNonNull(container, "container");
    requireNonNull(tensor, "tensor");
    requireNonNull(section, "section");
    const Container &c = *container->container;
    const TensorInfo &found = findTensor(c, tensor);
    for (const SectionInfo &s : found.sections)
      if (s.name == section) {
        *data = c.sectionBytes(found, s);
        *size = static_cast<size_t>(s.size);
        return;
      }
    std::string known;
    for (const SectionInfo &s : found.sections)
      known += (known.empty() ? "" : ", ") + s.name;
    fail(ErrorCode::NotFound, c.path() + ": tensor '" + found.name +
                                  "' has no section '" + section +
                                  "' (has: " + known + ")");
  });
}

qet_status qet_tensor_lookup(const qet_container *container, const char *name,
                             qet_tensor **out) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(out, "out");
    *out = nullptr;
    requireNonNull(container, "container");
    requireNonNull(name, "name");
    const Container &c = *container->container;
    const TensorInfo &found = findTensor(c, name);
    auto handle = std::make_unique<qet_tensor>();
    handle->container = container->container;
    handle->info = &found;
    handle->kernels = bindTensor(c, found);
    *out = handle.release();
  });
}

qet_status qet_tensor_release(qet_tensor *tensor) noexcept {
  return apiCall(__func__, [&] { delete tensor; });
}

qet_status qet_tensor_get_info(const qet_tensor *tensor,
                               qet_tensor_info *info) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(tensor, "tensor");
    requireNonNull(info, "info");
    fillInfo(*tensor->info, info);
  });
}

qet_status qet_tensor_find_param(const qet_tensor *tensor, const char *key,
                                 int64_t *value) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(tensor, "tensor");
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    for (const auto &[name, v] : tensor->info->params)
      if (name == key) {
        *value = v;
        return;
      }
    fail(ErrorCode::NotFound,
         "tensor '" + tensor->info->name + "' has no parameter '" + key + "'");
  });
}

qet_status qet_tensor_dequantize(const qet_tensor *tensor, float *out,
                                 size_t out_count) noexcept {
  return apiCall(__func__, [&] {
    requireNonNull(tensor, "tensor");
    const PackedTensor &t = *tensor->kernels;
    requireBuffer(out, out_count,
                  checkedProduct(t.rows(), t.cols(), "out size"), "out",
                  "floats");
    t.dequantize(out);
  });
}

qet_status qet_tensor_matvec(const qet_tensor *tensor, const float *x,
                             size_t x_count, float *y,
                             size_t y_count) noexcept {
  return apiCall(__func__, [&] {
    checkProduct(tensor, x, 1, x_count, y, y_count);
    tensor->kernels->multiply(x, 1, y);
  });
}

qet_status qet_tensor_matmul(const qet_tensor *tensor, const float *x,
                             int64_t batch, size_t x_count, float *y,
                             size_t y_count) noexcept {
  return apiCall(__func__, [&] {
    size_t items = nonNegative(batch, "batch");
    checkProduct(tensor, x, items, x_count, y, y_count);
    tensor->kernels->multiply(x, items, y);
  });
}

} // extern "C"
