//===- Decompose.cpp - qet.dequantize into decode primitives --------------===//
//
// qet-decompose: each scheme's qet.dequantize becomes the primitive ops that
// read its storage components (qet.storage -> qet.bit_unpack -> float
// bitcasts) and decode them the way the quantizer library does, so the
// generated code reproduces the library's reconstruction.
//
//===----------------------------------------------------------------------===//

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Transforms/Passes.h"
#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"
#include "qet/Dialect/Qet/Utils/LopqRows.h"
#include "qet/Quantizer/Lopq.h"
#include "qet/Quantizer/Qet.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qet {
#define GEN_PASS_DEF_QETDECOMPOSE
#include "qet/Dialect/Qet/Transforms/Passes.h.inc"
} // namespace mlir::qet

using namespace mlir;
using namespace mlir::qet;

namespace {

/// Raw float bits (an integer tensor) as `floatType`, widened to f32 when
/// `widen` is set.
Value bitsToFloat(OpBuilder &b, Location loc, Value raw, Type floatType,
                  bool widen) {
  Type result = widen ? b.getF32Type() : floatType;
  return mapElements(
      b, loc, raw, result, [&](OpBuilder &nb, Location nl, Value v) {
        Value f = arith::BitcastOp::create(nb, nl, floatType, v);
        return widen && !floatType.isF32()
                   ? arith::ExtFOp::create(nb, nl, nb.getF32Type(), f)
                         .getResult()
                   : f;
      });
}

/// Builds the decode of one packed value.
class Decoder {
public:
  Decoder(PatternRewriter &rewriter, Location loc, Value packed)
      : b(rewriter), loc(loc), packed(packed),
        type(cast<PackedType>(packed.getType())),
        components(type.getComponents()) {}

  const StorageComponent &component(StringRef name) const {
    for (const StorageComponent &c : components)
      if (c.name == name)
        return c;
    llvm_unreachable("component not in the scheme's layout");
  }

  /// The bytes of component `name`.
  Value bytes(StringRef name) {
    auto bytesType = RankedTensorType::get(
        {static_cast<int64_t>(component(name).bytes())}, b.getI8Type());
    return StorageOp::create(b, loc, bytesType, packed, name);
  }

  /// The fields of `name` as integers of `width` bits in `shape`.
  Value fields(StringRef name, ArrayRef<int64_t> shape, unsigned width,
               bool signExtend = false) {
    const StorageComponent &c = component(name);
    auto resultType = RankedTensorType::get(shape, b.getIntegerType(width));
    if (c.bitsEach == 0) // a single centroid: every index is 0
      return arith::ConstantOp::create(
          b, loc, resultType,
          DenseElementsAttr::get(resultType,
                                 b.getIntegerAttr(b.getIntegerType(width), 0)));
    return BitUnpackOp::create(b, loc, resultType, bytes(name),
                               b.getI64IntegerAttr(c.bitsEach),
                               signExtend ? b.getUnitAttr() : UnitAttr());
  }

  /// Float fields of `name` (raw bits of the packed element type, or fp16
  /// when `half`) widened to f32, in `shape`.
  Value floats(StringRef name, ArrayRef<int64_t> shape, bool half = false) {
    Type stored = half ? b.getF16Type() : type.getElementType();
    unsigned width = stored.getIntOrFloatBitWidth();
    return bitsToFloat(b, loc, fields(name, shape, width), stored,
                       /*widen=*/true);
  }

  /// One float of a single-field component, as a scalar f32.
  Value scalar(StringRef name) {
    Value one = floats(name, {1});
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    return tensor::ExtractOp::create(b, loc, one, ValueRange{zero});
  }

  /// The PQ reconstruction rows x cols (f32) of `prefix`codes/codebooks
  /// (`rows` < 0: the matrix's).
  Value pq(const std::string &prefix, int64_t subspaces, int64_t centroids,
           Value codebooks = {}, int64_t rows = -1) {
    if (rows < 0)
      rows = type.getRows();
    int64_t cols = type.getCols();
    int64_t sub = cols / subspaces;
    if (!codebooks)
      codebooks = floats(prefix + "codebooks", {subspaces, centroids, sub});
    Value codes = fields(prefix + "codes", {rows, subspaces}, 32);
    auto resultType = RankedTensorType::get({rows, cols}, b.getF32Type());
    return VqDecodeOp::create(b, loc, resultType, codes, codebooks);
  }

