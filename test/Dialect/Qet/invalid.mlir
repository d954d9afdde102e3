// RUN: qet-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{#qet.rtn: bits must be in [1, 8], got 9}}
func.func @bits_too_large() attributes {s = #qet.rtn<bits = 9, group = 128>} {
  return
}

// -----

// expected-error @+1 {{#qet.rtn: bits must be in [1, 8], got 0}}
func.func @bits_zero() attributes {s = #qet.rtn<bits = 0, group = 128>} {
  return
}

// -----

// expected-error @+1 {{#qet.rtn: group must be >= 1, got 0}}
func.func @group_zero() attributes {s = #qet.rtn<bits = 4, group = 0>} {
  return
}

// -----

// expected-error @+1 {{expected 'true' or 'false' for 'symmetric'}}
func.func @symmetric_not_bool() attributes {s = #qet.rtn<bits = 4, group = 8, symmetric = 1>} {
  return
}

// -----

// expected-error @+1 {{#qet.rtn expects ', group = <integer>' after 'bits'}}
func.func @missing_group() attributes {s = #qet.rtn<bits = 4>} {
  return
}

// -----

// expected-error @+1 {{#qet.rtn expects 'bits = <integer>' here}}
func.func @wrong_key() attributes {s = #qet.rtn<width = 4, group = 2>} {
  return
}

// -----

func.func @codes_shape(%w: tensor<8x256xf32>) {
  // expected-error @+1 {{'qet.group_encode' op codes shape [8, 128] must match input shape [8, 256]}}
  %c, %s, %z = qet.group_encode #qet.rtn<bits = 4, group = 128> %w
      : tensor<8x256xf32> -> tensor<8x128xi8>, tensor<8x2xf16>, tensor<8x2xf16>
  return
}

// -----

func.func @codes_too_narrow(%w: tensor<8x256xf32>) {
  // expected-error @+1 {{'qet.group_encode' op codes element type 'i4' is narrower than the scheme's 5 bits}}
  %c, %s, %z = qet.group_encode #qet.rtn<bits = 5, group = 128> %w
      : tensor<8x256xf32> -> tensor<8x256xi4>, tensor<8x2xf16>, tensor<8x2xf16>
  return
}

// -----

func.func @scales_groups(%w: tensor<8x257xf32>) {
  // expected-error @+1 {{'qet.group_encode' op scales shape [8, 2] must be [8, 3]: input shape [8, 257] with groups of 128 along the last dimension}}
  %c, %s, %z = qet.group_encode #qet.rtn<bits = 4, group = 128> %w
      : tensor<8x257xf32> -> tensor<8x257xi8>, tensor<8x2xf16>, tensor<8x2xf16>
  return
}

// -----

func.func @scales_rank(%w: tensor<8x256xf32>) {
  // expected-error @+1 {{'qet.group_encode' op scales shape [16] must be [8, 2]}}
  %c, %s, %z = qet.group_encode #qet.rtn<bits = 4, group = 128> %w
      : tensor<8x256xf32> -> tensor<8x256xi8>, tensor<16xf16>, tensor<16xf16>
  return
}

// -----

func.func @missing_zero_points(%w: tensor<8x256xf32>) {
  // expected-error @+1 {{'qet.group_encode' op an asymmetric scheme needs zero_points with the type of scales ('tensor<8x2xf16>')}}
  %c, %s = qet.group_encode #qet.rtn<bits = 4, group = 128> %w
      : tensor<8x256xf32> -> tensor<8x256xi8>, tensor<8x2xf16>
  return
}

// -----

func.func @extra_zero_points(%w: tensor<8x256xf32>) {
  // expected-error @+1 {{'qet.group_encode' op a symmetric scheme has no zero_points, but one is given}}
  %c, %s, %z = qet.group_encode #qet.rtn<bits = 4, group = 128, symmetric = true> %w
      : tensor<8x256xf32> -> tensor<8x256xi8>, tensor<8x2xf16>, tensor<8x2xf16>
  return
}

// -----

func.func @zero_points_type(%w: tensor<8x256xf32>) {
  // expected-error @+1 {{'qet.group_encode' op zero_points type 'tensor<8x2xf32>' must match scales type 'tensor<8x2xf16>'}}
  %c, %s, %z = qet.group_encode #qet.rtn<bits = 4, group = 128> %w
      : tensor<8x256xf32> -> tensor<8x256xi8>, tensor<8x2xf16>, tensor<8x2xf32>
  return
}

// -----

func.func @scalar_input(%w: tensor<f32>) {
  // expected-error @+1 {{'qet.group_encode' op input must have rank >= 1 (groups run along the last dimension), got a 0-d tensor}}
  %c, %s, %z = qet.group_encode #qet.rtn<bits = 4, group = 128> %w
      : tensor<f32> -> tensor<i8>, tensor<f16>, tensor<f16>
  return
}

