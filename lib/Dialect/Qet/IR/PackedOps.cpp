//===- PackedOps.cpp - Ops on packed matrices -----------------------------===//
//
// qet.constant, qet.external_constant, qet.storage, qet.quantize,
// qet.dequantize and the fused qet.qmatmul / qet.qjl_attention.
//
//===----------------------------------------------------------------------===//

#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::qet;

static const StorageComponent *findComponent(ArrayRef<StorageComponent> list,
                                             StringRef name) {
  for (const StorageComponent &component : list)
    if (component.name == name)
      return &component;
  return nullptr;
}

static std::string componentNames(ArrayRef<StorageComponent> list) {
  std::string text;
  for (const StorageComponent &component : list)
    text += (text.empty() ? "'" : ", '") + component.name + "'";
  return text;
}

//===----------------------------------------------------------------------===//
// qet.constant
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::verify() {
  PackedType type = getResult().getType();
  SmallVector<StorageComponent> components = type.getComponents();
  for (NamedAttribute entry : getComponents()) {
    const StorageComponent *expected =
        findComponent(components, entry.getName().getValue());
    if (!expected)
      return emitOpError() << "has component '" << entry.getName().getValue()
                           << "', which " << type.getScheme()
                           << " does not store (it stores "
                           << componentNames(components) << ")";
    auto bytes = dyn_cast<ElementsAttr>(entry.getValue());
    auto bytesType = bytes ? dyn_cast<RankedTensorType>(bytes.getType())
                           : RankedTensorType();
    if (!bytesType || bytesType.getRank() != 1 ||
        !bytesType.getElementType().isInteger(8))
      return emitOpError() << "component '" << expected->name
                           << "' must be a 1-D tensor of i8 bytes, got "
                           << entry.getValue();
    if (static_cast<uint64_t>(bytesType.getDimSize(0)) != expected->bytes())
      return emitOpError() << "component '" << expected->name << "' holds "
                           << bytesType.getDimSize(0) << " bytes, but "
                           << expected->count << " fields of "
                           << expected->bitsEach << " bits need "
                           << expected->bytes();
  }
  for (const StorageComponent &component : components)
    if (!getComponents().get(component.name))
      return emitOpError() << "is missing component '" << component.name
                           << "' of " << type.getScheme();
  return success();
}

ElementsAttr ConstantOp::getComponent(StringRef component) {
  return dyn_cast_or_null<ElementsAttr>(getComponents().get(component));
}

//===----------------------------------------------------------------------===//
// qet.external_constant
//===----------------------------------------------------------------------===//

LogicalResult ExternalConstantOp::verify() {
  if (getFile().empty())
    return emitOpError() << "needs a non-empty container file name";
  if (getTensor().empty())
    return emitOpError() << "needs a non-empty tensor name";
  // The runtime takes both as C strings.
  if (getFile().contains('\0') || getTensor().contains('\0'))
    return emitOpError() << "file and tensor names must not contain NUL";
  return success();
}

//===----------------------------------------------------------------------===//
// qet.storage
//===----------------------------------------------------------------------===//

LogicalResult StorageOp::verify() {
  PackedType type = getPacked().getType();
  SmallVector<StorageComponent> components = type.getComponents();
  const StorageComponent *component = findComponent(components, getComponent());
  if (!component)
    return emitOpError() << "component '" << getComponent() << "' is not one of "
                         << type.getScheme() << "'s: "
                         << componentNames(components);
  int64_t size = getResult().getType().getDimSize(0);
  if (static_cast<uint64_t>(size) != component->bytes())
    return emitOpError() << "result holds " << size << " bytes, but component '"
                         << component->name << "' has " << component->bytes();
  return success();
}

OpFoldResult StorageOp::fold(FoldAdaptor) {
  if (auto constant = getPacked().getDefiningOp<ConstantOp>())
    return constant.getComponent(getComponent());
  return {};
}

//===----------------------------------------------------------------------===//
// qet.quantize / qet.dequantize
//===----------------------------------------------------------------------===//

static LogicalResult verifyDenseMatchesPacked(Operation *op, StringRef what,
                                              RankedTensorType dense,
                                              PackedType packed) {
  if (dense.getShape() != packed.getShape())
    return op->emitOpError() << what << " shape " << dense.getDimSize(0) << "x"
                             << dense.getDimSize(1)
                             << " must equal the packed shape "
                             << packed.getRows() << "x" << packed.getCols();
  return success();
}

LogicalResult QuantizeOp::verify() {
  return verifyDenseMatchesPacked(*this, "input", getInput().getType(),
                                  getResult().getType());
}

LogicalResult DequantizeOp::verify() {
  return verifyDenseMatchesPacked(*this, "result", getResult().getType(),
                                  getPacked().getType());
}

//===----------------------------------------------------------------------===//
// qet.qmatmul / qet.qjl_attention
//===----------------------------------------------------------------------===//

LogicalResult QMatmulOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType result = getResult().getType();
  PackedType weight = getWeight().getType();
  if (!ShapedType::isDynamic(input.getDimSize(1)) &&
      input.getDimSize(1) != weight.getCols())
    return emitOpError() << "input has " << input.getDimSize(1)
                         << " columns, but the packed weight has "
                         << weight.getCols()
                         << " (the weight is N x K: rows are outputs)";
  if (!ShapedType::isDynamic(result.getDimSize(1)) &&
      result.getDimSize(1) != weight.getRows())
    return emitOpError() << "result has " << result.getDimSize(1)
                         << " columns, but the packed weight has "
                         << weight.getRows() << " rows";
  if (!ShapedType::isDynamic(result.getDimSize(0)) &&
      !ShapedType::isDynamic(input.getDimSize(0)) &&
      result.getDimSize(0) != input.getDimSize(0))
    return emitOpError() << "result has " << result.getDimSize(0)
                         << " rows, but the input has " << input.getDimSize(0);
  return success();
}

LogicalResult QjlAttentionOp::verify() {
  PackedType keys = getKeys().getType();
  if (!isa<QjlAttr>(keys.getScheme()))
    return emitOpError() << "keys must be packed with #qet.qjl, got "
                         << keys.getScheme();
  RankedTensorType queries = getQueries().getType();
  RankedTensorType values = getValues().getType();
  RankedTensorType result = getResult().getType();
  if (!ShapedType::isDynamic(queries.getDimSize(1)) &&
      queries.getDimSize(1) != keys.getCols())
    return emitOpError() << "queries have dimension " << queries.getDimSize(1)
                         << ", keys " << keys.getCols();
  if (!ShapedType::isDynamic(values.getDimSize(0)) &&
      values.getDimSize(0) != keys.getRows())
    return emitOpError() << "values have " << values.getDimSize(0)
                         << " tokens, keys " << keys.getRows();
  if (result.getShape()[0] != queries.getShape()[0] ||
      result.getShape()[1] != values.getShape()[1])
    return emitOpError() << "result must be queries x value dimension ("
                         << queries.getDimSize(0) << "x" << values.getDimSize(1)
                         << ")";
  return success();
}
