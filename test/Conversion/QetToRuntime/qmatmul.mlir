// RUN: qet-opt %s -split-input-file -verify-diagnostics --convert-qet-to-runtime | FileCheck %s

// An externalized weight of any scheme: qetMatmul on its container tensor,
// x widened to f32 and passed read-only, y a fresh buffer, the result
// narrowed back to the product's type.
// CHECK-DAG: func.func private @qetMatmul(memref<?xi8>, memref<?xi8>, memref<?x?xf32>, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @external
// CHECK: %[[X:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x16xf32>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: %[[Y:.*]] = memref.alloc() : memref<2x8xf32>
// CHECK: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only : tensor<2x16xf32> to memref<2x16xf32>
// CHECK: call @qetMatmul(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (memref<?xi8>, memref<?xi8>, memref<?x?xf32>, memref<?x?xf32>) -> ()
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[Y]] restrict writable : memref<2x8xf32> to tensor<2x8xf32>
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK-NOT: qet.
!qet = !qet.packed<8x16xf16, #qet.qet<subspaces = 4, depths = [1], centroids = [4], codebook_bits = [0]>>
func.func @external(%x: tensor<2x16xf16>) -> tensor<2x8xf16> {
  %w = qet.external_constant "w.qpk"["w0"] : !qet
  %y = qet.qmatmul %x, %w : tensor<2x16xf16>, !qet -> tensor<2x8xf16>
  return %y : tensor<2x8xf16>
}

// -----

// An RTN weight held by the module: qetRtnMatmul on its component bytes;
// symmetric storage has no zero points (an empty buffer).
// CHECK-DAG: func.func private @qetRtnMatmul(memref<?xi8>, memref<?xi8>, memref<?xi8>, i64, i64, i64, i64, memref<?x?xf32>, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @rtn
// CHECK: %[[CODES:.*]] = arith.constant dense<17> : tensor<24xi8>
// CHECK: bufferization.to_buffer %[[CODES]] read_only
// CHECK: %[[NONE:.*]] = memref.alloca() : memref<0xi8>
// CHECK: %[[ZEROS:.*]] = memref.cast %[[NONE]] : memref<0xi8> to memref<?xi8>
// CHECK: call @qetRtnMatmul(%{{.*}}, %{{.*}}, %[[ZEROS]], %c4_i64, %c16_i64, %c3_i64, %c16_i64_{{[0-9]+}}, %{{.*}}, %{{.*}})
// CHECK-NOT: qet.
!rtn = !qet.packed<4x16xf32, #qet.rtn<bits = 3, group = 16, symmetric = true>>
func.func @rtn(%x: tensor<1x16xf32>) -> tensor<1x4xf32> {
  %w = qet.constant {codes = dense<17> : tensor<24xi8>, scales = dense<0> : tensor<8xi8>} : !rtn
  %y = qet.qmatmul %x, %w : tensor<1x16xf32>, !rtn -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// Other schemes held by the module have no runtime entry point.
!pq = !qet.packed<8x16xf32, #qet.pq<subspaces = 2, centroids = 4, rotated = false>>
func.func @pq(%x: tensor<2x16xf32>, %w: !pq) -> tensor<2x8xf32> {
  // expected-error @+1 {{convert-qet-to-runtime: the runtime multiplies #qet.pq<subspaces = 2, centroids = 4, rotated = false> weights from a container; run qet-externalize first}}
  %y = qet.qmatmul %x, %w : tensor<2x16xf32>, !pq -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
