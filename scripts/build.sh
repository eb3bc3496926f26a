#!/usr/bin/env bash
# Configures and builds archbert into ./build (Ninja, ccache when present, -j2 by default).
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${ARCHBERT_BUILD_JOBS:-2}"
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
elif [[ $# -gt 0 ]]; then
  cmake -S . -B build "$@"
fi
cmake --build build -j"$jobs"
