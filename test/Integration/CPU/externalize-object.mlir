// Ahead-of-time objects of a model with an externalized 512x1024 weight hold
// no weight bytes: the packed storage (RTN 4-bit g128: 512*1024/2 code bytes
// + 512*8 fp16 scales and zero points = 278528 bytes) is in uninitialized
// .bss buffers that libqet_runtime fills from the .qpk on first use, while the
// same model without qet-externalize carries it in .rodata.
//
// DEFINE: %{lower} = --convert-qet-to-linalg \
// DEFINE:   --one-shot-bufferize=bufferize-function-boundaries \
// DEFINE:   --buffer-deallocation-pipeline --convert-bufferization-to-memref \
// DEFINE:   --convert-linalg-to-loops --expand-strided-metadata --lower-affine \
// DEFINE:   --convert-scf-to-cf --convert-to-llvm --reconcile-unrealized-casts
// RUN: rm -rf %t && mkdir -p %t
// RUN: qet-opt %s --qet-quantize-weights="scheme=rtn bpe=4.25 bits=4" \
// RUN:   --qet-externalize=file=%t/w.qpk --qet-decompose --convert-qet-to-runtime \
// RUN:   %{lower} 2>/dev/null | mlir-translate --mlir-to-llvmir \
// RUN:   | llc -filetype=obj -o %t/external.o
// RUN: llvm-size -A %t/external.o | FileCheck %s --check-prefix=EXTERNAL
// RUN: wc -c < %t/external.o | FileCheck %s --check-prefix=SMALL
// RUN: qet-opt %s --qet-quantize-weights="scheme=rtn bpe=4.25 bits=4" \
// RUN:   --qet-decompose %{lower} 2>/dev/null | mlir-translate --mlir-to-llvmir \
// RUN:   | llc -filetype=obj -o %t/inline.o
// RUN: llvm-size -A %t/inline.o | FileCheck %s --check-prefix=INLINE

// EXTERNAL: .rodata {{[0-9][0-9]?[0-9]?}} 0
// The buffers' 278528 bytes plus three one-byte "loaded" flags and their
// alignment padding.
// EXTERNAL: .bss {{278[5-7][0-9][0-9]}}
// SMALL: {{^ *[0-9][0-9]?[0-9]?[0-9]?$}}
// INLINE: .rodata 278528

func.func @forward(%x: tensor<1024xf32>) -> tensor<512xf32> {
  %w = arith.constant dense<0.25> : tensor<512x1024xf32>
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<512xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<512xf32>) -> tensor<512xf32>
  %y = linalg.matvec ins(%w, %x : tensor<512x1024xf32>, tensor<1024xf32>)
                     outs(%acc : tensor<512xf32>) -> tensor<512xf32>
  return %y : tensor<512xf32>
}
