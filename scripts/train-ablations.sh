#!/usr/bin/env bash
# Table 2 (docs/table2.md): trains the ablation rows and the uni-modal baseline that are missing,
# then runs tools/table2.py over them and the shipped checkpoint.
#
# Usage: scripts/train-ablations.sh [WORK_DIR] [BUDGET] [ROW...]
#   WORK_DIR  data, checkpoints and logs (default /tmp/archbert-train)
#   BUDGET    `full` (default): the shipped recipe unchanged (scripts/train-small.sh, 2 epochs,
#             794 steps); the `full` row is then the shipped checkpoint itself. A number N trains
#             every row, `full` included, for N optimizer steps (--epochs 1 --max-steps N).
#   ROW...    rows to train now (default: every row): full no-shape no-edges no-mam no-cross
#             no-summary. Rows not trained now keep their numbers from docs/table2.json when
#             that run used the same recipe and budget (tools/table2.py --keep-ablations).
#
# Each row removes one component (docs/training.md, Ablations) and otherwise uses the options of
# the shipped recipe; τ_AR is tuned on Zoo val as for the shipped checkpoint. At the full budget
# a row takes 30-75 minutes on 2 cores (no-cross is the fastest), the uni-modal baseline ~15,
# the evaluation ~15. Needs a build (scripts/build.sh); makes the data of scripts/train-small.sh
# if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/archbert-train}"
budget="${2:-full}"
shift $(($# < 2 ? $# : 2))
rows=("$@")
((${#rows[@]})) || rows=(full no-shape no-edges no-mam no-cross no-summary)
ab=build/archbert
shipped=models/small/archbert-small.ckpt
source scripts/small-recipe.sh
recipe_data "$work"

if [[ "$budget" == full ]]; then
  length=(--epochs 2)
elif [[ "$budget" =~ ^[1-9][0-9]*$ ]]; then
  length=(--epochs 1 --max-steps "$budget")
else
  echo "train-ablations.sh: BUDGET must be 'full' or a step count, not '$budget'" >&2
  exit 1
fi
dir="$work/ablations-$budget"
mkdir -p "$dir"
args=()
for name in "${rows[@]}"; do
  flags=()
  case "$name" in
    full) ;;
    no-shape | no-edges | no-mam | no-cross) flags=("--$name") ;;
    no-summary) flags=(--no-summary --no-numbers) ;;
    *)
      echo "train-ablations.sh: unknown row '$name'" >&2
      exit 1
      ;;
  esac
  out="$dir/$name.ckpt"
  if [[ "$name" == full && "$budget" == full ]]; then
    out="$shipped" # tools/table2.py checks that its stored recipe is this one
  elif [[ ! -f "$out" ]]; then
    "$ab" train pretrain --data "${recipe_data_dirs[@]}" --out "$out.part" "${length[@]}" \
      "${recipe_options[@]}" "${flags[@]}" 2> "$dir/$name.log"
    "$ab" train tune-threshold --ckpt "$out.part" --data "$work/zoo" --task ar
    rm -f "$out.part.optim"
    mv "$out.part" "$out"
  fi
  args+=(--ablation "$name=$out")
done
[[ -f "$work/unimodal.ckpt" ]] || scripts/train-unimodal.sh "$work" "$work/unimodal.ckpt"
python3 tools/table2.py --work "$work/table2" --unimodal "$work/unimodal.ckpt" \
  --keep-ablations docs/table2.json "${args[@]}"
