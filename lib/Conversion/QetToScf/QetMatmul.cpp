//===- QetMatmul.cpp - qet.qmatmul of HERA/QET weights, row by row --------===//
//
// Row n of a HERA/QET weight is the sum over the stages of the row's
// codewords (its swapped order: X*_n[p] = C[p / sub, code(n, p / sub)]) put
// back by the row's inverse swap tree: W[n, pi_n(p)] = X*_n[p] (qet.md §1,
// §5). Per row, scf loops around vector code:
//   * each stage's codewords are copied into a row buffer (depth 0: added
//     to the decoded row directly): float codebooks are read in place from
//     their bytes, grid codebooks expanded to f32 once per call, one
//     8-byte load of codes serves up to 8 subspaces;
//   * the stage's tree is undone layer by layer (deepest first) between two
//     row buffers: per 8 pairs of a block, the minima and maxima halves are
//     loaded, 8 swap bits select (S, L) or (L, S), and the two are
//     interleaved back; layer 1 writes (or adds) into the decoded row;
//   * the decoded row is dotted with every batch item (16 lanes).
// The row is unswapped instead of gathering x by pi_n (vector.gather, or the
// tree applied to a copy of x): the permutation then costs depth * K / 2
// selects per row once, not once per batch item and stage, every stage is
// summed before a single product per batch item, and all loads are
// contiguous (AVX2's vgatherdps loads one element at a time). Stages are
// summed in stage order, as the library decodes them.
//
//===----------------------------------------------------------------------===//

#include "QetToScfPatterns.h"

#include "qet/Conversion/QetToLinalg/QetToLinalg.h"
#include "qet/Dialect/Qet/IR/QetOps.h"
#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"
#include "qet/Quantizer/Qet.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::qet;

namespace {

/// The widest power-of-two vector length of at most `limit` that divides
/// `n`, so a loop of such vectors covers `n` exactly.
int64_t lanesFor(int64_t n, int64_t limit) {
  int64_t lanes = limit;
  while (n % lanes)
    lanes /= 2;
  return lanes;
}

/// One stage of the weight: its codebook, either expanded to f32
/// (M x Ks x sub; grid codebooks) or the raw bytes of its `stored` floats,
/// its codes and swap bits (null when Ks = 1, resp. depth = 0).
struct Stage {
  Value books, codes, swaps;
  Type stored;
  int64_t centroids = 1, codeBits = 0, depth = 0;
};

/// Reads the codes and swap bits of the stage whose components start with
/// `prefix`; `books` is its codebook, in `stored` floats (null: f32
/// M x Ks x sub).
Stage readStage(OpBuilder &b, Location loc, Value packed,
                const std::string &prefix, Value books, Type stored,
                int64_t centroids, int64_t depth) {
  Stage stage;
  stage.books = books;
  stage.stored = stored;
  stage.centroids = centroids;
  stage.depth = depth;
  stage.codeBits = packedComponent(packed, prefix + "codes").bitsEach;
  if (stage.codeBits) // one centroid stores no codes: every code is 0
    stage.codes = packedBytes(b, loc, packed, prefix + "codes");
  if (depth)
    stage.swaps = packedBytes(b, loc, packed, prefix + "swap_bits");
  return stage;
}

int64_t byteCount(Value bytes) {
  return cast<RankedTensorType>(bytes.getType()).getDimSize(0);
}

/// A `type` vector from the (little-endian) bytes of `bytes` starting at
/// byte `at`: one unaligned load.
Value loadBytes(OpBuilder &b, Location loc, Value bytes, Value at,
                VectorType type) {
  int64_t count = type.getNumElements() * type.getElementTypeBitWidth() / 8;
  Value raw = vector::TransferReadOp::create(
      b, loc, VectorType::get({count}, b.getI8Type()), bytes, ValueRange{at},
      arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0),
      ArrayRef<bool>{true});
  return vector::BitCastOp::create(b, loc, type, raw);
}

