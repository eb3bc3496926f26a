#!/usr/bin/python3
"""Exports the real models the archbert test suite imports (ONNX and TorchScript).

Usage: /usr/bin/python3 tools/export_test_models.py OUTPUT_DIR

Uses Debian's python3-torch / python3-torchvision with random weights (weights=None), so it
needs no network. Idempotent: a file that already exists is not exported again, so a second
test run costs only the Python start-up. Files are written under a temporary name and renamed,
so an interrupted run never leaves a half-written model behind.

Writes:
  resnet18.onnx          ONNX, BatchNorm preserved (training=PRESERVE, no constant folding)
  resnet18_folded.onnx   ONNX, default eval export (BatchNorm folded into the convolutions)
  resnet18.pt            TorchScript (torch.jit.script)
  resnet34.pt            TorchScript (torch.jit.script)
  vit_b_16.onnx          ONNX opset 14, PRESERVE (LayerNorm and GELU are decomposed)
  vit_b_16.pt            TorchScript (torch.jit.script)
  fasterrcnn_mobilenet_v3_large_320_fpn.onnx / .pt   detection model (ONNX has Loop/If)
  ground_truth.json      {model: sum(p.numel() for p in model.parameters())}
"""
import json
import os
import sys
import time
import warnings


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_test_models.py OUTPUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    warnings.filterwarnings("ignore")

    import torch
    import torchvision
    from torchvision.models import detection

    torch.manual_seed(0)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    preserve = torch.onnx.TrainingMode.PRESERVE

    def path(name):
        return os.path.join(out, name)

    def write(name, fn):
        """Runs fn(tmp_path) unless `name` exists, then renames tmp_path to name."""
        final = path(name)
        if os.path.exists(final):
            return
        tmp = final + ".tmp"
        t0 = time.time()
        fn(tmp)
        os.replace(tmp, final)
        print("exported %-45s %6.1f s  %7.1f MB" % (name, time.time() - t0,
                                                    os.path.getsize(final) / 1e6), flush=True)

    def onnx_export(model, args, **kw):
        # Grad mode stays on: under no_grad nn.MultiheadAttention takes its fused fast path
        # (aten::_native_multi_head_attention), which has no ONNX export.
        return lambda tmp: torch.onnx.export(model, args, tmp, **kw)

    def script(model):
        return lambda tmp: torch.jit.script(model).save(tmp)

    builders = {
        "resnet18": lambda: torchvision.models.resnet18(weights=None),
        "resnet34": lambda: torchvision.models.resnet34(weights=None),
        "vit_b_16": lambda: torchvision.models.vit_b_16(weights=None),
        "fasterrcnn_mobilenet_v3_large_320_fpn":
            lambda: detection.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None,
                                                                    weights_backbone=None),
    }
    # What each model exports: (file name, exporter given the eval-mode model).
    image = torch.randn(1, 3, 224, 224)
    plan = {
        "resnet18": [
            ("resnet18.onnx", lambda m: onnx_export(m, (image,), training=preserve,
                                                    do_constant_folding=False)),
            ("resnet18_folded.onnx", lambda m: onnx_export(m, (image,))),
            ("resnet18.pt", script),
        ],
        "resnet34": [("resnet34.pt", script)],
        "vit_b_16": [
            ("vit_b_16.onnx", lambda m: onnx_export(m, (image,), opset_version=14,
                                                    training=preserve,
                                                    do_constant_folding=False)),
            ("vit_b_16.pt", script),
        ],
        "fasterrcnn_mobilenet_v3_large_320_fpn": [
            ("fasterrcnn_mobilenet_v3_large_320_fpn.onnx",
             lambda m: onnx_export(m, ([torch.rand(3, 320, 320)],), opset_version=14,
                                   training=preserve, do_constant_folding=False)),
            ("fasterrcnn_mobilenet_v3_large_320_fpn.pt", script),
        ],
    }

    truth_path = path("ground_truth.json")
    truth = {}
    if os.path.exists(truth_path):
        with open(truth_path) as f:
            truth = json.load(f)
    for name, build in builders.items():
        files = plan[name]
        if name in truth and all(os.path.exists(path(f)) for f, _ in files):
            continue
        model = build().eval()
        truth[name] = sum(p.numel() for p in model.parameters())
        for fname, exporter in files:
            write(fname, exporter(model))
    tmp = truth_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(truth, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, truth_path)


if __name__ == "__main__":
    main()
