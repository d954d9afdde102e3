// Batch 1/8/32 products with eight 4096 x 4096 RTN 4-bit (g = 128) weights,
// rtn0..rtn7 of the container qmatmul-bench.qpk (written by QmatmulBench at
// start-up; the benchmark rotates over them so that the 68 MiB of packed
// weights do not sit in the last-level cache), compiled ahead of time with
// qet-cpu-pipeline{backend=scf activations=i8}. Written by bench/make_qmatmul_modules.sh.

!rtn = !qet.packed<4096x4096xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>

func.func @scf_i8_rtn_b1_w0(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn0"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !rtn -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b1_w1(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn1"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !rtn -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b1_w2(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn2"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !rtn -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b1_w3(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn3"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !rtn -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b1_w4(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn4"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !rtn -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b1_w5(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn5"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !rtn -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b1_w6(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn6"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !rtn -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b1_w7(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn7"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !rtn -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b8_w0(%x: memref<8x4096xf32>, %y: memref<8x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<8x4096xf32> to tensor<8x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn0"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<8x4096xf32>, !rtn -> tensor<8x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<8x4096xf32>, memref<8x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b8_w1(%x: memref<8x4096xf32>, %y: memref<8x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<8x4096xf32> to tensor<8x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn1"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<8x4096xf32>, !rtn -> tensor<8x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<8x4096xf32>, memref<8x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b8_w2(%x: memref<8x4096xf32>, %y: memref<8x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<8x4096xf32> to tensor<8x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn2"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<8x4096xf32>, !rtn -> tensor<8x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<8x4096xf32>, memref<8x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b8_w3(%x: memref<8x4096xf32>, %y: memref<8x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<8x4096xf32> to tensor<8x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn3"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<8x4096xf32>, !rtn -> tensor<8x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<8x4096xf32>, memref<8x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b8_w4(%x: memref<8x4096xf32>, %y: memref<8x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<8x4096xf32> to tensor<8x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn4"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<8x4096xf32>, !rtn -> tensor<8x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<8x4096xf32>, memref<8x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b8_w5(%x: memref<8x4096xf32>, %y: memref<8x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<8x4096xf32> to tensor<8x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn5"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<8x4096xf32>, !rtn -> tensor<8x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<8x4096xf32>, memref<8x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b8_w6(%x: memref<8x4096xf32>, %y: memref<8x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<8x4096xf32> to tensor<8x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn6"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<8x4096xf32>, !rtn -> tensor<8x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<8x4096xf32>, memref<8x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b8_w7(%x: memref<8x4096xf32>, %y: memref<8x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<8x4096xf32> to tensor<8x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn7"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<8x4096xf32>, !rtn -> tensor<8x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<8x4096xf32>, memref<8x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b32_w0(%x: memref<32x4096xf32>, %y: memref<32x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<32x4096xf32> to tensor<32x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn0"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<32x4096xf32>, !rtn -> tensor<32x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<32x4096xf32>, memref<32x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b32_w1(%x: memref<32x4096xf32>, %y: memref<32x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<32x4096xf32> to tensor<32x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn1"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<32x4096xf32>, !rtn -> tensor<32x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<32x4096xf32>, memref<32x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b32_w2(%x: memref<32x4096xf32>, %y: memref<32x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<32x4096xf32> to tensor<32x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn2"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<32x4096xf32>, !rtn -> tensor<32x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<32x4096xf32>, memref<32x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b32_w3(%x: memref<32x4096xf32>, %y: memref<32x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<32x4096xf32> to tensor<32x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn3"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<32x4096xf32>, !rtn -> tensor<32x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<32x4096xf32>, memref<32x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b32_w4(%x: memref<32x4096xf32>, %y: memref<32x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<32x4096xf32> to tensor<32x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn4"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<32x4096xf32>, !rtn -> tensor<32x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<32x4096xf32>, memref<32x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b32_w5(%x: memref<32x4096xf32>, %y: memref<32x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<32x4096xf32> to tensor<32x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn5"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<32x4096xf32>, !rtn -> tensor<32x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<32x4096xf32>, memref<32x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b32_w6(%x: memref<32x4096xf32>, %y: memref<32x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<32x4096xf32> to tensor<32x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn6"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<32x4096xf32>, !rtn -> tensor<32x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<32x4096xf32>, memref<32x4096xf32>) -> ()
  return
}

func.func @scf_i8_rtn_b32_w7(%x: memref<32x4096xf32>, %y: memref<32x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<32x4096xf32> to tensor<32x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn7"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<32x4096xf32>, !rtn -> tensor<32x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<32x4096xf32>, memref<32x4096xf32>) -> ()
  return
}
