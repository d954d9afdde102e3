// RUN: qet-opt %s -split-input-file -verify-diagnostics --convert-qet-to-runtime | FileCheck %s

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>

// One buffer global per component with its zero-initialized "loaded" flag,
// filled by one qetLoadSection call per function, at its entry, and read
// through one bufferization.to_tensor (`restrict`: a single tensor of the
// buffer); strings are shared constant globals; the qet.external_constant
// disappears once its components are read.
// CHECK-DAG: memref.global "private" @qet_w0_codes : memref<512xi8> = uninitialized {alignment = 64 : i64}
// CHECK-DAG: memref.global "private" @qet_w0_codes_loaded : memref<1xi8> = dense<0>
// CHECK-DAG: memref.global "private" @qet_w0_scales : memref<16xi8> = uninitialized {alignment = 64 : i64}
// CHECK-DAG: memref.global "private" constant @[[FILE:qet_str.*]] : memref<9xi8> = dense<[119, 101, 105, 103, 104, 116, 115, 46, 113]>
// CHECK-DAG: func.func private @qetLoadSection(memref<?xi8>, memref<?xi8>, memref<?xi8>, memref<?xi8>, memref<?xi8>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @read
// CHECK: memref.get_global @qet_w0_scales : memref<16xi8>
// CHECK: call @qetLoadSection
// CHECK: %[[S:.*]] = bufferization.to_tensor %{{.*}} restrict : memref<16xi8> to tensor<16xi8>
// CHECK: %[[B:.*]] = memref.get_global @qet_w0_codes : memref<512xi8>
// CHECK: %[[F:.*]] = memref.get_global @qet_w0_codes_loaded : memref<1xi8>
// CHECK: memref.get_global @[[FILE]] : memref<9xi8>
// CHECK: call @qetLoadSection(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (memref<?xi8>, memref<?xi8>, memref<?xi8>, memref<?xi8>, memref<?xi8>) -> ()
// CHECK: %[[C:.*]] = bufferization.to_tensor %[[B]] restrict : memref<512xi8> to tensor<512xi8>
// CHECK-NOT: qetLoadSection
// CHECK-NOT: qet.
// The second read of the codes is the same tensor.
// CHECK: return %[[C]], %[[S]], %[[C]]
func.func @read() -> (tensor<512xi8>, tensor<16xi8>, tensor<512xi8>) {
  %w = qet.external_constant "weights.q"["w0"] : !rtn
  %c = qet.storage %w["codes"] : !rtn -> tensor<512xi8>
  %s = qet.storage %w["scales"] : !rtn -> tensor<16xi8>
  %again = qet.storage %w["codes"] : !rtn -> tensor<512xi8>
  return %c, %s, %again : tensor<512xi8>, tensor<16xi8>, tensor<512xi8>
}

// -----

// A module without external constants is left alone.
// CHECK-LABEL: func.func @untouched
// CHECK-NOT: qetLoadSection
func.func @untouched(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>

// expected-error @+1 {{convert-qet-to-runtime: the symbol 'qetLoadSection' is taken by something other than the runtime's '(memref<?xi8>, memref<?xi8>, memref<?xi8>, memref<?xi8>, memref<?xi8>) -> ()'}}
func.func private @qetLoadSection(i32)
func.func @clash() -> tensor<16xi8> {
  %w = qet.external_constant "weights.q"["w0"] : !rtn
  %s = qet.storage %w["scales"] : !rtn -> tensor<16xi8>
  return %s : tensor<16xi8>
}
