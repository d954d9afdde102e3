//===- QetDialect.h - The qet dialect ---------------------------*- C++ -*-===//
#ifndef QET_DIALECT_QET_IR_QETDIALECT_H
#define QET_DIALECT_QET_IR_QETDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Dialect.h"

#include "qet/Dialect/Qet/IR/QetOpsDialect.h.inc"

#endif // QET_DIALECT_QET_IR_QETDIALECT_H
