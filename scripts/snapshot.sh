#!/usr/bin/env bash
# Records what the compiler decides and what its programs do, so that a
# change meant to keep behaviour (a refactor) can be checked by a diff:
#   scripts/snapshot.sh BUILD_DIR OUT_DIR [MODEL.onnx ...]
#   diff -r OUT_BEFORE OUT_AFTER
# For every reference model (tests/models), every training model with a
# compiled step (tests/train/models/cases.txt) and each MODEL.onnx named
# (e.g. bench/models/vgg16.onnx, input <stem>_input_0.pb beside it), OUT_DIR
# gets NAME.ir (--dump-ir) and NAME.json (the program's report on the
# simulator: cycles, instructions, DMA bytes per layer) and NAME.out.sha
# (the program's exit status and its outputs' checksums; a training step's
# outputs are checked against PyTorch's with --expect).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR OUT_DIR [MODEL.onnx ...]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd); out=$2; shift 2
m7cc=$build/driver/m7cc
mkdir -p "$out"; out=$(cd "$out" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# snap NAME MODEL "M7CC_FLAGS" "PROGRAM_ARGS"
snap() {
  local name=$1 model=$2 flags=$3 args=$4
  # shellcheck disable=SC2086
  "$m7cc" "$model" $flags --dump-ir > "$out/$name.ir" 2>&1 || echo "exit $?" >> "$out/$name.ir"
  # shellcheck disable=SC2086
  if "$m7cc" "$model" $flags -o "$tmp/$name" > /dev/null 2> "$tmp/$name.err"; then
    # shellcheck disable=SC2086
    local rc=0
    (cd "$tmp" && "./$name" $args --quiet --json "$out/$name.json" > /dev/null 2>&1) || rc=$?
    { echo "exit $rc"; cd "$tmp"; for f in ./*.out*.pb; do [ -f "$f" ] && sha256sum "$f" && rm -f "$f"; done; true; } \
      > "$out/$name.out.sha"
  else
    cp "$tmp/$name.err" "$out/$name.json"
  fi
  echo "$name"
}

for d in "$root"/tests/models/*/; do
  n=$(basename "$d")
  [ -f "$d/model.onnx" ] || continue
  snap "$n" "$d/model.onnx" "" "-i $d/input_0.pb -o $n.out0.pb"
done
while read -r n loss lr; do
  d=$root/tests/train/models/$n
  # the step's outputs (loss, gradients, updated weights) against PyTorch's
  expect=$("$m7cc" "$d/model.onnx" --train --dump-ir < /dev/null 2>/dev/null |
           sed -n "s|^output \([^ ]*\) .*|--expect $d/\1.pb|p" | tr '\n' ' ' || true)
  snap "train_$n" "$d/model.onnx" "--train --loss $loss --lr $lr" "-i $d/input.pb -i $d/target.pb $expect" < /dev/null
done < "$root/tests/train/models/cases.txt"
for m in "$@"; do
  n=$(basename "$m" .onnx); dir=$(cd "$(dirname "$m")" && pwd)
  snap "$n" "$dir/$n.onnx" "" "-i $dir/${n}_input_0.pb -o $n.out0.pb"
done
