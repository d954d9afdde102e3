//===- PackedMatrix.h - The stored form of a quantized matrix --*- C++ -*-===//
//
// A quantized matrix is a list of named bit streams, one per storage
// component, each holding `count` fields of `bitsEach` bits packed LSB-first.
// Decoders read only these streams, so the payload is exactly what a scheme
// stores, and its bit count must equal the scheme's ledger formula.
//
//===----------------------------------------------------------------------===//
#ifndef QET_QUANTIZER_PACKEDMATRIX_H
#define QET_QUANTIZER_PACKEDMATRIX_H

#include "qet/Quantizer/Ledger.h"
#include "qet/Quantizer/Matrix.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qet::quant {

struct PackedStream {
  std::string component;
  unsigned bitsEach = 0;
  uint64_t count = 0;
  std::vector<uint8_t> bytes; // packedBytes(count, bitsEach)

  uint64_t bits() const { return count * bitsEach; }
};

struct PackedMatrix {
  std::string scheme;
  uint64_t rows = 0, cols = 0;
  DType storage = DType::F32;
  /// Hyper-parameters a decoder needs besides the streams (bits, group, M,
  /// Ks, ...). Like the shape, they are not charged to the ledger (qem.md §2).
  std::map<std::string, int64_t> params;
  std::vector<PackedStream> streams;

  /// A packed form of `input` under `scheme` with no streams yet.
  static PackedMatrix emptyFor(const std::string &scheme, const Matrix &input);

  /// The value of a hyper-parameter; FormatError when absent.
  int64_t param(const std::string &name) const;

  /// Appends unsigned codes of `bitsEach` bits.
  void addCodes(const std::string &component, const std::vector<uint32_t> &codes,
                unsigned bitsEach);
  /// Appends float values stored in `type` (raw fp32/fp16/bf16 bits).
  void addFloats(const std::string &component, const std::vector<float> &values,
                 DType type);

  const PackedStream &stream(const std::string &component) const;
  std::vector<uint32_t> codes(const std::string &component) const;
  std::vector<float> floats(const std::string &component, DType type) const;

  /// Sum of stream bits: what the payload really holds.
  uint64_t payloadBits() const;
  double bitsPerElement() const;
  /// The ledger of the streams as written.
  Ledger ledger() const;
};

} // namespace qet::quant

#endif // QET_QUANTIZER_PACKEDMATRIX_H
