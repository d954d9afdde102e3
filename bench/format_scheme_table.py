#!/usr/bin/env python3
"""Markdown table of SchemeQmatmulBench's JSON output (stdin): per scheme and
kernel the median real time, bits per element, weight bytes read per call,
the resulting GB/s and its fraction of the measured read bandwidth, the
speed-up over OpenBLAS sgemv on the fp32 weight and the ratio to the
runtime's kernel."""
import json
import sys

NAMES = {
    "BM_RuntimeKernel": "runtime kernel (qet_tensor_matvec)",
    "BM_GeneratedScf": "generated, qet-cpu-pipeline{backend=scf}",
    "BM_GeneratedRuntime": "generated, qet-cpu-pipeline{backend=runtime}",
}

data = json.load(sys.stdin)
rows, bandwidth, sgemv = {}, None, None
for b in data["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    parts = b["run_name"].split("/")
    seconds = b["real_time"] * {"us": 1e-6, "ms": 1e-3, "ns": 1e-9}[b["time_unit"]]
    if parts[0] == "BM_ReadBandwidth":
        bandwidth = b["bytes_per_second"]
    elif parts[0] == "BM_Sgemv":
        sgemv = seconds
    else:
        rows[(b["label"], parts[0])] = (seconds, b["bytes_per_second"] * seconds, b["bpe"])

print("Measured read bandwidth (1 thread, memchr over 1 GiB): %.1f GB/s; "
      "OpenBLAS sgemv on the fp32 weight (64 MiB): %.0f us.\n" % (bandwidth / 1e9, sgemv * 1e6))
print("| scheme | kernel | bpe | weight bytes | time per call (us) | weight GB/s "
      "| of read bandwidth | vs sgemv | runtime kernel / this |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for scheme in ("pq", "qet", "vptq"):
    kernel = rows.get((scheme, "BM_RuntimeKernel"))
    for name in NAMES:
        if (scheme, name) not in rows:
            continue
        seconds, stored, bpe = rows[(scheme, name)]
        print("| %s | %s | %.3f | %.2f MiB | %.0f | %.2f | %.0f%% | %.2fx | %s |" % (
            scheme.upper(), NAMES[name], bpe, stored / 2**20, seconds * 1e6,
            stored / seconds / 1e9, 100 * stored / seconds / bandwidth, sgemv / seconds,
            "%.2f" % (kernel[0] / seconds) if kernel else ""))
