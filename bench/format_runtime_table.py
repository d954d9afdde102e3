#!/usr/bin/env python3
"""Markdown table of RuntimeMatvecBench's JSON output (stdin): per kernel and
thread count the median real time, the weight bytes it reads per call, the
resulting GB/s and the speed-up over OpenBLAS at the same thread count."""
import json
import sys

NAMES = {
    "BM_Sgemv": "OpenBLAS cblas_sgemv, fp32 W",
    "BM_RtnMatvec": "runtime rtn 4-bit g128 (qet_tensor_matvec)",
    "BM_RtnPlainEntry": "runtime rtn 4-bit g128 (qet_rtn_matvec_f32)",
    "BM_RtnMatvecPortable": "runtime rtn 4-bit g128, portable kernel",
    "BM_PqMatvec": "runtime pq (M 512, Ds 8)",
    "BM_QetMatvec": "runtime qet (2 stages, depths 3/0)",
    "BM_VptqMatvec": "runtime vptq (v 8, k 4096)",
    "BM_SgemmBatch8": "OpenBLAS cblas_sgemm, batch 8, fp32 W",
    "BM_RtnMatmulBatch8": "runtime rtn 4-bit g128, batch 8 (qet_tensor_matmul)",
}
BASELINE = {"BM_SgemmBatch8": None, "BM_RtnMatmulBatch8": "BM_SgemmBatch8"}

data = json.load(sys.stdin)
rows = {}
for b in data["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    name, threads = b["run_name"].split("/")[0], int(b["run_name"].split("/")[1])
    seconds = b["real_time"] * {"us": 1e-6, "ms": 1e-3, "ns": 1e-9}[b["time_unit"]]
    rows[(name, threads)] = (seconds, b["bytes_per_second"] * seconds)

print("| kernel | threads | weight bytes | time per call (us) | weight GB/s | vs OpenBLAS |")
print("|---|---:|---:|---:|---:|---:|")
for name in NAMES:
    for threads in (1, 2):
        if (name, threads) not in rows:
            continue
        seconds, stored = rows[(name, threads)]
        base = BASELINE.get(name, "BM_Sgemv")
        ratio = ""
        if base and (base, threads) in rows:
            ratio = "%.2fx" % (rows[(base, threads)][0] / seconds)
        elif name in ("BM_Sgemv", "BM_SgemmBatch8"):
            ratio = "1.00x"
        print("| %s | %d | %.2f MiB | %.0f | %.2f | %s |" % (
            NAMES[name], threads, stored / 2**20, seconds * 1e6,
            stored / seconds / 1e9, ratio))