/// The 64 bits of the LSB-first stream `bytes` (at least 8 bytes) from bit
/// `bit` on, as an i64 (fewer near the end of the stream): one 8-byte load,
/// moved back to the stream's last 8 bytes near its end with the shift
/// adjusted, so a field (or fields) of up to 57 bits starting at `bit` and
/// ending inside the stream lie in its low bits.
Value loadWord(OpBuilder &b, Location loc, Value bytes, Value bit) {
  Type i64 = b.getI64Type();
  Value byte = arith::ShRUIOp::create(b, loc, bit, indexConstant(b, loc, 3));
  Value base = arith::MinUIOp::create(
      b, loc, byte, indexConstant(b, loc, byteCount(bytes) - 8));
  Value shift = arith::SubIOp::create(
      b, loc, bit,
      arith::ShLIOp::create(b, loc, base, indexConstant(b, loc, 3)));
  Value word = vector::ExtractOp::create(
      b, loc, loadBytes(b, loc, bytes, base, VectorType::get({1}, i64)),
      int64_t{0});
  return arith::ShRUIOp::create(
      b, loc, word, arith::IndexCastUIOp::create(b, loc, i64, shift));
}

/// Field `i` of `bits` bits of `word` (loadWord), as an i64.
Value wordField(OpBuilder &b, Location loc, Value word, int64_t i,
                int64_t bits) {
  Type i64 = b.getI64Type();
  if (i)
    word = arith::ShRUIOp::create(
        b, loc, word, arith::ConstantIntOp::create(b, loc, i64, i * bits));
  return arith::AndIOp::create(
      b, loc, word,
      arith::ConstantIntOp::create(b, loc, i64, (int64_t{1} << bits) - 1));
}

/// The `bits`-wide field (at most 32) at bit `bit` of the LSB-first stream
/// `bytes`, as an i64: one load (loadWord) where extractBitField needs a
/// clamped load per byte, which only streams under 8 bytes still use.
Value fieldAt(OpBuilder &b, Location loc, Value bytes, Value bit,
              int64_t bits) {
  int64_t size = byteCount(bytes);
  if (size < 8)
    return arith::ExtUIOp::create(b, loc, b.getI64Type(),
                                  extractBitField(b, loc, bytes, Value(), bit,
                                                  bits, size - 1,
                                                  b.getI32Type(), false));
  return wordField(b, loc, loadWord(b, loc, bytes, bit), 0, bits);
}

/// A grid codebook expanded to f32 once per call: lo + level * step, the
/// product rounded before the sum (no FMA), as the library decodes it; each
/// level read with one load (fieldAt).
Value gridCodebook(OpBuilder &b, Location loc, Value packed,
                   const std::string &prefix, ArrayRef<int64_t> shape) {
  auto scalar = [&](StringRef name) -> Value {
    Value one = packedFloats(b, loc, packed, name, {1});
    return tensor::ExtractOp::create(b, loc, one,
                                     ValueRange{indexConstant(b, loc, 0)});
  };
  Value lo = scalar(prefix + "codebook_lo");
  Value step = scalar(prefix + "codebook_step");
  std::string name = prefix + "codebook_levels";
  Value levels = packedBytes(b, loc, packed, name);
  int64_t bits = packedComponent(packed, name).bitsEach;
  return generate(
      b, loc, RankedTensorType::get(shape, b.getF32Type()),
      [&](OpBuilder &nb, Location nl, ValueRange idx) -> Value {
        Value linear = idx[0];
        for (size_t d = 1; d < idx.size(); ++d)
          linear = arith::AddIOp::create(
              nb, nl,
              arith::MulIOp::create(nb, nl, linear,
                                    indexConstant(nb, nl, shape[d])),
              idx[d]);
        Value bit =
            arith::MulIOp::create(nb, nl, linear, indexConstant(nb, nl, bits));
        Value level = arith::TruncIOp::create(
            nb, nl, nb.getI32Type(), fieldAt(nb, nl, levels, bit, bits));
        Value f = arith::UIToFPOp::create(nb, nl, nb.getF32Type(), level);
        Value scaled = arith::MulFOp::create(nb, nl, f, step);
        return arith::AddFOp::create(nb, nl, scaled, lo);
      });
}

/// Builds the row loop of one qet.qmatmul.
class RowGather {
public:
  RowGather(OpBuilder &b, Location loc, Value x, int64_t rows, int64_t cols,
            int64_t subspaces)
      : b(b), loc(loc), x(x), rows(rows), cols(cols), subspaces(subspaces),
        sub(cols / subspaces) {}

