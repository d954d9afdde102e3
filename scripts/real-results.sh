#!/usr/bin/env bash
# The QEM comparison on the real model (all-MiniLM-L6-v2; qem.md §10(b), §11)
# and the end-to-end accuracy with quantized weights; writes docs/results.md
# and its plots (docs/results-error-vs-bpe.png, docs/results-cosine-vs-bpe.png).
#
# Needs the export of scripts/fetch-real-data.sh and two binaries of one build:
#   ninja -C BUILD_DIR qet-quantize QuantizeModel
#
# What runs (every number in the document comes from these runs):
#  1. VPTQ configuration: at each budget, on the layer-0 query, FFN up and
#     FFN down weights (with their Hessians) v in {3, 4, 6}, each plain and
#     with outlier columns (the 10% of input columns with the highest H_jj get
#     their own v_o = 2 codebook of k_o = 2^(2B+1) centroids, B + 0.5 bits per
#     element; a fixed rule, not searched); on the layer-0 K cache (H = the
#     query second moment) and V cache v in {4, 6, 8}, plain. Per category the
#     configuration with the lowest error (weights: geometric mean of the
#     three proxy errors; K: logit error; V: MSE) is used everywhere below.
#  2. Search check: qet-quantize's full default searches (M = auto over powers
#     of two, HERA depth 0..3, QET depth 0..3 x split) on the layer-0 query
#     weight at every budget and the layer-0 K and V caches at 3 bpe, against
#     the restricted searches of steps 3-5.
#  3. Weights, B = 2, 3, 4 bpe: bench/QuantizeModel quantizes all 36 linear
#     weights (fp16) with one scheme, reports per-tensor bpe/MSE/relF and the
#     proxy error with the real-activation Hessians, and writes the
#     reconstructions; data/embed_eval.py runs the numpy forward pass on the
#     held-out sentences and measures the cosine with the fp32 model.
#  4. End-to-end at higher budgets, to find where the mean cosine reaches
#     0.99: RTN (g = 128 and 32) at B = 5, 6, 8; VPTQ at B = 5 (with the
#     configuration chosen for B = 4); PQ and QET at B = 6, 8. HERA is left
#     out for time; OPQ/LOPQ stay infeasible below 16 bpe on 384 x 384.
#  5. K and V caches (fp16, 1024 x 384, layers 0-5), B = 2, 3, 4:
#     `qet-quantize --json`; K with --queries (per-head logit error) and
#     --hessian (the queries: VPTQ's H = E[q q^T]); QJL on K, KIVI-style
#     per-token RTN (group 32) on V and K.
# Restricted searches (runtime): every codebook scheme runs at M = d/3
# (subvectors of 3: M = 128 for 384 columns, 512 for 1536), the M that M = auto
# picks for PQ on these matrices (step 2 shows it); HERA searches its depth
# 0..3; QET runs two stages at depth 0,0 (no swap tree) with its budget split
# searched and 10-bit codebooks; OPQ / LOPQ default rounds and clusters (their
# fp16 rotations alone exceed 4 bpe, so they are infeasible and cost nothing);
# RTN g = 128 (b = the largest that fits) and g = 32; QJL the largest sketch
# that fits; 20 Lloyd iterations; seed 123; 2 threads.
#
# Took 15 minutes on 2 cores shared with other builds (load average 2-3;
# docs/results.md records each run). Raw JSON goes to
# $QET_DATA_DIR/minilm-results (never committed).
# Usage: scripts/real-results.sh [BUILD_DIR]      (default: build)
# Environment: QET_DATA_DIR; QET_REAL_QUICK=1 (budget 3 only, layer 0 of the
# caches, no search check or higher budgets: for testing the script; the
# document says so); QET_REAL_FORMAT_ONLY=1 (re-format the raw results);
# QET_RESULTS_OUT (the document, default docs/results.md; plots go next to it).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
cache=${QET_DATA_DIR:-$HOME/.cache/qet-data}
data="$cache/minilm"
raw="$cache/minilm-results"
out=${QET_RESULTS_OUT:-$root/docs/results.md}
python=${PYTHON:-/usr/bin/python3}
quick=${QET_REAL_QUICK:-0}
format_only=${QET_REAL_FORMAT_ONLY:-0}
export_version=3   # data/prepare_minilm.py's output format (scripts/fetch-real-data.sh)
threads=2
quantize="$build/bin/qet-quantize"
model_tool="$build/bin/QuantizeModel"

die() { echo "error: $*" >&2; exit 1; }
for tool in "$quantize" "$model_tool"; do
  [[ -x "$tool" ]] || die "$tool not found; build it: ninja -C $build qet-quantize QuantizeModel"
