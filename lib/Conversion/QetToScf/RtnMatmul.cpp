//===- RtnMatmul.cpp - qet.qmatmul of RTN weights as loops ----------------===//
//
// y[b, n] = sum_g s[n, g] * sum_{k in g} x[b, k] q[n, k] + z[n, g] * X[b, g]
// with X[b, g] the group sums of x (asymmetric RTN: w = q s + z).
//
// 4-bit codes, groups a multiple of 32 dividing K: scf loops over rows,
// batch and groups (groupLoops) around a vector body that reads 32 (or 16)
// code bytes, splits the low (even k) and high (odd k) nibbles, converts
// them to f32 vectors and multiplies them with x's even and odd elements,
// which a prologue stores de-interleaved once per call; each group's vector
// sum is scaled into a running vector, reduced once per output. With
// `activations=i16|i8` the body uses integer multiply-adds instead
// (RtnIntegerProduct.cpp).
//
// Any other configuration: one linalg.generic contraction that extracts and
// decodes each code in its body (the weight is never materialized).
//
//===----------------------------------------------------------------------===//

#include "QetToScfPatterns.h"
#include "RtnKernels.h"

#include "qet/Conversion/QetToLinalg/QetToLinalg.h"
#include "qet/Dialect/Qet/IR/QetOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <tuple>

using namespace mlir;
using namespace mlir::qet;

namespace {

/// fp16 bits (i16) to f32.
Value halfToF32(OpBuilder &b, Location loc, Value bits16) {
  Value half = arith::BitcastOp::create(b, loc, b.getF16Type(), bits16);
  return arith::ExtFOp::create(b, loc, b.getF32Type(), half);
}

} // namespace

Value mlir::qet::halfAt(OpBuilder &b, Location loc, Value bytes, Value at) {
  Type i16 = b.getI16Type();
  Value first = arith::MulIOp::create(b, loc, at, indexConstant(b, loc, 2));
  Value second = arith::AddIOp::create(b, loc, first, indexConstant(b, loc, 1));
  Value lo = arith::ExtUIOp::create(
      b, loc, i16, tensor::ExtractOp::create(b, loc, bytes, first));
  Value hi = arith::ExtUIOp::create(
      b, loc, i16, tensor::ExtractOp::create(b, loc, bytes, second));
  hi = arith::ShLIOp::create(b, loc, hi,
                             arith::ConstantIntOp::create(b, loc, i16, 8));
  return halfToF32(b, loc, arith::OrIOp::create(b, loc, lo, hi));
}

RtnStorage mlir::qet::readRtnStorage(OpBuilder &b, Location loc, Value packed) {
  auto type = cast<PackedType>(packed.getType());
  RtnStorage s;
  for (const StorageComponent &c : type.getComponents()) {
    auto bytesType =
        RankedTensorType::get({static_cast<int64_t>(c.bytes())}, b.getI8Type());
    Value bytes = StorageOp::create(b, loc, bytesType, packed, c.name);
    if (c.name == "codes") {
      s.codes = bytes;
      s.codeBytes = bytesType.getDimSize(0);
    } else {
      (c.name == "scales" ? s.scales : s.zeros) = bytes;
    }
  }
  return s;
}

Value mlir::qet::groupReduce(
    OpBuilder &b, Location loc, Value x, int64_t group, ValueRange extra,
    function_ref<Value(OpBuilder &, Location, Value, Value, ValueRange)> fn) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t m = type.getDimSize(0), groups = type.getDimSize(1) / group;
  Value grouped = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get({m, groups, group}, b.getF32Type()), x,
      SmallVector<ReassociationIndices>{{0}, {1, 2}});
  MLIRContext *ctx = b.getContext();
  AffineExpr i, g, j;
  bindDims(ctx, i, g, j);
  AffineMap perGroup = AffineMap::get(3, 0, {i, g}, ctx);
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {i, g, j}, ctx)};
  SmallVector<Value> inputs = {grouped};
  for (Value e : extra) {
    inputs.push_back(e);
    maps.push_back(perGroup);
  }
  maps.push_back(perGroup);
  SmallVector<utils::IteratorType> iterators = {utils::IteratorType::parallel,
                                                utils::IteratorType::parallel,
                                                utils::IteratorType::reduction};
  return contraction(
      b, loc, {m, groups}, maps, inputs, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args, ValueRange) -> Value {
        return fn(nb, nl, args.back(), args[0], args.slice(1, args.size() - 2));
      });
}

