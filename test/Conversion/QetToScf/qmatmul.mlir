// RUN: qet-opt %s -split-input-file -verify-diagnostics --convert-qet-to-scf | FileCheck %s

// 4-bit RTN, groups of 64 dividing K = 128: x is de-interleaved once (even
// and odd elements) and summed per group; loops over rows, batch, groups
// and 16-byte blocks; each block reads 16 code bytes, splits the nibbles
// into two vector<16xf32> and FMAs them with x's halves; the group's scale
// multiplies the group's vector into a running vector, reduced once per
// output; zero points multiply the group sums.
// CHECK-LABEL: func.func @rtn4
// CHECK: %[[CODES:.*]] = qet.storage %{{.*}}["codes"] {{.*}} -> tensor<128xi8>
// CHECK: qet.bit_unpack %{{.*}} {bits = 16 : i64} : tensor<8xi8> -> tensor<2x2xi16>
// CHECK: %[[EVEN:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x64xf32>)
// CHECK: %[[ODD:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x64xf32>)
// CHECK: %[[SUMS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<3x2xf32>)
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %c2 step %c1
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %c3 step %c1
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %c2 step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<16xf32>, f32)
// CHECK: scf.for %{{.*}} = %{{.*}} to %c32 step %c16 iter_args(%{{.*}} = %{{.*}}) -> (vector<16xf32>)
// CHECK: vector.transfer_read %[[CODES]]{{.*}} : tensor<128xi8>, vector<16xi8>
// CHECK: arith.andi %{{.*}} : vector<16xi8>
// CHECK: arith.shrui %{{.*}} : vector<16xi8>
// CHECK: arith.uitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK: vector.transfer_read %[[EVEN]]
// CHECK: vector.transfer_read %[[ODD]]
// CHECK: vector.fma
// CHECK: vector.fma
// CHECK: arith.bitcast %{{.*}} : i16 to f16
// CHECK: vector.broadcast
// CHECK: vector.fma
// CHECK: tensor.extract %[[SUMS]]
// CHECK: vector.reduction <add>
// CHECK: tensor.insert
// CHECK-NOT: qet.qmatmul
!rtn4 = !qet.packed<2x128xf32, #qet.rtn<bits = 4, group = 64, symmetric = false>>
func.func @rtn4(%x: tensor<3x128xf32>, %w: !rtn4) -> tensor<3x2xf32> {
  %y = qet.qmatmul %x, %w : tensor<3x128xf32>, !rtn4 -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Symmetric 4-bit codes are two's complement nibbles: shifted left then
// arithmetically right; no zero points, no group sums.
// CHECK-LABEL: func.func @rtn4_sym
// CHECK: arith.shli %{{.*}} : vector<16xi8>
// CHECK: arith.shrsi %{{.*}} : vector<16xi8>
// CHECK: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// CHECK-NOT: zero_points
!sym = !qet.packed<2x64xbf16, #qet.rtn<bits = 4, group = 32, symmetric = true>>
func.func @rtn4_sym(%x: tensor<1x64xbf16>, %w: !sym) -> tensor<1x2xbf16> {
  %y = qet.qmatmul %x, %w : tensor<1x64xbf16>, !sym -> tensor<1x2xbf16>
  return %y : tensor<1x2xbf16>
}

// -----

// 3-bit codes (or groups that do not divide K): one contraction that
// decodes every code from its bits in the body.
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

// No fused kernel for PQ yet: decoded, then a contraction, with a remark.
// CHECK-LABEL: func.func @pq
// CHECK: %[[W:.*]] = qet.dequantize
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[W]] : tensor<2x16xf32>, tensor<8x16xf32>)
!pq = !qet.packed<8x16xf32, #qet.pq<subspaces = 2, centroids = 4, rotated = false>>
func.func @pq(%x: tensor<2x16xf32>, %w: !pq) -> tensor<2x8xf32> {
  // expected-remark @+1 {{convert-qet-to-scf: no fused kernel for #qet.pq<subspaces = 2, centroids = 4, rotated = false> yet; the weight is decoded, then multiplied}}
  %y = qet.qmatmul %x, %w : tensor<2x16xf32>, !pq -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