// -----

func.func @float_codes(%w: tensor<8x256xf32>) {
  // expected-error @+1 {{'qet.group_encode' op result #0 must be ranked tensor of signless integer values}}
  %c, %s, %z = qet.group_encode #qet.rtn<bits = 4, group = 128> %w
      : tensor<8x256xf32> -> tensor<8x256xf32>, tensor<8x2xf16>, tensor<8x2xf16>
  return
}

// -----

func.func @decode_result_shape(%c: tensor<8x256xi8>, %s: tensor<8x2xf16>, %z: tensor<8x2xf16>) {
  // expected-error @+1 {{'qet.group_decode' op codes shape [8, 256] must match result shape [8, 255]}}
  %r = qet.group_decode #qet.rtn<bits = 4, group = 128> %c, %s, %z
      : tensor<8x256xi8>, tensor<8x2xf16>, tensor<8x2xf16> -> tensor<8x255xf32>
  return
}

// -----

func.func @decode_missing_zero_points(%c: tensor<8x256xi8>, %s: tensor<8x2xf16>) {
  // expected-error @+1 {{'qet.group_decode' op an asymmetric scheme needs zero_points}}
  %r = qet.group_decode #qet.rtn<bits = 4, group = 128> %c, %s
      : tensor<8x256xi8>, tensor<8x2xf16> -> tensor<8x256xf32>
  return
}

// -----

func.func @decode_integer_result(%c: tensor<8x256xi8>, %s: tensor<8x2xf16>) {
  // expected-error @+1 {{'qet.group_decode' op result #0 must be ranked tensor of floating-point values}}
  %r = qet.group_decode #qet.rtn<bits = 4, group = 128, symmetric = true> %c, %s
      : tensor<8x256xi8>, tensor<8x2xf16> -> tensor<8x256xi32>
  return
}

// -----

// expected-error @+1 {{#qet.pq: subspaces = 3 does not divide the row length 128}}
func.func @pq_subspaces(%p: !qet.packed<64x128xf32, #qet.pq<subspaces = 3, centroids = 16, rotated = false>>) {
  return
}

// -----

// expected-error @+1 {{#qet.pq: centroids = 256 exceeds the 64 rows}}
func.func @pq_centroids(%p: !qet.packed<64x128xf32, #qet.pq<subspaces = 4, centroids = 256, rotated = false>>) {
  return
}

// -----

// expected-error @+1 {{#qet.lopq: cluster_rows add up to 63, not the 64 rows}}
func.func @lopq_rows(%p: !qet.packed<64x128xf32, #qet.lopq<subspaces = 8, cluster_rows = [60, 3], cluster_centroids = [60, 3]>>) {
  return
}

// -----

// expected-error @+1 {{#qet.lopq: cluster 1 has 0 rows and 4 centroids}}
func.func @lopq_empty(%p: !qet.packed<64x128xf32, #qet.lopq<subspaces = 8, cluster_rows = [64, 0], cluster_centroids = [60, 4]>>) {
  return
}

// -----

// expected-error @+1 {{#qet.hera: swap-tree depth 3 needs a row length divisible by 2^3, got 20}}
func.func @hera_depth(%p: !qet.packed<64x20xf32, #qet.hera<subspaces = 4, centroids = 16, depth = 3>>) {
  return
}

// -----

// expected-error @+1 {{#qet.qet: depths, centroids and codebook_bits need one entry per stage (got 2, 1, 2)}}
func.func @qet_stages() attributes {s = #qet.qet<subspaces = 4, depths = [3, 0], centroids = [64], codebook_bits = [10, 10]>} {
  return
}

// -----

// expected-error @+1 {{#qet.qet: stage 1 codebook_bits must be in [0, 16] (0 = float codebook), got 17}}
func.func @qet_codebook_bits() attributes {s = #qet.qet<subspaces = 4, depths = [3, 0], centroids = [64, 16], codebook_bits = [10, 17]>} {
  return
}

// -----

// expected-error @+1 {{#qet.vq: outlier_columns + groups * group_size = 120 does not equal the 128 columns}}
func.func @vq_columns(%p: !qet.packed<64x128xf32, #qet.vq<vector = 8, index_bits = 8, residual_bits = 0, groups = 2, group_size = 60, outlier_columns = 0, outlier_vector = 0, outlier_bits = 0, permuted = false, normalized = false>>) {
  return
}

// -----

