// RUN: not qet-opt %s --qet-quantize-weights="scheme=nope" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not qet-opt %s --qet-quantize-weights="scheme=qjl" 2>&1 | FileCheck %s --check-prefix=QJL

// UNKNOWN: error: qet-quantize-weights: unknown scheme 'nope'; known schemes: rtn, rtn-sym, pq, opq, lopq, hera, qet, qjl, vptq
// QJL: error: qet-quantize-weights: 'qjl' sketches attention keys at run time; it is not a weight scheme
module {
}
