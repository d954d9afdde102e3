// RUN: qet-opt %s -split-input-file -verify-diagnostics --convert-qet-to-scf | FileCheck %s

// 4-bit RTN, groups of 64 dividing K = 128: x is de-interleaved once (even
// and odd elements) and summed per group; loops over rows, batch and
// groups; a group's 32 code bytes (one block, unrolled) split into two
// vector<32xf32> of nibbles FMA'd with x's halves into separate
// accumulators, folded to 8 lanes and scaled into a running vector<8xf32>
// (the scale read from its two fp16 bytes), reduced once per output; zero
// points multiply the group sums.
// CHECK-LABEL: func.func @rtn4
// CHECK: %[[CODES:.*]] = qet.storage %{{.*}}["codes"] {{.*}} -> tensor<128xi8>
// CHECK: %[[SCALES:.*]] = qet.storage %{{.*}}["scales"] {{.*}} -> tensor<8xi8>
// CHECK: %[[EVEN:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x64xf32>)
// CHECK: %[[ODD:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x64xf32>)
// CHECK: %[[SUMS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<3x2xf32>)
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %c2 step %c1
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %c3 step %c1
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %c2 step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<8xf32>, f32)
// CHECK-NOT: scf.for
// CHECK: vector.transfer_read %[[CODES]]{{.*}} : tensor<128xi8>, vector<32xi8>
// CHECK: arith.andi %{{.*}} : vector<32xi8>
// CHECK: arith.shrui %{{.*}} : vector<32xi8>
// CHECK: arith.sitofp %{{.*}} : vector<32xi32> to vector<32xf32>
// CHECK: vector.transfer_read %[[EVEN]]
// CHECK: vector.transfer_read %[[ODD]]
// CHECK: %[[LO:.*]] = vector.fma
// CHECK: %[[HI:.*]] = vector.fma
// CHECK: arith.addf %[[LO]], %[[HI]] : vector<32xf32>
// CHECK: vector.extract_strided_slice %{{.*}} {offsets = [24], sizes = [8], strides = [1]} : vector<32xf32> to vector<8xf32>
// CHECK: tensor.extract %[[SCALES]]
// CHECK: arith.bitcast %{{.*}} : i16 to f16
// CHECK: tensor.extract %[[SUMS]]
// CHECK: vector.broadcast %{{.*}} : f32 to vector<8xf32>
// CHECK: vector.fma {{.*}} : vector<8xf32>
// CHECK: vector.reduction <add>, %{{.*}} : vector<8xf32> into f32
// CHECK: tensor.insert
// CHECK-NOT: qet.qmatmul
!rtn4 = !qet.packed<2x128xf32, #qet.rtn<bits = 4, group = 64, symmetric = false>>
func.func @rtn4(%x: tensor<3x128xf32>, %w: !rtn4) -> tensor<3x2xf32> {
  %y = qet.qmatmul %x, %w : tensor<3x128xf32>, !rtn4 -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Symmetric 4-bit codes are two's complement nibbles: shifted left then
// arithmetically right; no zero points, no group sums. Groups of 32 take
// 16-byte blocks.
// CHECK-LABEL: func.func @rtn4_sym
// CHECK-NOT: zero_points
// CHECK: arith.shli %{{.*}} : vector<16xi8>
// CHECK: arith.shrsi %{{.*}} : vector<16xi8>
// CHECK: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
!sym = !qet.packed<2x64xbf16, #qet.rtn<bits = 4, group = 32, symmetric = true>>
func.func @rtn4_sym(%x: tensor<1x64xbf16>, %w: !sym) -> tensor<1x2xbf16> {
  %y = qet.qmatmul %x, %w : tensor<1x64xbf16>, !sym -> tensor<1x2xbf16>
  return %y : tensor<1x2xbf16>
}

// -----

// 3-bit codes: one contraction that decodes every code from its bits in the
// body (so do groups that do not divide K; test/Integration/CPU/qmatmul.mlir
// runs K = 100 with groups of 128).
// CHECK-LABEL: func.func @rtn3
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<2x5xf32>)
// CHECK: tensor.extract %{{.*}}[%{{.*}}] : tensor<113xi8>
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: scf.for
!rtn3 = !qet.packed<5x60xf32, #qet.rtn<bits = 3, group = 32, symmetric = false>>
func.func @rtn3(%x: tensor<2x60xf32>, %w: !rtn3) -> tensor<2x5xf32> {
  %y = qet.qmatmul %x, %w : tensor<2x60xf32>, !rtn3 -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

// PQ: per-input tables T[b, s, c] = <x_s, C[s, c]>, then M lookups per
// output with the code read from its bits; the weight is never decoded.
// CHECK-LABEL: func.func @pq
// CHECK-NOT: qet.dequantize
// CHECK: %[[BOOKS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x4x8xf32>)
// CHECK: %[[T:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%{{.*}}, %[[BOOKS]] : tensor<2x2x8xf32>, tensor<2x4x8xf32>) outs(%{{.*}} : tensor<2x2x4xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]{{.*}} outs(%{{.*}} : tensor<2x8xf32>)
// CHECK: scf.for %[[S:.*]] = %{{.*}} to %c2 step %c1
// CHECK: arith.minui
// CHECK: tensor.extract %[[T]][%{{.*}}, %[[S]], %{{.*}}] : tensor<2x2x4xf32>
!pq = !qet.packed<8x16xf32, #qet.pq<subspaces = 2, centroids = 4, rotated = false>>
func.func @pq(%x: tensor<2x16xf32>, %w: !pq) -> tensor<2x8xf32> {
  %y = qet.qmatmul %x, %w : tensor<2x16xf32>, !pq -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// PQ with byte codes (256 centroids here; 200 would add a clamp) and M a
// multiple of 8: each output sums its M table entries eight at a time, one
// 8-byte code read, one vector.gather from the flattened tables.
// CHECK-LABEL: func.func @pq_bytes
// CHECK: %[[T:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x16x256xf32>)
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[T]] {{\[\[}}0, 1, 2]] : tensor<3x16x256xf32> into tensor<12288xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c16 step %c8 iter_args(%{{.*}} = %{{.*}}) -> (vector<8xf32>)
// CHECK: vector.transfer_read {{.*}} : tensor<{{[0-9]+}}xi8>, vector<8xi8>
// CHECK: arith.extui %{{.*}} : vector<8xi8> to vector<8xi32>
// CHECK-NOT: arith.minui
// CHECK: vector.gather %[[FLAT]]
// CHECK: vector.reduction <add>
!pqb = !qet.packed<300x64xf32, #qet.pq<subspaces = 16, centroids = 256, rotated = false>>
func.func @pq_bytes(%x: tensor<3x64xf32>, %w: !pqb) -> tensor<3x300xf32> {
  %y = qet.qmatmul %x, %w : tensor<3x64xf32>, !pqb -> tensor<3x300xf32>
  return %y : tensor<3x300xf32>
}

// -----

// OPQ: x is rotated first (x R), then the PQ tables.
// CHECK-LABEL: func.func @opq
// CHECK: qet.storage %{{.*}}["rotation"]
// CHECK: %[[XR:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<1x16xf32>)
// CHECK: tensor.expand_shape %[[XR]]
!opq = !qet.packed<8x16xf16, #qet.pq<subspaces = 2, centroids = 4, rotated = true>>
func.func @opq(%x: tensor<1x16xf16>, %w: !opq) -> tensor<1x8xf16> {
  %y = qet.qmatmul %x, %w : tensor<1x16xf16>, !opq -> tensor<1x8xf16>
  return %y : tensor<1x8xf16>
}

// -----

// HERA: per row, the codewords are copied into a row buffer (one 8-byte
// load of codes serves 8 subspaces, each code clamped; float codebooks are
// read in place from their bytes), then the swap tree is undone layer by
// layer, deepest first, between row buffers: per 8 pairs of a block, the
// minima and maxima halves are loaded, one byte of swap bits selects (S, L)
// or (L, S), and the two are interleaved back; layer 1 writes the decoded
// row, which every batch item dots in 16 lanes. The weight is never
// decoded.
// CHECK-LABEL: func.func @hera
// CHECK-NOT: qet.dequantize
// CHECK: %[[BOOKS:.*]] = qet.storage %{{.*}}["codebooks"] {{.*}} -> tensor<1024xi8>
// CHECK: %[[CODES:.*]] = qet.storage %{{.*}}["codes"] {{.*}} -> tensor<32xi8>
// CHECK: %[[SWAPS:.*]] = qet.storage %{{.*}}["swap_bits"] {{.*}} -> tensor<64xi8>
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %c8 step %c1 iter_args(%[[Y:.*]] = %{{.*}}, %[[ROWBUF:.*]] = %{{.*}}, %[[BUF0:.*]] = %{{.*}}, %[[BUF1:.*]] = %{{.*}}) -> (tensor<2x8xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
// CHECK: %[[WORDS:.*]] = scf.for %{{.*}} = %{{.*}} to %c16 step %c8 iter_args(%[[W:.*]] = %[[BUF0]])
// CHECK: vector.transfer_read %[[CODES]]{{.*}} : tensor<32xi8>, vector<8xi8>
// CHECK: vector.bitcast %{{.*}} : vector<8xi8> to vector<1xi64>
// CHECK-COUNT-8: vector.transfer_read %[[BOOKS]]{{.*}} : tensor<1024xi8>, vector<16xi8>
// CHECK-NOT: vector.transfer_read %[[CODES]]
// CHECK: scf.yield
// Layer 2: two blocks of 32.
// CHECK: %[[LAYER2:.*]] = scf.for %{{.*}} = %{{.*}} to %c2 step %c1 iter_args(%{{.*}} = %[[BUF1]])
// CHECK: scf.for %{{.*}} = %{{.*}} to %c16 step %c8
// CHECK: %[[S2:.*]] = vector.transfer_read %[[WORDS]]
// CHECK: %[[L2:.*]] = vector.transfer_read %[[WORDS]]
// CHECK: tensor.extract %[[SWAPS]]
// CHECK: vector.broadcast %{{.*}} : i32 to vector<8xi32>
// CHECK: %[[MASK:.*]] = arith.cmpi ne
// CHECK: %[[EVEN:.*]] = arith.select %[[MASK]], %[[S2]], %[[L2]] : vector<8xi1>, vector<8xf32>
// CHECK: %[[ODD:.*]] = arith.select %[[MASK]], %[[L2]], %[[S2]] : vector<8xi1>, vector<8xf32>
// CHECK: vector.interleave %[[EVEN]], %[[ODD]] : vector<8xf32> -> vector<16xf32>
// Layer 1 into the decoded row.
// CHECK: %[[DECODED:.*]] = scf.for %{{.*}} = %{{.*}} to %c32 step %c8 iter_args(%{{.*}} = %[[ROWBUF]])
// CHECK: vector.transfer_read %[[LAYER2]]
// CHECK: vector.interleave
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %c2 step %c1 iter_args(%{{.*}} = %[[Y]])
// CHECK: scf.for %{{.*}} = %{{.*}} to %c64 step %c16
// CHECK: vector.transfer_read %[[DECODED]]
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: vector.reduction <add>
// CHECK: tensor.insert %{{.*}}[%[[B]], %[[ROW]]] : tensor<2x8xf32>
// CHECK: scf.yield %{{.*}}, %[[DECODED]], %[[WORDS]], %[[LAYER2]]
// CHECK-NOT: qet.qmatmul
!hera = !qet.packed<8x64xf32, #qet.hera<subspaces = 16, centroids = 4, depth = 2>>
func.func @hera(%x: tensor<2x64xf32>, %w: !hera) -> tensor<2x8xf32> {
  %y = qet.qmatmul %x, %w : tensor<2x64xf32>, !hera -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// QET: a grid codebook is expanded to f32 once per call (level * step + lo,
// no FMA); K = 40 gives halves of 20 and 10 (4 and 2 lanes, swap bits read
// across bytes). The depth-0 residual stage adds its bf16 codewords (read
// in place, widened) to the decoded row; the product has an 8-lane tail.
// CHECK-LABEL: func.func @qet
// CHECK-NOT: qet.dequantize
// CHECK: %[[LEVELS:.*]] = qet.storage %{{.*}}["s1.codebook_levels"] {{.*}} -> tensor<200xi8>
// CHECK: %[[S1BOOKS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<5x4x8xf32>)
// CHECK: vector.transfer_read %[[LEVELS]]
// CHECK: arith.uitofp
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK: %[[S1SWAPS:.*]] = qet.storage %{{.*}}["s1.swap_bits"]
// CHECK: %[[S2BOOKS:.*]] = qet.storage %{{.*}}["s2.codebooks"] {{.*}} -> tensor<160xi8>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c6 step %c1 iter_args({{.*}}) -> (tensor<3x6xf32>, tensor<40xf32>, tensor<40xf32>, tensor<40xf32>)
// CHECK: vector.transfer_read %[[S1BOOKS]]{{.*}} : tensor<5x4x8xf32>, vector<8xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c10 step %c2
// CHECK: vector.transfer_read %[[S1SWAPS]]
// CHECK: vector.interleave %{{.*}} : vector<2xf32> -> vector<4xf32>
// CHECK: %[[S1:.*]] = scf.for %{{.*}} = %{{.*}} to %c20 step %c4
// CHECK: vector.interleave %{{.*}} : vector<4xf32> -> vector<8xf32>
// CHECK: %[[ROW:.*]] = scf.for %{{.*}} = %{{.*}} to %c5 step %c1 iter_args(%[[ACC:.*]] = %[[S1]])
// CHECK: vector.transfer_read %[[S2BOOKS]]{{.*}} : tensor<160xi8>, vector<16xi8>
// CHECK: vector.bitcast %{{.*}} : vector<16xi8> to vector<8xbf16>
// CHECK: %[[WORD:.*]] = arith.extf %{{.*}} : vector<8xbf16> to vector<8xf32>
// CHECK: %[[OLD:.*]] = vector.transfer_read %[[ACC]]
// CHECK: arith.addf %[[OLD]], %[[WORD]] : vector<8xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c3 step %c1
// CHECK: scf.for %{{.*}} = %{{.*}} to %c32 step %c16
// CHECK: vector.fma {{.*}} : vector<16xf32>
// CHECK: vector.transfer_read %[[ROW]][%c32]{{.*}} : tensor<40xf32>, vector<8xf32>
// CHECK: vector.fma {{.*}} : vector<8xf32>
// CHECK: arith.truncf %{{.*}} : f32 to bf16
!qet = !qet.packed<6x40xbf16, #qet.qet<subspaces = 5, depths = [2, 0], centroids = [4, 2], codebook_bits = [10, 0]>>
func.func @qet(%x: tensor<3x40xbf16>, %w: !qet) -> tensor<3x6xbf16> {
  %y = qet.qmatmul %x, %w : tensor<3x40xbf16>, !qet -> tensor<3x6xbf16>
  return %y : tensor<3x6xbf16>
}

// -----

// LOPQ: per non-empty cluster, x rotated by the cluster's R, its tables and
// the sums over its rows' codes (an OPQ product of its rows), stacked in
// cluster order; a scan of the labels gives each row its place in the stack.
// CHECK-LABEL: func.func @lopq
// CHECK-NOT: qet.dequantize
// CHECK: qet.storage %{{.*}}["c0.rotation"]
// CHECK: qet.storage %{{.*}}["c0.codes"]
// CHECK: %[[S0:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<2x6xf32>
// CHECK: qet.storage %{{.*}}["c1.rotation"]
// CHECK: %[[S1:.*]] = tensor.insert_slice %{{.*}} into %[[S0]][0, 4] [2, 2] [1, 1] : tensor<2x2xf32> into tensor<2x6xf32>
// CHECK: qet.bit_unpack %{{.*}} {bits = 1 : i64} : tensor<1xi8> -> tensor<6xi32>
// CHECK: %[[POS:.*]]:2 = scf.for {{.*}} -> (tensor<6xindex>, tensor<2xindex>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x6xf32>)
// CHECK: tensor.extract %[[POS]]#0
// CHECK: tensor.extract %[[S1]]
!lopq = !qet.packed<6x16xf32, #qet.lopq<subspaces = 2, cluster_rows = [4, 2], cluster_centroids = [2, 2]>>
func.func @lopq(%x: tensor<2x16xf32>, %w: !lopq) -> tensor<2x6xf32> {
  %y = qet.qmatmul %x, %w : tensor<2x16xf32>, !lopq -> tensor<2x6xf32>
  return %y : tensor<2x6xf32>
}

// -----

// VPTQ: the input is permuted and scaled once (xs), the bias term summed
// once (beta) and used to seed y; per batch item and vector row (v = 4: two
// full rows of vectors, then the partial third), a vector<4xf32>
// accumulator takes each column's codebook entry (+ residual entry), read
// as one vector with its index read once from its word-aligned row, times
// xs; then the outlier columns the same way with their vector length 2.
// CHECK-LABEL: func.func @vq
// CHECK-NOT: qet.dequantize
// CHECK: qet.storage %{{.*}}["perm"]
// CHECK: %[[XS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x24xf32>)
// CHECK: %[[BETA:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]{{.*}} outs(%{{.*}} : tensor<2xf32>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x10xf32>)
// CHECK: tensor.extract %[[BETA]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2 step %c1
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2 step %c1
// CHECK: scf.for %{{.*}} = %{{.*}} to %c10 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (vector<4xf32>)
// CHECK: tensor.extract %[[XS]]
// CHECK: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<2x16x4xf32>, vector<4xf32>
// CHECK: vector.transfer_read {{.*}} {in_bounds = [true]} : tensor<2x4x4xf32>, vector<4xf32>
// CHECK: vector.fma {{.*}} : vector<4xf32>
// CHECK: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<4xf32>, tensor<2x10xf32>
// CHECK: vector.transfer_write %{{.*}}, %{{.*}}[%{{.*}}, %c8] : vector<4xf32>, tensor<2x10xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<1x8x2xf32>, vector<2xf32>
// CHECK: vector.fma {{.*}} : vector<2xf32>
!vq = !qet.packed<10x24xf32, #qet.vq<vector = 4, index_bits = 4, residual_bits = 2, groups = 2, group_size = 10, outlier_columns = 4, outlier_vector = 2, outlier_bits = 3, permuted = true, normalized = true>>
func.func @vq(%x: tensor<2x24xf32>, %w: !vq) -> tensor<2x10xf32> {
  %y = qet.qmatmul %x, %w : tensor<2x24xf32>, !vq -> tensor<2x10xf32>
  return %y : tensor<2x10xf32>
}
