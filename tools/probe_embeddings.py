#!/usr/bin/python3
"""Which layers can be read linearly from a checkpoint's graph embedding J_g?

  tools/probe_embeddings.py [--archbert build/archbert] [--ckpt CKPT] [--count 400] [--seed 7]
                            [--work /tmp/archbert-probe] [--ops max_pool,avg_pool,...]

Generates `--count` AutoNet networks (validation split, `--seed`) as ONNX files, embeds each
with `archbert embed --json` and reads its op counts with `archbert graph --json --stats`, then
fits, for each op, a logistic regression from the L2-normalised J_g to "the graph has this op"
(5-fold cross-validation, L2 penalty 1e-3) and prints its held-out accuracy beside the
majority-class rate. An op whose probe is no better than the majority class is one that J_g does
not keep. Needs numpy (Debian's python3-numpy, a dependency of python3-torch).
"""

import argparse
import json
import os
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    sys.exit("tools/probe_embeddings.py needs numpy (apt-get install python3-numpy)")

DEFAULT_OPS = "max_pool,avg_pool,dil_conv,sep_conv,flatten,glob_avg,hardswish,bn,ln,gelu"


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def probe(x, y, rng, folds=5, steps=3000, rate=2.0, l2=1e-3):
    idx = rng.permutation(len(y))
    parts = np.array_split(idx, folds)
    correct = 0
    for k in range(folds):
        test = parts[k]
        train = np.concatenate([parts[j] for j in range(folds) if j != k])
        a = np.c_[x[train], np.ones(len(train))]
        w = np.zeros(a.shape[1])
        for _ in range(steps):
            p = 1 / (1 + np.exp(-a @ w))
            w -= rate * (a.T @ (p - y[train]) / len(train) + l2 * w)
        b = np.c_[x[test], np.ones(len(test))]
        correct += int(np.sum(((b @ w) > 0) == (y[test] > 0.5)))
    return correct / len(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--archbert", default="build/archbert")
    ap.add_argument("--ckpt", default="", help="checkpoint (default: the shipped one)")
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", default="/tmp/archbert-probe")
    ap.add_argument("--ops", default=DEFAULT_OPS, help="comma-separated canonical op names")
    a = ap.parse_args()
    if a.count < 20:
        sys.exit("--count must be at least 20 (5 folds)")
    data = os.path.join(a.work, f"autonet-{a.count}-{a.seed}")
    onnx_dir = os.path.join(data, "onnx")
    if not os.path.isdir(onnx_dir):
        run([a.archbert, "data", "autonet", "--split", "val", "--count", str(a.count), "--seed",
             str(a.seed), "--out", data, "--onnx"])
    ckpt = ["--ckpt", a.ckpt] if a.ckpt else []
    xs, ops = [], []
    for name in sorted(os.listdir(onnx_dir)):
        if not name.endswith(".onnx"):
            continue
        path = os.path.join(onnx_dir, name)
        xs.append(json.loads(run([a.archbert, "embed", path, "--json"] + ckpt))["embedding"])
        ops.append(json.loads(run([a.archbert, "graph", path, "--json", "--stats"])).get("ops", {}))
    x = np.array(xs, dtype=np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    print(f"{len(xs)} AutoNet networks (seed {a.seed}), J_g of {a.ckpt or 'the shipped checkpoint'}")
    print("| op | graphs with it | majority class | probe accuracy (5-fold) |")
    print("|---|---:|---:|---:|")
    for op in [o for o in a.ops.split(",") if o]:
        y = np.array([1.0 if s.get(op, 0) > 0 else 0.0 for s in ops])
        share = y.mean()
        print(f"| {op} | {share:.3f} | {max(share, 1 - share):.3f} | {probe(x, y, rng):.3f} |")


if __name__ == "__main__":
    main()
