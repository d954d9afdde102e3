//===- SectionReader.cpp - Typed, checked access to tensor sections -------===//

#include "SectionReader.h"

namespace qet::runtime {

unsigned floatBits(ElementType type) {
  return type == ElementType::F32 ? 32 : 16;
}

void TensorReader::fail(const std::string &why) const {
  throw RuntimeError(ErrorCode::Format, container.path() + ": tensor '" +
                                            tensor.name + "' (" +
                                            tensor.scheme + "): " + why);
}

bool TensorReader::hasParam(const std::string &key) const {
  for (const auto &[name, value] : tensor.params)
    if (name == key)
      return true;
  return false;
}

int64_t TensorReader::param(const std::string &key, int64_t lo,
                            int64_t hi) const {
  for (const auto &[name, value] : tensor.params) {
    if (name != key)
      continue;
    if (value < lo || value > hi)
      fail("parameter '" + key + "' = " + std::to_string(value) +
           " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) +
           "]");
    return value;
  }
  fail("parameter '" + key + "' is missing");
}

bool TensorReader::hasSection(const std::string &name) const {
  for (const SectionInfo &s : tensor.sections)
    if (s.name == name)
      return true;
  return false;
}

const SectionInfo &TensorReader::section(const std::string &name) const {
  for (const SectionInfo &s : tensor.sections)
    if (s.name == name)
      return s;
  fail("section '" + name + "' is missing");
}

const uint8_t *TensorReader::bytes(const std::string &name, unsigned bitsEach,
                                   uint64_t count) const {
  const SectionInfo &s = section(name);
  if (s.bitsEach != bitsEach || s.count != count)
    fail("section '" + name + "' holds " + std::to_string(s.count) +
         " fields of " + std::to_string(s.bitsEach) + " bits, expected " +
         std::to_string(count) + " of " + std::to_string(bitsEach));
  return container.sectionBytes(tensor, s);
}

FloatSection TensorReader::floats(const std::string &name,
                                  uint64_t count) const {
  return {bytes(name, floatBits(tensor.dtype), count), tensor.dtype};
}

FloatSection TensorReader::halves(const std::string &name,
                                  uint64_t count) const {
  return {bytes(name, 16, count), ElementType::F16};
}

const uint16_t *TensorReader::halfArray(const std::string &name,
                                        uint64_t count) const {
  const uint8_t *p = bytes(name, 16, count);
  if (reinterpret_cast<uintptr_t>(p) % alignof(uint16_t))
    fail("section '" + name + "' is not 2-byte aligned in memory");
  return reinterpret_cast<const uint16_t *>(p);
}

} // namespace qet::runtime
