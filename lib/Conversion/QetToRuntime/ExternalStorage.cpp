//===- ExternalStorage.cpp - External constants read through the runtime -===//
//
// A qet.storage of a qet.external_constant becomes
//   func.call @qetLoadSection(%file, %tensor, %section, %buffer)
//   %t = bufferization.to_tensor %buffer restrict
// where %buffer is a private, uninitialized memref.global of the component's
// size (zero-filled memory at load time, no bytes in object files) that the
// runtime fills from the container on the first call, and the strings are
// private constant globals. A buffer owned by a global, unlike a memref a
// call returns, is never freed by buffer deallocation.
//
//===----------------------------------------------------------------------===//

#include "RuntimeSymbols.h"

#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

using namespace mlir;
using namespace mlir::qet;

LogicalResult mlir::qet::lowerExternalStorage(ModuleOp module,
                                              RuntimeSymbols &symbols) {
  SmallVector<StorageOp> reads;
  module.walk([&](StorageOp op) {
    if (op.getPacked().getDefiningOp<ExternalConstantOp>())
      reads.push_back(op);
  });
  if (reads.empty())
    return success();
  MemRefType bytes = symbols.bytesType();
  FailureOr<func::FuncOp> load = symbols.function(
      "qetLoadSection",
      FunctionType::get(module.getContext(), {bytes, bytes, bytes, bytes}, {}));
  if (failed(load))
    return failure();
  for (StorageOp op : reads) {
    auto external = op.getPacked().getDefiningOp<ExternalConstantOp>();
    RankedTensorType resultType = op.getResult().getType();
    OpBuilder b(op);
    Location loc = op.getLoc();
    memref::GlobalOp global =
        symbols.buffer(loc, external.getFile(), external.getTensor(),
                       op.getComponent(), resultType.getDimSize(0));
    Value buffer = memref::GetGlobalOp::create(b, loc, global.getType(),
                                               global.getSymName());
    SmallVector<Value> args = {
        symbols.string(b, loc, external.getFile()),
        symbols.string(b, loc, external.getTensor()),
        symbols.string(b, loc, op.getComponent()),
        memref::CastOp::create(b, loc, bytes, buffer)};
    func::CallOp::create(b, loc, *load, args);
    auto toTensor = bufferization::ToTensorOp::create(
        b, loc, resultType, buffer, /*restrict=*/true, /*writable=*/false);
    op.getResult().replaceAllUsesWith(toTensor.getResult());
    op.erase();
  }
  return success();
}
