# Sourced by scripts/train-small.sh, scripts/train-ablations.sh and scripts/train-unimodal.sh:
# the data and the pretraining options of the shipped `small` recipe, so that the ablations are
# trained exactly like it. Needs $ab (the archbert binary) and the repository root as working
# directory.

# recipe_zoo WORK: the Zoo dataset in WORK/zoo (kept when it exists).
recipe_zoo() {
  mkdir -p "$1"
  [[ -f "$1/zoo/manifest.json" ]] || "$ab" data zoo --out "$1/zoo"
}

# recipe_data WORK: generates the training data with fixed seeds into WORK (what exists is kept),
# fetches the GloVe vectors (npm), and sets recipe_data_dirs and recipe_options (every
# `train pretrain` option of the recipe except --epochs/--max-steps and --out).
recipe_data() {
  local work="$1"
  mkdir -p "$work"
  [[ -f "$work/an-train/manifest.json" ]] ||
    "$ab" data autonet --split train --count 10000 --seed 1 --out "$work/an-train"
  [[ -f "$work/an-val/manifest.json" ]] ||
    "$ab" data autonet --split val --count 1000 --seed 1 --out "$work/an-val"
  recipe_zoo "$work"
  local vectors
  vectors="$(tools/fetch_word_vectors.sh)"
  recipe_data_dirs=("$work/an-train" "$work/an-val" "$work/zoo")
  recipe_options=(--acd-weight 1 --acd-pairs 4 --word-vectors "$vectors" --seed 0)
}
