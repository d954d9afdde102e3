//===- QetInterfaces.h - Interfaces of the qet dialect ----------*- C++ -*-===//
#ifndef QET_DIALECT_QET_IR_QETINTERFACES_H
#define QET_DIALECT_QET_IR_QETINTERFACES_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <map>
#include <string>

namespace mlir::qet {

/// One stored bit stream of a packed matrix: `count` fields of `bitsEach`
/// bits, LSB-first (the quantizer library's PackedStream).
struct StorageComponent {
  std::string name;
  unsigned bitsEach = 0;
  uint64_t count = 0;

  uint64_t bits() const { return count * bitsEach; }
  uint64_t bytes() const { return (bits() + 7) / 8; }
};

} // namespace mlir::qet

#include "qet/Dialect/Qet/IR/QetAttrInterfaces.h.inc"

#endif // QET_DIALECT_QET_IR_QETINTERFACES_H
