//===- Passes.td - Conversion passes of qet ----------------*- tablegen -*-===//

#ifndef QET_CONVERSION_PASSES_TD
#define QET_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQetToLinalg : Pass<"convert-qet-to-linalg"> {
  let summary = "Lower qet encode/decode primitives to linalg on tensors";
  let description = [{
    Rewrites `qet.group_encode` and `qet.group_decode` into `linalg.generic`
    ops on tensors (per-group reductions, then element-wise code or value
    computation), so the result bufferizes and lowers with the upstream CPU
    or GPU pipelines. Groups are addressed with `d floordiv group` indexing
    maps, so rows whose length is not a multiple of the group need no
    padding. Arithmetic follows the quantizer library exactly: fp32 compute
    (the input type when wider), scales and zero points rounded to their
    element type, round-half-to-even codes, no fused multiply-add.

    The decode primitives `qet.bit_unpack`, `qet.vq_decode`,
    `qet.unswap_tree` (one generic per tree layer) and `qet.residual_sum`
    become element-wise generics whose bodies gather with `tensor.extract`.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // QET_CONVERSION_PASSES_TD