// expected-error @+1 {{#qet.vq: index_bits must be in [1, 16], got 17}}
func.func @vq_bits() attributes {s = #qet.vq<vector = 8, index_bits = 17, residual_bits = 0, groups = 1, group_size = 8, outlier_columns = 0, outlier_vector = 0, outlier_bits = 0, permuted = false, normalized = false>} {
  return
}

// -----

// expected-error @+1 {{#qet.qjl: sketch must be a positive multiple of 8, got 100}}
func.func @qjl_sketch() attributes {s = #qet.qjl<sketch = 100, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = true, seed = 1>} {
  return
}

// -----

// expected-error @+1 {{#qet.qjl: the key dimension must be a positive multiple of 8, got 100}}
func.func @qjl_dim(%p: !qet.packed<64x100xf16, #qet.qjl<sketch = 256, outlier_sketch = 0, outliers = 0, group_tokens = 32, orthogonal = true, seed = 1>>) {
  return
}

// -----

// expected-error @+1 {{!qet.packed element type must be f32, f16 or bf16, got 'f64'}}
func.func @packed_f64(%p: !qet.packed<8x128xf64, #qet.rtn<bits = 4, group = 128>>) {
  return
}

// -----

// expected-error @+1 {{!qet.packed holds a matrix: expected 2 dimensions, got 3}}
func.func @packed_rank(%p: !qet.packed<2x8x128xf32, #qet.rtn<bits = 4, group = 128>>) {
  return
}

// -----

// expected-error @+1 {{!qet.packed expects a scheme attribute (#qet.rtn, #qet.pq, ...), got 5 : i64}}
func.func @packed_scheme(%p: !qet.packed<8x128xf32, 5>) {
  return
}

// -----

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @constant_size() {
  // expected-error @+1 {{'qet.constant' op component 'codes' holds 500 bytes, but 1024 fields of 4 bits need 512}}
  %w = qet.constant {codes = dense<0> : tensor<500xi8>, scales = dense<0> : tensor<16xi8>, zero_points = dense<0> : tensor<16xi8>} : !rtn
  return
}

// -----

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = true>>
func.func @constant_extra() {
  // expected-error @+1 {{'qet.constant' op has component 'zero_points', which #qet.rtn<bits = 4, group = 128, symmetric = true> does not store (it stores 'codes', 'scales')}}
  %w = qet.constant {codes = dense<0> : tensor<512xi8>, scales = dense<0> : tensor<16xi8>, zero_points = dense<0> : tensor<16xi8>} : !rtn
  return
}

// -----

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @constant_missing() {
  // expected-error @+1 {{'qet.constant' op is missing component 'zero_points'}}
  %w = qet.constant {codes = dense<0> : tensor<512xi8>, scales = dense<0> : tensor<16xi8>} : !rtn
  return
}

// -----

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @constant_type() {
  // expected-error @+1 {{'qet.constant' op component 'scales' must be a 1-D tensor of i8 bytes}}
  %w = qet.constant {codes = dense<0> : tensor<512xi8>, scales = dense<0> : tensor<8xi16>, zero_points = dense<0> : tensor<16xi8>} : !rtn
  return
}

// -----

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @storage_name(%w: !rtn) {
  // expected-error @+1 {{'qet.storage' op component 'codebooks' is not one of #qet.rtn<bits = 4, group = 128, symmetric = false>'s: 'codes', 'scales', 'zero_points'}}
  %c = qet.storage %w["codebooks"] : !rtn -> tensor<512xi8>
  return
}

// -----

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @storage_size(%w: !rtn) {
  // expected-error @+1 {{'qet.storage' op result holds 100 bytes, but component 'codes' has 512}}
  %c = qet.storage %w["codes"] : !rtn -> tensor<100xi8>
  return
}

// -----

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @dequantize_shape(%w: !rtn) {
  // expected-error @+1 {{'qet.dequantize' op result shape 128x8 must equal the packed shape 8x128}}
  %d = qet.dequantize %w : !rtn -> tensor<128x8xf32>
  return
}

// -----

!rtn = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @qmatmul_k(%x: tensor<1x64xf32>, %w: !rtn) {
  // expected-error @+1 {{'qet.qmatmul' op input has 64 columns, but the packed weight has 128 (the weight is N x K: rows are outputs)}}
  %y = qet.qmatmul %x, %w : tensor<1x64xf32>, !rtn -> tensor<1x8xf32>
  return
}

// -----

func.func @bit_unpack_bytes(%b: tensor<10xi8>) {
  // expected-error @+1 {{'qet.bit_unpack' op bytes holds 10 bytes, but 32 fields of 3 bits need 12}}
  %q = qet.bit_unpack %b {bits = 3 : i64} : tensor<10xi8> -> tensor<4x8xi8>
  return
}

// -----

