//===- Crc32c.h - CRC-32C (Castagnoli) checksums ----------------*- C++ -*-===//
//
// The checksum of every .qpk header, table and section. Uses the SSE4.2
// crc32 instruction when the CPU has it, a table otherwise (same result).
//
//===----------------------------------------------------------------------===//
#ifndef QET_RUNTIME_CRC32C_H
#define QET_RUNTIME_CRC32C_H

#include <cstddef>
#include <cstdint>

namespace qet::runtime {

/// CRC-32C of `size` bytes, continuing from `crc` (0 to start).
/// crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const void *data, size_t size, uint32_t crc = 0);

} // namespace qet::runtime

#endif // QET_RUNTIME_CRC32C_H
