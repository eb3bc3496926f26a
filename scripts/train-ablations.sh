#!/usr/bin/env bash
# Table 2's ablation rows: the `small` model and one model per removed component, each trained
# with the same reduced budget (STEPS optimizer steps, otherwise the options of
# scripts/train-small.sh), τ_AR tuned on Zoo val as for the shipped checkpoint. Then
# tools/table2.py evaluates them beside the shipped checkpoint.
# Usage: scripts/train-ablations.sh [WORK_DIR] [STEPS]   (defaults: /tmp/archbert-train, 120)
# Needs a build (scripts/build.sh) and the data of scripts/train-small.sh (made if missing).
# About 10 minutes per model on 2 cores at 120 steps, then ~25 minutes of evaluation.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/archbert-train}"
steps="${2:-120}"
ab=build/archbert
source scripts/small-recipe.sh
recipe_data "$work"
mkdir -p "$work/ablations"
args=()
for name in full no-shape no-edges no-mam no-cross no-summary; do
  out="$work/ablations/$name.ckpt"
  if [[ ! -f "$out" ]]; then
    flags=()
    case "$name" in
      full) ;;
      no-summary) flags=(--no-summary --no-numbers) ;;
      *) flags=("--$name") ;;
    esac
    "$ab" train pretrain --data "${recipe_data_dirs[@]}" --out "$out" --epochs 1 \
      --max-steps "$steps" "${recipe_options[@]}" "${flags[@]}" 2> "$work/ablations/$name.log"
    "$ab" train tune-threshold --ckpt "$out" --data "$work/zoo" --task ar
    rm -f "$out.optim"
  fi
  args+=(--ablation "$name=$out")
done
python3 tools/table2.py --work "$work/table2" --ablation-steps "$steps" "${args[@]}"
