#!/usr/bin/env bash
# tests/run.sh — the README's test command: install what is missing, build, run every test.
# GPU tests report themselves skipped without a GPU. Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure "$@"
