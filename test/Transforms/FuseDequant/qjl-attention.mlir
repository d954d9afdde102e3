// RUN: qet-opt %s --qet-fuse-dequant --split-input-file | FileCheck %s

// softmax(scale * q K^T) V with K a packed QJL key matrix: the score as the
// product with the decoded (implied) keys, a constant scale, linalg.softmax
// over the tokens and the values product become one qet.qjl_attention.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[Q:.*]]: tensor<4x16xf32>, %[[K:.*]]: !qet.packed{{.*}}, %[[V:.*]]: tensor<32x8xf16>)
// CHECK-NOT: linalg.softmax
// CHECK-NOT: qet.dequantize
// CHECK: %[[O:.*]] = qet.qjl_attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f32} : tensor<4x16xf32>, !qet.packed<32x16xf16, #qet.qjl<{{.*}}>>, tensor<32x8xf16> -> tensor<4x8xf32>
// CHECK-NEXT: return %[[O]]
!keys = !qet.packed<32x16xf16, #qet.qjl<sketch = 64, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = true, seed = 7>>
func.func @chain(%q: tensor<4x16xf32>, %k: !keys, %v: tensor<32x8xf16>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %kd = qet.dequantize %k : !keys -> tensor<32x16xf32>
  %kte = tensor.empty() : tensor<16x32xf32>
  %kt = linalg.transpose ins(%kd : tensor<32x16xf32>) outs(%kte : tensor<16x32xf32>) permutation = [1, 0]
  %se = tensor.empty() : tensor<4x32xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%se : tensor<4x32xf32>) -> tensor<4x32xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<4x16xf32>, tensor<16x32xf32>) outs(%sz : tensor<4x32xf32>) -> tensor<4x32xf32>
  %c = arith.constant 0.25 : f32
  %l = linalg.generic {indexing_maps = [affine_map<(h, t) -> (h, t)>, affine_map<(h, t) -> (h, t)>], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x32xf32>
  %p = linalg.softmax dimension(1) ins(%l : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) -> tensor<4x32xf32>
  %oe = tensor.empty() : tensor<4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x32xf32>, tensor<32x8xf16>) outs(%oz : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

// -----

// The score already fused into qet.qmatmul, the constant on the left of the
// multiplication, the decoded keys indexed (n, k) elsewhere: all the same
// chain. No scaling gives scale 1; a live accumulator is added.
// CHECK-LABEL: func.func @qmatmul_score
// CHECK: qet.qjl_attention {{.*}} {scale = -1.250000e-01 : f32}
// CHECK-LABEL: func.func @unscaled
// CHECK: %[[O:.*]] = qet.qjl_attention {{.*}} {scale = 1.000000e+00 : f32}
// CHECK: linalg.generic {{.*}} ins(%[[O]] : tensor<2x16xf32>)
// CHECK: arith.addf
!keys = !qet.packed<32x16xf16, #qet.qjl<sketch = 64, outlier_sketch = 16, outliers = 2, group_tokens = 8, orthogonal = false, seed = 7>>
func.func @qmatmul_score(%q: tensor<4x16xf16>, %k: !keys, %v: tensor<32x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant -0.125 : f32
  %s = qet.qmatmul %q, %k : tensor<4x16xf16>, !keys -> tensor<4x32xf32>
  %se = tensor.empty() : tensor<4x32xf32>
  %l = linalg.generic {indexing_maps = [affine_map<(h, t) -> (h, t)>, affine_map<(h, t) -> (h, t)>], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %c, %in : f32
    linalg.yield %m : f32
  } -> tensor<4x32xf32>
  %p = linalg.softmax dimension(1) ins(%l : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) -> tensor<4x32xf32>
  %oe = tensor.empty() : tensor<4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x32xf32>, tensor<32x8xf32>) outs(%oz : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

func.func @unscaled(%q: tensor<2x16xf32>, %k: !keys, %v: tensor<32x16xf32>, %acc: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %kd = qet.dequantize %k : !keys -> tensor<32x16xf32>
  %se = tensor.empty() : tensor<2x32xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%se : tensor<2x32xf32>) -> tensor<2x32xf32>
  %s = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%q, %kd : tensor<2x16xf32>, tensor<32x16xf32>) outs(%sz : tensor<2x32xf32>) -> tensor<2x32xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<2x32xf32>) outs(%se : tensor<2x32xf32>) -> tensor<2x32xf32>
  %o = linalg.matmul ins(%p, %v : tensor<2x32xf32>, tensor<32x16xf32>) outs(%acc : tensor<2x16xf32>) -> tensor<2x16xf32>
  return %o : tensor<2x16xf32>
}

