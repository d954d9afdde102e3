//===- Inspect.cpp - qet-quantize --inspect -------------------------------===//

#include "Inspect.h"

#include "qet/Quantizer/ContainerIO.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Scheme.h"
#include "qet/runtime/Container.h"

#include <cstdio>
#include <exception>

namespace qet::tool {

int inspectContainer(const std::string &path) {
  runtime::Container container = runtime::Container::open(path);
  std::printf("%s: .qpk version %u, %zu tensor(s)\n", path.c_str(),
              runtime::kContainerVersion, container.tensors().size());
  int status = 0;
  for (const runtime::TensorInfo &tensor : container.tensors()) {
    uint64_t bits = 0;
    for (const runtime::SectionInfo &section : tensor.sections)
      bits += section.count * section.bitsEach;
    double elements = double(tensor.rows) * double(tensor.cols);
    std::printf("tensor %s: scheme %s, %llux%llu %s, %llu bits (%.4f bpe)\n",
                tensor.name.c_str(), tensor.scheme.c_str(),
                (unsigned long long)tensor.rows, (unsigned long long)tensor.cols,
                runtime::elementTypeName(tensor.dtype), (unsigned long long)bits,
                elements > 0 ? bits / elements : 0.0);
    std::string params;
    for (const auto &[key, value] : tensor.params)
      params += " " + key + "=" + std::to_string(value);
    if (!params.empty())
      std::printf("  params:%s\n", params.c_str());
    for (const runtime::SectionInfo &section : tensor.sections)
      std::printf("  section %-14s %2u bits x %-10llu %10llu bytes at %llu, "
                  "crc32c %08x\n",
                  section.name.c_str(), section.bitsEach,
                  (unsigned long long)section.count,
                  (unsigned long long)section.size,
                  (unsigned long long)section.offset, section.crc);
    try {
      quant::Matrix decoded =
          quant::dequantize(quant::readPackedMatrix(container, tensor.name));
      std::printf("  checksums ok, decodes to %zux%zu\n", decoded.rows,
                  decoded.cols);
    } catch (const std::exception &e) {
      std::printf("  ERROR: %s\n", e.what());
      status = 1;
    }
  }
  return status;
}

} // namespace qet::tool
