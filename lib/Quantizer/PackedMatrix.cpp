//===- PackedMatrix.cpp - The stored form of a quantized matrix -----------===//

#include "qet/Quantizer/PackedMatrix.h"

#include "qet/Quantizer/BitPacking.h"
#include "qet/Quantizer/Error.h"
#include "qet/Quantizer/Float16.h"

#include <cstring>

namespace qet::quant {

void PackedMatrix::addCodes(const std::string &component,
                            const std::vector<uint32_t> &codes,
                            unsigned bitsEach) {
  streams.push_back({component, bitsEach, codes.size(), packBits(codes, bitsEach)});
}

void PackedMatrix::addFloats(const std::string &component,
                             const std::vector<float> &values, DType type) {
  std::vector<uint32_t> raw(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    switch (type) {
    case DType::F32:
      std::memcpy(&raw[i], &values[i], sizeof(float));
      break;
    case DType::F16:
      raw[i] = floatToHalfBits(values[i]);
      break;
    case DType::BF16:
      raw[i] = floatToBFloatBits(values[i]);
      break;
    }
  }
  addCodes(component, raw, bitWidth(type));
}

PackedMatrix PackedMatrix::emptyFor(const std::string &scheme,
                                    const Matrix &input) {
  PackedMatrix packed;
  packed.scheme = scheme;
  packed.rows = input.rows;
  packed.cols = input.cols;
  packed.storage = input.storage;
  return packed;
}

int64_t PackedMatrix::param(const std::string &name) const {
  auto it = params.find(name);
  if (it == params.end())
    throw FormatError("packed '" + scheme + "' matrix has no parameter '" +
                      name + "'");
  return it->second;
}

const PackedStream &PackedMatrix::stream(const std::string &component) const {
  for (const PackedStream &s : streams)
    if (s.component == component)
      return s;
  throw FormatError("packed '" + scheme + "' matrix has no '" + component +
                    "' stream");
}

std::vector<uint32_t> PackedMatrix::codes(const std::string &component) const {
  const PackedStream &s = stream(component);
  return unpackBits(s.bytes, s.count, s.bitsEach);
}

std::vector<float> PackedMatrix::floats(const std::string &component,
                                        DType type) const {
  const PackedStream &s = stream(component);
  if (s.bitsEach != bitWidth(type))
    throw FormatError("stream '" + component + "' holds " +
                      std::to_string(s.bitsEach) + "-bit fields, not " +
                      dtypeName(type));
  std::vector<uint32_t> raw = unpackBits(s.bytes, s.count, s.bitsEach);
  std::vector<float> values(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    switch (type) {
    case DType::F32:
      std::memcpy(&values[i], &raw[i], sizeof(float));
      break;
    case DType::F16:
      values[i] = halfBitsToFloat(static_cast<uint16_t>(raw[i]));
      break;
    case DType::BF16:
      values[i] = bfloatBitsToFloat(static_cast<uint16_t>(raw[i]));
      break;
    }
  }
  return values;
}

uint64_t PackedMatrix::payloadBits() const {
  uint64_t total = 0;
  for (const PackedStream &s : streams)
    total += s.bits();
  return total;
}

double PackedMatrix::bitsPerElement() const {
  uint64_t elements = rows * cols;
  return elements ? static_cast<double>(payloadBits()) / elements : 0.0;
}

Ledger PackedMatrix::ledger() const {
  Ledger ledger;
  for (const PackedStream &s : streams)
    ledger.add(s.component, s.count, s.bitsEach);
  return ledger;
}

} // namespace qet::quant
