#!/usr/bin/env bash
# The uni-modal ACD baseline of Table 2 (paper §5.1): the `small` network trained on the Zoo's
# ACD pairs (and MAM) alone, no descriptions (`--graph-only`); its ACD threshold is tuned on the
# Zoo's acd_val pairs by the trainer's validation. 15-30 minutes on 2 cores.
# Usage: scripts/train-unimodal.sh [WORK_DIR] [OUT]   (defaults: /tmp/archbert-train,
#        WORK_DIR/unimodal.ckpt). Then: tools/table2.py ... --unimodal OUT
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/archbert-train}"
out="${2:-$work/unimodal.ckpt}"
ab=build/archbert
source scripts/small-recipe.sh
recipe_zoo "$work"  # graphs and ACD pairs only: no AutoNet data, no word vectors
"$ab" train pretrain --data "$work/zoo" --graph-only --acd-weight 1 --acd-pairs 32 \
  --epochs 8 --max-steps 200 --seed 0 --out "$out"
rm -f "$out.optim"
