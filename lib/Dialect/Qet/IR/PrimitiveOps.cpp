//===- PrimitiveOps.cpp - Decode primitives and QJL sketch ops ------------===//

#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::qet;

/// ceil(fields * bits / 8).
static int64_t streamBytes(int64_t fields, int64_t bits) {
  return (fields * bits + 7) / 8;
}

LogicalResult BitUnpackOp::verify() {
  RankedTensorType result = getResult().getType();
  if (!result.hasStaticShape())
    return emitOpError() << "result must have a static shape, got " << result;
  unsigned width = result.getElementType().getIntOrFloatBitWidth();
  if (width < getBits())
    return emitOpError() << "result element type " << result.getElementType()
                         << " is narrower than the " << getBits()
                         << "-bit fields";
  RankedTensorType bytes = getBytes().getType();
  if (bytes.getRank() == 2) {
    if (result.getRank() != 2 || result.getDimSize(0) != bytes.getDimSize(0))
      return emitOpError() << "2-D bytes (one stream per row) need a 2-D "
                              "result with the same "
                           << bytes.getDimSize(0) << " rows, got " << result;
    int64_t needed = streamBytes(result.getDimSize(1), getBits());
    int64_t rowBytes = bytes.getDimSize(1);
    if (!ShapedType::isDynamic(rowBytes) && rowBytes < needed)
      return emitOpError() << "rows of bytes hold " << rowBytes
                           << " bytes, but " << result.getDimSize(1)
                           << " fields of " << getBits() << " bits need "
                           << needed;
    return success();
  }
  int64_t expected = streamBytes(result.getNumElements(), getBits());
  int64_t given = bytes.getDimSize(0);
  if (!ShapedType::isDynamic(given) && given != expected)
    return emitOpError() << "bytes holds " << given << " bytes, but "
                         << result.getNumElements() << " fields of "
                         << getBits() << " bits need " << expected;
  return success();
}

LogicalResult VqDecodeOp::verify() {
  RankedTensorType codes = getCodes().getType();
  RankedTensorType codebooks = getCodebooks().getType();
  RankedTensorType result = getResult().getType();
  if (!codebooks.hasStaticShape())
    return emitOpError() << "codebooks must have a static shape, got "
                         << codebooks;
  int64_t books = codebooks.getDimSize(0), d = codebooks.getDimSize(2);
  int64_t m = codes.getDimSize(1);
  if (ShapedType::isDynamic(m))
    return emitOpError() << "codes must have a static number of columns";
  if (books != m && books != 1)
    return emitOpError() << "codes have " << m << " columns, but there are "
                         << books
                         << " codebooks (one per subspace, or one shared)";
  if (!ShapedType::isDynamic(result.getDimSize(1)) &&
      result.getDimSize(1) != m * d)
    return emitOpError() << "result rows have " << result.getDimSize(1)
                         << " elements, but " << m << " subspaces of " << d
                         << " make " << m * d;
  if (result.getDimSize(0) != codes.getDimSize(0))
    return emitOpError() << "result has " << result.getDimSize(0)
                         << " rows, but codes have " << codes.getDimSize(0);
  if (result.getElementType() != codebooks.getElementType())
    return emitOpError() << "result element type " << result.getElementType()
                         << " must match the codebooks' "
                         << codebooks.getElementType();
  return success();
}

/// Shared by swap_tree and unswap_tree: the matrix and its bit stream.
static LogicalResult verifySwapTree(Operation *op, RankedTensorType data,
                                    RankedTensorType result,
                                    RankedTensorType bits, int64_t depth) {
  if (!data.hasStaticShape())
    return op->emitOpError() << "needs a static shape, got " << data;
  if (data != result)
    return op->emitOpError() << "result type " << result
                             << " must equal the input type " << data;
  int64_t rows = data.getDimSize(0), cols = data.getDimSize(1);
  if (depth > 0 && cols % (int64_t{1} << depth))
    return op->emitOpError() << "depth " << depth
                             << " needs a row length divisible by 2^" << depth
                             << ", got " << cols;
  int64_t expected = streamBytes(rows * depth * (cols / 2), 1);
  if (!ShapedType::isDynamic(bits.getDimSize(0)) &&
      bits.getDimSize(0) != expected)
    return op->emitOpError() << "bits holds " << bits.getDimSize(0)
                             << " bytes, but " << rows << " rows x depth "
                             << depth << " x " << cols / 2 << " pairs need "
                             << expected;
  return success();
}

