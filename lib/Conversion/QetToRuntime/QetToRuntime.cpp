//===- QetToRuntime.cpp - qet ops to runtime library calls ----------------===//
//
// convert-qet-to-runtime: QJL attention and scores (RuntimeQjl.cpp), then
// qet.qmatmul (RuntimeMatmul.cpp), then reads of externalized components
// (ExternalStorage.cpp); packed constants left unused are erased.
//
//===----------------------------------------------------------------------===//

#include "qet/Conversion/QetToRuntime/QetToRuntime.h"

#include "RuntimeSymbols.h"

#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::qet {
#define GEN_PASS_DEF_CONVERTQETTORUNTIME
#include "qet/Conversion/Passes.h.inc"
} // namespace mlir::qet

using namespace mlir;
using namespace mlir::qet;

namespace {

struct ConvertQetToRuntimePass
    : qet::impl::ConvertQetToRuntimeBase<ConvertQetToRuntimePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    RuntimeSymbols symbols(module);
    // Products first: the RTN and held QJL calls read keys or weights that
    // are not constants through qet.storage, which may be external. QJL
    // first: its held keys are not for qetMatmul.
    if (failed(lowerQjl(module, symbols)) ||
        failed(lowerQMatmuls(module, symbols)) ||
        failed(lowerExternalStorage(module, symbols)))
      return signalPassFailure();
    // Packed constants left without uses (their products now read the
    // bytes directly, or the container).
    module.walk([](Operation *op) {
      if (isa<ExternalConstantOp, ConstantOp>(op) && op->use_empty())
        op->erase();
    });
  }
};

} // namespace
