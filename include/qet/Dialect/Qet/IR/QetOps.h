//===- QetOps.h - Operations of the qet dialect -----------------*- C++ -*-===//
#ifndef QET_DIALECT_QET_IR_QETOPS_H
#define QET_DIALECT_QET_IR_QETOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "qet/Dialect/Qet/IR/QetAttrs.h"
#include "qet/Dialect/Qet/IR/QetDialect.h"
#include "qet/Dialect/Qet/IR/QetTypes.h"

#define GET_OP_CLASSES
#include "qet/Dialect/Qet/IR/QetOps.h.inc"

#endif // QET_DIALECT_QET_IR_QETOPS_H
