#!/usr/bin/env bash
# Runs RTN, PQ, OPQ, LOPQ, HERA and QET at 2, 3 and 4 bpe on the synthetic
# evaluation matrices (qem.md §10(a), data seed 1, quantizer seed 123) with
# `qet-quantize --json` and writes docs/qet-results.md (qet.md §9, qem.md §11).
#
# Every codebook scheme runs at every power-of-two M (4 .. d/2), so both
# comparisons come from the same runs: at the same M (the paper's setting)
# and best-vs-best (each scheme at its own best M). HERA and QET also search
# their depth (and QET its budget split) at each M, exactly as
# `qet-quantize --scheme qet` does when those options are unset. For the K-
# and V-like matrices QET also runs with each first-stage depth 0..3 fixed
# (split still searched), for the depth investigation.
#
# Builds nothing: build qet-quantize first (ninja -C BUILD_DIR qet-quantize).
# Takes about 25 minutes on 2 cores. The raw JSON is kept in
# BUILD_DIR/qet-table-raw; QET_TABLE_FORMAT_ONLY=1 only re-formats it.
# QET_TABLE_QUICK=1 runs a small subset (for checking the script; the
# document then says so).
#
# Usage: bench/run_qet_table.sh [BUILD_DIR] [OUTPUT]
#        (defaults: build, docs/qet-results.md)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
output=${2:-$root/docs/qet-results.md}
tool="$build/bin/qet-quantize"
if [[ ! -x "$tool" ]]; then
  echo "error: $tool not found; build it with: ninja -C $build qet-quantize" >&2
  exit 1
fi
threads=2
quick=${QET_TABLE_QUICK:-0}

raw="$build/qet-table-raw"
format_only=${QET_TABLE_FORMAT_ONLY:-0}

# name:family:shape:category
matrices=(
  "W1:student-t:1536x384:weights"
  "W2:student-t:1024x1024:weights"
  "K:outlier-columns:4096x128:K"
  "V:laplace:4096x128:V"
)
budgets=(2 3 4)
if [[ "$quick" == 1 ]]; then
  matrices=("K:outlier-columns:4096x128:K")
  budgets=(4)
fi

# Powers of two from 4 to d/2 that divide d (qem.md §4's M=auto set).
subspaces() {
  local d=$1 m=4 list=()
  while (( m <= d / 2 )); do
    (( d % m == 0 )) && list+=("$m")
    m=$(( m * 2 ))
  done
  if [[ "$quick" == 1 ]]; then list=(16 32); fi
  echo "${list[@]}"
}

# run FILE ARGS...: one qet-quantize call; a scheme that cannot meet the
# budget is reported inside the JSON (exit status 1), which is expected.
run() {
  local file=$1
  shift
  local status=0
  "$tool" "$@" --threads "$threads" --json > "$raw/$file" 2>> "$raw/stderr.log" ||
    status=$?
  if (( status > 1 )); then
    echo "error: qet-quantize $* failed with status $status" >&2
    exit 1
  fi
}

# Runs every configuration into $raw and records the run in $raw/run.meta.
measure() {
  rm -rf "$raw"
  mkdir -p "$raw"
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  start=$(date +%s)
  for entry in "${matrices[@]}"; do
    IFS=: read -r name family shape category <<< "$entry"
    cols=${shape#*x}
    input=(--synthetic "$family" --shape "$shape" --data-seed 1 --seed 123)
    for bpe in "${budgets[@]}"; do
      echo "$name $shape B=$bpe" >&2
      run "$name,$bpe,0,rtn.json" "${input[@]}" --bpe "$bpe" --scheme rtn
      for m in $(subspaces "$cols"); do
        common=("${input[@]}" --bpe "$bpe" --subspaces "$m")
        run "$name,$bpe,$m,main.json" "${common[@]}" --scheme pq --compare opq,lopq,hera,qet
        run "$name,$bpe,$m,qet-ref.json" "${common[@]}" --scheme qet --depth 3,0 --split 0.7,0.3
        run "$name,$bpe,$m,hera-l3.json" "${common[@]}" --scheme hera --depth 3
        if [[ "$category" != weights ]]; then
          for l in 0 1 2 3; do
            run "$name,$bpe,$m,qet-l$l.json" "${common[@]}" --scheme qet --depth "$l,0"
          done
        fi
      done
    done
  done
  elapsed=$(( $(date +%s) - start ))
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  printf '%s\n' "$load_before" "$load_after" "$elapsed" "$(date -u '+%Y-%m-%d %H:%M UTC')" > "$raw/run.meta"
}

[[ "$format_only" == 1 ]] || measure
if [[ ! -f "$raw/run.meta" ]]; then
  echo "error: no raw results in $raw; run without QET_TABLE_FORMAT_ONLY first" >&2
  exit 1
fi

command="bench/run_qet_table.sh ${1:-build}"
[[ "$quick" == 1 ]] && command="QET_TABLE_QUICK=1 $command"
/usr/bin/python3 "$root/bench/format_qet_table.py" "$raw" "$output" \
  "$command" "$quick" "${matrices[@]}"
echo "wrote $output" >&2
