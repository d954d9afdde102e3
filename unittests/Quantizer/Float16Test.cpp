//===- Float16Test.cpp - fp16 / bf16 conversions --------------------------===//

#include "qet/Quantizer/Float16.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

using namespace qet::quant;

namespace {

using qet::test::bitsOf;

TEST(Float16, EveryHalfRoundTripsExactly) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    uint16_t half = static_cast<uint16_t>(bits);
    float value = halfBitsToFloat(half);
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(halfBitsToFloat(floatToHalfBits(value))));
      continue;
    }
    EXPECT_EQ(floatToHalfBits(value), half) << "bits " << bits;
  }
}

TEST(Float16, KnownValues) {
  EXPECT_EQ(floatToHalfBits(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalfBits(-2.0f), 0xc000);
  EXPECT_EQ(floatToHalfBits(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalfBits(0.0f), 0x0000);
  EXPECT_EQ(floatToHalfBits(-0.0f), 0x8000);
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.0f, -24)), 0x0001); // smallest subnormal
  EXPECT_EQ(floatToHalfBits(std::numeric_limits<float>::infinity()), 0x7c00);
  // qem.md §12: fp16(-0.3) and fp16(0.3333...) oracles.
  EXPECT_EQ(roundToHalf(-0.3f), -0.300048828125f);
  EXPECT_EQ(roundToHalf(0.3332519531f), 0.333251953125f);
}

TEST(Float16, RoundsHalfToEven) {
  // Halfway between 1 and 1 + 2^-10 rounds to 1 (even); halfway between
  // 1 + 2^-10 and 1 + 2^-9 rounds up to the even 1 + 2^-9.
  EXPECT_EQ(roundToHalf(1.0f + std::ldexp(1.0f, -11)), 1.0f);
  EXPECT_EQ(roundToHalf(1.0f + 3 * std::ldexp(1.0f, -11)),
            1.0f + std::ldexp(1.0f, -9));
  // Largest finite and the overflow boundary: 65519.99 -> 65504, 65520 -> Inf.
  EXPECT_EQ(roundToHalf(65519.0f), 65504.0f);
  EXPECT_TRUE(std::isinf(roundToHalf(65520.0f)));
  // Subnormal ties: 2^-25 (half of the smallest subnormal) rounds to 0,
  // 3 * 2^-25 rounds to 2 * 2^-24.
  EXPECT_EQ(roundToHalf(std::ldexp(1.0f, -25)), 0.0f);
  EXPECT_EQ(roundToHalf(3 * std::ldexp(1.0f, -25)), std::ldexp(1.0f, -23));
}

TEST(Float16, NearestOnRandomValues) {
  // Compare against a double-precision search over the two neighbours.
  uint32_t state = 12345;
  for (int i = 0; i < 100000; ++i) {
    state = state * 1664525u + 1013904223u;
    float value = std::ldexp(static_cast<float>(state >> 8) / (1 << 24) - 0.5f,
                             static_cast<int>(state % 40) - 25);
    float rounded = roundToHalf(value);
    uint16_t bits = floatToHalfBits(value);
    float up = halfBitsToFloat(static_cast<uint16_t>(bits + 1));
    float down = halfBitsToFloat(static_cast<uint16_t>(bits - 1));
    double error = std::fabs(double(value) - rounded);
    if ((bits & 0x7fff) != 0 && (bits & 0x7fff) != 0x7bff) {
      EXPECT_LE(error, std::fabs(double(value) - up));
      EXPECT_LE(error, std::fabs(double(value) - down));
    }
  }
}

TEST(BFloat16, RoundTripAndRounding) {
  EXPECT_EQ(floatToBFloatBits(1.0f), 0x3f80);
  EXPECT_EQ(bfloatBitsToFloat(0x3f80), 1.0f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1).
  EXPECT_EQ(roundToBFloat(1.0f + std::ldexp(1.0f, -8)), 1.0f);
  EXPECT_EQ(roundToBFloat(1.0f + 3 * std::ldexp(1.0f, -8)),
            1.0f + std::ldexp(1.0f, -6));
  for (uint32_t bits = 0; bits <= 0xffff; bits += 7) {
    float value = bfloatBitsToFloat(static_cast<uint16_t>(bits));
    if (!std::isnan(value))
      EXPECT_EQ(floatToBFloatBits(value), bits);
  }
  EXPECT_TRUE(std::isnan(roundToBFloat(std::nanf(""))));
  EXPECT_EQ(bitsOf(roundToBFloat(-0.0f)), 0x80000000u);
}

} // namespace
