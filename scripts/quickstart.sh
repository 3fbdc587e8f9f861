#!/usr/bin/env bash
# quickstart.sh — from a fresh Debian machine to a trained ResNet: installs the packages,
# builds the `resnet` tool, and trains ResNet-20 on the CIFAR-10 sample bundled in data/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target resnet
./build/app/resnet train --model resnet20 --epochs "${EPOCHS:-15}" --out runs/quickstart "$@"
