// Batch-1 products with 4096 x 4096 PQ, QET and VPTQ weights (four copies
// each in the container qmatmul-bench.qpk that QmatmulBench writes), compiled
// ahead of time with qet-cpu-pipeline{backend=scf}. Written by
// bench/make_qmatmul_modules.sh.

func.func @scf_pq_b1_w0(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["pq0"] : !qet.packed<4096x4096xf32, #qet.pq<subspaces = 512, centroids = 256, rotated = false>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.pq<subspaces = 512, centroids = 256, rotated = false>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_pq_b1_w1(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["pq1"] : !qet.packed<4096x4096xf32, #qet.pq<subspaces = 512, centroids = 256, rotated = false>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.pq<subspaces = 512, centroids = 256, rotated = false>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_pq_b1_w2(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["pq2"] : !qet.packed<4096x4096xf32, #qet.pq<subspaces = 512, centroids = 256, rotated = false>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.pq<subspaces = 512, centroids = 256, rotated = false>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_pq_b1_w3(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["pq3"] : !qet.packed<4096x4096xf32, #qet.pq<subspaces = 512, centroids = 256, rotated = false>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.pq<subspaces = 512, centroids = 256, rotated = false>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_qet_b1_w0(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["qet0"] : !qet.packed<4096x4096xf32, #qet.qet<subspaces = 512, depths = [3, 0], centroids = [256, 32], codebook_bits = [10, 10]>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.qet<subspaces = 512, depths = [3, 0], centroids = [256, 32], codebook_bits = [10, 10]>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_qet_b1_w1(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["qet1"] : !qet.packed<4096x4096xf32, #qet.qet<subspaces = 512, depths = [3, 0], centroids = [256, 32], codebook_bits = [10, 10]>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.qet<subspaces = 512, depths = [3, 0], centroids = [256, 32], codebook_bits = [10, 10]>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_qet_b1_w2(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["qet2"] : !qet.packed<4096x4096xf32, #qet.qet<subspaces = 512, depths = [3, 0], centroids = [256, 32], codebook_bits = [10, 10]>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.qet<subspaces = 512, depths = [3, 0], centroids = [256, 32], codebook_bits = [10, 10]>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_qet_b1_w3(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["qet3"] : !qet.packed<4096x4096xf32, #qet.qet<subspaces = 512, depths = [3, 0], centroids = [256, 32], codebook_bits = [10, 10]>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.qet<subspaces = 512, depths = [3, 0], centroids = [256, 32], codebook_bits = [10, 10]>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_vptq_b1_w0(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["vptq0"] : !qet.packed<4096x4096xf32, #qet.vq<vector = 8, index_bits = 12, residual_bits = 0, groups = 1, group_size = 4096, outlier_columns = 0, outlier_vector = 0, outlier_bits = 0, permuted = false, normalized = false>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.vq<vector = 8, index_bits = 12, residual_bits = 0, groups = 1, group_size = 4096, outlier_columns = 0, outlier_vector = 0, outlier_bits = 0, permuted = false, normalized = false>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_vptq_b1_w1(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["vptq1"] : !qet.packed<4096x4096xf32, #qet.vq<vector = 8, index_bits = 12, residual_bits = 0, groups = 1, group_size = 4096, outlier_columns = 0, outlier_vector = 0, outlier_bits = 0, permuted = false, normalized = false>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.vq<vector = 8, index_bits = 12, residual_bits = 0, groups = 1, group_size = 4096, outlier_columns = 0, outlier_vector = 0, outlier_bits = 0, permuted = false, normalized = false>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_vptq_b1_w2(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["vptq2"] : !qet.packed<4096x4096xf32, #qet.vq<vector = 8, index_bits = 12, residual_bits = 0, groups = 1, group_size = 4096, outlier_columns = 0, outlier_vector = 0, outlier_bits = 0, permuted = false, normalized = false>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.vq<vector = 8, index_bits = 12, residual_bits = 0, groups = 1, group_size = 4096, outlier_columns = 0, outlier_vector = 0, outlier_bits = 0, permuted = false, normalized = false>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}

func.func @scf_vptq_b1_w3(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["vptq3"] : !qet.packed<4096x4096xf32, #qet.vq<vector = 8, index_bits = 12, residual_bits = 0, groups = 1, group_size = 4096, outlier_columns = 0, outlier_vector = 0, outlier_bits = 0, permuted = false, normalized = false>>
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, !qet.packed<4096x4096xf32, #qet.vq<vector = 8, index_bits = 12, residual_bits = 0, groups = 1, group_size = 4096, outlier_columns = 0, outlier_vector = 0, outlier_bits = 0, permuted = false, normalized = false>> -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}
