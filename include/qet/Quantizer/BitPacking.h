//===- BitPacking.h - LSB-first packing of unsigned codes ------*- C++ -*-===//
//
// Code i of width w occupies bits [i*w, (i+1)*w) of the stream, least
// significant bit first; byte k holds stream bits [8k, 8k+8). Read as
// little-endian 32-bit words the same stream gives the word layout, so
// kernels can load either. Widths 0..32 are supported (0 stores nothing).
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_BITPACKING_H
#define QET_QUANTIZER_BITPACKING_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qet::quant {

/// Smallest code width that holds values 0..count-1: bit_width(count - 1),
/// which is 0 for count <= 1.
unsigned indexBits(uint64_t count);

/// Bytes holding `count` codes of `width` bits.
size_t packedBytes(size_t count, unsigned width);

/// Packs `count` codes into packedBytes(count, width) bytes at `out`. Throws
/// Error if a code does not fit in `width` bits.
void packBits(const uint32_t *codes, size_t count, unsigned width,
              uint8_t *out);
std::vector<uint8_t> packBits(const std::vector<uint32_t> &codes,
                              unsigned width);
/// Same stream as packBits, as little-endian 32-bit words (zero padded).
std::vector<uint32_t> packBitsToWords(const std::vector<uint32_t> &codes,
                                      unsigned width);

/// Unpacks `count` codes of `width` bits from `in` (packedBytes bytes).
void unpackBits(const uint8_t *in, size_t count, unsigned width,
                uint32_t *out);
std::vector<uint32_t> unpackBits(const std::vector<uint8_t> &bytes,
                                 size_t count, unsigned width);

/// Appends fields of varying width to one LSB-first stream.
class BitWriter {
public:
  void write(uint32_t value, unsigned width);
  uint64_t bitCount() const { return bits; }
  /// The stream so far, zero padded to a whole byte.
  const std::vector<uint8_t> &bytes() const { return buffer; }

private:
  std::vector<uint8_t> buffer;
  uint64_t bits = 0;
};

/// Reads fields back from a BitWriter stream. Throws FormatError past the end.
class BitReader {
public:
  BitReader(const uint8_t *data, size_t size) : data(data), size(size) {}
  uint32_t read(unsigned width);
  uint64_t position() const { return bits; }

private:
  const uint8_t *data;
  size_t size;
  uint64_t bits = 0;
};

} // namespace qet::quant

#endif // QET_QUANTIZER_BITPACKING_H
