// Runs a kernel through qet-opt's NVVM pipeline and the project's mgpu*
// runtime: device allocation, copies in and out, launch, synchronization.
// RUN: qet-opt %s --pass-pipeline="builtin.module(nvvm-attach-target{chip=sm_90},gpu.module(convert-gpu-to-nvvm),gpu-to-llvm,reconcile-unrealized-casts,gpu-module-to-binary{format=bin toolkit=%cuda_toolkit},convert-scf-to-cf,expand-strided-metadata,convert-to-llvm,reconcile-unrealized-casts)" \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:   -shared-libs=%qet_cuda_runtime,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s

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

  func.func private @printMemrefF32(memref<*xf32>)

  func.func @main() {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c256 = arith.constant 256 : index
    %c1024 = arith.constant 1024 : index
    %two = arith.constant 2.0 : f32
    %h = memref.alloc() : memref<1024xf32>
    scf.for %i = %c0 to %c1024 step %c1 {
      %ii = arith.index_cast %i : index to i32
      %f = arith.sitofp %ii : i32 to f32
      memref.store %f, %h[%i] : memref<1024xf32>
    }
    %t0 = gpu.wait async
    %d, %t1 = gpu.alloc async [%t0] () : memref<1024xf32>
    %t2 = gpu.memcpy async [%t1] %d, %h : memref<1024xf32>, memref<1024xf32>
    %t3 = gpu.launch_func async [%t2] @kernels::@scale
        blocks in (%c4, %c1, %c1) threads in (%c256, %c1, %c1)
        args(%d : memref<1024xf32>, %two : f32)
    %t4 = gpu.memcpy async [%t3] %h, %d : memref<1024xf32>, memref<1024xf32>
    %t5 = gpu.dealloc async [%t4] %d : memref<1024xf32>
    gpu.wait [%t5]
    %view = memref.subview %h[1020] [4] [1] : memref<1024xf32> to memref<4xf32, strided<[1], offset: 1020>>
    %copy = memref.alloc() : memref<4xf32>
    memref.copy %view, %copy : memref<4xf32, strided<[1], offset: 1020>> to memref<4xf32>
    %u = memref.cast %copy : memref<4xf32> to memref<*xf32>
    // CHECK: [2040,  2042,  2044,  2046]
    call @printMemrefF32(%u) : (memref<*xf32>) -> ()
    memref.dealloc %copy : memref<4xf32>
    memref.dealloc %h : memref<1024xf32>
    return
  }
}
