//===- QetTypes.cpp - Types of the qet dialect ----------------------------===//

#include "qet/Dialect/Qet/IR/QetTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace mlir::qet;

// !qet.packed<ROWSxCOLSxTYPE, #scheme>
Type PackedType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> shape;
  Type elementType;
  Attribute scheme;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false) ||
      parser.parseType(elementType) || parser.parseComma() ||
      parser.parseAttribute(scheme) || parser.parseGreater())
    return {};
  auto schemeAttr = dyn_cast<SchemeAttrInterface>(scheme);
  if (!schemeAttr) {
    parser.emitError(loc) << "!qet.packed expects a scheme attribute "
                             "(#qet.rtn, #qet.pq, ...), got "
                          << scheme;
    return {};
  }
  return parser.getChecked<PackedType>(loc, parser.getContext(), ArrayRef<int64_t>(shape),
                                       elementType, schemeAttr);
}

void PackedType::print(AsmPrinter &printer) const {
  printer << "<";
  printer.printDimensionList(getShape());
  printer << "x" << getElementType() << ", " << getScheme() << ">";
}

LogicalResult PackedType::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ArrayRef<int64_t> shape, Type elementType,
                                 SchemeAttrInterface scheme) {
  if (shape.size() != 2)
    return emitError() << "!qet.packed holds a matrix: expected 2 dimensions, "
                          "got "
                       << shape.size();
  if (shape[0] < 1 || shape[1] < 1)
    return emitError() << "!qet.packed needs a non-empty static shape, got "
                       << shape[0] << "x" << shape[1];
  if (!elementType.isF32() && !elementType.isF16() && !elementType.isBF16())
    return emitError() << "!qet.packed element type must be f32, f16 or "
                          "bf16, got "
                       << elementType;
  if (!scheme)
    return emitError() << "!qet.packed needs a scheme attribute";
  return scheme.verifyMatrix(shape[0], shape[1], elementType, emitError);
}

SmallVector<StorageComponent> PackedType::getComponents() const {
  return getScheme().getComponents(getRows(), getCols(), getElementType());
}

uint64_t PackedType::getStorageBits() const {
  uint64_t bits = 0;
  for (const StorageComponent &component : getComponents())
    bits += component.bits();
  return bits;
}

RankedTensorType PackedType::getTensorType() const {
  return RankedTensorType::get(getShape(), getElementType());
}
