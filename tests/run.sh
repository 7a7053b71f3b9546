#!/usr/bin/env bash
# tests/run.sh — the README's test command: install what is missing, build, run every test.
#   build/          the product build (the CUDA backend with nvcc when it is found): every test;
#                   GPU tests report themselves skipped without a GPU; the PTX audit needs nvcc only;
#                   build/pyenv (tests/pyenv.sh) is the Python of the tests labelled mlflow.
#   build-cudaemu/  the same CUDA sources built for the CPU emulator (tests/cudaemu): the tests
#                   labelled cudaemu, which execute them bit for bit against the CPU.
# Extra arguments go to both ctest runs. DT_CUDA_ARCHITECTURES (CI: 90) builds fewer GPU
# architectures than the default, which is every major one CUDA 13 supports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
archs=()
[ -n "${DT_CUDA_ARCHITECTURES:-}" ] && archs=(-DCMAKE_CUDA_ARCHITECTURES="$DT_CUDA_ARCHITECTURES")
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${archs[@]}"
cmake --build build -j "$(nproc)"
bash tests/pyenv.sh build
ctest --test-dir build --output-on-failure "$@"
cmake -S . -B build-cudaemu -DCMAKE_BUILD_TYPE=Release -DDETRAIN_CUDA=EMULATE
cmake --build build-cudaemu -j "$(nproc)"
ctest --test-dir build-cudaemu --output-on-failure -L cudaemu "$@"
