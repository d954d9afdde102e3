//===- RtnTensor.cpp - `rtn` and `rtn-sym` tensors ------------------------===//

#include "Bindings.h"
#include "RtnKernel.h"

namespace qet::runtime {

namespace {

class RtnTensor final : public PackedTensor {
public:
  explicit RtnTensor(const RtnView &view)
      : PackedTensor(view.rows, view.cols), view(view) {}

  void dequantize(float *out) const override { rtnDequantize(view, out); }
  void multiply(const float *x, size_t batch, float *y) const override {
    rtnMultiply(view, x, batch, y, activeKernelPath(), kernelThreads());
  }

private:
  RtnView view;
};

} // namespace

std::unique_ptr<PackedTensor> bindRtn(const TensorReader &reader) {
  const TensorInfo &info = reader.info();
  RtnView view;
  view.rows = info.rows;
  view.cols = info.cols;
  view.bits = static_cast<unsigned>(reader.param("bits", 1, 8));
  view.group = static_cast<unsigned>(reader.param("group", 1, UINT32_MAX));
  // As rtnUnpack: the parameter, not the scheme name, says which form.
  bool symmetric = reader.param("symmetric", 0, 1) != 0;
  const uint64_t fields = info.rows * info.cols;
  const uint64_t groups = info.rows * view.groups();
  view.codes = reader.bytes("codes", view.bits, fields);
  view.codeBytes = reader.section("codes").size;
  view.scales = reader.halfArray("scales", groups);
  if (!symmetric)
    view.zeros = reader.halfArray("zero_points", groups);
  return std::make_unique<RtnTensor>(view);
}

} // namespace qet::runtime
