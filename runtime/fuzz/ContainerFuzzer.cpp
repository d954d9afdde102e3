//===- ContainerFuzzer.cpp - libFuzzer target for the .qpk reader ---------===//
//
// Feeds arbitrary bytes to the container reader. Half of the inputs get their
// header and table checksums recomputed first, so the fuzzer reaches the
// table parser and bounds checks instead of stopping at the checksums. Every
// outcome must be a ContainerError or success: no crash, leak, overflow or
// huge allocation (run with ASan/UBSan, -rss_limit_mb and -malloc_limit_mb).
//
//===----------------------------------------------------------------------===//

#include "qet/runtime/Container.h"
#include "qet/runtime/Crc32c.h"

#include <cstring>
#include <vector>

using namespace qet::runtime;

static void reseal(std::vector<uint8_t> &bytes) {
  uint64_t tableSize;
  std::memcpy(&tableSize, bytes.data() + 32, 8);
  if (tableSize <= bytes.size() - 64) {
    uint32_t crc = crc32c(bytes.data() + 64, tableSize);
    std::memcpy(bytes.data() + 40, &crc, 4);
  }
  uint64_t fileSize = bytes.size();
  std::memcpy(bytes.data() + 16, &fileSize, 8);
  uint32_t crc = crc32c(bytes.data(), 60);
  std::memcpy(bytes.data() + 60, &crc, 4);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  if (size >= 64 && (data[0] & 1))
    reseal(bytes);
  try {
    Container c = Container::view(bytes.data(), bytes.size(), "fuzz-input");
    for (const TensorInfo &tensor : c.tensors())
      for (const SectionInfo &section : tensor.sections)
        (void)c.sectionBytes(tensor, section);
  } catch (const ContainerError &) {
  }
  return 0;
}
