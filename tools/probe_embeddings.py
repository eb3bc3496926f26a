#!/usr/bin/python3
"""Which layers can be read linearly from a checkpoint's graph embedding J_g?

  tools/probe_embeddings.py [--archbert build/archbert] [--ckpt CKPT] [--count 400] [--seed 7]
                            [--work /tmp/archbert-probe] [--ops max_pool,avg_pool,...]

Generates `--count` AutoNet networks (validation split, `--seed`) as ONNX files, embeds each
with `archbert embed --json` and reads its op counts with `archbert graph --json --stats`, then
fits, for each op, two linear probes from the L2-normalised J_g to "the graph has this op" and
prints their held-out accuracy (5-fold cross-validation) beside the majority-class rate: a
logistic regression on the raw coordinates (gradient descent, L2 penalty 1e-3) and a ridge
classifier on standardised coordinates (closed form, lambda 10), which also finds directions of
small variance. An op that no probe reads better than the majority class is one that J_g does
not keep. Embeddings are cached in the work directory per checkpoint (path, size and mtime).
Needs numpy (Debian's python3-numpy, a dependency of python3-torch).
"""

import argparse
import json
import os
import subprocess
import sys
import zlib

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


def cross_validate(x, y, rng, fit, folds=5):
    """Held-out accuracy over `folds` folds of a rng permutation; fit(x, y) -> predict(x)."""
    parts = np.array_split(rng.permutation(len(y)), folds)
    correct = 0
    for k in range(folds):
        test = parts[k]
        train = np.concatenate([parts[j] for j in range(folds) if j != k])
        predict = fit(x[train], y[train])
        correct += int(np.sum(predict(x[test]) == (y[test] > 0.5)))
    return correct / len(y)


def fit_logistic(x, y, steps=3000, rate=2.0, l2=1e-3):
    a = np.c_[x, np.ones(len(x))]
    w = np.zeros(a.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-a @ w))
        w -= rate * (a.T @ (p - y) / len(x) + l2 * w)
    return lambda b: np.c_[b, np.ones(len(b))] @ w > 0


def fit_ridge(x, y, lam=10.0):
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    t = 2 * y - 1
    w = np.linalg.solve(z.T @ z + lam * np.eye(z.shape[1]), z.T @ (t - t.mean()))
    return lambda b: ((b - mu) / sd) @ w + t.mean() > 0


def probe(x, y, rng):
    return cross_validate(x, y, rng, fit_logistic)


def ridge_probe(x, y, rng):
    return cross_validate(x, y, rng, fit_ridge)


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
    # The cache key names the checkpoint file (the shipped one when --ckpt is not given).
    source = a.ckpt or os.environ.get("ARCHBERT_CHECKPOINT", "models/small/archbert-small.ckpt")
    st = os.stat(source) if os.path.exists(source) else None
    key = f"{os.path.abspath(source)}:{st.st_size}:{st.st_mtime_ns}" if st else ""
    cache = os.path.join(data, "embeddings-%08x.json" % (zlib.crc32(key.encode()) & 0xFFFFFFFF))
    if key and os.path.exists(cache):
        with open(cache) as f:
            cached = json.load(f)
        xs, ops = cached["embeddings"], cached["ops"]
    else:
        xs, ops = [], []
        for name in sorted(os.listdir(onnx_dir)):
            if not name.endswith(".onnx"):
                continue
            path = os.path.join(onnx_dir, name)
            xs.append(json.loads(run([a.archbert, "embed", path, "--json"] + ckpt))["embedding"])
            ops.append(
                json.loads(run([a.archbert, "graph", path, "--json", "--stats"])).get("ops", {}))
        with open(cache + ".tmp", "w") as f:
            json.dump({"key": key, "embeddings": xs, "ops": ops}, f)
        os.replace(cache + ".tmp", cache)
    x = np.array(xs, dtype=np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    print(f"{len(xs)} AutoNet networks (seed {a.seed}), J_g of {a.ckpt or 'the shipped checkpoint'}")
    print("| op | graphs with it | majority class | logistic probe | ridge probe |")
    print("|---|---:|---:|---:|---:|")
    for op in [o for o in a.ops.split(",") if o]:
        y = np.array([1.0 if s.get(op, 0) > 0 else 0.0 for s in ops])
        share = y.mean()
        logistic = probe(x, y, rng)
        ridge = ridge_probe(x, y, np.random.default_rng(0))
        print(f"| {op} | {share:.3f} | {max(share, 1 - share):.3f} | {logistic:.3f} | {ridge:.3f} |")


if __name__ == "__main__":
    main()
