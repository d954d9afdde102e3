// RUN: qet-opt %s --qet-fuse-dequant | FileCheck %s

!rtn = !qet.packed<8x32xf32, #qet.rtn<bits = 4, group = 16, symmetric = false>>

// y = x W with W = transpose(decoded N x K), zero accumulator: the product
// alone, and the decoded weight is gone.
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: qet.dequantize
// CHECK-NOT: linalg.transpose
// CHECK: %[[Y:.*]] = qet.qmatmul %{{.*}}, %{{.*}} : tensor<2x32xf32>, !qet.packed<8x32xf32, {{.*}}> -> tensor<2x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @matmul(%x: tensor<2x32xf32>, %p: !rtn) -> tensor<2x8xf32> {
  %d = qet.dequantize %p : !rtn -> tensor<8x32xf32>
  %e = tensor.empty() : tensor<32x8xf32>
  %t = linalg.transpose ins(%d : tensor<8x32xf32>) outs(%e : tensor<32x8xf32>) permutation = [1, 0]
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<2x8xf32>
  %f = linalg.fill ins(%z : f32) outs(%o : tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = linalg.matmul ins(%x, %t : tensor<2x32xf32>, tensor<32x8xf32>) outs(%f : tensor<2x8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// The weight indexed (n, k) directly; a live accumulator is added.
// CHECK-LABEL: func.func @matmul_transposed_b
// CHECK: %[[Y:.*]] = qet.qmatmul
// CHECK: linalg.generic {{.*}} ins(%[[Y]] : tensor<2x8xf32>) outs(%{{.*}} : tensor<2x8xf32>)
// CHECK: arith.addf
func.func @matmul_transposed_b(%x: tensor<2x32xf32>, %p: !rtn, %acc: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %d = qet.dequantize %p : !rtn -> tensor<8x32xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %d : tensor<2x32xf32>, tensor<8x32xf32>) outs(%acc : tensor<2x8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// A matvec is a one-row product.
// CHECK-LABEL: func.func @matvec
// CHECK: %[[R:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [1, 32] : tensor<32xf32> into tensor<1x32xf32>
// CHECK: %[[Y:.*]] = qet.qmatmul %[[R]], %{{.*}} : tensor<1x32xf32>, {{.*}} -> tensor<1x8xf32>
// CHECK: tensor.collapse_shape %[[Y]] {{\[\[}}0, 1]] : tensor<1x8xf32> into tensor<8xf32>
func.func @matvec(%x: tensor<32xf32>, %p: !rtn) -> tensor<8xf32> {
  %d = qet.dequantize %p : !rtn -> tensor<8x32xf32>
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<8xf32>
  %f = linalg.fill ins(%z : f32) outs(%o : tensor<8xf32>) -> tensor<8xf32>
  %y = linalg.matvec ins(%d, %x : tensor<8x32xf32>, tensor<32xf32>) outs(%f : tensor<8xf32>) -> tensor<8xf32>
  return %y : tensor<8xf32>
}

// The decoded matrix as the left operand of a plain matmul is not a weight
// operand: unchanged.
// CHECK-LABEL: func.func @not_a_weight
// CHECK: qet.dequantize
// CHECK: linalg.matmul
// CHECK-NOT: qet.qmatmul
func.func @not_a_weight(%p: !rtn, %b: tensor<32x4xf32>, %acc: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %d = qet.dequantize %p : !rtn -> tensor<8x32xf32>
  %y = linalg.matmul ins(%d, %b : tensor<8x32xf32>, tensor<32x4xf32>) outs(%acc : tensor<8x4xf32>) -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}
