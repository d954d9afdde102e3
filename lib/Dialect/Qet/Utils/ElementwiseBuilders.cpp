//===- ElementwiseBuilders.cpp - Element-wise linalg.generic helpers ------===//

#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

Value mlir::qet::mapElements(
    OpBuilder &b, Location loc, Value input, Type element,
    function_ref<Value(OpBuilder &, Location, Value)> fn) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto resultType = RankedTensorType::get(inputType.getShape(), element);
  Value init = tensor::EmptyOp::create(b, loc, inputType.getShape(), element);
  AffineMap id = b.getMultiDimIdentityMap(inputType.getRank());
  return linalg::GenericOp::create(
             b, loc, resultType, ValueRange{input}, ValueRange{init},
             SmallVector<AffineMap>{id, id},
             SmallVector<utils::IteratorType>(inputType.getRank(),
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, fn(nb, nl, args[0]));
             })
      .getResult(0);
}

Value mlir::qet::convertFloats(OpBuilder &b, Location loc, Value x,
                               Type element) {
  Type from = cast<RankedTensorType>(x.getType()).getElementType();
  if (from == element)
    return x;
  bool widen = from.getIntOrFloatBitWidth() < element.getIntOrFloatBitWidth();
  return mapElements(b, loc, x, element,
                     [&](OpBuilder &nb, Location nl, Value v) -> Value {
                       if (widen)
                         return arith::ExtFOp::create(nb, nl, element, v);
                       return arith::TruncFOp::create(nb, nl, element, v);
                     });
}
