#!/usr/bin/env bash
# The main job on built-in data: read a zoo model into its architecture graph, then ask the
# shipped checkpoint (models/small) whether statements describe it, whether models are clones,
# and which zoo models match a query. Usage: scripts/demo.sh [path/to/archbert]
set -euo pipefail
cd "$(dirname "$0")/.."
ab="${1:-build/archbert}"
run() { printf '\n$ archbert %s\n' "$*"; "$ab" "$@"; }

run graph tv:resnet18
run reason tv:resnet18 "A residual network built from 3x3 convolutions with batch normalization."
run reason tv:resnet18 "A transformer encoder with multi-head self-attention and layer normalization."
run reason hf:bert-base-uncased "A transformer encoder with multi-head self-attention and layer normalization."
run clone tv:resnet18 tv:resnet34
run clone tv:resnet18 hf:gpt2
run search "a small convolutional network for mobile devices" --top 5
run search "an encoder-decoder transformer for translation" --top 5