  /// y[b, n] = <decoded row n, x[b]> for every row and batch item.
  Value build(ArrayRef<Stage> stages) {
    int64_t batch = cast<RankedTensorType>(x.getType()).getDimSize(0);
    int64_t maxDepth = 0;
    for (const Stage &stage : stages)
      maxDepth = std::max(maxDepth, stage.depth);
    // Row buffers, reused by every row: the decoded row, and one (depth 1)
    // or two (deeper) for the tree's layers.
    auto empty = [&](ArrayRef<int64_t> shape) -> Value {
      return tensor::EmptyOp::create(b, loc, shape, b.getF32Type());
    };
    SmallVector<Value> init = {empty({batch, rows}), empty({cols})};
    for (int64_t i = 0; i < std::min<int64_t>(maxDepth, 2); ++i)
      init.push_back(empty({cols}));
    auto loop = scf::ForOp::create(
        b, loc, indexConstant(b, loc, 0), indexConstant(b, loc, rows),
        indexConstant(b, loc, 1), init,
        [&](OpBuilder &rb, Location rl, Value row, ValueRange iter) {
          SmallVector<Value> buffers(iter.drop_front(2));
          Value decoded = iter[1];
          for (auto [s, stage] : llvm::enumerate(stages))
            decoded = addStage(rb, rl, row, stage, decoded,
                               /*accumulate=*/s > 0, buffers);
          auto items = scf::ForOp::create(
              rb, rl, indexConstant(rb, rl, 0), indexConstant(rb, rl, batch),
              indexConstant(rb, rl, 1), ValueRange{iter[0]},
              [&](OpBuilder &ib, Location il, Value item, ValueRange y) {
                Value sum = dot(ib, il, decoded, item);
                scf::YieldOp::create(
                    ib, il,
                    ValueRange{tensor::InsertOp::create(ib, il, sum, y[0],
                                                        ValueRange{item, row})
                                   .getResult()});
              });
          SmallVector<Value> next = {items.getResult(0), decoded};
          next.append(buffers);
          scf::YieldOp::create(rb, rl, next);
        });
    return loop.getResult(0);
  }

private:
  /// Stage `stage` of row `row` written into (or, with `accumulate`, added
  /// to) `decoded`; `buffers` are the layer buffers, updated in place.
  Value addStage(OpBuilder &rb, Location rl, Value row, const Stage &stage,
                 Value decoded, bool accumulate,
                 SmallVectorImpl<Value> &buffers) {
    if (stage.depth == 0)
      return copyCodewords(rb, rl, row, stage, decoded, accumulate);
    int64_t current = 0;
    buffers[0] = copyCodewords(rb, rl, row, stage, buffers[0], false);
    for (int64_t layer = stage.depth; layer > 1; --layer) {
      buffers[1 - current] =
          undoLayer(rb, rl, row, stage, layer, buffers[current],
                    buffers[1 - current], false);
      current = 1 - current;
    }
    return undoLayer(rb, rl, row, stage, 1, buffers[current], decoded,
                     accumulate);
  }

  /// `count` iterations of `body(builder, loc, offset, value)` on `value`
  /// for offsets 0, step, ..., inlined when there are at most `unroll`.
  Value chunks(OpBuilder &ob, Location ol, int64_t count, int64_t step,
               int64_t unroll, Value value,
               function_ref<Value(OpBuilder &, Location, Value, Value)> body) {
    if (count / step <= unroll) {
      for (int64_t at = 0; at < count; at += step)
        value = body(ob, ol, indexConstant(ob, ol, at), value);
      return value;
    }
    return scf::ForOp::create(
               ob, ol, indexConstant(ob, ol, 0), indexConstant(ob, ol, count),
               indexConstant(ob, ol, step), ValueRange{value},
               [&](OpBuilder &lb, Location ll, Value at, ValueRange iter) {
                 scf::YieldOp::create(lb, ll, body(lb, ll, at, iter[0]));
               })
        .getResult(0);
  }

  Value read(OpBuilder &ob, Location ol, int64_t lanes, Value from,
             ValueRange at) {
    return vector::TransferReadOp::create(
        ob, ol, VectorType::get({lanes}, ob.getF32Type()), from, at,
        arith::ConstantOp::create(ob, ol, ob.getF32FloatAttr(0.0f)),
        ArrayRef<bool>{true});
  }

