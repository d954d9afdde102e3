#!/usr/bin/env python3
"""Markdown table of QmatmulBench's JSON output (stdin): per kernel and batch
the median real time, the weight bytes read per call, the resulting GB/s and
its fraction of the measured read bandwidth, and the speed-up over OpenBLAS
(sgemv at batch 1, sgemm otherwise), the ratio to the runtime's kernel and,
for generated code, the largest deviation from that f32 kernel (max |dy| /
max |y| over all weights and batch items)."""
import json
import sys

NAMES = {
    "BM_Blas": "OpenBLAS (sgemv / sgemm), fp32 W",
    "BM_RuntimeKernel": "runtime kernel (qet_rtn_matvec_f32 / matmul)",
    "BM_GeneratedScf": "generated, qet-cpu-pipeline{backend=scf}",
    "BM_GeneratedScfI16": "generated, {backend=scf activations=i16}",
    "BM_GeneratedScfI8": "generated, {backend=scf activations=i8}",
    "BM_GeneratedRuntime": "generated, qet-cpu-pipeline{backend=runtime}",
}

data = json.load(sys.stdin)
rows, bandwidth = {}, None
for b in data["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    parts = b["run_name"].split("/")
    seconds = b["real_time"] * {"us": 1e-6, "ms": 1e-3, "ns": 1e-9}[b["time_unit"]]
    if parts[0] == "BM_ReadBandwidth":
        bandwidth = b["bytes_per_second"]
        continue
    rows[(parts[0], int(parts[1]))] = (seconds, b["bytes_per_second"] * seconds,
                                       b.get("deviation"))

print("Measured read bandwidth (1 thread, memchr over 1 GiB): %.1f GB/s.\n" % (bandwidth / 1e9))
print("| kernel | batch | weight bytes | time per call (us) | weight GB/s "
      "| of read bandwidth | vs OpenBLAS | runtime kernel / this "
      "| max deviation from the f32 kernel |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for batch in (1, 8, 32):
    for name in NAMES:
        if (name, batch) not in rows:
            continue
        seconds, stored, deviation = rows[(name, batch)]
        blas = rows.get(("BM_Blas", batch))
        kernel = rows.get(("BM_RuntimeKernel", batch))
        print("| %s | %d | %.2f MiB | %.0f | %.2f | %.0f%% | %s | %s | %s |" % (
            NAMES[name], batch, stored / 2**20, seconds * 1e6, stored / seconds / 1e9,
            100 * stored / seconds / bandwidth,
            "%.2fx" % (blas[0] / seconds) if blas else "",
            "%.2f" % (kernel[0] / seconds) if kernel else "",
            "%.1e" % deviation if deviation is not None else ""))
