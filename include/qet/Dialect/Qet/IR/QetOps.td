//===- QetOps.td - Operations of the qet dialect -----------*- tablegen -*-===//

#ifndef QET_DIALECT_QET_IR_QETOPS_TD
#define QET_DIALECT_QET_IR_QETOPS_TD

include "qet/Dialect/Qet/IR/QetDialect.td"
include "qet/Dialect/Qet/IR/QetAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Qet_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Qet_CodeTensor : RankedTensorOf<[AnySignlessInteger]>;

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

#endif // QET_DIALECT_QET_IR_QETOPS_TD
