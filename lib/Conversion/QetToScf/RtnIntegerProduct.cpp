//===- RtnIntegerProduct.cpp - 4-bit RTN products on integer inputs -------===//
//
// convert-qet-to-scf{activations=i8|i16}. Once per call every group g of
// every input row b is quantized symmetrically to L = 127 or 32767 levels:
// sx[b, g] = max |x_g| / L, xq = round(x / sx). Per weight row and group,
// sum_k x_k q_k is then sx * sum_k xq_k q_k, an exact integer dot product
// written in the shapes that LLVM's x86 backend selects as one instruction:
//   i8:  (u8 x s8 pairs summed, saturated to i16)  -> vpmaddubsw
//   i16: (s16 x s16 pairs summed to i32)           -> vpmaddwd
// (other targets compute the same integers with plain vector ops). Codes
// must be the unsigned operand, so symmetric codes are read as u = q + 8
// (the nibble xor 8). Both kinds then take 8 sum_k xq_k off through the
// offset term, so the rounded input multiplies centred codes c = u - 8 in
// [-8, 7]: with w = s c + m (m = z + 8 s asymmetric, 0 symmetric) the
// offsets m multiply the exact f32 group sums of x, and an output is off by
// at most sum_k |w_k - m| sx / 2, not the larger sum_k |w_k - z| sx / 2 of
// uncentred asymmetric codes. No saturation can happen: a u8 x s8 pair sums
// to at most 2 * 15 * 127.
//
// Layouts: i8 reads 32 (or 16) code bytes, low nibbles (even k) against
// x's even elements and high nibbles (odd k) against the odd ones. i16 reads
// the same bytes as 16 little-endian i16 lanes of four nibbles, k = 4 l + r,
// against four stride-4 copies of x; a nibble is one shift and one mask.
//
//===----------------------------------------------------------------------===//

#include "QetToScfPatterns.h"
#include "RtnKernels.h"

#include "qet/Dialect/Qet/Utils/ElementwiseBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::qet;

namespace {

template <typename T>
Value splat(OpBuilder &b, Location loc, VectorType type, T value) {
  return arith::ConstantOp::create(b, loc, type,
                                   DenseElementsAttr::get(type, value));
}

/// Round to nearest, ties to even, for |v| < 2^22: adding 1.5 * 2^23 leaves
/// no fraction bits (the pipeline never reassociates floats).
Value roundEven(OpBuilder &b, Location loc, Value v) {
  Value magic = f32Constant(b, loc, 12582912.0f);
  return arith::SubFOp::create(b, loc, arith::AddFOp::create(b, loc, v, magic),
                               magic);
}

/// xq[b, j] = round(x[b, stride * j + offset] * inverse[b, group of it]),
/// in [-levels, levels].
Value quantizedLanes(OpBuilder &b, Location loc, Value x, Value inverse,
                     int64_t group, int64_t stride, int64_t offset,
                     Type laneType, float levels) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t m = type.getDimSize(0), lanes = type.getDimSize(1) / stride;
  MLIRContext *ctx = b.getContext();
  AffineExpr i, j;
  bindDims(ctx, i, j);
  AffineExpr k = j * stride + offset;
  SmallVector<AffineMap> maps = {
      AffineMap::get(2, 0, {i, k}, ctx),
      AffineMap::get(2, 0, {i, k.floorDiv(group)}, ctx),
      AffineMap::get(2, 0, {i, j}, ctx)};
  Value init = tensor::EmptyOp::create(b, loc, {m, lanes}, laneType);
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{x, inverse}, ValueRange{init},
             maps,
             SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value v = roundEven(
                   nb, nl, arith::MulFOp::create(nb, nl, args[0], args[1]));
               // |v| <= L already; the clamp gives NaN (from Inf or NaN
               // inputs, whose outputs are NaN through sx anyway) a
               // defined integer instead of fptosi's poison.
               v = arith::MaxNumFOp::create(
                   nb, nl,
                   arith::MinNumFOp::create(nb, nl, v,
                                            f32Constant(nb, nl, levels)),
                   f32Constant(nb, nl, -levels));
               Value q = arith::FPToSIOp::create(nb, nl, laneType, v);
               linalg::YieldOp::create(nb, nl, q);
             })
      .getResult(0);
}

