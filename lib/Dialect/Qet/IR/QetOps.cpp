//===- QetOps.cpp - Operations of the qet dialect -------------------------===//

#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::qet;

/// Prints a shape as [8, ?, 128].
static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleaveComma(shape, os, [&](int64_t dim) {
    if (ShapedType::isDynamic(dim))
      os << "?";
    else
      os << dim;
  });
  os << "]";
  return text;
}

static bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Checks the tensors of a grouped encoding against each other and the
/// scheme. `data` is the float tensor (encode input or decode result).
static LogicalResult verifyGroupedTensors(Operation *op, RtnAttr scheme,
                                          StringRef dataName,
                                          RankedTensorType data,
                                          RankedTensorType codes,
                                          RankedTensorType scales,
                                          RankedTensorType zeroPoints) {
  ArrayRef<int64_t> shape = data.getShape();
  if (shape.empty())
    return op->emitOpError() << dataName << " must have rank >= 1 (groups run "
                             << "along the last dimension), got a 0-d tensor";

  if (codes.getRank() != data.getRank() ||
      !llvm::all_of(llvm::zip(codes.getShape(), shape), [](auto dims) {
        return dimsAgree(std::get<0>(dims), std::get<1>(dims));
      }))
    return op->emitOpError()
           << "codes shape " << formatShape(codes.getShape())
           << " must match " << dataName << " shape " << formatShape(shape);

  unsigned codeWidth = codes.getElementType().getIntOrFloatBitWidth();
  if (codeWidth < scheme.getBits())
    return op->emitOpError()
           << "codes element type " << codes.getElementType()
           << " is narrower than the scheme's " << scheme.getBits() << " bits";

  SmallVector<int64_t> expected(shape);
  if (!ShapedType::isDynamic(expected.back()))
    expected.back() = scheme.getNumGroups(expected.back());
  if (scales.getRank() != data.getRank() ||
      !llvm::all_of(llvm::zip(scales.getShape(), expected), [](auto dims) {
        return dimsAgree(std::get<0>(dims), std::get<1>(dims));
      }))
    return op->emitOpError()
           << "scales shape " << formatShape(scales.getShape()) << " must be "
           << formatShape(expected) << ": " << dataName << " shape "
           << formatShape(shape) << " with groups of " << scheme.getGroup()
           << " along the last dimension";

  if (scheme.getSymmetric() && zeroPoints)
    return op->emitOpError()
           << "a symmetric scheme has no zero_points, but one is given";
  if (!scheme.getSymmetric() && !zeroPoints)
    return op->emitOpError()
           << "an asymmetric scheme needs zero_points with the type of scales ("
           << scales << ")";
  if (zeroPoints && zeroPoints != scales)
    return op->emitOpError() << "zero_points type " << zeroPoints
                             << " must match scales type " << scales;
  return success();
}

static RankedTensorType optionalTensorType(Value value) {
  return value ? cast<RankedTensorType>(value.getType()) : RankedTensorType();
}

LogicalResult GroupEncodeOp::verify() {
  return verifyGroupedTensors(*this, getScheme(), "input", getInput().getType(),
                              getCodes().getType(), getScales().getType(),
                              optionalTensorType(getZeroPoints()));
}

LogicalResult GroupDecodeOp::verify() {
  return verifyGroupedTensors(*this, getScheme(), "result",
                              getResult().getType(), getCodes().getType(),
                              getScales().getType(),
                              optionalTensorType(getZeroPoints()));
}

#define GET_OP_CLASSES
#include "qet/Dialect/Qet/IR/QetOps.cpp.inc"
