//===- QjlScores.cpp - QJL scores q K^T as sign-select loops --------------===//
//
// The estimated scores q K^T of sketched keys (qjl.md §3, §4, §7), shared by
// the qet.qjl_score, qet.qmatmul of #qet.qjl keys and qet.qjl_attention
// lowerings (QjlAttention.cpp). Keys are read from their sign bits, never
// decoded:
//   x = S q once per query row (f32, channels ascending; S is the op's jl,
//   or for packed keys the scheme's JL matrix, regenerated at compile time
//   by the quantizer library from its seed and embedded as S^T);
//   per token and block of up to 4 query rows, one vector<8xi1> lane mask
//   per sign byte (the byte broadcast, ANDed with {1, 2, ..., 128}, compared
//   with 0) picks x_j or 0 (arith.select) into an 8-lane accumulator per
//   row; the lanes reduce as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7));
//   score = n_t / (m kappa) (2 sel - sum_j x_j), sum_j x_j once per row
//   (sum_{bits set} x_j - sum_{bits clear} x_j without a popcount).
// With outlier channels (per group of G tokens, §3): y = S_{:,O} q_O once
// per group and row, the inlier select runs on x - y and the outlier term
// n_O / (m_o kappa) (2 sel' - sum_{j<m_o} y_j) is added. kappa is
// sqrt(2/pi) for qet.qjl_score (its sqrt(pi/2)/m) and the scheme's (kappa_d
// for block-orthogonal S) for packed keys. These are the library's fp32
// operations in its order (QjlScore.cpp), so the scores equal qjlScores
// bit for bit. Packed keys are read from their components here as well.
//
//===----------------------------------------------------------------------===//

#include "QjlKernels.h"

#include "QetToScfPatterns.h"

#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Quantizer/Qjl.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::qet;
using namespace mlir::qet::qjl;

namespace {

/// Query rows that share one lane mask.
constexpr int64_t kHeadBlock = 4;
/// The largest JL matrix embedded in generated code (d * m floats).
constexpr int64_t kMaxJlElements = int64_t{1} << 22;

} // namespace

VectorType mlir::qet::qjl::laneType(OpBuilder &b) {
  return VectorType::get({kLanes}, b.getF32Type());
}

mlir::qet::qjl::LaneConstants::LaneConstants(OpBuilder &b, Location loc) {
  VectorType lanes = laneType(b);
  zeros = arith::ConstantOp::create(b, loc, lanes,
                                    DenseElementsAttr::get(lanes, 0.0f));
  auto bytes = VectorType::get({kLanes}, b.getI8Type());
  SmallVector<int8_t> bits;
  for (int64_t l = 0; l < kLanes; ++l)
    bits.push_back(static_cast<int8_t>(1u << l));
  laneBits = arith::ConstantOp::create(
      b, loc, bytes, DenseElementsAttr::get(bytes, ArrayRef<int8_t>(bits)));
  noBits = arith::ConstantOp::create(
      b, loc, bytes, DenseElementsAttr::get(bytes, b.getI8IntegerAttr(0)));
}

namespace {

/// ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), the library's order.
Value reduceLanes(OpBuilder &b, Location loc, Value v) {
  auto slice = [&](Value x, int64_t at, int64_t size) -> Value {
    return vector::ExtractStridedSliceOp::create(
        b, loc, x, ArrayRef<int64_t>{at}, ArrayRef<int64_t>{size},
        ArrayRef<int64_t>{1});
  };
  Value pairs = arith::AddFOp::create(b, loc, slice(v, 0, 4), slice(v, 4, 4));
  Value halves =
      arith::AddFOp::create(b, loc, slice(pairs, 0, 2), slice(pairs, 2, 2));
  return arith::AddFOp::create(b, loc,
                               vector::ExtractOp::create(b, loc, halves, 0),
                               vector::ExtractOp::create(b, loc, halves, 1));
}

} // namespace

Value mlir::qet::qjl::readLanes(OpBuilder &b, Location loc, Value t,
                                ValueRange at, bool inBounds) {
  auto type = cast<RankedTensorType>(t.getType());
  Type element = type.getElementType();
  Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(element));
  Value v =
      vector::TransferReadOp::create(b, loc, VectorType::get({kLanes}, element),
                                     t, at, pad, ArrayRef<bool>{inBounds});
  if (element.isF32())
    return v;
  return arith::ExtFOp::create(b, loc, laneType(b), v);
}

