//===- PackedTensor.cpp - Scheme dispatch of bindTensor -------------------===//

#include "qet/runtime/PackedTensor.h"

#include "Bindings.h"

namespace qet::runtime {

namespace {
struct Binder {
  const char *scheme;
  std::unique_ptr<PackedTensor> (*bind)(const TensorReader &);
};

const Binder kBinders[] = {
    {"rtn", bindRtn}, {"rtn-sym", bindRtn}, {"pq", bindPq},
    {"opq", bindOpq}, {"lopq", bindLopq},   {"hera", bindQet},
    {"qet", bindQet}, {"vptq", bindVptq},   {"qjl", bindQjl},
};
} // namespace

const std::vector<std::string> &boundSchemes() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Binder &b : kBinders)
      out.push_back(b.scheme);
    return out;
  }();
  return names;
}

std::unique_ptr<PackedTensor> bindTensor(const Container &container,
                                         const TensorInfo &tensor) {
  for (const Binder &b : kBinders)
    if (tensor.scheme == b.scheme)
      return b.bind(TensorReader(container, tensor));
  std::string known;
  for (const Binder &b : kBinders)
    known += (known.empty() ? "" : ", ") + std::string(b.scheme);
  throw RuntimeError(
      ErrorCode::Unsupported,
      container.path() + ": tensor '" + tensor.name + "' has scheme '" +
          tensor.scheme +
          "', which the runtime has no kernels for (known: " + known + ")");
}

} // namespace qet::runtime
