//===- QetToRuntime.cpp - qet ops to runtime library calls ----------------===//

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
    // Products first: the RTN call reads a weight that is not a constant
    // through qet.storage, which may be an external one.
    if (failed(lowerQMatmuls(module, symbols)) ||
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
