//===- RuntimeQjl.cpp - QJL scores and attention through the runtime -----===//
//
// The runtime's QJL kernels (qjl.md §8: x = S q once, sign-select sums;
// S regenerated from the scheme's seed) for packed #qet.qjl keys; queries
// and values widened to f32 and passed read-only, the output a new buffer:
//   qet.qjl_attention, keys in a container:
//     qetQjlAttention(file, tensor, q, v, scale, out)
//   qet.qjl_attention, keys held by the module:
//     qetQjlHeldAttention(signs, norms, outlier_signs, outlier_norms,
//                         outlier_ids, d, m, m_o, |O|, G, orthogonal, seed,
//                         q, v, scale, out)
//   qet.qmatmul of keys held by the module (the estimated scores):
//     qetQjlHeldScores(<the same keys and configuration>, q, scores)
// (qet.qmatmul of keys in a container is qetMatmul: a qjl tensor's product
// is its score kernel.) Absent outlier components are empty buffers. The
// runtime computes the scores, then softmax(scale * scores) with max
// subtraction and the value product in QjlCache::attend's order.
// qet.qjl_score and qet.qjl_sketch take an explicit JL matrix, which the
// runtime's kernels (S from a seed) cannot use: an error naming
// convert-qet-to-scf, which lowers them.
//
//===----------------------------------------------------------------------===//

#include "RuntimeSymbols.h"

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

using namespace mlir;
using namespace mlir::qet;

namespace {

/// Static shapes, in the module's own symbol table.
LogicalResult checkOp(Operation *op, StringRef name) {
  auto dynamic = [](Type t) {
    auto ranked = dyn_cast<RankedTensorType>(t);
    return ranked && !ranked.hasStaticShape();
  };
  if (llvm::any_of(op->getOperandTypes(), dynamic) ||
      llvm::any_of(op->getResultTypes(), dynamic))
    return op->emitError() << "convert-qet-to-runtime: " << name
                           << " needs static shapes";
  if (SymbolTable::getNearestSymbolTable(op) != op->getParentOfType<ModuleOp>())
    return op->emitError() << "convert-qet-to-runtime: " << name
                           << " in nested symbol tables is not supported";
  return success();
}

/// The key arguments of the held-keys entry points: five component
/// buffers, then d, m, m_o, |O|, G, orthogonal, seed.
SmallVector<Value> heldKeyArgs(OpBuilder &b, Location loc, Value keys,
                               RuntimeSymbols &symbols) {
  auto type = cast<PackedType>(keys.getType());
  auto scheme = cast<QjlAttr>(type.getScheme());
  MemRefType bytes = symbols.bytesType();
  SmallVector<Value> args;
  for (StringRef name :
       {"signs", "norms", "outlier_signs", "outlier_norms", "outlier_ids"})
    args.push_back(componentBuffer(b, loc, keys, name, bytes));
  Type i64 = b.getI64Type();
  for (int64_t v :
       {type.getCols(), int64_t{scheme.getSketch()},
        int64_t{scheme.getOutlierSketch()}, int64_t{scheme.getOutliers()},
        int64_t{scheme.getGroupTokens()}, int64_t{scheme.getOrthogonal()},
        static_cast<int64_t>(scheme.getSeed())})
    args.push_back(arith::ConstantIntOp::create(b, loc, i64, v));
  return args;
}

SmallVector<Type> heldKeyTypes(RuntimeSymbols &symbols, MLIRContext *ctx) {
  SmallVector<Type> types(5, symbols.bytesType());
  types.append(7, IntegerType::get(ctx, 64));
  return types;
}

/// Calls `fn` with `args` plus a new f32 buffer of `resultType`'s shape
/// (the output) and replaces `op`'s result by it, converted back.
void callAndReplace(OpBuilder &b, Location loc, Operation *op, func::FuncOp fn,
                    SmallVector<Value> args, RuntimeSymbols &symbols) {
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  Type f32 = b.getF32Type();
  Value out = memref::AllocOp::create(
      b, loc, MemRefType::get(resultType.getShape(), f32));
  args.push_back(memref::CastOp::create(b, loc, symbols.matrixType(), out));
  func::CallOp::create(b, loc, fn, args);
  Value result = bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get(resultType.getShape(), f32), out,
      /*restrict=*/true, /*writable=*/true);
  op->getResult(0).replaceAllUsesWith(
      convertFloats(b, loc, result, resultType.getElementType()));
  op->erase();
}

