//===- QuantizeWeights.cpp - Compile-time weight quantization -------------===//
//
// qet-quantize-weights: float constants feeding contractions are quantized
// by the quantizer library and replaced by qet.constant + qet.dequantize.
// The packed matrix puts the reduction dimension along its rows, so each row
// is one output feature's dot-product weights (what fused kernels read).
//
//===----------------------------------------------------------------------===//

#include "QuantizerBridge.h"

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Transforms/Passes.h"
#include "qet/Quantizer/Float16.h"
#include "qet/Quantizer/Lopq.h"
#include "qet/Quantizer/Qet.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Threading.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Format.h"

#include <cmath>
#include <cstring>

namespace mlir::qet {
#define GEN_PASS_DEF_QETQUANTIZEWEIGHTS
#include "qet/Dialect/Qet/Transforms/Passes.h.inc"
} // namespace mlir::qet

using namespace mlir;
using namespace mlir::qet;
namespace qbridge = ::qet::bridge;

namespace {

/// One weight to quantize: a constant and the order in which its dimensions
/// become (rows..., cols) of the packed matrix (reduction dimension last).
struct WeightUse {
  arith::ConstantOp constant;
  SmallVector<int64_t> order;
  SmallVector<OpOperand *> uses;
  qbridge::WeightMatrix matrix;
  qbridge::QuantizedWeight result;
};

/// Why a constant operand of a contraction cannot be quantized, or the
/// dimension order that makes it a rows x cols matrix.
FailureOr<SmallVector<int64_t>> weightOrder(linalg::LinalgOp op,
                                            OpOperand &operand,
                                            std::string &why) {
  auto type = cast<RankedTensorType>(operand.get().getType());
  AffineMap map = op.getMatchingIndexingMap(&operand);
  if (type.getRank() < 2 || type.getRank() > 3 || !map.isProjectedPermutation()) {
    why = "its indexing map is not a rank-2/3 projected permutation";
    return failure();
  }
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> order, reduction;
  for (unsigned i = 0; i < map.getNumResults(); ++i) {
    unsigned loop = map.getDimPosition(i);
    if (iterators[loop] == utils::IteratorType::reduction)
      reduction.push_back(i);
    else
      order.push_back(i);
  }
  if (reduction.size() != 1) {
    why = "it has " + std::to_string(reduction.size()) +
          " reduction dimensions (one is needed)";
    return failure();
  }
  order.push_back(reduction.front());
  return order;
}

/// The constant's values widened to fp32 in `order`; failure with `why`
/// (`fatal` when the weight itself is bad: NaN or Inf).
LogicalResult readWeight(ElementsAttr value, ArrayRef<int64_t> order,
                         qbridge::WeightMatrix &matrix, std::string &why,
                         bool &fatal) {
  auto type = cast<RankedTensorType>(value.getType());
  Type element = type.getElementType();
  unsigned width = element.getIntOrFloatBitWidth();
  if (element.isF32())
    matrix.kind = qbridge::ElementKind::F32;
  else if (element.isF16())
    matrix.kind = qbridge::ElementKind::F16;
  else if (element.isBF16())
    matrix.kind = qbridge::ElementKind::BF16;
  else {
    why = "its element type " + std::to_string(width) +
          "-bit is not f32, f16 or bf16";
    return failure();
  }
  int64_t count = type.getNumElements();
  ArrayRef<char> raw;
  bool splat = false;
  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    raw = dense.getRawData();
    splat = dense.isSplat();
  } else if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob) {
      why = "its dense_resource blob has no data";
      return failure();
    }
    raw = blob->getData();
    if (static_cast<int64_t>(raw.size()) != count * (width / 8)) {
      why = "its dense_resource blob holds " + std::to_string(raw.size()) +
            " bytes, not " + std::to_string(count * (width / 8));
      return failure();
    }
  } else {
    why = "its value is neither dense nor dense_resource";
    return failure();
  }
  auto load = [&](int64_t index) -> float {
    size_t at = splat ? 0 : static_cast<size_t>(index);
    if (width == 32) {
      float v;
      std::memcpy(&v, raw.data() + 4 * at, 4);
      return v;
    }
    uint16_t bits;
    std::memcpy(&bits, raw.data() + 2 * at, 2);
    return matrix.kind == qbridge::ElementKind::F16
               ? ::qet::quant::halfBitsToFloat(bits)
               : ::qet::quant::bfloatBitsToFloat(bits);
  };

  ArrayRef<int64_t> shape = type.getShape();
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  matrix.cols = static_cast<uint64_t>(shape[order.back()]);
  matrix.rows = static_cast<uint64_t>(count) / matrix.cols;
  matrix.values.resize(static_cast<size_t>(count));
  // Walk the packed order with an index counter over the permuted shape.
  SmallVector<int64_t> index(order.size(), 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t source = 0;
    for (size_t d = 0; d < order.size(); ++d)
      source += index[d] * strides[order[d]];
    float v = load(source);
    if (!std::isfinite(v)) {
      // Name the element as the user wrote the weight, not as packed.
      SmallVector<int64_t> at(shape.size());
      for (size_t d = 0; d < order.size(); ++d)
        at[order[d]] = index[d];
      llvm::raw_string_ostream os(why);
      os << "weight element [";
      llvm::interleaveComma(at, os);
      os << "] is " << (std::isnan(v) ? "NaN" : "Inf")
         << "; quantizers need finite weights";
      fatal = true;
      return failure();
    }
    matrix.values[static_cast<size_t>(i)] = v;
    for (int64_t d = static_cast<int64_t>(order.size()) - 1; d >= 0; --d) {
      if (++index[d] < shape[order[d]])
        break;
      index[d] = 0;
    }
  }
  return success();
}

