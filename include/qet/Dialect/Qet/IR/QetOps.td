//===- QetOps.td - Operations of the qet dialect -----------*- tablegen -*-===//

#ifndef QET_DIALECT_QET_IR_QETOPS_TD
#define QET_DIALECT_QET_IR_QETOPS_TD

include "qet/Dialect/Qet/IR/QetDialect.td"
include "qet/Dialect/Qet/IR/QetAttrs.td"
include "qet/Dialect/Qet/IR/QetTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Qet_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Qet_CodeTensor : RankedTensorOf<[AnySignlessInteger]>;
def Qet_ByteTensor : 1DTensorOf<[I8]>;
def Qet_Matrix : 2DTensorOf<[AnyFloat]>;

//===----------------------------------------------------------------------===//
// Packed storage
//===----------------------------------------------------------------------===//

def Qet_ConstantOp : Qet_Op<"constant", [Pure]> {
  let summary = "A packed matrix known at compile time";
  let description = [{
    Holds the storage components of a packed matrix as byte tensors, one
    dictionary entry per component of the scheme (see
    `SchemeAttrInterface`): each is a `tensor<Bxi8>` with exactly
    ceil(count * bitsEach / 8) bytes, normally a `dense_resource` blob so
    that large weights never appear as IR text.

    ```mlir
    %w = qet.constant {codes = dense_resource<w_codes> : tensor<512xi8>,
                       scales = dense_resource<w_scales> : tensor<16xi8>,
                       zero_points = dense_resource<w_zeros> : tensor<16xi8>}
        : !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
    ```
  }];
  let arguments = (ins DictionaryAttr:$components);
  let results = (outs Qet_PackedType:$result);
  let assemblyFormat = "$components attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The bytes of `component` (null when absent).
    ::mlir::ElementsAttr getComponent(::llvm::StringRef component);
  }];
}