Value mlir::qet::groupSums(OpBuilder &b, Location loc, Value x, int64_t group) {
  return groupReduce(
      b, loc, x, group, ValueRange{},
      [](OpBuilder &nb, Location nl, Value acc, Value v, ValueRange) -> Value {
        return arith::AddFOp::create(nb, nl, acc, v);
      });
}

Value mlir::qet::groupLoops(
    OpBuilder &b, Location loc, int64_t batch, int64_t rows, int64_t k,
    int64_t group,
    function_ref<GroupTerm(OpBuilder &, Location, const GroupPosition &)>
        term) {
  int64_t groups = k / group;
  auto laneVec = VectorType::get({8}, b.getF32Type());
  Value zeroLanes = arith::ConstantOp::create(
      b, loc, laneVec, DenseElementsAttr::get(laneVec, 0.0f));
  Value c0 = indexConstant(b, loc, 0), c1 = indexConstant(b, loc, 1);
  Value y = tensor::EmptyOp::create(b, loc, {batch, rows}, b.getF32Type());
  auto rowLoop = scf::ForOp::create(
      b, loc, c0, indexConstant(b, loc, rows), c1, ValueRange{y},
      [&](OpBuilder &rb, Location rl, Value row, ValueRange rowIter) {
        auto items = scf::ForOp::create(
            rb, rl, c0, indexConstant(rb, rl, batch), c1,
            ValueRange{rowIter[0]},
            [&](OpBuilder &ib, Location il, Value item, ValueRange itemIter) {
              auto perGroup = scf::ForOp::create(
                  ib, il, c0, indexConstant(ib, il, groups), c1,
                  ValueRange{zeroLanes, f32Constant(ib, il, 0.0f)},
                  [&](OpBuilder &gb, Location gl, Value g, ValueRange acc) {
                    Value rowByte = arith::MulIOp::create(
                        gb, gl, row, indexConstant(gb, gl, k / 2));
                    Value base = arith::MulIOp::create(
                        gb, gl, g, indexConstant(gb, gl, group / 2));
                    Value meta = arith::AddIOp::create(
                        gb, gl,
                        arith::MulIOp::create(gb, gl, row,
                                              indexConstant(gb, gl, groups)),
                        g);
                    GroupTerm t = term(
                        gb, gl, GroupPosition{item, g, rowByte, base, meta});
                    Value scale =
                        vector::BroadcastOp::create(gb, gl, laneVec, t.scale);
                    Value running =
                        vector::FMAOp::create(gb, gl, scale, t.lanes, acc[0]);
                    Value offset =
                        t.offset
                            ? arith::AddFOp::create(gb, gl, acc[1], t.offset)
                                  .getResult()
                            : acc[1];
                    scf::YieldOp::create(gb, gl, ValueRange{running, offset});
                  });
              Value dot = vector::ReductionOp::create(
                  ib, il, vector::CombiningKind::ADD, perGroup.getResult(0));
              Value total =
                  arith::AddFOp::create(ib, il, dot, perGroup.getResult(1));
              Value next = tensor::InsertOp::create(ib, il, total, itemIter[0],
                                                    ValueRange{item, row});
              scf::YieldOp::create(ib, il, next);
            });
        scf::YieldOp::create(rb, rl, items.getResult(0));
      });
  return rowLoop.getResult(0);
}

