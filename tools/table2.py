#!/usr/bin/env python3
"""Our Table 2 (AR and ACD rows, plus BACD and search) beside the paper's numbers.

Generates the validation datasets with the archbert CLI (deterministic seeds), runs
`archbert eval` for the checkpoint and every given ablation checkpoint, and writes a Markdown
table. Every number in the output comes from this one command:

  tools/table2.py [--archbert build/archbert] [--ckpt models/small/archbert-small.ckpt]
                  [--ablation NAME=CKPT ...] [--keep-ablations docs/table2.json]
                  [--unimodal CKPT] [--work /tmp/archbert-table2] [--out docs/table2.md]

Ablation checkpoints (scripts/train-ablations.sh) are NAME=CKPT with NAME `full` (the model
with every component) or one of no-shape, no-edges, no-mam, no-cross, no-summary. They get
their own table. Every ablation row must come from the same recipe and budget: the script reads
each checkpoint's stored command line and step count and refuses rows whose recipes differ in
anything but the removed component. --keep-ablations FILE takes the rows of ablations not given
now from an earlier run's JSON (written beside the Markdown), if they have the same recipe and
budget; the table marks them. --unimodal gives the graph-only checkpoint of the uni-modal ACD
baseline (`archbert train pretrain --graph-only`, scripts/train-unimodal.sh).
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

# Paper Table 2 (TVHF for AR/ACD), accuracy and F1 in %.
PAPER = {
    ("ar", "full"): (96.13, 71.86),
    ("ar", "no-shape"): (95.44, 69.16),
    ("ar", "no-edges"): (95.52, 68.98),
    ("ar", "no-mam"): (95.18, 64.27),
    ("ar", "no-cross"): (94.42, 57.03),
    ("ar", "baseline"): (89.03, 55.93),
    ("acd", "full"): (86.20, 60.10),
    ("acd", "no-shape"): (85.44, 60.20),
    ("acd", "no-edges"): (76.70, 47.96),
    ("acd", "no-mam"): (78.80, 49.59),
    ("acd", "no-cross"): (69.89, 42.35),
    ("acd", "baseline"): (80.22, 45.96),
    # The paper's uni-modal baseline is beside its ACD-fine-tuned model (96.78 / 85.98).
    ("acd", "unimodal"): (96.24, 84.01),
}
ABLATIONS = ["no-shape", "no-edges", "no-mam", "no-cross", "no-summary"]
ABLATION_TEXT = {
    "full": "ArchBERT (small), every component",
    "no-shape": "w/o shape embedding",
    "no-edges": "w/o edges (GAT self-loops only)",
    "no-mam": "w/o MAM loss",
    "no-cross": "w/o cross encoder for graphs",
    "no-summary": "w/o summary tokens and number values",
}


# kZooDatasetVersion (include/archbert/zoo_dataset.h): an older Zoo directory is made again.
ZOO_VERSION = 6


def zoo_version(d):
    """The Zoo generator version of directory d; 0 when it holds no readable Zoo dataset."""
    try:
        with open(os.path.join(d, "manifest.json")) as f:
            m = json.load(f)
        v = m.get("generator_version", 0) if m.get("generator") == "zoo" else 0
        return v if isinstance(v, int) else 0
    except (OSError, ValueError, AttributeError):
        return 0


def run(cmd):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return out


def evaluate(ab, task, data, ckpt, unimodal=None):
    cmd = [ab, "eval", task, "--data", data, "--ckpt", ckpt, "--json"]
    if unimodal:
        cmd += ["--unimodal-ckpt", unimodal]
    return json.loads(run(cmd))


# The training flags each ablation row removes its component with (scripts/train-ablations.sh).
ROW_FLAGS = {
    "full": [],
    "no-shape": ["--no-shape"],
    "no-edges": ["--no-edges"],
    "no-mam": ["--no-mam"],
    "no-cross": ["--no-cross"],
    "no-summary": ["--no-numbers", "--no-summary"],
}
REMOVAL_FLAGS = {f for flags in ROW_FLAGS.values() for f in flags}
# Command-line options that do not change what a run trains (threads, output, resuming,
# checkpoint cadence, progress), with their number of values.
RUN_OPTIONS = {"--threads": 1, "--out": 1, "--resume": 1, "--stop-after": 1, "--save-every": 1,
               "--quiet": 0}


def checkpoint_meta(ckpt):
    """The JSON header of a checkpoint (src/model/checkpoint.cpp): config and `extra` strings."""
    with open(ckpt, "rb") as f:
        head = f.read(1 << 20)
    start = head.find(b"{")
    if start < 0:
        sys.exit("%s: no checkpoint header found" % ckpt)
    try:
        meta, _ = json.JSONDecoder().raw_decode(head[start:].decode("utf-8", "replace"))
    except ValueError as e:
        sys.exit("%s: unreadable checkpoint header (%s)" % (ckpt, e))
    return meta


def training_of(ckpt):
    """What a checkpoint was trained with: its recipe with paths, --out and the removal flags
    taken out (so that ablation rows can be compared), the removed flags, and the step count."""
    extra = checkpoint_meta(ckpt).get("extra", {})
    recipe = extra.get("recipe", "")
    if not recipe:
        sys.exit("%s: the checkpoint stores no recipe (training command line)" % ckpt)
    # The command line as typed: "--flag=value" is read as "--flag value".
    words = [x for w in recipe.split() for x in (w.split("=", 1) if w.startswith("--") else [w])]
    kept, removed, i, pos = [], [], 0, 0  # pos: index among the words not skipped
    while i < len(words):
        w = words[i]
        if w in RUN_OPTIONS:
            i += 1 + RUN_OPTIONS[w]
            continue
        if w in REMOVAL_FLAGS:
            removed.append(w)
        elif w.startswith("--") or pos < 3:
            kept.append(w)
        else:  # a value: paths by their last component
            kept.append(os.path.basename(w.rstrip("/")))
        i += 1
        pos += 1
    state = json.loads(extra.get("train_state", "{}") or "{}")
    # The datasets' generators and versions (checkpoints from before this was stored: None).
    data = None
    if "data" in extra:
        try:
            data = [{k: d.get(k) for k in ("generator", "generator_version", "seed", "split")}
                    for d in json.loads(extra["data"])]
        except (ValueError, TypeError, AttributeError):
            sys.exit("%s: unreadable \"data\" entry in the checkpoint header" % ckpt)
    return {"recipe": " ".join(kept), "removed": sorted(removed), "steps": state.get("step", 0),
            "data": data,
            "sim_loss": ("cross-entropy (`--sim-loss bce`)" if "--sim-loss bce" in " ".join(words)
                         else "MSE (paper eq. 3)")}


def data_text(data):
    """The datasets of a checkpoint as "zoo v3, autonet v1 (train), ..."."""
    if not data:
        return "datasets not recorded (checkpoints before this was stored: Zoo texts version 2)"
    return ", ".join("%s v%s%s" % (d.get("generator"), d.get("generator_version"),
                                   " (%s)" % d["split"] if d.get("split") else "") for d in data)


def pct(x):
    return "%.2f" % (100.0 * x)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--archbert", default="build/archbert")
    p.add_argument("--ckpt", default="models/small/archbert-small.ckpt")
    p.add_argument("--ablation", action="append", default=[], help="NAME=CKPT (full, no-shape, ...)")
    p.add_argument("--keep-ablations", metavar="JSON",
                   help="an earlier run's JSON: its rows for ablations not given now are kept")
    p.add_argument("--unimodal", help="graph-only checkpoint: the uni-modal ACD baseline")
    p.add_argument("--work", default="/tmp/archbert-table2")
    p.add_argument("--out", default="docs/table2.md")
    a = p.parse_args()

    an_val = os.path.join(a.work, "autonet-val")
    zoo = os.path.join(a.work, "zoo")
    if not os.path.exists(os.path.join(an_val, "manifest.json")):
        run([a.archbert, "data", "autonet", "--split", "val", "--count", "1000", "--seed", "1",
             "--out", an_val])
    if zoo_version(zoo) < ZOO_VERSION:
        run([a.archbert, "data", "zoo", "--out", zoo])

    ablations = [tuple(x.split("=", 1)) for x in a.ablation]
    for name, _ in ablations:
        if name not in ABLATION_TEXT:
            sys.exit("unknown ablation name '%s' (use %s)" % (name, ", ".join(ABLATION_TEXT)))
    # Every ablation row must share one recipe and budget; rows differ only in what they remove.
    training = {n: training_of(c) for n, c in ablations}
    kept = {}
    if a.keep_ablations:
        with open(a.keep_ablations) as f:
            earlier = json.load(f)
        for key, r in sorted(earlier.items()):
            name = key[len("abl:"):]
            if key.startswith("abl:") and name not in training and "training" in r:
                kept[name] = r
    def same(t, u):
        return (t["recipe"], t["steps"], t.get("data")) == (u["recipe"], u["steps"], u.get("data"))
    reference = next(iter(training.values()), None) or next(iter(kept.values()), {}).get("training")
    for name in list(kept):
        if not same(kept[name]["training"], reference):
            print("not kept from %s: %s (another recipe, budget or data)" % (a.keep_ablations,
                  name), file=sys.stderr)
            del kept[name]
    for name, t in list(training.items()) + [(n, r["training"]) for n, r in kept.items()]:
        if not same(t, reference):
            sys.exit("ablation '%s' was trained differently from the other rows:\n  %s (%d steps, "
                     "data %s)\n  %s (%d steps, data %s)" % (
                         name, t["recipe"], t["steps"], t.get("data"), reference["recipe"],
                         reference["steps"], reference.get("data")))
        if t["removed"] != ROW_FLAGS[name]:
            sys.exit("ablation '%s' was trained with %s removed, not %s" % (
                name, " ".join(t["removed"]) or "nothing",
                " ".join(ROW_FLAGS[name]) or "nothing"))

    models = [("full", a.ckpt)] + [("abl:" + n, c) for n, c in ablations]
    results = {}
    today = datetime.date.today().isoformat()
    for name, ckpt in models:
        if name != "full" and os.path.realpath(ckpt) == os.path.realpath(a.ckpt):
            r = {k: results["full"][k] for k in ("ar_autonet", "ar_zoo", "acd")}
        else:
            r = {
                "ar_autonet": evaluate(a.archbert, "ar", an_val, ckpt),
                "ar_zoo": evaluate(a.archbert, "ar", zoo, ckpt),
                "acd": evaluate(a.archbert, "acd", zoo, ckpt,
                                a.unimodal if name == "full" else None),
            }
        if name == "full":
            r["bacd"] = evaluate(a.archbert, "bacd", zoo, ckpt, a.unimodal)
            r["search"] = evaluate(a.archbert, "search", zoo, ckpt)
        else:
            r["training"] = training[name[len("abl:"):]]
            r["evaluated"] = today
        r["zoo_version"] = zoo_version(zoo)
        results[name] = r
    for name, r in kept.items():
        results["abl:" + name] = r
    order = ["full"] + ABLATIONS
    ablations = [n for n in order if "abl:" + n in results]
    full = results["full"]

    rows = []
    def row(task, data, model, r, paper_key):
        paper = PAPER.get(paper_key)
        rows.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            task, data, model, pct(r["accuracy"]), pct(r["f1"]), "%.2f" % r["threshold"],
            "%.2f / %.2f" % paper if paper else ""))

    for key, task, data, ptask in [("ar_autonet", "AR", "AutoNet val", None),
                                   ("ar_zoo", "AR", "Zoo val (TVHF)", "ar"),
                                   ("acd", "ACD", "Zoo val (TVHF)", "acd")]:
        row(task, data, "**ArchBERT (small)**", full[key], (ptask, "full") if ptask else None)
        row(task, data, "graph-blind control", full[key]["graph_blind"], None)
        for bname, b in sorted(full[key].get("baselines", {}).items()):
            pkey = (ptask, "unimodal" if bname == "unimodal" else "baseline") if ptask else None
            row(task, data, "baseline: " + bname, b, pkey)
    b = full["bacd"]
    row("BACD", "Zoo val (TVHF)", "**ArchBERT (small)**", b, None)
    row("BACD", "Zoo val (TVHF)", "graph-blind control", b["graph_blind"], None)
    for bname, bb in sorted(b.get("baselines", {}).items()):
        row("BACD", "Zoo val (TVHF)", "baseline: " + bname, bb, None)

    s = full["search"]
    srows = []
    def srow(name, r):
        srows.append("| %s | %d | %.3f | %.3f | %.3f | %.3f |" % (
            name, r.get("queries", 0), r["recall@1"], r["recall@5"], r["recall@10"], r["mrr"]))
    srow("ArchBERT (small), all queries", s)
    srow("ArchBERT (small), name-free queries", s["name_free"])
    if "graph_blind" in s:
        srow("graph-blind control", s["graph_blind"])
    srow("popularity baseline", s["popularity"])

    out = []
    out.append("# Table 2: ArchBERT on our data, beside the paper\n")
    out.append("Produced by `%s` (checkpoint `%s`). Accuracy and F1 in %%; τ is the threshold "
               "used (the checkpoint's: tuned on the validation split, docs/training.md). Paper numbers are "
               "its Table 2 (TVHF, pretrained model; the paper's AR baseline is name matching, "
               "its ACD baseline Jaccard; its uni-modal ACD baseline is beside its ACD-fine-tuned "
               "model, 96.78 / 85.98). The uni-modal baseline here is a graph-only model trained "
               "on the Zoo ACD pairs (and MAM) alone, at its own τ.\n" % (" ".join(["tools/table2.py"] + sys.argv[1:]), a.ckpt))
    out.append("| task | data | model | accuracy | F1 | τ | paper acc / F1 |")
    out.append("|---|---|---|---|---|---|---|")
    out.extend(rows)
    out.append("")
    out.append("## Ablations\n")
    if ablations:
        t = results["abl:" + ablations[0]]["training"]
        shipped = training_of(a.ckpt)
        as_shipped = same(t, shipped)
        out.append("Each model trained for %d optimizer steps with `%s` (recipe as stored in the "
                   "checkpoints, paths shortened), one component removed per row "
                   "(`scripts/train-ablations.sh`), τ_AR re-tuned on Zoo val like the shipped "
                   "checkpoint's; L_SIM: %s. %s Paper: its Table 2 ablations (TVHF).\n" % (
                       t["steps"], t["recipe"], t["sim_loss"],
                       "This is the shipped checkpoint's recipe and budget, so its rows compare "
                       "directly with the first table." if as_shipped else
                       "The shipped checkpoint (first table) was trained with `%s` for %d steps%s; "
                       "the rows compare components with each other, not with it." % (
                           shipped["recipe"], shipped["steps"],
                           "" if t.get("data") == shipped.get("data") else
                           " on other data (%s; the rows: %s)" % (data_text(shipped.get("data")),
                                                                  data_text(t.get("data"))))))
        out.append("| model | AR AutoNet acc / F1 | AR Zoo acc / F1 | ACD Zoo acc / F1 | "
                   "paper AR / ACD F1 |")
        out.append("|---|---|---|---|---|")
        for name in ablations:
            r = results["abl:" + name]
            pa, pc = PAPER.get(("ar", name)), PAPER.get(("acd", name))
            out.append("| %s%s | %s / %s | %s / %s | %s / %s | %s |" % (
                ABLATION_TEXT[name], " (†)" if name in kept else "",
                pct(r["ar_autonet"]["accuracy"]), pct(r["ar_autonet"]["f1"]),
                pct(r["ar_zoo"]["accuracy"]), pct(r["ar_zoo"]["f1"]), pct(r["acd"]["accuracy"]),
                pct(r["acd"]["f1"]),
                "%.2f / %.2f" % (pa[1], pc[1]) if pa and pc else ""))
        def all_true(r):  # accuracy / F1 of answering "true" (or "similar") for everything
            p, n = r["positives"], r["samples"]
            return pct(p / n), pct(2.0 * p / (p + n))
        ra = results["abl:" + ablations[0]]
        out.append("| rule: every statement true, every pair similar | %s / %s | %s / %s | %s / %s | |" %
                   (all_true(ra["ar_autonet"]) + all_true(ra["ar_zoo"]) + all_true(ra["acd"])))
        out.append("")
        note = "One seed per row."
        if kept:
            note += (" (†): measured by an earlier run of this script (%s), kept from `%s`: "
                       "same recipe and budget, checkpoint not given to this run." % (
                           ", ".join(sorted({"%s on %s" % (n, r.get("evaluated", "?"))
                                             for n, r in kept.items()})), a.keep_ablations))
            versions = {r.get("zoo_version") for r in kept.values()}
            if versions != {zoo_version(zoo)}:
                note += (" Their Zoo columns are from the Zoo validation split of that run "
                         "(dataset version %s), not this run's version %d; the AutoNet and ACD "
                         "data are the same." % (
                             " / ".join(sorted(str(v) if v else "before 6" for v in versions)),
                             zoo_version(zoo)))
        out.append(note + "\n")
    missing = [x for x in ["full"] + ABLATIONS if ("abl:" + x) not in results]
    if missing:
        out.append("Ablation rows not produced by this run: %s (no checkpoint given).\n" %
                   ", ".join(ABLATION_TEXT[m] for m in missing))
    out.append("## AR by kind of stated fact (ArchBERT small)\n")
    out.append("Positives stating the kind and negatives whose false fact is of that kind "
               "(`written`: hand-written Zoo sentences).\n")
    out.append("| data | fact kind | samples | positives | accuracy | F1 |")
    out.append("|---|---|---|---|---|---|")
    for key, data in [("ar_autonet", "AutoNet val"), ("ar_zoo", "Zoo val")]:
        for kind, b in sorted(full[key].get("by_fact", {}).items()):
            out.append("| %s | %s | %d | %d | %s | %s |" % (data, kind, b["samples"], b["positives"],
                                                          pct(b["accuracy"]), pct(b["f1"])))
    out.append("")
    out.append("## Search (Zoo val descriptions as queries, every Zoo model as candidate)\n")
    out.append("| model | queries | recall@1 | recall@5 | recall@10 | MRR |")
    out.append("|---|---|---|---|---|---|")
    out.extend(srows)
    out.append("")
    # Both files are written beside their final names and renamed, so an interrupted run leaves
    # the earlier table in place.
    for path, write in [(os.path.splitext(a.out)[0] + ".json",
                         lambda f: json.dump(results, f, indent=1, sort_keys=True)),
                        (a.out, lambda f: f.write("\n".join(out)))]:
        with open(path + ".part", "w") as f:
            write(f)
        os.replace(path + ".part", path)
    print("wrote " + a.out, file=sys.stderr)


if __name__ == "__main__":
    main()
