// RUN: qet-opt %s --convert-qet-to-scf | FileCheck %s
// The hand-computed estimator example of qjl.md §13 through generated code:
// RUN: qet-opt %s --symbol-dce --qet-cpu-pipeline=backend=scf \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:   -shared-libs=%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s --check-prefix=EXEC

!keys = !qet.packed<4x8xf16, #qet.qjl<sketch = 16, outlier_sketch = 8, outliers = 1, group_tokens = 3, orthogonal = true, seed = 5>>

// Attention over packed keys with an outlier channel per group of 3 tokens:
// S^T embedded (8 x 16), x = S q once (loops h, c, j), then per group y and
// x - y for every query row in vectors of 8, the ids clamped below d; per
// token the full block of 4 rows shares each byte's lane mask (the byte
// broadcast, ANDed with {1, ..., 128}, compared with 0) that selects x
// lanes into 4 accumulators, reduced ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7));
// 2 more rows after it. Then the softmax (max, exp, times 1 / sum) and the
// values product in vectors of 8 bf16 values widened to f32, the last 4
// columns masked.
// CHECK-LABEL: func.func @attention
// CHECK-DAG: %[[LANES:.*]] = arith.constant dense<[1, 2, 4, 8, 16, 32, 64, -128]> : vector<8xi8>
// CHECK-DAG: %[[ST:.*]] = arith.constant dense<"0x{{[0-9A-F]+}}"> : tensor<8x16xf32>
// CHECK-DAG: %[[SIGNS:.*]] = arith.constant dense<{{\[\[}}1, 2], [3, 4], [5, 6], [7, -8]]> : tensor<4x2xi8>
// CHECK: %[[IDS:.*]] = qet.bit_unpack %{{.*}} {bits = 8 : i64} : tensor<2xi8> -> tensor<2x1xi32>
// CHECK: %[[X:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%{{.*}}, %[[ST]] : tensor<6x8xf32>, tensor<8x16xf32>)
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %c2 step %c1 iter_args({{.*}}) -> (tensor<6x4xf32>, tensor<6x16xf32>, tensor<6x16xf32>, tensor<6xf32>, tensor<6xf32>)
// CHECK: tensor.extract %[[IDS]][%[[G]], %{{.*}}]
// CHECK: arith.minui %{{.*}}, %c7{{.*}} : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %c6{{.*}} step %c1
// CHECK: vector.transfer_read %[[ST]]
// CHECK: vector.transfer_read %[[X]]
// CHECK: arith.subf %{{.*}} : vector<8xf32>
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %c1{{.*}} -> (tensor<6x4xf32>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %c4{{.*}} step %c4
// CHECK: scf.for %{{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK: %[[BYTE:.*]] = tensor.extract %[[SIGNS]][%[[T]], %{{.*}}] : tensor<4x2xi8>
// CHECK: %[[SPLAT:.*]] = vector.broadcast %[[BYTE]] : i8 to vector<8xi8>
// CHECK: %[[BITS:.*]] = arith.andi %[[SPLAT]], %[[LANES]] : vector<8xi8>
// CHECK: %[[MASK:.*]] = arith.cmpi ne, %[[BITS]], %{{.*}} : vector<8xi8>
// CHECK-COUNT-4: arith.select %[[MASK]], %{{.*}}, %{{.*}} : vector<8xi1>, vector<8xf32>
// CHECK: vector.extract_strided_slice %{{.*}} {offsets = [4], sizes = [4], strides = [1]} : vector<8xf32> to vector<4xf32>
// CHECK: vector.extract_strided_slice %{{.*}} {offsets = [2], sizes = [2], strides = [1]} : vector<4xf32> to vector<2xf32>
// CHECK: scf.for %{{.*}} -> (vector<8xf32>, vector<8xf32>)
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<4x12xbf16>, vector<8xbf16>
// CHECK: arith.extf %{{.*}} : vector<8xbf16> to vector<8xf32>
// CHECK: vector.transfer_read %{{.*}}[%{{.*}}, %c8], %{{[^ ]*}} : tensor<4x12xbf16>, vector<8xbf16>
// CHECK: vector.transfer_write %{{.*}}[%{{.*}}, %c8] : vector<8xf32>, tensor<6x12xf32>
// CHECK-NOT: qet.qjl_attention
func.func @attention(%q: tensor<6x8xf32>, %v: tensor<4x12xbf16>) -> tensor<6x12xf32> {
  %k = qet.constant {signs = dense<[1, 2, 3, 4, 5, 6, 7, -8]> : tensor<8xi8>,
                     norms = dense<[0, 60, 0, 60, 0, 64, 0, 64]> : tensor<8xi8>,
                     outlier_signs = dense<[9, 10, 11, 12]> : tensor<4xi8>,
                     outlier_norms = dense<[0, 56, 0, 56, 0, 56, 0, 56]> : tensor<8xi8>,
                     outlier_ids = dense<[2, 7]> : tensor<2xi8>} : !keys
  %o = qet.qjl_attention %q, %k, %v {scale = 0.35 : f32} : tensor<6x8xf32>, !keys, tensor<4x12xbf16> -> tensor<6x12xf32>
  return %o : tensor<6x12xf32>
}

// qet.qmatmul of QJL keys is their scores: the same loops without outlier
// channels (one group, sum_j x_j once per row), no softmax; f16 queries
// widened first, the scores narrowed back.
// CHECK-LABEL: func.func @scores
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: %[[X:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8x8xf32>)
// CHECK: scf.for {{.*}} -> (vector<8xf32>)
// CHECK: vector.transfer_read %[[X]]
// CHECK: scf.for {{.*}} -> (tensor<2x3xf32>)
// CHECK: arith.select {{.*}} : vector<8xi1>, vector<8xf32>
// CHECK: arith.select {{.*}} : vector<8xi1>, vector<8xf32>
// CHECK-NOT: math.exp
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK-NOT: qet.qmatmul
!plain = !qet.packed<3x8xf32, #qet.qjl<sketch = 8, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = false, seed = 1>>
func.func @scores(%q: tensor<2x8xf16>) -> tensor<2x3xf16> {
  %k = qet.constant {signs = dense<[1, 2, 3]> : tensor<3xi8>, norms = dense<[0, 60, 0, 60, 0, 64]> : tensor<6xi8>} : !plain
  %s = qet.qmatmul %q, %k : tensor<2x8xf16>, !plain -> tensor<2x3xf16>
  return %s : tensor<2x3xf16>
}

// qet.qjl_sketch: z = S k, bit l of byte b is z[8b + l] > 0; the norm is
// summed and rooted in f64, then rounded to f32 and to fp16.
// CHECK-LABEL: func.func @sketch
// CHECK: %[[Z:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x8xf32>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<2x1xi8>)
// CHECK: tensor.extract %[[Z]]
// CHECK: arith.cmpf ogt
// CHECK: arith.shli
// CHECK: arith.ori
// CHECK: arith.extf %{{.*}} : f32 to f64
// CHECK: math.sqrt %{{.*}} : f64
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK-NOT: qet.qjl_sketch
// qet.qjl_score with its explicit JL matrix (sqrt(pi/2)/m).
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x8xf32>, tensor<8x8xf32>)
// CHECK: arith.select {{.*}} : vector<8xi1>, vector<8xf32>
// CHECK-NOT: qet.qjl_score
// CHECK: return

// qjl.md §13: S[j][c] = ((3j + 5c + jc + 2) mod 11) - 5, k = [1, -2, 0.5,
// 3, -1, 0, 2, -0.5], q = [0.5, 1, -1, 2, 0, -0.5, 1, 1]. S k -> 0xD7
// (-41), fp16 ||k|| = 4.4140625 and the estimate 13.83052; the inlier part
// k_in (channel 3 zeroed) has S k_in = [6.5, 15.5, 8, -16, 4, -9, 0, 3.5]
// -> 0x97 (-105: the exact 0 gives bit 0) and ||k_in|| = 3.2402344; its
// estimate against all of q (x = S q = [10.5, -11.5, 5, -11.5, -11.5,
// -0.5, 16, -0.5], sum sigma x = -12) is 3.2402344 sqrt(pi/2)/8 (-12) =
// -6.091547.
// EXEC: -41
// EXEC-NEXT: -105
// EXEC-NEXT: 4.41406
// EXEC-NEXT: 3.24023
// EXEC-NEXT: 13.8305
// EXEC-NEXT: -6.09155
func.func @sketch() -> (tensor<2x1xi8>, tensor<2xf16>, tensor<1x2xf32>) {
  %jl = arith.constant dense<[[-3.0, 2.0, -4.0, 1.0, -5.0, 0.0, 5.0, -1.0],
                              [0.0, -5.0, 1.0, -4.0, 2.0, -3.0, 3.0, -2.0],
                              [3.0, -1.0, -5.0, 2.0, -2.0, 5.0, 1.0, -3.0],
                              [-5.0, 3.0, 0.0, -3.0, 5.0, 2.0, -1.0, -4.0],
                              [-2.0, -4.0, 5.0, 3.0, 1.0, -1.0, -3.0, -5.0],
                              [1.0, 0.0, -1.0, -2.0, -3.0, -4.0, -5.0, 5.0],
                              [4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0],
                              [-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]]> : tensor<8x8xf32>
  %k = arith.constant dense<[[1.0, -2.0, 0.5, 3.0, -1.0, 0.0, 2.0, -0.5],
                             [1.0, -2.0, 0.5, 0.0, -1.0, 0.0, 2.0, -0.5]]> : tensor<2x8xf32>
  %q = arith.constant dense<[[0.5, 1.0, -1.0, 2.0, 0.0, -0.5, 1.0, 1.0]]> : tensor<1x8xf32>
  %s, %n = qet.qjl_sketch #qet.qjl<sketch = 8, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = false, seed = 1> %k, %jl
      : tensor<2x8xf32>, tensor<8x8xf32> -> tensor<2x1xi8>, tensor<2xf16>
  %e = qet.qjl_score %q, %jl, %s, %n : tensor<1x8xf32>, tensor<8x8xf32>, tensor<2x1xi8>, tensor<2xf16> -> tensor<1x2xf32>
  return %s, %n, %e : tensor<2x1xi8>, tensor<2xf16>, tensor<1x2xf32>
}

func.func @main() {
  %s, %n, %e = call @sketch() : () -> (tensor<2x1xi8>, tensor<2xf16>, tensor<1x2xf32>)
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b0 = tensor.extract %s[%c0, %c0] : tensor<2x1xi8>
  %b1 = tensor.extract %s[%c1, %c0] : tensor<2x1xi8>
  %n0 = tensor.extract %n[%c0] : tensor<2xf16>
  %n1 = tensor.extract %n[%c1] : tensor<2xf16>
  %f0 = arith.extf %n0 : f16 to f32
  %f1 = arith.extf %n1 : f16 to f32
  %e0 = tensor.extract %e[%c0, %c0] : tensor<1x2xf32>
  %e1 = tensor.extract %e[%c0, %c1] : tensor<1x2xf32>
  vector.print %b0 : i8
  vector.print %b1 : i8
  vector.print %f0 : f32
  vector.print %f1 : f32
  vector.print %e0 : f32
  vector.print %e1 : f32
  return
}

// A JL matrix of 2048 x 4096 floats is not embedded: left for the runtime.
// CHECK-LABEL: func.func private @too_large
// CHECK: qet.qjl_attention
!large = !qet.packed<16x2048xf16, #qet.qjl<sketch = 4096, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = true, seed = 1>>
func.func private @too_large(%q: tensor<1x2048xf32>, %k: !large, %v: tensor<16x8xf32>) -> tensor<1x8xf32> {
  %o = qet.qjl_attention %q, %k, %v {scale = 1.0 : f32} : tensor<1x2048xf32>, !large, tensor<16x8xf32> -> tensor<1x8xf32>
  return %o : tensor<1x8xf32>
}