LogicalResult lowerAttention(QjlAttentionOp op, RuntimeSymbols &symbols) {
  if (failed(checkOp(op, "qet.qjl_attention")))
    return failure();
  MLIRContext *ctx = op.getContext();
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type f32 = b.getF32Type();
  MemRefType bytes = symbols.bytesType(), matrix = symbols.matrixType();
  Value keys = op.getKeys();
  auto external = keys.getDefiningOp<ExternalConstantOp>();
  SmallVector<Type> types;
  SmallVector<Value> args;
  StringRef name;
  if (external) {
    name = "qetQjlAttention";
    types = {bytes, bytes};
    args = {symbols.string(b, loc, external.getFile()),
            symbols.string(b, loc, external.getTensor())};
  } else {
    name = "qetQjlHeldAttention";
    types = heldKeyTypes(symbols, ctx);
    args = heldKeyArgs(b, loc, keys, symbols);
  }
  types.append({matrix, matrix, f32, matrix});
  FailureOr<func::FuncOp> fn =
      symbols.function(name, FunctionType::get(ctx, types, {}));
  if (failed(fn))
    return failure();
  args.push_back(
      callBuffer(b, loc, convertFloats(b, loc, op.getQueries(), f32), matrix));
  args.push_back(
      callBuffer(b, loc, convertFloats(b, loc, op.getValues(), f32), matrix));
  args.push_back(arith::ConstantOp::create(b, loc, op.getScaleAttr()));
  callAndReplace(b, loc, op, *fn, args, symbols);
  return success();
}

/// qet.qmatmul of QJL keys held by the module.
LogicalResult lowerHeldScores(QMatmulOp op, RuntimeSymbols &symbols) {
  if (failed(checkOp(op, "qet.qmatmul")))
    return failure();
  MLIRContext *ctx = op.getContext();
  OpBuilder b(op);
  Location loc = op.getLoc();
  MemRefType matrix = symbols.matrixType();
  SmallVector<Type> types = heldKeyTypes(symbols, ctx);
  types.append({matrix, matrix});
  FailureOr<func::FuncOp> fn =
      symbols.function("qetQjlHeldScores", FunctionType::get(ctx, types, {}));
  if (failed(fn))
    return failure();
  SmallVector<Value> args = heldKeyArgs(b, loc, op.getWeight(), symbols);
  args.push_back(callBuffer(
      b, loc, convertFloats(b, loc, op.getInput(), b.getF32Type()), matrix));
  callAndReplace(b, loc, op, *fn, args, symbols);
  return success();
}

} // namespace

LogicalResult mlir::qet::lowerQjl(ModuleOp module, RuntimeSymbols &symbols) {
  SmallVector<Operation *> ops;
  WalkResult walk = module.walk([&](Operation *op) {
    if (isa<QjlScoreOp, QjlSketchOp>(op)) {
      op->emitError() << "convert-qet-to-runtime: " << op->getName()
                      << " takes an explicit JL matrix, and the runtime's "
                         "QJL kernels regenerate S from a scheme's seed; "
                         "lower it with convert-qet-to-scf "
                         "(qet-cpu-pipeline{backend=scf})";
      return WalkResult::interrupt();
    }
    if (isa<QjlAttentionOp>(op))
      ops.push_back(op);
    if (auto product = dyn_cast<QMatmulOp>(op))
      if (isa<QjlAttr>(product.getWeight().getType().getScheme()) &&
          !product.getWeight().getDefiningOp<ExternalConstantOp>())
        ops.push_back(op);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  for (Operation *op : ops) {
    LogicalResult lowered =
        isa<QjlAttentionOp>(op)
            ? lowerAttention(cast<QjlAttentionOp>(op), symbols)
            : lowerHeldScores(cast<QMatmulOp>(op), symbols);
    if (failed(lowered))
      return failure();
  }
  return success();
}