// -----

// Negative cases: each chain stays as written (the scores of QJL keys still
// become qet.qmatmul, the ordinary product fusion).
!keys = !qet.packed<32x16xf16, #qet.qjl<sketch = 64, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = true, seed = 7>>
!rtn = !qet.packed<32x16xf32, #qet.rtn<bits = 4, group = 16, symmetric = false>>

// The probabilities are also returned: needed anyway.
// CHECK-LABEL: func.func @softmax_used_twice
// CHECK-NOT: qet.qjl_attention
// CHECK: linalg.softmax
// CHECK-NOT: qet.qjl_attention
// CHECK: return
func.func @softmax_used_twice(%q: tensor<4x16xf32>, %k: !keys, %v: tensor<32x8xf32>) -> (tensor<4x8xf32>, tensor<4x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %s = qet.qmatmul %q, %k : tensor<4x16xf32>, !keys -> tensor<4x32xf32>
  %se = tensor.empty() : tensor<4x32xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) -> tensor<4x32xf32>
  %oe = tensor.empty() : tensor<4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x32xf32>, tensor<32x8xf32>) outs(%oz : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o, %p : tensor<4x8xf32>, tensor<4x32xf32>
}

// The scores are also returned.
// CHECK-LABEL: func.func @scores_used_twice
// CHECK-NOT: qet.qjl_attention
// CHECK: linalg.softmax
// CHECK-NOT: qet.qjl_attention
// CHECK: return
func.func @scores_used_twice(%q: tensor<4x16xf32>, %k: !keys, %v: tensor<32x8xf32>) -> (tensor<4x8xf32>, tensor<4x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %s = qet.qmatmul %q, %k : tensor<4x16xf32>, !keys -> tensor<4x32xf32>
  %se = tensor.empty() : tensor<4x32xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) -> tensor<4x32xf32>
  %oe = tensor.empty() : tensor<4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x32xf32>, tensor<32x8xf32>) outs(%oz : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o, %s : tensor<4x8xf32>, tensor<4x32xf32>
}