namespace {

/// Any RTN configuration: one contraction over (b, n, k) decoding w[n, k]
/// from its bits in the body.
Value genericProduct(OpBuilder &b, Location loc, Value x, Value packed,
                     const RtnStorage &s) {
  auto type = cast<PackedType>(packed.getType());
  auto rtn = cast<RtnAttr>(type.getScheme());
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t batch = xType.getDimSize(0), n = type.getRows(), k = type.getCols();
  int64_t bits = rtn.getBits(), group = static_cast<int64_t>(rtn.getGroup());
  bool symmetric = rtn.getSymmetric();
  MLIRContext *ctx = b.getContext();
  AffineExpr db, dn, dk;
  bindDims(ctx, db, dn, dk);
  // Per-group fp16 metadata as N x G i16, indexed by the contraction.
  auto metaType =
      RankedTensorType::get({n, rtn.getNumGroups(k)}, b.getI16Type());
  auto metadata = [&](Value bytes) -> Value {
    return BitUnpackOp::create(b, loc, metaType, bytes, b.getI64IntegerAttr(16),
                               UnitAttr());
  };
  SmallVector<Value> inputs = {x, metadata(s.scales)};
  SmallVector<AffineMap> maps = {
      AffineMap::get(3, 0, {db, dk}, ctx),
      AffineMap::get(3, 0, {dn, dk.floorDiv(group)}, ctx)};
  if (s.zeros) {
    inputs.push_back(metadata(s.zeros));
    maps.push_back(maps.back());
  }
  maps.push_back(AffineMap::get(3, 0, {db, dn}, ctx));
  SmallVector<utils::IteratorType> iterators = {utils::IteratorType::parallel,
                                                utils::IteratorType::parallel,
                                                utils::IteratorType::reduction};
  Value codes = s.codes;
  int64_t lastByte = s.codeBytes - 1;
  return contraction(
      b, loc, {batch, n}, maps, inputs, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args,
          ValueRange idx) -> Value {
        Value linear = arith::AddIOp::create(
            nb, nl,
            arith::MulIOp::create(nb, nl, idx[1], indexConstant(nb, nl, k)),
            idx[2]);
        Value bit =
            arith::MulIOp::create(nb, nl, linear, indexConstant(nb, nl, bits));
        Value q = extractBitField(nb, nl, codes, Value(), bit, bits, lastByte,
                                  nb.getI8Type(), symmetric);
        Value qf = symmetric
                       ? arith::SIToFPOp::create(nb, nl, nb.getF32Type(), q)
                             .getResult()
                       : arith::UIToFPOp::create(nb, nl, nb.getF32Type(), q)
                             .getResult();
        Value w = arith::MulFOp::create(nb, nl, qf, halfToF32(nb, nl, args[1]));
        if (s.zeros)
          w = arith::AddFOp::create(nb, nl, w, halfToF32(nb, nl, args[2]));
        Value product = arith::MulFOp::create(nb, nl, args[0], w);
        return arith::AddFOp::create(nb, nl, args.back(), product);
      });
}

/// x[:, parity::2] copied contiguous (M x K/2).
Value deinterleave(OpBuilder &b, Location loc, Value x, int64_t parity) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t m = type.getDimSize(0), half = type.getDimSize(1) / 2;
  MLIRContext *ctx = b.getContext();
  AffineExpr i, j;
  bindDims(ctx, i, j);
  SmallVector<AffineMap> maps = {AffineMap::get(2, 0, {i, j * 2 + parity}, ctx),
                                 AffineMap::get(2, 0, {i, j}, ctx)};
  Value init = tensor::EmptyOp::create(b, loc, {m, half}, b.getF32Type());
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{x}, ValueRange{init}, maps,
             SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
             [](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(nb, nl, args[0]);
             })
      .getResult(0);
}

