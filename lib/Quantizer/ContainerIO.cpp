//===- ContainerIO.cpp - Packed matrices in .qpk containers ---------------===//

#include "qet/Quantizer/ContainerIO.h"

#include "qet/Quantizer/Error.h"

namespace qet::quant {

static runtime::ElementType toElementType(DType type) {
  switch (type) {
  case DType::F32:
    return runtime::ElementType::F32;
  case DType::F16:
    return runtime::ElementType::F16;
  case DType::BF16:
    return runtime::ElementType::BF16;
  }
  throw Error("unknown dtype");
}

static DType toDType(runtime::ElementType type) {
  switch (type) {
  case runtime::ElementType::F32:
    return DType::F32;
  case runtime::ElementType::F16:
    return DType::F16;
  case runtime::ElementType::BF16:
    return DType::BF16;
  }
  throw Error("unknown element type");
}

void writePackedMatrices(
    const std::string &path,
    const std::vector<std::pair<std::string, const PackedMatrix *>> &matrices,
    bool replace) {
  std::vector<runtime::TensorData> tensors;
  for (const auto &[name, packed] : matrices) {
    runtime::TensorData tensor;
    tensor.name = name;
    tensor.scheme = packed->scheme;
    tensor.rows = packed->rows;
    tensor.cols = packed->cols;
    tensor.dtype = toElementType(packed->storage);
    tensor.params.assign(packed->params.begin(), packed->params.end());
    for (const PackedStream &stream : packed->streams)
      tensor.sections.push_back({stream.component, stream.bitsEach,
                                 stream.count, stream.bytes.data(),
                                 stream.bytes.size()});
    tensors.push_back(std::move(tensor));
  }
  runtime::writeContainer(path, tensors, replace);
}

PackedMatrix readPackedMatrix(const runtime::Container &container,
                              const std::string &name) {
  const runtime::TensorInfo &tensor = container.tensor(name);
  PackedMatrix packed;
  packed.scheme = tensor.scheme;
  packed.rows = tensor.rows;
  packed.cols = tensor.cols;
  packed.storage = toDType(tensor.dtype);
  for (const auto &[key, value] : tensor.params)
    packed.params[key] = value;
  for (const runtime::SectionInfo &section : tensor.sections) {
    const uint8_t *bytes = container.sectionBytes(tensor, section);
    packed.streams.push_back({section.name, section.bitsEach, section.count,
                              std::vector<uint8_t>(bytes, bytes + section.size)});
  }
  return packed;
}

} // namespace qet::quant
