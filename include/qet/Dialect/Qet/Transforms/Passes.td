//===- Passes.td - Transformation passes of the qet dialect -*- tablegen -*-===//

#ifndef QET_DIALECT_QET_TRANSFORMS_PASSES_TD
#define QET_DIALECT_QET_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QetQuantizeWeights : Pass<"qet-quantize-weights", "::mlir::ModuleOp"> {
  let summary = "Quantize weight constants of matrix products at compile time";
  let description = [{
    Finds float constants (dense or `dense_resource`; f32, f16, bf16) that
    feed a contraction (`linalg.matmul` with any operand layout,
    `linalg.matvec`, `linalg.batch_matmul`, `linalg.generic` contractions),
    quantizes each with the quantizer library (in parallel across weights)
    and replaces the use by `qet.constant` + `qet.dequantize` (+ the
    transpose/reshape back to the operand's layout).

    The packed matrix has one row per output feature and the reduction
    dimension along its rows (weights [K, N] are stored as N x K), so
    groups and subspaces run along the dot products. Batch dimensions are
    folded into rows.

    Each quantized weight gets a remark with its exact bits per element and
    error; a constant that cannot be quantized (integer type, not a
    contraction operand shape the pass understands, below `min-elements`)
    is left alone with a remark that says why. A NaN/Inf weight or a budget
    the scheme cannot meet is an error.
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", /*default=*/"\"rtn\"",
           "Quantization scheme: rtn, rtn-sym, pq, opq, lopq, hera, qet, vptq">,
    Option<"bpe", "bpe", "double", /*default=*/"4.0",
           "Bits-per-element budget (every stored bit counted)">,
    Option<"bits", "bits", "unsigned", /*default=*/"0",
           "RTN code width (0 = the largest within the budget)">,
    Option<"group", "group", "unsigned", /*default=*/"128",
           "RTN group length">,
    Option<"subspaces", "subspaces", "unsigned", /*default=*/"0",
           "Codebook schemes: subspaces M (0 = search)">,
    ListOption<"depths", "depths", "unsigned",
               "HERA/QET: swap-tree depth per stage (empty = search)">,
    Option<"minElements", "min-elements", "int64_t", /*default=*/"4096",
           "Leave smaller constants dense">,
    Option<"seed", "seed", "uint64_t", /*default=*/"123",
           "Seed of every random choice (same seed, same output)">,
  ];
  let dependentDialects = [
    "::mlir::qet::QetDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def QetDecompose : Pass<"qet-decompose"> {
  let summary = "Rewrite qet.dequantize into the decode primitives";
  let description = [{
    Replaces `qet.dequantize` of each scheme by the primitive ops that
    decode it from its storage components (`qet.storage`), computing what
    the quantizer library's decoder computes:
    * RTN: `bit_unpack` codes, fp16 scales/zero points -> `group_decode`;
    * PQ/OPQ: `bit_unpack` codes and codebooks -> `vq_decode` (-> times
      R^T for OPQ, a `linalg.matmul`);
    * HERA/QET: per stage `vq_decode` (codebook levels decoded on their
      grid first) -> `unswap_tree` -> `residual_sum`;
    * LOPQ: per cluster the OPQ decode of its rows, stacked; a sequential
      `scf.for` scan of the labels gives each row its cluster row, then a
      gather;
    * VPTQ: word-aligned index rows (2-D `bit_unpack`) -> per column group
      `vq_decode` with the group's shared codebook (+ residual codebook,
      `residual_sum`), outlier columns likewise; the inverse column
      permutation (an `scf.for` scatter) and per-column scale/bias in one
      gather.
    QJL keys keep their `qet.dequantize`, with a remark (their decode is the
    estimator's implied keys, for the fused attention op);
    `qet-verify-lowered` then names them.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def QetFuseDequant : Pass<"qet-fuse-dequant"> {
  let summary = "Fuse weight decoding into the matrix products that use it";
  let description = [{
    A product whose weight operand is a `qet.dequantize` (as
    `qet-quantize-weights` writes it) becomes `qet.qmatmul`, which decodes
    inside the product and never materializes the dense weight:
    `linalg.matmul(x, transpose(dequantize(p)))`, `linalg.matmul` with the
    weight indexed (n, k), and `linalg.matvec(dequantize(p), x)`.
    `linalg.batch_matmul` whose weight is one decoded matrix for every
    batch element (a 2-D operand the indexing map broadcasts,
    `linalg.broadcast` of it, or for a batch of one its
    `tensor.expand_shape`; directly indexed (b, n, k) or under the
    [0, 2, 1] transpose) becomes `qet.qmatmul` of the input collapsed to
    (B M) x K, expanded back. Per-batch weights (`qet-quantize-weights`
    stacks B slabs into one (B N) x K matrix) keep the decoded matrix. A
    zero-filled accumulator is dropped; any other is added to the product.

    Attention over packed QJL keys becomes `qet.qjl_attention`. The one
    form matched, from its last op back:
    `linalg.matmul(linalg.softmax dimension(1) (S), V)` where S is the
    score matrix (heads x tokens, f32), optionally scaled by an f32
    constant in an element-wise `linalg.generic` (`in * c`; `scale` = c,
    else 1), and the score is `qet.qmatmul %q, %keys` of a `#qet.qjl` key
    matrix or the `linalg.matmul` of `%q` and its `qet.dequantize` (the
    estimator's implied keys, so the product is the estimator) that
    becomes it, into a zero-filled accumulator. The value product must
    accumulate in f32. The chain stays when the score, the scaled score or
    the softmax has another user.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def QetExternalize : Pass<"qet-externalize", "::mlir::ModuleOp"> {
  let summary = "Move qet.constant payloads into a .qpk container file";
  let description = [{
    Writes every `qet.constant` of the module as one tensor (`w0`, `w1`, ...
    in walk order) of the container `file`, with the scheme's library name
    and parameters, so `qet-quantize --inspect` and the runtime's
    `qet_tensor_lookup` read it, and replaces it by
    `qet.external_constant "file"["wN"]`. The module then holds no weight
    bytes; `convert-qet-to-runtime` makes the generated code load each
    component through the runtime library when it is first read. A module
    that already reads `file` is an error (its tensors would be renumbered).

    The file is written atomically. An existing file is an error unless
    `replace` is set; on any error the IR and the file system are left as
    they were.
  }];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"",
           "Container to write (.qpk); the generated code opens this path">,
    Option<"replace", "replace", "bool", /*default=*/"false",
           "Replace an existing file">,
  ];
}

def QetVerifyLowered : Pass<"qet-verify-lowered", "::mlir::ModuleOp"> {
  let summary = "Fail if any qet op or packed type survives";
  let description = [{
    Run before bufferization: every `qet` op must have been decomposed and
    lowered, and no value, argument or function signature may still have a
    `!qet.packed` type. Each survivor is reported with its location.
  }];
}

#endif // QET_DIALECT_QET_TRANSFORMS_PASSES_TD
