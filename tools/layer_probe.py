#!/usr/bin/python3
"""Does a checkpoint answer layer statements about real zoo models correctly?

  tools/layer_probe.py [--archbert build/archbert] [--ckpt CKPT] [--json]
                       [--models tv:resnet18,hf:gpt2,...]

Asks `archbert reason MODEL STATEMENT --json` for every (model, statement) pair of a fixed list
and checks each answer against the model's graph: a statement names one canonical op (`ln`,
`gelu`, `bn`, ...; include/archbert/ops.def) and says it is present or absent; its truth is read
from `archbert graph MODEL --json`. The statements mix wordings of the Zoo's layer statements
("It uses layer normalization.") with wordings no dataset template writes ("This model contains
LayerNorm layers.", "It applies GELU nonlinearities."), so the table shows whether a checkpoint
looks the layer up in the graph or judges by the kind of network, and whether it does so for
unfamiliar phrasing. Prints each answer and the correct count per statement and in all.
"""

import argparse
import json
import subprocess
import sys

MODELS = ["tv:resnet18", "tv:vgg16", "tv:mobilenet_v3_small", "tv:efficientnet_b0",
          "tv:vit_b_16", "hf:bert-base-uncased", "hf:gpt2"]

# (statement, op, the statement says the op is present); "template" marks the wordings that the
# Zoo's layer statements use.
STATEMENTS = [
    ("It uses layer normalization.", "ln", True, True),
    ("This model contains LayerNorm layers.", "ln", True, False),
    ("It applies GELU nonlinearities.", "gelu", True, False),
    ("It uses dilated convolutions.", "dil_conv", True, True),
    ("Batch normalization is used.", "bn", True, False),
    ("It has max pooling layers.", "max_pool", True, False),
    ("It uses hard-swish activations.", "hardswish", True, True),
    ("It uses ReLU activations.", "relu", True, True),
    ("There is no batch normalization in it.", "bn", False, False),
]


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--archbert", default="build/archbert")
    ap.add_argument("--ckpt", default="", help="checkpoint (default: the shipped one)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    a = ap.parse_args()
    ckpt = ["--ckpt", a.ckpt] if a.ckpt else []
    rows, per_statement = [], {s[0]: [0, 0] for s in STATEMENTS}
    for model in a.models.split(","):
        ops = {n["op"] for n in run([a.archbert, "graph", model, "--json"])["nodes"]}
        for text, op, present, template in STATEMENTS:
            r = run([a.archbert, "reason", model, text, "--json"] + ckpt)
            truth = (op in ops) == present
            right = bool(r["correct"]) == truth
            per_statement[text][0] += right
            per_statement[text][1] += 1
            rows.append({"model": model, "statement": text, "template": template,
                         "true": truth, "score": r["score"], "says": bool(r["correct"]),
                         "right": right})
    right = sum(r["right"] for r in rows)
    if a.json:
        print(json.dumps({"right": right, "total": len(rows), "answers": rows}, indent=1))
        return
    for r in rows:
        print(f"{r['model']:24} {r['statement']:42} true={str(r['true']):5} "
              f"score {r['score']:.3f} says={str(r['says']):5} {'ok' if r['right'] else 'WRONG'}")
    print()
    for text, op, present, template in STATEMENTS:
        k, n = per_statement[text]
        print(f"{k}/{n}  {text}{'  (template wording)' if template else ''}")
    print(f"{right}/{len(rows)} right")


if __name__ == "__main__":
    main()