/// Lanes 0, 2, 4, ... (parity 0) or 1, 3, 5, ... (parity 1) of `v`.
Value halfLanes(OpBuilder &b, Location loc, Value v, int64_t parity) {
  int64_t n = cast<VectorType>(v.getType()).getDimSize(0);
  SmallVector<int64_t> mask;
  for (int64_t i = parity; i < n; i += 2)
    mask.push_back(i);
  return vector::ShuffleOp::create(b, loc, v, v, mask);
}

/// sum of the products of adjacent lane pairs of `a` and `b`, widened to
/// `wide` per side (`unsignedA`: `a` zero-extended).
Value pairProducts(OpBuilder &b, Location loc, Value a, Value bv, Type wide,
                   bool unsignedA) {
  int64_t n = cast<VectorType>(a.getType()).getDimSize(0) / 2;
  auto wideVec = VectorType::get({n}, wide);
  auto extend = [&](Value v, bool zero) -> Value {
    if (zero)
      return arith::ExtUIOp::create(b, loc, wideVec, v);
    return arith::ExtSIOp::create(b, loc, wideVec, v);
  };
  Value sum;
  for (int64_t parity = 0; parity < 2; ++parity) {
    Value product = arith::MulIOp::create(
        b, loc, extend(halfLanes(b, loc, a, parity), unsignedA),
        extend(halfLanes(b, loc, bv, parity), false));
    sum =
        sum ? arith::AddIOp::create(b, loc, sum, product).getResult() : product;
  }
  return sum;
}

/// vpmaddubsw: u8 `codes` times s8 `xq`, adjacent pairs summed and
/// saturated to i16 (the saturation never bites here, but the backend
/// needs it to select the instruction).
Value multiplyAddBytes(OpBuilder &b, Location loc, Value codes, Value xq) {
  int64_t n = cast<VectorType>(codes.getType()).getDimSize(0) / 2;
  auto wideVec = VectorType::get({n}, b.getI32Type());
  Value sum = pairProducts(b, loc, codes, xq, b.getI32Type(), true);
  sum = arith::MinSIOp::create(b, loc, sum, splat(b, loc, wideVec, 32767));
  sum = arith::MaxSIOp::create(b, loc, sum, splat(b, loc, wideVec, -32768));
  return arith::TruncIOp::create(b, loc, VectorType::get({n}, b.getI16Type()),
                                 sum);
}

/// vpmaddwd: s16 times s16, adjacent pairs summed to i32.
Value multiplyAddWords(OpBuilder &b, Location loc, Value codes, Value xq) {
  return pairProducts(b, loc, codes, xq, b.getI32Type(), false);
}

/// An i16 vector of 8 or 16 lanes summed into 8 i32 lanes.
Value widenToEightLanes(OpBuilder &b, Location loc, Value v) {
  auto eight = VectorType::get({8}, b.getI32Type());
  if (cast<VectorType>(v.getType()).getDimSize(0) == 8)
    return arith::ExtSIOp::create(b, loc, eight, v);
  auto half = [&](int64_t at) -> Value {
    return arith::ExtSIOp::create(
        b, loc, eight,
        vector::ExtractStridedSliceOp::create(b, loc, v, ArrayRef<int64_t>{at},
                                              ArrayRef<int64_t>{8},
                                              ArrayRef<int64_t>{1}));
  };
  return arith::AddIOp::create(b, loc, half(0), half(8));
}

} // namespace

bool mlir::qet::integerInputApplies(RtnAttr rtn, int64_t k,
                                    ActivationPrecision activations) {
  int64_t group = static_cast<int64_t>(rtn.getGroup());
  if (activations == ActivationPrecision::F32 || rtn.getBits() != 4 ||
      k % group != 0)
    return false;
  if (activations == ActivationPrecision::I8)
    return group % 32 == 0;
  // The group sums of xq are taken in f32 and must stay exact integers:
  // 512 * 32767 < 2^24 (i8: 127 * group, any group here).
  return group % 64 == 0 && group <= 512;
}

