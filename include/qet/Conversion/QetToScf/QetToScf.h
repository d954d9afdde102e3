//===- QetToScf.h - qet fused ops to loops ----------------------*- C++ -*-===//
#ifndef QET_CONVERSION_QETTOSCF_QETTOSCF_H
#define QET_CONVERSION_QETTOSCF_QETTOSCF_H

#include "mlir/Pass/Pass.h"

namespace mlir::qet {

/// How convert-qet-to-scf's 4-bit RTN kernel reads the input.
enum class ActivationPrecision { F32, I16, I8 };

#define GEN_PASS_DECL_CONVERTQETTOSCF
#include "qet/Conversion/Passes.h.inc"

} // namespace mlir::qet

#endif // QET_CONVERSION_QETTOSCF_QETTOSCF_H
