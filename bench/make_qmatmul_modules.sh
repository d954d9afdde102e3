#!/bin/sh
# Writes bench/qmatmul-{scf,runtime}.mlir, the modules QmatmulBench links:
# for batch 1, 8 and 32 and each of the eight weights rtn0..rtn7, a function
# @BACKEND_rtn_bB_wW(x, y) computing y = x W^T from the container.
# Usage: bench/make_qmatmul_modules.sh
set -eu
here=$(dirname "$0")
for backend in scf runtime; do
  {
    echo "// Batch 1/8/32 products with eight 4096 x 4096 RTN 4-bit (g = 128) weights,"
    echo "// rtn0..rtn7 of the container qmatmul-bench.qpk (written by QmatmulBench at"
    echo "// start-up; the benchmark rotates over them so that the 68 MiB of packed"
    echo "// weights do not sit in the last-level cache), compiled ahead of time with"
    echo "// qet-cpu-pipeline{backend=$backend}. Written by bench/make_qmatmul_modules.sh."
    echo ""
    echo '!rtn = !qet.packed<4096x4096xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>'
    for b in 1 8 32; do
      for w in 0 1 2 3 4 5 6 7; do
        cat <<EOF

func.func @${backend}_rtn_b${b}_w${w}(%x: memref<${b}x4096xf32>, %y: memref<${b}x4096xf32>)
    attributes {llvm.emit_c_interface} {
  %xt = bufferization.to_tensor %x restrict : memref<${b}x4096xf32> to tensor<${b}x4096xf32>
  %w = qet.external_constant "qmatmul-bench.qpk"["rtn${w}"] : !rtn
  %yt = qet.qmatmul %xt, %w : tensor<${b}x4096xf32>, !rtn -> tensor<${b}x4096xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<${b}x4096xf32>, memref<${b}x4096xf32>) -> ()
  return
}
EOF
      done
    done
  } > "$here/qmatmul-$backend.mlir"
done
