// RUN: qet-opt %s --qet-decompose -verify-diagnostics | FileCheck %s

// RTN: codes and fp16 metadata are unpacked from their bit streams.
// CHECK-LABEL: func.func @rtn
// CHECK: %[[CB:.*]] = qet.storage %[[P:.*]]["codes"] : {{.*}} -> tensor<36xi8>
// CHECK: %[[C:.*]] = qet.bit_unpack %[[CB]] {bits = 3 : i64, sign_extend} : tensor<36xi8> -> tensor<4x24xi8>
// CHECK: %[[SB:.*]] = qet.storage %[[P]]["scales"] : {{.*}} -> tensor<24xi8>
// CHECK: %[[S16:.*]] = qet.bit_unpack %[[SB]] {bits = 16 : i64} : tensor<24xi8> -> tensor<4x3xi16>
// CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%[[S16]] : tensor<4x3xi16>) outs(%{{.*}} : tensor<4x3xf16>)
// CHECK: arith.bitcast %{{.*}} : i16 to f16
// CHECK: qet.group_decode #qet.rtn<bits = 3, group = 8, symmetric = true> %[[C]], %[[S]] : tensor<4x24xi8>, tensor<4x3xf16> -> tensor<4x24xf32>
// CHECK-NOT: qet.dequantize
func.func @rtn(%p: !qet.packed<4x24xf32, #qet.rtn<bits = 3, group = 8, symmetric = true>>) -> tensor<4x24xf32> {
  %d = qet.dequantize %p : !qet.packed<4x24xf32, #qet.rtn<bits = 3, group = 8, symmetric = true>> -> tensor<4x24xf32>
  return %d : tensor<4x24xf32>
}

// OPQ: PQ gather, then times R^T (a contraction over the second index of R).
// CHECK-LABEL: func.func @opq
// CHECK: qet.storage %{{.*}}["codebooks"] : {{.*}} -> tensor<256xi8>
// CHECK: qet.bit_unpack %{{.*}} {bits = 16 : i64} : tensor<256xi8> -> tensor<2x8x8xi16>
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: %[[CODES:.*]] = qet.bit_unpack %{{.*}} {bits = 3 : i64} : tensor<12xi8> -> tensor<16x2xi32>
// CHECK: %[[X:.*]] = qet.vq_decode %[[CODES]], %{{.*}} : tensor<16x2xi32>, tensor<2x8x8xf32> -> tensor<16x16xf32>
// CHECK: qet.storage %{{.*}}["rotation"] : {{.*}} -> tensor<512xi8>
// CHECK: linalg.generic {indexing_maps = [#[[LHS:.*]], #[[RHS:.*]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %{{.*}} : tensor<16x16xf32>, tensor<16x16xf32>)
// CHECK: %[[R:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<16x16xf16>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: return %[[R]]
func.func @opq(%p: !qet.packed<16x16xf16, #qet.pq<subspaces = 2, centroids = 8, rotated = true>>) -> tensor<16x16xf16> {
  %d = qet.dequantize %p : !qet.packed<16x16xf16, #qet.pq<subspaces = 2, centroids = 8, rotated = true>> -> tensor<16x16xf16>
  return %d : tensor<16x16xf16>
}

// HERA: PQ gather, then the swap tree undone from its bits.
// CHECK-LABEL: func.func @hera
// CHECK: %[[X:.*]] = qet.vq_decode
// CHECK: %[[BITS:.*]] = qet.storage %{{.*}}["swap_bits"] : {{.*}} -> tensor<32xi8>
// CHECK: qet.unswap_tree %[[X]], %[[BITS]] {depth = 2 : i64} : tensor<16x16xf32>, tensor<32xi8> -> tensor<16x16xf32>
func.func @hera(%p: !qet.packed<16x16xf32, #qet.hera<subspaces = 4, centroids = 4, depth = 2>>) -> tensor<16x16xf32> {
  %d = qet.dequantize %p : !qet.packed<16x16xf32, #qet.hera<subspaces = 4, centroids = 4, depth = 2>> -> tensor<16x16xf32>
  return %d : tensor<16x16xf32>
}