done
[[ -f "$data/.complete-v$export_version" ]] ||
  die "no (current) real-model export in $data; run scripts/fetch-real-data.sh first"

budgets=(2 3 4)
layers=(0 1 2 3 4 5)
# VPTQ candidates of step 1: "V" is plain v = V, "Vo" adds the outlier columns.
weight_vconfigs=(3 4 6 3o 4o 6o)
cache_vconfigs=(4 6 8)
weight_schemes=(rtn rtn-g32 pq opq lopq hera qet vptq)
# Higher budgets (step 4), scheme:budget.
extended=(rtn:5 rtn-g32:5 vptq:5 rtn:6 rtn-g32:6 pq:6 qet:6 rtn:8 rtn-g32:8 pq:8 qet:8)
if [[ "$quick" == 1 ]]; then budgets=(3); layers=(0); extended=(); fi

# q FILE ARGS...: one qet-quantize run into $raw/FILE; exit status 1 (a
# scheme could not meet the budget) is recorded in the JSON, not an error.
q() {
  local file=$1 status=0
  shift
  "$quantize" "$@" --threads "$threads" --json > "$raw/$file" 2>> "$raw/stderr.log" || status=$?
  (( status <= 1 )) || die "qet-quantize $* failed with status $status (see $raw/stderr.log)"
}

# vptq_args CONFIG B: sets the array vargs to the VPTQ options of a step-1
# candidate at budget B.
vptq_args() {
  local config=$1 b=$2
  vargs=(--vector-length "${config%o}")
  if [[ "$config" == *o ]]; then
    vargs+=(--outlier-percent 10 --outlier-vector-length 2 --outlier-centroids $(( 1 << (2 * b + 1) )))
  fi
}

# best_v KEY CONFIGS PREFIX...: the configuration (of the space-separated
# CONFIGS) whose runs $raw/PREFIX-v$CONFIG.json have the lowest geometric mean
# of KEY over the prefixes (one matrix each).
best_v() {
  "$python" - "$raw" "$@" <<'EOF'
import json, math, sys, os
raw, key, configs, prefixes = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]
best = None
for v in configs:
    logs = []
    for p in prefixes:
        row = json.load(open(os.path.join(raw, f"{p}-v{v}.json")))[0]
        if "error" in row:
            break
        logs.append(math.log(max(row[key], 1e-300)))
    else:
        score = sum(logs) / len(logs)
        if best is None or score < best[0]:
            best = (score, v)
if best is None:
    sys.exit(f"error: no VPTQ configuration met the budget for {prefixes}")
print(best[1])
EOF
}

# model SCHEME B: all linear weights with one scheme, then the cosine.
model() {
  local s=$1 b=$2 status=0
  local args=(--bpe "$b" --threads "$threads" --hessian-map "$data/hessian/map.txt")
  case $s in
    rtn) args+=(--scheme rtn) ;;
    rtn-g32) args+=(--scheme rtn --group 32) ;;
    pq|opq|lopq|hera) args+=(--scheme "$s" --subvector-length 3) ;;
    qet) args+=(--scheme qet --subvector-length 3 --depth 0,0) ;;
    vptq) vptq_args "${vw[$b]:-${vw[${budgets[-1]}]}}" "$b"; args+=(--scheme vptq "${vargs[@]}") ;;
  esac
  local recon="$raw/recon/$s-$b.safetensors"
  echo "   $s B=$b" >&2
  "$model_tool" "$data/weights-fp16.safetensors" "${args[@]}" -o "$recon" \
    --report "$raw/weights-$s-$b.json" > /dev/null 2>> "$raw/stderr.log" || status=$?
  (( status <= 1 )) || die "QuantizeModel ${args[*]} failed with status $status (see $raw/stderr.log)"
  if (( status == 0 )); then
    "$python" "$root/data/embed_eval.py" "$data" "$recon" "$raw/cosine-$s-$b.json" \
      --label "$s B=$b" 2>> "$raw/stderr.log"
    rm -f "$recon"
  fi
}

step_start=0
step() {
  local now
  now=$(date +%s)
  (( step_start == 0 )) || echo "step_seconds $step_name $(( now - step_start ))" >> "$raw/steps.meta"
  step_start=$now
  step_name=$1
  [[ "$1" == end ]] || echo "$1" >&2
}