  /// x * R^T for the d x d rotation stored in `name`.
  Value rotate(Value x, StringRef name) {
    int64_t d = type.getCols();
    return multiplyTransposed(b, loc, x, floats(name, {d, d}));
  }

  /// Codebook of `centroids` x cols levels on the grid lo + level * step.
  Value gridCodebook(const std::string &prefix, int64_t subspaces,
                     int64_t centroids) {
    int64_t sub = type.getCols() / subspaces;
    SmallVector<int64_t> shape = {subspaces, centroids, sub};
    Value levels = fields(prefix + "codebook_levels", shape, 32);
    Value lo = scalar(prefix + "codebook_lo");
    Value step = scalar(prefix + "codebook_step");
    auto resultType = RankedTensorType::get(shape, b.getF32Type());
    Value init = tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
    AffineMap id = b.getMultiDimIdentityMap(3);
    return linalg::GenericOp::create(
               b, loc, resultType, ValueRange{levels}, ValueRange{init},
               SmallVector<AffineMap>{id, id},
               SmallVector<utils::IteratorType>(3,
                                                utils::IteratorType::parallel),
               [&](OpBuilder &nb, Location nl, ValueRange args) {
                 // level * step, rounded, then + lo: no FMA, as the library.
                 Value level =
                     arith::UIToFPOp::create(nb, nl, nb.getF32Type(), args[0]);
                 Value scaled = arith::MulFOp::create(nb, nl, level, step);
                 linalg::YieldOp::create(
                     nb, nl,
                     ValueRange{arith::AddFOp::create(nb, nl, scaled, lo)
                                    .getResult()});
               })
        .getResult(0);
  }

  Value unswap(Value x, const std::string &name, int64_t depth) {
    if (depth == 0)
      return x;
    return UnswapTreeOp::create(b, loc, x.getType(), x, bytes(name),
                                b.getI64IntegerAttr(depth));
  }

  Value slice(Value x, ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes) {
    SmallVector<int64_t> strides(offsets.size(), 1);
    return tensor::ExtractSliceOp::create(
        b, loc, x, getAsIndexOpFoldResult(b.getContext(), offsets),
        getAsIndexOpFoldResult(b.getContext(), sizes),
        getAsIndexOpFoldResult(b.getContext(), strides));
  }

  /// `part` written into `into` at `offsets`.
  Value insert(Value part, Value into, ArrayRef<int64_t> offsets) {
    ArrayRef<int64_t> sizes = cast<RankedTensorType>(part.getType()).getShape();
    SmallVector<int64_t> strides(offsets.size(), 1);
    MLIRContext *ctx = b.getContext();
    return tensor::InsertSliceOp::create(b, loc, part, into,
                                         getAsIndexOpFoldResult(ctx, offsets),
                                         getAsIndexOpFoldResult(ctx, sizes),
                                         getAsIndexOpFoldResult(ctx, strides));
  }

  Value transpose(Value x) {
    auto t = cast<RankedTensorType>(x.getType());
    Value init = tensor::EmptyOp::create(
        b, loc, {t.getDimSize(1), t.getDimSize(0)}, t.getElementType());
    return linalg::TransposeOp::create(b, loc, x, init, {1, 0})->getResult(0);
  }

  /// A tensor of `shape` written element by element from its indices.
  Value generate(ArrayRef<int64_t> shape, Type element,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
    return mlir::qet::generate(b, loc, RankedTensorType::get(shape, element),
                               fn);
  }