func.func @bit_unpack_width(%b: tensor<32xi8>) {
  // expected-error @+1 {{'qet.bit_unpack' op result element type 'i8' is narrower than the 16-bit fields}}
  %q = qet.bit_unpack %b {bits = 16 : i64} : tensor<32xi8> -> tensor<16xi8>
  return
}

// -----

func.func @vq_decode_subspaces(%c: tensor<4x3xi32>, %b: tensor<2x16x4xf32>) {
  // expected-error @+1 {{'qet.vq_decode' op codes have 3 columns, but there are 2 codebooks (one per subspace, or one shared)}}
  %x = qet.vq_decode %c, %b : tensor<4x3xi32>, tensor<2x16x4xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @unswap_depth(%x: tensor<4x12xf32>, %bits: tensor<12xi8>) {
  // expected-error @+1 {{'qet.unswap_tree' op depth 3 needs a row length divisible by 2^3, got 12}}
  %u = qet.unswap_tree %x, %bits {depth = 3 : i64} : tensor<4x12xf32>, tensor<12xi8> -> tensor<4x12xf32>
  return
}

// -----

func.func @unswap_bits(%x: tensor<4x8xf32>, %bits: tensor<3xi8>) {
  // expected-error @+1 {{'qet.unswap_tree' op bits holds 3 bytes, but 4 rows x depth 2 x 4 pairs need 4}}
  %u = qet.unswap_tree %x, %bits {depth = 2 : i64} : tensor<4x8xf32>, tensor<3xi8> -> tensor<4x8xf32>
  return
}

// -----

func.func @qjl_sketch_outliers(%k: tensor<16x128xf32>, %jl: tensor<256x128xf32>) {
  // expected-error @+1 {{'qet.qjl_sketch' op sketches keys without outlier channels; the scheme has outliers = 4}}
  %s, %n = qet.qjl_sketch #qet.qjl<sketch = 256, outlier_sketch = 64, outliers = 4, group_tokens = 32, orthogonal = true, seed = 1> %k, %jl
      : tensor<16x128xf32>, tensor<256x128xf32> -> tensor<16x32xi8>, tensor<16xf16>
  return
}

// -----

func.func @qjl_score_signs(%q: tensor<4x128xf32>, %jl: tensor<256x128xf32>, %s: tensor<16x16xi8>, %n: tensor<16xf16>) {
  // expected-error @+1 {{'qet.qjl_score' op signs rows hold 128 bits, but jl has 256 rows (a multiple of 8)}}
  %r = qet.qjl_score %q, %jl, %s, %n : tensor<4x128xf32>, tensor<256x128xf32>, tensor<16x16xi8>, tensor<16xf16> -> tensor<4x16xf32>
  return
}

// -----

!rtn = !qet.packed<16x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @qjl_attention_scheme(%q: tensor<4x128xf32>, %k: !rtn, %v: tensor<16x128xf16>) {
  // expected-error @+1 {{'qet.qjl_attention' op keys must be packed with #qet.qjl, got #qet.rtn<bits = 4, group = 128, symmetric = false>}}
  %o = qet.qjl_attention %q, %k, %v {scale = 1.0 : f32} : tensor<4x128xf32>, !rtn, tensor<16x128xf16> -> tensor<4x128xf32>
  return
}

// -----

!rtn = !qet.packed<16x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @external_no_file() {
  // expected-error @+1 {{'qet.external_constant' op needs a non-empty container file name}}
  %w = qet.external_constant ""["w0"] : !rtn
  return
}

// -----

!rtn = !qet.packed<16x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @external_no_tensor() {
  // expected-error @+1 {{'qet.external_constant' op needs a non-empty tensor name}}
  %w = qet.external_constant "w.qpk"[""] : !rtn
  return
}

// -----

!rtn = !qet.packed<16x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
func.func @external_nul() {
  // expected-error @+1 {{'qet.external_constant' op file and tensor names must not contain NUL}}
  %w = qet.external_constant "w.qpk"["w\00"] : !rtn
  return
}

// -----

func.func @bit_unpack_rows(%b: tensor<3x4xi8>) {
  // expected-error @+1 {{'qet.bit_unpack' op 2-D bytes (one stream per row) need a 2-D result with the same 3 rows, got 'tensor<4x5xi32>'}}
  %q = qet.bit_unpack %b {bits = 6 : i64} : tensor<3x4xi8> -> tensor<4x5xi32>
  return
}

// -----

func.func @bit_unpack_row_bytes(%b: tensor<3x4xi8>) {
  // expected-error @+1 {{'qet.bit_unpack' op rows of bytes hold 4 bytes, but 6 fields of 6 bits need 5}}
  %q = qet.bit_unpack %b {bits = 6 : i64} : tensor<3x4xi8> -> tensor<3x6xi32>
  return
}
