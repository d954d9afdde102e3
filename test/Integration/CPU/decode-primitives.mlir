// Runs the decode primitives through convert-qet-to-linalg and the CPU
// pipeline on hand-computed examples (docs/format.md bit order, qet.md §1
// swap tree) and checks the printed results.
// RUN: qet-opt %s --convert-qet-to-linalg \
// RUN:   --one-shot-bufferize="bufferize-function-boundaries" \
// RUN:   --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// RUN:   --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:   -shared-libs=%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s

func.func private @printMemrefI32(memref<*xi32>)
func.func private @printMemrefF32(memref<*xf32>)

func.func @print_i32(%t: tensor<2x4xi32>) {
  %m = bufferization.to_buffer %t : tensor<2x4xi32> to memref<2x4xi32>
  %u = memref.cast %m : memref<2x4xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @print_f32(%t: tensor<?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?xf32> to memref<?x?xf32>
  %u = memref.cast %m : memref<?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  // 3-bit fields 5 1 7 2 0 6 3 4, LSB first: bytes 0xCD 0x05 0x8F (205 5 143
  // = -51 5 -113 as i8). Field 2 straddles bytes 0 and 1, field 5 bytes 1 and 2.
  %bytes = arith.constant dense<[-51, 5, -113]> : tensor<3xi8>
  // CHECK: [5,   1,   7,   2]
  // CHECK-NEXT: [0,   6,   3,   4]
  %u = qet.bit_unpack %bytes {bits = 3 : i64} : tensor<3xi8> -> tensor<2x4xi32>
  call @print_i32(%u) : (tensor<2x4xi32>) -> ()
  // Signed: 5 7 6 4 are -3 -1 -2 -4.
  // CHECK: [-3,   1,   -1,   2]
  // CHECK-NEXT: [0,   -2,   3,   -4]
  %s = qet.bit_unpack %bytes {bits = 3 : i64, sign_extend} : tensor<3xi8> -> tensor<2x4xi32>
  call @print_i32(%s) : (tensor<2x4xi32>) -> ()

  // One stream per row, each padded to 4 bytes: 5-bit fields 17 3 30 9 and
  // 1 2 31 0 take 20 bits; the 12 padding bits (set here) are ignored.
  // CHECK: [17,   3,   30,   9]
  // CHECK-NEXT: [1,   2,   31,   0]
  %rows = arith.constant dense<[[113, -8, -12, 85], [65, 124, -96, -1]]> : tensor<2x4xi8>
  %r = qet.bit_unpack %rows {bits = 5 : i64} : tensor<2x4xi8> -> tensor<2x4xi32>
  call @print_i32(%r) : (tensor<2x4xi32>) -> ()

  // A codebook shared by both subspaces: rows pick (1, 0) and (1, 1).
  // CHECK: [2,   3,   0,   1]
  // CHECK-NEXT: [2,   3,   2,   3]
  %scodes = arith.constant dense<[[1, 0], [1, 1]]> : tensor<2x2xi32>
  %sbook = arith.constant dense<[[[0.0, 1.0], [2.0, 3.0]]]> : tensor<1x2x2xf32>
  %sx = qet.vq_decode %scodes, %sbook : tensor<2x2xi32>, tensor<1x2x2xf32> -> tensor<2x4xf32>
  %sxd = tensor.cast %sx : tensor<2x4xf32> to tensor<?x?xf32>
  call @print_f32(%sxd) : (tensor<?x?xf32>) -> ()

  // Row 3 1 4 1 5 9 2 6 through a depth-2 swap tree is 1 2 1 5 3 6 4 9 with
  // layer-1 bits 0 0 1 1 and layer-2 bits 0 0 1 0: one byte 0b01001100 = 76.
  // CHECK: [3,   1,   4,   1,   5,   9,   2,   6]
  %swapped = arith.constant dense<[[1.0, 2.0, 1.0, 5.0, 3.0, 6.0, 4.0, 9.0]]> : tensor<1x8xf32>
  %bits = arith.constant dense<[76]> : tensor<1xi8>
  %row = qet.unswap_tree %swapped, %bits {depth = 2 : i64} : tensor<1x8xf32>, tensor<1xi8> -> tensor<1x8xf32>
  %rowd = tensor.cast %row : tensor<1x8xf32> to tensor<?x?xf32>
  call @print_f32(%rowd) : (tensor<?x?xf32>) -> ()

  // Two subspaces of two 2-d codewords each; rows pick (1, 0) and (0, 1),
  // then a second stage adds 0.5 everywhere.
  // CHECK: [2.5,   3.5,   10.5,   11.5]
  // CHECK-NEXT: [0.5,   1.5,   12.5,   13.5]
  %codes = arith.constant dense<[[1, 0], [0, 1]]> : tensor<2x2xi32>
  %books = arith.constant dense<[[[0.0, 1.0], [2.0, 3.0]], [[10.0, 11.0], [12.0, 13.0]]]> : tensor<2x2x2xf32>
  %x = qet.vq_decode %codes, %books : tensor<2x2xi32>, tensor<2x2x2xf32> -> tensor<2x4xf32>
  %half = arith.constant dense<0.5> : tensor<2x4xf32>
  %sum = qet.residual_sum %x, %half : tensor<2x4xf32>
  %sumd = tensor.cast %sum : tensor<2x4xf32> to tensor<?x?xf32>
  call @print_f32(%sumd) : (tensor<?x?xf32>) -> ()
  return
}
