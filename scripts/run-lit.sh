#!/usr/bin/env bash
# Runs lit over the given suites and ends with one summary line,
# "qet-tests: N passed, N failed, N skipped", counted from lit's JSON results.
# Usage: run-lit.sh LIT RESULTS.json SUITE_DIR...
set -u
lit=$1 results=$2
shift 2
rm -f "$results"
"$lit" -sv --output "$results" "$@"
status=$?
if [ -f "$results" ]; then
  python3 - "$results" <<'PY'
import json, sys
tests = json.load(open(sys.argv[1]))["tests"]
passed = sum(t["code"] in ("PASS", "XFAIL") for t in tests)
skipped = sum(t["code"] in ("UNSUPPORTED", "SKIPPED", "EXCLUDED") for t in tests)
failed = len(tests) - passed - skipped
print(f"qet-tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
else
  echo "qet-tests: 0 passed, 1 failed, 0 skipped"
  status=1
fi
exit $status