Value mlir::qet::qjl::writeLanes(OpBuilder &b, Location loc, Value v, Value t,
                                 ValueRange at, bool inBounds) {
  return vector::TransferWriteOp::create(b, loc, v, t, at,
                                         ArrayRef<bool>{inBounds})
      .getResult();
}

namespace {

/// sum_{j < count} x[row, j] in 8 lanes, reduced (the library's laneSum).
Value laneSum(OpBuilder &b, Location loc, Value x, Value row, int64_t count,
              const LaneConstants &k) {
  auto loop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, count),
      indexConstant(b, loc, kLanes), ValueRange{k.zeros},
      [&](OpBuilder &nb, Location nl, Value j, ValueRange acc) {
        Value v = readLanes(nb, nl, x, ValueRange{row, j});
        scf::YieldOp::create(
            nb, nl,
            ValueRange{arith::AddFOp::create(nb, nl, acc[0], v).getResult()});
      });
  return reduceLanes(b, loc, loop.getResult(0));
}

} // namespace

Value mlir::qet::qjl::sketchQueriesTransposed(OpBuilder &b, Location loc,
                                              Value q, Value st) {
  MLIRContext *ctx = b.getContext();
  int64_t heads = cast<RankedTensorType>(q.getType()).getDimSize(0);
  int64_t m = cast<RankedTensorType>(st.getType()).getDimSize(1);
  AffineExpr h, c, j;
  bindDims(ctx, h, c, j);
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {h, c}, ctx),
                                 AffineMap::get(3, 0, {c, j}, ctx),
                                 AffineMap::get(3, 0, {h, j}, ctx)};
  return contraction(
      b, loc, {heads, m}, maps, ValueRange{q, st},
      {utils::IteratorType::parallel, utils::IteratorType::reduction,
       utils::IteratorType::parallel},
      [](OpBuilder &nb, Location nl, ValueRange args, ValueRange) -> Value {
        Value product = arith::MulFOp::create(nb, nl, args[0], args[1]);
        return arith::AddFOp::create(nb, nl, args[2], product);
      });
}

namespace {

/// For query rows h0 .. h0 + count of `x` (rows x m), the select sums of
/// token `t`'s `bytes` sign bytes: sum of x[h, j] over the set bits j, one
/// lane mask per byte shared by the rows. Returns one f32 per row.
SmallVector<Value> selectSums(OpBuilder &b, Location loc, Value bits, Value t,
                              int64_t bytes, Value x, Value h0, int64_t count,
                              const LaneConstants &k) {
  SmallVector<Value> init(count, k.zeros);
  auto loop = scf::ForOp::create(
      b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, bytes),
      indexConstant(b, loc, 1), init,
      [&](OpBuilder &nb, Location nl, Value byteAt, ValueRange acc) {
        Value byte =
            tensor::ExtractOp::create(nb, nl, bits, ValueRange{t, byteAt});
        Value splat = vector::BroadcastOp::create(
            nb, nl, VectorType::get({kLanes}, nb.getI8Type()), byte);
        Value mask = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::ne,
            arith::AndIOp::create(nb, nl, splat, k.laneBits), k.noBits);
        Value j = arith::MulIOp::create(nb, nl, byteAt,
                                        indexConstant(nb, nl, kLanes));
        SmallVector<Value> next;
        for (int64_t i = 0; i < count; ++i) {
          Value h = arith::AddIOp::create(nb, nl, h0, indexConstant(nb, nl, i));
          Value xv = readLanes(nb, nl, x, ValueRange{h, j});
          Value picked = arith::SelectOp::create(nb, nl, mask, xv, k.zeros);
          next.push_back(arith::AddFOp::create(nb, nl, acc[i], picked));
        }
        scf::YieldOp::create(nb, nl, next);
      });
  SmallVector<Value> sums;
  for (Value acc : loop.getResults())
    sums.push_back(reduceLanes(b, loc, acc));
  return sums;
}

/// coef * (2 sel - sum), the library's expression.
Value signTerm(OpBuilder &b, Location loc, Value coef, Value sel, Value sum) {
  Value twice = arith::MulFOp::create(b, loc, f32Constant(b, loc, 2.0f), sel);
  return arith::MulFOp::create(b, loc, coef,
                               arith::SubFOp::create(b, loc, twice, sum));
}

/// What the token loop reads: the inlier sketches (x, or x - y with
/// outliers) and their row sums, and with outliers y and its sums over the
/// first m_o rows.
struct QuerySketches {
  Value in, sumIn, out, sumOut;
};

