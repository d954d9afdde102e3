// convert-qet-to-scf{activations=i8|i16}: the 4-bit RTN kernel on inputs
// quantized per group.
// RUN: qet-opt %s -split-input-file \
// RUN:   --convert-qet-to-scf=activations=i8 2>/dev/null \
// RUN:   | FileCheck %s --check-prefix=I8
// RUN: qet-opt %s -split-input-file -verify-diagnostics \
// RUN:   --convert-qet-to-scf=activations=i16 | FileCheck %s --check-prefix=I16
// RUN: not qet-opt %s --convert-qet-to-scf=activations=i4 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BAD
// BAD: for the --activations option: Cannot find option named 'i4'!

// Once per call: the per-group max |x| (a reduction), the scales max / L and
// their guarded inverses, the quantized input (round to nearest even by
// adding and subtracting 1.5 * 2^23, then fptosi), the group sums of xq and
// of x. Per group of a row: the u8 x s8 (i8) or s16 x s16 (i16) pair
// products that x86 selects as vpmaddubsw / vpmaddwd, summed in integers,
// converted once, scaled by s * sx into the running vector.
// I8-LABEL: func.func @rtn4
// I8: arith.constant 0x4B400000 : f32
// I8: %[[CODES:.*]] = qet.storage %{{.*}}["codes"]
// I8: arith.maximumf
// I8: arith.divf %{{.*}}, %{{.*}} : f32
// I8: arith.cmpf ogt
// I8: arith.fptosi %{{.*}} : f32 to i8
// I8: arith.fptosi %{{.*}} : f32 to i8
// I8: scf.for
// I8: scf.for
// I8: scf.for {{.*}} -> (vector<8xf32>, f32)
// I8: vector.transfer_read %[[CODES]]{{.*}} : tensor<512xi8>, vector<32xi8>
// I8: arith.andi %{{.*}} : vector<32xi8>
// I8: arith.shrui %{{.*}} : vector<32xi8>
// I8: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30] : vector<32xi8>, vector<32xi8>
// I8: arith.extui %{{.*}} : vector<16xi8> to vector<16xi32>
// I8: arith.extsi %{{.*}} : vector<16xi8> to vector<16xi32>
// I8: arith.minsi
// I8: arith.maxsi
// I8: arith.trunci %{{.*}} : vector<16xi32> to vector<16xi16>
// I8: arith.addi %{{.*}} : vector<16xi16>
// I8: arith.extsi %{{.*}} : vector<8xi16> to vector<8xi32>
// I8: arith.sitofp %{{.*}} : vector<8xi32> to vector<8xf32>
// I8: vector.fma
// I8-NOT: qet.qmatmul
// I16-LABEL: func.func @rtn4
// I16: arith.fptosi %{{.*}} : f32 to i16
// I16: arith.fptosi %{{.*}} : f32 to i16
// I16: arith.fptosi %{{.*}} : f32 to i16
// I16: arith.fptosi %{{.*}} : f32 to i16
// I16: vector.bitcast %{{.*}} : vector<32xi8> to vector<16xi16>
// I16: arith.shrui %{{.*}} : vector<16xi16>
// I16: arith.extsi %{{.*}} : vector<8xi16> to vector<8xi32>
// I16: arith.muli %{{.*}} : vector<8xi32>
// I16-NOT: arith.trunci
// I16: arith.sitofp %{{.*}} : vector<8xi32> to vector<8xf32>
// I16-NOT: qet.qmatmul
!rtn4 = !qet.packed<2x512xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @rtn4(%x: tensor<3x512xf32>, %w: !rtn4) -> tensor<3x2xf32> {
  %y = qet.qmatmul %x, %w : tensor<3x512xf32>, !rtn4 -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Symmetric codes: the bytes are flipped (xor 0x88: u = q + 8) before the
// nibbles are taken.
// I8-LABEL: func.func @rtn4_sym
// I8: arith.constant dense<-120> : vector<32xi8>
// I8: arith.xori %{{.*}} : vector<32xi8>
// I16-LABEL: func.func @rtn4_sym
// I16: arith.xori %{{.*}} : vector<32xi8>
!sym = !qet.packed<2x128xf32, #qet.rtn<bits = 4, group = 64, symmetric = true>>
func.func @rtn4_sym(%x: tensor<1x128xf32>, %w: !sym) -> tensor<1x2xf32> {
  %y = qet.qmatmul %x, %w : tensor<1x128xf32>, !sym -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Groups of 32: 16-byte blocks with i8; i16 needs groups of 64 and keeps the
// f32 kernel, saying so.
// I8-LABEL: func.func @rtn4_g32
// I8: vector.transfer_read {{.*}} vector<16xi8>
// I16-LABEL: func.func @rtn4_g32
// I16: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
!g32 = !qet.packed<2x64xf32, #qet.rtn<bits = 4, group = 32, symmetric = false>>
func.func @rtn4_g32(%x: tensor<1x64xf32>, %w: !g32) -> tensor<1x2xf32> {
  // expected-remark @below {{activations=i16 needs 4-bit codes and groups of a multiple of 64 up to 512 dividing K; this product keeps f32 inputs}}
  %y = qet.qmatmul %x, %w : tensor<1x64xf32>, !g32 -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
