//===- ExternalStorage.cpp - External constants read through the runtime -===//
//
// A qet.storage of a qet.external_constant becomes, once per function at its
// entry,
//   func.call @qetLoadSection(%file, %tensor, %section, %buffer, %loaded)
//   %t = bufferization.to_tensor %buffer restrict
// where %buffer is a private, uninitialized memref.global of the component's
// size (no bytes in object files) that the runtime fills from the container
// while the one-byte global %loaded is 0, and the strings are private
// constant globals. A buffer owned by a global, unlike a memref a call
// returns, is never freed by buffer deallocation.
//
//===----------------------------------------------------------------------===//

#include "RuntimeSymbols.h"

#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include <map>

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
      "qetLoadSection", FunctionType::get(module.getContext(),
                                          {bytes, bytes, bytes, bytes, bytes},
                                          {}));
  if (failed(load))
    return failure();
  // One load and one tensor per function and buffer, at the function's
  // entry: `restrict` promises a single to_tensor of the buffer there.
  std::map<std::pair<Operation *, Operation *>, Value> loaded;
  for (StorageOp op : reads) {
    auto external = op.getPacked().getDefiningOp<ExternalConstantOp>();
    if (SymbolTable::getNearestSymbolTable(op) != module.getOperation())
      return op.emitError() << "convert-qet-to-runtime: external constants in "
                               "nested symbol tables are not supported";
    RankedTensorType resultType = op.getResult().getType();
    Location loc = op.getLoc();
    auto [global, flag] =
        symbols.buffer(loc, external.getFile(), external.getTensor(),
                       op.getComponent(), resultType.getDimSize(0));
    auto function = op->getParentOfType<FunctionOpInterface>();
    Value &tensor = loaded[{function, global}];
    if (!tensor) {
      OpBuilder b(op);
      if (function)
        b.setInsertionPointToStart(&function.getFunctionBody().front());
      Value buffer = memref::GetGlobalOp::create(b, loc, global.getType(),
                                                 global.getSymName());
      Value done = memref::GetGlobalOp::create(b, loc, flag.getType(),
                                               flag.getSymName());
      SmallVector<Value> args = {
          symbols.string(b, loc, external.getFile()),
          symbols.string(b, loc, external.getTensor()),
          symbols.string(b, loc, op.getComponent()),
          memref::CastOp::create(b, loc, bytes, buffer),
          memref::CastOp::create(b, loc, bytes, done)};
      func::CallOp::create(b, loc, *load, args);
      tensor = bufferization::ToTensorOp::create(
          b, loc, resultType, buffer, /*restrict=*/true, /*writable=*/false);
    }
    op.getResult().replaceAllUsesWith(tensor);
    op.erase();
  }
  return success();
}
