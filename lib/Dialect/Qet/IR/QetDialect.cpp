//===- QetDialect.cpp - The qet dialect -----------------------------------===//

#include "qet/Dialect/Qet/IR/QetDialect.h"

#include "qet/Dialect/Qet/IR/QetAttrs.h"
#include "qet/Dialect/Qet/IR/QetOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qet;

#include "qet/Dialect/Qet/IR/QetOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qet/Dialect/Qet/IR/QetAttrs.cpp.inc"

void QetDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qet/Dialect/Qet/IR/QetAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "qet/Dialect/Qet/IR/QetOps.cpp.inc"
      >();
}
