#!/usr/bin/env bash
# The recipe of the shipped checkpoint (models/small): generates the training data with fixed
# seeds, fetches the GloVe vectors (npm), and pretrains the `small` preset.
# Usage: scripts/train-small.sh [WORK_DIR] [OUT]   (defaults: /tmp/archbert-train, WORK_DIR/archbert-small.ckpt)
# Needs a build (scripts/build.sh). About 42 minutes on 2 cores (models/small/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/archbert-train}"
out="${2:-$work/archbert-small.ckpt}"
ab=build/archbert
source scripts/small-recipe.sh
recipe_data "$work"
"$ab" train pretrain --data "${recipe_data_dirs[@]}" --out "$out" --epochs 2 "${recipe_options[@]}"
# AR threshold from the Zoo validation split (real models are what users ask about).
"$ab" train tune-threshold --ckpt "$out" --data "$work/zoo" --task ar
