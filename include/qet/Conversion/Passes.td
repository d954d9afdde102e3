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

def ConvertQetToRuntime : Pass<"convert-qet-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower qet ops to calls into the runtime library";
  let description = [{
    Every `qet.storage` of a `qet.external_constant` reads a private,
    uninitialized `memref.global` buffer of the component's size (no bytes
    in object files), filled by a call of the runtime's
    `qetLoadSection(file, tensor, section, buffer)` (declared with
    `llvm.emit_c_interface`; the strings are private constant globals) and
    wrapped by `bufferization.to_tensor restrict`. The runtime opens each
    file once, copies a section into its buffer on the first call only
    (later calls return at once), checks the section's CRC-32C, and exits
    with a message if the file, tensor or section is missing, corrupt or of
    another size than the code was compiled for. Link or load
    `libqet_runtime`.

    Run after `qet-decompose` (which reads packed values through
    `qet.storage`) and before bufferization.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

#endif // QET_CONVERSION_PASSES_TD
