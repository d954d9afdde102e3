//===- VerifyLowered.cpp - No qet op or packed type before bufferization --===//

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Transforms/Passes.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::qet {
#define GEN_PASS_DEF_QETVERIFYLOWERED
#include "qet/Dialect/Qet/Transforms/Passes.h.inc"
} // namespace mlir::qet

using namespace mlir;
using namespace mlir::qet;

namespace {

bool isPacked(Type type) { return isa<PackedType>(type); }

struct VerifyLoweredPass
    : public mlir::qet::impl::QetVerifyLoweredBase<VerifyLoweredPass> {
  void runOnOperation() override {
    bool survivors = false;
    getOperation()->walk([&](Operation *op) {
      if (isa<QetDialect>(op->getDialect())) {
        op->emitError() << "qet-verify-lowered: '" << op->getName()
                        << "' is still here; decompose and lower every qet "
                           "op before bufferization";
        survivors = true;
        return;
      }
      if (auto function = dyn_cast<FunctionOpInterface>(op)) {
        if (llvm::any_of(function.getArgumentTypes(), isPacked) ||
            llvm::any_of(function.getResultTypes(), isPacked)) {
          op->emitError() << "qet-verify-lowered: the signature of '"
                          << function.getName()
                          << "' still has a !qet.packed type";
          survivors = true;
        }
        return;
      }
      if (llvm::any_of(op->getResultTypes(), isPacked) ||
          llvm::any_of(op->getOperandTypes(), isPacked)) {
        op->emitError() << "qet-verify-lowered: '" << op->getName()
                        << "' still uses a !qet.packed value";
        survivors = true;
      }
    });
    if (survivors)
      signalPassFailure();
  }
};

} // namespace
