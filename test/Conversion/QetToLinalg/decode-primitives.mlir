// RUN: qet-opt %s --convert-qet-to-linalg --split-input-file | FileCheck %s

// A field is gathered from ceil((7 + bits) / 8) bytes at bit offset
// index * bits, clamped to the last byte, shifted and masked.
// CHECK-LABEL: func.func @bit_unpack
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x8xi8>)
// CHECK: %[[I:.*]] = linalg.index 0
// CHECK: %[[J:.*]] = linalg.index 1
// CHECK-COUNT-2: tensor.extract %{{.*}}[%{{.*}}] : tensor<12xi8>
// CHECK: arith.andi %{{.*}}, %c7_i64
// CHECK: arith.trunci %{{.*}} : i64 to i8
// CHECK: arith.shli
// CHECK: arith.shrsi
// CHECK-NOT: qet.
func.func @bit_unpack(%b: tensor<12xi8>) -> tensor<4x8xi8> {
  %q = qet.bit_unpack %b {bits = 3 : i64, sign_extend} : tensor<12xi8> -> tensor<4x8xi8>
  return %q : tensor<4x8xi8>
}

// -----

// CHECK-LABEL: func.func @vq_decode
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x8xf32>)
// CHECK: arith.divui %{{.*}}, %c4
// CHECK: arith.remui %{{.*}}, %c4
// CHECK: %[[CODE:.*]] = tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<4x2xi32>
// CHECK: %[[RAW:.*]] = arith.index_castui %[[CODE]] : i32 to index
// CHECK: %[[K:.*]] = arith.minui %[[RAW]], %c15 : index
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %[[K]], %{{.*}}] : tensor<2x16x4xf32>
func.func @vq_decode(%c: tensor<4x2xi32>, %b: tensor<2x16x4xf32>) -> tensor<4x8xf32> {
  %x = qet.vq_decode %c, %b : tensor<4x2xi32>, tensor<2x16x4xf32> -> tensor<4x8xf32>
  return %x : tensor<4x8xf32>
}

// -----

// 2-D bytes: row i of the result reads row i of the bytes.
// CHECK-LABEL: func.func @bit_unpack_rows
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<3x5xi32>)
// CHECK: %[[R:.*]] = linalg.index 0
// CHECK: tensor.extract %{{.*}}[%[[R]], %{{.*}}] : tensor<3x4xi8>
func.func @bit_unpack_rows(%b: tensor<3x4xi8>) -> tensor<3x5xi32> {
  %u = qet.bit_unpack %b {bits = 6 : i64} : tensor<3x4xi8> -> tensor<3x5xi32>
  return %u : tensor<3x5xi32>
}

// A shared codebook (1 x K x D) is read at index 0 for every subspace.
// CHECK-LABEL: func.func @vq_decode_shared
// CHECK: tensor.extract %{{.*}}[%c0, %{{.*}}, %{{.*}}] : tensor<1x16x4xf32>
func.func @vq_decode_shared(%c: tensor<4x3xi32>, %b: tensor<1x16x4xf32>) -> tensor<4x12xf32> {
  %x = qet.vq_decode %c, %b : tensor<4x3xi32>, tensor<1x16x4xf32> -> tensor<4x12xf32>
  return %x : tensor<4x12xf32>
}

// One generic per layer, the last layer (blocks of width 4) undone first.
// CHECK-LABEL: func.func @unswap_tree
// CHECK: linalg.generic
// CHECK: arith.divui %{{.*}}, %c4
// CHECK: arith.select
// CHECK: linalg.generic
// CHECK: arith.divui %{{.*}}, %c8
// CHECK: arith.select
// CHECK-NOT: linalg.generic
func.func @unswap_tree(%x: tensor<4x8xf32>, %bits: tensor<4xi8>) -> tensor<4x8xf32> {
  %u = qet.unswap_tree %x, %bits {depth = 2 : i64} : tensor<4x8xf32>, tensor<4xi8> -> tensor<4x8xf32>
  return %u : tensor<4x8xf32>
}

// -----

// Stages are added in order: ((s0 + s1) + s2).
// CHECK-LABEL: func.func @residual_sum
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %[[C:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[AB:.*]] = arith.addf %[[A]], %[[B]]
// CHECK: arith.addf %[[AB]], %[[C]]
func.func @residual_sum(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = qet.residual_sum %a, %b, %c : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}
