#!/usr/bin/env bash
# install-deps.sh — installs every Debian package the build, tests and docs need.
# Idempotent and non-interactive; returns quickly when everything is already installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenblas-dev      # cblas sgemm/dgemm: the GEMM behind convolutions
  libgtest-dev         # GoogleTest
  libstb-dev           # stb_image / stb_image_resize: decoding image folders
  nlohmann-json3-dev   # JSON headers of safetensors files
  libcli11-dev         # the `resnet` command line
  doxygen graphviz     # the documentation site
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
