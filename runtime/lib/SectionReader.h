//===- SectionReader.h - Typed, checked access to tensor sections -*- C++
//-*-===//
//
// Binding a tensor = checking its parameters and sections against the
// scheme, with messages that name the file, tensor and section, and then
// reading the section bytes in place: bit fields LSB first, floats as raw
// f32/f16/bf16 patterns (docs/format.md). Sections start 64-byte aligned in
// the mapping, but every read here goes through memcpy-sized loads, so any
// alignment works.
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_LIB_SECTIONREADER_H
#define QET_RUNTIME_LIB_SECTIONREADER_H

#include "qet/runtime/Container.h"
#include "qet/runtime/RuntimeError.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace qet::runtime {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "sections are little-endian and read in place");

inline uint64_t loadU64(const uint8_t *p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint16_t loadU16(const uint8_t *p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// IEEE binary16 -> fp32, exact. Inline because kernels call it per group;
/// the tests compare it with quant::halfBitsToFloat on all 65536 patterns.
inline float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0) {
    float value = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
    return sign ? -value : value;
  }
  if (exponent == 31)
    bits = sign | 0x7f800000u | (mantissa << 13);
  else
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline float bfloatToFloat(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

/// Field `index` of `width` (0..32) bits of a `size`-byte stream.
inline uint32_t readField(const uint8_t *bytes, uint64_t size, uint64_t index,
                          unsigned width) {
  if (width == 0)
    return 0;
  uint64_t bit = index * width, byte = bit >> 3;
  unsigned shift = bit & 7;
  uint64_t mask = (uint64_t{1} << width) - 1;
  if (byte + 8 <= size)
    return static_cast<uint32_t>((loadU64(bytes + byte) >> shift) & mask);
  // Near the end: only the bytes the field touches (at most 5).
  uint64_t word = 0;
  uint64_t last = (bit + width - 1) >> 3;
  for (uint64_t b = byte; b <= last; ++b)
    word |= uint64_t(bytes[b]) << (8 * (b - byte));
  return static_cast<uint32_t>((word >> shift) & mask);
}

/// out[i] = field first + i for i < count: one unaligned 64-bit load per
/// field while it stays inside the stream, byte-wise reads near its end.
inline void readFields(const uint8_t *bytes, uint64_t size, uint64_t first,
                       size_t count, unsigned width, uint32_t *out) {
  size_t i = 0;
  if (width > 0) {
    const uint64_t mask = (uint64_t{1} << width) - 1;
    for (uint64_t bit = first * width; i < count; ++i, bit += width) {
      const uint64_t byte = bit >> 3;
      if (byte + 8 > size)
        break;
      out[i] =
          static_cast<uint32_t>((loadU64(bytes + byte) >> (bit & 7)) & mask);
    }
  }
  for (; i < count; ++i)
    out[i] = readField(bytes, size, first + i, width);
}

/// Consecutive fields of one width from a start field, for row-wise decoding.
class FieldCursor {
public:
  FieldCursor(const uint8_t *bytes, uint64_t size, uint64_t first,
              unsigned width)
      : bytes(bytes), size(size), index(first), width(width) {}
  uint32_t next() { return readField(bytes, size, index++, width); }

private:
  const uint8_t *bytes;
  uint64_t size;
  uint64_t index;
  unsigned width;
};

/// A section of floats stored as f32, f16 or bf16 bit patterns.
struct FloatSection {
  const uint8_t *bytes = nullptr;
  ElementType type = ElementType::F32;

  float at(uint64_t i) const {
    switch (type) {
    case ElementType::F32: {
      float value;
      std::memcpy(&value, bytes + 4 * i, sizeof value);
      return value;
    }
    case ElementType::F16:
      return halfToFloat(loadU16(bytes + 2 * i));
    case ElementType::BF16:
      return bfloatToFloat(loadU16(bytes + 2 * i));
    }
    return 0.0f;
  }
  /// out[0, count) = elements [first, first + count).
  void read(uint64_t first, size_t count, float *out) const {
    if (count == 0)
      return;
    if (type == ElementType::F32) {
      std::memcpy(out, bytes + 4 * first, count * sizeof(float));
      return;
    }
    for (size_t i = 0; i < count; ++i)
      out[i] = at(first + i);
  }
};

/// Bits of one float of `type` (the ledger's cb).
unsigned floatBits(ElementType type);

/// Checked access to one tensor's parameters and sections.
class TensorReader {
public:
  TensorReader(const Container &container, const TensorInfo &tensor)
      : container(container), tensor(tensor) {}

  const TensorInfo &info() const { return tensor; }

  /// RuntimeError(Format): "<file>: tensor '<name>' (<scheme>): <why>".
  [[noreturn]] void fail(const std::string &why) const;

  bool hasParam(const std::string &key) const;
  /// The parameter, which must exist and lie in [lo, hi].
  int64_t param(const std::string &key, int64_t lo, int64_t hi) const;

  bool hasSection(const std::string &name) const;
  const SectionInfo &section(const std::string &name) const;
  /// The bytes of `name` (CRC-32C checked) after checking that it holds
  /// `count` fields of `bitsEach` bits.
  const uint8_t *bytes(const std::string &name, unsigned bitsEach,
                       uint64_t count) const;
  /// A float section of `count` values in the tensor's dtype.
  FloatSection floats(const std::string &name, uint64_t count) const;
  /// A float section of `count` values stored as fp16.
  FloatSection halves(const std::string &name, uint64_t count) const;
  /// The fp16 bit patterns of a 16-bit section, as an array (sections of
  /// a mapped file are 64-byte aligned; anything else is refused).
  const uint16_t *halfArray(const std::string &name, uint64_t count) const;

private:
  const Container &container;
  const TensorInfo &tensor;
};

} // namespace qet::runtime

#endif // QET_RUNTIME_LIB_SECTIONREADER_H
