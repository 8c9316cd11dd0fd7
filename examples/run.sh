#!/usr/bin/env bash
# The main job on the bundled example: compile a VGG-style CIFAR CNN
# (tests/models/vgg_cifar, exported by PyTorch) with m7cc, run the program on
# the M7004 simulator, check its output against PyTorch's and show the
# per-layer cycles and efficiency; then compile one training step of a small
# CNN, run it on the simulator and check it against PyTorch.
# Usage: examples/run.sh [MODEL_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-$root/tests/models/vgg_cifar}
out=$root/examples/out
[ -f "$root/build/build.ninja" ] || meson setup "$root/build" >/dev/null
ninja -C "$root/build" >/dev/null
mkdir -p "$out"
name=$(basename "$model")

echo "== m7cc $model/model.onnx -o $out/$name"
"$root/build/driver/m7cc" "$model/model.onnx" -o "$out/$name"
echo "== $out/$name -i input_0.pb -o $out/$name.out.pb --expect output_0.pb"
"$out/$name" -i "$model/input_0.pb" -o "$out/$name.out.pb" --expect "$model/output_0.pb"
echo "== the same with the reference executor on the host (m7cc --interpret)"
"$root/build/driver/m7cc" "$model/model.onnx" --interpret -i "$model/input_0.pb" -o "$out/$name.ref.pb"
echo "wrote $out/$name.ref.pb; the IR and every tiling decision: build/driver/m7cc $model/model.onnx --dump-ir"

# Training: one SGD step of a small residual CNN (tests/train/models/res_cnn_ce),
# compiled for the M7004 and checked against PyTorch's loss, gradients and
# updated weights (every output of the step).
train=$root/tests/train/models/res_cnn_ce
echo "== m7cc $train/model.onnx --train --lr 0.1 -o $out/train_step"
"$root/build/driver/m7cc" "$train/model.onnx" --train --lr 0.1 -o "$out/train_step"
expect=()
while read -r t; do expect+=(--expect "$train/$t.pb"); done < <(
  "$root/build/driver/m7cc" "$train/model.onnx" --train --dump-ir | sed -n 's/^output \([^ ]*\) .*/\1/p')
echo "== $out/train_step -i input.pb -i target.pb ${#expect[@]} --expect files (loss, updated weights, gradients)"
"$out/train_step" -i "$train/input.pb" -i "$train/target.pb" "${expect[@]}"
