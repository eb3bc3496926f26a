#!/usr/bin/env python3
"""Prints the per-model import times recorded by tools/export_torchvision_zoo.py.

Each figure is the median of 10 warm runs of bench/import_bench.cpp (archbert-bench-import) on
the exported file, one thread, measured right after export. Usage:
    python3 bench/zoo_import_table.py [data/zoo/tv/manifest.json]
"""
import json
import statistics
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "data/zoo/tv/manifest.json"
manifest = json.load(open(path))
rows = []
for name, e in sorted(manifest.items()):
    ms = e.get("import_ms", {})
    if not ms:
        continue
    rows.append((name, e.get("task", ""), e.get("file_mb", {}).get("torchscript"),
                 ms.get("torchscript"), ms.get("onnx"), ms.get("onnx_folded"),
                 e.get("torchscript_stats", {}).get("nodes")))


def fmt(v, f="{:.2f}"):
    return "" if v is None else f.format(v)


print("| model | task | file MB | nodes | TorchScript ms | ONNX ms | ONNX (BN folded) ms |")
print("|---|---|---:|---:|---:|---:|---:|")
for name, task, mb, ts, ox, fo, nodes in rows:
    print(f"| {name} | {task} | {fmt(mb, '{:.1f}')} | {fmt(nodes, '{}')} | {fmt(ts)} | {fmt(ox)} | {fmt(fo)} |")
for col, label in ((3, "TorchScript"), (4, "ONNX"), (5, "ONNX (BN folded)")):
    vals = [r[col] for r in rows if r[col] is not None]
    if vals:
        print(f"\n{label}: {len(vals)} models, median {statistics.median(vals):.2f} ms, "
              f"max {max(vals):.2f} ms", end="")
print()