/// 4-bit codes, groups of 32k dividing K: the f32 vector kernel.
Value vectorProduct(OpBuilder &b, Location loc, Value x, Value packed,
                    const RtnStorage &s) {
  auto type = cast<PackedType>(packed.getType());
  auto rtn = cast<RtnAttr>(type.getScheme());
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t batch = xType.getDimSize(0), n = type.getRows(), k = type.getCols();
  int64_t group = static_cast<int64_t>(rtn.getGroup());
  bool symmetric = rtn.getSymmetric();
  Value even = deinterleave(b, loc, x, 0), odd = deinterleave(b, loc, x, 1);
  Value sums = symmetric ? Value() : groupSums(b, loc, x, group);

  // Bytes per block: 32 (64 codes) when the group allows, else 16. Low and
  // high nibbles accumulate separately, so a block's FMAs do not wait on
  // each other.
  int64_t width = group % 64 == 0 ? 32 : 16;
  auto bytesVec = VectorType::get({width}, b.getI8Type());
  auto intVec = VectorType::get({width}, b.getI32Type());
  auto floatVec = VectorType::get({width}, b.getF32Type());
  Value zeroVec = arith::ConstantOp::create(
      b, loc, floatVec, DenseElementsAttr::get(floatVec, 0.0f));
  Value mask = arith::ConstantOp::create(
      b, loc, bytesVec,
      DenseElementsAttr::get(bytesVec, b.getI8IntegerAttr(15)));
  Value four = arith::ConstantOp::create(
      b, loc, bytesVec,
      DenseElementsAttr::get(bytesVec, b.getI8IntegerAttr(4)));
  Value padByte = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);
  Value padFloat = f32Constant(b, loc, 0.0f);
  Value c0 = indexConstant(b, loc, 0);

  // A block of code bytes as two f32 vectors: low and high nibbles (signed
  // two's complement nibbles when symmetric).
  auto nibbles = [&](OpBuilder &nb, Location nl, Value bytes) {
    Value lo, hi;
    if (symmetric) {
      lo = arith::ShRSIOp::create(
          nb, nl, arith::ShLIOp::create(nb, nl, bytes, four), four);
      hi = arith::ShRSIOp::create(nb, nl, bytes, four);
      lo = arith::ExtSIOp::create(nb, nl, intVec, lo);
      hi = arith::ExtSIOp::create(nb, nl, intVec, hi);
    } else {
      lo = arith::ExtUIOp::create(nb, nl, intVec,
                                  arith::AndIOp::create(nb, nl, bytes, mask));
      hi = arith::ExtUIOp::create(nb, nl, intVec,
                                  arith::ShRUIOp::create(nb, nl, bytes, four));
    }
    // 0..15 as signed i32: x86 has no unsigned vector conversion before
    // AVX-512, and sitofp is one instruction.
    return std::make_pair(
        arith::SIToFPOp::create(nb, nl, floatVec, lo).getResult(),
        arith::SIToFPOp::create(nb, nl, floatVec, hi).getResult());
  };

  return groupLoops(
      b, loc, batch, n, k, group,
      [&](OpBuilder &gb, Location gl, const GroupPosition &p) -> GroupTerm {
        // One block: FMAs of its nibbles into (lo, hi).
        auto block = [&](OpBuilder &kb, Location kl, Value j, Value accLo,
                         Value accHi) {
          Value at = arith::AddIOp::create(kb, kl, p.base, j);
          Value byteAt = arith::AddIOp::create(kb, kl, p.rowByte, at);
          Value bytes = vector::TransferReadOp::create(
              kb, kl, bytesVec, s.codes, ValueRange{byteAt}, padByte,
              ArrayRef<bool>{true});
          auto [lo, hi] = nibbles(kb, kl, bytes);
          Value xe = vector::TransferReadOp::create(
              kb, kl, floatVec, even, ValueRange{p.item, at}, padFloat,
              ArrayRef<bool>{true});
          Value xo = vector::TransferReadOp::create(
              kb, kl, floatVec, odd, ValueRange{p.item, at}, padFloat,
              ArrayRef<bool>{true});
          return std::make_pair(
              vector::FMAOp::create(kb, kl, lo, xe, accLo).getResult(),
              vector::FMAOp::create(kb, kl, hi, xo, accHi).getResult());
        };
        // A few blocks per group (g = 128: 2) are unrolled: a two-trip loop
        // per group costs branches and registers.
        int64_t trips = group / 2 / width;
        Value sumLo = zeroVec, sumHi = zeroVec;
        if (trips <= 4) {
          for (int64_t t = 0; t < trips; ++t)
            std::tie(sumLo, sumHi) =
                block(gb, gl, indexConstant(gb, gl, t * width), sumLo, sumHi);
        } else {
          auto blocks = scf::ForOp::create(
              gb, gl, c0, indexConstant(gb, gl, group / 2),
              indexConstant(gb, gl, width), ValueRange{zeroVec, zeroVec},
              [&](OpBuilder &kb, Location kl, Value j, ValueRange acc) {
                auto [lo, hi] = block(kb, kl, j, acc[0], acc[1]);
                scf::YieldOp::create(kb, kl, ValueRange{lo, hi});
              });
          sumLo = blocks.getResult(0);
          sumHi = blocks.getResult(1);
        }
        // The group's sum folded to 8 lanes.
        Value groupSum = arith::AddFOp::create(gb, gl, sumLo, sumHi);
        Value lanes = vector::ExtractStridedSliceOp::create(
            gb, gl, groupSum, ArrayRef<int64_t>{0}, ArrayRef<int64_t>{8},
            ArrayRef<int64_t>{1});
        for (int64_t at = 8; at < width; at += 8)
          lanes = arith::AddFOp::create(
              gb, gl, lanes,
              vector::ExtractStridedSliceOp::create(
                  gb, gl, groupSum, ArrayRef<int64_t>{at}, ArrayRef<int64_t>{8},
                  ArrayRef<int64_t>{1}));
        GroupTerm t{lanes, halfAt(gb, gl, s.scales, p.meta), Value()};
        if (!symmetric)
          t.offset = arith::MulFOp::create(
              gb, gl, halfAt(gb, gl, s.zeros, p.meta),
              tensor::ExtractOp::create(gb, gl, sums, ValueRange{p.item, p.g}));
        return t;
      });
}