measure() {
  rm -rf "$raw"
  mkdir -p "$raw/recon"
  local start load_before
  start=$(date +%s)
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  local w="$data/weights-fp16.safetensors" h="$data/hessian"
  local -A wmat=([Q]="encoder.layer.0.attention.self.query.weight:layer0.qkv_in"
                 [up]="encoder.layer.0.intermediate.dense.weight:layer0.up_in"
                 [down]="encoder.layer.0.output.dense.weight:layer0.down_in")
  declare -gA vw vk vv

  step "1. VPTQ configuration"
  for b in "${budgets[@]}"; do
    for v in "${weight_vconfigs[@]}"; do
      vptq_args "$v" "$b"
      for m in Q up down; do
        q "vsel-w$m-$b-v$v.json" "$w" --tensor "${wmat[$m]%%:*}" --hessian "$h/${wmat[$m]##*:}.npy" \
          --scheme vptq "${vargs[@]}" --bpe "$b"
      done
    done
    for v in "${cache_vconfigs[@]}"; do
      q "vsel-k-$b-v$v.json" "$data/kv/layer0.k.npy" --hessian "$data/kv/layer0.queries.npy" \
        --scheme vptq --vector-length "$v" --bpe "$b"
      q "vsel-v-$b-v$v.json" "$data/kv/layer0.v.npy" --scheme vptq --vector-length "$v" --bpe "$b"
    done
    vw[$b]=$(best_v proxy_rel "${weight_vconfigs[*]}" "vsel-wQ-$b" "vsel-wup-$b" "vsel-wdown-$b")
    vk[$b]=$(best_v proxy_rel "${cache_vconfigs[*]}" "vsel-k-$b")
    vv[$b]=$(best_v mse "${cache_vconfigs[*]}" "vsel-v-$b")
    echo "   B=$b: weights ${vw[$b]}, K v=${vk[$b]}, V v=${vv[$b]}" >&2
  done

  if [[ "$quick" != 1 ]]; then
    step "2. search check (full default searches)"
    for b in "${budgets[@]}"; do
      q "search-wQ-$b.json" "$w" --tensor "${wmat[Q]%%:*}" --hessian "$h/layer0.qkv_in.npy" \
        --scheme pq --compare hera,qet --bpe "$b"
    done
    q "search-K-3.json" "$data/kv/layer0.k.npy" --queries "$data/kv/layer0.queries.npy" \
      --scheme pq --compare hera,qet --bpe 3
    q "search-V-3.json" "$data/kv/layer0.v.npy" --scheme pq --compare hera,qet --bpe 3
  fi

  step "3. weights: all 36 linear weights per scheme, then the end-to-end cosine"
  for b in "${budgets[@]}"; do
    for s in "${weight_schemes[@]}"; do
      model "$s" "$b"
    done
  done

  if (( ${#extended[@]} )); then
    step "4. end-to-end at higher budgets"
    for entry in "${extended[@]}"; do
      model "${entry%%:*}" "${entry##*:}"
    done
  fi

  step "5. K and V caches"
  for l in "${layers[@]}"; do
    for b in "${budgets[@]}"; do
      echo "   layer $l B=$b" >&2
      local kin=("$data/kv/layer$l.k.npy" --queries "$data/kv/layer$l.queries.npy"
                 --hessian "$data/kv/layer$l.queries.npy" --bpe "$b")
      local vin=("$data/kv/layer$l.v.npy" --bpe "$b")
      q "K-$l-$b-main.json" "${kin[@]}" --scheme rtn --compare pq,opq,lopq,hera,vptq,qjl \
        --subspaces 128 --vector-length "${vk[$b]}"
      q "K-$l-$b-qet.json" "${kin[@]}" --scheme qet --subspaces 128 --depth 0,0
      q "K-$l-$b-g32.json" "${kin[@]}" --scheme rtn --group 32
      q "V-$l-$b-main.json" "${vin[@]}" --scheme rtn --compare pq,opq,lopq,hera,vptq \
        --subspaces 128 --vector-length "${vv[$b]}"
      q "V-$l-$b-qet.json" "${vin[@]}" --scheme qet --subspaces 128 --depth 0,0
      q "V-$l-$b-g32.json" "${vin[@]}" --scheme rtn --group 32
    done
  done
  step end
  rmdir "$raw/recon" 2> /dev/null || true
  {
    echo "start $(date -u -d "@$start" '+%Y-%m-%d %H:%M UTC')"
    echo "seconds $(( $(date +%s) - start ))"
    echo "load_before $load_before"
    echo "load_after $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "cpus $(nproc)"
    echo "cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "quick $quick"
    cat "$raw/steps.meta"
  } > "$raw/run.meta"
  echo "measured in $(( $(date +%s) - start )) s" >&2
}

[[ "$format_only" == 1 ]] || measure
[[ -f "$raw/run.meta" ]] || die "no raw results in $raw; run without QET_REAL_FORMAT_ONLY first"
command="scripts/real-results.sh${1:+ $1}"
[[ "$quick" == 1 ]] && command="QET_REAL_QUICK=1 $command"
"$python" "$root/data/format_results.py" "$raw" "$data" "$out" "$command"
echo "wrote $out" >&2