  /// An integer tensor element as an index, clamped to [0, bound) so that
  /// corrupt storage cannot address outside a tensor.
  static Value clampedIndex(OpBuilder &nb, Location nl, Value tensor,
                            ValueRange at, int64_t bound) {
    Value v = tensor::ExtractOp::create(nb, nl, tensor, at);
    if (!v.getType().isIndex())
      v = arith::IndexCastUIOp::create(nb, nl, nb.getIndexType(), v);
    return arith::MinUIOp::create(
        nb, nl, v, arith::ConstantIndexOp::create(nb, nl, bound - 1));
  }

  /// Every `bits`-wide field of the rows of component `name`, a rows x
  /// (4 * words) byte matrix (streams that start on 32-bit words), as i32.
  Value wordRowFields(StringRef name, int64_t rows, int64_t fieldsPerRow,
                      int64_t bits) {
    int64_t rowBytes = 4 * ((fieldsPerRow * bits + 31) / 32);
    auto matrixType = RankedTensorType::get({rows, rowBytes}, b.getI8Type());
    Value matrix = tensor::ExpandShapeOp::create(
        b, loc, matrixType, bytes(name),
        SmallVector<ReassociationIndices>{{0, 1}});
    auto resultType =
        RankedTensorType::get({rows, fieldsPerRow}, b.getI32Type());
    return BitUnpackOp::create(b, loc, resultType, matrix,
                               b.getI64IntegerAttr(bits), UnitAttr());
  }

  /// Codes (fields >> shift) & (2^bits - 1), element-wise.
  Value bitField(Value fields, int64_t shift, int64_t bits) {
    return mapElements(
        b, loc, fields, b.getI32Type(),
        [&](OpBuilder &nb, Location nl, Value v) -> Value {
          Type i32 = nb.getI32Type();
          if (shift)
            v = arith::ShRUIOp::create(
                nb, nl, v, arith::ConstantIntOp::create(nb, nl, i32, shift));
          return arith::AndIOp::create(
              nb, nl, v,
              arith::ConstantIntOp::create(nb, nl, i32,
                                           (int64_t{1} << bits) - 1));
        });
  }

  /// Column vectors of length `v` (vptq.md §7): `codes` (vectorRows x cols)
  /// into the transposed block cols x rows, through the shared codebook
  /// `book` (1 x K x v).
  Value columnVectors(Value codes, Value book, int64_t rows) {
    auto t = cast<RankedTensorType>(codes.getType());
    int64_t v = cast<RankedTensorType>(book.getType()).getDimSize(2);
    auto resultType = RankedTensorType::get(
        {t.getDimSize(1), t.getDimSize(0) * v}, b.getF32Type());
    Value decoded =
        VqDecodeOp::create(b, loc, resultType, transpose(codes), book);
    return slice(decoded, {0, 0}, {t.getDimSize(1), rows});
  }

  /// inv[perm[p]] = p for the permutation `perm` (n entries): a sequential
  /// scatter, starting from the identity so that every entry is in range.
  Value inversePermutation(Value perm, int64_t n) {
    Value identity =
        generate({n}, b.getIndexType(),
                 [](OpBuilder &, Location, ValueRange idx) { return idx[0]; });
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value end = arith::ConstantIndexOp::create(b, loc, n);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto loop = scf::ForOp::create(
        b, loc, zero, end, one, ValueRange{identity},
        [&](OpBuilder &nb, Location nl, Value p, ValueRange iter) {
          Value j = clampedIndex(nb, nl, perm, p, n);
          Value next = tensor::InsertOp::create(nb, nl, p, iter[0], j);
          scf::YieldOp::create(nb, nl, next);
        });
    return loop.getResult(0);
  }

