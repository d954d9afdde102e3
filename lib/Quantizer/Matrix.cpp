//===- Matrix.cpp - Dense row-major fp32 matrices -------------------------===//

#include "qet/Quantizer/Matrix.h"

#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"

#include <cmath>

namespace qet::quant {

unsigned bitWidth(DType type) { return type == DType::F32 ? 32 : 16; }

const char *dtypeName(DType type) {
  switch (type) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  }
  return "?";
}

float roundTo(DType type, float value) {
  switch (type) {
  case DType::F32:
    return value;
  case DType::F16:
    return roundToHalf(value);
  case DType::BF16:
    return roundToBFloat(value);
  }
  return value;
}

void requireFinite(const Matrix &m, const std::string &what) {
  for (size_t i = 0; i < m.values.size(); ++i) {
    if (!std::isfinite(m.values[i]))
      throw Error(what + ": element (" + std::to_string(i / m.cols) + ", " +
                  std::to_string(i % m.cols) + ") is " +
                  (std::isnan(m.values[i]) ? "NaN" : "Inf") +
                  "; quantizers need finite input");
  }
}

} // namespace qet::quant
