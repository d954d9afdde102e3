// qet-opt carries the upstream GPU pipeline and the LLVM IR translations that
// gpu-module-to-binary needs. PTX text needs only LLVM; the cubin needs ptxas.
// REQUIRES: cuda-toolkit
// RUN: qet-opt %s --nvvm-attach-target="chip=sm_90" --convert-gpu-to-nvvm \
// RUN:   --reconcile-unrealized-casts --gpu-module-to-binary="format=isa" \
// RUN:   | FileCheck %s --check-prefix=PTX
// RUN: qet-opt %s --nvvm-attach-target="chip=sm_90" --convert-gpu-to-nvvm \
// RUN:   --reconcile-unrealized-casts \
// RUN:   --gpu-module-to-binary="format=bin toolkit=%cuda_toolkit" \
// RUN:   | FileCheck %s --check-prefix=CUBIN

// PTX: gpu.binary @kernels
// PTX-SAME: .target sm_90
// PTX-SAME: .entry scale
// PTX-SAME: mul.rn.f32
// CUBIN: gpu.binary @kernels
// CUBIN-SAME: #gpu.object<#nvvm.target<chip = "sm_90">
// CUBIN-SAME: bin = "\7FELF

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @scale(%x: memref<1024xf32>, %s: f32) kernel {
      %tid = gpu.thread_id x
      %bid = gpu.block_id x
      %dim = gpu.block_dim x
      %base = arith.muli %bid, %dim : index
      %i = arith.addi %base, %tid : index
      %v = memref.load %x[%i] : memref<1024xf32>
      %r = arith.mulf %v, %s : f32
      memref.store %r, %x[%i] : memref<1024xf32>
      gpu.return
    }
  }
}
