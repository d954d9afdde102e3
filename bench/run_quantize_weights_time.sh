#!/usr/bin/env bash
# Compile time of qet-quantize-weights on a module with 8 weights of
# 1024 x 1024 (f32, dense_resource): RTN at 4 bpe, and QET at 4 bpe.
# Prints qet-opt's own pass timing (--mlir-timing) for each scheme. The
# module is converted to MLIR bytecode first so parsing text is not timed.
# Usage: bench/run_quantize_weights_time.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
opt="$build/bin/qet-opt"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 "$root/bench/make_weights_module.py" "$work/weights.mlir" 8 1024
"$opt" "$work/weights.mlir" --emit-bytecode -o "$work/weights.mlirbc"
echo "machine: $(nproc) cores"
for options in "scheme=rtn bpe=4" "scheme=qet bpe=4 subspaces=256"; do
  echo "== qet-quantize-weights{$options}"
  start=$(date +%s.%N)
  "$opt" "$work/weights.mlirbc" --qet-quantize-weights="$options" \
    --mlir-timing --emit-bytecode -o /dev/null 2> "$work/log"
  end=$(date +%s.%N)
  grep -E "qet-quantize-weights: 1024x1024" "$work/log" | head -1 | sed 's/.*remark: //' | cut -c1-200
  grep -E "QetQuantizeWeights|qet-quantize-weights|Total Execution Time" "$work/log" | grep -v remark
  printf 'wall (qet-opt process, incl. bytecode I/O): %.2f s\n' "$(echo "$end - $start" | bc)"
done