DenseI64ArrayAttr clusterArray(MLIRContext *ctx,
                               const std::map<std::string, int64_t> &params,
                               const char *key) {
  SmallVector<int64_t> values;
  for (int64_t c = 0; c < params.at("clusters"); ++c)
    values.push_back(params.at(::qet::quant::lopqClusterPrefix(c) + key));
  return DenseI64ArrayAttr::get(ctx, values);
}

DenseI64ArrayAttr stageArray(MLIRContext *ctx,
                             const std::map<std::string, int64_t> &params,
                             const char *key) {
  SmallVector<int64_t> values;
  for (int64_t s = 0; s < params.at("stages"); ++s)
    values.push_back(params.at(::qet::quant::qetStagePrefix(s) + key));
  return DenseI64ArrayAttr::get(ctx, values);
}

/// The scheme attribute describing the library's packed result.
SchemeAttrInterface schemeAttr(MLIRContext *ctx,
                               const qbridge::QuantizedWeight &w) {
  const std::map<std::string, int64_t> &p = w.params;
  auto u = [&](const char *key) { return static_cast<uint64_t>(p.at(key)); };
  auto n = [&](const char *key) { return static_cast<unsigned>(p.at(key)); };
  if (w.scheme == "rtn" || w.scheme == "rtn-sym")
    return RtnAttr::get(ctx, n("bits"), u("group"), p.at("symmetric") != 0);
  if (w.scheme == "pq" || w.scheme == "opq")
    return PqAttr::get(ctx, u("M"), u("Ks"), w.scheme == "opq");
  if (w.scheme == "lopq")
    return LopqAttr::get(ctx, u("M"), clusterArray(ctx, p, "rows"),
                         clusterArray(ctx, p, "Ks"));
  if (w.scheme == "hera")
    return HeraAttr::get(ctx, u("M"), u("Ks"), n("depth"));
  if (w.scheme == "qet")
    return QetSchemeAttr::get(ctx, u("M"), stageArray(ctx, p, "depth"),
                              stageArray(ctx, p, "Ks"),
                              stageArray(ctx, p, "codebook_bits"));
  if (w.scheme == "vptq")
    return VqAttr::get(ctx, n("v"), n("b"), n("b_r"), n("G"), u("gs"), u("o"),
                       n("v_o"), n("b_o"), p.at("flags") & 1,
                       (p.at("flags") & 2) != 0);
  return {};
}

