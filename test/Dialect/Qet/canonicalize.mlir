// RUN: qet-opt %s --canonicalize --split-input-file | FileCheck %s

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>

// The bytes of a compile-time packed matrix fold to arith.constant.
// CHECK-LABEL: func.func @storage_of_constant
// CHECK: %[[C:.*]] = arith.constant dense<17> : tensor<512xi8>
// CHECK-NOT: qet.storage
// CHECK: return %[[C]]
func.func @storage_of_constant() -> tensor<512xi8> {
  %w = qet.constant {codes = dense<17> : tensor<512xi8>,
                     scales = dense<0> : tensor<16xi8>,
                     zero_points = dense<0> : tensor<16xi8>} : !rtn
  %c = qet.storage %w["codes"] : !rtn -> tensor<512xi8>
  return %c : tensor<512xi8>
}

// -----

// A depth-0 tree and a single residual stage are the identity.
// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %{{.*}}: tensor<0xi8>)
// CHECK-NEXT: return %[[X]]
func.func @identities(%x: tensor<4x8xf32>, %bits: tensor<0xi8>) -> tensor<4x8xf32> {
  %u = qet.unswap_tree %x, %bits {depth = 0 : i64} : tensor<4x8xf32>, tensor<0xi8> -> tensor<4x8xf32>
  %s = qet.residual_sum %u : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// -----

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>

// Unused decodes are dead (the ops are pure).
// CHECK-LABEL: func.func @dead
// CHECK-NEXT: return
func.func @dead(%p: !rtn) {
  %d = qet.dequantize %p : !rtn -> tensor<8x128xf32>
  return
}