/// Scores of query rows [h0, h0 + count) for token t into `scores`.
Value scoreBlock(OpBuilder &b, Location loc, Value scores, Value t, Value h0,
                 int64_t count, const SketchedKeys &keys,
                 const QuerySketches &x, Value invIn, Value invOut,
                 const LaneConstants &k) {
  Value coefIn = arith::MulFOp::create(
      b, loc, tensor::ExtractOp::create(b, loc, keys.norms, t), invIn);
  SmallVector<Value> selIn = selectSums(
      b, loc, keys.signs, t, keys.sketch / kLanes, x.in, h0, count, k);
  SmallVector<Value> selOut;
  Value coefOut;
  if (keys.outlierSigns) {
    coefOut = arith::MulFOp::create(
        b, loc, tensor::ExtractOp::create(b, loc, keys.outlierNorms, t),
        invOut);
    selOut = selectSums(b, loc, keys.outlierSigns, t,
                        keys.outlierSketch / kLanes, x.out, h0, count, k);
  }
  for (int64_t i = 0; i < count; ++i) {
    Value h = arith::AddIOp::create(b, loc, h0, indexConstant(b, loc, i));
    Value score = signTerm(b, loc, coefIn, selIn[i],
                           tensor::ExtractOp::create(b, loc, x.sumIn, h));
    if (keys.outlierSigns)
      score = arith::AddFOp::create(
          b, loc, score,
          signTerm(b, loc, coefOut, selOut[i],
                   tensor::ExtractOp::create(b, loc, x.sumOut, h)));
    scores = tensor::InsertOp::create(b, loc, score, scores, ValueRange{h, t});
  }
  return scores;
}

/// Scores of every query row for tokens [first, last) into `scores`: full
/// blocks of kHeadBlock rows in a loop, the remaining rows after it.
Value scoreTokens(OpBuilder &b, Location loc, Value scores, Value first,
                  Value last, int64_t heads, const SketchedKeys &keys,
                  const QuerySketches &x, Value invIn, Value invOut,
                  const LaneConstants &k) {
  auto tokens = scf::ForOp::create(
      b, loc, first, last, indexConstant(b, loc, 1), ValueRange{scores},
      [&](OpBuilder &tb, Location tl, Value t, ValueRange iter) {
        Value s = iter[0];
        int64_t full = heads / kHeadBlock * kHeadBlock;
        if (full > 0)
          s = scf::ForOp::create(
                  tb, tl, indexConstant(tb, tl, 0), indexConstant(tb, tl, full),
                  indexConstant(tb, tl, kHeadBlock), ValueRange{s},
                  [&](OpBuilder &hb, Location hl, Value h0, ValueRange hs) {
                    scf::YieldOp::create(hb, hl,
                                         scoreBlock(hb, hl, hs[0], t, h0,
                                                    kHeadBlock, keys, x, invIn,
                                                    invOut, k));
                  })
                  .getResult(0);
        if (heads > full)
          s = scoreBlock(tb, tl, s, t, indexConstant(tb, tl, full),
                         heads - full, keys, x, invIn, invOut, k);
        scf::YieldOp::create(tb, tl, s);
      });
  return tokens.getResult(0);
}

} // namespace

