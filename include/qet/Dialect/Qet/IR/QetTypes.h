//===- QetTypes.h - Types of the qet dialect --------------------*- C++ -*-===//
#ifndef QET_DIALECT_QET_IR_QETTYPES_H
#define QET_DIALECT_QET_IR_QETTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"
#include "qet/Dialect/Qet/IR/QetAttrs.h"

#define GET_TYPEDEF_CLASSES
#include "qet/Dialect/Qet/IR/QetOpsTypes.h.inc"

#endif // QET_DIALECT_QET_IR_QETTYPES_H
