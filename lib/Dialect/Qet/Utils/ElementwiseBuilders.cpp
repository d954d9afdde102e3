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

Value mlir::qet::generate(
    OpBuilder &b, Location loc, RankedTensorType type,
    function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(),
                                       type.getElementType());
  unsigned rank = type.getRank();
  return linalg::GenericOp::create(
             b, loc, type, ValueRange{}, ValueRange{init},
             SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank)},
             SmallVector<utils::IteratorType>(rank,
                                              utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange) {
               SmallVector<Value> idx;
               for (unsigned d = 0; d < rank; ++d)
                 idx.push_back(linalg::IndexOp::create(nb, nl, d));
               linalg::YieldOp::create(nb, nl, fn(nb, nl, idx));
             })
      .getResult(0);
}

Value mlir::qet::multiplyTransposed(OpBuilder &b, Location loc, Value x,
                                    Value w) {
  Type f32 = b.getF32Type();
  auto resultType = RankedTensorType::get(
      {cast<RankedTensorType>(x.getType()).getDimSize(0),
       cast<RankedTensorType>(w.getType()).getDimSize(0)},
      f32);
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(), f32);
  init = linalg::FillOp::create(b, loc, zero, init).getResult(0);
  MLIRContext *ctx = b.getContext();
  AffineExpr i, j, k;
  bindDims(ctx, i, j, k);
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {i, k}, ctx),
                                 AffineMap::get(3, 0, {j, k}, ctx),
                                 AffineMap::get(3, 0, {i, j}, ctx)};
  SmallVector<utils::IteratorType> iterators = {
      utils::IteratorType::parallel, utils::IteratorType::parallel,
      utils::IteratorType::reduction};
  return linalg::GenericOp::create(
             b, loc, resultType, ValueRange{x, w}, ValueRange{init}, maps,
             iterators,
             [](OpBuilder &nb, Location nl, ValueRange args) {
               Value weight = args[1];
               if (!weight.getType().isF32())
                 weight =
                     arith::ExtFOp::create(nb, nl, nb.getF32Type(), weight);
               Value product = arith::MulFOp::create(nb, nl, args[0], weight);
               Value sum = arith::AddFOp::create(nb, nl, args[2], product);
               linalg::YieldOp::create(nb, nl, sum);
             })
      .getResult(0);
}
