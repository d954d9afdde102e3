// RUN: qet-opt %s | FileCheck %s
// RUN: qet-opt %s | qet-opt | FileCheck %s
// RUN: qet-opt %s --mlir-print-op-generic | qet-opt | FileCheck %s

// CHECK-LABEL: func.func @rtn_attributes
// CHECK-SAME: rtn.asym = #qet.rtn<bits = 4, group = 128, symmetric = false>
// CHECK-SAME: rtn.default = #qet.rtn<bits = 2, group = 1, symmetric = false>
// CHECK-SAME: rtn.sym = #qet.rtn<bits = 8, group = 32, symmetric = true>
func.func @rtn_attributes() attributes {
  rtn.asym = #qet.rtn<bits = 4, group = 128, symmetric = false>,
  rtn.default = #qet.rtn<bits = 2, group = 1>,
  rtn.sym = #qet.rtn<bits = 8, group = 32, symmetric = true>
} {
  return
}

// The last group of a 300-wide row holds 44 elements: 3 groups.
// CHECK-LABEL: func.func @asymmetric
// CHECK: %[[C:.*]], %[[S:.*]], %[[Z:.*]] = qet.group_encode #qet.rtn<bits = 4, group = 128, symmetric = false> %{{.*}} : tensor<64x300xf32> -> tensor<64x300xi8>, tensor<64x3xf16>, tensor<64x3xf16>
// CHECK: qet.group_decode #qet.rtn<bits = 4, group = 128, symmetric = false> %[[C]], %[[S]], %[[Z]] : tensor<64x300xi8>, tensor<64x3xf16>, tensor<64x3xf16> -> tensor<64x300xf32>
func.func @asymmetric(%w: tensor<64x300xf32>) -> tensor<64x300xf32> {
  %codes, %scales, %zeros = qet.group_encode #qet.rtn<bits = 4, group = 128> %w
      : tensor<64x300xf32> -> tensor<64x300xi8>, tensor<64x3xf16>, tensor<64x3xf16>
  %r = qet.group_decode #qet.rtn<bits = 4, group = 128> %codes, %scales, %zeros
      : tensor<64x300xi8>, tensor<64x3xf16>, tensor<64x3xf16> -> tensor<64x300xf32>
  return %r : tensor<64x300xf32>
}

// CHECK-LABEL: func.func @symmetric
// CHECK: %[[C:.*]], %[[S:.*]] = qet.group_encode #qet.rtn<bits = 3, group = 16, symmetric = true> %{{.*}} : tensor<2x4x32xf16> -> tensor<2x4x32xi4>, tensor<2x4x2xf16>
// CHECK-NEXT: qet.group_decode #qet.rtn<bits = 3, group = 16, symmetric = true> %[[C]], %[[S]] : tensor<2x4x32xi4>, tensor<2x4x2xf16> -> tensor<2x4x32xf16>
func.func @symmetric(%w: tensor<2x4x32xf16>) -> tensor<2x4x32xf16> {
  %codes, %scales = qet.group_encode #qet.rtn<bits = 3, group = 16, symmetric = true> %w
      : tensor<2x4x32xf16> -> tensor<2x4x32xi4>, tensor<2x4x2xf16>
  %r = qet.group_decode #qet.rtn<bits = 3, group = 16, symmetric = true> %codes, %scales
      : tensor<2x4x32xi4>, tensor<2x4x2xf16> -> tensor<2x4x32xf16>
  return %r : tensor<2x4x32xf16>
}

// Dynamic sizes are checked where they are known.
// CHECK-LABEL: func.func @dynamic
// CHECK: qet.group_encode #qet.rtn<bits = 8, group = 64, symmetric = false> %{{.*}} : tensor<?x?xbf16> -> tensor<?x?xi8>, tensor<?x?xf32>, tensor<?x?xf32>
func.func @dynamic(%w: tensor<?x?xbf16>) -> (tensor<?x?xi8>, tensor<?x?xf32>, tensor<?x?xf32>) {
  %codes, %scales, %zeros = qet.group_encode #qet.rtn<bits = 8, group = 64> %w
      : tensor<?x?xbf16> -> tensor<?x?xi8>, tensor<?x?xf32>, tensor<?x?xf32>
  return %codes, %scales, %zeros : tensor<?x?xi8>, tensor<?x?xf32>, tensor<?x?xf32>
}

