//===- Float16.h - IEEE binary16 and bfloat16 conversions ------*- C++ -*-===//
//
// Bit-exact, platform-independent conversions. fp32 -> fp16/bf16 rounds to
// nearest, ties to even; overflow gives Inf; NaN stays NaN.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_FLOAT16_H
#define QET_QUANTIZER_FLOAT16_H

#include <cstdint>

namespace qet::quant {

uint16_t floatToHalfBits(float value);
float halfBitsToFloat(uint16_t bits);
uint16_t floatToBFloatBits(float value);
float bfloatBitsToFloat(uint16_t bits);

/// Rounds through fp16 and back.
inline float roundToHalf(float value) {
  return halfBitsToFloat(floatToHalfBits(value));
}
/// Rounds through bf16 and back.
inline float roundToBFloat(float value) {
  return bfloatBitsToFloat(floatToBFloatBits(value));
}

/// Largest finite fp16 magnitude.
constexpr float kHalfMax = 65504.0f;

} // namespace qet::quant

#endif // QET_QUANTIZER_FLOAT16_H