// QET: stage 1 has a 10-bit grid codebook (lo + level * step), depth 3;
// stage 2 a float codebook and no swap tree; the stages are summed.
// CHECK-LABEL: func.func @qet
// CHECK: %[[LEVELS:.*]] = qet.bit_unpack %{{.*}} {bits = 10 : i64} : tensor<80xi8> -> tensor<4x4x4xi32>
// CHECK: qet.storage %{{.*}}["s1.codebook_lo"]
// CHECK: qet.storage %{{.*}}["s1.codebook_step"]
// CHECK: %[[BOOK:.*]] = linalg.generic {{.*}} ins(%[[LEVELS]] : tensor<4x4x4xi32>)
// CHECK: arith.uitofp
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK: %[[S1:.*]] = qet.vq_decode %{{.*}}, %[[BOOK]]
// CHECK: %[[U1:.*]] = qet.unswap_tree %[[S1]], %{{.*}} {depth = 3 : i64}
// CHECK: qet.storage %{{.*}}["s2.codebooks"]
// CHECK: %[[S2:.*]] = qet.vq_decode
// CHECK-NOT: qet.unswap_tree
// CHECK: qet.residual_sum %[[U1]], %[[S2]] : tensor<16x16xf32>
func.func @qet(%p: !qet.packed<16x16xf32, #qet.qet<subspaces = 4, depths = [3, 0], centroids = [4, 2], codebook_bits = [10, 0]>>) -> tensor<16x16xf32> {
  %d = qet.dequantize %p : !qet.packed<16x16xf32, #qet.qet<subspaces = 4, depths = [3, 0], centroids = [4, 2], codebook_bits = [10, 0]>> -> tensor<16x16xf32>
  return %d : tensor<16x16xf32>
}

// VPTQ: index rows start on 32-bit words (2-D bit_unpack of 6-bit fields:
// 4 main + 2 residual bits); per column group the shared codebooks decode
// column vectors of 4 (3 vectors cover the 10 rows, sliced back to 10), the
// residual stage is added; outlier columns (vectors of 2) go first; then
// the inverse permutation (a sequential scatter) and scale/bias per column.
// CHECK-LABEL: func.func @vq
// CHECK: %[[IDX:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [6, 8] : tensor<48xi8> into tensor<6x8xi8>
// CHECK: %[[F:.*]] = qet.bit_unpack %[[IDX]] {bits = 6 : i64} : tensor<6x8xi8> -> tensor<6x10xi32>
// CHECK: qet.bit_unpack %{{.*}} {bits = 16 : i64} : tensor<256xi8> -> tensor<2x16x4xi16>
// CHECK: qet.bit_unpack %{{.*}} {bits = 16 : i64} : tensor<64xi8> -> tensor<2x4x4xi16>
// CHECK: tensor.extract_slice %[[F]][0, 0] [3, 10] [1, 1] : tensor<6x10xi32> to tensor<3x10xi32>
// CHECK: %[[M0:.*]] = qet.vq_decode %{{.*}}, %{{.*}} : tensor<10x3xi32>, tensor<1x16x4xf32> -> tensor<10x12xf32>
// CHECK: tensor.extract_slice %[[M0]][0, 0] [10, 10] [1, 1] : tensor<10x12xf32> to tensor<10x10xf32>
// CHECK: qet.vq_decode %{{.*}}, %{{.*}} : tensor<10x3xi32>, tensor<1x4x4xf32> -> tensor<10x12xf32>
// CHECK: %[[G0:.*]] = qet.residual_sum %{{.*}}, %{{.*}} : tensor<10x10xf32>
// CHECK: tensor.insert_slice %[[G0]] into %{{.*}}[4, 0] [10, 10] [1, 1] : tensor<10x10xf32> into tensor<24x10xf32>
// CHECK: tensor.extract_slice %[[F]][3, 0] [3, 10] [1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[14, 0] [10, 10] [1, 1]
// CHECK: qet.bit_unpack %{{.*}} {bits = 3 : i64} : tensor<5x4xi8> -> tensor<5x4xi32>
// CHECK: qet.vq_decode %{{.*}}, %{{.*}} : tensor<4x5xi32>, tensor<1x8x2xf32> -> tensor<4x10xf32>
// CHECK: %[[PERMUTED:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [4, 10] [1, 1]
// CHECK: qet.storage %{{.*}}["perm"]
// CHECK: %[[INV:.*]] = scf.for
// CHECK: tensor.insert %{{.*}} into %{{.*}}[%{{.*}}] : tensor<24xindex>
// CHECK: qet.storage %{{.*}}["scale"]
// CHECK: qet.storage %{{.*}}["bias"]
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<10x24xf32>)
// CHECK: tensor.extract %[[INV]]
// CHECK: tensor.extract %[[PERMUTED]]
// CHECK: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK-NOT: qet.dequantize
!vq = !qet.packed<10x24xf32, #qet.vq<vector = 4, index_bits = 4, residual_bits = 2, groups = 2, group_size = 10, outlier_columns = 4, outlier_vector = 2, outlier_bits = 3, permuted = true, normalized = true>>
func.func @vq(%p: !vq) -> tensor<10x24xf32> {
  %d = qet.dequantize %p : !vq -> tensor<10x24xf32>
  return %d : tensor<10x24xf32>
}

