#!/usr/bin/env bash
# Builds archbert and runs every test (ctest). Exports the real torchvision models the tests
# need during the run (with Debian's python3-torchvision); nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 900