  /// `value` stored at `at` of the row buffer `into` (added to what is
  /// there with `accumulate`).
  Value write(OpBuilder &ob, Location ol, Value value, Value into, Value at,
              bool accumulate) {
    if (accumulate) {
      int64_t lanes = cast<VectorType>(value.getType()).getDimSize(0);
      value =
          arith::AddFOp::create(ob, ol, read(ob, ol, lanes, into, at), value);
    }
    return vector::TransferWriteOp::create(ob, ol, value, into, ValueRange{at},
                                           ArrayRef<bool>{true})
        .getResult();
  }

  /// Elements [e, e + lanes) of codeword `code` of subspace `s` as f32;
  /// `word` is the codeword's first element.
  Value codeword(OpBuilder &ob, Location ol, const Stage &stage, Value s,
                 Value code, Value word, Value e, int64_t lanes) {
    if (!stage.stored)
      return read(ob, ol, lanes, stage.books, ValueRange{s, code, e});
    Value at = arith::MulIOp::create(
        ob, ol, arith::AddIOp::create(ob, ol, word, e),
        indexConstant(ob, ol, stage.stored.getIntOrFloatBitWidth() / 8));
    Value v = loadBytes(ob, ol, stage.books, at,
                        VectorType::get({lanes}, stage.stored));
    if (stage.stored.isF32())
      return v;
    return arith::ExtFOp::create(ob, ol,
                                 VectorType::get({lanes}, ob.getF32Type()), v);
  }

  /// Codeword `code` of subspace `s` of `stage` into `buffer`.
  Value copyCodeword(OpBuilder &sb, Location sl, const Stage &stage, Value s,
                     Value code, Value buffer, bool accumulate) {
    int64_t lanes = lanesFor(sub, 16);
    // Element (s * Ks + code) * sub of a codebook read in place.
    Value word = arith::MulIOp::create(
        sb, sl,
        arith::AddIOp::create(
            sb, sl,
            arith::MulIOp::create(sb, sl, s,
                                  indexConstant(sb, sl, stage.centroids)),
            code),
        indexConstant(sb, sl, sub));
    Value base = arith::MulIOp::create(sb, sl, s, indexConstant(sb, sl, sub));
    return chunks(sb, sl, sub, lanes, 4, buffer,
                  [&](OpBuilder &cb, Location cl, Value e, Value buf) {
                    Value v = codeword(cb, cl, stage, s, code, word, e, lanes);
                    Value at = arith::AddIOp::create(cb, cl, base, e);
                    return write(cb, cl, v, buf, at, accumulate);
                  });
  }

  /// The row's codewords of `stage` (its swapped order) into `into`. The
  /// row's codes are contiguous: one 8-byte load serves up to 8 subspaces
  /// (as many as fit 57 bits), unrolled.
  Value copyCodewords(OpBuilder &rb, Location rl, Value row, const Stage &stage,
                      Value into, bool accumulate) {
    int64_t bits = stage.codeBits;
    bool wordwise = stage.codes && byteCount(stage.codes) >= 8;
    int64_t group = wordwise ? std::min<int64_t>({subspaces, 57 / bits, 8}) : 1;
    Value rowField =
        arith::MulIOp::create(rb, rl, row, indexConstant(rb, rl, subspaces));
    // Subspaces [first, first + count).
    auto copyGroup = [&](OpBuilder &gb, Location gl, Value first, int64_t count,
                         Value buffer) {
      Value bit = arith::MulIOp::create(
          gb, gl, arith::AddIOp::create(gb, gl, rowField, first),
          indexConstant(gb, gl, bits));
      Value word = wordwise ? loadWord(gb, gl, stage.codes, bit) : Value();
      for (int64_t i = 0; i < count; ++i) {
        Value code = indexConstant(gb, gl, 0);
        if (stage.codes) {
          Value raw = wordwise ? wordField(gb, gl, word, i, bits)
                               : fieldAt(gb, gl, stage.codes, bit, bits);
          // Clamped: a corrupt code cannot read outside the codebook.
          code = arith::MinUIOp::create(
              gb, gl,
              arith::IndexCastUIOp::create(gb, gl, gb.getIndexType(), raw),
              indexConstant(gb, gl, stage.centroids - 1));
        }
        Value s =
            arith::AddIOp::create(gb, gl, first, indexConstant(gb, gl, i));
        buffer = copyCodeword(gb, gl, stage, s, code, buffer, accumulate);
      }
      return buffer;
    };
    int64_t whole = subspaces - subspaces % group;
    into = chunks(rb, rl, whole, group, 1, into,
                  [&](OpBuilder &gb, Location gl, Value first, Value buffer) {
                    return copyGroup(gb, gl, first, group, buffer);
                  });
    if (whole < subspaces)
      into = copyGroup(rb, rl, indexConstant(rb, rl, whole), subspaces - whole,
                       into);
    return into;
  }

