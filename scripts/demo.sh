#!/usr/bin/env bash
# The main job: installs dependencies and builds (first run only), then
#  1. quantizes KV-cache-like and weight-like matrices with every scheme at the
#     same bits per element and prints exact bpe, errors and time;
#  2. runs a small MLP compiled ahead of time by qet-opt, with its weights
#     quantized by compiler-generated code, and prints errors and speed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QET_BUILD_DIR:-$root/build}

mkdir -p "$build"
"$root/scripts/build.sh" > "$build/demo-build.log" 2>&1 || { cat "$build/demo-build.log"; exit 1; }
quantize="$build/bin/qet-quantize"

section() { printf '\n=== %s ===\n' "$1"; }

section "1. Quantizers at equal memory (every stored bit counted)"
echo "K-cache-like: 4096 tokens x 128 channels, Gaussian with outlier channels, 4.25 bpe;"
echo "codebook schemes at the same M = 32 (qet-quantize searches M when --subspaces is unset)"
"$quantize" --synthetic outlier-columns --shape 4096x128 --data-seed 1 \
  --scheme rtn --compare rtn-sym,pq,opq,lopq,hera,qet --subspaces 32 --bpe 4.25
echo
echo "Weight-like: FFN weight 1536x384 [out, in], Student-t (nu=4), 4.25 bpe, M = 64."
echo "(fp32 input: an OPQ rotation alone costs 384^2*32 bits = 8 bpe, so OPQ and"
echo " LOPQ cannot meet this budget; qet-quantize reports that and exits with 1)"
status=0
"$quantize" --synthetic student-t --shape 1536x384 --data-seed 1 \
  --scheme rtn --compare rtn-sym,pq,hera,qet,vptq,opq,lopq --subspaces 64 --bpe 4.25 \
  || status=$?
[ "$status" -le 1 ] || exit "$status"

section "2. Compile and run a model (qet-opt -> mlir-translate -> llc -> C++)"
"$build/bin/qet-mlp-demo"
