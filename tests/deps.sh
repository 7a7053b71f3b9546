#!/usr/bin/env bash
# tests/deps.sh — installs the Debian 12 packages detrain needs, when they are missing.
# Build: compiler, CMake, cJSON, HDF5, OpenSSL, zlib, SQLite, libcurl, protobuf-c and the ONNX
# schema, librsvg (PNG plots), Open MPI. Data: Fashion-MNIST. Tests: python3-h5py, python3-torch,
# python3-pil, python3-venv; dpkg-dev and groff-base (the install test: cpack, the man page). The
# rest of the test Python comes pinned from PyPI: tests/pyenv.sh.
# `deps.sh fuzz` adds clang and its libFuzzer runtime for the fuzz build (tests/fuzz, CI).
set -euo pipefail
packages="build-essential cmake pkg-config libcjson-dev libhdf5-dev libssl-dev zlib1g-dev libsqlite3-dev
          libcurl4-openssl-dev protobuf-c-compiler libprotobuf-c-dev libonnx-dev librsvg2-dev
          libopenmpi-dev openmpi-bin dataset-fashion-mnist python3 python3-numpy python3-h5py
          python3-torch python3-pil python3-venv dpkg-dev groff-base"
[ "${1:-}" = fuzz ] && packages="$packages clang libclang-rt-14-dev"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "tests/deps.sh: installing:$missing"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi
