// Without an NVIDIA driver, GPU code linked against the project's mgpu*
// runtime stops at its first CUDA call with a clear message and exit status 1
// (no crash, no silent success).
// REQUIRES: cuda-toolkit
// UNSUPPORTED: cuda-device
// RUN: qet-opt %s --pass-pipeline="builtin.module(nvvm-attach-target{chip=sm_90},gpu.module(convert-gpu-to-nvvm),gpu-to-llvm,reconcile-unrealized-casts,gpu-module-to-binary{format=bin toolkit=%cuda_toolkit},convert-scf-to-cf,expand-strided-metadata,convert-to-llvm,reconcile-unrealized-casts)" \
// RUN: | not mlir-runner -e main -entry-point-result=void \
// RUN:   -shared-libs=%qet_cuda_runtime 2>&1 \
// RUN: | FileCheck %s
// CHECK: qet-cuda-runtime: cannot load libcuda.so.1 (is an NVIDIA driver installed?)

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @noop() kernel {
      gpu.return
    }
  }

  func.func @main() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@noop blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
}