LogicalResult SwapTreeOp::verify() {
  return verifySwapTree(*this, getInput().getType(), getResult().getType(),
                        getBits().getType(), getDepth());
}

LogicalResult UnswapTreeOp::verify() {
  return verifySwapTree(*this, getInput().getType(), getResult().getType(),
                        getBits().getType(), getDepth());
}

OpFoldResult UnswapTreeOp::fold(FoldAdaptor) {
  if (getDepth() == 0)
    return getInput();
  return {};
}

LogicalResult ResidualSumOp::verify() {
  if (getStages().empty())
    return emitOpError() << "needs at least one stage";
  return success();
}

OpFoldResult ResidualSumOp::fold(FoldAdaptor) {
  if (getStages().size() == 1)
    return getStages().front();
  return {};
}

LogicalResult QjlSketchOp::verify() {
  QjlAttr scheme = getScheme();
  if (scheme.getOutliers() != 0)
    return emitOpError() << "sketches keys without outlier channels; the "
                            "scheme has outliers = "
                         << scheme.getOutliers();
  RankedTensorType keys = getKeys().getType();
  RankedTensorType jl = getJl().getType();
  if (jl.getDimSize(0) != scheme.getSketch())
    return emitOpError() << "jl has " << jl.getDimSize(0)
                         << " rows, but the scheme's sketch is "
                         << scheme.getSketch();
  if (jl.getDimSize(1) != keys.getDimSize(1))
    return emitOpError() << "jl has " << jl.getDimSize(1)
                         << " columns, but keys have dimension "
                         << keys.getDimSize(1);
  RankedTensorType signs = getSigns().getType();
  if (signs.getDimSize(0) != keys.getDimSize(0) ||
      signs.getDimSize(1) != scheme.getSketch() / 8)
    return emitOpError() << "signs must be tokens x sketch/8 = "
                         << keys.getDimSize(0) << "x" << scheme.getSketch() / 8
                         << " bytes, got " << signs;
  if (getNorms().getType().getDimSize(0) != keys.getDimSize(0))
    return emitOpError() << "norms must hold one value per token ("
                         << keys.getDimSize(0) << ")";
  return success();
}

LogicalResult QjlScoreOp::verify() {
  RankedTensorType queries = getQueries().getType();
  RankedTensorType jl = getJl().getType();
  RankedTensorType signs = getSigns().getType();
  RankedTensorType result = getResult().getType();
  if (jl.getDimSize(1) != queries.getDimSize(1))
    return emitOpError() << "jl has " << jl.getDimSize(1)
                         << " columns, but queries have dimension "
                         << queries.getDimSize(1);
  if (jl.getDimSize(0) % 8 || signs.getDimSize(1) * 8 != jl.getDimSize(0))
    return emitOpError() << "signs rows hold " << signs.getDimSize(1) * 8
                         << " bits, but jl has " << jl.getDimSize(0)
                         << " rows (a multiple of 8)";
  if (getNorms().getType().getDimSize(0) != signs.getDimSize(0))
    return emitOpError() << "norms hold " << getNorms().getType().getDimSize(0)
                         << " tokens, signs " << signs.getDimSize(0);
  if (result.getDimSize(0) != queries.getDimSize(0) ||
      result.getDimSize(1) != signs.getDimSize(0))
    return emitOpError() << "result must be queries x tokens ("
                         << queries.getDimSize(0) << "x" << signs.getDimSize(0)
                         << "), got " << result;
  return success();
}
