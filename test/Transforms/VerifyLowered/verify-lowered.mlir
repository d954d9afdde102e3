// RUN: qet-opt %s -split-input-file -verify-diagnostics --qet-verify-lowered

// Fully lowered code passes untouched.
func.func @plain(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// expected-error @+1 {{qet-verify-lowered: the signature of 'packed_arg' still has a !qet.packed type}}
func.func @packed_arg(%p: !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128>>) {
  return
}

// -----

func.func @survivor(%p: tensor<8x128xf32>) -> tensor<8x128xf32> {
  // expected-error @+1 {{qet-verify-lowered: 'qet.quantize' is still here; decompose and lower every qet op before bufferization}}
  %q = qet.quantize %p : tensor<8x128xf32> -> !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128>>
  // expected-error @+1 {{qet-verify-lowered: 'qet.dequantize' is still here}}
  %d = qet.dequantize %q : !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128>> -> tensor<8x128xf32>
  return %d : tensor<8x128xf32>
}

// -----

func.func @foreign_user() {
  // expected-error @+1 {{qet-verify-lowered: 'builtin.unrealized_conversion_cast' still uses a !qet.packed value}}
  %p = builtin.unrealized_conversion_cast to !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128>>
  return
}
