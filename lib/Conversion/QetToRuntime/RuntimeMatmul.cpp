//===- RuntimeMatmul.cpp - qet.qmatmul through the runtime's kernels ------===//
//
// y = x W^T with x widened to f32 and passed as a read-only buffer, y a new
// buffer filled by the runtime:
//   external weight (any scheme): qetMatmul(file, tensor, x, y), the kernels
//     of the tensor bound from its container;
//   RTN weight in the module: qetRtnMatmul(codes, scales, zeros, rows, cols,
//     bits, group, x, y) on its component bytes (zeros empty: symmetric).
// Other schemes need their weight in a container (qet-externalize); QJL
// keys held by the module are RuntimeQjl.cpp's (the runtime's scores).
//
//===----------------------------------------------------------------------===//

#include "RuntimeSymbols.h"

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qet;

namespace {

LogicalResult lowerOne(QMatmulOp op, RuntimeSymbols &symbols) {
  PackedType type = op.getWeight().getType();
  auto external = op.getWeight().getDefiningOp<ExternalConstantOp>();
  auto rtn = dyn_cast<RtnAttr>(type.getScheme());
  if (!external && !rtn)
    return op.emitError() << "convert-qet-to-runtime: the runtime multiplies "
                          << type.getScheme()
                          << " weights from a container; run qet-externalize "
                             "first";
  if (!op.getInput().getType().hasStaticShape() ||
      !op.getType().hasStaticShape())
    return op.emitError() << "convert-qet-to-runtime: qet.qmatmul needs "
                             "static shapes";
  if (SymbolTable::getNearestSymbolTable(op) != op->getParentOfType<ModuleOp>())
    return op.emitError() << "convert-qet-to-runtime: products in nested "
                             "symbol tables are not supported";
  MLIRContext *ctx = op.getContext();
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type f32 = b.getF32Type();
  MemRefType bytes = symbols.bytesType(), matrix = symbols.matrixType();
  Value x = convertFloats(b, loc, op.getInput(), f32);
  RankedTensorType resultType = op.getType();
  auto yType = MemRefType::get(resultType.getShape(), f32);
  Value y = memref::AllocOp::create(b, loc, yType);
  SmallVector<Value> args;
  FailureOr<func::FuncOp> fn;
  if (external) {
    fn = symbols.function(
        "qetMatmul", FunctionType::get(ctx, {bytes, bytes, matrix, matrix}, {}));
    args = {symbols.string(b, loc, external.getFile()),
            symbols.string(b, loc, external.getTensor())};
  } else {
    Type i64 = b.getI64Type();
    fn = symbols.function(
        "qetRtnMatmul",
        FunctionType::get(ctx,
                          {bytes, bytes, bytes, i64, i64, i64, i64, matrix,
                           matrix},
                          {}));
    auto component = [&](StringRef name) {
      // rtn-sym has no zero points: an empty buffer stands for NULL.
      return componentBuffer(b, loc, op.getWeight(), name, bytes);
    };
    auto integer = [&](int64_t v) -> Value {
      return arith::ConstantIntOp::create(b, loc, i64, v);
    };
    args = {component("codes"),
            component("scales"),
            component("zero_points"),
            integer(type.getRows()),
            integer(type.getCols()),
            integer(rtn.getBits()),
            integer(static_cast<int64_t>(rtn.getGroup()))};
  }
  if (failed(fn))
    return failure();
  args.push_back(callBuffer(b, loc, x, matrix));
  args.push_back(memref::CastOp::create(b, loc, matrix, y));
  func::CallOp::create(b, loc, *fn, args);
  Value result = bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get(resultType.getShape(), f32), y,
      /*restrict=*/true, /*writable=*/true);
  op.getResult().replaceAllUsesWith(
      convertFloats(b, loc, result, resultType.getElementType()));
  op.erase();
  return success();
}

} // namespace

LogicalResult mlir::qet::lowerQMatmuls(ModuleOp module,
                                       RuntimeSymbols &symbols) {
  SmallVector<QMatmulOp> products;
  module.walk([&](QMatmulOp op) { products.push_back(op); });
  for (QMatmulOp op : products)
    if (failed(lowerOne(op, symbols)))
      return failure();
  return success();
}
