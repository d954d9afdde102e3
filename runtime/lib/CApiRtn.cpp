//===- CApiRtn.cpp - RTN products on plain pointers -----------------------===//
//
// The entry points generated code calls: the same kernels as `rtn` tensors,
// on buffers the caller lays out as the container does.
//
//===----------------------------------------------------------------------===//

#include "ApiSupport.h"
#include "RtnKernel.h"

#include "qet/runtime.h"

using namespace qet::runtime;
using namespace qet::runtime::api;

namespace {

void runRtn(const uint8_t *codes, const uint16_t *scales, const uint16_t *zeros,
            int64_t rows, int64_t cols, int64_t bits, int64_t group,
            int64_t batch, const float *x, float *y) {
  RtnView view;
  view.rows = nonNegative(rows, "rows");
  view.cols = nonNegative(cols, "cols");
  if (bits < 1 || bits > 8 || group < 1 || group > UINT32_MAX)
    fail(ErrorCode::InvalidArgument,
         "bits must be in [1, 8] and group in [1, 2^32), got bits " +
             std::to_string(bits) + ", group " + std::to_string(group));
  view.bits = static_cast<unsigned>(bits);
  view.group = static_cast<unsigned>(group);
  if (view.cols && view.rows > (uint64_t{1} << 48) / view.cols)
    fail(ErrorCode::InvalidArgument, "the shape " + std::to_string(rows) + "x" +
                                         std::to_string(cols) +
                                         " is too large");
  view.codeBytes = (uint64_t(view.rows) * view.cols * view.bits + 7) / 8;
  // The storage sizes follow from the shape; only null pointers can be
  // checked here.
  const size_t items = nonNegative(batch, "batch");
  const size_t xCount = checkedProduct(items, view.cols, "x size");
  const size_t yCount = checkedProduct(items, view.rows, "y size");
  const bool used = xCount && yCount;
  if (used) {
    requireNonNull(codes, "codes");
    requireNonNull(scales, "scales_f16");
  }
  requireBuffer(x, xCount, xCount, "x", "floats");
  requireBuffer(y, yCount, yCount, "y", "floats");
  view.codes = codes;
  view.scales = scales;
  view.zeros = zeros;
  requireDisjoint(x, xCount * sizeof(float), y, yCount * sizeof(float), "x",
                  "y");
  rtnMultiply(view, x, items, y, activeKernelPath(), kernelThreads());
}

} // namespace

extern "C" {

qet_status qet_rtn_matvec_f32(const uint8_t *codes, const uint16_t *scales_f16,
                              const uint16_t *zeros_f16, int64_t rows,
                              int64_t cols, int64_t bits, int64_t group,
                              const float *x, float *y) noexcept {
  return apiCall(__func__, [&] {
    runRtn(codes, scales_f16, zeros_f16, rows, cols, bits, group, 1, x, y);
  });
}

qet_status qet_rtn_matmul_f32(const uint8_t *codes, const uint16_t *scales_f16,
                              const uint16_t *zeros_f16, int64_t rows,
                              int64_t cols, int64_t bits, int64_t group,
                              int64_t batch, const float *x,
                              float *y) noexcept {
  return apiCall(__func__, [&] {
    runRtn(codes, scales_f16, zeros_f16, rows, cols, bits, group, batch, x, y);
  });
}

} // extern "C"
