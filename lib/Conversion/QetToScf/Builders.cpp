//===- Builders.cpp - IR building shared by convert-qet-to-scf ------------===//

#include "QetToScfPatterns.h"

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qet;

Value mlir::qet::indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value mlir::qet::f32Constant(OpBuilder &b, Location loc, float v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

Value mlir::qet::contraction(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
    ArrayRef<AffineMap> maps, ValueRange inputs,
    ArrayRef<utils::IteratorType> iterators,
    function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  Type f32Type = b.getF32Type();
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value init = tensor::EmptyOp::create(b, loc, shape, f32Type);
  init = linalg::FillOp::create(b, loc, zero, init).getResult(0);
  auto type = RankedTensorType::get(shape, f32Type);
  return linalg::GenericOp::create(
             b, loc, type, inputs, ValueRange{init}, maps, iterators,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               SmallVector<Value> idx;
               for (unsigned d = 0; d < iterators.size(); ++d)
                 idx.push_back(linalg::IndexOp::create(nb, nl, d));
               linalg::YieldOp::create(nb, nl, body(nb, nl, args, idx));
             })
      .getResult(0);
}

Value mlir::qet::inputF32(OpBuilder &b, Location loc, Value x) {
  return convertFloats(b, loc, x, b.getF32Type());
}

Value mlir::qet::castResult(OpBuilder &b, Location loc, Value y,
                            RankedTensorType resultType) {
  return convertFloats(b, loc, y, resultType.getElementType());
}

StorageComponent mlir::qet::packedComponent(Value packed, StringRef component) {
  for (StorageComponent &c : cast<PackedType>(packed.getType()).getComponents())
    if (c.name == component)
      return std::move(c);
  llvm_unreachable("component not in the scheme's layout");
}

Value mlir::qet::packedBytes(OpBuilder &b, Location loc, Value packed,
                             StringRef component) {
  int64_t bytes =
      static_cast<int64_t>(packedComponent(packed, component).bytes());
  return StorageOp::create(
      b, loc, RankedTensorType::get({bytes}, b.getI8Type()), packed, component);
}

Value mlir::qet::packedFloats(OpBuilder &b, Location loc, Value packed,
                              StringRef component, ArrayRef<int64_t> shape,
                              Type stored) {
  auto type = cast<PackedType>(packed.getType());
  if (!stored)
    stored = type.getElementType();
  unsigned width = stored.getIntOrFloatBitWidth();
  Value raw = packedBytes(b, loc, packed, component);
  auto fieldsType = RankedTensorType::get(shape, b.getIntegerType(width));
  Value fields = BitUnpackOp::create(b, loc, fieldsType, raw,
                                     b.getI64IntegerAttr(width), UnitAttr());
  return mapElements(b, loc, fields, b.getF32Type(),
                     [&](OpBuilder &nb, Location nl, Value v) -> Value {
                       Value f = arith::BitcastOp::create(nb, nl, stored, v);
                       if (stored.isF32())
                         return f;
                       return arith::ExtFOp::create(nb, nl, nb.getF32Type(), f);
                     });
}