struct RtnQMatmulLowering : QMatmulLowering<RtnAttr> {
  RtnQMatmulLowering(MLIRContext *context, ActivationPrecision activations)
      : QMatmulLowering(context), activations(activations) {}

  Value build(PatternRewriter &rewriter, QMatmulOp op, RtnAttr rtn,
              Value x) const override {
    PackedType type = op.getWeight().getType();
    Location loc = op.getLoc();
    RtnStorage storage = readRtnStorage(rewriter, loc, op.getWeight());
    int64_t k = type.getCols(), group = static_cast<int64_t>(rtn.getGroup());
    if (integerInputApplies(rtn, k, activations))
      return integerInputProduct(rewriter, loc, x, op.getWeight(), storage,
                                 activations);
    if (activations != ActivationPrecision::F32)
      op.emitRemark() << "convert-qet-to-scf: activations="
                      << (activations == ActivationPrecision::I8 ? "i8" : "i16")
                      << " needs 4-bit codes and groups of a multiple of "
                      << (activations == ActivationPrecision::I8
                              ? "32"
                              : "64 up to 512")
                      << " dividing K; this product keeps f32 inputs";
    bool vectorized = rtn.getBits() == 4 && group % 32 == 0 && k % group == 0;
    return vectorized
               ? vectorProduct(rewriter, loc, x, op.getWeight(), storage)
               : genericProduct(rewriter, loc, x, op.getWeight(), storage);
  }

  ActivationPrecision activations;
};

} // namespace

void mlir::qet::populateRtnQMatmulToScfPatterns(
    RewritePatternSet &patterns, ActivationPrecision activations) {
  patterns.add<RtnQMatmulLowering>(patterns.getContext(), activations);
}