// LOPQ: each non-empty cluster is decoded (PQ then R^T) and stacked in
// cluster order (cluster 1 is empty and stores nothing); a scan over the
// labels gives each row its place in the stack, then a row gather.
// CHECK-LABEL: func.func @lopq
// CHECK: qet.vq_decode %{{.*}}, %{{.*}} : tensor<5x2xi32>, tensor<2x4x4xf32> -> tensor<5x8xf32>
// CHECK: qet.storage %{{.*}}["c0.rotation"]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [5, 8] [1, 1]
// CHECK-NOT: "c1.
// CHECK: qet.vq_decode %{{.*}}, %{{.*}} : tensor<7x2xi32>, tensor<2x2x4xf32> -> tensor<7x8xf32>
// CHECK: qet.storage %{{.*}}["c2.rotation"]
// CHECK: %[[STACK:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[5, 0] [7, 8] [1, 1]
// CHECK: qet.bit_unpack %{{.*}} {bits = 2 : i64} : tensor<3xi8> -> tensor<12xi32>
// CHECK: %[[POS:.*]]:2 = scf.for {{.*}} -> (tensor<12xindex>, tensor<3xindex>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<12x8xf32>)
// CHECK: %[[ROW:.*]] = tensor.extract %[[POS]]#0
// CHECK: tensor.extract %[[STACK]][%[[ROW]]
!lopq = !qet.packed<12x8xf32, #qet.lopq<subspaces = 2, cluster_rows = [5, 0, 7], cluster_centroids = [4, 0, 2]>>
func.func @lopq(%p: !lopq) -> tensor<12x8xf32> {
  %d = qet.dequantize %p : !lopq -> tensor<12x8xf32>
  return %d : tensor<12x8xf32>
}

// QJL keys are consumed by the fused attention op: kept, with a remark.
// CHECK-LABEL: func.func @qjl
// CHECK: qet.dequantize
!qjl = !qet.packed<64x128xf16, #qet.qjl<sketch = 256, outlier_sketch = 64, outliers = 4, group_tokens = 32, orthogonal = true, seed = 123>>
func.func @qjl(%p: !qjl) -> tensor<64x128xf16> {
  // expected-remark @+1 {{qet-decompose: no decomposition for #qet.qjl<}}
  %d = qet.dequantize %p : !qjl -> tensor<64x128xf16>
  return %d : tensor<64x128xf16>
}
