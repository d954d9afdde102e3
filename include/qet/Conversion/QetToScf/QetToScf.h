//===- QetToScf.h - qet fused ops to loops ----------------------*- C++ -*-===//
#ifndef QET_CONVERSION_QETTOSCF_QETTOSCF_H
#define QET_CONVERSION_QETTOSCF_QETTOSCF_H

#include "mlir/Pass/Pass.h"

namespace mlir::qet {

#define GEN_PASS_DECL_CONVERTQETTOSCF
#include "qet/Conversion/Passes.h.inc"

} // namespace mlir::qet

#endif // QET_CONVERSION_QETTOSCF_QETTOSCF_H