Value mlir::qet::integerInputProduct(OpBuilder &b, Location loc, Value x,
                                     Value packed, const RtnStorage &s,
                                     ActivationPrecision activations) {
  auto type = cast<PackedType>(packed.getType());
  auto rtn = cast<RtnAttr>(type.getScheme());
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t batch = xType.getDimSize(0), n = type.getRows(), k = type.getCols();
  int64_t group = static_cast<int64_t>(rtn.getGroup());
  bool symmetric = rtn.getSymmetric();
  bool bytes8 = activations == ActivationPrecision::I8;
  float levels = bytes8 ? 127.0f : 32767.0f;
  Type laneType = bytes8 ? b.getI8Type() : b.getI16Type();

  // Per-group input scales and the quantized input.
  Value absMax = groupReduce(
      b, loc, x, group, ValueRange{},
      [](OpBuilder &nb, Location nl, Value acc, Value v, ValueRange) -> Value {
        Value magnitude = arith::MaximumFOp::create(
            nb, nl, v, arith::NegFOp::create(nb, nl, v));
        return arith::MaximumFOp::create(nb, nl, acc, magnitude);
      });
  Value scales = mapElements(b, loc, absMax, b.getF32Type(),
                             [&](OpBuilder &nb, Location nl, Value m) -> Value {
                               return arith::DivFOp::create(
                                   nb, nl, m, f32Constant(nb, nl, levels));
                             });
  // 1 / sx; 0 for groups too small to scale (below 2^-100 the quantized
  // input would be all zeros anyway, and L / max could overflow).
  Value inverses = mapElements(
      b, loc, absMax, b.getF32Type(),
      [&](OpBuilder &nb, Location nl, Value m) -> Value {
        Value usable = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT,
                                             m, f32Constant(nb, nl, 0x1p-100f));
        Value inverse =
            arith::DivFOp::create(nb, nl, f32Constant(nb, nl, levels), m);
        return arith::SelectOp::create(nb, nl, usable, inverse,
                                       f32Constant(nb, nl, 0.0f));
      });
  int64_t stride = bytes8 ? 2 : 4;
  SmallVector<Value> xq;
  for (int64_t r = 0; r < stride; ++r)
    xq.push_back(quantizedLanes(b, loc, x, inverses, group, stride, r, laneType,
                                levels));
  // The group sums of xq (exact in f32: at most 32767 * 512 < 2^24) and,
  // for the offsets m, of x.
  Value quantizedSums = groupReduce(
      b, loc, x, group, ValueRange{inverses},
      [](OpBuilder &nb, Location nl, Value acc, Value v,
         ValueRange inverse) -> Value {
        Value scaled = arith::MulFOp::create(nb, nl, v, inverse[0]);
        return arith::AddFOp::create(nb, nl, acc, roundEven(nb, nl, scaled));
      });
  Value sums = symmetric ? Value() : groupSums(b, loc, x, group);

  int64_t width = (bytes8 && group % 64 != 0) ? 16 : 32;
  int64_t trips = group / 2 / width;
  auto bytesVec = VectorType::get({width}, b.getI8Type());
  auto wordVec = VectorType::get({16}, b.getI16Type());
  auto fourLaneVec = VectorType::get({16}, b.getI16Type());
  auto i32Lanes = VectorType::get({8}, b.getI32Type());
  Value padByte = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);
  Value padLane = arith::ConstantIntOp::create(b, loc, laneType, 0);
  Value flip = splat(b, loc, bytesVec, b.getI8IntegerAttr(0x88));
  Value byteMask = splat(b, loc, bytesVec, b.getI8IntegerAttr(15));
  Value byteShift = splat(b, loc, bytesVec, b.getI8IntegerAttr(4));
  Value wordMask = splat(b, loc, wordVec, b.getI16IntegerAttr(15));
  Value zeroI32 = splat(b, loc, i32Lanes, b.getI32IntegerAttr(0));
  Value c0 = indexConstant(b, loc, 0);

  // One block of `width` code bytes against the quantized input: i16 lanes
  // (i8 input, summed in i16 within a group) or i32 lanes (i16 input).
  auto block = [&](OpBuilder &kb, Location kl, Value rowByte, Value item,
                   Value at) -> Value {
    Value bytes = vector::TransferReadOp::create(
        kb, kl, bytesVec, s.codes,
        ValueRange{arith::AddIOp::create(kb, kl, rowByte, at)}, padByte,
        ArrayRef<bool>{true});
    if (symmetric)
      bytes = arith::XOrIOp::create(kb, kl, bytes, flip);
    if (bytes8) {
      auto input = [&](int64_t parity) -> Value {
        return vector::TransferReadOp::create(kb, kl, bytesVec, xq[parity],
                                              ValueRange{item, at}, padLane,
                                              ArrayRef<bool>{true});
      };
      Value lo = arith::AndIOp::create(kb, kl, bytes, byteMask);
      Value hi = arith::ShRUIOp::create(kb, kl, bytes, byteShift);
      return arith::AddIOp::create(kb, kl,
                                   multiplyAddBytes(kb, kl, lo, input(0)),
                                   multiplyAddBytes(kb, kl, hi, input(1)));
    }
    Value words = vector::BitCastOp::create(kb, kl, wordVec, bytes);
    Value lane = arith::DivUIOp::create(kb, kl, at, indexConstant(kb, kl, 2));
    Value sum;
    for (int64_t r = 0; r < 4; ++r) {
      Value nibble = words;
      if (r > 0)
        nibble = arith::ShRUIOp::create(
            kb, kl, nibble,
            splat(kb, kl, wordVec, kb.getI16IntegerAttr(4 * r)));
      if (r < 3)
        nibble = arith::AndIOp::create(kb, kl, nibble, wordMask);
      Value input = vector::TransferReadOp::create(
          kb, kl, fourLaneVec, xq[r], ValueRange{item, lane}, padLane,
          ArrayRef<bool>{true});
      Value products = multiplyAddWords(kb, kl, nibble, input);
      sum = sum ? arith::AddIOp::create(kb, kl, sum, products).getResult()
                : products;
    }
    return sum;
  };

  return groupLoops(
      b, loc, batch, n, k, group,
      [&](OpBuilder &gb, Location gl, const GroupPosition &p) -> GroupTerm {
        auto blockAt = [&](OpBuilder &kb, Location kl, Value j) {
          return block(kb, kl, p.rowByte, p.item,
                       arith::AddIOp::create(kb, kl, p.base, j));
        };
        auto toI32 = [&](OpBuilder &kb, Location kl, Value v) {
          return bytes8 ? widenToEightLanes(kb, kl, v) : v;
        };
        // Up to four blocks (g <= 256 bytes of codes) are unrolled; i8
        // products are summed in i16 first (4 * 2 * 3810 < 2^15).
        Value lanes;
        if (trips <= 4) {
          Value sum;
          for (int64_t t = 0; t < trips; ++t) {
            Value part = blockAt(gb, gl, indexConstant(gb, gl, t * width));
            sum = sum ? arith::AddIOp::create(gb, gl, sum, part).getResult()
                      : part;
          }
          lanes = toI32(gb, gl, sum);
        } else {
          lanes = scf::ForOp::create(
                      gb, gl, c0, indexConstant(gb, gl, group / 2),
                      indexConstant(gb, gl, width), ValueRange{zeroI32},
                      [&](OpBuilder &kb, Location kl, Value j, ValueRange acc) {
                        Value part = toI32(kb, kl, blockAt(kb, kl, j));
                        scf::YieldOp::create(kb, kl,
                                             ValueRange{arith::AddIOp::create(
                                                 kb, kl, acc[0], part)});
                      })
                      .getResult(0);
        }
        Value weightScale = halfAt(gb, gl, s.scales, p.meta);
        SmallVector<Value, 2> itemGroup = {p.item, p.g};
        Value inputScale = tensor::ExtractOp::create(gb, gl, scales, itemGroup);
        Value quantizedSum =
            tensor::ExtractOp::create(gb, gl, quantizedSums, itemGroup);
        Value eight = f32Constant(gb, gl, 8.0f);
        GroupTerm t;
        t.lanes = arith::SIToFPOp::create(
            gb, gl, VectorType::get({8}, gb.getF32Type()), lanes);
        t.scale = arith::MulFOp::create(gb, gl, weightScale, inputScale);
        // scale * sum_k c_k xq_k = scale * (S - 8 sum_k xq_k).
        t.offset = arith::MulFOp::create(
            gb, gl, arith::NegFOp::create(gb, gl, t.scale),
            arith::MulFOp::create(gb, gl, eight, quantizedSum));
        if (!symmetric) {
          // + (z + 8 s) X[item, g].
          Value offset = arith::AddFOp::create(
              gb, gl, halfAt(gb, gl, s.zeros, p.meta),
              arith::MulFOp::create(gb, gl, eight, weightScale));
          Value sum = tensor::ExtractOp::create(gb, gl, sums, itemGroup);
          t.offset = arith::AddFOp::create(
              gb, gl, t.offset, arith::MulFOp::create(gb, gl, offset, sum));
        }
        return t;
      });
}