  /// `lanes` swap bits of `stage` from bit `bit` of its stream on, as a
  /// vector<lanes x i1> (lane i: bit i).
  Value swapMask(OpBuilder &ob, Location ol, const Stage &stage, Value bit,
                 int64_t lanes) {
    Type i32 = ob.getI32Type();
    Value bits;
    if (lanes == 8 && (cols / 2) % 8 == 0) {
      // Every chunk starts on a byte: one load.
      Value at = arith::ShRUIOp::create(ob, ol, bit, indexConstant(ob, ol, 3));
      Value byte =
          tensor::ExtractOp::create(ob, ol, stage.swaps, ValueRange{at});
      bits = arith::ExtUIOp::create(ob, ol, i32, byte);
    } else {
      bits = arith::TruncIOp::create(ob, ol, i32,
                                     fieldAt(ob, ol, stage.swaps, bit, lanes));
    }
    auto type = VectorType::get({lanes}, i32);
    SmallVector<int32_t> weights;
    for (int64_t i = 0; i < lanes; ++i)
      weights.push_back(int32_t{1} << i);
    Value lane = arith::AndIOp::create(
        ob, ol, vector::BroadcastOp::create(ob, ol, type, bits),
        arith::ConstantOp::create(
            ob, ol, type,
            DenseElementsAttr::get(type, ArrayRef<int32_t>(weights))));
    Value zero = arith::ConstantOp::create(
        ob, ol, type, DenseElementsAttr::get(type, ob.getI32IntegerAttr(0)));
    return arith::CmpIOp::create(ob, ol, arith::CmpIPredicate::ne, lane, zero);
  }

  /// Undoes layer `layer` (1-based) of the row's tree from `from` into
  /// `into`: blocks of width w = K / 2^(layer-1); pair t of a block comes
  /// back from its minima half S and maxima half L as (S[t], L[t]) when its
  /// bit is set, else (L[t], S[t]).
  Value undoLayer(OpBuilder &rb, Location rl, Value row, const Stage &stage,
                  int64_t layer, Value from, Value into, bool accumulate) {
    int64_t width = cols >> (layer - 1), half = width / 2;
    int64_t lanes = lanesFor(half, 8);
    // Bit (row * depth + layer - 1) * K/2 + pair of the stream.
    Value layerBit = arith::MulIOp::create(
        rb, rl,
        arith::AddIOp::create(
            rb, rl,
            arith::MulIOp::create(rb, rl, row,
                                  indexConstant(rb, rl, stage.depth)),
            indexConstant(rb, rl, layer - 1)),
        indexConstant(rb, rl, cols / 2));
    return chunks(
        rb, rl, int64_t{1} << (layer - 1), 1, 1, into,
        [&](OpBuilder &bb, Location bl, Value block, Value buffer) {
          Value base = arith::MulIOp::create(bb, bl, block,
                                             indexConstant(bb, bl, width));
          Value blockBit = arith::AddIOp::create(
              bb, bl, layerBit,
              arith::MulIOp::create(bb, bl, block,
                                    indexConstant(bb, bl, half)));
          return chunks(
              bb, bl, half, lanes, 1, buffer,
              [&](OpBuilder &tb, Location tl, Value t, Value buf) {
                Value sAt = arith::AddIOp::create(tb, tl, base, t);
                Value lAt = arith::AddIOp::create(tb, tl, sAt,
                                                  indexConstant(tb, tl, half));
                Value small = read(tb, tl, lanes, from, sAt);
                Value large = read(tb, tl, lanes, from, lAt);
                Value mask =
                    swapMask(tb, tl, stage,
                             arith::AddIOp::create(tb, tl, blockBit, t), lanes);
                Value even =
                    arith::SelectOp::create(tb, tl, mask, small, large);
                Value odd = arith::SelectOp::create(tb, tl, mask, large, small);
                Value pairs = vector::InterleaveOp::create(tb, tl, even, odd);
                Value at = arith::AddIOp::create(tb, tl, base, t);
                at = arith::AddIOp::create(tb, tl, at, t);
                return write(tb, tl, pairs, buf, at, accumulate);
              });
        });
  }

