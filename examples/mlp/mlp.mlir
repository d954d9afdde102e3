// A two-layer MLP, y = relu(x W1^T) W2^T, with weights [out, in] stored as
// group-wise 4-bit RTN (groups of 128 along each weight row). The weights are
// quantized once by @quantize_rtn4 and decoded inside every forward call;
// @mlp_f32 is the unquantized model compiled the same way.
// Built by examples/mlp/CMakeLists.txt: qet-opt -> mlir-translate -> llc.

#matmul_nt = [affine_map<(m, n, k) -> (m, k)>,
              affine_map<(m, n, k) -> (n, k)>,
              affine_map<(m, n, k) -> (m, n)>]
#id = affine_map<(d0, d1) -> (d0, d1)>

func.func @quantize_rtn4(%w: memref<?x?xf32>, %codes: memref<?x?xi8>,
                         %scales: memref<?x?xf16>, %zeros: memref<?x?xf16>)
    attributes {llvm.emit_c_interface} {
  %t = bufferization.to_tensor %w restrict : memref<?x?xf32> to tensor<?x?xf32>
  %c, %s, %z = qet.group_encode #qet.rtn<bits = 4, group = 128> %t
      : tensor<?x?xf32> -> tensor<?x?xi8>, tensor<?x?xf16>, tensor<?x?xf16>
  bufferization.materialize_in_destination %c in restrict writable %codes
      : (tensor<?x?xi8>, memref<?x?xi8>) -> ()
  bufferization.materialize_in_destination %s in restrict writable %scales
      : (tensor<?x?xf16>, memref<?x?xf16>) -> ()
  bufferization.materialize_in_destination %z in restrict writable %zeros
      : (tensor<?x?xf16>, memref<?x?xf16>) -> ()
  return
}

// x [batch, in] times w^T for w [out, in].
func.func private @linear(%x: tensor<?x?xf32>, %w: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %batch = tensor.dim %x, %c0 : tensor<?x?xf32>
  %out = tensor.dim %w, %c0 : tensor<?x?xf32>
  %empty = tensor.empty(%batch, %out) : tensor<?x?xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<?x?xf32>) -> tensor<?x?xf32>
  %y = linalg.matmul indexing_maps = #matmul_nt
      ins(%x, %w : tensor<?x?xf32>, tensor<?x?xf32>)
      outs(%init : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

func.func private @relu(%h: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %zero = arith.constant 0.0 : f32
  %r = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}
      outs(%h : tensor<?x?xf32>) {
  ^bb0(%v: f32):
    %m = arith.maximumf %v, %zero : f32
    linalg.yield %m : f32
  } -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

func.func private @forward(%x: tensor<?x?xf32>, %w1: tensor<?x?xf32>,
                           %w2: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %h = func.call @linear(%x, %w1) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %a = func.call @relu(%h) : (tensor<?x?xf32>) -> tensor<?x?xf32>
  %y = func.call @linear(%a, %w2) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

func.func @mlp_f32(%x: memref<?x?xf32>, %w1: memref<?x?xf32>, %w2: memref<?x?xf32>,
                   %y: memref<?x?xf32>) attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<?x?xf32> to tensor<?x?xf32>
  %w1t = bufferization.to_tensor %w1 restrict : memref<?x?xf32> to tensor<?x?xf32>
  %w2t = bufferization.to_tensor %w2 restrict : memref<?x?xf32> to tensor<?x?xf32>
  %r = func.call @forward(%xt, %w1t, %w2t)
      : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  bufferization.materialize_in_destination %r in restrict writable %y
      : (tensor<?x?xf32>, memref<?x?xf32>) -> ()
  return
}

func.func @mlp_rtn4(%x: memref<?x?xf32>,
                    %c1: memref<?x?xi8>, %s1: memref<?x?xf16>, %z1: memref<?x?xf16>,
                    %c2: memref<?x?xi8>, %s2: memref<?x?xf16>, %z2: memref<?x?xf16>,
                    %y: memref<?x?xf32>) attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<?x?xf32> to tensor<?x?xf32>
  %c1t = bufferization.to_tensor %c1 restrict : memref<?x?xi8> to tensor<?x?xi8>
  %s1t = bufferization.to_tensor %s1 restrict : memref<?x?xf16> to tensor<?x?xf16>
  %z1t = bufferization.to_tensor %z1 restrict : memref<?x?xf16> to tensor<?x?xf16>
  %c2t = bufferization.to_tensor %c2 restrict : memref<?x?xi8> to tensor<?x?xi8>
  %s2t = bufferization.to_tensor %s2 restrict : memref<?x?xf16> to tensor<?x?xf16>
  %z2t = bufferization.to_tensor %z2 restrict : memref<?x?xf16> to tensor<?x?xf16>
  %w1 = qet.group_decode #qet.rtn<bits = 4, group = 128> %c1t, %s1t, %z1t
      : tensor<?x?xi8>, tensor<?x?xf16>, tensor<?x?xf16> -> tensor<?x?xf32>
  %w2 = qet.group_decode #qet.rtn<bits = 4, group = 128> %c2t, %s2t, %z2t
      : tensor<?x?xi8>, tensor<?x?xf16>, tensor<?x?xf16> -> tensor<?x?xf32>
  %r = func.call @forward(%xt, %w1, %w2)
      : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  bufferization.materialize_in_destination %r in restrict writable %y
      : (tensor<?x?xf32>, memref<?x?xf32>) -> ()
  return
}
