#!/usr/bin/env bash
# Times the PQ fit of bench/PqFitBench.cpp (ours, 1 and 2 threads) beside
# bench/reference_pq.py (the reference's numpy/scipy fit, 1 thread) on this
# machine and writes docs/quantizer-speed.md. Builds nothing: build PqFitBench
# first (ninja -C BUILD_DIR PqFitBench).
#
# Usage: bench/run_pq_fit.sh [BUILD_DIR] [REPEATS]   (defaults: build, 7)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
repeats=${2:-7}
bench="$build/bin/PqFitBench"
if [[ ! -x "$bench" ]]; then
  echo "error: $bench not found; build it with: ninja -C $build PqFitBench" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# Alternate the two programs so a change in machine load hits both.
half=$(( (repeats + 1) / 2 ))
for part in 1 2; do
  count=$(( part == 1 ? half : repeats - half ))
  (( count > 0 )) || continue
  "$bench" --benchmark_repetitions="$count" \
    --benchmark_out="$tmp/ours$part.json" --benchmark_out_format=json \
    > /dev/null 2> "$tmp/ours$part.log"
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    /usr/bin/python3 "$root/bench/reference_pq.py" --repeats "$count" \
    --json "$tmp/ref$part.json" > /dev/null
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cache_value() { grep -m1 "^$1:" "$build/CMakeCache.txt" 2>/dev/null | cut -d= -f2-; }
compiler=$(cache_value CMAKE_CXX_COMPILER)
compiler_version=$("${compiler:-c++}" --version 2>/dev/null | head -1 || true)
build_type=$(cache_value CMAKE_BUILD_TYPE)

command="bench/run_pq_fit.sh ${1:-build} $repeats"
/usr/bin/python3 - "$tmp" "$root/docs/quantizer-speed.md" "$command" \
  "$load_before" "$load_after" "${compiler_version:-unknown compiler}" \
  "${build_type:-unknown}" <<'EOF'
import glob, json, os, platform, statistics, sys

(tmp, out_path, command, load_before, load_after, compiler,
 build_type) = sys.argv[1:8]

ours = {}  # threads -> [seconds]
hashes, mse = set(), {}
context = None
for path in sorted(glob.glob(os.path.join(tmp, "ours*.json"))):
    data = json.load(open(path))
    context = context or data["context"]
    for run in data["benchmarks"]:
        if run.get("run_type") != "iteration":
            continue
        threads = int(run["threads"])
        ours.setdefault(threads, []).append(run["real_time"] / 1e3)  # ms -> s
        hashes.add(int(run["input_fnv32"]))
        mse[threads] = run["relative_mse"]
ref_times, ref = [], None
for path in sorted(glob.glob(os.path.join(tmp, "ref*.json"))):
    ref = json.load(open(path))
    ref_times += ref["times_s"]
    hashes.add(int(ref["input_fnv32"]))
if len(hashes) != 1:
    sys.exit(f"error: the two programs fitted different matrices {hashes}")

ref_median = statistics.median(ref_times)
rows = [("numpy/scipy reference (`kmeans2`, `minit='points'`)", 1, ref_times,
         ref["relative_mse"])]
for threads in sorted(ours):
    rows.append(("qet `trainPq` (PqFitBench)", threads, ours[threads],
                 mse[threads]))

def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"

def blas():
    try:
        return os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    except OSError:
        return "unknown"

mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
lines = [
    "# Quantizer speed: PQ fit",
    "",
    "Time to fit product quantization on one matrix (qem.md §7; performance.md §3):",
    "k-means per subspace, codebooks rounded to the input dtype, every row encoded.",
    "Both programs fit the same 4096 x 128 fp32 matrix (0.02 * N(0, 1) from the",
    "project's `Rng`, data seed 1; `reference_pq.py` reproduces the generator and",
    f"both report the same FNV-1a hash, {hashes.pop():#010x}) with M = 8, Ks = 440 (the",
    "solver's Ks for B = 4 bpe at M = 8), 20 Lloyd iterations, \"points\" init, seed 123.",
    "",
    f"| implementation | threads | seconds (median of {len(ref_times)}) | speed-up vs reference | relative MSE |",
    "|---|---:|---:|---:|---:|",
]
for name, threads, times, rel in rows:
    median = statistics.median(times)
    lines.append(f"| {name} | {threads} | {median:.4f} | "
                 f"{ref_median / median:.1f}x | {rel:.4f} |")
lines += [
    "",
    "Speed-up = reference median / this median (higher is faster). Relative MSE =",
    "MSE / mean(X^2); the two differ slightly because the init draws come from",
    "different PRNGs (numpy's global `RandomState` vs the project's `Rng`).",
    "",
    "What is timed: ours, `trainPq` (Google Benchmark, real time, mean over the",
    "iterations of each repetition); the reference, `kmeans2` per subspace after",
    "`np.random.seed(123)` (the reference reseeds every subspace) plus `vq` encoding,",
    "with BLAS pinned to one thread. Data generation is not timed.",
    "",
    "How ours gets there: the assignment step (N x K x D multiply-adds, almost all",
    "the work) is a register-blocked ||c||^2 - 2 x.c kernel fused with the argmin",
    "(4 points x 16 centroids per step, AVX2+FMA chosen at run time, a portable",
    "kernel with identical results otherwise), so the N x K distance matrix is",
    "never stored; the update step sums in fp64 in row order; with at least as",
    "many subspaces as threads the subspaces run side by side. Results are",
    "bit-identical for any thread count.",
    "",
    "## Command",
    "",
    "```",
    f"ninja -C {command.split()[1]} PqFitBench",
    command,
    "```",
    "",
    "## Machine",
    "",
    f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores"
    f" (Google Benchmark: {context.get('num_cpus')} CPUs at {context.get('mhz_per_cpu')} MHz)",
    f"- Memory: {mem_gib:.0f} GiB; OS: {platform.platform()}",
    f"- Ours: {compiler}, CMAKE_BUILD_TYPE={build_type} (x86-64 baseline flags; the k-means"
    f" kernel picks AVX2+FMA at run time); Debian's Google Benchmark (it reports a"
    f" {context.get('library_build_type', '?')} build; its per-iteration overhead is"
    f" negligible at these times)",
    f"- Reference: Python {ref['python']}, numpy {ref['numpy']}, scipy {ref['scipy']},"
    f" BLAS {blas()} (1 thread)",
    f"- Load average (1/5/15 min) before: {load_before}; after: {load_after}",
    f"- Date: {context.get('date', '?')}",
    "",
]
with open(out_path, "w") as out:
    out.write("\n".join(lines))
print("\n".join(lines))
EOF