Value mlir::qet::qjl::scoreMatrix(OpBuilder &b, Location loc, Value q, Value x,
                                  Value st, const SketchedKeys &keys) {
  Type f32Type = b.getF32Type();
  int64_t heads = cast<RankedTensorType>(q.getType()).getDimSize(0);
  int64_t m = keys.sketch, mo = keys.outlierSketch;
  LaneConstants k(b, loc);
  Value invIn =
      f32Constant(b, loc, static_cast<float>(1.0 / (double(m) * keys.kappa)));
  Value invOut =
      keys.outlierSigns
          ? f32Constant(b, loc,
                        static_cast<float>(1.0 / (double(mo) * keys.kappa)))
          : Value();
  Value scores = tensor::EmptyOp::create(b, loc, {heads, keys.tokens}, f32Type);
  Value c0 = indexConstant(b, loc, 0), c1 = indexConstant(b, loc, 1);
  Value sumsInit = tensor::EmptyOp::create(b, loc, {heads}, f32Type);

  if (!keys.outlierSigns) {
    // One group: sum_j x_j once per row.
    Value sums =
        scf::ForOp::create(
            b, loc, c0, indexConstant(b, loc, heads), c1, ValueRange{sumsInit},
            [&](OpBuilder &nb, Location nl, Value h, ValueRange iter) {
              Value sum = laneSum(nb, nl, x, h, m, k);
              scf::YieldOp::create(
                  nb, nl,
                  tensor::InsertOp::create(nb, nl, sum, iter[0], h)
                      .getResult());
            })
            .getResult(0);
    return scoreTokens(b, loc, scores, c0, indexConstant(b, loc, keys.tokens),
                       heads, keys, QuerySketches{x, sums, {}, {}}, invIn,
                       invOut, k);
  }

  // Per token group: y = S_{:,O} q_O, x - y, and their lane sums.
  int64_t d = cast<RankedTensorType>(q.getType()).getDimSize(1);
  int64_t groups = (keys.tokens + keys.groupTokens - 1) / keys.groupTokens;
  // Separate buffers for y, x - y and their sums (one tensor.empty each).
  auto empty = [&](ArrayRef<int64_t> shape) -> Value {
    return tensor::EmptyOp::create(b, loc, shape, f32Type);
  };
  auto perGroup = scf::ForOp::create(
      b, loc, c0, indexConstant(b, loc, groups), c1,
      ValueRange{scores, empty({heads, m}), empty({heads, m}), empty({heads}),
                 empty({heads})},
      [&](OpBuilder &gb, Location gl, Value g, ValueRange iter) {
        // Channel ids of the group (a corrupt id past d reads channel d - 1,
        // never out of bounds; the library refuses such a matrix).
        SmallVector<Value> ids;
        for (int64_t i = 0; i < keys.outliers; ++i) {
          Value raw = tensor::ExtractOp::create(
              gb, gl, keys.outlierIds, ValueRange{g, indexConstant(gb, gl, i)});
          ids.push_back(arith::MinUIOp::create(
              gb, gl,
              arith::IndexCastUIOp::create(gb, gl, gb.getIndexType(), raw),
              indexConstant(gb, gl, d - 1)));
        }
        auto perRow = scf::ForOp::create(
            gb, gl, c0, indexConstant(gb, gl, heads), c1,
            ValueRange{iter[1], iter[2], iter[3], iter[4]},
            [&](OpBuilder &rb, Location rl, Value h, ValueRange rowIter) {
              // Chunks of 8 rows j: y_j = sum_i q[h, O_i] S[j, O_i] (O
              // ascending), x_j - y_j; both summed in lanes, y only for
              // j < m_o.
              auto chunks = [&](OpBuilder &cb, Location cl, int64_t from,
                                int64_t to, bool sumY, ValueRange state) {
                return scf::ForOp::create(
                           cb, cl, indexConstant(cb, cl, from),
                           indexConstant(cb, cl, to),
                           indexConstant(cb, cl, kLanes), state,
                           [&](OpBuilder &jb, Location jl, Value j,
                               ValueRange s) {
                             Value yv = k.zeros;
                             for (Value c : ids) {
                               Value qc = tensor::ExtractOp::create(
                                   jb, jl, q, ValueRange{h, c});
                               Value sv =
                                   readLanes(jb, jl, st, ValueRange{c, j});
                               Value term = arith::MulFOp::create(
                                   jb, jl,
                                   vector::BroadcastOp::create(
                                       jb, jl, laneType(jb), qc),
                                   sv);
                               yv = arith::AddFOp::create(jb, jl, yv, term);
                             }
                             Value xin = arith::SubFOp::create(
                                 jb, jl, readLanes(jb, jl, x, ValueRange{h, j}),
                                 yv);
                             Value yRows =
                                 writeLanes(jb, jl, yv, s[0], ValueRange{h, j});
                             Value inRows = writeLanes(jb, jl, xin, s[1],
                                                       ValueRange{h, j});
                             Value accIn =
                                 arith::AddFOp::create(jb, jl, s[2], xin);
                             Value accY =
                                 sumY ? arith::AddFOp::create(jb, jl, s[3], yv)
                                            .getResult()
                                      : s[3];
                             scf::YieldOp::create(
                                 jb, jl,
                                 ValueRange{yRows, inRows, accIn, accY});
                           })
                    .getResults();
              };
              ValueRange first =
                  chunks(rb, rl, 0, mo, /*sumY=*/true,
                         ValueRange{rowIter[0], rowIter[1], k.zeros, k.zeros});
              ValueRange rest = chunks(rb, rl, mo, m, /*sumY=*/false, first);
              Value sumIn = reduceLanes(rb, rl, rest[2]);
              Value sumY = reduceLanes(rb, rl, rest[3]);
              scf::YieldOp::create(
                  rb, rl,
                  ValueRange{
                      rest[0], rest[1],
                      tensor::InsertOp::create(rb, rl, sumIn, rowIter[2], h)
                          .getResult(),
                      tensor::InsertOp::create(rb, rl, sumY, rowIter[3], h)
                          .getResult()});
            });
        Value y = perRow.getResult(0), xin = perRow.getResult(1);
        Value sumIn = perRow.getResult(2), sumY = perRow.getResult(3);
        Value first = arith::MulIOp::create(
            gb, gl, g, indexConstant(gb, gl, keys.groupTokens));
        Value last = arith::MinUIOp::create(
            gb, gl,
            arith::AddIOp::create(gb, gl, first,
                                  indexConstant(gb, gl, keys.groupTokens)),
            indexConstant(gb, gl, keys.tokens));
        Value s =
            scoreTokens(gb, gl, iter[0], first, last, heads, keys,
                        QuerySketches{xin, sumIn, y, sumY}, invIn, invOut, k);
        scf::YieldOp::create(gb, gl, ValueRange{s, y, xin, sumIn, sumY});
      });
  return perGroup.getResult(0);
}

