#!/usr/bin/env bash
# Installs every Debian package archbert needs to build, test and run.
# Idempotent; works as root or through sudo. Usage: scripts/install-deps.sh [--no-test-deps]
set -euo pipefail

want_test_deps=1
[[ "${1:-}" == "--no-test-deps" ]] && want_test_deps=0

if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-openmp
  libonnx-dev libprotobuf-dev protobuf-compiler
  nlohmann-json3-dev libcli11-dev
  libgraphviz-dev
  wordnet-base
  libgtest-dev libgmock-dev libbenchmark-dev
)
if [[ $want_test_deps -eq 1 ]]; then
  # Tests export real torchvision models with Debian's PyTorch (for /usr/bin/python3).
  packages+=(python3-torch python3-torchvision)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
