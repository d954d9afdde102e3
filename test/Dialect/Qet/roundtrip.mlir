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
