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

def ConvertQetToScf : Pass<"convert-qet-to-scf"> {
  let summary = "Generate loops for the fused qet ops";
  let description = [{
    `qet.qmatmul` of RTN weights becomes code that decodes inside the
    product and never materializes the weight: for 4-bit codes with groups
    of a multiple of 32 that divide K, `scf.for` loops (rows, batch, groups)
    around vector code: blocks of 32 (or 16) code bytes -> two f32 vectors
    of nibbles FMA'd into separate accumulators with x's even and odd
    elements (de-interleaved once per call), a group's blocks unrolled, its
    sum folded to 8 lanes and scaled into a running vector, zero points
    through the group sums of x. Any other RTN configuration becomes one
    `linalg.generic` contraction that decodes each code in its body.
    PQ/OPQ use lookup tables: T[b, s, c] = <x'_s, C[s, c]> (x' = x R for
    OPQ), then y[b, n] = sum_s T[b, s, code(n, s)] with the codes read from
    their bits. VPTQ sums codebook entries (indices read from their
    word-aligned rows) against the input permuted and scaled once, plus the
    outlier columns and the bias term. LOPQ, HERA and QET are decoded with
    `qet.dequantize` and multiplied by a `linalg` contraction, with a remark
    (no fused kernel yet).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def ConvertQetToRuntime : Pass<"convert-qet-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower qet ops to calls into the runtime library";
  let description = [{
    Calls into `libqet_runtime` (declared with `llvm.emit_c_interface`;
    strings are private constant globals). Link or load the library.
    * `qet.qmatmul` runs the runtime's kernels: `qetMatmul(file, tensor, x,
      y)` for a `qet.external_constant` weight of any scheme (the tensor is
      bound once from its container), `qetRtnMatmul(codes, scales, zeros,
      rows, cols, bits, group, x, y)` for an RTN weight held by the module.
      Other schemes must be externalized first (error otherwise). With
      `convert-qet-to-scf` run before, no `qet.qmatmul` is left here.
    * Every `qet.storage` of a `qet.external_constant` reads a private,
      uninitialized `memref.global` buffer of the component's size (no bytes
      in object files), filled by `qetLoadSection(file, tensor, section,
      buffer, loaded)` at the entry of each function that reads it (one
      call and one `bufferization.to_tensor restrict` per function and
      buffer). The runtime opens each file once, checks a section's CRC-32C
      and copies it into the buffer while the one-byte global `loaded` is 0,
      then sets it (code loaded again loads again).
    Packed constants left without uses are erased.
    The runtime exits with a message if a file, tensor or section is
    missing, corrupt or of another shape than the code was compiled for.

    Run after `qet-decompose` (which reads packed values through
    `qet.storage`) and before bufferization.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // QET_CONVERSION_PASSES_TD
