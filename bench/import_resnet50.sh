#!/usr/bin/env bash
# Import time of torchvision resnet50: ONNX with its ~100 MB of weights, ONNX weight-free
# (export_params=False) and TorchScript. Median of 10 warm runs each (bench/import_bench.cpp).
# Usage: bench/import_resnet50.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp" <<'PY'
import sys, torch, torchvision
out = sys.argv[1]
torch.set_num_threads(1)
m = torchvision.models.resnet50(weights=None).eval()
x = torch.randn(1, 3, 224, 224)
kw = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, opset_version=14)
torch.onnx.export(m, x, f"{out}/resnet50.onnx", **kw)
torch.onnx.export(m, x, f"{out}/resnet50_weight_free.onnx", export_params=False, **kw)
torch.jit.script(m).save(f"{out}/resnet50.pt")
PY
ls -l "$tmp" | awk 'NR>1 {printf "%-28s %8.1f MB\n", $9, $5/1048576}'
"$build/bench/archbert-bench-import" --runs 10 "$tmp/resnet50.onnx" "$tmp/resnet50_weight_free.onnx" "$tmp/resnet50.pt"
