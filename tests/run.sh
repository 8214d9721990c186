#!/bin/sh
# tests/run.sh BUILD_DIR — runs every cmocka suite, then the CLI tests
# (cli.sh, update.sh, install.sh, hostile.sh), and closes with "N passed,
# N failed" (suites, counting each script as one).
B=${1:-build}
pass=0; fail=0; failed=""
for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $(basename "$t")"; fi
done
if sh tests/cli.sh "$B"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed cli.sh"; fi
if sh tests/update.sh "$B"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed update.sh"; fi
if sh tests/install.sh "$B"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed install.sh"; fi
if sh tests/hostile.sh "$B"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed hostile.sh"; fi
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