struct QuantizeWeightsPass
    : public mlir::qet::impl::QetQuantizeWeightsBase<QuantizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (scheme == "qjl") {
      module.emitError() << "qet-quantize-weights: 'qjl' sketches attention "
                            "keys at run time; it is not a weight scheme";
      return signalPassFailure();
    }
    if (!qbridge::isScheme(scheme)) {
      module.emitError() << "qet-quantize-weights: unknown scheme '"
                         << scheme.getValue() << "'; known schemes: "
                         << qbridge::schemeList();
      return signalPassFailure();
    }
    bool badInput = false;

    // 1. Collect constant operands of contractions, one job per constant
    //    and dimension order.
    std::vector<WeightUse> weights;
    llvm::DenseMap<std::pair<Operation *, unsigned>, size_t> jobOf;
    module.walk([&](linalg::LinalgOp op) {
      if (!linalg::isaContractionOpInterface(op))
        return;
      for (OpOperand *operand : op.getDpsInputOperands()) {
        auto constant = operand->get().getDefiningOp<arith::ConstantOp>();
        if (!constant || !isa<ElementsAttr>(constant.getValue()))
          continue;
        auto type = cast<RankedTensorType>(constant.getType());
        if (type.getNumElements() < static_cast<int64_t>(minElements)) {
          constant.emitRemark() << "qet-quantize-weights: left dense: "
                                << type.getNumElements()
                                << " elements, below min-elements = "
                                << static_cast<int64_t>(minElements);
          continue;
        }
        std::string why;
        FailureOr<SmallVector<int64_t>> order = weightOrder(op, *operand, why);
        if (failed(order)) {
          constant.emitRemark() << "qet-quantize-weights: left dense: " << why;
          continue;
        }
        unsigned key = 0;
        for (int64_t d : *order)
          key = key * 4 + static_cast<unsigned>(d);
        auto [it, inserted] = jobOf.try_emplace({constant, key}, weights.size());
        if (inserted) {
          WeightUse use;
          use.constant = constant;
          use.order = *order;
          bool fatal = false;
          if (failed(readWeight(cast<ElementsAttr>(constant.getValue()),
                                use.order, use.matrix, why, fatal))) {
            if (fatal) {
              constant.emitError() << "qet-quantize-weights: " << why;
              badInput = true;
            } else {
              constant.emitRemark() << "qet-quantize-weights: left dense: "
                                    << why;
            }
            jobOf.erase({constant, key});
            continue;
          }
          weights.push_back(std::move(use));
        }
        weights[it->second].uses.push_back(operand);
      }
    });

    if (badInput)
      return signalPassFailure();

    // 2. Quantize, in parallel across weights (results do not depend on
    //    the thread count).
    qbridge::WeightOptions options;
    options.scheme = scheme;
    options.bpe = bpe;
    options.bits = bits;
    options.group = group;
    options.subspaces = subspaces;
    options.depths.assign(depths.begin(), depths.end());
    options.seed = seed;
    options.threads = weights.size() > 1 ? 1 : 0;
    parallelFor(ctx, 0, weights.size(), [&](size_t i) {
      weights[i].result = qbridge::quantizeWeight(weights[i].matrix, options);
      weights[i].matrix.values = {};
    });

    // 3. Rewrite.
    bool failedAny = false;
    for (auto [index, w] : llvm::enumerate(weights)) {
      if (!w.result.error.empty()) {
        w.constant.emitError()
            << "qet-quantize-weights: cannot quantize this " << w.matrix.rows
            << "x" << w.matrix.cols << " weight with '" << scheme.getValue()
            << "': " << w.result.error;
        failedAny = true;
        continue;
      }
      if (failed(rewrite(w, index)))
        failedAny = true;
    }
    if (failedAny)
      signalPassFailure();
  }

  LogicalResult rewrite(WeightUse &w, size_t index) {
    MLIRContext *ctx = &getContext();
    auto denseType = cast<RankedTensorType>(w.constant.getType());
    Type element = denseType.getElementType();
    SchemeAttrInterface attr = schemeAttr(ctx, w.result);
    int64_t rows = static_cast<int64_t>(w.matrix.rows);
    int64_t cols = static_cast<int64_t>(w.matrix.cols);
    auto diag = [&]() { return w.constant.emitError(); };
    if (!attr || failed(PackedType::verify(diag, {rows, cols}, element, attr)))
      return w.constant.emitError()
             << "qet-quantize-weights: no scheme attribute describes the '"
             << w.result.scheme << "' result";
    auto packedType = PackedType::get(ctx, {rows, cols}, element, attr);

    // The dialect's layout must be exactly what the library stored.
    SmallVector<StorageComponent> expected = packedType.getComponents();
    bool same = expected.size() == w.result.streams.size();
    for (size_t i = 0; same && i < expected.size(); ++i)
      same = expected[i].name == w.result.streams[i].name &&
             expected[i].bitsEach == w.result.streams[i].bitsEach &&
             expected[i].count == w.result.streams[i].count;
    if (!same)
      return w.constant.emitError()
             << "qet-quantize-weights: internal error: " << attr
             << " does not describe the streams the library wrote";

    OpBuilder b(w.constant);
    b.setInsertionPointAfter(w.constant);
    Location loc = w.constant.getLoc();
    SmallVector<NamedAttribute> components;
    for (qbridge::Stream &s : w.result.streams) {
      auto bytesType = RankedTensorType::get(
          {static_cast<int64_t>(s.bytes.size())}, b.getI8Type());
      std::string blobName = "qet_w" + std::to_string(index) + "_" + s.name;
      AsmResourceBlob blob =
          HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<uint8_t>(s.bytes));
      components.emplace_back(
          b.getStringAttr(s.name),
          DenseResourceElementsAttr::get(bytesType, blobName, std::move(blob)));
      s.bytes = {};
    }
    Value packed = ConstantOp::create(b, loc, packedType,
                                      b.getDictionaryAttr(components));
    Value dense = DequantizeOp::create(b, loc, packedType.getTensorType(), packed);

    // Back to the operand's layout: unflatten batch rows, then transpose.
    SmallVector<int64_t> permutedShape;
    for (int64_t d : w.order)
      permutedShape.push_back(denseType.getDimSize(d));
    if (permutedShape.size() == 3) {
      auto expandedType = RankedTensorType::get(permutedShape, element);
      dense = tensor::ExpandShapeOp::create(
          b, loc, expandedType, dense,
          SmallVector<ReassociationIndices>{{0, 1}, {2}});
    }
    if (!llvm::equal(w.order, llvm::seq<int64_t>(0, w.order.size()))) {
      SmallVector<int64_t> inverse(w.order.size());
      for (auto [i, d] : llvm::enumerate(w.order))
        inverse[d] = static_cast<int64_t>(i);
      Value init = tensor::EmptyOp::create(b, loc, denseType.getShape(), element);
      dense = linalg::TransposeOp::create(b, loc, dense, init, inverse)
                  ->getResult(0);
    }
    for (OpOperand *use : w.uses)
      use->set(dense);
    if (w.constant->use_empty())
      w.constant->erase();

    uint64_t storageBits = packedType.getStorageBits();
    std::string numbers;
    llvm::raw_string_ostream os(numbers);
    os << llvm::format("%.4f", w.result.bpe) << " bpe (" << storageBits
       << " bits), MSE " << llvm::format("%.3e", w.result.mse) << ", relF "
       << llvm::format("%.4f", w.result.relFrobenius);
    emitRemark(loc) << "qet-quantize-weights: " << rows << "x" << cols << " "
                    << element << " weight -> " << attr << " ("
                    << w.result.summary << "): " << numbers;
    return success();
  }
};

} // namespace