// Every scheme attribute inside a packed type.
// CHECK-LABEL: func.func @packed_types
// CHECK-SAME: !qet.packed<64x128xf32, #qet.pq<subspaces = 8, centroids = 32, rotated = true>>
// CHECK-SAME: !qet.packed<64x128xf32, #qet.lopq<subspaces = 8, cluster_rows = [60, 4], cluster_centroids = [60, 4]>>
// CHECK-SAME: !qet.packed<64x128xf32, #qet.hera<subspaces = 4, centroids = 64, depth = 2>>
// CHECK-SAME: !qet.packed<64x128xf16, #qet.qet<subspaces = 4, depths = [3, 0], centroids = [64, 16], codebook_bits = [10, 0]>>
// CHECK-SAME: !qet.packed<64x128xbf16, #qet.vq<vector = 8, index_bits = 8, residual_bits = 4, groups = 2, group_size = 60, outlier_columns = 8, outlier_vector = 4, outlier_bits = 6, permuted = true, normalized = true>>
// CHECK-SAME: !qet.packed<64x128xf16, #qet.qjl<sketch = 256, outlier_sketch = 64, outliers = 4, group_tokens = 32, orthogonal = true, seed = 123>>
func.func @packed_types(
    %pq: !qet.packed<64x128xf32, #qet.pq<subspaces = 8, centroids = 32, rotated = true>>,
    %lopq: !qet.packed<64x128xf32, #qet.lopq<subspaces = 8, cluster_rows = [60, 4], cluster_centroids = [60, 4]>>,
    %hera: !qet.packed<64x128xf32, #qet.hera<subspaces = 4, centroids = 64, depth = 2>>,
    %qet: !qet.packed<64x128xf16, #qet.qet<subspaces = 4, depths = [3, 0], centroids = [64, 16], codebook_bits = [10, 0]>>,
    %vq: !qet.packed<64x128xbf16, #qet.vq<vector = 8, index_bits = 8, residual_bits = 4, groups = 2, group_size = 60, outlier_columns = 8, outlier_vector = 4, outlier_bits = 6, permuted = true, normalized = true>>,
    %qjl: !qet.packed<64x128xf16, #qet.qjl<sketch = 256, outlier_sketch = 64, outliers = 4, group_tokens = 32, orthogonal = true, seed = 123>>) {
  return
}

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>

// 8x128 codes of 4 bits = 512 bytes; 8 groups of fp16 = 16 bytes each.
// CHECK-LABEL: func.func @packed_ops
// CHECK: %[[W:.*]] = qet.constant {codes = dense<17> : tensor<512xi8>, scales = dense<0> : tensor<16xi8>, zero_points = dense<0> : tensor<16xi8>} : !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
// CHECK: qet.storage %[[W]]["codes"] : !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>> -> tensor<512xi8>
// CHECK: qet.dequantize %[[W]] : !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>> -> tensor<8x128xf32>
// CHECK: qet.quantize %{{.*}} : tensor<8x128xf32> -> !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
// CHECK: qet.qmatmul %{{.*}}, %[[W]] : tensor<2x128xf32>, !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>> -> tensor<2x8xf32>
func.func @packed_ops(%x: tensor<2x128xf32>, %d: tensor<8x128xf32>)
    -> (tensor<512xi8>, tensor<8x128xf32>, !rtn, tensor<2x8xf32>) {
  %w = qet.constant {codes = dense<17> : tensor<512xi8>,
                     scales = dense<0> : tensor<16xi8>,
                     zero_points = dense<0> : tensor<16xi8>} : !rtn
  %c = qet.storage %w["codes"] : !rtn -> tensor<512xi8>
  %dense = qet.dequantize %w : !rtn -> tensor<8x128xf32>
  %p = qet.quantize %d : tensor<8x128xf32> -> !rtn
  %y = qet.qmatmul %x, %w : tensor<2x128xf32>, !rtn -> tensor<2x8xf32>
  return %c, %dense, %p, %y : tensor<512xi8>, tensor<8x128xf32>, !rtn, tensor<2x8xf32>
}

