//===- QetAttrs.h - Scheme attributes of the qet dialect --------*- C++ -*-===//
#ifndef QET_DIALECT_QET_IR_QETATTRS_H
#define QET_DIALECT_QET_IR_QETATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "qet/Dialect/Qet/IR/QetInterfaces.h"

#define GET_ATTRDEF_CLASSES
#include "qet/Dialect/Qet/IR/QetAttrs.h.inc"

namespace mlir::qet {

/// Bits of one stored float of a matrix of `elementType` (32 or 16).
unsigned floatStorageBits(Type elementType);

} // namespace mlir::qet

#endif // QET_DIALECT_QET_IR_QETATTRS_H
