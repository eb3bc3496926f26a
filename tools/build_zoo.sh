#!/usr/bin/env bash
# Rebuilds the torchvision zoo (data/zoo/tv): builds the archbert CLI if needed, then exports
# every torchvision model (TorchScript + ONNX + BN-folded ONNX) one at a time and converts each
# with `archbert graph`. See docs/zoo.md.
#
# Usage: tools/build_zoo.sh [exporter options...]
#   e.g. tools/build_zoo.sh --only resnet18,vit_b_16
#        tools/build_zoo.sh --task detection --force
#        tools/build_zoo.sh --retry-failed
# Environment: BUILD_DIR (default build), JOBS (default 2).
#
# Expected duration on a 2-core machine (exports use one thread): about 36 minutes for the
# exports of all 106 models (measured 2160 s, see docs/zoo.md) plus the archbert conversions.
# Peak memory about 6.5 GB (ONNX export of vit_l_16); peak scratch disk about 2.5 GB (one model
# file at a time; regnet_y_128gf and vit_h_14 are ~2.4 GB each). Model files are deleted as soon
# as they are converted. The run is resumable: rerunning skips models already recorded in
# data/zoo/tv/manifest.json.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$repo/build}"
jobs="${JOBS:-2}"
python=/usr/bin/python3  # Debian's python3-torch / python3-torchvision, never a pyenv python

if ! "$python" -c 'import torch, torchvision' 2>/dev/null; then
  echo "build_zoo.sh: $python cannot import torch and torchvision" \
    "(apt-get install python3-torch python3-torchvision)" >&2
  exit 1
fi

if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
# Always run the build: ninja is a no-op when the binary is up to date, and a stale binary
# would write stale graphs.
cmake --build "$build_dir" --target archbert_cli archbert_bench_import -j "$jobs"

exec "$python" "$repo/tools/export_torchvision_zoo.py" --archbert "$build_dir/archbert" --bench "$build_dir/bench/archbert-bench-import" "$@"
