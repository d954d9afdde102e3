#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds, then runs every lit
# (FileCheck) test and every GoogleTest case, ending with the line
# "qet-tests: N passed, N failed, N skipped".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QET_BUILD_DIR:-$root/build}

"$root/scripts/build.sh"
exec "$root/scripts/run-lit.sh" /usr/lib/llvm-22/bin/lit "$build/lit-results.json" \
  "$build/test" "$build/unittests"
