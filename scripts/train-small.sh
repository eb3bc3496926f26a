#!/usr/bin/env bash
# The recipe of the shipped checkpoint (models/small): generates the training data with fixed
# seeds, fetches the GloVe vectors (npm), and pretrains the `small` preset.
# Usage: scripts/train-small.sh [WORK_DIR] [OUT]   (defaults: /tmp/archbert-train, WORK_DIR/archbert-small.ckpt)
# Needs a build (scripts/build.sh). About 50 minutes on 2 cores (models/small/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/archbert-train}"
out="${2:-$work/archbert-small.ckpt}"
ab=build/archbert
mkdir -p "$work"
[[ -f "$work/an-train/manifest.json" ]] ||
  "$ab" data autonet --split train --count 10000 --seed 1 --out "$work/an-train"
[[ -f "$work/an-val/manifest.json" ]] ||
  "$ab" data autonet --split val --count 1000 --seed 1 --out "$work/an-val"
[[ -f "$work/zoo/manifest.json" ]] || "$ab" data zoo --out "$work/zoo"
vectors="$(tools/fetch_word_vectors.sh)"
"$ab" train pretrain --data "$work/an-train" "$work/an-val" "$work/zoo" --out "$out" \
  --epochs 2 --acd-weight 1 --acd-pairs 4 --word-vectors "$vectors" --seed 0
# AR threshold from the Zoo validation split (real models are what users ask about).
"$ab" train tune-threshold --ckpt "$out" --data "$work/zoo" --task ar
