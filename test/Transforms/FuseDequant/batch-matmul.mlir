// RUN: qet-opt %s --qet-fuse-dequant --split-input-file | FileCheck %s

!rtn = !qet.packed<8x32xf32, #qet.rtn<bits = 4, group = 16, symmetric = false>>

// One weight for the whole batch, broadcast by the indexing map: the input's
// batch and rows become the rows of one qet.qmatmul, expanded back.
// CHECK-LABEL: func.func @broadcast_map
// CHECK-NOT: qet.dequantize
// CHECK: %[[X:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<2x3x32xf32> into tensor<6x32xf32>
// CHECK: %[[Y:.*]] = qet.qmatmul %[[X]], %{{.*}} : tensor<6x32xf32>, !qet.packed<8x32xf32, {{.*}}> -> tensor<6x8xf32>
// CHECK: %[[E:.*]] = tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2]] output_shape [2, 3, 8] : tensor<6x8xf32> into tensor<2x3x8xf32>
// CHECK-NEXT: return %[[E]]
func.func @broadcast_map(%x: tensor<2x3x32xf32>, %p: !rtn) -> tensor<2x3x8xf32> {
  %d = qet.dequantize %p : !rtn -> tensor<8x32xf32>
  %e = tensor.empty() : tensor<32x8xf32>
  %t = linalg.transpose ins(%d : tensor<8x32xf32>) outs(%e : tensor<32x8xf32>) permutation = [1, 0]
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<2x3x8xf32>
  %f = linalg.fill ins(%z : f32) outs(%o : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %y = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%x, %t : tensor<2x3x32xf32>, tensor<32x8xf32>) outs(%f : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

!rtn = !qet.packed<8x32xf32, #qet.rtn<bits = 4, group = 16, symmetric = false>>

// linalg.broadcast of the decoded N x K matrix, indexed (b, n, k); a live
// accumulator is added.
// CHECK-LABEL: func.func @broadcast_op
// CHECK: %[[Y:.*]] = qet.qmatmul %{{.*}}, %{{.*}} : tensor<8x32xf32>, {{.*}} -> tensor<8x8xf32>
// CHECK: %[[E:.*]] = tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2]] output_shape [4, 2, 8]
// CHECK: linalg.generic {{.*}} ins(%[[E]] : tensor<4x2x8xf32>) outs(%{{.*}} : tensor<4x2x8xf32>)
// CHECK: arith.addf
func.func @broadcast_op(%x: tensor<4x2x32xf32>, %p: !rtn, %acc: tensor<4x2x8xf32>) -> tensor<4x2x8xf32> {
  %d = qet.dequantize %p : !rtn -> tensor<8x32xf32>
  %e = tensor.empty() : tensor<4x8x32xf32>
  %b = linalg.broadcast ins(%d : tensor<8x32xf32>) outs(%e : tensor<4x8x32xf32>) dimensions = [0]
  %y = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%x, %b : tensor<4x2x32xf32>, tensor<4x8x32xf32>) outs(%acc : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  return %y : tensor<4x2x8xf32>
}

// -----

// What qet-quantize-weights writes for a 1 x K x N weight: the decoded
// N x K matrix expanded to a batch of one, transposed back to (b, k, n).
// CHECK-LABEL: func.func @quantized_batch_of_one
// CHECK-NOT: linalg.batch_matmul
// CHECK: qet.qmatmul %{{.*}}, %{{.*}} : tensor<3x16xf32>, !qet.packed<8x16xf32, {{.*}}> -> tensor<3x8xf32>
!rtn16 = !qet.packed<8x16xf32, #qet.rtn<bits = 4, group = 16, symmetric = false>>
func.func @quantized_batch_of_one(%x: tensor<1x3x16xf32>, %p: !rtn16) -> tensor<1x3x8xf32> {
  %d = qet.dequantize %p : !rtn16 -> tensor<8x16xf32>
  %x3 = tensor.expand_shape %d [[0, 1], [2]] output_shape [1, 8, 16] : tensor<8x16xf32> into tensor<1x8x16xf32>
  %e = tensor.empty() : tensor<1x16x8xf32>
  %t = linalg.transpose ins(%x3 : tensor<1x8x16xf32>) outs(%e : tensor<1x16x8xf32>) permutation = [0, 2, 1]
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<1x3x8xf32>
  %f = linalg.fill ins(%z : f32) outs(%o : tensor<1x3x8xf32>) -> tensor<1x3x8xf32>
  %y = linalg.batch_matmul ins(%x, %t : tensor<1x3x16xf32>, tensor<1x16x8xf32>) outs(%f : tensor<1x3x8xf32>) -> tensor<1x3x8xf32>
  return %y : tensor<1x3x8xf32>
}

// -----

// Per-batch weights (two 8 x 16 slabs of one packed 16 x 16 matrix, as
// qet-quantize-weights writes a 2 x 16 x 8 weight): qet.qmatmul would
// multiply by both slabs, so the batch_matmul stays.
// CHECK-LABEL: func.func @per_batch_weights
// CHECK: qet.dequantize
// CHECK: linalg.batch_matmul
// CHECK-NOT: qet.qmatmul
!rtn2 = !qet.packed<16x16xf32, #qet.rtn<bits = 4, group = 16, symmetric = false>>
func.func @per_batch_weights(%x: tensor<2x3x16xf32>, %p: !rtn2, %acc: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %d = qet.dequantize %p : !rtn2 -> tensor<16x16xf32>
  %x3 = tensor.expand_shape %d [[0, 1], [2]] output_shape [2, 8, 16] : tensor<16x16xf32> into tensor<2x8x16xf32>
  %e = tensor.empty() : tensor<2x16x8xf32>
  %t = linalg.transpose ins(%x3 : tensor<2x8x16xf32>) outs(%e : tensor<2x16x8xf32>) permutation = [0, 2, 1]
  %y = linalg.batch_matmul ins(%x, %t : tensor<2x3x16xf32>, tensor<2x16x8xf32>) outs(%acc : tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

// A broadcast along another dimension is not one matrix per batch element.
// CHECK-LABEL: func.func @broadcast_other_dim
// CHECK: linalg.batch_matmul
// CHECK-NOT: qet.qmatmul
!rtn = !qet.packed<8x32xf32, #qet.rtn<bits = 4, group = 16, symmetric = false>>
func.func @broadcast_other_dim(%x: tensor<8x2x32xf32>, %p: !rtn, %acc: tensor<8x2x8xf32>) -> tensor<8x2x8xf32> {
  %d = qet.dequantize %p : !rtn -> tensor<8x32xf32>
  %row = tensor.extract_slice %d[0, 0] [8, 1] [1, 1] : tensor<8x32xf32> to tensor<8xf32>
  %e = tensor.empty() : tensor<8x8x32xf32>
  %b = linalg.broadcast ins(%row : tensor<8xf32>) outs(%e : tensor<8x8x32xf32>) dimensions = [1, 2]
  %y = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>]
      ins(%x, %b : tensor<8x2x32xf32>, tensor<8x8x32xf32>) outs(%acc : tensor<8x2x8xf32>) -> tensor<8x2x8xf32>
  return %y : tensor<8x2x8xf32>
}
