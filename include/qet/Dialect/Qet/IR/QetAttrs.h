//===- QetAttrs.h - Scheme attributes of the qet dialect --------*- C++ -*-===//
#ifndef QET_DIALECT_QET_IR_QETATTRS_H
#define QET_DIALECT_QET_IR_QETATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#define GET_ATTRDEF_CLASSES
#include "qet/Dialect/Qet/IR/QetAttrs.h.inc"

#endif // QET_DIALECT_QET_IR_QETATTRS_H
