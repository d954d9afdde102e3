//===- PqTensor.cpp - `pq`, `opq` and `lopq` tensors ----------------------===//
//
// One class for the three: a list of PQ parts, each coding a set of rows,
// with or without a rotation (opq: one rotated part; lopq: one rotated part
// per non-empty cluster, rows in ascending order).
//
//===----------------------------------------------------------------------===//

#include "Bindings.h"
#include "PqKernel.h"

#include "qet/Quantizer/Lopq.h"
#include "qet/Quantizer/Matrix.h"
#include "qet/Quantizer/Opq.h"
#include "qet/runtime/KernelConfig.h"

#include <algorithm>
#include <cstring>

namespace qet::runtime {

namespace {

class PqFamilyTensor final : public PackedTensor {
public:
  PqFamilyTensor(size_t rows, size_t cols, std::vector<PqPart> parts)
      : PackedTensor(rows, cols), parts(std::move(parts)) {}

  void dequantize(float *out) const override {
    const size_t d = cols();
    for (const PqPart &part : parts) {
      if (!part.rotated && part.rowIndex.empty()) {
        decodePqRows(part, d, out);
        continue;
      }
      quant::Matrix decoded(part.rows, d);
      decodePqRows(part, d, decoded.values.data());
      if (part.rotated) {
        // The library's own rotation GEMM (fixed 256-row blocks), so the
        // result is bit-identical to decodeOpq / decodeLopq.
        std::vector<float> rotation(d * d);
        part.rotation.read(0, d * d, rotation.data());
        decoded = quant::multiplyRotation(decoded, rotation,
                                          /*transpose=*/true, kernelThreads());
      }
      for (size_t i = 0; i < part.rows; ++i)
        std::memcpy(out + part.outputRow(i) * d, decoded.row(i),
                    d * sizeof(float));
    }
  }

  void multiply(const float *x, size_t batch, float *y) const override {
    std::fill(y, y + batch * rows(), 0.0f);
    for (const PqPart &part : parts)
      addTableProducts(part, cols(), x, batch, rows(), y, kernelThreads());
  }

private:
  std::vector<PqPart> parts;
};

void addRotation(const TensorReader &reader, const std::string &prefix,
                 PqPart &part) {
  const uint64_t d = reader.info().cols;
  part.rotated = true;
  part.rotation = reader.floats(prefix + "rotation", d * d);
}

} // namespace

std::unique_ptr<PackedTensor> bindPq(const TensorReader &reader) {
  const TensorInfo &info = reader.info();
  std::vector<PqPart> parts;
  parts.push_back(bindPqPart(reader, "", info.rows));
  return std::make_unique<PqFamilyTensor>(info.rows, info.cols,
                                          std::move(parts));
}

std::unique_ptr<PackedTensor> bindOpq(const TensorReader &reader) {
  const TensorInfo &info = reader.info();
  std::vector<PqPart> parts;
  parts.push_back(bindPqPart(reader, "", info.rows));
  addRotation(reader, "", parts.back());
  return std::make_unique<PqFamilyTensor>(info.rows, info.cols,
                                          std::move(parts));
}

std::unique_ptr<PackedTensor> bindLopq(const TensorReader &reader) {
  const TensorInfo &info = reader.info();
  // L is not stored (unpackLopq): the label width is whatever was written
  // and clusters above the largest label are empty.
  const SectionInfo &labelInfo = reader.section("labels");
  const uint8_t *labels = reader.bytes("labels", labelInfo.bitsEach, info.rows);
  std::vector<std::vector<uint32_t>> members;
  for (uint64_t i = 0; i < info.rows; ++i) {
    uint32_t label = readField(labels, labelInfo.size, i, labelInfo.bitsEach);
    if (label >= info.rows)
      reader.fail("section 'labels': label " + std::to_string(label) +
                  " of row " + std::to_string(i) + " exceeds the row count");
    if (label >= members.size())
      members.resize(size_t{label} + 1);
    members[label].push_back(static_cast<uint32_t>(i));
  }
  std::vector<PqPart> parts;
  for (size_t c = 0; c < members.size(); ++c) {
    if (members[c].empty())
      continue; // an empty cluster stores nothing
    const std::string prefix = quant::lopqClusterPrefix(c);
    PqPart part = bindPqPart(reader, prefix, members[c].size());
    addRotation(reader, prefix, part);
    part.rowIndex = std::move(members[c]);
    parts.push_back(std::move(part));
  }
  return std::make_unique<PqFamilyTensor>(info.rows, info.cols,
                                          std::move(parts));
}

} // namespace qet::runtime
