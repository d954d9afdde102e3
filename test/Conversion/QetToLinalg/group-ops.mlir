// RUN: qet-opt %s --convert-qet-to-linalg --split-input-file | FileCheck %s

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[GROUP:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 128)>
// CHECK-LABEL: func.func @encode_asymmetric
// CHECK-SAME: (%[[W:.*]]: tensor<64x300xf32>)
// CHECK:      %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK:      %[[MIN0:.*]] = linalg.fill ins(%[[INF]] : f32) outs(%{{.*}} : tensor<64x3xf32>)
// CHECK:      %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK:      %[[MAX0:.*]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.*}} : tensor<64x3xf32>)
// CHECK:      %[[STATS:.*]]:2 = linalg.generic {indexing_maps = [#[[ID]], #[[GROUP]], #[[GROUP]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME:     ins(%[[W]] : tensor<64x300xf32>) outs(%[[MIN0]], %[[MAX0]] : tensor<64x3xf32>, tensor<64x3xf32>)
// CHECK:        arith.minimumf
// CHECK:        arith.maximumf
// CHECK:      %[[META:.*]]:2 = linalg.generic {{.*}} ins(%[[STATS]]#0, %[[STATS]]#1 : tensor<64x3xf32>, tensor<64x3xf32>) outs({{.*}} : tensor<64x3xf16>, tensor<64x3xf16>)
// The zero point is rounded to fp16 before the scale is computed from it.
// CHECK:        %[[Z16:.*]] = arith.truncf %{{.*}} : f32 to f16
// CHECK:        %[[Z32:.*]] = arith.extf %[[Z16]] : f16 to f32
// CHECK:        %[[RANGE:.*]] = arith.subf %{{.*}}, %[[Z32]] : f32
// CHECK:        %[[S:.*]] = arith.divf %[[RANGE]], %{{.*}} : f32
// CHECK:        %[[S16:.*]] = arith.truncf %[[S]] : f32 to f16
// CHECK:        linalg.yield %[[S16]], %[[Z16]] : f16, f16
// CHECK:      %[[CODES:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[GROUP]], #[[GROUP]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:     ins(%[[W]], %[[META]]#0, %[[META]]#1 : tensor<64x300xf32>, tensor<64x3xf16>, tensor<64x3xf16>) outs(%{{.*}} : tensor<64x300xi8>)
// CHECK:        math.roundeven
// CHECK:        arith.cmpf oeq
// CHECK:        arith.select
// CHECK:        arith.maximumf
// CHECK:        arith.minimumf
// CHECK:        arith.fptoui %{{.*}} : f32 to i8
// CHECK:      return %[[CODES]], %[[META]]#0, %[[META]]#1
func.func @encode_asymmetric(%w: tensor<64x300xf32>) -> (tensor<64x300xi8>, tensor<64x3xf16>, tensor<64x3xf16>) {
  %c, %s, %z = qet.group_encode #qet.rtn<bits = 4, group = 128> %w
      : tensor<64x300xf32> -> tensor<64x300xi8>, tensor<64x3xf16>, tensor<64x3xf16>
  return %c, %s, %z : tensor<64x300xi8>, tensor<64x3xf16>, tensor<64x3xf16>
}

// -----

// Symmetric: a strict comparison keeps the first largest magnitude; codes are
// signed. Dynamic sizes give ceildiv group counts.
// CHECK-DAG: #[[CEIL:.*]] = affine_map<()[s0] -> (s0 ceildiv 64)>
// CHECK-LABEL: func.func @encode_symmetric_dynamic
// CHECK:      %[[D1:.*]] = tensor.dim %{{.*}}, %c1 : tensor<?x?xbf16>
// CHECK:      %[[G:.*]] = affine.apply #[[CEIL]]()[%[[D1]]]
// CHECK:      tensor.empty(%{{.*}}, %[[G]]) : tensor<?x?xf32>
// CHECK:      linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK:        arith.extf %{{.*}} : bf16 to f32
// CHECK:        math.absf
// CHECK:        arith.cmpf ogt
// CHECK:      linalg.generic
// CHECK:        %[[LOWEST:.*]] = arith.constant -4.000000e+00 : f32
// CHECK:        arith.divf %{{.*}}, %[[LOWEST]] : f32
// CHECK:      linalg.generic
// CHECK:        arith.fptosi %{{.*}} : f32 to i4
func.func @encode_symmetric_dynamic(%w: tensor<?x?xbf16>) -> (tensor<?x?xi4>, tensor<?x?xf16>) {
  %c, %s = qet.group_encode #qet.rtn<bits = 3, group = 64, symmetric = true> %w
      : tensor<?x?xbf16> -> tensor<?x?xi4>, tensor<?x?xf16>
  return %c, %s : tensor<?x?xi4>, tensor<?x?xf16>
}

// -----

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[GROUP:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2 floordiv 16)>
// CHECK-LABEL: func.func @decode_asymmetric
// CHECK-SAME: (%[[C:.*]]: tensor<2x3x40xi8>, %[[S:.*]]: tensor<2x3x3xf16>, %[[Z:.*]]: tensor<2x3x3xf16>)
// CHECK:      %[[R:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[GROUP]], #[[GROUP]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME:     ins(%[[C]], %[[S]], %[[Z]] : tensor<2x3x40xi8>, tensor<2x3x3xf16>, tensor<2x3x3xf16>) outs(%{{.*}} : tensor<2x3x40xf16>)
// CHECK:      ^bb0(%[[CODE:.*]]: i8, %[[SCALE:.*]]: f16, %[[ZERO:.*]]: f16, %{{.*}}: f16):
// CHECK:        %[[Q:.*]] = arith.uitofp %[[CODE]] : i8 to f32
// CHECK:        %[[SW:.*]] = arith.extf %[[SCALE]] : f16 to f32
// CHECK:        %[[QS:.*]] = arith.mulf %[[Q]], %[[SW]] : f32
// CHECK:        %[[ZW:.*]] = arith.extf %[[ZERO]] : f16 to f32
// CHECK:        %[[X:.*]] = arith.addf %[[ZW]], %[[QS]] : f32
// CHECK:        %[[XH:.*]] = arith.truncf %[[X]] : f32 to f16
// CHECK:        linalg.yield %[[XH]] : f16
// CHECK:      return %[[R]]
func.func @decode_asymmetric(%c: tensor<2x3x40xi8>, %s: tensor<2x3x3xf16>, %z: tensor<2x3x3xf16>) -> tensor<2x3x40xf16> {
  %r = qet.group_decode #qet.rtn<bits = 8, group = 16> %c, %s, %z
      : tensor<2x3x40xi8>, tensor<2x3x3xf16>, tensor<2x3x3xf16> -> tensor<2x3x40xf16>
  return %r : tensor<2x3x40xf16>
}

// -----

// CHECK-LABEL: func.func @decode_symmetric_f64
// CHECK:        %[[Q:.*]] = arith.sitofp %{{.*}} : i4 to f64
// CHECK:        %[[SW:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK:        %[[X:.*]] = arith.mulf %[[Q]], %[[SW]] : f64
// CHECK-NOT:    arith.addf
// CHECK:        linalg.yield %[[X]] : f64
func.func @decode_symmetric_f64(%c: tensor<5x7xi4>, %s: tensor<5x1xf32>) -> tensor<5x7xf64> {
  %r = qet.group_decode #qet.rtn<bits = 4, group = 7, symmetric = true> %c, %s
      : tensor<5x7xi4>, tensor<5x1xf32> -> tensor<5x7xf64>
  return %r : tensor<5x7xf64>
}
