// RUN: qet-opt %s -split-input-file -verify-diagnostics --convert-qet-to-runtime | FileCheck %s

// Attention over keys in a container: qetQjlAttention(file, tensor, q, v,
// scale, out) with q and v widened to f32 and passed read-only, out a fresh
// buffer.
// CHECK-DAG: func.func private @qetQjlAttention(memref<?xi8>, memref<?xi8>, memref<?x?xf32>, memref<?x?xf32>, f32, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @external
// CHECK: bufferization.to_buffer %{{.*}} read_only : tensor<4x16xf32> to memref<4x16xf32>
// CHECK: %[[V:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<32x8xf32>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: bufferization.to_buffer %[[V]] read_only : tensor<32x8xf32> to memref<32x8xf32>
// CHECK: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK: call @qetQjlAttention(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[SCALE]], %{{.*}}) : (memref<?xi8>, memref<?xi8>, memref<?x?xf32>, memref<?x?xf32>, f32, memref<?x?xf32>) -> ()
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable : memref<4x8xf32> to tensor<4x8xf32>
// CHECK-NOT: qet.
!keys = !qet.packed<32x16xf16, #qet.qjl<sketch = 64, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = true, seed = 7>>
func.func @external(%q: tensor<4x16xf32>, %v: tensor<32x8xf16>) -> tensor<4x8xf32> {
  %k = qet.external_constant "k.qpk"["w0"] : !keys
  %o = qet.qjl_attention %q, %k, %v {scale = 0.25 : f32} : tensor<4x16xf32>, !keys, tensor<32x8xf16> -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

// -----

// Keys held by the module: their component bytes, then d, m, m_o, |O|, G,
// orthogonal, seed; without outliers the three outlier buffers are empty.
// The scores alone (qet.qmatmul of the keys) through qetQjlHeldScores.
// CHECK-DAG: func.func private @qetQjlHeldAttention(memref<?xi8>, memref<?xi8>, memref<?xi8>, memref<?xi8>, memref<?xi8>, i64, i64, i64, i64, i64, i64, i64, memref<?x?xf32>, memref<?x?xf32>, f32, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @qetQjlHeldScores(memref<?xi8>, memref<?xi8>, memref<?xi8>, memref<?xi8>, memref<?xi8>, i64, i64, i64, i64, i64, i64, i64, memref<?x?xf32>, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @held
// CHECK: %[[SIGNS:.*]] = arith.constant dense<5> : tensor<4xi8>
// CHECK: bufferization.to_buffer %[[SIGNS]] read_only
// CHECK: %[[NORMS:.*]] = arith.constant dense<1> : tensor<8xi8>
// CHECK: memref.alloca() : memref<0xi8>
// CHECK: memref.alloca() : memref<0xi8>
// CHECK: memref.alloca() : memref<0xi8>
// CHECK: call @qetQjlHeldAttention(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c8_i64, %c8_i64_{{[0-9]+}}, %c0_i64, %c0_i64_{{[0-9]+}}, %c32_i64, %c0_i64_{{[0-9]+}}, %c99_i64, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// CHECK: call @qetQjlHeldScores(
// CHECK-NOT: qet.
!held = !qet.packed<4x8xf32, #qet.qjl<sketch = 8, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = false, seed = 99>>
func.func @held(%q: tensor<2x8xf32>, %v: tensor<4x8xf32>) -> (tensor<2x8xf32>, tensor<2x4xf32>) {
  %k = qet.constant {signs = dense<5> : tensor<4xi8>, norms = dense<1> : tensor<8xi8>} : !held
  %o = qet.qjl_attention %q, %k, %v {scale = 1.0 : f32} : tensor<2x8xf32>, !held, tensor<4x8xf32> -> tensor<2x8xf32>
  %s = qet.qmatmul %q, %k : tensor<2x8xf32>, !held -> tensor<2x4xf32>
  return %o, %s : tensor<2x8xf32>, tensor<2x4xf32>
}

// -----

// With outliers every component is passed; scores of keys in a container
// stay qetMatmul (a qjl tensor's product is its score kernel).
// CHECK-LABEL: func.func @outliers
// CHECK: arith.constant dense<3> : tensor<4xi8>
// CHECK: arith.constant dense<4> : tensor<8xi8>
// CHECK: arith.constant dense<2> : tensor<4xi8>
// CHECK: call @qetQjlHeldAttention(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c16_i64, %c16_i64_{{[0-9]+}}, %c8_i64, %c2_i64, %c3_i64, %c1_i64, %c5_i64,
// CHECK: call @qetMatmul(
!outl = !qet.packed<4x16xf32, #qet.qjl<sketch = 16, outlier_sketch = 8, outliers = 2, group_tokens = 3, orthogonal = true, seed = 5>>
func.func @outliers(%q: tensor<2x16xf32>, %v: tensor<4x8xf32>) -> (tensor<2x8xf32>, tensor<2x4xf32>) {
  %k = qet.constant {signs = dense<1> : tensor<8xi8>, norms = dense<2> : tensor<8xi8>, outlier_signs = dense<3> : tensor<4xi8>,
                     outlier_norms = dense<4> : tensor<8xi8>, outlier_ids = dense<2> : tensor<4xi8>} : !outl
  %o = qet.qjl_attention %q, %k, %v {scale = 1.0 : f32} : tensor<2x16xf32>, !outl, tensor<4x8xf32> -> tensor<2x8xf32>
  %e = qet.external_constant "k.qpk"["w1"] : !outl
  %s = qet.qmatmul %q, %e : tensor<2x16xf32>, !outl -> tensor<2x4xf32>
  return %o, %s : tensor<2x8xf32>, tensor<2x4xf32>
}

// -----

func.func @score_op(%q: tensor<4x8xf32>, %jl: tensor<8x8xf32>, %s: tensor<16x1xi8>, %n: tensor<16xf16>) -> tensor<4x16xf32> {
  // expected-error @+1 {{convert-qet-to-runtime: qet.qjl_score takes an explicit JL matrix, and the runtime's QJL kernels regenerate S from a scheme's seed; lower it with convert-qet-to-scf (qet-cpu-pipeline{backend=scf})}}
  %r = qet.qjl_score %q, %jl, %s, %n : tensor<4x8xf32>, tensor<8x8xf32>, tensor<16x1xi8>, tensor<16xf16> -> tensor<4x16xf32>
  return %r : tensor<4x16xf32>
}

// -----

!dyn = !qet.packed<4x8xf32, #qet.qjl<sketch = 8, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = false, seed = 99>>
func.func @dynamic(%q: tensor<?x8xf32>, %v: tensor<4x8xf32>) -> tensor<?x8xf32> {
  %k = qet.constant {signs = dense<5> : tensor<4xi8>, norms = dense<1> : tensor<8xi8>} : !dyn
  // expected-error @+1 {{convert-qet-to-runtime: qet.qjl_attention needs static shapes}}
  %o = qet.qjl_attention %q, %k, %v {scale = 1.0 : f32} : tensor<?x8xf32>, !dyn, tensor<4x8xf32> -> tensor<?x8xf32>
  return %o : tensor<?x8xf32>
}