FailureOr<Value> mlir::qet::qjl::jlMatrix(PatternRewriter &rewriter,
                                          Operation *op, QjlAttr scheme,
                                          int64_t dim, double &kappa) {
  int64_t m = scheme.getSketch();
  if (dim * m > kMaxJlElements)
    return rewriter.notifyMatchFailure(op, [&](Diagnostic &diag) {
      diag << "the JL matrix (" << dim << " x " << m
           << ") is too large to embed in generated code; the runtime "
              "backend regenerates it at bind time";
    });
  ::qet::quant::JlKind kind = scheme.getOrthogonal()
                                  ? ::qet::quant::JlKind::Orthogonal
                                  : ::qet::quant::JlKind::Gaussian;
  ::qet::quant::JlMatrix s = ::qet::quant::makeJlMatrix(
      static_cast<size_t>(dim), static_cast<size_t>(m), kind, scheme.getSeed());
  kappa = s.kappa;
  auto type = RankedTensorType::get({dim, m}, rewriter.getF32Type());
  return arith::ConstantOp::create(
             rewriter, op->getLoc(), type,
             DenseElementsAttr::get(type, ArrayRef<float>(s.st)))
      .getResult();
}

SketchedKeys mlir::qet::qjl::packedKeys(OpBuilder &b, Location loc,
                                        Value packed, QjlAttr scheme,
                                        double kappa) {
  auto type = cast<PackedType>(packed.getType());
  SketchedKeys keys;
  keys.tokens = type.getRows();
  keys.sketch = scheme.getSketch();
  keys.groupTokens = scheme.getGroupTokens();
  keys.kappa = kappa;
  Type f16 = b.getF16Type();
  auto rowsOf = [&](StringRef component, int64_t bits) -> Value {
    auto rowsType =
        RankedTensorType::get({keys.tokens, bits / kLanes}, b.getI8Type());
    return tensor::ExpandShapeOp::create(
        b, loc, rowsType, packedBytes(b, loc, packed, component),
        SmallVector<ReassociationIndices>{{0, 1}});
  };
  keys.signs = rowsOf("signs", keys.sketch);
  keys.norms = packedFloats(b, loc, packed, "norms", {keys.tokens}, f16);
  if (scheme.getOutliers() > 0 && scheme.getOutlierSketch() > 0) {
    keys.outlierSketch = scheme.getOutlierSketch();
    keys.outliers = scheme.getOutliers();
    keys.outlierSigns = rowsOf("outlier_signs", keys.outlierSketch);
    keys.outlierNorms =
        packedFloats(b, loc, packed, "outlier_norms", {keys.tokens}, f16);
    int64_t groups = (keys.tokens + keys.groupTokens - 1) / keys.groupTokens;
    auto idsType =
        RankedTensorType::get({groups, keys.outliers}, b.getI32Type());
    keys.outlierIds = BitUnpackOp::create(
        b, loc, idsType, packedBytes(b, loc, packed, "outlier_ids"),
        b.getI64IntegerAttr(packedComponent(packed, "outlier_ids").bitsEach),
        UnitAttr());
  }
  return keys;
}
