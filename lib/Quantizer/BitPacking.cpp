//===- BitPacking.cpp - LSB-first packing of unsigned codes ---------------===//

#include "qet/Quantizer/BitPacking.h"

#include "qet/Quantizer/Error.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace qet::quant {

static void checkWidth(unsigned width) {
  if (width > 32)
    throw Error("bit packing supports code widths 0..32, got " +
                std::to_string(width));
}

unsigned indexBits(uint64_t count) {
  unsigned bits = 0;
  for (uint64_t largest = count > 0 ? count - 1 : 0; largest; largest >>= 1)
    ++bits;
  return bits;
}

size_t packedBytes(size_t count, unsigned width) {
  return static_cast<size_t>((static_cast<uint64_t>(count) * width + 7) / 8);
}

void packBits(const uint32_t *codes, size_t count, unsigned width,
              uint8_t *out) {
  checkWidth(width);
  size_t bytes = packedBytes(count, width);
  if (bytes == 0) // also keeps a null `out` of an empty vector out of memset
    return;
  std::memset(out, 0, bytes);
  uint64_t limit = width == 32 ? UINT64_MAX : (uint64_t{1} << width) - 1;
  // A 64-bit accumulator: at most 7 pending bits + 32 new bits fit.
  uint64_t pending = 0;
  unsigned pendingBits = 0;
  size_t written = 0;
  for (size_t i = 0; i < count; ++i) {
    if (codes[i] > limit)
      throw Error("code " + std::to_string(codes[i]) + " at index " +
                  std::to_string(i) + " does not fit in " +
                  std::to_string(width) + " bits");
    pending |= static_cast<uint64_t>(codes[i]) << pendingBits;
    pendingBits += width;
    while (pendingBits >= 8) {
      out[written++] = static_cast<uint8_t>(pending);
      pending >>= 8;
      pendingBits -= 8;
    }
  }
  if (pendingBits)
    out[written++] = static_cast<uint8_t>(pending);
}

std::vector<uint8_t> packBits(const std::vector<uint32_t> &codes,
                              unsigned width) {
  std::vector<uint8_t> out(packedBytes(codes.size(), width));
  packBits(codes.data(), codes.size(), width, out.data());
  return out;
}

std::vector<uint32_t> packBitsToWords(const std::vector<uint32_t> &codes,
                                      unsigned width) {
  std::vector<uint8_t> bytes = packBits(codes, width);
  std::vector<uint32_t> words((bytes.size() + 3) / 4, 0);
  for (size_t i = 0; i < bytes.size(); ++i)
    words[i / 4] |= static_cast<uint32_t>(bytes[i]) << (8 * (i % 4));
  return words;
}

void unpackBits(const uint8_t *in, size_t count, unsigned width,
                uint32_t *out) {
  checkWidth(width);
  if (width == 0) {
    std::fill(out, out + count, 0u);
    return;
  }
  uint64_t mask = width == 32 ? 0xffffffffull : (uint64_t{1} << width) - 1;
  uint64_t pending = 0;
  unsigned pendingBits = 0;
  size_t read = 0;
  for (size_t i = 0; i < count; ++i) {
    while (pendingBits < width) {
      pending |= static_cast<uint64_t>(in[read++]) << pendingBits;
      pendingBits += 8;
    }
    out[i] = static_cast<uint32_t>(pending & mask);
    pending >>= width;
    pendingBits -= width;
  }
}

std::vector<uint32_t> unpackBits(const std::vector<uint8_t> &bytes,
                                 size_t count, unsigned width) {
  if (bytes.size() < packedBytes(count, width))
    throw FormatError("packed stream holds " + std::to_string(bytes.size()) +
                      " bytes, " + std::to_string(count) + " codes of " +
                      std::to_string(width) + " bits need " +
                      std::to_string(packedBytes(count, width)));
  std::vector<uint32_t> out(count);
  unpackBits(bytes.data(), count, width, out.data());
  return out;
}

void BitWriter::write(uint32_t value, unsigned width) {
  checkWidth(width);
  if (width < 32 && (static_cast<uint64_t>(value) >> width))
    throw Error("value " + std::to_string(value) + " does not fit in " +
                std::to_string(width) + " bits");
  for (unsigned b = 0; b < width; ++b, ++bits) {
    if (bits % 8 == 0)
      buffer.push_back(0);
    buffer.back() |= static_cast<uint8_t>(((value >> b) & 1u) << (bits % 8));
  }
}

uint32_t BitReader::read(unsigned width) {
  checkWidth(width);
  if (bits + width > static_cast<uint64_t>(size) * 8)
    throw FormatError("bit stream ends after " + std::to_string(size) +
                      " bytes; cannot read " + std::to_string(width) +
                      " more bits at bit " + std::to_string(bits));
  uint32_t value = 0;
  for (unsigned b = 0; b < width; ++b, ++bits)
    value |= static_cast<uint32_t>((data[bits / 8] >> (bits % 8)) & 1u) << b;
  return value;
}

} // namespace qet::quant
