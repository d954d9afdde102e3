// RUN: qet-opt %s -split-input-file -verify-diagnostics --convert-qet-to-scf | FileCheck %s

// 4-bit RTN, groups of 64 dividing K = 128: x is de-interleaved once (even
// and odd elements) and summed per group; loops over rows, batch and
// groups; a group's 32 code bytes (one block, unrolled) split into two
// vector<32xf32> of nibbles FMA'd with x's halves into separate
// accumulators, folded to 8 lanes and scaled into a running vector<8xf32>
// (the scale read from its two fp16 bytes), reduced once per output; zero
// points multiply the group sums.
// CHECK-LABEL: func.func @rtn4
// CHECK: %[[CODES:.*]] = qet.storage %{{.*}}["codes"] {{.*}} -> tensor<128xi8>
// CHECK: %[[SCALES:.*]] = qet.storage %{{.*}}["scales"] {{.*}} -> tensor<8xi8>
// CHECK: %[[EVEN:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x64xf32>)
// CHECK: %[[ODD:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x64xf32>)
// CHECK: %[[SUMS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<3x2xf32>)
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %c2 step %c1
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %c3 step %c1
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %c2 step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<8xf32>, f32)
// CHECK-NOT: scf.for
// CHECK: vector.transfer_read %[[CODES]]{{.*}} : tensor<128xi8>, vector<32xi8>
// CHECK: arith.andi %{{.*}} : vector<32xi8>
// CHECK: arith.shrui %{{.*}} : vector<32xi8>
// CHECK: arith.sitofp %{{.*}} : vector<32xi32> to vector<32xf32>
// CHECK: vector.transfer_read %[[EVEN]]
// CHECK: vector.transfer_read %[[ODD]]
// CHECK: %[[LO:.*]] = vector.fma
// CHECK: %[[HI:.*]] = vector.fma
// CHECK: arith.addf %[[LO]], %[[HI]] : vector<32xf32>
// CHECK: vector.extract_strided_slice %{{.*}} {offsets = [24], sizes = [8], strides = [1]} : vector<32xf32> to vector<8xf32>
// CHECK: tensor.extract %[[SCALES]]
// CHECK: arith.bitcast %{{.*}} : i16 to f16
// CHECK: vector.broadcast %{{.*}} : f32 to vector<8xf32>
// CHECK: vector.fma {{.*}} : vector<8xf32>
// CHECK: tensor.extract %[[SUMS]]
// CHECK: vector.reduction <add>, %{{.*}} : vector<8xf32> into f32
// CHECK: tensor.insert
// CHECK-NOT: qet.qmatmul
!rtn4 = !qet.packed<2x128xf32, #qet.rtn<bits = 4, group = 64, symmetric = false>>
func.func @rtn4(%x: tensor<3x128xf32>, %w: !rtn4) -> tensor<3x2xf32> {
  %y = qet.qmatmul %x, %w : tensor<3x128xf32>, !rtn4 -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Symmetric 4-bit codes are two's complement nibbles: shifted left then
// arithmetically right; no zero points, no group sums. Groups of 32 take
// 16-byte blocks.
// CHECK-LABEL: func.func @rtn4_sym
// CHECK-NOT: zero_points
// CHECK: arith.shli %{{.*}} : vector<16xi8>
// CHECK: arith.shrsi %{{.*}} : vector<16xi8>
// CHECK: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
!sym = !qet.packed<2x64xbf16, #qet.rtn<bits = 4, group = 32, symmetric = true>>
func.func @rtn4_sym(%x: tensor<1x64xbf16>, %w: !sym) -> tensor<1x2xbf16> {
  %y = qet.qmatmul %x, %w : tensor<1x64xbf16>, !sym -> tensor<1x2xbf16>
  return %y : tensor<1x2xbf16>
}

// -----

// 3-bit codes: one contraction that decodes every code from its bits in the
// body (so do groups that do not divide K; test/Integration/CPU/qmatmul.mlir
// runs K = 100 with groups of 128).
// CHECK-LABEL: func.func @rtn3
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<2x5xf32>)
// CHECK: tensor.extract %{{.*}}[%{{.*}}] : tensor<113xi8>
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: scf.for
!rtn3 = !qet.packed<5x60xf32, #qet.rtn<bits = 3, group = 32, symmetric = false>>
func.func @rtn3(%x: tensor<2x60xf32>, %w: !rtn3) -> tensor<2x5xf32> {
  %y = qet.qmatmul %x, %w : tensor<2x60xf32>, !rtn3 -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

// PQ: per-input tables T[b, s, c] = <x_s, C[s, c]>, then M lookups per
// output with the code read from its bits; the weight is never decoded.
// CHECK-LABEL: func.func @pq
// CHECK-NOT: qet.dequantize
// CHECK: %[[BOOKS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x4x8xf32>)
// CHECK: %[[T:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%{{.*}}, %[[BOOKS]] : tensor<2x2x8xf32>, tensor<2x4x8xf32>) outs(%{{.*}} : tensor<2x2x4xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]{{.*}} outs(%{{.*}} : tensor<2x8xf32>)
// CHECK: scf.for %[[S:.*]] = %{{.*}} to %c2 step %c1
// CHECK: arith.minui
// CHECK: tensor.extract %[[T]][%{{.*}}, %[[S]], %{{.*}}] : tensor<2x2x4xf32>
!pq = !qet.packed<8x16xf32, #qet.pq<subspaces = 2, centroids = 4, rotated = false>>
func.func @pq(%x: tensor<2x16xf32>, %w: !pq) -> tensor<2x8xf32> {
  %y = qet.qmatmul %x, %w : tensor<2x16xf32>, !pq -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// OPQ: x is rotated first (x R), then the PQ tables.
// CHECK-LABEL: func.func @opq
// CHECK: qet.storage %{{.*}}["rotation"]
// CHECK: %[[XR:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<1x16xf32>)
// CHECK: tensor.expand_shape %[[XR]]
!opq = !qet.packed<8x16xf16, #qet.pq<subspaces = 2, centroids = 4, rotated = true>>
func.func @opq(%x: tensor<1x16xf16>, %w: !opq) -> tensor<1x8xf16> {
  %y = qet.qmatmul %x, %w : tensor<1x16xf16>, !opq -> tensor<1x8xf16>
  return %y : tensor<1x8xf16>
}

// -----

// No fused kernel for HERA yet: decoded, then a contraction, with a remark.
// CHECK-LABEL: func.func @hera
// CHECK: %[[W:.*]] = qet.dequantize
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[W]] : tensor<2x16xf32>, tensor<8x16xf32>)
!hera = !qet.packed<8x16xf32, #qet.hera<subspaces = 2, centroids = 4, depth = 1>>
func.func @hera(%x: tensor<2x16xf32>, %w: !hera) -> tensor<2x8xf32> {
  // expected-remark @+1 {{convert-qet-to-scf: no fused kernel for #qet.hera<subspaces = 2, centroids = 4, depth = 1> yet; the weight is decoded, then multiplied}}
  %y = qet.qmatmul %x, %w : tensor<2x16xf32>, !hera -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// VPTQ: the input is permuted and scaled once (xs), the bias term summed
// once (beta); each output sums codebook entries picked by indices read from
// their word-aligned rows, per column group, then the outlier columns.
// CHECK-LABEL: func.func @vq
// CHECK-NOT: qet.dequantize
// CHECK: qet.storage %{{.*}}["perm"]
// CHECK: %[[XS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x24xf32>)
// CHECK: %[[BETA:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<2xf32>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x10xf32>)
// CHECK-COUNT-2: scf.for %{{.*}} = %{{.*}} to %c10 step %c1
// CHECK: scf.for %{{.*}} = %{{.*}} to %c4 step %c1
// CHECK: tensor.extract %[[BETA]]
!vq = !qet.packed<10x24xf32, #qet.vq<vector = 4, index_bits = 4, residual_bits = 2, groups = 2, group_size = 10, outlier_columns = 4, outlier_vector = 2, outlier_bits = 3, permuted = true, normalized = true>>
func.func @vq(%x: tensor<2x24xf32>, %w: !vq) -> tensor<2x10xf32> {
  %y = qet.qmatmul %x, %w : tensor<2x24xf32>, !vq -> tensor<2x10xf32>
  return %y : tensor<2x10xf32>
}
