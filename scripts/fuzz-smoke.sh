#!/usr/bin/env bash
# Fuzz smoke run (part of scripts/test.sh): builds the libFuzzer targets of
# tests/fuzz/ with clang-14 in build-fuzz/ (ASan+UBSan, coverage in every
# library) and runs each for a fixed number of inputs, starting from its seed
# corpus and regressions.  Any crash, sanitizer report, leak or broken
# promise fails the script; the input is left in build-fuzz/fuzz-smoke/<target>/.
#
#   scripts/fuzz-smoke.sh                 the CI run (one to three minutes)
#   FUZZ_SCALE=10 scripts/fuzz-smoke.sh   ten times as many inputs
#
# For long runs call the fuzzer itself, e.g. (one job per core):
#   build-fuzz/tests/fuzz/fuzz_frontend -fork=1 -ignore_crashes=1 -max_total_time=1200 \
#     WORKDIR tests/fuzz/corpus/frontend
# then keep each crash as tests/fuzz/regressions/<target>/<what-it-was> with its fix.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${FUZZ_SCALE:-1}
# target:runs (a fixed count, so the run is repeatable with -seed=1)
targets=(frontend:$((6000 * scale)) graph:$((20000 * scale)) tensor_file:$((300000 * scale)))
# and a cap per target, so CI stays within about 3 minutes on a slow machine
max_time=$((60 * scale))

if [ ! -d build-fuzz ]; then
  CC=clang-14 meson setup build-fuzz -Db_sanitize=address,undefined -Db_lundef=false \
    "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined" >/dev/null
fi
out=$(ninja -C build-fuzz $(for t in "${targets[@]}"; do echo "tests/fuzz/fuzz_${t%%:*}"; done) 2>&1) ||
  { echo "$out"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
rc=0
for t in "${targets[@]}"; do
  name=${t%%:*} runs=${t##*:}
  work=build-fuzz/fuzz-smoke/$name
  rm -rf "$work" && mkdir -p "$work/corpus"
  start=$SECONDS
  # New inputs go to $work/corpus; the repository's folders are only read.
  # -timeout catches a hang; 20 s leaves room for a CI machine half as fast
  # as a developer's under ASan (the slowest smoke input takes under 2 s here).
  if build-fuzz/tests/fuzz/fuzz_"$name" -seed=1 -runs="$runs" -max_total_time="$max_time" -timeout=20 \
       -rss_limit_mb=2048 -artifact_prefix="$work/" -print_final_stats=1 \
       "$work/corpus" $(ls -d tests/fuzz/corpus/"$name" 2>/dev/null) tests/fuzz/regressions/"$name" >"$work/log.txt" 2>&1; then
    echo "fuzz-smoke: $name: $(grep -o 'Done [0-9]* runs' "$work/log.txt" || echo '? runs'), $((SECONDS - start)) s, no findings"
  else
    echo "fuzz-smoke: $name: FAILED after $((SECONDS - start)) s (log and input in $work/):"
    grep -E 'ERROR|runtime error|broken promise|SUMMARY|Test unit written' "$work/log.txt" | head -20
    rc=1
  fi
done
exit $rc
