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