def Qet_ExternalConstantOp : Qet_Op<"external_constant", [Pure]> {
  let summary = "A packed matrix stored in a .qpk container file";
  let description = [{
    The packed matrix is tensor `tensor` of the container `file` (written by
    `qet-externalize` or `qet-quantize -o`); its components are that
    tensor's sections. Generated code loads them through the runtime
    library into uninitialized buffers the first time they are read
    (`convert-qet-to-runtime`), so weights never sit in IR text or object
    files. A relative `file` is resolved against the working directory of
    the running program.

    ```mlir
    %w = qet.external_constant "weights.qpk"["w0"]
        : !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
    ```
  }];
  let arguments = (ins StrAttr:$file, StrAttr:$tensor);
  let results = (outs Qet_PackedType:$result);
  let assemblyFormat = [{
    $file `[` $tensor `]` attr-dict `:` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Qet_StorageOp : Qet_Op<"storage", [Pure]> {
  let summary = "One storage component of a packed matrix, as bytes";
  let description = [{
    Returns the bytes of the component named `component` (LSB-first bit
    stream of the scheme's fields). Folds to the constant bytes when the
    packed matrix is a `qet.constant`.

    ```mlir
    %codes = qet.storage %w["codes"] : !qet.packed<8x128xf32, #qet.rtn<...>> -> tensor<512xi8>
    ```
  }];
  let arguments = (ins Qet_PackedType:$packed, StrAttr:$component);
  let results = (outs Qet_ByteTensor:$result);
  let assemblyFormat = [{
    $packed `[` $component `]` attr-dict `:` qualified(type($packed)) `->`
    type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Qet_QuantizeOp : Qet_Op<"quantize", [Pure]> {
  let summary = "Packs a dense matrix at run time";
  let description = [{
    Encodes `input` with the scheme of the result type. Shapes must agree;
    the input element type may differ from the packed element type (the
    value is converted first).

    ```mlir
    %p = qet.quantize %x : tensor<64x128xf32> -> !qet.packed<64x128xf32, #qet.rtn<...>>
    ```
  }];
  let arguments = (ins Qet_Matrix:$input);
  let results = (outs Qet_PackedType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Qet_DequantizeOp : Qet_Op<"dequantize", [Pure]> {
  let summary = "Rebuilds the dense matrix of a packed matrix";
  let description = [{
    Decodes `packed` exactly as the quantizer library's decoder of its
    scheme does. The result has the packed matrix's shape; its element type
    is any float type (computed in fp32, then converted).

    ```mlir
    %w = qet.dequantize %p : !qet.packed<64x128xf32, #qet.rtn<...>> -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Qet_PackedType:$packed);
  let results = (outs Qet_Matrix:$result);
  let assemblyFormat = "$packed attr-dict `:` qualified(type($packed)) `->` type($result)";
  let hasVerifier = 1;
}

def Qet_GroupEncodeOp : Qet_Op<"group_encode", [Pure]> {
  let summary = "Quantizes a tensor group-wise along its last dimension";
  let description = [{
    Splits the last dimension of `input` into groups as described by the
    `#qet.rtn` scheme and returns one integer code per element, one scale per
    group and, for asymmetric schemes, one zero point (the group minimum) per
    group. Scales and zero points have the shape of `input` with the last
    dimension replaced by the number of groups.

    Asymmetric codes are the unsigned values `0 .. 2^bits - 1` stored in the
    low bits of the code element type; symmetric codes are signed. The code
    element type must be at least `bits` wide. Rounding is half to even.

    ```mlir
    %codes, %scales, %zeros = qet.group_encode
        #qet.rtn<bits = 4, group = 128, symmetric = false> %w
        : tensor<64x300xf32> -> tensor<64x300xi8>, tensor<64x3xf16>, tensor<64x3xf16>
    ```
  }];
  let arguments = (ins Qet_FloatTensor:$input, Qet_RtnAttr:$scheme);
  let results = (outs Qet_CodeTensor:$codes, Qet_FloatTensor:$scales,
                      Optional<Qet_FloatTensor>:$zero_points);
  let assemblyFormat = [{
    qualified($scheme) $input attr-dict `:` type($input) `->` type($codes)
    `,` type($scales) (`,` type($zero_points)^)?
  }];
  let hasVerifier = 1;
}

def Qet_GroupDecodeOp : Qet_Op<"group_decode", [Pure]> {
  let summary = "Rebuilds a tensor from group-wise codes, scales and zero points";
  let description = [{
    The inverse of `qet.group_encode`: `x' = zero_point + code * scale`
    (asymmetric) or `x' = code * scale` (symmetric), computed in the result
    element type. Operand shapes follow the same rules as `qet.group_encode`;
    `zero_points` is present exactly when the scheme is asymmetric.

    ```mlir
    %w = qet.group_decode #qet.rtn<bits = 4, group = 128, symmetric = false>
        %codes, %scales, %zeros
        : tensor<64x300xi8>, tensor<64x3xf16>, tensor<64x3xf16> -> tensor<64x300xf32>
    ```
  }];
  let arguments = (ins Qet_CodeTensor:$codes, Qet_FloatTensor:$scales,
                       Optional<Qet_FloatTensor>:$zero_points,
                       Qet_RtnAttr:$scheme);
  let results = (outs Qet_FloatTensor:$result);
  let assemblyFormat = [{
    qualified($scheme) $codes `,` $scales (`,` $zero_points^)? attr-dict `:`
    type($codes) `,` type($scales) (`,` type($zero_points)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Primitives
//===----------------------------------------------------------------------===//

def Qet_BitUnpackOp : Qet_Op<"bit_unpack", [Pure]> {
  let summary = "Reads fixed-width fields out of an LSB-first bit stream";
  let description = [{
    Field i (in row-major order of the result) occupies bits
    [i*bits, (i+1)*bits) of `bytes`, least significant bit first
    (docs/format.md). Fields are zero-extended, or sign-extended when
    `sign_extend` is set, into the result's integer type, which must be at least
    `bits` wide. `bytes` holds exactly ceil(fields * bits / 8) bytes.

    With 2-D `bytes` (rows x B), each row is a stream of its own, padded to
    B bytes (VPTQ's index rows start on 32-bit words): the result is rows x
    F with ceil(F * bits / 8) <= B.

    ```mlir
    %c = qet.bit_unpack %bytes {bits = 4 : i64} : tensor<512xi8> -> tensor<8x128xi8>
    %i = qet.bit_unpack %rows {bits = 12 : i64} : tensor<6x20xi8> -> tensor<6x13xi32>
    ```
  }];
  let arguments = (ins TensorRankOf<[I8], [1, 2]>:$bytes,
                       ConfinedAttr<I64Attr, [IntMinValue<1>, IntMaxValue<32>]>:$bits,
                       UnitAttr:$sign_extend);
  let results = (outs Qet_CodeTensor:$result);
  let assemblyFormat = "$bytes attr-dict `:` type($bytes) `->` type($result)";
  let hasVerifier = 1;
}

def Qet_VqDecodeOp : Qet_Op<"vq_decode", [Pure]> {
  let summary = "Gathers codewords of per-subspace codebooks";
  let description = [{
    `codes` (rows x M) indexes, for each subspace s, a codeword of
    `codebooks[s]` (M x K x D); the result row is the concatenation of the
    M codewords (rows x M*D). A single codebook (1 x K x D) is shared by all
    subspaces (VPTQ). Codes are read as unsigned and must be < K (larger
    codes read an unspecified codeword; the library's decoder rejects them
    when packing).

    ```mlir
    %x = qet.vq_decode %codes, %codebooks
        : tensor<64x4xi32>, tensor<4x256x32xf32> -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins 2DTensorOf<[AnySignlessInteger]>:$codes,
                       3DTensorOf<[AnyFloat]>:$codebooks);
  let results = (outs Qet_Matrix:$result);
  let assemblyFormat = [{
    $codes `,` $codebooks attr-dict `:` type($codes) `,` type($codebooks) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Qet_SwapTreeOp : Qet_Op<"swap_tree", [Pure]> {
  let summary = "Applies the HERA min/max swap tree to every row";
  let description = [{
    qet.md §1: layer k (1..depth) sorts every pair of the 2^(k-1) blocks of
    width cols / 2^(k-1) into [minima | maxima] and records one bit per pair
    (1 when the pair was already ordered). Returns the swapped rows and the
    depth * cols / 2 bits per row as an LSB-first stream. `cols` must be a
    multiple of 2^depth.

    ```mlir
    %y, %bits = qet.swap_tree %x {depth = 2 : i64}
        : tensor<8x16xf32> -> tensor<8x16xf32>, tensor<16xi8>
    ```
  }];
  let arguments = (ins Qet_Matrix:$input,
                       ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<31>]>:$depth);
  let results = (outs Qet_Matrix:$result, Qet_ByteTensor:$bits);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($result) `,` type($bits)
  }];
  let hasVerifier = 1;
}

def Qet_UnswapTreeOp : Qet_Op<"unswap_tree", [Pure]> {
  let summary = "Undoes the swap tree from its stored bits";
  let description = [{
    The inverse of `qet.swap_tree`: undoes layers depth..1 of every row
    using the bits `qet.swap_tree` produced. Depth 0 is the identity (and
    folds away).

    ```mlir
    %x = qet.unswap_tree %y, %bits {depth = 2 : i64}
        : tensor<8x16xf32>, tensor<16xi8> -> tensor<8x16xf32>
    ```
  }];
  let arguments = (ins Qet_Matrix:$input, Qet_ByteTensor:$bits,
                       ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<31>]>:$depth);
  let results = (outs Qet_Matrix:$result);
  let assemblyFormat = [{
    $input `,` $bits attr-dict `:` type($input) `,` type($bits) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Qet_ResidualSumOp : Qet_Op<"residual_sum", [Pure, SameOperandsAndResultType]> {
  let summary = "Adds the decoded stages of a residual quantizer";
  let description = [{
    The element-wise sum of the stage reconstructions, accumulated in
    operand order (stage 0 first) as the library does. One operand folds to
    itself.

    ```mlir
    %w = qet.residual_sum %s0, %s1 : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Variadic<Qet_Matrix>:$stages);
  let results = (outs Qet_Matrix:$result);
  let assemblyFormat = "$stages attr-dict `:` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// QJL key sketches
//===----------------------------------------------------------------------===//

def Qet_QjlSketchOp : Qet_Op<"qjl_sketch", [Pure]> {
  let summary = "Sign sketches and norms of keys (QJL without outliers)";
  let description = [{
    For every key row k (tokens x d) returns the signs of `jl` k (jl is the
    m x d JL matrix; bit j of a token's m/8 bytes is 1 when (S k)_j > 0,
    LSB-first, as the library sets it: an exact 0 gives 0) and ||k||
    rounded to fp16. The scheme must have no outlier channels; m = `sketch`
    must equal the rows of `jl`.

    ```mlir
    %signs, %norms = qet.qjl_sketch #qet.qjl<sketch = 256, ...> %keys, %jl
        : tensor<1024x128xf32>, tensor<256x128xf32> -> tensor<1024x32xi8>, tensor<1024xf16>
    ```
  }];
  let arguments = (ins Qet_Matrix:$keys, Qet_Matrix:$jl, Qet_QjlAttr:$scheme);
  let results = (outs 2DTensorOf<[I8]>:$signs, 1DTensorOf<[F16]>:$norms);
  let assemblyFormat = [{
    qualified($scheme) $keys `,` $jl attr-dict `:` type($keys) `,` type($jl)
    `->` type($signs) `,` type($norms)
  }];
  let hasVerifier = 1;
}

def Qet_QjlScoreOp : Qet_Op<"qjl_score", [Pure]> {
  let summary = "Unbiased attention scores of queries against sketched keys";
  let description = [{
    score[h, t] = sqrt(pi/2) / m * norms[t] * <jl q_h, sign_t> (qjl.md §3)
    for queries (heads x d), the m x d JL matrix, and the keys' signs
    (tokens x m/8 bytes) and fp16 norms.

    ```mlir
    %s = qet.qjl_score %q, %jl, %signs, %norms
        : tensor<4x128xf32>, tensor<256x128xf32>, tensor<1024x32xi8>, tensor<1024xf16>
        -> tensor<4x1024xf32>
    ```
  }];
  let arguments = (ins Qet_Matrix:$queries, Qet_Matrix:$jl,
                       2DTensorOf<[I8]>:$signs, 1DTensorOf<[F16]>:$norms);
  let results = (outs Qet_Matrix:$result);
  let assemblyFormat = [{
    $queries `,` $jl `,` $signs `,` $norms attr-dict `:` type($queries) `,`
    type($jl) `,` type($signs) `,` type($norms) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

def Qet_QMatmulOp : Qet_Op<"qmatmul", [Pure]> {
  let summary = "Activations times a packed weight, decoded inside the product";
  let description = [{
    result[b, n] = sum_k input[b, k] * W[n, k] for the packed weight W
    (N x K, rows = output features), without materializing W.

    ```mlir
    %y = qet.qmatmul %x, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf16, #qet.rtn<...>>
        -> tensor<1x4096xf32>
    ```
  }];
  let arguments = (ins Qet_Matrix:$input, Qet_PackedType:$weight);
  let results = (outs Qet_Matrix:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` qualified(type($weight))
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qet_QjlAttentionOp : Qet_Op<"qjl_attention", [Pure]> {
  let summary = "Attention of queries over QJL-sketched keys and dense values";
  let description = [{
    softmax(scale * qjl_score(queries, keys)) * values per query row, with
    the keys as a packed `#qet.qjl` matrix (tokens x d) and values tokens x
    dv.

    ```mlir
    %o = qet.qjl_attention %q, %keys, %v {scale = 0.088 : f32}
        : tensor<4x128xf32>, !qet.packed<1024x128xf16, #qet.qjl<...>>, tensor<1024x128xf16>
        -> tensor<4x128xf32>
    ```
  }];
  let arguments = (ins Qet_Matrix:$queries, Qet_PackedType:$keys,
                       Qet_Matrix:$values, F32Attr:$scale);
  let results = (outs Qet_Matrix:$result);
  let assemblyFormat = [{
    $queries `,` $keys `,` $values attr-dict `:` type($queries) `,`
    qualified(type($keys)) `,` type($values) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // QET_DIALECT_QET_IR_QETOPS_TD
