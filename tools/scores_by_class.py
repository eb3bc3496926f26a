#!/usr/bin/env python3
"""AR results per (kind of stated fact, layer class) from an `archbert eval ar --scores` file.

  build/archbert eval ar --data AUTONET_DIR --claims --scores scores.jsonl
  tools/scores_by_class.py scores.jsonl [--kinds has,lacks,count,kernel] [--min 20]

Each line of the scores file is a dataset sample with the model's score and decision. A sample
is counted under every (kind, class) of its claims that decides its label: all claims of a true
sample, the false claims of a false one (with --claims every sample is one claim). Prints, per
group, the samples, the accuracy at the checkpoint's threshold and the mean score of the true
and of the false samples: a group whose two means are close is one the model does not read.
"""

import argparse
import json
import sys
from collections import defaultdict


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("scores", help="JSON Lines written by `archbert eval ar --scores`")
    ap.add_argument("--kinds", default="", help="comma-separated kinds to show (default: all)")
    ap.add_argument("--min", type=int, default=20, help="smallest group shown (samples)")
    a = ap.parse_args()
    kinds = set(k for k in a.kinds.split(",") if k)
    groups = defaultdict(lambda: {"n": 0, "correct": 0, "true": [], "false": []})
    try:
        with open(a.scores, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                s = json.loads(line)
                for c in s.get("claims", []):
                    if s["label"] and not c["holds"] or not s["label"] and c["holds"]:
                        continue
                    key = (c["kind"], c.get("class", ""))
                    if kinds and key[0] not in kinds:
                        continue
                    g = groups[key]
                    g["n"] += 1
                    g["correct"] += bool(s["correct"])
                    g["true" if s["label"] else "false"].append(s["score"])
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"{a.scores}: not an `archbert eval ar --scores` file ({e})")
    mean = lambda v: sum(v) / len(v) if v else float("nan")
    rows = [(k, g) for k, g in groups.items() if g["n"] >= a.min]
    if not rows:
        sys.exit(f"{a.scores}: no stated facts in groups of at least {a.min} samples")
    rows.sort(key=lambda kg: (kg[0][0], kg[1]["correct"] / kg[1]["n"]))
    print("| kind | class | samples | accuracy | mean score, true | mean score, false |")
    print("|---|---|---:|---:|---:|---:|")
    for (kind, cls), g in rows:
        print(f"| {kind} | {cls or '—'} | {g['n']} | {g['correct'] / g['n']:.3f} | "
              f"{mean(g['true']):.3f} | {mean(g['false']):.3f} |")


if __name__ == "__main__":
    main()
