#!/bin/sh
# Writes bench/qmatmul-{scf,scf-i16,scf-i8,runtime}.mlir, the modules
# QmatmulBench links: for batch 1, 8 and 32 and each of the eight weights
# rtn0..rtn7, a function @PREFIX_rtn_bB_wW(x, y) computing y = x W^T from the
# container. bench/CMakeLists.txt compiles each with its qet-cpu-pipeline
# options (PIPELINE below).
# Usage: bench/make_qmatmul_modules.sh
set -eu
here=$(dirname "$0")
for variant in scf scf-i16 scf-i8 runtime; do
  case $variant in
    scf) prefix=scf; pipeline="backend=scf" ;;
    scf-i16) prefix=scf_i16; pipeline="backend=scf activations=i16" ;;
    scf-i8) prefix=scf_i8; pipeline="backend=scf activations=i8" ;;
    runtime) prefix=runtime; pipeline="backend=runtime" ;;
  esac
  {
    echo "// Batch 1/8/32 products with eight 4096 x 4096 RTN 4-bit (g = 128) weights,"
    echo "// rtn0..rtn7 of the container qmatmul-bench.qpk (written by QmatmulBench at"
    echo "// start-up; the benchmark rotates over them so that the 68 MiB of packed"
    echo "// weights do not sit in the last-level cache), compiled ahead of time with"
    echo "// qet-cpu-pipeline{$pipeline}. Written by bench/make_qmatmul_modules.sh."
    echo ""
    echo '!rtn = !qet.packed<4096x4096xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>'
    for b in 1 8 32; do
      for w in 0 1 2 3 4 5 6 7; do
        cat <<FUNC

func.func @${prefix}_rtn_b${b}_w${w}(%x: memref<${b}x4096xf32>, %y: memref<${b}x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<${b}x4096xf32> to tensor<${b}x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn${w}"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<${b}x4096xf32>, !rtn -> tensor<${b}x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<${b}x4096xf32>, memref<${b}x4096xf32>) -> ()
  return
}
FUNC
      done
    done
  } > "$here/qmatmul-$variant.mlir"
done

# bench/qmatmul-schemes-{scf,runtime}.mlir: batch-1 products with PQ, QET and
# VPTQ weights pq0..3, qet0..3, vptq0..3 (four copies each of one 4096 x 4096
# weight, so that they do not sit in the last-level cache), quantized by
# QmatmulBench with the parameters of these types (it checks them).
pq='!qet.packed<4096x4096xf32, #qet.pq<subspaces = 512, centroids = 256, rotated = false>>'
qet='!qet.packed<4096x4096xf32, #qet.qet<subspaces = 512, depths = [3, 0], centroids = [256, 32], codebook_bits = [10, 10]>>'
vptq='!qet.packed<4096x4096xf32, #qet.vq<vector = 8, index_bits = 12, residual_bits = 0, groups = 1, group_size = 4096, outlier_columns = 0, outlier_vector = 0, outlier_bits = 0, permuted = false, normalized = false>>'
for backend in scf runtime; do
  {
    echo "// Batch-1 products with 4096 x 4096 PQ, QET and VPTQ weights (four copies"
    echo "// each in the container qmatmul-bench.qpk that QmatmulBench writes), compiled"
    echo "// ahead of time with qet-cpu-pipeline{backend=$backend}. Written by"
    echo "// bench/make_qmatmul_modules.sh."
    for scheme in pq qet vptq; do
      eval type=\$$scheme
      for w in 0 1 2 3; do
        cat <<FUNC

func.func @${backend}_${scheme}_b1_w${w}(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<1x4096xf32> to tensor<1x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["${scheme}${w}"] : $type
  %yt = qet.qmatmul %xt, %w : tensor<1x4096xf32>, $type -> tensor<1x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<1x4096xf32>, memref<1x4096xf32>) -> ()
  return
}
FUNC
      done
    done
  } > "$here/qmatmul-schemes-$backend.mlir"
done