// CHECK-LABEL: func.func @external
// CHECK: %[[E:.*]] = qet.external_constant "weights.qpk"["w0"] : !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
// CHECK: qet.storage %[[E]]["scales"]
func.func @external() -> tensor<16xi8> {
  %w = qet.external_constant "weights.qpk"["w0"] : !rtn
  %s = qet.storage %w["scales"] : !rtn -> tensor<16xi8>
  return %s : tensor<16xi8>
}

// CHECK-LABEL: func.func @primitives
// CHECK: qet.bit_unpack %{{.*}} {bits = 3 : i64, sign_extend} : tensor<12xi8> -> tensor<4x8xi8>
// CHECK: qet.vq_decode %{{.*}}, %{{.*}} : tensor<4x2xi32>, tensor<2x16x4xf32> -> tensor<4x8xf32>
// CHECK: %{{.*}}, %[[BITS:.*]] = qet.swap_tree %{{.*}} {depth = 2 : i64} : tensor<4x8xf32> -> tensor<4x8xf32>, tensor<4xi8>
// CHECK: qet.unswap_tree %{{.*}}, %[[BITS]] {depth = 2 : i64} : tensor<4x8xf32>, tensor<4xi8> -> tensor<4x8xf32>
// CHECK: qet.residual_sum %{{.*}}, %{{.*}} : tensor<4x8xf32>
func.func @primitives(%bytes: tensor<12xi8>, %codes: tensor<4x2xi32>,
                      %books: tensor<2x16x4xf32>) -> tensor<4x8xf32> {
  %q = qet.bit_unpack %bytes {bits = 3 : i64, sign_extend} : tensor<12xi8> -> tensor<4x8xi8>
  %x = qet.vq_decode %codes, %books : tensor<4x2xi32>, tensor<2x16x4xf32> -> tensor<4x8xf32>
  %s, %bits = qet.swap_tree %x {depth = 2 : i64} : tensor<4x8xf32> -> tensor<4x8xf32>, tensor<4xi8>
  %u = qet.unswap_tree %s, %bits {depth = 2 : i64} : tensor<4x8xf32>, tensor<4xi8> -> tensor<4x8xf32>
  %r = qet.residual_sum %u, %x : tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

!keys = !qet.packed<1024x128xf16, #qet.qjl<sketch = 256, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = true, seed = 123>>

// CHECK-LABEL: func.func @qjl
// CHECK: qet.qjl_sketch #qet.qjl<sketch = 256, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = true, seed = 123> %{{.*}}, %{{.*}} : tensor<1024x128xf32>, tensor<256x128xf32> -> tensor<1024x32xi8>, tensor<1024xf16>
// CHECK: qet.qjl_score %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x128xf32>, tensor<256x128xf32>, tensor<1024x32xi8>, tensor<1024xf16> -> tensor<4x1024xf32>
// CHECK: qet.qjl_attention %{{.*}}, %{{.*}}, %{{.*}} {scale = 0.0883883461 : f32} : tensor<4x128xf32>, !qet.packed<1024x128xf16, #qet.qjl<{{.*}}>>, tensor<1024x128xf16> -> tensor<4x128xf32>
func.func @qjl(%k: tensor<1024x128xf32>, %jl: tensor<256x128xf32>,
               %q: tensor<4x128xf32>, %packed: !keys, %v: tensor<1024x128xf16>)
    -> (tensor<4x1024xf32>, tensor<4x128xf32>) {
  %signs, %norms = qet.qjl_sketch #qet.qjl<sketch = 256, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = true, seed = 123> %k, %jl
      : tensor<1024x128xf32>, tensor<256x128xf32> -> tensor<1024x32xi8>, tensor<1024xf16>
  %s = qet.qjl_score %q, %jl, %signs, %norms
      : tensor<4x128xf32>, tensor<256x128xf32>, tensor<1024x32xi8>, tensor<1024xf16> -> tensor<4x1024xf32>
  %o = qet.qjl_attention %q, %packed, %v {scale = 0.0883883461 : f32}
      : tensor<4x128xf32>, !keys, tensor<1024x128xf16> -> tensor<4x128xf32>
  return %s, %o : tensor<4x1024xf32>, tensor<4x128xf32>
}