  /// VPTQ (vptq.md §9): per column group, main (+ residual) codewords of
  /// length v down the columns, outlier columns with their own codebook,
  /// all in permuted column order; then W[:, perm[p]] = that column p,
  /// scaled and biased per column when normalized.
  Value vptq(VqAttr vq) {
    int64_t rows = type.getRows(), cols = type.getCols();
    int64_t v = vq.getVector(), ib = vq.getIndexBits(),
            rb = vq.getResidualBits(), groups = vq.getGroups(),
            gs = static_cast<int64_t>(vq.getGroupSize()),
            o = static_cast<int64_t>(vq.getOutlierColumns());
    int64_t vectorRows = (rows + v - 1) / v;
    Value indices = wordRowFields("idx", groups * vectorRows, gs, ib + rb);
    Value main = floats("C", {groups, int64_t{1} << ib, v}, /*half=*/true);
    Value residual =
        rb ? floats("Cr", {groups, int64_t{1} << rb, v}, /*half=*/true)
           : Value();
    // The transposed reconstruction, permuted columns as rows.
    Value permuted =
        tensor::EmptyOp::create(b, loc, {cols, rows}, b.getF32Type());
    for (int64_t g = 0; g < groups; ++g) {
      Value groupFields = slice(indices, {g * vectorRows, 0}, {vectorRows, gs});
      Value part =
          columnVectors(bitField(groupFields, 0, ib),
                        slice(main, {g, 0, 0}, {1, int64_t{1} << ib, v}), rows);
      if (rb) {
        Value extra = columnVectors(
            bitField(groupFields, ib, rb),
            slice(residual, {g, 0, 0}, {1, int64_t{1} << rb, v}), rows);
        part = ResidualSumOp::create(b, loc, part.getType(),
                                     ValueRange{part, extra});
      }
      permuted = insert(part, permuted, {o + g * gs, 0});
    }
    if (o) {
      int64_t vo = vq.getOutlierVector(), ob = vq.getOutlierBits();
      int64_t outlierRows = (rows + vo - 1) / vo;
      Value codes = wordRowFields("idx_o", outlierRows, o, ob);
      Value book = floats("C_o", {1, int64_t{1} << ob, vo}, /*half=*/true);
      permuted = insert(columnVectors(codes, book, rows), permuted, {0, 0});
    }
    Value inverse = vq.getPermuted()
                        ? inversePermutation(fields("perm", {cols}, 32), cols)
                        : Value();
    Value scale, bias;
    if (vq.getNormalized()) {
      scale = floats("scale", {cols}, /*half=*/true);
      bias = floats("bias", {cols}, /*half=*/true);
    }
    return generate(
        {rows, cols}, b.getF32Type(),
        [&](OpBuilder &nb, Location nl, ValueRange idx) -> Value {
          Value p =
              inverse ? clampedIndex(nb, nl, inverse, idx[1], cols) : idx[1];
          Value q = tensor::ExtractOp::create(nb, nl, permuted,
                                              ValueRange{p, idx[0]});
          if (!scale)
            return q;
          // q * s + b in two roundings, as the library (no FMA).
          Value s = tensor::ExtractOp::create(nb, nl, scale, idx[1]);
          Value bj = tensor::ExtractOp::create(nb, nl, bias, idx[1]);
          Value scaled = arith::MulFOp::create(nb, nl, q, s);
          return arith::AddFOp::create(nb, nl, scaled, bj);
        });
  }

  /// LOPQ: each non-empty cluster is an OPQ model of its rows (ascending
  /// row order); row i is row rank(i) of cluster labels[i]
  /// (lopqRowPositions: a sequential scan that counts rows per cluster).
  Value lopq(LopqAttr lopq) {
    int64_t rows = type.getRows(), cols = type.getCols();
    ArrayRef<int64_t> clusterRows = lopq.getClusterRows().asArrayRef();
    ArrayRef<int64_t> centroids = lopq.getClusterCentroids().asArrayRef();
    int64_t clusters = static_cast<int64_t>(clusterRows.size());
    int64_t m = static_cast<int64_t>(lopq.getSubspaces());
    Value stacked =
        tensor::EmptyOp::create(b, loc, {rows, cols}, b.getF32Type());
    int64_t offset = 0;
    for (int64_t c = 0; c < clusters; ++c) {
      if (clusterRows[c] == 0)
        continue;
      std::string prefix = ::qet::quant::lopqClusterPrefix(c);
      Value part = pq(prefix, m, centroids[c], {}, clusterRows[c]);
      part = rotate(part, prefix + "rotation");
      stacked = insert(part, stacked, {offset, 0});
      offset += clusterRows[c];
    }
    Value labels = fields("labels", {rows}, 32);
    Value rowOf = lopqRowPositions(b, loc, labels, clusterRows);
    return generate({rows, cols}, b.getF32Type(),
                    [&](OpBuilder &nb, Location nl, ValueRange idx) -> Value {
                      Value r =
                          tensor::ExtractOp::create(nb, nl, rowOf, idx[0]);
                      return tensor::ExtractOp::create(nb, nl, stacked,
                                                       ValueRange{r, idx[1]});
                    });
  }

