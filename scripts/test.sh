#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs every test
# in a normal build and again under ASan+UBSan (leak checking on), checks
# for leaks under valgrind, runs the fuzzers briefly and runs the README's
# example (examples/run.sh; each of these counted as one test), then prints
# one closing line "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || exit 1
set -e
[ -d build ] || meson setup build >/dev/null
ninja -C build
[ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C build-asan
set +e
meson test -C build --print-errorlogs 2>&1 | tee build/test-summary.txt
rc1=${PIPESTATUS[0]}
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs --no-suite slow 2>&1 | tee build-asan/test-summary.txt
rc2=${PIPESTATUS[0]}
# Leaks under valgrind on a VGG-style model, then a fixed-length fuzz run.
scripts/leak-check.sh; rc3=$?
scripts/fuzz-smoke.sh; rc4=$?
# The README's first command must stay true.
examples/run.sh > build/example.txt 2>&1; rc5=$?
[ "$rc5" -eq 0 ] && echo "example: examples/run.sh ok" || { tail -20 build/example.txt; echo "example: examples/run.sh FAILED"; }
count() { awk -v k="$1" '$1 == k":" {s += $2} END {print s + 0}' build/test-summary.txt build-asan/test-summary.txt; }
ok=$(count Ok); fail=$(( $(count Fail) + $(count Timeout) ))
for r in $rc3 $rc4 $rc5; do [ "$r" -eq 0 ] && ok=$((ok + 1)) || fail=$((fail + 1)); done
echo "tests: $ok passed, $fail failed"
[ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && [ "$rc3" -eq 0 ] && [ "$rc4" -eq 0 ] && [ "$rc5" -eq 0 ]
