//===- BitPackingTest.cpp - LSB-first code packing ------------------------===//

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Random.h"

#include <gtest/gtest.h>

using namespace qet::quant;

namespace {

std::vector<uint32_t> randomCodes(size_t count, unsigned width, uint64_t seed) {
  Rng rng(seed);
  std::vector<uint32_t> codes(count);
  uint64_t range = uint64_t{1} << width;
  for (uint32_t &code : codes)
    code = static_cast<uint32_t>(rng.below(range));
  return codes;
}

TEST(BitPacking, RoundTripsEveryWidthAndOddLengths) {
  for (unsigned width = 1; width <= 16; ++width) {
    for (size_t count : {size_t{0}, size_t{1}, size_t{3}, size_t{7}, size_t{8},
                         size_t{31}, size_t{33}, size_t{1001}}) {
      std::vector<uint32_t> codes = randomCodes(count, width, width * 1000 + count);
      std::vector<uint8_t> bytes = packBits(codes, width);
      ASSERT_EQ(bytes.size(), (count * width + 7) / 8);
      EXPECT_EQ(unpackBits(bytes, count, width), codes)
          << "width " << width << " count " << count;
    }
  }
}

TEST(BitPacking, ExtremeCodesSurvive) {
  for (unsigned width : {1u, 5u, 12u, 16u, 31u, 32u}) {
    uint32_t top = width == 32 ? 0xffffffffu : (1u << width) - 1;
    std::vector<uint32_t> codes = {top, 0, top, top, 0, 1, top};
    EXPECT_EQ(unpackBits(packBits(codes, width), codes.size(), width), codes);
  }
}

TEST(BitPacking, LayoutIsLsbFirst) {
  // 3-bit codes 1, 2, 7 -> bits 001 | 010 | 111 from bit 0: 0b11'010'001.
  std::vector<uint8_t> bytes = packBits({1, 2, 7}, 3);
  ASSERT_EQ(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], 0b11010001);
  EXPECT_EQ(bytes[1], 0b1);
  // Words hold the same stream.
  std::vector<uint32_t> words = packBitsToWords({1, 2, 7}, 3);
  ASSERT_EQ(words.size(), 1u);
  EXPECT_EQ(words[0], 0b111010001u);
}

TEST(BitPacking, WordsEqualBytesLittleEndian) {
  std::vector<uint32_t> codes = randomCodes(77, 11, 5);
  std::vector<uint8_t> bytes = packBits(codes, 11);
  std::vector<uint32_t> words = packBitsToWords(codes, 11);
  ASSERT_EQ(words.size(), (bytes.size() + 3) / 4);
  for (size_t i = 0; i < bytes.size(); ++i)
    EXPECT_EQ((words[i / 4] >> (8 * (i % 4))) & 0xffu, bytes[i]);
}

TEST(BitPacking, ZeroWidthStoresNothing) {
  std::vector<uint32_t> codes(10, 0);
  EXPECT_TRUE(packBits(codes, 0).empty());
  EXPECT_EQ(unpackBits({}, 10, 0), codes);
}

TEST(BitPacking, RejectsCodesThatDoNotFit) {
  EXPECT_THROW(packBits({4}, 2), Error);
  EXPECT_THROW(packBits({1}, 33), Error);
}

TEST(BitPacking, RejectsShortStreams) {
  std::vector<uint8_t> bytes = packBits({1, 2, 3}, 8);
  bytes.pop_back();
  EXPECT_THROW(unpackBits(bytes, 3, 8), FormatError);
}

TEST(BitPacking, IndexBits) {
  EXPECT_EQ(indexBits(0), 0u);
  EXPECT_EQ(indexBits(1), 0u);
  EXPECT_EQ(indexBits(2), 1u);
  EXPECT_EQ(indexBits(256), 8u);
  EXPECT_EQ(indexBits(257), 9u);
  EXPECT_EQ(indexBits(476), 9u);
}

TEST(BitWriter, MixedWidthsRoundTrip) {
  BitWriter writer;
  std::vector<std::pair<uint32_t, unsigned>> fields = {
      {5, 3}, {0, 0}, {65535, 16}, {1, 1}, {0xdeadbeef, 32}, {300, 9}};
  for (auto [value, width] : fields)
    writer.write(value, width);
  EXPECT_EQ(writer.bitCount(), 61u);
  EXPECT_EQ(writer.bytes().size(), 8u);
  BitReader reader(writer.bytes().data(), writer.bytes().size());
  for (auto [value, width] : fields)
    EXPECT_EQ(reader.read(width), value);
  EXPECT_THROW(reader.read(4), FormatError); // 61 + 4 > 64 bits
}

TEST(BitWriter, MatchesPackBits) {
  std::vector<uint32_t> codes = randomCodes(101, 7, 9);
  BitWriter writer;
  for (uint32_t code : codes)
    writer.write(code, 7);
  EXPECT_EQ(writer.bytes(), packBits(codes, 7));
}

} // namespace
