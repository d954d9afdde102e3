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
    OPQ), then y[b, n] = sum_s T[b, s, code(n, s)]: byte codes with M a
    multiple of 8 are summed eight at a time (an 8-byte code read and a
    `vector.gather` from the tables), other widths read from their bits.
    VPTQ: per batch item and vector row, a vector<v x f32> accumulator takes
    each column's codebook entry (+ residual), its index read once per
    vector from its word-aligned row, times the input permuted and scaled
    once; then the outlier columns, seeded with the bias term. HERA/QET: per
    row, each stage's codewords are copied into a row buffer, the row's swap
    tree is undone layer by layer with vector selects (mask from 8 swap bits)
    and interleaves, and the decoded row is dotted with every input. QJL
    keys (`qet.qmatmul`, `qet.qjl_score`, `qet.qjl_attention`): the
    projected query S q is formed once, each sign byte becomes a
    vector<8xi1> mask that selects the projected entries, the score is
    norm / (m kappa) * (2 sum_sel - sum) (kappa = sqrt(2/pi) for
    `qet.qjl_score`, the scheme's kappa for packed keys), outliers as the
    scheme stores them; attention adds a max-subtracted softmax and the value product;
    `qet.qjl_sketch` packs sign bits and norms. LOPQ: per non-empty
    cluster, the OPQ product of its rows (x R_c, its tables), stacked in
    cluster order and read back per row at its place from a scan of the
    labels.

    `activations=i16|i8` lets the 4-bit RTN kernel quantize each group of
    the input to 16/8-bit integers (symmetric, scale max|x_g| / 32767 or
    / 127, round to nearest even) and form the products with integer
    multiply-adds (x86: `vpmaddwd` / `vpmaddubsw`), once per call. Codes are
    centred (c = q - 8), so the offsets m = z + 8 s (0 when symmetric)
    multiply the exact f32 group sums of x, and each output differs from the
    f32 product by at most sum_k |w_k - m_g(k)| max|x_g(k)| / (2L) (L = 32767
    or 127) plus f32 rounding. i16 takes groups of a multiple of 64 up to 512
    (its f32 group sums of the quantized input stay exact), i8 groups of a
    multiple of 32; others keep f32 inputs, with a remark. The default,
    `f32`, keeps the input in f32.
  }];
  let options = [
    Option<"activations", "activations", "::mlir::qet::ActivationPrecision",
           /*default=*/"::mlir::qet::ActivationPrecision::F32",
           "Input precision of the 4-bit RTN product",
           [{::llvm::cl::values(
             clEnumValN(::mlir::qet::ActivationPrecision::F32, "f32",
                        "f32 input, f32 products (exact up to rounding)"),
             clEnumValN(::mlir::qet::ActivationPrecision::I16, "i16",
                        "input quantized per group to 16 bits"),
             clEnumValN(::mlir::qet::ActivationPrecision::I8, "i8",
                        "input quantized per group to 8 bits"))}]>
  ];
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
    * `qet.qjl_attention` (and `qet.qmatmul` of QJL keys: the scores) runs
      the runtime's QJL score kernel: `qetQjlAttention(file, tensor, q, v,
      scale, out)` for externalized keys, `qetQjlHeldAttention` /
      `qetQjlHeldScores` (the five key components and the scheme's
      parameters) for keys held by the module; softmax and the value
      product follow in the library's order. `qet.qjl_score` and
      `qet.qjl_sketch` take an explicit JL matrix the runtime cannot use:
      an error here (use `convert-qet-to-scf`).
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
