#!/usr/bin/env bash
# Installs what m7cc needs to build and test on Debian 12 (run as root).
# --reference also installs PyTorch/ONNX, needed only to regenerate goldens
# and to export VGG16 for the benchmark.
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc libprotobuf-c-dev protobuf-c-compiler libclang-dev
      libcunit1-dev libonnx-testdata valgrind libclang-rt-14-dev clang-14)
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ "${1:-}" = "--reference" ]; then
  for p in python3-torch python3-torchvision python3-onnx; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
fi
if [ ${#need[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
