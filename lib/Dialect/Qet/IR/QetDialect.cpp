//===- QetDialect.cpp - The qet dialect -----------------------------------===//

#include "qet/Dialect/Qet/IR/QetDialect.h"

#include "qet/Dialect/Qet/IR/QetAttrs.h"
#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/IR/QetTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectImplementation.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qet;

#include "qet/Dialect/Qet/IR/QetOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qet/Dialect/Qet/IR/QetAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "qet/Dialect/Qet/IR/QetOpsTypes.cpp.inc"

#include "qet/Dialect/Qet/IR/QetAttrInterfaces.cpp.inc"

void QetDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qet/Dialect/Qet/IR/QetAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "qet/Dialect/Qet/IR/QetOpsTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "qet/Dialect/Qet/IR/QetOps.cpp.inc"
      >();
}

/// Folded qet.storage bytes become arith.constant.
Operation *QetDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = dyn_cast<TypedAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, elements);
}