  /// Converts the f32 reconstruction to the requested result type.
  Value finish(Value x, RankedTensorType resultType) {
    return convertFloats(b, loc, x, resultType.getElementType());
  }

  PatternRewriter &b;
  Location loc;
  Value packed;
  PackedType type;
  SmallVector<StorageComponent> components;
};

struct DecomposeDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    Decoder d(rewriter, op.getLoc(), op.getPacked());
    PackedType type = d.type;
    int64_t rows = type.getRows(), cols = type.getCols();
    Value result;
    Attribute scheme = type.getScheme();
    if (auto rtn = dyn_cast<RtnAttr>(scheme)) {
      int64_t groups = rtn.getNumGroups(cols);
      Value codes = d.fields("codes", {rows, cols}, 8, rtn.getSymmetric());
      auto half = [&](StringRef name) -> Value {
        return bitsToFloat(rewriter, op.getLoc(),
                           d.fields(name, {rows, groups}, 16),
                           rewriter.getF16Type(), /*widen=*/false);
      };
      Value scales = half("scales");
      Value zeros = rtn.getSymmetric() ? Value() : half("zero_points");
      result = GroupDecodeOp::create(rewriter, op.getLoc(), op.getType(), codes,
                                     scales, zeros, rtn);
      rewriter.replaceOp(op, result);
      return success();
    }
    if (auto pq = dyn_cast<PqAttr>(scheme)) {
      result = d.pq("", pq.getSubspaces(), pq.getCentroids());
      if (pq.getRotated())
        result = d.rotate(result, "rotation");
    } else if (auto lopq = dyn_cast<LopqAttr>(scheme)) {
      result = d.lopq(lopq);
    } else if (auto vq = dyn_cast<VqAttr>(scheme)) {
      result = d.vptq(vq);
    } else if (auto hera = dyn_cast<HeraAttr>(scheme)) {
      result = d.pq("", hera.getSubspaces(), hera.getCentroids());
      result = d.unswap(result, "swap_bits", hera.getDepth());
    } else if (auto qet = dyn_cast<QetSchemeAttr>(scheme)) {
      SmallVector<Value> stages;
      int64_t m = qet.getSubspaces();
      for (int64_t s = 0; s < static_cast<int64_t>(qet.getDepths().size());
           ++s) {
        std::string prefix =
            ::qet::quant::qetStagePrefix(static_cast<size_t>(s));
        int64_t ks = qet.getCentroids()[s];
        Value codebooks = qet.getCodebookBits()[s] == 0
                              ? Value()
                              : d.gridCodebook(prefix, m, ks);
        Value stage = d.pq(prefix, m, ks, codebooks);
        stages.push_back(
            d.unswap(stage, prefix + "swap_bits", qet.getDepths()[s]));
      }
      result = stages.size() == 1
                   ? stages.front()
                   : ResidualSumOp::create(rewriter, op.getLoc(),
                                           stages.front().getType(), stages)
                         .getResult();
    } else {
      return rewriter.notifyMatchFailure(op, "no decomposition for the scheme");
    }
    rewriter.replaceOp(op, d.finish(result, op.getType()));
    return success();
  }
};

struct DecomposePass : public mlir::qet::impl::QetDecomposeBase<DecomposePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DecomposeDequantize>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    getOperation()->walk([](DequantizeOp op) {
      op.emitRemark() << "qet-decompose: no decomposition for "
                      << op.getPacked().getType().getScheme()
                      << "; qet.dequantize kept";
    });
  }
};

} // namespace
