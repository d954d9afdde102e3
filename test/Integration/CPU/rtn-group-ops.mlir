// Encodes and decodes the qem.md §12 RTN oracles through the CPU pipeline and
// checks the printed codes, scales, zero points and reconstructions. Each row
// has a full group of 4 and a short group of 2.
// RUN: qet-opt %s --convert-qet-to-linalg --convert-elementwise-to-linalg \
// RUN:   --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:   --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:   --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:   -shared-libs=%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s

func.func private @printMemrefI32(memref<*xi32>)
func.func private @printMemrefF16(memref<*xf16>) attributes {llvm.emit_c_interface}
func.func private @printMemrefF32(memref<*xf32>)

// Codes print as integers: unsigned (asymmetric) or signed (symmetric).
func.func @print_codes(%t: tensor<2x6xi8>, %signed: i1) {
  %wide = scf.if %signed -> tensor<2x6xi32> {
    %e = arith.extsi %t : tensor<2x6xi8> to tensor<2x6xi32>
    scf.yield %e : tensor<2x6xi32>
  } else {
    %e = arith.extui %t : tensor<2x6xi8> to tensor<2x6xi32>
    scf.yield %e : tensor<2x6xi32>
  }
  %m = bufferization.to_buffer %wide : tensor<2x6xi32> to memref<2x6xi32>
  %u = memref.cast %m : memref<2x6xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @print_f16(%t: tensor<2x2xf16>) {
  %m = bufferization.to_buffer %t : tensor<2x2xf16> to memref<2x2xf16>
  %u = memref.cast %m : memref<2x2xf16> to memref<*xf16>
  call @printMemrefF16(%u) : (memref<*xf16>) -> ()
  return
}

func.func @print_f32(%t: tensor<2x6xf32>) {
  %m = bufferization.to_buffer %t : tensor<2x6xf32> to memref<2x6xf32>
  %u = memref.cast %m : memref<2x6xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %w = arith.constant dense<[[-0.5, -1.0, 2.0, 0.25, 1.0, 3.0],
                             [0.1, -0.3, 0.7, 0.2, 5.0, 5.0]]> : tensor<2x6xf32>

  // Asymmetric: 0.5 rounds to even (code 0); fp16 minimum -0.300048828125
  // and scale 0.333251953125; a constant group has scale 0.
  %c, %s, %z = qet.group_encode #qet.rtn<bits = 2, group = 4> %w
      : tensor<2x6xf32> -> tensor<2x6xi8>, tensor<2x2xf16>, tensor<2x2xf16>
  %r = qet.group_decode #qet.rtn<bits = 2, group = 4> %c, %s, %z
      : tensor<2x6xi8>, tensor<2x2xf16>, tensor<2x2xf16> -> tensor<2x6xf32>
  // CHECK:      {{\[}}[0,   0,   3,   1,   0,   3],
  // CHECK-NEXT:  [1,   0,   3,   2,   0,   0]]
  %false = arith.constant false
  call @print_codes(%c, %false) : (tensor<2x6xi8>, i1) -> ()
  // CHECK:      {{\[}}[1,   0.666504],
  // CHECK-NEXT:  [0.333252,   0]]
  call @print_f16(%s) : (tensor<2x2xf16>) -> ()
  // CHECK:      {{\[}}[-1,   1],
  // CHECK-NEXT:  [-0.300049,   5]]
  call @print_f16(%z) : (tensor<2x2xf16>) -> ()
  // CHECK:      {{\[}}[-1,   -1,   2,   0,   1,   2.99951],
  // CHECK-NEXT:  [0.0332031,   -0.300049,   0.699707,   0.366455,   5,   5]]
  call @print_f32(%r) : (tensor<2x6xf32>) -> ()

  // Symmetric: the first largest |x| maps to code -2; scale = peak / -2.
  %cs, %ss = qet.group_encode #qet.rtn<bits = 2, group = 4, symmetric = true> %w
      : tensor<2x6xf32> -> tensor<2x6xi8>, tensor<2x2xf16>
  %rs = qet.group_decode #qet.rtn<bits = 2, group = 4, symmetric = true> %cs, %ss
      : tensor<2x6xi8>, tensor<2x2xf16> -> tensor<2x6xf32>
  // CHECK:      {{\[}}[0,   1,   -2,   0,   -1,   -2],
  // CHECK-NEXT:  [0,   1,   -2,   -1,   -2,   -2]]
  %true = arith.constant true
  call @print_codes(%cs, %true) : (tensor<2x6xi8>, i1) -> ()
  // CHECK:      {{\[}}[-1,   -1.5],
  // CHECK-NEXT:  [-0.350098,   -2.5]]
  call @print_f16(%ss) : (tensor<2x2xf16>) -> ()
  // Code 0 times a negative scale is -0, as in the quantizer library.
  // CHECK:      {{\[}}[-0,   -1,   2,   -0,   1.5,   3],
  // CHECK-NEXT:  [-0,   -0.350098,   0.700195,   0.350098,   5,   5]]
  call @print_f32(%rs) : (tensor<2x6xf32>) -> ()
  return
}
