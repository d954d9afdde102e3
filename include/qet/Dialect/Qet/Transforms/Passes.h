//===- Passes.h - Transformation passes of the qet dialect ------*- C++ -*-===//
#ifndef QET_DIALECT_QET_TRANSFORMS_PASSES_H
#define QET_DIALECT_QET_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "qet/Dialect/Qet/IR/QetDialect.h"

namespace mlir::qet {

#define GEN_PASS_DECL
#include "qet/Dialect/Qet/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qet/Dialect/Qet/Transforms/Passes.h.inc"

} // namespace mlir::qet

#endif // QET_DIALECT_QET_TRANSFORMS_PASSES_H
