#!/usr/bin/env bash
# Table 2 (docs/table2.md): trains the ablation rows and the uni-modal baseline that are missing,
# then runs tools/table2.py over them and the shipped checkpoint.
#
# Usage: scripts/train-ablations.sh [--jobs N] [WORK_DIR] [BUDGET] [ROW...]
#   --jobs N  train N rows at a time, each on one thread (OMP_NUM_THREADS=1); on 2 cores two
#             rows side by side get ~1.3-1.4x the throughput of one after another (docs/training.md)
#   WORK_DIR  data, checkpoints and logs (default /tmp/archbert-train)
#   BUDGET    `full` (default): the shipped recipe unchanged (scripts/train-small.sh, 2 epochs,
#             794 steps); the `full` row is then the shipped checkpoint itself, always
#             evaluated (whether named in ROW or not). A number N trains
#             every row, `full` included, for N optimizer steps (--epochs 1 --max-steps N).
#   ROW...    rows to train now (default: every row): full no-shape no-edges no-mam no-cross
#             no-summary. Rows not trained now keep their numbers from docs/table2.json when
#             that run used the same recipe and budget (tools/table2.py --keep-ablations).
#
# Each row removes one component (docs/training.md, Ablations) and otherwise uses the options of
# the shipped recipe; τ_AR is tuned on Zoo val as for the shipped checkpoint. At the full budget
# a row takes 30-75 minutes on 2 cores (no-cross is the fastest), the uni-modal baseline ~15,
# the evaluation ~15. A row whose run was stopped (NAME.ckpt.part and its .optim present) goes
# on from its last checkpoint (--resume) instead of starting over. Needs a build
# (scripts/build.sh); makes the data of scripts/train-small.sh if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=1
if [[ "${1:-}" == --jobs ]]; then
  [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || {
    echo "train-ablations.sh: --jobs needs a positive number, not '${2:-}'" >&2
    exit 1
  }
  jobs=$2
  shift 2
fi
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
  # The `full` row is then the shipped checkpoint: nothing to train, and tools/table2.py reuses
  # its evaluation, so it is always measured afresh rather than kept from an earlier run.
  [[ " ${rows[*]} " == *" full "* ]] || rows=(full "${rows[@]}")
elif [[ "$budget" =~ ^[1-9][0-9]*$ ]]; then
  length=(--epochs 1 --max-steps "$budget")
else
  echo "train-ablations.sh: BUDGET must be 'full' or a step count, not '$budget'" >&2
  exit 1
fi
dir="$work/ablations-$budget"
mkdir -p "$dir"
# train_row NAME OUT FLAGS...: trains one row to OUT (via OUT.part, resumed when a stopped run
# left one) and tunes its τ_AR on Zoo val.
train_row() {
  local name="$1" out="$2"
  shift 2
  local resume=()
  [[ -f "$out.part" && -f "$out.part.optim" ]] && resume=(--resume "$out.part")
  "$ab" train pretrain --data "${recipe_data_dirs[@]}" --out "$out.part" "${length[@]}" \
    "${recipe_options[@]}" "$@" "${resume[@]}" 2>> "$dir/$name.log"
  "$ab" train tune-threshold --ckpt "$out.part" --data "$work/zoo" --task ar
  rm -f "$out.part.optim"
  mv "$out.part" "$out"
}

args=()
pids=()
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
    if ((jobs == 1)); then
      train_row "$name" "$out" "${flags[@]}"
    else
      while (($(jobs -rp | wc -l) >= jobs)); do sleep 20; done
      OMP_NUM_THREADS=1 train_row "$name" "$out" "${flags[@]}" &
      pids+=($!)
    fi
  fi
  args+=(--ablation "$name=$out")
done
# Every row must have finished before the table is made; a failed row stops the script here.
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
((failed == 0)) || {
  echo "train-ablations.sh: a row failed to train (see $dir/*.log)" >&2
  exit 1
}
[[ -f "$work/unimodal.ckpt" ]] || scripts/train-unimodal.sh "$work" "$work/unimodal.ckpt"
python3 tools/table2.py --work "$work/table2" --unimodal "$work/unimodal.ckpt" \
  --keep-ablations docs/table2.json "${args[@]}"