  /// <decoded, x[item]>: 16 lanes per step, the remainder in 8, 4, 2, 1.
  Value dot(OpBuilder &ob, Location ol, Value decoded, Value item) {
    auto lanesType = VectorType::get({16}, ob.getF32Type());
    Value zero = arith::ConstantOp::create(
        ob, ol, lanesType, DenseElementsAttr::get(lanesType, 0.0f));
    int64_t main = cols - cols % 16;
    auto term = [&](OpBuilder &tb, Location tl, int64_t lanes, Value at,
                    Value acc) -> Value {
      Value w = read(tb, tl, lanes, decoded, at);
      Value xv = read(tb, tl, lanes, x, ValueRange{item, at});
      return vector::FMAOp::create(tb, tl, w, xv, acc);
    };
    Value acc = chunks(ob, ol, main, 16, 1, zero,
                       [&](OpBuilder &tb, Location tl, Value at, Value sum) {
                         return term(tb, tl, 16, at, sum);
                       });
    Value sum =
        vector::ReductionOp::create(ob, ol, vector::CombiningKind::ADD, acc);
    for (int64_t lanes = 8, at = main; lanes >= 1; lanes /= 2) {
      if (cols - at < lanes)
        continue;
      auto type = VectorType::get({lanes}, ob.getF32Type());
      Value part = term(ob, ol, lanes, indexConstant(ob, ol, at),
                        arith::ConstantOp::create(
                            ob, ol, type, DenseElementsAttr::get(type, 0.0f)));
      sum =
          arith::AddFOp::create(ob, ol, sum,
                                vector::ReductionOp::create(
                                    ob, ol, vector::CombiningKind::ADD, part));
      at += lanes;
    }
    return sum;
  }

  OpBuilder &b;
  Location loc;
  Value x;
  int64_t rows, cols, subspaces, sub;
};

struct HeraQMatmulLowering : QMatmulLowering<HeraAttr> {
  using QMatmulLowering::QMatmulLowering;

  Value build(PatternRewriter &rewriter, QMatmulOp op, HeraAttr hera,
              Value x) const override {
    PackedType type = op.getWeight().getType();
    Location loc = op.getLoc();
    Value packed = op.getWeight();
    int64_t m = static_cast<int64_t>(hera.getSubspaces()),
            ks = static_cast<int64_t>(hera.getCentroids());
    Stage stage = readStage(rewriter, loc, packed, "",
                            packedBytes(rewriter, loc, packed, "codebooks"),
                            type.getElementType(), ks, hera.getDepth());
    return RowGather(rewriter, loc, x, type.getRows(), type.getCols(), m)
        .build(stage);
  }
};

struct QetQMatmulLowering : QMatmulLowering<QetSchemeAttr> {
  using QMatmulLowering::QMatmulLowering;

  Value build(PatternRewriter &rewriter, QMatmulOp op, QetSchemeAttr qet,
              Value x) const override {
    PackedType type = op.getWeight().getType();
    Location loc = op.getLoc();
    Value packed = op.getWeight();
    int64_t m = static_cast<int64_t>(qet.getSubspaces());
    SmallVector<Stage> stages;
    for (auto [s, depth, ks, bits] : llvm::enumerate(
             qet.getDepths().asArrayRef(), qet.getCentroids().asArrayRef(),
             qet.getCodebookBits().asArrayRef())) {
      std::string prefix = ::qet::quant::qetStagePrefix(s);
      // Float codebooks are read in place; grid levels are expanded once.
      bool grid = bits != 0;
      Value books =
          grid ? gridCodebook(rewriter, loc, packed, prefix,
                              {m, ks, type.getCols() / m})
               : packedBytes(rewriter, loc, packed, prefix + "codebooks");
      Type stored = grid ? Type() : type.getElementType();
      stages.push_back(
          readStage(rewriter, loc, packed, prefix, books, stored, ks, depth));
    }
    return RowGather(rewriter, loc, x, type.getRows(), type.getCols(), m)
        .build(stages);
  }
};

} // namespace

void mlir::qet::populateQetQMatmulToScfPatterns(RewritePatternSet &patterns) {
  patterns.add<HeraQMatmulLowering, QetQMatmulLowering>(patterns.getContext());
}
