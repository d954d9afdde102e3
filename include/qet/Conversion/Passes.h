//===- Passes.h - Conversion passes of qet ----------------------*- C++ -*-===//
#ifndef QET_CONVERSION_PASSES_H
#define QET_CONVERSION_PASSES_H

#include "qet/Conversion/QetToLinalg/QetToLinalg.h"
#include "qet/Conversion/QetToRuntime/QetToRuntime.h"
#include "qet/Conversion/QetToScf/QetToScf.h"

namespace mlir::qet {

#define GEN_PASS_REGISTRATION
#include "qet/Conversion/Passes.h.inc"

} // namespace mlir::qet

#endif // QET_CONVERSION_PASSES_H
