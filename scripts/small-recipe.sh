# Sourced by scripts/train-small.sh, scripts/train-ablations.sh and scripts/train-unimodal.sh:
# the data and the pretraining options of the shipped `small` recipe, so that the ablations are
# trained exactly like it. Needs $ab (the archbert binary) and the repository root as working
# directory.

# manifest_number DIR KEY: the integer KEY of DIR/manifest.json, 0 when there is none.
manifest_number() {
  [[ -f "$1/manifest.json" ]] &&
    grep -o "\"$2\"[^,}]*" "$1/manifest.json" | grep -o '[0-9][0-9]*' || echo 0
}

# recipe_zoo WORK: the Zoo dataset in WORK/zoo (kept when it exists at generator version 6 or
# later: layer statements, true and false, about every model; layer counts by op).
recipe_zoo() {
  mkdir -p "$1"
  (($(manifest_number "$1/zoo" generator_version) >= 6)) || "$ab" data zoo --out "$1/zoo"
}

# recipe_autonet DIR SPLIT COUNT: an AutoNet split (seed 1) in DIR, kept when it exists with
# texts of version 2 or later.
recipe_autonet() {
  (($(manifest_number "$1" texts_version) >= 2)) ||
    "$ab" data autonet --split "$2" --count "$3" --seed 1 --out "$1"
}

# recipe_data WORK: generates the training data with fixed seeds into WORK (what exists is kept),
# fetches the GloVe vectors (npm), and sets recipe_data_dirs, recipe_options (the `train
# pretrain` options the ablations share with the network stage, except --epochs/--max-steps and
# --out), recipe_network_options (the network stage's own) and recipe_head_options (the
# statement-head stage, over the network stage's checkpoint with --init).
recipe_data() {
  local work="$1"
  mkdir -p "$work"
  # Texts before version 2 lack the single-fact sentences that --claim-texts trains on.
  recipe_autonet "$work/an-train" train 10000
  recipe_autonet "$work/an-val" val 1000
  recipe_zoo "$work"
  local vectors
  vectors="$(tools/fetch_word_vectors.sh)"
  recipe_data_dirs=("$work/an-train" "$work/an-val" "$work/zoo")
  # L_SIM as a cross-entropy on the cosine (docs/training.md): AR F1 0.666 against 0.592 with
  # the paper's MSE at the same budget (models/small/README.md).
  recipe_options=(--acd-weight 1 --acd-pairs 4 --word-vectors "$vectors" --seed 0 --sim-loss bce)
  # Summary tokens at equal scale (docs/model.md); the ablations were trained without it.
  recipe_network_options=(--balanced-summary)
  # A statement head over the frozen network, trained on descriptions and up to 8 single-fact
  # sentences per graph unit (docs/training.md, "statement head").
  recipe_head_options=(--head-only --ar-head-weight 1 --lr 1e-3 --sim-loss bce --claim-texts 8
    --seed 0)
}
