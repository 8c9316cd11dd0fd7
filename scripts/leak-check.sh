#!/usr/bin/env bash
# Leak check (part of scripts/test.sh): runs the m7cc command of the normal
# build (build/, made by scripts/test.sh or `meson setup build`) under
# valgrind on a VGG-style model: compiling (--dump-ir: frontend, passes,
# backend; -o: code generation and libclang validation), interpreting
# (--interpret), and two error paths.  Any leak (definite, indirect or
# possible) or memory error fails.
set -uo pipefail
cd "$(dirname "$0")/.."
m7cc=build/driver/m7cc
ninja -C build driver/m7cc >/dev/null || exit 1
models=tests/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 20000 $models/vgg_cifar/model.onnx >"$tmp/truncated.onnx"

# name | exit status m7cc must give | arguments
cases=(
  "dump-ir|0|$models/vgg_cifar/model.onnx --dump-ir"
  "compile-to-c|0|$models/vgg_cifar/model.onnx -o $tmp/vgg.c"
  "interpret|0|$models/vgg_cifar/model.onnx --interpret -i $models/vgg_cifar/input_0.pb -o $tmp/out.pb"
  "dump-ir-bn-dropout|0|$models/vgg_cifar_preserve/model.onnx --dump-ir"
  "truncated-model|1|$tmp/truncated.onnx --dump-ir"
  "wrong-input|1|$models/vgg_cifar/model.onnx --interpret -i $models/lenet5/input_0.pb -o $tmp/bad.pb"
)
rc=0
for c in "${cases[@]}"; do
  IFS='|' read -r name want args <<<"$c"
  # Exit 99 is valgrind's (an error or leak); anything else is m7cc's.
  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
    $m7cc $args >/dev/null 2>"$tmp/$name.log"
  got=$?
  if [ "$got" -eq 99 ]; then
    echo "leak-check: $name: valgrind found errors or leaks:"
    cat "$tmp/$name.log"
    rc=1
  elif [ "$got" -ne "$want" ]; then
    echo "leak-check: $name: m7cc exited $got, expected $want:"
    cat "$tmp/$name.log"
    rc=1
  else
    echo "leak-check: $name: clean"
  fi
done
exit $rc
