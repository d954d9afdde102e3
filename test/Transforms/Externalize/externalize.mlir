// RUN: rm -rf %t && mkdir -p %t
// RUN: qet-opt %s --qet-externalize=file=%t/w.qpk 2>&1 | FileCheck %s
// RUN: qet-quantize --inspect %t/w.qpk | FileCheck %s --check-prefix=INSPECT

// An existing file is kept unless replace=true; the IR is then unchanged.
// RUN: cp %t/w.qpk %t/before.qpk
// RUN: not qet-opt %s --qet-externalize=file=%t/w.qpk 2>&1 | FileCheck %s --check-prefix=EXISTS
// RUN: cmp %t/w.qpk %t/before.qpk
// RUN: qet-opt %s --qet-externalize="file=%t/w.qpk replace=true" -o /dev/null
// RUN: qet-quantize --inspect %t/w.qpk | FileCheck %s --check-prefix=INSPECT

// Externalizing again into the file the module already reads is an error.
// RUN: qet-opt %s --qet-externalize="file=%t/w.qpk replace=true" 2>/dev/null \
// RUN: | not qet-opt --qet-externalize="file=%t/w.qpk replace=true" 2>&1 \
// RUN: | FileCheck %s --check-prefix=REREAD

// RUN: not qet-opt %s --qet-externalize 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not qet-opt %s --qet-externalize=file=%t/no-such-dir/w.qpk 2>&1 | FileCheck %s --check-prefix=NODIR

// CHECK: remark: qet-externalize: wrote 2 tensors (656 bytes) to '{{.*}}w.qpk'
// CHECK-LABEL: func.func @weights
// CHECK-NOT: qet.constant
// CHECK: %[[A:.*]] = qet.external_constant "{{.*}}w.qpk"["w0"] : !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
// CHECK: %[[B:.*]] = qet.external_constant "{{.*}}w.qpk"["w1"] : !qet.packed<4x64xf16, #qet.rtn<bits = 3, group = 32, symmetric = true>>
// CHECK: qet.dequantize %[[A]]
// CHECK: qet.dequantize %[[B]]
// The blobs are gone from the module.
// CHECK-NOT: dialect_resources
// CHECK-NOT: qet_blob

// INSPECT: 2 tensor(s)
// INSPECT: tensor w0: scheme rtn, 8x128 f32
// INSPECT-NEXT: params: bits=4 group=128
// INSPECT: section codes {{ *}}4 bits x 1024 {{ *}}512 bytes
// INSPECT: tensor w1: scheme rtn-sym, 4x64 f16
// INSPECT-NEXT: params: bits=3 group=32
// INSPECT: section codes {{ *}}3 bits x 256 {{ *}}96 bytes
// INSPECT: checksums ok

// EXISTS: error: qet-externalize: {{.*}}w.qpk{{.*}}exists
// REREAD: error: qet-externalize: the module already reads '{{.*}}w.qpk'; write the new weights to another file
// NOFILE: error: qet-externalize: the option file=PATH is required
// NODIR: error: qet-externalize: {{.*}}no-such-dir

!a = !qet.packed<8x128xf32, #qet.rtn<bits = 4, group = 128, symmetric = false>>
!b = !qet.packed<4x64xf16, #qet.rtn<bits = 3, group = 32, symmetric = true>>
func.func @weights() -> (tensor<8x128xf32>, tensor<4x64xf16>) {
  %a = qet.constant {codes = dense<17> : tensor<512xi8>,
                     scales = dense<0> : tensor<16xi8>,
                     zero_points = dense<0> : tensor<16xi8>} : !a
  %b = qet.constant {codes = dense_resource<qet_blob_codes> : tensor<96xi8>,
                     scales = dense_resource<qet_blob_scales> : tensor<16xi8>} : !b
  %da = qet.dequantize %a : !a -> tensor<8x128xf32>
  %db = qet.dequantize %b : !b -> tensor<4x64xf16>
  return %da, %db : tensor<8x128xf32>, tensor<4x64xf16>
}

{-#
  dialect_resources: {
    builtin: {
      qet_blob_codes: "0x01000000052A4F7499BEE3082D52779CC1E60B30557A9FC4E90E33587DA2C7EC11365B80A5CAEF14395E83A8CDF2173C6186ABD0F51A3F6489AED3F81D42678CB1D6FB20456A8FB4D9FE23486D92B7DC01264B7095BADF04294E7398BDE2072C51769BC0",
      qet_blob_scales: "0x01000000003C003C003C003C003C003C003C003C"
    }
  }
#-}
