#!/usr/bin/python3
"""How much of a graph summary token says which op it counts, for a checkpoint.

  tools/summary_scale.py [CKPT] [--counts 1,2,5,20,50]

Reads the checkpoint file directly (layout in src/model/checkpoint.cpp), rebuilds the op-count
summary tokens of the model (src/model/archbert.cpp, summary_tokens) for every node op at each
count, and prints: the norms of the op rows, of the kind vector and of the value embedding; and
the mean cosine between op-count tokens of two different ops with the same count, after the
summary LayerNorm (gain and bias included); and, for the text side, the norms of the token and
position rows that a number's value embedding is added to. A cosine near 1 means the token says how many, not of
what. With the config key balanced_summary the parts are normalised as the model does.
Needs numpy (Debian's python3-numpy).
"""

import argparse
import json
import struct
import sys

try:
    import numpy as np
except ImportError:
    sys.exit("tools/summary_scale.py needs numpy (apt-get install python3-numpy)")

KIND_OP_COUNT = 0  # kOpCount, the first summary kind


def load(path):
    with open(path, "rb") as f:
        b = f.read()
    if len(b) < 20 or b[:8] != b"ABCKPT1\n":
        sys.exit(f"{path}: not an archbert checkpoint")
    size = struct.unpack("<Q", b[8:16])[0]
    payload = b[20:20 + size]
    if len(payload) != size:
        sys.exit(f"{path}: truncated ({len(payload)} of {size} payload bytes)")
    hsize = struct.unpack("<Q", payload[:8])[0]
    header = json.loads(payload[8:8 + hsize])
    data = payload[8 + hsize:]
    tensors = {}
    for e in header["tensors"]:
        n = int(np.prod(e["shape"])) if e["shape"] else 1
        tensors[e["name"]] = np.frombuffer(data, dtype="<f4", count=n,
                                           offset=e["offset"]).reshape(e["shape"])
    return header, tensors


def layer_norm(x, gain=None, bias=None, eps=1e-5):
    x = x - x.mean(-1, keepdims=True)
    x = x / np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    return x if gain is None else x * gain + bias


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("ckpt", nargs="?", default="models/small/archbert-small.ckpt")
    ap.add_argument("--counts", default="1,2,5,20,50")
    a = ap.parse_args()
    header, t = load(a.ckpt)
    config = header["config"]
    if isinstance(config, str):
        config = json.loads(config)
    if not config.get("use_summary", False):
        sys.exit(f"{a.ckpt}: the model has no summary tokens")
    balanced = config.get("balanced_summary", False)
    omega = t["value.omega"].astype(np.float64)
    w, b = t["value.proj.weight"], t["value.proj.bias"]

    def value(v):  # ValueEmbedding::forward
        angle = np.log10(1.0 + v) * omega
        return w @ np.r_[np.sin(angle), np.cos(angle)].astype(np.float32) + b

    ops = t["node_emb.op.weight"][:-2]  # every canonical op; [PAD] and [MASK] dropped
    kind = t["summary_kind.weight"][KIND_OP_COUNT]
    gain, bias = t["summary_norm.weight"], t["summary_norm.bias"]
    rows = np.linalg.norm(ops, axis=1)
    print(f"{a.ckpt}: balanced_summary {str(balanced).lower()}, {len(ops)} ops, d {ops.shape[1]}")
    print(f"op rows: norm min {rows.min():.2f} mean {rows.mean():.2f} max {rows.max():.2f}; "
          f"op-count kind vector {np.linalg.norm(kind):.2f}")
    tok_rows = np.linalg.norm(t["tok.weight"], axis=1)
    pos_rows = np.linalg.norm(t["pos.weight"], axis=1)
    print(f"text (number pieces get the same value embedding; balanced_numbers "
          f"{str(config.get('balanced_numbers', False)).lower()}): token rows norm median "
          f"{np.median(tok_rows):.2f} max {tok_rows.max():.2f}; position rows min "
          f"{pos_rows.min():.2f} max {pos_rows.max():.2f}")
    print("| count | value embedding norm | mean cosine, same count, different ops |")
    print("|---:|---:|---:|")
    n = len(ops)
    for c in [float(x) for x in a.counts.split(",") if x]:
        v = value(c)
        ident = kind[None, :] + ops
        if balanced:
            x = layer_norm(ident) + layer_norm(v)[None, :]
        else:
            x = ident + v[None, :]
        tok = layer_norm(x, gain, bias)
        tok /= np.linalg.norm(tok, axis=1, keepdims=True)
        cos = tok @ tok.T
        mean_off = (cos.sum() - np.trace(cos)) / (n * (n - 1))
        print(f"| {c:g} | {np.linalg.norm(v):.2f} | {mean_off:.3f} |")


if __name__ == "__main__":
    main()
