//===- QetToRuntime.h - qet ops to runtime library calls --------*- C++ -*-===//
#ifndef QET_CONVERSION_QETTORUNTIME_QETTORUNTIME_H
#define QET_CONVERSION_QETTORUNTIME_QETTORUNTIME_H

#include "mlir/Pass/Pass.h"

namespace mlir::qet {

#define GEN_PASS_DECL_CONVERTQETTORUNTIME
#include "qet/Conversion/Passes.h.inc"

} // namespace mlir::qet

#endif // QET_CONVERSION_QETTORUNTIME_QETTORUNTIME_H