// The scaled scores are also returned.
// CHECK-LABEL: func.func @scaled_used_twice
// CHECK-NOT: qet.qjl_attention
// CHECK: linalg.softmax
// CHECK-NOT: qet.qjl_attention
// CHECK: return
func.func @scaled_used_twice(%q: tensor<4x16xf32>, %k: !keys, %v: tensor<32x8xf32>) -> (tensor<4x8xf32>, tensor<4x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %s = qet.qmatmul %q, %k : tensor<4x16xf32>, !keys -> tensor<4x32xf32>
  %se = tensor.empty() : tensor<4x32xf32>
  %l = linalg.generic {indexing_maps = [affine_map<(h, t) -> (h, t)>, affine_map<(h, t) -> (h, t)>], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x32xf32>
  %p = linalg.softmax dimension(1) ins(%l : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) -> tensor<4x32xf32>
  %oe = tensor.empty() : tensor<4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x32xf32>, tensor<32x8xf32>) outs(%oz : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o, %l : tensor<4x8xf32>, tensor<4x32xf32>
}

// Keys of another scheme: an ordinary quantized product, not QJL attention.
// CHECK-LABEL: func.func @rtn_keys
// CHECK-NOT: qet.qjl_attention
// CHECK: linalg.softmax
// CHECK-NOT: qet.qjl_attention
// CHECK: return
func.func @rtn_keys(%q: tensor<4x16xf32>, %k: !rtn, %v: tensor<32x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %s = qet.qmatmul %q, %k : tensor<4x16xf32>, !rtn -> tensor<4x32xf32>
  %se = tensor.empty() : tensor<4x32xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) -> tensor<4x32xf32>
  %oe = tensor.empty() : tensor<4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x32xf32>, tensor<32x8xf32>) outs(%oz : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

// A score with a live accumulator (q K^T + bias) is not the estimator alone.
// CHECK-LABEL: func.func @biased_scores
// CHECK-NOT: qet.qjl_attention
// CHECK: linalg.softmax
// CHECK-NOT: qet.qjl_attention
// CHECK: return
func.func @biased_scores(%q: tensor<4x16xf32>, %k: !keys, %v: tensor<32x8xf32>, %bias: tensor<4x32xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %kd = qet.dequantize %k : !keys -> tensor<32x16xf32>
  %se = tensor.empty() : tensor<4x32xf32>
  %s = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%q, %kd : tensor<4x16xf32>, tensor<32x16xf32>) outs(%bias : tensor<4x32xf32>) -> tensor<4x32xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) -> tensor<4x32xf32>
  %oe = tensor.empty() : tensor<4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x32xf32>, tensor<32x8xf32>) outs(%oz : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

// Softmax over the heads, not the tokens.
// CHECK-LABEL: func.func @softmax_over_heads
// CHECK-NOT: qet.qjl_attention
// CHECK: linalg.softmax
// CHECK-NOT: qet.qjl_attention
// CHECK: return
func.func @softmax_over_heads(%q: tensor<4x16xf32>, %k: !keys, %v: tensor<32x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %s = qet.qmatmul %q, %k : tensor<4x16xf32>, !keys -> tensor<4x32xf32>
  %se = tensor.empty() : tensor<4x32xf32>
  %p = linalg.softmax dimension(0) ins(%s : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) -> tensor<4x32xf32>
  %oe = tensor.empty() : tensor<4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x32xf32>, tensor<32x8xf32>) outs(%oz : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

// Scaled by a run-time value, not a constant.
// CHECK-LABEL: func.func @dynamic_scale
// CHECK-NOT: qet.qjl_attention
// CHECK: linalg.softmax
// CHECK-NOT: qet.qjl_attention
// CHECK: return
func.func @dynamic_scale(%q: tensor<4x16xf32>, %k: !keys, %v: tensor<32x8xf32>, %c: f32) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %s = qet.qmatmul %q, %k : tensor<4x16xf32>, !keys -> tensor<4x32xf32>
  %se = tensor.empty() : tensor<4x32xf32>
  %l = linalg.generic {indexing_maps = [affine_map<(h, t) -> (h, t)>, affine_map<(h, t) -> (h, t)>], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x32xf32>
  %p = linalg.softmax dimension(1) ins(%l : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) -> tensor<4x32xf32>
  %oe = tensor.empty() : tensor<4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%oe : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x32xf32>, tensor<32x8xf32>) outs(%oz : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

// The value product accumulates in f16.
// CHECK-LABEL: func.func @f16_output
// CHECK-NOT: qet.qjl_attention
// CHECK: linalg.softmax
// CHECK-NOT: qet.qjl_attention
// CHECK: return
func.func @f16_output(%q: tensor<4x16xf32>, %k: !keys, %v: tensor<32x8xf16>) -> tensor<4x8xf16> {
  %zero = arith.constant 0.0 : f16
  %s = qet.qmatmul %q, %k : tensor<4x16xf32>, !keys -> tensor<4x32xf32>
  %se = tensor.empty() : tensor<4x32xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<4x32xf32>) outs(%se : tensor<4x32xf32>) -> tensor<4x32xf32>
  %oe = tensor.empty() : tensor<4x8xf16>
  %oz = linalg.fill ins(%zero : f16) outs(%oe : tensor<4x8xf16>) -> tensor<4x8xf16>
  %o = linalg.matmul ins(%p, %v : tensor<4x32xf32>, tensor<32x8xf16>) outs(%oz : tensor<4x8xf16>) -> tensor<4x8xf16>
  return %o : tensor<4x8xf16>
}
