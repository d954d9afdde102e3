#!/bin/sh
# Runs QmatmulBench (RTN: batch 1/8/32, f32 and integer inputs) and
# SchemeQmatmulBench (PQ, QET, VPTQ at batch 1), median of N repetitions, and
# prints the tables of docs/cpu-codegen.md.
# Usage: bench/run_qmatmul.sh BUILD_DIR [N]
set -eu
build=${1:?usage: $0 BUILD_DIR [REPETITIONS]}
reps=${2:-5}
here=$(dirname "$0")
json=$(mktemp)
trap 'rm -f "$json"' EXIT
"$build/bin/QmatmulBench" --benchmark_repetitions="$reps" \
  --benchmark_min_time=0.5 --benchmark_out="$json" --benchmark_out_format=json >&2
/usr/bin/python3 "$here/format_qmatmul_table.py" < "$json"
echo
"$build/bin/SchemeQmatmulBench" --benchmark_repetitions="$reps" \
  --benchmark_min_time=0.5 --benchmark_out="$json" --benchmark_out_format=json >&2
/usr/bin/python3 "$here/format_scheme_table.py" < "$json"
